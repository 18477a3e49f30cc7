"""Who and when, across the two protocols: agencies, transaction ids and dates.

ISO 18626 has no transaction-id tuple. A request is named by its requesting agency and
that agency's ``requestingAgencyRequestId``, so isoill maps:

* the institution symbol ``AUTHORITY:SYMBOL`` of a 10161 System-Id <-> ``agencyIdType``
  AUTHORITY and ``agencyIdValue`` SYMBOL (requester-id <-> requestingAgencyId,
  responder-id <-> supplyingAgencyId);
* transaction-qualifier <-> ``requestingAgencyRequestId``;
* transaction-group-qualifier <-> ``multipleItemRequestId``. v1.2 requires that element
  but most peers send it empty, while 10161 requires a non-blank group qualifier: an empty
  one becomes the transaction-qualifier, and a group qualifier equal to the
  transaction-qualifier is written empty, so both directions give back what they got.

10161 dates and times carry no zone and 18626 timestamps do, so every conversion takes the
zone the 10161 side lives in (the gateway configures one per peer).
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from typing import Any, Literal

from isoill.apdu.apdus import APDUBase
from isoill.apdu.types import (
    DateTimeOfService,
    ISODate,
    ISOTime,
    ServiceDateTime,
    SystemId,
    TransactionId,
)
from isoill.errors import IsoillError
from isoill.iso18626.messages import AgencyId, ConfirmationHeader, Header, SchemeValue

#: Which party sent an APDU (the APDU says so itself except for Message, Lost, Damaged
#: and Status-Or-Error-Report).
Side = Literal["requester", "responder"]


class MappingError(IsoillError):
    """A message or APDU that has no counterpart on the other side (or lacks what the
    counterpart requires): the reasons say which and why."""


class NoApdu(MappingError):
    """An 18626 message that ISO 10161 has no APDU for (a request merely received, an OK
    confirmation)."""


def agency(system_id: SystemId | None, role: str) -> AgencyId:
    """The 18626 agency of a 10161 System-Id, whose institution symbol must be
    ``AUTHORITY:SYMBOL`` (an 18626 agency is always typed)."""
    symbol = system_id.symbol if system_id is not None else None
    authority, _, value = (symbol or "").partition(":")
    if not authority or not value:
        raise MappingError(
            f"{role}: an ISO 18626 agency needs an institution symbol AUTHORITY:SYMBOL "
            f"(got {symbol!r})"
        )
    return AgencyId(SchemeValue(authority), value)


def system_id(agency_id: AgencyId, name: str | None = None) -> SystemId:
    """The 10161 System-Id of an 18626 agency (the scheme of its type is not kept)."""
    return SystemId.institution(
        f"{agency_id.agency_id_type.value}:{agency_id.agency_id_value}", name
    )


def header(apdu: APDUBase, zone: tzinfo) -> Header:
    """The 18626 header of an APDU: its two parties, its transaction and its time. The
    requester falls back on the initial requester when requester-id is absent."""
    tid = apdu.transaction_id
    group = tid.transaction_group_qualifier
    return Header(
        supplying_agency_id=agency(apdu.responder_id, "responder-id"),
        requesting_agency_id=agency(apdu.requester_id or tid.initial_requester_id, "requester-id"),
        timestamp=service_moment(apdu.service_date_time, zone),
        requesting_agency_request_id=tid.transaction_qualifier,
        multiple_item_request_id="" if group == tid.transaction_qualifier else group,
    )


def apdu_base(head: Header | ConfirmationHeader, zone: tzinfo) -> dict[str, Any]:
    """The components every APDU has, from an 18626 header or a confirmation's (keyword
    arguments of any APDU class)."""
    qualifier = head.requesting_agency_request_id or ""
    if not qualifier.strip():
        raise MappingError("requestingAgencyRequestId: empty, and it is the transaction-qualifier")
    requester, supplier = head.requesting_agency_id, head.supplying_agency_id
    return {
        "transaction_id": TransactionId(
            transaction_group_qualifier=(head.multiple_item_request_id or "").strip() or qualifier,
            transaction_qualifier=qualifier,
        ),
        "service_date_time": service_date_time(head.timestamp, zone),
        "requester_id": system_id(requester) if requester else None,
        "responder_id": system_id(supplier) if supplier else None,
    }


def moment(day: ISODate | None, zone: tzinfo, at: ISOTime | None = None) -> datetime | None:
    """A 10161 date (and time) as an 18626 timestamp in ``zone``; None when absent or not
    a date (a peer's free text such as "1999-")."""
    if not isinstance(day, date):
        return None
    clock = at if isinstance(at, time) else time()
    return datetime.combine(day, clock, tzinfo=zone)


def service_moment(service: ServiceDateTime, zone: tzinfo) -> datetime:
    """When the APDU's service was invoked: the mandatory timestamp of the 18626 header."""
    this = service.date_time_of_this_service
    found = moment(this.date, zone, this.time)
    if found is None:
        raise MappingError(f"service-date-time: {this.date!r} is not a date (YYYYMMDD)")
    return found


def local(when: datetime, zone: tzinfo) -> datetime:
    """An 18626 timestamp as the 10161 side's naive local time in ``zone``. A timestamp
    without a zone is taken as already local, and so is one that ``zone`` would move out
    of the years 1-9999."""
    if when.tzinfo is None:
        return when
    try:
        return when.astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        return when.replace(tzinfo=None)


def day(when: datetime | None, zone: tzinfo) -> date | None:
    """The 10161 date of an 18626 timestamp: its day in ``zone``."""
    return None if when is None else local(when, zone).date()


def service_date_time(when: datetime, zone: tzinfo) -> ServiceDateTime:
    """The 10161 service date and time of an 18626 timestamp, to the second."""
    moment = local(when, zone).replace(microsecond=0)
    return ServiceDateTime(
        date_time_of_this_service=DateTimeOfService(date=moment.date(), time=moment.time())
    )
