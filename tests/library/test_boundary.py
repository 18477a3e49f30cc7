"""The gateway core never imports the library that builds on it (issue 14): neither at run
time (a fresh interpreter importing every core module) nor in its source (every import
statement of ``isoill/gateway/*.py``, those under ``TYPE_CHECKING`` and in functions too)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import isoill.gateway

GATEWAY = Path(isoill.gateway.__file__).parent
CORE = sorted(f"isoill.gateway.{p.stem}" for p in GATEWAY.glob("*.py") if p.stem != "__init__")


def test_importing_the_core_loads_no_library_module() -> None:
    code = (
        f"import {', '.join(CORE)}; import sys; "
        "found = [m for m in sys.modules if m.startswith('isoill.library')]; "
        "assert not found, found"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_core_source_imports_the_library() -> None:
    found = []
    for path in sorted(GATEWAY.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            found += [f"{path.name}: {n}" for n in names if n.startswith("isoill.library")]
    assert found == []


def test_the_core_runs_a_configuration_without_libraries() -> None:
    """Without the library, the embedded default has only the core's networks, and a
    library network is refused as an unknown kind."""
    code = (
        "from isoill.gateway.config import ConfigError, default, parse\n"
        "assert {n.kind for n in default().networks} == {'iso', 'records'}\n"
        "try:\n"
        "    parse({'network': [{'name': 'thu', 'kind': 'library', 'symbol': 'X:Y'}]})\n"
        "except ConfigError as err:\n"
        "    assert 'kind must be one of iso, records' in str(err), err\n"
        "else:\n"
        "    raise AssertionError('a library network without the library')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


#: What names a library's accounts: its roles, and the type that holds them.
LIBRARY_ROLES = {"AccountRole", "READER", "GROUP", "STAFF", "LIBRARY_ROLES"}


def test_no_core_source_names_a_library_role() -> None:
    """The library's readers, group accounts and staff are the library's: the core keeps
    only its own operators, and no code of it names a library role, as an identifier or as
    the string a role is stored as."""
    found = []
    for path in sorted(GATEWAY.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name) and node.id in LIBRARY_ROLES:
                found.append(f"{path.name}:{node.lineno}: {node.id}")
            elif isinstance(node, ast.Attribute) and node.attr in LIBRARY_ROLES:
                found.append(f"{path.name}:{node.lineno}: {node.attr}")
            elif isinstance(node, ast.Constant) and node.value in ("reader", "group", "staff"):
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert found == []
