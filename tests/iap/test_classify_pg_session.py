"""Tests of the PostgreSQL classifier's session statements: PREPARE names the class its
statement will have when executed (the session's map of prepared statements carries it), and
DISCARD/RESET are judged by what they reset.

Pure: no sockets (tests/e2e/test_classify_truth_postgres.py runs DISCARD on the server).
"""

from __future__ import annotations

import json

import pytest
from pglast.parser import ParseError, parse_sql_json

from iap.classify import Risk, classify
from tests.iap import pg_corpus

_PREPARABLE = ("SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt")


def _preparable(sql: str) -> bool:
    try:
        statements = json.loads(parse_sql_json(sql)).get("stmts", [])
    except ParseError:
        return False
    return len(statements) == 1 and any(k in statements[0]["stmt"] for k in _PREPARABLE)


@pytest.mark.parametrize("sql", [s for s in pg_corpus.UNIQUE if _preparable(s)])
def test_prepare_carries_the_class_its_statement_will_run_with(sql: str) -> None:
    """Every preparable statement of the corpus: PREPARE runs nothing (read) and records the
    class EXECUTE will take; a PREPARE the gateway cannot read records nothing (EXECUTE of
    the name is then unknown)."""
    inner, prepared = classify(sql), classify(f"PREPARE p AS {sql}")
    if prepared.risk is Risk.UNKNOWN:
        assert inner.risk is Risk.UNKNOWN and prepared.prepares == ()
        return
    assert prepared.risk is Risk.READ, prepared.reasons
    assert prepared.prepares == (("p", inner.risk),)
    if inner.risk is not Risk.READ:
        assert prepared.reasons, "a risky PREPARE says what it will run"
        assert all(r.startswith(f"PREPARE p ({inner.risk.value} when executed)") for r in
                   prepared.reasons)  # fmt: skip
    executed = classify(f"PREPARE p AS {sql}; EXECUTE p")
    assert executed.risk is inner.risk


@pytest.mark.parametrize(
    ("sql", "prepared", "reason"),
    [
        ("PREPARE d AS DELETE FROM orders", Risk.DESTRUCTIVE, "DELETE without WHERE on orders"),
        (
            "PREPARE d (int) AS DELETE FROM orders WHERE 0.5::int = $1",
            Risk.DESTRUCTIVE,
            "DELETE whose WHERE does not depend on the rows of orders",
        ),
        (
            "PREPARE d (int) AS UPDATE orders SET note = 'x' WHERE id = $1 OR id IS NOT NULL",
            Risk.DESTRUCTIVE,
            "UPDATE whose WHERE may be true on every row of orders",
        ),
        ("PREPARE k AS SELECT pg_terminate_backend(1)", Risk.ADMIN, "pg_terminate_backend()"),
        ("PREPARE u AS SELECT my_cleanup()", Risk.UNKNOWN, "unknown function my_cleanup()"),
        ("PREPARE j AS SELECT json_value('1', '$')", Risk.UNKNOWN, "is syntax of PostgreSQL 17"),
        ("PREPARE w (int) AS DELETE FROM orders WHERE id = $1", Risk.WRITE, "DELETE on orders"),
        ("PREPARE r AS SELECT * FROM orders", Risk.READ, ""),
    ],
)
def test_prepare_reasons_name_the_class_when_executed(
    sql: str, prepared: Risk, reason: str
) -> None:
    result = classify(sql)
    name = sql.split()[1]
    assert result.risk is Risk.READ
    assert result.prepares == ((name, prepared),)
    if prepared is Risk.READ:
        assert result.reasons == ()
    else:
        assert result.reasons[0].startswith(f"PREPARE {name} ({prepared.value} when executed): ")
        assert reason in result.reasons[0]


def test_execute_of_a_risky_prepared_statement_takes_its_class() -> None:
    session = {"d": Risk.DESTRUCTIVE}
    assert classify("EXECUTE d", prepared=session).risk is Risk.DESTRUCTIVE
    assert classify("EXPLAIN ANALYZE EXECUTE d", prepared=session).risk is Risk.DESTRUCTIVE
    assert classify("CREATE TABLE c AS EXECUTE d", prepared=session).risk is Risk.DESTRUCTIVE
    assert classify("PREPARE d AS SELECT 1; EXECUTE d", prepared=session).risk is Risk.READ


@pytest.mark.parametrize(
    ("sql", "risk", "deallocate_all", "reason"),
    [
        ("DISCARD ALL", Risk.WRITE, True, "DISCARD ALL drops this session's temporary tables"),
        ("DISCARD TEMP", Risk.WRITE, False, "DISCARD TEMP drops this session's temporary tables"),
        ("DISCARD TEMPORARY", Risk.WRITE, False, "DISCARD TEMP drops"),
        ("DISCARD PLANS", Risk.READ, False, None),
        ("DISCARD SEQUENCES", Risk.READ, False, None),
        ("RESET ALL", Risk.READ, False, None),
        ("DEALLOCATE ALL", Risk.READ, True, None),
        ("RESET ROLE", Risk.ADMIN, False, "RESET role changes the database identity"),
        ("RESET SESSION AUTHORIZATION", Risk.ADMIN, False, "changes the database identity"),
    ],
)
def test_resets_are_judged_by_what_they_reset(
    sql: str, risk: Risk, deallocate_all: bool, reason: str | None
) -> None:
    result = classify(sql)
    assert result.risk is risk, result.reasons
    assert result.deallocate_all is deallocate_all
    if reason is None:
        assert result.reasons == ()
    else:
        assert reason in result.reasons[0]


def test_discard_all_says_everything_it_resets() -> None:
    (reason,) = classify("DISCARD ALL").reasons
    for what in ("temporary tables", "every prepared statement", "identity", "settings"):
        assert what in reason


def test_discard_all_forgets_what_was_prepared_before_it() -> None:
    session = {"p": Risk.READ}
    result = classify("PREPARE q AS DELETE FROM t; DISCARD ALL; EXECUTE q", prepared=session)
    assert result.risk is Risk.UNKNOWN  # q no longer exists when EXECUTE runs
    assert result.deallocate_all is True
    assert classify("DISCARD PLANS; EXECUTE p", prepared=session).risk is Risk.READ
    assert classify("DISCARD TEMP; EXECUTE p", prepared=session).risk is Risk.WRITE
    after = classify("DISCARD ALL; PREPARE q AS DELETE FROM t")
    assert (after.deallocate_all, after.prepares) == (True, (("q", Risk.DESTRUCTIVE),))
