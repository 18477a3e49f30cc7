"""The gateway's HTTP side, through Twisted's real HTTP parser and resource tree but with no
network and no running reactor: each request is bytes fed to an HTTPChannel over a
StringTransport, and the answer is read back with http.client, as a client would."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

import isoill
from isoill.gateway.config import Config
from isoill.gateway.metrics import BUCKETS, Metrics
from isoill.gateway.store import (
    Change,
    Conflict,
    LogEntry,
    OutboxItem,
    SQLiteStore,
    Stats,
    Store,
    StoredLeg,
)
from isoill.gateway.web import MAX_BODY, site
from isoill.machine import Role, Transaction, machine
from isoill.mapping.commands import CommandRefused
from isoill.mapping.messages import MESSAGES, say
from isoill.mapping.record import Command, Record, RecordError
from tests.gateway.support import Answer, exchange
from tests.mapping.support import GIF

#: The operators' bearer token of the fake gateway's configuration.
TOKEN = "test-operator-token-0123456789abcdef"

# --- a fake gateway -------------------------------------------------------------------------


class FakeBackend:
    """The gateway as web.py sees it: a real store and real metrics, the record actions
    reduced to what the HTTP side must translate (legs, and each way they fail)."""

    def __init__(self, path: Path) -> None:
        self.config = Config(operator_tokens=(TOKEN,))
        self.store: Store = SQLiteStore(path)
        self.metrics = Metrics()
        self.calls: list[tuple[Any, ...]] = []
        self.refusal: list[str] | None = None
        self.fault: Exception | None = None

    def stats(self) -> Stats:
        return self.store.stats()

    def status(self) -> dict[str, Any]:
        return {"version": isoill.__version__, "uptime": 1.5, "listening": ["127.0.0.1:4990"]}

    def seconds(self) -> float:
        return time.time()

    def post_record(self, record: Record) -> StoredLeg:
        self.calls.append(("post", record))
        if self.fault is not None:
            raise self.fault
        if record.ID is None:
            raise RecordError(["ID: a record needs its ID (NACSIS assigns it)"])
        tid = isoill.TransactionId(
            transaction_group_qualifier="NACSIS", transaction_qualifier=record.ID
        )
        leg = StoredLeg(
            "nacsis", f"NACSIS:{record.ID}", "", "oclc", Transaction(Role.REQUESTER, tid), record
        )
        self.store.commit(Change(legs=(leg,)), at=time.time())
        return dataclasses.replace(leg, version=1)

    def record_command(
        self, record_id: str, command: Command, options: dict[str, Any], by: str | None = None
    ) -> StoredLeg:
        self.calls.append(("command", record_id, command, options))
        if self.fault is not None:
            raise self.fault
        leg = self.store.find_record(record_id)
        if leg is None:
            raise KeyError(record_id)
        if self.refusal is not None:
            raise CommandRefused(command, self.refusal)
        if "force" in options and not isinstance(options["force"], bool):
            raise ValueError("force: true or false")
        assert leg.record is not None
        changed = dataclasses.replace(leg, record=leg.record.with_history(f"COMMAND={command}"))
        self.store.commit(Change(legs=(changed,)), at=time.time())
        found = self.store.find_record(record_id)
        assert found is not None
        return found


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[FakeBackend]:
    fake = FakeBackend(tmp_path / "store.db")
    yield fake
    fake.store.close()


# --- HTTP without a network -----------------------------------------------------------------


def call(
    backend: FakeBackend,
    method: str,
    path: str,
    body: Any = None,
    raw: bytes | None = None,
    content_type: str | None = "application/json",
    authorization: str | None = f"Bearer {TOKEN}",
    listener: str = "192.0.2.1",
) -> Answer:
    """One request through ``site(backend)``: Twisted parses it, routes and renders it. By
    default as an operator's program (the configured bearer token) to a listener on a
    non-loopback address."""
    data = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization
    if data or method in ("POST", "PUT"):
        headers["Content-Length"] = str(len(data))
        if content_type is not None:
            headers["Content-Type"] = content_type
    return exchange(site(backend), method, path, data, headers, listener)


# --- putting legs in the store --------------------------------------------------------------


def _request(qualifier: str, title: str = "Interlending & Document Supply") -> isoill.ILLRequest:
    return isoill.ILLRequest(
        transaction_id=isoill.TransactionId(
            initial_requester_id=isoill.SystemId.institution("NACSIS:FA001234"),
            transaction_group_qualifier="GIF",
            transaction_qualifier=qualifier,
        ),
        requester_id=isoill.SystemId.institution("NACSIS:FA001234"),
        responder_id=isoill.SystemId.institution("OCLC:XYZ"),
        ill_service_type=(isoill.ILLServiceType.COPY_NON_RETURNABLE,),
        item_id=isoill.ItemId(title=title, author="Example"),
    )


def _store_leg(
    backend: FakeBackend, qualifier: str, title: str = "Interlending", record: Record | None = None
) -> StoredLeg:
    ask = _request(qualifier, title)
    txn = machine.receive(Transaction(Role.RESPONDER, ask.transaction_id), ask).transaction
    key = f"NACSIS:FA001234/GIF/{qualifier}"
    leg = StoredLeg("oclc", key, "oclc-peer", "nacsis", txn, record)
    entry = LogEntry("in", "oclc-peer", "oclc", "ILL-REQUEST", key, isoill.encode(ask))
    backend.store.commit(Change(legs=(leg,), log=(entry,)), at=time.time())
    return leg


# --- metrics --------------------------------------------------------------------------------

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), value)


def parse_exposition(text: str) -> dict[str, Any]:
    """A strict reader of the text format: every family announced by HELP then TYPE before
    its samples, every sample ``name{labels} value``, label values properly escaped."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    samples: list[tuple[str, dict[str, str], float]] = []
    helped: set[str] = set()
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            helped.add(line.split(" ")[2])
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name in helped and name not in types
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped")
            types[name] = kind
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, inner, value = match.groups()
        labels: dict[str, str] = {}
        if inner:
            pairs = _LABEL.findall(inner)
            rebuilt = ",".join(f'{k}="{v}"' for k, v in pairs)
            assert rebuilt == inner, f"bad labels in {line!r}"
            labels = {k: _unescape(v) for k, v in pairs}
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or types.get(family) == "histogram", f"{name} has no TYPE"
        samples.append((name, labels, float(value)))
    return {"types": types, "samples": samples}


def _value(parsed: dict[str, Any], name: str, **labels: str) -> float:
    found = [v for n, ls, v in parsed["samples"] if n == name and ls == labels]
    assert len(found) == 1, (name, labels, parsed["samples"])
    return float(found[0])


def _stats(**changes: Any) -> Stats:
    return dataclasses.replace(
        Stats(legs=0, outbox_pending=0, outbox_delivered=0, apdus_logged=0), **changes
    )


def test_metrics_text_parses_with_counters_by_type_and_peer() -> None:
    metrics = Metrics()
    metrics.apdu_in("ILL-REQUEST", "oclc")
    metrics.apdu_in("ILL-REQUEST", "oclc")
    metrics.apdu_in("SHIPPED", "oclc")
    metrics.apdu_out("ILL-REQUEST", "nacsis")
    metrics.error("refused")
    metrics.associations(2)
    metrics.associations(-1)
    parsed = parse_exposition(metrics.render(_stats()))
    assert _value(parsed, "isoill_apdus_in_total", type="ILL-REQUEST", peer="oclc") == 2
    assert _value(parsed, "isoill_apdus_in_total", type="SHIPPED", peer="oclc") == 1
    assert _value(parsed, "isoill_apdus_out_total", type="ILL-REQUEST", peer="nacsis") == 1
    assert _value(parsed, "isoill_errors_total", kind="refused") == 1
    assert _value(parsed, "isoill_associations") == 1
    assert parsed["types"]["isoill_apdus_in_total"] == "counter"
    assert parsed["types"]["isoill_relay_latency_seconds"] == "histogram"
    assert all(name.startswith("isoill_") for name in parsed["types"])


def test_the_latency_histogram_is_cumulative_and_inf_is_the_count() -> None:
    metrics = Metrics()
    latencies = [0.0005, 0.001, 0.003, 0.003, 0.015, 0.2, 4.0, 60.0, -0.1, math.nan]
    for seconds in latencies:
        metrics.relay_latency(seconds)
    parsed = parse_exposition(metrics.render(_stats()))
    buckets = [(ls["le"], v) for n, ls, v in parsed["samples"] if n.endswith("_bucket")]
    assert [le for le, _ in buckets] == [repr(b) for b in BUCKETS] + ["+Inf"]
    counts = [v for _, v in buckets]
    assert counts == sorted(counts)
    count = _value(parsed, "isoill_relay_latency_seconds_count")
    assert count == 9  # NaN is dropped; a negative latency counts as 0
    assert counts[-1] == count
    assert _value(parsed, "isoill_relay_latency_seconds_bucket", le="0.001") == 3  # le is <=
    assert _value(parsed, "isoill_relay_latency_seconds_bucket", le="0.005") == 5
    assert _value(parsed, "isoill_relay_latency_seconds_bucket", le="5.0") == 8
    assert _value(parsed, "isoill_relay_latency_seconds_sum") == pytest.approx(64.2225)
    assert metrics.latency_at_most(0.5) == 0.005
    assert metrics.latency_at_most(0.99) == math.inf
    assert metrics.snapshot()["p99_relay_latency_at_most"] is None


def test_label_values_are_escaped() -> None:
    metrics = Metrics()
    peer = 'lib "A" \\ main\nbranch'
    metrics.apdu_in("ILL-REQUEST", peer)
    text = metrics.render(_stats())
    assert 'peer="lib \\"A\\" \\\\ main\\nbranch"' in text
    parsed = parse_exposition(text)
    assert _value(parsed, "isoill_apdus_in_total", type="ILL-REQUEST", peer=peer) == 1


def test_the_store_gauges() -> None:
    metrics = Metrics(clock=lambda: 1000.0)
    stats = _stats(
        legs=3,
        outbox_pending=2,
        outbox_delivered=7,
        apdus_logged=11,
        oldest_pending=990.5,
        by_state={"IN-PROCESS": 2, "SHIPPED": 1},
    )
    parsed = parse_exposition(metrics.render(stats))
    assert _value(parsed, "isoill_outbox_pending") == 2
    assert _value(parsed, "isoill_outbox_oldest_seconds") == 9.5
    assert _value(parsed, "isoill_outbox_delivered") == 7
    assert _value(parsed, "isoill_apdus_logged") == 11
    assert _value(parsed, "isoill_transactions", state="IN-PROCESS") == 2
    assert _value(parsed, "isoill_transactions", state="SHIPPED") == 1
    assert _value(parsed, "isoill_start_time_seconds") == 1000.0
    assert _value(parse_exposition(metrics.render(_stats())), "isoill_outbox_oldest_seconds") == 0


def test_get_metrics(backend: FakeBackend) -> None:
    _store_leg(backend, "T1")
    backend.store.commit(
        Change(outbox=(OutboxItem("d1", "oclc-peer", "oclc", "SHIPPED", "k", b"x"),)),
        at=time.time() - 5,
    )
    backend.metrics.apdu_in("ILL-REQUEST", "oclc-peer")
    answer = call(backend, "GET", "/metrics")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    parsed = parse_exposition(answer.text)
    assert _value(parsed, "isoill_apdus_in_total", type="ILL-REQUEST", peer="oclc-peer") == 1
    assert _value(parsed, "isoill_outbox_pending") == 1
    assert _value(parsed, "isoill_outbox_oldest_seconds") >= 4.9
    assert _value(parsed, "isoill_transactions", state="IN-PROCESS") == 1
    assert _value(parsed, "isoill_apdus_logged") == 1


# --- status and pages -----------------------------------------------------------------------


def test_get_status(backend: FakeBackend) -> None:
    _store_leg(backend, "T1")
    backend.metrics.apdu_out("SHIPPED", "oclc-peer")
    status = call(backend, "GET", "/status").json()
    assert status["version"] == isoill.__version__ and status["listening"] == ["127.0.0.1:4990"]
    assert status["store"]["legs"] == 1 and status["store"]["by_state"] == {"IN-PROCESS": 1}
    assert status["store"]["outbox_pending"] == 0 and status["store"]["oldest_pending_age"] is None
    assert status["store"]["apdus_logged"] == 1
    assert status["metrics"]["apdus_out"] == 1
    assert status["metrics"]["apdus_out_by_type"] == {"SHIPPED": 1}


def test_the_status_page_lists_legs_and_search_filters_them(backend: FakeBackend) -> None:
    _store_leg(backend, "T1")
    _store_leg(backend, "OTHER")
    page = call(backend, "GET", "/")
    assert page.status == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "GIF/T1" in page.text and "GIF/OTHER" in page.text and "IN-PROCESS" in page.text
    assert f'href="/transactions/oclc/{quote("NACSIS:FA001234/GIF/T1", safe="")}"' in page.text
    found = call(backend, "GET", "/?q=gif/t1")  # case ignored
    assert "GIF/T1" in found.text and "GIF/OTHER" not in found.text
    assert 'value="gif/t1"' in found.text
    none = call(backend, "GET", "/?q=%22%3E%3Cb%3E")  # the query is shown back, escaped
    assert "GIF/T1" not in none.text and 'value="&quot;&gt;&lt;b&gt;"' in none.text


def test_the_transaction_page_shows_history_and_log_escaped(backend: FakeBackend) -> None:
    record = Record.from_json(
        {**GIF, "ID": "ILL<1>", "HISTORY": ["APDU=Shipped OCLC 20261122 <b>"]}
    )
    leg = _store_leg(backend, "T1", title="<script>alert(1)</script>", record=record)
    page = call(backend, "GET", f"/transactions/oclc/{quote(leg.key, safe='')}")
    assert page.status == 200
    text = page.text
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "recv" in text and "ILL-REQUEST" in text and "IDLE -&gt; IN-PROCESS" in text
    assert "Raw APDUs" in text and isoill.encode(_request("T1", "x"))[:1].hex() in text
    assert "APDU=Shipped OCLC 20261122 &lt;b&gt;" in text and "<b>" not in text
    assert "ILL&lt;1&gt;" in text and "Interlending &amp; Document Supply" in text
    # the key's slashes may be written as they are
    assert call(backend, "GET", f"/transactions/oclc/{leg.key}").status == 200
    missing = call(backend, "GET", "/transactions/oclc/NOPE%3Cx%3E")
    assert missing.status == 404 and "NOPE&lt;x&gt;" in missing.text
    assert call(backend, "GET", "/transactions/oclc").status == 404


# --- the record API -------------------------------------------------------------------------


def test_post_a_record_then_get_it(backend: FakeBackend) -> None:
    posted = call(backend, "POST", "/api/records", {**GIF, "ID": "ILL0001"})
    assert posted.status == 201
    assert posted.headers["location"] == "/api/records/ILL0001"
    leg = posted.json()
    assert leg["record"]["ID"] == "ILL0001" and leg["record"]["BIBNT"] == GIF["BIBNT"]
    assert leg["state"] == "IDLE" and leg["role"] == "requester" and leg["network"] == "nacsis"
    assert leg["transaction_id"] == "NACSIS:ILL0001" and leg["history"] == [] and leg["apdus"] == []
    assert backend.calls[0][0] == "post"
    got = call(backend, "GET", "/api/records/ILL0001")
    assert got.status == 200 and got.json() == leg
    assert call(backend, "GET", "/api/records/ILL9999").json()["error"] == "no record ILL9999"
    assert call(backend, "GET", "/api/records/ILL9999").status == 404


def test_get_a_record_with_its_apdus(backend: FakeBackend) -> None:
    record = Record.from_json({**GIF, "ID": "CALIS:1//", "HISTORY": ["APDU=Shipped OCLC 20261122"]})
    _store_leg(backend, "T1", record=record)
    got = call(backend, "GET", f"/api/records/{quote('CALIS:1//', safe='')}").json()
    assert got["history"] == ["APDU=Shipped OCLC 20261122"] and got["state"] == "IN-PROCESS"
    (apdu,) = got["apdus"]
    assert apdu["type"] == "ILL-REQUEST" and apdu["direction"] == "recv"
    assert apdu["state_before"] == "IDLE" and apdu["state_after"] == "IN-PROCESS"
    assert set(apdu) == {"at", "direction", "type", "state_before", "state_after"}


def test_bad_records_are_refused_with_every_reason(backend: FakeBackend) -> None:
    bad = call(backend, "POST", "/api/records", {**GIF, "ID": "X", "NOPE": "1", "STAT": 3})
    assert bad.status == 400
    reasons = bad.json()["reasons"]
    assert (
        len(reasons) == 2
        and any("NOPE" in r for r in reasons)
        and any("STAT" in r for r in reasons)
    )
    no_id = call(backend, "POST", "/api/records", GIF).json()
    assert no_id["reasons"] == ["ID: a record needs its ID (NACSIS assigns it)"]
    broken = call(backend, "POST", "/api/records", raw=b'{"ID": ')
    assert broken.status == 400 and broken.json()["error"].startswith("not JSON")
    assert call(backend, "POST", "/api/records", raw=b"\xff\xfe{").status == 400
    listed = call(backend, "POST", "/api/records", ["ID", "X"])
    assert (
        listed.status == 400 and "JSONオブジェクト" in listed.json()["reasons"][0]
    )  # Japanese by default
    plain = call(backend, "POST", "/api/records", {**GIF, "ID": "X"}, content_type="text/plain")
    assert plain.status == 415
    assert backend.store.find_record("X") is None


def test_commands(backend: FakeBackend) -> None:
    call(backend, "POST", "/api/records", {**GIF, "ID": "ILL0001"})
    done = call(
        backend,
        "POST",
        "/api/records/ILL0001/commands",
        {"command": " order", "options": {"force": True}},
    )
    assert done.status == 200 and done.json()["history"] == ["COMMAND=ORDER"]
    assert backend.calls[-1] == ("command", "ILL0001", Command.ORDER, {"force": True})
    assert done.json().keys() == call(backend, "GET", "/api/records/ILL0001").json().keys()

    backend.refusal = ["STAT: 処理中, not 未処理", "ISOSTAT: IN-PROCESS"]
    refused = call(backend, "POST", "/api/records/ILL0001/commands", {"command": "SEND"})
    assert refused.status == 409
    assert refused.json() == {"error": "refused", "reasons": backend.refusal}
    backend.refusal = [say("claim-refused")]
    in_japanese = call(backend, "POST", "/api/records/ILL0001/commands", {"command": "CLAIM"})
    assert in_japanese.json()["reasons"][0].startswith("グローバルILLではCLAIMコマンドは")
    claim = json.dumps({"command": "CLAIM"}).encode()
    in_english = exchange(
        site(backend),
        "POST",
        "/api/records/ILL0001/commands",
        claim,
        {
            "Authorization": f"Bearer {TOKEN}",
            "Content-Type": "application/json",
            "Content-Length": str(len(claim)),
            "Accept-Language": "en-GB,en;q=0.9,ja;q=0.5",
        },
        "192.0.2.1",
    )
    assert in_english.json()["reasons"] == [MESSAGES["claim-refused"][0]]
    backend.refusal = None

    def status_of(body: Any, record_id: str = "ILL0001") -> int:
        return call(backend, "POST", f"/api/records/{record_id}/commands", body).status

    assert status_of({"command": "FLY"}) == 400
    assert status_of({"command": 3}) == 400
    assert status_of({"options": {}}) == 400
    assert status_of(["ORDER"]) == 400
    assert status_of({"command": "ORDER", "option": {"force": True}}) == 400
    assert status_of({"command": "ORDER", "options": ["force"]}) == 400
    assert status_of({"command": "ORDER", "options": {"force": "yes"}}) == 400  # ValueError
    assert status_of({"command": "ORDER"}, record_id="ILL9999") == 404
    unknown = call(backend, "POST", "/api/records/ILL0001/commands", {"command": "FLY"}).json()
    assert "FLY" in unknown["error"] and "ORDER" in unknown["error"]


def test_a_body_over_the_limit_is_413(backend: FakeBackend) -> None:
    padding = "x" * MAX_BODY
    big = call(backend, "POST", "/api/records", {**GIF, "ID": "BIG", "CMMNT": padding})
    assert big.status == 413
    command = call(backend, "POST", "/api/records/BIG/commands", raw=b" " * (MAX_BODY + 1))
    assert command.status == 413
    assert backend.calls == []
    # exactly the limit is still read
    exact = json.dumps({**GIF, "ID": "FITS"}).encode()
    exact += b" " * (MAX_BODY - len(exact))
    assert call(backend, "POST", "/api/records", raw=exact).status == 201


def test_wrong_methods_and_paths(backend: FakeBackend) -> None:
    listing = call(backend, "GET", "/api/records")
    assert listing.status == 405 and listing.headers["allow"] == "POST"
    assert call(backend, "PUT", "/api/records/ILL0001", {}).status == 405
    assert call(backend, "GET", "/api/records/ILL0001/commands").headers["allow"] == "POST"
    metrics = call(backend, "POST", "/metrics", {})
    assert metrics.status == 405 and "GET" in metrics.headers["allow"]
    assert metrics.json()["error"].startswith("use ")
    assert call(backend, "DELETE", "/status").status == 405
    assert call(backend, "GET", "/metrics/more").status == 404
    assert call(backend, "GET", "/nothing").status == 404
    assert call(backend, "HEAD", "/status").status == 200


def test_faults_answer_json(backend: FakeBackend) -> None:
    backend.fault = Conflict("leg changed")
    busy = call(backend, "POST", "/api/records", {**GIF, "ID": "ILL0001"})
    assert busy.status == 503 and busy.headers["retry-after"] == "1"
    backend.fault = KeyError("a bug, not an unknown record")
    broken = call(backend, "POST", "/api/records", {**GIF, "ID": "ILL0001"})
    assert broken.status == 500 and broken.json()["error"].startswith("internal error")
    assert backend.metrics.errors["http_internal"] == 1


# --- operators only -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/transactions/oclc/x", "/status", "/api/records/NX1", "/metrics"]
)
def test_operations_need_the_bearer_token_off_loopback(backend: FakeBackend, path: str) -> None:
    for authorization in (None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"):
        answer = call(backend, "GET", path, authorization=authorization)
        assert answer.status == 401, authorization
        assert answer.headers["www-authenticate"].startswith("Basic ")
        assert answer.json()["error"].startswith("operators only")
    assert call(backend, "GET", path).status in (200, 404)


def test_records_api_writes_need_the_token_too(backend: FakeBackend) -> None:
    answer = call(backend, "POST", "/api/records", {"ID": "NX1"}, authorization=None)
    assert answer.status == 401
    assert backend.calls == []


def test_metrics_are_open_only_on_a_loopback_listener(backend: FakeBackend) -> None:
    assert call(backend, "GET", "/metrics", authorization=None, listener="127.0.0.1").status == 200
    assert call(backend, "GET", "/metrics", authorization=None, listener="::1").status == 200
    assert call(backend, "GET", "/status", authorization=None, listener="127.0.0.1").status == 401
    assert call(backend, "GET", "/metrics", authorization=None).status == 401


def test_operator_tokens_must_be_long() -> None:
    from isoill.gateway.config import ConfigError, parse

    assert parse({"gateway": {"operator_tokens": [TOKEN]}}).operator_tokens == (TOKEN,)
    with pytest.raises(ConfigError, match="at least 32 characters"):
        parse({"gateway": {"operator_tokens": ["short"]}})
    with pytest.raises(ConfigError, match="list of strings"):
        parse({"gateway": {"operator_tokens": TOKEN}})
