"""Refusals across the protocols: a 10161 error report <-> an 18626 ERROR confirmation.

18626 refuses a message in its synchronous confirmation (messageStatus ERROR, errorData);
10161 sends a Status-Or-Error-Report with an error report. The errorValue isoill writes
names the 10161 problem ("general-problem badly_structured_apdu", "status change not
allowed: renew in state pending", ...) and the way back reads those names, so a refusal
that crosses twice is the same problem; a foreign errorValue is read by its errorType.
"""

from __future__ import annotations

import re
from datetime import tzinfo
from typing import Any

from isoill.apdu import apdus
from isoill.apdu.enums import (
    CurrentState,
    GeneralProblem,
    ILLAPDUType,
    ReportSource,
    TransactionIdProblem,
)
from isoill.apdu.types import ErrorReport, ProviderErrorReport, StateTransitionProhibited
from isoill.iso18626 import codemap, identity
from isoill.iso18626.codes import Action, ErrorType, MessageStatus, ReasonForMessage
from isoill.iso18626.identity import NoApdu, Side
from isoill.iso18626.messages import (
    Confirmation,
    ConfirmationHeader,
    ErrorData,
    RequestConfirmation,
    RequestingAgencyMessageConfirmation,
    SupplyingAgencyMessageConfirmation,
)

# --- 10161 -> 18626 ---

#: The APDUs only a requester sends (an error about one of them refuses a
#: requestingAgencyMessage).
REQUESTER_APDUS = frozenset(
    {
        ILLAPDUType.CONDITIONAL_REPLY,
        ILLAPDUType.CANCEL,
        ILLAPDUType.RECEIVED,
        ILLAPDUType.RETURNED,
        ILLAPDUType.RENEW,
        ILLAPDUType.STATUS_QUERY,
    }
)


def error_confirmation(
    apdu: apdus.StatusOrErrorReport, zone: tzinfo, sender: Side | None = None
) -> Confirmation:
    """The ERROR confirmation of the message the report refuses: a requestConfirmation
    for an ILL-Request (or when the report does not say), a requestingAgencyMessage one for
    what a requester sends, a supplyingAgencyMessage one otherwise."""
    report = apdu.error_report
    assert report is not None
    data = error_data(report, apdu.note)
    refused = (
        report.provider_error_report.apdu_type
        if isinstance(report.provider_error_report, StateTransitionProhibited)
        else None
    )
    head = identity.header(apdu, zone)
    confirmation = ConfirmationHeader(
        timestamp=head.timestamp,
        timestamp_received=head.timestamp,
        message_status=MessageStatus.ERROR,
        supplying_agency_id=head.supplying_agency_id,
        requesting_agency_id=head.requesting_agency_id,
        requesting_agency_request_id=head.requesting_agency_request_id,
        multiple_item_request_id=head.multiple_item_request_id or None,
    )
    if refused is None:
        # The report does not say what it refuses: what the sender's partner sends.
        refused = {"responder": ILLAPDUType.RECEIVED, "requester": ILLAPDUType.SHIPPED}.get(
            sender or "", ILLAPDUType.ILL_REQUEST
        )
    if refused == ILLAPDUType.ILL_REQUEST:
        return RequestConfirmation(confirmation, data)
    if refused in REQUESTER_APDUS:
        return RequestingAgencyMessageConfirmation(confirmation, error_data=data)
    return SupplyingAgencyMessageConfirmation(confirmation, error_data=data)


def error_data(report: ErrorReport, note: str | None = None) -> ErrorData:
    """The errorData of an ERROR confirmation saying what a 10161 error report says (for a
    gateway that answers an 18626 POST with it). The errorType of the problem: a general
    problem is a badly formed message, a transaction-id problem or a user error an
    unrecognised value, a state transition prohibited a status change not allowed (an
    unsupported action for what a requester sends). The errorValue names the problem as
    :mod:`isoill.iso18626.to_apdu` reads it back, then correlation-information and
    ``note``."""
    provider, user = report.provider_error_report, report.user_error_report
    text = codemap.note(report.correlation_information, note)
    if isinstance(provider, GeneralProblem):
        kind, what = ErrorType.BADLY_FORMED_MESSAGE, f"general-problem {provider.name.lower()}"
    elif isinstance(provider, TransactionIdProblem):
        kind, what = (
            ErrorType.UNRECOGNISED_DATA_VALUE,
            f"transaction-id-problem {provider.name.lower()}",
        )
    elif isinstance(provider, StateTransitionProhibited):
        kind = (
            ErrorType.UNSUPPORTED_ACTION_TYPE
            if provider.apdu_type in REQUESTER_APDUS
            else ErrorType.UNRECOGNISED_DATA_VALUE
        )
        what = (
            f"status change not allowed: {provider.apdu_type.name.lower()} "
            f"in state {provider.current_state.name.lower()}"
        )
    else:
        kind, what = ErrorType.UNRECOGNISED_DATA_VALUE, f"user-error {_user_error(user)}"
    return ErrorData(kind, codemap.note(what, text and f"({text})"))


def _user_error(user: object) -> str:
    if user is None:
        return "unspecified"
    if isinstance(user, str):
        return f"security-problem {user}"
    name = getattr(user, "name", None)
    return name.lower() if isinstance(name, str) else type(user).__name__


# --- 18626 -> 10161 --------------------------------------------------------------------------

_STATE_TRANSITION = re.compile(
    r"status change not allowed: (?P<apdu>[a-z_]+) in state (?P<state>[a-z_]+)"
)
_NAMED = re.compile(r"(?P<kind>general-problem|transaction-id-problem) (?P<name>[a-z_]+)")
#: The APDU a refused message was, for a state-transition-prohibited report.
_REFUSED_ACTION: dict[Action, ILLAPDUType] = {
    Action.STATUS_REQUEST: ILLAPDUType.STATUS_QUERY,
    Action.RECEIVED: ILLAPDUType.RECEIVED,
    Action.CANCEL: ILLAPDUType.CANCEL,
    Action.RENEW: ILLAPDUType.RENEW,
    Action.SHIPPED_RETURN: ILLAPDUType.RETURNED,
    Action.SHIPPED_FORWARD: ILLAPDUType.MESSAGE,
    Action.NOTIFICATION: ILLAPDUType.MESSAGE,
}
_REFUSED_REASON: dict[ReasonForMessage, ILLAPDUType] = {
    ReasonForMessage.REQUEST_RESPONSE: ILLAPDUType.ILL_ANSWER,
    ReasonForMessage.STATUS_REQUEST_RESPONSE: ILLAPDUType.STATUS_OR_ERROR_REPORT,
    ReasonForMessage.RENEW_RESPONSE: ILLAPDUType.RENEW_ANSWER,
    ReasonForMessage.CANCEL_RESPONSE: ILLAPDUType.CANCEL_REPLY,
    ReasonForMessage.STATUS_CHANGE: ILLAPDUType.SHIPPED,
    ReasonForMessage.NOTIFICATION: ILLAPDUType.MESSAGE,
}


def error_report(message: Confirmation, zone: tzinfo) -> apdus.StatusOrErrorReport:
    """An ERROR confirmation is the peer refusing a message: an error report on the
    transaction it names."""
    head = message.confirmation_header
    if head.message_status == MessageStatus.OK or message.error_data is None:
        raise NoApdu(f"{message.TAG}: an OK confirmation only says the message arrived; no APDU")
    qualifier = head.requesting_agency_request_id
    if not qualifier or not qualifier.strip():
        raise NoApdu(
            f"{message.TAG}: names no requestingAgencyRequestId, so no transaction to report on"
        )
    data = message.error_data
    text = data.error_value or data.error_type.value
    base = identity.apdu_base(head, zone)
    report = ErrorReport(
        correlation_information=text,
        report_source=ReportSource.PROVIDER,
        provider_error_report=_provider_error(message, data.error_type, text),
    )
    return apdus.StatusOrErrorReport(
        **base, error_report=report, note=f"{data.error_type.value}: {text}"
    )


def _provider_error(message: Confirmation, kind: ErrorType, text: str) -> ProviderErrorReport:
    """The 10161 problem of an 18626 error, reading back the names isoill writes."""
    transition = _STATE_TRANSITION.search(text)
    if (
        transition
        and transition["apdu"].upper() in ILLAPDUType.__members__
        and transition["state"].upper() in CurrentState.__members__
    ):
        return StateTransitionProhibited(
            apdu_type=ILLAPDUType[transition["apdu"].upper()],
            current_state=CurrentState[transition["state"].upper()],
        )
    named = _NAMED.search(text)
    if named:
        table: Any = GeneralProblem if named["kind"] == "general-problem" else TransactionIdProblem
        if named["name"].upper() in table.__members__:
            found: ProviderErrorReport = table[named["name"].upper()]
            return found
    if kind == ErrorType.UNSUPPORTED_ACTION_TYPE or "status change not allowed" in text:
        return StateTransitionProhibited(
            apdu_type=_refused(message), current_state=CurrentState.UNKNOWN
        )
    return ERROR_PROBLEMS[kind]


def _refused(message: Confirmation) -> ILLAPDUType:
    if isinstance(message, RequestingAgencyMessageConfirmation) and message.action:
        return _REFUSED_ACTION[message.action]
    if isinstance(message, SupplyingAgencyMessageConfirmation) and message.reason_for_message:
        return _REFUSED_REASON[message.reason_for_message]
    return (
        ILLAPDUType.ILL_REQUEST if isinstance(message, RequestConfirmation) else ILLAPDUType.MESSAGE
    )


ERROR_PROBLEMS: dict[ErrorType, GeneralProblem] = {
    ErrorType.BADLY_FORMED_MESSAGE: GeneralProblem.BADLY_STRUCTURED_APDU,
    ErrorType.UNRECOGNISED_DATA_ELEMENT: GeneralProblem.MISTYPED_APDU,
    ErrorType.UNRECOGNISED_DATA_VALUE: GeneralProblem.OTHER,
    ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE: GeneralProblem.UNRECOGNIZED_APDU,
    ErrorType.UNSUPPORTED_ACTION_TYPE: GeneralProblem.UNRECOGNIZED_APDU,
}
