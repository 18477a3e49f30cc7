"""The library's service takes its time from the gateway's reactor: a test's clock moves a
request on to the next supplier when the one asked lets the deadline pass, tells staff and
the reader when a supplier lets the Cancel's deadline pass, and ends a login session when
its lifetime is over, each at that moment and not a second before. A real gateway (its
store, its relay and desks) runs in the test's process on Twisted's memory reactor (a
``task.Clock``); its outbox poll is the test's ``deliver()``.
"""

from __future__ import annotations

from pathlib import Path

from isoill.gateway import clock
from isoill.library.accounts import SESSION_LIFETIME
from isoill.library.requests import RequestState
from isoill.library.service import LibraryService
from isoill.library.settings import library_named
from isoill.mapping.reader_form import read_form
from tests.gateway.wiring import STAFF, START, WEB, add_staff, clocked, config, gateway_on
from tests.library.support import FORM


def test_a_silent_supplier_is_passed_over_when_the_clock_passes_the_deadline(
    tmp_path: Path,
) -> None:
    settings = config(WEB)
    with gateway_on(tmp_path, settings) as gateway:
        reactor = clocked(gateway)
        service = LibraryService(gateway)
        form = read_form(FORM, today=gateway.now().date())
        number = service.submit("centre", "zhangsan", form).number
        service.send_request("centre", number, ["OCLC:FIRST", "OCLC:SECOND"])
        deadline = library_named(settings, "centre").deadline
        reactor.advance(deadline - 1)
        gateway.deliver()  # the poll that reads the deadlines
        waiting = service.library_request("centre", number).rota
        assert waiting.current is not None
        assert waiting.current.symbol == "OCLC:FIRST"
        assert waiting.current.deadline == clock.local(START + deadline)  # the reactor's time
        reactor.advance(1)
        gateway.deliver()
        moved = service.library_request("centre", number).rota
        assert moved.current is not None
        assert moved.current.symbol == "OCLC:SECOND"
        assert [t.symbol for t in moved.tried] == ["OCLC:FIRST"]


def test_a_session_ends_when_the_clock_passes_its_lifetime(tmp_path: Path) -> None:
    with gateway_on(tmp_path, config(WEB)) as gateway:
        reactor = clocked(gateway)
        add_staff(gateway)
        service = LibraryService(gateway)
        account = service.account("centre", STAFF[0])
        assert account is not None
        token, _ = service.open_session(account)
        reactor.advance(SESSION_LIFETIME - 1)
        assert service.session(token) is not None
        reactor.advance(1)
        assert service.session(token) is None


def test_staff_and_the_reader_hear_when_the_clock_passes_the_cancel_deadline(
    tmp_path: Path,
) -> None:
    settings = config(WEB + 'staff_email = "ill@calis.example"\ncancel_deadline = 7200.0\n')
    with gateway_on(tmp_path, settings) as gateway:
        reactor = clocked(gateway)
        service = LibraryService(gateway)
        form = read_form(FORM, today=gateway.now().date())
        number = service.submit("centre", "zhangsan", form).number
        service.send_request("centre", number, ["OCLC:FIRST"])
        asked = service.cancel("centre", None, number)
        assert asked.state is RequestState.CANCEL_PENDING

        def mailed() -> list[str]:
            return sorted(i.peer for i in gateway.store.pending() if i.peer.startswith("mail:"))

        reactor.advance(7200 - 1)
        gateway.deliver()
        assert service.library_request("centre", number).history[-1][1].startswith("馆员请求取消")
        assert mailed() == []
        reactor.advance(1)
        gateway.deliver()
        told = service.library_request("centre", number)
        assert told.state is RequestState.CANCEL_PENDING
        assert "OCLC:FIRST" in told.history[-1][1] and "未答复取消" in told.history[-1][1]
        assert mailed() == ["mail:ill@calis.example", f"mail:{FORM['email']}"]
        reactor.advance(86400)
        gateway.deliver()  # told once
        assert service.library_request("centre", number).history == told.history
