"""Builders for the protocol machine's tests: an APDU for any event, a transaction in any
state with the facts (loan or copy, optional-messages choices) a test needs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import isoill
from isoill.apdu.apdus import APDU
from isoill.apdu.enums import ILLAPDUType, ILLServiceType, MessageRequirement
from isoill.machine import Direction, Event, Role, State, Transaction
from isoill.machine.transaction import HistoryEntry

AT = datetime(2026, 11, 2, 10, 0, 0)
REQUESTER = isoill.SystemId.institution("NACSIS:FA001234")
RESPONDER = isoill.SystemId.institution("OCLC:XYZ")
TID = isoill.TransactionId(
    initial_requester_id=REQUESTER, transaction_group_qualifier="GIF", transaction_qualifier="T1"
)
STAMP = isoill.ServiceDateTime(
    date_time_of_this_service=isoill.DateTimeOfService(date=date(2026, 11, 2))
)
DUE = isoill.DateDue(date_due_field=date(2026, 12, 1))


def common(tid: isoill.TransactionId = TID) -> dict[str, Any]:
    return {
        "transaction_id": tid,
        "service_date_time": STAMP,
        "requester_id": REQUESTER,
        "responder_id": RESPONDER,
    }


def request(
    *,
    shipped: MessageRequirement = MessageRequirement.DESIRES,
    can_send_returned: bool = True,
    search: isoill.SearchType | None = None,
    service: ILLServiceType = ILLServiceType.LOAN,
    **extra: Any,
) -> isoill.ILLRequest:
    return isoill.ILLRequest(
        **common(),
        item_id=isoill.ItemId(title="Interlending & Document Supply", author="Example"),
        ill_service_type=(service,),
        requester_optional_messages=isoill.RequesterOptionalMessagesType(
            can_send_received=True,
            can_send_returned=can_send_returned,
            requester_shipped=shipped,
            requester_checked_in=MessageRequirement.DESIRES,
        ),
        search_type=search,
        **extra,
    )


def responder_messages(
    received: MessageRequirement = MessageRequirement.DESIRES,
) -> isoill.ResponderOptionalMessagesType:
    return isoill.ResponderOptionalMessagesType(
        can_send_shipped=True,
        can_send_checked_in=True,
        responder_received=received,
        responder_returned=MessageRequirement.DESIRES,
    )


def shipped(
    service: ILLServiceType = ILLServiceType.LOAN,
    received: MessageRequirement = MessageRequirement.DESIRES,
    due: isoill.DateDue | None = DUE,
    note: str | None = None,
) -> isoill.Shipped:
    return isoill.Shipped(
        **common(),
        responder_note=note,
        shipped_service_type=service,
        supply_details=isoill.SupplyDetails(
            date_shipped=date(2026, 11, 3),
            date_due=due if service is ILLServiceType.LOAN else None,
        ),
        responder_optional_messages=responder_messages(received),
    )


def apdu_for(
    service: ILLAPDUType, qualifier: str | None = None, *, loan: bool = True, **fields: Any
) -> APDU:
    """A minimal valid APDU of this type (with this answer, for the qualified ones)."""
    kind = ILLServiceType.LOAN if loan else ILLServiceType.COPY_NON_RETURNABLE
    base = common()
    if service is ILLAPDUType.ILL_REQUEST:
        return request(forward_flag=qualifier == "forwarded", service=kind, **fields)
    if service is ILLAPDUType.ILL_ANSWER:
        results = isoill.TransactionResults[(qualifier or "will-supply").upper().replace("-", "_")]
        return isoill.ILLAnswer(**base, transaction_results=results, **fields)
    if service is ILLAPDUType.SHIPPED:
        return shipped(kind)
    answer = qualifier != "no"
    built: dict[ILLAPDUType, Any] = {
        ILLAPDUType.FORWARD_NOTIFICATION: lambda: isoill.ForwardNotification(
            **{**base, "responder_id": isoill.SystemId.institution("OCLC:NEW")},
            intermediary_id=RESPONDER,
        ),
        ILLAPDUType.CONDITIONAL_REPLY: lambda: isoill.ConditionalReply(**base, answer=answer),
        ILLAPDUType.CANCEL: lambda: isoill.Cancel(**base),
        ILLAPDUType.CANCEL_REPLY: lambda: isoill.CancelReply(**base, answer=answer),
        ILLAPDUType.RECEIVED: lambda: isoill.Received(
            **base, date_received=date(2026, 11, 5), shipped_service_type=kind
        ),
        ILLAPDUType.RECALL: lambda: isoill.Recall(**base),
        ILLAPDUType.RETURNED: lambda: isoill.Returned(**base, date_returned=date(2026, 11, 20)),
        ILLAPDUType.CHECKED_IN: lambda: isoill.CheckedIn(
            **base, date_checked_in=date(2026, 11, 22)
        ),
        ILLAPDUType.OVERDUE: lambda: isoill.Overdue(**base, date_due=DUE),
        ILLAPDUType.RENEW: lambda: isoill.Renew(**base),
        ILLAPDUType.RENEW_ANSWER: lambda: isoill.RenewAnswer(
            **base,
            answer=answer,
            date_due=isoill.DateDue(date_due_field=date(2026, 12, 15)) if answer else None,
        ),
        ILLAPDUType.LOST: lambda: isoill.Lost(**base),
        ILLAPDUType.DAMAGED: lambda: isoill.Damaged(**base),
        ILLAPDUType.MESSAGE: lambda: isoill.Message(**base, note="a note"),
        ILLAPDUType.STATUS_QUERY: lambda: isoill.StatusQuery(**base),
        ILLAPDUType.STATUS_OR_ERROR_REPORT: lambda: isoill.StatusOrErrorReport(
            **base, reason_no_report=isoill.ReasonNoReport.TEMPORARY
        ),
        ILLAPDUType.EXPIRED: lambda: isoill.Expired(**base),
    }
    return built[service]()  # type: ignore[no-any-return]


def entry(apdu: APDU, direction: Direction, state: State) -> HistoryEntry:
    return HistoryEntry(
        at=AT,
        direction=direction,
        event=Event(direction, apdu.apdu_type),
        apdu=apdu,
        state_before=state,
        state_after=state,
        row="test",
    )


def in_state(
    role: Role,
    state: State,
    *,
    loan: bool | None = True,
    before_cancel: State | None = None,
    shipped_required: bool = False,
    received_required: bool = False,
    can_send_returned: bool = True,
    search: isoill.SearchType | None = None,
) -> Transaction:
    """A transaction in ``state`` whose history holds the facts asked for: the request
    (optional-messages choices), a Shipped (loan or copy) unless ``loan`` is None, and the
    Forward-Notification that FORWARD implies."""
    if state is State.IDLE:
        return Transaction(role, TID)
    mine = Direction.SEND if role is Role.REQUESTER else Direction.RECEIVE
    theirs = Direction.RECEIVE if role is Role.REQUESTER else Direction.SEND
    need = MessageRequirement.REQUIRES if shipped_required else MessageRequirement.DESIRES
    first = request(
        shipped=need, can_send_returned=can_send_returned, search=search, requester_note="fact"
    )
    history = [entry(first, mine, state)]
    if loan is not None:
        kind = ILLServiceType.LOAN if loan else ILLServiceType.COPY_NON_RETURNABLE
        receipt = MessageRequirement.REQUIRES if received_required else MessageRequirement.DESIRES
        # Not the Shipped apdu_for() builds: that one would be taken for a repeat.
        history.append(entry(shipped(kind, receipt, note="fact"), theirs, state))
    if state is State.FORWARD:
        history.append(entry(apdu_for(ILLAPDUType.FORWARD_NOTIFICATION), Direction.SEND, state))
    if state is State.CANCEL_PENDING and before_cancel is None:
        before_cancel = State.PENDING if role is Role.REQUESTER else State.IN_PROCESS
    return Transaction(role, TID, state, before_cancel, tuple(history))
