"""Network kinds: what the core asks of a kind of network, and the registry of kinds.

Each ``[[network]]`` of the configuration names its ``kind``. The core knows two, in
:mod:`isoill.gateway.networks`: ``iso`` (peers speaking ISO ILL) and ``records`` (a NACSIS-ILL
style record interface). Anything more (the libraries hosted on the gateway,
:mod:`isoill.library`) is a :class:`NetworkKind` that registers itself here, so the relay,
the store, the configuration and the site ask a network's kind instead of testing its name,
and the core never imports what builds on it.

A kind answers, each in one hook: its settings in the network's TOML table; the payload its
legs carry besides protocol state (:class:`Payload`: stored in the leg's body, and the time
the gateway must act on the leg unasked, which feeds the store's deadlines); whether it
answers for an institution symbol (new requests for that symbol are routed to it); the
decisions it makes for its own legs (:class:`Desk`: a new request, an APDU arriving for a
leg partnered with one of its legs, a deadline passed); the HTTP resources it adds to the
site; and the SQL tables it keeps in the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from twisted.web.resource import IResource

    from isoill.apdu.apdus import APDU, ILLRequest, StatusOrErrorReport
    from isoill.gateway.config import Config, Network, Peer
    from isoill.gateway.logins import Throttle
    from isoill.gateway.relay import Forward
    from isoill.gateway.store import Change, Loader, OutboxItem, StoredLeg


class Payload(Protocol):
    """What a kind keeps on a leg besides its protocol state (a library's reader request)."""

    @property
    def due(self) -> datetime | None:
        """When the gateway must act on the leg unasked (None: never)."""
        ...

    def to_json(self) -> dict[str, Any]: ...


class Desk(Protocol):
    """The decisions a kind makes for its own legs, without I/O, like the relay's."""

    def new_request(
        self, request: ILLRequest, key: str, sender_network: str, network: Network, at: datetime
    ) -> StoredLeg:
        """The kind's own leg of a new request routed to ``network``: it answers for it
        here instead of forwarding it to a peer."""
        ...

    def arrived(
        self, apdu: APDU, iso: StoredLeg, leg: StoredLeg, at: datetime
    ) -> tuple[tuple[StoredLeg, ...], tuple[OutboxItem, ...]]:
        """An APDU accepted on ``iso`` (the leg it arrived on, already moved on) whose
        partner is ``leg``, the kind's: every leg it changes and what it queues."""
        ...

    def overdue(self, leg: StoredLeg, load: Loader, at: datetime) -> Change:
        """The leg's deadline (its payload's ``due``) has passed."""
        ...


#: A resource the kind mounts on the site, under the path of its segments.
Mount = tuple[tuple[bytes, ...], "IResource"]


class NetworkKind:
    """A kind of network. The defaults are those of a kind without settings, payload, desk,
    pages or tables: a subclass overrides what its networks have."""

    #: The ``kind`` of ``[[network]]`` tables.
    name: str = ""
    #: Its networks have peers of their own: a ``[[peer]]`` may name them.
    has_peers: bool = False
    #: Its legs hold NACSIS-style records, commanded over the records API.
    holds_records: bool = False
    #: Where its legs' payload is kept in a stored leg's body ("": they have none).
    payload_key: str = ""

    def settings(
        self,
        network: str,
        table: dict[str, Any],
        where: str,
        problems: list[str],
        here: Path | None,
    ) -> object:
        """The network's own settings from its ``[[network]]`` table, beyond ``name``,
        ``kind``, ``profile`` and ``default``; each problem appended to ``problems`` (files
        it names are found relative to ``here``, the configuration's folder)."""
        if table:
            problems.append(f"{where}: unknown setting(s) {', '.join(sorted(table))}")
        return None

    def peer_problems(self, peer: Peer) -> list[str]:
        """What is wrong with a ``[[peer]]`` of one of its networks (the settings a peer of
        this kind must or must not have)."""
        if peer.url is not None:
            return [f"peer {peer.name!r}: url is for peers on an iso18626 network"]
        return []

    def defaults(self) -> Sequence[dict[str, Any]]:
        """``[[network]]`` tables the kind adds to the embedded default configuration."""
        return ()

    def symbols(self, network: Network) -> Sequence[str]:
        """Institution symbols the network answers for on this gateway: new requests for
        them are routed to it, and no peer may own them."""
        return ()

    def owns_payload(self, payload: Payload) -> bool:
        return False

    def decode_payload(self, value: dict[str, Any]) -> Payload:
        raise NotImplementedError(f"network kind {self.name} keeps no payload")

    def desk(self, config: Config, forward: Forward) -> Desk | None:
        """The kind's decisions on this configuration (None: the relay forwards its legs'
        APDUs as they are)."""
        return None

    def open_leg(
        self, request: ILLRequest, key: str, sender_network: str, network: Network, peer: str | None
    ) -> StoredLeg:
        """The leg a new request opens in one of its networks, before the request is
        forwarded onto it (kinds without a desk)."""
        raise NotImplementedError(f"network kind {self.name} takes no requests")

    def cross(
        self, original: APDU, mapped: APDU, partner: StoredLeg, network: Network, at: datetime
    ) -> tuple[StoredLeg, tuple[OutboxItem, ...], StatusOrErrorReport | None]:
        """``mapped`` (``original`` after the profile of ``network``, the partner leg's) onto
        the partner leg: the leg after it, the outbox entry if it goes on, or the error
        report why it cannot."""
        raise NotImplementedError(f"network kind {self.name} takes no APDUs")

    def resources(self, backend: Any, throttle: Throttle) -> Sequence[Mount]:
        """HTTP resources the kind adds to the site; ``throttle`` is the site's one count of
        failed logins."""
        return ()

    def schema(self) -> str:
        """SQL statements (``;``-separated, ``IF NOT EXISTS``) of the tables the kind keeps in
        the store; ``{serial}`` and ``{blob}`` are the dialect's."""
        return ""


_KINDS: dict[str, NetworkKind] = {}


def register(kind: NetworkKind) -> None:
    """Make a kind known: its networks may be configured, its legs read and written."""
    existing = _KINDS.get(kind.name)
    if existing is not None and type(existing) is not type(kind):
        raise ValueError(f"network kind {kind.name} is registered already")
    _KINDS[kind.name] = kind


def registered() -> list[NetworkKind]:
    return list(_KINDS.values())


def named(name: str) -> NetworkKind:
    """The kind of that name; KeyError when none is registered."""
    return _KINDS[name]


def kind_of(network: Network) -> NetworkKind:
    return _KINDS[network.kind]


def payload_owner(payload: Payload) -> NetworkKind:
    owner = next((k for k in _KINDS.values() if k.owns_payload(payload)), None)
    if owner is None:
        raise ValueError(f"no network kind keeps a {type(payload).__name__}")
    return owner
