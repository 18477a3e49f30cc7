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
from isoill.apdu.ber import CONSTRUCTED, INDEFINITE, read_raw_length, read_tag, skip_tlv
from isoill.apdu.codec import Codec, get_codec
from isoill.apdu.errors import DecodeError, IncompleteAPDU


@dataclass(frozen=True)
class UndecodableAPDU:
    """A well-delimited APDU that did not decode: its exact bytes and why."""

    data: bytes
    error: DecodeError


class StreamDecoder:
    """Feed bytes, get back what became complete.

    >>> decoder = StreamDecoder()
    >>> for chunk in chunks:                          # doctest: +SKIP
    ...     for item in decoder.feed(chunk):
    ...         handle(item)
    """

    def __init__(self, codec: Codec | None = None) -> None:
        self._codec = codec or get_codec()
        self._limits = self._codec.options.limits
        self._buffer = bytearray()
        self._consumed = 0  # bytes of the stream handed out so far, for error offsets
        self._broken: DecodeError | None = None

    @property
    def buffered(self) -> int:
        """Bytes received that are not yet part of a complete APDU."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[APDU | UndecodableAPDU]:
        return [item for _, item in self.feed_frames(data)]

    def feed_frames(self, data: bytes) -> list[tuple[bytes, APDU | UndecodableAPDU]]:
        """Like :meth:`feed`, with each APDU's exact bytes as they came (for a raw log)."""
        if self._broken is not None:
            raise DecodeError(f"stream is out of step since: {self._broken}", self._broken.offset)
        self._buffer += data
        out: list[tuple[bytes, APDU | UndecodableAPDU]] = []
        while self._buffer:
            end = self._frame_end()
            if end is None:
                break
            frame = bytes(self._buffer[:end])
            del self._buffer[:end]
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
        data = bytes(self._buffer)
        max_size = self._limits.max_apdu_size
        try:
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
                return p + length if p + length <= len(data) else None
            try:
                return skip_tlv(data, 0, min(len(data), max_size), self._limits)
            except IncompleteAPDU:
                raise
            except DecodeError as err:
                if len(data) > max_size:
                    raise DecodeError(
                        f"APDU larger than the size limit of {max_size} bytes", 0
                    ) from err
                raise
        except IncompleteAPDU:
            return None
        except DecodeError as err:
            err.offset += self._consumed
            self._broken = err
            raise
