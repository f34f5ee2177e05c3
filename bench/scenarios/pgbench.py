"""pgbench scenarios: select-only in the simple, extended and prepared protocols, and TPC-B.

Owns the pgbench command lines (always `-n`: its VACUUM/TRUNCATE preamble would be held by the
gateway) and reading TPS from pgbench's output. The client is pgbench itself, run against each
path's address with the path's password and TLS mode.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bench.paths import DEFAULT_PATHS, Endpoint
from bench.procs import CommandError, run
from bench.scenarios.base import Measurement, Metric, Scenario, Settings

if TYPE_CHECKING:
    from bench.rig import Rig

CLIENTS, THREADS = 8, 2
_TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)


class Pgbench(Scenario):
    metrics = (Metric("tps", "TPS", "tps", True),)

    def __init__(
        self, name: str, *, select_only: bool, mode: str | None, extra: tuple[str, ...] = ()
    ) -> None:
        self.name = name
        self.select_only = select_only
        self.mode = mode
        self.paths = DEFAULT_PATHS + extra  # workers2: --workers 2; durable: durable audit

    def args(self, settings: Settings) -> list[str]:
        args = ["pgbench", "-n"]
        if self.select_only:
            args.append("-S")
        if self.mode:
            args += ["-M", self.mode]
        return [*args, f"-c{CLIENTS}", f"-j{THREADS}", f"-T{settings.seconds}"]

    def describe(self, settings: Settings) -> str:
        return " ".join(self.args(settings))

    def measure(self, endpoint: Endpoint, settings: Settings, rig: Rig) -> Measurement:
        info = endpoint.conninfo()
        out = run(
            [*self.args(settings), "-h", info.host, "-p", str(info.port), "-U", info.user],
            env=info.env(),
            timeout=settings.seconds + 120,
        )
        match = _TPS.search(out)
        if not match:
            raise CommandError(f"no 'tps = ' in pgbench's output: {out[-300:]!r}")
        return {"tps": float(match.group(1))}


SCENARIOS = (
    Pgbench("select-simple", select_only=True, mode="simple", extra=("workers2",)),
    Pgbench("select-extended", select_only=True, mode="extended"),
    Pgbench("select-prepared", select_only=True, mode="prepared"),
    Pgbench("tpcb", select_only=False, mode=None, extra=("workers2", "durable")),
)
