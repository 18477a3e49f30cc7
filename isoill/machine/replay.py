"""Replay a captured trace through one party's protocol machine. No I/O.

A trace (the APDUs of one transaction, in the order they went over the wire) does not say
which way each APDU travelled: the replay works it out from the APDU type and from the role
whose view is wanted, then feeds each APDU to :func:`~isoill.machine.send` or
:func:`~isoill.machine.receive` and keeps what the machine made of it. The first prohibited
transition ends the replay, with the error report the machine would send, so that a trace
from a misbehaving peer shows the exact APDU the standard does not allow.

Which party sent an APDU (the direction rule):

* the types only one party originates (:data:`~isoill.machine.events.ORIGINATOR`) say so
  themselves;
* a Status-Or-Error-Report answers the APDU before it, so it comes from the other party;
* Lost, Damaged, Message and Status-Query, which either party may send, are taken as coming
  from the party that sent the APDU before them (a trace starts with the ILL-Request, so there
  is always one; without it the requester is assumed).

For the intermediary, whose forwarding puts three parties in one transaction: it is the
responder of the first ILL-Request; it sends the forwarded ILL-Request (forward-flag set) and
the Forward-Notification; the APDUs the requester and the new responder then exchange name
another responder-id and are listed as skipped. For the same reason a forwarded ILL-Request is
skipped in the requester's replay: it goes from the intermediary to the new responder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Literal

from isoill.apdu import to_json
from isoill.apdu.apdus import APDU, ForwardNotification, ILLRequest, StatusOrErrorReport
from isoill.apdu.enums import ILLAPDUType
from isoill.apdu.types import SystemId, TransactionId
from isoill.errors import IsoillError
from isoill.machine.events import ORIGINATOR, SERVICE_NAMES, Role, State
from isoill.machine.machine import ProhibitedTransition, receive, send
from isoill.machine.transaction import Transaction

#: When an APDU's service date-time does not parse (a lenient peer's text), the replay still
#: has to give the machine a time, and the same one on every run.
FALLBACK_AT = datetime(2000, 1, 1)

StepDirection = Literal["sent", "received", "skipped"]

NOT_ADDRESSED = "not addressed to the {role}"
REPEATED = "a repeat of an APDU already received: ignored"


class ReplayError(IsoillError, ValueError):
    """The trace cannot be replayed through one machine (not a protocol refusal: an APDU of
    another transaction, say)."""

    def __init__(self, n: int, message: str) -> None:
        self.n = n
        super().__init__(f"APDU {n}: {message}")


@dataclass(frozen=True)
class Step:
    """What one APDU of the trace did to the machine."""

    n: int
    apdu: str
    direction: StepDirection
    state_before: State
    state_after: State
    # The table row that applied; None for a skipped, repeated or prohibited APDU.
    row: str | None
    # Why a skipped or repeated APDU changed nothing.
    note: str | None = None
    # What the machine answered a received APDU with (a status report, already-forwarded, or
    # the error report of a prohibited transition).
    reply: StatusOrErrorReport | None = None
    prohibited: bool = False

    def line(self) -> str:
        """``3 SHIPPED received PENDING -> SHIPPED``: the form the command line prints."""
        if self.direction == "skipped":
            return f"{self.n} {self.apdu} skipped ({self.note})"
        text = f"{self.n} {self.apdu} {self.direction} {self.state_before} -> {self.state_after}"
        if self.prohibited:
            return f"{text} (prohibited)"
        if self.note is not None:
            return f"{text} ({self.note})"
        if self.reply is not None:
            return f"{text} (answered: {self.reply.note or SERVICE_NAMES[self.reply.apdu_type]})"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "apdu": self.apdu,
            "direction": self.direction,
            "state-before": self.state_before.value,
            "state-after": self.state_after.value,
            "row": self.row,
            "note": self.note,
            "reply": None if self.reply is None else to_json(self.reply),
            "prohibited": self.prohibited,
        }


@dataclass(frozen=True)
class ReplayResult:
    role: Role
    transaction: Transaction
    steps: tuple[Step, ...] = field(default=())
    # The Status-Or-Error-Report of the first prohibited transition: the reply to a received
    # APDU, or the report explaining why this party may not send one.
    report: StatusOrErrorReport | None = None

    @property
    def final(self) -> State:
        return self.transaction.state

    @property
    def prohibited(self) -> Step | None:
        last = self.steps[-1] if self.steps else None
        return last if last is not None and last.prohibited else None

    def lines(self) -> list[str]:
        """One line per APDU, then the final state."""
        return [step.line() for step in self.steps] + [f"final: {self.final}"]

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role.value,
            "steps": [step.to_json() for step in self.steps],
            "final": self.final.value,
            "report": None if self.report is None else to_json(self.report),
        }


def replay(apdus: Iterable[APDU], role: Role) -> ReplayResult:
    """Feed ``apdus`` through one machine of ``role``, deciding each one's direction. The
    replay stops at the first prohibited transition: past it the machine's state is no longer
    the one the peer believes in, so later steps would say nothing true."""
    txn: Transaction | None = None
    steps: list[Step] = []
    previous: Role | None = None
    me: SystemId | None = None  # the intermediary's own System-Id
    for n, apdu in enumerate(apdus, 1):
        origin = _origin(apdu, previous)
        previous = origin
        if txn is None:
            txn = Transaction(role, apdu.transaction_id)
            if role is Role.INTERMEDIARY and isinstance(apdu, ILLRequest):
                me = apdu.responder_id
        elif apdu.transaction_id != txn.transaction_id:
            raise ReplayError(
                n,
                f"{SERVICE_NAMES[apdu.apdu_type]} belongs to another transaction; a replay "
                "follows one transaction",
            )
        name = SERVICE_NAMES[apdu.apdu_type]
        direction = _direction(apdu, origin, role, me)
        if direction == "skipped":
            note = NOT_ADDRESSED.format(role=role)
            steps.append(Step(n, name, direction, txn.state, txn.state, None, note))
            continue
        at = _at(apdu)
        before = txn.state
        if direction == "sent":
            try:
                after = send(txn, apdu, at=at)
            except ProhibitedTransition as refusal:
                steps.append(Step(n, name, direction, before, before, None, prohibited=True))
                return ReplayResult(role, txn, tuple(steps), refusal.report)
            txn = after
            steps.append(Step(n, name, direction, before, txn.state, txn.history[-1].row))
            continue
        outcome = receive(txn, apdu, at=at)
        txn = outcome.transaction
        if outcome.repeated:
            steps.append(Step(n, name, direction, before, txn.state, None, REPEATED))
            continue
        if outcome.row is None:
            # Refused: the state is unchanged and the reply (if any: a report is never
            # answered with another) is the error report.
            steps.append(
                Step(n, name, direction, before, txn.state, None, None, outcome.reply, True)
            )
            return ReplayResult(role, txn, tuple(steps), outcome.reply)
        steps.append(
            Step(n, name, direction, before, txn.state, outcome.row.id, reply=outcome.reply)
        )
    if txn is None:
        txn = Transaction(role, _NO_TRANSACTION)
    return ReplayResult(role, txn, tuple(steps))


# --- internals -----------------------------------------------------------------------------


def _origin(apdu: APDU, previous: Role | None) -> Role:
    """The party (requester or responder side) that sent ``apdu``."""
    fixed = ORIGINATOR[apdu.apdu_type]
    if fixed is not None:
        return fixed
    if previous is None:
        return Role.REQUESTER
    if apdu.apdu_type is ILLAPDUType.STATUS_OR_ERROR_REPORT:
        return Role.RESPONDER if previous is Role.REQUESTER else Role.REQUESTER
    return previous


def _direction(apdu: APDU, origin: Role, role: Role, me: SystemId | None) -> StepDirection:
    forwarded = isinstance(apdu, ILLRequest) and apdu.forward_flag
    if role is Role.REQUESTER:
        if forwarded:
            return "skipped"
        return "sent" if origin is Role.REQUESTER else "received"
    if role is Role.RESPONDER:
        return "received" if origin is Role.REQUESTER else "sent"
    if forwarded or isinstance(apdu, ForwardNotification):
        return "sent"
    if me is not None and apdu.responder_id is not None and apdu.responder_id != me:
        return "skipped"
    return "received" if origin is Role.REQUESTER else "sent"


def _at(apdu: APDU) -> datetime:
    """The APDU's own service date-time, so that a replay gives the same reports every time."""
    this = apdu.service_date_time.date_time_of_this_service
    if not isinstance(this.date, date):
        return FALLBACK_AT
    moment = this.time if isinstance(this.time, time) else time()
    return datetime.combine(this.date, moment)


# An empty trace has no transaction; its result still needs one to say IDLE.
_NO_TRANSACTION = TransactionId(transaction_group_qualifier="", transaction_qualifier="")
