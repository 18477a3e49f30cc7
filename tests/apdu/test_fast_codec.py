"""The specialised codec changes nothing: it agrees with the interpreting codec it replaced.

The pre-change codec is kept as ``isoill.testing.oracle_codec``. For every drawn APDU both
give the same bytes (with and without ``omit_defaults`` and ``tcp_safe``), and for every BER
input -- definite, indefinite-length, DEFAULT-omitting, and hostile mutants of all of these --
both decode to the same value or fail with the same kind of error, at the same offset, with
the same component path and reason.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import isoill
from isoill.apdu import codec as fast_codec
from isoill.demo import gif_copy_request
from isoill.testing import oracle_codec
from isoill.testing.strategies import apdus, mutants, mutate
from tests.apdu.support import indefinite

ORACLE = {omit: oracle_codec.Codec(oracle_codec.Options(omit_defaults=omit)) for omit in (0, 1)}
FAST = {omit: fast_codec.Codec(fast_codec.Options(omit_defaults=omit)) for omit in (0, 1)}
LATIN1 = (
    oracle_codec.Codec(oracle_codec.Options(charset="latin-1")),
    fast_codec.Codec(fast_codec.Options(charset="latin-1")),
)


def outcome(codec: Any, data: bytes) -> tuple[Any, ...]:
    """What decoding gives, in a form that tells every difference: the value's JSON form
    (which keeps EDIFACTString and the amount's exact text apart) or the error's details."""
    try:
        value = codec.decode(data)
    except isoill.DecodeError as err:
        return ("error", type(err).__name__, err.offset, err.path, err.reason)
    return ("value", ORACLE[0].to_plain(value), value)


def assert_same_decode(data: bytes, pair: tuple[Any, Any] | None = None) -> None:
    oracle, fast = pair or (ORACLE[0], FAST[0])
    assert outcome(fast, data) == outcome(oracle, data), data.hex()


def encode_outcome(codec: Any, apdu: Any, tcp_safe: bool) -> tuple[Any, ...]:
    try:
        return ("bytes", codec.encode(apdu, tcp_safe=tcp_safe))
    except isoill.EncodeError as err:
        return ("error", type(err).__name__, err.path, err.reason)


@settings(max_examples=300)
@given(apdus(), st.booleans(), st.booleans())
def test_same_bytes_for_every_apdu(apdu: isoill.APDU, omit: bool, tcp_safe: bool) -> None:
    expected = encode_outcome(ORACLE[omit], apdu, tcp_safe)
    assert encode_outcome(FAST[omit], apdu, tcp_safe) == expected


@settings(max_examples=300)
@given(apdus())
def test_same_values_for_every_encoding_of_every_apdu(apdu: isoill.APDU) -> None:
    for omit in (0, 1):
        data = ORACLE[omit].encode(apdu, tcp_safe=bool(omit))
        assert_same_decode(data)
        assert_same_decode(indefinite(data))
    assert_same_decode(ORACLE[0].encode(apdu), LATIN1)


@settings(max_examples=500)
@given(mutants())
def test_same_outcome_for_mutants(data: bytes) -> None:
    assert_same_decode(data)


@settings(max_examples=300)
@given(apdus(), st.randoms(use_true_random=False), st.booleans())
def test_same_outcome_for_mutants_of_indefinite_and_default_omitting_encodings(
    apdu: isoill.APDU, rng: random.Random, omit: bool
) -> None:
    data = ORACLE[omit].encode(apdu)
    assert_same_decode(mutate(indefinite(data), rng))
    assert_same_decode(mutate(data, rng))


@settings(max_examples=200)
@given(mutants(), st.integers(min_value=0, max_value=40))
def test_same_outcome_for_truncated_mutants(data: bytes, cut: int) -> None:
    assert_same_decode(data[: max(len(data) - cut, 0)])


def test_wrong_python_values_fail_the_same_way() -> None:
    request = gif_copy_request()
    item = request.item_id
    bad: list[Any] = [
        replace(request, requester_note=b"bytes"),
        replace(request, requester_note="x" * 70000),
        replace(request, transaction_id=None),
        replace(request, item_id=replace(item, issn="123")),
        replace(request, item_id=replace(item, title=isoill.EDIFACTString("{}"))),
        replace(request, requester_note="\u20ac"),
        replace(request, protocol_version_num=1),
    ]
    for apdu in bad:
        for omit in (0, 1):
            for tcp_safe in (False, True):
                expected = encode_outcome(ORACLE[omit], apdu, tcp_safe)
                assert encode_outcome(FAST[omit], apdu, tcp_safe) == expected


def test_generated_source_is_inspectable_and_compact() -> None:
    source = FAST[0].compiled.source
    assert "def " in source
    # One function per constructed node of the schema, not per use of it.
    assert source.count("\ndef ") < 600


@pytest.mark.parametrize("omit", [0, 1])
def test_stream_decoder_uses_the_specialised_codec(omit: int) -> None:
    apdu = isoill.Cancel(
        transaction_id=isoill.TransactionId(
            transaction_group_qualifier="G", transaction_qualifier="T"
        )
    )
    data = ORACLE[omit].encode(apdu)
    decoder = isoill.StreamDecoder(FAST[omit])
    assert decoder.feed(data[:3]) == []
    assert decoder.feed(data[3:]) == [apdu]


def test_indefinite_and_long_lengths_stay_on_the_fast_path() -> None:
    """YAZ writes indefinite lengths for its larger constructed values, and isoill long
    definite forms: neither may send a well-formed APDU to the interpreter."""
    codec = fast_codec.Codec()
    namespace = codec.compiled._ns
    taken: list[str] = []
    for name, function in list(namespace.items()):
        if name.startswith("slow_"):

            def spy(*args: Any, _name: str = name, _function: Any = function) -> Any:
                taken.append(_name)
                return _function(*args)

            namespace[name] = spy
    request = gif_copy_request()
    data = codec.encode(request)
    assert data[1] & 0x80  # the request's own length is in the long form
    assert codec.decode(data) == request
    assert codec.decode(indefinite(data)) == request
    assert taken == []


def test_generated_code_is_compiled_once_and_cached(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh process loads the compiled code from the cache; a damaged cache is ignored."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    request = gif_copy_request()
    data = fast_codec.Codec().encode(request)
    cached = sorted((tmp_path / "isoill").glob("codec-*.marshal"))
    assert cached
    assert fast_codec.Codec().decode(data) == request
    for path in cached:
        path.write_bytes(b"not marshal data")
    assert fast_codec.Codec().decode(data) == request
