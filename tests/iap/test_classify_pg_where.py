"""Tests of the PostgreSQL classifier's WHERE analysis: an UPDATE/DELETE (a MERGE: its ON) is a
bounded write only when its condition cannot be true on every row.

Constant parts are folded only where the value is certain (integer, boolean and NULL
literals); every other constant part may be true. Parts that read the rows bound them unless
they hold for every value. Pure: no sockets (tests/e2e/test_pg_fold_truth.py checks the same
rules against the real server).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pglast.parser import parse_sql_json

from iap.classify import Risk, classify
from iap.classify import pg_where as pg


def _where(condition: str) -> object:
    """The parsed condition of `SELECT 1 WHERE condition`."""
    tree = json.loads(parse_sql_json(f"SELECT 1 WHERE {condition}"))
    return tree["stmts"][0]["stmt"]["SelectStmt"]["whereClause"]


def _delete(condition: str) -> Risk:
    return classify(f"DELETE FROM orders WHERE {condition}").risk


# -- constant conditions

# Conditions PostgreSQL finds TRUE (tests/e2e/test_pg_fold_truth.py asks the server) although a
# reading that trusts Python's arithmetic, text or float semantics finds them false or unknown.
SERVER_TRUE = [
    "0.5::int = 1",  # numeric to integer rounds half away from zero
    "-0.5::int = -1",
    "1.5::int = 2",
    "0.5::int2 = 1",
    "'1.5'::numeric::int = 2",
    "2.5::float8::int = 2",  # float8 to integer rounds half to even
    "'abc'::varchar(1) = 'a'",  # the typmod truncates
    "'abc'::char(1) = 'a'",
    "'a'::char(3) = 'a  '",  # bpchar ignores trailing blanks
    "'a '::char(2) = 'a'::char(1)",
    "'NaN'::float8 = 'NaN'::float8",  # NaN equals NaN and sorts above everything
    "'NaN'::numeric = 'NaN'::numeric",
    "'NaN'::float8 > 'Infinity'::float8",
    "1 = 1.0",
    "0.1 + 0.2 = 0.3",  # numeric arithmetic is exact
    "1e0 = 1",
    "2147483648 > 2147483647",
    "'1' = 1",
    "'1 day'::interval = '24 hours'",
    "'2024-01-01'::date = '2024-1-1'",
    "'yes'::boolean",
    "'on'::bool",
    "'true'",
    "'a' < 'b'",
    "'a' = 'a'",
    "NOT 'a' = 'b'",
    "lower('A') = 'a'",
    "now() = now()",
    "random() < 2",
    "(SELECT true)",
    "EXISTS (SELECT 1)",
    "1 IN (SELECT 1)",
    "ARRAY[1] = ARRAY[1]",
    "ROW(1, 2) = ROW(1, 2)",
    "1 + 1 = 2",
    "true AND 0.5::int = 1",
    "1 = 0 OR 0.5::int = 1",
]


@pytest.mark.parametrize("condition", SERVER_TRUE)
def test_constant_conditions_the_server_finds_true_are_destructive(condition: str) -> None:
    result = classify(f"DELETE FROM orders WHERE {condition}")
    assert result.risk is Risk.DESTRUCTIVE, result.reasons
    assert pg.fold_condition(_where(condition)) is not False


@pytest.mark.parametrize("condition", SERVER_TRUE)
def test_a_condition_that_may_be_true_spoils_any_or(condition: str) -> None:
    for sql in (
        f"DELETE FROM orders WHERE id = 5 OR {condition}",
        f"UPDATE orders SET note = 'x' WHERE ({condition}) OR id = 5",
        f"MERGE INTO orders USING staging ON ({condition}) OR orders.id = staging.id"
        " WHEN MATCHED THEN DELETE",
    ):
        assert classify(sql).risk is Risk.DESTRUCTIVE, sql


# (condition, the value PostgreSQL gives it): only integer, boolean and NULL literals fold.
FOLDED: list[tuple[str, bool | None]] = [
    ("1 = 1", True),
    ("1 <> 1", False),
    ("1 != 2", True),
    ("-1 < 0", True),
    ("2 >= 3", False),
    ("true = false", False),
    ("true <> false", True),
    ("true", True),
    ("false", False),
    ("NULL", None),
    ("NULL = 1", None),
    ("NULL = NULL", None),
    ("NULL <> true", None),
    ("NULL IS NULL", True),
    ("1 IS NULL", False),
    ("'x' IS NULL", False),
    ("'x' IS NOT NULL", True),
    ("(1 = 2) IS NOT NULL", True),
    ("1 IN (1, 2)", True),
    ("3 NOT IN (1, 2)", True),
    ("1 NOT IN (2, NULL)", None),
    ("1 IN (2, NULL)", None),
    ("1 BETWEEN 0 AND 2", True),
    ("1 NOT BETWEEN 0 AND 2", False),
    ("3 BETWEEN SYMMETRIC 4 AND 2", True),
    ("3 BETWEEN 4 AND 2", False),
    ("NULL AND false", False),
    ("NULL AND true", None),
    ("NULL OR true", True),
    ("NULL OR false", None),
    ("NOT (NULL AND false)", True),
    ("NOT NULL", None),
    ("(1 = 2) IS NOT TRUE", True),
    ("(NULL = 1) IS NOT FALSE", True),
    ("(NULL = 1) IS UNKNOWN", True),
    ("(1 = 1) IS FALSE", False),
    ("1 IS DISTINCT FROM NULL", True),
    ("NULL IS NOT DISTINCT FROM NULL", True),
    ("2 IS DISTINCT FROM 2", False),
    ("false IS NOT DISTINCT FROM false", True),
]


@pytest.mark.parametrize(("condition", "value"), FOLDED)
def test_integer_boolean_and_null_literals_fold(condition: str, value: bool | None) -> None:
    assert pg.fold_condition(_where(condition)) is value
    expected = Risk.DESTRUCTIVE if value is True else Risk.WRITE
    assert _delete(condition) is expected


@pytest.mark.parametrize(
    "condition",
    [
        "1 = 1.0",  # a number with a fraction: its type is the server's to choose
        "2147483648 = 2147483648",  # beyond int4: numeric
        "'a' = 'a'",
        "'t'::boolean",
        "true::boolean",  # even a cast that changes nothing
        "1 = true",  # the server refuses it
        "1 + 1 = 2",
        "1 OPERATOR(public.=) 1",  # a user's operator
        "$1 = 1",
        "'x'::text IS NULL",
    ],
)
def test_anything_else_is_uncertain(condition: str) -> None:
    assert pg.fold_condition(_where(condition)) is pg.UNCERTAIN
    assert _delete(condition) is Risk.DESTRUCTIVE


def test_reasons_for_constant_conditions() -> None:
    assert classify("DELETE FROM orders WHERE 1 = 1").reasons == (
        "DELETE with an always-true WHERE on orders",
    )
    assert classify("DELETE FROM orders WHERE 0.5::int = 1").reasons == (
        "DELETE whose WHERE does not depend on the rows of orders",
    )
    assert classify("DELETE FROM orders WHERE 1 = 0").reasons == ("DELETE on orders",)


# -- conditions on the rows

ANY_ROW = [
    ("id IS NOT NULL", "id IS NOT NULL holds on every row with a value"),
    ("NOT (id IS NULL)", "id IS NOT NULL holds"),
    ("id IS NOT UNKNOWN", "IS NOT NULL holds"),
    ("id = id", "it compares id with itself"),
    ("id >= id", "it compares id with itself"),
    ("orders.id = orders.id", "it compares orders.id with itself"),
    ("NOT (id <> id)", "it compares id with itself"),
    ("id IS NOT DISTINCT FROM id", "it compares id with itself"),
    ("(id = id) IS TRUE", "it compares id with itself"),
    ("(id = id) = true", "it compares id with itself"),
    ("lower(note) = lower(note)", "it compares an expression with itself"),
    ("(id, note) = (id, note)", "with itself"),
    ("orders.id = id", "two expressions of id"),
    ("id + 0 = id", "two expressions of id"),
    ("id = ANY(ARRAY[id])", "an expression of itself"),
    ("id BETWEEN id AND id", "with itself"),
    ("id IN (id, 7)", "with itself"),
    ("id = 5 OR true", "always true"),
    ("id = 5 OR 1 = 1", "always true"),
    ("true OR id = 5", "always true"),
    ("id = 5 OR 0.5::int = 1", "may be true"),
    ("CASE WHEN id > 2 THEN true ELSE true END", "its parts together hold"),
    ("CASE WHEN id > 2 THEN id = id ELSE id IS NOT NULL END", "its parts together hold"),
    ("CASE id WHEN 1 THEN true ELSE id <> 1 END", "its parts together hold"),
    ("NOT CASE WHEN id > 2 THEN false ELSE false END", "its parts together hold"),
    ("coalesce(id = 5, true)", "always true"),
    ("GREATEST(id = 5, true)", "always true"),
    ("note LIKE '%'", "LIKE '%' matches every value"),
    ("note ILIKE '%%'", "ILIKE '%' matches every value"),
    ("note ~ ''", "matches every value"),
    ("note SIMILAR TO '%'", "matches every value"),
    ("id = 1 OR id <> 1", "its parts together hold for every value"),
    ("id < 3 OR id >= 3", "its parts together hold for every value"),
    ("id <= 2 OR id >= 3", "its parts together hold for every value"),
    ("id < 10 OR id > 5", "its parts together hold for every value"),
    ("NOT (id < 3 AND id >= 3)", "its parts together hold for every value"),
    ("id IN (1, 2) OR id NOT IN (1, 2)", "its parts together hold for every value"),
    ("id BETWEEN 1 AND 9 OR id NOT BETWEEN 1 AND 9", "its parts together hold for every value"),
    ("note = 'a' OR note <> 'a'", "its parts together hold for every value"),
    ("note < 'm' OR note >= 'm'", "its parts together hold for every value"),
    ("id = $1 OR id <> $2", "its parts together hold"),  # $1 may equal $2
    ("id < $1 OR id > $2", "its parts together hold"),  # $2 may be below $1
    ("truncate_flag OR NOT truncate_flag", "its parts together hold for every value"),
    ("truncate_flag = true OR truncate_flag = false", "its parts together hold"),
    ("truncate_flag IS TRUE OR truncate_flag IS NOT TRUE", "its parts together hold"),
    ("(id < 0 AND amount < 0) OR NOT (id < 0 AND amount < 0)", "its parts together hold"),
    ("id >= 0 OR amount < 0 OR id < amount", "its parts together hold"),
    ("id IN (SELECT id FROM orders)", "it looks each row up in the table itself"),
    ("id IN (SELECT o.id FROM public.orders AS o)", "it looks each row up in the table"),
    ("EXISTS (SELECT 1 FROM orders o WHERE o.id = orders.id)", "it looks each row up"),
    ("EXISTS (SELECT 1 FROM orders WHERE orders.id > 0)", "does not depend on the rows"),
]


@pytest.mark.parametrize(("condition", "why"), ANY_ROW)
def test_conditions_that_may_hold_on_every_row_are_destructive(condition: str, why: str) -> None:
    result = classify(f"DELETE FROM orders WHERE {condition}")
    assert result.risk is Risk.DESTRUCTIVE, result.reasons
    assert why in result.reasons[0], result.reasons


BOUNDED = [
    "id = 1",
    "id = $1",
    "orders.id = $1::INTEGER",
    "id < 5",
    "id <> 5",
    "id <> id",  # never true: matches no row
    "id < id",
    "id IS DISTINCT FROM id",
    "id IN (1, 2)",
    "id NOT IN (1, 2)",
    "id = 1 OR id = 2",
    "id > 5 OR id < 3",
    "id < 5 OR id > 5",  # not 5 itself
    "id = $1 OR id = $2",
    "id BETWEEN 1 AND 10",
    "id IS NULL",
    "id = NULL",  # never true
    "note LIKE 'a%'",
    "note LIKE $1",
    "truncate_flag",
    "NOT truncate_flag",
    "truncate_flag = false",
    "(id = 5) IS TRUE",
    "(id = 5) IS NOT FALSE",
    "coalesce(id = 5, false)",
    "id = 1 AND id = id",  # one part that bounds bounds them all
    "id = 1 AND 0.5::int = 1",
    "1 = 0 OR id = 1",
    "id < customer_id",
    "id < customer_id OR customer_id < id",  # not when they are equal
    "created_at < now() - interval '30 days'",
    "isfinite(created_at)",
    "CURRENT OF c",
    "id IN (SELECT order_id FROM refunds)",
    "EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = orders.id)",
    "id IN (SELECT id FROM orders WHERE status = 'done')",
    "id IN (SELECT customer_id FROM orders)",
    "CASE WHEN id > 2 THEN true ELSE false END",
    "CASE id WHEN 1 THEN false ELSE true END",
    "CASE WHEN id > 2 THEN true END",
    "NOT CASE WHEN id > 2 THEN false END",  # NULL where no branch is taken
]


@pytest.mark.parametrize("condition", BOUNDED)
def test_conditions_that_bound_the_rows_are_writes(condition: str) -> None:
    result = classify(f"DELETE FROM orders WHERE {condition}")
    assert result.risk is Risk.WRITE, result.reasons
    assert result.reasons == ("DELETE on orders",)


def test_other_relations_in_scope_make_unqualified_columns_unsure() -> None:
    """With FROM/USING (and a MERGE's source) an unqualified column may be the other's."""
    assert classify("DELETE FROM t USING u WHERE tid = 3").risk is Risk.DESTRUCTIVE
    assert classify("DELETE FROM t USING u WHERE t.id = u.tid").risk is Risk.WRITE
    assert classify("UPDATE t SET a = 1 FROM u WHERE b = 1").risk is Risk.DESTRUCTIVE
    assert classify("UPDATE t SET a = 1 FROM u WHERE t.b = 1").risk is Risk.WRITE
    assert classify("UPDATE t SET a = 1 WHERE b = 1").risk is Risk.WRITE
    merge = "MERGE INTO t USING s ON {} WHEN MATCHED THEN DELETE"
    assert classify(merge.format("id = 1")).risk is Risk.DESTRUCTIVE
    assert classify(merge.format("t.id = s.id")).risk is Risk.WRITE
    assert classify(merge.format("t.id = t.id")).risk is Risk.DESTRUCTIVE


def test_an_alias_replaces_the_table_name() -> None:
    assert classify("DELETE FROM orders o WHERE o.id = 1").risk is Risk.WRITE
    assert classify("DELETE FROM orders o WHERE o.id = o.id").risk is Risk.DESTRUCTIVE
    # with an alias, orders.id is no column of the target (the server refuses it)
    assert classify("DELETE FROM orders o WHERE orders.id = 1").risk is Risk.DESTRUCTIVE


def test_a_subquery_rebinding_the_target_name_reads_its_own_rows() -> None:
    inner = "DELETE FROM t WHERE EXISTS (SELECT 1 FROM u AS t WHERE t.x = 1)"
    assert classify(inner).risk is Risk.DESTRUCTIVE
    correlated = "DELETE FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.tid = t.id)"
    assert classify(correlated).risk is Risk.WRITE
    joined = "DELETE FROM t WHERE EXISTS (SELECT 1 FROM u JOIN t ON true WHERE t.id = 1)"
    assert classify(joined).risk is Risk.DESTRUCTIVE


def test_too_many_cases_count_as_every_row() -> None:
    columns = [f"c{i}" for i in range(8)]
    condition = " OR ".join(f"({a} < {b} AND {b} < 0)" for a, b in itertools.pairwise(columns))
    result = classify(f"DELETE FROM t WHERE {condition}")
    assert result.risk is Risk.DESTRUCTIVE
    assert "too complex" in result.reasons[0]
    # long IN lists name finitely many values: never every row, and quick to see
    many = ", ".join(map(str, range(2000)))
    assert classify(f"DELETE FROM t WHERE id IN ({many})").risk is Risk.WRITE


# -- properties

# Conditions over two integer columns and small integers, as SQL and as a Python function of
# the row (SQL's three-valued logic: None is NULL).
_Value = bool | None
_Condition = tuple[str, Callable[[int | None, int | None], _Value]]
_OPS: dict[str, Callable[[int, int], bool]] = {
    "=": lambda x, y: x == y,
    "<>": lambda x, y: x != y,
    "<": lambda x, y: x < y,
    "<=": lambda x, y: x <= y,
    ">": lambda x, y: x > y,
    ">=": lambda x, y: x >= y,
}
_SMALL = st.integers(-3, 3)


def _term(draw: st.DrawFn) -> tuple[str, Callable[[int | None, int | None], int | None]]:
    choice = draw(st.sampled_from(["a", "b", "t.a", "n"]))
    if choice == "n":
        number = draw(_SMALL)
        return str(number), lambda a, b: number
    column = choice[-1]
    return choice, (lambda a, b: a) if column == "a" else (lambda a, b: b)


@st.composite
def _conditions(draw: st.DrawFn, depth: int = 3) -> _Condition:
    kind = draw(
        st.sampled_from(["compare", "null", "in", "between", "not", "and", "or", "case", "is"])
    )
    if depth == 0 or kind in ("compare", "null", "in", "between"):
        left_sql, left = _term(draw)
        if kind == "null":
            negated = draw(st.booleans())
            test = "IS NOT NULL" if negated else "IS NULL"
            return f"{left_sql} {test}", lambda a, b: (left(a, b) is None) != negated
        if kind == "in":
            items = draw(st.lists(_SMALL, min_size=1, max_size=3))
            inside = draw(st.booleans())

            def member(a: int | None, b: int | None) -> _Value:
                value = left(a, b)
                found = None if value is None else value in items
                return found if inside or found is None else not found

            words = "IN" if inside else "NOT IN"
            return f"{left_sql} {words} ({', '.join(map(str, items))})", member
        if kind == "between":
            low, high = sorted(draw(st.lists(_SMALL, min_size=2, max_size=2)))

            def between(a: int | None, b: int | None) -> _Value:
                value = left(a, b)
                return None if value is None else low <= value <= high

            return f"{left_sql} BETWEEN {low} AND {high}", between
        op = draw(st.sampled_from(sorted(_OPS)))
        right_sql, right = _term(draw)

        def compare(a: int | None, b: int | None) -> _Value:
            x, y = left(a, b), right(a, b)
            return None if x is None or y is None else _OPS[op](x, y)

        return f"{left_sql} {op} {right_sql}", compare
    if kind == "not":
        inner_sql, inner = draw(_conditions(depth - 1))
        return f"NOT ({inner_sql})", lambda a, b: _not(inner(a, b))
    if kind == "is":
        inner_sql, inner = draw(_conditions(depth - 1))
        test = draw(st.sampled_from(sorted(_TESTS)))
        return f"({inner_sql}) IS {test}", lambda a, b: _TESTS[test](inner(a, b))
    if kind == "case":
        (when_sql, when), (then_sql, then), (else_sql, otherwise) = (
            draw(_conditions(depth - 1)) for _ in range(3)
        )
        sql = f"CASE WHEN {when_sql} THEN {then_sql} ELSE {else_sql} END"
        return sql, lambda a, b: then(a, b) if when(a, b) is True else otherwise(a, b)
    parts = draw(st.lists(_conditions(depth - 1), min_size=2, max_size=3))
    sql = f" {kind.upper()} ".join(f"({p})" for p, _ in parts)
    join = _all if kind == "and" else _any
    return sql, lambda a, b: join([f(a, b) for _, f in parts])


_TESTS: dict[str, Callable[[_Value], bool]] = {
    "TRUE": lambda v: v is True,
    "NOT TRUE": lambda v: v is not True,
    "FALSE": lambda v: v is False,
    "NOT FALSE": lambda v: v is not False,
    "UNKNOWN": lambda v: v is None,
    "NOT UNKNOWN": lambda v: v is not None,
}


def _not(value: _Value) -> _Value:
    return None if value is None else not value


def _all(values: list[_Value]) -> _Value:
    return False if False in values else (None if None in values else True)


def _any(values: list[_Value]) -> _Value:
    return True if True in values else (None if None in values else False)


_VALUES = range(-5, 6)


@settings(max_examples=2000, deadline=None)
@given(_conditions())
def test_a_condition_true_for_every_value_is_destructive(condition: _Condition) -> None:
    """Brute force over every pair of values near the constants (and NULL): a condition that
    is true for all of them is true on every row of some table, so never a bounded write."""
    sql, holds = condition
    everywhere = all(holds(a, b) is True for a in _VALUES for b in _VALUES)
    if everywhere:
        result = classify(f"DELETE FROM t WHERE {sql}")
        assert result.risk is Risk.DESTRUCTIVE, (sql, result.reasons)


@settings(max_examples=600, deadline=None)
@given(_conditions(), _conditions())
def test_what_may_hold_on_every_row_still_may_when_wrapped(
    first: _Condition, second: _Condition
) -> None:
    base = classify(f"DELETE FROM t WHERE {first[0]}").risk
    if base is not Risk.DESTRUCTIVE:
        return
    for wrapped in (
        f"({first[0]}) OR ({second[0]})",
        f"({second[0]}) OR ({first[0]})",
        f"NOT NOT ({first[0]})",
        f"({first[0]}) IS TRUE",
        f"({first[0]}) AND ({first[0]})",
        f"NOT (NOT ({first[0]}) AND ({second[0]}) IS NULL)",
        f"CASE WHEN {second[0]} THEN {first[0]} ELSE true END",
    ):
        result = classify(f"DELETE FROM t WHERE {wrapped}")
        assert result.risk is Risk.DESTRUCTIVE, (wrapped, result.reasons)


@settings(max_examples=600, deadline=None)
@given(_conditions())
def test_the_plain_shortcut_answers_as_the_full_analysis(condition: _Condition) -> None:
    where = _where(condition[0])
    relation = {"relname": "t", "inh": True, "relpersistence": "p"}
    scope = pg._RowScope(relation, True)
    if pg._plainly_bounded(where, scope):
        assert scope.columns(where)
        assert pg._everywhere(pg._Bounds(scope).formula(where, False), scope) is None
