"""The closed code lists of ISO 18626 v1.2 (XSD enumerations) and the open lists' schemes.

A closed list is an enumeration in the schema: a value outside it makes the message invalid,
so these are enums and a message that carries another value is refused before it is read.
An open list (reason retry, reason unfilled, loan condition, ...) is a scheme/value pair: any
value is allowed and is kept with its scheme, known or not (see
:class:`isoill.iso18626.messages.SchemeValue`); the schemes of the 2017 lists the mapping
uses are named here.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    REQUEST_RECEIVED = "RequestReceived"
    EXPECT_TO_SUPPLY = "ExpectToSupply"
    WILL_SUPPLY = "WillSupply"
    LOANED = "Loaned"
    OVERDUE = "Overdue"
    RECALLED = "Recalled"
    RETRY_POSSIBLE = "RetryPossible"
    UNFILLED = "Unfilled"
    COPY_COMPLETED = "CopyCompleted"
    LOAN_COMPLETED = "LoanCompleted"
    COMPLETED_WITHOUT_RETURN = "CompletedWithoutReturn"
    CANCELLED = "Cancelled"


class Action(StrEnum):
    STATUS_REQUEST = "StatusRequest"
    RECEIVED = "Received"
    CANCEL = "Cancel"
    RENEW = "Renew"
    SHIPPED_RETURN = "ShippedReturn"
    SHIPPED_FORWARD = "ShippedForward"
    NOTIFICATION = "Notification"


class ReasonForMessage(StrEnum):
    REQUEST_RESPONSE = "RequestResponse"
    STATUS_REQUEST_RESPONSE = "StatusRequestResponse"
    RENEW_RESPONSE = "RenewResponse"
    CANCEL_RESPONSE = "CancelResponse"
    STATUS_CHANGE = "StatusChange"
    NOTIFICATION = "Notification"


class ErrorType(StrEnum):
    UNSUPPORTED_ACTION_TYPE = "UnsupportedActionType"
    UNSUPPORTED_REASON_FOR_MESSAGE_TYPE = "UnsupportedReasonForMessageType"
    UNRECOGNISED_DATA_ELEMENT = "UnrecognisedDataElement"
    UNRECOGNISED_DATA_VALUE = "UnrecognisedDataValue"
    BADLY_FORMED_MESSAGE = "BadlyFormedMessage"


class MessageStatus(StrEnum):
    OK = "OK"
    ERROR = "ERROR"


class RequestType(StrEnum):
    NEW = "New"
    RETRY = "Retry"
    REMINDER = "Reminder"


class RequestSubType(StrEnum):
    BOOKING_REQUEST = "BookingRequest"
    MULTIPLE_ITEM_REQUEST = "MultipleItemRequest"
    PATRON_REQUEST = "PatronRequest"
    TRANSFER_REQUEST = "TransferRequest"
    SUPPLYING_LIBRARYS_CHOICE = "SupplyingLibrarysChoice"


class ServiceType(StrEnum):
    COPY = "Copy"
    LOAN = "Loan"
    COPY_OR_LOAN = "CopyOrLoan"


class YesNo(StrEnum):
    YES = "Y"
    NO = "N"


_OPEN = "http://illtransactions.org/ISO18626/OpenCodeList/"
#: Schemes of the 2017 open code lists.
REASON_RETRY_SCHEME = _OPEN + "ReasonRetryList-V1.0"
REASON_UNFILLED_SCHEME = _OPEN + "ReasonUnfilledList-V1.0"
LOAN_CONDITION_SCHEME = _OPEN + "LoanConditionList-V1.0"
SENT_VIA_SCHEME = _OPEN + "SentViaList-V1.0"
#: ISO 4217 currency codes.
CURRENCY_SCHEME = "http://www.iso.org/iso-4217"
