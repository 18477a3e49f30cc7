"""The gateway bench's floor must do the durable relay's work for real, or the "most a gateway
of this design can reach" it prints would flatter it: each APDU is forwarded as it came,
acknowledged for its own transaction, and acknowledged only once its legs, outbox entry and
log entry are committed."""

from __future__ import annotations

import dataclasses
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import isoill
from isoill.apdu import StreamDecoder
from isoill.demo import gif_copy_request
from tests.gateway.support import free_port, wait_for_port
from tests.paths import REPO


@pytest.fixture
def far() -> Iterator[socket.socket]:
    """The far peer's listening socket."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        sock.settimeout(20)
        yield sock


def _rows(path: Path) -> tuple[int, int, int]:
    with sqlite3.connect(path) as db:
        return tuple(  # type: ignore[return-value]
            db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("floor_legs", "floor_outbox", "floor_log")
        )


def test_the_floor_relays_and_acknowledges_after_its_commit(
    far: socket.socket, tmp_path: Path
) -> None:
    port, store = free_port(), tmp_path / "floor.db"
    script = REPO / "bench" / "gateway_floor.py"
    args = [sys.executable, str(script), str(port), str(far.getsockname()[1]), str(store)]
    process = subprocess.Popen(args, stderr=subprocess.PIPE)
    try:
        peer, _ = far.accept()
        peer.settimeout(20)
        wait_for_port(port, process=process)
        client = socket.create_connection(("127.0.0.1", port), 10)
        client.settimeout(20)
        base = gif_copy_request()
        sent = []
        for n in range(3):
            tid = dataclasses.replace(base.transaction_id, transaction_qualifier=f"floor-{n}")
            data = isoill.encode(dataclasses.replace(base, transaction_id=tid))
            client.sendall(data)
            decoder = StreamDecoder()
            acks: list[isoill.APDUBase] = []
            while not acks:
                acks = [
                    a for a in decoder.feed(client.recv(65536)) if isinstance(a, isoill.APDUBase)
                ]
            # Acknowledged: the step is committed (read by another connection).
            assert _rows(store) == (2 * (n + 1), n + 1, n + 1)
            (ack,) = acks
            assert isinstance(ack, isoill.StatusOrErrorReport)
            assert ack.transaction_id.transaction_qualifier == f"floor-{n}"
            sent.append(data)
        forwarded = b""
        while len(forwarded) < sum(map(len, sent)):
            forwarded += peer.recv(65536)
        assert forwarded == b"".join(sent)
        client.close()
        peer.close()
    finally:
        process.terminate()
        process.wait(10)
