"""Counters and a latency histogram, rendered in the Prometheus text format (0.0.4).

No Prometheus client library: a handful of labelled counters and one histogram is all the
gateway exports, and the text format is simple enough to write directly and test exactly.

Two kinds of figures: what this process counted since it started (APDUs, errors, latency,
associations), kept in memory, and what the store holds (queue depth, legs by state), read
afresh at each scrape so that gateway processes sharing one store all report the truth.
"""

from __future__ import annotations

import bisect
import math
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from isoill.gateway.store import Stats

#: Relay latency bucket bounds, seconds: the target is p99 under 20 ms, so they are dense there.
BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip

#: One sample: the suffix to the family's name, its labels, its value.
Sample = tuple[str, Mapping[str, str], float]


def escape_label(value: str) -> str:
    """A label value as the text format quotes it: a peer's name or an APDU type comes from
    the network and may hold anything."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    """Integers without a decimal point (counts read better so), floats exactly."""
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def _family(name: str, kind: str, help_: str, samples: Iterable[Sample]) -> list[str]:
    lines = [f"# HELP {name} {_escape_help(help_)}", f"# TYPE {name} {kind}"]
    for suffix, labels, value in samples:
        inner = ",".join(f'{k}="{escape_label(v)}"' for k, v in labels.items())
        text = "{" + inner + "}" if inner else ""
        lines.append(f"{name}{suffix}{text} {_number(value)}")
    return lines


class Metrics:
    """What this gateway process counted since it started.

    Only the reactor thread calls it, so there is no lock. ``clock`` gives wall-clock seconds;
    tests pass their own to pin the outbox age and the uptime."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.started = clock()
        self.apdus_in: Counter[tuple[str, str]] = Counter()
        self.apdus_out: Counter[tuple[str, str]] = Counter()
        self.errors: Counter[str] = Counter()
        #: Per bucket, not cumulative: ``[i]`` counts latencies in (BUCKETS[i-1], BUCKETS[i]];
        #: the last counts those above every bound.
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.open_associations = 0
        #: Group commits, and the steps they held: their ratio is the fsyncs saved.
        self.commits = 0
        self.committed_steps = 0

    # --- counting -------------------------------------------------------------------------

    def apdu_in(self, apdu_type: str, peer: str) -> None:
        self.apdus_in[apdu_type, peer] += 1

    def apdu_out(self, apdu_type: str, peer: str) -> None:
        self.apdus_out[apdu_type, peer] += 1

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    def associations(self, delta: int) -> None:
        self.open_associations += delta

    def group_commit(self, steps: int) -> None:
        self.commits += 1
        self.committed_steps += steps

    def relay_latency(self, seconds: float) -> None:
        """From an APDU's arrival to its delivery to the other network. A NaN would poison
        the sum for good, so it is dropped; a negative value (a clock step) counts as 0."""
        if math.isnan(seconds):
            return
        seconds = max(seconds, 0.0)
        self.buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.latency_sum += seconds
        self.latency_count += 1

    def _cumulative(self) -> list[int]:
        out, total = [], 0
        for n in self.buckets:
            total += n
            out.append(total)
        return out

    def latency_at_most(self, quantile: float) -> float | None:
        """The smallest bucket bound under which ``quantile`` of the relays fell (``inf``
        past the last bound): the histogram cannot say more precisely, and an upper bound
        is what a latency target is checked against."""
        if not self.latency_count:
            return None
        wanted = quantile * self.latency_count
        for bound, total in zip((*BUCKETS, math.inf), self._cumulative(), strict=True):
            if total >= wanted:
                return bound
        return math.inf

    # --- output ---------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The same figures for ``/status``: totals and breakdowns a person reads."""

        def by_type(counts: Counter[tuple[str, str]]) -> dict[str, int]:
            out: Counter[str] = Counter()
            for (apdu_type, _), n in counts.items():
                out[apdu_type] += n
            return dict(sorted(out.items()))

        p99 = self.latency_at_most(0.99)
        return {
            "started": self.started,
            "apdus_in": sum(self.apdus_in.values()),
            "apdus_out": sum(self.apdus_out.values()),
            "apdus_in_by_type": by_type(self.apdus_in),
            "apdus_out_by_type": by_type(self.apdus_out),
            "errors": dict(sorted(self.errors.items())),
            "associations": self.open_associations,
            "commits": self.commits,
            "committed_steps": self.committed_steps,
            "relayed": self.latency_count,
            "mean_relay_latency": (
                self.latency_sum / self.latency_count if self.latency_count else None
            ),
            # JSON has no infinity: null says "above every bucket" as well as "no data".
            "p99_relay_latency_at_most": None if p99 is None or math.isinf(p99) else p99,
        }

    def render(self, stats: Stats) -> str:
        """The exposition text: this process's counters and the store's gauges."""
        now = self.clock()
        lines: list[str] = []
        lines += _family(
            "isoill_apdus_in_total",
            "counter",
            "APDUs received, by APDU type and peer.",
            (("", {"type": t, "peer": p}, n) for (t, p), n in sorted(self.apdus_in.items())),
        )
        lines += _family(
            "isoill_apdus_out_total",
            "counter",
            "APDUs sent, by APDU type and peer.",
            (("", {"type": t, "peer": p}, n) for (t, p), n in sorted(self.apdus_out.items())),
        )
        lines += _family(
            "isoill_errors_total",
            "counter",
            "Refusals and faults, by kind.",
            (("", {"kind": kind}, n) for kind, n in sorted(self.errors.items())),
        )
        bounds = [repr(b) for b in BUCKETS] + ["+Inf"]
        lines += _family(
            "isoill_relay_latency_seconds",
            "histogram",
            "From an APDU's arrival to its delivery to the other network.",
            [
                *(
                    ("_bucket", {"le": le}, n)
                    for le, n in zip(bounds, self._cumulative(), strict=True)
                ),
                ("_sum", {}, self.latency_sum),
                ("_count", {}, self.latency_count),
            ],
        )
        lines += _family(
            "isoill_commits_total",
            "counter",
            "Group commits of the APDU path (one database transaction and fsync each).",
            [("", {}, self.commits)],
        )
        lines += _family(
            "isoill_committed_steps_total",
            "counter",
            "Steps the group commits held (over commits: steps per fsync).",
            [("", {}, self.committed_steps)],
        )
        lines += _family(
            "isoill_associations",
            "gauge",
            "Open ISO ILL associations.",
            [("", {}, self.open_associations)],
        )
        lines += _family(
            "isoill_start_time_seconds",
            "gauge",
            "When this gateway process started, seconds since the epoch.",
            [("", {}, self.started)],
        )
        lines += _family(
            "isoill_outbox_pending",
            "gauge",
            "APDUs waiting in the outbox (queue depth).",
            [("", {}, stats.outbox_pending)],
        )
        age = 0.0 if stats.oldest_pending is None else max(now - stats.oldest_pending, 0.0)
        lines += _family(
            "isoill_outbox_oldest_seconds",
            "gauge",
            "Age of the oldest APDU waiting in the outbox (0 when none waits).",
            [("", {}, round(age, 3))],
        )
        lines += _family(
            "isoill_outbox_delivered",
            "gauge",
            "APDUs the outbox has delivered, in the store.",
            [("", {}, stats.outbox_delivered)],
        )
        lines += _family(
            "isoill_transactions",
            "gauge",
            "Transaction legs in the store, by protocol state.",
            (("", {"state": state}, n) for state, n in sorted(stats.by_state.items())),
        )
        lines += _family(
            "isoill_apdus_logged",
            "gauge",
            "APDUs in the store's raw log.",
            [("", {}, stats.apdus_logged)],
        )
        return "\n".join(lines) + "\n"
