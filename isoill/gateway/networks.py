"""The core's two network kinds (:mod:`isoill.gateway.kinds`): ``iso`` and ``records``.

An ``iso`` network's legs go to peers that speak ISO ILL: an APDU crossing onto one is sent
by the leg's protocol machine and queued in the outbox for its peer. A ``records`` network's
legs hold a NACSIS-style record whose library acts through record commands: an APDU crossing
onto one changes the record (state, history lines) instead of going to an outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from isoill.apdu import encode
from isoill.apdu.apdus import APDU, ILLRequest, StatusOrErrorReport
from isoill.apdu.enums import UnableToPerform
from isoill.apdu.errors import EncodeError
from isoill.gateway.config import Network, dataclass_from
from isoill.gateway.kinds import NetworkKind, register
from isoill.gateway.store import OutboxItem, StoredLeg
from isoill.machine import ProhibitedTransition, Role, Transaction, machine, reports
from isoill.machine.events import SERVICE_NAMES
from isoill.mapping.commands import Leg
from isoill.mapping.policy import PolicyError, PolicyFile
from isoill.mapping.record import Record
from isoill.mapping.to_iso import record_from_request


class CannotTake(Exception):
    """The APDU has no form on the partner's wire; the text says why."""


class IsoKind(NetworkKind):
    name = "iso"
    has_peers = True

    def wire(self, apdu: APDU, network: Network, sent: Transaction) -> tuple[str, bytes] | None:
        """What carries ``apdu`` to a peer of ``network`` (None: nothing goes out), ``sent``
        being the leg's transaction after it: the name it is counted and logged under, and
        its bytes. On an ISO ILL network: the APDU's name and its BER."""
        try:
            return SERVICE_NAMES[apdu.apdu_type], encode(apdu, tcp_safe=True)
        except EncodeError as err:
            raise CannotTake(str(err)) from None

    def open_leg(
        self, request: ILLRequest, key: str, sender_network: str, network: Network, peer: str | None
    ) -> StoredLeg:
        assert peer is not None
        return StoredLeg(
            network.name,
            key,
            peer,
            sender_network,
            Transaction(Role.REQUESTER, request.transaction_id),
        )

    def cross(
        self, original: APDU, mapped: APDU, partner: StoredLeg, network: Network, at: datetime
    ) -> tuple[StoredLeg, tuple[OutboxItem, ...], StatusOrErrorReport | None]:
        try:
            sent = machine.send(partner.transaction, mapped, at=at)
        except ProhibitedTransition as refused:
            report = reports.prohibited(
                original, refused.transaction.state, refused.transaction.role, at
            )
            return partner, (), report
        try:
            wired = self.wire(mapped, network, sent)
        except CannotTake as err:
            # A value the codec read from the sender but cannot write for the other network
            # (a character outside a string type's alphabet, a size the standard does not
            # allow, a party ISO 18626 cannot name): that network cannot take it, and the
            # sender is told why.
            why = f"{partner.network} cannot take it: {err}"
            return partner, (), reports.user_error(original, UnableToPerform.OTHER, why, at)
        if wired is None:
            return replace_leg(partner, sent, partner.record), (), None
        name, data = wired
        sequence = len(sent.apdus(type(mapped)))
        item = OutboxItem(
            dedup=f"{partner.peer}|{partner.key}|{SERVICE_NAMES[mapped.apdu_type]}|{sequence}",
            peer=partner.peer,
            network=partner.network,
            apdu_type=name,
            key=partner.key,
            data=data,
        )
        return replace_leg(partner, sent, partner.record), (item,), None


@dataclass(frozen=True)
class RecordsSettings:
    #: The lenders' lending policies (CSV, :mod:`isoill.mapping.policy`), relative to the
    #: configuration's folder: what RECEIVE compares the charge with (N-15). Without it,
    #: RECEIVE is refused until staff force it.
    policies: str | None = None
    #: The file itself, read again when it changes (set from ``policies``).
    policy_file: PolicyFile | None = None


def records_settings(network: Network) -> RecordsSettings:
    settings = network.settings
    return settings if isinstance(settings, RecordsSettings) else RecordsSettings()


class RecordsKind(NetworkKind):
    name = "records"
    holds_records = True

    def settings(
        self,
        network: str,
        table: dict[str, Any],
        where: str,
        problems: list[str],
        here: Path | None,
    ) -> object:
        settings: RecordsSettings = dataclass_from(
            RecordsSettings, {k: v for k, v in table.items() if k != "policy_file"}, where, problems
        )
        if "policy_file" in table:
            problems.append(f"{where}: unknown setting(s) policy_file")
        if settings.policies is None:
            return settings
        path = Path(settings.policies)
        policy_file = PolicyFile(path if path.is_absolute() or here is None else here / path)
        try:
            policy_file.current()  # a table with mistakes is reported now, not at RECEIVE
        except PolicyError as err:
            problems.extend(f"{where}: policies {settings.policies}: {p}" for p in err.reasons)
        except OSError as err:
            problems.append(f"{where}: policies {settings.policies}: {err.strerror}")
        return replace(settings, policy_file=policy_file)

    def open_leg(
        self, request: ILLRequest, key: str, sender_network: str, network: Network, peer: str | None
    ) -> StoredLeg:
        record = record_from_request(request)
        return StoredLeg(
            network.name,
            key,
            "",
            sender_network,
            Transaction(Role.RESPONDER, request.transaction_id),
            record.replace(ID=record.ID or key),
        )

    def cross(
        self, original: APDU, mapped: APDU, partner: StoredLeg, network: Network, at: datetime
    ) -> tuple[StoredLeg, tuple[OutboxItem, ...], StatusOrErrorReport | None]:
        assert partner.record is not None
        leg, outcome = Leg(partner.record, partner.transaction).receive(mapped, at=at)
        if not outcome.accepted and not outcome.repeated:
            return (
                partner,
                (),
                outcome.reply
                or reports.prohibited(
                    original, partner.transaction.state, partner.transaction.role, at
                ),
            )
        return replace_leg(partner, leg.transaction, leg.record), (), None


def replace_leg(leg: StoredLeg, txn: Transaction, record: Record | None) -> StoredLeg:
    """The leg with a new protocol state (and record); everything else it carries (its
    partner's key, its payload, its version) stays."""
    return replace(leg, transaction=txn, record=record)


register(IsoKind())
register(RecordsKind())
