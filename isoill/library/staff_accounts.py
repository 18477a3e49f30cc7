"""``/staff/accounts``: 帐户管理, the accounts a member of staff looks after, with what
each is (confirmed, waiting, disabled, rejected) and the button that stops or restores its
logins. Confirming and rejecting registrations is on the desk, where they wait."""

from __future__ import annotations

from urllib.parse import quote

from twisted.web.server import Request
from twisted.web.template import Flattenable, Tag, tags

from isoill.library.accounts import Account, AccountRole
from isoill.library.list_pages import listing, read_query
from isoill.library.lists import ACCOUNT_STATES
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


def account_states(words: Words) -> list[tuple[str, str]]:
    """The states an account list is filtered by, in words."""
    return [(state, words(f"state_{state}")) for state in ACCOUNT_STATES]


def _actions(request: Request, words: Words, account: Account) -> list[Tag]:
    """Confirm or reject a registration that waits; stop or restore the logins of one
    that was decided."""
    if not account.confirmed and not account.disabled:
        return [account_button(request, words, account, a) for a in ("confirm", "reject")]
    return [account_button(request, words, account, "enable" if account.disabled else "disable")]


def accounts_page(area: Area, request: Request, words: Words, who: Account) -> bytes:
    found = area.desks.find_accounts(who, read_query(request))
    rows: list[list[Flattenable]] = [
        [
            a.username,
            a.name,
            a.email,
            a.id_type,
            a.id_number,
            a.member,
            words("group_account") if a.role is AccountRole.GROUP else words("reader_account"),
            account_state(words, a),
            _actions(request, words, a),
        ]
        for a in found.items
    ]
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
    shown = listing(
        words,
        "/staff/accounts",
        found,
        head,
        rows,
        id="all-accounts",
        states=account_states(words),
        empty=words("none"),
        hint=words("account_search_hint"),
    )
    return html_page(
        request,
        words,
        "staff",
        words("accounts_manage"),
        shown,
        who=who,
        library=area._library(who.library),
    )
