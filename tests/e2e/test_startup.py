"""Startup parameters and protocol corners through `iap connect` and the gateway.

Real clients: psql and pgbench as subprocesses, asyncpg and psycopg in worker threads, and a
raw socket speaking the wire protocol where a driver would never send what we want to test.
"""

from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import psycopg
import pytest
import trio

from protocols.postgres import messages as pgm
from tests.helpers import (
    Agent,
    ConnectedPort,
    Gateway,
    PgServer,
    StreamReader,
    open_psql,
    running_gateway,
    write_config,
)

# -- clients ---------------------------------------------------------------------------------


async def in_thread(fn: Any, *args: Any) -> Any:
    with trio.fail_after(60):
        return await trio.to_thread.run_sync(fn, *args)


async def psql(
    port: ConnectedPort,
    database: str,
    *commands: str,
    stdin: bytes = b"",
    env: Mapping[str, str] | None = None,
    conninfo: str | None = None,
) -> tuple[int, str, str]:
    target = ["-h", "127.0.0.1", "-p", str(port.port), "-U", "anyone", "-d", database]
    if conninfo is not None:
        target = [conninfo]
    args = ["psql", "-X", "-w", "-At", "-v", "ON_ERROR_STOP=1", *target]
    for command in commands:
        args += ["-c", command]
    with trio.fail_after(60):
        result = await trio.run_process(
            args,
            stdin=stdin,
            capture_stdout=True,
            capture_stderr=True,
            check=False,
            env={**os.environ, "PGCONNECT_TIMEOUT": "10", **(env or {})},
        )
    return result.returncode, result.stdout.decode(), result.stderr.decode()


async def asyncpg_connect_error(
    port: ConnectedPort, database: str, server_settings: dict[str, str]
) -> BaseException | None:
    """The exception asyncpg raises connecting with these startup parameters (None: none)."""

    async def work() -> BaseException | None:
        try:
            conn = await asyncpg.connect(
                host="127.0.0.1",
                port=port.port,
                user="x",
                database=database,
                ssl=False,
                timeout=20,
                server_settings=server_settings,
            )
        except Exception as e:  # returned to the test, which checks what it is
            return e
        await conn.close()
        return None

    result: BaseException | None = await in_thread(asyncio.run, work())
    return result


class RawClient:
    """The wire protocol by hand: frames out, decoded backend messages in."""

    def __init__(self, stream: trio.SocketStream) -> None:
        self.stream = stream
        self.buf = bytearray()
        self.eof = False

    @classmethod
    async def open(cls, port: ConnectedPort) -> RawClient:
        return cls(await trio.open_tcp_stream("127.0.0.1", port.port))

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def receive(self, timeout: float = 20.0) -> pgm.BackendMessage | None:
        """The next backend message, or None when the server closed the connection."""
        with trio.fail_after(timeout):
            while True:
                if len(self.buf) >= 5:
                    (length,) = struct.unpack_from("!i", self.buf, 1)
                    if len(self.buf) >= 1 + length:
                        type_code = self.buf[0]
                        payload = bytes(self.buf[5 : 1 + length])
                        del self.buf[: 1 + length]
                        return pgm.decode_backend(type_code, payload)
                if self.eof:
                    assert not self.buf, f"connection closed inside a frame: {bytes(self.buf)!r}"
                    return None
                data = await self.stream.receive_some(65536)
                if not data:
                    self.eof = True
                self.buf += data

    async def until(self, *kinds: type) -> list[pgm.BackendMessage]:
        """Messages up to and including one of `kinds`, or up to the end of the connection."""
        seen: list[pgm.BackendMessage] = []
        while True:
            msg = await self.receive()
            if msg is None:
                return seen
            seen.append(msg)
            if isinstance(msg, kinds):
                return seen

    async def startup(self, params: Mapping[str, str]) -> list[pgm.BackendMessage]:
        await self.send(pgm.StartupMessage.make(dict(params)).encode())
        return await self.until(pgm.ReadyForQuery, pgm.ErrorResponse)


def errors(messages: list[pgm.BackendMessage]) -> list[pgm.ErrorResponse]:
    return [m for m in messages if isinstance(m, pgm.ErrorResponse)]


# -- replication -----------------------------------------------------------------------------


async def test_replication_connection_is_refused_with_42501(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    def libpq() -> str:
        try:
            psycopg.connect(port.dsn(database) + " replication=database", connect_timeout=10)
        except psycopg.OperationalError as e:
            return str(e)
        return "connected"

    message = await in_thread(libpq)
    assert "FATAL:  replication connections are not allowed through iap" in message

    raw = await RawClient.open(port)
    async with raw.stream:
        reply = await raw.startup({"user": "x", "database": database, "replication": "database"})
        [error] = errors(reply)
        assert (error.severity, error.code) == ("FATAL", "42501")
        assert not any(isinstance(m, pgm.AuthenticationOk) for m in reply)
        assert await raw.receive() is None  # and the connection is closed

    # replication=off is no replication: it passes.
    code, out, err = await psql(
        port,
        database,
        "SELECT current_database()",
        conninfo=f"host=127.0.0.1 port={port.port} user=x dbname={database} replication=off",
    )
    assert code == 0, err
    assert out.strip() == database


# -- options and other startup settings --------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ("-c role=postgres", "role"),
        ("-c session_authorization=postgres", "session_authorization"),
        ("--role=postgres", "role"),
        ("-c statement_timeout=5s -c role=postgres", "role"),
    ],
)
async def test_identity_changing_options_are_refused_naming_the_parameter(
    gateway: Gateway, port: ConnectedPort, database: str, options: str, setting: str
) -> None:
    code, out, err = await psql(port, database, "SELECT 1", env={"PGOPTIONS": options})
    assert code == 2, out + err
    assert f"FATAL:  startup parameter {setting}='postgres' is not allowed" in err

    error = await asyncpg_connect_error(port, database, {"options": options})
    assert isinstance(error, asyncpg.InsufficientPrivilegeError), repr(error)
    assert error.sqlstate == "42501"
    assert setting in str(error)


# An escaped backslash ends the word: the server reads a second -c, which sets the role.
ESCAPED_BACKSLASH_ROLE = "-c application_name=x\\\\ -crole=pg_monitor"


async def test_options_split_as_the_server_splits_them_cannot_hide_a_role(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    def direct() -> list[Any]:
        with psycopg.connect(pg_server.dsn(database), options=ESCAPED_BACKSLASH_ROLE) as conn:
            row = conn.execute("SELECT current_user, current_setting('application_name')")
            return list(row.fetchone() or ())

    # Straight to the server, these options change the role: that is what must not pass.
    assert await in_thread(direct) == ["pg_monitor", "x\\"]

    code, out, err = await psql(
        port, database, "SELECT current_user", env={"PGOPTIONS": ESCAPED_BACKSLASH_ROLE}
    )
    assert code == 2, out + err
    assert "FATAL:  startup parameter role='pg_monitor' is not allowed" in err

    def through_psycopg() -> str:
        try:
            with psycopg.connect(
                port.dsn(database), options=ESCAPED_BACKSLASH_ROLE, connect_timeout=10
            ) as conn:
                row = conn.execute("SELECT current_user").fetchone()
                return f"connected as {row}"
        except psycopg.OperationalError as e:
            return str(e)

    assert "startup parameter role='pg_monitor' is not allowed" in await in_thread(through_psycopg)

    error = await asyncpg_connect_error(port, database, {"options": ESCAPED_BACKSLASH_ROLE})
    assert isinstance(error, asyncpg.InsufficientPrivilegeError), repr(error)
    assert "role='pg_monitor'" in str(error)
    assert gateway.services.store.list_requests() == []
    assert not len(gateway.services.live)


@pytest.mark.parametrize(
    ("options", "shown"),
    [
        ("-c application_name=a\\ b", "a b"),  # an escaped space stays in the value
        ("-c\tapplication_name=tab --statement-timeout=7s", "tab"),
        ("-capplication_name=x\\\\ --", "x\\"),  # an escaped backslash, then a lone --
    ],
)
async def test_harmless_options_reach_the_backend_as_the_server_reads_them(
    gateway: Gateway, port: ConnectedPort, database: str, options: str, shown: str
) -> None:
    def work() -> str:  # (psql would send application_name itself, which overrides options)
        with psycopg.connect(port.dsn(database), options=options, connect_timeout=10) as conn:
            row = conn.execute("SHOW application_name").fetchone()
            return str(row[0]) if row else ""

    assert await in_thread(work) == shown


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("-c application_name=x extra", "invalid command-line argument for server process: extra"),
        ("-c application_name", "-c application_name requires a value"),
        ("-c application_name=caf\u00e9", "not allowed through iap"),
    ],
)
async def test_options_the_server_or_iap_cannot_read_are_refused(
    gateway: Gateway, port: ConnectedPort, database: str, options: str, expected: str
) -> None:
    error = await asyncpg_connect_error(port, database, {"options": options})
    assert error is not None and expected in str(error), repr(error)


@pytest.mark.parametrize("setting", ["role", "session_authorization"])
async def test_identity_changing_parameter_outside_options_is_refused(
    gateway: Gateway, port: ConnectedPort, database: str, setting: str
) -> None:
    error = await asyncpg_connect_error(port, database, {setting: "postgres"})
    assert isinstance(error, asyncpg.InsufficientPrivilegeError), repr(error)
    assert f"startup parameter {setting}='postgres'" in str(error)


async def test_statement_timeout_option_passes_and_is_in_effect(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    code, out, err = await psql(
        port,
        database,
        "SHOW statement_timeout",
        "SELECT current_user",
        env={"PGOPTIONS": "-c statement_timeout=5s"},
    )
    assert code == 0, err
    assert out.split() == ["5s", "postgres"]

    # In the conninfo too (libpq's `options`), and it really times statements out.
    def libpq() -> tuple[str, str | None]:
        dsn = port.dsn(database) + " options='-c statement_timeout=200ms'"
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            shown = conn.execute("SHOW statement_timeout").fetchone()
            assert shown is not None
            try:
                conn.execute("SELECT pg_sleep(5)")
            except psycopg.errors.QueryCanceled as e:
                return str(shown[0]), e.sqlstate
            return str(shown[0]), None

    assert await in_thread(libpq) == ("200ms", "57014")


async def test_asyncpg_server_settings_reach_the_backend(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    async def work() -> list[Any]:
        conn = await asyncpg.connect(
            host="127.0.0.1",
            port=port.port,
            user="x",
            database=database,
            ssl=False,
            timeout=20,
            server_settings={"application_name": "iap-startup-x", "search_path": "public"},
        )
        try:
            row = await conn.fetchrow(
                "SELECT current_setting('application_name') AS app,"
                " current_setting('search_path') AS path, count(*) AS n FROM items"
            )
            assert row is not None
            seen = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'iap-startup-x'"
            )
            return [row["app"], row["path"], row["n"], seen]
        finally:
            await conn.close()

    assert await in_thread(asyncio.run, work()) == ["iap-startup-x", "public", 3, 1]


async def test_another_database_than_the_connections_is_3d000(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    error = await asyncpg_connect_error(port, "postgres", {})
    assert isinstance(error, asyncpg.InvalidCatalogNameError), repr(error)
    assert error.sqlstate == "3D000"
    assert 'database "postgres" is not available through connection "pg-main"' in str(error)

    # The connection's own database, named or left to default, is served.
    code, out, err = await psql(port, database, "SELECT current_database()")
    assert (code, out.strip()) == (0, database), err


# -- COPY --------------------------------------------------------------------------------------


async def test_psql_copy_out_and_in_through_the_gateway(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    code, out, err = await psql(port, database, "\\copy items TO STDOUT")
    assert code == 0, err
    assert out.splitlines() == ["1\titem 1", "2\titem 2", "3\titem 3"]

    rows = b"".join(f"{i}\tcopied {i}\n".encode() for i in range(100, 150)) + b"\\.\n"
    code, out, err = await psql(port, database, "\\copy items FROM STDIN", stdin=rows)
    assert code == 0, err
    assert out.strip() == "COPY 50"
    assert pg_server.execute(
        "SELECT count(*), min(name), max(id) FROM items WHERE id >= 100", database
    ) == [(50, "copied 100", 149)]

    # A COPY IN that the server rejects mid-stream (duplicate key) fails, and the session
    # goes on: the next statement in the same psql runs.
    dupes = b"1\tdup\n\\.\n"
    code, out, err = await psql(
        port, database, "\\copy items FROM STDIN", "SELECT 'after'", stdin=dupes
    )
    assert code == 1, out + err
    assert "duplicate key" in err
    code, out, err = await psql(port, database, "SELECT count(*) FROM items")
    assert (code, out.strip()) == (0, "53"), err
    assert gateway.services.store.list_requests() == []


async def test_copy_from_stdin_with_psycopg_streams_many_rows(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    def work() -> list[str]:
        with psycopg.connect(port.dsn(database), autocommit=True, connect_timeout=10) as conn:
            cur = conn.cursor()
            with cur.copy("COPY items (id, name) FROM STDIN") as copy:
                for i in range(1000, 21000):
                    copy.write_row((i, "x" * 50))
            query = "COPY (SELECT id FROM items WHERE id < 5 ORDER BY id) TO STDOUT"
            with cur.copy(query) as copy:
                return [str(row[0]) for row in copy.rows()]

    assert await in_thread(work) == ["1", "2", "3"]
    assert pg_server.execute("SELECT count(*) FROM items", database) == [(20003,)]


# -- pgbench -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["prepared", "extended"])
async def test_pgbench_protocol_modes_through_the_gateway(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer, mode: str
) -> None:
    direct = ["-h", pg_server.host, "-p", str(pg_server.port), "-U", "postgres", database]
    init = await trio.run_process(
        ["pgbench", "-i", "-s", "1", "-q", *direct],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    assert init.returncode == 0, init.stderr.decode()
    through = ["-h", "127.0.0.1", "-p", str(port.port), "-U", "anyone", database]
    with trio.fail_after(60):
        run = await trio.run_process(
            ["pgbench", "-n", "-S", "-M", mode, "-T", "3", "-c", "2", *through],
            capture_stdout=True,
            capture_stderr=True,
            check=False,
        )
    out = run.stdout.decode()
    assert run.returncode == 0, run.stderr.decode() + out
    assert f"query mode: {mode}" in out
    assert "number of failed transactions: 0 " in out
    processed = int(out.split("number of transactions actually processed: ")[1].split()[0])
    assert processed > 10, out
    assert gateway.services.store.list_requests() == []


# -- garbage after startup ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b"Q" + struct.pack("!i", 2**30), id="length-2**30"),
        pytest.param(b"Q" + struct.pack("!i", 2), id="length-below-4"),
        pytest.param(b"z" + struct.pack("!i", 4), id="unknown-type"),
        pytest.param(b"B" + struct.pack("!i", 9) + b"\xff\xff\xff\xff\xff", id="bad-bind"),
    ],
)
async def test_garbage_after_startup_is_08p01_and_the_gateway_goes_on(
    gateway: Gateway, port: ConnectedPort, database: str, garbage: bytes
) -> None:
    # A session opened before the garbage, which must outlive it.
    other = await open_psql(port.port, database, ["-At"])
    assert other.stdin is not None and other.stdout is not None
    other_out = StreamReader(other.stdout)
    await other.stdin.send_all(b"SELECT 'before ' || 1;\n")
    await other_out.wait_for("before 1")

    raw = await RawClient.open(port)
    async with raw.stream:
        reply = await raw.startup({"user": "x", "database": database})
        assert isinstance(reply[-1], pgm.ReadyForQuery), reply
        await raw.send(pgm.Query("SELECT 'fine'").encode())
        answered = await raw.until(pgm.ReadyForQuery)
        assert any(isinstance(m, pgm.DataRow) for m in answered), answered

        await raw.send(garbage)
        rest = await raw.until()  # up to the end of the connection: it must close
        [error] = errors(rest)
        assert (error.severity, error.code) == ("FATAL", "08P01"), error
        assert "protocol violation" in (error.message or "")

    await other.stdin.send_all(b"SELECT 'after ' || 2;\n")
    await other_out.wait_for("after 2")
    await other.stdin.aclose()
    with trio.fail_after(20):
        assert await other.wait() == 0

    code, out, err = await psql(port, database, "SELECT count(*) FROM items")
    assert (code, out.strip()) == (0, "3"), err


async def test_garbage_instead_of_a_startup_packet_closes_the_connection(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    raw = await RawClient.open(port)
    async with raw.stream:
        await raw.send(struct.pack("!i", 2**30) + b"GET / HTTP/1.1\r\n\r\n")
        with trio.fail_after(20):
            while await raw.stream.receive_some(65536):
                pass  # whatever it says (an error or nothing), it must close
    code, out, err = await psql(port, database, "SELECT 'still serving'")
    assert (code, out.strip()) == (0, "still serving"), err


# -- a backend that breaks the protocol during the login -------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(b"R" + struct.pack("!i", 2**31 - 1), id="auth-length-2**31"),
        pytest.param(b"N" + struct.pack("!i", 100_000_000) + b"SNOTICE\0", id="notice-100MB"),
        pytest.param(b"S" + struct.pack("!i", 3), id="length-below-4"),
    ],
)
async def test_a_backend_frame_with_an_absurd_length_is_a_fatal_08p01_for_the_client(
    tmp_path: Path, pg_server: PgServer, database: str, frame: bytes
) -> None:
    async def fake_backend(stream: trio.SocketStream) -> None:
        async with stream:
            await stream.receive_some(65536)  # the gateway's StartupMessage
            await stream.send_all(frame)
            while await stream.receive_some(65536):  # hold the connection until iap ends it
                pass

    async with trio.open_nursery() as nursery:
        [listener] = await nursery.start(partial(trio.serve_tcp, fake_backend, 0, host="127.0.0.1"))
        fake_port = listener.socket.getsockname()[1]
        extra = (
            f'\n[[connections]]\nname = "pg-fake"\nkind = "postgres"\n'
            f'address = "127.0.0.1:{fake_port}"\ndatabase = "{database}"\nuser = "postgres"\n'
        )
        async with running_gateway(write_config(tmp_path, pg_server, database, extra)) as gw:
            gw.add_user("alice", "dev")
            agent = await Agent.logged_in(gw, "alice")
            async with agent.connect("pg-fake") as fake, agent.connect("pg-main") as real:
                code, out, err = await psql(fake, database, "SELECT 1")
                assert code == 2, out + err
                assert "FATAL:  iap: the database broke the protocol during login" in err, err
                assert "length" in err
                # The gateway goes on serving.
                code, out, err = await psql(real, database, "SELECT 'still serving'")
                assert (code, out.strip()) == (0, "still serving"), err
        nursery.cancel_scope.cancel()
