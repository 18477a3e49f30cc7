"""An in-process gateway for the hostile-input tests: a real :class:`Gateway` with a real
SQLite store, on Twisted's memory reactor, its associations on StringTransports, so a test
feeds bytes exactly as they could arrive and reads back every byte the gateway wrote; and
its HTTP site, each request parsed by Twisted's HTTP channel on a StringTransport."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from twisted.internet import defer
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.web.server import Site

import isoill
import isoill.library
from isoill.gateway import logins
from isoill.gateway.association import Association, ListenerFactory
from isoill.gateway.config import Config, parse
from isoill.gateway.service import Gateway
from isoill.gateway.store import Change, SQLiteStore
from isoill.gateway.web import site
from isoill.library.accounts import Account, AccountRole
from tests.gateway.support import Answer, exchange
from tests.library.support import FORM
from tests.machine.support import request

#: Two ISO networks, one peer in each: east's requests for OCLC symbols go to west.
TWO_NETWORKS = """
[gateway]
ill = []
http = ""

[[network]]
name = "east"
kind = "iso"

[[network]]
name = "west"
kind = "iso"

[[peer]]
name = "east-lib"
network = "east"
symbols = ["NACSIS:*"]
addresses = ["127.0.0.1"]

[[peer]]
name = "west-lib"
network = "west"
symbols = ["OCLC:*"]
addresses = ["192.0.2.7"]
"""


def config(text: str = TWO_NETWORKS, **sections: dict[str, object]) -> Config:
    """A configuration as the gateway reads it from a file, with sections added."""
    data = tomllib.loads(text)
    data.update(sections)
    return parse(data, "test")


@contextmanager
def gateway_on(path: Path, settings: Config | None = None) -> Iterator[Gateway]:
    store = SQLiteStore(path / "store.db")
    try:
        yield Gateway(settings or config(), store, MemoryReactorClock())
    finally:
        store.close()


#: Where :func:`clocked` sets the memory reactor's clock: a weekday of the present, not
#: the epoch, so that dates a form or a desk checks are as in service.
START = datetime(2026, 11, 23, 10, 0).timestamp()


def clocked(gateway: Gateway) -> MemoryReactorClock:
    """The gateway's memory reactor, its clock set to :data:`START`. The gateway takes every
    time from it (leases, retries, deadlines, logins, sessions), so a test moves time on with
    ``advance`` and the gateway's timers are the test's ``deliver()`` calls."""
    reactor = gateway.reactor
    assert isinstance(reactor, MemoryReactorClock)
    reactor.advance(START - reactor.seconds())
    return reactor


def connect(gateway: Gateway, host: str = "127.0.0.1") -> Association:
    """An association accepted from ``host`` as the listener accepts one; its transport
    is a StringTransport (``association.transport.value()``: what was written)."""
    address = IPv4Address("TCP", host, 40000)
    association = ListenerFactory(gateway).buildProtocol(address)
    assert isinstance(association, Association), "refused"
    association.makeConnection(StringTransport(peerAddress=address))
    return association


def written(association: Association) -> list[isoill.APDU]:
    """Every APDU the gateway wrote on the association, decoded."""
    data = association.transport.value()  # type: ignore[union-attr]
    return isoill.decode_all(data) if data else []


def still_open(association: Association) -> bool:
    return association.alive and not association.transport.disconnecting  # type: ignore[union-attr]


def ask(qualifier: str, **fields: object) -> isoill.ILLRequest:
    """An ILL-Request from NACSIS:FA001234 (east) to OCLC:XYZ (west), its own transaction."""
    base = request()
    tid = dataclasses.replace(base.transaction_id, transaction_qualifier=qualifier)
    return dataclasses.replace(base, transaction_id=tid, **fields)  # type: ignore[arg-type]


def with_edifact(data: bytes, text: str) -> bytes:
    """``data`` with the GeneralString ``text`` made an EDIFACTString holding ``$`` where
    ``text`` has ``X``: what the codec reads but (as of this writing) will not write."""
    where = data.index(text.encode())
    assert data[where - 2] == 0x1B, "expected a GeneralString there"
    edifact = text.replace("X", "$").encode()
    head, tail = data[: where - 2], data[where + len(text) :]
    return head + b"\x1a" + data[where - 1 : where] + edifact + tail


def hel_o(qualifier: str = "HELO") -> bytes:
    """The ILL-Request of the issue: its requester-note the EDIFACTString ``HEL$O``."""
    return with_edifact(isoill.encode(ask(qualifier, requester_note="HELXO")), "HELXO")


def undecodable(size: int = 200) -> bytes:
    """A well-delimited ILL-Request APDU (definite length) whose content is no ILL-Request."""
    inner = b"\x04\x83" + size.to_bytes(3, "big") + b"\x00" * size
    return b"\x61\x83" + len(inner).to_bytes(3, "big") + inner


# --- the HTTP side, in process ----------------------------------------------------------------

#: The operators' bearer token of :data:`WEB` (the records API answers operators only).
TOKEN = "wiring-operator-token-0123456789abcdef"

#: A records network (the record API) and a library network (the library API).
WEB = f"""
[gateway]
ill = []
http = ""
operator_tokens = ["{TOKEN}"]

[[network]]
name = "nacsis"
kind = "records"
default = true

[[network]]
name = "oclc"
kind = "iso"

[[peer]]
name = "oclc-hub"
network = "oclc"
symbols = ["OCLC:*"]

[[network]]
name = "centre"
kind = "library"
symbol = "CALIS:CENTRE"
"""

#: HTTP Basic credentials of a confirmed staff account of ``centre`` (see :func:`add_staff`).
STAFF = ("ops", "ops-password")


def add_staff(gateway: Gateway) -> None:
    """A confirmed staff account, its password hashed with a cheap scrypt cost (the cost
    is stored with the hash) so that many calls stay fast."""
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(STAFF[1].encode(), salt=salt, n=2, r=1, p=1, dklen=32)
    encoded = f"scrypt$2$1$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    account = Account("centre", STAFF[0], AccountRole.STAFF, encoded, confirmed=True)
    gateway.store.commit(Change(rows=(account.row(),)), time.time())


def call(
    gateway: Gateway,
    path: str,
    body: bytes,
    auth: tuple[str, str] | str | None = None,
    content_type: str = "application/json",
    web: Site | None = None,
) -> Answer:
    """``POST path`` through the gateway's real site (:func:`exchange`), a new one unless
    ``web`` (one site keeps one login throttle across calls). The password check, which
    goes to a thread in the gateway, runs at once here (``synchronous_threads``)."""
    headers = {"Content-Length": str(len(body)), "Content-Type": content_type}
    if isinstance(auth, str):
        headers["Authorization"] = f"Bearer {auth}"
    elif auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return exchange(web or site(gateway), "POST", path, body, headers)


def synchronous_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """``deferToThread`` in the HTTP side runs its function at once: no reactor runs."""
    monkeypatch.setattr(
        logins.threads, "deferToThread", lambda f, *a, **k: defer.maybeDeferred(f, *a, **k)
    )


#: A reader's request form the library API takes.
GOOD_FORM = FORM

#: Every endpoint that reads a JSON body, with the credentials it needs.
JSON_ENDPOINTS: list[tuple[str, tuple[str, str] | str | None]] = [
    ("/api/records", TOKEN),
    ("/api/records/FA0001/commands", TOKEN),
    ("/api/libraries/centre/requests", STAFF),
]
