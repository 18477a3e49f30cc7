"""The reader and staff pages in a real browser: headless Chromium (Debian's chromium and
chromium-driver, which CI installs) driven by selenium, against ``isoill gateway`` with no
configuration, as a reader of the embedded library would use it.

A reader registers, cannot log in until staff confirm the account, then submits the
Tsinghua form, sees the request in the list with the seed's columns and cancels it (the
page's script asks first); a second reader sees none of it and cannot cancel it even by
posting by hand. The list page's screenshot is kept in ``test-artifacts/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

import isoill
from isoill.apdu.enums import Conditions, ILLServiceType, TransactionResults
from isoill.machine import Role, State
from tests.gateway.support import REPO, Connection, FakePeer, GatewayProcess, Side, free_port
from tests.library.support import FORM
from tests.library.test_desk import cancel_reply
from tests.library.test_reader_pages import CONFIG, pku_asks, wait_for

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
STAFF = ("librarian", "staff-secret-1")


def _browser_paths() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    assert chromium and driver  # the marker ``browser`` checked both
    return chromium, driver


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path).start()
    process.add_staff(STAFF[0], "library", STAFF[1])
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    chromium, driver = _browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--lang=zh-CN",
    ):
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.implicitly_wait(0)
    try:
        yield chrome
    finally:
        chrome.quit()


class Pages:
    """The gateway's pages as a person clicks through them."""

    def __init__(self, browser: WebDriver, gateway: GatewayProcess) -> None:
        self.b = browser
        self.base = f"http://127.0.0.1:{gateway.http_port}"

    def open(self, path: str) -> None:
        self.b.get(self.base + path)

    def fill(self, fields: dict[str, str]) -> None:
        for name, value in fields.items():
            element = self.b.find_element(By.NAME, name)
            element.clear()
            element.send_keys(value)

    def click(self, element_id: str) -> None:
        """Click something that stays on the page (a radio button)."""
        self.b.find_element(By.ID, element_id).click()

    def confirmed_click(self, element_id: str) -> None:
        """Click a button whose form the page's script asks about first, and say yes."""
        self.click(element_id)
        WebDriverWait(self.b, 5).until(expected_conditions.alert_is_present())
        self.b.switch_to.alert.accept()

    def go(self, element_id: str | None = None, then: Callable[[], None] | None = None) -> None:
        """Click a link or button (or do ``then``) and wait until the next page is there:
        a form's answer may take a password check's time."""
        # The old page is marked; the next one is a new window object, without the mark.
        self.b.execute_script("window.isoillOldPage = true")
        if then is not None:
            then()
        else:
            assert element_id is not None
            self.b.find_element(By.ID, element_id).click()

        def arrived(browser: WebDriver) -> bool:
            try:
                return bool(
                    browser.execute_script(
                        "return window.isoillOldPage === undefined"
                        " && document.readyState === 'complete'"
                    )
                )
            except WebDriverException:  # between two pages
                return False

        WebDriverWait(self.b, 15).until(arrived)

    def text(self) -> str:
        return str(self.b.find_element(By.TAG_NAME, "body").text)

    def register(self, username: str, password: str, name: str, email: str) -> None:
        self.open("/reader/")
        self.go("register")
        self.fill(
            {
                "username": username,
                "password": password,
                "password2": password,
                "name": name,
                "email": email,
                "phone": "010-62780000",
                "id_type": "借书证",
                "id_number": "3245",
            }
        )
        self.go("register-submit")
        assert "帐户注册信息提交成功" in self.text()

    def confirmed_reader(self) -> None:
        """Reader zhangsan registered, confirmed by staff (who stay logged in), logged in
        and on the request form."""
        self.register("zhangsan", "reader-pass-1", "张三", "zhangsan@example.edu.cn")
        self.log_in("staff", *STAFF)
        self.go("confirm-zhangsan")
        self.log_in("reader", "zhangsan", "reader-pass-1")
        self.open("/reader/request")

    def log_in(self, area: str, username: str, password: str) -> None:
        self.open(f"/{area}/")
        self.fill({"username": username, "password": password})
        self.go("log-in")

    def log_out(self) -> None:
        self.go(then=self.b.find_element(By.CSS_SELECTOR, "nav form button").click)

    def rows(self) -> list[list[str]]:
        table = self.b.find_elements(By.CSS_SELECTOR, "#requests tbody tr")
        return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in table]


def test_a_reader_registers_is_confirmed_submits_sees_and_cancels(
    gateway: GatewayProcess, browser: WebDriver
) -> None:
    pages = Pages(browser, gateway)
    pages.register("zhangsan", "reader-pass-1", "张三", "zhangsan@example.edu.cn")

    # Not confirmed yet: the login is refused, and the page says why it might be.
    pages.log_in("reader", "zhangsan", "reader-pass-1")
    assert "尚未确认" in pages.text()
    assert browser.get_cookie("isoill_reader") is None

    # The library's ILL staff confirm the account on their own page.
    pages.log_in("staff", *STAFF)
    assert "待确认的帐户" in pages.text() and "zhangsan" in pages.text()
    pages.go("confirm-zhangsan")
    assert "帐户已确认" in pages.text()
    assert not browser.find_elements(By.ID, "confirm-zhangsan")

    pages.log_in("reader", "zhangsan", "reader-pass-1")
    session = browser.get_cookie("isoill_reader")
    assert session is not None and session["httpOnly"] and session["path"] == "/reader/"
    pages.open("/reader/request")
    # The form knows the reader already.
    assert browser.find_element(By.NAME, "name").get_attribute("value") == "张三"
    assert browser.find_element(By.NAME, "email").get_attribute("value") == (
        "zhangsan@example.edu.cn"
    )
    # Urgent shows the rush-fee hint (the page's script).
    hint = browser.find_element(By.ID, "rush-hint")
    assert not hint.is_displayed()
    pages.click("urgency-urgent")
    assert hint.is_displayed()
    pages.click("urgency-normal")
    # A required field left empty: the page says which, and keeps what was typed.
    pages.fill({"article_title": "Licence to Deny?", "cost_limit": "20"})
    pages.b.execute_script("document.getElementById('request-form').noValidate = true")
    pages.go("submit")
    assert "出版物名称: 必填" in pages.text()
    assert "bad" in (browser.find_element(By.NAME, "title").get_attribute("class") or "")
    assert browser.find_element(By.NAME, "article_title").get_attribute("value") == (
        "Licence to Deny?"
    )
    pages.fill(
        {
            "title": "Interlending & Document Supply",
            "volume_issue": "32(2)",
            "year": "2004",
            "pages": "94-101",
            "issn": "0264-1615",
            "language": "英语",
            "reference": "THU-2026-001",
        }
    )
    pages.go("submit")

    assert browser.current_url.startswith(pages.base + "/reader/requests")
    assert "申请已提交" in pages.text()
    head = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#requests thead th")]
    assert head == [
        "申请号",
        "参考号",
        "出版物名称",
        "申请日期",
        "服务方式",
        "归还日期",
        "当前状态",
        "总费用",
        "操作",
    ]
    (row,) = pages.rows()
    number = row[0]
    assert number.isdigit()
    assert row[1:3] == ["THU-2026-001", "Interlending & Document Supply"]
    assert row[4] == "复制-非归还"
    assert row[6] == "用户申请尚未处理"
    assert row[8] == "取消"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "reader-request-list.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 5000

    # The request's own page, and the English switch.
    pages.go(then=browser.find_element(By.LINK_TEXT, number).click)
    assert "Licence to Deny?" in pages.text() and "0264-1615" in pages.text()
    pages.open("/reader/requests?lang=en")
    assert browser.find_element(By.TAG_NAME, "h1").text == "My requests"
    assert pages.rows()[0][6] == "Not yet processed"
    pages.open("/reader/requests?lang=zh")

    # Cancel asks first; saying no leaves the request as it was.
    pages.click(f"cancel-{number}")
    WebDriverWait(browser, 5).until(expected_conditions.alert_is_present())
    browser.switch_to.alert.dismiss()
    assert pages.rows()[0][6] == "用户申请尚未处理"

    pages.go(then=lambda: pages.confirmed_click(f"cancel-{number}"))
    assert "申请已取消" in pages.text()
    (row,) = pages.rows()
    assert row[6] == "已取消" and row[8] == ""

    # A second request stays for the other reader to try.
    pages.open("/reader/request")
    pages.fill({"title": "Journal of Documentation", "cost_limit": "10", "phone": "12345678"})
    pages.go("submit")
    kept = pages.rows()[0][0]
    pages.log_out()
    assert browser.get_cookie("isoill_reader") is None

    # Reader two: registered and confirmed, sees none of reader one's requests.
    pages.register("lisi", "reader-pass-2", "李四", "lisi@example.edu.cn")
    pages.open("/staff/")  # staff are still logged in, on their own cookie
    pages.go("confirm-lisi")
    pages.log_in("reader", "lisi", "reader-pass-2")
    pages.open("/reader/requests")
    assert pages.rows() == []
    assert "Journal of Documentation" not in pages.text()
    pages.open(f"/reader/requests/{kept}")
    assert "没有这笔申请" in pages.text()
    assert "Journal of Documentation" not in pages.text()
    # Not even a hand-made post, with lisi's own valid CSRF token, cancels it: the answer is
    # the same "no such request" as for a number nobody has.
    pages.go(
        then=lambda: browser.execute_script(
            """
            const form = document.createElement("form");
            form.method = "post";
            form.action = arguments[0];
            const csrf = document.createElement("input");
            csrf.name = "csrf";
            csrf.value = document.querySelector("input[name=csrf]").value;
            form.appendChild(csrf);
            document.body.appendChild(form);
            form.submit();
            """,
            f"/reader/requests/{kept}/cancel",
        )
    )
    assert "没有这笔申请" in pages.text()
    pages.open("/reader/requests")
    pages.log_out()

    # Reader one still has it, not processed.
    pages.log_in("reader", "zhangsan", "reader-pass-1")
    pages.open("/reader/requests")
    states = {row[0]: row[6] for row in pages.rows()}
    assert states[kept] == "用户申请尚未处理"
    assert states[number] == "已取消"


def test_staff_open_a_readers_request_and_see_all_of_it(
    gateway: GatewayProcess, browser: WebDriver, tmp_path: Path
) -> None:
    pages = Pages(browser, gateway)
    pages.confirmed_reader()
    pages.fill(
        {
            "title": "Interlending & Document Supply",
            "article_title": "Licence to Deny?",
            "volume_issue": "32(2)",
            "pages": "94-101",
            "issn": "0264-1615",
            "cost_limit": "50",
            "address": "北京市海淀区清华园1号",
        }
    )
    pages.click("urgency-urgent")
    pages.go("submit")
    number = pages.rows()[0][0]

    pages.open("/staff/")
    pages.go(then=browser.find_element(By.LINK_TEXT, number).click)
    assert browser.current_url == f"{pages.base}/staff/requests/{number}"
    text = pages.text()
    for shown in (
        "用户申请尚未处理",
        "Licence to Deny?",
        "94-101",
        "0264-1615",
        "北京市海淀区清华园1号",
        "zhangsan@example.edu.cn",
        "010-62780000",
        "加急",
        "50.00",
        "处理记录",
    ):
        assert shown in text, shown
    assert browser.find_element(By.ID, f"send-{number}").is_displayed()
    shot = tmp_path / "staff-request.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 5000
    pages.open(f"/staff/requests/{number}?lang=en")
    assert "Cost limit" in pages.text() and "Urgency" in pages.text()
    pages.open(f"/staff/requests/{number}?lang=zh")

    # A mistyped supplier: the page says so, keeps what was typed, and nothing is sent.
    pages.fill({"suppliers": "CALIS:NOWHERE"})
    pages.go(f"send-{number}")
    assert "CALIS:NOWHERE 不是已配置的文献提供馆" in pages.text()
    assert browser.find_element(By.NAME, "suppliers").get_attribute("value") == "CALIS:NOWHERE"
    assert "用户申请尚未处理" in pages.text()
    shot = tmp_path / "staff-send-refused.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 5000


@contextmanager
def thu_and_pku(tmp_path: Path, settings: str = "") -> Iterator[tuple[GatewayProcess, FakePeer]]:
    """A gateway whose library THU (with ``settings`` added to its own) sends requests on
    to Peking University, a fake peer."""
    pku = FakePeer()
    thu = 'staff_email = "ill-staff@thu.example"\n'
    config = CONFIG.format(dead=free_port(), pku=pku.port)
    assert config.count(thu) == 1
    gateway = GatewayProcess(tmp_path, config.replace(thu, thu + settings)).start()
    try:
        gateway.add_staff(STAFF[0], "thu", STAFF[1])
        yield gateway, pku
    finally:
        gateway.stop()
        pku.close()


@pytest.fixture
def peered(tmp_path: Path) -> Iterator[tuple[GatewayProcess, FakePeer]]:
    with thu_and_pku(tmp_path) as found:
        yield found


def sent_to_pku(
    pages: Pages, pku: FakePeer, cost_limit: str = "50"
) -> tuple[str, Connection, Side, isoill.ILLRequest]:
    """A confirmed reader's request, sent on by staff to PKU, which has it."""
    pages.confirmed_reader()
    pages.fill({"title": "Interlending & Document Supply", "cost_limit": cost_limit})
    pages.go("submit")
    number = pages.rows()[0][0]
    pages.open(f"/staff/requests/{number}")
    pages.fill({"suppliers": "CALIS:PKU"})
    pages.go(f"send-{number}")
    connection, ask = pku.receive(timeout=15)
    assert isinstance(ask, isoill.ILLRequest)
    side = Side(Role.RESPONDER, ask.transaction_id)
    side.got(ask)
    return number, connection, side, ask


def until(browser: WebDriver, seen: Callable[[WebDriver], object]) -> None:
    """Reload the page until ``seen`` holds: an APDU from the peer takes a moment."""
    WebDriverWait(browser, 15).until(lambda b: (b.refresh() or True) and seen(b))


def test_a_fee_above_the_limit_waits_for_the_reader_who_accepts_it(
    peered: tuple[GatewayProcess, FakePeer], browser: WebDriver, tmp_path: Path
) -> None:
    gateway, pku = peered
    pages = Pages(browser, gateway)
    number, connection, side, ask = sent_to_pku(pages, pku)

    def to_pku(**fields: object) -> dict[str, object]:
        return {
            "transaction_id": ask.transaction_id,
            "requester_id": ask.requester_id,
            "responder_id": ask.responder_id,
            **fields,
        }

    connection.send(
        side.sent(
            isoill.ILLAnswer(
                **to_pku(  # type: ignore[arg-type]
                    transaction_results=TransactionResults.CONDITIONAL,
                    results_explanation=isoill.ConditionalResults(
                        conditions=Conditions.COST_EXCEEDS_LIMIT
                    ),
                    responder_note="费用 60.00 元",
                )
            )
        )
    )
    pages.open(f"/reader/requests/{number}")
    until(browser, lambda b: b.find_elements(By.ID, "accept"))
    text = pages.text()
    assert "提供馆有条件满足, 等待读者答复" in text
    assert "费用超过限制 (cost-exceeds-limit)" in text and "60.00" in text
    shot = tmp_path / "reader-conditions.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 5000
    pages.go("accept")
    assert "已接受条件" in pages.text()
    _, reply = pku.receive(timeout=15)
    assert isinstance(reply, isoill.ConditionalReply) and reply.answer is True
    side.got(reply)
    shipped = isoill.Shipped(
        **to_pku(  # type: ignore[arg-type]
            shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE,
            supply_details=isoill.SupplyDetails(
                cost=isoill.Amount(monetary_value=Decimal("60"), currency_code="CNY")
            ),
        )
    )
    connection.send(side.sent(shipped))
    until(browser, lambda b: "已运送" in b.find_element(By.ID, "summary").text)
    assert not browser.find_elements(By.ID, "accept")


def test_the_reader_cancels_a_sent_request_and_the_supplier_agrees(
    peered: tuple[GatewayProcess, FakePeer], browser: WebDriver, tmp_path: Path
) -> None:
    gateway, pku = peered
    pages = Pages(browser, gateway)
    number, connection, side, ask = sent_to_pku(pages, pku)
    pages.open("/reader/requests")
    assert pages.rows()[0][6] == "已发送至提供馆" and pages.rows()[0][8] == "取消"

    pages.go(then=lambda: pages.confirmed_click(f"cancel-{number}"))
    assert "已请求取消, 等待文献提供馆答复" in pages.text()
    assert pages.rows()[0][6] == "已请求取消, 等待提供馆答复" and pages.rows()[0][8] == ""
    _, cancel = pku.receive(timeout=15)
    assert isinstance(cancel, isoill.Cancel)
    side.got(cancel)
    connection.send(side.sent(cancel_reply(ask, answer=True)))
    until(browser, lambda b: pages.rows()[0][6] == "已取消")
    pages.open(f"/reader/requests/{number}")
    assert "同意取消" in pages.text()
    shot = tmp_path / "reader-cancelled.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 5000


def test_a_supplier_silent_on_the_cancel_is_reported_and_its_late_yes_still_cancels(
    browser: WebDriver, tmp_path: Path
) -> None:
    with thu_and_pku(tmp_path, "cancel_deadline = 1.0\n") as (gateway, pku):
        pages = Pages(browser, gateway)
        number, connection, side, ask = sent_to_pku(pages, pku)
        pages.open("/reader/requests")
        pages.go(then=lambda: pages.confirmed_click(f"cancel-{number}"))
        _, cancel = pku.receive(timeout=15)
        assert isinstance(cancel, isoill.Cancel)
        side.got(cancel)
        # PKU says nothing: at the cancel deadline the reader's page says so.
        pages.open(f"/reader/requests/{number}")
        until(browser, lambda b: "未答复取消" in pages.text())
        assert "已请求取消, 等待提供馆答复" in browser.find_element(By.ID, "summary").text
        shot = tmp_path / "reader-cancel-unanswered.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 5000
        pages.open(f"/staff/requests/{number}")
        assert "(CALIS:PKU) 1 秒内未答复取消, 已通知读者和馆员" in pages.text()
        # The late yes still ends it cancelled.
        connection.send(side.sent(cancel_reply(ask, answer=True)))
        pages.open("/reader/requests")
        until(browser, lambda b: pages.rows()[0][6] == "已取消")


def test_a_loan_is_shipped_renewed_recalled_returned_and_checked_in(
    peered: tuple[GatewayProcess, FakePeer], browser: WebDriver, tmp_path: Path
) -> None:
    gateway, _ = peered
    loan = {**FORM, "service": "loan", "document_type": "book", "article_title": ""}
    pku, side, ask = pku_asks(gateway, loan, "PKU-LOAN")
    pages = Pages(browser, gateway)
    pages.log_in("staff", *STAFF)
    pages.go(then=browser.find_element(By.PARTIAL_LINK_TEXT, "PKU-LOAN").click)
    assert "借调(返还)" in pages.text()
    browser.execute_script("document.querySelector('input[name=due]').value = '2099-01-31'")
    pages.go(then=browser.find_element(By.CSS_SELECTOR, "button.ship").click)
    assert "已运送" in pages.text()
    shipped = wait_for(pku, isoill.Shipped)
    assert isinstance(shipped, isoill.Shipped)
    side.got(shipped)
    assert shipped.supply_details.date_due is not None
    assert shipped.supply_details.date_due.date_due_field.isoformat() == "2099-01-31"

    def to_thu(kind: type[isoill.APDU], **fields: object) -> isoill.APDU:
        return kind(
            transaction_id=ask.transaction_id,
            requester_id=ask.requester_id,
            responder_id=ask.responder_id,
            **fields,  # type: ignore[arg-type]
        )

    pku.send(
        side.sent(
            to_thu(
                isoill.Received,
                date_received=date.today(),
                shipped_service_type=ILLServiceType.LOAN,
            )
        )
    )
    # The requester asks to renew: staff agree (28 days more), then recall it.
    pku.send(side.sent(to_thu(isoill.Renew)))
    until(browser, lambda b: b.find_elements(By.ID, "renew_yes"))
    assert "请求馆申请续借" in pages.text()
    pages.go("renew_yes")
    assert "已同意续借" in pages.text()
    renewed = wait_for(pku, isoill.RenewAnswer)
    assert isinstance(renewed, isoill.RenewAnswer) and renewed.answer is True
    assert renewed.date_due is not None
    assert renewed.date_due.date_due_field.isoformat() == "2099-02-28"
    side.got(renewed)
    pages.go("recall")  # on the desk, where the answer brought staff back
    assert "已发出召回" in pages.text()
    side.got(wait_for(pku, isoill.Recall))
    pku.send(side.sent(to_thu(isoill.Returned, date_returned=date.today())))
    until(browser, lambda b: b.find_elements(By.ID, "checked-in"))
    assert "请求馆已归还, 待入库" in pages.text()
    shot = tmp_path / "staff-returned.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 5000
    pages.go("checked-in")
    assert "已归还入库" in pages.text()
    checked = wait_for(pku, isoill.CheckedIn)
    side.got(checked)
    assert side.txn.state is State.CHECKED_IN
    pku.close()
