"""A real gateway process and fake ISO ILL peers on loopback, for end-to-end tests.

The gateway runs as ``isoill gateway --config`` in a subprocess (so a test can kill -9 it);
peers are plain sockets in threads, reading with isoill's stream decoder.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import json
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.web.server import Site

import isoill
from isoill.machine import Role, Transaction, Transactions, machine

REPO = Path(__file__).resolve().parents[2]
#: The operator account ``GatewayProcess.http`` logs in as unless told otherwise.
OPERATOR = ("operator", "operator-secret-1")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(
    port: int, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the gateway exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on port {port} after {timeout} s")


class GatewayProcess:
    """``isoill gateway`` with a TOML configuration, in its own working directory."""

    def __init__(self, workdir: Path, config: str | None = None, store: str | None = None) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.ill_port = free_port()
        self.http_port = free_port()
        self.log = workdir / "gateway.log"
        self.args = [
            sys.executable,
            "-m",
            "isoill.cli",
            "gateway",
            "--log",
            str(self.log),
            "--ill-port",
            str(self.ill_port),
            "--http-port",
            str(self.http_port),
        ]
        if config is not None:
            path = workdir / "gateway.toml"
            path.write_text(config)
            self.args += ["--config", str(path)]
        if store is not None:
            self.args += ["--store", store]
        self.process: subprocess.Popen[bytes] | None = None
        self._operator = False

    def start(self) -> GatewayProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            self.args,
            cwd=self.workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_for_port(self.ill_port, process=self.process)
        wait_for_port(self.http_port, process=self.process)
        return self

    def kill(self) -> None:
        """kill -9: no chance to flush or clean up."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def http(
        self,
        path: str,
        body: Any = None,
        auth: tuple[str, str] | Literal["operator"] | None = "operator",
        method: str | None = None,
        language: str | None = None,
    ) -> tuple[int, Any]:
        """A JSON call (POST with a body, GET without, unless ``method`` says); ``auth`` is
        (user, password) for HTTP Basic, by default an operator account made for the purpose
        (the operations pages and records API need one), or None to ask anonymously;
        ``language`` the Accept-Language header, if any."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if language is not None:
            headers["Accept-Language"] = language
        if auth == "operator":
            auth = self.operator()
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}{path}",
            data=data,
            method=method or ("POST" if body is not None else "GET"),
            headers=headers,
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                text = answer.read().decode()
                status = answer.status
        except urllib.error.HTTPError as err:
            text, status = err.read().decode(), err.code
        try:
            return status, json.loads(text)
        except json.JSONDecodeError:
            return status, text

    def operator(self) -> tuple[str, str]:
        """The credentials of an operator account of this gateway, made on first use."""
        if not self._operator:
            self.add_staff(OPERATOR[0], None, OPERATOR[1])
            self._operator = True
        return OPERATOR

    def add_staff(
        self, user: str, library: str | None, password: str, member: str | None = None
    ) -> None:
        """``isoill staff add`` against this gateway's store and configuration; an operator
        account when ``library`` is None."""
        args = [sys.executable, "-m", "isoill.cli", "staff", "add", user]
        args += ["--operator"] if library is None else ["--library", library]
        if member:
            args += ["--member", member]
        if "--config" in self.args:
            args += ["--config", self.args[self.args.index("--config") + 1]]
        if "--store" in self.args:
            args += ["--store", self.args[self.args.index("--store") + 1]]
        env = {**os.environ, "PYTHONPATH": str(REPO), "ISOILL_PASSWORD": password}
        done = subprocess.run(args, cwd=self.workdir, env=env, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()

    def log_records(self) -> list[dict[str, Any]]:
        records = []
        for line in self.log.read_text(encoding="utf-8").splitlines():
            line = line.strip("\x1e").strip()
            if line:
                records.append(json.loads(line))
        return records


class Connection:
    """One association seen from a peer: send APDUs, receive what comes back."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.decoder = isoill.StreamDecoder()
        self.inbox: queue.Queue[isoill.APDU | isoill.UndecodableAPDU] = queue.Queue()
        self.closed = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    @classmethod
    def to(cls, port: int) -> Connection:
        return cls(socket.create_connection(("127.0.0.1", port), timeout=10))

    def _read(self) -> None:
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                for item in self.decoder.feed(chunk):
                    self.inbox.put(item)
        except (OSError, isoill.DecodeError):
            pass
        finally:
            self.closed.set()

    def send(self, apdu: isoill.APDU) -> None:
        self.sock.sendall(isoill.encode(apdu))

    def receive(self, timeout: float = 10.0) -> isoill.APDU:
        item = self.inbox.get(timeout=timeout)
        assert not isinstance(item, isoill.UndecodableAPDU), item
        return item

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class FakePeer:
    """An ISO ILL peer the gateway connects to: every APDU it gets lands in ``inbox``."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        self.connections: list[Connection] = []
        self.inbox: queue.Queue[tuple[Connection, isoill.APDU]] = queue.Queue()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.server.accept()
            except OSError:
                return
            connection = Connection(sock)
            self.connections.append(connection)
            threading.Thread(target=self._pump, args=(connection,), daemon=True).start()

    def _pump(self, connection: Connection) -> None:
        while not (connection.closed.is_set() and connection.inbox.empty()):
            try:
                item = connection.inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            assert not isinstance(item, isoill.UndecodableAPDU), item
            self.inbox.put((connection, item))

    def receive(self, timeout: float = 10.0) -> tuple[Connection, isoill.APDU]:
        return self.inbox.get(timeout=timeout)

    def close(self) -> None:
        self.server.close()
        for connection in self.connections:
            connection.close()


def kill_while(gateway: GatewayProcess, work: Callable[[], None], kills: int, seed: int) -> None:
    """Run ``work`` (a client that retries until answered) while the gateway is killed -9
    and restarted ``kills`` times at random moments; return once the work is done."""
    client = threading.Thread(target=work)
    client.start()
    rng = random.Random(seed)
    for _ in range(kills):
        time.sleep(rng.uniform(0.2, 1.0))
        gateway.kill()
        time.sleep(rng.uniform(0.0, 0.3))
        gateway.start()
    client.join(120)
    assert not client.is_alive()


def accepted_by(peer: FakePeer, count: int, timeout: float = 60.0) -> list[isoill.APDU]:
    """What ``peer`` receives until a responder's protocol machine there has accepted
    ``count`` new requests (each APDU must be accepted or a repeat): everything on the wire."""
    far_side = Transactions(Role.RESPONDER)
    wire: list[isoill.APDU] = []
    accepted = 0
    deadline = time.monotonic() + timeout
    while accepted < count and time.monotonic() < deadline:
        try:
            _, apdu = peer.receive(timeout=5)
        except queue.Empty:
            continue
        wire.append(apdu)
        far_side, outcome = far_side.receive(apdu)
        assert outcome.accepted or outcome.repeated, outcome.reply
        accepted += outcome.accepted
    assert accepted == count, f"{accepted} of {count} requests reached the far side"
    return wire


class Side:
    """A library with its own protocol machine, checking what it sends and receives."""

    def __init__(self, role: Role, tid: isoill.TransactionId) -> None:
        self.txn = Transaction(role, tid)

    def sent(self, apdu: isoill.APDU) -> isoill.APDU:
        self.txn = machine.send(self.txn, apdu)
        return apdu

    def got(self, apdu: isoill.APDU) -> isoill.APDU:
        outcome = machine.receive(self.txn, apdu)
        assert outcome.accepted, (apdu, outcome.reply)
        self.txn = outcome.transaction
        return apdu


# --- HTTP without a network ---------------------------------------------------------------


@dataclass
class Answer:
    """An HTTP answer as a client reads it."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        assert self.headers["content-type"] == "application/json; charset=utf-8"
        return json.loads(self.body)


class _Socket:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self.data)


def exchange(
    web: Site,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    listener: str = "127.0.0.1",
) -> Answer:
    """One request through a site with no network and no running reactor: Twisted's real
    HTTP parser and resource tree take the bytes over a StringTransport (its local address
    ``listener``), and the answer is read back with http.client, as a client would."""
    web.reactor = Clock()  # the channel's idle timeout, never run
    channel = web.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
    assert channel is not None
    transport = StringTransport(hostAddress=IPv4Address("TCP", listener, 8499))
    channel.makeConnection(transport)
    head = [f"{method} {path} HTTP/1.1", "Host: localhost", "Connection: close"]
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    channel.dataReceived(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    response = http.client.HTTPResponse(_Socket(transport.value()), method=method)  # type: ignore[arg-type]
    response.begin()
    return Answer(response.status, response.headers, response.read())
