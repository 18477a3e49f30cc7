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

Passwords are kept only as scrypt hashes (a memory-hard KDF in the standard library, so no
native dependency to build); checking one costs about a tenth of a second of CPU, which is the
point, so callers run :func:`hash_password` and :func:`verify_password` off the reactor
thread. A login session is a random token that the browser keeps in a cookie and the store
keeps only as its SHA-256, so a copy of the database logs nobody in; each session has its own
CSRF token, which every form it posts must carry.

The decisions here are plain functions on immutable values, like the desk's; the store keeps
the values, the web pages carry them out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from isoill.errors import IsoillError
from isoill.gateway.config import Network
from isoill.mapping.reader_form import is_email


class AccountError(IsoillError, ValueError):
    """An account that cannot be made or changed; ``reasons`` lists every reason, each led
    by the field it is about, as the reader form's errors are."""


class AccountRole(StrEnum):
    READER = "reader"  # a reader's own account (个人用户)
    GROUP = "group"  # a member library's institutional account (集团用户, central mode)
    STAFF = "staff"  # the library's (or a member library's) ILL staff
    OPERATOR = "operator"  # runs the gateway: its operations pages, status and records API


#: The "library" of operator accounts: they belong to the gateway, not to a library network.
OPERATORS = ""


# --- passwords --------------------------------------------------------------------------------

#: scrypt's cost: N=2^15, r=8 (32 MiB of memory per check), p=1; stored with each hash, so
#: raising it later leaves existing hashes readable.
SCRYPT_N = 1 << 15
SCRYPT_R = 8
SCRYPT_P = 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
_DKLEN = 32
MIN_PASSWORD = 8
MAX_PASSWORD = 256  # scrypt takes any length; a bound keeps a hostile post from being costly


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash``, with a new random salt each time."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=_SCRYPT_MAXMEM,
        dklen=_DKLEN,
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` is the one ``encoded`` was made from; False, not an error, for a
    hash this code does not read (an account whose password must be set again)."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        if len(expected) != _DKLEN:
            return False  # a cut hash would otherwise verify against its own prefix
        computed = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt, validate=True),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
            dklen=_DKLEN,
        )
    except ValueError:
        return False
    return hmac.compare_digest(computed, expected)


# --- accounts ---------------------------------------------------------------------------------


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
            version=version,
        )


_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{2,63}")
_LIMITS = {"name": 100, "email": 254, "phone": 50, "id_type": 30, "id_number": 50}


def check_username(username: str) -> list[str]:
    if _USERNAME.fullmatch(username):
        return []
    return [
        "username: 3 to 64 letters, digits or . _ @ -, starting with a letter or digit"
        " / 用户名: 3-64 个字母、数字或 . _ @ -"
    ]


def check_password(password: str, username: str) -> list[str]:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return [
            f"password: {MIN_PASSWORD} to {MAX_PASSWORD} characters"
            f" / 密码: {MIN_PASSWORD}-{MAX_PASSWORD} 个字符"
        ]
    if password.strip().lower() == username.strip().lower():
        return ["password: must not be the user name / 密码不能与用户名相同"]
    return []


def registration_role(network: Network) -> AccountRole:
    """What registering on this library's reader pages makes: a member library's
    institutional account in a group-mode centre, a reader's own account otherwise."""
    if network.mode == "central" and network.accounts == "group":
        return AccountRole.GROUP
    return AccountRole.READER


def read_registration(network: Network, fields: Mapping[str, str]) -> tuple[Account, str]:
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
    network: Network, username: str, member: str, password_hash: str, at: datetime
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


def operator_account(username: str, password_hash: str, at: datetime) -> Account:
    """An operator's account (``isoill staff add NAME --operator``): it logs in to the
    operations pages and the records API, which show every library's requests and readers'
    names, and to nothing of a library's own pages."""
    problems = check_username(username)
    if problems:
        raise AccountError(problems)
    return Account(
        library=OPERATORS,
        username=username,
        role=AccountRole.OPERATOR,
        password=password_hash,
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
