"""The gateway stops gracefully, on SIGTERM and when its run function is cancelled.

A held statement ends at once as "gateway stopping": its client gets an error saying so
(PostgreSQL FATAL 57P01, MySQL ER 1927), and the request and the audit log say so too (never
"no decision within 300s"). /readyz answers 503 and new connections are refused while
running sessions finish; sessions still open when `[gateway] shutdown_grace` is over are
ended with the same error. Real gateway (a subprocess, and in this process), agent, psql,
pymysql, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import trio

from iap.config import load_config
from iap.gateway import run_gateway
from iap.store.sqlite import SQLiteStore
from protocols.postgres import messages as pgm
from tests.e2e.test_mysql import Backend, backend, mysql_connection, plugin
from tests.e2e.test_operator import (
    add_user,
    api_url,
    ca_file,
    gateway_process,
    iap,
    write_gateway_config,
)
from tests.e2e.test_startup import RawClient, errors
from tests.helpers import (
    IAP,
    Agent,
    FakeClock,
    Gateway,
    PgServer,
    StreamReader,
    open_psql,
    write_config,
)

pytestmark = pytest.mark.e2e
__all__ = ["backend", "plugin"]  # fixtures of test_mysql used here

STOPPING = "gateway stopping"
LONG_QUERY = "SELECT pg_sleep(120)"


def with_gateway_keys(path: Path, **keys: str) -> Path:
    lines = "".join(f"{key} = {value}\n" for key, value in keys.items())
    path.write_text(path.read_text().replace("[gateway]\n", f"[gateway]\n{lines}", 1))
    return path


async def cancellable_gateway(
    nursery: trio.Nursery, path: Path, stopped: trio.Event
) -> tuple[Gateway, trio.CancelScope]:
    """run_gateway in `nursery` with a 1 s shutdown grace, in a scope the test cancels as a
    caller stopping the gateway does; `stopped` is set when it has returned."""
    config = load_config(with_gateway_keys(path, shutdown_grace='"1s"'))
    clock = FakeClock()
    scope = trio.CancelScope()

    async def gateway_task(task_status: trio.TaskStatus[Any]) -> None:
        with scope:
            await run_gateway(config, clock=clock, handle_signals=False, task_status=task_status)
        stopped.set()

    return Gateway(await nursery.start(gateway_task), config, path, clock), scope


def stored(config: Path) -> SQLiteStore:
    return SQLiteStore(config.parent / "data" / "iap.db")


@asynccontextmanager
async def agent_port(config: Path, secret: str, home: Path) -> AsyncIterator[int]:
    """`iap login` then `iap connect pg-main` against a gateway subprocess: the local port."""
    env = {**os.environ, "IAP_HOME": str(home)}
    login = await trio.run_process(
        [*IAP, "login", "--gateway", api_url(config), "--user", "alice", "--password-stdin",
         "--code", pyotp.TOTP(secret).now(), "--ca", str(ca_file(config))],
        stdin=b"correct horse battery\n", capture_stdout=True, capture_stderr=True,
        check=False, env=env,
    )  # fmt: skip
    assert login.returncode == 0, login.stderr.decode()
    connect = await trio.lowlevel.open_process(
        [*IAP, "connect", "pg-main"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        assert connect.stdout is not None
        with trio.fail_after(20):
            line = (await connect.stdout.receive_some(4096)).decode()
        match = re.search(r"127\.0\.0\.1:(\d+)/", line)
        assert match, line
        yield int(match.group(1))
    finally:
        connect.kill()
        await connect.wait()


def tunnel_port(config: Path) -> int:
    return int(re.search(r'tunnel = "127\.0\.0\.1:(\d+)"', config.read_text()).group(1))  # type: ignore[union-attr]


async def readyz(config: Path) -> int:
    context = ssl.create_default_context(cafile=str(ca_file(config)))
    with httpx.Client(base_url=api_url(config), verify=context) as http:
        response = await trio.to_thread.run_sync(http.get, "/readyz")
        return response.status_code


async def test_sigterm_ends_a_hold_as_gateway_stopping_and_lets_running_sessions_finish(
    tmp_path: Path, pg_server: PgServer, database: str
) -> None:
    config = with_gateway_keys(
        write_gateway_config(tmp_path, pg_server, database), shutdown_grace='"60s"'
    )
    secret = await add_user(config, "alice", "dev")
    async with (
        gateway_process(config) as gateway,
        agent_port(config, secret, tmp_path / "home") as port,
    ):
        held = await open_psql(port, database, ["-At"])
        running = await open_psql(port, database, ["-At"])
        assert held.stdin and held.stderr and running.stdin and running.stdout
        held_err, running_out = StreamReader(held.stderr), StreamReader(running.stdout)
        await held.stdin.send_all(b"\\set VERBOSITY verbose\nDROP TABLE victim;\n")
        request_id = (await held_err.wait_for(r"request (\w+) \(destructive\)")).group(1)
        await running.stdin.send_all(b"SELECT 'started';\nSELECT 'finished', pg_sleep(2);\n")
        await running_out.wait_for("started")

        gateway.send_signal(signal.SIGTERM)
        await held_err.wait_for(f"FATAL:  57P01: .*{STOPPING}")
        with trio.fail_after(20):
            while await readyz(config) != 503:
                await trio.sleep(0.05)
        with pytest.raises(OSError):  # the tunnel port is closed: no new connection
            await trio.open_tcp_stream("127.0.0.1", tunnel_port(config))
        await running_out.wait_for(r"finished\|")  # the statement ran to its end
        await running.stdin.send_all(b"SELECT 'still in grace';\n")
        await running_out.wait_for("still in grace")
        await running.stdin.aclose()  # the last session ends: the gateway need not wait on
        with trio.fail_after(30):
            assert await running.wait() == 0
            assert await gateway.wait() == 0  # (well within the 60 s grace)
        assert held.stdin is not None
        await held.stdin.aclose()
        with trio.fail_after(20):
            await held.wait()

    store = stored(config)
    try:
        request = store.get_request(request_id)
        assert request is not None
        assert (request.status, request.reason) == ("cancelled", STOPPING)
        rows = [r for r in store.iter_audit() if r.request_id == request_id]
    finally:
        store.close()
    assert [(r.decision, r.outcome, r.error) for r in rows] == [
        ("hold", "pending", None),
        ("cancelled", "blocked", STOPPING),
    ]
    audit = await iap("audit", "--json", "--config", str(config))
    assert "no decision within" not in audit.stdout.decode()
    finished = json.loads(audit.stdout)
    assert any("'finished'" in r["sql"] and r["outcome"] == "ok" for r in finished)


async def test_cancelling_the_gateway_ends_holds_then_sessions_after_the_grace(
    tmp_path: Path, pg_server: PgServer, database: str, backend: Backend
) -> None:
    """run_gateway cancelled by its caller: a held MySQL statement ends at once with ER 1927
    naming the stop (the mariadb CLI); PostgreSQL sessions last the grace, then get FATAL
    57P01, a statement still running cancelled first."""
    path = write_config(tmp_path, pg_server, database, mysql_connection(tmp_path, backend))
    stopped = trio.Event()
    async with trio.open_nursery() as nursery:
        gw, scope = await cancellable_gateway(nursery, path, stopped)
        gw.add_user("alice", "dev")
        agent = await Agent.logged_in(gw, "alice")
        async with agent.connect("my-main") as my_port, agent.connect() as pg_port:
            idle = await RawClient.open(pg_port)  # clients that read what the gateway says
            busy = await RawClient.open(pg_port)
            for client in (idle, busy):
                ready = await client.startup({"user": "x", "database": database})
                assert isinstance(ready[-1], pgm.ReadyForQuery), ready
            await busy.send(pgm.Query(LONG_QUERY).encode())

            async with trio.open_nursery() as clients:
                results: list[subprocess.CompletedProcess[bytes]] = []

                async def drop() -> None:  # the mariadb CLI (pymysql calls it a lost connection)
                    command = ["mariadb", "-h", "127.0.0.1", "-P", str(my_port.port), "-u", "x"]
                    command += [backend.database, "-e", "DROP TABLE victim"]
                    with trio.fail_after(60):
                        results.append(
                            await trio.run_process(command, capture_stderr=True, check=False)
                        )

                clients.start_soon(drop)
                request = await gw.wait_request(user="alice")
                scope.cancel()  # as a caller stopping the gateway does
            [result] = results
            assert result.returncode == 1
            assert f"ERROR 1927 (70100) at line 1: iap: session ended: {STOPPING}" in (
                result.stderr.decode()
            )

            # The idle session lasts the grace, then is told why it ends; the busy one's
            # statement is cancelled in the database, then it ends the same way.
            [fatal] = errors(await idle.until())
            assert (fatal.severity, fatal.code) == ("FATAL", "57P01")
            assert STOPPING in (fatal.message or ""), fatal
            *cancelled, last = errors(await busy.until())
            assert last.code == "57P01" and [e.code for e in cancelled] == ["57014"]
            with trio.fail_after(20):  # (the engines would wait 30 s for a running statement)
                await stopped.wait()
            await idle.stream.aclose()
            await busy.stream.aclose()
    running = f"SELECT count(*) FROM pg_stat_activity WHERE query = '{LONG_QUERY}'"
    with trio.fail_after(20):
        while pg_server.execute(running) != [(0,)]:
            await trio.sleep(0.05)
    assert backend.admin("SHOW TABLES LIKE 'victim'", backend.database)  # never dropped
    store = stored(path)
    try:
        final = store.get_request(request.id)
        assert final is not None and (final.status, final.reason) == ("cancelled", STOPPING)
        ends = [r for r in store.iter_audit() if r.request_id == request.id]
        assert [(r.decision, r.error) for r in ends][-1] == ("cancelled", STOPPING)
    finally:
        store.close()


async def test_a_mysql_statement_still_running_after_the_grace_is_killed_in_the_database(
    tmp_path: Path, pg_server: PgServer, database: str, backend: Backend
) -> None:
    """MySQL has no cancel message: at the deadline the gateway logs in on a connection of
    its own and sends KILL QUERY, so the statement does not go on running in MariaDB after
    its session is gone, and its audit row says how it ended."""
    path = write_config(tmp_path, pg_server, database, mysql_connection(tmp_path, backend))
    sleeping = "SELECT SLEEP(120) AS slept"
    running = f"SELECT count(*) FROM information_schema.processlist WHERE info = '{sleeping}'"
    async with trio.open_nursery() as nursery:
        gw, scope = await cancellable_gateway(nursery, path, trio.Event())
        gw.add_user("alice", "dev")
        agent = await Agent.logged_in(gw, "alice")
        async with agent.connect("my-main") as my_port:
            command = ["mariadb", "-h", "127.0.0.1", "-P", str(my_port.port), "-u", "x"]
            command += [backend.database, "-e", sleeping]
            results: list[subprocess.CompletedProcess[bytes]] = []

            async def sleep() -> None:
                with trio.fail_after(60):
                    results.append(
                        await trio.run_process(command, capture_stderr=True, check=False)
                    )

            async with trio.open_nursery() as clients:
                clients.start_soon(sleep)
                with trio.fail_after(20):
                    while backend.admin(running) != [(1,)]:
                        await trio.sleep(0.1)
                scope.cancel()  # the grace (1 s) passes, then the session is stopped
    [result] = results
    assert result.returncode == 1, result.stderr
    with trio.fail_after(10):  # KILL QUERY ends it at once; without it, 120 s more
        while backend.admin(running) != [(0,)]:
            await trio.sleep(0.1)
    with closing(stored(path)) as store:
        [row] = [r for r in store.iter_audit() if r.sql == sleeping]
    assert (row.decision, row.outcome) == ("allow", "error")
    assert "interrupted" in (row.error or "")
