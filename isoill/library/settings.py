"""A library network's settings: what ``kind = "library"`` adds to a ``[[network]]`` table.

A library (or a CALIS centre) whose readers and staff use the gateway's web pages::

    [[network]]
    name = "thu"
    kind = "library"
    symbol = "CALIS:THU"        # its requester-id, and the responder-id it answers to
    label = "清华大学图书馆"
    mode = "distributed"        # or "central" (a CALIS centre for its member libraries)
    accounts = "individual"     # central mode: or "group", one account per member library
    staff_email = "ill@lib.example"
    holdings = "holdings.csv"   # issn,isbn,title,library: the suppliers to ask
    deadline = 604800.0         # seconds a supplier has to answer before the rota moves on
    cancel_deadline = 259200.0  # seconds a supplier has to answer a Cancel before staff and
                                # the reader are told it has not
    rush_fee = 10               # yuan a reader pays for an urgent (加急) request
    members = [{symbol = "CALIS:M1", label = "...", staff_email = "...", rush_fee = 15}]
    url = "https://ill.lib.example"  # where readers reach the pages: mailed links start so

The configuration keeps them as the network's ``settings`` (:mod:`isoill.gateway.kinds`);
:func:`libraries` and :func:`library_named` find them again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from isoill.gateway.config import Config, Network, dataclass_from

#: The kind name of library networks.
KIND = "library"
MODES = ("distributed", "central")
ACCOUNT_KINDS = ("individual", "group")


@dataclass(frozen=True)
class Member:
    """A member library of a CALIS centre (central mode): its readers' accounts are
    confirmed by its own staff, and its readers' requests go out under the centre's name."""

    symbol: str
    label: str = ""
    staff_email: str = ""
    #: Its own rush fee (加急费) in yuan, where it is not the centre's.
    rush_fee: Decimal | None = None


@dataclass(frozen=True)
class Library:
    """A library network on the gateway: its name (the network's) and its own settings."""

    name: str
    #: Its institution symbol: the requester-id of its requests, the responder-id it answers to.
    symbol: str = ""
    #: Its name as readers read it.
    label: str = ""
    #: ``distributed``: staff send each reader's request on, documents come to the library;
    #: ``central``: the centre sends every request on at once by the holdings table and the
    #: supplier ships straight to the reader.
    mode: str = "distributed"
    #: Central mode: ``individual`` reader accounts or one ``group`` account per member.
    accounts: str = "individual"
    #: Where readers' requests in CALIS e-mail mode go, and who is told of new accounts.
    staff_email: str = ""
    #: CSV of holdings (issn,isbn,title,library) that chooses the suppliers to ask.
    holdings: str = ""
    #: Seconds a supplier has to answer before the rota moves on (default: 7 days).
    deadline: float = 7 * 86400.0
    #: Seconds a supplier has to answer a Cancel (Cancel-Reply) before staff and the reader
    #: are told it has not (default: 3 days): the request cannot end on a silence, since the
    #: supplier may still ship, so people must follow it up.
    cancel_deadline: float = 3 * 86400.0
    #: What a reader pays for an urgent request (加急), in yuan: the Tsinghua form's "需自付
    #: 费用10元/篇". None: the form names no amount.
    rush_fee: Decimal | None = None
    members: tuple[Member, ...] = ()
    #: Where readers and staff reach the gateway's pages (``https://host``): the links the
    #: gateway mails (a password reset) start so. Unset, only a gateway tried on this machine
    #: (localhost) mails them.
    url: str = ""


def read_library(
    name: str, table: dict[str, Any], where: str, problems: list[str], here: Path | None
) -> Library:
    """A library's settings from its network table; every problem at once."""
    value = _with_fee(dict(table, name=name), where, problems)
    members = value.get("members", [])
    if not isinstance(members, list) or not all(isinstance(m, dict) for m in members):
        problems.append(f"{where}: members must be a list of tables {{symbol=..., label=...}}")
        members = []
    value["members"] = tuple(
        dataclass_from(Member, _with_fee(m, at, problems), at, problems)
        for i, m in enumerate(members)
        for at in [f"{where} member {i + 1}"]
    )
    library: Library = dataclass_from(Library, value, where, problems)
    if not library.symbol:
        problems.append(f"{where}: a library network needs its institution symbol")
    if library.mode not in MODES:
        problems.append(f"{where}: mode must be one of {', '.join(MODES)}")
    if library.accounts not in ACCOUNT_KINDS:
        problems.append(f"{where}: accounts must be one of {', '.join(ACCOUNT_KINDS)}")
    for name in ("deadline", "cancel_deadline"):
        if getattr(library, name) <= 0:
            problems.append(f"{where}: {name} must be a positive number of seconds")
    if library.holdings and here is not None:
        # A holdings table named in the file is found beside the file, wherever the gateway
        # is started from.
        library = replace(library, holdings=str(here / library.holdings))
    return library


def _with_fee(table: dict[str, Any], where: str, problems: list[str]) -> dict[str, Any]:
    """The table with its ``rush_fee`` (a number, or a string such as "10.50") as yuan."""
    if "rush_fee" not in table:
        return table
    given = table["rush_fee"]
    try:
        fee = None if isinstance(given, bool) else Decimal(str(given))
    except InvalidOperation:
        fee = None
    if fee is None or not fee.is_finite() or fee < 0:
        problems.append(f"{where}: rush_fee must be an amount of yuan, such as 10 or 12.50")
        return {k: v for k, v in table.items() if k != "rush_fee"}
    return dict(table, rush_fee=fee.quantize(Decimal("0.01")))


def rush_fee(library: Library, member: str = "") -> Decimal | None:
    """What a reader of ``member`` (a member library's symbol; empty: the library's own
    reader) pays for an urgent request: the member's own fee, else the library's."""
    found = next((m for m in library.members if member and m.symbol == member), None)
    if found is not None and found.rush_fee is not None:
        return found.rush_fee
    return library.rush_fee


def staff_of(library: Library, member: str = "") -> tuple[str, str]:
    """The ILL staff a reader of ``member`` (a member library's symbol; empty: the library's
    own reader) writes to, as (address, library name): the member's own staff where it has
    an address (CALIS e-mail mode: "用户所属馆提供了本馆馆际互借员的Email地址"), else the
    library's."""
    found = next((m for m in library.members if member and m.symbol == member), None)
    if found is not None and found.staff_email:
        return found.staff_email, found.label or found.symbol
    return library.staff_email, library.label or library.symbol


def member_library(libraries: Sequence[Library], symbol: str) -> Library | None:
    """The library (a CALIS centre) that ``symbol`` is a member library of, if any."""
    return next((n for n in libraries if any(m.symbol == symbol for m in n.members)), None)


def library_network(library: Library, profile: str = "iso") -> Network:
    """The network of a library, as the configuration holds it."""
    return Network(library.name, kind=KIND, profile=profile, settings=library)


def libraries(config: Config) -> list[Library]:
    """The library networks of a configuration, in its order."""
    return [n.settings for n in config.networks if isinstance(n.settings, Library)]


def library_named(config: Config, name: str) -> Library:
    """The library network of that name; KeyError when there is none."""
    found = next((n for n in libraries(config) if n.name == name), None)
    if found is None:
        raise KeyError(name)
    return found


def library_labels(config: Config) -> dict[str, str]:
    """Every library the configuration names, as people read it, by its symbol (upper
    case): its name with its symbol in brackets, which staff match with other systems."""
    named = [(n.symbol, n.label) for n in libraries(config)]
    named += [(m.symbol, m.label) for n in libraries(config) for m in n.members]
    named += [(s, p.label) for p in config.peers for s in p.symbols]
    return {symbol.upper(): f"{label} ({symbol})" for symbol, label in named if label}


def suppliers(config: Config) -> dict[str, str]:
    """The libraries a library here can send a request to, the configured peers' symbols
    (upper case), each with how people read it: what staff pick from when they send a
    reader's request on, since the desk takes nothing else."""
    labels = library_labels(config)
    return {s.upper(): labels.get(s.upper(), s) for p in config.peers for s in p.symbols}


def library_label(config: Config, symbol: str) -> str:
    """A library as people read it (:func:`library_labels`), or its symbol alone when the
    configuration names none."""
    return library_labels(config).get(symbol.strip().upper(), symbol)
