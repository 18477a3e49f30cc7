"""The gateway's durable store: transactions of both legs, the raw APDU log and the outbox.

Everything the relay decides about one APDU goes into the store in **one** database
transaction (:meth:`Store.commit`): the legs' new protocol states, the raw APDUs in and out,
and the outbox entries that forward the APDU to the other network. Only after that commit is
the sender answered and the outbox delivered, so a crash at any point either loses nothing
that was acknowledged or leaves the whole step undone for the peer to re-send.

Exactly-once relay rests on two keys:

* each leg is stored with a version; a commit whose legs changed under it (another gateway
  process sharing a PostgreSQL store handled the same transaction) raises :class:`Conflict`
  and the relay recomputes its step from the fresh state;
* each outbox entry carries ``dedup`` = peer, transaction-id, APDU type and its sequence
  number within the leg. An entry already there is not queued again, so a repeated inbound
  APDU or a recomputed step never forwards a transition twice.

Delivery is at least once on the wire (a crash after writing to the socket and before
:meth:`Store.delivered` sends the same bytes again after restart); the receiving protocol
machine recognises an exact repeat and ignores it, which makes the relay exactly once.

SQLite (the default; WAL, ``synchronous=FULL``) and PostgreSQL (:mod:`isoill.gateway.pgstore`,
for several processes on one store) share all of the SQL here but for a few dialect strings.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from isoill.errors import IsoillError
from isoill.gateway import kinds, leg_history
from isoill.gateway.kinds import Payload
from isoill.machine.transaction import Transaction
from isoill.mapping.record import Record


class StoreError(IsoillError):
    """The store cannot be opened or used (a bad URL, a missing driver, a broken file)."""


class Conflict(Exception):
    """A leg changed since it was loaded: recompute the step from the current state."""


class _StepFailed(Exception):
    """A step of a group commit tried without savepoints failed: roll back them all."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


@dataclass(frozen=True)
class StoredLeg:
    """One side of a relayed transaction, as the gateway keeps it.

    ``network`` and ``key`` (the transaction-id as text) identify it; ``peer`` is who is at
    the other end of this leg (empty on a records network; the reader on a library
    network); ``partner`` names the network of the other leg, where what arrives here is
    relayed to, and ``partner_key`` its key when that is not this leg's (a reader's request
    and its attempts). ``record`` is the NACSIS-style record of a records network,
    ``payload`` what the leg's network kind keeps on it (:mod:`isoill.gateway.kinds`: a
    library's reader or supply request). ``version`` is what the store had when the leg was
    loaded (0: not stored yet)."""

    network: str
    key: str
    peer: str
    partner: str
    transaction: Transaction
    record: Record | None = None
    version: int = 0
    payload: Payload | None = None
    partner_key: str = ""
    #: The history the store held in rows when the leg was loaded (what a write need not
    #: insert again); not part of the leg's value.
    in_rows: leg_history.InRows = field(default=leg_history.InRows(), compare=False, repr=False)

    @property
    def record_id(self) -> str | None:
        return None if self.record is None else self.record.ID

    @property
    def other_key(self) -> str:
        """The key of the partner leg."""
        return self.partner_key or self.key

    @property
    def due(self) -> float | None:
        """When the gateway must act on this leg unasked, as its payload says (a reader's
        request whose supplier has not answered by its deadline)."""
        due = None if self.payload is None else self.payload.due
        return None if due is None else due.timestamp()

    def body(self) -> str:
        """The stored body: everything but the history, which is kept in rows of its own
        (:mod:`isoill.gateway.leg_history`), and how many rows that is."""
        value: dict[str, Any] = {
            "transaction": replace(self.transaction, history=()).to_json(),
            "record": None if self.record is None else self.record.replace(HISTORY=()).to_json(),
            leg_history.COUNT: len(self.transaction.history) + len(self._lines),
        }
        del value["transaction"]["history"]
        if self.payload is not None:
            value[kinds.payload_owner(self.payload).payload_key] = self.payload.to_json()
        if self.partner_key:
            value["partner_key"] = self.partner_key
        return leg_history.dumps(value)

    @property
    def _lines(self) -> tuple[str, ...]:
        return () if self.record is None else self.record.HISTORY

    @classmethod
    def from_row(
        cls,
        network: str,
        key: str,
        peer: str,
        partner: str,
        body: str,
        version: int,
        *,
        history: Sequence[str] = (),
    ) -> StoredLeg:
        """The leg of a stored body and its history rows (``history``, in order)."""
        value = json.loads(body)
        in_rows = leg_history.restore(value, history)
        record = value.get("record")
        owner = next(
            (k for k in kinds.registered() if k.payload_key and k.payload_key in value), None
        )
        leg = cls(
            network=network,
            key=key,
            peer=peer,
            partner=partner,
            transaction=Transaction.from_json(value["transaction"]),
            record=None if record is None else Record.from_json(record),
            version=version,
            payload=None if owner is None else owner.decode_payload(value[owner.payload_key]),
            partner_key=value.get("partner_key", ""),
        )
        marked = leg_history.InRows(version, leg.transaction.history, leg._lines)
        return replace(leg, in_rows=marked if in_rows else leg_history.InRows(version))


@dataclass(frozen=True)
class LogEntry:
    """One APDU as it crossed the wire (or the record interface), raw."""

    direction: str  # "in" or "out"
    peer: str
    network: str
    apdu_type: str
    key: str
    data: bytes
    note: str = ""


@dataclass(frozen=True)
class OutboxItem:
    """An APDU waiting to be delivered to ``peer``; ``dedup`` makes it unique."""

    dedup: str
    peer: str
    network: str
    apdu_type: str
    key: str
    data: bytes
    id: int = 0
    attempts: int = 0
    created: float = 0.0


@dataclass(frozen=True)
class Row:
    """A row of a table kept beside the legs (the gateway's operators; a network kind's own,
    :meth:`~isoill.gateway.kinds.NetworkKind.schema`: a library's accounts), written by a
    step under the legs' rule: at ``version`` 0 it is new, and conflicts when it exists;
    otherwise it is updated only if still at ``version``, and conflicts when it changed.
    ``keys`` name it, ``columns`` are the rest but its ``version`` column."""

    table: str
    keys: Mapping[str, Any]
    columns: Mapping[str, Any]
    version: int = 0


@dataclass(frozen=True)
class Change:
    """Everything one relay step (or one desk or account action) writes, atomically: an
    account is confirmed in the same transaction as the mail that tells its reader."""

    legs: tuple[StoredLeg, ...] = ()
    log: tuple[LogEntry, ...] = ()
    outbox: tuple[OutboxItem, ...] = ()
    rows: tuple[Row, ...] = ()
    #: Outbox items whose bytes have gone out: marked sent, and logged.
    delivered: tuple[OutboxItem, ...] = ()


class Decision(Protocol):
    """What a decision made inside a group commit gives: at least the change to write."""

    @property
    def change(self) -> Change: ...


Decided = TypeVar("Decided", bound=Decision)
#: Reads a leg (network, key): the store's own, or one inside a group commit.
Loader = Callable[[str, str], "StoredLeg | None"]
#: How often a step is decided again when another process changed its legs meanwhile.
CONFLICT_RETRIES = 5


@dataclass(frozen=True)
class Lease:
    """Who delivers what a commit queues, and for how long nobody else may."""

    owner: str
    seconds: float


@dataclass(frozen=True)
class Committed(Generic[Decided]):
    """One step of a group commit, written: what was decided, the outbox items it queued
    (with their ids), and how many times it was decided again after a conflict."""

    decided: Decided
    queued: list[OutboxItem]
    conflicts: int = 0


@dataclass(frozen=True)
class Stats:
    legs: int
    outbox_pending: int
    outbox_delivered: int
    apdus_logged: int
    oldest_pending: float | None = None
    by_state: dict[str, int] = field(default_factory=dict)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS legs (
    network TEXT NOT NULL,
    tkey TEXT NOT NULL,
    peer TEXT NOT NULL,
    partner TEXT NOT NULL,
    role TEXT NOT NULL,
    state TEXT NOT NULL,
    record_id TEXT,
    body TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (network, tkey)
);
CREATE INDEX IF NOT EXISTS legs_record ON legs (record_id);
CREATE TABLE IF NOT EXISTS leg_history (
    network TEXT NOT NULL,
    tkey TEXT NOT NULL,
    seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (network, tkey, seq)
);
CREATE INDEX IF NOT EXISTS legs_updated ON legs (updated);
CREATE TABLE IF NOT EXISTS apdu_log (
    id {serial},
    at DOUBLE PRECISION NOT NULL,
    direction TEXT NOT NULL,
    peer TEXT NOT NULL,
    network TEXT NOT NULL,
    apdu_type TEXT NOT NULL,
    tkey TEXT NOT NULL,
    data {blob} NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS apdu_log_key ON apdu_log (tkey);
CREATE INDEX IF NOT EXISTS apdu_log_at ON apdu_log (at);
CREATE TABLE IF NOT EXISTS outbox (
    id {serial},
    dedup TEXT NOT NULL UNIQUE,
    peer TEXT NOT NULL,
    network TEXT NOT NULL,
    apdu_type TEXT NOT NULL,
    tkey TEXT NOT NULL,
    data {blob} NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_try DOUBLE PRECISION NOT NULL,
    sent DOUBLE PRECISION,
    last_error TEXT,
    lease_owner TEXT,
    lease_until DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (sent, next_try);
CREATE TABLE IF NOT EXISTS deadlines (
    network TEXT NOT NULL,
    tkey TEXT NOT NULL,
    due DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (network, tkey)
);
CREATE INDEX IF NOT EXISTS deadlines_due ON deadlines (due);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS tallies (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS operators (
    username TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    version INTEGER NOT NULL
);
"""

_LEG_COLUMNS = "network, tkey, peer, partner, body, version"
#: The same, of the table named ``l`` in a join.
_LEG_COLUMNS_OF_L = ", ".join(f"l.{column}" for column in _LEG_COLUMNS.split(", "))


def _wanted(pairs: int) -> str:
    """A table ``wanted`` of ``pairs`` (network, key) parameters, ``column1`` and
    ``column2``, for a join that reads many legs (or their history) with one statement."""
    return f"(VALUES {', '.join('(?, ?)' for _ in range(pairs))}) AS wanted"


#: The tallies :meth:`Store.stats` reads; a leg's is ``_LEGS_IN`` and its state.
_LOGGED, _PENDING, _DELIVERED, _LEGS_IN = (
    "apdus_logged",
    "outbox_pending",
    "outbox_delivered",
    "legs:",
)
#: The tally that says the others were counted from the tables (a store older than them).
_COUNTED = "counted"
#: Leg states remembered from loads for the tally of the write that follows (beyond this
#: many, the write reads the state it replaces).
_REMEMBERED = 4096
_OUTBOX_COLUMNS = "id, dedup, peer, network, apdu_type, tkey, data, attempts, created"


def _outbox_item(row: Sequence[Any]) -> OutboxItem:
    return OutboxItem(
        id=row[0],
        dedup=row[1],
        peer=row[2],
        network=row[3],
        apdu_type=row[4],
        key=row[5],
        data=bytes(row[6]),
        attempts=row[7],
        created=row[8],
    )


class Store(ABC):
    """The SQL both stores share; subclasses give the connection and the dialect."""

    #: The placeholder of the driver's paramstyle.
    param = "?"
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT"
    blob = "BLOB"
    #: What follows a SELECT that claims outbox rows (PostgreSQL locks and skips them).
    claim_lock = ""
    #: Run first when creating the schema (PostgreSQL: a lock, for processes starting at once).
    schema_lock = ""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: What the transaction in progress changes of the tallies (see :meth:`_writing`).
        self._tally: Counter[str] = Counter()
        #: (network, key) -> (version, state) of legs loaded, for the tally of their update.
        self._loaded: dict[tuple[str, str], tuple[int, str]] = {}
        #: Rows appended by the transaction in progress, written at its end (:meth:`_append`).
        self._appended: dict[str, list[Sequence[Any]]] = {}
        #: The legs whose history rows are among them.
        self._appended_legs: set[tuple[str, str]] = set()
        #: The legs the transaction in progress wrote (what a group commit read of them at
        #: its start is out of date).
        self._written: set[tuple[str, str]] = set()

    # --- the dialect ----------------------------------------------------------------------

    @abstractmethod
    def _connection(self) -> Any: ...

    @contextmanager
    @abstractmethod
    def _transaction(self) -> Iterator[Any]:
        """A cursor inside one database transaction: committed on exit, rolled back on error."""
        yield None

    def _sql(self, text: str) -> str:
        return text.replace("?", self.param) if self.param != "?" else text

    def _create(self) -> None:
        with self._transaction() as cur:
            if self.schema_lock:
                cur.execute(self.schema_lock)
            # The core's tables, then those of every network kind registered (a library's).
            schema = ";".join([_SCHEMA, *(k.schema() for k in kinds.registered())])
            for statement in schema.format(serial=self.serial, blob=self.blob).split(";"):
                if statement.strip():
                    cur.execute(statement)
            cur.execute(self._sql("SELECT value FROM tallies WHERE name = ?"), (_COUNTED,))
            if cur.fetchone() is None:
                self._count_all(cur)

    def _count_all(self, cur: Any) -> None:
        """Start the tallies from what the tables hold: once, when they are new (a new
        store, or one written before there were tallies)."""
        cur.execute("SELECT state, COUNT(*) FROM legs GROUP BY state")
        tally: Counter[str] = Counter({_LEGS_IN + row[0]: int(row[1]) for row in cur.fetchall()})
        cur.execute("SELECT COUNT(*) FROM outbox WHERE sent IS NULL")
        tally[_PENDING] = int(cur.fetchone()[0])
        cur.execute("SELECT COUNT(*) FROM outbox WHERE sent IS NOT NULL")
        tally[_DELIVERED] = int(cur.fetchone()[0])
        cur.execute("SELECT COUNT(*) FROM apdu_log")
        tally[_LOGGED] = int(cur.fetchone()[0])
        tally[_COUNTED] = 1
        self._add_tally(cur, tally)

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """A transaction that writes legs, the outbox or the log: what it changes of the
        tallies is added to them in the same transaction, with one statement at its end, so
        :meth:`stats` reads a few rows instead of counting whole tables (which grow without
        bound: counting the log took 6 ms a second with a few thousand entries, on the
        thread every commit waits for). Held in the database, the tallies are right for
        every process sharing a store."""
        with self._transaction() as cur:
            self._tally = Counter()
            self._written = set()
            try:
                yield cur
                self._flush(cur)
                if self._tally:
                    self._add_tally(cur, self._tally)
            finally:
                self._drop_appended()

    def _append(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Rows that only ever grow a table (the APDU log, a leg's history) and the delivered
        marks, kept to the end of the transaction and written there with one statement of a
        kind for the whole group commit, instead of one per step: each statement costs the
        storage thread the GIL (it waits for the reactor to give it back) and a PostgreSQL
        store a round trip. Nothing a step decides reads them, but a leg's history: loading
        a leg whose rows wait writes them first."""
        self._appended.setdefault(self._sql(sql), []).extend(rows)

    def _flush(self, cur: Any) -> None:
        for sql, rows in self._appended.items():
            cur.executemany(sql, rows)
        self._drop_appended()

    def _drop_appended(self) -> None:
        self._appended = {}
        self._appended_legs = set()

    def _add_tally(self, cur: Any, tally: Counter[str]) -> None:
        # In name order, last in the transaction: two processes on one PostgreSQL store
        # lock the rows in one order, after every other lock they take.
        rows = sorted((name, n) for name, n in tally.items() if n)
        if rows:
            cur.execute(
                self._sql(
                    "INSERT INTO tallies (name, value) VALUES"
                    f" {', '.join('(?, ?)' for _ in rows)} ON CONFLICT (name)"
                    " DO UPDATE SET value = tallies.value + excluded.value"
                ),
                [x for row in rows for x in row],
            )

    @abstractmethod
    def close(self) -> None: ...

    # --- legs -----------------------------------------------------------------------------

    def load(self, network: str, key: str) -> StoredLeg | None:
        with self._transaction() as cur:
            return self._load(cur, network, key)

    def _load(self, cur: Any, network: str, key: str) -> StoredLeg | None:
        if (network, key) in self._appended_legs:
            self._flush(cur)
        cur.execute(
            self._sql(f"SELECT {_LEG_COLUMNS} FROM legs WHERE network = ? AND tkey = ?"),
            (network, key),
        )
        row = cur.fetchone()
        if row is None:
            return None
        return self._remember(self._legs(cur, [row])[0])

    def _remember(self, leg: StoredLeg) -> StoredLeg:
        """``leg``, loaded: its version and state are kept for the tally of its update."""
        if len(self._loaded) >= _REMEMBERED:
            self._loaded.clear()
        self._loaded[leg.network, leg.key] = (leg.version, leg.transaction.state.value)
        return leg

    def _read_legs(self, cur: Any, wanted: Sequence[tuple[str, str]]) -> dict[Any, StoredLeg]:
        """The stored legs among ``wanted`` (network, key), with one query for them all."""
        cur.execute(
            self._sql(
                f"SELECT {_LEG_COLUMNS_OF_L} FROM {_wanted(len(wanted))} JOIN legs AS l"
                " ON l.network = wanted.column1 AND l.tkey = wanted.column2"
            ),
            [part for pair in wanted for part in pair],
        )
        return {(leg.network, leg.key): leg for leg in self._legs(cur, cur.fetchall())}

    def _legs(self, cur: Any, rows: Sequence[Sequence[Any]]) -> list[StoredLeg]:
        """The legs of rows of ``legs`` (:data:`_LEG_COLUMNS`), with their history rows."""
        if not rows:
            return []
        cur.execute(
            self._sql(
                f"SELECT h.network, h.tkey, h.body FROM {_wanted(len(rows))} JOIN leg_history AS h"
                " ON h.network = wanted.column1 AND h.tkey = wanted.column2"
                " ORDER BY h.network, h.tkey, h.seq"
            ),
            [part for row in rows for part in row[:2]],
        )
        history: dict[tuple[str, str], list[str]] = {}
        for network, key, body in cur.fetchall():
            history.setdefault((network, key), []).append(body)
        return [StoredLeg.from_row(*row, history=history.get((row[0], row[1]), ())) for row in rows]

    def find_record(self, record_id: str) -> StoredLeg | None:
        with self._transaction() as cur:
            cur.execute(
                self._sql(f"SELECT {_LEG_COLUMNS} FROM legs WHERE record_id = ?"), (record_id,)
            )
            row = cur.fetchone()
            return None if row is None else self._legs(cur, [row])[0]

    def search(self, text: str = "", limit: int = 100) -> list[StoredLeg]:
        """The most recently changed legs whose transaction-id or record ID contains ``text``,
        ignoring case; ``%`` and ``_`` in ``text`` are themselves, not wildcards."""
        # LIKE ignores case in SQLite but not in PostgreSQL: lower both sides on both.
        escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
        pattern = f"%{escaped}%"
        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    f"SELECT {_LEG_COLUMNS} FROM legs"
                    " WHERE LOWER(tkey) LIKE LOWER(?) ESCAPE '!'"
                    " OR LOWER(record_id) LIKE LOWER(?) ESCAPE '!'"
                    " ORDER BY updated DESC LIMIT ?"
                ),
                (pattern, pattern, limit),
            )
            return self._legs(cur, cur.fetchall())

    def log_for(self, key: str) -> list[tuple[float, str, str, str, bytes]]:
        """The raw APDUs of one transaction: (time, direction, peer, type, bytes)."""
        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    "SELECT at, direction, peer, apdu_type, data FROM apdu_log "
                    "WHERE tkey = ? ORDER BY id"
                ),
                (key,),
            )
            return [(r[0], r[1], r[2], r[3], bytes(r[4])) for r in cur.fetchall()]

    # --- the atomic step ------------------------------------------------------------------

    def commit(self, change: Change, at: float, lease: Lease | None = None) -> list[OutboxItem]:
        """Write a relay step in one transaction; the outbox items newly queued (with their
        ids, leased to ``lease``'s owner when given). Raises :class:`Conflict` when a leg
        changed since it was loaded: nothing of the step is written then."""
        with self._writing() as cur:
            return self._write_change(cur, change, at, lease)

    def commit_many(
        self,
        decisions: Sequence[Callable[[Loader], Decided]],
        at: float,
        lease: Lease | None = None,
        retries: int = CONFLICT_RETRIES,
        legs: Sequence[tuple[str, str]] = (),
    ) -> list[Committed[Decided] | BaseException]:
        """Group commit: decide and write many steps in one database transaction, so that
        one fsync makes them all durable.

        Each decision is made inside the transaction, with a loader that reads it (so each
        sees what the ones before it wrote), and written under a savepoint: a step whose
        legs changed meanwhile (:class:`Conflict`, another process sharing a PostgreSQL
        store) is rolled back alone and decided again, up to ``retries`` times; a step that
        fails otherwise is rolled back alone and its exception takes its place in the
        answer. Outbox items queued here are leased to ``lease``'s owner at once: the
        caller delivers them as soon as the commit returns, without reading the outbox
        again, and no other process claims them meanwhile.

        ``legs`` (network, key) are the legs the steps are expected to load: they are read
        with one query at the start (:meth:`_loader`), instead of one query each (a round
        trip each to a PostgreSQL server)."""
        try:
            return [*self._commit_all(decisions, at, lease, legs)]
        except _StepFailed as failed:
            # Rolled back whole: each step again, under a savepoint of its own, but for the
            # one that failed, which has had its try: its error stands, or if it conflicted,
            # it has one try fewer.
            error = failed.__cause__
            assert isinstance(error, Exception)
            tried = failed.index
        out: list[Committed[Decided] | BaseException] = []
        with self._writing() as cur:
            load = self._loader(cur)
            for index, decide in enumerate(decisions):
                if index != tried:
                    out.append(self._savepoint(cur, decide, load, at, lease, retries))
                elif isinstance(error, Conflict) and retries > 1:
                    out.append(self._savepoint(cur, decide, load, at, lease, retries, 1))
                else:
                    out.append(error)
        return out

    def _commit_all(
        self,
        decisions: Sequence[Callable[[Loader], Decided]],
        at: float,
        lease: Lease | None,
        legs: Sequence[tuple[str, str]] = (),
    ) -> list[Committed[Decided]]:
        """The common case of :meth:`commit_many`, tried first: every step decided and
        written without a savepoint, which costs two statements per step (and two round
        trips to a PostgreSQL server). When a step fails, the transaction is rolled back
        whole (:class:`_StepFailed`) and the steps are decided again one savepoint each."""
        out: list[Committed[Decided]] = []
        with self._writing() as cur:
            load = self._loader(cur, legs)
            for index, decide in enumerate(decisions):
                try:
                    decided = decide(load)
                    out.append(
                        Committed(decided, self._write_change(cur, decided.change, at, lease))
                    )
                except Exception as error:
                    raise _StepFailed(index) from error
        return out

    def _loader(self, cur: Any, legs: Sequence[tuple[str, str]] = ()) -> Loader:
        """Reads legs inside the transaction of ``cur``: a step sees what the ones before
        it in the same group commit wrote.

        The legs of ``legs`` are read at once, in the same transaction, and a load of one
        of them takes what was read (None: not stored), unless a step has written it since:
        then it is read again. Read a little earlier than one by one, a leg may be older
        than another process's commit in between; the version check of its write
        (:class:`Conflict`) catches that as it catches any change under a step."""
        if not legs:
            return lambda network, key: self._load(cur, network, key)
        wanted = set(legs)
        read = self._read_legs(cur, sorted(wanted))

        def load(network: str, key: str) -> StoredLeg | None:
            if (network, key) not in wanted or (network, key) in self._written:
                return self._load(cur, network, key)
            leg = read.get((network, key))
            return None if leg is None else self._remember(leg)

        return load

    def _savepoint(
        self,
        cur: Any,
        decide: Callable[[Loader], Decided],
        load: Loader,
        at: float,
        lease: Lease | None,
        retries: int,
        tried: int = 0,
    ) -> Committed[Decided] | BaseException:
        for attempt in range(tried, retries):
            cur.execute("SAVEPOINT step")
            tally = self._tally.copy()
            try:
                decided = decide(load)
                queued = self._write_change(cur, decided.change, at, lease)
                # What the step appended goes under its savepoint (the steps before it
                # wrote theirs under their own).
                self._flush(cur)
            except Conflict as conflict:
                cur.execute("ROLLBACK TO SAVEPOINT step")
                self._drop_appended()
                self._tally = tally
                if attempt == retries - 1:
                    return conflict
                continue
            except Exception as error:
                cur.execute("ROLLBACK TO SAVEPOINT step")
                self._drop_appended()
                self._tally = tally
                return error
            cur.execute("RELEASE SAVEPOINT step")
            return Committed(decided, queued, attempt)
        raise AssertionError("unreachable")

    def _write_change(
        self, cur: Any, change: Change, at: float, lease: Lease | None
    ) -> list[OutboxItem]:
        for leg in change.legs:
            self._write_leg(cur, leg, at)
        for row in change.rows:
            self._write_row(cur, row)
        self._write_log(cur, change.log, at)
        if change.delivered:
            self._mark_delivered(cur, change.delivered, at)
        owner, until = (None, None) if lease is None else (lease.owner, at + lease.seconds)
        queued = []
        for item in change.outbox:
            cur.execute(
                self._sql(
                    "INSERT INTO outbox (dedup, peer, network, apdu_type, tkey, data, created,"
                    " next_try, lease_owner, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (dedup) DO NOTHING RETURNING id"
                ),
                (
                    item.dedup,
                    item.peer,
                    item.network,
                    item.apdu_type,
                    item.key,
                    item.data,
                    at,
                    at,
                    owner,
                    until,
                ),
            )
            row = cur.fetchone()
            if row is not None:
                queued.append(replace(item, id=row[0], created=at))
        self._tally[_PENDING] += len(queued)
        return queued

    def log(self, entries: Sequence[LogEntry], at: float) -> None:
        """Log APDUs that changed nothing (refused senders, undecodable bytes)."""
        with self._writing() as cur:
            self._write_log(cur, entries, at)

    def _write_leg(self, cur: Any, leg: StoredLeg, at: float) -> None:
        txn = leg.transaction
        columns = {
            "peer": leg.peer,
            "partner": leg.partner,
            "role": txn.role.value,
            "state": txn.state.value,
            "record_id": leg.record_id,
            "body": leg.body(),
            "version": leg.version + 1,
            "updated": at,
        }
        keys = {"network": leg.network, "tkey": leg.key}
        self._written.add((leg.network, leg.key))
        before = self._state_before(cur, leg)
        if not self._write_versioned(cur, "legs", keys, columns, leg.version):
            raise Conflict(f"leg {leg.network} {leg.key} changed since it was read")
        rows, rewrite = leg_history.appended(leg)
        if rewrite:
            if (leg.network, leg.key) in self._appended_legs:
                self._flush(cur)
            cur.execute(
                self._sql("DELETE FROM leg_history WHERE network = ? AND tkey = ?"),
                (leg.network, leg.key),
            )
        if rows:
            self._append(
                "INSERT INTO leg_history (network, tkey, seq, body) VALUES (?, ?, ?, ?)",
                [(leg.network, leg.key, seq, body) for seq, body in rows],
            )
            self._appended_legs.add((leg.network, leg.key))
        if before is not None:
            self._tally[_LEGS_IN + before] -= 1
        self._tally[_LEGS_IN + txn.state.value] += 1
        due = leg.due
        if due is None:
            if leg.version:
                cur.execute(
                    self._sql("DELETE FROM deadlines WHERE network = ? AND tkey = ?"),
                    (leg.network, leg.key),
                )
        else:
            cur.execute(
                self._sql(
                    "INSERT INTO deadlines (network, tkey, due) VALUES (?, ?, ?)"
                    " ON CONFLICT (network, tkey) DO UPDATE SET due = excluded.due"
                ),
                (leg.network, leg.key, due),
            )

    def _state_before(self, cur: Any, leg: StoredLeg) -> str | None:
        """The state the leg had at the version it was loaded at (None: a new leg), for
        the tally: remembered from its load, else read (a write that does not find the
        leg at that version raises :class:`Conflict` and counts nothing)."""
        if not leg.version:
            return None
        version, state = self._loaded.pop((leg.network, leg.key), (0, ""))
        if version == leg.version:
            return state
        cur.execute(
            self._sql("SELECT state FROM legs WHERE network = ? AND tkey = ?"),
            (leg.network, leg.key),
        )
        row = cur.fetchone()
        return None if row is None else str(row[0])

    def _write_versioned(
        self,
        cur: Any,
        table: str,
        keys: dict[str, Any],
        columns: dict[str, Any],
        version: int,
    ) -> bool:
        """Insert a row that is new (``version`` 0) or update the one at ``version``: False
        when the row exists already, or changed since it was read (optimistic locking, the
        same on SQLite and PostgreSQL)."""
        names = [*columns, *keys]
        args = [*columns.values(), *keys.values()]
        if version == 0:
            cur.execute(
                self._sql(
                    f"INSERT INTO {table} ({', '.join(names)})"
                    f" VALUES ({', '.join('?' for _ in names)})"
                    f" ON CONFLICT ({', '.join(keys)}) DO NOTHING"
                ),
                args,
            )
        else:
            cur.execute(
                self._sql(
                    f"UPDATE {table} SET {', '.join(f'{c} = ?' for c in columns)}"
                    f" WHERE {' AND '.join(f'{k} = ?' for k in keys)} AND version = ?"
                ),
                (*args, version),
            )
        return bool(cur.rowcount == 1)

    def _write_row(self, cur: Any, row: Row) -> None:
        columns = {**row.columns, "version": row.version + 1}
        if not self._write_versioned(cur, row.table, dict(row.keys), columns, row.version):
            named = ", ".join(str(v) for v in row.keys.values())
            raise Conflict(f"{row.table} row {named} changed or exists")

    # --- for network kinds -----------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor inside one database transaction, for the tables a network kind keeps
        (:meth:`~isoill.gateway.kinds.NetworkKind.schema`); its SQL goes through :meth:`sql`."""
        with self._transaction() as cur:
            yield cur

    def sql(self, text: str) -> str:
        """SQL written with ``?`` placeholders, in the driver's paramstyle."""
        return self._sql(text)

    def json_text(self, column: str, *path: str) -> str:
        """SQL for the text at ``path`` (plain keys) in the JSON held by ``column``, the same
        on every store: a string as itself, a number or ``true``/``false`` as its JSON text,
        NULL when absent or null; so a network kind filters and searches what its payloads
        hold in the query, not by loading every row."""
        where = "$." + ".".join(path)
        return (
            f"(CASE json_type({column}, '{where}') WHEN 'true' THEN 'true'"
            f" WHEN 'false' THEN 'false' ELSE CAST(json_extract({column}, '{where}') AS TEXT) END)"
        )

    def legs_of(self, network: str, peer: str | None = None, limit: int = 500) -> list[StoredLeg]:
        """A network's legs (a library's requests), or one peer's, newest first."""
        where, args = (
            ("network = ?", [network])
            if peer is None
            else (
                "network = ? AND peer = ?",
                [network, peer],
            )
        )
        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    f"SELECT {_LEG_COLUMNS} FROM legs WHERE {where} ORDER BY updated DESC LIMIT ?"
                ),
                (*args, limit),
            )
            return self._legs(cur, cur.fetchall())

    def next_number(self, name: str) -> int:
        """The next number of a sequence (reader request numbers), never given twice, also
        by several processes on one store."""
        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name)"
                    " DO UPDATE SET value = counters.value + 1 RETURNING value"
                ),
                (name,),
            )
            row = cur.fetchone()
        return int(row[0])

    def overdue(self, now: float, limit: int = 100) -> list[tuple[str, str]]:
        """(network, key) of legs whose deadline has passed."""
        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    "SELECT network, tkey FROM deadlines WHERE due <= ? ORDER BY due LIMIT ?"
                ),
                (now, limit),
            )
            rows = cur.fetchall()
        return [(row[0], row[1]) for row in rows]

    def _write_log(self, cur: Any, entries: Iterable[LogEntry], at: float) -> None:
        rows = [
            (at, e.direction, e.peer, e.network, e.apdu_type, e.key, e.data, e.note)
            for e in entries
        ]
        if rows:
            self._append(
                "INSERT INTO apdu_log (at, direction, peer, network, apdu_type, tkey, data,"
                " note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._tally[_LOGGED] += len(rows)

    def prune_log(self, now: float, max_age: float, max_bytes: int) -> int:
        """Drop APDU log entries older than ``max_age`` seconds, then the oldest entries
        until the APDUs kept come to ``max_bytes`` at most (0: no limit of that kind); how
        many entries went. The log is the record of what crossed the wire, and anyone who
        can connect adds to it, so unbounded it is a way to fill the disk; the legs keep
        each transaction's history, so what is pruned here is the raw bytes only."""
        with self._writing() as cur:
            dropped = 0
            if max_age > 0:
                cur.execute(self._sql("DELETE FROM apdu_log WHERE at < ?"), (now - max_age,))
                dropped += max(cur.rowcount, 0)
            if max_bytes > 0:
                cur.execute("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM apdu_log")
                (total,) = cur.fetchone()
                if int(total) > max_bytes:
                    # The newest entry that no longer fits, counting back from the newest.
                    cur.execute(
                        self._sql(
                            "SELECT id FROM (SELECT id, SUM(LENGTH(data)) OVER (ORDER BY id DESC)"
                            " AS kept FROM apdu_log) AS newest WHERE kept > ?"
                            " ORDER BY id DESC LIMIT 1"
                        ),
                        (max_bytes,),
                    )
                    row = cur.fetchone()
                    if row is not None:
                        cur.execute(self._sql("DELETE FROM apdu_log WHERE id <= ?"), (row[0],))
                        dropped += max(cur.rowcount, 0)
            self._tally[_LOGGED] -= dropped
        return dropped

    def log_bytes(self) -> int:
        """Bytes of APDUs in the log (what :meth:`prune_log` bounds)."""
        with self._transaction() as cur:
            cur.execute("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM apdu_log")
            (total,) = cur.fetchone()
        return int(total)

    # --- the outbox -----------------------------------------------------------------------

    def claim_due(
        self, now: float, owner: str, lease: float, limit: int = 100, peer: str | None = None
    ) -> list[OutboxItem]:
        """Outbox items due now, leased to ``owner`` for ``lease`` seconds, so that another
        process sharing the store does not deliver them at the same time. A lease that ran
        out (its owner died) makes the item due again."""
        where = "sent IS NULL AND next_try <= ? AND (lease_until IS NULL OR lease_until < ?)"
        args: list[Any] = [now, now]
        if peer is not None:
            where += " AND peer = ?"
            args.append(peer)
        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE {where} ORDER BY id"
                    f" LIMIT ?{self.claim_lock}"
                ),
                (*args, limit),
            )
            rows = cur.fetchall()
            if rows:
                cur.executemany(
                    self._sql("UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ?"),
                    [(owner, now + lease, row[0]) for row in rows],
                )
        return [_outbox_item(r) for r in rows]

    def delivered(self, items: Sequence[OutboxItem], at: float) -> None:
        """The items' bytes were written to their peers: log them as sent, done."""
        with self._writing() as cur:
            self._mark_delivered(cur, items, at)

    def _mark_delivered(self, cur: Any, items: Sequence[OutboxItem], at: float) -> None:
        self._append(
            "UPDATE outbox SET sent = ?, attempts = attempts + 1, lease_owner = NULL,"
            " lease_until = NULL WHERE id = ?",
            [(at, item.id) for item in items],
        )
        # An item delivered twice (two processes, the first past its lease) counts twice.
        self._tally[_PENDING] -= len(items)
        self._tally[_DELIVERED] += len(items)
        self._write_log(
            cur,
            [
                LogEntry("out", i.peer, i.network, i.apdu_type, i.key, i.data, "relayed")
                for i in items
            ],
            at,
        )

    def failed(self, item: OutboxItem, next_try: float, error: str) -> None:
        """Delivery failed: try again at ``next_try``."""
        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    "UPDATE outbox SET attempts = attempts + 1, next_try = ?, last_error = ?,"
                    " lease_owner = NULL, lease_until = NULL WHERE id = ?"
                ),
                (next_try, error[:500], item.id),
            )

    def release(self, owner: str) -> None:
        """Give back the leases of ``owner`` (a clean shutdown), so the items are due at once."""
        with self._transaction() as cur:
            cur.execute(
                self._sql(
                    "UPDATE outbox SET lease_owner = NULL, lease_until = NULL"
                    " WHERE lease_owner = ? AND sent IS NULL"
                ),
                (owner,),
            )

    def wake(self, peer: str, now: float) -> None:
        """A peer came back: what waits for it is due now, whatever its backoff said."""
        with self._transaction() as cur:
            cur.execute(
                self._sql("UPDATE outbox SET next_try = ? WHERE peer = ? AND sent IS NULL"),
                (now, peer),
            )

    def pending(self) -> list[OutboxItem]:
        with self._transaction() as cur:
            cur.execute(f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE sent IS NULL ORDER BY id")
            rows = cur.fetchall()
        return [_outbox_item(r) for r in rows]

    def stats(self) -> Stats:
        """The store's counts, from its tallies (:meth:`_writing`): a few rows, however
        large the tables have grown."""
        with self._transaction() as cur:
            cur.execute("SELECT name, value FROM tallies")
            tally = {row[0]: int(row[1]) for row in cur.fetchall()}
            cur.execute("SELECT MIN(created) FROM outbox WHERE sent IS NULL")
            (oldest,) = cur.fetchone()
        by_state = {
            name.removeprefix(_LEGS_IN): n
            for name, n in sorted(tally.items())
            if name.startswith(_LEGS_IN) and n
        }
        return Stats(
            legs=sum(by_state.values()),
            outbox_pending=tally.get(_PENDING, 0),
            outbox_delivered=tally.get(_DELIVERED, 0),
            apdus_logged=tally.get(_LOGGED, 0),
            oldest_pending=oldest,
            by_state=by_state,
        )


class SQLiteStore(Store):
    """One file, WAL, every commit fsynced (``synchronous=FULL``): an acknowledged APDU
    survives a power cut, not only a crash of the process."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = str(path)
        try:
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as err:
            raise StoreError(f"cannot open the SQLite store {self.path}: {err}") from err
        self._create()

    def _connection(self) -> sqlite3.Connection:
        return self._db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Cursor]:
        with self._lock:
            cur = self._db.cursor()
            # IMMEDIATE takes the write lock at once: two processes on one file serialise
            # here instead of failing a read-then-write upgrade.
            cur.execute("BEGIN IMMEDIATE")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()

    def close(self) -> None:
        self._db.close()


def open_store(location: str) -> Store:
    """A store from the ``--store`` flag or ``store =`` setting: a file path (SQLite) or a
    ``postgresql://`` URL."""
    if location.startswith(("postgresql://", "postgres://")):
        from isoill.gateway.pgstore import PostgresStore

        return PostgresStore(location)
    if "://" in location:
        raise StoreError(f"unknown store {location!r}: give a file path or a postgresql:// URL")
    return SQLiteStore(location)
