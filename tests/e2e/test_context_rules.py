"""Rules with context conditions end to end: where the client is (`sources`, `not_sources`)
and when (`hours`), through the real gateway, `iap connect`, psql and pymysql.

The gateway sees the agent's TCP peer, 127.0.0.1, as the client's address; the time is the
gateway's injected FakeClock, set to a fixed instant before the agent logs in (tokens and
one-time codes follow the same clock).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pymysql
import pytest
import trio

from tests.e2e import test_mysql
from tests.e2e.test_mysql import Backend, connect, in_thread, run
from tests.e2e.test_psql import start_psql
from tests.helpers import Agent, ConnectedPort, Gateway, PgServer, audit_records

pytestmark = pytest.mark.e2e

# test_mysql.py's fixtures: a backend database and user, the gateway, alice's agent and port
plugin, rules, backend = test_mysql.plugin, test_mysql.rules, test_mysql.backend
my_gateway, my_alice, my_port = test_mysql.my_gateway, test_mysql.my_alice, test_mysql.my_port

HOLD_WRITES_FROM_OUTSIDE = """
[[rules]]
risks = ["write"]
action = "hold"
not_sources = ["10.0.0.0/8"]
"""

HOLD_WRITES_FROM_INSIDE = HOLD_WRITES_FROM_OUTSIDE.replace("not_sources", "sources")

FIRED = "source 127.0.0.1 outside 10.0.0.0/8"

# A Wednesday in January (Berlin on CET, UTC+1, no DST change near): 07:30 UTC is 08:30 in
# Berlin, inside the window; an hour later it is 09:30 there, outside. Read as UTC instead,
# the window would give the opposite answer both times, so the zone is what decides.
WINDOW = "Mon-Fri 08:00-09:00 Europe/Berlin"
INSIDE = dt.datetime(2030, 1, 16, 7, 30, tzinfo=dt.UTC).timestamp()

DENY_WRITES_IN_HOURS = f"""
[[rules]]
risks = ["write"]
action = "deny"
hours = "{WINDOW}"
"""

# Looser than the default for destructive statements (a code up to an hour old instead of
# a fresh one): a context rule can never loosen (and one that allows is refused at load).
HOLD_DESTRUCTIVE_LOOSELY_FROM_LOOPBACK = """
[[rules]]
risks = ["destructive"]
action = "hold"
max_age = "1h"
sources = ["127.0.0.0/8"]
"""


def rows(pg_server: PgServer, database: str, item: int) -> list[tuple[Any, ...]]:
    return pg_server.execute(f"SELECT name FROM items WHERE id = {item}", database)


async def policy_of(agent: Agent, name: str = "pg-main") -> dict[str, str]:
    """What `iap ls --json` says the policy does on `name`, per class, for the agent."""
    listed = await agent.run("ls", "--json")
    assert listed.returncode == 0, listed.stderr.decode()
    [found] = [c for c in json.loads(listed.stdout) if c["name"] == name]
    policy: dict[str, str] = found["policy"]
    return policy


@pytest.mark.parametrize("config_extra", [HOLD_WRITES_FROM_OUTSIDE])
async def test_a_write_from_outside_the_networks_is_held_and_says_why(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    psql = await start_psql(port, database)
    await psql.send("INSERT INTO items VALUES (10, 'ten');")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    detail = await psql.err.wait_for(r"DETAIL:\s+(.*)")
    assert detail.group(1).strip() == f"INSERT into items; {FIRED}"  # the classifier's, then ours
    await trio.sleep(0.2)
    assert rows(pg_server, database, 10) == []  # held: the backend has not seen it

    request = gateway.services.store.get_request(request_id)
    assert (request.status, request.risk, request.user) == ("pending", "write", "alice")
    assert request.reasons == ("INSERT into items", FIRED)

    # A hold like any other: approving it runs the statement.
    approved = await alice.run("approve", request_id, "--code", gateway.fresh_code("alice"))
    assert approved.returncode == 0, approved.stderr.decode()
    await psql.out.wait_for("INSERT 0 1")
    assert await psql.close() == 0
    assert rows(pg_server, database, 10) == [("ten",)]


@pytest.mark.parametrize("config_extra", [HOLD_WRITES_FROM_INSIDE])
async def test_a_write_rule_for_other_networks_leaves_the_write_allowed(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    psql = await start_psql(port, database)
    await psql.send("INSERT INTO items VALUES (10, 'ten');")
    await psql.out.wait_for("INSERT 0 1")
    assert await psql.close() == 0
    assert rows(pg_server, database, 10) == [("ten",)]
    assert gateway.services.store.list_requests() == []
    records = await audit_records(gateway, lambda rs: any("(10, 'ten')" in r.sql for r in rs))
    insert = [(r.risk, r.decision, r.outcome) for r in records if "(10, 'ten')" in r.sql]
    assert insert == [("write", "allow", "ok")]


@pytest.mark.parametrize("config_extra", [HOLD_DESTRUCTIVE_LOOSELY_FROM_LOOPBACK])
async def test_a_context_rule_cannot_loosen_the_default_hold(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    assert (await policy_of(alice))["destructive"] == "hold"
    psql = await start_psql(port, database)
    await psql.send("DELETE FROM items;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    request = gateway.services.store.get_request(request_id)
    assert (request.status, request.risk, request.approval) == ("pending", "destructive", "self")
    assert request.max_age == 0.0  # the default's fresh code, not the context rule's hour
    # the context rule did not decide, so no condition is named as a reason
    assert not any("source" in reason for reason in request.reasons), request.reasons
    assert pg_server.execute("SELECT count(*) FROM items", database) == [(3,)]

    denied = await alice.run("deny", request_id)
    assert denied.returncode == 0, denied.stderr.decode()
    await psql.err.wait_for(r"42501: iap: request \w+ was denied")
    assert await psql.close() == 0
    assert pg_server.execute("SELECT count(*) FROM items", database) == [(3,)]


@pytest.mark.parametrize("config_extra", [DENY_WRITES_IN_HOURS])
async def test_hours_follow_the_gateway_clock_in_the_rules_zone_statement_by_statement(
    gateway: Gateway, database: str, pg_server: PgServer
) -> None:
    gateway.clock.advance(INSIDE - gateway.clock())  # before login: tokens follow this clock
    alice = await Agent.logged_in(gateway, "alice")
    assert (await policy_of(alice))["write"] == "deny"
    async with alice.connect() as port:
        psql = await start_psql(port, database)
        await psql.send("INSERT INTO items VALUES (10, 'ten');")
        refused = await psql.err.wait_for(r"ERROR:\s+42501: (.*)")
        assert refused.group(1).strip() == (
            f"iap: write on pg-main is denied by rule 1 (inside hours {WINDOW})"
        )
        assert rows(pg_server, database, 10) == []

        gateway.clock.advance(3600)  # 09:30 in Berlin: past the window
        await psql.send("INSERT INTO items VALUES (10, 'ten');")  # the same session
        await psql.out.wait_for("INSERT 0 1")
        assert await psql.close() == 0
    assert rows(pg_server, database, 10) == [("ten",)]
    records = await audit_records(gateway, lambda rs: sum("(10, 'ten')" in r.sql for r in rs) == 2)
    inserts = [(r.decision, r.outcome) for r in records if "(10, 'ten')" in r.sql]
    assert inserts == [("deny", "blocked"), ("allow", "ok")]
    assert gateway.services.store.list_requests() == []


@pytest.mark.parametrize(
    ("config_extra", "write"),
    [(HOLD_WRITES_FROM_OUTSIDE, "hold"), (HOLD_WRITES_FROM_INSIDE, "allow")],
    ids=["not_sources-applies", "sources-does-not-apply"],
)
async def test_iap_ls_shows_the_policy_for_the_callers_address(alice: Agent, write: str) -> None:
    policy = await policy_of(alice)
    assert (policy["read"], policy["write"], policy["destructive"]) == ("allow", write, "hold")


DENY_MYSQL_WRITES_FROM_OUTSIDE = """
[[rules]]
risks = ["write"]
action = "deny"
not_sources = ["10.0.0.0/8"]
"""


@pytest.mark.parametrize("rules", [DENY_MYSQL_WRITES_FROM_OUTSIDE])
async def test_mysql_a_write_from_outside_the_networks_is_refused_and_the_session_goes_on(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    def work() -> list[Any]:
        with connect(my_port, backend) as conn:
            with pytest.raises(pymysql.MySQLError) as refused:
                run(conn, "INSERT INTO items VALUES (10, 'ten')")
            return [refused.value.args, run(conn, "SELECT count(*) FROM items")]

    (code, message), count = await in_thread(work)
    assert code == 1142
    assert f"iap: write on my-main is denied by rule 1 ({FIRED})" in message
    assert count == [(3,)]
    assert backend.admin("SELECT count(*) FROM items WHERE id = 10", backend.database) == [(0,)]
    assert my_gateway.services.store.list_requests() == []
    records = await audit_records(my_gateway, lambda rs: any(r.decision == "deny" for r in rs))
    denied = [r for r in records if r.decision == "deny"]
    assert [(r.risk, r.sql, r.outcome) for r in denied] == [
        ("write", "INSERT INTO items VALUES (10, 'ten')", "blocked")
    ]
    assert FIRED in (denied[0].error or "")
