"""End to end on loopback: a real ``isoill gateway`` process between two fake networks.

Library A (network "east", plain ISO) connects to the gateway; library B (network "west",
OCLC profile) is a peer the gateway connects to. Each side runs its own protocol machine on
what it receives, so an APDU the gateway relays wrongly fails the test on that side too.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import isoill
from isoill.apdu.enums import ILLAPDUType, ILLServiceType
from isoill.gateway.store import SQLiteStore
from isoill.machine import Role, State
from tests.gateway.support import Connection, FakePeer, GatewayProcess, Side, free_port
from tests.machine.support import apdu_for, request, responder_messages

CONFIG = """
[gateway]
open = false

[retry]
first = 0.2

[[network]]
name = "east"
kind = "iso"
profile = "iso"

[[network]]
name = "west"
kind = "iso"
profile = "oclc"

[[peer]]
name = "east-lib"
network = "east"
symbols = ["NACSIS:*"]

[[peer]]
name = "west-lib"
network = "west"
symbols = ["OCLC:*"]
connect = "tcp:host=127.0.0.1:port={port}"
"""


@pytest.fixture
def networks(tmp_path: Path) -> Iterator[tuple[GatewayProcess, FakePeer]]:
    west = FakePeer()
    gateway = GatewayProcess(tmp_path, CONFIG.format(port=west.port)).start()
    try:
        yield gateway, west
    finally:
        gateway.stop()
        west.close()


def _legs(gateway: GatewayProcess) -> dict[str, State]:
    store = SQLiteStore(gateway.workdir / "isoill-gateway.db")
    try:
        return {leg.network: leg.transaction.state for leg in store.search()}
    finally:
        store.close()


def _asked(gateway: GatewayProcess, side: Side, ask: isoill.ILLRequest) -> Connection:
    """An association to the gateway on which ``side`` sent ``ask`` and got its ack."""
    link = Connection.to(gateway.ill_port)
    link.send(side.sent(ask))
    ack = link.receive()
    assert isinstance(ack, isoill.StatusOrErrorReport) and ack.error_report is None, ack
    assert ack.status_report is not None
    return link


def _flow(gateway: GatewayProcess, west: FakePeer, loan: bool) -> tuple[Side, Side]:
    kind = ILLServiceType.LOAN if loan else ILLServiceType.COPY_NON_RETURNABLE
    ask = request(service=kind, copyright_compliance=None if loan else "US:CCG")
    a = Side(Role.REQUESTER, ask.transaction_id)
    b = Side(Role.RESPONDER, ask.transaction_id)
    east = _asked(gateway, a, ask)
    try:
        link, forwarded = west.receive()
        assert isinstance(forwarded, isoill.ILLRequest)
        b.got(forwarded)
        if not loan:
            assert forwarded.copyright_compliance == "ccg"  # the OCLC profile's form

        def b_sends(apdu: isoill.APDU) -> isoill.APDU:
            link.send(b.sent(apdu))
            got = east.receive()
            assert type(got) is type(apdu) and got.transaction_id == apdu.transaction_id
            return a.got(got)

        def a_sends(apdu: isoill.APDU) -> isoill.APDU:
            east.send(a.sent(apdu))
            _, got = west.receive()
            assert type(got) is type(apdu)
            return b.got(got)

        if loan:
            b_sends(apdu_for(ILLAPDUType.ILL_ANSWER, "will-supply", loan=True))
        shipped = apdu_for(ILLAPDUType.SHIPPED, loan=loan)
        shipped = dataclasses.replace(shipped, responder_optional_messages=responder_messages())
        b_sends(shipped)
        a_sends(apdu_for(ILLAPDUType.RECEIVED, loan=loan))
        if loan:
            a_sends(apdu_for(ILLAPDUType.RETURNED, loan=True))
            b_sends(apdu_for(ILLAPDUType.CHECKED_IN, loan=True))
        # the gateway refuses, by itself, what neither side's table allows now
        east.send(apdu_for(ILLAPDUType.RENEW, loan=loan))
        refusal = east.receive()
        assert isinstance(refusal, isoill.StatusOrErrorReport) and refusal.error_report
        assert west.inbox.empty()
    finally:
        east.close()
    return a, b


def test_a_copy_is_relayed_between_two_networks(
    networks: tuple[GatewayProcess, FakePeer],
) -> None:
    gateway, west = networks
    a, b = _flow(gateway, west, loan=False)
    assert a.txn.state is State.RECEIVED and b.txn.state is State.RECEIVED
    gateway.stop()
    # the gateway's legs agree with the libraries: it plays B's part to A and A's to B
    assert _legs(gateway) == {"east": b.txn.state, "west": a.txn.state}


def test_a_loan_is_relayed_to_check_in(networks: tuple[GatewayProcess, FakePeer]) -> None:
    gateway, west = networks
    a, b = _flow(gateway, west, loan=True)
    assert a.txn.state is State.CHECKED_IN and b.txn.state is State.CHECKED_IN
    status, page = gateway.http("/status")
    assert status == 200 and page["associations"] >= 1
    status, metrics = gateway.http("/metrics")
    assert status == 200 and "isoill_apdus_in_total{" in metrics
    gateway.stop()
    assert _legs(gateway) == {"east": b.txn.state, "west": a.txn.state}


def test_an_unknown_sender_is_refused_and_logged(tmp_path: Path) -> None:
    west = FakePeer()
    gateway = GatewayProcess(tmp_path, CONFIG.format(port=west.port)).start()
    try:
        stranger = Connection.to(gateway.ill_port)
        ask = dataclasses.replace(
            request(),
            requester_id=isoill.SystemId.institution("ELSEWHERE:X"),
            transaction_id=dataclasses.replace(
                request().transaction_id,
                initial_requester_id=isoill.SystemId.institution("ELSEWHERE:X"),
            ),
        )
        stranger.send(ask)
        answer = stranger.receive()
        assert isinstance(answer, isoill.StatusOrErrorReport)
        assert answer.error_report is not None and "not configured" in (answer.note or "")
        assert west.inbox.empty()
        stranger.close()
    finally:
        gateway.stop()
        west.close()
    assert any("not configured" in str(r.get("reasons", "")) for r in gateway.log_records())


def test_a_peer_that_is_down_gets_its_apdus_when_it_comes_back(tmp_path: Path) -> None:
    """The outbox retries with backoff; nothing is lost while the peer is away."""
    port = free_port()  # B is down: nothing listens on its port yet
    gateway = GatewayProcess(tmp_path, CONFIG.format(port=port)).start()
    try:
        east = Connection.to(gateway.ill_port)
        east.send(request(service=ILLServiceType.LOAN))
        assert isinstance(east.receive(), isoill.StatusOrErrorReport)
        time.sleep(1.0)
        back = socket.create_server(("127.0.0.1", port))  # B comes back on its port
        back.settimeout(20)
        sock, _ = back.accept()
        late = Connection(sock)
        forwarded = late.receive(timeout=20)
        assert isinstance(forwarded, isoill.ILLRequest)
        assert forwarded.ill_service_type == (ILLServiceType.LOAN,)
        late.close()
        back.close()
        east.close()
    finally:
        gateway.stop()
    store = SQLiteStore(tmp_path / "isoill-gateway.db")
    try:
        stats = store.stats()
    finally:
        store.close()
    assert stats.outbox_pending == 0 and stats.outbox_delivered == 1


@pytest.mark.postgres
def test_two_gateway_processes_share_one_postgresql_store(
    tmp_path: Path, postgres_url: str
) -> None:
    """Library A talks to one process, then to the other; B is served by whichever
    delivers first. The transaction's state is one, and every APDU goes out once."""
    west = FakePeer()
    config = CONFIG.format(port=west.port)
    one = GatewayProcess(tmp_path / "one", config, store=postgres_url)
    two = GatewayProcess(tmp_path / "two", config, store=postgres_url)
    for gateway in (one, two):
        gateway.start()
    try:
        ask = request(service=ILLServiceType.COPY_NON_RETURNABLE, copyright_compliance="US:CCG")
        a = Side(Role.REQUESTER, ask.transaction_id)
        b = Side(Role.RESPONDER, ask.transaction_id)
        east = Connection.to(one.ill_port)
        east.send(a.sent(ask))
        assert isinstance(east.receive(), isoill.StatusOrErrorReport)
        link, forwarded = west.receive()
        b.got(forwarded)
        link.send(b.sent(apdu_for(ILLAPDUType.SHIPPED, loan=False)))
        a.got(east.receive(timeout=20))
        east.close()
        # A comes back through the other process: it knows the transaction
        other = Connection.to(two.ill_port)
        other.send(a.sent(apdu_for(ILLAPDUType.RECEIVED, loan=False)))
        _, received = west.receive(timeout=20)
        b.got(received)
        other.close()
        time.sleep(1.5)  # both processes poll the outbox meanwhile
        assert west.inbox.empty(), "an APDU was delivered twice"
        _, page = one.http("/status")
        assert page["store"]["outbox_pending"] == 0
        assert page["store"]["outbox_delivered"] == 3
        assert a.txn.state is State.RECEIVED and b.txn.state is State.RECEIVED
    finally:
        one.stop()
        two.stop()
        west.close()


RECORDS = """
[gateway]
open = false

[[network]]
name = "nacsis"
kind = "records"
profile = "nacsis"
default = true

[[network]]
name = "oclc"
kind = "iso"
profile = "oclc"

[[peer]]
name = "oclc"
network = "oclc"
symbols = ["PIT", "OCLC:*"]
connect = "tcp:host=127.0.0.1:port={port}"
"""


def test_a_nacsis_record_is_ordered_over_http_and_oclc_answers_land_on_it(
    tmp_path: Path,
) -> None:
    from urllib.parse import quote

    from isoill.mapping.record import Stat
    from tests.mapping.support import GIF

    oclc = FakePeer()
    gateway = GatewayProcess(tmp_path, RECORDS.format(port=oclc.port)).start()
    try:
        bad = {**GIF, "ID": "BAD1", "BIBNT": "図書", "SPVIA": "pigeon"}
        in_english = [
            "BIBNT: '図' at character 1 is not single-byte; only TYPE and SPVIA may hold "
            "Japanese on the OCLC link",
            "SPVIA: 'pigeon' is not a shipping method of the OCLC link: 速達 (express), 書留 "
            "(registered), FAX or Ariel (N-5)",
        ]
        in_japanese = [
            "BIBNT: 1文字目の'図'は半角ではありません。OCLCとのリンクで日本語を使えるのはTYPEと"
            "SPVIAだけです",
            "SPVIA: 'pigeon'はOCLCとのリンクの送付方法ではありません。速達、書留、FAX、Arielの"
            "いずれかです(N-5)",
        ]
        for language, reasons in [("en-US,en;q=0.9", in_english), ("ja", in_japanese)]:
            status, refused = gateway.http("/api/records", bad, language=language)
            assert status == 400 and refused["reasons"] == reasons, language
        status, posted = gateway.http("/api/records", {**GIF, "ID": "ILL0001"})
        assert status == 201, posted
        status, wrong = gateway.http("/api/records/ILL0001/commands", {"command": "SEND"})
        assert status == 409 and wrong["reasons"]
        status, ordered = gateway.http("/api/records/ILL0001/commands", {"command": "order"})
        assert status == 200 and ordered["record"]["STAT"] == Stat.IN_PROCESS.value, ordered
        # ORDER again: refused, in the language staff ask for (Japanese first by default).
        again = {"command": "ORDER"}
        status, in_japanese = gateway.http("/api/records/ILL0001/commands", again, language="ja")
        assert status == 409 and in_japanese["reasons"] == [
            "ORDERは状態が準備中のときだけ使えます(現在の状態: 処理中)"
        ]
        status, in_english = gateway.http("/api/records/ILL0001/commands", again, language="en")
        assert status == 409 and in_english["reasons"] == [
            "ORDER needs STAT 準備中; the record is at 処理中"
        ]
        assert gateway.http("/api/records/ILL0001/commands", again)[1] == in_japanese
        link, sent = oclc.receive()
        assert isinstance(sent, isoill.ILLRequest) and sent.copyright_compliance == "ccg"
        link.send(_shipped(sent))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            _, record = gateway.http("/api/records/ILL0001")
            if record["record"]["STAT"] == Stat.SHIPPED.value:
                break
            time.sleep(0.1)
        assert record["state"] == "SHIPPED"
        assert any(line.startswith("APDU=Shipped OCLC") for line in record["history"])
        status, page = gateway.http("/?q=ILL0001")
        assert status == 200 and "ILL0001" in page
        key = quote(record["transaction_id"], safe="")
        status, detail = gateway.http(f"/transactions/nacsis/{key}")
        assert status == 200 and "SHIPPED" in detail and "Raw APDUs" in detail
    finally:
        gateway.stop()
        oclc.close()


POLICIES = """\
symbol,copy_charge,loan_charge,currency,ifm,free_copy,email
PIT,15.00,,USD,yes,no,ill@pit.example.edu
"""


def _wait_for(gateway: GatewayProcess, record_id: str, stat: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        _, record = gateway.http(f"/api/records/{record_id}")
        if record["record"].get("STAT") == stat or time.monotonic() > deadline:
            return dict(record)
        time.sleep(0.1)


def _shipped(sent: isoill.ILLRequest, amount: str | None = None) -> isoill.Shipped:
    """OCLC's Shipped for ``sent``, with the charge (in USD) and PAYMENT=IFM when given."""
    from decimal import Decimal

    return isoill.Shipped(
        transaction_id=sent.transaction_id,
        service_date_time=sent.service_date_time,
        requester_id=sent.requester_id,
        responder_id=sent.responder_id,
        shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE,
        supply_details=isoill.SupplyDetails(
            date_shipped=sent.service_date_time.date_time_of_this_service.date,
            cost=(
                None
                if amount is None
                else isoill.Amount(monetary_value=Decimal(amount), currency_code="USD")
            ),
        ),
        responder_note=None if amount is None else "PAYMENT=IFM / OCLC-ILLNUM=12345678",
    )


def test_receive_runs_every_check_with_the_configured_policies(tmp_path: Path) -> None:
    from isoill.mapping.receive_guard import LETTER_CASES
    from isoill.mapping.record import Stat
    from tests.mapping.support import GIF

    (tmp_path / "lenders.csv").write_text(POLICIES)
    config = RECORDS.replace("default = true\n", 'default = true\npolicies = "lenders.csv"\n', 1)
    oclc = FakePeer()
    gateway = GatewayProcess(tmp_path, config.format(port=oclc.port)).start()
    try:
        for record_id in ("ILL0001", "ILL0002"):
            assert gateway.http("/api/records", {**GIF, "ID": record_id})[0] == 201
            assert (
                gateway.http(f"/api/records/{record_id}/commands", {"command": "ORDER"})[0] == 200
            )
        link, first = oclc.receive()
        _, second = oclc.receive()
        assert isinstance(first, isoill.ILLRequest) and isinstance(second, isoill.ILLRequest)
        sent = {r.transaction_id.transaction_group_qualifier: r for r in (first, second)}
        link.send(_shipped(sent["ILL0001"], "15.00"))
        link.send(_shipped(sent["ILL0002"], "18.00"))
        _wait_for(gateway, "ILL0001", Stat.SHIPPED.value)
        _wait_for(gateway, "ILL0002", Stat.SHIPPED.value)

        # The policy's charge: RECEIVE without force, and the Received goes to OCLC.
        status, received = gateway.http("/api/records/ILL0001/commands", {"command": "RECEIVE"})
        assert status == 200, received
        assert received["record"]["STAT"] == Stat.ARRIVAL_PROCESSING.value
        assert isinstance(oclc.receive()[1], isoill.Received)

        # Another charge: refused by the policy's check (N-15/N-24), not for want of a policy.
        status, refused = gateway.http("/api/records/ILL0002/commands", {"command": "RECEIVE"})
        assert status == 409 and refused["reasons"][0].startswith("N-15/N-24: 請求額"), refused
        assert refused["reasons"][-1].startswith("対応: レコードは発送")
        bad = [
            {"force": True},
            {"force": "yes", "reason": "x"},
            {"policy": {"symbol": "PIT"}},
            {"shipped": {}},
        ]
        for options in bad:
            status, why = gateway.http(
                "/api/records/ILL0002/commands", {"command": "RECEIVE", "options": options}
            )
            assert status == 400, (options, why)
        # The letter to PIT, filled from its Shipped and its policy.
        status, letter = gateway.http("/api/records/ILL0002/letters/before-receive")
        assert status == 200, letter
        assert letter["contact"] == ["PIT <ill@pit.example.edu>"]
        text = letter["letter"]
        assert text.startswith("To: ill@pit.example.edu\n") and "USD 18.00" in text
        assert "OCLC ILL no.:    12345678" in text
        assert "Requested on:    not" not in text and "Shipped on:      not" not in text
        # Every case of the guide, from the Shipped OCLC sent, its guidance in both languages.
        for case in LETTER_CASES:
            query = "?problem=pages%2096-97%20missing" if case == "wrong-or-defective" else ""
            path = f"/api/records/ILL0002/letters/{case}{query}"
            status, ja = gateway.http(path)
            assert status == 200, (case, ja)
            assert "OCLC ILL no.:    12345678" in ja["letter"], case
            assert "Charge:          USD 18.00" in ja["letter"], case
            assert "Shipped on:      not" not in ja["letter"], case
            status, en = gateway.http(path, language="en")
            assert status == 200 and en["letter"] == ja["letter"], case
            assert en["what_to_do"][0].isascii() and not ja["what_to_do"].isascii(), case
            assert en["what_to_do"] != ja["what_to_do"], case
        status, none = gateway.http("/api/records/ILL0002/letters/nonsense")
        assert status == 400 and "レター文例の事例ではありません" in none["reasons"][0]
        status, made = gateway.http(
            "/api/records/ILL0002/dummy", {"oclc_number": "12345678", "lender_staff": "J. Smith"}
        )
        assert status == 200 and made["dummy"]["ARTCL"].startswith("This is the dummy"), made
        assert gateway.http("/api/records/ILL0002/dummy", {"oclc_number": "1"})[0] == 400
        forced = {"force": True, "reason": "PIT agreed USD 18.00 by e-mail"}
        status, after = gateway.http(
            "/api/records/ILL0002/commands", {"command": "RECEIVE", "options": forced}
        )
        assert status == 200, after
        user = gateway.operator()[0]
        assert after["history"][-1].startswith("FORCED RECEIVE ")
        assert (
            f"by {user}: PIT agreed USD 18.00 by e-mail / overridden: N-15/N-24"
            in (after["history"][-1])
        )
        assert any(
            "forced by" in str(r.get("log_format", "")) and r.get("by") == user
            for r in gateway.log_records()
        )
    finally:
        gateway.stop()
        oclc.close()


# The OCLC library connects to the gateway, and is answered on its own association.
LENDING = RECORDS.replace('connect = "tcp:host=127.0.0.1:port={port}"\n', "")


def test_the_japanese_lender_edits_sum_and_sdate_then_sends(tmp_path: Path) -> None:
    """The lender side: ORDER from an OCLC library -> RECEIVE -> PATCH SUM/SDATE -> SEND
    (Shipped to OCLC) -> OCLC's Received lands on the record."""
    from urllib.parse import quote

    from isoill.mapping.record import Stat

    gateway = GatewayProcess(tmp_path, LENDING).start()
    pit = isoill.SystemId.institution("OCLC:PIT")
    parties = {"requester_id": pit, "responder_id": isoill.SystemId.institution("NACSIS:FA1")}
    tid = isoill.TransactionId(
        initial_requester_id=pit, transaction_group_qualifier="OCLC", transaction_qualifier="9"
    )
    copy = request(service=ILLServiceType.COPY_NON_RETURNABLE, copyright_compliance="ccg")
    ask = dataclasses.replace(copy, transaction_id=tid, **parties)
    borrower = Side(Role.REQUESTER, ask.transaction_id)
    oclc = _asked(gateway, borrower, ask)
    try:
        record_id = ask.transaction_id.transaction_group_qualifier
        path = f"/api/records/{quote(record_id, safe='')}"
        status, arrived = gateway.http(path)
        assert status == 200 and arrived["record"]["STAT"] == Stat.UNPROCESSED.value, arrived
        assert gateway.http(f"{path}/commands", {"command": "RECEIVE"})[0] == 200
        status, unsent = gateway.http(f"{path}/commands", {"command": "SEND"})
        assert status == 409 and any(r.startswith("SUM:") for r in unsent["reasons"]), unsent
        status, wrong = gateway.http(path, {"ID": "X"}, method="PATCH")
        # The records network answers staff in Japanese first.
        assert status == 400 and wrong["reasons"] == [
            "ID: システムが設定する項目で、編集できません"
        ]
        supply = {"SUM": "15.00", "CCODE": "USD", "SDATE": "20261102", "CMMNT": "PAYMENT=IFM"}
        status, edited = gateway.http(path, supply, method="PATCH")
        assert status == 200, edited
        assert edited["history"][-1].endswith(": CCODE, CMMNT, SDATE, SUM")
        status, sent = gateway.http(f"{path}/commands", {"command": "SEND"})
        assert status == 200 and sent["record"]["STAT"] == Stat.SHIPPED.value, sent
        shipped = borrower.got(oclc.receive())
        assert isinstance(shipped, isoill.Shipped)
        cost = shipped.supply_details.cost
        assert cost is not None and str(cost.monetary_value) == "15.00"
        assert shipped.supply_details.date_shipped == date(2026, 11, 2)
        status, late = gateway.http(path, {"SUM": "18.00"}, method="PATCH")
        assert status == 400 and late["reasons"][0].startswith("SUM: 提供データ")
        received = isoill.Received(
            transaction_id=tid,
            service_date_time=ask.service_date_time,
            **parties,
            date_received=date(2026, 11, 9),
            shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE,
        )
        oclc.send(borrower.sent(received))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            _, record = gateway.http(path)
            if record["state"] == "RECEIVED":
                break
            time.sleep(0.1)
        assert record["state"] == "RECEIVED"
        assert any(line.startswith("APDU=Received OCLC") for line in record["history"])
        # The borrower has the copy: the lender's side ends at 確認 (final for copies).
        assert record["record"]["STAT"] == Stat.CONFIRMED.value, record
    finally:
        oclc.close()
        gateway.stop()
