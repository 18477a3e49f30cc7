"""Every row of the state tables does what it says, and everything else is refused."""

from __future__ import annotations

from datetime import date, datetime

import pytest

import isoill
from isoill.apdu.enums import CurrentState, ILLAPDUType, ReportSource
from isoill.machine import (
    TABLES,
    Direction,
    Event,
    ProhibitedTransition,
    Role,
    Row,
    State,
    Timer,
    Transaction,
    allowed,
    due_timers,
    receive,
    send,
    tick,
)
from isoill.machine.tables import GUARDS, parse_rows
from tests.machine.support import AT, apdu_for, in_state

NEED_BY = isoill.SearchType(
    need_before_date=date(2026, 11, 20), expiry_flag=isoill.ExpiryFlag.NEED_BEFORE_DATE
)
LATER = datetime(2026, 12, 10, 9, 0, 0)  # past both the need-before date and the due date

# Facts under which every condition of the tables holds.
PERMISSIVE = {"loan": True, "can_send_returned": False, "search": NEED_BY}


def cases() -> list[tuple[Role, Row, State, Event]]:
    return [
        (role, row, state, event)
        for role, table in TABLES.items()
        for row in table.rows
        for state in row.sources
        for event in row.events
    ]


def apply(txn: Transaction, event: Event) -> tuple[Transaction, isoill.StatusOrErrorReport | None]:
    """Make ``event`` happen; raises ProhibitedTransition for a refused send."""
    if event.direction is Direction.LOCAL:
        after, sent = tick(txn, LATER)
        assert len(sent) <= 1
        return after, None
    assert isinstance(event.service, ILLAPDUType)
    apdu = apdu_for(event.service, event.qualifier)
    if event.direction is Direction.SEND:
        return send(txn, apdu, at=AT), None
    outcome = receive(txn, apdu, at=AT)
    return outcome.transaction, outcome.reply


@pytest.mark.parametrize(
    ("role", "row", "state", "event"),
    cases(),
    ids=lambda v: str(v) if not isinstance(v, Row) else v.id,
)
def test_every_row(role: Role, row: Row, state: State, event: Event) -> None:
    txn = in_state(role, state, **PERMISSIVE)  # type: ignore[arg-type]
    assert allowed(txn, event) is row or row.guards, "another row shadows this one"
    after, reply = apply(txn, event)
    expected = row.next_state(state, txn.before_cancel)
    assert after.state is expected
    assert row.id in [e.row for e in after.history]
    if row.reply == "status-report":
        assert reply is not None and reply.status_report is not None
        assert reply.status_report.provider_status_report is state.current_state
    elif row.reply == "already-forwarded":
        assert reply is not None and reply.error_report is not None
        assert reply.error_report.report_source is ReportSource.USER
        forwarded_to = reply.error_report.user_error_report
        assert isinstance(forwarded_to, isoill.AlreadyForwarded)
        assert forwarded_to.responder_id.symbol == "OCLC:NEW"
    else:
        assert reply is None
    if event.direction is Direction.LOCAL:
        sent = after.history[-1].apdu
        expected_type = {Timer.EXPIRY: isoill.Expired, Timer.DUE_DATE: isoill.Overdue}
        assert isinstance(sent, expected_type[Timer(event.service)])


def refusals() -> list[tuple[Role, State, Event]]:
    out = []
    for role, table in TABLES.items():
        for state in table.states:
            for event in table.events():
                if not table.candidates(state, event):
                    out.append((role, state, event))
    return out


@pytest.mark.parametrize(("role", "state", "event"), refusals(), ids=str)
def test_every_other_pair_is_refused(role: Role, state: State, event: Event) -> None:
    txn = in_state(role, state, **PERMISSIVE)  # type: ignore[arg-type]
    assert_refused(txn, event)


def assert_refused(txn: Transaction, event: Event) -> None:
    state = txn.state
    if event.direction is Direction.LOCAL:
        assert allowed(txn, event) is None
        assert Timer(event.service) not in due_timers(txn, LATER)
        return
    if event.direction is Direction.SEND:
        with pytest.raises(ProhibitedTransition) as raised:
            apply(txn, event)
        report = raised.value.report
    else:
        after, reply = apply(txn, event)
        assert after.state is state and after.before_cancel == txn.before_cancel
        assert after.history[len(txn.history)].row == "refused"
        if event.service is ILLAPDUType.STATUS_OR_ERROR_REPORT:
            assert reply is None  # never an error report for an error report
            return
        assert reply is not None
        report = reply
    assert report.error_report is not None
    assert report.error_report.report_source is ReportSource.PROVIDER
    prohibited = report.error_report.provider_error_report
    assert isinstance(prohibited, isoill.StateTransitionProhibited)
    assert prohibited.apdu_type is event.service
    assert prohibited.current_state is state.current_state
    assert report.note and str(state) in report.note
    assert isoill.decode(isoill.encode(report)) == report


def guarded_cases() -> list[tuple[Role, Row, State, Event, str]]:
    return [
        (role, row, state, event, guard)
        for role, row, state, event in cases()
        if row.guards
        for guard in row.guards
    ]


# Facts under which one condition fails and the others hold.
BREAKING = {
    "loan": {"loan": False, "can_send_returned": False},
    "SHIPPED optional": {"shipped_required": True, "can_send_returned": False},
    "RECEIVED optional": {"received_required": True, "can_send_returned": False},
    "RETURNED skipped": {"can_send_returned": True},
}


@pytest.mark.parametrize(
    ("role", "row", "state", "event", "guard"),
    guarded_cases(),
    ids=lambda v: str(v) if not isinstance(v, Row) else v.id,
)
def test_each_condition_is_enforced(
    role: Role, row: Row, state: State, event: Event, guard: str
) -> None:
    txn = in_state(role, state, **BREAKING[guard])  # type: ignore[arg-type]
    if event.direction is not Direction.LOCAL and isinstance(event.service, ILLAPDUType):
        apdu = apdu_for(event.service, event.qualifier, loan=guard != "loan")
        if allowed(txn, event, apdu) is not None:
            pytest.fail(f"{row.id} applies although {guard!r} does not hold")
    assert_refused(txn, event)


def test_conditions_listed_are_the_ones_checked() -> None:
    txn = in_state(Role.REQUESTER, State.RECEIVED)
    for guard in GUARDS:
        txn.guard_holds(guard)  # each is known to the transaction
    with pytest.raises(ValueError, match="unknown condition"):
        txn.guard_holds("sunny")


def test_idle_accepts_only_the_request() -> None:
    requester = Transaction(Role.REQUESTER, apdu_for(ILLAPDUType.CANCEL).transaction_id)
    with pytest.raises(ProhibitedTransition) as raised:
        send(requester, apdu_for(ILLAPDUType.CANCEL))
    prohibited = raised.value.report.error_report
    assert prohibited is not None
    assert prohibited.provider_error_report == isoill.StateTransitionProhibited(
        apdu_type=ILLAPDUType.CANCEL, current_state=CurrentState.UNKNOWN
    )


def test_row_files_are_checked_when_read() -> None:
    states = TABLES[Role.REQUESTER].states
    with pytest.raises(ValueError, match="unknown condition"):
        parse_rows("X1 | PENDING | send CANCEL | CANCEL-PENDING | rainy | | I | x", states)
    with pytest.raises(ValueError, match="not a qualifier"):
        parse_rows("X1 | PENDING | send CANCEL yes | CANCEL-PENDING | | | I | x", states)
    with pytest.raises(ValueError, match="8 cells"):
        parse_rows("X1 | PENDING | send CANCEL", states)
    with pytest.raises(ValueError):
        parse_rows("X1 | SHELVED | send CANCEL | CANCEL-PENDING | | | I | x", states)


def test_overlapping_rows_are_refused() -> None:
    from isoill.machine.tables import Table

    rows = parse_rows(
        "X1 | PENDING | send CANCEL | CANCEL-PENDING | | | I | x\n"
        "X2 | PENDING | send CANCEL | CANCELLED | | | I | y",
        TABLES[Role.REQUESTER].states,
    )
    with pytest.raises(ValueError, match="X1 and X2 both apply"):
        Table(Role.REQUESTER, rows)
