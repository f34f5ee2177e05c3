"""The embedded Store: one SQLite file (stdlib sqlite3, WAL) in the gateway's data dir.

Owns: the schema and its version, the SQL, the JSON encoding of tuple and dict fields, the
exact storage of text that is not UTF-8, and the transactions that make request decisions
compare-and-set and the audit chain gap-free across threads and processes (BEGIN IMMEDIATE,
busy_timeout). Two connections, each behind its own lock: one for audit appends, one for the
rest, so the short calls the gateway makes on its event loop never queue behind a batch of
audit rows being hashed and committed in a worker thread (in WAL mode readers do not wait for
the writer, and a batch holds the database's write lock only to insert rows hashed before).
Never: decides policy, hashes passwords, encrypts secrets, keeps keys (the audit chain's key
comes from iap/identity.py) or invents the audit hash rule (iap/audit.py owns it); never holds
its lock while a caller iterates results.

Text that is not UTF-8 (lone surrogates, as `surrogateescape` decoding leaves them) cannot be
bound as SQLite TEXT: such a value is stored as a BLOB of its UTF-8 with surrogates passed
through (`surrogatepass`), and read back as exactly the same str. The column's type (TEXT or
BLOB) is the flag; every other value is stored as TEXT as before.
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
from typing import Any

from iap.audit import GENESIS_HASH, chain_fields, fields_hash, keyed_from_mac
from iap.identity import load_audit_key
from iap.store.base import (
    REQUEST_STATUSES,
    ApprovalRequest,
    AuditRecord,
    CancelKey,
    LiveSession,
    RefreshToken,
    StoreUnavailable,
    User,
)

SCHEMA_VERSION = 6
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

# v4: the audit chain is keyed (HMAC-SHA256 under <data_dir>/keys/audit.key, see iap/audit.py).
# Rows stored before keep their plain sha256 hashes; the one row of audit_chain, written by
# this migration (`_KEYED_CHAIN`), says under the key from which seq the rows are keyed.
_SCHEMA_V4 = (
    "CREATE TABLE IF NOT EXISTS audit_chain (keyed_from INTEGER NOT NULL, mac TEXT NOT NULL)",
)
_KEYED_CHAIN = 4

# v5: when each user last logged in (`iap admin user list`); NULL: not since v5.
_SCHEMA_V5 = ("ALTER TABLE users ADD COLUMN last_login REAL",)

# v6: the sessions each gateway process serves (`iap admin sessions` lists them and asks to
# end one), and when an approved `iap run` was used (one session per approval, whichever
# process or worker the run's session reaches).
_SCHEMA_V6 = (
    """CREATE TABLE IF NOT EXISTS live_sessions (
        id TEXT PRIMARY KEY,
        gateway_pid INTEGER NOT NULL,
        user_name TEXT NOT NULL,
        connection_name TEXT NOT NULL,
        kind TEXT NOT NULL,
        client_address TEXT NOT NULL,
        started_at REAL NOT NULL,
        end_reason TEXT)""",
    "ALTER TABLE requests ADD COLUMN used_at REAL",
)

_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: _SCHEMA_V1,
    2: _SCHEMA_V2,
    3: _SCHEMA_V3,
    4: _SCHEMA_V4,
    5: _SCHEMA_V5,
    6: _SCHEMA_V6,
}

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
    """Canonical JSON, ASCII only: keys and strings that are not UTF-8 are escaped."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _exact_json(value: object) -> str | bytes:
    """JSON of `extra` that reads back as exactly the same strings (ASCII escapes would turn a
    split surrogate pair into the character it would make)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text if text.isascii() else _non_ascii(text)


def _text(value: str | None) -> str | bytes | None:
    """A text value as SQLite can bind it: itself, or a BLOB when it is not UTF-8."""
    return value if value is None or value.isascii() else _non_ascii(value)


def _non_ascii(value: str) -> str | bytes:
    try:
        value.encode()
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")
    return value


def _untext(value: str | bytes | None) -> Any:
    """The str `_text` was given (None stays None)."""
    return value.decode("utf-8", "surrogatepass") if isinstance(value, bytes) else value


@contextmanager
def _begin(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction taking the database's write lock at once (the caller holds the
    connection's thread lock)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _head(conn: sqlite3.Connection) -> tuple[int, str]:
    """(seq, hash) of the newest audit row; (0, GENESIS_HASH) when there is none."""
    rows = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchall()
    return (rows[0][0], rows[0][1]) if rows else (0, GENESIS_HASH)


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
        last_login=row["last_login"],
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


_SESSION_COLUMNS = (
    "id, gateway_pid, user_name, connection_name, kind, client_address, started_at, end_reason"
)


def _live_session(row: sqlite3.Row) -> LiveSession:
    return LiveSession(
        id=row["id"],
        gateway_pid=row["gateway_pid"],
        user=_untext(row["user_name"]),
        connection=_untext(row["connection_name"]),
        kind=row["kind"],
        client_address=_untext(row["client_address"]),
        started_at=row["started_at"],
        end_reason=_untext(row["end_reason"]),
    )


def _request(row: sqlite3.Row) -> ApprovalRequest:
    return ApprovalRequest(
        id=row["id"],
        status=row["status"],
        user=_untext(row["user_name"]),
        connection=_untext(row["connection_name"]),
        session_id=_untext(row["session_id"]),
        risk=row["risk"],
        sql=_untext(row["sql"]),
        statement_hash=row["statement_hash"],
        reasons=_strs(row["reasons"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        approval=row["approval"],
        approver_roles=_strs(row["approver_roles"]),
        min_approvals=row["min_approvals"],
        max_age=row["max_age"],
        params=_untext(row["params"]),
        approvals=_strs(row["approvals"]),
        decided_by=_untext(row["decided_by"]),
        decided_at=row["decided_at"],
        reason=_untext(row["reason"]),
    )


def _audit(row: sqlite3.Row) -> AuditRecord:
    return AuditRecord(
        seq=row["seq"],
        ts=row["ts"],
        user=_untext(row["user_name"]),
        connection=_untext(row["connection_name"]),
        session_id=_untext(row["session_id"]),
        risk=_untext(row["risk"]),
        decision=_untext(row["decision"]),
        request_id=_untext(row["request_id"]),
        outcome=_untext(row["outcome"]),
        rows=row["row_count"],
        error=_untext(row["error"]),
        duration_ms=row["duration_ms"],
        sql=_untext(row["sql"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
        extra=json.loads(_untext(row["extra"])),
    )


class SQLiteStore:
    """`iap.store.base.Store` on one SQLite file; share the file between worker processes.

    `audit_key` is the audit chain's HMAC key; by default the one in `keys/` beside the file
    (`<data_dir>/keys/audit.key` for the gateway's `<data_dir>/iap.db`), made on first use.
    """

    def __init__(self, path: Path, *, audit_key: bytes | None = None) -> None:
        self.path = Path(path)
        self._audit_key = (
            load_audit_key(self.path.parent / "keys") if audit_key is None else audit_key
        )
        self._lock = threading.Lock()
        self._audit_lock = threading.Lock()
        self._conn = self._connect()
        self._audit_conn: sqlite3.Connection | None = None
        try:
            self._enable_wal()
            self._migrate()
            self._audit_conn = self._connect()
        except BaseException:
            self._conn.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

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
                if target == _KEYED_CHAIN:
                    (last,) = db.execute("SELECT coalesce(max(seq), 0) FROM audit").fetchone()
                    db.execute(
                        "INSERT INTO audit_chain (keyed_from, mac) VALUES (?, ?)",
                        (last + 1, keyed_from_mac(self._audit_key, last + 1)),
                    )
                db.execute("DELETE FROM schema_version")
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: the thread lock, then the database's write lock at once. A
        database that cannot be written now (locked past the busy timeout, disk full or
        failing) is StoreUnavailable, as for the audit log."""
        try:
            with self._lock, _begin(self._conn) as db:
                yield db
        except sqlite3.OperationalError as e:
            raise StoreUnavailable(f"{self.path}: {e}") from e

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
        with self._audit_lock:
            if self._audit_conn is not None:
                self._audit_conn.close()

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

    def set_user_password(self, name: str, password_hash: str) -> None:
        with self._transaction() as db:
            if not db.execute(
                "UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name)
            ).rowcount:
                raise KeyError(f"no user {name!r}")
            db.execute("DELETE FROM auth_failures WHERE user_name = ?", (name,))

    def set_user_totp(self, name: str, totp_secret: str) -> None:
        if not self._write(
            "UPDATE users SET totp_secret = ?, last_totp_step = 0 WHERE name = ?",
            (totp_secret, name),
        ):
            raise KeyError(f"no user {name!r}")

    def delete_user(self, name: str) -> None:
        with self._transaction() as db:
            if not db.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount:
                raise KeyError(f"no user {name!r}")
            for table in ("refresh_tokens", "mfa_events", "auth_failures"):
                db.execute(f"DELETE FROM {table} WHERE user_name = ?", (name,))

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

    def record_login(self, name: str, ts: float) -> None:
        self._update_user(name, "last_login", ts)

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
                    _text(r.user),
                    _text(r.connection),
                    _text(r.session_id),
                    r.risk,
                    _text(r.sql),
                    r.statement_hash,
                    _dumps(list(r.reasons)),
                    r.created_at,
                    r.expires_at,
                    r.approval,
                    _dumps(list(r.approver_roles)),
                    r.min_approvals,
                    r.max_age,
                    _text(r.params),
                    _dumps(list(r.approvals)),
                    _text(r.decided_by),
                    r.decided_at,
                    _text(r.reason),
                ),
            )
        except sqlite3.IntegrityError:
            raise KeyError(f"request {r.id!r} exists") from None

    def get_request(self, request_id: str) -> ApprovalRequest | None:
        rows = self._read(f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ?", (request_id,))
        return _request(rows[0]) if rows else None

    def list_requests(
        self, *, status: str | None = None, session_id: str | None = None, limit: int = 200
    ) -> list[ApprovalRequest]:
        """Newest first."""
        terms = [(t, v) for t, v in (("status", status), ("session_id", session_id)) if v]
        where = " AND ".join(f"{t} = ?" for t, _ in terms)
        rows = self._read(
            f"SELECT {_REQUEST_COLUMNS} FROM requests {'WHERE ' + where if where else ''}"
            " ORDER BY created_at DESC, id LIMIT ?",
            [*(v for _, v in terms), limit],
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

    def claim_request(self, request_id: str, ts: float) -> bool:
        return (
            self._write(
                "UPDATE requests SET used_at = ? WHERE id = ? AND status = 'approved'"
                " AND used_at IS NULL",
                (ts, request_id),
            )
            == 1
        )

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
                (to_status, _text(decided_by), ts, _text(reason), request_id),
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

    def append_audits(self, records: Sequence[AuditRecord], *, durable: bool = False) -> None:
        """Chain and store several records in one transaction (the gateway's batches)."""
        self._append_audits(records, durable=durable)

    def _append_audits(
        self, records: Sequence[AuditRecord], *, durable: bool = False
    ) -> list[tuple[int, float, str, str]]:
        """Store records; returns (seq, ts, prev_hash, hash) of each. They are hashed after
        the newest row before the write lock is taken, and again inside the transaction only
        when another process appended meanwhile. durable: the commit syncs the WAL to disk
        (synchronous FULL); otherwise it survives a crash of the process, not of the host."""
        conn = self._audit_conn
        assert conn is not None  # set by __init__
        with self._audit_lock:
            try:
                head = _head(conn)  # WAL: a read does not wait for other writers
                rows, placed = self._chain(records, head)
                if durable:
                    conn.execute("PRAGMA synchronous = FULL")
                try:
                    with _begin(conn) as db:
                        now = _head(db)
                        if now != head:
                            rows, placed = self._chain(records, now)
                        db.executemany(
                            f"INSERT INTO audit ({_AUDIT_COLUMNS}) VALUES ({', '.join('?' * 16)})",
                            rows,
                        )
                finally:
                    if durable:
                        conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.OperationalError as e:  # locked, I/O error, disk full: not the rows
                raise StoreUnavailable(f"{self.path}: {e}") from e
        return placed

    def _chain(
        self, records: Sequence[AuditRecord], head: tuple[int, str]
    ) -> tuple[list[tuple[object, ...]], list[tuple[int, float, str, str]]]:
        """The rows to insert for `records` after `head`, and (seq, ts, prev_hash, hash) of
        each. Per-record work is kept small: the gateway writes one record per statement."""
        rows: list[tuple[object, ...]] = []
        placed: list[tuple[int, float, str, str]] = []
        seq, prev_hash = head[0] + 1, head[1]
        for r in records:
            fields = chain_fields(r, seq, prev_hash)
            digest = fields_hash(fields, self._audit_key)
            ts = float(r.ts)
            rows.append(
                (
                    seq,
                    ts,
                    _text(r.user),
                    _text(r.connection),
                    _text(r.session_id),
                    _text(r.risk),
                    _text(r.decision),
                    _text(r.request_id),
                    _text(r.outcome),
                    r.rows,
                    _text(r.error),
                    fields["duration_ms"],
                    _text(r.sql),
                    prev_hash,
                    digest,
                    _exact_json(r.extra),
                )
            )
            placed.append((seq, ts, prev_hash, digest))
            seq, prev_hash = seq + 1, digest
        return rows, placed

    def audit_head(self) -> tuple[int, str] | None:
        with self._lock:
            head = _head(self._conn)
        return head if head[0] else None

    def audit_keyed_from(self) -> tuple[int, str] | None:
        rows = self._read("SELECT keyed_from, mac FROM audit_chain LIMIT 2")
        return (rows[0][0], rows[0][1]) if len(rows) == 1 else None

    def iter_audit(self, *, since: float | None = None, after: int = 0) -> Iterator[AuditRecord]:
        """Records in seq order (those with ts >= since, if given, and seq > after), read a
        page at a time."""
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

    # live sessions

    def put_session(self, session: LiveSession) -> None:
        self._write(
            "INSERT OR REPLACE INTO live_sessions (id, gateway_pid, user_name, connection_name,"
            " kind, client_address, started_at, end_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session.id,
                session.gateway_pid,
                _text(session.user),
                _text(session.connection),
                session.kind,
                _text(session.client_address),
                session.started_at,
                _text(session.end_reason),
            ),
        )

    def delete_session(self, session_id: str) -> None:
        self._write("DELETE FROM live_sessions WHERE id = ?", (session_id,))

    def list_sessions(self) -> list[LiveSession]:
        rows = self._read(f"SELECT {_SESSION_COLUMNS} FROM live_sessions ORDER BY started_at, id")
        return [_live_session(row) for row in rows]

    def end_session(self, session_id: str, reason: str) -> LiveSession | None:
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE live_sessions SET end_reason = ? WHERE id = ? AND end_reason IS NULL",
                (_text(reason), session_id),
            ).rowcount
            if not changed:
                return None
            row = db.execute(
                f"SELECT {_SESSION_COLUMNS} FROM live_sessions WHERE id = ?", (session_id,)
            ).fetchone()
            return _live_session(row)

    def delete_sessions_of(self, gateway_pid: int) -> int:
        return self._write("DELETE FROM live_sessions WHERE gateway_pid = ?", (gateway_pid,))

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
