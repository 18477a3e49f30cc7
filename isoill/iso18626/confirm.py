"""The synchronous confirmation that answers each message a peer POSTs.

ISO 18626 answers every message in the HTTP response: OK once the message is taken (for
isoill: durably committed), ERROR with ``errorData`` when it is refused. Which confirmation
it is follows from the message (a ``request`` gets a ``requestConfirmation``, and so on); an
ERROR confirmation echoes the identifiers of the refused message as far as they could be
read, so the peer can file it, and a document too broken to tell which message it was gets
a ``requestConfirmation``, the one every peer that sends anything understands.
"""

from __future__ import annotations

from datetime import datetime

from isoill.iso18626.codes import ErrorType, MessageStatus
from isoill.iso18626.document import MessageError
from isoill.iso18626.messages import (
    AgencyId,
    Confirmation,
    ConfirmationHeader,
    ErrorData,
    Message,
    Request,
    RequestConfirmation,
    RequestingAgencyMessage,
    RequestingAgencyMessageConfirmation,
    SchemeValue,
    SupplyingAgencyMessage,
    SupplyingAgencyMessageConfirmation,
)


def confirm(
    message: Message, at: datetime, received: datetime, error: ErrorData | None = None
) -> Confirmation:
    """The confirmation of ``message``: OK, or ERROR with ``error`` (a message that was read
    but cannot be accepted: an unknown request id, a status change not allowed)."""
    if not isinstance(message, Request | SupplyingAgencyMessage | RequestingAgencyMessage):
        raise TypeError(f"a {message.TAG} is not confirmed")
    header = message.header
    head = ConfirmationHeader(
        timestamp=at,
        timestamp_received=received,
        message_status=MessageStatus.OK if error is None else MessageStatus.ERROR,
        supplying_agency_id=header.supplying_agency_id,
        requesting_agency_id=header.requesting_agency_id,
        requesting_agency_request_id=header.requesting_agency_request_id,
        multiple_item_request_id=header.multiple_item_request_id or None,
    )
    if isinstance(message, Request):
        return RequestConfirmation(head, error)
    if isinstance(message, SupplyingAgencyMessage):
        return SupplyingAgencyMessageConfirmation(
            head, message.message_info.reason_for_message, error
        )
    return RequestingAgencyMessageConfirmation(head, message.action, error)


def refuse(error: MessageError, at: datetime, received: datetime) -> Confirmation:
    """The ERROR confirmation of a message that could not be read (not well-formed, not
    valid, or valid but unreadable)."""
    ids = error.ids
    head = ConfirmationHeader(
        timestamp=at,
        timestamp_received=received,
        message_status=MessageStatus.ERROR,
        supplying_agency_id=_agency(ids.get("supplyingAgencyId")),
        requesting_agency_id=_agency(ids.get("requestingAgencyId")),
        requesting_agency_request_id=ids.get("requestingAgencyRequestId") or None,
        multiple_item_request_id=ids.get("multipleItemRequestId") or None,
    )
    data = ErrorData(error.error_type, error.error_value)
    if error.kind == SupplyingAgencyMessage.TAG:
        return SupplyingAgencyMessageConfirmation(head, error_data=data)
    if error.kind == RequestingAgencyMessage.TAG:
        return RequestingAgencyMessageConfirmation(head, error_data=data)
    return RequestConfirmation(head, data)


def _agency(text: str | None) -> AgencyId | None:
    if not text or ":" not in text:
        return None
    kind, _, value = text.partition(":")
    return AgencyId(SchemeValue(kind), value) if kind and value else None


def error(error_type: ErrorType, value: str) -> ErrorData:
    return ErrorData(error_type, value[:1000])
