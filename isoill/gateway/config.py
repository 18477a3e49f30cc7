"""What the operator configures: listening endpoints, networks, peers, limits.

A gateway joins *networks*. An ``iso`` network's peers speak ISO ILL over TCP (OCLC, a CALIS
centre, another gateway); a ``records`` network is a NACSIS-ILL style record interface served
over HTTP, where the library side posts record commands. Each network has a mapping profile
(:mod:`isoill.gateway.profiles`). Each peer belongs to one network, owns one or more
institution symbols (``*`` at the end matches a prefix), may be reached at a Twisted client
endpoint (``connect``) and is recognised by the addresses it connects from.

With no file at all the gateway runs the embedded default: loopback only, ISO ILL on 4990,
HTTP on 8499, SQLite ``isoill-gateway.db``, and one records network that answers as the
responder for every symbol, taking ILL-Requests from any ISO ILL client (``open = true``), so
that ``yaz-illclient localhost:4990`` works out of the box.

The file form is TOML::

    [gateway]
    ill = ["tcp:4990:interface=127.0.0.1"]    # Twisted server endpoint strings
    http = "tcp:8499:interface=127.0.0.1"
    store = "isoill-gateway.db"                # or postgresql://user@host/db
    open = false                               # refuse senders that are not configured
    operator_tokens = ["..."]                  # bearer tokens (32+ characters) for programs

    [[network]]
    name = "nacsis"
    kind = "records"
    profile = "nacsis"
    default = true                             # where requests for unknown symbols go

    [[network]]
    name = "oclc"
    kind = "iso"
    profile = "oclc"

    [[peer]]
    name = "oclc-hub"
    network = "oclc"
    symbols = ["OCLC:*"]
    connect = "tcp:host=ill.example.org:port=499"
    addresses = ["192.0.2.10"]

    [limits]                                   # every key optional; the defaults shown
    idle_timeout = 300.0                       # seconds an association may stay silent
    apdu_timeout = 30.0                        # seconds to finish an APDU once begun
    max_apdu_size = 1048576                    # bytes; a longer length claim closes it
    max_send_buffer = 1048576                  # bytes unread by a peer before backpressure
    max_associations = 2000                    # associations open at once, in all
    max_associations_per_address = 50          # ... and from one source address

    [apdu_log]                                 # the raw APDU log, pruned oldest first
    max_age = 7776000.0                        # seconds an entry is kept (90 days); 0: no limit
    max_bytes = 1073741824                     # APDU bytes kept in all (1 GiB); 0: no limit
    prune_every = 300.0                        # seconds between prunes
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from isoill.errors import IsoillError
from isoill.gateway.kinds import kind_of, named, registered

PROFILES = ("iso", "oclc", "nacsis")
#: The shortest operator bearer token accepted (e.g. ``openssl rand -hex 24`` gives 48).
MIN_TOKEN = 32


class ConfigError(IsoillError, ValueError):
    """The configuration cannot be used; each reason says where and why."""


@dataclass(frozen=True)
class Network:
    name: str
    #: What the network is (:mod:`isoill.gateway.kinds`): ``iso``, ``records``, or a kind
    #: registered by what builds on the gateway (``library``).
    kind: str = "iso"
    profile: str = "iso"
    #: Requests for a symbol no peer owns go to the default network.
    default: bool = False
    #: The kind's own settings, read from the rest of the network's table by its kind.
    settings: Any = None


@dataclass(frozen=True)
class Peer:
    name: str
    network: str
    symbols: tuple[str, ...] = ()
    #: A Twisted client endpoint string; without one, APDUs for this peer wait for it to
    #: connect and go out on its association.
    connect: str | None = None
    #: Source addresses it may connect from; empty: any address, identified by its symbol.
    addresses: tuple[str, ...] = ()
    #: An e-mail address: APDUs for this peer go by store-and-forward mail, and mail from
    #: this address is taken as from this peer.
    mail: str | None = None
    #: An ISO 18626 peer's address: messages for it are POSTed there (``http`` or
    #: ``https``); only peers on an ``iso18626`` network have one.
    url: str | None = None
    #: Its name as people read it: the library pages show it in place of its symbols.
    label: str = ""

    def owns(self, symbol: str) -> bool:
        return any(fnmatch.fnmatchcase(symbol.upper(), pattern.upper()) for pattern in self.symbols)


@dataclass(frozen=True)
class Limits:
    #: An association silent this long is closed (seconds).
    idle_timeout: float = 300.0
    #: An APDU begun must be complete within this time (seconds), however slowly its
    #: bytes trickle in.
    apdu_timeout: float = 30.0
    #: The largest APDU accepted; a longer length claim closes the association at once.
    max_apdu_size: int = 1 << 20
    #: Bytes written to a peer and not yet taken by it, beyond which the gateway stops
    #: reading from that peer (backpressure) until the peer catches up.
    max_send_buffer: int = 1 << 20
    #: Associations open at once; more are refused.
    max_associations: int = 2000
    #: Associations open at once with one (source) address; more from it are refused, so
    #: that one address holding idle connections cannot lock every other peer out.
    max_associations_per_address: int = 50


@dataclass(frozen=True)
class ApduLog:
    """How long the raw APDU log keeps what crossed the wire, and how much of it.

    Anyone who can connect adds to the log (an undecodable APDU, a refused sender are
    logged too), so it is bounded both ways; the gateway prunes it every ``prune_every``
    seconds, the oldest entries first."""

    #: Seconds an entry is kept; 0: no age limit.
    max_age: float = 90 * 86400.0
    #: Bytes of logged APDUs kept in all; 0: no size limit.
    max_bytes: int = 1 << 30
    prune_every: float = 300.0


@dataclass(frozen=True)
class Retry:
    """Outbox delivery: exponential backoff between attempts, up to ``maximum``."""

    first: float = 1.0
    factor: float = 2.0
    maximum: float = 300.0
    #: How long an outbox item stays leased to the process that is delivering it.
    lease: float = 60.0

    def delay(self, attempts: int) -> float:
        return float(min(self.maximum, self.first * self.factor ** max(0, attempts)))


@dataclass(frozen=True)
class TLS:
    """TLS for the ISO ILL listener, with client certificates required when ``ca`` is set."""

    port: int
    certificate: str
    key: str
    ca: str | None = None
    interface: str = "127.0.0.1"


@dataclass(frozen=True)
class Mail:
    """E-mail: the gateway's own address (the sender of its mails and where ISO ILL mail
    for it is accepted), the SMTP server it sends through, and its own SMTP listener."""

    address: str = "isoill@localhost"
    #: A Twisted client endpoint string of the SMTP server mail is sent through.
    relay: str = "tcp:host=127.0.0.1:port=25"
    #: A Twisted server endpoint string where ISO ILL mail is received; none: no listener.
    listen: str | None = None


@dataclass(frozen=True)
class Config:
    ill: tuple[str, ...] = ("tcp:4990:interface=127.0.0.1",)
    http: str | None = "tcp:8499:interface=127.0.0.1"
    store: str = "isoill-gateway.db"
    #: Take APDUs from senders that are not configured (the embedded default does).
    open: bool = False
    networks: tuple[Network, ...] = ()
    peers: tuple[Peer, ...] = ()
    limits: Limits = field(default_factory=Limits)
    retry: Retry = field(default_factory=Retry)
    tls: TLS | None = None
    mail: Mail = field(default_factory=Mail)
    apdu_log: ApduLog = field(default_factory=ApduLog)
    #: Bearer tokens that open the operations pages, status and records API to a program
    #: (monitoring, the NACSIS side's system); people log in as operator accounts instead.
    operator_tokens: tuple[str, ...] = ()

    def network(self, name: str) -> Network:
        for network in self.networks:
            if network.name == name:
                return network
        raise KeyError(name)

    def peer(self, name: str) -> Peer | None:
        return next((p for p in self.peers if p.name == name), None)

    @property
    def default_network(self) -> Network | None:
        return next((n for n in self.networks if n.default), None)

    def owner(self, symbol: str) -> Peer | None:
        """The configured peer that owns an institution symbol."""
        return next((p for p in self.peers if p.owns(symbol)), None)

    def answering(self, symbol: str) -> Network | None:
        """The network on this gateway that answers for an institution symbol itself (a
        library hosted here), by its kind."""
        wanted = symbol.strip().upper()
        return next(
            (n for n in self.networks if any(s.upper() == wanted for s in kind_of(n).symbols(n))),
            None,
        )

    def peer_by_mail(self, address: str) -> Peer | None:
        wanted = address.strip().lower()
        return next((p for p in self.peers if p.mail and p.mail.lower() == wanted), None)

    def peers_at(self, address: str) -> list[Peer]:
        return [p for p in self.peers if address in p.addresses]

    def with_ports(
        self, ill_port: int | None = None, http_port: int | None = None, store: str | None = None
    ) -> Config:
        """The command-line flags over the file or the default."""
        changed = self
        if ill_port is not None:
            changed = replace(changed, ill=(f"tcp:{ill_port}:interface=127.0.0.1",))
        if http_port is not None:
            changed = replace(changed, http=f"tcp:{http_port}:interface=127.0.0.1")
        if store is not None:
            changed = replace(changed, store=store)
        return changed


#: The embedded default's own networks: one records network answering for every symbol.
_DEFAULT_NETWORKS: tuple[dict[str, Any], ...] = (
    {"name": "local", "kind": "records", "profile": "iso", "default": True},
    {"name": "peers", "kind": "iso", "profile": "iso"},
)


def default() -> Config:
    """What ``isoill gateway`` runs without a file: open, the records network answering for
    every symbol, and whatever networks the registered kinds add (a library)."""
    tables = [*_DEFAULT_NETWORKS, *(t for k in registered() for t in k.defaults())]
    return parse({"gateway": {"open": True}, "network": [dict(t) for t in tables]}, "default")


#: The network of ISO ILL clients that are not configured (open gateways only).
ANONYMOUS_NETWORK = "peers"


def load(path: str | Path) -> Config:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: {err}") from err
    # Files the file names (a library's holdings table) are found beside it, wherever the
    # gateway is started from.
    return parse(data, str(path), Path(path).resolve().parent)


def parse(data: dict[str, Any], where: str = "config", here: Path | None = None) -> Config:
    problems: list[str] = []
    gateway = _table(data, "gateway", where, problems)
    known = {"gateway", "network", "peer", "limits", "retry", "tls", "mail", "apdu_log"}
    problems += [f"{where}: unknown section [{name}]" for name in data if name not in known]
    ill = gateway.get("ill", list(Config.ill))
    if isinstance(ill, str):
        ill = [ill]
    networks = tuple(
        _network(n, f"{where}: [[network]] {i + 1}", problems, here)
        for i, n in enumerate(_list(data, "network", where, problems))
    )
    peers = tuple(
        _peer(p, f"{where}: [[peer]] {i + 1}", problems)
        for i, p in enumerate(_list(data, "peer", where, problems))
    )
    names = [n.name for n in networks]
    if len(set(names)) != len(names):
        problems.append(f"{where}: network names must be unique")
    if sum(n.default for n in networks) > 1:
        problems.append(f"{where}: at most one network can be the default")
    for peer in peers:
        if peer.network not in names:
            problems.append(f"{where}: peer {peer.name!r} names unknown network {peer.network!r}")
        elif not _has_peers(next(n for n in networks if n.name == peer.network)):
            problems.append(f"{where}: peer {peer.name!r} is on a network without peers")
        else:
            home = next(n for n in networks if n.name == peer.network)
            problems += [f"{where}: {p}" for p in kind_of(home).peer_problems(peer)]
    tokens = gateway.get("operator_tokens", [])
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        problems.append(f"{where}: operator_tokens must be a list of strings")
        tokens = []
    if any(len(t) < MIN_TOKEN for t in tokens):
        # A short token can be guessed: bearer tokens are not throttled like passwords.
        problems.append(f"{where}: each operator token needs at least {MIN_TOKEN} characters")
    open_ = bool(gateway.get("open", False))
    if open_ and ANONYMOUS_NETWORK not in names:
        networks += (Network(ANONYMOUS_NETWORK),)
    limits = dataclass_from(Limits, _table(data, "limits", where, problems), where, problems)
    retry = dataclass_from(Retry, _table(data, "retry", where, problems), where, problems)
    tls_table = data.get("tls")
    tls = None if tls_table is None else dataclass_from(TLS, tls_table, where, problems)
    mail = dataclass_from(Mail, _table(data, "mail", where, problems), where, problems)
    apdu_log = dataclass_from(ApduLog, _table(data, "apdu_log", where, problems), where, problems)
    per_address = ("max_associations", "max_associations_per_address")
    problems += _numbers(limits, f"{where}: [limits]", per_address)
    problems += _numbers(apdu_log, f"{where}: [apdu_log]", ("prune_every",))
    problems += _numbers(apdu_log, f"{where}: [apdu_log]", ("max_age", "max_bytes"), zero=True)
    for network in networks:
        for symbol in _symbols(network):
            owner = next((p for p in peers if p.owns(symbol)), None)
            if owner is not None:
                problems.append(
                    f"{where}: {network.kind} {network.name}'s symbol {symbol} is also peer"
                    f" {owner.name}'s: requests for it would have two homes"
                )
    if problems:
        raise ConfigError("\n".join(problems))
    return Config(
        ill=tuple(ill),
        http=gateway.get("http", Config.http),
        store=str(gateway.get("store", Config.store)),
        open=open_,
        networks=networks,
        peers=peers,
        limits=limits,
        retry=retry,
        tls=tls,
        mail=mail,
        apdu_log=apdu_log,
        operator_tokens=tuple(tokens),
    )


def _numbers(value: Any, where: str, names: tuple[str, ...], zero: bool = False) -> list[str]:
    """Problems with settings that must be numbers above 0 (a limit of 0 would refuse
    everyone, a prune every 0 seconds would never stop), or 0 or more where 0 means none."""
    least = "0 or more" if zero else "above 0"
    problems = []
    for name in names:
        number = getattr(value, name)
        if (
            isinstance(number, bool)
            or not isinstance(number, int | float)
            or number < 0
            or (number == 0 and not zero)
        ):
            problems.append(f"{where} {name} must be a number {least}")
    return problems


def _table(data: dict[str, Any], name: str, where: str, problems: list[str]) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        problems.append(f"{where}: [{name}] must be a table")
        return {}
    return value


def _list(data: dict[str, Any], name: str, where: str, problems: list[str]) -> list[Any]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problems.append(f"{where}: use [[{name}]] tables")
        return []
    return value


def _network(value: dict[str, Any], where: str, problems: list[str], here: Path | None) -> Network:
    """A network: its core settings here, the rest read by its kind."""
    core = {k: v for k, v in value.items() if k in ("name", "kind", "profile", "default")}
    network: Network = dataclass_from(Network, core, where, problems)
    try:
        kind = named(network.kind)
    except KeyError:
        kinds = ", ".join(k.name for k in registered())
        problems.append(f"{where}: kind must be one of {kinds}")
        return network
    own = {k: v for k, v in value.items() if k not in core}
    settings = kind.settings(network.name, own, where, problems, here)
    if network.profile not in PROFILES:
        problems.append(f"{where}: profile must be one of {', '.join(PROFILES)}")
    return replace(network, settings=settings)


def _has_peers(network: Network) -> bool:
    try:
        return kind_of(network).has_peers
    except KeyError:  # an unknown kind, reported already
        return False


def _symbols(network: Network) -> list[str]:
    try:
        return [s for s in kind_of(network).symbols(network) if s]
    except KeyError:
        return []


def _peer(value: dict[str, Any], where: str, problems: list[str]) -> Peer:
    value = dict(value)
    for name in ("symbols", "addresses"):
        if isinstance(value.get(name), list):
            value[name] = tuple(str(v) for v in value[name])
    peer: Peer = dataclass_from(Peer, value, where, problems)
    if not peer.symbols:
        problems.append(f"{where}: peer {peer.name!r} needs its institution symbols")
    return peer


def dataclass_from(cls: Any, value: dict[str, Any], where: str, problems: list[str]) -> Any:
    """A settings dataclass from its TOML table, every unknown key a problem (a kind reads
    its own settings with it too)."""
    fields = cls.__dataclass_fields__
    unknown = [key for key in value if key not in fields]
    if unknown:
        problems.append(f"{where}: unknown setting(s) {', '.join(sorted(unknown))}")
    try:
        return cls(**{k: v for k, v in value.items() if k in fields})
    except TypeError as err:
        # A required setting is missing: nothing sensible can stand in for it.
        raise ConfigError("\n".join([*problems, f"{where}: {err}"])) from None
