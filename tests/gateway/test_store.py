"""The durable store, SQLite and PostgreSQL alike: atomic steps, versions, outbox dedup and
leases, and everything still there after reopening."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

import isoill
from isoill.gateway.pgstore import PostgresStore
from isoill.gateway.store import (
    Change,
    Conflict,
    LogEntry,
    OutboxItem,
    Stats,
    Store,
    StoredLeg,
    StoreError,
    open_store,
)
from isoill.machine import Role, Transaction, machine
from isoill.mapping.record import Record
from tests.machine.support import request
from tests.mapping.support import GIF


def _leg(key: str = "NACSIS:FA001234/GIF/T1", record: Record | None = None) -> StoredLeg:
    ask = request()
    txn = machine.receive(Transaction(Role.RESPONDER, ask.transaction_id), ask).transaction
    return StoredLeg("east", key, "east-lib", "west", txn, record)


def _item(
    dedup: str = "west-lib|k|ILL-REQUEST|1", data: bytes = b"\x61\x03\x30\x01\x00"
) -> OutboxItem:
    return OutboxItem(dedup, "west-lib", "west", "ILL-REQUEST", "k", data)


def _entry() -> LogEntry:
    return LogEntry("in", "east-lib", "east", "ILL-REQUEST", "k", isoill.encode(request()))


def test_a_step_is_written_whole_and_read_back(store: Store) -> None:
    leg = _leg()
    queued = store.commit(Change((leg,), (_entry(),), (_item(),)), time.time())
    assert len(queued) == 1 and queued[0].id > 0
    loaded = store.load("east", leg.key)
    assert loaded == replace(leg, version=1)
    assert [row[1] for row in store.log_for("k")] == ["in"]
    assert store.stats().outbox_pending == 1


def test_a_stale_leg_conflicts_and_nothing_of_its_step_is_written(store: Store) -> None:
    store.commit(Change((_leg(),)), time.time())
    with pytest.raises(Conflict):  # a new leg that exists already
        store.commit(Change((_leg(),), (_entry(),), (_item(),)), time.time())
    loaded = store.load("east", _leg().key)
    assert loaded is not None
    store.commit(Change((loaded,)), time.time())  # version 1 -> 2
    with pytest.raises(Conflict):  # written from version 1 again
        store.commit(Change((loaded,), (_entry(),), (_item(),)), time.time())
    stats = store.stats()
    assert stats.outbox_pending == 0 and stats.apdus_logged == 0
    assert store.load("east", _leg().key).version == 2  # type: ignore[union-attr]


def test_the_same_transition_is_queued_once(store: Store) -> None:
    assert len(store.commit(Change(outbox=(_item(),)), time.time())) == 1
    assert store.commit(Change(outbox=(_item(),)), time.time()) == []
    assert len(store.pending()) == 1


def test_leases_retries_and_delivery(store: Store) -> None:
    now = time.time()
    store.commit(Change(outbox=(_item(), _item("other"))), now)
    first = store.claim_due(now, "one", lease=30)
    assert len(first) == 2
    assert store.claim_due(now + 1, "two", lease=30) == []  # leased
    assert len(store.claim_due(now + 31, "two", lease=30)) == 2  # the lease ran out
    store.failed(first[0], now + 100, "peer not connected")
    assert [i.dedup for i in store.claim_due(now + 62, "one", 30)] == ["other"]
    store.release("one")
    store.wake("west-lib", now)
    due = store.claim_due(now + 1, "three", 30)
    assert len(due) == 2 and {i.attempts for i in due} == {0, 1}
    store.delivered(due, now + 2)
    stats = store.stats()
    assert stats.outbox_pending == 0 and stats.outbox_delivered == 2
    assert stats.apdus_logged == 2 and stats.oldest_pending is None
    assert store.pending() == []
    assert [row[1] for row in store.log_for("k")] == ["out", "out"]
    assert store.claim_due(now + 1000, "four", 30) == []  # delivered is done


def test_failed_delivery_waits_for_its_next_try(store: Store) -> None:
    now = time.time()
    (item,) = store.commit(Change(outbox=(_item(),)), now)
    (claimed,) = store.claim_due(now, "one", lease=30)
    store.failed(claimed, now + 100, "peer not connected")
    assert store.claim_due(now + 99, "two", 30) == []
    (again,) = store.claim_due(now + 100, "two", 30)
    assert again.id == item.id and again.attempts == 1 and again.data == item.data
    assert [i.id for i in store.pending()] == [item.id]


def test_claims_for_one_peer_and_stats_by_state(store: Store) -> None:
    now = time.time()
    other = OutboxItem("east|k|ILL-REQUEST|1", "east-lib", "east", "ILL-REQUEST", "k", b"x")
    store.commit(Change((_leg("A"), _leg("B")), (_entry(),), (_item(), other)), now)
    assert [i.peer for i in store.claim_due(now, "one", 30, peer="east-lib")] == ["east-lib"]
    stats = store.stats()
    state = _leg().transaction.state.value
    assert stats.by_state == {state: 2} and stats.legs == 2
    assert stats.outbox_pending == 2 and stats.apdus_logged == 1
    assert stats.oldest_pending == pytest.approx(now)


def test_search_records_and_reopening(store: Store, location: str) -> None:
    record = Record.from_json({**GIF, "ID": "ILL0001"})
    now = time.time()
    store.commit(Change((_leg("A/1/x", record),)), now)
    other = _leg("B/2/y")
    store.commit(Change((other,), (_entry(),), (_item(),)), now + 1)
    assert [leg.key for leg in store.search("1/")] == ["A/1/x"]
    assert [leg.key for leg in store.search("ILL00")] == ["A/1/x"]
    assert [leg.key for leg in store.search("ill00")] == ["A/1/x"]  # case alike on both
    assert [leg.key for leg in store.search("b/2")] == ["B/2/y"]
    assert store.search("A_1") == [] and store.search("%") == []  # no wildcards
    assert [leg.key for leg in store.search()] == ["B/2/y", "A/1/x"]  # newest first
    assert len(store.search(limit=1)) == 1
    found = store.find_record("ILL0001")
    assert found is not None and found.record == record
    store.close()
    again = open_store(location)
    try:
        assert again.find_record("ILL0001") == found
        assert again.find_record("ILL0002") is None
        assert again.load("east", "B/2/y") == replace(other, version=1)
        assert again.stats().legs == 2
        assert [i.dedup for i in again.pending()] == [_item().dedup]
        assert [row[1] for row in again.log_for("k")] == ["in"]
        assert again.commit(Change(outbox=(_item(),)), now) == []  # dedup survives too
    finally:
        again.close()


def test_an_unknown_store_kind_is_refused() -> None:
    with pytest.raises(StoreError, match="postgresql://"):
        open_store("mysql://somewhere/db")


def test_postgresql_store_errors_are_store_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(StoreError, match="cannot connect to the PostgreSQL store"):
        open_store("postgresql://postgres@127.0.0.1:1/nothing")
    monkeypatch.setitem(sys.modules, "psycopg", None)  # not installed
    with pytest.raises(StoreError, match=r"isoill\[postgres\]"):
        open_store("postgresql://postgres@127.0.0.1:1/nothing")


@pytest.mark.postgres
def test_postgresql_processes_never_share_an_outbox_item_or_a_leg(postgres_url: str) -> None:
    stores = [open_store(postgres_url) for _ in range(4)]
    try:
        now = time.time()
        stores[0].commit(Change(outbox=tuple(_item(f"d{n}") for n in range(200))), now)
        claimed: list[list[OutboxItem]] = [[] for _ in stores]

        def claim(n: int) -> None:
            while batch := stores[n].claim_due(now, f"p{n}", 60, limit=7):
                claimed[n].extend(batch)

        threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ids = [item.id for batch in claimed for item in batch]
        assert len(ids) == 200 == len(set(ids))

        # All insert the same new leg at once, then all update it from the same version.
        for leg in (_leg(), replace(_leg(), version=1)):
            item = _item(f"{leg.key}|{leg.version}")
            outcomes = _at_once(
                [_committing(s, Change((leg,), (_entry(),), (item,))) for s in stores]
            )
            assert sorted(outcomes) == ["conflict"] * 3 + ["won"]
        assert stores[1].load("east", _leg().key).version == 2  # type: ignore[union-attr]
        assert stores[2].stats().apdus_logged == 2  # one step of each round
        key = _leg().key
        assert [i.dedup for i in stores[3].pending() if i.dedup.startswith(key)] == [
            f"{key}|0",
            f"{key}|1",
        ]
    finally:
        for s in stores:
            s.close()


def _committing(store: Store, change: Change) -> Callable[[], object]:
    return lambda: store.commit(change, time.time())


def _at_once(steps: list[Callable[[], object]]) -> list[str]:
    """Run the steps in threads released together: "won" or "conflict" for each."""
    start = threading.Barrier(len(steps))
    outcomes: list[str] = []

    def run(step: Callable[[], object]) -> None:
        start.wait()
        try:
            step()
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.postgres
def test_postgresql_processes_starting_at_once_create_the_schema_once(
    postgres_url: str,
) -> None:
    opened: list[Store] = []
    failed: list[BaseException] = []
    start = threading.Barrier(8)

    def open_one() -> None:
        start.wait()
        try:
            opened.append(PostgresStore(postgres_url))
        except BaseException as err:
            failed.append(err)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failed == [] and len(opened) == 8
        opened[0].commit(Change((_leg(),)), time.time())
        assert opened[7].load("east", _leg().key) is not None
    finally:
        for s in opened:
            s.close()


@pytest.mark.postgres
def test_postgresql_store_connects_again_after_losing_the_server(postgres_url: str) -> None:
    import psycopg

    store = open_store(postgres_url)
    try:
        store.commit(Change((_leg(),)), time.time())
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        with pytest.raises(psycopg.OperationalError):
            store.load("east", _leg().key)  # the step that finds the connection gone fails
        assert store.load("east", _leg().key) is not None  # the next one connects again
    finally:
        store.close()


def _counted(store: Store) -> Stats:
    """What the tables hold, counted row by row (what the tallies must agree with)."""
    with store.transaction() as cur:
        cur.execute("SELECT state, COUNT(*) FROM legs GROUP BY state")
        by_state = {row[0]: int(row[1]) for row in cur.fetchall()}
        cur.execute("SELECT COUNT(*), MIN(created) FROM outbox WHERE sent IS NULL")
        pending, oldest = cur.fetchone()
        cur.execute("SELECT COUNT(*) FROM outbox WHERE sent IS NOT NULL")
        (delivered,) = cur.fetchone()
        cur.execute("SELECT COUNT(*) FROM apdu_log")
        (logged,) = cur.fetchone()
    return Stats(sum(by_state.values()), pending, delivered, logged, oldest, by_state)


def test_stats_agree_with_the_tables_through_every_kind_of_write(
    store: Store, location: str
) -> None:
    now = time.time()
    store.commit(Change((_leg("A"), _leg("B")), (_entry(),), (_item(), _item("other"))), now)
    loaded = store.load("east", "A")
    assert loaded is not None
    ask = machine.receive(Transaction(Role.REQUESTER, request().transaction_id), request())
    moved = replace(loaded, transaction=replace(loaded.transaction, state=ask.transaction.state))
    assert moved.transaction.state != loaded.transaction.state
    store.commit(Change((moved,), (_entry(),)), now)  # a state changes: one leg moves
    stale = store.load("east", "B")
    assert stale is not None
    store.commit(Change((stale,)), now)
    # The log refuses it (a NULL), after the leg before it is written.
    unloggable = replace(_entry(), data=None)  # type: ignore[arg-type]
    results = store.commit_many(
        [
            lambda load: _Step(Change(log=(_entry(),), outbox=(_item("third"),))),
            lambda load: _Step(Change((_leg("C"),), (unloggable,))),
            lambda load: _Step(Change((_leg("D"), stale), (_entry(),))),  # conflicts each time
        ],
        now,
    )
    assert isinstance(results[1], Exception) and isinstance(results[2], Conflict)
    assert store.load("east", "C") is None and store.load("east", "D") is None
    store.delivered(store.claim_due(now, "one", 30, limit=2), now + 1)
    store.log([_entry()], now + 2)
    assert store.stats() == _counted(store)
    assert store.prune_log(now + 3, max_age=2.5, max_bytes=0) > 0
    assert store.stats() == _counted(store)
    # A store written before there were tallies counts its tables once, when opened.
    with store.transaction() as cur:
        cur.execute("DROP TABLE tallies")
    store.close()
    again = open_store(location)
    try:
        assert again.stats() == _counted(again) and again.stats().legs == 2
    finally:
        again.close()


class _Step:
    def __init__(self, change: Change) -> None:
        self.change = change
