"""Audit text: whatever a client, a server or a user name carried (bytes that are not UTF-8,
controls, terminal escapes) is stored exactly, and shown escaped: never as terminal control,
never as an extra line."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iap.audit import audit_line, escaped_record, printable, verify_chain
from iap.store.base import AuditRecord
from iap.store.sqlite import SQLiteStore

KEY = bytes(range(32))
# A LATIN1 server message read as UTF-8 with surrogateescape, as protocols/postgres does.
NOT_UTF8 = b"caf\xe9 \xff\x80 r\xe9sum\xe9".decode("utf-8", "surrogateescape")
# Lone surrogates of other origins, and a pair that is two code points, not one character.
ODD = "\ud800 high, \udfff low, \ud83d\ude00 split"
TEXTS = [NOT_UTF8, ODD, "nul\x00 esc\x1b[2J del\x7f", "plain é ✓ 日本"]
TEXT_FIELDS = (
    "user", "connection", "session_id", "risk", "decision", "request_id", "outcome", "error", "sql",
)  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "iap.db", audit_key=KEY)
    yield s
    s.close()


def base() -> AuditRecord:
    return AuditRecord(ts=1000.0, user="alice", decision="allow", connection="pg-main")


# stored exactly


@pytest.mark.parametrize("field", TEXT_FIELDS)
@pytest.mark.parametrize("text", TEXTS, ids=["not-utf8", "surrogates", "controls", "unicode"])
def test_any_text_round_trips_exactly_in_every_field(
    store: SQLiteStore, field: str, text: str
) -> None:
    stored = store.append_audit(replace(base(), **{field: text}))
    (back,) = store.iter_audit()
    assert getattr(back, field) == text
    assert back == stored
    assert verify_chain(store.iter_audit(), KEY) is None


def test_the_original_bytes_come_back(store: SQLiteStore) -> None:
    store.append_audit(replace(base(), error=NOT_UTF8))
    (back,) = store.iter_audit()
    assert back.error is not None
    assert back.error.encode("utf-8", "surrogateescape") == b"caf\xe9 \xff\x80 r\xe9sum\xe9"


def test_extra_keys_and_values_round_trip(store: SQLiteStore) -> None:
    store.append_audit(replace(base(), extra={NOT_UTF8: ODD, "list": [NOT_UTF8, 1]}))
    (back,) = store.iter_audit()
    assert back.extra == {NOT_UTF8: ODD, "list": [NOT_UTF8, 1]}
    assert verify_chain([back], KEY) is None


def test_text_that_is_utf8_is_still_stored_as_text(store: SQLiteStore) -> None:
    store.append_audit(replace(base(), sql="SELECT 'é'", error=NOT_UTF8))
    with store._transaction() as db:
        kinds = db.execute("SELECT typeof(sql), typeof(error) FROM audit").fetchone()
    assert tuple(kinds) == ("text", "blob")  # the BLOB type marks text that is not UTF-8


# shown escaped


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("SELECT 1", "SELECT 1"),
        ("é ✓ 日本", "é ✓ 日本"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("\x1b[2J\x1b]0;owned\x07", "\\x1b[2J\\x1b]0;owned\\x07"),
        ("\x00\x7f", "\\x00\\x7f"),
        ("\x9b31m", "\\u009b31m"),  # the 8-bit CSI
        ("\u2028\u2029\u0085", "\\u2028\\u2029\\u0085"),  # line and paragraph separators, NEL
        ("\u202egnp.exe", "\\u202egnp.exe"),  # right-to-left override
        ("caf\udce9", "caf\\xe9"),  # a byte that was not UTF-8
        ("\ud800", "\\ud800"),
        ("C:\\x1b", "C:\\\\x1b"),  # a literal backslash cannot pose as an escape
    ],
)
def test_printable_escapes_what_could_drive_a_terminal(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_printable_can_keep_a_column_one_word() -> None:
    assert printable("a b", spaces=False) == "a\\x20b"


def _unescape(text: str) -> str:
    """The inverse of `printable`, from its documented rules."""

    def one(m: re.Match[str]) -> str:
        s = m.group(0)
        named = {"\\\\": "\\", "\\n": "\n", "\\r": "\r", "\\t": "\t"}
        if s in named:
            return named[s]
        code = int(s[2:], 16)
        if s[1] == "x" and code >= 0x80:
            return chr(0xDC00 + code)
        return chr(code)

    return re.sub(r"\\(?:\\|n|r|t|x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})", one, text)


@given(st.text(alphabet=st.characters(codec=None)))
def test_printable_is_printable_utf8_and_reads_one_way_only(text: str) -> None:
    shown = printable(text)
    assert shown.isprintable()
    shown.encode("utf-8")  # never a lone surrogate
    assert _unescape(shown) == text


def test_an_audit_line_is_one_line_whatever_the_fields_hold() -> None:
    record = AuditRecord(
        seq=7,
        ts=1000.0,
        user="mallory\n8 2026-01-01T00:00:00 admin pg-main read allow ok SELECT 1",
        connection="pg\rmain",
        decision="allow",
        risk="read",
        request_id="K7\x1bQ",
        sql="SELECT 1;\n\x1b[2J\x1b[H\rDROP TABLE orders -- caf\udce9",
    )
    line = audit_line(record)
    assert len(line.splitlines()) == 1
    assert not any(c < " " or c == "\x7f" for c in line)
    fields = line.split(" ")
    assert fields[0] == "7"
    assert fields[2] == (
        "mallory\\n8\\x202026-01-01T00:00:00\\x20admin\\x20pg-main\\x20read\\x20allow\\x20ok"
        "\\x20SELECT\\x201"
    )
    assert fields[3] == "pg\\rmain"
    assert "request=K7\\x1bQ" in line
    assert line.endswith("SELECT 1; \\x1b[2J\\x1b[H DROP TABLE orders -- caf\\xe9")


def test_an_audit_line_shows_empty_columns_as_a_dash() -> None:
    line = audit_line(AuditRecord(seq=1, ts=0.0, user="", decision="login"))
    assert line.split(" ")[2:5] == ["-", "-", "-"]


# the copy a store refused


def test_an_escaped_record_can_be_stored_whatever_the_original_held(store: SQLiteStore) -> None:
    bad = AuditRecord(
        ts=math.nan,
        user="alice\udcff",
        decision="allow",
        rows=2**70,
        duration_ms=math.inf,
        sql="SELECT '\udce9'\n",
        extra={"object": object()},
    )
    copy = escaped_record(bad, OverflowError("Python int too large to convert to SQLite INTEGER"))
    stored = store.append_audit(copy)
    (back,) = store.iter_audit()
    assert back == stored
    assert (back.user, back.sql, back.rows, back.duration_ms) == (
        "alice\\xff",
        "SELECT '\\xe9'\\n",
        None,
        None,
    )
    escaped = back.extra["escaped"]
    assert isinstance(escaped, dict)
    assert escaped["rows"] == str(2**70) and escaped["ts"] == "nan"
    assert "OverflowError" in escaped["why"] and "object object" in escaped["extra"]
    json.dumps(back.extra)
