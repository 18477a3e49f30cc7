"""The BER codec: round trips for all 20 APDUs, the YAZ trace, DEFAULT handling, the outer
length rule, EXTERNALs, constraints and error messages."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, time
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import isoill
from isoill.apdu import schema
from isoill.apdu.codec import get_codec
from isoill.demo import gif_copy_request
from isoill.testing.strategies import apdus, for_type
from tests.apdu.support import indefinite


def _tid() -> isoill.TransactionId:
    return isoill.TransactionId(transaction_group_qualifier="G", transaction_qualifier="T1")


@pytest.mark.parametrize("cls", isoill.APDU_CLASSES, ids=lambda c: c.__name__)
@settings(max_examples=60)
@given(data=st.data())
def test_every_apdu_round_trips(cls: type, data: st.DataObject) -> None:
    apdu = data.draw(for_type(cls))
    encoded = isoill.encode(apdu)
    assert encoded[0] == 0x60 | cls.apdu_type  # [APPLICATION n], constructed
    assert isoill.decode(encoded) == apdu
    assert isoill.from_json(isoill.to_json(apdu)) == apdu


@settings(max_examples=150)
@given(apdus())
def test_omit_defaults_round_trips_and_is_never_longer(apdu: isoill.APDU) -> None:
    full = isoill.encode(apdu)
    short = isoill.encode(apdu, omit_defaults=True)
    assert isoill.decode(short) == apdu
    assert len(short) <= len(full)


@settings(max_examples=150)
@given(apdus())
def test_raw_asn1tools_decodes_what_isoill_encodes(apdu: isoill.APDU) -> None:
    """A second decoder on the same ASN.1 reads our bytes and agrees on the APDU type."""
    arm, value = schema.raw_specification().decode("ILL-APDU", isoill.encode(apdu))
    assert isoill.to_json(apdu).keys() == {arm}
    # asn1tools reads GeneralString as Latin-1; isoill wrote UTF-8
    qualifier = value["transaction-id"]["transaction-qualifier"][1]
    assert qualifier.encode("latin-1").decode() == apdu.transaction_id.transaction_qualifier


def test_yaz_trace_decodes_to_what_yaz_illclient_sent(yaz_trace: bytes) -> None:
    request = isoill.decode(yaz_trace)
    assert isinstance(request, isoill.ILLRequest)
    assert request.protocol_version_num == 2
    assert request.requester_id == isoill.SystemId(
        person_or_institution_symbol=isoill.InstitutionSymbol("IKM")
    )
    assert request.responder_id is not None and request.responder_id.symbol == "OZZ"
    assert request.transaction_id.initial_requester_id == isoill.SystemId()  # empty, a0 00
    assert request.transaction_id.transaction_qualifier == ""
    assert request.service_date_time.date_time_of_this_service.date == date(2000, 1, 1)
    assert request.ill_service_type == (isoill.ILLServiceType.LOAN,)
    assert request.item_id.title == "Unknown Title"
    assert request.item_id.item_type is isoill.ItemType.MONOGRAPH
    assert request.search_type == isoill.SearchType(expiry_flag=isoill.ExpiryFlag.NO_EXPIRY)
    assert request.place_on_hold is isoill.PlaceOnHoldType.ACCORDING_TO_RESPONDER_POLICY
    assert (
        request.requester_optional_messages.requester_shipped is isoill.MessageRequirement.REQUIRES
    )


def test_reencoded_trace_is_asn1tools_encoding_with_definite_lengths(yaz_trace: bytes) -> None:
    ours = isoill.encode(isoill.decode(yaz_trace))
    raw = schema.raw_specification()
    assert ours == bytes(raw.encode("ILL-APDU", raw.decode("ILL-APDU", yaz_trace)))
    assert ours[:2] == b"\x61\x81"  # definite, long form (the content is over 127 bytes)


def test_default_valued_components_are_written_unless_omitted() -> None:
    request = isoill.ILLRequest(transaction_id=_tid(), item_id=isoill.ItemId(title="T"))
    full = isoill.encode(request)
    # transaction-type [5] simple, place-on-hold [14] 3, retry-flag [21], forward-flag [22]
    for tlv in (b"\x85\x01\x01", b"\x8e\x01\x03", b"\x95\x01\x00", b"\x96\x01\x00"):
        assert tlv in full
    short = isoill.encode(request, omit_defaults=True)
    for tlv in (b"\x85\x01\x01", b"\x8e\x01\x03", b"\x95\x01\x00", b"\x96\x01\x00"):
        assert tlv not in short
    assert isoill.decode(short) == request


def test_defaulted_enumerated_absent_on_the_wire_decodes_as_the_enum() -> None:
    request = isoill.ILLRequest(
        transaction_id=_tid(), item_id=isoill.ItemId(title="T"), search_type=isoill.SearchType()
    )
    decoded = isoill.decode(isoill.encode(request, omit_defaults=True))
    assert isinstance(decoded, isoill.ILLRequest)
    assert decoded.search_type is not None
    assert decoded.search_type.expiry_flag is isoill.ExpiryFlag.NO_EXPIRY
    assert decoded.place_on_hold is isoill.PlaceOnHoldType.ACCORDING_TO_RESPONDER_POLICY


def test_first_four_octets_are_never_all_printable() -> None:
    """yaz-illclient takes a reply starting with four printable octets for HTTP."""
    report = isoill.StatusOrErrorReport(
        transaction_id=_tid(),
        service_date_time=isoill.ServiceDateTime(
            date_time_of_this_service=isoill.DateTimeOfService(date=date(2024, 1, 2))
        ),
        reason_no_report=isoill.ReasonNoReport.TEMPORARY,
    )
    plain = isoill.encode(report, tcp_safe=False)
    assert all(0x20 <= b <= 0x7E for b in plain[:4])  # "s#0!"-like: the case to avoid
    safe = isoill.encode(report)
    assert safe[:2] == b"\x73\x81" and not all(0x20 <= b <= 0x7E for b in safe[:4])
    assert isoill.decode(safe) == isoill.decode(plain) == report


@settings(max_examples=100)
@given(apdus())
def test_no_encoding_starts_with_four_printable_octets(apdu: isoill.APDU) -> None:
    assert not all(0x20 <= b <= 0x7E for b in isoill.encode(apdu)[:4])


@settings(max_examples=100)
@given(apdus())
def test_indefinite_lengths_decode_the_same(apdu: isoill.APDU) -> None:
    # Raw BER (unknown EXTERNALs, ANYs) is kept byte for byte, so rewriting inside it would
    # rightly change the value: those APDUs are covered by the byte-identity test instead.
    assume('"ber"' not in json.dumps(isoill.to_json(apdu)))
    rewritten = indefinite(isoill.encode(apdu))
    assert rewritten[1] == 0x80
    assert isoill.decode(rewritten) == apdu


def test_gif_request_carries_the_oclc_extension_typed() -> None:
    request = gif_copy_request()
    decoded = isoill.decode(isoill.encode(request))
    assert decoded == request
    assert isinstance(decoded, isoill.ILLRequest)
    (extension,) = decoded.extensions
    assert extension.identifier == 1 and extension.critical is False
    assert extension.item == isoill.OCLCILLRequestExtension(payment_method="IFM")
    assert (
        decoded.cost_info_type is not None
        and decoded.cost_info_type.maximum_cost
        == isoill.Amount(monetary_value=Decimal("35.50"), currency_code="USD")
    )


def test_unknown_external_is_kept_byte_identical() -> None:
    # EXTERNAL 1.2.840.10003.8.1 (Z39.50 Prompt-1), written by hand with an indefinite
    # single-ASN1-type: nothing isoill knows, so it must come back exactly as it came.
    prompt = bytes.fromhex("28 80 06 07 2a 86 48 ce 13 08 01 a0 80 a2 03 02 01 01 00 00 00 00")
    ext = (
        bytes.fromhex("30")
        + bytes([3 + 3 + 2 + len(prompt)])
        + bytes.fromhex("80 01 01 81 01 00 a2")
        + bytes([len(prompt)])
        + prompt
    )
    request = isoill.ILLRequest(transaction_id=_tid(), item_id=isoill.ItemId(title="T"))
    encoded = isoill.encode(request)
    # splice the extension in as [49] IMPLICIT SEQUENCE OF Extension at the end
    seq = b"\xbf\x31" + bytes([len(ext)]) + ext
    body = encoded[3:]  # 61 81 LL
    assert body[0] == 0x30
    inner = body[3:] if body[1] == 0x81 else body[2:]
    inner = inner + seq
    new_body = b"\x30\x81" + bytes([len(inner)]) + inner
    apdu_bytes = b"\x61\x81" + bytes([len(new_body)]) + new_body
    decoded = isoill.decode(apdu_bytes)
    assert isinstance(decoded, isoill.ILLRequest)
    (extension,) = decoded.extensions
    assert extension.item == isoill.UnknownExternal(
        direct_reference="1.2.840.10003.8.1", ber=prompt
    )
    assert prompt in isoill.encode(decoded)


def test_system_no_external_decodes_typed() -> None:
    item = isoill.ItemId(
        title="T",
        system_no=isoill.SystemNo(
            entries=(isoill.SystemNoEntry(system=isoill.LACSystem.OCLC, record_no="12345678"),)
        ),
    )
    request = isoill.ILLRequest(transaction_id=_tid(), item_id=item)
    encoded = isoill.encode(request)
    assert bytes.fromhex("28 1a 06 05 2a 7c cf 31 02 a0 11") in encoded  # EXTERNAL 1.2.124.10161.2
    assert isoill.decode(encoded) == request


def test_iso_date_that_does_not_parse_is_kept_as_text() -> None:
    received = isoill.Received(
        transaction_id=_tid(),
        date_received="2000-01-01",
        shipped_service_type=isoill.ILLServiceType.LOAN,
    )
    decoded = isoill.decode(isoill.encode(received))
    assert isinstance(decoded, isoill.Received) and decoded.date_received == "2000-01-01"
    stamped = replace(
        received,
        date_received=date(2024, 2, 29),
        service_date_time=isoill.ServiceDateTime(
            date_time_of_this_service=isoill.DateTimeOfService(
                date=date(2024, 2, 29), time=time(23, 59, 58)
            )
        ),
    )
    assert b"\x1a\x0820240229" not in isoill.encode(stamped)  # ISO-Date is IMPLICIT
    assert b"20240229" in isoill.encode(stamped) and b"235958" in isoill.encode(stamped)


def test_edifact_string_is_kept() -> None:
    message = isoill.Message(transaction_id=_tid(), note=isoill.EDIFACTString("PLEASE RUSH"))
    encoded = isoill.encode(message)
    assert b"\x1a\x0bPLEASE RUSH" in encoded
    decoded = isoill.decode(encoded)
    assert isinstance(decoded, isoill.Message)
    assert type(decoded.note) is isoill.EDIFACTString


def test_general_string_charset_is_a_choice() -> None:
    message = isoill.Message(transaction_id=_tid(), note="図書館間貸出")
    assert "図書館間貸出".encode() in isoill.encode(message)
    latin = isoill.Message(transaction_id=_tid(), note="Bibliothèque")
    encoded = isoill.encode(latin, charset="latin-1")
    assert "Bibliothèque".encode("latin-1") in encoded
    with pytest.raises(isoill.DecodeError, match=r"not valid utf-8.*charset") as err:
        isoill.decode(encoded)
    assert err.value.path == ["Message", "note"]
    assert isoill.decode(encoded, charset="latin-1") == latin


# --- constraints: the encoder names the field ---------------------------------------------


def test_issn_must_be_eight_characters() -> None:
    request = replace(gif_copy_request(), item_id=isoill.ItemId(title="T", issn="0264-1615"))
    with pytest.raises(isoill.EncodeError) as err:
        isoill.encode(request)
    assert err.value.path == ["ILL-Request", "item-id", "iSSN"]
    assert "9 characters" in str(err.value) and "allows 8" in str(err.value)


def test_at_most_five_service_types() -> None:
    request = isoill.ILLRequest(
        transaction_id=_tid(),
        item_id=isoill.ItemId(title="T"),
        ill_service_type=(isoill.ILLServiceType.LOAN,) * 6,
    )
    with pytest.raises(isoill.EncodeError, match="6 entries; the standard allows 1 to 5") as err:
        isoill.encode(request)
    assert err.value.path == ["ILL-Request", "iLL-service-type"]


def test_shipped_service_type_is_loan_or_copy() -> None:
    shipped = isoill.Shipped(
        transaction_id=_tid(),
        shipped_service_type=isoill.ILLServiceType.ESTIMATE,
        supply_details=isoill.SupplyDetails(),
    )
    with pytest.raises(isoill.EncodeError, match="estimate is not allowed here") as err:
        isoill.encode(shipped)
    assert err.value.path == ["Shipped", "shipped-service-type"]


def test_amount_must_fit_amount_string() -> None:
    cost = isoill.CostInfoType(maximum_cost=isoill.Amount(monetary_value=Decimal("-1")))
    request = isoill.ILLRequest(
        transaction_id=_tid(), item_id=isoill.ItemId(title="T"), cost_info_type=cost
    )
    with pytest.raises(isoill.EncodeError) as err:
        isoill.encode(request)
    assert err.value.path == ["ILL-Request", "cost-info-type", "maximum-cost", "monetary-value"]


def test_version_1_apdu_may_not_carry_version_2_parameters() -> None:
    request = replace(gif_copy_request(), protocol_version_num=1)  # Ariel: electronic delivery
    with pytest.raises(isoill.EncodeError, match="only protocol version 2") as err:
        isoill.encode(request)
    assert err.value.path == ["ILL-Request", "delivery-service", "electronic-delivery"]
    assert isoill.encode(replace(request, delivery_service="Ariel"))  # physical: fine in v1


def test_wrong_python_type_names_the_field() -> None:
    request = isoill.ILLRequest(transaction_id=_tid(), item_id=isoill.ItemId(title=42))  # type: ignore[arg-type]
    with pytest.raises(isoill.EncodeError, match="expected str, got int") as err:
        isoill.encode(request)
    assert err.value.where == "ILL-Request.item-id.title"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("35.50", "35.50"),
        ("35,50", "35.50"),
        ("1,000", "1000"),
        ("1 000.5", "1000.5"),
        ("1.000,25", "1000.25"),
        ("7", "7"),
    ],
)
def test_monetary_value_reading(text: str, value: str) -> None:
    assert isoill.Amount.parse_monetary_value(text) == Decimal(value)


# --- decode errors: offset, path, reason ------------------------------------------------


def test_error_names_offset_path_and_reason(yaz_trace: bytes) -> None:
    broken = bytearray(yaz_trace)
    # item-type's ENUMERATED value (offset 0x76: b0 1e 80 01 01) becomes 9
    index = yaz_trace.index(bytes.fromhex("b01e800101")) + 4
    broken[index] = 9
    with pytest.raises(isoill.DecodeError) as err:
        isoill.decode(bytes(broken))
    assert err.value.path == ["ILL-Request", "item-id", "item-type"]
    assert err.value.offset == index
    assert "9 is not a ItemType" in err.value.reason
    assert str(err.value).startswith("ILL-Request.item-id.item-type: ")


def test_truncated_input_is_incomplete(yaz_trace: bytes) -> None:
    with pytest.raises(isoill.IncompleteAPDU):
        isoill.decode(yaz_trace[:-5])


def test_huge_claimed_length_fails_at_once() -> None:
    six = bytes.fromhex("61 84 ff ff ff ff")
    with pytest.raises(isoill.DecodeError, match="size limit") as err:
        isoill.decode(six)
    assert not isinstance(err.value, isoill.IncompleteAPDU)
    assert err.value.offset == 1


def test_trailing_bytes_are_refused(yaz_trace: bytes) -> None:
    with pytest.raises(isoill.DecodeError, match="2 bytes after the end"):
        isoill.decode(yaz_trace + b"\x00\x01")


def test_unknown_apdu_tag() -> None:
    with pytest.raises(isoill.DecodeError, match="none of the alternatives"):
        isoill.decode(bytes.fromhex("7f 21 00"))


def _without_component(encoded: bytes, tag: int) -> bytes:
    """The APDU with one top-level component of its SEQUENCE removed (lengths redone)."""
    from isoill.apdu.ber import encode_length, read_length, read_tag

    _key, p = read_tag(encoded, 0)
    outer_end, p = read_length(encoded, p, True, len(encoded))
    _key, q = read_tag(encoded, p)
    seq_end, q = read_length(encoded, q, True, outer_end)
    kept = b""
    while q < seq_end:
        key, r = read_tag(encoded, q)
        end, _ = read_length(encoded, r, bool(key & 0x20), seq_end)
        if key != tag:
            kept += encoded[q:end]
        q = end
    sequence = b"\x30" + encode_length(len(kept)) + kept
    return encoded[:1] + encode_length(len(sequence)) + sequence


def test_missing_mandatory_component() -> None:
    cancel = isoill.encode(isoill.Cancel(transaction_id=_tid()))
    without = _without_component(cancel, 0xA2)  # service-date-time [2]
    assert isoill.decode(_without_component(cancel, 0xA4)) is not None  # absent OPTIONAL: fine
    with pytest.raises(isoill.DecodeError, match="missing mandatory component service-date-time"):
        isoill.decode(without)


def test_decode_all_reads_concatenated_apdus(yaz_trace: bytes) -> None:
    both = yaz_trace + isoill.encode(gif_copy_request())
    first, second = isoill.decode_all(both)
    assert isinstance(first, isoill.ILLRequest) and isinstance(second, isoill.ILLRequest)
    assert second.item_id.issn == "02641615"


def test_codec_refuses_to_bind_a_drifted_model() -> None:
    """The binder checks the dataclasses against the ASN.1, so they cannot drift."""
    from isoill.apdu.codec import Binder, Options

    class Wrong(isoill.ASN1Enum):
        A = 1
        B = 2

    with pytest.raises(TypeError, match="numbers"):
        Binder(Options()).bind_type("Transaction-Type", Wrong)


def test_shared_codec_is_cached() -> None:
    assert get_codec() is get_codec()


def test_an_encoding_kept_by_identity_is_the_encoding_and_the_kept_are_few() -> None:
    """The codec keeps the encodings of the APDUs it encoded last (a relayed APDU is encoded
    for the wire and for each leg's history): what it gives back is what a codec that kept
    nothing gives, however many APDUs pass, and it keeps a bounded number."""
    from isoill.apdu.codec import Codec

    base = gif_copy_request()
    apdus = [
        replace(base, transaction_id=replace(base.transaction_id, transaction_qualifier=f"q{n}"))
        for n in range(200)
    ]
    codec, fresh = Codec(), Codec()
    first = [codec.encode(a) for a in apdus]
    again = [codec.encode(a) for a in reversed(apdus)][::-1]
    assert first == again == [fresh.encode(a, tcp_safe=True) for a in apdus]
    assert len({*first}) == 200
    assert codec.encode(apdus[-1], tcp_safe=False) == isoill.encode(apdus[-1], tcp_safe=False)
    assert len(codec._encoded) <= 64
