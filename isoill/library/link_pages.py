"""关联原有帐户, ``/reader/link``: a reader logged in to their account links an old one into
it, as the Tsinghua reader gateway's guide describes (1.3, 2.1): they give the old
account's user name and password, the page shows the old account's details (用户姓名,
Email地址, 证件名称, 证件号码) to confirm, and 确定 makes the two one. The old account logs
in no more; the kept one sees its requests.

Between the two steps the page carries a proof that the password was checked: an HMAC of
the old user name and a deadline under the session's own CSRF secret, so the confirming
post cannot be made for an account whose password was not given, nor by another login.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Protocol

from twisted.web.server import Request
from twisted.web.template import Flattenable, tags

from isoill.gateway.logins import AccountError, LoginHeld, answer_later, log_in
from isoill.gateway.pages import link, message_box, table
from isoill.library.accounts import Account, AccountRole, Session, may_log_in, same_token
from isoill.library.pages_common import (
    Area,
    Page,
    Words,
    csrf_field,
    form_row,
    html_page,
    problems_box,
)

#: Seconds the reader has to confirm once the old password was checked.
CONFIRM_WITHIN = 600.0


class LinkDesks(Protocol):
    def account(self, library: str, username: str) -> Account | None: ...
    def seconds(self) -> float: ...
    def link_account(self, kept: Account, old_username: str) -> Account: ...


def _proof(session: Session, old: str, until: int) -> str:
    message = f"link|{session.library}|{session.username}|{old}|{until}".encode()
    return hmac.new(session.csrf.encode(), message, hashlib.sha256).hexdigest()


class LinkPages:
    """``link`` (the old account's credentials) and ``link/confirm`` under the reader area."""

    def __init__(self, area: Area, desks: LinkDesks) -> None:
        self.area = area
        self.desks = desks
        page = Page(area, get=self._form_page, post=self._check)
        page.putChild(b"confirm", Page(area, post=self._confirm))
        area.putChild(b"link", page)

    def _page(
        self, request: Request, words: Words, who: Account, body: Flattenable, status: int = 200
    ) -> bytes:
        library = self.area._library(who.library)
        title = words("link_title")
        return html_page(
            request, words, "reader", title, body, who=who, library=library, status=status
        )

    def _form_page(
        self, request: Request, words: Words, who: Account, problems: Sequence[str] = ()
    ) -> bytes:
        status = 403 if problems else 200
        body = [
            problems_box(words, problems),
            tags.p(words("link_hint")),
            tags.p(words("link_prompt")),
            tags.form(method="post", action="/reader/link", id="link-form")(
                csrf_field(request),
                form_row(
                    words("username"),
                    tags.input(id="old-username", name="username", required=""),
                    id="old-username",
                ),
                form_row(
                    words("password"),
                    tags.input(
                        id="old-password",
                        name="password",
                        type="password",
                        required="",
                        autocomplete="off",
                    ),
                    id="old-password",
                ),
                tags.button(type="submit", id="link-submit")(words("link_title")),
            ),
        ]
        return self._page(request, words, who, body, status)

    def _check(self, request: Request, words: Words, who: Account, fields: dict[str, str]) -> int:
        old_name = fields.get("username", "").strip()
        session: Session = request._isoill_session  # type: ignore[attr-defined]

        async def work() -> bytes:
            old = self.desks.account(who.library, old_name)
            try:
                proved = await log_in(
                    self.area.throttle,
                    (who.library, old_name.lower()),
                    old,
                    fields.get("password", ""),
                    self.desks.seconds(),
                    may_log_in(frozenset({AccountRole.READER})),
                )
            except LoginHeld:
                return self._form_page(request, words, who, [words("locked")])
            if proved is None or proved.username == who.username:
                return self._form_page(request, words, who, [words("bad_login")])
            until = int(self.desks.seconds() + CONFIRM_WITHIN)
            details = [
                [words("link_name"), proved.name],
                [words("link_email"), proved.email],
                [words("id_type"), proved.id_type],
                [words("id_number"), proved.id_number],
            ]
            body = [
                tags.h2(words("link_details")),
                table([words("username"), proved.username], details, id="old-account"),
                tags.p(words("link_confirm")),
                tags.form(method="post", action="/reader/link/confirm", id="link-confirm")(
                    csrf_field(request),
                    tags.input(type="hidden", name="username", value=proved.username),
                    tags.input(type="hidden", name="until", value=str(until)),
                    tags.input(
                        type="hidden", name="proof", value=_proof(session, proved.username, until)
                    ),
                    tags.button(type="submit", id="link-ok")(words("ok")),
                    " ",
                    link("/reader/", words("back")),
                ),
            ]
            return self._page(request, words, who, body)

        return answer_later(request, work)

    def _confirm(
        self, request: Request, words: Words, who: Account, fields: dict[str, str]
    ) -> bytes:
        session: Session = request._isoill_session  # type: ignore[attr-defined]
        old_name = fields.get("username", "")
        until = fields.get("until", "")
        if not until.isdigit() or int(until) <= self.desks.seconds():
            return self._form_page(request, words, who, [words("link_expired")])
        if not same_token(fields.get("proof", ""), _proof(session, old_name, int(until))):
            return self._form_page(request, words, who, [words("link_expired")])
        try:
            self.desks.link_account(who, old_name)
        except (AccountError, KeyError):
            return self._form_page(request, words, who, [words("link_refused")])
        body = [
            message_box(f"{words('link_done')} {old_name}"),
            tags.p(link("/reader/requests", words("request_list"))),
        ]
        return self._page(request, words, who, body)
