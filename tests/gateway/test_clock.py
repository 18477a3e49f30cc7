"""The gateway takes its time from the reactor (:mod:`isoill.gateway.clock`), so a test's
clock drives what time decides: outbox retries with backoff, the leases of a process that
died, login throttling. Each test here runs on Twisted's memory reactor (a ``task.Clock``),
the outbox poll being the test's own ``deliver()`` once a simulated second, and would fail
on a gateway that read the wall clock (nothing would come due while the test runs).
"""

from __future__ import annotations

import itertools
import json
import re
import time
from datetime import datetime
from pathlib import Path

import pytest

import isoill
from isoill.gateway import clock
from isoill.gateway.config import Config
from isoill.gateway.logins import LOCKOUT_WINDOW, MAX_FAILURES
from isoill.gateway.store import Change, Lease, OutboxItem
from isoill.gateway.web import site
from tests.gateway.wiring import (
    GOOD_FORM,
    STAFF,
    WEB,
    add_staff,
    call,
    clocked,
    config,
    gateway_on,
    synchronous_threads,
)

#: An APDU for ``west-lib``, which never connects in these tests.
ITEM = OutboxItem("west-lib|k|ILL-REQUEST|1", "west-lib", "west", "ILL-REQUEST", "k", b"x")

#: What reads the wall clock instead of the reactor's (the guard below looks for these).
WALL_CLOCK = re.compile(r"\b(time\.time|datetime\.now|datetime\.utcnow|date\.today)\(")


def test_the_gateway_and_the_library_never_read_the_wall_clock() -> None:
    """A guard: one call to the wall clock in either package and a test's clock no longer
    drives what it decides (the command line, which has no reactor, may read it)."""
    root = Path(isoill.__file__).parent
    sources = [*(root / "gateway").rglob("*.py"), *(root / "library").rglob("*.py")]
    assert len(sources) > 20  # the packages were found
    found = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if WALL_CLOCK.search(line)
    ]
    assert found == []


def test_the_reactors_seconds_become_the_datetime_the_wall_clock_gave() -> None:
    """Naive local time, as ``datetime.now`` gives it: what the store and the pages hold."""
    before = datetime.now()
    converted = clock.local(time.time())
    assert converted.tzinfo is None
    assert before <= converted <= datetime.now()


def tried_at(path: Path, settings: Config, seconds: int, lease: Lease | None = None) -> list[int]:
    """:data:`ITEM` queued (leased to ``lease``'s owner when given), then the outbox polled
    once a second for ``seconds`` seconds, as the gateway's timer does: the seconds from the
    start at which the item was tried (its attempts grew; its peer never connects)."""
    with gateway_on(path, settings) as gateway:
        reactor = clocked(gateway)
        start = gateway.seconds()
        gateway.store.commit(Change(outbox=(ITEM,)), start, lease)
        tried: list[int] = []
        attempts = 0
        for _ in range(seconds + 1):
            gateway.deliver()
            (item,) = gateway.store.pending()
            if item.attempts > attempts:
                attempts = item.attempts
                tried.append(round(gateway.seconds() - start))
            reactor.advance(1)
        return tried


def test_an_item_for_an_unconnected_peer_is_retried_at_the_backoff_times(
    tmp_path: Path,
) -> None:
    settings = config(retry={"first": 2.0, "factor": 3.0})
    delays = [settings.retry.delay(n) for n in range(3)]
    assert delays == [2, 6, 18]
    # At once, then after each delay in turn: never before it.
    assert tried_at(tmp_path, settings, 30) == [0, *itertools.accumulate(delays)]


def test_an_item_leased_to_a_dead_process_goes_once_the_lease_has_run_out(
    tmp_path: Path,
) -> None:
    settings = config(retry={"lease": 10.0, "first": 100.0})
    dead = Lease("a gateway that died", settings.retry.lease)
    # Claimable only when the lease is over: the first poll after second 10.
    assert tried_at(tmp_path, settings, 20, dead) == [11]


def test_a_held_login_is_released_after_the_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synchronous_threads(monkeypatch)
    with gateway_on(tmp_path, config(WEB)) as gateway:
        reactor = clocked(gateway)
        add_staff(gateway)
        web = site(gateway)  # one site, one throttle
        body = json.dumps({"form": GOOD_FORM}).encode()

        def post(password: str) -> int:
            auth = (STAFF[0], password)
            return call(gateway, "/api/libraries/centre/requests", body, auth, web=web).status

        assert [post("wrong-password") for _ in range(MAX_FAILURES)] == [401] * MAX_FAILURES
        assert post(STAFF[1]) == 429
        reactor.advance(LOCKOUT_WINDOW - 1)
        assert post(STAFF[1]) == 429
        reactor.advance(1)
        assert post(STAFF[1]) == 201
