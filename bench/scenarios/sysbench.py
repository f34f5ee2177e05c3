"""sysbench oltp_read_only on MariaDB: direct, and through `iap connect` + the gateway.

Owns the sysbench run (8 threads, like pgbench's 8 clients) against each path's address, and
reading transactions and queries per second from its report. The schema is prepared by
bench.prepare; the agent path (`iap connect bench-my`) is started by bench.rig. MySQL
connections have no direct listener, so `listener` is reported unavailable with that reason.
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
NO_SYSBENCH = "sysbench is not installed (make bench installs it with apt-get)"
NO_LISTENER = "MySQL connections have no direct listener: the listener is PostgreSQL only"
_PER_SEC = r"^\s*{}:\s+\d+\s+\(([0-9.]+) per sec"


class Sysbench(Scenario):
    name = "sysbench"
    engine = "mysql"
    paths = ("direct", "listener", "agent")
    metrics = (
        Metric("tps", "transactions/s", "tps", True),
        Metric("qps", "queries/s", "qps", True),
    )

    def args(self, settings: Settings, endpoint: Endpoint | None = None) -> list[str]:
        """The command line; against `endpoint` (default: MariaDB itself)."""
        extra = (f"--threads={THREADS}", f"--time={settings.seconds}", "run")
        if endpoint is None:
            return sysbench_args(*extra)
        return sysbench_args(*extra, host=endpoint.host, port=endpoint.port, user=endpoint.user)

    def describe(self, settings: Settings) -> str:
        return " ".join(a for a in self.args(settings) if not a.startswith("--mysql"))

    def targets(self, rig: Rig) -> dict[str, Endpoint | str]:
        if shutil.which("sysbench") is None:
            return dict.fromkeys(self.paths, NO_SYSBENCH)
        return {
            "direct": Endpoint("direct", MY_HOST, MY_PORT, MY_USER, SYSBENCH_DB, kind="mysql"),
            "listener": NO_LISTENER,
            "agent": rig.mysql.get("agent", "not started"),
        }

    def prepare(self, rig: Rig, settings: Settings) -> dict[str, object]:
        """The rig made the schema before starting the agent path; checked again here so a
        failure is this scenario's set-up failure."""
        if shutil.which("sysbench"):
            ensure_sysbench()
        return {}

    def measure(self, endpoint: Endpoint, settings: Settings, rig: Rig) -> Measurement:
        out = run(self.args(settings, endpoint), timeout=settings.seconds + 120)
        values: Measurement = {}
        for key, label in (("tps", "transactions"), ("qps", "queries")):
            match = re.search(_PER_SEC.format(label), out, re.MULTILINE)
            if not match:
                raise CommandError(f"no '{label}: ... per sec' in sysbench's report")
            values[key] = float(match.group(1))
        return values
