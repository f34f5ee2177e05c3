"""MySQL/MariaDB through the agent and the gateway: real MariaDB, pymysql, the mariadb CLI
and mysql-connector-python (server-side prepared statements).

The gateway logs in to MariaDB as a user of the test's own, with a password (injected: the
clients give none); statements are classified with the MySQL classifier and held, denied or
forwarded like PostgreSQL's.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import mysql.connector
import pexpect
import pymysql
import pyotp
import pytest
import trio

from tests.conftest import MariaDBServer
from tests.e2e.test_operator import (
    add_user,
    api_url,
    ca_file,
    free_port,
    gateway_process,
    iap,
    write_gateway_config,
)
from tests.helpers import (
    IAP,
    Agent,
    ConnectedPort,
    Gateway,
    PgServer,
    audit_records,
    running_gateway,
)

pytestmark = pytest.mark.e2e


async def in_thread(fn: Any, *args: Any) -> Any:
    """A blocking client call; a test's timeout abandons it (the test fails, never hangs)."""
    return await trio.to_thread.run_sync(fn, *args, abandon_on_cancel=True)


class Backend:
    """A throwaway MariaDB database and a password user the gateway logs in as."""

    def __init__(self, server: MariaDBServer) -> None:
        self.server = server
        self.database = f"iap_my_{secrets.token_hex(4)}"
        self.user = f"iap_gw_{secrets.token_hex(3)}"
        self.password = secrets.token_urlsafe(12)

    def admin(self, sql: str, database: str | None = None) -> list[tuple[Any, ...]]:
        conn = self.server.connect(database)
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return list(cur.fetchall())
        finally:
            conn.close()


@pytest.fixture
def plugin() -> str:
    """How the gateway's backend user authenticates (a test may parametrize it)."""
    return "mysql_native_password"


@pytest.fixture
def backend(mariadb_server: MariaDBServer, plugin: str) -> Iterator[Backend]:
    b = Backend(mariadb_server)
    if plugin == "ed25519" and not b.admin(
        "SELECT 1 FROM information_schema.plugins WHERE plugin_name = 'ed25519'"
    ):
        try:
            b.admin("INSTALL SONAME 'auth_ed25519'")
        except pymysql.MySQLError as e:
            pytest.skip(f"this MariaDB does not offer ed25519 authentication: {e}")
    b.admin(f"CREATE DATABASE {b.database}")
    b.admin(f"CREATE USER '{b.user}'@'%' IDENTIFIED VIA {plugin} USING PASSWORD('{b.password}')")
    b.admin(f"GRANT ALL ON {b.database}.* TO '{b.user}'@'%'")
    b.admin("CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50))", b.database)
    b.admin("INSERT INTO items VALUES (1, 'item 1'), (2, 'item 2'), (3, 'item 3')", b.database)
    b.admin("CREATE TABLE victim (id INT)", b.database)
    try:
        yield b
    finally:
        b.admin(f"DROP DATABASE IF EXISTS {b.database}")
        b.admin(f"DROP USER IF EXISTS '{b.user}'@'%'")


@pytest.fixture
def rules() -> str:
    return ""


def mysql_connection(folder: Path, backend: Backend) -> str:
    """The `[[connections]]` entry `my-main` for the backend (its password file in folder)."""
    (folder / "my-password").write_text(backend.password + "\n")
    return f"""
[[connections]]
name = "my-main"
kind = "mysql"
address = "{backend.server.host}:{backend.server.port}"
database = "{backend.database}"
user = "{backend.user}"
password_file = "my-password"
"""


@pytest.fixture
async def my_gateway(tmp_path: Path, backend: Backend, rules: str) -> AsyncIterator[Gateway]:
    path = tmp_path / "gateway.toml"
    path.write_text(
        f"""
[gateway]
data_dir = "data"
api = "127.0.0.1:0"
tunnel = "127.0.0.1:0"
{mysql_connection(tmp_path, backend)}
{rules}
"""
    )
    async with running_gateway(path) as gw:
        gw.add_user("alice", "dev")
        gw.add_user("bob", "dba")
        yield gw


@pytest.fixture
async def my_alice(my_gateway: Gateway) -> Agent:
    return await Agent.logged_in(my_gateway, "alice")


@pytest.fixture
async def my_port(my_alice: Agent) -> AsyncIterator[ConnectedPort]:
    async with my_alice.connect("my-main") as connected:
        yield connected


def connect(port: ConnectedPort, backend: Backend, **kwargs: Any) -> Any:
    return pymysql.connect(
        host="127.0.0.1",
        port=port.port,
        user="anyone",
        password="ignored",
        database=backend.database,
        autocommit=True,
        **kwargs,
    )


def run(conn: Any, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return list(cur.fetchall())


async def test_reads_and_writes_pass_with_the_injected_login_and_are_audited(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    def work() -> list[Any]:
        with connect(my_port, backend) as conn:
            out: list[Any] = [run(conn, "SELECT name FROM items WHERE id = %s", (2,))]
            run(conn, "UPDATE items SET name = %s WHERE id = %s", ("renamed", 1))
            run(conn, "INSERT INTO items VALUES (%s, %s)", (10, "ten"))
            out.append(run(conn, "SELECT CURRENT_USER(), DATABASE()"))
            out.append(run(conn, "SELECT count(*) FROM items"))
            return out

    names, who, count = await in_thread(work)
    assert names == [("item 2",)]
    assert who == [(f"{backend.user}@%", backend.database)]
    assert count == [(4,)]
    assert backend.admin("SELECT name FROM items WHERE id = 1", backend.database) == [("renamed",)]
    assert my_gateway.services.store.list_requests() == []
    records = await audit_records(
        my_gateway, lambda rs: any(r.sql == "SELECT count(*) FROM items" for r in rs)
    )
    rows = {r.sql: r for r in records if r.user == "alice" and r.sql}
    update = rows["UPDATE items SET name = 'renamed' WHERE id = 1"]
    assert (update.risk, update.decision, update.rows, update.outcome) == (
        "write",
        "allow",
        1,
        "ok",
    )
    assert rows["SELECT count(*) FROM items"].rows == 1


async def held_request(gateway: Gateway, user: str = "alice") -> Any:
    return await gateway.wait_request(user=user)


def tables(backend: Backend) -> list[str]:
    return [r[0] for r in backend.admin("SHOW TABLES", backend.database)]


async def test_a_risky_statement_waits_for_approval_then_runs_and_the_session_goes_on(
    my_gateway: Gateway, my_alice: Agent, my_port: ConnectedPort, backend: Backend
) -> None:
    after: list[Any] = []

    def work() -> None:
        with connect(my_port, backend) as conn:
            run(conn, "DROP TABLE victim")  # waits here until approved
            after.append(run(conn, "SELECT count(*) FROM items"))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(in_thread, work)
        request = await held_request(my_gateway)
        assert (request.risk, request.sql) == ("destructive", "DROP TABLE victim")
        await trio.sleep(0.2)
        assert "victim" in tables(backend)  # held: the backend has not seen it
        approved = await my_alice.run(
            "approve", request.id, "--code", my_gateway.fresh_code("alice")
        )
        assert approved.returncode == 0, approved.stderr.decode()
    assert after == [[(3,)]]
    assert "victim" not in tables(backend)
    assert request.id in my_port.stderr.decode()  # iap connect told the user
    records = await audit_records(my_gateway, lambda rs: any(r.decision == "approved" for r in rs))
    run_row = next(r for r in records if r.decision == "approved")
    assert (run_row.sql, run_row.request_id, run_row.outcome) == (
        "DROP TABLE victim",
        request.id,
        "ok",
    )


async def test_a_denied_hold_is_a_clean_error_and_the_session_stays_usable(
    my_gateway: Gateway, my_alice: Agent, my_port: ConnectedPort, backend: Backend
) -> None:
    outcome: list[Any] = []

    def work() -> None:
        with connect(my_port, backend) as conn:
            with pytest.raises(pymysql.MySQLError) as refused:
                run(conn, "DELETE FROM items")
            outcome.append(refused.value.args)
            outcome.append(run(conn, "SELECT count(*) FROM items"))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(in_thread, work)
        request = await held_request(my_gateway)
        denied = await my_alice.run("deny", request.id, "--reason", "not on a Friday")
        assert denied.returncode == 0, denied.stderr.decode()
    (code, message), count = outcome
    assert code == 1142
    assert f"request {request.id} was denied: not on a Friday" in message
    assert "DELETE without WHERE" in message
    assert count == [(3,)]


DENY_DESTRUCTIVE = """
[[rules]]
risks = ["destructive"]
action = "deny"
"""


DENY_DESTRUCTIVE_AND_UNKNOWN = """
[[rules]]
risks = ["destructive", "unknown"]
action = "deny"
"""


@pytest.mark.parametrize("rules", [DENY_DESTRUCTIVE_AND_UNKNOWN])
async def test_policy_denial_covers_every_statement_of_a_multi_statement_text(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    def work() -> list[Any]:
        flags = pymysql.constants.CLIENT.MULTI_STATEMENTS
        with connect(my_port, backend, client_flag=flags) as conn:
            with pytest.raises(pymysql.MySQLError) as refused:
                run(conn, "SELECT 1; DROP TABLE victim")
            with pytest.raises(pymysql.MySQLError) as refused_in_comment:
                run(conn, "SELECT 1 /*!, 2; TRUNCATE items */")  # a ; in /*! */: unknown
            with conn.cursor() as cur:  # a harmless multi-statement text runs, both results
                cur.execute("SELECT 1; SELECT 2")
                results = [cur.fetchall()]
                cur.nextset()
                results.append(cur.fetchall())
            return [refused.value.args[0], refused_in_comment.value.args[0], results]

    assert await in_thread(work) == [1142, 1142, [((1,),), ((2,),)]]
    assert "victim" in tables(backend)
    assert backend.admin("SELECT count(*) FROM items", backend.database) == [(3,)]
    assert my_gateway.services.store.list_requests() == []


async def test_kill_query_of_an_own_connection_ends_its_hold_or_its_running_query(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    errors: list[Any] = []
    held = await in_thread(connect, my_port, backend)
    try:
        held_id = held.thread_id()

        def hold_then_go_on() -> None:
            with pytest.raises(pymysql.MySQLError) as interrupted:
                run(held, "DROP TABLE victim")
            errors.append(interrupted.value.args[0])
            errors.append(run(held, "SELECT count(*) FROM items"))
            with pytest.raises(pymysql.MySQLError) as killed:
                run(held, "SELECT SLEEP(30)")
            errors.append(killed.value.args[0])

        async with trio.open_nursery() as nursery:
            nursery.start_soon(in_thread, hold_then_go_on)
            request = await held_request(my_gateway)
            with await in_thread(connect, my_port, backend) as other:
                await in_thread(run, other, f"KILL QUERY {held_id}")
                with trio.fail_after(10):
                    while len(errors) < 2:
                        await trio.sleep(0.05)
                await trio.sleep(0.5)  # SLEEP(30) is running on the backend now
                await in_thread(run, other, f"KILL QUERY {held_id}")
    finally:
        held.close()
    assert errors == [1317, [(3,)], 1317]
    assert my_gateway.services.store.get_request(request.id).status == "cancelled"
    assert "victim" in tables(backend)


async def test_an_operator_kill_ends_a_held_session_with_the_reason(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    """`iap admin sessions kill` (tests/e2e/test_operator_sessions.py does it on PostgreSQL):
    the hold is cancelled, the client gets ER 1927 with the reason, nothing held ran."""
    errors: list[Any] = []
    held = await in_thread(connect, my_port, backend)
    try:

        def hold() -> None:
            with pytest.raises(pymysql.MySQLError) as ended:
                run(held, "DROP TABLE victim")
            errors.append(ended.value.args)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(in_thread, hold)
            request = await held_request(my_gateway)
            config = str(my_gateway.config_path)
            killed = await iap(
                "admin", "sessions", "kill", request.session_id, "--reason", "maintenance",
                "--config", config,
            )  # fmt: skip
            assert killed.returncode == 0, killed.stderr.decode()
    finally:
        held.close()
    ((code, message),) = errors
    assert code == 1927
    assert message.startswith("iap: session ended: ended by operator ")
    assert message.endswith(": maintenance")
    assert "victim" in tables(backend)
    assert my_gateway.services.store.get_request(request.id).status == "cancelled"
    rows = await audit_records(my_gateway, lambda rs: any(r.decision == "killed" for r in rs))
    (row,) = [r for r in rows if r.decision == "killed"]
    assert (row.user, row.connection, row.session_id) == ("alice", "my-main", request.session_id)


DENY_ADMIN = """
[[rules]]
risks = ["admin"]
action = "deny"
"""


@pytest.mark.parametrize("rules", [DENY_ADMIN])
async def test_kill_of_another_users_connection_id_is_an_admin_statement_like_any_other(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    """Only the user a connection id was given to may KILL through it; for anyone else
    `KILL QUERY id` is an admin statement (denied here) and the hold goes on."""
    bob = await Agent.logged_in(my_gateway, "bob")
    errors: list[Any] = []
    held = await in_thread(connect, my_port, backend)
    try:

        def hold() -> None:
            with pytest.raises(pymysql.MySQLError) as interrupted:
                run(held, "DROP TABLE victim")
            errors.append(interrupted.value.args[0])

        async with trio.open_nursery() as nursery, bob.connect("my-main") as bob_port:
            nursery.start_soon(in_thread, hold)
            request = await held_request(my_gateway)
            with await in_thread(connect, bob_port, backend) as intruder:
                with pytest.raises(pymysql.MySQLError) as refused:
                    await in_thread(run, intruder, f"KILL QUERY {held.thread_id()}")
                assert refused.value.args[0] == 1142
            assert my_gateway.services.store.get_request(request.id).status == "pending"
            with await in_thread(connect, my_port, backend) as own:
                await in_thread(run, own, f"KILL QUERY {held.thread_id()}")
    finally:
        held.close()
    assert errors == [1317]
    assert my_gateway.services.store.get_request(request.id).status == "cancelled"


@pytest.mark.parametrize("rules", [DENY_DESTRUCTIVE])
async def test_server_side_prepared_statements_are_decided_at_execute(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    def work() -> list[Any]:
        conn = mysql.connector.connect(
            host="127.0.0.1",
            port=my_port.port,
            user="anyone",
            password="ignored",
            database=backend.database,
            use_pure=True,
            ssl_disabled=True,
            autocommit=True,
        )
        try:
            cur = conn.cursor(prepared=True)
            out: list[Any] = []
            for i in (1, 3):
                cur.execute("SELECT name FROM items WHERE id = %s", (i,))
                out.append(cur.fetchall())
            cur.execute("INSERT INTO items VALUES (%s, %s)", (7, "seven"))
            try:
                cur.execute("DELETE FROM items WHERE id > %s OR 1", (0,))
            except mysql.connector.Error as e:
                out.append(e.errno)
            cur.execute("SELECT count(*) FROM items WHERE id > %s", (0,))
            out.append(cur.fetchall())
            return out
        finally:
            conn.close()

    first, third, refused, count = await in_thread(work)
    assert (first, third) == ([("item 1",)], [("item 3",)])
    assert refused == 1142
    assert count == [(4,)]
    records = await audit_records(my_gateway, lambda rs: any(r.decision == "deny" for r in rs))
    denied = next(r for r in records if r.decision == "deny")
    assert denied.sql == "DELETE FROM items WHERE id > ? OR 1"


async def test_the_mariadb_cli_runs_holds_and_leaving_during_a_hold_abandons_it(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    cli = shutil.which("mariadb") or shutil.which("mysql")
    if cli is None:
        pytest.fail("the mariadb client is not installed (Debian package mariadb-client)")
    base = [cli, "-h", "127.0.0.1", "-P", str(my_port.port), "-u", "anyone", backend.database]
    listed = await trio.run_process(
        [*base, "-e", "SELECT name FROM items ORDER BY id; SHOW TABLES"],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr.decode()
    assert listed.stdout.decode().split() == [
        "name", "item", "1", "item", "2", "item", "3", f"Tables_in_{backend.database}", "items",
        "victim",
    ]  # fmt: skip
    async with trio.open_nursery() as nursery:
        process = await nursery.start(
            lambda task_status: trio.run_process(
                [*base, "-e", "DROP TABLE victim"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
                task_status=task_status,
            )
        )
        request = await held_request(my_gateway)
        process.kill()
    with trio.fail_after(10):
        while my_gateway.services.store.get_request(request.id).status == "pending":
            await trio.sleep(0.05)
    assert my_gateway.services.store.get_request(request.id).status == "abandoned"
    assert "victim" in tables(backend)


async def test_another_database_than_the_connections_is_refused(
    my_port: ConnectedPort, backend: Backend
) -> None:
    def work() -> Any:
        with pytest.raises(pymysql.MySQLError) as refused:
            pymysql.connect(host="127.0.0.1", port=my_port.port, user="x", database="mysql")
        return refused.value.args

    code, message = await in_thread(work)
    assert code == 1044
    assert f"is for database '{backend.database}', not 'mysql'" in message


@pytest.mark.parametrize("plugin", ["ed25519"])
async def test_the_gateway_logs_in_with_mariadbs_ed25519(
    my_port: ConnectedPort, backend: Backend
) -> None:
    def work() -> Any:
        with connect(my_port, backend) as conn:
            return run(conn, "SELECT CURRENT_USER()")

    assert backend.admin(f"SELECT plugin FROM mysql.user WHERE user = '{backend.user}'") == [
        ("ed25519",)
    ]
    assert await in_thread(work) == [(f"{backend.user}@%",)]


async def test_the_session_lexing_state_follows_set_statements(
    my_gateway: Gateway, my_alice: Agent, my_port: ConnectedPort, backend: Backend
) -> None:
    def engine_lex() -> Any:
        (session,) = list(my_gateway.services.live)
        return session.engine.lex

    conn = await in_thread(connect, my_port, backend)
    try:
        await in_thread(run, conn, "SET NAMES utf8mb4")
        lex = engine_lex()
        assert (lex.client_encoding, "ANSI_QUOTES" in (lex.sql_mode or "")) == ("utf8mb4", False)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(in_thread, run, conn, "SET sql_mode = 'ANSI_QUOTES'")
            request = await held_request(my_gateway)
            assert request.risk == "admin"
            approved = await my_alice.run(
                "approve", request.id, "--code", my_gateway.fresh_code("alice")
            )
            assert approved.returncode == 0, approved.stderr.decode()
        with trio.fail_after(5):
            while engine_lex().sql_mode != "ANSI_QUOTES":
                await trio.sleep(0.02)
        # Under ANSI_QUOTES "name" is a column, not a string: read as the server reads it.
        assert await in_thread(run, conn, 'SELECT "name" FROM items WHERE id = 1') == [("item 1",)]
    finally:
        conn.close()


async def test_interactive_mariadb_cli_ctrl_c_ends_a_hold_and_the_session_goes_on(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    """The mariadb CLI as a person runs it: table-name completion (COM_FIELD_LIST) at start,
    and Ctrl-C, which sends KILL QUERY with the connection id over a second connection."""
    cli = shutil.which("mariadb") or shutil.which("mysql")
    if cli is None:
        pytest.fail("the mariadb client is not installed (Debian package mariadb-client)")

    def session() -> str:
        mariadb = pexpect.spawn(
            cli,
            ["-h", "127.0.0.1", "-P", str(my_port.port), "-u", "anyone", backend.database],
            encoding="utf-8",
            timeout=20,
            env={**os.environ, "TERM": "dumb", "PAGER": "cat"},
        )
        prompt = rf"MariaDB \[{backend.database}\]> "
        mariadb.expect(prompt)
        mariadb.sendline("SELECT count(*) AS n FROM items;")
        mariadb.expect(r"\| +3 \|")
        mariadb.expect(prompt)
        mariadb.sendline("DROP TABLE victim;")
        request = trio.from_thread.run(held_request, my_gateway)
        mariadb.sendintr()
        mariadb.expect(r"ERROR 1317 \(70100\): Query execution was interrupted")
        mariadb.expect(prompt)
        mariadb.sendline("SELECT 'after' AS x;")
        mariadb.expect(r"\| after \|")
        mariadb.sendline("quit")
        mariadb.expect(pexpect.EOF)
        return str(request.id)

    request_id = await trio.to_thread.run_sync(session)
    assert my_gateway.services.store.get_request(request_id).status == "cancelled"
    assert "victim" in tables(backend)


HELD_SESSIONS = 8  # all on the killer's worker by chance: 2 ** -8


async def test_with_two_workers_kill_query_reaches_a_hold_in_either_worker(
    tmp_path: Path, pg_server: PgServer, database: str, backend: Backend
) -> None:
    """`--workers 2`: held sessions land on both workers; one connection KILLs each by the id
    it was given, and the kernel put that connection on one worker only."""
    for i in range(HELD_SESSIONS):
        backend.admin(f"CREATE TABLE victim_{i} (id INT)", backend.database)
    config = write_gateway_config(
        tmp_path, pg_server, database, mysql_connection(tmp_path, backend)
    )
    totp = pyotp.TOTP(await add_user(config, "alice", "dev"))
    home = {"IAP_HOME": str(tmp_path / "home")}
    local = free_port()
    async with gateway_process(config, "--workers", "2"), trio.open_nursery() as nursery:
        login = await iap(
            "login", "--gateway", api_url(config), "--user", "alice", "--password-stdin",
            "--code", totp.now(), "--ca", str(ca_file(config)),
            stdin=b"correct horse battery\n", env=home,
        )  # fmt: skip
        assert login.returncode == 0, login.stderr.decode()
        agent = await nursery.start(
            partial(
                trio.run_process,
                [*IAP, "connect", "my-main", "--port", str(local)],
                env={**os.environ, **home},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        )
        port = ConnectedPort(local, "", bytearray())
        with trio.fail_after(20):
            while True:
                try:
                    await in_thread(lambda: connect(port, backend).close())
                    break
                except pymysql.MySQLError:
                    await trio.sleep(0.2)
        conns = [await in_thread(connect, port, backend) for _ in range(HELD_SESSIONS)]
        errors: dict[int, int] = {}

        async def hold(i: int) -> None:
            def drop() -> None:
                try:
                    run(conns[i], f"DROP TABLE victim_{i}")
                except pymysql.MySQLError as e:
                    errors[i] = e.args[0]

            await in_thread(drop)

        async with trio.open_nursery() as holds:
            for i in range(HELD_SESSIONS):
                holds.start_soon(hold, i)
            with trio.fail_after(60):
                while len(pending := await _pending(home)) < HELD_SESSIONS:
                    await trio.sleep(0.2)
            killer = await in_thread(connect, port, backend)
            with trio.fail_after(60):  # a KILL the gateway did not recognise would be held
                for conn in conns:
                    await in_thread(run, killer, f"KILL QUERY {conn.thread_id()}")
        after = [await in_thread(run, c, "SELECT 41 + 1") for c in conns]
        for c in [*conns, killer]:
            c.close()
        agent.terminate()
    assert errors == dict.fromkeys(range(HELD_SESSIONS), 1317)
    assert after == [[(42,)]] * HELD_SESSIONS
    assert len(pending) == HELD_SESSIONS
    assert len(tables(backend)) == 2 + HELD_SESSIONS  # nothing was dropped


async def _pending(home: dict[str, str]) -> list[dict[str, Any]]:
    listing = await iap("requests", "--json", env=home)
    return [r for r in json.loads(listing.stdout or b"[]") if r["status"] == "pending"]
