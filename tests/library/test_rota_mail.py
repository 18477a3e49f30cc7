"""The reader's mails from a lender rota in distributed mode, on a loopback SMTP server:
staff send a reader's request to two suppliers, fake ISO ILL peers. The reader hears once,
when the request really ends: one 无法满足 mail with both suppliers' reasons in Chinese
when both refuse, and none at all when the first refuses and the second ships (only the
shipped notice). A refusal on the way is never mailed, since the next supplier may ship.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import pytest

import isoill
from isoill.apdu.enums import ReasonUnfilled
from isoill.machine import Role
from tests.gateway.support import Connection, FakePeer, GatewayProcess, Side
from tests.library.support import MailSink
from tests.library.test_central import shipped_copy, unfilled
from tests.library.test_reader_pages import CONFIG, FORM, submitted_for_staff

#: Fudan University, the second supplier, besides the configuration's Peking University.
FUDAN = """
[[peer]]
name = "fdu"
network = "calis"
symbols = ["CALIS:FDU"]
connect = "tcp:host=127.0.0.1:port={port}"
"""


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[GatewayProcess, FakePeer, FakePeer, MailSink]]:
    """The gateway of THU, whose mail goes to the sink, with PKU and FDU as suppliers."""
    pku, fdu, sink = FakePeer(), FakePeer(), MailSink()
    config = CONFIG.format(dead=sink.port, pku=pku.port) + FUDAN.format(port=fdu.port)
    gateway = GatewayProcess(tmp_path, config).start()
    gateway.add_staff("thu-staff", "thu", "staff-secret-1")
    try:
        yield gateway, pku, fdu, sink
    finally:
        gateway.stop()
        for peer in (pku, fdu):
            peer.close()
        sink.close()


def asked(peer: FakePeer) -> tuple[isoill.ILLRequest, Side, Connection]:
    """The ILL-Request the supplier got, its side of the transaction and its connection."""
    connection, request = peer.receive(timeout=15)
    assert isinstance(request, isoill.ILLRequest)
    side = Side(Role.RESPONDER, request.transaction_id)
    side.got(request)
    return request, side, connection


def request_mails(sink: MailSink, subject: str) -> list[EmailMessage]:
    """The reader's mails about requests (not about the account), once one whose subject
    has ``subject`` came; a moment later, so that one too many would be seen."""
    end = time.monotonic() + 20

    def found() -> list[EmailMessage]:
        return [m for m in sink.to(FORM["email"]) if str(m["Subject"]).startswith("馆际互借申请")]

    while not any(subject in str(m["Subject"]) for m in found()):
        assert time.monotonic() < end, [str(m["Subject"]) for m in sink.to(FORM["email"])]
        time.sleep(0.1)
    time.sleep(1.5)
    return found()


@pytest.mark.parametrize("second_ships", [False, True], ids=["both-refuse", "second-ships"])
def test_the_reader_is_mailed_once_when_the_request_really_ends(
    world: tuple[GatewayProcess, FakePeer, FakePeer, MailSink], second_ships: bool
) -> None:
    gateway, pku, fdu, sink = world
    _, staff = submitted_for_staff(gateway)
    status, _, _ = staff.post("/staff/requests/1/send", {"suppliers": "CALIS:PKU, CALIS:FDU"})
    assert status == 200
    first, side, connection = asked(pku)
    connection.send(unfilled(side, first, ReasonUnfilled.NOT_OWNED))
    second, side, connection = asked(fdu)
    if second_ships:
        connection.send(side.sent(shipped_copy(second, Decimal("8"))))
        (mail,) = request_mails(sink, "已运送")
        assert "无法满足" not in str(mail["Subject"]) + mail.get_content()
        return
    connection.send(unfilled(side, second, ReasonUnfilled.AT_BINDERY))
    (mail,) = request_mails(sink, "无法满足")
    text = mail.get_content()
    assert "CALIS:PKU: 无法满足 (unfilled): 本馆未收藏" in text
    assert "CALIS:FDU: 无法满足 (unfilled): 正在装订" in text
