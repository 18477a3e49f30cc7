"""Message values to elements and back, by the field types of :mod:`.messages`.

One rule binds the two: a field ``foo_bar`` is the child element ``fooBar`` in the ISO 18626
namespace, in the order of the class's ``ORDER`` (or of its fields), and its type says how
its text is read. So the values module stays a plain transcription of the schema, and this
module is the only one that knows lxml's tree. It trusts the tree to be valid (the caller
validated it against the XSD first), but still refuses, with the element's line, what it
cannot read (a date out of Python's range), rather than guessing.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from lxml import etree

from isoill.errors import IsoillError
from isoill.iso18626.messages import SchemeValue

#: The namespace of ISO 18626 (the same in the v1.2 and the 2021 schemas).
NS = "http://illtransactions.org/2013/iso18626"
SCHEME = f"{{{NS}}}scheme"


class Unreadable(IsoillError):
    """A valid element whose value isoill cannot hold (a year beyond 9999)."""


@dataclass(frozen=True)
class _Field:
    name: str
    tag: str  # the child's qualified tag
    kind: Any  # the type of one value
    repeated: bool
    optional: bool


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


_FIELDS: dict[type, tuple[_Field, ...]] = {}


def fields_of(cls: type) -> tuple[_Field, ...]:
    """The children of ``cls``'s element, in the schema's order (worked out once a class)."""
    known = _FIELDS.get(cls)
    if known is not None:
        return known
    hints = typing.get_type_hints(cls)
    order = getattr(cls, "ORDER", None) or tuple(f.name for f in dataclasses.fields(cls))
    out = []
    for name in order:
        kind, repeated, optional = hints[name], False, False
        if typing.get_origin(kind) is tuple:
            kind, repeated = typing.get_args(kind)[0], True
        elif isinstance(kind, types.UnionType):
            kind, optional = next(a for a in typing.get_args(kind) if a is not type(None)), True
        out.append(_Field(name, f"{{{NS}}}{_camel(name)}", kind, repeated, optional))
    _FIELDS[cls] = tuple(out)
    return _FIELDS[cls]


# --- reading ------------------------------------------------------------------------------


def read(cls: type, element: etree._Element) -> Any:
    """The value of class ``cls`` that ``element`` holds."""
    by_tag = {f.tag: f for f in fields_of(cls)}
    found: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions carry nothing
        spec = by_tag.get(child.tag)
        if spec is None:
            raise Unreadable(
                f"line {child.sourceline}: {etree.QName(child).localname} is not "
                f"a child of {etree.QName(element).localname}"
            )
        value = _value(spec.kind, child)
        if spec.repeated:
            found[spec.name] = (*found.get(spec.name, ()), value)
        else:
            found[spec.name] = value
    return cls(**found)


def _value(kind: Any, element: etree._Element) -> Any:
    text = element.text or ""
    try:
        if kind is str:
            return text
        if kind is SchemeValue:
            return SchemeValue(text, element.get(SCHEME))
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            return read(kind, element)
        if isinstance(kind, type) and issubclass(kind, StrEnum):
            return kind(text)
        if kind is datetime:
            return parse_datetime(text.strip())
        if kind is Decimal:
            return Decimal(text.strip())
        if kind is int:
            return int(text.strip())
        if kind is bool:
            return text.strip() in ("true", "1")
    except (ValueError, InvalidOperation) as err:
        where = etree.QName(element).localname
        raise Unreadable(f"line {element.sourceline}, {where}: {text!r}: {err}") from None
    raise TypeError(f"no reader for {kind!r}")


_DATETIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})T(?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?"
)


def parse_datetime(text: str) -> datetime:
    """An ``xs:dateTime``: with or without fractions (any number of digits, kept to the
    microsecond) and with or without a zone (naive without one: the schema lets a peer
    send local time). Years before 1 or after 9999 are refused."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise ValueError("not a date and time isoill can hold (YYYY-MM-DDThh:mm:ss)")
    if match["time"] == "24:00:00":
        raise ValueError("24:00:00 is not supported; write 00:00:00 of the next day")
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    moment = datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}")
    zone = match["zone"]
    if zone == "Z":
        return moment.replace(tzinfo=UTC)
    if zone:
        sign = -1 if zone[0] == "-" else 1
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        return moment.replace(tzinfo=timezone(sign * offset))
    return moment


def format_datetime(moment: datetime) -> str:
    """The canonical ``xs:dateTime`` of ``moment``: "Z" for UTC, a fraction only when there
    is one and without trailing zeros."""
    text = moment.replace(tzinfo=None, microsecond=0).isoformat()
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    offset = moment.utcoffset()
    if offset is None:
        return text
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# --- writing ------------------------------------------------------------------------------


def write(value: Any, parent: etree._Element, tag: str) -> etree._Element:
    """Append ``value``'s element (``tag``, qualified) to ``parent``."""
    element = etree.SubElement(parent, tag)
    fill(value, element)
    return element


def fill(value: Any, element: etree._Element) -> None:
    for spec in fields_of(type(value)):
        item = getattr(value, spec.name)
        if spec.repeated:
            for each in item:
                _write_value(spec.kind, each, element, spec.tag)
        elif item is not None:
            _write_value(spec.kind, item, element, spec.tag)


def _write_value(kind: Any, item: Any, parent: etree._Element, tag: str) -> None:
    if dataclasses.is_dataclass(kind) and kind is not SchemeValue:
        write(item, parent, tag)
        return
    child = etree.SubElement(parent, tag)
    if kind is SchemeValue:
        child.text = item.value
        if item.scheme is not None:
            child.set(SCHEME, item.scheme)
    elif kind is datetime:
        child.text = format_datetime(item)
    elif kind is Decimal:
        child.text = format(item, "f")
    elif kind is bool:
        child.text = "true" if item else "false"
    else:
        child.text = str(item.value if isinstance(item, StrEnum) else item)
