"""Gateway throughput and latency with durable commits, SQLite and PostgreSQL.

    python bench/gateway.py [--seconds 5] [--concurrency 1,10,50,200] [--no-postgres]
                            [--profile DIR]

A real ``isoill gateway`` process relays ILL-Requests from network "east" (clients that
each send a request and wait for its acknowledgement, then send the next: a closed loop per
association) to network "west" (a peer that takes everything). Measured in this process, on
one clock: relayed APDUs per second, and the relay latency, from a client's send to the far
peer's receipt, p50 and p99.

The baseline, measured in the same run, is a plain TCP relay process (Twisted, no decoding,
no protocol machine, no store) passing the same bytes between the same clients and peer: the
ratio says what the gateway's decoding, checking and durable commit cost. The targets
(:data:`TARGETS`, issue 14): SQLite at 10 associations >= 0.5x with p99 <= 10 ms, SQLite at
one association p99 <= 5 ms, PostgreSQL at 10 associations >= 0.3x.

Between the two, for each store, a floor row (:mod:`gateway_floor`): a process that does
only what any durable relay of this design must (decode, check against the state table,
group-commit the legs, outbox and log on a storage thread, forward and acknowledge after the
commit), the cheapest way. No gateway of this design does less, so where the floor misses a
target, the gateway cannot meet it here either; the gap between the floor and the gateway is
what the gateway's own code costs.

Rates and latencies depend on what else the machine runs; the CPU time the process under
test spent per relayed APDU (``CPU ms``, all its threads, from ``/proc`` where there is one)
depends much less on it, and is the figure to compare changes of the gateway's code by.

``--profile DIR`` runs each gateway process under cProfile, one profile per thread (the
reactor's and the storage thread's, where the relay decides and commits), written to
``DIR/<store>-<associations>-<thread>.prof`` when the process stops: read them with
``python -m pstats``. The profiler slows the gateway down, so its figures are not the
gateway's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path

import isoill
from isoill.apdu import StreamDecoder
from isoill.demo import gif_copy_request

CONFIG = """
[gateway]
open = false
[[network]]
name = "east"
profile = "iso"
[[network]]
name = "west"
profile = "iso"
[[peer]]
name = "east-lib"
network = "east"
symbols = ["{requester}"]
[[peer]]
name = "west-lib"
network = "west"
symbols = ["{responder}"]
connect = "tcp:host=127.0.0.1:port={port}"
"""

#: The floor row's process (:mod:`gateway_floor`): the least a durable relay of this design does.
FLOOR_SCRIPT = Path(__file__).with_name("gateway_floor.py")

FORWARDER = """
import sys
from twisted.internet import protocol, reactor

class Out(protocol.Protocol):
    def dataReceived(self, data): pass

class In(protocol.Protocol):
    def connectionMade(self):
        self.factory.clients.append(self)
    def dataReceived(self, data):
        # what a relay without checks does: pass the bytes on, acknowledge with fixed bytes
        self.factory.out.transport.write(data)
        self.transport.write(self.factory.ack)

class Inbound(protocol.Factory):
    protocol = In
    def __init__(self, out, ack):
        self.out, self.ack, self.clients = out, ack, []

def main():
    port, dest, ack = int(sys.argv[1]), int(sys.argv[2]), bytes.fromhex(sys.argv[3])
    def connected(out):
        reactor.listenTCP(port, Inbound(out, ack), interface="127.0.0.1")
    protocol.ClientCreator(reactor, Out).connectTCP("127.0.0.1", dest).addCallback(connected)
    reactor.run()

main()
"""


#: Runs the gateway with a cProfile profiler on each thread (cProfile sees one thread only).
PROFILED = """
import cProfile, runpy, sys, threading

prefix = sys.argv.pop(1)
run = threading.Thread.run

def profiled(thread):
    profile = cProfile.Profile()
    profile.enable()
    try:
        run(thread)
    finally:
        profile.disable()
        profile.dump_stats(f"{prefix}-{thread.name}.prof")

threading.Thread.run = profiled
sys.argv[0] = "isoill"
profile = cProfile.Profile()
profile.enable()
try:
    runpy.run_module("isoill.cli", run_name="__main__")
finally:
    profile.disable()
    profile.dump_stats(f"{prefix}-main.prof")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(400):
        if process.poll() is not None:
            raise SystemExit(f"the process under test exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


class Sink:
    """The far peer: records when each transaction's request arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder = StreamDecoder()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            while chunk := await reader.read(65536):
                now = time.perf_counter()
                for apdu in decoder.feed(chunk):
                    if isinstance(apdu, isoill.APDUBase):
                        self.arrived.setdefault(apdu.transaction_id.transaction_qualifier, now)


@dataclasses.dataclass
class Result:
    relayed: int
    seconds: float
    latencies: list[float]
    #: CPU time of the process under test per relayed APDU, milliseconds.
    cpu_ms: float = float("nan")

    @property
    def rate(self) -> float:
        return self.relayed / self.seconds

    def quantile(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100)[int(q * 100) - 1]


async def load(port: int, sink: Sink, concurrency: int, seconds: float, tag: str) -> Result:
    """``concurrency`` associations, each sending the next request when the last is acked."""
    base = gif_copy_request()
    sent: dict[str, float] = {}
    stop = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def client(number: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        decoder = StreamDecoder()
        while time.perf_counter() < stop:
            qualifier = f"{tag}-{number}-{next(counter)}"
            tid = dataclasses.replace(base.transaction_id, transaction_qualifier=qualifier)
            data = isoill.encode(dataclasses.replace(base, transaction_id=tid))
            sent[qualifier] = time.perf_counter()
            writer.write(data)
            acked = False
            while not acked:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                acked = bool(decoder.feed(chunk))
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(concurrency)))
    await asyncio.sleep(0.5)  # the last relays in flight
    elapsed = time.perf_counter() - started - 0.5
    latencies = [sink.arrived[q] - t for q, t in sent.items() if q in sink.arrived]
    return Result(len(latencies), elapsed, latencies)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, all its threads (NaN without ``/proc``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    # utime and stime, the 14th and 15th fields of the line (the 12th and 13th after ")").
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measured(child: subprocess.Popen[bytes], loading: Awaitable[Result]) -> Result:
    """A load's result, with the CPU time ``child`` spent on it per relayed APDU."""
    before = cpu_seconds(child.pid)
    result = await loading
    spent = cpu_seconds(child.pid) - before
    return dataclasses.replace(result, cpu_ms=spent * 1000 / max(result.relayed, 1))


@contextlib.contextmanager
def process(
    args: list[str], port: int, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(port, child)
        yield child
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()


@dataclasses.dataclass(frozen=True)
class Target:
    """A speed target of issue 14 for one store and number of associations."""

    #: The least APDU/s as a share of the plain relay's in the same run (0: none).
    ratio: float = 0.0
    #: The largest p99 relay latency, seconds (inf: none).
    p99: float = float("inf")

    def met(self, result: Result, base: Result) -> bool:
        return result.rate >= self.ratio * base.rate and result.quantile(0.99) <= self.p99


#: By store and associations; a level not here has no target.
TARGETS = {
    ("SQLite", 10): Target(ratio=0.5, p99=0.010),
    ("SQLite", 1): Target(p99=0.005),
    ("PostgreSQL", 10): Target(ratio=0.3),
}


def target(store: str, concurrency: int) -> Target | None:
    return TARGETS.get((store, concurrency))


def row(
    name: str, concurrency: int, result: Result, base: Result, goal: Target | None = None
) -> None:
    """One line of the table; a row with a target says whether it meets it."""
    mark = "" if goal is None else f"  target {'met' if goal.met(result, base) else 'missed'}"
    print(
        f"{name:<22}{concurrency:>6}{result.rate:>10.0f}"
        f"{result.quantile(0.5) * 1000:>9.2f}{result.quantile(0.99) * 1000:>9.2f}"
        f"{result.cpu_ms:>9.3f}{result.rate / base.rate:>12.2f}x{mark}"
    )


async def run_all(args: argparse.Namespace) -> None:
    sink = Sink()
    server = await asyncio.start_server(sink.serve, "127.0.0.1", 0)
    sink_port = server.sockets[0].getsockname()[1]
    request = gif_copy_request()
    config = CONFIG.format(
        requester=request.requester_id.person_or_institution_symbol.value,  # type: ignore[union-attr]
        responder=request.responder_id.person_or_institution_symbol.value,  # type: ignore[union-attr]
        port=sink_port,
    )
    levels = [int(n) for n in args.concurrency.split(",")]
    stores: list[tuple[str, str]] = []
    work = Path(tempfile.mkdtemp(prefix="isoill-bench-"))
    (work / "gateway.toml").write_text(config)
    stores.append(("SQLite", str(work / "bench.db")))
    postgres = contextlib.ExitStack()
    if not args.no_postgres:
        from isoill.testing.postgres import NoPostgreSQL, fresh_database, throwaway_server

        try:
            server_url = postgres.enter_context(throwaway_server())
            stores.append(("PostgreSQL", postgres.enter_context(fresh_database(server_url))))
        except (NoPostgreSQL, ImportError) as err:
            print(f"PostgreSQL skipped: {err}")
    ack = isoill.encode(
        isoill.StatusOrErrorReport(
            transaction_id=request.transaction_id,
            reason_no_report=isoill.ReasonNoReport.TEMPORARY,
        )
    ).hex()
    print(
        f"{'relay':<22}{'assoc':>6}{'APDU/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU ms':>9}"
        f"{'vs baseline':>13}"
    )
    with postgres:
        for concurrency in levels:
            port = free_port()
            forwarder = [sys.executable, "-c", FORWARDER, str(port), str(sink_port), ack]
            with process(forwarder, port) as child:
                base = await measured(
                    child, load(port, sink, concurrency, args.seconds, f"b{concurrency}")
                )
            row("plain TCP relay", concurrency, base, base)
            for name, location in stores:
                port = free_port()
                store = str(work / f"floor-{concurrency}.db") if name == "SQLite" else location
                floor = [sys.executable, str(FLOOR_SCRIPT), str(port), str(sink_port), store]
                with process(floor, port) as child:
                    least = await measured(
                        child, load(port, sink, concurrency, args.seconds, f"f{name}{concurrency}")
                    )
                row(f"floor, {name}", concurrency, least, base, target(name, concurrency))
                port = free_port()
                launcher = ["-m", "isoill.cli"]
                if args.profile is not None:
                    args.profile.mkdir(parents=True, exist_ok=True)
                    launcher = ["-c", PROFILED, str(args.profile / f"{name}-{concurrency}")]
                gateway = [
                    sys.executable,
                    *launcher,
                    "gateway",
                    "--config",
                    str(work / "gateway.toml"),
                    "--ill-port",
                    str(port),
                    "--http-port",
                    str(free_port()),
                    "--store",
                    location,
                    "--log",
                    str(work / "gateway.log"),
                ]
                with process(gateway, port, env={**os.environ}) as child:
                    result = await measured(
                        child,
                        load(port, sink, concurrency, args.seconds, f"{name[0]}{concurrency}"),
                    )
                row(f"gateway, {name}", concurrency, result, base, target(name, concurrency))
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per measurement (5)")
    parser.add_argument("--concurrency", default="1,10,50,200", help="associations (1,10,50,200)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--profile", type=Path, help="write cProfile profiles of the gateway")
    asyncio.run(run_all(parser.parse_args()))


if __name__ == "__main__":
    main()
