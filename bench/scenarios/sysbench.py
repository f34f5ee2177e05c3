"""sysbench oltp_read_only on MariaDB: direct, and through the gateway once it speaks MySQL.

Owns the sysbench run (8 threads, like pgbench's 8 clients) and reading transactions and
queries per second from its report. The schema is prepared by bench.prepare.
"""

from __future__ import annotations

import re
import shutil
from typing import TYPE_CHECKING

from bench.paths import Endpoint
from bench.prepare import MY_HOST, MY_PORT, MY_USER, SYSBENCH_DB, ensure_sysbench, sysbench_args
from bench.procs import CommandError, run
from bench.scenarios.base import Measurement, Metric, Scenario, Settings

if TYPE_CHECKING:
    from bench.rig import Rig

THREADS = 8
NO_MYSQL = "the gateway does not speak MySQL yet"
_PER_SEC = r"^\s*{}:\s+\d+\s+\(([0-9.]+) per sec"


class Sysbench(Scenario):
    name = "sysbench"
    paths = ("direct", "listener", "agent")
    metrics = (
        Metric("tps", "transactions/s", "tps", True),
        Metric("qps", "queries/s", "qps", True),
    )

    def args(self, settings: Settings) -> list[str]:
        return sysbench_args(f"--threads={THREADS}", f"--time={settings.seconds}", "run")

    def describe(self, settings: Settings) -> str:
        return " ".join(a for a in self.args(settings) if not a.startswith("--mysql"))

    def targets(self, rig: Rig) -> dict[str, Endpoint | str]:
        found: dict[str, Endpoint | str] = {p: NO_MYSQL for p in self.paths}
        if shutil.which("sysbench") is None:
            found["direct"] = "sysbench is not installed (make bench installs it with apt-get)"
        else:
            found["direct"] = Endpoint(
                "direct", MY_HOST, MY_PORT, MY_USER, SYSBENCH_DB, "", "mysql"
            )
        return found

    def prepare(self, rig: Rig, settings: Settings) -> dict[str, object]:
        if shutil.which("sysbench"):
            ensure_sysbench()
        return {}

    def measure(self, endpoint: Endpoint, settings: Settings, rig: Rig) -> Measurement:
        out = run(self.args(settings), timeout=settings.seconds + 120)
        values: Measurement = {}
        for key, label in (("tps", "transactions"), ("qps", "queries")):
            match = re.search(_PER_SEC.format(label), out, re.MULTILINE)
            if not match:
                raise CommandError(f"no '{label}: ... per sec' in sysbench's report")
            values[key] = float(match.group(1))
        return values
