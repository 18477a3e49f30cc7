"""The gateway's HTTP side (twisted.web): the NACSIS record API, metrics, status, a page.

* ``GET /metrics``: Prometheus text; ``GET /status``: JSON.
* ``GET /`` (``?q=`` searches transaction ids and record IDs): the transactions with their
  state; ``GET /transactions/<network>/<key>``: one leg's history and raw APDU log.
* The records network (the NACSIS-ILL side), JSON in and out:
  ``POST /api/records`` (a record), ``GET /api/records/<ID>`` (the record, its state and
  history lines), ``POST /api/records/<ID>/commands`` (``{"command": "ORDER", "options":
  {...}}``). A refused command answers 409 with every reason.

Path segments are URL-decoded one by one, so a transaction id containing ``/`` is given as
``%2F``.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from twisted.web import resource, server
from twisted.web.server import Request

from isoill.gateway.metrics import Metrics
from isoill.gateway.store import Store, StoredLeg
from isoill.machine.events import SERVICE_NAMES
from isoill.mapping.commands import CommandRefused
from isoill.mapping.record import Command, Record, RecordError

MAX_BODY = 1 << 20


class Backend(Protocol):
    store: Store
    metrics: Metrics

    def status(self) -> dict[str, Any]: ...

    def post_record(self, record: Record) -> StoredLeg: ...

    def record_command(
        self, record_id: str, command: Command, options: dict[str, Any]
    ) -> StoredLeg: ...


def leg_json(leg: StoredLeg) -> dict[str, Any]:
    """What the record API answers about one leg."""
    txn = leg.transaction
    return {
        "network": leg.network,
        "transaction_id": leg.key,
        "role": txn.role.value,
        "state": txn.state.value,
        "record": None if leg.record is None else leg.record.to_json(),
        "history": [] if leg.record is None else list(leg.record.HISTORY),
        "apdus": [
            {
                "at": entry.at.isoformat(),
                "direction": entry.direction.value,
                "type": SERVICE_NAMES[entry.apdu.apdu_type],
                "state_before": entry.state_before.value,
                "state_after": entry.state_after.value,
            }
            for entry in txn.history
        ],
    }


def _json(request: Request, status: int, value: Any) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"content-type", b"application/json; charset=utf-8")
    return json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8")


def _body(request: Request) -> Any:
    """The JSON body; ValueError when it is not JSON, OverflowError when too big."""
    assert request.content is not None
    data = request.content.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise OverflowError
    return json.loads(data.decode("utf-8"))


class Records(resource.Resource):
    """``/api/records``: the records network's interface."""

    isLeaf = True

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend

    def render_GET(self, request: Request) -> bytes:
        path = [p.decode("utf-8") for p in request.postpath or [] if p]
        if len(path) != 1:
            return _json(request, 404, {"error": "GET /api/records/<ID>"})
        leg = self.backend.store.find_record(path[0])
        if leg is None:
            return _json(request, 404, {"error": f"no record {path[0]}"})
        return _json(request, 200, leg_json(leg))

    def render_POST(self, request: Request) -> bytes:
        path = [p.decode("utf-8") for p in request.postpath or [] if p]
        try:
            body = _body(request)
        except OverflowError:
            return _json(request, 413, {"error": f"body over {MAX_BODY} bytes"})
        except ValueError as err:
            return _json(request, 400, {"error": f"not JSON: {err}"})
        if not path:
            return self._post_record(request, body)
        if len(path) == 2 and path[1] == "commands":
            return self._command(request, path[0], body)
        return _json(request, 404, {"error": "POST /api/records or /api/records/<ID>/commands"})

    def _post_record(self, request: Request, body: Any) -> bytes:
        try:
            leg = self.backend.post_record(Record.from_json(body))
        except RecordError as err:
            reasons = err.args[0] if err.args and isinstance(err.args[0], list) else [str(err)]
            return _json(request, 400, {"error": "refused", "reasons": reasons})
        except (ValueError, TypeError) as err:
            return _json(request, 400, {"error": str(err), "reasons": [str(err)]})
        return _json(request, 201, leg_json(leg))

    def _command(self, request: Request, record_id: str, body: Any) -> bytes:
        if not isinstance(body, dict) or not isinstance(body.get("command"), str):
            return _json(request, 400, {"error": 'give {"command": "...", "options": {...}}'})
        try:
            command = Command(body["command"].upper())
        except ValueError:
            known = ", ".join(c.value for c in Command)
            return _json(request, 400, {"error": f"unknown command; one of {known}"})
        options = body.get("options") or {}
        if not isinstance(options, dict):
            return _json(request, 400, {"error": "options must be an object"})
        try:
            leg = self.backend.record_command(record_id, command, options)
        except KeyError:
            return _json(request, 404, {"error": f"no record {record_id}"})
        except CommandRefused as refused:
            return _json(request, 409, {"error": "refused", "reasons": refused.reasons})
        except (ValueError, TypeError) as err:
            return _json(request, 400, {"error": str(err)})
        return _json(request, 200, leg_json(leg))


class Metric(resource.Resource):
    isLeaf = True

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"text/plain; version=0.0.4; charset=utf-8")
        return self.backend.metrics.render(self.backend.store.stats()).encode("utf-8")


class Status(resource.Resource):
    isLeaf = True

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend

    def render_GET(self, request: Request) -> bytes:
        stats = self.backend.store.stats()
        return _json(
            request,
            200,
            {
                **self.backend.status(),
                "store": {
                    "legs": stats.legs,
                    "by_state": stats.by_state,
                    "outbox_pending": stats.outbox_pending,
                    "outbox_delivered": stats.outbox_delivered,
                    "apdus_logged": stats.apdus_logged,
                },
                "metrics": self.backend.metrics.snapshot(),
            },
        )


_STYLE = (
    "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}"
    "td,th{border:1px solid #bbb;padding:.25em .5em;text-align:left}th{background:#eee}"
    "code{font-size:90%}"
)


def _page(title: str, body: str) -> bytes:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
        f"</title><style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}"
        "</body></html>"
    ).encode()


def _table(head: list[str], rows: list[list[str]]) -> str:
    """Cells are HTML already escaped by the caller."""
    top = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{top}</tr>{body}</table>"


class Page(resource.Resource):
    """``/``: transactions, searchable; ``/transactions/<network>/<key>``: one of them."""

    isLeaf = True

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend

    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        path = [p.decode("utf-8") for p in request.postpath or []]
        if (request.prepath or [])[-1:] == [b"transactions"]:
            if len(path) == 2:
                return self._transaction(request, path[0], path[1])
            path = path or ["-"]
        if any(path):
            request.setResponseCode(404)
            return _page("Not found", "<p>No such page.</p>")
        query = (request.args or {}).get(b"q", [b""])[0].decode("utf-8", "replace")
        legs = self.backend.store.search(query, limit=200)
        rows = [
            [
                html.escape(leg.network),
                f'<a href="/transactions/{quote(leg.network, safe="")}/'
                f'{quote(leg.key, safe="")}">{html.escape(leg.key)}</a>',
                html.escape(leg.peer),
                html.escape(leg.transaction.role.value),
                html.escape(leg.transaction.state.value),
                html.escape(leg.record_id or ""),
                html.escape(_last(leg)),
            ]
            for leg in legs
        ]
        form = (
            '<form><input name="q" placeholder="transaction id or record ID" value="'
            f'{html.escape(query)}"> <button>Search</button></form>'
        )
        head = ["network", "transaction id", "peer", "role", "state", "record", "last change"]
        return _page("isoill gateway", form + _table(head, rows))

    def _transaction(self, request: Request, network: str, key: str) -> bytes:
        leg = self.backend.store.load(network, key)
        if leg is None:
            request.setResponseCode(404)
            return _page("Not found", f"<p>No transaction {html.escape(key)}.</p>")
        history = [
            [
                html.escape(e.at.isoformat(sep=" ", timespec="seconds")),
                html.escape(e.direction.value),
                html.escape(SERVICE_NAMES[e.apdu.apdu_type]),
                html.escape(f"{e.state_before.value} -> {e.state_after.value}"),
                html.escape(e.row or ""),
            ]
            for e in leg.transaction.history
        ]
        raw = [
            [
                html.escape(datetime.fromtimestamp(at).isoformat(sep=" ", timespec="seconds")),
                html.escape(direction),
                html.escape(peer),
                html.escape(kind),
                str(len(data)),
                f"<code>{data[:32].hex(' ')}</code>",
            ]
            for at, direction, peer, kind, data in self.backend.store.log_for(key)
        ]
        body = (
            f"<p>{html.escape(network)}: {html.escape(leg.transaction.role.value)}, "
            f"state <b>{html.escape(leg.transaction.state.value)}</b>, peer "
            f"{html.escape(leg.peer or '-')}</p><h2>History</h2>"
            + _table(["time", "direction", "APDU", "state", "row"], history)
            + "<h2>Raw APDUs</h2>"
            + _table(["time", "direction", "peer", "APDU", "bytes", "first bytes"], raw)
        )
        if leg.record is not None:
            fields = [
                [html.escape(k), html.escape(str(v))]
                for k, v in leg.record.to_json().items()
                if v not in (None, "", [], {})
            ]
            body += "<h2>Record</h2>" + _table(["field", "value"], fields)
        return _page(f"Transaction {key}", body)


def _last(leg: StoredLeg) -> str:
    history = leg.transaction.history
    return history[-1].at.isoformat(sep=" ", timespec="seconds") if history else ""


def site(backend: Backend) -> server.Site:
    root = resource.Resource()
    page = Page(backend)
    root.putChild(b"", page)
    root.putChild(b"transactions", page)
    api = resource.Resource()
    api.putChild(b"records", Records(backend))
    root.putChild(b"api", api)
    root.putChild(b"metrics", Metric(backend))
    root.putChild(b"status", Status(backend))
    return server.Site(root)
