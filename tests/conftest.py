"""Shared fixtures: the captured traces and the material beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

SHARED = Path(__file__).resolve().parents[2] / "shared"

settings.register_profile(
    "isoill",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("isoill")


@pytest.fixture(scope="session")
def yaz_trace() -> bytes:
    """The ILL-Request yaz-illclient sent (indefinite lengths, every DEFAULT present)."""
    path = SHARED / "traces" / "yaz-illclient-request.ber"
    assert path.is_file(), f"the captured traces are expected beside the repository: {path}"
    return path.read_bytes()


from tests.postgres_support import postgres_server, postgres_url  # noqa: E402,F401
