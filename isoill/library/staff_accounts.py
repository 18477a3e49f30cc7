"""``/staff/accounts``: 帐户管理, the accounts a member of staff looks after, with what
each is (confirmed, waiting, disabled, rejected) and the button that stops or restores its
logins. Confirming and rejecting registrations is on the desk, where they wait."""

from __future__ import annotations

from urllib.parse import quote

from twisted.web.server import Request
from twisted.web.template import Flattenable, Tag, tags

from isoill.gateway.pages import table
from isoill.library.accounts import Account, AccountRole, can_confirm
from isoill.library.pages_common import Area, Words, csrf_field, html_page


def account_state(words: Words, account: Account) -> str:
    if account.disabled:
        return words("state_disabled") if account.confirmed else words("state_rejected")
    return words("state_active") if account.confirmed else words("state_waiting")


def account_button(request: Request, words: Words, account: Account, action: str) -> Tag:
    """A form with one button posting ``action`` (confirm, reject, disable, enable) for
    ``account``."""
    where = f"/staff/accounts/{quote(account.username, safe='')}/{action}"
    return tags.form(method="post", action=where)(
        csrf_field(request),
        tags.button(type="submit", id=f"{action}-{account.username}")(words(action)),
    )


def accounts_page(area: Area, request: Request, words: Words, who: Account) -> bytes:
    rows: list[list[Flattenable]] = []
    for a in area.desks.accounts(who.library):
        if not can_confirm(who, a):
            continue
        action = "enable" if a.disabled else "disable"
        rows.append(
            [
                a.username,
                a.name,
                a.email,
                a.id_type,
                a.id_number,
                a.member,
                words("group_account") if a.role is AccountRole.GROUP else words("reader_account"),
                account_state(words, a),
                account_button(request, words, a, action) if a.confirmed or a.disabled else "",
            ]
        )
    head = [
        words("username"),
        words.field("name"),
        words.field("email"),
        words("id_type"),
        words("id_number"),
        words("member"),
        words("kind"),
        words("state"),
        words("action"),
    ]
    shown = table(head, rows, id="all-accounts") if rows else tags.p(words("none"))
    return html_page(
        request,
        words,
        "staff",
        words("accounts_manage"),
        shown,
        who=who,
        library=area._library(who.library),
    )
