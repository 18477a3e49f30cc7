"""The committed state-table documentation is what the row files give now.

A row file changed without regenerating ``docs/`` fails here, so librarians never read tables
the machine no longer runs. The SVG tests need Graphviz's ``dot`` (marker ``graphviz``): skipped
without it on a developer's machine, they are required in CI, where a skipped check would let
stale diagrams through.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from isoill.machine import TABLES, Role, State, Table
from isoill.machine.docs import (
    GENERATOR,
    MARKDOWN,
    cancel_interrupts,
    diagram_name,
    main,
    markdown,
    render_svg,
    sources,
    stale,
)

DOCS = Path(__file__).resolve().parents[2] / "docs"
SOURCES = sources()
STALE = f"is stale: run `{GENERATOR}` and commit docs/"


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_committed_markdown_and_dot_are_current(name: str) -> None:
    path = DOCS / name
    assert path.is_file(), f"docs/{name} is missing: run `{GENERATOR}`"
    assert path.read_bytes() == SOURCES[name].encode("utf-8"), f"docs/{name} {STALE}"


@pytest.mark.graphviz
@pytest.mark.parametrize("role", list(Role))
def test_committed_svg_is_what_dot_draws(role: Role) -> None:
    svg = diagram_name(role, "svg")
    drawn = render_svg(SOURCES[diagram_name(role, "dot")])
    assert (DOCS / svg).read_bytes() == drawn.encode("utf-8"), f"docs/{svg} {STALE}"


def _with_changed_row() -> dict[Role, Table]:
    """The tables with R11 (a refused condition) leading to CANCELLED instead."""
    table = TABLES[Role.REQUESTER]
    row = next(r for r in table.rows if r.id == "R11")
    assert row.target is not State.CANCELLED
    changed = dataclasses.replace(
        row, target=State.CANCELLED, text=(*row.text[:3], "CANCELLED", *row.text[4:])
    )
    rows = [changed if r is row else r for r in table.rows]
    return {**TABLES, Role.REQUESTER: Table(Role.REQUESTER, rows)}


def test_a_changed_row_makes_the_committed_files_stale(tmp_path: Path) -> None:
    for name, text in SOURCES.items():
        (tmp_path / name).write_bytes(text.encode("utf-8"))
    assert stale(tmp_path, SOURCES) == []
    changed = sources(_with_changed_row())
    assert "| R11 | CONDITIONAL | send CONDITIONAL-REPLY no | CANCELLED |" in changed[MARKDOWN]
    assert stale(tmp_path, changed) == [MARKDOWN, diagram_name(Role.REQUESTER, "dot")]


def test_every_row_is_in_the_markdown() -> None:
    text = markdown()
    for table in TABLES.values():
        for row in table.rows:
            assert f"\n| {row.id} | " in text, f"{table.role} row {row.id}"


def test_a_refused_cancel_returns_to_every_state_a_cancel_interrupts() -> None:
    assert cancel_interrupts(TABLES[Role.REQUESTER]) == (
        State.PENDING,
        State.CONDITIONAL,
        State.SHIPPED,
    )
    requester = SOURCES[diagram_name(Role.REQUESTER, "dot")]
    for state in ("PENDING", "CONDITIONAL", "SHIPPED"):
        assert f'"CANCEL-PENDING" -> "{state}" [label="R13 ' in requester


@pytest.mark.graphviz  # the check draws the SVGs too
def test_check_names_the_stale_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check", str(tmp_path)]) == 1
    assert main([str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path)]) == 0
    (tmp_path / MARKDOWN).write_text("edited by hand\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["--check", str(tmp_path)]) == 1
    assert f"stale: {tmp_path / MARKDOWN}" in capsys.readouterr().err
    assert (tmp_path / MARKDOWN).read_text(encoding="utf-8") == "edited by hand\n"
