"""BER to the APDU dataclasses: one decoder function per node of the bound schema.

A decoder reads the TLV starting at ``off``, its end bounded by ``limit``, and returns the
value and the offset after it. Two rules hold for hostile input, because a gateway relays
what it decodes. Every read is bounded by the enclosing definite length, so a value never
depends on the bytes after its parent. And what decodes re-encodes, to bytes that decode to
the same value: a value outside the encoder's rules (SIZE, alphabets, value ranges) is
refused here with the reason and the offset (the component path is added on the way out),
unless the model has a way to keep it byte-identical (ISO-Date text, UnknownExternal).

These are the interpreter: :mod:`isoill.apdu.compiled` generates the fast path, and falls
back to these for anything uncommon, so that every error is theirs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from isoill.apdu import types as model
from isoill.apdu.ber import (
    CONSTRUCTED,
    INDEFINITE,
    Limits,
    decode_oid,
    describe_tag,
    is_end_of_contents,
    overrun,
    read_length,
    read_tag,
    skip_tlv,
)
from isoill.apdu.enums import ASN1Enum
from isoill.apdu.errors import DecodeError
from isoill.apdu.value_rules import (
    EDIFACT_STRING,
    EXTERNAL_TAG,
    GENERAL_STRING,
    OCTET_STRING,
    allowed,
    constructed,
    permitted_names,
    shown,
)

if TYPE_CHECKING:
    from isoill.apdu.binding import Coder, Member

Decoder = Callable[[bytes, int, int], tuple[Any, int]]


def _header(data: bytes, off: int, limit: int, expected: int, what: str) -> tuple[int, int]:
    """Check the tag at ``off`` and read the length: (content end or INDEFINITE, start)."""
    if off + 1 < limit and data[off] == expected:
        length = data[off + 1]
        end = off + 2 + length
        if length < 0x80 and end <= limit:  # the common case, inline
            return end, off + 2
    return _header_slow(data, off, limit, expected, what)


def _header_slow(data: bytes, off: int, limit: int, expected: int, what: str) -> tuple[int, int]:
    key, p = read_tag(data, off, limit)
    if key != expected:
        raise DecodeError(
            f"expected {what} with tag {describe_tag(expected)}, found tag {describe_tag(key)}",
            off,
        )
    first = key if key < 0x100 else key >> 24
    return read_length(data, p, bool(first & CONSTRUCTED), limit)


def _closed(data: bytes, p: int, end: int, inner_limit: int) -> int:
    """The offset after constructed contents that end at ``p`` (at ``end`` for a definite
    length; with end-of-contents octets for the indefinite form), or -1 if they go on."""
    if end == INDEFINITE:
        return p + 2 if is_end_of_contents(data, p, inner_limit) else -1
    return p if p >= end else -1


def _peek(data: bytes, off: int, limit: int) -> int:
    """The tag key at ``off``, reading nothing at or past ``limit``."""
    if off >= limit:
        raise overrun("where a component should start", off, data, limit)
    first = data[off]
    if first & 0x1F != 0x1F:
        return first
    return read_tag(data, off, limit)[0]


def sequence(
    key: int,
    cls: type,
    members: list[Member],
    defined_by: dict[str, tuple[str, dict[Any, Coder]]],
    what: str,
) -> Decoder:
    # Components are found by tag in O(1): BER gives every component of a SEQUENCE a
    # distinct tag, and they must come in order, so a tag maps to one position.
    index_of: dict[int, int] = {}
    for position, m in enumerate(members):
        if not m.coder.tags:
            raise TypeError(f"{what}.{m.name}: an untagged open type cannot be placed by tag")
        for tag_key_ in m.coder.tags:
            index_of[tag_key_] = position
    decoders = [m.coder.decode for m in members]
    fields = [m.field for m in members]
    names = [m.name for m in members]
    resolvers = [defined_by.get(m.field) for m in members]
    count = len(members)
    new = object.__new__
    defaults = {
        f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING
    }
    # next_required[i]: position of the first mandatory component at or after i.
    next_required = [count] * (count + 1)
    for position in range(count - 1, -1, -1):
        next_required[position] = (
            position if members[position].required else next_required[position + 1]
        )

    entries = {
        tag: (position, fields[position], decoders[position], resolvers[position])
        for tag, position in index_of.items()
    }

    def dec(data: bytes, off: int, limit: int) -> tuple[Any, int]:
        end, p = _header(data, off, limit, key, what)
        inner_limit = limit if end == INDEFINITE else end
        # Filling __dict__ directly skips the frozen dataclass's __init__, which costs more
        # than all the BER work for a typical APDU; every value is checked while decoding.
        obj: Any = new(cls)
        state = obj.__dict__
        state.update(defaults)
        i = 0
        while (closed := _closed(data, p, end, inner_limit)) < 0:
            tag = data[p]
            if tag & 0x1F == 0x1F:
                tag = _peek(data, p, inner_limit)
            entry = entries.get(tag)
            if entry is None or entry[0] < i:
                where = "unexpected" if entry is None else "out of order or repeated"
                raise DecodeError(f"{where} component with tag {describe_tag(tag)}", p)
            j, field, decode, resolver = entry
            if next_required[i] < j:
                raise DecodeError(
                    f"missing mandatory component {names[next_required[i]]}; "
                    f"found tag {describe_tag(tag)}",
                    p,
                )
            if resolver is not None:  # ANY DEFINED BY an earlier component
                chosen = resolver[1].get(state.get(resolver[0]))
                if chosen is not None:
                    decode = chosen.decode
            try:
                state[field], p = decode(data, p, inner_limit)
            except DecodeError as err:
                err.path.insert(0, names[j])
                raise
            i = j + 1
        p = closed
        if next_required[i] < count:
            raise DecodeError(f"missing mandatory component {names[next_required[i]]}", p)
        return obj, p

    return dec


def sequence_of(
    key: int, element_decode: Decoder, size: tuple[int, int] | None, what: str
) -> Decoder:
    def dec(data: bytes, off: int, limit: int) -> tuple[tuple[Any, ...], int]:
        end, p = _header(data, off, limit, key, what)
        inner_limit = limit if end == INDEFINITE else end
        items: list[Any] = []
        while (closed := _closed(data, p, end, inner_limit)) < 0:
            try:
                item, p = element_decode(data, p, inner_limit)
            except DecodeError as err:
                err.path.insert(0, f"[{len(items)}]")
                raise
            items.append(item)
        p = closed
        if size is not None and not size[0] <= len(items) <= size[1]:
            raise DecodeError(
                f"{len(items)} entries; the standard allows {size[0]} to {size[1]}", off
            )
        return tuple(items), p

    return dec


def explicit(key: int, inner_decode: Decoder, what: str) -> Decoder:
    def dec(data: bytes, off: int, limit: int) -> tuple[Any, int]:
        end, p = _header(data, off, limit, key, what)
        value, p = inner_decode(data, p, limit if end == INDEFINITE else end)
        if end == INDEFINITE:
            if not is_end_of_contents(data, p, limit):
                raise DecodeError("expected end-of-contents after the tagged value", p)
            return value, p + 2
        if p != end:
            raise DecodeError(f"{end - p} unexpected bytes after the tagged value", p)
        return value, p

    return dec


def explicit_ill_string(
    key: int, slow: Decoder, charset: str, size: tuple[int, int] | None
) -> Decoder:
    """``[n] ILL-String`` is most of an APDU's components: one function reads the tag, the
    string's tag and both lengths when they take the short forms, and hands anything else
    to the general path ``slow``."""
    low, high = size or (0, 1 << 31)

    def dec(data: bytes, off: int, limit: int) -> tuple[Any, int]:
        if off + 3 < limit and data[off] == key and data[off + 2] == GENERAL_STRING:
            outer = data[off + 1]
            length = data[off + 3]
            if outer == length + 2 and length < 0x80 and off + 4 + length <= limit:
                try:
                    text = data[off + 4 : off + 4 + length].decode(charset)
                except UnicodeDecodeError:
                    text = None
                if text is not None and low <= len(text) <= high:
                    return text, off + 4 + length
        return slow(data, off, limit)  # which names whatever is wrong

    return dec


def wrapped(inner_decode: Decoder, cls: Any, name: str) -> Decoder:
    def dec(data: bytes, off: int, limit: int) -> tuple[Any, int]:
        value, p = inner_decode(data, off, limit)
        return cls(**{name: value}), p

    return dec


def choice(arms: list[tuple[str, Any, Coder]], what: str) -> Decoder:
    by_tag = {key: (name, coder.decode) for name, _t, coder in arms for key in coder.tags}
    names = ", ".join(name for name, _t, _c in arms)

    def dec(data: bytes, off: int, limit: int) -> tuple[Any, int]:
        tag = _peek(data, off, limit)
        try:
            name, decode = by_tag[tag]
        except KeyError:
            raise DecodeError(
                f"tag {describe_tag(tag)} is none of the alternatives {names}", off
            ) from None
        try:
            return decode(data, off, limit)
        except DecodeError as err:
            err.path.insert(0, name)
            raise

    return dec


def ill_string(charset: str, size: tuple[int, int] | None, limits: Limits) -> Decoder:
    max_len = limits.max_string_length

    def dec(data: bytes, off: int, limit: int) -> tuple[str, int]:
        key = _peek(data, off, limit)
        if key in (GENERAL_STRING, EDIFACT_STRING):
            end, p = read_length(data, off + 1, False, limit)
            raw = data[p:end]
        elif key in (GENERAL_STRING | CONSTRUCTED, EDIFACT_STRING | CONSTRUCTED):
            raw, end = _segments(data, off, limit, limits)
            key &= ~CONSTRUCTED
        else:
            raise DecodeError(
                f"expected ILL-String (GeneralString or EDIFACTString), found tag "
                f"{describe_tag(key)}",
                off,
            )
        if len(raw) > max_len:
            raise DecodeError(f"string of {len(raw)} bytes exceeds the limit of {max_len}", off)
        text: str
        if key == GENERAL_STRING:
            try:
                text = raw.decode(charset)
            except UnicodeDecodeError as err:
                raise DecodeError(
                    f"GeneralString is not valid {charset} (byte {err.start}); decode with "
                    "the charset this peer uses, e.g. charset='latin-1'",
                    off,
                ) from None
        else:
            # The peer chose EDIFACTString, whose alphabet is its definition: a character
            # outside it is refused here, as the encoder refuses it, rather than relayed as
            # something isoill would never write itself (GeneralString carries any text).
            bad = set(raw.decode("latin-1")) - model.EDIFACT_ALPHABET
            if bad:
                raise DecodeError(
                    f"characters {sorted(bad)} are not in the EDIFACTString alphabet", off
                )
            text = model.EDIFACTString(raw.decode("ascii"))
        if size is not None and not size[0] <= len(text) <= size[1]:
            # SIZE constraints (ISBN 10, ISSN 8, level-of-service 1, record number 1..50)
            # are refused, as the encoder refuses them: an ISBN-13 in the ISBN-10 slot is
            # not something isoill can relay without writing what the standard forbids,
            # and the sender is better told which component to fix.
            raise DecodeError(
                f"{len(text)} characters ({shown(text)}); the standard allows {allowed(size)}",
                off,
            )
        return text, end

    return dec


def _segments(data: bytes, off: int, limit: int, limits: Limits) -> tuple[bytes, int]:
    """A constructed string's content: the concatenated primitive segments."""
    key, p = read_tag(data, off, limit)
    end, p = read_length(data, p, True, limit)
    inner_limit = limit if end == INDEFINITE else end
    pieces = []
    total = 0
    while (closed := _closed(data, p, end, inner_limit)) < 0:
        seg_key, q = read_tag(data, p, inner_limit)
        if seg_key not in (OCTET_STRING, key & ~CONSTRUCTED):
            raise DecodeError(f"string segment with tag {describe_tag(seg_key)}", p)
        seg_end, q = read_length(data, q, False, inner_limit)
        total += seg_end - q
        if total > limits.max_string_length:
            raise DecodeError(f"string exceeds the limit of {limits.max_string_length} bytes", off)
        pieces.append(data[q:seg_end])
        p = seg_end
    return b"".join(pieces), closed


def text(key: int, convert: Callable[[bytes], Any], type_name: str, limits: Limits) -> Decoder:
    """VisibleString / PrintableString based types (ISO-Date, ISO-Time, Amount, currency)."""
    max_len = limits.max_string_length
    constructed_key = constructed(key)

    def dec(data: bytes, off: int, limit: int) -> tuple[Any, int]:
        found = _peek(data, off, limit)
        if found == constructed_key:
            raw, end = _segments(data, off, limit, limits)
        else:
            end, p = _header(data, off, limit, key, type_name)
            raw = data[p:end]
        if len(raw) > max_len:
            raise DecodeError(f"string of {len(raw)} bytes exceeds the limit of {max_len}", off)
        try:
            return convert(raw), end
        except ValueError as err:
            raise DecodeError(str(err), off) from None

    return dec


def _primitive(data: bytes, off: int, limit: int, key: int, what: str) -> tuple[bytes, int, int]:
    end, p = _header(data, off, limit, key, what)
    return data[p:end], p, end


def integer(key: int, value_range: tuple[int, int] | None, what: str) -> Decoder:
    def dec(data: bytes, off: int, limit: int) -> tuple[int, int]:
        content, _p, end = _primitive(data, off, limit, key, what)
        if not content:
            raise DecodeError("INTEGER with no content octets", off)
        if len(content) > 8:
            raise DecodeError(f"INTEGER of {len(content)} octets is too large", off)
        value = int.from_bytes(content, "big", signed=True)
        if value_range is not None and not value_range[0] <= value <= value_range[1]:
            # chargeable-units 0, no-of-units -5: a count the standard bounds is refused
            # with the reason (as the encoder refuses it), not passed on to the machine.
            raise DecodeError(f"{value} is outside {value_range[0]}..{value_range[1]}", off)
        return value, end

    return dec


def enumerated(
    key: int, cls: type[ASN1Enum], permitted: frozenset[ASN1Enum] | None, what: str
) -> Decoder:
    members = {int(m): m for m in cls}
    names = ", ".join(f"{m.asn1_name} ({int(m)})" for m in cls)
    allowed = permitted_names(permitted)

    def dec(data: bytes, off: int, limit: int) -> tuple[ASN1Enum, int]:
        content, p, end = _primitive(data, off, limit, key, what)
        if not content or len(content) > 4:
            raise DecodeError(f"ENUMERATED with {len(content)} content octets", off)
        number = int.from_bytes(content, "big", signed=True)
        try:
            member = members[number]
        except KeyError:
            raise DecodeError(
                f"{number} is not a {cls.__name__}; expected one of {names}", p
            ) from None
        if permitted is not None and member not in permitted:
            # Shipped-Service-Type is ILL-Service-Type restricted to loan and
            # copy-non-returnable: "locations" shipped makes no sense to any state machine,
            # so it is refused as the encoder refuses it.
            raise DecodeError(f"{member.asn1_name} is not allowed here; only {allowed}", p)
        return member, end

    return dec


def boolean(key: int, what: str) -> Decoder:
    def dec(data: bytes, off: int, limit: int) -> tuple[bool, int]:
        content, _p, end = _primitive(data, off, limit, key, what)
        if len(content) != 1:
            raise DecodeError(f"BOOLEAN with {len(content)} content octets", off)
        return content[0] != 0, end

    return dec


def object_identifier(key: int, what: str) -> Decoder:
    def dec(data: bytes, off: int, limit: int) -> tuple[str, int]:
        content, p, end = _primitive(data, off, limit, key, what)
        return decode_oid(content, p), end

    return dec


def null(key: int, pytype: Any, what: str) -> Decoder:
    def dec(data: bytes, off: int, limit: int) -> tuple[Any, int]:
        content, _p, end = _primitive(data, off, limit, key, what)
        if content:
            raise DecodeError("NULL with content octets", off)
        return pytype(), end

    return dec


def external(
    externals: dict[str, tuple[type[model.ExternalValue], Coder]], limits: Limits
) -> Decoder:
    """EXTERNAL: typed when its direct-reference is registered and it carries a
    single-ASN1-type and nothing else; otherwise the exact bytes, re-sent unchanged."""

    def dec(data: bytes, off: int, limit: int) -> tuple[Any, int]:
        end, p = _header(data, off, limit, EXTERNAL_TAG, "EXTERNAL")
        after = skip_tlv(data, off, limit, limits)
        # Every read below stays inside the EXTERNAL's own contents. A single-ASN1-type
        # that claims an indefinite length (a0 80) inside a definite-length EXTERNAL must
        # find its end-of-contents before the EXTERNAL ends: looking past it would make the
        # value depend on whatever follows (an enclosing 00 00 in one encoding, nothing in
        # the re-encoding), so that what decodes would not decode again.
        contents_end = after - 2 if end == INDEFINITE else end
        oid = None
        if p < contents_end and data[p] == 0x06:
            seg_end, q = read_length(data, p + 1, False, contents_end)
            oid = decode_oid(data[q:seg_end], q)
            p = seg_end
        registered = externals.get(oid) if oid is not None else None
        if registered is not None and p < contents_end and data[p] == 0xA0:
            cls, coder = registered
            single_end, q = read_length(data, p + 1, True, contents_end)
            single_limit = contents_end if single_end == INDEFINITE else single_end
            try:
                value, q = coder.decode(data, q, single_limit)
            except DecodeError as err:
                err.path.insert(0, f"{cls.asn1_type}")
                raise
            if single_end == INDEFINITE:
                closed = q + 2 <= contents_end and data[q] == 0 and data[q + 1] == 0
                q = q + 2 if closed else -1
            if q == contents_end:
                return value, after
        # Not the shape isoill types (an unregistered OID, other encodings, or one that is
        # malformed inside, such as an unclosed a0 80, which YAZ accepts): kept as the exact
        # bytes, so that relaying it re-sends what the peer sent and decodes the same again.
        return model.UnknownExternal(direct_reference=oid, ber=data[off:after]), after

    return dec


def raw_any(limits: Limits) -> Decoder:
    def dec(data: bytes, off: int, limit: int) -> tuple[bytes, int]:
        end = skip_tlv(data, off, limit, limits)
        return data[off:end], end

    return dec
