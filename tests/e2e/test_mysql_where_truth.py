"""Server truth for the MySQL classifier's WHERE analysis: random conditions, evaluated by the
real MariaDB server, against what the classifier makes of DELETE FROM t WHERE <condition>.

Owns two seeded generators and the invariants they check, under several sql_modes (the
server's default, with HIGH_NOT_PRECEDENCE, with PIPES_AS_CONCAT and EMPTY_STRING_IS_NULL),
each classified under that sql_mode and under an unknown one:
- constant conditions (integers, TRUE/FALSE, NULL and the operators the classifier folds,
  mixed with what it must not fold: strings, decimals, floats, hex and bit literals, user
  and system variables, placeholders, calls): whenever the server finds one true,
  DELETE ... WHERE it (alone, or OR'ed with a condition on the rows) is destructive; wherever
  the classifier folds one, its value is the server's.
- conditions on the rows of a table holding every pair (a, b) of integers from -6 to 6 (one
  copy with NULLs, one without): whenever every row matches, DELETE ... WHERE it is
  destructive. The conditions name integers from -3 to 3, so with two columns that can be
  ordered against each other every case over all integers has a row here. They compare
  columns with small integers, each other, themselves, variables and placeholders (set to
  random values, '%' among them), with IN, BETWEEN, LIKE, REGEXP, the IS tests, CASE, IF,
  COALESCE, subqueries of the table itself, NOT with and without parentheses, AND, OR, XOR.
  Left out, as known gaps of the classifier: arithmetic or calls on columns that cancel the
  row (a - a = 0), || as concatenation of columns, NOT LIKE a pattern no integer matches
  (true on every row of integers, on none of text: the column's type decides), subqueries
  of another column or of constants (a IN (SELECT b ...), a IN (SELECT 0): the data
  decides, and the set is not related to the row's other comparisons).
"Destructive" accepts unknown, which is held more strictly.
Placeholders are bound by EXECUTE ... USING. Each run draws IAP_TRUTH_CASES conditions per
generator (default 800) from seed IAP_TRUTH_SEED (default 15); a failing condition is printed
with the seed and the values bound. Uses a throwaway database of its own.
"""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from iap.classify import LexState, Risk, classify
from iap.classify import mysql_tree as tree
from iap.classify.mysql_lexer import lex
from iap.classify.mysql_settings import lexer_mode
from tests.conftest import MariaDBServer

pytestmark = pytest.mark.e2e

CASES = int(os.environ.get("IAP_TRUTH_CASES", "800"))
SEED = int(os.environ.get("IAP_TRUTH_SEED", "15"))
DB = f"iap_where_{secrets.token_hex(3)}"
CHARSET = "utf8mb4"
BASE_MODE = "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
MODES = [
    BASE_MODE,
    BASE_MODE + ",HIGH_NOT_PRECEDENCE",
    BASE_MODE + ",PIPES_AS_CONCAT,EMPTY_STRING_IS_NULL",
]
TABLES = {"nulls": "t_nulls", "values": "t_values"}  # each is read as t (FROM ... AS t)
# Destructive, or unknown (stricter: one reading the sql_mode allows is not readable, such as
# || as concatenation inside BETWEEN under an unknown sql_mode).
HELD = (Risk.DESTRUCTIVE, Risk.UNKNOWN)

# Constants: the ones the classifier folds, and the ones it must treat as maybe true.
CERTAIN = ["0", "1", "2", "3", "-1", "-2", "10", "NULL", "TRUE", "FALSE", "1 + 1", "2 * 3 - 7",
           "-(-2)", "NULL + 1", "(1 = 1)", "(2 < 1)", "(NULL <=> NULL)", "NOT 0", "NOT NULL",
           "9223372036854775807", "(1 IN (1, NULL))", "(3 BETWEEN 1 AND 2)"]  # fmt: skip
UNCERTAIN = ["'1'", "'a'", "''", "' 1'", "'1abc'", "'0'", "0.5", "1.0", "1e0", ".5", "0.1 + 0.2",
             "0x01", "X'31'", "b'1'", "@x", "@y", "?", "@@session.auto_increment_increment",
             "@@sql_safe_updates", "1 / 0", "5 DIV 2", "7 MOD 3", "CONCAT('1')", "ABS(-1)",
             "'a' || 'b'", "1 || 0", "(SELECT 1)", "(SELECT NULL)", "EXISTS (SELECT 1)",
             "IF(1, 0, 1)", "COALESCE(NULL, 1)", "CASE WHEN 1 THEN 2 END", "LEAST(1, 2)",
             "0.3 = 0.1 + 0.2", "18446744073709551615"]  # fmt: skip
CONSTANTS = CERTAIN + CERTAIN + UNCERTAIN
OPS = ["=", "<>", "!=", "<", "<=", ">", ">=", "<=>"]
TESTS = ["TRUE", "NOT TRUE", "FALSE", "NOT FALSE", "UNKNOWN", "NOT UNKNOWN", "NULL",
         "NOT NULL"]  # fmt: skip
# Values bound to variables and placeholders in conditions: integers (a value between two of
# the table's would match none of them, which the data decides), NULL, strings.
VARIABLE_VALUES = ["0", "1", "-1", "2", "NULL", "'%'", "'1'", "'x'"]


class Conditions:
    """Random conditions: atoms combined with AND, OR, XOR, NOT and the IS tests."""

    def __init__(
        self, rng: random.Random, atom: Callable[[random.Random], str], pipes: bool = False
    ) -> None:
        self.rng = rng
        self.atom = atom
        self.pipes = pipes  # || concatenates (PIPES_AS_CONCAT): not used as OR

    def __call__(self, depth: int = 3) -> str:
        rng = self.rng
        shape = rng.choice(["atom", "atom", "atom", "not", "and", "or", "xor", "is"])
        if depth == 0 or shape == "atom":
            return self.atom(rng)
        if shape == "not":
            inner = self(depth - 1)
            return rng.choice([f"NOT ({inner})", f"!({inner})", f"NOT {self.atom(rng)}"])
        if shape == "is":
            return f"({self(depth - 1)}) IS {rng.choice(TESTS)}"
        word = {"and": ["AND", "&&"], "or": ["OR"] if self.pipes else ["OR", "||"],
                "xor": ["XOR"]}[shape]  # fmt: skip
        parts = [f"({self(depth - 1)})" for _ in range(rng.randint(2, 3))]
        return f" {rng.choice(word)} ".join(parts)


def constant_atom(rng: random.Random) -> str:
    value = rng.choice(CONSTANTS)
    shape = rng.choice(["compare", "compare", "compare", "in", "between", "is", "alone", "not"])
    if shape == "alone":
        return value
    if shape == "not":
        return f"NOT {value}"
    if shape == "is":
        return f"{value} IS {rng.choice(TESTS)}"
    if shape == "in":
        items = ", ".join(rng.choice(CONSTANTS) for _ in range(rng.randint(1, 3)))
        return f"{value} {rng.choice(['IN', 'NOT IN'])} ({items})"
    if shape == "between":
        word = rng.choice(["BETWEEN", "NOT BETWEEN"])
        return f"{value} {word} {rng.choice(CONSTANTS)} AND {rng.choice(CONSTANTS)}"
    return f"{value} {rng.choice(OPS)} {rng.choice(CONSTANTS)}"


def row_atom(rng: random.Random) -> str:
    columns = ["a", "b", "t.a", "t.b"]
    column = rng.choice(columns)

    def term() -> str:
        pick = rng.random()
        if pick < 0.45:
            return rng.choice(columns)
        if pick < 0.85:
            return str(rng.randint(-3, 3))
        return rng.choice(["@x", "@y", "?", "NULL", "TRUE", "FALSE", "(1 = 1)"])

    shape = rng.choice(["compare"] * 5 + ["in", "between", "null", "is", "self", "bare", "like",
                        "regexp", "branch", "sub", "constant"])  # fmt: skip
    if shape == "in":
        items = ", ".join(term() for _ in range(rng.randint(1, 3)))
        return f"{column} {rng.choice(['IN', 'NOT IN'])} ({items})"
    if shape == "between":
        word = rng.choice(["BETWEEN", "NOT BETWEEN"])
        return f"{column} {word} {term()} AND {term()}"
    if shape == "null":
        return f"{column} IS {rng.choice(['NULL', 'NOT NULL'])}"
    if shape == "is":
        return f"({column} {rng.choice(OPS)} {term()}) IS {rng.choice(TESTS)}"
    if shape == "self":
        other = rng.choice([column, column.removeprefix("t."), f"{column} + 0", f"({column})"])
        return f"{column} {rng.choice(OPS)} {other}"
    if shape == "bare":
        return rng.choice([column, f"NOT {column}", f"!{column}", f"-{column}", f"-{column} = 2"])
    # Patterns whose truth on an integer its order against -3..3 decides (so the table has
    # every case): '1%' is left out (10 to 19 match, beyond the table), and so are '' and
    # patterns not written (NOT LIKE '' or 'x' holds on every row of integers and not on
    # text: the column's type decides).
    if shape == "like":
        pattern = rng.choice(["'%'", "'%%'", "'-%'", "'2'", "1", "'-2'", "'%-%'"])
        return f"{column} {rng.choice(['LIKE', 'NOT LIKE'])} {pattern}"
    if shape == "regexp":
        pattern = rng.choice(["'^-'", "'-'", "'^2$'", "'[0-9]'", "'^[1-3]$'", "'.*'", "'^'",
                              "'x*'", "'^-?2$'"])  # fmt: skip
        return f"{column} {rng.choice(['REGEXP', 'NOT REGEXP', 'RLIKE'])} {pattern}"
    if shape == "branch":
        k = rng.randint(-2, 2)
        return rng.choice([
            f"CASE WHEN {column} = {k} THEN {term()} ELSE {term()} END",
            f"CASE {column} WHEN {k} THEN {term()} WHEN {term()} THEN 0 END {rng.choice(OPS)} 1",
            f"IF({column} > {k}, {term()}, {term()})",
            f"COALESCE({column}, {term()}) {rng.choice(OPS)} {term()}",
            f"IFNULL({column}, {k})",
            f"NULLIF({column}, {k}) {rng.choice(OPS)} {term()}",
        ])  # fmt: skip
    if shape == "sub":
        return rng.choice([
            f"{column} IN (SELECT {column.removeprefix('t.')} FROM {{table}})",
            f"{column} = ANY (SELECT {column.removeprefix('t.')} FROM {{table}})",
            f"{column} NOT IN (SELECT a FROM {{table}} WHERE a > {rng.randint(3, 9)})",
            "EXISTS (SELECT 1 FROM {table} o WHERE o.a = t.a)",
            f"{column} > ALL (SELECT a FROM {{table}} WHERE a > 10)",
        ])  # fmt: skip
    if shape == "constant":
        return constant_atom(rng)
    return f"{term()} {rng.choice(OPS)} {term()}"


@dataclass
class Session:
    """One connection to the test's database, with the values bound to variables and
    placeholders of the current case."""

    conn: Any
    mode: str = ""
    variables: dict[str, str] = field(default_factory=dict)

    def set_mode(self, mode: str) -> None:
        with self.conn.cursor() as cursor:
            cursor.execute(f"SET SESSION sql_mode = '{mode}'")
        self.mode = mode

    def bind(self, rng: random.Random) -> None:
        self.variables = {name: rng.choice(VARIABLE_VALUES) for name in ("x", "y")}
        with self.conn.cursor() as cursor:
            cursor.execute("SET " + ", ".join(f"@{n} = {v}" for n, v in self.variables.items()))

    def evaluate(self, sql: str, rng: random.Random) -> tuple[Any, str | None, list[str]]:
        """(the first column of the one row sql returns, None, the values bound to its
        placeholders) or (None, the server's error, ...)."""
        import pymysql

        params = [rng.choice(VARIABLE_VALUES) for _ in range(_placeholders(sql))]
        try:
            with self.conn.cursor() as cursor:
                if params:
                    cursor.execute("PREPARE iap_truth FROM %s", (sql,))
                    cursor.execute("EXECUTE iap_truth USING " + ", ".join(params))
                else:
                    cursor.execute(sql)
                row = cursor.fetchone()
        except pymysql.MySQLError as e:
            return None, f"{e.args[0]}: {e.args[-1]}", params
        return (row[0] if row else None), None, params


def _placeholders(sql: str) -> int:
    """The ? of sql outside its string literals (the generators quote nothing with ?)."""
    count, quoted = 0, False
    for c in sql:
        if c == "'":
            quoted = not quoted
        elif c == "?" and not quoted:
            count += 1
    return count


@pytest.fixture(scope="module")
def session(mariadb_server: MariaDBServer) -> Iterator[Session]:
    setup = mariadb_server.connect()
    try:
        with setup.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {DB}")
            for table, top in (("t_nulls", 7), ("t_values", 6)):
                cursor.execute(f"CREATE TABLE {DB}.{table} (a INT NULL, b INT NULL)")
                values = ", ".join(
                    f"({a}, {b})" for a in range(-6, top + 1) for b in range(-6, top + 1)
                )
                cursor.execute(f"INSERT INTO {DB}.{table} VALUES {values}")
            cursor.execute(f"UPDATE {DB}.t_nulls SET a = NULL WHERE a = 7")
            cursor.execute(f"UPDATE {DB}.t_nulls SET b = NULL WHERE b = 7")
        conn = mariadb_server.connect(DB, read_timeout=10)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SET SESSION max_statement_time = 5")
            yield Session(conn)
        finally:
            conn.close()
    finally:
        with setup.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {DB}")
        setup.close()


def _states(mode: str) -> list[LexState]:
    """The session's sql_mode as the engine knows it, and not known at all."""
    return [LexState(client_encoding=CHARSET, sql_mode=mode), LexState(client_encoding=CHARSET)]


def _fold(condition: str, mode: str) -> tree.Value:
    """What the classifier folds condition to under mode (the text read as the server's
    lexer reads it, as the classifier does)."""
    flags = set(mode.split(","))
    truth = tree.Truth("HIGH_NOT_PRECEDENCE" in flags, "EMPTY_STRING_IS_NULL" in flags)
    tokens = lex(f"SELECT {condition}", lexer_mode(mode)).tokens
    expression = tree.parse(tree.render(tokens), "PIPES_AS_CONCAT" in flags).expressions[0]
    for reading, _ in truth.readings([expression]):
        return truth.value(reading[0])
    raise AssertionError("no reading")


def _server_value(value: Any) -> Any:
    """A server's value as the classifier folds it (an integer or NULL), else as it came."""
    if value is None or isinstance(value, int):
        return value
    try:
        as_int = int(value)
    except (TypeError, ValueError):
        return value
    return as_int if as_int == value else value


@pytest.mark.parametrize("mode", MODES, ids=["default", "high_not", "pipes_empty_null"])
def test_constant_conditions_the_server_finds_true_are_destructive(
    session: Session, mode: str
) -> None:
    rng = random.Random(SEED)
    conditions = Conditions(rng, constant_atom, "PIPES_AS_CONCAT" in mode)
    session.set_mode(mode)
    seen = {"true": 0, "not true": 0, "error": 0, "folded": 0}
    for _ in range(CASES):
        condition = conditions()
        session.bind(rng)
        value, error, params = session.evaluate(f"SELECT ({condition}) IS TRUE", rng)
        where = f"seed {SEED}, {mode}: {condition} with {session.variables}, ? = {params}"
        if error is not None:  # refused: it runs nothing, any class is safe
            seen["error"] += 1
            continue
        if not params:
            folded = _fold(condition, mode)
            if not isinstance(folded, tree._Uncertain):
                seen["folded"] += 1
                server, _ = session.evaluate(f"SELECT ({condition})", rng)[:2]
                assert folded == _server_value(server), (where, "folded", folded, server)
        seen["true" if value == 1 else "not true"] += 1
        if value != 1:
            continue
        for sql in (
            f"DELETE FROM t WHERE {condition}",
            f"DELETE FROM t WHERE a = 1 OR ({condition})",
            f"UPDATE t SET a = 1 WHERE ({condition}) OR a < 0",
        ):
            for state in _states(mode):
                result = classify(sql, "mysql", state=state)
                assert result.risk in HELD, (where, sql, state, result.reasons)
    assert seen["true"] > CASES / 10 and seen["not true"] > CASES / 10, seen
    assert seen["folded"] > CASES / 20, seen


@pytest.mark.parametrize("table", sorted(TABLES))
@pytest.mark.parametrize("mode", MODES, ids=["default", "high_not", "pipes_empty_null"])
def test_row_conditions_true_on_every_row_are_destructive(
    session: Session, mode: str, table: str
) -> None:
    rng = random.Random(SEED + 1)
    conditions = Conditions(rng, row_atom, "PIPES_AS_CONCAT" in mode)
    session.set_mode(mode)
    name = TABLES[table]
    total, _, _ = session.evaluate(f"SELECT count(*) FROM {name}", rng)
    every_row = 0
    for _ in range(CASES):
        condition = conditions().replace("{table}", name)
        session.bind(rng)
        matched, error, params = session.evaluate(
            f"SELECT count(*) FROM {name} AS t WHERE {condition}", rng
        )
        if error is not None or matched != total:
            continue
        every_row += 1
        where = f"seed {SEED + 1}, {mode}, {table}: {condition}"
        bound = f"{session.variables}, ? = {params}"
        for state in _states(mode):
            sql = f"DELETE FROM {name} AS t WHERE {condition}"
            result = classify(sql, "mysql", state=state)
            assert result.risk in HELD, (where, bound, state, result.reasons)
    assert every_row > CASES / 20, every_row
