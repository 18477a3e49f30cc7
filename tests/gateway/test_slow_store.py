"""A slow store delays only what waits for it. With every group commit taking 200 ms (a
slow disk, a far database) and one association keeping the store busy, the status page
and another association's error replies are answered without waiting for a commit: the
store is never touched from the reactor thread on their way."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import isoill
from tests.gateway.slow_store import COMMIT_DELAY
from tests.gateway.support import REPO, Connection, FakePeer, free_port, wait_for_port
from tests.gateway.test_e2e import CONFIG as E2E_CONFIG
from tests.machine.support import TID, request

TOKEN = "slow-store-operator-token-0123456789"

#: The two networks of the end-to-end tests, on given ports, with an operator's token.
CONFIG = E2E_CONFIG.replace(
    "open = false",
    'open = false\nill = ["tcp:{ill}:interface=127.0.0.1"]\n'
    'http = "tcp:{http}:interface=127.0.0.1"\noperator_tokens = ["{token}"]',
)


@pytest.fixture
def slow_gateway(tmp_path: Path) -> Iterator[tuple[int, int]]:
    west = FakePeer()
    ill, http = free_port(), free_port()
    config = tmp_path / "gateway.toml"
    config.write_text(CONFIG.format(ill=ill, http=http, token=TOKEN, port=west.port))
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.gateway.slow_store", str(config), str(tmp_path / "g.db")],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(ill, process=process)
        wait_for_port(http, process=process)
        yield ill, http
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        west.close()


def _keep_busy(port: int, stop: threading.Event, acknowledged: list[float]) -> None:
    """One association sending requests one after another: each waits for its commit."""
    east = Connection.to(port)
    n = 0
    while not stop.is_set():
        n += 1
        tid = dataclasses.replace(TID, transaction_qualifier=f"S{n}")
        east.send(dataclasses.replace(request(), transaction_id=tid))
        started = time.monotonic()
        east.receive(timeout=30)
        acknowledged.append(time.monotonic() - started)
    east.close()


def test_a_slow_store_holds_up_neither_the_status_page_nor_others_error_replies(
    slow_gateway: tuple[int, int],
) -> None:
    ill, http = slow_gateway
    stop = threading.Event()
    acknowledged: list[float] = []
    busy = threading.Thread(target=_keep_busy, args=(ill, stop, acknowledged), daemon=True)
    busy.start()
    status_times: list[float] = []
    error_times: list[float] = []
    other = socket.create_connection(("127.0.0.1", ill))
    other.settimeout(10)
    try:
        time.sleep(0.5)  # the store is busy now
        for _ in range(15):
            started = time.monotonic()
            page = urllib.request.Request(
                f"http://127.0.0.1:{http}/status", headers={"Authorization": f"Bearer {TOKEN}"}
            )
            with urllib.request.urlopen(page, timeout=10) as answer:
                assert answer.status == 200
            status_times.append(time.monotonic() - started)
            started = time.monotonic()
            other.sendall(b"\x61\x03\x04\x01\x41")  # delimited, but no ILL-Request
            reply = isoill.StreamDecoder()
            got: list[object] = []
            while not got:
                got = reply.feed(other.recv(4096))
            error_times.append(time.monotonic() - started)
            assert isinstance(got[0], isoill.StatusOrErrorReport)
            assert got[0].error_report is not None
            time.sleep(0.07)
    finally:
        stop.set()
        busy.join(30)
        other.close()
    # The store really was slow for the steps that wait for it ...
    assert len(acknowledged) >= 3 and statistics.median(acknowledged) >= COMMIT_DELAY
    # ... and the status page and another association's error replies did not wait for it.
    for name, times in (("status page", status_times), ("error reply", error_times)):
        assert statistics.median(times) < 0.05, (name, times)
        assert max(times) < COMMIT_DELAY * 0.75, (name, times)
