"""CALIS central mode on loopback: a real gateway as the CALIS ILL centre, three supplying
libraries as ISO ILL peers, and the lender rota between them.

The centre routes a reader's request by its holdings table (ISSN -> three holding
libraries). The first two answer Unfilled, so the rota asks the third, whose ILL-Request
must carry the first two in already-tried-list; it ships, the centre records Received at
once (central mode) and the reader's request ends RECEIVED with both refusals in its
history. Each supplier runs its own protocol machine on what it gets, so an APDU the gateway
sends out of turn fails the test on that side.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import isoill
from isoill.apdu.enums import ILLServiceType, ReasonUnfilled, TransactionResults
from isoill.machine import Role, State
from tests.gateway.support import FakePeer, GatewayProcess, Side, free_port
from tests.library.support import FORM, Client, MailSink

SUPPLIERS = ("CALIS:S1", "CALIS:S2", "CALIS:S3")
#: The centre's ILL staff, who submit for readers over the API.
STAFF = ("ops", "centre-staff-pw")

CONFIG = """
[gateway]
open = false

[retry]
first = 0.2

[mail]
address = "ill-centre@calis.example"
relay = "tcp:host=127.0.0.1:port={dead}"

[[network]]
name = "centre"
kind = "library"
symbol = "CALIS:CENTRE"
label = "CALIS 馆际互借中心"
mode = "central"
holdings = "holdings.csv"
deadline = {deadline}
members = [{{ symbol = "CALIS:MEMBER", label = "成员馆" }}]

[[network]]
name = "calis"
kind = "iso"
profile = "iso"
{peers}
"""

PEER = """
[[peer]]
name = "s{n}"
network = "calis"
symbols = ["{symbol}"]
connect = "tcp:host=127.0.0.1:port={port}"
"""


def start_centre(
    tmp_path: Path, deadline: float = 3600, relay: int | None = None
) -> tuple[GatewayProcess, list[FakePeer]]:
    peers = [FakePeer() for _ in SUPPLIERS]
    (tmp_path / "holdings.csv").write_text(
        "issn,isbn,title,library\n0264-1615,,," + ";".join(SUPPLIERS) + "\n", encoding="utf-8"
    )
    config = CONFIG.format(
        dead=relay or free_port(),
        deadline=deadline,
        peers="".join(
            PEER.format(n=n + 1, symbol=symbol, port=peer.port)
            for n, (symbol, peer) in enumerate(zip(SUPPLIERS, peers, strict=True))
        ),
    )
    gateway = GatewayProcess(tmp_path, config).start()
    gateway.add_staff(STAFF[0], "centre", STAFF[1])
    return gateway, peers


@pytest.fixture
def sink() -> Iterator[MailSink]:
    """Where the centre's mails go: readers' notices are read there."""
    server = MailSink()
    yield server
    server.close()


@pytest.fixture
def centre(tmp_path: Path, sink: MailSink) -> Iterator[tuple[GatewayProcess, list[FakePeer]]]:
    gateway, peers = start_centre(tmp_path, relay=sink.port)
    try:
        yield gateway, peers
    finally:
        gateway.stop()
        for peer in peers:
            peer.close()


def symbols(systems: tuple[isoill.SystemId, ...] | None) -> list[str]:
    return [s.symbol or "" for s in systems or ()]


def submit(gateway: GatewayProcess) -> dict[str, Any]:
    status, body = gateway.http("/api/libraries/centre/requests", {"form": FORM}, STAFF)
    assert status == 201, body
    return body  # type: ignore[no-any-return]


def wait_for_state(gateway: GatewayProcess, number: int, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        status, body = gateway.http(f"/api/libraries/centre/requests/{number}", auth=STAFF)
        assert status == 200, body
        if body["state"] == state or time.monotonic() > deadline:
            assert body["state"] == state, body
            return body  # type: ignore[no-any-return]
        time.sleep(0.1)


def unfilled(side: Side, request: isoill.ILLRequest, reason: ReasonUnfilled) -> isoill.ILLAnswer:
    answer = isoill.ILLAnswer(
        transaction_id=request.transaction_id,
        requester_id=request.requester_id,
        responder_id=request.responder_id,
        transaction_results=TransactionResults.UNFILLED,
        results_explanation=isoill.UnfilledResults(reason_unfilled=reason),
        responder_note="本馆无此刊",
    )
    side.sent(answer)
    return answer


def shipped_copy(request: isoill.ILLRequest, cost: Decimal) -> isoill.Shipped:
    """The supplier's Shipped of a copy of ``request``, at ``cost`` yuan."""
    return isoill.Shipped(
        transaction_id=request.transaction_id,
        requester_id=request.requester_id,
        responder_id=request.responder_id,
        shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE,
        supply_details=isoill.SupplyDetails(
            cost=isoill.Amount(monetary_value=cost, currency_code="CNY")
        ),
    )


def reader_mails(sink: MailSink, count: int) -> list[str]:
    """The texts of the mails the reader got, once there are ``count``; a moment later, so
    that one too many would be seen."""
    deadline = time.monotonic() + 20
    while len(sink.to(FORM["email"])) < count:
        assert time.monotonic() < deadline, f"the reader got {len(sink.to(FORM['email']))} mails"
        time.sleep(0.1)
    time.sleep(1.5)
    return [
        "\n".join(
            str(part.get_content())
            for part in mail.walk()
            if part.get_content_type() == "text/plain"
        )
        for mail in sink.to(FORM["email"])
    ]


def test_rota_reaches_the_third_supplier_and_the_request_ends_received(
    centre: tuple[GatewayProcess, list[FakePeer]], sink: MailSink
) -> None:
    gateway, (s1, s2, s3) = centre
    number = submit(gateway)["number"]

    # The first supplier gets the request, addressed to it, with the others still to ask.
    conn, first = s1.receive()
    assert isinstance(first, isoill.ILLRequest)
    assert first.responder_id is not None and first.responder_id.symbol == "CALIS:S1"
    assert first.requester_id is not None and first.requester_id.symbol == "CALIS:CENTRE"
    assert first.third_party_info_type is not None
    assert symbols(tuple(e.system_id for e in first.third_party_info_type.send_to_list or ())) == [
        "CALIS:S2",
        "CALIS:S3",
    ]
    assert not first.third_party_info_type.already_tried_list
    # Central mode: the supplier delivers straight to the reader.
    assert first.delivery_address is not None
    assert first.delivery_address.electronic_address is not None
    assert first.item_id.issn == "02641615"
    one = Side(Role.RESPONDER, first.transaction_id)
    one.got(first)
    conn.send(unfilled(one, first, ReasonUnfilled.NOT_OWNED))

    conn, second = s2.receive()
    assert isinstance(second, isoill.ILLRequest)
    assert second.transaction_id != first.transaction_id
    assert second.transaction_id.transaction_group_qualifier == str(number)
    assert second.third_party_info_type is not None
    assert symbols(second.third_party_info_type.already_tried_list) == ["CALIS:S1"]
    two = Side(Role.RESPONDER, second.transaction_id)
    two.got(second)
    conn.send(unfilled(two, second, ReasonUnfilled.LACKING))

    conn, third = s3.receive()
    assert isinstance(third, isoill.ILLRequest)
    assert third.third_party_info_type is not None
    assert symbols(third.third_party_info_type.already_tried_list) == ["CALIS:S1", "CALIS:S2"]
    assert not third.third_party_info_type.send_to_list
    three = Side(Role.RESPONDER, third.transaction_id)
    three.got(third)
    conn.send(three.sent(shipped_copy(third, Decimal("12.50"))))

    # The centre records Received as soon as the supplier ships (central mode).
    _, received = s3.receive()
    assert isinstance(received, isoill.Received)
    three.got(received)
    assert three.txn.state is State.RECEIVED

    body = wait_for_state(gateway, number, "received")
    assert Decimal(body["total_cost"]) == Decimal("12.50")
    tried = body["rota"]["tried"]
    assert [t["symbol"] for t in tried] == ["CALIS:S1", "CALIS:S2"]
    assert "not-owned" in tried[0]["reason"] and "lacking" in tried[1]["reason"]
    assert "本馆无此刊" in tried[0]["reason"]
    assert body["rota"]["current"]["symbol"] == "CALIS:S3"
    # Nothing more went to the suppliers that said no.
    assert s1.inbox.empty() and s2.inbox.empty()
    # The reader heard once, that it was shipped: never of the refusals on the way.
    (text,) = reader_mails(sink, 1)
    assert "无法满足" not in text and "12.50" in text


def test_rota_exhausted_ends_not_supplied_with_every_reason(
    centre: tuple[GatewayProcess, list[FakePeer]], sink: MailSink
) -> None:
    gateway, peers = centre
    number = submit(gateway)["number"]
    reasons = [ReasonUnfilled.NOT_OWNED, ReasonUnfilled.AT_BINDERY, ReasonUnfilled.POOR_CONDITION]
    for peer, reason in zip(peers, reasons, strict=True):
        conn, request = peer.receive()
        assert isinstance(request, isoill.ILLRequest)
        side = Side(Role.RESPONDER, request.transaction_id)
        side.got(request)
        conn.send(unfilled(side, request, reason))
    body = wait_for_state(gateway, number, "not-supplied")
    texts = [t["reason"] for t in body["rota"]["tried"]]
    assert ["not-owned" in texts[0], "at-bindery" in texts[1], "poor-condition" in texts[2]] == [
        True,
        True,
        True,
    ]
    assert body["state_label"][0] == "无法满足"
    # One mail, when it really ended, with every supplier's reason in Chinese.
    (text,) = reader_mails(sink, 1)
    assert "无法满足" in text
    for symbol, label in zip(SUPPLIERS, ("本馆未收藏", "正在装订", "品相太差"), strict=True):
        assert re.search(f"{symbol}: 无法满足 \\(unfilled\\): {label}", text), (symbol, text)


def test_a_silent_supplier_is_passed_over_at_the_deadline(tmp_path: Path) -> None:
    gateway, peers = start_centre(tmp_path, deadline=1)
    try:
        number = submit(gateway)["number"]
        _, first = peers[0].receive()
        assert isinstance(first, isoill.ILLRequest)
        one = Side(Role.RESPONDER, first.transaction_id)
        one.got(first)
        # S1 says nothing; after the deadline it gets a Cancel and S2 the request.
        _, cancel = peers[0].receive(timeout=15)
        assert isinstance(cancel, isoill.Cancel)
        one.got(cancel)
        _, second = peers[1].receive(timeout=15)
        assert isinstance(second, isoill.ILLRequest)
        assert second.third_party_info_type is not None
        assert symbols(second.third_party_info_type.already_tried_list) == ["CALIS:S1"]
        status, body = gateway.http(f"/api/libraries/centre/requests/{number}", auth=STAFF)
        assert status == 200
        assert body["state"] == "sent"
        assert "no answer within" in body["rota"]["tried"][0]["reason"]
    finally:
        gateway.stop()
        for peer in peers:
            peer.close()


def test_a_bad_form_is_refused_with_every_field(
    centre: tuple[GatewayProcess, list[FakePeer]],
) -> None:
    gateway, peers = centre
    form = {**FORM, "title": "", "issn": "0264-1616", "reference": "x" * 51}
    status, body = gateway.http("/api/libraries/centre/requests", {"form": form}, STAFF)
    assert status == 400
    fields = {reason.split(":")[0] for reason in body["reasons"]}
    assert {"title", "issn", "reference"} <= fields
    assert peers[0].inbox.empty()
    status, _ = gateway.http("/api/libraries/nowhere/requests", {"form": FORM}, STAFF)
    assert status == 404
    # Readers' personal data: no answer without a login, or with a wrong password.
    assert gateway.http("/api/libraries/centre/requests", {"form": FORM})[0] == 401
    assert gateway.http("/api/libraries/centre/requests", auth=("ops", "wrong-pass"))[0] == 401
    assert peers[0].inbox.empty()


def test_staff_cancel_a_sent_request_and_the_suppliers_reply_decides(
    centre: tuple[GatewayProcess, list[FakePeer]], sink: MailSink
) -> None:
    gateway, (s1, s2, _) = centre
    number = submit(gateway)["number"]
    conn, first = s1.receive()
    assert isinstance(first, isoill.ILLRequest)
    one = Side(Role.RESPONDER, first.transaction_id)
    one.got(first)
    staff = Client(gateway)
    assert staff.log_in("staff", "centre", *STAFF)[0] == 200
    page = staff.get(f"/staff/requests/{number}")[1]
    assert f'id="cancel-{number}"' in page  # central mode: sent at once, 取消 all the same
    status, page, _ = staff.post(f"/staff/requests/{number}/cancel", {})
    assert status == 200 and "已请求取消, 等待文献提供馆答复" in page
    _, cancel = s1.receive()
    assert isinstance(cancel, isoill.Cancel)
    one.got(cancel)
    wait_for_state(gateway, number, "cancel-pending")
    assert staff.post(f"/staff/requests/{number}/cancel", {})[0] == 409
    conn.send(
        one.sent(
            isoill.CancelReply(
                transaction_id=first.transaction_id,
                requester_id=first.requester_id,
                responder_id=first.responder_id,
                answer=True,
            )
        )
    )
    body = wait_for_state(gateway, number, "cancelled")
    assert body["rota"]["current"] is None
    assert one.txn.state is State.CANCELLED
    (text,) = reader_mails(sink, 1)
    assert "已取消" in text
    assert s2.inbox.empty()  # the rota does not go on
