"""isoill's decoder against an independent one: pyasn1, with types generated from the same
ASN.1 text, must read every APDU of the corpus to the same value, field for field."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import isoill
from isoill.demo import gif_copy_request
from isoill.testing import pyasn1_decoder
from isoill.testing.strategies import apdus, for_type


def _agree(data: bytes) -> dict[str, Any]:
    ours = isoill.to_json(isoill.decode(data))
    theirs = pyasn1_decoder.decode(data)
    assert theirs == ours
    return theirs


def test_yaz_illclient_trace_agrees(yaz_trace: bytes) -> None:
    plain = _agree(yaz_trace)
    assert plain["ill-request"]["item-id"]["title"] == "Unknown Title"


def test_gif_request_with_oclc_extension_agrees() -> None:
    plain = _agree(isoill.encode(gif_copy_request()))
    (extension,) = plain["ill-request"]["iLL-request-extensions"]
    assert extension["item"]["single-ASN1-type"]["paymentMethod"] == "IFM"


@pytest.mark.parametrize("cls", isoill.APDU_CLASSES, ids=lambda cls: cls.__name__)
@settings(max_examples=25)
@given(data=st.data())
def test_every_apdu_type_agrees(cls: type, data: st.DataObject) -> None:
    apdu = data.draw(for_type(cls))
    _agree(isoill.encode(apdu))


@settings(max_examples=100)
@given(apdus())
def test_defaults_left_off_the_wire_agree(apdu: isoill.APDU) -> None:
    """With DEFAULT components omitted, both decoders must supply the same defaults."""
    _agree(isoill.encode(apdu, omit_defaults=True))


@settings(max_examples=50)
@given(st.lists(apdus(), min_size=2, max_size=4))
def test_concatenated_apdus_agree(batch: list[isoill.APDU]) -> None:
    data = b"".join(isoill.encode(apdu) for apdu in batch)
    assert pyasn1_decoder.decode_all(data) == [isoill.to_json(a) for a in isoill.decode_all(data)]


def test_the_cross_check_can_fail() -> None:
    """A wrong byte that both decoders accept shows up as a difference, not as agreement."""
    data = bytearray(isoill.encode(gif_copy_request()))
    at = data.index(b"Interlending")
    data[at] = ord("X")
    assert pyasn1_decoder.decode(bytes(data)) != isoill.to_json(gif_copy_request())
