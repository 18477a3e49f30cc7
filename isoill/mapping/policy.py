"""Lenders' lending policies, as a GIF library keeps them for the checks before RECEIVE.

Before RECEIVE staff compare the lender's charge with its lending policy (ILL-Copy-Charge,
ILL-Loan-Charge), check it accepts IFM (ILL-Accept, ILL-Bill), and e-mail it at ILL-Commun1 or
ILL-Commun2 when something is wrong (guide 2.5-2.6). Those fields are read by a person from the
lender's published policy; this table is what that person writes down, one lender a line.

CSV with this header (columns in any order, no others)::

    symbol,copy_charge,loan_charge,currency,ifm,free_copy,email
    PIT,15.00,25.00,USD,yes,no,ill@library.example.edu
    FRE,,20.00,USD,yes,yes,ill@free.example.edu; docdel@free.example.edu

* ``symbol``: the lender's OCLC symbol (``OCLC:`` prefix allowed, case ignored); unique.
* ``copy_charge`` / ``loan_charge``: the charge per item (ILL-Copy-Charge / ILL-Loan-Charge),
  digits with an optional decimal point; blank when the policy does not say.
* ``currency``: ISO 4217 code of both charges; required when a charge is given.
* ``ifm``: ``yes``/``no``: the lender accepts IFM (ILL-Accept / ILL-Bill).
* ``free_copy``: ``yes``/``no``: the policy says copies are supplied free; ``copy_charge`` is
  then blank or zero. This is what lets a copy with a blank or zero amount be RECEIVEd without
  ``PAYMENT=IFM`` (guide 2.6 (6)).
* ``email``: ILL-Commun1, optionally ``;`` and ILL-Commun2.

Blank lines and lines starting with ``#`` are skipped. Every problem is reported with its line
number, all at once.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from isoill.errors import IsoillError
from isoill.mapping.cmmnt import CURRENCIES
from isoill.mapping.messages import joined, prefixed, say
from isoill.mapping.record import Service

COLUMNS = ("symbol", "copy_charge", "loan_charge", "currency", "ifm", "free_copy", "email")

_YES = {"yes": True, "y": True, "no": False, "n": False}
_CHARGE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_EMAIL = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+")


class PolicyError(IsoillError, ValueError):
    """A policy table that cannot be used; ``reasons`` names each line and column."""


def normal_symbol(symbol: str) -> str:
    """``oclc:pit`` and ``PIT`` are the same lender."""
    text = symbol.strip().upper()
    return text.removeprefix("OCLC:").strip()


@dataclass(frozen=True)
class Policy:
    """One lender's policy, as far as the checks before RECEIVE need it."""

    symbol: str
    copy_charge: Decimal | None = None
    loan_charge: Decimal | None = None
    currency: str | None = None
    ifm: bool = True
    free_copy: bool = False
    emails: tuple[str, ...] = ()

    def charge(self, service: Service) -> Decimal | None:
        """The charge the policy states for this service; a free copy costs 0."""
        if service is Service.COPY:
            return Decimal(0) if self.free_copy else self.copy_charge
        return self.loan_charge

    def is_free(self, service: Service) -> bool:
        """Whether the policy confirms the item costs nothing (guide 2.6 (6))."""
        charge = self.charge(service)
        return charge is not None and charge == 0

    @property
    def email(self) -> str | None:
        return self.emails[0] if self.emails else None


@dataclass(frozen=True)
class Policies:
    """The table, by normalised symbol."""

    by_symbol: Mapping[str, Policy]

    def lookup(self, symbol: str | None) -> Policy | None:
        if not symbol:
            return None
        return self.by_symbol.get(normal_symbol(symbol))

    def __len__(self) -> int:
        return len(self.by_symbol)


def read_policies(text: str) -> Policies:
    """The table from CSV text; PolicyError lists every problem."""
    rows = list(csv.reader(io.StringIO(text)))
    numbered = [
        (n, row)
        for n, row in enumerate(rows, 1)
        if any(cell.strip() for cell in row) and not row[0].lstrip().startswith("#")
    ]
    if not numbered:
        raise PolicyError([say("policy-no-header", columns=",".join(COLUMNS))])
    header_line, header = numbered[0]
    names = [cell.strip().lower() for cell in header]
    problems: list[str] = []
    missing = [c for c in COLUMNS if c not in names]
    unknown = [c for c in names if c not in COLUMNS]
    doubled = sorted({c for c in names if names.count(c) > 1})
    if missing or unknown or doubled:
        found = {"missing": missing, "unknown": unknown, "repeated": doubled}
        parts = joined(
            (say(f"header-{kind}", columns=", ".join(cs)) for kind, cs in found.items() if cs),
            "; ",
            "、",
        )
        wrong = say("policy-header", parts=parts, columns=",".join(COLUMNS))
        raise PolicyError([say("at-line", line=header_line, problem=wrong)])
    policies: dict[str, Policy] = {}
    first_line: dict[str, int] = {}
    for number, row in numbered[1:]:
        if len(row) != len(names):
            cells_wrong = say("policy-cells", cells=len(row), columns=len(names))
            problems.append(say("at-line", line=number, problem=cells_wrong))
            continue
        cells = {name: cell.strip() for name, cell in zip(names, row, strict=True)}
        policy = _policy(number, cells, problems)
        if policy is None:
            continue
        if policy.symbol in policies:
            twice = say(
                "policy-symbol-twice", symbol=policy.symbol, first=first_line[policy.symbol]
            )
            problems.append(say("at-line", line=number, problem=twice))
            continue
        policies[policy.symbol] = policy
        first_line[policy.symbol] = number
    if problems:
        raise PolicyError(problems)
    return Policies(policies)


def load_policies(path: str | Path) -> Policies:
    return read_policies(Path(path).read_text(encoding="utf-8-sig"))


class PolicyFile:
    """A policy table kept in a file that staff edit while the gateway runs: read again
    whenever the file changes (its modification time or size), so a lender added to it
    counts at the next RECEIVE without a restart. A file that cannot be read raises, rather
    than leaving the checks on a table staff have replaced."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._table = Policies({})

    def current(self) -> Policies:
        """The table as the file now says; PolicyError (or OSError) when it cannot be read."""
        info = self.path.stat()
        seen = (info.st_mtime_ns, info.st_size)
        if seen != self._seen:
            self._table = load_policies(self.path)
            self._seen = seen
        return self._table


def _policy(number: int, cells: dict[str, str], problems: list[str]) -> Policy | None:
    before = len(problems)

    def at_line(why: str) -> None:
        problems.append(say("at-line", line=number, problem=why))

    def problem(column: str, key: str) -> None:
        at_line(prefixed(f"{column} {cells[column]!r}", say(key)))

    symbol = normal_symbol(cells["symbol"])
    if not symbol:
        at_line(say("policy-no-symbol"))
    elif not symbol.isalnum():
        problem("symbol", "policy-symbol-chars")
    charges: dict[str, Decimal | None] = {}
    for column in ("copy_charge", "loan_charge"):
        text = cells[column]
        charges[column] = None
        if text and not _CHARGE.fullmatch(text):
            problem(column, "policy-amount")
        elif text:
            charges[column] = Decimal(text)
    currency = cells["currency"].upper() or None
    if currency is not None and currency not in CURRENCIES:
        problem("currency", "policy-currency")
    if currency is None and any(c for c in charges.values() if c):
        at_line(say("policy-no-currency"))
    flags: dict[str, bool] = {}
    for column in ("ifm", "free_copy"):
        flag = _YES.get(cells[column].lower())
        if flag is None:
            problem(column, "policy-yes-no")
        flags[column] = bool(flag)
    if flags["free_copy"] and charges["copy_charge"]:
        problem("copy_charge", "policy-free-copy")
    emails = tuple(e.strip() for e in cells["email"].split(";") if e.strip())
    for email in emails:
        if not _EMAIL.fullmatch(email):
            at_line(say("policy-email", email=repr(email)))
    if len(problems) > before:
        return None
    return Policy(
        symbol=symbol,
        copy_charge=charges["copy_charge"],
        loan_charge=charges["loan_charge"],
        currency=currency,
        ifm=flags["ifm"],
        free_copy=flags["free_copy"],
        emails=emails,
    )
