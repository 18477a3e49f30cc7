"""The gateway's HTML pages come out of one shell (:mod:`isoill.gateway.pages`), built with
twisted.web.template, which escapes whatever a page shows: a reader's name, a title or a
library's label that holds markup is shown as text on each kind of page (the reader list,
the staff desk, the operations index and a transaction), and every kind has the same frame
(head, header, nav, main) and security headers.

A real gateway (its store, sessions and desks) in the test's process, its HTTP side driven
through Twisted's own parser and resource tree with no network, as in test_web.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from twisted.internet.task import Clock

import isoill
import isoill.library
from isoill.gateway.config import Config
from isoill.gateway.pages import STYLE
from isoill.gateway.service import Gateway
from isoill.gateway.store import Change, LogEntry, SQLiteStore, StoredLeg
from isoill.gateway.web import site
from isoill.library.accounts import Account, AccountRole
from isoill.library.pages_common import Words, history_text
from isoill.library.service import LibraryService
from isoill.library.settings import Library, library_network
from isoill.machine import Role, Transaction, machine
from isoill.mapping.reader_form import read_form
from tests.gateway.support import Answer, exchange

TOKEN = "test-operator-token-0123456789abcdef"
#: Markup in what readers, peers and the configuration give the pages.
EVIL = '<script>alert("x")</script>'
ESCAPED = '&lt;script&gt;alert("x")&lt;/script&gt;'
LIBRARY = library_network(Library("thu", symbol="CALIS:THU", label=f"清华 {EVIL}"))


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    config = Config(networks=(LIBRARY,), operator_tokens=(TOKEN,), http=None, ill=())
    store = SQLiteStore(tmp_path / "store.db")
    yield Gateway(config, store, Clock())
    store.close()


def get(gateway: Gateway, path: str, cookie: str = "") -> Answer:
    """One GET through the gateway's site, as an operator's program unless a cookie logs
    in to the library's pages."""
    login = {"Cookie": cookie} if cookie else {"Authorization": f"Bearer {TOKEN}"}
    return exchange(site(gateway), "GET", path, headers=login, listener="192.0.2.1")


def account(gateway: Gateway, username: str, role: AccountRole, *, confirmed: bool) -> Account:
    made = Account(
        library=LIBRARY.name,
        username=username,
        role=role,
        password="scrypt$not-used-here",
        name=f"王五 {EVIL}",
        email=f"{username}@example.edu.cn",
        confirmed=confirmed,
        created=datetime.now(),
    )
    gateway.store.commit(Change(rows=(made.row(),)), time.time())
    return made


def logged_in(gateway: Gateway, made: Account, area: str) -> str:
    token, _ = LibraryService(gateway).open_session(made)
    return f"isoill_{area}={token}"


def submitted(gateway: Gateway, reader: Account) -> int:
    fields = {
        "service": "copy",
        "document_type": "journal-article",
        "title": f"Interlending {EVIL}",
        "cost_limit": "30",
        "name": "王五",
        "email": "wangwu@example.edu.cn",
        "phone": "010-62780000",
    }
    form = read_form(fields, today=date.today())
    return LibraryService(gateway).submit(LIBRARY.name, reader.username, form).number


def stored_leg(gateway: Gateway) -> StoredLeg:
    """A peer's request whose transaction id and title hold markup."""
    ask = isoill.ILLRequest(
        transaction_id=isoill.TransactionId(
            initial_requester_id=isoill.SystemId.institution("NACSIS:FA001234"),
            transaction_group_qualifier="GIF",
            transaction_qualifier='T"1<b>',
        ),
        requester_id=isoill.SystemId.institution("NACSIS:FA001234"),
        responder_id=isoill.SystemId.institution("OCLC:XYZ"),
        ill_service_type=(isoill.ILLServiceType.COPY_NON_RETURNABLE,),
        item_id=isoill.ItemId(title=f"Title {EVIL}", author="Example"),
    )
    txn = machine.receive(Transaction(Role.RESPONDER, ask.transaction_id), ask).transaction
    key = 'NACSIS:FA001234/GIF/T"1<b>'
    leg = StoredLeg("oclc", key, f"peer {EVIL}", "nacsis", txn)
    entry = LogEntry("in", "oclc-peer", "oclc", "ILL-REQUEST", key, isoill.encode(ask))
    gateway.store.commit(Change(legs=(leg,), log=(entry,)), at=time.time())
    return leg


class Frame(HTMLParser):
    """A page's frame: the elements of its head, and of its body down to the nav's and
    header's children and main's heading (what every kind of page shares)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.frame: list[str] = []
        self.lang = ""
        self.style = ""
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang") or ""
        parent = "/".join(self.stack)
        if parent in ("html", "html/head", "html/body", "html/body/header", "html/body/nav"):
            self.frame.append(f"{parent}/{tag}")
        if parent == "html/body/main" and not any(f.startswith("main:") for f in self.frame):
            self.frame.append(f"main:{tag}")
        if tag not in ("meta", "input"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack[-1:] == ["style"]:
            self.style += data


def shared(frame: Frame) -> list[str]:
    """What every kind has: head (meta, meta, title, style), header (the heading first),
    nav with links, main headed by the page's title. A kind adds its script, its language
    link, a logout form."""
    keep = {
        "html/head",
        "html/body",
        "html/head/meta",
        "html/head/title",
        "html/head/style",
        "html/body/header",
        "html/body/nav",
        "html/body/main",
        "html/body/header/strong",
        "html/body/nav/a",
        "main:h1",
    }
    seen: list[str] = []
    for element in frame.frame:
        if element in keep and element not in seen:
            seen.append(element)
    return seen


def test_every_kind_of_page_escapes_what_it_shows(gateway: Gateway) -> None:
    reader = account(gateway, "wangwu", AccountRole.READER, confirmed=True)
    number = submitted(gateway, reader)
    account(gateway, "zhaoliu", AccountRole.READER, confirmed=False)
    staff = account(gateway, "librarian", AccountRole.STAFF, confirmed=True)
    leg = stored_leg(gateway)

    listing = get(gateway, "/reader/requests", logged_in(gateway, reader, "reader"))
    desk = get(gateway, "/staff/", logged_in(gateway, staff, "staff"))
    index = get(gateway, f"/?q={quote(EVIL)}")
    everything = get(gateway, "/")
    one = get(gateway, f"/transactions/oclc/{quote(leg.key, safe='')}")
    pages = [listing, desk, index, everything, one]
    assert [p.status for p in pages] == [200] * 5
    for found in pages:
        assert "<script>" not in found.text and "<b>" not in found.text
    # The reader's list: the title, the reader's name in the nav, the library in the header.
    assert f"Interlending {ESCAPED}" in listing.text and f'id="cancel-{number}"' in listing.text
    assert f"<span>王五 {ESCAPED}</span>" in listing.text
    assert f"<strong>清华 {ESCAPED} 馆际互借读者网关系统</strong>" in listing.text
    # The staff desk: the pending reader's name, the reader's request, the library.
    assert f"<td>王五 {ESCAPED}</td>" in desk.text and 'id="confirm-zhaoliu"' in desk.text
    assert f"Interlending {ESCAPED}" in desk.text and f"清华 {ESCAPED}" in desk.text
    # The operations index: the query shown back in its attribute, the peer and the key.
    assert 'value="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"' in index.text
    assert f"<td>peer {ESCAPED}</td>" in everything.text
    assert 'GIF/T"1&lt;b&gt;</a>' in everything.text
    # The transaction: its title, key and peer.
    assert f"<td>Title {ESCAPED}</td>" in one.text
    assert '<title>Transaction NACSIS:FA001234/GIF/T"1&lt;b&gt;</title>' in one.text


def test_reader_staff_and_operations_pages_share_one_shell(gateway: Gateway) -> None:
    reader = account(gateway, "wangwu", AccountRole.READER, confirmed=True)
    submitted(gateway, reader)
    staff = account(gateway, "librarian", AccountRole.STAFF, confirmed=True)
    leg = stored_leg(gateway)
    kinds = {
        "reader": get(gateway, "/reader/requests", logged_in(gateway, reader, "reader")),
        "reader login": get(gateway, "/reader/"),
        "staff": get(gateway, "/staff/", logged_in(gateway, staff, "staff")),
        "operations": get(gateway, "/"),
        "transaction": get(gateway, f"/transactions/oclc/{quote(leg.key, safe='')}"),
        "not found": get(gateway, "/transactions/oclc/nothing"),
    }
    frames = {name: Frame(answer.text) for name, answer in kinds.items()}
    expected = shared(frames["operations"])
    assert expected == [
        "html/head",
        "html/head/meta",
        "html/head/title",
        "html/head/style",
        "html/body",
        "html/body/header",
        "html/body/header/strong",
        "html/body/nav",
        "html/body/nav/a",
        "html/body/main",
        "main:h1",
    ]
    for name in ("reader", "staff", "transaction", "not found"):
        assert shared(frames[name]) == expected, name
    # Not logged in, a reader's page has the same frame, its nav only the guide's 帮助 and 关于.
    assert shared(frames["reader login"]) == expected
    assert 'href="/reader/help"' in kinds["reader login"].text
    assert "/reader/requests" not in kinds["reader login"].text
    for name, frame in frames.items():
        assert frame.style == STYLE, name
        assert kinds[name].text.startswith("<!doctype html><html lang="), name
        headers = kinds[name].headers
        assert headers["content-type"] == "text/html; charset=utf-8", name
        assert headers["content-security-policy"].startswith("default-src 'none'"), name
        assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
    assert frames["reader"].lang == "zh-CN" and frames["operations"].lang == "en"
    # The libraries' pages run their one script and switch language; operators' run nothing.
    assert '<script src="/static/isoill.js" defer=""></script>' in kinds["staff"].text
    assert 'id="lang"' in kinds["reader"].text and 'id="lang"' in kinds["staff"].text
    assert "<script" not in kinds["operations"].text and 'id="lang"' not in kinds["operations"].text
    assert "script-src" not in kinds["operations"].headers["content-security-policy"]


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ("提交申请 / submitted", "提交申请", "submitted"),
        ("submitted / 提交申请", "提交申请", "submitted"),  # as lines were stored before
        (
            "CALIS:PKU 无法满足: 本馆未收藏 (not-owned) / CALIS:PKU cannot supply: not owned",
            "CALIS:PKU 无法满足: 本馆未收藏 (not-owned)",
            "CALIS:PKU cannot supply: not owned",
        ),
        ("CALIS:PKU: Cancel-Reply", "CALIS:PKU: Cancel-Reply", "CALIS:PKU: Cancel-Reply"),
    ],
)
def test_history_lines_are_shown_in_the_pages_language(text: str, zh: str, en: str) -> None:
    assert history_text(Words(0), text) == zh
    assert history_text(Words(1), text) == en
