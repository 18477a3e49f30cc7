"""The code lists of one protocol in the other's terms, and the note markers that carry
what 18626 has no element for.

Each table goes one way with a fallback for the values it does not list; the reverse
tables list the 18626 open-code values isoill knows, and a value they do not know is kept
in the 10161 note (:func:`kept`) instead of being dropped.

Markers: a few 10161 events have no 18626 message of their own (Lost and Damaged reported
by the requester, Expired, Forward-Notification, a conditional answer and its reply). They
travel as the nearest 18626 message with a note that starts with a marker, so that a
gateway on the way back gives the same APDU again and a librarian reading the note still
sees what happened. The loan-condition markers are the ones ReShare uses.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

from isoill.apdu.enums import (
    Conditions,
    CurrentState,
    ReasonNotAvailable,
    ReasonUnfilled,
    ShippedConditions,
)
from isoill.iso18626.codes import Status
from isoill.iso18626.messages import SchemeValue

K = TypeVar("K")
V = TypeVar("V")

ADD_LOAN_CONDITION = "#ReShareAddLoanCondition#"
AGREE_LOAN_CONDITION = "#ReShareLoanConditionAgreeResponse#"
REJECT_LOAN_CONDITION = "#ReShareLoanConditionRejectResponse#"
LOST = "#ISO10161:LOST#"
DAMAGED = "#ISO10161:DAMAGED#"
EXPIRED = "#ISO10161:EXPIRED#"
FORWARDED = "#ISO10161:FORWARD-NOTIFICATION#"

RETRY_REASONS: dict[ReasonNotAvailable, str] = {
    ReasonNotAvailable.IN_USE_ON_LOAN: "OnLoan",
    ReasonNotAvailable.AT_BINDERY: "AtBindery",
    ReasonNotAvailable.ON_ORDER: "OnOrder",
    ReasonNotAvailable.COST_EXCEEDS_LIMIT: "CostExceedsMaxCost",
    ReasonNotAvailable.NOT_FOUND_AS_CITED: "NotFoundAsCited",
}
RETRY_FALLBACK = "NotCurrentAvailableForILL"

UNFILLED_REASONS: dict[ReasonUnfilled, str] = {
    ReasonUnfilled.NOT_OWNED: "NotHeld",
    ReasonUnfilled.NON_CIRCULATING: "NonCirculating",
    ReasonUnfilled.NOT_ON_SHELF: "NotOnShelf",
    ReasonUnfilled.POOR_CONDITION: "PoorCondition",
    ReasonUnfilled.POLICY_PROBLEM: "PolicyProblem",
}
UNFILLED_FALLBACK = "NotAvailableForILL"

LOAN_CONDITIONS: dict[ShippedConditions, str] = {
    ShippedConditions.LIBRARY_USE_ONLY: "LibraryUseOnly",
    ShippedConditions.NO_REPRODUCTION: "NoReproduction",
    ShippedConditions.CLIENT_SIGNATURE_REQUIRED: "SignatureRequired",
    ShippedConditions.SPECIAL_COLLECTIONS_SUPERVISION_REQUIRED: "SpecCollSupervReq",
}
#: Conditions of an ILL-Answer conditional that are about money: 18626 says RetryPossible
#: (the requester may retry with a higher maximum cost).
COST_CONDITIONS = frozenset(
    {Conditions.COST_EXCEEDS_LIMIT, Conditions.CHARGES, Conditions.PREPAYMENT_REQUIRED}
)

#: The 18626 status of each 10161 state (a Status-Or-Error-Report's current state).
STATUS_OF_STATE: dict[CurrentState, Status] = {
    CurrentState.NOT_SUPPLIED: Status.UNFILLED,
    CurrentState.PENDING: Status.REQUEST_RECEIVED,
    CurrentState.IN_PROCESS: Status.WILL_SUPPLY,
    CurrentState.FORWARD: Status.EXPECT_TO_SUPPLY,
    CurrentState.CONDITIONAL: Status.WILL_SUPPLY,
    CurrentState.CANCEL_PENDING: Status.WILL_SUPPLY,
    CurrentState.CANCELLED: Status.CANCELLED,
    CurrentState.SHIPPED: Status.LOANED,
    CurrentState.RECEIVED: Status.LOANED,
    CurrentState.RENEW_PENDING: Status.LOANED,
    CurrentState.NOT_RECEIVED_OVERDUE: Status.OVERDUE,
    CurrentState.RENEW_OVERDUE: Status.OVERDUE,
    CurrentState.OVERDUE: Status.OVERDUE,
    CurrentState.RETURNED: Status.LOANED,
    CurrentState.CHECKED_IN: Status.LOAN_COMPLETED,
    CurrentState.RECALL: Status.RECALLED,
    CurrentState.LOST: Status.COMPLETED_WITHOUT_RETURN,
    CurrentState.UNKNOWN: Status.REQUEST_RECEIVED,
}
#: The 10161 (responder's) state of each 18626 status.
STATE_OF_STATUS: dict[Status, CurrentState] = {
    Status.REQUEST_RECEIVED: CurrentState.PENDING,
    Status.EXPECT_TO_SUPPLY: CurrentState.IN_PROCESS,
    Status.WILL_SUPPLY: CurrentState.IN_PROCESS,
    Status.LOANED: CurrentState.SHIPPED,
    Status.OVERDUE: CurrentState.OVERDUE,
    Status.RECALLED: CurrentState.RECALL,
    Status.RETRY_POSSIBLE: CurrentState.NOT_SUPPLIED,
    Status.UNFILLED: CurrentState.NOT_SUPPLIED,
    Status.COPY_COMPLETED: CurrentState.SHIPPED,
    Status.LOAN_COMPLETED: CurrentState.CHECKED_IN,
    Status.COMPLETED_WITHOUT_RETURN: CurrentState.LOST,
    Status.CANCELLED: CurrentState.CANCELLED,
}


def reverse(table: dict[K, V]) -> dict[V, K]:
    return {value: key for key, value in table.items()}


def note(*parts: str | None) -> str | None:
    """Parts of a note joined with a space; None when there are none."""
    text = " ".join(part for part in parts if part)
    return text or None


def unmarked(text: str | None, marker: str) -> tuple[bool, str | None]:
    """Whether ``text`` starts with ``marker``, and the text without it."""
    if text is None or not text.startswith(marker):
        return False, text
    return True, text[len(marker) :].strip() or None


def kept(label: str, code: SchemeValue | None, known: Collection[str]) -> str | None:
    """The note part that keeps an open-code value the 10161 side has no value for."""
    if code is None or code.value in known:
        return None
    scheme = f" ({code.scheme})" if code.scheme else ""
    return f"[{label}: {code.value}{scheme}]"
