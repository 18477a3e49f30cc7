"""The CALIS centre's holdings table (馆藏址): which libraries hold a title, for routing.

In CALIS central mode the centre sends each reader's request "according to the holdings
location" to a supplying library (ill-systems.md §3.2). The real centre asks the union catalogue
over Z39.50; a gateway without one is given the same answer as a CSV file that staff keep::

    issn,isbn,title,library
    0264-1615,,,CALIS:THU;CALIS:PKU
    ,7-301-04815-5,,CALIS:PKU
    ,,计算机网络,CALIS:FDU

One row per holding (or several libraries in one cell, separated by ``;``); any of issn, isbn
and title may be empty but not all three; columns may come in any order and others are
ignored, so a spreadsheet export with a remarks column still loads.

Keys are compared normalised, because the table and the reader type the same number or title
differently: an ISSN with or without its hyphen, an ISBN-10 and the ISBN-13 of the same book,
a title in full-width characters, another case or other punctuation. A bad table is refused
whole with the line that is wrong: a table that loads half its rows would route requests to
the wrong libraries without anyone noticing.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from isoill.errors import IsoillError
from isoill.mapping.reader_form import ReaderForm, isbn10_to_13, normalise_isbn, normalise_issn

__all__ = ["COLUMNS", "Holding", "Holdings", "HoldingsError", "isbn_key", "issn_key", "title_key"]

#: The columns the table is read by; ``library`` and at least one key column must be there.
COLUMNS = ("issn", "isbn", "title", "library")
_KEY_COLUMNS = COLUMNS[:3]


class HoldingsError(IsoillError, ValueError):
    """A holdings table that cannot be used; the message names the line."""


@dataclass(frozen=True)
class Holding:
    """One library holding one title, as a row (or a row's cell) of the table says; keys are
    normalised, None where the row gave none."""

    line: int
    library: str
    issn: str | None = None
    isbn: str | None = None
    title: str | None = None


def issn_key(text: str) -> str | None:
    """``NNNN-NNNC`` for an ISSN, None for anything that is not one."""
    if not text.strip():
        return None
    try:
        return normalise_issn(text)
    except ValueError:
        return None


def isbn_key(text: str) -> str | None:
    """The ISBN-13 of an ISBN-10 or ISBN-13, so that both spellings of a book meet; None for
    anything that is not one."""
    if not text.strip():
        return None
    try:
        isbn = normalise_isbn(text)
    except ValueError:
        return None
    return isbn10_to_13(isbn) if len(isbn) == 10 else isbn


_NOT_WORD = re.compile(r"[\W_]+")


def title_key(text: str) -> str | None:
    """A title as compared: NFKC (full-width letters and digits as ASCII), case folded,
    punctuation and runs of spaces as one space. None when nothing is left."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    key = " ".join(_NOT_WORD.sub(" ", folded).split())
    return key or None


class Holdings:
    """The table, indexed by each key. :meth:`lookup` answers in file order."""

    def __init__(self, holdings: Iterable[Holding]) -> None:
        self.holdings = tuple(holdings)
        self._by: dict[str, dict[str, list[Holding]]] = {k: {} for k in _KEY_COLUMNS}
        for holding in self.holdings:
            for column in _KEY_COLUMNS:
                key = getattr(holding, column)
                if key is not None:
                    self._by[column].setdefault(key, []).append(holding)

    def __len__(self) -> int:
        return len(self.holdings)

    @classmethod
    def load(cls, path: str | Path) -> Holdings:
        """The table in the UTF-8 file at ``path`` (a byte-order mark, as spreadsheet programs
        write, is allowed)."""
        try:
            text = Path(path).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise HoldingsError(
                f"{path}: not UTF-8 text ({err.reason} at byte {err.start})"
            ) from None
        try:
            return cls.from_csv(text)
        except HoldingsError as err:
            raise HoldingsError(f"{path}: {err}") from None

    @classmethod
    def from_csv(cls, text: str) -> Holdings:
        """The table in CSV ``text``; raises :class:`HoldingsError` naming the first bad line."""
        reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
        try:
            header = next(reader, None)
            while header is not None and not any(cell.strip() for cell in header):
                header = next(reader, None)
            if header is None:
                raise HoldingsError(
                    "line 1: the table is empty (want a header issn,isbn,title,library)"
                )
            columns = [cell.strip().lower() for cell in header]
            where = f"line {reader.line_num}"
            if "library" not in columns:
                raise HoldingsError(f"{where}: the header has no library column")
            if not any(k in columns for k in _KEY_COLUMNS):
                raise HoldingsError(
                    f"{where}: the header has none of the columns issn, isbn, title"
                )
            duplicated = sorted({c for c in columns if c in COLUMNS and columns.count(c) > 1})
            if duplicated:
                raise HoldingsError(f"{where}: the header repeats {', '.join(duplicated)}")
            index = {c: columns.index(c) for c in COLUMNS if c in columns}
            holdings: list[Holding] = []
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue
                holdings.extend(_row(row, index, reader.line_num))
        except csv.Error as err:
            raise HoldingsError(f"line {reader.line_num}: {err}") from None
        return cls(holdings)

    def lookup(self, form: ReaderForm) -> tuple[str, ...]:
        """The libraries holding what ``form`` asks for: those with its ISSN first, then its
        ISBN, then its title exactly (normalised), each in file order, every library once
        (compared case-insensitively, as library symbols are)."""
        found: list[Holding] = []
        for column, key in (
            ("issn", issn_key(form.issn)),
            ("isbn", isbn_key(form.isbn)),
            ("title", title_key(form.title)),
        ):
            if key is not None:
                found.extend(self._by[column].get(key, ()))
        seen: set[str] = set()
        libraries: list[str] = []
        for holding in found:
            if holding.library.casefold() not in seen:
                seen.add(holding.library.casefold())
                libraries.append(holding.library)
        return tuple(libraries)


def _row(row: list[str], index: dict[str, int], line: int) -> list[Holding]:
    def cell(column: str) -> str:
        position = index.get(column)
        return row[position].strip() if position is not None and position < len(row) else ""

    issn_text, isbn_text, title_text = cell("issn"), cell("isbn"), cell("title")
    if not (issn_text or isbn_text or title_text):
        raise HoldingsError(f"line {line}: no issn, isbn or title: which title is held?")
    issn = issn_key(issn_text)
    if issn_text and issn is None:
        raise HoldingsError(f"line {line}: issn {issn_text} is not an ISSN")
    isbn = isbn_key(isbn_text)
    if isbn_text and isbn is None:
        raise HoldingsError(f"line {line}: isbn {isbn_text} is not an ISBN")
    title = title_key(title_text)
    if title_text and title is None and issn is None and isbn is None:
        raise HoldingsError(f"line {line}: the title {title_text!r} has no letters to match")
    libraries = [part.strip() for part in cell("library").split(";") if part.strip()]
    if not libraries:
        raise HoldingsError(f"line {line}: no library: who holds it?")
    return [Holding(line, library, issn, isbn, title) for library in libraries]
