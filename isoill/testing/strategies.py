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

__all__ = ["apdus", "for_type", "ill_strings"]

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
