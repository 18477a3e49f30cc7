"""Hypothesis strategies for every APDU and shared type, for isoill's tests and yours.

``apdus()`` draws any of the 20 APDUs; ``for_type(cls)`` any value of a model class. Every
value drawn is one the encoder accepts (SIZE constraints, the EDIFACTString alphabet,
Shipped-Service-Type's two values, amounts of at most ten characters ...), and survives a
round trip unchanged: dates that are not YYYYMMDD are drawn as text that does not look like
one, so that decoding cannot turn them into ``date`` objects.

Strategies are derived from the dataclasses' annotations, so a field added to the model is
drawn without anyone touching this module; only constrained fields are listed here.
"""

from __future__ import annotations

import dataclasses
import random
import types
import typing
from datetime import date, time
from decimal import Decimal
from functools import cache
from typing import Any, Union, get_args, get_origin

from hypothesis import strategies as st

from isoill.apdu import apdus as apdu_module
from isoill.apdu import types as model
from isoill.apdu.ber import encode_length, encode_oid
from isoill.apdu.codec import version_2_only
from isoill.apdu.enums import ASN1Enum, ILLServiceType

__all__ = ["apdus", "for_type", "ill_strings", "mutants", "mutate"]

_SHIPPED = st.sampled_from([ILLServiceType.LOAN, ILLServiceType.COPY_NON_RETURNABLE])


def ill_strings(min_size: int = 1, max_size: int = 24) -> st.SearchStrategy[str]:
    """ILL-Strings as the standard wants them: not blank, no leading or trailing space.
    Mostly any Unicode (GeneralString, UTF-8 by default), sometimes an EDIFACTString."""
    general = st.text(
        alphabet=st.characters(exclude_categories=("Cs", "Cc", "Zl", "Zp")),
        min_size=min_size,
        max_size=max_size,
    )
    edifact = st.text(
        alphabet=sorted(model.EDIFACT_ALPHABET), min_size=min_size, max_size=max_size
    ).map(model.EDIFACTString)
    strings: st.SearchStrategy[str] = st.one_of(general, general, general, edifact)
    return strings.filter(lambda s: s == s.strip() and bool(s.strip()))


def _fixed_size(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789X", min_size=size, max_size=size)


_ISO_DATES = st.one_of(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)),
    # Text a lenient peer might send; kept as is, never parsed as a date.
    st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)).map(lambda d: d.isoformat()),
)
_ISO_TIMES = st.one_of(
    st.times().map(lambda t: t.replace(microsecond=0, tzinfo=None)),
    st.times().map(lambda t: t.strftime("%H:%M")),
)
_MONEY = st.decimals(
    min_value=Decimal(0), max_value=Decimal("9999999.99"), places=2, allow_nan=False
)
# YAZ stores OID arcs in a C short and crashes on an arc above 32767 (and refuses more
# than 19 arcs); every registered ILL OID is far inside that, so draw within it.
_OIDS = st.lists(st.integers(0, 32767), min_size=1, max_size=5).map(
    lambda arcs: "1.2." + ".".join(str(a) for a in arcs)
)


def _raw_tlv() -> st.SearchStrategy[bytes]:
    """Raw BER for an ANY: an OCTET STRING or a small SEQUENCE of them."""
    octets = st.binary(max_size=40).map(lambda b: b"\x04" + encode_length(len(b)) + b)

    def sequence(items: list[bytes]) -> bytes:
        content = b"".join(items)
        return b"\x30" + encode_length(len(content)) + content

    return st.one_of(octets, st.lists(octets, max_size=3).map(sequence))


def _unknown_external() -> st.SearchStrategy[model.UnknownExternal]:
    def build(oid: str, inner: bytes) -> model.UnknownExternal:
        oid_bytes = encode_oid(oid)
        single = b"\xa0" + encode_length(len(inner)) + inner
        content = b"\x06" + encode_length(len(oid_bytes)) + oid_bytes + single
        return model.UnknownExternal(
            direct_reference=oid, ber=b"\x28" + encode_length(len(content)) + content
        )

    return st.builds(build, _OIDS, _raw_tlv())


def _externals() -> st.SearchStrategy[Any]:
    return st.one_of(
        for_type(model.OCLCILLRequestExtension),
        for_type(model.SystemNo),
        _unknown_external(),
    )


def _extensions() -> st.SearchStrategy[model.Extension]:
    implementor = st.builds(
        model.Extension, identifier=st.just(1), item=_externals(), critical=st.booleans()
    )
    other = st.builds(
        model.Extension, identifier=st.integers(2, 1000), item=_raw_tlv(), critical=st.booleans()
    )
    return st.one_of(implementor, other)


# (class, field) -> strategy, for fields the ASN.1 constrains beyond their type.
_CONSTRAINED: dict[tuple[type, str], st.SearchStrategy[Any]] = {
    (model.ItemId, "isbn"): _fixed_size(10),
    (model.ItemId, "issn"): _fixed_size(8),
    (model.SearchType, "level_of_service"): st.sampled_from(list("ABCDEFGHIJ")),
    (model.SystemNoEntry, "record_no"): ill_strings(1, 50),
    (model.Amount, "currency_code"): st.sampled_from(["USD", "JPY", "CNY", "EUR", "GBP", "CAD"]),
    (model.Amount, "monetary_value"): _MONEY,
    (model.SupplyDetails, "chargeable_units"): st.integers(1, 9999),
    (model.UnitsPerMediumType, "no_of_units"): st.integers(1, 9999),
    (apdu_module.Shipped, "shipped_service_type"): _SHIPPED,
    (apdu_module.Received, "shipped_service_type"): _SHIPPED,
    (model.HistoryReport, "shipped_service_type"): _SHIPPED,
    (model.EDeliveryService, "e_delivery_mode"): _OIDS,
    (model.DocumentType, "document_type_id"): _OIDS,
    (model.DamagedDetails, "document_type_id"): _OIDS,
    (model.Extension, "identifier"): st.integers(1, 1000),
}


def _sized_tuples(cls: type, field: str, element: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    sizes = {
        (apdu_module.ILLRequest, "ill_service_type"): (1, 5),
        (apdu_module.ILLRequest, "supply_medium_info_type"): (1, 7),
        (model.SystemNo, "entries"): (1, 10),
    }
    low, high = sizes.get((cls, field), (0, 3))
    return st.lists(element, min_size=low, max_size=high).map(tuple)


@cache
def for_type(cls: Any) -> st.SearchStrategy[Any]:
    """Any value of a model dataclass (APDU or shared type) that the encoder accepts."""
    if cls is model.Extension:
        return _extensions()
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, st.SearchStrategy[Any]] = {}
    for f in dataclasses.fields(cls):
        annotation = hints[f.name]
        optional = _NONE in get_args(annotation) if _is_union(annotation) else False
        strategy = _CONSTRAINED.get((cls, f.name))
        if strategy is None:
            strategy = _for_annotation(_without_none(annotation), cls, f.name)
        if cls in apdu_module.APDU_CLASSES and f.name == "protocol_version_num":
            strategy = st.sampled_from([1, 2])
        kwargs[f.name] = st.one_of(st.none(), strategy) if optional else strategy
    built = st.builds(cls, **kwargs)
    return built.map(_version_consistent) if cls in apdu_module.APDU_CLASSES else built


_NONE: Any = types.NoneType


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _without_none(annotation: Any) -> Any:
    if not _is_union(annotation):
        return annotation
    args = [a for a in get_args(annotation) if a is not _NONE]
    return args[0] if len(args) == 1 else Union[tuple(args)]  # noqa: UP007


def _for_annotation(annotation: Any, cls: type, field: str) -> st.SearchStrategy[Any]:
    if annotation == model.ISODate:
        return _ISO_DATES
    if annotation == model.ISOTime:
        return _ISO_TIMES
    if annotation == model.External:
        return _externals()
    if annotation == (model.External | bytes):
        return st.one_of(_externals(), _raw_tlv())
    if _is_union(annotation):
        return st.one_of([_for_annotation(arm, cls, field) for arm in get_args(annotation)])
    if get_origin(annotation) is tuple:
        element = get_args(annotation)[0]
        return _sized_tuples(cls, field, _for_annotation(element, cls, field))
    if annotation is str:
        return ill_strings()
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(-(2**31), 2**31 - 1)
    if annotation is bytes:
        return _raw_tlv()
    if annotation is Decimal:
        return _MONEY
    if annotation is date:
        return st.dates()
    if annotation is time:
        return st.times().map(lambda t: t.replace(microsecond=0, tzinfo=None))
    if isinstance(annotation, type) and issubclass(annotation, ASN1Enum):
        return st.sampled_from(list(annotation))
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return for_type(annotation)
    raise TypeError(f"no strategy for {annotation!r} ({cls.__name__}.{field})")


def apdus() -> st.SearchStrategy[apdu_module.APDU]:
    """Any of the 20 APDUs."""
    classes: list[Any] = list(apdu_module.APDU_CLASSES)
    return st.one_of([for_type(cls) for cls in classes])


def _version_consistent(apdu: Any) -> Any:
    """Version 1 APDUs drawn with a version 2 parameter become version 2 APDUs."""
    if apdu.protocol_version_num == 1 and version_2_only(apdu):
        return dataclasses.replace(apdu, protocol_version_num=2)
    return apdu


# --- mutants: hostile variations of valid encodings ----------------------------------------

#: Octet values that mean something to a BER reader: end-of-contents, the indefinite-length
#: octet, long-form length prefixes, the constructed bit, common string and sequence tags.
_INTERESTING_OCTETS: tuple[int, ...] = (
    *(0x00, 0x01, 0x02, 0x7F, 0x80, 0x81, 0x84, 0xFF, 0x20, 0x30, 0xA0),
    *(0x1A, 0x1B, 0x04, 0x06, 0x28, 0x41, 0x23, 0x7E, 0x1F),
)


@dataclasses.dataclass
class _Node:
    """One TLV of a parsed encoding: primitive (``content``) or constructed (``children``).
    ``length_form`` is how its length is written back: "definite", "indefinite", or
    "unclosed" (indefinite without the end-of-contents octets, a malformed shape that a
    careless decoder resolves by reading past the enclosing encoding)."""

    tag: bytes
    content: bytes | None
    children: list[_Node]
    length_form: str = "definite"

    def clone(self) -> _Node:
        children = [child.clone() for child in self.children]
        return _Node(self.tag, self.content, children, self.length_form)

    def write(self) -> bytes:
        if self.content is not None:
            return self.tag + encode_length(len(self.content)) + self.content
        inner = b"".join(child.write() for child in self.children)
        if self.length_form == "indefinite":
            return self.tag + b"\x80" + inner + b"\x00\x00"
        if self.length_form == "unclosed":
            return self.tag + b"\x80" + inner
        return self.tag + encode_length(len(inner)) + inner


def _parse_tlvs(data: bytes, off: int, end: int) -> tuple[list[_Node], int]:
    """Well-formed BER (definite or indefinite) into nodes; ValueError if it is not."""
    nodes: list[_Node] = []
    while off < end:
        if data[off] == 0 and data[off + 1 : off + 2] == b"\x00":
            return nodes, off + 2
        start = off
        first = data[off]
        off += 1
        if first & 0x1F == 0x1F:
            while off < end and data[off] & 0x80:
                off += 1
            off += 1
        tag = data[start:off]
        if off >= end:
            raise ValueError("truncated")
        length = data[off]
        off += 1
        if length == 0x80:
            children, off = _parse_tlvs(data, off, end)
            nodes.append(_Node(tag, None, children, "indefinite"))
            continue
        if length > 0x80:
            count = length & 0x7F
            length = int.from_bytes(data[off : off + count], "big")
            off += count
        if off + length > end:
            raise ValueError("truncated")
        if first & 0x20:
            children, _ = _parse_tlvs(data, off, off + length)
            nodes.append(_Node(tag, None, children))
        else:
            nodes.append(_Node(tag, data[off : off + length], []))
        off += length
    return nodes, off


def _all_nodes(node: _Node) -> list[_Node]:
    out = [node]
    for child in node.children:
        out.extend(_all_nodes(child))
    return out


def _flip_tag(node: _Node, rng: random.Random) -> None:
    tag = bytearray(node.tag)
    tag[0] ^= 1 << rng.randrange(8)
    if tag[0] & 0x1F == 0x1F and len(tag) == 1:
        tag.append(rng.randrange(0x80))  # a high tag number needs its octet
    node.tag = bytes(tag)
    if tag[0] & 0x20 and node.content is not None:  # now constructed: parse what it held
        try:
            node.children, _ = _parse_tlvs(node.content, 0, len(node.content))
            node.content = None
        except (ValueError, IndexError):
            node.children, node.content = [], None
    elif not tag[0] & 0x20 and node.content is None:  # now primitive: hold the octets
        node.content = b"".join(child.write() for child in node.children)
        node.children = []


def _mutate_tree(root: _Node, rng: random.Random) -> None:
    """One structure-aware change; the lengths of every enclosing TLV follow it."""
    nodes = _all_nodes(root)
    node = rng.choice(nodes[1:] or nodes)
    choice = rng.randrange(10)
    if choice == 9:
        _flip_tag(node, rng)
    elif node.content is not None:
        content = bytearray(node.content)
        octet = rng.choice((*_INTERESTING_OCTETS, rng.randrange(256)))
        where = rng.randrange(len(content) + 1)
        if choice == 0 and content:
            content[where % len(content)] ^= 1 << rng.randrange(8)
        elif choice == 1 and content:
            content[where % len(content)] = octet
        elif choice == 2 and content:
            del content[where % len(content)]
        elif choice == 3:
            content.insert(where, octet)
        elif choice == 4:
            del content[where:]
        elif choice == 5:
            content += content[-1:] * rng.randrange(1, 12)
        elif choice == 6:
            content = bytearray()
        else:
            content = bytearray(rng.randrange(256) for _ in range(rng.randrange(1, 6)))
        node.content = bytes(content)
    else:
        children = node.children
        where = rng.randrange(len(children) + 1)
        if choice == 0 and children:
            del children[where % len(children)]
        elif choice == 1 and children:
            children.insert(where, children[where % len(children)].clone())
        elif choice == 2 and len(children) > 1:
            i = rng.randrange(len(children) - 1)
            children[i], children[i + 1] = children[i + 1], children[i]
        elif choice == 3:
            children.insert(where, rng.choice(nodes).clone())
        elif choice == 4 and children:
            children[where % len(children)] = rng.choice(nodes).clone()
        elif choice in (5, 6):
            node.length_form = "indefinite" if node.length_form == "definite" else "definite"
        elif choice == 7:
            node.length_form = "unclosed"
        else:
            node.children = [_Node(b"\xa0", None, children)]  # one more level of nesting


def _mutate_octets(data: bytearray, rng: random.Random) -> None:
    """One change of the raw octets, lengths left as they were."""
    if not data:
        data.append(rng.choice(_INTERESTING_OCTETS))
        return
    where = rng.randrange(len(data))
    choice = rng.randrange(6)
    if choice == 0:
        data[where] ^= 1 << rng.randrange(8)
    elif choice == 1:
        data[where] = rng.choice(_INTERESTING_OCTETS)
    elif choice == 2:
        del data[where : where + rng.randint(1, 4)]
    elif choice == 3:
        data.insert(where, rng.choice(_INTERESTING_OCTETS))
    elif choice == 4:
        del data[where:]
    else:
        data[where] = (data[where] + rng.choice((-2, -1, 1, 2))) % 256


def mutate(data: bytes, rng: random.Random) -> bytes:
    """A hostile variation of an encoding: one to three structure-aware changes (content
    octets, tags, components deleted, repeated, swapped or grafted from elsewhere, lengths
    made indefinite or left unclosed, extra nesting) with the lengths kept consistent, and
    sometimes raw octet changes on top (flips, inserts, deletes, truncation, length octets
    nudged). Most mutants are refused by the decoder; the rest are the interesting ones."""
    if rng.random() < 0.7:
        try:
            roots, end = _parse_tlvs(data, 0, len(data))
        except (ValueError, IndexError):
            roots, end = [], 0
        if len(roots) == 1 and end == len(data):
            for _ in range(rng.randint(1, 3)):
                _mutate_tree(roots[0], rng)
            data = roots[0].write()
    if rng.random() < 0.4 or not data:
        octets = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            _mutate_octets(octets, rng)
        data = bytes(octets)
    return data


def mutants(source: st.SearchStrategy[apdu_module.APDU] | None = None) -> st.SearchStrategy[bytes]:
    """Mutated encodings (see :func:`mutate`) of APDUs drawn from ``source`` (any APDU)."""
    from isoill.apdu import encode

    return st.builds(
        lambda apdu, rng: mutate(encode(apdu), rng),
        source if source is not None else apdus(),
        st.randoms(use_true_random=False),
    )
