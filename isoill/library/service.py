"""What a library's pages and API ask of the gateway: the desk's actions on readers' and
supply requests, accounts and login sessions, each decided by the desk
(:mod:`isoill.library.desk`) or the account rules (:mod:`isoill.library.accounts`) and
committed through the gateway (:meth:`isoill.gateway.service.Gateway.act`), with the mails it
owes in the same commit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from isoill.gateway.config import Config
from isoill.gateway.logins import AccountError
from isoill.gateway.mail import mail_item
from isoill.gateway.metrics import Metrics
from isoill.gateway.relay import Relay
from isoill.gateway.store import Change, Decided, OutboxItem, Store, StoredLeg
from isoill.library import lists
from isoill.library.account_mail import registered_notice, rejected_notice, reset_notice
from isoill.library.accounts import (
    RESET_LIFETIME,
    Account,
    Accounts,
    Session,
    Sessions,
    confirm,
    disable,
    link_accounts,
    new_reset,
    new_session,
    read_profile,
    reject,
    session_key,
    usable,
    use_reset,
)
from isoill.library.desk import Desk, DeskStep
from isoill.library.kind import LIBRARY
from isoill.library.lists import Found, Query
from isoill.library.requests import ReaderRequest, SupplyRequest, request_key
from isoill.library.settings import Library, libraries, library_named, staff_of
from isoill.library.wording import apdu_line, problem
from isoill.machine.events import Direction
from isoill.machine.transaction import REFUSED
from isoill.mapping import calis_mail
from isoill.mapping.reader_form import ReaderForm
from isoill.multilingual import Said


class Gateway(Protocol):
    """What the library needs of the gateway (:class:`isoill.gateway.service.Gateway`)."""

    config: Config
    store: Store
    relay: Relay
    metrics: Metrics

    def seconds(self) -> float: ...

    def now(self) -> datetime: ...

    def act(self, decide: Callable[[], Decided]) -> Decided: ...


class LibraryService:
    """The libraries of one gateway, for their pages and API."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.config = gateway.config
        self.metrics = gateway.metrics
        self.sessions = Sessions(gateway.store)
        self.accounts_table = Accounts(gateway.store)

    @property
    def desk(self) -> Desk:
        """The relay's library desk, looked up when an action needs it: the pages are
        mounted on every site, also one whose gateway is only what a test stands in for."""
        desk = self.gateway.relay.desks[LIBRARY.name]
        assert isinstance(desk, Desk)
        return desk

    def seconds(self) -> float:
        """Now by the gateway's reactor (seconds since the epoch): sessions and throttles."""
        return self.gateway.seconds()

    def now(self) -> datetime:
        """Now by the gateway's reactor: what the desk's actions and the accounts record."""
        return self.gateway.now()

    # --- the desks --------------------------------------------------------------------------

    def libraries(self) -> list[Library]:
        return libraries(self.gateway.config)

    def _desk(self, decide: Callable[[], DeskStep]) -> DeskStep:
        return self.gateway.act(decide)

    def _reader_leg(self, number: int, library: str) -> StoredLeg:
        leg = self.gateway.store.load(library, request_key(number))
        if leg is None or not isinstance(leg.payload, ReaderRequest):
            raise KeyError(number)
        return leg

    def _supply_legs(self, library: str, key: str) -> tuple[StoredLeg, StoredLeg]:
        leg = self._supply_leg(library, key)
        iso = self.gateway.store.load(leg.partner, leg.other_key)
        if iso is None:
            raise KeyError(key)
        return leg, iso

    def submit(self, library: str, reader: str, form: ReaderForm) -> ReaderRequest:
        number = self.gateway.store.next_number("reader-requests")
        account = self.account(library, reader)
        member = "" if account is None else account.member
        step = self._desk(
            lambda: self.desk.submit(library, reader, form, number, self.now(), member)
        )
        assert isinstance(step.value, ReaderRequest)
        return step.value

    def _own_names(self, library: str, reader: str) -> set[str]:
        """The reader and the old accounts linked into theirs: whose requests are theirs."""
        account = self.account(library, reader)
        return {reader, *(account.linked if account is not None else ())}

    def reader_requests(self, library: str, reader: str) -> list[ReaderRequest]:
        found = [
            leg.payload
            for name in self._own_names(library, reader)
            for leg in self.gateway.store.legs_of(library, name)
            if isinstance(leg.payload, ReaderRequest) and leg.payload.reader == name
        ]
        return sorted(found, key=lambda r: r.number, reverse=True)

    def reader_request(self, library: str, reader: str, number: int) -> ReaderRequest:
        request = self.library_request(library, number)
        if request.reader not in self._own_names(library, reader):
            raise KeyError(number)  # another reader's: as if it did not exist
        return request

    def _owner(self, library: str, reader: str, number: int) -> str:
        """Whom ``reader`` acts as on request ``number``: its own reader, which is ``reader``
        or an old account linked into theirs (关联原有帐户: both are one, so the old
        account's requests are theirs to cancel or answer). KeyError: not theirs."""
        return self.reader_request(library, reader, number).reader

    def cancel(self, library: str, reader: str | None, number: int) -> ReaderRequest:
        """The reader (or staff: ``reader`` None) cancel request ``number``."""
        owner = None if reader is None else self._owner(library, reader, number)
        step = self._desk(
            lambda: self.desk.cancel(
                self._reader_leg(number, library), owner, self.gateway.store.load, self.now()
            )
        )
        assert isinstance(step.value, ReaderRequest)
        return step.value

    def answer_conditions(
        self, library: str, reader: str, number: int, accept: bool
    ) -> ReaderRequest:
        owner = self._owner(library, reader, number)
        step = self._desk(
            lambda: self.desk.conditions(
                self._reader_leg(number, library),
                owner,
                accept,
                self.gateway.store.load,
                self.now(),
            )
        )
        assert isinstance(step.value, ReaderRequest)
        return step.value

    def library_requests(self, library: str) -> list[ReaderRequest]:
        found = [
            leg.payload
            for leg in self.gateway.store.legs_of(library)
            if isinstance(leg.payload, ReaderRequest)
        ]
        return sorted(found, key=lambda r: r.number, reverse=True)

    def library_request(self, library: str, number: int) -> ReaderRequest:
        request = self._reader_leg(number, library).payload
        assert isinstance(request, ReaderRequest)
        return request

    def send_request(self, library: str, number: int, suppliers: list[str]) -> ReaderRequest:
        step = self._desk(
            lambda: self.desk.send(self._reader_leg(number, library), suppliers, self.now())
        )
        assert isinstance(step.value, ReaderRequest)
        return step.value

    def mark_received(self, library: str, number: int) -> ReaderRequest:
        step = self._desk(
            lambda: self.desk.received(
                self._reader_leg(number, library), self.gateway.store.load, self.now()
            )
        )
        assert isinstance(step.value, ReaderRequest)
        return step.value

    def mark_returned(self, library: str, number: int, via: str = "") -> ReaderRequest:
        step = self._desk(
            lambda: self.desk.returned(
                self._reader_leg(number, library), self.gateway.store.load, self.now(), via
            )
        )
        assert isinstance(step.value, ReaderRequest)
        return step.value

    def supply_requests(self, library: str) -> list[SupplyRequest]:
        return [
            leg.payload
            for leg in self.gateway.store.legs_of(library)
            if isinstance(leg.payload, SupplyRequest)
        ]

    def supply_request(self, library: str, key: str) -> SupplyRequest:
        """One request to supply, by its transaction-id; KeyError when there is none."""
        request = self._supply_leg(library, key).payload
        assert isinstance(request, SupplyRequest)
        return request

    def supply_history(self, library: str, key: str) -> list[tuple[datetime, Said]]:
        """A request to supply's history: each APDU of its transaction, which way it went,
        when (the requester's and this library's alike); KeyError when there is none."""
        leg = self._supply_leg(library, key)
        return [
            (
                entry.at,
                apdu_line(
                    type(entry.apdu).__name__,
                    entry.direction is Direction.RECEIVE,
                    entry.row != REFUSED,
                ),
            )
            for entry in leg.transaction.history
        ]

    def _supply_leg(self, library: str, key: str) -> StoredLeg:
        """The leg of a request to supply, by its transaction-id; KeyError when none."""
        leg = self.gateway.store.load(library, key)
        if leg is None or not isinstance(leg.payload, SupplyRequest):
            raise KeyError(key)
        return leg

    # --- the lists, a page at a time -------------------------------------------------------------

    def find_reader_requests(self, library: str, reader: str, query: Query) -> Found[ReaderRequest]:
        """A page of a reader's own requests (and of the old accounts linked into theirs)."""
        names = sorted(self._own_names(library, reader))
        return lists.reader_requests(self.gateway.store, library, query, readers=names)

    def find_library_requests(self, staff: Account, query: Query) -> Found[ReaderRequest]:
        """A page of the readers' requests ``staff`` look after
        (:func:`isoill.library.accounts.sees`)."""
        store = self.gateway.store
        return lists.reader_requests(store, staff.library, query, member=staff.member)

    def find_supply_requests(self, library: str, query: Query) -> Found[SupplyRequest]:
        return lists.supply_requests(self.gateway.store, library, query)

    def find_accounts(self, staff: Account, query: Query) -> Found[Account]:
        return lists.accounts(self.gateway.store, staff, query)

    def ship(
        self,
        library: str,
        key: str,
        total_cost: Decimal,
        note: str = "",
        due: date | None = None,
    ) -> SupplyRequest:
        def decide() -> DeskStep:
            leg, iso = self._supply_legs(library, key)
            return self.desk.ship(leg, iso, total_cost, note, self.now(), due)

        step = self._desk(decide)
        assert isinstance(step.value, SupplyRequest)
        return step.value

    def loan_notice(self, library: str, key: str, kind: str, note: str = "") -> SupplyRequest:
        def decide() -> DeskStep:
            leg, iso = self._supply_legs(library, key)
            return self.desk.loan_notice(leg, iso, kind, note, self.now())

        step = self._desk(decide)
        assert isinstance(step.value, SupplyRequest)
        return step.value

    def renew_answer(
        self, library: str, key: str, agree: bool, due: date | None = None
    ) -> SupplyRequest:
        def decide() -> DeskStep:
            leg, iso = self._supply_legs(library, key)
            return self.desk.renew_answer(leg, iso, agree, due, self.now())

        step = self._desk(decide)
        assert isinstance(step.value, SupplyRequest)
        return step.value

    def renew(self, library: str, reader: str, number: int) -> ReaderRequest:
        owner = self._owner(library, reader, number)
        step = self._desk(
            lambda: self.desk.renew(
                self._reader_leg(number, library), owner, self.gateway.store.load, self.now()
            )
        )
        assert isinstance(step.value, ReaderRequest)
        return step.value

    def checked_in(self, library: str, key: str) -> SupplyRequest:
        def decide() -> DeskStep:
            leg, iso = self._supply_legs(library, key)
            return self.desk.checked_in(leg, iso, self.now())

        step = self._desk(decide)
        assert isinstance(step.value, SupplyRequest)
        return step.value

    def conditional(
        self, library: str, key: str, total_cost: Decimal, note: str = ""
    ) -> SupplyRequest:
        def decide() -> DeskStep:
            leg, iso = self._supply_legs(library, key)
            return self.desk.conditional(leg, iso, total_cost, note, self.now())

        step = self._desk(decide)
        assert isinstance(step.value, SupplyRequest)
        return step.value

    def unfillable(self, library: str, key: str, reason: str, note: str = "") -> SupplyRequest:
        def decide() -> DeskStep:
            leg, iso = self._supply_legs(library, key)
            return self.desk.unfillable(leg, iso, reason, note, self.now())

        step = self._desk(decide)
        assert isinstance(step.value, SupplyRequest)
        return step.value

    # --- accounts and sessions -----------------------------------------------------------------

    def account(self, library: str, username: str) -> Account | None:
        return self.accounts_table.get(library, username)

    def accounts(self, library: str, *, confirmed: bool | None = None) -> list[Account]:
        return self.accounts_table.of(library, confirmed=confirmed)

    def register(self, account: Account) -> Account:
        """A reader's (or member library's) new account, waiting for staff, and the mail
        that tells the reader so, in one commit. AccountError when the name is taken."""
        network = library_named(self.gateway.config, account.library)
        account = replace(account, created=self.now(), confirmed=False, version=0)

        def decide() -> _Written:
            if self.account(account.library, account.username) is not None:
                raise AccountError([problem("username", "taken", username=account.username)])
            notice = self._account_notice(network, account, confirmed=False)
            notices = (notice, *self._staff_notice(network, account))
            return _Written(Change(outbox=notices, rows=(account.row(),)))

        self.gateway.act(decide)
        return account

    def confirm_account(self, staff: Account, username: str) -> Account:
        network = library_named(self.gateway.config, staff.library)

        def decide() -> _Written:
            account = self.account(staff.library, username)
            if account is None:
                raise KeyError(username)
            confirmed = confirm(staff, account, self.now())
            notice = self._account_notice(network, confirmed, confirmed=True)
            return _Written(Change(outbox=(notice,), rows=(confirmed.row(),)), confirmed)

        step = self.gateway.act(decide)
        assert step.account is not None
        return step.account

    def _staff_notice(self, network: Library, account: Account) -> tuple[OutboxItem, ...]:
        """The mail that tells the staff who confirm ``account`` that it waits for them: a
        member library's own staff when it has an address, else the library's."""
        to, _ = staff_of(network, account.member)
        if not to:
            return ()
        message = registered_notice(
            username=account.username,
            name=account.name,
            email=account.email,
            member=account.member,
            library=network.label or network.symbol,
            sender=self.gateway.config.mail.address,
            recipient=to,
            at=self.now(),
        )
        return (mail_item(to, message, f"account|{network.name}|{account.username}|staff"),)

    def reject_account(self, staff: Account, username: str) -> Account:
        """Refuse a registration, and tell its reader."""
        network = library_named(self.gateway.config, staff.library)

        def change(account: Account) -> _Written:
            rejected = reject(staff, account)
            message = rejected_notice(
                name=account.name,
                username=account.username,
                library=network.label or network.symbol,
                sender=self.gateway.config.mail.address,
                recipient=account.email,
                at=self.now(),
            )
            purpose = f"account|{network.name}|{account.username}|rejected"
            item = mail_item(account.email, message, purpose)
            return _Written(Change(outbox=(item,), rows=(rejected.row(),)), rejected)

        return self._rewrite(staff.library, username, change)

    def disable_account(self, staff: Account, username: str, disabled: bool = True) -> Account:
        """Stop (or restore) an account's logins; stopping ends the ones it has."""
        changed = self._rewrite(
            staff.library, username, lambda found: _row(disable(staff, found, disabled))
        )
        if disabled:
            self.sessions.close_all(staff.library, username)
        return changed

    def _account_notice(self, network: Library, account: Account, *, confirmed: bool) -> OutboxItem:
        message = calis_mail.account_notice(
            name=account.name,
            username=account.username,
            library=network.label or network.symbol,
            sender=self.gateway.config.mail.address,
            recipient=account.email,
            confirmed=confirmed,
            at=self.now(),
            lang="zh",
        )
        purpose = f"account|{network.name}|{account.username}|{'confirmed' if confirmed else 'new'}"
        return mail_item(account.email, message, purpose)

    # --- managing one's own account ---------------------------------------------------------

    def _rewrite(
        self, library: str, username: str, change: Callable[[Account], _Written]
    ) -> Account:
        """Commit ``change`` of the account as the store has it now (KeyError: none)."""

        def decide() -> _Written:
            found = self.account(library, username)
            if found is None:
                raise KeyError(username)
            return change(found)

        step = self.gateway.act(decide)
        assert step.account is not None
        return step.account

    def change_password(self, account: Account, password_hash: str) -> Account:
        """A new password (its owner gave the current one); a reset link mailed before is
        spent with it."""
        return self._rewrite(
            account.library,
            account.username,
            lambda found: _row(replace(found, password=password_hash, reset="", reset_until=0)),
        )

    def update_profile(self, profile: Account) -> Account:
        """The personal fields of ``profile`` (read by ``read_profile``) on the stored account."""
        return self._rewrite(
            profile.library,
            profile.username,
            lambda found: _row(read_profile(found, profile.to_json())),
        )

    def request_reset(self, library: str, username: str, link: Callable[[str], str]) -> bool:
        """Mail a confirmed account's address a one-time link (``link`` of the token) that
        resets its password; False, and nothing mailed, when there is no such account. The
        page answers the same either way, so it tells nobody which accounts exist."""
        found = self.account(library, username)
        if found is None or not found.confirmed or not found.email:
            return False
        network = library_named(self.gateway.config, library)

        def change(account: Account) -> _Written:
            token, reset = new_reset(account, self.seconds())
            message = reset_notice(
                name=account.name,
                username=account.username,
                library=network.label or network.symbol,
                link=link(token),
                minutes=int(RESET_LIFETIME // 60),
                sender=self.gateway.config.mail.address,
                recipient=account.email,
                at=self.now(),
            )
            purpose = f"reset|{network.name}|{account.username}|{reset.reset}"
            item = mail_item(account.email, message, purpose)
            return _Written(Change(outbox=(item,), rows=(reset.row(),)), reset)

        self._rewrite(library, username, change)
        return True

    def reset_password(
        self, library: str, username: str, token: str, password_hash: str
    ) -> Account:
        """Set the password a mailed link was for, spending the link, and end the account's
        logins (whoever had the old password is out). AccountError: not the live link."""
        changed = self._rewrite(
            library,
            username,
            lambda found: _row(use_reset(found, token, password_hash, self.seconds())),
        )
        self.sessions.close_all(library, username)
        return changed

    def link_account(self, kept: Account, old_username: str) -> Account:
        """关联原有帐户: link the old account (its owner proved it theirs) into ``kept``, both
        rows in one commit, and end the old account's logins."""

        def decide() -> _Written:
            now_kept = self.account(kept.library, kept.username)
            old = self.account(kept.library, old_username)
            if now_kept is None or old is None:
                raise KeyError(old_username)
            joined, gone = link_accounts(now_kept, old)
            return _Written(Change(rows=(joined.row(), gone.row())), joined)

        step = self.gateway.act(decide)
        assert step.account is not None
        self.sessions.close_all(kept.library, old_username)
        return step.account

    def open_session(self, account: Account) -> tuple[str, Session]:
        now = self.seconds()
        token, session = new_session(account, now)
        self.sessions.open(session, now)
        return token, session

    def session(self, token: str) -> tuple[Session, Account] | None:
        """The live session of a cookie's token and its account, while the account may
        still log in."""
        session = self.sessions.get(session_key(token), self.seconds())
        if session is None:
            return None
        account = self.account(session.library, session.username)
        if account is None or not usable(account):
            return None
        return session, account

    def close_session(self, token: str) -> None:
        self.sessions.close(session_key(token))

    def mail_request(
        self, library: str, reader: str, form: ReaderForm, to_library: str, member: str = ""
    ) -> None:
        item = self.desk.mail_request(library, to_library, form, reader, self.now(), member)
        self.gateway.act(lambda: _Written(Change(outbox=(item,))))


class _Written:
    """A bare change, committed like a desk step (and the account it writes, if any)."""

    def __init__(self, change: Change, account: Account | None = None) -> None:
        self.change = change
        self.account = account


def _row(account: Account) -> _Written:
    """The account written as it is, and nothing else."""
    return _Written(Change(rows=(account.row(),)), account)
