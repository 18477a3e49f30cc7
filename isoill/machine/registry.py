"""All the transactions one party runs in one role, found by their Transaction-Id.

This is where transaction-id problems are caught, before any state table is consulted: an
APDU for a transaction nobody started is answered with transaction-id-problem
unknown-transaction-id, and a second, different ILL-Request with an id already in use with
duplicate-transaction-id (a NACSIS-ILL record re-sent with its old id is the classic case).
Like a :class:`~isoill.machine.transaction.Transaction`, the registry is a value: each method
returns a new one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from isoill.apdu.apdus import APDU, ILLRequest
from isoill.apdu.enums import ILLAPDUType, TransactionIdProblem
from isoill.machine import machine, reports
from isoill.machine.events import Direction, Role, State, event_for
from isoill.machine.machine import Outcome, ProhibitedTransition
from isoill.machine.transaction import Transaction, TransactionKey


@dataclass(frozen=True)
class Transactions:
    role: Role
    by_key: Mapping[TransactionKey, Transaction] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __len__(self) -> int:
        return len(self.by_key)

    def __iter__(self) -> Iterator[Transaction]:
        return iter(self.by_key.values())

    def get(self, apdu: APDU) -> Transaction | None:
        return self.by_key.get(TransactionKey.of(apdu))

    def _with(self, txn: Transaction, key: TransactionKey) -> Transactions:
        updated = dict(self.by_key)
        updated[key] = txn
        return Transactions(self.role, MappingProxyType(updated))

    def receive(self, apdu: APDU, *, at: datetime | None = None) -> tuple[Transactions, Outcome]:
        """Route an arriving APDU to its transaction (starting one for a new ILL-Request)."""
        at = at or datetime.now()
        key = TransactionKey.of(apdu)
        txn = self.by_key.get(key)
        if txn is None:
            fresh = Transaction(self.role, apdu.transaction_id)
            if isinstance(apdu, ILLRequest):
                outcome = machine.receive(fresh, apdu, at=at)
                return self._with(outcome.transaction, key), outcome
            if apdu.apdu_type is ILLAPDUType.STATUS_OR_ERROR_REPORT:
                return self, Outcome(fresh, None)  # never answer a report with another
            problem = TransactionIdProblem.UNKNOWN_TRANSACTION_ID
            return self, Outcome(fresh, None, reports.transaction_id_problem(apdu, problem, at))
        if is_new_request(txn, apdu):
            problem = TransactionIdProblem.DUPLICATE_TRANSACTION_ID
            return self, Outcome(txn, None, reports.transaction_id_problem(apdu, problem, at))
        outcome = machine.receive(txn, apdu, at=at)
        return self._with(outcome.transaction, key), outcome

    def send(self, apdu: APDU, *, at: datetime | None = None) -> Transactions:
        """Record an APDU this party sends; ProhibitedTransition if it may not."""
        at = at or datetime.now()
        key = TransactionKey.of(apdu)
        txn = self.by_key.get(key)
        problem = None
        if txn is None and not isinstance(apdu, ILLRequest):
            problem = TransactionIdProblem.UNKNOWN_TRANSACTION_ID
        elif txn is not None and is_new_request(txn, apdu):
            problem = TransactionIdProblem.DUPLICATE_TRANSACTION_ID
        if problem is not None:
            txn = txn or Transaction(self.role, apdu.transaction_id)
            report = reports.transaction_id_problem(apdu, problem, at)
            raise ProhibitedTransition(txn, event_for(apdu, Direction.SEND), report)
        txn = txn or Transaction(self.role, apdu.transaction_id)
        return self._with(machine.send(txn, apdu, at=at), key)

    def tick(self, now: datetime) -> tuple[Transactions, list[APDU]]:
        """Run every transaction's timers: the registry after, and the APDUs to send."""
        updated = dict(self.by_key)
        sent: list[APDU] = []
        for key, txn in self.by_key.items():
            after, apdus = machine.tick(txn, now)
            if apdus:
                updated[key] = after
                sent.extend(apdus)
        return Transactions(self.role, MappingProxyType(updated)), sent


def is_new_request(txn: Transaction, apdu: APDU) -> bool:
    """A second ILL-Request under an id in use, other than an exact repeat of the first
    and other than the one an intermediary forwards under the same id."""
    if not isinstance(apdu, ILLRequest) or apdu.forward_flag:
        return False
    return txn.state is not State.IDLE and apdu != txn.request
