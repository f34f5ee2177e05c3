"""The machine a run measured on, for the JSON and the tables.

Owns collecting cores, CPU model, kernel, Python, the servers' and tools' versions, and the
commit of the tree measured (with `-dirty` when it had uncommitted changes).
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def _output(*args: str) -> str:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _tool_version(*args: str) -> str | None:
    match = re.search(r"\d+(\.\d+)+", _output(*args))
    return match.group(0) if match else None


def describe(versions: dict[str, str]) -> dict[str, Any]:
    tools = {
        "pgbench": _tool_version("pgbench", "--version"),
        "psql": _tool_version("psql", "--version"),
        "sysbench": _tool_version("sysbench", "--version"),
    }
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": {**versions, **{k: v for k, v in tools.items() if v}},
        "commit": _output("git", "-C", str(ROOT), "describe", "--always", "--dirty"),
    }
