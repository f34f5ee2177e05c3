"""The MySQL/MariaDB engine: one client session from the handshake to COM_QUIT.

Client -> backend: every command is read whole. COM_QUERY is classified and decided at
once; COM_STMT_PREPARE is classified and forwarded (preparing runs nothing), and the
backend's statement id is mapped to that class; COM_STMT_EXECUTE is decided by its
statement's class. A refused command is answered with an ERR packet of the gateway's (after
the answers to commands already forwarded, so the client reads them in order); MySQL errors
do not abort a transaction, so the session goes on exactly as after a server error. A held
command waits while the client waits: MySQL has no notices, so `iap connect` shows the hold.

`KILL [QUERY|CONNECTION] id` of one of the user's own sessions (the ids the gateway gave out)
ends that session's hold with ER 1317, or kills its backend query or connection; any other
KILL is a statement like the rest.

Backend -> client: packets are forwarded in bulk; only their first bytes are read, to follow
where each command's answer ends (rows, affected rows, errors, prepared statement ids).

State the server decides follows the server's answers, never the client's requests:
- prepared statements: a COM_STMT_PREPARE's id (and MariaDB's "last prepared") is mapped when
  the server's OK arrives; SQL PREPARE/DEALLOCATE names change statement by statement as the
  answers to a query string arrive (a multi-statement string stops at its first error; a
  PREPARE that fails drops the old statement of its name, as the server does), and a CALL,
  a compound statement or a text the gateway cannot read makes every name unknown. A
  statement that EXECUTEs a name whose change is still unanswered waits for the answer.
- the lexing state (sql_mode and character set) is read from the backend at login, and
  again, with a query of the gateway's own whose answer the client never sees, after any
  statement that may have changed it (a SET of a lexing setting, SET NAMES, EXECUTE or
  COM_STMT_EXECUTE of a statement that may, CALL, a text not read); the next statement is
  classified only once that answer arrived.
- what ran: every forwarded statement is audited with the server's answer. When the client
  leaves (COM_QUIT, or its connection ends), the answers to what it sent are still read, for
  DRAIN_TIMEOUT seconds; a statement still unanswered then is audited with outcome unknown.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from functools import partial

import trio

from iap.classify import Classification, LexState, Risk, classify
from iap.classify.types import PreparedFacts, SessionStep, steps_change_lexing
from iap.config import ConnectionConfig
from iap.engines.backend_tls import BackendTLSError
from iap.engines.core import ClientGone, StatementGate
from iap.engines.mysql_startup import (
    ER_DBACCESS_DENIED,
    ER_QUERY_INTERRUPTED,
    ER_SERVER_SHUTDOWN,
    ER_TABLEACCESS_DENIED,
    ER_UNKNOWN_COM,
    LEX_QUERY,
    LOGIN_TIMEOUT,
    STARTUP_TIMEOUT,
    StartupRefused,
    check_client,
    error_packet,
    greet_client,
    kill_query,
    lex_state,
    login_backend,
    next_packet,
    open_backend,
    query_packet,
    read_lex_state,
    send_error,
)
from iap.engines.relay import ClientInput, pump_backend
from iap.live import KILL_SECRET
from iap.policy import Action, Decision
from iap.services import Services
from iap.session import Session
from iap.store.base import ApprovalRequest
from protocols.errors import ProtocolError, RemoteProtocolError
from protocols.mysql.messages import Capability, Command, HandshakeV10, OkPacket
from protocols.mysql.packets import Packet, PacketReader, encode_packet, scan_packets
from protocols.mysql.responses import EXPECT, Expect, Outcome, ResponseTracker

log = logging.getLogger("iap.mysql")

LAST_PREPARED = 0xFFFFFFFF  # MariaDB: COM_STMT_EXECUTE of the statement prepared last
DRAIN_TIMEOUT = 30.0  # after the client left: how long the answers to what it sent are read
STOP_DRAIN_TIMEOUT = 3.0  # the same when the gateway stops
UNANSWERED = "no answer from the database before the session ended: the result is unknown"
_KILL = re.compile(
    r"\s*KILL\s+(?:(?:HARD|SOFT)\s+)?(QUERY|CONNECTION)?\s*(\d+)\s*;?\s*", re.IGNORECASE
)
_UNCLASSIFIED = Classification(
    Risk.READ, (), ("not classified (IAP_UNSAFE_NO_CLASSIFY)",), steps=()
)
_SIMPLE_COMMANDS = {
    Command.PING,
    Command.STATISTICS,
    Command.STMT_SEND_LONG_DATA,
    Command.STMT_RESET,
    Command.STMT_FETCH,
    Command.SET_OPTION,
    Command.FIELD_LIST,
}
"""Commands forwarded without a decision: they run no statement of their own (a fetch reads
rows of an execute that was allowed; a field list is a table's column metadata)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """A statement prepared with COM_STMT_PREPARE, as classified when it was prepared."""

    sql: str
    risk: Risk
    reasons: tuple[str, ...]
    steps: tuple[SessionStep, ...] | None = None  # what running it does to the session

    @property
    def lexing(self) -> bool:
        return steps_change_lexing(self.steps)


@dataclass(slots=True)
class _Unit:
    """One command forwarded to the backend, until its answer ends."""

    sql: str
    risk: Risk
    decision: str
    request_id: str | None = None
    started: float = field(default_factory=time.monotonic)
    audited: bool = True
    prepare: Prepared | None = None  # a COM_STMT_PREPARE: mapped to the id the backend gives
    swallow: list[bytes] | None = None  # the gateway's own query: answer kept, not forwarded
    generation: int = 0  # of a lexing-state query: only the latest one's answer counts
    ping: bool = False  # the gateway's own COM_PING while a statement is held (keep_alive)
    steps: tuple[SessionStep, ...] | None = ()  # its statements' session effects (None: unknown)

    @property
    def names(self) -> bool:
        """True when its answer may change the session's SQL prepared statement names."""
        return self.steps is None or any(step.names for step in self.steps)


class PreparedNames:
    """The session's SQL prepared statement names (PREPARE/EXECUTE/DEALLOCATE), as the
    server's answers say: `answered` follows the statements of one answered command."""

    def __init__(self) -> None:
        self.facts: dict[str, PreparedFacts] = {}
        self.risks: dict[str, Risk] = {}  # the same, as the classifier takes them

    def answered(self, steps: tuple[SessionStep, ...] | None, failed: bool, completed: int) -> None:
        """The server answered a command whose statements are steps (None: not known).

        Without an error every statement ran. With one, the server ran statements until the
        one that failed: while each statement is answered with exactly one result, the
        results that ended (completed) say which ran; past a statement that may answer with
        several (a CALL), which one failed is not known, and every name the rest may touch
        becomes unknown."""
        if steps is None:
            self.forget()
            return
        for index, step in enumerate(steps):
            several = self._unseen(step)
            if failed and (several or index == completed):
                # this one failed, or which one did is not known: the rest never ran
                for unsure in steps[index:] if several else steps[index : index + 1]:
                    self._failed(unsure)
                return
            self._ran(step)

    def forget(self) -> None:
        """Every name unknown (an EXECUTE of one is unknown until it is prepared again)."""
        self.facts.clear()
        self.risks.clear()

    def _unseen(self, step: SessionStep) -> bool:
        """The statement may act unseen: a CALL, or an EXECUTE of a name whose statement may
        (or that iap does not know)."""
        if step.opaque:
            return True
        if step.execute is None:
            return False
        facts = self.facts.get(step.execute)
        return facts is None or facts.opaque

    def _ran(self, step: SessionStep) -> None:
        """A statement that ran without error."""
        if self._unseen(step):
            self.forget()
        elif step.prepare is not None:
            name, facts = step.prepare
            self.facts[name] = facts
            self.risks[name] = facts.risk
        elif step.deallocate is not None:
            self._drop(step.deallocate)

    def _failed(self, step: SessionStep) -> None:
        """A statement that failed, or may have: its names are unknown (a failed PREPARE
        drops the old statement of its name; a failed DEALLOCATE had nothing to drop)."""
        if self._unseen(step):
            self.forget()
        for name in (step.prepare[0] if step.prepare else None, step.deallocate):
            if name is not None:
                self._drop(name)

    def _drop(self, name: str) -> None:
        self.facts.pop(name, None)
        self.risks.pop(name, None)


def decode_sql(data: bytes) -> str:
    """Statement text as the classifier reads it. A byte that is not UTF-8 keeps its place as
    a Latin-1 character: the connection's character set is ASCII-compatible (unsafe ones are
    refused), so every quote, backslash and keyword byte reads the same."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


class MySQLSession:
    def __init__(
        self,
        session: Session,
        client: trio.abc.Stream,
        backend: trio.abc.Stream,
        client_reader: PacketReader,
        backend_reader: PacketReader,
        *,
        deprecate_eof: bool,
        backend_id: int,
    ) -> None:
        self.session = session
        self.client = client
        self.backend = backend
        self.client_reader = client_reader
        self.backend_reader = backend_reader
        self.backend_id = backend_id
        self.tracker: ResponseTracker[_Unit] = ResponseTracker(deprecate_eof)
        self.lex = LexState(client_encoding=None, sql_mode=None)
        self.lex_generation = 0
        self._lex_pending = False  # a lexing-state query is unanswered: the state is unknown
        self.statements: dict[int, Prepared] = {}
        self.last_prepared: tuple[int, Prepared] | None = None  # MariaDB's "last prepared"
        self.names = PreparedNames()  # SQL PREPARE names, as the server's answers say
        self._names_in_flight = 0  # forwarded commands whose answers may change the names
        self.unanswered_seq = 0  # the answer's sequence number while a command is held
        self.safe_functions = frozenset(session.services.config.policy.safe_functions)
        self.input = ClientInput(client, session)
        self.gate = StatementGate(session, self.input, keepalive=self.keep_alive)
        self.backend_error: ProtocolError | None = None
        self._idle: trio.Event | None = None  # set when the backend has answered everything
        self._client_closed = False  # sending to the client failed: it left
        self.draining = False  # the client left: the answers to what it sent are awaited

    # -- I/O -----------------------------------------------------------------------------------

    async def relay(self) -> None:
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(
                    partial(
                        pump_backend,
                        self.backend,
                        self._scan_backend,
                        self._to_client,
                        cancel=nursery.cancel_scope,
                        log=log,
                        session_id=self.session.id,
                    )
                )
                await self._process_client()
                # The client left: what it sent ran (or runs) all the same; its answers
                # tell the audit how it ended.
                self.draining = True
                # a stopping gateway waits less: its grace is already over
                drain = STOP_DRAIN_TIMEOUT if self.session.stopping else DRAIN_TIMEOUT
                with trio.move_on_after(drain):
                    await self.wait_idle()
                nursery.cancel_scope.cancel()
        finally:
            self._audit_unanswered()

    async def _to_client(self, data: bytes) -> None:
        """Forward the backend's bytes; once the client is gone they are only followed."""
        if self._client_closed:
            return
        try:
            await self.client.send_all(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            self._client_closed = True

    def _audit_unanswered(self) -> None:
        """Audit the statements forwarded whose answers never (wholly) arrived."""
        for outcome in self.tracker.abandon():
            unit = outcome.tag
            if unit.names:
                self._names_in_flight -= 1
            if unit.audited and unit.swallow is None:
                self._audit(unit, "unknown", None, UNANSWERED)

    def _scan_backend(self, buf: bytearray) -> tuple[int, bytes]:
        """Follow the answers: (bytes consumed, bytes to forward, the gateway's own answers
        cut). A reply that breaks the protocol is kept to tell the client."""
        try:
            return self._follow_backend(buf)
        except ProtocolError as e:
            self.backend_error = e
            raise

    def _follow_backend(self, buf: bytearray) -> tuple[int, bytes]:
        packets = scan_packets(buf)
        if not packets:
            return 0, b""
        consumed = packets[-1][1]
        out: list[bytes] = []
        start = 0
        view = memoryview(buf)
        try:
            for payload_start, end in packets:
                unit = self.tracker.current
                if unit is not None and unit.swallow is not None:
                    unit.swallow.append(bytes(view[payload_start:end]))
                    out.append(bytes(view[start : payload_start - 4]))
                    start = end
                for outcome in self.tracker.feed(view[payload_start:end]):
                    self._finish(outcome)
            out.append(bytes(view[start:consumed]))
        finally:
            view.release()
        if self._idle is not None and not self.tracker.pending:
            self._idle.set()
        return consumed, b"".join(out)

    def _finish(self, outcome: Outcome[_Unit]) -> None:
        unit = outcome.tag
        if unit.swallow is not None:
            if unit.ping:
                return
            if unit.generation == self.lex_generation:  # no later statement changed it again
                self._lex_pending = False
                self._learn_lex_state(unit.swallow, outcome)
            return
        if unit.prepare is not None:
            if outcome.prepared is not None:
                statement_id = outcome.prepared.statement_id
                self.statements[statement_id] = unit.prepare
                self.last_prepared = (statement_id, unit.prepare)
            else:  # refused: MariaDB has no "last prepared" statement any more
                self.last_prepared = None
        if unit.names:
            self._names_in_flight -= 1
            self.names.answered(unit.steps, outcome.error is not None, outcome.completed)
        if not unit.audited:
            return
        error = outcome.error
        self._audit(
            unit,
            "error" if error else "ok",
            (outcome.rows or outcome.affected) if outcome.results else None,
            f"{error.code} ({error.sqlstate}): {error.message}" if error else None,
        )

    def _audit(self, unit: _Unit, result: str, rows: int | None, error: str | None) -> None:
        self.session.audit(
            unit.risk,
            unit.decision,
            unit.sql,
            request_id=unit.request_id,
            outcome=result,
            rows=rows,
            error=error,
            duration_ms=round((time.monotonic() - unit.started) * 1000, 3),
        )

    def _learn_lex_state(self, packets: list[bytes], outcome: Outcome[_Unit]) -> None:
        if outcome.error is not None:
            log.warning("could not read the session's sql_mode session=%s", self.session.id)
            return  # stays unknown: the stricter reading
        self.lex = lex_state(packets, self.tracker.deprecate_eof)

    async def to_backend(self, data: bytes, expect: Expect, unit: _Unit) -> None:
        audit = self.session.services.audit
        if audit.full:
            await audit.wait_room()
        if unit.names:
            self._names_in_flight += 1
        done = self.tracker.expect(expect, unit)
        if done is not None:
            self._finish(done)
        await self.backend.send_all(data)

    async def wait_idle(self) -> None:
        """Until the backend has answered everything forwarded so far."""
        while self.tracker.pending:
            self._idle = trio.Event()
            await self._idle.wait()
        self._idle = None

    async def keep_alive(self, request: ApprovalRequest) -> None:
        """A statement is held (every [policy] hold_keepalive): a COM_PING of the gateway's
        own to the idle backend (its OK is not passed on), so that wait_timeout and MariaDB's
        idle_transaction_timeout do not end the session; PING changes nothing else. (The
        MySQL protocol has no message a waiting client could be told anything with.)"""
        if not self.tracker.pending:
            unit = _Unit("<keepalive>", Risk.READ, "", audited=False, swallow=[], ping=True)
            await self.to_backend(encode_packet(0, bytes((Command.PING,))), Expect.ONE, unit)

    async def kill_running(self, connection: ConnectionConfig) -> None:
        """What the gateway's stop does to a statement still running at its deadline: KILL
        QUERY on a login of its own (none when nothing runs: no login storm at a stop)."""
        if self.tracker.pending:
            await kill_query(connection, self.backend_id)

    async def reply(self, data: bytes) -> None:
        """The gateway's own answer: after the answers to everything forwarded before."""
        await self.wait_idle()
        await self.client.send_all(data)

    # -- client commands -----------------------------------------------------------------------

    async def _process_client(self) -> None:
        reader = self.client_reader
        while True:
            packet = reader.next_packet()
            if packet is None:
                data = await self.input.receive()
                if not data:
                    return
                reader.receive_data(data)
                continue
            if not packet.payload:
                raise RemoteProtocolError("an empty command packet")
            if packet.payload[0] == Command.QUIT:
                await self.backend.send_all(packet.raw)
                return
            # Until the command is forwarded or answered (a hold), an error that ends the
            # session answers it: with the sequence number the client waits for.
            self.unanswered_seq = packet.last_seq + 1
            await self._command(packet)
            self.unanswered_seq = 0

    async def _command(self, packet: Packet) -> None:
        payload = packet.payload
        command = payload[0]
        seq = packet.last_seq + 1
        if command == Command.QUERY:
            await self._query(packet, decode_sql(payload[1:]))
        elif command == Command.STMT_PREPARE:
            sql = decode_sql(payload[1:])
            await self._settle_lex()
            cls = self._classify(sql)
            prepared = Prepared(sql, cls.risk, cls.reasons, cls.steps)
            unit = _Unit(sql, Risk.READ, "allow", audited=False, prepare=prepared)
            await self.to_backend(packet.raw, Expect.PREPARE, unit)
        elif command == Command.STMT_EXECUTE:
            await self._execute(packet)
        elif command == Command.STMT_CLOSE:
            if len(payload) >= 5:
                statement_id = int.from_bytes(payload[1:5], "little")
                self.statements.pop(statement_id, None)
                if self.last_prepared is not None and self.last_prepared[0] == statement_id:
                    self.last_prepared = None
            await self.to_backend(
                packet.raw, Expect.NOTHING, _Unit("", Risk.READ, "", audited=False)
            )
        elif command in _SIMPLE_COMMANDS:
            unit = _Unit("", Risk.READ, "", audited=False)
            await self.to_backend(packet.raw, EXPECT.get(command, Expect.ONE), unit)
        elif command == Command.INIT_DB:
            await self._init_db(packet, decode_sql(payload[1:]))
        elif command == Command.RESET_CONNECTION:
            self.statements.clear()
            self.names.forget()
            self.last_prepared = None
            unit = _Unit("<COM_RESET_CONNECTION>", Risk.READ, "allow")
            await self.to_backend(packet.raw, Expect.ONE, unit)
            await self._reread_lex_state()
        elif command == Command.PROCESS_KILL and len(payload) >= 5:
            target = int.from_bytes(payload[1:5], "little")
            await self._query(packet, f"KILL CONNECTION {target}")
        else:
            name = Command(command).name if command in Command._value2member_map_ else hex(command)
            await self.reply(
                error_packet(
                    seq,
                    ER_UNKNOWN_COM,
                    "08S01",
                    f"iap: command COM_{name} is not allowed through iap",
                )
            )

    def _classify(self, sql: str) -> Classification:
        if not self.session.services.classify_statements:
            return _UNCLASSIFIED
        return classify(
            sql,
            "mysql",
            state=self.lex,
            prepared=self.names.risks,
            safe_functions=self.safe_functions,
        )

    async def _settle_lex(self) -> None:
        """Until the lexing state is known again, if a query of it is unanswered."""
        if self._lex_pending:
            await self.wait_idle()

    async def _query(self, packet: Packet, sql: str) -> None:
        kill = _KILL.fullmatch(sql)
        if kill and await self._kill_own(packet, kill.group(1) or "CONNECTION", int(kill.group(2))):
            return
        await self._settle_lex()
        cls = self._classify(sql)
        if cls.executes and self._names_in_flight:
            await self.wait_idle()  # the names it runs may still be changing
            cls = self._classify(sql)
        decision = self.session.decide(cls.risk)
        unit = _Unit(sql, decision.risk, "", steps=cls.steps)
        if await self._apply(decision, cls.reasons, packet, Expect.RESULT, unit) and cls.lexing:
            await self._reread_lex_state()

    async def _execute(self, packet: Packet) -> None:
        payload = packet.payload
        if len(payload) < 5:
            raise RemoteProtocolError("COM_STMT_EXECUTE without a statement id")
        statement_id = int.from_bytes(payload[1:5], "little")
        if statement_id not in self.statements and self.tracker.pending:
            await self.wait_idle()  # its COM_STMT_PREPARE may still be answering
        if statement_id == LAST_PREPARED:
            prepared = self.last_prepared[1] if self.last_prepared is not None else None
        else:
            prepared = self.statements.get(statement_id)
        if prepared is None:
            prepared = Prepared(
                f"<prepared statement {statement_id}>",
                Risk.UNKNOWN,
                (f"prepared statement {statement_id} is not known to iap",),
            )
        decision = self.session.decide(prepared.risk)
        unit = _Unit(prepared.sql, decision.risk, "", steps=prepared.steps)
        if await self._apply(decision, prepared.reasons, packet, Expect.RESULT, unit) and (
            prepared.lexing
        ):
            await self._reread_lex_state()

    async def _init_db(self, packet: Packet, database: str) -> None:
        connection = self.session.connection
        if database != connection.database:
            await self.reply(
                error_packet(
                    packet.last_seq + 1,
                    ER_DBACCESS_DENIED,
                    "42000",
                    f"iap: connection {connection.name} is for database"
                    f" {connection.database!r}, not {database!r}",
                )
            )
            return
        unit = _Unit(f"USE `{database}`", Risk.READ, "allow", audited=False)
        await self.to_backend(packet.raw, Expect.ONE, unit)

    async def _reread_lex_state(self) -> None:
        self.lex = LexState(client_encoding=None, sql_mode=None)
        self._lex_pending = True
        self.lex_generation += 1
        unit = _Unit(
            LEX_QUERY, Risk.READ, "", audited=False, swallow=[], generation=self.lex_generation
        )
        await self.to_backend(query_packet(LEX_QUERY), Expect.RESULT, unit)

    # -- decisions -----------------------------------------------------------------------------

    async def _apply(
        self,
        decision: Decision,
        reasons: tuple[str, ...],
        packet: Packet,
        expect: Expect,
        unit: _Unit,
    ) -> bool:
        """Forward (as unit), hold or refuse one command. True if it was forwarded."""
        if decision.action is Action.HOLD:
            await self.wait_idle()  # hold only once the answers before it are out
        verdict = await self.gate.judge(
            decision,
            sql=unit.sql,
            reasons=reasons,
            wire=packet.raw,
            params=_params_preview(packet.payload),
            notify=self._notify_hold,
        )
        seq = packet.last_seq + 1
        if verdict.forward:
            unit.decision, unit.request_id = verdict.label, verdict.request_id
            unit.started = time.monotonic()
            await self.session.audit_ahead(unit.risk, unit.decision, unit.sql, unit.request_id)
            await self.to_backend(packet.raw, expect, unit)
            return True
        if self.session.stopping:
            await self._refuse(seq, ER_SERVER_SHUTDOWN, "08S01", verdict.message, ())
        elif verdict.cancelled:
            await self._refuse(
                seq, ER_QUERY_INTERRUPTED, "70100", "Query execution was interrupted", ()
            )
        else:
            await self._refuse(seq, ER_TABLEACCESS_DENIED, "42000", verdict.message, reasons)
        return False

    async def _notify_hold(self, request: ApprovalRequest) -> None:
        log.info(
            "statement held session=%s request=%s risk=%s",
            self.session.id,
            request.id,
            request.risk,
        )

    async def _refuse(
        self, seq: int, code: int, sqlstate: str, message: str, reasons: tuple[str, ...]
    ) -> None:
        text = message + (f" ({'; '.join(reasons)})" if reasons else "")
        await self.reply(error_packet(seq, code, sqlstate, text))

    # -- KILL of the user's own sessions ---------------------------------------------------------

    async def _kill_own(self, packet: Packet, what: str, connection_id: int) -> bool:
        """KILL of a connection id the gateway gave this user: True when handled here."""
        services = self.session.services
        what = what.upper()
        ok = encode_packet(packet.last_seq + 1, OkPacket(0, 0, 2, 0).encode())
        target = services.live.by_key((connection_id, KILL_SECRET))
        if target is None:
            if services.workers == 1:
                return False
            backend_id = await self._kill_in_other_worker(connection_id)
            if backend_id is None:
                return False
            if backend_id < 0:  # a hold was cancelled
                await self.reply(ok)
                return True
        else:
            engine = target.engine
            if target.user != self.session.user or not isinstance(engine, MySQLSession):
                return False
            if target.request_cancel():
                log.info("KILL ended a hold session=%s by session=%s", target.id, self.session.id)
                if what == "CONNECTION":
                    target.revoke("killed by its user")
                await self.reply(ok)
                return True
            backend_id = engine.backend_id
        await self._kill_backend(what, connection_id, backend_id)
        return True

    async def _kill_in_other_worker(self, connection_id: int) -> int | None:
        """A KILL of an id another worker gave this user (found in the store): ends the
        hold there (-1), or returns the backend thread id to kill when the session is on the
        same connection; None when the id is not one the gateway gave this user."""
        live = self.session.services.live
        key, ended_hold = await live.elsewhere((connection_id, KILL_SECRET), user=self.session.user)
        if key is None:
            return None
        if ended_hold:
            return -1
        if key.connection != self.session.connection.name or key.backend_pid is None:
            return None
        return key.backend_pid

    async def _kill_backend(self, what: str, connection_id: int, backend_id: int) -> None:
        sql = f"KILL {what} {backend_id}"
        self.session.count(Risk.READ, "allow")
        unit = _Unit(f"KILL {what} {connection_id} (own session)", Risk.READ, "allow")
        await self.to_backend(query_packet(sql), Expect.RESULT, unit)


def _params_preview(payload: bytes) -> list[object] | None:
    """What an approver sees of an execute's parameters: their bytes (types vary)."""
    if payload[:1] != bytes((Command.STMT_EXECUTE,)) or len(payload) <= 10:
        return None
    data = payload[10:]
    return ["\\x" + data[:200].hex() + ("..." if len(data) > 200 else "")]


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
    """Serve one MySQL client that came through the agent's tunnel until it ends."""
    session = Session(services, user, roles, connection, client_address, id=session_id)
    client_reader = PacketReader()
    client_reader.receive_data(initial)
    connection_id: int | None = None
    handshake_done = False
    seq = 0
    try:
        try:
            with trio.fail_after(LOGIN_TIMEOUT):
                backend = await open_backend(connection)
        except (OSError, trio.TooSlowError) as e:
            log.warning("backend unreachable connection=%s: %r", connection.name, e)
            raise StartupRefused(
                2003, "HY000", f"iap could not reach the database of connection {connection.name}"
            ) from e
        try:
            backend_reader = PacketReader()
            with trio.fail_after(STARTUP_TIMEOUT):
                first = await next_packet(backend, backend_reader, "the database")
                server = HandshakeV10.decode(first.payload)
                kill_key = await services.live.issue_key(
                    session, (server.connection_id, KILL_SECRET), secret=KILL_SECRET
                )
                connection_id = kill_key[0]
                response, seq = await greet_client(client, client_reader, server, connection_id)
                handshake_done = True
                check_client(response, connection)
                attributes = {"_client_name": "iap", "iap_user": user, "iap_session": session.id}
                backend, ok = await login_backend(
                    backend, backend_reader, server, connection, response, attributes
                )
                deprecate_eof = bool(
                    response.capabilities & server.capabilities & Capability.DEPRECATE_EOF
                )
                lex = await read_lex_state(backend, backend_reader, deprecate_eof)
            my = MySQLSession(
                session,
                client,
                backend,
                client_reader,
                backend_reader,
                deprecate_eof=deprecate_eof,
                backend_id=server.connection_id,
            )
            my.lex = lex
            session.engine = my
            session.cancel_backend = partial(my.kill_running, connection)
            session.settled = my.wait_idle
            await client.send_all(encode_packet(seq, OkPacket(0, 0, ok.status, 0).encode()))
            await services.live.started(session)
            log.info(
                "session start session=%s user=%s connection=%s kind=mysql",
                session.id,
                user,
                connection.name,
            )
            try:
                with session.scope:
                    await my.relay()
            except* (ClientGone, trio.BrokenResourceError, trio.ClosedResourceError):
                pass
            except* ProtocolError as group:
                error = group.exceptions[0]
                log.warning("protocol error session=%s: %s", session.id, error)
                await send_error(client, 0, 2027, "HY000", f"iap: protocol violation: {error}")
            if my.backend_error is not None:
                log.warning("backend protocol error session=%s: %s", session.id, my.backend_error)
                await send_error(
                    client,
                    0,
                    2027,
                    "HY000",
                    "iap: the database's replies could not be followed, so the session is"
                    f" closed: {my.backend_error}",
                )
            if session.revoked is not None:
                log.info("session ended session=%s: %s", session.id, session.revoked)
                await send_error(
                    client,
                    my.unanswered_seq,
                    1927,
                    "70100",
                    f"iap: session ended: {session.revoked}",
                )
        finally:
            await backend.aclose()  # the TLS stream when login switched to it
    except StartupRefused as e:
        log.info("session refused user=%s connection=%s: %s", user, connection.name, e)
        await send_error(client, seq if handshake_done else 0, e.code, e.sqlstate, f"{e}")
    except BackendTLSError as e:
        log.warning("backend TLS failed connection=%s: %s", connection.name, e)
        await send_error(client, seq if handshake_done else 0, 2026, "HY000", f"iap: {e}")
    except trio.TooSlowError:
        log.info("login timeout session=%s connection=%s", session.id, connection.name)
    except ProtocolError as e:
        log.warning("handshake protocol error session=%s: %s", session.id, e)
        await send_error(client, seq, 1043, "08S01", f"iap: bad handshake: {e}")
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    finally:
        await services.live.end(session)
        log.info("session end session=%s", session.id)
