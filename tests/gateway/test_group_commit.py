"""Group commit: many steps decided and written in one database transaction, each under
its own savepoint, SQLite and PostgreSQL alike; and the storage thread that batches what
arrives while a commit is in flight."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from twisted.internet import defer, task
from twisted.python.failure import Failure

from isoill.gateway.committer import LINGER, GroupCommit
from isoill.gateway.store import (
    Change,
    Committed,
    Conflict,
    Lease,
    Loader,
    LogEntry,
    OutboxItem,
    SQLiteStore,
    Store,
    StoredLeg,
    open_store,
)
from isoill.machine import Role, Transaction, machine
from tests.machine.support import request


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    where = (
        str(tmp_path / "store.db")
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    opened = open_store(where)
    yield opened
    opened.close()


@dataclass(frozen=True)
class Step:
    change: Change
    saw: StoredLeg | None = None


def _leg(key: str) -> StoredLeg:
    ask = request()
    txn = machine.receive(Transaction(Role.RESPONDER, ask.transaction_id), ask).transaction
    return StoredLeg("east", key, "east-lib", "west", txn)


def _item(dedup: str) -> OutboxItem:
    return OutboxItem(dedup, "west-lib", "west", "ILL-REQUEST", "k", b"\x61\x03\x30\x01\x00")


def _new(key: str, dedup: str) -> Callable[[Loader], Step]:
    return lambda load: Step(Change(legs=(_leg(key),), outbox=(_item(dedup),)))


def _touch(key: str) -> Callable[[Loader], Step]:
    """Read the leg and write it back: sees what earlier steps of the batch wrote."""

    def decide(load: Loader) -> Step:
        leg = load("east", key)
        assert leg is not None
        return Step(Change(legs=(leg,)), leg)

    return decide


#: Legs read ahead for a group commit (``legs=``): every test of what steps see holds with
#: them as without.
AHEAD = pytest.mark.parametrize(
    "ahead", [(), (("east", "A"), ("west", "A"), ("east", "B"))], ids=["one by one", "ahead"]
)


@AHEAD
def test_steps_see_what_the_steps_before_them_wrote(
    store: Store, ahead: tuple[tuple[str, str], ...]
) -> None:
    results = store.commit_many([_new("A", "a"), _touch("A"), _touch("A")], time.time(), legs=ahead)
    assert all(isinstance(r, Committed) for r in results)
    seen = [r.decided.saw for r in results if isinstance(r, Committed)]
    assert seen[0] is None and [s.version for s in seen[1:] if s] == [1, 2]
    assert store.load("east", "A").version == 3  # type: ignore[union-attr]


@AHEAD
def test_a_step_sees_the_history_rows_an_earlier_step_of_its_group_appended(
    store: Store, ahead: tuple[tuple[str, str], ...]
) -> None:
    """History and log rows go in at the end of a group commit, one statement for all its
    steps; a step loading a leg that an earlier one wrote gets them written first."""
    entry = LogEntry("in", "east-lib", "east", "ILL-REQUEST", "A", b"x")

    def touch_and_log(load: Loader) -> Step:
        leg = load("east", "A")
        assert leg is not None
        return Step(Change(legs=(leg,), log=(entry,)), leg)

    results = store.commit_many(
        [_new("A", "a"), touch_and_log, touch_and_log], time.time(), legs=ahead
    )
    seen = [r.decided.saw for r in results if isinstance(r, Committed)]
    assert [len(s.transaction.history) for s in seen if s] == [1, 1]
    assert len(store.log_for("A")) == 2 and store.stats().apdus_logged == 2


@AHEAD
def test_a_failing_step_is_rolled_back_alone(
    store: Store, ahead: tuple[tuple[str, str], ...]
) -> None:
    def broken(load: Loader) -> Step:
        load("east", "A")
        raise RuntimeError("a bug in a mapping")

    stale = _leg("B")  # version 0: "new", but B will exist by then -> Conflict every time
    results = store.commit_many(
        [_new("A", "a"), broken, _new("B", "b"), lambda load: Step(Change(legs=(stale,)))],
        time.time(),
        retries=2,
        legs=ahead,
    )
    assert isinstance(results[0], Committed) and isinstance(results[2], Committed)
    assert isinstance(results[1], RuntimeError)
    assert isinstance(results[3], Conflict)
    assert store.load("east", "A") is not None and store.load("east", "B") is not None
    assert {i.dedup for i in store.pending()} == {"a", "b"}


def test_a_conflict_is_decided_again_from_the_fresh_leg(store: Store) -> None:
    store.commit(Change(legs=(_leg("A"),)), time.time())
    loaded = store.load("east", "A")
    assert loaded is not None
    calls: list[int] = []

    def decide(load: Loader) -> Step:
        calls.append(1)
        # The first time, a stale copy (another process wrote A meanwhile); then the fresh one.
        leg = replace(loaded, version=0) if len(calls) == 1 else load("east", "A")
        assert leg is not None
        return Step(Change(legs=(leg,)))

    (result,) = store.commit_many([decide], time.time())
    assert isinstance(result, Committed) and result.conflicts == 1 and len(calls) == 2


def test_legs_read_ahead_cost_one_query_for_the_group(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The legs a group commit is told its steps will load are read with one query: a step
    loading one of them (stored or not) reads nothing more, and gets what it would have
    read alone."""
    store.commit(Change(legs=(_leg("A"), _leg("B"))), time.time())
    alone = {key: store.load("east", key) for key in "AB"}
    one_by_one: list[tuple[str, str]] = []
    load_one = store._load

    def counted(cur: Any, network: str, key: str) -> StoredLeg | None:
        one_by_one.append((network, key))
        return load_one(cur, network, key)

    monkeypatch.setattr(store, "_load", counted)

    def look(key: str, network: str = "east") -> Callable[[Loader], Step]:
        return lambda load: Step(Change(), load(network, key))

    ahead = [("east", "A"), ("east", "B"), ("west", "A")]
    results = store.commit_many(
        [look("A"), look("B"), look("A", "west"), look("C")], time.time(), legs=ahead
    )
    seen = [r.decided.saw for r in results if isinstance(r, Committed)]
    assert seen == [alone["A"], alone["B"], None, None]
    assert one_by_one == [("east", "C")]  # not read ahead: read on its own


@pytest.mark.postgres
def test_a_leg_read_ahead_and_changed_by_another_process_conflicts_and_is_read_again(
    postgres_url: str,
) -> None:
    """Read ahead at the start of the group commit, a leg may be changed by another process
    before the step writes it: the version check refuses the stale write, and the step is
    decided again from the leg as it is now."""
    mine, theirs = open_store(postgres_url), open_store(postgres_url)
    try:
        mine.commit(Change(legs=(_leg("A"),)), time.time())
        seen: list[int] = []

        def decide(load: Loader) -> Step:
            leg = load("east", "A")
            assert leg is not None
            seen.append(leg.version)
            if len(seen) == 1:  # meanwhile, another process steps A on
                other = theirs.load("east", "A")
                assert other is not None
                theirs.commit(Change(legs=(other,)), time.time())
            return Step(Change(legs=(leg,)), leg)

        (result,) = mine.commit_many([decide], time.time(), legs=[("east", "A")])
        assert isinstance(result, Committed) and result.conflicts == 1
        assert seen == [1, 2] and mine.load("east", "A").version == 3  # type: ignore[union-attr]
    finally:
        mine.close()
        theirs.close()


def test_queued_items_are_leased_to_the_committer(store: Store) -> None:
    now = time.time()
    (result,) = store.commit_many([_new("A", "a")], now, Lease("me", 60))
    assert isinstance(result, Committed) and [i.dedup for i in result.queued] == ["a"]
    assert store.claim_due(now + 1, "another process", 60) == []  # it is ours to deliver
    store.commit(Change(delivered=tuple(result.queued)), now + 2)
    assert store.pending() == [] and store.stats().outbox_delivered == 1


# --- the storage thread ------------------------------------------------------------------


class ThreadReactor:
    """Just what deferToThreadPool needs of a reactor: results come back through a queue
    that the test drains on its own thread, as the reactor thread would."""

    def __init__(self) -> None:
        self.calls: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.Queue()

    def callFromThread(self, f: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.calls.put((lambda: f(*args, **kwargs), ()))

    def seconds(self) -> float:
        return time.time()

    def drain_until(self, done: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            f, _ = self.calls.get(timeout=max(0.01, deadline - time.monotonic()))
            f()


class SlowStore(SQLiteStore):
    """Each group commit holds the storage thread until the test lets it go."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.batches: list[int] = []

    def commit_many(self, decisions: Any, *args: Any, **kwargs: Any) -> Any:
        self.batches.append(len(decisions))
        self.gate.wait(20)
        return super().commit_many(decisions, *args, **kwargs)


def test_steps_arriving_during_a_commit_share_the_next_one(tmp_path: Path) -> None:
    store = SlowStore(tmp_path / "store.db")
    reactor = ThreadReactor()
    committer = GroupCommit(store, reactor, Lease("me", 60))
    committer.start()
    try:
        results: list[Committed[Step] | Failure] = []

        def keep(value: Committed[Step] | Failure) -> None:
            results.append(value)

        first = committer.submit(_new("K0", "k0"))
        first.addBoth(keep)
        # While the first commit is held, 49 more steps arrive: one more commit takes them.
        later: list[defer.Deferred[Committed[Step]]] = []
        for n in range(1, 50):
            waiting = committer.submit(_new(f"K{n}", f"k{n}"))
            waiting.addBoth(keep)
            later.append(waiting)
        assert committer.waiting == 49 and not results
        store.gate.set()
        reactor.drain_until(lambda: len(results) == 50)
    finally:
        committer.stop()
        store.close()
    assert store.batches == [1, 49]
    assert all(isinstance(r, Committed) for r in results)
    # answered in the order they were submitted
    assert [r.queued[0].dedup for r in results if isinstance(r, Committed)] == [
        f"k{n}" for n in range(50)
    ]


def test_a_failing_step_fails_alone_on_the_storage_thread(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "store.db")
    reactor = ThreadReactor()
    committer = GroupCommit(store, reactor, Lease("me", 60))
    committer.start()
    outcomes: list[object] = []
    try:

        def broken(load: Loader) -> Step:
            raise ValueError("cannot encode")

        for decide in (_new("A", "a"), broken, _new("B", "b")):
            committer.submit(decide).addBoth(outcomes.append)
        reactor.drain_until(lambda: len(outcomes) == 3)
    finally:
        committer.stop()
        store.close()
    assert isinstance(outcomes[0], Committed) and isinstance(outcomes[2], Committed)
    assert isinstance(outcomes[1], Failure) and outcomes[1].check(ValueError)


class ClockedThreadReactor(ThreadReactor):
    """A :class:`ThreadReactor` whose delayed calls run on a test's clock."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = task.Clock()

    def callLater(self, delay: float, f: Callable[..., Any], *args: Any) -> Any:
        return self.clock.callLater(delay, f, *args)


@contextmanager
def committing(store: SlowStore, reactor: ClockedThreadReactor) -> Iterator[GroupCommit]:
    """A started group commit on ``store``: stopped, and the store closed, at the end."""
    committer = GroupCommit(store, reactor, Lease("me", 60))
    committer.start()
    try:
        yield committer
    finally:
        committer.stop()
        store.close()


def test_a_step_nobody_waits_for_rides_along_with_the_next_one(tmp_path: Path) -> None:
    store = SlowStore(tmp_path / "store.db")
    store.gate.set()
    reactor = ClockedThreadReactor()
    outcomes: list[object] = []
    with committing(store, reactor) as committer:
        committer.later(_new("L", "l")).addBoth(outcomes.append)
        assert committer.waiting == 1  # no commit of its own
        committer.submit(_new("U", "u")).addBoth(outcomes.append)
        reactor.drain_until(lambda: len(outcomes) == 2)
        assert store.batches == [2]
        # Alone, it waits LINGER seconds for company, then goes by itself.
        committer.later(_new("M", "m")).addBoth(outcomes.append)
        reactor.clock.advance(LINGER * 0.9)
        assert committer.waiting == 1
        reactor.clock.advance(LINGER * 0.1)
        reactor.drain_until(lambda: len(outcomes) == 3)
    assert store.batches == [2, 1]
    assert all(isinstance(o, Committed) for o in outcomes)


def test_a_clean_stop_commits_what_lingers(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "store.db")
    committer = GroupCommit(store, ClockedThreadReactor(), Lease("me", 60))
    committer.start()
    outcomes: list[object] = []
    committer.later(_new("L", "l")).addBoth(outcomes.append)
    committer.stop()
    try:
        assert [i.dedup for i in store.pending()] == ["l"]
    finally:
        store.close()
    assert len(outcomes) == 1 and isinstance(outcomes[0], Committed)
