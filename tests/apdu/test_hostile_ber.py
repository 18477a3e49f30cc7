"""Hostile input to the decoders: huge OID arcs, reads past an enclosing definite length,
and the rule that nothing but a DecodeError escapes ``decode``, the stream decoder or
``from_json``, whatever the bytes or the JSON."""

from __future__ import annotations

import contextlib
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import isoill
from isoill.apdu.ber import MAX_OID_ARC_OCTETS, decode_oid, encode_length, encode_oid
from isoill.testing.strategies import apdus, mutants, mutate


def _tid() -> isoill.TransactionId:
    return isoill.TransactionId(transaction_group_qualifier="G", transaction_qualifier="T1")


def request_with_system_no(external: bytes) -> bytes:
    """An ILL-Request whose item-id.system-no is the EXTERNAL given as raw BER."""
    item = isoill.ItemId(
        title="T", system_no=isoill.UnknownExternal(direct_reference=None, ber=external)
    )
    return isoill.encode(isoill.ILLRequest(transaction_id=_tid(), item_id=item))


def huge_oid_request(arc_octets: int) -> bytes:
    """The issue's reproduction: system-no an EXTERNAL whose direct-reference is
    ``28 ff ff ... ff 01``, one sub-identifier of ``arc_octets`` + 1 octets."""
    oid = b"\x28" + b"\xff" * arc_octets + b"\x01"
    content = b"\x06" + encode_length(len(oid)) + oid
    return request_with_system_no(b"\x28" + encode_length(len(content)) + content)


# --- object identifiers ---------------------------------------------------------------------


@pytest.mark.parametrize("arc_octets", [2_100, 200_000])
def test_huge_oid_arc_is_a_decode_error_naming_offset_and_reason(arc_octets: int) -> None:
    data = huge_oid_request(arc_octets)
    with pytest.raises(isoill.DecodeError, match=f"longer than {MAX_OID_ARC_OCTETS} octets") as err:
        isoill.decode(data)
    assert err.value.path == ["ILL-Request", "item-id", "system-no"]
    assert data[err.value.offset] == 0xFF  # the second sub-identifier, after 28
    assert data[err.value.offset - 1] == 0x28


def test_oid_arcs_up_to_the_bound_round_trip_and_past_it_are_refused_both_ways() -> None:
    uuid_arc = (1 << 128) - 1  # the largest arc anyone assigns: a UUID under 2.25
    dotted = f"2.25.{uuid_arc}"
    assert decode_oid(encode_oid(dotted), 0) == dotted
    largest = (1 << (7 * MAX_OID_ARC_OCTETS)) - 1
    assert decode_oid(encode_oid(f"1.2.{largest}"), 0) == f"1.2.{largest}"
    assert len(encode_oid(f"1.2.{largest}")) == 1 + MAX_OID_ARC_OCTETS
    with pytest.raises(ValueError, match=f"more than {MAX_OID_ARC_OCTETS} octets"):
        encode_oid(f"1.2.{largest + 1}")
    too_long = b"\x2a" + b"\x81" * MAX_OID_ARC_OCTETS + b"\x00"
    with pytest.raises(isoill.DecodeError, match="longer than"):
        decode_oid(too_long, 0)


def test_padded_sub_identifier_is_refused() -> None:
    """X.690 8.19.2: 80 01 would be a second encoding of the arc 1."""
    with pytest.raises(isoill.DecodeError, match="padding octet 0x80") as err:
        decode_oid(bytes.fromhex("2a 03 80 01"), 10)
    assert err.value.offset == 12


@pytest.mark.parametrize("text", ["1.2.+3", "1.02.3", "1.2. 3", "1.2.3_0", "1.2.\u0663", "1", ""])
def test_encode_oid_only_accepts_the_text_decode_oid_writes(text: str) -> None:
    with pytest.raises(ValueError, match="not an object identifier"):
        encode_oid(text)


@given(st.lists(st.integers(0, 1 << 130), min_size=1, max_size=6), st.integers(0, 2))
def test_oid_round_trips(arcs: list[int], first: int) -> None:
    second = arcs[0] % 40 if first < 2 else arcs[0]
    dotted = ".".join(str(arc) for arc in [first, second, *arcs[1:]])
    assert decode_oid(encode_oid(dotted), 0) == dotted


# --- every read bounded by the enclosing definite length --------------------------------------


def test_explicit_tag_does_not_look_for_end_of_contents_past_its_parent() -> None:
    """[n] ILL-String with an indefinite length, last in a definite SEQUENCE, its 00 00
    missing: the decoder used to take the 00 00 after the SEQUENCE (here one of the
    indefinite APDU's) for it, so the value depended on bytes outside its parent."""
    cancel = isoill.Cancel(transaction_id=_tid(), requester_note="N")
    encoded = isoill.encode(cancel, tcp_safe=False)
    assert encoded[1] < 0x80 and encoded.endswith(b"\x03\x1b\x01N")
    unclosed = encoded[:-4] + b"\x80\x1b\x01N"
    data = b"\x66\x80" + unclosed[2:] + b"\x00\x00\x00\x00"
    with pytest.raises(isoill.DecodeError, match="enclosing encoding ends before") as err:
        isoill.decode(data)
    assert not isinstance(err.value, isoill.IncompleteAPDU)
    assert err.value.path == ["Cancel", "requester-note"]
    assert err.value.offset == len(data) - 4  # where the SEQUENCE ends


@settings(max_examples=200)
@given(apdus(), st.randoms(use_true_random=False), st.binary(min_size=1, max_size=8))
def test_what_follows_an_apdu_does_not_change_its_value(
    apdu: isoill.APDU, rng: random.Random, tail: bytes
) -> None:
    """A mutant decoded as a prefix decodes to the same value whatever follows it."""
    data = mutate(isoill.encode(apdu), rng)
    codec = isoill.apdu.codec.get_codec()
    try:
        value, end = codec.decode_prefix(data)
    except isoill.DecodeError:
        return
    assert codec.decode_prefix(data[:end] + tail) == (value, end)
    assert codec.decode_prefix(data[:end] + b"\x00\x00" + tail) == (value, end)


# --- nothing but DecodeError ----------------------------------------------------------------


def _only_decode_errors(data: bytes) -> None:
    with contextlib.suppress(isoill.DecodeError):
        isoill.decode(data)
    with contextlib.suppress(isoill.DecodeError):
        isoill.decode_all(data)
    decoder = isoill.StreamDecoder()
    with contextlib.suppress(isoill.DecodeError):
        decoder.feed_frames(data)
        decoder.close()


@settings(max_examples=500)
@given(mutants())
def test_mutants_raise_only_decode_errors(data: bytes) -> None:
    _only_decode_errors(data)


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_random_bytes_behind_every_apdu_tag_raise_only_decode_errors(tail: bytes) -> None:
    for first in (0x61, 0x66, 0x73, 0x74):
        _only_decode_errors(bytes((first, 0x80)) + tail)
        _only_decode_errors(bytes((first,)) + encode_length(len(tail)) + tail)


_HUGE_LENGTHS = [b"\x84\xff\xff\xff\xff", b"\x84\x7f\xff\xff\xff", b"\x83\x10\x00\x00", b"\x80"]


@settings(max_examples=200)
@given(apdus(), st.data())
def test_huge_lengths_anywhere_raise_only_decode_errors(
    apdu: isoill.APDU, data: st.DataObject
) -> None:
    encoded = bytearray(isoill.encode(apdu))
    where = data.draw(st.integers(1, len(encoded) - 1))
    encoded[where : where + 1] = data.draw(st.sampled_from(_HUGE_LENGTHS))
    _only_decode_errors(bytes(encoded))


def request_with_extension(item: bytes) -> bytes:
    """An ILL-Request whose one extension (identifier 2) holds ``item`` as raw BER, exactly
    as given: the encoder writes raw BER unchecked, so hostile shapes can be built with it."""
    request = isoill.ILLRequest(
        transaction_id=_tid(),
        item_id=isoill.ItemId(title="T"),
        ill_request_extensions=(isoill.Extension(identifier=2, item=item),),
    )
    return isoill.encode(request)


@pytest.mark.parametrize("depth", [10, 63, 64, 65, 200, 5000])
def test_deep_nesting_raises_only_decode_errors(depth: int) -> None:
    for opener in (b"\x30\x80", b"\xa0\x80", b"\x28\x80", b"\xbf\x31\x80"):
        nested = opener * depth + b"\x04\x01A" + b"\x00\x00" * depth
        _only_decode_errors(b"\x61\x80" + nested + b"\x00\x00")
        _only_decode_errors(b"\x61\x80\x30\x80" + nested)
        _only_decode_errors(request_with_extension(nested))
        _only_decode_errors(request_with_system_no(nested))


def _json_values() -> st.SearchStrategy[Any]:
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True),
        st.text(max_size=20),
        st.sampled_from(["1.2.3", "zz", "20240101", "12.00", "loan", "ff00", "USD"]),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.text(max_size=12) | _NAMES, inner, max_size=4),
        ),
        max_leaves=30,
    )


_NAMES = st.sampled_from(
    [
        *("ill-request", "cancel", "transaction-id", "item-id", "ber", "direct-reference"),
        *("single-ASN1-type", "transaction-group-qualifier", "transaction-qualifier"),
        "EDIFACTString",
    ]
)


@settings(max_examples=300)
@given(_json_values())
def test_from_json_of_any_json_raises_only_decode_errors(value: Any) -> None:
    with contextlib.suppress(isoill.DecodeError):
        isoill.from_json(value)


def _mutate_json(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict) and value:
        key = rng.choice(sorted(value))
        choice = rng.randrange(4)
        if choice == 0:
            return {k: v for k, v in value.items() if k != key}
        if choice == 1:
            return {**value, key: rng.choice([None, 7, "x", [], {}, "ff", {"ber": "zz"}])}
        if choice == 2:
            return {**value, key + "x": value[key]}
        return {**value, key: _mutate_json(value[key], rng)}
    if isinstance(value, list) and value:
        where = rng.randrange(len(value))
        return [*value[:where], _mutate_json(value[where], rng), *value[where + 1 :]]
    return rng.choice([None, 0, -1, 2**70, "", "x" * 300, 1.5, [], {}, "\udcff", value])


@settings(max_examples=300)
@given(apdus(), st.randoms(use_true_random=False))
def test_from_json_of_mutated_json_raises_only_decode_errors(
    apdu: isoill.APDU, rng: random.Random
) -> None:
    plain = json.loads(json.dumps(isoill.to_json(apdu)))
    for _ in range(3):
        plain = _mutate_json(plain, rng)
        with contextlib.suppress(isoill.DecodeError):
            isoill.from_json(plain)


def test_from_json_error_is_both_decode_and_encode_error() -> None:
    """Code that caught EncodeError from from_json (isoill encode) still catches it."""
    with pytest.raises(isoill.DecodeError) as err:
        isoill.from_json({"cancel": {"protocol-version-num": 2, "transaction-id": 5}})
    assert isinstance(err.value, isoill.EncodeError)
    assert err.value.path[:2] == ["Cancel", "transaction-id"]
    assert "byte offset" not in str(err.value)
    item = isoill.ItemId(
        title="T", system_no=isoill.UnknownExternal(direct_reference=None, ber=b"\x28\x00")
    )
    plain = isoill.to_json(isoill.ILLRequest(transaction_id=_tid(), item_id=item))
    plain["ill-request"]["item-id"]["system-no"]["ber"] = "zz"  # a ValueError deep inside
    with pytest.raises(isoill.DecodeError, match="non-hexadecimal") as err:
        isoill.from_json(plain)
    assert err.value.path == ["ILL-Request", "item-id", "system-no"]
