"""Incremental decoding for TCP: bytes in, in chunks of any size; complete APDUs out.

ISO ILL over TCP has no framing of its own: each APDU is one self-delimiting BER TLV, with a
definite or an indefinite outer length, and several may arrive in one read or one may span
many. The decoder finds each APDU's end by walking its BER structure, then decodes it.

Two kinds of failure are kept apart, because a peer is owed different things for them:

* an APDU whose boundaries are clear but whose content is wrong comes out as an
  :class:`UndecodableAPDU` (its bytes and the error), and decoding goes on with the next one:
  the gateway answers it with a Status-Or-Error-Report and keeps the association;
* bytes whose boundaries cannot be found (a length past the size limit, nesting too deep, a
  tag that is no APDU) raise :class:`DecodeError`: the stream is out of step and the
  connection has to be closed. The decoder stays broken after that.

Nothing is buffered beyond the APDU size limit: a peer that claims a 4 GB length is refused
on the spot, before any of it is waited for.
"""

from __future__ import annotations

from dataclasses import dataclass

from isoill.apdu.apdus import APDU
from isoill.apdu.ber import (
    CONSTRUCTED,
    INDEFINITE,
    read_raw_length,
    read_tag,
)
from isoill.apdu.codec import Codec, get_codec
from isoill.apdu.errors import DecodeError, IncompleteAPDU


@dataclass(frozen=True)
class UndecodableAPDU:
    """A well-delimited APDU that did not decode: its exact bytes and why."""

    data: bytes
    error: DecodeError


class OutOfStep(DecodeError):
    """Bytes whose boundaries cannot be found: the stream is out of step. ``framed`` holds
    the APDUs (with their bytes) that were complete before the bad bytes in the same feed:
    they came whole and are owed their answers before the connection closes."""

    def __init__(
        self, cause: DecodeError, framed: list[tuple[bytes, APDU | UndecodableAPDU]]
    ) -> None:
        super().__init__(cause.reason, cause.offset, cause.path)
        self.framed = framed


class StreamDecoder:
    """Feed bytes, get back what became complete.

    >>> decoder = StreamDecoder()
    >>> for chunk in chunks:                          # doctest: +SKIP
    ...     for item in decoder.feed(chunk):
    ...         handle(item)

    Finding where an indefinite-length APDU ends means walking its TLVs. The walk is
    resumable: the decoder remembers how far it got (the offset of the next TLV header and
    the stack of indefinite-length constructions still open), so every byte of the stream is
    looked at a bounded number of times however it is chunked, and the buffer is never
    copied per read. A megabyte fed one byte at a time costs what it costs in one piece.
    """

    def __init__(self, codec: Codec | None = None) -> None:
        self._codec = codec or get_codec()
        self._limits = self._codec.options.limits
        self._buffer = bytearray()
        self._consumed = 0  # bytes of the stream handed out so far, for error offsets
        self._broken: DecodeError | None = None
        self._reset_walk()

    def _reset_walk(self) -> None:
        """Forget the walk: the next APDU's header starts at the front of the buffer."""
        self._frame_length: int | None = None  # known once a definite outer length is read
        self._walking = False  # inside an indefinite-length APDU
        self._scan = 0  # where the next TLV header (or end-of-contents) is expected
        self._open = 0  # indefinite-length constructions not yet closed, the APDU's included

    @property
    def buffered(self) -> int:
        """Bytes received that are not yet part of a complete APDU."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[APDU | UndecodableAPDU]:
        """What became complete; :class:`OutOfStep` (a :class:`DecodeError`) when the
        stream cannot be delimited any more, with what was complete before it."""
        return [item for _, item in self.feed_frames(data)]

    def feed_frames(self, data: bytes) -> list[tuple[bytes, APDU | UndecodableAPDU]]:
        """Like :meth:`feed`, with each APDU's exact bytes as they came (for a raw log)."""
        if self._broken is not None:
            raise DecodeError(f"stream is out of step since: {self._broken}", self._broken.offset)
        self._buffer += data
        out: list[tuple[bytes, APDU | UndecodableAPDU]] = []
        while self._buffer:
            try:
                end = self._frame_end()
            except DecodeError as err:
                raise OutOfStep(err, out) from err
            if end is None:
                break
            frame = bytes(self._buffer[:end])
            del self._buffer[:end]  # O(1) at the front of a bytearray
            self._reset_walk()
            start = self._consumed
            self._consumed += end
            try:
                out.append((frame, self._codec.decode(frame)))
            except DecodeError as err:
                err.offset += start
                out.append((frame, UndecodableAPDU(frame, err)))
        return out

    def close(self) -> None:
        """The peer closed the connection: leftover bytes are a truncated APDU."""
        if self._buffer and self._broken is None:
            raise IncompleteAPDU(
                f"connection closed inside an APDU ({len(self._buffer)} bytes unused)",
                self._consumed,
            )

    def _frame_end(self) -> int | None:
        """Length of the first complete TLV in the buffer, or None if more is needed."""
        try:
            return self._advance()
        except IncompleteAPDU:
            return None
        except DecodeError as err:
            err.offset += self._consumed
            self._broken = err
            raise

    def _advance(self) -> int | None:
        """Carry the walk on as far as the buffer allows; the APDU's length once known.

        Raises :class:`IncompleteAPDU` (or returns None) where more bytes are needed, having
        kept what it learnt, and :class:`DecodeError` where the APDU's end cannot be found
        within the size limit.
        """
        data = self._buffer
        max_size = self._limits.max_apdu_size
        if self._frame_length is not None:
            return self._frame_length if self._frame_length <= len(data) else None
        if not self._walking:
            key, p = read_tag(data, 0)
            if not 0x61 <= key <= 0x74:
                raise DecodeError(
                    f"octet 0x{data[0]:02x} does not start an ILL APDU ([APPLICATION 1..20])", 0
                )
            length, p = read_raw_length(data, p, bool(key & CONSTRUCTED))
            if length != INDEFINITE:
                if p + length > max_size:
                    raise DecodeError(
                        f"APDU of {p + length} bytes exceeds the size limit of {max_size}", 0
                    )
                self._frame_length = p + length
                return self._frame_length if self._frame_length <= len(data) else None
            self._walking, self._scan, self._open = True, p, 1
        # Inside an indefinite-length APDU: step over one TLV header (or end-of-contents) at
        # a time, from where the last read stopped. Everything the APDU holds must lie
        # within the size limit, so a header or a content end past it is refused at once,
        # before any of it is waited for.
        max_depth = self._limits.max_depth
        scan, open_ = self._scan, self._open
        try:
            while open_:
                if scan + 2 > max_size:
                    raise DecodeError(f"APDU larger than the size limit of {max_size} bytes", 0)
                if scan + 2 > len(data):
                    break  # the common wait, without raising IncompleteAPDU per read
                if data[scan] == 0 and data[scan + 1] == 0:  # end-of-contents
                    scan += 2
                    open_ -= 1
                    continue
                if open_ > max_depth:
                    raise DecodeError(f"nesting deeper than {max_depth} levels", scan)
                key, p = read_tag(data, scan)
                first = key if key < 0x100 else key >> 24
                length, p = read_raw_length(data, p, bool(first & CONSTRUCTED))
                if length == INDEFINITE:
                    length = 0
                    open_ += 1
                if p + length > max_size:
                    raise DecodeError(f"APDU larger than the size limit of {max_size} bytes", 0)
                scan = p + length  # a definite content need not have arrived yet
        finally:
            self._scan, self._open = scan, open_
        if open_ or scan > len(data):
            return None
        self._frame_length = scan
        return scan
