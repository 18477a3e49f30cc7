"""The least work a durable relay of isoill's design must do per APDU, as a process to measure.

    python bench/gateway_floor.py ILL_PORT FAR_PORT STORE

``STORE`` is an SQLite file or a ``postgresql://`` URL. ``bench/gateway.py`` runs this beside
the real gateway, on the same load and the same kind of store, and prints its row as the
floor: what a gateway of this architecture could reach at best on this machine (the plain TCP
relay being the other bound). When the floor itself is below a speed target, the target asks
for something this design cannot do in CPython here, and the bench says so with figures
rather than an argument.

Per APDU it does only what issue 14's design requires of any gateway, each the cheapest way:

* the reactor thread reads the bytes and decodes the APDU (a relay checks what it relays),
  checks it against the responder's state table (:func:`isoill.machine.machine.receive` on
  a new transaction) and encodes the acknowledgement (a Status-Or-Error-Report, as the
  gateway answers an ILL-Request);
* one storage thread, never the reactor thread, writes, for all APDUs that arrived while the
  previous commit was in flight, in one database transaction (SQLite: WAL and
  ``synchronous=FULL``; PostgreSQL: a durable commit): both legs' states, the outbox entry
  with the bytes to forward and the log entry of the bytes received, one ``executemany``
  per table;
* after that commit, the reactor forwards the bytes as they came and sends the
  acknowledgement, on connections without Nagle's delay.

What it leaves out and a gateway cannot: who the peer is and routing by symbol, the legs'
history, loading a leg that exists, refusals and error reports, the delivered mark, tallies,
metrics and logging. Leaving work out only raises the floor, which is what a bound needs.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from twisted.internet import protocol
from twisted.internet import reactor as _reactor
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from isoill import SystemId
from isoill.apdu import StreamDecoder, encode
from isoill.apdu.apdus import APDU, APDUBase
from isoill.machine import Role, Transaction, machine, reports
from isoill.machine.transaction import TransactionKey

reactor: Any = _reactor

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS floor_legs (network TEXT, tkey TEXT, state TEXT,"
    " PRIMARY KEY (network, tkey))",
    "CREATE TABLE IF NOT EXISTS floor_outbox (tkey TEXT, data {blob})",
    "CREATE TABLE IF NOT EXISTS floor_log (tkey TEXT, data {blob})",
)

#: What one relayed APDU leaves for the commit: its client, transaction key, the leg's new
#: state, the bytes received (forwarded as they are) and the acknowledgement's bytes.
Pending = tuple["Client", str, str, bytes, bytes]


def connect(store: str) -> tuple[Any, str]:
    """An open connection to ``store`` (autocommit: the floor begins its own transactions)
    and the placeholder of its driver."""
    if store.startswith("postgresql://"):
        import psycopg

        db: Any = psycopg.connect(store, autocommit=True)
        blob, mark = "BYTEA", "%s"
    else:
        db = sqlite3.connect(store, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        blob, mark = "BLOB", "?"
    for statement in SCHEMA:
        db.execute(statement.format(blob=blob))
    return db, mark


class Store:
    """Group commit on one thread: what arrives while a commit is in flight waits for the
    next one, and each sender is answered after the commit that holds its APDU."""

    def __init__(self, store: str, out: protocol.Protocol) -> None:
        self.db, mark = connect(store)
        self.cursor = self.db.cursor()
        self.sql = [
            s.replace("?", mark)
            for s in (
                "INSERT INTO floor_legs VALUES (?, ?, ?)",
                "INSERT INTO floor_outbox VALUES (?, ?)",
                "INSERT INTO floor_log VALUES (?, ?)",
            )
        ]
        self.out = out
        self.pool = ThreadPool(minthreads=1, maxthreads=1, name="floor-store")
        self.pool.start()
        reactor.addSystemEventTrigger("during", "shutdown", self.pool.stop)
        self.pending: list[Pending] = []
        self.in_flight = False

    def add(self, item: Pending) -> None:
        self.pending.append(item)
        self.next()

    def next(self) -> None:
        if self.in_flight or not self.pending:
            return
        batch, self.pending = self.pending, []
        self.in_flight = True
        deferToThreadPool(reactor, self.pool, self.commit, batch).addCallback(self.done, batch)

    def commit(self, batch: Sequence[Pending]) -> None:
        legs, outbox, log = self.sql
        self.cursor.execute("BEGIN")
        self.cursor.executemany(
            legs, [(net, key, state) for _, key, state, _, _ in batch for net in ("e", "w")]
        )
        self.cursor.executemany(outbox, [(key, data) for _, key, _, data, _ in batch])
        self.cursor.executemany(log, [(key, data) for _, key, _, data, _ in batch])
        self.cursor.execute("COMMIT")

    def done(self, _: None, batch: Sequence[Pending]) -> None:
        self.in_flight = False
        for client, _key, _state, data, ack in batch:
            self.out.transport.write(data)  # type: ignore[union-attr]
            client.transport.write(ack)  # type: ignore[union-attr]
        self.next()


class Client(protocol.Protocol):
    factory: Inbound

    def connectionMade(self) -> None:
        self.transport.setTcpNoDelay(True)  # type: ignore[union-attr]
        self.decoder = StreamDecoder()

    def dataReceived(self, data: bytes) -> None:
        for raw, apdu in self.decoder.feed_frames(data):
            if isinstance(apdu, APDUBase):
                self.factory.relay(self, apdu, raw)


class Inbound(protocol.Factory):
    def __init__(self, store: Store) -> None:
        self.store = store

    def buildProtocol(self, addr: Any) -> Any:
        client = Client()
        client.factory = self
        return client

    def relay(self, client: Client, apdu: APDU, raw: bytes) -> None:
        at = datetime.now(UTC)
        key = str(TransactionKey.of(apdu))
        outcome = machine.receive(Transaction(Role.RESPONDER, apdu.transaction_id), apdu, at=at)
        me = apdu.responder_id or SystemId()
        ack = encode(reports.status_report(outcome.transaction, apdu, me, at), tcp_safe=True)
        self.store.add((client, key, outcome.transaction.state.value, raw, ack))


class Far(protocol.Protocol):
    """The connection to the far peer: once it is up, ``then`` starts the relay on it."""

    def __init__(self, then: Callable[[Far], None]) -> None:
        self.then = then

    def connectionMade(self) -> None:
        self.transport.setTcpNoDelay(True)  # type: ignore[union-attr]
        self.then(self)


class Dial(protocol.ClientFactory):
    def __init__(self, then: Callable[[Far], None]) -> None:
        self.then = then

    def buildProtocol(self, addr: Any) -> Any:
        return Far(self.then)


def main(argv: list[str]) -> None:
    port, far, store = int(argv[1]), int(argv[2]), argv[3]

    def relay_to(out: Far) -> None:
        reactor.listenTCP(port, Inbound(Store(store, out)), interface="127.0.0.1")

    reactor.connectTCP("127.0.0.1", far, Dial(relay_to))
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
