"""kill -9 the gateway at random points while a client streams requests: after restarts,
every request the gateway acknowledged reaches the other network, and each is accepted
there exactly once.

The client behaves as ISO ILL peers do after a lost connection: it re-sends the request it
had no acknowledgement for, byte for byte. The gateway either had committed it (a repeat:
acknowledged again, not queued again) or had not (new: relayed). On the far side, a re-sent
outbox item (written before the kill, not yet marked delivered) is an exact repeat of the
same APDU, which the far side's protocol machine recognises and ignores.
"""

from __future__ import annotations

import dataclasses
import queue
import time
from pathlib import Path

import isoill
from isoill.gateway.store import SQLiteStore
from tests.gateway.support import Connection, FakePeer, GatewayProcess, accepted_by, kill_while
from tests.gateway.test_e2e import CONFIG
from tests.machine.support import request

REQUESTS = 60
KILLS = 3


def _requests() -> list[isoill.ILLRequest]:
    base = request()
    return [
        dataclasses.replace(
            base,
            transaction_id=dataclasses.replace(base.transaction_id, transaction_qualifier=f"K{n}"),
        )
        for n in range(REQUESTS)
    ]


def _send_until_acknowledged(gateway: GatewayProcess, apdu: isoill.APDU) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            client = Connection.to(gateway.ill_port)
        except OSError:
            time.sleep(0.1)  # the gateway is down: wait for its restart
            continue
        try:
            client.send(apdu)
            answer = client.receive(timeout=3)
        except (OSError, queue.Empty):
            continue
        finally:
            client.close()
        assert isinstance(answer, isoill.StatusOrErrorReport), answer
        assert answer.error_report is None, answer.note
        return
    raise AssertionError("no acknowledgement in 60 s")


def test_kill_minus_nine_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    west = FakePeer()
    gateway = GatewayProcess(tmp_path, CONFIG.format(port=west.port)).start()
    sent = _requests()
    acknowledged: list[isoill.TransactionId] = []

    def stream() -> None:
        for apdu in sent:
            _send_until_acknowledged(gateway, apdu)
            acknowledged.append(apdu.transaction_id)

    try:
        kill_while(gateway, stream, KILLS, seed=499)
        wire = accepted_by(west, REQUESTS)
    finally:
        gateway.stop()
        west.close()
    assert len(acknowledged) == REQUESTS
    got = {apdu.transaction_id for apdu in wire}
    assert got == set(acknowledged)
    store = SQLiteStore(tmp_path / "isoill-gateway.db")
    try:
        stats = store.stats()
    finally:
        store.close()
    assert stats.outbox_pending == 0
    assert stats.outbox_delivered == REQUESTS  # one outbox entry per transition, ever
