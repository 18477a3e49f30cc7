"""The ISO 18626 status rules: forward only, Loaned and Overdue one step, terminal ends."""

from __future__ import annotations

import itertools

import pytest

from isoill.iso18626 import Status, change_refused
from isoill.iso18626.status import RANK, TERMINAL


def test_every_status_has_a_rank() -> None:
    assert set(RANK) == set(Status)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (None, Status.REQUEST_RECEIVED),
        (None, Status.LOANED),
        (Status.REQUEST_RECEIVED, Status.WILL_SUPPLY),
        (Status.WILL_SUPPLY, Status.LOANED),
        (Status.LOANED, Status.OVERDUE),
        (Status.OVERDUE, Status.LOANED),
        (Status.OVERDUE, Status.RECALLED),
        (Status.RECALLED, Status.LOAN_COMPLETED),
        (Status.WILL_SUPPLY, Status.COPY_COMPLETED),
        (Status.LOANED, Status.LOANED),
        (Status.UNFILLED, Status.UNFILLED),
    ],
)
def test_allowed_changes(current: Status | None, new: Status) -> None:
    assert change_refused(current, new) is None


@pytest.mark.parametrize(
    ("current", "new", "words"),
    [
        (Status.LOANED, Status.WILL_SUPPLY, "back to WillSupply"),
        (Status.RECALLED, Status.LOANED, "back to Loaned"),
        (Status.UNFILLED, Status.LOANED, "Unfilled ends the request"),
        (Status.RETRY_POSSIBLE, Status.WILL_SUPPLY, "RetryPossible ends the request"),
        (Status.LOAN_COMPLETED, Status.OVERDUE, "LoanCompleted ends the request"),
    ],
)
def test_refused_changes_say_why(current: Status, new: Status, words: str) -> None:
    reason = change_refused(current, new)
    assert reason is not None
    assert reason.startswith("status change not allowed") and words in reason


def test_nothing_leaves_a_terminal_status() -> None:
    for current, new in itertools.product(TERMINAL, Status):
        assert (change_refused(current, new) is None) == (new == current)
