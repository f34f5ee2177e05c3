"""`iap run`: a whole script or dump reviewed once, end to end.

Real PostgreSQL and MariaDB, and the real clients `iap run` starts (psql -f, pg_restore to
turn an archive into SQL, the mariadb CLI): a pg_dump archive and a mariadb-dump restore with
exactly one approval request; a script's grant covers only its own statements and only its
own session; a run is refused before approval, after denial, to another user and a second
time.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from tests.conftest import MariaDBServer
from tests.e2e.test_mysql import Backend, mysql_connection
from tests.e2e.test_psql import start_psql
from tests.helpers import Agent, Gateway, PgServer, audit_records, running_gateway
from tests.iap.test_tunnel_hello import answer

pytestmark = pytest.mark.e2e

# A small shop: tables with keys, a foreign key, an index, an identity column, a sequence, a
# view, a function, comments, and text that tries every way to end a statement early.
PG_SCHEMA = r"""
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, note text);
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer int REFERENCES customers (id),
    total numeric(10, 2),
    placed date DEFAULT '2024-01-01'
);
CREATE INDEX orders_customer ON orders (customer);
CREATE SEQUENCE invoice_no START 100;
CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;
CREATE FUNCTION order_total(c int) RETURNS numeric LANGUAGE sql
    AS $$ SELECT sum(total) FROM orders WHERE customer = c; $$;
COMMENT ON TABLE customers IS 'who; buys -- and /* pays */';
INSERT INTO customers (name, note) VALUES
    ('ann', 'it''s; tricky'), ('bob', E'back\\slash\nnewline\t$$'), ('cy', NULL);
INSERT INTO orders (customer, total) VALUES (1, 10.5), (2, 200), (3, 7), (2, 99.99);
SELECT nextval('invoice_no'), nextval('invoice_no');
"""
PG_STATE = [
    "SELECT * FROM customers ORDER BY id",
    "SELECT * FROM orders ORDER BY id",
    "SELECT * FROM big_orders ORDER BY id",
    "SELECT last_value, is_called FROM invoice_no",
    "SELECT nextval('customers_id_seq'), nextval('orders_id_seq')",
    "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    "SELECT obj_description('customers'::regclass), order_total(2)",
]


def pg_state(pg: PgServer, database: str) -> list[list[tuple[object, ...]]]:
    return [pg.execute(sql, database) for sql in PG_STATE]


@pytest.fixture
def database(pg_server: PgServer) -> Iterator[str]:
    """An empty database (the connection's): what a restore starts from."""
    name = pg_server.create_database("iaprun")
    try:
        yield name
    finally:
        pg_server.drop_database(name)


async def iap_run(agent: Agent, *args: str, code: str | None = None) -> Any:
    """`iap run ... --json` (approved at once with the code, when given); the parsed result
    and the process."""
    extra = ["--code", code] if code is not None else []
    done = await agent.run("run", *args, *extra, "--json")
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = None
    return result, done


def run_in_background(
    nursery: trio.Nursery, agent: Agent, script: Path, *, code: Callable[[], str] | None = None
) -> list[Any]:
    """`iap run pg-main -f SCRIPT --reason x` started in `nursery`: the list its result lands
    in (the process; with `code`, `--code code()` and iap_run's (result, process))."""
    outcome: list[Any] = []

    async def run_script() -> None:
        args = ("pg-main", "-f", str(script), "--reason", "x")
        if code is None:
            outcome.append(await agent.run("run", *args))
        else:
            outcome.append(await iap_run(agent, *args, code=code()))

    nursery.start_soon(run_script)
    return outcome


def run_rows(records: list[Any], run_id: str) -> list[Any]:
    return [r for r in records if r.decision == f"run:{run_id}"]


async def test_restore_a_pg_dump_with_one_approval(
    gateway: Gateway, alice: Agent, database: str, pg_server: PgServer, tmp_path: Path
) -> None:
    source = pg_server.create_database("iapsrc")
    try:
        pg_server.execute(PG_SCHEMA, source)
        archive = tmp_path / "shop.dump"
        dump = [
            "pg_dump", "-Fc", "-h", pg_server.host, "-p", str(pg_server.port), "-U", "postgres",
            "-f", str(archive), source,
        ]  # fmt: skip
        await trio.run_process(dump, capture_stderr=True)
        before = pg_state(pg_server, source)
    finally:
        pg_server.drop_database(source)

    code = gateway.fresh_code("alice")
    result, done = await iap_run(
        alice, "pg-main", "--restore", str(archive), "--reason", "restore the shop", code=code
    )
    assert done.returncode == 0, done.stderr.decode()
    requests = gateway.services.store.list_requests()
    assert len(requests) == 1, [(r.id, r.sql) for r in requests]
    run = requests[0]
    assert result == {"run": run.id, "status": "approved", "statements": 37, "exit": 0}
    assert (run.status, run.user, run.risk) == ("approved", "alice", "admin")
    assert "CREATE TABLE public.customers" in run.sql  # the script, shown to the approver
    assert run.reasons[0] == "reason: restore the shop"
    assert run.reasons[1].startswith("iap run of 37 statements: ")
    assert pg_state(pg_server, database) == before

    # The 20 statements the policy holds (14 ddl, 6 admin: ALTER ... OWNER TO) ran under the
    # run's one approval, each audited as such.
    records = await audit_records(gateway, lambda rows: len(run_rows(rows, run.id)) >= 20)
    ran = run_rows(records, run.id)
    assert sorted(r.risk for r in ran) == ["admin"] * 6 + ["ddl"] * 14
    assert all(r.outcome == "ok" and r.request_id is None for r in ran)
    assert [r.decision for r in records if r.decision in ("hold", "approved")] == ["hold"]


async def pending_run(gateway: Gateway) -> Any:
    """The run request `iap run` opened, once it waits for its decision."""
    with trio.fail_after(30):
        while True:
            for request in gateway.services.store.list_requests(status="pending"):
                if request.params and '"run"' in request.params:
                    return request
            await trio.sleep(0.05)


async def test_a_script_runs_with_one_approval_and_its_grant_ends_with_its_session(
    gateway: Gateway, alice: Agent, database: str, pg_server: PgServer, tmp_path: Path
) -> None:
    pg_server.execute("CREATE TABLE victim (id int); INSERT INTO victim VALUES (1)", database)
    script = tmp_path / "reshape.sql"
    script.write_text(
        "-- reshape victim\n"
        "DROP TABLE victim;\n"
        "CREATE TABLE victim (id int, note text);\n"
        "INSERT INTO victim VALUES (2, 'a; b');\n"
    )
    async with trio.open_nursery() as nursery:
        outcome = run_in_background(nursery, alice, script)
        run = await pending_run(gateway)
        assert pg_server.execute("SELECT count(*) FROM victim", database) == [(1,)]
        approved = await alice.run("approve", run.id, "--code", gateway.fresh_code("alice"))
        assert approved.returncode == 0, approved.stderr.decode()
    (done,) = outcome
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split() == ["DROP", "TABLE", "CREATE", "TABLE", "INSERT", "0", "1"]
    assert done.stderr.decode().splitlines()[:3] == [
        f"iap: run {run.id}: 3 statements (1 destructive, 1 ddl, 1 write), highest destructive",
        f"iap: approve it with: iap approve {run.id}    deny with: iap deny {run.id}",
        f"iap: run {run.id} approved by alice",
    ]
    (run,) = gateway.services.store.list_requests()
    assert (run.status, run.risk) == ("approved", "destructive")
    assert pg_server.execute("SELECT * FROM victim", database) == [(2, "a; b")]

    # The same DROP, sent afterwards in an ordinary session, is held again.
    async with alice.connect() as port:
        psql = await start_psql(port, database)
        await psql.send("DROP TABLE victim;")
        held = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
        assert held != run.id
        denied = await alice.run("deny", held, "--reason", "ran already")
        assert denied.returncode == 0, denied.stderr.decode()
        await psql.err.wait_for(r"42501: iap: request \w+ was denied: ran already")
        assert await psql.close() == 0
    assert pg_server.execute("SELECT count(*) FROM victim", database) == [(1,)]
    assert len(gateway.services.store.list_requests()) == 2


SHORT_HOLDS = '[[rules]]\nrisks = ["destructive"]\naction = "hold"\ntimeout = "2s"\n'


@pytest.mark.parametrize("config_extra", [SHORT_HOLDS])
async def test_iap_run_stops_when_its_run_expires_or_is_denied(
    gateway: Gateway, alice: Agent, database: str, pg_server: PgServer, tmp_path: Path
) -> None:
    pg_server.execute("CREATE TABLE victim (id int)", database)
    script = tmp_path / "drop.sql"
    script.write_text("DROP TABLE victim;\n")
    expired = await alice.run("run", "pg-main", "-f", str(script), "--reason", "x", "--json")
    assert expired.returncode == 1, expired.stderr.decode()
    (first,) = gateway.services.store.list_requests()
    assert json.loads(expired.stdout) == {
        "error": "expired",
        "message": f"run {first.id} is expired: no decision within 2s",
    }
    async with trio.open_nursery() as nursery:
        outcome = run_in_background(nursery, alice, script)
        second = await pending_run(gateway)
        denied = await alice.run("deny", second.id, "--reason", "not today")
        assert denied.returncode == 0, denied.stderr.decode()
    (done,) = outcome
    assert done.returncode == 1
    assert done.stderr.decode().splitlines()[-1] == f"iap: run {second.id} is denied: not today"
    assert pg_server.execute("SELECT to_regclass('victim') IS NOT NULL", database) == [(True,)]
    records = await audit_records(gateway, lambda rows: any(r.decision == "denied" for r in rows))
    ends = [(r.decision, r.request_id, r.outcome) for r in records if r.request_id]
    assert ends == [
        ("hold", first.id, "pending"),
        ("expired", first.id, "blocked"),
        ("hold", second.id, "pending"),
        ("denied", second.id, "blocked"),
    ]


FOUR_EYES = (
    '[[rules]]\nrisks = ["destructive"]\naction = "hold"\napproval = "peer"\n'
    'approver_roles = ["dba"]\n'
)


@pytest.mark.parametrize("config_extra", [FOUR_EYES])
async def test_a_run_with_a_four_eyes_statement_waits_for_a_reviewer(
    gateway: Gateway, alice: Agent, database: str, pg_server: PgServer, tmp_path: Path
) -> None:
    pg_server.execute("CREATE TABLE victim (id int)", database)
    script = tmp_path / "swap.sql"
    script.write_text("CREATE TABLE kept (id int);\nDROP TABLE victim;\n")
    async with trio.open_nursery() as nursery:
        outcome = run_in_background(
            nursery, alice, script, code=lambda: gateway.fresh_code("alice")
        )
        run = await pending_run(gateway)
        # ddl alone would be the requester's to approve; the DROP makes it a reviewer's.
        assert (run.approval, run.approver_roles, run.risk) == ("peer", ("dba",), "destructive")
        own = await alice.run("approve", run.id, "--code", gateway.fresh_code("alice"))
        assert own.returncode == 1 and "four eyes" in own.stderr.decode()
        bob = await Agent.logged_in(gateway, "bob")
        approved = await bob.run("approve", run.id, "--code", gateway.fresh_code("bob"))
        assert approved.returncode == 0, approved.stderr.decode()
    ((result, done),) = outcome
    assert done.returncode == 0, done.stderr.decode()
    assert result == {"run": run.id, "status": "approved", "statements": 2, "exit": 0}
    assert done.stderr.decode().splitlines()[1:4] == [
        f"iap: a reviewer with role dba approves it with: iap approve {run.id}",
        "iap: --code is not used: this run needs a reviewer's approval",
        f"iap: run {run.id} approved by bob",
    ]
    assert pg_server.execute("SELECT to_regclass('victim'), to_regclass('kept')", database) == [
        (None, "kept")
    ]


async def test_a_statement_not_in_the_script_is_decided_as_usual(
    gateway: Gateway, alice: Agent, database: str, pg_server: PgServer, tmp_path: Path
) -> None:
    pg_server.execute("CREATE TABLE victim (id int)", database)
    script = tmp_path / "with-variable.sql"
    # psql sends `CREATE TABLE other (id int);`, a text the approver never saw.
    script.write_text("DROP TABLE victim;\n\\set name other\nCREATE TABLE :name (id int);\n")
    async with trio.open_nursery() as nursery:
        outcome = run_in_background(
            nursery, alice, script, code=lambda: gateway.fresh_code("alice")
        )
        with trio.fail_after(30):
            while True:
                pending = gateway.services.store.list_requests(status="pending")
                if pending and pending[0].sql.startswith("CREATE TABLE other"):
                    break
                await trio.sleep(0.05)
        (held,) = pending
        assert (held.sql, held.risk) == ("CREATE TABLE other (id int);", "ddl")
        denied = await alice.run("deny", held.id, "--reason", "not in the script")
        assert denied.returncode == 0, denied.stderr.decode()
    ((result, done),) = outcome
    assert done.returncode == 3, done.stderr.decode()  # psql: ON_ERROR_STOP
    assert result["exit"] == 3 and result["status"] == "approved"
    assert f"ERROR:  iap: request {held.id} was denied: not in the script" in done.stderr.decode()
    run = next(r for r in gateway.services.store.list_requests() if r.id != held.id)
    assert run.status == "approved"
    assert pg_server.execute("SELECT to_regclass('victim'), to_regclass('other')", database) == [
        (None, None)
    ]
    records = await audit_records(gateway, lambda rows: any(r.decision == "denied" for r in rows))
    assert [r.sql for r in run_rows(records, run.id)] == ["DROP TABLE victim;"]


# -- MySQL ---------------------------------------------------------------------------------------

MY_SCHEMA = [
    "CREATE TABLE customers (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL,"
    " note TEXT) COMMENT 'who; buys'",
    "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer INT, total DECIMAL(10,2),"
    " KEY orders_customer (customer), FOREIGN KEY (customer) REFERENCES customers (id))",
    "CREATE SEQUENCE invoice_no START WITH 100",
    "INSERT INTO customers (name, note) VALUES ('ann', 'it''s; tricky'),"
    " ('bob', 'back\\\\slash\\nnew -- line # not /* a comment */'), ('cy', NULL)",
    "INSERT INTO orders (customer, total) VALUES (1, 10.5), (2, 200), (3, 7)",
]
MY_STATE = [
    "SELECT * FROM customers ORDER BY id",
    "SELECT * FROM orders ORDER BY id",
    "SELECT table_comment FROM information_schema.tables WHERE table_schema = DATABASE()"
    " ORDER BY table_name",
    "SELECT index_name, column_name FROM information_schema.statistics"
    " WHERE table_schema = DATABASE() ORDER BY 1, 2",
    "SELECT next_not_cached_value, start_value, increment FROM invoice_no",
]


@pytest.fixture
def target(mariadb_server: MariaDBServer) -> Iterator[Backend]:
    """An empty MariaDB database and the password user the gateway logs in as."""
    b = Backend(mariadb_server)
    b.admin(f"CREATE DATABASE {b.database}")
    b.admin(f"CREATE USER '{b.user}'@'%' IDENTIFIED BY '{b.password}'")
    b.admin(f"GRANT ALL ON {b.database}.* TO '{b.user}'@'%'")
    try:
        yield b
    finally:
        b.admin(f"DROP DATABASE IF EXISTS {b.database}")
        b.admin(f"DROP USER IF EXISTS '{b.user}'@'%'")


@pytest.fixture
async def my_gateway(tmp_path: Path, target: Backend) -> AsyncIterator[Gateway]:
    path = tmp_path / "gateway.toml"
    path.write_text(
        '[gateway]\ndata_dir = "data"\napi = "127.0.0.1:0"\ntunnel = "127.0.0.1:0"\n'
        + mysql_connection(tmp_path, target)
    )
    async with running_gateway(path) as gw:
        gw.add_user("alice", "dev")
        yield gw


async def test_restore_a_mariadb_dump_with_one_approval(
    my_gateway: Gateway, target: Backend, mariadb_server: MariaDBServer, tmp_path: Path
) -> None:
    source = Backend(mariadb_server).database
    target.admin(f"CREATE DATABASE {source}")
    try:
        for sql in MY_SCHEMA:
            target.admin(sql, source)
        target.admin("SELECT nextval(invoice_no)", source)
        dump = tmp_path / "shop.sql"
        where = ["-h", mariadb_server.host, "-P", str(mariadb_server.port), "-uroot"]
        done = await trio.run_process(["mariadb-dump", *where, source], capture_stdout=True)
        dump.write_bytes(done.stdout)
        before = [target.admin(sql, source) for sql in MY_STATE]
    finally:
        target.admin(f"DROP DATABASE IF EXISTS {source}")

    alice = await Agent.logged_in(my_gateway, "alice")
    code = my_gateway.fresh_code("alice")
    result, done = await iap_run(alice, "my-main", "-f", str(dump), "--reason", "copy", code=code)
    assert done.returncode == 0, done.stderr.decode()
    (run,) = my_gateway.services.store.list_requests()
    assert result == {"run": run.id, "status": "approved", "statements": 41, "exit": 0}
    assert (run.status, run.risk) == ("approved", "destructive")
    assert [target.admin(sql, target.database) for sql in MY_STATE] == before
    records = await audit_records(my_gateway, lambda rows: len(run_rows(rows, run.id)) >= 8)
    assert {r.risk for r in run_rows(records, run.id)} == {"ddl", "destructive"}


# -- refusals ------------------------------------------------------------------------------------


def call_api(gateway: Gateway, token: str, method: str, path: str, **kwargs: Any) -> Any:
    context = ssl.create_default_context(cafile=str(gateway.running.ca))
    with httpx.Client(base_url=gateway.running.api_url, verify=context) as client:
        response = client.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
        )
    return response.status_code, response.json()


async def access_token(agent: Agent) -> str:
    done = await agent.run("token", "--access", check=True)
    return done.stdout.decode().strip()


async def hello(gateway: Gateway, token: str, run: str) -> dict[str, object]:
    line = {"v": 1, "token": token, "connection": "pg-main", "run": run}
    return await answer(gateway, json.dumps(line).encode() + b"\n")


async def test_a_run_is_refused_unapproved_denied_to_others_and_twice(
    gateway: Gateway, alice: Agent, database: str
) -> None:
    bob = await Agent.logged_in(gateway, "bob")
    alice_token, bob_token = await access_token(alice), await access_token(bob)

    async def new_run() -> str:
        body = {"connection": "pg-main", "script": "DROP TABLE victim;", "reason": "test"}
        status, created = await trio.to_thread.run_sync(
            lambda: call_api(gateway, alice_token, "POST", "/v1/runs", json=body)
        )
        assert status == 200, created
        assert (created["status"], created["risk"], created["statements"]) == (
            "pending",
            "destructive",
            1,
        )
        run_id: str = created["id"]
        return run_id

    first = await new_run()
    refused = await hello(gateway, alice_token, first)
    assert refused == {"error": "run_refused", "message": f"run {first} is pending, not approved"}
    denied = await alice.run("deny", first, "--reason", "no")
    assert denied.returncode == 0, denied.stderr.decode()
    assert (await hello(gateway, alice_token, first))["message"] == (
        f"run {first} is denied, not approved"
    )

    withdrawn = await new_run()
    status, body = await trio.to_thread.run_sync(
        lambda: call_api(gateway, alice_token, "DELETE", f"/v1/runs/{withdrawn}")
    )
    assert (status, body["status"], body["reason"]) == (
        200,
        "cancelled",
        "the requester stopped waiting",
    )

    second = await new_run()
    approved = await alice.run("approve", second, "--code", gateway.fresh_code("alice"))
    assert approved.returncode == 0, approved.stderr.decode()
    status, body = await trio.to_thread.run_sync(
        lambda: call_api(gateway, alice_token, "GET", f"/v1/runs/{second}", params={"wait": 1})
    )
    assert (status, body["status"], body["decided_by"]) == (200, "approved", "alice")
    assert (await hello(gateway, bob_token, second))["message"] == (
        f"no run {second} of yours: start one with `iap run`"
    )
    assert (await hello(gateway, alice_token, second)).get("ok") is True
    assert (await hello(gateway, alice_token, second))["message"] == (
        f"run {second} was used already: start a new `iap run`"
    )
    records = await audit_records(
        gateway, lambda rows: any(r.decision == "cancelled" for r in rows)
    )
    assert [(r.decision, r.request_id) for r in records if r.decision == "cancelled"] == [
        ("cancelled", withdrawn)
    ]


async def test_run_errors_are_one_line(gateway: Gateway, alice: Agent, tmp_path: Path) -> None:
    nothing = await alice.run("run", "pg-main", "--reason", "x")
    assert (nothing.returncode, nothing.stderr.decode()) == (
        2,
        "iap: give the script with -f FILE, or a pg_dump archive with --restore ARCHIVE\n",
    )
    missing = await alice.run("run", "pg-main", "-f", str(tmp_path / "nope.sql"), "--reason", "x")
    assert missing.returncode == 2
    assert missing.stderr.decode().startswith("iap: cannot read ")
    (tmp_path / "not-a-dump").write_text("hello")
    bad = await alice.run(
        "run", "pg-main", "--restore", str(tmp_path / "not-a-dump"), "--reason", "x"
    )
    assert bad.returncode == 2
    assert bad.stderr.decode().startswith("iap: pg_restore cannot read ")
    assert "Traceback" not in bad.stderr.decode() + missing.stderr.decode()
    empty = tmp_path / "empty.sql"
    empty.write_text("-- nothing\n")
    result = await alice.run("run", "pg-main", "-f", str(empty), "--reason", "x", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "error": "bad_request",
        "message": "the script has no statements",
    }
    # A wrong code: one failed attempt, reported as such; the run is withdrawn.
    drop = tmp_path / "drop.sql"
    drop.write_text("DROP TABLE victim;\n")
    code = gateway.fresh_code("alice")
    wrong = f"{(int(code) + 500_000) % 1_000_000:06d}"
    refused = await alice.run("run", "pg-main", "-f", str(drop), "--reason", "x", "--code", wrong)
    assert refused.returncode == 1
    assert refused.stderr.decode().splitlines()[-1].startswith("iap: wrong one-time code: ")
    (run,) = gateway.services.store.list_requests()
    assert (run.status, run.reason) == ("cancelled", "the requester stopped waiting")


async def test_a_script_with_nothing_to_approve_just_runs(
    gateway: Gateway, alice: Agent, database: str, pg_server: PgServer, tmp_path: Path
) -> None:
    pg_server.execute("CREATE TABLE notes (id int PRIMARY KEY, body text)", database)
    script = tmp_path / "notes.sql"
    script.write_text("INSERT INTO notes VALUES (1, 'one');\nSELECT count(*) FROM notes;\n")
    result, done = await iap_run(alice, "pg-main", "-f", str(script), "--reason", "notes")
    assert done.returncode == 0, done.stderr.decode()
    assert result == {"run": None, "status": "allowed", "statements": 2, "exit": 0}
    assert "iap: nothing in the script needs approval on pg-main: running it" in (
        done.stderr.decode()
    )
    assert gateway.services.store.list_requests() == []
    assert pg_server.execute("SELECT body FROM notes", database) == [("one",)]
