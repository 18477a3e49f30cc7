"""One ISO ILL association: a TCP (or TLS) connection carrying BER APDUs both ways.

What the association decides (where APDUs end, who the peer is, the order of answers, when
to stop reading and when to close) is its sans-I/O :class:`~isoill.gateway.connection.
Connection`; this is the Twisted edge that carries it out. Everything that could let one
peer hurt the others is bounded:

* an APDU longer than the size limit (a 4 GB length claim) closes the association before
  any of it is buffered;
* an association silent for the idle timeout is closed, and so is one that takes longer
  than the APDU timeout to finish an APDU it started (a slowloris client trickling bytes
  resets no idle timer);
* a peer that does not read what the gateway writes to it stops being read from
  (backpressure through Twisted's producer/consumer API), so it cannot make the gateway
  buffer replies without bound; nor is one that sends faster than the store commits.

Bytes whose boundaries are clear but whose content is wrong are answered with an error
report and the association goes on; bytes out of step close it.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from twisted.internet import interfaces
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.protocol import Factory, Protocol, connectionDone
from twisted.logger import Logger
from twisted.protocols.policies import TimeoutMixin
from twisted.python.failure import Failure
from zope.interface import implementer

from isoill.gateway.connection import Connection, Event, Received
from isoill.gateway.relay import Sender

if TYPE_CHECKING:
    from isoill.gateway.service import Gateway

log = Logger()


@implementer(interfaces.IPushProducer, interfaces.IHalfCloseableProtocol)
class Association(Protocol, TimeoutMixin):
    """Feeds the gateway what a peer sends and writes what the gateway answers.

    A peer may send its APDUs and close its side of the connection (``shutdown(SHUT_WR)``,
    what a client that has nothing more to say does): it is still owed an answer to each.
    So the association takes the half-close as the end of what it will read, not as the
    end of the association: Twisted, told nothing, would close at once and drop the
    replies it had not yet written."""

    def __init__(self, gateway: Gateway, peers: tuple[str, ...] = (), kept: bool = False) -> None:
        self.gateway = gateway
        self.connection = Connection(gateway.config.limits.max_apdu_size, peers, kept)
        self._apdu_deadline: IDelayedCall | None = None
        self._paused = False
        #: Whether the transport is reading (neither paused by it nor held for answers).
        self._reading = True
        self._lost_connection = False
        #: Twisted never clears ``connected`` on a protocol; this is cleared when the
        #: connection is lost.
        self.alive = False
        #: When the peer last sent something (reactor seconds).
        self.last_read = 0.0

    # --- Twisted's callbacks ------------------------------------------------------------

    def connectionMade(self) -> None:
        peer = self.transport.getPeer()  # type: ignore[union-attr]
        self.connection.address = getattr(peer, "host", str(peer))
        self.alive = True
        _no_delay(self.transport)
        self.setTimeout(self.gateway.config.limits.idle_timeout)
        self.transport.registerProducer(self, True)  # type: ignore[union-attr]
        self.gateway.opened(self)

    def dataReceived(self, data: bytes) -> None:
        self.resetTimeout()
        self.last_read = self.gateway.reactor.seconds()
        self._hand_over(self.connection.receive(data))
        self._watch_partial()

    def readConnectionLost(self) -> None:
        """The peer closed its side: no APDU will be finished any more."""
        self._cancel_deadline()
        self._hand_over(self.connection.end_of_input())

    def writeConnectionLost(self) -> None:
        """Only the peer half-closes; the gateway closes the whole connection."""

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        self.alive = False
        self.setTimeout(None)
        self._cancel_deadline()
        self.gateway.closed(self)

    def timeoutConnection(self) -> None:
        log.info("closing idle association from {address}", address=self.address)
        self.gateway.metrics.error("idle_timeout")
        self.transport.abortConnection()  # type: ignore[union-attr]

    # --- backpressure: the transport pauses us when the peer does not read ---------------

    def pauseProducing(self) -> None:
        self._paused = True
        self._steer()

    def resumeProducing(self) -> None:
        self._paused = False
        self._steer()

    def stopProducing(self) -> None:
        pass

    @property
    def paused(self) -> bool:
        """The transport holds more than it could write: the peer is not reading."""
        return self._paused

    # --- for the gateway ------------------------------------------------------------------

    @property
    def address(self) -> str:
        return self.connection.address

    @property
    def sender(self) -> Sender:
        return self.connection.sender

    def send(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[union-attr]

    def answer(self, ticket: int, data: bytes | None) -> None:
        """The answer to the APDU that took ``ticket`` (None: it has none), once its step
        is committed: written when every answer before it is."""
        due = self.connection.answer(ticket, data)
        if due and self.alive:
            self.send(due)
        self._steer()

    # --- carrying out what the connection decided ------------------------------------------

    def _hand_over(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Received):
                self.gateway.handle(self, event)
            else:
                self.gateway.out_of_step(self, event)
        self._steer()

    def _steer(self) -> None:
        """Read, or not, and close, as the connection and the transport say. Closing stops
        the association being the transport's producer first: a paused producer still
        registered would hold the close back for good."""
        if not self.alive or self._lost_connection:
            return
        if self.connection.should_close:
            self._lost_connection = True
            self.transport.unregisterProducer()  # type: ignore[union-attr]
            self.transport.loseConnection()  # type: ignore[union-attr]
            return
        reading = not (self._paused or self.connection.held)
        if reading != self._reading:
            self._reading = reading
            if reading:
                self.transport.resumeProducing()  # type: ignore[union-attr]
            else:
                self.transport.pauseProducing()  # type: ignore[union-attr]

    def _watch_partial(self) -> None:
        """Give a started APDU the APDU timeout to complete."""
        if not self.connection.partial:
            self._cancel_deadline()
        elif self._apdu_deadline is None:
            self._apdu_deadline = self.gateway.reactor.callLater(
                self.gateway.config.limits.apdu_timeout, self._too_slow
            )

    def _cancel_deadline(self) -> None:
        if self._apdu_deadline is not None and self._apdu_deadline.active():
            self._apdu_deadline.cancel()
        self._apdu_deadline = None

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
        return Association(self.gateway, (self.peer,), kept=True)


def _no_delay(transport: object) -> None:
    """Turn off Nagle's algorithm where the transport is TCP (TLS over TCP included).

    ISO ILL is a conversation of small APDUs, each sent once its step is committed: with
    Nagle on, an APDU written while the peer has not yet acknowledged the last one waits for
    that acknowledgement, which a peer that only reads (a responder taking requests) delays
    by up to 40 ms. Measured with ``bench/gateway.py`` at 10 associations, that wait was
    most of the relay's p99 latency."""
    set_no_delay = getattr(transport, "setTcpNoDelay", None)
    if set_no_delay is None:
        return
    with contextlib.suppress(OSError):  # not a TCP socket after all (UNIX, behind a wrapper)
        set_no_delay(True)
