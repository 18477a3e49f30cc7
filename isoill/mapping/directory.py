"""Which OCLC symbol a NACSIS-ILL participant has, and back.

NACSIS names libraries by participant code (``FA012345``) and holding code; OCLC by symbol
(``PIT``). The GIF link has to say the OCLC symbol on the wire (OCLC refuses a request without
the borrower's symbol) and staff want their own codes back on the record, so the mapping runs
both ways and must be one-to-one: a code or symbol listed twice would make one direction
ambiguous, and the directory refuses it.

The directory is a CSV file kept by the library, one library per row::

    nacsis,oclc,name
    FA012345,JPTKU,Example University Library
    FA099999,PIT

The header row is required (it is how a file with the columns swapped is caught); ``name`` is
optional and, when given, travels as the institution's name beside its symbol. Symbols are used
exactly as written, so a peer that wants authority prefixes gets them by writing ``OCLC:PIT``.

A code the directory does not list, or no directory at all, passes through unchanged: a
library that already writes OCLC symbols in HMLISO needs no directory, and a missing entry is
visible on the wire rather than silently dropped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from isoill.errors import IsoillError
from isoill.mapping.messages import say

__all__ = ["Directory", "DirectoryError", "Entry"]

_COLUMNS = ("nacsis", "oclc", "name")


class DirectoryError(IsoillError, ValueError):
    """A directory that cannot be used. ``reasons`` names every bad line and why."""


@dataclass(frozen=True)
class Entry:
    """One library: its NACSIS code, its OCLC symbol and, optionally, its name."""

    nacsis: str
    oclc: str
    name: str | None = None


class Directory:
    """NACSIS code <-> OCLC symbol, one-to-one."""

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._by_nacsis: dict[str, Entry] = {}
        self._by_oclc: dict[str, Entry] = {}
        self._where: dict[Entry, str] = {}
        problems: list[str] = []
        for entry in entries:
            problems.extend(self._add(entry, f"{entry.nacsis},{entry.oclc}"))
        if problems:
            raise DirectoryError(problems)

    def _add(self, entry: Entry, where: str) -> list[str]:
        problems: list[str] = []
        if entry.nacsis in self._by_nacsis:
            first = self._where[self._by_nacsis[entry.nacsis]]
            problems.append(say("dir-nacsis-twice", where=where, code=entry.nacsis, first=first))
        if entry.oclc in self._by_oclc:
            other = self._by_oclc[entry.oclc]
            also = self._where[other]
            problems.append(
                say(
                    "dir-oclc-twice",
                    where=where,
                    symbol=entry.oclc,
                    other=also,
                    nacsis=other.nacsis,
                )
            )
        if not problems:
            self._by_nacsis[entry.nacsis] = entry
            self._by_oclc[entry.oclc] = entry
            self._where[entry] = where
        return problems

    # --- reading ---------------------------------------------------------------------------

    @classmethod
    def from_csv(cls, text: str) -> Directory:
        """Read the CSV text; every bad row is reported, by line number."""
        rows = csv.reader(io.StringIO(text, newline=""))
        directory = cls()
        problems: list[str] = []
        header_seen = False
        width = 0
        for row in rows:
            line = rows.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if not header_seen:
                header_seen = True
                names = tuple(cell.lower() for cell in cells)
                if names not in (_COLUMNS[:2], _COLUMNS):
                    problems.append(say("dir-header", line=line, found=repr(",".join(cells))))
                    break
                width = len(names)
                continue
            if not 2 <= len(cells) <= width:
                key = "dir-columns-2" if width == 2 else "dir-columns-3"
                problems.append(say(key, line=line, found=len(cells)))
                continue
            nacsis, oclc = cells[0], cells[1]
            name = cells[2] if len(cells) == 3 and cells[2] else None
            bad = [
                say("dir-empty-code", line=line, column=column)
                for column, value in (("NACSIS", nacsis), ("OCLC", oclc))
                if not value
            ] + [
                say("dir-space", line=line, column=column, value=repr(value))
                for column, value in (("NACSIS", nacsis), ("OCLC", oclc))
                if any(char.isspace() for char in value)
            ]
            if bad:
                problems.extend(bad)
                continue
            problems.extend(directory._add(Entry(nacsis, oclc, name), say("line", line=line)))
        if not header_seen:
            problems.append(say("dir-empty"))
        if problems:
            raise DirectoryError(problems)
        return directory

    @classmethod
    def load(cls, path: str | Path) -> Directory:
        """Read a CSV file (UTF-8, with or without a byte-order mark)."""
        return cls.from_csv(Path(path).read_text(encoding="utf-8-sig"))

    # --- looking up ------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._by_nacsis)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._by_nacsis.values())

    def by_nacsis(self, code: str) -> Entry | None:
        return self._by_nacsis.get(code)

    def by_oclc(self, symbol: str) -> Entry | None:
        return self._by_oclc.get(symbol)

    def oclc_symbol(self, code: str) -> str:
        """The OCLC symbol for a NACSIS code; an unlisted code is its own symbol."""
        entry = self._by_nacsis.get(code)
        return code if entry is None else entry.oclc

    def nacsis_code(self, symbol: str) -> str:
        """The NACSIS code for an OCLC symbol; an unlisted symbol is its own code."""
        entry = self._by_oclc.get(symbol)
        return symbol if entry is None else entry.nacsis


def oclc_symbol(directory: Directory | None, code: str) -> str:
    """:meth:`Directory.oclc_symbol`, passing ``code`` through when there is no directory."""
    return code if directory is None else directory.oclc_symbol(code)


def nacsis_code(directory: Directory | None, symbol: str) -> str:
    """:meth:`Directory.nacsis_code`, passing ``symbol`` through when there is no directory."""
    return symbol if directory is None else directory.nacsis_code(symbol)
