"""The key=value tokens NACSIS-ILL staff write in CMMNT for the OCLC (GIF) link.

On the link, CMMNT carries the data NACSIS has no field for: ``MAX-COST=USD35.50 / ISO-CC=US:CCG
/ PAYMENT=IFM / NOTE=ARIEL=192.0.2.1`` going out, ``COND=``, ``UNFILL=``, ``DUE-DATE=`` ... coming
back. Staff type these by hand, so reading is tolerant of how people type (full-width
characters, lower case, spaces around ``=`` and ``/``, several tokens on a line, a separator
left out, free text before and after) and strict about values, because a wrong value costs
money or a request: a currency must be ISO 4217, an amount digits, copyright compliance CCG or
CCL. Every problem names the token and says why.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from isoill.apdu.enums import ASN1Enum, Conditions, ReasonUnfilled
from isoill.errors import IsoillError
from isoill.mapping.messages import prefixed, reason_of, say

#: ISO 4217 alphabetic codes in use (and the funds and precious-metal codes).
# fmt: off
CURRENCIES = frozenset([
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD",
    "BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP",
    "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU",
    "CRC", "CUC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB",
    "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD",
    "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY",
    "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR",
    "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD",
    "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB",
    "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD",
    "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD",
    "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES",
    "VND", "VUV", "WST", "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG",
    "XDR", "XOF", "XPD", "XPF", "XPT", "XSU", "XTS", "XUA", "XXX", "YER", "ZAR", "ZMW",
    "ZWG", "ZWL",
])
# fmt: on

KEYS = (
    "MAX-COST",
    "ISO-CC",
    "PAYMENT",
    "NOTE",
    "NEED-BEFORE",
    "EXPIRY-DATE",
    "OCLC-ILLNUM",
    "COND",
    "REPLY",
    "UNFILL",
    "RETRY",
    "CODE",
    "DUE-DATE",
)
_KEY = re.compile(
    r"(?<![A-Za-z0-9-])(" + "|".join(map(re.escape, KEYS)) + r")\s*=\s*", re.IGNORECASE
)
# A token ends at " / " (spaces on either side), at a line break, or where the next key starts.
_SEPARATOR = re.compile(r"\s+/\s*|\s*/\s+|\s*\n\s*")
_AMOUNT = re.compile(r"([A-Za-z]{3})\s*([0-9]+(?:\.[0-9]+)?)")
_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


class CommentError(IsoillError, ValueError):
    pass


@dataclass(frozen=True)
class MaxCost:
    currency: str
    amount: Decimal

    def __str__(self) -> str:
        return f"{self.currency}{self.amount}"


@dataclass(frozen=True)
class Comment:
    """What a CMMNT says. ``notes`` are the NOTE= texts other than the Ariel address;
    ``free_text`` what stands outside any token, kept so that nothing a person wrote is lost."""

    max_cost: MaxCost | None = None
    copyright_compliance: str | None = None  # "CCG" or "CCL" (written ISO-CC=US:CCG)
    payment: str | None = None  # "IFM"
    notes: tuple[str, ...] = ()
    ariel: str | None = None
    need_before: date | None = None
    expiry_date: date | None = None
    oclc_illnum: str | None = None
    condition: Conditions | None = None
    reply: date | None = None
    unfilled: ReasonUnfilled | None = None
    retry: date | None = None
    code: int | None = None
    due_date: date | None = None
    free_text: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        return write(self)


@dataclass(frozen=True)
class Reading:
    """The result of reading a CMMNT: what it says, and every problem found."""

    comment: Comment
    problems: tuple[str, ...]

    def strict(self) -> Comment:
        if self.problems:
            raise CommentError(list(self.problems))
        return self.comment


def read(text: str | None) -> Reading:
    """Read a CMMNT as staff typed it."""
    if not text:
        return Reading(Comment(), ())
    normal = unicodedata.normalize("NFKC", text)
    matches = list(_KEY.finditer(normal))
    values: dict[str, Any] = {}
    notes: list[str] = []
    free: list[str] = []
    problems: list[str] = []
    _free(normal[: matches[0].start() if matches else len(normal)], free)
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(normal)
        region = normal[match.end() : end]
        split = _SEPARATOR.search(region)
        raw = (region[: split.start()] if split else region).strip().rstrip("/").strip()
        if split:
            _free(region[split.end() :], free)
        key = match.group(1).upper()
        raw, rest = _value_and_rest(key, raw)
        _free(rest, free)
        token = f"{key}={raw}"
        try:
            _take(key, raw, values, notes)
        except ValueError as err:
            problems.append(prefixed(repr(token), reason_of(err)))
    comment = Comment(notes=tuple(notes), free_text=tuple(free), **values)
    return Reading(comment, tuple(problems))


def _value_and_rest(key: str, raw: str) -> tuple[str, str]:
    """A NOTE runs to the separator; any other value is one word (an amount may have a
    space after its currency), and what follows it is free text ("PAYMENT=IFM thanks")."""
    if key == "NOTE":
        return raw, ""
    match = _AMOUNT.match(raw) if key == "MAX-COST" else None
    if match is not None and re.match(r"[.,]\d", raw[match.end() :]):
        return raw, ""  # "USD35,50": a decimal comma, refused as a whole, not split
    if match is None:
        match = re.match(r"\S+", raw)
    if match is None:
        return raw, ""
    return match.group(0), raw[match.end() :]


def _free(text: str, out: list[str]) -> None:
    for part in _SEPARATOR.split(text):
        part = part.strip().strip("/").strip()
        if part:
            out.append(part)


def _take(key: str, raw: str, values: dict[str, Any], notes: list[str]) -> None:
    if not raw and key != "NOTE":
        raise ValueError(say("cmmnt-no-value"))
    name = _FIELD[key]
    if name in values:
        raise ValueError(say("cmmnt-twice", key=key))
    if key == "MAX-COST":
        values[name] = _max_cost(raw)
    elif key == "ISO-CC":
        values[name] = _copyright(raw)
    elif key == "PAYMENT":
        if raw.upper() != "IFM":
            raise ValueError(say("cmmnt-payment"))
        values[name] = "IFM"
    elif key == "NOTE":
        head, sep, address = raw.partition("=")
        if sep and head.strip().upper() == "ARIEL":
            if not address.strip():
                raise ValueError(say("cmmnt-no-ariel"))
            if "ariel" in values:
                raise ValueError(say("cmmnt-second-ariel"))
            values["ariel"] = address.strip()
        else:
            notes.append(raw)
    elif key == "OCLC-ILLNUM":
        if not raw.isdigit():
            raise ValueError(say("cmmnt-illnum"))
        values[name] = raw
    elif key == "COND":
        values[name] = _enum(Conditions, raw)
    elif key == "UNFILL":
        values[name] = _enum(ReasonUnfilled, raw)
    elif key == "CODE":
        if not raw.isdigit():
            raise ValueError(say("cmmnt-code"))
        number = int(raw)
        if number not in {m.value for m in ReasonUnfilled} | {m.value for m in Conditions}:
            raise ValueError(say("cmmnt-code-unknown", number=number))
        values[name] = number
    else:
        values[name] = _date(raw)


_FIELD = {
    "MAX-COST": "max_cost",
    "ISO-CC": "copyright_compliance",
    "PAYMENT": "payment",
    "NOTE": "notes",
    "NEED-BEFORE": "need_before",
    "EXPIRY-DATE": "expiry_date",
    "OCLC-ILLNUM": "oclc_illnum",
    "COND": "condition",
    "REPLY": "reply",
    "UNFILL": "unfilled",
    "RETRY": "retry",
    "CODE": "code",
    "DUE-DATE": "due_date",
}


def _max_cost(raw: str) -> MaxCost:
    match = _AMOUNT.fullmatch(raw.strip())
    if match is None:
        if "," in raw:
            raise ValueError(say("cmmnt-comma"))
        raise ValueError(say("cmmnt-amount"))
    currency, amount = match.group(1).upper(), match.group(2)
    if currency not in CURRENCIES:
        raise ValueError(say("cmmnt-currency", currency=currency))
    try:
        value = Decimal(amount)
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ValueError(say("not-amount", amount=amount)) from None
    if len(amount) > 10:
        raise ValueError(say("cmmnt-amount-long"))
    return MaxCost(currency, value)


def _copyright(raw: str) -> str:
    value = raw.strip().upper().replace(" ", "")
    if value.startswith("US:"):
        value = value[3:]
    if value not in ("CCG", "CCL"):
        raise ValueError(say("cmmnt-copyright"))
    return value


def _enum(cls: type[ASN1Enum], raw: str) -> Any:
    text = raw.strip().lower().replace("_", "-").replace(" ", "-")
    for member in cls:
        if text in (member.asn1_name.lower(), str(member.value)):
            return member
    names = ", ".join(m.asn1_name for m in cls)
    raise ValueError(say("cmmnt-enum", names=names))


def _date(raw: str) -> date:
    match = _DATE.fullmatch(raw.strip())
    if match is None:
        raise ValueError(say("cmmnt-date"))
    try:
        return date(*map(int, match.groups()))
    except ValueError as err:
        raise ValueError(say("cmmnt-not-date", why=err)) from None


def write(comment: Comment) -> str:
    """The canonical CMMNT for ``comment``: tokens in a fixed order, ``" / "`` between them,
    free text last. Reading it back gives ``comment`` again."""
    parts: list[str] = []
    for f in fields(Comment):
        value = getattr(comment, f.name)
        if f.name == "notes":
            parts.extend(f"NOTE={note}" for note in value)
        elif f.name == "ariel":
            if value is not None:
                parts.append(f"NOTE=ARIEL={value}")
        elif f.name == "free_text":
            parts.extend(value)
        elif value is not None:
            parts.append(f"{_KEY_OF[f.name]}={_text(f.name, value)}")
    return " / ".join(parts)


_KEY_OF = {name: key for key, name in _FIELD.items()}


def _text(name: str, value: Any) -> str:
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    if isinstance(value, ASN1Enum):
        return value.asn1_name
    if name == "copyright_compliance":
        return f"US:{value}"
    return str(value)
