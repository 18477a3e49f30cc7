"""18626 messages that did not come from an APDU: each status, reasonForMessage and action
gives the APDU the table says, open codes 10161 lacks are kept in the note, and messages
without an APDU are refused with the reason."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from isoill.apdu import apdus, encode
from isoill.apdu.enums import (
    Conditions,
    GeneralProblem,
    ReasonUnfilled,
    ShippedConditions,
    TransactionResults,
)
from isoill.errors import IsoillError
from isoill.iso18626 import (
    Action,
    BibliographicInfo,
    BibliographicItemId,
    ConfirmationHeader,
    Costs,
    DeliveryInfo,
    ErrorData,
    ErrorType,
    Message,
    MessageInfo,
    MessageStatus,
    ReasonForMessage,
    Request,
    RequestConfirmation,
    RequestingAgencyMessage,
    SchemeValue,
    ServiceInfo,
    ServiceType,
    Status,
    StatusInfo,
    SupplyingAgencyMessage,
    SupplyingAgencyMessageConfirmation,
    YesNo,
)
from isoill.iso18626 import to_apdu as mapping
from isoill.iso18626.identity import NoApdu
from isoill.iso18626.to_apdu import ACTIONS, REASONS, STATUSES
from tests.iso18626.mapping_support import AT, HEADER


def to_apdu(message: Message) -> Any:
    """The APDU of ``message``, typed loosely: each test reads the fields of the APDU type
    it expects (and asserts that type where the type is the point)."""
    return mapping.to_apdu(message)


def supplier(
    status: Status, reason: ReasonForMessage = ReasonForMessage.STATUS_CHANGE, **info: object
) -> SupplyingAgencyMessage:
    return SupplyingAgencyMessage(HEADER, MessageInfo(reason, **info), StatusInfo(status, AT))  # type: ignore[arg-type]


STATUS_APDUS: dict[Status, type[apdus.APDUBase]] = {
    Status.EXPECT_TO_SUPPLY: apdus.ILLAnswer,
    Status.WILL_SUPPLY: apdus.ILLAnswer,
    Status.LOANED: apdus.Shipped,
    Status.OVERDUE: apdus.Overdue,
    Status.RECALLED: apdus.Recall,
    Status.RETRY_POSSIBLE: apdus.ILLAnswer,
    Status.UNFILLED: apdus.ILLAnswer,
    Status.COPY_COMPLETED: apdus.Shipped,
    Status.LOAN_COMPLETED: apdus.CheckedIn,
    Status.COMPLETED_WITHOUT_RETURN: apdus.Lost,
    Status.CANCELLED: apdus.CancelReply,
}
ACTION_APDUS: dict[Action, type[apdus.APDUBase]] = {
    Action.STATUS_REQUEST: apdus.StatusQuery,
    Action.RECEIVED: apdus.Received,
    Action.CANCEL: apdus.Cancel,
    Action.RENEW: apdus.Renew,
    Action.SHIPPED_RETURN: apdus.Returned,
    Action.SHIPPED_FORWARD: apdus.Message,
    Action.NOTIFICATION: apdus.Message,
}
REASON_APDUS: dict[ReasonForMessage, type[apdus.APDUBase]] = {
    ReasonForMessage.RENEW_RESPONSE: apdus.RenewAnswer,
    ReasonForMessage.CANCEL_RESPONSE: apdus.CancelReply,
    ReasonForMessage.STATUS_REQUEST_RESPONSE: apdus.StatusOrErrorReport,
    ReasonForMessage.NOTIFICATION: apdus.Message,
}


def test_every_status_action_and_reason_is_handled() -> None:
    assert set(STATUSES) == set(Status)
    assert set(ACTIONS) == set(Action)
    assert set(REASONS) | {
        ReasonForMessage.REQUEST_RESPONSE,
        ReasonForMessage.STATUS_CHANGE,
    } == set(ReasonForMessage)


@pytest.mark.parametrize("status", list(STATUS_APDUS))
def test_each_status(status: Status) -> None:
    apdu = to_apdu(supplier(status))
    assert type(apdu) is STATUS_APDUS[status]
    assert apdu.transaction_id.transaction_qualifier == "req-1"
    assert apdu.transaction_id.transaction_group_qualifier == "req-1"
    assert apdu.requester_id.symbol == "ISIL:DK-710100"
    assert apdu.responder_id.symbol == "ISIL:DK-820010"
    encode(apdu)


@pytest.mark.parametrize("reason", list(REASON_APDUS))
def test_each_reason(reason: ReasonForMessage) -> None:
    apdu = to_apdu(supplier(Status.LOANED, reason, answer_yes_no=YesNo.YES))
    assert type(apdu) is REASON_APDUS[reason]
    encode(apdu)


@pytest.mark.parametrize("action", list(ACTION_APDUS))
def test_each_action(action: Action) -> None:
    apdu = to_apdu(RequestingAgencyMessage(HEADER, action))
    assert type(apdu) is ACTION_APDUS[action]
    encode(apdu)


def test_request_received_alone_has_no_apdu() -> None:
    with pytest.raises(NoApdu, match="RequestReceived") as refused:
        to_apdu(supplier(Status.REQUEST_RECEIVED, ReasonForMessage.REQUEST_RESPONSE))
    assert isinstance(refused.value, IsoillError)


def test_ok_confirmation_has_no_apdu() -> None:
    ok = RequestConfirmation(
        ConfirmationHeader(AT, AT, MessageStatus.OK, requesting_agency_request_id="r")
    )
    with pytest.raises(NoApdu, match="OK confirmation"):
        to_apdu(ok)


def test_error_confirmation_without_request_id_has_no_apdu() -> None:
    refused = RequestConfirmation(
        ConfirmationHeader(AT, AT, MessageStatus.ERROR), ErrorData(ErrorType.BADLY_FORMED_MESSAGE)
    )
    with pytest.raises(NoApdu, match="requestingAgencyRequestId"):
        to_apdu(refused)


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        (
            ErrorData(ErrorType.BADLY_FORMED_MESSAGE, "not XML"),
            GeneralProblem.BADLY_STRUCTURED_APDU,
        ),
        (ErrorData(ErrorType.UNRECOGNISED_DATA_ELEMENT), GeneralProblem.MISTYPED_APDU),
        (
            ErrorData(
                ErrorType.UNRECOGNISED_DATA_VALUE, "RequestingAgencyRequestId already exists"
            ),
            GeneralProblem.OTHER,
        ),
    ],
)
def test_error_confirmation_is_an_error_report(error: ErrorData, problem: GeneralProblem) -> None:
    head = ConfirmationHeader(
        AT,
        AT,
        MessageStatus.ERROR,
        requesting_agency_request_id="req-1",
        multiple_item_request_id="g",
    )
    apdu = to_apdu(SupplyingAgencyMessageConfirmation(head, ReasonForMessage.STATUS_CHANGE, error))
    assert isinstance(apdu, apdus.StatusOrErrorReport)
    assert apdu.error_report is not None
    assert apdu.error_report.provider_error_report == problem
    assert apdu.transaction_id.transaction_group_qualifier == "g"
    assert (
        error.error_value or error.error_type.value
    ) in apdu.error_report.correlation_information
    encode(apdu)


def test_status_change_not_allowed_is_a_state_transition_prohibited() -> None:
    head = ConfirmationHeader(AT, AT, MessageStatus.ERROR, requesting_agency_request_id="req-1")
    error = ErrorData(
        ErrorType.UNRECOGNISED_DATA_VALUE,
        "status change not allowed: from Loaned back to WillSupply",
    )
    apdu = to_apdu(
        SupplyingAgencyMessageConfirmation(head, ReasonForMessage.REQUEST_RESPONSE, error)
    )
    prohibited = apdu.error_report.provider_error_report
    assert prohibited.apdu_type == apdus.ILLAnswer.apdu_type


def test_unknown_reason_unfilled_is_kept_in_the_note() -> None:
    message = supplier(
        Status.UNFILLED,
        reason_unfilled=SchemeValue("Embargoed", "http://example.org/local"),
        note="sorry",
    )
    apdu = to_apdu(message)
    assert apdu.results_explanation.reason_unfilled == ReasonUnfilled.OTHER
    assert apdu.responder_note == "sorry [reasonUnfilled: Embargoed (http://example.org/local)]"


def test_unknown_reason_retry_is_kept_in_the_note() -> None:
    apdu = to_apdu(supplier(Status.RETRY_POSSIBLE, reason_retry=SchemeValue("MultiVolAvail")))
    assert apdu.transaction_results == TransactionResults.RETRY
    assert apdu.results_explanation.reason_not_available is None
    assert "[reasonRetry: MultiVolAvail]" in apdu.responder_note


def test_unknown_loan_condition_is_kept_in_the_note() -> None:
    message = replace(
        supplier(Status.LOANED),
        delivery_info=DeliveryInfo(AT, loan_condition=SchemeValue("KeepDry")),
    )
    apdu = to_apdu(message)
    assert apdu.supply_details.shipped_conditions == ShippedConditions.OTHER
    assert "[loanCondition: KeepDry]" in apdu.responder_note


def test_offered_costs_make_an_estimate() -> None:
    costs = Costs(SchemeValue("EUR"), Decimal("12.5"))
    apdu = to_apdu(
        supplier(
            Status.RETRY_POSSIBLE,
            offered_costs=costs,
            reason_retry=SchemeValue("CostExceedsMaxCost"),
        )
    )
    assert apdu.transaction_results == TransactionResults.ESTIMATE
    assert apdu.results_explanation.cost_estimate == "12.5 EUR"


def test_naive_timestamps_are_local() -> None:
    naive = replace(HEADER, timestamp=datetime(2026, 12, 2, 23, 30))
    apdu = to_apdu(RequestingAgencyMessage(naive, Action.SHIPPED_RETURN))
    assert apdu.date_returned == date(2026, 12, 2)


def test_blank_request_id_is_refused() -> None:
    with pytest.raises(IsoillError, match="requestingAgencyRequestId"):
        to_apdu(
            RequestingAgencyMessage(
                replace(HEADER, requesting_agency_request_id=" "), Action.CANCEL
            )
        )


def test_item_ids_that_do_not_fit_go_to_additional_no_letters() -> None:
    bib = BibliographicInfo(
        title="T",
        bibliographic_item_id=(
            BibliographicItemId("978-0-12-345678-6", SchemeValue("ISBN")),
            BibliographicItemId("0028-0836", SchemeValue("ISSN")),
            BibliographicItemId("ocm123", SchemeValue("OCLC")),
        ),
    )
    apdu = to_apdu(Request(HEADER, bib))
    assert apdu.item_id.isbn is None
    assert apdu.item_id.issn == "00280836"
    assert apdu.item_id.additional_no_letters == "ISBN 978-0-12-345678-6; OCLC ocm123"
    encode(apdu)


def test_a_long_service_level_is_kept_in_the_note() -> None:
    service = ServiceInfo(ServiceType.LOAN, service_level=SchemeValue("Express"), note="asap")
    apdu = to_apdu(Request(HEADER, BibliographicInfo(title="T"), service_info=service))
    assert apdu.search_type is None
    assert apdu.requester_note == "asap [serviceLevel: Express]"


def test_a_peers_own_loan_condition_note_is_a_conditional_answer() -> None:
    apdu = to_apdu(supplier(Status.WILL_SUPPLY, note="#ReShareAddLoanCondition# Reading room only"))
    assert apdu.transaction_results == TransactionResults.CONDITIONAL
    assert apdu.results_explanation.conditions == Conditions.OTHER
    assert apdu.responder_note == "Reading room only"


def test_currency_10161_cannot_hold_is_left_out() -> None:
    costs = Costs(SchemeValue("euro"), Decimal("3"))
    message = replace(supplier(Status.LOANED), delivery_info=DeliveryInfo(AT, delivery_costs=costs))
    apdu = to_apdu(message)
    assert apdu.supply_details.cost.currency_code is None
    assert apdu.supply_details.cost.monetary_value == Decimal("3")


def test_a_timestamp_the_zone_would_move_out_of_range_stays_as_it_is() -> None:
    early = replace(HEADER, timestamp=datetime(1, 1, 1, 0, 30, tzinfo=UTC))
    apdu = to_apdu(RequestingAgencyMessage(early, Action.CANCEL))
    assert apdu.service_date_time.date_time_of_this_service.date == date(1, 1, 1)
    late = replace(HEADER, timestamp=datetime(9999, 12, 31, 23, 30, tzinfo=UTC))
    apdu = mapping.to_apdu(
        RequestingAgencyMessage(late, Action.CANCEL), zone=timezone(timedelta(hours=2))
    )
    assert apdu.service_date_time.date_time_of_this_service.date == date(9999, 12, 31)
