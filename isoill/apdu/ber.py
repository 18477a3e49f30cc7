"""BER primitives: tags, lengths, TLV boundaries, and the limits that keep hostile input cheap.

Everything here works on ``bytes`` and absolute offsets, so that an error can always say
exactly where in the peer's data it happened. Nothing allocates in proportion to a length
the peer *claims*: a length is checked against the bytes actually present (and the limits)
before anything is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from isoill.apdu.errors import DecodeError, IncompleteAPDU

CONSTRUCTED = 0x20
INDEFINITE = -1


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what a peer may make the decoder do.

    max_apdu_size: largest APDU accepted, in bytes (ILL APDUs are a few KiB at most).
    max_string_length: largest single string value, in bytes.
    max_depth: deepest nesting of constructed encodings inside opaque parts
        (EXTERNALs and ANYs isoill has no type for); the schema bounds the rest.
    """

    max_apdu_size: int = 1 << 20
    max_string_length: int = 64 << 10
    max_depth: int = 64


DEFAULT_LIMITS = Limits()


def tag_key(tag: bytes | bytearray) -> int:
    """An int standing for a whole encoded tag, so that tag sets are sets of ints.

    Low tag numbers (< 31) are their single identifier octet; high tag numbers fold the
    identifier octet and the number together, and can never equal a single octet.
    """
    first = tag[0]
    if first & 0x1F != 0x1F:
        return first
    number = 0
    for octet in tag[1:]:
        number = (number << 7) | (octet & 0x7F)
    return (first << 24) | number


def encode_tag_key(key: int) -> bytes:
    """The identifier octets for a tag key made by :func:`tag_key`."""
    if key < 0x100:
        return bytes((key,))
    first, number = key >> 24, key & 0xFFFFFF
    groups = [number & 0x7F]
    number >>= 7
    while number:
        groups.append(0x80 | (number & 0x7F))
        number >>= 7
    return bytes((first, *reversed(groups)))


def describe_tag(key: int) -> str:
    """A tag key as a person reads it: ``[APPLICATION 1] constructed``, ``[46]``,
    ``UNIVERSAL 27``."""
    first = key if key < 0x100 else key >> 24
    number = first & 0x1F if key < 0x100 else key & 0xFFFFFF
    cls = ("UNIVERSAL ", "APPLICATION ", "", "PRIVATE ")[first >> 6]
    form = " constructed" if first & CONSTRUCTED else ""
    if cls == "UNIVERSAL ":
        return f"UNIVERSAL {number}{form} (0x{encode_tag_key(key).hex()})"
    return f"[{cls}{number}]{form} (0x{encode_tag_key(key).hex()})"


def overrun(reason: str, off: int, data: bytes | bytearray, limit: int) -> DecodeError:
    """The error for a read that would cross ``limit``: more data may complete it when the
    limit is the end of the data, never when it is the end of an enclosing encoding."""
    if limit >= len(data):
        return IncompleteAPDU(f"data ends {reason}", off)
    return DecodeError(f"the enclosing encoding ends {reason}", off)


def read_tag(data: bytes | bytearray, off: int, limit: int | None = None) -> tuple[int, int]:
    """(tag key, offset after the identifier octets).

    ``limit`` (default: the end of the data) is where the enclosing encoding ends: no octet
    at or past it is read, so that what a component decodes to never depends on the bytes
    after its parent.
    """
    if limit is None or limit > len(data):
        limit = len(data)
    if off >= limit:
        raise overrun("where a tag should start", off, data, limit)
    first = data[off]
    if first & 0x1F != 0x1F:
        return first, off + 1
    number = 0
    p = off + 1
    while True:
        if p >= limit:
            raise overrun("inside a multi-octet tag", off, data, limit)
        octet = data[p]
        p += 1
        number = (number << 7) | (octet & 0x7F)
        if not octet & 0x80:
            break
        if p - off > 4:
            raise DecodeError("tag number too large (more than 3 octets)", off)
    return (first << 24) | number, p


def read_raw_length(
    data: bytes | bytearray, off: int, constructed: bool, limit: int | None = None
) -> tuple[int, int]:
    """(length as claimed, or INDEFINITE; content start offset), checked only for form.
    The length octets themselves must lie before ``limit`` (default: the end of the data)."""
    if limit is None or limit > len(data):
        limit = len(data)
    if off >= limit:
        raise overrun("where a length should start", off, data, limit)
    first = data[off]
    p = off + 1
    if first < 0x80:
        return first, p
    if first == 0x80:
        if not constructed:
            raise DecodeError("indefinite length on a primitive encoding", off)
        return INDEFINITE, p
    count = first & 0x7F
    if count > 4 or first == 0xFF:
        raise DecodeError(f"length of length is {count} octets; at most 4 are accepted", off)
    if p + count > limit:
        raise overrun("inside a length", off, data, limit)
    return int.from_bytes(data[p : p + count], "big"), p + count


def read_length(
    data: bytes | bytearray, off: int, constructed: bool, limit: int
) -> tuple[int, int]:
    """(content end offset, or INDEFINITE; content start offset).

    ``limit`` is where the enclosing encoding ends, never past the data. A content end past
    it is refused at once, so a claimed 4 GB length costs nothing: as
    :class:`IncompleteAPDU` when the limit is the end of the data (more bytes may complete
    it), as :class:`DecodeError` when it is an enclosing encoding's end.
    """
    length, p = read_raw_length(data, off, constructed, limit)
    if length == INDEFINITE:
        return INDEFINITE, p
    end = p + length
    if end > limit:
        if limit >= len(data):
            raise IncompleteAPDU(
                f"length {length} runs past the end of the data ({len(data) - p} bytes left)",
                off,
            )
        raise DecodeError(
            f"length {length} runs past the end of the enclosing encoding "
            f"({max(limit - p, 0)} bytes left)",
            off,
        )
    return end, p


def encode_length(length: int) -> bytes:
    """Definite length, shortest form."""
    if length < 0x80:
        return bytes((length,))
    octets = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(octets),)) + octets


def is_end_of_contents(data: bytes | bytearray, off: int, limit: int | None = None) -> bool:
    """True at the end-of-contents octets (00 00) that close an indefinite length.

    ``limit`` is where the enclosing encoding ends (default: the end of the data): an
    indefinite-length encoding inside a definite-length one must close before its parent
    does, so the octets are never looked for past it.
    """
    if limit is None or limit > len(data):
        limit = len(data)
    if off + 2 > limit:
        raise overrun("before the end-of-contents octets", off, data, limit)
    return data[off] == 0 and data[off + 1] == 0


def skip_tlv(data: bytes | bytearray, off: int, limit: int, limits: Limits, depth: int = 0) -> int:
    """Offset just after the TLV at ``off``: walks indefinite-length encodings, bounded by
    ``limits.max_depth`` so that nested indefinite lengths cannot recurse without end."""
    if depth > limits.max_depth:
        raise DecodeError(f"nesting deeper than {limits.max_depth} levels", off)
    key, p = read_tag(data, off, limit)
    first = key if key < 0x100 else key >> 24
    end, p = read_length(data, p, bool(first & CONSTRUCTED), limit)
    if end != INDEFINITE:
        return end
    while not is_end_of_contents(data, p, limit):
        p = skip_tlv(data, p, limit, limits, depth + 1)
    return p + 2


#: Octets one sub-identifier of an OBJECT IDENTIFIER may take. 19 octets carry 133 bits:
#: room for any 128-bit arc (the UUID arcs under 2.25 are the largest any registration
#: authority assigns); ILL's own OIDs use arcs of one to three octets. Without a bound a peer
#: could send a single arc of a megabyte, and turning that into decimal text costs time
#: quadratic in its size (and past 4,300 digits Python refuses with a bare ValueError).
MAX_OID_ARC_OCTETS = 19
_MAX_ARC = 1 << (7 * MAX_OID_ARC_OCTETS)
_ARC_TEXT = re.compile(r"0|[1-9][0-9]{0,40}")


#: Content octets -> text of the OIDs decoded so far, and back (the few an ILL peer sends:
#: EXTERNALs' direct references), bounded so that a hostile peer cannot grow it.
_OID_MEMO: dict[bytes, str] = {}
_OID_MEMO_SIZE = 64
_OID_OCTETS_MEMO: dict[str, bytes] = {}


def encode_oid(dotted: str) -> bytes:
    """The content octets of an OBJECT IDENTIFIER (see :func:`_encode_oid`), remembered
    like :func:`decode_oid`'s."""
    octets = _OID_OCTETS_MEMO.get(dotted) if type(dotted) is str else None
    if octets is None:
        octets = _encode_oid(dotted)
        if type(dotted) is str and len(_OID_OCTETS_MEMO) < _OID_MEMO_SIZE:
            _OID_OCTETS_MEMO[dotted] = octets
    return octets


def _encode_oid(dotted: str) -> bytes:
    """The content octets of an OBJECT IDENTIFIER given as dotted decimal text.

    Refuses (ValueError) exactly what :func:`decode_oid` would refuse to read back, and only
    accepts the text :func:`decode_oid` writes (plain ASCII digits, no sign, no leading
    zeros), so that an OID that encodes decodes to the same text.
    """
    parts = dotted.split(".")
    if not all(_ARC_TEXT.fullmatch(part) for part in parts):
        raise ValueError(f"{dotted!r} is not an object identifier")
    arcs = [int(arc) for arc in parts]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError(f"{dotted!r} is not an object identifier")
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        if arc >= _MAX_ARC:
            raise ValueError(
                f"{dotted!r}: an arc needs more than {MAX_OID_ARC_OCTETS} octets "
                "(no registration authority assigns one that large)"
            )
        groups = [arc & 0x7F]
        arc >>= 7
        while arc:
            groups.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(groups))
    return bytes(out)


def decode_oid(content: bytes | bytearray, off: int) -> str:
    """Dotted decimal text for the content octets of an OBJECT IDENTIFIER at ``off``
    (see :func:`_decode_oid`), remembered for the next APDU that carries it."""
    key = bytes(content)
    text = _OID_MEMO.get(key)
    if text is None:
        text = _decode_oid(content, off)
        if len(_OID_MEMO) < _OID_MEMO_SIZE:
            _OID_MEMO[key] = text
    return text


def _decode_oid(content: bytes | bytearray, off: int) -> str:
    """Dotted decimal text for the content octets of an OBJECT IDENTIFIER at ``off``.

    Each sub-identifier is refused when it is padded (a leading 0x80 octet, which X.690
    8.19.2 forbids and which would give two encodings of one OID) or longer than
    :data:`MAX_OID_ARC_OCTETS`, so the work is linear in the content and every arc's text
    is short.
    """
    if not content:
        raise DecodeError("empty object identifier", off)
    arcs: list[int] = []
    value = 0
    start = 0  # index of the current sub-identifier's first octet
    for index, octet in enumerate(content):
        if index == start and octet == 0x80:
            raise DecodeError(
                "object identifier sub-identifier starts with a padding octet 0x80",
                off + index,
            )
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
            start = index + 1
        elif index - start + 1 >= MAX_OID_ARC_OCTETS:
            raise DecodeError(
                f"object identifier sub-identifier longer than {MAX_OID_ARC_OCTETS} octets",
                off + start,
            )
    if content[-1] & 0x80:
        raise DecodeError("object identifier ends inside a sub-identifier", off + start)
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])
