"""The checks before RECEIVE of an item from an OCLC lender, and what to do when one fails.

RECEIVE makes the request billable on OCLC's side: afterwards cancelling is hard, CLAIM does not
exist on the Global ILL link, and once the Received APDU is processed the record cannot be
corrected (guide 2.5; N-17). So every check runs before RECEIVE, every failing reason is
reported at once, and the action is the guide's: keep the record at 発送 (SHIPPED), do not
RECEIVE, e-mail the lender at its lending policy's address, and, if the lender agrees, settle
through a dummy record (guide 2.6 ☆). The guide's other troubles (2.6 (1)-(9)) have a function
each, returning what to do with the record, whom to contact, and a letter to the lender.

Rule numbers (N-x, O-x) are those of the project's NACSIS-ILL fact sheet (ill-systems.md §1.6,
§2.6); the guide is the NII/GIF Global ILL Guide ver3.3, ch. 2.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from string import Template

from isoill.apdu.apdus import Shipped
from isoill.machine.events import State
from isoill.mapping import cmmnt
from isoill.mapping.cmmnt import Comment, MaxCost
from isoill.mapping.from_oclc import (
    Cost,
    find_oclc_illnum,
    incoming_lines,
    is_physical_for_copy,
    last_shipped,
    lender_pays_ifm,
    sent_physical_for_copy,
    shipped_cost,
)
from isoill.mapping.messages import Text, in_lang, joined, prefixed, reason_of, say
from isoill.mapping.policy import Policy
from isoill.mapping.record import Record, RecordError, Service, Stat, is_single_byte
from isoill.mapping.to_iso import lender_and_odate

#: Whom staff contact besides the lender (the guide gives their addresses).
NII_DESK = "NII NACSIS-ILL desk"
GIF_TEAM = Text("GIF project team", "GIFプロジェクト")
KINOKUNIYA = Text("Kinokuniya OCLC centre", "紀伊国屋書店OCLCセンター")

#: States in which the requester has RECEIVEd the item already.
RECEIVED_STATES = frozenset(
    {
        Stat.ARRIVAL_PROCESSING,
        Stat.CLAIM_PENDING,
        Stat.CLAIM_ANSWER_PENDING,
        Stat.CONFIRMED,
        Stat.BORROWED,
        Stat.RENEWAL_REQUESTED,
        Stat.RETURNED,
        Stat.RETURN_PROCESSING,
        Stat.RETURN_CLAIM_PENDING,
        Stat.RETURN_CONFIRMED,
    }
)


@dataclass(frozen=True)
class Verdict:
    """May RECEIVE go ahead? ``reasons`` are the failing checks, ``notes`` what staff should
    know without it stopping RECEIVE; ``letter`` is the e-mail to the lender, when one is due."""

    ok: bool
    reasons: list[str]
    action: str
    notes: list[str] = field(default_factory=list)
    letter: str | None = None


@dataclass(frozen=True)
class Action:
    """What to do about one of the guide's troubles: with the record, and with whom."""

    case: str
    record: str
    contact: tuple[str, ...]
    letter: str


# --- letters -----------------------------------------------------------------------------------

#: The request as every letter quotes it.
DETAILS = Template(
    """\
  OCLC ILL no.:    $illnum
  Title:           $title
  Article:         $article
  Volume / pages:  $volume / $pages
  Requested on:    $requested
  Shipped on:      $shipped
  Due back:        $due
  Charge:          $amount
  Our max. cost:   $max_cost"""
)

LETTER_NOT_RECEIVED = Template(
    """\
To: $to
Subject: Not received - OCLC ILL no. $illnum

Dear Interlibrary Loan staff of $lender,

We have not yet received the item for our request below. Could you please check
whether it was sent and, if it was lost, send it again?

$details

Thank you for your help.

Sincerely,
$signature
"""
)

LETTER_WRONG_OR_DEFECTIVE = Template(
    """\
To: $to
Subject: Wrong or defective copy - OCLC ILL no. $illnum

Dear Interlibrary Loan staff of $lender,

Thank you for your supply. Unfortunately the copy we received for our request below
has a problem: $problem.
Could you please send a correct and complete copy? We have not marked the request
Received, and will do so when the correct copy arrives.

$details

Thank you for your help.

Sincerely,
$signature
"""
)

LETTER_REQUESTED_BY_MISTAKE = Template(
    """\
To: $to
Subject: Please cancel - OCLC ILL no. $illnum

Dear Interlibrary Loan staff of $lender,

We are sorry: we sent the request below by mistake, and our system can no longer
cancel it. Could you please cancel it and not supply the item? If you have sent it
already, please tell us how you would like us to proceed.

$details

We apologise for the trouble.

Sincerely,
$signature
"""
)

LETTER_REJECTED_AFTER_SHIPPING = Template(
    """\
To: $to
Subject: Copy received but request unfilled - OCLC ILL no. $illnum

Dear Interlibrary Loan staff of $lender,

Thank you for the copy for our request below, which we have received. The OCLC
request, however, came back to us as not supplied$reason, so we cannot mark it
Received and cannot pay you through IFM.
May we send a new request for the same item (a dummy request: nothing more needs to be
sent), which you would update to Shipped with your charge and PAYMENT=IFM, so that
IFM can settle the charge?

$details

Thank you for your help.

Sincerely,
$signature
"""
)

LETTER_STUCK_IN_PROCESSING = Template(
    """\
To: $to
Subject: Please update to Shipped - OCLC ILL no. $illnum

Dear Interlibrary Loan staff of $lender,

Thank you for the copy for our request below, which we have received. In our system,
however, the request still shows as in process, not as shipped. Could you please
update the OCLC request to Shipped, with your charge and PAYMENT=IFM, so that we can
mark it Received and pay you through IFM?

$details

Thank you for your help.

Sincerely,
$signature
"""
)

LETTER_PHYSICAL_ITEM = Template(
    """\
To: $to
Subject: Item received for a copy request - OCLC ILL no. $illnum

Dear Interlibrary Loan staff of $lender,

Thank you for sending the item itself for our copy request below. We will use it in
the library only and return it to you by $return_by.

$details

Sincerely,
$signature
"""
)

LETTER_BEFORE_RECEIVE = Template(
    """\
To: $to
Subject: Charge to be confirmed before receipt - OCLC ILL no. $illnum

Dear Interlibrary Loan staff of $lender,

Thank you for the item for our request below. Before we mark it Received on OCLC,
which makes it billable, we need to clear the following:

$problems

Could you please tell us how you would like to proceed? If you agree, we can send a
dummy request for the same item (nothing more needs to be sent) so that OCLC ILL Fee
Management (IFM) settles the correct charge.

$details

Thank you for your help.

Sincerely,
$signature
"""
)

LETTER_AFTER_RECEIVE = Template(
    """\
To: $to
Subject: Urgent: charge to be corrected - OCLC ILL no. $illnum

Dear Interlibrary Loan staff of $lender,

Thank you for the item for our request below. We have already marked it Received on
OCLC, and only then found the following:

$problems

Could you please tell us how you would like to settle it? If you agree, we can send a
dummy request for the same item (nothing more needs to be sent) so that OCLC ILL Fee
Management (IFM) settles the correct charge, and have the original request cancelled
so that it is not billed twice.

$details

Thank you for your help.

Sincerely,
$signature
"""
)

#: One paragraph per problem the lender can fix, for the two letters above.
PARA_NO_IFM = Template(
    "- Your Shipped message does not show IFM as the payment method (PAYMENT=IFM); "
    "we can pay through OCLC ILL Fee Management (IFM) only."
)
PARA_OVER_MAX_COST = Template(
    "- Your charge of $amount is more than our maximum cost of $max_cost."
)
PARA_FEE = Template(
    "- Your charge of $amount differs from the charge in your lending policy ($policy_charge)."
)
PARA_CURRENCY = Template(
    "- Your charge of $amount is not in $currency, the currency of our maximum cost; "
    "IFM can pay a charge in $currency only."
)

#: What the dummy record's ARTCL says, so that the lender recognises it (guide 2.6 ☆).
DUMMY_ARTCL = Template(
    "This is the dummy record of OCLC-ILL no. $illnum. Please refer to e-mails exchanged "
    "with your staff; $staff"
)

#: The history line that marks the original record for CANCEL by NII.
CANCEL_MARK = "TO-CANCEL"


# --- check_receive ---------------------------------------------------------------------------


class _Kind(StrEnum):
    STATE = "state"
    NO_SHIPPED = "no-shipped"
    UNREADABLE = "unreadable"
    MAX_COST_MISSING = "max-cost-missing"
    CURRENCY = "currency"
    OVER_MAX_COST = "over-max-cost"
    NO_IFM = "no-ifm"
    NO_POLICY = "no-policy"
    FEE = "fee"


#: The problems the lender has to be asked about (the others are staff's own to clear).
_LENDER_KINDS = (_Kind.NO_IFM, _Kind.OVER_MAX_COST, _Kind.FEE, _Kind.CURRENCY)


def check_receive(
    record: Record, shipped: Shipped | None, policy: Policy | None, *, policy_required: bool = True
) -> Verdict:
    """May the requester RECEIVE this arrival? N-13 .. N-19 and N-22 .. N-24.

    The lender's entries are taken from ``shipped`` when given, else from the newest
    ``APDU=Shipped OCLC`` history line, else from SUM/CCODE; PAYMENT=IFM counts when either the
    Shipped or the history line shows it. Without a lending policy the fee cannot be compared
    (N-15), which is a reason not to RECEIVE yet where a policy is expected (the gateway);
    with ``policy_required=False`` (staff checking by hand, without a policy table) it is a
    note instead.
    """
    problems: list[tuple[_Kind, str]] = []
    notes: list[str] = []
    # A loan is RECEIVEd without an APDU; BORROW sends the Received that makes it billable.
    before_borrow = record.STAT is Stat.ARRIVAL_PROCESSING and record.SRVCE is Service.LOAN
    received = record.STAT in RECEIVED_STATES and not before_borrow
    if record.STAT is Stat.IN_PROCESS:
        problems.append((_Kind.STATE, say("why-n27")))
    elif not received and not before_borrow and record.STAT is not Stat.SHIPPED:
        problems.append((_Kind.STATE, say("why-stat", stat=record.STAT or say("not-set"))))

    line = last_shipped(record)
    if line is not None:
        unreadable = [p for p in line.problems if "SUM=" in p]
        problems += [(_Kind.UNREADABLE, say("in-history", problem=p)) for p in unreadable]
    if shipped is not None:
        cost: Cost | None = shipped_cost(shipped)
    elif line is not None:
        cost = line.cost
    else:
        cost = _record_cost(record, problems)
    if shipped is None and line is None:
        problems.append((_Kind.NO_SHIPPED, say("why-no-shipped")))
    cost = cost or Cost(None, None)
    ifm = (shipped is not None and lender_pays_ifm(shipped)) or (
        line is not None and line.comment.payment == "IFM"
    )
    physical = sent_physical_for_copy(record) or (
        shipped is not None and is_physical_for_copy(record, shipped)
    )
    service = Service.COPY if physical else record.SRVCE or Service.COPY
    free_by_policy = policy is not None and policy.is_free(service)

    reading = cmmnt.read(record.CMMNT)
    max_cost = reading.comment.max_cost
    if not cost.is_free:
        problems += _max_cost_problems(cost, max_cost, reading.problems)
    if not ifm:
        problems += _ifm_problems(cost, policy, free_by_policy, notes)
    if policy is None and not policy_required:
        notes.append(say("note-no-policy"))
    elif policy is None:
        problems.append((_Kind.NO_POLICY, say("why-no-policy")))
    else:
        problems += _fee_problems(cost, policy, record.SRVCE or Service.COPY, physical)

    illnum = find_oclc_illnum(record)
    if illnum is None:
        notes.append(say("note-no-illnum"))
    if physical:
        notes.append(say("note-physical", due=_return_by(record)))
    if not problems:
        notes.append(say("note-yen"))
    # Over MAX-COST (or in another currency) the charge is outside IFM even with PAYMENT=IFM:
    # N-24's "IFM is concluded" must not stand beside N-23's "outside IFM".
    outside = {_Kind.OVER_MAX_COST, _Kind.CURRENCY}
    ifm_pays = ifm and not any(kind in outside for kind, _ in problems)
    command = "BORROW" if before_borrow else "RECEIVE"
    facts = _Facts(received, ifm_pays, cost, max_cost, command)
    return _verdict(with_shipped(record, shipped), policy, problems, notes, facts)


def with_shipped(record: Record, shipped: Shipped | None) -> Record:
    """``record`` as the lender's Shipped fills it in (ship date, due date, amount, OCLC ILL
    number in the APDU=Shipped OCLC line; the request date, when the record lacks ODATE, from
    the transaction id NII builds as ``HMLISO/ODATE``), when its history does not have that
    line yet: what a letter quotes comes from the APDU, not "not recorded"."""
    if shipped is None:
        return record
    parts = lender_and_odate(shipped.transaction_id)
    if not record.ODATE and parts is not None and len(parts[1]) == 8 and parts[1].isdigit():
        record = record.replace(ODATE=parts[1])
    if last_shipped(record) is not None:
        return record
    from isoill.mapping.from_oclc import apply_incoming

    on = shipped.supply_details.date_shipped
    day = on if isinstance(on, date) else date.today()
    return apply_incoming(record, shipped, at=day).replace(STAT=record.STAT)


@dataclass(frozen=True)
class _Facts:
    """What the action's wording depends on."""

    received: bool  # the item was RECEIVEd (BORROWed) already: it is billable
    ifm_pays: bool  # PAYMENT=IFM, and within MAX-COST in its currency: IFM settles (O-4)
    cost: Cost
    max_cost: MaxCost | None
    command: str  # the command that would make it billable: RECEIVE, or BORROW for a loan


def _record_cost(record: Record, problems: list[tuple[_Kind, str]]) -> Cost | None:
    try:
        return Cost.of_record(record)
    except ValueError as err:
        problems.append((_Kind.UNREADABLE, prefixed(f"SUM {record.SUM!r}", reason_of(err))))
        return None


def _max_cost_problems(
    cost: Cost, max_cost: MaxCost | None, cmmnt_problems: tuple[str, ...]
) -> list[tuple[_Kind, str]]:
    """N-14 (and O-4: IFM pays only a charge in the MAX-COST currency)."""
    if max_cost is None:
        why = joined((p for p in cmmnt_problems if "MAX-COST" in p), "; ", "。")
        detail = Text(f" ({why})", f"({why.ja})") if why else Text("", "")
        return [
            (_Kind.MAX_COST_MISSING, say("why-max-cost-missing", detail=detail, cost=_money(cost)))
        ]
    if cost.currency is None:
        why = say("why-no-currency", cost=_money(cost), limit=_money(max_cost))
        return [(_Kind.CURRENCY, why)]
    if cost.currency != max_cost.currency:
        why = say(
            "why-currency", cost=_money(cost), currency=max_cost.currency, limit=_money(max_cost)
        )
        return [(_Kind.CURRENCY, why)]
    assert cost.amount is not None  # not free
    if cost.amount > max_cost.amount:
        return [(_Kind.OVER_MAX_COST, say("why-over", cost=_money(cost), limit=_money(max_cost)))]
    return []


def _ifm_problems(
    cost: Cost, policy: Policy | None, free_by_policy: bool, notes: list[str]
) -> list[tuple[_Kind, str]]:
    """N-16/N-22, with the free-item exception."""
    if cost.is_free and free_by_policy:
        notes.append(say("note-free", cost=_money(cost)))
        return []
    if cost.is_free:
        why = (
            say("why-free-no-policy", cost=_money(cost))
            if policy is None
            else say("why-free-not-free", cost=_money(cost), lender=policy.symbol)
        )
        return [(_Kind.NO_IFM, why)]
    if policy is not None and not policy.ifm:
        return [(_Kind.NO_IFM, say("why-no-ifm-policy", cost=_money(cost), lender=policy.symbol))]
    return [(_Kind.NO_IFM, say("why-no-ifm", cost=_money(cost)))]


def _services(service: Service, physical: bool) -> tuple[Service, ...]:
    """Whose charge applies: a physical item sent for a copy may carry either."""
    return (Service.COPY, Service.LOAN) if physical else (service,)


def _stated(policy: Policy, services: tuple[Service, ...]) -> str:
    """The policy's charges for these services, as the reasons and letters quote them."""
    parts = []
    for service in services:
        charge = policy.charge(service)
        if charge is not None:
            shown = _money(Cost(policy.currency, charge)) if charge else say("charge-free")
            name = _CHARGE_FIELD[service]
            parts.append(Text(f"{name} {shown}", f"{name} {in_lang(shown, 'ja')}"))
    return joined(parts, " or ", "または") if parts else say("charge-not-stated")


def _fee_problems(
    cost: Cost, policy: Policy, service: Service, physical: bool
) -> list[tuple[_Kind, str]]:
    """N-15/N-24. A physical item sent for a copy may carry the copy or the loan charge."""
    services = _services(service, physical)
    charges = [(s, charge) for s in services if (charge := policy.charge(s)) is not None]
    stated = _stated(policy, services)
    if cost.is_free:
        if any(c == 0 for _, c in charges):
            return []
        if not charges:
            return [(_Kind.FEE, say("why-policy-no-charge", lender=policy.symbol))]
        why = say("why-free-fee", cost=_money(cost), lender=policy.symbol, stated=stated)
        return [(_Kind.FEE, why)]
    if not charges:
        field_names = " / ".join(_CHARGE_FIELD[s] for s in services)
        why = say(
            "why-policy-no-field", lender=policy.symbol, fields=field_names, cost=_money(cost)
        )
        return [(_Kind.FEE, why)]
    if cost.currency != policy.currency:
        why = say(
            "why-policy-currency",
            cost=_money(cost),
            currency=policy.currency,
            lender=policy.symbol,
            stated=stated,
        )
        return [(_Kind.FEE, why)]
    if all(cost.amount != c for _, c in charges):
        return [(_Kind.FEE, say("why-fee", cost=_money(cost), lender=policy.symbol, stated=stated))]
    return []


_CHARGE_FIELD = {Service.COPY: "ILL-Copy-Charge", Service.LOAN: "ILL-Loan-Charge"}


def _verdict(
    record: Record,
    policy: Policy | None,
    problems: list[tuple[_Kind, str]],
    notes: list[str],
    facts: _Facts,
) -> Verdict:
    kinds = {kind for kind, _ in problems}
    reasons = [text for _, text in problems]
    if not problems:
        if facts.received:
            action: str = say("act-received-ok")
        elif facts.command == "BORROW":
            action = say("act-borrow-ok")
        else:
            action = say("act-receive-ok")
        return Verdict(True, reasons, action, notes)
    steps = [_first_step(record, policy, kinds, facts)]
    steps += [_STEPS[kind](facts) for kind in _Kind if kind in kinds and kind in _STEPS]
    action = joined(steps, " ", "")
    letter = None
    lender_kinds = [k for k in _LENDER_KINDS if k in kinds]
    if lender_kinds:
        fields = _fields(record, policy, facts.cost)
        currency = facts.max_cost.currency if facts.max_cost else "USD"
        paragraphs = "\n".join(
            _PARAGRAPH[k].substitute(fields, currency=currency) for k in lender_kinds
        )
        template = LETTER_AFTER_RECEIVE if facts.received else LETTER_BEFORE_RECEIVE
        letter = template.substitute(fields, problems=paragraphs)
    return Verdict(False, reasons, action, notes, letter)


def _first_step(record: Record, policy: Policy | None, kinds: set[_Kind], facts: _Facts) -> str:
    if not kinds & set(_LENDER_KINDS):
        return say("act-not-yet", command=facts.command)
    if facts.received:
        return say("act-received-email", lender=_the_lender(record, policy))
    where = say("at-shipped") if facts.command == "RECEIVE" else f"{record.STAT}"
    return say("act-keep", where=where, command=facts.command, lender=_the_lender(record, policy))


def _step_state(facts: _Facts) -> str:
    return say("step-state")


def _step_no_shipped(facts: _Facts) -> str:
    return say("step-no-shipped", command=facts.command)


def _step_unreadable(facts: _Facts) -> str:
    return say("step-unreadable")


def _step_max_cost_missing(facts: _Facts) -> str:
    return say("step-max-cost-missing")


def _step_no_ifm(facts: _Facts) -> str:
    return say("step-no-ifm-received" if facts.received else "step-no-ifm")


def _step_over_max_cost(facts: _Facts) -> str:
    cost = _money(facts.cost)
    if facts.received:
        # Not in the guide: over MAX-COST, IFM does not pay (O-4), so this is N-22's case.
        return say("step-over-max-cost-received", cost=cost)
    limit = _money(facts.max_cost) if facts.max_cost else "MAX-COST"
    return say("step-over-max-cost", cost=cost, limit=limit)


def _step_fee(facts: _Facts) -> str:
    if facts.received and facts.ifm_pays:
        return say("step-fee-billed", gif=GIF_TEAM, kinokuniya=KINOKUNIYA)
    return say("step-fee")


def _step_currency(facts: _Facts) -> str:
    currency = facts.max_cost.currency if facts.max_cost else say("max-cost-currency")
    return say("step-currency", currency=currency)


def _step_no_policy(facts: _Facts) -> str:
    return say("step-no-policy")


_STEPS = {
    _Kind.STATE: _step_state,
    _Kind.NO_SHIPPED: _step_no_shipped,
    _Kind.UNREADABLE: _step_unreadable,
    _Kind.MAX_COST_MISSING: _step_max_cost_missing,
    _Kind.NO_IFM: _step_no_ifm,
    _Kind.OVER_MAX_COST: _step_over_max_cost,
    _Kind.FEE: _step_fee,
    _Kind.CURRENCY: _step_currency,
    _Kind.NO_POLICY: _step_no_policy,
}

_PARAGRAPH = {
    _Kind.NO_IFM: PARA_NO_IFM,
    _Kind.OVER_MAX_COST: PARA_OVER_MAX_COST,
    _Kind.FEE: PARA_FEE,
    _Kind.CURRENCY: PARA_CURRENCY,
}


# --- the guide's other troubles (2.6 (1)-(9)) --------------------------------------------------


def not_received(record: Record, policy: Policy | None = None) -> Action:
    """2.6 (1), N-21: the copy has not come."""
    return Action(
        case=say("case-not-received"),
        record=say("guide-not-received"),
        contact=(_lender(record, policy),),
        letter=_letter(LETTER_NOT_RECEIVED, record, policy),
    )


def wrong_or_defective(record: Record, problem: str, policy: Policy | None = None) -> Action:
    """2.6 (2), N-21: the wrong copy, or a defective one, came."""
    return Action(
        case=say("case-wrong-copy"),
        record=say("guide-wrong-copy"),
        contact=(_lender(record, policy),),
        letter=_letter(LETTER_WRONG_OR_DEFECTIVE, record, policy, problem=problem),
    )


def requested_by_mistake(record: Record, policy: Policy | None = None) -> Action:
    """2.6 (3), N-21 with N-10: CALLBACK before the hourly batch, CANCEL while the ISO state
    allows a Cancel, else an e-mail to the lender."""
    letter = _letter(LETTER_REQUESTED_BY_MISTAKE, record, policy)
    lender = _lender(record, policy)
    if record.STAT is Stat.PREPARING:
        what = say("guide-mistake-preparing")
        contact: tuple[str, ...] = ()
    elif record.STAT is Stat.UNPROCESSED and record.ISOSTAT in (None, State.IDLE):
        what = say("guide-mistake-callback")
        contact = ()
    elif record.ISOSTAT in (State.PENDING, State.CONDITIONAL):
        what = say("guide-mistake-cancel")
        contact = (lender,)
    else:
        what = say("guide-mistake-email")
        contact = (lender,)
    return Action(say("case-mistake"), what, contact, letter)


def rejected_after_shipping(record: Record, policy: Policy | None = None) -> Action:
    """2.6 (5), N-26: the copy came, but the record came back refused."""
    answers = incoming_lines(record, "ILL-Answer")
    reason = answers[-1].comment.unfilled if answers else None
    return Action(
        case=say("case-rejected"),
        record=say("guide-rejected"),
        contact=(_lender(record, policy),),
        letter=_letter(
            LETTER_REJECTED_AFTER_SHIPPING,
            record,
            policy,
            reason="" if reason is None else f" (reason: {reason.asn1_name})",
        ),
    )


def stuck_in_processing(
    record: Record, policy: Policy | None = None, *, nii_found_no_fault: bool = False
) -> Action:
    """2.6 (9), N-27: the copy came but the record is still 処理中. The lender may have set
    Shipped and the transition got lost, so NII is asked before the lender."""
    letter = _letter(LETTER_STUCK_IN_PROCESSING, record, policy)
    if not nii_found_no_fault:
        return Action(
            case=say("case-stuck"),
            record=say("guide-stuck-ask-nii"),
            contact=(NII_DESK,),
            letter=letter,
        )
    return Action(
        case=say("case-stuck"),
        record=say("guide-stuck-email"),
        contact=(_lender(record, policy),),
        letter=letter,
    )


def physical_item_for_copy(record: Record, policy: Policy | None = None) -> Action:
    """2.6 (4), N-25: the lender sent the item itself for a copy request."""
    if record.SRVCE is Service.LOAN:
        # Shipped as a loan: the ISO transaction is a loan (see from_oclc.apply_incoming).
        what = say("guide-physical-loan", due=_return_by(record))
    else:
        what = say("guide-physical-copy", due=_return_by(record))
    return Action(
        case=say("case-physical"),
        record=what,
        contact=(_lender(record, policy),),
        letter=_letter(LETTER_PHYSICAL_ITEM, record, policy),
    )


# --- every case's letter ----------------------------------------------------------------------

#: The guide's letter cases (2.5, 2.6 (1)-(9)), by the name the command line and the HTTP API
#: use. ``before-receive`` and ``after-receive`` are the checks' letter (N-22 .. N-24) for a
#: record not yet RECEIVEd and one RECEIVEd already.
LETTER_CASES = (
    "not-received",
    "wrong-or-defective",
    "requested-by-mistake",
    "physical-item",
    "rejected-after-shipping",
    "before-receive",
    "after-receive",
    "stuck-in-processing",
)


def letter_for(
    case: str,
    record: Record,
    shipped: Shipped | None = None,
    policy: Policy | None = None,
    *,
    problem: str = "",
) -> Action:
    """The ``case`` letter (one of :data:`LETTER_CASES`) for ``record``, filled from the
    lender's ``shipped`` when given. RecordError when the case has no letter to write (the
    checks before RECEIVE pass) or is not one of the guide's."""
    filled = with_shipped(record, shipped)
    if case in ("before-receive", "after-receive"):
        stat = Stat.SHIPPED if case == "before-receive" else Stat.ARRIVAL_PROCESSING
        verdict = check_receive(record.replace(STAT=stat), shipped, policy, policy_required=False)
        if verdict.letter is None:
            why = joined(verdict.reasons, " ", "") if verdict.reasons else say("checks-pass")
            raise RecordError([say("letter-nothing", case=case, why=why)])
        name = say(f"case-{case}")
        return Action(name, verdict.action, (_lender(record, policy),), verdict.letter)
    if case == "wrong-or-defective":
        if not problem.strip():
            raise RecordError([say("letter-no-problem", case=case)])
        return wrong_or_defective(filled, problem.strip(), policy)
    cases = {
        "not-received": not_received,
        "requested-by-mistake": requested_by_mistake,
        "physical-item": physical_item_for_copy,
        "rejected-after-shipping": rejected_after_shipping,
        "stuck-in-processing": stuck_in_processing,
    }
    if case not in cases:
        known = ", ".join(LETTER_CASES)
        raise RecordError([say("letter-case-unknown", case=repr(case), cases=known)])
    return cases[case](filled, policy)


# --- the dummy record ------------------------------------------------------------------------


def dummy_record(
    record: Record, oclc_illnum: str, staff_name: str, *, max_cost: MaxCost | None = None
) -> tuple[Record, Record]:
    """The dummy record (guide 2.6 ☆) and the original marked for CANCEL.

    The dummy repeats the request with no physical movement; both sides take it to the final
    state so that IFM settles the agreed charge. It is a new record (準備中, no ID, no history,
    no supply data); ARTCL tells the lender what it is. ``max_cost`` is N-23's variant A (a
    MAX-COST at least the total); for variant B the lender lowers its charge and the dummy
    keeps MAX-COST. The original stays as it is but for a history line: only NII's desk can
    set it to CANCEL.
    """
    problems = []
    if not re.fullmatch(r"[0-9]{8}", oclc_illnum):
        problems.append(say("dummy-illnum", number=repr(oclc_illnum)))
    name = staff_name.strip()
    if not name:
        problems.append(say("dummy-no-staff"))
    elif not all(map(is_single_byte, name)):
        problems.append(say("dummy-staff-single-byte", name=repr(name)))
    reading = cmmnt.read(record.CMMNT)
    problems += [prefixed("CMMNT", p) for p in reading.problems]
    if problems:
        raise RecordError(problems)
    comment = dataclasses.replace(
        reading.comment, payment="IFM", max_cost=max_cost or reading.comment.max_cost
    )
    text = record.CMMNT if comment == reading.comment else cmmnt.write(comment)
    dummy = copy_request(record).replace(
        ARTCL=DUMMY_ARTCL.substitute(illnum=oclc_illnum, staff=name), CMMNT=text
    )
    mark = Comment(
        oclc_illnum=oclc_illnum,
        notes=(
            f"replaced by a dummy record agreed with the lender ({name}); ask the NII "
            "NACSIS-ILL desk to set this record to CANCEL",
        ),
    )
    return dummy, record.with_history(f"{CANCEL_MARK} {cmmnt.write(mark)}")


def copy_request(record: Record) -> Record:
    """What NACSIS's COPY makes of ``record``: a new record (準備中, no ID, no history, no
    supply data) asking for the same item, to be ordered on its own. A physical item sent for
    a copy made the record a loan; its copy is a copy again."""
    return dataclasses.replace(
        Record(),
        **{name: getattr(record, name) for name in _REQUEST_FIELDS},
        STAT=Stat.PREPARING,
        SRVCE=Service.COPY if sent_physical_for_copy(record) else record.SRVCE,
    )


def marked_for_cancel(record: Record) -> bool:
    return any(line.startswith(CANCEL_MARK + " ") for line in record.HISTORY)


#: What COPY and a dummy repeat: the request and its routing, not the transaction's own data.
_REQUEST_FIELDS = (
    "OMLID", "OMLIDISO", "AMLID", "HMLISO", "ACCT", "TYPE", "BIBID", "BIBNT", "STDNO", "VLNO",
    "PAGE", "YEAR", "ARTCL", "CLNT", "CLNTP", "ODATE", "CMMNT", "OSTAF", "OADRS", "OLDF", "OLDAF",
    "SPVIA", "PRMT", "HOLDINGS",
)  # fmt: skip


# --- shared ------------------------------------------------------------------------------------


def _lender(record: Record, policy: Policy | None) -> str:
    symbol = policy.symbol if policy else record.HMLISO or say("the-lender")
    if policy is not None and policy.emails:
        return f"{symbol} <{'>, <'.join(policy.emails)}>"
    return say("lender-no-email", symbol=symbol)


def _the_lender(record: Record, policy: Policy | None) -> str:
    """ "the lender PIT <...>", and never "the lender the lender" for a record without HMLISO."""
    whom = _lender(record, policy)
    return whom if whom.startswith("the lender") else say("the-lender-named", who=whom)


def _day(text: str | None) -> str:
    if text is None or not text.strip():
        return "not recorded"
    if re.fullmatch(r"[0-9]{8}", text):
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


def _return_by(record: Record) -> Text:
    """The date a physical item goes back by, for a sentence: "by not recorded" told staff
    (and, in the letter, the lender) nothing, so without DDATE it is the lender's date."""
    if (record.DDATE or "").strip():
        day = _day(record.DDATE)
        return Text(day, day)
    return say("return-by-unknown")


def _money(amount: Cost | MaxCost) -> str:
    if isinstance(amount, MaxCost):
        return f"{amount.currency} {amount.amount}"
    if amount.amount is None:
        return "blank"
    value = Cost(None, amount.amount)
    return f"{amount.currency} {value}" if amount.currency else str(value)


def _fields(record: Record, policy: Policy | None, cost: Cost | None = None) -> dict[str, str]:
    """What the letters quote about the request."""
    if cost is None:
        try:
            cost = Cost.of_record(record)
        except ValueError:
            cost = None
    max_cost = cmmnt.read(record.CMMNT).comment.max_cost
    physical = sent_physical_for_copy(record)
    services = _services(Service.COPY if physical else record.SRVCE or Service.COPY, physical)
    fields = {
        "to": ", ".join(policy.emails if policy else ()) or "(ILL-Commun1 of the lending policy)",
        "lender": policy.symbol if policy else record.HMLISO or "your library",
        "illnum": find_oclc_illnum(record) or "(not known)",
        "title": record.BIBNT or "(not recorded)",
        "article": record.ARTCL or "-",
        "volume": record.VLNO or "-",
        "pages": record.PAGE or "-",
        "requested": _day(record.ODATE),
        "shipped": _day(record.SDATE),
        "due": _day(record.DDATE),
        "return_by": _day(record.DDATE) if (record.DDATE or "").strip() else "the date you ask for",
        "amount": "not stated" if cost is None else _money(cost),
        "max_cost": "not stated" if max_cost is None else _money(max_cost),
        "policy_charge": "not stated" if policy is None else _stated(policy, services),
        "signature": "\n".join(x for x in (record.OSTAF, record.OMLID) if x) or "ILL staff",
    }
    fields["details"] = DETAILS.substitute(fields)
    return fields


def _letter(template: Template, record: Record, policy: Policy | None, **extra: str) -> str:
    return template.substitute(_fields(record, policy), **extra)
