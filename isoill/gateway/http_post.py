"""POSTing an ISO 18626 message to a peer and reading its confirmation, with Twisted's HTTP
client.

A peer's answer is read with a size limit and a time limit: a peer that streams an endless
body or never finishes one must not hold the gateway's memory or an outbox item for ever.
TLS is used when the URL is ``https``, with the platform's trust roots (Twisted's
``BrowserLikePolicyForHTTPS``), so a peer's certificate is verified as a browser would.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import defer, protocol
from twisted.internet.interfaces import IReactorTime
from twisted.python.failure import Failure
from twisted.web.client import Agent, ResponseDone
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer, IResponse
from zope.interface import implementer

#: The largest confirmation read from a peer (a confirmation is well under a kilobyte).
MAX_ANSWER = 1 << 20
#: Seconds a peer has to answer a POST in full.
TIMEOUT = 30.0


class PostFailed(Exception):
    """The peer did not answer with a readable confirmation (HTTP error, too large, too
    slow, connection refused): the message stays in the outbox and is tried again."""


@implementer(IBodyProducer)
class _Body:
    """A request body already in memory, written at once (Twisted's ``FileBodyProducer``
    would schedule reads of it on the global reactor)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.length = len(data)

    def startProducing(self, consumer: Any) -> defer.Deferred[None]:
        consumer.write(self.data)
        return defer.succeed(None)

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        pass


class _Limited(protocol.Protocol):
    """Collects a body up to ``limit`` bytes; more aborts the connection."""

    def __init__(self, done: defer.Deferred[bytes], limit: int) -> None:
        self.done, self.limit, self.size = done, limit, 0
        self.parts: list[bytes] = []

    def dataReceived(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            self.transport.stopProducing()  # type: ignore[union-attr]
            if not self.done.called:
                self.done.errback(PostFailed(f"the answer is larger than {self.limit} bytes"))
            return
        self.parts.append(data)

    def connectionLost(self, reason: Failure = protocol.connectionDone) -> None:
        if self.done.called:
            return
        if reason.check(ResponseDone):
            self.done.callback(b"".join(self.parts))
        else:
            self.done.errback(PostFailed(f"the answer was cut off: {reason.getErrorMessage()}"))


def post(
    reactor: Any,
    url: str,
    body: bytes,
    timeout: float = TIMEOUT,
    limit: int = MAX_ANSWER,
    agent: Any = None,
) -> defer.Deferred[bytes]:
    """POST ``body`` (an ISO 18626 document) to ``url``; fires with the answer's body when
    the status is 2xx, fails with :class:`PostFailed` otherwise."""
    agent = agent or Agent(reactor)
    headers = Headers({b"Content-Type": [b"application/xml; charset=utf-8"]})
    sending: defer.Deferred[IResponse] = agent.request(b"POST", url.encode(), headers, _Body(body))

    def answered(response: IResponse) -> defer.Deferred[bytes]:
        done: defer.Deferred[bytes] = defer.Deferred()
        response.deliverBody(_Limited(done, limit))
        if not 200 <= response.code < 300:
            return done.addBoth(_http_error, response.code)
        return done

    reading: defer.Deferred[bytes] = sending.addCallback(answered)
    clock: IReactorTime = reactor
    reading.addTimeout(timeout, clock, onTimeoutCancel=_too_slow)
    return reading


def _http_error(_: object, code: int) -> bytes:
    raise PostFailed(f"the peer answered HTTP {code}")


def _too_slow(result: object, timeout: float) -> object:
    raise PostFailed(f"no answer within {timeout:g} s")
