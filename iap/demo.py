"""`make demo` / `iap demo`: the whole product on one machine, in one process.

Starts an embedded PostgreSQL (pgserver) with a small shop schema, writes a gateway config
and data dir under `.demo/`, adds a demo user, runs the gateway, logs an agent in (its home is
`.demo/home`) and opens a local port; prints what to type; stops everything on Ctrl-C.
`iap demo-code` prints the demo user's current one-time code for the approval terminal.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pyotp
import trio

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
    """An embedded PostgreSQL with the demo schema; returns (server, socket directory)."""
    import pgserver
    import psycopg

    print("starting an embedded PostgreSQL ...", file=sys.stderr)
    _forget_dead_handles(data / "pg")
    server = pgserver.get_server(data / "pg", cleanup_mode="stop")  # type: ignore[attr-defined]
    uri: str = server.get_uri()
    socket_dir = uri.split("host=", 1)[1].split("&", 1)[0]
    with psycopg.connect(f"host={socket_dir} user=postgres dbname=postgres", autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            c.execute(f"CREATE DATABASE {DATABASE}")
            with psycopg.connect(f"host={socket_dir} user=postgres dbname={DATABASE}") as shop:
                shop.execute(SCHEMA.encode())
    return server, socket_dir


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver stops its server when the last process using it exits, counting the PIDs it
    recorded; a demo that was killed leaves its PID behind and the server would run forever."""
    path = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(path.read_text())
    except (OSError, ValueError):
        return

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

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


def run_demo(data: Path, port: int) -> None:
    from agent.client import GatewayClient, ssl_context
    from agent.commands.login import login
    from agent.tunnel import Tunnel, print_ready, serve
    from iap.cli.operator import setup_logging
    from iap.config import load_config
    from iap.gateway import open_identity, open_store, run_gateway

    data = data.resolve()
    data.mkdir(parents=True, exist_ok=True)
    server, socket_dir = _start_postgres(data)
    config = load_config(_write_config(data, socket_dir))
    os.environ["IAP_HOME"] = str(data / "home")

    store = open_store(config)
    identity = open_identity(config, store, time.time)
    if store.get_user(DEMO_USER) is None:
        identity.add_user(DEMO_USER, DEMO_PASSWORD, ("dba",))
    secret = identity.totp_secret(DEMO_USER)
    store.close()
    (data / "demo-user.json").write_text(json.dumps({"user": DEMO_USER, "totp_secret": secret}))
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
