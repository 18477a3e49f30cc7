"""The staff pages of a library on the gateway, ``/staff/``.

The ILL staff of a library (or of the CALIS centre, or of one of its member libraries)
confirm readers' accounts, send readers' requests on (distributed mode), record what was
received and send loans back, and answer other libraries' requests as the CALIS management
client does: 运送 (ship, with the total fee) or 无法满足 (cannot supply, with the reason,
which e-mails the reader). Every action is logged with the member of staff who took it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlencode

from twisted.logger import Logger
from twisted.web.server import Request
from twisted.web.template import Flattenable, Tag, tags

from isoill.apdu.enums import ReasonUnfilled
from isoill.gateway.logins import AccountError, Throttle
from isoill.gateway.pages import link, message_box, table
from isoill.library.accounts import Account, AccountRole, sees
from isoill.library.desk import DeskRefused
from isoill.library.list_pages import choices, listing, read_query
from isoill.library.lists import Query
from isoill.library.pages_common import (
    STAFF_COOKIE,
    WORDS,
    Area,
    Desks,
    Page,
    Post,
    Words,
    csrf_field,
    form_table,
    history_list,
    html_page,
    money,
    options,
    problems_box,
    redirect,
    service_words,
)
from isoill.library.reasons import code, reason_label
from isoill.library.requests import (
    CANCELLABLE_STATES,
    STATE_LABELS,
    SUPPLY_LABELS,
    ReaderRequest,
    RequestState,
    SupplyRequest,
    SupplyState,
)
from isoill.library.settings import Library, suppliers
from isoill.library.staff_accounts import account_button, account_states, accounts_page
from isoill.library.wording import problem
from isoill.mapping.reader_form import ServiceType, Urgency

log = Logger()

#: A staff action: carried out for the member of staff with the posted form, it answers
#: which ``done_`` words to show them.
Act = Callable[[Account, dict[str, str]], str]


@dataclass(frozen=True)
class Again:
    """A request's page shown again after an action on it was refused: the problems, and
    what was typed into its forms (none when it is simply shown)."""

    problems: Sequence[str] = ()
    fields: dict[str, str] = field(default_factory=dict)


#: A request's page, shown (again).
Show = Callable[[Request, Words, Account, Again], bytes]


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
        self.putChild(b"requests", Page(self, get=self._requests_page, child=self._request))
        self.putChild(b"supply", Page(self, get=self._supply_page, child=self._supply))

    def _home(self, request: Request, words: Words, who: Account | None) -> bytes:
        return self._login_form(request, words) if who is None else self._desk(request, words, who)

    # --- the actions ---------------------------------------------------------------------------

    def _actions(self, target: str, acts: dict[bytes, Act], show: Show | None = None) -> Page:
        """The page of one account or request (``show`` shows it), whose children are the
        actions on it."""
        found = Page(self, get=None if show is None else lambda r, w, a: show(r, w, a, Again()))
        for name, act in acts.items():
            found.putChild(name, Page(self, post=self._action(target, act, show)))
        return found

    def _action(self, target: str, act: Act, again: Show | None = None) -> Post:
        """Carry out one staff action, log it with who took it, and show the desk again; a
        refused one shows its request's page again (when it has one) with the problems."""

        def post(request: Request, words: Words, who: Account, fields: dict[str, str]) -> bytes:
            try:
                done = act(who, fields)
            except KeyError:
                return self._not_found(request, words, who)
            except (DeskRefused, AccountError) as refused:
                if again is not None:
                    return again(request, words, who, Again(refused.reasons, fields))
                return self._refuse(request, words, 409, words.problems(refused.reasons), who)
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

        def seen(who: Account) -> ReaderRequest:
            """A request of a reader this member of staff does not serve is not found."""
            found = self.desks.library_request(who.library, number)
            if not sees(who, self.desks.account(who.library, found.reader)):
                raise KeyError(number)
            return found

        def show(request: Request, words: Words, who: Account, again: Again) -> bytes:
            try:
                found = seen(who)
            except KeyError:
                return self._not_found(request, words, who)
            library = self._library(who.library)
            assert library is not None
            owner = self.desks.account(who.library, found.reader)
            reach = suppliers(self.desks.config)
            body = reader_request_page(words, request, library, found, owner, again.fields, reach)
            title = f"{words('number')} {found.number}"
            return self._request_page(request, words, who, title, body, again)

        def send(who: Account, fields: dict[str, str]) -> str:
            seen(who)
            named = fields.get("suppliers", "").replace(";", ",").split(",")
            self.desks.send_request(who.library, number, [s.strip() for s in named if s.strip()])
            return "done_sent"

        def cancel(who: Account, fields: dict[str, str]) -> str:
            seen(who)
            done = self.desks.cancel(who.library, None, number)
            asked = done.state is RequestState.CANCEL_PENDING
            return "done_cancel_asked" if asked else "done_cancelled"

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
            {b"send": send, b"cancel": cancel, b"received": received, b"returned": returned},
            show,
        )

    def _supply(self, key: str) -> Page:
        def member(who: Account) -> None:
            if who.member:
                raise PermissionError(key)  # the centre's requests are the centre's

        def ship(who: Account, fields: dict[str, str]) -> str:
            member(who)
            cost = _cost(fields.get("total_cost", ""))
            note = fields.get("note", "").strip()[:200]
            self.desks.ship(who.library, key, cost, note, _due(fields.get("due", "")))
            return "done_shipped"

        def notice(kind: str) -> Act:
            def act(who: Account, fields: dict[str, str]) -> str:
                member(who)
                note = fields.get("note", "").strip()[:200]
                self.desks.loan_notice(who.library, key, kind, note)
                return f"done_{kind}"

            return act

        def renewal(agree: bool) -> Act:
            def act(who: Account, fields: dict[str, str]) -> str:
                member(who)
                self.desks.renew_answer(who.library, key, agree, _due(fields.get("due", "")))
                return "done_renew_yes" if agree else "done_renew_no"

            return act

        def checked_in(who: Account, fields: dict[str, str]) -> str:
            member(who)
            self.desks.checked_in(who.library, key)
            return "done_checked_in"

        def conditional(who: Account, fields: dict[str, str]) -> str:
            member(who)
            cost = _cost(fields.get("total_cost", ""))
            self.desks.conditional(who.library, key, cost, fields.get("note", "").strip()[:200])
            return "done_conditional"

        def unfillable(who: Account, fields: dict[str, str]) -> str:
            member(who)
            note = fields.get("note", "").strip()[:200]
            self.desks.unfillable(who.library, key, fields.get("reason", ""), note)
            return "done_unfillable"

        def show(request: Request, words: Words, who: Account, again: Again) -> bytes:
            if who.member:
                return self._refuse(request, words, 403, words("forbidden"), who)
            try:
                found = self.desks.supply_request(who.library, key)
            except KeyError:
                return self._not_found(request, words, who)
            history = self.desks.supply_history(who.library, key)
            body = supply_request_page(words, request, found, again.fields, history)
            title = f"{words('transaction_id')} {found.key}"
            return self._request_page(request, words, who, title, body, again)

        acts: dict[bytes, Act] = {
            b"ship": ship,
            b"conditional": conditional,
            b"unfillable": unfillable,
            b"checked_in": checked_in,
            b"recall": notice("recall"),
            b"overdue": notice("overdue"),
            b"renew_yes": renewal(True),
            b"renew_no": renewal(False),
        }
        return self._actions(f"supply/{key}", acts, show)

    def _request_page(
        self,
        request: Request,
        words: Words,
        who: Account,
        title: str,
        body: Flattenable,
        again: Again,
    ) -> bytes:
        """A request's page, headed by the problems of an action refused on it (409)."""
        status = 409 if again.problems else 200
        return html_page(
            request,
            words,
            "staff",
            title,
            [problems_box(words, again.problems), body],
            who=who,
            library=self._library(who.library),
            status=status,
        )

    # --- the desk ----------------------------------------------------------------------------

    def _desk(self, request: Request, words: Words, who: Account) -> bytes:
        """The first page of each list that waits for staff: accounts to confirm, the
        readers' requests and (not for a member library's staff) the requests to supply;
        each list's search and further pages are its own page."""
        library = self._library(who.library)
        assert library is not None
        done = (request.args or {}).get(b"done", [b""])[0].decode("ascii", "replace")
        message = message_box(words(done)) if done.startswith("done_") and done in WORDS else ""
        waiting = self.desks.find_accounts(who, Query(state="waiting"))
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
            for a in waiting.items
        ]
        accounts = listing(
            words,
            "/staff/accounts",
            waiting,
            [*_account_head(words, identity=True), words("kind"), words("action")],
            account_rows,
            id="accounts",
            states=account_states(words),
            hint=words("account_search_hint"),
        )
        body = [
            message,
            tags.h2(words("accounts_pending")),
            accounts,
            tags.h2(words("readers_requests")),
            self._readers_list(request, words, who, library, Query()),
        ]
        if not who.member:
            body += [
                tags.h2(words("supply_requests")),
                self._supply_list(request, words, library, Query()),
            ]
        return html_page(
            request, words, "staff", words("staff_pages"), body, who=who, library=library
        )

    def _requests_page(self, request: Request, words: Words, who: Account) -> bytes:
        """``/staff/requests``: the readers' requests, searched, filtered, a page at a time."""
        library = self._library(who.library)
        assert library is not None
        body = self._readers_list(request, words, who, library, read_query(request))
        title = words("readers_requests")
        return html_page(request, words, "staff", title, body, who=who, library=library)

    def _supply_page(self, request: Request, words: Words, who: Account) -> bytes:
        """``/staff/supply``: the requests to supply, searched, filtered, a page at a time."""
        if who.member:
            return self._refuse(request, words, 403, words("forbidden"), who)
        library = self._library(who.library)
        assert library is not None
        body = self._supply_list(request, words, library, read_query(request))
        title = words("supply_requests")
        return html_page(request, words, "staff", title, body, who=who, library=library)

    def _readers_list(
        self, request: Request, words: Words, who: Account, library: Library, query: Query
    ) -> list[Flattenable]:
        found = self.desks.find_library_requests(who, query)
        csrf = csrf_field(request)
        rows: list[list[Flattenable]] = [
            [
                link(f"/staff/requests/{r.number}", str(r.number)),
                r.reader,
                r.form.title,
                r.submitted.date().isoformat(),
                service_words(words, r.form.service),
                words.pick(STATE_LABELS[r.state]),
                money(r.total_cost),
                _reader_actions(words, csrf, library, r),
            ]
            for r in found.items
        ]
        head = [
            words("number"),
            words("reader"),
            words("publication"),
            words("date"),
            words("service"),
            words("state"),
            words("total_cost"),
            words("action"),
        ]
        states = choices(words, STATE_LABELS)
        return listing(
            words, "/staff/requests", found, head, rows, id="reader-requests", states=states
        )

    def _supply_list(
        self, request: Request, words: Words, library: Library, query: Query
    ) -> list[Flattenable]:
        found = self.desks.find_supply_requests(library.name, query)
        csrf = csrf_field(request)
        rows: list[list[Flattenable]] = [
            [
                link(f"/staff/supply/{quote(s.key, safe='')}", s.key),
                words.library(s.requester),
                s.form.title,
                s.form.name,
                urgency(words, s.form.urgency),
                money(s.form.cost_limit),
                s.note,
                s.arrived.isoformat(sep=" ", timespec="minutes"),
                _supply_actions(words, csrf, s),
            ]
            for s in found.items
        ]
        head = [
            words("transaction_id"),
            words("requester"),
            words("publication"),
            words("reader"),
            words.field("urgency"),
            words.field("cost_limit"),
            words("note"),
            words("arrived"),
            words("action"),
        ]
        states = choices(words, SUPPLY_LABELS)
        return listing(
            words, "/staff/supply", found, head, rows, id="supply-requests", states=states
        )


def urgency(words: Words, level: Urgency) -> Flattenable:
    """How urgent a request is, 加急 in bold: the supplier is to hurry, and the reader pays
    the rush fee for it."""
    shown = words.value(level)
    return tags.strong(class_="urgent")(shown) if level is Urgency.URGENT else shown


def _account_head(words: Words, identity: bool = False) -> list[str]:
    """The columns that say who an account is and how to reach them; with ``identity``,
    the identity document too (what staff check before confirming an account)."""
    proof = [words("id_type"), words("id_number")] if identity else []
    return [
        words("username"),
        words.field("name"),
        words.field("email"),
        words.field("phone"),
        *proof,
        words("member"),
    ]


def _supply_actions(
    words: Words, csrf: Tag, s: SupplyRequest, typed: dict[str, str] | None = None
) -> Flattenable:
    """What staff may do with a request to supply: ship it, answer that the fee is above
    the reader's limit, or refuse it while it is pending; else what was done. ``typed``:
    what they typed before (a refused ship keeps its fee)."""
    state = words.pick(SUPPLY_LABELS[s.state])
    where = f"/staff/supply/{quote(s.key, safe='')}"
    if s.state is SupplyState.UNFILLABLE:
        # The reason an Unfilled answer gives starts with 无法满足 itself.
        return words.said(s.reason) if s.reason else state
    if s.state is SupplyState.RETURNED:
        return tags.form(method="post", action=f"{where}/checked_in")(
            csrf, state, " ", tags.button(type="submit", id="checked-in")(words("checked_in"))
        )
    if s.state in (SupplyState.SHIPPED, SupplyState.CONDITIONAL, SupplyState.RENEW_ASKED):
        due = "" if s.date_due is None else f", {words('return_date')} {s.date_due.isoformat()}"
        shown: list[Flattenable] = [f"{state} ({money(s.total_cost)}{due})"]
        if s.date_due is None:
            return shown
        actions = ["recall", "overdue"]
        if s.state is SupplyState.RENEW_ASKED:
            actions = ["renew_yes", "renew_no", *actions]
        for action in actions:
            form = tags.form(method="post", action=f"{where}/{action}")(csrf)
            if action == "renew_yes":
                form(words("due"), " ", tags.input(type="date", name="due"), " ")
            shown.append(form(tags.button(type="submit", id=action)(words(action))))
        return shown
    if s.state is not SupplyState.PENDING:
        return state
    reasons = [(code(r.name), reason_label(r.name, words.index)) for r in ReasonUnfilled]
    cost = (typed or {}).get("total_cost") or money(s.agreed_cost) or "0"

    def fee(action: str, button: str, *extra: Flattenable) -> Tag:
        return tags.form(method="post", action=f"{where}/{action}")(
            csrf,
            words("total_cost"),
            " ",
            tags.input(name="total_cost", size="6", value=cost, inputmode="decimal", required=""),
            f" {words.pick(('元', 'yuan'))} ",
            tags.input(name="note", size="12", placeholder=words("note")),
            " ",
            *extra,
            tags.button(type="submit", class_=action)(button),
        )

    loan: list[Flattenable] = []
    if s.form.service is ServiceType.LOAN:
        picked = tags.input(type="date", name="due", value=(typed or {}).get("due", ""))
        loan = [words("due"), " ", picked, " "]
    return [
        fee("ship", words("ship"), *loan),
        fee("conditional", words("conditional")),
        tags.form(method="post", action=f"{where}/unfillable")(
            csrf,
            tags.select(name="reason")(options(reasons, None)),
            " ",
            tags.input(name="note", size="12", placeholder=words("note")),
            tags.button(type="submit")(words("unfillable")),
        ),
    ]


def reader_request_page(
    words: Words,
    request: Request,
    library: Library,
    r: ReaderRequest,
    owner: Account | None,
    typed: dict[str, str],
    reach: dict[str, str],
) -> list[Flattenable]:
    """One reader's request as its library's staff see it: where it is, who asked and how
    to reach them, every field of the form, who was asked and why they said no, what staff
    may do now (``reach``: the suppliers they may send it to, by symbol), and its
    history."""
    current = r.rota.current
    summary = table(
        [words("state"), words("total_cost"), words("return_date"), words("supplier_now")],
        [
            [
                words.pick(STATE_LABELS[r.state]),
                money(r.total_cost),
                "" if r.return_date is None else r.return_date.isoformat(),
                "" if current is None else words.library(current.symbol),
            ]
        ],
        id="summary",
    )
    account: list[Flattenable] = [tags.h2(words("reader_account_info"))]
    if owner is None:
        account.append(tags.p(r.reader))
    else:
        account.append(
            table(
                _account_head(words),
                [[owner.username, owner.name, owner.email, owner.phone, owner.member]],
                id="reader",
            )
        )
    tried: list[Flattenable] = []
    if r.rota.tried:
        tried = [
            tags.h2(words("tried")),
            table(
                [words("supplier"), words("reason"), words("date")],
                [
                    [
                        words.library(t.symbol),
                        words.said(t.reason),
                        t.at.isoformat(sep=" ", timespec="minutes"),
                    ]
                    for t in r.rota.tried
                ],
                id="tried",
            ),
        ]
    return [
        summary,
        tags.div(id="actions")(
            _reader_actions(words, csrf_field(request), library, r, typed, reach)
        ),
        *account,
        tags.h2(words("request_info")),
        form_table(words, r.form),
        *tried,
        *history_list(words, r.history),
        tags.p(link("/staff/", words("back"))),
    ]


def supply_request_page(
    words: Words,
    request: Request,
    s: SupplyRequest,
    typed: dict[str, str],
    history: Sequence[tuple[datetime, str]] = (),
) -> list[Flattenable]:
    """A request another library asks this one to supply: who asked, how urgent it is and
    the most the reader pays, where it stands (the requester having accepted conditions
    is what lets staff ship above the reader's limit), every field of the form (where to
    deliver it and to whom), the answers staff may give, and its history: every message
    of the transaction, both ways."""
    state = words.pick(SUPPLY_LABELS[s.state])
    if s.state is SupplyState.PENDING and s.agreed_cost is not None:
        state += f" ({words('conditions_accepted').format(cost=money(s.agreed_cost))})"
    summary = table(
        [
            words("state"),
            words("requester"),
            words("arrived"),
            words.field("urgency"),
            words.field("cost_limit"),
            words.field("valid_until"),
            words("note"),
        ],
        [
            [
                state,
                words.library(s.requester),
                s.arrived.isoformat(sep=" ", timespec="minutes"),
                urgency(words, s.form.urgency),
                money(s.form.cost_limit),
                "" if s.form.valid_until is None else s.form.valid_until.isoformat(),
                s.note,
            ]
        ],
        id="summary",
    )
    return [
        summary,
        tags.div(id="actions")(_supply_actions(words, csrf_field(request), s, typed)),
        tags.h2(words("request_info")),
        form_table(words, s.form),
        *history_list(words, history),
        tags.p(link("/staff/", words("back"))),
    ]


def _reader_actions(
    words: Words,
    csrf: Tag,
    library: Library,
    r: ReaderRequest,
    typed: dict[str, str] | None = None,
    reach: dict[str, str] | None = None,
) -> Flattenable:
    """What staff may do with a reader's request in its state; ``typed``: what they typed
    in its form before (a refused send keeps the suppliers they named)."""
    action = _state_action(words, csrf, library, r, typed, reach or {})
    if r.state not in CANCELLABLE_STATES:
        return action
    cancel = tags.form(
        method="post",
        action=f"/staff/requests/{r.number}/cancel",
        **{"data-confirm": words("cancel_confirm")},
    )(csrf, tags.button(type="submit", id=f"cancel-{r.number}")(words("cancel")))
    return [action, cancel]


def _state_action(
    words: Words,
    csrf: Tag,
    library: Library,
    r: ReaderRequest,
    typed: dict[str, str] | None,
    reach: dict[str, str],
) -> Flattenable:
    base = f"/staff/requests/{r.number}"
    if r.state is RequestState.UNPROCESSED and library.mode != "central":
        # 发送: the suppliers to ask, labelled and offered from those the gateway reaches.
        listed = f"suppliers-of-{r.number}"
        return tags.form(method="post", action=f"{base}/send")(
            csrf,
            tags.label(for_=f"suppliers-{r.number}")(words("supplier")),
            " ",
            tags.input(
                name="suppliers",
                id=f"suppliers-{r.number}",
                size="20",
                placeholder=words("suppliers"),
                value=(typed or {}).get(
                    "suppliers", _supplier_symbol(r.form.holding_library, reach)
                ),
                list=listed,
            ),
            tags.datalist(id=listed)(*(tags.option(value=s)(n) for s, n in reach.items())),
            " ",
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
        return "; ".join(f"{words.library(t.symbol)}: {words.said(t.reason)}" for t in r.rota.tried)
    return ""


def _supplier_symbol(holding: str, reach: dict[str, str]) -> str:
    """The reader's 收藏馆名称 as the send form fills it in: by its symbol when it names a
    supplier the gateway reaches as the reader wrote it (复旦大学图书馆; the desk takes
    symbols only), else as written."""
    holding = holding.strip()
    for known, label in reach.items() if holding else ():
        if holding.upper() == known or label in (holding, f"{holding} ({known})"):
            return known
    return holding


def _due(text: str) -> date | None:
    """A loan's date due as staff typed it (YYYY-MM-DD), or None for the default."""
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise DeskRefused([problem("due", "not-a-date", value=text)]) from None


def _cost(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().removesuffix("元").strip())
    except InvalidOperation:
        raise DeskRefused([problem("total_cost", "not-an-amount", value=text)]) from None
    if not value.is_finite() or value < 0 or value > Decimal("9999999.99"):
        raise DeskRefused([problem("total_cost", "not-an-amount", value=text)])
    return value.quantize(Decimal("0.01"))
