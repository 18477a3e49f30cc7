"""The ILL protocol machine: requester, responder and intermediary state tables. No I/O.

>>> from isoill.machine import Role, Transaction, send
"""

from isoill.machine.events import Direction, Event, Role, State, Timer, event_for
from isoill.machine.machine import (
    Outcome,
    ProhibitedTransition,
    allowed,
    due_timers,
    receive,
    send,
    tick,
)
from isoill.machine.tables import TABLES, Row, Table
from isoill.machine.transaction import HistoryEntry, Transaction, TransactionKey

__all__ = [
    "TABLES",
    "Direction",
    "Event",
    "HistoryEntry",
    "Outcome",
    "ProhibitedTransition",
    "Role",
    "Row",
    "State",
    "Table",
    "Timer",
    "Transaction",
    "TransactionKey",
    "allowed",
    "due_timers",
    "event_for",
    "receive",
    "send",
    "tick",
]
