"""`iap admin sessions` against a running `iap gateway run` (a subprocess, real psql through
the agent): the live session is listed with the request its held statement waits on, `kill`
ends it (the hold is cancelled, nothing held runs, psql hears who ended it and why, the audit
log has a `killed` row), and the listing is empty once it ended."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.e2e.test_operator import (
    add_user,
    gateway_process,
    iap,
    logged_in_agent,
    write_gateway_config,
)
from tests.e2e.test_psql import start_psql
from tests.helpers import PgServer

pytestmark = pytest.mark.e2e


async def listed(config: Path) -> list[dict[str, Any]]:
    ran = await iap("admin", "sessions", "--json", "--config", str(config))
    assert ran.returncode == 0, ran.stderr.decode()
    found: list[dict[str, Any]] = json.loads(ran.stdout)
    return found


async def test_an_operator_lists_and_kills_a_session_with_a_held_statement(
    tmp_path: Path, pg_server: PgServer, database: str
) -> None:
    config = write_gateway_config(tmp_path, pg_server, database)
    secret = await add_user(config, "alice", "dev")
    async with gateway_process(config) as process:
        agent = await logged_in_agent(tmp_path / "home", config, "alice", secret)
        assert await listed(config) == []
        async with agent.connect() as port:
            psql = await start_psql(port, database)
            await psql.send("SELECT 'open' AS x;")
            await psql.out.wait_for("open")
            (session,) = await listed(config)
            assert session == {
                **session,
                "user": "alice",
                "connection": "pg-main",
                "kind": "postgres",
                "held_request": None,
                "ending": None,
            }
            plain = await iap("admin", "sessions", "--config", str(config))
            lines = plain.stdout.decode().splitlines()
            assert lines[0].split() == [
                "ID", "USER", "CONNECTION", "KIND", "CLIENT", "STARTED", "STATE"
            ]  # fmt: skip
            assert lines[1].split()[:4] == [session["id"], "alice", "pg-main", "postgres"]

            await psql.send("DELETE FROM items;")
            request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
            (session,) = await listed(config)
            assert session["held_request"] == request_id

            killed = await iap(
                "admin", "sessions", "kill", session["id"][:6], "--reason", "incident 42",
                "--config", str(config),
            )  # fmt: skip
            assert killed.returncode == 0, killed.stderr.decode()
            assert killed.stdout.decode() == (
                f"session {session['id']} of alice on pg-main ended\n"
            )
            await psql.err.wait_for(
                r"57P01: iap: access revoked: ended by operator \S+: incident 42"
            )
            await psql.close()
        assert await listed(config) == []

        assert pg_server.execute("SELECT count(*) FROM items", database) == [(3,)]  # not run
        requests = await agent.run("requests", "--json", "--status", "cancelled")
        (cancelled,) = [r for r in json.loads(requests.stdout) if r["id"] == request_id]
        assert "ended by operator" in cancelled["reason"]
        audit = await iap("audit", "--json", "--decision", "killed", "--config", str(config))
        (row,) = json.loads(audit.stdout)
        assert (row["user"], row["connection"], row["session"]) == (
            "alice",
            "pg-main",
            session["id"],
        )
        assert row["error"].endswith(": incident 42")

        gone = await iap("admin", "sessions", "kill", session["id"], "--config", str(config))
        assert (gone.returncode, gone.stderr.decode()) == (
            1,
            f"iap: no live session matches {session['id']!r}: `iap admin sessions` lists them\n",
        )
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(30):
            await process.wait()


async def test_a_kill_cancels_the_running_statement_first_and_audits_how_it_ended(
    tmp_path: Path, pg_server: PgServer, database: str
) -> None:
    config = write_gateway_config(tmp_path, pg_server, database)
    secret = await add_user(config, "alice", "dev")
    sleeping = "SELECT pg_sleep(60) AS slept"
    running = f"SELECT count(*) FROM pg_stat_activity WHERE query LIKE '{sleeping}%'"
    async with gateway_process(config):
        agent = await logged_in_agent(tmp_path / "home", config, "alice", secret)
        async with agent.connect() as port:
            psql = await start_psql(port, database)
            await psql.send(f"{sleeping};")
            with trio.fail_after(20):
                while pg_server.execute(running) != [(1,)]:
                    await trio.sleep(0.1)
            (session,) = await listed(config)
            killed = await iap("admin", "sessions", "kill", session["id"], "--config", str(config))
            assert killed.returncode == 0, killed.stderr.decode()
            await psql.err.wait_for(r"57014: canceling statement due to user request")
            await psql.send("SELECT 'after' AS x;")  # psql reads the FATAL when it next reads
            await psql.err.wait_for(r"57P01: iap: access revoked: ended by operator")
            await psql.close()
        assert pg_server.execute(running) == [(0,)]
        audit = await iap("audit", "--json", "--config", str(config))
        (row,) = [r for r in json.loads(audit.stdout) if r["sql"].startswith(sleeping)]
        assert (row["decision"], row["outcome"]) == ("allow", "error")
        assert "canceling statement" in row["error"]
