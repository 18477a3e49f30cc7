"""Every page in one language: Chinese unless ``?lang=en`` asks for English.

The walk visits the reader's and the staff's pages in every state the fixtures reach (a
request not yet sent, sent, shipped and received; a request to supply; accounts, help, a
page that is not there, a form with problems) and fails on an English word in a Chinese page
or a Chinese character in an English one, except what is no language: the reader's own data,
library names, symbols, codes in brackets, ISSN/ISBN/DOI, e-mail addresses and numbers.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import isoill
from isoill.apdu.enums import (
    Conditions,
    ILLServiceType,
    ReasonUnfilled,
    TransactionResults,
)
from isoill.apdu.types import ConditionalResults, UnfilledResults
from isoill.machine import Role
from tests.gateway.support import FakePeer, GatewayProcess, Side
from tests.library.support import Client
from tests.library.test_reader_pages import FORM, confirmed_reader, gateway, pku, pku_asks

__all__ = ["gateway", "pku"]

#: What a Chinese page may say in Latin letters: terms the CALIS guides write so.
ZH_TERMS = ("email", "CALIS", "ISO", "ILL", "ISSN", "ISBN", "DOI", "CCC", "English", "YYYY-MM-DD")
#: Codes the pages show: ISO 639-2 languages (the form's examples), ISO 4217 currency.
CODES = ("eng", "chi", "jpn", "CNY")
#: What an English page may show in Chinese: the switch to Chinese and proper names.
EN_NAMES = ("中文", "清华大学图书馆", "CALIS 馆际互借中心", "成员馆一", "王五", "北京大学图书馆")

_NO_LANGUAGE = [
    re.compile(p)
    for p in (
        r"[\w.+-]+@[\w-]+(\.[\w-]+)+",  # e-mail addresses
        r"https?://\S+",  # URLs
        r"\b[A-Z][A-Z0-9]*:[\w:/-]+",  # symbols and transaction ids (CALIS:PKU/PKU/1)
        r"\((?:[a-z]+-)*[a-z]+\)",  # ISO codes in brackets (not-owned)
        r"\b\d[\d.:\-/]*\b",  # numbers, dates, times
        r"\b(?:ISSN|ISBN|DOI|doi)\b[^,;<]*",  # identifiers
    )
]


def body_text(page: str) -> str:
    """The page's words as a reader reads them: the body, without markup or script."""
    body = page.partition("<body")[2] or page
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def english_words(page: str, data: list[str]) -> list[str]:
    """Latin words in a Chinese page that are not data, names, codes or the guide's terms."""
    text = body_text(page)
    for pattern in _NO_LANGUAGE:
        text = pattern.sub(" ", text)
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    for term in ZH_TERMS:
        text = re.sub(term, " ", text, flags=re.I)
    for code in CODES:
        text = re.sub(rf"\b{code}\b", " ", text)
    return re.findall(r"[A-Za-z]{2,}", text)


def chinese(page: str, data: list[str]) -> list[str]:
    """Chinese characters in an English page that are not data or proper names."""
    text = body_text(page)
    for value in sorted([*data, *EN_NAMES], key=len, reverse=True):
        text = text.replace(value, " ")
    return re.findall(r"[\u3400-\u9fff]+", text)


def walk(
    clients: list[tuple[Client, list[str]]], data: list[str], found: dict[str, list[str]]
) -> None:
    """Every page of ``clients`` (a client and its paths) in both languages."""
    for client, paths in clients:
        for path in paths:
            for lang, check in (("zh", english_words), ("en", chinese)):
                sep = "&" if "?" in path else "?"
                _, page, _ = client.get(f"{path}{sep}lang={lang}")
                wrong = check(page, data)
                if wrong:
                    found[f"{lang} {path}"] = sorted(set(wrong))
            client.get("/reader/?lang=zh" if path.startswith("/reader") else "/staff/?lang=zh")


def ids(ask: isoill.ILLRequest) -> dict[str, Any]:
    """The ids a supplier's answer to ``ask`` carries."""
    return {
        "transaction_id": ask.transaction_id,
        "requester_id": ask.requester_id,
        "responder_id": ask.responder_id,
    }


def until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 15
    while not check():
        assert time.monotonic() < deadline, "the gateway never got there"
        time.sleep(0.2)


def test_every_page_speaks_one_language(gateway: GatewayProcess, pku: FakePeer) -> None:
    data = [v for v in FORM.values() if v] + ["wangwu", "thu-staff", "ZHANG San", "abc", "nomail"]
    found: dict[str, list[str]] = {}
    anonymous = Client(gateway)
    public = ["/reader/", "/staff/", "/reader/register", "/reader/forgot", "/reader/help"]
    walk([(anonymous, [*public, "/reader/about", "/reader/email"])], data, found)
    reader = confirmed_reader(gateway, "thu", "wangwu")
    reader.get("/reader/request")
    form = {**FORM, "holding_library": "CALIS:PKU"}
    assert reader.post("/reader/request", form)[0] == 200
    staff = Client(gateway)
    staff.log_in("staff", "thu", "thu-staff", "staff-secret-1")
    reader_pages = [
        "/reader/",
        "/reader/request",
        "/reader/requests",
        "/reader/requests/1",
        "/reader/requests/99",
        "/reader/profile",
        "/reader/password",
        "/reader/link",
        "/reader/help",
        "/reader/about",
        "/reader/nothing-here",
    ]
    staff_pages = [
        "/staff/",
        "/staff/requests/1",
        "/staff/accounts",
        "/staff/profile",
        "/staff/help",
        "/staff/nothing-here",
    ]
    both = [(reader, reader_pages), (staff, staff_pages)]
    walk(both, data, found)  # not yet sent
    # A form with problems, and a refusal, in each language.
    for lang, check in (("zh", english_words), ("en", chinese)):
        reader.get(f"/reader/request?lang={lang}")
        bad = {**FORM, "cost_limit": "abc", "phone": "", "email": "nomail"}
        _, page, _ = reader.post("/reader/request", bad)
        if check(page, data):
            found[f"{lang} problems"] = check(page, data)
        staff.get(f"/staff/requests/1?lang={lang}")
        _, page, _ = staff.post("/staff/requests/1/send", {"suppliers": "CALIS:NOWHERE"})
        if check(page, data):
            found[f"{lang} refused"] = check(page, data)
    staff.get("/staff/?lang=zh")
    assert staff.post("/staff/requests/1/send", {"suppliers": "CALIS:PKU"})[0] == 200
    connection, ask = pku.receive(timeout=15)
    assert isinstance(ask, isoill.ILLRequest)
    walk(both, data, found)  # sent
    side = Side(Role.RESPONDER, ask.transaction_id)
    side.got(ask)
    shipped = isoill.Shipped(
        **ids(ask),
        shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE,
        supply_details=isoill.SupplyDetails(
            cost=isoill.Amount(monetary_value=Decimal("8"), currency_code="CNY")
        ),
    )
    connection.send(side.sent(shipped))
    until(lambda: 'id="received-1"' in staff.get("/staff/")[1])
    walk(both, data, found)  # shipped
    assert staff.post("/staff/requests/1/received", {})[0] == 200
    assert isinstance(pku.receive(timeout=15)[1], isoill.Received)
    walk(both, data, found)  # received
    # Not supplied (with the supplier's reason), the supplier's conditions, cancelled.
    answers = {
        2: (TransactionResults.UNFILLED, UnfilledResults(reason_unfilled=ReasonUnfilled.LACKING)),
        3: (
            TransactionResults.CONDITIONAL,
            ConditionalResults(conditions=Conditions.COST_EXCEEDS_LIMIT),
        ),
    }
    for number, (results, why) in answers.items():
        reader.get("/reader/request")
        assert reader.post("/reader/request", form)[0] == 200
        staff.get("/staff/")
        assert staff.post(f"/staff/requests/{number}/send", {"suppliers": "CALIS:PKU"})[0] == 200
        connection, ask = pku.receive(timeout=15)
        assert isinstance(ask, isoill.ILLRequest)
        side = Side(Role.RESPONDER, ask.transaction_id)
        side.got(ask)
        answer = isoill.ILLAnswer(
            **ids(ask),
            transaction_results=results,
            results_explanation=why,
            responder_note="CNY 60.00",
        )
        connection.send(side.sent(answer))
        state = "无法满足" if number == 2 else "等待读者答复"
        until(lambda n=number, s=state: s in reader.get(f"/reader/requests/{n}?lang=zh")[1])
    reader.get("/reader/request")
    assert reader.post("/reader/request", form)[0] == 200
    assert reader.post("/reader/requests/4/cancel", {})[0] == 200
    numbered = [f"/reader/requests/{n}" for n in (2, 3, 4)]
    walk(
        [(reader, numbered), (staff, [p.replace("reader", "staff") for p in numbered])], data, found
    )
    # A request to supply, from Peking University (last: its association then carries
    # what the gateway sends Peking University).
    asks = pku_asks(gateway, {**FORM, "name": "ZHANG San"}, "walk-1")[2]
    # What the requesting library wrote (its note, its wire labels) is its data.
    data += [asks.requester_note or "", "电话/phone"]
    until(lambda: "ZHANG San" in staff.get("/staff/")[1])
    supply = re.findall(r'href="(/staff/supply/[^"]+)"', staff.get("/staff/")[1])
    walk([(staff, ["/staff/", *supply[:1]])], data, found)
    assert not found, found
