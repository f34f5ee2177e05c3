"""Test helpers: a running gateway with an injectable clock, users, and real client drivers.

Everything here drives real things: the gateway in the test's Trio nursery, the `iap` CLI as
a subprocess (the agent users run), psql/pgbench as subprocesses, asyncpg/psycopg from worker
threads (they are asyncio-only).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pyotp
import trio

from iap.config import GatewayConfig, load_config
from iap.gateway import Running, run_gateway
from iap.store.base import AuditRecord

IAP = [sys.executable, "-m", "iap.cli.main"]


@dataclass(frozen=True)
class PgServer:
    address: str  # what a gateway connection's `address` takes
    host: str  # for libpq/psycopg: 127.0.0.1 or a socket directory
    port: int

    def dsn(self, dbname: str = "postgres", user: str = "postgres", **extra: str) -> str:
        parts = [f"host={self.host}", f"port={self.port}", f"user={user}", f"dbname={dbname}"]
        parts += [f"{k}={v}" for k, v in extra.items()]
        return " ".join(parts)

    def execute(self, sql: str, dbname: str = "postgres") -> list[tuple[object, ...]]:
        with psycopg.connect(self.dsn(dbname), autocommit=True) as conn:
            cur = conn.execute(sql.encode())
            return cur.fetchall() if cur.description else []

    def create_database(self, prefix: str = "iaptest") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.execute(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def previous_step_code(totp: pyotp.TOTP, margin: float = 15.0) -> str:
    """The previous TOTP step's code, for a gateway running on real time.

    A later `totp.now()` is then a step the gateway has not seen (codes are single-use and
    steps must advance). The gateway accepts one step back, so the code is taken only when
    at least `margin` seconds of the current step remain: a slow subprocess start cannot
    push it out of the window before the gateway reads it.
    """
    left = totp.interval - time.time() % totp.interval
    if left < margin:
        await trio.sleep(left + 0.1)
    return totp.at(time.time() - totp.interval)


class FakeClock:
    """Real time plus an offset the test moves forward (to reach the next TOTP step)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Gateway:
    running: Running
    config: GatewayConfig
    config_path: Path
    clock: FakeClock
    secrets: dict[str, str] = field(default_factory=dict)

    @property
    def services(self):  # type: ignore[no-untyped-def]
        return self.running.services

    def fresh_code(self, user: str) -> str:
        """A TOTP code the gateway has not seen yet for this user (moves the clock a step)."""
        self.clock.advance(30)
        return pyotp.TOTP(self.secrets[user]).at(self.clock())

    def add_user(self, name: str, *roles: str, password: str = "correct horse battery") -> str:
        identity = self.services.identity
        identity.add_user(name, password, roles)
        self.secrets[name] = identity.totp_secret(name)
        return password

    async def wait_request(
        self, *, user: str | None = None, status: str = "pending", timeout: float = 20.0
    ):  # type: ignore[no-untyped-def]
        with trio.fail_after(timeout):
            while True:
                for r in self.services.store.list_requests(status=status):
                    if user is None or r.user == user:
                        return r
                await trio.sleep(0.05)


def write_config(tmp: Path, pg: PgServer, database: str, extra: str = "") -> Path:
    path = tmp / "gateway.toml"
    path.write_text(
        f"""
[gateway]
data_dir = "data"
api = "127.0.0.1:0"
public_url = "https://localhost:8700"
tunnel = "127.0.0.1:0"

[[connections]]
name = "pg-main"
kind = "postgres"
address = "{pg.address}"
database = "{database}"
user = "postgres"
{extra}
"""
    )
    return path


@asynccontextmanager
async def running_gateway(config_path: Path) -> AsyncIterator[Gateway]:
    config = load_config(config_path)
    if "shutdown_grace" not in config_path.read_text():
        # a test that ends with sessions open need not wait the default 10 s for them
        fast = config.gateway.model_copy(update={"shutdown_grace": 1.0})
        config = config.model_copy(update={"gateway": fast})
    clock = FakeClock()
    async with trio.open_nursery() as nursery:
        running = await nursery.start(
            lambda task_status: run_gateway(
                config, clock=clock, handle_signals=False, task_status=task_status
            )
        )
        try:
            yield Gateway(running, config, config_path, clock)
        finally:
            nursery.cancel_scope.cancel()


# -- the agent, as users run it ------------------------------------------------------------------


@dataclass
class Agent:
    home: Path
    gateway: Gateway

    @classmethod
    async def logged_in(cls, gateway: Gateway, user: str) -> Agent:
        """`user`'s agent after `iap login` (its IAP_HOME beside the gateway's config)."""
        agent = cls(gateway.config_path.parent / f"{user}-home", gateway)
        await agent.login(user)
        return agent

    def env(self) -> dict[str, str]:
        return {**os.environ, "IAP_HOME": str(self.home), "PYTHONUNBUFFERED": "1"}

    async def run(
        self, *args: str, stdin: bytes = b"", check: bool = False
    ) -> subprocess.CompletedProcess[bytes]:
        return await trio.run_process(
            [*IAP, *args],
            stdin=stdin,
            capture_stdout=True,
            capture_stderr=True,
            env=self.env(),
            check=check,
        )

    async def login(self, user: str, password: str = "correct horse battery") -> None:
        code = self.gateway.fresh_code(user)
        ca = self.gateway.running.ca
        result = await self.run(
            "login",
            "--gateway",
            self.gateway.running.api_url,
            "--user",
            user,
            "--password-stdin",
            "--code",
            code,
            "--ca",
            str(ca),
            stdin=password.encode() + b"\n",
        )
        assert result.returncode == 0, result.stderr.decode()

    @asynccontextmanager
    async def connect(self, name: str = "pg-main", *extra: str) -> AsyncIterator[ConnectedPort]:
        """`iap connect NAME [EXTRA...]` in the background; yields the port it printed (0 and
        the connection string with --socket)."""
        async with trio.open_nursery() as nursery:
            process = await nursery.start(
                lambda task_status: trio.run_process(
                    [*IAP, "connect", name, *extra],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=self.env(),
                    task_status=task_status,
                    check=False,
                )
            )
            output = bytearray()
            stderr = bytearray()

            async def collect_stderr() -> None:
                async for chunk in process.stderr:
                    stderr.extend(chunk)

            nursery.start_soon(collect_stderr)
            with trio.fail_after(30):
                async for chunk in process.stdout:
                    output.extend(chunk)
                    if b"\n" in output:
                        break
            line = output.decode().strip()
            match = re.search(r"127\.0\.0\.1:(\d+)/", line)
            assert match or "--socket" in extra, f"printed {line!r}; stderr: {stderr.decode()}"
            try:
                yield ConnectedPort(int(match.group(1)) if match else 0, line, stderr)
            finally:
                process.terminate()
                nursery.cancel_scope.cancel()


@dataclass
class ConnectedPort:
    port: int
    url: str
    stderr: bytearray

    def dsn(self, database: str, user: str = "anyone") -> str:
        return f"host=127.0.0.1 port={self.port} user={user} dbname={database} sslmode=disable"


def psql_command(port: int, database: str, *args: str) -> list[str]:
    """psql on a local port (the agent's), ignoring ~/.psqlrc; any user name will do."""
    return ["psql", "-X", "-h", "127.0.0.1", "-p", str(port), "-U", "anyone", "-d", database, *args]


async def run_psql(
    port: int, database: str, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    with trio.fail_after(timeout):
        return await trio.run_process(
            psql_command(port, database, *args),
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )


async def open_psql(port: int, database: str, args: Sequence[str] = ()) -> trio.Process:
    """An interactive psql on the agent's port, reading commands from a pipe."""
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10", "PGAPPNAME": "psql-test"}
    return await trio.lowlevel.open_process(
        psql_command(port, database, "-v", "ON_ERROR_STOP=0", *args),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


class StreamReader:
    """Accumulates a process stream; `wait_for` a regex to appear after the last match."""

    def __init__(self, stream: trio.abc.ReceiveStream) -> None:
        self.stream = stream
        self.data = bytearray()
        self.cursor = 0  # wait_for looks only at what came after its previous match

    async def wait_for(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        with trio.fail_after(timeout):
            while True:
                text = self.data.decode(errors="replace")
                match = re.compile(pattern).search(text, self.cursor)
                if match:
                    self.cursor = match.end()
                    return match
                chunk = await self.stream.receive_some(65536)
                if not chunk:
                    raise AssertionError(
                        f"stream ended before {pattern!r}; got:\n{self.data.decode()}"
                    )
                self.data.extend(chunk)

    @property
    def text(self) -> str:
        return self.data.decode(errors="replace")


async def audit_records(
    gateway: Gateway, until: Callable[[list[AuditRecord]], bool], timeout: float = 5.0
) -> list[AuditRecord]:
    """The audit log once `until` holds for it (rows are written in batches of ~50 ms)."""
    with trio.fail_after(timeout):
        while True:
            records = list(gateway.services.store.iter_audit())
            if until(records):
                return records
            await trio.sleep(0.02)


def fuzz_cases(strategy: Any, default: int) -> list[Any]:
    """Values hypothesis draws from strategy, IAP_FUZZ_EXAMPLES of them (default otherwise),
    for a test that then drives a live server with each under Trio (hypothesis's own runner
    cannot await)."""
    from hypothesis import HealthCheck, given, settings

    drawn: list[Any] = []
    examples = int(os.environ.get("IAP_FUZZ_EXAMPLES", str(default)))

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    collect()
    return drawn
