"""A throwaway PostgreSQL server, for the tests and the gateway benchmark: initdb into a
temporary directory, listen on a free loopback port, stop and delete it at the end.

``ISOILL_TEST_POSTGRES`` (a URL) uses an existing server instead. Without either, asking
for a server fails, naming what is missing: CI installs Debian's ``postgresql``.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


class NoPostgreSQL(RuntimeError):
    """No server binaries, or the server would not start."""


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise NoPostgreSQL("PostgreSQL is not installed (apt-get install postgresql)")
    return Path(found[-1]).parent


def _as_server_user(args: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], log: Path | None = None) -> None:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        detail = done.stderr.strip() or done.stdout
        if log is not None and log.exists():  # pg_ctl only says "examine the log output"
            detail += "\n" + log.read_text(errors="replace")[-2000:]
        raise NoPostgreSQL(f"{' '.join(args)} failed: {detail}")


@contextmanager
def throwaway_server() -> Iterator[str]:
    """The URL of a running server's ``postgres`` database (a superuser connection)."""
    given = os.environ.get("ISOILL_TEST_POSTGRES")
    if given:
        yield given
        return
    bin_dir = _binaries()
    base = Path(tempfile.mkdtemp(prefix="isoill-pg-"))
    data = base / "data"
    port = _free_port()
    try:
        if os.geteuid() == 0:
            try:
                shutil.chown(base, "postgres", "postgres")
            except LookupError as err:
                raise NoPostgreSQL(f"as root, the server runs as user postgres: {err}") from err
        _run(
            _as_server_user(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                ]
            )
        )
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -c max_connections=200"
        _run(
            _as_server_user(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(base / "server.log"),
                    "-w",
                    "start",
                ]
            ),
            log=base / "server.log",
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                check=False,
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, empty database on ``server``, dropped afterwards."""
    import psycopg

    name = f"isoill_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        # Only the database changes: user, host, port and ?options stay as given.
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
