"""The plain (JSON) form of APDUs: the standard's names, dates and amounts as on the wire,
unknown EXTERNALs as hex BER. One pair of functions per node of the bound schema: ``plain``
(dataclass to JSON-ready data) and ``unplain`` (back, refusing with the component path
whatever does not fit, since the data comes from a file, a web form or a stored transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, get_origin

from isoill.apdu import types as model
from isoill.apdu.enums import ASN1Enum
from isoill.apdu.errors import EncodeError
from isoill.apdu.value_rules import each_indexed

if TYPE_CHECKING:
    from isoill.apdu.binding import Coder, Member

Plain = Callable[[Any], Any]


def sequence(
    cls: type,
    members: list[Member],
    defined_by: dict[str, tuple[str, dict[Any, Coder]]],
    what: str,
) -> tuple[Plain, Plain]:
    plain_plan = [
        (m.field, m.name, m.coder.plain, m.coder.unplain, m.required, defined_by.get(m.field))
        for m in members
    ]
    known = {m.name for m in members}

    def plain(value: Any) -> dict[str, Any]:
        out = {}
        for field, name, to_plain, _from, _required, resolver in plain_plan:
            item = getattr(value, field)
            if item is None:
                continue
            if resolver is not None and not isinstance(item, bytes):
                chosen = resolver[1].get(getattr(value, resolver[0]))
                if chosen is not None:
                    to_plain = chosen.plain
            out[name] = to_plain(item)
        return out

    def unplain(value: Any) -> Any:
        if not isinstance(value, dict):
            raise EncodeError(f"expected an object for {what}, got {type(value).__name__}")
        unknown = set(value) - known
        if unknown:
            raise EncodeError(f"unknown components {sorted(unknown)}; expected {sorted(known)}")
        kwargs: dict[str, Any] = {}
        for field, name, _to, from_plain, required, resolver in plain_plan:
            if name not in value:
                if required:
                    raise EncodeError("mandatory component is missing", [name])
                continue
            item = value[name]
            if resolver is not None and not (isinstance(item, dict) and set(item) == {"ber"}):
                chosen = resolver[1].get(kwargs.get(resolver[0]))
                if chosen is not None:
                    from_plain = chosen.unplain
            try:
                kwargs[field] = from_plain(item)
            except EncodeError as err:
                err.path.insert(0, name)
                raise
            except (TypeError, ValueError, KeyError) as err:
                raise EncodeError(str(err), [name]) from err
        return cls(**kwargs)

    return plain, unplain


def _expect_key(value: Any, key: str, what: str) -> Any:
    if not isinstance(value, dict) or key not in value:
        raise EncodeError(f"expected an object with {key!r} for {what}")
    return value[key]


def sequence_of(element_plain: Plain, element_unplain: Plain, what: str) -> tuple[Plain, Plain]:
    def plain(value: Any) -> list[Any]:
        return [element_plain(x) for x in value]

    def unplain(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise EncodeError(f"expected a list for {what}, got {type(value).__name__}")
        return tuple(each_indexed(value, element_unplain))

    return plain, unplain


def wrapped(inner_plain: Plain, inner_unplain: Plain, cls: Any, name: str) -> tuple[Plain, Plain]:
    def plain(value: Any) -> Any:
        return inner_plain(getattr(value, name))

    def unplain(value: Any) -> Any:
        return cls(**{name: inner_unplain(value)})

    return plain, unplain


def choice(arms: list[tuple[str, Any, Coder]], what: str) -> tuple[Plain, Plain]:
    plain_by_type: dict[Any, tuple[str, Plain]] = {}
    for name, arm_type, coder in arms:
        origin = get_origin(arm_type) or arm_type
        plain_by_type[origin] = (name, coder.plain)
        if origin is str:
            plain_by_type[model.EDIFACTString] = (name, coder.plain)
    unplain_by_name = {name: coder.unplain for name, _t, coder in arms}
    names = ", ".join(name for name, _t, _c in arms)

    def plain(value: Any) -> dict[str, Any]:
        arm = plain_by_type.get(type(value))
        if arm is None:
            raise EncodeError(f"{type(value).__name__} is none of the alternatives {names}")
        return {arm[0]: arm[1](value)}

    def unplain(value: Any) -> Any:
        if not isinstance(value, dict) or len(value) != 1:
            raise EncodeError(f"expected an object with one of {names} for {what}")
        ((name, item),) = value.items()
        if name not in unplain_by_name:
            raise EncodeError(f"{name!r} is none of the alternatives {names}")
        try:
            return unplain_by_name[name](item)
        except EncodeError as err:
            err.path.insert(0, name)
            raise

    return plain, unplain


def ill_string_plain(value: str) -> Any:
    if type(value) is model.EDIFACTString:
        return {"EDIFACTString": str(value)}
    return value


def ill_string_unplain(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("EDIFACTString"), str):
        return model.EDIFACTString(value["EDIFACTString"])
    raise EncodeError(f'expected str (or {{"EDIFACTString": str}}), got {type(value).__name__}')


def text_unplain(parse: Callable[[str], Any], type_name: str) -> Plain:
    def unplain(value: Any) -> Any:
        if not isinstance(value, str):
            raise EncodeError(f"expected a string for {type_name}, got {type(value).__name__}")
        return parse(value)

    return unplain


def enumerated(cls: type[ASN1Enum]) -> tuple[Plain, Plain]:
    def plain(value: ASN1Enum) -> str:
        return value.asn1_name

    def unplain(value: Any) -> ASN1Enum:
        if not isinstance(value, str):
            raise EncodeError(f"expected a {cls.__name__} name, got {value!r}")
        try:
            return cls.from_asn1_name(value)
        except ValueError as err:
            raise EncodeError(str(err)) from None

    return plain, unplain


def null(pytype: Any) -> tuple[Plain, Plain]:
    def plain(value: Any) -> None:
        return None

    def unplain(value: Any) -> Any:
        return pytype()

    return plain, unplain


def external(externals: dict[str, tuple[type[model.ExternalValue], Coder]]) -> tuple[Plain, Plain]:
    def plain(value: Any) -> dict[str, Any]:
        if isinstance(value, model.UnknownExternal):
            out: dict[str, Any] = {}
            if value.direct_reference is not None:
                out["direct-reference"] = value.direct_reference
            out["ber"] = value.ber.hex()
            return out
        registered = externals.get(getattr(value, "oid", ""))
        if registered is None:
            raise EncodeError(f"{type(value).__name__} is not a registered EXTERNAL type")
        return {"direct-reference": value.oid, "single-ASN1-type": registered[1].plain(value)}

    def unplain(value: Any) -> Any:
        if not isinstance(value, dict):
            raise EncodeError(f"expected an object for EXTERNAL, got {type(value).__name__}")
        oid = value.get("direct-reference")
        if "ber" in value:
            return model.UnknownExternal(direct_reference=oid, ber=bytes.fromhex(value["ber"]))
        registered = externals.get(oid) if isinstance(oid, str) else None
        if registered is None or "single-ASN1-type" not in value:
            raise EncodeError(f"EXTERNAL {oid!r} is not registered; give its 'ber' instead")
        return registered[1].unplain(value["single-ASN1-type"])

    return plain, unplain


def raw_any(what: str) -> tuple[Plain, Plain]:
    def plain(value: bytes) -> dict[str, str]:
        return {"ber": value.hex()}

    def unplain(value: Any) -> bytes:
        return bytes.fromhex(_expect_key(value, "ber", what))

    return plain, unplain
