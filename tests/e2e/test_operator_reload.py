"""Reloading a running `iap gateway run` (a subprocess: real signals) without dropping
sessions: `iap admin reload` and SIGHUP re-read the config, an open psql session goes on and
its next statement follows the new rules, new connections are usable at once, a config the
gateway cannot use is refused while the running one stays, and a session the new config no
longer allows ends with the reason."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
import trio

from iap.config import load_config
from iap.gateway import reload_status_file
from tests.e2e.test_operator import (
    add_user,
    gateway_process,
    iap,
    logged_in_agent,
    write_gateway_config,
)
from tests.e2e.test_psql import start_psql
from tests.helpers import PgServer, StreamReader

pytestmark = pytest.mark.e2e

DENY_WRITES = """
[[rules]]
connections = ["pg-main"]
risks = ["write"]
action = "deny"
"""


def second_connection(pg_server: PgServer, database: str, extra: str = "") -> str:
    return (
        f'\n[[connections]]\nname = "pg-two"\naddress = "{pg_server.address}"\n'
        f'database = "{database}"\nuser = "postgres"\n{extra}'
    )


async def reload_report(path: Path, since: float) -> dict[str, object]:
    """The gateway's report (in `path`) of its first reload after `since`."""
    with trio.fail_after(20):
        while True:
            try:
                report: dict[str, object] = json.loads(path.read_text())
                if float(str(report["ts"])) >= since:
                    return report
            except (OSError, ValueError):
                pass
            await trio.sleep(0.1)


async def test_reload_applies_new_rules_and_connections_to_open_sessions(
    tmp_path: Path, pg_server: PgServer, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_gateway_config(tmp_path, pg_server, database)
    original = config.read_text()
    report_path = reload_status_file(load_config(config), config.resolve())
    secret = await add_user(config, "alice", "dev")
    async with gateway_process(config) as process:
        agent = await logged_in_agent(tmp_path / "home", config, "alice", secret)
        async with agent.connect() as port:
            psql = await start_psql(port, database)
            await psql.send("INSERT INTO items VALUES (10, 'ten');")
            await psql.out.wait_for("INSERT 0 1")

            # New rules and a new connection, through `iap admin reload`.
            config.write_text(original + DENY_WRITES + second_connection(pg_server, database))
            reloaded = await iap("admin", "reload", "--config", str(config))
            assert reloaded.returncode == 0, reloaded.stderr.decode()
            assert reloaded.stdout.decode() == ("reloaded: 2 connections, 1 rules; added: pg-two\n")
            await psql.send("INSERT INTO items VALUES (11, 'eleven');")
            await psql.err.wait_for(r"42501: iap: write on pg-main is denied by rule 1")
            await psql.send("SELECT 'still open' AS x;")
            await psql.out.wait_for("still open")
            listed = await agent.run("ls", "--json")
            assert [c["name"] for c in json.loads(listed.stdout)] == ["pg-main", "pg-two"]
            async with agent.connect("pg-two") as two:
                other = await start_psql(two, database)
                await other.send("INSERT INTO items VALUES (12, 'twelve');")
                await other.out.wait_for("INSERT 0 1")
                assert await other.close() == 0

            # A config the gateway cannot use (its secret is missing in the gateway's
            # environment, not in ours): refused, and the running one stays.
            monkeypatch.setenv("IAP_TEST_RELOAD_SECRET", "only here")
            broken = second_connection(
                pg_server, database, 'password_env = "IAP_TEST_RELOAD_SECRET"'
            )
            config.write_text(original + broken)
            refused = await iap("admin", "reload", "--config", str(config))
            assert refused.returncode == 1
            assert refused.stderr.decode() == (
                "iap: config not reloaded (the running one stays): connection pg-two:"
                " environment variable IAP_TEST_RELOAD_SECRET is not set (password_env): set"
                " it in the gateway's environment\n"
            )
            # SIGHUP straight to the process, with a file that does not even parse.
            config.write_text(original + "[[rules]]\nrisks = ['write']\nacton = 'allow'\n")
            sent = time.time()
            process.send_signal(signal.SIGHUP)
            report = await reload_report(report_path, sent)
            assert report["ok"] is False
            assert 'unknown key "acton" in [[rules]] #1' in str(report["message"])
            await psql.send("INSERT INTO items VALUES (13, 'thirteen');")
            await psql.err.wait_for(r"42501: iap: write on pg-main is denied by rule 1")

            # A config that no longer lets alice use pg-main ends her session, with the reason.
            config.write_text(
                original + '[[rules]]\nusers = ["alice"]\nrisks = ["read", "write", "ddl",'
                ' "destructive", "admin", "unknown"]\naction = "deny"\n'
            )
            sent = time.time()
            process.send_signal(signal.SIGHUP)
            report = await reload_report(report_path, sent)
            assert report == {**report, "ok": True}
            assert report["message"] == (
                "reloaded: 1 connections, 1 rules; removed: pg-two; 1 session ended"
            )
            await psql.send("SELECT 'after' AS x;")  # psql reads the FATAL when it next reads
            await psql.err.wait_for(
                r"57P01: iap: .*the gateway's config no longer lets alice use pg-main"
            )
            await psql.close()
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(30):
            assert await process.wait() == 0
        assert process.stderr is not None
        log = (await process.stderr.receive_some(1 << 20)).decode()
    assert "event=reload config=" in log and "added=pg-two" in log
    assert "event=reload_failed" in log
    assert "event=session_ended" in log
    rows = [r for r in json.loads((await iap("audit", "--json", "--config", str(config))).stdout)
            if r["sql"].startswith("INSERT")]  # fmt: skip
    assert [(r["connection"], r["decision"]) for r in rows] == [
        ("pg-main", "allow"),
        ("pg-main", "deny"),
        ("pg-two", "allow"),
        ("pg-main", "deny"),
    ]


async def test_reload_reaches_every_worker(
    tmp_path: Path, pg_server: PgServer, database: str
) -> None:
    """`--workers 2`: `iap admin reload` signals the supervisor, which passes SIGHUP on to
    each worker; worker 1 answers."""
    config = write_gateway_config(tmp_path, pg_server, database)
    async with gateway_process(config, "--workers", "2") as process:
        assert process.stderr is not None
        log = StreamReader(process.stderr)
        config.write_text(config.read_text() + second_connection(pg_server, database))
        reloaded = await iap("admin", "reload", "--config", str(config))
        assert reloaded.returncode == 0, reloaded.stderr.decode()
        assert reloaded.stdout.decode() == "reloaded: 2 connections, 0 rules; added: pg-two\n"
        for worker in (1, 2):
            await log.wait_for(rf"worker={worker} event=reload config=\S+ connections=2 ")
            log.cursor = 0  # the workers log in any order
        process.send_signal(signal.SIGTERM)
        with trio.fail_after(30):
            assert await process.wait() == 0
    assert not (tmp_path / "data" / "run" / "gateway.pid").exists()
