"""The reader pages of a library on the gateway, ``/reader/``.

They follow the Tsinghua reader gateway (and the CALIS centre's), because that is what
readers of CALIS libraries know: register (the account waits until staff confirm it), log
in, 提交申请 (submit the request form), 申请列表 (the request list with the seed's columns,
and 取消 for what nobody has acted on yet), and the CALIS e-mail mode, which mails the form
to the reader's own library's ILL staff and to no one else. Chinese first; ``?lang=en``
switches to English and is remembered.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from twisted.internet import threads
from twisted.web.server import Request

from isoill.gateway.accounts import (
    Account,
    AccountError,
    AccountRole,
    hash_password,
    read_registration,
)
from isoill.gateway.config import Network
from isoill.gateway.desk import DeskRefused
from isoill.gateway.library import (
    FINAL_STATES,
    STATE_LABELS,
    ReaderRequest,
    RequestState,
)
from isoill.gateway.web_common import (
    MAX_MAILS,
    READER_COOKIE,
    Area,
    Desks,
    Throttle,
    Words,
    answer_later,
    bad_fields,
    csrf_field,
    esc,
    html_page,
    html_table,
    library_choice,
    message_box,
    money,
    problems_box,
    redirect,
    service_words,
)
from isoill.mapping.reader_form import (
    LIMITS,
    MAX_LENGTH,
    REQUIRED,
    Delivery,
    DocumentType,
    FormError,
    ReaderForm,
    ServiceType,
    Urgency,
    read_form,
    to_fields,
)


class ReaderPages(Area):
    area = "reader"
    cookie = READER_COOKIE
    roles = frozenset({AccountRole.READER, AccountRole.GROUP})

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
            return html_page(
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
            return redirect(request, "/reader/requests?done=cancelled")
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
        bad = bad_fields(problems)
        if library is None:
            return self._not_found(request, words, None)

        def row(name: str, label: str, kind: str = "text", required: bool = False) -> str:
            star = '<span class="req">*</span>' if required else ""
            value = "" if kind == "password" else fields.get(name, "")
            css = ' class="bad"' if name in bad else ""
            need = " required" if required else ""
            return (
                f'<div class="row"><label for="{name}">{star}{esc(label)}</label>'
                f'<input id="{name}" name="{name}" type="{kind}" value="{esc(value)}"'
                f"{css}{need}></div>"
            )

        member = ""
        if library.mode == "central":
            options = "".join(
                f'<option value="{esc(m.symbol)}"'
                f"{' selected' if fields.get('member') == m.symbol else ''}>"
                f"{esc(m.label or m.symbol)}</option>"
                for m in library.members
            )
            member = (
                f'<div class="row"><label for="member"><span class="req">*</span>'
                f'{esc(words("member"))}</label><select id="member" name="member">'
                f"{options}</select></div>"
            )
        body = (
            problems_box(words, problems)
            + f'<p class="hint">{esc(words("required_note"))}</p>'
            + '<form method="post" action="/reader/register" id="register-form">'
            + csrf_field(request)
            + library_choice(words, self.desks.libraries(), library)
            + member
            + row("username", words("username"), required=True)
            + row("password", words("password"), "password", True)
            + row("password2", words("password2"), "password", True)
            + row("name", words.field("name"), required=True)
            + row("email", words.field("email"), "email", True)
            + row("phone", words.field("phone"))
            + row("id_type", words("id_type"))
            + row("id_number", words("id_number"))
            + f'<button type="submit" id="register-submit">{esc(words("register_submit"))}'
            "</button></form>"
        )
        return html_page(
            request, words, "reader", words("register_title"), body, library=library, status=status
        )

    def _register(self, request: Request, words: Words, fields: dict[str, str]) -> int | bytes:
        library = self._library(fields.get("library", ""))
        if library is None:
            return self._not_found(request, words, None)
        try:
            account, password = read_registration(library, fields)
        except AccountError as err:
            return self._register_form(request, words, library, fields, err.reasons, 400)

        async def work() -> bytes:
            hashed = await threads.deferToThread(hash_password, password)
            try:
                self.desks.register(replace(account, password=hashed))
            except AccountError as err:
                return self._register_form(request, words, library, fields, err.reasons, 409)
            return html_page(
                request,
                words,
                "reader",
                words("register_title"),
                message_box(words("registered"))
                + f'<p><a href="/reader/">{esc(words("log_in"))}</a></p>',
                library=library,
            )

        return answer_later(request, work)

    # --- home, form and list -------------------------------------------------------------------

    def _home(self, request: Request, words: Words, who: Account) -> bytes:
        library = self._library(who.library)
        requests = self.desks.reader_requests(who.library, who.username)
        waiting = sum(r.state not in FINAL_STATES for r in requests)
        body = (
            f"<p>{esc(words('welcome'))}, {esc(who.name or who.username)}.</p>"
            f'<ul><li><a href="/reader/request">{esc(words("submit_request"))}</a></li>'
            f'<li><a href="/reader/requests">{esc(words("request_list"))}</a> ({waiting})</li>'
            f'<li><a href="/reader/email">{esc(words("email_mode"))}</a></li></ul>'
        )
        return html_page(
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
        body = problems_box(words, problems) + (
            f'<form method="post" action="{esc(action)}" id="request-form">'
            f"{csrf_field(request)}{extra}"
            + reader_form_fields(words, fields, bad_fields(problems), self._symbols())
            + f'<button type="submit" id="submit">{esc(words("submit"))}</button> '
            f'<a href="/reader/">{esc(words("back"))}</a></form>'
        )
        return html_page(
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
            return self._request_form(request, words, who, fields, err.reasons, status=400)
        try:
            submitted = self.desks.submit(who.library, who.username, form)
        except DeskRefused as refused:
            return self._request_form(request, words, who, fields, refused.reasons, status=409)
        return redirect(request, f"/reader/requests?done=submitted&n={submitted.number}")

    def _list(self, request: Request, words: Words, who: Account) -> bytes:
        library = self._library(who.library)
        found = self.desks.reader_requests(who.library, who.username)
        done = (request.args or {}).get(b"done", [b""])[0]
        number = (request.args or {}).get(b"n", [b""])[0].decode("ascii", "replace")
        message = ""
        if done == b"submitted":
            message = message_box(f"{words('submitted')} {number if number.isdigit() else ''}")
        elif done == b"cancelled":
            message = message_box(words("cancelled"))
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
        table = (
            html_table(head, rows, id="requests") if rows else f"<p>{esc(words('no_requests'))}</p>"
        )
        return html_page(
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
            f'<option value="{esc(n.name)}"{" selected" if n.name == chosen else ""}>'
            f"{esc(n.label or n.symbol)}</option>"
            for n in libraries
        )
        extra = (
            f'<div class="row"><label for="to_library">{esc(words("to_library"))}</label>'
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
            return self._email_form(request, words, who, fields, err.reasons, 400)
        except DeskRefused as refused:
            return self._email_form(request, words, who, fields, refused.reasons, 403)
        library = self._library(own)
        return html_page(
            request,
            words,
            "reader",
            words("email_mode"),
            message_box(words("mailed")) + f'<p><a href="/reader/">{esc(words("back"))}</a></p>',
            who=who,
            library=library,
        )


def _prefill(who: Account | None) -> dict[str, str]:
    if who is None:
        return {}
    return {"name": who.name, "email": who.email, "phone": who.phone}


def _list_row(words: Words, request: Request, r: ReaderRequest) -> list[str]:
    action = ""
    if r.state is RequestState.UNPROCESSED:
        action = (
            f'<form method="post" action="/reader/requests/{r.number}/cancel"'
            f' data-confirm="{esc(words("cancel_confirm"))}">{csrf_field(request)}'
            f'<button type="submit" class="cancel" id="cancel-{r.number}">'
            f"{esc(words('cancel'))}</button></form>"
        )
    return [
        f'<a href="/reader/requests/{r.number}">{r.number}</a>',
        esc(r.form.reference),
        esc(r.form.title),
        esc(r.submitted.date().isoformat()),
        esc(service_words(words, r.form.service)),
        esc("" if r.return_date is None else r.return_date.isoformat()),
        esc(words.pick(STATE_LABELS[r.state])),
        esc(money(r.total_cost)),
        action,
    ]


def _request_details(words: Words, r: ReaderRequest) -> str:
    fields = to_fields(r.form)
    rows = [
        [esc(words.field(name)), esc(_shown(words, r.form, name, value))]
        for name, value in fields.items()
        if value
    ]
    summary = html_table(
        [words("state"), words("total_cost"), words("return_date")],
        [
            [
                esc(words.pick(STATE_LABELS[r.state])),
                esc(money(r.total_cost)),
                esc("" if r.return_date is None else r.return_date.isoformat()),
            ]
        ],
    )
    history = "".join(
        f"<li>{esc(at.isoformat(sep=' ', timespec='seconds'))} {esc(text)}</li>"
        for at, text in r.history
    )
    return (
        summary
        + html_table([words("kind"), ""], rows)
        + f"<h2>{esc(words('history'))}</h2><ol>{history}</ol>"
        + f'<p><a href="/reader/requests">{esc(words("back"))}</a></p>'
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
        return f'<label for="{name}">{star}{esc(words.field(name))}</label>'

    def text(name: str, hint: str = "", kind: str = "text", extra: str = "") -> str:
        css = ' class="bad"' if name in bad else ""
        need = " required" if name in REQUIRED else ""
        limit = LIMITS.get(name, MAX_LENGTH)
        note = f' <span class="hint">{esc(hint)}</span>' if hint else ""
        return (
            f'<div class="row">{label(name)}<input id="{name}" name="{name}" type="{kind}"'
            f' value="{esc(fields.get(name, ""))}" maxlength="{limit}"{css}{need}{extra}>'
            f"{note}</div>"
        )

    def area(name: str) -> str:
        css = ' class="bad"' if name in bad else ""
        limit = LIMITS.get(name, MAX_LENGTH)
        return (
            f'<div class="row">{label(name)}<textarea id="{name}" name="{name}" rows="2"'
            f' cols="50" maxlength="{limit}"{css}>{esc(fields.get(name, ""))}</textarea></div>'
        )

    def radios(name: str, values: Sequence[Any], default: Any) -> str:
        chosen = fields.get(name) or default.value
        boxes = "".join(
            f'<label><input type="radio" name="{name}" value="{esc(v.value)}" id="{name}-{v.value}"'
            f"{' checked' if v.value == chosen else ''}> {esc(words.value(v))}</label> "
            for v in values
        )
        return f'<div class="row">{label(name)}{boxes}</div>'

    def select(name: str, values: Sequence[Any], default: Any) -> str:
        chosen = fields.get(name) or default.value
        css = ' class="bad"' if name in bad else ""
        options = "".join(
            f'<option value="{esc(v.value)}"{" selected" if v.value == chosen else ""}>'
            f"{esc(words.value(v))}</option>"
            for v in values
        )
        return (
            f'<div class="row">{label(name)}<select id="{name}" name="{name}"{css}>'
            f"{options}</select></div>"
        )

    holdings = "".join(f'<option value="{esc(s)}">' for s in symbols)
    return (
        f'<p class="hint">{esc(words("required_note"))}</p>'
        f"<fieldset><legend>{esc(words('request_info'))}</legend>"
        + radios("service", list(ServiceType), ServiceType.COPY)
        + "</fieldset>"
        f"<fieldset><legend>{esc(words('document_info'))}</legend>"
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
        f"<fieldset><legend>{esc(words('ill_info'))}</legend>"
        + text("valid_until", words("valid_hint"), "date")
        + select("delivery", list(Delivery), Delivery.EMAIL)
        + text("cost_limit", words("cost_hint"), extra=' inputmode="decimal"')
        + radios("urgency", list(Urgency), Urgency.NORMAL)
        + f'<p class="hint" id="rush-hint">{esc(words("rush_hint"))}</p>'
        + text("reference", words("reference_hint"))
        + text("holding_library", extra=' list="holding-libraries"')
        + f'<datalist id="holding-libraries">{holdings}</datalist>'
        + "</fieldset>"
        f"<fieldset><legend>{esc(words('user_info'))}</legend>"
        + text("name")
        + area("address")
        + text("postcode")
        + text("email", kind="email")
        + text("phone", kind="tel")
        + text("fax", kind="tel")
        + "</fieldset>"
        f"<fieldset><legend>{esc(words('notes_section'))}</legend>" + area("notes") + "</fieldset>"
    )
