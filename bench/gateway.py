"""The gateway and the agent as users run them: `iap` subprocesses driven from the outside.

Owns: writing a gateway config (connection `bench-pg` with a direct listener, connection
`bench-my` to MariaDB reached through `iap connect` only, a rule that allows reads and writes),
starting `iap gateway run` and waiting for /readyz, adding the bench
user (TOTP secret from the provisioning URI), `iap login`, `iap token` and `iap connect` in
the background. Uses only the CLI and HTTP contracts of DESIGN.md, never gateway internals.
"""

from __future__ import annotations

import os
import re
import ssl
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp

from bench.prepare import MY_HOST, MY_PORT, MY_USER, SYSBENCH_DB
from bench.procs import Background, CommandError, free_port, run, tail

CONNECTION = "bench-pg"
# MariaDB for sysbench: no `listen` (the direct listener is PostgreSQL only) and no password
# (root on the local MariaDB has none; the gateway logs in to it with this user).
MY_CONNECTION = "bench-my"
USER = "bench"  # fetches listener tokens (`iap token`)
# `iap connect` gets a user and an IAP_HOME of its own, so the agent path's tokens are never
# refreshed by the harness's `iap token` calls (agents of one home share refreshes through a
# lock since d3257ea; before, this cut the agent path after 10 minutes).
AGENT_USER = "bench-agent"
PASSWORD = "bench-password-not-secret"
NO_CLASSIFY = "IAP_UNSAFE_NO_CLASSIFY"


def iap_command() -> list[str]:
    """The `iap` console script next to this Python (the venv's), else the module."""
    script = Path(sys.executable).with_name("iap")
    return [str(script)] if script.exists() else [sys.executable, "-m", "iap.cli.main"]


def _clean_env() -> dict[str, str]:
    drop = {"IAP_HOME", "IAP_CONFIG", "IAP_KEYRING", NO_CLASSIFY}
    return {k: v for k, v in os.environ.items() if k not in drop}


@dataclass(frozen=True)
class GatewayConfigFile:
    path: Path
    data_dir: Path
    api_port: int
    listen_port: int

    @property
    def api_url(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def ca(self) -> Path:
        return self.data_dir / "tls" / "ca.pem"  # written on first start (iap/tls.py)


def write_config(
    folder: Path,
    name: str,
    data_dir: Path,
    backend_port: int,
    public_api_port: int | None = None,
    *,
    durable: bool = False,
) -> GatewayConfigFile:
    """A config for one gateway process. A second process shares `data_dir` (store, keys, TLS)
    and the first one's public_url, so the same user and tokens work on both."""
    api, tunnel, listen = free_port(), free_port(), free_port()
    public = public_api_port or api
    path = folder / f"{name}.toml"
    path.write_text(
        f"""# Written by bench/gateway.py for one benchmark run.
[gateway]
data_dir = "{data_dir}"
api = "127.0.0.1:{api}"
public_url = "https://localhost:{public}"
tunnel = "127.0.0.1:{tunnel}"

[[connections]]
name = "{CONNECTION}"
kind = "postgres"
address = "127.0.0.1:{backend_port}"
database = "bench"
user = "postgres"
listen = "127.0.0.1:{listen}"

[[connections]]
name = "{MY_CONNECTION}"
kind = "mysql"
address = "{MY_HOST}:{MY_PORT}"
database = "{SYSBENCH_DB}"
user = "{MY_USER}"

[[rules]]
risks = ["read", "write"]
action = "allow"
"""
        + ('\n[audit]\ndurable_from = "write"\n' if durable else "")
    )
    return GatewayConfigFile(path, data_dir, api, listen)


def start_gateway(
    config: GatewayConfigFile, log: Path, *, classify: bool = True, workers: int = 1
) -> Background:
    env = _clean_env()
    if not classify:
        env[NO_CLASSIFY] = "1"
    process = Background(
        f"gateway ({config.path.stem})",
        [*iap_command(), "gateway", "run", "--config", str(config.path), f"--workers={workers}"],
        log,
        env=env,
    )
    try:
        _wait_ready(process, config)
    except BaseException:
        process.stop()
        raise
    return process


def _wait_ready(process: Background, config: GatewayConfigFile, timeout: float = 60.0) -> None:
    """Poll GET /readyz over HTTPS with the gateway's CA until it answers 200."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        if not process.alive():
            raise CommandError(f"{process.name} exited: {tail(process.log_text())}")
        if config.ca.exists():
            try:
                context = ssl.create_default_context(cafile=str(config.ca))
                answer = httpx.get(f"{config.api_url}/readyz", verify=context, timeout=2.0)
                if answer.status_code == 200:
                    return
                last = f"/readyz answered {answer.status_code}"
            except (httpx.HTTPError, ssl.SSLError, OSError) as e:
                last = str(e) or type(e).__name__
        time.sleep(0.2)
    raise CommandError(f"{process.name} not ready within {timeout:.0f} s: {last}")


def add_user(config: GatewayConfigFile, user: str) -> str:
    """`iap admin user add USER --role dba`; returns the TOTP secret."""
    args = [*iap_command(), "admin", "user", "add", user, "--role", "dba"]
    args += ["--password-stdin", "--config", str(config.path)]
    out = run(args, env=_clean_env(), stdin=PASSWORD.encode() + b"\n")
    match = re.search(r"[?&]secret=([A-Z2-7]+)", out)
    if not match:
        raise CommandError(f"no secret= in the provisioning URI: {out.strip()!r}")
    return match.group(1)


class Agent:
    """The user's side: an IAP_HOME, logged in once, then tokens or `iap connect`."""

    def __init__(self, home: Path, user: str) -> None:
        self.home = home
        self.user = user
        self.token_seconds: list[float] = []

    def env(self) -> dict[str, str]:
        return {**_clean_env(), "IAP_HOME": str(self.home), "PYTHONUNBUFFERED": "1"}

    def login(self, config: GatewayConfigFile, secret: str) -> float:
        """`iap login` with password and a TOTP code; returns how long it took (seconds).
        A fresh user has no accepted step yet, so the current code is always unspent."""
        code = pyotp.TOTP(secret).now()
        args = [*iap_command(), "login", "--gateway", config.api_url, "--user", self.user]
        args += ["--password-stdin", "--code", code, "--ca", str(config.ca)]
        started = time.perf_counter()
        run(args, env=self.env(), stdin=PASSWORD.encode() + b"\n")
        return time.perf_counter() - started

    def token(self) -> str:
        """`iap token`: a fresh 5-minute listener token (the direct listener's password)."""
        started = time.perf_counter()
        token = run([*iap_command(), "token"], env=self.env(), timeout=30).strip()
        self.token_seconds.append(time.perf_counter() - started)
        if not token:
            raise CommandError("iap token printed nothing")
        return token

    def connect(self, log: Path, connection: str = CONNECTION) -> tuple[Background, int]:
        """`iap connect CONNECTION --port 0` in the background; (it, the local port it
        printed). Several can run at once from one IAP_HOME (they share token refreshes)."""
        process = Background(
            f"iap connect {connection}",
            [*iap_command(), "connect", connection, "--port", "0"],
            log,
            env=self.env(),
            stdout_pipe=True,
        )
        try:
            line = process.first_line(timeout=30)
            match = re.search(r"127\.0\.0\.1:(\d+)/", line)
            if not match:
                raise CommandError(f"iap connect printed {line!r}: {tail(process.log_text())}")
        except BaseException:
            process.stop()
            raise
        return process, int(match.group(1))
