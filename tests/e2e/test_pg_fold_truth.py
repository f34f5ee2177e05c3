"""Server truth for the classifier's WHERE analysis: random conditions, evaluated by the real
PostgreSQL server, against what the classifier makes of DELETE FROM t WHERE <condition>.

Owns two seeded generators and the invariants they check:
- constant conditions (literals and casts whose meaning the server's types decide: casts that
  round, typmods that truncate, bpchar's blanks, NaN, floats and numerics, text and its
  collation, dates and intervals, booleans, NULL logic): whenever the server finds one TRUE,
  DELETE ... WHERE it (alone, or OR'ed with a condition on the rows) is destructive; wherever
  the classifier folds one the server evaluates, its value is the server's.
- conditions on the rows of a table holding every pair (a, b) of integers from -6 to 6 (one
  copy with NULLs, one without): whenever every row matches, DELETE ... WHERE it is
  destructive. The conditions name integers from -3 to 3, so with two columns that can be
  ordered against each other every case over all integers has a row here. (Row conditions
  compare columns with small integers, each other and themselves; arithmetic that cancels
  the row is a known gap of the classifier, left out.)
Each run draws IAP_TRUTH_CASES conditions per generator (default 800) from seed IAP_TRUTH_SEED
(default 15); the failing condition is printed with the seed. Uses a throwaway database.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from pglast.parser import parse_sql_json

from iap.classify import Risk, classify
from iap.classify import postgres as pg
from tests.helpers import PgServer
from tests.iap.test_classify_pg_where import SERVER_TRUE

pytestmark = pytest.mark.e2e

CASES = int(os.environ.get("IAP_TRUTH_CASES", "800"))
SEED = int(os.environ.get("IAP_TRUTH_SEED", "15"))

# Values by kind: a comparison takes two of one kind (a few kinds mix, as the server allows).
NUMBERS = [
    "0", "1", "2", "3", "-1", "-2", "10", "2147483647", "-2147483648", "2147483648",
    "0.5", "1.5", "2.5", "-0.5", "1.0", "0.3", "0.1 + 0.2", "1e0", "1e308", "1/2", "7 % 3",
    "2 ^ 3", "(1/3.0) * 3", "'NaN'::float8", "'NaN'::numeric", "'Infinity'::float8",
    "'-Infinity'::float8", "0.5::int", "1.5::int", "2.5::int", "-0.5::int", "-1.5::int",
    "'1.5'::numeric::int", "2.5::float8::int", "3.5::float8::int", "0.5::int2", "1.49::int8",
    "0.1::float4", "0.1::float8", "0.1::float4::float8", "1.25::numeric(3,1)",
    "1.35::numeric(3,1)", "round(2.5)", "round(2.5::float8)", "trunc(1.9)", "abs(-1)", "'1'",
    "NULL", "NULL::int",
]  # fmt: skip
TEXTS = [
    "'a'", "'A'", "'b'", "'B'", "''", "' '", "'a '", "'a  '", "'a'::char(3)", "'a'::char(1)",
    "'abc'::varchar(1)", "'abc'::char(1)", "'a'::bpchar", "'ab'::name", "'a' COLLATE \"C\"",
    "'B' COLLATE \"C\"", "'é'", "'e'", "lower('A')", "'a' || 'b'", "'ab'", "'1'", "'10'",
    "'9'", "'a'::char(2)::text", "rtrim('a  ')", "NULL::text",
]  # fmt: skip
DATES = [
    "'2024-01-01'::date", "'2024-1-1'::date", "'2024-01-02'::date", "'2024-01-01'::date + 1",
    "'2024-01-01 00:00'::timestamp", "'2024-01-01'::timestamp", "'infinity'::date",
    "'epoch'::timestamp", "'1970-01-01'::timestamp", "'1 day'::interval",
    "'24 hours'::interval", "'1 mon'::interval", "'30 days'::interval", "'0'::interval",
    "'00:00'::time", "'24:00'::time",
]  # fmt: skip
BOOLEANS = [
    "true", "false", "NULL", "NULL::boolean", "'t'::boolean", "'yes'::bool", "'off'::boolean",
    "'1'::boolean", "'true'", "1::boolean", "0::boolean",
]  # fmt: skip
KINDS = [NUMBERS, NUMBERS, TEXTS, DATES, BOOLEANS]
OPS = ["=", "<>", "<", "<=", ">", ">=", "IS DISTINCT FROM", "IS NOT DISTINCT FROM"]
TESTS = ["TRUE", "NOT TRUE", "FALSE", "NOT FALSE", "UNKNOWN", "NOT UNKNOWN"]


class Conditions:
    """Random conditions: atoms combined with AND, OR, NOT and the IS tests."""

    def __init__(self, rng: random.Random, atom: Any) -> None:
        self.rng = rng
        self.atom = atom

    def __call__(self, depth: int = 3) -> str:
        rng = self.rng
        shape = rng.choice(["atom", "atom", "atom", "not", "and", "or", "is"])
        if depth == 0 or shape == "atom":
            return str(self.atom(rng))
        if shape == "not":
            return f"NOT ({self(depth - 1)})"
        if shape == "is":
            return f"({self(depth - 1)}) IS {rng.choice(TESTS)}"
        parts = [f"({self(depth - 1)})" for _ in range(rng.randint(2, 3))]
        return f" {shape.upper()} ".join(parts)


def constant_atom(rng: random.Random) -> str:
    kind = rng.choice(KINDS)
    shape = rng.choice(["compare", "compare", "compare", "in", "between", "null", "bool"])
    value = rng.choice(kind)
    if shape == "null":
        return f"{value} IS {rng.choice(['NULL', 'NOT NULL'])}"
    if shape == "bool":
        return rng.choice(BOOLEANS)
    if shape == "in":
        items = ", ".join(rng.choice(kind) for _ in range(rng.randint(1, 3)))
        return f"{value} {rng.choice(['IN', 'NOT IN'])} ({items})"
    if shape == "between":
        words = rng.choice(["BETWEEN", "NOT BETWEEN", "BETWEEN SYMMETRIC"])
        return f"{value} {words} {rng.choice(kind)} AND {rng.choice(kind)}"
    if kind is TEXTS and rng.random() < 0.2:
        return f"{value} {rng.choice(['LIKE', 'NOT LIKE'])} {rng.choice(TEXTS)}"
    return f"{value} {rng.choice(OPS)} {rng.choice(kind)}"


def row_atom(rng: random.Random) -> str:
    def term() -> str:
        return rng.choice(["a", "b", "t.a", "t.b", str(rng.randint(-3, 3))])

    shape = rng.choice(["compare", "compare", "compare", "in", "between", "null", "self"])
    column = rng.choice(["a", "b", "t.a"])
    if shape == "null":
        return f"{column} IS {rng.choice(['NULL', 'NOT NULL'])}"
    if shape == "self":
        other = rng.choice([column, column.removeprefix("t."), f"{column} + 0", f"({column})"])
        return f"{column} {rng.choice(OPS)} {other}"
    if shape == "in":
        items = ", ".join(str(rng.randint(-3, 3)) for _ in range(rng.randint(1, 3)))
        return f"{column} {rng.choice(['IN', 'NOT IN'])} ({items})"
    if shape == "between":
        words = rng.choice(["BETWEEN", "NOT BETWEEN", "BETWEEN SYMMETRIC"])
        return f"{column} {words} {rng.randint(-3, 3)} AND {rng.randint(-3, 3)}"
    if rng.random() < 0.15:  # a constant part the classifier may not fold
        return constant_atom(rng)
    return f"{term()} {rng.choice(OPS)} {term()}"


@pytest.fixture(scope="module")
def conn(pg_server: PgServer) -> Iterator[psycopg.Connection[Any]]:
    name = pg_server.create_database("iapfold")
    try:
        pg_server.execute(
            "CREATE SCHEMA nulls; CREATE SCHEMA values;"
            " CREATE TABLE nulls.t AS SELECT a, b FROM generate_series(-6, 7) AS a,"
            "   generate_series(-6, 7) AS b;"
            " UPDATE nulls.t SET a = NULL WHERE a = 7; UPDATE nulls.t SET b = NULL WHERE b = 7;"
            " CREATE TABLE values.t AS SELECT a, b FROM generate_series(-6, 6) AS a,"
            "   generate_series(-6, 6) AS b;",
            dbname=name,
        )
        with psycopg.connect(
            pg_server.dsn(name), autocommit=True, options="-c statement_timeout=5s"
        ) as connection:
            yield connection
    finally:
        pg_server.drop_database(name)


def _evaluate(conn: psycopg.Connection[Any], sql: str) -> tuple[Any, str | None]:
    """(the first column of the one row sql returns, None) or (None, the server's error)."""
    try:
        row = conn.execute(sql.encode()).fetchone()
    except psycopg.Error as e:
        return None, f"{e.sqlstate}: {str(e).splitlines()[0]}"
    return (row[0] if row else None), None


def _where(condition: str) -> Any:
    tree = json.loads(parse_sql_json(f"SELECT 1 WHERE {condition}"))
    return tree["stmts"][0]["stmt"]["SelectStmt"]["whereClause"]


# a condition with a parameter has the client's value: the server cannot evaluate it alone
@pytest.mark.parametrize("condition", [c for c in SERVER_TRUE if "$1" not in c])
def test_the_unit_tests_constant_conditions_are_true_on_the_server(
    conn: psycopg.Connection[Any], condition: str
) -> None:
    value, error = _evaluate(conn, f"SELECT ({condition})::boolean")
    assert error is None and value is True, (condition, value, error)


def test_constant_conditions_the_server_finds_true_are_destructive(
    conn: psycopg.Connection[Any],
) -> None:
    rng = random.Random(SEED)
    conditions = Conditions(rng, constant_atom)
    seen = {"true": 0, "not true": 0, "error": 0, "folded": 0}
    for _ in range(CASES):
        condition = conditions()
        value, error = _evaluate(conn, f"SELECT ({condition})::boolean")
        if error is not None:  # refused (a type error): it runs nothing, any class is safe
            seen["error"] += 1
            continue
        folded = pg.fold_condition(_where(condition))
        where = f"seed {SEED}: {condition}"
        if not isinstance(folded, pg._Uncertain):
            seen["folded"] += 1
            assert folded is value, (where, "folded", folded, "server", value)
        seen["true" if value is True else "not true"] += 1
        if value is not True:
            continue
        for sql in (
            f"DELETE FROM t WHERE {condition}",
            f"DELETE FROM t WHERE id = 1 OR ({condition})",
            f"UPDATE t SET a = 1 WHERE ({condition}) OR a < 0",
        ):
            result = classify(sql)
            assert result.risk is Risk.DESTRUCTIVE, (where, sql, result.reasons)
    assert seen["true"] > CASES / 10 and seen["not true"] > CASES / 10, seen
    assert seen["folded"] > CASES / 20, seen


@pytest.mark.parametrize("schema", ["values", "nulls"])
def test_row_conditions_true_on_every_row_are_destructive(
    conn: psycopg.Connection[Any], schema: str
) -> None:
    rng = random.Random(SEED + 1)
    conditions = Conditions(rng, row_atom)
    conn.execute(f"SET search_path = {schema}".encode())
    (total,) = conn.execute(b"SELECT count(*) FROM t").fetchone() or (0,)
    every_row = 0
    for _ in range(CASES):
        condition = conditions()
        matched, error = _evaluate(conn, f"SELECT count(*) FROM t WHERE {condition}")
        if error is not None or matched != total:
            continue
        every_row += 1
        result = classify(f"DELETE FROM t WHERE {condition}")
        where = f"seed {SEED + 1}, {schema}: {condition}"
        assert result.risk is Risk.DESTRUCTIVE, (where, result.reasons)
    assert every_row > CASES / 20, every_row
