"""`iap approve` with a wrong one-time code: told so (not "session expired"), exit 1, and
one failed attempt counted (the agent used to retry it after a refresh: two failures, and
login failures share the lockout)."""

from __future__ import annotations

import json

import pyotp

from tests.e2e.test_psql import start_psql
from tests.helpers import Agent, ConnectedPort, Gateway, audit_records

WRONG_CODE_LINE = (
    "iap: wrong one-time code: take the current code from your authenticator app and try again\n"
)


def wrong_code(gateway: Gateway, user: str) -> str:
    """A code of six digits that no step near the gateway's clock has."""
    totp = pyotp.TOTP(gateway.secrets[user])
    near = {totp.at(gateway.clock() + 30 * step) for step in range(-3, 4)}
    return next(code for code in ("000000", "111111", "222222") if code not in near)


async def test_a_wrong_code_is_named_counted_once_and_a_right_one_then_releases(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str
) -> None:
    psql = await start_psql(port, database)
    await psql.send("DROP TABLE victim;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    store = gateway.services.store

    no_terminal = await alice.run("approve", request_id)
    assert (no_terminal.returncode, no_terminal.stderr.decode()) == (
        2,
        "iap: one-time code needed and no terminal to ask for it: give --code CODE\n",
    )
    not_a_code = await alice.run("approve", request_id, "--code", "12345x")
    assert (not_a_code.returncode, not_a_code.stderr.decode()) == (
        2,
        "iap: --code takes the 6 digits your authenticator app shows\n",
    )
    assert store.auth_failures_since("alice", 0) == 0  # neither reached the gateway's check

    wrong = await alice.run("approve", request_id, "--code", wrong_code(gateway, "alice"))
    assert (wrong.returncode, wrong.stderr.decode(), wrong.stdout) == (1, WRONG_CODE_LINE, b"")
    assert store.auth_failures_since("alice", 0) == 1
    records = await audit_records(gateway, lambda rs: any(r.decision == "stepup" for r in rs))
    assert [(r.outcome, r.error) for r in records if r.decision == "stepup"] == [
        ("error", "wrong one-time code")
    ]

    as_json = await alice.run(
        "approve", request_id, "--code", wrong_code(gateway, "alice"), "--json"
    )
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == {
        "error": "bad_code",
        "message": WRONG_CODE_LINE.removeprefix("iap: ").strip(),
    }
    assert store.auth_failures_since("alice", 0) == 2

    released = await alice.run("approve", request_id, "--code", gateway.fresh_code("alice"))
    assert (released.returncode, released.stdout.decode()) == (0, "released\n")
    await psql.out.wait_for("DROP TABLE")
    assert await psql.close() == 0
