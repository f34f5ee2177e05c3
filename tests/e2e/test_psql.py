"""psql through `iap connect` and the gateway to the real PostgreSQL: the issue's acceptance."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import asyncpg
import pexpect
import trio

from tests.helpers import (
    Agent,
    ConnectedPort,
    Gateway,
    PgServer,
    StreamReader,
    open_psql,
    run_psql,
)


class Psql:
    """An interactive psql fed through a pipe, with its output collected."""

    def __init__(self, process: trio.Process) -> None:
        self.process = process
        assert process.stdout and process.stderr and process.stdin
        self.out = StreamReader(process.stdout)
        self.err = StreamReader(process.stderr)

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        await self.process.stdin.send_all(line.encode() + b"\n")

    async def close(self) -> int:
        assert self.process.stdin is not None
        await self.process.stdin.aclose()
        with trio.fail_after(20):
            return await self.process.wait()


async def start_psql(port: ConnectedPort, database: str) -> Psql:
    psql = Psql(await open_psql(port.port, database))
    await psql.send("\\set VERBOSITY verbose")
    return psql


async def test_select_runs_drop_waits_for_approval_then_deny_keeps_session(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    psql = await start_psql(port, database)
    await psql.send("SELECT count(*) AS n FROM items;")
    await psql.out.wait_for(r"\n\s+3\n")

    await psql.send("DROP TABLE victim;")
    notice = await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")
    request_id = notice.group(1)
    assert "destructive" in psql.err.text
    # Held, not run: the backend still has the table.
    assert pg_server.execute("SELECT to_regclass('victim') IS NOT NULL", database) == [(True,)]

    approved = await alice.run("approve", request_id, "--code", gateway.fresh_code("alice"))
    assert approved.returncode == 0, approved.stderr.decode()
    assert approved.stdout.decode().strip() == "released"
    await psql.out.wait_for(r"DROP TABLE")
    assert pg_server.execute("SELECT to_regclass('victim') IS NULL", database) == [(True,)]

    await psql.send("DROP TABLE items;")
    second = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    assert second != request_id
    denied = await alice.run("deny", second, "--reason", "not on a Monday")
    assert denied.returncode == 0, denied.stderr.decode()
    await psql.err.wait_for(r"ERROR:\s+42501: iap: request \w+ was denied: not on a Monday")
    assert pg_server.execute("SELECT count(*) FROM items", database) == [(3,)]

    await psql.send("SELECT 'still here' AS alive;")
    await psql.out.wait_for("still here")
    assert await psql.close() == 0

    statuses = {r.id: r.status for r in gateway.services.store.list_requests()}
    assert statuses == {request_id: "approved", second: "denied"}


async def test_denied_statement_inside_transaction_makes_commit_roll_back(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    psql = await start_psql(port, database)
    await psql.send("BEGIN;")
    await psql.send("INSERT INTO items VALUES (10, 'ten');")
    await psql.out.wait_for("INSERT 0 1")
    await psql.send("TRUNCATE items;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    denied = await alice.run("deny", request_id)
    assert denied.returncode == 0, denied.stderr.decode()
    await psql.err.wait_for("42501")
    await psql.send("SELECT 1;")  # the transaction is failed, as after any server error
    await psql.err.wait_for("25P02")
    await psql.send("COMMIT;")
    await psql.out.wait_for("ROLLBACK")
    assert await psql.close() == 0
    assert pg_server.execute("SELECT count(*) FROM items", database) == [(3,)]


def interactive_psql(port: ConnectedPort, database: str) -> pexpect.spawn:
    """psql on a pseudo-terminal, as a person runs it: Ctrl-C cancels and psql goes on."""
    return pexpect.spawn(
        "psql",
        [
            "-X",
            "-h",
            "127.0.0.1",
            "-p",
            str(port.port),
            "-U",
            "anyone",
            "-d",
            database,
            "-v",
            "VERBOSITY=verbose",
        ],
        encoding="utf-8",
        timeout=20,
        env={**os.environ, "PAGER": "cat", "TERM": "dumb"},
    )


async def test_ctrl_c_ends_a_hold_with_57014_and_the_session_goes_on(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    def session() -> str:
        psql = interactive_psql(port, database)
        psql.expect("=# |=> ")
        psql.sendline("DROP TABLE victim;")
        psql.expect(r"iap approve ([A-Z2-9]{6})")
        request_id = psql.match.group(1)
        psql.sendintr()  # Ctrl-C: psql sends a CancelRequest on a new connection
        psql.expect("57014: canceling statement due to user request")
        psql.sendline("SELECT 'after' || ' cancel' AS x;")
        psql.expect("after cancel")
        psql.sendline("\\q")
        psql.expect(pexpect.EOF)
        return str(request_id)

    request_id = await trio.to_thread.run_sync(session)
    assert gateway.services.store.get_request(request_id).status == "cancelled"
    assert pg_server.execute("SELECT to_regclass('victim') IS NOT NULL", database) == [(True,)]


async def test_asyncpg_command_timeout_cancels_a_hold(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    """asyncpg's command_timeout sends a CancelRequest: the hold ends, the connection lives."""

    async def work() -> tuple[str, int]:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=port.port, user="x", database=database, ssl=False
        )
        try:
            try:
                await conn.execute("DROP TABLE victim", timeout=1.5)
            except TimeoutError:
                outcome = "timeout"
            else:
                outcome = "ran"
            return outcome, await conn.fetchval("SELECT count(*) FROM items")
        finally:
            await conn.close()

    outcome, count = await trio.to_thread.run_sync(asyncio.run, work())
    assert (outcome, count) == ("timeout", 3)
    [request] = gateway.services.store.list_requests()
    assert request.status == "cancelled"
    assert pg_server.execute("SELECT to_regclass('victim') IS NOT NULL", database) == [(True,)]


async def test_killed_client_leaves_an_abandoned_request_that_cannot_be_approved(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    psql = await start_psql(port, database)
    await psql.send("DROP TABLE victim;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    os.kill(psql.process.pid, signal.SIGKILL)
    await psql.process.wait()
    with trio.fail_after(10):
        while gateway.services.store.get_request(request_id).status == "pending":
            await trio.sleep(0.05)
    assert gateway.services.store.get_request(request_id).status == "abandoned"
    late = await alice.run("approve", request_id, "--code", gateway.fresh_code("alice"))
    assert late.returncode == 1
    assert "abandoned" in late.stderr.decode()
    assert pg_server.execute("SELECT to_regclass('victim') IS NOT NULL", database) == [(True,)]


async def test_psql_describe_commands_run_without_a_hold(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    commands = [
        "\\d",
        "\\dt",
        "\\d items",
        "\\d+ items",
        "\\l",
        "\\dn",
        "\\df",
        "\\du",
        "\\dx",
        "\\dv",
        "\\di",
        "\\ds",
        "\\db",
        "\\dT",
        "\\conninfo",
    ]
    args = ["-v", "ON_ERROR_STOP=1"]
    for command in commands:
        args += ["-c", command]
    result = await run_psql(port.port, database, *args)
    assert result.returncode == 0, result.stderr.decode()
    assert "held" not in result.stderr.decode()
    assert "items" in result.stdout.decode()
    assert gateway.services.store.list_requests() == []


async def test_ctrl_c_of_a_running_query_reaches_the_backend(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    def session() -> None:
        psql = interactive_psql(port, database)
        psql.expect("=# |=> ")
        psql.sendline("SELECT pg_sleep(60);")
        time.sleep(1.0)
        psql.sendintr()
        psql.expect("57014: canceling statement due to user request")
        psql.sendline("SELECT 'next' || ' one' AS x;")
        psql.expect("next one")
        psql.sendline("\\q")
        psql.expect(pexpect.EOF)

    with trio.fail_after(40):
        await trio.to_thread.run_sync(session)


async def test_pgbench_select_only_through_the_gateway(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    init = await trio.run_process(
        [
            "pgbench",
            "-i",
            "-s",
            "1",
            "-q",
            "-h",
            pg_server.host,
            "-p",
            str(pg_server.port),
            "-U",
            "postgres",
            database,
        ],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    assert init.returncode == 0, init.stderr.decode()
    with trio.fail_after(60):
        run = await trio.run_process(
            [
                "pgbench",
                "-n",
                "-S",
                "-T",
                "5",
                "-c",
                "4",
                "-h",
                "127.0.0.1",
                "-p",
                str(port.port),
                "-U",
                "anyone",
                database,
            ],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    out = run.stdout.decode()
    assert run.returncode == 0, run.stderr.decode() + out
    assert "number of failed transactions: 0" in out
    assert gateway.services.store.list_requests() == []
