"""States, roles and events of the ILL protocol machine.

The states are the standard's Current-State values plus IDLE (no transaction yet), spelt as
the standard spells them, because librarians read them in reports and in the state tables.
An event is the sending (a request primitive) or the receiving (an indication) of one APDU,
or one of the two local timer events; for the APDUs whose answer decides the next state
(ILL-Answer's transaction-results, the yes/no of Conditional-Reply, Cancel-Reply and
Renew-Answer, a forwarded ILL-Request) the event carries that answer as its qualifier.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from isoill.apdu.apdus import (
    APDU,
    CancelReply,
    ConditionalReply,
    ILLAnswer,
    ILLRequest,
    RenewAnswer,
)
from isoill.apdu.enums import CurrentState, ILLAPDUType


class State(StrEnum):
    """A transaction's state, as one party's protocol machine sees it."""

    IDLE = "IDLE"
    NOT_SUPPLIED = "NOT-SUPPLIED"
    PENDING = "PENDING"
    IN_PROCESS = "IN-PROCESS"
    FORWARD = "FORWARD"
    CONDITIONAL = "CONDITIONAL"
    CANCEL_PENDING = "CANCEL-PENDING"
    CANCELLED = "CANCELLED"
    SHIPPED = "SHIPPED"
    RECEIVED = "RECEIVED"
    RENEW_PENDING = "RENEW-PENDING"
    NOT_RECEIVED_OVERDUE = "NOT-RECEIVED-OVERDUE"
    RENEW_OVERDUE = "RENEW-OVERDUE"
    OVERDUE = "OVERDUE"
    RETURNED = "RETURNED"
    CHECKED_IN = "CHECKED-IN"
    RECALL = "RECALL"
    LOST = "LOST"

    def __str__(self) -> str:
        return self.value

    @property
    def current_state(self) -> CurrentState:
        """The Current-State value reports carry (IDLE has none: UNKNOWN)."""
        if self is State.IDLE:
            return CurrentState.UNKNOWN
        return CurrentState[self.name]


class Role(StrEnum):
    REQUESTER = "requester"
    RESPONDER = "responder"
    INTERMEDIARY = "intermediary"

    def __str__(self) -> str:
        return self.value


class Direction(StrEnum):
    SEND = "send"  # the local user asked for it (X.request): the APDU goes out
    RECEIVE = "recv"  # it arrived (X.indication)
    LOCAL = "local"  # a timer of the machine's own

    def __str__(self) -> str:
        return self.value


class Timer(StrEnum):
    """Local events: not APDUs, but each makes the machine send one."""

    EXPIRY = "EXPIRY-TIMER"  # need-before-date / expiry-date reached before supply -> Expired
    DUE_DATE = "DUE-DATE"  # a loan's due date passed -> Overdue

    def __str__(self) -> str:
        return self.value


#: The standard's names of the APDU types, as the tables and reports print them.
SERVICE_NAMES: dict[ILLAPDUType, str] = {member: member.type_name.upper() for member in ILLAPDUType}
SERVICES_BY_NAME: dict[str, ILLAPDUType] = {name: t for t, name in SERVICE_NAMES.items()}

#: Qualifiers an event can carry, per APDU type; the other APDU types have none.
QUALIFIERS: dict[ILLAPDUType, tuple[str, ...]] = {
    ILLAPDUType.ILL_ANSWER: (
        "conditional",
        "retry",
        "unfilled",
        "locations-provided",
        "will-supply",
        "hold-placed",
        "estimate",
    ),
    ILLAPDUType.CONDITIONAL_REPLY: ("yes", "no"),
    ILLAPDUType.CANCEL_REPLY: ("yes", "no"),
    ILLAPDUType.RENEW_ANSWER: ("yes", "no"),
    ILLAPDUType.ILL_REQUEST: ("forwarded",),
}


def possible_qualifiers(service: ILLAPDUType) -> tuple[str | None, ...]:
    """The qualifiers an APDU of this type can really carry: an ILL-Answer always has a
    result and a reply always a yes or no; an ILL-Request is forwarded or not."""
    if service is ILLAPDUType.ILL_REQUEST:
        return (None, *QUALIFIERS[service])
    return QUALIFIERS.get(service, (None,))


@dataclass(frozen=True)
class Event:
    """``send ILL-ANSWER will-supply``, ``recv CANCEL-REPLY no``, ``local EXPIRY-TIMER``."""

    direction: Direction
    service: ILLAPDUType | Timer
    qualifier: str | None = None

    def __str__(self) -> str:
        service = self.service if isinstance(self.service, Timer) else SERVICE_NAMES[self.service]
        text = f"{self.direction} {service}"
        return f"{text} {self.qualifier}" if self.qualifier else text

    @classmethod
    def parse(cls, text: str) -> Event:
        """The inverse of ``str()``: how the tables write events."""
        words = text.split()
        if len(words) not in (2, 3):
            raise ValueError(f"an event is 'send|recv|local SERVICE [qualifier]': {text!r}")
        direction = Direction(words[0])
        service: ILLAPDUType | Timer = (
            Timer(words[1]) if direction is Direction.LOCAL else SERVICES_BY_NAME[words[1]]
        )
        qualifier = words[2] if len(words) == 3 else None
        if qualifier is not None and (
            isinstance(service, Timer) or qualifier not in QUALIFIERS.get(service, ())
        ):
            raise ValueError(f"{qualifier!r} is not a qualifier of {words[1]}")
        return cls(direction, service, qualifier)


def qualifier_of(apdu: APDU) -> str | None:
    """What in an APDU decides the next state, in the tables' words."""
    if isinstance(apdu, ILLAnswer):
        return apdu.transaction_results.asn1_name
    if isinstance(apdu, ConditionalReply | CancelReply | RenewAnswer):
        return "yes" if apdu.answer else "no"
    if isinstance(apdu, ILLRequest) and apdu.forward_flag:
        return "forwarded"
    return None


def event_for(apdu: APDU, direction: Direction) -> Event:
    return Event(direction, apdu.apdu_type, qualifier_of(apdu))


#: Which party originates each APDU type in a simple transaction; None: either party.
ORIGINATOR: dict[ILLAPDUType, Role | None] = {
    ILLAPDUType.ILL_REQUEST: Role.REQUESTER,
    ILLAPDUType.FORWARD_NOTIFICATION: Role.RESPONDER,  # the intermediary, as responder
    ILLAPDUType.SHIPPED: Role.RESPONDER,
    ILLAPDUType.ILL_ANSWER: Role.RESPONDER,
    ILLAPDUType.CONDITIONAL_REPLY: Role.REQUESTER,
    ILLAPDUType.CANCEL: Role.REQUESTER,
    ILLAPDUType.CANCEL_REPLY: Role.RESPONDER,
    ILLAPDUType.RECEIVED: Role.REQUESTER,
    ILLAPDUType.RECALL: Role.RESPONDER,
    ILLAPDUType.RETURNED: Role.REQUESTER,
    ILLAPDUType.CHECKED_IN: Role.RESPONDER,
    ILLAPDUType.OVERDUE: Role.RESPONDER,
    ILLAPDUType.RENEW: Role.REQUESTER,
    ILLAPDUType.RENEW_ANSWER: Role.RESPONDER,
    ILLAPDUType.LOST: None,
    ILLAPDUType.DAMAGED: None,
    ILLAPDUType.MESSAGE: None,
    ILLAPDUType.STATUS_QUERY: None,
    ILLAPDUType.STATUS_OR_ERROR_REPORT: None,
    ILLAPDUType.EXPIRED: Role.RESPONDER,
}
