"""[notify] webhook end to end: the real gateway, psql through `iap connect`, and a real HTTP
receiver (the stdlib server in a thread). A held statement and its decision each reach the
webhook, signed with the secret; a failing receiver is retried, then given up on, and a
session never waits for it; `slack = true` sends a Slack message."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trio

from iap import notify
from tests.e2e.test_psql import start_psql
from tests.helpers import Agent, ConnectedPort, Gateway, PgServer

pytestmark = pytest.mark.e2e

SECRET = "webhook secret"


@dataclass
class Hook:
    url: str
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    failures_left: int = 0  # answer 503 this many times first
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for _, body in self.received]

    async def until(self, count: int) -> list[dict[str, Any]]:
        with trio.fail_after(20):
            while len(self.received) < count:
                await trio.sleep(0.05)
        return self.bodies()


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                failing = state.failures_left > 0
                state.failures_left -= 1 if failing else 0
                if not failing:
                    state.received.append((dict(self.headers), body))
            self.send_response(503 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def config_extra(
    hook: Hook, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> str:
    monkeypatch.setenv("IAP_TEST_HOOK_SECRET", SECRET)
    monkeypatch.setattr(notify, "BACKOFF", (0.05, 0.05))
    slack = "slack = true\n" if "slack" in request.node.name else ""
    return f'\n[notify]\nwebhook = "{hook.url}"\nsecret_env = "IAP_TEST_HOOK_SECRET"\n{slack}'


async def test_a_hold_and_its_decision_reach_the_webhook_signed(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, hook: Hook
) -> None:
    hook.failures_left = 1  # the first attempt fails: retried
    psql = await start_psql(port, database)
    await psql.send("DELETE FROM items;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    (held,) = await hook.until(1)
    assert held["event"] == "request.held"
    assert held["approve"] == f"iap approve {request_id}"
    assert held["url"].endswith(f"/v1/requests/{request_id}")
    request = held["request"]
    assert (request["id"], request["user"], request["connection"]) == (
        request_id,
        "alice",
        "pg-main",
    )
    assert (request["risk"], request["sql"], request["status"]) == (
        "destructive",
        "DELETE FROM items;",
        "pending",
    )
    denied = await alice.run("deny", request_id, "--reason", "not in prod")
    assert denied.returncode == 0, denied.stderr.decode()
    await psql.err.wait_for("not in prod")
    _, decided = await hook.until(2)
    assert (decided["event"], decided["request"]["reason"]) == ("request.denied", "not in prod")
    for headers, body in hook.received:  # each signed over its timestamp and body
        stamp = headers["X-Iap-Timestamp"]
        mac = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
        assert headers["X-Iap-Signature"] == f"sha256={mac.hexdigest()}"
    metrics = gateway.services.metrics.render().decode()
    assert 'iap_webhook_deliveries_total{outcome="ok"} 2.0' in metrics
    await psql.close()


async def test_a_receiver_that_keeps_failing_is_given_up_on_and_sessions_go_on(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, pg_server: PgServer,
    hook: Hook,
) -> None:  # fmt: skip
    hook.failures_left = notify.ATTEMPTS
    psql = await start_psql(port, database)
    await psql.send("TRUNCATE items;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    approved = await alice.run("approve", request_id, "--code", gateway.fresh_code("alice"))
    assert approved.returncode == 0, approved.stderr.decode()
    await psql.out.wait_for("TRUNCATE TABLE")
    (decided,) = await hook.until(1)  # the hold's notice was given up on; the next one came
    assert decided["event"] == "request.approved"
    metrics = gateway.services.metrics.render().decode()
    assert 'iap_webhook_deliveries_total{outcome="failed"} 1.0' in metrics
    assert pg_server.execute("SELECT count(*) FROM items", database) == [(0,)]
    await psql.close()


async def test_slack_messages(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, hook: Hook
) -> None:
    psql = await start_psql(port, database)
    await psql.send("DROP TABLE items;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    (held,) = await hook.until(1)
    assert held == {
        "text": f"*alice* on *pg-main* (destructive): request `{request_id}` is held for the"
        f" requester.\n```DROP TABLE items;```\nApprove: `iap approve {request_id}`"
    }
    await alice.run("deny", request_id)
    _, denied = await hook.until(2)
    assert denied == {
        "text": f"*alice* on *pg-main* (destructive): request `{request_id}` denied by alice:"
        " denied by alice"
    }
    await psql.close()


async def test_a_missing_secret_fails_the_notice_not_the_gateway(
    gateway: Gateway, alice: Agent, port: ConnectedPort, database: str, hook: Hook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("IAP_TEST_HOOK_SECRET")  # gone after the start (an operator's mistake)
    psql = await start_psql(port, database)
    await psql.send("DROP TABLE items;")
    request_id = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
    with trio.fail_after(10):
        while 'outcome="failed"} 1.0' not in gateway.services.metrics.render().decode():
            await trio.sleep(0.05)
    assert hook.received == []  # never sent unsigned
    denied = await alice.run("deny", request_id)
    assert denied.returncode == 0, denied.stderr.decode()
    await psql.err.wait_for("42501")
    await psql.send("SELECT 'served' AS x;")
    await psql.out.wait_for("served")
    await psql.close()
