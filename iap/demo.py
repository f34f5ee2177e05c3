"""`make demo` / `iap demo`: the whole product on one machine, in one process.

Starts an embedded PostgreSQL (pgserver) with a small shop schema, writes a gateway config
and data dir under `.demo/`, adds a demo user, runs the gateway, logs an agent in (its home is
`.demo/home`) and opens a local port; prints what to type; stops everything on Ctrl-C.
`iap demo-code` prints the demo user's current one-time code for the approval terminal.

Every run starts from the same state, whatever the last one did (its suggested DROP, say): the
shop database is created afresh and the demo user enrolled anew; the audit log is kept. A
local port that is taken is one line before anything starts (`make demo PORT=N`).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pyotp
import trio

from agent.errors import AgentError
from iap.config import GatewayConfig

DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"
DATABASE = "shop"

SCHEMA = """
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE);
CREATE TABLE orders (
    id serial PRIMARY KEY,
    customer_id int NOT NULL REFERENCES customers(id),
    total numeric(10, 2) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO customers (name, email) VALUES
    ('Ada Lovelace', 'ada@example.com'), ('Alan Turing', 'alan@example.com'),
    ('Grace Hopper', 'grace@example.com');
INSERT INTO orders (customer_id, total)
    SELECT 1 + (i % 3), round((random() * 200)::numeric, 2) FROM generate_series(1, 20) AS i;
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start_postgres(data: Path) -> tuple[object, str]:
    """An embedded PostgreSQL with a fresh demo database; returns (server, socket directory)."""
    pgserver = load_pgserver()
    print("starting an embedded PostgreSQL ...", file=sys.stderr)
    _forget_dead_handles(data / "pg")
    server = pgserver.get_server(data / "pg", cleanup_mode="stop")
    uri: str = server.get_uri()
    socket_dir = uri.split("host=", 1)[1].split("&", 1)[0]
    create_shop(f"host={socket_dir} user=postgres")
    return server, socket_dir


def load_pgserver() -> Any:
    """The pgserver module, imported without platformdirs' warning that XDG_RUNTIME_DIR is
    unset (containers, cron, sudo): nothing a demo user can act on."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
        import pgserver
    return pgserver


def create_shop(dsn: str, database: str = DATABASE) -> None:
    """The demo database, created afresh (an earlier run may have dropped or changed it)."""
    import psycopg

    with psycopg.connect(f"{dsn} dbname=postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        c.execute(f"CREATE DATABASE {database}")
    with psycopg.connect(f"{dsn} dbname={database}") as shop:
        shop.execute(SCHEMA.encode())


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver stops its server when the last process using it exits, counting the PIDs it
    recorded; a demo that was killed leaves its PID behind and the server would run forever."""
    path = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(path.read_text())
    except (OSError, ValueError):
        return

    from iap.live import alive

    path.write_text(json.dumps([p for p in pids if isinstance(p, int) and alive(p)]))


def _write_config(data: Path, socket_dir: str) -> Path:
    api, tunnel = _free_port(), _free_port()
    config = data / "gateway.toml"
    config.write_text(
        f"""# Written by `iap demo`.
[gateway]
data_dir = "gateway"
api = "127.0.0.1:{api}"
public_url = "https://localhost:{api}"
tunnel = "127.0.0.1:{tunnel}"

[[connections]]
name = "demo-pg"
kind = "postgres"
address = "{socket_dir}"
database = "{DATABASE}"
user = "postgres"

# No [[rules]]: the defaults hold DDL, destructive and admin statements for step-up approval.
"""
    )
    return config


def current_code(data: Path) -> str:
    secret = json.loads((data / "demo-user.json").read_text())["totp_secret"]
    return pyotp.TOTP(secret).now()


def enrol_demo_user(config: GatewayConfig, data: Path) -> str:
    """The demo user, added anew (no TOTP step spent yet, no old tokens); returns the
    secret, which `iap demo-code` reads from `<data>/demo-user.json`."""
    from iap.gateway import open_identity, open_store

    store = open_store(config)
    try:
        if store.get_user(DEMO_USER) is not None:
            store.delete_user(DEMO_USER)
        identity = open_identity(config, store, time.time)
        identity.add_user(DEMO_USER, DEMO_PASSWORD, ("dba",))
        secret = identity.totp_secret(DEMO_USER)
    finally:
        store.close()
    (data / "demo-user.json").write_text(json.dumps({"user": DEMO_USER, "totp_secret": secret}))
    return secret


def _check_port(port: int) -> None:
    """A taken local port is one line before anything starts."""
    from iap.gateway import listen_problem

    problem = listen_problem(f"127.0.0.1:{port}")
    if problem is not None:
        why = "is in use" if problem.errno == errno.EADDRINUSE else f"cannot be used ({problem})"
        raise AgentError(
            f"port {port} on 127.0.0.1 {why}: choose another with `iap demo --port N`"
            " (`make demo PORT=N`), or 0 for a free one",
            code="port_unavailable",
        )


def run_demo(data: Path, port: int) -> None:
    from agent.client import GatewayClient, ssl_context
    from agent.commands.login import login
    from agent.tunnel import Tunnel, print_ready, serve
    from iap.cli.operator import setup_logging
    from iap.config import load_config
    from iap.gateway import run_gateway

    _check_port(port)
    data = data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    server, socket_dir = _start_postgres(data)
    config = load_config(_write_config(data, socket_dir))
    os.environ["IAP_HOME"] = str(data / "home")
    secret = enrol_demo_user(config, data)
    setup_logging("warning")

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            running = await nursery.start(
                lambda task_status: run_gateway(
                    config, handle_signals=False, task_status=task_status
                )
            )
            assert running.ca is not None
            code = await _unspent_code(config, secret)
            await trio.to_thread.run_sync(
                login, running.api_url, DEMO_USER, DEMO_PASSWORD, code, running.ca
            )
            client = GatewayClient.from_state()
            tunnel = Tunnel(
                client, "demo-pg", "127.0.0.1", running.tunnel[1], ssl_context(client.ca_pem)
            )

            def ready(bound: int) -> None:
                print_ready("postgres", DEMO_USER, DATABASE, "demo-pg")(bound)
                _instructions(data, bound)

            nursery.start_soon(serve, tunnel, port, ready)
            with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for _ in signals:
                    print("\nstopping the demo ...", file=sys.stderr)
                    nursery.cancel_scope.cancel()
                    break

    try:
        trio.run(main)
    finally:
        server.cleanup()  # type: ignore[attr-defined]
        print("demo stopped", file=sys.stderr)


async def _unspent_code(config: GatewayConfig, secret: str) -> str:
    """A code for the first TOTP step the gateway has not accepted yet (so the demo can be
    restarted at once, and `iap approve --code` still finds a later step free)."""
    from iap.gateway import open_store

    totp = pyotp.TOTP(secret)
    while True:
        store = open_store(config)
        try:
            user = store.get_user(DEMO_USER)
            last = user.last_totp_step if user else 0
        finally:
            store.close()
        step = int(time.time()) // 30
        for candidate in (step - 1, step):
            if candidate > last:
                return totp.at(candidate * 30)
        print("waiting for the next one-time code step ...", file=sys.stderr)
        await trio.sleep(30 - time.time() % 30 + 0.5)


def _instructions(data: Path, port: int) -> None:
    iap = Path(sys.executable).with_name("iap")
    print(
        f"""
iap demo is running. In this terminal's neighbour, connect with psql:

    psql "postgresql://{DEMO_USER}@127.0.0.1:{port}/{DATABASE}?sslmode=disable"

  SELECT * FROM orders LIMIT 5;     -- runs straight through
  DROP TABLE orders CASCADE;        -- is held: psql shows the request id and waits
  (the shop database is created afresh on every run of the demo)

Then approve (or deny) it from a second terminal:

    export IAP_HOME={data / "home"}
    {iap} requests
    {iap} approve <ID> --code $({iap} demo-code --data {data})
    {iap} deny <ID> --reason "not today"

The audit log:  {iap} audit --config {data / "gateway.toml"}
Press Ctrl-C here to stop everything.
""",
        flush=True,
    )
