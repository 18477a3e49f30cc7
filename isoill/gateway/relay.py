"""The relay: what the gateway does with one APDU, decided without any I/O.

An APDU from a peer in network A arrives on *leg A* of its transaction, where the gateway
plays the other party (the responder to A's requester, or the requester to A's responder).
Leg A's protocol machine judges it; the mapping profile of network B makes it what B takes;
leg B's machine, where the gateway plays the sender's part towards B, checks that it may be
sent; and the result is a :class:`Step`: the two legs' new states, the raw APDUs for the log,
the outbox entry that forwards the APDU to B's peer, and the reply owed to the sender. The
caller commits the step's :class:`~isoill.gateway.store.Change` in one database transaction
and only then answers and delivers: bytes -> APDU -> machine -> mapping -> machine -> store
-> bytes.

If any check fails, nothing of the step but the log is kept and the sender gets an error
report saying why, so its transaction stays where it was and it may try again.

A *records* network (the NACSIS-ILL side) has no peers: its leg holds a NACSIS-style record
whose library acts through record commands (:meth:`Relay.command`); an APDU relayed to it
changes the record (state, history lines) instead of going to an outbox.

Replies the protocol expects locally come from the gateway itself: the status report that
acknowledges an accepted ILL-Request (what OCLC's service sent, and what yaz-illclient waits
for), error reports for prohibited transitions, unknown transactions, unknown senders and
undecodable APDUs, and the status report that answers a Status-Query. Status reports from the
far side are kept in that leg's history, not relayed: the sender had its acknowledgement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from isoill.apdu import encode
from isoill.apdu.apdus import APDU, ILLRequest, Shipped, StatusOrErrorReport
from isoill.apdu.enums import TransactionIdProblem, UnableToPerform
from isoill.apdu.types import SystemId
from isoill.gateway import iso18626_kind  # noqa: F401 (registers the iso18626 kind)
from isoill.gateway.config import ANONYMOUS_NETWORK, Config, Network
from isoill.gateway.kinds import Desk, kind_of, registered
from isoill.gateway.networks import records_settings, replace_leg
from isoill.gateway.profiles import MappingRefused, into
from isoill.gateway.store import Change, Loader, LogEntry, OutboxItem, StoredLeg
from isoill.machine import ProhibitedTransition, Role, Transaction, machine, reports
from isoill.machine.events import ORIGINATOR, SERVICE_NAMES
from isoill.machine.registry import is_new_request
from isoill.machine.transaction import TransactionKey
from isoill.mapping.commands import CommandRefused, Leg, json_options
from isoill.mapping.edit import edit
from isoill.mapping.messages import joined, say
from isoill.mapping.policy import Policy, PolicyError
from isoill.mapping.receive_guard import Action, dummy_record, letter_for
from isoill.mapping.record import Command, Record, RecordError, new_id, normalised
from isoill.mapping.to_iso import order_request

#: Turns an APDU into the partner leg after it, its outbox entries, or the error report
#: saying why the partner's network cannot take it (:meth:`Relay.forward`); what a desk of
#: another kind calls to send on the gateway's legs.
Forward = Callable[
    [APDU, StoredLeg, datetime],
    tuple[StoredLeg, tuple[OutboxItem, ...], StatusOrErrorReport | None],
]

#: The peer name of a records network's side of the log.
RECORDS_PEER = "records"

#: Bytes of an undecodable APDU kept in the APDU log (with the length and digest of all).
UNDECODABLE_KEPT = 4096

#: How the address of a sender that came by mail begins.
MAIL_SENDER = "mail:"


@dataclass(frozen=True)
class Sender:
    """Who is at the other end of an association: a configured peer, or (open gateways)
    an unconfigured client known by its address."""

    address: str
    peers: tuple[str, ...] = ()  # configured peers that may use this address

    @property
    def by_mail(self) -> bool:
        """A store-and-forward sender (its address ``mail:`` and its mailbox): it has no
        association to carry a reply back."""
        return self.address.startswith(MAIL_SENDER)


@dataclass(frozen=True)
class Step:
    """What one APDU (or one record command) does: commit ``change``, then send ``reply``
    (as ``reply_data``) on the association it came from. ``peer`` is who sent it, once
    identified (the association learns which peer it serves from it).

    Everything is decided here, once: the reply is encoded once, for the log entry and for
    the wire alike, and a sender that came by mail has it in ``change``'s outbox instead
    (``reply`` is then None: there is no association to send it on)."""

    change: Change
    reply: APDU | None = None
    peer: str | None = None
    network: str | None = None
    #: Why the APDU or command was refused, if it was (for the log and the HTTP answer).
    refused: list[str] | None = None
    #: The records leg after a record command or post.
    leg: StoredLeg | None = None
    #: ``reply``'s bytes, as logged and as they go out (safe for TCP).
    reply_data: bytes | None = None


class Refused(Exception):
    """The step cannot go on: the reply to send, and why."""

    def __init__(self, reply: StatusOrErrorReport | None, reasons: list[str]) -> None:
        self.reply = reply
        self.reasons = reasons
        super().__init__("; ".join(reasons))


def symbol_text(system: SystemId | None) -> str:
    if system is None or system.person_or_institution_symbol is None:
        return ""
    return system.person_or_institution_symbol.value.strip()


def log_entry(
    direction: str, peer: str, network: str, apdu: APDU, data: bytes, note: str = ""
) -> LogEntry:
    key = str(TransactionKey.of(apdu))
    return LogEntry(direction, peer, network, SERVICE_NAMES[apdu.apdu_type], key, data, note)


class Relay:
    """The gateway's decisions, given its configuration. Stateless: every fact about a
    transaction comes from ``load`` (the store)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        #: The decisions of each network kind that makes its own (a library's desk), by name.
        self.desks: dict[str, Desk] = {}
        for kind in registered():
            desk = kind.desk(config, self.forward)
            if desk is not None:
                self.desks[kind.name] = desk

    def desk_of(self, network: str) -> Desk | None:
        """The desk that decides for a network's legs, if its kind has one."""
        return self.desks.get(self.config.network(network).kind)

    def overdue(self, leg: StoredLeg, load: Loader, at: datetime) -> Change:
        """A leg's deadline has passed: what its network's desk does about it."""
        desk = self.desk_of(leg.network)
        return Change() if desk is None else desk.overdue(leg, load, at)

    # --- APDUs from ISO ILL peers ---------------------------------------------------------

    def inbound(self, sender: Sender, apdu: APDU, data: bytes, load: Loader, at: datetime) -> Step:
        """The step for ``apdu`` (``data``: its bytes as they came) from ``sender``, with its
        reply on the way the sender takes: its association, or the mail."""
        step = self._inbound(sender, apdu, data, load, at)
        return self._by_mail(step, data) if sender.by_mail else step

    def _inbound(self, sender: Sender, apdu: APDU, data: bytes, load: Loader, at: datetime) -> Step:
        key = str(TransactionKey.of(apdu))
        peer, network = self.identify(sender, apdu)
        if peer is None:
            claimed = self._claimed_symbol(apdu) or "no symbol"
            why = f"sender {sender.address} ({claimed}) is not configured on this gateway"
            reply = reports.user_error(apdu, f"unknown sender: {why}", why, at)
            return self._refusal(sender.address, "", apdu, data, reply, [why], at)
        assert network is not None
        received = log_entry("in", peer, network, apdu, data)
        try:
            return self._relay(peer, network, key, apdu, received, load, at)
        except Refused as refused:
            return self._refusal(peer, network, apdu, data, refused.reply, refused.reasons, at)

    def legs_of(self, apdu: APDU) -> list[tuple[str, str]]:
        """The legs (network, key) a step for ``apdu`` may load: its transaction's leg in
        each network. Read together before the step (:meth:`Store.commit_many`), they cost
        one query instead of one per leg; a leg the step loads that is not among them (a
        reader's request under a key of its own) is read on its own."""
        key = str(TransactionKey.of(apdu))
        return [(network.name, key) for network in self.config.networks]

    def undecodable(self, sender: Sender, data: bytes, why: str, at: datetime) -> Step:
        """The error report owed for bytes that did not decode, and what the log keeps of
        them: the first :data:`UNDECODABLE_KEPT` bytes, with the length and SHA-256 of the
        whole. Anyone may send such bytes, before any check of who they are, so keeping them
        whole would let a stranger fill the disk (40 APDUs of 1 MiB grew the store by
        42 MB); the prefix is enough to see what was sent, the digest to match a copy."""
        reply = reports.undecodable(f"the APDU could not be decoded: {why}", at)
        kept = data[:UNDECODABLE_KEPT]
        size = f"{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}"
        if len(kept) < len(data):
            size += f", the first {len(kept)} kept"
        entry = LogEntry("in", sender.address, "", "undecodable", "", kept, f"{why[:300]} ({size})")
        out, reply_data = self._out_entry(sender.address, "", reply)
        return Step(Change(log=(entry, out)), reply, refused=[why], reply_data=reply_data)

    def identify(self, sender: Sender, apdu: APDU) -> tuple[str | None, str | None]:
        """The peer that sent ``apdu`` and its network: a configured peer owning the symbol
        the APDU is sent under (and allowed at the sender's address), or, on an open
        gateway, an anonymous client named by that symbol."""
        symbol = self._claimed_symbol(apdu)
        for name in self._candidates(sender):
            peer = self.config.peer(name)
            if peer is not None and any(peer.owns(s) for s in self._sender_symbols(apdu)):
                return peer.name, peer.network
        if self.config.open and self.config.owner(symbol) is None:
            return f"client:{symbol or sender.address}", ANONYMOUS_NETWORK
        return None, None

    def _candidates(self, sender: Sender) -> list[str]:
        if sender.peers:
            return list(sender.peers)
        return [p.name for p in self.config.peers if not p.addresses]

    def _sender_symbols(self, apdu: APDU) -> list[str]:
        role = ORIGINATOR[apdu.apdu_type]
        if role is Role.REQUESTER:
            return [symbol_text(apdu.requester_id)]
        if role is Role.RESPONDER:
            return [symbol_text(apdu.responder_id)]
        return [symbol_text(apdu.requester_id), symbol_text(apdu.responder_id)]

    def _claimed_symbol(self, apdu: APDU) -> str:
        return next((s for s in self._sender_symbols(apdu) if s), "")

    def _relay(
        self,
        peer: str,
        network: str,
        key: str,
        apdu: APDU,
        received: LogEntry,
        load: Loader,
        at: datetime,
    ) -> Step:
        leg = load(network, key)
        if leg is None:
            if not isinstance(apdu, ILLRequest):
                if isinstance(apdu, StatusOrErrorReport):
                    raise Refused(None, ["a report for a transaction this gateway does not know"])
                problem = TransactionIdProblem.UNKNOWN_TRANSACTION_ID
                raise Refused(
                    reports.transaction_id_problem(apdu, problem, at),
                    [f"no transaction {key} in network {network}"],
                )
            return self._new_request(peer, network, key, apdu, received, load, at)
        if leg.peer != peer:
            why = f"transaction {key} belongs to {leg.peer}, not to {peer}"
            raise Refused(reports.user_error(apdu, f"not yours: {why}", why, at), [why])
        if is_new_request(leg.transaction, apdu):
            problem = TransactionIdProblem.DUPLICATE_TRANSACTION_ID
            raise Refused(
                reports.transaction_id_problem(apdu, problem, at),
                [f"transaction {key} exists already"],
            )
        outcome = machine.receive(leg.transaction, apdu, at=at)
        if outcome.repeated:
            # A peer re-sending after a lost connection: already relayed. A repeated
            # ILL-Request still gets its acknowledgement, which the peer is waiting for.
            reply = self._ack(leg.transaction, apdu, at) if isinstance(apdu, ILLRequest) else None
            return self._step(peer, network, (), (received,), (), reply)
        after = replace(leg, peer=peer, transaction=outcome.transaction)
        if not outcome.accepted or outcome.reply is not None or _absorbed(apdu):
            # Refused by leg A's table (with its report), answered here (Status-Query), or
            # a report that ends here: nothing to relay.
            refused = None
            if not outcome.accepted:
                refused = [outcome.reply.note or "refused"] if outcome.reply else ["refused"]
            return self._step(peer, network, (after,), (received,), (), outcome.reply, refused)
        partner = load(leg.partner, leg.other_key)
        if partner is None:
            raise Refused(
                reports.user_error(
                    apdu, UnableToPerform.OTHER, f"the other leg of {key} is missing", at
                ),
                [f"leg {leg.partner} {leg.other_key} is missing"],
            )
        desk = self.desk_of(partner.network)
        if desk is not None:
            # A library's request on this gateway: its desk decides (the rota, the staff's
            # view), and answers the supplier itself when it must.
            legs, queued = desk.arrived(apdu, after, partner, at)
            return self._step(peer, network, legs, (received,), queued, None)
        moved, items, reply = self.forward(apdu, partner, at)
        if reply is not None:
            raise Refused(reply, [reply.note or "refused by the other leg"])
        return self._step(peer, network, (after, moved), (received,), items, None)

    def _new_request(
        self,
        peer: str,
        network: str,
        key: str,
        apdu: ILLRequest,
        received: LogEntry,
        load: Loader,
        at: datetime,
    ) -> Step:
        target, target_network = self._route(apdu, network, at)
        outcome = machine.receive(Transaction(Role.RESPONDER, apdu.transaction_id), apdu, at=at)
        if not outcome.accepted:
            assert outcome.reply is not None
            raise Refused(outcome.reply, [outcome.reply.note or "refused"])
        here = StoredLeg(network, key, peer, target_network.name, outcome.transaction)
        if load(target_network.name, key) is not None:
            why = f"transaction {key} exists already in network {target_network.name}"
            raise Refused(
                reports.transaction_id_problem(
                    apdu, TransactionIdProblem.DUPLICATE_TRANSACTION_ID, at
                ),
                [why],
            )
        items: tuple[OutboxItem, ...] = ()
        desk = self.desk_of(target_network.name)
        if desk is not None:
            # A request to a library on this gateway: it waits for that library's staff.
            moved = desk.new_request(apdu, key, network, target_network, at)
        else:
            there = kind_of(target_network).open_leg(apdu, key, network, target_network, target)
            moved, items, reply = self.forward(apdu, there, at)
            if reply is not None:
                raise Refused(reply, [reply.note or "refused by the other leg"])
        ack = self._ack(here.transaction, apdu, at)
        here = StoredLeg(
            here.network, key, peer, here.partner, _sent(here.transaction, ack, at), None, 0
        )
        return self._step(peer, network, (here, moved), (received,), items, ack)

    def _route(self, request: ILLRequest, network: str, at: datetime) -> tuple[str | None, Network]:
        """Where a new request goes: the peer that owns the responder's symbol, in another
        network, or the default network when no peer does."""
        symbol = symbol_text(request.responder_id)
        here = self.config.answering(symbol) if symbol else None
        if here is not None and here.name != network:
            return None, here
        owner = self.config.owner(symbol) if symbol else None
        if owner is not None:
            if owner.network == network:
                why = f"{symbol} is in the sender's own network {network}: send it there directly"
                raise Refused(
                    reports.user_error(request, UnableToPerform.NOT_AVAILABLE, why, at), [why]
                )
            return owner.name, self.config.network(owner.network)
        default = self.config.default_network
        if default is None or default.name == network:
            why = f"no network on this gateway serves responder {symbol or '(none given)'}"
            raise Refused(
                reports.user_error(request, UnableToPerform.NOT_AVAILABLE, why, at), [why]
            )
        return None, default

    def _ack(self, txn: Transaction, request: APDU, at: datetime) -> StatusOrErrorReport:
        me = request.responder_id or SystemId()
        return reports.status_report(txn, request, me, at)

    # --- onto the other leg ---------------------------------------------------------------

    def forward(
        self, apdu: APDU, partner: StoredLeg, at: datetime
    ) -> tuple[StoredLeg, tuple[OutboxItem, ...], StatusOrErrorReport | None]:
        """The partner leg after ``apdu`` crosses to it, the outbox entry if it goes to a
        peer, or the error report explaining why it cannot."""
        network = self.config.network(partner.network)
        try:
            mapped = into(network.name, network.profile, apdu)
        except MappingRefused as refused:
            why = f"{network.name} cannot take it: " + "; ".join(refused.reasons)
            return partner, (), reports.user_error(apdu, UnableToPerform.OTHER, why, at)
        return kind_of(network).cross(apdu, mapped, partner, network, at)

    # --- the records network (record commands over HTTP) ----------------------------------

    def records_network(self) -> Network:
        found = [n for n in self.config.networks if kind_of(n).holds_records]
        if not found:
            raise ValueError(say("no-records-network"))
        return next((n for n in found if n.default), found[0])

    def post_record(
        self, record: Record, find: Callable[[str], StoredLeg | None], at: datetime
    ) -> Step:
        """A library's new request record: checked against the GIF rules at once (the
        ILL-Request it will send must be possible), stored, not yet ordered. A record without
        an ID gets one in NACSIS's style, as ``isoill nacsis order`` gives it: staff enter
        requests before NACSIS has numbered them, and the answer's record says which.
        Full-width typing is made single-byte (NFKC) as ``nacsis order`` does, each field so
        changed noted in the record's history, which the answer shows."""
        if not (record.ID or "").strip():
            record = record.replace(ID=_unused_id(find))
        record, notes = normalised(record)
        record = record.with_history(*(f"NFKC {at:%Y%m%d %H%M%S}: {note}" for note in notes))
        assert record.ID is not None
        if find(record.ID) is not None:
            raise RecordError([say("record-exists", id=record.ID)])
        request = order_request(record, at=at)
        network = self.records_network()
        _, partner = self._route(request, network.name, at)
        leg = Leg.requester(record, request)
        stored = StoredLeg(
            network.name,
            str(TransactionKey.of(request)),
            "",
            partner.name,
            leg.transaction,
            leg.record.replace(ISOSTAT=None),
        )
        return Step(Change(legs=(stored,)), leg=stored)

    def command(
        self,
        record_id: str,
        command: Command,
        options: dict[str, Any],
        find: Callable[[str], StoredLeg | None],
        load: Loader,
        at: datetime,
        by: str | None = None,
    ) -> Step:
        """A record command: the record's leg (its library's protocol machine) carries it
        out, and each APDU it sends crosses to the ISO leg and its peer's outbox. ``options``
        are as JSON gives them (ValueError for bad ones); ``by`` is who gave the command.
        RECEIVE and BORROW are checked against the lender's policy from the network's
        table. Raises KeyError for an unknown record and CommandRefused with every reason."""
        stored = self._stored(record_id, find)
        options = json_options(command, options)
        if by is not None:
            options["by"] = by
        record = stored.record or Record(ID=record_id)
        if (
            command in (Command.RECEIVE, Command.BORROW)
            and stored.transaction.role is Role.REQUESTER
        ):
            options["policy"] = self._policy(stored.network, record, stored.transaction, command)
        leg, apdus = Leg(record, stored.transaction).command(command, at=at, **options)
        after = replace_leg(stored, leg.transaction, leg.record)
        legs: list[StoredLeg] = [after]
        items: list[OutboxItem] = []
        log: list[LogEntry] = []
        for apdu in apdus:
            partner = load(stored.partner, stored.key)
            if partner is None:  # the first APDU (ORDER's ILL-Request) opens the ISO leg
                target, _ = (
                    self._route(apdu, stored.network, at)
                    if isinstance(apdu, ILLRequest)
                    else (None, None)
                )
                if target is None:
                    raise CommandRefused(command, [say("no-iso-leg", key=stored.key)])
                partner = StoredLeg(
                    stored.partner,
                    stored.key,
                    target,
                    stored.network,
                    Transaction(after.transaction.role, apdu.transaction_id),
                )
            moved, queued, refusal = self.forward(apdu, partner, at)
            if refusal is not None:
                note = refusal.note or "refused by the ISO leg"
                raise CommandRefused(command, [say("iso-refused", note=note)])
            legs.append(moved)
            items.extend(queued)
            log.append(log_entry("in", RECORDS_PEER, stored.network, apdu, encode(apdu)))
        return Step(Change(tuple(legs), tuple(log), tuple(items)), leg=after)

    def edit(
        self,
        record_id: str,
        changes: Any,
        find: Callable[[str], StoredLeg | None],
        at: datetime,
        by: str | None = None,
    ) -> Step:
        """Staff's edit of a record's fields (:func:`isoill.mapping.edit.edit`): KeyError for
        an unknown record, RecordError with every field refused."""
        stored = self._stored(record_id, find)
        record = stored.record or Record(ID=record_id)
        changed = edit(record, stored.transaction.role, changes, at=at, by=by or "(not said)")
        after = replace_leg(stored, stored.transaction, changed)
        return Step(Change(legs=(after,)), leg=after)

    def dummy(
        self,
        record_id: str,
        oclc_number: str,
        lender_staff: str,
        find: Callable[[str], StoredLeg | None],
    ) -> tuple[Step, Record]:
        """The dummy record of a record (guide 2.6 ☆), and the step that marks the original
        for CANCEL: KeyError for an unknown record, RecordError with every reason."""
        stored = self._stored(record_id, find)
        dummy, original = dummy_record(stored.record or Record(), oclc_number, lender_staff)
        after = replace_leg(stored, stored.transaction, original)
        return Step(Change(legs=(after,)), leg=after), dummy

    def letter(
        self, record_id: str, case: str, problem: str, find: Callable[[str], StoredLeg | None]
    ) -> Action:
        """The letter of one of the guide's cases for a record, filled from the lender's
        Shipped the transaction holds and the lender's policy from the network's table."""
        stored = self._stored(record_id, find)
        record = stored.record or Record(ID=record_id)
        shipped = stored.transaction.apdus(Shipped)
        policy = self._policy(stored.network, record, stored.transaction, Command.RECEIVE)
        return letter_for(case, record, shipped[-1] if shipped else None, policy, problem=problem)

    def _stored(self, record_id: str, find: Callable[[str], StoredLeg | None]) -> StoredLeg:
        stored = find(record_id)
        if stored is None:
            raise KeyError(record_id)
        return stored

    def _policy(
        self, network: str, record: Record, txn: Transaction, command: Command
    ) -> Policy | None:
        """The lender's lending policy from the records network's table (read again when the
        file changed): by HMLISO, else by the Shipped's responder."""
        policy_file = records_settings(self.config.network(network)).policy_file
        if policy_file is None:
            return None
        try:
            table = policy_file.current()
        except (PolicyError, OSError) as err:
            why = joined(err.reasons, "; ", "。") if isinstance(err, PolicyError) else err.strerror
            unreadable = say("policies-unreadable", file=policy_file.path.name, why=why)
            raise CommandRefused(command, [unreadable]) from None
        shipped = txn.apdus(Shipped)
        responder = shipped[-1].responder_id if shipped else None
        symbols = (record.HMLISO, None if responder is None else responder.symbol)
        return next((p for s in symbols if (p := table.lookup(s)) is not None), None)

    # --- helpers --------------------------------------------------------------------------

    def _step(
        self,
        peer: str,
        network: str,
        legs: tuple[StoredLeg, ...],
        log: tuple[LogEntry, ...],
        items: tuple[OutboxItem, ...],
        reply: APDU | None,
        refused: list[str] | None = None,
    ) -> Step:
        reply_data = None
        if reply is not None:
            out, reply_data = self._out_entry(peer, network, reply)
            log = (*log, out)
        return Step(Change(legs, log, items), reply, peer, network, refused, reply_data=reply_data)

    def _refusal(
        self,
        peer: str,
        network: str,
        apdu: APDU,
        data: bytes,
        reply: StatusOrErrorReport | None,
        reasons: list[str],
        at: datetime,
    ) -> Step:
        received = log_entry("in", peer, network, apdu, data, "refused: " + "; ".join(reasons))
        return self._step(peer, network, (), (received,), (), reply, reasons)

    def _out_entry(self, peer: str, network: str, reply: APDU) -> tuple[LogEntry, bytes]:
        """The reply encoded once: its log entry, and the same bytes to send."""
        data = encode(reply, tcp_safe=True)
        return log_entry("out", peer, network, reply, data, "reply"), data

    def _by_mail(self, step: Step, data: bytes) -> Step:
        """A sender that came by mail is answered by mail: the reply an association would
        carry is queued in the outbox for the peer's mailbox, committed with the step (a
        sender with no mailbox is not answered; the reply is in the log all the same)."""
        reply, reply_data = step.reply, step.reply_data
        peer = None if step.peer is None else self.config.peer(step.peer)
        if reply is None or reply_data is None or peer is None or not peer.mail:
            return replace(step, reply=None, reply_data=None)
        digest = hashlib.sha256(data + reply_data).hexdigest()[:24]
        item = OutboxItem(
            f"{peer.name}|reply|{digest}",
            peer.name,
            step.network or "",
            SERVICE_NAMES[reply.apdu_type],
            str(TransactionKey.of(reply)),
            reply_data,
        )
        change = replace(step.change, outbox=(*step.change.outbox, item))
        return replace(step, change=change, reply=None, reply_data=None)


def _absorbed(apdu: APDU) -> bool:
    """A status report (not an error) from the far side ends at the gateway."""
    return isinstance(apdu, StatusOrErrorReport) and apdu.error_report is None


def _sent(txn: Transaction, reply: APDU, at: datetime) -> Transaction:
    """The transaction after the gateway's own reply, when the table lets it be noted."""
    try:
        return machine.send(txn, reply, at=at)
    except ProhibitedTransition:
        return txn


def _unused_id(find: Callable[[str], StoredLeg | None]) -> str:
    """A new record ID no stored record has (random IDs seldom meet, but one that did would
    be refused as existing)."""
    while find(assigned := new_id()) is not None:
        pass
    return assigned
