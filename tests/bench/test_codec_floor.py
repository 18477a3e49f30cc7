"""The codec bench's floor must be a true lower bound: its functions return exactly the
decoded values and look at every header octet, or the "most any decoder can reach" it
prints would flatter or wrong the codec."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

import isoill
from isoill.testing import corpus
from tests.paths import REPO


def _floor_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("codec_floor", REPO / "bench" / "codec_floor.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("codec_floor", module)
    spec.loader.exec_module(module)
    return module


floor = _floor_module()
APDUS = corpus.all_types()
ENCODED = [isoill.encode(apdu) for apdu in APDUS]


def test_decoders_rebuild_every_apdu_exactly() -> None:
    for function, data, apdu in zip(
        floor.floor_decoders(APDUS, ENCODED), ENCODED, APDUS, strict=True
    ):
        assert function(data) == apdu


@pytest.mark.parametrize("index", range(0, len(APDUS), 7))
def test_decoders_check_every_header_octet(index: int) -> None:
    data = ENCODED[index]
    (function,) = floor.floor_decoders([APDUS[index]], [data])
    for offset in floor.header_offsets(data):
        changed = bytearray(data)
        changed[offset] ^= 0x01
        with pytest.raises(ValueError):
            function(bytes(changed))


def test_header_offsets_of_indefinite_lengths() -> None:
    # [1] { [2] "ab" } with an indefinite outer length and a two-octet tag inside
    data = bytes([0xA1, 0x80, 0x9F, 0x21, 0x02, 0x61, 0x62, 0x00, 0x00])
    assert floor.header_offsets(data) == [0, 1, 2, 3, 4, 7, 8]


def test_encoders_read_every_string() -> None:
    (function,) = floor.floor_encoders([APDUS[1]], [ENCODED[1]])
    out = function(APDUS[1])
    texts = [t for t in _strings(APDUS[1]) if t]
    assert texts and all(t.encode() in out for t in texts)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple):
        return [s for v in value for s in _strings(v)]
    if hasattr(value, "__dataclass_fields__"):
        return [s for v in vars(value).values() for s in _strings(v)]
    return []
