"""Several workers, one store: the API's worker relays the request events of holds in the
others, in order, each once, also for a request decided before it heard of it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from iap.approvals import Approvals
from iap.config import Rule
from iap.events import Event, EventBus
from iap.store.base import ApprovalRequest
from iap.store.sqlite import SQLiteStore

RULE = Rule(risks=("destructive",), action="hold")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "iap.db")
    yield s
    s.close()


async def hold(worker: Approvals, sql: str) -> ApprovalRequest:
    return await worker.open(
        user="alice",
        connection="pg",
        session_id="s2",
        risk="destructive",
        sql=sql,
        statement_hash="h",
        reasons=("DROP TABLE",),
        rule=RULE,
    )


async def events_until(receive: trio.MemoryReceiveChannel[Event], count: int) -> list[str]:
    seen: list[str] = []
    with trio.fail_after(10):
        while len(seen) < count:
            event = await receive.receive()
            seen.append(f"{event.kind} {event.data['sql']}")
    return seen


async def test_holds_in_another_worker_reach_the_api_workers_subscribers(
    store: SQLiteStore,
) -> None:
    api_bus = EventBus()
    api_worker = Approvals(store, api_bus, clock=time.time)
    other = Approvals(store, EventBus(), clock=time.time)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(api_worker.relay_other_workers, 0.05)
        with api_bus.subscribe(user="alice", roles=()) as receive:
            await trio.sleep(0.1)
            first = await hold(other, "DROP TABLE a")
            assert await events_until(receive, 1) == ["request.held DROP TABLE a"]
            await other.finish(first.id, "cancelled", "cancelled by the client")
            # Decided before the relay's next look: its hold is still told, first.
            second = await hold(other, "DROP TABLE b")
            await other.finish(second.id, "expired", "no decision")
            assert await events_until(receive, 3) == [
                "request.cancelled DROP TABLE a",
                "request.held DROP TABLE b",
                "request.expired DROP TABLE b",
            ]
            with trio.move_on_after(0.3):  # nothing is told twice
                extra = await receive.receive()
                pytest.fail(f"published again: {extra.kind}")
        nursery.cancel_scope.cancel()


def test_a_grace_window_holds_for_its_user_connection_network_and_class_only(
    store: SQLiteStore,
) -> None:
    now = [1000.0]
    approvals = Approvals(store, EventBus(), clock=lambda: now[0])
    rule = Rule(risks=("ddl", "destructive"), action="hold", grace=60.0)
    approvals.grant_grace("alice", "pg-main", "203.0.113.0/24", 0, rule, "ddl")
    assert approvals.in_grace("alice", "pg-main", "203.0.113.0/24", 0, "ddl")
    assert approvals.in_grace("alice", "pg-main", "203.0.113.0/24", 0, "write")  # lower class
    assert not approvals.in_grace("alice", "pg-main", "203.0.113.0/24", 0, "destructive")
    assert not approvals.in_grace("alice", "pg-main", "198.51.100.0/24", 0, "ddl")  # elsewhere
    assert not approvals.in_grace("bob", "pg-main", "203.0.113.0/24", 0, "ddl")
    assert not approvals.in_grace("alice", "pg-two", "203.0.113.0/24", 0, "ddl")
    now[0] += 61
    assert not approvals.in_grace("alice", "pg-main", "203.0.113.0/24", 0, "ddl")
