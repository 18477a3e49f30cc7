"""What the gateway does with a message an ISO 18626 peer POSTs: decided without I/O, like
the relay's steps, and answered with the confirmation only once the step is committed.

The message goes through the three gates of :func:`isoill.iso18626.parse` (well-formed,
valid, readable); its sender must be a configured peer of the network it was POSTed to,
named by the agency that sends that kind of message (the requesting agency of a request or
a requestingAgencyMessage, the supplying agency of a supplyingAgencyMessage); a supplier's
status may only change as ISO 18626's order allows (:mod:`isoill.iso18626.status`). Then it
becomes the ISO 10161 APDU :func:`isoill.iso18626.to_apdu.to_apdu` makes of it and goes
through :meth:`isoill.gateway.relay.Relay.inbound` exactly as an APDU from an association
would, so the 10161 tables check it and the relay routes it. The relay's own reply (the
acknowledgement of a request, or the error report of a refusal) is turned into the
confirmation: OK, or ERROR with what the error report says. Every refusal is an ERROR
confirmation with its errorType and errorValue, never an HTTP error page.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from isoill.apdu.apdus import APDU, StatusOrErrorReport
from isoill.gateway.config import Network
from isoill.gateway.iso18626_kind import settings_of
from isoill.gateway.relay import Relay, Sender, Step
from isoill.gateway.store import Change, Loader, LogEntry, OutboxItem, StoredLeg
from isoill.iso18626 import (
    Confirmation,
    ErrorData,
    ErrorType,
    Message,
    MessageError,
    Request,
    RequestingAgencyMessage,
    SupplyingAgencyMessage,
    change_refused,
    codemap,
    confirm,
    parse,
    refuse,
    to_xml,
)
from isoill.iso18626.identity import MappingError, NoApdu
from isoill.iso18626.refusals import error_data, error_report
from isoill.iso18626.to_apdu import to_apdu
from isoill.machine.transaction import TransactionKey

#: What a sender of an ISO 18626 message is called in the log and the metrics before it is
#: known to be a peer.
HTTP_SENDER = "http:"


def inbound(
    relay: Relay, network: Network, address: str, data: bytes, load: Loader, at: datetime
) -> Step:
    """The step for ``data`` POSTed by ``address`` to ``network``'s path at ``at`` (the
    gateway's local time): ``reply_data`` is the confirmation's XML, ``peer`` the sender
    once known, ``refused`` the reasons of an ERROR."""
    stamp = at.astimezone(settings_of(network).tz)
    stranger = HTTP_SENDER + address
    try:
        message = parse(data)
    except MessageError as err:
        return _answer(network, stranger, err.kind or "?", "", data, refuse(err, stamp, stamp))
    if not isinstance(message, Request | SupplyingAgencyMessage | RequestingAgencyMessage):
        alone = MessageError(
            f"a {message.TAG} answers a POST: it is not sent on its own",
            ErrorType.BADLY_FORMED_MESSAGE,
        )
        return _answer(network, stranger, message.TAG, "", data, refuse(alone, stamp, stamp))
    head = message.header
    agency = (
        head.supplying_agency_id
        if isinstance(message, SupplyingAgencyMessage)
        else head.requesting_agency_id
    )
    symbol = f"{agency.agency_id_type.value}:{agency.agency_id_value}"
    peer = next(
        (p for p in relay.config.peers if p.network == network.name and p.owns(symbol)), None
    )
    if peer is None:
        why = f"agency {symbol} is not a peer of {network.name} on this gateway"
        return _refused(network, stranger, message, "", data, stamp, why)
    try:
        apdu = to_apdu(message, zone=settings_of(network).tz)
    except NoApdu as nothing:
        # Nothing in ISO 10161 to relay (RequestReceived alone): taken, and kept in the log.
        note = f"not relayed: {nothing}"
        return _answer(
            network, peer.name, message.TAG, "", data, confirm(message, stamp, stamp), note
        )
    except MappingError as err:
        return _refused(network, peer.name, message, "", data, stamp, str(err))
    key = str(TransactionKey.of(apdu))
    leg = load(network.name, key)
    if leg is not None:
        # ISO 18626 carries no transaction-id, only what identifies one: the leg has the
        # exact one (an empty initial-requester-id as yaz-illclient sends it, say).
        apdu = replace(apdu, transaction_id=leg.transaction.transaction_id)
    if isinstance(message, SupplyingAgencyMessage):
        state = None if leg is None else leg.transaction.state.current_state
        current = None if state is None else codemap.STATUS_OF_STATE.get(state)
        not_allowed = change_refused(current, message.status_info.status)
        if not_allowed is not None:
            return _refused(network, peer.name, message, key, data, stamp, not_allowed)
    step = relay.inbound(Sender(stranger, (peer.name,)), apdu, data, load, at)
    confirmation = confirm(message, stamp, stamp, _error(step))
    answer = to_xml(confirmation)
    # The log shows what came (the XML of a request, say), noting the APDU it became.
    kept = tuple(
        replace(e, apdu_type=message.TAG, note=f"{e.note} (as {e.apdu_type})".strip())
        for e in step.change.log
        if e.direction == "in"
    )
    entry = LogEntry("out", peer.name, network.name, confirmation.TAG, key, answer, "confirmation")
    return replace(
        step,
        change=replace(step.change, log=(*kept, entry)),
        reply=None,
        reply_data=answer,
        peer=peer.name,
        network=network.name,
    )


def _error(step: Step) -> ErrorData | None:
    """What the ERROR confirmation says of a step the relay refused (None: it was not)."""
    if not step.refused:
        return None
    reply: APDU | None = step.reply
    if isinstance(reply, StatusOrErrorReport) and reply.error_report is not None:
        return error_data(reply.error_report, reply.note)
    return ErrorData(ErrorType.UNRECOGNISED_DATA_VALUE, "; ".join(step.refused)[:1000])


def _refused(
    network: Network,
    peer: str,
    message: Message,
    key: str,
    data: bytes,
    stamp: datetime,
    why: str,
) -> Step:
    error = ErrorData(ErrorType.UNRECOGNISED_DATA_VALUE, why[:1000])
    return _answer(network, peer, message.TAG, key, data, confirm(message, stamp, stamp, error))


def _answer(
    network: Network,
    peer: str,
    kind: str,
    key: str,
    data: bytes,
    confirmation: Confirmation,
    note: str = "",
) -> Step:
    """A step that only logs the message and its confirmation (nothing relayed)."""
    answer = to_xml(confirmation)
    error = confirmation.error_data
    refused = None if error is None else [error.error_value or error.error_type.value]
    if refused and not note:
        note = "refused: " + refused[0]
    entries = (
        LogEntry("in", peer, network.name, kind, key, data, note[:500]),
        LogEntry("out", peer, network.name, confirmation.TAG, key, answer, "confirmation"),
    )
    return Step(
        Change(log=entries),
        peer=None if peer.startswith(HTTP_SENDER) else peer,
        network=network.name,
        refused=refused,
        reply_data=answer,
    )


def fault(data: bytes, at: datetime, network: Network) -> bytes:
    """The ERROR confirmation of a message whose handling failed unexpectedly (logged by the
    caller): the right kind of confirmation, with the message's ids where it can be read."""
    stamp = at.astimezone(settings_of(network).tz)
    why = "the gateway could not handle this message (an internal error); it was logged"
    try:
        message = parse(data)
        if isinstance(message, Request | SupplyingAgencyMessage | RequestingAgencyMessage):
            error = ErrorData(ErrorType.UNRECOGNISED_DATA_VALUE, why)
            return to_xml(confirm(message, stamp, stamp, error))
    except MessageError:
        pass
    return to_xml(refuse(MessageError(why, ErrorType.UNRECOGNISED_DATA_VALUE), stamp, stamp))


class BadConfirmation(Exception):
    """A peer answered a POST with something that is not a confirmation: the message is
    tried again later, as if the peer had not answered."""


def confirmed(relay: Relay, item: OutboxItem, answer: bytes, load: Loader, at: datetime) -> Change:
    """What a peer's confirmation of a message the gateway POSTed changes: OK, the item is
    delivered; ERROR, it is delivered too (sending it again would be refused again) and the
    other side is told: the error report the confirmation maps to goes to the partner leg's
    peer, or, where it cannot go, the log says why."""
    network = relay.config.network(item.network)
    try:
        confirmation = parse(answer)
    except MessageError as err:
        raise BadConfirmation(f"the answer is not a valid ISO 18626 message: {err}") from None
    if not isinstance(confirmation, Confirmation):
        raise BadConfirmation(f"the answer is a {confirmation.TAG}, not a confirmation")
    status = confirmation.confirmation_header.message_status
    entry = LogEntry(
        "in", item.peer, item.network, confirmation.TAG, item.key, answer, f"confirmation {status}"
    )
    if confirmation.error_data is None:
        return Change(log=(entry,), delivered=(item,))
    legs, items, log = _tell_partner(relay, network, item, confirmation, load, at)
    return Change(legs=legs, log=(entry, *log), outbox=items, delivered=(item,))


def _tell_partner(
    relay: Relay,
    network: Network,
    item: OutboxItem,
    confirmation: Confirmation,
    load: Loader,
    at: datetime,
) -> tuple[tuple[StoredLeg, ...], tuple[OutboxItem, ...], tuple[LogEntry, ...]]:
    leg = load(item.network, item.key)
    partner = None if leg is None else load(leg.partner, leg.other_key)
    if partner is None:
        why = f"the peer refused {item.apdu_type}, and there is no other leg to tell"
        return (), (), (LogEntry("in", item.peer, item.network, "note", item.key, b"", why),)
    try:
        report = error_report(confirmation, settings_of(network).tz)
        report = replace(report, transaction_id=partner.transaction.transaction_id)
    except MappingError as err:
        why = f"the peer's ERROR confirmation has no ISO 10161 form: {err}"
        return (), (), (LogEntry("in", item.peer, item.network, "note", item.key, b"", why),)
    moved, items, refusal = relay.forward(report, partner, at)
    if refusal is not None:
        why = f"the peer's ERROR cannot go on to {partner.network}: {refusal.note or 'refused'}"
        return (), (), (LogEntry("in", item.peer, item.network, "note", item.key, b"", why),)
    return (moved,), items, ()
