"""Schema binding: the coder tree for ILL-APDU, built from asn1tools' compiled type tree.

At start-up the binder walks three things in step: asn1tools' BER tree for ILL-APDU (tags,
components, OPTIONAL and DEFAULT), the parsed ASN.1 (SIZE and value constraints) and the
annotations of the dataclasses in :mod:`isoill.apdu.types` / :mod:`isoill.apdu.apdus`. For
every node it makes one :class:`Coder`: a BER decoder (:mod:`isoill.apdu.ber_decode`) that
reads straight into the dataclass, a BER encoder (:mod:`isoill.apdu.ber_encode`) that writes
the dataclass straight out, the JSON form's two conversions (:mod:`isoill.apdu.json_form`),
and the node's shape, from which :mod:`isoill.apdu.compiled` generates the fast path. There
is no intermediate dict, so the typed layer costs nothing.

Doing it this way also settles asn1tools' codec limits in isoill's code, per node:
DEFAULT-valued components are written (YAZ insists on them) unless ``omit_defaults`` is
asked for; ANY DEFINED BY is resolved wherever it stands; EXTERNALs decode to registered
types; every error carries the byte offset and the component path. Any disagreement between
the ASN.1 and the dataclasses (a component with no field, an enum with other numbers, a
DEFAULT that differs) stops the binder with a message, so the two cannot drift.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date, time
from decimal import Decimal
from typing import Any, Union, get_args, get_origin

from asn1tools.codecs import ber as atb

from isoill.apdu import ber_decode, ber_encode, json_form, schema
from isoill.apdu import types as model
from isoill.apdu.ber import DEFAULT_LIMITS, Limits, tag_key
from isoill.apdu.ber_decode import Decoder
from isoill.apdu.ber_encode import Encoder
from isoill.apdu.enums import ASN1Enum, set_asn1_names
from isoill.apdu.value_rules import (
    EDIFACT_STRING,
    EXTERNAL_TAG,
    GENERAL_STRING,
    constructed,
    text_rules,
)

_NONE: Any = types.NoneType


def python_name(asn1_name: str) -> str:
    """``item-id`` -> ``item_id``; ``iLL-service-type`` -> ``ill_service_type``;
    ``clientDepartment`` -> ``client_department``."""
    if "-" not in asn1_name:
        out = []
        for i, ch in enumerate(asn1_name):
            if (
                ch.isupper()
                and i > 0
                and asn1_name[i - 1].islower()
                and i + 1 < len(asn1_name)
                and asn1_name[i + 1].islower()
            ):
                out.append("_")
            out.append(ch)
        asn1_name = "".join(out)
    return asn1_name.replace("-", "_").lower()


def _same(value: Any) -> Any:
    return value


@dataclasses.dataclass(frozen=True)
class Coder:
    """One node's codec: the tag keys that may start it, BER decoder and encoder, and the
    conversions to and from the plain (JSON) form, which names things as the standard does."""

    tags: frozenset[int]
    decode: Decoder
    encode: Encoder
    what: str
    plain: Callable[[Any], Any] = _same
    unplain: Callable[[Any], Any] = _same
    #: What the node is, for the specialising compiler (:mod:`isoill.apdu.compiled`):
    #: ``("seq", key, cls, members, defined_by)``, ``("explicit", key, inner)``, ... or
    #: None for a node it leaves to the interpreter (OIDs, EXTERNALs, ANYs).
    shape: tuple[Any, ...] | None = None


@dataclasses.dataclass(frozen=True)
class Options:
    charset: str = "utf-8"
    omit_defaults: bool = False
    limits: Limits = DEFAULT_LIMITS


@dataclasses.dataclass(frozen=True)
class Member:
    """A SEQUENCE component: its field, its ASN.1 name, its coder and how it may be absent."""

    field: str
    name: str
    coder: Coder
    required: bool
    default: Any


class Binder:
    """Builds the coders for one set of options (character set, DEFAULT handling, limits)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.externals: dict[str, tuple[type[model.ExternalValue], Coder]] = {}
        self._enum_names: dict[type[ASN1Enum], dict[int, str]] = {}
        self._sequences: dict[tuple[int, type], Coder] = {}
        self._bound: dict[tuple[Any, ...], Coder] = {}

    # --- entry points --------------------------------------------------------------------

    def bind_type(self, type_name: str, pytype: Any) -> Coder:
        module_name, descriptor = schema.type_descriptor(type_name)
        node = schema.compiled_type(type_name)
        return self.bind(node, descriptor, pytype, module_name, type_name)

    def bind_external(self, cls: type[model.ExternalValue]) -> None:
        coder = self.bind_type(cls.asn1_type, cls)
        from isoill.apdu.compiled import CompiledCodec

        # The EXTERNAL's own type gets the specialised code too (OCLC's extension is in most
        # requests); its slow path is the interpreter's, like everywhere else.
        fast = CompiledCodec(coder, self.options.omit_defaults)
        self.externals[cls.oid] = (cls, fast.compiled_coder(coder))

    # --- the walk ------------------------------------------------------------------------

    def bind(self, node: Any, desc: dict[str, Any], pytype: Any, module: str, what: str) -> Coder:
        pytype = _strip_none(pytype)
        # asn1tools compiles every use of a type afresh; binding each use once per distinct
        # (description, tag, Python type, name) keeps the coder tree, and the code the
        # specialiser generates from it, as small as the schema.
        memo_key = (
            module,
            repr({k: v for k, v in desc.items() if k not in ("name", "optional", "default")}),
            bytes(node.tag) if getattr(node, "tag", None) is not None else None,
            type(node),
            pytype,
            what,
        )
        coder = self._bound.get(memo_key)
        if coder is None:
            coder = self._bind(node, desc, pytype, module, what)
            self._bound[memo_key] = coder
        return coder

    def _bind(self, node: Any, desc: dict[str, Any], pytype: Any, module: str, what: str) -> Coder:
        if isinstance(node, atb.ExplicitTag):
            inner = self.bind(node.inner, _untagged(desc), pytype, module, what)
            return _explicit(tag_key(node.tag), inner, what)
        resolved, constraints, chain, module = _resolve(desc, module)
        if "ILL-String" in chain:
            coder = self._ill_string(node, pytype, constraints, what)
        elif "ISO-Date" in chain or "ISO-Time" in chain:
            coder = self._iso_date_time(node, "ISO-Date" in chain, what)
        elif "AmountString" in chain:
            coder = self._amount_string(node, constraints, what)
        elif resolved["type"] == "EXTERNAL":
            coder = self._external(node, what)
        elif isinstance(node, atb.Sequence):
            coder = self._sequence(node, resolved, pytype, module, what)
        elif isinstance(node, atb.SequenceOf):
            coder = self._sequence_of(node, resolved, pytype, constraints, module, what)
        elif isinstance(node, atb.Choice):
            coder = self._choice(node, resolved, pytype, module, what)
        elif isinstance(node, atb.Enumerated):
            coder = self._enumerated(node, pytype, constraints, what)
        elif isinstance(node, atb.Integer):
            coder = self._integer(node, constraints, what)
        elif isinstance(node, atb.Boolean):
            coder = _boolean(tag_key(node.tag), what)
        elif isinstance(node, atb.ObjectIdentifier):
            coder = _object_identifier(tag_key(node.tag), what)
        elif isinstance(node, atb.Null):
            coder = _null(tag_key(node.tag), pytype, what)
        elif isinstance(node, atb.PrintableString | atb.VisibleString):
            coder = self._text(node, constraints, what)
        elif isinstance(node, atb.AnyDefinedBy | atb.Any):
            coder = self._raw_any(what)
        else:  # pragma: no cover - the ILL modules use nothing else
            raise TypeError(f"{what}: no binding for asn1tools node {node!r}")
        return coder

    # --- constructed types ---------------------------------------------------------------

    def _sequence(
        self, node: Any, desc: dict[str, Any], pytype: Any, module: str, what: str
    ) -> Coder:
        if not dataclasses.is_dataclass(pytype):
            raise TypeError(f"{what}: a SEQUENCE needs a dataclass, not {pytype!r}")
        cls: Any = pytype
        memo_key = (id(node), cls)
        if memo_key in self._sequences:
            return self._sequences[memo_key]
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls)}
        members = []
        names: dict[str, str] = {}
        for member_node, member_desc in zip(node.root_members, desc["members"], strict=True):
            asn1_name = member_node.name
            field_name = python_name(asn1_name)
            if field_name not in fields:
                raise TypeError(f"{cls.__name__} has no field {field_name!r} for {asn1_name}")
            names[field_name] = asn1_name
            field_type = hints[field_name]
            coder = self._member(member_node, member_desc, field_type, module, f"{asn1_name}")
            optional = bool(member_desc.get("optional"))
            has_default = "default" in member_desc
            field_default = fields[field_name].default
            if has_default:
                asn1_default = _default_value(member_desc["default"], field_type, coder)
                if field_default != asn1_default:
                    raise TypeError(
                        f"{cls.__name__}.{field_name} defaults to {field_default!r}, "
                        f"the ASN.1 to {asn1_default!r}"
                    )
            elif optional and field_default is not None:
                raise TypeError(f"{cls.__name__}.{field_name}: OPTIONAL field must default to None")
            members.append(
                Member(
                    field_name,
                    asn1_name,
                    coder,
                    required=not optional and not has_default,
                    default=field_default if has_default else dataclasses.MISSING,
                )
            )
        extra = set(fields) - set(names)
        if extra:
            raise TypeError(f"{cls.__name__} has fields the ASN.1 lacks: {sorted(extra)}")
        defined_by = self._any_defined_by(cls, members)
        coder = _sequence_coder(
            tag_key(node.tag), cls, members, self.options.omit_defaults, defined_by, what
        )
        self._sequences[memo_key] = coder
        return coder

    def _member(
        self, node: Any, desc: dict[str, Any], pytype: Any, module: str, what: str
    ) -> Coder:
        return self.bind(node, desc, pytype, module, what)

    def _any_defined_by(
        self, cls: type, members: list[Member]
    ) -> dict[str, tuple[str, dict[Any, Coder]]]:
        """Extension.item: identifier 1 is an EXTERNAL (ILL ASMA clarification 02)."""
        if cls is not model.Extension:
            return {}
        item = next(m for m in members if m.field == "item")
        ext = self._external(None, "item")
        return {"item": ("identifier", {1: _explicit(next(iter(item.coder.tags)), ext, "item")})}

    def _sequence_of(
        self,
        node: Any,
        desc: dict[str, Any],
        pytype: Any,
        constraints: dict[str, Any],
        module: str,
        what: str,
    ) -> Coder:
        wrapper: Any = None
        if dataclasses.is_dataclass(pytype):  # a named value holding the list (SystemNo)
            (only,) = dataclasses.fields(pytype)
            wrapper, pytype = pytype, typing.get_type_hints(pytype)[only.name]
        if get_origin(pytype) is not tuple:
            raise TypeError(f"{what}: a SEQUENCE OF needs tuple[X, ...], not {pytype!r}")
        element_type = get_args(pytype)[0]
        element = self.bind(node.element_type, desc["element"], element_type, module, what)
        size = _size_range(constraints)
        coder = _sequence_of_coder(tag_key(node.tag), element, size, what)
        if wrapper is None:
            return coder
        return _wrapped(coder, wrapper)

    def _choice(
        self, node: Any, desc: dict[str, Any], pytype: Any, module: str, what: str
    ) -> Coder:
        arm_types = _union_args(pytype)
        if len(arm_types) != len(node.members):
            raise TypeError(
                f"{what}: {len(node.members)} alternatives in the ASN.1, "
                f"{len(arm_types)} in {pytype!r}"
            )
        arms = []
        for arm_node, arm_desc, arm_type in zip(
            node.members, desc["members"], arm_types, strict=True
        ):
            arms.append(
                (
                    arm_node.name,
                    arm_type,
                    self.bind(arm_node, arm_desc, arm_type, module, arm_node.name),
                )
            )
        return _choice_coder(arms, what)

    # --- leaves --------------------------------------------------------------------------

    def _ill_string(self, node: Any, pytype: Any, constraints: dict[str, Any], what: str) -> Coder:
        if not isinstance(node, atb.Choice):
            raise TypeError(f"{what}: ILL-String must be the CHOICE")
        size = _size_range(constraints)
        coder = _ill_string_coder(self.options.charset, size, self.options.limits, what)
        if pytype is str:
            return coder
        if dataclasses.is_dataclass(pytype):  # PersonSymbol and its kin
            return _wrapped(coder, pytype)
        raise TypeError(f"{what}: ILL-String needs str, not {pytype!r}")

    def _iso_date_time(self, node: Any, is_date: bool, what: str) -> Coder:
        key = tag_key(node.tag)
        if is_date:
            return _text_coder(
                key,
                model.parse_iso_date,
                model.format_iso_date,
                "ISO-Date",
                (date, str),
                None,
                self.options.limits,
                what,
            )
        return _text_coder(
            key,
            model.parse_iso_time,
            model.format_iso_time,
            "ISO-Time",
            (time, str),
            None,
            self.options.limits,
            what,
        )

    def _amount_string(self, node: Any, constraints: dict[str, Any], what: str) -> Coder:
        def parse(text: str) -> Decimal:
            return model.Amount.parse_monetary_value(text)

        return _text_coder(
            tag_key(node.tag),
            parse,
            model.Amount.format_monetary_value,
            "AmountString",
            (Decimal,),
            None,
            self.options.limits,
            what,
        )

    def _text(self, node: Any, constraints: dict[str, Any], what: str) -> Coder:
        return _text_coder(
            tag_key(node.tag),
            str,
            str,
            node.type_name,
            (str,),
            _size_range(constraints),
            self.options.limits,
            what,
        )

    def _enumerated(self, node: Any, pytype: Any, constraints: dict[str, Any], what: str) -> Coder:
        if not (isinstance(pytype, type) and issubclass(pytype, ASN1Enum)):
            raise TypeError(f"{what}: ENUMERATED needs an ASN1Enum, not {pytype!r}")
        asn1 = dict(node.value_to_data)
        python = {int(member): member.name for member in pytype}
        if set(asn1) != set(python):
            raise TypeError(
                f"{pytype.__name__} has numbers {sorted(python)}, the ASN.1 {sorted(asn1)}"
            )
        known = self._enum_names.setdefault(pytype, asn1)
        if known != asn1:
            raise TypeError(f"{pytype.__name__} is bound to enumerations with other names")
        set_asn1_names(pytype, asn1)
        allowed = constraints.get("x-value-set")
        permitted = frozenset(pytype.from_asn1_name(name) for name in allowed) if allowed else None
        return _enumerated_coder(tag_key(node.tag), pytype, permitted, what)

    def _integer(self, node: Any, constraints: dict[str, Any], what: str) -> Coder:
        bounds = constraints.get("restricted-to")
        value_range = None
        if bounds:
            low, high = bounds[0] if isinstance(bounds[0], tuple) else (bounds[0], bounds[0])
            value_range = (low, high)
        return _integer_coder(tag_key(node.tag), value_range, what)

    def _external(self, node: Any, what: str) -> Coder:
        return _external_coder(self, what)

    def _raw_any(self, what: str) -> Coder:
        # An ANY can start with any tag: the enclosing SEQUENCE places it by position.
        dec = ber_decode.raw_any(self.options.limits)
        return Coder(frozenset(), dec, ber_encode.raw_any, what, *json_form.raw_any(what))


# --- node coders: each job's function for the node, and its shape ------------------------


def _sequence_coder(
    key: int,
    cls: type,
    members: list[Member],
    omit_defaults: bool,
    defined_by: dict[str, tuple[str, dict[Any, Coder]]],
    what: str,
) -> Coder:
    return Coder(
        frozenset((key,)),
        ber_decode.sequence(key, cls, members, defined_by, what),
        ber_encode.sequence(key, cls, members, omit_defaults, defined_by),
        what,
        *json_form.sequence(cls, members, defined_by, what),
        ("seq", key, cls, members, defined_by),
    )


def _sequence_of_coder(key: int, element: Coder, size: tuple[int, int] | None, what: str) -> Coder:
    return Coder(
        frozenset((key,)),
        ber_decode.sequence_of(key, element.decode, size, what),
        ber_encode.sequence_of(key, element.encode, size),
        what,
        *json_form.sequence_of(element.plain, element.unplain, what),
        ("seqof", key, element, size),
    )


def _explicit(key: int, inner: Coder, what: str) -> Coder:
    dec = ber_decode.explicit(key, inner.decode, what)
    if key < 0x100 and inner.shape and inner.shape[0] == "ill_string":
        _kind, charset, size, _max_len = inner.shape
        dec = ber_decode.explicit_ill_string(key, dec, charset, size)
    return Coder(
        frozenset((key,)),
        dec,
        ber_encode.explicit(key, inner.encode),
        what,
        inner.plain,
        inner.unplain,
        ("explicit", key, inner),
    )


def _wrapped(inner: Coder, cls: Any) -> Coder:
    """A dataclass with one field standing for a value of another type (PersonSymbol)."""
    (only,) = dataclasses.fields(cls)
    name = only.name
    return Coder(
        inner.tags,
        ber_decode.wrapped(inner.decode, cls, name),
        ber_encode.wrapped(inner.encode, cls, name),
        inner.what,
        *json_form.wrapped(inner.plain, inner.unplain, cls, name),
        ("wrapped", inner, cls, name),
    )


def _choice_coder(arms: list[tuple[str, Any, Coder]], what: str) -> Coder:
    tags = frozenset(key for _name, _t, coder in arms for key in coder.tags)
    return Coder(
        tags,
        ber_decode.choice(arms, what),
        ber_encode.choice(arms, what),
        what,
        *json_form.choice(arms, what),
        ("choice", arms),
    )


def _ill_string_coder(
    charset: str, size: tuple[int, int] | None, limits: Limits, what: str
) -> Coder:
    tags = frozenset(
        (GENERAL_STRING, EDIFACT_STRING, constructed(GENERAL_STRING), constructed(EDIFACT_STRING))
    )
    return Coder(
        tags,
        ber_decode.ill_string(charset, size, limits),
        ber_encode.ill_string(charset, size),
        what,
        json_form.ill_string_plain,
        json_form.ill_string_unplain,
        ("ill_string", charset, size, limits.max_string_length),
    )


def _text_coder(
    key: int,
    parse: Callable[[str], Any],
    format_: Callable[[Any], str],
    type_name: str,
    accepts: tuple[type, ...],
    size: tuple[int, int] | None,
    limits: Limits,
    what: str,
) -> Coder:
    """VisibleString / PrintableString based types (ISO-Date, ISO-Time, Amount, currency)."""
    convert, written = text_rules(parse, format_, type_name, size)
    return Coder(
        frozenset((key, constructed(key))),
        ber_decode.text(key, convert, type_name, limits),
        ber_encode.text(key, written, accepts, type_name),
        what,
        format_,
        json_form.text_unplain(parse, type_name),
        ("text", key, convert, written, accepts, limits.max_string_length, type_name),
    )


def _integer_coder(key: int, value_range: tuple[int, int] | None, what: str) -> Coder:
    dec = ber_decode.integer(key, value_range, what)
    enc = ber_encode.integer(key, value_range)
    return Coder(frozenset((key,)), dec, enc, what, shape=("int", key, value_range))


def _enumerated_coder(
    key: int, cls: type[ASN1Enum], permitted: frozenset[ASN1Enum] | None, what: str
) -> Coder:
    return Coder(
        frozenset((key,)),
        ber_decode.enumerated(key, cls, permitted, what),
        ber_encode.enumerated(key, cls, permitted),
        what,
        *json_form.enumerated(cls),
        ("enum", key, cls, permitted),
    )


def _boolean(key: int, what: str) -> Coder:
    dec = ber_decode.boolean(key, what)
    return Coder(frozenset((key,)), dec, ber_encode.boolean(key), what, shape=("bool", key))


def _object_identifier(key: int, what: str) -> Coder:
    dec = ber_decode.object_identifier(key, what)
    return Coder(frozenset((key,)), dec, ber_encode.object_identifier(key), what)


def _null(key: int, pytype: Any, what: str) -> Coder:
    return Coder(
        frozenset((key,)),
        ber_decode.null(key, pytype, what),
        ber_encode.null(key, pytype),
        what,
        *json_form.null(pytype),
        ("null", key, pytype),
    )


def _external_coder(binder: Binder, what: str) -> Coder:
    """EXTERNAL: the coders read the binder's registry at call time (registration reaches
    codecs already built)."""
    externals = binder.externals
    return Coder(
        frozenset((EXTERNAL_TAG,)),
        ber_decode.external(externals, binder.options.limits),
        ber_encode.external(externals),
        what,
        *json_form.external(externals),
    )


# --- helpers for the walk ----------------------------------------------------------------

_BUILTIN = {
    "SEQUENCE",
    "SEQUENCE OF",
    "CHOICE",
    "ENUMERATED",
    "INTEGER",
    "BOOLEAN",
    "NULL",
    "OBJECT IDENTIFIER",
    "VisibleString",
    "PrintableString",
    "GeneralString",
    "EXTERNAL",
    "ANY DEFINED BY",
    "ANY",
    "OCTET STRING",
}


def _resolve(
    desc: dict[str, Any], module: str
) -> tuple[dict[str, Any], dict[str, Any], list[str], str]:
    """Follow type references to a built-in type, collecting constraints on the way
    (the outermost wins, as a constraint on a reference narrows the referenced type)."""
    constraints: dict[str, Any] = {}
    chain: list[str] = []
    while True:
        for key in ("size", "restricted-to", "x-value-set"):
            if key in desc and key not in constraints:
                constraints[key] = desc[key]
        type_name = desc["type"]
        if type_name in _BUILTIN:
            return desc, constraints, chain, module
        chain.append(type_name)
        module, desc = schema.type_descriptor(type_name)


def _untagged(desc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in desc.items() if k != "tag"}


def _size_range(constraints: dict[str, Any]) -> tuple[int, int] | None:
    size = constraints.get("size")
    if not size:
        return None
    first = size[0]
    if isinstance(first, tuple):
        low, high = first
        return (int(low), int(high) if high != "MAX" else 1 << 31)
    return (int(first), int(first))


def _strip_none(pytype: Any) -> Any:
    args = _union_args(pytype)
    if len(args) == 1:
        return args[0]
    return Union[tuple(args)]  # noqa: UP007 - rebuilding a union from its parts


def _union_args(pytype: Any) -> list[Any]:
    if get_origin(pytype) in (Union, types.UnionType):
        return [arg for arg in get_args(pytype) if arg is not _NONE]
    return [pytype]


def _default_value(asn1_default: Any, field_type: Any, coder: Coder) -> Any:
    """The ASN.1 DEFAULT as the Python value the dataclass should default to."""
    field_type = _strip_none(field_type)
    if isinstance(field_type, type) and issubclass(field_type, ASN1Enum):
        if isinstance(asn1_default, int):
            return field_type(asn1_default)
        return field_type.from_asn1_name(asn1_default)
    return asn1_default
