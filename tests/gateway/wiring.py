"""An in-process gateway for the hostile-input tests: a real :class:`Gateway` with a real
SQLite store, on Twisted's memory reactor, its associations on StringTransports, so a test
feeds bytes exactly as they could arrive and reads back every byte the gateway wrote."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport

import isoill
from isoill.gateway.association import Association, ListenerFactory
from isoill.gateway.config import Config, parse
from isoill.gateway.service import Gateway
from isoill.gateway.store import SQLiteStore
from tests.machine_support import request

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
