"""The life of an approval request: open, wait, approve/deny, and its final status.

Owns the rules of who may approve what (self approval by the requester after a step-up;
peer approval, four eyes, by another user with an approver role), the RFC 9470 freshness
check of the approver's last MFA event (`max_age`), the `grace` window, and waking the held
session. The store is the source of truth: every status change is a compare-and-set there,
so a request is decided exactly once even across workers; a waiting session is woken at once
by an in-process event, and re-reads the store periodically to learn of decisions taken by
another worker or replica. Never forwards anything itself: sessions do that. Never calls the
store on the event loop: the async methods run their store work in a worker thread, then wake
sessions and publish events back on the loop.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import trio

from iap.config import Rule
from iap.events import Event, EventBus
from iap.logfmt import event
from iap.store.base import ApprovalRequest, Store

log = logging.getLogger("iap.approvals")

_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand
FINAL = ("approved", "denied", "expired", "abandoned", "cancelled")
_PUBLISHED_MEMORY = 10_000  # (request, status) pairs remembered so none is published twice
_RISK_RANK = {"read": 0, "write": 1, "ddl": 2, "destructive": 3, "admin": 4, "unknown": 4}


class ApprovalError(Exception):
    """A refused approve/deny call; `status` is the HTTP status the API answers with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class StepUpRequired(ApprovalError):
    """The approver's last MFA is older than the rule allows (RFC 9470)."""

    def __init__(self, max_age: float) -> None:
        super().__init__(401, "a fresh one-time code is needed to approve this request")
        self.max_age = max_age


@dataclass(frozen=True, slots=True)
class Approver:
    name: str
    roles: tuple[str, ...]


def new_request_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(6))


class Approvals:
    def __init__(
        self,
        store: Store,
        events: EventBus,
        *,
        clock: Callable[[], float],
        poll_interval: float = 1.0,
    ) -> None:
        self.store = store
        self.events = events
        self.clock = clock
        self.poll_interval = poll_interval
        self._wakeups: dict[str, trio.Event] = {}
        # (user, connection, rule index) -> (until, highest risk rank released by the approval)
        self.grace_granted = trio.Event()  # set (and replaced) by every grant_grace
        # (user, connection, network, rule index) -> (until, highest risk rank covered)
        self._grace: dict[tuple[str, str, str, int], tuple[float, int]] = {}
        self._published: dict[tuple[str, str], None] = {}  # (id, status) in publish order
        # Set when the gateway stops: holds in progress end, later ones at once (Session.hold).
        self.stopping = trio.Event()

    # -- the held session's side -------------------------------------------------------------

    async def open(
        self,
        *,
        user: str,
        connection: str,
        session_id: str,
        risk: str,
        sql: str,
        statement_hash: str,
        reasons: tuple[str, ...],
        rule: Rule,
        params: list[object] | None = None,
    ) -> ApprovalRequest:
        now = self.clock()
        for _ in range(8):
            request = ApprovalRequest(
                id=new_request_id(),
                status="pending",
                user=user,
                connection=connection,
                session_id=session_id,
                risk=risk,
                sql=sql,
                statement_hash=statement_hash,
                reasons=reasons,
                created_at=now,
                expires_at=now + rule.timeout,
                approval=rule.approval,
                approver_roles=rule.approver_roles,
                min_approvals=rule.min_approvals,
                max_age=rule.max_age,
                params=json.dumps(params) if params else None,
            )
            try:  # in a worker thread: a busy store never stalls other sessions
                await trio.to_thread.run_sync(self.store.create_request, request)
            except KeyError:
                continue  # id collision: draw again
            self._wakeups[request.id] = trio.Event()
            self._publish("request.held", request)
            _logged("hold", request, approval=rule.approval, session=session_id)
            return request
        raise RuntimeError("could not allocate an approval request id")

    async def wait(self, request_id: str) -> ApprovalRequest:
        """Wait until the request leaves `pending`; the caller bounds this with a timeout."""
        wakeup = self._wakeups.setdefault(request_id, trio.Event())
        while True:
            current = await trio.to_thread.run_sync(self.store.get_request, request_id)
            if current is None:
                raise ApprovalError(404, f"request {request_id} vanished from the store")
            if current.status != "pending":
                return current
            with trio.move_on_after(self.poll_interval):
                await wakeup.wait()

    async def finish(self, request_id: str, status: str, reason: str) -> ApprovalRequest:
        """End a pending request as expired/abandoned/cancelled (or approved by a grace
        window, `Session.hold`). If someone decided it first, return that decision instead
        (the caller must honour it)."""
        transition = partial(
            self.store.transition_request, request_id, status, reason=reason, ts=self.clock()
        )
        done = await trio.to_thread.run_sync(transition)
        self._wakeups.pop(request_id, None)
        if done is not None:
            self._publish(f"request.{status}", done)
            _logged(status, done, reason=reason)
            return done
        current = await trio.to_thread.run_sync(self.store.get_request, request_id)
        assert current is not None
        return current

    # -- the approver's side (control API) ---------------------------------------------------

    def may_review(self, request: ApprovalRequest, who: Approver) -> bool:
        if request.approval == "self":
            return who.name == request.user
        if who.name == request.user:
            return False
        return not request.approver_roles or bool(set(who.roles) & set(request.approver_roles))

    async def visible_to(
        self, who: Approver, *, status: str | None = None
    ) -> list[ApprovalRequest]:
        found = await trio.to_thread.run_sync(partial(self.store.list_requests, status=status))
        return [r for r in found if r.user == who.name or self.may_review(r, who)]

    async def get(self, request_id: str, who: Approver) -> ApprovalRequest:
        """The request, read in a worker thread; ApprovalError 404 if `who` may not see it."""
        return await trio.to_thread.run_sync(self._visible, request_id, who)

    def _visible(self, request_id: str, who: Approver) -> ApprovalRequest:
        """`get`, blocking (a store read): for worker threads only."""
        request = self.store.get_request(request_id.upper())
        if request is None or not (request.user == who.name or self.may_review(request, who)):
            raise ApprovalError(404, f"no request {request_id} that you can see")
        return request

    async def approve(self, request_id: str, who: Approver) -> ApprovalRequest:
        """Add `who`'s approval in a worker thread; once there are enough, release the hold."""
        done = await trio.to_thread.run_sync(self._approve_in_store, request_id, who)
        if done.status == "pending":  # more approvals needed
            self._publish("request.approval_added", done)
            count = f"{len(done.approvals)}/{done.min_approvals}"
            _logged("approval_added", done, by=who.name, approvals=count)
            return done
        self._wake(done)
        _logged("approved", done, by=",".join(done.approvals) or who.name)
        return done

    def _approve_in_store(self, request_id: str, who: Approver) -> ApprovalRequest:
        """approve's store side (blocking): still pending with one approval more, or
        approved."""
        request = self._visible(request_id, who)
        if not self.may_review(request, who):
            if request.approval == "peer" and who.name == request.user:
                raise ApprovalError(403, "you cannot approve your own request (four eyes)")
            raise ApprovalError(403, "you may not approve this request")
        if request.status != "pending":
            raise ApprovalError(409, f"request {request.id} is {request.status}")
        self._check_fresh_mfa(request, who)
        updated = self.store.add_approval(request.id, who.name)
        if updated is None:
            raise ApprovalError(409, f"request {request.id} is no longer pending")
        if len(updated.approvals) < updated.min_approvals:
            return updated
        done = self.store.transition_request(
            request.id, "approved", decided_by=who.name, ts=self.clock()
        )
        if done is None:
            raise ApprovalError(409, f"request {request.id} is no longer pending")
        return done

    async def deny(self, request_id: str, who: Approver, reason: str | None) -> ApprovalRequest:
        text = reason or f"denied by {who.name}"
        done = await trio.to_thread.run_sync(self._deny_in_store, request_id, who, text)
        self._wake(done)
        _logged("denied", done, by=who.name, reason=text)
        return done

    def _deny_in_store(self, request_id: str, who: Approver, reason: str) -> ApprovalRequest:
        """deny's store side (blocking)."""
        request = self._visible(request_id, who)
        if request.status != "pending":
            raise ApprovalError(409, f"request {request.id} is {request.status}")
        done = self.store.transition_request(
            request.id, "denied", decided_by=who.name, reason=reason, ts=self.clock()
        )
        if done is None:
            raise ApprovalError(409, f"request {request.id} is no longer pending")
        return done

    def _check_fresh_mfa(self, request: ApprovalRequest, who: Approver) -> None:
        """Blocking (a store read): raises StepUpRequired if who's last MFA is too old."""
        last = self.store.last_mfa_event(who.name)
        if request.max_age <= 0:
            fresh = last is not None and last >= request.created_at
        else:
            fresh = last is not None and self.clock() - last <= request.max_age
        if not fresh:
            raise StepUpRequired(request.max_age)

    def _wake(self, request: ApprovalRequest) -> None:
        wakeup = self._wakeups.pop(request.id, None)
        if wakeup is not None:
            wakeup.set()
        self._publish(f"request.{request.status}", request)

    def _publish(self, kind: str, request: ApprovalRequest) -> None:
        if kind != "request.held" and (request.id, "pending") not in self._published:
            # Held in another worker and decided before this one heard of it: every request's
            # events begin with its hold, whichever worker tells.
            self._publish("request.held", request)
        self._published[(request.id, "pending" if kind == "request.held" else request.status)] = (
            None
        )
        while len(self._published) > _PUBLISHED_MEMORY:
            del self._published[next(iter(self._published))]
        self.events.publish(
            Event(
                kind=kind,
                user=request.user,
                session_id=request.session_id,
                approver_roles=request.approver_roles if request.approval == "peer" else (),
                data=request_json(request),
            )
        )

    async def relay_other_workers(self, interval: float = 0.5, lookback: float = 5.0) -> None:
        """With several workers, sessions are held in any of them while the control API runs
        in one: publish, in this worker, the request events the others caused (learnt from
        the store every `interval` seconds), so `/v1/events` streams show every hold. Each
        read looks `lookback` seconds back, so a row committed late (another writer held the
        database) is still seen; what was published already is not published again."""
        since = self.clock()
        while True:
            await trio.sleep(interval)
            now = self.clock()
            changed = await trio.to_thread.run_sync(
                self.store.requests_changed_since, since - lookback
            )
            since = now
            for request in changed:
                if (request.id, request.status) not in self._published:
                    kind = "held" if request.status == "pending" else request.status
                    self._publish(f"request.{kind}", request)

    # -- grace (opt-in): release later statements of the same class or lower ------------------

    def grant_grace(
        self, user: str, connection: str, network: str, rule_index: int, rule: Rule, risk: str
    ) -> None:
        """Later statements of `risk` or lower under this rule pass for `rule.grace`, for
        the same user and connection from the same network (a grace earned on one network
        does not apply on another: iap.context.network_of)."""
        if rule.grace > 0:
            self.grace_granted.set()  # holds already waiting under it may be covered now
            self.grace_granted = trio.Event()
            self._grace[(user, connection, network, rule_index)] = (
                self.clock() + rule.grace,
                _RISK_RANK[risk],
            )

    def forget_grace(self) -> None:
        """Drop every grace window (a reload renumbers the rules they are keyed by)."""
        self._grace.clear()

    def in_grace(
        self, user: str, connection: str, network: str, rule_index: int, risk: str
    ) -> bool:
        key = (user, connection, network, rule_index)
        until, rank = self._grace.get(key, (-math.inf, -1))
        return self.clock() < until and _RISK_RANK[risk] <= rank


def _logged(kind: str, r: ApprovalRequest, **fields: object) -> None:
    """The gateway log's line for a request's step (`event=hold request=K7Q2XD ...`)."""
    log.info(event(kind, request=r.id, user=r.user, connection=r.connection, risk=r.risk, **fields))


def who_approves(approval: str, roles: Sequence[str], min_approvals: int) -> str:
    """Who may release a request, in words: "the requester", "a reviewer with role dba",
    "2 reviewers"."""
    if approval != "peer":
        return "the requester"
    with_role = f" with role {' or '.join(roles)}" if roles else ""
    return (
        f"{min_approvals} reviewers{with_role}" if min_approvals > 1 else f"a reviewer{with_role}"
    )


def request_json(r: ApprovalRequest) -> dict[str, object]:
    """The public shape of a request (API, `iap requests --json`, events)."""
    return {
        "id": r.id,
        "status": r.status,
        "user": r.user,
        "connection": r.connection,
        "session": r.session_id,
        "risk": r.risk,
        "sql": r.sql,
        "reasons": list(r.reasons),
        "params": json.loads(r.params) if r.params else None,
        "created_at": r.created_at,
        "expires_at": r.expires_at,
        "approval": r.approval,
        "approver_roles": list(r.approver_roles),
        "min_approvals": r.min_approvals,
        "approvals": list(r.approvals),
        "decided_by": r.decided_by,
        "decided_at": r.decided_at,
        "reason": r.reason,
    }
