"""Hypothesis fuzzing of the MySQL engine's client-command handling against live MariaDB.

Random command sequences (well formed and not: unknown commands, bad statement ids, packets
with broken lengths) go in one write through the real agent and gateway to MariaDB 10.11,
under rules that refuse everything above `read`. Whatever the sequence, nothing that policy
refused runs (the table keeps its rows, no table appears) and the gateway serves the next
client. IAP_FUZZ_EXAMPLES=N runs more examples than CI's.
"""

from __future__ import annotations

import struct

import pytest
import trio
from hypothesis import strategies as st

from protocols.mysql.messages import Command, command_packet
from protocols.mysql.packets import encode_packet
from tests.e2e import test_mysql
from tests.e2e.test_mysql import Backend
from tests.e2e.test_mysql_session_state import RawClient, items
from tests.helpers import ConnectedPort, Gateway, fuzz_cases

pytestmark = pytest.mark.e2e

plugin, rules, backend = test_mysql.plugin, test_mysql.rules, test_mysql.backend
my_gateway, my_alice, my_port = test_mysql.my_gateway, test_mysql.my_alice, test_mysql.my_port

REFUSE_ABOVE_READ = """
[[rules]]
risks = ["write", "ddl", "destructive", "admin", "unknown"]
action = "deny"
"""

SQL = st.sampled_from(
    [
        "SELECT 1",
        "SELECT * FROM items",
        "DELETE FROM items",
        "DROP TABLE items",
        "SELECT 1; DELETE FROM items",
        "PREPARE s FROM 'DELETE FROM items'",
        "PREPARE s FROM 'SELECT 1'",
        "EXECUTE s",
        "DEALLOCATE PREPARE s",
        "SET sql_mode = 'PIPES_AS_CONCAT'",
        "SET NAMES gbk",
        "DELETE FROM items WHERE 1=0 || 1",
        "/*!99999 ; */ SELECT 1",
        "CREATE TABLE planted (x INT)",
        "SELEC broken",
        "",
    ]
)

COMMANDS = st.one_of(
    st.builds(lambda sql: (Command.QUERY, sql.encode()), SQL),
    st.builds(lambda sql: (Command.STMT_PREPARE, sql.encode()), SQL),
    st.builds(
        lambda i: (Command.STMT_EXECUTE, struct.pack("<IBI", i, 0, 1)),
        st.sampled_from([1, 2, 0xFFFFFFFF, 77]),
    ),
    st.builds(lambda i: (Command.STMT_CLOSE, struct.pack("<I", i)), st.sampled_from([1, 2])),
    st.just((Command.PING, b"")),
    st.builds(lambda db: (Command.INIT_DB, db.encode()), st.sampled_from(["mysql", "x"])),
).map(lambda c: encode_packet(0, command_packet(c[0], c[1])))

RAW = st.one_of(
    COMMANDS,
    # command bytes the gateway does not serve, and packets cut or lying about their length
    st.tuples(st.integers(0, 255), st.binary(max_size=6)).map(
        lambda t: encode_packet(0, bytes((t[0],)) + t[1])
    ),
    st.tuples(st.integers(0, 2**24 - 1), st.binary(max_size=8)).map(
        lambda t: t[0].to_bytes(3, "little") + b"\x00" + t[1]
    ),
)


@pytest.mark.parametrize("rules", [REFUSE_ABOVE_READ])
async def test_random_commands_never_run_what_policy_refused(
    my_gateway: Gateway, my_port: ConnectedPort, backend: Backend
) -> None:
    sequences = fuzz_cases(st.lists(RAW, min_size=1, max_size=10), default=30)
    for sequence in sequences:
        await _drive(my_port, backend, sequence)
        assert items(backend) == 3, sequence
        planted = backend.admin(
            "SELECT count(*) FROM information_schema.tables"
            f" WHERE table_schema = '{backend.database}' AND table_name = 'planted'"
        )
        assert planted == [(0,)], sequence
    client = await RawClient.connect(my_port.port, backend.database)  # the next client
    outcome = await client.query("SELECT count(*) FROM items")
    assert outcome.error is None
    await client.aclose()


async def _drive(port: ConnectedPort, backend: Backend, sequence: list[bytes]) -> None:
    client = await RawClient.connect(port.port, backend.database)
    quit_ = encode_packet(0, command_packet(Command.QUIT, b""))
    try:
        await client.stream.send_all(b"".join(sequence) + quit_)
    except trio.BrokenResourceError:
        return  # the gateway closed the session on a malformed packet
    # Read until the gateway closes; a packet whose length runs past what was sent makes it
    # wait for the rest, as the server would: then the client gives up and closes.
    with trio.move_on_after(3):
        try:
            while await client.stream.receive_some(65536):
                pass
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
    await client.aclose()
