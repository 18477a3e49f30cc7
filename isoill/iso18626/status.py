"""Which status changes of an ISO 18626 request are allowed, as the 10161 state tables are
for APDUs.

ISO 18626 publishes no state table; isoill follows the order Index Data's broker uses (the
one in the reference notes): a supplier's status only moves forward, Loaned and Overdue are
one step (an overdue item renewed is Loaned again), and a terminal status ends the
request. RetryPossible is terminal, like 10161's NOT-SUPPLIED after a retry answer: the
retry is a new ``request`` with ``requestType`` Retry. A message repeating the current status
(a renewal answer, a note) is no change and always allowed.
"""

from __future__ import annotations

from isoill.iso18626.codes import Status

#: The rank of each status: a change may not go to a lower rank.
RANK: dict[Status, int] = {
    Status.REQUEST_RECEIVED: 0,
    Status.EXPECT_TO_SUPPLY: 1,
    Status.WILL_SUPPLY: 2,
    Status.RETRY_POSSIBLE: 3,
    Status.UNFILLED: 4,
    Status.LOANED: 5,
    Status.OVERDUE: 5,
    Status.RECALLED: 6,
    Status.CANCELLED: 7,
    Status.COMPLETED_WITHOUT_RETURN: 8,
    Status.COPY_COMPLETED: 9,
    Status.LOAN_COMPLETED: 10,
}
#: Statuses after which nothing more happens to the request.
TERMINAL = frozenset(
    {
        Status.RETRY_POSSIBLE,
        Status.UNFILLED,
        Status.CANCELLED,
        Status.COMPLETED_WITHOUT_RETURN,
        Status.COPY_COMPLETED,
        Status.LOAN_COMPLETED,
    }
)


def change_refused(current: Status | None, new: Status) -> str | None:
    """Why the status may not change from ``current`` (None: no status yet) to ``new``;
    None when it may. The text is what goes into the ERROR confirmation's errorValue."""
    if current is None or new == current:
        return None
    if current in TERMINAL:
        return f"status change not allowed: {current.value} ends the request ({new.value} given)"
    if RANK[new] < RANK[current]:
        return f"status change not allowed: from {current.value} back to {new.value}"
    return None
