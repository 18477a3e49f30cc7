"""The gateway's HTTP side (twisted.web): the NACSIS record API, metrics, status, a page.

* ``GET /metrics``: Prometheus text; ``GET /status``: JSON.
* ``GET /`` (``?q=`` searches transaction ids and record IDs): the transactions with their
  state; ``GET /transactions/<network>/<key>``: one leg's history, raw APDU log and record.
* The records network (the NACSIS-ILL side), JSON in and out:
  ``POST /api/records`` (a record), ``GET /api/records/<ID>`` (the record, its state and
  history lines), ``PATCH /api/records/<ID>`` (``{"SUM": "15.00", ...}``: staff's edit of the
  fields NACSIS lets them change in the record's state; 400 with every field refused),
  ``POST /api/records/<ID>/commands`` (``{"command": "ORDER", "options": {...}}``; a
  refused command answers 409 with every reason), ``POST /api/records/<ID>/dummy``
  (``{"oclc_number": ..., "lender_staff": ...}``: the dummy record, the original marked for
  CANCEL) and ``GET /api/records/<ID>/letters/<case>[?problem=...]`` (the letter to the
  lender for one of the guide's cases, filled from the lender's Shipped).

All of these answer operators only (:class:`OperatorsOnly`), except ``/metrics`` on a
loopback listener. Network kinds add their own resources (:mod:`isoill.gateway.kinds`): the
library API and the reader and staff pages (:mod:`isoill.library`), with their own logins.

Transaction ids hold ``/`` (``NACSIS:FA001234/GIF/T1``): in a path it may be written as is
or as ``%2F``, since the segments after the network (or after ``records``) are joined again.

POST bodies must say ``Content-Type: application/json``: a browser cannot send that to
another site without asking first, so a web page a librarian visits cannot order on their
behalf from the loopback gateway. Bodies are kept to :data:`MAX_BODY` bytes while they arrive
(what is beyond is dropped and answered 413), so a huge upload costs neither memory nor disk.
Every JSON body goes through one reader (``_json_body``), which answers 400 with the reason
for what is not UTF-8 JSON text or nests deeper than :data:`MAX_JSON_DEPTH`.
"""

from __future__ import annotations

import dataclasses
import hmac
import io
import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import accumulate
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar
from urllib.parse import quote

from twisted.logger import Logger
from twisted.web import pages, resource, server
from twisted.web.error import UnsupportedMethod
from twisted.web.server import Request
from twisted.web.template import Flattenable, Tag, tags

from isoill.gateway import clock
from isoill.gateway.config import Config
from isoill.gateway.kinds import registered
from isoill.gateway.logins import LoginHeld, Throttle, answer_later, log_in
from isoill.gateway.metrics import Metrics
from isoill.gateway.operators import THROTTLE_SPACE, find_operator
from isoill.gateway.pages import Chrome, link, page, table
from isoill.gateway.store import Conflict, Stats, Store, StoredLeg
from isoill.machine.events import SERVICE_NAMES
from isoill.machine.transaction import Transaction
from isoill.mapping.commands import CommandRefused
from isoill.mapping.messages import Lang, in_lang, pick, reason_of, say
from isoill.mapping.receive_guard import Action
from isoill.mapping.record import Command, Record, RecordError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = Logger()

#: The largest request body read, bytes.
MAX_BODY = 1 << 20
#: The deepest nesting of arrays and objects in a JSON body: the APIs take two or three
#: levels (a record's holdings, a form in an object); this leaves room and no more.
MAX_JSON_DEPTH = 16
#: Rows on the transactions page: the most recently changed first.
PAGE_ROWS = 200


class Backend(Protocol):
    """What the HTTP side needs of the gateway (:class:`isoill.gateway.service.Gateway`):
    the records and operations here (what network kinds mount, a library's pages, takes the
    gateway as it is)."""

    config: Config
    store: Store
    metrics: Metrics

    def status(self) -> dict[str, Any]:
        """JSON-ready: version, uptime, peers, listening ports..."""
        ...

    def seconds(self) -> float:
        """Now by the gateway's reactor (what the login throttle counts with)."""
        ...

    def stats(self) -> Stats:
        """The store's counts as of the last poll (never waits for the store)."""
        ...

    def post_record(self, record: Record) -> StoredLeg:
        """Keep a new record; ValueError (RecordError among them) for a bad one."""
        ...

    def record_command(
        self, record_id: str, command: Command, options: dict[str, Any], by: str | None = None
    ) -> StoredLeg:
        """Carry out a command on a record, given by ``by``: KeyError for an unknown record
        id, CommandRefused (every reason in ``.reasons``), ValueError for bad options."""
        ...

    def edit_record(self, record_id: str, changes: Any, by: str | None = None) -> StoredLeg:
        """Change a record's fields as staff may in its state: KeyError for an unknown
        record id, RecordError (every field refused, in ``.reasons``)."""
        ...

    def record_dummy(self, record_id: str, oclc_number: str, lender_staff: str) -> Record:
        """The dummy record of a record; the original is marked for CANCEL. KeyError,
        RecordError as above."""
        ...

    def record_letter(self, record_id: str, case: str, problem: str = "") -> Action:
        """The letter of one of the guide's cases for a record. KeyError, RecordError."""
        ...


def legjson_answer(leg: StoredLeg) -> dict[str, Any]:
    """What the record API answers about one leg, after a POST as after a GET, so a client
    reads one shape whatever it did."""
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


# --- request bodies ---------------------------------------------------------------------------


class _CappedBody(io.BytesIO):
    """A request body that keeps its first ``MAX_BODY + 1`` bytes and drops the rest: one
    byte more than allowed is enough to know the body was too big."""

    def write(self, data: ReadableBuffer, /) -> int:
        view = memoryview(data)
        room = MAX_BODY + 1 - self.tell()
        if room > 0:
            super().write(view[:room])
        return view.nbytes


class _Site(server.Site):
    def getContentFile(self, length: int | None) -> _CappedBody:
        """Twisted's hook for where a body goes: left alone, it spools a large body whole
        to a temporary file, though nothing over MAX_BODY is ever read."""
        return _CappedBody()


#: JSON strings, removed before the nesting is measured (brackets in them are text).
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[^\[\]{}]+")
#: +1 for an opening bracket, -1 for a closing one.
_NESTING = [0] * 256
_NESTING[ord("[")] = _NESTING[ord("{")] = 1
_NESTING[ord("]")] = _NESTING[ord("}")] = -1


def _nesting(data: bytes) -> int:
    """How deeply arrays and objects nest in JSON text, measured without parsing it and
    without recursion, so that no body is too deep to be measured."""
    brackets = _BRACKETS.sub(b"", _JSON_STRING.sub(b"", data))
    return max(accumulate(_NESTING[b] for b in brackets), default=0)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def json_body(request: Request) -> tuple[Any, bytes | None]:
    """The JSON body of a request, or the answer that refuses it: 415 when it is not said
    to be JSON, 413 over :data:`MAX_BODY`, 400 with the reason when it is not UTF-8 JSON
    text, nests deeper than :data:`MAX_JSON_DEPTH` or holds what is not Unicode text.

    The one reader of JSON bodies for every API (records, libraries), so each refuses the
    same things the same way, before any handler sees them. Python's JSON reader recurses
    once per level: 100,000 ``[`` raised RecursionError and were answered 500 with a
    traceback; a body within Python's limit could still nest deeper than anything after it
    expects. The nesting is measured first, without recursion, and a body too deep for
    these APIs is refused before it is parsed."""
    if not _isjson_answer(request):
        return None, error(request, 415, "send the body as Content-Type: application/json")
    assert request.content is not None
    data = request.content.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        return None, error(request, 413, f"the body is over {MAX_BODY} bytes")
    if _nesting(data) > MAX_JSON_DEPTH:
        why = f"arrays and objects nest deeper than {MAX_JSON_DEPTH} levels"
        return None, error(request, 400, f"not JSON this API takes: {why}")
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
        # A lone surrogate (\ud800) parses, but is no text: it could be neither stored
        # nor answered.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError) as err:
        return None, error(request, 400, f"not JSON: not UTF-8 text ({err.reason})")
    except (ValueError, RecursionError) as err:
        return None, error(request, 400, f"not JSON: {err}")
    return value, None


def _isjson_answer(request: Request) -> bool:
    kind = request.getHeader(b"content-type") or b""
    return kind.split(b";")[0].strip().lower() == b"application/json"


# --- answers ----------------------------------------------------------------------------------


def json_answer(request: Request, status: int, value: Any) -> bytes:
    request.setResponseCode(status)
    request.setHeader(b"content-type", b"application/json; charset=utf-8")
    return json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8")


def error(request: Request, status: int, error: str, reasons: list[str] | None = None) -> bytes:
    return json_answer(request, status, {"error": error, "reasons": reasons or [error]})


def not_allowed(request: Request, allowed: Iterable[bytes]) -> bytes:
    methods = sorted(set(allowed))
    request.setHeader(b"allow", b", ".join(methods))
    return error(request, 405, f"use {', '.join(m.decode() for m in methods)}")


def segments(request: Request) -> list[str]:
    """The path after the resource, URL-decoded; bytes that are not UTF-8 become U+FFFD and
    so match nothing, instead of failing the request."""
    return [p.decode("utf-8", "replace") for p in request.postpath or []]


B = TypeVar("B")


class Leaf(resource.Resource, Generic[B]):
    """A resource that answers for its own path only (unless it ``takes_path``), and a wrong
    method in JSON; ``backend`` is what it answers from (the gateway, or what builds on it)."""

    isLeaf = True
    takes_path = False

    def __init__(self, backend: B) -> None:
        super().__init__()
        self.backend = backend

    def render(self, request: Request) -> bytes | int:
        if not self.takes_path and any(segments(request)):
            return error(request, 404, "no such resource")
        try:
            body: bytes = super().render(request)
        except UnsupportedMethod as err:
            if request.method == b"HEAD":
                raise  # twisted.web answers HEAD with GET's headers
            return not_allowed(request, err.allowedMethods)
        return body


# --- the record API ---------------------------------------------------------------------------


class Records(Leaf[Backend]):
    """``/api/records``: the records network's interface.

    Routed by hand rather than by child resources, because a record ID, like a transaction
    id, may hold ``/``."""

    takes_path = True

    def render(self, request: Request) -> bytes:
        path = segments(request)
        method = request.method
        try:
            if path in ([], [""]):
                if method != b"POST":
                    return not_allowed(request, [b"POST"])
                return self._post_record(request)
            if len(path) >= 2 and path[-1] == "commands":
                if method != b"POST":
                    return not_allowed(request, [b"POST"])
                return self._command(request, "/".join(path[:-1]))
            if len(path) >= 2 and path[-1] == "dummy":
                if method != b"POST":
                    return not_allowed(request, [b"POST"])
                return self._dummy(request, "/".join(path[:-1]))
            if len(path) >= 3 and path[-2] == "letters":
                if method not in (b"GET", b"HEAD"):
                    return not_allowed(request, [b"GET", b"HEAD"])
                return self._letter(request, "/".join(path[:-2]), path[-1])
            if method == b"PATCH":
                return self._edit(request, "/".join(path))
            if method not in (b"GET", b"HEAD"):
                return not_allowed(request, [b"GET", b"HEAD", b"PATCH"])
            return self._get(request, "/".join(path))
        except Exception:
            # A client of a JSON API should get JSON, even about a fault of the gateway's.
            log.failure("record API: {method} {uri}", method=method, uri=request.uri)
            self.backend.metrics.error("http_internal")
            return error(request, 500, "internal error; the gateway's log says more")

    def _get(self, request: Request, record_id: str) -> bytes:
        leg = self.backend.store.find_record(record_id) if record_id else None
        if leg is None:
            return refuse(request, 404, say("no-record", id=record_id))
        return json_answer(request, 200, legjson_answer(leg))

    def _post_record(self, request: Request) -> bytes:
        body, refused = json_body(request)
        if refused is not None:
            return refused

        def post() -> StoredLeg:
            leg = self.backend.post_record(Record.from_json(body))
            if leg.record_id is not None:
                where = f"/api/records/{quote(leg.record_id, safe='')}"
                request.setHeader(b"location", where.encode())
            return leg

        return _carry_out(request, post, ok=201)

    def _command(self, request: Request, record_id: str) -> bytes:
        body, refusal = _json_object(request, "command", {"options"}, say("usage-command"))
        if refusal is not None:
            return refusal
        assert body is not None
        try:
            command = Command(body["command"].strip().upper())
        except ValueError:
            known = ", ".join(c.value for c in Command)
            unknown = say("unknown-command", command=repr(body["command"]), known=known)
            return refuse(request, 400, unknown)
        options = body.get("options")
        if options is None:
            options = {}
        if not isinstance(options, dict):
            return refuse(request, 400, say("options-object"))

        def run() -> StoredLeg:
            return self.backend.record_command(record_id, command, options, _who(request))

        return _carry_out(request, run, ok=200, record_id=record_id)

    def _edit(self, request: Request, record_id: str) -> bytes:
        body, refusal = json_body(request)
        if refusal is not None:
            return refusal

        def run() -> StoredLeg:
            return self.backend.edit_record(record_id, body, _who(request))

        return _carry_out(request, run, ok=200, record_id=record_id)

    def _dummy(self, request: Request, record_id: str) -> bytes:
        usage = say("usage-dummy")
        body, refusal = _json_object(request, "oclc_number", {"lender_staff"}, usage)
        if refusal is not None:
            return refusal
        assert body is not None
        staff = body.get("lender_staff", "ILL staff")
        if not isinstance(staff, str):
            return refuse(request, 400, usage)
        try:
            dummy = self.backend.record_dummy(record_id, body["oclc_number"], staff)
        except KeyError:
            return refuse(request, 404, say("no-record", id=record_id))
        except RecordError as err:
            return error(request, 400, "no dummy record", _in_lang(request, err.reasons))
        return json_answer(request, 200, {"dummy": dummy.to_json()})

    def _letter(self, request: Request, record_id: str, case: str) -> bytes:
        problem = (request.args.get(b"problem") or [b""])[0].decode("utf-8", "replace")
        try:
            action = self.backend.record_letter(record_id, case, problem)
        except KeyError:
            return refuse(request, 404, say("no-record", id=record_id))
        except (RecordError, CommandRefused) as err:
            return error(request, 400, "no letter", _in_lang(request, err.reasons))
        answer = {
            "case": in_lang(action.case, _lang(request)),
            "what_to_do": in_lang(action.record, _lang(request)),
            "contact": list(action.contact),
            "letter": action.letter,
        }
        return json_answer(request, 200, answer)


def _json_object(
    request: Request, needs: str, may: set[str], usage: str
) -> tuple[dict[str, Any] | None, bytes | None]:
    """A JSON object body with the text ``needs`` and, besides, only keys in ``may``; or the
    answer refusing it."""
    body, refusal = json_body(request)
    if refusal is not None:
        return None, refusal
    if not isinstance(body, dict) or not isinstance(body.get(needs), str):
        return None, refuse(request, 400, usage)
    unknown = sorted(set(body) - may - {needs})
    if unknown:
        # A misspelt "option" silently ignored would run the command without it.
        return None, refuse(request, 400, say("unknown-keys", keys=", ".join(unknown), usage=usage))
    return body, None


def _lang(request: Request) -> Lang:
    """The records network's staff read Japanese first; ``Accept-Language`` may ask for
    English."""
    header = request.getHeader(b"accept-language")
    return pick(None if header is None else header.decode("latin-1"), default="ja")


def refuse(request: Request, status: int, reason: str) -> bytes:
    """An error of the records API: ``error`` in English (for tools and logs), ``reasons`` in
    the language the staff asked for."""
    return error(request, status, str(reason), _in_lang(request, [reason]))


def _in_lang(request: Request, reasons: Iterable[str]) -> list[str]:
    lang = _lang(request)
    return [in_lang(reason, lang) for reason in reasons]


def _who(request: Request) -> str:
    """The operator who logged in, for the record's history and the log."""
    return (request.getUser() or b"").decode("utf-8", "replace") or "operator (bearer token)"


def _carry_out(
    request: Request, action: Callable[[], StoredLeg], ok: int, record_id: str | None = None
) -> bytes:
    """Run a record action and answer with the leg, or with why not. KeyError means an
    unknown record only for a command: from a POST it is a fault, and answers 500."""
    try:
        leg = action()
    except KeyError:
        if record_id is None:
            raise
        return refuse(request, 404, say("no-record", id=record_id))
    except CommandRefused as refused:
        return error(request, 409, "refused", _in_lang(request, refused.reasons))
    except RecordError as err:
        return error(request, 400, "bad record", _in_lang(request, err.reasons))
    except Conflict:
        # Another gateway process kept changing the same legs: worth trying again shortly.
        request.setHeader(b"retry-after", b"1")
        return refuse(request, 503, say("busy"))
    except ValueError as err:
        return refuse(request, 400, reason_of(err))
    return json_answer(request, ok, legjson_answer(leg))


# --- operations -------------------------------------------------------------------------------


class MetricsPage(Leaf[Backend]):
    def render_GET(self, request: Request) -> bytes:
        request.setHeader(b"content-type", b"text/plain; version=0.0.4; charset=utf-8")
        return self.backend.metrics.render(self.backend.stats()).encode("utf-8")


class Status(Leaf[Backend]):
    def render_GET(self, request: Request) -> bytes:
        stats = self.backend.stats()
        now = self.backend.metrics.clock()
        store = dataclasses.asdict(stats)
        store["oldest_pending_age"] = (
            None if stats.oldest_pending is None else round(now - stats.oldest_pending, 3)
        )
        return json_answer(
            request,
            200,
            {**self.backend.status(), "store": store, "metrics": self.backend.metrics.snapshot()},
        )


# --- who may see them -------------------------------------------------------------------------


def on_loopback(request: Request) -> bool:
    """Whether the request came in on a loopback listener (only this machine reaches it)."""
    host = getattr(request.getHost(), "host", "")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OperatorsOnly(resource.Resource):
    """The operations pages, status and the records API show every library's requests,
    readers' names and records: they answer an operator only. An operator is a program with
    a bearer token from the configuration (``operator_tokens``) or a person with an operator
    login (``isoill staff add NAME --operator``, :mod:`isoill.gateway.operators`) over HTTP
    Basic, which browsers ask for themselves. Library staff and readers, whose logins are for
    their own pages, are refused like anybody else. ``open_on_loopback`` (for ``/metrics``)
    lets a scraper on this machine in without a login, never one that reaches a non-loopback
    listener."""

    isLeaf = True

    def __init__(
        self,
        inner: Leaf[Backend],
        throttle: Throttle,
        tokens: Iterable[str],
        *,
        open_on_loopback: bool = False,
    ) -> None:
        super().__init__()
        self.inner = inner
        self.throttle = throttle
        self.tokens = tuple(t.encode("utf-8") for t in tokens)
        self.open_on_loopback = open_on_loopback

    def render(self, request: Request) -> bytes | int:
        if self.open_on_loopback and on_loopback(request):
            return self.inner.render(request)
        given = request.getHeader(b"authorization") or b""
        scheme, _, credential = given.partition(b" ")
        if scheme.lower() == b"bearer":
            token = credential.strip()
            # Every token compared in constant time, so timing tells nothing of any of them.
            matches = [hmac.compare_digest(token, known) for known in self.tokens]
            return self.inner.render(request) if any(matches) else self._unauthorized(request)
        username = (request.getUser() or b"").decode("utf-8", "replace")
        password = (request.getPassword() or b"").decode("utf-8", "replace")
        if not username:
            return self._unauthorized(request)
        store = self.inner.backend.store

        async def work() -> bytes:
            found = find_operator(store, username)
            key = (THROTTLE_SPACE, username.lower())
            try:
                who = await log_in(
                    self.throttle, key, found, password, self.inner.backend.seconds()
                )
            except LoginHeld:
                return error(request, 429, "too many failed logins: wait a quarter of an hour")
            if who is None:
                return self._unauthorized(request)
            body = self.inner.render(request)
            assert isinstance(body, bytes)  # every operations resource answers at once
            return body

        return answer_later(request, work)

    def _unauthorized(self, request: Request) -> bytes:
        request.setHeader(b"www-authenticate", b'Basic realm="isoill operators", charset="UTF-8"')
        return error(
            request, 401, "operators only: log in as an operator account or give a bearer token"
        )


# --- pages ----------------------------------------------------------------------------------

#: The pages show text from peers and libraries: even were some of it markup, nothing in them
#: may run or load (they have no script, unlike the libraries' pages).
_CSP = b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"


def _page(request: Request, title: str, body: Flattenable, status: int = 200) -> bytes:
    """An operations page in the gateway's one shell: English, headed by the gateway, with
    the operations' nav."""
    chrome = Chrome(
        lang="en",
        heading="isoill gateway",
        csp=_CSP,
        nav=(link("/", "transactions"), link("/status", "status"), link("/metrics", "metrics")),
    )
    return page(request, chrome, title, body, status=status)


def _when(at: datetime | float) -> str:
    """History times are datetimes, log times epoch seconds: both shown in local time."""
    moment = at if isinstance(at, datetime) else clock.local(at)
    return moment.isoformat(sep=" ", timespec="seconds")


def _link(leg: StoredLeg) -> Tag:
    return link(f"/transactions/{quote(leg.network, safe='')}/{quote(leg.key, safe='')}", leg.key)


def _last_change(txn: Transaction) -> str:
    return _when(txn.history[-1].at) if txn.history else ""


class Index(Leaf[Backend]):
    """``/``: the transactions, most recently changed first, searchable."""

    def render_GET(self, request: Request) -> bytes:
        query = (request.args or {}).get(b"q", [b""])[0].decode("utf-8", "replace")
        legs = self.backend.store.search(query, limit=PAGE_ROWS)
        stats = self.backend.stats()
        rows: list[list[Flattenable]] = [
            [
                leg.network,
                _link(leg),
                leg.peer,
                leg.transaction.role.value,
                leg.transaction.state.value,
                leg.record_id or "",
                _last_change(leg.transaction),
            ]
            for leg in legs
        ]
        form = tags.form(method="get", action="/")(
            tags.input(name="q", size="40", placeholder="transaction id or record ID", value=query),
            " ",
            tags.button("Search"),
        )
        summary = tags.p(
            f"{stats.legs} legs; {stats.outbox_pending} APDU(s) waiting in the outbox. "
            f"Showing {len(legs)}{' matching' if query else ''}, most recently changed first"
            f"{f' (at most {PAGE_ROWS})' if len(legs) == PAGE_ROWS else ''}."
        )
        head = ["network", "transaction id", "peer", "role", "state", "record ID", "last change"]
        return _page(request, "isoill gateway", [form, summary, table(head, rows)])


class TransactionPage(Leaf[Backend]):
    """``/transactions/<network>/<key>``: everything known about one leg.

    Routed by hand rather than by child resources: the key holds ``/``, written as is or as
    ``%2F``, and the segments after the network are joined again."""

    takes_path = True

    def render_GET(self, request: Request) -> bytes:
        path = segments(request)
        network, key = (path[0], "/".join(path[1:])) if len(path) >= 2 else ("", "")
        leg = self.backend.store.load(network, key) if key else None
        if leg is None:
            text = tags.p(f"No transaction {key} on network {network}.")
            return _page(request, "Not found", text, status=404)
        sections: list[Flattenable] = [
            _summary(leg),
            tags.h2("History"),
            _history(leg.transaction),
            tags.h2("Raw APDUs"),
            _raw_log(self.backend.store.log_for(leg.key)),
        ]
        if leg.record is not None:
            sections += [tags.h2("Record"), _record(leg.record)]
        return _page(request, f"Transaction {key}", sections)


def _summary(leg: StoredLeg) -> Tag:
    txn = leg.transaction
    facts: list[list[Flattenable]] = [
        ["network", leg.network],
        ["role", txn.role.value],
        ["state", txn.state.value],
        ["peer", leg.peer or "-"],
        ["relayed to network", leg.partner or "-"],
    ]
    request = txn.request
    if request is not None:
        for label, system in (("requester", txn.requester_id), ("responder", txn.responder_id)):
            if system is not None:
                facts.append([label, system.symbol or system.name or ""])
        item = request.item_id
        for label, text in (("title", item.title), ("author", item.author)):
            if text:
                facts.append([label, text])
    if leg.record_id is not None:
        href = f"/api/records/{quote(leg.record_id, safe='')}"
        facts.append(["record", link(href, leg.record_id)])
    return table(["", ""], facts)


def _history(txn: Transaction) -> Tag:
    rows = [
        [
            _when(e.at),
            e.direction.value,
            SERVICE_NAMES[e.apdu.apdu_type],
            f"{e.state_before.value} -> {e.state_after.value}",
            e.row or "",
        ]
        for e in txn.history
    ]
    return table(["time", "direction", "APDU", "state before -> after", "row"], rows)


def _raw_log(entries: Iterable[tuple[float, str, str, str, bytes]]) -> Tag:
    rows: list[list[Flattenable]] = [
        [
            _when(at),
            direction,
            peer,
            kind,
            str(len(data)),
            tags.code(f"{data[:32].hex(' ')}{' ...' if len(data) > 32 else ''}"),
        ]
        for at, direction, peer, kind, data in entries
    ]
    return table(["time", "direction", "peer", "APDU", "bytes", "first 32 bytes (hex)"], rows)


def _record(record: Record) -> list[Flattenable]:
    value = record.to_json()
    history = value.pop("HISTORY", [])
    rows: list[list[Flattenable]] = []
    for name, field in value.items():
        if isinstance(field, list):  # HOLDINGS, FEES: one row per group
            for n, group in enumerate(field, 1):
                rows.append([f"{name} {n}", ", ".join(f"{k}={v}" for k, v in group.items())])
        else:
            rows.append([name, str(field)])
    return [
        table(["field", "value"], rows),
        tags.h3("HISTORY"),
        tags.ol([tags.li(line) for line in history]),
    ]


# --- the site ---------------------------------------------------------------------------------


class _Directory(resource.Resource):
    """A level of the path with children only: anything else under it, or itself, is not
    found (Twisted's own default page is deprecated for not escaping)."""

    def getChild(self, path: bytes, request: Request) -> resource.IResource:
        return pages.notFound()

    def render(self, request: Request) -> bytes:
        body: bytes = pages.notFound().render(request)
        return body


def site(backend: Backend) -> server.Site:
    """The whole HTTP side, for ``endpoint.listen``."""
    throttle = Throttle()
    tokens = backend.config.operator_tokens

    def operators(inner: Leaf[Backend], open_on_loopback: bool = False) -> OperatorsOnly:
        return OperatorsOnly(inner, throttle, tokens, open_on_loopback=open_on_loopback)

    root = _Directory()
    root.putChild(b"", operators(Index(backend)))
    root.putChild(b"transactions", operators(TransactionPage(backend)))
    root.putChild(b"metrics", operators(MetricsPage(backend), open_on_loopback=True))
    root.putChild(b"status", operators(Status(backend)))
    api = _Directory()
    api.putChild(b"records", operators(Records(backend)))
    root.putChild(b"api", api)
    root.putChild(b"static", _Directory())
    # What each network kind adds (a library's pages, its API and their script), each
    # under its path; the directories on the way are made as needed.
    for kind in registered():
        for path, child in kind.resources(backend, throttle):
            parent: resource.Resource = root
            for segment in path[:-1]:
                below = parent.children.get(segment)
                if not isinstance(below, resource.Resource):
                    below = _Directory()
                    parent.putChild(segment, below)
                parent = below
            parent.putChild(path[-1], child)
    # Form bodies are never parsed into request.args: the API reads JSON, the pages read
    # their forms themselves, with a size limit and the CSRF check.
    return _Site(root, parsePOSTFormSubmission=False)
