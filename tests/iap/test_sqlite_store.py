"""SQLiteStore: round trips, compare-and-set decisions, and the audit chain under concurrency."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from iap.audit import GENESIS_HASH, fields_hash, keyed_from, verify_chain
from iap.identity import load_audit_key
from iap.store import sqlite as sqlite_store
from iap.store.base import (
    ApprovalRequest,
    AuditRecord,
    CancelKey,
    LiveSession,
    RefreshToken,
    StoreUnavailable,
    User,
)
from iap.store.sqlite import _MIGRATIONS, SCHEMA_VERSION, SQLiteStore

KEY = bytes(range(32))
NOT_UTF8 = b"DROP TABLE caf\xe9".decode("utf-8", "surrogateescape")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "iap.db", audit_key=KEY)
    yield s
    s.close()


def make_user(name: str = "alice") -> User:
    return User(
        name=name,
        roles=("dev", "dba"),
        password_hash="scrypt$16384$8$1$c2FsdA$aGFzaA",
        totp_secret="aesgcm$sealed",
        created_at=100.0,
    )


def make_request(request_id: str = "K7Q2XD", created_at: float = 1000.0) -> ApprovalRequest:
    return ApprovalRequest(
        id=request_id,
        status="pending",
        user="alice",
        connection="pg-main",
        session_id="s1",
        risk="destructive",
        sql="DROP TABLE orders",
        statement_hash="ab" * 32,
        reasons=("drops a table", "no undo"),
        created_at=created_at,
        expires_at=created_at + 300,
        approval="peer",
        approver_roles=("dba",),
        min_approvals=2,
        max_age=0.0,
        params='["1"]',
    )


def make_audit(n: int = 0) -> AuditRecord:
    return AuditRecord(
        seq=0,
        ts=1000.0 + n,
        user="alice",
        connection="pg-main",
        session_id="s1",
        risk="read",
        decision="allow",
        request_id=None,
        outcome="ok",
        rows=n,
        error=None,
        duration_ms=1.5,
        sql=f"SELECT {n}",
        extra={"n": n},
    )


# schema


def test_schema_version_wal_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "iap.db"
    first = SQLiteStore(path)
    first.add_user(make_user())
    first.close()
    second = SQLiteStore(path)
    assert second.get_user("alice") == make_user()
    second.close()
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_audit_key_is_made_once_beside_the_file_and_kept_private(tmp_path: Path) -> None:
    first = SQLiteStore(tmp_path / "iap.db")
    first.append_audit(make_audit(1))
    first.close()
    key_file = tmp_path / "keys" / "audit.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    key = key_file.read_bytes()
    assert len(key) == 32
    second = SQLiteStore(tmp_path / "iap.db")
    try:
        second.append_audit(make_audit(2))
        assert keyed_from(second.audit_keyed_from(), key) == 1
        assert verify_chain(second.iter_audit(), key) is None
    finally:
        second.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "iap.db"
    SQLiteStore(path).close()
    with closing(sqlite3.connect(path)) as raw, raw:
        raw.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(RuntimeError, match="newer iap"):
        SQLiteStore(path)


def test_a_v2_store_gains_cancel_key_owners_and_old_keys_belong_to_nobody(
    tmp_path: Path,
) -> None:
    path = tmp_path / "iap.db"
    with closing(sqlite3.connect(path)) as raw, raw:
        for version in (1, 2):
            for statement in _MIGRATIONS[version]:
                raw.execute(statement)
        raw.execute("INSERT INTO schema_version (version) VALUES (2)")
        raw.execute("INSERT INTO cancel_keys VALUES (7, -1, 's1', 'my-main', 41, NULL, 1000.0)")
    store = SQLiteStore(path)
    try:
        assert store.get_cancel_key(7, -1) == CancelKey(
            7, -1, "s1", "", "my-main", 41, None, 1000.0
        )
    finally:
        store.close()


# cancel keys


def test_cancel_keys_round_trip_with_their_owner_and_refuse_a_taken_key(
    store: SQLiteStore,
) -> None:
    key = CancelKey(7, 1234, "s1", "alice", "pg-main", 99, 5678, 1000.0)
    assert store.put_cancel_key(key)
    assert not store.put_cancel_key(CancelKey(7, 1234, "s2", "bob", "pg-main", 1, 2, 1001.0))
    assert store.get_cancel_key(7, 1234) == key
    assert store.get_cancel_key(7, 1235) is None
    store.delete_cancel_key(7, 1234)
    assert store.get_cancel_key(7, 1234) is None
    for process_id in (1, 2):
        assert store.put_cancel_key(CancelKey(process_id, -1, "s", "bob", "my", 9, None, 1.0))
    assert store.clear_cancel_keys() == 2
    assert store.get_cancel_key(1, -1) is None and store.clear_cancel_keys() == 0


# users and MFA


def test_users_round_trip(store: SQLiteStore) -> None:
    store.add_user(make_user("bob"))
    store.add_user(make_user("alice"))
    with pytest.raises(KeyError):
        store.add_user(make_user("alice"))
    assert store.get_user("carol") is None
    assert [u.name for u in store.list_users()] == ["alice", "bob"]
    store.set_user_roles("alice", ["viewer"])
    store.set_user_disabled("alice", True)
    alice = store.get_user("alice")
    assert alice is not None and alice.roles == ("viewer",) and alice.disabled
    with pytest.raises(KeyError):
        store.set_user_disabled("carol", True)


def test_advance_totp_step_only_moves_forward(store: SQLiteStore) -> None:
    store.add_user(make_user())
    assert store.advance_totp_step("alice", 10)
    assert not store.advance_totp_step("alice", 10)
    assert not store.advance_totp_step("alice", 9)
    assert store.advance_totp_step("alice", 11)
    user = store.get_user("alice")
    assert user is not None and user.last_totp_step == 11
    assert not store.advance_totp_step("nobody", 1)


def test_mfa_events_and_failures(store: SQLiteStore) -> None:
    assert store.last_mfa_event("alice") is None
    store.record_mfa_event("alice", "otp", 5.0)
    store.record_mfa_event("alice", "otp", 7.0)
    store.record_mfa_event("bob", "otp", 9.0)
    assert store.last_mfa_event("alice") == 7.0
    assert store.last_auth_failure("alice") is None
    for ts in (1.0, 2.0, 3.0):
        store.record_auth_failure("alice", ts)
    store.record_auth_failure("bob", 3.0)
    assert store.auth_failures_since("alice", 2.0) == 2
    assert store.last_auth_failure("alice") == 3.0
    store.clear_auth_failures("alice")
    assert store.auth_failures_since("alice", 0.0) == 0
    assert store.auth_failures_since("bob", 0.0) == 1


# refresh tokens


def test_refresh_tokens(store: SQLiteStore) -> None:
    token = RefreshToken("h1", "alice", "dev-1", created_at=1.0, expires_at=2.0)
    store.add_refresh_token(token)
    store.add_refresh_token(replace(token, token_hash="h2"))
    store.add_refresh_token(replace(token, token_hash="h3", user="bob"))
    assert store.get_refresh_token("h1") == token
    assert store.get_refresh_token("nope") is None
    assert store.consume_refresh_token("h1") == token
    assert store.consume_refresh_token("h1") is None
    assert store.consume_refresh_token("nope") is None
    store.revoke_user_tokens("alice")
    tokens = [store.get_refresh_token(h) for h in ("h1", "h2", "h3")]
    assert [t.revoked if t else None for t in tokens] == [True, True, False]
    store.revoke_refresh_token("h3")
    assert store.consume_refresh_token("h3") is None


# approval requests


def test_request_round_trip_and_listing(store: SQLiteStore) -> None:
    store.create_request(make_request("AAAAAA", 1.0))
    store.create_request(make_request("BBBBBB", 2.0))
    with pytest.raises(KeyError):
        store.create_request(make_request("AAAAAA"))
    assert store.get_request("AAAAAA") == make_request("AAAAAA", 1.0)
    assert store.get_request("ZZZZZZ") is None
    assert [r.id for r in store.list_requests()] == ["BBBBBB", "AAAAAA"]
    assert [r.id for r in store.list_requests(limit=1)] == ["BBBBBB"]
    store.transition_request("AAAAAA", "denied", decided_by="bob", reason="no", ts=5.0)
    assert [r.id for r in store.list_requests(status="pending")] == ["BBBBBB"]
    assert [r.id for r in store.list_requests(status="denied")] == ["AAAAAA"]


def test_requests_keep_text_that_is_not_utf8(store: SQLiteStore) -> None:
    """A held statement under client_encoding=LATIN1: its request is stored, exactly."""
    request = replace(make_request(), sql=NOT_UTF8, user="al\udcefce", params='["\udcff"]')
    store.create_request(request)
    assert store.get_request(request.id) == request
    denied = store.transition_request(request.id, "denied", reason=NOT_UTF8, ts=5.0)
    assert denied is not None and denied.reason == NOT_UTF8
    assert store.get_request(request.id) == denied


def test_transition_is_compare_and_set(store: SQLiteStore) -> None:
    store.create_request(make_request())
    approved = store.transition_request("K7Q2XD", "approved", decided_by="bob", ts=10.0)
    assert approved is not None
    assert (approved.status, approved.decided_by, approved.decided_at) == ("approved", "bob", 10.0)
    assert store.transition_request("K7Q2XD", "denied", decided_by="carol", ts=11.0) is None
    assert store.transition_request("NOSUCH", "denied", ts=11.0) is None
    assert store.get_request("K7Q2XD") == approved
    with pytest.raises(ValueError):
        store.transition_request("K7Q2XD", "pending", ts=12.0)


def test_add_approval_once_and_only_while_pending(store: SQLiteStore) -> None:
    store.create_request(make_request())
    first = store.add_approval("K7Q2XD", "bob")
    assert first is not None and first.approvals == ("bob",)
    again = store.add_approval("K7Q2XD", "bob")
    assert again is not None and again.approvals == ("bob",)
    second = store.add_approval("K7Q2XD", "carol")
    assert second is not None and second.approvals == ("bob", "carol")
    assert store.get_request("K7Q2XD") == second
    store.transition_request("K7Q2XD", "expired", ts=20.0)
    assert store.add_approval("K7Q2XD", "dave") is None
    assert store.add_approval("NOSUCH", "dave") is None


def test_racing_deciders_on_two_connections_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "iap.db"
    stores = [SQLiteStore(path) for _ in range(4)]
    stores[0].create_request(make_request())
    results: list[object] = []
    barrier = threading.Barrier(8)

    def decide(s: SQLiteStore, who: str) -> None:
        barrier.wait()
        results.append(s.transition_request("K7Q2XD", "approved", decided_by=who, ts=1.0))

    threads = [threading.Thread(target=decide, args=(stores[i % 4], f"u{i}")) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 1
    for s in stores:
        s.close()


def test_an_approved_request_is_claimed_once_across_connections(tmp_path: Path) -> None:
    path = tmp_path / "iap.db"
    stores = [SQLiteStore(path) for _ in range(4)]
    stores[0].create_request(make_request())
    assert not stores[0].claim_request("K7Q2XD", 5.0)  # pending: nothing to use yet
    stores[0].transition_request("K7Q2XD", "approved", decided_by="bob", ts=10.0)
    barrier = threading.Barrier(8)
    results: list[bool] = []

    def claim(s: SQLiteStore) -> None:
        barrier.wait()
        results.append(s.claim_request("K7Q2XD", 11.0))

    threads = [threading.Thread(target=claim, args=(stores[i % 4],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert not stores[1].claim_request("K7Q2XD", 12.0)
    assert not stores[1].claim_request("NOSUCH", 12.0)
    for s in stores:
        s.close()


def test_live_sessions_round_trip_and_end_once(store: SQLiteStore) -> None:
    mine = LiveSession("s1", 100, "alice", "pg-main", "postgres", "127.0.0.1:5000", 1.0)
    other = LiveSession("s2", 200, NOT_UTF8, "my-main", "mysql", "", 2.0)
    store.put_session(mine)
    store.put_session(other)
    assert store.list_sessions() == [mine, other]
    ended = store.end_session("s1", "incident 42")
    assert ended == replace(mine, end_reason="incident 42")
    assert store.end_session("s1", "again") is None  # asked already
    assert store.end_session("NOSUCH", "x") is None
    store.delete_session("s1")
    assert store.list_sessions() == [other]
    assert store.delete_sessions_of(200) == 1
    assert store.list_sessions() == []


def test_requests_listed_by_session(store: SQLiteStore) -> None:
    store.create_request(make_request("AAAAAA"))
    store.create_request(replace(make_request("BBBBBB"), session_id="s2"))
    assert [r.id for r in store.list_requests(session_id="s2")] == ["BBBBBB"]
    assert [r.id for r in store.list_requests(status="pending", session_id="s1")] == ["AAAAAA"]
    assert store.list_requests(status="approved", session_id="s1") == []


# audit


def test_append_audit_chains_and_round_trips(store: SQLiteStore) -> None:
    written = [store.append_audit(make_audit(n)) for n in range(3)]
    assert [r.seq for r in written] == [1, 2, 3]
    assert written[0].prev_hash == GENESIS_HASH
    assert written[1].prev_hash == written[0].hash
    assert list(store.iter_audit()) == written
    assert [r.seq for r in store.iter_audit(since=1001.0)] == [2, 3]
    assert verify_chain(store.iter_audit(), KEY) is None


def test_iter_audit_pages_through_many_rows(store: SQLiteStore) -> None:
    for n in range(1203):
        store.append_audit(make_audit(n))
    records = list(store.iter_audit())
    assert [r.seq for r in records] == list(range(1, 1204))
    assert verify_chain(records, KEY) is None


def test_two_threads_appending_keep_a_valid_chain(store: SQLiteStore) -> None:
    def append_many() -> None:
        for n in range(200):
            store.append_audit(make_audit(n))

    threads = [threading.Thread(target=append_many) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = list(store.iter_audit())
    assert len(records) == 400
    assert verify_chain(records, KEY) is None


def test_two_processes_appending_keep_a_valid_chain(tmp_path: Path) -> None:
    path = tmp_path / "iap.db"
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from iap.store.base import AuditRecord
        from iap.store.sqlite import SQLiteStore
        store = SQLiteStore(Path({str(path)!r}))
        for n in range(150):
            store.append_audit(AuditRecord(
                seq=0, ts=float(n), user="w", connection="c", session_id="s", risk="read",
                decision="allow", request_id=None, outcome="ok", rows=None, error=None,
                duration_ms=None, sql="SELECT 1"))
        store.close()
        """
    )
    workers = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(3)]
    assert [w.wait(timeout=60) for w in workers] == [0, 0, 0]
    store = SQLiteStore(path)
    records = list(store.iter_audit())
    store.close()
    assert len(records) == 450
    # each process found or made the same key beside the file
    assert verify_chain(records, load_audit_key(tmp_path / "keys")) is None


def test_audit_rows_are_hashed_without_holding_up_other_calls(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a batch of audit rows is being hashed (in the writer's thread), the event loop's
    short calls neither wait for a lock of this process nor for the database's write lock."""
    hashing, release = threading.Event(), threading.Event()

    def slow_hash(fields: dict[str, object], key: bytes | None) -> str:
        hashing.set()
        assert release.wait(30)
        return fields_hash(fields, key)

    monkeypatch.setattr(sqlite_store, "fields_hash", slow_hash)
    writer = threading.Thread(target=store.append_audits, args=([make_audit(1)],))
    writer.start()
    try:
        assert hashing.wait(30)
        others = threading.Thread(
            target=lambda: (store.add_user(make_user()), store.list_requests(), store.audit_head())
        )
        others.start()
        others.join(30)  # a guard against a deadlock, not a measure of speed
        assert not others.is_alive(), "a store call waited for the audit writer"
        assert store.get_user("alice") == make_user()
    finally:
        release.set()
        writer.join()
    assert [r.sql for r in store.iter_audit()] == ["SELECT 1"]
    assert verify_chain(store.iter_audit(), KEY) is None


def test_a_database_that_cannot_be_written_is_unavailable_not_a_bad_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_S", 0.05)
    store = SQLiteStore(tmp_path / "iap.db", audit_key=KEY)
    try:
        with closing(sqlite3.connect(tmp_path / "iap.db", isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            with pytest.raises(StoreUnavailable, match="locked"):
                store.append_audits([make_audit(1)])
            other.execute("ROLLBACK")
        store.append_audits([make_audit(1)], durable=True)
        assert [r.sql for r in store.iter_audit()] == ["SELECT 1"]
    finally:
        store.close()
