"""When an outbox item counts as delivered: only once the reactor has written its bytes out.

Twisted buffers what a protocol writes and hands it to the kernel in its next I/O pass. An
item marked delivered as soon as it was written would be lost by a kill -9 in between (the
crash test met that once); here a memory reactor shows each step: written but not yet
flushed, flushed, held back by a peer that does not read, and cut off with the association.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from twisted.internet.testing import MemoryReactorClock, StringTransport

from isoill.gateway.association import Association
from isoill.gateway.config import Config, Network, Peer
from isoill.gateway.service import Gateway
from isoill.gateway.store import Change, OutboxItem, SQLiteStore

CONFIG = Config(
    networks=(Network("west", kind="iso"),),
    peers=(Peer("west-lib", "west", ("WEST:*",)),),
)


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[tuple[Gateway, Association, MemoryReactorClock]]:
    store = SQLiteStore(tmp_path / "store.db")
    reactor = MemoryReactorClock()
    gateway = Gateway(CONFIG, store, reactor)
    association = Association(gateway, ("west-lib",))
    association.makeConnection(StringTransport())
    gateway.identified(association, "west-lib")
    yield gateway, association, reactor
    store.close()


def _queue(gateway: Gateway, n: int) -> None:
    item = OutboxItem(f"west-lib|k{n}|ILL-REQUEST|1", "west-lib", "west", "ILL-REQUEST", "k", b"x")
    gateway.store.commit(Change(outbox=(item,)), gateway.seconds())


def test_an_item_is_delivered_after_the_reactor_wrote_it(
    wired: tuple[Gateway, Association, MemoryReactorClock],
) -> None:
    gateway, association, reactor = wired
    _queue(gateway, 1)
    gateway.deliver()
    assert association.transport.value() == b"x"  # type: ignore[union-attr]
    assert len(gateway.store.pending()) == 1  # in the buffer: not delivered yet
    reactor.advance(0)
    assert gateway.store.pending() == []


def test_a_peer_that_does_not_read_holds_the_item_back(
    wired: tuple[Gateway, Association, MemoryReactorClock],
) -> None:
    gateway, association, reactor = wired
    _queue(gateway, 1)
    gateway.deliver()
    association.pauseProducing()  # what the transport does when its buffer is full
    reactor.advance(0)
    reactor.advance(1)
    assert len(gateway.store.pending()) == 1
    association.resumeProducing()
    reactor.advance(0.05)
    assert gateway.store.pending() == []


def test_an_item_cut_off_with_its_association_goes_again(
    wired: tuple[Gateway, Association, MemoryReactorClock],
) -> None:
    gateway, association, reactor = wired
    _queue(gateway, 1)
    gateway.deliver()
    association.connectionLost()
    reactor.advance(0)
    (left,) = gateway.store.pending()
    # Claimed until the lease runs out (or the gateway restarts), then due again.
    later = gateway.seconds() + CONFIG.retry.lease + 1
    assert [i.id for i in gateway.store.claim_due(later, "another", 10)] == [left.id]


def test_an_item_committed_here_goes_out_once_though_the_poll_runs_too(
    wired: tuple[Gateway, Association, MemoryReactorClock],
) -> None:
    """What this process commits is leased to it and sent at once; the outbox poll, running
    before the delivered mark is written, must not claim and send it a second time."""
    from isoill.gateway.service import _Wrapped

    gateway, association, reactor = wired
    item = OutboxItem("west-lib|k|ILL-REQUEST|1", "west-lib", "west", "ILL-REQUEST", "k", b"x")
    gateway._commit(lambda: _Wrapped(Change(outbox=(item,))))
    gateway.deliver()  # the poll, in between
    assert association.transport.value() == b"x"  # type: ignore[union-attr]
    reactor.advance(0)
    gateway.deliver()
    assert association.transport.value() == b"x"  # type: ignore[union-attr]
    assert gateway.store.pending() == []


def test_items_sent_in_one_turn_are_marked_delivered_in_one_step(
    wired: tuple[Gateway, Association, MemoryReactorClock],
) -> None:
    """Two steps committed, each sending its item at once (as the steps of one group commit
    do): one delivered mark for both, one step of the next group commit."""
    from isoill.gateway.service import _Wrapped

    gateway, association, reactor = wired
    for n in (1, 2):
        item = OutboxItem(
            f"west-lib|k{n}|ILL-REQUEST|1", "west-lib", "west", "ILL-REQUEST", "k", b"x"
        )
        gateway._commit(partial(_Wrapped, Change(outbox=(item,))))
    assert association.transport.value() == b"xx"  # type: ignore[union-attr]
    steps = gateway.metrics.committed_steps
    reactor.advance(0)
    assert gateway.store.pending() == []
    assert gateway.metrics.committed_steps == steps + 1
