"""A requester and a responder machine fed the same APDU stream must agree.

Hypothesis drives the two parties: at each step one of them sends an APDU its own table
allows now (with drawn contents: loan or copy, what each side requires of the optional
messages, due dates, expiry dates) and the other receives it, or time passes and the
responder's timers fire. Whatever the path, the receiver accepts what the sender was allowed
to send, both see the same state (the requester has no IN-PROCESS: its PENDING covers the
responder's IN-PROCESS), neither is stuck while the transaction is unfinished, and each
transaction survives a JSON round trip exactly.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta

import hypothesis
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

import isoill
from isoill.apdu.apdus import APDU
from isoill.apdu.enums import ILLAPDUType, ILLServiceType, MessageRequirement
from isoill.machine import (
    TABLES,
    Direction,
    Event,
    Role,
    State,
    Transaction,
    allowed,
    due_timers,
    receive,
    send,
    tick,
)
from isoill.machine.reports import service_date_time
from tests.machine.support import TID, apdu_for, request, responder_messages

REQUIREMENTS = st.sampled_from(list(MessageRequirement))
KINDS = st.sampled_from([ILLServiceType.LOAN, ILLServiceType.COPY_NON_RETURNABLE])
FAR = timedelta(days=400)


def same(state: State) -> State:
    return State.PENDING if state is State.IN_PROCESS else state


def moving_sends(txn: Transaction) -> list[Event]:
    """Events this party could send now that a table row allows (contents not yet known)."""
    table = TABLES[txn.role]
    return [
        event
        for event in table.events()
        if event.direction is Direction.SEND
        and event.qualifier != "forwarded"
        and table.candidates(txn.state, event)
    ]


def weight(party: Transaction, event: Event) -> int:
    """Events that move the transaction on to an unfinished state are drawn more often than
    those that change nothing (Message, Status-Query ...) or end it (unfilled, LOST ...), so
    that runs reach the late states of a loan: overdue, renewed, recalled, returned."""
    table = TABLES[party.role]
    final = table.terminal_states()
    moves_on = any(
        row.back_to_before_cancel or (row.target is not None and row.target not in final)
        for row in table.candidates(party.state, event)
    )
    return 8 if moves_on else 1


class TwoParties(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.requester = Transaction(Role.REQUESTER, TID)
        self.responder = Transaction(Role.RESPONDER, TID)
        self.clock = datetime(2026, 11, 2, 9, 0, 0)

    def draw_apdu(self, data: st.DataObject, sender: Transaction, event: Event) -> APDU:
        service = event.service
        assert isinstance(service, ILLAPDUType)
        if service is ILLAPDUType.ILL_REQUEST:
            need_by = data.draw(st.none() | st.integers(1, 30), label="need before, days")
            search = None
            if need_by is not None:
                search = isoill.SearchType(
                    need_before_date=self.clock.date() + timedelta(days=need_by),
                    expiry_flag=isoill.ExpiryFlag.NEED_BEFORE_DATE,
                )
            apdu: APDU = request(
                shipped=data.draw(REQUIREMENTS, label="requester-SHIPPED"),
                can_send_returned=data.draw(st.booleans(), label="can-send-RETURNED"),
                search=search,
                service=data.draw(KINDS, label="service"),
            )
        elif service is ILLAPDUType.SHIPPED:
            kind = data.draw(KINDS, label="shipped as")
            due = self.clock.date() + timedelta(days=data.draw(st.integers(1, 60), label="due"))
            apdu = isoill.Shipped(
                transaction_id=TID,
                shipped_service_type=kind,
                supply_details=isoill.SupplyDetails(
                    date_due=isoill.DateDue(date_due_field=due)
                    if kind is ILLServiceType.LOAN
                    else None
                ),
                responder_optional_messages=responder_messages(
                    data.draw(REQUIREMENTS, label="responder-RECEIVED")
                ),
            )
        elif service is ILLAPDUType.ILL_ANSWER:
            apdu = apdu_for(
                service,
                event.qualifier,
                responder_optional_messages=data.draw(
                    st.none() | REQUIREMENTS.map(responder_messages), label="answer's messages"
                ),
            )
        elif service is ILLAPDUType.RECEIVED:
            known = sender.service_type
            kind = known or data.draw(KINDS, label="received as")
            apdu = apdu_for(service, loan=kind is ILLServiceType.LOAN)
        elif service is ILLAPDUType.RENEW_ANSWER and event.qualifier == "yes":
            later = self.clock.date() + timedelta(days=data.draw(st.integers(1, 60)))
            apdu = isoill.RenewAnswer(
                transaction_id=TID, answer=True, date_due=isoill.DateDue(date_due_field=later)
            )
        else:
            apdu = apdu_for(service, event.qualifier)
        # Every APDU a moment later than the one before: no two are ever identical repeats.
        self.clock += timedelta(minutes=1)
        ids = {"requester_id": request().requester_id, "responder_id": request().responder_id}
        return dataclasses.replace(apdu, service_date_time=service_date_time(self.clock), **ids)

    def deliver(self, apdu: APDU, to_requester: bool) -> None:
        receiver = self.requester if to_requester else self.responder
        outcome = receive(receiver, apdu, at=self.clock)
        assert outcome.accepted, (
            f"{receiver.role} in {receiver.state} refused {type(apdu).__name__} that the "
            "other party was allowed to send"
        )
        if to_requester:
            self.requester = outcome.transaction
        else:
            self.responder = outcome.transaction
        if outcome.reply is not None:  # a status report answering a Status-Query
            self.deliver(outcome.reply, not to_requester)

    @rule(data=st.data())
    def a_party_sends(self, data: st.DataObject) -> None:
        options = [
            (party is self.requester, event)
            for party in (self.requester, self.responder)
            for event in moving_sends(party)
            for _ in range(weight(party, event))
        ]
        if not options:
            return
        from_requester, event = data.draw(st.sampled_from(options), label="event")
        sender = self.requester if from_requester else self.responder
        apdu = self.draw_apdu(data, sender, event)
        if allowed(sender, event, apdu) is None:
            return  # this content is not allowed (a condition of the row failed)
        if from_requester:
            self.requester = send(sender, apdu, at=self.clock)
        else:
            self.responder = send(sender, apdu, at=self.clock)
        self.deliver(apdu, to_requester=not from_requester)

    @rule(days=st.integers(1, 90))
    def time_passes(self, days: int) -> None:
        self.clock += timedelta(days=days)
        self.responder, sent = tick(self.responder, self.clock)
        for apdu in sent:
            self.deliver(apdu, to_requester=True)

    @invariant()
    def both_see_the_same_state(self) -> None:
        hypothesis.event(f"reached {self.requester.state}")
        assert same(self.requester.state) is same(self.responder.state)
        if self.requester.state is State.CANCEL_PENDING:
            assert self.requester.before_cancel is not None
            assert self.responder.before_cancel is not None
            assert same(self.requester.before_cancel) is same(self.responder.before_cancel)

    @invariant()
    def finished_together(self) -> None:
        assert self.requester.is_final == self.responder.is_final

    @invariant()
    def never_stuck(self) -> None:
        """An unfinished transaction always has a way on: an APDU either party may send
        that changes the state, or a timer."""
        if self.requester.state is State.IDLE or self.requester.is_final:
            return
        for party in (self.requester, self.responder):
            for event in moving_sends(party):
                row = allowed(party, event)
                if row is not None and (row.target is not None or row.back_to_before_cancel):
                    return
        assert due_timers(self.responder, self.clock + FAR), (
            f"stuck: requester {self.requester.state}, responder {self.responder.state}"
        )

    @invariant()
    def history_survives_json(self) -> None:
        for txn in (self.requester, self.responder):
            assert Transaction.from_json(json.loads(json.dumps(txn.to_json()))) == txn


TwoParties.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
test_two_parties_agree = TwoParties.TestCase


def test_the_agreement_check_can_fail() -> None:
    """If the responder's table lacked a row the requester's has, the run would fail: the
    responder would refuse what the requester was allowed to send."""
    parties = TwoParties()
    parties.requester = send(parties.requester, request(), at=parties.clock)
    parties.responder = receive(parties.responder, request(), at=parties.clock).transaction
    cancel = apdu_for(ILLAPDUType.CANCEL)
    parties.requester = send(parties.requester, cancel, at=parties.clock)
    parties.responder = dataclasses.replace(parties.responder, state=State.CHECKED_IN)
    try:
        parties.deliver(cancel, to_requester=False)
    except AssertionError as err:
        assert "refused Cancel" in str(err)
    else:
        raise AssertionError("a refusal went unnoticed")


def test_due_date_is_read_from_the_latest_renewal() -> None:
    txn = Transaction(Role.REQUESTER, TID)
    txn = send(txn, request(), at=datetime(2026, 11, 2))
    assert txn.due_date is None
    assert date(2026, 11, 2) == txn.history[0].at.date()
