"""The embedded Store: one SQLite file (stdlib sqlite3, WAL) in the gateway's data dir.

Owns: the schema and its version, the SQL, the JSON encoding of tuple and dict fields, and
the transactions that make request decisions compare-and-set and the audit chain gap-free
across threads (one connection behind a lock) and processes (BEGIN IMMEDIATE, busy_timeout).
Never: decides policy, hashes passwords, encrypts secrets, or invents the audit hash rule
(iap/audit.py owns it); never holds its lock while a caller iterates results.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from iap.audit import GENESIS_HASH, chain_fields, fields_hash
from iap.store.base import (
    REQUEST_STATUSES,
    ApprovalRequest,
    AuditRecord,
    CancelKey,
    RefreshToken,
    User,
)

SCHEMA_VERSION = 3
BUSY_TIMEOUT_S = 10.0
_PAGE = 500  # audit rows fetched per lock acquisition while iterating

_SCHEMA_V1 = (
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)",
    """CREATE TABLE IF NOT EXISTS users (
        name TEXT PRIMARY KEY,
        roles TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        totp_secret TEXT NOT NULL,
        last_totp_step INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0)""",
    """CREATE TABLE IF NOT EXISTS mfa_events (
        id INTEGER PRIMARY KEY,
        user_name TEXT NOT NULL,
        kind TEXT NOT NULL,
        ts REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS mfa_events_user_ts ON mfa_events (user_name, ts)",
    """CREATE TABLE IF NOT EXISTS auth_failures (
        id INTEGER PRIMARY KEY,
        user_name TEXT NOT NULL,
        ts REAL NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS auth_failures_user_ts ON auth_failures (user_name, ts)",
    """CREATE TABLE IF NOT EXISTS refresh_tokens (
        token_hash TEXT PRIMARY KEY,
        user_name TEXT NOT NULL,
        device_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0)""",
    "CREATE INDEX IF NOT EXISTS refresh_tokens_user ON refresh_tokens (user_name)",
    """CREATE TABLE IF NOT EXISTS requests (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        user_name TEXT NOT NULL,
        connection_name TEXT NOT NULL,
        session_id TEXT NOT NULL,
        risk TEXT NOT NULL,
        sql TEXT NOT NULL,
        statement_hash TEXT NOT NULL,
        reasons TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        approval TEXT NOT NULL,
        approver_roles TEXT NOT NULL,
        min_approvals INTEGER NOT NULL,
        max_age REAL NOT NULL,
        params TEXT,
        approvals TEXT NOT NULL,
        decided_by TEXT,
        decided_at REAL,
        reason TEXT)""",
    "CREATE INDEX IF NOT EXISTS requests_status_created ON requests (status, created_at)",
    """CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY,
        ts REAL NOT NULL,
        user_name TEXT NOT NULL,
        connection_name TEXT NOT NULL,
        session_id TEXT NOT NULL,
        risk TEXT NOT NULL,
        decision TEXT NOT NULL,
        request_id TEXT,
        outcome TEXT NOT NULL,
        row_count INTEGER,
        error TEXT,
        duration_ms REAL,
        sql TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        extra TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts)",
)

# version reached -> statements that reach it from the version before
# v2: cancel keys shared by the workers of one gateway (a CancelRequest reaches any of them).
_SCHEMA_V2 = (
    """CREATE TABLE IF NOT EXISTS cancel_keys (
        process_id INTEGER NOT NULL,
        secret_key INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        connection_name TEXT NOT NULL,
        backend_pid INTEGER,
        backend_secret INTEGER,
        created_at REAL NOT NULL,
        PRIMARY KEY (process_id, secret_key))""",
    "CREATE INDEX IF NOT EXISTS requests_decided ON requests (decided_at)",
)

# v3: whose session a cancel key stands for (a MySQL KILL across workers checks it). Keys
# written before have '' and match nobody: the sessions they stand for cannot be killed from
# another worker, which fails closed.
_SCHEMA_V3 = ("ALTER TABLE cancel_keys ADD COLUMN user_name TEXT NOT NULL DEFAULT ''",)

_MIGRATIONS: dict[int, tuple[str, ...]] = {1: _SCHEMA_V1, 2: _SCHEMA_V2, 3: _SCHEMA_V3}

_REQUEST_COLUMNS = (
    "id, status, user_name, connection_name, session_id, risk, sql, statement_hash, reasons, "
    "created_at, expires_at, approval, approver_roles, min_approvals, max_age, params, "
    "approvals, decided_by, decided_at, reason"
)
_AUDIT_COLUMNS = (
    "seq, ts, user_name, connection_name, session_id, risk, decision, request_id, outcome, "
    "row_count, error, duration_ms, sql, prev_hash, hash, extra"
)


def _dumps(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _strs(text: str) -> tuple[str, ...]:
    return tuple(str(v) for v in json.loads(text))


def _user(row: sqlite3.Row) -> User:
    return User(
        name=row["name"],
        roles=_strs(row["roles"]),
        password_hash=row["password_hash"],
        totp_secret=row["totp_secret"],
        last_totp_step=row["last_totp_step"],
        created_at=row["created_at"],
        disabled=bool(row["disabled"]),
    )


def _refresh_token(row: sqlite3.Row) -> RefreshToken:
    return RefreshToken(
        token_hash=row["token_hash"],
        user=row["user_name"],
        device_id=row["device_id"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked=bool(row["revoked"]),
    )


def _request(row: sqlite3.Row) -> ApprovalRequest:
    return ApprovalRequest(
        id=row["id"],
        status=row["status"],
        user=row["user_name"],
        connection=row["connection_name"],
        session_id=row["session_id"],
        risk=row["risk"],
        sql=row["sql"],
        statement_hash=row["statement_hash"],
        reasons=_strs(row["reasons"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        approval=row["approval"],
        approver_roles=_strs(row["approver_roles"]),
        min_approvals=row["min_approvals"],
        max_age=row["max_age"],
        params=row["params"],
        approvals=_strs(row["approvals"]),
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        reason=row["reason"],
    )


def _audit(row: sqlite3.Row) -> AuditRecord:
    return AuditRecord(
        seq=row["seq"],
        ts=row["ts"],
        user=row["user_name"],
        connection=row["connection_name"],
        session_id=row["session_id"],
        risk=row["risk"],
        decision=row["decision"],
        request_id=row["request_id"],
        outcome=row["outcome"],
        rows=row["row_count"],
        error=row["error"],
        duration_ms=row["duration_ms"],
        sql=row["sql"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        extra=json.loads(row["extra"]),
    )


class SQLiteStore:
    """`iap.store.base.Store` on one SQLite file; share the file between worker processes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        self._conn.row_factory = sqlite3.Row
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._enable_wal()
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except BaseException:
            self._conn.close()
            raise

    def _enable_wal(self) -> None:
        # Switching to WAL needs a moment of exclusive access; workers starting together may
        # find the file busy, and not every SQLite build runs the busy handler for it.
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as e:
                if "locked" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def _migrate(self) -> None:
        with self._transaction() as db:
            db.execute(_SCHEMA_V1[0])
            row = db.execute("SELECT max(version) FROM schema_version").fetchone()
            version = row[0] or 0
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} was written by a newer iap (schema {version}, this iap "
                    f"knows {SCHEMA_VERSION}); upgrade iap"
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[target]:
                    db.execute(statement)
                db.execute("DELETE FROM schema_version")
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: the thread lock, then the database's write lock at once."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def _write(self, sql: str, args: Sequence[object] = ()) -> int:
        """Run one statement in its own write transaction; the number of rows it changed."""
        with self._transaction() as db:
            return db.execute(sql, args).rowcount

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # users and MFA

    def add_user(self, user: User) -> None:
        try:
            self._write(
                "INSERT INTO users (name, roles, password_hash, totp_secret, last_totp_step, "
                "created_at, disabled) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    user.name,
                    _dumps(list(user.roles)),
                    user.password_hash,
                    user.totp_secret,
                    user.last_totp_step,
                    user.created_at,
                    int(user.disabled),
                ),
            )
        except sqlite3.IntegrityError:
            raise KeyError(f"user {user.name!r} exists") from None

    def get_user(self, name: str) -> User | None:
        rows = self._read("SELECT * FROM users WHERE name = ?", (name,))
        return _user(rows[0]) if rows else None

    def list_users(self) -> list[User]:
        return [_user(row) for row in self._read("SELECT * FROM users ORDER BY name")]

    def _update_user(self, name: str, column: str, value: object) -> None:
        if not self._write(f"UPDATE users SET {column} = ? WHERE name = ?", (value, name)):
            raise KeyError(f"no user {name!r}")

    def set_user_roles(self, name: str, roles: Sequence[str]) -> None:
        self._update_user(name, "roles", _dumps(list(roles)))

    def set_user_disabled(self, name: str, disabled: bool) -> None:
        self._update_user(name, "disabled", int(disabled))

    def advance_totp_step(self, name: str, step: int) -> bool:
        return (
            self._write(
                "UPDATE users SET last_totp_step = ? WHERE name = ? AND last_totp_step < ?",
                (step, name, step),
            )
            == 1
        )

    def record_mfa_event(self, user: str, kind: str, ts: float) -> None:
        self._write(
            "INSERT INTO mfa_events (user_name, kind, ts) VALUES (?, ?, ?)", (user, kind, ts)
        )

    def last_mfa_event(self, user: str) -> float | None:
        rows = self._read("SELECT max(ts) FROM mfa_events WHERE user_name = ?", (user,))
        value: float | None = rows[0][0]
        return value

    def record_auth_failure(self, user: str, ts: float) -> None:
        self._write("INSERT INTO auth_failures (user_name, ts) VALUES (?, ?)", (user, ts))

    def auth_failures_since(self, user: str, since: float) -> int:
        rows = self._read(
            "SELECT count(*) FROM auth_failures WHERE user_name = ? AND ts >= ?", (user, since)
        )
        return int(rows[0][0])

    def clear_auth_failures(self, user: str) -> None:
        self._write("DELETE FROM auth_failures WHERE user_name = ?", (user,))

    def last_auth_failure(self, user: str) -> float | None:
        rows = self._read("SELECT max(ts) FROM auth_failures WHERE user_name = ?", (user,))
        value: float | None = rows[0][0]
        return value

    def prune(self, *, failures_before: float, mfa_before: float, tokens_before: float) -> int:
        """Delete what no check reads any more; returns how many rows went. Keeps each user's
        latest MFA event (step-up freshness is measured against it)."""
        with self._transaction() as db:
            removed = db.execute(
                "DELETE FROM auth_failures WHERE ts < ?", (failures_before,)
            ).rowcount
            removed += db.execute(
                "DELETE FROM mfa_events WHERE ts < ? AND ts < (SELECT max(ts) FROM mfa_events"
                " AS latest WHERE latest.user_name = mfa_events.user_name)",
                (mfa_before,),
            ).rowcount
            removed += db.execute(
                "DELETE FROM refresh_tokens WHERE expires_at < ?", (tokens_before,)
            ).rowcount
        return int(removed)

    # refresh tokens

    def add_refresh_token(self, token: RefreshToken) -> None:
        self._write(
            "INSERT INTO refresh_tokens (token_hash, user_name, device_id, created_at, "
            "expires_at, revoked) VALUES (?, ?, ?, ?, ?, ?)",
            (
                token.token_hash,
                token.user,
                token.device_id,
                token.created_at,
                token.expires_at,
                int(token.revoked),
            ),
        )

    def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        rows = self._read("SELECT * FROM refresh_tokens WHERE token_hash = ?", (token_hash,))
        return _refresh_token(rows[0]) if rows else None

    def revoke_refresh_token(self, token_hash: str) -> None:
        self._write("UPDATE refresh_tokens SET revoked = 1 WHERE token_hash = ?", (token_hash,))

    def consume_refresh_token(self, token_hash: str) -> RefreshToken | None:
        with self._transaction() as db:
            row = db.execute(
                "SELECT * FROM refresh_tokens WHERE token_hash = ? AND revoked = 0", (token_hash,)
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE refresh_tokens SET revoked = 1 WHERE token_hash = ?", (token_hash,))
            return _refresh_token(row)

    def revoke_user_tokens(self, user: str) -> None:
        self._write("UPDATE refresh_tokens SET revoked = 1 WHERE user_name = ?", (user,))

    # approval requests

    def create_request(self, request: ApprovalRequest) -> None:
        """Raise KeyError if a request with that id exists (the caller draws a new id)."""
        r = request
        try:
            self._write(
                f"INSERT INTO requests ({_REQUEST_COLUMNS}) VALUES ({', '.join('?' * 20)})",
                (
                    r.id,
                    r.status,
                    r.user,
                    r.connection,
                    r.session_id,
                    r.risk,
                    r.sql,
                    r.statement_hash,
                    _dumps(list(r.reasons)),
                    r.created_at,
                    r.expires_at,
                    r.approval,
                    _dumps(list(r.approver_roles)),
                    r.min_approvals,
                    r.max_age,
                    r.params,
                    _dumps(list(r.approvals)),
                    r.decided_by,
                    r.decided_at,
                    r.reason,
                ),
            )
        except sqlite3.IntegrityError:
            raise KeyError(f"request {r.id!r} exists") from None

    def get_request(self, request_id: str) -> ApprovalRequest | None:
        rows = self._read(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ?", (request_id,))
        return _request(rows[0]) if rows else None

    def list_requests(
        self, *, status: str | None = None, limit: int = 200
    ) -> list[ApprovalRequest]:
        """Newest first."""
        where, args = ("WHERE status = ?", [status]) if status is not None else ("", [])
        rows = self._read(
            f"SELECT {_REQUEST_COLUMNS} FROM requests {where} ORDER BY created_at DESC, id LIMIT ?",
            [*args, limit],
        )
        return [_request(row) for row in rows]

    def requests_changed_since(self, ts: float) -> list[ApprovalRequest]:
        """Requests opened or decided at or after ts, oldest first."""
        rows = self._read(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE created_at >= ? OR decided_at >= ?"
            " ORDER BY created_at, id",
            (ts, ts),
        )
        return [_request(row) for row in rows]

    def add_approval(self, request_id: str, approver: str) -> ApprovalRequest | None:
        with self._transaction() as db:
            row = db.execute(
                f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ? AND status = 'pending'",
                (request_id,),
            ).fetchone()
            if row is None:
                return None
            request = _request(row)
            if approver in request.approvals:
                return request
            approvals = (*request.approvals, approver)
            db.execute(
                "UPDATE requests SET approvals = ? WHERE id = ? AND status = 'pending'",
                (_dumps(list(approvals)), request_id),
            )
            return replace(request, approvals=approvals)

    def transition_request(
        self,
        request_id: str,
        to_status: str,
        *,
        decided_by: str | None = None,
        reason: str | None = None,
        ts: float,
    ) -> ApprovalRequest | None:
        if to_status not in REQUEST_STATUSES or to_status == "pending":
            raise ValueError(f"cannot move a request to status {to_status!r}")
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE requests SET status = ?, decided_by = ?, decided_at = ?, reason = ? "
                "WHERE id = ? AND status = 'pending'",
                (to_status, decided_by, ts, reason, request_id),
            ).rowcount
            if changed != 1:
                return None
            row = db.execute(
                f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ?", (request_id,)
            ).fetchone()
            return _request(row)

    # audit

    def append_audit(self, record: AuditRecord) -> AuditRecord:
        seq, ts, prev_hash, digest = self._append_audits([record])[0]
        duration = None if record.duration_ms is None else float(record.duration_ms)
        return replace(
            record, seq=seq, ts=ts, duration_ms=duration, prev_hash=prev_hash, hash=digest
        )

    def append_audits(self, records: Sequence[AuditRecord]) -> None:
        """Chain and store several records in one transaction (the gateway's batches)."""
        self._append_audits(records)

    def _append_audits(self, records: Sequence[AuditRecord]) -> list[tuple[int, float, str, str]]:
        """Store records; returns (seq, ts, prev_hash, hash) of each. Per-record work is kept
        small: the gateway writes one record per statement."""
        rows: list[tuple[object, ...]] = []
        placed: list[tuple[int, float, str, str]] = []
        with self._transaction() as db:
            last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS_HASH)
            for r in records:
                fields = chain_fields(r, seq, prev_hash)
                digest = fields_hash(fields)
                ts = float(r.ts)
                rows.append(
                    (
                        seq,
                        ts,
                        r.user,
                        r.connection,
                        r.session_id,
                        r.risk,
                        r.decision,
                        r.request_id,
                        r.outcome,
                        r.rows,
                        r.error,
                        fields["duration_ms"],
                        r.sql,
                        prev_hash,
                        digest,
                        _dumps(r.extra),
                    )
                )
                placed.append((seq, ts, prev_hash, digest))
                seq, prev_hash = seq + 1, digest
            db.executemany(
                f"INSERT INTO audit ({_AUDIT_COLUMNS}) VALUES ({', '.join('?' * 16)})", rows
            )
        return placed

    def iter_audit(self, *, since: float | None = None) -> Iterator[AuditRecord]:
        """Records in seq order (those with ts >= since, if given), read a page at a time."""
        after = 0
        while True:
            rows = self._read(
                f"SELECT {_AUDIT_COLUMNS} FROM audit WHERE seq > ? AND ts >= ? "
                "ORDER BY seq LIMIT ?",
                (after, float("-inf") if since is None else since, _PAGE),
            )
            yield from (_audit(row) for row in rows)
            if len(rows) < _PAGE:
                return
            after = rows[-1]["seq"]

    # cancel keys (several workers)

    def put_cancel_key(self, key: CancelKey) -> bool:
        """Store a new key; False if that (process_id, secret_key) is taken."""
        try:
            self._write(
                "INSERT INTO cancel_keys (process_id, secret_key, session_id, user_name,"
                " connection_name, backend_pid, backend_secret, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key.process_id,
                    key.secret_key,
                    key.session_id,
                    key.user,
                    key.connection,
                    key.backend_pid,
                    key.backend_secret,
                    key.created_at,
                ),
            )
        except sqlite3.IntegrityError:
            return False
        return True

    def get_cancel_key(self, process_id: int, secret_key: int) -> CancelKey | None:
        rows = self._read(
            "SELECT process_id, secret_key, session_id, user_name, connection_name, backend_pid,"
            " backend_secret, created_at FROM cancel_keys WHERE process_id = ? AND secret_key = ?",
            (process_id, secret_key),
        )
        return CancelKey(*rows[0]) if rows else None

    def clear_cancel_keys(self) -> int:
        return self._write("DELETE FROM cancel_keys")

    def delete_cancel_key(self, process_id: int, secret_key: int) -> None:
        self._write(
            "DELETE FROM cancel_keys WHERE process_id = ? AND secret_key = ?",
            (process_id, secret_key),
        )
