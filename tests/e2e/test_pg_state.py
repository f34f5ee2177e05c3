"""The gateway's idea of a PostgreSQL session follows the server's answers, not the client's asks.

Hostile clients speak the wire protocol by hand (RawClient) through the real agent and
gateway to the real server. Each case asserts that nothing ran that policy did not allow
(the table is checked on the server) and that the audit says what the server did. A
differential test replays random pipelines of prepared-statement traffic and compares the
gateway's map with the server's own `pg_prepared_statements` after every round.
"""

from __future__ import annotations

import os
import random

import pytest
import trio

from iap.classify import Risk, classify
from iap.engines.postgres import PostgresSession
from protocols.postgres import messages as pgm
from tests.e2e.test_startup import RawClient
from tests.helpers import ConnectedPort, Gateway, PgServer, audit_records

pytestmark = pytest.mark.e2e

ITEMS = 3  # rows the database fixture puts in items


def frames(*messages: pgm.Message) -> bytes:
    return b"".join(m.encode() for m in messages)


def extended(sql: str, name: str = "") -> list[pgm.Message]:
    return [
        pgm.Parse(name=name, query=sql),
        pgm.Bind(portal="", statement=name),
        pgm.Execute(),
        pgm.Sync(),
    ]


def run(name: str) -> list[pgm.Message]:
    return [pgm.Bind(portal="", statement=name), pgm.Execute(), pgm.Sync()]


async def session(port: ConnectedPort, database: str) -> RawClient:
    raw = await RawClient.open(port)
    reply = await raw.startup({"user": "x", "database": database})
    assert isinstance(reply[-1], pgm.ReadyForQuery), reply
    return raw


async def replies_to(raw: RawClient, *messages: pgm.Message) -> list[pgm.BackendMessage]:
    await raw.send(frames(*messages))
    return await raw.until(pgm.ReadyForQuery)


def held(messages: list[pgm.BackendMessage]) -> bool:
    return any(
        isinstance(m, pgm.NoticeResponse) and "held for approval" in (m.message or "")
        for m in messages
    )


async def notice_or_ready(raw: RawClient) -> list[pgm.BackendMessage]:
    """Messages until a hold notice or a ReadyForQuery, whichever comes first."""
    seen: list[pgm.BackendMessage] = []
    while True:
        msg = await raw.receive()
        assert msg is not None, f"connection closed after {seen}"
        seen.append(msg)
        if isinstance(msg, pgm.ReadyForQuery) or held(seen):
            return seen


def items(pg_server: PgServer, database: str) -> int:
    ((count,),) = pg_server.execute("SELECT count(*) FROM items", dbname=database)
    assert isinstance(count, int)
    return count


def engine_of(gateway: Gateway) -> PostgresSession:
    (found,) = [s.engine for s in gateway.services.live]
    assert isinstance(found, PostgresSession)
    return found


# -- prepared statements are what the server answered ------------------------------------------


async def test_a_parse_the_server_rejects_does_not_replace_the_name(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    raw = await session(port, database)
    async with raw.stream:
        # the server holds s = DELETE (parsed only: nothing ran, nothing to decide)
        await replies_to(raw, pgm.Parse(name="s", query="DELETE FROM items"), pgm.Sync())
        # a second Parse of s fails on the server ("already exists"): s is still the DELETE
        reply = await replies_to(raw, pgm.Parse(name="s", query="SELECT 1"), pgm.Sync())
        assert [m.code for m in reply if isinstance(m, pgm.ErrorResponse)] == ["42P05"]
        await raw.send(frames(*run("s")))
        assert held(await notice_or_ready(raw))  # destructive: held, not run as a read
    assert items(pg_server, database) == ITEMS


@pytest.mark.parametrize(
    "failing",
    [
        "PREPARE q AS SELECT 1",  # the name exists: the server keeps the DELETE
        "SELECT 1/0; DEALLOCATE q; PREPARE q AS SELECT 1",  # stops before the PREPARE
        "BEGIN; SELECT 1/0; PREPARE q AS SELECT 1",  # in an aborted transaction
    ],
)
async def test_a_sql_prepare_that_failed_leaves_no_read_behind(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer, failing: str
) -> None:
    raw = await session(port, database)
    async with raw.stream:
        await replies_to(raw, pgm.Query("PREPARE q AS DELETE FROM items"))
        reply = await replies_to(raw, pgm.Query(failing))
        assert any(isinstance(m, pgm.ErrorResponse) for m in reply)
        if "BEGIN" in failing:
            await replies_to(raw, pgm.Query("ROLLBACK"))
        await raw.send(pgm.Query("EXECUTE q").encode())
        assert held(await notice_or_ready(raw))
    assert items(pg_server, database) == ITEMS


async def test_sql_prepare_and_deallocate_through_the_extended_protocol(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    raw = await session(port, database)
    async with raw.stream:
        await replies_to(raw, pgm.Query("PREPARE q AS SELECT 1"))
        # Parse/Bind/Execute of DEALLOCATE and PREPARE: q becomes the DELETE on the server
        await replies_to(raw, *extended("DEALLOCATE q"))
        await replies_to(raw, *extended("PREPARE q AS DELETE FROM items"))
        assert engine_of(gateway).prepared_risk["q"] is Risk.DESTRUCTIVE
        await raw.send(pgm.Query("EXECUTE q").encode())
        assert held(await notice_or_ready(raw))
    assert items(pg_server, database) == ITEMS


async def test_a_bind_behind_a_pending_parse_waits_for_the_servers_answer(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    raw = await session(port, database)
    async with raw.stream:
        await replies_to(raw, pgm.Parse(name="s", query="DELETE FROM items"), pgm.Sync())
        # pipelined: the Parse fails on the server, the Sync ends its error, the Bind runs s
        await raw.send(frames(pgm.Parse(name="s", query="SELECT 1"), pgm.Sync(), *run("s")))
        assert held(await notice_or_ready(raw) + await notice_or_ready(raw))
    assert items(pg_server, database) == ITEMS


async def test_a_statement_that_executes_another_is_judged_when_bound(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    raw = await session(port, database)
    async with raw.stream:
        await replies_to(raw, pgm.Query("PREPARE q AS SELECT 1"))
        await replies_to(raw, pgm.Parse(name="runq", query="EXECUTE q"), pgm.Sync())
        await replies_to(raw, pgm.Query("DEALLOCATE q; PREPARE q AS DELETE FROM items"))
        await raw.send(frames(*run("runq")))
        assert held(await notice_or_ready(raw))
    assert items(pg_server, database) == ITEMS


# -- the lexing state ----------------------------------------------------------------------------

ADMIN_ALLOWED = """
[[rules]]
risks = ["admin"]
action = "allow"
"""


@pytest.mark.parametrize("config_extra", [ADMIN_ALLOWED])
async def test_a_statement_pipelined_behind_a_setting_change_is_read_under_the_new_state(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    # With standard_conforming_strings on this is one SELECT of one string; off, the
    # server ends the string at \' and runs the DELETE.
    hidden = "SELECT 'a\\''; DELETE FROM items; --'"
    assert classify(hidden).risk is Risk.READ
    raw = await session(port, database)
    async with raw.stream:
        await raw.send(
            frames(pgm.Query("SET standard_conforming_strings = off"), pgm.Query(hidden))
        )
        first = await raw.until(pgm.ReadyForQuery)
        assert not any(isinstance(m, pgm.ErrorResponse) for m in first)
        assert held(await notice_or_ready(raw))
    assert items(pg_server, database) == ITEMS


# -- the audit counts what the server did --------------------------------------------------------


async def test_an_update_followed_by_terminate_in_one_write_is_audited(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    raw = await session(port, database)
    async with raw.stream:
        await raw.send(
            frames(pgm.Query("UPDATE items SET name = 'x' WHERE id <= 2"), pgm.Terminate())
        )
        assert await raw.until() is not None
    records = await audit_records(
        gateway, lambda rs: any(r.sql.startswith("UPDATE items") for r in rs), timeout=20
    )
    (row,) = [r for r in records if r.sql.startswith("UPDATE items")]
    assert (row.outcome, row.rows) == ("ok", 2)
    assert pg_server.execute("SELECT count(*) FROM items WHERE name = 'x'", dbname=database) == [
        (2,)
    ]


async def test_a_client_that_leaves_at_once_still_gets_its_statement_audited(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    raw = await session(port, database)
    await raw.send(pgm.Query("SELECT pg_sleep(0.5); INSERT INTO victim VALUES (7)").encode())
    await raw.stream.aclose()
    records = await audit_records(
        gateway, lambda rs: any("INSERT INTO victim" in r.sql for r in rs), timeout=20
    )
    (row,) = [r for r in records if "INSERT INTO victim" in r.sql]
    assert (row.outcome, row.rows) == ("ok", 2)  # the row pg_sleep returned, the one inserted
    assert pg_server.execute("SELECT id FROM victim", dbname=database) == [(7,)]


async def test_rows_after_an_error_in_a_pipeline_name_the_right_statements(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    raw = await session(port, database)
    async with raw.stream:
        await raw.send(
            frames(
                *extended("INSERT INTO victim VALUES (1)"),
                pgm.Parse(name="", query="SELECT 1/0"),
                pgm.Bind(portal="", statement=""),
                pgm.Execute(),
                pgm.Parse(name="", query="INSERT INTO victim VALUES (2)"),
                pgm.Bind(portal="", statement=""),
                pgm.Execute(),
                pgm.Sync(),
                *extended("INSERT INTO victim VALUES (3)"),
            )
        )
        for _ in range(3):
            await raw.until(pgm.ReadyForQuery)
    records = await audit_records(
        gateway, lambda rs: sum("victim" in r.sql for r in rs) >= 3, timeout=20
    )
    rows = {r.sql: (r.outcome, r.rows) for r in records if "victim" in r.sql}
    assert rows["INSERT INTO victim VALUES (1)"] == ("ok", 1)
    assert rows["SELECT 1/0; INSERT INTO victim VALUES (2)"][0] == "error"
    assert rows["INSERT INTO victim VALUES (3)"] == ("ok", 1)


async def test_a_sync_during_copy_is_ignored_as_the_server_does(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    raw = await session(port, database)
    async with raw.stream:
        # the Sync right after Execute reaches the server during COPY: it ignores it
        await raw.send(frames(*extended("COPY victim FROM STDIN")))
        await raw.until(pgm.CopyInResponse)
        await raw.send(frames(pgm.CopyData(b"5\n"), pgm.CopyDone(), pgm.Sync()))
        await raw.until(pgm.ReadyForQuery)
        reply = await replies_to(raw, pgm.Query("SELECT count(*) FROM victim"))
        assert next(m for m in reply if isinstance(m, pgm.DataRow)).values == (b"1",)
    records = await audit_records(
        gateway, lambda rs: sum("victim" in r.sql for r in rs) >= 2, timeout=20
    )
    rows = {r.sql: (r.outcome, r.rows) for r in records if "victim" in r.sql}
    assert rows == {"COPY victim FROM STDIN": ("ok", 1), "SELECT count(*) FROM victim": ("ok", 1)}


DENY_DESTRUCTIVE = """
[[rules]]
risks = ["destructive"]
action = "deny"
"""


@pytest.mark.parametrize("config_extra", [DENY_DESTRUCTIVE])
async def test_a_refusal_at_flush_carries_iaps_reason(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    raw = await session(port, database)
    async with raw.stream:
        await raw.send(
            frames(
                pgm.Parse(name="", query="DELETE FROM items"),
                pgm.Bind(portal="", statement=""),
                pgm.Execute(),
                pgm.Flush(),
            )
        )
        error = await raw.until(pgm.ErrorResponse)
        assert isinstance(error[-1], pgm.ErrorResponse)
        assert error[-1].code == "42501"
        assert "iap_refused" not in (error[-1].message or "")
        reply = await replies_to(raw, pgm.Sync())
        assert isinstance(reply[-1], pgm.ReadyForQuery)
        reply = await replies_to(raw, pgm.Query("SELECT 1"))
        assert not any(isinstance(m, pgm.ErrorResponse) for m in reply)
    assert items(pg_server, database) == ITEMS


# -- differential: the gateway's map against pg_prepared_statements -------------------------------

NAMES = ("a", "b", "")
TEXTS = ("SELECT 1", "DELETE FROM items", "SELECT nosuchcolumn", "UPDATE items SET id = id")


def random_step(rng: random.Random) -> list[pgm.Message]:
    name = rng.choice(NAMES)
    text = rng.choice(TEXTS)
    choice = rng.randrange(7)
    if choice == 0:
        return [pgm.Parse(name=name, query=rng.choice([*TEXTS, "SELEC broken"]))]
    if choice == 1:
        return [pgm.Close(kind="S", name=name)]
    if choice == 2 and name:
        return [
            pgm.Query(rng.choice(["", "SELECT 1/0; ", "BEGIN; "]) + f"PREPARE {name} AS {text}")
        ]
    if choice == 3 and name:
        return [pgm.Query(rng.choice(["", "SELECT 1/0; ", "BEGIN; "]) + f"DEALLOCATE {name}")]
    if choice == 4 and name:
        return extended(f"PREPARE {name} AS {text}")[:-1]
    if choice == 5:
        return [pgm.Query("ROLLBACK")]
    return [pgm.Sync()]


async def test_random_pipelines_keep_the_map_no_weaker_than_the_servers(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    """After each random pipeline: every statement the server holds under a name is known to
    the gateway at a class at least as high as its text's (or not known: `unknown`)."""
    rounds = int(os.environ.get("IAP_TRUTH_CASES", "40"))
    rng = random.Random(20261207)
    raw = await session(port, database)
    async with raw.stream:
        for _ in range(rounds):
            pipeline = [m for _ in range(rng.randrange(1, 6)) for m in random_step(rng)]
            # The Sync ends any error, the ROLLBACK any transaction; the listing is the only
            # statement that describes rows.
            pipeline += [
                pgm.Sync(),
                pgm.Query("ROLLBACK"),
                pgm.Query("SELECT name, statement FROM pg_prepared_statements"),
            ]
            await raw.send(frames(*pipeline))
            try:
                await raw.until(pgm.RowDescription)
                listing = await raw.until(pgm.ReadyForQuery)
            except trio.TooSlowError:
                raise AssertionError(f"no answer to {pipeline}") from None
            server = {
                (m.values[0] or b"").decode(): (m.values[1] or b"").decode()
                for m in listing
                if isinstance(m, pgm.DataRow)
            }
            known = engine_of(gateway).prepared_risk
            for name, text in server.items():
                if name not in known:
                    continue  # unknown to the gateway: used, it is held
                inner = text.split(" AS ", 1)[1] if text.upper().startswith("PREPARE") else text
                expected = classify(inner).risk
                assert not expected.outranks(known[name]), "\n".join(
                    [f"{name}: {text} known as {known[name]}", *map(str, pipeline)]
                )


async def test_the_classifier_knows_the_servers_version(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    raw = await session(port, database)
    async with raw.stream:
        ((number,),) = pg_server.execute("SHOW server_version_num")
        assert engine_of(gateway).server_version == int(str(number))


# -- bounded work per message --------------------------------------------------------------------

SMALL_PARSE_LIMIT = """
[policy]
max_statement_bytes = 65536
"""


def bulk_insert(rows: int) -> str:
    return "INSERT INTO victim VALUES " + ", ".join(f"({i})" for i in range(rows))


@pytest.mark.parametrize("config_extra", [SMALL_PARSE_LIMIT])
async def test_a_statement_above_the_parse_limit_is_not_parsed_but_held_as_unknown(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    big = bulk_insert(12000)  # about 90 KB
    assert len(big) > 65536
    raw = await session(port, database)
    async with raw.stream:
        await raw.send(pgm.Query(big).encode())
        assert held(await notice_or_ready(raw))
    request = await gateway.wait_request()
    assert request.risk == "unknown"
    assert any("max_statement_bytes" in reason for reason in request.reasons)
    assert pg_server.execute("SELECT count(*) FROM victim", dbname=database) == [(0,)]


@pytest.mark.parametrize("config_extra", [SMALL_PARSE_LIMIT])
async def test_a_long_statement_below_the_limit_is_classified_and_runs(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    long = bulk_insert(4000)  # about 30 KB: classified in a worker thread
    assert 16 * 1024 < len(long) < 65536
    raw = await session(port, database)
    async with raw.stream:
        reply = await replies_to(raw, pgm.Query(long))
        assert not any(isinstance(m, pgm.ErrorResponse) for m in reply)
    assert pg_server.execute("SELECT count(*) FROM victim", dbname=database) == [(4000,)]
