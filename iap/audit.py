"""The audit trail's hash chain.

Owns: the chain rule (which fields are hashed, how they are serialised, the genesis link)
and its verification. Sessions queue records (iap/session.py); the gateway's writer task
hands them to the store in batches.
Never: stores, edits or deletes records itself (the store assigns seq and hash inside its own
transaction, calling `record_hash`), and never carries debug logging: the audit trail is not
the debug log.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
from collections.abc import Iterable

from iap.store.base import AuditRecord

GENESIS_HASH = "0" * 64  # the prev_hash of the first record (seq 1)


# Every field but `hash`, in the canonical (sorted) order, read in one C call per record.
_HASHED = tuple(sorted(f.name for f in dataclasses.fields(AuditRecord) if f.name != "hash"))
_hashed_values = operator.attrgetter(*_HASHED)


def chain_fields(record: AuditRecord, seq: int, prev_hash: str) -> dict[str, object]:
    """The fields the chain hashes, for `record` placed at `seq` after `prev_hash` (the
    record's own seq and prev_hash are ignored)."""
    fields = dict(zip(_HASHED, _hashed_values(record), strict=True))
    fields["seq"] = seq
    fields["prev_hash"] = prev_hash
    # Stores give REAL columns back as floats: hash numbers the way they will be read back.
    fields["ts"] = float(record.ts)
    if record.duration_ms is not None:
        fields["duration_ms"] = float(record.duration_ms)
    return fields


def fields_hash(fields: dict[str, object]) -> str:
    """sha256 hex of the canonical JSON (sorted keys, no whitespace) of `chain_fields`."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def record_hash(record: AuditRecord, prev_hash: str) -> str:
    """The hash of a stored record: every field but `hash`, with `prev_hash` taken from the
    argument, so a record is bound both to its place (seq) and to the record before it."""
    return fields_hash(chain_fields(record, record.seq, prev_hash))


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
