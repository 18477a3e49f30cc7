"""ISO 18626 message -> ISO 10161 APDU: :func:`to_apdu`.

A ``supplyingAgencyMessage`` is read by its reasonForMessage first (a renewal, cancel or
status answer, a notification) and otherwise by its status; a ``requestingAgencyMessage``
by its action; an ERROR confirmation becomes the error report of a Status-Or-Error-Report.
The note markers written by :mod:`isoill.iso18626.from_apdu` bring back the APDUs 18626 has
no message for. Open-code values the 10161 side has no value for are kept in the note.

Some messages have no APDU (RequestReceived alone, an OK confirmation): they raise
:class:`NoApdu`, whose reason says why.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from isoill.apdu import apdus
from isoill.apdu.enums import (
    Conditions,
    ILLServiceType,
    MostRecentService,
    ReasonUnfilled,
    ReasonWillSupply,
    ShippedConditions,
    TransactionResults,
)
from isoill.apdu.types import (
    ConditionalResults,
    DateDue,
    EstimateResults,
    HistoryReport,
    HoldPlacedResults,
    RetryResults,
    StatusReport,
    SupplyDetails,
    SystemId,
    UnfilledResults,
    WillSupplyResults,
)
from isoill.iso18626 import codemap, identity, refusals
from isoill.iso18626.codes import Action, ReasonForMessage, Status, YesNo
from isoill.iso18626.identity import NoApdu
from isoill.iso18626.messages import (
    Message,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
)
from isoill.iso18626.request_fields import amount, ill_request


def to_apdu(message: Message, *, zone: tzinfo = UTC) -> apdus.APDU:
    """The ISO 10161 APDU ``message`` becomes, its dates in ``zone``. Raises
    :class:`NoApdu` (a :class:`~isoill.errors.IsoillError`) when there is none."""
    if isinstance(message, Request):
        return ill_request(message, zone)
    if isinstance(message, SupplyingAgencyMessage):
        return _supplier(message, zone)
    if isinstance(message, RequestingAgencyMessage):
        return ACTIONS[message.action](message, identity.apdu_base(message.header, zone))
    return refusals.error_report(message, zone)


# --- requestingAgencyMessage ----------------------------------------------------------------


def _status_request(message: RequestingAgencyMessage, base: dict[str, Any]) -> apdus.APDU:
    return apdus.StatusQuery(**base, note=message.note)


def _received(message: RequestingAgencyMessage, base: dict[str, Any]) -> apdus.APDU:
    """The date received is the message's; 18626 does not say what was shipped, and what
    is received is a loan (a copy completes on the supplier's CopyCompleted)."""
    return apdus.Received(
        **base,
        date_received=base["service_date_time"].date_time_of_this_service.date,
        shipped_service_type=ILLServiceType.LOAN,
        requester_note=message.note,
    )


def _cancel(message: RequestingAgencyMessage, base: dict[str, Any]) -> apdus.APDU:
    rejected, note = codemap.unmarked(message.note, codemap.REJECT_LOAN_CONDITION)
    if rejected:
        return apdus.ConditionalReply(**base, answer=False, requester_note=note)
    return apdus.Cancel(**base, requester_note=message.note)


def _renew(message: RequestingAgencyMessage, base: dict[str, Any]) -> apdus.APDU:
    return apdus.Renew(**base, requester_note=message.note)


def _shipped_return(message: RequestingAgencyMessage, base: dict[str, Any]) -> apdus.APDU:
    day = base["service_date_time"].date_time_of_this_service.date
    return apdus.Returned(**base, date_returned=day, requester_note=message.note)


def _notification(message: RequestingAgencyMessage, base: dict[str, Any]) -> apdus.APDU:
    agreed, note = codemap.unmarked(message.note, codemap.AGREE_LOAN_CONDITION)
    if agreed:
        return apdus.ConditionalReply(**base, answer=True, requester_note=note)
    lost, note = codemap.unmarked(message.note, codemap.LOST)
    if lost:
        return apdus.Lost(**base, note=note)
    return _note_apdu(message.note, base, "Notification")


def _shipped_forward(message: RequestingAgencyMessage, base: dict[str, Any]) -> apdus.APDU:
    """The item sent on to another library: 10161 has no such event, a Message says so."""
    return apdus.Message(**base, note=codemap.note("[action: ShippedForward]", message.note) or "")


def _note_apdu(note: str | None, base: dict[str, Any], what: str) -> apdus.APDU:
    """Damaged (marked) or a Message, which must have a note."""
    damaged, rest = codemap.unmarked(note, codemap.DAMAGED)
    if damaged:
        return apdus.Damaged(**base, note=rest)
    return apdus.Message(**base, note=note or f"[{what}]")


ACTIONS: dict[Action, Callable[[RequestingAgencyMessage, dict[str, Any]], apdus.APDU]] = {
    Action.STATUS_REQUEST: _status_request,
    Action.RECEIVED: _received,
    Action.CANCEL: _cancel,
    Action.RENEW: _renew,
    Action.SHIPPED_RETURN: _shipped_return,
    Action.SHIPPED_FORWARD: _shipped_forward,
    Action.NOTIFICATION: _notification,
}


# --- supplyingAgencyMessage -----------------------------------------------------------------


class _Supplier:
    """A supplyingAgencyMessage being read: its parts, the APDU's common components, and
    its dates as days in the zone."""

    def __init__(self, message: SupplyingAgencyMessage, zone: tzinfo) -> None:
        self.message = message
        self.info = message.message_info
        self.status = message.status_info
        self.zone = zone
        self.base = identity.apdu_base(message.header, zone)
        self.note = self.info.note

    def day(self, when: datetime | None) -> date | None:
        return identity.day(when, self.zone)

    @property
    def changed(self) -> date:
        """The day of the last change (a status report's and a check-in's date)."""
        return identity.local(self.status.last_change, self.zone).date()


def _supplier(message: SupplyingAgencyMessage, zone: tzinfo) -> apdus.APDU:
    reason = message.message_info.reason_for_message
    if reason in REASONS:
        return REASONS[reason](_Supplier(message, zone))
    return STATUSES[message.status_info.status](_Supplier(message, zone))


def _renew_response(s: _Supplier) -> apdus.APDU:
    due = s.day(s.status.due_date)
    return apdus.RenewAnswer(
        **s.base,
        answer=s.info.answer_yes_no == YesNo.YES,
        date_due=DateDue(date_due_field=due) if due else None,
        responder_note=s.note,
    )


def _cancel_response(s: _Supplier) -> apdus.APDU:
    answer = s.info.answer_yes_no
    yes = answer == YesNo.YES if answer else s.status.status == Status.CANCELLED
    return apdus.CancelReply(**s.base, answer=yes, responder_note=s.note)


def _status_response(s: _Supplier) -> apdus.APDU:
    """A status report: the responder's state of the status, the last change as the most
    recent service (the 18626 history is not sent)."""
    status = s.status.status
    report = HistoryReport(
        date_of_last_transition=s.changed,
        most_recent_service=RECENT_SERVICE[status],
        date_of_most_recent_service=s.changed,
        initiator_of_most_recent_service=s.base["responder_id"],
        shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE
        if status == Status.COPY_COMPLETED
        else None,
    )
    return apdus.StatusOrErrorReport(
        **s.base,
        status_report=StatusReport(
            user_status_report=report,
            provider_status_report=codemap.STATE_OF_STATUS[status],
        ),
        note=s.note,
    )


def _notification_response(s: _Supplier) -> apdus.APDU:
    forwarded, rest = codemap.unmarked(s.note, codemap.FORWARDED)
    if forwarded and rest:
        symbol, _, note = rest.partition(" ")
        return apdus.ForwardNotification(
            **(s.base | {"responder_id": SystemId.institution(symbol)}),
            intermediary_id=s.base["responder_id"],
            notification_note=note or None,
        )
    return _note_apdu(s.note, s.base, f"Notification, status {s.status.status.value}")


REASONS: dict[ReasonForMessage, Callable[[_Supplier], apdus.APDU]] = {
    ReasonForMessage.RENEW_RESPONSE: _renew_response,
    ReasonForMessage.CANCEL_RESPONSE: _cancel_response,
    ReasonForMessage.STATUS_REQUEST_RESPONSE: _status_response,
    ReasonForMessage.NOTIFICATION: _notification_response,
}


def _request_received(s: _Supplier) -> apdus.APDU:
    raise NoApdu(
        "RequestReceived: ISO 10161 has no APDU for a request merely received "
        "(its ILL-Answer comes with the next status)"
    )


def _answer(
    s: _Supplier, results: TransactionResults, explanation: Any, extra: str | None = None
) -> apdus.APDU:
    return apdus.ILLAnswer(
        **s.base,
        transaction_results=results,
        results_explanation=explanation,
        responder_note=codemap.note(s.note, extra),
    )


def _expect_to_supply(s: _Supplier) -> apdus.APDU:
    """Hold placed; without an expected date, the day the status changed."""
    expected = s.day(s.status.expected_delivery_date) or s.changed
    return _answer(
        s, TransactionResults.HOLD_PLACED, HoldPlacedResults(estimated_date_available=expected)
    )


def _will_supply(s: _Supplier) -> apdus.APDU:
    """WillSupply, or, with ReShare's loan-condition note, a conditional answer: the
    condition isoill named after the marker, else "other" with the peer's whole text."""
    conditional, rest = codemap.unmarked(s.note, codemap.ADD_LOAN_CONDITION)
    if conditional:
        name, _, note = (rest or "").partition(" ")
        known = name in Conditions.__members__
        return apdus.ILLAnswer(
            **s.base,
            transaction_results=TransactionResults.CONDITIONAL,
            results_explanation=ConditionalResults(
                conditions=Conditions[name] if known else Conditions.OTHER
            ),
            responder_note=(note or None) if known else rest,
        )
    supply = WillSupplyResults(
        reason_will_supply=ReasonWillSupply.BEING_PROCESSED_FOR_SUPPLY,
        supply_date=s.day(s.status.expected_delivery_date),
    )
    return _answer(s, TransactionResults.WILL_SUPPLY, supply)


def _shipped(s: _Supplier) -> apdus.APDU:
    """Loaned is a loan shipped, CopyCompleted a copy shipped."""
    delivery = s.message.delivery_info
    condition = delivery.loan_condition if delivery else None
    conditions = codemap.reverse(codemap.LOAN_CONDITIONS)
    due = s.day(s.status.due_date)
    details = SupplyDetails(
        date_shipped=s.day(delivery.date_sent) if delivery else None,
        date_due=DateDue(date_due_field=due) if due else None,
        cost=amount(delivery.delivery_costs) if delivery else None,
        shipped_conditions=conditions.get(condition.value, ShippedConditions.OTHER)
        if condition
        else None,
        shipped_via=delivery.sent_via.value if delivery and delivery.sent_via else None,
    )
    loan = s.status.status != Status.COPY_COMPLETED
    return apdus.Shipped(
        **s.base,
        shipped_service_type=ILLServiceType.LOAN if loan else ILLServiceType.COPY_NON_RETURNABLE,
        supply_details=details,
        responder_note=codemap.note(
            s.note, codemap.kept("loanCondition", condition, set(conditions))
        ),
    )


def _overdue(s: _Supplier) -> apdus.APDU:
    due = s.day(s.status.due_date) or s.changed
    return apdus.Overdue(**s.base, date_due=DateDue(date_due_field=due), responder_note=s.note)


def _recalled(s: _Supplier) -> apdus.APDU:
    return apdus.Recall(**s.base, responder_note=s.note)


def _retry_possible(s: _Supplier) -> apdus.APDU:
    """Offered costs make it an estimate; otherwise a retry with its reason and date."""
    offered = s.info.offered_costs
    if offered is not None:
        text = format(offered.monetary_value, "f")
        currency = offered.currency_code.value
        estimate = text if currency == "XXX" else f"{text} {currency}"
        return _answer(s, TransactionResults.ESTIMATE, EstimateResults(cost_estimate=estimate))
    reasons = codemap.reverse(codemap.RETRY_REASONS)
    code = s.info.reason_retry
    results = RetryResults(
        reason_not_available=reasons.get(code.value) if code else None,
        retry_date=s.day(s.info.retry_after),
    )
    known = {*reasons, codemap.RETRY_FALLBACK}
    return _answer(s, TransactionResults.RETRY, results, codemap.kept("reasonRetry", code, known))


def _unfilled(s: _Supplier) -> apdus.APDU:
    expired, _ = codemap.unmarked(s.note, codemap.EXPIRED)
    if expired:
        return apdus.Expired(**s.base)
    reasons = codemap.reverse(codemap.UNFILLED_REASONS)
    code = s.info.reason_unfilled
    reason = reasons.get(code.value, ReasonUnfilled.OTHER) if code else ReasonUnfilled.OTHER
    known = {*reasons, codemap.UNFILLED_FALLBACK}
    return _answer(
        s,
        TransactionResults.UNFILLED,
        UnfilledResults(reason_unfilled=reason),
        codemap.kept("reasonUnfilled", code, known),
    )


def _loan_completed(s: _Supplier) -> apdus.APDU:
    return apdus.CheckedIn(**s.base, date_checked_in=s.changed, responder_note=s.note)


def _completed_without_return(s: _Supplier) -> apdus.APDU:
    return apdus.Lost(**s.base, note=s.note)


def _cancelled(s: _Supplier) -> apdus.APDU:
    return apdus.CancelReply(**s.base, answer=True, responder_note=s.note)


STATUSES: dict[Status, Callable[[_Supplier], apdus.APDU]] = {
    Status.REQUEST_RECEIVED: _request_received,
    Status.EXPECT_TO_SUPPLY: _expect_to_supply,
    Status.WILL_SUPPLY: _will_supply,
    Status.LOANED: _shipped,
    Status.OVERDUE: _overdue,
    Status.RECALLED: _recalled,
    Status.RETRY_POSSIBLE: _retry_possible,
    Status.UNFILLED: _unfilled,
    Status.COPY_COMPLETED: _shipped,
    Status.LOAN_COMPLETED: _loan_completed,
    Status.COMPLETED_WITHOUT_RETURN: _completed_without_return,
    Status.CANCELLED: _cancelled,
}
#: The service a status report names as the most recent for each status.
RECENT_SERVICE: dict[Status, MostRecentService] = {
    Status.REQUEST_RECEIVED: MostRecentService.ILL_REQUEST,
    Status.EXPECT_TO_SUPPLY: MostRecentService.ILL_ANSWER,
    Status.WILL_SUPPLY: MostRecentService.ILL_ANSWER,
    Status.LOANED: MostRecentService.SHIPPED,
    Status.OVERDUE: MostRecentService.SHIPPED,
    Status.RECALLED: MostRecentService.RECALL,
    Status.RETRY_POSSIBLE: MostRecentService.ILL_ANSWER,
    Status.UNFILLED: MostRecentService.ILL_ANSWER,
    Status.COPY_COMPLETED: MostRecentService.SHIPPED,
    Status.LOAN_COMPLETED: MostRecentService.CHECKED_IN,
    Status.COMPLETED_WITHOUT_RETURN: MostRecentService.LOST,
    Status.CANCELLED: MostRecentService.CANCEL_REPLY,
}
