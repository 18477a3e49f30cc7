"""A leg's history as rows of its own, appended step by step, instead of inside its body.

A leg's protocol machine keeps every APDU it saw in its history, and a NACSIS record its
history lines; both only grow. Kept inside the leg's JSON body, every step rewrote all of it,
so a long transaction cost more per step the longer it ran. The store keeps each entry (a
machine history entry as a JSON object, a record history line as a JSON string) as one row
of ``leg_history``, numbered per leg from 0, and the body keeps the rest and how many rows
belong to it: a step inserts only the entries that are new since the leg was loaded, and
the body's size stays the same however long the transaction runs.

Loading reads the body and its rows and puts the history back (the same value as before);
the rows past the body's count (a newer step of another process, seen between the two
reads) are left out. A body from before the rows still carries its history and loads as it
is; its next write moves that history to rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from isoill.machine.transaction import HistoryEntry

if TYPE_CHECKING:
    from isoill.gateway.store import StoredLeg

#: The key of the body that counts the leg's history rows (absent: the history is inline).
COUNT = "history"


@dataclass(frozen=True)
class InRows:
    """The history the store held as rows when the leg was loaded at ``version``: what a
    write of that leg at that version need not insert again."""

    version: int = 0
    entries: tuple[HistoryEntry, ...] = ()
    lines: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.entries) + len(self.lines)


#: The compact JSON of a stored body or history row. One encoder for all: ``json.dumps``
#: with options builds a new one per call, a few microseconds each of the storage thread,
#: for every row and body of every step.
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def appended(leg: StoredLeg) -> tuple[list[tuple[int, str]], bool]:
    """The rows (number, JSON) that writing ``leg`` adds, and whether the leg's rows must be
    dropped first: when the leg's rows are not known (a leg made anew with a version, not
    loaded) or its history is not what was loaded plus more, all of it is written again."""
    entries = leg.transaction.history
    lines = () if leg.record is None else leg.record.HISTORY
    mark = leg.in_rows
    grown = (
        leg.version > 0
        and mark.version == leg.version
        and entries[: len(mark.entries)] == mark.entries
        and lines[: len(mark.lines)] == mark.lines
    )
    if grown:
        first, entries, lines = mark.count, entries[len(mark.entries) :], lines[len(mark.lines) :]
    else:
        first = 0
    rows = [dumps(e.to_json(ber=True)) for e in entries] + [dumps(line) for line in lines]
    return [(first + n, row) for n, row in enumerate(rows)], not grown and leg.version > 0


def restore(value: dict[str, Any], rows: Sequence[str]) -> bool:
    """Put the history of ``rows`` (the leg's, in order) back into a body's ``value``; False
    for a body that still holds its history, which is left as it is."""
    if COUNT not in value:
        return False
    entries: list[Any] = []
    lines: list[Any] = []
    for row in rows[: value.pop(COUNT)]:
        item = json.loads(row)
        (lines if isinstance(item, str) else entries).append(item)
    value["transaction"]["history"] = entries
    if value.get("record") is not None and lines:
        value["record"]["HISTORY"] = lines
    return True
