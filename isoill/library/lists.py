"""The lists of a library's pages, read a page at a time: a reader's requests, the readers'
requests staff look after, the requests other libraries ask this one to supply, and the
accounts staff manage; each searched, filtered by state and counted in the store's query, so
a page reads its fifty rows whatever the library holds.

Requests live in the legs table, as the JSON payload of their leg
(:data:`isoill.library.kind.LIBRARY`'s ``payload_key``); accounts in the library's accounts
table. What is searched and filtered is read out of that JSON by the store's own SQL
(:meth:`isoill.gateway.store.Store.json_text`), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from isoill.gateway.store import Store
from isoill.library.accounts import Account, AccountRole
from isoill.library.kind import LIBRARY
from isoill.library.requests import ReaderRequest, SupplyRequest, desk_from_json

#: Rows on one page of a list.
PAGE_SIZE = 50
#: The states an account list is filtered by (what :func:`account_state` words say).
ACCOUNT_STATES = ("active", "waiting", "disabled", "rejected")

Item = TypeVar("Item")


@dataclass(frozen=True)
class Query:
    """What a list page asks for: the text searched for (empty: everything), the state
    (empty: any) and the page, counted from 1."""

    text: str = ""
    state: str = ""
    page: int = 1

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE


@dataclass(frozen=True)
class Found(Generic[Item]):
    """One page of a list, and how many rows the whole list has."""

    items: tuple[Item, ...]
    total: int
    query: Query

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


@dataclass
class _Where:
    """The conditions of a query and their arguments, in order."""

    parts: list[str]
    args: list[Any]

    def add(self, part: str, *args: Any) -> None:
        self.parts.append(part)
        self.args.extend(args)

    def contains(self, text: str, columns: Sequence[str]) -> None:
        """Any of ``columns`` holds ``text``, ignoring case; ``%`` and ``_`` are themselves."""
        if not text:
            return
        escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
        like = " OR ".join(f"LOWER({c}) LIKE LOWER(?) ESCAPE '!'" for c in columns)
        self.add(f"({like})", *[f"%{escaped}%"] * len(columns))

    def sql(self) -> str:
        return " AND ".join(self.parts)


def _page(
    store: Store,
    table: str,
    where: _Where,
    order: str,
    query: Query,
    columns: str,
    make: Callable[[Sequence[Any]], Item],
) -> Found[Item]:
    """The count of the rows ``where`` selects and the page of them ``query`` asks for."""
    with store.transaction() as cur:
        cur.execute(store.sql(f"SELECT COUNT(*) FROM {table} WHERE {where.sql()}"), where.args)
        total = int(cur.fetchone()[0])
        cur.execute(
            store.sql(
                f"SELECT {columns} FROM {table} WHERE {where.sql()}"
                f" ORDER BY {order} LIMIT ? OFFSET ?"
            ),
            [*where.args, PAGE_SIZE, query.offset],
        )
        rows = cur.fetchall()
    return Found(tuple(make(row) for row in rows), total, query)


def _desk(store: Store, *path: str) -> str:
    """SQL for the text at ``path`` in a leg's request (its payload)."""
    return store.json_text("body", LIBRARY.payload_key, *path)


def _requests(store: Store, where: _Where, order: str, query: Query) -> Found[Any]:
    """A page of the requests of legs ``where`` selects, decoded."""
    return _page(
        store,
        "legs",
        where,
        order,
        query,
        "body",
        lambda row: desk_from_json(json.loads(row[0])[LIBRARY.payload_key]),
    )


def reader_requests(
    store: Store,
    library: str,
    query: Query,
    *,
    readers: Sequence[str] = (),
    member: str = "",
) -> Found[ReaderRequest]:
    """A library's readers' requests, newest first: only those of ``readers`` when given (a
    reader and the old accounts linked into theirs), only those of a member library's
    readers when ``member`` is (its staff's list). Searched in the request number, the
    reader's account and name, the title and the transaction-id of the supplier asked now."""
    where = _Where(["network = ?", f"{_desk(store, 'kind')} = 'reader'"], [library])
    if readers:
        where.add(f"peer IN ({', '.join('?' for _ in readers)})", *readers)
    if member:
        where.add(
            "peer IN (SELECT username FROM accounts WHERE library = ?"
            f" AND {store.json_text('body', 'member')} = ?)",
            library,
            member,
        )
    if query.state:
        where.add(f"{_desk(store, 'state')} = ?", query.state)
    searched = [("number",), ("form", "name"), ("form", "title"), ("form", "article_title")]
    columns = ["peer", *(_desk(store, *p) for p in searched)]
    where.contains(query.text, [*columns, _desk(store, "rota", "current", "key")])
    order = f"CAST({_desk(store, 'number')} AS INTEGER) DESC"
    return _requests(store, where, order, query)


def supply_requests(store: Store, library: str, query: Query) -> Found[SupplyRequest]:
    """The requests other libraries ask ``library`` to supply, the latest to arrive first.
    Searched in the transaction-id, the requester, the title and the reader's name."""
    where = _Where(["network = ?", f"{_desk(store, 'kind')} = 'supply'"], [library])
    if query.state:
        where.add(f"{_desk(store, 'state')} = ?", query.state)
    searched = [("requester",), ("form", "title"), ("form", "article_title"), ("form", "name")]
    where.contains(query.text, ["tkey", *(_desk(store, *p) for p in searched)])
    return _requests(store, where, f"{_desk(store, 'arrived')} DESC, tkey", query)


def accounts(store: Store, staff: Account, query: Query) -> Found[Account]:
    """The accounts ``staff`` look after (:func:`isoill.library.accounts.can_confirm`: no
    staff accounts; a member library's staff only its own readers), by user name. The
    state is one of :data:`ACCOUNT_STATES`; searched in the user name, name, e-mail
    address, phone, member library and identity number."""

    def field(name: str) -> str:
        return store.json_text("body", name)

    where = _Where(["library = ?", "role <> ?"], [staff.library, AccountRole.STAFF.value])
    if staff.member:
        where.add(f"role = ? AND {field('member')} = ?", AccountRole.READER.value, staff.member)
    disabled = f"COALESCE({field('disabled')}, 'false') = 'true'"
    states = {
        "active": f"confirmed = 1 AND NOT {disabled}",
        "waiting": f"confirmed = 0 AND NOT {disabled}",
        "disabled": f"confirmed = 1 AND {disabled}",
        "rejected": f"confirmed = 0 AND {disabled}",
    }
    if query.state in states:
        where.add(states[query.state])
    searched = ["username", *(field(f) for f in ("name", "email", "phone", "member"))]
    where.contains(query.text, [*searched, field("id_number")])
    return _page(
        store,
        "accounts",
        where,
        "username",
        query,
        "library, username, body, version",
        lambda row: Account.from_json(row[0], row[1], json.loads(row[2]), row[3]),
    )
