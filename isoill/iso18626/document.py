"""ISO 18626 XML in and out: a parser that hostile input cannot hurt, and the XSD both ways.

Reading a message is three gates, each with its own answer to the peer (the ``errorType``
of the confirmation): the bytes must be well-formed XML within the size limit and without
a DTD (``BadlyFormedMessage``), the document must be valid against the published v1.2
schema (``UnrecognisedDataElement`` for an element or attribute the schema does not have
there, ``UnrecognisedDataValue`` for a value it does not allow, and the two specific types
for an unknown ``action`` or ``reasonForMessage``), and only then is it read into values.

The parser resolves no entities, loads no DTD and reaches no network (no XXE, no "billion
laughs": a DOCTYPE is refused outright, since ISO 18626 has none), keeps libxml2's depth
and size limits (no ``huge_tree``), and the size is checked before parsing starts, so the
work is linear in a bounded input.

Peers differ in how they spell the namespace: ``ill:``, ``tag0:``, a default namespace, or
(some older ones) none at all, and many write the ``version`` and ``scheme`` attributes
unqualified although the schema's ``attributeFormDefault`` is ``qualified``. Those
spellings are read as if they had been written in the namespace; isoill always writes the
qualified form, which the schema accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from lxml import etree

from isoill.errors import IsoillError
from isoill.iso18626 import binding
from isoill.iso18626.binding import NS
from isoill.iso18626.codes import ErrorType
from isoill.iso18626.messages import MESSAGE_TYPES, Message

#: The schema version isoill writes.
VERSION = "1.2"
#: The largest message read (a request with every field filled is a few kB).
MAX_BYTES = 1 << 20
ROOT = f"{{{NS}}}ISO18626Message"
_VERSION_ATTR = f"{{{NS}}}version"
#: How libxml2 writes the namespace in its messages (left out of the reasons people read).
_CLARK = f"{{{NS}}}"


class MessageError(IsoillError):
    """A message refused, with what its confirmation says: ``error_type`` and
    ``error_value`` (the first reason, as the peer reads it), and, when it could be told,
    which message it was (``kind``, the element name) and its header's identifiers
    (``ids``: the child names of the header and their text), so the ERROR confirmation
    can be the right one and can echo them."""

    def __init__(
        self,
        reasons: str | Iterable[str],
        error_type: ErrorType,
        kind: str | None = None,
        ids: dict[str, str] | None = None,
    ) -> None:
        super().__init__(reasons)
        self.error_type = error_type
        self.kind = kind
        self.ids = ids or {}

    @property
    def error_value(self) -> str:
        return self.reasons[0][:1000]


@cache
def schema() -> etree.XMLSchema:
    """The published v1.2 schema shipped in the package (``xsd/SOURCE.md``)."""
    source = resources.files("isoill.iso18626").joinpath("xsd/ISO-18626-v1_2.xsd")
    with source.open("rb") as stream:
        return etree.XMLSchema(etree.parse(stream, _parser()))


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse(data: bytes, max_bytes: int = MAX_BYTES) -> Message:
    """The message in ``data``, checked against the schema; :class:`MessageError` says why
    not."""
    root = _well_formed(data, max_bytes)
    _normalise(root)
    kind, ids = _guess(root)
    validator = schema()
    if not validator.validate(root):
        raise _invalid(validator.error_log, kind, ids)
    body = root[0]
    try:
        value: Message = binding.read(MESSAGE_TYPES[etree.QName(body).localname], body)
    except binding.Unreadable as err:
        raise MessageError(err.reasons, ErrorType.UNRECOGNISED_DATA_VALUE, kind, ids) from None
    return value


def _well_formed(data: bytes, max_bytes: int) -> etree._Element:
    if len(data) > max_bytes:
        raise MessageError(
            f"the message is {len(data)} bytes, more than the {max_bytes} this gateway reads",
            ErrorType.BADLY_FORMED_MESSAGE,
        )
    if not data.strip():
        raise MessageError("the message is empty", ErrorType.BADLY_FORMED_MESSAGE)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as err:
        raise MessageError(
            f"not well-formed XML: line {err.lineno}: {err.msg}", ErrorType.BADLY_FORMED_MESSAGE
        ) from None
    docinfo = root.getroottree().docinfo
    doctype: str = docinfo.doctype  # type: ignore[union-attr]  # not in lxml-stubs
    if doctype or docinfo.internalDTD is not None:
        raise MessageError(
            "a DOCTYPE is not allowed in an ISO 18626 message", ErrorType.BADLY_FORMED_MESSAGE
        )
    return root


def _normalise(root: etree._Element) -> None:
    """Read the spellings of the namespace peers use as the schema's own (see above)."""
    if etree.QName(root).namespace is None:
        for element in root.iter():
            if isinstance(element.tag, str) and etree.QName(element).namespace is None:
                element.tag = f"{{{NS}}}{element.tag}"
    if "version" in root.attrib and _VERSION_ATTR not in root.attrib:
        root.set(_VERSION_ATTR, root.attrib.pop("version"))
    for element in root.iter():
        attrib = element.attrib
        if isinstance(element.tag, str) and "scheme" in attrib and binding.SCHEME not in attrib:
            element.set(binding.SCHEME, attrib.pop("scheme"))


def _guess(root: etree._Element) -> tuple[str | None, dict[str, str]]:
    """Which message this is and its header's identifiers, read before validation, so that
    even an invalid message gets the right confirmation with its ids."""
    if root.tag != ROOT or len(root) == 0:
        return None, {}
    body = root[0]
    if not isinstance(body.tag, str):
        return None, {}
    kind = etree.QName(body).localname
    if kind not in MESSAGE_TYPES:
        return None, {}
    ids: dict[str, str] = {}
    header = body.find(f"{{{NS}}}header")
    if header is None:
        header = body.find(f"{{{NS}}}confirmationHeader")
    if header is not None:
        for child in header:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            if name in ("supplyingAgencyId", "requestingAgencyId"):
                kind_text = child.findtext(f"{{{NS}}}agencyIdType") or ""
                value = child.findtext(f"{{{NS}}}agencyIdValue") or ""
                ids[name] = f"{kind_text.strip()}:{value.strip()}"
            elif len(child) == 0 and child.text:
                ids[name] = child.text.strip()[:200]
    return kind, ids


#: Elements whose unknown value has an error type of its own.
_VALUE_TYPES = {
    "action": ErrorType.UNSUPPORTED_ACTION_TYPE,
    "reasonForMessage": ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE,
}


def _invalid(errors: etree._ListErrorLog, kind: str | None, ids: dict[str, str]) -> MessageError:
    reasons, first_type = [], None
    for error in errors:
        element = _element_of(error.message)
        reasons.append(f"line {error.line}: {error.message.replace(_CLARK, '')}")
        if first_type is None:
            first_type = _classify(error.type_name, element)
    return MessageError(
        reasons or ["not valid against the ISO 18626 v1.2 schema"],
        first_type or ErrorType.BADLY_FORMED_MESSAGE,
        kind,
        ids,
    )


def _element_of(message: str) -> str:
    """The local name of the element a libxml2 schema message is about."""
    if message.startswith("Element '"):
        return message[len("Element '") :].split("'", 1)[0].rsplit("}", 1)[-1]
    return ""


def _classify(type_name: str, element: str) -> ErrorType:
    if "ELEMENT_CONTENT" in type_name or "ATTRIBUTE" in type_name or "ELT_" in type_name:
        if "MISSING" in type_name:
            return ErrorType.BADLY_FORMED_MESSAGE
        return ErrorType.UNRECOGNISED_DATA_ELEMENT
    return _VALUE_TYPES.get(element, ErrorType.UNRECOGNISED_DATA_VALUE)


def to_xml(message: Message, version: str = VERSION) -> bytes:
    """``message`` as an ISO 18626 document (UTF-8, with declaration), checked against the
    schema: a value that would make it invalid (an empty required text, an address with
    both or neither of its choices) raises :class:`MessageError` here, on our side, rather
    than reaching a peer."""
    root = etree.Element(ROOT, nsmap={"ill": NS})
    root.set(_VERSION_ATTR, version)
    binding.write(message, root, f"{{{NS}}}{message.TAG}")
    validator = schema()
    if not validator.validate(root):
        raise _invalid(validator.error_log, message.TAG, {})
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@dataclass(frozen=True)
class Checked:
    """What ``isoill iso18626 check`` reports of a valid message."""

    kind: str
    message: Message


def check(data: bytes) -> Checked:
    message = parse(data)
    return Checked(message.TAG, message)
