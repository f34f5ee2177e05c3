"""Login, codes and tokens through the real API, agent CLI and tunnel."""

from __future__ import annotations

import configparser
import json
import ssl
from pathlib import Path

import httpx
import pytest
import trio

from tests.helpers import IAP, Agent, ConnectedPort, Gateway, PgServer, run_psql


def api(gateway: Gateway) -> httpx.Client:
    ca = gateway.running.ca
    assert ca is not None
    return httpx.Client(
        base_url=gateway.running.api_url, verify=ssl.create_default_context(cafile=str(ca))
    )


async def login_json(
    gateway: Gateway, user: str, code: str, password: str = "correct horse battery"
) -> httpx.Response:
    def call() -> httpx.Response:
        with api(gateway) as http:
            return http.post(
                "/v1/login",
                json={"user": user, "password": password, "code": code, "device_id": "dev1"},
            )

    return await trio.to_thread.run_sync(call)


async def test_replayed_and_wrong_codes_are_refused(gateway: Gateway, tmp_path: Path) -> None:
    code = gateway.fresh_code("alice")
    first = await login_json(gateway, "alice", code)
    assert first.status_code == 200
    # Replays come at once: the code stays inside the +-1 step window, so only the replay
    # rule can refuse it (after the clock moves two steps it would just be a wrong code).
    replay = await login_json(gateway, "alice", code)
    assert replay.status_code == 401
    assert replay.json()["error"] == "replayed_code"
    agent = Agent(tmp_path / "home", gateway)
    result = await agent.run(
        "login",
        "--gateway",
        gateway.running.api_url,
        "--user",
        "alice",
        "--password-stdin",
        "--code",
        code,
        "--ca",
        str(gateway.running.ca),
        stdin=b"correct horse battery\n",
    )
    assert result.returncode == 1
    assert "one-time code was already used" in result.stderr.decode()

    wrong = await login_json(gateway, "alice", "000000" if code != "000000" else "111111")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "bad_code"
    bad_password = await login_json(gateway, "alice", gateway.fresh_code("alice"), "nope")
    assert bad_password.status_code == 401


async def tunnel_hello(gateway: Gateway, token: str, connection: str = "pg-main") -> dict[str, str]:
    ctx = ssl.create_default_context(cafile=str(gateway.running.ca))
    host, port = gateway.running.tunnel
    stream = await trio.open_ssl_over_tcp_stream(host, port, ssl_context=ctx)
    async with stream:
        hello = {"v": 1, "token": token, "connection": connection}
        await stream.send_all(json.dumps(hello).encode() + b"\n")
        data = b""
        with trio.fail_after(10):
            while b"\n" not in data:
                data += await stream.receive_some(4096)
    answer: dict[str, str] = json.loads(data.split(b"\n")[0])
    return answer


async def test_expired_and_tampered_tokens_are_refused(gateway: Gateway) -> None:
    response = await login_json(gateway, "alice", gateway.fresh_code("alice"))
    token = response.json()["access_token"]
    assert (await tunnel_hello(gateway, token)).get("ok") is True
    assert (await tunnel_hello(gateway, token, "nope"))["error"] == "unknown_connection"

    header, payload, signature = token.split(".")
    import base64

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["dba", "admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert (await tunnel_hello(gateway, f"{header}.{forged}.{signature}"))["error"] == (
        "token_invalid"
    )

    def whoami(tok: str) -> httpx.Response:
        with api(gateway) as http:
            return http.get("/v1/whoami", headers={"Authorization": f"Bearer {tok}"})

    assert (await trio.to_thread.run_sync(whoami, token)).status_code == 200
    tampered = await trio.to_thread.run_sync(whoami, f"{header}.{forged}.{signature}")
    assert tampered.status_code == 401

    gateway.clock.advance(11 * 60)  # past the 10-minute access token
    assert (await tunnel_hello(gateway, token))["error"] == "token_expired"
    expired = await trio.to_thread.run_sync(whoami, token)
    assert expired.status_code == 401
    assert expired.json()["error"] == "token_expired"


async def test_agent_errors_are_one_line_with_contract_exit_codes(
    gateway: Gateway, tmp_path: Path
) -> None:
    agent = Agent(tmp_path / "nobody", gateway)
    result = await agent.run("requests")
    assert result.returncode == 4
    assert "iap login" in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()

    await agent.login("alice")
    missing = await agent.run("connect", "no-such-connection")
    assert missing.returncode == 1
    assert "no-such-connection" in missing.stderr.decode()

    unreachable = await agent.run(
        "login",
        "--gateway",
        "https://127.0.0.1:1",
        "--user",
        "alice",
        "--password-stdin",
        "--code",
        "123456",
        stdin=b"pw\n",
    )
    assert unreachable.returncode == 3
    assert "cannot reach the gateway" in unreachable.stderr.decode()


async def test_approval_needs_a_fresh_code_rfc9470_and_requests_json_lists_it(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str
) -> None:
    """Approving without a fresh MFA event gets 401 insufficient_user_authentication with
    max_age; a step-up code then makes the same approval pass."""
    from tests.e2e.test_psql import start_psql

    psql = await start_psql(port, database)
    await psql.send("DROP TABLE victim;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)

    listing = await alice.run("requests", "--json")
    assert listing.returncode == 0, listing.stderr.decode()
    rows = json.loads(listing.stdout)
    assert [(r["id"], r["status"], r["user"], r["connection"], r["risk"]) for r in rows] == [
        (request_id, "pending", "alice", "pg-main", "destructive")
    ]
    assert rows[0]["sql"] == "DROP TABLE victim;" and rows[0]["created_at"] > 0

    token = (await alice.run("token", "--access", check=True)).stdout.decode().strip()

    def post(path: str, tok: str, body: dict[str, str] | None = None) -> httpx.Response:
        with api(gateway) as http:
            return http.post(path, json=body or {}, headers={"Authorization": f"Bearer {tok}"})

    stale = await trio.to_thread.run_sync(post, f"/v1/requests/{request_id}/approve", token)
    assert stale.status_code == 401
    challenge = stale.headers["www-authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert "max_age=0" in challenge

    wrong = await trio.to_thread.run_sync(post, "/v1/stepup", token, {"code": "12345x"})
    assert wrong.status_code == 401
    step = await trio.to_thread.run_sync(
        post, "/v1/stepup", token, {"code": gateway.fresh_code("alice")}
    )
    assert step.status_code == 200, step.text
    fresh = step.json()["access_token"]
    ok = await trio.to_thread.run_sync(post, f"/v1/requests/{request_id}/approve", fresh)
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "approved"
    await psql.out.wait_for("DROP TABLE")
    assert await psql.close() == 0


async def test_agent_refreshes_an_expired_access_token_silently(
    gateway: Gateway, alice: Agent, database: str
) -> None:
    """Past the access token's 10 minutes the agent refreshes (device-bound refresh token)
    for API calls and for new tunnels alike: no password, no code."""
    before = json.loads((alice.home / "agent.json").read_text())["access_token"]
    gateway.clock.advance(11 * 60)
    listing = await alice.run("requests", "--json")
    assert listing.returncode == 0, listing.stderr.decode()
    after = json.loads((alice.home / "agent.json").read_text())["access_token"]
    assert after != before

    async with alice.connect() as port:
        gateway.clock.advance(11 * 60)  # expired again, after connect's own check: the
        # tunnel's hello is refused as expired and the agent must refresh on its own
        result = await run_psql(port.port, database, "-At", "-c", "SELECT 'tunnel after refresh'")
    assert result.returncode == 0, result.stderr.decode() + port.stderr.decode()
    assert result.stdout.decode().strip() == "tunnel after refresh"


async def test_a_running_connect_takes_tokens_another_command_refreshed(
    gateway: Gateway, alice: Agent, database: str
) -> None:
    """Refresh tokens are single-use: when another `iap` command of the same home refreshed
    first, a running `iap connect` must take the new tokens from the state file instead of
    spending its own, already rotated, refresh token."""
    async with alice.connect() as port:
        gateway.clock.advance(11 * 60)
        listing = await alice.run("requests", "--json")  # refreshes: the old token is spent
        assert listing.returncode == 0, listing.stderr.decode()
        result = await run_psql(port.port, database, "-At", "-c", "SELECT 'still connected'")
    assert result.returncode == 0, result.stderr.decode() + port.stderr.decode()
    assert result.stdout.decode().strip() == "still connected"


async def test_keyring_keeps_the_tokens_out_of_the_state_file(
    gateway: Gateway, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """IAP_KEYRING=1: tokens go to the OS keyring (here keyrings.alt's file backend, a real
    keyring implementation), keyed per IAP_HOME so two homes never collide."""
    monkeypatch.setenv("IAP_KEYRING", "1")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    first, second = Agent(tmp_path / "one", gateway), Agent(tmp_path / "two", gateway)
    await first.login("alice")
    await second.login("bob")
    state = json.loads((first.home / "agent.json").read_text())
    assert state["access_token"] == state["refresh_token"] == ""
    assert state["keyring"] is True
    stored = configparser.ConfigParser()
    stored.read(next((tmp_path / "xdg").rglob("keyring_pass.cfg")))
    assert len(stored["iap"]) == 2  # one entry per IAP_HOME, gateway and user
    for agent, user in ((first, "alice"), (second, "bob")):
        whoami = await agent.run("token", "--access")
        assert whoami.returncode == 0, whoami.stderr.decode()
        claims = gateway.services.identity.verify_access_token(whoami.stdout.decode().strip())
        assert claims.sub == user


async def test_disabling_a_user_ends_running_sessions_and_refreshes(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, pg_server: PgServer
) -> None:
    """An expired access token does not end a session; revoked access does: `iap admin user
    disable` ends the user's sessions (a held statement is cancelled, never run) and the
    agent can no longer refresh."""
    from tests.e2e.test_psql import start_psql

    psql = await start_psql(port, database)
    await psql.send("DROP TABLE victim;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    disabled = await trio.run_process(
        [*IAP, "admin", "user", "disable", "alice", "--config", str(gateway.config_path)],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    assert disabled.returncode == 0, disabled.stderr.decode()
    await psql.err.wait_for(r"57P01: iap: access revoked: user alice was disabled", timeout=15)
    await psql.process.wait()
    assert gateway.services.store.get_request(request_id).status == "cancelled"
    assert pg_server.execute("SELECT to_regclass('victim') IS NOT NULL", database) == [(True,)]

    refused = await alice.run("requests")
    assert refused.returncode == 4
    # iap login cannot help a disabled user: the message says who can
    assert refused.stderr.decode() == (
        "iap: user alice is disabled on the gateway: ask an administrator to enable it\n"
    )


async def test_an_expired_access_token_does_not_end_a_running_session(
    gateway: Gateway, port: ConnectedPort, database: str
) -> None:
    from iap.gateway import REVOCATION_CHECK
    from tests.e2e.test_psql import start_psql

    psql = await start_psql(port, database)
    await psql.send("SELECT 'before' AS x;")
    await psql.out.wait_for("before")
    gateway.clock.advance(60 * 60)  # far past the 10-minute access token
    await trio.sleep(REVOCATION_CHECK * 2)  # the revocation watch has looked at least once
    await psql.send("SELECT 'still running' AS x;")
    await psql.out.wait_for("still running")
    assert await psql.close() == 0


WRITES_FOR_WRITERS = """
[[rules]]
roles = ["writer"]
risks = ["write"]
action = "allow"

[[rules]]
risks = ["write"]
action = "deny"
"""


@pytest.mark.parametrize("config_extra", [WRITES_FOR_WRITERS])
async def test_a_role_removed_during_a_session_no_longer_counts(
    gateway: Gateway, database: str, pg_server: PgServer
) -> None:
    """Context only tightens: a role taken away (`iap admin user set-roles`) stops counting
    in running sessions within seconds, while a role added waits for a new login."""
    from tests.e2e.test_psql import start_psql

    gateway.services.store.set_user_roles("alice", ["dev", "writer"])
    alice = await Agent.logged_in(gateway, "alice")
    async with alice.connect() as port:
        psql = await start_psql(port, database)
        await psql.send("INSERT INTO items VALUES (10, 'ten');")
        await psql.out.wait_for("INSERT 0 1")
        changed = await trio.run_process(
            [*IAP, "admin", "user", "set-roles", "alice", "--role", "dev", "--role", "auditor",
             "--config", str(gateway.config_path)],
            capture_stdout=True, capture_stderr=True, check=False,
        )  # fmt: skip
        assert changed.returncode == 0, changed.stderr.decode()
        with trio.fail_after(15):  # the gateway looks every 2 s
            while [s.roles for s in gateway.services.live] != [("dev",)]:
                await trio.sleep(0.1)
        await psql.send("INSERT INTO items VALUES (11, 'eleven');")
        await psql.err.wait_for(r"42501: iap: write on pg-main is denied by rule 2")
        await psql.send("SELECT 'still open' AS x;")
        await psql.out.wait_for("still open")
        await psql.close()
    assert pg_server.execute("SELECT count(*) FROM items WHERE id = 11", database) == [(0,)]
