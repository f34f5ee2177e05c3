"""The agent's CLI in-process (typer's CliRunner) against a real gateway in the test's Trio
run: commands run in a worker thread, so the gateway keeps serving while they wait on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
import trio
from typer.testing import CliRunner, Result

from iap.cli.main import app
from tests.helpers import Gateway, PgServer, running_gateway, write_config

# A MySQL connection (never reached by these tests) and a rule that hides it from bob.
EXTRA = """
[[connections]]
name = "my-main"
kind = "mysql"
address = "127.0.0.1:3306"
database = "shop"
user = "app"

[[rules]]
connections = ["my-*"]
users = ["bob"]
risks = ["read", "write", "ddl", "destructive", "admin", "unknown"]
action = "deny"
"""

PASSWORD = "correct horse battery"


@pytest.fixture
async def gateway(tmp_path: Path, pg_server: PgServer) -> AsyncIterator[Gateway]:
    async with running_gateway(write_config(tmp_path, pg_server, "postgres", EXTRA)) as gw:
        gw.add_user("alice", "dev")
        gw.add_user("bob", "dba")
        yield gw


@dataclass
class Cli:
    """`iap ...` as one user runs it, with their own IAP_HOME."""

    home: Path
    gateway: Gateway

    async def __call__(self, *args: str, input: str | None = None) -> Result:
        invoke = partial(
            CliRunner().invoke,
            app,
            list(args),
            input=input,
            env={"IAP_HOME": str(self.home), "IAP_KEYRING": None},
        )
        return await trio.to_thread.run_sync(invoke)

    @property
    def url(self) -> str:
        return self.gateway.running.api_url

    @property
    def ca(self) -> str:
        return str(self.gateway.running.ca)

    async def login(self, user: str = "alice", *extra: str) -> Result:
        code = self.gateway.fresh_code(user)
        return await self(
            "login", "--gateway", self.url, "--user", user, "--password-stdin",
            "--code", code, "--ca", self.ca, *extra, input=PASSWORD + "\n",
        )  # fmt: skip


@pytest.fixture
def cli(gateway: Gateway, tmp_path: Path) -> Cli:
    return Cli(tmp_path / "alice-home", gateway)


@pytest.fixture
async def alice(cli: Cli) -> Cli:
    result = await cli.login()
    assert result.exit_code == 0, result.output
    return cli


def error_line(result: Result) -> str:
    """The one line an error printed (and that it printed nothing else, no traceback)."""
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
