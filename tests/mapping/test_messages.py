"""Every message staff read exists in Japanese and in English, with the same fields."""

from __future__ import annotations

import copy
import pickle
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from isoill.machine import Role
from isoill.mapping import record as records
from isoill.mapping.check_digits import isbn10_check, isbn13_check, issn_check
from isoill.mapping.commands import CommandRefused, Leg, json_options
from isoill.mapping.directory import Directory, DirectoryError
from isoill.mapping.edit import edit
from isoill.mapping.messages import MESSAGES, Text, fields_of, in_lang, pick, reason_of, say
from isoill.mapping.policy import Policy, PolicyError, read_policies
from isoill.mapping.receive_guard import (
    LETTER_CASES,
    Verdict,
    check_receive,
    dummy_record,
    letter_for,
)
from isoill.mapping.record import Command, Record, RecordError, Service, Stat
from isoill.mapping.to_iso import order_request
from tests.mapping.support import GIF
from tests.mapping.test_edit import AT
from tests.mapping.test_receive import REQUEST as RECEIVE_REQUEST
from tests.mapping.test_receive import shipped as receive_shipped

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_exists_in_both_languages(key: str) -> None:
    en, ja = MESSAGES[key]
    assert en.strip() and ja.strip()
    assert JAPANESE.search(ja), f"{key}: the Japanese has no Japanese in it"
    assert fields_of(en) == fields_of(ja), key
    for rule in re.findall(r"N-\d+", en):
        assert rule in ja, f"{key}: {rule} only in English"


def test_a_reason_keeps_its_japanese_through_a_refusal() -> None:
    refused = CommandRefused(Command.CLAIM, [say("claim-refused")])
    (reason,) = refused.reasons
    assert isinstance(reason, Text) and "CLAIM" in reason
    assert in_lang(reason, "ja").startswith("グローバルILLではCLAIMコマンドは使用できません")
    assert in_lang(reason, "en") == MESSAGES["claim-refused"][0]
    assert in_lang("plain", "ja") == "plain"
    with pytest.raises(RecordError) as why:
        edit(Record(STAT=Stat.IN_PROCESS), Role.REQUESTER, {"ID": "X"}, at=AT, by="x")
    assert in_lang(why.value.reasons[0], "ja") == "ID: システムが設定する項目で、編集できません"


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "ja"),
        ("", "ja"),
        ("en-US,en;q=0.9", "en"),
        ("ja,en;q=0.5", "ja"),
        ("fr, en;q=0.8, ja;q=0.9", "ja"),
        ("fr", "ja"),
        ("ja;q=0, en", "en"),
    ],
)
def test_accept_language_picks_japanese_or_english(header: str | None, lang: str) -> None:
    assert pick(header) == lang


def test_each_english_differs_from_its_japanese() -> None:
    same = [key for key, (en, ja) in MESSAGES.items() if en == ja]
    assert not same


# --- every refusal path speaks both languages ------------------------------------------------
#
# Each path below is driven until it refuses, and every reason, note and action it produces
# must be a Text whose Japanese is there and is not the English: a string added later in
# English only fails here, whichever module it is in.


def assert_bilingual(texts: Iterable[str]) -> list[str]:
    texts = list(texts)
    assert texts, "the path produced nothing to check"
    for text in texts:
        assert isinstance(text, Text), f"English only: {text!r}"
        assert text.ja.strip() and text.ja != str(text), f"no Japanese: {text!r}"
        assert JAPANESE.search(text.ja), f"no Japanese: {text.ja!r}"
    return texts


def order_reasons(record: Record) -> list[str]:
    with pytest.raises(RecordError) as refused:
        order_request(record, at=ORDER_AT)
    return refused.value.reasons


def wrong_check(digits: str, check: Callable[[str], str]) -> str:
    right = check(digits)
    return digits + ("1" if right == "0" else "0")


ORDER_AT = datetime(2026, 11, 2, 10, 0)
GOOD = Record.from_json({**GIF, "ID": "CA00012345"})
BAD_ORDERS = {
    "empty": Record(),
    "no article or copyright": GOOD.replace(ARTCL=None, CMMNT="MAX-COST=USD35.50 / PAYMENT=IFM"),
    "slash in the lender": GOOD.replace(HMLISO="PI/T"),
    "issn": GOOD.replace(STDNO=wrong_check("0264161", issn_check)),
    "isbn-10": GOOD.replace(STDNO=wrong_check("400000000", isbn10_check)),
    "isbn-13": GOOD.replace(STDNO=wrong_check("978400000000", isbn13_check)),
    "seven address lines": GOOD.replace(OADRS="\n".join("abcdefg")),
    "unknown shipping": GOOD.replace(SPVIA="pigeon"),
    "ariel without address": GOOD.replace(CMMNT="MAX-COST=USD35.50 / ISO-CC=US:CCG / PAYMENT=IFM"),
    "euros, past date, answers": GOOD.replace(
        CMMNT="MAX-COST=EUR35.50 / ISO-CC=US:CCG / PAYMENT=IFM / NOTE=ARIEL=192.0.2.1 / "
        "NEED-BEFORE=20200101 / OCLC-ILLNUM=12345678 / DUE-DATE=20261201"
    ),
    "kanji": GOOD.replace(BIBNT="図書館雑誌"),
    "every bad token": GOOD.replace(
        CMMNT="MAX-COST=USD35,50 / ISO-CC=US:XX / PAYMENT=CASH / NOTE=ARIEL= / "
        "OCLC-ILLNUM=12a / COND=nonsense / CODE=abc / EXPIRY-DATE=2026 / REPLY=20261340 / "
        "RETRY="
    ),
    "more bad tokens": GOOD.replace(
        CMMNT="MAX-COST=XYZ1 / CODE=999 / NOTE=ARIEL=a / NOTE=ARIEL=b / PAYMENT=IFM / "
        "PAYMENT=IFM / ISO-CC=US:CCG"
    ),
    "long and bare amounts": GOOD.replace(CMMNT="MAX-COST=USD12345678901 / PAYMENT=IFM"),
    "no currency": GOOD.replace(CMMNT="MAX-COST=35 / PAYMENT=IFM"),
}


@pytest.mark.parametrize("case", sorted(BAD_ORDERS))
def test_every_reason_an_order_is_refused_with_is_bilingual(case: str) -> None:
    assert_bilingual(order_reasons(BAD_ORDERS[case]))


def test_single_byte_problems_and_nfkc_notes_are_bilingual() -> None:
    wide = GOOD.replace(VLNO="\uff13\uff12\uff08\uff12\uff09", BIBNT="図書")
    assert_bilingual(records.single_byte_problems(wide))
    _, notes = records.normalised(wide)
    assert_bilingual(notes)
    assert in_lang(notes[0], "ja") == "VLNO: 全角文字を半角にしました(NFKC): '32(2)'"


def receive_texts(verdict: Verdict) -> list[str]:
    return [*verdict.reasons, verdict.action, *verdict.notes]


NO_IFM_POLICY = Policy("PIT", Decimal("15.00"), None, "USD", ifm=False)
NO_CHARGE = Policy("PIT", None, None, "USD")
EUROS = Policy("PIT", Decimal("15.00"), None, "EUR")
FREE = Policy("PIT", None, None, "USD", free_copy=True)
PIT = Policy("PIT", Decimal("15.00"), Decimal("25.00"), "USD", emails=("ill@pit.example.edu",))


RECEIVE_CASES: dict[str, tuple[Record, Any, Policy | None]] = {
    "in process, nothing shipped": (RECEIVE_REQUEST, None, None),
    "preparing": (RECEIVE_REQUEST.replace(STAT=Stat.PREPARING), None, PIT),
    "over max-cost": (RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED), "40.00", PIT),
    "over max-cost, received": (RECEIVE_REQUEST.replace(STAT=Stat.CONFIRMED), "40.00", PIT),
    "no ifm": (RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED), ("15.00", "USD", None), PIT),
    "no ifm by policy": (
        RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED),
        ("15.00", "USD", None),
        NO_IFM_POLICY,
    ),
    "fee": (RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED), "18.00", PIT),
    "fee, received": (RECEIVE_REQUEST.replace(STAT=Stat.CONFIRMED), "18.00", PIT),
    "no charge stated": (RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED), "15.00", NO_CHARGE),
    "free but charged": (RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED), "0", NO_CHARGE),
    "free, no policy": (RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED), ("0", "USD", None), None),
    "free, not by policy": (RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED), ("0", "USD", None), PIT),
    "free by policy": (RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED), ("0", "USD", None), FREE),
    "policy in euros": (RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED), "15.00", EUROS),
    "other currency": (
        RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED),
        ("15.00", "EUR", "PAYMENT=IFM"),
        PIT,
    ),
    "no currency": (
        RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED),
        ("15.00", None, "PAYMENT=IFM"),
        PIT,
    ),
    "no max-cost": (
        RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED, CMMNT="MAX-COST=USD3,5"),
        "15.00",
        PIT,
    ),
    "unreadable sum": (RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED, SUM="USD-5"), None, PIT),
    "unreadable history": (
        RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED).with_history(
            "APDU=Shipped OCLC 20261118 SUM=USD-5"
        ),
        None,
        PIT,
    ),
    "no lender's symbol": (
        RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED, HMLISO=None),
        "18.00",
        NO_CHARGE,
    ),
}


@pytest.mark.parametrize("case", sorted(RECEIVE_CASES))
def test_every_check_before_receive_speaks_both_languages(case: str) -> None:
    record, given, policy = RECEIVE_CASES[case]
    if isinstance(given, tuple):
        apdu = receive_shipped(given[0], given[1], note=given[2])
    elif given is not None:
        apdu = receive_shipped(given, "USD", note="PAYMENT=IFM")
    else:
        apdu = None
    verdict = check_receive(record, apdu, policy, policy_required=policy is None)
    assert_bilingual(receive_texts(verdict))


def test_a_received_over_max_cost_in_english_and_japanese() -> None:
    record = RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED)
    verdict = check_receive(record, receive_shipped("40.00", "USD", note="PAYMENT=IFM"), PIT)
    assert verdict.reasons[0] == "N-14/N-23: the total USD 40.00 exceeds MAX-COST USD 35.50"
    assert in_lang(verdict.reasons[0], "ja") == (
        "N-14/N-23: 合計額 USD 40.00 がMAX-COST USD 35.50 を超えています"
    )
    assert "受付館 PIT <ill@pit.example.edu>" in verdict.action.ja  # type: ignore[attr-defined]
    assert "the lender" not in verdict.action.ja  # type: ignore[attr-defined]


def test_letters_dummy_records_and_their_refusals_are_bilingual() -> None:
    record = RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED)
    apdu = receive_shipped("15.00", "USD", note="PAYMENT=IFM")
    refusals = []
    for case, problem in [("before-receive", ""), ("wrong-or-defective", " "), ("nonsense", "")]:
        with pytest.raises(RecordError) as refused:
            letter_for(case, record, apdu, PIT, problem=problem)
        refusals += refused.value.reasons
    with pytest.raises(RecordError) as refused:
        dummy_record(record.replace(CMMNT="MAX-COST=USD3,5"), "123", "  ")
    refusals += refused.value.reasons
    with pytest.raises(RecordError) as refused:
        dummy_record(record, "12345678", "山田")
    refusals += refused.value.reasons
    assert_bilingual(refusals)
    actions = [
        letter_for(case, record, apdu, None, problem="pages missing")
        for case in LETTER_CASES
        if case not in ("before-receive", "after-receive")
    ]
    assert_bilingual([text for action in actions for text in (action.case, action.record)])


def refusal(leg: Leg, command: Command, **options: Any) -> list[str]:
    with pytest.raises(CommandRefused) as refused:
        leg.command(command, at=ORDER_AT, **options)
    return refused.value.reasons


def test_every_command_refusal_is_bilingual() -> None:
    request = order_request(GOOD, at=ORDER_AT)
    fresh = Leg.requester(GOOD, request)
    ordered, _ = fresh.command(Command.ORDER, request=request, at=ORDER_AT)
    lender, _ = Leg.responder(
        Record(SRVCE=Service.LOAN, SUM="x", CCODE="XYZ", SDATE="2026"), request
    ).receive(request, at=ORDER_AT)
    reasons = [
        *refusal(fresh, Command.SEND),
        *refusal(fresh, Command.RENEW),
        *refusal(ordered, Command.ANSWER),
        *refusal(ordered, Command.RENEW),
        *refusal(ordered, Command.RECEIVE),
        *refusal(ordered, Command.OK),
        *refusal(ordered, Command.CLAIM),
        *refusal(ordered, Command.CALLBACK),
        *refusal(ordered, Command.FORWARD),
        *refusal(ordered, Command.RETRY),
        *refusal(lender, Command.SEND),
        *refusal(lender, Command.INQUIRE),
        *refusal(lender, Command.PARDON),
    ]
    reasons += refusal(Leg.responder(Record(), request), Command.RECEIVE)  # nothing came
    with pytest.raises(ValueError) as bad:
        json_options(
            Command.SEND, {"policy": 1, "shipped": 1, "nope": 1, "force": "y", "reason": 2}
        )
    reasons.append(reason_of(bad.value))
    with pytest.raises(ValueError) as bad:
        json_options(Command.SEND, {"force": True})
    reasons.append(reason_of(bad.value))
    assert_bilingual(reasons)


def test_edits_policies_and_record_json_refuse_in_both_languages() -> None:
    reasons: list[str] = []
    shipped_record = RECEIVE_REQUEST.replace(STAT=Stat.SHIPPED)
    for record, role, changes in [
        (shipped_record, Role.REQUESTER, {}),
        (shipped_record, Role.REQUESTER, {"BIBNT": "x", "SUM": "1", "ID": "Y"}),
        (shipped_record, Role.REQUESTER, {"CMMNT": "MAX-COST=USD50.00 / PAYMENT=IFM"}),
    ]:
        with pytest.raises(RecordError) as refused:
            edit(record, role, changes, at=AT, by="hanako")
        reasons += refused.value.reasons
    for bad in [
        "",
        "symbol,nope\n",
        "symbol,copy_charge,loan_charge,currency,ifm,free_copy,email\n"
        "P-Q,$1,,XYZ,maybe,yes,not-an-address\n,1,,,no,no,\nA,1\nB,,,,yes,no,\nB,,,,yes,no,\n"
        "C,2,,USD,yes,yes,\n",
    ]:
        with pytest.raises(PolicyError) as unusable:
            read_policies(bad)
        reasons += unusable.value.reasons
    for table in ["", "code,symbol\n", "nacsis,oclc\nA\n,\nB C,X\nD,E\nD,E\n"]:
        with pytest.raises(DirectoryError) as no_directory:
            Directory.from_csv(table)
        reasons += no_directory.value.reasons
    for value in [
        [],
        {"NOPE": "1", "STAT": 3, "SRVCE": "FAX", "HISTORY": [1]},
        {"HOLDINGS": [1, {"X": "1"}, {"HMLID": 1}, {}], "FEES": [{}]},
    ]:
        with pytest.raises(RecordError) as refused:
            Record.from_json(value)
        reasons += refused.value.reasons
    assert_bilingual(reasons)


def test_a_text_keeps_its_japanese_when_copied_or_pickled() -> None:
    reason = say("claim-refused")
    for again in (copy.deepcopy(reason), pickle.loads(pickle.dumps(reason))):
        assert isinstance(again, Text) and again == reason and again.ja == reason.ja
