"""What a hard crash of the gateway can take from the audit trail, checked against the server.

With `[audit] durable_from = "write"`, a write's row is committed and synced before the
write is forwarded: after SIGKILL, every write the database applied is in the trail, and the
trail still verifies. Without it, the loss window is one batch (documented in
iap/auditqueue.py); a read's rows are not waited for either way.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import trio

from iap.store.sqlite import SQLiteStore
from tests.e2e.test_operator import add_user, gateway_process, write_gateway_config
from tests.e2e.test_shutdown import agent_port
from tests.helpers import IAP, PgServer, run_psql

pytestmark = pytest.mark.e2e


async def test_a_write_that_ran_is_in_the_trail_after_sigkill(
    tmp_path: Path, pg_server: PgServer, database: str
) -> None:
    config = write_gateway_config(tmp_path, pg_server, database)
    config.write_text(config.read_text() + '\n[audit]\ndurable_from = "write"\n')
    secret = await add_user(config, "alice", "dev")
    async with (
        gateway_process(config) as gateway,
        agent_port(config, secret, tmp_path / "home") as port,
    ):
        for i in range(1, 4):
            result = await run_psql(
                port, database, "-c", f"UPDATE items SET name = 'k{i}' WHERE id = {i}"
            )
            assert result.returncode == 0, result.stderr.decode()
        gateway.kill()  # no drain, no goodbye
        with trio.fail_after(10):
            await gateway.wait()
    applied = pg_server.execute(
        "SELECT id FROM items WHERE name LIKE 'k%' ORDER BY id", dbname=database
    )
    assert applied == [(1,), (2,), (3,)]
    store = SQLiteStore(config.parent / "data" / "iap.db")
    audited = {
        r.sql
        for r in store.iter_audit()
        if r.sql.startswith("UPDATE items") and r.decision == "allow"
    }
    assert audited == {f"UPDATE items SET name = 'k{i}' WHERE id = {i}" for i in range(1, 4)}
    verify = subprocess.run(
        [*IAP, "audit", "verify", "--config", str(config)], capture_output=True, check=False
    )
    assert verify.returncode == 0, verify.stdout.decode() + verify.stderr.decode()
