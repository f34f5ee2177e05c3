"""Tests of iap.runs without sockets: the split of a script into the texts its client sends,
their hashes, a run's plan (classes, decisions, the rule of its one request) and its grant.

The expected splits were captured from the real clients (psql 15 `-f`, the MariaDB 10.11 CLI
reading a file) through a proxy logging every Query / COM_QUERY; tests/e2e/test_run.py runs
them for real. Client commands that send queries of the client's own (`use db`, `status`,
`\\copy`) are left out: those texts are not the script's and are decided as usual.
"""

from __future__ import annotations

import hashlib

import pytest

from iap.classify import Risk
from iap.config import ConnectionConfig, GatewayConfig, Rule
from iap.policy import Action
from iap.runs import (
    RunGrant,
    RunPlan,
    plan_run,
    split,
    split_mariadb,
    split_psql,
    statement_hash,
)

# -- psql -f -----------------------------------------------------------------------------------

PSQL_SCRIPT = (
    "SELECT 1\n\nAS a;\n  \t \nSELECT 2   \n   \nAS b; SELECT 3 -- c\n;\n"
    "/* lead */ SELECT 4;\nSELECT $$a;\n\nb$$ AS x, E'q\\';' AS y;\nSELECT 5\\; SELECT 6;\n"
    "SELECT (1;\n2);\nSELECT 7 /* x\n\n y */;\n\\echo hello\nSELECT 8\n\\echo mid\n;\n"
    "CREATE TEMP TABLE tt (a int);\nCOPY tt FROM stdin;\n1\n2\n\\.\nSELECT 9;   \nSELECT 10\n\n"
)
PSQL_SENT = [
    "SELECT 1\nAS a;",  # an empty line outside quotes is skipped
    "SELECT 2   \n   \nAS b;",  # a line of spaces is not
    "SELECT 3 -- c\n;",  # a comment inside a statement stays; before one it goes
    "/* lead */ SELECT 4;",
    "SELECT $$a;\n\nb$$ AS x, E'q\\';' AS y;",
    "SELECT 5; SELECT 6;",  # \; puts a semicolon in the query
    "SELECT (1;\n2);",  # no statement ends inside parentheses
    "SELECT 7 /* x\n\n y */;",
    "SELECT 8\n;",  # a line holding only a command adds no newline
    "CREATE TEMP TABLE tt (a int);",
    "COPY tt FROM stdin;",  # its data lines, up to \., are not statements
    "SELECT 9;",
    "SELECT 10",  # the end of the file sends the rest, without a final newline
]

PSQL_ROUTINES = """\
CREATE FUNCTION pg_temp.f1(a int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT a + 1;
  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;
END;
create or replace procedure pg_temp.p1() language sql begin atomic select 1; end;
CREATE FUNCTION pg_temp.f2() RETURNS text LANGUAGE plpgsql
    AS $body$ BEGIN RETURN 'x;$$;'; END $body$;
SELECT $a$ $b$ ; $a$, $$x$$, a$b$ FROM (SELECT 1 AS a$b$) s;
SELECT /* outer /* inner ; */ still ; */ 1;
SELECT E'a\\\\';b', 'c\\'; SELECT 'd'';
SET standard_conforming_strings = off;
SELECT 'a\\';b';
RESET standard_conforming_strings;
SELECT 'x\\'; SELECT 2;
SELECT U&'d\\0061t;' AS u, U&"a;b" AS "q""u;", B'0101', X'1F';
SELECT n'nat;ional', 1.5e3, .5, 1::int, 1orbegin$$;
SELECT 1 \\g
SELECT 2 \\r
SELECT 3;
CREATE TEMP TABLE t5 (a int, b text);
\\copy t5 from stdin
1\tx;y
\\.
COPY t5 (a, b) FROM STDIN WITH (FORMAT csv);
2,"a;b"
\\.
\\restrict Abc123
SELECT 'tail'
"""
PSQL_ROUTINES_SENT = [
    "CREATE FUNCTION pg_temp.f1(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT a + 1;\n"
    "  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\nEND;",
    "create or replace procedure pg_temp.p1() language sql begin atomic select 1; end;",
    "CREATE FUNCTION pg_temp.f2() RETURNS text LANGUAGE plpgsql\n"
    "    AS $body$ BEGIN RETURN 'x;$$;'; END $body$;",
    "SELECT $a$ $b$ ; $a$, $$x$$, a$b$ FROM (SELECT 1 AS a$b$) s;",
    "SELECT /* outer /* inner ; */ still ; */ 1;",
    "SELECT E'a\\\\';",
    # `\'` outside a string is a command of psql's own (unknown: its line goes)
    "b', 'c\nSET standard_conforming_strings = off;",
    "SELECT 'a\\';",  # (that SET was part of a failed statement: strings stay standard)
    "b';\nRESET standard_conforming_strings;\nSELECT 'x\n"
    "SELECT U&'d\\0061t;' AS u, U&\"a;b\" AS \"q\"\"u;\", B'0101', X'1F';",
    "SELECT n'nat;ional', 1.5e3, .5, 1::int, 1orbegin$$;",  # `rbegin$$` is one identifier
    "SELECT 1 ",
    "SELECT 3;",
    "CREATE TEMP TABLE t5 (a int, b text);",
    # (psql sends `COPY  t5 FROM STDIN ` of its own for \copy, and reads its data)
    "COPY t5 (a, b) FROM STDIN WITH (FORMAT csv);",
    "SELECT 'tail'",
]


def test_psql_split_matches_what_psql_sends() -> None:
    assert split_psql(PSQL_SCRIPT) == PSQL_SENT
    assert split(PSQL_SCRIPT, "postgres") == PSQL_SENT


def test_psql_split_follows_bodies_quotes_and_client_commands() -> None:
    assert split_psql(PSQL_ROUTINES) == PSQL_ROUTINES_SENT


def test_psql_standard_conforming_strings_off_makes_backslash_an_escape() -> None:
    script = "SET standard_conforming_strings = off;\nSELECT 'a\\';b';\nSELECT 'c\\';\n"
    assert split_psql(script) == [
        "SET standard_conforming_strings = off;",
        "SELECT 'a\\';b';",
        "SELECT 'c\\';",
    ]


def test_psql_commands_send_reset_and_quit() -> None:
    assert split_psql("\\g\nSELECT 1 \\g\n\\g\nSELECT 2 \\r\nSELECT 3;\n\\q\nSELECT 4;\n") == [
        "",  # \g with nothing typed before sends the empty query
        "SELECT 1 ",
        "SELECT 1 ",  # then the previous one again
        "SELECT 3;",
    ]
    # An unknown command throws its whole line away, a known one ends at `\\`.
    assert split_psql("\\nosuch x \\\\ SELECT 1;\n\\echo x \\\\ SELECT 2;\n") == ["SELECT 2;"]


def test_psql_copy_data_is_skipped_up_to_its_end_marker() -> None:
    script = "COPY a FROM stdin; COPY b FROM STDIN;\n1\n\\.\n2\r\n\\.\r\nSELECT 1;\n"
    assert split_psql(script) == ["COPY a FROM stdin;", "COPY b FROM STDIN;", "SELECT 1;"]
    assert split_psql("COPY a TO stdout;\nSELECT 1;\n") == ["COPY a TO stdout;", "SELECT 1;"]


# -- the mariadb CLI ---------------------------------------------------------------------------

MARIADB_SCRIPT = (
    "SELECT 1\n"
    "\n"
    "AS a;\n"
    "  \t \n"
    "SELECT 2   \n"
    "   \n"
    "AS b; SELECT 3 -- c\n"
    ";\n"
    "/* lead */ SELECT 4;\n"
    "SELECT 'a;\n"
    "\n"
    "b' AS x, 'q\\';' AS y, \"d;q\" AS z, 1 AS `e;f`;\n"
    "SELECT 5 # hash\n"
    ";\n"
    "SELECT 7 /* x\n"
    "\n"
    " y */;\n"
    "SELECT 8 /* c */+1;\n"
    "/*!40101 SELECT 9 */;\n"
    "SELECT 10--1\n"
    ";\n"
    "--nospace at start\n"
    "SELECT 11 /*+ hint */;\n"
    "DELIMITER ;;\n"
    "SELECT 12;;\n"
    "DELIMITER ;\n"
    "use rundst;\n"
    "SELECT 13\\g\n"
    "SELECT 14\\G\n"
    "SELECT 15 \\c\n"
    "SELECT 16   \n"
)
MARIADB_SENT = [
    "SELECT 1\n\nAS a",
    "SELECT 2   \n   \nAS b",
    "SELECT 3",
    " SELECT 4",  # a comment before a statement leaves a space
    "SELECT 'a;\n\nb' AS x, 'q\\';' AS y, \"d;q\" AS z, 1 AS `e;f`",
    "SELECT 5",
    "SELECT 7",
    "SELECT 8  +1",
    "/*!40101 SELECT 9 */",
    "SELECT 10--1",
    "SELECT 11",
    "SELECT 12",
    "SELECT 13",  # (`use rundst` is the client's own command)
    "SELECT 14",
    "SELECT 16",
]

MARIADB_MORE = (
    "\ufeffSELECT 'a\r\nb' AS q;\r\nSELECT \"a\\\nb\";\nSELECT 2 /* c */\u00e9x;\n"
    "SELECT 3 \\p ;\nSELECT 4\\-;\nSELECT 5 /*!40101 + 1 */ ;\nSELECT 6 /*M!100000 + 1 */;\n"
    "SELECT 'caf\u00e9'\t \n;\n  status\nSELECT 7 # x\n-- y\n\n"
)
MARIADB_MORE_SENT = [
    "SELECT 'a\nb' AS q",  # a byte order mark and the \r of each line are dropped
    'SELECT "a\nb"',  # a backslash ending a line is dropped, even in a string
    "SELECT 2 \u00e9 x",
    "SELECT 3",
    "SELECT 4",
    "SELECT 5 /*!40101 + 1 */",
    "SELECT 6 /*M!100000 + 1 */",
    "SELECT 'caf\u00e9'",
    "SELECT 7",
]

MARIADB_TRIGGERS = """\
INSERT INTO t6 VALUES (1, 'a;b'), (2, 'it\\'s -- not # a comment'), (3, "dq;\\"x"), (5,'/* no */');
DELIMITER //
CREATE TRIGGER t6_bi BEFORE INSERT ON t6 FOR EACH ROW BEGIN SET NEW.v = ';'; END //
DELIMITER ;
DELIMITER ;;
/*!50003 CREATE*/ /*!50003 TRIGGER t6_bu BEFORE UPDATE ON t6 FOR EACH ROW BEGIN
  SET NEW.v = 'u;';
END */;;
DELIMITER ;
SELECT '\\N', \\N ;
"""
MARIADB_TRIGGERS_SENT = [
    "INSERT INTO t6 VALUES (1, 'a;b'), (2, 'it\\'s -- not # a comment'), (3, \"dq;\\\"x\"), "
    "(5,'/* no */')",
    "CREATE TRIGGER t6_bi BEFORE INSERT ON t6 FOR EACH ROW BEGIN SET NEW.v = ';'; END",
    "/*!50003 CREATE*/ /*!50003 TRIGGER t6_bu BEFORE UPDATE ON t6 FOR EACH ROW BEGIN\n"
    "  SET NEW.v = 'u;';\nEND */",
    "SELECT '\\N', \\N",
]

MARIADB_DUMP_HEAD = (
    "/*M!999999\\- enable the sandbox mode */ \n"
    "-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)\n"
    "--\n"
    "-- Host: 127.0.0.1    Database: runsrc\n"
    "\n"
    "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
    "/*!40101 SET NAMES utf8mb4 */;\n"
    "LOCK TABLES `customers` WRITE;\n"
    "INSERT INTO `customers` VALUES\n"
    "(1,'ann','it\\'s; tricky'),\n"
    "(2,'bob','back\\\\slash\\nnewline -- not a comment');\n"
    "UNLOCK TABLES;\n"
    "\n"
    "-- Dump completed on 2026-12-07 12:25:54\n"
)
MARIADB_DUMP_SENT = [
    "/*M!999999 enable the sandbox mode */ \n\n\n\n\n/*!40101 SET @OLD_CHARACTER_SET_CLIENT="
    "@@CHARACTER_SET_CLIENT */",  # the sandbox command goes; each comment line leaves "\n"
    "/*!40101 SET NAMES utf8mb4 */",
    "LOCK TABLES `customers` WRITE",
    "INSERT INTO `customers` VALUES\n(1,'ann','it\\'s; tricky'),\n"
    "(2,'bob','back\\\\slash\\nnewline -- not a comment')",
    "UNLOCK TABLES",
]


@pytest.mark.parametrize(
    ("script", "sent"),
    [
        pytest.param(MARIADB_SCRIPT, MARIADB_SENT, id="statements"),
        pytest.param(MARIADB_MORE, MARIADB_MORE_SENT, id="bom-crlf-commands"),
        pytest.param(MARIADB_TRIGGERS, MARIADB_TRIGGERS_SENT, id="delimiter"),
        pytest.param(MARIADB_DUMP_HEAD, MARIADB_DUMP_SENT, id="dump"),
    ],
)
def test_mariadb_split_matches_what_the_cli_sends(script: str, sent: list[str]) -> None:
    assert split_mariadb(script) == sent
    assert split(script, "mysql") == sent


def test_mariadb_quit_stops_and_the_last_statement_needs_no_delimiter() -> None:
    assert split_mariadb("SELECT 1;\nquit\nSELECT 2;\n") == ["SELECT 1"]
    assert split_mariadb("SELECT 1; \\q SELECT 2;\n") == ["SELECT 1"]
    assert split_mariadb("SELECT 1;\nSELECT 2") == ["SELECT 1", "SELECT 2"]


def test_no_client_for_another_kind() -> None:
    with pytest.raises(ValueError, match="tcp"):
        split("SELECT 1;", "tcp")


# -- hashes, plans and grants ------------------------------------------------------------------


def test_a_statement_hash_is_the_sha256_of_its_exact_text() -> None:
    assert statement_hash("DROP TABLE t;") == hashlib.sha256(b"DROP TABLE t;").hexdigest()
    assert statement_hash("DROP TABLE t;") != statement_hash("DROP TABLE t; ")
    # Text that was not UTF-8 (lone surrogates, as the engines decode it) hashes too.
    assert statement_hash("SELECT '\udcff';") != statement_hash("SELECT '\udcfe';")


def test_a_grant_covers_its_texts_up_to_its_class() -> None:
    grant = RunGrant("K7Q2XD", frozenset({statement_hash("DROP TABLE t;")}), Risk.ADMIN)
    assert grant.label == "run:K7Q2XD"
    assert grant.covers("DROP TABLE t;", Risk.DESTRUCTIVE)
    assert grant.covers("DROP TABLE t;", Risk.ADMIN)
    assert not grant.covers("DROP TABLE t;", Risk.UNKNOWN)  # unknown outranks admin
    assert not grant.covers("DROP TABLE u;", Risk.DDL)
    ddl = RunGrant("K7Q2XD", grant.hashes, Risk.DDL)
    assert not ddl.covers("DROP TABLE t;", Risk.DESTRUCTIVE)


PG = ConnectionConfig(name="pg-main", address="127.0.0.1:5432", database="app", user="app")
SCRIPT = (
    "SELECT 1;\nINSERT INTO t VALUES (1);\nCREATE TABLE u (a int);\nDROP TABLE t;\n"
    "ALTER TABLE u ADD COLUMN b int;\n"
)


def plan(config: GatewayConfig, script: str = SCRIPT) -> RunPlan:
    return plan_run(config, user="alice", roles=("dev",), connection=PG, script=script)


def test_a_plan_classifies_and_decides_every_statement() -> None:
    planned = plan(GatewayConfig(connections=(PG,)))
    assert [(s.number, s.risk.value, s.decision.action.value) for s in planned.statements] == [
        (1, "read", "allow"),
        (2, "write", "allow"),
        (3, "ddl", "hold"),
        (4, "destructive", "hold"),
        (5, "ddl", "hold"),
    ]
    assert planned.risk is Risk.DESTRUCTIVE
    assert planned.denied is None
    assert planned.counts() == {"read": 1, "write": 1, "ddl": 2, "destructive": 1}
    assert len(planned.hashes) == 5
    # The default rules: ddl may use a code 15 minutes old, destructive needs a fresh one.
    rule = planned.rule()
    assert (rule.approval, rule.max_age, rule.risks) == (
        "self",
        0.0,
        ("destructive", "admin", "unknown"),
    )
    summary = planned.summary("move t to u")
    assert summary[:2] == (
        "reason: move t to u",
        "iap run of 5 statements: 1 destructive, 2 ddl, 1 write, 1 read",
    )
    assert summary[2].startswith("statement 4 (destructive): DROP TABLE t;")
    assert [line.split(" (")[0] for line in summary[3:]] == ["statement 3", "statement 5"]


def test_a_lower_class_asking_for_a_peer_makes_the_run_need_one() -> None:
    peer = Rule(risks=("ddl",), action="hold", approval="peer", approver_roles=("dba",))
    rule = plan(GatewayConfig(connections=(PG,), rules=(peer,))).rule()
    assert (rule.approval, rule.approver_roles, rule.max_age) == ("peer", ("dba",), 0.0)


def test_a_denied_statement_is_named() -> None:
    deny = Rule(risks=("destructive",), action="deny")
    denied = plan(GatewayConfig(connections=(PG,), rules=(deny,))).denied
    assert denied is not None
    assert (denied.number, denied.decision.action) == (4, Action.DENY)


def test_a_statement_over_the_size_limit_is_unknown() -> None:
    config = GatewayConfig.model_validate(
        {"connections": [PG.model_dump(exclude_none=True)], "policy": {"max_statement_bytes": 1024}}
    )
    planned = plan(config, f"SELECT 1;\nSELECT '{'x' * 1024}';\n")
    assert [s.risk for s in planned.statements] == [Risk.READ, Risk.UNKNOWN]
    assert "max_statement_bytes" in planned.statements[1].reasons[0]
