"""Shared helpers of the mapping tests: APDUs with mappable parties, and the trip through
XML every mapped message must survive."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

from isoill.apdu import apdus
from isoill.apdu.types import DateTimeOfService, ServiceDateTime, SystemId, TransactionId
from isoill.iso18626 import AgencyId, Header, Message, SchemeValue, parse, to_xml

REQUESTER = SystemId.institution("ISIL:DK-710100")
RESPONDER = SystemId.institution("ISIL:DK-820010")
#: The header of the 18626 messages of these tests: the same parties, at the same time.
AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
HEADER = Header(
    supplying_agency_id=AgencyId(SchemeValue("ISIL"), "DK-820010"),
    requesting_agency_id=AgencyId(SchemeValue("ISIL"), "DK-710100"),
    timestamp=AT,
    requesting_agency_request_id="req-1",
)
WHEN = ServiceDateTime(
    date_time_of_this_service=DateTimeOfService(date=date(2026, 12, 2), time=time(9, 30))
)


def base(qualifier: str = "req-1", group: str = "grp-1") -> dict[str, Any]:
    """The components every APDU of these tests has."""
    return {
        "transaction_id": TransactionId(
            transaction_group_qualifier=group, transaction_qualifier=qualifier
        ),
        "service_date_time": WHEN,
        "requester_id": REQUESTER,
        "responder_id": RESPONDER,
    }


def through_xml(message: Message) -> Message:
    """``message`` written (validated against the schema) and read back: it must be
    unchanged."""
    again = parse(to_xml(message))
    assert again == message
    return again


def mappable(apdu: apdus.APDUBase) -> Any:
    """``apdu`` with the parties, time and transaction of :func:`base` (a drawn APDU's own
    may be anything)."""
    extra: dict[str, Any] = (
        {"intermediary_id": RESPONDER} if isinstance(apdu, apdus.ForwardNotification) else {}
    )
    return replace(apdu, **base(), **extra)
