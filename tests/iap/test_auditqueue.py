"""The audit queue: batches reach the store in order, nothing is lost, and sessions are made
to wait (not to drop rows) when the store falls behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
import trio.testing

from iap.audit import verify_chain
from iap.auditqueue import AuditQueue
from iap.store.base import AuditRecord
from iap.store.sqlite import SQLiteStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "iap.db")
    yield s
    s.close()


def record(n: int) -> AuditRecord:
    return AuditRecord(ts=float(n), user="alice", decision="allow", sql=f"SELECT {n}")


async def stored(store: SQLiteStore, count: int) -> list[AuditRecord]:
    with trio.fail_after(10):
        while len(rows := list(store.iter_audit())) < count:
            await trio.sleep(0.01)
    return rows


async def test_records_are_stored_in_batches_in_order(store: SQLiteStore) -> None:
    queue = AuditQueue(store, window=0.01)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(queue.run)
        for n in range(1000):
            queue.put(record(n))
            if n % 100 == 0:
                await trio.sleep(0)
        rows = await stored(store, 1000)
        nursery.cancel_scope.cancel()
    assert [r.sql for r in rows] == [f"SELECT {n}" for n in range(1000)]
    assert verify_chain(rows) is None


async def test_a_full_queue_makes_sessions_wait_until_the_store_catches_up(
    store: SQLiteStore,
) -> None:
    queue = AuditQueue(store, window=0.01, limit=10)
    for n in range(9):
        queue.put(record(n))
    assert not queue.full
    queue.put(record(9))
    assert queue.full
    async with trio.open_nursery() as nursery:
        with trio.move_on_after(0.05):
            await queue.wait_room()  # nobody writes yet: it waits
            pytest.fail("wait_room returned while the queue was full")
        nursery.start_soon(queue.run)
        with trio.fail_after(10):
            await queue.wait_room()
        assert not queue.full
        nursery.cancel_scope.cancel()
    assert len(list(store.iter_audit())) == 10


async def test_drain_stores_what_the_writer_had_not_reached(store: SQLiteStore) -> None:
    queue = AuditQueue(store, window=60)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(queue.run)
        queue.put(record(1))
        queue.put(record(2))
        await trio.sleep(0.05)
        nursery.cancel_scope.cancel()  # the writer is still gathering its first batch
    assert list(store.iter_audit()) == []
    queue.drain()
    assert [r.sql for r in store.iter_audit()] == ["SELECT 1", "SELECT 2"]
