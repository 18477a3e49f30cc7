"""Managing one's own account over plain HTTP, against a real gateway process whose mail
goes to an SMTP server on loopback: the profile, a password change that needs the current
password, and a reset by the mailed one-time link (single use, throttled, the same answer
for accounts that do not exist), for readers and staff."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from twisted.web.test.requesthelper import DummyRequest

from isoill.library.account_pages import _local_origin
from tests.gateway.support import GatewayProcess
from tests.library.support import FORM, Client, MailSink

CONFIG = """
[gateway]
open = false

[retry]
first = 0.2

[mail]
address = "ill@thu.example"
relay = "tcp:host=127.0.0.1:port={smtp}"

[[network]]
name = "thu"
kind = "library"
symbol = "CALIS:THU"
label = "清华大学图书馆"
staff_email = "ill-staff@thu.example"
url = "https://ill.lib.example"
"""

STAFF = ("thu-staff", "staff-secret-1")


@pytest.fixture
def mails() -> Iterator[MailSink]:
    sink = MailSink()
    yield sink
    sink.close()


@pytest.fixture
def gateway(tmp_path: Path, mails: MailSink) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path, CONFIG.format(smtp=mails.port)).start()
    process.add_staff(STAFF[0], "thu", STAFF[1])
    try:
        yield process
    finally:
        process.stop()


def confirmed_reader(gateway: GatewayProcess, username: str, password: str) -> Client:
    """A reader registered, confirmed by staff and logged in."""
    reader = Client(gateway)
    assert reader.register("thu", username, password) == 200
    staff = Client(gateway)
    assert staff.log_in("staff", "thu", *STAFF)[0] == 200
    staff.get("/staff/")
    assert staff.post(f"/staff/accounts/{username}/confirm", {})[0] == 200
    assert reader.log_in("reader", "thu", username, password)[0] == 200
    return reader


def reset_link(mails: MailSink, count: int) -> str:
    """The link of the last reset notice among the first ``count`` mails."""
    found = [m for m in mails.wait(count) if "重设密码" in str(m["Subject"])]
    assert found, [str(m["Subject"]) for m in mails.messages]
    body = found[-1].get_payload(decode=True)
    assert isinstance(body, bytes)
    found = re.search(r"https://ill\.lib\.example(/\w+/reset\?\S+)", body.decode())
    assert found, body.decode()
    return found.group(1)


def test_a_password_change_needs_the_current_password(gateway: GatewayProcess) -> None:
    reader = confirmed_reader(gateway, "zhangsan", "reader-pass-1")
    status, page, _ = reader.get("/reader/password")
    assert status == 200 and "当前密码" in page
    new = {"password": "reader-pass-2", "password2": "reader-pass-2"}
    status, page, _ = reader.post("/reader/password", {"current": "wrong-pass", **new})
    assert status == 403 and "当前密码错误" in page
    status, page, _ = reader.post(
        "/reader/password", {"current": "reader-pass-1", "password": "a", "password2": "b"}
    )
    assert status == 400 and "密码: " in page and "确认密码: " in page
    status, page, url = reader.post("/reader/password", {"current": "reader-pass-1", **new})
    assert status == 200 and url.endswith("/reader/profile?done=password") and "密码已修改" in page
    assert Client(gateway).log_in("reader", "thu", "zhangsan", "reader-pass-1")[0] == 401
    assert Client(gateway).log_in("reader", "thu", "zhangsan", "reader-pass-2")[0] == 200
    # Staff change theirs the same way, on their own pages.
    staff = Client(gateway)
    staff.log_in("staff", "thu", *STAFF)
    staff.get("/staff/password")
    status, _, _ = staff.post(
        "/staff/password",
        {"current": STAFF[1], "password": "staff-secret-2", "password2": "staff-secret-2"},
    )
    assert status == 200
    assert Client(gateway).log_in("staff", "thu", STAFF[0], "staff-secret-2")[0] == 200


def test_the_profile_is_the_readers_to_edit(gateway: GatewayProcess) -> None:
    reader = confirmed_reader(gateway, "lisi", "reader-pass-1")
    status, page, _ = reader.get("/reader/profile")
    assert status == 200 and "个人管理" in page and "lisi@example.edu.cn" in page
    fields = {"name": "李四", "email": "not-mail", "phone": "010-1", "id_type": "", "id_number": ""}
    status, page, _ = reader.post("/reader/profile", fields)
    assert status == 400 and "电子信箱格式不正确" in page
    fields |= {"email": "lisi@tsinghua.edu.cn", "id_type": "借书证", "id_number": "2024001"}
    status, page, url = reader.post("/reader/profile", fields)
    assert status == 200 and url.endswith("done=profile") and "个人信息已保存" in page
    assert "lisi@tsinghua.edu.cn" in page and "2024001" in page
    # The user name is not the form's to change.
    reader.post("/reader/profile", {**fields, "username": "someone-else"})
    assert "lisi" in reader.get("/reader/profile")[1]
    assert reader.get("/reader/profile?lang=en")[1].count("My account") >= 1


def test_a_forgotten_password_is_reset_once_by_the_mailed_link(
    gateway: GatewayProcess, mails: MailSink
) -> None:
    old = confirmed_reader(gateway, "wangwu", "reader-pass-1")
    before = len(mails.wait(3))  # registration (the reader's, the staff's), confirmation
    stranger = Client(gateway)
    status, page, _ = stranger.get("/reader/forgot")
    assert status == 200 and "忘记密码" in page
    status, page, _ = stranger.post("/reader/forgot", {"library": "thu", "username": "wangwu"})
    assert status == 200 and "重设密码的链接已发送" in page
    path = reset_link(mails, before + 1)
    assert mails.messages[-1]["To"] == "wangwu@example.edu.cn"
    # An account that does not exist gets the same answer, and no mail.
    status, page, _ = stranger.post("/reader/forgot", {"library": "thu", "username": "nobody"})
    assert status == 200 and "重设密码的链接已发送" in page
    # A token that is not the mailed one sets nothing.
    forged = re.sub(r"token=[^&]+", "token=forged", path)
    stranger.get(forged)
    status, page, _ = stranger.post(
        "/reader/reset",
        {"library": "thu", "user": "wangwu", "token": "forged", "password": "reader-pass-9"}
        | {"password2": "reader-pass-9"},
    )
    assert status == 400 and "链接已失效" in page
    status, page, _ = stranger.get(path)
    assert status == 200 and "重设密码" in page
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token
    fields = {"library": "thu", "user": "wangwu", "token": token.group(1), "csrf": stranger.csrf()}
    new = {"password": "reader-pass-3", "password2": "reader-pass-3"}
    status, page, _ = stranger.post("/reader/reset", fields | new)
    assert status == 200 and "密码已重设" in page
    # Once only; the old password and the logins made with it are gone.
    status, page, _ = stranger.post("/reader/reset", fields | new)
    assert status == 400 and "链接已失效" in page
    assert old.get("/reader/requests")[2].endswith("/reader/?next=%2Freader%2Frequests")
    assert Client(gateway).log_in("reader", "thu", "wangwu", "reader-pass-1")[0] == 401
    assert Client(gateway).log_in("reader", "thu", "wangwu", "reader-pass-3")[0] == 200
    assert len(mails.messages) == before + 1


def test_reset_requests_are_throttled_and_staff_reset_theirs_too(
    gateway: GatewayProcess, mails: MailSink
) -> None:
    staff = Client(gateway)
    staff.get("/staff/forgot")
    statuses = [
        staff.post("/staff/forgot", {"library": "thu", "username": STAFF[0]})[0] for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    assert "重设密码申请过多" in staff.page
    # Staff accounts made by the operator have no address until they give one.
    assert mails.messages == []
    gateway.add_staff("thu-staff-2", "thu", "staff-secret-2")
    assert staff.log_in("staff", "thu", "thu-staff-2", "staff-secret-2")[0] == 200
    staff.get("/staff/profile")
    status, _, _ = staff.post("/staff/profile", {"name": "馆员", "email": "staff@thu.example"})
    assert status == 200
    staff.get("/staff/forgot")
    assert staff.post("/staff/forgot", {"library": "thu", "username": "thu-staff-2"})[0] == 200
    path = reset_link(mails, 1)
    assert path.startswith("/staff/reset?")
    page = staff.get(path)[1]
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token
    fields = {"library": "thu", "user": "thu-staff-2", "token": token.group(1)}
    new = {"password": "staff-secret-3", "password2": "staff-secret-3"}
    assert staff.post("/staff/reset", fields | new)[0] == 200
    assert Client(gateway).log_in("staff", "thu", "thu-staff-2", "staff-secret-3")[0] == 200


def test_staff_are_mailed_registrations_and_reject_disable_and_enable_accounts(
    gateway: GatewayProcess, mails: MailSink
) -> None:
    asker = Client(gateway)
    extra = {"id_type": "借书证", "id_number": "2024001"}
    assert asker.register("thu", "zhaoliu", "reader-pass-1", **extra) == 200
    told = [m for m in mails.wait(2) if m["To"] == "ill-staff@thu.example"]
    assert len(told) == 1 and "zhaoliu" in str(told[0]["Subject"])
    staff = Client(gateway)
    staff.log_in("staff", "thu", *STAFF)
    page = staff.get("/staff/")[1]
    assert "证件号码" in page and "2024001" in page and "借书证" in page
    status, page, _ = staff.post("/staff/accounts/zhaoliu/reject", {})
    assert status == 200 and "已拒绝该注册" in page and "2024001" not in page
    rejected = mails.wait(3)[2]
    assert rejected["To"] == "zhaoliu@example.edu.cn" and "未通过审核" in str(rejected["Subject"])
    assert Client(gateway).log_in("reader", "thu", "zhaoliu", "reader-pass-1")[0] == 401
    assert "未通过审核" in staff.get("/staff/accounts")[1]
    # Rejecting twice, or a confirmed account, is refused.
    assert staff.post("/staff/accounts/zhaoliu/reject", {})[0] == 409

    reader = confirmed_reader(gateway, "sunqi", "reader-pass-1")
    staff.get("/staff/accounts")
    status, page, _ = staff.post("/staff/accounts/sunqi/disable", {})
    assert status == 200 and "帐户已停用" in page
    assert "/reader/?next=" in reader.get("/reader/requests")[2]  # its login ended
    assert Client(gateway).log_in("reader", "thu", "sunqi", "reader-pass-1")[0] == 401
    page = staff.get("/staff/accounts")[1]
    assert "已停用" in page and 'id="enable-sunqi"' in page
    assert staff.post("/staff/accounts/sunqi/disable", {})[0] == 409
    status, page, _ = staff.post("/staff/accounts/sunqi/enable", {})
    assert status == 200 and "帐户已启用" in page
    assert Client(gateway).log_in("reader", "thu", "sunqi", "reader-pass-1")[0] == 200
    # Staff accounts are the operator's, not the desk's, to manage.
    assert staff.post(f"/staff/accounts/{STAFF[0]}/disable", {})[0] == 409
    assert staff.post("/staff/accounts/nobody/disable", {})[0] == 404


def test_a_reader_links_an_old_account_as_the_tsinghua_guide_describes(
    gateway: GatewayProcess,
) -> None:
    extra = {"id_type": "借书证", "id_number": "3245"}
    old = Client(gateway)
    assert old.register("thu", "illuserzj2", "old-pass-123", **extra) == 200
    staff = Client(gateway)
    staff.log_in("staff", "thu", *STAFF)
    staff.get("/staff/")
    staff.post("/staff/accounts/illuserzj2/confirm", {})
    assert old.log_in("reader", "thu", "illuserzj2", "old-pass-123")[0] == 200
    old.get("/reader/request")
    assert old.post("/reader/request", FORM)[0] == 200
    new = confirmed_reader(gateway, "zhoujie", "new-pass-123")
    assert "关联原有帐户" in new.get("/reader/profile")[1]
    status, page, _ = new.get("/reader/link")
    assert status == 200 and "请输入旧账户的用户名及密码" in page
    status, page, _ = new.post("/reader/link", {"username": "illuserzj2", "password": "wrong"})
    assert status == 403 and "用户名或密码错误" in page
    status, page, _ = new.post(
        "/reader/link", {"username": "illuserzj2", "password": "old-pass-123"}
    )
    assert status == 200 and "账户信息确认" in page and "3245" in page and "借书证" in page
    proof = dict(re.findall(r'name="(username|until|proof)" value="([^"]*)"', page))
    # The proof is this login's, for this account: changed, or from another login, it fails.
    forged = {**proof, "proof": "0" * 64}
    assert "确认已超时" in new.post("/reader/link/confirm", forged)[1]
    other = confirmed_reader(gateway, "qianba", "other-pass-1")
    other.get("/reader/link")
    assert other.post("/reader/link/confirm", proof)[0] == 403
    new.get("/reader/link")
    status, page, _ = new.post("/reader/link/confirm", proof)
    assert status == 200 and "关联成功" in page
    # Both are one: the old account logs in no more, its request shows under the new one.
    assert "/reader/?next=" in old.get("/reader/requests")[2]
    assert Client(gateway).log_in("reader", "thu", "illuserzj2", "old-pass-123")[0] == 401
    listed = new.get("/reader/requests")[1]
    assert "Interlending &amp; Document Supply" in listed
    number = re.search(r'href="/reader/requests/(\d+)"', listed)
    assert number and new.get(f"/reader/requests/{number.group(1)}")[0] == 200
    # ... and is the new account's to cancel (取消), not another reader's.
    assert f'id="cancel-{number.group(1)}"' in listed
    cancel = f"/reader/requests/{number.group(1)}/cancel"
    assert other.post(cancel, {})[0] == 404
    status, page, url = new.post(cancel, {})
    assert status == 200 and url.endswith("/reader/requests?done=cancelled"), url
    assert "已取消" in new.get(f"/reader/requests/{number.group(1)}")[1]
    assert "3245" in new.get("/reader/profile")[1]  # the details it lacked
    # Linking it again, or oneself, is refused.
    new.get("/reader/link")
    again = new.post("/reader/link", {"username": "illuserzj2", "password": "old-pass-123"})
    assert again[0] == 403


def test_the_guides_menus_help_and_about_and_a_real_404(gateway: GatewayProcess) -> None:
    for area in ("reader", "staff"):
        status, page, _ = Client(gateway).get(f"/{area}/help")
        assert status == 200 and "帮助" in page
        status, page, _ = Client(gateway).get(f"/{area}/about?lang=en")
        assert status == 200 and "About interlibrary loan" in page
    assert "关联原有帐户" in Client(gateway).get("/reader/help")[1]
    assert "证件号码" in Client(gateway).get("/staff/help")[1]
    reader = confirmed_reader(gateway, "wuyi", "reader-pass-1")
    home = reader.get("/reader/")[1]
    assert "欢迎您, 王五。" in home  # Chinese punctuation, not "欢迎, 王五."
    for where, label in (
        ("/reader/profile", "个人管理"),
        ("/reader/requests", "申请列表"),
        ("/reader/link", "帐户管理"),
        ("/reader/help", "帮助"),
        ("/reader/about", "关于"),
    ):
        assert f'href="{where}"' in home and label in home
    staff = Client(gateway)
    staff.log_in("staff", "thu", *STAFF)
    desk = staff.get("/staff/")[1]
    assert 'href="/staff/accounts"' in desk and 'href="/staff/profile"' in desk
    # Unknown pages are not found as pages, unknown requests as requests.
    status, page, _ = reader.get("/reader/no-such-page")
    assert status == 404 and "页面不存在" in page and "没有这笔申请" not in page
    assert "请更正以下问题" not in page  # nothing the reader sent to correct
    status, page, _ = staff.get("/staff/requests/x/y")
    assert status == 404 and "页面不存在" in page
    status, page, _ = reader.get("/reader/requests/999")
    assert status == 404 and "没有这笔申请" in page
    # Without a login the path is not probed: the login comes first.
    assert "/reader/?next=" in Client(gateway).get("/reader/no-such-page")[2]


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        (b"127.0.0.1:8080", "http://127.0.0.1:8080"),
        (b"localhost", "http://localhost"),
        (b"[::1]:80", "http://[::1]:80"),
        (b"evil.example", None),
        (b"evil.example:80", None),
        (b"127.0.0.1.evil.example", None),
        (b"", None),
    ],
)
def test_without_a_url_only_a_local_host_starts_the_mailed_links(
    host: bytes, origin: str | None
) -> None:
    request = DummyRequest([b""])
    request.isSecure = lambda: False  # type: ignore[method-assign]
    if host:
        request.requestHeaders.setRawHeaders(b"host", [host])
    assert _local_origin(request) == origin
