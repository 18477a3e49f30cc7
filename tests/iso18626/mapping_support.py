"""Shared helpers of the mapping tests: APDUs with mappable parties, and the trip through
XML every mapped message must survive."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time
from typing import Any

from isoill.apdu import apdus
from isoill.apdu.types import DateTimeOfService, ServiceDateTime, SystemId, TransactionId
from isoill.iso18626 import Message, parse, to_xml

REQUESTER = SystemId.institution("ISIL:DK-710100")
RESPONDER = SystemId.institution("ISIL:DK-820010")
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
    extra = {"intermediary_id": RESPONDER} if isinstance(apdu, apdus.ForwardNotification) else {}
    return replace(apdu, **base(), **extra)
