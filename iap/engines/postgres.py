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

import hashlib
import logging
import secrets
import ssl
import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial

import trio

from iap.classify import Classification, LexState, Risk, classify
from iap.config import ConnectionConfig
from iap.engines.backend_tls import BackendTLSError
from iap.engines.cancel_keys import forget_cancel_key, new_cancel_key
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
from iap.netio import FastStream
from iap.policy import Action, Decision
from iap.services import Services
from iap.session import Session
from protocols.errors import ProtocolError, RemoteProtocolError
from protocols.postgres import messages as pgm
from protocols.postgres.connection import CLOSED, NEED_DATA, Connection, Role
from protocols.postgres.framing import (
    command_rows,
    error_code_and_message,
    parameter_status,
    scan_frames,
)

log = logging.getLogger("iap.postgres")

MAX_BATCH_BYTES = 64 * 1024 * 1024


class ClientGone(Exception):
    """The client closed its side."""


@dataclass(frozen=True, slots=True)
class PreparedStatement:
    sql: str
    risk: Risk
    reasons: tuple[str, ...]


_UNKNOWN_STATEMENT = "prepared statement {!r} is not known to iap"
# What every statement is taken for when the gateway runs with IAP_UNSAFE_NO_CLASSIFY=1.
_UNCLASSIFIED = Classification(Risk.READ, (), ("not classified (IAP_UNSAFE_NO_CLASSIFY)",))


@dataclass(slots=True)
class _Unit:
    """What the backend will answer with one ReadyForQuery (a Query, or a batch to Sync)."""

    sql: str
    risk: Risk
    decision: str
    request_id: str | None = None
    started: float = field(default_factory=time.monotonic)
    rows: int | None = None
    error: str | None = None
    replace_error: bytes | None = None  # our refusal, sent instead of the backend's error
    audited: bool = True


@dataclass(slots=True)
class _Batch:
    """Extended-protocol messages up to Sync/Flush, with what they do to prepared names."""

    frames: list[bytes] = field(default_factory=list)
    size: int = 0
    parsed: dict[str, PreparedStatement | None] = field(default_factory=dict)  # None = closed
    bound: list[tuple[PreparedStatement, pgm.Bind]] = field(default_factory=list)
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


class PostgresSession:
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
        self.prepared: dict[str, PreparedStatement] = {}
        self.prepared_risk: dict[str, Risk] = {}
        self.batch = _Batch()
        self.inflight: deque[_Unit] = deque()
        self.open_unit: _Unit | None = None  # a batch forwarded at Flush, until its Sync
        self.safe_functions = frozenset(session.services.config.policy.safe_functions)
        self.input = ClientInput(client, session)

    # -- I/O helpers ---------------------------------------------------------------------------

    async def to_client(self, data: bytes) -> None:
        # Replies and hold notices come from two tasks; the lock keeps their frames whole.
        # Taken without a wait when free (the usual case), which skips a schedule point.
        try:
            self.client_lock.acquire_nowait()
        except trio.WouldBlock:
            await self.client_lock.acquire()
        try:
            await self.client.send_all(data)
        finally:
            self.client_lock.release()

    async def to_backend(self, data: bytes) -> None:
        await self.backend.send_all(data)

    # -- relay ---------------------------------------------------------------------------------

    async def relay(self) -> None:
        """Client messages are read and handled in this task; backend replies in another."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                partial(
                    pump_backend,
                    self.backend,
                    self._scan_backend,
                    self.to_client,
                    cancel=nursery.cancel_scope,
                    log=log,
                    session_id=self.session.id,
                )
            )
            await self._process_client()
            nursery.cancel_scope.cancel()

    def _scan_backend(self, buf: bytearray) -> tuple[int, bytes]:
        """Follow what the backend says: (bytes consumed, bytes to forward, errors replaced)."""
        frames, consumed = scan_frames(buf)
        if not consumed:
            return 0, b""
        out: list[bytes] = []
        start = 0
        for kind, payload, end in frames:
            frame_start = payload - 5
            unit = self.inflight[0] if self.inflight else None
            if kind == 0x5A:  # ReadyForQuery
                if unit is not None:
                    self.inflight.popleft()
                    self._finish_unit(unit)
            elif kind == 0x45 and unit is not None:  # ErrorResponse
                code, message = error_code_and_message(memoryview(buf)[payload:end])
                unit.error = f"{code}: {message}"
                if unit.replace_error is not None:
                    out.append(bytes(buf[start:frame_start]))
                    out.append(unit.replace_error)
                    unit.replace_error = None
                    start = end
            elif kind == 0x43 and unit is not None:  # CommandComplete
                rows = command_rows(memoryview(buf)[payload:end])
                if rows is not None:
                    unit.rows = (unit.rows or 0) + rows
            elif kind == 0x53:  # ParameterStatus
                name, value = parameter_status(memoryview(buf)[payload:end])
                self.track_parameter(name, value)
        out.append(bytes(buf[start:consumed]))
        return consumed, b"".join(out)

    def track_parameter(self, name: str, value: str) -> None:
        if name == "standard_conforming_strings":
            self.lex = LexState(value == "on", self.lex.client_encoding)
        elif name == "client_encoding":
            self.lex = LexState(self.lex.standard_conforming_strings, value)

    def _finish_unit(self, unit: _Unit) -> None:
        if not unit.audited:
            return
        self.session.audit(
            unit.risk,
            unit.decision,
            unit.sql,
            request_id=unit.request_id,
            outcome="error" if unit.error else "ok",
            rows=unit.rows,
            error=unit.error,
            duration_ms=round((time.monotonic() - unit.started) * 1000, 3),
        )

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
        if isinstance(msg, pgm.Query):
            await self._simple_query(msg, frame)
        elif isinstance(msg, pgm.Parse):
            cls = self._classify(msg.query)
            self.batch.parsed[msg.name] = PreparedStatement(msg.query, cls.risk, cls.reasons)
            self._add_to_batch(frame)
        elif isinstance(msg, pgm.Bind):
            self.batch.bound.append((self._lookup(msg.statement), msg))
            self._add_to_batch(frame)
        elif isinstance(msg, pgm.Close):
            if msg.kind == "S":
                self.batch.parsed[msg.name] = None
            self._add_to_batch(frame)
        elif isinstance(msg, pgm.FunctionCall):
            self.batch.calls += 1
            self._add_to_batch(frame)
            await self._end_batch(sync=True)  # a FunctionCall is answered with ReadyForQuery
        elif isinstance(msg, pgm.Sync):
            self._add_to_batch(frame)
            await self._end_batch(sync=True)
        elif isinstance(msg, pgm.Flush):
            self._add_to_batch(frame)
            await self._end_batch(sync=False)
        elif isinstance(msg, pgm.CopyData | pgm.CopyDone | pgm.CopyFail):
            # COPY data flows after its statement was allowed; outside COPY the server ignores it.
            if self.batch.frames:
                self._add_to_batch(frame)
            else:
                await self.to_backend(frame)
        elif isinstance(msg, pgm.Describe | pgm.Execute):
            self._add_to_batch(frame)
        else:
            raise ProtocolError(f"unexpected message from client: {type(msg).__name__}")

    def _classify(self, sql: str) -> Classification:
        if not self.session.services.classify_statements:
            return _UNCLASSIFIED
        return classify(
            sql,
            "postgres",
            state=self.lex,
            prepared=self.prepared_risk,
            safe_functions=self.safe_functions,
        )

    def _lookup(self, name: str) -> PreparedStatement:
        found = self.batch.parsed[name] if name in self.batch.parsed else self.prepared.get(name)
        if found is None:
            return PreparedStatement(
                f"<prepared statement {name!r}>", Risk.UNKNOWN, (_UNKNOWN_STATEMENT.format(name),)
            )
        return found

    def _add_to_batch(self, frame: bytes) -> None:
        self.batch.frames.append(frame)
        self.batch.size += len(frame)
        if self.batch.size > MAX_BATCH_BYTES:
            raise ProtocolError(
                f"an extended-protocol batch of more than {MAX_BATCH_BYTES} bytes without Sync"
            )

    # -- decisions -----------------------------------------------------------------------------

    def _decide_many(self, risks: list[Risk]) -> Decision | None:
        """The strictest decision over the risks of one unit (deny > hold > allow)."""
        decisions = [self.session.decide(r) for r in risks]
        for action in (Action.DENY, Action.HOLD):
            matching = [d for d in decisions if d.action is action]
            if matching:
                return max(matching, key=lambda d: d.risk.rank)
        return max(decisions, key=lambda d: d.risk.rank) if decisions else None

    async def _simple_query(self, msg: pgm.Query, frame: bytes) -> None:
        cls = self._classify(msg.sql)
        decision = self._decide_many([cls.risk])
        assert decision is not None
        verdict = await self._apply(
            decision, msg.sql, cls.reasons, [frame], params=None, ready_expected=True
        )
        if verdict:
            self._remember_sql_effects(cls)

    def _remember_sql_effects(self, cls: Classification) -> None:
        """SQL PREPARE / DEALLOCATE / DISCARD share the protocol's statement namespace."""
        if cls.deallocate_all:
            self.prepared.clear()
            self.prepared_risk.clear()
        for name in cls.deallocates:
            self.prepared.pop(name, None)
            self.prepared_risk.pop(name, None)
        for name, risk in cls.prepares:
            reasons = tuple(r for s in cls.statements for r in s.reasons)
            self.prepared[name] = PreparedStatement(f"<PREPARE {name}>", risk, reasons)
            self.prepared_risk[name] = risk

    async def _end_batch(self, *, sync: bool) -> None:
        batch, self.batch = self.batch, _Batch()
        risks = [s.risk for s, _ in batch.bound] + [Risk.UNKNOWN] * batch.calls
        decision = self._decide_many(risks)
        sql = "; ".join(s.sql for s, _ in batch.bound)
        if batch.calls:
            sql = (sql + "; " if sql else "") + "<fast-path function call>"
        if decision is None:  # parse/describe/close only: nothing runs
            forwarded = True
            await self._forward(batch.frames, None, sync)
        else:
            reasons = tuple(r for s, _ in batch.bound for r in s.reasons)
            if batch.calls:
                reasons += ("fast-path function call: the function is not visible to iap",)
            params: list[object] | None = None
            if decision.action is Action.HOLD and any(b.params for _, b in batch.bound):
                params = [_bind_preview(b) for _, b in batch.bound]  # shown to approvers
            forwarded = await self._apply(
                decision, sql, reasons, batch.frames, params=params, ready_expected=sync
            )
        if forwarded:
            for name, statement in batch.parsed.items():
                if statement is None:
                    self.prepared.pop(name, None)
                    self.prepared_risk.pop(name, None)
                else:
                    self.prepared[name] = statement
                    self.prepared_risk[name] = statement.risk

    async def _apply(
        self,
        decision: Decision,
        sql: str,
        reasons: tuple[str, ...],
        frames: list[bytes],
        *,
        params: list[object] | None,
        ready_expected: bool,
    ) -> bool:
        """Forward, hold or refuse one unit. True if it was forwarded."""
        session = self.session
        if decision.action is Action.ALLOW:
            label = session.label(decision)
            session.count(decision.risk, label)
            await self._forward(frames, _Unit(sql, decision.risk, label), ready_expected)
            return True
        if decision.action is Action.DENY:
            session.count(decision.risk, "deny")
            session.audit(decision.risk, "deny", sql, outcome="blocked", error=decision.reason)
            await self._refuse("42501", f"iap: {decision.reason}", reasons, ready_expected)
            return False
        statement_hash = hashlib.sha256(b"".join(frames)).hexdigest()
        async with trio.open_nursery() as watch:
            watch.start_soon(self.input.read_ahead_while_held)
            result = await session.hold(
                decision,
                sql=sql,
                reasons=reasons,
                statement_hash=statement_hash,
                params=params,
                notify=self._notify_hold,
            )
            watch.cancel_scope.cancel()
        if result.approved:
            await self.to_client(
                pgm.NoticeResponse.make(
                    severity="NOTICE",
                    code="00000",
                    message=f"iap: request {result.request.id} approved; running the statement",
                ).encode()
            )
            unit = _Unit(sql, decision.risk, "approved", request_id=result.request.id)
            await self._forward(frames, unit, ready_expected)
            return True
        if result.status == "abandoned":
            raise ClientGone()
        code = "57014" if result.status == "cancelled" else "42501"
        await self._refuse(code, result.message, reasons, ready_expected)
        return False

    async def _notify_hold(self, request: object) -> None:
        from iap.store.base import ApprovalRequest

        assert isinstance(request, ApprovalRequest)
        how = (
            f"iap approve {request.id}"
            if request.approval == "self"
            else f"iap approve {request.id}  (by a reviewer"
            + (
                f" with role {' or '.join(request.approver_roles)}"
                if request.approver_roles
                else ""
            )
            + ")"
        )
        notice = pgm.NoticeResponse.make(
            severity="WARNING",
            code="01000",
            message=(
                f"iap: statement held for approval: request {request.id} ({request.risk}). "
                f"To release it run: {how}"
            ),
            detail="; ".join(request.reasons) or None,
            hint=(
                f"It waits until {time.strftime('%H:%M:%S', time.localtime(request.expires_at))}. "
                f"Deny it with: iap deny {request.id}. Cancel it with Ctrl-C."
            ),
        )
        await self.to_client(notice.encode())

    async def _forward(self, frames: list[bytes], unit: _Unit | None, ready_expected: bool) -> None:
        audit = self.session.services.audit
        if audit.full:  # the trail is far behind: wait rather than run unaudited statements
            await audit.wait_room()
        if unit is not None:
            if self.open_unit is not None:  # this Sync closes a batch forwarded at Flush
                unit.sql = f"{self.open_unit.sql}; {unit.sql}"
                unit.risk = max(unit.risk, self.open_unit.risk, key=lambda r: r.rank)
                self.open_unit = None
            if ready_expected:
                self.inflight.append(unit)
            else:
                self.open_unit = unit
        elif ready_expected:
            pending = self.open_unit
            self.open_unit = None
            self.inflight.append(pending or _Unit("", Risk.READ, "allow", audited=False))
        await self.to_backend(b"".join(frames))

    async def _refuse(
        self, code: str, message: str, reasons: tuple[str, ...], ready_expected: bool
    ) -> None:
        """Make the backend fail this unit (see the module docstring), with our error."""
        error = pgm.ErrorResponse.make(
            severity="ERROR", code=code, message=message, detail="; ".join(reasons) or None
        ).encode()
        missing = "iap_refused_" + secrets.token_hex(8)
        probe = pgm.Bind(
            portal="", statement=missing, param_formats=(), params=(), result_formats=()
        ).encode()
        unit = _Unit("", Risk.READ, "refuse", replace_error=error, audited=False)
        if ready_expected:
            self.inflight.append(unit)
            await self.to_backend(probe + pgm.Sync().encode())
        else:
            # Refused at Flush: the backend fails the batch now; the client's Sync ends it.
            self.open_unit = unit
            await self.to_backend(probe + pgm.Flush().encode())


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
    peer = plain.peer
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
    cancel_key: tuple[int, int] | None = None
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
                cancel_key = new_cancel_key(services, session, backend_key)
                out.append(conn.send(pgm.BackendKeyData(*cancel_key)))
            out.append(conn.send(ready))
            await client.send_all(b"".join(out))
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
            if session.revoked is not None:
                log.info("session revoked session=%s: %s", session.id, session.revoked)
                await send_fatal(client, "57P01", f"iap: access revoked: {session.revoked}")
    except StartupRefused as e:
        log.info("session refused user=%s connection=%s: %s", user, connection.name, e)
        await send_fatal(client, e.code, str(e))
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    finally:
        if cancel_key is not None:
            forget_cancel_key(services, cancel_key)
        session.close()
        log.info("session end session=%s", session.id)
