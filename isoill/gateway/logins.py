"""Logins to the gateway: passwords, the rules for user names and passwords, and the one
password check.

Every login, an operator's (:mod:`isoill.gateway.operators`) or one to what a network kind
mounts (a library's readers and staff, :mod:`isoill.library.accounts`), checks its password
through :func:`log_in`, so the rules that protect a password (scrypt, held logins, equal timing
for unknown names) are written once. Who may log in where, and the accounts themselves, are
theirs: the core knows only a hash to check (:class:`Login`).

Passwords are kept only as scrypt hashes (a memory-hard KDF in the standard library, so no
native dependency to build); checking one costs about a tenth of a second of CPU, which is the
point, so callers run :func:`hash_password` and :func:`verify_password` off the reactor
thread, and five wrong ones in a quarter of an hour hold that account's login for the rest
of it (:class:`Throttle`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar

from twisted.internet import defer, threads
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web import server
from twisted.web.server import Request

from isoill.errors import IsoillError
from isoill.multilingual import Said

log = Logger()

#: Wrong passwords an account may have in LOCKOUT_WINDOW seconds before its login is held.
MAX_FAILURES = 5
LOCKOUT_WINDOW = 15 * 60.0


class AccountError(IsoillError, ValueError):
    """An account that cannot be made or changed; ``reasons`` lists every reason, each led
    by the field it is about, as the reader form's errors are."""


class Login(Protocol):
    """What a password is checked against: an account of any kind."""

    @property
    def password(self) -> str:
        """The scrypt hash (:func:`hash_password`)."""
        ...


Found = TypeVar("Found", bound=Login)


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


# --- names and passwords ----------------------------------------------------------------------

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{2,63}")


def check_username(username: str) -> list[str]:
    if _USERNAME.fullmatch(username):
        return []
    return [
        _both(
            "username: 3 to 64 letters, digits or . _ @ -, starting with a letter or digit",
            "用户名: 3-64 个字母、数字或 . _ @ -",
            "以字母或数字开头的 3-64 个字母、数字或 . _ @ -",
        )
    ]


def check_password(password: str, username: str) -> list[str]:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return [
            _both(
                f"password: {MIN_PASSWORD} to {MAX_PASSWORD} characters",
                f"密码: {MIN_PASSWORD}-{MAX_PASSWORD} 个字符",
                f"{MIN_PASSWORD}-{MAX_PASSWORD} 个字符",
            )
        ]
    if password.strip().lower() == username.strip().lower():
        return [
            _both("password: must not be the user name", "密码不能与用户名相同", "不能与用户名相同")
        ]
    return []


def _both(en: str, pair_zh: str, zh: str) -> Said:
    """A problem the operators' pages show as the pair they always have ("<field>: English /
    中文"), and the library's pages in their reader's language ("<field>: 中文")."""
    field = en.partition(":")[0]
    return Said(f"{en} / {pair_zh}", en=en, zh=f"{field}: {zh}")


class Throttle:
    """At most ``limit`` events per key in ``window`` seconds, counted in memory: enough to
    stop password guessing, or a stranger mailing a library's staff from the e-mail page
    without end (one process's count; several processes each hold their own)."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = LOCKOUT_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self.events: dict[tuple[str, str], list[float]] = {}

    def held(self, key: tuple[str, str], now: float) -> bool:
        recent = [t for t in self.events.get(key, ()) if now - t < self.window]
        if recent:
            self.events[key] = recent
        else:
            self.events.pop(key, None)
        return len(recent) >= self.limit

    def count(self, key: tuple[str, str], now: float) -> None:
        self.events.setdefault(key, []).append(now)
        if len(self.events) > 10000:  # a flood of made-up keys must not grow this for ever
            oldest = min(self.events, key=lambda k: self.events[k][-1])
            del self.events[oldest]

    def clear(self, key: tuple[str, str]) -> None:
        self.events.pop(key, None)

    def attempt(self, key: tuple[str, str], now: float) -> bool:
        """Count one attempt and say whether it may go ahead. Counted *before* the password
        is checked, in one step on the reactor thread: a burst of concurrent guesses cannot
        all pass the hold while their checks are still running in threads."""
        if self.held(key, now):
            return False
        self.count(key, now)
        return True


class LoginHeld(Exception):
    """Too many attempts for this account in the window: nothing was checked."""


async def log_in(
    throttle: Throttle,
    key: tuple[str, str],
    account: Found | None,
    password: str,
    now: float,
    allowed: Callable[[Found], bool] | None = None,
) -> Found | None:
    """The one password check of every login: the operators', and those of what network
    kinds mount (a library's reader and staff pages, its API's HTTP Basic). The account when
    the password is its own and ``allowed`` (when given) lets it in here; None otherwise;
    :class:`LoginHeld` when the key has had its attempts by ``now`` (the reactor's seconds:
    a test's clock moves the window on). A success clears the key's count;
    a failure stays counted."""
    if not throttle.attempt(key, now):
        raise LoginHeld
    # The same scrypt work when there is no such account, so that the answer's timing does
    # not tell which user names exist; a password longer than any account may have is
    # checked against nothing real.
    stored = DUMMY_HASH
    if account is not None and len(password) <= MAX_PASSWORD:
        stored = account.password
    good = await threads.deferToThread(verify_password, password, stored)
    if not good or account is None or (allowed is not None and not allowed(account)):
        return None
    throttle.clear(key)
    return account


def answer_later(request: Request, work: Callable[[], Coroutine[Any, Any, bytes]]) -> int:
    """Answer from a coroutine (one that waits for a password check in a thread)."""
    gone: list[bool] = []
    request.notifyFinish().addErrback(lambda _: gone.append(True))

    def done(body: bytes) -> None:
        if not gone:
            request.write(body)
            request.finish()

    def failed(reason: Failure) -> None:
        log.failure("page {uri}", reason, uri=request.uri)
        if not gone:
            request.setResponseCode(500)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            request.write(b"internal error; the gateway's log says more")
            request.finish()

    defer.ensureDeferred(work()).addCallbacks(done, failed)
    return server.NOT_DONE_YET


#: A hash checked when a login names no account, so that it takes as long as a real one.
DUMMY_HASH = (
    "scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)
