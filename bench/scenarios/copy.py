"""Bulk COPY through each path: MB/s out (COPY TO STDOUT) and in (COPY FROM STDIN).

Owns the data file (made once per run from a direct COPY), the psql command lines, and reading
psql's own `\\timing` so only the COPY is timed, not psql's start or its login. The target
table is truncated over a direct connection before each COPY in (a TRUNCATE through the
gateway would be held).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from bench.paths import Conninfo, Endpoint
from bench.prepare import direct, pg_execute
from bench.procs import CommandError, run
from bench.scenarios.base import Measurement, Metric, Scenario, Settings

if TYPE_CHECKING:
    from bench.rig import Rig

_TIME = re.compile(r"^Time: ([0-9.]+) ms", re.MULTILINE)


def timed_psql(info: Conninfo, *args: str, stdin: Path | None = None) -> float:
    """Seconds psql's \\timing reports for the last command of `args`."""
    command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", "\\timing on", *args]
    if stdin is None:
        out = run(command, env=info.env(), timeout=600)
    else:
        with stdin.open("rb") as data:
            out = run(command, env=info.env(), stdin=data, timeout=600)
    times = _TIME.findall(out)
    if not times:
        raise CommandError(f"psql printed no timing: {out[-300:]!r}")
    return float(times[-1]) / 1000


class Copy(Scenario):
    name = "copy"
    metrics = (
        Metric("out_mb_s", "COPY TO STDOUT", "MB/s", True),
        Metric("in_mb_s", "COPY FROM STDIN", "MB/s", True),
    )

    def __init__(self) -> None:
        self.data: Path | None = None
        self.size = 0

    @staticmethod
    def statement(settings: Settings) -> str:
        if settings.copy_rows is None:
            return "COPY bench_copy TO STDOUT"
        return f"COPY (SELECT * FROM bench_copy LIMIT {settings.copy_rows}) TO STDOUT"

    def describe(self, settings: Settings) -> str:
        return (
            f"psql: {self.statement(settings)} to /dev/null, and the same rows"
            " COPY bench_copy_in FROM STDIN (unlogged table); psql's \\timing"
        )

    def prepare(self, rig: Rig, settings: Settings) -> dict[str, object]:
        self.data = rig.state / "copy.tsv"
        run(
            ["psql", "-X", "-q", "-o", str(self.data), "-c", self.statement(settings)],
            env=direct().env(),
            timeout=600,
        )
        self.size = self.data.stat().st_size
        return {"bytes": self.size}

    def measure(self, endpoint: Endpoint, settings: Settings, rig: Rig) -> Measurement:
        assert self.data is not None, "prepare() first"
        info = endpoint.conninfo()
        out = timed_psql(info, "-o", "/dev/null", "-c", self.statement(settings))
        pg_execute("TRUNCATE bench_copy_in")
        into = timed_psql(info, "-c", "COPY bench_copy_in FROM STDIN", stdin=self.data)
        return {"out_mb_s": self.size / 1e6 / out, "in_mb_s": self.size / 1e6 / into}
