"""Clients hear why: psql and the mariadb CLI get the agent's own FATAL / ERR when `iap
connect` cannot open a tunnel (gateway down, not logged in, user disabled, session expired),
and a running `iap connect` follows logout and login. Also: several connections in one
`iap connect`, `iap psql` / `iap mysql`, and TLS on the local port.

One gateway serves a PostgreSQL connection (pg-main) and a MariaDB one (my-main); the tests
can stop it while the agent runs.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

import psycopg
import pymysql
import pytest
import trio

from tests.e2e.test_mysql import Backend, backend, mysql_connection, plugin
from tests.helpers import IAP, Agent, Gateway, PgServer, run_psql, running_gateway, write_config

pytestmark = pytest.mark.e2e
__all__ = ["backend", "plugin"]  # fixtures this module uses from test_mysql


@dataclass
class Stoppable:
    gateway: Gateway
    stop: Callable[[], Awaitable[None]]


@pytest.fixture
async def gw(
    tmp_path: Path, pg_server: PgServer, database: str, backend: Backend
) -> AsyncIterator[Stoppable]:
    """A gateway with pg-main and my-main that a test may stop while agents run."""
    path = write_config(tmp_path, pg_server, database, mysql_connection(tmp_path, backend))
    stop, stopped = trio.Event(), trio.Event()

    async def run(task_status: trio.TaskStatus[Gateway] = trio.TASK_STATUS_IGNORED) -> None:
        try:
            async with running_gateway(path) as gateway:
                gateway.add_user("alice", "dev")
                task_status.started(gateway)
                await stop.wait()
        finally:
            stopped.set()

    async def stop_now() -> None:
        stop.set()
        await stopped.wait()

    async with trio.open_nursery() as nursery:
        gateway = await nursery.start(run)
        yield Stoppable(gateway, stop_now)
        stop.set()


@dataclass
class Ports:
    """A running `iap connect` of several names: the lines it printed and its stderr."""

    lines: list[str]
    stderr: bytearray = field(default_factory=bytearray)

    def port(self, index: int) -> int:
        match = re.search(r"127\.0\.0\.1:(\d+)/", self.lines[index])
        assert match, self.lines
        return int(match.group(1))


@asynccontextmanager
async def connect(agent: Agent, *args: str, lines: int = 1) -> AsyncIterator[Ports]:
    """`iap connect ARGS` in the background until the block ends; yields its first lines."""
    async with trio.open_nursery() as nursery:
        process: trio.Process = await nursery.start(
            lambda task_status: trio.run_process(
                [*IAP, "connect", *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=agent.env(),
                task_status=task_status,
                check=False,
            )
        )
        assert process.stdout is not None and process.stderr is not None
        ports = Ports([])

        async def collect_stderr() -> None:
            assert process.stderr is not None
            async for chunk in process.stderr:
                ports.stderr.extend(chunk)

        nursery.start_soon(collect_stderr)
        output = bytearray()
        with trio.fail_after(30):
            async for chunk in process.stdout:
                output.extend(chunk)
                if output.count(b"\n") >= lines:
                    break
        ports.lines = output.decode().splitlines()
        assert len(ports.lines) == lines, f"{ports.lines}; stderr: {ports.stderr.decode()}"
        with trio.fail_after(10):
            while b"iap: press Ctrl-C to close" not in ports.stderr:
                await trio.sleep(0.01)
        try:
            yield ports
        finally:
            process.terminate()
            nursery.cancel_scope.cancel()


def mariadb_cli() -> str:
    found = shutil.which("mariadb") or shutil.which("mysql")
    if found is None:
        pytest.fail("the mariadb client is not installed (Debian package mariadb-client)")
    return found


async def mariadb(port: int, database: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    with trio.fail_after(60):
        return await trio.run_process(
            [mariadb_cli(), "-h", "127.0.0.1", "-P", str(port), "-u", "anyone", *args, database],
            stdin=b"SELECT 'through' AS x;\n",
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )


async def psql_select(port: int, database: str) -> subprocess.CompletedProcess[bytes]:
    return await run_psql(port, database, "-At", "-c", "SELECT 'through'")


def first_line(result: subprocess.CompletedProcess[bytes]) -> str:
    return result.stderr.decode().splitlines()[0] if result.stderr else ""


def psql_fatal(port: int, message: str) -> str:
    where = f'connection to server at "127.0.0.1", port {port} failed'
    return f"psql: error: {where}: FATAL:  iap: {message}"


async def both_refused(
    ports: Ports, database: str, backend: Backend, message: str, mysql_code: int
) -> None:
    """psql and the mariadb CLI both get the agent's refusal (and no traceback anywhere)."""
    pg = await psql_select(ports.port(0), database)
    assert pg.returncode == 2
    assert first_line(pg) == psql_fatal(ports.port(0), message)
    my = await mariadb(ports.port(1), backend.database)
    assert my.returncode == 1
    # This client prefers TLS, so it flags any error that comes before a TLS handshake (as it
    # would a real server's), and shows it after its own 2002.
    unverified = "ERROR 2002 (HY000): Received error packet before completion of TLS handshake."
    assert first_line(my) in (
        f"ERROR {mysql_code} (HY000): iap: {message}",
        f"{unverified} The authenticity of the following error cannot be verified: "
        f"{mysql_code} - iap: {message}",
    )
    with pytest.raises(pymysql.OperationalError) as refused:
        await trio.to_thread.run_sync(
            lambda: pymysql.connect(host="127.0.0.1", port=ports.port(1), user="anyone")
        )
    assert refused.value.args == (mysql_code, f"iap: {message}")
    assert "Traceback" not in ports.stderr.decode()


async def both_work(ports: Ports, database: str, backend: Backend) -> None:
    pg = await psql_select(ports.port(0), database)
    assert (pg.returncode, pg.stdout.decode().strip()) == (0, "through"), pg.stderr.decode()
    my = await mariadb(ports.port(1), backend.database, "-N")
    assert (my.returncode, my.stdout.decode().strip()) == (0, "through"), my.stderr.decode()


async def test_one_connect_serves_several_connections_each_on_its_own_port(
    gw: Stoppable, database: str, backend: Backend
) -> None:
    alice = await Agent.logged_in(gw.gateway, "alice")
    async with connect(alice, "pg-main", "my-main", lines=2) as ports:
        assert ports.lines[0].startswith("postgresql://alice@127.0.0.1:")
        assert ports.lines[0].endswith(f"/{database}?sslmode=disable")
        assert ports.lines[1].startswith("mysql://alice@127.0.0.1:")
        assert ports.port(0) != ports.port(1)
        await both_work(ports, database, backend)


async def test_logout_stops_a_running_connect_and_login_resumes_it(
    gw: Stoppable, database: str, backend: Backend
) -> None:
    alice = await Agent.logged_in(gw.gateway, "alice")
    async with connect(alice, "pg-main", "my-main", lines=2) as ports:
        await both_work(ports, database, backend)
        out = await alice.run("logout")
        assert out.stdout.decode() == f"logged out of {gw.gateway.running.api_url}\n"
        message = "not logged in: run `iap login`"
        await both_refused(ports, database, backend, message, 1045)
        assert f"iap: pg-main: {message}" in ports.stderr.decode()
        await alice.login("alice")
        await both_work(ports, database, backend)


async def test_an_expired_session_is_told_to_both_clients(
    gw: Stoppable, database: str, backend: Backend
) -> None:
    alice = await Agent.logged_in(gw.gateway, "alice")
    async with connect(alice, "pg-main", "my-main", lines=2) as ports:
        gw.gateway.clock.advance(13 * 3600)  # past the 12-hour refresh token
        await both_refused(ports, database, backend, "session expired: run `iap login`", 1045)
        await alice.login("alice")
        await both_work(ports, database, backend)


async def test_a_disabled_user_is_not_told_to_log_in(
    gw: Stoppable, database: str, backend: Backend
) -> None:
    alice = await Agent.logged_in(gw.gateway, "alice")
    async with connect(alice, "pg-main", "my-main", lines=2) as ports:
        disabled = await trio.run_process(
            [*IAP, "admin", "user", "disable", "alice", "--config", str(gw.gateway.config_path)],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
        assert disabled.returncode == 0, disabled.stderr.decode()
        message = "user alice is disabled on the gateway: ask an administrator to enable it"
        await both_refused(ports, database, backend, message, 1045)
        assert "iap login" not in ports.stderr.decode()


async def test_a_stopped_gateway_is_told_to_both_clients(
    gw: Stoppable, database: str, backend: Backend
) -> None:
    alice = await Agent.logged_in(gw.gateway, "alice")
    host, tunnel_port = gw.gateway.running.tunnel
    async with connect(alice, "pg-main", "my-main", lines=2) as ports:
        await both_work(ports, database, backend)
        await gw.stop()
        message = (
            f"cannot reach the gateway at {host}:{tunnel_port} (Connection refused): "
            "check the address and that the gateway is running"
        )
        await both_refused(ports, database, backend, message, 1105)


async def test_psql_and_mysql_commands_run_the_client_on_a_tunnel(
    gw: Stoppable, database: str, backend: Backend
) -> None:
    alice = await Agent.logged_in(gw.gateway, "alice")
    pg = await alice.run("psql", "pg-main", "--", "-X", "-At", "-c", "SELECT 'from iap psql'")
    assert (pg.returncode, pg.stdout.decode()) == (0, "from iap psql\n"), pg.stderr.decode()
    my = await alice.run("mysql", "my-main", "--", "-N", "-e", "SELECT 'from iap mysql'")
    assert (my.returncode, my.stdout.decode()) == (0, "from iap mysql\n"), my.stderr.decode()
    bare = await alice.run("psql", "pg-main", "-X", "-At", "-c", "SELECT 'without --'")
    assert (bare.returncode, bare.stdout.decode()) == (0, "without --\n"), bare.stderr.decode()
    failed = await alice.run("psql", "pg-main", "--", "-X", "-c", "SELECT * FROM nowhere")
    assert failed.returncode == 1  # psql's own exit code
    assert 'relation "nowhere" does not exist' in failed.stderr.decode()
    # The client reaches the tunnel through a unix socket in a folder only alice may enter
    # (a port on 127.0.0.1 would be open to every user of the machine); it goes with psql.
    private = await alice.run(
        "psql", "pg-main", "--", "-X", "-At", "-c", r"\setenv IAPDIR :HOST",
        "-c", r'\! stat -c "%a %U" "$IAPDIR" "$IAPDIR/.s.PGSQL.5432" && echo "$IAPDIR"',
    )  # fmt: skip
    modes, socket_mode, folder = private.stdout.decode().splitlines()
    assert modes.split()[0] == "700" and socket_mode.split()[1] == modes.split()[1]
    assert folder.startswith(tempfile.gettempdir()) and not os.path.exists(folder)
    async with alice.connect("pg-main", "--socket") as local:
        folder = unquote(re.findall(r"host=([^&]+)", local.url)[0])
        assert (
            local.url == f"postgresql://alice@/{database}?host={quote(folder, safe='')}&port=5432"
        )
        assert os.stat(folder).st_mode & 0o777 == 0o700
        done = await trio.run_process(
            ["psql", "-X", "-At", "-d", local.url, "-c", "SELECT 'on a socket'"],
            capture_stdout=True, capture_stderr=True, check=False,
        )  # fmt: skip
        assert (done.returncode, done.stdout.decode()) == (0, "on a socket\n"), done.stderr
        with trio.fail_after(10):  # printed just after the connection string
            while b"(only you)" not in local.stderr:
                await trio.sleep(0.05)
    wrong = await alice.run("psql", "my-main")
    assert (wrong.returncode, wrong.stderr.decode()) == (
        2,
        "iap: my-main is a mysql connection: use `iap mysql my-main`\n",
    )


async def test_tls_on_the_local_port_for_psql_and_mariadb(
    gw: Stoppable, database: str, backend: Backend
) -> None:
    alice = await Agent.logged_in(gw.gateway, "alice")
    async with connect(alice, "--tls", "pg-main", "my-main", lines=2) as ports:
        ca = alice.home / "tls" / "ca.pem"
        assert ports.lines[0].endswith(f"?sslmode=verify-full&sslrootcert={ca}")
        assert f"iap: local TLS: clients verify this port's certificate with the CA {ca}" in (
            ports.stderr.decode()
        )
        for mode in ("require", "verify-ca", "verify-full"):
            dsn = f"host=127.0.0.1 port={ports.port(0)} user=alice dbname={database}"

            def query(mode: str = mode, dsn: str = dsn) -> tuple[bool, object]:
                with psycopg.connect(f"{dsn} sslmode={mode} sslrootcert={ca}") as conn:
                    row = conn.execute("SELECT 'over tls'").fetchone()
                    return conn.pgconn.ssl_in_use, row[0] if row else None

            assert await trio.to_thread.run_sync(query) == (True, "over tls")
        pg = await run_psql(ports.port(0), database, "-At", "-c", "SELECT 'plain still works'")
        assert pg.stdout.decode().strip() == "plain still works", pg.stderr.decode()

        tls_args = ["--ssl", f"--ssl-ca={ca}", "--ssl-verify-server-cert", "-e", "status"]
        my = await mariadb(ports.port(1), backend.database, *tls_args)
        assert my.returncode == 0, my.stderr.decode()
        assert re.search(r"SSL:\s+Cipher in use is \S+", my.stdout.decode()), my.stdout.decode()

        def driver() -> tuple[bool, object]:
            conn = pymysql.connect(
                host="127.0.0.1",
                port=ports.port(1),
                user="anyone",
                database=backend.database,
                ssl_ca=str(ca),
                ssl_verify_cert=True,
                ssl_verify_identity=True,
            )
            with conn, conn.cursor() as cur:
                cur.execute("SELECT 'pymysql over tls'")
                row = cur.fetchone()
                return isinstance(conn._sock, ssl.SSLSocket), row[0] if row else None

        assert await trio.to_thread.run_sync(driver) == (True, "pymysql over tls")
        plain = await mariadb(ports.port(1), backend.database, "-N")
        assert plain.stdout.decode().strip() == "through", plain.stderr.decode()
