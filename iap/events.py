"""In-process publish/subscribe of session and approval events, for `/v1/events`.

The gateway publishes an `Event` when a session opens or closes and when a statement is held,
released, denied, expired, cancelled or abandoned. Each subscriber (one SSE stream) sees the
events it is an audience of: its own user's, and holds it may approve (by role). A slow
subscriber loses events rather than slowing a session down.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

import trio


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # session.opened | session.closed | request.held | request.<status>
    user: str  # whose session / request it is
    data: dict[str, object]
    session_id: str | None = None
    approver_roles: tuple[str, ...] = ()  # peers with one of these roles see it too
    ts: float = field(default_factory=time.time)


@dataclass(slots=True)
class _Subscriber:
    user: str
    roles: frozenset[str]
    session_id: str | None
    send: trio.MemorySendChannel[Event]
    everything: bool = False  # the gateway's own listeners (iap/notify.py)


class EventBus:
    def __init__(self, buffer: int = 256) -> None:
        self._subs: dict[int, _Subscriber] = {}
        self._ids = itertools.count()
        self._buffer = buffer

    @contextmanager
    def subscribe(
        self, *, user: str, roles: tuple[str, ...], session_id: str | None = None
    ) -> Iterator[trio.MemoryReceiveChannel[Event]]:
        send, receive = trio.open_memory_channel[Event](self._buffer)
        key = next(self._ids)
        self._subs[key] = _Subscriber(user, frozenset(roles), session_id, send)
        try:
            yield receive
        finally:
            del self._subs[key]
            send.close()

    @contextmanager
    def subscribe_all(self) -> Iterator[trio.MemoryReceiveChannel[Event]]:
        """Every event, for the gateway's own use (never for a user's stream)."""
        send, receive = trio.open_memory_channel[Event](self._buffer)
        key = next(self._ids)
        self._subs[key] = _Subscriber("", frozenset(), None, send, everything=True)
        try:
            yield receive
        finally:
            del self._subs[key]
            send.close()

    def publish(self, event: Event) -> None:
        for sub in list(self._subs.values()):
            if sub.everything:
                with suppress(trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
                    sub.send.send_nowait(event)
                continue
            own = event.user == sub.user and (
                sub.session_id is None or sub.session_id == event.session_id
            )
            reviewer = sub.session_id is None and bool(sub.roles & set(event.approver_roles))
            if own or reviewer:
                with suppress(trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
                    sub.send.send_nowait(event)
