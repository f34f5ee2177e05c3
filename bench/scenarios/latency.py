"""SELECT 1 round-trip latency with one client: p50 and p99 per path.

Owns the timing loop: psycopg 3 in autocommit, one cursor (psycopg prepares a statement after
5 runs, as it does for users), a warm-up, then one `perf_counter_ns` pair around each
execute + fetchone, with the garbage collector paused so its pauses do not land in p99.
"""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING

from bench.paths import Endpoint
from bench.scenarios.base import Measurement, Metric, Scenario, Settings

if TYPE_CHECKING:
    from bench.rig import Rig

QUERY = "SELECT 1"


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


class Latency(Scenario):
    name = "latency"
    metrics = (
        Metric("p50_us", "SELECT 1 p50", "µs", False),
        Metric("p99_us", "SELECT 1 p99", "µs", False),
    )

    def describe(self, settings: Settings) -> str:
        return (
            f"{QUERY} round trips, one psycopg client in autocommit: {settings.latency_warmup}"
            f" warm-up, {settings.latency_queries} timed"
        )

    def measure(self, endpoint: Endpoint, settings: Settings, rig: Rig) -> Measurement:
        with endpoint.conninfo().connect() as conn:
            cur = conn.cursor()
            for _ in range(settings.latency_warmup):
                cur.execute(QUERY)
                cur.fetchone()
            samples: list[float] = []
            clock = time.perf_counter_ns
            gc.disable()
            try:
                for _ in range(settings.latency_queries):
                    started = clock()
                    cur.execute(QUERY)
                    cur.fetchone()
                    samples.append((clock() - started) / 1000)
            finally:
                gc.enable()
        samples.sort()
        return {"p50_us": percentile(samples, 0.50), "p99_us": percentile(samples, 0.99)}
