"""The operations pages, status and records API answer operators only, over a real
``isoill gateway``: an operator account over HTTP Basic (``isoill staff add NAME
--operator``); anonymous requests, readers' sessions and library staff are refused. Every
login counts its attempt before the password is checked, so a burst of concurrent guesses
gets no more checks than the lockout allows."""

from __future__ import annotations

import base64
import json
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest

from isoill.gateway.logins import MAX_FAILURES, hash_password
from isoill.gateway.operators import find_operator
from isoill.gateway.store import Change, SQLiteStore
from isoill.library.accounts import Account, AccountRole, Accounts
from tests.gateway.support import OPERATOR, GatewayProcess

#: Every resource that shows more than one library's data.
GUARDED = ["/", "/?q=GIF", "/transactions/local/x", "/status", "/api/records/NX1"]
STAFF = ("librarian", "staff-secret-1")
READER = ("reader1", "reader-secret-1")


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path).start()
    process.add_staff(STAFF[0], "library", STAFF[1])
    process.operator()
    try:
        yield process
    finally:
        process.stop()


def _get(
    gateway: GatewayProcess, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{gateway.http_port}{path}", headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _reader_session(gateway: GatewayProcess) -> str:
    """A confirmed reader's real session cookie, from the reader pages' login."""
    store = SQLiteStore(gateway.workdir / "isoill-gateway.db")
    try:
        reader = Account(
            library="library",
            username=READER[0],
            role=AccountRole.READER,
            password=hash_password(READER[1]),
            name="王五",
            email="wangwu@example.edu.cn",
            confirmed=True,
            created=datetime.now(),
        )
        store.commit(Change(rows=(reader.row(),)), time.time())
    finally:
        store.close()
    from tests.library.support import Client

    client = Client(gateway)
    status, url = client.log_in("reader", "library", *READER)
    assert status == 200 and url.endswith("/reader/"), url
    cookie = client.cookie("isoill_reader")
    assert cookie is not None and cookie.value
    return f"isoill_reader={cookie.value}"


@pytest.mark.parametrize("path", GUARDED)
def test_anonymous_requests_are_refused_with_a_login_challenge(
    gateway: GatewayProcess, path: str
) -> None:
    status, headers, body = _get(gateway, path)
    assert status == 401
    assert headers["WWW-Authenticate"].startswith('Basic realm="isoill operators"')
    assert "operators only" in body
    status, _, _ = _get(gateway, path, {"Authorization": "Bearer not-a-configured-token"})
    assert status == 401


def test_a_readers_session_and_library_staff_are_not_operators(gateway: GatewayProcess) -> None:
    cookie = _reader_session(gateway)
    for path in GUARDED:
        assert _get(gateway, path, {"Cookie": cookie})[0] == 401, path
        assert _get(gateway, path, _basic(*READER))[0] == 401, path
        assert _get(gateway, path, _basic(*STAFF))[0] == 401, path
    # Nor does an operator account open a library's pages.
    from tests.library.support import Client

    status, url = Client(gateway).log_in("staff", "library", *OPERATOR)
    assert status == 401 and "/staff/login" in url


def test_an_operator_sees_the_operations_pages(gateway: GatewayProcess) -> None:
    status, _, body = _get(gateway, "/status", _basic(*OPERATOR))
    assert status == 200 and '"store"' in body
    status, _, body = _get(gateway, "/", _basic(*OPERATOR))
    assert status == 200 and "<table" in body
    assert _get(gateway, "/api/records/NX1", _basic(*OPERATOR))[0] == 404
    assert _get(gateway, "/status", _basic(OPERATOR[0], "wrong-password"))[0] == 401


def test_metrics_are_open_on_a_loopback_listener(gateway: GatewayProcess) -> None:
    status, _, body = _get(gateway, "/metrics")
    assert status == 200 and "isoill_" in body


def _burst(gateway: GatewayProcess, path: str, user: str, wrong: int, right: str) -> list[int]:
    """``wrong`` concurrent guesses, then the right password while they are being checked."""
    with ThreadPoolExecutor(max_workers=wrong + 1) as pool:
        guesses = [
            pool.submit(_get, gateway, path, _basic(user, f"guess-{n:04d}")) for n in range(wrong)
        ]
        time.sleep(0.2)  # every guess has arrived; their scrypt checks take far longer
        last = pool.submit(_get, gateway, path, _basic(user, right))
        return [f.result()[0] for f in guesses] + [last.result()[0]]


@pytest.mark.parametrize(
    ("path", "who"),
    [("/status", OPERATOR), ("/api/libraries/library/requests", STAFF)],
    ids=["operator", "library-api"],
)
def test_concurrent_guesses_get_no_more_checks_than_the_lockout_allows(
    gateway: GatewayProcess, path: str, who: tuple[str, str]
) -> None:
    answers = _burst(gateway, path, who[0], 39, who[1])
    # Only MAX_FAILURES guesses were checked at all; the rest, and the right password that
    # came after them, were held without a check.
    assert answers.count(401) == MAX_FAILURES
    assert answers.count(429) == 40 - MAX_FAILURES
    assert answers[-1] == 429


def test_an_operator_of_a_store_from_before_the_operators_table_still_logs_in(
    tmp_path: Path,
) -> None:
    """Operators were once accounts of no library, in the accounts table the library owns
    now; opening such a store moves them to the gateway's own table."""
    old = sqlite3.connect(tmp_path / "isoill-gateway.db")
    old.execute(
        "CREATE TABLE accounts (library TEXT NOT NULL, username TEXT NOT NULL, role TEXT NOT"
        " NULL, confirmed INTEGER NOT NULL, body TEXT NOT NULL, version INTEGER NOT NULL,"
        " PRIMARY KEY (library, username))"
    )
    body = {"role": "operator", "password": hash_password("old-operator-1"), "confirmed": True}
    old.execute(
        "INSERT INTO accounts VALUES ('', 'old-ops', 'operator', 1, ?, 1)", (json.dumps(body),)
    )
    old.commit()
    old.close()
    gateway = GatewayProcess(tmp_path).start()
    try:
        assert _get(gateway, "/status", _basic("old-ops", "old-operator-1"))[0] == 200
        assert _get(gateway, "/status", _basic("old-ops", "not-the-password"))[0] == 401
    finally:
        gateway.stop()
    store = SQLiteStore(tmp_path / "isoill-gateway.db")
    try:
        found = find_operator(store, "old-ops")
        assert found is not None and found.version == 1
        assert Accounts(store).of("") == []  # moved, not copied: the library has no such role
    finally:
        store.close()
