"""The gateway's operators: the people who run it, with a login of their own.

An operator (``isoill staff add NAME --operator``) logs in over HTTP Basic to the operations
pages, the status and the records API (:class:`isoill.gateway.web.OperatorsOnly`), which show
every library's requests and readers' names, and to nothing a network kind mounts. Operators
are the core's own table, ``operators``; their password is checked by the one login of the
gateway (:func:`isoill.gateway.logins.log_in`). Stores written before this table kept them as
accounts of no library; the library kind moves those here when it opens the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from isoill.gateway.logins import AccountError, check_username
from isoill.gateway.store import Row, Store

#: The operators' key space in the site's one count of failed logins, beside the libraries'.
THROTTLE_SPACE = ""


@dataclass(frozen=True)
class Operator:
    """``password`` is the scrypt hash; ``version`` what the store had when it was loaded
    (0: not stored yet)."""

    username: str
    password: str
    created: datetime | None = None
    version: int = 0

    def row(self) -> Row:
        """The operator as a row of a step (:class:`~isoill.gateway.store.Change`)."""
        body = {
            "password": self.password,
            "created": None if self.created is None else self.created.isoformat(),
        }
        return Row(
            "operators",
            {"username": self.username},
            {"body": json.dumps(body, separators=(",", ":"))},
            self.version,
        )


def new_operator(username: str, password_hash: str, at: datetime) -> Operator:
    problems = check_username(username)
    if problems:
        raise AccountError(problems)
    return Operator(username, password_hash, at)


def find_operator(store: Store, username: str) -> Operator | None:
    with store.transaction() as cur:
        cur.execute(
            store.sql("SELECT body, version FROM operators WHERE username = ?"), (username,)
        )
        row = cur.fetchone()
    if row is None:
        return None
    body = json.loads(row[0])
    created = body.get("created")
    return Operator(
        username,
        body["password"],
        None if created is None else datetime.fromisoformat(created),
        row[1],
    )
