"""NACSIS-ILL commands driving the ISO leg of a record: what each command sends, and when the
protocol forbids it.

A record on the OCLC link has two states: NACSIS's STAT and the ISO transaction's state
(ISOSTAT). NII's gateway learns of a forbidden command only when its hourly batch fails and the
record comes back as a "transfer error"; here the command is checked against the protocol
machine first and refused before anything is sent, with the reason. A :class:`Leg` is the
record and its ISO transaction together, as one immutable value; :meth:`Leg.command` carries out
a command and :meth:`Leg.receive` takes an APDU from OCLC.

Which command sends which APDU (ill-systems.md §1.4):

============  =========  ==================================================================
command       side       APDU
============  =========  ==================================================================
ORDER         requester  ILL-Request (the GIF mapping, :mod:`isoill.mapping.to_iso`)
ANSWER        requester  Conditional-Reply yes, to the lender's conditions
CANCEL        requester  Cancel
RECEIVE       requester  Received, for a copy (the seed: RECEIVE makes the copy billable);
                         nothing for a loan or an inquiry. Guarded by the RECEIVE checks.
BORROW        requester  Received, for a loan (ISO3 3.7), guarded likewise
OK            requester  nothing (the Received went at RECEIVE); the copy is final
SENDBACK      requester  Returned
RENEW         requester  Renew
RECEIVE       responder  nothing: the lender accepts the request for processing
SEND          responder  Shipped (needs PAYMENT=IFM in CMMNT, SUM and SDATE; DDATE for a loan)
INQUIRE       responder  ILL-Answer conditional (CODE= or COND= says the condition)
PARDON        responder  Cancel-Reply yes when a Cancel is waiting, else ILL-Answer unfilled
OK            responder  Checked-In, closing a returned loan
RETRY         requester  nothing: a refused record back to 準備中; ORDER then opens a new
                         ISO transaction, once HMLISO or ODATE changed (N-11)
COPY          requester  nothing: the new record is ``receive_guard.copy_request``
FORWARD       requester  refused: OCLC forwards by itself (N-12); RETRY and change HMLISO
CLAIM         both       refused: not available on Global ILL (N-21)
============  =========  ==================================================================

Sources differ on which command sends Received for a copy (NL27 and the seed say RECEIVE, ISO3
3.21 shows OK); isoill follows the seed, and runs the RECEIVE checks before either (rule N-17).
The hourly batch is not modelled: an APDU is ready to send as soon as the command is accepted,
so STAT goes straight to what NACSIS shows after the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from isoill.apdu.apdus import (
    APDU,
    Cancel,
    CancelReply,
    CheckedIn,
    ConditionalReply,
    ILLAnswer,
    ILLRequest,
    Received,
    Renew,
    Returned,
    Shipped,
)
from isoill.apdu.enums import (
    Conditions,
    ILLServiceType,
    ReasonUnfilled,
    TransactionResults,
)
from isoill.apdu.types import (
    Amount,
    ConditionalResults,
    DateDue,
    SupplyDetails,
    UnfilledResults,
)
from isoill.errors import IsoillError
from isoill.machine import (
    Outcome,
    ProhibitedTransition,
    Role,
    State,
    Transaction,
    machine,
)
from isoill.machine.reports import service_date_time
from isoill.mapping import cmmnt
from isoill.mapping.messages import Text, joined, prefixed, role_name, say
from isoill.mapping.receive_guard import Verdict, check_receive
from isoill.mapping.record import Command, Record, Service, Stat


class CommandRefused(IsoillError):
    """The command cannot be carried out; nothing was sent. ``reasons`` says every why."""

    def __init__(self, command: Command, reasons: list[str]) -> None:
        self.command = command
        super().__init__(reasons)

    def __str__(self) -> str:
        return f"{self.command}: {super().__str__()}"


@dataclass(frozen=True)
class Leg:
    """A NACSIS-ILL record and the ISO transaction behind it, on one side of the link."""

    record: Record
    transaction: Transaction

    @classmethod
    def requester(cls, record: Record, request: ILLRequest) -> Leg:
        """A Japanese library's request to OCLC, before ORDER."""
        return cls(record, Transaction(Role.REQUESTER, request.transaction_id))

    @classmethod
    def responder(cls, record: Record, request: ILLRequest) -> Leg:
        """An OCLC library's request to a Japanese lender, not yet received."""
        return cls(record, Transaction(Role.RESPONDER, request.transaction_id))

    @property
    def role(self) -> Role:
        return self.transaction.role

    # --- commands -----------------------------------------------------------------------

    def command(
        self, command: Command, *, at: datetime | None = None, **options: Any
    ) -> tuple[Leg, list[APDU]]:
        """Carry out ``command``: the leg after it and the APDUs to send (at most one).

        ``options``: ``request`` (ORDER: the ILL-Request from :func:`order_request`),
        ``shipped`` and ``policy`` (RECEIVE/BORROW: what the RECEIVE checks look at),
        ``force=True`` with a ``reason`` and who forced it (``by``) (RECEIVE/BORROW: go ahead
        although the checks failed, as staff may after agreeing with the lender; the history
        says which checks were overridden)."""
        at = at or datetime.now()
        handler = _HANDLERS.get((self.role, command))
        if handler is None:
            raise CommandRefused(
                command, [say("not-a-command", command=command, role=role_name(self.role))]
            )
        stat, apdu = handler(self, command, at, options)
        transaction = self.transaction
        if isinstance(apdu, ILLRequest) and transaction.request is not None:
            # A RETRYed record ordered again: a new ISO transaction (N-11).
            transaction = Transaction(self.role, apdu.transaction_id)
        if apdu is not None:
            try:
                transaction = machine.send(transaction, apdu, at=at)
            except ProhibitedTransition as refused:
                note = refused.report.note or str(refused)
                raise CommandRefused(command, [say("iso-refused", note=note)]) from None
        record = self.record.replace(STAT=stat or self.record.STAT, ISOSTAT=transaction.state)
        if isinstance(apdu, ILLRequest) and not record.ODATE:
            record = record.replace(ODATE=f"{at:%Y%m%d}")  # NACSIS fills ODATE at ORDER
        record = record.with_history(_history(command, apdu, at))
        if options.get("force") and command in _GUARDED:
            record = record.with_history(_forced(self, command, options, at))
        return Leg(record, transaction), [apdu] if apdu is not None else []

    def receive(self, apdu: APDU, *, at: datetime | None = None) -> tuple[Leg, Outcome]:
        """An APDU from OCLC: the protocol machine judges it, and an accepted one changes
        the record as :func:`isoill.mapping.from_oclc.apply_incoming` says."""
        from isoill.mapping.from_oclc import apply_incoming

        at = at or datetime.now()
        outcome = machine.receive(self.transaction, apdu, at=at)
        record = self.record
        if outcome.accepted and self.role is Role.REQUESTER:
            record = apply_incoming(record, apdu, at=at.date())
        elif outcome.accepted:
            record = _lender_incoming(record, apdu, at)
        record = record.replace(ISOSTAT=outcome.transaction.state)
        return Leg(record, outcome.transaction), outcome


def _lender_incoming(record: Record, apdu: APDU, at: datetime) -> Record:
    """What an OCLC borrower's APDU does to a Japanese lender's record: a new request waits
    to be received (未処理); a Cancel is a new inquiry (新着照会) noted as NACSIS notes it
    ("CANCEL-APDU arrived", rule N-37), to be answered with PARDON; the borrower's Received
    of a copy ends the lender's side at 確認 (NII's 2015 GIF notice: 発送 -> 確認, final for
    copies; a loan stays 発送 until its return is checked in with OK); anything else is
    noted in the history."""
    if isinstance(apdu, ILLRequest):
        record = record.replace(STAT=Stat.UNPROCESSED)
    elif isinstance(apdu, Cancel):
        record = record.replace(STAT=Stat.NEW_INQUIRY)
    elif isinstance(apdu, Received) and record.SRVCE is not Service.LOAN:
        record = record.replace(STAT=Stat.CONFIRMED)
    name = "CANCEL-APDU arrived" if isinstance(apdu, Cancel) else f"APDU={type(apdu).__name__}"
    return record.with_history(f"{name} OCLC {at:%Y%m%d}")


# --- the commands, one function each ---------------------------------------------------------

Handled = tuple[Stat | None, APDU | None]


def _common(leg: Leg, at: datetime) -> dict[str, Any]:
    if leg.transaction.request is None:
        raise CommandRefused(Command.ORDER, [say("not-ordered")])
    return common_fields(leg.transaction, at)


def common_fields(txn: Transaction, at: datetime) -> dict[str, Any]:
    """The components every APDU of an ordered transaction repeats from its ILL-Request
    (the responder as it now is, after a FORWARD), for one sent at ``at``."""
    request = txn.request
    assert request is not None, "a transaction's APDUs follow its ILL-Request"
    return {
        "transaction_id": request.transaction_id,
        "protocol_version_num": request.protocol_version_num,
        "service_date_time": service_date_time(at),
        "requester_id": request.requester_id,
        "responder_id": txn.responder_id or request.responder_id,
    }


def _order(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    before = leg.transaction.request
    if before is not None and leg.record.STAT is not Stat.PREPARING:
        raise CommandRefused(command, [_why_not(command, leg.record.STAT, "準備中")])
    request = options.get("request")
    if request is None:
        from isoill.mapping.to_iso import order_request

        request = order_request(leg.record, at=at)
    if before is not None and request.transaction_id == before.transaction_id:
        raise CommandRefused(command, [say("n11-used")])
    return Stat.IN_PROCESS, request


def _why_not(command: Command, stat: Stat | None, wanted: str) -> Text:
    return say("needs-stat", command=command, wanted=wanted, stat=stat or "-")


#: ISO states in which OCLC has ended the request without supplying it: the record may be
#: rebuilt (RETRY) and ordered again from another lender.
_ENDED_UNFILLED = (State.NOT_SUPPLIED, State.CANCELLED)


def _retry(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    """RETRY (ISO3 5.9): a refused record back to 準備中, to be ordered again after HMLISO or
    ODATE changed (N-11)."""
    if leg.transaction.state not in _ENDED_UNFILLED or leg.record.STAT not in (
        Stat.NEW_INQUIRY,
        Stat.INQUIRY,
    ):
        why = say("retry-refused", stat=leg.record.STAT or "-", isostat=leg.transaction.state)
        raise CommandRefused(command, [why])
    return Stat.PREPARING, None


def _copy(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    """COPY (ISO3 5.9): the record stays as it is; the new record is
    :func:`isoill.mapping.receive_guard.copy_request` of it, ordered on its own."""
    return None, None


def _forward(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    raise CommandRefused(command, [say("forward-refused")])


def _answer(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    if leg.transaction.state is not State.CONDITIONAL:
        raise CommandRefused(
            command,
            [say("answer-not-conditional", state=leg.transaction.state)],
        )
    return Stat.AWAITING_ANSWER, ConditionalReply(**_common(leg, at), answer=True)


def _cancel(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    return None, Cancel(**_common(leg, at))


def _receive_item(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    """RECEIVE: of an inquiry (新着照会; no APDU), of a shipped copy (発送; Received, checked
    first), of a shipped loan (no APDU: BORROW sends the Received). Anything else has not
    arrived: RECEIVE at 処理中 would make a request billable that was never shipped."""
    stat = leg.record.STAT
    if stat is Stat.NEW_INQUIRY:
        return Stat.INQUIRY, None
    shipped = stat is Stat.SHIPPED or (stat is None and leg.transaction.state is State.SHIPPED)
    if not shipped:
        why = _why_not(command, stat, "発送 / 新着照会")
        if stat is Stat.IN_PROCESS:
            hint = say("n27-hint")
            why = joined([why, hint], "; ", "。")
        raise CommandRefused(command, [why])
    if leg.record.SRVCE is Service.LOAN or _is_loan(leg):
        return Stat.ARRIVAL_PROCESSING, None
    _check_before_receipt(leg, command, options)
    return Stat.ARRIVAL_PROCESSING, _received(leg, at, ILLServiceType.COPY_NON_RETURNABLE)


def _borrow(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    _check_before_receipt(leg, command, options)
    return Stat.BORROWED, _received(leg, at, ILLServiceType.LOAN)


def _is_loan(leg: Leg) -> bool:
    """A loan, or a physical item the lender sent for a copy request (it goes back)."""
    return leg.transaction.service_type is ILLServiceType.LOAN


#: The commands that make a request billable, and so run the checks before RECEIVE first.
_GUARDED = (Command.RECEIVE, Command.BORROW)


def _check_before_receipt(leg: Leg, command: Command, options: dict[str, Any]) -> None:
    if options.get("force"):
        if not str(options.get("reason") or "").strip():
            raise CommandRefused(command, [say("force-reason")])
        return
    verdict = _verdict(leg, options)
    if not verdict.ok:
        action = verdict.action
        todo = say("what-to-do", action=action)
        raise CommandRefused(command, [*verdict.reasons, todo])


def _verdict(leg: Leg, options: dict[str, Any]) -> Verdict:
    shipped = options.get("shipped")
    if shipped is None:
        found = leg.transaction.apdus(Shipped)
        shipped = found[-1] if found else None
    return check_receive(leg.record, shipped, options.get("policy"))


def _forced(leg: Leg, command: Command, options: dict[str, Any], at: datetime) -> str:
    """The history line of a forced RECEIVE/BORROW: who, why, and each check overridden (by
    its rule number), so that the record itself shows what was skipped."""
    overridden = [reason.split(":")[0] for reason in _verdict(leg, options).reasons]
    by = str(options.get("by") or "staff")
    return (
        f"FORCED {command} {at:%Y%m%d %H%M%S} by {by}: {str(options['reason']).strip()}"
        f" / overridden: {', '.join(overridden) or 'none (the checks passed)'}"
    )


#: What a command's options may hold when they come as JSON (the HTTP API): JSON types only,
#: the rest (the ILL-Request, the Shipped, the lending policy) is the gateway's own.
_JSON_OPTIONS = {"force": bool, "reason": str}


def json_options(command: Command, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` of ``command`` as given over HTTP, checked; ValueError says what is
    wrong (an HTTP 400, never a fault further in)."""
    problems = []
    for key, value in options.items():
        wanted = _JSON_OPTIONS.get(key)
        if key in ("policy", "shipped"):
            problems.append(say(f"option-{key}"))
        elif wanted is None:
            problems.append(say("option-unknown", key=key))
        elif not isinstance(value, wanted):
            problems.append(say("option-bool" if wanted is bool else "option-text", key=key))
    if options.get("force") is True and command not in _GUARDED:
        problems.append(say("force-unguarded", command=command))
    if options.get("force") is True and not str(options.get("reason") or "").strip():
        problems.append(say("force-reason"))
    if problems:
        raise ValueError(joined(problems, "; ", "。"))
    return dict(options)


def _received(leg: Leg, at: datetime, kind: ILLServiceType) -> Received:
    shipped = leg.transaction.service_type or kind
    return Received(**_common(leg, at), date_received=at.date(), shipped_service_type=shipped)


def _ok_requester(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    if leg.record.STAT is not Stat.ARRIVAL_PROCESSING:
        raise CommandRefused(command, [say("ok-needs-arrival")])
    return Stat.CONFIRMED, None


def _sendback(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    return Stat.RETURNED, Returned(**_common(leg, at), date_returned=at.date())


def _renew(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    return Stat.RENEWAL_REQUESTED, Renew(**_common(leg, at))


def _accept(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    if leg.transaction.state is State.CANCEL_PENDING:
        raise CommandRefused(command, [say("cancel-arrived")])
    if leg.transaction.state is not State.IN_PROCESS:
        raise CommandRefused(command, [say("accept-nothing", state=leg.transaction.state)])
    return Stat.IN_PROCESS, None


def _send(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    record = leg.record
    reading = cmmnt.read(record.CMMNT)
    problems = list(reading.problems)
    if reading.comment.payment != "IFM":
        problems.append(say("send-no-ifm"))
    amount = _amount(record, problems)
    shipped_on = _date(record.SDATE, "SDATE", problems, default=at.date())
    loan = record.SRVCE is Service.LOAN
    due = _date(record.DDATE, "DDATE", problems) if loan or record.DDATE else None
    if loan and due is None and not any(p.startswith("DDATE") for p in problems):
        problems.append(say("send-no-due"))
    if problems:
        raise CommandRefused(command, problems)
    details = SupplyDetails(
        date_shipped=shipped_on,
        date_due=DateDue(date_due_field=due) if due else None,
        cost=amount,
    )
    shipped = Shipped(
        **_common(leg, at),
        shipped_service_type=ILLServiceType.LOAN if loan else ILLServiceType.COPY_NON_RETURNABLE,
        supply_details=details,
        responder_note=record.CMMNT,
    )
    return Stat.SHIPPED, shipped


def _inquire(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    comment, problems = _reason_comment(leg.record)
    condition = comment.condition or _by_number(Conditions, comment.code)
    if condition is None and not comment.notes:
        problems.append(say("inquire-needs"))
    if problems:
        raise CommandRefused(command, problems)
    answer = ILLAnswer(
        **_common(leg, at),
        transaction_results=TransactionResults.CONDITIONAL,
        results_explanation=ConditionalResults(
            conditions=condition or Conditions.OTHER, date_for_reply=comment.reply
        ),
        responder_note=" / ".join(comment.notes) or None,
    )
    return Stat.AWAITING_ANSWER, answer


def _pardon(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    if leg.transaction.state is State.CANCEL_PENDING:
        # The way NACSIS accepts an OCLC borrower's Cancel (N-37): no CMMNT needed.
        return Stat.CANCEL, CancelReply(**_common(leg, at), answer=True)
    comment, problems = _reason_comment(leg.record)
    reason = comment.unfilled or _by_number(ReasonUnfilled, comment.code)
    if reason is None and not comment.notes:
        problems.append(say("pardon-needs"))
    if problems:
        raise CommandRefused(command, problems)
    answer = ILLAnswer(
        **_common(leg, at),
        transaction_results=TransactionResults.UNFILLED,
        results_explanation=UnfilledResults(reason_unfilled=reason or ReasonUnfilled.OTHER),
        responder_note=" / ".join(comment.notes) or None,
    )
    return Stat.NEW_INQUIRY, answer


def _check_in(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    return Stat.RETURN_CONFIRMED, CheckedIn(**_common(leg, at), date_checked_in=at.date())


def _not_on_the_link(leg: Leg, command: Command, at: datetime, options: dict[str, Any]) -> Handled:
    key = {Command.CLAIM: "claim-refused", Command.CALLBACK: "callback-refused"}[command]
    raise CommandRefused(command, [say(key)])


def _reason_comment(record: Record) -> tuple[cmmnt.Comment, list[str]]:
    reading = cmmnt.read(record.CMMNT)
    return reading.comment, list(reading.problems)


def _by_number(cls: Any, number: int | None) -> Any:
    if number is None:
        return None
    try:
        return cls(number)
    except ValueError:
        return None


def _amount(record: Record, problems: list[str]) -> Amount | None:
    if record.SUM is None or not record.SUM.strip():
        problems.append(say("send-no-sum"))
        return None
    try:
        value = Decimal(record.SUM.strip())
    except InvalidOperation:
        problems.append(prefixed("SUM", say("not-amount", amount=repr(record.SUM))))
        return None
    currency = (record.CCODE or "").strip().upper() or None
    if currency is not None and currency not in cmmnt.CURRENCIES:
        problems.append(prefixed("CCODE", say("cmmnt-currency", currency=currency)))
    return Amount(monetary_value=value, currency_code=currency)


def _date(
    text: str | None, name: str, problems: list[str], default: date | None = None
) -> date | None:
    if text is None or not text.strip():
        return default
    try:
        return datetime.strptime(text.strip(), "%Y%m%d").date()
    except ValueError:
        problems.append(say("not-a-date", field=name, text=repr(text)))
        return None


def _history(command: Command, apdu: APDU | None, at: datetime) -> str:
    """The history line of a command, as NACSIS writes one per operation."""
    sent = f" -> {type(apdu).__name__} OCLC" if apdu is not None else ""
    return f"{command} {at:%Y%m%d %H%M%S}{sent}"


_HANDLERS: dict[tuple[Role, Command], Any] = {
    (Role.REQUESTER, Command.ORDER): _order,
    (Role.REQUESTER, Command.ANSWER): _answer,
    (Role.REQUESTER, Command.CANCEL): _cancel,
    (Role.REQUESTER, Command.RECEIVE): _receive_item,
    (Role.REQUESTER, Command.BORROW): _borrow,
    (Role.REQUESTER, Command.OK): _ok_requester,
    (Role.REQUESTER, Command.SENDBACK): _sendback,
    (Role.REQUESTER, Command.RENEW): _renew,
    (Role.REQUESTER, Command.CLAIM): _not_on_the_link,
    (Role.REQUESTER, Command.CALLBACK): _not_on_the_link,
    (Role.REQUESTER, Command.FORWARD): _forward,
    (Role.REQUESTER, Command.RETRY): _retry,
    (Role.REQUESTER, Command.COPY): _copy,
    (Role.RESPONDER, Command.RECEIVE): _accept,
    (Role.RESPONDER, Command.SEND): _send,
    (Role.RESPONDER, Command.INQUIRE): _inquire,
    (Role.RESPONDER, Command.PARDON): _pardon,
    (Role.RESPONDER, Command.OK): _check_in,
    (Role.RESPONDER, Command.CLAIM): _not_on_the_link,
    (Role.RESPONDER, Command.CALLBACK): _not_on_the_link,
}

__all__ = ["CommandRefused", "Leg", "json_options"]
