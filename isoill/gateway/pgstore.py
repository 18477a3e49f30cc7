"""The PostgreSQL store, for several gateway processes sharing the work.

All SQL is the shared one of :class:`~isoill.gateway.store.Store`; what differs is the
dialect (``%s`` placeholders, BIGSERIAL, BYTEA) and the outbox claim, which locks the rows
it takes and skips rows another process has locked (``FOR UPDATE SKIP LOCKED``), so two
processes never deliver the same item at once. Legs are guarded by their version, as in
SQLite; PostgreSQL's row locks make the version check and the write one step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from isoill.gateway.store import Store, StoreError

#: Serialises schema creation between processes starting at the same moment.
_SCHEMA_LOCK = 10161


class PostgresStore(Store):
    param = "%s"
    serial = "BIGSERIAL PRIMARY KEY"
    blob = "BYTEA"
    claim_lock = " FOR UPDATE SKIP LOCKED"
    schema_lock = f"SELECT pg_advisory_xact_lock({_SCHEMA_LOCK})"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._closed = False
        self._db: Any = self._connect()
        self._create()

    def json_text(self, column: str, *path: str) -> str:
        return f"({column}::jsonb #>> '{{{','.join(path)}}}')"

    def _connect(self) -> Any:
        try:
            import psycopg
        except ImportError as err:
            raise StoreError(
                "a postgresql:// store needs psycopg: pip install 'isoill[postgres]'"
            ) from err
        try:
            # Autocommit: every statement runs inside an explicit transaction() block, and
            # the connection never sits idle in an open transaction between steps.
            return psycopg.connect(self.url, autocommit=True)
        except psycopg.Error as err:
            raise StoreError(f"cannot connect to the PostgreSQL store: {err}") from err

    def _connection(self) -> Any:
        return self._db

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock:
            if self._db.closed and not self._closed:
                # The server went away (a restart, a failover) and took the step that noticed
                # with it; the next step connects again instead of failing forever.
                self._db = self._connect()
            with self._db.transaction(), self._db.cursor() as cur:
                yield cur

    def close(self) -> None:
        self._closed = True
        self._db.close()
