"""A gateway whose every group commit takes 200 ms, for the test that a slow store holds
up nothing but the steps that wait for it: ``python -m tests.gateway.slow_store CONFIG DB``
runs one on the real reactor until it is terminated."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from isoill.gateway.app import GatewayService
from isoill.gateway.config import load
from isoill.gateway.service import Gateway, start_logging
from isoill.gateway.store import SQLiteStore

#: Seconds each group commit takes on top of its own work: a disk or a database far away.
COMMIT_DELAY = 0.2


class SlowStore(SQLiteStore):
    def commit_many(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(COMMIT_DELAY)
        return super().commit_many(*args, **kwargs)


def main(config_path: str, store_path: str) -> None:
    from twisted.internet import reactor

    start_logging(open(Path(store_path).with_suffix(".log"), "w"))  # noqa: SIM115
    store = SlowStore(store_path)
    service = GatewayService(Gateway(load(config_path), store, reactor))
    reactor.callWhenRunning(service.startService)  # type: ignore[attr-defined]
    reactor.addSystemEventTrigger("before", "shutdown", service.stopService)  # type: ignore[attr-defined]
    reactor.run()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
