"""The GIF copy request of the NII guide, built with isoill: what ``isoill demo`` shows.

A Japanese university library asks a North American library, through OCLC, for a copy of an
article, as NACSIS-ILL's link to OCLC (the GIF project) would send it: copyright compliance
ccg (what NACSIS staff write as US:CCG, in the form OCLC takes), at most USD 35.50, payment
through OCLC's ILL Fee Management (the OCLC request extension's paymentMethod IFM) and
delivery by Ariel.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from isoill.apdu.apdus import ILLRequest
from isoill.apdu.enums import ILLServiceType, ItemType, MessageRequirement
from isoill.apdu.types import (
    Amount,
    CostInfoType,
    DateTimeOfService,
    DeliveryAddress,
    ElectronicDeliveryService,
    Extension,
    ItemId,
    OCLCILLRequestExtension,
    PostalAddress,
    RequesterOptionalMessagesType,
    ServiceDateTime,
    SystemAddress,
    SystemId,
    TransactionId,
)

ARIEL_ADDRESS = "ariel.lib.example.ac.jp"


def gif_copy_request(when: datetime | None = None) -> ILLRequest:
    """The request, stamped ``when`` (now by default)."""
    moment = (when or datetime.now()).replace(microsecond=0)
    ariel = SystemAddress(telecom_service_identifier="Ariel", telecom_service_address=ARIEL_ADDRESS)
    return ILLRequest(
        transaction_id=TransactionId(
            initial_requester_id=SystemId.institution("NACSIS:FA001234"),
            transaction_group_qualifier="GIF",
            transaction_qualifier="CA00012345",
        ),
        service_date_time=ServiceDateTime(
            date_time_of_this_service=DateTimeOfService(date=moment.date(), time=moment.time())
        ),
        requester_id=SystemId.institution("NACSIS:FA001234", "Example University Library"),
        responder_id=SystemId.institution("OCLC:XYZ"),
        delivery_address=DeliveryAddress(
            postal_address=PostalAddress(
                street_and_number="1-1 Example-cho",
                city="Tokyo",
                postal_code="100-0001",
                country="Japan",
            ),
            electronic_address=ariel,
        ),
        delivery_service=(
            ElectronicDeliveryService(e_delivery_description="Ariel", e_delivery_details=ariel),
        ),
        ill_service_type=(ILLServiceType.COPY_NON_RETURNABLE,),
        requester_optional_messages=RequesterOptionalMessagesType(
            can_send_received=True,
            can_send_returned=False,
            requester_shipped=MessageRequirement.REQUIRES,
            requester_checked_in=MessageRequirement.NEITHER,
        ),
        item_id=ItemId(
            item_type=ItemType.SERIAL,
            title="Interlending & Document Supply",
            volume_issue="32(2)",
            publication_date="2004",
            title_of_article="Licence to Deny? Publisher restrictions on document delivery",
            pagination="94-101",
            issn="02641615",
        ),
        cost_info_type=CostInfoType(
            maximum_cost=Amount(monetary_value=Decimal("35.50"), currency_code="USD"),
        ),
        copyright_compliance="ccg",
        ill_request_extensions=(
            Extension(identifier=1, item=OCLCILLRequestExtension(payment_method="IFM")),
        ),
    )
