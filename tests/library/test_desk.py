"""The library desk without I/O: readers' requests, the rota's rules, supplying staff.

A dictionary stands in for the store (legs by network and key, the outbox as a list), so
each test follows the desk's decisions step by step; the e2e tests run the same code in a
real gateway.
"""

from __future__ import annotations

import email
import email.header
import json
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

import isoill
import isoill.library
from isoill.apdu.enums import Conditions, ILLServiceType, ReasonNotAvailable, TransactionResults
from isoill.gateway.config import Config, Network, Peer
from isoill.gateway.mail import MAIL_NETWORK
from isoill.gateway.relay import Relay, Sender
from isoill.gateway.store import Change, OutboxItem, StoredLeg
from isoill.library.desk import CCC_NOTE, Desk, DeskRefused
from isoill.library.requests import ReaderRequest, RequestState, SupplyRequest, SupplyState
from isoill.library.settings import Library, Member, library_network
from isoill.machine import Role, State
from isoill.mapping.holdings import Holdings
from isoill.mapping.reader_form import DocumentType, ReaderForm, ServiceType, Urgency
from isoill.multilingual import in_lang
from tests.gateway.support import Side

AT = datetime(2026, 11, 23, 10, 0, 0)

FORM = ReaderForm(
    service=ServiceType.COPY,
    document_type=DocumentType.JOURNAL_ARTICLE,
    title="Interlending & Document Supply",
    article_title="Licence to Deny?",
    volume_issue="32(2)",
    pages="94-101",
    issn="0264-1615",
    cost_limit=Decimal(30),
    name="李四",
    email="lisi@example.edu.cn",
    phone="010-1234567",
)


def config(mode: str = "distributed", rush_fee: Decimal | None = None) -> Config:
    return Config(
        networks=(
            library_network(
                Library(
                    "thu",
                    symbol="CALIS:THU",
                    label="清华大学图书馆",
                    mode=mode,
                    staff_email="ill@lib.example.edu.cn",
                    rush_fee=rush_fee,
                    members=(
                        Member("CALIS:THU-MED", "医学图书馆", "ill@med.example.edu.cn"),
                        Member("CALIS:THU-LAW"),
                    ),
                )
            ),
            Network("calis", kind="iso"),
        ),
        peers=(
            Peer("pku", "calis", ("CALIS:PKU",), label="北京大学图书馆"),
            Peer("fdu", "calis", ("CALIS:FDU",)),
        ),
    )


class World:
    """The relay and desk over a dictionary store."""

    def __init__(
        self, mode: str = "distributed", holdings: str = "", rush_fee: Decimal | None = None
    ) -> None:
        self.config = config(mode, rush_fee)
        table = {"thu": Holdings.from_csv(holdings)} if holdings else {}
        self.relay = Relay(self.config)
        desk = self.relay.desks["library"]
        assert isinstance(desk, Desk)
        desk.holdings = table
        self.desk = desk
        self.legs: dict[tuple[str, str], StoredLeg] = {}
        self.outbox: list[OutboxItem] = []

    def load(self, network: str, key: str) -> StoredLeg | None:
        return self.legs.get((network, key))

    def commit(self, change: Change) -> None:
        for leg in change.legs:
            stored = self.legs.get((leg.network, leg.key))
            assert (stored.version if stored else 0) == leg.version, "a stale leg was written"
            self.legs[(leg.network, leg.key)] = replace(leg, version=leg.version + 1)
        known = {item.dedup for item in self.outbox}
        self.outbox += [item for item in change.outbox if item.dedup not in known]

    def request(self, number: int) -> ReaderRequest:
        leg = self.legs[("thu", f"request:{number}")]
        assert isinstance(leg.payload, ReaderRequest)
        return leg.payload

    def leg(self, number: int) -> StoredLeg:
        return self.legs[("thu", f"request:{number}")]

    def submit(self, number: int = 1, form: ReaderForm = FORM, reader: str = "lisi") -> None:
        self.commit(self.desk.submit("thu", reader, form, number, AT).change)

    def sent_to(self, peer: str) -> list[isoill.APDU]:
        return [isoill.decode(i.data) for i in self.outbox if i.peer == peer]

    def mails(self) -> list[email.message.Message]:
        return [email.message_from_bytes(i.data) for i in self.outbox if i.network == MAIL_NETWORK]

    def answer(self, peer: str, apdu: isoill.APDU, at: datetime = AT) -> None:
        step = self.relay.inbound(
            Sender("127.0.0.1", (peer,)), apdu, isoill.encode(apdu), self.load, at
        )
        assert step.refused is None, step.refused
        self.commit(step.change)


def answer_to(request: isoill.APDU, **fields: object) -> isoill.ILLAnswer:
    return isoill.ILLAnswer(
        transaction_id=request.transaction_id,
        requester_id=request.requester_id,
        responder_id=request.responder_id,
        **fields,  # type: ignore[arg-type]
    )


def not_owned(request: isoill.APDU) -> isoill.ILLAnswer:
    return answer_to(
        request,
        transaction_results=TransactionResults.UNFILLED,
        results_explanation=isoill.UnfilledResults(reason_unfilled=isoill.ReasonUnfilled.NOT_OWNED),
    )


def test_distributed_mode_waits_for_staff_and_the_reader_may_cancel() -> None:
    world = World()
    world.submit()
    assert world.request(1).state is RequestState.UNPROCESSED
    assert world.outbox == []
    with pytest.raises(KeyError):
        world.desk.cancel(world.leg(1), "someone-else", world.load, AT)
    world.commit(world.desk.cancel(world.leg(1), "lisi", world.load, AT).change)
    assert world.request(1).state is RequestState.CANCELLED
    with pytest.raises(DeskRefused):
        world.desk.send(world.leg(1), ["CALIS:PKU"], AT)


def test_staff_send_then_the_reader_can_no_longer_cancel() -> None:
    world = World()
    world.submit()
    with pytest.raises(DeskRefused, match="没有文献提供馆"):
        world.desk.send(world.leg(1), [], AT)
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU", "CALIS:FDU"], AT).change)
    request = world.request(1)
    assert request.state is RequestState.SENT
    (sent,) = world.sent_to("pku")
    assert isinstance(sent, isoill.ILLRequest)
    # Distributed mode: the document comes to the library, not to the reader.
    assert sent.delivery_address is None
    assert sent.requester_id is not None and sent.requester_id.symbol == "CALIS:THU"
    # Once sent, the reader's cancel is a Cancel to the supplier, whose reply decides.
    world.commit(world.desk.cancel(world.leg(1), "lisi", world.load, AT).change)
    cancel = world.sent_to("pku")[-1]
    assert isinstance(cancel, isoill.Cancel)
    assert world.request(1).state is RequestState.CANCEL_PENDING
    with pytest.raises(DeskRefused, match="不能取消"):
        world.desk.cancel(world.leg(1), "lisi", world.load, AT)
    world.answer("pku", cancel_reply(sent, answer=False))
    request = world.request(1)
    assert request.state is RequestState.SENT and "拒绝取消" in request.history[-1][1]
    assert world.mails() == []
    # Staff cancel too; this time the supplier agrees, and the reader is told once.
    world.commit(world.desk.cancel(world.leg(1), None, world.load, AT).change)
    world.answer("pku", cancel_reply(sent, answer=True))
    request = world.request(1)
    assert request.state is RequestState.CANCELLED and request.rota.current is None
    (notice,) = world.mails()
    assert "=?utf-8?" in str(notice["Subject"]) or "已取消" in str(notice["Subject"])
    assert world.sent_to("fdu") == []  # the rota does not go on


def cancel_of(request: isoill.APDU) -> isoill.Cancel:
    return isoill.Cancel(
        transaction_id=request.transaction_id,
        requester_id=request.requester_id,
        responder_id=request.responder_id,
    )


def cancel_reply(request: isoill.APDU, *, answer: bool) -> isoill.CancelReply:
    return isoill.CancelReply(
        transaction_id=request.transaction_id,
        requester_id=request.requester_id,
        responder_id=request.responder_id,
        answer=answer,
    )


def test_a_no_that_crosses_the_cancel_ends_the_request_cancelled() -> None:
    world = World()
    world.submit()
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU", "CALIS:FDU"], AT).change)
    (sent,) = world.sent_to("pku")
    world.commit(world.desk.cancel(world.leg(1), "lisi", world.load, AT).change)
    world.answer("pku", not_owned(sent))
    assert world.request(1).state is RequestState.CANCELLED
    assert world.sent_to("fdu") == []


def test_a_supplier_silent_on_the_cancel_is_reported_once_at_the_cancel_deadline() -> None:
    world = World()
    world.submit()
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU", "CALIS:FDU"], AT).change)
    (sent,) = world.sent_to("pku")
    later = AT + timedelta(hours=1)
    world.commit(world.desk.cancel(world.leg(1), "lisi", world.load, later).change)
    request = world.request(1)
    deadline = later + timedelta(days=3)  # the library's cancel_deadline by default
    assert request.rota.current is not None and request.rota.current.deadline == deadline
    assert request.due == deadline  # the store's deadline poll finds it then
    # Not a second before.
    assert world.desk.overdue(world.leg(1), world.load, deadline - timedelta(seconds=1)) == Change()
    world.commit(world.desk.overdue(world.leg(1), world.load, deadline))
    request = world.request(1)
    # Still waiting for the Cancel-Reply (the supplier may yet ship), no deadline now.
    assert request.state is RequestState.CANCEL_PENDING and request.due is None
    assert "(CALIS:PKU) 3 天内未答复取消, 已通知读者和馆员" in request.history[-1][1]
    assert world.sent_to("fdu") == []  # the rota does not move on either
    reader, staff = world.mails()
    assert reader["To"] == "lisi@example.edu.cn" and staff["To"] == "ill@lib.example.edu.cn"
    assert "取消未获提供馆答复" in email_text(reader) and "CALIS:PKU" in email_text(reader)
    staff_text = email_text(staff)
    assert "已向 北京大学图书馆 (CALIS:PKU) 请求取消, 3 天内未获答复" in staff_text
    assert "李四 <lisi@example.edu.cn>" in staff_text
    assert world.desk.overdue(world.leg(1), world.load, deadline + timedelta(days=9)) == Change()
    # The late reply still decides.
    world.answer("pku", cancel_reply(sent, answer=True), deadline + timedelta(days=1))
    assert world.request(1).state is RequestState.CANCELLED


def test_a_refused_cancel_gives_the_supplier_its_whole_deadline_again() -> None:
    world = World()
    world.submit()
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU"], AT).change)
    (sent,) = world.sent_to("pku")
    world.commit(world.desk.cancel(world.leg(1), None, world.load, AT).change)
    refused_at = AT + timedelta(days=1)
    world.answer("pku", cancel_reply(sent, answer=False), refused_at)
    request = world.request(1)
    assert request.state is RequestState.SENT
    assert request.due == refused_at + timedelta(days=7)


def email_text(message: email.message.Message) -> str:
    """A mail's decoded subject and text."""
    subject = str(email.header.make_header(email.header.decode_header(message["Subject"])))
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    return subject + "\n" + body.decode("utf-8")


def test_retry_without_date_and_conditions_move_the_rota_on() -> None:
    world = World()
    world.submit()
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU", "CALIS:FDU"], AT).change)
    (first,) = world.sent_to("pku")
    world.answer(
        "pku",
        answer_to(
            first,
            transaction_results=TransactionResults.RETRY,
            results_explanation=isoill.RetryResults(
                reason_not_available=ReasonNotAvailable.AT_BINDERY
            ),
        ),
    )
    (second,) = world.sent_to("fdu")
    assert isinstance(second, isoill.ILLRequest)
    assert second.third_party_info_type is not None
    assert [s.symbol for s in second.third_party_info_type.already_tried_list or ()] == [
        "CALIS:PKU"
    ]
    # FDU asks for more money than the reader agreed to: the reader is asked, declines,
    # and no one is left.
    world.answer("fdu", over_the_limit(second))
    assert not any(isinstance(a, isoill.ConditionalReply) for a in world.sent_to("fdu"))
    request = world.request(1)
    assert request.state is RequestState.CONDITIONAL and "60.00" in request.conditions
    # The history says each supplier's answer once, not its result twice over.
    said = [str(text) for _, text in request.history]
    assert "北京大学图书馆 (CALIS:PKU)未能提供: 暂不能满足, 可稍后再试 (retry)" in said[-3]
    assert said[-1].startswith("CALIS:FDU提出条件, 等待读者答复: 有条件满足 (conditional)")
    (asked,) = world.mails()
    assert "=?utf-8?" in asked["Subject"] or "确认费用" in str(asked["Subject"])
    with pytest.raises(KeyError):
        world.desk.conditions(world.leg(1), "someone-else", False, world.load, AT)
    world.commit(world.desk.conditions(world.leg(1), "lisi", False, world.load, AT).change)
    reply = world.sent_to("fdu")[-1]
    assert isinstance(reply, isoill.ConditionalReply) and reply.answer is False
    request = world.request(1)
    assert request.state is RequestState.NOT_SUPPLIED
    assert [t.symbol for t in request.rota.tried] == ["CALIS:PKU", "CALIS:FDU"]
    assert "at-bindery" in request.rota.tried[0].reason
    assert "cost-exceeds-limit" in request.rota.tried[1].reason
    assert "读者不接受条件" in request.rota.tried[1].reason
    _, notice = world.mails()
    assert notice["To"] == "lisi@example.edu.cn"
    body = notice.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert "at-bindery" in body.decode("utf-8") and "cost-exceeds-limit" in body.decode("utf-8")
    # In the reader's language alone: the reasons in Chinese, no English half, no pair.
    subject = str(email.header.make_header(email.header.decode_header(notice["Subject"])))
    assert subject == "馆际互借申请 1 无法满足"
    text = body.decode("utf-8")
    assert "正在装订" in text and "读者不接受条件" in text
    assert "Dear" not in text and "at the bindery" not in text and " / " not in text
    with pytest.raises(DeskRefused, match="没有等待答复的条件"):
        world.desk.conditions(world.leg(1), "lisi", True, world.load, AT)


def over_the_limit(request: isoill.APDU) -> isoill.ILLAnswer:
    return answer_to(
        request,
        transaction_results=TransactionResults.CONDITIONAL,
        results_explanation=isoill.ConditionalResults(conditions=Conditions.COST_EXCEEDS_LIMIT),
        responder_note="费用 60.00 元",
    )


def test_the_reader_accepts_a_fee_above_the_limit_and_the_supplier_ships() -> None:
    world = World()
    world.submit()
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU"], AT).change)
    (first,) = world.sent_to("pku")
    world.answer("pku", over_the_limit(first))
    world.commit(world.desk.conditions(world.leg(1), "lisi", True, world.load, AT).change)
    reply = world.sent_to("pku")[-1]
    assert isinstance(reply, isoill.ConditionalReply) and reply.answer is True
    request = world.request(1)
    assert request.state is RequestState.SENT
    assert request.rota.current is not None and request.rota.current.deadline is not None
    assert "读者接受条件" in request.history[-1][1]


def test_will_supply_gives_more_time_and_a_late_answer_changes_nothing() -> None:
    world = World()
    world.submit()
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU", "CALIS:FDU"], AT).change)
    (first,) = world.sent_to("pku")
    before = world.leg(1).due
    later = AT + timedelta(days=3)
    world.answer(
        "pku",
        answer_to(
            first,
            transaction_results=TransactionResults.WILL_SUPPLY,
            results_explanation=isoill.WillSupplyResults(
                reason_will_supply=isoill.ReasonWillSupply.BEING_PROCESSED_FOR_SUPPLY
            ),
        ),
        at=later,
    )
    assert world.request(1).state is RequestState.SENT
    after = world.leg(1).due
    assert before is not None and after is not None and after > before
    # The deadline passes anyway: Cancel to PKU, the request to FDU.
    overdue = world.leg(1)
    world.commit(world.desk.overdue(overdue, world.load, AT + timedelta(days=20)))
    assert isinstance(world.sent_to("pku")[-1], isoill.Cancel)
    assert isinstance(world.sent_to("fdu")[-1], isoill.ILLRequest)
    # PKU ships after all: noted for staff, the request stays with FDU.
    shipped = isoill.Shipped(
        transaction_id=first.transaction_id,
        requester_id=first.requester_id,
        responder_id=first.responder_id,
        shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE,
        supply_details=isoill.SupplyDetails(),
    )
    step = world.relay.inbound(
        Sender("127.0.0.1", ("pku",)), shipped, isoill.encode(shipped), world.load, AT
    )
    world.commit(step.change)
    request = world.request(1)
    assert request.rota.current is not None and request.rota.current.symbol == "CALIS:FDU"
    assert request.state is RequestState.SENT
    assert any("迟到" in text for _, text in request.history) or step.refused


def test_a_request_not_sent_by_its_valid_until_date_ends_by_itself() -> None:
    world = World()
    world.submit(form=replace(FORM, valid_until=AT.date()))
    leg = world.leg(1)
    # Due at the end of the reader's last day, not before.
    assert (
        leg.due == datetime.combine(AT.date() + timedelta(days=1), datetime.min.time()).timestamp()
    )
    assert (
        world.desk.overdue(leg, world.load, AT + timedelta(hours=1)).legs[0].payload == leg.payload
    )
    world.commit(world.desk.overdue(world.leg(1), world.load, AT + timedelta(days=1)))
    request = world.request(1)
    assert request.state is RequestState.EXPIRED and world.leg(1).due is None
    assert world.sent_to("pku") == []
    (notice,) = world.mails()
    subject = str(email.header.make_header(email.header.decode_header(notice["Subject"])))
    assert notice["To"] == FORM.email and "自动结束" in subject
    with pytest.raises(DeskRefused):  # staff can no longer send it on
        world.desk.send(world.leg(1), ["CALIS:PKU"], AT + timedelta(days=1))


def test_the_valid_until_date_cancels_the_supplier_and_stops_the_rota() -> None:
    world = World()
    world.submit(form=replace(FORM, valid_until=(AT + timedelta(days=2)).date()))
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU", "CALIS:FDU"], AT).change)
    (first,) = world.sent_to("pku")
    # The expiry (end of day 2) comes before the supplier's 7-day deadline.
    expiry = datetime.combine((AT + timedelta(days=3)).date(), datetime.min.time())
    assert world.leg(1).due == expiry.timestamp()
    world.commit(world.desk.overdue(world.leg(1), world.load, expiry))
    cancel = world.sent_to("pku")[-1]
    assert isinstance(cancel, isoill.Cancel) and cancel.transaction_id == first.transaction_id
    assert world.sent_to("fdu") == []  # not asked: the reader no longer wants it
    request = world.request(1)
    assert request.state is RequestState.EXPIRED
    assert [t.symbol for t in request.rota.tried] == ["CALIS:PKU"]
    # An Unfilled that comes after it changes nothing.
    world.answer("pku", not_owned(first), at=expiry)
    assert world.request(1).state is RequestState.EXPIRED and world.sent_to("fdu") == []


def test_a_no_after_the_valid_until_date_asks_nobody_else() -> None:
    world = World()
    world.submit(form=replace(FORM, valid_until=AT.date()))
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU", "CALIS:FDU"], AT).change)
    (first,) = world.sent_to("pku")
    late = AT + timedelta(days=1, hours=1)
    world.answer("pku", not_owned(first), at=late)
    assert world.request(1).state is RequestState.EXPIRED
    assert world.sent_to("fdu") == []


def test_a_loan_received_by_the_library_is_renewed_and_returned_to_the_supplier() -> None:
    world = World()
    world.submit(form=replace(FORM, service=ServiceType.LOAN, document_type=DocumentType.BOOK))
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU"], AT).change)
    (ask,) = world.sent_to("pku")
    pku = Side(Role.RESPONDER, ask.transaction_id)
    pku.got(ask)
    due = date(2027, 1, 15)
    world.answer(
        "pku",
        pku.sent(
            isoill.Shipped(
                transaction_id=ask.transaction_id,
                requester_id=ask.requester_id,
                responder_id=ask.responder_id,
                shipped_service_type=ILLServiceType.LOAN,
                supply_details=isoill.SupplyDetails(date_due=isoill.DateDue(date_due_field=due)),
            )
        ),
    )
    assert world.request(1).return_date == due
    with pytest.raises(DeskRefused, match="尚未收到"):
        world.desk.returned(world.leg(1), world.load, AT)
    with pytest.raises(DeskRefused, match="不能续借"):
        world.desk.renew(world.leg(1), "lisi", world.load, AT)
    world.commit(world.desk.received(world.leg(1), world.load, AT).change)
    pku.got(world.sent_to("pku")[-1])
    # The supplier says it is overdue, then recalls it: the reader is told each time.
    ids = {
        "transaction_id": ask.transaction_id,
        "requester_id": ask.requester_id,
        "responder_id": ask.responder_id,
    }
    overdue = isoill.Overdue(**ids, date_due=isoill.DateDue(date_due_field=due))  # type: ignore[arg-type]
    world.answer("pku", pku.sent(overdue))
    assert "已超过归还日期" in world.request(1).history[-1][1]
    # The reader asks for more time; the supplier agrees with a new date due.
    world.commit(world.desk.renew(world.leg(1), "lisi", world.load, AT).change)
    renew = world.sent_to("pku")[-1]
    assert isinstance(renew, isoill.Renew)
    pku.got(renew)
    later = date(2027, 2, 15)
    answer = isoill.RenewAnswer(**ids, answer=True, date_due=isoill.DateDue(date_due_field=later))  # type: ignore[arg-type]
    world.answer("pku", pku.sent(answer))
    assert world.request(1).return_date == later
    world.answer("pku", pku.sent(isoill.Recall(**ids, responder_note="预约者急需")))  # type: ignore[arg-type]
    assert "召回" in world.request(1).history[-1][1]
    subjects = [
        str(email.header.make_header(email.header.decode_header(m["Subject"])))
        for m in world.mails()
    ]
    assert len(subjects) == 3  # shipped, overdue, recall
    assert "已超过归还日期" in subjects[1] and "被召回" in subjects[2]
    world.commit(world.desk.returned(world.leg(1), world.load, AT, via="EMS 快递").change)
    returned = world.sent_to("pku")[-1]
    assert isinstance(returned, isoill.Returned) and returned.returned_via == "EMS 快递"
    pku.got(returned)
    assert world.request(1).state is RequestState.RETURNED
    assert "归还方式: EMS 快递" in world.request(1).history[-1][1]
    # The supplier checks it in: the transaction ends there, noted on the request.
    world.answer(
        "pku",
        pku.sent(
            isoill.CheckedIn(
                transaction_id=ask.transaction_id,
                requester_id=ask.requester_id,
                responder_id=ask.responder_id,
                date_checked_in=AT.date(),
            )
        ),
    )
    assert pku.txn.state is State.CHECKED_IN
    assert "已归还入库" in world.request(1).history[-1][1]


def shipped_copy(ask: isoill.APDU, cost: isoill.Amount | None = None) -> isoill.Shipped:
    """The supplier's Shipped of a copy for the request ``ask``, at ``cost``."""
    return isoill.Shipped(
        transaction_id=ask.transaction_id,
        requester_id=ask.requester_id,
        responder_id=ask.responder_id,
        shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE,
        supply_details=isoill.SupplyDetails(cost=cost),
    )


def test_an_urgent_request_s_shipped_mail_names_the_rush_fee_from_the_configuration() -> None:
    world = World(rush_fee=Decimal(10))
    world.submit(1, replace(FORM, urgency=Urgency.URGENT))
    world.submit(2)
    for number in (1, 2):
        world.commit(world.desk.send(world.leg(number), ["CALIS:PKU"], AT).change)
    for ask in world.sent_to("pku"):
        world.answer(
            "pku", shipped_copy(ask, isoill.Amount(monetary_value=Decimal(25), currency_code="CNY"))
        )
    urgent, normal = (m.get_payload(decode=True).decode() for m in world.mails())
    assert "加急费: 10.00 元" in urgent and "应付合计: 35.00 元" in urgent
    assert "加急费" not in normal and "总费用: 25.00 元" in normal


def test_a_copy_is_not_returned() -> None:
    world = World()
    world.submit()
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU"], AT).change)
    (ask,) = world.sent_to("pku")
    world.answer("pku", shipped_copy(ask))
    world.commit(world.desk.received(world.leg(1), world.load, AT).change)
    with pytest.raises(DeskRefused, match="复制件"):
        world.desk.returned(world.leg(1), world.load, AT)


def test_central_mode_tells_a_members_reader_to_pay_the_member_library() -> None:
    world = World("central", "issn,isbn,title,library\n0264-1615,,,CALIS:PKU\n")
    world.commit(world.desk.submit("thu", "lisi", FORM, 1, AT, "CALIS:THU-MED").change)
    assert world.request(1).member == "CALIS:THU-MED"
    again = StoredLeg.from_row("thu", "request:1", "lisi", "", world.leg(1).body(), 1)
    assert isinstance(again.payload, ReaderRequest) and again.payload.member == "CALIS:THU-MED"
    (ask,) = world.sent_to("pku")
    world.answer(
        "pku", shipped_copy(ask, isoill.Amount(monetary_value=Decimal(8), currency_code="CNY"))
    )
    (shipped,) = world.mails()
    text = shipped.get_payload(decode=True).decode()
    assert "请按本馆规定将费用付给医学图书馆馆际互借处" in text
    assert "付给清华大学图书馆" not in text


def test_central_mode_sends_at_once_by_holdings_and_never_to_itself() -> None:
    world = World("central", "issn,isbn,title,library\n0264-1615,,,CALIS:THU;CALIS:FDU;CALIS:PKU\n")
    world.submit(7, replace(FORM, holding_library="CALIS:PKU"))
    request = world.request(7)
    assert request.state is RequestState.SENT
    # The reader's choice first, then the table's order; the centre itself is not asked.
    assert request.rota.current is not None and request.rota.current.symbol == "CALIS:PKU"
    assert request.rota.candidates == ("CALIS:FDU",)
    (sent,) = world.sent_to("pku")
    assert isinstance(sent, isoill.ILLRequest)
    assert sent.delivery_address is not None  # the supplier ships to the reader


def test_central_mode_with_no_holder_ends_not_supplied_and_tells_the_reader() -> None:
    world = World("central", "issn,isbn,title,library\n1234-5679,,,CALIS:PKU\n")
    world.submit(8)
    request = world.request(8)
    assert request.state is RequestState.NOT_SUPPLIED
    assert [m["To"] for m in world.mails()] == ["lisi@example.edu.cn"]


def test_a_mistyped_or_own_supplier_is_refused_before_anything_is_sent() -> None:
    world = World()
    world.submit()
    for named, problem in (
        (["CALIS:NOWHERE", "CALIS:FDU"], "CALIS:NOWHERE 不是已配置的文献提供馆"),
        (["calis:thu-med"], "calis:thu-med 是本馆"),
    ):
        with pytest.raises(DeskRefused) as refused:
            world.desk.send(world.leg(1), named, AT)
        assert len(refused.value.reasons) == 1
        assert refused.value.reasons[0].startswith(f"suppliers: {problem}")
    assert world.outbox == [] and world.request(1).state is RequestState.UNPROCESSED
    world.commit(world.desk.send(world.leg(1), ["CALIS:FDU"], AT).change)
    assert world.request(1).rota.current is not None


def test_a_typed_supplier_the_holdings_table_does_not_list_is_refused() -> None:
    world = World(holdings="issn,isbn,title,library\n0264-1615,,,CALIS:PKU\n")
    world.submit()
    with pytest.raises(DeskRefused) as refused:
        world.desk.send(world.leg(1), ["CALIS:FDU"], AT)
    (problem,) = refused.value.reasons
    assert problem.startswith("suppliers: 馆藏表中 CALIS:FDU 未收藏此文献, 收藏馆: CALIS:PKU")
    assert world.outbox == [] and world.request(1).state is RequestState.UNPROCESSED
    # The holding library the reader named counts as a holder, as the table's do.
    world.submit(2, form=replace(FORM, holding_library="CALIS:FDU"))
    world.commit(world.desk.send(world.leg(2), ["calis:fdu"], AT).change)
    assert world.request(2).state is RequestState.SENT
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU"], AT).change)
    assert [type(a) for a in world.sent_to("pku")] == [isoill.ILLRequest]


def test_a_title_the_holdings_table_does_not_know_leaves_the_choice_to_staff() -> None:
    world = World(holdings="issn,isbn,title,library\n1234-5679,,,CALIS:PKU\n")
    world.submit()
    world.commit(world.desk.send(world.leg(1), ["CALIS:FDU"], AT).change)
    current = world.request(1).rota.current
    assert current is not None and current.symbol == "CALIS:FDU"


def test_a_holding_library_the_gateway_cannot_reach_is_left_out_of_the_rota() -> None:
    world = World("central", holdings="issn,isbn,title,library\n0264-1615,,,CALIS:GONE;CALIS:PKU\n")
    world.submit(form=replace(FORM, holding_library="CALIS:NOWHERE"))
    request = world.request(1)
    assert request.rota.current is not None and request.rota.current.symbol == "CALIS:PKU"
    assert request.rota.tried == () and request.rota.candidates == ()


def test_the_centre_notes_a_request_for_a_document_found_in_ccc() -> None:
    holdings = "issn,isbn,title,library\n0264-1615,,,CALIS:PKU\n"
    centre, distributed = World("central", holdings), World("distributed", holdings)
    found_in_ccc = replace(FORM, calis_oid="ccc0000123456", holding_library="CALIS:PKU")
    centre.submit(1, found_in_ccc)
    centre.submit(2)
    distributed.submit(1, found_in_ccc)
    distributed.commit(distributed.desk.send(distributed.leg(1), [], AT).change)
    ccc, plain = centre.sent_to("pku")
    (own,) = distributed.sent_to("pku")
    assert isinstance(ccc, isoill.ILLRequest) and isinstance(plain, isoill.ILLRequest)
    assert isinstance(own, isoill.ILLRequest)
    assert ccc.requester_note is not None and ccc.requester_note.startswith(CCC_NOTE + " / ")
    assert CCC_NOTE not in (plain.requester_note or "") + (own.requester_note or "")
    # The supplier's staff see the note alone; the reader's contacts are on the form.
    thu = distributed.config.networks[0]
    supply = distributed.desk.new_request(ccc, "CALIS:THU/1/1-1", "calis", thu, AT).payload
    assert isinstance(supply, SupplyRequest)
    assert supply.note == CCC_NOTE and supply.form.phone == FORM.phone


def incoming(symbol: str = "CALIS:THU") -> isoill.ILLRequest:
    return isoill.ILLRequest(
        transaction_id=isoill.TransactionId(
            initial_requester_id=isoill.SystemId.institution("CALIS:PKU"),
            transaction_group_qualifier="9",
            transaction_qualifier="9-1",
        ),
        requester_id=isoill.SystemId.institution("CALIS:PKU"),
        responder_id=isoill.SystemId.institution(symbol),
        item_id=isoill.ItemId(title="Interlending & Document Supply", issn="02641615"),
        ill_service_type=(ILLServiceType.COPY_NON_RETURNABLE,),
        delivery_address=isoill.DeliveryAddress(
            electronic_address=isoill.SystemAddress(
                telecom_service_identifier="SMTP", telecom_service_address="reader@pku.example"
            )
        ),
        requester_note="从CCC检索到的文献!",
    )


def supply_legs(world: World) -> tuple[StoredLeg, StoredLeg]:
    (leg,) = [leg for leg in world.legs.values() if isinstance(leg.payload, SupplyRequest)]
    iso = world.load(leg.partner, leg.other_key)
    assert iso is not None
    return leg, iso


def test_a_request_for_the_library_waits_for_its_staff_who_ship_it() -> None:
    world = World()
    request = incoming()
    requester = Side(Role.REQUESTER, request.transaction_id)
    requester.sent(request)
    world.answer("pku", request)
    leg, iso = supply_legs(world)
    assert isinstance(leg.payload, SupplyRequest)
    assert leg.payload.state is SupplyState.PENDING
    assert leg.payload.note == "从CCC检索到的文献!"
    assert leg.payload.form.title == "Interlending & Document Supply"
    step = world.desk.ship(leg, iso, Decimal("8.00"), "", AT)
    world.commit(step.change)
    shipped = world.sent_to("pku")[-1]
    assert isinstance(shipped, isoill.Shipped)
    assert shipped.supply_details.cost == isoill.Amount(
        monetary_value=Decimal("8.00"), currency_code="CNY"
    )
    requester.got(shipped)
    assert requester.txn.state is State.SHIPPED
    leg, iso = supply_legs(world)
    with pytest.raises(DeskRefused):
        world.desk.unfillable(leg, iso, "not-owned", "", AT)


def test_unfillable_answers_with_the_reason_and_leaves_the_reader_to_the_requester() -> None:
    world = World()
    world.answer("pku", incoming())
    leg, iso = supply_legs(world)
    with pytest.raises(DeskRefused, match="不是以下之一"):
        world.desk.unfillable(leg, iso, "because", "", AT)
    world.commit(world.desk.unfillable(leg, iso, "not-owned", "本馆未收藏", AT).change)
    answer = world.sent_to("pku")[-1]
    assert isinstance(answer, isoill.ILLAnswer)
    assert answer.transaction_results is TransactionResults.UNFILLED
    assert answer.responder_note == "本馆未收藏"
    # The requester may ask the next library on its rota: only it knows when the request
    # really ends unfilled, and it tells its reader then, once.
    assert world.mails() == []
    leg, _ = supply_legs(world)
    assert isinstance(leg.payload, SupplyRequest)
    assert leg.payload.reason == "无法满足 (unfilled): 本馆未收藏 (not-owned) (本馆未收藏)"


def test_a_cancel_before_staff_act_is_agreed_at_once() -> None:
    world = World()
    request = incoming()
    world.answer("pku", request)
    world.answer("pku", cancel_of(request))
    reply = world.sent_to("pku")[-1]
    assert isinstance(reply, isoill.CancelReply) and reply.answer is True
    leg, _ = supply_legs(world)
    assert isinstance(leg.payload, SupplyRequest) and leg.payload.state is SupplyState.CANCELLED


def test_calis_mail_mode_goes_only_to_the_readers_own_library() -> None:
    world = World()
    item = world.desk.mail_request("thu", "CALIS:THU", FORM, "lisi", AT)
    assert item.peer == "mail:ill@lib.example.edu.cn"
    with pytest.raises(DeskRefused, match="只能发送给本馆"):
        world.desk.mail_request("thu", "CALIS:PKU", FORM, "lisi", AT)


def test_calis_mail_mode_of_a_member_library_goes_to_its_own_staff() -> None:
    desk = World("central").desk
    item = desk.mail_request("thu", "CALIS:THU-MED", FORM, "lisi", AT, "CALIS:THU-MED")
    assert item.peer == "mail:ill@med.example.edu.cn"
    assert (
        "医学图书馆 馆际互借员"
        in email.message_from_bytes(item.data).get_payload(decode=True).decode()
    )
    # Sent "to the centre" by a member's reader, it still goes to the member's own staff.
    assert desk.mail_request("thu", "thu", FORM, "lisi", AT, "CALIS:THU-MED").peer == item.peer
    # A member without an address of its own: the centre's staff.
    law = desk.mail_request("thu", "thu", FORM, "lisi", AT, "CALIS:THU-LAW")
    assert law.peer == "mail:ill@lib.example.edu.cn"
    with pytest.raises(DeskRefused, match="只能发送给本馆"):  # another member's staff
        desk.mail_request("thu", "CALIS:THU-MED", FORM, "lisi", AT, "CALIS:THU-LAW")


def test_request_values_survive_the_store() -> None:
    world = World()
    world.submit()
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU"], AT).change)
    leg = world.leg(1)
    again = StoredLeg.from_row(leg.network, leg.key, leg.peer, leg.partner, leg.body(), 1)
    assert again.payload == leg.payload
    assert again.due == leg.due
    assert isinstance(again.payload, ReaderRequest)
    assert again.payload.form.valid_until is None or isinstance(
        again.payload.form.valid_until, date
    )


def test_a_fee_above_the_readers_limit_is_shipped_only_once_the_requester_accepts() -> None:
    world = World()
    limit = isoill.Amount(monetary_value=Decimal(50), currency_code="CNY")
    request = replace(incoming(), cost_info_type=isoill.CostInfoType(maximum_cost=limit))
    world.answer("pku", request)
    leg, iso = supply_legs(world)
    assert isinstance(leg.payload, SupplyRequest)
    assert leg.payload.form.cost_limit == Decimal(50)
    with pytest.raises(DeskRefused, match=r"超过读者的费用限制 50\.00 元"):
        world.desk.ship(leg, iso, Decimal("60.00"), "", AT)
    world.commit(world.desk.conditional(leg, iso, Decimal("60.00"), "", AT).change)
    answer = world.sent_to("pku")[-1]
    assert isinstance(answer, isoill.ILLAnswer)
    assert answer.transaction_results is TransactionResults.CONDITIONAL
    assert isinstance(answer.results_explanation, isoill.ConditionalResults)
    assert answer.results_explanation.conditions is Conditions.COST_EXCEEDS_LIMIT
    assert answer.responder_note is not None and "60.00" in answer.responder_note
    leg, iso = supply_legs(world)
    with pytest.raises(DeskRefused):
        world.desk.ship(leg, iso, Decimal("60.00"), "", AT)  # not before the reply
    world.answer(
        "pku",
        isoill.ConditionalReply(
            transaction_id=request.transaction_id,
            requester_id=request.requester_id,
            responder_id=request.responder_id,
            answer=True,
        ),
    )
    leg, iso = supply_legs(world)
    assert isinstance(leg.payload, SupplyRequest)
    assert leg.payload.state is SupplyState.PENDING and leg.payload.agreed_cost == Decimal(60)
    with pytest.raises(DeskRefused):
        world.desk.ship(leg, iso, Decimal("60.01"), "", AT)  # more than was agreed
    world.commit(world.desk.ship(leg, iso, Decimal("60.00"), "", AT).change)
    shipped = world.sent_to("pku")[-1]
    assert isinstance(shipped, isoill.Shipped)
    cost = shipped.supply_details.cost
    assert cost is not None and cost.monetary_value == Decimal("60.00")


def test_a_cancel_after_shipping_is_refused_by_the_supplying_library() -> None:
    world = World()
    request = incoming()
    world.answer("pku", request)
    leg, iso = supply_legs(world)
    world.commit(world.desk.ship(leg, iso, Decimal(0), "", AT).change)
    world.answer("pku", cancel_of(request))
    reply = world.sent_to("pku")[-1]
    assert isinstance(reply, isoill.CancelReply) and reply.answer is False
    leg, iso = supply_legs(world)
    assert isinstance(leg.payload, SupplyRequest) and leg.payload.state is SupplyState.SHIPPED
    assert iso.transaction.state is State.SHIPPED


def test_a_loan_is_shipped_with_its_date_due_renewed_recalled_and_checked_in() -> None:
    world = World()
    request = replace(incoming(), ill_service_type=(ILLServiceType.LOAN,))
    requester = Side(Role.REQUESTER, request.transaction_id)
    requester.sent(request)
    world.answer("pku", request)
    leg, iso = supply_legs(world)
    with pytest.raises(DeskRefused, match="须晚于今天"):
        world.desk.ship(leg, iso, Decimal(0), "", AT, date(2026, 11, 23))
    world.commit(world.desk.ship(leg, iso, Decimal(0), "", AT, date(2027, 1, 15)).change)
    shipped = world.sent_to("pku")[-1]
    assert isinstance(shipped, isoill.Shipped)
    assert shipped.shipped_service_type is ILLServiceType.LOAN
    assert shipped.supply_details.date_due is not None
    assert shipped.supply_details.date_due.date_due_field == date(2027, 1, 15)
    requester.got(shipped)
    leg, iso = supply_legs(world)
    with pytest.raises(DeskRefused, match="尚未归还"):
        world.desk.checked_in(leg, iso, AT)
    received = isoill.Received(
        transaction_id=request.transaction_id,
        requester_id=request.requester_id,
        responder_id=request.responder_id,
        date_received=AT.date(),
        shipped_service_type=ILLServiceType.LOAN,
    )
    world.answer("pku", requester.sent(received))
    ids = {
        "transaction_id": request.transaction_id,
        "requester_id": request.requester_id,
        "responder_id": request.responder_id,
    }
    returned = isoill.Returned(**ids, date_returned=AT.date())  # type: ignore[arg-type]
    # The requester asks to renew: staff agree with a new date due, and may recall it.
    world.answer("pku", requester.sent(isoill.Renew(**ids)))  # type: ignore[arg-type]
    leg, iso = supply_legs(world)
    assert isinstance(leg.payload, SupplyRequest)
    assert leg.payload.state is SupplyState.RENEW_ASKED
    world.commit(world.desk.renew_answer(leg, iso, True, None, AT).change)
    renewed = world.sent_to("pku")[-1]
    assert isinstance(renewed, isoill.RenewAnswer) and renewed.answer is True
    assert renewed.date_due is not None
    assert renewed.date_due.date_due_field == date(2027, 1, 15) + timedelta(days=28)
    requester.got(renewed)
    leg, iso = supply_legs(world)
    with pytest.raises(DeskRefused, match="没有待答复的续借申请"):
        world.desk.renew_answer(leg, iso, True, None, AT)
    world.commit(world.desk.loan_notice(leg, iso, "recall", "", AT).change)
    recall = world.sent_to("pku")[-1]
    assert isinstance(recall, isoill.Recall)
    requester.got(recall)
    world.answer("pku", requester.sent(returned))
    leg, iso = supply_legs(world)
    assert isinstance(leg.payload, SupplyRequest) and leg.payload.state is SupplyState.RETURNED
    world.commit(world.desk.checked_in(leg, iso, AT).change)
    checked = world.sent_to("pku")[-1]
    assert isinstance(checked, isoill.CheckedIn)
    requester.got(checked)
    assert requester.txn.state is State.CHECKED_IN
    leg, _ = supply_legs(world)
    assert isinstance(leg.payload, SupplyRequest)
    assert leg.payload.state is SupplyState.CHECKED_IN
    assert leg.payload.date_due == date(2027, 2, 12)  # as renewed


def test_a_shipped_that_crosses_the_cancel_leaves_the_request_shipped() -> None:
    world = World("central", holdings="issn,isbn,title,library\n0264-1615,,,CALIS:PKU\n")
    world.submit()
    (ask,) = world.sent_to("pku")
    pku = Side(Role.RESPONDER, ask.transaction_id)
    pku.got(ask)
    world.commit(world.desk.cancel(world.leg(1), None, world.load, AT).change)
    shipped = isoill.Shipped(
        transaction_id=ask.transaction_id,
        requester_id=ask.requester_id,
        responder_id=ask.responder_id,
        shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE,
        supply_details=isoill.SupplyDetails(),
    )
    world.answer("pku", pku.sent(shipped))
    assert world.request(1).state is RequestState.SHIPPED
    cancel = world.sent_to("pku")[-1]
    assert isinstance(cancel, isoill.Cancel)  # the Cancel, crossed
    pku.got(cancel)
    world.answer("pku", pku.sent(cancel_reply(ask, answer=False)))
    assert world.request(1).state is RequestState.SHIPPED


def test_history_keeps_both_languages_and_old_pairs_still_read() -> None:
    """A stored request keeps each history line in both languages (the records API reads the
    Chinese where it always read the text); a line stored as one pair string stays one."""
    world = World()
    world.submit()
    world.commit(world.desk.send(world.leg(1), ["CALIS:PKU"], AT).change)
    request = world.request(1)
    stored = request.to_json()
    assert stored["history"][-1][1] == "已发送至北京大学图书馆 (CALIS:PKU)"
    assert stored["history"][-1][2]["en"] == "sent to 北京大学图书馆 (CALIS:PKU)"
    old = {**stored, "history": [[AT.isoformat(), "提交申请 / submitted"]]}
    again = ReaderRequest.from_json(json.loads(json.dumps(stored)))
    assert in_lang(again.history[-1][1], "en") == "sent to 北京大学图书馆 (CALIS:PKU)"
    assert ReaderRequest.from_json(old).history[0][1] == "提交申请 / submitted"
