"""The ILL protocol machine: requester, responder and intermediary state tables. No I/O.

Events in, new values out, as in h11: :func:`send` and :func:`receive` take a
:class:`Transaction` and an APDU and give the transaction after it (and, for a received APDU,
the reply the protocol prescribes); :class:`Transactions` finds the transaction an APDU belongs
to; :class:`Intermediary` passes requests on. The tables are data, in ``rows/*.txt``.

>>> import isoill
>>> from isoill.machine import Role, Transaction, receive
>>> request = isoill.ILLRequest(
...     transaction_id=isoill.TransactionId(transaction_group_qualifier="G",
...                                         transaction_qualifier="1"),
...     item_id=isoill.ItemId(title="Interlending & Document Supply"))
>>> outcome = receive(Transaction(Role.RESPONDER, request.transaction_id), request)
>>> str(outcome.transaction.state)
'IN-PROCESS'
"""

from isoill.machine.events import Direction, Event, Role, State, Timer, event_for
from isoill.machine.intermediary import Intermediary, NotPermitted
from isoill.machine.machine import (
    Outcome,
    ProhibitedTransition,
    allowed,
    due_timers,
    receive,
    send,
    tick,
)
from isoill.machine.registry import Transactions
from isoill.machine.tables import TABLES, Row, Table
from isoill.machine.transaction import HistoryEntry, Transaction, TransactionKey

__all__ = [
    "TABLES",
    "Direction",
    "Event",
    "HistoryEntry",
    "Intermediary",
    "NotPermitted",
    "Outcome",
    "ProhibitedTransition",
    "Role",
    "Row",
    "State",
    "Table",
    "Timer",
    "Transaction",
    "TransactionKey",
    "Transactions",
    "allowed",
    "due_timers",
    "event_for",
    "receive",
    "send",
    "tick",
]
