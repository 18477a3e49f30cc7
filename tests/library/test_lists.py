"""Every list of the reader and staff pages is searched, filtered by state and paged (fifty a
page) in the store's query: a reader's requests, the readers' requests and the requests to
supply on the staff side, and the accounts staff manage. The queries are run on SQLite and
PostgreSQL alike; the pages on a real gateway in the test's process (as in test_pages).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from twisted.internet.task import Clock

import isoill
from isoill.gateway.config import Config
from isoill.gateway.service import Gateway
from isoill.gateway.store import Change, SQLiteStore, Store, StoredLeg
from isoill.library import lists
from isoill.library.accounts import Account, AccountRole
from isoill.library.lists import PAGE_SIZE, Query
from isoill.library.requests import (
    ReaderRequest,
    RequestState,
    SupplyRequest,
    SupplyState,
    request_key,
)
from isoill.library.service import LibraryService
from isoill.library.settings import Library, Member, library_network
from isoill.machine import Role, Transaction
from isoill.mapping.reader_form import read_form
from tests.library.support import FORM
from tests.library.test_pages import get, logged_in

LIBRARY = library_network(
    Library("thu", symbol="CALIS:THU", label="清华大学图书馆", members=(Member("CALIS:M1"),))
)
TODAY = date(2026, 3, 2)
AT = datetime(2026, 3, 2, 9, 0)


def person(store: Store, username: str, role: AccountRole, **fields: object) -> Account:
    made = Account(
        library="thu",
        username=username,
        role=role,
        password="scrypt$not-used-here",
        name=f"name of {username}",
        email=f"{username}@example.edu.cn",
        confirmed=True,
        created=AT,
    )
    made = replace(made, **fields)  # type: ignore[arg-type]
    store.commit(Change(rows=(made.row(),)), time.time())
    return made


def reader_leg(number: int, reader: str, **fields: str) -> StoredLeg:
    form = read_form({**FORM, "title": f"Title {number:03d}", **fields}, today=TODAY)
    request = ReaderRequest(number, "thu", reader, form, AT)
    tid = isoill.TransactionId(
        initial_requester_id=isoill.SystemId.institution("CALIS:THU"),
        transaction_group_qualifier=str(number),
        transaction_qualifier=str(number),
    )
    return StoredLeg(
        "thu", request_key(number), reader, "", Transaction(Role.REQUESTER, tid), payload=request
    )


def supply_leg(qualifier: str, title: str, state: SupplyState) -> StoredLeg:
    tid = isoill.TransactionId(
        initial_requester_id=isoill.SystemId.institution("CALIS:PKU"),
        transaction_group_qualifier="G",
        transaction_qualifier=qualifier,
    )
    key = f"CALIS:PKU/G/{qualifier}"
    form = read_form({**FORM, "title": title, "urgency": "urgent"}, today=TODAY)
    supply = SupplyRequest(key, "thu", "CALIS:PKU", form, AT, state=state)
    return StoredLeg("thu", key, "", "iso", Transaction(Role.RESPONDER, tid), payload=supply)


def test_the_store_pages_filters_and_searches_every_list(store: Store) -> None:
    person(store, "zhangsan", AccountRole.READER, member="CALIS:M1")
    person(store, "lisi", AccountRole.READER, confirmed=False)
    person(store, "wangwu", AccountRole.READER, confirmed=False, disabled=True)
    person(store, "m1staff", AccountRole.STAFF, member="CALIS:M1")
    staff = person(store, "librarian", AccountRole.STAFF)
    member_staff = replace(staff, username="m1staff", member="CALIS:M1")
    legs = [reader_leg(n, "zhangsan") for n in range(1, 111)]
    legs += [reader_leg(n, "lisi", name="李四") for n in range(111, 121)]
    fifth = reader_leg(5, "zhangsan")
    assert isinstance(fifth.payload, ReaderRequest)
    legs[4] = replace(fifth, payload=replace(fifth.payload, state=RequestState.CANCELLED))
    legs += [supply_leg("A-1", "Nature", SupplyState.PENDING)]
    legs += [supply_leg("B-2", "Science", SupplyState.SHIPPED)]
    store.commit(Change(legs=tuple(legs)), time.time())

    def numbers(found: lists.Found[ReaderRequest]) -> list[int]:
        return [r.number for r in found.items]

    # 120 requests: three pages, newest first.
    first = lists.reader_requests(store, "thu", Query())
    assert (first.total, first.pages, numbers(first)[:2]) == (120, 3, [120, 119])
    assert len(first.items) == PAGE_SIZE
    last = lists.reader_requests(store, "thu", Query(page=3))
    assert numbers(last) == list(range(20, 0, -1))
    assert lists.reader_requests(store, "thu", Query(page=4)).items == ()
    # A state, a title, a reader's name, a number; one reader's own.
    cancelled = lists.reader_requests(store, "thu", Query(state="cancelled"))
    assert (cancelled.total, numbers(cancelled)) == (1, [5])
    assert numbers(lists.reader_requests(store, "thu", Query("title 077"))) == [77]
    assert lists.reader_requests(store, "thu", Query("李四")).total == 10
    assert lists.reader_requests(store, "thu", Query("50%")).total == 0  # % is itself
    own = lists.reader_requests(store, "thu", Query(), readers=["lisi"])
    assert numbers(own) == list(range(120, 110, -1))
    # A member library's staff: only its own readers' (zhangsan's).
    assert lists.reader_requests(store, "thu", Query(), member="CALIS:M1").total == 110
    assert lists.reader_requests(store, "thu", Query(), member="CALIS:M9").total == 0
    # Requests to supply: by transaction-id, title, state.
    keys = [s.key for s in lists.supply_requests(store, "thu", Query("a-1")).items]
    assert keys == ["CALIS:PKU/G/A-1"]
    assert lists.supply_requests(store, "thu", Query("science")).total == 1
    assert lists.supply_requests(store, "thu", Query(state="pending")).total == 1
    assert lists.supply_requests(store, "thu", Query()).total == 2
    # Accounts: staff accounts are not listed; each state; a member's staff its readers.

    def names(who: Account, query: Query) -> list[str]:
        return [a.username for a in lists.accounts(store, who, query).items]

    assert names(staff, Query()) == ["lisi", "wangwu", "zhangsan"]
    assert names(staff, Query(state="waiting")) == ["lisi"]
    assert names(staff, Query(state="rejected")) == ["wangwu"]
    assert names(staff, Query(state="active")) == ["zhangsan"]
    assert names(staff, Query("LISI@example")) == ["lisi"]
    assert names(member_staff, Query()) == ["zhangsan"]


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    config = Config(networks=(LIBRARY,), http=None, ill=())
    store = SQLiteStore(tmp_path / "store.db")
    yield Gateway(config, store, Clock())
    store.close()


def rows(page: str, table: str) -> list[str]:
    """The first cell's text of each row of a table of the page (none: no table)."""
    body = page.partition(f'id="{table}"')[2].split("</table>", 1)[0]
    return re.findall(r"<tr><td>(?:<a [^>]*>)?([^<]*)", body)


def test_the_pages_show_a_list_fifty_at_a_time_with_its_search(gateway: Gateway) -> None:
    store = gateway.store
    reader = person(store, "zhangsan", AccountRole.READER)
    staff = person(store, "librarian", AccountRole.STAFF)
    service = LibraryService(gateway)
    for n in range(1, 121):
        form = read_form({**FORM, "title": f"Title {n:03d}"}, today=date.today())
        service.submit("thu", "zhangsan", form)
    service.cancel("thu", "zhangsan", 7)
    mine = logged_in(gateway, reader, "reader")

    first = get(gateway, "/reader/requests", mine).text
    assert rows(first, "requests")[:2] == ["120", "119"] and len(rows(first, "requests")) == 50
    assert "共 120 条" in first and "第 1/3 页" in first
    assert '<a href="/reader/requests?page=2">下一页</a>' in first and "上一页" not in first
    third = get(gateway, "/reader/requests?page=3", mine).text
    assert rows(third, "requests") == [str(n) for n in range(20, 0, -1)]
    assert '<a href="/reader/requests?page=2">上一页</a>' in third and "下一页" not in third

    cancelled = get(gateway, "/reader/requests?state=cancelled", mine).text
    assert rows(cancelled, "requests") == ["7"] and "共 1 条" in cancelled
    assert '<option value="cancelled" selected="">已取消</option>' in cancelled
    found = get(gateway, f"/reader/requests?q={quote('title 042')}", mine).text
    assert rows(found, "requests") == ["42"]
    nothing = get(gateway, "/reader/requests?q=nowhere", mine).text
    assert "没有符合条件的记录" in nothing and "共 0 条" in nothing

    desk = logged_in(gateway, staff, "staff")
    home = get(gateway, "/staff/", desk).text
    assert len(rows(home, "reader-requests")) == 50 and "共 120 条" in home
    assert '<a href="/staff/requests?page=2">下一页</a>' in home
    listed = get(gateway, f"/staff/requests?q={quote('name of')}&page=2", desk).text
    assert rows(listed, "reader-requests") == []  # the reader's name is the form's: 张三
    assert "共 0 条" in listed and '<a href="/staff/requests?q=name+of&amp;page=1">' in listed
    by_name = get(gateway, f"/staff/requests?q={quote('张三')}&page=3", desk).text
    assert rows(by_name, "reader-requests")[0] == "20"
    assert '<a href="/staff/requests?q=%E5%BC%A0%E4%B8%89&amp;page=2">上一页</a>' in by_name
    english = get(gateway, "/staff/requests?state=cancelled&lang=en", desk).text
    assert rows(english, "reader-requests") == ["7"] and "1 in all" in english
    assert get(gateway, "/staff/supply?q=x", desk).text.count("没有符合条件的记录") == 1
    accounts = get(gateway, "/staff/accounts?state=active", desk).text
    assert rows(accounts, "all-accounts") == ["zhangsan"]
    # Suppliers see 加急 at a glance, on the list and on the request's page.
    store.commit(Change(legs=(supply_leg("U-1", "Nature", SupplyState.PENDING),)), time.time())
    urgent = '<strong class="urgent">加急</strong>'
    assert urgent in get(gateway, "/staff/supply", desk).text
    assert urgent in get(gateway, f"/staff/supply/{quote('CALIS:PKU/G/U-1', safe='')}", desk).text
