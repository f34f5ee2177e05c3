"""The audit queue: batches reach the store in order, nothing is lost (not on a bad record, a
failing store or a clean stop), sessions are made to wait (not to drop rows) when the store
falls behind, and durable records share commits."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import trio
import trio.testing

from iap.audit import verify_chain
from iap.auditqueue import AuditQueue
from iap.store.base import AuditRecord, StoreUnavailable
from iap.store.sqlite import SQLiteStore

KEY = bytes(range(32))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "iap.db", audit_key=KEY)
    yield s
    s.close()


@dataclass
class Commit:
    sqls: list[str]
    durable: bool
    thread: int


@dataclass(eq=False)
class WatchedStore:
    """A SQLiteStore whose audit writes are counted, can be held at a gate, or fail."""

    inner: SQLiteStore
    commits: list[Commit] = field(default_factory=list)
    gate: threading.Event | None = None  # the first write waits for it
    entered: threading.Event = field(default_factory=threading.Event)
    failures: int = 0  # the next writes that fail as a broken disk would

    def append_audits(self, records: Sequence[AuditRecord], *, durable: bool = False) -> None:
        self.entered.set()
        if self.gate is not None:
            gate, self.gate = self.gate, None
            assert gate.wait(30)
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("disk I/O error")
        self.inner.append_audits(records, durable=durable)
        self.commits.append(Commit([r.sql for r in records], durable, threading.get_ident()))

    def iter_audit(self) -> Iterator[AuditRecord]:
        return self.inner.iter_audit()

    @property
    def stored(self) -> list[str]:
        return [sql for commit in self.commits for sql in commit.sqls]


@pytest.fixture
def watched(store: SQLiteStore) -> WatchedStore:
    return WatchedStore(store)


def queue_of(store: WatchedStore | SQLiteStore, **kwargs: float) -> AuditQueue:
    return AuditQueue(store, **kwargs)  # type: ignore[arg-type]


def record(n: int, **fields: object) -> AuditRecord:
    plain = AuditRecord(ts=float(n), user="alice", decision="allow", sql=f"SELECT {n}")
    return replace(plain, **fields)  # type: ignore[arg-type]


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
    assert verify_chain(rows, KEY) is None


async def test_writes_happen_in_a_worker_thread(watched: WatchedStore) -> None:
    queue = queue_of(watched, window=0.01)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(queue.run)
        queue.put(record(1))
        await stored(watched.inner, 1)
        nursery.cancel_scope.cancel()
    assert watched.commits[0].thread != threading.get_ident()


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


async def test_records_being_committed_count_against_the_limit(watched: WatchedStore) -> None:
    """What a crash can lose is bounded by `limit`: the commit under way counts."""
    gate = watched.gate = threading.Event()
    queue = queue_of(watched, window=0.01, limit=3)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(queue.run)
        queue.put(record(1))
        queue.put(record(2))
        await trio.to_thread.run_sync(watched.entered.wait)  # both are being committed
        assert not queue.full
        queue.put(record(3))
        assert queue.full
        gate.set()
        with trio.fail_after(10):
            await queue.wait_room()
        await stored(watched.inner, 3)
        nursery.cancel_scope.cancel()


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


async def test_a_clean_stop_finishes_the_commit_under_way_and_drains_the_rest(
    watched: WatchedStore,
) -> None:
    gate = watched.gate = threading.Event()
    queue = queue_of(watched, window=0.01)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(queue.run)
        queue.put(record(1))
        await trio.to_thread.run_sync(watched.entered.wait)
        queue.put(record(2))
        nursery.cancel_scope.cancel()  # the commit of record 1 is shielded: it finishes
        gate.set()
    queue.drain()
    assert [r.sql for r in watched.inner.iter_audit()] == ["SELECT 1", "SELECT 2"]
    assert verify_chain(watched.inner.iter_audit(), KEY) is None


# bad records, failing stores


async def test_a_record_with_lone_surrogates_is_stored_and_so_are_the_next(
    store: SQLiteStore,
) -> None:
    odd = "SELECT '\udce9\ud800'"
    queue = AuditQueue(store, window=0.01)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(queue.run)
        queue.put(record(1))
        queue.put(record(2, sql=odd, user="\udcff", error="\udc80"))
        queue.put(record(3))
        await trio.sleep(0.05)
        queue.put(record(4))  # the writer is still there
        rows = await stored(store, 4)
        nursery.cancel_scope.cancel()
    assert [r.sql for r in rows] == ["SELECT 1", odd, "SELECT 3", "SELECT 4"]
    assert (rows[1].user, rows[1].error, rows[1].extra) == ("\udcff", "\udc80", {})
    assert verify_chain(rows, KEY) is None


async def test_a_record_the_store_refuses_is_stored_escaped_and_the_writer_goes_on(
    store: SQLiteStore, caplog: pytest.LogCaptureFixture
) -> None:
    queue = AuditQueue(store, window=0.01)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(queue.run)
        queue.put(record(1))
        queue.put(record(2, rows=2**70, sql="SELECT\n2"))  # SQLite cannot hold that integer
        queue.put(record(3))
        await stored(store, 3)
        queue.put(record(4))
        rows = await stored(store, 4)
        nursery.cancel_scope.cancel()
    assert [r.sql for r in rows] == ["SELECT 1", "SELECT\\n2", "SELECT 3", "SELECT 4"]
    assert rows[1].rows is None
    escaped = rows[1].extra["escaped"]
    assert isinstance(escaped, dict) and escaped["rows"] == str(2**70)
    assert "OverflowError" in escaped["why"]
    assert [r.extra for r in (rows[0], rows[2], rows[3])] == [{}, {}, {}]
    assert verify_chain(rows, KEY) is None
    assert any("stored an escaped copy" in m for m in caplog.messages)


async def test_a_failing_store_keeps_records_queued_in_order_and_is_retried(
    watched: WatchedStore, caplog: pytest.LogCaptureFixture
) -> None:
    watched.failures = 3
    queue = queue_of(watched, window=0.01, retry=0.01)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(queue.run)
        for n in range(3):
            queue.put(record(n))
        with trio.fail_after(10):
            while len(watched.stored) < 3:
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    rows = list(watched.inner.iter_audit())
    assert [r.sql for r in rows] == ["SELECT 0", "SELECT 1", "SELECT 2"]
    assert all(r.extra == {} for r in rows)  # nothing was escaped: the store was at fault
    assert any("audit store refuses writes" in m for m in caplog.messages)


async def test_drain_logs_what_a_broken_store_refuses_rather_than_losing_it(
    watched: WatchedStore, caplog: pytest.LogCaptureFixture
) -> None:
    queue = queue_of(watched)
    queue.put(record(1))
    queue.put(record(2))
    watched.failures = 100
    with caplog.at_level(logging.CRITICAL, logger="iap.audit"):
        queue.drain()
    lost = [m for m in caplog.messages if m.startswith("audit record NOT stored")]
    assert len(lost) == 2 and "sql='SELECT 1'" in lost[0]


# durable records


async def test_concurrent_durable_records_share_one_synced_commit(watched: WatchedStore) -> None:
    queue = queue_of(watched, window=60)  # durable records do not wait out the window
    returned: list[str] = []

    async def session(n: int) -> None:
        r = record(n)
        await queue.put_durable(r)
        assert r.sql in watched.stored  # stored before put_durable returned
        returned.append(r.sql)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(queue.run)
        queue.put(record(0))  # an ordinary record queued before: it rides along
        with trio.fail_after(10):
            async with trio.open_nursery() as sessions:
                for n in range(1, 11):
                    sessions.start_soon(session, n)
        nursery.cancel_scope.cancel()
    assert sorted(returned) == sorted(f"SELECT {n}" for n in range(1, 11))
    assert len(watched.commits) == 1
    assert watched.commits[0].durable
    assert len(watched.commits[0].sqls) == 11


async def test_durable_records_arriving_during_a_commit_share_the_next(
    watched: WatchedStore,
) -> None:
    gate = watched.gate = threading.Event()
    queue = queue_of(watched, window=60)

    async def session(n: int) -> None:
        r = record(n)
        await queue.put_durable(r)
        assert r.sql in watched.stored

    async with trio.open_nursery() as nursery:
        nursery.start_soon(queue.run)
        with trio.fail_after(10):
            async with trio.open_nursery() as sessions:
                sessions.start_soon(session, 0)
                await trio.to_thread.run_sync(watched.entered.wait)  # commit 1 under way
                for n in range(1, 11):
                    sessions.start_soon(session, n)
                await trio.testing.wait_all_tasks_blocked()
                gate.set()
        nursery.cancel_scope.cancel()
    assert [len(c.sqls) for c in watched.commits] == [1, 10]
    assert all(c.durable for c in watched.commits)


async def test_ordinary_records_are_not_synced(watched: WatchedStore) -> None:
    queue = queue_of(watched, window=0.01)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(queue.run)
        queue.put(record(1))
        await stored(watched.inner, 1)
        nursery.cancel_scope.cancel()
    assert [c.durable for c in watched.commits] == [False]


async def test_a_durable_record_waits_out_a_failing_store(watched: WatchedStore) -> None:
    watched.failures = 3
    queue = queue_of(watched, window=60, retry=0.01)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(queue.run)
        with trio.fail_after(10):
            await queue.put_durable(record(1))
        assert watched.stored == ["SELECT 1"]
        assert watched.commits[0].durable
        nursery.cancel_scope.cancel()
