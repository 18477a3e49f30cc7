"""Librarians' documentation of the state tables, generated from the tables themselves.

The rows are data (``rows/*.txt``) and are corrected as evidence turns up; a hand-written copy
of them would drift. So ``docs/state-tables.md`` and the state diagrams are built from
:data:`~isoill.machine.tables.TABLES` alone, and ``--check`` (run by the tests) fails when the
committed files are not what the rows give now.

Run ``python -m isoill.machine.docs`` after changing a row file.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from isoill.machine.events import Role, State
from isoill.machine.tables import (
    BASIS,
    GUARDS,
    REPLIES,
    ROLE_FILES,
    TABLES,
    Row,
    Table,
)

MARKDOWN = "state-tables.md"
COLUMNS = ("row", "from state(s)", "event", "next state", "when", "reply", "basis", "source")
GENERATOR = "python -m isoill.machine.docs"
INSTALL_HINT = "install Graphviz, which provides `dot` (Debian: apt-get install -y graphviz)"


def diagram_name(role: Role, suffix: str) -> str:
    return f"state-diagram-{role}.{suffix}"


# --- which rows are shown where -------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One markdown table: a role's own rows, or the rows every role shares."""

    title: str
    rows: tuple[Row, ...]
    role: Role | None  # None: the rows of every role
    base: Role | None  # the role whose rows this one has as well


def _base_role(role: Role) -> Role | None:
    """The role whose table is part of this one's (the intermediary is also a responder):
    printing those rows twice would only hide what the intermediary adds."""
    files = set(ROLE_FILES[role])
    return next((r for r in Role if set(ROLE_FILES[r]) < files), None)


def sections(tables: Mapping[Role, Table]) -> tuple[Section, ...]:
    everywhere = set.intersection(*({row.text for row in t.rows} for t in tables.values()))
    result = []
    for role, table in tables.items():
        base = _base_role(role)
        inherited = everywhere | ({row.text for row in tables[base].rows} if base else set())
        own = tuple(row for row in table.rows if row.text not in inherited)
        result.append(Section(role.value.capitalize(), own, role, base))
    first = next(iter(tables.values()))
    shared = tuple(row for row in first.rows if row.text in everywhere)
    result.append(Section("Every role", shared, None, None))
    return tuple(result)


def find_row(table: Table, row_id: str) -> Row:
    for row in table.rows:
        if row.id == row_id:
            return row
    raise ValueError(
        f"isoill/machine/docs.py names row {row_id} of the {table.role} table, which has no "
        "such row any more: update DIFFERENCES there"
    )


# --- the diagrams -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EdgeColour:
    graphviz: str
    name: str  # as the legend says it
    meaning: str


#: How an edge is coloured, by the basis of its best-founded row: so that what rests on
#: evidence stands out from what is inferred.
BASIS_COLOUR: dict[str, EdgeColour] = {
    "S": EdgeColour("black", "black", "stated in a public source"),
    "N": EdgeColour("black", "black", "seen in NII's deployed gateway"),
    "A": EdgeColour("blue", "blue", "follows from the ASN.1"),
    "I": EdgeColour("gray50", "grey", "inferred"),
}
CANCEL_REFUSED = "Cancel refused"
LABEL_WIDTH = 34  # characters: long qualifier lists would widen the diagram


def legend() -> list[str]:
    """What the diagrams' colours and strokes mean, for both the diagrams and the markdown."""
    by_colour: dict[str, list[str]] = {}
    for basis, colour in BASIS_COLOUR.items():
        by_colour.setdefault(colour.name, []).append(f"{colour.meaning} ({basis})")
    return [
        *(f"{name}: {' or '.join(meanings)}" for name, meanings in by_colour.items()),
        f"dashed: {CANCEL_REFUSED}, back to the state the Cancel interrupted",
        "double border: terminal state",
        "rows that leave the state unchanged are not drawn",
    ]


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _label(row: Row, note: str | None) -> str:
    """The row id and its event as the tables write it, so a reader can find the row."""
    row_id, _, event, _, when, *_ = row.text
    label = f"{row_id} {event}" + (f": {note}" if note else "")
    if row.resume is not None:
        label += f" (refusal -> {row.resume})"
    if when:
        label += f" [{when}]"
    return "\n".join(textwrap.wrap(label, LABEL_WIDTH, subsequent_indent="  "))


def cancel_interrupts(table: Table) -> tuple[State, ...]:
    """The states a refused Cancel can return to: those a Cancel leaves, and those an APDU
    that crossed the Cancel stands for."""
    found = {
        state
        for row in table.rows
        if row.target is State.CANCEL_PENDING and row.resume is None
        for state in row.sources
    }
    found |= {row.resume for row in table.rows if row.resume is not None}
    return tuple(s for s in table.states if s in found and s is not State.CANCEL_PENDING)


def edges(table: Table) -> dict[tuple[State, State], list[tuple[Row, bool]]]:
    """The rows drawn between each two states (with whether each is a refused Cancel's
    return): one edge per pair keeps a state's many exits apart."""
    result: dict[tuple[State, State], list[tuple[Row, bool]]] = {}
    for row in table.rows:
        if row.back_to_before_cancel:
            pairs = [(s, back) for s in row.sources for back in cancel_interrupts(table)]
        elif row.target is not None:
            pairs = [(s, row.target) for s in row.sources]
        else:
            continue
        for pair in pairs:
            result.setdefault(pair, []).append((row, row.back_to_before_cancel))
    order = {state: n for n, state in enumerate(State)}
    return dict(sorted(result.items(), key=lambda item: (order[item[0][0]], order[item[0][1]])))


def dot(table: Table) -> str:
    terminal = set(table.terminal_states())
    title = "\n".join([f"{table.role} (generated by {GENERATOR})", *legend()])
    lines = [
        f"digraph {_quote(str(table.role))} {{",
        "  rankdir=TB; newrank=true; nodesep=0.5; ranksep=0.6;",
        f"  label={_quote(title)};",
        '  labelloc=b; fontname="Helvetica"; fontsize=12;',
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica", '
        "fontsize=14];",
        '  edge [fontname="Helvetica", fontsize=10];',
        '  start [shape=point, width=0.15, label=""];',
        f"  start -> {_quote(State.IDLE)};",
    ]
    for state in table.states:
        attributes = ", peripheries=2, fillcolor=gray92" if state in terminal else ""
        if state is State.IDLE:
            attributes = ", style=bold"
        lines.append(f"  {_quote(state)} [label={_quote(state)}{attributes}];")
    rank = {basis: n for n, basis in enumerate(BASIS)}
    for (source, target), drawn in edges(table).items():
        best = min((row.basis for row, _ in drawn), key=rank.__getitem__)
        colour = BASIS_COLOUR[best].graphviz
        style = "dashed" if all(back for _, back in drawn) else "solid"
        label = "\n".join(_label(row, CANCEL_REFUSED if back else None) for row, back in drawn)
        lines.append(
            f"  {_quote(source)} -> {_quote(target)} [label={_quote(label)}, "
            f"color={colour}, fontcolor={colour}, style={style}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


class GraphvizMissing(RuntimeError):
    pass


_GENERATOR_COMMENT = re.compile(r"<!-- Generated by graphviz version [^>]*-->\n")


def render_svg(dot_text: str) -> str:
    """The SVG ``dot`` draws, without the comment naming Graphviz's version (which would make
    every Graphviz upgrade look like a stale diagram)."""
    executable = shutil.which("dot")
    if executable is None:
        raise GraphvizMissing(f"the state diagrams are drawn by Graphviz's `dot`: {INSTALL_HINT}")
    done = subprocess.run(
        [executable, "-Tsvg"], input=dot_text, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"dot -Tsvg failed: {done.stderr.strip()}")
    return _GENERATOR_COMMENT.sub("", done.stdout)


# --- the markdown -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A place where the rows depart from the project's protocol fact sheet. The prose is
    constant; the rows it names are printed from the tables, so they cannot drift."""

    title: str
    prose: str
    rows: tuple[tuple[Role, str], ...]


def _ids(role: Role, *row_ids: str) -> tuple[tuple[Role, str], ...]:
    return tuple((role, row_id) for row_id in row_ids)


DIFFERENCES: tuple[Difference, ...] = (
    Difference(
        "The responder starts in IN-PROCESS",
        "The fact sheet guessed that a responder receiving an ILL-Request goes to PENDING. NII's "
        "gateway (manual 4.2) records an incoming request as IN-PROCESS, so the table follows "
        "it, and accepts the same APDUs in IN-PROCESS and PENDING until the normative table can "
        "be read.",
        _ids(Role.RESPONDER, "P1"),
    ),
    Difference(
        "Committing to supply goes IN-PROCESS -> PENDING",
        "The fact sheet had PENDING -> IN-PROCESS on will-supply or hold-placed. With IN-PROCESS "
        "first (above), the table reverses this, as the requester's PENDING covers will-supply "
        "and hold-placed. Nothing public confirms either order.",
        _ids(Role.RESPONDER, "P5"),
    ),
    Difference(
        "The requester's CHECKED-IN is kept, but doubtful",
        "The fact sheet has it, but the vendor list of requester states does not; NDL counts "
        "15 requester states, which is that list with IDLE and without CHECKED-IN; and NII's "
        "gateway shows no CHECKED-IN on the requester's side. The requester may instead stay in "
        "RETURNED, which would then be final.",
        _ids(Role.REQUESTER, "R32", "R33"),
    ),
    Difference(
        "The responder's CANCEL-PENDING is doubtful",
        "Kept as the fact sheet has it, but NII's gateway (manual 4.10) still shows IN-PROCESS "
        "after a Cancel arrives, until the Cancel-Reply is sent. The responder may stay in its "
        "state until it answers, and have no CANCEL-PENDING at all.",
        _ids(Role.RESPONDER, "P8"),
    ),
    Difference(
        "APDUs that cross a Cancel are isoill's own rows",
        "APDUs cross in transit, but the fact sheet says only that an APDU arriving after a "
        "Cancel is handled as usual while the Cancel's outcome is awaited. What these rows do "
        "then is a design of isoill's.",
        _ids(Role.REQUESTER, "R14", "R15", "R16", "R17", "R18") + _ids(Role.RESPONDER, "P9"),
    ),
)


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|")


def _table(header: Sequence[str], body: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(_escape(cell) for cell in cells) + " |" for cells in body)
    return lines


def _row_summary(role: Role, row: Row) -> str:
    row_id, sources, event, target, when, _, basis, source = row.text
    text = f"`{row_id}` ({role}, {basis}): {sources} -> {target} on `{event}`"
    if when:
        text += f", when {when}"
    return text + (f". Source: {source}" if source else "")


def _basis_counts(parts: Sequence[Section]) -> list[str]:
    columns = [part.title.lower() + (" (own rows)" if part.base else "") for part in parts]
    header = ["basis", "meaning", *columns, "all rows"]
    body = []
    for basis, meaning in BASIS.items():
        counts = [sum(row.basis == basis for row in part.rows) for part in parts]
        body.append([basis, meaning, *map(str, counts), str(sum(counts))])
    totals = [len(part.rows) for part in parts]
    body.append(["", "**all**", *map(str, totals), str(sum(totals))])
    return _table(header, body)


def _states(tables: Mapping[Role, Table]) -> list[str]:
    def mark(table: Table, state: State) -> str:
        if state not in table.states:
            return "no"
        if state is State.IDLE:
            return "start"
        if state in table.terminal_states():
            return "terminal"
        # Every way out of RECEIVED is a loan's (the `loan` condition): a copy ends there,
        # as Transaction.is_final says.
        return "terminal for a copy" if state is State.RECEIVED else "yes"

    body = [[state.value, *(mark(t, state) for t in tables.values())] for state in State]
    return _table(["state", *map(str, tables)], body)


def _differences(tables: Mapping[Role, Table]) -> list[str]:
    lines = []
    for difference in DIFFERENCES:
        lines.append(f"* **{difference.title}.** {difference.prose}")
        for role, row_id in difference.rows:
            lines.append(f"  * {_row_summary(role, find_row(tables[role], row_id))}")
    return lines


def markdown(tables: Mapping[Role, Table] = TABLES) -> str:
    parts = sections(tables)
    lines = [
        f"*Generated by `{GENERATOR}` from `isoill/machine/rows/*.txt`: do not edit this file "
        "by hand; change the row files and run the command again.*",
        "",
        "# The ILL protocol machine's state tables",
        "",
        "These are the tables isoill's protocol machine runs on: for each role (requester, "
        "responder, intermediary), which event is allowed in which state and where it leads. "
        "The normative tables (ISO 10161-1 Annex A, translated in JIS X 0809 Annex A) are not "
        "publicly readable, so every row here is a reconstruction and says what it rests on:",
        "",
        *_basis_counts(parts),
        "",
        "An event is `send X` (the library sends APDU X), `recv X` (X arrives) or `local X` (a "
        "timer of isoill's own). A word after the APDU is the answer that decides the next "
        "state (the ILL-Answer's transaction-results, yes or no of a reply). `*` as from state "
        "means every state but IDLE and FORWARD; `=` as next state means unchanged. Only the "
        "first row whose conditions hold applies.",
        "",
        "## States",
        "",
        "A terminal state is one no row leaves: only Message, Status-Query, Status-Or-Error-"
        "Report and Damaged happen there. *no*: the role is never in that state.",
        "",
        *_states(tables),
        "",
        "## Conditions and replies",
        "",
        "A row with a condition (column *when*) applies only when it holds:",
        "",
        *_table(["condition", "meaning"], GUARDS.items()),
        "",
        "Replies the machine sends by itself when the row applies:",
        "",
        *_table(["reply", "what is sent"], REPLIES.items()),
        "",
        "## Reading the diagrams",
        "",
        "Each box is a state; IDLE, where every transaction starts, has the arrow from the dot. "
        "Each arrow is labelled with the rows that take it, and an arrow drawn for several rows "
        "takes the colour of its best-founded row:",
        "",
        *(f"* {line}" for line in legend()),
    ]
    for part in parts:
        lines += ["", f"## {part.title}", ""]
        if part.role is None:
            lines += ["These rows belong to every role's table.", ""]
        else:
            if part.base is not None:
                lines += [
                    f"The {part.role} has every {part.base} row as well, and these. Its "
                    f"diagram shows them all.",
                    "",
                ]
            lines += [f"![{part.role}]({diagram_name(part.role, 'svg')})", ""]
        lines += _table(COLUMNS, (row.text for row in part.rows))
    lines += [
        "",
        "## Where these tables differ from the fact sheet",
        "",
        "The project's protocol fact sheet was written before the secondary evidence (chiefly "
        "NII's manual of its NACSIS-ILL <-> OCLC gateway) was read; its row numbers are not "
        "these. The tables depart from it here:",
        "",
        *_differences(tables),
    ]
    return "\n".join(lines) + "\n"


# --- the files and the command --------------------------------------------------------------


def sources(tables: Mapping[Role, Table] = TABLES) -> dict[str, str]:
    """The text files (markdown and DOT), which need no Graphviz."""
    files = {MARKDOWN: markdown(tables)}
    files.update({diagram_name(role, "dot"): dot(table) for role, table in tables.items()})
    return files


def generate(tables: Mapping[Role, Table] = TABLES) -> dict[str, str]:
    """Every file by name; the SVGs need Graphviz."""
    files = sources(tables)
    for role in tables:
        files[diagram_name(role, "svg")] = render_svg(files[diagram_name(role, "dot")])
    return files


def stale(directory: Path, files: Mapping[str, str]) -> list[str]:
    """The files missing from ``directory`` or not what the tables give. Compared as bytes:
    a file rewritten with other line endings is stale too, as git would show it changed."""
    result = []
    for name, text in files.items():
        path = directory / name
        if not path.is_file() or path.read_bytes() != text.encode("utf-8"):
            result.append(name)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=GENERATOR, description="Write the state-table documentation from the row files."
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument("directory", nargs="?", default="docs", type=Path)
    args = parser.parse_args(argv)
    directory: Path = args.directory
    try:
        files = generate()
    except GraphvizMissing as error:
        print(f"{parser.prog}: {error}", file=sys.stderr)
        return 2
    outdated = stale(directory, files)
    if args.check:
        for name in outdated:
            print(f"stale: {directory / name}", file=sys.stderr)
        if outdated:
            print(f"run `{GENERATOR} {directory}` to regenerate", file=sys.stderr)
        return 1 if outdated else 0
    directory.mkdir(parents=True, exist_ok=True)
    for name in outdated:
        (directory / name).write_bytes(files[name].encode("utf-8"))
        print(f"wrote {directory / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
