"""The gateway: a Twisted process that speaks ISO ILL to peers and relays each transition
between two networks, durably.

Twisted lives only here. The decisions are the sans-I/O :mod:`isoill.gateway.relay`; the
durable record of everything is :mod:`isoill.gateway.store`; :mod:`isoill.gateway.service`
joins them to associations (:mod:`isoill.gateway.association`), the outbox and the HTTP side
(:mod:`isoill.gateway.web`). A network's kind (:mod:`isoill.gateway.kinds`) says what the
core does with it: ``iso`` and ``records`` are the core's own (:mod:`isoill.gateway.networks`);
the libraries hosted on a gateway are a kind that :mod:`isoill.library` registers, a package
that builds on this one and that this one never imports.
"""

from isoill.gateway import networks
from isoill.gateway.config import Config, ConfigError, Network, Peer, default, load
from isoill.gateway.relay import Relay, Sender, Step
from isoill.gateway.store import Conflict, Store, StoredLeg, StoreError, open_store

__all__ = [
    "Config",
    "ConfigError",
    "Conflict",
    "Network",
    "Peer",
    "Relay",
    "Sender",
    "Step",
    "Store",
    "StoreError",
    "StoredLeg",
    "default",
    "load",
    "networks",
    "open_store",
]
