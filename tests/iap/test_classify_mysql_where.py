"""Tests of the MySQL classifier's WHERE analysis: when an UPDATE or DELETE bounds its rows.

The rule (iap/classify/mysql_tree.py, "WHERE analysis"): a DELETE/UPDATE bounds its rows only
if its WHERE cannot be true on every row. A part that does not read the row (a user or system
variable, a placeholder, a routine's parameter or local, a string, a subquery of other
tables) may be true unless its value is certain (integers, TRUE/FALSE, NULL, with MariaDB's
three-valued logic); OR bounds only when every branch does, AND when one conjunct does; NOT,
a column compared with itself, IS NOT NULL, LIKE '%' and disjunctions that cover every value
may hold on every row. The fast path (mysql_fast) answers exactly as the full path.

Pure: no sockets (the server's truth: tests/e2e/test_mysql_where_truth.py).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iap.classify import LexState, Risk, classify
from iap.classify import mysql_tree as tree
from iap.classify.mysql_lexer import lex
from iap.classify.mysql_settings import lexer_mode
from tests.iap.test_classify_mysql import _both_paths

KNOWN = LexState(client_encoding="utf8mb4", sql_mode="STRICT_TRANS_TABLES")
UNKNOWN = LexState(client_encoding="utf8mb4", sql_mode=None)
HIGH_NOT = LexState(client_encoding="utf8mb4", sql_mode="HIGH_NOT_PRECEDENCE")
EMPTY_NULL = LexState(client_encoding="utf8mb4", sql_mode="EMPTY_STRING_IS_NULL")
W, X = Risk.WRITE, Risk.DESTRUCTIVE


def risk(sql: str, state: LexState = KNOWN) -> Risk:
    return classify(sql, "mysql", state=state).risk


def reasons(sql: str, state: LexState = KNOWN) -> tuple[str, ...]:
    return classify(sql, "mysql", state=state).reasons


def where(condition: str, state: LexState = KNOWN) -> Risk:
    """The class of DELETE FROM items WHERE condition (the same under an unknown sql_mode,
    which may only be stricter)."""
    found = risk(f"DELETE FROM items WHERE {condition}", state)
    unknown = risk(f"DELETE FROM items WHERE {condition}", UNKNOWN)
    assert unknown.rank >= found.rank, (condition, found, unknown)
    return found


# ----------------------------------------------------------------------------- the finding


def test_a_user_variable_in_an_or_branch_may_be_true() -> None:
    sql = "DELETE FROM items WHERE id = 5 OR @x"
    assert risk(sql) is X
    assert reasons(sql) == (
        "DELETE whose WHERE may be true on every row of items: part of it does not depend on"
        " the rows and may be true",
    )
    assert risk("UPDATE items SET a = 1 WHERE id = 5 OR @x") is X


@pytest.mark.parametrize(
    "condition",
    [
        "id = 5 OR ?", "?", "id = 5 OR ? = 1", "id = 5 OR ? IS NULL",  # placeholders
        "@x", "id = 5 OR @x", "id = 5 OR @x = 1", "id = 5 OR @X IS NOT NULL",  # user variables
        "@@session.sql_safe_updates", "id = 5 OR @@session.x", "id = 5 OR @@x",  # system ones
        "id = 5 OR 1", "id = 5 OR 'a' = 'a'", "id = 5 OR '1abc'", "id = 5 OR 0.1 + 0.2 = 0.3",
        "id = 5 OR EXISTS (SELECT 1 FROM other)", "id = 5 OR (SELECT flag FROM other)",
        "id = 5 OR RAND() < 2", "id = 5 OR CONCAT('1')", "id = 5 OR 9223372036854775807 + 1",
        "(id = 5 AND @x) OR @y", "id = 5 OR (id = 6 OR ?)",
    ],
)  # fmt: skip
def test_an_or_branch_that_does_not_depend_on_the_row_may_be_true(condition: str) -> None:
    assert where(condition) is X, condition


@pytest.mark.parametrize(
    "condition",
    ["id = 5", "id = ?", "id = @x", "id = @@session.x", "id IN (1, 2)", "id IN (?, ?)",
     "a = 1 AND @x", "a = 1 AND ?", "@x AND a = 1", "a = 1 AND id IS NOT NULL",
     "a = 1 AND name LIKE '%'", "id = 5 OR id = 6", "(id = 5 OR ?) AND a = 2",
     "id = 5 OR NULL", "id = 5 OR 1 = 0", "id = 5 OR NOT 1", "id = 5 AND NULL", "NULL", "1 = 0",
     "1 + 1 = 3", "TRUE + TRUE = 3", "NOT 1", "'a' IS NULL", "id <> id", "id < id"],
)  # fmt: skip
def test_bounded_conditions_stay_write(condition: str) -> None:
    assert where(condition) is W, condition


# ----------------------------------------------------------------------------- routines


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CREATE PROCEDURE p(x INT) DELETE FROM items WHERE id = 5 OR x", X),
        ("CREATE PROCEDURE p(IN x INT) DELETE FROM items WHERE x", X),
        ("CREATE PROCEDURE p(x INT) DELETE FROM items WHERE id = x", Risk.DDL),
        ("CREATE PROCEDURE p(x INT) UPDATE items SET a = 1 WHERE id = x AND x", Risk.DDL),
        ("CREATE PROCEDURE p(id INT) DELETE FROM items WHERE id = id", X),  # the parameter's
        ("CREATE PROCEDURE p() BEGIN DECLARE y INT DEFAULT 1; DELETE FROM items WHERE id = 5"
         " OR y; END", X),
        ("CREATE PROCEDURE p() BEGIN DECLARE y INT DEFAULT 1; DELETE FROM items WHERE id = y;"
         " END", Risk.DDL),
        ("CREATE FUNCTION f(x INT) RETURNS INT BEGIN DELETE FROM items WHERE id = 1 OR x;"
         " RETURN 1; END", X),
    ],
)  # fmt: skip
def test_routine_parameters_and_locals_are_constants(sql: str, expected: Risk) -> None:
    result = classify(sql, "mysql", state=KNOWN)
    assert result.risk is expected, result.reasons
    if expected is X:
        assert any("plants code that runs later: DELETE whose WHERE" in r for r in result.reasons)


def test_prepared_text_with_placeholders() -> None:
    result = classify("PREPARE s FROM 'DELETE FROM items WHERE id = ? OR ?'", "mysql")
    assert result.prepares == (("s", X),)
    bounded = classify("PREPARE s FROM 'DELETE FROM items WHERE id = ?'", "mysql")
    assert bounded.prepares == (("s", W),)


# ----------------------------------------------------------------------------- on the row


@pytest.mark.parametrize(
    "condition",
    [
        "id = id", "items.id = id", "ID = id", "`id` = id", "id <=> id", "id >= id", "id = id + 0",
        "id = (id)", "NOT (id <> id)", "a + b = b + a",
        "id IS NOT NULL", "NOT (id IS NULL)", "NOT id IS NULL", "id IS NOT UNKNOWN",
        "(id + NULL) IS NULL", "(id / 0) IS NULL", "NOT (id <=> NULL)", "id IS NOT NULL OR id = 5",
        "name LIKE '%'", "name LIKE '%%'", "name LIKE ?", "name LIKE @p", "name LIKE 0x25",
        "name REGEXP 'a*'", "name REGEXP '^'", "name REGEXP ?", "name NOT REGEXP ?",
        "name NOT REGEXP 'a^'", "id LIKE '%1' OR id <> 1", "id NOT LIKE '-%' OR id < 0",
    ],
)  # fmt: skip
def test_conditions_that_may_hold_on_every_row(condition: str) -> None:
    assert where(condition) is X, condition


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("NOT (id = 1 AND id = 2)", X), ("NOT (id < 5) OR id < 5", X), ("NOT (id IS NULL)", X),
        ("NOT (id BETWEEN 5 AND 1)", X), ("NOT (id IN (SELECT id FROM other))", X),
        ("NOT EXISTS (SELECT 1 FROM other WHERE other.id = items.id)", X),
        ("NOT (name LIKE 'a%' AND name NOT LIKE 'a%')", X), ("NOT (id = 5 XOR id = 5)", X),
        ("!(id = 1 AND id = 2)", X),
        # NOT of a part that bounds, whose opposite bounds too
        ("NOT (id = 5)", W), ("NOT (id <> 5)", W), ("NOT (id IN (1, 2))", W),
        ("NOT (id BETWEEN 1 AND 5)", W), ("NOT (name LIKE 'a%')", W), ("NOT id", W),
    ],
)  # fmt: skip
def test_not_of_a_bounding_condition(condition: str, expected: Risk) -> None:
    assert where(condition) is expected, condition


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("id IN (1, 2)", W), ("id NOT IN (1, 2)", W), ("id IN (1, @x)", W), ("5 IN (id, a)", W),
        ("id NOT IN (1, NULL)", W), ("id IN (NULL)", W), ("id IN (id, 1)", X),
        ("id = 5 OR id NOT IN (5)", X), ("id IN (1, 2) OR id NOT IN (1, 2)", X),
        ("(id, a) IN ((1, 2), (3, 4))", W), ("(id, a) = (1, @x)", W), ("(id, a) = (id, a)", X),
        ("id IN (SELECT id FROM items)", X), ("id = ANY (SELECT id FROM items)", X),
        ("id IN (SELECT item_id FROM other)", W), ("id NOT IN (SELECT item_id FROM other)", X),
        ("id <> ALL (SELECT item_id FROM other)", X), ("id = ALL (SELECT 1)", X),
        ("EXISTS (SELECT 1 FROM items o WHERE o.id = items.id)", X),
        ("EXISTS (SELECT 1 FROM other o WHERE o.id = items.id)", W),
    ],
)  # fmt: skip
def test_in_lists_and_subqueries(condition: str, expected: Risk) -> None:
    assert where(condition) is expected, condition


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("id BETWEEN 1 AND 5", W), ("id BETWEEN ? AND ?", W), ("id BETWEEN 5 AND 1", W),
        ("id NOT BETWEEN 1 AND 5", W), ("id NOT BETWEEN 5 AND 1", X),
        ("id NOT BETWEEN ? AND ?", X), ("id NOT BETWEEN @lo AND @hi", X),
        ("id BETWEEN 1 AND 5 OR id < 1 OR id > 5", X), ("id BETWEEN id AND id", X),
        ("2 BETWEEN id AND a", W), ("id BETWEEN NULL AND 5", W),
    ],
)  # fmt: skip
def test_between(condition: str, expected: Risk) -> None:
    assert where(condition) is expected, condition


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        # disjunctions that cover every value
        ("id < 5 OR id >= 5", X), ("id <= 5 OR id > 4", X), ("id = 5 OR id <> 5", X),
        ("id < 5 OR id > 5", W), ("id < a OR id >= a", X), ("id < ? OR id >= ?", X),
        ("id > @x OR id <= @y", X), ("id > 5 OR a > 5", W),
        # a value as a condition is true where it is not 0
        ("id", W), ("NOT id", W), ("!id", W), ("id OR NOT id", X), ("id OR id = 0", X),
        ("-id OR id = 0", X), ("-id = 2 OR id <> -2", X), ("id XOR 1", W),
        ("id = 5 XOR id <> 5", X), ("id IS TRUE OR id IS NOT TRUE", X), ("id IS FALSE", W),
        ("(id = 5) = 0 OR id = 5", X), ("(id = 5) = 1", W), ("(id = 5) = 2", W),
        ("(id = 5) < a OR a <= 1", X), ("(id = 5) <=> NULL", W),
        # CASE, IF, COALESCE, NULLIF
        ("CASE WHEN id = 5 THEN 1 ELSE 0 END = 1", W), ("CASE WHEN id = 5 THEN 0 ELSE 1 END", W),
        ("CASE WHEN id = 5 THEN 1 ELSE 1 END", X), ("IF(id = 5, 1, 1)", X), ("IF(id, 1, 0)", W),
        ("NOT (CASE id WHEN 5 THEN 1 END <=> 1)", W), ("COALESCE(id, 1)", W),
        ("NOT (CASE WHEN id = 5 THEN 1 END <=> 1) OR id = 5", X), ("NULLIF(id, 5) = 1", W),
    ],
)  # fmt: skip
def test_disjunctions_values_and_branches(condition: str, expected: Risk) -> None:
    assert where(condition) is expected, condition


# ----------------------------------------------------------------------------- sql_mode


def test_high_not_precedence_reads_not_tighter() -> None:
    # NOT id < 5 is NOT (id < 5), or (NOT id) < 5 (0 or 1: every row with a value)
    sql = "DELETE FROM items WHERE NOT id < 5"
    assert risk(sql, KNOWN) is W
    assert risk(sql, HIGH_NOT) is X
    unknown = classify(sql, "mysql", state=UNKNOWN)
    assert unknown.risk is X
    assert unknown.reasons[0].endswith("(if HIGH_NOT_PRECEDENCE is on: NOT binds tighter)")
    # and the other way round: NOT (id <=> NULL) may hold on every row, (NOT id) <=> NULL not
    other = "DELETE FROM items WHERE NOT id <=> NULL"
    assert (risk(other, KNOWN), risk(other, HIGH_NOT), risk(other, UNKNOWN)) == (X, W, X)
    # IS NOT, NOT IN, NOT LIKE, NOT BETWEEN and written parentheses read the same either way
    same = ["id IS NOT NULL", "NOT (id < 5) AND id = 5", "id NOT IN (1)", "name NOT LIKE 'a%'",
            "id NOT BETWEEN 1 AND 2", "!id < 5 AND a = 1"]  # fmt: skip
    for condition in same:
        sql = f"DELETE FROM items WHERE {condition}"
        assert risk(sql, KNOWN) is risk(sql, HIGH_NOT), condition


def test_empty_string_is_null() -> None:
    sql = "DELETE FROM items WHERE '' IS NULL"
    assert (risk(sql, KNOWN), risk(sql, EMPTY_NULL), risk(sql, UNKNOWN)) == (W, X, X)
    assert risk("DELETE FROM items WHERE name <=> ''", EMPTY_NULL) is W


def test_pipes_as_concat() -> None:
    sql = "DELETE FROM items WHERE id = 5 || @x"
    assert risk(sql, KNOWN) is X  # OR @x
    assert risk(sql, LexState(sql_mode="PIPES_AS_CONCAT")) is W  # id = CONCAT(5, @x)
    assert risk(sql, UNKNOWN) is X


# ----------------------------------------------------------------------------- joins


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("DELETE o FROM orders o JOIN customers c ON c.id = o.customer_id", W),
        ("DELETE o FROM orders o JOIN customers c ON c.id = o.customer_id OR @x", X),
        ("DELETE o FROM orders o LEFT JOIN customers c ON c.id = o.customer_id", X),
        ("DELETE o FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS"
         " NULL", X),
        ("DELETE t1 FROM t1 JOIN t2 WHERE t2.x = 1", X),
        ("DELETE t1 FROM t1 JOIN t2 WHERE id = 1", X),  # id may be t2's
        ("DELETE t1 FROM t1 JOIN t2 WHERE t1.id = 1", W),
        ("DELETE t1, t2 FROM t1 JOIN t2 ON t1.a = t2.b WHERE t1.id = 5", W),
        ("DELETE t1, t2 FROM t1 JOIN t2 WHERE t1.id = 5", X),  # every t2 row joins id 5
        ("DELETE FROM t1 USING t1 JOIN t2 ON t1.a = t2.b", W),
        ("UPDATE t1 JOIN t2 ON t1.a = t2.b SET t1.x = 1", W),
        ("UPDATE t1, t2 SET t1.x = 1 WHERE t1.id = 5", W),
        ("UPDATE t1, t2 SET x = 1 WHERE t1.id = 5", X),  # x may be t2's: all of t2
        ("UPDATE t1 AS a, t2 AS b SET a.x = b.y WHERE a.id = b.id", W),
    ],
)  # fmt: skip
def test_joins(sql: str, expected: Risk) -> None:
    assert risk(sql) is expected, reasons(sql)


# ----------------------------------------------------------------------------- folding


def _fold(condition: str, mode: str = "STRICT_TRANS_TABLES", empty_is_null: bool = False) -> object:
    truth = tree.Truth(high_not=False, empty_is_null=empty_is_null)
    tokens = lex(f"SELECT {condition}", lexer_mode(mode)).tokens
    return truth.value(tree.parse(tree.render(tokens)).expressions[0])


@pytest.mark.parametrize(
    ("condition", "value"),
    [
        ("1 + 1", 2), ("TRUE + TRUE", 2), ("2 * 3 - 7", -1), ("-(-2)", 2), ("NULL + 1", None),
        ("1 = 1", 1), ("1 < NULL", None), ("NULL <=> NULL", 1), ("1 <=> NULL", 0), ("NOT 5", 0),
        ("NOT NULL", None), ("NULL AND 0", 0), ("NULL OR 1", 1), ("NULL AND 1", None),
        ("1 XOR 1", 0), ("1 XOR NULL", None), ("1 IN (2, NULL)", None), ("1 IN (1, NULL)", 1),
        ("3 BETWEEN 1 AND 2", 0), ("NULL BETWEEN 1 AND 2", None), ("5 BETWEEN NULL AND 3", 0),
        ("1 IS TRUE", 1), ("NULL IS FALSE", 0), ("'a' IS NULL", 0), ("NULL = 'a'", None),
        ("0 AND @x", 0), ("1 OR ?", 1), ("9223372036854775807", 9223372036854775807),
    ],
)  # fmt: skip
def test_folds_what_is_certain(condition: str, value: object) -> None:
    assert _fold(condition) == value


@pytest.mark.parametrize(
    "condition",
    ["'1'", "'a' = 'a'", "0.5", "1.0 = 1", "1e0", "0x01", "b'1'", "@x", "?", "@@x", "1 / 1",
     "5 DIV 2", "7 MOD 3", "ABS(1)", "(SELECT 1)", "1 AND @x", "NULL AND @x",
     "9223372036854775807 + 1", "18446744073709551615", "1 = '1'", "CASE WHEN 1 THEN 1 END"],
)  # fmt: skip
def test_does_not_fold_what_types_and_settings_decide(condition: str) -> None:
    assert isinstance(_fold(condition), tree._Uncertain), condition


def test_an_empty_string_may_be_null() -> None:
    assert _fold("'' IS NULL") == 0
    assert isinstance(_fold("'' IS NULL", empty_is_null=True), tree._Uncertain)
    assert _fold("'a' IS NULL", empty_is_null=True) == 0


# ----------------------------------------------------------------------------- the fast path


@pytest.mark.parametrize(
    "sql",
    ["DELETE FROM t WHERE id = ?", "DELETE FROM t WHERE id = @x", "UPDATE t SET a = 1 WHERE id = 5",
     "DELETE FROM t WHERE a = 1 AND b IS NOT NULL", "DELETE FROM t WHERE name LIKE 'a%'",
     "DELETE FROM t WHERE name NOT LIKE '%' AND a = 1", "DELETE FROM t WHERE id IN (1, ?)",
     "DELETE FROM t WHERE id BETWEEN ? AND ?", "DELETE FROM t WHERE name LIKE '%' AND a = 1",
     "DELETE FROM t WHERE id IS NULL", "DELETE FROM t WHERE name NOT LIKE ?"],
)  # fmt: skip
def test_fast_path_takes_bounded_conjunctions(sql: str) -> None:
    for state in (KNOWN, UNKNOWN):
        fast, slow, accepted = _both_paths(sql, state)
        assert accepted and fast == slow and fast.risk is W, sql


@pytest.mark.parametrize(
    "sql",
    ["DELETE FROM t WHERE id IS NOT NULL", "DELETE FROM t WHERE name LIKE '%'",
     "DELETE FROM t WHERE name LIKE ?", "DELETE FROM t WHERE name LIKE '%' AND b IS NOT NULL",
     "DELETE FROM t WHERE id NOT BETWEEN 1 AND 2", "DELETE FROM t WHERE name LIKE @x",
     "DELETE FROM t WHERE id = 5 OR @x", "DELETE FROM t WHERE name LIKE 0x25"],
)  # fmt: skip
def test_fast_path_leaves_what_may_hold_on_every_row(sql: str) -> None:
    for state in (KNOWN, UNKNOWN):
        fast, slow, accepted = _both_paths(sql, state)
        assert not accepted and fast == slow, sql


_COLUMNS = ["id", "t.id", "x.id", "name", "`a b`", "u.t.id"]
_VALUES = ["1", "-1", "2.5", "'a'", "''", "'%'", "'%%'", "'a%'", "?", "@x", "0x25", "NULL",
           "b'1'", "1e3", "-?"]  # fmt: skip


@st.composite
def _parts(draw: st.DrawFn) -> str:
    column = draw(st.sampled_from(_COLUMNS))
    value = draw(st.sampled_from(_VALUES))
    form = draw(st.integers(0, 6))
    if form == 0:
        return f"{column} {draw(st.sampled_from(['=', '<>', '!=', '<', '>=', '<=>']))} {value}"
    if form == 1:
        return f"{column} IS {draw(st.sampled_from(['NULL', 'NOT NULL']))}"
    if form == 2:
        words = draw(st.sampled_from(["IN", "NOT IN"]))
        return f"{column} {words} ({value}, {draw(st.sampled_from(_VALUES))})"
    if form == 3:
        words = draw(st.sampled_from(["BETWEEN", "NOT BETWEEN"]))
        return f"{column} {words} {value} AND {draw(st.sampled_from(_VALUES))}"
    return f"{column} {draw(st.sampled_from(['LIKE', 'NOT LIKE']))} {value}"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["DELETE FROM t", "DELETE FROM t AS x", "UPDATE t SET a = 1"]),
    st.lists(_parts(), min_size=1, max_size=3),
    st.sampled_from([" AND ", " AND ", " OR "]),
    st.sampled_from([KNOWN, UNKNOWN, HIGH_NOT, EMPTY_NULL]),
)
def test_fast_path_gives_the_full_paths_answer_on_where(
    head: str, parts: list[str], glue: str, state: LexState
) -> None:
    sql = f"{head} WHERE {glue.join(parts)}"
    fast, slow, _ = _both_paths(sql, state)
    assert fast == slow, (sql, fast, slow)
