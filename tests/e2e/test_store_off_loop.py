"""No store call runs on the gateway's event loop once it serves.

The store (SQLite) is synchronous and shares a lock with the audit writer: a call made on the
Trio thread stalls every session while it waits. Here the gateway's store is wrapped in a
proxy that notes each method called on the Trio thread, and the test drives the real agent,
psql and the API through a login, whoami, the request list and one request, a held statement
approved (after the RFC 9470 step-up) and one denied, and a direct-listener login with
`iap token`; then it expects no such call.

Only the serving gateway is watched. Start-up (opening and migrating the store, the users the
fixture adds) happens before anything is served, so nothing waits behind it; shutdown (the
audit queue's last drain, closing the store) after every session ended.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from functools import wraps
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import pytest
import trio

import iap
import iap.gateway
from iap.config import GatewayConfig
from iap.store.base import Store
from tests.e2e.test_listener import listener_token
from tests.e2e.test_listener import psql as listener_psql
from tests.e2e.test_psql import start_psql
from tests.helpers import Agent, Gateway, PgServer, running_gateway, write_config

IAP_DIR = os.path.dirname(iap.__file__)


def _caller() -> str:
    """The innermost function of the iap package on the calling stack (`file:function`),
    followed by its callers in iap (`< file:function`, two at most)."""
    found: list[str] = []
    frame: FrameType | None = sys._getframe(2)  # 0: here, 1: the proxy's call
    while frame is not None and len(found) < 3:
        path = frame.f_code.co_filename
        if path.startswith(IAP_DIR + os.sep):
            found.append(f"iap/{os.path.relpath(path, IAP_DIR)}:{frame.f_code.co_name}")
        frame = frame.f_back
    return " < ".join(found) or "?"


class StoreOnLoop:
    """The gateway's store, noting each method called on the Trio thread while watching."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._loop_thread: int | None = None
        self.calls: list[tuple[str, str]] = []  # (method, caller)

    def watch(self) -> None:
        """From now on, on this (the Trio) thread."""
        self._loop_thread = threading.get_ident()

    def unwatch(self) -> None:
        self._loop_thread = None

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        @wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == self._loop_thread:
                self.calls.append((name, _caller()))
            return attr(*args, **kwargs)

        return call


@pytest.fixture
def config_extra() -> str:
    return 'listen = "127.0.0.1:0"\n'


@pytest.fixture
def store_on_loop(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[StoreOnLoop]]:
    """The gateway opens its store through iap.gateway.open_store: wrap what it returns."""
    opened: list[StoreOnLoop] = []
    open_store = iap.gateway.open_store

    def wrapped(config: GatewayConfig) -> Any:
        opened.append(StoreOnLoop(open_store(config)))
        return opened[-1]

    monkeypatch.setattr(iap.gateway, "open_store", wrapped)
    yield opened


@pytest.fixture
async def gateway(
    tmp_path: Path,
    pg_server: PgServer,
    database: str,
    config_extra: str,
    store_on_loop: list[StoreOnLoop],
) -> AsyncIterator[Gateway]:
    async with running_gateway(write_config(tmp_path, pg_server, database, config_extra)) as gw:
        gw.add_user("alice", "dev")
        yield gw


def _api_get(gateway: Gateway, path: str, token: str) -> httpx.Response:
    ca = gateway.running.ca
    assert ca is not None
    context = ssl.create_default_context(cafile=str(ca))
    with httpx.Client(base_url=gateway.running.api_url, verify=context) as http:
        return http.get(path, headers={"Authorization": f"Bearer {token}"})


async def _in_thread(fn: Callable[[], Any]) -> Any:
    return await trio.to_thread.run_sync(fn)


async def test_no_store_call_runs_on_the_event_loop_while_serving(
    gateway: Gateway, store_on_loop: list[StoreOnLoop], database: str, pg_server: PgServer
) -> None:
    [store] = store_on_loop
    store.watch()  # the gateway is ready: start-up is behind us

    alice = await Agent.logged_in(gateway, "alice")  # /v1/login
    status = await alice.run("status", "--json")  # /v1/whoami
    assert status.returncode == 0, status.stderr.decode()

    async with alice.connect() as port:  # /v1/connections/{name}, /v1/events, tunnel hello
        psql = await start_psql(port, database)
        await psql.send("DROP TABLE victim;")
        first = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)

        listing = await alice.run("requests")  # /v1/requests
        assert first in listing.stdout.decode(), listing.stderr.decode()
        access = (await alice.run("token", "--access", check=True)).stdout.decode().strip()
        one = await _in_thread(lambda: _api_get(gateway, f"/v1/requests/{first}", access))
        assert one.status_code == 200 and one.json()["status"] == "pending", one.text

        # 401 insufficient_user_authentication, /v1/stepup, then the approval
        approved = await alice.run("approve", first, "--code", gateway.fresh_code("alice"))
        assert approved.returncode == 0, approved.stderr.decode()
        await psql.out.wait_for("DROP TABLE")

        await psql.send("DROP TABLE items;")
        second = (await psql.err.wait_for(r"iap approve ([A-Z2-9]{6})")).group(1)
        denied = await alice.run("deny", second, "--reason", "not today")
        assert denied.returncode == 0, denied.stderr.decode()
        await psql.err.wait_for(r"42501: iap: request \w+ was denied: not today")
        assert await psql.close() == 0

    token = await listener_token(alice)  # /v1/token
    code, out, err = await listener_psql(gateway, database, token, "SELECT 'direct' AS x")
    assert code == 0 and out.strip() == "direct", err

    store.unwatch()  # what follows is the test's own reading, and then shutdown
    statuses = await _in_thread(lambda: {r.id: r.status for r in store.list_requests()})
    assert statuses == {first: "approved", second: "denied"}

    assert store.calls == [], "store calls on the gateway's event loop:\n" + "\n".join(
        f"  {method} from {caller}" for method, caller in store.calls
    )
