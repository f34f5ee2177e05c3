"""PostgreSQL's own tools pass through the gateway untouched under the default policy.

pg_dump (plain and directory format with parallel jobs), pg_dumpall --globals-only and a
data-only pg_restore run against the agent's port with the default rules: their start-up
statements (SETs, set_config, the snapshot they share between jobs) are reads, so nothing is
held, and what they produce or restore is what the server has.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import trio

from tests.helpers import ConnectedPort, Gateway, PgServer

pytestmark = pytest.mark.e2e


async def tool(gateway: Gateway, port: ConnectedPort, *args: str, timeout: float = 90) -> str:
    """Run a client tool against the agent's port; its stdout. The test fails at once when
    the gateway holds one of its statements, naming it."""
    env = {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": str(port.port), "PGUSER": "anyone"}
    env["PGSSLMODE"] = "disable"
    result = None
    held: list[tuple[str, str]] = []
    with trio.fail_after(timeout):
        async with trio.open_nursery() as nursery:

            async def watch() -> None:
                while not held:
                    held.extend((r.risk, r.sql) for r in gateway.services.store.list_requests())
                    await trio.sleep(0.2)
                nursery.cancel_scope.cancel()

            nursery.start_soon(watch)
            result = await trio.run_process(
                list(args), capture_stdout=True, capture_stderr=True, check=False, env=env
            )
            nursery.cancel_scope.cancel()
    assert not held, f"{args[0]} was held: {held}"
    assert result is not None
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


async def test_pg_dump_plain_is_not_held(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    dump = await tool(gateway, port, "pg_dump", "--no-password", database)
    assert "CREATE TABLE public.items" in dump
    assert "item 3" in dump


async def test_pg_dump_directory_format_with_parallel_jobs_is_not_held(
    gateway: Gateway, port: ConnectedPort, database: str, tmp_path: Path
) -> None:
    out = tmp_path / "dump"
    await tool(
        gateway, port, "pg_dump", "--no-password", "-Fd", "-j", "2", "-f", str(out), database
    )
    assert (out / "toc.dat").exists()


async def test_pg_dumpall_globals_is_not_held(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    dump = await tool(
        gateway, port, "pg_dumpall", "--no-password", "--globals-only", "-l", database
    )
    assert "CREATE ROLE postgres" in dump


async def test_a_data_only_pg_restore_is_not_held(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer, tmp_path: Path
) -> None:
    archive = tmp_path / "items.dump"
    await tool(
        gateway,
        port,
        "pg_dump",
        "--no-password",
        "-Fc",
        "-a",
        "-t",
        "items",
        "-f",
        str(archive),
        database,
    )
    pg_server.execute("DELETE FROM items", dbname=database)  # directly, not through iap
    await tool(gateway, port, "pg_restore", "--no-password", "-a", "-d", database, str(archive))
    assert pg_server.execute("SELECT count(*) FROM items", dbname=database) == [(3,)]
