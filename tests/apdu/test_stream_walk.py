"""The stream decoder's walk to an indefinite-length APDU's end is resumable: how the bytes
are chunked changes nothing but when an APDU comes out, and nothing escapes but DecodeError.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import isoill
from isoill.apdu.codec import Options
from isoill.testing.strategies import apdus, mutate


def _pieces(data: bytes, rng: random.Random) -> list[bytes]:
    """``data`` cut at random places: mostly small pieces, sometimes single bytes."""
    out, start = [], 0
    while start < len(data):
        size = rng.choice((1, 1, 2, 3, 7, 64, 4096))
        out.append(data[start : start + size])
        start += size
    return out


def _run(decoder: isoill.StreamDecoder, pieces: list[bytes]) -> tuple[list[object], object]:
    """Feed every piece; (the frames and items that came out, the DecodeError or None)."""
    out: list[object] = []
    try:
        for piece in pieces:
            for frame, item in decoder.feed_frames(piece):
                if isinstance(item, isoill.UndecodableAPDU):  # errors compare by identity
                    out.append((frame, item.data, str(item.error), item.error.offset))
                else:
                    out.append((frame, item))
    except isoill.DecodeError as err:
        return out, (type(err), err.reason, err.offset)
    return out, None


@settings(max_examples=250)
@given(
    st.lists(apdus(), min_size=1, max_size=3),
    st.randoms(use_true_random=False),
    st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_chunking_of_mutated_streams_changes_nothing(
    batch: list[isoill.APDU], rng: random.Random, mutated: list[bool]
) -> None:
    """A stream of APDUs, some mutated, fed a byte at a time, whole, and in random pieces:
    the same frames, items and error. (Where the stream goes out of step, the APDUs completed
    in the same read as the bad bytes are not returned, as the error is raised instead: so a
    coarser chunking yields a prefix of what byte-by-byte feeding yields, then the same
    error.) The frames are the stream's own bytes in order, and an undecodable APDU's error
    offset lies inside its frame."""
    parts = [isoill.encode(apdu) for apdu in batch]
    parts = [mutate(p, rng) if m else p for p, m in zip(parts, mutated, strict=False)]
    stream = b"".join(parts)
    reference, error = _run(isoill.StreamDecoder(), [bytes((b,)) for b in stream])
    for pieces in ([stream], _pieces(stream, rng)):
        out, out_error = _run(isoill.StreamDecoder(), pieces)
        assert out_error == error
        assert out == (reference if error is None else reference[: len(out)])
    whole = reference
    consumed = 0
    for frame, *item in whole:  # type: ignore[misc]
        assert stream[consumed : consumed + len(frame)] == frame
        if len(item) == 3:  # undecodable: its bytes, its error, the error's stream offset
            assert item[0] == frame
            assert consumed <= item[2] <= consumed + len(frame)
        else:
            assert item[0] == isoill.decode(frame)
        consumed += len(frame)


def test_indefinite_apdu_fed_a_byte_at_a_time_comes_out_once_whole() -> None:
    nested = b"\x61\x80" + b"\x30\x80" * 30 + b"\x04\x01A" * 500 + b"\x00\x00" * 31
    decoder = isoill.StreamDecoder()
    out = []
    for index in range(len(nested)):
        out.extend(decoder.feed_frames(nested[index : index + 1]))
        assert (out == []) == (index < len(nested) - 1)
    ((frame, item),) = out
    assert frame == nested and isinstance(item, isoill.UndecodableAPDU)
    assert decoder.buffered == 0


def test_walk_state_is_reset_between_apdus(yaz_trace: bytes) -> None:
    """Two indefinite APDUs and a definite one in one read, then again split oddly."""
    definite = isoill.encode(isoill.decode(yaz_trace))
    stream = yaz_trace + definite + yaz_trace
    expected = [isoill.decode(yaz_trace)] * 3
    assert isoill.StreamDecoder().feed(stream) == expected
    decoder = isoill.StreamDecoder()
    out = decoder.feed(stream[:5]) + decoder.feed(stream[5:161]) + decoder.feed(stream[161:])
    assert out == expected


def test_nested_length_past_the_size_limit_is_refused_at_once() -> None:
    """A nested definite length that would take the APDU past the limit is refused before
    any of its content is waited for."""
    codec = isoill.Codec(Options(limits=isoill.Limits(max_apdu_size=1000)))
    decoder = isoill.StreamDecoder(codec)
    assert decoder.feed(b"\x61\x80\x30\x80\x04\x82\x03") == []
    with pytest.raises(isoill.DecodeError, match="larger than the size limit"):
        decoder.feed(b"\xe8")  # 04 82 03 e8: 1000 bytes of content at offset 8
    assert decoder.buffered == 8


def test_nesting_past_the_depth_limit_breaks_the_stream_with_the_stream_offset() -> None:
    decoder = isoill.StreamDecoder()
    good = isoill.encode(isoill.Cancel(transaction_id=_tid()))
    assert decoder.feed(good) != []
    with pytest.raises(isoill.DecodeError, match="nesting deeper than 64") as err:
        for _ in range(100):
            decoder.feed(b"\x61\x80" if decoder.buffered == 0 else b"\x30\x80")
    assert err.value.offset == len(good) + 2 + 2 * 64


def _tid() -> isoill.TransactionId:
    return isoill.TransactionId(transaction_group_qualifier="G", transaction_qualifier="T1")
