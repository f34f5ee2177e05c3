"""The gateway's live sessions and the cancel keys their clients hold: one owner.

A Session registers itself when it is made (`add`). Its engine then asks here for the key the
client gets (`issue_key`: a PostgreSQL BackendKeyData, or a MySQL connection id the user may
KILL) and, once the backend accepted the login, publishes the session (`started`: its row in
the store, which `iap admin sessions` lists). `end` undoes all of it whatever ended the
session, so a key never outlives the session it cancels. With several workers the keys are in
the store too: a cancel or a KILL reaching another worker finds the session there
(`elsewhere`), and ends its hold through the store.

An operator ends a session with `iap admin sessions kill ID` (the store marks its row); the
gateway's watcher calls `check_ends` every few seconds and ends the marked sessions of this
process, as it ends those of a disabled user.

Store calls run in worker threads: nothing here blocks the event loop.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING

import trio

from iap.store.base import AuditRecord, CancelKey, LiveSession, Store, StoreUnavailable, User

if TYPE_CHECKING:
    from iap.services import Services
    from iap.session import Session

log = logging.getLogger("iap.live")

KILL_SECRET = -1  # the secret of a MySQL connection id's key (PostgreSQL's are >= 0)
END_TIMEOUT = 5.0  # seconds an ending session may spend forgetting its store rows


def alive(pid: int) -> bool:
    """Whether process `pid` exists (rows of a gateway that is gone are stale)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune_stale(store: Store) -> list[LiveSession]:
    """Forget the rows of gateway processes that are gone; the live rows, oldest first."""
    rows = store.list_sessions()
    for pid in {r.gateway_pid for r in rows if not alive(r.gateway_pid)}:
        store.delete_sessions_of(pid)
    return [r for r in rows if alive(r.gateway_pid)]


class LiveSessions:
    """The sessions this gateway process serves, and the cancel keys it handed their clients."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._sessions: dict[str, Session] = {}
        self._keys: dict[tuple[int, int], Session] = {}
        self._key_of: dict[str, tuple[int, int]] = {}
        self._published: set[str] = set()  # ids of the sessions with a row in the store

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[Session]:
        """A snapshot: sessions may end while the caller goes through it."""
        return iter(list(self._sessions.values()))

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def add(self, session: Session) -> None:
        self._sessions[session.id] = session

    def by_key(self, key: tuple[int, int]) -> Session | None:
        """The session of a key this process handed out."""
        return self._keys.get(key)

    async def issue_key(
        self, session: Session, backend_key: tuple[int, int], *, secret: int | None = None
    ) -> tuple[int, int]:
        """A fresh key for the client: a random id and `secret` (None: a random one), kept
        with the backend's own key (`backend_key`) for a cancel from another worker."""
        services = self._services
        while True:
            key = (
                secrets.randbelow(2**31 - 1) + 1,
                secrets.randbits(31) if secret is None else secret,
            )
            if key in self._keys:
                continue
            if services.workers > 1:
                shared = CancelKey(
                    *key,
                    session.id,
                    session.user,
                    session.connection.name,
                    *backend_key,
                    services.clock(),
                )
                if not await trio.to_thread.run_sync(services.store.put_cancel_key, shared):
                    continue
            self._keys[key] = session
            self._key_of[session.id] = key
            return key

    async def started(self, session: Session) -> None:
        """The session is established: its row for `iap admin sessions`."""
        row = LiveSession(
            id=session.id,
            gateway_pid=os.getpid(),
            user=session.user,
            connection=session.connection.name,
            kind=session.connection.kind,
            client_address=session.client_address,
            started_at=self._services.clock(),
        )
        try:
            await trio.to_thread.run_sync(self._services.store.put_session, row)
        except StoreUnavailable as e:  # the session goes on; only the listing misses it
            log.warning("session not listed session=%s: %s", session.id, e)
            return
        self._published.add(session.id)

    async def end(self, session: Session) -> None:
        """The session ended: forget it, its key and its row (shielded: this runs while the
        session's task is being cancelled, too)."""
        key = self._key_of.pop(session.id, None)
        if key is not None:
            self._keys.pop(key, None)
        self._sessions.pop(session.id, None)
        session.close()
        published = session.id in self._published
        self._published.discard(session.id)
        shared = key is not None and self._services.workers > 1
        if not (published or shared):
            return
        store = self._services.store

        def forget() -> None:
            if shared:
                assert key is not None
                store.delete_cancel_key(*key)
            if published:
                store.delete_session(session.id)

        with trio.CancelScope(shield=True), trio.move_on_after(END_TIMEOUT):
            try:
                await trio.to_thread.run_sync(forget)
            except StoreUnavailable as e:
                log.warning("session rows not removed session=%s: %s", session.id, e)

    async def elsewhere(
        self, key: tuple[int, int], *, user: str | None = None
    ) -> tuple[CancelKey | None, bool]:
        """A key another worker handed out (None: nobody did, or, with `user`, not to that
        user's session), and whether a hold of its session was ended (through the store: the
        holding worker reads the request back within a second)."""
        from iap.session import CANCELLED

        store = self._services.store
        shared = await trio.to_thread.run_sync(store.get_cancel_key, *key)
        if shared is None or (user is not None and shared.user != user):
            return None, False
        held = await trio.to_thread.run_sync(
            lambda: store.list_requests(status="pending", session_id=shared.session_id)
        )
        for request in held:
            await self._services.approvals.finish(request.id, "cancelled", CANCELLED)
            log.info("cancel ended a hold in another worker session=%s", shared.session_id)
        return shared, bool(held)

    async def check_ends(self) -> None:
        """End the sessions of this process that were disabled users' or that an operator
        asked to end (`iap admin sessions kill`); narrow the others' roles to those their
        users still have."""
        store, pid = self._services.store, os.getpid()
        sessions = list(self)
        users = {s.user for s in sessions}

        def read() -> tuple[dict[str, User | None], dict[str, str]]:
            found = {u: store.get_user(u) for u in users}
            marked = {
                r.id: r.end_reason
                for r in store.list_sessions()
                if r.gateway_pid == pid and r.end_reason is not None
            }
            return found, marked

        found, marked = await trio.to_thread.run_sync(read)
        ending: list[tuple[Session, str]] = []
        for session in sessions:
            if session.revoked is not None:
                continue  # ending already
            user = found.get(session.user)
            if user is None or user.disabled:
                ending.append((session, f"user {session.user} was disabled"))
                continue
            session.keep_roles(user.roles)
            if session.id in marked:
                why = marked[session.id]
                ending.append((session, why))
                self._services.audit.put(
                    AuditRecord(
                        ts=self._services.clock(),
                        user=session.user,
                        connection=session.connection.name,
                        session_id=session.id,
                        decision="killed",
                        outcome="ok",
                        error=why,
                    )
                )
                log.info("session killed session=%s user=%s: %s", session.id, session.user, why)
        async with trio.open_nursery() as nursery:  # each cancels its running statement first
            for session, why in ending:
                nursery.start_soon(session.end, why)
