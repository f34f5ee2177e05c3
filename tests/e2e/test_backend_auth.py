"""The gateway logs in to the backend with injected credentials: SCRAM-SHA-256, md5, cleartext.

The machine's PostgreSQL trusts everyone, so these tests start a private cluster (the binaries
pgserver bundles, or Debian's) whose pg_hba.conf makes each role authenticate with its own
method, and whose log (log_connections) says which method the server actually used.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest
import trio

from iap.tls import ensure_generated
from tests.helpers import Agent, Gateway, PgServer, running_gateway

DATABASE = "authdb"
PASSWORDS = {
    "scram_user": "scrâm pass/1 'q'",  # non-ASCII: SASLprep on both sides
    "md5_user": "md5 secret#2",
    "clear_user": "clear text $3",
}
# pg_hba.conf method for each role, and what log_connections reports for it.
METHODS = {"scram_user": "scram-sha-256", "md5_user": "md5", "clear_user": "password"}
ENV = {
    "scram_user": "IAP_TEST_SCRAM_PASSWORD",
    "md5_user": "IAP_TEST_MD5_PASSWORD",
    "clear_user": "IAP_TEST_CLEAR_PASSWORD",
}
WRONG_ENV = "IAP_TEST_WRONG_PASSWORD"
TLS_PASSWORD = "over tls only"
TLS_ENV = "IAP_TEST_TLS_PASSWORD"


# -- the private cluster ---------------------------------------------------------------------


def _bin_dir() -> tuple[Path, bool]:
    """Server binaries (pgserver's or Debian's), preferring a build with TLS; and whether it
    has TLS."""
    candidates = [p.parent for p in sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))]
    try:
        from pgserver._commands import POSTGRES_BIN_PATH

        if (POSTGRES_BIN_PATH / "pg_ctl").exists():
            candidates.append(Path(POSTGRES_BIN_PATH))
    except ImportError:
        pass
    if not candidates:
        pytest.fail("no PostgreSQL server binaries: install pgserver or Debian's postgresql")
    for bin_dir in candidates:
        configure = subprocess.run(
            [str(bin_dir / "pg_config"), "--configure"], capture_output=True, check=False
        ).stdout
        if b"openssl" in configure:
            return bin_dir, True
    return candidates[0], False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class AuthPg:
    server: PgServer
    log: Path
    tls_ca: Path | None  # the CA of the server's certificate (None: a build without TLS)

    def log_size(self) -> int:
        return self.log.stat().st_size

    def log_since(self, offset: int) -> str:
        with self.log.open("rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")


@pytest.fixture(scope="session")
def auth_pg() -> Iterator[AuthPg]:
    """A private cluster on 127.0.0.1:<free port> with password-authenticated roles, and
    TLS with a certificate for 127.0.0.1 when the binaries have it (tls_user logs in over TLS
    only)."""
    bin_dir, has_tls = _bin_dir()
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root: use pgserver's user
        import pwd

        from pgserver.utils import ensure_user_exists

        ensure_user_exists("pgserver")
        entry = pwd.getpwnam("pgserver")
        run_as = {"user": entry.pw_uid, "group": entry.pw_gid}
    root = Path(tempfile.mkdtemp(prefix="iap-auth-pg-"))
    root.chmod(0o755)
    data = root / "data"
    log = root / "server.log"
    if run_as:
        os.chown(root, run_as["user"], run_as["group"])

    def run(*args: str) -> None:
        result = subprocess.run(
            [str(bin_dir / args[0]), *args[1:]],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
            **run_as,
        )
        if result.returncode != 0:
            server_log = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"{args} failed:\n{result.stdout.decode()}\n{server_log}")

    run("initdb", "-D", str(data), "-U", "postgres", "-E", "UTF8", "--no-locale", "-A", "trust")
    hba = (
        "host all scram_user 127.0.0.1/32 scram-sha-256\n"
        "host all md5_user 127.0.0.1/32 md5\n"
        "host all clear_user 127.0.0.1/32 password\n"
        "host all postgres 127.0.0.1/32 trust\n"
    )
    conf = "\nlog_connections = on\nfsync = off\nmax_connections = 50\n"
    tls_ca = None
    if has_tls:
        files = ensure_generated(root / "ca", ["127.0.0.1"])
        for source, target in ((files.cert, "server.crt"), (files.key, "server.key")):
            shutil.copy(source, data / target)
            (data / target).chmod(0o600)
            if run_as:
                os.chown(data / target, run_as["user"], run_as["group"])
        tls_ca = files.ca
        hba = (
            "hostssl all tls_user 127.0.0.1/32 scram-sha-256\n"
            "hostnossl all tls_user 127.0.0.1/32 reject\n"
        ) + hba
        conf += "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
    (data / "pg_hba.conf").write_text(hba)
    with (data / "postgresql.conf").open("a") as f:
        f.write(conf)
    port = _free_port()
    started = False
    try:
        run(
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {root}",
            "start",
        )
        started = True
        server = PgServer(address=f"127.0.0.1:{port}", host="127.0.0.1", port=port)
        server.execute(
            "SET password_encryption = 'scram-sha-256';"
            f"CREATE ROLE scram_user LOGIN PASSWORD '{_sql(PASSWORDS['scram_user'])}';"
            f"CREATE ROLE clear_user LOGIN PASSWORD '{_sql(PASSWORDS['clear_user'])}';"
            "SET password_encryption = 'md5';"
            f"CREATE ROLE md5_user LOGIN PASSWORD '{_sql(PASSWORDS['md5_user'])}';"
        )
        server.execute(f"CREATE ROLE tls_user LOGIN PASSWORD '{_sql(TLS_PASSWORD)}'")
        server.execute(f"CREATE DATABASE {DATABASE}")
        server.execute(
            "CREATE TABLE things (id int PRIMARY KEY, name text);"
            "INSERT INTO things VALUES (1, 'one'), (2, 'two');"
            "GRANT SELECT ON things TO scram_user, md5_user, clear_user, tls_user;",
            dbname=DATABASE,
        )
        yield AuthPg(server, log, tls_ca)
    finally:
        if started:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _sql(text: str) -> str:
    return text.replace("'", "''")


# -- a gateway with one connection per way of logging in ----------------------------------------


def _connection(name: str, address: str, user: str, password_line: str) -> str:
    return f"""
[[connections]]
name = "{name}"
kind = "postgres"
address = "{address}"
database = "{DATABASE}"
user = "{user}"
{password_line}
"""


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "secrets" / "md5_user.password"
    path.parent.mkdir()
    path.write_text(PASSWORDS["md5_user"] + "\n")  # a trailing newline, as editors leave it
    path.chmod(0o600)
    return path


@pytest.fixture
async def auth_gateway(
    tmp_path: Path,
    auth_pg: AuthPg,
    pg_server: PgServer,
    password_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Gateway]:
    for user, var in ENV.items():
        monkeypatch.setenv(var, PASSWORDS[user])
    monkeypatch.setenv(WRONG_ENV, "not the password")
    address = auth_pg.server.address
    text = """
[gateway]
data_dir = "data"
api = "127.0.0.1:0"
public_url = "https://localhost:8700"
tunnel = "127.0.0.1:0"
"""
    for user, var in ENV.items():
        text += _connection(f"pg-{METHODS[user]}", address, user, f'password_env = "{var}"')
        text += _connection(
            f"pg-{METHODS[user]}-wrong", address, user, f'password_env = "{WRONG_ENV}"'
        )
    text += _connection("pg-md5-file", address, "md5_user", f'password_file = "{password_file}"')
    text += _connection("pg-scram-none", address, "scram_user", "")
    monkeypatch.setenv(TLS_ENV, TLS_PASSWORD)
    localhost = address.replace("127.0.0.1", "localhost")
    ca = auth_pg.tls_ca
    for name, where, tls in (
        ("pg-tls-verify-full", address, f'tls = "verify-full"\ntls_ca = "{ca}"'),
        ("pg-tls-verify-ca-by-name", localhost, f'tls = "verify-ca"\ntls_ca = "{ca}"'),
        ("pg-tls-verify-full-by-name", localhost, f'tls = "verify-full"\ntls_ca = "{ca}"'),
        ("pg-tls-untrusted", address, 'tls = "verify-full"'),  # the system's CAs
        ("pg-tls-require", address, 'tls = "require"'),
        ("pg-tls-disable", address, ""),
    ):
        text += _connection(name, where, "tls_user", f'password_env = "{TLS_ENV}"\n{tls}')
    if not pg_server.address.startswith("/"):  # the machine's server, without TLS
        text += _connection("pg-no-tls", pg_server.address, "postgres", 'tls = "require"')
    config = tmp_path / "gateway.toml"
    config.write_text(text)
    async with running_gateway(config) as gw:
        gw.add_user("alice", "dev")
        yield gw


@pytest.fixture
async def agent(auth_gateway: Gateway) -> Agent:
    return await Agent.logged_in(auth_gateway, "alice")


async def psql(port: int, sql: str) -> subprocess.CompletedProcess[bytes]:
    with trio.fail_after(30):  # a refused login must end, not hang
        return await trio.run_process(
            [
                "psql",
                "-X",
                "-w",
                "-At",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "anyone",
                "-d",
                DATABASE,
                "-c",
                sql,
            ],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            env={**os.environ, "PGCONNECT_TIMEOUT": "10", "PGSSLMODE": "disable"},
        )


# -- the cluster really asks for passwords -----------------------------------------------------


def test_private_cluster_demands_each_method(auth_pg: AuthPg) -> None:
    """Without this the tests below could pass against a server that trusts everyone."""
    stored = {
        str(name): str(hashed)
        for name, hashed in auth_pg.server.execute(
            "SELECT rolname, left(rolpassword, 14) FROM pg_authid WHERE rolname LIKE '%_user'"
        )
    }
    assert stored["scram_user"] == "SCRAM-SHA-256$"
    assert stored["md5_user"].startswith("md5")
    for user in PASSWORDS:
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(auth_pg.server.dsn(DATABASE, user, password="wrong"), connect_timeout=5)
        with psycopg.connect(
            auth_pg.server.dsn(DATABASE, user), password=PASSWORDS[user], connect_timeout=5
        ) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (user,)


# -- the gateway injects the password --------------------------------------------------------


@pytest.mark.parametrize("user", sorted(PASSWORDS))
async def test_injected_password_logs_in_with_the_servers_method(
    auth_pg: AuthPg, auth_gateway: Gateway, agent: Agent, user: str
) -> None:
    method = METHODS[user]
    before = auth_pg.log_size()
    async with agent.connect(f"pg-{method}") as port:
        result = await psql(port.port, "SELECT current_user, count(*) FROM things")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().split() == [f"{user}|2"]
    log = auth_pg.log_since(before)
    assert f'connection authenticated: identity="{user}" method={method}' in log, log


async def test_password_file_is_read_and_its_newline_dropped(
    auth_pg: AuthPg, auth_gateway: Gateway, agent: Agent
) -> None:
    before = auth_pg.log_size()
    async with agent.connect("pg-md5-file") as port:
        result = await psql(port.port, "SELECT current_user")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().strip() == "md5_user"
    assert 'identity="md5_user" method=md5' in auth_pg.log_since(before)


@pytest.mark.parametrize("user", sorted(PASSWORDS))
async def test_wrong_injected_password_is_a_fatal_refusal_not_a_hang(
    auth_pg: AuthPg, auth_gateway: Gateway, agent: Agent, user: str
) -> None:
    async with agent.connect(f"pg-{METHODS[user]}-wrong") as port:
        result = await psql(port.port, "SELECT current_user")
        stderr = result.stderr.decode()
        assert result.returncode == 2, stderr
        assert "FATAL:  the database refused the login: password authentication failed" in stderr
        assert user in stderr
        assert "not the password" not in stderr  # the injected secret is never echoed

        # SQLSTATE as a driver sees it: the backend's 28P01, passed on in the FATAL.
        with trio.fail_after(30):
            error = await trio.to_thread.run_sync(asyncio.run, _asyncpg_login_error(port.port))
        assert isinstance(error, asyncpg.InvalidPasswordError), repr(error)
        assert error.sqlstate == "28P01"
        assert error.severity == "FATAL"

    # The refusal ended that session only: the gateway goes on serving.
    async with agent.connect(f"pg-{METHODS[user]}") as good:
        ok = await psql(good.port, "SELECT current_user")
    assert ok.returncode == 0, ok.stderr.decode()
    assert ok.stdout.decode().strip() == user


async def _asyncpg_login_error(port: int) -> BaseException | None:
    try:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=port, user="x", database=DATABASE, ssl=False, timeout=20
        )
    except Exception as e:  # returned to the test, which checks what it is
        return e
    await conn.close()
    return None


async def test_no_password_configured_for_a_scram_role_is_refused_cleanly(
    auth_pg: AuthPg, auth_gateway: Gateway, agent: Agent
) -> None:
    """The server asks for SCRAM and the connection has no password: FATAL, no hang."""
    async with agent.connect("pg-scram-none") as port:
        result = await psql(port.port, "SELECT current_user")
        stderr = result.stderr.decode()
        assert result.returncode == 2, stderr
        assert "FATAL:" in stderr
        assert "password" in stderr
    # The gateway goes on serving.
    async with agent.connect("pg-scram-sha-256") as good:
        ok = await psql(good.port, "SELECT current_user")
    assert ok.returncode == 0, ok.stderr.decode()
    assert ok.stdout.decode().strip() == "scram_user"


# -- TLS to the database -----------------------------------------------------------------------


@pytest.fixture
def tls_pg(auth_pg: AuthPg) -> AuthPg:
    if auth_pg.tls_ca is None:
        pytest.skip("the PostgreSQL binaries found here were built without TLS")
    return auth_pg


async def test_tls_verify_full_logs_in_over_tls_and_cancels_through_it(
    tls_pg: AuthPg, auth_gateway: Gateway, agent: Agent
) -> None:
    """The server takes tls_user over TLS only; the session says it is encrypted, and a
    cancel (which the gateway forwards on a connection of its own) still works."""
    before = tls_pg.log_size()
    async with agent.connect("pg-tls-verify-full") as port:
        with trio.fail_after(60):
            seen = await trio.to_thread.run_sync(asyncio.run, _tls_session(port.port))
    assert seen == {"user": "tls_user", "ssl": True, "sleep": "cancelled", "after": 2}
    assert "canceling statement due to user request" in tls_pg.log_since(before)


async def _tls_session(port: int) -> dict[str, Any]:
    conn = await asyncpg.connect(
        host="127.0.0.1", port=port, user="x", database=DATABASE, ssl=False, timeout=20
    )
    try:
        row = await conn.fetchrow(
            "SELECT current_user AS user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        )
        try:
            await conn.execute("SELECT pg_sleep(30)", timeout=1)
            sleep = "ran"
        except TimeoutError:
            sleep = "cancelled"
        after = await conn.fetchval("SELECT count(*) FROM things")
    finally:
        await conn.close()
    return {"user": row["user"], "ssl": row["ssl"], "sleep": sleep, "after": after}


@pytest.mark.parametrize(
    ("name", "refusal"),
    [
        ("pg-tls-verify-ca-by-name", None),  # the chain is checked, not the name
        ("pg-tls-require", None),  # encrypted, nothing checked
        ("pg-tls-verify-full-by-name", "was not accepted (tls = 'verify-full'): Hostname mismatch"),
        ("pg-tls-untrusted", "was not accepted (tls = 'verify-full'): unable to get local issuer"),
        ("pg-tls-disable", 'user "tls_user", database "authdb", no encryption'),
    ],
)
async def test_each_tls_mode_checks_what_it_names(
    tls_pg: AuthPg, auth_gateway: Gateway, agent: Agent, name: str, refusal: str | None
) -> None:
    async with agent.connect(name) as port:
        result = await psql(port.port, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    stderr = result.stderr.decode()
    if refusal is None:
        assert result.returncode == 0, stderr
        assert result.stdout.decode().strip() == "t"
    else:
        assert result.returncode == 2, stderr
        assert "FATAL:" in stderr and refusal in stderr, stderr


async def test_tls_required_of_a_server_without_it_is_a_clear_refusal(
    pg_server: PgServer, auth_gateway: Gateway, agent: Agent
) -> None:
    if pg_server.address.startswith("/"):
        pytest.skip("the machine's PostgreSQL is reached over a unix socket; TLS is TCP only")
    if pg_server.execute("SHOW ssl") == [("on",)]:
        pytest.skip("the machine's PostgreSQL offers TLS")
    async with agent.connect("pg-no-tls") as port:
        result = await psql(port.port, "SELECT 1")
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "the database of connection pg-no-tls does not offer TLS" in stderr, stderr
