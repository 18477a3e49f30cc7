"""ORDER on the GIF link: a NACSIS-ILL record -> the ILL-Request, its rules, the library
directory, the way back, OCLC's workform view, YAZ's reading of the result and the CLI."""

from __future__ import annotations

import dataclasses
import json
import string
import subprocess
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import isoill
from isoill.apdu.enums import ExpiryFlag, ILLServiceType, ItemType, Preference
from isoill.apdu.types import (
    Amount,
    DateDue,
    Extension,
    InstitutionName,
    OCLCILLRequestExtension,
    SupplyDetails,
    SystemAddress,
)
from isoill.demo import ARIEL_ADDRESS, gif_copy_request
from isoill.mapping import cmmnt
from isoill.mapping.cmmnt import Comment, MaxCost
from isoill.mapping.directory import Directory, DirectoryError, Entry
from isoill.mapping.oclc import FieldError, oclc_fields, request_from_oclc_fields
from isoill.mapping.record import Holding, Record, RecordError, Service
from isoill.mapping.to_iso import (
    SPVIA_VALUES,
    order_request,
    postal_lines,
    record_from_request,
)
from isoill.testing import yaz as yazcodec
from tests.mapping.support import GIF
from tests.mapping.test_record import wide

# The issue's record has no ID; NACSIS assigns one when the record is created.
ORDERED = {**GIF, "ID": "CA00012345", "ODATE": "20240105"}
AT = datetime(2024, 1, 5, 10, 30, 0)


def record(**changes: str | None) -> Record:
    fields = {**ORDERED, **changes}
    return Record.from_json({k: v for k, v in fields.items() if v is not None})


def problems_of(rec: Record, **kwargs: Any) -> list[str]:
    with pytest.raises(RecordError) as refused:
        order_request(rec, at=AT, **kwargs)
    return refused.value.reasons


# --- the issue's example ---------------------------------------------------------------------


def test_the_issue_example_is_the_demo_request_in_substance() -> None:
    ours = order_request(record(), at=AT)
    demo = gif_copy_request(AT)
    assert ours.item_id == demo.item_id
    assert ours.cost_info_type == demo.cost_info_type
    assert ours.ill_request_extensions == demo.ill_request_extensions
    assert ours.ill_service_type == demo.ill_service_type
    assert ours.requester_optional_messages == demo.requester_optional_messages
    # NACSIS's "US:CCG" goes on the wire as OCLC takes it (O-1), as in the demo.
    assert ours.copyright_compliance == demo.copyright_compliance == "ccg"
    ariel = SystemAddress(telecom_service_identifier="Ariel", telecom_service_address="192.0.2.1")
    assert ours.delivery_address is not None
    assert ours.delivery_address.electronic_address == ariel
    assert ours.requester_note == "OSTAF=ILL desk"
    # With the demo's Ariel address, delivery is the demo's exactly.
    same_host = record(
        CMMNT=f"MAX-COST=USD35.50 / ISO-CC=US:CCG / PAYMENT=IFM / NOTE=ARIEL={ARIEL_ADDRESS}"
    )
    mapped = order_request(same_host, at=AT)
    assert mapped.delivery_service == demo.delivery_service
    assert mapped.delivery_address is not None and demo.delivery_address is not None
    assert mapped.delivery_address.electronic_address == demo.delivery_address.electronic_address
    assert mapped.protocol_version_num == 2


def test_transaction_id_is_record_id_lender_and_order_date() -> None:
    request = order_request(record(), at=AT)
    tid = request.transaction_id
    assert tid.transaction_group_qualifier == "CA00012345"
    assert tid.transaction_qualifier == "PIT/20240105"
    assert tid.initial_requester_id == request.requester_id
    assert request.requester_id is not None and request.requester_id.symbol == "FA012345"
    assert request.responder_id is not None and request.responder_id.symbol == "PIT"
    this = request.service_date_time.date_time_of_this_service
    assert (this.date, this.time) == (AT.date(), AT.time())
    original = request.service_date_time.date_time_of_original_service
    assert original is not None and original.date == date(2024, 1, 5)
    # N-11: another lender or another day is another transaction.
    assert order_request(record(HMLISO="ZYU"), at=AT).transaction_id != tid
    assert order_request(record(ODATE="20240106"), at=AT).transaction_id != tid


def test_without_odate_the_order_date_is_used() -> None:
    request = order_request(record(ODATE=None), at=AT)
    assert request.transaction_id.transaction_qualifier == "PIT/20240105"
    assert record_from_request(request).ODATE == "20240105"
    odd = order_request(record(ODATE="2024/1/5"), at=AT)
    assert odd.service_date_time.date_time_of_original_service is None


def test_a_holding_stands_in_for_hmliso() -> None:
    rec = record(HMLISO=None).replace(HOLDINGS=(Holding(HMLID="FA099999"), Holding(HMLID="X")))
    request = order_request(rec, at=AT)
    assert request.responder_id is not None and request.responder_id.symbol == "FA099999"
    assert record_from_request(request).HMLISO == "FA099999"


# --- the rules -------------------------------------------------------------------------------

NO_CC = "MAX-COST=USD35.50 / PAYMENT=IFM / NOTE=ARIEL=192.0.2.1"
NO_ARIEL = "MAX-COST=USD35.50 / ISO-CC=US:CCG / PAYMENT=IFM"
NO_MAX = "ISO-CC=US:CCG / PAYMENT=IFM / NOTE=ARIEL=192.0.2.1"
NO_IFM = "MAX-COST=USD35.50 / ISO-CC=US:CCG / NOTE=ARIEL=192.0.2.1"
YEN = "MAX-COST=JPY3500 / ISO-CC=US:CCG / PAYMENT=IFM / NOTE=ARIEL=192.0.2.1"
COMMA = "MAX-COST=USD35,50 / ISO-CC=US:CCG / PAYMENT=IFM / NOTE=ARIEL=192.0.2.1"
CASH = "MAX-COST=USD35.50 / ISO-CC=US:CCG / PAYMENT=CASH / NOTE=ARIEL=192.0.2.1"
BAD_CC = "MAX-COST=USD35.50 / ISO-CC=US:FAIR / PAYMENT=IFM / NOTE=ARIEL=192.0.2.1"
PAST = NO_ARIEL + " / NOTE=ARIEL=192.0.2.1 / NEED-BEFORE=20240104"
ANSWER = NO_ARIEL + " / NOTE=ARIEL=192.0.2.1 / COND=cost-exceeds-limit"


@pytest.mark.parametrize(
    ("changes", "starts", "says"),
    [
        ({"ARTCL": None}, "ARTCL:", "OCLC would turn it into a loan request (N-7)"),
        ({"ARTCL": "   "}, "ARTCL:", "N-7"),
        ({"CMMNT": NO_CC}, "CMMNT: ISO-CC=US:CCG or ISO-CC=US:CCL is missing", "(N-4)"),
        ({"CMMNT": BAD_CC}, "CMMNT: 'ISO-CC=US:FAIR'", "US:CCG"),
        ({"SPVIA": None}, "SPVIA: required (N-5)", "Ariel"),
        ({"SPVIA": "pigeon"}, "SPVIA: 'pigeon' is not a shipping method", "FAX"),
        ({"CMMNT": NO_ARIEL}, "CMMNT: SPVIA Ariel needs the Ariel address", "NOTE=ARIEL="),
        ({"CMMNT": NO_MAX}, "CMMNT: MAX-COST=<currency><amount> is missing", "(N-6)"),
        ({"CMMNT": NO_IFM}, "CMMNT: PAYMENT=IFM is missing", "(N-6)"),
        ({"CMMNT": CASH}, "CMMNT: 'PAYMENT=CASH'", "IFM"),
        ({"CMMNT": YEN}, "CMMNT: 'MAX-COST=JPY3500'", "US dollars"),
        ({"CMMNT": COMMA}, "CMMNT: 'MAX-COST=USD35,50'", "decimal point"),
        ({"CMMNT": PAST}, "CMMNT: 'NEED-BEFORE=20240104'", "(O-3)"),
        ({"CMMNT": ANSWER}, "CMMNT: COND=", "lender's answer"),
        (
            # Full-width letters are made single-byte (NFKC); a kanji has no such form.
            {"BIBNT": "Interlending 及 Document Supply"},
            "BIBNT: '及'",
            "single-byte",
        ),
        ({"BIBNT": None}, "BIBNT:", "title is required"),
        ({"STDNO": "0264-1616"}, "STDNO: 0264-1616 is not an ISSN", "should be 5"),
        ({"STDNO": "4-00-000000-X"}, "STDNO: 4-00-000000-X is not an ISBN", "should be 4"),
        ({"ID": None}, "ID:", "(N-11)"),
        ({"OMLID": None}, "OMLID:", "Borrower"),
        ({"HMLISO": None}, "HMLISO:", "required"),
        ({"HMLISO": "P/T"}, "HMLISO: 'P/T'", "transaction id"),
        ({"OADRS": None}, "OADRS:", "postal address"),
        ({"OADRS": "a\nb\nc\nd\ne\nf\ng"}, "OADRS:", "at most 6 lines"),
        ({"SRVCE": None}, "SRVCE:", "COPY"),
    ],
)
def test_each_rule_refuses_with_its_reason(
    changes: dict[str, str | None], starts: str, says: str
) -> None:
    (problem,) = problems_of(record(**changes))
    assert problem.startswith(starts), problem
    assert says in problem


def test_every_problem_is_reported_at_once() -> None:
    rec = record(
        ARTCL=None,
        SPVIA=None,
        BIBNT="図書館",  # kanji: no single-byte form (full-width letters are made one)
        ID=None,
        CMMNT="ISO-CC=US:CCG / PAYMENT=IFM / NEED-BEFORE=2024-13-01",
    )
    problems = problems_of(rec)
    fields = [p.split(":")[0] for p in problems]
    assert sorted(fields) == sorted(["BIBNT", "CMMNT", "ARTCL", "ID", "SPVIA", "CMMNT"])
    assert any("NEED-BEFORE=2024-13-01" in p for p in problems)
    assert any("MAX-COST=<currency><amount> is missing" in p for p in problems)


def test_a_loan_needs_neither_article_nor_copyright() -> None:
    loan = order_request(
        record(SRVCE="LOAN", ARTCL=None, SPVIA="書留", CMMNT="MAX-COST=USD20 / PAYMENT=IFM"),
        at=AT,
    )
    assert loan.ill_service_type == (ILLServiceType.LOAN,)
    assert loan.copyright_compliance is None
    assert loan.delivery_service == "Registered mail"
    assert loan.requester_optional_messages.can_send_returned


@pytest.mark.parametrize(
    ("spvia", "ship_via"),
    [
        ("速達", "Express mail"),
        ("express", "Express mail"),
        ("EXPRESS MAIL", "Express mail"),
        ("書留", "Registered mail"),
        ("Registered", "Registered mail"),
        ("FAX", "Fax"),
        ("\uff46\uff41\uff58", "Fax"),  # fax, full width
    ],
)
def test_physical_shipping_methods(spvia: str, ship_via: str) -> None:
    request = order_request(record(SPVIA=spvia, CMMNT=NO_ARIEL), at=AT)
    assert request.delivery_service == ship_via
    assert request.delivery_address is not None
    assert request.delivery_address.electronic_address is None
    assert record_from_request(request).SPVIA in ("速達", "書留", "FAX")


def test_ariel_address_found_in_oadrs() -> None:
    for oadrs, address in [
        ("University Library ILL, Tokyo\nAriel: 203.0.113.7", "203.0.113.7"),
        ("ILL, Tokyo (ARIEL=ariel.example.ac.jp)", "ariel.example.ac.jp"),
        ("ILL, 198.51.100.2, Tokyo", "198.51.100.2"),
    ]:
        request = order_request(record(OADRS=oadrs, CMMNT=NO_ARIEL, SPVIA="ariel"), at=AT)
        assert request.delivery_address is not None
        electronic = request.delivery_address.electronic_address
        assert electronic is not None and electronic.telecom_service_address == address
        back = cmmnt.read(record_from_request(request).CMMNT).comment
        assert back.ariel == address


@pytest.mark.parametrize(
    ("stdno", "fields", "back"),
    [
        ("0264-1615", {"issn": "02641615", "item_type": ItemType.SERIAL}, "0264-1615"),
        ("02641615", {"issn": "02641615", "item_type": ItemType.SERIAL}, "0264-1615"),
        ("ISSN 0378-5955", {"issn": "03785955", "item_type": ItemType.SERIAL}, "0378-5955"),
        ("2434-561X", {"issn": "2434561X", "item_type": ItemType.SERIAL}, "2434-561X"),
        ("0-306-40615-2", {"isbn": "0306406152", "item_type": ItemType.MONOGRAPH}, "0306406152"),
        (
            "978-0-306-40615-7",
            {
                "isbn": "0306406152",
                "additional_no_letters": "978-0-306-40615-7",
                "item_type": ItemType.MONOGRAPH,
            },
            "978-0-306-40615-7",
        ),
        (
            "9791234567896",
            {"additional_no_letters": "9791234567896", "item_type": ItemType.MONOGRAPH},
            "9791234567896",
        ),
        ("NCID:BA12345678", {"additional_no_letters": "NCID:BA12345678"}, "NCID:BA12345678"),
    ],
)
def test_standard_numbers(stdno: str, fields: dict[str, Any], back: str) -> None:
    request = order_request(record(STDNO=stdno), at=AT)
    expected = {"issn": None, "isbn": None, "additional_no_letters": None, **fields}
    assert expected.items() <= dataclasses.asdict(request.item_id).items()
    assert back == record_from_request(request).STDNO


# --- the directory ---------------------------------------------------------------------------

CSV = "nacsis,oclc,name\nFA012345,JPTKU,Example University Library\nFA099999,PIT\n"


def test_directory_maps_both_ways_and_passes_the_unknown_through() -> None:
    directory = Directory.from_csv(CSV)
    assert len(directory) == 2
    assert directory.oclc_symbol("FA012345") == "JPTKU"
    assert directory.nacsis_code("PIT") == "FA099999"
    assert directory.oclc_symbol("FA000000") == "FA000000"
    assert directory.nacsis_code("ZYU") == "ZYU"
    assert directory.by_nacsis("FA012345") == Entry(
        "FA012345", "JPTKU", "Example University Library"
    )
    request = order_request(record(HMLISO="ZYU"), directory=directory, at=AT)
    assert request.requester_id is not None
    assert request.requester_id.symbol == "JPTKU"
    assert request.requester_id.name_of_person_or_institution == InstitutionName(
        "Example University Library"
    )
    assert request.responder_id is not None and request.responder_id.symbol == "ZYU"
    back = record_from_request(request, directory=directory)
    assert (back.OMLID, back.HMLISO) == ("FA012345", "ZYU")
    via_holding = record(HMLISO=None).replace(HOLDINGS=(Holding(HMLID="FA099999"),))
    to_pit = order_request(via_holding, directory=directory, at=AT)
    assert to_pit.responder_id is not None and to_pit.responder_id.symbol == "PIT"


def test_directory_file_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "dir.csv"
    path.write_text("NACSIS, OCLC\r\nFA012345 , JPTKU\r\n\r\n", encoding="utf-8-sig")
    assert Directory.load(path).oclc_symbol("FA012345") == "JPTKU"


def test_directory_reports_every_bad_row_by_line() -> None:
    text = (
        "nacsis,oclc,name\n"
        "FA012345,JPTKU\n"  # the name may be left out
        "FA012346\n"
        "FA012347,A,B,C\n"
        "FA000001,,Nameless\n"
        "FA000002,AB C,\n"
        "FA000003,PIT,\n"
        "FA000003,ZYU,\n"
        "FA000004,PIT,\n"
    )
    with pytest.raises(DirectoryError) as bad:
        Directory.from_csv(text)
    assert bad.value.reasons == [
        "line 3: 2 or 3 columns expected, found 1",
        "line 4: 2 or 3 columns expected, found 4",
        "line 5: the OCLC code is empty",
        "line 6: the OCLC code 'AB C' has a space in it",
        "line 8: NACSIS code FA000003 is listed twice (also line 7)",
        "line 9: OCLC symbol PIT is listed twice (also line 7, for FA000003)",
    ]
    with pytest.raises(DirectoryError, match="line 1: the header must be"):
        Directory.from_csv("oclc,nacsis\nPIT,FA000003\n")
    with pytest.raises(DirectoryError, match="empty directory"):
        Directory.from_csv("\n")
    with pytest.raises(DirectoryError, match="listed twice"):
        Directory([Entry("FA1", "A"), Entry("FA2", "A")])


# --- there and back --------------------------------------------------------------------------

_ASCII = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
texts = st.text(_ASCII, min_size=1, max_size=20).map(str.strip).filter(bool)
words = st.text(string.ascii_letters + string.digits, min_size=1, max_size=8)
phrases = st.lists(words, min_size=1, max_size=4).map(" ".join)
symbols = st.text(string.ascii_uppercase, min_size=3, max_size=5)
nacsis_codes = st.integers(0, 999_999).map(lambda n: f"FA{n:06d}")
days = st.dates(date(2000, 1, 1), date(2030, 12, 31))
ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))


def _issn(n: int) -> str:
    digits = f"{n:07d}"
    total = sum(int(d) * w for d, w in zip(digits, range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    full = digits + ("X" if check == 10 else str(check))
    return f"{full[:4]}-{full[4:]}"


def _isbn10(n: int) -> str:
    digits = f"{n:09d}"
    total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return digits + ("X" if check == 10 else str(check))


def _isbn13(prefix: str, n: int) -> str:
    digits = f"{prefix}{n:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return digits + str((10 - total % 10) % 10)


standard_numbers = st.one_of(
    st.integers(0, 9_999_999).map(_issn),
    st.integers(0, 999_999_999).map(_isbn10),
    st.tuples(st.sampled_from(["978", "979"]), st.integers(0, 999_999_999)).map(
        lambda t: _isbn13(*t)
    ),
    st.integers(0, 99_999_999).map(lambda n: f"NCID:BA{n:08d}"),
)
amounts = st.integers(0, 9_999_999).map(lambda cents: Decimal(cents).scaleb(-2))


@st.composite
def orderable(draw: st.DrawFn) -> Record:
    """A record the GIF rules accept, with only fields the mapping carries."""
    service = draw(st.sampled_from(list(Service)))
    spvia = draw(st.sampled_from(SPVIA_VALUES))
    copy = service is Service.COPY
    comment = Comment(
        max_cost=MaxCost("USD", draw(amounts)),
        copyright_compliance=draw(
            st.sampled_from(["CCG", "CCL"]) if copy else st.none() | st.sampled_from(["CCG", "CCL"])
        ),
        payment="IFM",
        notes=tuple(draw(st.lists(phrases, max_size=2))),
        ariel=draw(ipv4) if spvia == "Ariel" else draw(st.none() | ipv4),
        need_before=draw(st.none() | st.dates(AT.date(), date(2030, 12, 31))),
        expiry_date=draw(st.none() | days),
        free_text=tuple(draw(st.lists(phrases, max_size=2))),
    )
    optional = st.none() | texts
    return Record(
        ID=draw(st.integers(0, 99_999_999).map(lambda n: f"CA{n:08d}")),
        SRVCE=service,
        OMLID=draw(nacsis_codes),
        HMLISO=draw(symbols),
        BIBNT=draw(texts),
        STDNO=draw(st.none() | standard_numbers),
        VLNO=draw(optional),
        PAGE=draw(optional),
        YEAR=draw(optional),
        ARTCL=draw(texts) if copy else draw(optional),
        CLNT=draw(optional),
        CLNTP=draw(optional),
        ODATE=draw(days).strftime("%Y%m%d"),
        CMMNT=cmmnt.write(comment),
        OSTAF=draw(optional),
        OADRS="\n".join(draw(st.lists(texts, min_size=1, max_size=6))),
        SPVIA=spvia,
    )


@st.composite
def directories(draw: st.DrawFn) -> Directory | None:
    codes = draw(st.lists(nacsis_codes, unique=True, max_size=4))
    oclc = draw(st.lists(symbols, unique=True, min_size=len(codes), max_size=len(codes)))
    return draw(st.none() | st.just(Directory(map(Entry, codes, oclc))))


@settings(max_examples=300)
@given(orderable(), directories(), st.data())
def test_record_to_request_to_record_keeps_every_mapped_field(
    rec: Record, directory: Directory | None, data: st.DataObject
) -> None:
    if directory is not None and len(directory) and data.draw(st.booleans()):
        # Sometimes the requester is one the directory knows.
        rec = rec.replace(OMLID=data.draw(st.sampled_from([e.nacsis for e in directory])))
    request = order_request(rec, directory=directory, at=AT)
    assert record_from_request(request, directory=directory) == rec
    wire = isoill.decode(isoill.encode(request))
    assert isinstance(wire, isoill.ILLRequest)
    assert record_from_request(wire, directory=directory) == rec


# --- YAZ -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def helper(yaz_helper: Path) -> Path:
    return yaz_helper


@pytest.mark.yaz
def test_yaz_reads_the_mapped_gif_request(helper: Path) -> None:
    request = order_request(record(), at=AT)
    result = yazcodec.yaz_roundtrip(helper, isoill.encode(request))
    assert result.ok, result.error
    (tree,) = result.trees
    for text in ("Licence to Deny?", "02641615", "ccg", "35.50", "USD", "192.0.2.1", "PIT/"):
        assert text in tree
    assert isoill.decode(result.reencoded) == request


@pytest.mark.yaz
@settings(max_examples=5)
@given(st.lists(orderable(), min_size=1, max_size=15))
def test_yaz_reads_mapped_requests(helper: Path, batch: list[Record]) -> None:
    requests = [order_request(rec, at=AT) for rec in batch]
    result = yazcodec.yaz_roundtrip(helper, b"".join(isoill.encode(r) for r in requests))
    assert result.ok, result.error
    assert isoill.decode_all(result.reencoded) == requests


# --- OCLC's workform view --------------------------------------------------------------------


def test_oclc_fields_of_the_gif_request() -> None:
    rec = record(CLNT="Tanaka Hanako", CLNTP="Medicine", CMMNT=ORDERED["CMMNT"] + " / NOTE=rush")
    fields = oclc_fields(order_request(rec, at=AT))
    assert fields == {
        "BORROWER": "FA012345",
        "LENDER": "PIT",
        "TITLE": "Interlending & Document Supply",
        "ARTICLE": "Licence to Deny? Publisher restrictions on document delivery",
        "VOLUME": "32(2)",
        "DATE": "2004",
        "PAGES": "94-101",
        "ISSN": "02641615",
        "PATRON": "Tanaka Hanako",
        "PDEPT": "Medicine",
        "SHIPTO": "University Library ILL, Tokyo",
        "SHIPVIA": "Ariel",
        "MAXCOST": "USD35.50 IFM",
        "COPYRTCOMPLIANCE": "ccg",
        "BORROWINGNOTES": "NOTE=rush / OSTAF=ILL desk / Ariel address: 192.0.2.1",
    }


def test_oclc_fields_give_the_request_back() -> None:
    fields = {
        "BORROWER": "JPTKU",
        "LENDER": "PIT,ZYU,AAA",
        "ILLNUM": "12345678",
        "TITLE": "Interlending & Document Supply",
        "AUTHOR": "Someone",
        "ARTICLE": "Licence to Deny?",
        "VOLUME": "32",
        "ISSUE": "2",
        "DATE": "2004",
        "PAGES": "94-101",
        "ISSN": "02641615",
        "ISBN": "4000000002",
        "VERIFIED": "WorldCat",
        "NEEDBEFORE": "20240301",
        "PATRON": "Tanaka",
        "PDEPT": "Medicine",
        "SHIPTO": "ILL / 1-1 Example-cho / Tokyo",
        "SHIPVIA": "Ariel",
        "MAXCOST": "USD35.50 IFM",
        "COPYRTCOMPLIANCE": "ccl",
        "AFFILIATION": "GIF",
        "BORROWINGNOTES": "please hurry / Ariel address: 192.0.2.1",
    }
    request = request_from_oclc_fields(fields, at=AT)
    assert oclc_fields(request) == fields
    assert request.ill_service_type == (ILLServiceType.COPY_NON_RETURNABLE,)
    assert request.transaction_id.transaction_qualifier == "12345678"
    assert request.responder_id is not None and request.responder_id.symbol == "PIT"
    third = request.third_party_info_type
    assert third is not None and third.preference is Preference.ORDERED
    assert request.search_type is not None
    assert request.search_type.expiry_flag is ExpiryFlag.NEED_BEFORE_DATE
    assert isoill.decode(isoill.encode(request)) == request
    loan = request_from_oclc_fields({"BORROWER": "JPTKU", "ILLNUM": "1", "SHIPVIA": "Fax"})
    assert loan.ill_service_type == (ILLServiceType.LOAN,)
    assert loan.delivery_service == "Fax"
    assert oclc_fields(loan) == {"BORROWER": "JPTKU", "ILLNUM": "1", "SHIPVIA": "Fax"}


@settings(max_examples=100)
@given(orderable())
@example(record(ACCT=None, OADRS="0 /\n0"))  # a line ending in SHIPTO's separator
def test_a_mapped_request_survives_the_workform(rec: Record) -> None:
    request = order_request(rec, at=AT)
    again = request_from_oclc_fields(
        oclc_fields(request), transaction_id=request.transaction_id, at=AT
    )
    assert oclc_fields(again) == oclc_fields(request)
    if rec.SRVCE is Service.LOAN and rec.ARTCL is not None:
        # OCLC reads an article as a copy request (N-7).
        rec = rec.replace(SRVCE=Service.COPY)
    if request.item_id.additional_no_letters is not None:
        # No workform field for other numbers; an ISBN-13 shows as its ISBN-10 if it has one.
        rec = rec.replace(STDNO=request.item_id.isbn)
    # The workform has no expiry date (a request expires at NEED BEFORE).
    comment = dataclasses.replace(cmmnt.read(rec.CMMNT).comment, expiry_date=None)
    assert record_from_request(again) == rec.replace(CMMNT=cmmnt.write(comment))


@pytest.mark.parametrize(
    ("oadrs", "shipto"),
    [
        ("0 /\n0", "0 // / 0"),
        ("ILL Office /\nTokyo", "ILL Office // / Tokyo"),
        ("ILL Office\n/ Annex", "ILL Office / // Annex"),
        ("Bldg A / Room 3\nTokyo", "Bldg A // Room 3 / Tokyo"),
        ("ILL\n/\nTokyo", "ILL / // / Tokyo"),
        ("Bldg A // Room 3", "Bldg A /// Room 3"),
        ("c/o ILL\n1-2/3 Example-cho /", "c/o ILL / 1-2/3 Example-cho //"),
    ],
)
def test_shipto_keeps_a_line_with_a_free_slash(oadrs: str, shipto: str) -> None:
    request = order_request(record(OADRS=oadrs), at=AT)
    fields = oclc_fields(request)
    assert fields["SHIPTO"] == shipto
    again = request_from_oclc_fields(fields, transaction_id=request.transaction_id, at=AT)
    assert again.delivery_address == request.delivery_address
    assert oadrs == record_from_request(again).OADRS


@given(st.lists(st.text(" /0", min_size=1, max_size=6).map(str.strip).filter(bool), max_size=5))
def test_shipto_gives_back_any_lines_of_slashes(lines: list[str]) -> None:
    oadrs = "\n".join(["ILL", *lines])
    request = order_request(record(OADRS=oadrs), at=AT)
    again = request_from_oclc_fields(
        oclc_fields(request), transaction_id=request.transaction_id, at=AT
    )
    assert oadrs == record_from_request(again).OADRS


def test_shipto_typed_by_staff() -> None:
    def lines(shipto: str, written: str | None = None) -> list[str]:
        request = request_from_oclc_fields({"BORROWER": "JPTKU", "ILLNUM": "1", "SHIPTO": shipto})
        address = request.delivery_address
        assert address is not None and address.postal_address is not None
        assert oclc_fields(request)["SHIPTO"] == (written or shipto)
        return postal_lines(address.postal_address)

    # " / " is a line break; a slash touching a word is part of its line.
    assert lines("c/o ILL / 1-2/3 Example-cho / Tokyo") == ["c/o ILL", "1-2/3 Example-cho", "Tokyo"]
    # A doubled slash is a slash inside the line, and does not count as a line.
    assert lines("Bldg A // Room 3 / 2 / 3 / 4 / 5 / 6") == ["Bldg A / Room 3", *"23456"]
    # A lone free slash, which the workform never writes, is read as it stands.
    assert lines("ILL / / Annex", written="ILL / // Annex") == ["ILL", "/ Annex"]
    with pytest.raises(FieldError) as bad:
        request_from_oclc_fields(
            {"BORROWER": "JPTKU", "ILLNUM": "1", "SHIPTO": "1 // 2 / 3 / 4 / 5 / 6 / 7 / 8"}
        )
    assert [p.split(":")[0] for p in bad.value.reasons] == ["SHIPTO"]


def test_oclc_fields_refused() -> None:
    with pytest.raises(FieldError) as bad:
        request_from_oclc_fields(
            {
                "LENDCHG": "USD10",
                "COLOUR": "red",
                "MAXCOST": "lots",
                "NEEDBEFORE": "soon",
                "SHIPTO": "1 / 2 / 3 / 4 / 5 / 6 / 7",
            }
        )
    assert [p.split(":")[0] for p in bad.value.reasons] == [
        "LENDCHG",
        "COLOUR",
        "BORROWER",
        "ILLNUM",
        "MAXCOST",
        "NEEDBEFORE",
        "SHIPTO",
    ]


def test_oclc_fields_of_a_shipped() -> None:
    request = order_request(record(), at=AT)
    details = SupplyDetails(
        cost=Amount(monetary_value=Decimal("12.00"), currency_code="USD"),
        date_due=DateDue(date_due_field=AT.date() + timedelta(days=30)),
        shipped_via="Ariel",
    )

    def shipped(**changes: Any) -> isoill.Shipped:
        return isoill.Shipped(
            transaction_id=request.transaction_id,
            requester_id=request.requester_id,
            responder_id=request.responder_id,
            shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE,
            supply_details=details,
            **changes,
        )

    assert oclc_fields(shipped(responder_note="PAYMENT=IFM / OCLC-ILLNUM=12345678")) == {
        "BORROWER": "FA012345",
        "LENDER": "PIT",
        "ILLNUM": "12345678",
        "SHIPVIA": "Ariel",
        "LENDCHG": "USD12.00 IFM",
        "DUEDATE": "20240204",
    }
    ifm = Extension(identifier=1, item=OCLCILLRequestExtension(payment_method="ifm"))
    assert oclc_fields(shipped(shipped_extensions=(ifm,)))["LENDCHG"] == "USD12.00 IFM"
    plain = oclc_fields(shipped(responder_note="thank you"))
    assert plain["LENDCHG"] == "USD12.00" and "ILLNUM" not in plain


# --- the command line ------------------------------------------------------------------------


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "isoill.cli", *args], input=stdin, capture_output=True, check=False
    )


def _substance(request: isoill.APDU) -> dict[str, Any]:
    plain = isoill.to_json(request)["ill-request"]
    del plain["service-date-time"]["date-time-of-this-service"]
    return dict(plain)


def test_cli_order_prints_the_request(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(ORDERED, ensure_ascii=False), encoding="utf-8")
    done = run("nacsis", "order", str(path))
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert text.startswith("ill-request:\n  protocol-version-num: 2\n")
    assert '    transaction-qualifier: "PIT/20240105"' in text
    assert '  copyright-compliance: "ccg"' in text
    assert '          paymentMethod: "IFM"' in text


def test_cli_order_writes_ber(tmp_path: Path) -> None:
    csv_path = tmp_path / "directory.csv"
    csv_path.write_text(CSV, encoding="utf-8")
    stdin = json.dumps(ORDERED).encode()
    done = run("nacsis", "order", "-", "--ber", "--directory", str(csv_path), stdin=stdin)
    assert done.returncode == 0, done.stderr
    decoded = isoill.decode(done.stdout)
    expected = order_request(record(), directory=Directory.from_csv(CSV), at=AT)
    assert _substance(decoded) == _substance(expected)
    assert decoded.requester_id is not None and decoded.requester_id.symbol == "JPTKU"


def test_cli_order_refusal_exits_2_with_every_reason() -> None:
    refused = {**ORDERED, "SPVIA": "", "CMMNT": "ISO-CC=US:CCG"}
    done = run("nacsis", "order", "-", stdin=json.dumps(refused).encode())
    assert done.returncode == 2
    assert done.stdout == b""
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("isoill: SPVIA: required")
    assert any("PAYMENT=IFM is missing" in line for line in lines)
    assert any("MAX-COST=<currency><amount> is missing" in line for line in lines)
    unreadable = run("nacsis", "order", "-", stdin=b'{"SRVCE": "MAYBE"}')
    assert unreadable.returncode == 2 and b"SRVCE" in unreadable.stderr


def test_cli_order_bad_inputs_exit_1(tmp_path: Path) -> None:
    assert run("nacsis", "order", "-", stdin=b"{not json").returncode == 1
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("nacsis,oclc\nFA1,\n", encoding="utf-8")
    done = run(
        "nacsis", "order", "-", "--directory", str(bad_csv), stdin=json.dumps(ORDERED).encode()
    )
    assert done.returncode == 1
    assert b"line 2: the OCLC code is empty" in done.stderr
    assert run("nacsis").returncode == 2


def test_cli_order_assigns_an_id_to_a_record_without_one() -> None:
    done = run("nacsis", "order", "-", stdin=json.dumps(GIF).encode())
    assert done.returncode == 0, done.stderr
    said = done.stderr.decode()
    assigned = said.split()[2]
    assert said.startswith("isoill: ID LA") and "assigned" in said
    assert len(assigned) == 10 and assigned[2:].isdigit()
    assert f'transaction-group-qualifier: "{assigned}"' in done.stdout.decode()


def test_cli_order_takes_the_id_from_the_option() -> None:
    done = run("nacsis", "order", "-", "--id", "LA00000042", stdin=json.dumps(GIF).encode())
    assert done.returncode == 0, done.stderr
    assert done.stderr == b"isoill: ID LA00000042 (from --id)\n"
    assert 'transaction-group-qualifier: "LA00000042"' in done.stdout.decode()
    # The record's own ID is kept silently; an --id contradicting it is refused.
    same = run("nacsis", "order", "-", "--id", "CA00012345", stdin=json.dumps(ORDERED).encode())
    assert same.returncode == 0 and same.stderr == b""
    other = run("nacsis", "order", "-", "--id", "LA1", stdin=json.dumps(ORDERED).encode())
    assert other.returncode == 2 and b"--id says LA1" in other.stderr
    wide = run("nacsis", "order", "-", "--id", "LA番号", stdin=json.dumps(GIF).encode())
    assert wide.returncode == 2 and b"single-byte" in wide.stderr


def test_cli_order_takes_a_full_width_cmmnt() -> None:
    done = run(
        "nacsis",
        "order",
        "-",
        "--id",
        "LA00000042",
        stdin=json.dumps({**GIF, "CMMNT": wide(GIF["CMMNT"].lower())}).encode(),
    )
    assert done.returncode == 0, done.stderr
    said = done.stderr.decode().splitlines()
    assert said[1].startswith("isoill: note: CMMNT: full-width characters made single-byte (NFKC)")
    text = done.stdout.decode()
    assert '  copyright-compliance: "ccg"' in text and 'paymentMethod: "IFM"' in text
    kanji = run("nacsis", "order", "-", stdin=json.dumps({**GIF, "ARTCL": "論文"}).encode())
    assert kanji.returncode == 2
    assert b"ARTCL: '\xe8\xab\x96' at character 1 is not single-byte" in kanji.stderr


def test_cli_order_in_japanese() -> None:
    refused = json.dumps({**GIF, "SPVIA": "", "CMMNT": "ISO-CC=US:CCG / MAX-COST=USD3,5"})
    done = run("nacsis", "order", "-", "--lang", "ja", "--id", "LA1", stdin=refused.encode())
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.decode().splitlines() == [
        "isoill: ID LA1(--idによる)",
        "isoill: CMMNT: 'MAX-COST=USD3,5': 金額は小数点で書き、カンマは使わないでください"
        "(USD35.50)",
        "isoill: SPVIA: 送付方法は必須です(N-5)。速達、書留、FAX、Ariel(OCLCのSHIP VIA)",
        "isoill: CMMNT: PAYMENT=IFMがありません。OCLCとのリンクの決済はIFMだけで、ないとNIIは転送"
        "エラー(新着照会)としてレコードを戻します(N-6)",
    ]
    typed = {**GIF, "CMMNT": wide(GIF["CMMNT"].lower())}
    noted = run("nacsis", "order", "-", "--lang", "ja", stdin=json.dumps(typed).encode())
    assert noted.returncode == 0, noted.stderr
    said = noted.stderr.decode().splitlines()
    assert said[0].endswith("(レコードにIDがないため付与しました)")
    assert said[1].startswith("isoill: 注記: CMMNT: 全角文字を半角にしました(NFKC)")
    english = run("nacsis", "order", "-", stdin=refused.encode())
    assert b"SPVIA: required (N-5)" in english.stderr and "必須".encode() not in english.stderr
