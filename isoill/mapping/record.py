"""A NACSIS-ILL record, as staff see it and as the OCLC link reads and writes it.

NACSIS-ILL is record-based: one ILL record per request, shared by requester and responder,
moved from state to state by commands, every step written to its history. The record's fields
keep their NACSIS tags (``BIBNT``, ``CMMNT``, ``SPVIA`` ...) and their text exactly as typed:
staff and NII's manuals speak in tags, and the mapping must not lose what a librarian wrote.

Two textual forms, both lossless:

* JSON: an object keyed by tag with string values; the repeated groups are lists of objects
  under ``HOLDINGS`` (HMLID, HMLNM, LOC ...) and ``FEES`` (ITEM, QNT, UPRCE, CHRGE), and the
  history lines a list of strings under ``HISTORY``. ``SRVCE`` is ``COPY`` or ``LOAN``.
* lines: one ``TAG: value`` per line in the order NACSIS displays them, group fields numbered
  (``HMLID.1``, ``QNT.2``), history as ``HISTORY.n``.
"""

from __future__ import annotations

import dataclasses
import secrets
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from isoill.errors import IsoillError
from isoill.machine.events import State
from isoill.mapping.messages import Text, say


class RecordError(IsoillError, ValueError):
    """A record that cannot be read or does not follow NACSIS-ILL's rules. ``reasons`` lists
    every problem found, each naming the field."""


class Service(StrEnum):
    """SRVCE: what is asked for."""

    COPY = "COPY"
    LOAN = "LOAN"


class Stat(StrEnum):
    """STAT, the NACSIS-ILL record state, as NACSIS writes it (the names are this project's
    English for them). The same value means "your turn" to one side and "waiting" to the
    other."""

    PREPARING = "準備中"
    UNPROCESSED = "未処理"
    IN_PROCESS = "処理中"
    NEW_INQUIRY = "新着照会"
    INQUIRY = "照会"
    AWAITING_ANSWER = "回答待"
    SHIPPED = "発送"
    ARRIVAL_PROCESSING = "到着処理中"
    CLAIM_PENDING = "クレーム未処理"
    CLAIM_ANSWER_PENDING = "クレーム回答待"
    CONFIRMED = "確認"
    BORROWED = "借用中"
    RENEWAL_REQUESTED = "更新請求"
    RETURNED = "返送"
    RETURN_PROCESSING = "返却処理中"
    RETURN_CLAIM_PENDING = "返却クレーム未処理"
    RETURN_CONFIRMED = "返却確認"
    CANCEL = "CANCEL"
    EXTERNAL_REQUEST = "外部依頼中"


class Command(StrEnum):
    """The NACSIS-ILL commands (ill-systems.md §1.4)."""

    ORDER = "ORDER"
    RECEIVE = "RECEIVE"
    ANSWER = "ANSWER"
    FORWARD = "FORWARD"
    CANCEL = "CANCEL"
    OK = "OK"
    BORROW = "BORROW"
    SENDBACK = "SENDBACK"
    RENEW = "RENEW"
    CLAIM = "CLAIM"
    SEND = "SEND"
    INQUIRE = "INQUIRE"
    PARDON = "PARDON"
    CALLBACK = "CALLBACK"
    RETRY = "RETRY"
    COPY = "COPY"


#: How NII numbers the records of the OCLC link: "LA" and eight digits.
ID_PREFIX = "LA"


def new_id() -> str:
    """An ID in NACSIS's style for a record NACSIS has not numbered yet. Random, not counted:
    the ISO transaction id is built from it (N-11), and two desks ordering at once must not
    share one."""
    return f"{ID_PREFIX}{secrets.randbelow(10**8):08d}"


def read_isostat(text: str) -> State:
    """ISOSTAT as NII writes it; "RENEW/PENDING" is its spelling of RENEW-PENDING."""
    return State(text.strip().upper().replace("/", "-"))


@dataclass(frozen=True)
class Holding:
    """One holding group (at most five per record): a candidate lender."""

    HMLID: str
    HMLNM: str | None = None
    LOC: str | None = None
    VOL: str | None = None
    CLN: str | None = None
    RGTN: str | None = None
    BVRFY: str | None = None
    HVRFY: str | None = None


@dataclass(frozen=True)
class FeeLine:
    """One fee line (at most ten): form or size, quantity, unit price, subtotal."""

    ITEM: str | None = None
    QNT: str | None = None
    UPRCE: str | None = None
    CHRGE: str | None = None

    def __post_init__(self) -> None:
        if all(v is None for v in dataclasses.astuple(self)):
            raise ValueError("a fee line with no field says nothing")


@dataclass(frozen=True)
class Record:
    """One NACSIS-ILL record. Every field is optional text, as in NACSIS; what a command
    requires is checked by the function that carries the command out."""

    # Identification and routing.
    ID: str | None = None
    STAT: Stat | None = None
    ISOSTAT: State | None = None
    SRVCE: Service | None = None
    OMLID: str | None = None
    OMLIDISO: str | None = None
    AMLID: str | None = None
    AMLIDISO: str | None = None
    HMLISO: str | None = None
    ISOGID: str | None = None
    ISOID: str | None = None
    ONO: str | None = None
    ANO: str | None = None
    # Request content.
    ACCT: str | None = None
    TYPE: str | None = None
    BIBID: str | None = None
    BIBNT: str | None = None
    STDNO: str | None = None
    VLNO: str | None = None
    PAGE: str | None = None
    YEAR: str | None = None
    ARTCL: str | None = None
    CLNT: str | None = None
    CLNTP: str | None = None
    ODATE: str | None = None
    CMMNT: str | None = None
    OSTAF: str | None = None
    OADRS: str | None = None
    OLDF: str | None = None
    OLDAF: str | None = None
    SPVIA: str | None = None
    PRMT: str | None = None
    # Supply and fees.
    FEE: str | None = None
    POSTG: str | None = None
    SUM: str | None = None
    CCODE: str | None = None
    SDATE: str | None = None
    DDATE: str | None = None
    ADATE: str | None = None
    RDATE: str | None = None
    BDATE: str | None = None
    SENDCMNT: str | None = None
    # Repeated groups and the history.
    HOLDINGS: tuple[Holding, ...] = ()
    FEES: tuple[FeeLine, ...] = ()
    HISTORY: tuple[str, ...] = field(default=())

    def replace(self, **changes: Any) -> Record:
        return dataclasses.replace(self, **changes)

    def with_history(self, *lines: str) -> Record:
        return dataclasses.replace(self, HISTORY=(*self.HISTORY, *lines))

    # --- JSON --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in _SCALARS:
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value)
        if self.HOLDINGS:
            out["HOLDINGS"] = [_group_json(h) for h in self.HOLDINGS]
        if self.FEES:
            out["FEES"] = [_group_json(f) for f in self.FEES]
        if self.HISTORY:
            out["HISTORY"] = list(self.HISTORY)
        return out

    @classmethod
    def from_json(cls, value: Any) -> Record:
        if not isinstance(value, dict):
            raise RecordError([say("record-not-object", type=type(value).__name__)])
        problems: list[str] = []
        values: dict[str, Any] = {}
        for key, raw in value.items():
            if key in ("HOLDINGS", "FEES"):
                group = Holding if key == "HOLDINGS" else FeeLine
                values[key] = tuple(_group_from(group, key, i, g, problems) for i, g in _items(raw))
            elif key == "HISTORY":
                if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
                    problems.append(say("record-history"))
                else:
                    values[key] = tuple(raw)
            elif key in _SCALARS:
                if not isinstance(raw, str):
                    problems.append(say("record-not-string", key=key, type=type(raw).__name__))
                else:
                    values[key] = _scalar(key, raw, problems)
            else:
                problems.append(say("record-unknown-field", key=key))
        if problems:
            raise RecordError(problems)
        return cls(**values)

    # --- lines -------------------------------------------------------------------------

    def to_lines(self) -> str:
        out = []
        for name in _SCALARS:
            value = getattr(self, name)
            if value is not None:
                out.append(f"{name}: {_escape(str(value))}")
        groups: tuple[tuple[Holding | FeeLine, ...], ...] = (self.HOLDINGS, self.FEES)
        for numbered in groups:
            for n, group in enumerate(numbered, 1):
                for key, value in _group_json(group).items():
                    out.append(f"{key}.{n}: {_escape(value)}")
        for n, line in enumerate(self.HISTORY, 1):
            out.append(f"HISTORY.{n}: {_escape(line)}")
        return "\n".join(out) + "\n"

    @classmethod
    def from_lines(cls, text: str) -> Record:
        """Read the line form. Group fields are numbered from 1; history lines keep their
        numbers' order."""
        plain: dict[str, Any] = {}
        groups: dict[str, dict[int, dict[str, str]]] = {"HOLDINGS": {}, "FEES": {}}
        history: dict[int, str] = {}
        problems: list[str] = []
        # Only line feeds end a line: splitlines() would also split at the control
        # characters a peer's text may hold.
        for number, line in enumerate(text.split("\n"), 1):
            line = line.removesuffix("\r")
            if not line.strip():
                continue
            tag, sep, value = line.partition(": ")
            if not sep:
                tag, sep, value = line.partition(":")
            if not sep:
                problems.append(f"line {number}: 'TAG: value' expected, got {line!r}")
                continue
            value = _unescape(value)
            name, dot, index = tag.strip().partition(".")
            if dot:
                if not index.isdigit() or int(index) < 1:
                    problems.append(f"line {number}: {tag} needs a group number from 1")
                    continue
                if name == "HISTORY":
                    history[int(index)] = value
                elif name in _GROUP_OF:
                    groups[_GROUP_OF[name]].setdefault(int(index), {})[name] = value
                else:
                    problems.append(f"line {number}: {name} is not a repeated-group field")
            else:
                plain[name] = value
        if problems:
            raise RecordError(problems)
        for key, numbered in groups.items():
            if numbered:
                plain[key] = [numbered[i] for i in sorted(numbered)]
        if history:
            plain["HISTORY"] = [history[i] for i in sorted(history)]
        return cls.from_json(plain)


_SCALARS = [
    f.name for f in dataclasses.fields(Record) if f.name not in ("HOLDINGS", "FEES", "HISTORY")
]
_GROUP_OF = {f.name: "HOLDINGS" for f in dataclasses.fields(Holding)} | {
    f.name: "FEES" for f in dataclasses.fields(FeeLine)
}


def _group_json(group: Holding | FeeLine) -> dict[str, str]:
    return {k: v for k, v in dataclasses.asdict(group).items() if v is not None}


def _items(raw: Any) -> list[tuple[int, Any]]:
    return list(enumerate(raw, 1)) if isinstance(raw, list) else [(1, raw)]


def _group_from(
    group: type[Holding] | type[FeeLine], key: str, index: int, raw: Any, problems: list[str]
) -> Any:
    names = {f.name for f in dataclasses.fields(group)}
    if not isinstance(raw, dict):
        problems.append(
            say("group-not-object", key=key, index=index, names=", ".join(sorted(names)))
        )
        return None
    unknown = set(raw) - names
    if unknown:
        problems.append(
            say("group-unknown", key=key, index=index, names=", ".join(sorted(unknown)))
        )
        return None
    if not all(isinstance(v, str) for v in raw.values()):
        problems.append(say("group-strings", key=key, index=index))
        return None
    if group is FeeLine and not raw:
        problems.append(say("group-empty-fee", key=key, index=index))
        return None
    if group is Holding and "HMLID" not in raw:
        problems.append(say("group-no-hmlid", index=index))
        return None
    return group(**raw)


def _scalar(key: str, raw: str, problems: list[str]) -> Any:
    try:
        if key == "STAT":
            return Stat(raw)
        if key == "ISOSTAT":
            return read_isostat(raw)
        if key == "SRVCE":
            return Service(raw.strip().upper())
    except ValueError:
        allowed = {"STAT": Stat, "ISOSTAT": State, "SRVCE": Service}[key]
        names = ", ".join(m.value for m in allowed)
        problems.append(say("not-one-of", key=key, raw=repr(raw), allowed=names))
        return None
    return raw


def _escape(value: str) -> str:
    """A value on one line: backslash, line feed and carriage return escaped, so that a
    multi-line OADRS survives the line form."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append({"n": "\n", "r": "\r"}.get(value[i + 1], value[i + 1]))
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


# --- the single-byte rule --------------------------------------------------------------------

#: Fields the OCLC link transfers. Of these only TYPE and SPVIA may hold Japanese; the link
#: rejects any other double-byte character ("認められない文字種がありました").
TRANSFERRED = (
    "TYPE", "SPVIA", "BIBNT", "STDNO", "VLNO", "PAGE", "YEAR", "ARTCL", "CLNT", "CLNTP",
    "CMMNT", "OADRS", "OSTAF", "HMLISO", "SUM", "CCODE", "SDATE", "DDATE",
)  # fmt: skip
MAY_BE_JAPANESE = ("TYPE", "SPVIA")


def is_single_byte(char: str) -> bool:
    """One byte in Shift_JIS (ASCII and half-width katakana), as NACSIS counts bytes."""
    try:
        return len(char.encode("shift_jis")) == 1
    except UnicodeEncodeError:
        return False


def normalised(record: Record) -> tuple[Record, list[str]]:
    """``record`` with full-width typing in the transferred fields (but TYPE and SPVIA, which
    may hold Japanese) made single-byte by NFKC, and a note per field it changed. Staff type
    ``MAX-COST=USD35.50`` in full-width letters in a Japanese input mode, and mean what the
    link wants. Character by character, and only where NFKC
    gives single-byte text: half-width katakana (single-byte already) would otherwise turn
    double-byte, and kana or kanji stay for :func:`single_byte_problems` to refuse."""
    changes: dict[str, str] = {}
    notes: list[str] = []
    for name in TRANSFERRED:
        value = getattr(record, name)
        if value is None or name in MAY_BE_JAPANESE:
            continue
        fixed = "".join(_narrow(char) for char in str(value))
        if fixed != value:
            changes[name] = fixed
            notes.append(say("nfkc-note", field=name, fixed=repr(fixed)))
    return (record.replace(**changes) if changes else record), notes


def _narrow(char: str) -> str:
    if is_single_byte(char):
        return char
    fixed = unicodedata.normalize("NFKC", char)
    return fixed if fixed and all(map(is_single_byte, fixed)) else char


def single_byte_problems(record: Record) -> list[str]:
    """Every transferred field (but TYPE and SPVIA) with a double-byte character, naming the
    field, the character and its position, and the single-byte form when NFKC gives one
    (for a record not passed through :func:`normalised` first)."""
    problems: list[str] = []
    for name in TRANSFERRED:
        value = getattr(record, name)
        if value is None or name in MAY_BE_JAPANESE:
            continue
        for position, char in enumerate(str(value), 1):
            if not is_single_byte(char):
                fixed = unicodedata.normalize("NFKC", char)
                hint = (
                    say("single-byte-hint", fixed=repr(fixed))
                    if all(map(is_single_byte, fixed))
                    else Text("", "")
                )
                problems.append(
                    say(
                        "not-single-byte", field=name, char=repr(char), position=position, hint=hint
                    )
                )
                break
    return problems
