"""The BER codec for typed APDUs, built from asn1tools' compiled type tree.

At start-up the binder walks three things in step: asn1tools' BER tree for ILL-APDU (tags,
components, OPTIONAL and DEFAULT), the parsed ASN.1 (SIZE and value constraints) and the
annotations of the dataclasses in :mod:`isoill.apdu.types` / :mod:`isoill.apdu.apdus`. For
every node it makes one small encoder and one decoder function, specialised to that node:
the decoder reads BER straight into the dataclass, the encoder writes the dataclass straight
to BER. There is no intermediate dict, so the typed layer costs nothing; it is faster than
asn1tools' own dict codec (see bench/codec.py).

Doing it this way also settles asn1tools' codec limits in isoill's code, per node:
DEFAULT-valued components are written (YAZ insists on them) unless ``omit_defaults`` is
asked for; ANY DEFINED BY is resolved wherever it stands; EXTERNALs decode to registered
types; every error carries the byte offset and the component path.

Two rules hold for hostile input, because a gateway relays what it decodes. Every read is
bounded by the enclosing definite length, so a value never depends on the bytes after its
parent. And what decodes re-encodes, to bytes that decode to the same value: a value outside
the encoder's rules (SIZE, alphabets, value ranges, version 2 parameters in a version 1 APDU)
is refused at decode with the reason, the offset and the path, unless the model has a way
to keep it byte-identical (ISO-Date text, UnknownExternal). Any disagreement between
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
from functools import cache
from typing import Any, Union, get_args, get_origin

from asn1tools.codecs import ber as atb

from isoill.apdu import apdus as apdu_module
from isoill.apdu import schema
from isoill.apdu import types as model
from isoill.apdu.ber import (
    CONSTRUCTED,
    DEFAULT_LIMITS,
    INDEFINITE,
    Limits,
    decode_oid,
    describe_tag,
    encode_length,
    encode_oid,
    is_end_of_contents,
    overrun,
    read_length,
    read_raw_length,
    read_tag,
    skip_tlv,
    tag_key,
)
from isoill.apdu.enums import ASN1Enum, ILLAPDUType, set_asn1_names
from isoill.apdu.errors import DecodeError, EncodeError, JSONFormError

# A decoder reads the TLV starting at ``off`` (its end bounded by ``limit``) and returns the
# value and the offset after it. An encoder returns the whole TLV.
Decoder = Callable[[bytes, int, int], tuple[Any, int]]
Encoder = Callable[[Any], bytes]

GENERAL_STRING = 0x1B
EDIFACT_STRING = 0x1A  # VisibleString
OCTET_STRING = 0x04
EXTERNAL_TAG = 0x28

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


def _fail(reason: str, off: int) -> DecodeError:
    return DecodeError(reason, off)


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


def _constructed(key: int) -> int:
    """The tag key of the constructed form of a (primitive) tag key."""
    return key | CONSTRUCTED if key < 0x100 else key | (CONSTRUCTED << 24)


def _peek(data: bytes, off: int, limit: int) -> int:
    """The tag key at ``off``, reading nothing at or past ``limit``."""
    if off >= limit:
        raise overrun("where a component should start", off, data, limit)
    first = data[off]
    if first & 0x1F != 0x1F:
        return first
    return read_tag(data, off, limit)[0]


def _shown(text: str) -> str:
    """A peer's text for an error message: its repr, cut short (it may be 64 KiB)."""
    return repr(text) if len(text) <= 40 else repr(text[:40]) + "..."


def _allowed(size: tuple[int, int]) -> str:
    return str(size[0]) if size[0] == size[1] else f"{size[0]} to {size[1]}"


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
    #: None for a node it leaves to this interpreter (OIDs, EXTERNALs, ANYs).
    shape: tuple[Any, ...] | None = None


@dataclasses.dataclass(frozen=True)
class Options:
    charset: str = "utf-8"
    omit_defaults: bool = False
    limits: Limits = DEFAULT_LIMITS


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
                _Member(
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
        self, cls: type, members: list[_Member]
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
        limits = self.options.limits

        def dec(data: bytes, off: int, limit: int) -> tuple[bytes, int]:
            end = skip_tlv(data, off, limit, limits)
            return data[off:end], end

        def enc(value: Any) -> bytes:
            if not isinstance(value, bytes):
                raise EncodeError(f"expected raw BER bytes, got {type(value).__name__}")
            return value

        def unplain(value: Any) -> bytes:
            return bytes.fromhex(_expect_key(value, "ber", what))

        # An ANY can start with any tag: the enclosing SEQUENCE places it by position.
        return Coder(frozenset(), dec, enc, what, lambda v: {"ber": v.hex()}, unplain)


# --- node coders -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Member:
    field: str
    name: str
    coder: Coder
    required: bool
    default: Any


def _sequence_coder(
    key: int,
    cls: type,
    members: list[_Member],
    omit_defaults: bool,
    defined_by: dict[str, tuple[str, dict[Any, Coder]]],
    what: str,
) -> Coder:
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
        while True:
            if end == INDEFINITE:
                if is_end_of_contents(data, p, inner_limit):
                    p += 2
                    break
            elif p >= end:
                break
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
        if next_required[i] < count:
            raise DecodeError(f"missing mandatory component {names[next_required[i]]}", p)
        return obj, p

    encode_plan = [
        (
            m.field,
            m.name,
            m.coder.encode,
            m.required,
            m.default,
            defined_by.get(m.field),
        )
        for m in members
    ]
    tag = bytes(_encode_key(key))

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

    shape = ("seq", key, cls, members, defined_by)
    return Coder(frozenset((key,)), dec, enc, what, plain, unplain, shape)


def _expect_key(value: Any, key: str, what: str) -> Any:
    if not isinstance(value, dict) or key not in value:
        raise EncodeError(f"expected an object with {key!r} for {what}")
    return value[key]


def _sequence_of_coder(key: int, element: Coder, size: tuple[int, int] | None, what: str) -> Coder:
    element_decode = element.decode
    element_encode = element.encode
    tag = _encode_key(key)

    def dec(data: bytes, off: int, limit: int) -> tuple[tuple[Any, ...], int]:
        end, p = _header(data, off, limit, key, what)
        inner_limit = limit if end == INDEFINITE else end
        items: list[Any] = []
        while True:
            if end == INDEFINITE:
                if is_end_of_contents(data, p, inner_limit):
                    p += 2
                    break
            elif p >= end:
                break
            try:
                item, p = element_decode(data, p, inner_limit)
            except DecodeError as err:
                err.path.insert(0, f"[{len(items)}]")
                raise
            items.append(item)
        if size is not None and not size[0] <= len(items) <= size[1]:
            raise DecodeError(
                f"{len(items)} entries; the standard allows {size[0]} to {size[1]}", off
            )
        return tuple(items), p

    def enc(value: Any) -> bytes:
        if not isinstance(value, tuple | list):
            raise EncodeError(f"expected a tuple, got {type(value).__name__}")
        if size is not None and not size[0] <= len(value) <= size[1]:
            raise EncodeError(f"{len(value)} entries; the standard allows {size[0]} to {size[1]}")
        parts = []
        for index, item in enumerate(value):
            try:
                parts.append(element_encode(item))
            except EncodeError as err:
                err.path.insert(0, f"[{index}]")
                raise
        content = b"".join(parts)
        return tag + encode_length(len(content)) + content

    element_plain = element.plain
    element_unplain = element.unplain

    def unplain(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list):
            raise EncodeError(f"expected a list for {what}, got {type(value).__name__}")
        out = []
        for index, item in enumerate(value):
            try:
                out.append(element_unplain(item))
            except EncodeError as err:
                err.path.insert(0, f"[{index}]")
                raise
        return tuple(out)

    plain = lambda v: [element_plain(x) for x in v]  # noqa: E731
    return Coder(frozenset((key,)), dec, enc, what, plain, unplain, ("seqof", key, element, size))


def _explicit(key: int, inner: Coder, what: str, fuse: bool = True) -> Coder:
    if fuse and key < 0x100 and getattr(inner.decode, "ill_string", None) is not None:
        return _explicit_ill_string(key, inner, what)
    inner_decode = inner.decode
    inner_encode = inner.encode
    tag = _encode_key(key)

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

    def enc(value: Any) -> bytes:
        content = inner_encode(value)
        return tag + encode_length(len(content)) + content

    return Coder(
        frozenset((key,)), dec, enc, what, inner.plain, inner.unplain, ("explicit", key, inner)
    )


def _explicit_ill_string(key: int, inner: Coder, what: str) -> Coder:
    """``[n] ILL-String`` is most of an APDU's components: one function reads the tag, the
    string's tag and both lengths when they take the short forms, and hands anything else
    to the general path."""
    general = _explicit(key, inner, what, fuse=False)
    slow = general.decode
    charset = getattr(inner.decode, "ill_string")  # noqa: B009
    low, high = getattr(inner.decode, "ill_string_size") or (0, 1 << 31)  # noqa: B009

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

    return dataclasses.replace(general, decode=dec)


def _wrapped(inner: Coder, cls: Any) -> Coder:
    """A dataclass with one field standing for a value of another type (PersonSymbol)."""
    (only,) = dataclasses.fields(cls)
    name = only.name
    inner_decode = inner.decode
    inner_encode = inner.encode

    def dec(data: bytes, off: int, limit: int) -> tuple[Any, int]:
        value, p = inner_decode(data, off, limit)
        return cls(**{name: value}), p

    def enc(value: Any) -> bytes:
        if type(value) is not cls:
            raise EncodeError(f"expected {cls.__name__}, got {type(value).__name__}")
        return inner_encode(getattr(value, name))

    inner_plain = inner.plain
    inner_unplain = inner.unplain
    return Coder(
        inner.tags,
        dec,
        enc,
        inner.what,
        lambda v: inner_plain(getattr(v, name)),
        lambda v: cls(**{name: inner_unplain(v)}),
        ("wrapped", inner, cls, name),
    )


def _choice_coder(arms: list[tuple[str, Any, Coder]], what: str) -> Coder:
    by_tag: dict[int, tuple[str, Decoder]] = {}
    by_type: dict[Any, tuple[str, Encoder]] = {}
    plain_by_type: dict[Any, tuple[str, Callable[[Any], Any]]] = {}
    unplain_by_name = {name: coder.unplain for name, _t, coder in arms}
    for name, arm_type, coder in arms:
        for key in coder.tags:
            by_tag[key] = (name, coder.decode)
        origin = get_origin(arm_type) or arm_type
        if origin in by_type:
            raise TypeError(f"{what}: two alternatives are both {origin!r}")
        by_type[origin] = (name, coder.encode)
        plain_by_type[origin] = (name, coder.plain)
        if origin is str:
            by_type[model.EDIFACTString] = (name, coder.encode)
            plain_by_type[model.EDIFACTString] = (name, coder.plain)
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

    return Coder(frozenset(by_tag), dec, enc, what, plain, unplain, ("choice", arms))


def _ill_string_coder(
    charset: str, size: tuple[int, int] | None, limits: Limits, what: str
) -> Coder:
    max_len = limits.max_string_length
    general = bytes((GENERAL_STRING,))
    edifact = bytes((EDIFACT_STRING,))

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
                f"{len(text)} characters ({_shown(text)}); the standard allows {_allowed(size)}",
                off,
            )
        return text, end

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

    def plain(value: str) -> Any:
        if type(value) is model.EDIFACTString:
            return {"EDIFACTString": str(value)}
        return value

    def unplain(value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("EDIFACTString"), str):
            return model.EDIFACTString(value["EDIFACTString"])
        raise EncodeError(f'expected str (or {{"EDIFACTString": str}}), got {type(value).__name__}')

    dec.ill_string = charset  # type: ignore[attr-defined]  # lets [n] ILL-String fuse
    dec.ill_string_size = size  # type: ignore[attr-defined]

    tags = frozenset(
        (GENERAL_STRING, EDIFACT_STRING, GENERAL_STRING | CONSTRUCTED, EDIFACT_STRING | CONSTRUCTED)
    )
    return Coder(tags, dec, enc, what, plain, unplain, ("ill_string", charset, size, max_len))


def _segments(data: bytes, off: int, limit: int, limits: Limits) -> tuple[bytes, int]:
    """A constructed string's content: the concatenated primitive segments."""
    key, p = read_tag(data, off, limit)
    end, p = read_length(data, p, True, limit)
    inner_limit = limit if end == INDEFINITE else end
    pieces = []
    total = 0
    while True:
        if end == INDEFINITE:
            if is_end_of_contents(data, p, inner_limit):
                p += 2
                break
        elif p >= end:
            break
        seg_key, q = read_tag(data, p, inner_limit)
        if seg_key not in (OCTET_STRING, key & ~CONSTRUCTED):
            raise DecodeError(f"string segment with tag {describe_tag(seg_key)}", p)
        seg_end, q = read_length(data, q, False, inner_limit)
        total += seg_end - q
        if total > limits.max_string_length:
            raise DecodeError(f"string exceeds the limit of {limits.max_string_length} bytes", off)
        pieces.append(data[q:seg_end])
        p = seg_end
    return b"".join(pieces), p


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
    tag = _encode_key(key)
    max_len = limits.max_string_length

    constructed_key = _constructed(key)

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

    def convert(raw: bytes) -> Any:
        """The value of the content octets; ValueError with the reason if there is none."""
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError(f"{type_name} holds a non-ASCII byte") from None
        value = parse(text)
        # What the encoder would write for this value must pass the encoder's own
        # checks: a currency code of 4 letters, or an amount whose plain decimal
        # form is longer than AmountString allows ("1E+20"), is refused here with the
        # reason instead of decoding to a value that cannot be sent on.
        written(value)
        return value

    def written(value: Any) -> str:
        """The text the encoder writes for ``value``; ValueError with the reason if none."""
        text = format_(value)
        if size is not None and not size[0] <= len(text) <= size[1]:
            raise ValueError(
                f"{len(text)} characters ({_shown(text)}); the standard allows {_allowed(size)}"
            )
        if not text.isascii():
            raise ValueError(f"{_shown(text)} is not ASCII, as {type_name} must be")
        return text

    def enc(value: Any) -> bytes:
        if not isinstance(value, accepts):
            raise EncodeError(f"expected {type_name}, got {type(value).__name__}")
        try:
            raw = written(value).encode("ascii")
        except ValueError as err:
            raise EncodeError(str(err)) from None
        return tag + encode_length(len(raw)) + raw

    def unplain(value: Any) -> Any:
        if not isinstance(value, str):
            raise EncodeError(f"expected a string for {type_name}, got {type(value).__name__}")
        return parse(value)

    shape = ("text", key, convert, written, accepts, max_len, type_name)
    return Coder(frozenset((key, constructed_key)), dec, enc, what, format_, unplain, shape)


def _primitive(data: bytes, off: int, limit: int, key: int, what: str) -> tuple[bytes, int, int]:
    end, p = _header(data, off, limit, key, what)
    return data[p:end], p, end


def _integer_coder(key: int, value_range: tuple[int, int] | None, what: str) -> Coder:
    tag = _encode_key(key)

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

    def enc(value: Any) -> bytes:
        if type(value) is bool or not isinstance(value, int):
            raise EncodeError(f"expected an integer, got {type(value).__name__}")
        if value_range is not None and not value_range[0] <= value <= value_range[1]:
            raise EncodeError(f"{value} is outside {value_range[0]}..{value_range[1]}")
        return tag + _integer_content(int(value))

    return Coder(frozenset((key,)), dec, enc, what, shape=("int", key, value_range))


def _integer_content(value: int) -> bytes:
    raw = value.to_bytes((value.bit_length() + 8) // 8, "big", signed=True)
    return encode_length(len(raw)) + raw


def _enumerated_coder(
    key: int, cls: type[ASN1Enum], permitted: frozenset[ASN1Enum] | None, what: str
) -> Coder:
    tag = _encode_key(key)
    members = {int(m): m for m in cls}
    encoded = {m: tag + _integer_content(int(m)) for m in cls}
    names = ", ".join(f"{m.asn1_name} ({int(m)})" for m in cls)
    allowed = " or ".join(m.asn1_name for m in sorted(permitted or (), key=int))

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

    def unplain(value: Any) -> ASN1Enum:
        if not isinstance(value, str):
            raise EncodeError(f"expected a {cls.__name__} name, got {value!r}")
        try:
            return cls.from_asn1_name(value)
        except ValueError as err:
            raise EncodeError(str(err)) from None

    shape = ("enum", key, cls, permitted)
    return Coder(frozenset((key,)), dec, enc, what, lambda v: v.asn1_name, unplain, shape)


def _boolean(key: int, what: str) -> Coder:
    true, false = _encode_key(key) + b"\x01\xff", _encode_key(key) + b"\x01\x00"

    def dec(data: bytes, off: int, limit: int) -> tuple[bool, int]:
        content, _p, end = _primitive(data, off, limit, key, what)
        if len(content) != 1:
            raise DecodeError(f"BOOLEAN with {len(content)} content octets", off)
        return content[0] != 0, end

    def enc(value: Any) -> bytes:
        if type(value) is not bool:
            raise EncodeError(f"expected a bool, got {type(value).__name__}")
        return true if value else false

    return Coder(frozenset((key,)), dec, enc, what, shape=("bool", key))


def _object_identifier(key: int, what: str) -> Coder:
    tag = _encode_key(key)

    def dec(data: bytes, off: int, limit: int) -> tuple[str, int]:
        content, p, end = _primitive(data, off, limit, key, what)
        return decode_oid(content, p), end

    def enc(value: Any) -> bytes:
        if not isinstance(value, str):
            raise EncodeError(f"expected a dotted OID string, got {type(value).__name__}")
        raw = encode_oid(value)
        return tag + encode_length(len(raw)) + raw

    return Coder(frozenset((key,)), dec, enc, what)


def _null(key: int, pytype: Any, what: str) -> Coder:
    tag = _encode_key(key) + b"\x00"

    def dec(data: bytes, off: int, limit: int) -> tuple[Any, int]:
        content, _p, end = _primitive(data, off, limit, key, what)
        if content:
            raise DecodeError("NULL with content octets", off)
        return pytype(), end

    def enc(value: Any) -> bytes:
        if type(value) is not pytype:
            raise EncodeError(f"expected {pytype.__name__}, got {type(value).__name__}")
        return tag

    shape = ("null", key, pytype)
    return Coder(frozenset((key,)), dec, enc, what, lambda v: None, lambda v: pytype(), shape)


def _external_coder(binder: Binder, what: str) -> Coder:
    """EXTERNAL: typed when its direct-reference is registered and it carries a
    single-ASN1-type and nothing else; otherwise the exact bytes, re-sent unchanged."""
    limits = binder.options.limits
    externals = binder.externals

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

    return Coder(frozenset((EXTERNAL_TAG,)), dec, enc, what, plain, unplain)


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


def _encode_key(key: int) -> bytes:
    from isoill.apdu.ber import encode_tag_key

    return encode_tag_key(key)


# --- the codec ---------------------------------------------------------------------------


class Codec:
    """Typed BER encoder and decoder for ILL APDUs, for one set of options."""

    def __init__(self, options: Options = Options()) -> None:
        self.options = options
        binder = Binder(options)
        from isoill.apdu import externals

        externals.attach(binder)
        self._apdu = binder.bind_type("ILL-APDU", apdu_module.APDU)
        self._binder = binder
        from isoill.apdu.compiled import CompiledCodec

        self.compiled = CompiledCodec(self._apdu, options.omit_defaults)
        self._decode_apdu = self.compiled.decode
        self._encode_apdu = self.compiled.encode

    def decode_prefix(self, data: bytes, offset: int = 0) -> tuple[apdu_module.APDU, int]:
        """Decode the APDU starting at ``offset``; return it and the offset after it.

        Raises :class:`IncompleteAPDU` when the data stops early (more bytes may follow on a
        stream) and :class:`DecodeError` for anything else that is wrong.
        """
        data = bytes(data)
        max_size = self.options.limits.max_apdu_size
        _key, length_at = read_tag(data, offset)
        length, p = read_raw_length(data, length_at, True)
        if length != INDEFINITE and p + length - offset > max_size:
            raise DecodeError(
                f"APDU of {p + length - offset} bytes exceeds the size limit of {max_size}",
                length_at,
            )
        limit = min(len(data), offset + max_size)
        try:
            value, end = self._decode_apdu(data, offset, limit)
        except DecodeError as err:
            _name_apdu(err.path)
            raise
        except (IndexError, RecursionError) as err:  # belt and braces: never a bare crash
            raise DecodeError(f"malformed encoding ({type(err).__name__})", offset) from err
        if getattr(value, "protocol_version_num", None) == 1:
            # A version 1 APDU carrying a version 2 parameter is refused as the encoder
            # refuses to write one: the peer contradicts itself, and relaying it would send
            # a version 1 partner something it cannot know.
            problem = version_2_only(value)
            if problem:
                raise DecodeError(
                    "present, but only protocol version 2 has it (protocol-version-num is 1)",
                    offset,
                    [APDU_TYPE_NAME_BY_CLASS[type(value)], *problem],
                )
        return value, end

    def decode(self, data: bytes) -> apdu_module.APDU:
        """Decode exactly one APDU; trailing bytes are an error (use
        :class:`isoill.StreamDecoder` or :meth:`decode_all` for several)."""
        data = bytes(data)
        if len(data) > self.options.limits.max_apdu_size:
            raise DecodeError(
                f"{len(data)} bytes exceeds the APDU size limit of "
                f"{self.options.limits.max_apdu_size}",
                0,
            )
        value, end = self.decode_prefix(data)
        if end != len(data):
            raise DecodeError(f"{len(data) - end} bytes after the end of the APDU", end)
        return value

    def decode_all(self, data: bytes) -> list[apdu_module.APDU]:
        """Decode concatenated APDUs (a capture, a trace file)."""
        data = bytes(data)
        out = []
        offset = 0
        while offset < len(data):
            value, offset = self.decode_prefix(data, offset)
            out.append(value)
        return out

    def encode(self, apdu: apdu_module.APDU, *, tcp_safe: bool = True) -> bytes:
        """Encode one APDU.

        With ``tcp_safe`` (the default) the outermost length is written in long form when
        the first four octets would otherwise all be printable ASCII, which YAZ's TCP layer
        mistakes for HTTP (it then waits for a header end that never comes).

        A protocol version 1 APDU may not carry the parameters version 2 added; encoding
        one that does is refused, naming the parameter.
        """
        if getattr(apdu, "protocol_version_num", None) == 1:
            problem = version_2_only(apdu)
            if problem:
                raise EncodeError(
                    "present, but only protocol version 2 has it (protocol-version-num is 1)",
                    [APDU_TYPE_NAME_BY_CLASS[type(apdu)], *problem],
                )
        try:
            encoded = self._encode_apdu(apdu)
        except EncodeError as err:
            _name_apdu(err.path)
            raise
        if tcp_safe and all(0x20 <= octet <= 0x7E for octet in encoded[:4]):
            encoded = _long_form_outer(encoded)
        return encoded

    def to_plain(self, apdu: apdu_module.APDU) -> dict[str, Any]:
        """The APDU as JSON-ready data with the standard's names:
        ``{"ill-request": {"transaction-id": {...}, "iLL-service-type": ["loan"], ...}}``.
        Dates and amounts appear as on the wire; unknown extensions as hex BER."""
        try:
            result: dict[str, Any] = self._apdu.plain(apdu)
        except EncodeError as err:
            _name_apdu(err.path)
            raise
        return result

    def from_plain(self, value: Any) -> apdu_module.APDU:
        """The inverse of :meth:`to_plain`; errors name the component.

        Whatever is wrong with ``value`` (it comes from outside: a file, a web form, a
        stored transaction) is a :class:`JSONFormError`, never a bare TypeError or
        ValueError from deep inside.
        """
        try:
            result: apdu_module.APDU = self._apdu.unplain(value)
        except EncodeError as err:
            _name_apdu(err.path)
            if isinstance(err, JSONFormError):
                raise
            raise JSONFormError(err.reason, err.path) from err
        except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as err:
            raise JSONFormError(f"not an APDU's JSON form ({type(err).__name__}: {err})") from err
        return result


def version_2_only(apdu: Any) -> list[str]:
    """Path of the first parameter of ``apdu`` that protocol version 1 does not have
    (the standard's comments on electronic-delivery, proposed-delivery-service and
    damaged-details), or [] if there is none."""
    if isinstance(apdu, apdu_module.ILLRequest) and isinstance(apdu.delivery_service, tuple):
        return ["delivery-service", "electronic-delivery"]
    if isinstance(apdu, apdu_module.Shipped) and isinstance(
        apdu.supply_details.shipped_via, model.ElectronicDeliveryService
    ):
        return ["supply-details", "shipped-via", "electronic-delivery"]
    if (
        isinstance(apdu, apdu_module.ILLAnswer)
        and isinstance(apdu.results_explanation, model.ConditionalResults)
        and apdu.results_explanation.proposed_delivery_service is not None
    ):
        return ["results-explanation", "conditional-results", "proposed-delivery-service"]
    if isinstance(apdu, apdu_module.Damaged) and apdu.damaged_details is not None:
        return ["damaged-details"]
    return []


#: The standard's type name of each APDU, by its ILL-APDU alternative name (derived from
#: :class:`~isoill.apdu.enums.ILLAPDUType`, the one table of APDU names).
APDU_TYPE_NAMES = {t.type_name.lower(): t.type_name for t in ILLAPDUType}


APDU_TYPE_NAME_BY_CLASS: dict[type, str] = {
    cls: cls.apdu_type.type_name for cls in apdu_module.APDU_CLASSES
}


def _name_apdu(path: list[str]) -> None:
    """Paths start at the APDU's type name (ILL-Request.item-id), not its CHOICE arm."""
    if path and path[0] in APDU_TYPE_NAMES:
        path[0] = APDU_TYPE_NAMES[path[0]]


def _long_form_outer(encoded: bytes) -> bytes:
    """Rewrite the outermost definite short length as the two-octet long form (0x81 n)."""
    _key, p = read_tag(encoded, 0)
    length = encoded[p]
    if length >= 0x80:
        return encoded
    return encoded[:p] + bytes((0x81, length)) + encoded[p + 1 :]


def get_codec(
    charset: str = "utf-8", omit_defaults: bool = False, limits: Limits = DEFAULT_LIMITS
) -> Codec:
    """The shared codec for these options. Building one takes a tenth of a second or more
    (it generates and compiles code for every type), so it is built once per set of options
    however they are passed (``get_codec()`` and ``get_codec(charset="utf-8")`` are one);
    a server builds its codecs before it listens."""
    return _codec_for(Options(charset=charset, omit_defaults=omit_defaults, limits=limits))


@cache
def _codec_for(options: Options) -> Codec:
    return Codec(options)
