"""One gateway between an ISO 10161 world and an ISO 18626 one, end to end: yaz-illclient's
request reaches an ISO 18626 peer as a valid ``request``; that peer's Loaned, Overdue and
LoanCompleted reach the ISO 10161 peer as Shipped, Overdue and Checked-In, which YAZ decodes;
the 10161 peer's Received and Returned reach the 18626 peer as actions; a ``request`` POSTed
to the gateway reaches an ISO 10161 peer as an ILL-Request; bad XML gets ERROR
confirmations, never an HTTP error."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import isoill
from isoill import iso18626
from isoill.testing.yaz import yaz_roundtrip
from tests.gateway.iso18626_peer import BRIDGE, Iso18626Peer, post
from tests.gateway.support import FakePeer, GatewayProcess
from tests.iso18626.support import SAMPLES

pytestmark = pytest.mark.yaz


PARAMETERS = """\
ill,protocol-version-num=2
ill,transaction-id,transaction-group-qualifier=2026
ill,transaction-id,transaction-qualifier=Q-18626
ill,requester-id,person-or-institution-symbol,institution=CALIS:100010
ill,responder-id,person-or-institution-symbol,institution=ISIL:DK-820010
ill,ill-service-type=1
ill,item-id,title=Journal of Library Science in China
ill,item-id,author=Wang, Li
"""


@dataclasses.dataclass
class World:
    gateway: GatewayProcess
    east: FakePeer
    lender: Iso18626Peer
    workdir: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.gateway.http_port}/iso18626"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    east, lender = FakePeer(), Iso18626Peer()
    config = BRIDGE.format(east_port=east.port, url=lender.url)
    gateway = GatewayProcess(tmp_path, config).start()
    try:
        yield World(gateway, east, lender, tmp_path)
    finally:
        gateway.stop()
        east.close()
        lender.close()
    assert not lender.invalid, lender.invalid


def _yaz_illclient(world: World) -> subprocess.CompletedProcess[str]:
    client = shutil.which("yaz-illclient")
    assert client is not None
    (world.workdir / "ill-params.txt").write_text(PARAMETERS)
    return subprocess.run(
        [client, "-f", "ill-params.txt", f"localhost:{world.gateway.ill_port}"],
        cwd=world.workdir,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def _supplier_says(
    world: World, request: iso18626.Request, status: iso18626.Status, **info: object
) -> iso18626.Confirmation:
    """The 18626 peer POSTs a status change of ``request`` to the gateway."""
    now = datetime.now(UTC).replace(microsecond=0)
    message = iso18626.SupplyingAgencyMessage(
        header=dataclasses.replace(request.header, timestamp=now),
        message_info=iso18626.MessageInfo(iso18626.ReasonForMessage.STATUS_CHANGE),
        status_info=iso18626.StatusInfo(status, now, **info),  # type: ignore[arg-type]
    )
    code, body = post(world.endpoint, iso18626.to_xml(message))
    assert code == 200
    confirmation = iso18626.parse(body)
    assert isinstance(confirmation, iso18626.SupplyingAgencyMessageConfirmation)
    return confirmation


def _yaz_reads(helper: Path, apdu: isoill.APDU) -> str:
    result = yaz_roundtrip(helper, isoill.encode(apdu, tcp_safe=True))
    assert result.ok, result.error
    return result.trees[0]


def test_a_10161_request_and_its_loan_across_to_an_18626_peer_and_back(
    world: World, yaz_helper: Path
) -> None:
    done = _yaz_illclient(world)
    assert done.returncode == 0, done.stdout + done.stderr
    request = world.lender.receive()
    assert isinstance(request, iso18626.Request)
    assert request.header.requesting_agency_id.agency_id_value == "100010"
    assert request.header.supplying_agency_id == iso18626.AgencyId(
        iso18626.SchemeValue("ISIL"), "DK-820010"
    )
    assert request.bibliographic_info.title == "Journal of Library Science in China"
    assert request.service_info is not None
    assert request.service_info.service_type == iso18626.ServiceType.LOAN

    due = datetime.combine(date.today() + timedelta(days=28), datetime.min.time(), UTC)
    sent = iso18626.DeliveryInfo(date_sent=datetime.now(UTC).replace(microsecond=0))
    loaned = iso18626.SupplyingAgencyMessage(
        header=request.header,
        message_info=iso18626.MessageInfo(iso18626.ReasonForMessage.STATUS_CHANGE),
        status_info=iso18626.StatusInfo(iso18626.Status.LOANED, sent.date_sent, due_date=due),
        delivery_info=sent,
    )
    code, body = post(world.endpoint, iso18626.to_xml(loaned))
    assert code == 200
    ok = iso18626.parse(body)
    assert ok.confirmation_header.message_status == iso18626.MessageStatus.OK, body
    east, shipped = world.east.receive()
    assert isinstance(shipped, isoill.Shipped)
    assert shipped.shipped_service_type == isoill.ILLServiceType.LOAN
    assert "shipped" in _yaz_reads(yaz_helper, shipped).lower()

    # The 10161 library says it received the loan: the 18626 peer hears "Received".
    received = isoill.Received(
        transaction_id=shipped.transaction_id,
        requester_id=shipped.requester_id,
        responder_id=shipped.responder_id,
        date_received=date.today(),
        shipped_service_type=isoill.ILLServiceType.LOAN,
    )
    east.send(received)
    action = world.lender.receive()
    assert isinstance(action, iso18626.RequestingAgencyMessage)
    assert action.action == iso18626.Action.RECEIVED

    confirmation = _supplier_says(world, request, iso18626.Status.OVERDUE, due_date=due)
    assert confirmation.confirmation_header.message_status == iso18626.MessageStatus.OK
    _, overdue = world.east.receive()
    assert isinstance(overdue, isoill.Overdue)
    assert "overdue" in _yaz_reads(yaz_helper, overdue).lower()

    returned = isoill.Returned(
        transaction_id=shipped.transaction_id,
        requester_id=shipped.requester_id,
        responder_id=shipped.responder_id,
        date_returned=date.today(),
    )
    east.send(returned)
    action = world.lender.receive()
    assert isinstance(action, iso18626.RequestingAgencyMessage)
    assert action.action == iso18626.Action.SHIPPED_RETURN

    confirmation = _supplier_says(world, request, iso18626.Status.LOAN_COMPLETED)
    assert confirmation.confirmation_header.message_status == iso18626.MessageStatus.OK
    _, checked_in = world.east.receive()
    assert isinstance(checked_in, isoill.CheckedIn)
    assert "checked" in _yaz_reads(yaz_helper, checked_in).lower()

    # A status going back is refused by the ISO 18626 order, with the reason.
    refused = _supplier_says(world, request, iso18626.Status.WILL_SUPPLY)
    assert refused.confirmation_header.message_status == iso18626.MessageStatus.ERROR
    assert refused.error_data is not None
    assert "status change not allowed" in (refused.error_data.error_value or "")

    status, metrics = world.gateway.http("/metrics")
    assert status == 200
    assert 'type="supplyingAgencyMessage",peer="lender"' in metrics
    assert 'type="request",peer="lender"' in metrics
    status, report = world.gateway.http("/status")
    assert status == 200
    assert report["metrics"]["apdus_in_by_type"]["supplyingAgencyMessage"] >= 3
    assert report["metrics"]["apdus_out_by_type"]["request"] == 1


def test_an_18626_request_reaches_a_10161_peer_as_an_ill_request(world: World) -> None:
    sample = iso18626.parse((SAMPLES / "request.xml").read_bytes())
    assert isinstance(sample, iso18626.Request)
    request = dataclasses.replace(
        sample,
        header=dataclasses.replace(
            sample.header,
            supplying_agency_id=iso18626.AgencyId(iso18626.SchemeValue("CALIS"), "100010"),
        ),
    )
    code, body = post(world.endpoint, iso18626.to_xml(request))
    assert code == 200
    confirmation = iso18626.parse(body)
    assert isinstance(confirmation, iso18626.RequestConfirmation)
    assert confirmation.confirmation_header.message_status == iso18626.MessageStatus.OK, body
    _, apdu = world.east.receive()
    assert isinstance(apdu, isoill.ILLRequest)
    assert apdu.item_id.title == "Interlending & Document Supply"
    assert apdu.transaction_id.transaction_qualifier == "710100-2026-0042"
    # the same request again: a repeat, confirmed again, not relayed twice
    code, body = post(world.endpoint, iso18626.to_xml(request))
    assert iso18626.parse(body).confirmation_header.message_status == iso18626.MessageStatus.OK


@pytest.mark.parametrize(
    ("data", "error_type"),
    [
        (b"", iso18626.ErrorType.BADLY_FORMED_MESSAGE),
        (b"<not-closed", iso18626.ErrorType.BADLY_FORMED_MESSAGE),
        (
            b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626">&x;'
            b"</ISO18626Message>",
            iso18626.ErrorType.BADLY_FORMED_MESSAGE,
        ),
        (
            (SAMPLES / "request.xml").read_bytes().replace(b">Copy<", b">Lend<"),
            iso18626.ErrorType.UNRECOGNISED_DATA_VALUE,
        ),
        (b"<a>" * 10_000 + b"</a>" * 10_000, iso18626.ErrorType.BADLY_FORMED_MESSAGE),
        (b"x" * (2 << 20), iso18626.ErrorType.BADLY_FORMED_MESSAGE),
    ],
    ids=["empty", "unclosed", "external-entity", "invalid", "deep", "huge"],
)
def test_bad_xml_is_answered_with_an_error_confirmation(
    world: World, data: bytes, error_type: iso18626.ErrorType
) -> None:
    code, body = post(world.endpoint, data)
    assert code == 200
    confirmation = iso18626.parse(body)
    assert confirmation.confirmation_header.message_status == iso18626.MessageStatus.ERROR
    assert confirmation.error_data is not None
    assert confirmation.error_data.error_type == error_type
    assert b"root:" not in body


def test_an_unknown_agency_is_refused(world: World) -> None:
    sample = (SAMPLES / "request.xml").read_bytes().replace(b"DK-710100", b"SE-1")
    code, body = post(
        world.endpoint, sample.replace(b"<ill:agencyIdType>ISIL", b"<ill:agencyIdType>XX")
    )
    assert code == 200
    confirmation = iso18626.parse(body)
    assert confirmation.confirmation_header.message_status == iso18626.MessageStatus.ERROR
    assert "not a peer" in (confirmation.error_data.error_value or "")  # type: ignore[union-attr]
