"""The intermediary: a party that takes a request and finds it a responder.

An intermediary (a CALIS centre, OCLC between NACSIS-ILL and its lenders) runs the
intermediary table toward the requester (its *upstream* leg: the responder's rows plus
forwarding) and, for chained and partitioned transactions, one requester machine per
sub-transaction toward each responder it tries. Three ways to pass a request on, each
allowed only when the requester's Third-Party-Info-Type grants it (the permissions are
DEFAULT FALSE, so a request without them may not be passed on at all):

* **forward**: the same transaction-id goes to the new responder with forward-flag set, a
  Forward-Notification tells the requester, and the intermediary drops out (FORWARD);
* **chain**: a sub-transaction of its own (initial-requester-id + sub-transaction-qualifier),
  the intermediary relaying every service between the two legs;
* **partition**: as chain, but the responder deals with the initial requester directly for
  delivery, so the initial-requester-address must be known.

Who to try next comes from the send-to-list (in order when the preference is ordered)
less the already-tried-list, which grows with every responder that could not supply.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from isoill.apdu.apdus import (
    APDU,
    ForwardNotification,
    ILLAnswer,
    ILLRequest,
    Shipped,
)
from isoill.apdu.enums import Preference, TransactionResults, TransactionType
from isoill.apdu.types import (
    SendToListEntry,
    SystemId,
    ThirdPartyInfoType,
    TransactionId,
)
from isoill.errors import IsoillError
from isoill.machine import machine, reports
from isoill.machine.events import ORIGINATOR, Role, State
from isoill.machine.machine import Outcome
from isoill.machine.transaction import Transaction


class NotPermitted(IsoillError):
    """The requester did not allow this (Third-Party-Info-Type permissions), or something
    the standard makes mandatory for it is missing."""


@dataclass(frozen=True)
class Intermediary:
    """One transaction as an intermediary sees it."""

    me: SystemId
    upstream: Transaction
    subs: tuple[Transaction, ...] = ()

    @classmethod
    def start(
        cls, me: SystemId, request: ILLRequest, *, at: datetime | None = None
    ) -> tuple[Intermediary, Outcome]:
        """Receive the requester's ILL-Request."""
        outcome = machine.receive(
            Transaction(Role.INTERMEDIARY, request.transaction_id), request, at=at
        )
        return cls(me, outcome.transaction), outcome

    @property
    def request(self) -> ILLRequest:
        request = self.upstream.request
        assert request is not None, "an intermediary always starts from a request"
        return request

    @property
    def third_party(self) -> ThirdPartyInfoType:
        return self.request.third_party_info_type or ThirdPartyInfoType()

    # --- who to try ----------------------------------------------------------------------

    def already_tried(self) -> tuple[SystemId, ...]:
        """The request's already-tried-list, plus every responder of a sub-transaction that
        ended without supplying."""
        tried = list(self.third_party.already_tried_list or ())
        for sub in self.subs:
            responder = sub.responder_id
            ended = sub.state in (State.NOT_SUPPLIED, State.CANCELLED)
            if ended and responder is not None and responder not in tried:
                tried.append(responder)
        return tuple(tried)

    def candidates(self) -> list[SendToListEntry]:
        """Responders still to try, best first: the send-to-list less those tried and those
        being tried. With an unordered preference the list order is only a suggestion."""
        busy = {sub.responder_id for sub in self.subs if not sub.is_final}
        tried = set(self.already_tried()) | busy
        return [
            entry for entry in self.third_party.send_to_list or () if entry.system_id not in tried
        ]

    @property
    def must_follow_order(self) -> bool:
        return self.third_party.preference is Preference.ORDERED

    # --- passing the request on ----------------------------------------------------------

    def forward(
        self, to: SendToListEntry, *, at: datetime | None = None, note: str | None = None
    ) -> tuple[Intermediary, list[APDU]]:
        """FORWARD: the forwarded ILL-Request for ``to`` and the Forward-Notification for
        the requester, in the order to send them; the intermediary is then in FORWARD."""
        self._permitted(self.third_party.permission_to_forward, "forward")
        at = at or datetime.now()
        stamp = reports.service_date_time(at)
        forwarded = dataclasses.replace(
            self.request,
            service_date_time=stamp,
            responder_id=to.system_id,
            forward_flag=True,
            third_party_info_type=self._passed_on_info(),
        )
        notice = ForwardNotification(
            transaction_id=self.request.transaction_id,
            protocol_version_num=self.request.protocol_version_num,
            service_date_time=stamp,
            requester_id=self.request.requester_id,
            responder_id=to.system_id,
            intermediary_id=self.me,
            responder_address=to.system_address,
            notification_note=note,
        )
        upstream = machine.send(self.upstream, forwarded, at=at)
        upstream = machine.send(upstream, notice, at=at)
        return dataclasses.replace(self, upstream=upstream), [forwarded, notice]

    def chain(
        self, to: SendToListEntry, sub_qualifier: str, *, at: datetime | None = None
    ) -> tuple[Intermediary, ILLRequest]:
        """Start a chained sub-transaction with ``to``: the ILL-Request to send it."""
        self._permitted(self.third_party.permission_to_chain, "chain")
        return self._sub_request(to, sub_qualifier, TransactionType.CHAINED, at)

    def partition(
        self, to: SendToListEntry, sub_qualifier: str, *, at: datetime | None = None
    ) -> tuple[Intermediary, ILLRequest]:
        """Start a partitioned sub-transaction with ``to``: the ILL-Request to send it."""
        self._permitted(self.third_party.permission_to_partition, "partition")
        if self.third_party.initial_requester_address is None:
            raise NotPermitted(
                "a partitioned sub-transaction needs the initial-requester-address (the "
                "responder delivers to the initial requester), and the request has none"
            )
        return self._sub_request(to, sub_qualifier, TransactionType.PARTITIONED, at)

    def _permitted(self, granted: bool, what: str) -> None:
        if not granted:
            raise NotPermitted(
                f"the requester did not give permission-to-{what} "
                "(Third-Party-Info-Type; the permissions default to FALSE)"
            )
        if self.upstream.state not in (State.IN_PROCESS, State.PENDING):
            raise NotPermitted(
                f"a request can be passed on only while it is being processed; the "
                f"transaction is {self.upstream.state}"
            )

    def _passed_on_info(self) -> ThirdPartyInfoType:
        """The requester's third-party info, with this intermediary added as tried."""
        tried = self.already_tried()
        if self.me not in tried:
            tried = (*tried, self.me)
        return dataclasses.replace(self.third_party, already_tried_list=tried)

    def _sub_request(
        self, to: SendToListEntry, sub_qualifier: str, kind: TransactionType, at: datetime | None
    ) -> tuple[Intermediary, ILLRequest]:
        at = at or datetime.now()
        original = self.request.transaction_id
        if any(s.transaction_id.sub_transaction_qualifier == sub_qualifier for s in self.subs):
            raise NotPermitted(f"sub-transaction {sub_qualifier!r} exists already")
        sub_id = TransactionId(
            # Mandatory for sub-transactions: who started the whole transaction.
            initial_requester_id=original.initial_requester_id or self.request.requester_id,
            transaction_group_qualifier=original.transaction_group_qualifier,
            transaction_qualifier=original.transaction_qualifier,
            sub_transaction_qualifier=sub_qualifier,
        )
        request = dataclasses.replace(
            self.request,
            transaction_id=sub_id,
            service_date_time=reports.service_date_time(at),
            requester_id=self.me,
            responder_id=to.system_id,
            transaction_type=kind,
            forward_flag=False,
            third_party_info_type=self._passed_on_info(),
        )
        sub = machine.send(Transaction(Role.REQUESTER, sub_id), request, at=at)
        return dataclasses.replace(self, subs=(*self.subs, sub)), request

    # --- running the legs ----------------------------------------------------------------

    def sub_for(self, apdu: APDU) -> Transaction:
        qualifier = apdu.transaction_id.sub_transaction_qualifier
        for sub in self.subs:
            if sub.transaction_id.sub_transaction_qualifier == qualifier:
                return sub
        raise KeyError(f"no sub-transaction {qualifier!r}")

    def _replace_sub(self, new: Transaction) -> Intermediary:
        subs = tuple(new if s.transaction_id == new.transaction_id else s for s in self.subs)
        return dataclasses.replace(self, subs=subs)

    def receive_upstream(
        self, apdu: APDU, *, at: datetime | None = None
    ) -> tuple[Intermediary, Outcome]:
        outcome = machine.receive(self.upstream, apdu, at=at)
        return dataclasses.replace(self, upstream=outcome.transaction), outcome

    def receive_sub(
        self, apdu: APDU, *, at: datetime | None = None
    ) -> tuple[Intermediary, Outcome]:
        outcome = machine.receive(self.sub_for(apdu), apdu, at=at)
        return self._replace_sub(outcome.transaction), outcome

    def relay_up(self, apdu: APDU, *, at: datetime | None = None) -> tuple[Intermediary, APDU]:
        """A responder's APDU from a chained sub-transaction, rewritten for the requester
        and sent on the upstream leg (ProhibitedTransition if that leg may not carry it).
        A Shipped names the actual supplier, as the standard's supplier-id is for."""
        self._check_relay(apdu, Role.RESPONDER)
        at = at or datetime.now()
        sub = self.sub_for(apdu)
        relayed = dataclasses.replace(
            apdu,
            transaction_id=self.request.transaction_id,
            service_date_time=reports.service_date_time(at),
            requester_id=self.request.requester_id,
            responder_id=self.request.responder_id or self.me,
        )
        if isinstance(relayed, Shipped) and relayed.supplier_id is None:
            relayed = dataclasses.replace(relayed, supplier_id=sub.responder_id)
        upstream = machine.send(self.upstream, relayed, at=at)
        return dataclasses.replace(self, upstream=upstream), relayed

    def relay_down(
        self, apdu: APDU, sub_qualifier: str, *, at: datetime | None = None
    ) -> tuple[Intermediary, APDU]:
        """A requester's APDU from upstream, rewritten for one sub-transaction and sent
        there (ProhibitedTransition if that sub-transaction may not carry it)."""
        self._check_relay(apdu, Role.REQUESTER)
        at = at or datetime.now()
        sub = next(
            (s for s in self.subs if s.transaction_id.sub_transaction_qualifier == sub_qualifier),
            None,
        )
        if sub is None:
            raise KeyError(f"no sub-transaction {sub_qualifier!r}")
        relayed = dataclasses.replace(
            apdu,
            transaction_id=sub.transaction_id,
            service_date_time=reports.service_date_time(at),
            requester_id=self.me,
            responder_id=sub.responder_id or SystemId(),
        )
        return self._replace_sub(machine.send(sub, relayed, at=at)), relayed

    @staticmethod
    def _check_relay(apdu: APDU, origin: Role) -> None:
        if ORIGINATOR[apdu.apdu_type] not in (origin, None):
            raise ValueError(f"{type(apdu).__name__} does not come from the {origin}")

    def unfilled(
        self, *, at: datetime | None = None, note: str | None = None
    ) -> tuple[Intermediary, ILLAnswer]:
        """Nobody could supply: the ILL-Answer unfilled for the requester, carrying the
        already-tried-list so that it need not ask them again."""
        at = at or datetime.now()
        answer = ILLAnswer(
            transaction_id=self.request.transaction_id,
            protocol_version_num=self.request.protocol_version_num,
            service_date_time=reports.service_date_time(at),
            requester_id=self.request.requester_id,
            responder_id=self.request.responder_id,
            transaction_results=TransactionResults.UNFILLED,
            already_tried_list=self.already_tried() or None,
            responder_note=note,
        )
        upstream = machine.send(self.upstream, answer, at=at)
        return dataclasses.replace(self, upstream=upstream), answer
