"""A server message that is not UTF-8 (client_encoding=LATIN1) reaches the audit trail exactly,
and the gateway goes on serving: one odd byte must not stop the audit writer."""

from __future__ import annotations

import psycopg
import pytest
import trio

from iap.audit import check_chain, keyed_from
from iap.identity import load_audit_key
from tests.helpers import ConnectedPort, Gateway, PgServer, audit_records


def _latin1_error_then_select(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET client_encoding TO 'LATIN1'")
        with pytest.raises(psycopg.errors.InvalidTextRepresentation):
            conn.execute("SELECT ('caf' || chr(233))::int")  # the message quotes the value


def _select(dsn: str, value: str) -> object:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(f"SELECT '{value}'").fetchone()
        return row[0] if row else None


async def test_a_latin1_error_message_is_audited_exactly_and_the_gateway_goes_on(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    await trio.to_thread.run_sync(_latin1_error_then_select, port.dsn(database))
    records = await audit_records(gateway, lambda rs: any("chr(233)" in r.sql for r in rs))
    (odd,) = [r for r in records if "chr(233)" in r.sql]
    assert odd.outcome == "error" and odd.error is not None
    assert b'"caf\xe9"' in odd.error.encode("utf-8", "surrogateescape")  # the server's byte
    # the writer is alive: a later session runs and is audited too
    assert await trio.to_thread.run_sync(_select, port.dsn(database), "after") == "after"
    await audit_records(gateway, lambda rs: any(r.sql == "SELECT 'after'" for r in rs))
    store = gateway.services.store
    key = load_audit_key(gateway.config.gateway.data_dir / "keys")
    checked = check_chain(
        store.iter_audit(), key, keyed_from=keyed_from(store.audit_keyed_from(), key)
    )
    assert checked.intact, checked.reason


# -- a statement the client does not wait for ------------------------------------------------


async def _send_and_leave(port: int, database: str, sql: str) -> None:
    """Log in, send `sql` and Terminate in one write, and close without reading the answer
    (the gateway may end the session before the backend has answered)."""
    from protocols.postgres import messages as pgm

    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        startup = pgm.StartupMessage.make({"user": "anyone", "database": database})
        await stream.send_all(startup.encode())
        seen = b""
        with trio.fail_after(20):
            while b"Z\x00\x00\x00\x05I" not in seen:  # ReadyForQuery, idle
                seen += await stream.receive_some(65536)
        await stream.send_all(pgm.Query(sql).encode() + pgm.Terminate().encode())


async def test_a_statement_whose_client_left_at_once_is_audited(
    gateway: Gateway, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    sql = "INSERT INTO items VALUES (99, 'unseen'); SELECT pg_sleep(0.5)"
    await _send_and_leave(port.port, database, sql)
    with trio.fail_after(20):
        while pg_server.execute("SELECT count(*) FROM items WHERE id = 99", database) != [(1,)]:
            await trio.sleep(0.05)  # it ran
    await audit_records(gateway, lambda rs: any(r.sql == sql for r in rs), timeout=5.0)
