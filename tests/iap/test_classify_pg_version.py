"""Tests of the PostgreSQL classifier's server version: pglast reads a newer grammar than the
servers the gateway fronts, and syntax newer than the server means something else there (a
call of a function of that name, or a syntax error), so it is unknown.

classify(..., server_version=N) takes PostgreSQL's server_version_num; None reads as 15, the
oldest supported (the strictest reading). Pure: no sockets
(tests/e2e/test_classify_truth_postgres.py shows what PostgreSQL 15 makes of each construct).
"""

from __future__ import annotations

import pglast.ast
import pytest
from pglast.parser import get_postgresql_version, parse_sql_json

from iap.classify import Risk, classify, clear_cache
from iap.classify import postgres as pg

# (statement, the version that added its syntax, its class from then on)
NEWER_SYNTAX: list[tuple[str, int, Risk]] = [
    ("SELECT JSON_OBJECT('a': 1)", 160000, Risk.READ),
    ("SELECT JSON_OBJECT('a' VALUE 1 ABSENT ON NULL)", 160000, Risk.READ),
    ("SELECT JSON_ARRAY(1, 2)", 160000, Risk.READ),
    ("SELECT JSON_ARRAY(SELECT 1)", 160000, Risk.READ),
    ("SELECT JSON_ARRAYAGG(id) FROM t", 160000, Risk.READ),
    ("SELECT JSON_OBJECTAGG(k VALUE v) FROM t", 160000, Risk.READ),
    ("SELECT note IS JSON OBJECT FROM t", 160000, Risk.READ),
    ("SELECT system_user", 160000, Risk.UNKNOWN),  # not in PostgreSQL 15's function list
    ("SELECT 0x1F", 160000, Risk.READ),
    ("SELECT 0o17, 0b101", 160000, Risk.READ),
    ("SELECT 1_000", 160000, Risk.READ),
    ("SELECT 1.000_5", 160000, Risk.READ),
    ("DELETE FROM t WHERE id = 1_000", 160000, Risk.WRITE),
    ("CREATE TABLE z (a text STORAGE plain)", 160000, Risk.DDL),
    ("SELECT xmlserialize(DOCUMENT '<a/>' AS text INDENT)", 160000, Risk.READ),
    ("SELECT json_value(note, '$.a') FROM t", 170000, Risk.READ),
    ("SELECT json_query(note, '$.a' WITH WRAPPER) FROM t", 170000, Risk.READ),
    ("SELECT 1 FROM t WHERE json_exists(note, '$.a')", 170000, Risk.READ),
    ("SELECT json('{}'), json_scalar(1), json_serialize('{}' RETURNING text)", 170000, Risk.READ),
    ("SELECT * FROM JSON_TABLE('[]', '$[*]' COLUMNS (a int PATH '$.a')) AS j", 170000, Risk.READ),
    ("SELECT now() AT LOCAL", 170000, Risk.READ),
    ("SELECT merge_action()", 170000, Risk.READ),
    (
        "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE RETURNING merge_action()",
        170000,
        Risk.WRITE,
    ),
    (
        "MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE",
        170000,
        Risk.DESTRUCTIVE,
    ),
    ("ALTER TABLE t ALTER COLUMN a SET EXPRESSION AS (b + 1)", 170000, Risk.DDL),
    ("CREATE TABLE z (a int GENERATED ALWAYS AS (1) VIRTUAL)", 180000, Risk.DDL),
    ("CREATE TABLE z (a int CHECK (a > 0) NOT ENFORCED)", 180000, Risk.DDL),
    ("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT ENFORCED", 180000, Risk.DDL),
    ("ALTER TABLE t ALTER CONSTRAINT c NOT ENFORCED", 180000, Risk.DDL),
    ("CREATE TABLE z (a int, b int, PRIMARY KEY (a, b WITHOUT OVERLAPS))", 180000, Risk.DDL),
    ("UPDATE t SET a = 1 WHERE id = 1 RETURNING WITH (OLD AS o) o.a", 180000, Risk.WRITE),
]


@pytest.mark.parametrize(("sql", "since", "then"), NEWER_SYNTAX)
def test_syntax_newer_than_the_server_is_unknown(sql: str, since: int, then: Risk) -> None:
    major = since // 10000
    for version in (None, 150018, since - 1):
        result = classify(sql, server_version=version)
        assert result.risk is Risk.UNKNOWN, (version, result.reasons)
        reason = next(r for r in result.reasons if "is syntax of PostgreSQL" in r)
        assert f"PostgreSQL {major} and later" in reason
        shown = 15 if version is None else version // 10000
        assert f"the server runs PostgreSQL {shown}" in reason
    for version in (since, since + 4, pg.PARSER_VERSION):
        result = classify(sql, server_version=version)
        assert result.risk is then, (version, result.reasons)
        assert not any("is syntax of PostgreSQL" in r for r in result.reasons)


@pytest.mark.parametrize(("sql", "since", "then"), NEWER_SYNTAX)
def test_the_fast_paths_know_the_version_too(sql: str, since: int, then: Risk) -> None:
    for version in (None, since):
        fast = pg.classify_postgres(sql, server_version=version)
        assert fast == pg.classify_postgres(sql, server_version=version, fast_path=False)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT json_build_object('a', 1), to_jsonb(note), '{}'::jsonb -> 'a' FROM t",
        "SELECT json_object('{a, b}')",  # PostgreSQL 15's json_object(text[])
        "SELECT now() AT TIME ZONE 'UTC', timezone('UTC', now())",
        "SELECT x1_0, 10, 1.5, 1e3, '0x1F', $1 FROM t",
        'SAVEPOINT "_pg3_1"',
        "CREATE TABLE z (a int CHECK (a > 0) NO INHERIT, b int REFERENCES t NOT VALID)",
        "CREATE DOMAIN d AS int CHECK (VALUE > 0)",
        "ALTER TABLE t ALTER CONSTRAINT c DEFERRABLE",
        "MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED THEN INSERT VALUES (s.id)",
        "SELECT xmlserialize(DOCUMENT '<a/>' AS text)",
        "UPDATE t SET a = 1 WHERE id = 1 RETURNING *",
    ],
)
def test_syntax_postgresql_15_reads_the_same_is_not_flagged(sql: str) -> None:
    result = classify(sql)
    assert not any("is syntax of PostgreSQL" in r for r in result.reasons), result.reasons


def test_every_sql_json_node_is_gated_or_only_inside_one_that_is() -> None:
    """pglast's SQL/JSON nodes are all newer than PostgreSQL 15: each is gated, or can only
    appear inside a gated one. A new pglast that adds one fails here until it is placed."""
    json_nodes = {n for n in dir(pglast.ast) if n.startswith("Json")}
    only_nested = {
        "JsonAggConstructor", "JsonArgument", "JsonBehavior", "JsonFormat", "JsonKeyValue",
        "JsonOutput", "JsonReturning", "JsonTableColumn", "JsonTablePathSpec", "JsonValueExpr",
        # executor nodes, never in a parse tree
        "JsonConstructorExpr", "JsonExpr", "JsonTablePath", "JsonTablePathScan",
        "JsonTablePlan", "JsonTableSiblingJoin",
    }  # fmt: skip
    assert json_nodes - set(pg._NEWER_NODES) <= only_nested
    assert json_nodes & set(pg._NEWER_NODES)


def test_the_gates_match_the_parser_version() -> None:
    major, minor = get_postgresql_version()
    assert major * 10000 + minor == pg.PARSER_VERSION
    newest = max(
        [since for since, _ in pg._NEWER_NODES.values()]
        + [since for fields in pg._NEWER_FIELDS.values() for _, _, since, _ in fields]
    )
    assert newest <= pg.PARSER_VERSION, "a gate for syntax this pglast cannot parse"
    assert pg.OLDEST_SUPPORTED == 150000


def test_servers_older_than_15_are_not_supported() -> None:
    result = classify("SELECT 1", server_version=140011)
    assert result.risk is Risk.UNKNOWN
    assert result.reasons == (
        "server_version 140011 is older than PostgreSQL 15, the oldest supported",
    )


def test_the_cache_keys_on_the_server_version() -> None:
    clear_cache()
    sql = "SELECT json_value(note, '$.a') FROM t"
    assert classify(sql, server_version=170002).risk is Risk.READ
    assert classify(sql).risk is Risk.UNKNOWN
    assert classify(sql, server_version=150018).risk is Risk.UNKNOWN
    assert classify(sql, server_version=170002).risk is Risk.READ


def test_the_version_reaches_sql_run_by_functions_and_planted_bodies() -> None:
    inner = "SELECT query_to_xml('SELECT json_value(''1'', ''$'')', true, false, '')"
    assert classify(inner).risk is Risk.UNKNOWN
    assert classify(inner, server_version=170000).risk is Risk.READ
    planted = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT merge_action() $$"
    assert classify(planted).risk is Risk.UNKNOWN
    assert classify(planted, server_version=170000).risk is Risk.DDL
    atomic = "CREATE FUNCTION f() RETURNS json LANGUAGE sql RETURN JSON_OBJECT('a': 1)"
    assert classify(atomic).risk is Risk.UNKNOWN
    assert classify(atomic, server_version=160000).risk is Risk.DDL


def test_mysql_ignores_a_server_version() -> None:
    assert classify("SELECT 1", "mysql", server_version=80036).risk is Risk.READ


def test_parse_tree_of_a_gated_node_is_what_pglast_gives() -> None:
    """The gates read fields as pglast writes them (a changed layout would silently pass)."""
    assert '"matchKind":"MERGE_WHEN_NOT_MATCHED_BY_SOURCE"' in parse_sql_json(
        "MERGE INTO t USING s ON true WHEN NOT MATCHED BY SOURCE THEN DELETE"
    )
    assert '"generated_kind":"v"' in parse_sql_json(
        "CREATE TABLE z (a int GENERATED ALWAYS AS (1) VIRTUAL)"
    )
    assert '"is_enforced":true' in parse_sql_json("CREATE TABLE z (a int CHECK (a > 0))")
