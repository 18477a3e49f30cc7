"""ISO ILL store-and-forward by e-mail, between two real gateways on loopback.

Gateway A is a CALIS centre in central mode; its supplier, library FDU, sits behind gateway B,
and the two know each other only by e-mail address: A's outbox mails the ILL-Request (BER in
MIME, RFC 2503) through B's SMTP listener, B takes it as a request for its library and answers
with its acknowledgement by mail through A's listener. A mail that is not ISO ILL is refused at
SMTP with a 5xx (the sending server bounces it) and kept, byte for byte, in B's log.
"""

from __future__ import annotations

import smtplib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from isoill.gateway.store import SQLiteStore
from isoill.library.requests import SupplyRequest
from tests.gateway.support import GatewayProcess, free_port, wait_for_port
from tests.library.support import FORM

CENTRE = """
[gateway]
open = false

[retry]
first = 0.2

[mail]
address = "ill@centre.example"
relay = "tcp:host=127.0.0.1:port={b_smtp}"
listen = "tcp:{a_smtp}:interface=127.0.0.1"

[[network]]
name = "centre"
kind = "library"
symbol = "CALIS:CENTRE"
mode = "central"

[[network]]
name = "calis"
kind = "iso"

[[peer]]
name = "fdu"
network = "calis"
symbols = ["CALIS:FDU"]
mail = "ill@fdu.example"
"""

SUPPLIER = """
[gateway]
open = false

[retry]
first = 0.2

[mail]
address = "ill@fdu.example"
relay = "tcp:host=127.0.0.1:port={a_smtp}"
listen = "tcp:{b_smtp}:interface=127.0.0.1"

[[network]]
name = "fdu"
kind = "library"
symbol = "CALIS:FDU"

[[network]]
name = "calis"
kind = "iso"

[[peer]]
name = "centre"
network = "calis"
symbols = ["CALIS:CENTRE"]
mail = "ill@centre.example"
"""


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[GatewayProcess, GatewayProcess, int]]:
    ports = {"a_smtp": free_port(), "b_smtp": free_port()}
    a = GatewayProcess(tmp_path / "a", CENTRE.format(**ports))
    b = GatewayProcess(tmp_path / "b", SUPPLIER.format(**ports))
    try:
        a.start()
        b.start()
        wait_for_port(ports["a_smtp"])
        wait_for_port(ports["b_smtp"])
        yield a, b, ports["b_smtp"]
    finally:
        a.stop()
        b.stop()


def log_rows(gateway: GatewayProcess) -> list[tuple[str, str, str, bytes, str]]:
    with sqlite3.connect(gateway.workdir / "isoill-gateway.db") as db:
        return [
            (row[0], row[1], row[2], bytes(row[3]), row[4])
            for row in db.execute("SELECT direction, peer, apdu_type, data, note FROM apdu_log")
        ]


def wait(condition: object, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_request_goes_by_mail_and_its_acknowledgement_comes_back(
    pair: tuple[GatewayProcess, GatewayProcess, int],
) -> None:
    a, b, _ = pair
    form = {**FORM, "holding_library": "CALIS:FDU"}
    a.add_staff("ops", "centre", "centre-staff-pw")
    status, body = a.http(
        "/api/libraries/centre/requests", {"form": form}, ("ops", "centre-staff-pw")
    )
    assert status == 201, body

    def supplied() -> list[SupplyRequest]:
        store = SQLiteStore(b.workdir / "isoill-gateway.db")
        try:
            return [
                leg.payload
                for leg in store.legs_of("fdu")
                if isinstance(leg.payload, SupplyRequest)
            ]
        finally:
            store.close()

    wait(lambda: supplied(), "the request to reach library FDU by mail")
    (supply,) = supplied()
    assert supply.requester == "CALIS:CENTRE"
    assert supply.form.title == FORM["title"]
    assert supply.form.issn.replace("-", "") == "02641615"
    # B's acknowledgement came back to A by mail and was logged there as received.
    wait(
        lambda: any(
            d == "in" and p == "fdu" and t == "STATUS-OR-ERROR-REPORT"
            for d, p, t, _, _ in log_rows(a)
        ),
        "B's status report to reach A by mail",
    )


def test_a_malformed_mail_is_refused_and_kept(
    pair: tuple[GatewayProcess, GatewayProcess, int],
) -> None:
    _, b, b_smtp = pair
    message = (
        b"From: ill@centre.example\r\nTo: ill@fdu.example\r\nSubject: ISO ILL\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: application/iso-10161-ill-1; transfer-encoding=iso-8825-ber\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nbm90IGFuIEFQRFU=\r\n"
    )
    with smtplib.SMTP("127.0.0.1", b_smtp, timeout=10) as smtp:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            smtp.sendmail("ill@centre.example", ["ill@fdu.example"], message)
        assert 500 <= refused.value.smtp_code < 600
        # A stranger's mail, however well formed, is not taken either.
        with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPRecipientsRefused)):
            smtp.sendmail("mallory@example.org", ["ill@fdu.example"], message)
        # Mail for anyone but the gateway is not relayed.
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.sendmail("ill@centre.example", ["someone@elsewhere.example"], message)
    kept = [row for row in log_rows(b) if row[3] and b"bm90IGFuIEFQRFU=" in row[3]]
    assert kept, "the refused mail is not in the log"
    assert "refused" in kept[0][4]
    # Nothing of it became a request.
    store = SQLiteStore(b.workdir / "isoill-gateway.db")
    try:
        assert store.legs_of("fdu") == []
    finally:
        store.close()
