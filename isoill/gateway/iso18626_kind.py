"""The ``iso18626`` network kind: peers that speak ISO 18626 (XML over HTTP) instead of ISO
ILL, and the HTTP endpoint where they POST to the gateway.

Such a network's legs are ISO 10161 legs like an ``iso`` network's: the gateway plays the
same part of the 10161 protocol machine towards an 18626 peer as towards an ISO ILL one, so
every transition is checked by the same tables. Only the wire differs: an APDU crossing onto
the leg goes out as the ISO 18626 message :func:`isoill.iso18626.from_apdu.from_apdu` makes
of it (valid against the schema, or refused to the sender with the reason), POSTed to the
peer's ``url``; what the peer POSTs comes in through :mod:`isoill.gateway.iso18626_inbound`.

Configuration::

    [[network]]
    name = "reshare"
    kind = "iso18626"
    path = "/iso18626"      # where its peers POST (on the gateway's HTTP listener)
    zone = "Europe/Copenhagen"   # the peers' time zone: ISO 10161 dates have none (UTC)

    [[peer]]
    name = "lender"
    network = "reshare"
    symbols = ["ISIL:DK-*"]
    url = "https://lender.example.org/iso18626"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from twisted.internet import defer
from twisted.web import resource, server
from twisted.web.server import Request

from isoill.apdu.apdus import APDU
from isoill.gateway.config import Config, Network, Peer, dataclass_from
from isoill.gateway.kinds import Mount, register
from isoill.gateway.networks import CannotTake, IsoKind
from isoill.iso18626 import codemap, to_xml
from isoill.iso18626.document import MAX_BYTES
from isoill.iso18626.from_apdu import from_apdu
from isoill.iso18626.identity import MappingError, Side
from isoill.iso18626.messages import (
    RequestConfirmation,
    RequestingAgencyMessageConfirmation,
    SupplyingAgencyMessageConfirmation,
)
from isoill.machine import Role, Transaction

if TYPE_CHECKING:
    from isoill.gateway.logins import Throttle

KIND = "iso18626"


@dataclass(frozen=True)
class Settings:
    #: The path on the HTTP listener where the network's peers POST their messages.
    path: str = "/iso18626"
    #: The IANA time zone of the network's peers (ISO 10161 dates and times have none).
    zone: str = "UTC"

    @property
    def tz(self) -> tzinfo:
        return UTC if self.zone.upper() == "UTC" else ZoneInfo(self.zone)

    @property
    def segments(self) -> tuple[bytes, ...]:
        return tuple(part.encode() for part in self.path.strip("/").split("/"))


def settings_of(network: Network) -> Settings:
    settings = network.settings
    assert isinstance(settings, Settings), network
    return settings


class Iso18626Kind(IsoKind):
    name = KIND

    def settings(
        self,
        network: str,
        table: dict[str, Any],
        where: str,
        problems: list[str],
        here: Path | None,
    ) -> object:
        settings: Settings = dataclass_from(Settings, table, where, problems)
        if not settings.path.startswith("/") or not settings.path.strip("/"):
            problems.append(f"{where}: path must be a path below / (like /iso18626)")
        elif settings.segments[0] in (b"api", b"static", b"status", b"metrics", b"transactions"):
            problems.append(f"{where}: path {settings.path} is one of the gateway's own pages")
        try:
            settings.tz  # noqa: B018 (checked here, once, rather than at the first message)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"{where}: zone {settings.zone!r} is not a known time zone")
        return settings

    def peer_problems(self, peer: Peer) -> list[str]:
        if peer.url is None:
            return [f"peer {peer.name!r}: an ISO 18626 peer needs its url"]
        parts = urlsplit(peer.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return [f"peer {peer.name!r}: url must be http:// or https:// with a host"]
        if peer.connect or peer.mail:
            return [f"peer {peer.name!r}: an ISO 18626 peer is reached by its url only"]
        return []

    def wire(self, apdu: APDU, network: Network, sent: Transaction) -> tuple[str, bytes] | None:
        """The ISO 18626 message of ``apdu`` as the gateway sends it in the leg's role. An
        error report becomes an ERROR confirmation in 18626, which answers a POST and is
        never POSTed itself: the report ends here (the log keeps it)."""
        side: Side = "requester" if sent.role is Role.REQUESTER else "responder"
        current = codemap.STATUS_OF_STATE.get(sent.state.current_state)
        try:
            message = from_apdu(
                apdu,
                zone=settings_of(network).tz,
                sender=side,
                current=current,
            )
        except MappingError as err:
            raise CannotTake(str(err)) from None
        if isinstance(
            message,
            RequestConfirmation
            | SupplyingAgencyMessageConfirmation
            | RequestingAgencyMessageConfirmation,
        ):
            return None
        return message.TAG, to_xml(message)

    def resources(self, backend: Any, throttle: Throttle) -> Sequence[Mount]:
        config: Config = backend.config
        return [
            (settings_of(network).segments, Endpoint(backend, network.name))
            for network in config.networks
            if network.kind == KIND
        ]


class Receiver(Protocol):
    """What the endpoint needs of the gateway (:class:`isoill.gateway.service.Gateway`)."""

    def receive_xml(self, network: str, address: str, data: bytes) -> defer.Deferred[bytes]:
        """The confirmation of a POSTed message, once its step is committed."""
        ...


class Endpoint(resource.Resource):
    """Where a network's ISO 18626 peers POST: every POST is answered 200 with a
    confirmation (ERROR ones included, as ISO 18626 peers expect), after the commit."""

    isLeaf = True

    def __init__(self, gateway: Receiver, network: str) -> None:
        super().__init__()
        self.gateway = gateway
        self.network = network

    def render_POST(self, request: Request) -> int:
        assert request.content is not None
        # One byte more than the limit tells a message too large from one just at it; the
        # parser refuses it with the errorType the peer expects.
        data = request.content.read(MAX_BYTES + 1)
        client = request.getClientAddress()
        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))

        def answer(body: bytes) -> None:
            if gone:
                return  # the peer hung up: it will POST again, and the repeat is recognised
            request.setHeader(b"content-type", b"application/xml; charset=utf-8")
            request.write(body)
            request.finish()

        self.gateway.receive_xml(self.network, getattr(client, "host", ""), data).addCallback(
            answer
        )
        return server.NOT_DONE_YET

    def render_GET(self, request: Request) -> bytes:
        request.setResponseCode(405)
        request.setHeader(b"allow", b"POST")
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return b"ISO 18626: POST a message here\n"


register(Iso18626Kind())
