"""What PostgreSQL's own tools send before their work is a read (tests/e2e/test_pg_tools.py
runs the tools themselves through the gateway); look-alikes that set something else are not."""

from __future__ import annotations

import pytest

from iap.classify import Risk, classify

# As pg_dump 15, pg_dumpall and pg_restore send them (captured through the gateway's audit).
TOOL_STATEMENTS = [
    "SET synchronize_seqscans TO off",
    "SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings"
    " WHERE name = 'restrict_nonsystem_relation_kind'",
    "SELECT pg_catalog.set_config('search_path', '', false);",
    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    "SET quote_all_identifiers = true",
    "SET row_security = off",
    "SET check_function_bodies = false",
    "SET default_table_access_method = heap",
]


@pytest.mark.parametrize("sql", TOOL_STATEMENTS)
def test_tool_start_up_statements_are_reads(sql: str) -> None:
    assert classify(sql).risk is Risk.READ


@pytest.mark.parametrize(
    ("sql", "risk"),
    [
        # the pg_settings idiom names exactly one setting: that setting's class
        ("SELECT set_config(name, 'x', false) FROM pg_settings WHERE name = 'role'", Risk.ADMIN),
        # anything looser could name any setting
        ("SELECT set_config(name, 'x', false) FROM pg_settings", Risk.ADMIN),
        (
            "SELECT set_config(name, 'x', false) FROM pg_settings WHERE name = 'work_mem' OR true",
            Risk.ADMIN,
        ),
        ("SELECT set_config(name, 'x', false) FROM t WHERE name = 'work_mem'", Risk.ADMIN),
        (
            "SELECT set_config(name, 'x', false) FROM myschema.pg_settings WHERE name = 'work_mem'",
            Risk.ADMIN,
        ),
        (
            "SELECT (SELECT set_config(name, 'x', false) FROM t) FROM pg_settings"
            " WHERE name = 'work_mem'",
            Risk.ADMIN,
        ),
    ],
)
def test_look_alikes_are_judged_by_what_they_may_set(sql: str, risk: Risk) -> None:
    assert classify(sql).risk is risk
