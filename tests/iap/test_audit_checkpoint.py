"""Signed audit checkpoints: they verify with the public key alone, any change to them shows,
and with one a log rewritten (even by someone holding the chain's key) or truncated is found."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from iap.audit import (
    CHECKPOINT_PREFIX,
    GENESIS_HASH,
    Checkpoint,
    CheckpointError,
    check_chain,
    make_checkpoint,
    read_checkpoint,
    record_hash,
    verify_checkpoint,
)
from iap.identity import Identity
from iap.store.base import AuditRecord
from iap.store.sqlite import SQLiteStore

KEY = bytes(range(32))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "iap.db", audit_key=KEY)
    for n in range(6):
        s.append_audit(
            AuditRecord(ts=1000.0 + n, user="alice", decision="allow", sql=f"SELECT {n}")
        )
    yield s
    s.close()


@pytest.fixture
def identity(store: SQLiteStore, tmp_path: Path) -> Identity:
    return Identity(store, tmp_path / "keys", issuer="https://gw.test")


def checkpoint_of(store: SQLiteStore, identity: Identity) -> Checkpoint:
    seq, head = store.audit_head() or (0, GENESIS_HASH)
    return make_checkpoint(seq, head, 5000.0, identity.key_id, identity.sign_audit_checkpoint)


def delete_from(store: SQLiteStore, seq: int) -> None:
    with store._transaction() as db:
        db.execute("DELETE FROM audit WHERE seq >= ?", (seq,))


# the document


def test_a_checkpoint_round_trips_and_verifies_with_the_public_key(
    store: SQLiteStore, identity: Identity
) -> None:
    signed = checkpoint_of(store, identity)
    assert (signed.seq, signed.head) == store.audit_head()
    text = json.dumps(signed.to_json())
    assert set(json.loads(text)) == {"format", "seq", "head", "ts", "kid", "signature"}
    assert read_checkpoint(text) == signed
    verify_checkpoint(read_checkpoint(text), identity.public_key_pem())


def test_the_signature_is_plain_es256_over_the_documented_message(
    store: SQLiteStore, identity: Identity
) -> None:
    """Anyone with signing.pub.pem can check a checkpoint without iap."""
    doc = checkpoint_of(store, identity).to_json()
    message = (
        CHECKPOINT_PREFIX
        + json.dumps(
            {k: doc[k] for k in ("head", "kid", "seq", "ts")}, sort_keys=True, separators=(",", ":")
        ).encode()
    )
    signature = str(doc["signature"])
    public = serialization.load_pem_public_key(identity.public_key_pem())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(
        base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
        message,
        ec.ECDSA(hashes.SHA256()),
    )


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 5},
        {"head": "f" * 64},
        {"ts": 5001.0},
        {"kid": "someone-else"},
        {"signature": "AAAA"},
        {"signature": "not base64 at all!"},
    ],
)
def test_a_tampered_checkpoint_does_not_verify(
    store: SQLiteStore, identity: Identity, change: dict[str, object]
) -> None:
    tampered = replace(checkpoint_of(store, identity), **change)
    with pytest.raises(CheckpointError, match="does not verify"):
        verify_checkpoint(tampered, identity.public_key_pem())


def test_a_checkpoint_signed_by_another_key_does_not_verify(
    store: SQLiteStore, identity: Identity, tmp_path: Path
) -> None:
    other = Identity(store, tmp_path / "other-keys", issuer="https://gw.test")
    with pytest.raises(CheckpointError):
        verify_checkpoint(checkpoint_of(store, other), identity.public_key_pem())


def test_the_signing_key_signs_nothing_but_checkpoints(identity: Identity) -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        identity.sign_audit_checkpoint(b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0")


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        json.dumps({"format": "other", "seq": 1}),
        json.dumps({"format": "iap-audit-checkpoint/1", "seq": True, "head": "0" * 64,
                    "ts": 1.0, "kid": "k", "signature": "s"}),
        json.dumps({"format": "iap-audit-checkpoint/1", "seq": -1, "head": "0" * 64,
                    "ts": 1.0, "kid": "k", "signature": "s"}),
        json.dumps({"format": "iap-audit-checkpoint/1", "seq": 1, "head": "XYZ",
                    "ts": 1.0, "kid": "k", "signature": "s"}),
        json.dumps({"format": "iap-audit-checkpoint/1", "seq": 1, "head": "0" * 64,
                    "ts": "now", "kid": "k", "signature": "s"}),
        json.dumps({"format": "iap-audit-checkpoint/1", "seq": 1, "head": "0" * 64,
                    "ts": 1.0, "kid": "k"}),
    ],
)  # fmt: skip
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(CheckpointError):
        read_checkpoint(text)


# against the log


def test_rows_written_after_a_checkpoint_keep_it_valid(
    store: SQLiteStore, identity: Identity
) -> None:
    mark = checkpoint_of(store, identity)
    store.append_audit(AuditRecord(ts=2000.0, user="bob", decision="allow", sql="SELECT 7"))
    result = check_chain(store.iter_audit(), KEY, checkpoint=mark)
    assert result.intact and result.count == 7


def test_truncating_the_newest_rows_is_found_with_a_checkpoint(
    store: SQLiteStore, identity: Identity
) -> None:
    mark = checkpoint_of(store, identity)
    delete_from(store, 5)
    assert check_chain(store.iter_audit(), KEY).intact  # the chain alone cannot tell
    result = check_chain(store.iter_audit(), KEY, checkpoint=mark)
    assert result.broken_at == 5
    assert result.reason.startswith("truncated: the checkpoint of")
    assert "covers seq 6 but the log ends at seq 4" in result.reason


def test_truncating_and_appending_again_is_found_as_a_rewrite(
    store: SQLiteStore, identity: Identity
) -> None:
    """Dropping rows and writing new ones up to the checkpoint's seq: the head differs."""
    mark = checkpoint_of(store, identity)
    delete_from(store, 4)
    for n in range(3):
        store.append_audit(AuditRecord(ts=3000.0 + n, user="eve", decision="allow", sql="SELECT 0"))
    result = check_chain(store.iter_audit(), KEY, checkpoint=mark)
    assert result.broken_at == 6 and result.reason.startswith("rewritten:")


def test_a_rewrite_by_someone_holding_the_chain_key_is_found_with_a_checkpoint(
    store: SQLiteStore, identity: Identity
) -> None:
    mark = checkpoint_of(store, identity)
    records = list(store.iter_audit())
    prev = records[1].hash
    with store._transaction() as db:
        for record in records[2:]:
            edited = replace(record, sql="SELECT 'nothing to see'", prev_hash=prev)
            prev = record_hash(edited, edited.prev_hash, KEY)
            db.execute(
                "UPDATE audit SET sql = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (edited.sql, edited.prev_hash, prev, record.seq),
            )
    assert check_chain(store.iter_audit(), KEY).intact  # the key's holder made it consistent
    result = check_chain(store.iter_audit(), KEY, checkpoint=mark)
    assert result.broken_at == mark.seq and result.reason.startswith("rewritten:")


def test_a_checkpoint_of_the_empty_log(tmp_path: Path) -> None:
    empty = SQLiteStore(tmp_path / "empty.db", audit_key=KEY)
    try:
        identity = Identity(empty, tmp_path / "keys", issuer="https://gw.test")
        mark = checkpoint_of(empty, identity)
        assert (mark.seq, mark.head) == (0, GENESIS_HASH)
        assert check_chain(empty.iter_audit(), KEY, checkpoint=mark).intact
        empty.append_audit(AuditRecord(ts=1.0, user="a", decision="allow"))
        assert check_chain(empty.iter_audit(), KEY, checkpoint=mark).intact
    finally:
        empty.close()
