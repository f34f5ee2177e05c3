"""Audit integrity when a MySQL client leaves at once: every statement the gateway forwarded
gets an audit row with the server's real outcome (rows, error), also when the client sent
COM_QUIT in the same write or closed its connection right after the statement; a statement
still unanswered when the wait for answers ends is audited with outcome unknown.

Real MariaDB, the gateway in the test's process and a raw protocol client (no driver sends a
statement and COM_QUIT in one write). After each case the gateway serves the next client.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import trio

import iap.engines.mysql
from protocols.mysql.messages import Command
from tests.e2e import test_mysql
from tests.e2e.test_mysql import Backend, connect, in_thread, run
from tests.e2e.test_mysql_session_state import RawClient, query
from tests.helpers import ConnectedPort, Gateway, audit_records

pytestmark = pytest.mark.e2e

# test_mysql.py's fixtures: a backend database and user, the gateway, alice's agent and port
plugin, rules, backend = test_mysql.plugin, test_mysql.rules, test_mysql.backend
my_gateway, my_alice, my_port = test_mysql.my_gateway, test_mysql.my_alice, test_mysql.my_port


async def audited(gateway: Gateway, sql: str) -> Any:
    """The audit row of sql, once it is written."""
    records = await audit_records(gateway, lambda rs: any(r.sql == sql for r in rs), timeout=20)
    (row,) = [r for r in records if r.sql == sql]
    return row


async def still_serves(port: ConnectedPort, backend: Backend) -> None:
    def work() -> Any:
        with connect(port, backend) as conn:
            return run(conn, "SELECT count(*) FROM items")

    assert await in_thread(work) == [(3,)]


def name_of(backend: Backend, item: int) -> str:
    rows = backend.admin(f"SELECT name FROM items WHERE id = {item}", backend.database)
    return str(rows[0][0])


class Lock:
    """A user lock another connection holds, until release()."""

    def __init__(self, backend: Backend) -> None:
        self.name = f"iap_drain_{secrets.token_hex(4)}"
        self.holder = backend.server.connect()
        self.query(f"SELECT GET_LOCK('{self.name}', 60)")

    def query(self, sql: str) -> None:
        with self.holder.cursor() as cur:
            cur.execute(sql)

    def release(self) -> None:
        if self.holder.open:
            self.query(f"SELECT RELEASE_LOCK('{self.name}')")
            self.holder.close()


@pytest.fixture
def lock(backend: Backend) -> Iterator[Lock]:
    held = Lock(backend)
    try:
        yield held
    finally:
        held.release()


async def leave_while_blocked(
    gateway: Gateway, port: ConnectedPort, backend: Backend, lock: Lock, sqls: list[str]
) -> str:
    """Send a statement that waits for lock, then sqls, in one write, and leave (COM_QUIT
    when the last is "QUIT", else just close); once the gateway has seen the client go,
    let the lock go. Returns the waiting statement."""
    waiting = f"SELECT GET_LOCK('{lock.name}', 60)"
    quit = sqls[-1:] == ["QUIT"]
    client = await RawClient.connect(port.port, backend.database)
    commands = [query(waiting), *(query(sql) for sql in sqls[: -1 if quit else None])]
    await client.send(*commands, *([(Command.QUIT, b"")] if quit else []))
    await client.aclose()
    with trio.fail_after(20):  # the gateway waits for the answers, or the session is over
        while any(not getattr(s.engine, "draining", True) for s in gateway.services.live):
            await trio.sleep(0.02)
    lock.release()
    return waiting


async def test_statements_sent_with_com_quit_in_one_write_are_audited_with_their_outcome(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend, lock: Lock
) -> None:
    update = "UPDATE items SET name = 'quit' WHERE id = 1"
    waiting = await leave_while_blocked(my_gateway, my_port, backend, lock, [update, "QUIT"])
    row = await audited(my_gateway, update)
    assert (row.risk, row.decision, row.outcome, row.rows, row.error) == (
        "write",
        "allow",
        "ok",
        1,
        None,
    )
    assert (await audited(my_gateway, waiting)).outcome == "ok"
    assert name_of(backend, 1) == "quit"
    await still_serves(my_port, backend)


async def test_statements_sent_right_before_the_client_disconnects_are_audited(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend, lock: Lock
) -> None:
    update = "UPDATE items SET name = 'gone' WHERE id = 2"
    failing = "UPDATE items SET name = 'half' WHERE id = 3; SELECT * FROM no_such_table"
    await leave_while_blocked(my_gateway, my_port, backend, lock, [update, failing])
    ran = await audited(my_gateway, update)
    assert (ran.outcome, ran.rows) == ("ok", 1)
    half = await audited(my_gateway, failing)
    assert (half.outcome, half.rows) == ("error", 1)  # the UPDATE ran, the SELECT failed
    assert half.error is not None and half.error.startswith("1146")
    assert (name_of(backend, 2), name_of(backend, 3)) == ("gone", "half")
    await still_serves(my_port, backend)


async def test_a_statement_unanswered_when_the_wait_ends_is_audited_as_unknown(
    my_gateway: Gateway,
    my_port: ConnectedPort,
    backend: Backend,
    lock: Lock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The statement waits for a lock another connection holds; the client leaves; the
    gateway waits for the answer (DRAIN_TIMEOUT, shortened here), then audits it as unknown."""
    monkeypatch.setattr(iap.engines.mysql, "DRAIN_TIMEOUT", 0.5)
    waiting = f"SELECT GET_LOCK('{lock.name}', 60)"
    client = await RawClient.connect(my_port.port, backend.database)
    await client.send(query(waiting))
    await client.aclose()
    row = await audited(my_gateway, waiting)
    assert (row.risk, row.decision, row.outcome, row.rows) == ("write", "allow", "unknown", None)
    assert row.error == iap.engines.mysql.UNANSWERED
    lock.release()
    await still_serves(my_port, backend)
