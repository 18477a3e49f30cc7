"""Hostile and broken peers: the gateway answers what it can, closes what it must, keeps
serving everyone else, stays within bounded memory, and loses nothing it accepted."""

from __future__ import annotations

import dataclasses
import os
import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import isoill
from isoill.gateway.store import SQLiteStore
from tests.gateway.support import Connection, GatewayProcess
from tests.machine.support import request

CONFIG = """
[gateway]
open = true

[limits]
idle_timeout = 4.0
apdu_timeout = 2.0
max_apdu_size = 65536
# test_five_hundred_idle_connections opens 500 from 127.0.0.1: above the default share
# of one address (50), which the per-address tests in tests/gateway test on their own.
max_associations_per_address = 600

[[network]]
name = "local"
kind = "records"
default = true
"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path_factory.mktemp("gateway"), CONFIG).start()
    try:
        yield process
    finally:
        process.stop()


def _rss_kib(gateway: GatewayProcess) -> int:
    assert gateway.process is not None
    for line in Path(f"/proc/{gateway.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


_serial = iter(range(1, 1_000_000))


def _still_serves(gateway: GatewayProcess) -> str:
    """A well-behaved client gets its request acknowledged; the key it was stored under."""
    ask = request()
    tid = dataclasses.replace(ask.transaction_id, transaction_qualifier=f"OK{next(_serial)}")
    ask = dataclasses.replace(ask, transaction_id=tid)
    client = Connection.to(gateway.ill_port)
    try:
        client.send(ask)
        answer = client.receive(timeout=10)
    finally:
        client.close()
    assert isinstance(answer, isoill.StatusOrErrorReport) and answer.error_report is None
    return f"NACSIS:FA001234/GIF/{tid.transaction_qualifier}"


def _closed_within(sock: socket.socket, seconds: float) -> bytes:
    """Read until the gateway closes the connection; fail if it does not in time."""
    sock.settimeout(seconds)
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return got
        if not chunk:
            return got
        got += chunk
    raise AssertionError(f"the gateway kept the connection open for {seconds} s")


def test_random_bytes_are_answered_and_the_association_closed(gateway: GatewayProcess) -> None:
    rng = random.Random(10161)
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", gateway.ill_port)) as sock:
            junk = bytes([rng.choice([0x00, 0x30, 0x47, 0xFF])]) + rng.randbytes(
                rng.randint(0, 300)
            )
            sock.sendall(junk)
            answer = _closed_within(sock, 5)
        if answer:
            (report,) = isoill.decode_all(answer)
            assert isinstance(report, isoill.StatusOrErrorReport) and report.error_report
    _still_serves(gateway)


def test_a_delimited_but_invalid_apdu_is_answered_and_the_association_goes_on(
    gateway: GatewayProcess,
) -> None:
    good = isoill.encode(request())
    bad = bytearray(good)
    # ENUMERATED transaction-type [5] -> value 0, as yaz-illclient sends without parameters
    where = bytes(bad).index(bytes([0x85, 0x01, 0x01]))
    bad[where + 2] = 0
    client = Connection.to(gateway.ill_port)
    try:
        client.sock.sendall(bytes(bad))
        report = client.receive()
        assert isinstance(report, isoill.StatusOrErrorReport)
        assert "transaction-type" in (report.note or "")
        assert not client.closed.wait(0.3)  # still open
    finally:
        client.close()


def test_a_truncated_apdu_loses_nothing_else(gateway: GatewayProcess) -> None:
    data = isoill.encode(request())
    for cut in (1, 2, len(data) // 2, len(data) - 1):
        with socket.create_connection(("127.0.0.1", gateway.ill_port)) as sock:
            sock.sendall(data[:cut])
    _still_serves(gateway)


def test_a_four_gigabyte_length_claim_is_refused_at_once(gateway: GatewayProcess) -> None:
    before = _rss_kib(gateway)
    with socket.create_connection(("127.0.0.1", gateway.ill_port)) as sock:
        sock.sendall(b"\x61\x84\xff\xff\xff\xff\x30\x80" + b"\x00" * 4096)
        started = time.monotonic()
        _closed_within(sock, 5)
        assert time.monotonic() - started < 2
    assert _rss_kib(gateway) - before < 20_000
    _still_serves(gateway)


def test_a_slowloris_client_is_cut_off(gateway: GatewayProcess) -> None:
    data = isoill.encode(request())
    with socket.create_connection(("127.0.0.1", gateway.ill_port)) as sock:
        sock.settimeout(0.5)
        started = time.monotonic()
        closed = False
        for byte in data:  # one byte every 0.3 s: well inside the idle timeout each time
            try:
                sock.sendall(bytes([byte]))
                if sock.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if time.monotonic() - started > 10:
                break
        assert closed, "the gateway let a client trickle one APDU for 10 s"
        assert time.monotonic() - started < 6  # the APDU timeout (2 s), not the idle one
    _still_serves(gateway)


def test_five_hundred_idle_connections_neither_block_others_nor_grow_memory(
    gateway: GatewayProcess,
) -> None:
    before = _rss_kib(gateway)
    idle = [socket.create_connection(("127.0.0.1", gateway.ill_port)) for _ in range(500)]
    try:
        started = time.monotonic()
        key = _still_serves(gateway)
        assert time.monotonic() - started < 5
        grown = _rss_kib(gateway) - before
        assert grown < 60_000, f"500 idle associations took {grown} KiB"
        # the idle timeout closes them all
        for sock in idle[:20]:
            _closed_within(sock, 15)
    finally:
        for sock in idle:
            sock.close()
    store = SQLiteStore(gateway.workdir / "isoill-gateway.db")
    try:
        assert store.load("local", key) is not None
    finally:
        store.close()


def test_every_acknowledged_request_is_stored_despite_the_noise(gateway: GatewayProcess) -> None:
    keys = [_still_serves(gateway) for _ in range(5)]
    with socket.create_connection(("127.0.0.1", gateway.ill_port)) as sock:
        sock.sendall(os.urandom(64))
    keys += [_still_serves(gateway) for _ in range(5)]
    store = SQLiteStore(gateway.workdir / "isoill-gateway.db")
    try:
        assert all(store.load("local", key) is not None for key in keys)
    finally:
        store.close()
