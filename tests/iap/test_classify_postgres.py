"""Tests of iap.classify for PostgreSQL: classes, reasons, tables, session effects, cache.

Pure: no sockets, except the generator test marked e2e (it needs the real server).
"""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pglast.parser import parse_sql_json, scan

from iap.classify import (
    Classification,
    LexState,
    Risk,
    StatementInfo,
    classify,
    classify_setting,
    clear_cache,
    pg_functions,
    postgres,
)
from iap.classify.pg_plain import classify_plain
from tests.iap import pg_corpus
from tests.iap.pg_corpus import RISKS, A, R, U, W

UNIQUE = pg_corpus.UNIQUE


@pytest.mark.parametrize(("sql", "expected", "note"), [(s, r, n) for s, (r, n) in UNIQUE.items()])
def test_corpus(sql: str, expected: str, note: str) -> None:
    result = classify(sql)
    assert result.risk.value == expected, (note, result.reasons)


def test_corpus_is_consistent_and_large_enough() -> None:
    for sql, risk, note in pg_corpus.ALL:
        assert risk in RISKS, note
        assert UNIQUE[sql][0] == risk, f"{sql!r} has two expected classes"
    counts = {risk: sum(1 for r, _ in UNIQUE.values() if r == risk) for risk in RISKS}
    assert len(UNIQUE) >= 150 and min(counts.values()) >= 10, counts
    assert sum(1 for _, r, _ in pg_corpus.SCARY_READS if r == R) >= 25
    tools = [*pg_corpus.PSQL, *pg_corpus.PGJDBC, *pg_corpus.SQLALCHEMY_REFLECTION]
    tools += [*pg_corpus.PSYCOPG, *pg_corpus.ASYNCPG]
    assert all(r == R for _, r, _ in tools)
    assert all(r in (R, W) for _, r, _ in pg_corpus.ORM)


@pytest.mark.parametrize(("sql", "expected", "note"), pg_corpus.CLIENT_TRAFFIC)
def test_client_traffic_is_never_held(sql: str, expected: str, note: str) -> None:
    """Reads with no reason to hold, and the ORM's writes bounded by their WHERE."""
    result = classify(sql)
    assert result.risk.value == expected, (note, result.reasons)
    if expected == R:
        assert result.reasons == (), note


@pytest.mark.parametrize(("source", "sql"), pg_corpus.PSQL_E, ids=[s for s, _ in pg_corpus.PSQL_E])
def test_psql_introspection_names_catalog_tables(source: str, sql: str) -> None:
    result = classify(sql)
    assert all(t.startswith("pg_catalog.") or "." not in t for t in result.statements[0].tables)


def test_installed_asyncpg_introspection_is_read() -> None:
    """The introspection queries of the installed asyncpg (they follow its version)."""
    introspection = pytest.importorskip("asyncpg.introspection")
    for sql in (
        introspection.INTRO_LOOKUP_TYPES,
        introspection.INTRO_LOOKUP_TYPES_13,
        introspection.TYPE_BY_NAME,
    ):
        result = classify(sql)
        assert result.risk is Risk.READ, (sql[:60], result.reasons)


# -- reasons, kinds and tables


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("DROP TABLE public.orders", "DROP TABLE public.orders"),
        ("DROP SCHEMA app CASCADE", "DROP SCHEMA app CASCADE"),
        ("DELETE FROM orders", "DELETE without WHERE on orders"),
        ("UPDATE s.orders SET a = 1", "UPDATE without WHERE on s.orders"),
        ("DELETE FROM orders WHERE 1 = 1", "DELETE with an always-true WHERE on orders"),
        ("DELETE FROM t USING u WHERE u.x", "DELETE whose WHERE does not depend on the rows of t"),
        ("WITH d AS (DELETE FROM t WHERE id = 1) SELECT 1", "data-modifying CTE inside SELECT"),
        ("SELECT my_cleanup()", "unknown function my_cleanup()"),
        ("SELECT myschema.now()", "unknown function myschema.now()"),
        ("SELECT pg_terminate_backend(1)", "pg_terminate_backend() ends another session"),
        ("SELECT nextval('s')", "nextval() advances a sequence"),
        ("TRUNCATE orders", "TRUNCATE TABLE orders"),
        ("ALTER TABLE orders DROP COLUMN note", "ALTER TABLE orders DROP COLUMN note"),
        ("GRANT SELECT ON orders TO bob", "GRANT SELECT ON orders TO bob"),
        ("SET ROLE postgres", "SET role changes the database identity"),
        (
            "SELECT set_config('role', 'x', false)",
            "set_config('role', ...) changes the database identity",
        ),
        ("EXPLAIN ANALYZE DELETE FROM t WHERE id = 1", "EXPLAIN ANALYZE runs the statement"),
        ("COPY t FROM PROGRAM 'id'", "COPY FROM PROGRAM runs 'id' on the server"),
        ("SELECT * FROM t FOR UPDATE", "SELECT ... FOR UPDATE locks rows"),
        ("EXECUTE nope", "EXECUTE of unknown prepared statement nope"),
        ("CALL p()", "CALL p() runs a procedure"),
        ("DO $$ BEGIN END $$", "DO runs a block of procedural code"),
        ("SELECT * INTO t2 FROM t", "SELECT INTO creates table t2"),
    ],
)
def test_reason(sql: str, reason: str) -> None:
    assert reason in classify(sql).reasons


def test_parse_error_reason_quotes_the_parser() -> None:
    result = classify("SELECT * FORM orders")
    assert result.statements == ()
    assert result.reasons == ('could not parse: syntax error at or near "FORM", at index 9',)


def test_unrecognised_node_fails_closed() -> None:
    # PL/pgSQL assignment only parses in plpgsql mode; feed the walker a node it never sees.
    classifier = postgres._Classifier(LexState(), None, frozenset())
    classifier.statement({"SelectStmt": {"targetList": [{"Var": {"varno": 1}}]}})
    result = classifier.result()
    assert result.risk is Risk.UNKNOWN
    assert result.reasons == ("unrecognised syntax: Var",)


def test_every_statement_node_is_classified() -> None:
    import pglast.ast

    statements = {n for n in dir(pglast.ast) if n.endswith("Stmt")}
    deliberately_unknown = {"PLAssignStmt", "RawStmt", "SetOperationStmt"}
    known = set(postgres._HANDLERS) | set(postgres._FIXED) | postgres._PLAIN
    assert statements - known == deliberately_unknown


@pytest.mark.parametrize(
    ("sql", "kinds"),
    [
        ("SELECT 1", ["SELECT"]),
        ("DROP TABLE t", ["DROP TABLE"]),
        ("DROP MATERIALIZED VIEW mv", ["DROP MATERIALIZED VIEW"]),
        ("DROP USER bob", ["DROP ROLE"]),
        ("INSERT INTO t VALUES (1)", ["INSERT"]),
        ("SET x.y = 1; RESET ALL", ["SET", "RESET"]),
        ("CREATE INDEX ON t (a)", ["CREATE INDEX"]),
        ("CREATE TABLE t AS SELECT 1", ["CREATE TABLE AS"]),
        ("SELECT 1 INTO t", ["SELECT INTO"]),
        ("ALTER INDEX i RENAME TO j", ["ALTER INDEX"]),
        ("ALTER TABLE t RENAME COLUMN a TO b", ["ALTER TABLE"]),
        (
            "BEGIN; COMMIT; START TRANSACTION; ROLLBACK TO s",
            ["BEGIN", "COMMIT", "START TRANSACTION", "ROLLBACK"],
        ),
        ("VACUUM t; ANALYZE t", ["VACUUM", "ANALYZE"]),
        (
            "DISCARD ALL; DEALLOCATE ALL; CLOSE ALL",
            ["DISCARD ALL", "DEALLOCATE ALL", "CLOSE CURSOR ALL"],
        ),
        ("CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'", ["CREATE PROCEDURE"]),
        ("GRANT a TO b; REVOKE SELECT ON t FROM b", ["GRANT ROLE", "REVOKE"]),
        ("EXPLAIN SELECT 1; SHOW ALL; TRUNCATE t", ["EXPLAIN", "SHOW", "TRUNCATE TABLE"]),
    ],
)
def test_command_tags(sql: str, kinds: list[str]) -> None:
    assert [s.kind for s in classify(sql).statements] == kinds


def test_tables_are_named_as_written() -> None:
    result = classify(
        "WITH recent AS (SELECT * FROM sales.orders) "
        'SELECT * FROM recent JOIN "Customers" c ON true, db.public.items'
    )
    assert result.statements[0].tables == ("sales.orders", "Customers", "db.public.items")
    assert classify("DROP TABLE a, s.b").statements[0].tables == ("a", "s.b")
    assert classify("UPDATE t SET a = 1 FROM u WHERE u.id = t.id").statements[0].tables == (
        "t",
        "u",
    )


def test_multi_statement_takes_the_highest_class() -> None:
    result = classify("BEGIN; DROP TABLE t; ROLLBACK")
    assert result.risk is Risk.DESTRUCTIVE
    assert [s.risk for s in result.statements] == [Risk.READ, Risk.DESTRUCTIVE, Risk.READ]
    assert result.reasons == ("DROP TABLE t",)


def test_empty_query_is_read_without_statements() -> None:
    for sql in ("", "  ", ";", "-- just a comment", "/* c */ ; ;"):
        result = classify(sql)
        assert (result.risk, result.statements, result.reasons) == (Risk.READ, (), ())


def test_to_json_shape() -> None:
    assert classify("SELECT 1; DELETE FROM public.orders").to_json() == {
        "risk": "destructive",
        "statements": [
            {"kind": "SELECT", "risk": "read", "tables": [], "reasons": []},
            {
                "kind": "DELETE",
                "risk": "destructive",
                "tables": ["public.orders"],
                "reasons": ["DELETE without WHERE on public.orders"],
            },
        ],
        "reasons": ["DELETE without WHERE on public.orders"],
    }


def test_result_types() -> None:
    result = classify("SELECT 1")
    assert isinstance(result, Classification)
    assert isinstance(result.statements[0], StatementInfo)
    assert result.risk == "read" and result.risk.value == "read"


# -- functions


def test_safe_functions_are_vouched_for_as_written() -> None:
    assert classify("SELECT my_cleanup()", safe_functions=frozenset({"my_cleanup"})).risk == R
    vouched = frozenset({"app.score"})
    assert classify("SELECT app.score(1)", safe_functions=vouched).risk is Risk.READ
    assert classify("SELECT score(1)", safe_functions=vouched).risk is Risk.UNKNOWN
    assert classify("CALL app.score()", safe_functions=vouched).risk is Risk.READ
    # a vouched name cannot make a dangerous built-in or extension function safe
    danger = frozenset({"pg_terminate_backend", "dblink_exec"})
    assert classify("SELECT pg_terminate_backend(1)", safe_functions=danger).risk is Risk.ADMIN
    assert classify("SELECT dblink_exec('x', 'y')", safe_functions=danger).risk is Risk.ADMIN


def test_generated_function_list() -> None:
    safe = pg_functions.PG_CATALOG_SAFE
    assert {"now", "lower", "count", "array_agg", "row_number", "pg_table_is_visible"} <= safe
    assert not {"random", "nextval", "set_config", "pg_terminate_backend"} & safe
    curated = (
        pg_functions.ADMIN_FUNCTIONS.keys()
        | pg_functions.WRITE_FUNCTIONS.keys()
        | pg_functions.DDL_FUNCTIONS.keys()
    )
    assert not curated & safe
    assert not curated & pg_functions.HARMLESS_VOLATILE.keys()


def test_function_risk_resolves_schemas() -> None:
    assert pg_functions.function_risk(("now",)) == (Risk.READ, "")
    assert pg_functions.function_risk(("pg_catalog", "now")) == (Risk.READ, "")
    assert pg_functions.function_risk(("mydb", "pg_catalog", "now")) == (Risk.READ, "")
    assert pg_functions.function_risk(("app", "now"))[0] is Risk.UNKNOWN
    assert pg_functions.function_risk(("app", "nextval"))[0] is Risk.UNKNOWN
    assert pg_functions.function_risk(("ext", "dblink_connect"))[0] is Risk.ADMIN


@pytest.mark.e2e
def test_generator_matches_the_server(tmp_path: os.PathLike[str]) -> None:
    """Regenerate against the real server; the committed list must match its version."""
    from iap.classify import gen_pg_functions

    pytest.importorskip("psycopg")
    dsn = os.environ.get("IAP_TEST_PG_DSN", "host=127.0.0.1 user=postgres dbname=postgres")
    try:
        version, names = gen_pg_functions.fetch(dsn)
    except Exception as e:  # no server here: the rest of the suite does not need one
        pytest.skip(f"no PostgreSQL at {dsn}: {e}")
    assert {"now", "count", "pg_table_is_visible"} <= set(names)
    assert "random" not in names and "nextval" not in names
    committed = gen_pg_functions.OUTPUT.read_text()
    match = re.search(r"from PostgreSQL (.+) on \d{4}-\d{2}-\d{2}\.", committed)
    assert match, "the header names the server version"
    if match.group(1) == version:
        assert frozenset(names) == pg_functions.PG_CATALOG_SAFE


# -- settings and lexing state


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("application_name", "psql", R),
        ("DateStyle", "ISO, MDY", R),
        ("TimeZone", "UTC", R),
        ("extra_float_digits", "3", R),
        ("client_encoding", "UTF8", R),
        ("client_encoding", "win1252", R),
        ("client_encoding", "SJIS", A),
        ("client_encoding", "Shift-JIS", A),
        ("client_encoding", "big5", A),
        ("client_encoding", "GB18030", A),
        ("client_encoding", "utf-16", A),
        ("search_path", '"$user", public', R),
        ("search_path", "public", R),
        ("search_path", "pg_catalog, public", R),
        ("search_path", "public, pg_catalog", A),
        ("search_path", 'public, "pg_catalog"', A),
        ("search_path", 'unterminated, "x', A),
        ("standard_conforming_strings", "on", R),
        ("standard_conforming_strings", "off", A),
        ("jit", None, R),
        ("search_path", None, A),
        ("role", "postgres", A),
        ("session_authorization", "postgres", A),
        ("replication", "database", A),
        ("log_statement", "none", A),
        ("statement_timeout", "0", R),
    ],
)
def test_classify_setting(name: str, value: str | None, expected: str) -> None:
    result = classify_setting(name, value)
    assert result.risk.value == expected, result.reasons
    assert [s.kind for s in result.statements] == ["SET"]


def test_split_setting_list() -> None:
    assert postgres.split_setting_list('"$user", Public') == ("$user", "public")
    assert postgres.split_setting_list('"A""b" ,c') == ('A"b', "c")
    assert postgres.split_setting_list("a b") is None
    assert postgres.split_setting_list("a,,b") is None


@pytest.mark.parametrize(
    ("sql", "state", "expected"),
    [
        ("SELECT 'a\\b'", LexState(), R),
        ("SELECT 'a\\b'", LexState(standard_conforming_strings=False), U),
        ("SELECT 'a\\b'", LexState(standard_conforming_strings=None), U),
        ("SELECT E'a\\nb'", LexState(standard_conforming_strings=False), U),
        ("SELECT 'plain'", LexState(standard_conforming_strings=False), R),
        ("SELECT 'plain'", LexState(standard_conforming_strings=None, client_encoding=None), R),
        ("SELECT 'é'", LexState(), R),
        ("SELECT 'é'", LexState(client_encoding="LATIN1"), R),
        ("SELECT 'é'", LexState(client_encoding="SJIS"), U),
        ("SELECT 'é'", LexState(client_encoding="shift_jis"), U),
        ("SELECT 'é'", LexState(client_encoding="MSKANJI"), U),
        ("SELECT 'é'", LexState(client_encoding="BIG5"), U),
        ("SELECT 'é'", LexState(client_encoding="GBK"), U),
        ("SELECT 'é'", LexState(client_encoding="windows936"), U),
        ("SELECT 'é'", LexState(client_encoding="GB18030"), U),
        ("SELECT 'é'", LexState(client_encoding="WIN932"), U),
        ("SELECT 'é'", LexState(client_encoding="WIN936"), U),
        ("SELECT 'é'", LexState(client_encoding="SHIFT_JIS_2004"), U),
        ("SELECT 'é'", LexState(client_encoding="UHC"), U),
        ("SELECT 'é'", LexState(client_encoding="JOHAB"), U),
        ("SELECT 'é'", LexState(client_encoding="EUC_JIS_2004"), R),
        ("SELECT 'é'", LexState(client_encoding="WIN1252"), R),
        ("SELECT E'\\x'", LexState(client_encoding="SJIS"), R),
        ("SELECT $$a\\b$$", LexState(standard_conforming_strings=False), U),
        ("SELECT 'é'", LexState(client_encoding=None), U),
        ("SELECT 'e'", LexState(client_encoding="SJIS"), R),
        ("SELECT 1\x00; DROP TABLE t", LexState(), U),
    ],
)
def test_lex_state(sql: str, state: LexState, expected: str) -> None:
    result = classify(sql, state=state)
    assert result.risk.value == expected, result.reasons


def test_lex_state_reasons() -> None:
    off = classify("SELECT '\\'", state=LexState(standard_conforming_strings=False))
    assert off.reasons[0].startswith("standard_conforming_strings is off")
    sjis = classify("SELECT 'é'", state=LexState(client_encoding="SJIS"))
    assert sjis.reasons[0].startswith("client_encoding is SJIS")


# -- prepared statements and session effects


def test_prepare_records_the_class_it_will_run_with() -> None:
    result = classify("PREPARE del (int) AS DELETE FROM orders")
    assert result.risk is Risk.READ
    assert result.prepares == (("del", Risk.DESTRUCTIVE),)
    assert result.statements[0].tables == ("orders",)
    assert classify("PREPARE q AS SELECT 1").prepares == (("q", Risk.READ),)


def test_deallocate_and_discard() -> None:
    assert classify("DEALLOCATE q").deallocates == ("q",)
    assert classify("DEALLOCATE PREPARE q").deallocate_all is False
    assert classify("DEALLOCATE ALL").deallocate_all is True
    assert classify("DISCARD ALL").deallocate_all is True
    assert classify("DISCARD PLANS").deallocate_all is False


def test_session_effects_are_the_net_effect_of_the_string() -> None:
    result = classify("PREPARE a AS SELECT 1; DEALLOCATE ALL; PREPARE b AS DELETE FROM t")
    assert result.deallocate_all is True
    assert result.prepares == (("b", Risk.DESTRUCTIVE),)
    result = classify("PREPARE a AS SELECT 1; DEALLOCATE a; DEALLOCATE c")
    assert (result.prepares, result.deallocates) == ((), ("a", "c"))


def test_execute_takes_the_prepared_class() -> None:
    prepared = {"ins": Risk.WRITE, "wipe": Risk.DESTRUCTIVE, "q": Risk.READ}
    assert classify("EXECUTE q", prepared=prepared).risk is Risk.READ
    assert classify("EXECUTE ins(1, 'a')", prepared=prepared).risk is Risk.WRITE
    wipe = classify("EXECUTE wipe", prepared=prepared)
    assert (wipe.risk, wipe.executes) == (Risk.DESTRUCTIVE, ("wipe",))
    assert classify("EXECUTE other", prepared=prepared).risk is Risk.UNKNOWN
    assert classify("EXPLAIN ANALYZE EXECUTE wipe", prepared=prepared).risk is Risk.DESTRUCTIVE
    assert classify("CREATE TABLE t AS EXECUTE q", prepared=prepared).risk is Risk.DDL
    assert classify("EXECUTE q(my_fn())", prepared=prepared).risk is Risk.UNKNOWN


def test_execute_sees_earlier_statements_of_the_same_string() -> None:
    assert classify("PREPARE p AS DELETE FROM t; EXECUTE p").risk is Risk.DESTRUCTIVE
    prepared = {"p": Risk.READ}
    assert classify("DEALLOCATE p; EXECUTE p", prepared=prepared).risk is Risk.UNKNOWN
    assert classify("DISCARD ALL; EXECUTE p", prepared=prepared).risk is Risk.UNKNOWN


def test_execute_is_never_served_from_the_cache_with_another_map() -> None:
    clear_cache()
    assert classify("EXECUTE p", prepared={"p": Risk.READ}).risk is Risk.READ
    assert classify("EXECUTE p", prepared={"p": Risk.ADMIN}).risk is Risk.ADMIN
    assert classify("EXECUTE p").risk is Risk.UNKNOWN
    assert classify("EXECUTE p", prepared={"p": Risk.WRITE}).risk is Risk.WRITE


# -- the cache


def test_cache_keys_on_exact_text_not_fingerprint() -> None:
    clear_cache()
    assert classify("DELETE FROM t WHERE 1 = 0").risk is Risk.WRITE
    assert classify("DELETE FROM t WHERE 1 = 1").risk is Risk.DESTRUCTIVE
    assert classify("SELECT set_config('application_name', 'x', false)").risk is Risk.READ
    assert classify("SELECT set_config('role', 'x', false)").risk is Risk.ADMIN


def test_cache_keys_on_state_and_safe_functions() -> None:
    clear_cache()
    sql = "SELECT 'a\\b', f()"
    vouched = frozenset({"f"})
    assert classify(sql, safe_functions=vouched).risk is Risk.READ
    assert classify(sql, state=LexState(standard_conforming_strings=False)).risk is Risk.UNKNOWN
    assert classify(sql, safe_functions=vouched).risk is Risk.READ
    assert classify(sql).risk is Risk.UNKNOWN
    assert classify(sql, safe_functions=vouched, state=LexState(None, None)).risk == U


def test_cache_serves_repeats() -> None:
    clear_cache()
    first = classify("SELECT abalance FROM pgbench_accounts WHERE aid = 1")
    assert classify("SELECT abalance FROM pgbench_accounts WHERE aid = 1") is first
    long_sql = "SELECT 1" + " " * 20_000
    assert classify(long_sql) is not classify(long_sql)  # too long to keep
    assert classify(long_sql).risk is Risk.READ


def test_deep_nesting_fails_closed() -> None:
    deep = " || ".join(["'a'"] * 3000)
    for sql in (f"SELECT {deep} FROM t FOR UPDATE", f"DELETE FROM t WHERE x = {deep}"):
        result = classify(sql)
        assert result.risk is Risk.UNKNOWN
        assert result.reasons == ("the statement nests too deeply to classify",)
    # A plain read is read from the parser's text without a walk, however deep.
    assert classify(f"SELECT {deep}").risk is Risk.READ
    assert postgres.classify_postgres(f"SELECT {deep}", fast_path=False).risk is Risk.UNKNOWN


# -- the fast path for plain reads


def _both_paths(sql: str, safe: frozenset[str] = frozenset()) -> tuple[Classification, ...]:
    fast = postgres.classify_postgres(sql, safe_functions=safe)
    return fast, postgres.classify_postgres(sql, safe_functions=safe, fast_path=False)


@pytest.mark.parametrize("sql", list(UNIQUE))
def test_fast_path_agrees_with_the_walk(sql: str) -> None:
    fast, walk = _both_paths(sql)
    assert fast == walk


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT abalance FROM pgbench_accounts WHERE aid = 35203;",
        'SELECT a."b c", t.* FROM ONLY s.t AS a("b c", d) JOIN "Ünï" u ON true, db.s."x\\y"',
        "WITH q AS (SELECT 1) SELECT * FROM q, q2 WHERE EXISTS (SELECT 1 FROM q)",
        "SELECT count(*), pg_catalog.lower(x), information_schema._pg_expandarray(a) FROM t",
        "SELECT 1 FROM t TABLESAMPLE system (1) REPEATABLE (2), LATERAL (SELECT 2) AS l",
        "SELECT x FROM t UNION ALL SELECT y FROM u ORDER BY 1 LIMIT 5 OFFSET $1",
        # literals that look like the parser's JSON are still only literals
        'SELECT \'x"FuncCall":{\', \'{"RangeVar":{"relname":"x"}}\'',
    ],
)
def test_fast_path_answers_plain_reads(sql: str) -> None:
    fast = postgres._fast_read(parse_sql_json(sql), frozenset())
    assert fast is not None
    assert fast == postgres.classify_postgres(sql, fast_path=False)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * INTO t2 FROM t",
        "SELECT 1; SELECT 2",
        "SELECT * FROM t FOR UPDATE",
        "SELECT nextval('s')",
        "SELECT my_fn()",
        "SELECT set_config('application_name', 'x', false)",
        "SELECT query_to_xml('SELECT 1', true, false, '')",
        "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
        "UPDATE t SET a = 1 WHERE id = 2",
        "SELECT 1; INSERT INTO t VALUES (1)",
        "EXPLAIN SELECT 1",
    ],
)
def test_fast_path_leaves_the_rest_to_the_walk(sql: str) -> None:
    assert postgres._fast_read(parse_sql_json(sql), frozenset()) is None


# Words plain statements may be built of: plain names, and keywords standing as names.
_NAMES = ["aid", "abalance", "t", "Public", "pgbench_accounts", "x_1", "_y", "Mixed"]
_KEYWORDS_AS_NAMES = [
    "name", "user", "current_user", "select", "from", "where", "and", "or", "not", "null",
    "true", "limit", "order", "values", "left", "for", "update", "into", "table", "set",
    "session_user", "current_timestamp", "default", "returning",
]  # fmt: skip
_PLAIN_WORDS = st.sampled_from(_NAMES * 8 + _KEYWORDS_AS_NAMES)  # mostly names: most match
_SPACE = st.sampled_from([" ", "  ", "\t", "\n", " \r\n "])
_NUMBERS = st.sampled_from(["1", "-2", "3.5", "12345", "0"])


@st.composite
def _plain_statements(draw: st.DrawFn) -> str:
    def sp() -> str:
        return draw(_SPACE)

    def name(qualified: bool = True) -> str:
        word = draw(_PLAIN_WORDS)
        return f"{word}.{draw(_PLAIN_WORDS)}" if qualified and draw(st.booleans()) else word

    def conditions(least: int) -> str:
        found = [
            f"{name()} {draw(st.sampled_from(['=', '<>', '!=', '<=', '>=', '<', '>']))}"
            f" {draw(_NUMBERS)}"
            for _ in range(draw(st.integers(least, 3)))
        ]
        return f"{sp()}WHERE{sp()}" + f"{sp()}AND{sp()}".join(found) if found else ""

    kind = draw(st.sampled_from(["SELECT", "UPDATE", "INSERT"]))
    if kind == "SELECT":
        columns = draw(st.lists(st.one_of(st.just("*"), st.builds(name)), min_size=1, max_size=3))
        sql = f"SELECT{sp()}{', '.join(columns)}{sp()}FROM{sp()}{name()}{conditions(0)}"
    elif kind == "UPDATE":
        items = [
            f"{name(False)} = "
            + draw(st.sampled_from([draw(_NUMBERS), f"{name(False)} + {draw(_NUMBERS)}"]))
            for _ in range(draw(st.integers(1, 3)))
        ]
        where = conditions(draw(st.integers(0, 1)))
        sql = f"UPDATE{sp()}{name()}{sp()}SET{sp()}{', '.join(items)}{where}"
    else:
        count = draw(st.integers(1, 4))
        values = draw(
            st.lists(
                st.one_of(
                    _NUMBERS,
                    st.sampled_from(["CURRENT_TIMESTAMP", "LOCALTIMESTAMP", "DEFAULT", "now()"]),
                ),
                min_size=count,
                max_size=count,
            )
        )
        columns = (
            f" ({', '.join(name(False) for _ in range(count))})" if draw(st.booleans()) else ""
        )
        sql = f"INSERT{sp()}INTO{sp()}{name()}{columns}{sp()}VALUES{sp()}({', '.join(values)})"
    return sql + draw(st.sampled_from(["", ";", " ;\n", ";;", "; SELECT 1", " RETURNING *"]))


@settings(max_examples=600, deadline=None)
@given(_plain_statements())
def test_the_plain_reading_answers_as_the_walk_or_not_at_all(sql: str) -> None:
    plain = classify_plain(sql)
    if plain is not None:
        assert plain == postgres.classify_postgres(sql, fast_path=False)


def test_the_plain_reading_takes_pgbench_and_declines_the_rest() -> None:
    for sql in (
        "SELECT abalance FROM pgbench_accounts WHERE aid = 35203;",
        "UPDATE pgbench_accounts SET abalance = abalance + -2361 WHERE aid = 78416;",
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime)"
        " VALUES (42, 3, 78416, -2361, CURRENT_TIMESTAMP);",
    ):
        plain = classify_plain(sql)
        assert plain is not None and plain == postgres.classify_postgres(sql, fast_path=False)
    # A name without parentheses is a column, never a call.
    nextval = classify_plain("SELECT nextval FROM t WHERE nextval = 1")
    assert nextval is not None and nextval.risk is Risk.READ
    for sql in (
        "SELECT a FROM t WHERE a = 1 OR 1 = 1",
        "SELECT a FROM t FOR UPDATE",
        "SELECT a INTO b FROM t",
        "SELECT a FROM t; DROP TABLE t",
        "SELECT a FROM t -- x",
        "SELECT current_user FROM t",
        "SELECT a FROM t WHERE a = 'x'",
        "SELECT nextval('s') FROM t",
        "UPDATE t SET a = 1",  # no WHERE: destructive, left to the walk
        "UPDATE t SET a = a WHERE true",
        "UPDATE t SET a = 1 WHERE id = id",
        "UPDATE t SET a = f(1) WHERE id = 1",
        "INSERT INTO t SELECT * FROM u",
        "INSERT INTO t VALUES (nextval('s'))",
        "INSERT INTO t VALUES (1) RETURNING *",
    ):
        assert classify_plain(sql) is None, sql


def test_fast_path_honours_vouched_functions() -> None:
    vouched = frozenset({"app.score"})
    fast, walk = _both_paths("SELECT app.score(1) FROM t", vouched)
    assert fast == walk and fast.risk is Risk.READ


def test_other_dialects() -> None:
    """The dialect routes to its own classifier (MySQL's is tested in its own module)."""
    assert isinstance(classify("SELECT 1", "mysql"), Classification)
    assert isinstance(classify_setting("sql_mode", "ANSI_QUOTES", "mysql"), Classification)
    # the cache keys on the dialect: PostgreSQL's answer is never served for MySQL
    clear_cache()
    assert classify("SELECT pg_terminate_backend(1)").risk is Risk.ADMIN
    assert classify("SELECT pg_terminate_backend(1)", "mysql").risk is not Risk.READ
    with pytest.raises(ValueError, match="unknown dialect"):
        classify("SELECT 1", "oracle")
    with pytest.raises(ValueError, match="unknown dialect"):
        classify_setting("x", "y", "oracle")


# -- Risk


def test_risk_order() -> None:
    assert [r.rank for r in Risk] == [0, 1, 2, 3, 4, 4]
    assert Risk.highest([]) is Risk.READ
    assert Risk.highest([Risk.WRITE, Risk.READ]) is Risk.WRITE
    assert Risk.highest([Risk.ADMIN, Risk.UNKNOWN]) is Risk.UNKNOWN
    assert Risk.highest([Risk.UNKNOWN, Risk.ADMIN]) is Risk.UNKNOWN
    assert Risk.highest([Risk.DESTRUCTIVE, Risk.ADMIN, Risk.DDL]) is Risk.ADMIN


# -- property: spelling never lowers the class

RISKY = [
    "DROP TABLE public.orders",
    "DELETE FROM orders WHERE 1 = 1",
    "DELETE FROM orders",
    "UPDATE orders SET note = NULL WHERE id = id",
    "TRUNCATE orders",
    "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
    "EXPLAIN (FORMAT JSON, ANALYZE) DELETE FROM orders",
    "SELECT set_config('role', 'postgres', false)",
    "SELECT set_config('search_path', 'evil, pg_catalog', false)",
    "SELECT pg_catalog.pg_terminate_backend(pid) FROM pg_stat_activity",
    "GRANT ALL ON orders TO bob",
    "ALTER TABLE orders DROP COLUMN note",
    "COPY orders TO PROGRAM 'curl x'",
    "SET search_path = public, pg_catalog",
    "INSERT INTO orders VALUES (1, 'x')",
    "SELECT * FROM orders FOR UPDATE",
    "CREATE INDEX ON orders (note)",
    "BEGIN; DROP TABLE t; ROLLBACK",
    "SELECT my_cleanup()",
    # dollar quotes, nested comments and escapes around what is risky
    "DO $$ BEGIN DELETE FROM orders; END $$",
    "DO $body$ BEGIN PERFORM 1; END $body$",
    "SELECT set_config('role', $q$postgres$q$, false)",
    "CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS $py$ return 1 $py$",
    "SELECT $a$ ; $b$ $a$; DELETE FROM orders",
    "SELECT 1 /* /* nested */ still a comment */; DROP TABLE t",
    "SELECT E'\\'', 'x'; TRUNCATE orders",
    "SELECT U&'!0041' UESCAPE '!'; GRANT ALL ON t TO bob",
    "COPY (SELECT $$x$$) TO PROGRAM $cmd$curl x$cmd$",
]
# Reads stay reads however they are spelled (and the fast path agrees with the walk).
BENIGN = [
    "SELECT 'DROP TABLE t; DELETE FROM orders' AS note",
    "SELECT $$DELETE FROM orders$$, $x$; TRUNCATE t$x$ FROM orders WHERE id = 1",
    "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id LIMIT 5",
    "SELECT pg_catalog.lower(note) FROM orders /* DROP */ WHERE note LIKE '%drop%'",
]
_KEYWORD_KINDS = {"UNRESERVED_KEYWORD", "COL_NAME_KEYWORD", "TYPE_FUNC_NAME_KEYWORD",
                  "RESERVED_KEYWORD"}  # fmt: skip
_SEPARATORS = [
    " ", "  ", "\n", "\t", "\r\n", "\f", "/**/", "/* x */", "/* DROP /* nested */ TABLE */",
    "/* $$ */", "/* $q$ /* ' */ $q$ */", "/* ' \" */", "-- c\n", "-- $$ ' /*\n",
]  # fmt: skip
_DOLLAR_TAGS = ["", "q", "x_1", "DROP", "_"]


def _requoted(draw: st.DrawFn, literal: str) -> str:
    """A plain '...' literal as the same string in another quoting: $tag$, E'' or U&''."""
    value = literal[1:-1].replace("''", "'")
    if "\\" in value or not value.isascii():
        return literal
    form = draw(st.sampled_from(["plain", "dollar", "escape", "unicode"]))
    if form == "dollar":
        tag = f"${draw(st.sampled_from(_DOLLAR_TAGS))}$"
        return literal if tag in value or value.endswith("$") else f"{tag}{value}{tag}"
    if form == "escape":
        return "E" + literal
    if form == "unicode":
        return "U&" + literal
    return literal


@st.composite
def respelled(draw: st.DrawFn, statements: list[str]) -> tuple[str, str]:
    """A statement and the same statement with comments, whitespace, case and quoting changed
    between and in its tokens (never inside a string, comment or quoted name)."""
    sql = draw(st.sampled_from(statements))
    pieces: list[str] = []
    position = 0
    previous = ""
    for token in scan(sql):
        gap = sql[position : token.start]
        extra = draw(st.lists(st.sampled_from(_SEPARATORS), max_size=2))
        pieces.append(gap + "".join(extra) if gap or extra else gap)
        text = sql[token.start : token.end + 1]
        plain_word = token.kind in _KEYWORD_KINDS or (token.name == "IDENT" and text[0] != '"')
        if plain_word and draw(st.booleans()):
            text = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in text)
        elif token.name == "SCONST" and text.startswith("'") and previous != "UESCAPE":
            text = _requoted(draw, text)  # (UESCAPE takes a plain literal only)
        pieces.append(text)
        position, previous = token.end + 1, token.name
    pieces.append(sql[position:] + "".join(draw(st.lists(st.sampled_from(_SEPARATORS)))))
    return sql, "".join(pieces)


@settings(max_examples=400, deadline=None)
@given(respelled(RISKY))
def test_respelling_never_lowers_the_class(pair: tuple[str, str]) -> None:
    original, variant = pair
    before, after = classify(original), classify(variant)
    assert after.risk.rank >= before.risk.rank, (variant, after.reasons)
    assert after.risk is before.risk, (variant, after.reasons)


@settings(max_examples=200, deadline=None)
@given(respelled(BENIGN))
def test_respelling_keeps_reads_read(pair: tuple[str, str]) -> None:
    original, variant = pair
    assert classify(original).risk is Risk.READ
    fast, walk = _both_paths(variant)
    assert fast.risk is Risk.READ, (variant, fast.reasons)
    assert fast == walk, variant
