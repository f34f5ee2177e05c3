"""The paths a client can take to the database, and how a client reaches each one.

Owns: the names and order of the paths (direct, pgbouncer, listener, agent, noclassify,
workers2, durable), the `Endpoint` a started path offers (address, user, TLS, PostgreSQL or MySQL,
which process serves it), probing it with a SELECT 1, and the `Conninfo` a measurement uses
(with a password fetched right before it: the listener's token lives 5 minutes). Never starts
a process: bench.rig does.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import psycopg
from psycopg.rows import TupleRow

PATHS = ("direct", "pgbouncer", "listener", "agent", "noclassify", "workers2", "durable")
# The extra gateway processes only the scenarios that ask for them measure (workers2, durable).
DEFAULT_PATHS = PATHS[:-2]

ABOUT = {
    "direct": "the database itself, no TLS",
    "pgbouncer": "PgBouncer 1.x from Debian, session pooling, no TLS (reference)",
    "listener": "the gateway's direct listener: TLS, `iap token` as the password",
    "agent": "`iap connect` (plain local leg) + TLS tunnel + gateway: what users run",
    "noclassify": "a second gateway with IAP_UNSAFE_NO_CLASSIFY=1, through its listener",
    "workers2": "a third gateway run with --workers 2, through its listener",
    "durable": 'a gateway with `[audit] durable_from = "write"` (group commit), its listener',
}


@dataclass(frozen=True)
class Conninfo:
    """Everything a client needs for one measurement run on one path."""

    host: str
    port: int
    user: str
    dbname: str
    sslmode: str
    password: str | None

    def env(self) -> dict[str, str]:
        """The environment for libpq tools (psql, pgbench)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(
            PGHOST=self.host,
            PGPORT=str(self.port),
            PGUSER=self.user,
            PGDATABASE=self.dbname,
            PGSSLMODE=self.sslmode,
            PGCONNECT_TIMEOUT="10",
            PGAPPNAME="iap-bench",
        )
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        return env

    def connect(self, timeout: int = 10) -> psycopg.Connection[TupleRow]:
        """A psycopg connection in autocommit."""
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            dbname=self.dbname,
            sslmode=self.sslmode,
            password=self.password or "",
            connect_timeout=timeout,
            application_name="iap-bench",
            autocommit=True,
        )


@dataclass(frozen=True)
class Endpoint:
    """A path that is up: where clients connect and which processes serve it."""

    path: str
    host: str
    port: int
    user: str
    dbname: str
    sslmode: str = "disable"
    kind: Literal["postgres", "mysql"] = "postgres"
    password: Callable[[], str | None] = field(default=lambda: None, compare=False)
    server_pid: int | None = None  # the proxy process whose memory `idle` reports
    agent_pid: int | None = None

    def conninfo(self) -> Conninfo:
        """Connection parameters with a freshly fetched password (outside any timing)."""
        return Conninfo(self.host, self.port, self.user, self.dbname, self.sslmode, self.password())


def _select_one(info: Conninfo) -> object:
    with info.connect() as conn:
        return conn.execute("SELECT 1").fetchone()


def _select_one_mysql(info: Conninfo) -> object:
    import pymysql  # MariaDB is needed by the sysbench scenario only

    conn = pymysql.connect(
        host=info.host,
        port=info.port,
        user=info.user,
        password=info.password or "",
        database=info.dbname,
        connect_timeout=10,
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone()
    finally:
        conn.close()


def probe(endpoint: Endpoint) -> str | None:
    """None when a SELECT 1 works through the endpoint (psycopg, or PyMySQL for a MySQL
    endpoint), else why not (one line)."""
    try:
        info = endpoint.conninfo()
        row = _select_one_mysql(info) if endpoint.kind == "mysql" else _select_one(info)
        return None if row == (1,) else f"SELECT 1 returned {row!r}"
    except Exception as e:  # any failure makes the path unavailable, with its reason
        text = str(e).strip().splitlines()
        reason = text[0] if text else type(e).__name__
        if "Connection refused" in str(e):
            reason = f"nothing listens on {endpoint.host}:{endpoint.port} ({reason})"
        return reason
