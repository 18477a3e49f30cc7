"""The staff pages of a library on the gateway, ``/staff/``.

The ILL staff of a library (or of the CALIS centre, or of one of its member libraries)
confirm readers' accounts, send readers' requests on (distributed mode), record what was
received and send loans back, and answer other libraries' requests as the CALIS management
client does: 运送 (ship, with the total fee) or 无法满足 (cannot supply, with the reason,
which e-mails the reader). Every action is logged with the member of staff who took it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlencode

from twisted.logger import Logger
from twisted.web.server import Request
from twisted.web.template import Flattenable, Tag, tags

from isoill.apdu.enums import ReasonUnfilled
from isoill.gateway.logins import AccountError, Throttle
from isoill.gateway.pages import message_box, table
from isoill.library.accounts import Account, AccountRole, can_confirm, sees
from isoill.library.desk import DeskRefused
from isoill.library.pages_common import (
    STAFF_COOKIE,
    WORDS,
    Area,
    Desks,
    Page,
    Post,
    Words,
    csrf_field,
    html_page,
    money,
    redirect,
    service_words,
)
from isoill.library.requests import (
    STATE_LABELS,
    SUPPLY_LABELS,
    ReaderRequest,
    RequestState,
    SupplyState,
)
from isoill.library.settings import Library
from isoill.library.staff_accounts import account_button, accounts_page
from isoill.mapping.reader_form import ServiceType

log = Logger()

#: A staff action: carried out for the member of staff with the posted form, it answers
#: which ``done_`` words to show them.
Act = Callable[[Account, dict[str, str]], str]


class StaffPages(Area):
    """``/staff/``: the desk (or the login form), and the actions its forms post to:
    ``accounts/<username>/confirm``, ``requests/<n>/send|received|returned`` and
    ``supply/<key>/ship|unfillable``, with the area's ``login`` and ``logout``."""

    area_name = "staff"
    cookie = STAFF_COOKIE
    roles = frozenset({AccountRole.STAFF})

    def __init__(self, desks: Desks, throttle: Throttle) -> None:
        super().__init__(desks, throttle)
        self.putChild(
            b"accounts",
            Page(self, get=lambda r, w, a: accounts_page(self, r, w, a), child=self._account),
        )
        self.putChild(b"requests", Page(self, child=self._request))
        self.putChild(b"supply", Page(self, child=self._supply))

    def _home(self, request: Request, words: Words, who: Account | None) -> bytes:
        return self._login_form(request, words) if who is None else self._desk(request, words, who)

    # --- the actions ---------------------------------------------------------------------------

    def _actions(self, target: str, acts: dict[bytes, Act]) -> Page:
        """The page of one account or request, whose children are the actions on it."""
        found = Page(self)
        for name, act in acts.items():
            found.putChild(name, Page(self, post=self._action(target, act)))
        return found

    def _action(self, target: str, act: Act) -> Post:
        """Carry out one staff action, log it with who took it, and show the desk again."""

        def post(request: Request, words: Words, who: Account, fields: dict[str, str]) -> bytes:
            try:
                done = act(who, fields)
            except KeyError:
                return self._not_found(request, words, who)
            except (DeskRefused, AccountError) as refused:
                return self._refuse(request, words, 409, "; ".join(refused.reasons), who)
            except PermissionError:
                return self._refuse(request, words, 403, words("forbidden"), who)
            log.info(
                "staff {user} of {library}: {action} {target}",
                user=who.username,
                library=who.library,
                action=done.removeprefix("done_"),
                target=target,
            )
            return redirect(request, "/staff/?" + urlencode({"done": done}))

        return post

    def _account(self, username: str) -> Page:
        def confirm(who: Account, fields: dict[str, str]) -> str:
            self.desks.confirm_account(who, username)
            return "done_confirmed"

        def reject(who: Account, fields: dict[str, str]) -> str:
            self.desks.reject_account(who, username)
            return "done_rejected"

        def disable(who: Account, fields: dict[str, str]) -> str:
            self.desks.disable_account(who, username)
            return "done_disabled"

        def enable(who: Account, fields: dict[str, str]) -> str:
            self.desks.disable_account(who, username, disabled=False)
            return "done_enabled"

        acts: dict[bytes, Act] = {
            b"confirm": confirm,
            b"reject": reject,
            b"disable": disable,
            b"enable": enable,
        }
        return self._actions(f"accounts/{username}", acts)

    def _request(self, segment: str) -> Page | None:
        if not (segment.isascii() and segment.isdigit()):
            return None
        number = int(segment)

        def seen(who: Account) -> None:
            """A request of a reader this member of staff does not serve is not found."""
            found = self.desks.library_request(who.library, number)
            if not sees(who, self.desks.account(who.library, found.reader)):
                raise KeyError(number)

        def send(who: Account, fields: dict[str, str]) -> str:
            seen(who)
            named = fields.get("suppliers", "").replace(";", ",").split(",")
            self.desks.send_request(who.library, number, [s.strip() for s in named if s.strip()])
            return "done_sent"

        def received(who: Account, fields: dict[str, str]) -> str:
            seen(who)
            self.desks.mark_received(who.library, number)
            return "done_received"

        def returned(who: Account, fields: dict[str, str]) -> str:
            seen(who)
            self.desks.mark_returned(who.library, number, fields.get("via", ""))
            return "done_returned"

        return self._actions(
            f"requests/{segment}",
            {b"send": send, b"received": received, b"returned": returned},
        )

    def _supply(self, key: str) -> Page:
        def member(who: Account) -> None:
            if who.member:
                raise PermissionError(key)  # the centre's requests are the centre's

        def ship(who: Account, fields: dict[str, str]) -> str:
            member(who)
            cost = _cost(fields.get("total_cost", ""))
            self.desks.ship(who.library, key, cost, fields.get("note", "").strip()[:200])
            return "done_shipped"

        def unfillable(who: Account, fields: dict[str, str]) -> str:
            member(who)
            note = fields.get("note", "").strip()[:200]
            self.desks.unfillable(who.library, key, fields.get("reason", ""), note)
            return "done_unfillable"

        return self._actions(f"supply/{key}", {b"ship": ship, b"unfillable": unfillable})

    # --- the desk ----------------------------------------------------------------------------

    def _desk(self, request: Request, words: Words, who: Account) -> bytes:
        library = self._library(who.library)
        assert library is not None
        csrf = csrf_field(request)
        done = (request.args or {}).get(b"done", [b""])[0].decode("ascii", "replace")
        message = message_box(words(done)) if done.startswith("done_") and done in WORDS else ""
        everyone = self.desks.accounts(library.name)
        # Accounts waiting for this member of staff.
        pending = [
            a for a in everyone if not a.confirmed and not a.disabled and can_confirm(who, a)
        ]
        account_rows: list[list[Flattenable]] = [
            [
                a.username,
                a.name,
                a.email,
                a.phone,
                a.id_type,
                a.id_number,
                a.member,
                words("group_account") if a.role is AccountRole.GROUP else words("reader_account"),
                [
                    account_button(request, words, a, "confirm"),
                    account_button(request, words, a, "reject"),
                ],
            ]
            for a in pending
        ]
        accounts = (
            table(
                [
                    words("username"),
                    words.field("name"),
                    words.field("email"),
                    words.field("phone"),
                    words("id_type"),
                    words("id_number"),
                    words("member"),
                    words("kind"),
                    words("action"),
                ],
                account_rows,
                id="accounts",
            )
            if account_rows
            else tags.p(words("none"))
        )
        owners = {a.username: a for a in everyone}
        readers = [
            r for r in self.desks.library_requests(library.name) if sees(who, owners.get(r.reader))
        ]
        request_rows = [
            [
                str(r.number),
                r.reader,
                r.form.title,
                r.submitted.date().isoformat(),
                service_words(words, r.form.service),
                words.pick(STATE_LABELS[r.state]),
                money(r.total_cost),
                _reader_actions(words, csrf, library, r),
            ]
            for r in readers
        ]
        reader_table = (
            table(
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
            else tags.p(words("none"))
        )
        supply = "" if who.member else self._supply_table(words, csrf, library)
        body = [
            message,
            tags.h2(words("accounts_pending")),
            accounts,
            tags.h2(words("readers_requests")),
            reader_table,
            supply,
        ]
        return html_page(
            request, words, "staff", words("staff_pages"), body, who=who, library=library
        )

    def _supply_table(self, words: Words, csrf: Tag, library: Library) -> list[Flattenable]:
        found = self.desks.supply_requests(library.name)
        reasons = [r.name.lower().replace("_", "-") for r in ReasonUnfilled]
        rows: list[list[Flattenable]] = []
        for s in found:
            state = words.pick(SUPPLY_LABELS[s.state])
            action: Flattenable = state
            if s.state is SupplyState.PENDING:
                where = f"/staff/supply/{quote(s.key, safe='')}"
                action = [
                    tags.form(method="post", action=f"{where}/ship")(
                        csrf,
                        words("total_cost"),
                        " ",
                        tags.input(
                            name="total_cost",
                            size="6",
                            value="0",
                            inputmode="decimal",
                            required="",
                        ),
                        " 元 ",
                        tags.input(name="note", size="12", placeholder=words("note")),
                        tags.button(type="submit")(words("ship")),
                    ),
                    tags.form(method="post", action=f"{where}/unfillable")(
                        csrf,
                        tags.select(name="reason")([tags.option(value=r)(r) for r in reasons]),
                        " ",
                        tags.input(name="note", size="12", placeholder=words("note")),
                        tags.button(type="submit")(words("unfillable")),
                    ),
                ]
            elif s.state is SupplyState.UNFILLABLE:
                action = f"{state} ({s.reason})"
            elif s.state is SupplyState.SHIPPED:
                action = f"{state} ({money(s.total_cost)})"
            rows.append(
                [
                    s.key,
                    s.requester,
                    s.form.title,
                    s.form.name,
                    s.note,
                    s.arrived.isoformat(sep=" ", timespec="minutes"),
                    action,
                ]
            )
        shown = (
            table(
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
            else tags.p(words("none"))
        )
        return [tags.h2(words("supply_requests")), shown]


def _reader_actions(words: Words, csrf: Tag, library: Library, r: ReaderRequest) -> Flattenable:
    base = f"/staff/requests/{r.number}"
    if r.state is RequestState.UNPROCESSED and library.mode != "central":
        return tags.form(method="post", action=f"{base}/send")(
            csrf,
            tags.input(
                name="suppliers",
                size="20",
                placeholder=words("suppliers"),
                value=r.form.holding_library,
            ),
            tags.button(type="submit", id=f"send-{r.number}")(words("send_on")),
        )
    if r.state is RequestState.SHIPPED and library.mode != "central":
        return tags.form(method="post", action=f"{base}/received")(
            csrf, tags.button(type="submit", id=f"received-{r.number}")(words("received"))
        )
    if (
        r.state is RequestState.RECEIVED
        and r.form.service is ServiceType.LOAN
        and library.mode != "central"
    ):
        # A loan came to the library (distributed mode): the library sends it back.
        return tags.form(method="post", action=f"{base}/returned")(
            csrf,
            tags.input(name="via", size="12", placeholder=words("returned_via")),
            tags.button(type="submit", id=f"returned-{r.number}")(words("returned")),
        )
    if r.rota.tried:
        return "; ".join(f"{t.symbol}: {t.reason}" for t in r.rota.tried)
    return ""


def _cost(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().removesuffix("元").strip())
    except InvalidOperation:
        raise DeskRefused([f"total cost: {text!r} is not an amount of yuan"]) from None
    if not value.is_finite() or value < 0 or value > Decimal("9999999.99"):
        raise DeskRefused([f"total cost: {text!r} is not an amount of yuan"])
    return value.quantize(Decimal("0.01"))
