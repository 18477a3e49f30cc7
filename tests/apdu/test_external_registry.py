"""Registering an EXTERNAL takes effect in codecs built before it, not only in later ones:
a gateway's associations hold stream decoders whose codecs were built at start-up."""

from __future__ import annotations

from typing import ClassVar

import isoill
from isoill.apdu.externals import register_external, unregister_external
from isoill.apdu.types import LACSystem, SystemNo, SystemNoEntry


class OtherSystemNo(SystemNo):
    """The SystemNo structure under another OID, standing for a newly registered EXTERNAL."""

    oid: ClassVar[str] = "1.2.3.4.5"


def _request(system_no: object) -> isoill.ILLRequest:
    tid = isoill.TransactionId(transaction_group_qualifier="G", transaction_qualifier="T")
    item = isoill.ItemId(title="T", system_no=system_no)  # type: ignore[arg-type]
    return isoill.ILLRequest(transaction_id=tid, item_id=item)


def test_registration_reaches_codecs_and_stream_decoders_built_before_it() -> None:
    value = OtherSystemNo(entries=(SystemNoEntry(system=LACSystem.OCLC, record_no="42"),))
    register_external(OtherSystemNo)
    try:
        data = isoill.encode(_request(value))
    finally:
        unregister_external(OtherSystemNo)
    held = isoill.StreamDecoder()  # as an association holds one
    fresh = isoill.apdu.Codec()
    (before,) = held.feed(data)
    assert isinstance(before, isoill.ILLRequest)
    assert isinstance(before.item_id.system_no, isoill.UnknownExternal)
    register_external(OtherSystemNo)
    try:
        (after,) = held.feed(data)
        assert isinstance(after, isoill.ILLRequest)
        assert after.item_id.system_no == value
        assert fresh.decode(data) == after
        assert isoill.decode(data) == after
        assert isoill.encode(after) == data
    finally:
        unregister_external(OtherSystemNo)
    assert isinstance(fresh.decode(data).item_id.system_no, isoill.UnknownExternal)
