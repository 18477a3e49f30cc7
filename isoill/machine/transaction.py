"""A transaction as one party's protocol machine knows it: an immutable value.

The value is the state plus the full history (every APDU sent and received, with its
direction, the state before and after, the time and the table row that applied). Everything
else the machine needs (the request, the service type shipped, the optional-messages
agreements, the due and expiry dates, who the responder is now) is read from that history, so
there is nothing to keep in step and a gateway that stores the JSON form restores the
transaction exactly.
"""

from __future__ import annotations

from base64 import b64decode, b64encode
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from isoill.apdu import decode, encode, from_json, to_json
from isoill.apdu.apdus import (
    APDU,
    ConditionalReply,
    Expired,
    ForwardNotification,
    ILLAnswer,
    ILLRequest,
    Overdue,
    Received,
    RenewAnswer,
    Shipped,
)
from isoill.apdu.ber import Limits
from isoill.apdu.enums import ExpiryFlag, ILLServiceType, MessageRequirement
from isoill.apdu.errors import EncodeError
from isoill.apdu.types import (
    DateDue,
    DateTimeOfService,
    RequesterOptionalMessagesType,
    ResponderOptionalMessagesType,
    ServiceDateTime,
    SystemId,
    TransactionId,
)
from isoill.machine.events import Direction, Event, Role, State

#: The decoder's bounds for encodings this package wrote itself (:meth:`HistoryEntry.to_json`):
#: they held an APDU that came in under a gateway's own limits, which may be wider than a
#: peer's defaults, and must read back whatever their size.
_STORED = Limits(max_apdu_size=1 << 40, max_string_length=1 << 40, max_depth=1000)

#: The history row of an APDU the machine refused (the state did not change).
REFUSED = "refused"
#: The history row of a reply the machine sent by itself (error and status reports).
REPLY = "reply"


@dataclass(frozen=True)
class TransactionKey:
    """What identifies a transaction: the initial requester (or, when the Transaction-Id
    leaves it out, the requester-id of the APDU), group, transaction and sub-transaction
    qualifiers."""

    initial_requester: str
    group: str
    transaction: str
    sub_transaction: str = ""

    @classmethod
    def of(cls, apdu: APDU) -> TransactionKey:
        tid = apdu.transaction_id
        # yaz-illclient sends an empty initial-requester-id: fall back as if it were absent.
        requester = _system_text(tid.initial_requester_id) or _system_text(apdu.requester_id)
        return cls(
            initial_requester=requester,
            group=tid.transaction_group_qualifier,
            transaction=tid.transaction_qualifier,
            sub_transaction=tid.sub_transaction_qualifier or "",
        )

    def __str__(self) -> str:
        parts = [self.initial_requester, self.group, self.transaction]
        if self.sub_transaction:
            parts.append(self.sub_transaction)
        return "/".join(parts)


def _system_text(system: SystemId | None) -> str:
    if system is None:
        return ""
    return system.symbol or system.name or ""


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    direction: Direction  # SEND for what this party sent (timers' APDUs included)
    event: Event
    apdu: APDU
    state_before: State
    state_after: State
    row: str  # the table row, REFUSED or REPLY

    def to_json(self, *, ber: bool = False) -> dict[str, Any]:
        """A JSON-ready form, on its own: the store keeps each entry as a row of its own.

        With ``ber``, the APDU is kept as its BER encoding (base64, under ``"ber"``) when it
        has one, instead of its JSON form: what the store writes for every APDU a leg sends
        or receives. Encoding an ILL-Request and its base64 cost a fifth of building its
        JSON form and serialising that (the storage thread's largest cost per relayed APDU),
        and the codec gives back the same value from its encoding. A value the codec cannot
        write (a string outside its type's alphabet, read leniently from a peer) keeps its
        JSON form."""
        name, apdu = self._apdu_form(ber)
        return {
            "at": self.at.isoformat(),
            "direction": self.direction.value,
            "event": str(self.event),
            name: apdu,
            "state-before": self.state_before.value,
            "state-after": self.state_after.value,
            "row": self.row,
        }

    def _apdu_form(self, ber: bool) -> tuple[str, Any]:
        if ber:
            try:
                return "ber", b64encode(encode(self.apdu, tcp_safe=False)).decode("ascii")
            except EncodeError:
                pass  # the JSON form keeps it
        return "apdu", _plain(self.apdu)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> HistoryEntry:
        """The entry of either form of :meth:`to_json`."""
        if "ber" in value:
            apdu = decode(b64decode(value["ber"], validate=True), limits=_STORED)
        else:
            apdu = _unplain(value["apdu"])
        return cls(
            at=datetime.fromisoformat(value["at"]),
            direction=Direction(value["direction"]),
            event=Event.parse(value["event"]),
            apdu=apdu,
            state_before=State(value["state-before"]),
            state_after=State(value["state-after"]),
            row=value["row"],
        )


@dataclass(frozen=True)
class Transaction:
    """One party's view of one transaction. Change it only through
    :mod:`isoill.machine.machine`, which returns a new value."""

    role: Role
    transaction_id: TransactionId
    state: State = State.IDLE
    # In CANCEL-PENDING: the state a refused Cancel returns to.
    before_cancel: State | None = None
    history: tuple[HistoryEntry, ...] = field(default=())

    # --- facts read from the history --------------------------------------------------

    def apdus(self, *types: type[Any]) -> list[Any]:
        """The APDUs of these types that took effect (refused ones left out), oldest first."""
        return [
            entry.apdu
            for entry in self.history
            if entry.row != REFUSED and isinstance(entry.apdu, types)
        ]

    def _last(self, *types: type[Any]) -> Any:
        found = self.apdus(*types)
        return found[-1] if found else None

    @property
    def request(self) -> ILLRequest | None:
        request: ILLRequest | None = self._last(ILLRequest)
        return request

    @property
    def service_type(self) -> ILLServiceType | None:
        """Loan or copy-non-returnable, once a Shipped or Received said which."""
        last = self._last(Shipped, Received)
        return None if last is None else last.shipped_service_type

    @property
    def is_loan(self) -> bool:
        return self.service_type is ILLServiceType.LOAN

    @property
    def requester_messages(self) -> RequesterOptionalMessagesType | None:
        request = self.request
        return None if request is None else request.requester_optional_messages

    @property
    def responder_messages(self) -> ResponderOptionalMessagesType | None:
        for apdu in reversed(self.apdus(ILLAnswer, Shipped)):
            if apdu.responder_optional_messages is not None:
                return apdu.responder_optional_messages  # type: ignore[no-any-return]
        return None

    @property
    def date_due(self) -> DateDue | None:
        """The loan's current Date-Due: the latest a Shipped, Renew-Answer or Overdue gave."""
        for apdu in reversed(self.apdus(Shipped, RenewAnswer, Overdue)):
            due = apdu.supply_details.date_due if isinstance(apdu, Shipped) else apdu.date_due
            if due is not None:
                return due
        return None

    @property
    def due_date(self) -> date | None:
        """The due date as a date, when the peer wrote one that parses."""
        due = self.date_due
        return due.date_due_field if due and isinstance(due.date_due_field, date) else None

    @property
    def expiry_date(self) -> date | None:
        """When the responder's expiry timer fires (Search-Type expiry-flag)."""
        request = self.request
        search = None if request is None else request.search_type
        if search is None:
            return None
        chosen = {
            ExpiryFlag.NEED_BEFORE_DATE: search.need_before_date,
            ExpiryFlag.OTHER_DATE: search.expiry_date,
        }.get(search.expiry_flag)
        return chosen if isinstance(chosen, date) else None

    @property
    def responder_id(self) -> SystemId | None:
        """The responder now: a Forward-Notification hands the transaction to a new one."""
        forwarded: ForwardNotification | None = self._last(ForwardNotification)
        if forwarded is not None and forwarded.responder_id is not None:
            return forwarded.responder_id
        request = self.request
        return None if request is None else request.responder_id

    @property
    def requester_id(self) -> SystemId | None:
        request = self.request
        return None if request is None else request.requester_id

    @property
    def conditions_accepted(self) -> bool | None:
        reply: ConditionalReply | None = self._last(ConditionalReply)
        return None if reply is None else reply.answer

    def guard_holds(self, guard: str) -> bool:
        """The conditions of the tables (:data:`isoill.machine.tables.GUARDS`)."""
        if guard == "loan":
            return self.is_loan
        if guard == "SHIPPED optional":
            asked = self.requester_messages
            return asked is None or asked.requester_shipped is not MessageRequirement.REQUIRES
        if guard == "RECEIVED optional":
            offered = self.responder_messages
            return offered is None or offered.responder_received is not MessageRequirement.REQUIRES
        if guard == "RETURNED skipped":
            asked = self.requester_messages
            return asked is not None and not asked.can_send_returned
        raise ValueError(f"unknown condition {guard!r}")

    @property
    def is_final(self) -> bool:
        """Nothing more is to happen: a terminal state, or a copy received."""
        from isoill.machine.tables import TABLES

        if self.state in TABLES[self.role].terminal_states():
            return True
        copy = self.service_type is ILLServiceType.COPY_NON_RETURNABLE
        return self.state is State.RECEIVED and copy

    @property
    def key(self) -> TransactionKey:
        first = self.history[0].apdu if self.history else None
        if first is None:
            return TransactionKey(
                _system_text(self.transaction_id.initial_requester_id),
                self.transaction_id.transaction_group_qualifier,
                self.transaction_id.transaction_qualifier,
                self.transaction_id.sub_transaction_qualifier or "",
            )
        return TransactionKey.of(first)

    # --- persistence -------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form from which :meth:`from_json` restores this exact value."""
        return {
            "role": self.role.value,
            "transaction-id": _plain(self.transaction_id, _transaction_id_json),
            "state": self.state.value,
            "before-cancel": self.before_cancel.value if self.before_cancel else None,
            "history": [entry.to_json() for entry in self.history],
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Transaction:
        return cls(
            role=Role(value["role"]),
            transaction_id=_unplain(value["transaction-id"], _transaction_id_from_json),
            state=State(value["state"]),
            before_cancel=State(value["before-cancel"]) if value["before-cancel"] else None,
            history=tuple(HistoryEntry.from_json(entry) for entry in value["history"]),
        )


#: The JSON forms of the APDUs (and transaction-ids) met last, by identity (each with its
#: value, which keeps the identity from being reused). A relayed APDU (and its transaction-id)
#: is in both legs, and a leg read back holds values made from their forms: without them,
#: each was converted again for every leg it was written with (an ILL-Request takes ~40 us).
#: Shared, never changed: the values are frozen, and the forms only go to ``json.dumps``.
_PLAIN_FORMS: OrderedDict[int, tuple[Any, Any]] = OrderedDict()
_PLAIN_KEPT = 512


def _plain(value: Any, convert: Callable[[Any], Any] = to_json) -> Any:
    kept = _PLAIN_FORMS.get(id(value))
    if kept is not None and kept[0] is value:
        return kept[1]
    form = convert(value)
    _keep_plain(value, form)
    return form


def _unplain(form: Any, convert: Callable[[Any], Any] = from_json) -> Any:
    value = convert(form)
    _keep_plain(value, form)
    return value


def _keep_plain(value: Any, form: Any) -> None:
    # Each step is atomic under the GIL: the storage thread and the reactor may both be here.
    _PLAIN_FORMS[id(value)] = (value, form)
    if len(_PLAIN_FORMS) > _PLAIN_KEPT:
        _PLAIN_FORMS.popitem(last=False)


# The codec's JSON form is defined for APDUs; a Transaction-Id goes through the smallest one.
_CARRIER_TIME = ServiceDateTime(date_time_of_this_service=DateTimeOfService(date=date(2000, 1, 1)))


def _transaction_id_json(tid: TransactionId) -> Any:
    return to_json(Expired(transaction_id=tid, service_date_time=_CARRIER_TIME))["expired"][
        "transaction-id"
    ]


def _transaction_id_from_json(value: Any) -> TransactionId:
    carrier = to_json(
        Expired(
            transaction_id=TransactionId(transaction_group_qualifier="", transaction_qualifier=""),
            service_date_time=_CARRIER_TIME,
        )
    )
    carrier["expired"]["transaction-id"] = value
    return from_json(carrier).transaction_id
