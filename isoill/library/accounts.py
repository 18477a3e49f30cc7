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

Accounts themselves, passwords and the one password check are the gateway's
(:mod:`isoill.gateway.logins`), shared with its operators; what is here is the library's rules
for them. A login session is a random token that the browser keeps in a cookie and the store
keeps only as its SHA-256, so a copy of the database logs nobody in; each session has its own
CSRF token, which every form it posts must carry.

The decisions here are plain functions on immutable values, like the desk's; the store keeps
the values, the web pages carry them out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from isoill.gateway.logins import Account, AccountError, AccountRole, check_password, check_username
from isoill.gateway.store import Store
from isoill.library.settings import Library
from isoill.mapping.reader_form import is_email

_LIMITS = {"name": 100, "email": 254, "phone": 50, "id_type": 30, "id_number": 50}


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
    problems += check_password(password, text["username"])
    if password != (fields.get("password2") or ""):
        problems.append("password2: the two passwords differ / 两次输入的密码不一致")
    for name, limit in _LIMITS.items():
        value = text[name]
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            problems.append(f"{name}: contains control characters")
        elif len(value) > limit:
            problems.append(f"{name}: at most {limit} characters")
    if not text["name"]:
        problems.append("name: required / 必填")
    if not is_email(text["email"]):
        problems.append("email: not an e-mail address / 电子信箱格式不正确")
    member = text["member"]
    symbols = {m.symbol.upper(): m.symbol for m in network.members}
    if network.mode == "central":
        if member.upper() not in symbols:
            problems.append("member: choose your library / 请选择所属成员馆")
        else:
            member = symbols[member.upper()]
    elif member:
        problems.append(f"member: {network.label or network.name} has no member libraries")
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
        raise AccountError([f"{staff.username} may not confirm {account.username}"])
    if account.confirmed:
        raise AccountError([f"account {account.username} is confirmed already"])
    return replace(account, confirmed=True, confirmed_by=staff.username)


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
