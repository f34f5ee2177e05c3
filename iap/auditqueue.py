"""The queue between sessions and the audit store.

Sessions add one record per decision (`put`, no await: it is called while a reply is being
forwarded); `run` stores what gathered every `window` seconds in one transaction, in a
worker thread. Nothing is dropped: when the store falls behind by `limit` records, `full`
turns true and sessions wait (`wait_room`) before forwarding their next statement, so
clients slow down instead of the trail losing rows. On shutdown, `drain` stores the rest.
"""

from __future__ import annotations

import logging

import trio

from iap.store.base import AuditRecord, Store

log = logging.getLogger("iap.audit")

WINDOW = 0.05  # seconds records gather before a batch is written
LIMIT = 100_000  # records waiting before sessions are made to wait


class AuditQueue:
    def __init__(self, store: Store, *, window: float = WINDOW, limit: int = LIMIT) -> None:
        self.store = store
        self.window = window
        self.limit = limit
        self._pending: list[AuditRecord] = []
        self._arrived = trio.Event()
        self._room = trio.Event()
        self._room.set()

    def put(self, record: AuditRecord) -> None:
        self._pending.append(record)
        if not self._arrived.is_set():
            self._arrived.set()
        if len(self._pending) >= self.limit and self._room.is_set():
            log.warning("audit store is %d records behind: sessions wait for it", self.limit)
            self._room = trio.Event()

    @property
    def full(self) -> bool:
        return not self._room.is_set()

    async def wait_room(self) -> None:
        await self._room.wait()

    async def run(self) -> None:
        """Store batches until cancelled (a batch being written is finished first)."""
        while True:
            await self._arrived.wait()
            await trio.sleep(self.window)
            batch, self._pending = self._pending, []
            self._arrived = trio.Event()
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(self.store.append_audits, batch)
            if len(self._pending) < self.limit:
                self._room.set()

    def drain(self) -> None:
        """Store whatever is still queued (the gateway calls it as it stops)."""
        batch, self._pending = self._pending, []
        if batch:
            self.store.append_audits(batch)
