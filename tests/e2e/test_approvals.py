"""Policy rules end to end: four eyes, expiry, deny, grace, and what the agent shows."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest
import trio

from tests.e2e.test_psql import start_psql
from tests.helpers import (
    IAP,
    Agent,
    ConnectedPort,
    Gateway,
    PgServer,
    StreamReader,
    audit_records,
)

RULES = """
[[rules]]
users = ["carol"]
risks = ["ddl"]
action = "hold"
approval = "self"
grace = "1m"

[[rules]]
risks = ["destructive"]
action = "hold"
approval = "peer"
approver_roles = ["dba"]
min_approvals = 2
timeout = "2m"

[[rules]]
risks = ["ddl"]
action = "hold"
timeout = "2s"

[[rules]]
risks = ["admin"]
action = "deny"
"""


@pytest.fixture
def config_extra() -> str:
    return RULES


async def agent_for(gateway: Gateway, user: str, *roles: str) -> Agent:
    gateway.add_user(user, *roles)
    return await Agent.logged_in(gateway, user)


async def test_four_eyes_needs_two_reviewers_and_never_the_requester(
    gateway: Gateway,
    alice: Agent,
    port: ConnectedPort,
    database: str,
    pg_server: PgServer,
) -> None:
    bob = await Agent.logged_in(gateway, "bob")
    dave = await agent_for(gateway, "dave", "dba")
    erin = await agent_for(gateway, "erin", "dev")

    psql = await start_psql(port, database)
    await psql.send("DELETE FROM items;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    # the requester is told who may approve, not to approve it themselves
    assert "It needs 2 reviewers with role dba (not you) to run: iap approve" in psql.err.text

    own = await alice.run("approve", request_id, "--code", gateway.fresh_code("alice"))
    assert own.returncode == 1
    assert "four eyes" in own.stderr.decode()
    not_reviewer = await erin.run("approve", request_id, "--code", gateway.fresh_code("erin"))
    assert not_reviewer.returncode == 1

    first = await bob.run("approve", request_id, "--code", gateway.fresh_code("bob"))
    assert first.returncode == 0, first.stderr.decode()
    assert first.stdout.decode().strip() == "1 of 2 approvals"
    assert gateway.services.store.get_request(request_id).status == "pending"
    assert pg_server.execute("SELECT count(*) FROM items", database) == [(3,)]

    listing = await dave.run("requests")
    assert request_id in listing.stdout.decode()
    second = await dave.run("approve", request_id, "--code", gateway.fresh_code("dave"))
    assert second.returncode == 0, second.stderr.decode()
    assert second.stdout.decode().strip() == "released"
    await psql.out.wait_for("DELETE 3")
    assert await psql.close() == 0
    assert pg_server.execute("SELECT count(*) FROM items", database) == [(0,)]

    # The agent that opened the port showed the hold and its release as they happened.
    with trio.fail_after(10):
        while b"approved" not in port.stderr:
            await trio.sleep(0.05)
    shown = port.stderr.decode()
    assert f"approve with: iap approve {request_id}" in shown
    assert "statement held (destructive)" in shown


async def test_hold_expires_with_42501_and_nothing_runs(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    psql = await start_psql(port, database)
    await psql.send("ALTER TABLE items ADD COLUMN extra int;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    await psql.err.wait_for(r"42501: iap: request \w+ expired", timeout=15)
    await psql.send("SELECT 'usable' AS x;")
    await psql.out.wait_for("usable")
    assert await psql.close() == 0
    assert gateway.services.store.get_request(request_id).status == "expired"
    columns = pg_server.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'items'", database
    )
    assert columns == [(2,)]


async def test_deny_rule_refuses_at_once_and_session_stays_usable(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    psql = await start_psql(port, database)
    await psql.send("GRANT SELECT ON items TO PUBLIC;")
    await psql.err.wait_for(r"42501: iap: .*rule")
    await psql.send("SELECT 'after deny' AS x;")
    await psql.out.wait_for("after deny")
    assert await psql.close() == 0
    assert gateway.services.store.list_requests() == []
    records = await audit_records(gateway, lambda rows: any(r.risk == "admin" for r in rows))
    assert [r.decision for r in records if r.risk == "admin"] == ["deny"]


async def test_grace_releases_later_statements_of_the_same_class_once_approved(
    gateway: Gateway, database: str, pg_server: PgServer
) -> None:
    carol = await agent_for(gateway, "carol", "dev")
    async with carol.connect() as carol_port:
        psql = await start_psql(carol_port, database)
        await psql.send("CREATE TABLE graced_one (id int);")
        request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
        approved = await carol.run("approve", request_id, "--code", gateway.fresh_code("carol"))
        assert approved.returncode == 0, approved.stderr.decode()
        await psql.out.wait_for("CREATE TABLE")
        await psql.send("CREATE TABLE graced_two (id int);")  # same rule, same class: no hold
        await psql.out.wait_for("CREATE TABLE")
        await psql.send("DROP TABLE graced_two;")  # higher class: held again
        held = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
        denied = await carol.run("deny", held)
        assert denied.returncode == 0, denied.stderr.decode()
        await psql.err.wait_for("42501")
        assert await psql.close() == 0
    records = await audit_records(
        gateway, lambda rows: any("graced_two" in r.sql and r.decision == "grace" for r in rows)
    )
    graced = [r for r in records if "graced_two" in r.sql]
    assert next((r.decision, r.request_id) for r in graced) == ("grace", None)
    tables = pg_server.execute(
        "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'graced_%'", database
    )
    assert tables == [(2,)]


async def test_one_approval_under_a_grace_rule_releases_the_users_other_holds(
    gateway: Gateway, database: str, pg_server: PgServer
) -> None:
    """A pool (two sessions here) holding statements under the same grace rule asks once: the
    approval of one opens the window, and the other held statement of the class or lower is
    released by it, its own request saying so (a higher class stays held: see the test
    above)."""
    carol = await agent_for(gateway, "carol", "dev")
    async with carol.connect() as carol_port:
        first, second = (
            await start_psql(carol_port, database),
            await start_psql(carol_port, database),
        )
        await first.send("CREATE TABLE pooled_one (id int);")
        one = (await first.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
        await second.send("CREATE TABLE pooled_two (id int);")
        two = (await second.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
        approved = await carol.run("approve", one, "--code", gateway.fresh_code("carol"))
        assert approved.returncode == 0, approved.stderr.decode()
        await first.out.wait_for("CREATE TABLE")
        await second.out.wait_for("CREATE TABLE")  # released without a second approval
        assert await first.close() == 0 and await second.close() == 0
    released = gateway.services.store.get_request(two)
    assert (released.status, released.decided_by) == ("approved", None)
    assert released.reason is not None and released.reason.startswith("released by grace")
    tables = pg_server.execute(
        "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'pooled_%'", database
    )
    assert tables == [(2,)]


async def test_a_reviewer_watches_requests_come_and_go(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str
) -> None:
    """`iap requests --watch --json`: a reviewer (role dba) sees the holds they may approve as
    they come, and their decisions (JSON lines), until Ctrl-C; someone else sees nothing."""
    bob = await Agent.logged_in(gateway, "bob")
    dave = await agent_for(gateway, "dave", "dba")
    erin = await agent_for(gateway, "erin", "dev")
    watchers = {}
    for name, agent in (("bob", bob), ("erin", erin)):
        process = await trio.lowlevel.open_process(
            [*IAP, "requests", "--watch", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=agent.env(),
        )
        assert process.stdout is not None
        watchers[name] = (process, StreamReader(process.stdout))
    await trio.sleep(1.0)  # the watchers subscribe
    psql = await start_psql(port, database)
    await psql.send("DELETE FROM items;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    _, bob_out = watchers["bob"]
    held = json.loads((await bob_out.wait_for(r"\{.*\}\n")).group(0))
    assert (held["kind"], held["id"], held["user"]) == ("request.held", request_id, "alice")
    for name, reviewer in (("bob", bob), ("dave", dave)):
        approved = await reviewer.run("approve", request_id, "--code", gateway.fresh_code(name))
        assert approved.returncode == 0, approved.stderr.decode()
    decided = json.loads((await bob_out.wait_for(r"\{.*\}\n")).group(0))
    assert (decided["kind"], decided["id"]) == ("request.approved", request_id)
    await psql.out.wait_for("DELETE 3")
    await psql.close()
    for process, _ in watchers.values():
        process.send_signal(signal.SIGINT)
        with trio.fail_after(10):
            assert await process.wait() == 0
    erin_process, erin_out = watchers["erin"]
    assert erin_process.stdout is not None
    rest = await erin_process.stdout.receive_some(65536)
    assert (erin_out.data + rest) == b""  # not hers, and she may not approve it
