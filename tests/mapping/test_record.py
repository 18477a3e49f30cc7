"""The NACSIS-ILL record's two textual forms, the single-byte rule, and the CMMNT tokens."""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isoill.apdu.enums import Conditions, ReasonUnfilled
from isoill.machine import State
from isoill.mapping import cmmnt
from isoill.mapping.cmmnt import Comment, MaxCost
from isoill.mapping.record import (
    FeeLine,
    Holding,
    Record,
    RecordError,
    Service,
    Stat,
    normalised,
    single_byte_problems,
)
from tests.mapping.support import GIF

# --- records ----------------------------------------------------------------------------

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
holdings = st.builds(Holding, HMLID=texts, LOC=st.none() | texts, VOL=st.none() | texts)
fees = st.builds(FeeLine, ITEM=texts, QNT=st.none() | texts, UPRCE=st.none() | texts)
records = st.builds(
    Record,
    ID=st.none() | texts,
    STAT=st.none() | st.sampled_from(list(Stat)),
    ISOSTAT=st.none() | st.sampled_from(list(State)),
    SRVCE=st.none() | st.sampled_from(list(Service)),
    BIBNT=st.none() | texts,
    OADRS=st.none() | texts,
    CMMNT=st.none() | texts,
    SPVIA=st.none() | texts,
    SUM=st.none() | texts,
    HOLDINGS=st.lists(holdings, max_size=5).map(tuple),
    FEES=st.lists(fees, max_size=10).map(tuple),
    HISTORY=st.lists(texts, max_size=4).map(tuple),
)


@given(records)
def test_json_form_round_trips(record: Record) -> None:
    assert Record.from_json(json.loads(json.dumps(record.to_json()))) == record


@given(records)
def test_line_form_round_trips(record: Record) -> None:
    assert Record.from_lines(record.to_lines()) == record


def test_the_issue_example_reads_and_prints() -> None:
    record = Record.from_json(GIF)
    assert record.SRVCE is Service.COPY and record.SPVIA == "Ariel"
    assert record.to_json() == GIF
    lines = record.to_lines()
    assert "SRVCE: COPY\n" in lines and "BIBNT: Interlending & Document Supply\n" in lines


def test_groups_are_numbered_in_the_line_form() -> None:
    record = Record(
        HOLDINGS=(Holding(HMLID="FA1", LOC="Stacks"), Holding(HMLID="FA2")),
        FEES=(FeeLine(ITEM="A4", QNT="10", UPRCE="0.50", CHRGE="5.00"),),
        HISTORY=("APDU=Shipped OCLC 20261120 SUM=USD12.00 / PAYMENT=IFM",),
    )
    lines = record.to_lines().splitlines()
    assert lines == [
        "HMLID.1: FA1",
        "LOC.1: Stacks",
        "HMLID.2: FA2",
        "ITEM.1: A4",
        "QNT.1: 10",
        "UPRCE.1: 0.50",
        "CHRGE.1: 5.00",
        "HISTORY.1: APDU=Shipped OCLC 20261120 SUM=USD12.00 / PAYMENT=IFM",
    ]


def test_isostat_as_nii_writes_it() -> None:
    assert Record.from_json({"ISOSTAT": "RENEW/PENDING"}).ISOSTAT is State.RENEW_PENDING
    assert Record.from_json({"STAT": "発送"}).STAT is Stat.SHIPPED


def test_every_bad_field_is_reported() -> None:
    with pytest.raises(RecordError) as raised:
        Record.from_json({"SRVCE": "BOOK", "STAT": "done", "COLOUR": "red", "SUM": 12})
    assert len(raised.value.reasons) == 4
    assert any(p.startswith("SRVCE:") for p in raised.value.reasons)
    with pytest.raises(RecordError, match=r"HMLID\.1"):
        Record.from_json({"HOLDINGS": [{"LOC": "x"}]})
    with pytest.raises(RecordError, match="empty fee line"):
        Record.from_json({"FEES": [{}]})
    with pytest.raises(RecordError, match="line 2"):
        Record.from_lines("SRVCE: COPY\nno colon here\n")


def test_single_byte_rule_names_the_field() -> None:
    record = Record.from_json(GIF).replace(TYPE="電子複写", SPVIA="速達")
    assert single_byte_problems(record) == []
    problems = single_byte_problems(
        record.replace(BIBNT="図書館雑誌", ARTCL="\uff29\uff2c\uff2c")
    )  # full-width ILL
    assert len(problems) == 2
    assert problems[0].startswith("BIBNT: '図'")
    assert "(write 'I')" in problems[1]  # a full-width letter has a single-byte form
    assert single_byte_problems(Record(OSTAF="ｱｲｳ")) == []  # half-width katakana: one byte


def wide(text: str) -> str:
    """``text`` as a Japanese input mode types it: full-width letters, digits and signs."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_full_width_typing_is_made_single_byte_and_noted() -> None:
    record = Record.from_json(GIF).replace(
        CMMNT=wide("max-cost=USD35.50"),
        OSTAF="ｱｲｳ",
        TYPE="電子複写",
        SPVIA=wide("FAX"),
        BIBNT="図書館雑誌",
    )
    fixed, notes = normalised(record)
    assert fixed.CMMNT == "max-cost=USD35.50"
    # Nothing else changed: half-width katakana is single-byte already, TYPE and SPVIA may
    # hold Japanese and are kept as typed.
    assert fixed.replace(CMMNT=record.CMMNT) == record
    assert notes == ["CMMNT: full-width characters made single-byte (NFKC): 'max-cost=USD35.50'"]
    # What is still not single-byte after NFKC (kanji) is refused, naming field and character.
    assert single_byte_problems(fixed) == [
        "BIBNT: '図' at character 1 is not single-byte; only TYPE and SPVIA may hold Japanese "
        "on the OCLC link"
    ]
    assert normalised(fixed) == (fixed, [])


# --- CMMNT ------------------------------------------------------------------------------

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))
words = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789.,:()"), min_size=1).filter(
    lambda s: s.strip() == s
)
comments = st.builds(
    Comment,
    max_cost=st.none()
    | st.builds(
        MaxCost,
        currency=st.sampled_from(sorted(cmmnt.CURRENCIES)),
        amount=st.decimals(min_value=0, max_value=99999, places=2),
    ),
    copyright_compliance=st.none() | st.sampled_from(["CCG", "CCL"]),
    payment=st.none() | st.just("IFM"),
    notes=st.lists(words, max_size=2).map(tuple),
    ariel=st.none() | st.just("192.0.2.1"),
    need_before=st.none() | dates,
    expiry_date=st.none() | dates,
    oclc_illnum=st.none() | st.from_regex(r"\A[0-9]{8}\Z"),
    condition=st.none() | st.sampled_from(list(Conditions)),
    reply=st.none() | dates,
    unfilled=st.none() | st.sampled_from(list(ReasonUnfilled)),
    retry=st.none() | dates,
    code=st.none() | st.sampled_from([13, 27]),
    due_date=st.none() | dates,
)


@given(comments)
def test_every_token_round_trips(comment: Comment) -> None:
    reading = cmmnt.read(cmmnt.write(comment))
    assert reading.problems == ()
    assert reading.comment == comment


@given(comments, st.data())
def test_staff_spellings_read_the_same(comment: Comment, data: st.DataObject) -> None:
    """What people type: lower case, full-width characters, spaces around '=' and '/',
    several tokens on a line with the separators left out, free text around them."""
    text = cmmnt.write(comment)
    if data.draw(st.booleans(), label="lower case keys"):
        for key in cmmnt.KEYS:
            text = text.replace(f"{key}=", f"{key.lower()}=")
    if data.draw(st.booleans(), label="spaces"):
        text = text.replace("=", " = ", 1).replace(" / ", "  /  ")
    if data.draw(st.booleans(), label="full width"):
        text = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
        assert unicodedata.normalize("NFKC", text) != text or not text
    reading = cmmnt.read(text)
    assert reading.problems == ()
    assert dataclass_without_free(reading.comment) == dataclass_without_free(comment)


def dataclass_without_free(comment: Comment) -> Comment:
    from dataclasses import replace

    return replace(comment, free_text=())


@settings(max_examples=300)
@given(st.text())
def test_any_text_reads_without_crashing(text: str) -> None:
    reading = cmmnt.read(text)
    for problem in reading.problems:
        assert problem.startswith("'")  # each names its token


def test_free_text_around_tokens_is_kept() -> None:
    reading = cmmnt.read("Please hurry: MAX-COST=USD20 thanks / PAYMENT=ifm")
    assert reading.problems == ()
    assert reading.comment.max_cost == MaxCost("USD", Decimal("20"))
    assert reading.comment.payment == "IFM"
    assert reading.comment.free_text == ("Please hurry:", "thanks")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("MAX-COST=$35.50", "currency code and an amount"),
        ("MAX-COST=ABC35.50", "not an ISO 4217 currency code"),
        ("MAX-COST=USD35,50", "decimal point"),
        ("ISO-CC=US:FAIR", "US:CCG"),
        ("PAYMENT=CASH", "only payment method"),
        ("DUE-DATE=20261301", "not a date"),
        ("NEED-BEFORE=next week", "YYYYMMDD"),
        ("CODE=99", "not an ISO reason"),
        ("COND=too-expensive", "not one of cost-exceeds-limit"),
        ("OCLC-ILLNUM=12AB", "digits only"),
        ("NOTE=ARIEL=", "needs the Ariel address"),
        ("MAX-COST=", "missing"),
        ("PAYMENT=IFM / PAYMENT=IFM", "given twice"),
    ],
)
def test_bad_values_are_refused_with_the_token_and_why(text: str, why: str) -> None:
    reading = cmmnt.read(text)
    assert len(reading.problems) == 1
    assert why in reading.problems[0]
    with pytest.raises(cmmnt.CommentError):
        reading.strict()


def test_gif_comment() -> None:
    comment = cmmnt.read(GIF["CMMNT"]).strict()
    assert comment == Comment(
        max_cost=MaxCost("USD", Decimal("35.50")),
        copyright_compliance="CCG",
        payment="IFM",
        ariel="192.0.2.1",
    )
    assert cmmnt.write(comment) == GIF["CMMNT"]
