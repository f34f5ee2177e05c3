"""The operator's view, with the real `iap` CLI: users, `gateway run`, probes, metrics, audit.

The gateway runs here as `iap gateway run` in a subprocess (real clock, real signals).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pyotp
import pytest
import trio

from tests.helpers import IAP, Agent, PgServer, previous_step_code, run_psql

pytestmark = pytest.mark.e2e


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` different ports free now (all held while they are picked, so no two are the
    same; another process may still take one before the gateway binds it)."""
    with contextlib.ExitStack() as held:
        ports = []
        for _ in range(count):
            s = held.enter_context(socket.socket())
            s.bind(("127.0.0.1", 0))
            ports.append(int(s.getsockname()[1]))
        return ports


def write_gateway_config(
    tmp_path: Path, pg_server: PgServer, database: str, extra: str = ""
) -> Path:
    """A config on fixed free ports (`extra` goes into the connection)."""
    api, tunnel = free_ports(2)
    path = tmp_path / "gateway.toml"
    path.write_text(
        f"""
[gateway]
data_dir = "data"
api = "127.0.0.1:{api}"
public_url = "https://localhost:{api}"
tunnel = "127.0.0.1:{tunnel}"

[[connections]]
name = "pg-main"
address = "{pg_server.address}"
database = "{database}"
user = "postgres"
{extra}
"""
    )
    return path


@pytest.fixture
def gateway_config(tmp_path: Path, pg_server: PgServer, database: str) -> Path:
    return write_gateway_config(tmp_path, pg_server, database)


async def iap(
    *args: str, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return await trio.run_process(
        [*IAP, *args],
        stdin=stdin,
        capture_stdout=True,
        capture_stderr=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


async def add_user(config: Path, name: str, *roles: str) -> str:
    role_args = [a for r in roles for a in ("--role", r)]
    result = await iap(
        "admin",
        "user",
        "add",
        name,
        *role_args,
        "--config",
        str(config),
        "--password-stdin",
        stdin=b"correct horse battery\n",
    )
    assert result.returncode == 0, result.stderr.decode()
    uri = next(
        line for line in result.stdout.decode().splitlines() if line.startswith("otpauth://totp/")
    )
    return parse_qs(urlsplit(uri).query)["secret"][0]


async def logged_in_agent(home: Path, config: Path, user: str, secret: str) -> Agent:
    """`iap login` (password and the previous TOTP step's code) against the gateway that
    `config` runs, with IAP_HOME `home`: an Agent to run `iap connect` and friends with."""
    agent = Agent(home, None)  # type: ignore[arg-type]  # not run under the agent fixture
    login = await agent.run(
        "login", "--gateway", api_url(config), "--user", user, "--password-stdin",
        "--code", await previous_step_code(pyotp.TOTP(secret)), "--ca", str(ca_file(config)),
        stdin=b"correct horse battery\n",
    )  # fmt: skip
    assert login.returncode == 0, login.stderr.decode()
    return agent


def api_url(config: Path) -> str:
    return "https://" + re.search(r'api = "([^"]+)"', config.read_text()).group(1)  # type: ignore[union-attr]


def ca_file(config: Path) -> Path:
    return config.parent / "data" / "tls" / "ca.pem"


@asynccontextmanager
async def gateway_process(config: Path, *args: str) -> AsyncIterator[trio.Process]:
    process = await trio.lowlevel.open_process(
        [*IAP, "gateway", "run", "--config", str(config), *args],
        stderr=subprocess.PIPE,
    )
    try:
        url = api_url(config)
        with trio.fail_after(30):
            while True:
                try:
                    ctx = ssl.create_default_context(cafile=str(ca_file(config)))
                    with httpx.Client(verify=ctx) as http:
                        if (
                            await trio.to_thread.run_sync(http.get, url + "/readyz")
                        ).status_code == 200:
                            break
                except (httpx.HTTPError, OSError, ssl.SSLError):
                    pass
                if process.poll() is not None:
                    assert process.stderr is not None
                    said = await process.stderr.receive_some(65536)
                    raise AssertionError(f"iap gateway run exited during start-up: {said!r}")
                await trio.sleep(0.2)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # as an operator or systemd stops it
            with trio.move_on_after(15):
                await process.wait()
        if process.poll() is None:
            process.kill()
        await process.wait()


async def test_gateway_run_probes_metrics_and_clean_stop(gateway_config: Path) -> None:
    await add_user(gateway_config, "alice", "dev")
    duplicate = await iap(
        "admin",
        "user",
        "add",
        "alice",
        "--config",
        str(gateway_config),
        "--password-stdin",
        stdin=b"another password\n",
    )
    assert duplicate.returncode == 1
    assert "alice" in duplicate.stderr.decode() and "Traceback" not in duplicate.stderr.decode()

    async with gateway_process(gateway_config) as process:
        ctx = ssl.create_default_context(cafile=str(ca_file(gateway_config)))
        with httpx.Client(base_url=api_url(gateway_config), verify=ctx) as http:
            assert http.get("/healthz").json() == {"status": "ok"}
            metrics = http.get("/metrics").text
            for name in (
                "iap_connections_open",
                "iap_statements_total",
                "iap_approval_wait_seconds",
                "iap_mfa_failures_total",
            ):
                assert name in metrics
            assert http.get("/v1/requests").status_code == 401
            assert "paths" in http.get("/v1/openapi.json").json()
        process.send_signal(signal.SIGINT)
        with trio.fail_after(15):
            code = await process.wait()
        assert code == 0
        assert process.stderr is not None
        log = (await process.stderr.receive_some(1 << 20)).decode()
        assert "gateway ready" in log and "gateway stopped" in log


async def test_connect_survives_a_gateway_restart_and_audit_is_verifiable(
    gateway_config: Path, tmp_path: Path, database: str
) -> None:
    secret = await add_user(gateway_config, "alice", "dev")
    home = {"IAP_HOME": str(tmp_path / "home")}
    async with gateway_process(gateway_config):
        login = await iap(
            "login",
            "--gateway",
            api_url(gateway_config),
            "--user",
            "alice",
            "--password-stdin",
            "--code",
            pyotp.TOTP(secret).now(),
            "--ca",
            str(ca_file(gateway_config)),
            stdin=b"correct horse battery\n",
            env=home,
        )
        assert login.returncode == 0, login.stderr.decode()
        connect = await trio.lowlevel.open_process(
            [*IAP, "connect", "pg-main"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **home},
        )
        try:
            assert connect.stdout is not None
            with trio.fail_after(20):
                line = (await connect.stdout.receive_some(4096)).decode()
            port = int(re.search(r"127\.0\.0\.1:(\d+)/", line).group(1))  # type: ignore[union-attr]

            async def select(value: str) -> str:
                result = await run_psql(port, database, "-At", "-c", f"SELECT '{value}'")
                assert result.returncode == 0, result.stderr.decode()
                return result.stdout.decode().strip()

            assert await select("before restart") == "before restart"
        except BaseException:
            connect.kill()
            raise
    try:
        async with gateway_process(gateway_config):
            assert await select("after restart") == "after restart"
    finally:
        connect.kill()
        await connect.wait()

    audit = await iap("audit", "--json", "--config", str(gateway_config))
    assert audit.returncode == 0, audit.stderr.decode()
    rows = json.loads(audit.stdout)
    selects = [r for r in rows if "restart" in r["sql"]]
    assert [
        (r["user"], r["connection"], r["risk"], r["decision"], r["outcome"], r["rows"])
        for r in selects
    ] == [("alice", "pg-main", "read", "allow", "ok", 1)] * 2
    assert {"seq", "ts", "request_id", "error", "duration_ms"} <= set(selects[0])

    verify = await iap("audit", "verify", "--config", str(gateway_config))
    assert verify.returncode == 0, verify.stderr.decode()
    assert "intact" in verify.stdout.decode()
    db = sqlite3.connect(gateway_config.parent / "data" / "iap.db")
    with db:
        db.execute("UPDATE audit SET sql = 'SELECT 1' WHERE seq = ?", (selects[0]["seq"],))
    db.close()
    broken = await iap("audit", "verify", "--config", str(gateway_config))
    assert broken.returncode == 1
    assert f"seq {selects[0]['seq']}" in broken.stderr.decode()


# -- several workers -------------------------------------------------------------------------

SESSIONS = 12  # all on one worker by chance: 2 ** -11


def _worker_sessions(port: int, token: str, database: str) -> dict[str, object]:
    """SESSIONS asyncpg sessions through the direct listener, in one asyncio loop: each
    DROPs its table (held until approved elsewhere), then has a long query and a held
    statement cancelled by timeout (asyncpg sends a CancelRequest on a new connection, which
    the kernel may hand to any worker)."""

    async def main() -> dict[str, object]:
        tls = ssl.create_default_context()
        tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
        conns = [
            await asyncpg.connect(
                host="127.0.0.1", port=port, user="alice", password=token, database=database,
                ssl=tls,
            )
            for _ in range(SESSIONS)
        ]  # fmt: skip
        try:
            dropped = await asyncio.gather(
                *(c.execute(f"DROP TABLE victim_{i}") for i, c in enumerate(conns))
            )

            async def cancelled(conn: asyncpg.Connection, sql: str, timeout: float) -> str:
                try:
                    await conn.execute(sql, timeout=timeout)
                except TimeoutError:
                    return "cancelled"
                return "ran"

            sleeps = await asyncio.gather(*(cancelled(c, "SELECT pg_sleep(30)", 1) for c in conns))
            holds = await asyncio.gather(
                *(cancelled(c, f"DROP TABLE keep_{i}", 2) for i, c in enumerate(conns))
            )
            after = await asyncio.gather(*(c.fetchval("SELECT 41 + 1") for c in conns))
        finally:
            await asyncio.gather(*(c.close() for c in conns))
        return {"dropped": dropped, "sleeps": sleeps, "holds": holds, "after": after}

    return asyncio.run(main())


async def test_two_workers_share_ports_approvals_events_and_cancel_keys(
    tmp_path: Path, pg_server: PgServer, database: str
) -> None:
    """`--workers 2`: sessions land on both workers; statements held in either are listed
    and approved through worker 1's API and streamed to /v1/events; cancel requests reach
    the right session whichever worker the kernel hands them to."""
    for i in range(SESSIONS):
        pg_server.execute(
            f"CREATE TABLE victim_{i} (id int); CREATE TABLE keep_{i} (id int)", dbname=database
        )
    listen = free_port()
    config = write_gateway_config(tmp_path, pg_server, database, f'listen = "127.0.0.1:{listen}"')
    secret = await add_user(config, "alice", "dev")
    home = {"IAP_HOME": str(tmp_path / "home")}
    totp = pyotp.TOTP(secret)
    async with gateway_process(config, "--workers", "2") as process:
        login = await iap(
            "login", "--gateway", api_url(config), "--user", "alice", "--password-stdin",
            "--code", await previous_step_code(totp), "--ca", str(ca_file(config)),
            stdin=b"correct horse battery\n", env=home,
        )  # fmt: skip
        assert login.returncode == 0, login.stderr.decode()
        token = (await iap("token", env=home)).stdout.decode().strip()
        access = (await iap("token", "--access", env=home)).stdout.decode().strip()
        held_events: set[str] = set()

        async def watch_events() -> None:
            ctx = ssl.create_default_context(cafile=str(ca_file(config)))
            headers = {"Authorization": f"Bearer {access}"}
            url = api_url(config) + "/v1/events"
            async with (
                httpx.AsyncClient(verify=ctx, timeout=None) as http,
                http.stream("GET", url, headers=headers) as r,
            ):
                async for line in r.aiter_lines():
                    if line.startswith("data:") and '"request.held"' in line:
                        held_events.add(json.loads(line[5:])["id"])

        async with trio.open_nursery() as nursery:
            nursery.start_soon(watch_events)
            results: dict[str, object] = {}

            async def clients() -> None:
                results.update(
                    await trio.to_thread.run_sync(
                        _worker_sessions, listen, token, database, abandon_on_cancel=True
                    )
                )

            nursery.start_soon(clients)
            with trio.fail_after(60):
                while True:
                    listing = await iap("requests", "--json", env=home)
                    pending = [r for r in json.loads(listing.stdout) if r["status"] == "pending"]
                    if len(pending) == SESSIONS:
                        break
                    await trio.sleep(0.2)
            code = totp.now()
            for request in pending:
                approve = await iap("approve", request["id"], "--code", code, env=home)
                assert approve.returncode == 0, approve.stderr.decode()
            with trio.fail_after(90):
                while not results:
                    await trio.sleep(0.2)
            with trio.fail_after(10):
                while not held_events >= {r["id"] for r in pending}:
                    await trio.sleep(0.1)
            nursery.cancel_scope.cancel()
        assert results["dropped"] == ["DROP TABLE"] * SESSIONS
        assert results["sleeps"] == ["cancelled"] * SESSIONS
        assert results["holds"] == ["cancelled"] * SESSIONS
        assert results["after"] == [42] * SESSIONS
        assert held_events >= {r["id"] for r in pending}
        listing = await iap("requests", "--json", env=home)
        statuses = [r["status"] for r in json.loads(listing.stdout)]
        assert statuses.count("approved") == SESSIONS and statuses.count("cancelled") == SESSIONS
        # Worker 1's /metrics counts the statements of both workers.
        ctx = ssl.create_default_context(cafile=str(ca_file(config)))
        with httpx.Client(verify=ctx) as http:
            metrics = http.get(api_url(config) + "/metrics").text
        assert (
            f'iap_statements_total{{decision="approved",risk="destructive"}} {SESSIONS}.0'
            in metrics
        )
        assert f'iap_holds_total{{status="cancelled"}} {SESSIONS}.0' in metrics
        assert 'iap_connections_open{kind="postgres"} 0.0' in metrics
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(20):
            assert await process.wait() == 0
        assert process.stderr is not None
        log = (await process.stderr.receive_some(1 << 20)).decode()
    starts = [line for line in log.splitlines() if "session start" in line]
    assert any("worker=1 " in line for line in starts) and any(
        "worker=2 " in line for line in starts
    )
    assert log.count("gateway stopped") == 2
    remaining = pg_server.execute(
        "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'victim_%'", dbname=database
    )
    assert remaining == [(0,)]
