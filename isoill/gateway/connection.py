"""One association's state, without I/O: bytes in, events out; answers in, bytes out.

What an association must get right (where each APDU ends, who the peer is, that answers go
back in the order their APDUs came, when to stop reading and when to close) does not depend
on sockets or a reactor, so it lives here, in the manner of h11's ``Connection``, and is
tested with bytes alone. :class:`~isoill.gateway.association.Association` is the Twisted
edge around it: it feeds what it reads to :meth:`Connection.receive`, hands the events to
the gateway, writes what :meth:`Connection.answer` returns, and pauses, resumes and closes
as the connection's properties say. Timers (idle, APDU deadline) stay at that edge: they
are the reactor's.
"""

from __future__ import annotations

from dataclasses import dataclass

from isoill.apdu import APDU, Limits, StreamDecoder, UndecodableAPDU
from isoill.apdu.codec import get_codec
from isoill.apdu.errors import DecodeError
from isoill.apdu.stream import OutOfStep
from isoill.gateway.relay import Sender

#: Answers an association may owe (APDUs read whose steps are not committed yet) before
#: the peer stops being read: a peer that sends faster than the store commits waits.
MAX_OWED = 256


@dataclass(frozen=True)
class Received:
    """A delimited APDU (or one that did not decode: :class:`UndecodableAPDU`), with its
    bytes as they came; ``ticket`` is its place in the order of answers."""

    ticket: int
    item: APDU | UndecodableAPDU
    frame: bytes


@dataclass(frozen=True)
class Unframed:
    """Bytes whose APDU boundaries cannot be found (``data``: the read they came in, empty
    for an APDU cut off by the peer's close): answered with an error report in their turn,
    after which the connection closes."""

    ticket: int
    data: bytes
    error: DecodeError


Event = Received | Unframed


class Connection:
    """An association's decoder, its peer's identity and the answers it owes.

    Every APDU read takes a ticket; :meth:`answer` fills it once the APDU's step is
    committed, and returns the bytes that may be written now: commits may finish in any
    order, yet the peer reads its answers in the order it sent, each exactly once."""

    def __init__(
        self,
        max_apdu_size: int,
        peers: tuple[str, ...] = (),
        kept: bool = False,
        max_owed: int = MAX_OWED,
    ) -> None:
        self._decoder = StreamDecoder(get_codec(limits=Limits(max_apdu_size=max_apdu_size)))
        #: The peer's network address (set by the edge once connected).
        self.address = ""
        #: Configured peers this association may speak for (from the source address, or
        #: the peer it was opened to); the relay narrows it to the one that sends.
        self.allowed = peers
        #: The gateway's own association to its peer, as against one the peer opened: it
        #: serves that peer from the start.
        self.kept = kept
        self._serves: set[str] = set(peers) if kept else set()
        #: The peer has closed its side, or sent bytes out of step: nothing more is read
        #: into new work, nothing new (outbox items) goes out, and the connection closes
        #: once its answers are written.
        self.closing = False
        self._max_owed = max_owed
        self._next_ticket = 0
        self._first_owed = 0  # the oldest ticket whose answer is not written yet
        self._answers: dict[int, bytes | None] = {}
        self._held = False

    # --- identity ---------------------------------------------------------------------------

    @property
    def sender(self) -> Sender:
        """Who sends on this association, as the relay identifies senders."""
        return Sender(self.address, self.allowed)

    @property
    def serves(self) -> frozenset[str]:
        """Peers that have sent on this association (or the kept peer): replies and
        outbox items for them may go out here."""
        return frozenset(self._serves)

    def serve(self, peer: str) -> bool:
        """The relay identified ``peer`` as a sender here; True when that is news."""
        if peer in self._serves:
            return False
        self._serves.add(peer)
        return True

    # --- bytes in ---------------------------------------------------------------------------

    def receive(self, data: bytes) -> list[Event]:
        """What ``data`` completes. APDUs complete before bytes out of step still come
        first: they arrived whole and are owed their answers before the close."""
        try:
            framed = self._decoder.feed_frames(data)
        except OutOfStep as err:
            return [*self._received(err.framed), self._unframed(data, err)]
        except DecodeError as err:  # the stream was out of step already
            return [self._unframed(data, err)]
        return self._received(framed)

    def end_of_input(self) -> list[Event]:
        """The peer closed its side: everything it sent has been read, so the connection
        closes once its answers are written. An APDU cut off by the close is owed an
        error report too."""
        self.closing = True
        try:
            self._decoder.close()
        except DecodeError as err:
            return [self._unframed(b"", err)]
        return []

    @property
    def partial(self) -> bool:
        """An APDU has begun and not ended (the edge gives it a deadline)."""
        return self._decoder.buffered > 0

    # --- answers out ------------------------------------------------------------------------

    def answer(self, ticket: int, data: bytes | None) -> bytes:
        """The answer for ``ticket`` (None: its APDU has none); returns the bytes now due,
        in order. A second answer for one ticket is ignored: the peer gets one."""
        if ticket < self._first_owed or ticket >= self._next_ticket or ticket in self._answers:
            return b""
        self._answers[ticket] = data
        out = bytearray()
        while self._first_owed in self._answers:
            ready = self._answers.pop(self._first_owed)
            self._first_owed += 1
            if ready is not None:
                out += ready
        if self._held and self.owed < self._max_owed // 2:
            self._held = False
        return bytes(out)

    @property
    def owed(self) -> int:
        """Answers not written yet."""
        return self._next_ticket - self._first_owed

    @property
    def held(self) -> bool:
        """Too many answers are owed: the peer is not read until half of them are written
        (the hysteresis keeps reading from flapping at the threshold)."""
        return self._held

    @property
    def should_close(self) -> bool:
        """Closing, and every answer owed is written."""
        return self.closing and self.owed == 0

    # --- helpers ----------------------------------------------------------------------------

    def _ticket(self) -> int:
        ticket = self._next_ticket
        self._next_ticket += 1
        if self.owed >= self._max_owed:
            self._held = True
        return ticket

    def _received(self, framed: list[tuple[bytes, APDU | UndecodableAPDU]]) -> list[Event]:
        return [Received(self._ticket(), item, frame) for frame, item in framed]

    def _unframed(self, data: bytes, error: DecodeError) -> Unframed:
        self.closing = True
        return Unframed(self._ticket(), data, error)
