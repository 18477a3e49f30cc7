"""The gateway process as Twisted application services, composed in one ``MultiService``.

Each part the process runs is a service with Twisted's own start and stop: the storage
thread (:class:`StorageService`), a ``StreamServerEndpointService`` per listener (ISO ILL,
TLS, HTTP, SMTP), a ``TimerService`` for the outbox poll and one for the APDU log's
pruning, and a ``ClientService`` per peer the gateway calls, which keeps an association up
and reconnects with the configured backoff. Starting the ``MultiService`` starts them in
that order; stopping it stops them in reverse, so the listeners close before the storage
thread does and no step is left half-committed.

:class:`isoill.gateway.service.Gateway` holds no I/O of its own: it carries out the relay's
decisions on the associations and the store these services give it.
"""

from __future__ import annotations

import sys
from typing import IO, Any

from twisted.application.internet import (
    ClientService,
    StreamServerEndpointService,
    TimerService,
    backoffPolicy,
)
from twisted.application.service import MultiService, Service
from twisted.internet import defer, endpoints
from twisted.internet.interfaces import IListeningPort, IProtocolFactory, IReactorCore
from twisted.logger import Logger
from twisted.python.failure import Failure

from isoill.gateway import mail
from isoill.gateway.association import Association, ListenerFactory, PeerFactory
from isoill.gateway.config import Config
from isoill.gateway.service import Gateway, start_logging
from isoill.gateway.store import open_store

log = Logger()


class _Recorded:
    """A server endpoint that tells the gateway which port it bound (for ``/status``)."""

    def __init__(self, endpoint: Any, ports: list[IListeningPort]) -> None:
        self.endpoint = endpoint
        self.ports = ports

    def listen(self, factory: IProtocolFactory) -> defer.Deferred[IListeningPort]:
        listening: defer.Deferred[IListeningPort] = self.endpoint.listen(factory)

        def keep(port: IListeningPort) -> IListeningPort:
            self.ports.append(port)
            return port

        return listening.addCallback(keep)


class StorageService(Service):
    """The storage thread of the group commit, and the outbox leases of this process: taken
    back at start (a restarted process resumes its own items at once) and given back at a
    clean stop (another process may deliver them at once)."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def startService(self) -> None:
        super().startService()
        self.gateway.store.release(self.gateway.owner)
        self.gateway.committer.start()

    def stopService(self) -> None:
        super().stopService()
        for association in list(self.gateway.associations):
            association.transport.loseConnection()  # type: ignore[union-attr]
        self.gateway.committer.stop()
        self.gateway.store.release(self.gateway.owner)


class GatewayService(MultiService):
    """Everything one gateway process runs."""

    def __init__(self, gateway: Gateway) -> None:
        super().__init__()
        self.gateway = gateway
        reactor = gateway.reactor
        config = gateway.config
        StorageService(gateway).setServiceParent(self)
        listener = ListenerFactory(gateway)
        for description in config.ill:
            self._listen(endpoints.serverFromString(reactor, description), listener)
        if config.tls is not None:
            from isoill.gateway.tls import tls_endpoint

            self._listen(tls_endpoint(reactor, config.tls), listener)
        if config.http:
            from isoill.gateway.web import site

            self._listen(endpoints.serverFromString(reactor, config.http), site(gateway))
        if config.mail.listen:
            smtp = mail.MailServerFactory(gateway.mail_domain, gateway.mail_arrived, gateway.for_me)
            self._listen(endpoints.serverFromString(reactor, config.mail.listen), smtp)
        self._every(1.0, gateway.deliver)
        self._every(config.apdu_log.prune_every, gateway.prune_log)
        for peer in config.peers:
            if peer.connect:
                self._call(peer.name, peer.connect)

    def _listen(self, endpoint: Any, factory: IProtocolFactory) -> None:
        service = StreamServerEndpointService(_Recorded(endpoint, self.gateway.ports), factory)
        # A port that cannot be bound stops the start with its error, instead of a log line
        # and a process that runs without its listener.
        service._raiseSynchronously = True
        service.setServiceParent(self)

    def _every(self, seconds: float, call: Any) -> None:
        timer = TimerService(seconds, call)
        timer.clock = self.gateway.reactor
        timer.setServiceParent(self)

    def _call(self, peer: str, description: str) -> None:
        """An association to ``peer`` kept up: reconnected with the configured backoff when
        it drops or cannot be made."""
        retry = self.gateway.config.retry
        service = ClientService(
            endpoints.clientFromString(self.gateway.reactor, description),
            PeerFactory(self.gateway, peer),
            retryPolicy=backoffPolicy(
                initialDelay=retry.first, maxDelay=retry.maximum, factor=retry.factor
            ),
            clock=self.gateway.reactor,
            prepareConnection=lambda protocol: self._connected(peer, protocol),
        )
        service.setServiceParent(self)

    def _connected(self, peer: str, protocol: Any) -> None:
        assert isinstance(protocol, Association)  # what PeerFactory builds
        self.gateway.peer_connected(peer, protocol)

    def startService(self) -> None:
        super().startService()
        log.info(
            "isoill gateway listening on {ports}; {pending} APDU(s) waiting in the outbox",
            ports=self.gateway.listening(),
            pending=self.gateway.stats().outbox_pending,
        )


def run(config: Config, log_stream: IO[str] | None = None) -> int:
    """Run a gateway until it is stopped (SIGINT / SIGTERM)."""
    from twisted.internet import reactor

    start_logging(log_stream)
    store = open_store(config.store)
    service = GatewayService(Gateway(config, store, reactor))
    core: IReactorCore = reactor
    failure: list[Failure] = []

    def startup() -> None:
        try:
            service.startService()
        except Exception:
            failure.append(Failure())
            log.failure("the gateway cannot start", failure[0])
            core.stop()

    core.callWhenRunning(startup)
    core.addSystemEventTrigger("before", "shutdown", service.stopService)
    core.run()
    store.close()
    if failure:
        print(f"isoill gateway: {failure[0].getErrorMessage()}", file=sys.stderr)
        return 1
    return 0


__all__ = ["Association", "GatewayService", "StorageService", "run"]
