"""NACSIS commands drive the record's ISO leg: forbidden commands are refused before sending."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

import isoill
from isoill.machine import State
from isoill.mapping.commands import CommandRefused, Leg
from isoill.mapping.record import Command, Record, Service, Stat
from isoill.mapping.to_iso import order_request
from tests.mapping.support import GIF as GIF_JSON

AT = datetime(2026, 11, 2, 10, 0, 0)
GIF = Record.from_json({**GIF_JSON, "ID": "CA00012345", "ODATE": "20261102"})


def ordered() -> tuple[Leg, isoill.ILLRequest]:
    request = order_request(GIF, at=AT)
    leg, sent = Leg.requester(GIF, request).command(Command.ORDER, request=request, at=AT)
    assert sent == [request]
    return leg, request


def shipped(request: isoill.ILLRequest, note: str | None) -> isoill.Shipped:
    return isoill.Shipped(
        transaction_id=request.transaction_id,
        requester_id=request.requester_id,
        responder_id=request.responder_id,
        shipped_service_type=isoill.ILLServiceType.COPY_NON_RETURNABLE,
        supply_details=isoill.SupplyDetails(
            date_shipped=date(2026, 11, 5),
            cost=isoill.Amount(monetary_value=Decimal("15.00"), currency_code="USD"),
        ),
        responder_note=note,
    )


def test_order_sends_the_request_and_records_both_states() -> None:
    leg, _ = ordered()
    assert leg.record.STAT is Stat.IN_PROCESS and leg.record.ISOSTAT is State.PENDING
    assert leg.record.HISTORY[-1].endswith("-> ILLRequest OCLC")


def test_a_command_the_iso_state_forbids_is_refused_before_sending() -> None:
    leg, _ = ordered()
    with pytest.raises(CommandRefused, match="not CONDITIONAL"):
        leg.command(Command.ANSWER, at=AT)
    with pytest.raises(CommandRefused, match="RENEW is not allowed"):
        leg.command(Command.RENEW, at=AT)
    with pytest.raises(CommandRefused, match="CLAIM cannot be used"):
        leg.command(Command.CLAIM, at=AT)


def test_receive_is_guarded_and_sends_received_for_a_copy() -> None:
    leg, request = ordered()
    leg, outcome = leg.receive(shipped(request, None), at=AT)
    assert outcome.accepted and leg.record.ISOSTAT is State.SHIPPED
    with pytest.raises(CommandRefused) as refused:
        leg.command(Command.RECEIVE, at=AT)
    assert any("IFM" in reason for reason in refused.value.reasons)
    assert leg.transaction.state is State.SHIPPED  # nothing was sent
    with pytest.raises(CommandRefused, match="force needs a reason"):
        leg.command(Command.RECEIVE, at=AT, force=True)
    agreed = "the lender agreed by e-mail to bill through IFM"
    after, sent = leg.command(Command.RECEIVE, at=AT, force=True, reason=agreed, by="hanako")
    assert [type(a) for a in sent] == [isoill.Received]
    assert after.record.STAT is Stat.ARRIVAL_PROCESSING
    assert after.record.ISOSTAT is State.RECEIVED
    forced = after.record.HISTORY[-1]
    assert forced.startswith("FORCED RECEIVE 20261102 100000 by hanako: the lender agreed")
    assert forced.endswith("/ overridden: N-16/N-22, N-15")
    done, nothing = after.command(Command.OK, at=AT)
    assert nothing == [] and done.record.STAT is Stat.CONFIRMED


def test_lender_send_needs_payment_ifm_and_pardon_answers_a_cancel() -> None:
    request = order_request(GIF, at=AT)
    record = Record(SRVCE=Service.COPY, SUM="12.00", CCODE="USD", CMMNT="NOTE=thanks")
    leg, outcome = Leg.responder(record, request).receive(request, at=AT)
    assert outcome.accepted and leg.record.ISOSTAT is State.IN_PROCESS
    assert leg.record.STAT is Stat.UNPROCESSED
    leg, nothing = leg.command(Command.RECEIVE, at=AT)
    assert nothing == [] and leg.record.STAT is Stat.IN_PROCESS
    with pytest.raises(CommandRefused, match="PAYMENT=IFM"):
        leg.command(Command.SEND, at=AT)
    cancel = isoill.Cancel(
        transaction_id=request.transaction_id,
        requester_id=request.requester_id,
        responder_id=request.responder_id,
    )
    leg = leg.receive(cancel, at=AT)[0]
    assert leg.record.HISTORY[-1] == "CANCEL-APDU arrived OCLC 20261102"
    paid = Leg(leg.record.replace(CMMNT="PAYMENT=IFM"), leg.transaction)
    with pytest.raises(CommandRefused, match="SHIPPED is not allowed"):  # newsletter 25
        paid.command(Command.SEND, at=AT)
    leg, sent = leg.command(Command.PARDON, at=AT)
    assert isinstance(sent[0], isoill.CancelReply) and sent[0].answer
    assert leg.record.STAT is Stat.CANCEL and leg.record.ISOSTAT is State.CANCELLED


@pytest.mark.parametrize(
    ("service", "stat"), [(Service.COPY, Stat.CONFIRMED), (Service.LOAN, Stat.SHIPPED)]
)
def test_the_borrowers_received_ends_a_lent_copy_at_confirmed(service: Service, stat: Stat) -> None:
    request = order_request(GIF, at=AT)
    record = Record(
        SRVCE=service,
        SUM="12.00",
        CCODE="USD",
        SDATE="20261102",
        DDATE="20261215",
        CMMNT="PAYMENT=IFM",
    )
    leg = Leg.responder(record, request).receive(request, at=AT)[0]
    leg = leg.command(Command.RECEIVE, at=AT)[0]
    leg, sent = leg.command(Command.SEND, at=AT)
    assert isinstance(sent[0], isoill.Shipped) and leg.record.STAT is Stat.SHIPPED
    received = isoill.Received(
        transaction_id=request.transaction_id,
        requester_id=request.requester_id,
        responder_id=request.responder_id,
        date_received=AT.date(),
        shipped_service_type=sent[0].shipped_service_type,
    )
    leg, outcome = leg.receive(received, at=AT)
    assert outcome.accepted and leg.record.STAT is stat
    assert leg.record.HISTORY[-1].startswith("APDU=Received OCLC")


def test_receive_only_takes_what_arrived() -> None:
    leg, _ = ordered()  # 処理中: nothing shipped yet
    with pytest.raises(CommandRefused, match="RECEIVE needs STAT 発送") as why:
        leg.command(Command.RECEIVE, at=AT)
    assert "(N-27)" in why.value.reasons[0]
    assert leg.record.STAT is Stat.IN_PROCESS
    leg = refused()
    assert leg.record.STAT is Stat.NEW_INQUIRY
    inquiry, nothing = leg.command(Command.RECEIVE, at=AT)
    assert nothing == [] and inquiry.record.STAT is Stat.INQUIRY


def refused() -> Leg:
    leg, request = ordered()
    answer = isoill.ILLAnswer(
        transaction_id=request.transaction_id,
        transaction_results=isoill.TransactionResults.UNFILLED,
        results_explanation=isoill.UnfilledResults(
            reason_unfilled=isoill.ReasonUnfilled.IN_USE_ON_LOAN
        ),
    )
    leg = leg.receive(answer, at=AT)[0]
    assert leg.record.ISOSTAT is State.NOT_SUPPLIED
    return leg


def test_retry_rebuilds_a_refused_record_for_another_lender() -> None:
    leg = refused()
    with pytest.raises(CommandRefused, match="FORWARD passes a record") as forward:
        leg.command(Command.FORWARD, at=AT)
    assert "RETRY" in forward.value.reasons[0] and "(N-12)" in forward.value.reasons[0]
    with pytest.raises(CommandRefused, match="ORDER needs STAT 準備中"):
        leg.command(Command.ORDER, at=AT)
    again, nothing = leg.command(Command.RETRY, at=AT)
    assert nothing == [] and again.record.STAT is Stat.PREPARING
    with pytest.raises(CommandRefused, match=r"change HMLISO .* \(N-11\)"):
        again.command(Command.ORDER, at=AT)
    other = Leg(again.record.replace(HMLISO="ZYU"), again.transaction)
    after, sent = other.command(Command.ORDER, at=AT)
    assert isinstance(sent[0], isoill.ILLRequest)
    assert sent[0].transaction_id.transaction_qualifier == "ZYU/20261102"
    assert after.transaction.state is State.PENDING and after.record.STAT is Stat.IN_PROCESS
    with pytest.raises(CommandRefused, match="RETRY rebuilds a record the lender refused"):
        after.command(Command.RETRY, at=AT)


def test_copy_leaves_the_record_and_makes_a_new_one() -> None:
    from isoill.mapping.receive_guard import copy_request

    leg = refused()
    after, nothing = leg.command(Command.COPY, at=AT)
    assert nothing == [] and after.record.STAT is leg.record.STAT
    assert after.record.HISTORY[-1].startswith("COPY ")
    new = copy_request(after.record)
    assert new.STAT is Stat.PREPARING and new.ID is None and new.HISTORY == ()
    assert (new.BIBNT, new.ARTCL, new.CMMNT) == (GIF.BIBNT, GIF.ARTCL, GIF.CMMNT)


def test_a_cancel_from_oclc_is_a_new_inquiry_for_the_lender() -> None:
    request = order_request(GIF, at=AT)
    leg, _ = Leg.responder(Record(SRVCE=Service.COPY), request).receive(request, at=AT)
    leg, _ = leg.command(Command.RECEIVE, at=AT)
    cancel = isoill.Cancel(transaction_id=request.transaction_id)
    leg = leg.receive(cancel, at=AT)[0]
    assert leg.record.STAT is Stat.NEW_INQUIRY  # N-37
    with pytest.raises(CommandRefused, match=r"answer it with PARDON \(N-37\)"):
        leg.command(Command.RECEIVE, at=AT)
    done, sent = leg.command(Command.PARDON, at=AT)
    assert isinstance(sent[0], isoill.CancelReply) and done.record.STAT is Stat.CANCEL
