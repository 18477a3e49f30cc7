"""Fixtures the library's tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import isoill.library  # noqa: F401  (the library kind: its tables)
from isoill.gateway.store import Store, open_store


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A new store, on SQLite and (marked ``postgres``) on PostgreSQL: what the library
    keeps must read back the same from both."""
    location = (
        str(tmp_path / "store.db")
        if request.param == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    opened = open_store(location)
    yield opened
    opened.close()
