"""What an APDU from an OCLC lender does to the Japanese requester's NACSIS-ILL record.

NACSIS-ILL staff never see the APDUs: they see the record's STAT and ISOSTAT change and a line
added to the history. Staff check that line before RECEIVE (the ``APDU=Shipped OCLC`` line must
show ``PAYMENT=IFM``, guide 2.5), so the line has to say what the lender entered, in the words
staff already read in CMMNT.

History line format (one line per incoming APDU)::

    APDU=<Type> OCLC <YYYYMMDD> <tokens>

* ``<Type>`` is the standard's APDU name in NII's spelling: ``Shipped``, ``ILL-Answer``,
  ``Recall``, ``Overdue``, ``Renew-Answer``, ``Checked-In``, ``Cancel-Reply``, ``Expired``,
  ``Message`` ...
* ``<YYYYMMDD>`` is the day the APDU arrived (``at``), not a date inside it.
* ``<tokens>`` are CMMNT tokens written by :func:`isoill.mapping.cmmnt.write` (its order, ``" / "``
  between them), so :func:`isoill.mapping.cmmnt.read` reads them back. A Shipped line starts
  with ``SUM=<currency><amount>`` from supply-details.cost: ``SUM=USD12.00``; ``SUM=12.00`` when
  the lender gave no currency; ``SUM=`` (empty) when the Shipped has no cost at all, which is
  the guide's "amount left blank" (the free-item exception). The tokens that follow:

  - ``PAYMENT=IFM`` when the lender's note says ``PAYMENT=IFM`` or an OCLC request extension
    (1.0.10161.13.2) in the APDU says paymentMethod ``IFM`` (any case);
  - ``NOTE=`` for what the APDU says that has no CMMNT key (a will-supply reason, a renewal
    granted or refused, a physical item sent for a copy ...), then the lender's own note: its
    CMMNT tokens kept as tokens, its free text as ``NOTE=``, a token the reader refused as a
    ``NOTE=not understood: ...`` quoting the problem (its ``=`` written ``:``), so nothing the
    lender wrote is lost;
  - ``OCLC-ILLNUM=`` when known: the ``oclc_illnum`` the caller passes (the gateway's
    knowledge) or the lender's note's ``OCLC-ILLNUM=`` token. The transaction-id is not used:
    on a NACSIS-originated request it is NII's own (record ID, holding library, request date),
    and OCLC's Suppliers-Reference extension (1.0.10161.13.7), where OCLC is said to return its
    number, is not decoded by isoill;
  - ``COND=``/``REPLY=``, ``UNFILL=``, ``RETRY=``, ``DUE-DATE=`` from the APDU's own fields
    (these win over the same keys in the lender's note).

  Example: ``APDU=Shipped OCLC 20261120 SUM=USD12.00 / PAYMENT=IFM / NOTE=Thank you /
  OCLC-ILLNUM=12345678 / DUE-DATE=20261215``.

STAT and ISOSTAT come from :data:`INCOMING`. This module is pure record mapping: it does not run
the protocol machine and does not check that the APDU may arrive in the record's state; a caller
that runs :func:`isoill.machine.receive` passes the machine's state as ``isoill_state``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from isoill.apdu.apdus import (
    APDU,
    CancelReply,
    CheckedIn,
    ForwardNotification,
    ILLAnswer,
    Overdue,
    RenewAnswer,
    Shipped,
)
from isoill.apdu.enums import ILLAPDUType, ILLServiceType
from isoill.apdu.types import (
    Amount,
    ConditionalResults,
    DateDue,
    EstimateResults,
    HoldPlacedResults,
    LocationsResults,
    OCLCILLRequestExtension,
    RetryResults,
    UnfilledResults,
    WillSupplyResults,
    format_iso_date,
)
from isoill.machine.events import ORIGINATOR, SERVICE_NAMES, Role, State, qualifier_of
from isoill.mapping import cmmnt
from isoill.mapping.cmmnt import Comment
from isoill.mapping.messages import prefixed, reason_of, say
from isoill.mapping.record import Record, RecordError, Service, Stat

#: Who the lender is in the history line; NII writes ``APDU=Shipped OCLC``.
LENDER = "OCLC"

#: The NOTE that marks a physical item sent for a copy request (guide 2.6 (4)).
PHYSICAL_FOR_COPY = "physical item sent for a copy"

#: Next ISOSTAT: a state, or, where the protocol machine's answer depends on the state before,
#: a mapping from the record's ISOSTAT (a state missing from it leaves ISOSTAT unchanged).
IsostatRule = State | Mapping[State, State] | None

#: (APDU type, qualifier as the machine names it) -> (next STAT, next ISOSTAT); None: unchanged.
#: Pairs marked S are observed on the OCLC link (ill-systems.md §1.3); I marks an inference.
#: The ISOSTAT values are the requester table's (isoill/machine/rows/requester.txt, row ids).
INCOMING: dict[tuple[ILLAPDUType, str | None], tuple[Stat | None, IsostatRule]] = {
    # S: "item shipped by lender -> 発送 / SHIPPED" (ISO3 3.5). R7.
    (ILLAPDUType.SHIPPED, None): (Stat.SHIPPED, State.SHIPPED),
    # S: "lender's condition arrives -> 新着照会 / CONDITIONAL" (ISO3 3.9). R4.
    (ILLAPDUType.ILL_ANSWER, "conditional"): (Stat.NEW_INQUIRY, State.CONDITIONAL),
    # S: "lender's refusal arrives -> 新着照会 / NOT-SUPPLIED" (ISO3 3.19). R5.
    (ILLAPDUType.ILL_ANSWER, "unfilled"): (Stat.NEW_INQUIRY, State.NOT_SUPPLIED),
    # I: the machine ends the transaction (R5); staff must RETRY (re-request) from 新着照会.
    (ILLAPDUType.ILL_ANSWER, "retry"): (Stat.NEW_INQUIRY, State.NOT_SUPPLIED),
    (ILLAPDUType.ILL_ANSWER, "locations-provided"): (Stat.NEW_INQUIRY, State.NOT_SUPPLIED),
    (ILLAPDUType.ILL_ANSWER, "estimate"): (Stat.NEW_INQUIRY, State.NOT_SUPPLIED),
    # I for STAT (nothing for staff to do: the record stays 処理中); PENDING is R2.
    (ILLAPDUType.ILL_ANSWER, "will-supply"): (None, State.PENDING),
    (ILLAPDUType.ILL_ANSWER, "hold-placed"): (None, State.PENDING),
    (ILLAPDUType.FORWARD_NOTIFICATION, None): (None, State.PENDING),  # R3
    # I: NACSIS has no recall state; the loan stays 借用中. R29.
    (ILLAPDUType.RECALL, None): (None, State.RECALL),
    # I for STAT (NACSIS has no overdue state). R20, R23, R26.
    (ILLAPDUType.OVERDUE, None): (
        None,
        {
            State.SHIPPED: State.NOT_RECEIVED_OVERDUE,
            State.RECEIVED: State.OVERDUE,
            State.RENEW_PENDING: State.RENEW_OVERDUE,
        },
    ),
    # I: the renewal request is answered either way, the loan goes on: 更新請求 -> 借用中.
    # R25, R27, R28.
    (ILLAPDUType.RENEW_ANSWER, "yes"): (
        Stat.BORROWED,
        {State.RENEW_PENDING: State.RECEIVED, State.RENEW_OVERDUE: State.RECEIVED},
    ),
    (ILLAPDUType.RENEW_ANSWER, "no"): (
        Stat.BORROWED,
        {State.RENEW_PENDING: State.RECEIVED, State.RENEW_OVERDUE: State.OVERDUE},
    ),
    # S for STAT: "OCLC Checked-In -> 返却確認" (ISO3 3.8). ISO3 shows ISOSTAT "RECEIVED [sic]"
    # there; the machine gives CHECKED-IN (R32, R33), which is what this table follows.
    (ILLAPDUType.CHECKED_IN, None): (Stat.RETURN_CONFIRMED, State.CHECKED_IN),
    # I: a cancel accepted ends the record (R12); a cancel refused hands the record back to
    # the requester, whose ISO state returns to what it was before the Cancel (R13), which
    # only the machine knows.
    (ILLAPDUType.CANCEL_REPLY, "yes"): (Stat.CANCEL, State.CANCELLED),
    (ILLAPDUType.CANCEL_REPLY, "no"): (Stat.NEW_INQUIRY, None),
    # I: no answer is legal after Expired (R6); the requester must act on the record.
    (ILLAPDUType.EXPIRED, None): (Stat.NEW_INQUIRY, State.NOT_SUPPLIED),
    # A message or a report never changes a state (N1, N4); "Not Received" is only a message.
    (ILLAPDUType.MESSAGE, None): (None, None),
    (ILLAPDUType.STATUS_QUERY, None): (None, None),
    (ILLAPDUType.STATUS_OR_ERROR_REPORT, None): (None, None),
    (ILLAPDUType.LOST, None): (None, State.LOST),  # R34; I for STAT
    (ILLAPDUType.DAMAGED, None): (None, None),
}


@dataclass(frozen=True)
class Cost:
    """An amount as the lender stated it. ``amount`` None is an amount left blank, which the
    guide treats like zero for the free-item exception; ``currency`` None: none was given."""

    currency: str | None
    amount: Decimal | None

    @property
    def is_free(self) -> bool:
        """Blank or numerically zero (``0``, ``0.00``, ``00.00`` ...)."""
        return self.amount is None or self.amount == 0

    def __str__(self) -> str:
        amount = "" if self.amount is None else Amount.format_monetary_value(self.amount)
        return f"{self.currency or ''}{amount}"

    @classmethod
    def parse(cls, text: str, currency: str | None = None) -> Cost:
        """``USD12.00``, ``12.00`` (currency from ``currency``) or blank; ValueError else."""
        match = re.fullmatch(r"\s*([A-Za-z]{3})?\s*(.*?)\s*", text)
        assert match is not None  # the pattern matches any text
        code, digits = match.group(1), match.group(2)
        amount = Amount.parse_monetary_value(digits) if digits else None
        if amount is not None and amount < 0:
            raise ValueError(say("not-amount", amount=repr(text)))
        return cls((code or currency or "").upper() or None, amount)

    @classmethod
    def of_record(cls, record: Record) -> Cost | None:
        """The record's SUM and CCODE; None when SUM was never set."""
        if record.SUM is None:
            return None
        return cls.parse(record.SUM, record.CCODE)


def shipped_cost(shipped: Shipped) -> Cost:
    cost = shipped.supply_details.cost
    if cost is None:
        return Cost(None, None)
    return Cost(cost.currency_code.upper() if cost.currency_code else None, cost.monetary_value)


def lender_pays_ifm(apdu: APDU) -> bool:
    """Whether the lender settles through IFM: ``PAYMENT=IFM`` in its note, or paymentMethod
    IFM in an OCLC request extension carried by the APDU."""
    if _lender_comment(apdu).payment == "IFM":
        return True
    return any(
        isinstance(ext.item, OCLCILLRequestExtension)
        and (ext.item.payment_method or "").strip().upper() == "IFM"
        for ext in apdu.extensions
    )


def is_physical_for_copy(record: Record, shipped: Shipped) -> bool:
    """A physical item sent for a copy request: US lenders do this for long articles (guide
    2.6 (4)); it shows as a due date or a loan shipped for a SRVCE COPY record."""
    return record.SRVCE is Service.COPY and (
        shipped.shipped_service_type is ILLServiceType.LOAN
        or shipped.supply_details.date_due is not None
    )


def apdu_name(apdu_type: ILLAPDUType) -> str:
    """NII's spelling of an APDU type: ``Shipped``, ``ILL-Answer``, ``Checked-In``."""
    words = SERVICE_NAMES[apdu_type].split("-")
    return "-".join(w if w == "ILL" else w.capitalize() for w in words)


def apply_incoming(
    record: Record,
    apdu: APDU,
    *,
    at: date,
    isoill_state: State | None = None,
    oclc_illnum: str | None = None,
) -> Record:
    """The requester's record after ``apdu`` arrived from the OCLC lender on day ``at``.

    ``isoill_state`` (the protocol machine's state after the APDU) overrides the ISOSTAT of
    :data:`INCOMING`. A physical item sent for a copy request keeps the record on the path the
    ISO transaction is on: shipped as a loan, SRVCE becomes LOAN, so that BORROW, SENDBACK and
    the lender's Checked-In follow (the request's copy origin stays in the history line);
    shipped as a copy with a due date, SRVCE stays COPY and DDATE holds the due date: the
    guide's path (RECEIVE, OK, send the item back by post, no SENDBACK).
    """
    if ORIGINATOR.get(apdu.apdu_type) is Role.REQUESTER:
        raise RecordError([say("from-requester", apdu=apdu_name(apdu.apdu_type))])
    stat, rule = INCOMING[(apdu.apdu_type, qualifier_of(apdu))]
    changes: dict[str, Any] = {}
    comment = _line_comment(apdu, oclc_illnum)
    cost: Cost | None = None
    if isinstance(apdu, Shipped):
        cost = shipped_cost(apdu)
        details = apdu.supply_details
        changes["SUM"] = "" if cost.amount is None else Amount.format_monetary_value(cost.amount)
        changes["CCODE"] = cost.currency
        if details.date_shipped is not None:
            changes["SDATE"] = format_iso_date(details.date_shipped)
        if details.date_due is not None:
            changes["DDATE"] = format_iso_date(details.date_due.date_due_field)
        if is_physical_for_copy(record, apdu):
            after = "return by DUE-DATE" if details.date_due else "no DUE-DATE, ask the lender"
            comment = _with_notes(comment, f"{PHYSICAL_FOR_COPY}: {after}", first=True)
            if apdu.shipped_service_type is ILLServiceType.LOAN:
                changes["SRVCE"] = Service.LOAN
    elif isinstance(apdu, Overdue | RenewAnswer) and apdu.date_due is not None:
        changes["DDATE"] = format_iso_date(apdu.date_due.date_due_field)
    if stat is Stat.RETURN_CONFIRMED and record.SRVCE is Service.COPY:
        stat = None  # a physical item returned for a copy: copies end at 確認, not 返却確認
    if stat is not None:
        changes["STAT"] = stat
    isostat = isoill_state or _next_isostat(rule, record.ISOSTAT)
    if isostat is not None:
        changes["ISOSTAT"] = isostat
    line = history_line(apdu.apdu_type, at, comment, cost)
    return record.replace(**changes).with_history(line)


def history_line(
    apdu_type: ILLAPDUType, at: date, comment: Comment, cost: Cost | None = None
) -> str:
    """``APDU=<Type> OCLC <YYYYMMDD> <tokens>``: the format in the module docstring."""
    tokens = [] if cost is None else [f"SUM={cost}"]
    written = cmmnt.write(comment)
    if written:
        tokens.append(written)
    head = f"APDU={apdu_name(apdu_type)} {LENDER} {at:%Y%m%d}"
    return f"{head} {' / '.join(tokens)}" if tokens else head


@dataclass(frozen=True)
class IncomingLine:
    """One history line written by :func:`apply_incoming`, read back."""

    apdu: str  # "Shipped", "ILL-Answer" ...
    at: date
    cost: Cost | None  # Shipped lines only
    comment: Comment
    problems: tuple[str, ...]


_LINE = re.compile(rf"APDU=(\S+) {LENDER} (\d{{4}})(\d{{2}})(\d{{2}})(?: (.*))?")
_SUM = re.compile(r"SUM=(.*?)(?:\s+/\s+|\s*\Z)")


def read_line(line: str) -> IncomingLine | None:
    """The line, if it is an ``APDU=<Type> OCLC`` line; None for any other history line."""
    match = _LINE.fullmatch(line.strip())
    if match is None:
        return None
    try:
        at = date(int(match.group(2)), int(match.group(3)), int(match.group(4)))
    except ValueError:
        return None
    tokens = match.group(5) or ""
    cost: Cost | None = None
    problems: list[str] = []
    sum_token = _SUM.match(tokens)
    if sum_token is not None:
        tokens = tokens[sum_token.end() :]
        try:
            cost = Cost.parse(sum_token.group(1))
        except ValueError as err:
            problems.append(prefixed(f"SUM={sum_token.group(1)}", reason_of(err)))
    reading = cmmnt.read(tokens)
    return IncomingLine(match.group(1), at, cost, reading.comment, (*problems, *reading.problems))


def incoming_lines(record: Record, apdu: str | None = None) -> list[IncomingLine]:
    """The record's ``APDU=... OCLC`` lines (of one APDU type, if given), oldest first."""
    lines = (read_line(line) for line in record.HISTORY)
    return [line for line in lines if line is not None and apdu in (None, line.apdu)]


def last_shipped(record: Record) -> IncomingLine | None:
    """The newest ``APDU=Shipped OCLC`` line: what staff check before RECEIVE."""
    lines = incoming_lines(record, apdu_name(ILLAPDUType.SHIPPED))
    return lines[-1] if lines else None


def sent_physical_for_copy(record: Record) -> bool:
    """Whether the history says a physical item came for a copy request."""
    return any(
        note.startswith(PHYSICAL_FOR_COPY)
        for line in incoming_lines(record)
        for note in line.comment.notes
    )


def find_oclc_illnum(record: Record) -> str | None:
    """The OCLC ILL number: the newest history line that names it, else CMMNT (where it
    follows ``OCLC-ILLNUM`` on requests, guide 2.6 ☆)."""
    for text in (*reversed(record.HISTORY), record.CMMNT):
        number = cmmnt.read(text).comment.oclc_illnum
        if number is not None:
            return number
    return None


# --- building the tokens ---------------------------------------------------------------------


def _next_isostat(rule: IsostatRule, current: State | None) -> State | None:
    if rule is None or isinstance(rule, State):
        return rule
    return None if current is None else rule.get(current)


def _lender_text(apdu: APDU) -> str | None:
    """The free text the lender typed; the standard names it differently per APDU."""
    for name in ("responder_note", "note", "notification_note"):
        value = getattr(apdu, name, None)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _lender_comment(apdu: APDU) -> Comment:
    """The lender's note as CMMNT tokens: free text and refused tokens become notes."""
    reading = cmmnt.read(_lender_text(apdu))
    notes = (
        *reading.comment.notes,
        *reading.comment.free_text,
        # "=" written ":" so that reading the history line back does not take the quoted
        # token for data again.
        *(f"not understood: {problem.replace('=', ':')}" for problem in reading.problems),
    )
    return dataclasses.replace(reading.comment, notes=notes, free_text=())


def _with_notes(comment: Comment, *notes: str, first: bool = False) -> Comment:
    kept = (*notes, *comment.notes) if first else (*comment.notes, *notes)
    return dataclasses.replace(comment, notes=kept)


def _line_comment(apdu: APDU, oclc_illnum: str | None) -> Comment:
    """The lender's note merged with what the APDU's own fields say."""
    lender = _lender_comment(apdu)
    fields, notes = _apdu_fields(apdu)
    if lender_pays_ifm(apdu):
        fields["payment"] = "IFM"
    if oclc_illnum is not None:
        fields["oclc_illnum"] = oclc_illnum
    merged = dataclasses.replace(lender, **fields)
    return _with_notes(merged, *notes, first=True)


def _as_date(value: date | str, key: str, notes: list[str]) -> date | None:
    """A date the peer wrote; one that does not parse is kept as a note."""
    if isinstance(value, date):
        return value
    notes.append(f"{key} as sent: {value}")
    return None


def _due(due: DateDue | None, notes: list[str]) -> dict[str, Any]:
    if due is None:
        return {}
    return {"due_date": _as_date(due.date_due_field, "DUE-DATE", notes)}


def _apdu_fields(apdu: APDU) -> tuple[dict[str, Any], list[str]]:
    """Comment fields and notes from the APDU's structured components."""
    notes: list[str] = []
    fields: dict[str, Any] = {}
    if isinstance(apdu, Shipped):
        fields |= _due(apdu.supply_details.date_due, notes)
        conditions = apdu.supply_details.shipped_conditions
        if conditions is not None:
            notes.append(f"shipped-conditions: {conditions.asn1_name}")
    elif isinstance(apdu, ILLAnswer):
        fields |= _answer_fields(apdu, notes)
    elif isinstance(apdu, Overdue):
        fields |= _due(apdu.date_due, notes)
    elif isinstance(apdu, RenewAnswer):
        notes.append("renewal granted" if apdu.answer else "renewal refused")
        fields |= _due(apdu.date_due, notes)
    elif isinstance(apdu, CancelReply):
        notes.append("cancel accepted" if apdu.answer else "cancel refused")
    elif isinstance(apdu, CheckedIn):
        notes.append(f"checked in {format_iso_date(apdu.date_checked_in)}")
    elif isinstance(apdu, ForwardNotification):
        notes.append(f"forwarded to {apdu.responder_id.symbol or apdu.responder_id.name}")
    return {k: v for k, v in fields.items() if v is not None}, notes


def _answer_fields(answer: ILLAnswer, notes: list[str]) -> dict[str, Any]:
    result = answer.transaction_results.asn1_name
    explanation = answer.results_explanation
    if isinstance(explanation, ConditionalResults):
        reply = explanation.date_for_reply
        return {
            "condition": explanation.conditions,
            "reply": None if reply is None else _as_date(reply, "REPLY", notes),
        }
    if isinstance(explanation, UnfilledResults):
        return {"unfilled": explanation.reason_unfilled}
    if isinstance(explanation, RetryResults):
        if explanation.reason_not_available is not None:
            notes.append(f"retry: {explanation.reason_not_available.asn1_name}")
        retry = explanation.retry_date
        return {"retry": None if retry is None else _as_date(retry, "RETRY", notes)}
    if isinstance(explanation, WillSupplyResults):
        text = f"{result}: {explanation.reason_will_supply.asn1_name}"
        if explanation.supply_date is not None:
            text += f", supply date {format_iso_date(explanation.supply_date)}"
        notes.append(text)
    elif isinstance(explanation, HoldPlacedResults):
        notes.append(f"{result}: available {format_iso_date(explanation.estimated_date_available)}")
    elif isinstance(explanation, LocationsResults):
        places = (loc.location_id.symbol or loc.location_id.name for loc in explanation.locations)
        notes.append(f"{result}: {', '.join(p for p in places if p)}")
    elif isinstance(explanation, EstimateResults):
        notes.append(f"{result}: {explanation.cost_estimate}")
    else:
        notes.append(result)
    return {}
