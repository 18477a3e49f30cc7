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
import random
import threading
import time
from pathlib import Path

import isoill
from isoill.gateway.store import SQLiteStore
from isoill.machine import Role, Transactions
from tests.gateway.support import Connection, FakePeer, GatewayProcess
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

    client = threading.Thread(target=stream)
    client.start()
    rng = random.Random(499)
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.2, 1.0))
            gateway.kill()
            time.sleep(rng.uniform(0.0, 0.3))
            gateway.start()
        client.join(120)
        assert not client.is_alive()
        far_side = Transactions(Role.RESPONDER)
        wire: list[isoill.APDU] = []
        accepted = 0
        deadline = time.monotonic() + 60
        while accepted < REQUESTS and time.monotonic() < deadline:
            try:
                _, apdu = west.receive(timeout=5)
            except queue.Empty:
                continue
            wire.append(apdu)
            far_side, outcome = far_side.receive(apdu)
            assert outcome.accepted or outcome.repeated, outcome.reply
            accepted += outcome.accepted
    finally:
        gateway.stop()
        west.close()
    assert len(acknowledged) == REQUESTS
    assert accepted == REQUESTS, f"{accepted} of {REQUESTS} requests reached the far side"
    got = {apdu.transaction_id for apdu in wire}
    assert got == set(acknowledged)
    store = SQLiteStore(tmp_path / "isoill-gateway.db")
    try:
        stats = store.stats()
    finally:
        store.close()
    assert stats.outbox_pending == 0
    assert stats.outbox_delivered == REQUESTS  # one outbox entry per transition, ever
