"""Tests of code-planting DDL in the PostgreSQL classifier: statements that leave code which
later runs inside reads and bounded writes (functions, procedures, triggers, rules, event
triggers, aggregates, operators, casts, types, views, defaults) take at least the class of
what that code may do; code the gateway cannot read is admin.

Pure: no sockets (tests/e2e/test_classify_truth_postgres.py runs the corpus's cases).
"""

from __future__ import annotations

import json

import pytest
from pglast.parser import ParseError, parse_sql_json

from iap.classify import Risk, classify
from tests.iap import pg_corpus

SQL_FUNCTION = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body${}$body$"
ATOMIC_FUNCTION = "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC {}; END"
SQL_PROCEDURE = "CREATE OR REPLACE PROCEDURE p() LANGUAGE sql AS $body${}$body$"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("SELECT 1", Risk.DDL),
        ("SELECT count(*) FROM orders", Risk.DDL),
        ("INSERT INTO log VALUES (1)", Risk.DDL),
        ("DELETE FROM orders WHERE id = 1", Risk.DDL),
        ("DELETE FROM orders", Risk.DESTRUCTIVE),
        ("UPDATE orders SET note = 'x' WHERE 0.5::int = 1", Risk.DESTRUCTIVE),
        ("SELECT 1; TRUNCATE orders", Risk.DESTRUCTIVE),
        ("DROP TABLE orders", Risk.DESTRUCTIVE),
        ("SELECT pg_terminate_backend(1)", Risk.ADMIN),
        ("SELECT set_config('role', 'postgres', false)", Risk.ADMIN),
        ("GRANT ALL ON orders TO bob", Risk.ADMIN),
        ("SELECT my_cleanup()", Risk.UNKNOWN),
        ("EXECUTE p1", Risk.UNKNOWN),
        ("SELECT json_value('1', '$')", Risk.UNKNOWN),
    ],
)
def test_a_sql_body_gives_its_class(body: str, expected: Risk) -> None:
    for template in (SQL_FUNCTION, SQL_PROCEDURE):
        result = classify(template.format(body))
        assert result.risk is expected, result.reasons
    if ";" not in body and "EXECUTE" not in body:
        assert classify(ATOMIC_FUNCTION.format(body)).risk is expected


def test_a_sql_body_is_read_with_strings_the_caller_may_lex_otherwise() -> None:
    """A string body is lexed again at every call, with the caller's
    standard_conforming_strings: a backslash may end its string early there."""
    body = r"SELECT 'a\'; DELETE FROM orders; SELECT '"
    result = classify(SQL_FUNCTION.format(body))
    assert result.risk is Risk.UNKNOWN
    assert "standard_conforming_strings is unknown" in result.reasons[-1]
    # BEGIN ATOMIC is parsed once, when created: no second reading
    assert classify(ATOMIC_FUNCTION.format(r"SELECT E'a\\b'")).risk is Risk.DDL


@pytest.mark.parametrize(
    "language", ["plpgsql", "PLPGSQL", "plpython3u", "plperl", "plperlu", "pltcl", "plv8", "c",
                 "internal", "'plpgsql'", "my_language"],
)  # fmt: skip
def test_a_body_the_gateway_cannot_read_is_admin(language: str) -> None:
    for sql in (
        f"CREATE FUNCTION f() RETURNS int LANGUAGE {language} AS $$ BEGIN RETURN 1; END $$",
        f"CREATE OR REPLACE PROCEDURE p() LANGUAGE {language} AS 'whatever'",
        "CREATE FUNCTION f() RETURNS int AS 'lib', 'symbol' LANGUAGE " + language,
    ):
        result = classify(sql)
        assert result.risk is Risk.ADMIN, (sql, result.reasons)
        assert "the gateway cannot read its body" in result.reasons[0]


def test_a_function_without_a_language_is_admin() -> None:
    result = classify("CREATE FUNCTION f() RETURNS int AS 'SELECT 1'")
    assert result.risk is Risk.ADMIN
    assert "LANGUAGE (none given)" in result.reasons[0]


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql EXTERNAL SECURITY DEFINER RETURN 1",
        "ALTER FUNCTION f() SECURITY DEFINER",
        "ALTER ROUTINE f() IMMUTABLE SECURITY DEFINER",
    ],
)
def test_security_definer_is_admin(sql: str) -> None:
    result = classify(sql)
    assert result.risk is Risk.ADMIN
    assert any("SECURITY DEFINER" in reason for reason in result.reasons)


def test_function_options_are_classified() -> None:
    setting = "CREATE FUNCTION f() RETURNS int LANGUAGE sql SET {} AS 'SELECT 1'"
    assert classify(setting.format("search_path = public")).risk is Risk.DDL
    assert classify(setting.format("role = postgres")).risk is Risk.ADMIN
    assert classify("ALTER FUNCTION f() SET role = postgres").risk is Risk.ADMIN
    assert classify("ALTER FUNCTION f() SECURITY INVOKER").risk is Risk.DDL
    default = "CREATE FUNCTION f(a int DEFAULT {}) RETURNS int LANGUAGE sql RETURN a"
    assert classify(default.format("1")).risk is Risk.DDL
    assert classify(default.format("my_id()")).risk is Risk.UNKNOWN


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (
            "CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg()",
            "CREATE TRIGGER tr on t runs trg() inside every statement that fires it",
        ),
        (
            "CREATE CONSTRAINT TRIGGER tr AFTER UPDATE ON t FOR EACH ROW EXECUTE PROCEDURE trg()",
            "CREATE TRIGGER tr on t runs trg() inside every statement that fires it",
        ),
        (
            "CREATE OR REPLACE TRIGGER tr BEFORE DELETE ON s.t EXECUTE FUNCTION s.trg()",
            "CREATE TRIGGER tr on s.t runs s.trg() inside every statement that fires it",
        ),
        (
            "CREATE RULE r AS ON SELECT TO t DO INSTEAD SELECT * FROM u",
            "CREATE RULE r on t rewrites every SELECT on it into statements the writer"
            " does not see",
        ),
        (
            "CREATE OR REPLACE RULE r AS ON UPDATE TO t DO ALSO NOTHING",
            "CREATE RULE r on t rewrites every UPDATE on it",
        ),
        (
            "CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION evt()",
            "CREATE EVENT TRIGGER e runs evt() on every ddl_command_end",
        ),
        ("ALTER TABLE t ENABLE TRIGGER tr", "ENABLE TRIGGER tr changes the code that runs"),
        ("ALTER TABLE t ENABLE ALWAYS TRIGGER tr", "ENABLE TRIGGER tr"),
        ("ALTER TABLE t DISABLE TRIGGER ALL", "DISABLE TRIGGER ALL"),
        ("ALTER TABLE t DISABLE TRIGGER USER", "DISABLE TRIGGER USER"),
        ("ALTER TABLE t ENABLE REPLICA RULE r", "ENABLE RULE r"),
        ("ALTER TABLE t DISABLE RULE r", "DISABLE RULE r"),
        ("CREATE SCHEMA s CREATE TRIGGER tr AFTER INSERT ON t EXECUTE FUNCTION trg()",
         "CREATE TRIGGER tr on t runs trg()"),
    ],
)  # fmt: skip
def test_triggers_and_rules_are_admin(sql: str, reason: str) -> None:
    result = classify(sql)
    assert result.risk is Risk.ADMIN, result.reasons
    assert any(reason in r for r in result.reasons), result.reasons


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("CREATE AGGREGATE a(int) (SFUNC = int4pl, STYPE = int)", Risk.DDL),
        ("CREATE AGGREGATE a(int) (SFUNC = int4pl, STYPE = int, FINALFUNC = my_fn)", Risk.UNKNOWN),
        ("CREATE AGGREGATE a(int) (SFUNC = nextval, STYPE = regclass)", Risk.DDL),
        ("CREATE AGGREGATE a(int) (SFUNC = pg_terminate_backend, STYPE = int)", Risk.ADMIN),
        ("CREATE AGGREGATE a(text) (SFUNC = set_config, STYPE = text)", Risk.UNKNOWN),
        ("CREATE AGGREGATE a (BASETYPE = int, SFUNC = s.f, STYPE = int)", Risk.UNKNOWN),
        ("CREATE OPERATOR === (FUNCTION = int4eq, LEFTARG = int, RIGHTARG = int)", Risk.DDL),
        ("CREATE OPERATOR === (PROCEDURE = my_fn, LEFTARG = int, RIGHTARG = int)", Risk.UNKNOWN),
        ("CREATE OPERATOR === (FUNCTION = int4eq, LEFTARG = int, RIGHTARG = int,"
         " RESTRICT = my_sel)", Risk.UNKNOWN),
        ("ALTER OPERATOR === (int, int) SET (JOIN = my_join)", Risk.UNKNOWN),
        ("ALTER OPERATOR === (int, int) SET (RESTRICT = NONE)", Risk.DDL),
        ("CREATE TYPE box2 (INPUT = my_in, OUTPUT = my_out)", Risk.UNKNOWN),
        ("ALTER TYPE box2 SET (RECEIVE = my_recv)", Risk.UNKNOWN),
        ("CREATE TYPE r AS RANGE (SUBTYPE = int, SUBTYPE_DIFF = my_diff)", Risk.UNKNOWN),
        ("CREATE TYPE r AS RANGE (SUBTYPE = float8, SUBTYPE_DIFF = float8mi)", Risk.DDL),
        ("CREATE CAST (int AS text) WITH FUNCTION my_fn(int)", Risk.UNKNOWN),
        ("CREATE CAST (int AS text) WITH INOUT", Risk.DDL),
        ("CREATE OPERATOR CLASS c FOR TYPE int USING btree AS OPERATOR 1 <,"
         " FUNCTION 1 my_cmp(int, int)", Risk.UNKNOWN),
        ("CREATE OPERATOR CLASS c FOR TYPE int USING btree AS OPERATOR 1 <,"
         " FUNCTION 1 btint4cmp(int, int)", Risk.DDL),
        ("ALTER OPERATOR FAMILY f USING btree ADD FUNCTION 1 my_cmp(int, int)", Risk.UNKNOWN),
        ("CREATE CONVERSION c FOR 'LATIN1' TO 'UTF8' FROM my_conv", Risk.UNKNOWN),
        ("CREATE TEXT SEARCH PARSER p (START = my_start, GETTOKEN = prsd_nexttoken,"
         " END = prsd_end, LEXTYPES = prsd_lextype)", Risk.UNKNOWN),
        ("CREATE TEXT SEARCH TEMPLATE t (LEXIZE = my_lexize)", Risk.UNKNOWN),
        ("CREATE TRANSFORM FOR int LANGUAGE sql (FROM SQL WITH FUNCTION f1(internal),"
         " TO SQL WITH FUNCTION f2(internal))", Risk.UNKNOWN),
        ("CREATE VIEW v AS SELECT nextval('s')", Risk.DDL),
        ("CREATE VIEW v AS SELECT my_fn()", Risk.UNKNOWN),
        ("CREATE VIEW v AS SELECT pg_reload_conf()", Risk.ADMIN),
        ("CREATE MATERIALIZED VIEW v AS SELECT set_config('role', 'x', false)", Risk.ADMIN),
        ("ALTER TABLE t ALTER COLUMN a SET DEFAULT my_fn()", Risk.UNKNOWN),
        ("ALTER TABLE t ALTER COLUMN a SET DEFAULT nextval('s')", Risk.DDL),
        ("ALTER TABLE t ALTER COLUMN a SET DEFAULT pg_terminate_backend(1)::int", Risk.ADMIN),
        ("CREATE TABLE z (a int DEFAULT my_fn(), b int CHECK (b > 0))", Risk.UNKNOWN),
        ("CREATE DOMAIN d AS int CHECK (my_check(VALUE))", Risk.UNKNOWN),
        ("CREATE INDEX ON t (my_fn(a))", Risk.UNKNOWN),
    ],
)  # fmt: skip
def test_definitions_take_the_class_of_the_functions_they_name(sql: str, expected: Risk) -> None:
    result = classify(sql)
    assert result.risk is expected, result.reasons


def test_support_function_reasons_name_the_function_and_its_role() -> None:
    result = classify("CREATE AGGREGATE a(int) (SFUNC = int4pl, STYPE = int, FINALFUNC = my_fn)")
    assert result.reasons == (
        "CREATE AGGREGATE a",
        "CREATE AGGREGATE a makes later statements call my_fn() (FINALFUNC):"
        " unknown function my_fn()",
    )
    body = classify(SQL_FUNCTION.format("DELETE FROM orders"))
    assert body.reasons == (
        "CREATE FUNCTION f",
        "CREATE FUNCTION f runs, whenever it is called: DELETE without WHERE on orders",
    )


def _preparable(sql: str) -> bool:
    """One statement that a SQL function may hold (no transaction control, no COPY ...)."""
    try:
        statements = json.loads(parse_sql_json(sql)).get("stmts", [])
    except ParseError:
        return False
    banned = ("TransactionStmt", "CopyStmt", "VacuumStmt", "CreatedbStmt", "DropdbStmt")
    return len(statements) == 1 and not any(k in statements[0]["stmt"] for k in banned)


@pytest.mark.parametrize(
    "sql", [s for s in pg_corpus.UNIQUE if _preparable(s) and "$body$" not in s]
)
def test_a_sql_function_is_never_below_its_body(sql: str) -> None:
    """Every statement of the corpus, planted as a SQL function's body."""
    body, planted = classify(sql), classify(SQL_FUNCTION.format(sql))
    assert planted.risk.rank >= max(body.risk.rank, Risk.DDL.rank), planted.reasons
    if body.risk is Risk.UNKNOWN:
        assert planted.risk is Risk.UNKNOWN
