"""The Status-Or-Error-Reports the protocol machine sends by itself.

Each echoes the transaction-id, requester-id and responder-id of the APDU it answers, so the
peer can file it, and carries a readable ``note``: yaz-illclient, for one, prints the note of
an error report and nothing else from it. ``correlation-information`` is not defined
publicly; isoill writes the offending APDU's type and service date-time (``CANCEL 20240101
101500``), which is what a person needs to find it.
"""

from __future__ import annotations

from datetime import date, datetime, time

from isoill.apdu.apdus import APDU, ILLAnswer, StatusOrErrorReport
from isoill.apdu.enums import (
    GeneralProblem,
    ILLAPDUType,
    MostRecentService,
    ReasonNoReport,
    ReportSource,
    TransactionIdProblem,
    UnableToPerform,
)
from isoill.apdu.types import (
    AlreadyForwarded,
    DateTimeOfService,
    ErrorReport,
    HistoryReport,
    ServiceDateTime,
    StateTransitionProhibited,
    StatusReport,
    SystemAddress,
    SystemId,
    TransactionId,
)
from isoill.machine.events import SERVICE_NAMES, Direction, Role, State
from isoill.machine.transaction import REFUSED, REPLY, Transaction


def service_date_time(at: datetime) -> ServiceDateTime:
    moment = at.replace(microsecond=0)
    return ServiceDateTime(
        date_time_of_this_service=DateTimeOfService(date=moment.date(), time=moment.time())
    )


def correlation(apdu: APDU) -> str:
    this = apdu.service_date_time.date_time_of_this_service
    parts = [SERVICE_NAMES[apdu.apdu_type], _text(this.date)]
    if this.time is not None:
        parts.append(_text(this.time))
    return " ".join(parts)


def _text(value: date | time | str) -> str:
    """ISO-Date and ISO-Time as they go on the wire (a peer's unparsed text as it was)."""
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    if isinstance(value, time):
        return value.strftime("%H%M%S")
    return value


def _answering(apdu: APDU, at: datetime, **report: object) -> StatusOrErrorReport:
    return StatusOrErrorReport(
        transaction_id=apdu.transaction_id,
        protocol_version_num=apdu.protocol_version_num,
        service_date_time=service_date_time(at),
        requester_id=apdu.requester_id,
        responder_id=apdu.responder_id,
        **report,  # type: ignore[arg-type]
    )


def prohibited(apdu: APDU, state: State, role: Role, at: datetime) -> StatusOrErrorReport:
    """provider-error-report state-transition-prohibited {APDU type, current state}."""
    name = SERVICE_NAMES[apdu.apdu_type]
    return _answering(
        apdu,
        at,
        error_report=ErrorReport(
            correlation_information=correlation(apdu),
            report_source=ReportSource.PROVIDER,
            provider_error_report=StateTransitionProhibited(
                apdu_type=apdu.apdu_type, current_state=state.current_state
            ),
        ),
        note=f"{name} is not allowed when the {role}'s state is {state}; the state is unchanged",
    )


def transaction_id_problem(
    apdu: APDU, problem: TransactionIdProblem, at: datetime
) -> StatusOrErrorReport:
    why = {
        TransactionIdProblem.DUPLICATE_TRANSACTION_ID: "a transaction with this id exists already",
        TransactionIdProblem.INVALID_TRANSACTION_ID: "this transaction id is not valid",
        TransactionIdProblem.UNKNOWN_TRANSACTION_ID: "no transaction with this id is known",
    }[problem]
    return _answering(
        apdu,
        at,
        error_report=ErrorReport(
            correlation_information=correlation(apdu),
            report_source=ReportSource.PROVIDER,
            provider_error_report=problem,
        ),
        note=f"{SERVICE_NAMES[apdu.apdu_type]}: {why}",
    )


def already_forwarded(
    apdu: APDU, responder: SystemId, address: SystemAddress | None, at: datetime
) -> StatusOrErrorReport:
    return _answering(
        apdu,
        at,
        error_report=ErrorReport(
            correlation_information=correlation(apdu),
            report_source=ReportSource.USER,
            user_error_report=AlreadyForwarded(responder_id=responder, responder_address=address),
        ),
        note=f"this transaction was forwarded to {responder.symbol or responder.name}",
    )


def user_error(
    apdu: APDU, problem: UnableToPerform | str, note: str, at: datetime
) -> StatusOrErrorReport:
    """user-error-report: unable-to-perform, or a security problem (given as text).

    What a gateway answers when it will not pass an APDU on: a sender it does not know
    (security problem), or an APDU the other network cannot take (unable to perform)."""
    return _answering(
        apdu,
        at,
        error_report=ErrorReport(
            correlation_information=correlation(apdu),
            report_source=ReportSource.USER,
            user_error_report=problem,
        ),
        note=note[:1000],
    )


def undecodable(note: str, at: datetime) -> StatusOrErrorReport:
    """provider-error-report general-problem for bytes that are no APDU one can read: the
    transaction-id is unknown, so it goes empty, as yaz-illclient sends its own."""
    return StatusOrErrorReport(
        transaction_id=TransactionId(transaction_group_qualifier="", transaction_qualifier=""),
        service_date_time=service_date_time(at),
        error_report=ErrorReport(
            correlation_information="undecodable APDU",
            report_source=ReportSource.PROVIDER,
            provider_error_report=GeneralProblem.BADLY_STRUCTURED_APDU,
        ),
        note=note[:1000],
    )


# History-Report.most-recent-service has no value for Overdue and Renew (the standard's list).
_REPORTABLE = {member.value for member in MostRecentService}
_NOT_SERVICES = {ILLAPDUType.STATUS_QUERY, ILLAPDUType.STATUS_OR_ERROR_REPORT}


def status_report(txn: Transaction, query: APDU, me: SystemId, at: datetime) -> StatusOrErrorReport:
    """The answer to a Status-Query: History-Report from the history, and the current state.

    The most recent service is the last APDU that did something (queries and reports are
    not services of the transaction); Overdue and Renew, which History-Report cannot name,
    are given in the note of the service before them. ``me`` is this party's own System-Id,
    the initiator of what it sent."""
    services = [
        e
        for e in txn.history
        if e.row not in (REFUSED, REPLY) and e.apdu.apdu_type not in _NOT_SERVICES
    ]
    reportable = [e for e in services if e.apdu.apdu_type.value in _REPORTABLE]
    if not reportable:
        return _answering(query, at, reason_no_report=ReasonNoReport.TEMPORARY, note="no history")
    last = reportable[-1]
    later = [SERVICE_NAMES[e.apdu.apdu_type] for e in services[services.index(last) + 1 :]]
    request = txn.request
    item = None if request is None else request.item_id
    answers = txn.apdus(ILLAnswer)
    initiator = me if last.direction is Direction.SEND else _sender_id(last.apdu, txn.role) or me
    transitions = [e for e in services if e.state_before is not e.state_after]
    last_transition = (transitions[-1] if transitions else last).at.date()
    history = HistoryReport(
        date_requested=(
            None if request is None else request.service_date_time.date_time_of_this_service.date
        ),
        author=None if item is None else item.author,
        title=None if item is None else item.title,
        author_of_article=None if item is None else item.author_of_article,
        title_of_article=None if item is None else item.title_of_article,
        date_of_last_transition=last_transition,
        most_recent_service=MostRecentService(last.apdu.apdu_type.value),
        date_of_most_recent_service=last.at.date(),
        initiator_of_most_recent_service=initiator,
        shipped_service_type=txn.service_type,
        transaction_results=answers[-1].transaction_results if answers else None,
        most_recent_service_note=("since then: " + ", ".join(later)) if later else None,
    )
    return _answering(
        query,
        at,
        status_report=StatusReport(
            user_status_report=history, provider_status_report=txn.state.current_state
        ),
    )


def _sender_id(apdu: APDU, my_role: Role) -> SystemId | None:
    """Who sent an APDU this party received: the other party of the transaction."""
    if my_role is Role.REQUESTER:
        return apdu.responder_id
    return apdu.requester_id
