"""One client session, whatever its protocol: who it is, policy decisions, holds, and audit.

Engines (iap/engines/*) own the wire protocol and call this for every statement: `decide`
turns a risk class into allow/hold/deny (cached per class; the `grace` window of a previous
approval is honoured here), `hold` opens an approval request and waits for its end (approval,
denial, the rule's timeout, a cancel from the client, the client leaving, the user's access
revoked, or the gateway stopping), `audit` queues the record of what happened. This module
never sees a socket and never forwards a byte.

When the gateway stops, holds end as cancelled with the reason "gateway stopping" and their
sessions end (`stop`: the engine tells the client, PostgreSQL FATAL 57P01, MySQL ER 1927);
the sessions left when the shutdown grace is over are stopped the same way.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

import trio

from iap.classify import Risk
from iap.config import ConnectionConfig, GatewayConfig
from iap.context import Context, IPAddress, network_of, source_of
from iap.events import Event
from iap.identity import kept_roles
from iap.logfmt import event
from iap.policy import Action, Decision, decide
from iap.runs import RunGrant, take
from iap.services import Services
from iap.store.base import ApprovalRequest, AuditRecord

log = logging.getLogger("iap.session")

ABANDONED = "the client disconnected while the statement was held"
CANCELLED = "cancelled by the client"
GRACE = "released by grace: an earlier approval under the same rule covers it"
STOPPING = "gateway stopping"
ANSWER_WAIT = 2.0  # seconds a cancelled statement's answer is waited for when ending a session


class RecordFields(TypedDict, total=False):
    """What a statement's audit record may say besides its class, decision and text."""

    request_id: str | None
    outcome: str  # ok | error | skipped | unknown | blocked | pending | forwarded
    rows: int | None
    error: str | None
    duration_ms: float | None


@dataclass(frozen=True, slots=True)
class HoldResult:
    status: str  # approved | denied | expired | cancelled | abandoned
    request: ApprovalRequest

    @property
    def approved(self) -> bool:
        return self.status == "approved"

    @property
    def message(self) -> str:
        r = self.request
        if self.status == "denied":
            return f"iap: request {r.id} was denied" + (f": {r.reason}" if r.reason else "")
        if self.status == "expired":
            return f"iap: request {r.id} expired before anyone approved it"
        if self.status == "cancelled" and r.reason == STOPPING:
            return f"iap: {STOPPING}: request {r.id} was not run"
        if self.status == "cancelled":
            return "canceling statement due to user request"
        return f"iap: request {r.id} is {self.status}"


@dataclass(eq=False)
class Session:
    services: Services
    user: str
    roles: tuple[str, ...]
    connection: ConnectionConfig
    client_address: str = ""
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    client_gone: trio.Event = field(default_factory=trio.Event)
    _cancel: trio.Event | None = None
    _decisions: dict[Risk, Decision] = field(default_factory=dict)
    _decided_under: GatewayConfig | None = None  # the config _decisions were made under
    _timed: bool = False  # its rules read the time: decisions are not cached
    holding: ApprovalRequest | None = None
    # set by the engine: pass a client's cancel on to the backend (when nothing is held)
    cancel_backend: Callable[[], Awaitable[None]] | None = None
    # set by the engine: returns once the backend has answered everything forwarded
    settled: Callable[[], Awaitable[None]] | None = None
    # the engine runs the relay in this scope; revoking the user's access cancels it
    scope: trio.CancelScope = field(default_factory=trio.CancelScope)
    revoked: str | None = None
    stopping: bool = False  # ended because the gateway stops (revoked is then STOPPING)
    engine: object | None = None  # the protocol engine serving it (a KILL finds it here)
    # an approved `iap run` this session runs (the tunnel's hello named it): its statements
    # pass where the policy would hold them (StatementGate.judge); it ends with the session
    run_grant: RunGrant | None = None
    _closed: bool = False
    source: IPAddress | None = field(init=False, default=None)
    network: str = field(init=False, default="unknown")

    def __post_init__(self) -> None:
        self.source = source_of(self.client_address)
        self.network = network_of(self.source)  # what grace windows are keyed by
        if self.run_grant is None:
            self.run_grant = take(self.id)
        self.services.live.add(self)
        self.services.metrics.connections_open.labels(kind=self.connection.kind).inc()
        self._publish("session.opened")

    def revoke(self, reason: str) -> None:
        """End the session now (the user was disabled): a held statement is cancelled."""
        if self.revoked is None:
            self.revoked = reason
            self.scope.cancel()

    def stop(self) -> None:
        """End the session now because the gateway stops: a held statement is cancelled."""
        if self.revoked is None:
            self.stopping = True
            self.revoke(STOPPING)

    def keep_roles(self, current: Sequence[str]) -> None:
        """The user's roles now: one removed since the session began no longer counts (its
        decisions are made afresh); one added waits for a new session."""
        kept = kept_roles(self.roles, current)
        if kept != self.roles:
            log.info(event("roles_narrowed", session=self.id, user=self.user, roles=",".join(kept)))
            self.roles = kept
            self._decided_under = None  # decide afresh

    async def end(self, reason: str) -> None:
        """End the session from outside (an operator's kill, a disabled user, the stop's
        deadline): first cancel what its backend still runs and give the engine up to
        ANSWER_WAIT to read how it ended, so the audit row says so (not `unknown`); then
        revoke (or stop, for STOPPING). A held statement is simply cancelled."""
        try:
            if self.holding is None and self.cancel_backend and self.settled:
                await self.cancel_backend()
                with trio.move_on_after(ANSWER_WAIT):
                    await self.settled()
        finally:
            if reason == STOPPING:
                self.stop()
            else:
                self.revoke(reason)

    def close(self) -> None:
        """The session ended (LiveSessions.end calls this once it forgot the session)."""
        if not self._closed:
            self._closed = True
            self.services.metrics.connections_open.labels(kind=self.connection.kind).dec()
            self.client_gone.set()
            self._publish("session.closed")

    def _publish(self, kind: str) -> None:
        self.services.events.publish(
            Event(
                kind=kind,
                user=self.user,
                session_id=self.id,
                data={"session": self.id, "connection": self.connection.name},
            )
        )

    # -- policy --------------------------------------------------------------------------------

    def decide(self, risk: Risk) -> Decision:
        config = self.services.config
        if config is not self._decided_under:  # a reload replaced it: decide afresh
            self._decisions.clear()
            self._decided_under = config
            # hours conditions depend on the time: decided afresh for every statement then
            self._timed = any(r.hours or r.not_hours for r in config.rules)
        decision = self._decisions.get(risk)
        if decision is None:
            decision = decide(
                config.effective_rules,
                user=self.user,
                roles=self.roles,
                connection=self.connection.name,
                risk=risk,
                context=self.context(),
            )
            if not self._timed:
                self._decisions[risk] = decision
        if (
            decision.action is Action.HOLD
            and decision.rule_index is not None
            and self.services.approvals.in_grace(
                self.user, self.connection.name, self.network, decision.rule_index, risk.value
            )
        ):
            return Decision(Action.ALLOW, risk, decision.rule, decision.rule_index, GRACE)
        return decision

    def context(self) -> Context:
        """Where this session's client is (the agent's or the direct client's address) and
        the time now, for rules with context conditions."""
        return Context(self.source, self.services.clock())

    @staticmethod
    def label(decision: Decision) -> str:
        """How the audit log and metrics name an allow: `grace` when a grace window let it."""
        return "grace" if decision.reason == GRACE else decision.action.value

    def count(self, risk: Risk, decision: str) -> None:
        self.services.metrics.count_statement(risk.value, decision)

    # -- holds ---------------------------------------------------------------------------------

    def request_cancel(self) -> bool:
        """A cancel request from the client: ends a hold in progress. True if one was held."""
        if self._cancel is not None and self.holding is not None:
            self._cancel.set()
            return True
        return False

    async def hold(
        self,
        decision: Decision,
        *,
        sql: str,
        reasons: tuple[str, ...],
        statement_hash: str,
        params: list[object] | None,
        notify: Callable[[ApprovalRequest], Awaitable[None]],
    ) -> HoldResult:
        """Open an approval request, tell the client (`notify`), and wait for its end."""
        assert decision.rule is not None and decision.rule_index is not None
        approvals = self.services.approvals
        request = await approvals.open(
            user=self.user,
            connection=self.connection.name,
            session_id=self.id,
            risk=decision.risk.value,
            sql=sql,
            statement_hash=statement_hash,
            reasons=reasons,
            rule=decision.rule,
            params=params,
        )
        self.audit(decision.risk, "hold", sql, request_id=request.id, outcome="pending")
        started = time.monotonic()
        self.holding = request
        self._cancel = trio.Event()
        final: ApprovalRequest | None = None
        ended_by = "expired"
        try:
            await notify(request)
            with trio.move_on_after(decision.rule.timeout):
                async with trio.open_nursery() as nursery:

                    async def wait_decision() -> None:
                        nonlocal final
                        final = await approvals.wait(request.id)
                        nursery.cancel_scope.cancel()

                    async def wait_event(event: trio.Event, why: str) -> None:
                        nonlocal ended_by
                        await event.wait()
                        ended_by = why
                        nursery.cancel_scope.cancel()

                    async def wait_grace() -> None:
                        """An approval of the same user's held statement under this rule,
                        on this connection and network, opened a grace window that covers
                        this one too: one approval for a pool's (or a tool's) holds."""
                        nonlocal ended_by
                        assert decision.rule_index is not None
                        key = (self.user, self.connection.name, self.network, decision.rule_index)
                        while not approvals.in_grace(*key, decision.risk.value):
                            await approvals.grace_granted.wait()
                        ended_by = "grace"
                        nursery.cancel_scope.cancel()

                    nursery.start_soon(wait_decision)
                    if decision.rule.grace > 0:
                        nursery.start_soon(wait_grace)
                    nursery.start_soon(wait_event, self.client_gone, "abandoned")
                    nursery.start_soon(wait_event, self._cancel, "cancelled")
                    nursery.start_soon(wait_event, approvals.stopping, "stopping")
        finally:
            # Also when the wait was cancelled (the user's access revoked, the gateway stopping
            # with the hold's session): the request ends and the audit log says how.
            self.holding = None
            self._cancel = None
            if final is None:
                status, reason = self._hold_end(ended_by, decision.rule.timeout)
                with trio.CancelScope(shield=True):
                    final = await approvals.finish(request.id, status, reason)
            assert final is not None  # decided, or ended just above
            result = self._record_hold_end(decision, sql, final, started)
        if ended_by == "stopping" and result.status != "approved":
            self.stop()  # the engine tells the client as the session ends
        return result

    def _hold_end(self, ended_by: str, timeout: float) -> tuple[str, str]:
        """(status, reason) of a hold that ended without a decision."""
        if ended_by == "grace":
            return "approved", GRACE
        if ended_by == "stopping" or self.stopping:
            return "cancelled", STOPPING
        if self.revoked is not None:
            return "cancelled", f"access revoked: {self.revoked}"
        reasons = {"expired": f"no decision within {timeout:g}s", "abandoned": ABANDONED}
        return ended_by, reasons.get(ended_by, CANCELLED)

    def _record_hold_end(
        self, decision: Decision, sql: str, final: ApprovalRequest, started: float
    ) -> HoldResult:
        """Metrics, grace and the audit row of a hold's end (nothing here waits)."""
        assert decision.rule is not None and decision.rule_index is not None
        metrics = self.services.metrics
        metrics.approval_wait.observe(time.monotonic() - started)
        metrics.holds.labels(status=final.status).inc()
        status = final.status
        if status == "approved" and self.client_gone.is_set():
            status = "abandoned"  # approved too late: nobody is there to run it for
        if status == "approved":
            self.services.approvals.grant_grace(
                self.user,
                self.connection.name,
                self.network,
                decision.rule_index,
                decision.rule,
                decision.risk.value,
            )
        else:
            self.audit(
                decision.risk,
                status,
                sql,
                request_id=final.id,
                outcome="blocked",
                error=final.reason,
            )
        self.count(decision.risk, status)
        return HoldResult(status, final)

    # -- audit ---------------------------------------------------------------------------------

    def record(
        self, risk: Risk, decision: str, sql: str, **fields: Unpack[RecordFields]
    ) -> AuditRecord:
        """An audit record of this session, stamped now."""
        return AuditRecord(
            ts=self.services.clock(),
            user=self.user,
            connection=self.connection.name,
            session_id=self.id,
            risk=risk.value,
            decision=decision,
            sql=sql,
            **fields,
        )

    def audit(self, risk: Risk, decision: str, sql: str, **fields: Unpack[RecordFields]) -> None:
        """Queue `record(...)` for the audit writer."""
        self.services.audit.put(self.record(risk, decision, sql, **fields))

    async def audit_ahead(
        self, risk: Risk, decision: str, sql: str, request_id: str | None
    ) -> None:
        """With `[audit] durable_from`: before a statement of that class or above is
        forwarded, a row saying so (outcome `forwarded`) is committed and synced, so that a
        crash cannot lose the trace of a statement that ran. Its outcome row follows as usual.
        """
        if self.services.config.audit.durable(risk.value):
            record = self.record(risk, decision, sql, request_id=request_id, outcome="forwarded")
            await self.services.audit.put_durable(record)
