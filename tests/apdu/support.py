"""Helpers of the codec's tests."""

from __future__ import annotations

from isoill.apdu.ber import INDEFINITE, read_length, read_tag


def indefinite(encoded: bytes) -> bytes:
    """The same BER with every constructed length rewritten as indefinite: as YAZ writes
    large parts, and so that a test can change a primitive's length by replacing its TLV
    without redoing the lengths around it."""

    def walk(data: bytes, off: int, end: int) -> bytes:
        out = bytearray()
        while off < end:
            key, p = read_tag(data, off)
            first = key if key < 0x100 else key >> 24
            content_end, q = read_length(data, p, bool(first & 0x20), end)
            assert content_end != INDEFINITE
            if first & 0x20:
                out += data[off:p] + b"\x80" + walk(data, q, content_end) + b"\x00\x00"
            else:
                out += data[off:content_end]
            off = content_end
        return bytes(out)

    return walk(encoded, 0, len(encoded))
