"""What the reader pages (:mod:`isoill.library.reader_pages`) and the staff pages
(:mod:`isoill.library.staff_pages`) share: their words in Chinese and English, their frame in
the gateway's one page shell (:mod:`isoill.gateway.pages`), their pages as a resource tree,
reading form posts, logins (the password check is the gateway's one,
:func:`isoill.gateway.logins.log_in`), sessions and the CSRF check.

What the pages show is people's personal data, so:

* passwords are checked off the reactor thread (scrypt is slow on purpose), and five wrong
  ones in a quarter of an hour hold that account's login for the rest of it;
* a login is a fresh random token in an HttpOnly, SameSite cookie scoped to its area's path,
  so one browser may hold a reader's and a staff login at once without either being sent to
  the other's pages;
* every POST carries a CSRF token: the session's own once logged in, a double-submitted
  cookie before (login, registration, e-mail mode), and a cross-site Origin is refused;
* a reader asking for another reader's request gets "not found", as for one that does not
  exist, so request numbers cannot be probed;
* pages are not cached, not framed, and (CSP) run only the gateway's own small script.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from twisted.logger import Logger
from twisted.web import resource
from twisted.web.server import Request
from twisted.web.template import Flattenable, Tag, tags

from isoill.gateway import pages
from isoill.gateway.config import Config
from isoill.gateway.logins import LoginHeld, Throttle, answer_later, log_in
from isoill.gateway.metrics import Metrics
from isoill.gateway.pages import Chrome, link, table
from isoill.library.accounts import Account, AccountRole, Session, may_log_in, same_token
from isoill.library.lists import Found, Query
from isoill.library.requests import ReaderRequest, SupplyRequest
from isoill.library.settings import Library, library_labels
from isoill.library.wording import say
from isoill.mapping.reader_form import (
    FIELD_LABELS,
    LANGUAGE_NAMES,
    VALUE_LABELS,
    ReaderForm,
    ServiceType,
    to_fields,
)
from isoill.multilingual import Said, in_lang

log = Logger()

#: The most a form post may be: the reader form at its limits is well under this.
MAX_FORM = 64 * 1024
#: Wrong passwords an account may have in LOCKOUT_WINDOW seconds before its login is held.
MAX_FAILURES = 5
LOCKOUT_WINDOW = 15 * 60.0
#: Mails one address may send through the CALIS e-mail mode page in an hour.
MAX_MAILS = 20

READER_COOKIE = b"isoill_reader"
STAFF_COOKIE = b"isoill_staff"
ANON_COOKIE = b"isoill_csrf"
LANG_COOKIE = b"isoill_lang"


class Desks(Protocol):
    """What the pages need of the gateway (:class:`isoill.gateway.service.Gateway`)."""

    config: Config
    metrics: Metrics

    def seconds(self) -> float: ...
    def now(self) -> datetime: ...
    def libraries(self) -> list[Library]: ...
    def account(self, library: str, username: str) -> Account | None: ...
    def accounts(self, library: str, *, confirmed: bool | None = None) -> list[Account]: ...
    def register(self, account: Account) -> Account: ...
    def confirm_account(self, staff: Account, username: str) -> Account: ...
    def reject_account(self, staff: Account, username: str) -> Account: ...
    def disable_account(self, staff: Account, username: str, disabled: bool = True) -> Account: ...
    def open_session(self, account: Account) -> tuple[str, Session]: ...
    def session(self, token: str) -> tuple[Session, Account] | None: ...
    def close_session(self, token: str) -> None: ...
    def submit(self, library: str, reader: str, form: ReaderForm) -> ReaderRequest: ...
    def reader_requests(self, library: str, reader: str) -> list[ReaderRequest]: ...
    def reader_request(self, library: str, reader: str, number: int) -> ReaderRequest: ...
    def cancel(self, library: str, reader: str | None, number: int) -> ReaderRequest: ...
    def library_requests(self, library: str) -> list[ReaderRequest]: ...
    def library_request(self, library: str, number: int) -> ReaderRequest: ...
    def send_request(self, library: str, number: int, suppliers: list[str]) -> ReaderRequest: ...
    def mark_received(self, library: str, number: int) -> ReaderRequest: ...
    def mark_returned(self, library: str, number: int, via: str = "") -> ReaderRequest: ...
    def supply_requests(self, library: str) -> list[SupplyRequest]: ...
    def supply_request(self, library: str, key: str) -> SupplyRequest: ...
    def supply_history(self, library: str, key: str) -> list[tuple[datetime, Said]]: ...
    def find_reader_requests(
        self, library: str, reader: str, query: Query
    ) -> Found[ReaderRequest]: ...
    def find_library_requests(self, staff: Account, query: Query) -> Found[ReaderRequest]: ...
    def find_supply_requests(self, library: str, query: Query) -> Found[SupplyRequest]: ...
    def find_accounts(self, staff: Account, query: Query) -> Found[Account]: ...
    def ship(
        self,
        library: str,
        key: str,
        total_cost: Decimal,
        note: str = "",
        due: date | None = None,
    ) -> SupplyRequest: ...
    def checked_in(self, library: str, key: str) -> SupplyRequest: ...
    def loan_notice(self, library: str, key: str, kind: str, note: str = "") -> SupplyRequest: ...
    def renew_answer(
        self, library: str, key: str, agree: bool, due: date | None = None
    ) -> SupplyRequest: ...
    def renew(self, library: str, reader: str, number: int) -> ReaderRequest: ...
    def unfillable(self, library: str, key: str, reason: str, note: str = "") -> SupplyRequest: ...
    def conditional(
        self, library: str, key: str, total_cost: Decimal, note: str = ""
    ) -> SupplyRequest: ...
    def answer_conditions(
        self, library: str, reader: str, number: int, accept: bool
    ) -> ReaderRequest: ...
    def mail_request(
        self, library: str, reader: str, form: ReaderForm, to_library: str, member: str = ""
    ) -> None: ...


# --- words ----------------------------------------------------------------------------------

#: Every word the pages say, Chinese and English (the form's labels are reader_form's).
WORDS: dict[str, tuple[str, str]] = {
    "reader_gateway": ("馆际互借读者网关系统", "Interlibrary loan reader gateway"),
    "staff_pages": ("馆际互借事务管理", "Interlibrary loan staff"),
    "login": ("读者登录", "Log in"),
    "staff_login": ("馆员登录", "Staff log in"),
    "library": ("图书馆", "Library"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "password2": ("确认密码", "Password again"),
    "log_in": ("登录", "Log in"),
    "log_out": ("退出", "Log out"),
    "register": ("注册新用户", "Register"),
    "register_title": ("注册正式用户", "Register an account"),
    "register_submit": ("提交注册", "Register"),
    "registered": (
        "帐户注册信息提交成功, 随后在您注册的邮箱中将收到一封有关注册信息的邮件。"
        "管理员核对您填写的信息后, 会发确认邮件给您, 您注册的帐户就可以登录了。",
        "Your registration has been received; an e-mail about it is on its way. Once staff"
        " have checked your details they will e-mail you, and you can log in.",
    ),
    "member": ("所属成员馆", "Your library (member)"),
    "id_type": ("证件名称", "ID document"),
    "id_number": ("证件号码", "ID number"),
    "bad_login": (
        "用户名或密码错误, 或帐户尚未确认",
        "Wrong user name or password, or the account is not confirmed yet",
    ),
    "locked": (
        "登录失败次数过多, 请十五分钟后再试",
        "Too many failed logins: try again in a quarter of an hour",
    ),
    "submit_request": ("提交申请", "Submit a request"),
    "request_list": ("申请列表", "My requests"),
    "email_mode": ("Email方式发送给本馆馆际互借员", "E-mail a request to your library's ILL staff"),
    "submit": ("提交", "Submit"),
    "back": ("返回", "Back"),
    "cancel": ("取消", "Cancel"),
    "cancel_confirm": ("确定取消这笔申请?", "Cancel this request?"),
    "submitted": ("申请已提交, 申请号", "Your request has been submitted, number"),
    "cancelled": ("申请已取消", "The request has been cancelled"),
    "cancel_asked": (
        "已请求取消, 等待文献提供馆答复",
        "Cancel asked: the supplier's reply decides",
    ),
    "done_cancelled": ("申请已取消", "The request has been cancelled"),
    "done_cancel_asked": (
        "已请求取消, 等待文献提供馆答复",
        "Cancel asked: the supplier's reply decides",
    ),
    "mailed": (
        "申请已发送到本馆馆际互借员的邮箱",
        "Your request has been e-mailed to your library's ILL staff",
    ),
    "no_requests": ("没有申请", "No requests"),
    "number": ("申请号", "Request no."),
    "reference": ("参考号", "Reference"),
    "publication": ("出版物名称", "Publication"),
    "date": ("申请日期", "Date"),
    "service": ("服务方式", "Service"),
    "return_date": ("归还日期", "Return date"),
    "state": ("当前状态", "Current state"),
    "total_cost": ("总费用", "Total cost"),
    "action": ("操作", "Action"),
    "history": ("处理记录", "History"),
    "field": ("项目", "Field"),
    "transaction_id": ("事务号", "Transaction id"),
    "supplier_now": ("当前文献提供馆", "Supplier asked now"),
    "supplier": ("文献提供馆", "Supplier"),
    "tried": ("已询问的文献提供馆", "Suppliers asked"),
    "reader_account_info": ("读者信息", "The reader"),
    "value": ("内容", "Value"),
    "request_info": ("申请信息", "Request"),
    "document_info": ("文献信息", "Document"),
    "ill_info": ("馆际互借信息", "Interlibrary loan"),
    "user_info": ("用户信息", "About you"),
    "notes_section": ("备注", "Notes"),
    "required_note": ("*号标注的为必填项目", "Fields marked * are required"),
    "valid_hint": (
        "YYYY-MM-DD (如果申请超过该时间还未被处理, 则申请自动结束!)",
        "YYYY-MM-DD (a request not handled by then ends by itself)",
    ),
    "cost_hint": (
        "元。用户能承受的完成此笔申请的最高费用。",
        "yuan: the most you will pay for this request.",
    ),
    "rush_hint": ("加急: 用户选择加急处理, 需自付费用。", "Urgent: you pay a rush fee."),
    "rush_fee": (
        "加急: 用户选择加急处理, 需自付费用{fee}元/篇。",
        "Urgent: you pay a rush fee of {fee} yuan an item.",
    ),
    "reference_hint": ("用户自定义编号最多50个字符", "Your own number, at most 50 characters"),
    "problems": ("请更正以下问题:", "Please correct:"),
    "not_found": ("没有这笔申请", "No such request"),
    "login_needed": ("请先登录", "Please log in first"),
    "forbidden": ("无权进行此操作", "You may not do that"),
    "csrf": ("表单已过期, 请返回重新提交", "The form has expired: go back and send it again"),
    "accounts_pending": ("待确认的帐户", "Accounts to confirm"),
    "confirm": ("确认", "Confirm"),
    "done_confirmed": ("帐户已确认", "Account confirmed"),
    "done_sent": ("申请已发送至文献提供馆", "The request has gone to the supplier"),
    "done_received": ("已记录收到", "Received: recorded"),
    "done_returned": ("已归还, 已通知文献提供馆", "Returned: the supplier is told"),
    "returned": ("归还", "Returned"),
    "returned_via": ("归还方式", "Sent back by"),
    "done_shipped": ("已运送", "Shipped"),
    "due": ("归还日期 (借调; 空: 28天后)", "Date due (loans; empty: in 28 days)"),
    "checked_in": ("归还入库", "Check in"),
    "recall": ("召回", "Recall"),
    "overdue": ("催还 (已超期)", "Overdue notice"),
    "done_recall": ("已发出召回, 已通知请求馆", "Recalled: the requester is told"),
    "done_overdue": ("已发出催还通知", "Overdue notice sent"),
    "renew_yes": ("同意续借", "Renew"),
    "renew_no": ("不同意续借", "Refuse the renewal"),
    "done_renew_yes": ("已同意续借", "Renewed"),
    "done_renew_no": ("已拒绝续借", "Renewal refused"),
    "renew": ("申请续借", "Ask for a renewal"),
    "renew_asked": ("续借申请已发送至文献提供馆", "Renewal asked of the supplier"),
    "done_checked_in": ("已归还入库, 已通知请求馆", "Checked in: the requester is told"),
    "done_unfillable": (
        "已答复无法满足, 请求馆已收到答复",
        "Answered: cannot supply (the requesting library is told)",
    ),
    "readers_requests": ("读者申请", "Readers' requests"),
    "supply_requests": ("待处理外馆请求", "Requests from other libraries"),
    "reader": ("读者", "Reader"),
    "suppliers": (
        "文献提供馆 (代码, 以逗号分隔; 空: 按馆藏)",
        "Suppliers (symbols, comma separated; empty: by holdings)",
    ),
    "send_on": ("发送", "Send on"),
    "received": ("收到", "Received"),
    "ship": ("运送", "Ship"),
    "unfillable": ("无法满足", "Cannot supply"),
    "reason": ("原因", "Reason"),
    "note": ("说明", "Note"),
    "requester": ("请求馆", "Requester"),
    "arrived": ("到达时间", "Arrived"),
    "none": ("无", "None"),
    "conditions": ("提供馆的条件", "The supplier's conditions"),
    "accept": ("接受", "Accept"),
    "decline": ("拒绝", "Decline"),
    "accepted": ("已接受条件, 提供馆将运送", "Conditions accepted: the supplier will ship"),
    "declined": (
        "已拒绝条件, 申请将转至下一个文献提供馆",
        "Conditions declined: the request goes to the next supplier",
    ),
    "conditional": ("有条件答复: 费用超过限制", "Conditional answer: fee above the limit"),
    "conditions_accepted": (
        "请求馆已接受条件, 可按 {cost} 元运送",
        "the requester accepted the conditions: ship at {cost} yuan",
    ),
    "done_conditional": (
        "已发有条件答复, 等待请求馆答复",
        "Conditional answer sent: waiting for the requester's reply",
    ),
    "kind": ("类型", "Kind"),
    "group_account": ("集团用户", "group account"),
    "reader_account": ("个人用户", "reader"),
    "switch": ("English", "中文"),
    "welcome": ("欢迎您, {name}。", "Welcome, {name}."),
    "too_many_mails": (
        "发送的申请过多, 请稍后再试或联系本馆馆际互借员",
        "Too many requests sent from here: try again later, or ask your library's ILL staff",
    ),
    "to_library": ("发送给哪个图书馆的馆际互借员", "To the ILL staff of"),
    "profile": ("个人管理", "My account"),
    "save": ("保存", "Save"),
    "profile_saved": ("个人信息已保存", "Your details are saved"),
    "change_password": ("修改密码", "Change password"),
    "current_password": ("当前密码", "Current password"),
    "new_password": ("新密码", "New password"),
    "password_changed": ("密码已修改", "Your password has been changed"),
    "bad_current": ("当前密码错误", "The current password is wrong"),
    "forgot_password": ("忘记密码", "Forgot your password"),
    "forgot_hint": (
        "请输入用户名, 重设密码的链接将发送到您注册的电子信箱, 一小时内有效, 只能使用一次。",
        "Enter your user name: a link to set a new password goes to the e-mail address you"
        " registered. It works once, for an hour.",
    ),
    "send_reset": ("发送重设密码邮件", "Send me the link"),
    "reset_sent": (
        "如果该用户名存在且已确认, 重设密码的链接已发送到注册的电子信箱。",
        "If that account exists and is confirmed, the link has been sent to its e-mail address.",
    ),
    "too_many_resets": ("重设密码申请过多, 请一小时后再试", "Too many resets: try in an hour"),
    "reset_title": ("重设密码", "Set a new password"),
    "reset_expired": (
        "链接已失效或已使用, 请重新申请重设密码",
        "The link has expired or was used: ask for a new one",
    ),
    "reset_done": ("密码已重设, 请用新密码登录", "Your password is set: log in with it"),
    "accounts_manage": ("帐户管理", "Accounts"),
    "reject": ("拒绝", "Reject"),
    "disable": ("停用", "Disable"),
    "enable": ("启用", "Enable"),
    "done_rejected": ("已拒绝该注册, 并通知读者", "Registration rejected (the reader is told)"),
    "done_disabled": ("帐户已停用", "Account disabled"),
    "done_enabled": ("帐户已启用", "Account enabled"),
    "state_active": ("正常", "active"),
    "state_waiting": ("待确认", "waiting"),
    "state_disabled": ("已停用", "disabled"),
    "state_rejected": ("未通过审核", "rejected"),
    "link_title": ("关联原有帐户", "Link an old account"),
    "link_hint": (
        "如果您原来在馆际互借系统中有合法用户, 请在此关联, 这样可以继续享有该用户的所有权利;"
        " 关联后原有帐户不能继续登录系统, 但您可以通过当前帐户查询原有帐户的申请记录。",
        "If you had an account before, link it here to keep everything it had: the old"
        " account then logs in no more, and its requests show under this one.",
    ),
    "link_prompt": ("请输入旧账户的用户名及密码", "Enter the old account's user name and password"),
    "link_details": ("账户信息确认", "Check the account"),
    "link_name": ("用户姓名", "Name"),
    "link_email": ("Email地址", "E-mail address"),
    "link_confirm": (
        "请您确认以上信息无误, 点击“确定”进行关联。",
        "If these details are right, press OK to link the account.",
    ),
    "ok": ("确定", "OK"),
    "link_expired": (
        "确认已超时, 请重新输入旧账户的用户名及密码",
        "That took too long: enter the old account's user name and password again",
    ),
    "link_refused": ("该帐户不能关联", "That account cannot be linked"),
    "link_done": ("关联成功:", "Linked:"),
    "help": ("帮助", "Help"),
    "about": ("关于", "About"),
    "no_page": ("页面不存在", "No such page"),
    "internal_error": ("系统内部错误", "internal error"),
    "search": ("检索", "Search"),
    "search_hint": (
        "申请号, 事务号, 题名, 读者姓名",
        "Request no., transaction id, title, reader's name",
    ),
    "account_search_hint": (
        "用户名, 姓名, Email, 电话, 证件号码",
        "User name, name, e-mail, phone, ID number",
    ),
    "all_states": ("全部状态", "Any state"),
    "count": ("共 {total} 条", "{total} in all"),
    "page_of": ("第 {page}/{pages} 页", "page {page} of {pages}"),
    "previous_page": ("上一页", "Previous page"),
    "next_page": ("下一页", "Next page"),
    "no_match": ("没有符合条件的记录", "Nothing matches"),
    "show_all": ("检索全部", "Search them all"),
}


@dataclass(frozen=True)
class Words:
    """The words of one page, in the reader's language (0 Chinese, 1 English)."""

    index: int
    #: Library names by symbol (:func:`isoill.library.settings.library_labels`).
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def code(self) -> str:
        return "en" if self.index else "zh-CN"

    def __call__(self, key: str) -> str:
        return WORDS[key][self.index]

    def field(self, name: str) -> str:
        return FIELD_LABELS[name][self.index]

    def value(self, value: Any) -> str:
        labels = VALUE_LABELS.get(value)
        return labels[self.index] if labels else str(value)

    def pick(self, pair: tuple[str, str]) -> str:
        return pair[self.index]

    def library(self, symbol: str) -> str:
        """A library by its name, its symbol in brackets; the symbol when it has no name."""
        return self.labels.get(symbol.strip().upper(), symbol)

    @property
    def lang(self) -> str:
        return "en" if self.index else "zh"

    def said(self, text: str) -> str:
        """What the desk or the accounts said (:mod:`isoill.library.wording`), in this
        page's language."""
        return in_lang(text, self.lang)

    def problem(self, text: str) -> str:
        """A form's problem in this page's language, its field named by the form's label
        (联系方式, 费用限制), not by the field's name."""
        name, separator, rest = self.said(text).partition(": ")
        key = PROBLEM_FIELDS.get(name)
        if not separator or (name not in FIELD_LABELS and key is None):
            return self.said(text)
        label = self(key) if key is not None else self.field(name)
        return f"{label}: {rest}"

    def problems(self, texts: Iterable[str]) -> str:
        """Problems on one line (a refusal page's)."""
        return "; ".join(self.problem(t) for t in texts)


#: The fields a problem may name that are not the reader form's, by the word of their label.
PROBLEM_FIELDS: dict[str, str] = {
    "username": "username",
    "password": "password",
    "password2": "password2",
    "member": "member",
    "id_type": "id_type",
    "id_number": "id_number",
    "token": "reset_title",
    "suppliers": "supplier",
    "total_cost": "total_cost",
    "due": "return_date",
    "reason": "reason",
}


def words_for(request: Request, labels: Mapping[str, str] | None = None) -> Words:
    """The page's language: ``?lang=`` (remembered in a cookie), else the cookie, else
    Chinese; ``labels`` names the libraries it shows."""
    asked = (request.args or {}).get(b"lang", [b""])[0]
    if asked in (b"en", b"zh"):
        request.addCookie(LANG_COOKIE, asked, path=b"/", sameSite="lax", max_age=b"31536000")
        return Words(1 if asked == b"en" else 0, labels or {})
    return Words(1 if request.getCookie(LANG_COOKIE) == b"en" else 0, labels or {})


# --- HTML -----------------------------------------------------------------------------------

_CSP = (
    b"default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; img-src 'self';"
    b" form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

#: The one script: confirm before cancelling, the rush-fee hint with the urgency choice.
SCRIPT = b"""\
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  var hint = document.getElementById("rush-hint");
  var radios = document.querySelectorAll("input[name=urgency]");
  function show() {
    var urgent = document.querySelector("input[name=urgency][value=urgent]");
    if (hint && urgent) { hint.hidden = !urgent.checked; }
  }
  radios.forEach(function (radio) { radio.addEventListener("change", show); });
  show();
});
"""


def html_page(
    request: Request,
    words: Words,
    area: str,
    title: str,
    body: Flattenable,
    *,
    who: Account | None = None,
    library: Library | None = None,
    status: int = 200,
) -> bytes:
    """A reader or staff page in the gateway's one shell: headed by the library's name, with
    the switch to the other language, and once logged in the area's links, the logout form
    and who is logged in."""
    heading = words("reader_gateway") if area == "reader" else words("staff_pages")
    if library is not None:
        heading = f"{library.label or library.symbol} {heading}"
    switch = "en" if words.index == 0 else "zh"
    here = (request.path or b"/").decode("utf-8", "replace")
    # The guide's menus: 个人管理, 申请管理 (or the staff's 事务管理), 帐户管理, 帮助, 关于.
    guide = [
        link(f"/{area}/help", words("help"), id="help"),
        link(f"/{area}/about", words("about"), id="about"),
    ]
    nav: tuple[Flattenable, ...] = tuple(guide)
    if who is not None:
        if area == "reader":
            links = [
                link("/reader/profile", words("profile"), id="profile"),
                link("/reader/request", words("submit_request")),
                link("/reader/requests", words("request_list")),
                link("/reader/link", words("accounts_manage"), id="accounts-manage"),
            ]
        else:
            links = [
                link("/staff/", words("staff_pages")),
                link("/staff/accounts", words("accounts_manage"), id="accounts-manage"),
                link("/staff/profile", words("profile"), id="profile"),
            ]
        logout = tags.form(method="post", action=f"/{area}/logout")(
            csrf_field(request), tags.button(type="submit")(words("log_out"))
        )
        nav = (*links, *guide, logout, tags.span(who.name or who.username))
    chrome = Chrome(
        lang=words.code,
        heading=heading,
        csp=_CSP,
        nav=nav,
        switch=link(f"{here}?lang={switch}", words("switch"), id="lang"),
        script="/static/isoill.js",
    )
    return pages.page(request, chrome, title, body, status=status)


def problems_box(words: Words, problems: Sequence[str]) -> Flattenable:
    return pages.problems_box(words("problems"), [words.problem(p) for p in problems])


def bad_fields(problems: Sequence[str]) -> set[str]:
    return {p.partition(":")[0].strip() for p in problems}


def form_row(label: Flattenable, *content: Flattenable, id: str = "") -> Tag:
    """One line of a form: its label (for the field ``id``) and the field."""
    caption = tags.label(for_=id)(label) if id else tags.label(label)
    return tags.div(class_="row")(caption, *content)


def options(choices: Iterable[tuple[str, str]], chosen: str | None) -> list[Tag]:
    """A select's options, ``(value, text)``, the chosen one selected."""
    out = []
    for value, text in choices:
        option = tags.option(value=value)
        if value == chosen:
            option(selected="")
        out.append(option(text))
    return out


def star() -> Tag:
    """The mark of a required field."""
    return tags.span(class_="req")("*")


# --- requests in and out ----------------------------------------------------------------------


class BadForm(Exception):
    """A post that is not a form this gateway's pages send."""


def read_post(request: Request) -> dict[str, str]:
    """The posted form's fields (the first value of each)."""
    kind = (request.getHeader(b"content-type") or b"").split(b";")[0].strip().lower()
    if kind != b"application/x-www-form-urlencoded":
        raise BadForm(say("not-a-form"))
    assert request.content is not None
    data = request.content.read(MAX_FORM + 1)
    if len(data) > MAX_FORM:
        raise BadForm(say("form-too-large"))
    try:
        text = data.decode("utf-8")
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=200, errors="strict")
    except (UnicodeDecodeError, ValueError) as err:
        raise BadForm(say("not-a-form")) from err
    return {key: values[0] for key, values in parsed.items()}


def _cross_site(request: Request) -> bool:
    """A post whose Origin is another site's (browsers send Origin on every POST)."""
    origin = request.getHeader(b"origin")
    if origin is None:
        return False
    host = request.getHeader(b"host") or b""
    return urlsplit(origin.decode("latin-1")).netloc.encode("latin-1").lower() != host.lower()


def _anon_csrf(request: Request) -> str:
    """The double-submit token of a visitor not logged in: the cookie's, or a new one (set
    once per request, however many forms the page has)."""
    made: str | None = getattr(request, "_isoill_anon", None)
    if made is not None:
        return made
    cookie = request.getCookie(ANON_COOKIE)
    token = cookie.decode("ascii", "replace") if cookie and len(cookie) >= 20 else ""
    if not token:
        token = secrets.token_urlsafe(24)
        request.addCookie(
            ANON_COOKIE,
            token.encode("ascii"),
            path=b"/",
            httpOnly=True,
            sameSite="strict",
            secure=request.isSecure() or None,
        )
    request._isoill_anon = token  # type: ignore[attr-defined]
    return token


def csrf_field(request: Request) -> Tag:
    """The hidden field every form of the pages posts: the session's token, or the
    visitor's double-submit one."""
    session: Session | None = getattr(request, "_isoill_session", None)
    token = session.csrf if session is not None else _anon_csrf(request)
    return tags.input(type="hidden", name="csrf", value=token)


def redirect(request: Request, to: str) -> bytes:
    request.setResponseCode(303)
    request.setHeader(b"location", to.encode("utf-8"))
    request.setHeader(b"cache-control", b"no-store")
    return b""


def _local(target: str, area: str) -> str:
    """A ``next`` address only if it is one of this area's own pages (no open redirect)."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(f"/{area}/"):
        return f"/{area}/"
    return target


# --- the areas -------------------------------------------------------------------------------

#: What a page answers: to a logged-in account, or (a page anyone may use) to whoever asks.
Get = Callable[[Request, Words, Account], bytes]
Post = Callable[[Request, Words, Account, dict[str, str]], bytes | int]
PublicGet = Callable[[Request, Words, Account | None], bytes]
PublicPost = Callable[[Request, Words, Account | None, dict[str, str]], bytes | int]


class Page(resource.Resource):
    """One page of an area, at its place in the resource tree: what it answers to GET and
    POST, its fixed children (``putChild``) and the ones named by a number or key
    (``child``). Every page answers through :meth:`Area.answer`, so the checks of the area
    (language, login, Origin, CSRF, errors) are in one place for all of them.

    A method the page has no answer for is "not found", as a path nothing is at; a method
    without a ``public_`` answer needs the area's login first, even on a path nothing is at,
    so that what is there cannot be probed without one. A path may end in slashes, which
    change nothing (``/reader/requests/`` is the list), but not hold an empty segment inside.
    """

    def __init__(
        self,
        area: Area,
        *,
        get: Get | None = None,
        post: Post | None = None,
        public_get: PublicGet | None = None,
        public_post: PublicPost | None = None,
        child: Callable[[str], Page | None] | None = None,
    ) -> None:
        super().__init__()
        self.area = area
        self.get = get
        self.post = post
        self.public_get = public_get
        self.public_post = public_post
        self.child = child
        #: Nothing is at this path: logged in, it answers "no such page".
        self.missing = False

    def getChild(self, path: bytes, request: Request) -> resource.IResource:
        """Twisted's hook for a path segment no ``putChild`` named."""
        if path == b"":
            # The same answers, but nothing under it: a slash may end a path, not sit inside.
            return Page(
                self.area,
                get=self.get,
                post=self.post,
                public_get=self.public_get,
                public_post=self.public_post,
            )
        found = self.child(path.decode("utf-8", "replace")) if self.child else None
        if found is None:
            found = Page(self.area)
            found.missing = True
        return found

    def render(self, request: Request) -> bytes | int:
        return self.area.answer(request, self)


class Area(Page):
    """``/reader/`` or ``/staff/``: the area's home page and the root of its pages, with the
    login of its own cookie."""

    area_name = ""
    cookie = b""
    #: The accounts that log in here.
    roles: frozenset[AccountRole] = frozenset()

    def __init__(self, desks: Desks, throttle: Throttle) -> None:
        super().__init__(self, public_get=self._home)
        self.desks = desks
        self.throttle = throttle
        self.putChild(b"login", Page(self, public_post=self._login))
        self.putChild(b"logout", Page(self, post=self._logout))

    def _home(self, request: Request, words: Words, who: Account | None) -> bytes:
        raise NotImplementedError

    # --- the login of this request ----------------------------------------------------------

    def _who(self, request: Request) -> Account | None:
        token = request.getCookie(self.cookie)
        if not token:
            return None
        found = self.desks.session(token.decode("ascii", "replace"))
        if found is None:
            return None
        session, account = found
        if account.role not in self.roles:
            return None
        request._isoill_session = session  # type: ignore[attr-defined]
        return account

    def _library(self, name: str) -> Library | None:
        return next((n for n in self.desks.libraries() if n.name == name), None)

    def _default_library(self, request: Request) -> Library | None:
        asked = (request.args or {}).get(b"library", [b""])[0].decode("utf-8", "replace")
        libraries = self.desks.libraries()
        return self._library(asked) or (libraries[0] if libraries else None)

    def answer(self, request: Request, target: Page) -> bytes | int:
        """Answer a request for one of this area's pages."""
        words = words_for(request, library_labels(self.desks.config))
        try:
            who = self._who(request)
            if request.method == b"POST":
                if _cross_site(request):
                    return self._refuse(request, words, 403, words("forbidden"), who)
                try:
                    fields = read_post(request)
                except BadForm as err:
                    return self._refuse(request, words, 400, words.said(err.args[0]), who)
                session: Session | None = getattr(request, "_isoill_session", None)
                expected = session.csrf if session is not None else _anon_csrf(request)
                if not same_token(fields.get("csrf", ""), expected):
                    return self._refuse(request, words, 403, words("csrf"), who)
                if target.public_post is not None:
                    return target.public_post(request, words, who, fields)
                if who is None:
                    return self._login_needed(request, words)
                if target.post is None:
                    return self._missing(request, words, who, target)
                return target.post(request, words, who, fields)
            if request.method not in (b"GET", b"HEAD"):
                request.setHeader(b"allow", b"GET, HEAD, POST")
                return self._refuse(request, words, 405, "GET, HEAD, POST", who)
            if target.public_get is not None:
                return target.public_get(request, words, who)
            if who is None:
                return self._login_needed(request, words)
            if target.get is None:
                return self._missing(request, words, who, target)
            return target.get(request, words, who)
        except Exception:
            log.failure("{area} page {uri}", area=self.area_name, uri=request.uri)
            self.desks.metrics.error("http_internal")
            return self._refuse(request, words, 500, words("internal_error"), None)

    def _refuse(
        self, request: Request, words: Words, status: int, text: str, who: Account | None
    ) -> bytes:
        library = None if who is None else self._library(who.library)
        back = tags.p(link(f"/{self.area_name}/", words("back")))
        # Only what was sent can be corrected (400, 409): a missing page, a login needed
        # or a right refused is not headed 请更正以下问题.
        heading = words("problems") if status in (400, 409) else ""
        box = pages.problems_box(heading, [words.problem(text)])
        return html_page(
            request,
            words,
            self.area_name,
            text,
            [box, back],
            who=who,
            library=library,
            status=status,
        )

    def _not_found(self, request: Request, words: Words, who: Account | None) -> bytes:
        return self._refuse(request, words, 404, words("not_found"), who)

    def _missing(self, request: Request, words: Words, who: Account, target: Page) -> bytes:
        """No page at this path (a real 404), or none that answers this method."""
        if target.missing:
            return self._refuse(request, words, 404, words("no_page"), who)
        return self._not_found(request, words, who)

    def _login_needed(self, request: Request, words: Words) -> bytes:
        if request.method == b"GET":
            target = (request.uri or b"/").decode("utf-8", "replace")
            return redirect(request, f"/{self.area_name}/?" + urlencode({"next": target}))
        return self._refuse(request, words, 401, words("login_needed"), None)

    # --- logging in and out ------------------------------------------------------------------

    def _login_form(
        self, request: Request, words: Words, problems: Sequence[str] = (), username: str = ""
    ) -> bytes:
        library = self._default_library(request)
        nxt = (request.args or {}).get(b"next", [b""])[0].decode("utf-8", "replace")
        title = words("login") if self.area_name == "reader" else words("staff_login")
        form = tags.form(method="post", action=f"/{self.area_name}/login", id="login")(
            csrf_field(request),
            tags.input(type="hidden", name="next", value=_local(nxt, self.area_name)),
            library_choice(words, self.desks.libraries(), library),
            form_row(
                words("username"),
                tags.input(
                    id="username",
                    name="username",
                    value=username,
                    required="",
                    autocomplete="username",
                ),
                id="username",
            ),
            form_row(
                words("password"),
                tags.input(
                    id="password",
                    name="password",
                    type="password",
                    required="",
                    autocomplete="current-password",
                ),
                id="password",
            ),
            tags.button(type="submit", id="log-in")(words("log_in")),
        )
        body: list[Flattenable] = [
            problems_box(words, problems),
            form,
            tags.p(link(f"/{self.area_name}/forgot", words("forgot_password"), id="forgot")),
        ]
        if self.area_name == "reader":
            body += [
                tags.p(link("/reader/register", words("register"), id="register")),
                tags.p(link("/reader/email", words("email_mode"))),
            ]
        status = 401 if problems else 200
        return html_page(
            request, words, self.area_name, title, body, library=library, status=status
        )

    def _login(
        self, request: Request, words: Words, who: Account | None, fields: dict[str, str]
    ) -> int:
        library = fields.get("library", "")
        username = fields.get("username", "").strip()
        password = fields.get("password", "")
        key = (library, username.lower())

        async def work() -> bytes:
            found = self.desks.account(library, username) if self._library(library) else None
            try:
                account = await log_in(
                    self.throttle,
                    key,
                    found,
                    password,
                    self.desks.seconds(),
                    may_log_in(self.roles),
                )
            except LoginHeld:
                return self._login_form(request, words, [words("locked")], username)
            if account is None:
                return self._login_form(request, words, [words("bad_login")], username)
            token, _ = self.desks.open_session(account)
            request.addCookie(
                self.cookie,
                token.encode("ascii"),
                path=f"/{self.area_name}/".encode(),
                httpOnly=True,
                sameSite="lax",
                secure=request.isSecure() or None,
            )
            return redirect(request, _local(fields.get("next", ""), self.area_name))

        return answer_later(request, work)

    def _logout(
        self, request: Request, words: Words, who: Account, fields: dict[str, str]
    ) -> bytes:
        token = request.getCookie(self.cookie)
        if token:
            self.desks.close_session(token.decode("ascii", "replace"))
        request.addCookie(self.cookie, b"", path=f"/{self.area_name}/".encode(), max_age=b"0")
        return redirect(request, f"/{self.area_name}/")


def library_choice(words: Words, libraries: Sequence[Library], chosen: Library | None) -> Tag:
    """The library a login or registration is for: a choice only when there is one."""
    if len(libraries) == 1:
        return tags.input(type="hidden", name="library", value=libraries[0].name)
    return form_row(
        words("library"),
        tags.select(id="library", name="library")(
            options(
                ((n.name, n.label or n.symbol) for n in libraries),
                None if chosen is None else chosen.name,
            )
        ),
        id="library",
    )


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def service_words(words: Words, service: ServiceType) -> str:
    """As the seed's list shows it: 复制-非归还, 借调-返还."""
    return {
        ServiceType.COPY: ("复制-非归还", "copy (non-returnable)"),
        ServiceType.LOAN: ("借调-返还", "loan (returnable)"),
    }[service][words.index]


_CJK = re.compile("[\u3400-\u9fff]")


def _language_labels() -> dict[str, tuple[str, str]]:
    """The name of each language code the form reads from a name (英语 -> eng), in each
    language: the first Chinese and the first English name the form takes for it."""
    names: dict[str, tuple[str, str]] = {}
    for name, code in LANGUAGE_NAMES.items():
        zh, en = names.get(code, ("", ""))
        if _CJK.search(name):
            zh = zh or name
        else:
            en = en or name.capitalize()
        names[code] = (zh, en)
    return names


#: The language a reader typed (英语) is kept as its ISO 639-2 code (eng); the pages name
#: it again, with the code, which suppliers' systems use.
LANGUAGE_LABELS = _language_labels()


def form_table(words: Words, form: ReaderForm) -> Tag:
    """Every field of a request the reader filled in, labelled, enums in words."""
    rows: list[list[Flattenable]] = []
    for name, value in to_fields(form).items():
        if not value:
            continue
        typed = getattr(form, name)
        shown = value
        if isinstance(typed, StrEnum):
            shown = words.value(typed)
        elif isinstance(typed, Decimal):
            shown = money(typed)
        elif name == "holding_library":
            shown = words.library(value)
        elif name == "language" and value in LANGUAGE_LABELS:
            shown = f"{words.pick(LANGUAGE_LABELS[value])} ({value})"
        rows.append([words.field(name), shown])
    return table([words("field"), words("value")], rows, id="form")


def history_text(words: Words, text: str) -> str:
    """One history line in the page's language. The desk writes it in both
    (:mod:`isoill.library.wording`); lines stored before were one "中文 / English" (or
    "English / 中文") string, shown by its half in the page's language; a line without the
    separator is shown whole (a symbol, an APDU's name)."""
    if isinstance(text, Said):
        return words.said(text)
    first, separator, second = text.partition(" / ")
    if not separator:
        return text
    zh, en = (first, second) if _CJK.search(first) else (second, first)
    return words.pick((zh, en))


def history_list(words: Words, history: Sequence[tuple[datetime, str]]) -> list[Flattenable]:
    """A request's history, headed, oldest first."""
    return [
        tags.h2(words("history")),
        tags.ol(id="history")(
            [
                tags.li(f"{at.isoformat(sep=' ', timespec='seconds')} {history_text(words, text)}")
                for at, text in history
            ]
        ),
    ]


class Script(resource.Resource):
    """``/static/isoill.js``: the pages' one script, served by the gateway itself (CSP)."""

    isLeaf = True

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"text/javascript; charset=utf-8")
        request.setHeader(b"cache-control", b"max-age=3600")
        request.setHeader(b"x-content-type-options", b"nosniff")
        return SCRIPT
