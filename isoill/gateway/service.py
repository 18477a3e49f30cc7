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

import socket
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import IO, Any

from twisted.internet import defer, endpoints, task
from twisted.internet.interfaces import IListeningPort, IReactorCore
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
from isoill.apdu import APDU, UndecodableAPDU, encode
from isoill.apdu.errors import DecodeError
from isoill.gateway.association import Association, ListenerFactory, PeerFactory
from isoill.gateway.config import Config
from isoill.gateway.metrics import Metrics
from isoill.gateway.relay import Relay, Step
from isoill.gateway.store import Conflict, OutboxItem, Store, StoredLeg, open_store
from isoill.machine.events import SERVICE_NAMES
from isoill.mapping.record import Command, Record

log = Logger()

#: How often a step is decided again when another process changed its legs meanwhile.
CONFLICT_RETRIES = 5


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
        self.by_peer: dict[str, set[Association]] = defaultdict(set)
        self.ports: list[IListeningPort] = []
        self.started = time.time()
        self._connecting: set[str] = set()
        self._next_connect: dict[str, float] = {}
        self._delivery_due = False
        self._arrived: dict[str, float] = {}
        self._poll = task.LoopingCall(self.deliver)
        self._poll.clock = reactor

    # --- life -----------------------------------------------------------------------------

    @defer.inlineCallbacks
    def start(self) -> Any:
        """Listen, then resume the outbox (restart recovery)."""
        self.store.release(self.owner)
        from isoill.gateway.tls import tls_endpoint

        factory = ListenerFactory(self)
        for description in self.config.ill:
            endpoint = endpoints.serverFromString(self.reactor, description)
            port = yield endpoint.listen(factory)
            self.ports.append(port)
        if self.config.tls is not None:
            port = yield tls_endpoint(self.reactor, self.config.tls).listen(factory)
            self.ports.append(port)
        if self.config.http:
            from isoill.gateway.web import site

            endpoint = endpoints.serverFromString(self.reactor, self.config.http)
            self.http_port = yield endpoint.listen(site(self))
            self.ports.append(self.http_port)
        pending = self.store.stats().outbox_pending
        log.info(
            "isoill gateway listening on {ports}; {pending} APDU(s) waiting in the outbox",
            ports=self.listening(),
            pending=pending,
        )
        self._poll.start(1.0, now=True)

    @defer.inlineCallbacks
    def stop(self) -> Any:
        if self._poll.running:
            self._poll.stop()
        for port in self.ports:
            yield port.stopListening()
        for association in list(self.associations):
            association.transport.loseConnection()  # type: ignore[union-attr]
        self.store.release(self.owner)

    def listening(self) -> list[str]:
        out = []
        for port in self.ports:
            host = port.getHost()
            out.append(f"{getattr(host, 'host', '')}:{getattr(host, 'port', '')}")
        return out

    @property
    def ill_port(self) -> int:
        """The first ISO ILL port actually bound (tests listen on port 0)."""
        return int(self.ports[0].getHost().port)  # type: ignore[attr-defined]

    # --- associations ---------------------------------------------------------------------

    def opened(self, association: Association) -> None:
        self.associations.add(association)
        self.metrics.associations(1)
        for peer in association.serves:
            self.by_peer[peer].add(association)
        log.debug("association from {address}", address=association.address)

    def closed(self, association: Association) -> None:
        if association in self.associations:
            self.associations.discard(association)
            self.metrics.associations(-1)
        for peer in association.serves:
            self.by_peer[peer].discard(association)

    def handle(self, association: Association, item: APDU | UndecodableAPDU, data: bytes) -> None:
        """One APDU off an association (``data``: its bytes as they came): decide, commit,
        answer, deliver."""
        arrived = time.perf_counter()
        now = datetime.now()
        if isinstance(item, UndecodableAPDU):
            step = self.relay.undecodable(association.sender, item.data, str(item.error), now)
            queued = self.store.commit(step.change, time.time())
            self.metrics.error("undecodable")
            log.warn(
                "undecodable APDU from {address}: {error}",
                address=association.address,
                error=str(item.error),
            )
        else:
            step, queued = self._commit(
                lambda: self.relay.inbound(association.sender, item, data, self._load, now)
            )
            self.metrics.apdu_in(SERVICE_NAMES[item.apdu_type], step.peer or association.address)
        if step.peer is not None and step.refused is None and step.peer not in association.serves:
            association.serves.add(step.peer)
            self.by_peer[step.peer].add(association)
        if step.refused:
            self.metrics.error("refused")
            log.info(
                "refused from {address}: {reasons}",
                address=association.address,
                reasons="; ".join(step.refused),
            )
        if step.reply is not None:
            association.send(encode(step.reply, tcp_safe=True))
            self.metrics.apdu_out(SERVICE_NAMES[step.reply.apdu_type], step.peer or "")
        self._queued(queued, arrived)

    def out_of_step(self, association: Association, data: bytes, error: DecodeError) -> None:
        """Bytes that are no APDU at all: answered, logged, and the association closes."""
        step = self.relay.undecodable(association.sender, data[:4096], str(error), datetime.now())
        self.store.commit(step.change, time.time())
        self.metrics.error("out_of_step")
        log.warn(
            "closing association from {address}: {error}",
            address=association.address,
            error=str(error),
        )
        if step.reply is not None:
            association.send(encode(step.reply, tcp_safe=True))

    def _load(self, network: str, key: str) -> StoredLeg | None:
        return self.store.load(network, key)

    def _commit(self, decide: Callable[[], Step]) -> tuple[Step, list[OutboxItem]]:
        """Decide a step and commit it; decided again from the fresh legs when another
        process sharing the store changed them in between."""
        for attempt in range(CONFLICT_RETRIES):
            step = decide()
            try:
                return step, self.store.commit(step.change, time.time())
            except Conflict:
                self.metrics.error("conflict")
                if attempt == CONFLICT_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")

    # --- the outbox -----------------------------------------------------------------------

    def _queued(self, queued: list[OutboxItem], arrived: float) -> None:
        for item in queued:
            self._arrived[item.dedup] = arrived
        if queued:
            self.deliver_soon()

    def deliver_soon(self) -> None:
        if not self._delivery_due:
            self._delivery_due = True
            self.reactor.callLater(0, self.deliver)

    def deliver(self) -> None:
        """Send what is due in the outbox to peers that are connected; connect to the others
        and try again later, with backoff."""
        self._delivery_due = False
        now = time.time()
        retry = self.config.retry
        batch = 500
        items = self.store.claim_due(now, self.owner, retry.lease, limit=batch)
        done: list[OutboxItem] = []
        for item in items:
            association = self._association_for(item.peer, now)
            if association is None:
                self.store.failed(item, now + retry.delay(item.attempts), "peer not connected")
                continue
            association.send(item.data)
            done.append(item)
            self.metrics.apdu_out(item.apdu_type, item.peer)
            arrived = self._arrived.pop(item.dedup, None)
            if arrived is not None:
                self.metrics.relay_latency(time.perf_counter() - arrived)
        if done:
            self.store.delivered(done, time.time())
        if len(items) == batch:
            self.deliver_soon()

    def _association_for(self, peer: str, now: float) -> Association | None:
        live = [a for a in self.by_peer.get(peer, ()) if a.connected]
        if live:
            return live[0]
        configured = self.config.peer(peer)
        if (
            configured is not None
            and configured.connect
            and peer not in self._connecting
            and self._next_connect.get(peer, 0.0) <= now
        ):
            self._connect(peer, configured.connect)
        return None

    def _connect(self, peer: str, description: str) -> None:
        self._connecting.add(peer)
        endpoint = endpoints.clientFromString(self.reactor, description)
        attempt = endpoint.connect(PeerFactory(self, peer))

        def connected(association: Association) -> None:
            self._connecting.discard(peer)
            self._next_connect.pop(peer, None)
            self.by_peer[peer].add(association)
            self.store.wake(peer, time.time())
            self.deliver_soon()

        def failed(reason: Failure) -> None:
            self._connecting.discard(peer)
            self._next_connect[peer] = time.time() + self.config.retry.first
            self.metrics.error("connect_failed")
            log.warn(
                "cannot reach peer {peer}: {reason}", peer=peer, reason=reason.getErrorMessage()
            )

        attempt.addCallbacks(connected, failed)

    # --- the records network (HTTP), for isoill.gateway.web -------------------------------

    def post_record(self, record: Record) -> StoredLeg:
        step, _ = self._commit(
            lambda: self.relay.post_record(record, self.store.find_record, datetime.now())
        )
        assert step.leg is not None
        return step.leg

    def record_command(
        self, record_id: str, command: Command, options: dict[str, Any]
    ) -> StoredLeg:
        arrived = time.perf_counter()
        step, queued = self._commit(
            lambda: self.relay.command(
                record_id, command, options, self.store.find_record, self._load, datetime.now()
            )
        )
        self._queued(queued, arrived)
        assert step.leg is not None
        return step.leg

    def status(self) -> dict[str, Any]:
        return {
            "version": isoill.__version__,
            "uptime": round(time.time() - self.started, 1),
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
                    "connected": any(a.connected for a in self.by_peer.get(p.name, ())),
                }
                for p in self.config.peers
            ],
        }


def start_logging(stream: IO[str] | None = None, level: LogLevel = LogLevel.info) -> None:
    """JSON log records, one per line, to ``stream`` (standard output by default)."""
    observer = FilteringLogObserver(
        jsonFileLogObserver(stream or sys.stdout),
        [LogLevelFilterPredicate(defaultLogLevel=level)],
    )
    globalLogBeginner.beginLoggingTo([observer], redirectStandardIO=False)


def run(config: Config, log_stream: IO[str] | None = None) -> int:
    """Run a gateway until it is stopped (SIGINT / SIGTERM)."""
    from twisted.internet import reactor

    start_logging(log_stream)
    store = open_store(config.store)
    gateway = Gateway(config, store, reactor)
    core: IReactorCore = reactor
    failure: list[Failure] = []

    def startup() -> None:
        def cannot(reason: Failure) -> None:
            failure.append(reason)
            log.failure("the gateway cannot start", reason)
            core.stop()

        gateway.start().addErrback(cannot)

    core.callWhenRunning(startup)
    core.addSystemEventTrigger("before", "shutdown", gateway.stop)
    core.run()
    store.close()
    if failure:
        print(f"isoill gateway: {failure[0].getErrorMessage()}", file=sys.stderr)
        return 1
    return 0
