"""The gateway process: associations, the relay, the store and the outbox put together.

This is the only place where the relay's decisions meet I/O, always in the same order:

1. an APDU arrives on an association (or a record command over HTTP);
2. :class:`~isoill.gateway.relay.Relay` decides the step from the stored legs;
3. the store commits the step in one transaction (a :class:`~isoill.gateway.store.Conflict`
   with another process makes the step be decided again from the fresh state);
4. only then does the sender get its reply, and the outbox deliver what the step queued.

A crash between 3 and 4 loses nothing: the sender re-sends (its APDU is recognised as a
repeat and acknowledged again) and the outbox resumes on restart. The outbox is also polled
once a second, for retries with exponential backoff and for items another gateway process
sharing a PostgreSQL store queued.
"""

from __future__ import annotations

import hashlib
import socket
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import IO, Any

from twisted.internet import defer
from twisted.internet.interfaces import IListeningPort, IReactorThreads
from twisted.logger import (
    FilteringLogObserver,
    Logger,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    jsonFileLogObserver,
)
from twisted.python.failure import Failure

import isoill
from isoill.apdu import APDU, Limits, UndecodableAPDU, encode
from isoill.apdu.codec import get_codec
from isoill.apdu.enums import UnableToPerform
from isoill.gateway import clock, http_post, iso18626_inbound, mail
from isoill.gateway.association import Association
from isoill.gateway.committer import GroupCommit
from isoill.gateway.config import Config
from isoill.gateway.connection import Received, Unframed
from isoill.gateway.metrics import Metrics
from isoill.gateway.relay import MAIL_SENDER, Relay, Sender, Step, log_entry
from isoill.gateway.store import (
    CONFLICT_RETRIES,
    Change,
    Committed,
    Conflict,
    Decided,
    Lease,
    Loader,
    LogEntry,
    OutboxItem,
    Stats,
    Store,
    StoredLeg,
)
from isoill.machine import reports
from isoill.machine.events import SERVICE_NAMES
from isoill.mapping.receive_guard import Action
from isoill.mapping.record import Command, Record

log = Logger()

#: Outbox items claimed at once by the poll.
DELIVERY_BATCH = 500


class Gateway:
    """One gateway process. ``reactor`` is passed in so that tests can use their own."""

    def __init__(
        self, config: Config, store: Store, reactor: Any, owner: str | None = None
    ) -> None:
        self.config = config
        self.store = store
        self.reactor = reactor
        self.relay = Relay(config)
        self.metrics = Metrics()
        #: Who holds outbox leases: stable across restarts of the same process, so that a
        #: restarted gateway takes its own leases back at once.
        self.owner = owner or f"{socket.gethostname()} {config.ill[0] if config.ill else ''}"
        self.associations: set[Association] = set()
        #: Live associations serving each peer: an index of what their connections know
        #: (:attr:`~isoill.gateway.connection.Connection.serves`), changed only as
        #: associations open, close and are :meth:`identified`.
        self.by_peer: dict[str, set[Association]] = defaultdict(set)
        self.ports: list[IListeningPort] = []
        self.started = self.seconds()
        self._delivery_due = False
        self._arrived: dict[str, float] = {}
        #: Items sent in this reactor turn, to be marked delivered together (:meth:`_dispatch`).
        self._sending: list[tuple[OutboxItem, Association]] = []
        self.committer = GroupCommit(
            store,
            reactor,
            Lease(self.owner, config.retry.lease),
            threaded=IReactorThreads.providedBy(reactor),
            on_batch=self.metrics.group_commit,
            clock=reactor.seconds,
        )
        self._stats = store.stats()
        # Build the codecs before the first APDU: building one takes a tenth of a second or
        # more, which the first association's answer (and every other association, waiting
        # on the reactor meanwhile) would otherwise pay.
        get_codec()
        get_codec(limits=Limits(max_apdu_size=config.limits.max_apdu_size))
        #: Associations open with each address, for the per-address limit.
        self.per_address: Counter[str] = Counter()

    # --- time: the reactor's, so that a test's clock drives leases, retries and deadlines --

    def seconds(self) -> float:
        """Now, in seconds since the epoch, by the reactor's clock."""
        seconds: float = self.reactor.seconds()
        return seconds

    def now(self) -> datetime:
        """Now by the reactor's clock, as the relay, the desks and the store take it."""
        return clock.local(self.seconds())

    # --- life (the services of isoill.gateway.app start and stop the parts) -----------

    def listening(self) -> list[str]:
        out = []
        for port in self.ports:
            host = port.getHost()
            out.append(f"{getattr(host, 'host', '')}:{getattr(host, 'port', '')}")
        return out

    def prune_log(self, now: float | None = None) -> defer.Deferred[int]:
        """Keep the APDU log within its configured age and size (every ``prune_every``
        seconds, on the storage thread); fires with how many entries went. A failure is
        logged and the next prune tries again: an exception would stop the timer for good."""
        retention = self.config.apdu_log
        at = self.seconds() if now is None else now
        pruning = self.committer.run(
            self.store.prune_log, at, retention.max_age, retention.max_bytes
        )

        def pruned(dropped: int) -> int:
            if dropped:
                log.info("pruned {dropped} entries from the APDU log", dropped=dropped)
            return dropped

        def failed(failure: Failure) -> int:
            log.failure("cannot prune the APDU log", failure)
            return 0

        return pruning.addCallbacks(pruned, failed)

    # --- associations ---------------------------------------------------------------------

    def opened(self, association: Association) -> None:
        self.associations.add(association)
        self.per_address[association.address] += 1
        self.metrics.associations(1)
        for peer in association.connection.serves:
            self.by_peer[peer].add(association)
        log.debug("association from {address}", address=association.address)

    def closed(self, association: Association) -> None:
        if association in self.associations:
            self.associations.discard(association)
            self.per_address[association.address] -= 1
            if self.per_address[association.address] <= 0:
                del self.per_address[association.address]
            self.metrics.associations(-1)
        for peer in association.connection.serves:
            self.by_peer[peer].discard(association)

    def identified(self, association: Association, peer: str) -> None:
        """The relay found ``peer`` sending on ``association``: replies and outbox items
        for it may go out there. The association's connection keeps the fact; the index
        :attr:`by_peer` follows it, here only (and as associations open and close)."""
        if association.connection.serve(peer) and association in self.associations:
            self.by_peer[peer].add(association)

    def handle(self, association: Association, received: Received) -> None:
        """One APDU off an association (with its bytes as they came): decide, commit,
        answer (in the APDU's turn, its ticket), deliver.

        This is the one place where an association hands an APDU to the relay, so it is the
        one place that catches what nobody foresaw (a value the codec decodes but will not
        encode again, a store that fails, a bug in a mapping). Uncaught, such an exception
        escapes into Twisted, which drops the connection: the sender is never answered,
        the APDUs after it in the same read are lost and nothing is logged. Caught here, it
        becomes an error report to the sender, a log record with the traceback and an entry
        in the APDU log, and the association goes on with the next APDU."""
        ticket, item, data = received.ticket, received.item, received.frame

        def fault(failure: Failure) -> None:
            self._fault(association, ticket, item, data, failure)

        try:
            arrived = time.perf_counter()
            now = self.now()
            if isinstance(item, UndecodableAPDU):
                self._undecodable(association, ticket, item, now)
                return
            sender = association.sender
            committing = self.committer.submit(
                lambda load: self.relay.inbound(sender, item, data, load, now),
                self.relay.legs_of(item),
            )
        except Exception:
            fault(Failure())
            return
        committing.addCallback(self._answer, association, ticket, item, arrived)
        committing.addErrback(fault)

    def _undecodable(
        self,
        association: Association,
        ticket: int,
        item: UndecodableAPDU,
        now: datetime,
    ) -> None:
        """Bytes that decode to no APDU commit nothing but the log: the error report goes
        at once (in its turn), and the log entry joins the next group commit, so a slow
        store never holds such an answer back."""
        step = self.relay.undecodable(association.sender, item.data, str(item.error), now)
        self.metrics.error("undecodable")
        log.warn(
            "undecodable APDU from {address}: {error}",
            address=association.address,
            error=str(item.error),
        )
        self._write_later(step.change)
        association.answer(ticket, step.reply_data)
        if step.reply is not None:
            self.metrics.apdu_out(SERVICE_NAMES[step.reply.apdu_type], "")

    def _answer(
        self,
        committed: Committed[Step],
        association: Association,
        ticket: int,
        item: APDU,
        arrived: float,
    ) -> None:
        """The step is committed: answer the sender and deliver what it queued at once."""
        step = committed.decided
        if committed.conflicts:
            self.metrics.error("conflict")
        self.metrics.apdu_in(SERVICE_NAMES[item.apdu_type], step.peer or association.address)
        if step.peer is not None and step.refused is None:
            self.identified(association, step.peer)
        if step.refused:
            self.metrics.error("refused")
            log.info(
                "refused from {address}: {reasons}",
                address=association.address,
                reasons="; ".join(step.refused),
            )
        self._queued(committed.queued, arrived)
        # The answer goes last: whatever fails before it is answered by _fault instead, so
        # the sender gets exactly one answer either way.
        association.answer(ticket, step.reply_data)
        if step.reply is not None:
            self.metrics.apdu_out(SERVICE_NAMES[step.reply.apdu_type], step.peer or "")

    def _write_later(self, change: Change) -> None:
        """Join the next group commit with something nobody waits for (a log entry, the
        delivered mark of items already written); a failure is logged."""

        def failed(failure: Failure) -> None:
            log.failure("cannot write to the store", failure)

        self.committer.later(lambda load: _Wrapped(change)).addErrback(failed)

    def _fault(
        self,
        association: Association,
        ticket: int,
        item: APDU | UndecodableAPDU,
        data: bytes,
        failure: Failure,
    ) -> None:
        """The answer to an APDU whose handling failed unexpectedly: a log record with the
        traceback (for the operator), the APDU and the answer in the APDU log (for the
        transaction's history), and an error report to the sender (who may try again: the
        step was not committed, or if it was, a repeat is recognised as one). Nothing here
        may raise in turn: each part that fails is logged and the rest still done."""
        self.metrics.error("internal")
        now = self.now()
        what = "undecodable" if isinstance(item, UndecodableAPDU) else SERVICE_NAMES[item.apdu_type]
        kind = getattr(failure.type, "__name__", "error")
        why = f"internal error: {kind}: {failure.getErrorMessage()}"[:500]
        log.failure(
            "internal error handling {apdu} from {address}; answered with an error report",
            failure,
            apdu=what,
            address=association.address,
            error=why,
            traceback=failure.getTraceback(),
        )
        note = "the gateway could not handle this APDU (an internal error); it was logged"
        reply: APDU | None = None
        reply_data = b""
        candidates: list[Callable[[], APDU]] = [lambda: reports.undecodable(note, now)]
        if isinstance(item, APDU):
            apdu = item
            # Echoing the APDU's ids lets the sender file the report, unless those ids are
            # what cannot be encoded: then the report with an empty transaction-id.
            candidates.insert(0, lambda: reports.user_error(apdu, UnableToPerform.OTHER, note, now))
        for make in candidates:
            try:
                reply = make()
                reply_data = encode(reply, tcp_safe=True)
                break
            except Exception:
                log.failure("cannot encode the error report for {apdu}", apdu=what)
                reply = None
        try:
            if isinstance(item, UndecodableAPDU):
                entry = self.relay.undecodable(
                    association.sender, item.data, str(item.error), now
                ).change.log[0]
                entry = replace(entry, note=f"{why}; {entry.note}"[:500])
            else:
                entry = log_entry("in", association.address, "", item, data, why)
            entries = [entry]
            if reply is not None:
                entries.append(
                    log_entry("out", association.address, "", reply, reply_data, "reply")
                )
            self._write_later(Change(log=tuple(entries)))
        except Exception:
            log.failure(
                "cannot log the APDU that failed from {address}", address=association.address
            )
        association.answer(ticket, reply_data if reply is not None else None)
        if reply is not None:
            self.metrics.apdu_out(SERVICE_NAMES[reply.apdu_type], "")

    def out_of_step(self, association: Association, unframed: Unframed) -> None:
        """Bytes that are no APDU at all: answered and logged as an undecodable APDU would
        be (through :meth:`handle`), and the association closes."""
        self.metrics.error("out_of_step")
        log.warn(
            "closing association from {address}: {error}",
            address=association.address,
            error=str(unframed.error),
        )
        item = UndecodableAPDU(unframed.data, unframed.error)
        self.handle(association, Received(unframed.ticket, item, unframed.data))

    def _load(self, network: str, key: str) -> StoredLeg | None:
        return self.store.load(network, key)

    def _commit(self, decide: Callable[[], Decided]) -> tuple[Decided, list[OutboxItem]]:
        """Decide a step and commit it at once, on this thread (the HTTP side's actions);
        decided again from the fresh legs when another process sharing the store changed
        them in between. What it queued is this process's to deliver, and goes at once."""
        arrived = time.perf_counter()
        for attempt in range(CONFLICT_RETRIES):
            step = decide()
            try:
                queued = self.store.commit(step.change, self.seconds(), self.committer.lease)
                self._queued(queued, arrived)
                return step, queued
            except Conflict:
                self.metrics.error("conflict")
                if attempt == CONFLICT_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    # --- the outbox -----------------------------------------------------------------------

    def _queued(self, queued: list[OutboxItem], arrived: float) -> None:
        """Items a step just queued: this process holds their lease, so they go out at once,
        without reading the outbox again."""
        for item in queued:
            self._arrived[item.dedup] = arrived
        if queued:
            self._dispatch(queued, self.seconds())

    def deliver_soon(self) -> None:
        if not self._delivery_due:
            self._delivery_due = True
            self.reactor.callLater(0, self.deliver)

    def deliver(self) -> None:
        """Send what is due in the outbox (retries, items another process queued, what a
        restart left) to peers that are connected; connect to the others and try again
        later, with backoff. The claim is made on the storage thread."""
        self._delivery_due = False
        now = self.seconds()
        claiming = self.committer.run(
            self.store.claim_due, now, self.owner, self.config.retry.lease, DELIVERY_BATCH
        )

        def claimed(items: list[OutboxItem]) -> None:
            self._dispatch(items, now)
            if len(items) == DELIVERY_BATCH:
                self.deliver_soon()

        claiming.addCallback(claimed)
        claiming.addErrback(lambda failure: log.failure("cannot claim outbox items", failure))
        self._overdue(now)
        self._refresh_stats()

    def _dispatch(self, items: list[OutboxItem], now: float) -> None:
        """Send items this process holds the lease of."""
        retry = self.config.retry
        done: list[tuple[OutboxItem, Association]] = []
        for item in items:
            if item.network == mail.MAIL_NETWORK or self._mailbox(item.peer):
                self._send_mail(item)
                continue
            url = self._url(item.peer)
            if url is not None:
                self._post(item, url)
                continue
            association = self._association_for(item.peer, now)
            if association is None:
                self._store_later(
                    self.store.failed,
                    item,
                    now + retry.delay(item.attempts),
                    "peer not connected",
                )
                continue
            association.send(item.data)
            done.append((item, association))
            self.metrics.apdu_out(item.apdu_type, item.peer)
            arrived = self._arrived.pop(item.dedup, None)
            if arrived is not None:
                self.metrics.relay_latency(time.perf_counter() - arrived)
        if done:
            # The bytes are in Twisted's buffer, not yet the kernel's: the reactor writes them
            # in an I/O pass to come. They are marked delivered only after one has passed, so
            # that a kill -9 in between leaves them claimed, to go again, not lost. Two hops:
            # a delayed call made here may run before the next I/O pass (here may be a
            # callback from the storage thread, run in the reactor's timed-call pass), but
            # one made from a delayed call always runs after it. What every step of a group
            # commit sent goes in one delivered mark, not one each (one step and two
            # statements each in the next group commit, round trips on PostgreSQL).
            if not self._sending:
                self.reactor.callLater(0, self._hop)
            self._sending += done

    def _hop(self) -> None:
        """The first of the two hops: what was sent until now, marked after the next."""
        sent, self._sending = self._sending, []
        self.reactor.callLater(0, self._written, sent)

    def _written(self, sent: list[tuple[OutboxItem, Association]]) -> None:
        """Mark delivered what the reactor has written out. A peer that does not read keeps
        the bytes in the buffer (the transport paused its association): those wait. Those
        whose association closed stay claimed; when the lease runs out they are sent again,
        and the far side's machine takes the repeat for what it is."""
        flushed = [item for item, a in sent if a.alive and not a.paused]
        waiting = [(item, a) for item, a in sent if a.alive and a.paused]
        if flushed:
            self._write_later(Change(delivered=tuple(flushed)))
        if waiting:
            self.reactor.callLater(0.05, self._written, waiting)

    def _overdue(self, now: float) -> None:
        """Legs whose deadline has passed (a reader's request whose supplier has not
        answered): their network's desk acts (the rota moves on), once a second with the
        outbox poll, each in the next group commit."""

        def found(due: list[tuple[str, str]]) -> None:
            for network, key in due:
                self._move_on(network, key)

        finding = self.committer.run(self.store.overdue, now)
        finding.addCallback(found)
        finding.addErrback(lambda failure: log.failure("cannot read deadlines", failure))

    def _move_on(self, network: str, key: str) -> None:
        arrived = time.perf_counter()

        def decide(load: Loader) -> _Wrapped:
            leg = load(network, key)
            if leg is None:
                return _Wrapped(Change())
            return _Wrapped(self.relay.overdue(leg, load, self.now()))

        def moved(committed: Committed[_Wrapped]) -> None:
            self._queued(committed.queued, arrived)

        def failed(failure: Failure) -> None:  # one bad leg must not stop the others
            log.failure("cannot move request {key} on", failure, key=key)

        self.committer.submit(decide).addCallbacks(moved, failed)

    def _store_later(self, call: Callable[..., object], *args: object) -> None:
        """A store call nobody waits for, on the storage thread; a failure is logged."""
        self.committer.run(call, *args).addErrback(
            lambda failure: log.failure("cannot write to the store", failure)
        )

    def stats(self) -> Stats:
        """The store's counts as of the last poll: the status page and the metrics never
        wait for the store (which may be busy with a slow commit)."""
        return self._stats

    def _refresh_stats(self) -> None:
        def keep(stats: Stats) -> None:
            self._stats = stats

        refreshing = self.committer.run(self.store.stats)
        refreshing.addCallbacks(keep, lambda failure: log.failure("cannot count", failure))

    # --- e-mail -------------------------------------------------------------------------------

    @property
    def mail_domain(self) -> str:
        return self.config.mail.address.rpartition("@")[2] or "localhost"

    def _mailbox(self, peer: str) -> str | None:
        configured = self.config.peer(peer)
        return None if configured is None else configured.mail

    def for_me(self, address: str) -> bool:
        return address.strip().lower() == self.config.mail.address.lower()

    def _send_mail(self, item: OutboxItem) -> None:
        """An outbox item by SMTP: a message to a person as it was queued, or an APDU for a
        store-and-forward peer, wrapped as RFC 2503 says."""
        if item.network == mail.MAIL_NETWORK:
            recipient, data = item.peer.removeprefix("mail:"), item.data
        else:
            recipient = self._mailbox(item.peer) or ""
            digest = hashlib.sha256(item.dedup.encode()).hexdigest()[:32]
            data = mail.apdu_message(
                item.data,
                sender=self.config.mail.address,
                recipient=recipient,
                subject=f"ISO ILL {item.apdu_type} {item.key}",
                message_id=f"<{digest}@{self.mail_domain}>",
                at=self.now(),
            )
        sent = mail.send_message(
            self.reactor,
            self.config.mail.relay,
            self.config.mail.address,
            [recipient],
            data,
            helo=self.mail_domain,
        )

        def done(_: object) -> None:
            self._write_later(Change(delivered=(item,)))
            self.metrics.apdu_out(item.apdu_type, item.peer)

        def failed(reason: Failure) -> None:
            delay = self.config.retry.delay(item.attempts)
            self._store_later(
                self.store.failed, item, self.seconds() + delay, reason.getErrorMessage()[:500]
            )
            self.metrics.error("mail_failed")
            log.warn(
                "cannot mail {kind} to {to}: {why}",
                kind=item.apdu_type,
                to=recipient,
                why=reason.getErrorMessage(),
            )

        sent.addCallbacks(done, failed)

    # --- ISO 18626 peers (HTTP) -----------------------------------------------------------

    def _url(self, peer: str) -> str | None:
        configured = self.config.peer(peer)
        return None if configured is None else configured.url

    def _post(self, item: OutboxItem, url: str) -> None:
        """An outbox item to an ISO 18626 peer: POSTed, and what the peer's confirmation
        changes committed (delivered; an ERROR told to the other side). No answer, or one
        that is no confirmation, and it is tried again with backoff."""
        arrived = self._arrived.pop(item.dedup, None)

        def answered(body: bytes) -> defer.Deferred[Committed[_Wrapped]]:
            at = self.now()
            if arrived is not None:
                self.metrics.relay_latency(time.perf_counter() - arrived)
            return self.committer.submit(
                lambda load: _Wrapped(iso18626_inbound.confirmed(self.relay, item, body, load, at))
            )

        def committed(done: Committed[_Wrapped]) -> None:
            self.metrics.apdu_out(item.apdu_type, item.peer)
            if any(e.note.startswith("confirmation ERROR") for e in done.decided.change.log):
                self.metrics.error("peer_error")
            self._queued(done.queued, time.perf_counter())

        def failed(reason: Failure) -> None:
            delay = self.config.retry.delay(item.attempts)
            why = reason.getErrorMessage()[:500]
            self._store_later(self.store.failed, item, self.seconds() + delay, why)
            self.metrics.error("post_failed")
            log.warn("cannot POST {kind} to {url}: {why}", kind=item.apdu_type, url=url, why=why)

        http_post.post(self.reactor, url, item.data).addCallback(answered).addCallbacks(
            committed, failed
        )

    def receive_xml(self, network: str, address: str, data: bytes) -> defer.Deferred[bytes]:
        """A message an ISO 18626 peer POSTed to ``network``'s path: its confirmation, once
        the step it makes is committed (what it queued goes out at once). Whatever fails
        unexpectedly is logged and answered with an ERROR confirmation, never an HTTP error."""
        arrived = time.perf_counter()
        at = self.now()
        where = self.config.network(network)
        committing = self.committer.submit(
            lambda load: iso18626_inbound.inbound(self.relay, where, address, data, load, at)
        )

        def done(committed: Committed[Step]) -> bytes:
            step = committed.decided
            entry = next((e for e in step.change.log if e.direction == "in"), None)
            self.metrics.apdu_in(entry.apdu_type if entry else "?", step.peer or address)
            if step.refused:
                self.metrics.error("refused")
                log.info(
                    "refused from {address}: {reasons}",
                    address=address,
                    reasons="; ".join(step.refused),
                )
            self._queued(committed.queued, arrived)
            assert step.reply_data is not None
            return step.reply_data

        def failed(failure: Failure) -> bytes:
            self.metrics.error("internal")
            log.failure(
                "internal error handling an ISO 18626 message from {address}",
                failure,
                address=address,
            )
            return iso18626_inbound.fault(data, at, where)

        return committing.addCallback(done).addErrback(failed)

    def mail_arrived(self, sender: str, recipients: list[str], message: bytes) -> None:
        """ISO ILL mail for the gateway (store-and-forward): each APDU goes through the relay
        as if it had come on an association, and the answer goes back by mail (the relay
        queues it, as it decides the step: this only commits and carries out). A mail that
        is not ISO ILL, or from a sender the gateway does not know, is refused (the sending
        MTA bounces it) and kept in the log as it came."""
        peer = self.config.peer_by_mail(sender)
        try:
            if peer is None and not self.config.open:
                raise mail.MailRejected(f"{sender} is not a configured ISO ILL peer")
            apdus = mail.read_apdus(message).apdus
        except mail.MailRejected as rejected:
            note = f"mail from {sender} refused: {rejected}"[:500]
            self.store.log(
                [LogEntry("in", f"mail:{sender}", "", "mail", "", message, note)], self.seconds()
            )
            self.metrics.error("mail_rejected")
            log.warn("{note}", note=note)
            raise
        source = Sender(f"{MAIL_SENDER}{sender}", (peer.name,) if peer is not None else ())
        for data, apdu in apdus:

            def decide(data: bytes = data, apdu: APDU = apdu) -> Step:
                # The relay puts the reply in the outbox, to go back by mail.
                step = self.relay.inbound(source, apdu, data, self._load, self.now())
                return step

            step, _ = self._commit(decide)
            self.metrics.apdu_in(SERVICE_NAMES[apdu.apdu_type], step.peer or sender)

    # --- actions asked for over HTTP (a library's desk, accounts) --------------------------

    def act(self, decide: Callable[[], Decided]) -> Decided:
        """Decide and commit an action a page or an API asked for (what builds on the gateway:
        a library's desk, its accounts); what it queued goes out at once."""
        step, _ = self._commit(decide)
        return step

    def _association_for(self, peer: str, now: float) -> Association | None:
        """A live association serving ``peer``: one it opened, or the one the gateway keeps
        to it (``ClientService`` in :mod:`isoill.gateway.app`, which reconnects by itself)."""
        live = [a for a in self.by_peer.get(peer, ()) if a.alive and not a.connection.closing]
        # The association the peer itself used last comes first: it is the one the peer's
        # system reads; the one the gateway keeps to the peer is the way when there is none.
        live.sort(key=lambda a: (a.connection.kept, -a.last_read))
        return live[0] if live else None

    def peer_connected(self, peer: str, association: Association) -> None:
        """The association the gateway keeps to ``peer`` is up (again): what waits for the
        peer is due now, whatever its backoff said."""
        self.identified(association, peer)
        self._store_later(self.store.wake, peer, self.seconds())
        self.deliver_soon()

    # --- the records network (HTTP), for isoill.gateway.web -------------------------------

    def post_record(self, record: Record) -> StoredLeg:
        step, _ = self._commit(
            lambda: self.relay.post_record(record, self.store.find_record, self.now())
        )
        assert step.leg is not None
        return step.leg

    def record_command(
        self, record_id: str, command: Command, options: dict[str, Any], by: str | None = None
    ) -> StoredLeg:
        step, _ = self._commit(
            lambda: self.relay.command(
                record_id, command, options, self.store.find_record, self._load, self.now(), by
            )
        )
        assert step.leg is not None
        if options.get("force"):
            # Overriding the checks before RECEIVE makes a request billable: who and why.
            log.warn(
                "records: {command} of {record_id} forced by {by}: {reason}",
                command=str(command),
                record_id=record_id,
                by=by or "(not said)",
                reason=options.get("reason"),
            )
        return step.leg

    def edit_record(self, record_id: str, changes: Any, by: str | None = None) -> StoredLeg:
        step, _ = self._commit(
            lambda: self.relay.edit(record_id, changes, self.store.find_record, self.now(), by)
        )
        assert step.leg is not None
        return step.leg

    def record_dummy(self, record_id: str, oclc_number: str, lender_staff: str) -> Record:
        made: list[Record] = []

        def step() -> Step:
            done, dummy = self.relay.dummy(
                record_id, oclc_number, lender_staff, self.store.find_record
            )
            made.append(dummy)
            return done

        self._commit(step)
        return made[-1]

    def record_letter(self, record_id: str, case: str, problem: str = "") -> Action:
        return self.relay.letter(record_id, case, problem, self.store.find_record)

    def status(self) -> dict[str, Any]:
        return {
            "version": isoill.__version__,
            "uptime": round(self.seconds() - self.started, 1),
            "listening": self.listening(),
            "associations": len(self.associations),
            "open": self.config.open,
            "networks": [
                {"name": n.name, "kind": n.kind, "profile": n.profile, "default": n.default}
                for n in self.config.networks
            ],
            "peers": [
                {
                    "name": p.name,
                    "network": p.network,
                    "symbols": list(p.symbols),
                    "connected": any(a.alive for a in self.by_peer.get(p.name, ())),
                }
                for p in self.config.peers
            ],
        }


class _Wrapped:
    """A bare change, committed like a relay step."""

    def __init__(self, change: Change) -> None:
        self.change = change


def start_logging(stream: IO[str] | None = None, level: LogLevel = LogLevel.info) -> None:
    """JSON log records, one per line, to ``stream`` (standard output by default)."""
    observer = FilteringLogObserver(
        jsonFileLogObserver(stream or sys.stdout),
        [LogLevelFilterPredicate(defaultLogLevel=level)],
    )
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)
