"""The six ISO 18626 messages and their parts, as typed immutable values.

Each class is one element of the v1.2 schema and its fields are that element's children in
the schema's order, named as the schema names them (``requestingAgencyRequestId`` is
``requesting_agency_request_id``): :mod:`isoill.iso18626.binding` reads and writes them by
that rule alone, so this module is the schema's structure and nothing else. A field that may
be absent is ``X | None``, a repeated one a tuple. Text stays text where the schema says
``xs:string`` (a publication date such as "1998-" is not a date); ``xs:dateTime`` is a
:class:`~datetime.datetime`, aware when the message gave a zone and naive when it did not;
``xs:decimal`` a :class:`~decimal.Decimal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import ClassVar

from isoill.iso18626.codes import (
    Action,
    ErrorType,
    MessageStatus,
    ReasonForMessage,
    RequestSubType,
    RequestType,
    ServiceType,
    Status,
    YesNo,
)


@dataclass(frozen=True)
class SchemeValue:
    """A value of an open code list, with the list (scheme) it is from, if given. Values
    outside the lists isoill knows are kept as they came."""

    value: str
    scheme: str | None = None


@dataclass(frozen=True)
class AgencyId:
    """An agency: the kind of its identifier (ISIL, OCLC symbol, ...) and the identifier."""

    agency_id_type: SchemeValue
    agency_id_value: str


@dataclass(frozen=True)
class Costs:
    currency_code: SchemeValue
    monetary_value: Decimal


@dataclass(frozen=True)
class ElectronicAddress:
    electronic_address_type: SchemeValue
    electronic_address_data: str


@dataclass(frozen=True)
class PhysicalAddress:
    line1: str | None = None
    line2: str | None = None
    locality: str | None = None
    postal_code: str | None = None
    region: SchemeValue | None = None
    country: SchemeValue | None = None


@dataclass(frozen=True)
class Address:
    """One of the two (the schema's choice): exactly one is set."""

    electronic_address: ElectronicAddress | None = None
    physical_address: PhysicalAddress | None = None


@dataclass(frozen=True)
class RequestingAgencyAuthentication:
    account_id: str | None = None
    security_code: str | None = None


@dataclass(frozen=True)
class Header:
    supplying_agency_id: AgencyId
    requesting_agency_id: AgencyId
    timestamp: datetime
    requesting_agency_request_id: str
    #: Mandatory in v1.2 by mistake (optional since 2021): written empty when not used.
    multiple_item_request_id: str = ""
    supplying_agency_request_id: str | None = None
    requesting_agency_authentication: RequestingAgencyAuthentication | None = None

    #: The schema's order of the children, where it differs from the fields' (which put
    #: the fields without a default first, as Python requires).
    ORDER: ClassVar[tuple[str, ...]] = (
        "supplying_agency_id",
        "requesting_agency_id",
        "multiple_item_request_id",
        "timestamp",
        "requesting_agency_request_id",
        "supplying_agency_request_id",
        "requesting_agency_authentication",
    )


@dataclass(frozen=True)
class ConfirmationHeader:
    timestamp: datetime
    timestamp_received: datetime
    message_status: MessageStatus
    supplying_agency_id: AgencyId | None = None
    requesting_agency_id: AgencyId | None = None
    requesting_agency_request_id: str | None = None
    multiple_item_request_id: str | None = None

    ORDER: ClassVar[tuple[str, ...]] = (
        "supplying_agency_id",
        "requesting_agency_id",
        "timestamp",
        "requesting_agency_request_id",
        "multiple_item_request_id",
        "timestamp_received",
        "message_status",
    )


@dataclass(frozen=True)
class ErrorData:
    error_type: ErrorType
    error_value: str | None = None


@dataclass(frozen=True)
class BibliographicItemId:
    bibliographic_item_identifier: str
    bibliographic_item_identifier_code: SchemeValue


@dataclass(frozen=True)
class BibliographicRecordId:
    bibliographic_record_identifier_code: SchemeValue
    bibliographic_record_identifier: str


@dataclass(frozen=True)
class BibliographicInfo:
    supplier_unique_record_id: str | None = None
    title: str | None = None
    author: str | None = None
    subtitle: str | None = None
    series_title: str | None = None
    edition: str | None = None
    title_of_component: str | None = None
    author_of_component: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages_requested: str | None = None
    estimated_no_pages: str | None = None
    bibliographic_item_id: tuple[BibliographicItemId, ...] = ()
    sponsor: str | None = None
    information_source: str | None = None
    bibliographic_record_id: tuple[BibliographicRecordId, ...] = ()


@dataclass(frozen=True)
class PublicationInfo:
    publisher: str | None = None
    publication_type: SchemeValue | None = None
    publication_date: str | None = None
    place_of_publication: str | None = None


@dataclass(frozen=True)
class ServiceInfo:
    service_type: ServiceType
    request_type: RequestType | None = None
    request_sub_type: tuple[RequestSubType, ...] = ()
    requesting_agency_previous_request_id: str | None = None
    service_level: SchemeValue | None = None
    preferred_format: SchemeValue | None = None
    need_before_date: datetime | None = None
    copyright_compliance: SchemeValue | None = None
    any_edition: YesNo | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    note: str | None = None

    ORDER: ClassVar[tuple[str, ...]] = (
        "request_type",
        "request_sub_type",
        "requesting_agency_previous_request_id",
        "service_type",
        "service_level",
        "preferred_format",
        "need_before_date",
        "copyright_compliance",
        "any_edition",
        "start_date",
        "end_date",
        "note",
    )


@dataclass(frozen=True)
class SupplierInfo:
    sort_order: int | None = None
    supplier_code: AgencyId | None = None
    supplier_description: str | None = None
    bibliographic_record_id: BibliographicRecordId | None = None
    call_number: str | None = None
    summary_holdings: str | None = None
    availability_note: str | None = None


@dataclass(frozen=True)
class RequestedDeliveryInfo:
    sort_order: int | None = None
    address: Address | None = None


@dataclass(frozen=True)
class RequestingAgencyInfo:
    name: str | None = None
    contact_name: str | None = None
    address: tuple[Address, ...] = ()


@dataclass(frozen=True)
class PatronInfo:
    patron_id: str | None = None
    surname: str | None = None
    given_name: str | None = None
    patron_type: SchemeValue | None = None
    send_to_patron: YesNo | None = None
    address: tuple[Address, ...] = ()


@dataclass(frozen=True)
class BillingInfo:
    payment_method: SchemeValue | None = None
    maximum_costs: Costs | None = None
    billing_method: SchemeValue | None = None
    billing_name: str | None = None
    address: Address | None = None


@dataclass(frozen=True)
class MessageInfo:
    reason_for_message: ReasonForMessage
    answer_yes_no: YesNo | None = None
    note: str | None = None
    reason_unfilled: SchemeValue | None = None
    reason_retry: SchemeValue | None = None
    offered_costs: Costs | None = None
    retry_after: datetime | None = None
    retry_before: datetime | None = None


@dataclass(frozen=True)
class StatusInfo:
    status: Status
    last_change: datetime
    expected_delivery_date: datetime | None = None
    due_date: datetime | None = None

    ORDER: ClassVar[tuple[str, ...]] = (
        "status",
        "expected_delivery_date",
        "due_date",
        "last_change",
    )


@dataclass(frozen=True)
class DeliveryInfo:
    date_sent: datetime
    item_id: str | None = None
    sent_via: SchemeValue | None = None
    sent_to_patron: bool | None = None
    loan_condition: SchemeValue | None = None
    delivered_format: SchemeValue | None = None
    delivery_costs: Costs | None = None


@dataclass(frozen=True)
class ReturnInfo:
    return_agency_id: AgencyId | None = None
    name: str | None = None
    physical_address: PhysicalAddress | None = None


# --- the six messages ---------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    """A requesting agency asks a supplying agency for an item."""

    TAG: ClassVar[str] = "request"

    header: Header
    bibliographic_info: BibliographicInfo
    publication_info: PublicationInfo | None = None
    service_info: ServiceInfo | None = None
    supplier_info: tuple[SupplierInfo, ...] = ()
    requested_delivery_info: tuple[RequestedDeliveryInfo, ...] = ()
    requesting_agency_info: RequestingAgencyInfo | None = None
    patron_info: PatronInfo | None = None
    billing_info: BillingInfo | None = None


@dataclass(frozen=True)
class RequestConfirmation:
    TAG: ClassVar[str] = "requestConfirmation"

    confirmation_header: ConfirmationHeader
    error_data: ErrorData | None = None


@dataclass(frozen=True)
class SupplyingAgencyMessage:
    """The supplier says where the request stands (and why it changed)."""

    TAG: ClassVar[str] = "supplyingAgencyMessage"

    header: Header
    message_info: MessageInfo
    status_info: StatusInfo
    delivery_info: DeliveryInfo | None = None
    return_info: ReturnInfo | None = None


@dataclass(frozen=True)
class SupplyingAgencyMessageConfirmation:
    TAG: ClassVar[str] = "supplyingAgencyMessageConfirmation"

    confirmation_header: ConfirmationHeader
    reason_for_message: ReasonForMessage | None = None
    error_data: ErrorData | None = None


@dataclass(frozen=True)
class RequestingAgencyMessage:
    """The requester acts on its request (received, cancel, renew, returned, ...)."""

    TAG: ClassVar[str] = "requestingAgencyMessage"

    header: Header
    action: Action
    note: str | None = None


@dataclass(frozen=True)
class RequestingAgencyMessageConfirmation:
    TAG: ClassVar[str] = "requestingAgencyMessageConfirmation"

    confirmation_header: ConfirmationHeader
    action: Action | None = None
    error_data: ErrorData | None = None


Message = (
    Request
    | RequestConfirmation
    | SupplyingAgencyMessage
    | SupplyingAgencyMessageConfirmation
    | RequestingAgencyMessage
    | RequestingAgencyMessageConfirmation
)
#: Which class each of the root's possible children is.
MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.TAG: cls
    for cls in (
        Request,
        RequestConfirmation,
        SupplyingAgencyMessage,
        SupplyingAgencyMessageConfirmation,
        RequestingAgencyMessage,
        RequestingAgencyMessageConfirmation,
    )
}
#: The confirmation that answers each message a peer sends.
Confirmation = (
    RequestConfirmation | SupplyingAgencyMessageConfirmation | RequestingAgencyMessageConfirmation
)
