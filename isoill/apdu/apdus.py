"""The 20 APDUs of ISO 10161-1 as immutable values.

Every APDU starts with the same five components (protocol version, transaction id, service
date and time, requester and responder); they live in :class:`APDUBase`. Defaults follow IPIG
practice: protocol version 2 and a service date-time of "now", so that building a message
takes only what is particular to it. requester-id and responder-id are optional in the
standard but mandatory for store-and-forward (e-mail) transport; set them whenever known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from isoill.apdu.enums import (
    ILLAPDUType,
    ILLServiceType,
    PlaceOnHoldType,
    ReasonNoReport,
    TransactionResults,
    TransactionType,
)
from isoill.apdu.types import (
    Amount,
    ClientId,
    CostInfoType,
    DamagedDetails,
    DateDue,
    DeliveryAddress,
    DeliveryService,
    ErrorReport,
    Extension,
    External,
    ISODate,
    ItemId,
    PostalAddress,
    RequesterOptionalMessagesType,
    ResponderOptionalMessagesType,
    ResultsExplanation,
    SearchType,
    SendToListEntry,
    ServiceDateTime,
    StatusReport,
    SupplyDetails,
    SupplyMediumInfoType,
    SystemAddress,
    SystemId,
    ThirdPartyInfoType,
    TransactionId,
)

#: The protocol version isoill sends unless told otherwise (ISO 10161-1:1997, Amendment 1).
PROTOCOL_VERSION = 2


@dataclass(frozen=True, kw_only=True)
class APDUBase:
    """The components every APDU has."""

    apdu_type: ClassVar[ILLAPDUType]
    # Name of this APDU's [49] extensions component, which the standard names per APDU.
    extensions_field: ClassVar[str]

    transaction_id: TransactionId
    protocol_version_num: int = PROTOCOL_VERSION
    service_date_time: ServiceDateTime = field(default_factory=ServiceDateTime.now)
    requester_id: SystemId | None = None
    responder_id: SystemId | None = None

    @property
    def extensions(self) -> tuple[Extension, ...]:
        """This APDU's extensions under whatever name the standard gives them."""
        value: tuple[Extension, ...] | None = getattr(self, self.extensions_field)
        return value or ()


@dataclass(frozen=True, kw_only=True)
class ILLRequest(APDUBase):
    apdu_type = ILLAPDUType.ILL_REQUEST
    extensions_field = "ill_request_extensions"

    item_id: ItemId
    ill_service_type: tuple[ILLServiceType, ...] = (ILLServiceType.LOAN,)
    requester_optional_messages: RequesterOptionalMessagesType = field(
        default_factory=RequesterOptionalMessagesType
    )
    transaction_type: TransactionType = TransactionType.SIMPLE
    delivery_address: DeliveryAddress | None = None
    delivery_service: DeliveryService | None = None
    billing_address: DeliveryAddress | None = None
    responder_specific_service: External | None = None
    search_type: SearchType | None = None
    supply_medium_info_type: tuple[SupplyMediumInfoType, ...] | None = None
    place_on_hold: PlaceOnHoldType = PlaceOnHoldType.ACCORDING_TO_RESPONDER_POLICY
    client_id: ClientId | None = None
    supplemental_item_description: tuple[External, ...] | None = None
    cost_info_type: CostInfoType | None = None
    copyright_compliance: str | None = None
    third_party_info_type: ThirdPartyInfoType | None = None
    retry_flag: bool = False
    forward_flag: bool = False
    requester_note: str | None = None
    forward_note: str | None = None
    ill_request_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class ForwardNotification(APDUBase):
    apdu_type = ILLAPDUType.FORWARD_NOTIFICATION
    extensions_field = "forward_notification_extensions"

    # Mandatory here: the new responder the request went on to.
    responder_id: SystemId
    intermediary_id: SystemId
    responder_address: SystemAddress | None = None
    notification_note: str | None = None
    forward_notification_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Shipped(APDUBase):
    apdu_type = ILLAPDUType.SHIPPED
    extensions_field = "shipped_extensions"

    shipped_service_type: ILLServiceType
    supply_details: SupplyDetails
    responder_address: SystemAddress | None = None
    intermediary_id: SystemId | None = None
    supplier_id: SystemId | None = None
    client_id: ClientId | None = None
    transaction_type: TransactionType = TransactionType.SIMPLE
    supplemental_item_description: tuple[External, ...] | None = None
    responder_optional_messages: ResponderOptionalMessagesType | None = None
    return_to_address: PostalAddress | None = None
    responder_note: str | None = None
    shipped_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class ILLAnswer(APDUBase):
    apdu_type = ILLAPDUType.ILL_ANSWER
    extensions_field = "ill_answer_extensions"

    transaction_results: TransactionResults
    results_explanation: ResultsExplanation | None = None
    responder_specific_results: External | None = None
    supplemental_item_description: tuple[External, ...] | None = None
    send_to_list: tuple[SendToListEntry, ...] | None = None
    already_tried_list: tuple[SystemId, ...] | None = None
    responder_optional_messages: ResponderOptionalMessagesType | None = None
    responder_note: str | None = None
    ill_answer_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class ConditionalReply(APDUBase):
    apdu_type = ILLAPDUType.CONDITIONAL_REPLY
    extensions_field = "conditional_reply_extensions"

    answer: bool
    requester_note: str | None = None
    conditional_reply_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Cancel(APDUBase):
    apdu_type = ILLAPDUType.CANCEL
    extensions_field = "cancel_extensions"

    requester_note: str | None = None
    cancel_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class CancelReply(APDUBase):
    apdu_type = ILLAPDUType.CANCEL_REPLY
    extensions_field = "cancel_reply_extensions"

    answer: bool
    responder_note: str | None = None
    cancel_reply_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Received(APDUBase):
    apdu_type = ILLAPDUType.RECEIVED
    extensions_field = "received_extensions"

    date_received: ISODate
    shipped_service_type: ILLServiceType
    supplier_id: SystemId | None = None
    supplemental_item_description: tuple[External, ...] | None = None
    requester_note: str | None = None
    received_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Recall(APDUBase):
    apdu_type = ILLAPDUType.RECALL
    extensions_field = "recall_extensions"

    responder_note: str | None = None
    recall_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Returned(APDUBase):
    apdu_type = ILLAPDUType.RETURNED
    extensions_field = "returned_extensions"

    date_returned: ISODate
    supplemental_item_description: tuple[External, ...] | None = None
    returned_via: str | None = None
    insured_for: Amount | None = None
    requester_note: str | None = None
    returned_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class CheckedIn(APDUBase):
    apdu_type = ILLAPDUType.CHECKED_IN
    extensions_field = "checked_in_extensions"

    date_checked_in: ISODate
    responder_note: str | None = None
    checked_in_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Overdue(APDUBase):
    apdu_type = ILLAPDUType.OVERDUE
    extensions_field = "overdue_extensions"

    date_due: DateDue
    responder_note: str | None = None
    overdue_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Renew(APDUBase):
    apdu_type = ILLAPDUType.RENEW
    extensions_field = "renew_extensions"

    desired_due_date: ISODate | None = None
    requester_note: str | None = None
    renew_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class RenewAnswer(APDUBase):
    apdu_type = ILLAPDUType.RENEW_ANSWER
    extensions_field = "renew_answer_extensions"

    answer: bool
    date_due: DateDue | None = None
    responder_note: str | None = None
    renew_answer_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Lost(APDUBase):
    apdu_type = ILLAPDUType.LOST
    extensions_field = "lost_extensions"

    note: str | None = None
    lost_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Damaged(APDUBase):
    apdu_type = ILLAPDUType.DAMAGED
    extensions_field = "damaged_extensions"

    damaged_details: DamagedDetails | None = None
    note: str | None = None
    damaged_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Message(APDUBase):
    apdu_type = ILLAPDUType.MESSAGE
    extensions_field = "message_extensions"

    note: str
    message_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class StatusQuery(APDUBase):
    apdu_type = ILLAPDUType.STATUS_QUERY
    extensions_field = "status_query_extensions"

    note: str | None = None
    status_query_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class StatusOrErrorReport(APDUBase):
    """A status report (answer to Status-Query), an error report, or the reason there is
    no report. Always give a readable ``note``: yaz-illclient prints it."""

    apdu_type = ILLAPDUType.STATUS_OR_ERROR_REPORT
    extensions_field = "status_or_error_report_extensions"

    reason_no_report: ReasonNoReport | None = None
    status_report: StatusReport | None = None
    error_report: ErrorReport | None = None
    note: str | None = None
    status_or_error_report_extensions: tuple[Extension, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Expired(APDUBase):
    apdu_type = ILLAPDUType.EXPIRED
    extensions_field = "expired_extensions"

    expired_extensions: tuple[Extension, ...] | None = None


APDU = (
    ILLRequest
    | ForwardNotification
    | Shipped
    | ILLAnswer
    | ConditionalReply
    | Cancel
    | CancelReply
    | Received
    | Recall
    | Returned
    | CheckedIn
    | Overdue
    | Renew
    | RenewAnswer
    | Lost
    | Damaged
    | Message
    | StatusQuery
    | StatusOrErrorReport
    | Expired
)

#: The APDU classes in ILL-APDU-Type order (index + 1 is the type number).
APDU_CLASSES: tuple[type[APDUBase], ...] = (
    ILLRequest,
    ForwardNotification,
    Shipped,
    ILLAnswer,
    ConditionalReply,
    Cancel,
    CancelReply,
    Received,
    Recall,
    Returned,
    CheckedIn,
    Overdue,
    Renew,
    RenewAnswer,
    Lost,
    Damaged,
    Message,
    StatusQuery,
    StatusOrErrorReport,
    Expired,
)

APDU_CLASS_BY_TYPE: dict[ILLAPDUType, type[APDUBase]] = {cls.apdu_type: cls for cls in APDU_CLASSES}
