"""The agent on a real terminal (pexpect): Ctrl-C on `iap connect` and `iap psql`, and
`iap login`'s prompts, which come only after the gateway's TLS certificate was verified."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pexpect
import trio

from tests.helpers import Agent, Gateway, PgServer

TIMEOUT = 30


def spawn(agent: Agent, *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "iap.cli.main", *args],
        encoding="utf-8",
        timeout=TIMEOUT,
        env={**agent.env(), "TERM": "dumb", "PAGER": "cat", "PSQLRC": os.devnull},
    )


def finish(child: pexpect.spawn) -> tuple[int | None, str]:
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before or ""


async def test_ctrl_c_stops_iap_connect_with_one_line(alice: Agent) -> None:
    def session() -> tuple[int | None, str]:
        child = spawn(alice, "connect", "pg-main")
        child.expect(r"postgresql://alice@127\.0\.0\.1:\d+/\S+\?sslmode=disable")
        child.expect("press Ctrl-C to close")
        child.sendintr()
        return finish(child)

    status, rest = await trio.to_thread.run_sync(session)
    assert status == 0
    assert rest.replace("^C", "").strip().splitlines() == ["iap: stopped"]  # (^C: the echo)


async def test_ctrl_c_in_iap_psql_cancels_the_statement_and_the_session_goes_on(
    alice: Agent, database: str, pg_server: PgServer
) -> None:
    def sleeping() -> bool:
        rows = pg_server.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60);'"
        )
        return bool(rows[0][0])

    async def wait_sleeping() -> None:
        with trio.fail_after(TIMEOUT):
            while not await trio.to_thread.run_sync(sleeping):
                await trio.sleep(0.05)

    def session() -> tuple[int | None, str]:
        child = spawn(alice, "psql", "pg-main", "--", "-X")
        prompt = rf"{database}=[>#] "
        child.expect(prompt)
        child.sendline("SELECT pg_sleep(60);")
        trio.from_thread.run(wait_sleeping)
        child.sendintr()
        child.expect("canceling statement due to user request")
        child.expect(prompt)
        child.sendline("SELECT 'still here' AS x;")
        child.expect("still here")
        child.expect(prompt)
        child.sendline("\\q")
        return finish(child)

    status, rest = await trio.to_thread.run_sync(session)
    assert status == 0
    assert "Traceback" not in rest and "iap:" not in rest


async def test_login_checks_tls_before_prompting_then_prompts_on_a_terminal(
    gateway: Gateway, tmp_path: Path
) -> None:
    agent = Agent(tmp_path / "home", gateway)
    url = gateway.running.api_url

    def untrusted() -> tuple[int | None, str]:
        child = spawn(agent, "login", "--gateway", url, "--user", "alice")
        return finish(child)

    status, output = await trio.to_thread.run_sync(untrusted)
    assert status == 3
    assert "Password" not in output
    [line] = output.strip().splitlines()
    assert re.fullmatch(
        rf"iap: the gateway's certificate at {re.escape(url)} is not trusted \([^)]+\): "
        r"pass --ca <data_dir>/tls/ca\.pem to `iap login` \(the CA the gateway made on its "
        r"first start\)",
        line,
    ), line
    code = gateway.fresh_code("alice")

    def prompted() -> tuple[int | None, str]:
        child = spawn(agent, "login", "--gateway", url, "--ca", str(gateway.running.ca))
        child.expect("User: ")
        child.sendline("alice")
        child.expect("Password: ")
        child.sendline("correct horse battery")
        child.expect("One-time code: ")
        child.sendline(code)
        return finish(child)

    status, output = await trio.to_thread.run_sync(prompted)
    assert status == 0, output
    assert output.strip() == f"logged in to {url} as alice"
