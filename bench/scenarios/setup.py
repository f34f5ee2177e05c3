"""Connection set-up time: from opening a connection to the first row of SELECT 1.

Owns the timed connect loop (psycopg; the listener's token is fetched before, outside the
timing, as a script would reuse one token for 5 minutes) and the values measured once per
run: how long `iap login` took, and `iap token`.
"""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING

from bench.paths import Endpoint
from bench.scenarios.base import Measurement, Metric, Scenario, Settings

if TYPE_CHECKING:
    from bench.rig import Rig


class Setup(Scenario):
    name = "setup"
    metrics = (
        Metric("connect_ms", "connect to first row", "ms", False),
        Metric("login_s", "iap login (once)", "s", False),
        Metric("token_s", "iap token (median)", "s", False),
    )

    def describe(self, settings: Settings) -> str:
        return (
            f"median of {settings.connect_samples} psycopg connects, each timed from"
            " connect() to the first row of SELECT 1, then closed"
        )

    def measure(self, endpoint: Endpoint, settings: Settings, rig: Rig) -> Measurement:
        info = endpoint.conninfo()
        samples: list[float] = []
        for _ in range(settings.connect_samples):
            started = time.perf_counter()
            with info.connect() as conn:
                conn.execute("SELECT 1").fetchone()
                samples.append((time.perf_counter() - started) * 1000)
        return {"connect_ms": statistics.median(samples)}

    def once(self, rig: Rig) -> dict[str, Measurement]:
        found: dict[str, Measurement] = {}
        if rig.login_seconds is not None and "agent" in rig.endpoints:
            found["agent"] = {"login_s": rig.login_seconds}
        if rig.agent is not None and rig.agent.token_seconds and "listener" in rig.endpoints:
            found["listener"] = {"token_s": statistics.median(rig.agent.token_seconds)}
        return found
