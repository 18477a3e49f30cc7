"""Managing accounts in a real browser (headless Chromium, as the reader pages' own browser
test): a reader who forgot the password asks for the link, opens the one the loopback SMTP
server caught (on the test's gateway instead of the library's site) and sets a new
password; a reader links an old account into the new one as the Tsinghua guide shows it,
and cancels the old account's request from the new one.
Screenshots go to the test's temporary directory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.gateway.support import GatewayProcess
from tests.library.support import MailSink
from tests.library.test_account_pages import STAFF, gateway, mails  # noqa: F401  (fixtures)
from tests.library.test_reader_browser import Pages, browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser


def confirmed(pages: Pages, username: str, password: str, name: str) -> None:
    """A reader registered in the browser and confirmed by staff, nobody logged in after."""
    pages.register(username, password, name, f"{username}@example.edu.cn")
    pages.log_in("staff", *STAFF)
    pages.go(f"confirm-{username}")
    assert "帐户已确认" in pages.text()
    pages.log_out()


def test_a_reader_resets_a_forgotten_password_by_the_mailed_link(
    gateway: GatewayProcess,  # noqa: F811  (the fixtures imported above)
    browser: WebDriver,  # noqa: F811
    mails: MailSink,  # noqa: F811
    tmp_path: Path,
) -> None:
    pages = Pages(browser, gateway)
    confirmed(pages, "zhangsan", "reader-pass-1", "张三")
    pages.open("/reader/")
    pages.go("forgot")
    assert "忘记密码" in pages.text()
    pages.fill({"username": "zhangsan"})
    pages.go("forgot-submit")
    assert "重设密码的链接已发送" in pages.text()
    mail = next(
        m
        for m in mails.wait(4)
        if m["To"] == "zhangsan@example.edu.cn" and "重设密码" in str(m["Subject"])
    )
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    # The library's url names its public site; here the test's gateway stands in for it.
    found = re.search(r"https://ill\.lib\.example(/reader/reset\?\S+)", body.decode())
    assert found
    link = pages.base + found.group(1)
    browser.get(link)
    assert "重设密码" in pages.text() and "zhangsan" in pages.text()
    pages.fill({"password": "reader-pass-2", "password2": "reader-pass-2"})
    browser.save_screenshot(str(tmp_path / "reset.png"))
    pages.go("reset-submit")
    assert "密码已重设" in pages.text()
    # The link is spent.
    browser.get(link)
    pages.fill({"password": "reader-pass-3", "password2": "reader-pass-3"})
    pages.go("reset-submit")
    assert "链接已失效" in pages.text()
    pages.log_in("reader", "zhangsan", "reader-pass-1")
    assert "用户名或密码错误" in pages.text()
    pages.log_in("reader", "zhangsan", "reader-pass-2")
    assert browser.get_cookie("isoill_reader") is not None
    assert (tmp_path / "reset.png").stat().st_size > 0


def test_a_reader_links_an_old_account(
    gateway: GatewayProcess,  # noqa: F811  (the fixtures imported above)
    browser: WebDriver,  # noqa: F811
    tmp_path: Path,
) -> None:
    pages = Pages(browser, gateway)
    confirmed(pages, "illuserzj2", "old-pass-123", "旧用户")
    # The old account's request, not yet processed when its reader moves to the new one.
    pages.log_in("reader", "illuserzj2", "old-pass-123")
    pages.open("/reader/request")
    pages.fill({"title": "Interlending & Document Supply", "cost_limit": "30"})
    pages.go("submit")
    number = pages.rows()[0][0]
    pages.log_out()
    confirmed(pages, "zhoujie", "new-pass-123", "周杰")
    pages.log_in("reader", "zhoujie", "new-pass-123")
    pages.go("profile")
    assert "个人管理" in pages.text()
    pages.go("link")
    assert "请输入旧账户的用户名及密码" in pages.text()
    pages.fill({"username": "illuserzj2", "password": "old-pass-123"})
    pages.go("link-submit")
    assert "账户信息确认" in pages.text()
    cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#old-account td")]
    assert "旧用户" in cells and "3245" in cells and "借书证" in cells
    browser.save_screenshot(str(tmp_path / "link-confirm.png"))
    pages.go("link-ok")
    assert "关联成功" in pages.text()
    # Both are one: the old account's request is the new one's, 取消 included.
    pages.open("/reader/requests")
    (row,) = pages.rows()
    assert row[0] == number and row[6] == "用户申请尚未处理" and row[8] == "取消"
    pages.go(then=lambda: pages.confirmed_click(f"cancel-{number}"))
    assert pages.rows()[0][6] == "已取消" and pages.rows()[0][8] == ""
    shot = tmp_path / "linked-request-cancelled.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 5000
    pages.log_out()
    pages.log_in("reader", "illuserzj2", "old-pass-123")
    assert "用户名或密码错误" in pages.text()
    assert (tmp_path / "link-confirm.png").stat().st_size > 0
