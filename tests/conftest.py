"""Shared fixtures: the real database servers the tests run against.

PostgreSQL: the machine's server on 127.0.0.1:5432 when it answers, else an embedded one
(pgserver, unix socket). MariaDB (later issues): skipped with a reason when absent, except
with CI=true, where its absence fails the run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.helpers import PgServer


def _machine_postgres() -> PgServer | None:
    try:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=2
        ):
            return PgServer(address="127.0.0.1:5432", host="127.0.0.1", port=5432)
    except psycopg.OperationalError:
        return None


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    found = _machine_postgres()
    if found is not None:
        yield found
        return
    import pgserver

    data = tmp_path_factory.mktemp("embedded-pg")
    server = pgserver.get_server(data, cleanup_mode="stop")
    socket_dir = server.get_uri().split("host=", 1)[1].split("&", 1)[0]
    try:
        yield PgServer(address=socket_dir, host=socket_dir, port=5432)
    finally:
        server.cleanup()


@dataclass(frozen=True)
class MariaDBServer:
    host: str
    port: int
    user: str = "root"
    password: str = ""

    def connect(self, database: str | None = None, **kwargs: Any) -> Any:
        import pymysql

        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=database,
            autocommit=True,
            **kwargs,
        )


@pytest.fixture(scope="session")
def mariadb_server() -> MariaDBServer:
    """The machine's MariaDB on 127.0.0.1:3306 (root, no password). Missing: the test is
    skipped with the reason in the summary, except with CI=true, where that is a failure."""
    import pymysql

    server = MariaDBServer("127.0.0.1", 3306)
    try:
        server.connect().close()
    except pymysql.MySQLError as e:
        reason = (
            f"MariaDB is not reachable on 127.0.0.1:3306 ({e}); "
            "`sudo make services` installs and starts it"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI=true requires it")
        pytest.skip(reason)
    return server


@pytest.fixture(scope="session")
def psql_binary() -> str:
    found = shutil.which("psql")
    if found is None:
        pytest.fail("psql is not installed (Debian package postgresql-client)")
    return found


def pytest_report_header() -> list[str]:
    ci = os.environ.get("CI", "")
    return [f"iap tests: CI={ci or 'unset'}; data in {Path.cwd()}"]
