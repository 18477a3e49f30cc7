"""Shared helpers of the ISO 18626 tests: hypothesis strategies for messages whose XML is
always valid, and comparison of documents up to namespace prefixes."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from lxml import etree

from isoill.iso18626 import messages
from isoill.iso18626.binding import NS, fields_of, format_datetime, parse_datetime

SAMPLES = Path(__file__).parent / "samples"

#: Characters XML 1.0 can carry and a parser gives back as they were (no controls: a
#: carriage return comes back as a line feed).
_TEXT = st.text(
    st.characters(exclude_categories=("Cc", "Cs", "Cn", "Co"), exclude_characters="\ufffe\uffff"),
    max_size=12,
)
_ZONES = st.one_of(
    st.none(),
    st.just(UTC),
    st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)
_MOMENTS = st.datetimes(datetime(1000, 1, 1), datetime(9999, 12, 30), timezones=_ZONES)
_SCHEMES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "http://illtransactions.org/ISO18626/OpenCodeList/ReasonRetryList-V1.0",
            "http://example.org/local",
            "urn:isil",
        ]
    ),
)


def _leaf(kind: Any) -> st.SearchStrategy[Any]:
    if kind is str:
        return _TEXT
    if kind is messages.SchemeValue:
        return st.builds(messages.SchemeValue, _TEXT, _SCHEMES)
    if kind is messages.Address:
        return st.one_of(
            st.builds(messages.Address, electronic_address=values(messages.ElectronicAddress)),
            st.builds(messages.Address, physical_address=values(messages.PhysicalAddress)),
        )
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return values(kind)
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return st.sampled_from(list(kind))
    if kind is datetime:
        return _MOMENTS
    if kind is Decimal:
        return st.decimals(-(10**9), 10**9, allow_nan=False, allow_infinity=False, places=2)
    if kind is int:
        return st.integers(-(10**6), 10**6)
    if kind is bool:
        return st.booleans()
    raise TypeError(kind)


def values(cls: type) -> st.SearchStrategy[Any]:
    """Any value of ``cls`` (a message or a part of one) that the schema accepts."""
    arguments: dict[str, st.SearchStrategy[Any]] = {}
    for spec in fields_of(cls):
        one = st.deferred(lambda kind=spec.kind: _leaf(kind))
        if spec.repeated:
            most = 3 if spec.name == "request_sub_type" else 2
            arguments[spec.name] = st.lists(one, max_size=most).map(tuple)
        elif spec.optional:
            arguments[spec.name] = st.none() | one
        else:
            arguments[spec.name] = one
    return st.builds(cls, **arguments)


#: Any of the six messages.
MESSAGES = st.one_of([values(cls) for cls in messages.MESSAGE_TYPES.values()])

#: Elements of type xs:dateTime, compared by their canonical form.
_DATETIMES = {
    f"{{{NS}}}{name}"
    for name in (
        "timestamp",
        "timestampReceived",
        "needBeforeDate",
        "startDate",
        "endDate",
        "retryAfter",
        "retryBefore",
        "expectedDeliveryDate",
        "dueDate",
        "lastChange",
        "dateSent",
    )
}


def shape(element: etree._Element) -> tuple[Any, ...]:
    """A document as nested tuples of qualified names, attributes and text: equal for two
    documents that differ only in prefixes, indentation and the lexical form of dates."""
    text = (element.text or "").strip() if len(element) else element.text or ""
    if element.tag in _DATETIMES:
        text = format_datetime(parse_datetime(text.strip()))
    children = tuple(shape(child) for child in element if isinstance(child.tag, str))
    return (element.tag, tuple(sorted(element.attrib.items())), text, children)


def fields(value: Any) -> typing.Iterator[str]:
    """The names of the fields set anywhere in ``value`` (to check samples cover them)."""
    for spec in fields_of(type(value)):
        item = getattr(value, spec.name)
        if item in (None, ()):
            continue
        yield f"{type(value).__name__}.{spec.name}"
        for each in item if spec.repeated else (item,):
            if dataclasses.is_dataclass(each) and not isinstance(each, messages.SchemeValue):
                yield from fields(each)
