"""Shared fixtures and the markers of the system tools some tests need (``system_tools``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.terminal import TerminalReporter
from hypothesis import HealthCheck, settings

from isoill.testing.postgres import fresh_database, throwaway_server
from isoill.testing.yaz import build_helper
from tests.paths import YAZ_ILLCLIENT_REQUEST
from tests.system_tools import REQUIRE_ALL, TOOLS, present, required

settings.register_profile(
    "isoill",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("isoill")

_skipped_for: Counter[str] = Counter()


def pytest_configure(config: pytest.Config) -> None:
    for tool in TOOLS.values():
        config.addinivalue_line("markers", f"{tool.marker}: needs {tool.what}")


def _need(marker: str) -> None:
    """Skip (or, under ISOILL_REQUIRE_ALL, fail) unless the marker's tool is here."""
    if present(marker):
        return
    hint = TOOLS[marker].hint
    if required():
        pytest.fail(f"{hint}; {REQUIRE_ALL} is set, so every test must run", pytrace=False)
    _skipped_for[marker] += 1
    pytest.skip(hint)


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers():
        if mark.name in TOOLS:
            _need(mark.name)


def pytest_terminal_summary(terminalreporter: TerminalReporter) -> None:
    if not _skipped_for:
        return
    terminalreporter.section("system tools missing")
    for marker, count in sorted(_skipped_for.items()):
        terminalreporter.write_line(f"{count} skipped: {TOOLS[marker].hint}")
    packages = " ".join(TOOLS[m].packages for m in sorted(_skipped_for))
    terminalreporter.write_line(f"to run them all: apt-get install -y {packages}")


@pytest.fixture(scope="session")
def yaz_trace() -> bytes:
    """The ILL-Request yaz-illclient sent (indefinite lengths, every DEFAULT present)."""
    return YAZ_ILLCLIENT_REQUEST.read_bytes()


@pytest.fixture(scope="session")
def yaz_helper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """YAZ's C codec as a program (``isoill.testing.yaz``), built once a run; tests that use
    it are marked ``yaz`` (and the fixture checks too, for a test that forgot)."""
    _need("yaz")
    return build_helper(tmp_path_factory.mktemp("yazill"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL server for the session: tests that use it are marked ``postgres``,
    and the fixture checks too (a parameter may reach it through ``getfixturevalue``)."""
    _need("postgres")
    with throwaway_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on it, dropped afterwards."""
    with fresh_database(postgres_server) as url:
        yield url
