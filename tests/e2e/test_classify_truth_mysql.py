"""Server truth for the MySQL classifier: the corpus runs on a throwaway MariaDB database.

For every corpus case that is safe to run on a shared server, a fixture rebuilds the database
iap_truth_<random> (customers, orders, `drop`, the sequence order_seq, a user), runs
the statement on a fresh connection, and compares what changed (row contents, the
information_schema of this run's databases, the grant tables' rows for this run's users,
global variables, the
connection's session variables) with the class the classifier gives under that connection's
real sql_mode: changed rows need at least write, a changed schema ddl, rewriting or emptying
every row of a table destructive, changed grants or global settings admin, and a changed
session variable the class of setting it to its new value. Where the server cannot tell
(write vs destructive for a WHERE that bounds; admin statements that must not run here) the
class follows DESIGN.md, checked by tests/iap/test_classify_mysql.py.

Also server truth for the lexer (string escapes under each sql_mode, which executable
comments run, which sql_mode flags exist and that the safe ones leave lexing alone) and for
the function lists (every built-in listed is native on MariaDB 10.11, except the names listed
as not; which built-ins a space before "(" turns into a stored function's name). Everything
created is dropped at the end.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from iap.classify import LexState, Risk, classify
from iap.classify.mysql import classify_setting_mysql
from iap.classify.mysql_functions import (
    BUILTIN_NAMES,
    NOT_NATIVE_ON_MARIADB_10_11,
    SPACE_SENSITIVE,
    SPACE_SENSITIVE_ONLY_ON_MYSQL,
)
from iap.classify.mysql_lexer import NUMBER, OP, STRING, LexError, Mode, lex
from iap.classify.mysql_settings import (
    MODE_FLAGS,
    MODE_FLAGS_ONLY_ON_MYSQL,
    lexer_mode,
    unsafe_mode_words,
)
from tests.conftest import MariaDBServer
from tests.iap.mysql_corpus import CASES, CORPUS_SQL_MODE

pytestmark = pytest.mark.e2e

# Names of this run (another run of these tests may share the server): the corpus says
# iap_truth, which is replaced by PREFIX in every statement before it runs.
PREFIX = f"iap_truth_{secrets.token_hex(3)}"
DB = PREFIX
FIXTURE = [
    "CREATE TABLE customers (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL,"
    " deleted_at DATETIME NULL, drop_count INT NOT NULL DEFAULT 0,"
    " `delete` INT NOT NULL DEFAULT 0)",
    "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL,"
    " total DECIMAL(10,2) NOT NULL DEFAULT 0, note TEXT, status VARCHAR(20),"
    " KEY idx_customer (customer_id))",
    "CREATE TABLE `drop` (id INT PRIMARY KEY, `truncate` VARCHAR(20))",
    "CREATE SEQUENCE order_seq",
    "INSERT INTO customers (id, email) VALUES (1, 'a@example.com'), (2, 'b@example.com'),"
    " (3, 'c@example.com'), (4, 'd@example.com'), (5, 'e@example.com')",
    "INSERT INTO orders VALUES (1, 1, 10, 'first', 'new'), (2, 1, 20, NULL, 'new'),"
    " (3, 2, 30, 'x', 'paid'), (4, 2, 40, NULL, 'paid'), (5, 3, 50, NULL, 'new'),"
    " (6, 3, 60, NULL, 'new'), (7, 4, 70, NULL, 'paid'), (8, 4, 80, NULL, 'new'),"
    " (9, 5, 90, NULL, 'new'), (10, 5, 100, NULL, 'paid')",
    "INSERT INTO `drop` VALUES (1, 'yes'), (2, 'no'), (3, 'maybe')",
]

# Statements never run on the shared server (their class follows DESIGN.md and is checked by
# the pure tests): they stop or reconfigure the server (SHUTDOWN, KILL, FLUSH, RESET, PURGE,
# replication, plugins, BINLOG, SET GLOBAL / PERSIST / @@global), read or write files on it
# or on the client (LOAD DATA, INTO OUTFILE/DUMPFILE, SONAME libraries, DATA DIRECTORY).
_NOT_RUN = [
    (r"^\s*(SHUTDOWN|KILL|FLUSH|RESET|PURGE|CHANGE\s+MASTER|START\s+SLAVE|STOP\s+SLAVE"
     r"|INSTALL|UNINSTALL|BINLOG|LOAD\s+DATA)\b", "reconfigures or stops the shared server"),
    (r"\b(GLOBAL|PERSIST|@@global)\b", "names a global setting (never changed here)"),
    (r"\bINTO\s+(OUTFILE|DUMPFILE)\b|\bSONAME\b|\bDIRECTORY\b", "files on the server"),
]  # fmt: skip


def not_run_reason(sql: str) -> str | None:
    for pattern, reason in _NOT_RUN:
        if re.search(pattern, sql, re.IGNORECASE):
            return reason
    return None


RUNNABLE = [(sql, expected) for sql, expected, _ in CASES if not_run_reason(sql) is None]

# Session variables that change by themselves.
_VOLATILE = frozenset({"timestamp", "last_insert_id", "insert_id", "identity", "rand_seed1",
                       "rand_seed2", "warning_count", "error_count", "in_transaction",
                       "last_gtid", "gtid_seq_no"})  # fmt: skip


@dataclass
class Snapshot:
    rows: dict[str, dict[Any, tuple[Any, ...]]] = field(default_factory=dict)
    schema: list[tuple[Any, ...]] = field(default_factory=list)
    grants: list[tuple[Any, ...]] = field(default_factory=list)
    globals: dict[str, str] = field(default_factory=dict)


def _ours(sql: str) -> str:
    """A corpus statement with this run's names (iap_truth -> PREFIX)."""
    return sql.replace("iap_truth", PREFIX)


_LIKE = PREFIX.replace("_", "\\_") + "%"
_SCHEMA_QUERIES = [
    "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '{like}'",
    "SELECT table_schema, table_name, table_type, engine, table_comment FROM"
    " information_schema.tables WHERE table_schema LIKE '{like}'",
    "SELECT table_schema, table_name, column_name, column_type, is_nullable, column_default,"
    " extra, generation_expression FROM information_schema.columns WHERE table_schema LIKE"
    " '{like}'",
    "SELECT table_schema, table_name, index_name, column_name, seq_in_index FROM"
    " information_schema.statistics WHERE table_schema LIKE '{like}'",
    "SELECT routine_schema, routine_name, routine_type FROM information_schema.routines WHERE"
    " routine_schema LIKE '{like}'",
    "SELECT trigger_schema, trigger_name FROM information_schema.triggers WHERE trigger_schema"
    " LIKE '{like}'",
    "SELECT event_schema, event_name FROM information_schema.events WHERE event_schema LIKE"
    " '{like}'",
    "SELECT table_schema, table_name, view_definition FROM information_schema.views WHERE"
    " table_schema LIKE '{like}'",
    "SELECT constraint_schema, table_name, constraint_name, constraint_type FROM"
    " information_schema.table_constraints WHERE constraint_schema LIKE '{like}'",
]
_SCHEMA_QUERIES = [q.replace("{like}", _LIKE) for q in _SCHEMA_QUERIES]
_GRANT_TABLES = ["global_priv", "db", "tables_priv", "columns_priv", "procs_priv",
                 "roles_mapping", "proxies_priv"]  # fmt: skip


class TruthServer:
    """Runs corpus cases on the real MariaDB and reports what changed."""

    def __init__(self, server: MariaDBServer) -> None:
        self.server = server
        self.admin = server.connect()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        with self.admin.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    def cleanup(self) -> None:
        for (name,) in self.query(
            f"SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE '{_LIKE}'"
        ):
            self.query(f"DROP DATABASE `{name}`")
        for user, host in self.query(
            f"SELECT user, host FROM mysql.global_priv WHERE user LIKE '{_LIKE}'"
        ):
            self.query(f"DROP USER IF EXISTS '{user}'@'{host}'")
        self.query(_ours("DROP ROLE IF EXISTS iap_truth_role"))

    def reset(self) -> None:
        self.cleanup()
        self.query(f"CREATE DATABASE {DB}")
        self.query(f"USE {DB}")
        for statement in FIXTURE:
            self.query(statement)
        self.query(_ours("CREATE USER 'iap_truth_nobody'@'localhost'"))

    def snapshot(self) -> Snapshot:
        snap = Snapshot()
        for schema, table, kind in self.query(
            "SELECT table_schema, table_name, table_type FROM information_schema.tables"
            f" WHERE table_schema LIKE '{_LIKE}'"
        ):
            if kind in ("BASE TABLE", "SEQUENCE"):
                rows = self.query(f"SELECT * FROM `{schema}`.`{table}`")
                snap.rows[f"{schema}.{table}"] = {row[0]: tuple(row) for row in rows}
        for sql in _SCHEMA_QUERIES:
            snap.schema.extend(sorted(self.query(sql), key=repr))
        for table in _GRANT_TABLES:
            ours = f"User LIKE '{_LIKE}'" + (
                f" OR Role LIKE '{_LIKE}'" if table == "roles_mapping" else ""
            )
            rows = self.query(f"SELECT * FROM mysql.{table} WHERE {ours}")
            snap.grants.extend(sorted(rows, key=repr))
        snap.globals = {
            name: value
            for name, value in self.query("SHOW GLOBAL VARIABLES")
            if not name.startswith("gtid_")
        }
        return snap

    def run(self, sql: str) -> tuple[str, dict[str, tuple[str, str]]]:
        """Run sql on a fresh connection: (its sql_mode, changed session variables)."""
        import pymysql
        from pymysql.constants import CLIENT

        conn = self.server.connect(DB, client_flag=CLIENT.MULTI_STATEMENTS, charset="utf8mb4")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT @@sql_mode")
                (sql_mode,) = cur.fetchone()
                before = _session_variables(cur)
                try:
                    cur.execute(sql)
                    while cur.nextset():
                        pass
                except pymysql.MySQLError:
                    pass  # an error is an outcome too: whatever ran before it is compared
                after = _session_variables(cur)
                for cleanup in ("COMMIT", "UNLOCK TABLES"):
                    with contextlib.suppress(pymysql.MySQLError):
                        cur.execute(cleanup)
        finally:
            conn.close()
        changed = {
            name: (before.get(name, ""), value)
            for name, value in after.items()
            if before.get(name) != value and name not in _VOLATILE
        }
        return str(sql_mode), changed


def _session_variables(cur: Any) -> dict[str, str]:
    cur.execute("SHOW SESSION VARIABLES")
    return {_text(name): _text(value) for name, value in cur.fetchall()}


def _text(value: Any) -> str:
    """A result value as text (character_set_results = binary returns bytes)."""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@pytest.fixture(scope="module")
def truth(mariadb_server: MariaDBServer) -> Iterator[TruthServer]:
    server = TruthServer(mariadb_server)
    try:
        yield server
    finally:
        server.cleanup()
        server.admin.close()


@pytest.mark.parametrize(("sql", "expected"), RUNNABLE, ids=[c[0][:60] for c in RUNNABLE])
def test_corpus_case_against_the_server(truth: TruthServer, sql: str, expected: str) -> None:
    sql = _ours(sql)
    truth.reset()
    before = truth.snapshot()
    sql_mode, session_changes = truth.run(sql)
    after = truth.snapshot()
    result = classify(sql, "mysql", state=LexState(client_encoding="utf8mb4", sql_mode=sql_mode))
    if sql_mode == CORPUS_SQL_MODE:
        assert result.risk.value == expected, result.reasons
    rank = result.risk.rank
    if before.rows != after.rows:
        assert rank >= Risk.WRITE.rank, ("rows changed", result.reasons)
    if before.schema != after.schema:
        assert rank >= Risk.DDL.rank, ("the schema changed", result.reasons)
    elif _every_row_rewritten(before, after):
        assert rank >= Risk.DESTRUCTIVE.rank, ("every row of a table changed", result.reasons)
    if before.grants != after.grants:
        assert rank >= Risk.ADMIN.rank, ("grants changed", result.reasons)
    if before.globals != after.globals:
        assert rank >= Risk.ADMIN.rank, ("global settings changed", result.reasons)
    for name, (_, value) in session_changes.items():
        needed = classify_setting_mysql(name, value).risk
        assert rank >= needed.rank, (f"session {name} became {value}", result.reasons)


def _every_row_rewritten(before: Snapshot, after: Snapshot) -> bool:
    """A table of several rows that lost all of them, or whose every row changed."""
    for table, rows in before.rows.items():
        if len(rows) < 2:
            continue
        now = after.rows.get(table, {})
        if not now or all(now.get(key) != row for key, row in rows.items()):
            return True
    return False


def test_the_truth_check_sees_each_kind_of_change(truth: TruthServer) -> None:
    """The comparison is not blind: known statements change what they should."""
    expectations = {
        "UPDATE orders SET total = 1 WHERE id = 1": "rows",
        "ALTER TABLE orders ADD COLUMN z INT": "schema",
        "GRANT SELECT ON iap_truth.* TO 'iap_truth_nobody'@'localhost'": "grants",
        "DELETE FROM orders": "every row",
        "SET foreign_key_checks = 0": "session",
    }
    for sql, what in expectations.items():
        truth.reset()
        before = truth.snapshot()
        _, session = truth.run(_ours(sql))
        after = truth.snapshot()
        seen = {
            "rows": before.rows != after.rows,
            "schema": before.schema != after.schema,
            "grants": before.grants != after.grants,
            "every row": _every_row_rewritten(before, after),
            "session": bool(session),
        }
        assert seen[what], sql


# ----------------------------------------------------------------------------- the lexer

_STRINGS = [
    "'plain'", "'it''s'", "'a\\'b'", "'\\0\\n\\t\\r\\b\\Z'", "'\\%\\_\\x\\\\'", "'a' 'b'",
    "\"dq\\\"x\"", "'\"'", "N'national'", "_utf8mb4'intro'", "'é中'", "'\\\\'", "'--' '#'",
]  # fmt: skip


@pytest.mark.parametrize("sql_mode", ["", "NO_BACKSLASH_ESCAPES"])
@pytest.mark.parametrize("literal", _STRINGS)
def test_string_values_match_the_server(
    mariadb_server: MariaDBServer, literal: str, sql_mode: str
) -> None:
    import pymysql

    with _cursor(mariadb_server, charset="utf8mb4") as cur:
        cur.execute("SET SESSION sql_mode = %s", (sql_mode,))
        try:
            cur.execute(f"SELECT HEX({literal})")
            server_hex = cur.fetchone()[0]
        except pymysql.MySQLError:
            server_hex = None  # not one string under this sql_mode
    try:
        tokens = lex(f"SELECT {literal}", lexer_mode(sql_mode)).tokens
    except LexError:
        assert server_hex is None
        return
    strings = [t for t in tokens if t.kind == STRING]
    if server_hex is None:
        assert len(tokens) != 2 or len(strings) != 1
        return
    assert len(strings) == 1
    assert strings[0].value.encode().hex().upper() == server_hex


def test_ansi_quotes_make_an_identifier(mariadb_server: MariaDBServer) -> None:
    import pymysql

    with _cursor(mariadb_server, charset="utf8mb4") as cur:
        cur.execute("SET SESSION sql_mode = 'ANSI_QUOTES'")
        with pytest.raises(pymysql.MySQLError, match="Unknown column"):
            cur.execute('SELECT "not_a_string"')
    tokens = lex('SELECT "not_a_string"', lexer_mode("ANSI_QUOTES")).tokens
    assert tokens[1].kind == "qident"


_COMMENT_TEXTS = [
    "SELECT 10 /*!50000 + 1 */ /*!50700 + 2 */ /*!99999 + 4 */ /*M!100100 + 8 */"
    " /*M!999999 + 16 */ /*! + 32 */ /*M! + 64 */",
    "SELECT 10 /*!40000 + 1 # */\n + 2 */",
    "SELECT 10 /*!99999 /* nested */ + 1 */ + 2",
    "SELECT 10 /*!40000 + 1 /* nested */ + 2 */ + 4",
    "SELECT 10 -- + 1\n + 2",
    "SELECT 10--1",
    "SELECT 10 # + 1\n + 2",
    "SELECT 10 /* + 1 */ + 2",
    "SELECT 10 /*+ + 1 */ + 2",
]


@pytest.mark.parametrize("text", _COMMENT_TEXTS)
def test_which_comments_run_matches_the_server(mariadb_server: MariaDBServer, text: str) -> None:
    with _cursor(mariadb_server) as cur:
        version = _version(cur)
        cur.execute(text)
        (value,) = cur.fetchone()
    major, minor, patch = (int(p) for p in re.findall(r"\d+", version)[:3])
    server = ("mariadb", major * 10000 + minor * 100 + patch)
    tokens = lex(text, Mode(), server).tokens[1:]
    assert all(t.kind in (NUMBER, OP) for t in tokens)
    assert eval(" ".join(t.text for t in tokens)) == int(value)  # numbers, + and - only


# ----------------------------------------------------------------------------- functions


def test_listed_functions_are_native_on_mariadb(mariadb_server: MariaDBServer) -> None:
    with _cursor(mariadb_server) as cur, _scratch_database(cur, "functions"):
        version = _version(cur)
        missing = {name for name in BUILTIN_NAMES if _does_not_exist(cur, name)}
    assert not missing - NOT_NATIVE_ON_MARIADB_10_11, "listed as built-in, unknown to MariaDB"
    if version.startswith("10.11."):
        assert missing == NOT_NATIVE_ON_MARIADB_10_11


def _does_not_exist(cur: Any, name: str) -> bool:
    """True when every call form of name fails with ER_SP_DOES_NOT_EXIST (1305)."""
    return all(_call_error(cur, f"{name}({args})") == 1305 for args in _ARGUMENT_LISTS[:4])


def test_space_sensitive_built_ins_match_the_server(mariadb_server: MariaDBServer) -> None:
    """name ( is a stored function's call exactly for the names listed (MariaDB's part)."""
    measured = set()
    with _cursor(mariadb_server) as cur, _scratch_database(cur, "spaced"):
        version = _version(cur)
        for name in sorted(BUILTIN_NAMES - NOT_NATIVE_ON_MARIADB_10_11):
            for args in _ARGUMENT_LISTS:
                joined = _call_error(cur, f"{name}({args})")
                spaced = _call_error(cur, f"{name} ({args})")
                if spaced in _NO_SUCH_FUNCTION and joined not in _NO_SUCH_FUNCTION:
                    measured.add(name)
                    break
    assert measured <= SPACE_SENSITIVE, "a space makes these stored functions: list them"
    if version.startswith("10.11."):
        assert measured == SPACE_SENSITIVE - SPACE_SENSITIVE_ONLY_ON_MYSQL


_ARGUMENT_LISTS = ("", "1", "1, 1", "1, 1, 1", "'POINT(1 1)'", "POINT(1, 1)")
_NO_SUCH_FUNCTION = (1305, 1630)  # ER_SP_DOES_NOT_EXIST, ER_FUNC_INEXISTENT_NAME_COLLISION


def _call_error(cur: Any, call: str) -> int | None:
    """The error number of SELECT call (None when it runs); the result is never fetched as
    text (some built-ins return bytes that are not UTF-8)."""
    import pymysql

    try:
        cur.execute(f"SELECT 1 FROM (SELECT {call} AS x) AS d")
        cur.fetchall()
        return None
    except pymysql.MySQLError as e:
        return int(e.args[0])


@contextlib.contextmanager
def _cursor(server: MariaDBServer, **connect: Any) -> Iterator[Any]:
    """A cursor on a fresh connection to the server, closed after."""
    conn = server.connect(**connect)
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


@contextlib.contextmanager
def _scratch_database(cur: Any, suffix: str) -> Iterator[None]:
    """This run's empty database PREFIX_suffix, in use for the block and dropped after."""
    cur.execute(f"CREATE DATABASE IF NOT EXISTS {PREFIX}_{suffix}")
    cur.execute(f"USE {PREFIX}_{suffix}")
    try:
        yield
    finally:
        cur.execute(f"DROP DATABASE {PREFIX}_{suffix}")


def _version(cur: Any) -> str:
    cur.execute("SELECT VERSION()")
    return str(cur.fetchone()[0])


# ----------------------------------------------------------------------------- sql_mode


def test_sql_mode_flags_match_the_server(mariadb_server: MariaDBServer) -> None:
    """Every flag the server has is listed (one bit of the sql_mode at a time)."""
    import pymysql

    names: set[str] = set()
    with _cursor(mariadb_server) as cur:
        version = _version(cur)
        for bit in range(64):
            try:
                cur.execute(f"SET SESSION sql_mode = {1 << bit}")
            except pymysql.MySQLError:
                break  # past the last flag
            cur.execute("SELECT @@sql_mode")
            names.update(str(cur.fetchone()[0]).split(","))
    assert names <= MODE_FLAGS, "flags the classifier does not know"
    if version.startswith("10.11."):
        assert names == MODE_FLAGS - MODE_FLAGS_ONLY_ON_MYSQL


def test_safe_sql_mode_flags_leave_lexing_alone(mariadb_server: MariaDBServer) -> None:
    """Under each flag the classifier calls safe, quotes and backslashes read as by default."""
    probe = "SELECT HEX('a\\'b'), HEX(\"q\\\"\"), HEX('#'), 1 /*!50000 + 1 */"
    with _cursor(mariadb_server, charset="utf8mb4") as cur:
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute(probe)
        default = cur.fetchone()
        for flag in sorted(MODE_FLAGS - MODE_FLAGS_ONLY_ON_MYSQL):
            if unsafe_mode_words(flag):
                continue
            cur.execute(f"SET SESSION sql_mode = '{flag}'")
            cur.execute(probe)
            assert cur.fetchone() == default, flag
