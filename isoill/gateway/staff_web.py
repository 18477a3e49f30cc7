"""The staff pages of a library on the gateway, ``/staff/``.

The ILL staff of a library (or of the CALIS centre, or of one of its member libraries)
confirm readers' accounts, send readers' requests on (distributed mode), record what was
received and send loans back, and answer other libraries' requests as the CALIS management
client does: 运送 (ship, with the total fee) or 无法满足 (cannot supply, with the reason,
which e-mails the reader). Every action is logged with the member of staff who took it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlencode

from twisted.logger import Logger
from twisted.web.server import Request

from isoill.apdu.enums import ReasonUnfilled
from isoill.gateway.accounts import (
    Account,
    AccountError,
    AccountRole,
    can_confirm,
    sees,
)
from isoill.gateway.config import Network
from isoill.gateway.desk import DeskRefused
from isoill.gateway.library import (
    STATE_LABELS,
    SUPPLY_LABELS,
    ReaderRequest,
    RequestState,
    SupplyState,
)
from isoill.gateway.web_common import (
    STAFF_COOKIE,
    WORDS,
    Area,
    Words,
    csrf_field,
    esc,
    html_page,
    html_table,
    message_box,
    money,
    redirect,
    service_words,
)
from isoill.mapping.reader_form import (
    ServiceType,
)

log = Logger()


class StaffPages(Area):
    area = "staff"
    cookie = STAFF_COOKIE
    roles = frozenset({AccountRole.STAFF})

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
            return self._refuse(request, words, 409, "; ".join(refused.reasons), who)
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
        return redirect(request, "/staff/?" + urlencode({"done": done}))

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
                named = fields.get("suppliers", "").replace(";", ",").split(",")
                self.desks.send_request(library, number, [s.strip() for s in named if s.strip()])
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
        csrf = csrf_field(request)
        done = (request.args or {}).get(b"done", [b""])[0].decode("ascii", "replace")
        message = message_box(words(done)) if done.startswith("done_") and done in WORDS else ""
        everyone = self.desks.accounts(library.name)
        # Accounts waiting for this member of staff.
        pending = [a for a in everyone if not a.confirmed and can_confirm(who, a)]
        account_rows = [
            [
                esc(a.username),
                esc(a.name),
                esc(a.email),
                esc(a.phone),
                esc(a.member),
                esc(
                    words("group_account")
                    if a.role is AccountRole.GROUP
                    else words("reader_account")
                ),
                f'<form method="post" action="/staff/accounts/'
                f'{esc(quote(a.username, safe=""))}/confirm">'
                f'{csrf}<button type="submit" id="confirm-{esc(a.username)}">'
                f"{esc(words('confirm'))}</button></form>",
            ]
            for a in pending
        ]
        accounts = (
            html_table(
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
            else f"<p>{esc(words('none'))}</p>"
        )
        owners = {a.username: a for a in everyone}
        readers = [
            r for r in self.desks.library_requests(library.name) if sees(who, owners.get(r.reader))
        ]
        request_rows = [
            [
                str(r.number),
                esc(r.reader),
                esc(r.form.title),
                esc(r.submitted.date().isoformat()),
                esc(service_words(words, r.form.service)),
                esc(words.pick(STATE_LABELS[r.state])),
                esc(money(r.total_cost)),
                _reader_actions(words, csrf, library, r),
            ]
            for r in readers
        ]
        reader_table = (
            html_table(
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
            else f"<p>{esc(words('none'))}</p>"
        )
        supply = "" if who.member else self._supply_table(words, csrf, library)
        body = (
            message
            + f"<h2>{esc(words('accounts_pending'))}</h2>{accounts}"
            + f"<h2>{esc(words('readers_requests'))}</h2>{reader_table}"
            + supply
        )
        return html_page(
            request, words, "staff", words("staff_pages"), body, who=who, library=library
        )

    def _supply_table(self, words: Words, csrf: str, library: Network) -> str:
        found = self.desks.supply_requests(library.name)
        reasons = "".join(
            f'<option value="{r.name.lower().replace("_", "-")}">'
            f"{esc(r.name.lower().replace('_', '-'))}</option>"
            for r in ReasonUnfilled
        )
        rows = []
        for s in found:
            action = esc(words.pick(SUPPLY_LABELS[s.state]))
            if s.state is SupplyState.PENDING:
                where = f"/staff/supply/{quote(s.key, safe='')}"
                action = (
                    f'<form method="post" action="{esc(where)}/ship">{csrf}'
                    f'{esc(words("total_cost"))} <input name="total_cost" size="6" value="0"'
                    ' inputmode="decimal" required> 元 '
                    f'<input name="note" size="12" placeholder="{esc(words("note"))}">'
                    f'<button type="submit">{esc(words("ship"))}</button></form>'
                    f'<form method="post" action="{esc(where)}/unfillable">{csrf}'
                    f'<select name="reason">{reasons}</select> '
                    f'<input name="note" size="12" placeholder="{esc(words("note"))}">'
                    f'<button type="submit">{esc(words("unfillable"))}</button></form>'
                )
            elif s.state is SupplyState.UNFILLABLE:
                action += f" ({esc(s.reason)})"
            elif s.state is SupplyState.SHIPPED:
                action += f" ({esc(money(s.total_cost))})"
            rows.append(
                [
                    esc(s.key),
                    esc(s.requester),
                    esc(s.form.title),
                    esc(s.form.name),
                    esc(s.note),
                    esc(s.arrived.isoformat(sep=" ", timespec="minutes")),
                    action,
                ]
            )
        table = (
            html_table(
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
            else f"<p>{esc(words('none'))}</p>"
        )
        return f"<h2>{esc(words('supply_requests'))}</h2>{table}"


def _reader_actions(words: Words, csrf: str, library: Network, r: ReaderRequest) -> str:
    base = f"/staff/requests/{r.number}"
    if r.state is RequestState.UNPROCESSED and library.mode != "central":
        return (
            f'<form method="post" action="{base}/send">{csrf}'
            f'<input name="suppliers" size="20" placeholder="{esc(words("suppliers"))}"'
            f' value="{esc(r.form.holding_library)}">'
            f'<button type="submit" id="send-{r.number}">{esc(words("send_on"))}</button></form>'
        )
    if r.state is RequestState.SHIPPED and library.mode != "central":
        return (
            f'<form method="post" action="{base}/received">{csrf}'
            f'<button type="submit" id="received-{r.number}">{esc(words("received"))}</button>'
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
            f'<input name="via" size="12" placeholder="{esc(words("returned_via"))}">'
            f'<button type="submit" id="returned-{r.number}">{esc(words("returned"))}</button>'
            "</form>"
        )
    if r.rota.tried:
        return esc("; ".join(f"{t.symbol}: {t.reason}" for t in r.rota.tried))
    return ""


def _cost(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().removesuffix("元").strip())
    except InvalidOperation:
        raise DeskRefused([f"total cost: {text!r} is not an amount of yuan"]) from None
    if not value.is_finite() or value < 0 or value > Decimal("9999999.99"):
        raise DeskRefused([f"total cost: {text!r} is not an amount of yuan"])
    return value.quantize(Decimal("0.01"))
