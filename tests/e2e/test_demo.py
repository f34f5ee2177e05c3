"""`iap demo` (what `make demo` runs) does what the README and its own instructions say:
embedded PostgreSQL, gateway, logged-in agent, a psql line that works, a DROP that is held
and released with `iap approve --code $(iap demo-code)`, and a clean stop on Ctrl-C; and it
runs again after that DROP, with the same data as the first time (`make demo` twice)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pyotp
import pytest
import trio

from iap.config import GatewayConfig
from iap.demo import create_shop, enrol_demo_user
from iap.gateway import open_identity, open_store
from tests.helpers import IAP, PgServer, StreamReader, run_psql

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def running_demo(data: Path) -> AsyncIterator[tuple[int, StreamReader]]:
    """`iap demo --port 0` until its instructions are printed; yields (port, stdout). On the
    way out: Ctrl-C, a clean exit, no traceback and no platformdirs warning."""
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
    demo = await trio.lowlevel.open_process(
        [*IAP, "demo", "--data", str(data), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, "PYTHONWARNINGS": "default"},
    )
    assert demo.stdout is not None and demo.stderr is not None
    out = StreamReader(demo.stdout)
    try:
        line = await out.wait_for(r"postgresql://demo@127\.0\.0\.1:(\d+)/shop\S*", timeout=120)
        await out.wait_for("Press Ctrl-C here to stop everything")
        yield int(line.group(1)), out
    finally:
        demo.send_signal(signal.SIGINT)
        with trio.fail_after(60):
            code = await demo.wait()
        errors = (await demo.stderr.receive_some(1 << 20)).decode()
    assert code == 0, errors
    assert "demo stopped" in errors
    assert not re.search(r"Traceback|XDG_RUNTIME_DIR", errors), errors


async def count_orders(port: int) -> str:
    selected = await run_psql(port, "shop", "-At", "-c", "SELECT count(*) FROM orders")
    assert selected.returncode == 0, selected.stderr.decode()
    return selected.stdout.decode().strip()


async def test_demo_runs_as_its_instructions_say_and_again_after_its_drop(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    tmp_path.chmod(0o755)  # the embedded server runs as its own system user when we are root
    async with running_demo(data) as (port, out):
        assert "iap approve <ID> --code $(" in out.text
        assert await count_orders(port) == "20"

        env = {**os.environ, "IAP_HOME": str(data / "home")}
        async with trio.open_nursery() as nursery:
            dropped: list[subprocess.CompletedProcess[bytes]] = []

            async def drop() -> None:
                dropped.append(await run_psql(port, "shop", "-c", "DROP TABLE orders CASCADE"))

            nursery.start_soon(drop)
            with trio.fail_after(30):
                while True:
                    listing = await trio.run_process(
                        [*IAP, "requests", "--json"], capture_stdout=True, env=env
                    )
                    pending = [r for r in json.loads(listing.stdout) if r["status"] == "pending"]
                    if pending:
                        break
                    await trio.sleep(0.2)
            code = await trio.run_process(
                [*IAP, "demo-code", "--data", str(data)], capture_stdout=True
            )
            approved = await trio.run_process(
                [*IAP, "approve", pending[0]["id"], "--code", code.stdout.decode().strip()],
                capture_stdout=True,
                capture_stderr=True,
                env=env,
                check=False,
            )
            assert approved.returncode == 0, approved.stderr.decode()
        assert dropped[0].returncode == 0, dropped[0].stderr.decode()
        assert "iap approve" in dropped[0].stderr.decode()
        assert "DROP TABLE" in dropped[0].stdout.decode()

    # `make demo` again, at once: the shop is back and the demo user logs in without waiting.
    async with running_demo(data) as (port, _):
        assert await count_orders(port) == "20"


@pytest.fixture
def shop(pg_server: PgServer) -> str:
    return f"iapdemo_{os.getpid()}"


def test_the_demo_database_is_created_afresh_every_time(pg_server: PgServer, shop: str) -> None:
    dsn = f"host={pg_server.host} port={pg_server.port} user=postgres"
    try:
        create_shop(dsn, shop)
        with psycopg.connect(f"{dsn} dbname={shop}", autocommit=True) as conn:
            conn.execute("DROP TABLE orders CASCADE")  # what the demo suggests
            conn.execute("INSERT INTO customers (name) VALUES ('left over')")
        create_shop(dsn, shop)
        with psycopg.connect(f"{dsn} dbname={shop}") as conn:
            counts = conn.execute(
                "SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM customers)"
            ).fetchone()
        assert counts == (20, 3)
    finally:
        pg_server.drop_database(shop)


def test_the_demo_user_is_enrolled_anew_and_can_log_in_at_once(tmp_path: Path) -> None:
    config = GatewayConfig.model_validate({"gateway": {"data_dir": str(tmp_path / "gw")}})
    first = enrol_demo_user(config, tmp_path)
    store = open_store(config)
    try:
        identity = open_identity(config, store, lambda: 1_700_000_015.0)
        identity.login("demo", "demo-password", pyotp.TOTP(first).at(1_700_000_015), "d")
        second = enrol_demo_user(config, tmp_path)  # the demo's next run, in the same step
        assert second != first
        identity.login("demo", "demo-password", pyotp.TOTP(second).at(1_700_000_015), "d")
    finally:
        store.close()
    assert json.loads((tmp_path / "demo-user.json").read_text())["totp_secret"] == second


def test_pgserver_is_loaded_without_the_xdg_runtime_dir_warning() -> None:
    env = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}

    def run(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-W", "error", "-c", code], env=env,
                              capture_output=True, text=True, check=False)  # fmt: skip

    assert run("from iap.demo import load_pgserver; load_pgserver()").returncode == 0
    assert "XDG_RUNTIME_DIR" in run("import pgserver").stderr  # what load_pgserver silences


def test_make_demo_takes_the_port_from_make() -> None:
    def planned(*args: str) -> str:
        # run from `make test` too: no directory messages from the nested make
        env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
        ran = subprocess.run(["make", "--no-print-directory", "-n", "demo", *args], cwd=REPO,
                             capture_output=True, text=True, check=True, env=env)  # fmt: skip
        return ran.stdout.splitlines()[-1].rstrip()

    assert planned("PORT=6543").endswith("/iap demo --port 6543")
    assert planned().endswith("/iap demo")
    helped = subprocess.run([*IAP, "demo", "--help"], capture_output=True, text=True, check=True)
    assert "15432" in helped.stdout and "6432" not in helped.stdout.replace("15432", "")
