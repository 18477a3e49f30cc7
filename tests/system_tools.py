"""The system tools some tests need, declared once: a pytest marker for each, how to tell
whether it is here, and the Debian packages that bring it.

A test that needs one carries its marker (``@pytest.mark.yaz`` ...). Where the tool is
missing the test is skipped with the packages to install, and the run ends with one short
summary of what was skipped; with ``ISOILL_REQUIRE_ALL=1`` (CI sets it) a missing tool fails
the test instead, so that CI always runs every test.
"""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from isoill.testing.yaz import yaz_available

#: Set (to anything but empty or 0) where every test must run: a missing tool is a failure.
REQUIRE_ALL = "ISOILL_REQUIRE_ALL"
#: Where Debian's ``yaz`` package installs the published ISO 10161 ASN.1 module.
YAZ_ASN1 = Path("/usr/share/yaz/ill")


@dataclass(frozen=True)
class SystemTool:
    marker: str
    what: str
    packages: str
    present: Callable[[], bool]

    @property
    def hint(self) -> str:
        return f"{self.what} is not installed (apt-get install -y {self.packages})"


def _yaz() -> bool:
    return (
        shutil.which("yaz-illclient") is not None
        and (YAZ_ASN1 / "ill9702.asn").is_file()
        and yaz_available()
    )


def _postgres() -> bool:
    return bool(os.environ.get("ISOILL_TEST_POSTGRES")) or bool(
        glob.glob("/usr/lib/postgresql/*/bin/initdb")
    )


def _browser() -> bool:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    fonts = glob.glob("/usr/share/fonts/truetype/wqy/*")
    return bool(chromium and shutil.which("chromedriver") and fonts)


def _graphviz() -> bool:
    return shutil.which("dot") is not None


TOOLS = {
    tool.marker: tool
    for tool in (
        SystemTool(
            "yaz",
            "YAZ (yaz-illclient, its ASN.1 modules, libyaz-dev and a C compiler)",
            "yaz yaz-illclient libyaz-dev gcc pkgconf",
            _yaz,
        ),
        SystemTool("postgres", "PostgreSQL", "postgresql", _postgres),
        SystemTool(
            "browser",
            "Chromium with its driver and a Chinese font",
            "chromium chromium-driver fonts-wqy-zenhei",
            _browser,
        ),
        SystemTool("graphviz", "Graphviz's dot", "graphviz", _graphviz),
    )
}


@cache
def present(marker: str) -> bool:
    """Whether the tool is here (asked once a run: the checks start processes)."""
    return TOOLS[marker].present()


def required() -> bool:
    return os.environ.get(REQUIRE_ALL, "") not in ("", "0")
