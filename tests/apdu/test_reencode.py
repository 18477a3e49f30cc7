"""What decodes re-encodes, and re-decodes to the same value.

A gateway relays what it decodes: a value the decoder accepts but the encoder refuses would
crash the relay after the APDU was accepted, and a value that re-decodes differently would
change the peer's message in transit. Values outside the encoder's rules are therefore either
refused at decode, with the component path and the offset of the bad component (the peer gets
a clear error report), or kept so that they re-encode byte-identical (ISO-Date text that is not
YYYYMMDD, unknown or malformed EXTERNALs). The cases below were found by the mutant search
(``bench/fuzz.py``) and are each decided in the docstring of the decoder that handles them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import isoill
from isoill.testing.strategies import for_type, mutate
from tests.apdu.support import indefinite


def _tid() -> isoill.TransactionId:
    return isoill.TransactionId(transaction_group_qualifier="G", transaction_qualifier="T1")


def _patched(apdu: isoill.APDU, old: bytes, new: bytes) -> bytes:
    data = indefinite(isoill.encode(apdu))
    assert data.count(old) == 1, (old.hex(), data.hex())
    return data.replace(old, new)


def _refused(data: bytes, path: list[str], reason: str, tag: int) -> isoill.DecodeError:
    """Decoding ``data`` fails naming ``path`` and ``reason``, at an offset where the bad
    component's tag is."""
    with pytest.raises(isoill.DecodeError, match=reason) as err:
        isoill.decode(data)
    assert err.value.path[: len(path)] == path, err.value.path
    assert not isinstance(err.value, isoill.IncompleteAPDU)
    assert data[err.value.offset] == tag, (err.value.offset, data.hex())
    return err.value


# --- the rule, over mutants of every APDU type ----------------------------------------------


def _check_reencodes(data: bytes) -> bool:
    """The rule for one input; True if it decoded."""
    try:
        value = isoill.decode(data)
    except isoill.DecodeError:
        return False
    again = isoill.encode(value)  # must not raise
    assert isoill.decode(again) == value
    # == treats an EDIFACTString and a str with the same text as equal, and 1.0 and 1.00
    # too: the JSON form tells them apart.
    assert isoill.to_json(isoill.decode(again)) == isoill.to_json(value)
    assert isoill.encode(isoill.decode(again)) == again  # and it is stable from then on
    return True


@pytest.mark.parametrize("cls", isoill.APDU_CLASSES, ids=lambda c: c.__name__)
@settings(max_examples=120)
@given(data=st.data())
def test_mutant_that_decodes_reencodes_to_the_same_value(cls: type, data: st.DataObject) -> None:
    encoded = isoill.encode(data.draw(for_type(cls)))
    rng = data.draw(st.randoms(use_true_random=False))
    for _ in range(4):  # several mutants of one drawn APDU: drawing is the costly part
        _check_reencodes(mutate(encoded, rng))


def test_yaz_oclc_request_with_unclosed_single_asn1_type_is_kept_byte_identical() -> None:
    """Defect 4: an EXTERNAL of definite length whose single-ASN1-type claims an indefinite
    length (a0 80) with no end-of-contents inside the EXTERNAL. The decoder used to look for
    the 00 00 after the EXTERNAL's end, found the enclosing APDU's, and so decoded the
    request, but not its own re-encoding (where nothing follows the EXTERNAL)."""
    data = bytearray(YAZ_OCLC_REQUEST)
    single = data.index(bytes.fromhex("a0 02 30 00"))  # the OCLC extension's [0]
    data[single + 1] = 0x80
    request = isoill.decode(bytes(data))
    assert isinstance(request, isoill.ILLRequest) and request.extensions is not None
    item = request.extensions[1].item
    assert item == isoill.UnknownExternal(
        direct_reference="1.0.10161.13.2", ber=bytes.fromhex("280b060528cf310d02a0803000")
    )
    assert _check_reencodes(bytes(data))
    assert item.ber in isoill.encode(request)


def test_yaz_oclc_request_decodes_typed_and_round_trips() -> None:
    request = isoill.decode(YAZ_OCLC_REQUEST)
    assert isinstance(request, isoill.ILLRequest) and request.extensions is not None
    assert request.extensions[1].item == isoill.OCLCILLRequestExtension()
    assert _check_reencodes(YAZ_OCLC_REQUEST)


#: What yaz-illclient (YAZ 5.34) sent for ``yaz-illclient -f params -o -u user -p pw``:
#: indefinite outer lengths, a Z39.50 Prompt-1 EXTERNAL with the user and password, and an
#: empty OCLC ILL-Request extension (1.0.10161.13.2) with definite lengths inside.
YAZ_OCLC_REQUEST = bytes.fromhex(
    "61803080800102a10aa000a1021b00a2021b00a20ca00a800832303030303130"
    "31a315a013a1111b0f4e41435349533a4641303031323334a40ea00ca10a1b08"
    "4f434c433a58595a850101a604a000a100a804a000a100a9030a0102ab0c8001"
    "00810100820101830101ac038201038e0103af00b013800101a40e1b0c496e74"
    "65726c656e64696e67950100960100bf31503037800101810100a22f282d0607"
    "2a8648ce130801a022a220300fa105a103810101a206810475736572300da105"
    "a103810102a204810270773015800101810100a20d280b060528cf310d02a002"
    "300000000000"
)


# --- the cases the search found: refused at decode, with the reason --------------------------


def test_edifact_string_outside_its_alphabet_is_refused() -> None:
    """The peer chose EDIFACTString; '#' is not in its alphabet (GeneralString carries it)."""
    note = isoill.Message(transaction_id=_tid(), note=isoill.EDIFACTString("PLEASE RUSH"))
    data = _patched(note, b"\x1a\x0bPLEASE RUSH", b"\x1a\x0bPLEASE#RUSH")
    _refused(data, ["Message", "note"], r"\['#'\] are not in the EDIFACTString alphabet", 0x1A)
    control = _patched(note, b"\x1a\x0bPLEASE RUSH", b"\x1a\x0bPLEASE\x1bRUSH")
    _refused(control, ["Message", "note"], "not in the EDIFACTString alphabet", 0x1A)


def test_isbn_of_eight_characters_is_refused() -> None:
    request = isoill.ILLRequest(
        transaction_id=_tid(), item_id=isoill.ItemId(title="T", isbn="0123456789")
    )
    data = _patched(request, b"\x1b\x0a0123456789", b"\x1b\x0801234567")
    _refused(data, ["ILL-Request", "item-id", "iSBN"], "8 characters .* allows 10", 0x1B)


def test_level_of_service_of_two_characters_is_refused() -> None:
    request = isoill.ILLRequest(
        transaction_id=_tid(),
        item_id=isoill.ItemId(title="T"),
        search_type=isoill.SearchType(level_of_service="A"),
    )
    data = _patched(request, b"\x1b\x01A", b"\x1b\x02AB")
    _refused(
        data, ["ILL-Request", "search-type", "level-of-service"], "2 characters .* allows 1", 0x1B
    )


def test_empty_record_number_is_refused() -> None:
    entry = isoill.SystemNoEntry(system=isoill.LACSystem.OCLC, record_no="9")
    request = isoill.ILLRequest(
        transaction_id=_tid(),
        item_id=isoill.ItemId(title="T", system_no=isoill.SystemNo(entries=(entry,))),
    )
    data = _patched(request, b"\x1b\x019", b"\x1b\x00")
    err = _refused(data, ["ILL-Request", "item-id", "system-no"], "0 characters", 0x1B)
    assert err.path[-1] == "recordNo"


def test_more_entries_than_the_size_allows_are_refused() -> None:
    request = isoill.ILLRequest(
        transaction_id=_tid(),
        item_id=isoill.ItemId(title="T"),
        ill_service_type=(isoill.ILLServiceType.LOAN,) * 5,
    )
    data = _patched(request, b"\xa9\x80" + b"\x0a\x01\x01" * 5, b"\xa9\x80" + b"\x0a\x01\x01" * 6)
    _refused(data, ["ILL-Request", "iLL-service-type"], "6 entries; .* 1 to 5", 0xA9)


def _shipped(**supply: object) -> isoill.Shipped:
    return isoill.Shipped(
        transaction_id=_tid(),
        shipped_service_type=isoill.ILLServiceType.LOAN,
        supply_details=isoill.SupplyDetails(date_shipped=date(2024, 5, 6), **supply),  # type: ignore[arg-type]
    )


def test_chargeable_units_zero_is_refused() -> None:
    data = _patched(_shipped(chargeable_units=5), b"\x82\x01\x05", b"\x82\x01\x00")
    _refused(
        data, ["Shipped", "supply-details", "chargeable-units"], r"0 is outside 1\.\.9999", 0x82
    )


@pytest.mark.parametrize("number", [3, 4, 5], ids=["locations", "estimate", "responder-specific"])
def test_shipped_service_type_other_than_loan_or_copy_is_refused(number: int) -> None:
    loan = isoill.encode(_shipped())
    copy = isoill.encode(
        replace(_shipped(), shipped_service_type=isoill.ILLServiceType.COPY_NON_RETURNABLE)
    )
    (where,) = [i for i, (a, b) in enumerate(zip(loan, copy, strict=True)) if a != b]
    data = bytearray(loan)
    data[where] = number
    with pytest.raises(isoill.DecodeError, match="is not allowed here; only loan or copy") as err:
        isoill.decode(bytes(data))
    assert err.value.path == ["Shipped", "shipped-service-type"]
    assert err.value.offset == where  # the value octet


def test_currency_code_of_four_letters_is_refused() -> None:
    cost = isoill.Amount(monetary_value=Decimal("12.00"), currency_code="USD")
    data = _patched(_shipped(cost=cost), b"\x80\x03USD", b"\x80\x04USDX")
    _refused(data, ["Shipped", "supply-details", "cost", "currency-code"], "4 characters", 0x80)


@pytest.mark.parametrize("text", [b"-2.00", b"1E+20", b"NaN00"])
def test_monetary_value_the_encoder_cannot_write_is_refused(text: bytes) -> None:
    cost = isoill.Amount(monetary_value=Decimal("12.00"))
    data = _patched(_shipped(cost=cost), b"\x81\x0512.00", b"\x81\x05" + text)
    _refused(data, ["Shipped", "supply-details", "cost", "monetary-value"], "monetary-value", 0x81)


def test_ten_character_fraction_is_kept_within_ten_characters() -> None:
    """'.000000001' reads as 1E-9, whose plain form '0.000000001' has 11 characters: the
    encoder writes it as the peer did, instead of refusing an amount it decoded."""
    cost = isoill.Amount(monetary_value=Decimal("12.00"))
    data = _patched(_shipped(cost=cost), b"\x81\x0512.00", b"\x81\x0a.000000001")
    shipped = isoill.decode(data)
    assert isinstance(shipped, isoill.Shipped) and shipped.supply_details.cost is not None
    assert shipped.supply_details.cost.monetary_value == Decimal("1E-9")
    assert b"\x81\x0a.000000001" in isoill.encode(shipped)
    assert _check_reencodes(data)


def test_version_1_apdu_with_version_2_parameter_is_refused() -> None:
    damaged = isoill.Damaged(
        transaction_id=_tid(),
        damaged_details=isoill.DamagedDetails(damaged_portion=isoill.CompleteDocument()),
    )
    data = bytearray(isoill.encode(damaged))
    where = data.index(b"\x80\x01\x02")  # protocol-version-num 2, first in the SEQUENCE
    data[where + 2] = 1
    with pytest.raises(isoill.DecodeError, match="only protocol version 2 has it") as err:
        isoill.decode(bytes(data))
    assert err.value.path == ["Damaged", "damaged-details"]
