"""The yazill helper: YAZ's ILL codec driven from Python.

The interoperability tests and benchmarks trust what this helper reports about YAZ, so it
is checked here on the ILL-Request yaz-illclient itself sent. They need YAZ (marker
``yaz``), which CI installs and requires.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from isoill.testing.yaz import build_helper, yaz_bench, yaz_roundtrip

pytestmark = pytest.mark.yaz


@pytest.fixture(scope="module")
def helper(yaz_helper: Path) -> Path:
    return yaz_helper


@pytest.fixture(scope="module")
def trace(yaz_trace: bytes) -> bytes:
    return yaz_trace


def test_build_is_cached(helper: Path) -> None:
    assert helper.is_file()
    assert build_helper(helper.parent) == helper


def test_roundtrip_trace(helper: Path, trace: bytes) -> None:
    first = yaz_roundtrip(helper, trace)
    assert first.ok, first.error
    assert first.error is None
    [tree] = first.trees
    assert tree.startswith("illRequest {")
    for text in ("'IKM'", "'OZZ'", "'Unknown Title'"):
        assert text in tree

    # YAZ's re-encoding goes back through YAZ to the same APDU and the same bytes.
    second = yaz_roundtrip(helper, first.reencoded)
    assert second.ok, second.error
    assert second.trees == first.trees
    assert second.reencoded == first.reencoded
    # yaz-illclient encoded the trace with this very codec, so YAZ reproduces it exactly.
    assert first.reencoded == trace


def test_two_apdus(helper: Path, trace: bytes) -> None:
    result = yaz_roundtrip(helper, trace + trace)
    assert result.ok, result.error
    assert len(result.trees) == 2
    assert result.trees[0] == result.trees[1]
    assert result.reencoded == trace + trace


def test_truncated(helper: Path, trace: bytes) -> None:
    result = yaz_roundtrip(helper, trace + trace[:-10])
    assert not result.ok
    assert len(result.trees) == 1  # the complete first copy still decoded
    assert result.error is not None
    assert result.error.startswith(f"ERROR 1 {len(trace)} ")
    assert "incomplete" in result.error


def test_refused_by_odr(helper: Path, trace: bytes) -> None:
    # YAZ insists on DEFAULT fields being present: without retry-flag and forward-flag
    # (the trailing [21] and [22] BOOLEANs) it refuses the request.
    flags = bytes.fromhex("950100960100")
    assert trace.count(flags) == 1
    result = yaz_roundtrip(helper, trace.replace(flags, b""))
    assert not result.ok
    assert result.trees == []
    assert result.error is not None
    assert result.error.startswith("ERROR 0 ")
    assert "Required data element missing" in result.error
    assert "retry_flag" in result.error


def test_bench(helper: Path, trace: bytes) -> None:
    decode_rate, encode_rate = yaz_bench(helper, trace + trace, 50)
    assert decode_rate > 0
    assert encode_rate > 0
