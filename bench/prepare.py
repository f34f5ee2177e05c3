"""Idempotent set-up of the database servers the benchmark measures against.

Owns: database `bench` on the local PostgreSQL at pgbench scale 10 (initialised only when it
is not there yet), the tables the COPY scenario reads and fills, PostgreSQL's connection limit
for the idle-sessions scenario (raised, with a restart, only when too low), and the sysbench
schema on MariaDB. Always connects directly, never through a path under test.
"""

from __future__ import annotations

import contextlib
import shutil
import time

import psycopg

from bench.paths import Conninfo
from bench.procs import CommandError, progress, run

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
DATABASE = "bench"
SCALE = 10
COPY_ROWS = 825_000  # ~80 MB of COPY text out of pgbench_accounts' rows
MAX_CONNECTIONS = 1200

MY_HOST, MY_PORT, MY_USER = "127.0.0.1", 3306, "root"
SYSBENCH_DB = "sbtest"
SYSBENCH_TABLES = 4
SYSBENCH_TABLE_SIZE = 50_000


def direct(dbname: str = DATABASE) -> Conninfo:
    return Conninfo(PG_HOST, PG_PORT, PG_USER, dbname, "disable", None)


def pg_execute(sql: str, dbname: str = DATABASE) -> list[tuple[object, ...]]:
    with direct(dbname).connect() as conn:
        cur = conn.execute(sql.encode())
        return cur.fetchall() if cur.description else []


def ensure_pgbench() -> None:
    """Database `bench` at pgbench scale 10, and the COPY scenario's tables."""
    if not pg_execute(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'", "postgres"):
        progress(f"creating database {DATABASE}")
        pg_execute(f"CREATE DATABASE {DATABASE}", "postgres")
    try:
        branches = pg_execute("SELECT count(*) FROM pgbench_branches")[0][0]
    except psycopg.errors.UndefinedTable:
        branches = 0
    if branches != SCALE:
        progress(f"pgbench -i -s {SCALE} {DATABASE} (once; takes a minute)")
        run(["pgbench", "-i", "-s", str(SCALE), "-q"], env=direct().env(), timeout=900)
    count = 0
    with contextlib.suppress(psycopg.errors.UndefinedTable):
        count = int(str(pg_execute("SELECT count(*) FROM bench_copy")[0][0]))
    if count != COPY_ROWS:
        progress(f"filling bench_copy with {COPY_ROWS} rows of pgbench_accounts (once)")
        pg_execute("DROP TABLE IF EXISTS bench_copy")
        pg_execute(
            "CREATE TABLE bench_copy AS SELECT * FROM pgbench_accounts"
            f" ORDER BY aid LIMIT {COPY_ROWS}"
        )
        pg_execute("VACUUM ANALYZE bench_copy")
    # Filled by COPY FROM STDIN and truncated before each run; unlogged so the measurement is
    # the proxy's and the wire's, not the disk's (the machine is shared).
    pg_execute("CREATE UNLOGGED TABLE IF NOT EXISTS bench_copy_in (LIKE pgbench_accounts)")


def ensure_max_connections(needed: int) -> tuple[int, str | None]:
    """Raise max_connections (ALTER SYSTEM + restart) when `needed` more sessions would not
    fit; returns how many sessions fit now and a note for the output when something changed
    or could not be changed."""
    limit = int(str(pg_execute("SHOW max_connections", "postgres")[0][0]))
    in_use = int(str(pg_execute("SELECT count(*) FROM pg_stat_activity", "postgres")[0][0]))
    margin = 50  # other engineers' tests share this server
    if limit - in_use - margin >= needed:
        return needed, None
    target = max(MAX_CONNECTIONS, needed + in_use + margin)
    cluster = str(pg_execute("SHOW cluster_name", "postgres")[0][0])  # "15/main" on Debian
    version, _, name = cluster.partition("/")
    ctl = shutil.which("pg_ctlcluster")
    if not ctl or not name:
        fits = max(0, limit - in_use - margin)
        return fits, f"max_connections is {limit} and cannot be raised here: {fits} sessions"
    progress(
        f"PostgreSQL allows {limit} connections: ALTER SYSTEM SET max_connections = {target}"
        f" and restarting cluster {cluster} (once; other sessions on it are cut)"
    )
    pg_execute(f"ALTER SYSTEM SET max_connections = {target}", "postgres")
    try:
        run([ctl, "--skip-systemctl-redirect", version, name, "restart"], timeout=120)
    except CommandError as e:
        pg_execute("ALTER SYSTEM RESET max_connections", "postgres")
        fits = max(0, limit - in_use - margin)
        return fits, f"restart to raise max_connections failed ({e}): {fits} sessions"
    _wait_for_postgres()
    return needed, f"raised PostgreSQL max_connections from {limit} to {target} (restarted)"


def _wait_for_postgres(timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            pg_execute("SELECT 1", "postgres")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def sysbench_args(
    *extra: str, host: str = MY_HOST, port: int = MY_PORT, user: str = MY_USER
) -> list[str]:
    """sysbench oltp_read_only against MariaDB at host:port (by default MariaDB itself)."""
    return [
        "sysbench",
        "oltp_read_only",
        "--db-driver=mysql",
        f"--mysql-host={host}",
        f"--mysql-port={port}",
        f"--mysql-user={user}",
        "--mysql-password=",
        f"--mysql-db={SYSBENCH_DB}",
        f"--tables={SYSBENCH_TABLES}",
        f"--table-size={SYSBENCH_TABLE_SIZE}",
        *extra,
    ]


def ensure_sysbench() -> None:
    """Schema `sbtest` with sysbench's tables (prepared only when missing or incomplete)."""
    import pymysql

    conn = pymysql.connect(host=MY_HOST, port=MY_PORT, user=MY_USER, password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {SYSBENCH_DB}")
            complete = True
            for n in range(1, SYSBENCH_TABLES + 1):
                try:
                    cur.execute(f"SELECT COUNT(*) FROM {SYSBENCH_DB}.sbtest{n}")
                    row = cur.fetchone()
                    complete = complete and row is not None and row[0] == SYSBENCH_TABLE_SIZE
                except pymysql.err.ProgrammingError:  # no such table
                    complete = False
    finally:
        conn.close()
    if not complete:
        progress(f"sysbench oltp_read_only prepare ({SYSBENCH_TABLES} x {SYSBENCH_TABLE_SIZE})")
        run(sysbench_args("cleanup"), timeout=300)
        run(sysbench_args("prepare"), timeout=900)


def server_versions() -> dict[str, str]:
    """PostgreSQL's and MariaDB's versions, for the machine description."""
    versions: dict[str, str] = {}
    try:
        versions["postgres"] = str(pg_execute("SHOW server_version", "postgres")[0][0])
    except psycopg.Error as e:
        versions["postgres"] = f"unreachable ({type(e).__name__})"
    try:
        import pymysql

        conn = pymysql.connect(host=MY_HOST, port=MY_PORT, user=MY_USER, password="")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT VERSION()")
                row = cur.fetchone()
                versions["mariadb"] = str(row[0]) if row else "?"
        finally:
            conn.close()
    except Exception as e:  # MariaDB is needed by one scenario only
        versions["mariadb"] = f"unreachable ({type(e).__name__})"
    return versions
