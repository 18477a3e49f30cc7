"""The iso18626 network kind in one gateway process: its configuration, its POST endpoint
(always a confirmation, never an error page), and what a peer's confirmation changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoill import iso18626
from isoill.gateway import iso18626_inbound
from isoill.gateway.config import ConfigError
from isoill.gateway.service import Gateway
from isoill.gateway.store import OutboxItem, StoredLeg
from isoill.machine import Role, Transaction
from tests.gateway.wiring import call, config, gateway_on
from tests.iso18626.support import SAMPLES

BRIDGE = """
[gateway]
ill = []
http = ""

[[network]]
name = "east"
kind = "iso"

[[network]]
name = "reshare"
kind = "iso18626"
path = "/ill/18626"
zone = "Europe/Copenhagen"

[[peer]]
name = "east-lib"
network = "east"
symbols = ["CALIS:*"]

[[peer]]
name = "lender"
network = "reshare"
symbols = ["ISIL:DK-*"]
url = "http://127.0.0.1:9/iso18626"
"""


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (('url = "http://127.0.0.1:9/iso18626"\n', ""), "needs its url"),
        (('url = "http://127.0.0.1:9/iso18626"', 'url = "ftp://x/y"'), "http:// or https://"),
        (('symbols = ["CALIS:*"]', 'symbols = ["CALIS:*"]\nurl = "http://x/"'), "iso18626 network"),
        (('path = "/ill/18626"', 'path = "/api/x"'), "gateway's own pages"),
        (('path = "/ill/18626"', 'path = "relative"'), "path below /"),
        (('zone = "Europe/Copenhagen"', 'zone = "Mars/Olympus"'), "not a known time zone"),
    ],
    ids=["no-url", "scheme", "url-on-iso", "own-path", "relative", "zone"],
)
def test_configuration_mistakes_are_named(change: tuple[str, str], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        config(BRIDGE.replace(*change))


@pytest.fixture
def gateway(tmp_path: Path) -> Gateway:
    with gateway_on(tmp_path, config(BRIDGE)) as running:
        yield running  # type: ignore[misc]


def _request_to_calis() -> bytes:
    return (
        (SAMPLES / "request.xml")
        .read_bytes()
        .replace(
            b'<ill:agencyIdType ill:scheme="http://illtransactions.org/ISO18626/OpenCodeList/'
            b'AgencyIdTypeList-V1.0">ISIL</ill:agencyIdType>\n        <ill:agencyIdValue>'
            b"DK-820010",
            b"<ill:agencyIdType>CALIS</ill:agencyIdType><ill:agencyIdValue>100010",
        )
    )


def test_a_post_is_confirmed_on_the_configured_path(gateway: Gateway) -> None:
    answer = call(gateway, "/ill/18626", _request_to_calis(), content_type="application/xml")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/xml; charset=utf-8"
    confirmation = iso18626.parse(answer.body)
    assert isinstance(confirmation, iso18626.RequestConfirmation)
    assert confirmation.confirmation_header.message_status == iso18626.MessageStatus.OK
    # confirmed in the peers' zone
    assert confirmation.confirmation_header.timestamp.utcoffset() is not None
    pending = gateway.store.pending()
    assert [item.apdu_type for item in pending] == ["ILL-REQUEST"]
    # counted by the 18626 message and its peer, like APDUs
    assert gateway.metrics.apdus_in["request", "lender"] == 1


def test_an_unexpected_failure_is_an_error_confirmation_not_a_500(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("a bug in a mapping")

    monkeypatch.setattr(gateway.relay, "inbound", broken)
    answer = call(gateway, "/ill/18626", _request_to_calis(), content_type="application/xml")
    assert answer.status == 200
    confirmation = iso18626.parse(answer.body)
    assert isinstance(confirmation, iso18626.RequestConfirmation)
    assert confirmation.confirmation_header.message_status == iso18626.MessageStatus.ERROR
    assert confirmation.confirmation_header.requesting_agency_request_id == "710100-2026-0042"
    assert "internal error" in (confirmation.error_data.error_value or "")  # type: ignore[union-attr]
    assert gateway.store.pending() == []


def _legs(gateway: Gateway) -> tuple[StoredLeg, StoredLeg]:
    """A relayed request: east's leg (the gateway its responder) and reshare's."""
    answer = call(gateway, "/ill/18626", _request_to_calis(), content_type="application/xml")
    assert iso18626.parse(answer.body).confirmation_header.message_status.value == "OK"
    [item] = gateway.store.pending()
    east = gateway.store.load("east", item.key)
    reshare = gateway.store.load("reshare", item.key)
    assert east is not None and reshare is not None
    return east, reshare


def test_a_peers_error_confirmation_becomes_an_error_report_for_the_other_side(
    gateway: Gateway,
) -> None:
    _, reshare = _legs(gateway)
    assert reshare.transaction.role is Role.RESPONDER
    item = OutboxItem("x", "lender", "reshare", "supplyingAgencyMessage", reshare.key, b"")
    error = iso18626.ErrorData(iso18626.ErrorType.UNRECOGNISED_DATA_VALUE, "unknown request")
    header = iso18626.parse((SAMPLES / "requestConfirmation.xml").read_bytes())
    confirmation = iso18626.SupplyingAgencyMessageConfirmation(
        header.confirmation_header, error_data=error
    )
    change = iso18626_inbound.confirmed(
        gateway.relay, item, iso18626.to_xml(confirmation), gateway.store.load, gateway.now()
    )
    assert change.delivered == (item,)
    assert [leg.network for leg in change.legs] == ["east"]
    [report] = change.outbox
    assert report.apdu_type == "STATUS-OR-ERROR-REPORT" and report.peer == "east-lib"


def test_an_ok_confirmation_only_marks_the_item_delivered(gateway: Gateway) -> None:
    _, reshare = _legs(gateway)
    item = OutboxItem("x", "lender", "reshare", "supplyingAgencyMessage", reshare.key, b"")
    ok = (SAMPLES / "supplyingAgencyMessageConfirmation.xml").read_bytes()
    change = iso18626_inbound.confirmed(gateway.relay, item, ok, gateway.store.load, gateway.now())
    assert change.delivered == (item,) and not change.outbox and not change.legs


@pytest.mark.parametrize(
    "answer", [b"<html>busy</html>", (SAMPLES / "request.xml").read_bytes()], ids=["html", "msg"]
)
def test_an_answer_that_is_no_confirmation_is_tried_again(gateway: Gateway, answer: bytes) -> None:
    item = OutboxItem("x", "lender", "reshare", "request", "k", b"")
    with pytest.raises(iso18626_inbound.BadConfirmation):
        iso18626_inbound.confirmed(gateway.relay, item, answer, gateway.store.load, gateway.now())


def test_an_error_report_is_never_posted(gateway: Gateway) -> None:
    """18626 says ERROR only in a confirmation: a 10161 error report for an 18626 peer ends
    at the gateway (the leg moves on, nothing is queued)."""
    from isoill.gateway.iso18626_kind import Iso18626Kind
    from isoill.machine import reports
    from tests.machine.support import request

    ask = request()
    network = gateway.config.network("reshare")
    report = reports.user_error(ask, "unknown", "why", gateway.now())
    sent = Transaction(Role.REQUESTER, ask.transaction_id)
    assert Iso18626Kind().wire(report, network, sent) is None


def test_a_message_for_an_unknown_request_is_an_error_confirmation(gateway: Gateway) -> None:
    data = (SAMPLES / "requestingAgencyMessage.xml").read_bytes()
    answer = call(gateway, "/ill/18626", data, content_type="application/xml")
    assert answer.status == 200
    confirmation = iso18626.parse(answer.body)
    assert isinstance(confirmation, iso18626.RequestingAgencyMessageConfirmation)
    assert confirmation.confirmation_header.message_status == iso18626.MessageStatus.ERROR
    assert confirmation.error_data is not None
    assert confirmation.error_data.error_type == iso18626.ErrorType.UNRECOGNISED_DATA_VALUE
    assert "unknown" in (confirmation.error_data.error_value or "")
    assert gateway.store.pending() == []
