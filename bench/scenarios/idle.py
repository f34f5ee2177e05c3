"""Many idle sessions held open through a proxy: the proxy's memory before and with them.

Owns opening N sessions (a few threads of psycopg connects), reading the serving process's
VmRSS, closing them, and waiting until PostgreSQL has let their backends go before the next
path starts. Measures the gateway for `listener` and `agent` (and the agent's own memory),
PgBouncer for `pgbouncer`; a direct connection has no proxy to measure.
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import psycopg
from psycopg.rows import TupleRow

from bench.paths import Conninfo, Endpoint
from bench.prepare import DATABASE, pg_execute
from bench.procs import CommandError, progress, rss_mb
from bench.scenarios.base import Measurement, Metric, Scenario, Settings

if TYPE_CHECKING:
    from bench.rig import Rig

OPENERS = 8  # threads opening sessions
SETTLE = 1.0  # seconds between the last session opened and the RSS reading


def _backends() -> int:
    sql = f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{DATABASE}'"
    return int(str(pg_execute(sql, "postgres")[0][0]))


def _open(info: Conninfo, count: int) -> list[psycopg.Connection[TupleRow]]:
    """`count` sessions, or none: when one fails, those that opened are closed again."""
    with ThreadPoolExecutor(OPENERS) as pool:
        futures = [pool.submit(info.connect, 30) for _ in range(count)]
    opened = [f.result() for f in futures if f.exception() is None]
    failed = next((e for f in futures if (e := f.exception()) is not None), None)
    if failed is not None:
        _close(opened)
        raise failed
    return opened


def _close(sessions: list[psycopg.Connection[TupleRow]]) -> None:
    for conn in sessions:
        with contextlib.suppress(psycopg.Error):
            conn.close()


class Idle(Scenario):
    name = "idle"
    paths = ("pgbouncer", "listener", "agent")
    metrics = (
        Metric("rss_before_mb", "proxy RSS before", "MB", False),
        Metric("rss_after_mb", "proxy RSS, sessions open (peak)", "MB", False, "max"),
        Metric("kb_per_session", "proxy RSS growth per session (max)", "kB", False, "max"),
        Metric("agent_rss_mb", "agent RSS, sessions open (peak)", "MB", False, "max"),
        Metric("open_s", "time to open them all", "s", False),
    )

    def __init__(self) -> None:
        self.sessions = 0

    def describe(self, settings: Settings) -> str:
        return (
            f"{self.sessions or settings.idle_sessions} idle sessions opened ({OPENERS} threads)"
            " and held; VmRSS of the proxy process before and with them open (listener and"
            " agent share one gateway process, which keeps memory freed by earlier sessions)"
        )

    def prepare(self, rig: Rig, settings: Settings) -> dict[str, object]:
        self.sessions = min(settings.idle_sessions, rig.session_room)
        return {"sessions": self.sessions}

    def notes(self, rig: Rig) -> list[str]:
        return list(rig.notes)

    def measure(self, endpoint: Endpoint, settings: Settings, rig: Rig) -> Measurement:
        if endpoint.server_pid is None:
            raise CommandError(f"no proxy process to measure on path {endpoint.path}")
        info = endpoint.conninfo()
        baseline = _backends()
        before = rss_mb(endpoint.server_pid)
        started = time.monotonic()
        sessions = _open(info, self.sessions)
        try:
            opened = time.monotonic() - started
            time.sleep(SETTLE)
            after = rss_mb(endpoint.server_pid)
            values: Measurement = {
                "rss_before_mb": before,
                "rss_after_mb": after,
                "kb_per_session": (after - before) * 1024 / max(1, self.sessions),
                "open_s": opened,
            }
            if endpoint.agent_pid is not None:
                values["agent_rss_mb"] = rss_mb(endpoint.agent_pid)
        finally:
            _close(sessions)
            _wait_backends_gone(baseline)
        return values


def _wait_backends_gone(baseline: int, timeout: float = 60.0) -> None:
    """PgBouncer keeps server connections a few seconds (server_idle_timeout), the gateway
    closes them with the client: wait until the server is back near where it was."""
    deadline = time.monotonic() + timeout
    while (count := _backends()) > baseline + 5:
        if time.monotonic() > deadline:
            progress(f"idle: {count - baseline} backends still open after {timeout:.0f} s")
            return
        time.sleep(0.5)
