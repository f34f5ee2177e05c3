"""The audit trail's hash chain, its signed checkpoints, and the text form of its records.

Owns: the chain rule (which fields are hashed, how they are serialised, the genesis link, the
key), the mark that says from which seq the chain is keyed, verification, the checkpoint
format, the escaping that keeps a record's text from driving a terminal, and the escaped copy
of a record that a store refused. Sessions queue records (iap/session.py); the gateway's
writer (iap/auditqueue.py) hands them to the store in batches.
Never: stores, edits or deletes records itself (the store assigns seq and hash inside its own
transaction, calling `fields_hash`), holds keys (callers pass them: iap/identity.py keeps
them), or carries debug logging: the audit trail is not the debug log.

Chain. A record's hash covers every field but `hash`, with its seq and the hash of the record
before it, as canonical JSON (sorted keys, no whitespace). Since schema v4 it is HMAC-SHA256
under the gateway's audit key (`<data_dir>/keys/audit.key`) of that JSON in UTF-8 with lone
surrogates passed through (text that is not UTF-8, which the protocols keep as lone
surrogates, hashes like any other, and no two different strings hash alike), so whoever can
write the store but cannot read that key can neither rewrite a record nor recompute the chain
after it. Records stored before v4 keep their plain sha256 of the ASCII JSON (where a split
surrogate pair and the character it would make read alike); the
store keeps the first keyed seq with a MAC under the key (`keyed_from_mac`), so that boundary
cannot be moved, and an edit to an older, unkeyed record breaks the link of the first keyed one.

Checkpoints. `{"format", "seq", "head", "ts", "kid", "signature"}`: `head` is the hash of
record `seq` (GENESIS_HASH for an empty log), `signature` is ES256 (ECDSA P-256 with SHA-256,
DER, base64url without padding) by the gateway's token signing key over CHECKPOINT_PREFIX and
the canonical JSON of `{"head", "kid", "seq", "ts"}`, so `<data_dir>/keys/signing.pub.pem`
verifies it without any secret. A checkpoint kept away from the gateway shows a log rewritten
up to its seq (even by someone holding every key: the head would differ) or truncated below
it. Rows written after the newest checkpoint kept elsewhere can still be dropped from the end
of the log unseen: that window is as long as the time between checkpoints
(`iap audit checkpoint --out ...` from cron, every minute say).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from iap.store.base import AuditRecord

GENESIS_HASH = "0" * 64  # the prev_hash of the first record (seq 1)
CHECKPOINT_FORMAT = "iap-audit-checkpoint/1"
CHECKPOINT_PREFIX = f"{CHECKPOINT_FORMAT}\n".encode()  # what every signed checkpoint begins with
SQL_WIDTH = 120  # characters of SQL in a line of `audit_line`
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class ChainError(Exception):
    """The store's record of its keyed chain is missing or does not verify."""


class CheckpointError(Exception):
    """A checkpoint is malformed or its signature does not verify."""


# the chain rule

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


def _canonical(fields: dict[str, object]) -> bytes:
    """Sorted keys, no whitespace, ASCII (ensure_ascii escapes every other character)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def _canonical_utf8(fields: dict[str, object]) -> bytes:
    """Sorted keys, no whitespace, UTF-8 with lone surrogates passed through: one str, one
    encoding (JSON escapes only quotes, backslashes and controls)."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def fields_hash(fields: dict[str, object], key: bytes | None) -> str:
    """Hex HMAC-SHA256 under `key` of `_canonical_utf8(fields)` (fields from `chain_fields`);
    with key None, the plain sha256 of the ASCII JSON, the rule of records stored before the
    chain was keyed (schema v4)."""
    if key is None:
        return hashlib.sha256(_canonical(fields)).hexdigest()
    return hmac.digest(key, _canonical_utf8(fields), "sha256").hex()


def record_hash(record: AuditRecord, prev_hash: str, key: bytes | None) -> str:
    """The hash of a stored record: every field but `hash`, with `prev_hash` taken from the
    argument, so a record is bound both to its place (seq) and to the record before it."""
    return fields_hash(chain_fields(record, record.seq, prev_hash), key)


def keyed_from_mac(key: bytes, keyed_from: int) -> str:
    """The MAC a store keeps beside the first seq of its keyed chain."""
    return hmac.digest(key, f"iap-audit-keyed-from:{keyed_from}".encode(), "sha256").hex()


def keyed_from(mark: tuple[int, str] | None, key: bytes) -> int:
    """The first keyed seq, read from the store's mark (`Store.audit_keyed_from`); ChainError
    when the mark is missing or was not made with `key`."""
    if mark is None:
        raise ChainError(
            "the store does not say where its keyed chain begins (table audit_chain is empty"
            " or holds more than one row)"
        )
    seq, mac = mark
    if not (
        type(seq) is int
        and isinstance(mac, str)
        and mac.isascii()
        and hmac.compare_digest(mac, keyed_from_mac(key, seq))
    ):
        raise ChainError(
            f"the mark that the keyed chain begins at seq {seq} was not made with this"
            " gateway's audit key: it was edited, or keys/audit.key is not the key this store"
            " was written with"
        )
    return seq


# verification


@dataclass(frozen=True, slots=True)
class ChainCheck:
    """What `check_chain` found."""

    count: int  # records read
    head_seq: int  # seq of the last record read (first_seq - 1 when there was none)
    head: str  # its hash
    broken_at: int | None = None  # the first seq that is wrong or missing
    reason: str = ""  # why, in words

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def check_chain(
    records: Iterable[AuditRecord],
    key: bytes,
    *,
    keyed_from: int = 1,
    checkpoint: Checkpoint | None = None,
    prev_hash: str = GENESIS_HASH,
    first_seq: int = 1,
) -> ChainCheck:
    """Check records in seq order starting at `first_seq`, whose predecessor's hash is
    `prev_hash` (the defaults check a whole log). Records from `keyed_from` on are hashed
    under `key`, those before it are the plain sha256 of older stores.

    A missing or out-of-order record is reported at the seq expected there; a wrong link or
    hash at the record's own seq. Given a `checkpoint` (its signature checked by the caller),
    record `checkpoint.seq` must still hash to its head (else: rewritten) and must still be
    there (else: truncated, reported at the first missing seq). Without a checkpoint the
    truncation of the newest records cannot be seen.
    """
    expected, prev, count = first_seq, prev_hash, 0
    at_checkpoint = prev_hash if checkpoint and checkpoint.seq == first_seq - 1 else None

    def broken(seq: int, reason: str) -> ChainCheck:
        return ChainCheck(count, expected - 1, prev, seq, reason)

    rows = iter(records)
    while True:
        try:
            record = next(rows, None)
        except Exception as e:  # a row edited into something the store cannot read back
            return broken(expected, f"the row after seq {expected - 1} cannot be read: {e!r}")
        if record is None:
            break
        if record.seq != expected:
            return broken(expected, f"seq {expected} is missing (found seq {record.seq} there)")
        if record.prev_hash != prev:
            return broken(record.seq, f"its link does not match the hash of seq {expected - 1}")
        try:
            digest = record_hash(record, prev, key if record.seq >= keyed_from else None)
        except (TypeError, ValueError, OverflowError):  # a field edited to the wrong type
            digest = ""
        if digest != record.hash:
            return broken(record.seq, "its hash does not match its content")
        if checkpoint is not None and record.seq == checkpoint.seq:
            at_checkpoint = record.hash
        count, expected, prev = count + 1, expected + 1, record.hash
    if checkpoint is not None:
        if expected - 1 < checkpoint.seq:
            return broken(
                expected,
                f"truncated: the checkpoint of {_when(checkpoint.ts)} covers seq {checkpoint.seq}"
                f" but the log ends at seq {expected - 1}",
            )
        if at_checkpoint != checkpoint.head:
            return broken(
                checkpoint.seq,
                f"rewritten: it no longer hashes to the head of the checkpoint of"
                f" {_when(checkpoint.ts)}",
            )
    return ChainCheck(count, expected - 1, prev)


def verify_chain(
    records: Iterable[AuditRecord],
    key: bytes,
    *,
    keyed_from: int = 1,
    prev_hash: str = GENESIS_HASH,
    first_seq: int = 1,
) -> int | None:
    """The first seq where the chain breaks, or None when it is intact (see `check_chain`)."""
    return check_chain(
        records, key, keyed_from=keyed_from, prev_hash=prev_hash, first_seq=first_seq
    ).broken_at


# checkpoints


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement that record `seq` of the log hashed to `head` at time `ts`."""

    seq: int
    head: str
    ts: float
    kid: str  # the signing key's id (as in the gateway's JWT headers)
    signature: str = ""  # base64url (no padding) of the DER ECDSA signature of `message`

    def message(self) -> bytes:
        """The bytes the signature covers."""
        signed: dict[str, object] = {
            "head": self.head,
            "kid": self.kid,
            "seq": self.seq,
            "ts": float(self.ts),
        }
        return CHECKPOINT_PREFIX + _canonical(signed)

    def to_json(self) -> dict[str, object]:
        return {
            "format": CHECKPOINT_FORMAT,
            "seq": self.seq,
            "head": self.head,
            "ts": float(self.ts),
            "kid": self.kid,
            "signature": self.signature,
        }


def make_checkpoint(
    seq: int, head: str, ts: float, kid: str, sign: Callable[[bytes], bytes]
) -> Checkpoint:
    """A checkpoint of record `seq` (0: the empty log) whose hash is `head`, signed by `sign`
    (DER ECDSA P-256/SHA-256 of the message, e.g. `Identity.sign_audit_checkpoint`)."""
    unsigned = Checkpoint(seq, head, float(ts), kid)
    signature = base64.urlsafe_b64encode(sign(unsigned.message())).decode().rstrip("=")
    return dataclasses.replace(unsigned, signature=signature)


def read_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint document; CheckpointError when it is not one."""
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise CheckpointError(f"not JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"not an {CHECKPOINT_FORMAT} document")
    seq, head, ts, kid, signature = (doc.get(k) for k in ("seq", "head", "ts", "kid", "signature"))
    if not (isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0):
        raise CheckpointError("seq must be a whole number >= 0")
    if not (isinstance(head, str) and _HEX64.match(head)):
        raise CheckpointError("head must be 64 lowercase hex digits")
    if not (isinstance(ts, int | float) and not isinstance(ts, bool) and math.isfinite(ts)):
        raise CheckpointError("ts must be a number")
    if not (isinstance(kid, str) and isinstance(signature, str) and signature):
        raise CheckpointError("kid and signature must be strings")
    return Checkpoint(seq, head, float(ts), kid, signature)


def verify_checkpoint(checkpoint: Checkpoint, public_key_pem: bytes) -> None:
    """Raise CheckpointError unless `checkpoint` was signed by the key whose public half is
    `public_key_pem` (the gateway's `keys/signing.pub.pem`)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    public = serialization.load_pem_public_key(public_key_pem)
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise CheckpointError("the public key is not an ECDSA (ES256) key")
    text = checkpoint.signature
    try:
        signature = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        public.verify(signature, checkpoint.message(), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError):
        raise CheckpointError(
            f"the checkpoint's signature does not verify with the public key (kid"
            f" {checkpoint.kid!r}): it was altered, or another key signed it"
        ) from None


# text


_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", " ": "\\x20"}


def _escape(char: str) -> str:
    named = _ESCAPES.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x80:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str, *, spaces: bool = True) -> str:
    """`text` with every character that could end a line, move the cursor or drive a terminal
    (controls such as ESC, line separators, bidi overrides, lone surrogates) written as an
    escape, and backslashes doubled, so that each escape reads one way only: `\\n` `\\r` `\\t`,
    `\\xNN` for an ASCII control or for a byte NN (80-ff) that was not UTF-8, `\\uNNNN` and
    `\\UNNNNNNNN` for other characters. With spaces=False a space is written `\\x20` too
    (for a column that must stay one word)."""
    if text.isprintable() and "\\" not in text and (spaces or " " not in text):
        return text
    return "".join(
        _escape(c) if not c.isprintable() or c == "\\" or (c == " " and not spaces) else c
        for c in text
    )


def _word(text: str | None) -> str:
    return printable(text, spaces=False) if text else "-"


def _when(ts: float) -> str:
    try:
        return dt.datetime.fromtimestamp(ts).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return repr(ts)


def audit_line(record: AuditRecord) -> str:
    """One line for `iap audit`: seq, time, user, connection, risk, decision, outcome, the
    request id, then the SQL (whitespace runs as one space, at most SQL_WIDTH characters).
    Every field is `printable`, and none but the SQL holds a space."""
    request = f" request={_word(record.request_id)}" if record.request_id else ""
    sql = " ".join(record.sql.split())[:SQL_WIDTH]
    return (
        f"{record.seq} {_when(record.ts)} {_word(record.user)} {_word(record.connection)} "
        f"{_word(record.risk)} {_word(record.decision)} {_word(record.outcome)}{request} "
        f"{printable(sql)}"
    )


def _text(value: object) -> str:
    return printable(value if isinstance(value, str) else repr(value))


def escaped_record(record: AuditRecord, failure: BaseException) -> AuditRecord:
    """A copy of `record` that any store can keep, for one it refused (`failure`): every text
    field `printable` (so plain UTF-8), numbers a store cannot hold dropped, `extra` replaced
    by its repr, and `extra["escaped"]` saying so and why. Readers unescape with the rules of
    `printable`."""
    dropped: dict[str, Any] = {}

    def finite(name: str, value: object) -> float | None:
        if value is None:
            return None
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
        dropped[name] = _text(value)
        return None

    rows = record.rows
    if rows is not None and not (isinstance(rows, int) and -(2**63) <= rows < 2**63):
        dropped["rows"], rows = _text(rows), None
    ts = finite("ts", record.ts)
    return AuditRecord(
        ts=0.0 if ts is None else ts,
        user=_text(record.user),
        decision=_text(record.decision),
        connection=_text(record.connection),
        session_id=_text(record.session_id),
        risk=_text(record.risk),
        request_id=None if record.request_id is None else _text(record.request_id),
        outcome=_text(record.outcome),
        rows=rows,
        error=None if record.error is None else _text(record.error),
        duration_ms=finite("duration_ms", record.duration_ms),
        sql=_text(record.sql),
        extra={
            "escaped": {"why": _text(failure), "extra": _text(record.extra), **dropped},
        },
    )
