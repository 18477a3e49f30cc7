"""ISO 18626 (Interlibrary Loan Transactions, XML): the six messages as typed immutable values,
read and written with lxml and checked against the published v1.2 schema both ways.

>>> from datetime import datetime, UTC
>>> from isoill import iso18626
>>> header = iso18626.Header(
...     supplying_agency_id=iso18626.AgencyId(iso18626.SchemeValue("ISIL"), "DK-820010"),
...     requesting_agency_id=iso18626.AgencyId(iso18626.SchemeValue("ISIL"), "DK-710100"),
...     timestamp=datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
...     requesting_agency_request_id="req-1",
... )
>>> message = iso18626.RequestingAgencyMessage(header, iso18626.Action.CANCEL)
>>> iso18626.parse(iso18626.to_xml(message)) == message
True

Kept out of ``isoill``'s own namespace so that importing isoill does not load lxml.
"""

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
from isoill.iso18626.confirm import confirm, refuse
from isoill.iso18626.document import VERSION, MessageError, parse, to_xml
from isoill.iso18626.messages import (
    MESSAGE_TYPES,
    Address,
    AgencyId,
    BibliographicInfo,
    BibliographicItemId,
    BibliographicRecordId,
    BillingInfo,
    Confirmation,
    ConfirmationHeader,
    Costs,
    DeliveryInfo,
    ElectronicAddress,
    ErrorData,
    Header,
    Message,
    MessageInfo,
    PatronInfo,
    PhysicalAddress,
    PublicationInfo,
    Request,
    RequestConfirmation,
    RequestedDeliveryInfo,
    RequestingAgencyAuthentication,
    RequestingAgencyInfo,
    RequestingAgencyMessage,
    RequestingAgencyMessageConfirmation,
    ReturnInfo,
    SchemeValue,
    ServiceInfo,
    StatusInfo,
    SupplierInfo,
    SupplyingAgencyMessage,
    SupplyingAgencyMessageConfirmation,
)
from isoill.iso18626.status import change_refused

__all__ = [
    "MESSAGE_TYPES",
    "VERSION",
    "Action",
    "Address",
    "AgencyId",
    "BibliographicInfo",
    "BibliographicItemId",
    "BibliographicRecordId",
    "BillingInfo",
    "Confirmation",
    "ConfirmationHeader",
    "Costs",
    "DeliveryInfo",
    "ElectronicAddress",
    "ErrorData",
    "ErrorType",
    "Header",
    "Message",
    "MessageError",
    "MessageInfo",
    "MessageStatus",
    "PatronInfo",
    "PhysicalAddress",
    "PublicationInfo",
    "ReasonForMessage",
    "Request",
    "RequestConfirmation",
    "RequestSubType",
    "RequestType",
    "RequestedDeliveryInfo",
    "RequestingAgencyAuthentication",
    "RequestingAgencyInfo",
    "RequestingAgencyMessage",
    "RequestingAgencyMessageConfirmation",
    "ReturnInfo",
    "SchemeValue",
    "ServiceInfo",
    "ServiceType",
    "Status",
    "StatusInfo",
    "SupplierInfo",
    "SupplyingAgencyMessage",
    "SupplyingAgencyMessageConfirmation",
    "YesNo",
    "change_refused",
    "confirm",
    "parse",
    "refuse",
    "to_xml",
]
