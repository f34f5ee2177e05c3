"""A statement held for minutes must not be lost to the timeouts around it (the reasons other
proxies give for never holding one): while it waits the gateway tells the client (a NOTICE,
which also keeps drivers' socket read timeouts and idle middleboxes quiet) and sends the idle
backend a Sync of its own, so that idle_in_transaction_session_timeout does not end the
session (MySQL: a COM_PING past MariaDB's idle_transaction_timeout). Real gateway, psql and
pymysql through `iap connect`, the servers' own timeouts."""

from __future__ import annotations

from typing import Any

import pymysql
import pytest
import trio

from tests.e2e import test_mysql
from tests.e2e.test_mysql import Backend, connect, in_thread, run
from tests.e2e.test_psql import start_psql
from tests.helpers import Agent, ConnectedPort, Gateway, PgServer

pytestmark = pytest.mark.e2e

KEEPALIVE = '\n[policy]\nhold_keepalive = "500ms"\n'
NO_KEEPALIVE = '\n[policy]\nhold_keepalive = "0s"\n'


async def hold_in_a_transaction(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, approve: bool = True
) -> tuple[Any, str]:
    """BEGIN, a write, then a held DELETE with the server ending idle transactions after
    1.5 s; (with `approve`) approved after 4 s. The psql session and the request id."""
    psql = await start_psql(port, database)
    await psql.send("SET idle_in_transaction_session_timeout = '1500ms';")
    await psql.out.wait_for("SET")
    await psql.send("BEGIN;")
    await psql.send("INSERT INTO items VALUES (10, 'ten');")
    await psql.out.wait_for("INSERT 0 1")
    await psql.send("DELETE FROM items;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    await trio.sleep(4)  # the server's timeout would have fired twice over
    if approve:
        code = gateway.fresh_code("alice")
        approved = await alice.run("approve", request_id, "--code", code)
        assert approved.returncode == 0, approved.stderr.decode()
    return psql, request_id


@pytest.mark.parametrize("config_extra", [KEEPALIVE])
async def test_a_held_statement_outlives_the_servers_idle_transaction_timeout(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    psql, request_id = await hold_in_a_transaction(gateway, alice, port, database)
    await psql.out.wait_for("DELETE 4")  # the three items and the one inserted in it
    await psql.send("COMMIT;")
    await psql.out.wait_for("COMMIT")
    for _ in range(4):  # told every 500 ms while it waited 4 s
        await psql.err.wait_for(rf"NOTICE:  00000: iap: request {request_id} still waits")
    await psql.send("SELECT 'still here' AS x;")  # the session and the tracker go on
    await psql.out.wait_for("still here")
    assert await psql.close() == 0
    assert pg_server.execute("SELECT count(*) FROM items", database) == [(0,)]


@pytest.mark.parametrize("config_extra", [NO_KEEPALIVE])
async def test_without_keepalives_the_server_ends_the_held_session(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    """The control: the same hold with hold_keepalive = "0s" loses the session."""
    psql, _ = await hold_in_a_transaction(gateway, alice, port, database, approve=False)
    await psql.err.wait_for("idle-in-transaction timeout")
    await psql.close()
    assert pg_server.execute("SELECT count(*) FROM items", database) == [(3,)]


# MySQL: its clients cannot be told anything while they wait, but the backend is kept alive
# (a COM_PING of the gateway's own), past MariaDB's idle_transaction_timeout.
plugin, rules, backend = test_mysql.plugin, test_mysql.rules, test_mysql.backend
my_gateway, my_alice, my_port = test_mysql.my_gateway, test_mysql.my_alice, test_mysql.my_port


async def mysql_hold_in_a_transaction(
    gateway: Gateway, alice: Agent, port: ConnectedPort, backend: Backend
) -> list[Any]:
    """BEGIN, a write, then a held DELETE with the server ending idle transactions after 2 s;
    approved after 4 s. What the client got: the DELETE's count then the COMMIT, or the
    error."""
    results: list[Any] = []
    conn = await in_thread(connect, port, backend)

    def work() -> None:
        try:
            run(conn, "SET SESSION idle_transaction_timeout = 2")
            run(conn, "BEGIN")
            run(conn, "INSERT INTO items VALUES (10, 'ten')")
            with conn.cursor() as cur:
                results.append(cur.execute("DELETE FROM items"))
            run(conn, "COMMIT")
            results.append("committed")
        except pymysql.MySQLError as e:
            results.append(e.args[0])

    async with trio.open_nursery() as nursery:
        nursery.start_soon(in_thread, work)
        request = await gateway.wait_request(user="alice")
        await trio.sleep(4)
        code = gateway.fresh_code("alice")
        await alice.run("approve", request.id, "--code", code)  # refused when the hold ended
    conn.close()
    return results


@pytest.mark.parametrize("rules", [KEEPALIVE])
async def test_mysql_a_held_statement_outlives_the_idle_transaction_timeout(
    my_gateway: Gateway, my_alice: Agent, my_port: ConnectedPort, backend: Backend
) -> None:
    results = await mysql_hold_in_a_transaction(my_gateway, my_alice, my_port, backend)
    assert results == [4, "committed"]
    assert backend.admin("SELECT count(*) FROM items", backend.database) == [(0,)]


@pytest.mark.parametrize("rules", [NO_KEEPALIVE])
async def test_mysql_without_keepalives_the_server_ends_the_held_session(
    my_gateway: Gateway, my_alice: Agent, my_port: ConnectedPort, backend: Backend
) -> None:
    results = await mysql_hold_in_a_transaction(my_gateway, my_alice, my_port, backend)
    assert results != [4, "committed"] and len(results) == 1  # a lost connection
    assert backend.admin("SELECT count(*) FROM items", backend.database) == [(3,)]
