"""What MySQL statements leave in the session, statement by statement, and how the engine
follows it from the server's answers: the classifier's steps (PREPARE, DEALLOCATE, EXECUTE,
lexing changes, code it cannot see), the rest of a text read under the state a statement
left, executable comments holding a `;`, stored program bodies, and the engine's map of
prepared names (iap.engines.mysql.PreparedNames) fed with answers that stop at an error.

Pure: no sockets (the server's side is tests/e2e/test_mysql_session_state.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from iap.classify import Classification, LexState, Risk, classify, mysql
from iap.classify.types import PreparedFacts, SessionStep
from iap.engines.mysql import PreparedNames
from tests.iap.mysql_corpus import CORPUS_CHARSET, CORPUS_SQL_MODE

STATE = LexState(client_encoding=CORPUS_CHARSET, sql_mode=CORPUS_SQL_MODE)
PIPES = LexState(client_encoding=CORPUS_CHARSET, sql_mode="PIPES_AS_CONCAT")


def mysql_class(sql: str, state: LexState = STATE, **kwargs: Any) -> Classification:
    return classify(sql, "mysql", state=state, **kwargs)


def steps(sql: str, state: LexState = STATE, **kwargs: Any) -> tuple[SessionStep, ...]:
    found = mysql_class(sql, state, **kwargs).steps
    assert found is not None, sql
    return found


# ----------------------------------------------------------------------------- steps


def test_each_statement_has_its_step_in_order() -> None:
    found = steps(
        "SELECT 1; PREPARE s FROM 'DELETE FROM t'; DEALLOCATE PREPARE s; EXECUTE s",
    )
    assert [(s.prepare and s.prepare[0], s.deallocate, s.execute) for s in found] == [
        (None, None, None),
        ("s", None, None),
        (None, "s", None),
        (None, None, "s"),
    ]
    assert found[1].prepare == ("s", PreparedFacts(Risk.DESTRUCTIVE))
    assert steps("") == () and steps("SELECT 1") == (SessionStep(),)


def test_prepared_facts_say_what_running_the_text_does() -> None:
    def facts(text: str) -> PreparedFacts:
        prepare = steps(f"PREPARE s FROM {text}")[0].prepare
        assert prepare is not None
        return prepare[1]

    assert facts("'SELECT 1'") == PreparedFacts(Risk.READ)
    assert facts("'SET sql_mode = '''''") == PreparedFacts(Risk.READ, lexing=True)
    assert facts("'SET NAMES utf8mb4'") == PreparedFacts(Risk.READ, lexing=True)
    assert facts("'CALL p()'") == PreparedFacts(Risk.ADMIN, lexing=True, opaque=True)
    assert facts("@text") == PreparedFacts(Risk.UNKNOWN, lexing=True, opaque=True)


@pytest.mark.parametrize(
    ("sql", "lexing"),
    [
        ("SET autocommit = 1", False), ("SET @x = 1", False), ("SELECT 1", False),
        ("SET NAMES utf8mb4", True), ("SET CHARACTER SET latin1", True),
        ("SET character_set_client = @saved", True), ("SET sql_mode = @old", True),
        ("SET @@session.sql_mode = ''", True), ("SET collation_connection = @c", True),
        ("SET GLOBAL sql_mode = ''", False),  # not this session's
        ("SET STATEMENT sql_mode = '' FOR SELECT 1", False),  # only for that statement
        ("CALL p()", True), ("BEGIN NOT ATOMIC SELECT 1; END", True), ("SELECT my_udf()", True),
        ("EXECUTE IMMEDIATE 'SELECT 1'", False), ("EXECUTE IMMEDIATE 'SET sql_mode = '''''", True),
    ],
)  # fmt: skip
def test_statements_that_may_change_the_lexing_state(sql: str, lexing: bool) -> None:
    assert mysql_class(sql).lexing is lexing


def test_execute_of_a_session_name_may_change_the_lexing_state() -> None:
    """The session's names are known by their class only: running one may change anything
    a read may (a SET sql_mode), so the engine reads the state back after it."""
    assert mysql_class("EXECUTE s", prepared={"s": Risk.READ}).lexing
    assert not mysql_class("PREPARE s FROM 'SELECT 1'; EXECUTE s").lexing
    assert mysql_class("PREPARE s FROM 'SET sql_mode = '''''; EXECUTE s").lexing


def test_code_the_gateway_cannot_see_makes_every_name_unknown_for_the_rest() -> None:
    found = steps("CALL p(); EXECUTE s", prepared={"s": Risk.READ})
    assert found[0].opaque and found[1].execute == "s"
    assert mysql_class("CALL p(); EXECUTE s", prepared={"s": Risk.READ}).risk is Risk.UNKNOWN
    assert mysql_class("SELECT my_udf()").steps == (SessionStep(lexing=True, opaque=True),)


def test_a_text_read_in_several_ways_keeps_steps_only_when_they_agree() -> None:
    assert mysql_class("SELECT 1 /*!50700 , 2 */").steps == (SessionStep(),)
    assert mysql_class("SELECT 'a\\'; DROP TABLE t; -- '", LexState(sql_mode=None)).steps is None


def test_the_fast_path_records_set_names_as_the_full_path_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken: list[bool] = []
    original = mysql.mysql_fast.classify

    def spy(tokens: Any, ctx: Any) -> Any:
        info = original(tokens, ctx)
        taken.append(info is not None)
        return info

    monkeypatch.setattr(mysql.mysql_fast, "classify", spy)
    fast = mysql.classify_mysql("SET NAMES utf8mb4", state=STATE)
    monkeypatch.setattr(mysql.mysql_fast, "classify", lambda tokens, ctx: None)
    slow = mysql.classify_mysql("SET NAMES utf8mb4", state=STATE)
    assert taken == [True]
    assert fast == slow
    assert fast.steps == (SessionStep(lexing=True),)


# ----------------------------------------------------------------------------- the rest of a text


@pytest.mark.parametrize(
    ("sql", "risk"),
    [
        # after a charset restored from a variable the rest is read with the charset unknown
        ("SET character_set_client = @saved; SELECT 'é'", Risk.UNKNOWN),
        ("SET character_set_client = @saved; SELECT 'plain'", Risk.READ),
        ("SET NAMES utf8mb4; SELECT 'é'", Risk.READ),
        # after a prepared statement that may change sql_mode, || may be OR again
        ("EXECUTE s; DELETE FROM t WHERE id = 0 || 1", Risk.DESTRUCTIVE),
        ("PREPARE q FROM 'SELECT 1'; EXECUTE q; DELETE FROM t WHERE id = 0 || 1", Risk.WRITE),
        ("PREPARE q FROM 'SET sql_mode = '''''; EXECUTE q; DELETE FROM t WHERE id = 0 || 1",
         Risk.DESTRUCTIVE),
        ("SET sql_mode = @old; DELETE FROM t WHERE id = 0 || 1", Risk.DESTRUCTIVE),
        ("CALL p(); SELECT 'a\\'; DROP TABLE t; -- '", Risk.UNKNOWN),
    ],
)  # fmt: skip
def test_the_rest_of_a_text_is_read_under_the_state_a_statement_left(sql: str, risk: Risk) -> None:
    assert mysql_class(sql, PIPES, prepared={"s": Risk.READ}).risk is risk


def test_restoring_a_saved_setting_is_a_read() -> None:
    for sql in (
        "SET character_set_client = @saved_cs_client",
        "SET SQL_MODE=@OLD_SQL_MODE",
        "SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION",
        "SET character_set_connection = @c",
    ):
        assert mysql_class(sql).risk is Risk.READ, sql
    # a value that is not one variable is still read only when the gateway can read it
    assert mysql_class("SET character_set_client = CONCAT('gb', 'k')").risk is Risk.ADMIN
    assert mysql_class("SET sql_mode = CONCAT(@@sql_mode, @x)").risk is Risk.ADMIN
    assert mysql_class("SET NAMES gbk").risk is Risk.ADMIN
    # turning checks of the session's own writes off is write, whatever the value
    for sql in ("SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS", "SET unique_checks = 0"):
        assert mysql_class(sql).risk is Risk.WRITE, sql


# ----------------------------------------------------------------------------- executable comments


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 /*!50000 ; DROP TABLE t */",
        "SELECT 1 /*! ; SELECT 2 */",
        "SELECT 1 /*M! ; SELECT 2 */",
        "SELECT 1 /*M!100100 ;*/",
        "/*!40101 SET @a = 1; SET @b = 2 */",
        "SELECT 1 /*!99999 /* nested */; DROP TABLE t */",
    ],
)
def test_a_semicolon_inside_an_executable_comment_is_unknown(sql: str) -> None:
    result = mysql_class(sql)
    assert result.risk is Risk.UNKNOWN
    assert "executable comment" in result.reasons[0]


def test_a_semicolon_in_a_string_or_a_plain_comment_is_not() -> None:
    assert mysql_class("SELECT 1 /*!40101 , ';' */").risk is Risk.READ
    assert mysql_class("SELECT 1 /* ; */").risk is Risk.READ
    assert mysql_class("/*!40101 SET NAMES utf8mb4 */; SELECT 1").risk is Risk.READ
    assert mysql_class("/*M!999999\\- enable the sandbox mode */").risk is Risk.READ


# ----------------------------------------------------------------------------- stored programs


@pytest.mark.parametrize(
    ("sql", "risk"),
    [
        ("CREATE PROCEDURE p() SELECT 1", Risk.DDL),
        ("CREATE PROCEDURE p() DELETE FROM t", Risk.DESTRUCTIVE),
        ("CREATE PROCEDURE p() BEGIN DELETE FROM t; END", Risk.DESTRUCTIVE),
        ("CREATE PROCEDURE p() BEGIN NOT ATOMIC DROP TABLE t; END", Risk.DESTRUCTIVE),
        ("CREATE PROCEDURE p(IN x INT) DELETE FROM t WHERE id = x", Risk.DDL),
        # a parameter is a constant in the body (and wins over a column of its name)
        ("CREATE PROCEDURE p(IN x INT) DELETE FROM t WHERE x", Risk.DESTRUCTIVE),
        ("CREATE PROCEDURE p(id INT) DELETE FROM t WHERE id = id", Risk.DESTRUCTIVE),
        ("CREATE FUNCTION f() RETURNS INT RETURN (SELECT count(*) FROM t)", Risk.DDL),
        ("CREATE FUNCTION f(a INT) RETURNS INT BEGIN DECLARE b INT DEFAULT a * 2;"
         " SET b = b + 1; RETURN b; END", Risk.DDL),
        ("CREATE FUNCTION f() RETURNS INT BEGIN UPDATE t SET a = 1; RETURN 1; END",
         Risk.DESTRUCTIVE),
        ("CREATE PROCEDURE p() BEGIN DECLARE c CURSOR FOR SELECT id FROM t; DECLARE v INT;"
         " OPEN c; FETCH c INTO v; CLOSE c; SELECT v; END", Risk.DDL),
        ("CREATE PROCEDURE p() BEGIN GRANT ALL ON *.* TO x; END", Risk.ADMIN),
        ("CREATE PROCEDURE p() SET sql_mode = 'ANSI_QUOTES'", Risk.ADMIN),
        # what the gateway does not follow is admin
        ("CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; END", Risk.ADMIN),
        ("CREATE PROCEDURE p() lbl: BEGIN SELECT 1; END", Risk.ADMIN),
        ("CREATE PROCEDURE p() BEGIN DECLARE EXIT HANDLER FOR SQLEXCEPTION DELETE FROM t;"
         " SELECT 1; END", Risk.ADMIN),
        ("CREATE PROCEDURE p() BEGIN PREPARE s FROM 'SELECT 1'; EXECUTE s; END", Risk.ADMIN),
        ("CREATE PROCEDURE p() CALL q()", Risk.ADMIN),
        ("CREATE FUNCTION f() RETURNS INT RETURN my_udf()", Risk.ADMIN),
        # triggers and events run unseen: admin whatever they do
        ("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1", Risk.ADMIN),
        ("CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO SELECT 1", Risk.ADMIN),
        ("ALTER EVENT e DO DELETE FROM t", Risk.ADMIN),
    ],
)  # fmt: skip
def test_stored_programs_take_at_least_the_class_of_their_body(sql: str, risk: Risk) -> None:
    result = mysql_class(sql)
    assert result.risk is risk, result.reasons
    if risk is not Risk.DDL:
        assert any("CREATE" in r or "ALTER" in r for r in result.reasons)


def test_a_routine_replacing_a_safe_one_is_admin_however_it_is_named() -> None:
    safe = frozenset({"app.audit_fn"})
    sql = "CREATE FUNCTION audit_fn() RETURNS INT RETURN 1"
    assert mysql_class(sql, safe_functions=safe).risk is Risk.ADMIN
    assert mysql_class("CREATE FUNCTION other_fn() RETURNS INT RETURN 1").risk is Risk.DDL


# ----------------------------------------------------------------------------- the engine's names


def answered(names: PreparedNames, sql: str, completed: int | None) -> dict[str, str]:
    """Feed names the answer to sql: completed results then an error (None: no error)."""
    found = mysql_class(sql, prepared=names.risks).steps
    names.answered(found, completed is not None, completed or 0)
    return {name: risk.value for name, risk in names.risks.items()}


def test_names_change_only_with_statements_the_server_ran() -> None:
    names = PreparedNames()
    assert answered(names, "PREPARE s FROM 'DELETE FROM t'", None) == {"s": "destructive"}
    # the first statement failed: the PREPARE after it never ran
    replace = "SELECT * FROM nowhere; PREPARE s FROM 'SELECT 1'"
    assert answered(names, replace, 0) == {"s": "destructive"}
    assert answered(names, replace, None) == {"s": "read"}
    # the PREPARE itself failed: the server dropped the old statement of that name
    assert answered(names, "DO 1; PREPARE s FROM 'SELECT 2'; PREPARE t FROM 'SELECT 3'", 1) == {}
    assert answered(names, "PREPARE a FROM 'SELECT 1'; DEALLOCATE PREPARE a", None) == {}
    assert answered(names, "PREPARE a FROM 'SELECT 1'; DEALLOCATE PREPARE b", 1) == {"a": "read"}


def test_past_code_the_gateway_cannot_see_which_statement_failed_is_unknown() -> None:
    names = PreparedNames()
    answered(names, "PREPARE a FROM 'SELECT 1'; PREPARE b FROM 'SELECT 2'", None)
    # CALL may answer with several results: the error's place says nothing any more
    assert answered(names, "CALL p(); PREPARE c FROM 'SELECT 3'", 2) == {}
    answered(names, "PREPARE a FROM 'SELECT 1'; PREPARE c FROM 'CALL p()'", None)
    assert set(names.risks) == {"a", "c"}
    assert answered(names, "EXECUTE c", None) == {}  # the procedure may have prepared names
    answered(names, "PREPARE a FROM 'SELECT 1'", None)
    names.answered(None, False, 0)  # a text the gateway could not read ran
    assert names.risks == {}


def test_an_execute_of_a_known_plain_statement_keeps_the_names() -> None:
    names = PreparedNames()
    answered(names, "PREPARE a FROM 'SELECT 1'; PREPARE b FROM 'DELETE FROM t WHERE id = 1'", None)
    assert answered(names, "EXECUTE a; EXECUTE b", None) == {"a": "read", "b": "write"}
    assert answered(names, "EXECUTE a; DEALLOCATE PREPARE b", 1) == {"a": "read"}
