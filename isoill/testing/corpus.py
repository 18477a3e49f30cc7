"""A corpus of APDUs of every type, rich and minimal, for benchmarks and cross-checks.

For each of the 20 APDU types, values are drawn from :func:`isoill.testing.strategies.for_type`
with hypothesis derandomised (so the corpus is the same on every run and machine), and the
one with the shortest encoding (minimal) and the longest (rich) are kept. Where YAZ is
installed, :func:`yaz_encoded` has YAZ re-encode them, so that a benchmark decodes the bytes
a C peer actually writes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings

import isoill
from isoill.apdu.apdus import APDU, APDU_CLASSES
from isoill.testing.strategies import for_type


def _drawn(cls: type, count: int) -> list[APDU]:
    found: list[APDU] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(for_type(cls))
    def collect(value: APDU) -> None:
        found.append(value)

    collect()
    return found


def all_types(count: int = 40) -> list[APDU]:
    """Two APDUs of each type, minimal then rich, 40 in all."""
    out: list[APDU] = []
    for cls in APDU_CLASSES:
        drawn = sorted(_drawn(cls, count), key=lambda apdu: len(isoill.encode(apdu)))
        out += [drawn[0], drawn[-1]]
    return out


def yaz_encoded(apdus: list[APDU]) -> list[bytes] | None:
    """Each APDU as YAZ encodes it, or None where YAZ or a C compiler is missing (or YAZ
    refuses one of them)."""
    from isoill.testing import yaz

    if not yaz.yaz_available():
        return None
    with tempfile.TemporaryDirectory() as work:
        helper = yaz.build_helper(Path(work))
        out = []
        for apdu in apdus:
            result = yaz.yaz_roundtrip(helper, isoill.encode(apdu))
            if not result.ok:
                return None
            out.append(result.reencoded)
    return out
