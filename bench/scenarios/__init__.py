"""The scenarios, in the order a full run measures them (`python -m bench --list`)."""

from __future__ import annotations

from bench.scenarios.base import Scenario
from bench.scenarios.copy import Copy
from bench.scenarios.idle import Idle
from bench.scenarios.latency import Latency
from bench.scenarios.pgbench import SCENARIOS as PGBENCH
from bench.scenarios.setup import Setup
from bench.scenarios.sysbench import Sysbench

SCENARIOS: dict[str, Scenario] = {
    s.name: s for s in (*PGBENCH, Latency(), Copy(), Sysbench(), Idle(), Setup())
}
