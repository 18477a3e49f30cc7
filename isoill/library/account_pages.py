"""Managing one's own account on the reader and staff pages (个人管理): the profile, a new
password (the current one first), and a forgotten password reset by a link mailed to the
account's address.

The reset link is the only way in without the password, so it is guarded like one: its
token is random, the store keeps only its SHA-256, it works once and for an hour, a new
one replaces the last, asking for one is throttled by account and by address, and the page
that asks says the same whether or not the account exists. Setting the password through it
ends every login of the account.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol
from urllib.parse import urlencode

from twisted.internet import threads
from twisted.logger import Logger
from twisted.web.server import Request
from twisted.web.template import Flattenable, Tag, tags

from isoill.gateway.logins import AccountError, LoginHeld, Throttle, answer_later, hash_password
from isoill.gateway.logins import log_in as check_login
from isoill.gateway.pages import link, message_box
from isoill.library.accounts import Account, read_new_password, read_profile
from isoill.library.pages_common import (
    Area,
    Page,
    Words,
    bad_fields,
    csrf_field,
    form_row,
    html_page,
    library_choice,
    problems_box,
    redirect,
)
from isoill.library.settings import Library

log = Logger()

#: Reset links one account may ask for in an hour, and one address (a library's PCs may
#: share one) for any accounts.
MAX_RESETS = 3
MAX_RESETS_FROM = 20


class AccountDesks(Protocol):
    """What these pages need of the library service (:class:`LibraryService`), beyond the
    area's own."""

    def account(self, library: str, username: str) -> Account | None: ...
    def seconds(self) -> float: ...
    def change_password(self, account: Account, password_hash: str) -> Account: ...
    def update_profile(self, profile: Account) -> Account: ...
    def request_reset(self, library: str, username: str, link: Callable[[str], str]) -> bool: ...
    def reset_password(
        self, library: str, username: str, token: str, password_hash: str
    ) -> Account: ...


class AccountPages:
    """``profile``, ``password``, ``forgot`` and ``reset`` under one area."""

    def __init__(self, area: Area, desks: AccountDesks) -> None:
        self.area = area
        self.desks = desks
        self.resets = Throttle(MAX_RESETS, 3600.0)
        self.resets_from = Throttle(MAX_RESETS_FROM, 3600.0)
        area.putChild(b"profile", Page(area, get=self._profile_page, post=self._profile))
        area.putChild(b"password", Page(area, get=self._password_page, post=self._password))
        area.putChild(b"forgot", Page(area, public_get=self._forgot_page, public_post=self._forgot))
        area.putChild(b"reset", Page(area, public_get=self._reset_page, public_post=self._reset))

    @property
    def base(self) -> str:
        return f"/{self.area.area_name}"

    def _page(
        self,
        request: Request,
        words: Words,
        title: str,
        body: list[Flattenable],
        *,
        who: Account | None = None,
        library: Library | None = None,
        status: int = 200,
    ) -> bytes:
        if who is not None:
            library = self.area._library(who.library)
        return html_page(
            request,
            words,
            self.area.area_name,
            title,
            body,
            who=who,
            library=library,
            status=status,
        )

    def _form(self, action: str, *rows: Flattenable, button: str) -> Tag:
        return tags.form(method="post", action=f"{self.base}/{action}", id=f"{action}-form")(
            *rows, tags.button(type="submit", id=f"{action}-submit")(button)
        )

    # --- the profile ------------------------------------------------------------------------

    def _profile_page(
        self,
        request: Request,
        words: Words,
        who: Account,
        fields: dict[str, str] | None = None,
        problems: Sequence[str] = (),
        status: int = 200,
    ) -> bytes:
        shown = fields if fields is not None else {k: str(v) for k, v in who.to_json().items()}
        bad = bad_fields(problems)
        saved = (request.args or {}).get(b"done", [b""])[0] == b"profile"
        changed = (request.args or {}).get(b"done", [b""])[0] == b"password"

        def row(name: str, label: str, kind: str = "text") -> Tag:
            field = tags.input(id=name, name=name, type=kind, value=shown.get(name, ""))
            if name in bad:
                field(class_="bad")
            return form_row(label, field, id=name)

        body: list[Flattenable] = [
            message_box(words("profile_saved")) if saved else "",
            message_box(words("password_changed")) if changed else "",
            problems_box(words, problems),
            tags.p(f"{words('username')}: {who.username}"),
            self._form(
                "profile",
                csrf_field(request),
                row("name", words.field("name")),
                row("email", words.field("email"), "email"),
                row("phone", words.field("phone")),
                row("id_type", words("id_type")),
                row("id_number", words("id_number")),
                button=words("save"),
            ),
            tags.p(link(f"{self.base}/password", words("change_password"), id="password")),
            tags.p(link("/reader/link", words("link_title"), id="link"))
            if self.area.area_name == "reader"
            else "",
        ]
        return self._page(request, words, words("profile"), body, who=who, status=status)

    def _profile(
        self, request: Request, words: Words, who: Account, fields: dict[str, str]
    ) -> bytes:
        try:
            self.desks.update_profile(read_profile(who, fields))
        except AccountError as err:
            return self._profile_page(request, words, who, fields, err.reasons, 400)
        return redirect(request, f"{self.base}/profile?done=profile")

    # --- a new password -----------------------------------------------------------------------

    def _password_rows(self, words: Words, problems: Sequence[str]) -> list[Tag]:
        bad = bad_fields(problems)

        def row(name: str, label: str) -> Tag:
            field = tags.input(
                id=name, name=name, type="password", required="", autocomplete="new-password"
            )
            return form_row(label, field(class_="bad") if name in bad else field, id=name)

        return [row("password", words("new_password")), row("password2", words("password2"))]

    def _password_page(
        self,
        request: Request,
        words: Words,
        who: Account,
        problems: Sequence[str] = (),
        status: int = 200,
    ) -> bytes:
        current = tags.input(
            id="current", name="current", type="password", required="", autocomplete="off"
        )
        body = [
            problems_box(words, problems),
            self._form(
                "password",
                csrf_field(request),
                form_row(words("current_password"), current, id="current"),
                *self._password_rows(words, problems),
                button=words("save"),
            ),
        ]
        return self._page(request, words, words("change_password"), body, who=who, status=status)

    def _password(
        self, request: Request, words: Words, who: Account, fields: dict[str, str]
    ) -> int | bytes:
        try:
            password = read_new_password(who, fields)
        except AccountError as err:
            return self._password_page(request, words, who, err.reasons, 400)

        async def work() -> bytes:
            # The login's check and throttle: guessing the current password here is
            # guessing it at the login form.
            key = (who.library, who.username.lower())
            try:
                good = await check_login(
                    self.area.throttle,
                    key,
                    who,
                    fields.get("current", ""),
                    self.desks.seconds(),
                )
            except LoginHeld:
                return self._password_page(request, words, who, [words("locked")], 429)
            if good is None:
                return self._password_page(request, words, who, [words("bad_current")], 403)
            hashed = await threads.deferToThread(hash_password, password)
            self.desks.change_password(who, hashed)
            return redirect(request, f"{self.base}/profile?done=password")

        return answer_later(request, work)

    # --- a forgotten password -------------------------------------------------------------------

    def _forgot_page(
        self, request: Request, words: Words, who: Account | None, sent: bool = False
    ) -> bytes:
        library = self.area._default_library(request)
        username = tags.input(id="username", name="username", required="")
        body = [
            message_box(words("reset_sent")) if sent else "",
            tags.p(words("forgot_hint")),
            self._form(
                "forgot",
                csrf_field(request),
                library_choice(words, self.area.desks.libraries(), library),
                form_row(words("username"), username, id="username"),
                button=words("send_reset"),
            ),
        ]
        return self._page(request, words, words("forgot_password"), body, library=library)

    def _forgot(
        self, request: Request, words: Words, who: Account | None, fields: dict[str, str]
    ) -> bytes:
        library = self.area._library(fields.get("library", ""))
        username = fields.get("username", "").strip()
        if library is None:
            return self.area._not_found(request, words, who)
        now = self.desks.seconds()
        address = str(getattr(request.getClientAddress(), "host", ""))
        checks = [
            (self.resets, (library.name, username.lower())),
            (self.resets_from, ("address", address)),
        ]
        if any(throttle.held(key, now) for throttle, key in checks):
            return self.area._refuse(request, words, 429, words("too_many_resets"), who)
        for throttle, key in checks:
            throttle.count(key, now)
        origin = library.url.rstrip("/") or _local_origin(request)
        if origin is None:
            log.warn(
                "library {library} has no url: no password reset link is mailed",
                library=library.name,
            )
            return self._forgot_page(request, words, who, sent=True)

        def reset_link(token: str) -> str:
            query = urlencode({"library": library.name, "user": username, "token": token})
            return f"{origin}{self.base}/reset?{query}"

        self.desks.request_reset(library.name, username, reset_link)
        return self._forgot_page(request, words, who, sent=True)

    def _reset_page(
        self,
        request: Request,
        words: Words,
        who: Account | None,
        fields: dict[str, str] | None = None,
        problems: Sequence[str] = (),
        status: int = 200,
    ) -> bytes:
        if fields is None:
            args = request.args or {}
            fields = {
                k: args.get(k.encode(), [b""])[0].decode("utf-8", "replace")
                for k in ("library", "user", "token")
            }
        hidden = [tags.input(type="hidden", name=k, value=fields.get(k, "")) for k in fields]
        body = [
            problems_box(words, problems),
            tags.p(f"{words('username')}: {fields.get('user', '')}"),
            self._form(
                "reset",
                csrf_field(request),
                *hidden,
                *self._password_rows(words, problems),
                button=words("save"),
            ),
        ]
        library = self.area._library(fields.get("library", ""))
        return self._page(
            request, words, words("reset_title"), body, library=library, status=status
        )

    def _reset(
        self, request: Request, words: Words, who: Account | None, fields: dict[str, str]
    ) -> int | bytes:
        link_fields = {k: fields.get(k, "") for k in ("library", "user", "token")}
        account = self.desks.account(link_fields["library"], link_fields["user"])
        expired = [words("reset_expired")]
        if account is None:
            return self._reset_page(request, words, who, link_fields, expired, 400)
        try:
            password = read_new_password(account, fields)
        except AccountError as err:
            return self._reset_page(request, words, who, link_fields, err.reasons, 400)

        async def work() -> bytes:
            hashed = await threads.deferToThread(hash_password, password)
            try:
                self.desks.reset_password(
                    account.library, account.username, link_fields["token"], hashed
                )
            except AccountError:
                return self._reset_page(request, words, who, link_fields, expired, 400)
            body = [
                message_box(words("reset_done")),
                tags.p(link(f"{self.base}/?library={account.library}", words("log_in"))),
            ]
            library = self.area._library(account.library)
            return self._page(request, words, words("reset_title"), body, library=library)

        return answer_later(request, work)


def _local_origin(request: Request) -> str | None:
    """``scheme://host`` as the request named it, for a library without ``url`` tried on
    this machine only: elsewhere a request's Host is the asker's to choose, and a mailed
    link naming the asker's host would hand them the reader's token."""
    host = (request.getHeader(b"host") or b"").decode("latin-1")
    name = host[: host.find("]") + 1] if host.startswith("[") else host.partition(":")[0]
    if name.lower() not in ("localhost", "127.0.0.1", "[::1]"):
        return None
    return f"{'https' if request.isSecure() else 'http'}://{host}"
