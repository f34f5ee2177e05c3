"""One benchmark run: set up, run the scenarios asked for, print and save the results.

Owns the order of a run (servers, then the paths each engine's scenarios want, then each
scenario in turn), where the run's scratch state lives (a temporary folder, removed
afterwards), the JSON line per scenario on stdout as soon as it is measured, the table at the
end, and the result files.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import machine
from bench.paths import PATHS
from bench.procs import progress, raise_open_files_limit, stop_on_signals
from bench.report import text_table
from bench.results import RESULTS, Result
from bench.rig import Rig
from bench.rounds import run_scenario
from bench.scenarios import SCENARIOS
from bench.scenarios.base import Scenario, Settings


def _wanted(scenarios: Sequence[Scenario], engine: str, only: set[str] | None) -> set[str]:
    """The paths the scenarios of one engine (postgres, mysql) measure."""
    return {
        p for s in scenarios if s.engine == engine for p in s.paths if only is None or p in only
    }


def run_benchmark(
    names: Sequence[str],
    settings: Settings,
    only: set[str] | None = None,
    *,
    save: bool = True,
    keep_state: bool = False,
) -> list[Result]:
    scenarios = [SCENARIOS[n] for n in names]
    postgres, mysql = _wanted(scenarios, "postgres", only), _wanted(scenarios, "mysql", only)
    wanted = postgres | mysql
    needs_postgres = any(s.engine == "postgres" for s in scenarios)
    idle = settings.idle_sessions if "idle" in names else 0
    raise_open_files_limit()
    stop_on_signals()
    state = Path(tempfile.mkdtemp(prefix="iap-bench-"))
    state.chmod(0o755)  # PgBouncer runs as user postgres and reads its files in here
    progress(f"state in {state}; paths: {', '.join(p for p in PATHS if p in wanted)}")
    results: list[Result] = []
    try:
        with Rig(state) as rig:
            rig.prepare_servers(postgres=needs_postgres, idle_sessions=idle, mysql=bool(mysql))
            rig.start(postgres, mysql)
            described = machine.describe(rig.versions)
            for scenario in scenarios:
                result = run_scenario(scenario, rig, settings, described, only)
                print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
                if save:
                    saved = result.save()
                    progress(f"{scenario.name}: saved {saved.relative_to(RESULTS.parent.parent)}")
                results.append(result)
    finally:
        if keep_state:
            progress(f"kept the run's state in {state}")
        else:
            shutil.rmtree(state, ignore_errors=True)
    print(file=sys.stdout)
    print(text_table(results), flush=True)
    return results
