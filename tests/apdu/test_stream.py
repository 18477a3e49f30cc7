"""The stream decoder (chunks of any size, several APDUs per read) and hostile input:
truncated, bit-flipped and length-inflated bytes only ever raise DecodeError."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import isoill
from isoill.demo import gif_copy_request
from isoill.testing.strategies import apdus


def _chunks(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(data[start:point])
        start = point
    pieces.append(data[start:])
    return pieces


@settings(max_examples=150)
@given(st.lists(apdus(), min_size=1, max_size=4), st.lists(st.integers(0, 10**6), max_size=12))
def test_any_split_gives_the_same_apdus(batch: list[isoill.APDU], cuts: list[int]) -> None:
    stream = b"".join(isoill.encode(apdu) for apdu in batch)
    decoder = isoill.StreamDecoder()
    out: list[object] = []
    for piece in _chunks(stream, cuts):
        out.extend(decoder.feed(piece))
    assert out == batch
    assert decoder.buffered == 0
    decoder.close()


def test_indefinite_trace_byte_by_byte(yaz_trace: bytes) -> None:
    decoder = isoill.StreamDecoder()
    out = []
    for index in range(len(yaz_trace)):
        out.extend(decoder.feed(yaz_trace[index : index + 1]))
        if index < len(yaz_trace) - 1:
            assert out == []
    assert out == [isoill.decode(yaz_trace)]


def test_bad_apdu_between_good_ones_is_reported_and_skipped(yaz_trace: bytes) -> None:
    good = isoill.encode(gif_copy_request())
    bad = bytearray(good)
    bad[bad.index(b"ccg") - 2] = 0x05  # copyright-compliance's GeneralString tag -> NULL
    items = isoill.StreamDecoder().feed(good + bytes(bad) + yaz_trace)
    assert isinstance(items[0], isoill.ILLRequest)
    assert isinstance(items[1], isoill.UndecodableAPDU)
    assert items[1].data == bytes(bad)
    assert items[1].error.path[:2] == ["ILL-Request", "copyright-compliance"]
    assert items[1].error.offset >= len(good)  # counted from the start of the stream
    assert items[2] == isoill.decode(yaz_trace)


def test_framing_error_breaks_the_stream() -> None:
    decoder = isoill.StreamDecoder()
    with pytest.raises(isoill.DecodeError, match="does not start an ILL APDU"):
        decoder.feed(b"GET / HTTP/1.0\r\n\r\n")
    with pytest.raises(isoill.DecodeError, match="out of step"):
        decoder.feed(isoill.encode(gif_copy_request()))


def test_claimed_four_gigabytes_refused_before_waiting() -> None:
    decoder = isoill.StreamDecoder()
    with pytest.raises(isoill.DecodeError, match="size limit"):
        decoder.feed(bytes.fromhex("61 84 ff ff ff ff"))


def test_indefinite_apdu_cannot_grow_past_the_limit() -> None:
    codec = isoill.Codec(isoill.apdu.codec.Options(limits=isoill.Limits(max_apdu_size=64)))
    decoder = isoill.StreamDecoder(codec)
    decoder.feed(b"\x61\x80\x30\x80")
    with pytest.raises(isoill.DecodeError, match=r"larger than the size limit"):
        decoder.feed(b"\x04\x40" + b"x" * 64)


def test_close_inside_an_apdu_is_reported(yaz_trace: bytes) -> None:
    decoder = isoill.StreamDecoder()
    assert decoder.feed(yaz_trace[:50]) == []
    with pytest.raises(isoill.IncompleteAPDU, match="connection closed"):
        decoder.close()


def test_deep_nesting_in_opaque_parts_is_bounded() -> None:
    nested = b"\x30\x80" * 200 + b"\x00\x00" * 200
    with pytest.raises(isoill.DecodeError, match="nesting deeper"):
        isoill.apdu.ber.skip_tlv(nested, 0, len(nested), isoill.DEFAULT_LIMITS)


# --- fuzzing: nothing but DecodeError ------------------------------------------------------


def _decode_or_error(data: bytes) -> None:
    try:
        isoill.decode(data)
    except isoill.DecodeError as err:
        assert 0 <= err.offset <= len(data) + 8
        assert str(err)
    with contextlib.suppress(isoill.DecodeError):
        isoill.StreamDecoder().feed(data)


@settings(max_examples=300)
@given(apdus(), st.data())
def test_truncated(apdu: isoill.APDU, data: st.DataObject) -> None:
    encoded = isoill.encode(apdu)
    cut = data.draw(st.integers(0, len(encoded) - 1))
    with pytest.raises(isoill.DecodeError):
        isoill.decode(encoded[:cut])


@settings(max_examples=400)
@given(apdus(), st.data())
def test_bit_flipped(apdu: isoill.APDU, data: st.DataObject) -> None:
    encoded = bytearray(isoill.encode(apdu))
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(encoded) - 1))
        encoded[index] ^= 1 << data.draw(st.integers(0, 7))
    _decode_or_error(bytes(encoded))


@settings(max_examples=300)
@given(apdus(), st.data())
def test_length_inflated(apdu: isoill.APDU, data: st.DataObject) -> None:
    encoded = bytearray(isoill.encode(apdu))
    index = data.draw(st.integers(1, len(encoded) - 1))
    encoded[index : index + 1] = data.draw(
        st.sampled_from([b"\x84\xff\xff\xff\xff", b"\x83\x7f\xff\xff", b"\x80", b"\xff", b"\x7f"])
    )
    _decode_or_error(bytes(encoded))


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    _decode_or_error(data)


@settings(max_examples=200)
@given(st.binary(min_size=1, max_size=200))
def test_random_bytes_after_a_valid_header(tail: bytes) -> None:
    _decode_or_error(b"\x61\x80\x30\x80" + tail)
    _decode_or_error(b"\x73" + bytes([len(tail) & 0x7F]) + tail)


def test_apdus_complete_before_bytes_out_of_step_come_with_the_error(yaz_trace: bytes) -> None:
    decoder = isoill.StreamDecoder()
    with pytest.raises(isoill.apdu.OutOfStep) as caught:
        decoder.feed(yaz_trace + yaz_trace + b"\x00 junk")
    assert [isoill.encode(item) for _, item in caught.value.framed] == [  # type: ignore[arg-type]
        isoill.encode(isoill.decode(yaz_trace))
    ] * 2
    assert caught.value.offset == 2 * len(yaz_trace)
    with pytest.raises(isoill.DecodeError, match="out of step"):
        decoder.feed(yaz_trace)
