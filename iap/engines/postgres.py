"""The PostgreSQL engine: one client session from startup to Terminate.

Plays the PostgreSQL server to the client (whose identity is the tunnel's token, so the local
leg needs no password), logs in to the backend with the connection's injected credentials,
and relays. Client -> backend: every message is decoded; statements are classified and the
session's policy decides at Query, and at Bind for the extended protocol (a batch up to its
Sync or Flush is forwarded, held or refused whole, and nothing sent after it overtakes it).
Backend -> client: whole frames are forwarded in bulk; only their headers are scanned, to
follow ReadyForQuery, errors, row counts and the session's lexing state.

A refusal (denied, expired, cancelled) is made by the backend itself: the engine sends it a
Bind of a prepared statement that cannot exist, then Sync, and replaces the backend's error
with its own. So the backend fails the transaction exactly as for any error (a later COMMIT
rolls back), runs nothing of the refused statement, and answers ReadyForQuery in order.

Startup, the backend login, the listener token and cancel keys are in `pg_startup`.
"""

from __future__ import annotations

import logging
import re
import secrets
import ssl
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

import trio

from iap.approvals import who_approves
from iap.classify import Classification, LexState, Risk, classify
from iap.config import ConnectionConfig
from iap.engines.backend_tls import BackendTLSError
from iap.engines.core import ClientGone, StatementGate
from iap.engines.pg_startup import (
    LOGIN_TIMEOUT,
    STARTUP_TIMEOUT,
    StartupRefused,
    cancel_backend,
    check_startup,
    check_token,
    handle_cancel,
    login_backend,
    open_backend,
    read_startup,
    send_fatal,
)
from iap.engines.relay import ClientInput, pump_backend
from iap.netio import FastStream, client_address
from iap.policy import Action, Decision
from iap.services import Services
from iap.session import Session
from iap.store.base import ApprovalRequest
from protocols.errors import ProtocolError, RemoteProtocolError
from protocols.postgres import messages as pgm
from protocols.postgres.connection import CLOSED, NEED_DATA, Connection, Role
from protocols.postgres.framing import (
    command_rows,
    error_code_and_message,
    parameter_status,
    scan_frames,
)
from protocols.postgres.replies import (
    BIND,
    CLOSE,
    DESCRIBE,
    EXECUTE,
    FLUSH,
    FUNCTION_CALL,
    PARSE,
    QUERY,
    SYNC,
    Done,
    Failed,
    Ready,
    ReplyTracker,
    Skipped,
)

log = logging.getLogger("iap.postgres")

MAX_BATCH_BYTES = 64 * 1024 * 1024
DRAIN_TIMEOUT = 30.0  # how long the replies to forwarded statements are awaited at the end
STOP_DRAIN_TIMEOUT = 3.0  # the same when the gateway stops
CLASSIFY_INLINE_BYTES = 16 * 1024  # longer texts are classified in a worker thread


@dataclass(frozen=True, slots=True)
class PreparedStatement:
    """A statement the server holds under a name (or the unnamed one), as iap classified it.

    cls is the classification of its text: kept for the session effects it has when run
    (SQL PREPARE, DEALLOCATE or DISCARD sent through Parse) and for statements that EXECUTE
    another prepared statement, whose class is read again when they are bound."""

    sql: str
    risk: Risk
    reasons: tuple[str, ...]
    cls: Classification | None = None


_UNKNOWN_STATEMENT = "prepared statement {!r} is not known to iap"
_CHANGED_IN_BATCH = (
    "it executes prepared statement {!r}, which an earlier message of the same batch changes"
)
# What every statement is taken for when the gateway runs with IAP_UNSAFE_NO_CLASSIFY=1.
_UNCLASSIFIED = Classification(Risk.READ, (), ("not classified (IAP_UNSAFE_NO_CLASSIFY)",))
_UNANSWERED = "the session ended before the server answered"
KEEPALIVE = object()  # the tracker token of the gateway's own Sync during a hold (keep_alive)


def _has_effects(cls: Classification | None) -> bool:
    return cls is not None and bool(cls.prepares or cls.deallocates or cls.deallocate_all)


def _touches(cls: Classification) -> tuple[frozenset[str], bool]:
    """The prepared names a statement's session effects change, and whether it clears all."""
    names = frozenset(cls.deallocates) | frozenset(n for n, _ in cls.prepares)
    return names, cls.deallocate_all


@dataclass(slots=True)
class _Part:
    """What one decision let through: a Query, or an extended-protocol batch up to its Sync
    or Flush. Audited when the server has answered the unit it belongs to."""

    sql: str
    risk: Risk
    decision: str
    request_id: str | None = None
    started: float = field(default_factory=time.monotonic)
    rows: int | None = None
    error: str | None = None
    skipped: bool = False  # the server discarded it after an earlier error: nothing ran
    effects: Classification | None = None  # a Query's SQL PREPARE/DEALLOCATE/DISCARD

    def touches(self) -> tuple[frozenset[str], bool]:
        return _touches(self.effects) if self.effects is not None else (frozenset(), False)


@dataclass(slots=True)
class _Unit:
    """What one ReadyForQuery ends: a Query, a FunctionCall, or the messages up to a Sync."""

    parts: list[_Part] = field(default_factory=list)


@dataclass(slots=True)
class _Step:
    """The tracker's token for one forwarded extended-protocol message."""

    kind: int
    part: _Part | None = None
    name: str = ""  # Parse, Close: the statement; Bind, Execute: the portal
    statement: PreparedStatement | None = None  # Parse: made; Bind, Execute: what runs
    closes_statement: bool = False
    refusal: bytes | None = None  # our error, sent instead of the backend's to this probe

    def touches(self) -> tuple[frozenset[str], bool]:
        if self.kind == PARSE or self.closes_statement:
            return frozenset((self.name,)), False
        if self.kind == EXECUTE and self.statement is not None and self.statement.cls:
            return _touches(self.statement.cls)
        return frozenset(), False


@dataclass(slots=True)
class _Batch:
    """Extended-protocol messages up to Sync/Flush, with what they do to prepared names."""

    frames: list[bytes] = field(default_factory=list)
    steps: list[_Step] = field(default_factory=list)
    size: int = 0
    parsed: dict[str, PreparedStatement | None] = field(default_factory=dict)  # None = closed
    portals: dict[str, PreparedStatement] = field(default_factory=dict)
    bound: list[tuple[PreparedStatement, pgm.Bind]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)  # names its earlier messages change
    touched_all: bool = False
    calls: int = 0  # fast-path FunctionCall messages


def _param_preview(value: bytes | None, text: bool) -> object:
    if value is None:
        return None
    if text:
        s = value.decode("utf-8", "replace")
        return s if len(s) <= 200 else s[:200] + "..."
    return "\\x" + value[:100].hex() + ("..." if len(value) > 100 else "")


def _bind_preview(bind: pgm.Bind) -> list[object]:
    """A Bind's parameters as an approver sees them (text, or hex for binary ones)."""
    formats = bind.param_formats
    return [
        _param_preview(
            value, (formats[i] if len(formats) > 1 else formats[0] if formats else 0) == 0
        )
        for i, value in enumerate(bind.params)
    ]


def server_version_num(reported: str) -> int | None:
    """server_version_num from the server_version a server reports ("15.18 (Debian ...)",
    "16beta1"); None when it cannot be read (the classifier then assumes the oldest)."""
    match = re.match(r"(\d+)(?:\.(\d+))?", reported)
    if match is None:
        return None
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    return major * 10000 + minor if major >= 10 else None


def _lexes_alike(sql: str) -> bool:
    """True when every lexing state reads sql alike: without a backslash,
    standard_conforming_strings changes nothing, and every client encoding the server
    accepts reads ASCII as ASCII."""
    return sql.isascii() and "\\" not in sql


class PostgresSession:
    """The relay of one PostgreSQL session, and what it knows of the server's state.

    What the server decides (prepared statements and portals, the lexing state, which
    statements ran and how) is learnt from its replies through a ReplyTracker, never from
    what the client asked. While an answer that a statement depends on is outstanding, that
    statement waits for it (or, when only the client's next Sync could bring it, is read in
    the stricter way)."""

    def __init__(
        self,
        session: Session,
        client: trio.abc.Stream,
        backend: trio.abc.Stream,
        client_conn: Connection,
    ) -> None:
        self.session = session
        self.client = client
        self.backend = backend
        self.client_conn = client_conn
        self.client_lock = trio.StrictFIFOLock()
        self.lex = LexState()
        self.server_version: int | None = None  # server_version_num, from the login's report
        self.tracker = ReplyTracker()
        # the server's prepared statements and portals, as its answers confirmed them
        self.prepared: dict[str, PreparedStatement] = {}
        self.prepared_risk: dict[str, Risk] = {}
        self.portals: dict[str, PreparedStatement] = {}
        # forwarded steps and Query parts whose effects on prepared names await an answer
        self.unresolved: list[_Step | _Part] = []
        self.batch = _Batch()
        self.inflight: deque[_Unit] = deque()  # units forwarded, until their ReadyForQuery
        self.open_unit: _Unit | None = None  # parts forwarded at Flush, until the Sync
        self.answered = trio.Event()  # set (and replaced) whenever the server answered
        self.backend_done = False
        self.backend_error: ProtocolError | None = None
        self.safe_functions = frozenset(session.services.config.policy.safe_functions)
        self.input = ClientInput(client, session)
        self.gate = StatementGate(session, self.input, keepalive=self.keep_alive)

    # -- I/O helpers ---------------------------------------------------------------------------

    async def keep_alive(self, request: ApprovalRequest) -> None:
        """A statement is held (every [policy] hold_keepalive): tell the client it still
        waits, which also keeps socket read timeouts and idle middleboxes from ending the
        session, and, when the backend is at ReadyForQuery with nothing of the client's
        outstanding, send it a Sync of the gateway's own (its ReadyForQuery is not passed on)
        so that idle_session_timeout and idle_in_transaction_session_timeout do not end it.
        A Sync at ReadyForQuery changes nothing in the server: no transaction starts or ends.
        Never while an extended-protocol batch is open: there a Sync would end it."""
        left = max(request.expires_at - self.session.services.clock(), 0.0)
        notice = pgm.NoticeResponse.make(
            severity="NOTICE",
            code="00000",
            message=f"iap: request {request.id} still waits for approval ({left:.0f}s left)",
        )
        await self.to_client(notice.encode())
        if self.open_unit is None and not self.inflight and self.tracker.idle:
            self._sent(SYNC, KEEPALIVE)
            await self.to_backend(pgm.Sync().encode())

    async def to_client(self, data: bytes) -> None:
        # Replies and hold notices come from two tasks; the lock keeps their frames whole.
        # Taken without a wait when free (the usual case), which skips a schedule point.
        if self.session.client_gone.is_set():
            return  # the replies still count for the audit; nobody is there to read them
        try:
            self.client_lock.acquire_nowait()
        except trio.WouldBlock:
            await self.client_lock.acquire()
        try:
            await self.client.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self.session.client_gone.set()
        finally:
            self.client_lock.release()

    async def to_backend(self, data: bytes) -> None:
        await self.backend.send_all(data)

    # -- relay ---------------------------------------------------------------------------------

    async def relay(self) -> None:
        """Client messages are read and handled in this task; backend replies in another.

        When the client is done (Terminate, gone, or a protocol error), the replies to what
        was already forwarded are still read, for DRAIN_TIMEOUT at most, so that every
        statement that ran is audited with its outcome."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._pump, nursery.cancel_scope)
            try:
                await self._process_client()
            finally:
                # a stopping gateway has already cancelled what runs: a short wait then
                drain = STOP_DRAIN_TIMEOUT if self.session.stopping else DRAIN_TIMEOUT
                with trio.CancelScope(shield=True), trio.move_on_after(drain):
                    await self._wait_until(lambda: not self.inflight)
                nursery.cancel_scope.cancel()
                self._audit_unanswered()

    async def _pump(self, cancel: trio.CancelScope) -> None:
        try:
            await pump_backend(
                self.backend,
                self._scan_backend,
                self.to_client,
                cancel=cancel,
                log=log,
                session_id=self.session.id,
            )
        finally:
            self.backend_done = True
            self._wake()

    def _wake(self) -> None:
        self.answered.set()
        self.answered = trio.Event()

    async def _wait_until(self, done: Callable[[], bool]) -> None:
        """Wait for the server's answers until done() (or the backend is gone)."""
        while not done() and not self.backend_done:
            await self.answered.wait()

    async def wait_idle(self) -> None:
        """Until the backend has answered everything forwarded so far (or is gone)."""
        await self._wait_until(lambda: self.tracker.idle)

    async def _settle(self, done: Callable[[], bool]) -> None:
        """Before handling the client's next message: wait until done(), reading ahead from
        the client meanwhile so that one who leaves is noticed at once."""
        if done():
            return
        async with trio.open_nursery() as watch:
            watch.start_soon(self.input.read_ahead_while_held)

            async def client_leaves() -> None:
                await self.session.client_gone.wait()
                watch.cancel_scope.cancel()

            watch.start_soon(client_leaves)
            await self._wait_until(done)
            watch.cancel_scope.cancel()
        if not done():
            raise ClientGone()

    # -- what the server says ------------------------------------------------------------------

    def _scan_backend(self, buf: bytearray) -> tuple[int, bytes]:
        """Follow what the backend says: (bytes consumed, bytes to forward, errors replaced)."""
        try:
            return self._follow_backend(buf)
        except ProtocolError as e:
            self.backend_error = e
            raise

    def _follow_backend(self, buf: bytearray) -> tuple[int, bytes]:
        frames, consumed = scan_frames(buf)
        if not consumed:
            return 0, b""
        out: list[bytes] = []
        start = 0
        view = memoryview(buf)
        received = self.tracker.received
        for kind, payload, end in frames:
            if kind == 0x44:  # DataRow: nothing to learn
                continue
            if kind == 0x53:  # ParameterStatus
                self.track_parameter(*parameter_status(view[payload:end]))
                continue
            for event in received(kind, view[payload:end]):
                if isinstance(event, Ready) and event.token is KEEPALIVE:  # ours: not passed on
                    out.append(bytes(buf[start : payload - 5]))
                    start = end
                elif isinstance(event, Failed):
                    replacement = self._on_failed(event, view[payload:end])
                    if replacement is not None:
                        out.append(bytes(buf[start : payload - 5]))
                        out.append(replacement)
                        start = end
                else:
                    self._on_event(event)
        out.append(bytes(buf[start:consumed]))
        view.release()
        self._wake()
        return consumed, b"".join(out)

    def _on_failed(self, event: Failed, payload: memoryview) -> bytes | None:
        """An ErrorResponse answered this message: our refusal's text, or the part fails."""
        step = event.token
        if isinstance(step, _Step) and step.refusal is not None:
            return step.refusal
        part = self._part_of(step)
        if part is not None:
            code, message = error_code_and_message(payload)
            part.error = f"{code}: {message}"
        self._resolve(step)
        return None

    def _on_event(self, event: Done | Skipped | Ready) -> None:
        token = event.token
        if isinstance(event, Ready):
            assert isinstance(token, _Unit)
            self._finish_unit(token, event.status)
        elif isinstance(event, Skipped):
            part = self._part_of(token)
            if part is not None and part.error is None:
                part.skipped = True
            self._resolve(token)
        elif isinstance(token, _Step):
            self._done(token, event)
        elif isinstance(token, _Unit) and event.tag_payload is not None:  # a Query's statement
            self._count_rows(token.parts[-1], event.tag_payload)

    def _done(self, step: _Step, event: Done) -> None:
        if step.kind == PARSE:
            assert step.statement is not None
            self._set_prepared(step.name, step.statement)
        elif step.kind == CLOSE and step.closes_statement:
            self._forget_prepared(step.name)
        elif step.kind == CLOSE:
            self.portals.pop(step.name, None)
        elif step.kind == BIND and step.statement is not None:
            self.portals[step.name] = step.statement
        elif step.kind == EXECUTE:
            if step.statement is not None and step.statement.cls is not None:
                self._apply_effects(step.statement.cls, ran=True)
            if step.part is not None and event.tag_payload is not None:
                self._count_rows(step.part, event.tag_payload)
        self._resolve(step)

    @staticmethod
    def _part_of(token: object) -> _Part | None:
        if isinstance(token, _Step):
            return token.part
        if isinstance(token, _Unit) and token.parts:
            return token.parts[-1]
        return None

    @staticmethod
    def _count_rows(part: _Part, tag_payload: bytes) -> None:
        rows = command_rows(tag_payload)
        if rows is not None:
            part.rows = (part.rows or 0) + rows

    def _finish_unit(self, unit: _Unit, status: str) -> None:
        """ReadyForQuery answered unit. Units sent before it are finished too: their Sync
        reached the server during a COPY, which ignores it, so this one answers them all."""
        while self.inflight:
            done = self.inflight.popleft()
            for part in done.parts:
                if part.effects is not None:  # a Query's SQL PREPARE / DEALLOCATE / DISCARD
                    if not part.skipped:  # the server discarded it: nothing changed
                        self._apply_effects(part.effects, ran=part.error is None)
                    self._resolve(part)
                self._audit_part(part)
            if done is unit:
                break
        if status == "I":  # no transaction open: the server has dropped every portal
            self.portals.clear()

    def _audit_part(self, part: _Part, *, unanswered: bool = False) -> None:
        if unanswered:
            outcome, error = "unknown", part.error or _UNANSWERED
        elif part.error is not None:
            outcome, error = "error", part.error
        elif part.skipped:
            outcome, error = "skipped", "not run: the server skipped it after an earlier error"
        else:
            outcome, error = "ok", None
        self.session.audit(
            part.risk,
            part.decision,
            part.sql,
            request_id=part.request_id,
            outcome=outcome,
            rows=part.rows,
            error=error,
            duration_ms=round((time.monotonic() - part.started) * 1000, 3),
        )

    def _audit_unanswered(self) -> None:
        """The relay ended with units the server never answered: audit them as unknown."""
        units = list(self.inflight)
        if self.open_unit is not None:
            units.append(self.open_unit)
        self.inflight.clear()
        self.open_unit = None
        for unit in units:
            for part in unit.parts:
                self._audit_part(part, unanswered=True)

    # -- the server's prepared statements ------------------------------------------------------

    def _set_prepared(self, name: str, statement: PreparedStatement) -> None:
        self.prepared[name] = statement
        self.prepared_risk[name] = statement.risk

    def _forget_prepared(self, name: str) -> None:
        self.prepared.pop(name, None)
        self.prepared_risk.pop(name, None)

    def _apply_effects(self, cls: Classification, *, ran: bool) -> None:
        """SQL PREPARE / DEALLOCATE / DISCARD share the protocol's statement namespace.

        ran: the server carried out the whole string. Otherwise it stopped somewhere in it,
        and what it did to the names the string touches is not known: they are forgotten
        (a name iap does not know is `unknown`)."""
        if cls.deallocate_all:
            self.prepared.clear()
            self.prepared_risk.clear()
        for name in cls.deallocates:
            self._forget_prepared(name)
        if not ran:
            for name, _ in cls.prepares:
                self._forget_prepared(name)
            return
        reasons = tuple(r for s in cls.statements for r in s.reasons)
        for name, risk in cls.prepares:
            self._set_prepared(name, PreparedStatement(f"<PREPARE {name}>", risk, reasons))

    def _resolve(self, token: object) -> None:
        for i, item in enumerate(self.unresolved):
            if item is token:
                del self.unresolved[i]
                return

    def _pending(self, names: Iterable[str]) -> bool:
        """True while a forwarded message may still change one of these prepared names."""
        wanted = set(names)
        for item in self.unresolved:
            touched, everything = item.touches()
            if everything or touched & wanted:
                return True
        return False

    def track_parameter(self, name: str, value: str) -> None:
        if name == "standard_conforming_strings":
            self.lex = LexState(value == "on", self.lex.client_encoding)
        elif name == "client_encoding":
            self.lex = LexState(self.lex.standard_conforming_strings, value)
        elif name == "server_version":
            self.server_version = server_version_num(value)

    # -- client messages -----------------------------------------------------------------------

    async def _process_client(self) -> None:
        conn = self.client_conn
        while True:
            msg = conn.next_message()
            if msg is NEED_DATA:
                data = await self.input.receive()
                if not data:
                    return
                conn.receive_data(data)
                continue
            if msg is CLOSED:
                return
            if isinstance(msg, pgm.Terminate):
                await self.to_backend(self.client_conn.last_frame)
                return
            await self._handle(msg)

    async def _handle(self, msg: object) -> None:
        frame = self.client_conn.last_frame  # the message as the client sent it
        batch = self.batch
        if isinstance(msg, pgm.Query):
            if batch.frames:  # the server runs what came before it first: decide that first
                await self._end_batch(sync=False)
            await self._simple_query(msg, frame)
        elif isinstance(msg, pgm.Parse):
            cls = await self._classify(msg.query)
            statement = PreparedStatement(msg.query, cls.risk, cls.reasons, cls)
            batch.parsed[msg.name] = statement
            self._add_to_batch(frame, _Step(PARSE, name=msg.name, statement=statement))
            batch.touched.add(msg.name)
        elif isinstance(msg, pgm.Bind):
            statement = await self._bound_statement(msg.statement)
            batch.bound.append((statement, msg))
            batch.portals[msg.portal] = statement
            self._add_to_batch(frame, _Step(BIND, name=msg.portal, statement=statement))
        elif isinstance(msg, pgm.Execute):
            running = batch.portals.get(msg.portal) or self.portals.get(msg.portal)
            step = _Step(EXECUTE, name=msg.portal, statement=running)
            self._add_to_batch(frame, step)
            if running is not None and _has_effects(running.cls):
                names, everything = step.touches()
                batch.touched |= names
                batch.touched_all = batch.touched_all or everything
        elif isinstance(msg, pgm.Close):
            statement_close = msg.kind == "S"
            if statement_close:
                batch.parsed[msg.name] = None
                batch.touched.add(msg.name)
            else:
                batch.portals.pop(msg.name, None)
            self._add_to_batch(frame, _Step(CLOSE, name=msg.name, closes_statement=statement_close))
        elif isinstance(msg, pgm.Describe):
            self._add_to_batch(frame, _Step(DESCRIBE))
        elif isinstance(msg, pgm.FunctionCall):
            batch.calls += 1
            self._add_to_batch(frame, _Step(FUNCTION_CALL))
            await self._end_batch(sync=True)  # a FunctionCall is answered with ReadyForQuery
        elif isinstance(msg, pgm.Sync):
            self._add_to_batch(frame, _Step(SYNC))
            await self._end_batch(sync=True)
        elif isinstance(msg, pgm.Flush):
            self._add_to_batch(frame, _Step(FLUSH))
            await self._end_batch(sync=False)
        elif isinstance(msg, pgm.CopyData | pgm.CopyDone | pgm.CopyFail):
            # COPY data flows after its statement was allowed; outside COPY the server ignores it.
            if batch.frames:
                self._add_to_batch(frame, _Step(frame[0]))
            else:
                self._sent(frame[0], None)
                await self.to_backend(frame)
        else:
            raise ProtocolError(f"unexpected message from client: {type(msg).__name__}")

    async def _classify(self, sql: str) -> Classification:
        """Classify under the server's state: what it depends on (the lexing state, the
        prepared statements it EXECUTEs) is first settled by the server's answers."""
        if not self.session.services.classify_statements:
            return _UNCLASSIFIED
        cls = await self._classify_text(sql, await self._lex_state_for(sql))
        if cls.executes and self._pending(cls.executes):
            await self._settle(lambda: not self._pending(cls.executes))
            cls = await self._classify_text(sql, await self._lex_state_for(sql))
        return cls

    async def _lex_state_for(self, sql: str) -> LexState:
        """The lexing state sql will be read under. Statements in flight may change it (the
        server reports the change just before its ReadyForQuery): a text that lexes alike
        in every state needs no answer; another waits for them, or, when only the client's
        next Sync can bring the answer, is read as under an unknown state (strictly)."""
        if _lexes_alike(sql) or (not self.inflight and not self._open_unit_ran()):
            return self.lex
        if self._open_unit_ran():
            return LexState(None, None)
        await self._settle(lambda: not self.inflight)
        return self.lex

    def _open_unit_ran(self) -> bool:
        return self.open_unit is not None and bool(self.open_unit.parts)

    async def _classify_text(self, sql: str, state: LexState) -> Classification:
        limit = self.session.services.config.policy.max_statement_bytes
        if len(sql) > limit:
            return Classification(
                Risk.UNKNOWN,
                (),
                (
                    f"the statement is {len(sql)} characters long, above the {limit} that iap"
                    " parses ([policy] max_statement_bytes): not read",
                ),
            )
        run = partial(
            classify,
            sql,
            "postgres",
            state=state,
            prepared=self.prepared_risk,
            safe_functions=self.safe_functions,
            server_version=self.server_version,
        )
        if len(sql) <= CLASSIFY_INLINE_BYTES:
            return run()
        # A large text would hold every other session for as long as it takes: a thread.
        return await trio.to_thread.run_sync(run)

    async def _bound_statement(self, name: str) -> PreparedStatement:
        """What a Bind of this statement name will run, as far as the server's answers tell."""
        batch = self.batch
        if name in batch.parsed:
            found = batch.parsed[name]
        else:
            if self._pending((name,)):
                await self._settle(lambda: not self._pending((name,)))
            found = self.prepared.get(name)
        if found is None:
            return PreparedStatement(
                f"<prepared statement {name!r}>", Risk.UNKNOWN, (_UNKNOWN_STATEMENT.format(name),)
            )
        executes = found.cls.executes if found.cls is not None else ()
        if not executes:
            return found
        # Its class is that of the statements it EXECUTEs: as the server holds them now.
        changed = next((n for n in executes if batch.touched_all or n in batch.touched), None)
        if changed is not None:
            reason = _CHANGED_IN_BATCH.format(changed)
            return PreparedStatement(found.sql, Risk.UNKNOWN, (reason,), found.cls)
        cls = await self._classify(found.sql)
        return PreparedStatement(found.sql, cls.risk, cls.reasons, cls)

    def _add_to_batch(self, frame: bytes, step: _Step) -> None:
        self.batch.frames.append(frame)
        self.batch.steps.append(step)
        self.batch.size += len(frame)
        if self.batch.size > MAX_BATCH_BYTES:
            raise ProtocolError(
                f"an extended-protocol batch of more than {MAX_BATCH_BYTES} bytes without Sync"
            )

    # -- decisions -----------------------------------------------------------------------------

    async def _simple_query(self, msg: pgm.Query, frame: bytes) -> None:
        cls = await self._classify(msg.sql)
        decision = self.gate.decide([cls.risk])
        assert decision is not None
        await self._apply(
            decision,
            msg.sql,
            cls.reasons,
            [frame],
            [_Step(QUERY)],
            params=None,
            sync=True,
            effects=cls if _has_effects(cls) else None,
        )

    async def _end_batch(self, *, sync: bool) -> None:
        batch, self.batch = self.batch, _Batch()
        risks = [s.risk for s, _ in batch.bound] + [Risk.UNKNOWN] * batch.calls
        decision = self.gate.decide(risks)
        sql = "; ".join(s.sql for s, _ in batch.bound)
        if batch.calls:
            sql = (sql + "; " if sql else "") + "<fast-path function call>"
        if decision is None:  # parse/describe/close only: nothing runs
            await self._forward(batch.frames, batch.steps, None, sync=sync)
            return
        reasons = tuple(r for s, _ in batch.bound for r in s.reasons)
        if batch.calls:
            reasons += ("fast-path function call: the function is not visible to iap",)
        params: list[object] | None = None
        if decision.action is Action.HOLD and any(b.params for _, b in batch.bound):
            params = [_bind_preview(b) for _, b in batch.bound]  # shown to approvers
        await self._apply(
            decision, sql, reasons, batch.frames, batch.steps, params=params, sync=sync
        )

    async def _apply(
        self,
        decision: Decision,
        sql: str,
        reasons: tuple[str, ...],
        frames: list[bytes],
        steps: list[_Step],
        *,
        params: list[object] | None,
        sync: bool,
        effects: Classification | None = None,
    ) -> None:
        """Forward, hold or refuse one decision's messages."""
        verdict = await self.gate.judge(
            decision,
            sql=sql,
            reasons=reasons,
            wire=b"".join(frames),
            params=params,
            notify=self._notify_hold,
        )
        if not verdict.forward:
            code = "57014" if verdict.cancelled else "42501"
            await self._refuse(code, verdict.message, reasons, sync)
            return
        if verdict.request_id is not None:
            await self.to_client(
                pgm.NoticeResponse.make(
                    severity="NOTICE",
                    code="00000",
                    message=f"iap: request {verdict.request_id} approved; running the statement",
                ).encode()
            )
        part = _Part(
            sql, decision.risk, verdict.label, request_id=verdict.request_id, effects=effects
        )
        await self._forward(frames, steps, part, sync=sync)

    async def _notify_hold(self, request: ApprovalRequest) -> None:
        if request.approval == "self":
            how = f"To release it run: iap approve {request.id}"
        else:  # four eyes: the requester cannot approve, so say who can
            who = who_approves("peer", request.approver_roles, request.min_approvals)
            how = f"It needs {who} (not you) to run: iap approve {request.id}"
        notice = pgm.NoticeResponse.make(
            severity="WARNING",
            code="01000",
            message=(
                f"iap: statement held for approval: request {request.id} ({request.risk}). {how}"
            ),
            detail="; ".join(request.reasons) or None,
            hint=(
                f"It waits until {time.strftime('%H:%M:%S', time.localtime(request.expires_at))}. "
                f"Deny it with: iap deny {request.id}. Cancel it with Ctrl-C."
            ),
        )
        await self.to_client(notice.encode())

    async def _forward(
        self, frames: list[bytes], steps: list[_Step], part: _Part | None, *, sync: bool
    ) -> None:
        """Send messages to the backend, telling the tracker first what each one is."""
        audit = self.session.services.audit
        if audit.full:  # the trail is far behind: wait rather than run unaudited statements
            await audit.wait_room()
        if part is not None:
            await self.session.audit_ahead(part.risk, part.decision, part.sql, part.request_id)
        unit = self.open_unit or _Unit()
        if part is not None:
            unit.parts.append(part)
            if part.effects is not None:
                self.unresolved.append(part)
        if sync:
            self.open_unit = None
            self.inflight.append(unit)
        else:
            self.open_unit = unit
        for frame, step in zip(frames, steps, strict=True):
            step.part = part
            kind = frame[0]
            token: _Step | _Unit = unit if kind in (QUERY, SYNC, FUNCTION_CALL) else step
            names, everything = step.touches()
            if names or everything:
                self.unresolved.append(step)
            self._sent(kind, token)
        await self.to_backend(b"".join(frames))

    def _sent(self, kind: int, token: object) -> None:
        """Tell the tracker a message goes to the server (before it goes)."""
        for event in self.tracker.sent(kind, token):
            if isinstance(event, Skipped):  # the server skips it: an earlier message failed
                self._on_event(event)

    async def _refuse(self, code: str, message: str, reasons: tuple[str, ...], sync: bool) -> None:
        """Make the backend fail this unit (see the module docstring), with our error."""
        error = pgm.ErrorResponse.make(
            severity="ERROR", code=code, message=message, detail="; ".join(reasons) or None
        ).encode()
        missing = "iap_refused_" + secrets.token_hex(8)
        probe = pgm.Bind(
            portal="", statement=missing, param_formats=(), params=(), result_formats=()
        ).encode()
        # Refused at Flush: the backend fails the batch now; the client's Sync ends it.
        end = pgm.Sync() if sync else pgm.Flush()
        await self._forward(
            [probe, end.encode()],
            [_Step(BIND, refusal=error), _Step(SYNC if sync else FLUSH)],
            None,
            sync=sync,
        )


# -- startup ---------------------------------------------------------------------------------


async def serve(
    services: Services,
    client: trio.abc.Stream,
    initial: bytes,
    *,
    user: str,
    roles: tuple[str, ...],
    connection: ConnectionConfig,
    session_id: str,
    client_address: str = "",
) -> None:
    """Serve one client connection that came through the agent's tunnel until it ends."""
    conn = Connection(Role.SERVER)
    with trio.move_on_after(STARTUP_TIMEOUT) as scope:
        first, client = await read_startup(client, conn, initial)
    if scope.cancelled_caught or first is None:
        return
    if isinstance(first, pgm.CancelRequest):
        await handle_cancel(services, first.process_id, first.secret_key)
        return
    await _serve_session(
        services,
        client,
        conn,
        first,
        user=user,
        roles=roles,
        connection=connection,
        session_id=session_id,
        client_address=client_address,
    )


async def serve_listener(
    services: Services,
    plain: FastStream,
    connection: ConnectionConfig,
    context: ssl.SSLContext,
) -> None:
    """Serve one client of a connection's direct listener (no agent): the client asks for
    TLS and gives a listener token (`iap token`) as its cleartext password."""
    conn = Connection(Role.SERVER)
    client: trio.abc.Stream = plain
    peer = client_address(plain.socket)
    try:
        with trio.move_on_after(STARTUP_TIMEOUT) as scope:
            first, client = await read_startup(plain, conn, b"", tls=context)
            if isinstance(first, pgm.StartupMessage):
                if client is plain:
                    raise StartupRefused(
                        "28000",
                        "iap's direct listener needs TLS: connect with sslmode=require"
                        " (or verify-full with the gateway's CA)",
                    )
                claims = await check_token(services, client, conn, first, connection)
        if scope.cancelled_caught:
            log.info("listener startup timeout peer=%s connection=%s", peer, connection.name)
            return
        if first is None:
            return
        if isinstance(first, pgm.CancelRequest):
            await handle_cancel(services, first.process_id, first.secret_key)
            return
        session_id = secrets.token_hex(8)
        log.info(
            "listener open peer=%s user=%s connection=%s session=%s",
            peer,
            claims.sub,
            connection.name,
            session_id,
        )
        await _serve_session(
            services,
            client,
            conn,
            first,
            user=claims.sub,
            roles=claims.roles,
            connection=connection,
            session_id=session_id,
            client_address=peer,
        )
    except StartupRefused as e:
        log.info("listener refused peer=%s connection=%s: %s", peer, connection.name, e)
        await send_fatal(client, e.code, str(e))
    finally:
        if client is not plain:
            await client.aclose()


async def _serve_session(
    services: Services,
    client: trio.abc.Stream,
    conn: Connection,
    first: pgm.StartupMessage,
    *,
    user: str,
    roles: tuple[str, ...],
    connection: ConnectionConfig,
    session_id: str,
    client_address: str,
) -> None:
    session = Session(services, user, roles, connection, client_address, id=session_id)
    try:
        passed = check_startup(first, connection)
        try:
            with trio.fail_after(LOGIN_TIMEOUT):
                backend = await open_backend(connection)
        except BackendTLSError as e:
            log.warning("backend TLS failed connection=%s: %s", connection.name, e)
            raise StartupRefused("08006", f"iap: {e}") from e
        except (OSError, trio.BrokenResourceError, trio.TooSlowError) as e:
            log.warning("backend unreachable connection=%s: %r", connection.name, e)
            raise StartupRefused(
                "08006", f"iap could not reach the database of connection {connection.name}"
            ) from e
        async with backend:
            try:
                with trio.fail_after(LOGIN_TIMEOUT):
                    statuses, key, ready = await login_backend(backend, connection, passed)
            except trio.TooSlowError:
                raise StartupRefused(
                    "08006", f"the database did not finish the login within {LOGIN_TIMEOUT:g}s"
                ) from None
            except RemoteProtocolError as e:
                raise StartupRefused(
                    "08P01", f"the database spoke an unexpected protocol: {e}"
                ) from e
            pg = PostgresSession(session, client, backend, conn)
            session.engine = pg
            session.settled = pg.wait_idle
            out: list[bytes] = []
            negotiation = conn.protocol_negotiation()
            if negotiation is not None:
                out.append(conn.send(negotiation))
            out.append(conn.send(pgm.AuthenticationOk()))
            for status in statuses:
                pg.track_parameter(status.name, status.value)
                out.append(conn.send(status))
            if key is not None:
                backend_key = (key.process_id, key.secret_key)

                async def cancel_running() -> None:
                    await cancel_backend(connection, *backend_key)

                session.cancel_backend = cancel_running
                cancel_key = await services.live.issue_key(session, backend_key)
                out.append(conn.send(pgm.BackendKeyData(*cancel_key)))
            out.append(conn.send(ready))
            await client.send_all(b"".join(out))
            await services.live.started(session)
            log.info(
                "session start session=%s user=%s connection=%s",
                session.id,
                user,
                connection.name,
            )
            try:
                with session.scope:
                    await pg.relay()
            except* (ClientGone, trio.BrokenResourceError, trio.ClosedResourceError):
                pass
            except* ProtocolError as group:
                error = group.exceptions[0]
                log.warning("protocol error session=%s: %s", session.id, error)
                await send_fatal(client, "08P01", f"iap: protocol violation: {error}")
            if pg.backend_error is not None:
                log.warning("backend protocol error session=%s: %s", session.id, pg.backend_error)
                await send_fatal(
                    client,
                    "08P01",
                    "iap: the database's replies could not be followed, so the session is"
                    f" closed: {pg.backend_error}",
                )
            if session.revoked is not None:
                log.info("session revoked session=%s: %s", session.id, session.revoked)
                why = "" if session.stopping else "access revoked: "
                await send_fatal(client, "57P01", f"iap: {why}{session.revoked}")
    except StartupRefused as e:
        log.info("session refused user=%s connection=%s: %s", user, connection.name, e)
        await send_fatal(client, e.code, str(e))
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    finally:
        await services.live.end(session)
        log.info("session end session=%s", session.id)
