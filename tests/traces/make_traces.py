"""Build the example traces that ``isoill replay`` and tests/machine/test_replay.py use.

Each flow of the fact sheet (§1.4-1.7) is one transaction, built with fixed dates and times so
that the files come out byte for byte the same on every run (tests/machine/test_replay.py
checks that the committed ``.ber`` files still equal what this script builds), and written as
the APDUs'
BER concatenated in the order they went over the wire, which is what a capture gives.

    python tests/traces/make_traces.py      # (re)writes tests/traces/*.ber

The parties are those of the GIF project: a Japanese university library (NACSIS-ILL) asking
OCLC; in the forwarded flow OCLC is the intermediary and passes the request on to a North
American lender.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypedDict

import isoill
from isoill.apdu.apdus import (
    APDU,
    Cancel,
    CancelReply,
    CheckedIn,
    ConditionalReply,
    ForwardNotification,
    ILLAnswer,
    ILLRequest,
    Received,
    Renew,
    RenewAnswer,
    Returned,
    Shipped,
)
from isoill.apdu.enums import (
    Conditions,
    ILLServiceType,
    ItemType,
    MessageRequirement,
    Preference,
    ReasonUnfilled,
    ReasonWillSupply,
    TransactionResults,
)
from isoill.apdu.types import (
    Amount,
    ConditionalResults,
    DateDue,
    DateTimeOfService,
    ElectronicDeliveryService,
    ItemId,
    RequesterOptionalMessagesType,
    SendToListEntry,
    ServiceDateTime,
    SupplyDetails,
    SystemAddress,
    SystemId,
    ThirdPartyInfoType,
    TransactionId,
    UnfilledResults,
    WillSupplyResults,
)
from isoill.demo import gif_copy_request

HERE = Path(__file__).resolve().parent

REQUESTER = SystemId.institution("NACSIS:FA001234", "Example University Library")
RESPONDER = SystemId.institution("OCLC:XYZ")
# The forwarded flow: OCLC passes the request on to this lender and drops out.
INTERMEDIARY = RESPONDER
NEW_RESPONDER = SystemId.institution("NUC:ABCD", "Example College Library")
NEW_RESPONDER_ADDRESS = SystemAddress(
    telecom_service_identifier="TCP/IP", telecom_service_address="ill.college.example.edu:499"
)
REQUESTER_ADDRESS = SystemAddress(
    telecom_service_identifier="TCP/IP", telecom_service_address="ill.lib.example.ac.jp:499"
)
ARIEL = SystemAddress(telecom_service_identifier="Ariel", telecom_service_address="ariel.example")

# Ask for every optional message without requiring any: no flow then depends on a
# negotiation the responder might refuse (yaz-illclient's requires/requires would).
MESSAGES = RequesterOptionalMessagesType(
    can_send_received=True,
    can_send_returned=True,
    requester_shipped=MessageRequirement.DESIRES,
    requester_checked_in=MessageRequirement.DESIRES,
)

# The GIF article of the demo request.
ARTICLE = gif_copy_request(datetime(2026, 1, 1)).item_id
BOOK = ItemId(
    item_type=ItemType.MONOGRAPH,
    author="Line, Maurice B.",
    title="Interlending and document supply in Japan",
    publisher="British Library",
    publication_date="1991",
)


def stamp(moment: datetime) -> ServiceDateTime:
    return ServiceDateTime(
        date_time_of_this_service=DateTimeOfService(date=moment.date(), time=moment.time())
    )


def on(year: int, month: int, day: int, hour: int, minute: int = 0) -> ServiceDateTime:
    """A service date-time with the time always given: the standard wants it for a
    transaction's second and later services of a day."""
    return stamp(datetime(year, month, day, hour, minute))


def tid(qualifier: str) -> TransactionId:
    return TransactionId(
        initial_requester_id=REQUESTER,
        transaction_group_qualifier="GIF",
        transaction_qualifier=qualifier,
    )


class Parties(TypedDict):
    transaction_id: TransactionId
    service_date_time: ServiceDateTime
    requester_id: SystemId
    responder_id: SystemId


def parties(
    transaction: TransactionId, when: ServiceDateTime, responder: SystemId = RESPONDER
) -> Parties:
    return {
        "transaction_id": transaction,
        "service_date_time": when,
        "requester_id": REQUESTER,
        "responder_id": responder,
    }


def copy_request(transaction: TransactionId, when: ServiceDateTime) -> ILLRequest:
    """The GIF copy request of ``isoill demo``, with this flow's id and time."""
    return dataclasses.replace(
        gif_copy_request(datetime(2026, 1, 1)),
        transaction_id=transaction,
        service_date_time=when,
        requester_optional_messages=MESSAGES,
    )


def loan_request(transaction: TransactionId, when: ServiceDateTime) -> ILLRequest:
    return ILLRequest(
        **parties(transaction, when),
        item_id=BOOK,
        ill_service_type=(ILLServiceType.LOAN,),
        requester_optional_messages=MESSAGES,
        copyright_compliance="US:CCG",
    )


def will_supply(
    transaction: TransactionId, when: ServiceDateTime, responder: SystemId = RESPONDER
) -> ILLAnswer:
    return ILLAnswer(
        **parties(transaction, when, responder),
        transaction_results=TransactionResults.WILL_SUPPLY,
        results_explanation=WillSupplyResults(
            reason_will_supply=ReasonWillSupply.BEING_PROCESSED_FOR_SUPPLY
        ),
    )


def shipped_copy(
    transaction: TransactionId, when: ServiceDateTime, responder: SystemId = RESPONDER
) -> Shipped:
    shipped_on = when.date_time_of_this_service.date
    return Shipped(
        **parties(transaction, when, responder),
        shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE,
        supply_details=SupplyDetails(
            date_shipped=shipped_on,
            chargeable_units=8,
            shipped_via=ElectronicDeliveryService(
                e_delivery_description="Ariel", e_delivery_details=ARIEL
            ),
        ),
    )


def received(
    transaction: TransactionId,
    when: ServiceDateTime,
    service: ILLServiceType = ILLServiceType.COPY_NON_RETURNABLE,
    responder: SystemId = RESPONDER,
) -> Received:
    return Received(
        **parties(transaction, when, responder),
        date_received=when.date_time_of_this_service.date,
        shipped_service_type=service,
    )


# --- the flows -----------------------------------------------------------------------------


def copy_flow() -> list[APDU]:
    """A copy (GIF): requested, promised, sent by Ariel, received. RECEIVED is final."""
    t = tid("CA00010001")
    return [
        copy_request(t, on(2026, 11, 2, 9)),
        will_supply(t, on(2026, 11, 2, 15)),
        shipped_copy(t, on(2026, 11, 3, 10)),
        received(t, on(2026, 11, 3, 16)),
    ]


def loan_renew_flow() -> list[APDU]:
    """A loan renewed once, returned and checked in."""
    t = tid("LN00010002")
    return [
        loan_request(t, on(2026, 11, 2, 9)),
        will_supply(t, on(2026, 11, 2, 15)),
        Shipped(
            **parties(t, on(2026, 11, 4, 10)),
            shipped_service_type=ILLServiceType.LOAN,
            supply_details=SupplyDetails(
                date_shipped=date(2026, 11, 4),
                date_due=DateDue(date_due_field=date(2026, 12, 15), renewable=True),
                shipped_via="airmail",
                insured_for=Amount(monetary_value=Decimal("120.00"), currency_code="USD"),
            ),
        ),
        received(t, on(2026, 11, 12, 11), ILLServiceType.LOAN),
        Renew(
            **parties(t, on(2026, 12, 8, 9, 30)),
            desired_due_date=date(2027, 1, 15),
            requester_note="Needed for a thesis chapter",
        ),
        RenewAnswer(
            **parties(t, on(2026, 12, 9, 14)),
            answer=True,
            date_due=DateDue(date_due_field=date(2027, 1, 15), renewable=False),
        ),
        Returned(
            **parties(t, on(2027, 1, 10, 10)),
            date_returned=date(2027, 1, 10),
            returned_via="airmail",
        ),
        CheckedIn(**parties(t, on(2027, 1, 18, 16)), date_checked_in=date(2027, 1, 18)),
    ]


def cancel_flow() -> list[APDU]:
    """The requester cancels before anything was answered; the responder agrees."""
    t = tid("CA00010003")
    return [
        copy_request(t, on(2026, 11, 2, 9)),
        Cancel(**parties(t, on(2026, 11, 2, 11)), requester_note="Found locally"),
        CancelReply(**parties(t, on(2026, 11, 2, 14)), answer=True),
    ]


def conditional_flow() -> list[APDU]:
    """The responder asks the requester to accept a charge; it does, and the copy comes."""
    t = tid("CA00010004")
    return [
        copy_request(t, on(2026, 11, 2, 9)),
        ILLAnswer(
            **parties(t, on(2026, 11, 2, 15)),
            transaction_results=TransactionResults.CONDITIONAL,
            results_explanation=ConditionalResults(
                conditions=Conditions.CHARGES, date_for_reply=date(2026, 11, 9)
            ),
            responder_note="USD 12.00 for a copy of more than 5 pages",
        ),
        ConditionalReply(**parties(t, on(2026, 11, 3, 9)), answer=True),
        will_supply(t, on(2026, 11, 3, 11)),
        shipped_copy(t, on(2026, 11, 4, 10)),
        received(t, on(2026, 11, 4, 16)),
    ]


def forwarded_flow() -> list[APDU]:
    """OCLC (the intermediary) forwards the request to a lender and drops out; the requester
    then deals with the lender."""
    t = tid("CA00010005")
    lender = SendToListEntry(system_id=NEW_RESPONDER, system_address=NEW_RESPONDER_ADDRESS)
    info = ThirdPartyInfoType(
        permission_to_forward=True,
        initial_requester_address=REQUESTER_ADDRESS,
        preference=Preference.ORDERED,
        send_to_list=(lender,),
    )
    request = dataclasses.replace(copy_request(t, on(2026, 11, 2, 9)), third_party_info_type=info)
    forwarded = dataclasses.replace(
        request,
        service_date_time=on(2026, 11, 2, 10),
        responder_id=NEW_RESPONDER,
        forward_flag=True,
        third_party_info_type=dataclasses.replace(info, already_tried_list=(INTERMEDIARY,)),
    )
    notice = ForwardNotification(
        transaction_id=t,
        service_date_time=on(2026, 11, 2, 10, 1),
        requester_id=REQUESTER,
        responder_id=NEW_RESPONDER,
        intermediary_id=INTERMEDIARY,
        responder_address=NEW_RESPONDER_ADDRESS,
        notification_note="Forwarded to NUC:ABCD",
    )
    return [
        request,
        forwarded,
        notice,
        will_supply(t, on(2026, 11, 2, 16), NEW_RESPONDER),
        shipped_copy(t, on(2026, 11, 3, 10), NEW_RESPONDER),
        received(t, on(2026, 11, 3, 16), responder=NEW_RESPONDER),
    ]


def unfilled_flow() -> list[APDU]:
    """The responder cannot supply: the transaction ends NOT-SUPPLIED."""
    t = tid("CA00010006")
    return [
        copy_request(t, on(2026, 11, 2, 9)),
        ILLAnswer(
            **parties(t, on(2026, 11, 2, 15)),
            transaction_results=TransactionResults.UNFILLED,
            results_explanation=UnfilledResults(reason_unfilled=ReasonUnfilled.NOT_OWNED),
        ),
    ]


def prohibited_flow() -> list[APDU]:
    """A Renew for a copy, which is not lent: the machine refuses it (exit status 1)."""
    t = tid("CA00010007")
    return [
        copy_request(t, on(2026, 11, 2, 9)),
        shipped_copy(t, on(2026, 11, 3, 10)),
        Renew(**parties(t, on(2026, 11, 3, 12)), desired_due_date=date(2026, 12, 31)),
    ]


def flows() -> dict[str, list[APDU]]:
    """Every trace by file name (without ``.ber``)."""
    return {
        "copy": copy_flow(),
        "loan-renew": loan_renew_flow(),
        "cancel": cancel_flow(),
        "conditional": conditional_flow(),
        "forwarded": forwarded_flow(),
        "unfilled": unfilled_flow(),
        "prohibited": prohibited_flow(),
    }


def ber(apdus: list[APDU]) -> bytes:
    return b"".join(isoill.encode(apdu) for apdu in apdus)


def main(directory: Path = HERE) -> int:
    for name, apdus in flows().items():
        path = directory / f"{name}.ber"
        path.write_bytes(ber(apdus))
        print(f"{path.name}: {len(apdus)} APDUs, {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE))
