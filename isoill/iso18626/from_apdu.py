"""ISO 10161 APDU -> ISO 18626 message: :func:`from_apdu`.

Each APDU type has one function below; docs/iso18626-mapping.md is the table of them. What
the requester sends becomes a ``requestingAgencyMessage`` (or the ``request``), what the
responder sends a ``supplyingAgencyMessage``; an error report becomes the ERROR
confirmation that 18626 uses to refuse a message.

Three APDUs (Message, Lost, Damaged) may come from either side and the APDU does not say
which: the caller passes ``sender``. A ``supplyingAgencyMessage`` must always state the
request's status, and some APDUs (Cancel-Reply "no", Message, ...) do not change it: the
caller passes the ``current`` status when it knows it; :data:`UNCHANGED` is assumed
otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, tzinfo
from enum import Enum
from typing import Any

from isoill.apdu import apdus
from isoill.apdu.enums import (
    CurrentState,
    ILLAPDUType,
    ILLServiceType,
    TransactionResults,
)
from isoill.apdu.types import (
    Amount,
    ConditionalResults,
    ElectronicDeliveryService,
    EstimateResults,
    HoldPlacedResults,
    LocationInfo,
    LocationsResults,
    RetryResults,
    SupplyDetails,
    UnfilledResults,
    WillSupplyResults,
)
from isoill.iso18626 import codemap, identity, refusals
from isoill.iso18626.codes import (
    LOAN_CONDITION_SCHEME,
    REASON_RETRY_SCHEME,
    REASON_UNFILLED_SCHEME,
    Action,
    ReasonForMessage,
    Status,
    YesNo,
)
from isoill.iso18626.identity import MappingError, Side
from isoill.iso18626.messages import (
    Costs,
    DeliveryInfo,
    Message,
    MessageInfo,
    RequestingAgencyMessage,
    SchemeValue,
    StatusInfo,
    SupplyingAgencyMessage,
)
from isoill.iso18626.request_fields import costs, request

#: The status a message that changes nothing states when the caller does not know the
#: current one.
UNCHANGED = Status.WILL_SUPPLY


class _Context:
    """What every mapping function needs besides the APDU."""

    def __init__(self, zone: tzinfo, sender: Side | None, current: Status | None) -> None:
        self.zone = zone
        self.sender = sender
        self.current = current or UNCHANGED


def from_apdu(
    apdu: apdus.APDU,
    *,
    zone: tzinfo = UTC,
    sender: Side | None = None,
    current: Status | None = None,
) -> Message:
    """The ISO 18626 message ``apdu`` becomes; its XML always validates. Raises
    :class:`~isoill.iso18626.identity.MappingError` when the APDU has none (no
    AUTHORITY:SYMBOL for a party, a request only for locations, Message/Lost/Damaged
    without ``sender``)."""
    context = _Context(zone, sender, current)
    mapper = MAPPERS[type(apdu).apdu_type]
    message: Message = _xml_safe(mapper(apdu, context))
    return message


# --- the requester's APDUs ------------------------------------------------------------------


def _action(
    apdu: apdus.APDUBase, context: _Context, action: Action, note: str | None
) -> RequestingAgencyMessage:
    return RequestingAgencyMessage(identity.header(apdu, context.zone), action, note)


def _ill_request(apdu: apdus.ILLRequest, context: _Context) -> Message:
    return request(apdu, context.zone)


def _received(apdu: apdus.Received, context: _Context) -> Message:
    return _action(apdu, context, Action.RECEIVED, apdu.requester_note)


def _renew(apdu: apdus.Renew, context: _Context) -> Message:
    return _action(apdu, context, Action.RENEW, apdu.requester_note)


def _returned(apdu: apdus.Returned, context: _Context) -> Message:
    return _action(apdu, context, Action.SHIPPED_RETURN, apdu.requester_note)


def _cancel(apdu: apdus.Cancel, context: _Context) -> Message:
    return _action(apdu, context, Action.CANCEL, apdu.requester_note)


def _status_query(apdu: apdus.StatusQuery, context: _Context) -> Message:
    return _action(apdu, context, Action.STATUS_REQUEST, apdu.note)


def _conditional_reply(apdu: apdus.ConditionalReply, context: _Context) -> Message:
    """Agreeing to the conditions is a Notification, refusing them cancels (as ReShare
    does), each with ReShare's marker so the way back can tell them from a plain note or
    cancel."""
    if apdu.answer:
        return _action(
            apdu,
            context,
            Action.NOTIFICATION,
            codemap.note(codemap.AGREE_LOAN_CONDITION, apdu.requester_note),
        )
    return _action(
        apdu,
        context,
        Action.CANCEL,
        codemap.note(codemap.REJECT_LOAN_CONDITION, apdu.requester_note),
    )


# --- the responder's APDUs ------------------------------------------------------------------


def _supplier(
    apdu: apdus.APDUBase,
    context: _Context,
    status: Status,
    info: MessageInfo,
    *,
    delivery: DeliveryInfo | None = None,
    expected: Any = None,
    due: Any = None,
) -> SupplyingAgencyMessage:
    head = identity.header(apdu, context.zone)
    return SupplyingAgencyMessage(
        header=head,
        message_info=info,
        status_info=StatusInfo(
            status=status,
            last_change=head.timestamp,
            expected_delivery_date=identity.moment(expected, context.zone),
            due_date=identity.moment(due, context.zone),
        ),
        delivery_info=delivery,
    )


def _change(note: str | None, **info: Any) -> MessageInfo:
    return MessageInfo(ReasonForMessage.STATUS_CHANGE, note=note, **info)


def _ill_answer(apdu: apdus.ILLAnswer, context: _Context) -> Message:
    """An ILL-Answer is the response to the request: RequestResponse, with the status its
    results say."""
    results = apdu.results_explanation
    note = codemap.note(apdu.responder_note, _locations(getattr(results, "locations", None)))
    info = MessageInfo(ReasonForMessage.REQUEST_RESPONSE, note=note)
    if isinstance(results, WillSupplyResults):
        return _supplier(apdu, context, Status.WILL_SUPPLY, info, expected=results.supply_date)
    if isinstance(results, HoldPlacedResults):
        return _supplier(
            apdu, context, Status.EXPECT_TO_SUPPLY, info, expected=results.estimated_date_available
        )
    if isinstance(results, ConditionalResults):
        return _conditional(apdu, context, results, info)
    if isinstance(results, RetryResults):
        reason = (
            codemap.RETRY_REASONS.get(results.reason_not_available, codemap.RETRY_FALLBACK)
            if results.reason_not_available
            else codemap.RETRY_FALLBACK
        )
        retry = replace(
            info,
            reason_retry=SchemeValue(reason, REASON_RETRY_SCHEME),
            retry_after=identity.moment(results.retry_date, context.zone),
        )
        return _supplier(apdu, context, Status.RETRY_POSSIBLE, retry)
    if isinstance(results, UnfilledResults):
        reason = codemap.UNFILLED_REASONS.get(results.reason_unfilled, codemap.UNFILLED_FALLBACK)
        return _unfilled(apdu, context, info, reason)
    if isinstance(results, LocationsResults):
        return _unfilled(apdu, context, info, codemap.UNFILLED_FALLBACK)
    if isinstance(results, EstimateResults):
        return _estimate(apdu, context, results, info)
    return _supplier(apdu, context, _status_of_results(apdu), info)


def _status_of_results(apdu: apdus.ILLAnswer) -> Status:
    """An ILL-Answer without results-explanation: the status its transaction-results say."""
    table = {
        TransactionResults.WILL_SUPPLY: Status.WILL_SUPPLY,
        TransactionResults.HOLD_PLACED: Status.EXPECT_TO_SUPPLY,
        TransactionResults.CONDITIONAL: Status.WILL_SUPPLY,
        TransactionResults.RETRY: Status.RETRY_POSSIBLE,
        TransactionResults.ESTIMATE: Status.RETRY_POSSIBLE,
    }
    return table.get(apdu.transaction_results, Status.UNFILLED)


def _conditional(
    apdu: apdus.ILLAnswer, context: _Context, results: ConditionalResults, info: MessageInfo
) -> Message:
    """Conditions about money ask the requester to retry with more; any other condition is
    a WillSupply with ReShare's loan-condition note, which the requester agrees to or not
    (Conditional-Reply)."""
    if results.conditions in codemap.COST_CONDITIONS:
        retry = replace(info, reason_retry=SchemeValue("CostExceedsMaxCost", REASON_RETRY_SCHEME))
        return _supplier(
            apdu,
            context,
            Status.RETRY_POSSIBLE,
            replace(retry, note=codemap.note(results.conditions.name, info.note)),
        )
    note = codemap.note(codemap.ADD_LOAN_CONDITION, results.conditions.name, info.note)
    return _supplier(apdu, context, Status.WILL_SUPPLY, replace(info, note=note))


def _unfilled(
    apdu: apdus.APDUBase, context: _Context, info: MessageInfo, reason: str | None
) -> Message:
    coded = replace(
        info, reason_unfilled=SchemeValue(reason, REASON_UNFILLED_SCHEME) if reason else None
    )
    return _supplier(apdu, context, Status.UNFILLED, coded)


def _estimate(
    apdu: apdus.ILLAnswer, context: _Context, results: EstimateResults, info: MessageInfo
) -> Message:
    """An estimate is a retry at a price: offeredCosts when cost-estimate reads as an
    amount, else the estimate's text in the note."""
    try:
        offered: Costs | None = costs(
            Amount(monetary_value=Amount.parse_monetary_value(results.cost_estimate))
        )
    except ValueError:
        offered = None
    retry = replace(
        info,
        reason_retry=SchemeValue("CostExceedsMaxCost", REASON_RETRY_SCHEME),
        offered_costs=offered,
        note=info.note
        if offered
        else codemap.note(f"[estimate: {results.cost_estimate}]", info.note),
    )
    return _supplier(apdu, context, Status.RETRY_POSSIBLE, retry)


def _locations(locations: tuple[LocationInfo, ...] | None) -> str | None:
    if not locations:
        return None
    names = [loc.location_id.symbol or loc.location_id.name or "?" for loc in locations]
    return f"[locations: {', '.join(names)}]"


def _shipped(apdu: apdus.Shipped, context: _Context) -> Message:
    """A loan shipped is Loaned; a copy shipped is the copy delivered: CopyCompleted."""
    kind = apdu.shipped_service_type
    if kind not in (ILLServiceType.LOAN, ILLServiceType.COPY_NON_RETURNABLE):
        raise MappingError(
            f"shipped-service-type: {kind.name.lower()} is neither a loan nor a copy"
        )
    details = apdu.supply_details
    status = Status.LOANED if kind == ILLServiceType.LOAN else Status.COPY_COMPLETED
    due = details.date_due.date_due_field if details.date_due else None
    return _supplier(
        apdu,
        context,
        status,
        _change(apdu.responder_note),
        delivery=_delivery(apdu, details, context),
        due=due,
    )


def _delivery(apdu: apdus.APDUBase, details: SupplyDetails, context: _Context) -> DeliveryInfo:
    sent = identity.moment(details.date_shipped, context.zone) or identity.service_moment(
        apdu.service_date_time, context.zone
    )
    via = details.shipped_via
    if isinstance(via, ElectronicDeliveryService):
        via = via.e_delivery_description or via.name_or_code
    condition = details.shipped_conditions
    return DeliveryInfo(
        date_sent=sent,
        sent_via=SchemeValue(via) if via else None,
        loan_condition=SchemeValue(
            codemap.LOAN_CONDITIONS.get(condition, "Other"), LOAN_CONDITION_SCHEME
        )
        if condition
        else None,
        delivery_costs=costs(details.cost) if details.cost else None,
    )


def _renew_answer(apdu: apdus.RenewAnswer, context: _Context) -> Message:
    info = MessageInfo(
        ReasonForMessage.RENEW_RESPONSE, YesNo.YES if apdu.answer else YesNo.NO, apdu.responder_note
    )
    status = (
        context.current if context.current in (Status.LOANED, Status.OVERDUE) else Status.LOANED
    )
    due = apdu.date_due.date_due_field if apdu.date_due else None
    return _supplier(apdu, context, Status.LOANED if apdu.answer else status, info, due=due)


def _cancel_reply(apdu: apdus.CancelReply, context: _Context) -> Message:
    """Yes: Cancelled. No: the status stays what it was; never Cancelled with N, which
    18626 peers refuse as a contradiction."""
    info = MessageInfo(
        ReasonForMessage.CANCEL_RESPONSE,
        YesNo.YES if apdu.answer else YesNo.NO,
        apdu.responder_note,
    )
    if apdu.answer:
        return _supplier(apdu, context, Status.CANCELLED, info)
    kept = UNCHANGED if context.current == Status.CANCELLED else context.current
    return _supplier(apdu, context, kept, info)


def _recall(apdu: apdus.Recall, context: _Context) -> Message:
    return _supplier(apdu, context, Status.RECALLED, _change(apdu.responder_note))


def _overdue(apdu: apdus.Overdue, context: _Context) -> Message:
    return _supplier(
        apdu,
        context,
        Status.OVERDUE,
        _change(apdu.responder_note),
        due=apdu.date_due.date_due_field,
    )


def _checked_in(apdu: apdus.CheckedIn, context: _Context) -> Message:
    return _supplier(apdu, context, Status.LOAN_COMPLETED, _change(apdu.responder_note))


def _expired(apdu: apdus.Expired, context: _Context) -> Message:
    """18626 has no expiry: the request is Unfilled, marked so that it comes back as
    Expired."""
    return _unfilled(apdu, context, _change(codemap.EXPIRED), None)


def _forward_notification(apdu: apdus.ForwardNotification, context: _Context) -> Message:
    """The 18626 peer only knows the intermediary (its supplier): a Notification from it
    naming the responder the request went on to."""
    head = replace(
        identity.header(apdu, context.zone),
        supplying_agency_id=identity.agency(apdu.intermediary_id, "intermediary-id"),
    )
    note = codemap.note(codemap.FORWARDED, apdu.responder_id.symbol, apdu.notification_note)
    message = _supplier(
        apdu, context, context.current, MessageInfo(ReasonForMessage.NOTIFICATION, note=note)
    )
    return replace(message, header=head)


# --- either side ----------------------------------------------------------------------------


def _notify(apdu: apdus.APDUBase, context: _Context, note: str | None) -> Message:
    """A note from either side: action Notification from the requester, reasonForMessage
    Notification from the responder."""
    if context.sender is None:
        raise MappingError(f"{type(apdu).__name__}: may come from either side; say which (sender)")
    if context.sender == "requester":
        return _action(apdu, context, Action.NOTIFICATION, note)
    return _supplier(
        apdu, context, context.current, MessageInfo(ReasonForMessage.NOTIFICATION, note=note)
    )


def _message(apdu: apdus.Message, context: _Context) -> Message:
    return _notify(apdu, context, apdu.note)


def _damaged(apdu: apdus.Damaged, context: _Context) -> Message:
    return _notify(apdu, context, codemap.note(codemap.DAMAGED, apdu.note))


def _lost(apdu: apdus.Lost, context: _Context) -> Message:
    """Lost by the requester: v1.2 has no Lost action, so a marked Notification. Declared
    lost by the responder: CompletedWithoutReturn."""
    if context.sender == "responder":
        return _supplier(apdu, context, Status.COMPLETED_WITHOUT_RETURN, _change(apdu.note))
    return _notify(apdu, context, codemap.note(codemap.LOST, apdu.note))


def _status_or_error(apdu: apdus.StatusOrErrorReport, context: _Context) -> Message:
    """A status report answers a StatusRequest; an error report refuses a message, which
    18626 does with an ERROR confirmation."""
    if apdu.error_report is not None:
        return refusals.error_confirmation(apdu, context.zone, context.sender)
    report = apdu.status_report
    if report is not None:
        status = codemap.STATUS_OF_STATE[report.provider_status_report]
        if (
            status == Status.LOANED
            and report.user_status_report.shipped_service_type == ILLServiceType.COPY_NON_RETURNABLE
        ):
            status = Status.COPY_COMPLETED
        if report.provider_status_report == CurrentState.UNKNOWN:
            status = context.current
        note = codemap.note(apdu.note, report.user_status_report.most_recent_service_note)
    else:
        status = context.current
        reason = apdu.reason_no_report.name.lower() if apdu.reason_no_report else "none"
        note = codemap.note(f"[no status report: {reason}]", apdu.note)
    return _supplier(
        apdu, context, status, MessageInfo(ReasonForMessage.STATUS_REQUEST_RESPONSE, note=note)
    )


# --- the result always validates -----------------------------------------------------------


def _xml_safe(value: Any) -> Any:
    """``value`` with every text cleaned of characters XML 1.0 cannot carry (a 10161
    string may hold control characters; 18626 would refuse the whole message)."""
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        return "".join(ch if _xml_char(ch) else "\ufffd" for ch in value)
    if isinstance(value, tuple):
        return tuple(_xml_safe(item) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        changed = {f.name: _xml_safe(getattr(value, f.name)) for f in fields(value)}
        return replace(value, **changed)
    return value


def _xml_char(ch: str) -> bool:
    code = ord(ch)
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or code >= 0x10000
    )


MAPPERS: dict[ILLAPDUType, Callable[[Any, _Context], Message]] = {
    ILLAPDUType.ILL_REQUEST: _ill_request,
    ILLAPDUType.FORWARD_NOTIFICATION: _forward_notification,
    ILLAPDUType.SHIPPED: _shipped,
    ILLAPDUType.ILL_ANSWER: _ill_answer,
    ILLAPDUType.CONDITIONAL_REPLY: _conditional_reply,
    ILLAPDUType.CANCEL: _cancel,
    ILLAPDUType.CANCEL_REPLY: _cancel_reply,
    ILLAPDUType.RECEIVED: _received,
    ILLAPDUType.RECALL: _recall,
    ILLAPDUType.RETURNED: _returned,
    ILLAPDUType.CHECKED_IN: _checked_in,
    ILLAPDUType.OVERDUE: _overdue,
    ILLAPDUType.RENEW: _renew,
    ILLAPDUType.RENEW_ANSWER: _renew_answer,
    ILLAPDUType.LOST: _lost,
    ILLAPDUType.DAMAGED: _damaged,
    ILLAPDUType.MESSAGE: _message,
    ILLAPDUType.STATUS_QUERY: _status_query,
    ILLAPDUType.STATUS_OR_ERROR_REPORT: _status_or_error,
    ILLAPDUType.EXPIRED: _expired,
}
