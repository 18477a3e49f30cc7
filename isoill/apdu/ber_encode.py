"""The APDU dataclasses to BER: one encoder function per node of the bound schema.

An encoder returns the node's whole TLV, definite lengths throughout. DEFAULT-valued
components are written (YAZ insists on them) unless ``omit_defaults`` is asked for; a value
the standard forbids (SIZE, alphabet, value range) is refused with the reason, and the
component path is added on the way out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, get_origin

from isoill.apdu import types as model
from isoill.apdu.ber import encode_length, encode_oid, encode_tag_key
from isoill.apdu.enums import ASN1Enum
from isoill.apdu.errors import EncodeError
from isoill.apdu.value_rules import (
    EDIFACT_STRING,
    GENERAL_STRING,
    each_indexed,
    permitted_names,
)

if TYPE_CHECKING:
    from isoill.apdu.binding import Coder, Member

Encoder = Callable[[Any], bytes]


def sequence(
    key: int,
    cls: type,
    members: list[Member],
    omit_defaults: bool,
    defined_by: dict[str, tuple[str, dict[Any, Coder]]],
) -> Encoder:
    encode_plan = [
        (m.field, m.name, m.coder.encode, m.required, m.default, defined_by.get(m.field))
        for m in members
    ]
    tag = encode_tag_key(key)

    def enc(value: Any) -> bytes:
        if type(value) is not cls:
            raise EncodeError(f"expected {cls.__name__}, got {type(value).__name__}")
        parts = []
        for field, name, encode, required, default, resolver in encode_plan:
            item = getattr(value, field)
            if item is None:
                if required:
                    raise EncodeError("mandatory component is missing", [name])
                continue
            if omit_defaults and default is not dataclasses.MISSING and item == default:
                continue
            if resolver is not None and not isinstance(item, bytes):
                choice = resolver[1].get(getattr(value, resolver[0]))
                if choice is not None:
                    encode = choice.encode
            try:
                parts.append(encode(item))
            except EncodeError as err:
                err.path.insert(0, name)
                raise
            except (TypeError, ValueError, AttributeError) as err:
                raise EncodeError(str(err), [name]) from err
        content = b"".join(parts)
        return tag + encode_length(len(content)) + content

    return enc


def sequence_of(key: int, element_encode: Encoder, size: tuple[int, int] | None) -> Encoder:
    tag = encode_tag_key(key)

    def enc(value: Any) -> bytes:
        if not isinstance(value, tuple | list):
            raise EncodeError(f"expected a tuple, got {type(value).__name__}")
        if size is not None and not size[0] <= len(value) <= size[1]:
            raise EncodeError(f"{len(value)} entries; the standard allows {size[0]} to {size[1]}")
        content = b"".join(each_indexed(value, element_encode))
        return tag + encode_length(len(content)) + content

    return enc


def explicit(key: int, inner_encode: Encoder) -> Encoder:
    tag = encode_tag_key(key)

    def enc(value: Any) -> bytes:
        content = inner_encode(value)
        return tag + encode_length(len(content)) + content

    return enc


def wrapped(inner_encode: Encoder, cls: Any, name: str) -> Encoder:
    def enc(value: Any) -> bytes:
        if type(value) is not cls:
            raise EncodeError(f"expected {cls.__name__}, got {type(value).__name__}")
        return inner_encode(getattr(value, name))

    return enc


def choice(arms: list[tuple[str, Any, Coder]], what: str) -> Encoder:
    by_type: dict[Any, tuple[str, Encoder]] = {}
    for name, arm_type, coder in arms:
        origin = get_origin(arm_type) or arm_type
        if origin in by_type:
            raise TypeError(f"{what}: two alternatives are both {origin!r}")
        by_type[origin] = (name, coder.encode)
        if origin is str:
            by_type[model.EDIFACTString] = (name, coder.encode)
    names = ", ".join(name for name, _t, _c in arms)

    def enc(value: Any) -> bytes:
        arm = by_type.get(type(value))
        if arm is None:
            arm = next(
                (a for t, a in by_type.items() if isinstance(t, type) and isinstance(value, t)),
                None,
            )
            if arm is None:
                raise EncodeError(f"{type(value).__name__} is none of the alternatives {names}")
        try:
            return arm[1](value)
        except EncodeError as err:
            err.path.insert(0, arm[0])
            raise

    return enc


def ill_string(charset: str, size: tuple[int, int] | None) -> Encoder:
    general = bytes((GENERAL_STRING,))
    edifact = bytes((EDIFACT_STRING,))

    def enc(value: Any) -> bytes:
        if not isinstance(value, str):
            raise EncodeError(f"expected str, got {type(value).__name__}")
        if size is not None and not size[0] <= len(value) <= size[1]:
            allowed = str(size[0]) if size[0] == size[1] else f"{size[0]} to {size[1]}"
            raise EncodeError(f"{len(value)} characters ({value!r}); the standard allows {allowed}")
        if type(value) is model.EDIFACTString:
            bad = set(value) - model.EDIFACT_ALPHABET
            if bad:
                raise EncodeError(f"characters {sorted(bad)} are not in the EDIFACTString alphabet")
            raw = value.encode("ascii")
            return edifact + encode_length(len(raw)) + raw
        try:
            raw = value.encode(charset)
        except UnicodeEncodeError as err:
            raise EncodeError(f"{value!r} cannot be written in {charset}: {err.reason}") from None
        return general + encode_length(len(raw)) + raw

    return enc


def text(
    key: int, written: Callable[[Any], str], accepts: tuple[type, ...], type_name: str
) -> Encoder:
    tag = encode_tag_key(key)

    def enc(value: Any) -> bytes:
        if not isinstance(value, accepts):
            raise EncodeError(f"expected {type_name}, got {type(value).__name__}")
        try:
            raw = written(value).encode("ascii")
        except ValueError as err:
            raise EncodeError(str(err)) from None
        return tag + encode_length(len(raw)) + raw

    return enc


def integer(key: int, value_range: tuple[int, int] | None) -> Encoder:
    tag = encode_tag_key(key)

    def enc(value: Any) -> bytes:
        if type(value) is bool or not isinstance(value, int):
            raise EncodeError(f"expected an integer, got {type(value).__name__}")
        if value_range is not None and not value_range[0] <= value <= value_range[1]:
            raise EncodeError(f"{value} is outside {value_range[0]}..{value_range[1]}")
        return tag + _integer_content(int(value))

    return enc


def _integer_content(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big", signed=True)
    return encode_length(len(raw)) + raw


def enumerated(key: int, cls: type[ASN1Enum], permitted: frozenset[ASN1Enum] | None) -> Encoder:
    tag = encode_tag_key(key)
    encoded = {m: tag + _integer_content(int(m)) for m in cls}
    allowed = permitted_names(permitted)

    def enc(value: Any) -> bytes:
        try:
            out = encoded[value]
        except (KeyError, TypeError):
            raise EncodeError(f"expected {cls.__name__}, got {value!r}") from None
        if type(value) is not cls:
            raise EncodeError(f"expected {cls.__name__}, got {value!r}")
        if permitted is not None and value not in permitted:
            raise EncodeError(f"{value.asn1_name} is not allowed here; only {allowed}")
        return out

    return enc


def boolean(key: int) -> Encoder:
    true, false = encode_tag_key(key) + b"\x01\xff", encode_tag_key(key) + b"\x01\x00"

    def enc(value: Any) -> bytes:
        if type(value) is not bool:
            raise EncodeError(f"expected a bool, got {type(value).__name__}")
        return true if value else false

    return enc


def object_identifier(key: int) -> Encoder:
    tag = encode_tag_key(key)

    def enc(value: Any) -> bytes:
        if not isinstance(value, str):
            raise EncodeError(f"expected a dotted OID string, got {type(value).__name__}")
        raw = encode_oid(value)
        return tag + encode_length(len(raw)) + raw

    return enc


def null(key: int, pytype: Any) -> Encoder:
    tag = encode_tag_key(key) + b"\x00"

    def enc(value: Any) -> bytes:
        if type(value) is not pytype:
            raise EncodeError(f"expected {pytype.__name__}, got {type(value).__name__}")
        return tag

    return enc


def external(externals: dict[str, tuple[type[model.ExternalValue], Coder]]) -> Encoder:
    def enc(value: Any) -> bytes:
        if isinstance(value, model.UnknownExternal):
            return value.ber
        registered = externals.get(getattr(value, "oid", None))  # type: ignore[arg-type]
        if registered is None or not isinstance(value, registered[0]):
            raise EncodeError(f"{type(value).__name__} is not a registered EXTERNAL type")
        oid = encode_oid(value.oid)
        inner = registered[1].encode(value)
        single = b"\xa0" + encode_length(len(inner)) + inner
        content = b"\x06" + encode_length(len(oid)) + oid + single
        return b"\x28" + encode_length(len(content)) + content

    return enc


def raw_any(value: Any) -> bytes:
    if not isinstance(value, bytes):
        raise EncodeError(f"expected raw BER bytes, got {type(value).__name__}")
    return value
