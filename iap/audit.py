"""The audit trail's hash chain, and the small writer the gateway records decisions through.

Owns: the chain rule (which fields are hashed, how they are serialised, the genesis link),
its verification, and `AuditLog`, which stamps the time and hands a record to the store.
Never: stores, edits or deletes records itself (the store assigns seq and hash inside its own
transaction, calling `record_hash`), and never carries debug logging: the audit trail is not
the debug log.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Mapping

from iap.store.base import AuditRecord, Store

GENESIS_HASH = "0" * 64  # the prev_hash of the first record (seq 1)


def _canonical_fields(record: AuditRecord, prev_hash: str) -> dict[str, object]:
    fields = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    del fields["hash"]
    fields["prev_hash"] = prev_hash
    # Stores give REAL columns back as floats: hash numbers the way they will be read back.
    fields["ts"] = float(record.ts)
    if record.duration_ms is not None:
        fields["duration_ms"] = float(record.duration_ms)
    return fields


def record_hash(record: AuditRecord, prev_hash: str) -> str:
    """sha256 hex of the canonical JSON (sorted keys, no whitespace) of every field but `hash`.

    `seq` is included, and `prev_hash` is taken from the argument (the record's own field is
    ignored), so a record is bound both to its place and to the record before it.
    """
    text = json.dumps(_canonical_fields(record, prev_hash), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def verify_chain(
    records: Iterable[AuditRecord], *, prev_hash: str = GENESIS_HASH, first_seq: int = 1
) -> int | None:
    """The first seq where the chain breaks, or None when it is intact.

    Records must come in seq order starting at `first_seq`, whose predecessor's hash is
    `prev_hash` (the defaults verify a whole log). A missing or out-of-order record reports
    the seq that was expected there; a wrong link or hash reports the record's own seq.
    Truncation of the newest records cannot be seen from the records alone.
    """
    expected_seq, prev = first_seq, prev_hash
    for record in records:
        if record.seq != expected_seq:
            return expected_seq
        if record.prev_hash != prev or record_hash(record, prev) != record.hash:
            return record.seq
        expected_seq, prev = expected_seq + 1, record.hash
    return None


class AuditLog:
    """Writes audit records through a store, stamping each with the injected clock."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.clock = clock

    def write(
        self,
        *,
        user: str,
        connection: str,
        session_id: str,
        risk: str,
        decision: str,
        sql: str,
        request_id: str | None = None,
        outcome: str = "ok",
        rows: int | None = None,
        error: str | None = None,
        duration_ms: float | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> AuditRecord:
        """Append one record; returns it with its seq, prev_hash and hash."""
        record = AuditRecord(
            seq=0,
            ts=self.clock(),
            user=user,
            connection=connection,
            session_id=session_id,
            risk=risk,
            decision=decision,
            request_id=request_id,
            outcome=outcome,
            rows=rows,
            error=error,
            duration_ms=duration_ms,
            sql=sql,
            extra=dict(extra or {}),
        )
        return self.store.append_audit(record)

    def verify(self) -> int | None:
        """Verify the whole stored chain: the first bad seq, or None when intact."""
        return verify_chain(self.store.iter_audit())
