"""The audit hash chain: what it covers, and that edits, deletions and reorderings show."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from iap.audit import GENESIS_HASH, record_hash, verify_chain
from iap.store.base import AuditRecord
from iap.store.sqlite import SQLiteStore


def chain(n: int) -> list[AuditRecord]:
    """n records linked in memory the way a store links them."""
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
        record = replace(record, hash=record_hash(record, prev))
        records.append(record)
        prev = record.hash
    return records


@pytest.fixture
def log(tmp_path: Path) -> Iterator[tuple[SQLiteStore, Path]]:
    store = SQLiteStore(tmp_path / "iap.db")
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


def raw_sql(path: Path, sql: str) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(sql)


# the rule


def test_record_hash_is_canonical_sha256_of_all_fields_but_hash() -> None:
    record = chain(1)[0]
    assert len(record.hash) == 64
    assert record_hash(replace(record, hash="x" * 64), GENESIS_HASH) == record.hash
    assert record_hash(replace(record, ts=1001), GENESIS_HASH) == record.hash  # int == float


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
    assert record_hash(edited, prev) != record.hash


def test_intact_chain_verifies() -> None:
    assert verify_chain(chain(5)) is None
    assert verify_chain([]) is None


def test_edited_record_is_found() -> None:
    records = chain(5)
    records[2] = replace(records[2], sql="SELECT 1")
    assert verify_chain(records) == 3


def test_missing_record_names_the_missing_seq() -> None:
    records = chain(5)
    del records[1]
    assert verify_chain(records) == 2
    assert verify_chain(chain(5)[1:]) == 1


def test_reordered_records_are_found() -> None:
    records = chain(5)
    records[1], records[2] = records[2], records[1]
    assert verify_chain(records) == 2


def test_wrong_prev_link_is_found() -> None:
    records = chain(3)
    forged = replace(records[1], prev_hash="f" * 64)
    records[1] = replace(forged, hash=record_hash(forged, forged.prev_hash))
    assert verify_chain(records) == 2


def test_a_slice_verifies_from_its_anchor() -> None:
    records = chain(5)
    assert verify_chain(records[2:], prev_hash=records[1].hash, first_seq=3) is None


# through the store


def test_audit_log_writes_a_verifiable_chain(log: tuple[SQLiteStore, Path]) -> None:
    store, _ = log
    records = list(store.iter_audit())
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert [r.ts for r in records] == [1000.0, 1001.0, 1002.0, 1003.0, 1004.0]
    assert records[0].outcome == "ok" and records[0].extra == {}
    assert verify_chain(store.iter_audit()) is None


def test_row_edited_in_the_database_is_found(log: tuple[SQLiteStore, Path]) -> None:
    store, path = log
    raw_sql(path, "UPDATE audit SET sql = 'SELECT 42' WHERE seq = 3")
    assert verify_chain(store.iter_audit()) == 3


def test_row_deleted_from_the_database_is_found(log: tuple[SQLiteStore, Path]) -> None:
    store, path = log
    raw_sql(path, "DELETE FROM audit WHERE seq = 2")
    assert verify_chain(store.iter_audit()) == 2


def test_rows_reordered_in_the_database_are_found(log: tuple[SQLiteStore, Path]) -> None:
    store, path = log
    raw_sql(path, "UPDATE audit SET seq = -1 WHERE seq = 2")
    raw_sql(path, "UPDATE audit SET seq = 2 WHERE seq = 4")
    raw_sql(path, "UPDATE audit SET seq = 4 WHERE seq = -1")
    assert verify_chain(store.iter_audit()) == 2


def test_the_chain_rule_is_stable() -> None:
    """A hash written by one version must verify in the next: pin one known value."""
    record = AuditRecord(
        ts=1, user="a", decision="allow", seq=5, sql="SELECT 1", duration_ms=2, rows=1,
        extra={"b": 1, "a": [1]},
    )  # fmt: skip
    assert record_hash(record, "x" * 64) == (
        "ddd17517caf96ef7b4e8669de93f718905ea6aa05b5d854613187f7006ab228d"
    )
