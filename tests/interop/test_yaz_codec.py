"""Interoperability with YAZ's C codec in both directions.

isoill -> YAZ: APDUs drawn from the strategies and encoded by isoill decode in libyaz.
YAZ -> isoill: YAZ's own re-encoding of them (and yaz-illclient's captured request) decodes
in isoill to the same APDU. Raw BER that isoill keeps byte for byte (unknown EXTERNALs, ANY)
is compared after both sides are brought to definite lengths, since YAZ chooses its own
length forms when it re-encodes (indefinite for anything of 128 bytes or more).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import isoill
from isoill.apdu.ber import INDEFINITE, encode_length, is_end_of_contents, read_length, read_tag
from isoill.testing import yaz as yazcodec
from isoill.testing.strategies import apdus

pytestmark = pytest.mark.yaz


@pytest.fixture(scope="module")
def helper(yaz_helper: Path) -> Path:
    return yaz_helper


def _definite(tlv: bytes) -> bytes:
    """The same BER with every length definite and shortest."""

    def walk(off: int, limit: int) -> tuple[bytes, int]:
        key, p = read_tag(tlv, off)
        first = key if key < 0x100 else key >> 24
        end, p = read_length(tlv, p, bool(first & 0x20), limit)
        if not first & 0x20:
            return tlv[off:end], end
        parts = []
        inner_limit = limit if end == INDEFINITE else end
        while True:
            if end == INDEFINITE:
                if is_end_of_contents(tlv, p):
                    p += 2
                    break
            elif p >= end:
                break
            part, p = walk(p, inner_limit)
            parts.append(part)
        content = b"".join(parts)
        return _tag_bytes(tlv, off) + encode_length(len(content)) + content, p

    return walk(0, len(tlv))[0]


def _tag_bytes(data: bytes, off: int) -> bytes:
    _key, p = read_tag(data, off)
    return data[off:p]


def _normalised(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _definite(bytes.fromhex(item)).hex() if key == "ber" else _normalised(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_normalised(item) for item in value]
    return value


def test_yaz_reads_and_rewrites_the_captured_request(helper: Path, yaz_trace: bytes) -> None:
    result = yazcodec.yaz_roundtrip(helper, yaz_trace)
    assert result.ok, result.error
    (tree,) = result.trees
    assert "Unknown Title" in tree and "IKM" in tree and "OZZ" in tree
    assert isoill.decode(result.reencoded) == isoill.decode(yaz_trace)


def test_yaz_reads_the_gif_request(helper: Path) -> None:
    from isoill.demo import gif_copy_request

    request = gif_copy_request()
    result = yazcodec.yaz_roundtrip(helper, isoill.encode(request))
    assert result.ok, result.error
    (tree,) = result.trees
    for text in ("Licence to Deny?", "02641615", "ccg", "35.50", "USD", "Ariel"):
        assert text in tree
    assert isoill.decode(result.reencoded) == request


def test_yaz_refuses_what_it_should(helper: Path, yaz_trace: bytes) -> None:
    """The helper does report YAZ's failures (so the tests above can fail)."""
    result = yazcodec.yaz_roundtrip(helper, yaz_trace[:60])
    assert not result.ok
    assert result.error is not None and result.error.startswith("ERROR 0 0")


@settings(max_examples=40, deadline=None)
@given(st.lists(apdus(), min_size=1, max_size=12))
def test_isoill_and_yaz_agree_both_ways(helper: Path, batch: list[isoill.APDU]) -> None:
    ours = b"".join(isoill.encode(apdu) for apdu in batch)
    result = yazcodec.yaz_roundtrip(helper, ours)
    assert result.ok, f"YAZ could not decode isoill's encoding: {result.error}"
    assert len(result.trees) == len(batch)
    back = isoill.decode_all(result.reencoded)
    assert [_normalised(isoill.to_json(a)) for a in back] == [
        _normalised(isoill.to_json(a)) for a in batch
    ]


def test_omitted_defaults_are_what_yaz_rejects(helper: Path) -> None:
    """Why isoill writes DEFAULT-valued components: YAZ insists on them."""
    request = isoill.ILLRequest(
        transaction_id=isoill.TransactionId(
            transaction_group_qualifier="G", transaction_qualifier="1"
        ),
        item_id=isoill.ItemId(title="T"),
    )
    assert yazcodec.yaz_roundtrip(helper, isoill.encode(request)).ok
    refused = yazcodec.yaz_roundtrip(helper, isoill.encode(request, omit_defaults=True))
    assert not refused.ok
    assert refused.error is not None and "Required data element missing" in refused.error
