"""``/api/libraries/<library>/requests``: the library JSON API, for a member library's
system (or its staff's script, CALIS group mode). Mounted on the gateway's site by the
library kind (:mod:`isoill.library.kind`), and answered with the site's own JSON helpers
(:mod:`isoill.gateway.web`), so bodies are read and refused as everywhere else there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from twisted.logger import Logger
from twisted.web.server import Request

from isoill.gateway.logins import LoginHeld, Throttle, answer_later, log_in
from isoill.gateway.web import Leaf, error, json_answer, json_body, not_allowed, segments
from isoill.library.accounts import Account, AccountRole, may_log_in, sees
from isoill.library.desk import DeskRefused
from isoill.library.requests import STATE_LABELS, ReaderRequest
from isoill.library.service import LibraryService
from isoill.mapping.reader_form import FormError, read_form

log = Logger()

LIBRARY_ROLES = frozenset({AccountRole.READER, AccountRole.GROUP, AccountRole.STAFF})


class LibraryRequests(Leaf[LibraryService]):
    """``/api/libraries/<library>/requests``: a member library's system (or its staff's
    script, CALIS group mode) submits readers' requests as JSON and follows them.

    Every call authenticates with HTTP Basic as a confirmed account of that library: a
    reader's or a member library's group account sees and submits its own requests, a member
    of staff sees those of the readers it serves (and submits on behalf of readers who have
    no account, as the CALIS guide lets staff do). The answers hold readers' personal data,
    so there is no anonymous access; serve it over TLS beyond loopback.

    ``POST`` ``{"form": {field: text, ...}}`` with the reader form's fields (as the reader
    pages post them) answers 201 with the request; every problem with the form answers 400
    with each field's reason. ``GET .../requests/<n>`` is one request."""

    takes_path = True

    def __init__(self, backend: LibraryService, throttle: Throttle) -> None:
        super().__init__(backend)
        self.throttle = throttle

    def render(self, request: Request) -> bytes | int:
        path = segments(request)
        if len(path) < 2 or path[1] != "requests" or len(path) > 3:
            return error(request, 404, "no such resource")
        library = path[0]
        if library not in {n.name for n in self.backend.libraries()}:
            return error(request, 404, f"no library network {library}")
        one = len(path) == 3 and path[2] != ""
        allowed = [b"GET", b"HEAD"] if one else [b"GET", b"HEAD", b"POST"]
        if request.method not in allowed:
            return not_allowed(request, allowed)
        username = (request.getUser() or b"").decode("utf-8", "replace")
        password = (request.getPassword() or b"").decode("utf-8", "replace")
        if not username:
            return self._unauthorized(request)
        key = (library, username.lower())

        async def work() -> bytes:
            found = self.backend.account(library, username)
            try:
                account = await log_in(
                    self.throttle,
                    key,
                    found,
                    password,
                    self.backend.seconds(),
                    may_log_in(LIBRARY_ROLES),
                )
            except LoginHeld:
                return error(request, 429, "too many failed logins: wait a quarter of an hour")
            if account is None:
                return self._unauthorized(request)
            try:
                return self._answer(request, account, path)
            except Exception:
                log.failure("library API: {method} {uri}", method=request.method, uri=request.uri)
                self.backend.metrics.error("http_internal")
                return error(request, 500, "internal error; the gateway's log says more")

        return answer_later(request, work)

    def _unauthorized(self, request: Request) -> bytes:
        request.setHeader(b"www-authenticate", b'Basic realm="isoill", charset="UTF-8"')
        return error(request, 401, "log in with HTTP Basic as an account of this library")

    def _answer(self, request: Request, account: Account, path: list[str]) -> bytes:
        library = account.library
        if request.method == b"POST":
            return self._submit(request, account)
        owners = {a.username: a for a in self.backend.accounts(library)} if account.staff else {}

        def visible(found: ReaderRequest) -> bool:
            if account.staff:
                return sees(account, owners.get(found.reader))
            return found.reader == account.username

        if len(path) == 2 or path[2] == "":
            found = [r for r in self.backend.library_requests(library) if visible(r)]
            return json_answer(request, 200, [requestjson_answer(r) for r in found])
        try:
            one = self.backend.library_request(library, int(path[2]))
        except (KeyError, ValueError):
            one = None
        if one is None or not visible(one):
            return error(request, 404, f"no request {path[2]} in {library}")
        return json_answer(request, 200, requestjson_answer(one))

    def _submit(self, request: Request, account: Account) -> bytes:
        body, refusal = json_body(request)
        if refusal is not None:
            return refusal
        usage = 'give {"form": {"title": "...", ...}}'
        if (
            not isinstance(body, dict)
            or set(body) != {"form"}
            or not isinstance(body["form"], dict)
        ):
            return error(request, 400, usage)
        fields = {str(k): "" if v is None else str(v) for k, v in body["form"].items()}
        try:
            form = read_form(fields, today=self.backend.now().date())
        except FormError as err:
            return error(request, 400, "bad form", list(err.reasons))
        try:
            submitted = self.backend.submit(account.library, account.username, form)
        except DeskRefused as refused:
            return error(request, 409, "refused", list(refused.reasons))
        where = f"/api/libraries/{quote(account.library, safe='')}/requests/{submitted.number}"
        request.setHeader(b"location", where.encode())
        return json_answer(request, 201, requestjson_answer(submitted))


def requestjson_answer(value: ReaderRequest) -> dict[str, Any]:
    """A reader's request as the API answers it: as stored, with the state in words."""
    out = value.to_json()
    out["state_label"] = list(STATE_LABELS[value.state])
    return out
