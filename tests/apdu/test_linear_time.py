"""Every decode step is linear in its input, for each hostile shape of input.

A peer controls the bytes, so any step that is quadratic in some shape of input is a way to
make the gateway spend minutes on one APDU. Each test builds one shape at about 10 kB and at
about 1 MB and compares the time taken: linear work makes the ratio about 100, quadratic
work about 10,000. The bound of 400 leaves room for a noisy two-core machine; each time is
the best of three, and a fast case is repeated until a measurement lasts long enough to mean
something. No absolute time is asserted.
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable

import pytest

import isoill
from isoill.apdu.ber import encode_length
from tests.apdu.support import indefinite

from .test_hostile_ber import huge_oid_request, request_with_extension

SMALL, LARGE = 10_000, 1_000_000
MAX_RATIO = 400  # linear: 100; quadratic: 10,000


def _seconds(work: Callable[[], object]) -> float:
    """Best of three measurements of one run of ``work``, each over enough runs to last
    at least 50 ms.

    The cyclic garbage collector is paused while measuring: its full collections come at
    moments that depend on everything else the process holds, which makes a single large
    decode of half a million small objects vary by a factor of two between runs. The
    collector's own cost is amortised linear; what is measured here is the decoder's.
    """
    gc.collect()
    gc.disable()
    try:
        return _best_of_three(work)
    finally:
        gc.enable()


def _best_of_three(work: Callable[[], object]) -> float:
    runs = 1
    while True:
        start = time.perf_counter()
        for _ in range(runs):
            work()
        elapsed = time.perf_counter() - start
        if elapsed >= 0.05:
            break
        runs *= 4
    best = elapsed / runs
    for _ in range(2):
        start = time.perf_counter()
        for _ in range(runs):
            work()
        best = min(best, (time.perf_counter() - start) / runs)
    return best


def _decode(data: bytes) -> Callable[[], object]:
    def work() -> None:
        with contextlib.suppress(isoill.DecodeError):
            isoill.decode(data)

    return work


def _stream(data: bytes, chunk: int) -> Callable[[], object]:
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]

    def work() -> None:
        decoder = isoill.StreamDecoder()
        out = []
        for piece in pieces:
            out.extend(decoder.feed(piece))
        assert len(out) == 1 and decoder.buffered == 0

    return work


# --- the shapes, each a function of its approximate size in bytes ---------------------------


def nested_indefinite(size: int) -> bytes:
    """Indefinite lengths nested 60 deep (the limit is 64) around many small TLVs, inside
    an extension the decoder keeps as raw BER: it walks all of it to find the end."""
    depth = 60
    body = b"\x04\x01A" * ((size - 4 * depth) // 3)
    return request_with_extension(b"\x30\x80" * depth + body + b"\x00\x00" * depth)


def many_small_typed_tlvs(size: int) -> bytes:
    """A typed SEQUENCE OF with thousands of entries (already-tried-list)."""
    tried = (isoill.SystemId.institution("X"),) * (size // 9)
    third_party = isoill.ThirdPartyInfoType(already_tried_list=tried)
    request = isoill.ILLRequest(
        transaction_id=isoill.TransactionId(
            transaction_group_qualifier="G", transaction_qualifier="T"
        ),
        item_id=isoill.ItemId(title="T"),
        third_party_info_type=third_party,
    )
    return isoill.encode(request)


def long_octet_string(size: int) -> bytes:
    """One long primitive inside raw BER."""
    return request_with_extension(b"\x04" + encode_length(size) + b"x" * size)


def long_title(size: int) -> bytes:
    """A title of ``size`` bytes (past the 64 KiB string limit it is refused)."""
    request = isoill.ILLRequest(
        transaction_id=isoill.TransactionId(
            transaction_group_qualifier="G", transaction_qualifier="T"
        ),
        item_id=isoill.ItemId(title="t" * size),
    )
    return isoill.encode(request)


def constructed_string(size: int) -> bytes:
    """A title sent as a constructed GeneralString of one-octet segments (past the 64 KiB
    string limit it is refused)."""
    segments = b"\x1b\x01t" * (size // 3)
    data = indefinite(long_title(1))
    assert data.count(b"\x1b\x01t") == 1
    return data.replace(b"\x1b\x01t", b"\x3b\x80" + segments + b"\x00\x00")


def indefinite_apdu(size: int) -> bytes:
    """The issue's stream shape: one indefinite-length APDU of many small TLVs."""
    return b"\x61\x80" + b"\x04\x01A" * ((size - 4) // 3) + b"\x00\x00"


SHAPES: dict[str, Callable[[int], tuple[bytes, Callable[[bytes], Callable[[], object]]]]] = {
    "huge OID arc": lambda n: (huge_oid_request(n), _decode),
    "nested indefinite lengths": lambda n: (nested_indefinite(n), _decode),
    "many small typed TLVs": lambda n: (many_small_typed_tlvs(n), _decode),
    "long octet string": lambda n: (long_octet_string(n), _decode),
    "long title": lambda n: (long_title(n), _decode),
    "constructed string": lambda n: (constructed_string(n), _decode),
    "many small typed TLVs, indefinite": lambda n: (
        indefinite(many_small_typed_tlvs(n * 3 // 5)),  # indefinite takes 5/3 the bytes
        _decode,
    ),
    "indefinite APDU, 4 KiB chunks": lambda n: (
        indefinite_apdu(n),
        lambda data: _stream(data, 4096),
    ),
    "indefinite APDU, 1-byte chunks": lambda n: (
        indefinite_apdu(n),
        lambda data: _stream(data, 1),
    ),
    "nested indefinite, 1-byte chunks": lambda n: (
        nested_indefinite(n),
        lambda data: _stream(data, 1),
    ),
    "definite APDU, 1-byte chunks": lambda n: (
        long_octet_string(n),
        lambda data: _stream(data, 1),
    ),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_decode_time_is_linear_in_input(shape: str) -> None:
    small, make = SHAPES[shape](SMALL)
    large, _ = SHAPES[shape](LARGE)
    assert 80 <= len(large) / len(small) <= 120
    small_time = _seconds(make(small))
    large_time = _seconds(make(large))
    ratio = large_time / small_time
    assert ratio < MAX_RATIO, (
        f"{shape}: {len(small)} bytes {small_time * 1e3:.3f} ms, "
        f"{len(large)} bytes {large_time * 1e3:.1f} ms, ratio {ratio:.0f}"
    )
