"""Counters and a latency histogram, rendered in the Prometheus text format.

No Prometheus client library: a handful of counters keyed by labels and one histogram is all
the gateway exports, and the text format (0.0.4) is simple enough to write directly.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from isoill.gateway.store import Stats

#: Relay latency bucket bounds, seconds: the target is p99 under 20 ms.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: str) -> str:
    inner = ",".join(f'{name}="{_label(value)}"' for name, value in labels.items())
    return "{" + inner + "}" if inner else ""


class Metrics:
    def __init__(self) -> None:
        self.started = time.time()
        self.apdus_in: Counter[tuple[str, str]] = Counter()
        self.apdus_out: Counter[tuple[str, str]] = Counter()
        self.errors: Counter[str] = Counter()
        self.buckets = [0] * len(BUCKETS)
        self.latency_sum = 0.0
        self.latency_count = 0
        self.open_associations = 0

    def apdu_in(self, apdu_type: str, peer: str) -> None:
        self.apdus_in[apdu_type, peer] += 1

    def apdu_out(self, apdu_type: str, peer: str) -> None:
        self.apdus_out[apdu_type, peer] += 1

    def error(self, kind: str) -> None:
        self.errors[kind] += 1

    def associations(self, delta: int) -> None:
        self.open_associations += delta

    def relay_latency(self, seconds: float) -> None:
        self.latency_sum += seconds
        self.latency_count += 1
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1
                break

    def snapshot(self) -> dict[str, Any]:
        return {
            "apdus_in": sum(self.apdus_in.values()),
            "apdus_out": sum(self.apdus_out.values()),
            "errors": dict(self.errors),
            "associations": self.open_associations,
            "relayed": self.latency_count,
            "mean_relay_latency": (
                self.latency_sum / self.latency_count if self.latency_count else None
            ),
        }

    def render(self, stats: Stats) -> str:
        lines: list[str] = []

        def family(name: str, kind: str, help_: str) -> None:
            lines.append(f"# HELP {name} {help_}")
            lines.append(f"# TYPE {name} {kind}")

        family("isoill_apdus_in_total", "counter", "APDUs received, by APDU type and peer.")
        for (kind, peer), n in sorted(self.apdus_in.items()):
            lines.append(f"isoill_apdus_in_total{_labels(type=kind, peer=peer)} {n}")
        family("isoill_apdus_out_total", "counter", "APDUs sent, by APDU type and peer.")
        for (kind, peer), n in sorted(self.apdus_out.items()):
            lines.append(f"isoill_apdus_out_total{_labels(type=kind, peer=peer)} {n}")
        family("isoill_errors_total", "counter", "Refusals and faults, by kind.")
        for kind, n in sorted(self.errors.items()):
            lines.append(f"isoill_errors_total{_labels(kind=kind)} {n}")
        family(
            "isoill_relay_latency_seconds",
            "histogram",
            "From an APDU's arrival to its relay to the other network.",
        )
        cumulative = 0
        for bound, n in zip(BUCKETS, self.buckets, strict=True):
            cumulative += n
            lines.append(f'isoill_relay_latency_seconds_bucket{{le="{bound:g}"}} {cumulative}')
        lines.append(f'isoill_relay_latency_seconds_bucket{{le="+Inf"}} {self.latency_count}')
        lines.append(f"isoill_relay_latency_seconds_sum {self.latency_sum:.6f}")
        lines.append(f"isoill_relay_latency_seconds_count {self.latency_count}")
        family("isoill_associations", "gauge", "Open ISO ILL associations.")
        lines.append(f"isoill_associations {self.open_associations}")
        family("isoill_outbox_pending", "gauge", "APDUs waiting in the outbox (queue depth).")
        lines.append(f"isoill_outbox_pending {stats.outbox_pending}")
        family("isoill_outbox_oldest_seconds", "gauge", "Age of the oldest APDU waiting.")
        age = 0.0 if stats.oldest_pending is None else time.time() - stats.oldest_pending
        lines.append(f"isoill_outbox_oldest_seconds {age:.3f}")
        family("isoill_transactions", "gauge", "Transaction legs, by protocol state.")
        for state, n in sorted(stats.by_state.items()):
            lines.append(f"isoill_transactions{_labels(state=state)} {n}")
        family("isoill_apdus_logged", "gauge", "APDUs in the raw log.")
        lines.append(f"isoill_apdus_logged {stats.apdus_logged}")
        return "\n".join(lines) + "\n"
