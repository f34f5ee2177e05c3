"""The Store interface and the records it keeps. Backends: sqlite.py (embedded default).

Everything is synchronous: the gateway calls a store from `trio.to_thread.run_sync` where a
call may block for long, and directly for the short single-row operations of SQLite.
Times are UNIX seconds (float). Status changes of approval requests are compare-and-set so
two gateway workers or replicas can never both decide one request.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

REQUEST_STATUSES = ("pending", "approved", "denied", "expired", "abandoned", "cancelled")


class StoreUnavailable(Exception):
    """The store cannot write now, whatever is written (disk full or failing, database locked
    too long): the same call may succeed later. Any other error of an audit append is about
    the records given."""


@dataclass(frozen=True, slots=True)
class User:
    name: str
    roles: tuple[str, ...]
    password_hash: str  # "scrypt$n$r$p$salt_b64$hash_b64"
    totp_secret: str  # encrypted at rest (identity.py owns the encryption)
    last_totp_step: int = 0  # highest accepted TOTP time step: a code is never accepted twice
    created_at: float = 0.0
    disabled: bool = False
    last_login: float | None = None  # the latest login with password and code


@dataclass(frozen=True, slots=True)
class RefreshToken:
    token_hash: str  # sha256 hex of the opaque token; the token itself is never stored
    user: str
    device_id: str
    created_at: float
    expires_at: float
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    id: str  # short, human-typable: 6 chars of A-Z2-9 (e.g. "K7Q2XD")
    status: str  # one of REQUEST_STATUSES
    user: str
    connection: str
    session_id: str
    risk: str
    sql: str
    statement_hash: str  # sha256 hex of what will be forwarded (bytes of the held batch)
    reasons: tuple[str, ...]
    created_at: float
    expires_at: float
    approval: str  # "self" | "peer"
    approver_roles: tuple[str, ...] = ()
    min_approvals: int = 1
    max_age: float = 0.0
    params: str | None = None  # bound parameters shown to the approver (JSON text)
    approvals: tuple[str, ...] = ()  # users who approved so far
    decided_by: str | None = None
    decided_at: float | None = None
    reason: str | None = None  # deny reason, or why it expired/was abandoned


@dataclass(frozen=True, slots=True)
class CancelKey:
    """A cancel key the gateway gave a client, and what it stands for: a PostgreSQL
    (process id, secret) or a MySQL connection id (secret KILL_SECRET)."""

    process_id: int
    secret_key: int
    session_id: str
    user: str  # whose session: only they may cancel or KILL it
    connection: str
    backend_pid: int | None  # the backend's own key (None: the backend sent none)
    backend_secret: int | None
    created_at: float


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session a gateway process serves now, as `iap admin sessions` lists it. The process
    (`gateway_pid`) writes the row when the session starts and deletes it when it ends; rows
    of a process that is gone are stale. `end_reason` set: an operator asked to end it."""

    id: str
    gateway_pid: int
    user: str
    connection: str
    kind: str
    client_address: str
    started_at: float
    end_reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """One row of the audit trail. Any text field may hold text that is not UTF-8 (bytes
    the protocols decoded with surrogateescape, as lone surrogates): stores keep it exactly."""

    ts: float
    user: str
    # allow | grace | deny | hold | approved | denied | expired | abandoned | cancelled |
    # login | stepup | listener (a direct-listener login)
    decision: str
    seq: int = 0  # assigned by the store
    connection: str = ""
    session_id: str = ""
    risk: str = ""
    request_id: str | None = None
    outcome: str = "ok"  # ok | error | blocked | pending
    rows: int | None = None
    error: str | None = None
    duration_ms: float | None = None
    sql: str = ""
    prev_hash: str = ""
    hash: str = ""
    extra: dict[str, object] = field(default_factory=dict)


class Store(Protocol):
    """What the gateway keeps. Implementations must be safe to call from several threads."""

    def close(self) -> None: ...

    # users and MFA
    def add_user(self, user: User) -> None:
        """Raise KeyError if a user of that name exists."""

    def get_user(self, name: str) -> User | None: ...
    def list_users(self) -> list[User]: ...
    def set_user_roles(self, name: str, roles: Sequence[str]) -> None: ...
    def set_user_disabled(self, name: str, disabled: bool) -> None: ...
    def set_user_password(self, name: str, password_hash: str) -> None:
        """Replace the password hash and forget the user's auth failures (an unlock)."""

    def set_user_totp(self, name: str, totp_secret: str) -> None:
        """Replace the (sealed) TOTP secret; last_totp_step starts again at 0, since no code
        of the new secret was ever accepted."""

    def delete_user(self, name: str) -> None:
        """Remove the user with their refresh tokens, MFA events and auth failures (the
        audit log keeps their rows). The set_user_* calls and this raise KeyError for an
        unknown name."""

    def advance_totp_step(self, name: str, step: int) -> bool:
        """Atomically set last_totp_step = step if step > last_totp_step; True if it did."""

    def record_login(self, name: str, ts: float) -> None:
        """A login with password and code succeeded (`User.last_login`)."""

    def record_mfa_event(self, user: str, kind: str, ts: float) -> None: ...
    def last_mfa_event(self, user: str) -> float | None: ...
    def record_auth_failure(self, user: str, ts: float) -> None: ...
    def auth_failures_since(self, user: str, since: float) -> int: ...
    def clear_auth_failures(self, user: str) -> None: ...
    def last_auth_failure(self, user: str) -> float | None:
        """Time of the user's latest recorded failure (measures the lockout back-off)."""

    def prune(self, *, failures_before: float, mfa_before: float, tokens_before: float) -> int:
        """Delete auth failures, MFA events (but each user's latest) and expired refresh
        tokens older than the given times; returns how many rows went."""

    # refresh tokens
    def add_refresh_token(self, token: RefreshToken) -> None: ...
    def get_refresh_token(self, token_hash: str) -> RefreshToken | None: ...
    def revoke_refresh_token(self, token_hash: str) -> None: ...
    def consume_refresh_token(self, token_hash: str) -> RefreshToken | None:
        """Compare-and-set revoked = false -> true (rotation). Returns the token as it was,
        or None if it is unknown or was already revoked (someone else used it first)."""

    def revoke_user_tokens(self, user: str) -> None: ...

    # approval requests
    def create_request(self, request: ApprovalRequest) -> None: ...
    def get_request(self, request_id: str) -> ApprovalRequest | None: ...
    def list_requests(
        self, *, status: str | None = None, session_id: str | None = None, limit: int = 200
    ) -> list[ApprovalRequest]: ...
    def requests_changed_since(self, ts: float) -> list[ApprovalRequest]:
        """Requests opened or decided at or after ts (workers relay them as events)."""

    def add_approval(self, request_id: str, approver: str) -> ApprovalRequest | None:
        """Append approver (once) while the request is pending; None if not pending."""

    def claim_request(self, request_id: str, ts: float) -> bool:
        """Mark an approved request used, once: True for the first caller only, in any
        process (an `iap run` approval admits one session)."""

    def transition_request(
        self,
        request_id: str,
        to_status: str,
        *,
        decided_by: str | None = None,
        reason: str | None = None,
        ts: float,
    ) -> ApprovalRequest | None:
        """Compare-and-set pending -> to_status. Returns the new record, or None if the
        request was no longer pending (someone else decided it first)."""

    # audit (hash-chained under the gateway's audit key; see iap/audit.py for the chain rule)
    def append_audit(self, record: AuditRecord) -> AuditRecord:
        """Assign seq, prev_hash and hash in one transaction and store the row."""

    def append_audits(self, records: Sequence[AuditRecord], *, durable: bool = False) -> None:
        """append_audit for several records in order, in one transaction; durable: on disk
        (synced) when this returns, not only safe from a crash of the gateway process. Raises
        StoreUnavailable when the store cannot write at all."""

    def iter_audit(self, *, since: float | None = None, after: int = 0) -> Iterator[AuditRecord]:
        """Records in seq order: those with ts >= since (if given) and seq > after."""

    def audit_head(self) -> tuple[int, str] | None:
        """(seq, hash) of the newest record; None while the log is empty."""

    def audit_keyed_from(self) -> tuple[int, str] | None:
        """(first seq hashed under the audit key, its `iap.audit.keyed_from_mac`), as written
        once when the chain was keyed; None when missing or ambiguous."""

    # live sessions (every gateway process of this store writes its own)
    def put_session(self, session: LiveSession) -> None: ...
    def delete_session(self, session_id: str) -> None: ...
    def list_sessions(self) -> list[LiveSession]:
        """Oldest first, stale rows included (the caller knows which processes live)."""

    def end_session(self, session_id: str, reason: str) -> LiveSession | None:
        """Ask the session's gateway to end it (its watcher does, within seconds); None when
        there is no such session or it was asked already."""

    def delete_sessions_of(self, gateway_pid: int) -> int:
        """Forget the rows of a gateway process (one that is gone, or one starting afresh)."""

    # cancel keys shared by several workers
    def put_cancel_key(self, key: CancelKey) -> bool:
        """Store a new key; False if its (process_id, secret_key) is taken."""

    def get_cancel_key(self, process_id: int, secret_key: int) -> CancelKey | None: ...
    def delete_cancel_key(self, process_id: int, secret_key: int) -> None: ...
    def clear_cancel_keys(self) -> int:
        """Forget every key (no session outlives the gateway); returns how many there were."""
