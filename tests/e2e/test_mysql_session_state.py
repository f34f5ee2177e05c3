"""MySQL/MariaDB session state the server decides, through the gateway: prepared statement
names and ids, the lexing state (sql_mode, character set), stored programs, and restoring a
mariadb-dump file. Real MariaDB, pymysql, mysql-connector-python, the mariadb CLI and a raw
protocol client (for commands pipelined in one write, which no driver sends).

Each differential case does what, under a gateway that followed the client's requests rather
than the server's answers, runs a DELETE the policy refuses: it asserts the rows are still
there, what the gateway believes, what the audit says, and that the session goes on.
"""

from __future__ import annotations

import secrets
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import mysql.connector
import pymysql
import pytest
import trio

from protocols.mysql.messages import (
    Capability,
    Command,
    HandshakeResponse,
    HandshakeV10,
    command_packet,
)
from protocols.mysql.packets import Packet, PacketReader, encode_packet
from protocols.mysql.responses import Expect, Outcome, ResponseTracker
from tests.conftest import MariaDBServer
from tests.e2e import test_mysql
from tests.e2e.test_mysql import Backend, connect, in_thread, run
from tests.helpers import ConnectedPort, Gateway, audit_records

pytestmark = pytest.mark.e2e

# test_mysql.py's fixtures: a backend database and user, the gateway, alice's agent and port
plugin, rules, backend = test_mysql.plugin, test_mysql.rules, test_mysql.backend
my_gateway, my_alice, my_port = test_mysql.my_gateway, test_mysql.my_alice, test_mysql.my_port

DENY_RISKY = """
[[rules]]
risks = ["destructive", "admin", "unknown"]
action = "deny"
"""
REFUSED = 1142  # the gateway's refusal
LAST_PREPARED = 0xFFFFFFFF


# -- a raw client ------------------------------------------------------------------------------


class RawClient:
    """A MySQL client over protocols.mysql: commands go out as given (several in one write
    when asked), answers are read with a ResponseTracker."""

    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self.reader = PacketReader()
        self.tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof=False)

    @classmethod
    async def connect(cls, port: int, database: str) -> RawClient:
        client = cls(await trio.open_tcp_stream("127.0.0.1", port))
        server = HandshakeV10.decode((await client.packet()).payload)
        wanted = (
            Capability.PROTOCOL_41
            | Capability.SECURE_CONNECTION
            | Capability.PLUGIN_AUTH
            | Capability.CONNECT_WITH_DB
            | Capability.MULTI_STATEMENTS
            | Capability.MULTI_RESULTS
            | Capability.LONG_PASSWORD
            | Capability.TRANSACTIONS
        )
        response = HandshakeResponse(
            capabilities=server.capabilities & wanted,
            max_packet=1 << 24,
            charset=45,  # utf8mb4_general_ci
            user="anyone",
            database=database,
            auth_plugin="mysql_native_password",
        )
        await client.stream.send_all(encode_packet(1, response.encode()))
        ok = await client.packet()
        assert ok.payload[:1] == b"\x00", ok.payload
        return client

    async def packet(self) -> Packet:
        while True:
            packet = self.reader.next_packet()
            if packet is not None:
                return packet
            data = await self.stream.receive_some(65536)
            if not data:
                raise EOFError("the gateway closed the connection")
            self.reader.receive_data(data)

    async def send(self, *commands: tuple[Command, bytes]) -> None:
        """Commands in one write (each answered in order; read them with answers())."""
        wire = b"".join(encode_packet(0, command_packet(c, body)) for c, body in commands)
        for command, _ in commands:
            if command is not Command.QUIT:
                expect = Expect.PREPARE if command is Command.STMT_PREPARE else Expect.RESULT
                self.tracker.expect(expect, command.name)
        await self.stream.send_all(wire)

    async def answers(self, count: int) -> list[Outcome[str]]:
        ended: list[Outcome[str]] = []
        while len(ended) < count:
            ended += self.tracker.feed((await self.packet()).payload)
        return ended

    async def query(self, sql: bytes | str) -> Outcome[str]:
        await self.send(query(sql))
        (outcome,) = await self.answers(1)
        return outcome

    async def aclose(self) -> None:
        await self.stream.aclose()


def query(sql: bytes | str) -> tuple[Command, bytes]:
    return Command.QUERY, sql.encode() if isinstance(sql, str) else sql


def execute(statement_id: int) -> tuple[Command, bytes]:
    """COM_STMT_EXECUTE without parameters (no cursor, one iteration)."""
    return Command.STMT_EXECUTE, struct.pack("<IBI", statement_id, 0, 1)


def error_code(outcome: Outcome[str]) -> int | None:
    return outcome.error.code if outcome.error is not None else None


# -- helpers -----------------------------------------------------------------------------------


def items(backend: Backend) -> int:
    return int(backend.admin("SELECT count(*) FROM items", backend.database)[0][0])


def engine(gateway: Gateway) -> Any:
    (session,) = list(gateway.services.live)
    return session.engine


def multi(port: ConnectedPort, backend: Backend) -> Any:
    return connect(port, backend, client_flag=pymysql.constants.CLIENT.MULTI_STATEMENTS)


def attempt(conn: Any, sql: str | bytes) -> int | None:
    """Run sql (every result of it); the error code, or None."""
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            while cur.nextset():
                pass
    except pymysql.MySQLError as e:
        return int(e.args[0])
    return None


# -- SQL prepared statement names --------------------------------------------------------------


@pytest.mark.parametrize("rules", [DENY_RISKY])
@pytest.mark.parametrize(
    "replace",
    [
        "SELECT * FROM no_such_table; PREPARE s FROM 'SELECT 1'",
        "SELECT * FROM no_such_table; DEALLOCATE PREPARE s; PREPARE s FROM 'SELECT 1'",
        "DO 1; SELECT * FROM no_such_table; PREPARE s FROM 'SELECT 1'",
    ],
)
async def test_a_prepare_the_server_never_ran_leaves_the_name_as_the_server_has_it(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend, replace: str
) -> None:
    """A multi-statement text stops at its first error: the PREPARE after it never ran, so
    s is still the DELETE on the server, and EXECUTE s is a DELETE to the policy too."""

    def work() -> list[Any]:
        with multi(my_port, backend) as conn:
            out: list[Any] = [attempt(conn, "PREPARE s FROM 'DELETE FROM items'")]
            out.append(attempt(conn, replace))
            out.append(attempt(conn, "EXECUTE s"))
            out.append(run(conn, "SELECT count(*) FROM items"))
            out.append(dict(engine(my_gateway).names.risks))
            return out

    prepared, failed, executed, count, believed = await in_thread(work)
    assert (prepared, failed) == (None, 1146)
    assert (executed, count) == (REFUSED, [(3,)])
    assert believed == {"s": "destructive"}
    assert items(backend) == 3
    records = await audit_records(my_gateway, lambda rs: any(r.sql == "EXECUTE s" for r in rs))
    (refused,) = [r for r in records if r.sql == "EXECUTE s"]
    assert (refused.risk, refused.decision) == ("destructive", "deny")
    assert next(r for r in records if r.sql == replace).outcome == "error"


@pytest.mark.parametrize("rules", [DENY_RISKY])
async def test_a_failed_prepare_drops_the_old_statement_as_the_server_does(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    def work() -> list[Any]:
        with multi(my_port, backend) as conn:
            out: list[Any] = [attempt(conn, "PREPARE s FROM 'SELECT 1'")]
            out.append(attempt(conn, "PREPARE s FROM 'SELECT * FROM no_such_table'"))
            out.append(attempt(conn, "EXECUTE s"))  # unknown to both: refused by iap
            out.append(attempt(conn, "PREPARE t FROM 'SELECT 2'; DEALLOCATE PREPARE t"))
            out.append(attempt(conn, "PREPARE u FROM 'SELECT 3'"))
            out.append(dict(engine(my_gateway).names.risks))
            return out

    first, failed, executed, dropped, kept, believed = await in_thread(work)
    assert (first, failed) == (None, 1146)
    assert executed == REFUSED  # not the server's 1243: the gateway knew s was gone
    assert (dropped, kept, believed) == (None, None, {"u": "read"})
    assert items(backend) == 3


@pytest.mark.parametrize("rules", [DENY_RISKY])
async def test_binary_prepared_statements_follow_the_servers_answers(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    """COM_STMT_PREPARE ids and MariaDB's "last prepared" (-1) are mapped from the server's
    OK only: a refused prepare leaves no last statement (the server's -1 fails too)."""
    client = await RawClient.connect(my_port.port, backend.database)
    try:
        await client.send((Command.STMT_PREPARE, b"DELETE FROM items"))
        (deleting,) = await client.answers(1)
        assert deleting.prepared is not None
        await client.send(
            (Command.STMT_PREPARE, b"SELECT * FROM no_such_table"), execute(LAST_PREPARED)
        )
        refused_prepare, last = await client.answers(2)
        assert (error_code(refused_prepare), error_code(last)) == (1146, REFUSED)
        assert last.error is not None and "not known to iap" in last.error.message
        # pipelined: the execute of -1 waits for the prepare's answer, then is decided by it
        await client.send(
            (Command.STMT_PREPARE, b"DELETE FROM items WHERE 1"), execute(LAST_PREPARED)
        )
        prepared, pipelined = await client.answers(2)
        assert prepared.prepared is not None and error_code(pipelined) == REFUSED
        await client.send((Command.STMT_PREPARE, b"SELECT count(*) FROM items"))
        (counting,) = await client.answers(1)
        assert counting.prepared is not None
        await client.send(execute(LAST_PREPARED), execute(deleting.prepared.statement_id))
        count, refused = await client.answers(2)
        assert (count.rows, error_code(count), error_code(refused)) == (1, None, REFUSED)
    finally:
        await client.aclose()
    assert items(backend) == 3


# -- the lexing state --------------------------------------------------------------------------

PIPES_DELETE = "DELETE FROM items WHERE id = 0 || 1"  # concatenation: id = '01'; OR: every row


@pytest.mark.parametrize("rules", [DENY_RISKY])
async def test_execute_of_a_prepared_set_rereads_the_lexing_state(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    """Under PIPES_AS_CONCAT the DELETE is bounded; EXECUTE of a prepared SET sql_mode = ''
    turns || back into OR on the server, so the same DELETE empties the table."""

    def work() -> list[Any]:
        with multi(my_port, backend) as conn:
            out: list[Any] = [attempt(conn, "SET sql_mode = 'PIPES_AS_CONCAT'")]
            out.append(attempt(conn, "PREPARE s FROM 'SET sql_mode = '''''"))
            out.append(attempt(conn, "EXECUTE s"))
            out.append(attempt(conn, PIPES_DELETE))  # classified once the new mode is read
            out.append(engine(my_gateway).lex.sql_mode)
            out.append(
                attempt(conn, f"SET sql_mode = 'PIPES_AS_CONCAT'; EXECUTE s; {PIPES_DELETE}")
            )
            return out

    set_pipes, prepared, executed, alone, mode, together = await in_thread(work)
    assert (set_pipes, prepared, executed) == (None, None, None)
    assert (alone, mode, together) == (REFUSED, "", REFUSED)
    assert items(backend) == 3


@pytest.mark.parametrize("rules", [DENY_RISKY])
async def test_statements_pipelined_behind_a_lexing_change_wait_for_the_new_state(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    client = await RawClient.connect(my_port.port, backend.database)
    try:
        setup = [
            query("SET sql_mode = 'PIPES_AS_CONCAT'"),
            query("PREPARE s FROM 'SET sql_mode = '''''"),
        ]
        await client.send(*setup, query("EXECUTE s"), query(PIPES_DELETE))
        outcomes = await client.answers(4)
        assert [error_code(o) for o in outcomes] == [None, None, None, REFUSED]
        # a binary-protocol SET: COM_STMT_EXECUTE of it is a lexing change too
        await client.send(
            query("SET sql_mode = 'PIPES_AS_CONCAT'"), (Command.STMT_PREPARE, b"SET sql_mode = ''")
        )
        _, prepared = await client.answers(2)
        assert prepared.prepared is not None
        await client.send(execute(prepared.prepared.statement_id), query(PIPES_DELETE))
        executed, deleted = await client.answers(2)
        assert (error_code(executed), error_code(deleted)) == (None, REFUSED)
        assert (await client.query("SELECT @@sql_mode")).rows == 1  # the session goes on
    finally:
        await client.aclose()
    assert items(backend) == 3


@pytest.mark.parametrize("rules", [DENY_RISKY])
async def test_com_stmt_execute_of_a_set_rereads_the_lexing_state_with_mysql_connector(
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
            plain = conn.cursor()
            plain.execute("SET sql_mode = 'PIPES_AS_CONCAT'")
            conn.cursor(prepared=True).execute("SET sql_mode = ''")
            try:
                plain.execute(PIPES_DELETE)
            except mysql.connector.Error as e:
                return [e.errno, engine(my_gateway).lex.sql_mode]
            return [None, engine(my_gateway).lex.sql_mode]
        finally:
            conn.close()

    assert await in_thread(work) == [REFUSED, ""]
    assert items(backend) == 3


GBK_TRICK = (
    b"SELECT '\xbf\x5c'; DELETE FROM items; -- '"  # one string in UTF-8, two statements in GBK
)


@pytest.mark.parametrize("rules", [DENY_RISKY])
async def test_a_charset_restored_from_a_variable_is_read_back_before_the_next_statement(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    """SET character_set_client = @saved (mariadb-dump's restore) is a read: the gateway
    reads the character set back before it classifies the next statement, so a GBK byte
    pair hiding a quote is not read as UTF-8 (on the server it runs the DELETE)."""

    def work() -> list[Any]:
        with multi(my_port, backend) as conn:
            out: list[Any] = [attempt(conn, "SET @saved = 'gbk'")]
            out.append(attempt(conn, "SET character_set_client = @saved"))
            out.append(attempt(conn, GBK_TRICK))  # classified once the charset is read
            out.append(engine(my_gateway).lex.client_encoding)
            out.append(attempt(conn, "SET NAMES utf8mb4"))
            out.append(attempt(conn, b"SET character_set_client = @saved; " + GBK_TRICK))
            out.append(attempt(conn, "SET NAMES utf8mb4"))
            out.append(run(conn, "SELECT count(*) FROM items"))
            return out

    saved, restored, alone, charset, names, together, again, count = await in_thread(work)
    assert (saved, restored, alone, charset) == (None, None, REFUSED, "gbk")
    assert (names, together, again) == (None, REFUSED, None)
    assert count == [(3,)]
    records = await audit_records(my_gateway, lambda rs: sum(r.decision == "deny" for r in rs) == 2)
    restore = next(r for r in records if r.sql == "SET character_set_client = @saved")
    assert (restore.risk, restore.decision) == ("read", "allow")
    refused = [r for r in records if r.decision == "deny"]
    assert [r.risk for r in refused] == ["unknown", "unknown"]


@pytest.mark.parametrize("rules", [DENY_RISKY])
async def test_a_charset_change_pipelined_before_a_statement_is_read_back_first(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    client = await RawClient.connect(my_port.port, backend.database)
    try:
        await client.send(
            query("SET @saved = 'gbk'"),
            query("SET character_set_client = @saved"),
            query(GBK_TRICK),
        )
        outcomes = await client.answers(3)
        assert [error_code(o) for o in outcomes] == [None, None, REFUSED]
    finally:
        await client.aclose()
    assert items(backend) == 3


# -- stored programs ---------------------------------------------------------------------------

ALLOW_DDL = """
[[rules]]
risks = ["ddl"]
action = "allow"
"""


@pytest.mark.parametrize("rules", [DENY_RISKY + ALLOW_DDL])
async def test_a_procedure_planting_a_delete_takes_the_class_of_its_body(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    def work() -> list[Any]:
        with connect(my_port, backend) as conn:
            return [
                attempt(conn, "CREATE PROCEDURE p_wipe() DELETE FROM items"),
                attempt(
                    conn,
                    "CREATE FUNCTION f_wipe() RETURNS INT BEGIN DELETE FROM items; RETURN 1; END",
                ),
                attempt(conn, "CREATE PROCEDURE p_one(IN x INT) DELETE FROM items WHERE id = x"),
                attempt(conn, "CALL p_one(1)"),
            ]

    assert await in_thread(work) == [REFUSED, REFUSED, None, REFUSED]
    routines = backend.admin(
        "SELECT routine_name FROM information_schema.routines WHERE routine_schema = DATABASE()",
        backend.database,
    )
    assert routines == [("p_one",)]
    assert items(backend) == 3


# -- restoring a mariadb-dump file -------------------------------------------------------------

ALLOW_DDL_DENY_ADMIN = """
[[rules]]
risks = ["ddl", "destructive"]
action = "allow"

[[rules]]
risks = ["admin", "unknown"]
action = "deny"
"""


@pytest.fixture
def dumped(mariadb_server: MariaDBServer, tmp_path: Path) -> Any:
    """A small schema of its own database, and the file mariadb-dump wrote of it."""
    dumper = shutil.which("mariadb-dump") or shutil.which("mysqldump")
    if dumper is None:
        pytest.fail("mariadb-dump is not installed (Debian package mariadb-client)")
    source = f"iap_dump_{secrets.token_hex(4)}"
    conn = mariadb_server.connect(charset="utf8mb4")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {source}")
            cur.execute(f"USE {source}")
            cur.execute(
                "CREATE TABLE parent (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(50) NOT"
                " NULL, UNIQUE KEY (name)) DEFAULT CHARSET=utf8mb4"
            )
            cur.execute(
                "CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, note TEXT, KEY"
                " (parent_id), FOREIGN KEY (parent_id) REFERENCES parent (id))"
                " DEFAULT CHARSET=utf8mb4"
            )
            cur.execute(
                "INSERT INTO parent (name) VALUES ('a'), ('it''s'), ('back\\\\slash'),"
                " ('é ü 中'), ('\"double\"')"
            )
            cur.execute(
                "INSERT INTO child VALUES (1, 1, 'x || y'), (2, 2, 'a\\'; DROP TABLE parent; -- '),"
                " (3, NULL, NULL)"
            )
        path = tmp_path / "dump.sql"
        with path.open("wb") as out:
            subprocess.run(
                [dumper, "-h", mariadb_server.host, "-P", str(mariadb_server.port), "-u",
                 mariadb_server.user, source],
                stdout=out,
                check=True,
            )  # fmt: skip
        yield source, path
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {source}")
        conn.close()


def _rows(server: MariaDBServer, database: str, table: str) -> list[tuple[Any, ...]]:
    conn = server.connect(database, charset="utf8mb4")
    try:
        with conn.cursor() as cur:
            cur.execute(f"SELECT * FROM {table} ORDER BY id")
            return list(cur.fetchall())
    finally:
        conn.close()


@pytest.mark.parametrize("rules", [ALLOW_DDL_DENY_ADMIN])
async def test_a_mariadb_dump_restores_through_the_cli_with_nothing_above_ddl(
    my_gateway: Gateway,
    my_port: ConnectedPort,
    backend: Backend,
    mariadb_server: MariaDBServer,
    dumped: Any,
) -> None:
    """Every statement of a real dump file is at most write or ddl, except DROP TABLE IF
    EXISTS (destructive, allowed here): the restore needs no admin approval. Admin and
    unknown are denied here, so one would stop the restore."""
    source, path = dumped
    cli = shutil.which("mariadb") or shutil.which("mysql")
    assert cli is not None, "the mariadb client is not installed (Debian package mariadb-client)"
    text = path.read_bytes()
    assert b"SET character_set_client = @saved_cs_client" in text  # the file is the real thing
    with trio.fail_after(120):
        restored = await trio.run_process(
            [cli, "-h", "127.0.0.1", "-P", str(my_port.port), "-u", "anyone", backend.database],
            stdin=text,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    assert restored.returncode == 0, restored.stderr.decode()
    for table in ("parent", "child"):
        assert _rows(mariadb_server, backend.database, table) == _rows(
            mariadb_server, source, table
        )
    assert my_gateway.services.store.list_requests() == []
    records = await audit_records(
        my_gateway, lambda rs: any("SQL_NOTES=@OLD_SQL_NOTES" in r.sql for r in rs)
    )
    ran = [r for r in records if r.user == "alice" and r.sql]
    assert ran and all(r.decision == "allow" and r.outcome == "ok" for r in ran), [
        (r.sql, r.decision, r.outcome, r.error) for r in ran if r.outcome != "ok"
    ]
    for r in ran:
        if r.sql.startswith("DROP TABLE IF EXISTS"):
            assert r.risk == "destructive", r.sql
        elif r.sql.startswith("CREATE TABLE"):
            assert r.risk == "ddl", r.sql
        else:
            assert r.risk in ("read", "write", "ddl"), (r.sql, r.risk)
    by_sql = {r.sql: r.risk for r in ran}
    assert by_sql["/*!40101 SET character_set_client = @saved_cs_client */"] == "read"
    assert by_sql["/*!40101 SET SQL_MODE=@OLD_SQL_MODE */"] == "read"
    assert by_sql["/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */"] == "write"
    assert by_sql["LOCK TABLES `parent` WRITE"] == "write"
    assert by_sql["/*!40000 ALTER TABLE `parent` DISABLE KEYS */"] == "ddl"
