"""`iap audit`, `iap audit verify` and `iap audit checkpoint` on a gateway's data dir (no
gateway running): escaped listings, the keyed chain, checkpoints, and their error paths."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.errors import AgentError
from iap.audit import record_hash
from iap.cli.main import app
from iap.config import load_config
from iap.gateway import open_store
from iap.store.base import AuditRecord
from iap.store.sqlite import _MIGRATIONS

NOT_UTF8 = b"SELECT 'caf\xe9'".decode("utf-8", "surrogateescape")
EVIL_USER = "mallory\n99 2026-01-01T00:00:00 alice pg-main read allow ok SELECT 1"
EVIL_SQL = "SELECT 1;\x1b[2J\x1b[H\rDROP TABLE orders"


@dataclass
class Ran:
    code: int
    out: str
    err: str  # what `iap` prints on stderr (an AgentError's message)


def iap(*args: str) -> Ran:
    """Run the CLI as `iap.cli.main.main` does: an AgentError is a message and an exit code."""
    result = CliRunner().invoke(app, list(args))
    if isinstance(result.exception, AgentError):
        return Ran(result.exception.exit_code, result.stdout, str(result.exception))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text('[gateway]\ndata_dir = "data"\n')
    return path


@pytest.fixture
def rows(config: Path) -> Iterator[list[AuditRecord]]:
    store = open_store(load_config(config))
    try:
        for n, (user, sql) in enumerate(
            [("alice", "SELECT 1"), (EVIL_USER, EVIL_SQL), ("bob", NOT_UTF8), ("carol", "SELECT 4")]
        ):
            store.append_audit(
                AuditRecord(
                    ts=1000.0 + n,
                    user=user,
                    connection="pg-main",
                    risk="read",
                    decision="allow",
                    sql=sql,
                    error=NOT_UTF8 if n == 2 else None,
                )
            )
        yield list(store.iter_audit())
    finally:
        store.close()


def database(config: Path) -> Path:
    return config.parent / "data" / "iap.db"


def raw_sql(config: Path, sql: str, args: tuple[object, ...] = ()) -> None:
    with closing(sqlite3.connect(database(config))) as db, db:
        db.execute(sql, args)


# iap audit


def test_plain_listing_escapes_what_could_drive_the_terminal(
    config: Path, rows: list[AuditRecord]
) -> None:
    ran = iap("audit", "--config", str(config))
    assert ran.code == 0
    lines = ran.out.splitlines()
    assert len(lines) == len(rows)  # no injected line
    assert [line.split(" ")[0] for line in lines] == ["1", "2", "3", "4"]
    assert "\x1b" not in ran.out and "\r" not in ran.out
    assert lines[1].split(" ")[2].startswith("mallory\\n99\\x202026")
    assert lines[1].endswith("SELECT 1;\\x1b[2J\\x1b[H DROP TABLE orders")
    assert lines[2].endswith("SELECT 'caf\\xe9'")  # the byte that was not UTF-8


def test_json_listing_escapes_as_json_and_keeps_the_text_exactly(
    config: Path, rows: list[AuditRecord]
) -> None:
    ran = iap("audit", "--json", "--config", str(config))
    assert ran.code == 0
    assert ran.out.isascii() and "\x1b" not in ran.out and "\r" not in ran.out
    listed = json.loads(ran.out)
    assert [(r["user"], r["sql"], r["error"]) for r in listed] == [
        (r.user, r.sql, r.error) for r in rows
    ]


# iap audit verify


def test_verify_passes_an_intact_log(config: Path, rows: list[AuditRecord]) -> None:
    ran = iap("audit", "verify", "--config", str(config))
    assert (ran.code, ran.out) == (0, "audit log intact: 4 records\n")


def test_verify_names_the_first_row_edited_even_with_the_chain_recomputed_unkeyed(
    config: Path, rows: list[AuditRecord]
) -> None:
    prev = rows[1].hash
    for row in rows[2:]:  # edit seq 3 and recompute every later link, without the key
        sql = "SELECT 'harmless'" if row.seq == 3 else row.sql
        forged = record_hash(replace(row, sql=sql, prev_hash=prev), prev, None)
        raw_sql(
            config,
            "UPDATE audit SET sql = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (sql, prev, forged, row.seq),
        )
        prev = forged
    ran = iap("audit", "verify", "--config", str(config))
    assert ran.code == 1
    assert ran.err == "iap: audit log broken at seq 3: its hash does not match its content\n"


def test_verify_refuses_a_log_whose_keyed_boundary_was_moved(
    config: Path, rows: list[AuditRecord]
) -> None:
    raw_sql(config, "UPDATE audit_chain SET keyed_from = 3")
    ran = iap("audit", "verify", "--config", str(config))
    assert ran.code == 1
    assert ran.err.startswith(
        "iap: audit log broken: the mark that the keyed chain begins at seq 3"
    )


def test_verify_says_which_rows_an_older_iap_chained_without_a_key(config: Path) -> None:
    """A store written before the chain was keyed (schema v3) still verifies, honestly."""
    path = database(config)
    path.parent.mkdir()
    with closing(sqlite3.connect(path)) as raw, raw:
        for version in (1, 2, 3):
            for statement in _MIGRATIONS[version]:
                raw.execute(statement)
        raw.execute("INSERT INTO schema_version (version) VALUES (3)")
        prev = "0" * 64
        for seq in (1, 2):
            old = AuditRecord(seq=seq, ts=float(seq), user="old", decision="allow", sql="SELECT 1")
            digest = record_hash(old, prev, None)
            raw.execute(
                "INSERT INTO audit (seq, ts, user_name, connection_name, session_id, risk,"
                " decision, outcome, sql, prev_hash, hash, extra)"
                " VALUES (?, ?, 'old', '', '', '', 'allow', 'ok', 'SELECT 1', ?, ?, '{}')",
                (seq, float(seq), prev, digest),
            )
            prev = digest
    ran = iap("audit", "verify", "--config", str(config))
    assert ran.code == 0
    assert ran.out.splitlines() == [
        "audit log intact: 2 records",
        "seq 1-2 were written before the chain was keyed (plain sha256): no keyed record"
        " follows them yet, so they are not protected against edits",
    ]
    store = open_store(load_config(config))
    store.append_audit(AuditRecord(ts=3.0, user="new", decision="allow"))
    store.close()
    ran = iap("audit", "verify", "--config", str(config))
    assert ran.code == 0
    assert ran.out.splitlines()[1] == (
        "seq 1-2 were written before the chain was keyed (plain sha256): an edit to them shows"
        " as a break at seq 3, the first keyed record"
    )


def test_verify_without_a_config_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IAP_CONFIG", raising=False)
    assert iap("audit", "verify").code == 2


# iap audit checkpoint


def test_checkpoint_prints_a_signed_head_that_verify_accepts(
    config: Path, rows: list[AuditRecord], tmp_path: Path
) -> None:
    ran = iap("audit", "checkpoint", "--config", str(config))
    assert ran.code == 0
    doc = json.loads(ran.out)
    assert (doc["seq"], doc["head"]) == (4, rows[-1].hash)
    saved = tmp_path / "elsewhere.json"
    saved.write_text(ran.out)
    store = open_store(load_config(config))
    store.append_audit(AuditRecord(ts=2000.0, user="dave", decision="allow"))
    store.close()
    ran = iap("audit", "verify", "--checkpoint", str(saved), "--config", str(config))
    assert ran.code == 0
    assert ran.out.splitlines() == [
        "audit log intact: 5 records",
        "checkpoint seq 4: rows 1-4 still hash to its head and none is missing",
    ]


def test_checkpoint_out_writes_a_file(
    config: Path, rows: list[AuditRecord], tmp_path: Path
) -> None:
    out = tmp_path / "cp.json"
    ran = iap("audit", "checkpoint", "--out", str(out), "--config", str(config))
    assert (ran.code, ran.out) == (0, "")
    assert json.loads(out.read_text())["seq"] == 4
    assert not list(tmp_path.glob(".cp.json*"))


def test_checkpoint_to_an_unwritable_place_fails(
    config: Path, rows: list[AuditRecord], tmp_path: Path
) -> None:
    ran = iap(
        "audit", "checkpoint", "--out", str(tmp_path / "no" / "cp.json"), "--config", str(config)
    )
    assert ran.code == 1 and ran.err.startswith("iap: cannot write")


@pytest.fixture
def checkpoint(config: Path, rows: list[AuditRecord], tmp_path: Path) -> Path:
    out = tmp_path / "cp.json"
    assert iap("audit", "checkpoint", "--out", str(out), "--config", str(config)).code == 0
    return out


def test_verify_finds_rows_truncated_below_a_checkpoint(config: Path, checkpoint: Path) -> None:
    raw_sql(config, "DELETE FROM audit WHERE seq >= 3")
    assert iap("audit", "verify", "--config", str(config)).code == 0  # the chain alone: no
    ran = iap("audit", "verify", "--checkpoint", str(checkpoint), "--config", str(config))
    assert ran.code == 1
    assert ran.err.startswith("iap: audit log broken at seq 3: truncated: the checkpoint of")
    assert ran.err.endswith("covers seq 4 but the log ends at seq 2\n")


def test_verify_refuses_a_tampered_checkpoint(config: Path, checkpoint: Path) -> None:
    doc = json.loads(checkpoint.read_text())
    checkpoint.write_text(json.dumps({**doc, "seq": 2}))
    ran = iap("audit", "verify", "--checkpoint", str(checkpoint), "--config", str(config))
    assert ran.code == 1 and "signature does not verify" in ran.err


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [(None, 2, "cannot read checkpoint"), ("{not json", 1, "is not a valid audit checkpoint")],
)
def test_verify_with_a_missing_or_garbled_checkpoint(
    config: Path,
    rows: list[AuditRecord],
    tmp_path: Path,
    content: str | None,
    code: int,
    message: str,
) -> None:
    path = tmp_path / "cp.json"
    if content is not None:
        path.write_text(content)
    ran = iap("audit", "verify", "--checkpoint", str(path), "--config", str(config))
    assert ran.code == code and message in ran.err
