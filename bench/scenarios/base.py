"""What a scenario is: its paths, its metrics, and one measurement on one path.

Owns the `Scenario` base class, `Metric`, `Settings` (full or quick sizes) and `Measurement`.
A scenario measures one path once per call; bench.rounds interleaves the paths, repeats the
rounds and takes medians. A scenario never decides goals (bench.goals does) and never prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from bench.paths import DEFAULT_PATHS, Endpoint

if TYPE_CHECKING:
    from bench.rig import Rig

Measurement = dict[str, float]


@dataclass(frozen=True)
class Metric:
    name: str  # key in the JSON
    label: str  # for people
    unit: str  # tps, µs, MB/s, ms, MB, kB, s
    higher_is_better: bool
    # How rounds combine: the median, or the largest (a cost that shows only the first time,
    # like memory a process keeps once it has grown)
    aggregate: Literal["median", "max"] = "median"


@dataclass(frozen=True)
class Settings:
    """How long and how big: the full run, or --quick (one short round)."""

    quick: bool = False
    rounds: int = 3

    @property
    def seconds(self) -> int:  # pgbench -T and sysbench --time
        return 3 if self.quick else 12  # 12 s: the full run stays within 20 minutes

    @property
    def latency_queries(self) -> int:
        return 300 if self.quick else 2000

    @property
    def latency_warmup(self) -> int:
        return 50 if self.quick else 200

    @property
    def copy_rows(self) -> int | None:  # None: the whole ~80 MB table
        return 200_000 if self.quick else None

    @property
    def idle_sessions(self) -> int:
        return 100 if self.quick else 1000

    @property
    def connect_samples(self) -> int:
        return 5 if self.quick else 30


class Scenario:
    """One benchmark scenario. Subclasses set the class attributes and `measure`."""

    name: str
    engine: Literal["postgres", "mysql"] = "postgres"  # which server its paths lead to
    paths: tuple[str, ...] = DEFAULT_PATHS
    metrics: tuple[Metric, ...]

    def describe(self, settings: Settings) -> str:
        """What is measured, in one line (the command line where there is one)."""
        raise NotImplementedError

    def targets(self, rig: Rig) -> dict[str, Endpoint | str]:
        """Each path: its endpoint, or why it is unavailable."""
        return {
            p: rig.endpoints.get(p) or rig.unavailable.get(p, "not started") for p in self.paths
        }

    def prepare(self, rig: Rig, settings: Settings) -> dict[str, object]:
        """Set-up before the rounds (outside any timing); returns parameters for the JSON."""
        return {}

    def measure(self, endpoint: Endpoint, settings: Settings, rig: Rig) -> Measurement:
        """One run on one path; raise (CommandError, a driver's error) when it fails."""
        raise NotImplementedError

    def notes(self, rig: Rig) -> list[str]:
        """Remarks for the result (e.g. a server setting the set-up had to change)."""
        return []

    def once(self, rig: Rig) -> dict[str, Measurement]:
        """Values measured once per run rather than per round, by path (e.g. iap login)."""
        return {}
