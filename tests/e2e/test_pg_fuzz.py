"""Hypothesis fuzzing of the PostgreSQL engine's client-message handling against a live server.

Random sequences of frontend messages (well formed and not) go through the real agent and
gateway to PostgreSQL 15, under rules that refuse everything above `read`. Whatever the
sequence, nothing that policy refused runs (the table keeps its rows, no object appears),
the session ends cleanly or with an error, and the gateway serves the next client.
IAP_FUZZ_EXAMPLES=N runs more examples than CI's.
"""

from __future__ import annotations

import struct

import pytest
import trio
from hypothesis import strategies as st

from protocols.postgres import messages as pgm
from tests.e2e.test_startup import RawClient
from tests.helpers import ConnectedPort, PgServer, fuzz_cases

pytestmark = pytest.mark.e2e

REFUSE_ABOVE_READ = """
[[rules]]
risks = ["write", "ddl", "destructive", "admin", "unknown"]
action = "deny"
"""

NAMES = st.sampled_from(["", "a", "b"])
SQL = st.sampled_from(
    [
        "SELECT 1",
        "SELECT * FROM items",
        "DELETE FROM items",
        "DROP TABLE items",
        "SELECT 1; DELETE FROM items",
        "PREPARE a AS DELETE FROM items",
        "PREPARE a AS SELECT 1",
        "EXECUTE a",
        "DEALLOCATE a",
        "DISCARD ALL",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SELECT 1/0",
        "COPY items FROM STDIN",
        "COPY items TO STDOUT",
        "SET standard_conforming_strings = off",
        "SELECT 'a\\''; DELETE FROM items; --'",
        "CREATE TABLE planted (x int)",
        "SELEC broken",
        "",
    ]
)


MESSAGES = st.one_of(
    st.builds(pgm.Query, SQL),
    st.builds(pgm.Parse, name=NAMES, query=SQL),
    st.builds(pgm.Bind, portal=NAMES, statement=NAMES),
    st.builds(pgm.Execute, portal=NAMES),
    st.builds(pgm.Describe, kind=st.sampled_from(["S", "P"]), name=NAMES),
    st.builds(pgm.Close, kind=st.sampled_from(["S", "P"]), name=NAMES),
    st.just(pgm.Sync()),
    st.just(pgm.Flush()),
    st.builds(pgm.CopyData, st.sampled_from([b"9\tx\n", b"bad\n"])),
    st.just(pgm.CopyDone()),
    st.builds(pgm.CopyFail, st.just("no")),
).map(lambda m: m.encode())

RAW = st.one_of(
    MESSAGES,
    # frames the protocol does not allow: unknown types, absurd or short lengths, junk
    st.tuples(st.sampled_from(b"QPBzx\x00"), st.integers(-5, 2**31 - 1), st.binary(max_size=8)).map(
        lambda t: bytes((t[0],)) + struct.pack("!i", t[1]) + t[2]
    ),
)


@pytest.mark.parametrize("config_extra", [REFUSE_ABOVE_READ])
async def test_random_client_messages_never_run_what_policy_refused(
    gateway: object, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    sequences = fuzz_cases(st.lists(RAW, min_size=1, max_size=12), default=60)
    for sequence in sequences:
        await _drive(port, database, sequence)
        rows = pg_server.execute("SELECT count(*) FROM items", dbname=database)
        assert rows == [(3,)], sequence
        planted = pg_server.execute(
            "SELECT count(*) FROM pg_tables WHERE tablename = 'planted'", dbname=database
        )
        assert planted == [(0,)], sequence
    # and the gateway still serves a well-behaved client
    raw = await RawClient.open(port)
    async with raw.stream:
        reply = await raw.startup({"user": "x", "database": database})
        assert isinstance(reply[-1], pgm.ReadyForQuery)
        await raw.send(pgm.Query("SELECT count(*) FROM items").encode())
        answer = await raw.until(pgm.ReadyForQuery)
        assert any(isinstance(m, pgm.DataRow) for m in answer)


async def _drive(port: ConnectedPort, database: str, sequence: list[bytes]) -> None:
    raw = await RawClient.open(port)
    async with raw.stream:
        reply = await raw.startup({"user": "x", "database": database})
        assert isinstance(reply[-1], pgm.ReadyForQuery)
        try:
            await raw.send(b"".join(sequence) + pgm.Sync().encode() + pgm.Terminate().encode())
        except trio.BrokenResourceError:
            return  # the gateway closed the session on a malformed frame
        # A frame whose declared length runs past what was sent makes the gateway wait for
        # the rest, as the server would: then the client gives up and closes.
        with trio.move_on_after(5):
            try:
                while await raw.receive(timeout=10) is not None:
                    pass
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                pass  # closed with a reset: the session ended
