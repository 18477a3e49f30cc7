"""The Tsinghua reader form: reading a post, the ILL-Request made from it and the way back."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import isoill
from isoill.apdu.enums import ExpiryFlag, ILLServiceType, ItemType, LACSystem, Preference
from isoill.apdu.types import (
    Amount,
    ElectronicDeliveryService,
    PersonName,
    SystemAddress,
    SystemId,
    SystemNo,
    SystemNoEntry,
    TransactionId,
)
from isoill.demo import gif_copy_request
from isoill.mapping.reader_form import (
    LIMITS,
    Delivery,
    DocumentType,
    FormError,
    ReaderForm,
    ServiceType,
    Urgency,
    from_request,
    isbn10_to_13,
    isbn13_to_10,
    normalise_doi,
    normalise_isbn,
    normalise_issn,
    read_form,
    to_fields,
    to_request,
)
from isoill.testing import pyasn1_decoder
from isoill.testing.strategies import for_type, ill_strings
from tests.paths import TRACES, YAZ_ILLCLIENT_REQUEST

TODAY = date(2012, 4, 6)
AT = datetime(2012, 4, 6, 10, 30, 15)
TID = TransactionId(
    initial_requester_id=SystemId.institution("CALIS:CENTRE"),
    transaction_group_qualifier="73689",
    transaction_qualifier="73689-1",
)
CENTRE = SystemId.institution("CALIS:CENTRE")
PKU = SystemId.institution("CALIS:PKU")

#: ASCII digits and hyphen -> their full-width forms, as a Chinese input method types them.
FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789-"}

#: The seed's example (Tsinghua guide, step 3), as the page posts it.
SEED: dict[str, str] = {
    "service": "copy",
    "document_type": "journal-article",
    "title": "Interlending & Document Supply",
    "volume_issue": "32(2)",
    "article_title": "Licence to Deny? Publisher restrictions on document delivery",
    "year": "2004",
    "pages": "94-101",
    "issn": "0264-1615",
    "language": "英语",
    "delivery": "email",
    "cost_limit": "0",
    "urgency": "normal",
    "name": "passing",
    "postcode": "000000",
    "email": "illuserzj2@dd.co",
    "phone": "010-62782137",
}


def seed_form(**changes: Any) -> ReaderForm:
    return dataclasses.replace(read_form(SEED, today=TODAY), **changes)


def request_for(form: ReaderForm, **options: Any) -> isoill.ILLRequest:
    arguments: dict[str, Any] = {
        "transaction_id": TID,
        "requester": CENTRE,
        "responder": PKU,
        "at": AT,
        "deliver_to_reader": True,
    }
    arguments.update(options)
    return to_request(form, **arguments)


def problems_of(fields: dict[str, Any]) -> list[str]:
    with pytest.raises(FormError) as caught:
        read_form(fields, today=TODAY)
    assert str(caught.value) == "; ".join(caught.value.reasons)
    return caught.value.reasons


def round_trips_on_the_wire(request: isoill.ILLRequest) -> isoill.ILLRequest:
    """Encodes, decodes to the same value, and the independent pyasn1 decoder agrees."""
    data = isoill.encode(request)
    decoded = isoill.decode(data)
    assert decoded == request
    assert pyasn1_decoder.decode(data) == isoill.to_json(decoded)
    return decoded


# --- read_form: the seed --------------------------------------------------------------------


def test_the_seed_example_is_read_and_normalised() -> None:
    form = read_form({**SEED, "issn": " 02641615 ", "submit": "提交"}, today=TODAY)
    assert form == ReaderForm(
        service=ServiceType.COPY,
        document_type=DocumentType.JOURNAL_ARTICLE,
        title="Interlending & Document Supply",
        volume_issue="32(2)",
        article_title="Licence to Deny? Publisher restrictions on document delivery",
        year="2004",
        pages="94-101",
        issn="0264-1615",
        language="eng",
        delivery=Delivery.EMAIL,
        cost_limit=Decimal(0),
        urgency=Urgency.NORMAL,
        name="passing",
        postcode="000000",
        email="illuserzj2@dd.co",
        phone="010-62782137",
    )


def test_chinese_text_is_normal() -> None:
    form = read_form(
        {**SEED, "title": "计算机学报", "author": "张三", "name": "李四", "notes": "请尽快 谢谢"},
        today=TODAY,
    )
    assert (form.title, form.author, form.name, form.notes) == (
        "计算机学报",
        "张三",
        "李四",
        "请尽快 谢谢",
    )


def test_optional_choices_default_and_unknown_keys_are_ignored() -> None:
    fields = {k: v for k, v in SEED.items() if k not in ("delivery", "urgency")}
    form = read_form({**fields, "submit": "提交", "csrf": "x"}, today=TODAY)
    assert form.delivery is Delivery.EMAIL
    assert form.urgency is Urgency.NORMAL
    assert read_form({**SEED, "service": " LOAN "}, today=TODAY).service is ServiceType.LOAN


# --- read_form: every problem at once ------------------------------------------------------


def test_every_problem_is_reported_each_led_by_its_field() -> None:
    problems = problems_of(
        {
            "service": "photocopy",
            "title": "",
            "issn": "1234-567X",
            "isbn": "0306406153",
            "doi": "11.1000/182",
            "language": "klingon",
            "valid_until": "2012-04-05",
            "cost_limit": "1.234",
            "reference": "x" * 51,
            "address": "y" * 101,
            "email": "not-an-address",
            "phone": "call me",
            "holding_library": "CALIS:THU;CALIS:PKU",
        }
    )
    assert problems == [
        "service: photocopy is not one of copy, loan",
        "document_type: required",
        "title: required",
        "issn: 1234-567X is not an ISSN (check digit)",
        "isbn: 0306406153 is not an ISBN (check digit)",
        "doi: 11.1000/182 is not a DOI (10.<registrant>/<suffix>, no spaces)",
        "language: klingon is not a language code (ISO 639-2: eng, chi, jpn ...)",
        "valid_until: 2012-04-05 is in the past (today is 2012-04-06)",
        "cost_limit: 1.234 has more than 2 decimal places",
        "reference: at most 50 characters",
        "holding_library: one library only (no ';')",
        "name: required",
        "address: at most 100 characters",
        "email: not-an-address is not an e-mail address (as name@example.edu.cn)",
        "phone: call me is not a telephone number",
    ]


def test_the_gateway_example_of_a_bad_form() -> None:
    problems = problems_of({**SEED, "title": "", "issn": "0264-1616", "reference": "x" * 51})
    assert {p.split(":")[0] for p in problems} == {"title", "issn", "reference"}


@pytest.mark.parametrize(
    ("field", "limit"),
    [("reference", 50), ("address", 100), ("title", 500), ("notes", 500), ("name", 100)],
)
def test_lengths_are_bounded(field: str, limit: int) -> None:
    assert len(getattr(read_form({**SEED, field: "字" * limit}, today=TODAY), field)) == limit
    assert problems_of({**SEED, field: "字" * (limit + 1)}) == [
        f"{field}: at most {limit} characters"
    ]


def test_a_hostile_megabyte_is_refused_without_being_kept() -> None:
    assert problems_of({**SEED, "notes": " " * 1_000_000 + "x"}) == [
        "notes: at most 500 characters"
    ]


def test_control_characters_are_refused_and_line_breaks_folded() -> None:
    assert problems_of({**SEED, "title": "a\x00b", "phone": "010\x1b62782137"}) == [
        "title: contains control characters",
        "phone: contains control characters",
    ]
    form = read_form(
        {**SEED, "title": "Interlending &\r\nDocument Supply", "notes": "one\r\ntwo\rthree"},
        today=TODAY,
    )
    assert form.title == "Interlending & Document Supply"
    assert form.notes == "one\ntwo\nthree"


def test_a_value_that_is_not_text_is_refused() -> None:
    assert problems_of({**SEED, "cost_limit": 5}) == ["cost_limit: must be text"]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("0264-1615", "0264-1615"),
        ("02641615", "0264-1615"),
        ("ISSN 0264-1615", "0264-1615"),
        ("0264-1615".translate(FULLWIDTH), "0264-1615"),
        ("1000-002x", "1000-002X"),
    ],
)
def test_issn_is_accepted_with_or_without_hyphen(typed: str, kept: str) -> None:
    assert read_form({**SEED, "issn": typed}, today=TODAY).issn == kept


def test_issn_of_the_wrong_shape() -> None:
    assert problems_of({**SEED, "issn": "0264-161"}) == [
        "issn: 0264-161 is not an ISSN (7 digits and a check digit)"
    ]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("0-306-40615-2", "0306406152"),
        ("978-0-306-40615-7", "9780306406157"),
        ("ISBN 979-10-90636-07-1", "9791090636071"),
        ("7-301-04815-7", "7301048157"),
    ],
)
def test_isbn_10_and_13_check_digits(typed: str, kept: str) -> None:
    assert read_form({**SEED, "isbn": typed}, today=TODAY).isbn == kept


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("978-0-306-40615-8", "isbn: 978-0-306-40615-8 is not an ISBN (check digit)"),
        (
            "977-0-306-40615-7",
            "isbn: 977-0-306-40615-7 is not an ISBN (10 digits, or 13 starting 978 or 979)",
        ),
    ],
)
def test_bad_isbns(typed: str, problem: str) -> None:
    assert problems_of({**SEED, "isbn": typed}) == [problem]


def test_isbn_conversions() -> None:
    assert isbn10_to_13("0306406152") == "9780306406157"
    assert isbn13_to_10("9780306406157") == "0306406152"
    assert isbn13_to_10("9791090636071") is None
    assert normalise_isbn("080442957x") == "080442957X"
    assert normalise_issn("issn: 0264 1615") == "0264-1615"


@pytest.mark.parametrize(
    "typed",
    [
        "10.1108/02641610410538504",
        "doi:10.1108/02641610410538504",
        "https://doi.org/10.1108/02641610410538504",
    ],
)
def test_doi_starts_with_10(typed: str) -> None:
    assert read_form({**SEED, "doi": typed}, today=TODAY).doi == "10.1108/02641610410538504"
    with pytest.raises(ValueError, match="not a DOI"):
        normalise_doi("10.1108 02641610410538504")


def test_valid_until_is_an_iso_date_not_in_the_past() -> None:
    assert read_form({**SEED, "valid_until": "2012-04-06"}, today=TODAY).valid_until == TODAY
    assert problems_of({**SEED, "valid_until": "2012-02-30"}) == [
        "valid_until: 2012-02-30 is not a date (YYYY-MM-DD)"
    ]
    assert problems_of({**SEED, "valid_until": "2012/05/01"}) == [
        "valid_until: 2012/05/01 is not a date (YYYY-MM-DD)"
    ]


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("0", Decimal(0)),
        ("12.5", Decimal("12.5")),
        ("12".translate(FULLWIDTH) + "元", Decimal(12)),
        ("50.00", Decimal(50)),
    ],
)
def test_cost_limit_in_yuan(typed: str, amount: Decimal) -> None:
    assert read_form({**SEED, "cost_limit": typed}, today=TODAY).cost_limit == amount


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("-1", "cost_limit: -1 is negative"),
        ("abc", "cost_limit: abc is not an amount of yuan (as 0, 50 or 12.50)"),
        ("1e3", "cost_limit: 1e3 is not an amount of yuan (as 0, 50 or 12.50)"),
        ("10000000", "cost_limit: 10000000 is more than 9999999.99 yuan"),
        ("", "cost_limit: required"),
    ],
)
def test_bad_cost_limits(typed: str, problem: str) -> None:
    assert problems_of({**SEED, "cost_limit": typed}) == [problem]


def test_language_names_and_codes() -> None:
    assert read_form({**SEED, "language": "English"}, today=TODAY).language == "eng"
    assert read_form({**SEED, "language": "JPN"}, today=TODAY).language == "jpn"
    assert read_form({**SEED, "language": "中文"}, today=TODAY).language == "chi"
    assert problems_of({**SEED, "language": "en"}) == [
        "language: en is not a language code (ISO 639-2: eng, chi, jpn ...)"
    ]


def test_phone_numbers_as_people_write_them() -> None:
    for phone in ("010-62782137", "+86 10 6278 2137", "(010)62782137转123", "62782137 ext. 5"):
        assert read_form({**SEED, "phone": phone}, today=TODAY).phone == phone
    assert problems_of({**SEED, "fax": "010;62782137"}) == [
        "fax: 010;62782137 is not a telephone number"
    ]


# --- to_request: the table ------------------------------------------------------------------


def test_the_seed_example_becomes_the_table_s_ill_request() -> None:
    request = request_for(
        seed_form(),
        send_to=[SystemId.institution("CALIS:FDU")],
        already_tried=[SystemId.institution("CALIS:THU")],
        requester_note="从CCC检索到的文献!",
    )
    assert request.ill_service_type == (ILLServiceType.COPY_NON_RETURNABLE,)
    assert (request.requester_id, request.responder_id) == (CENTRE, PKU)
    this = request.service_date_time.date_time_of_this_service
    assert (this.date, this.time) == (AT.date(), AT.time())
    item = request.item_id
    assert item.item_type is ItemType.SERIAL
    assert item.title == "Interlending & Document Supply"
    assert item.title_of_article == "Licence to Deny? Publisher restrictions on document delivery"
    assert (item.volume_issue, item.pagination) == ("32(2)", "94-101")
    assert (item.publication_date, item.publication_date_of_component) == ("2004", "2004")
    assert item.issn == "02641615"
    assert item.isbn is None and item.additional_no_letters is None and item.system_no is None
    assert request.cost_info_type is not None
    assert request.cost_info_type.maximum_cost == Amount(
        monetary_value=Decimal(0), currency_code="CNY"
    )
    assert request.search_type is not None
    assert request.search_type.level_of_service == "N"
    assert request.search_type.expiry_flag is ExpiryFlag.NO_EXPIRY
    address = SystemAddress(
        telecom_service_identifier="SMTP", telecom_service_address="illuserzj2@dd.co"
    )
    assert request.delivery_service == (
        ElectronicDeliveryService(e_delivery_description="e-mail", e_delivery_details=address),
    )
    assert request.client_id is not None
    assert request.client_id.client_name == "passing"
    assert request.delivery_address is not None
    assert request.delivery_address.electronic_address == address
    postal = request.delivery_address.postal_address
    assert postal is not None
    assert postal.name_of_person_or_institution == PersonName("passing")
    assert postal.postal_code == "000000"
    third = request.third_party_info_type
    assert third is not None and third.preference is Preference.ORDERED
    assert third.send_to_list is not None
    assert [e.system_id.symbol for e in third.send_to_list] == ["CALIS:FDU"]
    assert third.already_tried_list == (SystemId.institution("CALIS:THU"),)
    assert request.requester_note == (
        "从CCC检索到的文献! / 电话/phone: 010-62782137; 语种/language: eng"
    )
    round_trips_on_the_wire(request)


def test_distributed_mode_sends_no_reader_address_and_no_third_party() -> None:
    request = request_for(seed_form(address="北京市海淀区清华园1号"), deliver_to_reader=False)
    assert request.delivery_address is None
    assert request.third_party_info_type is None
    # The e-mail still travels, with the e-mail delivery: the supplier may e-mail the reader.
    back = from_request(round_trips_on_the_wire(request))
    assert back == seed_form(address="", postcode="")


def test_a_book_on_loan_with_every_identifier() -> None:
    form = seed_form(
        service=ServiceType.LOAN,
        document_type=DocumentType.BOOK,
        title="计算机网络",
        article_title="",
        author="谢希仁",
        edition="第5版",
        place="北京",
        publisher="电子工业出版社",
        issn="",
        isbn="9787121052422",
        doi="10.1000/182",
        calis_oid="CAL012008123456",
        valid_until=date(2012, 5, 1),
        urgency=Urgency.URGENT,
        delivery=Delivery.EXPRESS,
        cost_limit=Decimal("80.50"),
        reference="my-ref-1",
        holding_library="CALIS:PKU",
        fax="010-62781234",
        notes="第3章即可; thanks",
    )
    request = request_for(form)
    item = request.item_id
    assert request.ill_service_type == (ILLServiceType.LOAN,)
    assert item.item_type is ItemType.MONOGRAPH
    assert (item.author, item.author_of_article) == ("谢希仁", None)
    assert item.publication_date_of_component is None
    assert (item.edition, item.place_of_publication, item.publisher) == (
        "第5版",
        "北京",
        "电子工业出版社",
    )
    assert item.isbn == "7121052423"
    assert item.additional_no_letters == "isbn:9787121052422 doi:10.1000/182"
    assert item.system_no == SystemNo(
        entries=(SystemNoEntry(system=LACSystem.OTHER, record_no="CALIS:CAL012008123456"),)
    )
    assert request.search_type is not None
    assert request.search_type.level_of_service == "U"
    assert request.search_type.expiry_flag is ExpiryFlag.OTHER_DATE
    assert request.search_type.expiry_date == date(2012, 5, 1)
    assert request.delivery_service == "Express mail"
    assert request.client_id is not None
    assert request.client_id.client_identifier == "my-ref-1"
    assert request.requester_note == (
        "电话/phone: 010-62782137; 传真/fax: 010-62781234; 语种/language: eng; "
        "收藏馆/holding-library: CALIS:PKU; 备注/notes: 第3章即可; thanks"
    )
    assert from_request(round_trips_on_the_wire(request)) == form


def test_a_979_isbn_has_no_isbn_10() -> None:
    request = request_for(seed_form(document_type=DocumentType.BOOK, isbn="9791090636071"))
    assert request.item_id.isbn is None
    assert request.item_id.additional_no_letters == "isbn:9791090636071"
    assert from_request(request).isbn == "9791090636071"


def test_an_isbn_10_goes_in_isbn_alone() -> None:
    request = request_for(seed_form(isbn="0306406152"))
    assert (request.item_id.isbn, request.item_id.additional_no_letters) == ("0306406152", None)


def test_a_finer_document_type_travels_in_the_note() -> None:
    form = seed_form(document_type=DocumentType.THESIS, delivery=Delivery.POST)
    request = request_for(form, deliver_to_reader=False)
    assert request.item_id.item_type is ItemType.OTHER
    assert request.delivery_service == "Post"
    assert request.requester_note == (
        "电话/phone: 010-62782137; 电子信箱/e-mail: illuserzj2@dd.co; 语种/language: eng; "
        "文献类型/document-type: thesis"
    )
    assert from_request(request) == dataclasses.replace(form, postcode="")


@pytest.mark.parametrize("note", ["a / b", "电话/phone: 1", "x / 电话/phone: 2"])
def test_the_reader_part_is_found_after_the_callers_note(note: str) -> None:
    form = seed_form(notes="电话/phone: 123; 备注/notes: x")
    request = request_for(form, requester_note=note)
    assert request.requester_note is not None
    assert request.requester_note.startswith(note + " / ")
    assert from_request(request) == form


# --- from_request: other systems' requests ----------------------------------------------------


def test_a_nacsis_gif_request_is_shown_as_a_form() -> None:
    form = from_request(gif_copy_request())
    assert form.service is ServiceType.COPY
    assert form.document_type is DocumentType.JOURNAL_ARTICLE
    assert form.issn == "0264-1615"
    assert form.article_title.startswith("Licence to Deny?")
    assert form.cost_limit == Decimal(0)
    assert "35.50 USD" in form.notes
    assert "Ariel" in form.notes
    assert form.phone == "" and form.email == ""


def test_the_yaz_client_request_is_shown_as_a_form(yaz_trace: bytes) -> None:
    request = isoill.decode(yaz_trace)
    assert isinstance(request, isoill.ILLRequest)
    form = from_request(request)
    assert form.service is ServiceType.LOAN
    assert form.title == "Unknown Title"
    assert form.cost_limit == Decimal(0)
    assert form.to_json()["service"] == "loan"


def test_every_captured_request_is_read() -> None:
    paths = [*sorted(TRACES.glob("*.ber")), YAZ_ILLCLIENT_REQUEST]
    requests = [
        apdu
        for path in paths
        for apdu in isoill.decode_all(path.read_bytes())
        if isinstance(apdu, isoill.ILLRequest)
    ]
    assert len(requests) >= 2
    for request in requests:
        assert from_request(request).title


def test_a_foreign_note_and_identifiers_are_kept_for_staff() -> None:
    base = request_for(seed_form())
    request = dataclasses.replace(
        base,
        requester_note="Please send by Ariel",
        item_id=dataclasses.replace(
            base.item_id,
            item_type=None,
            additional_no_letters="978-0-306-40615-7",
            system_no=SystemNo(entries=(SystemNoEntry(system=LACSystem.OCLC, record_no="123"),)),
            sub_title="a subtitle",
        ),
    )
    form = from_request(request)
    assert form.isbn == "9780306406157"
    assert form.phone == ""
    assert form.notes.splitlines() == [
        "Please send by Ariel",
        "系统号/system number: OCLC 123",
        "副题名/subtitle: a subtitle",
    ]


# --- properties -----------------------------------------------------------------------------

_PLAIN = st.characters(exclude_categories=("Cc", "Cs", "Co", "Zl", "Zp"))
_LINES = st.one_of(_PLAIN, st.just("\n"))


def _text(max_size: int, *, min_size: int = 0, alphabet: Any = _PLAIN) -> st.SearchStrategy[str]:
    return (
        st.text(alphabet=alphabet, max_size=max_size)
        .map(str.strip)
        .filter(lambda s: len(s) >= min_size)
    )


def _valid_issn(text: str) -> bool:
    try:
        normalise_issn(text)
    except ValueError:
        return False
    return True


def _issns() -> st.SearchStrategy[str]:
    """Seven digits and the one check character that makes them an ISSN."""

    def issn(n: int) -> str:
        digits = f"{n:07d}"
        check = next(c for c in "0123456789X" if _valid_issn(digits + c))
        return normalise_issn(digits + check)

    return st.integers(0, 9_999_999).map(issn)


def _isbns() -> st.SearchStrategy[str]:
    ten = st.integers(0, 999_999_999).map(lambda n: isbn13_to_10(isbn10_to_13(f"{n:09d}0")) or "")
    thirteen_978 = ten.map(isbn10_to_13)

    def nine79(n: int) -> str:
        body = f"979{n:09d}"
        for check in "0123456789":
            try:
                return normalise_isbn(body + check)
            except ValueError:
                continue
        raise AssertionError(body)  # pragma: no cover

    return st.one_of(ten, thirteen_978, st.integers(0, 999_999_999).map(nine79))


_NO_SPACE = st.characters(exclude_categories=("Cc", "Cs", "Co", "Zl", "Zp", "Zs"))


def reader_forms(today: date = TODAY) -> st.SearchStrategy[ReaderForm]:
    """Forms :func:`read_form` accepts: every field within its bounds and shape."""
    phones = st.from_regex(r"\+?[0-9]{3,12}(-[0-9]{1,6})?", fullmatch=True)
    return st.builds(
        ReaderForm,
        service=st.sampled_from(ServiceType),
        document_type=st.sampled_from(DocumentType),
        title=_text(60, min_size=1),
        author=_text(30),
        volume_issue=_text(12),
        edition=_text(12),
        article_title=_text(60),
        place=_text(12),
        publisher=_text(20),
        year=_text(6),
        pages=_text(10),
        issn=st.one_of(st.just(""), _issns()),
        isbn=st.one_of(st.just(""), _isbns()),
        doi=st.one_of(
            st.just(""),
            st.tuples(
                st.from_regex(r"[0-9]{4,5}", fullmatch=True),
                st.text(alphabet=_NO_SPACE, min_size=1, max_size=20),
            ).map(lambda p: f"10.{p[0]}/{p[1]}"),
        ),
        calis_oid=st.text(alphabet=_NO_SPACE, max_size=LIMITS["calis_oid"]),
        language=st.one_of(st.just(""), st.from_regex(r"[a-z]{3}", fullmatch=True)),
        valid_until=st.one_of(st.none(), st.dates(min_value=today, max_value=date(2099, 12, 31))),
        delivery=st.sampled_from(Delivery),
        cost_limit=st.decimals(
            min_value=Decimal(0), max_value=Decimal("9999999.99"), places=2, allow_nan=False
        ),
        urgency=st.sampled_from(Urgency),
        reference=_text(LIMITS["reference"]),
        holding_library=_text(30).filter(lambda s: ";" not in s),
        name=_text(20, min_size=1),
        address=_text(LIMITS["address"], alphabet=_LINES),
        postcode=_text(8),
        email=st.from_regex(
            r"[a-z0-9_+-]{1,8}(\.[a-z0-9_+-]{1,4})?@[a-z0-9]{1,10}(\.[a-z]{2,4}){1,2}",
            fullmatch=True,
        ),
        phone=phones,
        fax=st.one_of(st.just(""), phones),
        notes=_text(80, alphabet=_LINES),
    )


@settings(max_examples=150)
@given(form=reader_forms())
def test_read_form_reads_back_what_the_page_posts(form: ReaderForm) -> None:
    assert read_form(to_fields(form), today=TODAY) == form
    assert ReaderForm.from_json(form.to_json()) == form


@settings(max_examples=150)
@given(
    form=reader_forms(),
    send_to=st.lists(st.sampled_from(["CALIS:THU", "CALIS:FDU", "CALIS:ZJU"]), max_size=3),
    note=st.one_of(st.none(), ill_strings(max_size=20)),
)
def test_central_mode_requests_round_trip_to_the_form(
    form: ReaderForm, send_to: list[str], note: str | None
) -> None:
    request = request_for(
        form,
        send_to=[SystemId.institution(s) for s in send_to],
        requester_note=note,
    )
    decoded = round_trips_on_the_wire(request)
    assert from_request(decoded) == form


@settings(max_examples=100)
@given(form=reader_forms())
def test_distributed_mode_requests_round_trip_but_for_the_address(form: ReaderForm) -> None:
    request = request_for(form, deliver_to_reader=False)
    assert request.delivery_address is None
    assert from_request(round_trips_on_the_wire(request)) == dataclasses.replace(
        form, address="", postcode=""
    )


@settings(max_examples=200)
@given(request=for_type(isoill.ILLRequest))
def test_any_ill_request_is_shown_as_some_form(request: isoill.ILLRequest) -> None:
    form = from_request(request)
    assert isinstance(form, ReaderForm)
    assert form.service in (ServiceType.COPY, ServiceType.LOAN)
    assert form.cost_limit >= 0
    assert ReaderForm.from_json(form.to_json()) == form
