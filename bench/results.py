"""A scenario's result: medians per path and metric, ratios to direct, its JSON and files.

Owns the shape of the JSON line printed per scenario and of bench/results/<date>-<scenario>.json
(full runs; quick or path-limited runs get a `-quick` / `-partial` suffix and are not
committed), and loading the latest results back for the markdown table.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.paths import PATHS
from bench.scenarios.base import Measurement, Metric

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class PathResult:
    runs: list[Measurement] = field(default_factory=list)
    once: Measurement = field(default_factory=dict)
    unavailable: str | None = None

    def summary(self, metrics: tuple[Metric, ...]) -> Measurement:
        """Each metric over the rounds: the median (or the largest, where the metric says)."""
        combine = {m.name: max if m.aggregate == "max" else statistics.median for m in metrics}
        names = dict.fromkeys(name for run in self.runs for name in run)
        found = {
            n: combine.get(n, statistics.median)([r[n] for r in self.runs if n in r]) for n in names
        }
        return {**found, **self.once}


@dataclass
class Result:
    scenario: str
    date: str  # ISO 8601, UTC
    machine: dict[str, Any]
    quick: bool
    rounds: int
    description: str
    metrics: tuple[Metric, ...]
    paths: dict[str, PathResult]
    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    partial: bool = False  # only some paths were asked for

    def median(self, path: str, metric: str) -> float | None:
        found = self.paths.get(path)
        if found is None or found.unavailable is not None:
            return None
        return found.summary(self.metrics).get(metric)

    def ratio(self, path: str, metric: str, to: str = "direct") -> float | None:
        value, base = self.median(path, metric), self.median(to, metric)
        if value is None or not base:
            return None
        return value / base

    def ratios(self) -> dict[str, dict[str, float]]:
        found: dict[str, dict[str, float]] = {}
        for path in self.paths:
            if path == "direct":
                continue
            for m in self.metrics:
                r = self.ratio(path, m.name)
                if r is not None:
                    found.setdefault(path, {})[m.name] = round(r, 4)
        return found

    def to_json(self) -> dict[str, Any]:
        from bench.goals import check_goals

        paths: dict[str, Any] = {}
        for name, p in self.paths.items():
            if p.unavailable is not None:
                paths[name] = {"unavailable": p.unavailable}
            else:
                paths[name] = {k: round(v, 3) for k, v in p.summary(self.metrics).items()}
                paths[name]["runs"] = [{k: round(v, 3) for k, v in r.items()} for r in p.runs]
        return {
            "scenario": self.scenario,
            "date": self.date,
            "machine": self.machine,
            "quick": self.quick,
            "partial": self.partial,
            "rounds": self.rounds,
            "description": self.description,
            "params": self.params,
            "notes": self.notes,
            "metrics": {
                m.name: {
                    "label": m.label,
                    "unit": m.unit,
                    "better": _better(m),
                    "aggregate": m.aggregate,
                }
                for m in self.metrics
            },
            "paths": paths,
            "ratios": self.ratios(),
            "goals": [c.to_json() for c in check_goals(self)],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        metrics = tuple(
            Metric(
                name,
                m["label"],
                m["unit"],
                m["better"] == "higher",
                "max" if m.get("aggregate") == "max" else "median",
            )
            for name, m in data["metrics"].items()
        )
        paths: dict[str, PathResult] = {}
        for name, p in data["paths"].items():
            if "unavailable" in p:
                paths[name] = PathResult(unavailable=p["unavailable"])
                continue
            runs = [dict(r) for r in p.get("runs", [])]
            in_runs = {k for r in runs for k in r}
            once = {k: v for k, v in p.items() if k != "runs" and k not in in_runs}
            paths[name] = PathResult(runs=runs, once=once)
        return cls(
            scenario=data["scenario"],
            date=data["date"],
            machine=data.get("machine", {}),
            quick=bool(data.get("quick")),
            rounds=int(data.get("rounds", 0)),
            description=data.get("description", ""),
            metrics=metrics,
            paths=paths,
            params=data.get("params", {}),
            notes=list(data.get("notes", [])),
            partial=bool(data.get("partial")),
        )

    def file_name(self) -> str:
        suffix = "-quick" if self.quick else "-partial" if self.partial else ""
        return f"{self.date[:10]}-{self.scenario}{suffix}.json"

    def save(self, folder: Path = RESULTS) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / self.file_name()
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n")
        return path


def _better(metric: Metric) -> str:
    return "higher" if metric.higher_is_better else "lower"


def ordered_paths(names: list[str]) -> list[str]:
    return sorted(names, key=lambda p: PATHS.index(p) if p in PATHS else len(PATHS))


def latest(folder: Path = RESULTS, *, quick: bool = False) -> list[Result]:
    """The newest result file of each scenario (full runs; with `quick`, quick runs)."""
    newest: dict[str, Path] = {}
    for path in sorted(folder.glob("*.json")):  # names start with the date: sorted = by date
        stem = path.stem
        if stem.endswith("-partial") or stem.endswith("-quick") != quick:
            continue
        scenario = stem[11:].removesuffix("-quick")
        newest[scenario] = path
    from bench.scenarios import SCENARIOS

    order = list(SCENARIOS)
    names = sorted(newest, key=lambda n: order.index(n) if n in order else len(order))
    return [Result.from_json(json.loads(newest[n].read_text())) for n in names]
