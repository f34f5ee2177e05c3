"""Which client message each PostgreSQL server reply answers: the reply tracker (sans-IO).

A proxy that forwards a client's messages must learn what ran, and how, from the server's
replies alone: a Parse the server rejected did not create its statement, a message the
server discarded after an error did not run, a COMMIT that failed did not commit. This
module follows the protocol's rules (PostgreSQL docs, "Message Flow") to pair every reply
with the frontend message it answers:

- Parse, Bind and Close are answered by ParseComplete, BindComplete and CloseComplete;
  Describe by [ParameterDescription] then RowDescription or NoData; Execute by DataRow*
  then CommandComplete, EmptyQueryResponse or PortalSuspended (or a COPY).
- Sync, a simple Query and a FunctionCall are answered by ReadyForQuery. A simple Query is
  one unit however many statements it holds: each statement ends with CommandComplete (or
  EmptyQueryResponse), and an error ends the Query.
- After an error in the extended protocol the server discards every message up to the next
  Sync (Query and FunctionCall included).
- Flush is never answered. During COPY FROM STDIN the server ignores Sync and Flush;
  outside COPY it ignores CopyData, CopyDone and CopyFail.
- NoticeResponse, ParameterStatus and NotificationResponse may come at any time.

Feed it every frontend message forwarded, in order (`sent`, with a token of the caller's
choosing), and every backend message received (`received`); it answers with events naming
those tokens. A reply the rules do not allow means the tracker no longer knows what the
server did: it raises RemoteProtocolError, and the caller must end the session (fail closed).

Must never: do I/O, decode payloads (the caller reads tags and errors), or guess.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

from protocols.errors import RemoteProtocolError

__all__ = ["Done", "Event", "Failed", "Ready", "ReplyTracker", "Skipped"]

# Frontend message types (the first byte of each frame).
QUERY: Final = ord("Q")
PARSE: Final = ord("P")
BIND: Final = ord("B")
DESCRIBE: Final = ord("D")
EXECUTE: Final = ord("E")
CLOSE: Final = ord("C")
SYNC: Final = ord("S")
FLUSH: Final = ord("H")
FUNCTION_CALL: Final = ord("F")
COPY_DATA: Final = ord("d")
COPY_DONE: Final = ord("c")
COPY_FAIL: Final = ord("f")

_COPY_INPUT: Final = frozenset((COPY_DATA, COPY_DONE, COPY_FAIL))
_TRACKED: Final = (
    frozenset((QUERY, PARSE, BIND, DESCRIBE, EXECUTE, CLOSE, SYNC, FLUSH, FUNCTION_CALL))
    | _COPY_INPUT
)


@dataclass(frozen=True, slots=True)
class Done:
    """The message was carried out: for an Execute, or for each statement of a Query, the
    command tag (empty for an empty query, "" too for PortalSuspended with suspended=True)."""

    token: object
    kind: int
    tag_payload: bytes | None = None  # the CommandComplete payload, for the caller to read
    suspended: bool = False


@dataclass(frozen=True, slots=True)
class Failed:
    """The server answered this message with an ErrorResponse (token None: an error that
    answers no message, such as a FATAL at idle)."""

    token: object
    kind: int


@dataclass(frozen=True, slots=True)
class Skipped:
    """The server discarded this message after an earlier error: it did not run."""

    token: object
    kind: int


@dataclass(frozen=True, slots=True)
class Ready:
    """ReadyForQuery for a Sync, a Query or a FunctionCall; status is I, T or E."""

    token: object
    kind: int
    status: str


Event = Done | Failed | Skipped | Ready

_NONE: Final[tuple[Event, ...]] = ()


class _Pending:
    __slots__ = ("kind", "token")

    def __init__(self, kind: int, token: object) -> None:
        self.kind = kind
        self.token = token


class ReplyTracker:
    """Pairs backend replies with the frontend messages they answer (see module docstring)."""

    __slots__ = ("_copy", "_queue", "_skipping")

    def __init__(self) -> None:
        self._queue: deque[_Pending] = deque()
        self._skipping = False  # after an extended-protocol error, until Sync
        self._copy: int | None = None  # ord("G") copy-in, ord("H") copy-out, None

    @property
    def idle(self) -> bool:
        """True when every message sent so far has been answered (or needs no answer)."""
        return not any(p.kind not in _COPY_INPUT and p.kind != FLUSH for p in self._queue)

    def sent(self, kind: int, token: object = None) -> tuple[Event, ...]:
        """A frontend message of this type was forwarded to the server. While the server
        skips to Sync after an error, a message it will discard is reported Skipped at once."""
        if kind not in _TRACKED:
            raise ValueError(f"the tracker does not follow frontend message {chr(kind)!r}")
        if self._skipping and not self._queue and kind != SYNC:
            if kind == FLUSH or kind in _COPY_INPUT:
                return _NONE
            return (Skipped(token, kind),)
        self._queue.append(_Pending(kind, token))
        return _NONE

    # -- replies -------------------------------------------------------------------------------

    def received(self, kind: int, payload: bytes | memoryview = b"") -> tuple[Event, ...]:
        """A backend message arrived: what it says about the messages sent."""
        if kind == 0x44:  # DataRow: the hot path, part of the Execute or Query at the head
            if self._copy is None and self._queue:
                return _NONE
            raise self._lost("DataRow")
        if kind in (0x4E, 0x53, 0x41):  # NoticeResponse, ParameterStatus, Notification
            return _NONE
        if kind == 0x5A:  # ReadyForQuery
            return self._ready(payload)
        if kind == 0x45:  # ErrorResponse
            return self._error()
        if self._copy == 0x48 and kind in (0x64, 0x63):  # CopyData/CopyDone of COPY TO STDOUT
            return _NONE
        head = self._head()
        if head is None:
            raise self._lost(f"message {chr(kind)!r} with nothing outstanding")
        hk = head.kind
        if kind == 0x31 and hk == PARSE:  # ParseComplete
            return (Done(self._pop().token, hk),)
        if kind == 0x32 and hk == BIND:  # BindComplete
            return (Done(self._pop().token, hk),)
        if kind == 0x33 and hk == CLOSE:  # CloseComplete
            return (Done(self._pop().token, hk),)
        if hk == DESCRIBE:
            if kind == 0x74:  # ParameterDescription: RowDescription or NoData follows
                return _NONE
            if kind in (0x54, 0x6E):  # RowDescription, NoData
                return (Done(self._pop().token, hk),)
        if hk in (EXECUTE, QUERY):
            if kind == 0x54 and hk == QUERY:  # RowDescription of a statement's result
                return _NONE
            if kind in (0x43, 0x49):  # CommandComplete, EmptyQueryResponse
                if self._copy == 0x47:
                    self._end_copy_in(error=False)
                self._copy = None
                tag = bytes(payload) if kind == 0x43 else None
                token = self._pop().token if hk == EXECUTE else head.token
                return (Done(token, hk, tag),)
            if kind == 0x73 and hk == EXECUTE:  # PortalSuspended
                return (Done(self._pop().token, hk, None, suspended=True),)
            if kind in (0x47, 0x48) and self._copy is None:  # CopyIn/CopyOutResponse
                self._copy = kind
                return _NONE
        if kind == 0x56 and hk == FUNCTION_CALL:  # FunctionCallResponse; ReadyForQuery follows
            return (Done(head.token, hk),)
        raise self._lost(f"message {chr(kind)!r} while {chr(hk)!r} is outstanding")

    def _ready(self, payload: bytes | memoryview) -> tuple[Event, ...]:
        status = bytes(payload[:1]).decode("ascii", "replace")
        queue = self._queue
        while queue:
            entry = queue.popleft()
            kind = entry.kind
            if kind == SYNC or (kind in (QUERY, FUNCTION_CALL) and not self._skipping):
                self._skipping = False
                self._copy = None
                return (Ready(entry.token, kind, status),)
            if kind != FLUSH and kind not in _COPY_INPUT:
                raise self._lost(f"ReadyForQuery while {chr(kind)!r} is unanswered")
        raise self._lost("ReadyForQuery with nothing outstanding")

    def _error(self) -> tuple[Event, ...]:
        if self._copy == 0x47:
            self._end_copy_in(error=True)
        self._copy = None
        head = self._head()
        if head is None:
            return (Failed(None, 0),)
        if head.kind in (QUERY, FUNCTION_CALL):  # stays outstanding until its ReadyForQuery
            return (Failed(head.token, head.kind),)
        if head.kind == SYNC:
            raise self._lost("ErrorResponse for a Sync")
        self._pop()
        # The server now discards everything up to the next Sync: those messages did not run.
        self._skipping = True
        events: list[Event] = [Failed(head.token, head.kind)]
        queue = self._queue
        while queue and queue[0].kind != SYNC:
            entry = queue.popleft()
            if entry.kind != FLUSH and entry.kind not in _COPY_INPUT:
                events.append(Skipped(entry.token, entry.kind))
        return tuple(events)

    def _head(self) -> _Pending | None:
        """The oldest message still owed an answer (Flush and stray COPY input dropped)."""
        queue = self._queue
        while queue:
            kind = queue[0].kind
            if kind == FLUSH or (kind in _COPY_INPUT and self._copy != 0x47):
                queue.popleft()
                continue
            if self._skipping:
                return None  # only ReadyForQuery may come while the server skips to Sync
            return queue[0]
        return None

    def _pop(self) -> _Pending:
        return self._queue.popleft()

    def _end_copy_in(self, *, error: bool) -> None:
        """COPY FROM STDIN ended: drop the COPY input (and the Sync and Flush the server
        ignored during it) that follows the Execute or Query at the head."""
        queue = self._queue
        i = 1
        saw_data = False
        while i < len(queue):
            kind = queue[i].kind
            if kind in (COPY_DONE, COPY_FAIL):
                del queue[i]
                return
            if kind in (COPY_DATA, FLUSH):
                saw_data = saw_data or kind == COPY_DATA
                del queue[i]
            elif kind == SYNC:
                if error and saw_data:
                    raise self._lost("a Sync inside COPY data, then an error")
                del queue[i]
            elif error:
                return  # the server failed at this message ("unexpected message during COPY")
            else:
                raise self._lost(f"COPY completed while {chr(kind)!r} came before CopyDone")
        if not error:
            raise self._lost("COPY completed before the client sent CopyDone")

    def _lost(self, what: str) -> RemoteProtocolError:
        return RemoteProtocolError(f"the server's replies do not follow the protocol: {what}")
