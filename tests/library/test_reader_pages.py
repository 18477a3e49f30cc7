"""The reader and staff pages over plain HTTP, against a real gateway process: the
protections a browser test does not show (CSRF, Origin, cookies, login throttling, hashed
passwords, open redirects, sessions ended at logout), the accounts rules of the CALIS modes,
the CALIS e-mail mode's one recipient, and staff answering an ISO ILL peer from their page.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import isoill
from isoill.apdu.enums import ILLServiceType, ReasonUnfilled, TransactionResults
from isoill.machine import Role, State
from isoill.mapping.reader_form import read_form, to_request
from tests.gateway.support import Connection, FakePeer, GatewayProcess, Side, free_port
from tests.library.support import FORM as FULL_FORM
from tests.library.support import Client

CONFIG = """
[gateway]
open = false

[retry]
first = 0.2

[mail]
address = "ill@thu.example"
relay = "tcp:host=127.0.0.1:port={dead}"

[[network]]
name = "thu"
kind = "library"
symbol = "CALIS:THU"
label = "清华大学图书馆"
staff_email = "ill-staff@thu.example"

[[network]]
name = "centre"
kind = "library"
symbol = "CALIS:CENTRE"
label = "CALIS 馆际互借中心"
mode = "central"
staff_email = "ill@calis.example"
members = [{{ symbol = "CALIS:M1", label = "成员馆一" }}, {{ symbol = "CALIS:M2" }}]

[[network]]
name = "group"
kind = "library"
symbol = "CALIS:GROUP"
mode = "central"
accounts = "group"
members = [{{ symbol = "CALIS:G1" }}, {{ symbol = "CALIS:G2" }}]

[[network]]
name = "calis"
kind = "iso"

[[peer]]
name = "pku"
network = "calis"
symbols = ["CALIS:PKU"]
label = "北京大学图书馆"
connect = "tcp:host=127.0.0.1:port={pku}"
"""

FORM = {
    "service": "copy",
    "document_type": "journal-article",
    "title": "Interlending & Document Supply",
    "article_title": "Licence to Deny?",
    "issn": "0264-1615",
    "cost_limit": "30",
    "name": "王五",
    "email": "wangwu@example.edu.cn",
    "phone": "010-62780000",
}


@pytest.fixture
def pku() -> Iterator[FakePeer]:
    """Peking University's ILL system, where the gateway calls it."""
    peer = FakePeer()
    yield peer
    peer.close()


@pytest.fixture
def gateway(tmp_path: Path, pku: FakePeer) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path, CONFIG.format(dead=free_port(), pku=pku.port)).start()
    process.add_staff("thu-staff", "thu", "staff-secret-1")
    process.add_staff("centre-staff", "centre", "staff-secret-2")
    process.add_staff("m1-staff", "centre", "staff-secret-3", member="CALIS:M1")
    process.add_staff("group-staff", "group", "staff-secret-4")
    try:
        yield process
    finally:
        process.stop()


def store_rows(gateway: GatewayProcess, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(gateway.workdir / "isoill-gateway.db") as db:
        return list(db.execute(sql))


def confirmed_reader(gateway: GatewayProcess, library: str, username: str) -> Client:
    """A reader registered, confirmed by the library's staff and logged in."""
    reader = Client(gateway)
    assert reader.register(library, username, "reader-pass-1") == 200
    staff = Client(gateway)
    assert staff.log_in("staff", "thu", "thu-staff", "staff-secret-1")[0] == 200
    staff.get("/staff/")
    status, page, _ = staff.post(f"/staff/accounts/{username}/confirm", {})
    assert status == 200 and "帐户已确认" in page
    assert reader.log_in("reader", library, username, "reader-pass-1")[0] == 200
    return reader


def test_posts_need_the_csrf_token_and_a_same_site_origin(gateway: GatewayProcess) -> None:
    client = Client(gateway)
    client.get("/reader/")
    login = {"library": "thu", "username": "nobody", "password": "whatever-1"}
    assert client.post("/reader/login", login, csrf=False)[0] == 403
    assert client.post("/reader/login", {**login, "csrf": "forged-token-forged"})[0] == 403
    # A cross-site page posting with a token it somehow had is refused all the same.
    client.get("/reader/")
    status, _, _ = client.post("/reader/login", login, headers={"Origin": "http://evil.example"})
    assert status == 403
    # Not a form post at all.
    request = urllib.request.Request(
        client.base + "/reader/login", data=b"{}", headers={"Content-Type": "application/json"}
    )
    assert client._open(request)[0] == 400

    reader = confirmed_reader(gateway, "thu", "wangwu")
    reader.get("/reader/request")
    assert reader.post("/reader/request", FORM, csrf=False)[0] == 403
    # The anonymous token is not the session's: a logged-in form needs the session's own.
    anonymous = reader.cookie("isoill_csrf")
    assert anonymous is not None and anonymous.value
    assert reader.post("/reader/request", {**FORM, "csrf": anonymous.value})[0] == 403
    assert store_rows(gateway, "SELECT count(*) FROM legs WHERE network = 'thu'") == [(0,)]
    status, _page, url = reader.post("/reader/request", FORM)
    assert status == 200 and url.endswith("/reader/requests?done=submitted&n=1"), url


def test_sessions_cookies_and_passwords(gateway: GatewayProcess) -> None:
    reader = confirmed_reader(gateway, "thu", "wangwu")
    session = reader.cookie("isoill_reader")
    assert session is not None
    assert session.path == "/reader/" and session.has_nonstandard_attr("HttpOnly")
    assert (session.get_nonstandard_attr("SameSite") or "").lower() == "lax"
    # The store keeps neither the password nor the session token, only their hashes.
    ((body,),) = store_rows(gateway, "SELECT body FROM accounts WHERE username = 'wangwu'")
    assert isinstance(body, str)
    stored = json.loads(body)["password"]
    assert stored.startswith("scrypt$32768$8$1$") and "reader-pass-1" not in body
    keys = [row[0] for row in store_rows(gateway, "SELECT skey FROM sessions")]
    assert session.value not in keys and len(keys) >= 2
    # A reader's session is no staff login, and the other way round.
    thief = Client(gateway)
    thief.jar.set_cookie(
        http.cookiejar.Cookie(
            0,
            "isoill_staff",
            session.value,
            None,
            False,
            "127.0.0.1",
            False,
            False,
            "/staff/",
            True,
            False,
            None,
            False,
            None,
            None,
            {},
        )
    )
    _, page, _ = thief.get("/staff/")
    assert "馆员登录" in page and "待确认的帐户" not in page
    # Logging out ends the session in the store: the old cookie is worth nothing.
    reader.get("/reader/requests")
    _, _, url = reader.post("/reader/logout", {})
    assert url.endswith("/reader/")
    replay = Client(gateway)
    replay.jar.set_cookie(session)
    _status, _, url = replay.get("/reader/requests")
    assert "/reader/?next=" in url


def test_wrong_passwords_hold_the_login_and_next_stays_on_the_site(
    gateway: GatewayProcess,
) -> None:
    reader = confirmed_reader(gateway, "thu", "wangwu")
    # next= is followed to the site's own pages only.
    client = Client(gateway)
    client.get("/reader/?next=http://evil.example/steal")
    status, _, url = client.post(
        "/reader/login",
        {
            "library": "thu",
            "username": "wangwu",
            "password": "reader-pass-1",
            "next": "http://evil.example/steal",
        },
    )
    assert urllib.parse.urlsplit(url).netloc == urllib.parse.urlsplit(client.base).netloc
    assert urllib.parse.urlsplit(url).path == "/reader/"
    del reader
    guesser = Client(gateway)
    for _ in range(5):
        status, url = guesser.log_in("reader", "thu", "wangwu", "not-the-password")
        assert status == 401 and "用户名或密码错误" in guesser.page
    # Held now, even with the right password; an unknown name costs as much and says the same.
    status, _ = guesser.log_in("reader", "thu", "wangwu", "reader-pass-1")
    assert status == 401 and "登录失败次数过多" in guesser.page
    started = time.monotonic()
    status, _ = guesser.log_in("reader", "thu", "nobody-here", "not-the-password")
    assert status == 401 and "用户名或密码错误" in guesser.page
    assert time.monotonic() - started > 0.02  # scrypt ran: timing tells no names


def test_registration_problems_are_listed_and_names_are_unique(gateway: GatewayProcess) -> None:
    client = Client(gateway)
    client.get("/reader/register?library=thu")
    status, page, _ = client.post(
        "/reader/register",
        {
            "library": "thu",
            "username": "x",
            "password": "short",
            "password2": "other",
            "name": "",
            "email": "not-mail",
        },
    )
    assert status == 400
    for field in ("用户名: ", "密码: ", "确认密码: ", "姓名: ", "电子信箱格式不正确"):
        assert field in page
    assert Client(gateway).register("thu", "wangwu", "reader-pass-1") == 200
    again = Client(gateway)
    assert again.register("thu", "wangwu", "reader-pass-2") == 409
    assert "已被使用" in again.page
    # The account waits, and the reader's and the staff's notices are queued in the same commit.
    rows = store_rows(gateway, "SELECT peer, data FROM outbox WHERE network = 'mail'")
    assert sorted(peer for peer, _ in rows) == [
        "mail:ill-staff@thu.example",
        "mail:wangwu@example.edu.cn",
    ]
    assert Client(gateway).log_in("reader", "thu", "wangwu", "reader-pass-1")[0] == 401


def test_central_mode_members_confirm_their_own_readers_and_the_centre_the_groups(
    gateway: GatewayProcess,
) -> None:
    client = Client(gateway)
    # Individual mode: the member library is required.
    assert client.register("centre", "nomember", "reader-pass-1") == 400
    assert "所属成员馆: " in client.page
    assert client.register("centre", "reader-m1", "reader-pass-1", member="CALIS:M1") == 200
    assert client.register("centre", "reader-m2", "reader-pass-1", member="CALIS:M2") == 200
    m1 = Client(gateway)
    assert m1.log_in("staff", "centre", "m1-staff", "staff-secret-3")[0] == 200
    status, page, _ = m1.get("/staff/")
    assert "reader-m1" in page and "reader-m2" not in page
    assert m1.post("/staff/accounts/reader-m2/confirm", {})[0] == 409
    assert m1.post("/staff/accounts/reader-m1/confirm", {})[0] == 200
    centre = Client(gateway)
    assert centre.log_in("staff", "centre", "centre-staff", "staff-secret-2")[0] == 200
    centre.get("/staff/")
    assert centre.post("/staff/accounts/reader-m2/confirm", {})[0] == 200
    # Group mode: one account per member library, the centre's to confirm.
    assert client.register("group", "g1-library", "group-pass-1", member="CALIS:G1") == 200
    ((body,),) = store_rows(gateway, "SELECT body FROM accounts WHERE username = 'g1-library'")
    assert isinstance(body, str) and json.loads(body)["role"] == "group"
    group_staff = Client(gateway)
    assert group_staff.log_in("staff", "group", "group-staff", "staff-secret-4")[0] == 200
    group_staff.get("/staff/")
    assert group_staff.post("/staff/accounts/g1-library/confirm", {})[0] == 200
    # The group account submits over the API and sees only its own requests.
    form = {**FORM, "holding_library": "CALIS:PKU"}
    auth = ("g1-library", "group-pass-1")
    status, made = gateway.http("/api/libraries/group/requests", {"form": form}, auth)
    assert status == 201, made
    status, listed = gateway.http("/api/libraries/group/requests", auth=auth)
    assert status == 200 and [r["number"] for r in listed] == [made["number"]]
    # Another member library's group account sees none of them.
    assert client.register("group", "g2-library", "group-pass-2", member="CALIS:G2") == 200
    assert group_staff.post("/staff/accounts/g2-library/confirm", {})[0] == 200
    g2 = ("g2-library", "group-pass-2")
    assert gateway.http("/api/libraries/group/requests", auth=g2) == (200, [])
    assert gateway.http(f"/api/libraries/group/requests/{made['number']}", auth=g2)[0] == 404
    # Staff of the group centre see them all.
    status, listed = gateway.http(
        "/api/libraries/group/requests", auth=("group-staff", "staff-secret-4")
    )
    assert [r["number"] for r in listed] == [made["number"]]
    other = ("reader-m1", "reader-pass-1")
    assert gateway.http(f"/api/libraries/centre/requests/{made['number']}", auth=other)[0] == 404
    assert gateway.http(f"/api/libraries/group/requests/{made['number']}", auth=other)[0] == 401


def test_email_mode_mails_only_the_readers_own_library(gateway: GatewayProcess) -> None:
    anonymous = Client(gateway)
    anonymous.get("/reader/email")
    status, page, _ = anonymous.post("/reader/email", {**FORM, "to_library": "thu"})
    assert status == 200 and "已发送" in page
    reader = confirmed_reader(gateway, "thu", "wangwu")
    reader.get("/reader/email")
    status, page, _ = reader.post("/reader/email", {**FORM, "to_library": "centre"})
    assert status == 403 and "只能发送给本馆" in page
    # The requests' mails; staff are also told of the reader's registration.
    rows = store_rows(
        gateway, "SELECT peer FROM outbox WHERE network = 'mail' AND tkey NOT LIKE 'account|%'"
    )
    staff_mails = [peer for (peer,) in rows if peer.startswith("mail:ill")]  # type: ignore[union-attr]
    assert staff_mails == ["mail:ill-staff@thu.example"]
    # A stranger cannot mail the staff without end: 20 an hour from one address.
    for _ in range(19):
        anonymous.get("/reader/email")
        assert anonymous.post("/reader/email", {**FORM, "to_library": "thu"})[0] == 200
    anonymous.get("/reader/email")
    status, page, _ = anonymous.post("/reader/email", {**FORM, "to_library": "thu"})
    assert status == 429 and "过多" in page
    rows = store_rows(
        gateway,
        "SELECT count(*) FROM outbox WHERE peer = 'mail:ill-staff@thu.example'"
        " AND tkey NOT LIKE 'account|%'",
    )
    assert rows == [(20,)]


def wait_for(connection: Connection, kind: type[isoill.APDU]) -> isoill.APDU:
    deadline = time.monotonic() + 15
    while True:
        apdu = connection.receive(timeout=max(0.1, deadline - time.monotonic()))
        if isinstance(apdu, kind):
            return apdu


def test_staff_ship_and_refuse_requests_from_an_iso_peer(gateway: GatewayProcess) -> None:
    pku = Connection.to(gateway.ill_port)
    requests = []
    for n in (1, 2):
        ask = isoill.ILLRequest(
            transaction_id=isoill.TransactionId(
                initial_requester_id=isoill.SystemId.institution("CALIS:PKU"),
                transaction_group_qualifier="PKU",
                transaction_qualifier=f"PKU-{n}",
            ),
            requester_id=isoill.SystemId.institution("CALIS:PKU"),
            responder_id=isoill.SystemId.institution("CALIS:THU"),
            ill_service_type=(ILLServiceType.COPY_NON_RETURNABLE,),
            item_id=isoill.ItemId(title=f"Interlending & Document Supply {n}", issn="02641615"),
            requester_note="从CCC检索到的文献!",
        )
        side = Side(Role.REQUESTER, ask.transaction_id)
        pku.send(side.sent(ask))
        side.got(wait_for(pku, isoill.StatusOrErrorReport))
        requests.append((ask, side))
    staff = Client(gateway)
    assert staff.log_in("staff", "thu", "thu-staff", "staff-secret-1")[0] == 200
    status, page, _ = staff.get("/staff/")
    assert "待处理外馆请求" in page and "从CCC检索到的文献!" in page
    keys = re.findall(r'action="/staff/supply/([^"/]+)/ship"', page)
    assert len(keys) == 2
    by_title = {n: next(k for k in keys if f"PKU-{n}" in urllib.parse.unquote(k)) for n in (1, 2)}
    status, page, _ = staff.post(
        f"/staff/supply/{by_title[1]}/ship", {"total_cost": "12.5", "note": "已扫描"}
    )
    assert status == 200 and "已运送" in page
    # The request's page keeps its history: every message of the transaction, both ways.
    history = staff.get(f"/staff/supply/{by_title[1]}")[1]
    assert "处理记录" in history
    assert history.index("收到: 馆际互借请求") < history.index("发出: 已运送")
    english = staff.get(f"/staff/supply/{by_title[1]}?lang=en")[1]
    assert "received: ILL request" in english and "sent: shipped" in english
    staff.get("/staff/?lang=zh")  # back to Chinese for what follows
    shipped = wait_for(pku, isoill.Shipped)
    assert isinstance(shipped, isoill.Shipped)
    requests[0][1].got(shipped)
    cost = shipped.supply_details.cost
    assert cost is not None and cost.monetary_value == Decimal("12.50")
    assert cost.currency_code == "CNY"
    status, page, _ = staff.post(
        f"/staff/supply/{by_title[2]}/unfillable", {"reason": "not-owned", "note": "本馆无此刊"}
    )
    assert status == 200
    answer = wait_for(pku, isoill.ILLAnswer)
    assert isinstance(answer, isoill.ILLAnswer)
    requests[1][1].got(answer)
    assert answer.transaction_results is TransactionResults.UNFILLED
    assert isinstance(answer.results_explanation, isoill.UnfilledResults)
    assert answer.results_explanation.reason_unfilled is ReasonUnfilled.NOT_OWNED
    assert requests[1][1].txn.state is State.NOT_SUPPLIED
    listed = staff.get("/staff/")[1]
    assert "无法满足 (unfilled): 本馆未收藏 (not-owned) (本馆无此刊)" in listed
    assert "无法满足 (无法满足" not in listed
    # Acting twice on one request, or with a reason that is none, is refused.
    assert staff.post(f"/staff/supply/{by_title[1]}/ship", {"total_cost": "1"})[0] == 409
    assert staff.post(f"/staff/supply/{by_title[2]}/ship", {"total_cost": "-1"})[0] == 409
    pku.close()


@pytest.mark.parametrize("service", ["copy", "loan"])
def test_distributed_mode_staff_send_on_and_record_receipt(
    gateway: GatewayProcess, pku: FakePeer, service: str
) -> None:
    reader = confirmed_reader(gateway, "thu", "wangwu")
    reader.get("/reader/request")
    form = {**FORM, "holding_library": "CALIS:PKU", "service": service}
    if service == "loan":
        form.update(document_type="book", article_title="")
    status, page, _ = reader.post("/reader/request", form)
    assert status == 200 and "用户申请尚未处理" in page
    staff = Client(gateway)
    staff.log_in("staff", "thu", "thu-staff", "staff-secret-1")
    status, page, _ = staff.get("/staff/")
    assert 'id="send-1"' in page and 'value="CALIS:PKU"' in page
    status, page, _ = staff.post("/staff/requests/1/send", {"suppliers": "CALIS:PKU"})
    assert status == 200 and "已发送至提供馆" in page
    connection, ask = pku.receive(timeout=15)
    assert isinstance(ask, isoill.ILLRequest)
    assert ask.requester_id is not None and ask.requester_id.symbol == "CALIS:THU"
    assert ask.item_id.title == FORM["title"]
    side = Side(Role.RESPONDER, ask.transaction_id)
    side.got(ask)
    connection.send(
        side.sent(
            isoill.Shipped(
                transaction_id=ask.transaction_id,
                requester_id=ask.requester_id,
                responder_id=ask.responder_id,
                shipped_service_type=(
                    ILLServiceType.LOAN if service == "loan" else ILLServiceType.COPY_NON_RETURNABLE
                ),
                supply_details=isoill.SupplyDetails(
                    cost=isoill.Amount(monetary_value=Decimal("8"), currency_code="CNY"),
                    date_due=(
                        isoill.DateDue(date_due_field=date(2027, 1, 31))
                        if service == "loan"
                        else None
                    ),
                ),
            )
        )
    )
    deadline = time.monotonic() + 15
    while 'id="received-1"' not in staff.get("/staff/")[1]:
        assert time.monotonic() < deadline, "the Shipped never reached the staff page"
        time.sleep(0.2)
    status, page, _ = staff.post("/staff/requests/1/received", {})
    assert status == 200
    _, received = pku.receive(timeout=15)
    side.got(received)
    assert side.txn.state is State.RECEIVED
    status, page, _ = reader.get("/reader/requests")
    assert "已收到" in page and "8.00" in page
    # A reader's request is staff's to send, not the reader's to cancel, once it has gone.
    assert reader.post("/reader/requests/1/cancel", {})[0] == 409
    page = staff.get("/staff/")[1]
    if service == "copy":
        assert 'id="returned-1"' not in page
        assert 'id="renew"' not in reader.get("/reader/requests/1")[1]
        assert reader.post("/reader/requests/1/renew", {})[0] == 409
        return
    # A loan goes back to the supplier from the staff page; the reader sees its return date.
    assert "2027-01-31" in reader.get("/reader/requests")[1]
    # The reader asks for more time from their request's page.
    assert 'id="renew"' in reader.get("/reader/requests/1")[1]
    status, page, _ = reader.post("/reader/requests/1/renew", {})
    assert status == 200 and "续借申请已发送至文献提供馆" in page
    _, renew = pku.receive(timeout=15)
    assert isinstance(renew, isoill.Renew)
    side.got(renew)
    status, page, _ = staff.post("/staff/requests/1/returned", {"via": "EMS"})
    assert status == 200 and "已归还" in page
    _, returned = pku.receive(timeout=15)
    assert isinstance(returned, isoill.Returned) and returned.returned_via == "EMS"
    side.got(returned)
    assert side.txn.state is State.RETURNED
    assert staff.post("/staff/requests/1/returned", {})[0] == 409


def pku_asks(
    gateway: GatewayProcess, fields: dict[str, str], qualifier: str
) -> tuple[Connection, Side, isoill.ILLRequest]:
    """Peking University asks THU for a reader's form, as a CALIS gateway would send it;
    the gateway has acknowledged it."""
    tid = isoill.TransactionId(
        initial_requester_id=isoill.SystemId.institution("CALIS:PKU"),
        transaction_group_qualifier="PKU",
        transaction_qualifier=qualifier,
    )
    ask = to_request(
        read_form(fields, today=date.today()),
        transaction_id=tid,
        requester=isoill.SystemId.institution("CALIS:PKU"),
        responder=isoill.SystemId.institution("CALIS:THU"),
        at=datetime.now(UTC),
        deliver_to_reader=True,
    )
    pku = Connection.to(gateway.ill_port)
    side = Side(Role.REQUESTER, ask.transaction_id)
    pku.send(side.sent(ask))
    side.got(wait_for(pku, isoill.StatusOrErrorReport))
    return pku, side, ask


def test_staff_see_every_field_of_a_readers_request_and_of_a_request_to_supply(
    gateway: GatewayProcess,
) -> None:
    reader = confirmed_reader(gateway, "thu", "wangwu")
    reader.get("/reader/request")
    full = {
        **FULL_FORM,
        "urgency": "urgent",
        "valid_until": "2099-12-31",
        "holding_library": "CALIS:PKU",
        "language": "英语",
    }
    assert reader.post("/reader/request", full)[0] == 200
    staff = Client(gateway)
    staff.log_in("staff", "thu", "thu-staff", "staff-secret-1")
    assert 'href="/staff/requests/1"' in staff.get("/staff/")[1]
    status, page, _ = staff.get("/staff/requests/1")
    assert status == 200
    for shown in (
        "复制(非返还)",
        "Licence to Deny?",
        "32(2)",
        "94-101",
        "0264-1615",
        "电子邮件",
        "北京市海淀区清华园1号",
        "zhangsan@example.edu.cn",
        "010-62780000",
        "加急",
        "50.00",
        "2099-12-31",
        "用户申请尚未处理",
        "提交申请",
        'id="send-1"',
        "wangwu@example.edu.cn",  # the reader's account, besides the form
        "英语 (eng)",  # the language the reader typed, with the code it is kept as
    ):
        assert shown in page, shown
    assert "cost_limit" not in page and "transaction-id" not in page
    assert "submitted" not in page  # the history in Chinese
    english = staff.get("/staff/requests/1?lang=en")[1]
    assert "Cost limit" in english and "English (eng)" in english
    # Another reader's request number, or one that is none, is not found.
    assert staff.get("/staff/requests/2?lang=zh")[0] == 404
    # What another library asks this one to supply: urgency and the cost limit come with it.
    pku, _, _ = pku_asks(gateway, full, "PKU-9")
    page = staff.get("/staff/")[1]
    keys = re.findall(r'href="/staff/supply/([^"/]+)"', page)
    assert len(keys) == 1 and "事务号" in page
    status, page, _ = staff.get(f"/staff/supply/{keys[0]}")
    assert status == 200
    for shown in ("CALIS:PKU", "加急", "50.00", "北京市海淀区清华园1号", "0264-1615", "运送"):
        assert shown in page, shown
    assert staff.get("/staff/supply/CALIS%3APKU%2Fnone")[0] == 404
    pku.close()


def submitted_for_staff(
    gateway: GatewayProcess, form: dict[str, str] = FORM
) -> tuple[Client, Client]:
    """Reader wangwu's request 1 (:data:`FORM` unless ``form``), and THU's staff logged in
    on its page, to send it on."""
    reader = confirmed_reader(gateway, "thu", "wangwu")
    reader.get("/reader/request")
    assert reader.post("/reader/request", form)[0] == 200
    staff = Client(gateway)
    staff.log_in("staff", "thu", "thu-staff", "staff-secret-1")
    staff.get("/staff/requests/1")
    return reader, staff


def test_staff_pick_the_supplier_from_those_the_gateway_reaches(
    gateway: GatewayProcess, pku: FakePeer
) -> None:
    """The reader names the holding library as the seed's form shows it, by its name: the
    send form offers it by its symbol, which the desk takes, under a visible label."""
    _, staff = submitted_for_staff(gateway, {**FORM, "holding_library": "北京大学图书馆"})
    page = staff.get("/staff/requests/1")[1]
    assert '<label for="suppliers-1">文献提供馆</label>' in page
    assert 'value="CALIS:PKU"' in page and 'list="suppliers-of-1"' in page
    assert '<option value="CALIS:PKU">北京大学图书馆 (CALIS:PKU)</option>' in page
    status, page, _ = staff.post("/staff/requests/1/send", {"suppliers": "CALIS:PKU"})
    assert status == 200 and "申请已发送至文献提供馆" in page
    _, ask = pku.receive(timeout=15)
    assert isinstance(ask, isoill.ILLRequest)


def test_a_mistyped_supplier_is_shown_on_the_form_and_nothing_is_sent(
    gateway: GatewayProcess, pku: FakePeer
) -> None:
    reader, staff = submitted_for_staff(gateway)
    status, page, _ = staff.post("/staff/requests/1/send", {"suppliers": "CALIS:PKX"})
    assert status == 409
    assert "CALIS:PKX 不是已配置的文献提供馆" in page and 'value="CALIS:PKX"' in page
    assert "用户申请尚未处理" in page and "申请已发送至文献提供馆" not in page
    status, page, _ = staff.post("/staff/requests/1/send?lang=en", {"suppliers": "CALIS:THU"})
    assert status == 409 and "CALIS:THU" in page and "this library itself" in page
    time.sleep(0.5)
    assert pku.inbox.empty()
    assert "用户申请尚未处理" in reader.get("/reader/requests/1")[1]
    status, page, _ = staff.post("/staff/requests/1/send?lang=zh", {"suppliers": "CALIS:PKU"})
    assert status == 200 and "申请已发送至文献提供馆" in page
    _, ask = pku.receive(timeout=15)
    assert isinstance(ask, isoill.ILLRequest)


def test_a_fee_above_the_limit_goes_to_the_requester_before_it_is_shipped(
    gateway: GatewayProcess,
) -> None:
    pku, side, ask = pku_asks(gateway, FULL_FORM, "PKU-60")  # cost limit 50
    staff = Client(gateway)
    staff.log_in("staff", "thu", "thu-staff", "staff-secret-1")
    (key,) = re.findall(r'href="/staff/supply/([^"/]+)"', staff.get("/staff/")[1])
    staff.get(f"/staff/supply/{key}")
    status, page, _ = staff.post(f"/staff/supply/{key}/ship", {"total_cost": "60"})
    assert status == 409
    assert "总费用 60.00 元超过读者的费用限制 50.00 元" in page
    assert f'action="/staff/supply/{key}/conditional"' in page and 'value="60"' in page
    status, page, _ = staff.post(f"/staff/supply/{key}/conditional", {"total_cost": "60"})
    assert status == 200 and "已发有条件答复" in page
    answer = wait_for(pku, isoill.ILLAnswer)
    assert isinstance(answer, isoill.ILLAnswer)
    side.got(answer)
    assert answer.transaction_results is TransactionResults.CONDITIONAL
    assert answer.responder_note is not None and "60.00" in answer.responder_note
    # Not shipped while the requester has not replied.
    assert staff.post(f"/staff/supply/{key}/ship", {"total_cost": "60"})[0] == 409
    reply = isoill.ConditionalReply(
        transaction_id=ask.transaction_id,
        requester_id=ask.requester_id,
        responder_id=ask.responder_id,
        answer=True,
    )
    pku.send(side.sent(reply))
    deadline = time.monotonic() + 15
    while f"/staff/supply/{key}/ship" not in staff.get(f"/staff/supply/{key}")[1]:
        assert time.monotonic() < deadline, "the Conditional-Reply never reached the page"
        time.sleep(0.2)
    assert "请求馆已接受条件, 可按 60.00 元运送" in staff.get(f"/staff/supply/{key}")[1]
    status, page, _ = staff.post(f"/staff/supply/{key}/ship", {"total_cost": "60"})
    assert status == 200
    shipped = wait_for(pku, isoill.Shipped)
    assert isinstance(shipped, isoill.Shipped)
    side.got(shipped)
    cost = shipped.supply_details.cost
    assert cost is not None and cost.monetary_value == Decimal("60.00")
    pku.close()
