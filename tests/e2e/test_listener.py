"""A connection's direct listener: no agent, TLS, and `iap token` as the password.

Real clients only: psql and pgbench as subprocesses, asyncpg in a worker thread's event loop.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from typing import Any

import asyncpg
import pytest
import trio

from tests.helpers import Agent, Gateway, audit_records


@pytest.fixture
def config_extra() -> str:
    return """listen = "127.0.0.1:0"

[[rules]]
risks = ["destructive"]
action = "deny"
"""


def listen_port(gateway: Gateway) -> int:
    port: int = gateway.services.listen_ports["pg-main"]
    return port


async def listener_token(agent: Agent) -> str:
    result = await agent.run("token", check=True)
    return result.stdout.decode().strip()


async def psql(
    gateway: Gateway, database: str, password: str, *commands: str, sslmode: str = "require"
) -> tuple[int, str, str]:
    return await psql_on(listen_port(gateway), database, password, *commands, sslmode=sslmode)


async def psql_on(
    port: int, database: str, password: str, *commands: str, sslmode: str = "require"
) -> tuple[int, str, str]:
    """psql as alice on 127.0.0.1:port with `password`: (exit code, stdout, stderr)."""
    args = [
        "psql",
        "-X",
        "-w",
        "-At",
        "-v",
        "ON_ERROR_STOP=1",
        f"host=127.0.0.1 port={port} user=alice dbname={database} sslmode={sslmode}",
    ]
    for command in commands:
        args += ["-c", command]
    env = {**os.environ, "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "10"}
    with trio.fail_after(60):
        result = await trio.run_process(
            args, capture_stdout=True, capture_stderr=True, check=False, env=env
        )
    return result.returncode, result.stdout.decode(), result.stderr.decode()


async def test_psql_with_a_listener_token_reads_over_tls(
    gateway: Gateway, alice: Agent, database: str
) -> None:
    token = await listener_token(alice)
    code, out, err = await psql(
        gateway,
        database,
        token,
        "SELECT name FROM items ORDER BY id",
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    )
    assert code == 0, err
    assert out.splitlines()[:3] == ["item 1", "item 2", "item 3"]
    # The gateway's TLS is on the client leg; the backend leg here is plain TCP.
    assert out.splitlines()[3] == "f"
    records = await audit_records(
        gateway, lambda rs: any("ORDER BY id" in r.sql for r in rs) and len(rs) >= 2
    )
    login = [r for r in records if r.decision == "listener"]
    assert [(r.user, r.outcome, r.connection) for r in login] == [("alice", "ok", "pg-main")]
    reads = [r for r in records if "ORDER BY id" in r.sql]
    assert [(r.user, r.risk, r.decision, r.rows) for r in reads] == [("alice", "read", "allow", 3)]


async def test_the_listener_refuses_plaintext_and_bad_tokens(
    gateway: Gateway, alice: Agent, database: str
) -> None:
    token = await listener_token(alice)
    code, _, err = await psql(gateway, database, token, "SELECT 1", sslmode="disable")
    assert code == 2 and "needs TLS" in err and "sslmode=require" in err

    access = (await alice.run("token", "--access", check=True)).stdout.decode().strip()
    code, _, err = await psql(gateway, database, access, "SELECT 1")
    assert code == 2 and "not a valid listener token" in err and "iap token" in err

    code, _, err = await psql(gateway, database, "hunter2", "SELECT 1")
    assert code == 2 and "not a valid listener token" in err

    gateway.clock.advance(301)  # a listener token lives 5 minutes
    code, _, err = await psql(gateway, database, token, "SELECT 1")
    assert code == 2 and "expired" in err

    failures = await audit_records(
        gateway, lambda rs: sum(r.decision == "listener" and r.outcome == "error" for r in rs) >= 3
    )
    assert all(r.user == "alice" for r in failures if r.decision == "listener")


async def test_a_token_works_only_for_its_own_user(
    gateway: Gateway, alice: Agent, database: str
) -> None:
    token = await listener_token(alice)
    port = listen_port(gateway)
    args = [
        "psql",
        "-X",
        "-w",
        f"host=127.0.0.1 port={port} user=bob dbname={database} sslmode=require",
        "-c",
        "SELECT 1",
    ]
    env = {**os.environ, "PGPASSWORD": token}
    result = await trio.run_process(
        args, capture_stdout=True, capture_stderr=True, check=False, env=env
    )
    assert result.returncode == 2
    assert "belongs to user 'alice', not 'bob'" in result.stderr.decode()
    records = await audit_records(
        gateway, lambda rs: any(r.decision == "listener" and r.outcome == "error" for r in rs)
    )
    [refused] = [r for r in records if r.decision == "listener"]
    assert refused.user == "alice" and refused.error is not None and "'bob'" in refused.error


def _asyncpg_session(port: int, database: str, token: str) -> dict[str, Any]:
    """Policy, cancel and session state through the listener, with asyncpg over TLS."""

    async def main() -> dict[str, Any]:
        tls = ssl.create_default_context()
        tls.check_hostname = False
        tls.verify_mode = ssl.CERT_NONE
        conn = await asyncpg.connect(
            host="127.0.0.1", port=port, user="alice", password=token, database=database, ssl=tls
        )
        seen: dict[str, Any] = {}
        try:
            try:
                await conn.execute("DELETE FROM items")
            except asyncpg.PostgresError as e:
                seen["denied"] = (e.sqlstate, str(e))
            seen["after_deny"] = await conn.fetchval("SELECT count(*) FROM items")
            try:
                await conn.execute("SELECT pg_sleep(30)", timeout=1)
            except TimeoutError:
                seen["cancelled"] = True
            seen["after_cancel"] = await conn.fetchval("SELECT 41 + 1")
        finally:
            await conn.close()
        return seen

    return asyncio.run(main())


async def test_policy_and_cancel_work_through_the_listener(
    gateway: Gateway, alice: Agent, database: str
) -> None:
    token = await listener_token(alice)
    with trio.fail_after(60):
        seen = await trio.to_thread.run_sync(
            _asyncpg_session, listen_port(gateway), database, token
        )
    assert seen["denied"][0] == "42501" and "destructive" in seen["denied"][1]
    assert seen["after_deny"] == 3
    assert seen["cancelled"] is True
    assert seen["after_cancel"] == 42
    records = await audit_records(gateway, lambda rs: any(r.decision == "deny" for r in rs))
    assert [(r.user, r.risk) for r in records if r.decision == "deny"] == [("alice", "destructive")]
