"""The gateway: a Twisted process that speaks ISO ILL to peers and relays each transition
between two networks, durably.

Twisted lives only here. The decisions are the sans-I/O :mod:`isoill.gateway.relay`; the
durable record of everything is :mod:`isoill.gateway.store`; :mod:`isoill.gateway.service`
joins them to associations (:mod:`isoill.gateway.association`), the outbox and the HTTP side
(:mod:`isoill.gateway.web`).
"""

from isoill.gateway.config import DEFAULT, Config, ConfigError, Network, Peer, load
from isoill.gateway.relay import Relay, Sender, Step
from isoill.gateway.store import Conflict, Store, StoredLeg, StoreError, open_store

__all__ = [
    "DEFAULT",
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
    "load",
    "open_store",
]
