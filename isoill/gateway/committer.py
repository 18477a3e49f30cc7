"""Group commit on one storage thread: the store is never touched from the reactor thread
on the APDU path, and many steps share one fsync.

Every step an association asks for is queued; while a commit is in flight, the steps that
arrive wait, and all of them go into the next single database transaction
(:meth:`~isoill.gateway.store.Store.commit_many`), each decided inside it against what the
ones before it wrote. A sender is answered only when the commit that holds its step has
returned, so nothing acknowledged is ever lost; under load the batches grow by themselves
and the cost of an fsync is shared, while a lone step is committed at once.

What nobody waits for (a delivered mark, the log entry of an APDU answered at once) is
:meth:`GroupCommit.later`: it does not start a commit of its own but rides along with the
next step's, or, when none comes within :data:`LINGER` seconds, is committed alone. One
association sending request after request otherwise paid two commits, two fsyncs, per APDU:
its step's, then the delivered mark of what that step queued, which the next step had to
wait for. A mark lost in a crash only means the item is sent again (the far side's protocol
machine takes the repeat for what it is); a clean stop commits what still lingers.

The thread is Twisted's own ``ThreadPool`` with one thread, reached through
``deferToThreadPool``: the other store calls of the delivery path (claims, retries, stats)
go through the same thread with :meth:`GroupCommit.run`, so they never wait for a commit on
the reactor thread either.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Generic, TypeVar

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from isoill.gateway.store import Committed, Decided, Lease, Loader, Store

T = TypeVar("T")

#: How long a step nobody waits for may wait for a step to ride along with.
LINGER = 0.1


class _Waiting(Generic[Decided]):
    __slots__ = ("decide", "done", "legs", "urgent")

    def __init__(
        self,
        decide: Callable[[Loader], Decided],
        urgent: bool,
        legs: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.decide = decide
        self.urgent = urgent
        self.legs = legs
        self.done: defer.Deferred[Committed[Decided]] = defer.Deferred()


class GroupCommit:
    """Steps in, committed steps out (as Deferreds), in the order they were submitted."""

    def __init__(
        self,
        store: Store,
        reactor: Any,
        lease: Lease,
        *,
        threaded: bool = True,
        on_batch: Callable[[int], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.reactor = reactor
        self.lease = lease
        #: Without threads (a test's memory reactor), each call runs at once, in order.
        self.threaded = threaded
        self.on_batch = on_batch
        self.clock = clock
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="isoill-store")
        self._pending: list[_Waiting[Any]] = []
        self._in_flight = False
        #: The timer that commits lingering steps when no urgent one comes.
        self._linger: IDelayedCall | None = None

    def start(self) -> None:
        if self.threaded:
            self.pool.start()

    def stop(self) -> None:
        """Finish the commit in flight, then commit what is still queued (lingering steps),
        here: the reactor is stopping and will not start another."""
        if self._linger is not None and self._linger.active():
            self._linger.cancel()
        self._linger = None
        if self.threaded:
            self.pool.stop()
        if self._pending:
            batch, self._pending = self._pending, []
            try:
                results = self.store.commit_many(
                    [w.decide for w in batch], self.clock(), self.lease, legs=_legs(batch)
                )
            except Exception:
                _fail(batch, Failure())
            else:
                _answer(batch, results)

    def submit(
        self, decide: Callable[[Loader], Decided], legs: Sequence[tuple[str, str]] = ()
    ) -> defer.Deferred[Committed[Decided]]:
        """Decide and commit one step in the next group commit. Fires with what was
        committed, or fails with the step's own error (the other steps of its batch are
        committed all the same). ``legs`` (network, key) are those the step is expected to
        load: the group commit reads them all with one query."""
        return self._queue(_Waiting(decide, urgent=True, legs=legs))

    def later(self, decide: Callable[[Loader], Decided]) -> defer.Deferred[Committed[Decided]]:
        """As :meth:`submit`, for a step nobody waits for: committed with the next urgent
        step, or alone after :data:`LINGER` seconds (at once without threads, where a test's
        clock would otherwise have to move for it)."""
        return self._queue(_Waiting(decide, urgent=not self.threaded))

    def _queue(self, waiting: _Waiting[Decided]) -> defer.Deferred[Committed[Decided]]:
        self._pending.append(waiting)
        self._next()
        return waiting.done

    def run(self, call: Callable[..., T], *args: Any) -> defer.Deferred[T]:
        """Any other store call, on the storage thread."""
        if not self.threaded:
            return defer.maybeDeferred(call, *args)
        result: defer.Deferred[T] = deferToThreadPool(self.reactor, self.pool, call, *args)
        return result

    @property
    def waiting(self) -> int:
        """Steps queued for the next commit."""
        return len(self._pending)

    def _next(self, lingered: bool = False) -> None:
        if self._in_flight or not self._pending:
            return
        if not lingered and not any(w.urgent for w in self._pending):
            if self._linger is None or not self._linger.active():
                self._linger = self.reactor.callLater(LINGER, self._next, True)
            return
        if self._linger is not None and self._linger.active():
            self._linger.cancel()
        batch, self._pending = self._pending, []
        self._in_flight = True
        if self.on_batch is not None:
            self.on_batch(len(batch))
        committing = self.run(
            partial(self.store.commit_many, legs=_legs(batch)),
            [w.decide for w in batch],
            self.clock(),
            self.lease,
        )
        committing.addCallbacks(
            self._committed, self._failed, callbackArgs=(batch,), errbackArgs=(batch,)
        )

    def _committed(
        self, results: Sequence[Committed[Any] | BaseException], batch: list[_Waiting[Any]]
    ) -> None:
        self._in_flight = False
        _answer(batch, results)
        self._next()

    def _failed(self, failure: Failure, batch: list[_Waiting[Any]]) -> None:
        """The transaction itself failed (the disk, the server): none of the batch was
        written, and each step's sender is told so by its own errback."""
        self._in_flight = False
        _fail(batch, failure)
        self._next()


def _legs(batch: list[_Waiting[Any]]) -> list[tuple[str, str]]:
    """The legs the steps of ``batch`` expect to load, each once."""
    return list(dict.fromkeys(leg for waiting in batch for leg in waiting.legs))


def _answer(batch: list[_Waiting[Any]], results: Sequence[Committed[Any] | BaseException]) -> None:
    for waiting, result in zip(batch, results, strict=True):
        if isinstance(result, BaseException):
            waiting.done.errback(Failure(result))
        else:
            waiting.done.callback(result)


def _fail(batch: list[_Waiting[Any]], failure: Failure) -> None:
    for waiting in batch:
        waiting.done.errback(failure)
