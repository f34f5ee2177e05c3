"""asyncpg and psycopg through the agent's port: prepared statements, pools, pipelines.

Both drivers are asyncio/blocking: they run in worker threads while the gateway runs in the
test's Trio loop.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import psycopg
import trio

from tests.helpers import Agent, ConnectedPort, Gateway, PgServer


async def in_thread(fn: Any, *args: Any) -> Any:
    return await trio.to_thread.run_sync(fn, *args)


async def test_asyncpg_prepared_statements_and_pool_need_no_hold(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    async def work() -> list[Any]:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=port.port, user="x", database=database, ssl=False
        )
        try:
            stmt = await conn.prepare("SELECT name FROM items WHERE id = $1")
            names = [await stmt.fetchval(i) for i in (1, 2, 3)]
            await conn.execute("UPDATE items SET name = $1 WHERE id = $2", "renamed", 1)
            await conn.executemany("INSERT INTO items VALUES ($1, $2)", [(20, "a"), (21, "b")])
        finally:
            await conn.close()
        pool = await asyncpg.create_pool(
            host="127.0.0.1",
            port=port.port,
            user="x",
            database=database,
            ssl=False,
            min_size=2,
            max_size=3,
        )
        try:
            for _ in range(5):
                async with pool.acquire() as c:  # release runs asyncpg's reset query
                    names.append(await c.fetchval("SELECT count(*) FROM items"))
        finally:
            await pool.close()
        return names

    result = await in_thread(asyncio.run, work())
    assert result[:3] == ["item 1", "item 2", "item 3"]
    assert result[3:] == [5] * 5
    assert gateway.services.store.list_requests() == []


async def test_psycopg_pipeline_with_a_risky_statement_waits_whole(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    done = trio.Event()
    errors: list[BaseException] = []

    def pipeline() -> None:
        try:
            with (
                psycopg.connect(port.dsn(database), autocommit=True) as conn,
                conn.pipeline(),
            ):
                conn.execute("INSERT INTO items VALUES (%s, %s)", (30, "before"))
                conn.execute("DROP TABLE victim")
                conn.execute("INSERT INTO items VALUES (%s, %s)", (31, "after"))
        except BaseException as e:  # reported to the test below
            errors.append(e)
        finally:
            trio.from_thread.run_sync(done.set)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(trio.to_thread.run_sync, pipeline)
        request = await gateway.wait_request(user="alice")
        assert "DROP TABLE victim" in request.sql
        # Nothing of the batch ran: no row, no lock on items, the table still there.
        assert pg_server.execute("SELECT count(*) FROM items WHERE id >= 30", database) == [(0,)]
        pg_server.execute(
            "BEGIN; LOCK TABLE items IN ACCESS EXCLUSIVE MODE NOWAIT; COMMIT", database
        )
        assert pg_server.execute("SELECT to_regclass('victim') IS NOT NULL", database) == [(True,)]
        approved = await alice.run("approve", request.id, "--code", gateway.fresh_code("alice"))
        assert approved.returncode == 0, approved.stderr.decode()
        with trio.fail_after(20):
            await done.wait()
    assert errors == []
    assert pg_server.execute("SELECT count(*) FROM items WHERE id >= 30", database) == [(2,)]
    assert pg_server.execute("SELECT to_regclass('victim') IS NULL", database) == [(True,)]


async def test_asyncpg_denied_statement_raises_and_connection_stays_usable(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str
) -> None:
    async def work() -> tuple[str, str, int]:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=port.port, user="x", database=database, ssl=False
        )
        try:
            try:
                await conn.execute("DROP TABLE items")
            except asyncpg.PostgresError as e:
                code, message = e.sqlstate, str(e)
            else:
                raise AssertionError("the DROP was not refused")
            return code, message, await conn.fetchval("SELECT count(*) FROM items")
        finally:
            await conn.close()

    async with trio.open_nursery() as nursery:
        results: list[Any] = []

        async def run() -> None:
            results.append(await in_thread(asyncio.run, work()))

        nursery.start_soon(run)
        request = await gateway.wait_request(user="alice")
        denied = await alice.run("deny", request.id, "--reason", "use a migration")
        assert denied.returncode == 0, denied.stderr.decode()
    code, message, count = results[0]
    assert code == "42501"
    assert "use a migration" in message
    assert count == 3


async def test_asyncpg_prepared_risky_statement_is_held_at_bind(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    """Preparing a DELETE without WHERE only parses; executing it (Bind) is what is held."""

    async def work() -> str:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=port.port, user="x", database=database, ssl=False
        )
        try:
            stmt = await conn.prepare("DELETE FROM items")
            return str(await stmt.fetch())
        finally:
            await conn.close()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(in_thread, asyncio.run, work())
        request = await gateway.wait_request(user="alice")
        assert request.risk == "destructive"
        assert pg_server.execute("SELECT count(*) FROM items", database) == [(3,)]
        approved = await alice.run("approve", request.id, "--code", gateway.fresh_code("alice"))
        assert approved.returncode == 0, approved.stderr.decode()
    assert pg_server.execute("SELECT count(*) FROM items", database) == [(0,)]


async def test_a_held_statements_parameters_are_shown_to_the_approver(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    """The approver sees what a parameterised statement would run with: psycopg sends
    strings as text (shown as text), ints and bytes in binary (shown as hex), NULL as null."""

    def work() -> str:
        with psycopg.connect(
            host="127.0.0.1", port=port.port, user="x", dbname=database, sslmode="disable"
        ) as conn:
            try:  # OR true: every row, so destructive and held
                conn.execute(
                    "DELETE FROM items WHERE (name = %s OR id = %s OR name = %s"
                    " OR name::bytea = %s) OR true",
                    ("it's me", 7, None, b"\x00\x01"),
                )
            except psycopg.errors.InsufficientPrivilege as e:
                return str(e)
        return "ran"

    outcome: list[str] = []
    async with trio.open_nursery() as nursery:

        async def run() -> None:
            outcome.append(await in_thread(work))

        nursery.start_soon(run)
        request = await gateway.wait_request(user="alice")
        listing = await alice.run("requests", "--json")
        denied = await alice.run("deny", request.id)  # before any assert: the client returns
    assert denied.returncode == 0, denied.stderr.decode()
    shown = next(r for r in json.loads(listing.stdout) if r["id"] == request.id)
    assert shown["params"] == [["it's me", "\\x0007", None, "\\x0001"]]
    assert "denied" in outcome[0]
    assert pg_server.execute("SELECT count(*) FROM items", database) == [(3,)]
