"""The ILL protocol machine: events in, a new transaction value and replies out. No I/O.

Three functions, one per kind of event:

* :func:`send`: the local user asks to send an APDU. A transition the table does not allow
  is refused locally, before anything goes out (as ILLiad does): :class:`ProhibitedTransition`
  carries the report that explains why.
* :func:`receive`: an APDU arrived. It never raises for a protocol reason: the
  :class:`Outcome` holds the new transaction and the reply the protocol prescribes, if any (an
  error report for a prohibited transition, with the state unchanged; the status report that
  answers a Status-Query; already-forwarded from an intermediary that has dropped out).
* :func:`tick`: time passed. The expiry timer and the due date make the responder send
  Expired and Overdue.

Each returns a new :class:`~isoill.machine.transaction.Transaction`; the one passed in is never
changed, so a caller that fails to store the new value has lost nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from isoill.apdu.apdus import (
    APDU,
    Expired,
    ForwardNotification,
    Overdue,
    StatusOrErrorReport,
)
from isoill.apdu.enums import ILLAPDUType
from isoill.apdu.types import SystemId
from isoill.errors import IsoillError
from isoill.machine import reports
from isoill.machine.events import Direction, Event, Role, State, Timer, event_for
from isoill.machine.tables import TABLES, Row
from isoill.machine.transaction import REFUSED, REPLY, HistoryEntry, Transaction


class ProhibitedTransition(IsoillError):
    """The table does not allow this APDU to be sent now; nothing was sent."""

    def __init__(self, transaction: Transaction, event: Event, report: StatusOrErrorReport):
        self.transaction = transaction
        self.event = event
        self.report = report
        super().__init__(report.note or "state transition prohibited")


@dataclass(frozen=True)
class Outcome:
    """What receiving one APDU did."""

    transaction: Transaction
    # The row that applied; None when the APDU was refused or was a repeat.
    row: Row | None
    # What to send back at once, if anything.
    reply: StatusOrErrorReport | None = None
    # An exact repeat of an APDU already received: ignored, no reply.
    repeated: bool = False

    @property
    def accepted(self) -> bool:
        return self.row is not None


def allowed(txn: Transaction, event: Event, apdu: APDU | None = None) -> Row | None:
    """The row that lets ``event`` happen now, or None. The conditions are judged with
    ``apdu`` already in the history, since it can settle them (a Received says whether the
    item is a loan; a Shipped carries the responder's optional-messages choices)."""
    probe: Transaction | None = None
    for row in TABLES[txn.role].candidates(txn.state, event):
        if not row.guards:
            return row
        if probe is None:
            # Built only for a row with conditions: most rows have none, and this copy of
            # the transaction was most of the cost of checking an APDU.
            probe = txn
            if apdu is not None:
                probe = _record(txn, apdu, event.direction, event, txn.state, datetime.min, "")
        if all(probe.guard_holds(guard) for guard in row.guards):
            return row
    return None


def send(txn: Transaction, apdu: APDU, *, at: datetime | None = None) -> Transaction:
    """The transaction after this party sends ``apdu``; raises ProhibitedTransition."""
    _check_id(txn, apdu)
    at = at or datetime.now()
    event = event_for(apdu, Direction.SEND)
    row = allowed(txn, event, apdu)
    if row is None:
        raise ProhibitedTransition(txn, event, reports.prohibited(apdu, txn.state, txn.role, at))
    return _transition(txn, row, apdu, Direction.SEND, event, at)


def receive(txn: Transaction, apdu: APDU, *, at: datetime | None = None) -> Outcome:
    """The transaction after ``apdu`` arrives, and the reply to send, if any."""
    _check_id(txn, apdu)
    at = at or datetime.now()
    if any(e.apdu == apdu and e.direction is Direction.RECEIVE for e in txn.history):
        # The same APDU again (a peer re-sending after a lost connection): already processed.
        return Outcome(txn, None, repeated=True)
    event = event_for(apdu, Direction.RECEIVE)
    row = allowed(txn, event, apdu)
    if row is None:
        refused = _record(
            txn, apdu, Direction.RECEIVE, event, txn.state, at, REFUSED, txn.before_cancel
        )
        if apdu.apdu_type is ILLAPDUType.STATUS_OR_ERROR_REPORT:
            return Outcome(refused, None)  # never answer a report with another
        report = reports.prohibited(apdu, txn.state, txn.role, at)
        return Outcome(_reply(refused, report, at), None, report)
    after = _transition(txn, row, apdu, Direction.RECEIVE, event, at)
    reply = _reply_for(after, row, apdu, at)
    if reply is None:
        return Outcome(after, row)
    return Outcome(_reply(after, reply, at), row, reply)


def due_timers(txn: Transaction, now: datetime) -> list[Timer]:
    """The timers that have fired by ``now`` and that the table lets act in this state."""
    fired = []
    expiry = txn.expiry_date
    if expiry is not None and now.date() >= expiry:
        fired.append(Timer.EXPIRY)
    due = txn.due_date
    if due is not None and now.date() > due:
        fired.append(Timer.DUE_DATE)
    return [timer for timer in fired if allowed(txn, Event(Direction.LOCAL, timer)) is not None]


def tick(txn: Transaction, now: datetime) -> tuple[Transaction, list[APDU]]:
    """Run the timers that have fired: the transaction after, and the APDUs to send."""
    sent: list[APDU] = []
    for timer in due_timers(txn, now):
        event = Event(Direction.LOCAL, timer)
        row = allowed(txn, event)
        if row is None:  # an earlier timer of this tick moved the state on
            continue
        apdu = _timer_apdu(txn, timer, now)
        txn = _transition(txn, row, apdu, Direction.SEND, event, now)
        sent.append(apdu)
    return txn, sent


# --- internals -----------------------------------------------------------------------------


def _check_id(txn: Transaction, apdu: APDU) -> None:
    if apdu.transaction_id != txn.transaction_id:
        raise ValueError(
            "this APDU belongs to another transaction; route APDUs by TransactionKey "
            "(isoill.machine.Transactions does)"
        )


def _record(
    txn: Transaction,
    apdu: APDU,
    direction: Direction,
    event: Event,
    after: State,
    at: datetime,
    row: str,
    before_cancel: State | None = None,
) -> Transaction:
    entry = HistoryEntry(
        at=at,
        direction=direction,
        event=event,
        apdu=apdu,
        state_before=txn.state,
        state_after=after,
        row=row,
    )
    return dataclasses.replace(
        txn,
        state=after,
        before_cancel=before_cancel if after is State.CANCEL_PENDING else None,
        history=(*txn.history, entry),
    )


def _transition(
    txn: Transaction, row: Row, apdu: APDU, direction: Direction, event: Event, at: datetime
) -> Transaction:
    after = row.next_state(txn.state, txn.before_cancel)
    if after is State.CANCEL_PENDING:
        # Entering: remember what the Cancel interrupted. Staying (an APDU crossed the
        # Cancel): a refusal now returns to what that APDU led to.
        before_cancel = txn.state if txn.state is not State.CANCEL_PENDING else txn.before_cancel
        if row.resume is not None:
            before_cancel = row.resume
    else:
        before_cancel = None
    return _record(txn, apdu, direction, event, after, at, row.id, before_cancel)


def _reply(txn: Transaction, report: StatusOrErrorReport, at: datetime) -> Transaction:
    event = event_for(report, Direction.SEND)
    return _record(txn, report, Direction.SEND, event, txn.state, at, REPLY, txn.before_cancel)


def _me(txn: Transaction) -> SystemId:
    """This party's own System-Id, as the request names it."""
    request = txn.request
    if request is None:
        return SystemId()
    mine = request.requester_id if txn.role is Role.REQUESTER else request.responder_id
    return mine or SystemId()


def _reply_for(txn: Transaction, row: Row, apdu: APDU, at: datetime) -> StatusOrErrorReport | None:
    if row.reply == "status-report":
        return reports.status_report(txn, apdu, _me(txn), at)
    if row.reply == "already-forwarded":
        notices = txn.apdus(ForwardNotification)
        notice: ForwardNotification = notices[-1]
        new_responder = notice.responder_id or SystemId()
        return reports.already_forwarded(apdu, new_responder, notice.responder_address, at)
    return None


def _timer_apdu(txn: Transaction, timer: Timer, now: datetime) -> APDU:
    request = txn.request
    assert request is not None, "timers run only once a request is known"
    common = {
        "transaction_id": txn.transaction_id,
        "protocol_version_num": request.protocol_version_num,
        "service_date_time": reports.service_date_time(now),
        "requester_id": request.requester_id,
        "responder_id": request.responder_id,
    }
    if timer is Timer.EXPIRY:
        return Expired(**common)  # type: ignore[arg-type]
    date_due = txn.date_due
    assert date_due is not None
    return Overdue(**common, date_due=date_due)  # type: ignore[arg-type]
