"""One ISO ILL association: a TCP (or TLS) connection carrying BER APDUs both ways.

The connection has no framing but BER, so bytes go through the incremental
:class:`~isoill.apdu.stream.StreamDecoder`: APDUs split across reads or batched in one come
out whole. Everything that could let one peer hurt the others is bounded here:

* an APDU longer than the size limit (a 4 GB length claim) closes the association before
  any of it is buffered;
* an association silent for the idle timeout is closed, and so is one that takes longer
  than the APDU timeout to finish an APDU it started (a slowloris client trickling bytes
  resets no idle timer);
* a peer that does not read what the gateway writes to it stops being read from
  (backpressure through Twisted's producer/consumer API), so it cannot make the gateway
  buffer replies without bound.

Bytes whose boundaries are clear but whose content is wrong are answered with an error
report and the association goes on; bytes out of step close it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from twisted.internet import interfaces
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import Logger
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure
from zope.interface import implementer

from isoill.apdu import Limits, StreamDecoder
from isoill.apdu.codec import get_codec
from isoill.apdu.errors import DecodeError
from isoill.apdu.stream import OutOfStep
from isoill.gateway.relay import Sender

if TYPE_CHECKING:
    from isoill.gateway.service import Gateway

log = Logger()

#: Answers an association may owe (APDUs read whose steps are not committed yet) before
#: the peer stops being read: a peer that sends faster than the store commits waits.
MAX_OWED = 256


class _Owed:
    __slots__ = ("data", "ready")

    def __init__(self) -> None:
        self.data: bytes | None = None
        self.ready = False


@implementer(interfaces.IPushProducer, interfaces.IHalfCloseableProtocol)
class Association(Protocol, TimeoutMixin):
    """Feeds the gateway what a peer sends and writes what the gateway answers.

    A peer may send its APDUs and close its side of the connection (``shutdown(SHUT_WR)``,
    what a client that has nothing more to say does): it is still owed an answer to each.
    So the association takes the half-close as the end of what it will read, not as the
    end of the association: Twisted, told nothing, would close at once and drop the
    replies it had not yet written."""

    def __init__(self, gateway: Gateway, peers: tuple[str, ...] = ()) -> None:
        self.gateway = gateway
        limits = gateway.config.limits
        self.decoder = StreamDecoder(get_codec(limits=Limits(max_apdu_size=limits.max_apdu_size)))
        #: Configured peers this association may speak for (from the source address, or
        #: the peer it was opened to); the relay narrows it to the one that sends.
        self.allowed = peers
        #: Peers that have sent on this association: replies and outbox items for them
        #: can go out here.
        self.serves: set[str] = set()
        self.address = ""
        self._apdu_deadline: IDelayedCall | None = None
        self._paused = False
        #: Twisted never clears ``connected`` on a protocol; this is cleared when the
        #: connection is lost.
        self.alive = False
        #: The peer has closed its side; the association closes once its answers are
        #: written, so nothing new (outbox items) goes out on it.
        self.closing = False
        #: Answers owed, in the order their APDUs came: each is filled when its step has
        #: been committed, and written once every answer before it is.
        self._owed: deque[_Owed] = deque()
        #: The gateway's own association to its peer (kept up by a ``ClientService``), as
        #: against one the peer opened.
        self.kept = False
        #: When the peer last sent something (reactor seconds).
        self.last_read = 0.0
        self._close_when_answered = False
        self._held_for_answers = False

    # --- Twisted's callbacks ------------------------------------------------------------

    def connectionMade(self) -> None:
        peer = self.transport.getPeer()  # type: ignore[union-attr]
        self.address = getattr(peer, "host", str(peer))
        self.alive = True
        self.setTimeout(self.gateway.config.limits.idle_timeout)
        self.transport.registerProducer(self, True)  # type: ignore[union-attr]
        self.gateway.opened(self)

    def dataReceived(self, data: bytes) -> None:
        self.resetTimeout()
        self.last_read = self.gateway.reactor.seconds()
        try:
            items = self.decoder.feed_frames(data)
        except OutOfStep as err:
            # The APDUs that came whole before the bad bytes are answered first.
            for frame, item in err.framed:
                self.gateway.handle(self, item, frame)
            self.gateway.out_of_step(self, data, err)
            self._close()
            return
        except DecodeError as err:
            self.gateway.out_of_step(self, data, err)
            self._close()
            return
        for frame, item in items:
            self.gateway.handle(self, item, frame)
        self._watch_partial()

    def readConnectionLost(self) -> None:
        """The peer closed its side: everything it sent has been read, so close once the
        answers owed for it are written. An APDU cut off by the close is answered with an
        error report first."""
        self.closing = True
        if self._apdu_deadline is not None and self._apdu_deadline.active():
            self._apdu_deadline.cancel()
        self._apdu_deadline = None
        try:
            self.decoder.close()
        except DecodeError as err:
            # The bytes stay in the decoder; the error says how many there were.
            self.gateway.out_of_step(self, b"", err)
        self._close()

    def writeConnectionLost(self) -> None:
        """Only the peer half-closes; the gateway closes the whole connection."""

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.alive = False
        self.setTimeout(None)
        if self._apdu_deadline is not None and self._apdu_deadline.active():
            self._apdu_deadline.cancel()
        self.gateway.closed(self)

    def timeoutConnection(self) -> None:
        log.info("closing idle association from {address}", address=self.address)
        self.gateway.metrics.error("idle_timeout")
        self.transport.abortConnection()  # type: ignore[union-attr]

    # --- backpressure: the transport pauses us when the peer does not read ---------------

    def pauseProducing(self) -> None:
        self._paused = True
        self.transport.pauseProducing()  # type: ignore[union-attr]

    def resumeProducing(self) -> None:
        self._paused = False
        if not self._held_for_answers:
            self.transport.resumeProducing()  # type: ignore[union-attr]

    def stopProducing(self) -> None:
        pass

    @property
    def paused(self) -> bool:
        """The transport holds more than it could write: the peer is not reading."""
        return self._paused

    # --- for the gateway ------------------------------------------------------------------

    @property
    def sender(self) -> Sender:
        return Sender(self.address, self.allowed)

    def send(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[union-attr]

    def owe(self) -> Callable[[bytes | None], None]:
        """A place in the order of answers for one APDU just read. The gateway calls what
        this returns with the answer's bytes (None: the APDU has no answer) once the APDU's
        step is committed; answers go out in the order the APDUs came, whichever commit
        returns first. While too many answers are owed, the peer is not read."""
        owed = _Owed()
        self._owed.append(owed)
        if len(self._owed) >= MAX_OWED and not self._held_for_answers:
            self._held_for_answers = True
            self.transport.pauseProducing()  # type: ignore[union-attr]

        def answer(data: bytes | None) -> None:
            owed.data, owed.ready = data, True
            self._answer_in_order()

        return answer

    @property
    def owed(self) -> int:
        """Answers not written yet."""
        return len(self._owed)

    def _answer_in_order(self) -> None:
        while self._owed and self._owed[0].ready:
            data = self._owed.popleft().data
            if data is not None and self.alive:
                self.send(data)
        if self._held_for_answers and len(self._owed) < MAX_OWED // 2:
            self._held_for_answers = False
            if not self._paused and self.alive:
                self.transport.resumeProducing()  # type: ignore[union-attr]
        if self._close_when_answered and not self._owed:
            self._close_when_answered = False
            self._close()

    def _close(self) -> None:
        """Close once every answer owed is written and has gone out. The association
        stops being the transport's producer first: a paused producer still registered
        would hold the close back for good."""
        self.closing = True
        if self._owed:
            self._close_when_answered = True
            return
        if not self.alive:
            return
        self.transport.unregisterProducer()  # type: ignore[union-attr]
        self.transport.loseConnection()  # type: ignore[union-attr]

    def _watch_partial(self) -> None:
        """Give a started APDU the APDU timeout to complete."""
        if self.decoder.buffered == 0:
            if self._apdu_deadline is not None and self._apdu_deadline.active():
                self._apdu_deadline.cancel()
            self._apdu_deadline = None
        elif self._apdu_deadline is None:
            self._apdu_deadline = self.gateway.reactor.callLater(
                self.gateway.config.limits.apdu_timeout, self._too_slow
            )

    def _too_slow(self) -> None:
        self._apdu_deadline = None
        log.warn("association from {address} took too long to finish an APDU", address=self.address)
        self.gateway.metrics.error("apdu_timeout")
        self.transport.abortConnection()  # type: ignore[union-attr]


class ListenerFactory(Factory):
    """Accepts associations, up to the configured number in all and from one address;
    more are closed at once."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def buildProtocol(self, addr: interfaces.IAddress | None) -> Protocol | None:
        limits = self.gateway.config.limits
        if len(self.gateway.associations) >= limits.max_associations:
            self.gateway.metrics.error("too_many_associations")
            return None
        host = getattr(addr, "host", "")
        if self.gateway.per_address[host] >= limits.max_associations_per_address:
            # Without this one address could hold every slot (idle, each until the idle
            # timeout) and lock every other peer out; now it can hold only its share.
            self.gateway.metrics.error("too_many_from_address")
            return None
        peers = tuple(p.name for p in self.gateway.config.peers_at(host))
        return Association(self.gateway, peers)


class PeerFactory(Factory):
    """The gateway's own association to a peer it delivers to."""

    def __init__(self, gateway: Gateway, peer: str) -> None:
        self.gateway = gateway
        self.peer = peer

    def buildProtocol(self, addr: interfaces.IAddress | None) -> Protocol:
        association = Association(self.gateway, (self.peer,))
        association.serves.add(self.peer)
        association.kept = True
        return association
