"""Streaming without copies: a megabyte APDU fed one byte at a time allocates no more than a
small multiple of its size (the buffer, the one bytes object decoded, the value's raw BER).

A decoder that copied its buffer per feed would allocate terabytes here (and take hours); one
that kept a list of the pieces would hold fifty bytes of object per byte fed.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

import pytest

import isoill

from .test_linear_time import long_octet_string, nested_indefinite

SIZE = 1_000_000
MAX_MULTIPLE = 6  # buffer (with growth slack) + the bytes decoded + the kept raw BER: about 3


@pytest.mark.parametrize(
    "build", [long_octet_string, nested_indefinite], ids=["definite", "nested indefinite"]
)
def test_one_byte_chunks_allocate_a_small_multiple_of_the_apdu(
    build: Callable[[int], bytes],
) -> None:
    data = build(SIZE)
    decoder = isoill.StreamDecoder()
    out: list[object] = []
    tracemalloc.start()
    try:
        for i in range(len(data)):
            out.extend(decoder.feed(data[i : i + 1]))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(out) == 1 and isinstance(out[0], isoill.ILLRequest)
    assert decoder.buffered == 0
    assert peak < MAX_MULTIPLE * len(data), f"peak {peak} bytes for a {len(data)}-byte APDU"
