"""Following the server's answers to commands without decoding result sets.

MySQL answers each command in order, and the shape of the answer depends on the command:
a result (OK, ERR, or column count, column definitions, rows and a terminator, repeated while
the status says more results exist), a COM_STMT_PREPARE answer (its OK, then parameter and
column definitions), rows of a cursor fetch, a field list, a single packet, or nothing.
`ResponseTracker` is fed the server's physical packets in order and says when each answer
ends, with what the relay audits: rows, affected rows, the error, the prepared statement id,
and how many results of a multi-statement answer ended before an error (the server runs
those statements, and stops at the one that failed).

Only first bytes and terminators are read. Must never do I/O or import from ``iap``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum, auto
from typing import Generic, TypeVar

from protocols.errors import RemoteProtocolError
from protocols.mysql.messages import (
    ERR_HEADER,
    LOCAL_INFILE_HEADER,
    OK_HEADER,
    Command,
    ErrPacket,
    OkPacket,
    PrepareOk,
    Status,
    is_eof,
    terminator_status,
)
from protocols.mysql.packets import MAX_CHUNK, read_lenenc_int

T = TypeVar("T")


class Expect(Enum):
    RESULT = auto()  # COM_QUERY, COM_STMT_EXECUTE, COM_PROCESS_INFO
    PREPARE = auto()  # COM_STMT_PREPARE
    ROWS = auto()  # COM_STMT_FETCH
    FIELDS = auto()  # COM_FIELD_LIST
    ONE = auto()  # one packet: OK, ERR, EOF or a string (PING, INIT_DB, STATISTICS, ...)
    NOTHING = auto()  # COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA, COM_QUIT


EXPECT: dict[int, Expect] = {
    Command.QUERY: Expect.RESULT,
    Command.STMT_EXECUTE: Expect.RESULT,
    Command.PROCESS_INFO: Expect.RESULT,
    Command.STMT_PREPARE: Expect.PREPARE,
    Command.STMT_FETCH: Expect.ROWS,
    Command.FIELD_LIST: Expect.FIELDS,
    Command.STMT_CLOSE: Expect.NOTHING,
    Command.STMT_SEND_LONG_DATA: Expect.NOTHING,
    Command.QUIT: Expect.NOTHING,
}
"""What each command is answered with; commands not listed get one packet."""


class _State(Enum):
    FIRST = auto()
    COLUMNS = auto()
    COLUMNS_EOF = auto()
    ROWS = auto()
    SKIP = auto()
    FIELDS = auto()


@dataclass(slots=True)
class Outcome(Generic[T]):
    """What one command's answer said, and the caller's tag for the command."""

    tag: T
    expect: Expect
    rows: int = 0  # rows of result sets
    affected: int = 0  # affected rows of OK packets
    results: int = 0  # result sets and OKs seen
    completed: int = 0  # of them, those that ended (an OK, a result set's terminator)
    error: ErrPacket | None = None
    prepared: PrepareOk | None = None
    status: int = 0


class ResponseTracker(Generic[T]):
    """Feed the server's physical packet payloads in order; `feed` returns the Outcome of a
    command whose answer that packet ended. Commands are announced with `expect` before
    their answers can arrive (commands answered with nothing end at once: see `expect`)."""

    def __init__(self, deprecate_eof: bool) -> None:
        self.deprecate_eof = deprecate_eof
        self._queue: deque[Outcome[T]] = deque()
        self._state = _State.FIRST
        self._remaining = 0
        self._continuation = False  # inside a payload of 16 MiB or more

    @property
    def pending(self) -> int:
        return len(self._queue)

    @property
    def current(self) -> T | None:
        """The tag of the command whose answer the next packet belongs to."""
        return self._queue[0].tag if self._queue else None

    def abandon(self) -> list[Outcome[T]]:
        """The commands still waiting for their answers (the first one with what arrived of
        its answer so far), forgotten: the connection ended before they were answered."""
        left = list(self._queue)
        self._queue.clear()
        self._state = _State.FIRST
        self._continuation = False
        return left

    def expect(self, expect: Expect, tag: T) -> Outcome[T] | None:
        """Announce a command; returns its Outcome at once when no answer will come."""
        outcome = Outcome(tag, expect)
        if expect is Expect.NOTHING and not self._queue:
            return outcome
        # an answerless command behind others ends when they have
        self._queue.append(outcome)
        return None

    def feed(self, payload: bytes | memoryview) -> list[Outcome[T]]:
        """One physical packet's payload; the commands whose answers it completed."""
        if self._continuation:
            self._continuation = len(payload) == MAX_CHUNK
            return []
        self._continuation = len(payload) == MAX_CHUNK
        if not self._queue:
            raise RemoteProtocolError("the server sent a packet no command asked for")
        current = self._queue[0]
        if self._step(current, payload):
            self._queue.popleft()
            self._state = _State.FIRST
            done = [current]
            while self._queue and self._queue[0].expect is Expect.NOTHING:
                done.append(self._queue.popleft())
            return done
        return []

    # -- the grammar -------------------------------------------------------------------------

    def _step(self, out: Outcome[T], p: bytes | memoryview) -> bool:
        """True when p ends out's answer."""
        if not p:
            raise RemoteProtocolError("empty packet in a server answer")
        state = self._state
        head = p[0]
        if state is _State.FIRST:
            return self._first(out, p, head)
        if state is _State.SKIP:
            self._remaining -= 1
            return self._remaining == 0
        if state is _State.COLUMNS:
            self._remaining -= 1
            if self._remaining == 0:
                self._state = _State.ROWS if self.deprecate_eof else _State.COLUMNS_EOF
            return False
        if state is _State.COLUMNS_EOF:
            if not is_eof(p, False):
                raise RemoteProtocolError("expected EOF after the column definitions")
            status = terminator_status(p, False)
            out.status = status
            if status & Status.CURSOR_EXISTS:  # rows come later, by COM_STMT_FETCH
                out.completed += 1
                return True
            self._state = _State.ROWS
            return False
        if state is _State.FIELDS:
            if head == ERR_HEADER:
                out.error = ErrPacket.decode(p)
                return True
            return is_eof(p, self.deprecate_eof)
        # ROWS
        if head == ERR_HEADER:
            out.error = ErrPacket.decode(p)
            return True
        if is_eof(p, self.deprecate_eof):
            out.status = terminator_status(p, self.deprecate_eof)
            out.completed += 1
            if out.status & Status.MORE_RESULTS_EXISTS and out.expect is Expect.RESULT:
                self._state = _State.FIRST
                return False
            return True
        out.rows += 1
        return False

    def _first(self, out: Outcome[T], p: bytes | memoryview, head: int) -> bool:
        expect = out.expect
        if head == ERR_HEADER:
            out.error = ErrPacket.decode(p)
            return True
        if expect is Expect.ONE:
            if head == OK_HEADER and len(p) >= 7:
                ok = OkPacket.decode(p)
                out.status, out.affected = ok.status, ok.affected_rows
            return True
        if expect is Expect.ROWS:
            self._state = _State.ROWS
            return self._step(out, p)
        if expect is Expect.FIELDS:
            self._state = _State.FIELDS
            return self._step(out, p)
        if expect is Expect.PREPARE:
            prepared = PrepareOk.decode(p)
            out.prepared = prepared
            eofs = 0 if self.deprecate_eof else (prepared.params > 0) + (prepared.columns > 0)
            self._remaining = prepared.params + prepared.columns + eofs
            self._state = _State.SKIP
            return self._remaining == 0
        # RESULT
        out.results += 1
        if head == OK_HEADER:
            ok = OkPacket.decode(p)
            out.status = ok.status
            out.affected += ok.affected_rows
            out.completed += 1
            return not ok.status & Status.MORE_RESULTS_EXISTS
        if head == LOCAL_INFILE_HEADER:
            raise RemoteProtocolError("the server asked for a LOCAL INFILE, which iap never allows")
        columns, _ = read_lenenc_int(p, 0)
        if not columns:
            raise RemoteProtocolError("a result set with no columns")
        self._remaining = columns
        self._state = _State.COLUMNS
        return False
