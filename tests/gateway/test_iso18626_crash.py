"""kill -9 the gateway while an ISO 18626 peer POSTs requests: every request the gateway
confirmed OK reaches the ISO 10161 side, and is accepted there exactly once.

The peer behaves as ISO 18626 peers do when a POST gets no answer: it POSTs the same message
again. The gateway either had committed it (the relay recognises the repeat, confirms it
again and queues nothing new) or had not (it is new)."""

from __future__ import annotations

import dataclasses
import time
import urllib.error
from pathlib import Path

from isoill import iso18626
from isoill.gateway.store import SQLiteStore
from tests.gateway.iso18626_peer import BRIDGE, Iso18626Peer, post
from tests.gateway.support import FakePeer, GatewayProcess, accepted_by, kill_while
from tests.iso18626.support import SAMPLES

REQUESTS = 30
KILLS = 3


def _requests() -> list[bytes]:
    sample = iso18626.parse((SAMPLES / "request.xml").read_bytes())
    assert isinstance(sample, iso18626.Request)
    calis = iso18626.AgencyId(iso18626.SchemeValue("CALIS"), "100010")
    return [
        iso18626.to_xml(
            dataclasses.replace(
                sample,
                header=dataclasses.replace(
                    sample.header,
                    supplying_agency_id=calis,
                    requesting_agency_request_id=f"K{n}",
                ),
            )
        )
        for n in range(REQUESTS)
    ]


def _post_until_confirmed(gateway: GatewayProcess, data: bytes) -> None:
    url = f"http://127.0.0.1:{gateway.http_port}/iso18626"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            code, body = post(url, data, timeout=3)
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)  # the gateway is down: wait for its restart
            continue
        assert code == 200
        confirmation = iso18626.parse(body)
        head = confirmation.confirmation_header
        assert head.message_status == iso18626.MessageStatus.OK, confirmation.error_data
        return
    raise AssertionError("no confirmation in 60 s")


def test_kill_minus_nine_loses_no_confirmed_message(tmp_path: Path) -> None:
    east, lender = FakePeer(), Iso18626Peer()
    gateway = GatewayProcess(tmp_path, BRIDGE.format(east_port=east.port, url=lender.url))
    gateway.start()
    confirmed: list[bytes] = []

    def stream() -> None:
        for data in _requests():
            _post_until_confirmed(gateway, data)
            confirmed.append(data)

    try:
        kill_while(gateway, stream, KILLS, seed=18626)
        wire = accepted_by(east, REQUESTS)
    finally:
        gateway.stop()
        east.close()
        lender.close()
    assert len(confirmed) == REQUESTS
    assert {apdu.transaction_id.transaction_qualifier for apdu in wire} == {
        f"K{n}" for n in range(REQUESTS)
    }
    store = SQLiteStore(tmp_path / "isoill-gateway.db")
    try:
        stats = store.stats()
    finally:
        store.close()
    assert stats.outbox_pending == 0
    assert stats.outbox_delivered == REQUESTS
