"""TLS from the gateway to MariaDB: each `tls` mode checks what it names.

The machine's MariaDB has no TLS, so these tests start a private mariadbd with a certificate
for 127.0.0.1 from a CA of their own, and a user the server lets in over TLS only
(`REQUIRE SSL`): a session that works as that user was encrypted.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pytest
import trio

from iap.tls import ensure_generated
from tests.conftest import MariaDBServer
from tests.helpers import Agent, Gateway, running_gateway

pytestmark = pytest.mark.e2e

DATABASE = "tlsdb"
TLS_USER = "tls_user"
PASSWORD_ENV = "IAP_TEST_MARIADB_TLS_PASSWORD"


@dataclass(frozen=True)
class TlsMariaDB:
    server: MariaDBServer
    ca: Path
    password: str


@pytest.fixture(scope="session")
def tls_mariadb(mariadb_server: MariaDBServer) -> Iterator[TlsMariaDB]:
    """A private mariadbd on 127.0.0.1:<free port> with TLS (it needs the machine's MariaDB
    binaries, as `mariadb_server` needs the machine's server)."""
    install, daemon = shutil.which("mariadb-install-db"), Path("/usr/sbin/mariadbd")
    if install is None or not daemon.exists():
        reason = "MariaDB's server binaries (mariadb-install-db, mariadbd) are not installed"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI=true requires them")
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="iap-tls-my-"))
    root.chmod(0o755)
    data = root / "data"
    files = ensure_generated(root / "ca", ["127.0.0.1"])
    (root / "ca").chmod(0o755)
    files.key.chmod(0o644)  # read by the server's user (mysql)
    user = ["--user=mysql"] if os.geteuid() == 0 else []
    subprocess.run(
        [
            install,
            "--no-defaults",
            f"--datadir={data}",
            *user,
            "--skip-test-db",
            "--auth-root-authentication-method=normal",  # root, no password, over TCP
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(
        [
            str(daemon),
            "--no-defaults",
            f"--datadir={data}",
            *user,
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={data}/mariadb.sock",
            f"--pid-file={data}/mariadb.pid",
            f"--ssl-cert={files.cert}",
            f"--ssl-key={files.key}",
            f"--ssl-ca={files.ca}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        server = MariaDBServer("127.0.0.1", port)
        deadline = time.monotonic() + 60
        while True:
            try:
                server.connect().close()
                break
            except pymysql.MySQLError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError(
                        "the private mariadbd did not start:\n"
                        + (root / "server.log").read_text(errors="replace")
                    ) from None
                time.sleep(0.2)
        password = secrets.token_urlsafe(12)
        conn = server.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE {DATABASE}")
                cur.execute(f"CREATE TABLE {DATABASE}.things (id INT PRIMARY KEY)")
                cur.execute(f"INSERT INTO {DATABASE}.things VALUES (1), (2)")
                cur.execute(
                    f"CREATE USER '{TLS_USER}'@'%%' IDENTIFIED BY %s REQUIRE SSL", (password,)
                )
                cur.execute(f"GRANT ALL ON {DATABASE}.* TO '{TLS_USER}'@'%'")
        finally:
            conn.close()
        yield TlsMariaDB(server, files.ca, password)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _connection(name: str, port: int, user: str, settings: str) -> str:
    return f"""
[[connections]]
name = "{name}"
kind = "mysql"
address = "127.0.0.1:{port}"
database = "{DATABASE}"
user = "{user}"
{settings}
"""


@pytest.fixture
async def tls_gateway(
    tmp_path: Path,
    tls_mariadb: TlsMariaDB,
    mariadb_server: MariaDBServer,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Gateway]:
    monkeypatch.setenv(PASSWORD_ENV, tls_mariadb.password)
    port = tls_mariadb.server.port
    password = f'password_env = "{PASSWORD_ENV}"'
    text = '[gateway]\ndata_dir = "data"\napi = "127.0.0.1:0"\ntunnel = "127.0.0.1:0"\n'
    for name, tls in (
        ("my-verify-full", f'tls = "verify-full"\ntls_ca = "{tls_mariadb.ca}"'),
        ("my-untrusted", 'tls = "verify-full"'),  # the system's CAs
        ("my-require", 'tls = "require"'),
        ("my-disable", ""),
    ):
        text += _connection(name, port, TLS_USER, f"{password}\n{tls}")
    # The machine's MariaDB, which has no TLS (root, no password).
    text += _connection("my-no-tls", mariadb_server.port, "root", 'tls = "require"')
    config = tmp_path / "gateway.toml"
    config.write_text(text)
    async with running_gateway(config) as gw:
        gw.add_user("alice", "dev")
        yield gw


@pytest.fixture
async def agent(tls_gateway: Gateway) -> Agent:
    return await Agent.logged_in(tls_gateway, "alice")


def _session(port: int) -> dict[str, Any]:
    """What a pymysql session through the agent sees of its backend connection."""
    conn = pymysql.connect(
        host="127.0.0.1", port=port, user="x", password="", database=DATABASE, autocommit=True
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT CURRENT_USER()")
            (user,) = cur.fetchone()
            cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
            (_, version) = cur.fetchone()
            cur.execute("SELECT count(*) FROM things")
            (count,) = cur.fetchone()
    finally:
        conn.close()
    return {"user": user.split("@")[0], "tls": version.startswith("TLSv1."), "things": count}


def _refusal(port: int) -> tuple[int, str]:
    try:
        _session(port)
    except pymysql.MySQLError as e:
        return e.args[0], e.args[1]
    raise AssertionError("the session was not refused")


async def test_verify_full_and_require_log_in_over_tls(tls_gateway: Gateway, agent: Agent) -> None:
    for name in ("my-verify-full", "my-require"):
        async with agent.connect(name) as port:
            with trio.fail_after(30):
                seen = await trio.to_thread.run_sync(_session, port.port, abandon_on_cancel=True)
        assert seen == {"user": TLS_USER, "tls": True, "things": 2}, name


@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        (
            "my-untrusted",
            2026,
            "the certificate of the database of connection my-untrusted was not accepted"
            " (tls = 'verify-full'): self-signed certificate in certificate chain",
        ),
        ("my-disable", 1045, f"Access denied for user '{TLS_USER}'"),  # the server wants TLS
        (
            "my-no-tls",
            2026,
            "the database of connection my-no-tls does not offer TLS, and the connection has"
            " tls = 'require'",
        ),
    ],
)
async def test_a_tls_mode_that_cannot_be_met_is_a_clear_error(
    tls_gateway: Gateway, agent: Agent, name: str, code: int, message: str
) -> None:
    async with agent.connect(name) as port:
        with trio.fail_after(30):
            got = await trio.to_thread.run_sync(_refusal, port.port, abandon_on_cancel=True)
    assert got[0] == code and message in got[1], got
