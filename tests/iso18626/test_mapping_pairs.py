"""Every mapping pair both ways: APDU -> 18626 message (valid XML) -> APDU keeps what the
table in docs/iso18626-mapping.md says is kept."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from isoill.apdu import apdus
from isoill.apdu.enums import (
    Conditions,
    CurrentState,
    GeneralProblem,
    ILLAPDUType,
    ILLServiceType,
    ItemType,
    MostRecentService,
    ReasonNotAvailable,
    ReasonUnfilled,
    ReasonWillSupply,
    ReportSource,
    ShippedConditions,
    TransactionIdProblem,
    TransactionResults,
    UnableToPerform,
)
from isoill.apdu.types import (
    Amount,
    ClientId,
    ConditionalResults,
    CostInfoType,
    DateDue,
    DeliveryAddress,
    ErrorReport,
    EstimateResults,
    HistoryReport,
    HoldPlacedResults,
    InstitutionName,
    ItemId,
    LocationInfo,
    LocationsResults,
    PostalAddress,
    RetryResults,
    SearchType,
    StateTransitionProhibited,
    StatusReport,
    SupplyDetails,
    SystemAddress,
    SystemId,
    UnfilledResults,
    WillSupplyResults,
)
from isoill.iso18626 import (
    Action,
    ErrorType,
    MessageStatus,
    ReasonForMessage,
    Request,
    RequestConfirmation,
    RequestingAgencyMessage,
    RequestingAgencyMessageConfirmation,
    RequestType,
    ServiceType,
    Status,
    SupplyingAgencyMessage,
    SupplyingAgencyMessageConfirmation,
    YesNo,
)
from isoill.iso18626.from_apdu import from_apdu
from isoill.iso18626.refusals import error_data
from isoill.iso18626.to_apdu import to_apdu
from tests.iso18626.mapping_support import REQUESTER, RESPONDER, base, through_xml

DAY = date(2026, 12, 20)


def there_and_back(apdu: apdus.APDUBase, **options: Any) -> tuple[Any, Any]:
    """The message ``apdu`` maps to (checked through XML) and the APDU it maps back to."""
    message = through_xml(from_apdu(apdu, **options))  # type: ignore[arg-type]
    return message, to_apdu(message)


def test_ill_request_fields_both_ways() -> None:
    apdu = apdus.ILLRequest(
        **base(),
        item_id=ItemId(
            item_type=ItemType.SERIAL,
            title="Nature",
            author="Anon",
            sub_title="International weekly",
            title_of_article="A result",
            author_of_article="Smith, J.",
            volume_issue="12(3)",
            pagination="10-20",
            edition="2nd",
            publisher="Macmillan",
            place_of_publication="London",
            publication_date="1998",
            issn="00280836",
            isbn="0123456789",
            call_number="QH 1 .N2",
            series_title_number="Series 4",
            additional_no_letters="OCLC 12345",
            sponsoring_body="Society",
            verification_reference_source="OCLC",
        ),
        ill_service_type=(ILLServiceType.LOAN, ILLServiceType.COPY_NON_RETURNABLE),
        search_type=SearchType(level_of_service="R", need_before_date=DAY),
        delivery_address=DeliveryAddress(
            postal_address=PostalAddress(
                street_and_number="Main St 1",
                extended_postal_delivery_address="ILL office",
                city="Aarhus",
                postal_code="8000",
                region="Jutland",
                country="DK",
            ),
            electronic_address=SystemAddress(
                telecom_service_identifier="EMAIL", telecom_service_address="ill@example.dk"
            ),
        ),
        billing_address=DeliveryAddress(
            postal_address=PostalAddress(
                name_of_person_or_institution=InstitutionName("Accounts"), city="Aarhus"
            )
        ),
        client_id=ClientId(client_name="Jens", client_status="faculty", client_identifier="P1"),
        cost_info_type=CostInfoType(
            account_number="ACC-9",
            maximum_cost=Amount(monetary_value=Decimal("25.50"), currency_code="EUR"),
        ),
        copyright_compliance="US:CCG",
        retry_flag=True,
        requester_note="please hurry",
    )
    message, back = there_and_back(apdu)
    assert isinstance(message, Request)
    header = message.header
    assert (
        header.requesting_agency_id.agency_id_type.value,
        header.requesting_agency_id.agency_id_value,
    ) == ("ISIL", "DK-710100")
    assert header.requesting_agency_request_id == "req-1"
    assert header.multiple_item_request_id == "grp-1"
    assert header.timestamp == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    assert message.service_info is not None
    assert message.service_info.service_type == ServiceType.COPY_OR_LOAN
    assert message.service_info.request_type == RequestType.RETRY
    assert message.billing_info is not None and message.billing_info.maximum_costs is not None
    assert message.billing_info.maximum_costs.monetary_value == Decimal("25.50")
    assert isinstance(back, apdus.ILLRequest)
    assert back.transaction_id == apdu.transaction_id
    assert (back.requester_id, back.responder_id) == (REQUESTER, RESPONDER)
    assert back.service_date_time == apdu.service_date_time
    assert back.item_id == apdu.item_id
    for kept in (
        "ill_service_type",
        "search_type",
        "delivery_address",
        "billing_address",
        "client_id",
        "cost_info_type",
        "copyright_compliance",
        "retry_flag",
        "requester_note",
    ):
        assert getattr(back, kept) == getattr(apdu, kept), kept


def test_requester_name_travels_as_requesting_agency_info() -> None:
    named = SystemId.institution("ISIL:DK-710100", "Aarhus library")
    apdu = apdus.ILLRequest(**(base() | {"requester_id": named}), item_id=ItemId(title="T"))
    message, back = there_and_back(apdu)
    assert message.requesting_agency_info.name == "Aarhus library"
    assert back.requester_id == named


@pytest.mark.parametrize(
    ("offered", "service"),
    [
        ((ILLServiceType.LOAN,), ServiceType.LOAN),
        ((ILLServiceType.COPY_NON_RETURNABLE,), ServiceType.COPY),
        ((ILLServiceType.ESTIMATE, ILLServiceType.COPY_NON_RETURNABLE), ServiceType.COPY),
    ],
)
def test_service_type(offered: tuple[ILLServiceType, ...], service: ServiceType) -> None:
    message, _ = there_and_back(
        apdus.ILLRequest(**base(), item_id=ItemId(), ill_service_type=offered)
    )
    assert message.service_info.service_type == service


def test_group_qualifier_equal_to_the_qualifier_is_written_empty() -> None:
    message, back = there_and_back(apdus.Cancel(**base("q", "q")))
    assert message.header.multiple_item_request_id == ""
    assert back.transaction_id.transaction_group_qualifier == "q"


def test_zone_of_the_10161_side() -> None:
    zone = timezone(timedelta(hours=9))
    message, _ = there_and_back(apdus.Cancel(**base()), zone=zone)
    assert message.header.timestamp == datetime(2026, 12, 2, 0, 30, tzinfo=UTC)
    assert to_apdu(message, zone=zone).service_date_time == base()["service_date_time"]


# --- requester's APDUs <-> requestingAgencyMessage actions ------------------------------------

REQUESTER_PAIRS = [
    (
        apdus.Received(
            **base(),
            date_received=date(2026, 12, 2),
            shipped_service_type=ILLServiceType.LOAN,
            requester_note="ok",
        ),
        Action.RECEIVED,
    ),
    (apdus.Renew(**base(), requester_note="more time"), Action.RENEW),
    (
        apdus.Returned(**base(), date_returned=date(2026, 12, 2), requester_note="sent back"),
        Action.SHIPPED_RETURN,
    ),
    (apdus.Cancel(**base(), requester_note="not needed"), Action.CANCEL),
    (apdus.StatusQuery(**base(), note="where is it?"), Action.STATUS_REQUEST),
    (apdus.ConditionalReply(**base(), answer=True, requester_note="fine"), Action.NOTIFICATION),
    (apdus.ConditionalReply(**base(), answer=False, requester_note="no"), Action.CANCEL),
]


@pytest.mark.parametrize(("apdu", "action"), REQUESTER_PAIRS, ids=lambda v: type(v).__name__)
def test_requester_apdus(apdu: apdus.APDUBase, action: Action) -> None:
    message, back = there_and_back(apdu)
    assert isinstance(message, RequestingAgencyMessage)
    assert message.action == action
    assert back == apdu


@pytest.mark.parametrize(
    ("apdu", "sender", "marker"),
    [
        (apdus.Message(**base(), note="hello"), "requester", None),
        (apdus.Damaged(**base(), note="torn"), "requester", "#ISO10161:DAMAGED#"),
        (apdus.Lost(**base(), note="gone"), "requester", "#ISO10161:LOST#"),
    ],
)
def test_requester_notifications(apdu: apdus.APDUBase, sender: str, marker: str | None) -> None:
    message, back = there_and_back(apdu, sender=sender)
    assert message.action == Action.NOTIFICATION
    assert (marker or "") in message.note
    assert back == apdu


def test_shipped_forward_is_a_message() -> None:
    message, _ = there_and_back(apdus.Cancel(**base()))
    forward = RequestingAgencyMessage(message.header, Action.SHIPPED_FORWARD, "to DK-3")
    back = to_apdu(forward)
    assert isinstance(back, apdus.Message)
    assert "ShippedForward" in back.note and "to DK-3" in back.note


# --- responder's APDUs <-> supplyingAgencyMessage ---------------------------------------------

ANSWERS = [
    (
        WillSupplyResults(
            reason_will_supply=ReasonWillSupply.BEING_PROCESSED_FOR_SUPPLY, supply_date=DAY
        ),
        TransactionResults.WILL_SUPPLY,
        Status.WILL_SUPPLY,
    ),
    (
        HoldPlacedResults(estimated_date_available=DAY),
        TransactionResults.HOLD_PLACED,
        Status.EXPECT_TO_SUPPLY,
    ),
    (
        RetryResults(reason_not_available=ReasonNotAvailable.AT_BINDERY, retry_date=DAY),
        TransactionResults.RETRY,
        Status.RETRY_POSSIBLE,
    ),
    (
        UnfilledResults(reason_unfilled=ReasonUnfilled.NOT_OWNED),
        TransactionResults.UNFILLED,
        Status.UNFILLED,
    ),
    (
        ConditionalResults(conditions=Conditions.LIBRARY_USE_ONLY),
        TransactionResults.CONDITIONAL,
        Status.WILL_SUPPLY,
    ),
    (EstimateResults(cost_estimate="12.50"), TransactionResults.ESTIMATE, Status.RETRY_POSSIBLE),
]


@pytest.mark.parametrize(("results", "kind", "status"), ANSWERS, ids=lambda v: type(v).__name__)
def test_ill_answer_results(results: Any, kind: TransactionResults, status: Status) -> None:
    apdu = apdus.ILLAnswer(
        **base(), transaction_results=kind, results_explanation=results, responder_note="n"
    )
    message, back = there_and_back(apdu)
    assert isinstance(message, SupplyingAgencyMessage)
    assert message.message_info.reason_for_message == ReasonForMessage.REQUEST_RESPONSE
    assert message.status_info.status == status
    assert back == apdu


def test_conditional_cost_is_retry_with_cost_exceeds_max_cost() -> None:
    results = ConditionalResults(conditions=Conditions.COST_EXCEEDS_LIMIT)
    apdu = apdus.ILLAnswer(
        **base(), transaction_results=TransactionResults.CONDITIONAL, results_explanation=results
    )
    message, back = there_and_back(apdu)
    assert message.status_info.status == Status.RETRY_POSSIBLE
    assert message.message_info.reason_retry.value == "CostExceedsMaxCost"
    assert back.transaction_results == TransactionResults.RETRY
    assert back.results_explanation.reason_not_available == ReasonNotAvailable.COST_EXCEEDS_LIMIT


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        (ReasonUnfilled.NON_CIRCULATING, "NonCirculating"),
        (ReasonUnfilled.LACKING, "NotAvailableForILL"),
    ],
)
def test_unfilled_reasons(reason: ReasonUnfilled, code: str) -> None:
    apdu = apdus.ILLAnswer(
        **base(),
        transaction_results=TransactionResults.UNFILLED,
        results_explanation=UnfilledResults(reason_unfilled=reason),
    )
    message, back = there_and_back(apdu)
    assert message.message_info.reason_unfilled.value == code
    expected = reason if code != "NotAvailableForILL" else ReasonUnfilled.OTHER
    assert back.results_explanation.reason_unfilled == expected


def test_locations_provided_is_unfilled_with_the_locations_in_the_note() -> None:
    location = LocationInfo(location_id=SystemId.institution("ISIL:DK-3"))
    apdu = apdus.ILLAnswer(
        **base(),
        transaction_results=TransactionResults.LOCATIONS_PROVIDED,
        results_explanation=LocationsResults(locations=(location,)),
    )
    message, back = there_and_back(apdu)
    assert message.status_info.status == Status.UNFILLED
    assert "ISIL:DK-3" in message.message_info.note
    assert back.transaction_results == TransactionResults.UNFILLED


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (ILLServiceType.LOAN, Status.LOANED),
        (ILLServiceType.COPY_NON_RETURNABLE, Status.COPY_COMPLETED),
    ],
)
def test_shipped(kind: ILLServiceType, status: Status) -> None:
    details = SupplyDetails(
        date_shipped=date(2026, 12, 3),
        date_due=DateDue(date_due_field=DAY),
        cost=Amount(monetary_value=Decimal("5"), currency_code="DKK"),
        shipped_conditions=ShippedConditions.NO_REPRODUCTION,
        shipped_via="Post",
    )
    apdu = apdus.Shipped(
        **base(), shipped_service_type=kind, supply_details=details, responder_note="on its way"
    )
    message, back = there_and_back(apdu)
    assert message.status_info.status == status
    assert message.delivery_info.loan_condition.value == "NoReproduction"
    assert message.status_info.due_date == datetime(2026, 12, 20, tzinfo=UTC)
    assert back == apdu


RESPONDER_PAIRS = [
    (
        apdus.RenewAnswer(
            **base(), answer=True, date_due=DateDue(date_due_field=DAY), responder_note="ok"
        ),
        ReasonForMessage.RENEW_RESPONSE,
        Status.LOANED,
    ),
    (apdus.RenewAnswer(**base(), answer=False), ReasonForMessage.RENEW_RESPONSE, Status.LOANED),
    (
        apdus.CancelReply(**base(), answer=True, responder_note="done"),
        ReasonForMessage.CANCEL_RESPONSE,
        Status.CANCELLED,
    ),
    (
        apdus.CancelReply(**base(), answer=False),
        ReasonForMessage.CANCEL_RESPONSE,
        Status.WILL_SUPPLY,
    ),
    (
        apdus.Recall(**base(), responder_note="needed"),
        ReasonForMessage.STATUS_CHANGE,
        Status.RECALLED,
    ),
    (
        apdus.Overdue(**base(), date_due=DateDue(date_due_field=DAY), responder_note="late"),
        ReasonForMessage.STATUS_CHANGE,
        Status.OVERDUE,
    ),
    (
        apdus.CheckedIn(**base(), date_checked_in=date(2026, 12, 2), responder_note="back"),
        ReasonForMessage.STATUS_CHANGE,
        Status.LOAN_COMPLETED,
    ),
    (apdus.Expired(**base()), ReasonForMessage.STATUS_CHANGE, Status.UNFILLED),
]


@pytest.mark.parametrize(
    ("apdu", "reason", "status"), RESPONDER_PAIRS, ids=lambda v: type(v).__name__
)
def test_responder_apdus(apdu: apdus.APDUBase, reason: ReasonForMessage, status: Status) -> None:
    message, back = there_and_back(apdu)
    assert isinstance(message, SupplyingAgencyMessage)
    assert (message.message_info.reason_for_message, message.status_info.status) == (reason, status)
    assert back == apdu


def test_cancel_reply_no_is_never_cancelled() -> None:
    message, _ = there_and_back(apdus.CancelReply(**base(), answer=False), current=Status.CANCELLED)
    assert message.status_info.status == Status.WILL_SUPPLY


def test_cancel_reply_no_keeps_the_current_status() -> None:
    message, _ = there_and_back(
        apdus.CancelReply(**base(), answer=False), current=Status.EXPECT_TO_SUPPLY
    )
    assert message.status_info.status == Status.EXPECT_TO_SUPPLY
    assert message.message_info.answer_yes_no == YesNo.NO


@pytest.mark.parametrize(
    ("apdu", "expected"),
    [
        (apdus.Message(**base(), note="hi"), None),
        (apdus.Damaged(**base(), note="wet"), None),
        (apdus.Lost(**base(), note="lost"), Status.COMPLETED_WITHOUT_RETURN),
    ],
)
def test_responder_notifications(apdu: apdus.APDUBase, expected: Status | None) -> None:
    message, back = there_and_back(apdu, sender="responder", current=Status.LOANED)
    assert isinstance(message, SupplyingAgencyMessage)
    assert message.status_info.status == (expected or Status.LOANED)
    assert back == apdu


def test_either_side_apdu_needs_its_sender() -> None:
    with pytest.raises(Exception, match="sender"):
        from_apdu(apdus.Message(**base(), note="hi"))


def test_forward_notification() -> None:
    new = SystemId.institution("ISIL:DK-3")
    apdu = apdus.ForwardNotification(
        **(base() | {"responder_id": new}), intermediary_id=RESPONDER, notification_note="passed on"
    )
    message, back = there_and_back(apdu)
    assert message.header.supplying_agency_id.agency_id_value == "DK-820010"
    assert message.message_info.reason_for_message == ReasonForMessage.NOTIFICATION
    assert back == apdu


def test_status_report() -> None:
    history = HistoryReport(
        date_of_last_transition=date(2026, 12, 2),
        most_recent_service=MostRecentService.SHIPPED,
        date_of_most_recent_service=date(2026, 12, 2),
        initiator_of_most_recent_service=RESPONDER,
    )
    report = StatusReport(user_status_report=history, provider_status_report=CurrentState.SHIPPED)
    apdu = apdus.StatusOrErrorReport(**base(), status_report=report, note="status")
    message, back = there_and_back(apdu)
    assert message.message_info.reason_for_message == ReasonForMessage.STATUS_REQUEST_RESPONSE
    assert message.status_info.status == Status.LOANED
    assert back == apdu


@pytest.mark.parametrize(
    ("problem", "kind", "confirmation", "error_type"),
    [
        (
            GeneralProblem.BADLY_STRUCTURED_APDU,
            None,
            RequestConfirmation,
            ErrorType.BADLY_FORMED_MESSAGE,
        ),
        (
            TransactionIdProblem.UNKNOWN_TRANSACTION_ID,
            "requester",
            SupplyingAgencyMessageConfirmation,
            ErrorType.UNRECOGNISED_DATA_VALUE,
        ),
        (
            StateTransitionProhibited(
                apdu_type=ILLAPDUType.RENEW, current_state=CurrentState.PENDING
            ),
            None,
            RequestingAgencyMessageConfirmation,
            ErrorType.UNSUPPORTED_ACTION_TYPE,
        ),
        (
            StateTransitionProhibited(
                apdu_type=ILLAPDUType.SHIPPED, current_state=CurrentState.CANCELLED
            ),
            None,
            SupplyingAgencyMessageConfirmation,
            ErrorType.UNRECOGNISED_DATA_VALUE,
        ),
    ],
)
def test_error_report_is_an_error_confirmation(
    problem: Any, kind: Any, confirmation: Any, error_type: ErrorType
) -> None:
    report = ErrorReport(
        correlation_information="corr-7",
        report_source=ReportSource.PROVIDER,
        provider_error_report=problem,
    )
    apdu = apdus.StatusOrErrorReport(**base(), error_report=report)
    message, back = there_and_back(apdu, sender=kind)
    assert type(message) is confirmation
    assert message.confirmation_header.message_status == MessageStatus.ERROR
    assert message.error_data.error_type == error_type
    assert "corr-7" in message.error_data.error_value
    assert back.error_report.provider_error_report == problem
    assert back.transaction_id == apdu.transaction_id


def test_error_data_of_a_user_error() -> None:
    report = ErrorReport(
        correlation_information="corr-8",
        report_source=ReportSource.USER,
        user_error_report=UnableToPerform.RESOURCE_LIMITATION,
    )
    data = error_data(report, "try later")
    assert data.error_type == ErrorType.UNRECOGNISED_DATA_VALUE
    assert data.error_value == "user-error resource_limitation (corr-8 try later)"
