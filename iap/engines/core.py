"""The statement gate every protocol engine passes its statements through.

An engine turns its protocol's messages into units of work (a query string, a prepared
statement's execution, an extended-protocol batch), classifies them, and asks the gate what
to do. The gate owns what is the same whatever the protocol:

- the decision: the strictest over the unit's classes (deny > hold > allow);
- a hold: the approval request, reading ahead from the client meanwhile (so that one who
  leaves is noticed at once), and what the hold ended with;
- counting and auditing what was refused;
- an approved `iap run` (iap/runs.py): in its session, a statement the policy would hold
  passes when its text is one of the run's statements and its class is at most the run's.

It answers with a Verdict: forward (with the label the audit row will carry), or refuse
(with the message and whether the client cancelled). Forwarding, refusing and the audit
row of what ran are the engine's, in its own protocol, when the server has answered.

This is the one place a native fast lane and context-aware policy plug in: a statement the
lane already knows is `allow` never reaches here; context (the client's address, the time)
reaches the decision through `Session.decide`, and the conditions that fired travel with a
hold's reasons and a denial's message.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio

from iap.classify import Risk
from iap.engines.relay import ClientInput
from iap.logfmt import event
from iap.policy import Action, Decision
from iap.session import Session
from iap.store.base import ApprovalRequest

log = logging.getLogger("iap.gate")


class ClientGone(Exception):
    """The client closed its side."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What to do with a unit: forward it (label, request_id for its audit row), or refuse
    it with message (cancelled: the client cancelled the hold; else denied or expired)."""

    forward: bool
    label: str = ""
    request_id: str | None = None
    message: str = ""
    cancelled: bool = False


class StatementGate:
    def __init__(
        self,
        session: Session,
        client: ClientInput,
        keepalive: Callable[[ApprovalRequest], Awaitable[None]] | None = None,
    ) -> None:
        self.session = session
        self.client = client
        # called every [policy] hold_keepalive while a request is held (PostgreSQL: a NOTICE
        # to the client, a Sync to the idle backend), so that nothing times out meanwhile
        self.keepalive = keepalive

    def decide(self, risks: list[Risk]) -> Decision | None:
        """The strictest decision over the classes of one unit (None: nothing runs)."""
        decisions = [self.session.decide(r) for r in risks]
        for action in (Action.DENY, Action.HOLD):
            matching = [d for d in decisions if d.action is action]
            if matching:
                return max(matching, key=lambda d: d.risk.rank)
        return max(decisions, key=lambda d: d.risk.rank) if decisions else None

    async def judge(
        self,
        decision: Decision,
        *,
        sql: str,
        reasons: tuple[str, ...],
        wire: bytes,
        params: list[object] | None,
        notify: Callable[[ApprovalRequest], Awaitable[None]],
    ) -> Verdict:
        """Allow, refuse, or hold until someone decides. wire is the unit as sent (its hash
        binds an approval to exactly these bytes). Raises ClientGone when the client left
        during a hold."""
        session = self.session
        if decision.action is Action.ALLOW:
            label = session.label(decision)
            session.count(decision.risk, label)
            return Verdict(True, label)
        if decision.action is Action.DENY:
            log.info(
                event(
                    "deny",
                    user=session.user,
                    connection=session.connection.name,
                    risk=decision.risk.value,
                    session=session.id,
                    reason=decision.reason,
                )
            )
            session.count(decision.risk, "deny")
            session.audit(decision.risk, "deny", sql, outcome="blocked", error=decision.reason)
            return Verdict(False, message=f"iap: {decision.reason}")
        grant = session.run_grant
        # Bound parameters were not part of the script the approver saw: only whole texts pass.
        if grant is not None and params is None and grant.covers(sql, decision.risk):
            session.count(decision.risk, "run")
            return Verdict(True, grant.label)
        async with trio.open_nursery() as watch:
            watch.start_soon(self.client.read_ahead_while_held)
            if self.keepalive is not None:
                watch.start_soon(self._keep_alive, self.keepalive)
            result = await session.hold(
                decision,
                sql=sql,
                reasons=(*reasons, *decision.signals),  # the approver sees why it was held
                statement_hash=hashlib.sha256(wire).hexdigest(),
                params=params,
                notify=notify,
            )
            watch.cancel_scope.cancel()
        if result.approved:
            return Verdict(True, "approved", request_id=result.request.id)
        if result.status == "abandoned":
            raise ClientGone()
        return Verdict(False, message=result.message, cancelled=result.status == "cancelled")

    async def _keep_alive(self, keepalive: Callable[[ApprovalRequest], Awaitable[None]]) -> None:
        """Until cancelled (the hold ended): keepalive(request) every hold_keepalive."""
        while True:
            interval = self.session.services.config.policy.hold_keepalive
            if interval <= 0:
                return
            await trio.sleep(interval)
            request = self.session.holding
            if request is not None:
                await keepalive(request)
