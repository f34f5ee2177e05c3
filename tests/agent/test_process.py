"""The `iap` process itself: what the agent's commands import (never the gateway's parsers
or store), and no platformdirs XDG_RUNTIME_DIR warning from the entry point."""

from __future__ import annotations

import os
import subprocess
import sys

HEAVY = ("pglast", "sqlglot", "iap.store", "iap.classify", "iap.gateway", "iap.engines")


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    return subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )


def test_agent_commands_never_import_the_gateways_heavy_modules() -> None:
    modules = [
        "iap.cli.main", "agent.commands.login", "agent.commands.connect", "agent.commands.status",
        "agent.commands.ls", "agent.commands.approve", "agent.commands.requests",
        "agent.commands.psql", "agent.commands.mysql", "agent.tunnel",
    ]  # fmt: skip
    code = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        f"print(sorted(m for m in sys.modules if m.startswith({HEAVY!r})))"
    )
    result = run_python(code)
    assert (result.returncode, result.stdout.strip()) == (0, "[]"), result.stderr


def test_the_entry_point_silences_platformdirs_runtime_dir_warning() -> None:
    """pgserver (under `iap demo`) asks platformdirs for a runtime dir; without
    XDG_RUNTIME_DIR that warned on every run."""
    code = (
        "import sys, platformdirs\nfrom iap.cli.main import main\n"
        "sys.argv = ['iap', '--version']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "platformdirs.user_runtime_dir('iap-test')"
    )
    result = run_python(code, PYTHONWARNINGS="default")
    assert (result.returncode, result.stdout, result.stderr) == (0, "iap 0.1.0\n", "")
    unfiltered = run_python(
        "import platformdirs\nplatformdirs.user_runtime_dir('iap-test')",
        PYTHONWARNINGS="default",
    )
    assert "XDG_RUNTIME_DIR" in unfiltered.stderr  # what the entry point filters
