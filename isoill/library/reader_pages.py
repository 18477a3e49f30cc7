"""The reader pages of a library on the gateway, ``/reader/``.

They follow the Tsinghua reader gateway (and the CALIS centre's), because that is what
readers of CALIS libraries know: register (the account waits until staff confirm it), log
in, 提交申请 (submit the request form), 申请列表 (the request list with the seed's columns,
and 取消 for what nobody has acted on yet), and the CALIS e-mail mode, which mails the form
to the reader's own library's ILL staff and to no one else. Chinese first; ``?lang=en``
switches to English and is remembered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from twisted.internet import threads
from twisted.web.server import Request
from twisted.web.template import Flattenable, Tag, tags

from isoill.gateway.logins import AccountError, Throttle, answer_later, hash_password
from isoill.gateway.pages import link, message_box, table
from isoill.library.accounts import Account, AccountRole, read_registration
from isoill.library.desk import DeskRefused
from isoill.library.list_pages import choices, listing, read_query
from isoill.library.pages_common import (
    MAX_MAILS,
    READER_COOKIE,
    Area,
    Desks,
    Page,
    Words,
    bad_fields,
    csrf_field,
    form_row,
    form_table,
    history_list,
    html_page,
    library_choice,
    money,
    options,
    problems_box,
    redirect,
    service_words,
    star,
)
from isoill.library.requests import (
    CANCELLABLE_STATES,
    FINAL_STATES,
    STATE_LABELS,
    ReaderRequest,
    RequestState,
)
from isoill.library.settings import Library, libraries, member_library, rush_fee
from isoill.mapping.reader_form import (
    LIMITS,
    MAX_LENGTH,
    REQUIRED,
    Delivery,
    DocumentType,
    FormError,
    ServiceType,
    Urgency,
    read_form,
)


class ReaderPages(Area):
    """``/reader/``: the home page (or the login form), and under it ``register``,
    ``email``, ``request`` (the form), ``requests`` (the list), ``requests/<n>`` (one
    request) and ``requests/<n>/cancel``, with the area's ``login`` and ``logout``."""

    area_name = "reader"
    cookie = READER_COOKIE
    roles = frozenset({AccountRole.READER, AccountRole.GROUP})

    def __init__(self, desks: Desks, throttle: Throttle) -> None:
        super().__init__(desks, throttle)
        self.mails = Throttle(MAX_MAILS, 3600.0)
        self.putChild(
            b"register", Page(self, public_get=self._register_page, public_post=self._register)
        )
        self.putChild(b"email", Page(self, public_get=self._email_page, public_post=self._email))
        self.putChild(b"request", Page(self, get=self._request_page, post=self._submit))
        self.putChild(b"requests", Page(self, get=self._list, child=self._one))

    def _home(self, request: Request, words: Words, who: Account | None) -> bytes:
        if who is None:
            return self._login_form(request, words)
        library = self._library(who.library)
        requests = self.desks.reader_requests(who.library, who.username)
        waiting = sum(r.state not in FINAL_STATES for r in requests)
        body = [
            tags.p(words("welcome").format(name=who.name or who.username)),
            tags.ul(
                tags.li(link("/reader/request", words("submit_request"))),
                tags.li(link("/reader/requests", words("request_list")), f" ({waiting})"),
                tags.li(link("/reader/email", words("email_mode"))),
            ),
        ]
        return html_page(
            request, words, "reader", words("reader_gateway"), body, who=who, library=library
        )

    def _one(self, segment: str) -> Page | None:
        """``requests/<n>``: one of the reader's requests, and its ``cancel``."""
        if not (segment.isascii() and segment.isdigit()):
            return None
        number = int(segment)

        def show(request: Request, words: Words, who: Account) -> bytes:
            try:
                found = self.desks.reader_request(who.library, who.username, number)
            except KeyError:
                return self._not_found(request, words, who)
            return html_page(
                request,
                words,
                "reader",
                f"{words('number')} {found.number}",
                _request_details(words, request, found),
                who=who,
                library=self._library(who.library),
            )

        def cancel(request: Request, words: Words, who: Account, fields: dict[str, str]) -> bytes:
            try:
                done = self.desks.cancel(who.library, who.username, number)
            except KeyError:
                return self._not_found(request, words, who)
            except DeskRefused as refused:
                return self._refuse(request, words, 409, words.problems(refused.reasons), who)
            asked = done.state is RequestState.CANCEL_PENDING
            return redirect(
                request, f"/reader/requests?done={'cancel_asked' if asked else 'cancelled'}"
            )

        def answer(accept: bool) -> Page:
            """Accept or decline the supplier's conditions (Conditional-Reply)."""

            def post(request: Request, words: Words, who: Account, fields: dict[str, str]) -> bytes:
                try:
                    self.desks.answer_conditions(who.library, who.username, number, accept)
                except KeyError:
                    return self._not_found(request, words, who)
                except DeskRefused as refused:
                    return self._refuse(request, words, 409, words.problems(refused.reasons), who)
                done = "accepted" if accept else "declined"
                return redirect(request, f"/reader/requests/{number}?done={done}")

            return Page(self, post=post)

        one = Page(self, get=show)
        one.putChild(b"cancel", Page(self, post=cancel))

        def renew(request: Request, words: Words, who: Account, fields: dict[str, str]) -> bytes:
            try:
                self.desks.renew(who.library, who.username, number)
            except KeyError:
                return self._not_found(request, words, who)
            except DeskRefused as refused:
                return self._refuse(request, words, 409, words.problems(refused.reasons), who)
            return redirect(request, f"/reader/requests/{number}?done=renew_asked")

        one.putChild(b"renew", Page(self, post=renew))
        one.putChild(b"accept", answer(True))
        one.putChild(b"decline", answer(False))
        return one

    # --- registration -----------------------------------------------------------------------

    def _register_page(self, request: Request, words: Words, who: Account | None) -> bytes:
        return self._register_form(request, words, self._default_library(request))

    def _register_form(
        self,
        request: Request,
        words: Words,
        library: Library | None,
        fields: dict[str, str] | None = None,
        problems: Sequence[str] = (),
        status: int = 200,
    ) -> bytes:
        fields = fields or {}
        bad = bad_fields(problems)
        if library is None:
            return self._not_found(request, words, None)

        def row(name: str, label: str, kind: str = "text", required: bool = False) -> Tag:
            field = tags.input(
                id=name,
                name=name,
                type=kind,
                value="" if kind == "password" else fields.get(name, ""),
            )
            if name in bad:
                field(class_="bad")
            if required:
                field(required="")
            return form_row([star() if required else "", label], field, id=name)

        member: Flattenable = ""
        if library.mode == "central":
            member = form_row(
                [star(), words("member")],
                tags.select(id="member", name="member")(
                    options(
                        ((m.symbol, m.label or m.symbol) for m in library.members),
                        fields.get("member"),
                    )
                ),
                id="member",
            )
        body = [
            problems_box(words, problems),
            tags.p(class_="hint")(words("required_note")),
            tags.form(method="post", action="/reader/register", id="register-form")(
                csrf_field(request),
                library_choice(words, self.desks.libraries(), library),
                member,
                row("username", words("username"), required=True),
                row("password", words("password"), "password", True),
                row("password2", words("password2"), "password", True),
                row("name", words.field("name"), required=True),
                row("email", words.field("email"), "email", True),
                row("phone", words.field("phone")),
                row("id_type", words("id_type")),
                row("id_number", words("id_number")),
                tags.button(type="submit", id="register-submit")(words("register_submit")),
            ),
        ]
        return html_page(
            request, words, "reader", words("register_title"), body, library=library, status=status
        )

    def _register(
        self, request: Request, words: Words, who: Account | None, fields: dict[str, str]
    ) -> int | bytes:
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
                [message_box(words("registered")), tags.p(link("/reader/", words("log_in")))],
                library=library,
            )

        return answer_later(request, work)

    # --- the form and the list -----------------------------------------------------------------

    def _request_page(self, request: Request, words: Words, who: Account) -> bytes:
        return self._request_form(request, words, who, _prefill(who))

    def _request_form(
        self,
        request: Request,
        words: Words,
        who: Account | None,
        fields: dict[str, str],
        problems: Sequence[str] = (),
        *,
        action: str = "/reader/request",
        extra: Flattenable = "",
        title: str = "",
        status: int = 200,
    ) -> bytes:
        library = None if who is None else self._library(who.library)
        body = [
            problems_box(words, problems),
            tags.form(method="post", action=action, id="request-form")(
                csrf_field(request),
                extra,
                reader_form_fields(
                    words,
                    fields,
                    bad_fields(problems),
                    self._symbols(),
                    None if library is None else rush_fee(library, who.member if who else ""),
                ),
                tags.button(type="submit", id="submit")(words("submit")),
                " ",
                link("/reader/", words("back")),
            ),
        ]
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
        found += [n.symbol for n in libraries(config)]
        return sorted(set(found))

    def _submit(
        self, request: Request, words: Words, who: Account, fields: dict[str, str]
    ) -> bytes:
        try:
            form = read_form(fields, today=self.desks.now().date())
        except FormError as err:
            return self._request_form(request, words, who, fields, err.reasons, status=400)
        try:
            submitted = self.desks.submit(who.library, who.username, form)
        except DeskRefused as refused:
            return self._request_form(request, words, who, fields, refused.reasons, status=409)
        return redirect(request, f"/reader/requests?done=submitted&n={submitted.number}")

    def _list(self, request: Request, words: Words, who: Account) -> bytes:
        library = self._library(who.library)
        found = self.desks.find_reader_requests(who.library, who.username, read_query(request))
        done = (request.args or {}).get(b"done", [b""])[0]
        number = (request.args or {}).get(b"n", [b""])[0].decode("ascii", "replace")
        message: Flattenable = ""
        if done == b"submitted":
            message = message_box(f"{words('submitted')} {number if number.isdigit() else ''}")
        elif done in (b"cancelled", b"cancel_asked"):
            message = message_box(words(done.decode("ascii")))
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
        shown = listing(
            words,
            "/reader/requests",
            found,
            head,
            [_list_row(words, request, r) for r in found.items],
            id="requests",
            states=choices(words, STATE_LABELS),
            empty=words("no_requests"),
        )
        return html_page(
            request,
            words,
            "reader",
            words("request_list"),
            [message, shown],
            who=who,
            library=library,
        )

    # --- CALIS e-mail mode --------------------------------------------------------------------

    def _email_page(self, request: Request, words: Words, who: Account | None) -> bytes:
        return self._email_form(request, words, who)

    def _email_form(
        self,
        request: Request,
        words: Words,
        who: Account | None,
        fields: dict[str, str] | None = None,
        problems: Sequence[str] = (),
        status: int = 200,
    ) -> bytes:
        # The libraries whose ILL staff take mailed requests: a library by its name, a
        # member library of a CALIS centre with its own staff address by its symbol.
        found = self.desks.libraries()
        targets = [(n.name, n.label or n.symbol) for n in found if n.staff_email]
        targets += [
            (m.symbol, m.label or m.symbol) for n in found for m in n.members if m.staff_email
        ]
        own = None if who is None else (who.member or who.library)
        chosen = (fields or {}).get("to_library") or own or (targets[0][0] if targets else "")
        extra = form_row(
            words("to_library"),
            tags.select(id="to_library", name="to_library")(options(targets, chosen)),
            id="to_library",
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
        self, request: Request, words: Words, who: Account | None, fields: dict[str, str]
    ) -> bytes:
        to_library = fields.get("to_library", "")
        # Logged in, the reader's library (and member library) is the account's; otherwise the
        # one chosen. The mail goes only to that library's own ILL staff: the address is never
        # the reader's to give.
        if who is not None:
            own, member = who.library, who.member
        else:
            centre = member_library(self.desks.libraries(), to_library)
            own, member = (to_library, "") if centre is None else (centre.name, to_library)
        if self._library(own) is None:
            return self._email_form(
                request, words, who, fields, ["to_library: no such library"], 400
            )
        address = request.getClientAddress()
        sender = ("mail", who.username if who is not None else getattr(address, "host", ""))
        now = self.desks.seconds()
        if self.mails.held(sender, now):
            return self._refuse(request, words, 429, words("too_many_mails"), who)
        try:
            form = read_form(fields, today=self.desks.now().date())
            reader = who.username if who is not None else form.email
            self.desks.mail_request(own, reader, form, to_library, member)
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
            [message_box(words("mailed")), tags.p(link("/reader/", words("back")))],
            who=who,
            library=library,
        )


def _prefill(who: Account | None) -> dict[str, str]:
    if who is None:
        return {}
    return {"name": who.name, "email": who.email, "phone": who.phone}


def _cancel_form(words: Words, request: Request, r: ReaderRequest) -> Flattenable:
    """取消, while nothing has been shipped (the page's script asks first)."""
    if r.state not in CANCELLABLE_STATES:
        return ""
    return tags.form(
        method="post",
        action=f"/reader/requests/{r.number}/cancel",
        **{"data-confirm": words("cancel_confirm")},
    )(
        csrf_field(request),
        tags.button(type="submit", class_="cancel", id=f"cancel-{r.number}")(words("cancel")),
    )


def _list_row(words: Words, request: Request, r: ReaderRequest) -> list[Flattenable]:
    action = _cancel_form(words, request, r)
    return [
        link(f"/reader/requests/{r.number}", str(r.number)),
        r.form.reference,
        r.form.title,
        r.submitted.date().isoformat(),
        service_words(words, r.form.service),
        "" if r.return_date is None else r.return_date.isoformat(),
        words.pick(STATE_LABELS[r.state]),
        money(r.total_cost),
        action,
    ]


def _request_details(words: Words, request: Request, r: ReaderRequest) -> list[Flattenable]:
    done = (request.args or {}).get(b"done", [b""])[0]
    message: Flattenable = ""
    if done in (b"accepted", b"declined", b"renew_asked"):
        message = message_box(words(done.decode("ascii")))
    conditions: Flattenable = ""
    if r.state is RequestState.CONDITIONAL:
        base = f"/reader/requests/{r.number}"
        conditions = tags.div(id="conditions")(
            tags.h2(words("conditions")),
            tags.p(words.said(r.conditions)),
            tags.form(method="post", action=f"{base}/accept")(
                csrf_field(request), tags.button(type="submit", id="accept")(words("accept"))
            ),
            tags.form(method="post", action=f"{base}/decline")(
                csrf_field(request), tags.button(type="submit", id="decline")(words("decline"))
            ),
        )
    if r.state is RequestState.RECEIVED and r.form.service is ServiceType.LOAN:
        conditions = tags.form(method="post", action=f"/reader/requests/{r.number}/renew")(
            csrf_field(request), tags.button(type="submit", id="renew")(words("renew"))
        )
    summary = table(
        [words("state"), words("total_cost"), words("return_date")],
        [
            [
                words.pick(STATE_LABELS[r.state]),
                money(r.total_cost),
                "" if r.return_date is None else r.return_date.isoformat(),
            ]
        ],
        id="summary",
    )
    return [
        message,
        summary,
        _cancel_form(words, request, r),
        conditions,
        form_table(words, r.form),
        *history_list(words, r.history),
        tags.p(link("/reader/requests", words("back"))),
    ]


def reader_form_fields(
    words: Words,
    fields: dict[str, str],
    bad: set[str],
    symbols: Sequence[str],
    rush: Decimal | None = None,
) -> list[Flattenable]:
    """The Tsinghua form's fields, in its sections and order, filled with ``fields``; the
    hint that shows when the reader chooses 加急 names the rush fee ``rush`` they pay."""

    def label(name: str) -> Tag:
        return tags.label(for_=name)(star() if name in REQUIRED else "", words.field(name))

    def marked(field: Tag, name: str) -> Tag:
        """A field with the marks of its name: wrong in the last post, required."""
        if name in bad:
            field(class_="bad")
        if name in REQUIRED:
            field(required="")
        return field

    def text(name: str, hint: str = "", kind: str = "text", **extra: str) -> Tag:
        field = tags.input(
            id=name,
            name=name,
            type=kind,
            value=fields.get(name, ""),
            maxlength=str(LIMITS.get(name, MAX_LENGTH)),
        )
        note: Flattenable = [" ", tags.span(class_="hint")(hint)] if hint else ""
        return tags.div(class_="row")(label(name), marked(field, name)(**extra), note)

    def area(name: str) -> Tag:
        field = tags.textarea(
            id=name, name=name, rows="2", cols="50", maxlength=str(LIMITS.get(name, MAX_LENGTH))
        )
        if name in bad:
            field(class_="bad")
        return tags.div(class_="row")(label(name), field(fields.get(name, "")))

    def radios(name: str, values: Sequence[Any], default: Any) -> Tag:
        chosen = fields.get(name) or default.value
        boxes: list[Flattenable] = []
        for v in values:
            box = tags.input(type="radio", name=name, value=v.value, id=f"{name}-{v.value}")
            if v.value == chosen:
                box(checked="")
            boxes += [tags.label(box, f" {words.value(v)}"), " "]
        return tags.div(class_="row")(label(name), boxes)

    def select(name: str, values: Sequence[Any], default: Any) -> Tag:
        chosen = fields.get(name) or default.value
        field = tags.select(id=name, name=name)
        if name in bad:
            field(class_="bad")
        choices = options(((v.value, words.value(v)) for v in values), chosen)
        return tags.div(class_="row")(label(name), field(choices))

    def section(title: str, *rows: Flattenable) -> Tag:
        return tags.fieldset(tags.legend(title), *rows)

    return [
        tags.p(class_="hint")(words("required_note")),
        section(words("request_info"), radios("service", list(ServiceType), ServiceType.COPY)),
        section(
            words("document_info"),
            select("document_type", list(DocumentType), DocumentType.JOURNAL_ARTICLE),
            text("author"),
            text("title"),
            text("volume_issue", words.pick(("如: 9卷, 3期", "e.g. vol. 9, no. 3"))),
            text("edition"),
            text("article_title"),
            text("place"),
            text("publisher"),
            text("year"),
            text("pages", words.pick(("如: 35-42页", "e.g. 35-42"))),
            text("issn"),
            text("isbn"),
            text("doi"),
            text("calis_oid"),
            text("language", words.pick(("如: 英语, eng", "e.g. English, eng"))),
        ),
        section(
            words("ill_info"),
            text("valid_until", words("valid_hint"), "date"),
            select("delivery", list(Delivery), Delivery.EMAIL),
            text("cost_limit", words("cost_hint"), inputmode="decimal"),
            radios("urgency", list(Urgency), Urgency.NORMAL),
            tags.p(class_="hint", id="rush-hint")(
                words("rush_hint") if rush is None else words("rush_fee").format(fee=money(rush))
            ),
            text("reference", words("reference_hint")),
            text("holding_library", list="holding-libraries"),
            tags.datalist(id="holding-libraries")([tags.option(value=s) for s in symbols]),
        ),
        section(
            words("user_info"),
            text("name"),
            area("address"),
            text("postcode"),
            text("email", kind="email"),
            text("phone", kind="tel"),
            text("fax", kind="tel"),
        ),
        section(words("notes_section"), area("notes")),
    ]
