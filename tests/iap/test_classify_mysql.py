"""Tests of iap.classify for MySQL/MariaDB: the corpus, lexing state, session effects, cache,
the fast path's equivalence with the full path, and mutations that must never lower a class.

Pure: no sockets (the server's truth for the corpus is tests/e2e/test_classify_truth_mysql.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from iap.classify import (
    Classification,
    LexState,
    Risk,
    classify,
    classify_setting,
    clear_cache,
    mysql,
    mysql_fast,
    mysql_tree,
)
from iap.classify.mysql_functions import (
    BUILTIN_NAMES,
    SAFE_FUNCTIONS,
    SPACE_SENSITIVE,
    function_risk,
)
from iap.classify.mysql_lexer import OP, STRING, WORD, LexError, Mode, lex, split
from iap.classify.mysql_settings import MODE_FLAGS, WHOLE_MODE_FLAGS, mode_flag_list
from iap.classify.mysql_tree import parse, quote_string
from tests.iap.mysql_corpus import CASES, CORPUS_CHARSET, CORPUS_SQL_MODE, SCARY_READS

R, W, D, X, A, U = "read", "write", "ddl", "destructive", "admin", "unknown"
STATE = LexState(client_encoding=CORPUS_CHARSET, sql_mode=CORPUS_SQL_MODE)
UNKNOWN_MODE = LexState(client_encoding=CORPUS_CHARSET, sql_mode=None)


def mysql_class(sql: str, state: LexState = STATE, **kwargs: Any) -> Classification:
    return classify(sql, "mysql", state=state, **kwargs)


# ----------------------------------------------------------------------------- the corpus


@pytest.mark.parametrize(("sql", "expected", "note"), CASES, ids=[c[0][:60] for c in CASES])
def test_corpus(sql: str, expected: str, note: str) -> None:
    result = mysql_class(sql)
    assert result.risk.value == expected, (note, result.reasons)
    if expected != R:
        assert result.reasons, "a class above read always says why"


def test_corpus_size() -> None:
    assert len(CASES) >= 170
    assert len(SCARY_READS) >= 30
    assert len({sql for sql, _, _ in CASES}) == len(CASES), "duplicate corpus entries"


# ----------------------------------------------------------------------------- results


def test_reasons_kinds_and_tables() -> None:
    result = mysql_class("DELETE FROM shop.orders")
    assert result.reasons == ("DELETE without WHERE on shop.orders",)
    assert result.statements[0].kind == "DELETE"
    assert result.statements[0].tables == ("shop.orders",)
    drop = mysql_class("DROP TABLE IF EXISTS a, `b c`")
    assert (drop.statements[0].kind, drop.statements[0].tables) == ("DROP TABLE", ("a", "b c"))
    assert mysql_class("SELECT my_cleanup()").reasons == ("unknown function my_cleanup()",)
    comment = mysql_class("SELECT 1 /*!50000 , 2 */; DROP TABLE t")
    assert [s.kind for s in comment.statements] == ["SELECT", "DROP TABLE"]
    assert "DROP TABLE t" in comment.reasons
    joined = mysql_class(
        "SELECT a FROM t1 JOIN db.t2 ON t1.id = t2.id WHERE b IN (SELECT c FROM t3)"
    )
    assert joined.statements[0].tables == ("t1", "db.t2", "t3")
    assert mysql_class("SELECT LOAD_FILE('/etc/passwd')").reasons == (
        "LOAD_FILE() reads a file on the database server",
    )
    assert mysql_class("SET GLOBAL max_connections = 1").reasons == (
        "SET GLOBAL max_connections changes it for every session",
    )


def test_json_contract() -> None:
    data = mysql_class("UPDATE orders SET a = 1 WHERE id = 2").to_json()
    assert data == {
        "risk": "write",
        "statements": [
            {
                "kind": "UPDATE",
                "risk": "write",
                "tables": ["orders"],
                "reasons": ["UPDATE on orders"],
            }
        ],
        "reasons": ["UPDATE on orders"],
    }


def test_cli_classifies_mysql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from iap.cli.main import app

    monkeypatch.setenv("IAP_HOME", str(tmp_path))
    runner = CliRunner()
    plain = runner.invoke(app, ["classify", "--dialect", "mysql", "DELETE FROM orders"])
    assert plain.exit_code == 0
    assert plain.output.splitlines() == ["destructive", "  DELETE without WHERE on orders"]
    piped = runner.invoke(
        app, ["classify", "--dialect", "mysql", "--json", "-"], input="SHOW TABLES"
    )
    assert piped.exit_code == 0
    assert json.loads(piped.output)["risk"] == "read"


def test_empty_text_is_a_read_with_no_statements() -> None:
    for text in ("", "   ", ";", "-- only a comment", "/* c */ ;; # x"):
        result = mysql_class(text)
        assert (result.risk, result.statements) == (Risk.READ, ())


def test_multi_statement_takes_the_highest_class() -> None:
    result = mysql_class("SELECT 1; UPDATE t SET a = 1 WHERE id = 1; DROP TABLE t; SELECT 2")
    assert result.risk is Risk.DESTRUCTIVE
    assert [s.risk for s in result.statements] == [
        Risk.READ,
        Risk.WRITE,
        Risk.DESTRUCTIVE,
        Risk.READ,
    ]


def test_stored_program_bodies_do_not_split() -> None:
    body = (
        "CREATE PROCEDURE p() BEGIN DECLARE CONTINUE HANDLER FOR SQLSTATE '23000' BEGIN END;"
        " IF (SELECT 1) THEN SELECT CASE WHEN 1 THEN 2 END; ELSE DELETE FROM t; END IF;"
        " lbl: LOOP LEAVE lbl; END LOOP lbl; REPEAT SET @a = 1; UNTIL 1 END REPEAT; END"
    )
    result = mysql_class(body + "; DROP TABLE x")
    assert [s.kind for s in result.statements] == ["CREATE PROCEDURE", "DROP TABLE"]
    assert result.statements[0].risk is Risk.ADMIN  # control flow in the body: not followed
    # a column named begin does not open a block that could swallow the next statement
    sneaky = mysql_class("CREATE PROCEDURE p() SELECT begin FROM t; DROP TABLE x; END")
    assert sneaky.risk is Risk.UNKNOWN or Risk.DESTRUCTIVE in [s.risk for s in sneaky.statements]
    trigger = mysql_class(
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1; DROP TABLE x"
    )
    assert [s.kind for s in trigger.statements] == ["CREATE TRIGGER", "DROP TABLE"]


def test_routines_that_shadow_safe_names_are_admin() -> None:
    plain = mysql_class("CREATE FUNCTION f_ok(x INT) RETURNS INT RETURN x")
    assert plain.risk is Risk.DDL
    vetted = frozenset({"cleanup"})
    replaced = mysql_class(
        "CREATE OR REPLACE PROCEDURE cleanup() DELETE FROM orders", safe_functions=vetted
    )
    assert replaced.risk is Risk.ADMIN
    assert mysql_class("CREATE FUNCTION upper(x INT) RETURNS INT RETURN x").risk is Risk.ADMIN


def test_safe_functions_from_the_operator() -> None:
    assert mysql_class("SELECT my_cleanup(1)").risk is Risk.UNKNOWN
    assert (
        mysql_class("SELECT My_Cleanup(1)", safe_functions=frozenset({"my_cleanup"})).risk
        is Risk.READ
    )
    assert mysql_class("SELECT app.f(1)", safe_functions=frozenset({"app.f"})).risk is Risk.READ
    assert mysql_class("SELECT APP.f(1)", safe_functions=frozenset({"app.f"})).risk is Risk.UNKNOWN
    assert mysql_class("CALL app.p()", safe_functions=frozenset({"app.p"})).risk is Risk.READ
    # the operator's list never makes a dangerous built-in safe
    assert (
        mysql_class("SELECT load_file('x')", safe_functions=frozenset({"load_file"})).risk
        is Risk.ADMIN
    )


def test_function_lists() -> None:
    assert function_risk("LOAD_FILE", None)[0] is Risk.ADMIN
    assert function_risk("get_lock", None)[0] is Risk.WRITE
    assert function_risk("sleep", None) == (Risk.READ, "")
    assert function_risk("upper", "mysql")[0] is Risk.UNKNOWN
    assert function_risk("sys_exec", None) == (Risk.UNKNOWN, "unknown function sys_exec()")
    assert "database" in SAFE_FUNCTIONS and "load_file" not in SAFE_FUNCTIONS
    assert {name.lower() for name in mysql_fast.FAST_FUNCTIONS} <= SAFE_FUNCTIONS
    assert SPACE_SENSITIVE <= BUILTIN_NAMES


def test_how_a_call_is_written_decides_which_function_runs() -> None:
    # name( is the built-in; a space, a comment or quotes make the server look for a stored
    # function of that name in the current database (MariaDB 10.11 answers "FUNCTION
    # db.now does not exist" for now (), and calls one if it exists)
    assert mysql_class("SELECT NOW(), COUNT(*) FROM t").risk is Risk.READ
    for text in (
        "SELECT now ()",
        "SELECT now/**/()",
        "SELECT `now`()",
        "SELECT 1 /*!50000 + sum*/(1)",
    ):
        result = mysql_class(text)
        assert result.risk is Risk.UNKNOWN, text
        assert "may call a stored function of that name" in result.reasons[0]
    assert mysql_class("SELECT lower ('A'), DATE_FORMAT (NOW(), '%Y')").risk is Risk.READ
    assert mysql_class("SELECT `lower`('A')").risk is Risk.UNKNOWN  # quoted: never vouched
    assert mysql_class("SET @a = now ()").risk is Risk.UNKNOWN
    assert mysql_class("ALTER TABLE t PARTITION BY HASH (max (a))").risk is Risk.UNKNOWN
    # the operator's list covers their own functions however written, never a built-in name
    assert mysql_class("SELECT `my_f`()", safe_functions=frozenset({"my_f"})).risk is Risk.READ
    quoted = mysql_class(
        "SELECT `load_file`('/etc/passwd')", safe_functions=frozenset({"load_file"})
    )
    assert quoted.risk is Risk.UNKNOWN
    # a name before ( that is not a call stays a name
    assert mysql_class("CREATE TABLE count (a INT)").risk is Risk.DDL
    assert mysql_class("INSERT INTO rank (a) VALUES (1)").risk is Risk.WRITE
    assert function_risk("now", None, spaced=True)[0] is Risk.UNKNOWN
    assert function_risk("lower", None, spaced=True) == (Risk.READ, "")


def test_nested_calls_are_judged_once_each(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = mysql_tree.function_risk

    def counting(name: str, *args: Any, **kwargs: Any) -> tuple[Risk, str]:
        calls.append(name)
        return original(name, *args, **kwargs)

    monkeypatch.setattr(mysql_tree, "function_risk", counting)
    depth = 12  # walking each call's arguments twice made this 2**12 - 1 judgements
    result = mysql_class("SELECT " + "HEX(" * depth + "note" + ")" * depth + " FROM orders")
    assert result.risk is Risk.READ
    assert len(calls) == depth


# ----------------------------------------------------------------------------- settings


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("autocommit", "1", R), ("time_zone", "+00:00", R), ("sql_mode", "", R),
        ("sql_mode", "STRICT_TRANS_TABLES", R), ("sql_mode", "ANSI_QUOTES", A),
        ("sql_mode", "ANSI", A), ("sql_mode", "no_backslash_escapes", A), ("sql_mode", None, A),
        ("character_set_client", "utf8mb4", R), ("character_set_client", "gbk", A),
        ("character_set_client", None, A), ("character_set_results", "sjis", R),
        ("collation_connection", "big5_chinese_ci", A), ("foreign_key_checks", "0", W),
        ("foreign_key_checks", "ON", R), ("sql_log_bin", "0", A), ("global.autocommit", "1", A),
        ("@@session.wait_timeout", "10", R), ("no_such_setting", "1", A),
        ("log_slow_query", "1", A), ("optimizer_switch", "index_merge=off", R),
    ],
)  # fmt: skip
def test_classify_setting(name: str, value: str | None, expected: str) -> None:
    result = classify_setting(name, value, "mysql")
    assert result.risk.value == expected
    assert (result.reasons != ()) == (expected != R)


def test_set_lists_take_the_class_of_each_setting() -> None:
    assert mysql_class("SET autocommit = 1, time_zone = 'UTC', @x = 2").risk is Risk.READ
    assert mysql_class("SET autocommit = 1, sql_log_bin = 0").risk is Risk.ADMIN
    # the latest scope keyword applies to the assignments after it
    assert mysql_class("SET GLOBAL wait_timeout = 1, interactive_timeout = 1").reasons == (
        "SET GLOBAL wait_timeout changes it for every session",
        "SET GLOBAL interactive_timeout changes it for every session",
    )
    assert mysql_class("SET @@global.x = 1, wait_timeout = 1").reasons == (
        "SET GLOBAL x changes it for every session",
    )
    assert mysql_class("SET sql_mode = (SELECT 'ANSI_QUOTES')").risk is Risk.ADMIN
    assert (
        mysql_class("SET sql_mode = REPLACE(@@sql_mode, 'STRICT_TRANS_TABLES', '')").risk
        is Risk.READ
    )
    assert mysql_class("SET sql_mode = REPLACE(@@sql_mode, 'X', 'ANSI_QUOTES')").risk is Risk.ADMIN
    assert mysql_class("SET sql_mode = CONCAT(@@sql_mode, ',AN', 'SI_QUOTES')").risk is Risk.ADMIN
    assert mysql_class("SET sql_mode = CONCAT('ANSI', @@sql_mode)").risk is Risk.ADMIN
    assert mysql_class("SET sql_mode = 4").risk is Risk.ADMIN


def test_sql_mode_expressions_are_read_only_as_whole_flags() -> None:
    # removing fragments of safe flags can spell an unsafe one: with the session mode
    # STRICT_TRANS_TABLES,TIME_ROUND_FRACTIONAL this SET makes it ANSI on the server, and the
    # rest of the text is then lexed with ANSI_QUOTES (MariaDB dropped the table)
    state = LexState(sql_mode="STRICT_TRANS_TABLES,TIME_ROUND_FRACTIONAL")
    bypass = (
        "SET sql_mode = REPLACE(REPLACE(REPLACE(@@sql_mode,'STRICT_TR',''),'_TABLES,T',''),"
        "'ME_ROUND_FRACTIONAL',''); SELECT 1 AS \"x\\\" ; DROP TABLE victim; -- \""
    )
    result = mysql_class(bypass, state)
    assert result.statements[0].risk is Risk.ADMIN  # the SET: not readable as whole flags
    assert result.risk is Risk.UNKNOWN  # the rest: quotes read either way
    rails = (
        "SET sql_mode = REPLACE(REPLACE(@@sql_mode, 'STRICT_TRANS_TABLES', ''), 'TRADITIONAL', '')"
    )
    assert mysql_class(rails, state).risk is Risk.READ
    for added in ("',ANSTRADITIONALI'", "'STRICT_ALL_TABLES'", "', NO_ZERO_DATE'", "@x"):
        assert mysql_class(f"SET sql_mode = CONCAT(@@sql_mode, {added})").risk is Risk.ADMIN
    assert (
        mysql_class("SET sql_mode = CONCAT_WS(',', @@sql_mode, 'NO_ZERO_DATE')").risk is Risk.READ
    )
    # after a REPLACE the mode is not exactly known: the rest is read every way it can be
    pipes = (
        "SET sql_mode = REPLACE(@@sql_mode, 'PIPES_AS_CONCAT', ''); DELETE FROM t WHERE id = 5 || 1"
    )
    assert mysql_class(pipes, LexState(sql_mode="PIPES_AS_CONCAT")).risk is Risk.DESTRUCTIVE
    # @@global.sql_mode is the server's default, not this session's mode: like DEFAULT
    escape = "SELECT 'a\\'; DROP TABLE t; -- '"
    for value in ("DEFAULT", "@@global.sql_mode"):
        text = f"SET sql_mode = {value}; {escape}"
        assert mysql_class(text, LexState(sql_mode="")).risk is Risk.UNKNOWN, value
    assert mode_flag_list(",NO_ZERO_DATE,,IGNORE_SPACE") == ["NO_ZERO_DATE", "IGNORE_SPACE"]
    assert mode_flag_list("ANS") is None
    assert "ANSI" not in WHOLE_MODE_FLAGS and "ANSI_QUOTES" in MODE_FLAGS


# ----------------------------------------------------------------------------- lexing state


def test_the_same_text_under_different_sql_modes() -> None:
    trick = "SELECT 'a\\'; DROP TABLE t; -- '"
    assert mysql_class(trick, LexState(sql_mode="")).risk is Risk.READ
    assert mysql_class(trick, LexState(sql_mode="NO_BACKSLASH_ESCAPES")).risk is Risk.DESTRUCTIVE
    assert mysql_class(trick, UNKNOWN_MODE).risk is Risk.UNKNOWN
    quotes = 'SELECT "a" FROM t WHERE x = "b\\" ; DROP TABLE t; -- "'
    assert mysql_class(quotes, LexState(sql_mode="")).risk is Risk.READ
    assert mysql_class(quotes, LexState(sql_mode="ANSI_QUOTES")).risk is Risk.DESTRUCTIVE
    assert mysql_class(quotes, LexState(sql_mode="ANSI")).risk is Risk.DESTRUCTIVE
    assert mysql_class(quotes, UNKNOWN_MODE).risk is Risk.UNKNOWN
    brackets = "SELECT [a;DROP TABLE t] FROM t"
    assert mysql_class(brackets, LexState(sql_mode="MSSQL")).risk is Risk.READ
    assert mysql_class(brackets, LexState(sql_mode="")).risk is not Risk.READ
    assert mysql_class("SELECT 1", LexState(sql_mode="ORACLE")).risk is Risk.UNKNOWN


def test_unknown_sql_mode_takes_the_stricter_reading() -> None:
    # same tokens either way: both readings are classified, the higher wins
    assert mysql_class('SELECT "a"', UNKNOWN_MODE).risk is Risk.READ
    assert mysql_class('SELECT my_f("a")', UNKNOWN_MODE).risk is Risk.UNKNOWN
    assert mysql_class("SELECT 'C:\\\\dir'", UNKNOWN_MODE).risk is Risk.READ
    # a string in one reading, a column in the other: the WHERE can be always true
    tautology = 'DELETE FROM t WHERE "id" = "id"'
    assert mysql_class(tautology, LexState(sql_mode="")).risk is Risk.DESTRUCTIVE
    assert mysql_class(tautology, LexState(sql_mode="ANSI_QUOTES")).risk is Risk.DESTRUCTIVE
    bounded = 'DELETE FROM t WHERE "id" = 0'  # 'id' reads as the number 0
    assert mysql_class(bounded, LexState(sql_mode="ANSI_QUOTES")).risk is Risk.WRITE
    assert mysql_class(bounded, LexState(sql_mode="")).risk is Risk.DESTRUCTIVE
    assert mysql_class(bounded, UNKNOWN_MODE).risk is Risk.DESTRUCTIVE
    # || concatenates under PIPES_AS_CONCAT: never true as OR, always true as concatenation
    pipes = "DELETE FROM t WHERE 'a' || 'b' = 'ab'"
    assert mysql_class(pipes, LexState(sql_mode="PIPES_AS_CONCAT")).risk is Risk.DESTRUCTIVE
    assert mysql_class(pipes, UNKNOWN_MODE).risk is Risk.DESTRUCTIVE
    or_one = "DELETE FROM t WHERE id = 5 || 1"  # OR 1, or id = '51'
    assert mysql_class(or_one, LexState(sql_mode="")).risk is Risk.DESTRUCTIVE
    assert mysql_class(or_one, LexState(sql_mode="PIPES_AS_CONCAT")).risk is Risk.WRITE
    assert mysql_class(or_one, UNKNOWN_MODE).risk is Risk.DESTRUCTIVE
    # HIGH_NOT_PRECEDENCE and EMPTY_STRING_IS_NULL may be on: no tautology is assumed
    assert mysql_class("DELETE FROM t WHERE '' IS NULL", UNKNOWN_MODE).risk is Risk.DESTRUCTIVE


def test_set_sql_mode_changes_how_the_rest_is_read() -> None:
    text = "SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT 'a\\'; DROP TABLE t; -- '"
    result = mysql_class(text, LexState(sql_mode=""))
    assert result.risk is Risk.ADMIN  # the SET itself; the DROP below is read under NBE
    assert [s.kind for s in result.statements] == ["SET", "SELECT", "DROP TABLE"]
    back = "SET sql_mode = ''; SELECT 'a\\'; DROP TABLE t; -- '"
    undone = mysql_class(back, LexState(sql_mode="NO_BACKSLASH_ESCAPES"))
    assert [s.kind for s in undone.statements] == ["SET", "SELECT"]
    assert undone.risk is Risk.READ


def test_connection_charset() -> None:
    text = "SELECT 'é'"
    assert mysql_class(text, LexState(client_encoding="utf8mb4", sql_mode="")).risk is Risk.READ
    assert mysql_class(text, LexState(client_encoding="latin1", sql_mode="")).risk is Risk.READ
    for charset in ("sjis", "big5", "gbk", "gb18030", "cp932", None):
        state = LexState(client_encoding=charset, sql_mode="")
        assert mysql_class(text, state).risk is Risk.UNKNOWN, charset
        assert mysql_class("SELECT 'plain ascii'", state).risk is Risk.READ


def test_version_comments() -> None:
    assert mysql_class("SELECT 1 /*!40101 , 2 */").risk is Risk.READ
    assert mysql_class("/*M!999999 DROP TABLE t */").risk is Risk.READ  # no such server
    assert mysql_class("DELETE FROM t /*!50700 WHERE id = 1 */").risk is Risk.DESTRUCTIVE
    assert mysql_class("DELETE FROM t /*!40000 WHERE id = 1 */").risk is Risk.WRITE
    # a string in a comment that runs ends differently from one in a comment that does not
    assert mysql_class("SELECT 1 /*!80000 '*/ ; DROP TABLE t; -- ' */").risk is Risk.DESTRUCTIVE
    assert mysql_class("SELECT 1 /*!99999 /* nested */; DROP TABLE t */").risk is Risk.UNKNOWN
    assert mysql_class("SELECT 1 /*!50000 # */\n , 2 */").risk is Risk.READ
    # to MySQL /*M! is a plain comment that the first */ closes; MariaDB reads it as code
    assert mysql_class("SELECT 1 /*M! /* x */ ; DROP TABLE t; /* */").risk is not Risk.READ
    assert mysql_class("/*!40101 SET sql_mode = 'ANSI_QUOTES' */; SELECT 1").risk is Risk.ADMIN


def test_lexer_details() -> None:
    def kinds(text: str, mode: Mode = Mode()) -> list[tuple[str, str]]:
        return [(t.kind, t.value) for t in lex(text, mode).tokens]

    assert kinds("SELECT 1--1") == [
        (WORD, "SELECT"),
        ("number", "1"),
        (OP, "-"),
        (OP, "-"),
        ("number", "1"),
    ]
    assert kinds("SELECT 1-- 1") == [(WORD, "SELECT"), ("number", "1")]
    assert kinds("SELECT 'a' 'b'")[1] == (STRING, "ab")
    assert kinds("SELECT 'a\\nb', 'it''s'", Mode())[1:4:2] == [(STRING, "a\nb"), (STRING, "it's")]
    assert kinds("SELECT 'a\\nb'", Mode(backslash_escapes=False))[1] == (STRING, "a\\nb")
    assert kinds("SELECT t.1e5, 1e5, 12abc")[1:] == [
        (WORD, "T"), (OP, "."), (WORD, "1E5"), (OP, ","), ("number", "1e5"), (OP, ","),
        (WORD, "12ABC"),
    ]  # fmt: skip
    assert kinds("SELECT @'a b', @@session.sql_mode, ?")[1::2] == [
        ("var", "a b"), ("sysvar", "session.sql_mode"), ("param", "?"),
    ]  # fmt: skip
    for bad in (
        "SELECT 'x",
        "SELECT `x",
        "SELECT 1 /* x",
        "SELECT X'0'",
        "SELECT 1e+",
        "SELECT \\",
    ):
        with pytest.raises(LexError):
            lex(bad, Mode())
    assert len(split(lex("a;;b; ;c", Mode()).tokens, 8)) == 3


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_rendered_strings_read_back_exactly(value: str) -> None:
    assume("\x00" not in value)
    tree = parse("SELECT " + quote_string(value))
    assert tree.expressions[0].this == value


# ----------------------------------------------------------------------------- session effects


def test_prepared_statements() -> None:
    prepared = mysql_class("PREPARE s FROM 'DELETE FROM t'")
    assert prepared.risk is Risk.READ
    assert prepared.prepares == (("s", Risk.DESTRUCTIVE),)
    assert "PREPARE s (destructive when executed): DELETE without WHERE on t" in prepared.reasons
    run = mysql_class("EXECUTE s USING @a", prepared={"s": Risk.DESTRUCTIVE})
    assert (run.risk, run.executes) == (Risk.DESTRUCTIVE, ("s",))
    assert mysql_class("EXECUTE s", prepared={}).risk is Risk.UNKNOWN
    assert mysql_class("EXECUTE s", prepared={"s": Risk.READ}).risk is Risk.READ
    variable = mysql_class("PREPARE s FROM @sql")
    assert (variable.risk, variable.prepares) == (Risk.READ, (("s", Risk.UNKNOWN),))
    dropped = mysql_class("DEALLOCATE PREPARE s; EXECUTE s", prepared={"s": Risk.READ})
    assert dropped.risk is Risk.UNKNOWN
    assert [(step.deallocate, step.execute) for step in dropped.steps or ()] == [
        ("s", None),
        (None, "s"),
    ]
    assert mysql_class("DROP PREPARE s").deallocates == ("s",)
    both = mysql_class("PREPARE a FROM 'SELECT 1'; PREPARE b FROM 'DROP TABLE t'; EXECUTE a")
    assert both.risk is Risk.READ and dict(both.prepares) == {"a": Risk.READ, "b": Risk.DESTRUCTIVE}
    explained = mysql_class("EXPLAIN DELETE FROM t")
    assert explained.risk is Risk.READ


def test_cache_is_keyed_by_text_and_state() -> None:
    clear_cache()
    quotes = 'DELETE FROM t WHERE "id" = 0'
    assert mysql_class(quotes, LexState(sql_mode="ANSI_QUOTES")).risk is Risk.WRITE
    assert mysql_class(quotes, LexState(sql_mode="")).risk is Risk.DESTRUCTIVE
    assert mysql_class(quotes, LexState(sql_mode="ANSI_QUOTES")).risk is Risk.WRITE
    assert mysql_class("DELETE FROM t WHERE 1 = 0").risk is Risk.WRITE
    assert mysql_class("DELETE FROM t WHERE 1 = 1").risk is Risk.DESTRUCTIVE
    assert mysql_class("SELECT f()", safe_functions=frozenset({"f"})).risk is Risk.READ
    assert mysql_class("SELECT f()").risk is Risk.UNKNOWN
    assert mysql_class("EXECUTE s", prepared={"s": Risk.WRITE}).risk is Risk.WRITE
    assert mysql_class("EXECUTE s", prepared={"s": Risk.READ}).risk is Risk.READ
    assert mysql_class("SELECT 1") is mysql_class("SELECT 1")  # served from the cache


# ----------------------------------------------------------------------------- never raises


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=120))
@example("SELECT '\ud800'")
@example("/*!" * 50)
@example("(" * 3000)
@example("CREATE PROCEDURE p() " + "BEGIN " * 500)
def test_never_raises(text: str) -> None:
    for state in (STATE, UNKNOWN_MODE, LexState(client_encoding=None, sql_mode="ANSI")):
        result = mysql.classify_mysql(text, state=state)
        assert isinstance(result, Classification)


_SOUP = (
    "SELECT FROM WHERE ( ) , ; 'a' \"b\" `c` /*!50000 /*M! */ /* -- # \n CREATE PROCEDURE BEGIN"
    " END IF THEN ELSE SET @a @@x = := 1 DELETE UPDATE INSERT REPLACE INTO VALUES DROP TABLE t"
    " PREPARE EXECUTE 'DROP\\'' CASE WHEN LOOP REPEAT UNTIL DECLARE HANDLER FOR EACH ROW"
    " TRIGGER ON EVENT DO \\ N'x' x'0' 0x1 1e5 . * + - NOT AND OR LIMIT ORDER BY UNION WITH AS"
    " sql_mode NAMES gbk CALL EXPLAIN ANALYZE SHOW USE LOCK TABLES READ OPEN XA KILL GRANT LOAD"
    " DATA INFILE OUTFILE load_file my_f( concat( NEXT VALUE PARTITION INDEX ATOMIC lbl:"
)
_FRAGMENTS = _SOUP.split(" ")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=25), st.sampled_from([" ", "", "\n"]))
def test_never_raises_on_sql_like_soup(fragments: list[str], glue: str) -> None:
    text = glue.join(fragments)
    for state in (STATE, UNKNOWN_MODE):
        assert isinstance(mysql.classify_mysql(text, state=state), Classification)


# ----------------------------------------------------------------------------- mutations

RISKY = [(sql, expected) for sql, expected, _ in CASES if expected not in (R, U)]
_SEPARATORS = [" ", "  ", "\n", "\t", "\r\n", " /* x */ ", "/**/", " -- c\n", " # c\n", "\x0c"]


def _mutate(sql: str, data: st.DataObject) -> str:
    """sql with random case in its words and whitespace or comments added between tokens
    (the text between tokens, comments and executable comments included, is kept)."""
    tokens = lex(sql, Mode()).tokens
    pieces: list[str] = [sql[: tokens[0].start] if tokens else sql]
    for i, t in enumerate(tokens):
        text = t.text
        if t.kind == WORD and text.isascii() and text.isalpha():
            text = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in text)
        pieces.append(text)
        gap = sql[t.end : tokens[i + 1].start] if i + 1 < len(tokens) else sql[t.end :]
        glued = i + 1 < len(tokens) and (t.value == "." or tokens[i + 1].value == ".")
        pieces.append(gap if glued else gap + data.draw(st.sampled_from(_SEPARATORS)))
    return "".join(pieces)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(RISKY), st.data())
def test_mutations_never_lower_a_risky_class(case: tuple[str, str], data: st.DataObject) -> None:
    sql, expected = case
    mutated = _mutate(sql, data)  # every risky case lexes (none is left out here)
    result = mysql_class(mutated)
    assert result.risk.rank >= Risk(expected).rank, (mutated, result.reasons)


# ----------------------------------------------------------------------------- the fast path


@contextmanager
def _fast_path(enabled: bool, accepted: list[str] | None = None) -> Iterator[None]:
    original = mysql.mysql_fast.classify

    def spy(tokens: Any, ctx: Any) -> Any:
        if not enabled:
            return None
        info = original(tokens, ctx)
        if info is not None and accepted is not None:
            accepted.append(" ".join(t.text for t in tokens))
        return info

    mysql.mysql_fast.classify = spy  # type: ignore[assignment]
    try:
        yield
    finally:
        mysql.mysql_fast.classify = original  # type: ignore[assignment]


def _both_paths(sql: str, state: LexState = STATE) -> tuple[Classification, Classification, bool]:
    accepted: list[str] = []
    with _fast_path(True, accepted):
        fast = mysql.classify_mysql(sql, state=state)
    with _fast_path(False):
        slow = mysql.classify_mysql(sql, state=state)
    return fast, slow, bool(accepted)


_NAMES = [
    "id",
    "total",
    "orders",
    "t1",
    "customer_id",
    "`order`",
    "`a b`",
    "`select`",
    "status",
    "name",
    "date",
    "key",
    "user",
    "value",
    "data",
    "text",
    "year",
    "`drop`",
    "x1",
    "Zeta",
]
_LITERALS = ["1", "0", "-5", "2.5", ".5", "1e3", "'a'", "'it''s'", "'x\\'y'", "\"dq\"", "NULL",
             "TRUE", "FALSE", "X'0A'", "0x1F", "b'01'", "?", "@v", "@@session.tx_isolation",
             "N'n'", "''", "'1abc'"]  # fmt: skip
_FUNCTIONS = sorted(mysql_fast.FAST_FUNCTIONS)
_BINARY = ["=", "<>", "!=", "<", ">=", "<=>", "+", "-", "*", "/", "%", "DIV", "MOD", "AND",
           "OR", "XOR", "&&", "||", "&", "|", "^", "<<"]  # fmt: skip

_PLAIN_NAMES = ["id", "total", "orders", "t1", "customer_id", "`order`", "`a b`", "x1", "Zeta"]
# Mostly names the fast path takes, some it must decline (keywords in a name's place).
names = st.one_of(
    st.sampled_from(_PLAIN_NAMES), st.sampled_from(_PLAIN_NAMES), st.sampled_from(_NAMES)
)


@st.composite
def columns(draw: st.DrawFn) -> str:
    parts = draw(st.lists(names, min_size=1, max_size=3))
    return ".".join(parts)


@st.composite
def operands(draw: st.DrawFn, depth: int = 0) -> str:
    choice = draw(st.integers(0, 4 if depth < 2 else 1))
    if choice == 0:
        return draw(st.sampled_from(_LITERALS))
    if choice == 1:
        return draw(columns())
    if choice == 2:
        name = draw(st.sampled_from(_FUNCTIONS))
        count = draw(st.integers(0, 3))
        args = ", ".join(draw(expressions(depth + 1)) for _ in range(count))
        if name == "COUNT" and draw(st.booleans()):
            args = "*"
        return f"{name}{draw(st.sampled_from(['', '', ' ']))}({args})"
    if choice == 3:
        if draw(st.booleans()):
            return f"({draw(expressions(depth + 1))})"
        query = f"SELECT {draw(expressions(depth + 1))} FROM {draw(columns())}"
        if draw(st.booleans()):
            query += f" WHERE {draw(expressions(depth + 1))}"
        return (
            draw(st.sampled_from(["({})", "EXISTS ({})", "{}"])).format(query)
            if draw(st.booleans())
            else f"({query})"
        )
    return draw(st.sampled_from(["-", "NOT ", "!"])) + draw(operands(depth + 1))


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    text = draw(operands(depth))
    for _ in range(draw(st.integers(0, 2))):
        form = draw(st.integers(0, 4))
        if form == 0:
            text += f" {draw(st.sampled_from(_BINARY))} {draw(operands(depth + 1))}"
        elif form == 1:
            text += " IS " + draw(st.sampled_from(["NULL", "NOT NULL", "TRUE", "NOT FALSE"]))
        elif form == 2:
            items = ", ".join(draw(st.lists(st.sampled_from(_LITERALS), min_size=1, max_size=3)))
            if draw(st.booleans()):
                items = f"SELECT {draw(columns())} FROM {draw(columns())}"
            text += f" {draw(st.sampled_from(['IN', 'NOT IN']))} ({items})"
        elif form == 3:
            text += f" BETWEEN {draw(operands(depth + 1))} AND {draw(operands(depth + 1))}"
        else:
            text += (
                f" {draw(st.sampled_from(['LIKE', 'NOT LIKE']))} {draw(st.sampled_from(_LITERALS))}"
            )
    return text


@st.composite
def selects(draw: st.DrawFn) -> str:
    items = []
    for _ in range(draw(st.integers(1, 3))):
        item = draw(st.one_of(expressions(), st.just("*"), columns().map(lambda c: c + ".*")))
        if draw(st.booleans()):
            item += draw(st.sampled_from([" AS ", " "])) + draw(names)
        items.append(item)
    text = (
        "SELECT "
        + draw(st.sampled_from(["", "DISTINCT ", "SQL_NO_CACHE ", "ALL "]))
        + ", ".join(items)
    )
    if draw(st.booleans()):
        text += " FROM " + draw(columns())
        if draw(st.booleans()):
            text += draw(st.sampled_from([" ", " AS "])) + draw(names)
        for _ in range(draw(st.integers(0, 2))):
            join = draw(
                st.sampled_from(
                    [
                        ", ",
                        " JOIN ",
                        " LEFT JOIN ",
                        " LEFT OUTER JOIN ",
                        " INNER JOIN ",
                        " CROSS JOIN ",
                        " STRAIGHT_JOIN ",
                    ]
                )
            )
            text += join + draw(columns())
            if "JOIN" in join and draw(st.booleans()):
                text += draw(
                    st.sampled_from([f" ON {draw(expressions())}", f" USING ({draw(names)})"])
                )
    if draw(st.booleans()):
        text += " WHERE " + draw(expressions())
    if draw(st.booleans()):
        text += " GROUP BY " + draw(expressions())
        if draw(st.booleans()):
            text += " HAVING " + draw(expressions())
    if draw(st.booleans()):
        text += " ORDER BY " + draw(expressions()) + draw(st.sampled_from(["", " ASC", " DESC"]))
    if draw(st.booleans()):
        text += " LIMIT " + draw(st.sampled_from(["1", "10, 20", "5 OFFSET 2", "?", "1.5"]))
    return text


@st.composite
def conditions(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        column = draw(columns())
        form = draw(st.integers(0, 4))
        value = draw(st.one_of(st.sampled_from(_LITERALS), st.sampled_from(_LITERALS), columns()))
        if form == 0:
            parts.append(f"{column} {draw(st.sampled_from(['=', '<>', '<', '>=', '!=']))} {value}")
        elif form == 1:
            parts.append(f"{column} IN ({value}, {draw(st.sampled_from(_LITERALS))})")
        elif form == 2:
            parts.append(f"{column} BETWEEN {value} AND {draw(st.sampled_from(_LITERALS))}")
        elif form == 3:
            parts.append(f"{column} IS {draw(st.sampled_from(['NULL', 'NOT NULL']))}")
        else:
            parts.append(f"{column} {draw(st.sampled_from(['LIKE', 'NOT IN']))} {value}")
    return draw(st.sampled_from([" AND ", " AND ", " OR "])).join(parts)


@st.composite
def writes(draw: st.DrawFn) -> str:
    table = draw(columns())
    kind = draw(st.integers(0, 2))
    if kind == 0:
        cols = ", ".join(draw(st.lists(names, min_size=1, max_size=3)))
        rows = ", ".join(
            "(" + ", ".join(draw(st.lists(expressions(), min_size=1, max_size=3))) + ")"
            for _ in range(draw(st.integers(1, 2)))
        )
        verb = draw(
            st.sampled_from(["INSERT INTO", "INSERT", "REPLACE INTO", "INSERT IGNORE INTO"])
        )
        text = f"{verb} {table} ({cols}) VALUES {rows}"
        if draw(st.booleans()):
            text += f" ON DUPLICATE KEY UPDATE {draw(names)} = {draw(expressions())}"
        return text
    alias = draw(st.sampled_from(["", " AS x", " x", " `x`"]))
    if kind == 1:
        sets = ", ".join(
            f"{draw(columns())} = {draw(expressions())}" for _ in range(draw(st.integers(1, 2)))
        )
        text = f"UPDATE {table}{alias} SET {sets}"
    else:
        text = f"DELETE FROM {table}{alias}"
    if draw(st.booleans()):
        text += " WHERE " + draw(conditions())
    if draw(st.booleans()):
        text += " ORDER BY " + draw(names)
    if draw(st.booleans()):
        text += " LIMIT " + draw(st.sampled_from(["1", "?"]))
    return text


_SETTINGS = ["autocommit", "time_zone", "wait_timeout", "sql_mode", "sql_log_bin",
             "character_set_client", "foreign_key_checks", "@@session.wait_timeout",
             "@@global.wait_timeout", "SESSION net_read_timeout", "GLOBAL wait_timeout", "@x",
             "NAMES"]  # fmt: skip
_SET_VALUES = ["1", "0", "ON", "OFF", "'UTC'", "DEFAULT", "utf8mb4", "gbk", "'ANSI_QUOTES'",
               "''", "NULL", "-1"]  # fmt: skip


@st.composite
def others(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        parts = []
        for _ in range(draw(st.integers(1, 3))):
            name = draw(st.sampled_from(_SETTINGS))
            value = draw(st.sampled_from(_SET_VALUES))
            if name == "NAMES":
                parts.append(f"NAMES {value}" + draw(st.sampled_from(["", " COLLATE utf8mb4_bin"])))
            else:
                parts.append(f"{name} {draw(st.sampled_from(['=', ':=']))} {value}")
        return "SET " + ", ".join(parts)
    if kind == 1:
        return draw(
            st.sampled_from(
                [
                    "SHOW TABLES",
                    "SHOW FULL COLUMNS FROM t",
                    "SHOW STATUS LIKE 'x%'",
                    "SHOW WARNINGS",
                    "SHOW CREATE TABLE `t`",
                ]
            )
        )
    return draw(
        st.sampled_from(
            [
                "BEGIN",
                "BEGIN WORK",
                "COMMIT",
                "COMMIT WORK",
                "ROLLBACK",
                "ROLLBACK WORK",
                "USE shop",
                "USE `my db`",
                "START TRANSACTION",
            ]
        )
    )


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(selects(), writes(), others()))
def test_fast_path_gives_the_full_paths_answer(sql: str) -> None:
    fast, slow, _ = _both_paths(sql)
    assert fast == slow, (sql, fast, slow)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT c FROM sbtest1 WHERE id=4242",
        "SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 100 AND 199",
        "SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 1 AND 9 ORDER BY c",
        "UPDATE sbtest1 SET k=k+1 WHERE id=4242",
        "DELETE FROM sbtest1 WHERE id=4242",
        "INSERT INTO sbtest1 (id, k, c, pad) VALUES (1, 2, 'c', 'p')",
        "SELECT o.id, o.total FROM orders o JOIN customers c ON c.id = o.customer_id"
        " WHERE c.id = ?",
        "SET NAMES utf8mb4", "SET autocommit = 0", "SELECT @@tx_isolation", "SELECT VERSION()",
        "SELECT DATABASE()", "COMMIT", "ROLLBACK", "SHOW FULL TABLES FROM `shop`",
        "DELETE FROM t", "UPDATE t SET a = 1 LIMIT 2",
    ],
)  # fmt: skip
def test_fast_path_takes_the_common_statements(sql: str) -> None:
    fast, slow, accepted = _both_paths(sql)
    assert accepted, "the fast path should decide this statement"
    assert fast == slow


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM t WHERE id = id", "DELETE FROM t WHERE 1 = 1",
        "UPDATE t SET a = 1 WHERE x.id = 1",
        "SELECT my_f(1)", "SELECT UPPER(a, b)", "SELECT a FROM t FOR UPDATE", "SELECT a INTO @x",
        "SET sql_mode = ''", "SET GLOBAL a = 1", "SELECT date FROM t", "SHOW TABLES WHERE f()",
        "SELECT now ()", "SELECT COUNT (*) FROM t", "SELECT SUM/**/(a) FROM t",
    ],
)  # fmt: skip
def test_fast_path_declines_what_it_cannot_decide(sql: str) -> None:
    fast, slow, accepted = _both_paths(sql)
    assert not accepted
    assert fast == slow
