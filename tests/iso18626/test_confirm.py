"""Confirmations: the right one for each message, OK or ERROR, echoing what could be read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from isoill import iso18626
from isoill.iso18626 import ErrorType, MessageError, MessageStatus, confirm, parse, refuse, to_xml
from tests.iso18626.support import SAMPLES

AT = datetime(2026, 12, 2, 10, 0, 1, tzinfo=UTC)
RECEIVED = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("request", iso18626.RequestConfirmation),
        ("supplyingAgencyMessage", iso18626.SupplyingAgencyMessageConfirmation),
        ("requestingAgencyMessage", iso18626.RequestingAgencyMessageConfirmation),
    ],
)
def test_each_message_gets_its_own_confirmation(sample: str, expected: type) -> None:
    message = parse((SAMPLES / f"{sample}.xml").read_bytes())
    confirmation = confirm(message, AT, RECEIVED)
    assert isinstance(confirmation, expected)
    head = confirmation.confirmation_header
    assert head.message_status == MessageStatus.OK
    assert head.requesting_agency_request_id == "710100-2026-0042"
    assert head.timestamp_received == RECEIVED
    assert parse(to_xml(confirmation)) == confirmation


def test_the_confirmation_echoes_the_reason_or_action() -> None:
    supplier = parse((SAMPLES / "supplyingAgencyMessage.xml").read_bytes())
    requester = parse((SAMPLES / "requestingAgencyMessage.xml").read_bytes())
    confirmed = confirm(supplier, AT, RECEIVED)
    assert isinstance(confirmed, iso18626.SupplyingAgencyMessageConfirmation)
    assert confirmed.reason_for_message == iso18626.ReasonForMessage.STATUS_CHANGE
    answered = confirm(requester, AT, RECEIVED)
    assert isinstance(answered, iso18626.RequestingAgencyMessageConfirmation)
    assert answered.action == iso18626.Action.SHIPPED_RETURN


def test_an_accepted_but_unacceptable_message_is_confirmed_with_error() -> None:
    message = parse((SAMPLES / "request.xml").read_bytes())
    error = iso18626.ErrorData(ErrorType.UNRECOGNISED_DATA_VALUE, "already exists")
    confirmation = confirm(message, AT, RECEIVED, error)
    assert confirmation.confirmation_header.message_status == MessageStatus.ERROR
    assert confirmation.error_data == error
    to_xml(confirmation)  # valid


def test_a_refused_message_gets_an_error_confirmation_with_its_ids() -> None:
    data = (SAMPLES / "requestingAgencyMessage.xml").read_bytes().replace(b">Shipped", b">Flown")
    with pytest.raises(MessageError) as caught:
        parse(data)
    confirmation = refuse(caught.value, AT, RECEIVED)
    assert isinstance(confirmation, iso18626.RequestingAgencyMessageConfirmation)
    head = confirmation.confirmation_header
    assert head.message_status == MessageStatus.ERROR
    assert head.requesting_agency_id == iso18626.AgencyId(iso18626.SchemeValue("ISIL"), "DK-710100")
    assert head.requesting_agency_request_id == "710100-2026-0042"
    assert confirmation.error_data is not None
    assert confirmation.error_data.error_type == ErrorType.UNSUPPORTED_ACTION_TYPE
    assert "FlownReturn" in (confirmation.error_data.error_value or "")
    assert parse(to_xml(confirmation)) == confirmation


def test_garbage_gets_a_request_confirmation_saying_badly_formed() -> None:
    with pytest.raises(MessageError) as caught:
        parse(b"<<<not xml")
    confirmation = refuse(caught.value, AT, RECEIVED)
    assert isinstance(confirmation, iso18626.RequestConfirmation)
    assert confirmation.error_data is not None
    assert confirmation.error_data.error_type == ErrorType.BADLY_FORMED_MESSAGE
    to_xml(confirmation)


def test_confirmations_are_not_confirmed() -> None:
    message = parse((SAMPLES / "requestConfirmation.xml").read_bytes())
    with pytest.raises(TypeError):
        confirm(message, AT, RECEIVED)
