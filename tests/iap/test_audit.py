"""The audit hash chain: what it covers, that edits, deletions and reorderings show, that it is
keyed (a chain recomputed without the key does not verify), and that older unkeyed stores
still verify honestly."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from iap.audit import (
    GENESIS_HASH,
    ChainError,
    chain_fields,
    check_chain,
    keyed_from,
    keyed_from_mac,
    record_hash,
    verify_chain,
)
from iap.store.base import AuditRecord
from iap.store.sqlite import _MIGRATIONS, SQLiteStore

KEY = bytes(range(32))


def chain(n: int, key: bytes | None = KEY, *, keyed_from: int = 1) -> list[AuditRecord]:
    """n records linked in memory the way a store links them (unkeyed below keyed_from)."""
    records: list[AuditRecord] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        record = AuditRecord(
            seq=seq,
            ts=1000.0 + seq,
            user="alice",
            connection="pg-main",
            session_id="s1",
            risk="destructive",
            decision="approved",
            request_id="K7Q2XD",
            outcome="ok",
            rows=seq,
            error=None,
            duration_ms=2.0,
            sql=f"DELETE FROM t WHERE id = {seq}",
            prev_hash=prev,
            extra={"approver": "bob"},
        )
        record = replace(record, hash=record_hash(record, prev, key if seq >= keyed_from else None))
        records.append(record)
        prev = record.hash
    return records


def rechain(records: list[AuditRecord], start: int, key: bytes | None) -> list[AuditRecord]:
    """What a forger does: recompute every hash from record `start` (1-based) on."""
    out = records[: start - 1]
    prev = out[-1].hash if out else GENESIS_HASH
    for record in records[start - 1 :]:
        linked = replace(record, prev_hash=prev)
        out.append(replace(linked, hash=record_hash(linked, prev, key)))
        prev = out[-1].hash
    return out


@pytest.fixture
def log(tmp_path: Path) -> Iterator[tuple[SQLiteStore, Path]]:
    store = SQLiteStore(tmp_path / "iap.db", audit_key=KEY)
    for n in range(5):
        store.append_audit(
            AuditRecord(
                ts=1000 + n,
                user="alice",
                connection="pg-main",
                session_id="s1",
                risk="read",
                decision="allow",
                sql=f"SELECT {n}",
                rows=n,
                duration_ms=n,  # an int on purpose: read back as a float, the hash must hold
            )
        )
    yield store, tmp_path / "iap.db"
    store.close()


def raw_sql(path: Path, sql: str, args: tuple[Any, ...] = ()) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(sql, args)


def rewrite_rows(path: Path, records: list[AuditRecord]) -> None:
    """Write records over the stored rows of the same seq (sql, prev_hash, hash)."""
    for r in records:
        raw_sql(
            path,
            "UPDATE audit SET sql = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (r.sql, r.prev_hash, r.hash, r.seq),
        )


# the rule


def test_record_hash_is_canonical_hmac_of_all_fields_but_hash() -> None:
    record = chain(1)[0]
    assert len(record.hash) == 64
    assert record_hash(replace(record, hash="x" * 64), GENESIS_HASH, KEY) == record.hash
    assert record_hash(replace(record, ts=1001), GENESIS_HASH, KEY) == record.hash  # int == float
    text = json.dumps(
        chain_fields(record, 1, GENESIS_HASH), sort_keys=True, separators=(",", ":")
    ).encode()
    assert record.hash == hmac.new(KEY, text, "sha256").hexdigest()
    assert record_hash(record, GENESIS_HASH, None) == hashlib.sha256(text).hexdigest()


def test_different_strings_never_hash_alike() -> None:
    """The keyed rule hashes UTF-8 with surrogates passed through: a split surrogate pair is
    not the character it would make (in ASCII JSON both are \\ud83d\\ude00)."""
    record = chain(1)[0]
    split, whole = replace(record, sql="\ud83d\ude00"), replace(record, sql="\U0001f600")
    assert record_hash(split, GENESIS_HASH, KEY) != record_hash(whole, GENESIS_HASH, KEY)
    assert record_hash(split, GENESIS_HASH, None) == record_hash(whole, GENESIS_HASH, None)


@pytest.mark.parametrize(
    "field", [f.name for f in dataclasses.fields(AuditRecord) if f.name not in ("hash",)]
)
def test_every_field_is_covered(field: str) -> None:
    record = chain(1)[0]
    changed: Any = {
        "seq": 2,
        "ts": 5.0,
        "rows": 99,
        "duration_ms": 3.0,
        "extra": {"approver": "mallory"},
        "request_id": "OTHER1",
        "error": "boom",
    }.get(field, "tampered")
    edited = replace(record, **{field: changed})
    prev = "tampered" if field == "prev_hash" else GENESIS_HASH
    assert record_hash(edited, prev, KEY) != record.hash


def test_intact_chain_verifies() -> None:
    assert verify_chain(chain(5), KEY) is None
    assert verify_chain([], KEY) is None


def test_edited_record_is_found() -> None:
    records = chain(5)
    records[2] = replace(records[2], sql="SELECT 1")
    assert verify_chain(records, KEY) == 3


def test_missing_record_names_the_missing_seq() -> None:
    records = chain(5)
    del records[1]
    assert verify_chain(records, KEY) == 2
    assert verify_chain(chain(5)[1:], KEY) == 1


def test_reordered_records_are_found() -> None:
    records = chain(5)
    records[1], records[2] = records[2], records[1]
    assert verify_chain(records, KEY) == 2


def test_wrong_prev_link_is_found() -> None:
    records = chain(3)
    forged = replace(records[1], prev_hash="f" * 64)
    records[1] = replace(forged, hash=record_hash(forged, forged.prev_hash, KEY))
    assert verify_chain(records, KEY) == 2


def test_a_slice_verifies_from_its_anchor() -> None:
    records = chain(5)
    assert verify_chain(records[2:], KEY, prev_hash=records[1].hash, first_seq=3) is None


# the key


@pytest.mark.parametrize("forger_key", [None, b"k" * 32], ids=["unkeyed", "other-key"])
def test_a_rewritten_chain_recomputed_without_the_key_is_found(forger_key: bytes | None) -> None:
    records = chain(5)
    records[2] = replace(records[2], sql="SELECT 1")
    tail = rechain(records, 3, forger_key)
    assert [r.prev_hash for r in tail[1:]] == [r.hash for r in tail[:-1]]  # every link holds
    assert check_chain(tail, KEY).broken_at == 3
    assert check_chain(tail, KEY).reason == "its hash does not match its content"
    whole = rechain(records, 1, forger_key)
    # consistent under the forger's own rule (the unkeyed check of before passed it) ...
    if forger_key is None:
        assert verify_chain(whole, KEY, keyed_from=len(whole) + 1) is None
    else:
        assert verify_chain(whole, forger_key) is None
    # ... but not under the gateway's key
    assert verify_chain(whole, KEY) == 1


def test_older_unkeyed_records_verify_below_the_keyed_boundary() -> None:
    records = chain(6, keyed_from=4)
    assert verify_chain(records, KEY, keyed_from=4) is None
    assert verify_chain(records, KEY) == 1  # they are not keyed: nobody may say they are
    # an unkeyed record before the boundary edited and its links recomputed without the key:
    # the first keyed record's link shows it
    edited = list(records)
    edited[1] = replace(edited[1], sql="SELECT 1")
    forged = rechain(edited[:3], 2, None) + edited[3:]
    assert verify_chain(forged, KEY, keyed_from=4) == 4
    # and a forger cannot move the boundary to after their edit either
    assert verify_chain(rechain(edited, 2, None), KEY, keyed_from=4) == 4


# the mark of where the keyed chain begins


def test_keyed_from_reads_a_mark_made_with_the_key() -> None:
    assert keyed_from((7, keyed_from_mac(KEY, 7)), KEY) == 7


@pytest.mark.parametrize(
    "mark",
    [None, (8, keyed_from_mac(KEY, 7)), (7, keyed_from_mac(b"k" * 32, 7)), (7, "zz")],
    ids=["missing", "moved", "other-key", "garbage"],
)
def test_a_missing_moved_or_forged_mark_is_refused(mark: tuple[int, str] | None) -> None:
    with pytest.raises(ChainError):
        keyed_from(mark, KEY)


# through the store


def test_audit_log_writes_a_verifiable_keyed_chain(log: tuple[SQLiteStore, Path]) -> None:
    store, _ = log
    records = list(store.iter_audit())
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert [r.ts for r in records] == [1000.0, 1001.0, 1002.0, 1003.0, 1004.0]
    assert records[0].outcome == "ok" and records[0].extra == {}
    assert keyed_from(store.audit_keyed_from(), KEY) == 1  # a new store is keyed throughout
    assert verify_chain(store.iter_audit(), KEY) is None
    assert verify_chain(store.iter_audit(), b"k" * 32) == 1
    assert store.audit_head() == (5, records[-1].hash)


def test_row_edited_in_the_database_is_found(log: tuple[SQLiteStore, Path]) -> None:
    store, path = log
    raw_sql(path, "UPDATE audit SET sql = 'SELECT 42' WHERE seq = 3")
    assert verify_chain(store.iter_audit(), KEY) == 3


def test_row_edited_and_chain_recomputed_unkeyed_in_the_database_is_found(
    log: tuple[SQLiteStore, Path],
) -> None:
    store, path = log
    records = list(store.iter_audit())
    records[2] = replace(records[2], sql="SELECT 42")
    rewrite_rows(path, rechain(records, 3, None))
    assert verify_chain(store.iter_audit(), KEY) == 3


def test_row_deleted_from_the_database_is_found(log: tuple[SQLiteStore, Path]) -> None:
    store, path = log
    raw_sql(path, "DELETE FROM audit WHERE seq = 2")
    assert verify_chain(store.iter_audit(), KEY) == 2


def test_rows_reordered_in_the_database_are_found(log: tuple[SQLiteStore, Path]) -> None:
    store, path = log
    raw_sql(path, "UPDATE audit SET seq = -1 WHERE seq = 2")
    raw_sql(path, "UPDATE audit SET seq = 2 WHERE seq = 4")
    raw_sql(path, "UPDATE audit SET seq = 4 WHERE seq = -1")
    assert verify_chain(store.iter_audit(), KEY) == 2


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE audit SET extra = '{not json' WHERE seq = 3",
        "UPDATE audit SET ts = 'x' WHERE seq = 3",
    ],
)
def test_a_row_edited_into_something_unreadable_is_found(
    log: tuple[SQLiteStore, Path], edit: str
) -> None:
    store, path = log
    raw_sql(path, edit)
    result = check_chain(store.iter_audit(), KEY)
    assert result.broken_at == 3 and result.count == 2


def test_the_mark_moved_in_the_database_is_found(log: tuple[SQLiteStore, Path]) -> None:
    store, path = log
    raw_sql(path, "UPDATE audit_chain SET keyed_from = 99")
    with pytest.raises(ChainError, match="seq 99"):
        keyed_from(store.audit_keyed_from(), KEY)
    raw_sql(path, "DELETE FROM audit_chain")
    assert store.audit_keyed_from() is None


def test_a_v3_store_keeps_its_unkeyed_rows_and_keys_the_new_ones(tmp_path: Path) -> None:
    path = tmp_path / "iap.db"
    old = chain(3, None)
    with closing(sqlite3.connect(path)) as raw, raw:
        for version in (1, 2, 3):
            for statement in _MIGRATIONS[version]:
                raw.execute(statement)
        raw.execute("INSERT INTO schema_version (version) VALUES (3)")
        for r in old:
            raw.execute(
                "INSERT INTO audit (seq, ts, user_name, connection_name, session_id, risk,"
                " decision, request_id, outcome, row_count, error, duration_ms, sql, prev_hash,"
                " hash, extra) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    r.seq, r.ts, r.user, r.connection, r.session_id, r.risk, r.decision,
                    r.request_id, r.outcome, r.rows, r.error, r.duration_ms, r.sql,
                    r.prev_hash, r.hash, json.dumps(r.extra),
                ),
            )  # fmt: skip
    store = SQLiteStore(path, audit_key=KEY)
    try:
        start = keyed_from(store.audit_keyed_from(), KEY)
        assert start == 4
        assert verify_chain(store.iter_audit(), KEY, keyed_from=start) is None
        store.append_audit(AuditRecord(ts=2000.0, user="bob", decision="allow", sql="SELECT 9"))
        records = list(store.iter_audit())
        assert records[:3] == old
        assert records[3].hash == record_hash(records[3], old[-1].hash, KEY)
        assert verify_chain(records, KEY, keyed_from=start) is None
        # an old row edited, the old links recomputed: the first keyed row shows it
        edited = [replace(old[0], sql="SELECT 1"), *old[1:]]
        rewrite_rows(path, rechain(edited, 1, None))
        assert verify_chain(store.iter_audit(), KEY, keyed_from=start) == 4
    finally:
        store.close()


def test_the_chain_rule_is_stable() -> None:
    """A hash written by one version must verify in the next: pin one known value of each
    rule (the unkeyed one still verifies stores written before the chain was keyed)."""
    record = AuditRecord(
        ts=1, user="a", decision="allow", seq=5, sql="SELECT 1", duration_ms=2, rows=1,
        extra={"b": 1, "a": [1]},
    )  # fmt: skip
    assert record_hash(record, "x" * 64, None) == (
        "ddd17517caf96ef7b4e8669de93f718905ea6aa05b5d854613187f7006ab228d"
    )
    assert record_hash(record, "x" * 64, b"k" * 32) == (
        "27b8e5b505f53b5a740d3ef99fcd1acead88e34b6a1ad0902d955abefd30a006"
    )
    assert (
        keyed_from_mac(b"k" * 32, 1)
        == hmac.new(b"k" * 32, b"iap-audit-keyed-from:1", "sha256").hexdigest()
    )
