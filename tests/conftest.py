"""Shared fixtures: the captured traces and the material beside the repository."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from isoill.testing.postgres import fresh_database, throwaway_server

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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server for the session (CI installs Debian's postgresql)."""
    with throwaway_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on it, dropped afterwards."""
    with fresh_database(postgres_server) as url:
        yield url
