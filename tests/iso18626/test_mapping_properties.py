"""Hypothesis: any APDU (with mappable parties) becomes a message that validates and comes
back as an APDU of the table's type; any message becomes an APDU that encodes, or is
refused with a reason."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from isoill.apdu import APDU_CLASSES, apdus, encode
from isoill.apdu.types import TransactionId
from isoill.iso18626 import MESSAGE_TYPES, Message, Request, RequestingAgencyMessage, parse, to_xml
from isoill.iso18626.from_apdu import from_apdu
from isoill.iso18626.identity import MappingError
from isoill.iso18626.to_apdu import to_apdu
from isoill.testing.strategies import for_type, ill_strings
from tests.iso18626.mapping_support import mappable
from tests.iso18626.support import values

#: The APDUs that come back as another type (the table says why); the rest come back as
#: themselves.
BACK_AS: dict[type, set[type]] = {
    apdus.ILLAnswer: {apdus.ILLAnswer, apdus.Expired},
    apdus.Shipped: {apdus.Shipped},
    apdus.Cancel: {apdus.Cancel, apdus.ConditionalReply},
    apdus.StatusOrErrorReport: {apdus.StatusOrErrorReport},
}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    apdu=st.sampled_from(APDU_CLASSES).flatmap(for_type).map(mappable),
    sender=st.sampled_from(["requester", "responder"]),
)
def test_any_apdu_maps_to_a_valid_message(apdu: Any, sender: Any) -> None:
    try:
        message = from_apdu(apdu, sender=sender)
    except MappingError as refused:
        # Only a request for neither loan nor copy, or a shipment of neither, is refused.
        assert isinstance(apdu, apdus.ILLRequest | apdus.Shipped), refused
        return
    again = parse(to_xml(message))
    assert again == message
    back = to_apdu(message)
    assert type(back) in BACK_AS.get(type(apdu), {type(apdu), apdus.Message})
    assert back.transaction_id.transaction_qualifier == apdu.transaction_id.transaction_qualifier
    encode(back)


@SETTINGS
@given(message=st.sampled_from(list(MESSAGE_TYPES.values())).flatmap(values))
def test_any_message_maps_to_an_apdu_or_says_why(message: Message) -> None:
    try:
        apdu = to_apdu(message)
    except MappingError as refused:
        assert refused.reasons and all(refused.reasons)
        return
    encode(apdu)
    if isinstance(message, Request | RequestingAgencyMessage):
        assert (
            apdu.transaction_id.transaction_qualifier == message.header.requesting_agency_request_id
        )


#: APDUs whose every component but the note and the transaction is lost or fixed: the
#: note field each keeps.
NOTES = {
    apdus.Cancel: "requester_note",
    apdus.Renew: "requester_note",
    apdus.StatusQuery: "note",
    apdus.Recall: "responder_note",
    apdus.Overdue: "responder_note",
    apdus.CheckedIn: "responder_note",
    apdus.Returned: "requester_note",
}


def _xml_text(text: str | None) -> bool:
    return text is None or all(ch.isprintable() or ch in "\t\n" for ch in text)


@SETTINGS
@given(
    apdu=st.sampled_from(list(NOTES)).flatmap(for_type).map(mappable),
    qualifier=ill_strings(),
    group=ill_strings(),
)
def test_the_note_and_the_transaction_come_back(apdu: Any, qualifier: str, group: str) -> None:
    assume(
        _xml_text(qualifier) and _xml_text(group) and _xml_text(getattr(apdu, NOTES[type(apdu)]))
    )
    drawn = replace(
        apdu,
        transaction_id=TransactionId(
            transaction_group_qualifier=group, transaction_qualifier=qualifier
        ),
    )
    back = to_apdu(parse(to_xml(from_apdu(drawn))))
    assert type(back) is type(apdu)
    assert back.transaction_id == drawn.transaction_id
    assert (back.requester_id, back.responder_id) == (drawn.requester_id, drawn.responder_id)
    assert getattr(back, NOTES[type(apdu)]) == getattr(drawn, NOTES[type(apdu)])
