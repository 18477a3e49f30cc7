"""A library network's settings as the configuration file gives them: the rush fee (加急费) of
the library and of each member library, what a reader of each pays, and the form that tells
them so when they choose 加急; the ILL staff address of each, where CALIS e-mail mode sends
a member library's readers' requests; the member library a request's reader pays."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import pytest

from isoill.gateway.config import ConfigError
from isoill.gateway.service import Gateway
from isoill.gateway.web import site
from isoill.library.accounts import AccountRole
from isoill.library.service import LibraryService
from isoill.library.settings import library_named, rush_fee
from isoill.mapping.reader_form import read_form
from tests.gateway.support import exchange
from tests.gateway.wiring import config, gateway_on
from tests.library.support import FORM
from tests.library.test_lists import person
from tests.library.test_pages import get, logged_in

CENTRE = """
[gateway]
ill = []
http = ""

[[network]]
name = "centre"
kind = "library"
symbol = "CALIS:CENTRE"
mode = "central"
rush_fee = 10
staff_email = "ill@centre.example"
members = [
    { symbol = "CALIS:THU", label = "清华", rush_fee = "12.5", staff_email = "ill@thu.example" },
    { symbol = "CALIS:PKU" },
]
"""


def test_the_rush_fee_is_the_members_own_else_the_librarys() -> None:
    centre = library_named(config(CENTRE), "centre")
    assert centre.rush_fee == Decimal("10.00")
    assert rush_fee(centre, "CALIS:THU") == Decimal("12.50")
    assert rush_fee(centre, "CALIS:PKU") == Decimal("10.00")  # none of its own
    assert rush_fee(centre) == Decimal("10.00")
    unset = library_named(config(CENTRE.replace("rush_fee = 10\n", "")), "centre")
    assert rush_fee(unset, "CALIS:PKU") is None


@pytest.mark.parametrize("bad", ['"ten"', "-1", "true", '"NaN"'])
def test_a_rush_fee_that_is_no_amount_is_refused_where_it_is(bad: str) -> None:
    text = CENTRE.replace('rush_fee = "12.5"', f"rush_fee = {bad}")
    with pytest.raises(ConfigError, match="member 1: rush_fee must be an amount of yuan"):
        config(text)


def reader_of(gateway: Gateway, member: str) -> str:
    """The login cookie of a new reader of ``member``."""
    username = f"reader-{member[6:].lower()}"
    reader = person(gateway.store, username, AccountRole.READER, library="centre", member=member)
    return logged_in(gateway, reader, "reader")


@pytest.fixture
def centre(tmp_path: Path) -> Iterator[Gateway]:
    with gateway_on(tmp_path, config(CENTRE)) as gateway:
        yield gateway


def test_the_form_names_the_rush_fee_the_reader_pays(centre: Gateway) -> None:
    def hint(member: str) -> str:
        page = get(centre, "/reader/request", reader_of(centre, member)).text
        found = re.search(r'<p class="hint" id="rush-hint">([^<]*)</p>', page)
        assert found is not None
        return found.group(1)

    assert hint("CALIS:THU") == "加急: 用户选择加急处理, 需自付费用12.50元/篇。"
    assert hint("CALIS:PKU") == "加急: 用户选择加急处理, 需自付费用10.00元/篇。"


def test_email_mode_sends_a_member_librarys_requests_to_its_own_staff(centre: Gateway) -> None:
    token = "anonymous-csrf-token-0123456789"

    def mail(to_library: str, cookie: str) -> str:
        """Post the e-mail mode form; the address the request was mailed to."""
        # Logged in, the session's token; else the double-submitted cookie's.
        found = re.search(r'name="csrf" value="([^"]+)"', get(centre, "/reader/", cookie).text)
        csrf = found.group(1) if cookie and found else token
        fields = {**FORM, "to_library": to_library, "csrf": csrf}
        body = urlencode(fields).encode()
        headers = {
            "Cookie": f"{cookie}; isoill_csrf={token}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Content-Length": str(len(body)),
        }
        answer = exchange(site(centre), "POST", "/reader/email", body, headers)
        assert answer.status == 200, answer.text
        return centre.store.pending()[-1].peer

    member = reader_of(centre, "CALIS:THU")
    assert 'value="CALIS:THU" selected=""' in get(centre, "/reader/email", member).text
    assert mail("CALIS:THU", member) == "mail:ill@thu.example"
    assert mail("centre", member) == "mail:ill@thu.example"  # still its own library's staff
    assert mail("centre", reader_of(centre, "CALIS:PKU")) == "mail:ill@centre.example"
    # Not logged in, the member library chosen is the reader's.
    assert mail("CALIS:THU", "") == "mail:ill@thu.example"
    assert mail("centre", "") == "mail:ill@centre.example"


def test_a_request_remembers_the_member_library_its_reader_pays(centre: Gateway) -> None:
    reader_of(centre, "CALIS:THU")
    form = read_form(FORM, today=centre.now().date())
    submitted = LibraryService(centre).submit("centre", "reader-thu", form)
    assert submitted.member == "CALIS:THU"
    assert LibraryService(centre).library_request("centre", submitted.number).member == "CALIS:THU"
