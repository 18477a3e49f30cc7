"""The pages of the libraries on the gateway: ``/reader/`` for readers, ``/staff/`` for ILL staff.

They follow the Tsinghua reader gateway and the CALIS centre's pages, because that is what
readers and staff of CALIS libraries know: register (the account waits until staff confirm
it), log in, 提交申请 (submit the request form), 申请列表 (the request list with the seed's
columns, and 取消 for what nobody has acted on yet), and the CALIS e-mail mode, which mails
the form to the reader's own library's ILL staff. Staff confirm accounts, send readers'
requests on (distributed mode), record what was received, and answer other libraries'
requests: 运送 (ship, with the total fee) or 无法满足 (cannot supply, with the reason, which
e-mails the reader). Chinese first; ``?lang=en`` switches to English and is remembered.

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

import html
import secrets
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from twisted.internet import defer, threads
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import resource, server
from twisted.web.server import Request

from isoill.apdu.enums import ReasonUnfilled
from isoill.gateway.accounts import (
    MAX_PASSWORD,
    Account,
    AccountError,
    AccountRole,
    Session,
    can_confirm,
    hash_password,
    read_registration,
    same_token,
    sees,
    verify_password,
)
from isoill.gateway.config import Config, Network
from isoill.gateway.desk import DeskRefused
from isoill.gateway.library import (
    FINAL_STATES,
    STATE_LABELS,
    SUPPLY_LABELS,
    ReaderRequest,
    RequestState,
    SupplyRequest,
    SupplyState,
)
from isoill.gateway.metrics import Metrics
from isoill.mapping.reader_form import (
    FIELD_LABELS,
    LIMITS,
    MAX_LENGTH,
    REQUIRED,
    VALUE_LABELS,
    Delivery,
    DocumentType,
    FormError,
    ReaderForm,
    ServiceType,
    Urgency,
    read_form,
    to_fields,
)

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

    def libraries(self) -> list[Network]: ...
    def account(self, library: str, username: str) -> Account | None: ...
    def accounts(self, library: str, *, confirmed: bool | None = None) -> list[Account]: ...
    def register(self, account: Account) -> Account: ...
    def confirm_account(self, staff: Account, username: str) -> Account: ...
    def open_session(self, account: Account) -> tuple[str, Session]: ...
    def session(self, token: str) -> tuple[Session, Account] | None: ...
    def close_session(self, token: str) -> None: ...
    def submit(self, library: str, reader: str, form: ReaderForm) -> ReaderRequest: ...
    def reader_requests(self, library: str, reader: str) -> list[ReaderRequest]: ...
    def reader_request(self, library: str, reader: str, number: int) -> ReaderRequest: ...
    def cancel(self, library: str, reader: str, number: int) -> ReaderRequest: ...
    def library_requests(self, library: str) -> list[ReaderRequest]: ...
    def library_request(self, library: str, number: int) -> ReaderRequest: ...
    def send_request(self, library: str, number: int, suppliers: list[str]) -> ReaderRequest: ...
    def mark_received(self, library: str, number: int) -> ReaderRequest: ...
    def mark_returned(self, library: str, number: int, via: str = "") -> ReaderRequest: ...
    def supply_requests(self, library: str) -> list[SupplyRequest]: ...
    def ship(
        self, library: str, key: str, total_cost: Decimal, note: str = ""
    ) -> SupplyRequest: ...
    def unfillable(self, library: str, key: str, reason: str, note: str = "") -> SupplyRequest: ...
    def mail_request(
        self, library: str, reader: str, form: ReaderForm, to_library: str
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
    "done_unfillable": (
        "已答复无法满足, 并通知读者",
        "Answered: cannot supply (the reader is told)",
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
    "kind": ("类型", "Kind"),
    "group_account": ("集团用户", "group account"),
    "reader_account": ("个人用户", "reader"),
    "switch": ("English", "中文"),
    "welcome": ("欢迎", "Welcome"),
    "too_many_mails": (
        "发送的申请过多, 请稍后再试或联系本馆馆际互借员",
        "Too many requests sent from here: try again later, or ask your library's ILL staff",
    ),
    "to_library": ("发送给哪个图书馆的馆际互借员", "To the ILL staff of"),
}


@dataclass(frozen=True)
class Words:
    """The words of one page, in the reader's language (0 Chinese, 1 English)."""

    index: int

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


def _words(request: Request) -> Words:
    """The page's language: ``?lang=`` (remembered in a cookie), else the cookie, else
    Chinese."""
    asked = (request.args or {}).get(b"lang", [b""])[0]
    if asked in (b"en", b"zh"):
        request.addCookie(LANG_COOKIE, asked, path=b"/", sameSite="lax", max_age=b"31536000")
        return Words(1 if asked == b"en" else 0)
    return Words(1 if request.getCookie(LANG_COOKIE) == b"en" else 0)


# --- HTML -----------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


_STYLE = (
    "body{font-family:'Noto Sans CJK SC','WenQuanYi Zen Hei',sans-serif;margin:0;color:#222}"
    "header{background:#5a2d82;color:#fff;padding:.6em 1.2em;display:flex;"
    "justify-content:space-between;align-items:center}header a{color:#fff}"
    "nav{background:#eee;padding:.4em 1.2em}nav a,nav form{margin-right:1.2em;display:inline}"
    "main{padding:1em 1.2em}table{border-collapse:collapse;margin:.5em 0 1em}"
    "td,th{border:1px solid #bbb;padding:.3em .6em;text-align:left;vertical-align:top}"
    "th{background:#f0ecf5}fieldset{margin-bottom:1em;border:1px solid #ccc}"
    "legend{font-weight:bold}.row>label:first-child{display:inline-block;min-width:9em}"
    ".row{margin:.35em 0}.hint{color:#666;font-size:90%}.req{color:#c00}"
    ".problems{border:1px solid #c00;background:#fee;padding:.5em 1em}"
    ".message{border:1px solid #393;background:#efe;padding:.5em 1em}"
    "button{cursor:pointer}input.bad,select.bad,textarea.bad{border:2px solid #c00}"
)
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


def _page(
    request: Request,
    words: Words,
    area: str,
    title: str,
    body: str,
    *,
    who: Account | None = None,
    library: Network | None = None,
    status: int = 200,
) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"content-type", b"text/html; charset=utf-8")
    request.setHeader(b"content-security-policy", _CSP)
    request.setHeader(b"x-frame-options", b"DENY")
    request.setHeader(b"x-content-type-options", b"nosniff")
    request.setHeader(b"referrer-policy", b"same-origin")
    request.setHeader(b"cache-control", b"no-store")
    heading = words("reader_gateway") if area == "reader" else words("staff_pages")
    if library is not None:
        heading = f"{library.label or library.symbol} {heading}"
    switch = "en" if words.index == 0 else "zh"
    here = (request.path or b"/").decode("utf-8", "replace")
    nav = ""
    if who is not None:
        csrf = _csrf_field(request)
        if area == "reader":
            links = [
                ("/reader/request", words("submit_request")),
                ("/reader/requests", words("request_list")),
            ]
        else:
            links = [("/staff/", words("staff_pages"))]
        nav = (
            "<nav>"
            + "".join(f'<a href="{_e(href)}">{_e(text)}</a>' for href, text in links)
            + f'<form method="post" action="/{area}/logout">{csrf}'
            f'<button type="submit">{_e(words("log_out"))}</button></form>'
            f"<span>{_e(who.name or who.username)}</span></nav>"
        )
    page = (
        f'<!doctype html><html lang="{words.code}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style>"
        '<script src="/static/isoill.js" defer></script></head><body>'
        f"<header><strong>{_e(heading)}</strong>"
        f'<a href="{_e(here)}?lang={switch}" id="lang">{_e(words("switch"))}</a></header>'
        f"{nav}<main><h1>{_e(title)}</h1>{body}</main></body></html>"
    )
    return page.encode("utf-8")


def _table(head: Sequence[str], rows: Iterable[Sequence[str]], *, id: str = "") -> str:
    """Cells are HTML already (callers escape what they put in)."""
    top = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    ident = f' id="{_e(id)}"' if id else ""
    return f"<table{ident}><thead><tr>{top}</tr></thead><tbody>{body}</tbody></table>"


def _problems(words: Words, problems: Sequence[str]) -> str:
    if not problems:
        return ""
    items = "".join(f"<li>{_e(p)}</li>" for p in problems)
    return f'<div class="problems" role="alert">{_e(words("problems"))}<ul>{items}</ul></div>'


def _message(text: str) -> str:
    return f'<p class="message" role="status">{_e(text)}</p>' if text else ""


def _bad_fields(problems: Sequence[str]) -> set[str]:
    return {p.partition(":")[0].strip() for p in problems}


# --- requests in and out ----------------------------------------------------------------------


class _BadForm(Exception):
    """A post that is not a form this gateway's pages send."""


def _form(request: Request) -> dict[str, str]:
    """The posted form's fields (the first value of each)."""
    kind = (request.getHeader(b"content-type") or b"").split(b";")[0].strip().lower()
    if kind != b"application/x-www-form-urlencoded":
        raise _BadForm("not a form post")
    assert request.content is not None
    data = request.content.read(MAX_FORM + 1)
    if len(data) > MAX_FORM:
        raise _BadForm("the form is too large")
    try:
        text = data.decode("utf-8")
        parsed = parse_qs(text, keep_blank_values=True, max_num_fields=200, errors="strict")
    except (UnicodeDecodeError, ValueError) as err:
        raise _BadForm(f"not a form: {err}") from err
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


def _csrf_field(request: Request) -> str:
    session: Session | None = getattr(request, "_isoill_session", None)
    token = session.csrf if session is not None else _anon_csrf(request)
    return f'<input type="hidden" name="csrf" value="{_e(token)}">'


def _redirect(request: Request, to: str) -> bytes:
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


class Throttle:
    """At most ``limit`` events per key in ``window`` seconds, counted in memory: enough to
    stop password guessing, or a stranger mailing a library's staff from the e-mail page
    without end (one process's count; several processes each hold their own)."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = LOCKOUT_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self.events: dict[tuple[str, str], list[float]] = {}

    def held(self, key: tuple[str, str], now: float) -> bool:
        recent = [t for t in self.events.get(key, ()) if now - t < self.window]
        if recent:
            self.events[key] = recent
        else:
            self.events.pop(key, None)
        return len(recent) >= self.limit

    def count(self, key: tuple[str, str], now: float) -> None:
        self.events.setdefault(key, []).append(now)
        if len(self.events) > 10000:  # a flood of made-up keys must not grow this for ever
            oldest = min(self.events, key=lambda k: self.events[k][-1])
            del self.events[oldest]

    def clear(self, key: tuple[str, str]) -> None:
        self.events.pop(key, None)


def answer_later(request: Request, work: Callable[[], Coroutine[Any, Any, bytes]]) -> int:
    """Answer from a coroutine (one that waits for a password check in a thread)."""
    gone: list[bool] = []
    request.notifyFinish().addErrback(lambda _: gone.append(True))

    def done(body: bytes) -> None:
        if not gone:
            request.write(body)
            request.finish()

    def failed(reason: Failure) -> None:
        log.failure("page {uri}", reason, uri=request.uri)
        if not gone:
            request.setResponseCode(500)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            request.write(b"internal error; the gateway's log says more")
            request.finish()

    defer.ensureDeferred(work()).addCallbacks(done, failed)
    return server.NOT_DONE_YET


# --- the areas -------------------------------------------------------------------------------


class _Area(resource.Resource):
    """``/reader/`` or ``/staff/``: routes by path and method, with the login of its
    own cookie."""

    isLeaf = True
    area = ""
    cookie = b""

    def __init__(self, desks: Desks, throttle: Throttle) -> None:
        super().__init__()
        self.desks = desks
        self.throttle = throttle

    # --- the login of this request ----------------------------------------------------------

    def _who(self, request: Request) -> Account | None:
        token = request.getCookie(self.cookie)
        if not token:
            return None
        found = self.desks.session(token.decode("ascii", "replace"))
        if found is None:
            return None
        session, account = found
        if account.staff != (self.area == "staff"):
            return None
        request._isoill_session = session  # type: ignore[attr-defined]
        return account

    def _library(self, name: str) -> Network | None:
        return next((n for n in self.desks.libraries() if n.name == name), None)

    def _default_library(self, request: Request) -> Network | None:
        asked = (request.args or {}).get(b"library", [b""])[0].decode("utf-8", "replace")
        libraries = self.desks.libraries()
        return self._library(asked) or (libraries[0] if libraries else None)

    def render(self, request: Request) -> bytes | int:
        words = _words(request)
        path = [p.decode("utf-8", "replace") for p in request.postpath or []]
        while path and path[-1] == "":
            path.pop()
        try:
            who = self._who(request)
            if request.method == b"POST":
                if _cross_site(request):
                    return self._refuse(request, words, 403, words("forbidden"), who)
                try:
                    fields = _form(request)
                except _BadForm as err:
                    return self._refuse(request, words, 400, str(err), who)
                session: Session | None = getattr(request, "_isoill_session", None)
                expected = session.csrf if session is not None else _anon_csrf(request)
                if not same_token(fields.get("csrf", ""), expected):
                    return self._refuse(request, words, 403, words("csrf"), who)
                return self.post(request, words, path, fields, who)
            if request.method not in (b"GET", b"HEAD"):
                request.setHeader(b"allow", b"GET, HEAD, POST")
                return self._refuse(request, words, 405, "GET, HEAD, POST", who)
            return self.get(request, words, path, who)
        except Exception:
            log.failure("{area} page {uri}", area=self.area, uri=request.uri)
            self.desks.metrics.error("http_internal")
            return self._refuse(request, words, 500, "internal error", None)

    def get(self, request: Request, words: Words, path: list[str], who: Account | None) -> bytes:
        raise NotImplementedError

    def post(
        self,
        request: Request,
        words: Words,
        path: list[str],
        fields: dict[str, str],
        who: Account | None,
    ) -> bytes | int:
        raise NotImplementedError

    def _refuse(
        self, request: Request, words: Words, status: int, text: str, who: Account | None
    ) -> bytes:
        library = None if who is None else self._library(who.library)
        back = f'<p><a href="/{self.area}/">{_e(words("back"))}</a></p>'
        return _page(
            request,
            words,
            self.area,
            text,
            _problems(words, [text]) + back,
            who=who,
            library=library,
            status=status,
        )

    def _not_found(self, request: Request, words: Words, who: Account | None) -> bytes:
        return self._refuse(request, words, 404, words("not_found"), who)

    def _login_needed(self, request: Request, words: Words) -> bytes:
        if request.method == b"GET":
            target = (request.uri or b"/").decode("utf-8", "replace")
            return _redirect(request, f"/{self.area}/?" + urlencode({"next": target}))
        return self._refuse(request, words, 401, words("login_needed"), None)

    # --- logging in and out ------------------------------------------------------------------

    def _login_form(
        self, request: Request, words: Words, problems: Sequence[str] = (), username: str = ""
    ) -> bytes:
        library = self._default_library(request)
        nxt = (request.args or {}).get(b"next", [b""])[0].decode("utf-8", "replace")
        title = words("login") if self.area == "reader" else words("staff_login")
        body = _problems(words, problems) + (
            f'<form method="post" action="/{self.area}/login" id="login">{_csrf_field(request)}'
            f'<input type="hidden" name="next" value="{_e(_local(nxt, self.area))}">'
            + _library_choice(words, self.desks.libraries(), library)
            + f'<div class="row"><label for="username">{_e(words("username"))}</label>'
            f'<input id="username" name="username" value="{_e(username)}" required'
            ' autocomplete="username"></div>'
            f'<div class="row"><label for="password">{_e(words("password"))}</label>'
            '<input id="password" name="password" type="password" required'
            ' autocomplete="current-password"></div>'
            f'<button type="submit" id="log-in">{_e(words("log_in"))}</button></form>'
        )
        if self.area == "reader":
            body += (
                f'<p><a href="/reader/register" id="register">{_e(words("register"))}</a></p>'
                f'<p><a href="/reader/email">{_e(words("email_mode"))}</a></p>'
            )
        status = 401 if problems else 200
        return _page(request, words, self.area, title, body, library=library, status=status)

    def _login(self, request: Request, words: Words, fields: dict[str, str]) -> int:
        library = fields.get("library", "")
        username = fields.get("username", "").strip()
        password = fields.get("password", "")
        key = (library, username.lower())

        async def work() -> bytes:
            now = time.time()
            if self.throttle.held(key, now):
                return self._login_form(request, words, [words("locked")], username)
            account = self.desks.account(library, username)
            # The same scrypt work when there is no such account: the answer's timing must
            # not tell which user names exist.
            stored = account.password if account is not None else DUMMY_HASH
            # A password longer than any account may have is checked against nothing real.
            if len(password) > MAX_PASSWORD:
                stored = DUMMY_HASH
            good = await threads.deferToThread(verify_password, password, stored)
            ok = (
                good
                and account is not None
                and account.confirmed
                and account.staff == (self.area == "staff")
            )
            if not ok or account is None:
                self.throttle.count(key, now)
                return self._login_form(request, words, [words("bad_login")], username)
            self.throttle.clear(key)
            token, _ = self.desks.open_session(account)
            request.addCookie(
                self.cookie,
                token.encode("ascii"),
                path=f"/{self.area}/".encode(),
                httpOnly=True,
                sameSite="lax",
                secure=request.isSecure() or None,
            )
            return _redirect(request, _local(fields.get("next", ""), self.area))

        return answer_later(request, work)

    def _logout(self, request: Request) -> bytes:
        token = request.getCookie(self.cookie)
        if token:
            self.desks.close_session(token.decode("ascii", "replace"))
        request.addCookie(self.cookie, b"", path=f"/{self.area}/".encode(), max_age=b"0")
        return _redirect(request, f"/{self.area}/")


#: A hash checked when a login names no account, so that it takes as long as a real one.
DUMMY_HASH = (
    "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)


def _library_choice(words: Words, libraries: Sequence[Network], chosen: Network | None) -> str:
    if len(libraries) == 1:
        return f'<input type="hidden" name="library" value="{_e(libraries[0].name)}">'
    options = "".join(
        f'<option value="{_e(n.name)}"{" selected" if chosen is n else ""}>'
        f"{_e(n.label or n.symbol)}</option>"
        for n in libraries
    )
    return (
        f'<div class="row"><label for="library">{_e(words("library"))}</label>'
        f'<select id="library" name="library">{options}</select></div>'
    )


# --- the reader's pages ------------------------------------------------------------------------


class ReaderPages(_Area):
    area = "reader"
    cookie = READER_COOKIE

    def __init__(self, desks: Desks, throttle: Throttle) -> None:
        super().__init__(desks, throttle)
        self.mails = Throttle(MAX_MAILS, 3600.0)

    def get(self, request: Request, words: Words, path: list[str], who: Account | None) -> bytes:
        if path == []:
            return self._home(request, words, who) if who else self._login_form(request, words)
        if path == ["register"]:
            return self._register_form(request, words, self._default_library(request))
        if path == ["email"]:
            return self._email_form(request, words, who)
        if who is None:
            return self._login_needed(request, words)
        library = self._library(who.library)
        if path == ["request"]:
            return self._request_form(request, words, who, _prefill(who))
        if path == ["requests"]:
            return self._list(request, words, who)
        if len(path) == 2 and path[0] == "requests" and path[1].isdigit():
            try:
                found = self.desks.reader_request(who.library, who.username, int(path[1]))
            except KeyError:
                return self._not_found(request, words, who)
            return _page(
                request,
                words,
                "reader",
                f"{words('number')} {found.number}",
                _request_details(words, found),
                who=who,
                library=library,
            )
        return self._not_found(request, words, who)

    def post(
        self,
        request: Request,
        words: Words,
        path: list[str],
        fields: dict[str, str],
        who: Account | None,
    ) -> bytes | int:
        if path == ["login"]:
            return self._login(request, words, fields)
        if path == ["register"]:
            return self._register(request, words, fields)
        if path == ["email"]:
            return self._email(request, words, fields, who)
        if who is None:
            return self._login_needed(request, words)
        if path == ["logout"]:
            return self._logout(request)
        if path == ["request"]:
            return self._submit(request, words, fields, who)
        if len(path) == 3 and path[0] == "requests" and path[2] == "cancel" and path[1].isdigit():
            try:
                self.desks.cancel(who.library, who.username, int(path[1]))
            except KeyError:
                return self._not_found(request, words, who)
            except DeskRefused as refused:
                return self._refuse(request, words, 409, "; ".join(refused.reasons), who)
            return _redirect(request, "/reader/requests?done=cancelled")
        return self._not_found(request, words, who)

    # --- registration -----------------------------------------------------------------------

    def _register_form(
        self,
        request: Request,
        words: Words,
        library: Network | None,
        fields: dict[str, str] | None = None,
        problems: Sequence[str] = (),
        status: int = 200,
    ) -> bytes:
        fields = fields or {}
        bad = _bad_fields(problems)
        if library is None:
            return self._not_found(request, words, None)

        def row(name: str, label: str, kind: str = "text", required: bool = False) -> str:
            star = '<span class="req">*</span>' if required else ""
            value = "" if kind == "password" else fields.get(name, "")
            css = ' class="bad"' if name in bad else ""
            need = " required" if required else ""
            return (
                f'<div class="row"><label for="{name}">{star}{_e(label)}</label>'
                f'<input id="{name}" name="{name}" type="{kind}" value="{_e(value)}"'
                f"{css}{need}></div>"
            )

        member = ""
        if library.mode == "central":
            options = "".join(
                f'<option value="{_e(m.symbol)}"'
                f"{' selected' if fields.get('member') == m.symbol else ''}>"
                f"{_e(m.label or m.symbol)}</option>"
                for m in library.members
            )
            member = (
                f'<div class="row"><label for="member"><span class="req">*</span>'
                f'{_e(words("member"))}</label><select id="member" name="member">'
                f"{options}</select></div>"
            )
        body = (
            _problems(words, problems)
            + f'<p class="hint">{_e(words("required_note"))}</p>'
            + '<form method="post" action="/reader/register" id="register-form">'
            + _csrf_field(request)
            + _library_choice(words, self.desks.libraries(), library)
            + member
            + row("username", words("username"), required=True)
            + row("password", words("password"), "password", True)
            + row("password2", words("password2"), "password", True)
            + row("name", words.field("name"), required=True)
            + row("email", words.field("email"), "email", True)
            + row("phone", words.field("phone"))
            + row("id_type", words("id_type"))
            + row("id_number", words("id_number"))
            + f'<button type="submit" id="register-submit">{_e(words("register_submit"))}'
            "</button></form>"
        )
        return _page(
            request, words, "reader", words("register_title"), body, library=library, status=status
        )

    def _register(self, request: Request, words: Words, fields: dict[str, str]) -> int | bytes:
        library = self._library(fields.get("library", ""))
        if library is None:
            return self._not_found(request, words, None)
        try:
            account, password = read_registration(library, fields)
        except AccountError as err:
            return self._register_form(request, words, library, fields, err.problems, 400)

        async def work() -> bytes:
            hashed = await threads.deferToThread(hash_password, password)
            try:
                self.desks.register(_with_password(account, hashed))
            except AccountError as err:
                return self._register_form(request, words, library, fields, err.problems, 409)
            return _page(
                request,
                words,
                "reader",
                words("register_title"),
                _message(words("registered"))
                + f'<p><a href="/reader/">{_e(words("log_in"))}</a></p>',
                library=library,
            )

        return answer_later(request, work)

    # --- home, form and list -------------------------------------------------------------------

    def _home(self, request: Request, words: Words, who: Account) -> bytes:
        library = self._library(who.library)
        requests = self.desks.reader_requests(who.library, who.username)
        waiting = sum(r.state not in FINAL_STATES for r in requests)
        body = (
            f"<p>{_e(words('welcome'))}, {_e(who.name or who.username)}.</p>"
            f'<ul><li><a href="/reader/request">{_e(words("submit_request"))}</a></li>'
            f'<li><a href="/reader/requests">{_e(words("request_list"))}</a> ({waiting})</li>'
            f'<li><a href="/reader/email">{_e(words("email_mode"))}</a></li></ul>'
        )
        return _page(
            request, words, "reader", words("reader_gateway"), body, who=who, library=library
        )

    def _request_form(
        self,
        request: Request,
        words: Words,
        who: Account | None,
        fields: dict[str, str],
        problems: Sequence[str] = (),
        *,
        action: str = "/reader/request",
        extra: str = "",
        title: str = "",
        status: int = 200,
    ) -> bytes:
        library = None if who is None else self._library(who.library)
        body = _problems(words, problems) + (
            f'<form method="post" action="{_e(action)}" id="request-form">'
            f"{_csrf_field(request)}{extra}"
            + reader_form_fields(words, fields, _bad_fields(problems), self._symbols())
            + f'<button type="submit" id="submit">{_e(words("submit"))}</button> '
            f'<a href="/reader/">{_e(words("back"))}</a></form>'
        )
        return _page(
            request,
            words,
            "reader",
            title or words("submit_request"),
            body,
            who=who,
            library=library,
            status=status,
        )

    def _symbols(self) -> list[str]:
        """Libraries a reader may name as the holding library: the configured suppliers."""
        config = self.desks.config
        found = [s for p in config.peers for s in p.symbols if "*" not in s and "?" not in s]
        found += [n.symbol for n in config.libraries()]
        return sorted(set(found))

    def _submit(
        self, request: Request, words: Words, fields: dict[str, str], who: Account
    ) -> bytes:
        try:
            form = read_form(fields, today=date.today())
        except FormError as err:
            return self._request_form(request, words, who, fields, err.problems, status=400)
        try:
            submitted = self.desks.submit(who.library, who.username, form)
        except DeskRefused as refused:
            return self._request_form(request, words, who, fields, refused.reasons, status=409)
        return _redirect(request, f"/reader/requests?done=submitted&n={submitted.number}")

    def _list(self, request: Request, words: Words, who: Account) -> bytes:
        library = self._library(who.library)
        found = self.desks.reader_requests(who.library, who.username)
        done = (request.args or {}).get(b"done", [b""])[0]
        number = (request.args or {}).get(b"n", [b""])[0].decode("ascii", "replace")
        message = ""
        if done == b"submitted":
            message = _message(f"{words('submitted')} {number if number.isdigit() else ''}")
        elif done == b"cancelled":
            message = _message(words("cancelled"))
        head = [
            words("number"),
            words("reference"),
            words("publication"),
            words("date"),
            words("service"),
            words("return_date"),
            words("state"),
            words("total_cost"),
            words("action"),
        ]
        rows = [_list_row(words, request, r) for r in found]
        table = _table(head, rows, id="requests") if rows else f"<p>{_e(words('no_requests'))}</p>"
        return _page(
            request,
            words,
            "reader",
            words("request_list"),
            message + table,
            who=who,
            library=library,
        )

    # --- CALIS e-mail mode --------------------------------------------------------------------

    def _email_form(
        self,
        request: Request,
        words: Words,
        who: Account | None,
        fields: dict[str, str] | None = None,
        problems: Sequence[str] = (),
        status: int = 200,
    ) -> bytes:
        libraries = [n for n in self.desks.libraries() if n.staff_email]
        own = None if who is None else who.library
        chosen = (fields or {}).get("to_library") or own or (libraries[0].name if libraries else "")
        options = "".join(
            f'<option value="{_e(n.name)}"{" selected" if n.name == chosen else ""}>'
            f"{_e(n.label or n.symbol)}</option>"
            for n in libraries
        )
        extra = (
            f'<div class="row"><label for="to_library">{_e(words("to_library"))}</label>'
            f'<select id="to_library" name="to_library">{options}</select></div>'
        )
        prefill = fields if fields is not None else _prefill(who)
        return self._request_form(
            request,
            words,
            who,
            prefill,
            problems,
            action="/reader/email",
            extra=extra,
            title=words("email_mode"),
            status=status,
        )

    def _email(
        self, request: Request, words: Words, fields: dict[str, str], who: Account | None
    ) -> bytes:
        to_library = fields.get("to_library", "")
        # Logged in, the reader's library is the account's; otherwise the one chosen. The mail
        # goes only to that library's own ILL staff: the address is never the reader's to give.
        own = who.library if who is not None else to_library
        if self._library(own) is None:
            return self._email_form(
                request, words, who, fields, ["to_library: no such library"], 400
            )
        address = request.getClientAddress()
        sender = ("mail", who.username if who is not None else getattr(address, "host", ""))
        now = time.time()
        if self.mails.held(sender, now):
            return self._refuse(request, words, 429, words("too_many_mails"), who)
        try:
            form = read_form(fields, today=date.today())
            reader = who.username if who is not None else form.email
            self.desks.mail_request(own, reader, form, to_library)
            self.mails.count(sender, now)
        except FormError as err:
            return self._email_form(request, words, who, fields, err.problems, 400)
        except DeskRefused as refused:
            return self._email_form(request, words, who, fields, refused.reasons, 403)
        library = self._library(own)
        return _page(
            request,
            words,
            "reader",
            words("email_mode"),
            _message(words("mailed")) + f'<p><a href="/reader/">{_e(words("back"))}</a></p>',
            who=who,
            library=library,
        )


def _with_password(account: Account, hashed: str) -> Account:
    from dataclasses import replace

    return replace(account, password=hashed)


def _prefill(who: Account | None) -> dict[str, str]:
    if who is None:
        return {}
    return {"name": who.name, "email": who.email, "phone": who.phone}


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _service_words(words: Words, service: ServiceType) -> str:
    """As the seed's list shows it: 复制-非归还, 借调-返还."""
    return {
        ServiceType.COPY: ("复制-非归还", "copy (non-returnable)"),
        ServiceType.LOAN: ("借调-返还", "loan (returnable)"),
    }[service][words.index]


def _list_row(words: Words, request: Request, r: ReaderRequest) -> list[str]:
    action = ""
    if r.state is RequestState.UNPROCESSED:
        action = (
            f'<form method="post" action="/reader/requests/{r.number}/cancel"'
            f' data-confirm="{_e(words("cancel_confirm"))}">{_csrf_field(request)}'
            f'<button type="submit" class="cancel" id="cancel-{r.number}">'
            f"{_e(words('cancel'))}</button></form>"
        )
    return [
        f'<a href="/reader/requests/{r.number}">{r.number}</a>',
        _e(r.form.reference),
        _e(r.form.title),
        _e(r.submitted.date().isoformat()),
        _e(_service_words(words, r.form.service)),
        _e("" if r.return_date is None else r.return_date.isoformat()),
        _e(words.pick(STATE_LABELS[r.state])),
        _e(_money(r.total_cost)),
        action,
    ]


def _request_details(words: Words, r: ReaderRequest) -> str:
    fields = to_fields(r.form)
    rows = [
        [_e(words.field(name)), _e(_shown(words, r.form, name, value))]
        for name, value in fields.items()
        if value
    ]
    summary = _table(
        [words("state"), words("total_cost"), words("return_date")],
        [
            [
                _e(words.pick(STATE_LABELS[r.state])),
                _e(_money(r.total_cost)),
                _e("" if r.return_date is None else r.return_date.isoformat()),
            ]
        ],
    )
    history = "".join(
        f"<li>{_e(at.isoformat(sep=' ', timespec='seconds'))} {_e(text)}</li>"
        for at, text in r.history
    )
    return (
        summary
        + _table([words("kind"), ""], rows)
        + f"<h2>{_e(words('history'))}</h2><ol>{history}</ol>"
        + f'<p><a href="/reader/requests">{_e(words("back"))}</a></p>'
    )


def _shown(words: Words, form: ReaderForm, name: str, value: str) -> str:
    typed = getattr(form, name)
    if isinstance(typed, ServiceType | DocumentType | Delivery | Urgency):
        return words.value(typed)
    return value


def reader_form_fields(
    words: Words, fields: dict[str, str], bad: set[str], symbols: Sequence[str]
) -> str:
    """The Tsinghua form's fields, in its sections and order, filled with ``fields``."""

    def label(name: str) -> str:
        star = '<span class="req">*</span>' if name in REQUIRED else ""
        return f'<label for="{name}">{star}{_e(words.field(name))}</label>'

    def text(name: str, hint: str = "", kind: str = "text", extra: str = "") -> str:
        css = ' class="bad"' if name in bad else ""
        need = " required" if name in REQUIRED else ""
        limit = LIMITS.get(name, MAX_LENGTH)
        note = f' <span class="hint">{_e(hint)}</span>' if hint else ""
        return (
            f'<div class="row">{label(name)}<input id="{name}" name="{name}" type="{kind}"'
            f' value="{_e(fields.get(name, ""))}" maxlength="{limit}"{css}{need}{extra}>'
            f"{note}</div>"
        )

    def area(name: str) -> str:
        css = ' class="bad"' if name in bad else ""
        limit = LIMITS.get(name, MAX_LENGTH)
        return (
            f'<div class="row">{label(name)}<textarea id="{name}" name="{name}" rows="2"'
            f' cols="50" maxlength="{limit}"{css}>{_e(fields.get(name, ""))}</textarea></div>'
        )

    def radios(name: str, values: Sequence[Any], default: Any) -> str:
        chosen = fields.get(name) or default.value
        boxes = "".join(
            f'<label><input type="radio" name="{name}" value="{_e(v.value)}" id="{name}-{v.value}"'
            f"{' checked' if v.value == chosen else ''}> {_e(words.value(v))}</label> "
            for v in values
        )
        return f'<div class="row">{label(name)}{boxes}</div>'

    def select(name: str, values: Sequence[Any], default: Any) -> str:
        chosen = fields.get(name) or default.value
        css = ' class="bad"' if name in bad else ""
        options = "".join(
            f'<option value="{_e(v.value)}"{" selected" if v.value == chosen else ""}>'
            f"{_e(words.value(v))}</option>"
            for v in values
        )
        return (
            f'<div class="row">{label(name)}<select id="{name}" name="{name}"{css}>'
            f"{options}</select></div>"
        )

    holdings = "".join(f'<option value="{_e(s)}">' for s in symbols)
    return (
        f'<p class="hint">{_e(words("required_note"))}</p>'
        f"<fieldset><legend>{_e(words('request_info'))}</legend>"
        + radios("service", list(ServiceType), ServiceType.COPY)
        + "</fieldset>"
        f"<fieldset><legend>{_e(words('document_info'))}</legend>"
        + select("document_type", list(DocumentType), DocumentType.JOURNAL_ARTICLE)
        + text("author")
        + text("title")
        + text("volume_issue", words.pick(("如: 9卷, 3期", "e.g. vol. 9, no. 3")))
        + text("edition")
        + text("article_title")
        + text("place")
        + text("publisher")
        + text("year")
        + text("pages", words.pick(("如: 35-42页", "e.g. 35-42")))
        + text("issn")
        + text("isbn")
        + text("doi")
        + text("calis_oid")
        + text("language", words.pick(("如: 英语, eng", "e.g. English, eng")))
        + "</fieldset>"
        f"<fieldset><legend>{_e(words('ill_info'))}</legend>"
        + text("valid_until", words("valid_hint"), "date")
        + select("delivery", list(Delivery), Delivery.EMAIL)
        + text("cost_limit", words("cost_hint"), extra=' inputmode="decimal"')
        + radios("urgency", list(Urgency), Urgency.NORMAL)
        + f'<p class="hint" id="rush-hint">{_e(words("rush_hint"))}</p>'
        + text("reference", words("reference_hint"))
        + text("holding_library", extra=' list="holding-libraries"')
        + f'<datalist id="holding-libraries">{holdings}</datalist>'
        + "</fieldset>"
        f"<fieldset><legend>{_e(words('user_info'))}</legend>"
        + text("name")
        + area("address")
        + text("postcode")
        + text("email", kind="email")
        + text("phone", kind="tel")
        + text("fax", kind="tel")
        + "</fieldset>"
        f"<fieldset><legend>{_e(words('notes_section'))}</legend>" + area("notes") + "</fieldset>"
    )


# --- the staff's pages ---------------------------------------------------------------------------


class StaffPages(_Area):
    area = "staff"
    cookie = STAFF_COOKIE

    def get(self, request: Request, words: Words, path: list[str], who: Account | None) -> bytes:
        if who is None:
            if path == []:
                return self._login_form(request, words)
            return self._login_needed(request, words)
        if path == []:
            return self._desk(request, words, who)
        return self._not_found(request, words, who)

    def post(
        self,
        request: Request,
        words: Words,
        path: list[str],
        fields: dict[str, str],
        who: Account | None,
    ) -> bytes | int:
        if path == ["login"]:
            return self._login(request, words, fields)
        if who is None:
            return self._login_needed(request, words)
        if path == ["logout"]:
            return self._logout(request)
        try:
            done = self._act(path, fields, who)
        except KeyError:
            return self._not_found(request, words, who)
        except (DeskRefused, AccountError) as refused:
            reasons = refused.reasons if isinstance(refused, DeskRefused) else refused.problems
            return self._refuse(request, words, 409, "; ".join(reasons), who)
        except PermissionError:
            return self._refuse(request, words, 403, words("forbidden"), who)
        if done is None:
            return self._not_found(request, words, who)
        log.info(
            "staff {user} of {library}: {action} {target}",
            user=who.username,
            library=who.library,
            action=done.removeprefix("done_"),
            target="/".join(path[:2]),
        )
        return _redirect(request, "/staff/?" + urlencode({"done": done}))

    def _act(self, path: list[str], fields: dict[str, str], who: Account) -> str | None:
        """Carry out one staff action; what to tell staff, or None for no such action."""
        library = who.library
        if len(path) == 3 and path[0] == "accounts" and path[2] == "confirm":
            self.desks.confirm_account(who, path[1])
            return "done_confirmed"
        if len(path) == 3 and path[0] == "requests" and path[1].isdigit():
            number = int(path[1])
            request = self.desks.library_request(library, number)
            if not sees(who, self.desks.account(library, request.reader)):
                raise KeyError(number)
            if path[2] == "send":
                suppliers = [s for s in fields.get("suppliers", "").replace(";", ",").split(",")]
                self.desks.send_request(
                    library, number, [s.strip() for s in suppliers if s.strip()]
                )
                return "done_sent"
            if path[2] == "received":
                self.desks.mark_received(library, number)
                return "done_received"
            if path[2] == "returned":
                self.desks.mark_returned(library, number, fields.get("via", ""))
                return "done_returned"
            return None
        if len(path) == 3 and path[0] == "supply":
            if who.member:
                raise PermissionError(path[1])  # the centre's requests are the centre's
            if path[2] == "ship":
                cost = _cost(fields.get("total_cost", ""))
                self.desks.ship(library, path[1], cost, fields.get("note", "").strip()[:200])
                return "done_shipped"
            if path[2] == "unfillable":
                reason = fields.get("reason", "")
                note = fields.get("note", "").strip()[:200]
                self.desks.unfillable(library, path[1], reason, note)
                return "done_unfillable"
        return None

    def _desk(self, request: Request, words: Words, who: Account) -> bytes:
        library = self._library(who.library)
        assert library is not None
        csrf = _csrf_field(request)
        done = (request.args or {}).get(b"done", [b""])[0].decode("ascii", "replace")
        message = _message(words(done)) if done.startswith("done_") and done in WORDS else ""
        # Accounts waiting for this member of staff.
        pending = [
            a for a in self.desks.accounts(library.name, confirmed=False) if can_confirm(who, a)
        ]
        account_rows = [
            [
                _e(a.username),
                _e(a.name),
                _e(a.email),
                _e(a.phone),
                _e(a.member),
                _e(
                    words("group_account")
                    if a.role is AccountRole.GROUP
                    else words("reader_account")
                ),
                f'<form method="post" action="/staff/accounts/'
                f'{_e(quote(a.username, safe=""))}/confirm">'
                f'{csrf}<button type="submit" id="confirm-{_e(a.username)}">'
                f"{_e(words('confirm'))}</button></form>",
            ]
            for a in pending
        ]
        accounts = (
            _table(
                [
                    words("username"),
                    words.field("name"),
                    words.field("email"),
                    words.field("phone"),
                    words("member"),
                    words("kind"),
                    words("action"),
                ],
                account_rows,
                id="accounts",
            )
            if account_rows
            else f"<p>{_e(words('none'))}</p>"
        )
        owners = {a.username: a for a in self.desks.accounts(library.name)}
        readers = [
            r for r in self.desks.library_requests(library.name) if sees(who, owners.get(r.reader))
        ]
        request_rows = [
            [
                str(r.number),
                _e(r.reader),
                _e(r.form.title),
                _e(r.submitted.date().isoformat()),
                _e(_service_words(words, r.form.service)),
                _e(words.pick(STATE_LABELS[r.state])),
                _e(_money(r.total_cost)),
                _reader_actions(words, csrf, library, r),
            ]
            for r in readers
        ]
        reader_table = (
            _table(
                [
                    words("number"),
                    words("reader"),
                    words("publication"),
                    words("date"),
                    words("service"),
                    words("state"),
                    words("total_cost"),
                    words("action"),
                ],
                request_rows,
                id="reader-requests",
            )
            if request_rows
            else f"<p>{_e(words('none'))}</p>"
        )
        supply = "" if who.member else self._supply_table(words, csrf, library)
        body = (
            message
            + f"<h2>{_e(words('accounts_pending'))}</h2>{accounts}"
            + f"<h2>{_e(words('readers_requests'))}</h2>{reader_table}"
            + supply
        )
        return _page(request, words, "staff", words("staff_pages"), body, who=who, library=library)

    def _supply_table(self, words: Words, csrf: str, library: Network) -> str:
        found = self.desks.supply_requests(library.name)
        reasons = "".join(
            f'<option value="{r.name.lower().replace("_", "-")}">'
            f"{_e(r.name.lower().replace('_', '-'))}</option>"
            for r in ReasonUnfilled
        )
        rows = []
        for s in found:
            action = _e(words.pick(SUPPLY_LABELS[s.state]))
            if s.state is SupplyState.PENDING:
                where = f"/staff/supply/{quote(s.key, safe='')}"
                action = (
                    f'<form method="post" action="{_e(where)}/ship">{csrf}'
                    f'{_e(words("total_cost"))} <input name="total_cost" size="6" value="0"'
                    ' inputmode="decimal" required> 元 '
                    f'<input name="note" size="12" placeholder="{_e(words("note"))}">'
                    f'<button type="submit">{_e(words("ship"))}</button></form>'
                    f'<form method="post" action="{_e(where)}/unfillable">{csrf}'
                    f'<select name="reason">{reasons}</select> '
                    f'<input name="note" size="12" placeholder="{_e(words("note"))}">'
                    f'<button type="submit">{_e(words("unfillable"))}</button></form>'
                )
            elif s.state is SupplyState.UNFILLABLE:
                action += f" ({_e(s.reason)})"
            elif s.state is SupplyState.SHIPPED:
                action += f" ({_e(_money(s.total_cost))})"
            rows.append(
                [
                    _e(s.key),
                    _e(s.requester),
                    _e(s.form.title),
                    _e(s.form.name),
                    _e(s.note),
                    _e(s.arrived.isoformat(sep=" ", timespec="minutes")),
                    action,
                ]
            )
        table = (
            _table(
                [
                    "transaction-id",
                    words("requester"),
                    words("publication"),
                    words("reader"),
                    words("note"),
                    words("arrived"),
                    words("action"),
                ],
                rows,
                id="supply-requests",
            )
            if rows
            else f"<p>{_e(words('none'))}</p>"
        )
        return f"<h2>{_e(words('supply_requests'))}</h2>{table}"


def _reader_actions(words: Words, csrf: str, library: Network, r: ReaderRequest) -> str:
    base = f"/staff/requests/{r.number}"
    if r.state is RequestState.UNPROCESSED and library.mode != "central":
        return (
            f'<form method="post" action="{base}/send">{csrf}'
            f'<input name="suppliers" size="20" placeholder="{_e(words("suppliers"))}"'
            f' value="{_e(r.form.holding_library)}">'
            f'<button type="submit" id="send-{r.number}">{_e(words("send_on"))}</button></form>'
        )
    if r.state is RequestState.SHIPPED and library.mode != "central":
        return (
            f'<form method="post" action="{base}/received">{csrf}'
            f'<button type="submit" id="received-{r.number}">{_e(words("received"))}</button>'
            "</form>"
        )
    if (
        r.state is RequestState.RECEIVED
        and r.form.service is ServiceType.LOAN
        and library.mode != "central"
    ):
        # A loan came to the library (distributed mode): the library sends it back.
        return (
            f'<form method="post" action="{base}/returned">{csrf}'
            f'<input name="via" size="12" placeholder="{_e(words("returned_via"))}">'
            f'<button type="submit" id="returned-{r.number}">{_e(words("returned"))}</button>'
            "</form>"
        )
    if r.rota.tried:
        return _e("; ".join(f"{t.symbol}: {t.reason}" for t in r.rota.tried))
    return ""


def _cost(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().removesuffix("元").strip())
    except InvalidOperation:
        raise DeskRefused([f"total cost: {text!r} is not an amount of yuan"]) from None
    if not value.is_finite() or value < 0 or value > Decimal("9999999.99"):
        raise DeskRefused([f"total cost: {text!r} is not an amount of yuan"])
    return value.quantize(Decimal("0.01"))


class Script(resource.Resource):
    """``/static/isoill.js``: the pages' one script, served by the gateway itself (CSP)."""

    isLeaf = True

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"text/javascript; charset=utf-8")
        request.setHeader(b"cache-control", b"max-age=3600")
        request.setHeader(b"x-content-type-options", b"nosniff")
        return SCRIPT


def web_pages(desks: Desks, throttle: Throttle) -> dict[bytes, resource.Resource]:
    """The resources the site puts under its root: ``reader``, ``staff``, and the script
    (at ``/static/isoill.js``)."""
    return {
        b"reader": ReaderPages(desks, throttle),
        b"staff": StaffPages(desks, throttle),
        b"isoill.js": Script(),
    }
