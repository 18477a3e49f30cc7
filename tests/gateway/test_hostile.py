"""Hostile and unlucky input to the gateway, each attack of the security issue reproduced:
the gateway answers every delimited APDU it reads, whatever goes wrong while relaying it;
it keeps a bounded record of what it could not read; it answers a peer that half-closes;
one address cannot take every association.

Most tests run a real gateway in process, on Twisted's memory reactor
(:mod:`tests.gateway.wiring`); those about TCP itself (half-close, source addresses) run
``isoill gateway`` on loopback."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twisted.internet.address import IPv4Address
from twisted.logger import capturedLogs, eventAsJSON

import isoill
from isoill.apdu.enums import UnableToPerform
from isoill.gateway import relay as relay_module
from isoill.gateway.app import GatewayService
from isoill.gateway.association import ListenerFactory
from isoill.gateway.relay import UNDECODABLE_KEPT
from isoill.gateway.service import Gateway
from isoill.gateway.store import LogEntry, Store, open_store
from isoill.gateway.web import MAX_BODY, MAX_JSON_DEPTH
from tests.gateway.support import GatewayProcess
from tests.gateway.wiring import (
    GOOD_FORM,
    JSON_ENDPOINTS,
    STAFF,
    WEB,
    add_staff,
    ask,
    call,
    config,
    connect,
    gateway_on,
    hel_o,
    still_open,
    synchronous_threads,
    undecodable,
    with_edifact,
    written,
)

KEY = "NACSIS:FA001234/GIF/{}"


def _notes(path: Path, key: str) -> list[tuple[str, str, bytes]]:
    """(direction, note, data) of a transaction's APDU log entries, in order."""
    with sqlite3.connect(path / "store.db") as db:
        rows = db.execute(
            "SELECT direction, note, data FROM apdu_log WHERE tkey = ? ORDER BY id", (key,)
        ).fetchall()
    return [(r[0], r[1], bytes(r[2])) for r in rows]


# --- 3b: nothing that goes wrong while relaying leaves an APDU unanswered ------------------


def test_the_hel_o_request_is_answered_and_logged_and_the_next_one_relayed(
    tmp_path: Path,
) -> None:
    """The issue's input: an ILL-Request whose requester-note is the EDIFACTString
    ``HEL$O``, which the codec used to read but would not write towards the other network.
    It was met by silence and a closed connection. The codec now refuses it as it reads it,
    so the sender gets an error report naming the field, the bytes are kept in the log, and
    the association goes on with the next request."""
    data = hel_o()
    with gateway_on(tmp_path) as gateway:
        association = connect(gateway)
        association.dataReceived(data + isoill.encode(ask("NEXT")))
        first, second = written(association)
        assert isinstance(first, isoill.StatusOrErrorReport)
        assert first.error_report is not None
        assert "requester-note" in (first.note or "")
        assert second.transaction_id == ask("NEXT").transaction_id
        assert second.error_report is None  # acknowledged: relayed to west
        assert still_open(association)
        with sqlite3.connect(tmp_path / "store.db") as db:
            kept = db.execute(
                "SELECT data, note FROM apdu_log WHERE apdu_type = 'undecodable'"
            ).fetchall()
        assert [bytes(row[0]) for row in kept] == [data]
        assert "requester-note" in kept[0][1]
        assert len(gateway.store.pending()) == 1


def test_an_apdu_whose_ids_cannot_be_written_back_is_still_answered(tmp_path: Path) -> None:
    """``$`` in the transaction-qualifier: even the error report that echoes the ids
    cannot be encoded, so the relay itself fails; the answer is then the report with an
    empty transaction-id (or, once the codec writes ``$``, the normal one)."""
    data = with_edifact(isoill.encode(ask("TXQX")), "TXQX")
    with gateway_on(tmp_path) as gateway:
        association = connect(gateway)
        association.dataReceived(data + isoill.encode(ask("AFTER")))
        first, second = written(association)
        assert isinstance(first, isoill.StatusOrErrorReport)
        assert second.transaction_id == ask("AFTER").transaction_id
        assert second.error_report is None
        assert still_open(association)


def _raise_in_inbound(gateway: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway.relay, "inbound", _once(gateway.relay.inbound))


def _raise_in_mapping(gateway: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relay_module, "into", _once(relay_module.into))


def _raise_in_commit(gateway: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway.store, "commit_many", _once(gateway.store.commit_many))


def _once(real: Any) -> Any:
    """``real``, except that its first call raises."""
    calls: list[int] = []

    def broken(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the unforeseen happened")
        return real(*args, **kwargs)

    return broken


@pytest.mark.parametrize(
    "breaks", [_raise_in_inbound, _raise_in_mapping, _raise_in_commit], ids=lambda f: f.__name__
)
def test_an_unexpected_exception_is_answered_logged_and_the_association_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, breaks: Any
) -> None:
    with gateway_on(tmp_path) as gateway:
        breaks(gateway, monkeypatch)
        association = connect(gateway)
        sent = isoill.encode(ask("T1"))
        with capturedLogs() as events:
            association.dataReceived(sent + isoill.encode(ask("T2")))
        report, ack = written(association)
        # the sender is told, in a report it can file under its transaction
        assert isinstance(report, isoill.StatusOrErrorReport)
        assert report.error_report is not None
        assert report.error_report.user_error_report == UnableToPerform.OTHER
        assert report.transaction_id == ask("T1").transaction_id
        assert "internal error" in (report.note or "")
        # the association goes on: the next APDU is relayed as usual
        assert ack.transaction_id == ask("T2").transaction_id and ack.error_report is None
        assert still_open(association)
        assert gateway.metrics.errors["internal"] == 1
        # the operator's log: a JSON line with the traceback
        failures = [e for e in events if "log_failure" in e]
        assert len(failures) == 1
        line = json.loads(eventAsJSON(failures[0]))
        assert "RuntimeError: the unforeseen happened" in line["traceback"]
        assert "broken" in line["traceback"]  # the frame that raised
        assert line["apdu"] == "ILL-REQUEST"
        # the APDU log: the APDU as it came, and the answer
        (into, why, data), (out, _, answer) = _notes(tmp_path, KEY.format("T1"))
        assert (into, data) == ("in", sent)
        assert "RuntimeError: the unforeseen happened" in why
        assert out == "out" and isoill.decode(answer) == report
        assert gateway.store.load("east", KEY.format("T1")) is None  # nothing half-done


def test_a_store_that_fails_outright_still_lets_the_sender_be_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store refuses every write (a full disk): nothing can be logged there, but the
    sender is still answered and the operator's log says why."""
    with gateway_on(tmp_path) as gateway:

        def full(*args: Any, **kwargs: Any) -> Any:
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(gateway.store, "commit", full)
        monkeypatch.setattr(gateway.store, "commit_many", full)
        monkeypatch.setattr(gateway.store, "log", full)
        association = connect(gateway)
        with capturedLogs() as events:
            association.dataReceived(isoill.encode(ask("T1")) + isoill.encode(ask("T2")))
        answers = written(association)
        assert [a.transaction_id for a in answers] == [
            ask("T1").transaction_id,
            ask("T2").transaction_id,
        ]
        assert all(a.error_report is not None for a in answers)
        assert still_open(association)
        text = "".join(eventAsJSON(e) for e in events if "log_failure" in e)
        assert text.count("database or disk is full") >= 4  # each failure, each APDU


def test_an_out_of_step_stream_whose_answer_fails_is_still_answered_and_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with gateway_on(tmp_path) as gateway:
        monkeypatch.setattr(gateway.store, "commit_many", _once(gateway.store.commit_many))
        association = connect(gateway)
        association.dataReceived(b"\x47junk that is no APDU")
        (report,) = written(association)
        assert report.error_report is not None
        assert association.transport.disconnecting  # type: ignore[union-attr]


def test_a_mixed_stream_gets_one_answer_per_apdu_and_the_association_stays_open(
    tmp_path: Path,
) -> None:
    """The rule behind 3b and 5: every delimited APDU read is answered (an error report, a
    status report or, for a relayed request, its acknowledgement), whatever it is."""
    duplicate = ask("M1")
    unrouted = ask("M4", responder_id=isoill.SystemId.institution("NOWHERE:1"))
    stream = [
        (isoill.encode(ask("M1")), "acknowledged"),
        (undecodable(500), "error"),
        (hel_o("M2"), "either"),  # refused until the codec writes $, then relayed
        (isoill.encode(duplicate), "acknowledged"),  # an exact repeat: acknowledged again
        (isoill.encode(dataclasses.replace(duplicate, requester_note="changed")), "error"),
        (isoill.encode(unrouted), "error"),
        (with_edifact(isoill.encode(ask("MXX")), "MXX"), "either"),
        (isoill.encode(ask("M3")), "acknowledged"),
    ]
    with gateway_on(tmp_path) as gateway:
        association = connect(gateway)
        data = b"".join(apdu for apdu, _ in stream)
        for start in range(0, len(data), 97):  # in pieces that split APDUs anywhere
            association.dataReceived(data[start : start + 97])
        answers = written(association)
        assert len(answers) == len(stream)
        for answer, (_, expected) in zip(answers, stream, strict=True):
            assert isinstance(answer, isoill.StatusOrErrorReport)
            if expected != "either":
                assert (answer.error_report is None) == (expected == "acknowledged"), answer
        assert still_open(association)


def test_apdus_read_together_with_junk_are_answered_before_the_association_closes(
    tmp_path: Path,
) -> None:
    with gateway_on(tmp_path) as gateway:
        association = connect(gateway)
        association.dataReceived(isoill.encode(ask("J1")) + b"\x00 junk")
        answers = written(association)
        assert [a.error_report is None for a in answers] == [True, False]
        assert association.transport.disconnecting  # type: ignore[union-attr]


# --- 5: what could not be decoded is logged in bounded form, and the log itself bounded -----


def test_forty_undecodable_megabyte_apdus_cost_kilobytes_not_megabytes(tmp_path: Path) -> None:
    """The issue's attack: 40 well-delimited, undecodable APDUs of 1 MiB grew the store
    by 42.5 MB. Each is still answered, and logged as its first 4 KiB with the length and
    SHA-256 of the whole."""
    bad = undecodable((1 << 20) - 20)
    assert len(bad) <= 1 << 20  # within the APDU size limit: delimited, not out of step
    with gateway_on(tmp_path) as gateway:
        before = _store_bytes(tmp_path)
        association = connect(gateway)
        for _ in range(40):
            association.dataReceived(bad)
        answers = written(association)
        assert len(answers) == 40 and all(a.error_report is not None for a in answers)
        assert still_open(association)
        assert gateway.store.log_bytes() < 40 * (UNDECODABLE_KEPT + 1000)
        grown = _store_bytes(tmp_path) - before
        assert grown < 8_000_000, f"the store grew by {grown} bytes"
    with sqlite3.connect(tmp_path / "store.db") as db:
        rows = db.execute("SELECT data, note FROM apdu_log WHERE apdu_type = 'undecodable'")
        kept = rows.fetchall()
    assert len(kept) == 40
    data, note = kept[0]
    assert bytes(data) == bad[:UNDECODABLE_KEPT]
    assert f"{len(bad)} bytes" in note
    assert hashlib.sha256(bad).hexdigest() in note


def test_a_small_undecodable_apdu_is_kept_whole(tmp_path: Path) -> None:
    bad = undecodable(100)
    with gateway_on(tmp_path) as gateway:
        connect(gateway).dataReceived(bad)
    with sqlite3.connect(tmp_path / "store.db") as db:
        ((data, note),) = db.execute("SELECT data, note FROM apdu_log WHERE direction = 'in'")
    assert bytes(data) == bad and "kept" not in note


def _store_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.glob("store.db*"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        opened = open_store(str(tmp_path / "store.db"))
    else:
        opened = open_store(str(request.getfixturevalue("postgres_url")))
    yield opened
    opened.close()


def _log(store: Store, at: float, size: int, key: str = "k") -> None:
    store.log([LogEntry("in", "p", "east", "ILL-REQUEST", key, b"x" * size)], at)


def test_the_log_is_pruned_by_age(store: Store) -> None:
    day = 86400.0
    _log(store, 1000 * day, 10, "old")
    _log(store, 1089 * day, 10, "recent")
    _log(store, 1090 * day, 10, "new")
    dropped = store.prune_log(now=1090 * day + 1, max_age=90 * day, max_bytes=0)
    assert dropped == 1
    assert store.log_for("old") == []
    assert len(store.log_for("recent")) == len(store.log_for("new")) == 1
    assert store.prune_log(now=1090 * day + 1, max_age=90 * day, max_bytes=0) == 0
    assert store.prune_log(now=10_000 * day, max_age=0, max_bytes=0) == 0  # 0: no limit


def test_the_log_is_pruned_by_size_oldest_first(store: Store) -> None:
    for n in range(10):
        _log(store, 1000.0 + n, 100, f"k{n}")
    assert store.log_bytes() == 1000
    assert store.prune_log(now=2000.0, max_age=0, max_bytes=450) == 6
    assert store.log_bytes() == 400
    assert [bool(store.log_for(f"k{n}")) for n in range(10)] == [False] * 6 + [True] * 4
    assert store.prune_log(now=2000.0, max_age=0, max_bytes=400) == 0


def test_the_gateway_prunes_its_log_on_its_own_clock(tmp_path: Path) -> None:
    settings = config(apdu_log={"max_bytes": 20_000, "prune_every": 60.0})
    with gateway_on(tmp_path, settings) as gateway:
        service = GatewayService(gateway)
        service.startService()
        association = connect(gateway)
        for _ in range(20):
            association.dataReceived(undecodable(3000))
        assert gateway.store.log_bytes() > 20_000
        gateway.reactor.advance(59)
        assert gateway.store.log_bytes() > 20_000  # not yet
        gateway.reactor.advance(1)
        assert 0 < gateway.store.log_bytes() <= 20_000
        service.stopService()


# --- 7: a peer that half-closes still gets every answer ---------------------------------------

OPEN_GATEWAY = """
[gateway]
open = true

[limits]
max_associations_per_address = 4

[[network]]
name = "local"
kind = "records"
default = true
"""


@pytest.fixture(scope="module")
def loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path_factory.mktemp("gateway"), OPEN_GATEWAY).start()
    try:
        yield process
    finally:
        process.stop()


def _until_eof(sock: socket.socket, seconds: float = 10.0) -> bytes:
    """Everything the gateway sends until it closes; fails if it does not close in time."""
    sock.settimeout(seconds)
    got = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"no end of stream after {seconds} s; got {len(got)} B") from None
        if not chunk:
            return got
        got += chunk


def test_two_requests_then_half_close_get_two_answers_then_eof(loopback: GatewayProcess) -> None:
    """The issue's case: two valid ILL-Requests and shutdown(SHUT_WR) got only EOF."""
    with socket.create_connection(("127.0.0.1", loopback.ill_port)) as sock:
        sock.sendall(isoill.encode(ask("HALF1")) + isoill.encode(ask("HALF2")))
        sock.shutdown(socket.SHUT_WR)
        answers = isoill.decode_all(_until_eof(sock))
    assert [a.transaction_id for a in answers] == [
        ask("HALF1").transaction_id,
        ask("HALF2").transaction_id,
    ]
    assert all(isinstance(a, isoill.StatusOrErrorReport) and not a.error_report for a in answers)


def test_an_apdu_cut_off_by_the_half_close_is_answered_too(loopback: GatewayProcess) -> None:
    data = isoill.encode(ask("HALF3"))
    with socket.create_connection(("127.0.0.1", loopback.ill_port)) as sock:
        sock.sendall(data + data[:-10])
        sock.shutdown(socket.SHUT_WR)
        acknowledged, cut_off = isoill.decode_all(_until_eof(sock))
    assert acknowledged.error_report is None
    assert cut_off.error_report is not None and "inside an APDU" in (cut_off.note or "")


def test_a_half_closed_association_takes_no_outbox_items(tmp_path: Path) -> None:
    with gateway_on(tmp_path) as gateway:
        association = connect(gateway)
        association.dataReceived(isoill.encode(ask("T1")))
        assert gateway._association_for("east-lib", 0.0) is association
        association.readConnectionLost()
        assert association.transport.disconnecting  # type: ignore[union-attr]
        assert gateway._association_for("east-lib", 0.0) is None


# --- 9: one address cannot hold every association -------------------------------------------


def _served(sock: socket.socket, qualifier: str) -> bool:
    """Whether an ILL-Request on ``sock`` is acknowledged (False: the gateway closed it)."""
    sock.settimeout(10)
    try:
        sock.sendall(isoill.encode(ask(qualifier)))
        got = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return False
            got += chunk
            with contextlib.suppress(isoill.DecodeError):
                (answer,) = isoill.decode_all(got)
                return answer.error_report is None
    except (ConnectionResetError, BrokenPipeError):
        return False


def _from(host: str, port: int) -> socket.socket:
    sock = socket.socket()
    sock.bind((host, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def test_one_address_holds_at_most_its_share_and_others_still_connect(
    loopback: GatewayProcess,
) -> None:
    """One address opened all 2,000 association slots and kept them idle, locking every
    other peer out until the idle timeout. Now it gets its share (4 here) and no more;
    another address (127.0.0.2 is loopback too on Linux) is served meanwhile."""
    port = loopback.ill_port
    held = [_from("127.0.0.1", port) for _ in range(4)]
    try:
        assert all(_served(sock, f"HELD{n}") for n, sock in enumerate(held))  # all admitted
        with _from("127.0.0.1", port) as one_more:
            assert not _served(one_more, "ONEMORE")
        with _from("127.0.0.2", port) as other:
            assert _served(other, "OTHER")
        held.pop().close()  # a slot comes free: the address may use it again
        deadline = time.monotonic() + 10
        while True:
            with _from("127.0.0.1", port) as again:
                if _served(again, f"AGAIN{time.monotonic()}"):
                    break
            assert time.monotonic() < deadline, "the freed slot was never given back"
            time.sleep(0.1)
    finally:
        for sock in held:
            sock.close()


def test_the_per_address_count_follows_associations_opening_and_closing(tmp_path: Path) -> None:
    settings = config(limits={"max_associations_per_address": 3})
    with gateway_on(tmp_path, settings) as gateway:
        factory = ListenerFactory(gateway)
        held = [connect(gateway, "192.0.2.1") for _ in range(3)]
        assert factory.buildProtocol(IPv4Address("TCP", "192.0.2.1", 1)) is None
        assert gateway.metrics.errors["too_many_from_address"] == 1
        assert connect(gateway, "192.0.2.2").alive
        held[0].connectionLost()
        assert factory.buildProtocol(IPv4Address("TCP", "192.0.2.1", 1)) is not None
        assert gateway.per_address == {"192.0.2.1": 2, "192.0.2.2": 1}


# --- 8: every JSON body of every API is refused with 4xx and a reason, never 500 --------------


@pytest.fixture
def web_gateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gateway]:
    synchronous_threads(monkeypatch)
    with gateway_on(tmp_path, config(WEB)) as gateway:
        add_staff(gateway)
        yield gateway


HOSTILE_BODIES = {
    "deeply nested": (b"[" * 100_000, 400, "nest deeper"),
    "nested objects": (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, 400, "nest deeper"),
    "just too deep": (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), 400, "nest"),
    "not JSON": (b"{'form': }", 400, "not JSON"),
    "not UTF-8": (b'{"form": {"title": "\xff\xfe"}}', 400, "UTF-8"),
    "lone surrogate": (b'{"form": {"title": "\\ud800"}}', 400, "UTF-8"),
    "NaN": (b'{"form": {"cost_limit": NaN}}', 400, "not JSON"),
    "huge number": (b"[" + b"9" * 100_000 + b"]", 400, "not JSON"),
    "oversized": (b'["' + b"x" * (MAX_BODY + 10) + b'"]', 413, "over"),
}


@pytest.mark.parametrize(("path", "auth"), JSON_ENDPOINTS, ids=[p for p, _ in JSON_ENDPOINTS])
@pytest.mark.parametrize("kind", list(HOSTILE_BODIES))
def test_a_hostile_json_body_is_refused_with_a_reason(
    web_gateway: Gateway, path: str, auth: tuple[str, str] | str | None, kind: str
) -> None:
    """The issue's case (100,000 ``[`` answered 500 with a RecursionError) and its kin, on
    every endpoint that reads JSON: each refused by the one body reader with its status and
    a reason, before any handler sees it; the gateway counts no internal error."""
    body, status, reason = HOSTILE_BODIES[kind]
    answer = call(web_gateway, path, body, auth)
    assert answer.status == status, answer.body[:300]
    assert reason in answer.json()["error"]
    assert web_gateway.metrics.errors["http_internal"] == 0


def test_nesting_within_the_limit_is_parsed(web_gateway: Gateway) -> None:
    inner = b"[" * (MAX_JSON_DEPTH - 2) + b"]" * (MAX_JSON_DEPTH - 2)
    body = b'{"form": {"title": ' + inner + b"}}"
    answer = call(web_gateway, "/api/libraries/centre/requests", body, STAFF)
    assert answer.status == 400
    assert answer.json()["error"] == "bad form"  # parsed, then refused for what it says
    brackets = b'{"form": {"title": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}}'
    answer = call(web_gateway, "/api/libraries/centre/requests", brackets, STAFF)
    assert answer.json()["error"] == "bad form"  # brackets in a string are text


def test_a_good_body_is_still_taken(web_gateway: Gateway) -> None:
    body = json.dumps({"form": GOOD_FORM}).encode()
    answer = call(web_gateway, "/api/libraries/centre/requests", body, STAFF)
    assert answer.status == 201, answer.body
    assert answer.json()["form"]["title"] == GOOD_FORM["title"]
