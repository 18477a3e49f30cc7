"""Who may use a library's reader and staff pages, and what each may do there.

The CALIS guides describe the accounts: a reader registers on the library's reader gateway
(注册新用户, the fields marked * required) and the account waits until the library's ILL
staff have checked the details and confirmed it ("管理员核对您填写的信息后, 会发确认邮件给您");
only a confirmed account logs in. In the CALIS centre's *central mode* the readers belong to
member libraries: in the *individual* sub-mode each reader registers, naming the member
library, and that library's staff (or the centre's) confirm it; in the *group* sub-mode each
member library has one institutional account, through which its ILL staff send requests for
their readers, confirmed by the centre's staff. Staff accounts are made by the operator
(``isoill staff add``) and are confirmed from the start.

The accounts are the library's, in its own ``accounts`` table (the library kind's schema,
:mod:`isoill.library.kind`), written as rows of a step (:class:`~isoill.gateway.store.Row`) so
that an account is confirmed in the same commit as the mail that tells its reader; passwords,
the rules for names and the one password check are the gateway's
(:mod:`isoill.gateway.logins`), shared with its operators.

A login session is a random token that the browser keeps in a cookie and the store
keeps only as its SHA-256, so a copy of the database logs nobody in; each session has its own
CSRF token, which every form it posts must carry.

The decisions here are plain functions on immutable values, like the desk's; the store keeps
the values, the web pages carry them out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from isoill.gateway.logins import AccountError, check_password, check_username
from isoill.gateway.store import Row, Store
from isoill.library.settings import Library
from isoill.library.wording import problem, say
from isoill.mapping.reader_form import is_email

_LIMITS = {"name": 100, "email": 254, "phone": 50, "id_type": 30, "id_number": 50}


class AccountRole(StrEnum):
    READER = "reader"  # a reader's own account (个人用户)
    GROUP = "group"  # a member library's institutional account (集团用户, central mode)
    STAFF = "staff"  # the library's (or a member library's) ILL staff


@dataclass(frozen=True)
class Account:
    """One account of one library network. ``member`` is the member library's symbol in
    central mode (empty: the library itself, or the centre). ``password`` is the scrypt
    hash. ``version`` is what the store had when it was loaded (0: not stored yet)."""

    library: str
    username: str
    role: AccountRole
    password: str
    name: str = ""
    email: str = ""
    phone: str = ""
    member: str = ""
    id_type: str = ""  # 证件名称 (借书证, 身份证 ...)
    id_number: str = ""  # 证件号码
    confirmed: bool = False
    created: datetime | None = None
    confirmed_by: str = ""
    #: Staff disabled the account (or, never confirmed, rejected its registration): it
    #: logs in nowhere until staff enable it again.
    disabled: bool = False
    #: 关联原有帐户: the old accounts linked into this one, whose requests it sees; and, on an
    #: old account, the one it was linked into (it logs in no more).
    linked: tuple[str, ...] = ()
    linked_into: str = ""
    #: SHA-256 of the one password-reset token mailed to the account, and until when (the
    #: reactor's seconds) it is good: only the hash is kept, so the store's copy resets nothing.
    reset: str = ""
    reset_until: float = 0.0
    version: int = 0

    @property
    def staff(self) -> bool:
        return self.role is AccountRole.STAFF

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role.value,
            "password": self.password,
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "member": self.member,
            "id_type": self.id_type,
            "id_number": self.id_number,
            "confirmed": self.confirmed,
            "created": None if self.created is None else self.created.isoformat(),
            "confirmed_by": self.confirmed_by,
            "disabled": self.disabled,
            "linked": list(self.linked),
            "linked_into": self.linked_into,
            "reset": self.reset,
            "reset_until": self.reset_until,
        }

    @classmethod
    def from_json(
        cls, library: str, username: str, value: Mapping[str, Any], version: int
    ) -> Account:
        created = value.get("created")
        return cls(
            library=library,
            username=username,
            role=AccountRole(value["role"]),
            password=value["password"],
            name=value.get("name", ""),
            email=value.get("email", ""),
            phone=value.get("phone", ""),
            member=value.get("member", ""),
            id_type=value.get("id_type", ""),
            id_number=value.get("id_number", ""),
            confirmed=bool(value.get("confirmed", False)),
            created=None if created is None else datetime.fromisoformat(created),
            confirmed_by=value.get("confirmed_by", ""),
            disabled=bool(value.get("disabled", False)),
            linked=tuple(value.get("linked", ())),
            linked_into=value.get("linked_into", ""),
            reset=value.get("reset", ""),
            reset_until=float(value.get("reset_until", 0.0)),
            version=version,
        )

    def row(self) -> Row:
        """The account as a row of a step (:class:`~isoill.gateway.store.Change`)."""
        body = json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))
        return Row(
            "accounts",
            {"library": self.library, "username": self.username},
            {"role": self.role.value, "confirmed": int(self.confirmed), "body": body},
            self.version,
        )


def may_log_in(roles: Collection[AccountRole]) -> Callable[[Account], bool]:
    """Who logs in where: a confirmed account of one of ``roles``, neither disabled nor
    linked into another."""
    return lambda account: usable(account) and account.role in roles


def usable(account: Account) -> bool:
    """Whether the account may be used at all: confirmed, not disabled, not linked away."""
    return account.confirmed and not account.disabled and not account.linked_into


def registration_role(network: Library) -> AccountRole:
    """What registering on this library's reader pages makes: a member library's
    institutional account in a group-mode centre, a reader's own account otherwise."""
    if network.mode == "central" and network.accounts == "group":
        return AccountRole.GROUP
    return AccountRole.READER


def read_registration(network: Library, fields: Mapping[str, str]) -> tuple[Account, str]:
    """The account a registration form asks for (not confirmed, no password hash yet) and
    the password to hash; :class:`AccountError` with every problem at once."""
    text = {k: (fields.get(k) or "").strip() for k in (*_LIMITS, "username", "member")}
    password = fields.get("password") or ""
    problems = check_username(text["username"])
    problems += _new_password_problems(fields, text["username"])
    problems += _personal_problems(text)
    member = text["member"]
    symbols = {m.symbol.upper(): m.symbol for m in network.members}
    if network.mode == "central":
        if member.upper() not in symbols:
            problems.append(problem("member", "choose-member"))
        else:
            member = symbols[member.upper()]
    elif member:
        problems.append(problem("member", "no-members", library=network.label or network.name))
    if problems:
        raise AccountError(problems)
    account = Account(
        library=network.name,
        username=text["username"],
        role=registration_role(network),
        password="",
        name=text["name"],
        email=text["email"],
        phone=text["phone"],
        member=member,
        id_type=text["id_type"],
        id_number=text["id_number"],
    )
    return account, password


def _new_password_problems(fields: Mapping[str, str], username: str) -> list[str]:
    password = fields.get("password") or ""
    problems = check_password(password, username)
    if password != (fields.get("password2") or ""):
        problems.append(problem("password2", "passwords-differ"))
    return problems


def _personal_problems(text: Mapping[str, str]) -> list[str]:
    """What is wrong with the personal fields a reader fills in (registration, profile)."""
    problems: list[str] = []
    for name, limit in _LIMITS.items():
        value = text[name]
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            problems.append(problem(name, "control-characters"))
        elif len(value) > limit:
            problems.append(problem(name, "too-long", limit=limit))
    if not text["name"]:
        problems.append(problem("name", "required"))
    if not is_email(text["email"]):
        problems.append(problem("email", "not-email"))
    return problems


def read_new_password(account: Account, fields: Mapping[str, str]) -> str:
    """The new password a change or reset form gives (``password`` twice, as when
    registering); :class:`AccountError` with every problem."""
    problems = _new_password_problems(fields, account.username)
    if problems:
        raise AccountError(problems)
    return fields.get("password") or ""


def read_profile(account: Account, fields: Mapping[str, str]) -> Account:
    """The account with the personal fields of a profile form (个人管理); the user name,
    role and library stay what they are."""
    text = {k: (fields.get(k) or "").strip() for k in _LIMITS}
    problems = _personal_problems(text)
    if problems:
        raise AccountError(problems)
    return replace(
        account,
        name=text["name"],
        email=text["email"],
        phone=text["phone"],
        id_type=text["id_type"],
        id_number=text["id_number"],
    )


#: How long a mailed password-reset link works, in seconds.
RESET_LIFETIME = 3600.0


def new_reset(account: Account, now: float) -> tuple[str, Account]:
    """A fresh reset token (for the mail) and the account that keeps only its hash; a new
    one replaces any earlier, which then resets nothing."""
    token = secrets.token_urlsafe(32)
    return token, replace(account, reset=session_key(token), reset_until=now + RESET_LIFETIME)


def use_reset(account: Account, token: str, password_hash: str, now: float) -> Account:
    """The account with its new password, the token spent; :class:`AccountError` when the
    token is not the account's live one."""
    live = bool(account.reset) and now < account.reset_until
    if not live or not same_token(session_key(token), account.reset):
        raise AccountError([problem("token", "link-expired")])
    return replace(account, password=password_hash, reset="", reset_until=0.0)


def can_confirm(staff: Account, account: Account) -> bool:
    """The library's own staff (or the centre's) confirm any account of it; a member
    library's staff only their own readers, never a member library's group account, which
    is the centre's to grant."""
    if not staff.staff or not staff.confirmed or staff.library != account.library:
        return False
    if account.staff:
        return False
    if not staff.member:
        return True
    return account.role is AccountRole.READER and account.member == staff.member


def confirm(staff: Account, account: Account, at: datetime) -> Account:
    if not can_confirm(staff, account):
        raise AccountError(
            [say("may-not-confirm", staff=staff.username, username=account.username)]
        )
    if account.confirmed:
        raise AccountError([say("confirmed-already", username=account.username)])
    return replace(account, confirmed=True, confirmed_by=staff.username)


def _managed(staff: Account, account: Account) -> None:
    if not can_confirm(staff, account):
        raise AccountError([say("may-not-manage", staff=staff.username, username=account.username)])


def reject(staff: Account, account: Account) -> Account:
    """A registration staff will not confirm (the details do not check out): it stays, so
    the name is not taken again at once, but logs in nowhere."""
    _managed(staff, account)
    if account.confirmed or account.disabled:
        state = "confirmed" if account.confirmed else "rejected"
        raise AccountError([say(f"{state}-already", username=account.username)])
    return replace(account, disabled=True, confirmed_by=staff.username)


def disable(staff: Account, account: Account, disabled: bool = True) -> Account:
    """Staff stop (or, ``disabled`` False, restore) a confirmed account's logins; its
    requests stay as they are."""
    _managed(staff, account)
    if account.disabled == disabled:
        state = "disabled" if disabled else "enabled"
        raise AccountError([say(f"{state}-already", username=account.username)])
    return replace(account, disabled=disabled)


def link_accounts(kept: Account, old: Account) -> tuple[Account, Account]:
    """关联原有帐户 (the Tsinghua guide, 1.3): a reader keeps ``kept`` and links the ``old``
    account they proved is theirs into it; the old one logs in no more, and ``kept`` sees
    its requests and takes the personal details it lacks. Both must be usable reader
    accounts of one library."""
    problems = []
    if kept.library != old.library or kept.username == old.username:
        problems.append(problem("username", "link-not-other"))
    elif old.role is not AccountRole.READER or kept.role is not AccountRole.READER:
        problems.append(problem("username", "link-readers-only"))
    elif not usable(old) or not usable(kept):
        problems.append(problem("username", "link-refused"))
    if problems:
        raise AccountError(problems)
    fields = ("name", "email", "phone", "id_type", "id_number")
    taken = {f: getattr(old, f) for f in fields if not getattr(kept, f) and getattr(old, f)}
    joined = replace(kept, linked=(*kept.linked, old.username, *old.linked), **taken)
    return joined, replace(old, linked_into=kept.username, linked=())


def sees(staff: Account, owner: Account | None) -> bool:
    """Whether staff see a reader's request: a member library's staff only their own
    readers'; the library's or the centre's staff all of them."""
    if not staff.member:
        return True
    return owner is not None and owner.member == staff.member


def staff_account(
    network: Library, username: str, member: str, password_hash: str, at: datetime
) -> Account:
    """A staff account (the operator's command makes these), confirmed from the start."""
    problems = check_username(username)
    if member and member not in {m.symbol for m in network.members}:
        problems.append(f"member: {member} is not a member of {network.name}")
    if problems:
        raise AccountError(problems)
    return Account(
        library=network.name,
        username=username,
        role=AccountRole.STAFF,
        password=password_hash,
        member=member,
        confirmed=True,
        created=at,
        confirmed_by="operator",
    )


# --- sessions ---------------------------------------------------------------------------------

#: How long a login lasts, in seconds (a working day; a library PC left logged in ends).
SESSION_LIFETIME = 8 * 3600.0


@dataclass(frozen=True)
class Session:
    """A login: whose, its CSRF token, and when it ends. ``key`` is the SHA-256 of the
    cookie's token, which is all the store keeps."""

    key: str
    library: str
    username: str
    csrf: str
    expires: float


def session_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_session(account: Account, now: float) -> tuple[str, Session]:
    """A fresh token (the cookie's value) and its session; a new one at every login, so a
    token planted before the login is worth nothing after it."""
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    return token, Session(
        session_key(token), account.library, account.username, csrf, now + SESSION_LIFETIME
    )


def same_token(given: str, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


class Sessions:
    """The library's sessions table in the gateway's store (its schema is the library
    kind's, :data:`isoill.library.kind.SCHEMA`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def open(self, session: Session, now: float) -> None:
        with self.store.transaction() as cur:
            # Expired sessions go as new ones come: no timer, and the table stays small.
            cur.execute(self.store.sql("DELETE FROM sessions WHERE expires <= ?"), (now,))
            cur.execute(
                self.store.sql(
                    "INSERT INTO sessions (skey, library, username, csrf, expires)"
                    " VALUES (?, ?, ?, ?, ?)"
                ),
                (session.key, session.library, session.username, session.csrf, session.expires),
            )

    def get(self, key: str, now: float) -> Session | None:
        """The session of a cookie's token (its SHA-256), unless it has expired."""
        with self.store.transaction() as cur:
            cur.execute(
                self.store.sql(
                    "SELECT skey, library, username, csrf, expires FROM sessions"
                    " WHERE skey = ? AND expires > ?"
                ),
                (key, now),
            )
            row = cur.fetchone()
        return None if row is None else Session(*row)

    def close(self, key: str) -> None:
        with self.store.transaction() as cur:
            cur.execute(self.store.sql("DELETE FROM sessions WHERE skey = ?"), (key,))

    def close_all(self, library: str, username: str) -> None:
        """End every login of an account: its password was reset or changed elsewhere."""
        with self.store.transaction() as cur:
            cur.execute(
                self.store.sql("DELETE FROM sessions WHERE library = ? AND username = ?"),
                (library, username),
            )


class Accounts:
    """The library's accounts table in the gateway's store (its schema is the library kind's,
    :data:`isoill.library.kind.SCHEMA`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, library: str, username: str) -> Account | None:
        found = self._select("library = ? AND username = ?", (library, username))
        return found[0] if found else None

    def of(self, library: str, *, confirmed: bool | None = None) -> list[Account]:
        """A library's accounts, all or only the (un)confirmed ones, by user name."""
        if confirmed is None:
            return self._select("library = ?", (library,))
        return self._select("library = ? AND confirmed = ?", (library, int(confirmed)))

    def _select(self, where: str, args: tuple[Any, ...]) -> list[Account]:
        with self.store.transaction() as cur:
            cur.execute(
                self.store.sql(
                    f"SELECT library, username, body, version FROM accounts WHERE {where}"
                    " ORDER BY username"
                ),
                args,
            )
            rows = cur.fetchall()
        return [Account.from_json(row[0], row[1], json.loads(row[2]), row[3]) for row in rows]
