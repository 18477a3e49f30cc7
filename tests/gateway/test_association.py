"""An association turns Nagle's algorithm off where its transport is TCP: ISO ILL is a
conversation of small APDUs, and with Nagle on, an APDU written while the peer has not yet
acknowledged the previous one waits for that acknowledgement (up to 40 ms when the peer only
reads), which was most of the relay's p99 latency at 10 associations."""

from __future__ import annotations

from pathlib import Path

import pytest
from twisted.internet.testing import MemoryReactorClock, StringTransport

from isoill.gateway.association import Association
from isoill.gateway.config import Config, Network, Peer
from isoill.gateway.service import Gateway
from isoill.gateway.store import SQLiteStore

CONFIG = Config(
    networks=(Network("west", kind="iso"),),
    peers=(Peer("west-lib", "west", ("WEST:*",)),),
)


class TCPTransport(StringTransport):
    """A transport with TCP's Nagle switch, recording what it was set to."""

    no_delay: bool | None = None

    def setTcpNoDelay(self, enabled: bool) -> None:
        self.no_delay = enabled


class NotASocket(TCPTransport):
    def setTcpNoDelay(self, enabled: bool) -> None:
        raise OSError(95, "Operation not supported")


@pytest.fixture
def gateway(tmp_path: Path) -> Gateway:
    return Gateway(CONFIG, SQLiteStore(tmp_path / "store.db"), MemoryReactorClock())


def test_an_association_over_tcp_sends_without_nagles_delay(gateway: Gateway) -> None:
    transport = TCPTransport()
    association = Association(gateway, ("west-lib",))
    association.makeConnection(transport)
    assert transport.no_delay is True
    assert association.alive


@pytest.mark.parametrize("transport", [StringTransport(), NotASocket()], ids=["no TCP", "refused"])
def test_an_association_without_the_switch_still_opens(
    gateway: Gateway, transport: StringTransport
) -> None:
    association = Association(gateway, ("west-lib",))
    association.makeConnection(transport)
    assert association.alive and association.connection.address
