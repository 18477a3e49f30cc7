"""The durable store, SQLite and PostgreSQL alike: atomic steps, versions, outbox dedup and
leases, and everything still there after reopening."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import isoill
from isoill.gateway.store import (
    Change,
    Conflict,
    LogEntry,
    OutboxItem,
    Store,
    StoredLeg,
    StoreError,
    open_store,
)
from isoill.machine import Role, Transaction, machine
from isoill.mapping.record import Record
from tests.machine_support import request
from tests.mapping_support import GIF


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(location: str) -> Iterator[Store]:
    opened = open_store(location)
    yield opened
    opened.close()


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
    assert loaded is not None and loaded.version == 1
    assert loaded.transaction == leg.transaction
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
    assert [row[1] for row in store.log_for("k")] == ["out", "out"]


def test_search_records_and_reopening(store: Store, location: str) -> None:
    record = Record.from_json({**GIF, "ID": "ILL0001"})
    store.commit(Change((_leg("A/1/x", record), _leg("B/2/y"))), time.time())
    assert [leg.key for leg in store.search("1/")] == ["A/1/x"]
    assert [leg.key for leg in store.search("ILL00")] == ["A/1/x"]
    assert len(store.search()) == 2
    found = store.find_record("ILL0001")
    assert found is not None and found.record == record
    store.close()
    again = open_store(location)
    try:
        assert again.find_record("ILL0001") == found
        assert again.stats().legs == 2
    finally:
        again.close()


def test_an_unknown_store_kind_is_refused() -> None:
    with pytest.raises(StoreError, match="postgresql://"):
        open_store("mysql://somewhere/db")


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

        stores[0].commit(Change((_leg(),)), now)
        loaded = [s.load("east", _leg().key) for s in stores[:2]]
        outcomes = []
        for s, leg in zip(stores[:2], loaded, strict=True):
            assert leg is not None
            try:
                s.commit(Change((leg,)), now)
                outcomes.append("won")
            except Conflict:
                outcomes.append("conflict")
        assert sorted(outcomes) == ["conflict", "won"]
    finally:
        for s in stores:
            s.close()
