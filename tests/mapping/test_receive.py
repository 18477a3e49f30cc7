"""Arrivals from OCLC on a Japanese request: the record's history line and state, the checks
before RECEIVE with the guide's figures (MAX-COST USD 35.50, lenders' fees USD 12-20), the
guide's other troubles, the dummy record, and ``isoill nacsis check-receive``."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import isoill
from isoill.apdu.enums import (
    Conditions,
    ILLServiceType,
    ReasonNotAvailable,
    ReasonUnfilled,
    ReasonWillSupply,
    TransactionResults,
)
from isoill.apdu.types import (
    Amount,
    ConditionalResults,
    DateDue,
    Extension,
    HoldPlacedResults,
    ItemId,
    OCLCILLRequestExtension,
    RetryResults,
    SupplyDetails,
    TransactionId,
    UnfilledResults,
    WillSupplyResults,
)
from isoill.cli import main
from isoill.machine import Role, State, Transaction, receive, send
from isoill.machine.events import qualifier_of
from isoill.mapping.cmmnt import MaxCost
from isoill.mapping.from_oclc import (
    INCOMING,
    Cost,
    apply_incoming,
    find_oclc_illnum,
    last_shipped,
    read_line,
    sent_physical_for_copy,
)
from isoill.mapping.messages import in_lang
from isoill.mapping.policy import Policies, Policy, PolicyError, read_policies
from isoill.mapping.receive_guard import (
    DUMMY_ARTCL,
    GIF_TEAM,
    KINOKUNIYA,
    LETTER_CASES,
    NII_DESK,
    Verdict,
    check_receive,
    dummy_record,
    letter_for,
    marked_for_cancel,
    not_received,
    physical_item_for_copy,
    rejected_after_shipping,
    requested_by_mistake,
    stuck_in_processing,
    with_shipped,
    wrong_or_defective,
)
from isoill.mapping.record import Record, RecordError, Service, Stat
from tests.mapping.support import GIF

TID = TransactionId(transaction_group_qualifier="GIF", transaction_qualifier="CA00012345")
AT = date(2026, 11, 20)
ILLNUM = "12345678"

#: The guide's copy request: at most USD 35.50, through IFM, from PIT.
REQUEST = Record(
    SRVCE=Service.COPY,
    STAT=Stat.IN_PROCESS,
    ISOSTAT=State.PENDING,
    OMLID="FA012345",
    HMLISO="PIT",
    BIBNT="Interlending & Document Supply",
    VLNO="32(2)",
    PAGE="94-101",
    ARTCL="Licence to Deny? Publisher restrictions on document delivery",
    ODATE="20261101",
    OSTAF="Hanako Yamada",
    CMMNT="MAX-COST=USD35.50 / ISO-CC=US:CCG / PAYMENT=IFM",
)

POLICY_CSV = """\
symbol,copy_charge,loan_charge,currency,ifm,free_copy,email
# the guide's range: USD 12-20 an item
PIT,15.00,25.00,USD,yes,no,ill@pit.example.edu
CHEAP,12,,USD,yes,no,ill@cheap.example.edu
DEAR,20.00,30.00,USD,yes,no,ill@dear.example.edu

FREE,,20.00,USD,yes,yes,ill@free.example.edu; docdel@free.example.edu
"""
POLICIES = read_policies(POLICY_CSV)


def policy(symbol: str = "PIT") -> Policy:
    found = POLICIES.lookup(symbol)
    assert found is not None
    return found


def shipped(
    amount: str | None = "15.00",
    currency: str | None = "USD",
    *,
    note: str | None = f"PAYMENT=IFM / OCLC-ILLNUM={ILLNUM}",
    service: ILLServiceType = ILLServiceType.COPY_NON_RETURNABLE,
    due: date | None = None,
    extensions: tuple[Extension, ...] | None = None,
) -> isoill.Shipped:
    """The lender's Shipped, through BER and back, as it would arrive."""
    cost = (
        None
        if amount is None
        else Amount(monetary_value=Amount.parse_monetary_value(amount), currency_code=currency)
    )
    apdu = isoill.Shipped(
        transaction_id=TID,
        responder_id=isoill.SystemId.institution("OCLC:PIT"),
        shipped_service_type=service,
        supply_details=SupplyDetails(
            date_shipped=date(2026, 11, 18),
            date_due=None if due is None else DateDue(date_due_field=due),
            cost=cost,
        ),
        responder_note=note,
        shipped_extensions=extensions,
    )
    decoded = isoill.decode(isoill.encode(apdu))
    assert isinstance(decoded, isoill.Shipped)
    return decoded


def arrived(apdu: isoill.Shipped, record: Record = REQUEST) -> Record:
    return apply_incoming(record, apdu, at=AT)


def answer(results: TransactionResults, explanation: Any = None, **kw: Any) -> isoill.ILLAnswer:
    return isoill.ILLAnswer(
        transaction_id=TID, transaction_results=results, results_explanation=explanation, **kw
    )


# --- apply_incoming: Shipped ------------------------------------------------------------------


def test_shipped_sets_the_supply_fields_and_writes_the_line_staff_check() -> None:
    record = arrived(shipped("12.00"))
    assert record.STAT is Stat.SHIPPED and record.ISOSTAT is State.SHIPPED
    assert (record.SUM, record.CCODE, record.SDATE, record.DDATE) == (
        "12.00",
        "USD",
        "20261118",
        None,
    )
    assert record.HISTORY[-1] == (
        f"APDU=Shipped OCLC 20261120 SUM=USD12.00 / PAYMENT=IFM / OCLC-ILLNUM={ILLNUM}"
    )
    line = last_shipped(record)
    assert line is not None and line.apdu == "Shipped" and line.at == AT
    assert line.cost == Cost("USD", Decimal("12.00")) and line.comment.payment == "IFM"
    assert find_oclc_illnum(record) == ILLNUM


def test_a_blank_amount_is_kept_as_sum_with_nothing_after_it() -> None:
    record = arrived(shipped(None, note="Free to GIF partners"))
    assert record.SUM == "" and record.CCODE is None
    assert record.HISTORY[-1] == "APDU=Shipped OCLC 20261120 SUM= / NOTE=Free to GIF partners"
    line = last_shipped(record)
    assert line is not None and line.cost == Cost(None, None) and line.cost.is_free


def test_ifm_from_the_oclc_extension_and_the_lenders_free_text() -> None:
    ext = Extension(identifier=1, item=OCLCILLRequestExtension(payment_method="ifm"))
    record = arrived(shipped("15", note="Long article; sent in two parts", extensions=(ext,)))
    assert record.HISTORY[-1] == (
        "APDU=Shipped OCLC 20261120 SUM=USD15 / PAYMENT=IFM / NOTE=Long article; sent in two parts"
    )


def test_a_refused_token_is_kept_as_a_note_and_does_not_count_as_ifm() -> None:
    record = arrived(shipped("15.00", note="PAYMENT=CASH / thanks"))
    line = record.HISTORY[-1]
    assert "PAYMENT=IFM" not in line and "not understood: 'PAYMENT:CASH'" in line
    assert "NOTE=thanks" in line
    read = last_shipped(record)
    assert read is not None and read.comment.payment is None


def test_the_oclc_ill_number_the_gateway_knows_wins() -> None:
    record = apply_incoming(REQUEST, shipped(note=None), at=AT, oclc_illnum="87654321")
    assert record.HISTORY[-1] == "APDU=Shipped OCLC 20261120 SUM=USD15.00 / OCLC-ILLNUM=87654321"


def test_read_line_ignores_other_history_lines() -> None:
    assert read_line("ORDER 20261101 101500 -> ILLRequest OCLC") is None
    assert read_line("APDU=Shipped OCLC 20261399 SUM=USD1") is None  # no such day
    line = read_line("APDU=Shipped OCLC 20261120 SUM=USD1x / PAYMENT=IFM")
    assert line is not None and line.cost is None and line.problems


# --- apply_incoming: the physical item for a copy --------------------------------------------


def test_physical_item_shipped_as_a_loan_follows_the_loan_path() -> None:
    record = arrived(shipped(service=ILLServiceType.LOAN, due=date(2026, 12, 15)))
    assert record.SRVCE is Service.LOAN and record.DDATE == "20261215"
    assert record.HISTORY[-1] == (
        "APDU=Shipped OCLC 20261120 SUM=USD15.00 / PAYMENT=IFM / "
        "NOTE=physical item sent for a copy: return by DUE-DATE / "
        f"OCLC-ILLNUM={ILLNUM} / DUE-DATE=20261215"
    )
    assert sent_physical_for_copy(record)
    action = physical_item_for_copy(record, policy())
    assert "BORROW" in action.record and "SENDBACK it by 2026-12-15" in action.record
    assert "return it to you by 2026-12-15" in action.letter


def test_physical_item_shipped_as_a_copy_with_a_due_date_stays_a_copy() -> None:
    record = arrived(shipped(due=date(2026, 12, 15)))
    assert record.SRVCE is Service.COPY and record.DDATE == "20261215"
    assert sent_physical_for_copy(record)
    action = physical_item_for_copy(record, policy())
    assert "RECEIVE and OK" in action.record and "do not SENDBACK" in action.record
    verdict = check_receive(record, None, policy())
    assert verdict.ok
    assert any("N-25" in note and "2026-12-15" in note for note in verdict.notes)


def test_a_physical_item_without_a_due_date_is_returned_by_the_lenders_date() -> None:
    record = arrived(shipped())  # the item came, but the Shipped gave no due date
    assert record.DDATE is None
    action = physical_item_for_copy(record, policy())
    assert "not recorded" not in action.record and "not recorded" not in in_lang(
        action.record, "ja"
    )
    assert "受付館の指定する返却期限" in in_lang(action.record, "ja")
    assert "return it to you by the date you ask for." in action.letter


def test_a_physical_item_may_carry_the_loan_charge() -> None:
    record = arrived(shipped("25.00", service=ILLServiceType.LOAN, due=date(2026, 12, 15)))
    assert record.STAT is Stat.SHIPPED
    assert check_receive(record, None, policy()).ok


def test_a_loan_on_a_loan_request_is_not_a_physical_item_for_a_copy() -> None:
    loan = REQUEST.replace(SRVCE=Service.LOAN)
    record = arrived(shipped("25.00", service=ILLServiceType.LOAN, due=date(2026, 12, 15)), loan)
    assert not sent_physical_for_copy(record)
    assert "physical" not in record.HISTORY[-1]


# --- apply_incoming: the other APDUs ----------------------------------------------------------

BORROWED = REQUEST.replace(SRVCE=Service.LOAN, STAT=Stat.BORROWED, ISOSTAT=State.RECEIVED)


@pytest.mark.parametrize(
    ("apdu", "before", "stat", "isostat", "line"),
    [
        (
            answer(
                TransactionResults.UNFILLED,
                UnfilledResults(reason_unfilled=ReasonUnfilled.NOT_OWNED),
                responder_note="Not held",
            ),
            REQUEST,
            Stat.NEW_INQUIRY,
            State.NOT_SUPPLIED,
            "APDU=ILL-Answer OCLC 20261120 NOTE=Not held / UNFILL=not-owned",
        ),
        (
            answer(
                TransactionResults.CONDITIONAL,
                ConditionalResults(
                    conditions=Conditions.COST_EXCEEDS_LIMIT, date_for_reply=date(2026, 11, 25)
                ),
            ),
            REQUEST,
            Stat.NEW_INQUIRY,
            State.CONDITIONAL,
            "APDU=ILL-Answer OCLC 20261120 COND=cost-exceeds-limit / REPLY=20261125",
        ),
        (
            answer(
                TransactionResults.WILL_SUPPLY,
                WillSupplyResults(reason_will_supply=ReasonWillSupply.BEING_PROCESSED_FOR_SUPPLY),
            ),
            REQUEST,
            Stat.IN_PROCESS,
            State.PENDING,
            "APDU=ILL-Answer OCLC 20261120 NOTE=will-supply: being-processed-for-supply",
        ),
        (
            answer(
                TransactionResults.HOLD_PLACED,
                HoldPlacedResults(estimated_date_available=date(2026, 12, 1)),
            ),
            REQUEST,
            Stat.IN_PROCESS,
            State.PENDING,
            "APDU=ILL-Answer OCLC 20261120 NOTE=hold-placed: available 20261201",
        ),
        (
            answer(
                TransactionResults.RETRY,
                RetryResults(
                    reason_not_available=ReasonNotAvailable.AT_BINDERY,
                    retry_date=date(2026, 12, 10),
                ),
            ),
            REQUEST,
            Stat.NEW_INQUIRY,
            State.NOT_SUPPLIED,
            "APDU=ILL-Answer OCLC 20261120 NOTE=retry: at-bindery / RETRY=20261210",
        ),
        (
            isoill.Recall(transaction_id=TID, responder_note="Needed for reserve"),
            BORROWED,
            Stat.BORROWED,
            State.RECALL,
            "APDU=Recall OCLC 20261120 NOTE=Needed for reserve",
        ),
        (
            isoill.Overdue(transaction_id=TID, date_due=DateDue(date_due_field=date(2026, 11, 15))),
            BORROWED,
            Stat.BORROWED,
            State.OVERDUE,
            "APDU=Overdue OCLC 20261120 DUE-DATE=20261115",
        ),
        (
            isoill.Overdue(transaction_id=TID, date_due=DateDue(date_due_field=date(2026, 11, 15))),
            REQUEST.replace(STAT=Stat.SHIPPED, ISOSTAT=State.SHIPPED, SRVCE=Service.LOAN),
            Stat.SHIPPED,
            State.NOT_RECEIVED_OVERDUE,
            "APDU=Overdue OCLC 20261120 DUE-DATE=20261115",
        ),
        (
            isoill.RenewAnswer(
                transaction_id=TID, answer=True, date_due=DateDue(date_due_field=date(2027, 1, 15))
            ),
            BORROWED.replace(STAT=Stat.RENEWAL_REQUESTED, ISOSTAT=State.RENEW_PENDING),
            Stat.BORROWED,
            State.RECEIVED,
            "APDU=Renew-Answer OCLC 20261120 NOTE=renewal granted / DUE-DATE=20270115",
        ),
        (
            isoill.RenewAnswer(transaction_id=TID, answer=False),
            BORROWED.replace(STAT=Stat.RENEWAL_REQUESTED, ISOSTAT=State.RENEW_PENDING),
            Stat.BORROWED,
            State.RECEIVED,
            "APDU=Renew-Answer OCLC 20261120 NOTE=renewal refused",
        ),
        (
            isoill.CheckedIn(transaction_id=TID, date_checked_in=date(2026, 11, 19)),
            BORROWED.replace(STAT=Stat.RETURNED, ISOSTAT=State.RETURNED),
            Stat.RETURN_CONFIRMED,
            State.CHECKED_IN,
            "APDU=Checked-In OCLC 20261120 NOTE=checked in 20261119",
        ),
        (
            isoill.CancelReply(transaction_id=TID, answer=True),
            REQUEST.replace(ISOSTAT=State.CANCEL_PENDING),
            Stat.CANCEL,
            State.CANCELLED,
            "APDU=Cancel-Reply OCLC 20261120 NOTE=cancel accepted",
        ),
        (
            isoill.CancelReply(transaction_id=TID, answer=False, responder_note="Already sent"),
            REQUEST.replace(ISOSTAT=State.CANCEL_PENDING),
            Stat.NEW_INQUIRY,
            State.CANCEL_PENDING,  # the machine knows the state before the Cancel; this does not
            "APDU=Cancel-Reply OCLC 20261120 NOTE=cancel refused / NOTE=Already sent",
        ),
        (
            isoill.Expired(transaction_id=TID),
            REQUEST,
            Stat.NEW_INQUIRY,
            State.NOT_SUPPLIED,
            "APDU=Expired OCLC 20261120",
        ),
        (
            isoill.Message(transaction_id=TID, note="Not Received"),
            REQUEST.replace(STAT=Stat.SHIPPED, ISOSTAT=State.SHIPPED),
            Stat.SHIPPED,
            State.SHIPPED,
            "APDU=Message OCLC 20261120 NOTE=Not Received",
        ),
    ],
)
def test_incoming_apdu(
    apdu: isoill.APDU, before: Record, stat: Stat, isostat: State, line: str
) -> None:
    after = apply_incoming(before, isoill.decode(isoill.encode(apdu)), at=AT)
    assert (stat, isostat) == (after.STAT, after.ISOSTAT)
    assert (*before.HISTORY, line) == after.HISTORY


def test_overdue_and_renewal_update_the_due_date() -> None:
    renewed = apply_incoming(
        BORROWED.replace(DDATE="20261215", ISOSTAT=State.RENEW_PENDING),
        isoill.RenewAnswer(
            transaction_id=TID, answer=True, date_due=DateDue(date_due_field=date(2027, 1, 15))
        ),
        at=AT,
    )
    assert renewed.DDATE == "20270115"


def test_checked_in_on_a_copy_record_keeps_the_copy_final_state() -> None:
    done = REQUEST.replace(STAT=Stat.CONFIRMED, ISOSTAT=State.RECEIVED)
    after = apply_incoming(done, isoill.CheckedIn(transaction_id=TID, date_checked_in=AT), at=AT)
    assert after.STAT is Stat.CONFIRMED and after.ISOSTAT is State.CHECKED_IN


def test_the_machines_state_overrides_the_table() -> None:
    after = apply_incoming(
        REQUEST, isoill.Message(transaction_id=TID, note="x"), at=AT, isoill_state=State.IDLE
    )
    assert after.ISOSTAT is State.IDLE


@pytest.mark.parametrize(
    "apdu",
    [
        isoill.Cancel(transaction_id=TID),
        isoill.Received(
            transaction_id=TID,
            date_received=AT,
            shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE,
        ),
        isoill.Renew(transaction_id=TID),
    ],
)
def test_a_requesters_apdu_cannot_come_from_oclc(apdu: isoill.APDU) -> None:
    with pytest.raises(RecordError, match="sent by the requester"):
        apply_incoming(REQUEST, apdu, at=AT)


@pytest.mark.parametrize(
    "incoming",
    [
        shipped(),
        *(
            answer(results, explanation)
            for results, explanation in [
                (TransactionResults.CONDITIONAL, ConditionalResults(conditions=Conditions.OTHER)),
                (TransactionResults.UNFILLED, UnfilledResults(reason_unfilled=ReasonUnfilled.LOST)),
                (TransactionResults.RETRY, RetryResults()),
                (
                    TransactionResults.WILL_SUPPLY,
                    WillSupplyResults(reason_will_supply=ReasonWillSupply.OTHER),
                ),
            ]
        ),
        isoill.Expired(transaction_id=TID),
    ],
)
def test_the_table_agrees_with_the_requesters_protocol_machine(incoming: isoill.APDU) -> None:
    request = isoill.ILLRequest(transaction_id=TID, item_id=ItemId(title="x"))
    txn = send(Transaction(Role.REQUESTER, TID), request)
    machine_state = receive(txn, incoming).transaction.state
    after = apply_incoming(REQUEST.replace(ISOSTAT=txn.state), incoming, at=AT)
    assert after.ISOSTAT is machine_state
    assert (incoming.apdu_type, qualifier_of(incoming)) in INCOMING


# --- check_receive: the checks before RECEIVE --------------------------------------------------


def verdict_for(
    apdu: isoill.Shipped, pol: Policy | None = None, record: Record = REQUEST
) -> Verdict:
    return check_receive(arrived(apdu, record), apdu, pol if pol is not None else policy())


@pytest.mark.parametrize(("symbol", "fee"), [("CHEAP", "12"), ("PIT", "15.00"), ("DEAR", "20.00")])
def test_a_fee_within_max_cost_matching_the_policy_with_ifm_may_be_received(
    symbol: str, fee: str
) -> None:
    verdict = verdict_for(shipped(fee), policy(symbol))
    assert verdict.ok, verdict.reasons
    assert verdict.reasons == [] and verdict.letter is None
    assert verdict.action.startswith("RECEIVE the record")
    assert any("Kinokuniya" in note for note in verdict.notes)


@pytest.mark.parametrize("amount", ["0", "0.00", "00.00", ""])
def test_a_free_copy_needs_no_ifm_when_the_policy_says_it_is_free(amount: str) -> None:
    # The amount as the history line shows it, as the guide lists the forms.
    record = REQUEST.replace(STAT=Stat.SHIPPED, ISOSTAT=State.SHIPPED).with_history(
        f"APDU=Shipped OCLC 20261120 SUM=USD{amount} / OCLC-ILLNUM={ILLNUM}"
    )
    verdict = check_receive(record, None, policy("FREE"))
    assert verdict.ok, verdict.reasons
    assert any("N-22" in note and "free" in note for note in verdict.notes)
    # Without a policy saying so, the same arrival waits.
    refused = check_receive(record, None, policy("PIT"))
    assert not refused.ok
    assert any(
        r.startswith("N-16/N-22") and "does not say it is free" in r for r in refused.reasons
    )


@pytest.mark.parametrize("amount", ["0", "0.00", "00.00", None])
def test_a_free_copy_from_the_shipped_message(amount: str | None) -> None:
    apdu = shipped(amount, note=None)
    assert verdict_for(apdu, policy("FREE")).ok
    assert not verdict_for(apdu, policy("PIT")).ok


def test_over_max_cost_keeps_the_record_shipped_with_the_n23_action() -> None:
    dear = Policy("DEAR", copy_charge=Decimal("40.00"), currency="USD", emails=("d@x.example",))
    verdict = verdict_for(shipped("40.00"), dear)
    assert not verdict.ok
    assert verdict.reasons == ["N-14/N-23: the total USD 40.00 exceeds MAX-COST USD 35.50"]
    action = verdict.action
    assert action.startswith("Keep the record at 発送 (SHIPPED) and do not RECEIVE")
    assert "DEAR <d@x.example>" in action
    assert "MAX-COST of a record at 発送 cannot be edited" in action
    assert "(A) MAX-COST raised to at least the total USD 40.00" in action
    assert "(B) the lender lowering its total to at most USD 35.50" in action
    assert "individual settlement" in action
    assert verdict.letter is not None
    assert "Your charge of USD 40.00 is more than our maximum cost of USD 35.50" in verdict.letter


def test_missing_payment_ifm_is_refused_with_the_n22_action() -> None:
    verdict = verdict_for(shipped("15.00", note=f"OCLC-ILLNUM={ILLNUM}"))
    assert not verdict.ok
    assert len(verdict.reasons) == 1 and verdict.reasons[0].startswith("N-16/N-22")
    assert "dummy record" in verdict.action and "set this record to CANCEL" in verdict.action
    assert "do not RECEIVE" in verdict.action
    assert verdict.letter is not None and "(PAYMENT=IFM)" in verdict.letter
    no_ifm = Policy("PIT", copy_charge=Decimal(15), currency="USD", ifm=False)
    again = verdict_for(shipped("15.00", note=None), no_ifm)
    assert again.reasons[0].endswith("(and PIT's lending policy says it does not accept IFM)")


def test_a_fee_other_than_the_policys_is_refused_with_the_n24_action() -> None:
    verdict = verdict_for(shipped("18.00"))
    assert verdict.reasons == [
        "N-15/N-24: the charge USD 18.00 differs from PIT's lending policy "
        "(ILL-Copy-Charge USD 15.00)"
    ]
    assert "change the amount on this record (N-24)" in verdict.action
    assert verdict.letter is not None
    assert "differs from the charge in your lending policy (ILL-Copy-Charge USD 15.00)" in (
        verdict.letter
    )


def test_a_charge_in_another_currency_is_refused() -> None:
    verdict = verdict_for(shipped("15.00", "EUR"))
    assert not verdict.ok
    assert [r[:4] for r in verdict.reasons] == ["O-4:", "N-15"]
    assert "not in USD, the currency of MAX-COST" in verdict.reasons[0]
    assert "state its charge in USD" in verdict.action
    assert verdict.letter is not None and "is not in USD" in verdict.letter


def test_every_failing_reason_is_listed_at_once() -> None:
    verdict = verdict_for(shipped("40.00", note=None))
    assert not verdict.ok
    assert [r.split(":")[0] for r in verdict.reasons] == ["N-14/N-23", "N-16/N-22", "N-15/N-24"]
    assert "(N-22)" in verdict.action and "(N-23)" in verdict.action
    assert "(N-24)" in verdict.action
    assert verdict.letter is not None and verdict.letter.count("\n- Your") == 3
    assert any("OCLC-ILLNUM" in note for note in verdict.notes)  # the number never came


def test_without_a_policy_the_fee_cannot_be_checked() -> None:
    verdict = check_receive(arrived(shipped()), None, None)
    assert not verdict.ok and verdict.reasons[0].startswith("N-15: no lending policy")
    assert verdict.action.startswith("Do not RECEIVE yet.") and verdict.letter is None


def test_a_record_still_in_process_is_the_n27_case() -> None:
    record = REQUEST.with_history("APDU=Shipped OCLC 20261120 SUM=USD15.00 / PAYMENT=IFM")
    verdict = check_receive(record, None, policy())
    assert verdict.reasons == [
        "N-27: STAT is 処理中 (IN-PROCESS): the item arrived but the record never reached "
        "発送 (SHIPPED)"
    ]
    assert "ask the NII NACSIS-ILL desk first" in verdict.action


def test_nothing_to_check_without_the_lenders_shipped() -> None:
    verdict = check_receive(REQUEST.replace(STAT=Stat.SHIPPED), None, policy())
    assert any(r.startswith("N-16: no APDU=Shipped OCLC line") for r in verdict.reasons)


def test_already_received_with_ifm_and_a_wrong_fee_is_urgent() -> None:
    record = arrived(shipped("18.00")).replace(STAT=Stat.ARRIVAL_PROCESSING)
    verdict = check_receive(record, None, policy())
    assert not verdict.ok
    assert verdict.action.startswith("The record was already RECEIVEd")
    assert GIF_TEAM in verdict.action and KINOKUNIYA in verdict.action
    assert verdict.letter is not None and verdict.letter.startswith("To: ill@pit.example.edu")
    assert "Subject: Urgent" in verdict.letter


def test_already_received_over_max_cost_is_not_told_ifm_is_concluded() -> None:
    record = arrived(shipped("40.00")).replace(STAT=Stat.ARRIVAL_PROCESSING)
    verdict = check_receive(record, None, policy())
    assert len(verdict.reasons) == 2  # over MAX-COST and not the policy's charge
    assert "(N-22, N-23)" in verdict.action and GIF_TEAM not in verdict.action
    assert "IFMは成立" not in in_lang(verdict.action, "ja")
    assert "紀伊国屋書店OCLCセンター" in in_lang(
        check_receive(
            arrived(shipped("18.00")).replace(STAT=Stat.ARRIVAL_PROCESSING), None, policy()
        ).action,
        "ja",
    )


def test_a_loan_is_checked_before_borrow() -> None:
    loan = REQUEST.replace(SRVCE=Service.LOAN)
    record = arrived(shipped("25.00", service=ILLServiceType.LOAN, due=date(2026, 12, 15)), loan)
    verdict = check_receive(record.replace(STAT=Stat.ARRIVAL_PROCESSING), None, policy())
    assert verdict.ok and verdict.action.startswith("BORROW")
    bad = check_receive(record.replace(STAT=Stat.ARRIVAL_PROCESSING), None, policy("DEAR"))
    assert bad.action.startswith("Keep the record at 到着処理中 and do not BORROW")


# --- the guide's other troubles ----------------------------------------------------------------


SHIPPED_RECORD = arrived(shipped("15.00"))


def assert_quotes_the_request(letter: str) -> None:
    for text in (
        f"OCLC ILL no.:    {ILLNUM}",
        "Title:           Interlending & Document Supply",
        "Article:         Licence to Deny? Publisher restrictions on document delivery",
        "Requested on:    2026-11-01",
        "Shipped on:      2026-11-18",
        "Charge:          USD 15.00",
        "Our max. cost:   USD 35.50",
        "Dear Interlibrary Loan staff of PIT,",
        "Hanako Yamada\nFA012345",
    ):
        assert text in letter, text
    assert letter.startswith("To: ill@pit.example.edu\n")


def test_not_received() -> None:
    action = not_received(SHIPPED_RECORD, policy())
    assert action.case.startswith("N-21 (1)") and "do not RECEIVE" in action.record
    assert action.contact == ("PIT <ill@pit.example.edu>",)
    assert "not yet received" in action.letter
    assert_quotes_the_request(action.letter)


def test_wrong_or_defective() -> None:
    action = wrong_or_defective(SHIPPED_RECORD, "pages 96-97 are missing", policy())
    assert action.case.startswith("N-21 (2)") and "do not RECEIVE" in action.record
    assert "has a problem: pages 96-97 are missing." in action.letter
    assert_quotes_the_request(action.letter)


@pytest.mark.parametrize(
    ("stat", "isostat", "words", "contacts"),
    [
        (Stat.PREPARING, None, "Nothing was ordered", 0),
        (Stat.UNPROCESSED, State.IDLE, "CALLBACK the record now", 0),
        (Stat.IN_PROCESS, State.PENDING, "CANCEL the record", 1),
        (Stat.NEW_INQUIRY, State.CONDITIONAL, "CANCEL the record", 1),
        (Stat.SHIPPED, State.SHIPPED, "e-mail the lender and ask it to cancel", 1),
    ],
)
def test_requested_by_mistake(stat: Stat, isostat: State | None, words: str, contacts: int) -> None:
    action = requested_by_mistake(SHIPPED_RECORD.replace(STAT=stat, ISOSTAT=isostat), policy())
    assert words in action.record and len(action.contact) == contacts
    assert "sent the request below by mistake" in action.letter


def test_rejected_after_shipping_names_the_reason_and_the_dummy() -> None:
    refused = apply_incoming(
        SHIPPED_RECORD,
        answer(TransactionResults.UNFILLED, UnfilledResults(reason_unfilled=ReasonUnfilled.LOST)),
        at=AT,
    )
    action = rejected_after_shipping(refused, policy())
    assert "dummy record" in action.record and "確認" in action.record
    assert "came back to us as not supplied (reason: lost)" in action.letter
    assert_quotes_the_request(action.letter)


def test_stuck_in_processing_asks_nii_first() -> None:
    stuck = REQUEST.with_history(f"APDU=ILL-Answer OCLC 20261105 OCLC-ILLNUM={ILLNUM}")
    first = stuck_in_processing(stuck, policy())
    assert first.contact == (NII_DESK,) and "Leave the record at 処理中" in first.record
    then = stuck_in_processing(stuck, policy(), nii_found_no_fault=True)
    assert then.contact == ("PIT <ill@pit.example.edu>",)
    assert "update the OCLC request to Shipped" in " ".join(then.letter.split())
    assert f"OCLC ILL no. {ILLNUM}" in then.letter


def test_a_lender_without_a_policy_is_named_by_its_symbol() -> None:
    action = not_received(SHIPPED_RECORD)
    assert action.contact == ("PIT (e-mail: its lending policy's ILL-Commun1 or ILL-Commun2)",)
    assert action.letter.startswith("To: (ILL-Commun1 of the lending policy)")


#: What staff type with a Japanese input method on: looks like 8 digits, is not ASCII.
FULL_WIDTH_ILLNUM = "".join(chr(0xFF10 + int(d)) for d in ILLNUM)

# --- the dummy record --------------------------------------------------------------------------


def test_the_dummy_record_and_the_original_marked_for_cancel() -> None:
    dummy, original = dummy_record(SHIPPED_RECORD, ILLNUM, "Jane Smith")
    assert dummy.ARTCL == (
        "This is the dummy record of OCLC-ILL no. 12345678. Please refer to e-mails exchanged "
        "with your staff; Jane Smith"
    )
    assert DUMMY_ARTCL.substitute(illnum=ILLNUM, staff="Jane Smith") == dummy.ARTCL
    assert dummy.STAT is Stat.PREPARING and dummy.ISOSTAT is None and dummy.ID is None
    assert dummy.HISTORY == () and dummy.SUM is None and dummy.SDATE is None
    assert (dummy.BIBNT, dummy.HMLISO, dummy.SRVCE, dummy.CMMNT) == (
        REQUEST.BIBNT,
        REQUEST.HMLISO,
        Service.COPY,
        REQUEST.CMMNT,
    )
    assert original.STAT is Stat.SHIPPED  # only NII's desk can set CANCEL
    assert original.HISTORY[:-1] == SHIPPED_RECORD.HISTORY
    assert original.HISTORY[-1] == (
        "TO-CANCEL NOTE=replaced by a dummy record agreed with the lender (Jane Smith); ask the "
        "NII NACSIS-ILL desk to set this record to CANCEL / OCLC-ILLNUM=12345678"
    )
    assert marked_for_cancel(original) and not marked_for_cancel(SHIPPED_RECORD)


def test_variant_a_raises_max_cost_on_the_dummy() -> None:
    dummy, _ = dummy_record(
        SHIPPED_RECORD, ILLNUM, "Jane Smith", max_cost=MaxCost("USD", Decimal("40.00"))
    )
    assert dummy.CMMNT == "MAX-COST=USD40.00 / ISO-CC=US:CCG / PAYMENT=IFM"


def test_a_dummy_of_a_physical_item_for_a_copy_is_a_copy_again() -> None:
    record = arrived(shipped(service=ILLServiceType.LOAN, due=date(2026, 12, 15)))
    assert dummy_record(record, ILLNUM, "J. Smith")[0].SRVCE is Service.COPY


@pytest.mark.parametrize("number", ["1234567", "123456789", "1234567a", FULL_WIDTH_ILLNUM, ""])
def test_the_dummy_needs_an_eight_digit_oclc_ill_number(number: str) -> None:
    with pytest.raises(RecordError, match="8 digits"):
        dummy_record(SHIPPED_RECORD, number, "Jane Smith")


def test_the_dummy_refuses_a_name_that_cannot_travel() -> None:
    with pytest.raises(RecordError) as caught:
        dummy_record(SHIPPED_RECORD, "1234", "山田")
    assert len(caught.value.reasons) == 2
    assert "single-byte" in caught.value.reasons[1]


# --- the policy table --------------------------------------------------------------------------


def test_the_policy_table() -> None:
    assert len(POLICIES) == 4
    pit = policy("oclc:pit")
    assert pit == Policy(
        "PIT",
        copy_charge=Decimal("15.00"),
        loan_charge=Decimal("25.00"),
        currency="USD",
        ifm=True,
        free_copy=False,
        emails=("ill@pit.example.edu",),
    )
    free = policy("FREE")
    assert free.is_free(Service.COPY) and not free.is_free(Service.LOAN)
    assert free.emails == ("ill@free.example.edu", "docdel@free.example.edu")
    assert POLICIES.lookup("XYZ") is None and POLICIES.lookup(None) is None


def test_the_policy_table_names_every_bad_line() -> None:
    text = (
        "email,symbol,copy_charge,loan_charge,currency,ifm,free_copy\n"
        "ill@a.example.edu,AAA,12.50,,USD,yes,no\n"
        "nobody,BBB,12,50,,USD,maybe,no\n"
        "x@b.example.edu,CCC,$12,,usd,yes,yes\n"
        "x@c.example.edu,AAA,12,,XXY,yes,no\n"
    )
    with pytest.raises(PolicyError) as caught:
        read_policies(text)
    assert caught.value.reasons == [
        "line 3: 8 cells, the header has 7",
        "line 4: copy_charge '$12': an amount is digits with an optional decimal point (15.00)",
        "line 5: currency 'XXY': not an ISO 4217 currency code",
    ]
    with pytest.raises(PolicyError) as caught:
        read_policies(text.replace("$12", "12").replace("XXY", "USD"))
    assert caught.value.reasons == [
        "line 3: 8 cells, the header has 7",
        "line 4: copy_charge '12': free_copy is yes, so the copy charge is blank or 0",
        "line 5: symbol AAA is already on line 2",
    ]
    with pytest.raises(PolicyError) as caught:
        read_policies("AAA,,,,yes,no,x@y.example\nBBB,1,,,maybe,no,bad\n".replace("AAA", "symbol"))
    assert caught.value.reasons[0].startswith("line 1: header missing")


def test_the_policy_table_checks_each_cell() -> None:
    header = ",".join(("symbol", "copy_charge", "loan_charge", "currency", "ifm", "free_copy"))
    text = f"{header},email\nP-Q,12,,,maybe,no,not-an-address\n"
    with pytest.raises(PolicyError) as caught:
        read_policies(text)
    assert caught.value.reasons == [
        "line 2: symbol 'P-Q': an OCLC symbol is letters and digits",
        "line 2: currency: a charge is given, so its currency is needed",
        "line 2: ifm 'maybe': write yes or no",
        "line 2: email 'not-an-address': not an e-mail address",
    ]
    assert read_policies(f"{header},email\n").by_symbol == {}
    assert isinstance(read_policies(f"{header},email\n"), Policies)


# --- isoill nacsis check-receive ---------------------------------------------------------------


def files(tmp_path: Path, apdu: isoill.APDU, record: Record) -> list[str]:
    (tmp_path / "record.json").write_text(json.dumps(record.to_json(), ensure_ascii=False))
    (tmp_path / "shipped.ber").write_bytes(isoill.encode(apdu))
    (tmp_path / "policy.csv").write_text(POLICY_CSV)
    return [
        "nacsis",
        "check-receive",
        str(tmp_path / "record.json"),
        "--shipped",
        str(tmp_path / "shipped.ber"),
        "--policy",
        str(tmp_path / "policy.csv"),
    ]


def test_cli_check_receive_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apdu = shipped("15.00")
    assert main(files(tmp_path, apdu, arrived(apdu))) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: RECEIVE may go ahead\naction: RECEIVE the record")


def test_cli_check_receive_not_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apdu = shipped("40.00", note=None)
    assert main([*files(tmp_path, apdu, arrived(apdu)), "--letter"]) == 3
    out = capsys.readouterr().out
    assert out.startswith("NOT OK: do not RECEIVE\n  reason: N-14/N-23: the total USD 40.00")
    assert out.count("  reason: ") == 3
    assert "\naction: Keep the record at 発送 (SHIPPED) and do not RECEIVE" in out
    assert "letter to the lender:\n\nTo: ill@pit.example.edu" in out


def test_cli_check_receive_without_a_policy_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apdu = shipped("15.00")
    args = files(tmp_path, apdu, arrived(apdu).replace(HMLISO="ZZZ"))
    (tmp_path / "policy.csv").write_text(POLICY_CSV.replace("PIT,", "QQQ,"))
    assert main(args) == 3
    out = capsys.readouterr().out
    assert "has no entry for ZZZ or OCLC:PIT" in out and "N-15: no lending policy" in out


def test_cli_check_receive_refuses_what_is_not_a_shipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = files(tmp_path, isoill.Expired(transaction_id=TID), REQUEST)
    assert main(args) == 1
    assert "a Shipped APDU, not Expired" in capsys.readouterr().err
    (tmp_path / "record.json").write_text('{"STAT": "nonsense"}')
    (tmp_path / "shipped.ber").write_bytes(isoill.encode(shipped()))
    assert main(args) == 1
    assert "STAT: 'nonsense' is not one of" in capsys.readouterr().err


def issue_files(tmp_path: Path, apdu: isoill.Shipped) -> list[str]:
    """The issue's record as staff have it (no ID, no STAT) and the lender's Shipped."""
    args = files(tmp_path, apdu, Record.from_json(GIF))
    return args[:-2]  # without --policy


def test_cli_check_receive_takes_the_state_from_the_shipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = issue_files(tmp_path, shipped("15.00"))
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: RECEIVE may go ahead\n")
    assert "  note: STAT 発送: from the Shipped message" in out
    assert "  note: N-15: no lending policy was given" in out
    assert main([*args, "--policy", str(tmp_path / "policy.csv")]) == 0
    assert "N-15" not in capsys.readouterr().out
    # With a policy, a fee other than its own is refused as before.
    args = issue_files(tmp_path, shipped("18.00"))
    assert main([*args, "--policy", str(tmp_path / "policy.csv")]) == 3
    assert "reason: N-15/N-24" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("apdu", "reason"),
    [
        (shipped("40.00"), "reason: N-14/N-23: the total USD 40.00 exceeds MAX-COST"),
        (
            shipped("15.00", note=None),
            "reason: N-16/N-22: the APDU=Shipped OCLC line shows no PAYMENT=IFM",
        ),
    ],
)
def test_cli_check_receive_refuses_over_max_cost_and_no_ifm_without_a_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], apdu: isoill.Shipped, reason: str
) -> None:
    assert main(issue_files(tmp_path, apdu)) == 3
    out = capsys.readouterr().out
    assert out.startswith("NOT OK: do not RECEIVE\n") and reason in out


def test_cli_check_receive_a_stat_in_the_record_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = files(tmp_path, shipped("15.00"), REQUEST)  # 処理中 in the record
    assert main(args) == 3
    assert "N-27: STAT is 処理中" in capsys.readouterr().out


# --- isoill nacsis letter / dummy ------------------------------------------------------------


@pytest.mark.parametrize("case", LETTER_CASES)
def test_cli_every_letter_case_from_the_lenders_shipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    # A charge over the policy's and MAX-COST, without IFM: the checks have something to ask.
    apdu = shipped("40.00", note=f"OCLC-ILLNUM={ILLNUM}")
    args = files(tmp_path, apdu, REQUEST.replace(STAT=Stat.SHIPPED))[2:]  # record, --shipped..
    extra = ["--problem", "pages 96-97 are missing"] if case == "wrong-or-defective" else []
    assert main(["nacsis", "letter", case, *args, *extra]) == 0
    captured = capsys.readouterr()
    letter = captured.out
    assert letter.startswith("To: ill@pit.example.edu\nSubject: ")
    assert f"OCLC ILL no.:    {ILLNUM}" in letter  # from the APDU's note
    assert "Shipped on:      2026-11-18" in letter  # from the APDU, not "not recorded"
    assert "Charge:          USD 40.00" in letter
    assert "Dear Interlibrary Loan staff of PIT," in letter
    assert captured.err.startswith("case: ")
    assert "the lender the lender" not in captured.err


@pytest.mark.parametrize("case", LETTER_CASES)
def test_cli_every_letter_case_is_named_in_japanese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    apdu = shipped("40.00", note=f"OCLC-ILLNUM={ILLNUM}")
    args = files(tmp_path, apdu, REQUEST.replace(STAT=Stat.SHIPPED))[2:]
    extra = ["--problem", "pages 96-97 are missing"] if case == "wrong-or-defective" else []
    assert main(["nacsis", "letter", case, *args, *extra, "--lang", "ja"]) == 0
    named = capsys.readouterr().err.splitlines()[0]
    assert named.startswith("事例: N-2") and not named.isascii(), named


def test_cli_check_receive_in_japanese_labels_the_letter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apdu = shipped("40.00")
    assert main([*files(tmp_path, apdu, arrived(apdu)), "--letter", "--lang", "ja"]) == 3
    assert "\n受付館へのレター(英文):\n\nTo: ill@pit.example.edu" in capsys.readouterr().out


def test_cli_a_record_that_is_not_json_is_said_in_japanese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "broken.json").write_text('{"ID": ')
    for command in (["order"], ["letter", "not-received"]):
        assert main(["nacsis", *command, str(tmp_path / "broken.json"), "--lang", "ja"]) == 1
        assert "JSONとして読めません: " in capsys.readouterr().err, command


def test_cli_a_missing_file_is_said_in_japanese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = files(tmp_path, shipped(), REQUEST)
    missing = str(tmp_path / "none.ber")
    assert main([*args[:4], missing, "--lang", "ja"]) == 1
    assert capsys.readouterr().err == f"isoill: {missing}: ファイルがありません\n"
    assert main([*args[:4], missing]) == 1
    assert "No such file or directory" in capsys.readouterr().err


def test_cli_a_letter_needs_what_it_quotes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    apdu = shipped("15.00")
    args = files(tmp_path, apdu, REQUEST.replace(STAT=Stat.SHIPPED))[2:]
    assert main(["nacsis", "letter", "before-receive", *args]) == 2
    assert "nothing to ask the lender: the checks pass" in capsys.readouterr().err
    assert main(["nacsis", "letter", "wrong-or-defective", *args]) == 2
    assert "say what is wrong" in capsys.readouterr().err


def test_the_action_names_the_lender_once() -> None:
    verdict = check_receive(arrived(shipped("40.00")).replace(HMLISO=None), None, None)
    assert "E-mail the lender (e-mail: its lending policy's" in verdict.action
    assert "the lender the lender" not in verdict.action


def test_cli_dummy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(arrived(shipped("40.00")).to_json(), ensure_ascii=False))
    command = ["nacsis", "dummy", str(path), "--oclc-number", ILLNUM, "--max-cost", "USD40.00"]
    assert main([*command, "--lender-staff", "J. Smith"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["dummy"]["STAT"] == Stat.PREPARING.value and "ID" not in made["dummy"]
    assert made["dummy"]["ARTCL"].startswith(f"This is the dummy record of OCLC-ILL no. {ILLNUM}")
    assert "MAX-COST=USD40.00" in made["dummy"]["CMMNT"]
    assert made["original"]["HISTORY"][-1].startswith("TO-CANCEL ")
    assert main(["nacsis", "dummy", str(path), "--oclc-number", "123"]) == 2
    assert "an OCLC ILL number is 8 digits" in capsys.readouterr().err


def test_cli_check_receive_in_japanese(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    apdu = shipped("40.00", note=None)
    assert main([*files(tmp_path, apdu, arrived(apdu)), "--lang", "ja"]) == 3
    out = capsys.readouterr().out
    assert out.startswith("NG: RECEIVEしないこと\n  理由: N-14/N-23: 合計額 USD 40.00 がMAX-COST")
    (action,) = [line for line in out.splitlines() if line.startswith("対応: ")]
    assert action.startswith("対応: レコードは発送のままにし、RECEIVEしないでください")
    assert "(N-22)" in action and "(N-23)" in action and "(N-24)" in action
    assert "Ask the lender" not in action and "MAX-COST of a record" not in action


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("not-received", "督促のメール"),
        ("requested-by-mistake", "CANCEL"),
        ("physical-item", "2026-12-01までに郵送で返送"),
        ("rejected-after-shipping", "ダミーレコード"),
        ("stuck-in-processing", "NIIのNACSIS-ILL担当"),
    ],
)
def test_cli_letter_guidance_in_japanese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, words: str
) -> None:
    apdu = shipped("15.00", due=date(2026, 12, 1))
    args = files(tmp_path, apdu, REQUEST.replace(STAT=Stat.SHIPPED))[2:]
    assert main(["nacsis", "letter", case, *args, "--lang", "ja"]) == 0
    guidance = capsys.readouterr().err.splitlines()[1]
    assert guidance.startswith("対応: ") and words in guidance


def test_a_letter_takes_the_request_date_from_the_transaction_id() -> None:
    # NII's transaction id is HMLISO/ODATE: a record JSON without ODATE still gets its date.
    nii = dataclasses.replace(TID, transaction_qualifier="PIT/20261101")
    apdu = dataclasses.replace(shipped(), transaction_id=nii)
    undated = REQUEST.replace(ODATE=None, STAT=Stat.SHIPPED)
    assert with_shipped(undated, apdu).ODATE == "20261101"
    assert with_shipped(REQUEST.replace(ODATE="20261030"), apdu).ODATE == "20261030"
    assert with_shipped(undated, shipped()).ODATE is None  # not NII's form: nothing made up
    assert "Requested on:    2026-11-01" in letter_for("not-received", undated, apdu).letter
