"""The protocol machine's behaviour beyond single rows: transaction ids, timers, the status
report, optional messages, copies, crossing APDUs, persistence, and the intermediary."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime

import pytest

import isoill
from isoill.apdu.enums import (
    CurrentState,
    ILLAPDUType,
    ILLServiceType,
    MessageRequirement,
    MostRecentService,
    TransactionIdProblem,
)
from isoill.machine import (
    ProhibitedTransition,
    Role,
    State,
    Transaction,
    TransactionKey,
    receive,
    send,
    tick,
)
from isoill.machine.intermediary import Intermediary, NotPermitted
from isoill.machine.registry import Transactions
from tests.machine.support import (
    AT,
    REQUESTER,
    RESPONDER,
    TID,
    apdu_for,
    in_state,
    request,
    shipped,
)


def both(*steps: tuple[str, isoill.APDU]) -> tuple[Transaction, Transaction]:
    """Run APDUs through a requester and a responder; 'r' sends from the requester."""
    requester = Transaction(Role.REQUESTER, TID)
    responder = Transaction(Role.RESPONDER, TID)
    for who, apdu in steps:
        if who == "r":
            requester = send(requester, apdu, at=AT)
            outcome = receive(responder, apdu, at=AT)
            responder = outcome.transaction
        else:
            responder = send(responder, apdu, at=AT)
            outcome = receive(requester, apdu, at=AT)
            requester = outcome.transaction
        assert outcome.accepted
    return requester, responder


# --- transaction ids --------------------------------------------------------------------


def test_unknown_transaction_gets_transaction_id_problem() -> None:
    registry = Transactions(Role.RESPONDER)
    registry, outcome = registry.receive(apdu_for(ILLAPDUType.CANCEL), at=AT)
    assert len(registry) == 0
    assert outcome.reply is not None and outcome.reply.error_report is not None
    assert outcome.reply.error_report.provider_error_report is (
        TransactionIdProblem.UNKNOWN_TRANSACTION_ID
    )
    assert outcome.reply.transaction_id == TID


def test_report_on_unknown_transaction_is_not_answered() -> None:
    registry = Transactions(Role.RESPONDER)
    _, outcome = registry.receive(apdu_for(ILLAPDUType.STATUS_OR_ERROR_REPORT), at=AT)
    assert outcome.reply is None


def test_second_request_with_the_same_id_is_a_duplicate() -> None:
    registry, first = Transactions(Role.RESPONDER).receive(request(), at=AT)
    assert first.transaction.state is State.IN_PROCESS
    again = request(requester_note="sent again, with the old id")
    after, outcome = registry.receive(again, at=AT)
    assert outcome.reply is not None and outcome.reply.error_report is not None
    assert outcome.reply.error_report.provider_error_report is (
        TransactionIdProblem.DUPLICATE_TRANSACTION_ID
    )
    assert after.get(again) == first.transaction  # the first transaction is untouched
    with pytest.raises(ProhibitedTransition) as raised:
        Transactions(Role.REQUESTER).send(request(), at=AT).send(again, at=AT)
    assert raised.value.report.error_report is not None


def test_exact_repeat_is_ignored() -> None:
    registry, _ = Transactions(Role.RESPONDER).receive(request(), at=AT)
    after, outcome = registry.receive(request(), at=AT)
    assert outcome.repeated and outcome.reply is None
    assert after.get(request()) == registry.get(request())


def test_yaz_illclient_request_is_keyed_by_its_requester(yaz_trace: bytes) -> None:
    """yaz-illclient sends an empty initial-requester-id and empty qualifiers."""
    apdu = isoill.decode(yaz_trace)
    _, outcome = Transactions(Role.RESPONDER).receive(apdu, at=AT)
    assert outcome.transaction.state is State.IN_PROCESS
    assert TransactionKey.of(apdu) == TransactionKey("IKM", "", "")


def test_sending_on_an_unknown_transaction_is_refused() -> None:
    with pytest.raises(ProhibitedTransition):
        Transactions(Role.REQUESTER).send(apdu_for(ILLAPDUType.RECEIVED), at=AT)


def test_apdu_of_another_transaction_is_a_routing_mistake() -> None:
    other = dataclasses.replace(
        request(), transaction_id=dataclasses.replace(TID, transaction_qualifier="T2")
    )
    with pytest.raises(ValueError, match="another transaction"):
        send(Transaction(Role.REQUESTER, TID), other)


# --- timers -----------------------------------------------------------------------------

NEED_BY = isoill.SearchType(
    need_before_date=date(2026, 11, 20), expiry_flag=isoill.ExpiryFlag.NEED_BEFORE_DATE
)


def test_expiry_timer_sends_expired_and_both_end_not_supplied() -> None:
    requester, responder = both(("r", request(search=NEED_BY)))
    responder, sent = tick(responder, datetime(2026, 11, 19, 23, 0))
    assert sent == [] and responder.state is State.IN_PROCESS
    responder, sent = tick(responder, datetime(2026, 11, 20, 8, 0))
    assert [type(a) for a in sent] == [isoill.Expired]
    assert responder.state is State.NOT_SUPPLIED
    assert receive(requester, sent[0]).transaction.state is State.NOT_SUPPLIED
    # An ILL-Answer after Expired is not legal (ILLiad's example).
    with pytest.raises(ProhibitedTransition):
        send(responder, apdu_for(ILLAPDUType.ILL_ANSWER, "unfilled"))


def test_other_date_expiry_and_no_expiry() -> None:
    other = isoill.SearchType(
        expiry_date=date(2026, 11, 10), expiry_flag=isoill.ExpiryFlag.OTHER_DATE
    )
    _, responder = both(("r", request(search=other)))
    assert tick(responder, datetime(2026, 11, 10))[0].state is State.NOT_SUPPLIED
    never = isoill.SearchType(need_before_date=date(2026, 11, 10))  # expiry-flag no-Expiry
    _, responder = both(("r", request(search=never)))
    assert tick(responder, datetime(2027, 1, 1))[1] == []


def test_due_date_sends_overdue_once() -> None:
    requester, responder = both(
        ("r", request()), ("p", shipped()), ("r", apdu_for(ILLAPDUType.RECEIVED))
    )
    responder, sent = tick(responder, datetime(2026, 12, 2))
    assert [type(a) for a in sent] == [isoill.Overdue]
    assert responder.state is State.OVERDUE
    assert receive(requester, sent[0]).transaction.state is State.OVERDUE
    assert tick(responder, datetime(2026, 12, 9))[1] == []


# --- status report ----------------------------------------------------------------------


def test_status_query_is_answered_from_the_history() -> None:
    requester, responder = both(
        ("r", request()),
        ("p", apdu_for(ILLAPDUType.ILL_ANSWER, "will-supply")),
        ("p", shipped()),
    )
    outcome = receive(responder, apdu_for(ILLAPDUType.STATUS_QUERY), at=AT)
    report = outcome.reply
    assert report is not None and report.status_report is not None
    history = report.status_report.user_status_report
    assert report.status_report.provider_status_report is CurrentState.SHIPPED
    assert history.most_recent_service is MostRecentService.SHIPPED
    assert history.initiator_of_most_recent_service == RESPONDER
    assert history.title == "Interlending & Document Supply"
    assert history.shipped_service_type is ILLServiceType.LOAN
    assert history.transaction_results is isoill.TransactionResults.WILL_SUPPLY
    assert isoill.decode(isoill.encode(report)) == report
    # The requester's own answer names the requester as initiator of what it sent last.
    requester = send(requester, apdu_for(ILLAPDUType.RECEIVED), at=AT)
    mine = receive(requester, apdu_for(ILLAPDUType.STATUS_QUERY), at=AT).reply
    assert mine is not None and mine.status_report is not None
    assert mine.status_report.user_status_report.initiator_of_most_recent_service == REQUESTER


def test_status_report_notes_services_history_report_cannot_name() -> None:
    """most-recent-service has no value for Renew or Overdue (the standard's list)."""
    _, responder = both(
        ("r", request()),
        ("p", shipped()),
        ("r", apdu_for(ILLAPDUType.RECEIVED)),
        ("r", apdu_for(ILLAPDUType.RENEW)),
    )
    report = receive(responder, apdu_for(ILLAPDUType.STATUS_QUERY), at=AT).reply
    assert report is not None and report.status_report is not None
    history = report.status_report.user_status_report
    assert history.most_recent_service is MostRecentService.RECEIVED
    assert history.most_recent_service_note == "since then: RENEW"


# --- optional messages, copies, crossings ------------------------------------------------


def test_requester_may_not_skip_received_when_the_responder_requires_it() -> None:
    requires = shipped(received=MessageRequirement.REQUIRES)
    requester, _ = both(("r", request()), ("p", requires))
    with pytest.raises(ProhibitedTransition):
        send(requester, apdu_for(ILLAPDUType.RETURNED))
    desires = shipped(received=MessageRequirement.DESIRES)
    requester, responder = both(("r", request()), ("p", desires))
    requester = send(requester, apdu_for(ILLAPDUType.RETURNED), at=AT)
    assert requester.state is State.RETURNED
    assert receive(responder, apdu_for(ILLAPDUType.RETURNED)).transaction.state is State.RETURNED


def test_received_before_shipped_only_when_shipped_is_not_required() -> None:
    strict, _ = both(("r", request(shipped=MessageRequirement.REQUIRES)))
    with pytest.raises(ProhibitedTransition):
        send(strict, apdu_for(ILLAPDUType.RECEIVED))
    relaxed, _ = both(("r", request(shipped=MessageRequirement.NEITHER)))
    assert send(relaxed, apdu_for(ILLAPDUType.RECEIVED)).state is State.RECEIVED


def test_a_copy_ends_at_received() -> None:
    requester, responder = both(
        ("r", request(service=ILLServiceType.COPY_NON_RETURNABLE)),
        ("p", shipped(ILLServiceType.COPY_NON_RETURNABLE)),
        ("r", apdu_for(ILLAPDUType.RECEIVED, loan=False)),
    )
    assert requester.is_final and responder.is_final
    for renew_or_return in (ILLAPDUType.RENEW, ILLAPDUType.RETURNED):
        with pytest.raises(ProhibitedTransition):
            send(requester, apdu_for(renew_or_return))
    with pytest.raises(ProhibitedTransition):
        send(responder, apdu_for(ILLAPDUType.RECALL))


def test_refused_cancel_returns_to_the_state_it_interrupted() -> None:
    requester, responder = both(
        ("r", request()),
        ("p", apdu_for(ILLAPDUType.ILL_ANSWER, "conditional")),
        ("r", apdu_for(ILLAPDUType.CANCEL)),
        ("p", apdu_for(ILLAPDUType.CANCEL_REPLY, "no")),
    )
    assert requester.state is State.CONDITIONAL and responder.state is State.CONDITIONAL


def test_shipped_crossing_a_cancel() -> None:
    """The responder ships while the requester's Cancel is on its way."""
    requester, responder = both(("r", request()))
    requester = send(requester, apdu_for(ILLAPDUType.CANCEL), at=AT)
    responder = send(responder, shipped(), at=AT)
    requester = receive(requester, shipped(), at=AT).transaction
    responder = receive(responder, apdu_for(ILLAPDUType.CANCEL), at=AT).transaction
    assert requester.state is State.CANCEL_PENDING and responder.state is State.CANCEL_PENDING
    refusal = apdu_for(ILLAPDUType.CANCEL_REPLY, "no")
    responder = send(responder, refusal, at=AT)
    requester = receive(requester, refusal, at=AT).transaction
    assert requester.state is State.SHIPPED and responder.state is State.SHIPPED


def test_newsletter_25_shipped_is_refused_while_a_cancel_waits() -> None:
    """NACSIS-ILL refuses to send Shipped for a request whose Cancel has arrived."""
    _, responder = both(("r", request()), ("r", apdu_for(ILLAPDUType.CANCEL)))
    with pytest.raises(ProhibitedTransition):
        send(responder, shipped())


def test_refused_apdu_is_kept_in_the_history() -> None:
    requester, _ = both(("r", request()))
    outcome = receive(requester, apdu_for(ILLAPDUType.CHECKED_IN), at=AT)
    assert outcome.transaction.state is State.PENDING
    kept = [e for e in outcome.transaction.history if e.row == "refused"]
    assert [type(e.apdu) for e in kept] == [isoill.CheckedIn]
    assert outcome.transaction.history[-1].apdu == outcome.reply


def test_history_restores_exactly() -> None:
    requester, _ = both(
        ("r", request(search=NEED_BY)),
        ("p", apdu_for(ILLAPDUType.ILL_ANSWER, "conditional")),
        ("r", apdu_for(ILLAPDUType.CANCEL)),
    )
    text = json.dumps(requester.to_json())
    restored = Transaction.from_json(json.loads(text))
    assert restored == requester
    assert restored.before_cancel is State.CONDITIONAL


def test_a_restored_history_is_written_back_without_converting_its_apdus_again() -> None:
    requester, _ = both(("r", request()), ("p", apdu_for(ILLAPDUType.ILL_ANSWER, "conditional")))
    value = json.loads(json.dumps(requester.to_json()))
    restored = Transaction.from_json(value)
    again = restored.to_json()
    assert again == value
    # The forms read are the ones written: the codec did not convert the APDUs again.
    pairs = zip(again["history"], value["history"], strict=True)
    assert all(a["apdu"] is v["apdu"] for a, v in pairs)
    assert again["transaction-id"] is value["transaction-id"]
    # A different APDU (a copy equal in value) has a form of its own.
    copied = dataclasses.replace(restored.history[0].apdu)
    moved = dataclasses.replace(
        restored, history=(dataclasses.replace(restored.history[0], apdu=copied),)
    )
    (entry,) = moved.to_json()["history"]
    assert entry["apdu"] == value["history"][0]["apdu"]
    assert entry["apdu"] is not value["history"][0]["apdu"]


# --- intermediary -----------------------------------------------------------------------

INTERMEDIARY = isoill.SystemId.institution("CALIS:CENTRE")
LENDERS = tuple(
    isoill.SendToListEntry(
        system_id=isoill.SystemId.institution(f"CALIS:L{n}"),
        system_address=isoill.SystemAddress(
            telecom_service_identifier="TCP/IP", telecom_service_address=f"l{n}.example:499"
        ),
    )
    for n in (1, 2)
)


def routed(**permissions: bool) -> isoill.ILLRequest:
    return request(
        third_party_info_type=isoill.ThirdPartyInfoType(
            send_to_list=LENDERS,
            preference=isoill.Preference.ORDERED,
            initial_requester_address=isoill.SystemAddress(telecom_service_address="r:499"),
            **permissions,
        )
    )


def test_forwarding_needs_the_requesters_permission() -> None:
    centre, outcome = Intermediary.start(INTERMEDIARY, routed(), at=AT)
    assert outcome.transaction.state is State.IN_PROCESS
    with pytest.raises(NotPermitted, match="permission-to-forward"):
        centre.forward(LENDERS[0], at=AT)
    with pytest.raises(NotPermitted, match="permission-to-chain"):
        centre.chain(LENDERS[0], "1", at=AT)


def test_forward_notifies_and_drops_out() -> None:
    centre, _ = Intermediary.start(INTERMEDIARY, routed(permission_to_forward=True), at=AT)
    centre, (forwarded, notice) = centre.forward(LENDERS[1], at=AT, note="try L2")
    assert isinstance(forwarded, isoill.ILLRequest) and forwarded.forward_flag
    assert forwarded.transaction_id == TID and forwarded.responder_id == LENDERS[1].system_id
    assert forwarded.third_party_info_type is not None
    assert forwarded.third_party_info_type.already_tried_list == (INTERMEDIARY,)
    assert isinstance(notice, isoill.ForwardNotification)
    assert notice.intermediary_id == INTERMEDIARY
    assert notice.responder_address == LENDERS[1].system_address
    assert centre.upstream.state is State.FORWARD
    # The requester follows the new responder; the intermediary answers what still reaches it.
    requester = receive(both(("r", routed()))[0], notice).transaction
    assert requester.state is State.PENDING and requester.responder_id == LENDERS[1].system_id
    late = centre.receive_upstream(apdu_for(ILLAPDUType.CANCEL), at=AT)[1].reply
    assert late is not None and late.error_report is not None
    assert late.error_report.user_error_report == isoill.AlreadyForwarded(
        responder_id=LENDERS[1].system_id, responder_address=LENDERS[1].system_address
    )


def test_chained_rota_tries_each_lender_then_answers_unfilled() -> None:
    centre, _ = Intermediary.start(INTERMEDIARY, routed(permission_to_chain=True), at=AT)
    assert centre.must_follow_order and centre.candidates() == list(LENDERS)
    centre, first = centre.chain(centre.candidates()[0], "1", at=AT)
    sub_id = first.transaction_id
    assert sub_id.initial_requester_id == REQUESTER and sub_id.sub_transaction_qualifier == "1"
    assert first.transaction_type is isoill.TransactionType.CHAINED
    assert first.requester_id == INTERMEDIARY
    assert centre.candidates() == [LENDERS[1]]  # L1 is being tried
    no = dataclasses.replace(
        apdu_for(ILLAPDUType.ILL_ANSWER, "unfilled"),
        transaction_id=sub_id,
        responder_id=LENDERS[0].system_id,
    )
    centre, outcome = centre.receive_sub(no, at=AT)
    assert outcome.transaction.state is State.NOT_SUPPLIED
    assert centre.already_tried() == (LENDERS[0].system_id,)
    centre, second = centre.chain(centre.candidates()[0], "2", at=AT)
    assert second.third_party_info_type is not None
    assert second.third_party_info_type.already_tried_list == (
        LENDERS[0].system_id,
        INTERMEDIARY,
    )
    no2 = dataclasses.replace(no, transaction_id=second.transaction_id)
    centre, _ = centre.receive_sub(no2, at=AT)
    assert centre.candidates() == []
    centre, answer = centre.unfilled(at=AT, note="no lender could supply")
    assert answer.already_tried_list == tuple(entry.system_id for entry in LENDERS)
    assert centre.upstream.state is State.NOT_SUPPLIED


def test_chained_shipped_is_relayed_with_the_supplier() -> None:
    centre, _ = Intermediary.start(INTERMEDIARY, routed(permission_to_chain=True), at=AT)
    centre, sub_request = centre.chain(LENDERS[0], "1", at=AT)
    from_lender = dataclasses.replace(
        shipped(), transaction_id=sub_request.transaction_id, responder_id=LENDERS[0].system_id
    )
    centre, _ = centre.receive_sub(from_lender, at=AT)
    centre, relayed = centre.relay_up(from_lender, at=AT)
    assert isinstance(relayed, isoill.Shipped)
    assert relayed.transaction_id == TID and relayed.supplier_id == LENDERS[0].system_id
    assert centre.upstream.state is State.SHIPPED
    received = apdu_for(ILLAPDUType.RECEIVED)
    centre, _ = centre.receive_upstream(received, at=AT)
    centre, down = centre.relay_down(received, "1", at=AT)
    assert down.transaction_id == sub_request.transaction_id
    assert centre.subs[0].state is State.RECEIVED
    with pytest.raises(ValueError, match="does not come from the responder"):
        centre.relay_up(received, at=AT)


def test_partition_needs_the_initial_requester_address() -> None:
    bare = request(third_party_info_type=isoill.ThirdPartyInfoType(permission_to_partition=True))
    centre, _ = Intermediary.start(INTERMEDIARY, bare, at=AT)
    with pytest.raises(NotPermitted, match="initial-requester-address"):
        centre.partition(LENDERS[0], "1", at=AT)
    centre, _ = Intermediary.start(INTERMEDIARY, routed(permission_to_partition=True), at=AT)
    centre, sub = centre.partition(LENDERS[0], "1", at=AT)
    assert sub.transaction_type is isoill.TransactionType.PARTITIONED


def test_a_finished_request_cannot_be_passed_on() -> None:
    centre, _ = Intermediary.start(INTERMEDIARY, routed(permission_to_chain=True), at=AT)
    centre, _ = centre.unfilled(at=AT)
    with pytest.raises(NotPermitted, match="NOT-SUPPLIED"):
        centre.chain(LENDERS[0], "1", at=AT)


def test_in_state_builds_what_it_says() -> None:
    txn = in_state(Role.RESPONDER, State.RECEIVED, loan=False)
    assert txn.service_type is ILLServiceType.COPY_NON_RETURNABLE and txn.is_final
