"""The ``library`` network kind (:mod:`isoill.gateway.kinds`): how the gateway's core reads,
stores and routes a library hosted on it, without knowing what a library is.

Its settings are :class:`~isoill.library.settings.Library`; its legs carry a reader's or a
supply request (:mod:`isoill.library.requests`) as their payload, kept under ``desk`` in the
leg's body as before the kind existed; it answers for its institution symbol, so requests
for it come to its desk (:class:`~isoill.library.desk.Desk`); its pages and API are mounted
on the site; its login sessions have their own table.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from isoill.gateway.config import Config, Network
from isoill.gateway.kinds import Mount, NetworkKind, Payload
from isoill.gateway.logins import Throttle
from isoill.library.desk import Desk
from isoill.library.requests import ReaderRequest, SupplyRequest, desk_from_json
from isoill.library.settings import KIND, Library, read_library

if TYPE_CHECKING:
    from isoill.gateway.relay import Forward

#: The library's own tables: its accounts, and login sessions of the reader and staff pages.
#: Stores written before the gateway had an operators table kept its operators as accounts
#: of no library: they move there, once (the core reads only its own table).
SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    library TEXT NOT NULL,
    username TEXT NOT NULL,
    role TEXT NOT NULL,
    confirmed INTEGER NOT NULL,
    body TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (library, username)
);
INSERT INTO operators (username, body, version)
    SELECT username, body, version FROM accounts WHERE library = '' AND role = 'operator'
    ON CONFLICT (username) DO NOTHING;
DELETE FROM accounts WHERE library = '' AND role = 'operator';
CREATE TABLE IF NOT EXISTS sessions (
    skey TEXT PRIMARY KEY,
    library TEXT NOT NULL,
    username TEXT NOT NULL,
    csrf TEXT NOT NULL,
    expires DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires)
"""


class LibraryKind(NetworkKind):
    name = KIND
    payload_key = "desk"

    def settings(
        self,
        network: str,
        table: dict[str, Any],
        where: str,
        problems: list[str],
        here: Path | None,
    ) -> Library:
        return read_library(network, table, where, problems, here)

    def defaults(self) -> Sequence[dict[str, Any]]:
        # ``isoill gateway`` without a file has one library, so the pages can be tried.
        return (
            {
                "name": "library",
                "kind": KIND,
                "symbol": "ISOILL:LIBRARY",
                "label": "本馆",
                "staff_email": "ill-staff@localhost",
            },
        )

    def symbols(self, network: Network) -> Sequence[str]:
        assert isinstance(network.settings, Library)
        return (network.settings.symbol,)

    def owns_payload(self, payload: Payload) -> bool:
        return isinstance(payload, ReaderRequest | SupplyRequest)

    def decode_payload(self, value: dict[str, Any]) -> Payload:
        return desk_from_json(value)

    def desk(self, config: Config, forward: Forward) -> Desk:
        return Desk(config, forward)

    def resources(self, backend: Any, throttle: Throttle) -> Sequence[Mount]:
        from isoill.library.account_pages import AccountPages
        from isoill.library.api import LibraryRequests
        from isoill.library.help_pages import mount_help
        from isoill.library.link_pages import LinkPages
        from isoill.library.pages_common import Script
        from isoill.library.reader_pages import ReaderPages
        from isoill.library.service import LibraryService
        from isoill.library.staff_pages import StaffPages

        service = LibraryService(backend)
        reader, staff = ReaderPages(service, throttle), StaffPages(service, throttle)
        for area in (reader, staff):
            AccountPages(area, service)
            mount_help(area)
        LinkPages(reader, service)
        return (
            ((b"api", b"libraries"), LibraryRequests(service, throttle)),
            ((b"reader",), reader),
            ((b"staff",), staff),
            ((b"static", b"isoill.js"), Script()),
        )

    def schema(self) -> str:
        return SCHEMA


LIBRARY = LibraryKind()
