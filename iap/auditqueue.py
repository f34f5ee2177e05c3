"""The queue between sessions and the audit store, and the writer that empties it.

Sessions add one record per decision (`put`, no await: it is called while a reply is being
forwarded). `run` stores what gathered every `window` seconds (50 ms) in one transaction, in a
worker thread (`trio.to_thread`), so a slow disk never stalls the event loop. Nothing is
dropped: when `limit` records are queued and not yet committed, `full` turns true and
sessions wait (`wait_room`) before forwarding their next statement, so clients slow down
instead of the trail losing rows.

Durable records (`put_durable`): the caller waits until its record, and every record queued
before it, is committed with the WAL synced to disk. The writer does not wait out the
window for them; callers that arrive while a commit is under way share the next one (group
commit), so many sessions pay for one sync.

What a crash can lose. A clean stop (SIGINT/SIGTERM, or the gateway's caller cancelling it)
loses nothing: a commit under way is finished (shielded), and the gateway calls `drain` for
the rest after its sessions have ended (they audit on their way out). A crash of the gateway
process (SIGKILL, OOM) loses the records not yet committed: at most one batch, those queued in
the last `window` plus the commit under way, and never more than `limit` records (then
sessions wait). A crash of the host (power loss) can also lose commits that were not synced
(SQLite's WAL with synchronous=NORMAL); durable commits are synced.

Bad records. A record the store refuses (it should not happen: the store keeps any text,
including text that is not UTF-8) never stops the writer and never costs other records: the
batch is stored record by record, a refused record as `iap.audit.escaped_record` (its text
escaped, flagged in `extra["escaped"]`), and the failure is logged; a record whose escaped
copy is refused too is logged whole (`%a`) and the writer goes on. When the store cannot
write at all (`StoreUnavailable`: disk full or failing, database locked) nothing is escaped:
what is not stored stays queued, in order, and is retried with back-off (RETRY to RETRY_MAX),
while sessions wait once `limit` records are queued.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import trio

from iap.audit import escaped_record
from iap.store.base import AuditRecord, Store, StoreUnavailable

log = logging.getLogger("iap.audit")

WINDOW = 0.05  # seconds records gather before a batch is written
LIMIT = 10_000  # uncommitted records before sessions are made to wait
RETRY = 0.5  # seconds before a failed write is retried; doubles up to RETRY_MAX
RETRY_MAX = 10.0


class AuditQueue:
    def __init__(
        self,
        store: Store,
        *,
        window: float = WINDOW,
        limit: int = LIMIT,
        retry: float = RETRY,
    ) -> None:
        self.store = store
        self.window = window
        self.limit = limit
        self.retry = retry
        self._pending: list[AuditRecord] = []
        self._writing = 0  # records in the commit under way
        self._arrived = trio.Event()  # something is pending
        self._urgent = trio.Event()  # a durable caller waits: write without the window
        self._durable = False  # the pending records include durable ones
        # Set once every record now pending is committed. Waiters of a commit that failed
        # are carried over to the next one.
        self._committed = trio.Event()
        self._carried: list[trio.Event] = []
        self._room = trio.Event()
        self._room.set()

    def put(self, record: AuditRecord) -> None:
        self._pending.append(record)
        if not self._arrived.is_set():
            self._arrived.set()
        if self._waiting_records() >= self.limit and self._room.is_set():
            log.warning("audit store is %d records behind: sessions wait for it", self.limit)
            self._room = trio.Event()

    async def put_durable(self, record: AuditRecord) -> None:
        """Queue `record` and return once it, and every record queued before it, is committed
        and synced to disk. Concurrent callers share commits (group commit). Cancelling the
        wait does not unqueue the record: it is stored all the same."""
        self.put(record)
        done = self._committed
        self._durable = True
        self._urgent.set()
        await done.wait()

    @property
    def full(self) -> bool:
        return not self._room.is_set()

    async def wait_room(self) -> None:
        await self._room.wait()

    def _waiting_records(self) -> int:
        return len(self._pending) + self._writing

    async def run(self) -> None:
        """Store batches until cancelled (a batch being written is finished first)."""
        failures = 0
        while True:
            await self._arrived.wait()
            if not self._urgent.is_set():
                with trio.move_on_after(self.window):
                    await self._urgent.wait()
            if await self._commit():
                failures = 0
                continue
            failures += 1
            await trio.sleep(min(self.retry * 2 ** (failures - 1), RETRY_MAX))

    async def _commit(self) -> bool:
        """Write what is pending in a worker thread; False when the store refused (what it
        did not store is queued again, first)."""
        batch, self._pending = self._pending, []
        done, self._committed = self._committed, trio.Event()
        waiters, self._carried = [done, *self._carried], []
        durable, self._durable = self._durable, False
        self._arrived, self._urgent = trio.Event(), trio.Event()
        self._writing = len(batch)
        try:
            with trio.CancelScope(shield=True):
                stored = await trio.to_thread.run_sync(self._store, batch, durable)
        finally:
            self._writing = 0
        if stored == len(batch):
            for event in waiters:
                event.set()
        else:
            self._pending[:0] = batch[stored:]
            self._carried = waiters
            self._durable = self._durable or durable
            self._arrived.set()
            if self._durable:
                self._urgent.set()
        if self._waiting_records() < self.limit:
            self._room.set()
        return stored == len(batch)

    def _store(self, batch: Sequence[AuditRecord], durable: bool) -> int:
        """Store `batch` (in a worker thread); returns how many records, from the first, are
        stored or accounted for (see the module docstring for a record the store refuses)."""
        if not batch:
            return 0
        try:
            self.store.append_audits(batch, durable=durable)
            return len(batch)
        except StoreUnavailable as e:
            return self._unavailable(e, batch, 0)
        except Exception as e:
            log.warning("audit batch of %d records refused (%r): storing one by one", len(batch), e)
        for index, record in enumerate(batch):
            try:
                self.store.append_audits([record], durable=durable)
                continue
            except StoreUnavailable as e:
                return self._unavailable(e, batch, index)
            except Exception as e:
                refused = e
            try:
                self.store.append_audits([escaped_record(record, refused)], durable=durable)
            except StoreUnavailable as e:
                return self._unavailable(e, batch, index)
            except Exception as e:  # a bug: keep the record in the log, keep the rest flowing
                log.critical("audit record NOT stored (%r): %a", e, record)
                continue
            log.error(
                "audit record of %s could not be stored as it was (%r): stored an escaped copy",
                ascii(record.user),
                refused,
            )
        return len(batch)

    @staticmethod
    def _unavailable(error: StoreUnavailable, batch: Sequence[AuditRecord], index: int) -> int:
        """Log that the store refuses writes after storing `index` records of `batch`."""
        log.error(
            "audit store refuses writes (%s): %d records stay queued", error, len(batch) - index
        )
        return index

    def drain(self) -> None:
        """Store whatever is still queued (the gateway calls it as it stops, on its event
        loop: nothing else runs then). Records the store refuses even now are logged, one
        ASCII line each, rather than lost without a trace."""
        batch, self._pending = self._pending, []
        stored = self._store(batch, True)
        for record in batch[stored:]:
            log.critical("audit record NOT stored (the gateway stops): %a", record)
        for event in [self._committed, *self._carried]:
            event.set()
