"""Runs one scenario side by side: every path once per round, the order rotated each round.

Owns the interleaving (round 1: direct, pgbouncer, listener, agent, noclassify; round 2
starts one further on; ...), progress lines, and turning a path that fails mid-scenario into
"unavailable: failed ..." while the other paths go on. Builds the `Result`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg

from bench.paths import PATHS, Endpoint
from bench.procs import CommandError, progress
from bench.results import PathResult, Result
from bench.rig import Rig
from bench.scenarios.base import Measurement, Scenario, Settings


def _summary(values: Measurement) -> str:
    return ", ".join(f"{k} {v:,.1f}" for k, v in values.items())


def run_scenario(
    scenario: Scenario,
    rig: Rig,
    settings: Settings,
    machine: dict[str, Any],
    only: set[str] | None = None,
) -> Result:
    wanted = [p for p in PATHS if p in scenario.paths and (only is None or p in only)]
    progress(f"{scenario.name}: preparing")
    try:
        params = scenario.prepare(rig, settings)
        targets = scenario.targets(rig)
    except Exception as e:  # a scenario that cannot be set up is reported, the run goes on
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        progress(f"{scenario.name}: set-up failed: {first}")
        params, targets = {}, dict.fromkeys(scenario.paths, f"set-up failed: {first}")
    paths: dict[str, PathResult] = {}
    endpoints: dict[str, Endpoint] = {}
    for path in wanted:
        target = targets[path]
        if isinstance(target, Endpoint):
            endpoints[path] = target
            paths[path] = PathResult()
        else:
            paths[path] = PathResult(unavailable=target)
    rounds = settings.rounds
    order = list(endpoints)
    for index in range(rounds):
        shift = index % len(order) if order else 0
        for path in order[shift:] + order[:shift]:
            result = paths[path]
            if result.unavailable is not None:
                continue
            progress(f"{scenario.name}: round {index + 1}/{rounds}, {path}")
            try:
                values = scenario.measure(endpoints[path], settings, rig)
            except (CommandError, psycopg.Error, OSError) as e:
                first = (str(e).strip().splitlines() or [type(e).__name__])[0]
                said = rig.explain(endpoints[path])
                result.unavailable = f"failed in round {index + 1}: {first}" + (
                    f" ({path} said: {said})" if said else ""
                )
                progress(f"{scenario.name}: {path} {result.unavailable}")
                continue
            result.runs.append(values)
            progress(f"{scenario.name}: {path}: {_summary(values)}")
    for path, values in scenario.once(rig).items():
        if path in paths and paths[path].unavailable is None:
            paths[path].once.update(values)
    return Result(
        scenario=scenario.name,
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        machine=machine,
        quick=settings.quick,
        rounds=rounds,
        description=scenario.describe(settings),
        metrics=scenario.metrics,
        paths=paths,
        params=params,
        notes=scenario.notes(rig),
        partial=only is not None and not set(scenario.paths) <= only,
    )
