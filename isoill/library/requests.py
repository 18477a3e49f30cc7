"""What a library hosted on the gateway keeps besides protocol state: its readers' requests
and the requests other libraries ask it to supply.

A CALIS library (or the CALIS ILL centre) on the gateway is a network of kind ``library``. Its
readers submit requests on the reader pages; each is a :class:`ReaderRequest` with a number
(申请号), the form as the reader typed it, the lender rota, and the state the reader sees. The
ISO ILL side of it is one *attempt* per supplier tried, each an ordinary transaction with its
own transaction-id (group qualifier = the request number, so a supplier's staff and the
gateway's log see the attempts belong together). Requests from other libraries that this
library is to supply are :class:`SupplyRequest` values on the responder's leg.

These are immutable values, stored with their leg as its payload
(:class:`isoill.gateway.store.StoredLeg`, through the library kind, :mod:`isoill.library.kind`);
:mod:`isoill.library.desk` decides how they change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from isoill.mapping.reader_form import ReaderForm
from isoill.multilingual import langs_of, restore


class RequestState(StrEnum):
    """Where a reader's request is, as the reader's list page shows it."""

    UNPROCESSED = "unprocessed"  # no APDU sent yet: the reader may still cancel it
    SENT = "sent"  # an ILL-Request is with a supplier
    CONDITIONAL = "conditional"  # the supplier's conditions wait for the reader's answer
    CANCEL_PENDING = "cancel-pending"  # a Cancel is with the supplier, its reply decides
    SHIPPED = "shipped"  # the supplier shipped it
    RECEIVED = "received"  # the document reached the library (or, central mode, the reader)
    RETURNED = "returned"  # a loan the library has sent back to the supplier
    NOT_SUPPLIED = "not-supplied"  # every supplier said no
    EXPIRED = "expired"  # not filled by the reader's valid-until date (有效时间): it ended
    CANCELLED = "cancelled"


#: The state as a reader reads it, Chinese and English. "用户申请尚未处理" is the one state text
#: the Tsinghua guide shows; the others follow its wording.
STATE_LABELS: dict[RequestState, tuple[str, str]] = {
    RequestState.UNPROCESSED: ("用户申请尚未处理", "Not yet processed"),
    RequestState.SENT: ("已发送至提供馆", "Sent to a supplying library"),
    RequestState.CONDITIONAL: (
        "提供馆有条件满足, 等待读者答复",
        "The supplier's conditions await your answer",
    ),
    RequestState.CANCEL_PENDING: (
        "已请求取消, 等待提供馆答复",
        "Cancel asked: waiting for the supplier's reply",
    ),
    RequestState.SHIPPED: ("已运送", "Shipped"),
    RequestState.RECEIVED: ("已收到", "Received"),
    RequestState.RETURNED: ("已归还", "Returned to the supplier"),
    RequestState.NOT_SUPPLIED: ("无法满足", "Cannot be supplied"),
    RequestState.EXPIRED: (
        "超过有效时间, 申请自动结束",
        "Ended: not filled by its valid-until date",
    ),
    RequestState.CANCELLED: ("已取消", "Cancelled"),
}

#: States in which a reader's request waits for a supplier (or for staff to send it).
WAITING_STATES = frozenset({RequestState.UNPROCESSED, RequestState.SENT, RequestState.CONDITIONAL})

#: States in which a request may still be cancelled: nothing has been shipped.
CANCELLABLE_STATES = WAITING_STATES

#: States a reader's request does not leave.
FINAL_STATES = frozenset(
    {
        RequestState.RECEIVED,
        RequestState.RETURNED,
        RequestState.NOT_SUPPLIED,
        RequestState.EXPIRED,
        RequestState.CANCELLED,
    }
)


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _text(name: str, text: str) -> dict[str, Any]:
    """A text as JSON keeps it: the text under ``name`` (what the records API has always
    shown), its languages (:mod:`isoill.library.wording`) under ``name_langs``."""
    langs = langs_of(text)
    return {name: str(text)} if langs is None else {name: str(text), f"{name}_langs": langs}


def _read(value: dict[str, Any], name: str) -> str:
    return restore(value.get(name, ""), value.get(f"{name}_langs"))


def _line(at: datetime, text: str) -> list[Any]:
    """A history line as JSON keeps it: when, the text, and its languages when it has them."""
    langs = langs_of(text)
    return [at.isoformat(), str(text)] if langs is None else [at.isoformat(), str(text), langs]


def _at_most_one(rest: list[Any]) -> dict[str, str] | None:
    return rest[0] if rest else None


@dataclass(frozen=True)
class Tried:
    """A supplier that was asked and did not supply, and why (its reason, in words)."""

    symbol: str
    reason: str
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            **_text("reason", self.reason),
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Tried:
        return cls(value["symbol"], _read(value, "reason"), datetime.fromisoformat(value["at"]))


@dataclass(frozen=True)
class Attempt:
    """The supplier asked now: its symbol, the peer that serves it, the attempt's
    transaction key in the ISO network, when it was sent and when the gateway stops
    waiting for an answer."""

    symbol: str
    peer: str
    network: str
    key: str
    sent: datetime
    deadline: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "peer": self.peer,
            "network": self.network,
            "key": self.key,
            "sent": self.sent.isoformat(),
            "deadline": _when(self.deadline),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Attempt:
        sent = datetime.fromisoformat(value["sent"])
        return cls(
            value["symbol"],
            value["peer"],
            value["network"],
            value["key"],
            sent,
            _at(value.get("deadline")),
        )


@dataclass(frozen=True)
class Rota:
    """The lender rota: the suppliers still to ask, in order, the current attempt, and
    those already tried with their reasons (what OCLC calls the lender string)."""

    candidates: tuple[str, ...] = ()
    current: Attempt | None = None
    tried: tuple[Tried, ...] = ()

    @property
    def attempts(self) -> int:
        return len(self.tried) + (self.current is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "candidates": list(self.candidates),
            "current": None if self.current is None else self.current.to_json(),
            "tried": [t.to_json() for t in self.tried],
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Rota:
        current = value.get("current")
        return cls(
            tuple(value.get("candidates", ())),
            None if current is None else Attempt.from_json(current),
            tuple(Tried.from_json(t) for t in value.get("tried", ())),
        )


@dataclass(frozen=True)
class ReaderRequest:
    """A reader's request (申请) and everything the reader's list page shows of it."""

    number: int
    library: str  # the library network the reader belongs to
    reader: str  # the reader's account
    form: ReaderForm
    submitted: datetime
    state: RequestState = RequestState.UNPROCESSED
    #: The member library (symbol) of a CALIS centre the reader belongs to: whom they pay.
    member: str = ""
    rota: Rota = field(default_factory=Rota)
    total_cost: Decimal | None = None  # 总费用, CNY, from the supplier's Shipped
    return_date: date | None = None  # 归还日期, a loan's date-due
    #: The supplier's conditions the reader is asked to accept (CONDITIONAL), in words.
    conditions: str = ""
    #: What happened, in the reader's words of it: (when, text), the text in both languages
    #: (:mod:`isoill.library.wording`), or as a "中文 / English" pair when stored before.
    history: tuple[tuple[datetime, str], ...] = ()

    @property
    def key(self) -> str:
        return request_key(self.number)

    @property
    def expires(self) -> datetime | None:
        """When the request ends by itself: the end of the reader's valid-until day ("如果申请
        超过该时间还未被处理, 则申请自动结束!"), while nothing has been shipped."""
        if self.form.valid_until is None or self.state not in WAITING_STATES:
            return None
        return datetime.combine(self.form.valid_until + timedelta(days=1), time.min)

    @property
    def due(self) -> datetime | None:
        """When the gateway must act on it unasked: the supplier's deadline (to answer the
        request, or a Cancel) or the expiry, whichever is first."""
        deadline = None
        asked = (RequestState.SENT, RequestState.CANCEL_PENDING)
        if self.state in asked and self.rota.current is not None:
            deadline = self.rota.current.deadline
        times = [t for t in (deadline, self.expires) if t is not None]
        return min(times) if times else None

    def noted(self, at: datetime, text: str, **changes: Any) -> ReaderRequest:
        return replace(self, history=(*self.history, (at, text)), **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "reader",
            "number": self.number,
            "library": self.library,
            "reader": self.reader,
            "form": self.form.to_json(),
            "submitted": self.submitted.isoformat(),
            "state": self.state.value,
            "member": self.member,
            "rota": self.rota.to_json(),
            "total_cost": None if self.total_cost is None else str(self.total_cost),
            "return_date": None if self.return_date is None else self.return_date.isoformat(),
            **_text("conditions", self.conditions),
            "history": [_line(at, text) for at, text in self.history],
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ReaderRequest:
        cost = value.get("total_cost")
        due = value.get("return_date")
        return cls(
            number=int(value["number"]),
            library=value["library"],
            reader=value["reader"],
            form=ReaderForm.from_json(value["form"]),
            submitted=datetime.fromisoformat(value["submitted"]),
            state=RequestState(value["state"]),
            member=value.get("member", ""),
            rota=Rota.from_json(value.get("rota", {})),
            total_cost=None if cost is None else Decimal(cost),
            return_date=None if due is None else date.fromisoformat(due),
            conditions=_read(value, "conditions"),
            history=tuple(
                (datetime.fromisoformat(line[0]), restore(line[1], _at_most_one(line[2:])))
                for line in value.get("history", ())
            ),
        )


def request_key(number: int) -> str:
    """The leg key of reader request ``number`` in its library's network."""
    return f"request:{number}"


class SupplyState(StrEnum):
    """A request this library is asked to supply, as its staff see it."""

    PENDING = "pending"  # 待处理外馆请求
    CONDITIONAL = "conditional"  # a conditional answer waits for the requester's reply
    SHIPPED = "shipped"  # 运送
    UNFILLABLE = "unfillable"  # 无法满足
    RENEW_ASKED = "renew-asked"  # the requester asks for a renewal: staff answer it
    RETURNED = "returned"  # a loan the requester sent back: staff check it in
    CHECKED_IN = "checked-in"  # 已归还入库: the loan is closed
    CANCELLED = "cancelled"  # the requester cancelled it


SUPPLY_LABELS: dict[SupplyState, tuple[str, str]] = {
    SupplyState.PENDING: ("待处理", "Pending"),
    SupplyState.CONDITIONAL: ("已发有条件答复, 等待请求馆答复", "Conditions sent: awaiting reply"),
    SupplyState.SHIPPED: ("已运送", "Shipped"),
    SupplyState.UNFILLABLE: ("无法满足", "Cannot be supplied"),
    SupplyState.RENEW_ASKED: ("请求馆申请续借", "Renewal asked"),
    SupplyState.RETURNED: ("请求馆已归还, 待入库", "Returned: to be checked in"),
    SupplyState.CHECKED_IN: ("已归还入库", "Checked in"),
    SupplyState.CANCELLED: ("已取消", "Cancelled by the requester"),
}


@dataclass(frozen=True)
class SupplyRequest:
    """A request from another library (or the CALIS centre) that this library is asked to
    supply: the form as read from its ILL-Request, who asked, and what staff did."""

    key: str  # the transaction-id, as text
    library: str  # this library's network
    requester: str  # the requester's symbol
    form: ReaderForm
    arrived: datetime
    state: SupplyState = SupplyState.PENDING
    total_cost: Decimal | None = None
    reason: str = ""  # why it cannot be supplied
    note: str = ""  # the requester's note ("从CCC检索到的文献!" marks a CCC request)
    #: The fee the requester accepted in reply to a conditional answer: it may ship at that.
    agreed_cost: Decimal | None = None
    #: A loan's date due, as shipped (or renewed).
    date_due: date | None = None

    @property
    def due(self) -> datetime | None:
        """Never: a request to supply waits for this library's staff, without a deadline."""
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "supply",
            "key": self.key,
            "library": self.library,
            "requester": self.requester,
            "form": self.form.to_json(),
            "arrived": self.arrived.isoformat(),
            "state": self.state.value,
            "total_cost": None if self.total_cost is None else str(self.total_cost),
            **_text("reason", self.reason),
            "note": self.note,
            "agreed_cost": None if self.agreed_cost is None else str(self.agreed_cost),
            "date_due": None if self.date_due is None else self.date_due.isoformat(),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> SupplyRequest:
        cost = value.get("total_cost")
        agreed = value.get("agreed_cost")
        due = value.get("date_due")
        return cls(
            key=value["key"],
            library=value["library"],
            requester=value["requester"],
            form=ReaderForm.from_json(value["form"]),
            arrived=datetime.fromisoformat(value["arrived"]),
            state=SupplyState(value["state"]),
            total_cost=None if cost is None else Decimal(cost),
            reason=_read(value, "reason"),
            note=value.get("note", ""),
            agreed_cost=None if agreed is None else Decimal(agreed),
            date_due=None if due is None else date.fromisoformat(due),
        )


def desk_from_json(value: dict[str, Any]) -> ReaderRequest | SupplyRequest:
    if value.get("kind") == "supply":
        return SupplyRequest.from_json(value)
    return ReaderRequest.from_json(value)
