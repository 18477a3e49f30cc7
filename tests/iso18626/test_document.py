"""ISO 18626 documents: every message read and written again, validated both ways, whatever
prefixes the peer used; bad and hostile XML refused with the right error type."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from lxml import etree

from isoill import iso18626
from isoill.iso18626 import ErrorType, MessageError, parse, to_xml
from isoill.iso18626.binding import parse_datetime
from tests.iso18626.support import MESSAGES, SAMPLES, shape

SAMPLE_FILES = sorted(SAMPLES.glob("*.xml"))


def test_the_shipped_schema_is_the_published_one_unmodified() -> None:
    data = resources.files("isoill.iso18626").joinpath("xsd/ISO-18626-v1_2.xsd").read_bytes()
    assert hashlib.sha256(data).hexdigest() == (
        "6e67223bb2d0865f4c7e1447a61718c6bd09f7b103f505cb90b939ac8de43668"
    )


def test_there_is_a_sample_of_every_message() -> None:
    assert {p.stem for p in SAMPLE_FILES} == set(iso18626.MESSAGE_TYPES)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.stem)
def test_every_sample_round_trips_equal_up_to_prefixes(path: Path) -> None:
    data = path.read_bytes()
    message = parse(data)
    assert path.stem == message.TAG
    written = to_xml(message)
    assert shape(etree.fromstring(written)) == shape(etree.fromstring(data))
    assert parse(written) == message


@given(MESSAGES)
@settings(max_examples=300, deadline=None)
def test_any_message_is_written_valid_and_read_back_equal(message: iso18626.Message) -> None:
    assert parse(to_xml(message)) == message


def _respelled(data: bytes, prefix: str) -> bytes:
    """The sample with its namespace prefix ``ill`` spelled otherwise."""
    text = data.decode()
    if prefix == "":  # a default namespace, and unqualified attributes as many peers write
        text = text.replace("ill:version", "version").replace("ill:scheme", "scheme")
        text = text.replace("xmlns:ill=", "xmlns=").replace("ill:", "")
    elif prefix == "none":  # no namespace at all
        text = text.replace("ill:version", "version").replace("ill:scheme", "scheme")
        text = text.replace(' xmlns:ill="http://illtransactions.org/2013/iso18626"', "")
        text = text.replace("ill:", "")
    else:
        text = text.replace("ill:", f"{prefix}:").replace("xmlns:ill=", f"xmlns:{prefix}=")
    return text.encode()


@pytest.mark.parametrize("prefix", ["tag0", "ns2", "", "none"])
def test_any_spelling_of_the_namespace_is_read(prefix: str) -> None:
    data = (SAMPLES / "request.xml").read_bytes()
    assert parse(_respelled(data, prefix)) == parse(data)


def test_isoill_writes_the_qualified_attributes_the_schema_requires() -> None:
    written = to_xml(parse((SAMPLES / "request.xml").read_bytes()))
    root = etree.fromstring(written)
    assert root.get(f"{{{iso18626.binding.NS}}}version") == "1.2"
    assert b' version="' not in written and b' scheme="' not in written


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-02T09:30:00", datetime(2026, 12, 2, 9, 30)),
        ("2026-12-02T09:30:00Z", datetime(2026, 12, 2, 9, 30, tzinfo=UTC)),
        ("2026-12-02T09:30:00.5Z", datetime(2026, 12, 2, 9, 30, 0, 500000, tzinfo=UTC)),
        ("2026-12-02T09:30:00.1234567", datetime(2026, 12, 2, 9, 30, 0, 123456)),
        (
            "2026-12-02T09:30:00-05:30",
            datetime(2026, 12, 2, 9, 30, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
        ),
    ],
)
def test_timestamps_with_and_without_fractions_or_zone(text: str, expected: datetime) -> None:
    value = parse_datetime(text)
    assert value == expected and value.tzinfo == expected.tzinfo


def test_unknown_open_code_values_are_kept_with_their_scheme() -> None:
    message = parse((SAMPLES / "supplyingAgencyMessage.xml").read_bytes())
    assert isinstance(message, iso18626.SupplyingAgencyMessage)
    assert message.message_info.reason_retry == iso18626.SchemeValue(
        "ShelvedElsewhere", "http://example.org/local-reasons"
    )
    assert b"ShelvedElsewhere" in to_xml(message)


# --- refusals -------------------------------------------------------------------------------

REQUEST = (SAMPLES / "request.xml").read_bytes()


def _refused(data: bytes) -> MessageError:
    with pytest.raises(MessageError) as caught:
        parse(data)
    return caught.value


@pytest.mark.parametrize(
    ("data", "error_type", "words"),
    [
        (b"", ErrorType.BADLY_FORMED_MESSAGE, "empty"),
        (b"<ill:ISO18626Message", ErrorType.BADLY_FORMED_MESSAGE, "not well-formed"),
        (REQUEST[:-40], ErrorType.BADLY_FORMED_MESSAGE, "not well-formed"),
        (
            REQUEST.replace(b"<ill:serviceType>Copy", b"<ill:serviceType>Lend"),
            ErrorType.UNRECOGNISED_DATA_VALUE,
            "Lend",
        ),
        (
            REQUEST.replace(b"<ill:volume>24</ill:volume>", b"<ill:shelf>24</ill:shelf>"),
            ErrorType.UNRECOGNISED_DATA_ELEMENT,
            "shelf",
        ),
        (
            REQUEST.replace(b"<ill:monetaryValue>35.50", b"<ill:monetaryValue>lots"),
            ErrorType.UNRECOGNISED_DATA_VALUE,
            "lots",
        ),
        (
            (SAMPLES / "requestingAgencyMessage.xml")
            .read_bytes()
            .replace(b">ShippedReturn<", b">Teleport<"),
            ErrorType.UNSUPPORTED_ACTION_TYPE,
            "Teleport",
        ),
        (
            (SAMPLES / "supplyingAgencyMessage.xml")
            .read_bytes()
            .replace(b">StatusChange<", b">Gossip<"),
            ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE,
            "Gossip",
        ),
        (
            REQUEST.replace(b"2026-12-02T09:30:00Z", b"99999-12-02T09:30:00Z", 1),
            ErrorType.UNRECOGNISED_DATA_VALUE,
            "99999",
        ),
    ],
    ids=[
        "empty",
        "truncated-tag",
        "truncated",
        "closed-list",
        "unknown-element",
        "decimal",
        "action",
        "reason",
        "year",
    ],
)
def test_bad_messages_are_refused_with_the_right_error_type(
    data: bytes, error_type: ErrorType, words: str
) -> None:
    error = _refused(data)
    assert error.error_type == error_type
    assert words in str(error)


def test_a_refused_message_still_says_which_it_was_and_its_ids() -> None:
    error = _refused(REQUEST.replace(b"<ill:serviceType>Copy", b"<ill:serviceType>Lend"))
    assert error.kind == "request"
    assert error.ids["requestingAgencyRequestId"] == "710100-2026-0042"
    assert error.ids["supplyingAgencyId"] == "ISIL:DK-820010"


def test_the_reasons_name_the_line_and_element_without_the_namespace() -> None:
    error = _refused(REQUEST.replace(b"<ill:serviceType>Copy", b"<ill:serviceType>Lend"))
    line = next(n for n, text in enumerate(REQUEST.splitlines(), 1) if b"serviceType" in text)
    assert error.reasons[0].startswith(f"line {line}: Element 'serviceType'")
    assert "{http" not in error.reasons[0]


# --- hostile XML ----------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626">&lol4;</ISO18626Message>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE m [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626">&secret;</ISO18626Message>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE ISO18626Message SYSTEM "http://127.0.0.1:9/evil.dtd">
<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626"/>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_entities_and_dtds_are_refused_unexpanded(data: bytes) -> None:
    started = time.perf_counter()
    error = _refused(data)
    assert error.error_type == ErrorType.BADLY_FORMED_MESSAGE
    assert "root:" not in str(error)  # /etc/passwd was not read
    assert time.perf_counter() - started < 5


def test_a_huge_document_is_refused_before_it_is_parsed() -> None:
    huge = REQUEST.replace(b"Scan in colour", b"x" * (2 << 20))
    error = _refused(huge)
    assert error.error_type == ErrorType.BADLY_FORMED_MESSAGE
    assert "bytes, more than" in str(error)


def test_deep_nesting_is_refused() -> None:
    depth = 100_000
    deep = b"<ISO18626Message>" + b"<a>" * depth + b"</a>" * depth + b"</ISO18626Message>"
    error = _refused(deep)
    assert error.error_type == ErrorType.BADLY_FORMED_MESSAGE


def test_writing_an_invalid_value_is_refused_on_our_side() -> None:
    message = parse(REQUEST)
    assert isinstance(message, iso18626.Request)
    both = iso18626.Address(
        electronic_address=iso18626.ElectronicAddress(iso18626.SchemeValue("email"), "a@b"),
        physical_address=iso18626.PhysicalAddress(line1="x"),
    )
    broken = iso18626.Request(
        message.header,
        message.bibliographic_info,
        billing_info=iso18626.BillingInfo(address=both),
    )
    with pytest.raises(MessageError):
        to_xml(broken)
