"""The gateway log shows decisions as grep-able lines: holds, approvals, denials, expiries and
failed logins (`event=hold request=K7Q2XD user=alice connection=pg-main risk=destructive`),
with psql through `iap connect` and the agent's own commands."""

from __future__ import annotations

import logging

import pytest

from tests.e2e.test_psql import start_psql
from tests.helpers import Agent, ConnectedPort, Gateway

pytestmark = pytest.mark.e2e


@pytest.fixture
def config_extra() -> str:
    return '[[rules]]\nrisks = ["ddl"]\naction = "hold"\ntimeout = "1s"\n'


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"event={name} ")]


async def test_holds_approvals_denials_expiries_and_failed_logins_are_logged(
    gateway: Gateway,
    alice: Agent,
    port: ConnectedPort,
    database: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    psql = await start_psql(port, database)
    await psql.send("DROP TABLE victim;")
    dropped = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    approved = await alice.run("approve", dropped, "--code", gateway.fresh_code("alice"))
    assert approved.returncode == 0, approved.stderr.decode()
    await psql.out.wait_for("DROP TABLE")

    await psql.send("DELETE FROM items;")
    deleted = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    denied = await alice.run("deny", deleted, "--reason", 'use a "migration"')
    assert denied.returncode == 0, denied.stderr.decode()
    await psql.err.wait_for("was denied")

    await psql.send("ALTER TABLE items ADD COLUMN extra int;")
    altered = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    await psql.err.wait_for(r"request \w+ expired", timeout=15)
    assert await psql.close() == 0

    stranger = Agent(gateway.config_path.parent / "stranger-home", gateway)
    failed = await stranger.run(
        "login", "--gateway", gateway.running.api_url, "--user", "alice", "--password-stdin",
        "--code", "000000", "--ca", str(gateway.running.ca), stdin=b"wrong password\n",
    )  # fmt: skip
    assert failed.returncode != 0

    session = events(caplog, "hold")[0].rsplit("session=", 1)[1]
    assert events(caplog, "hold") == [
        f"event=hold request={dropped} user=alice connection=pg-main risk=destructive"
        f" approval=self session={session}",
        f"event=hold request={deleted} user=alice connection=pg-main risk=destructive"
        f" approval=self session={session}",
        f"event=hold request={altered} user=alice connection=pg-main risk=ddl approval=self"
        f" session={session}",
    ]
    assert events(caplog, "approved") == [
        f"event=approved request={dropped} user=alice connection=pg-main risk=destructive by=alice"
    ]
    assert events(caplog, "denied") == [
        f"event=denied request={deleted} user=alice connection=pg-main risk=destructive"
        ' by=alice reason="use a \\"migration\\""'
    ]
    assert events(caplog, "expired") == [
        f"event=expired request={altered} user=alice connection=pg-main risk=ddl"
        ' reason="no decision within 1s"'
    ]
    failures = events(caplog, "login_failed")
    assert len(failures) == 1
    assert failures[0].startswith("event=login_failed user=alice reason=bad_credentials device=")
    assert events(caplog, "stepup") == ["event=stepup user=alice"]
