"""Server truth for the PostgreSQL corpus: run each case on a throwaway database, look at what
actually changed, and check the classifier's class covers it.

Owns the fixture database (a template with the tables, functions and objects the corpus
names, cloned or used inside a transaction per case) and the snapshots that tell what a
statement did: nothing, data (rows of every table, sequences, large objects), schema
(pg_class, pg_attribute, pg_proc, pg_namespace and the catalogs of constraints, indexes,
types, triggers, rules, comments), privileges (roles, memberships, owners and ACLs, policies,
extensions, role and database settings) or session settings (pg_settings set in the session,
the current and session user). The class the server's changes require must never outrank
the classifier's: a read changes nothing (but harmless settings), a write only data, ddl
only schema (and the data a schema change rewrites), destructive may also lose objects,
columns or every row of a table, admin and unknown anything.

Also checks that the server reads syntax newer than itself otherwise (a syntax error, or a
call of a function or a column of that name), which is why the classifier calls it unknown.

Must never run a statement that acts outside the throwaway database or that a rolled-back
transaction cannot undo (NOT_RUN says which and why), never commit a case's changes to the
template, and never leave a database or role behind. Where the server cannot tell (write
vs destructive is about whether a WHERE bounds it) the unit tests hold the rules.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from pglast.parser import ParseError, parse_sql_json
from psycopg import pq

from iap.classify import Risk, classify, classify_setting
from tests.helpers import PgServer
from tests.iap import pg_corpus
from tests.iap.test_classify_pg_version import NEWER_SYNTAX

pytestmark = pytest.mark.e2e

# Cases never run here, whatever the transaction: the server is shared with other sessions
# and tests, and these act on it as a whole, on its files, on other sessions or on the
# network, or cannot run inside a transaction that is rolled back. Matched on the text.
NOT_RUN: tuple[tuple[str, str], ...] = (
    (r"\bALTER\s+SYSTEM\b", "rewrites the shared server's postgresql.auto.conf"),
    (r"pg_terminate_backend|pg_cancel_backend", "acts on other sessions of the shared server"),
    (r"\bPROGRAM\b", "COPY ... PROGRAM runs a shell command on the server"),
    (r"\bCOPY\b[^;]*\b(TO|FROM)\s+'", "COPY to or from a file on the server"),
    (r"lo_import|lo_export|lo_unlink", "server files and large objects of the shared server"),
    (r"pg_read_|pg_ls_dir|pg_stat_file|pg_file_", "reads or writes the server's files"),
    (r"pg_reload_conf|pg_rotate_logfile|pg_switch_wal|pg_promote", "acts on the whole server"),
    (r"replication_slot|pg_stat_reset|\bCHECKPOINT\b", "acts on the whole server"),
    (r"dblink|\bSUBSCRIPTION\b", "connects out to another server"),
    (r"\b(CREATE|DROP|ALTER)\s+DATABASE\b", "databases are objects of the whole server"),
    (r"\bTABLESPACE\s+\w+\s+LOCATION\b", "creates a directory on the server"),
    (r"\bLOAD\s+'", "loads a shared library into the server"),
    (r"\b(COMMIT|ROLLBACK)\s+PREPARED\b", "ends another session's prepared transaction"),
)

# The template every case starts from. Rows are chosen so that each bounded write of the
# corpus leaves some rows alone (so "every row changed" means the statement was unbounded).
FIXTURE = """
CREATE SCHEMA archive;
CREATE SCHEMA myschema;
CREATE TABLE customers (id serial PRIMARY KEY, name text);
INSERT INTO customers (name) VALUES ('Ada'), ('Grace');
CREATE TABLE orders (
    id serial PRIMARY KEY, customer_id int REFERENCES customers (id), note text,
    amount numeric CHECK (amount >= 0), status text, created_at timestamptz,
    deleted_at timestamptz, drop_count int, truncate_flag bool
);
INSERT INTO orders (customer_id, note, amount, status, created_at) VALUES
    (1, 'first', 10, 'open', now() - interval '90 days'),
    (1, 'second', 250, 'held', now()),
    (2, 'third', 5, 'done', now() - interval '60 days'),
    (2, 'upd', 7, 'shipped', now());
CREATE TABLE staging (LIKE orders);
INSERT INTO staging (id, note, amount, status) VALUES (2001, 'staged', 1, 'open');
CREATE TABLE refunds (order_id int);
INSERT INTO refunds VALUES (3);
CREATE TABLE t (
    id int PRIMARY KEY, a int, b int, c int, x int, note text, flag bool,
    CONSTRAINT t_check CHECK (a >= 0)
);
INSERT INTO t VALUES (2, 12, 1, 1, 1, 'two', true), (3, 13, NULL, 2, 2, 'three', false),
    (4, 14, 3, 3, 3, 'four', true), (5, 15, 4, 4, 4, 'five', false);
CREATE INDEX i ON t USING brin (id);
CREATE TABLE u (id int, tid int, b int, flag bool);
INSERT INTO u VALUES (5, 3, 1, true), (6, 9, 2, false);
CREATE TABLE s (id int, a int);
INSERT INTO s VALUES (1, 10), (2, 20);
CREATE TABLE a (id int);
INSERT INTO a VALUES (1), (2);
CREATE TABLE b (id int);
INSERT INTO b VALUES (3), (4);
CREATE TABLE t1 (id int);
CREATE TABLE t2 (id int);
CREATE TABLE t3 (id int);
CREATE TABLE log (id int);
INSERT INTO log VALUES (0);
CREATE TABLE audit (id int, what text);
INSERT INTO audit VALUES (1, 'one'), (2, 'two');
CREATE TABLE "drop" ("delete" int);
CREATE TABLE "Orders" (id int);
CREATE TABLE settings (name text);
INSERT INTO settings VALUES ('application_name');
CREATE TABLE queries (q text);
INSERT INTO queries VALUES ('SELECT 1');
CREATE TABLE p (id int, part text) PARTITION BY LIST (part);
CREATE TABLE p1 PARTITION OF p FOR VALUES IN ('one');
INSERT INTO p VALUES (1, 'one');
CREATE VIEW v AS SELECT id FROM t1;
CREATE MATERIALIZED VIEW mv AS SELECT id FROM t1;
CREATE UNIQUE INDEX mv_id ON mv (id);
CREATE TABLE pgbench_accounts (aid int NOT NULL, bid int, abalance int, filler char(84));
CREATE TABLE pgbench_branches (bid int NOT NULL, bbalance int, filler char(88));
CREATE TABLE pgbench_tellers (tid int NOT NULL, bid int, tbalance int, filler char(84));
CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp,
    filler char(22));
INSERT INTO pgbench_accounts VALUES (35203, 1, 0, ''), (35204, 1, 0, '');
INSERT INTO pgbench_branches VALUES (1, 0, ''), (2, 0, '');
INSERT INTO pgbench_tellers VALUES (2, 1, 0, ''), (3, 1, 0, '');
CREATE POLICY p ON orders USING (true);
CREATE FUNCTION f(int) RETURNS int LANGUAGE sql AS 'SELECT $1';
CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
CREATE PROCEDURE archive_orders() LANGUAGE sql AS 'DELETE FROM orders WHERE status = ''done''';
CREATE FUNCTION order_total(int) RETURNS numeric LANGUAGE sql STABLE
    AS 'SELECT sum(amount) FROM orders WHERE customer_id = $1';
-- Functions nobody listed: what a call of one can do is why such a call is unknown.
CREATE FUNCTION my_cleanup() RETURNS void LANGUAGE sql AS 'DELETE FROM audit';
CREATE FUNCTION my_report(int) RETURNS SETOF int LANGUAGE sql AS 'SELECT $1';
CREATE FUNCTION check_fraud(int) RETURNS bool LANGUAGE sql AS 'SELECT $1 > 2';
CREATE FUNCTION my_id() RETURNS int LANGUAGE sql AS 'SELECT 100';
CREATE FUNCTION my_fn(int DEFAULT 0) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1';
CREATE AGGREGATE my_agg(int) (SFUNC = int4pl, STYPE = int);
CREATE FUNCTION myschema.now() RETURNS int LANGUAGE sql
    AS 'INSERT INTO public.log VALUES (1) RETURNING id';
CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql
    AS 'UPDATE public.audit SET what = $1 RETURNING what';
CREATE FUNCTION "NOW"() RETURNS int LANGUAGE sql AS 'SELECT 1';
-- What the snapshots read: every row of every table as text, in one round trip.
CREATE SCHEMA iap_truth;
CREATE FUNCTION iap_truth.rows() RETURNS TABLE (rel text, row_text text)
LANGUAGE plpgsql SET search_path = pg_catalog AS $f$
DECLARE r record;
BEGIN
    FOR r IN SELECT c.oid::regclass::text AS name FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog',
                   'information_schema', 'iap_truth') AND n.nspname !~ '^pg_toast'
    LOOP
        rel := r.name;  -- one row without text names the table, even when it is empty
        row_text := NULL;
        RETURN NEXT;
        RETURN QUERY EXECUTE format('SELECT %L, t::text FROM %s AS t', r.name, r.name);
    END LOOP;
END $f$;
"""

# Roles the corpus names, created inside each case's transaction (and so never committed).
ROLES = ("bob", "alice", "admin", "x")

_SCHEMA = """
SELECT 'pg_class', oid::text, concat_ws('|', relname, relnamespace, relkind, relpersistence,
    relnatts, relchecks, relhasindex, relhasrules, relhastriggers, relispartition, reloftype,
    reloptions::text, relam, reltablespace, relreplident) FROM pg_class
UNION ALL SELECT 'pg_attribute', attrelid || '.' || attnum, concat_ws('|', attname,
    atttypid, atttypmod, attnotnull, atthasdef, attisdropped, attidentity, attgenerated)
    FROM pg_attribute WHERE attrelid >= 16384
UNION ALL SELECT 'pg_proc', oid::text, concat_ws('|', proname, pronamespace, prokind,
    provolatile, prorettype, proargtypes::text, md5(prosrc)) FROM pg_proc WHERE oid >= 16384
UNION ALL SELECT 'pg_namespace', oid::text, nspname FROM pg_namespace
UNION ALL SELECT 'pg_type', oid::text, concat_ws('|', typname, typnamespace, typtype)
    FROM pg_type WHERE oid >= 16384
UNION ALL SELECT 'pg_constraint', oid::text, concat_ws('|', conname, conrelid, contype,
    convalidated, pg_get_constraintdef(oid)) FROM pg_constraint
UNION ALL SELECT 'pg_index', indexrelid::text, concat_ws('|', indrelid, indisunique,
    indisprimary, indisclustered, indisvalid, indkey::text) FROM pg_index
UNION ALL SELECT 'pg_trigger', oid::text, concat_ws('|', tgname, tgrelid, tgenabled)
    FROM pg_trigger
UNION ALL SELECT 'pg_rewrite', oid::text, concat_ws('|', rulename, ev_class)
    FROM pg_rewrite WHERE oid >= 16384
UNION ALL SELECT 'pg_description', concat_ws('.', objoid, classoid, objsubid), description
    FROM pg_description WHERE objoid >= 16384
UNION ALL SELECT 'pg_inherits', inhrelid || '.' || inhparent, inhseqno::text FROM pg_inherits
UNION ALL SELECT 'pg_sequence', seqrelid::text, concat_ws('|', seqstart, seqincrement,
    seqmax, seqmin, seqcycle) FROM pg_sequence
"""

_PRIVILEGES = """
SELECT 'pg_authid', rolname::text, concat_ws('|', rolsuper, rolinherit, rolcreaterole,
    rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil,
    md5(coalesce(rolpassword, ''))) FROM pg_authid
UNION ALL SELECT 'pg_auth_members', roleid || '.' || member, admin_option::text
    FROM pg_auth_members
UNION ALL SELECT 'pg_db_role_setting', setdatabase || '.' || setrole, setconfig::text
    FROM pg_db_role_setting
UNION ALL SELECT 'pg_default_acl', oid::text, defaclacl::text FROM pg_default_acl
UNION ALL SELECT 'pg_class acl', oid::text, concat_ws('|', relowner, relacl::text,
    relrowsecurity, relforcerowsecurity) FROM pg_class
UNION ALL SELECT 'pg_namespace acl', oid::text, concat_ws('|', nspowner, nspacl::text)
    FROM pg_namespace
UNION ALL SELECT 'pg_proc acl', oid::text, concat_ws('|', proowner, proacl::text, prosecdef)
    FROM pg_proc WHERE oid >= 16384
UNION ALL SELECT 'pg_type acl', oid::text, concat_ws('|', typowner, typacl::text)
    FROM pg_type WHERE oid >= 16384
UNION ALL SELECT 'pg_database', oid::text, concat_ws('|', datdba, datacl::text)
    FROM pg_database WHERE datname = current_database()
UNION ALL SELECT 'pg_policy', oid::text, concat_ws('|', polname, polrelid, polcmd,
    polpermissive, polroles::text) FROM pg_policy
UNION ALL SELECT 'pg_extension', oid::text, extname FROM pg_extension
UNION ALL SELECT 'pg_language', oid::text, lanname FROM pg_language
UNION ALL SELECT 'pg_foreign_server', oid::text, srvname FROM pg_foreign_server
UNION ALL SELECT 'pg_user_mapping', oid::text, umuser::text FROM pg_user_mapping
UNION ALL SELECT 'pg_event_trigger', oid::text, evtname FROM pg_event_trigger
UNION ALL SELECT 'pg_publication', oid::text, pubname FROM pg_publication
UNION ALL SELECT 'pg_seclabel', objoid::text, label FROM pg_seclabel
"""

_ROWS = "SELECT rel, row_text FROM iap_truth.rows()"
_OTHER_DATA = """
SELECT 'sequence', schemaname || '.' || sequencename, last_value::text FROM pg_sequences
UNION ALL SELECT 'large object', oid::text, '' FROM pg_largeobject_metadata
"""

_SETTINGS = """
SELECT 'setting', name, setting FROM pg_settings WHERE source = 'session'
UNION ALL SELECT 'identity', 'current_user', current_user::text
UNION ALL SELECT 'identity', 'session_user', session_user::text
"""

# A relation kind whose disappearance loses data or definitions (not an index: rebuilt).
_DATA_RELKINDS = frozenset("rpvmSf")


@dataclass
class Snapshot:
    schema: dict[tuple[str, str], str] = field(default_factory=dict)
    privileges: dict[tuple[str, str], str] = field(default_factory=dict)
    settings: dict[tuple[str, str], str] = field(default_factory=dict)
    rows: dict[str, list[str]] = field(default_factory=dict)  # table -> sorted row texts
    other_data: dict[tuple[str, str], str] = field(default_factory=dict)


def _rows(conn: psycopg.Connection[Any], sql: str) -> dict[tuple[str, str], str]:
    return {(str(k1), str(k2)): str(v) for k1, k2, v in conn.execute(sql.encode()).fetchall()}


def snapshot(conn: psycopg.Connection[Any]) -> Snapshot:
    """Everything a statement could have changed, read inside its transaction (which it
    leaves as it found it)."""
    conn.execute(b"SAVEPOINT iap_snapshot")
    shot = Snapshot(settings=_rows(conn, _SETTINGS))
    # Read the rest as the session's own user with default settings (a case may have
    # become another user, changed search_path, the time zone or how values print).
    conn.execute(b"RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL")
    shot.schema = _rows(conn, _SCHEMA)
    shot.privileges = _rows(conn, _PRIVILEGES)
    shot.other_data = _rows(conn, _OTHER_DATA)
    for table, row in conn.execute(_ROWS.encode()).fetchall():
        rows = shot.rows.setdefault(str(table), [])
        if row is not None:
            rows.append(str(row))
    for rows in shot.rows.values():
        rows.sort()
    conn.execute(b"ROLLBACK TO SAVEPOINT iap_snapshot; RELEASE SAVEPOINT iap_snapshot")
    return shot


def _changed(before: dict[Any, str], after: dict[Any, str]) -> list[str]:
    keys = sorted(before.keys() | after.keys())
    return [
        f"{k}: {before.get(k)!r} -> {after.get(k)!r}" for k in keys if before.get(k) != after.get(k)
    ]


@dataclass
class Truth:
    """The least class the server's changes require, and what changed."""

    risk: Risk
    changes: list[str]


def truth(before: Snapshot, after: Snapshot) -> Truth:
    risk, changes = Risk.READ, []

    def need(level: Risk, what: list[str]) -> None:
        nonlocal risk
        if what:
            changes.extend(what)
            if level.rank > risk.rank:
                risk = level

    # session settings: each takes the class of SET name = value; another user is admin
    for kind, name in sorted(before.settings.keys() | after.settings.keys()):
        value = after.settings.get((kind, name))
        if value is None or before.settings.get((kind, name)) == value:
            continue  # unchanged, or back to its default (RESET is a read)
        if kind == "identity":
            need(Risk.ADMIN, [f"{name} became {value}"])
        else:
            need(classify_setting(name, value).risk, [f"SET {name} = {value!r}"])
    need(Risk.ADMIN, _privilege_changes(before, after))
    schema = _changed(before.schema, after.schema)
    need(Risk.DDL, schema)
    need(Risk.DESTRUCTIVE, _lost_objects(before, after))
    rows = [
        f"rows of {t}"
        for t in sorted(before.rows.keys() & after.rows.keys())
        if before.rows[t] != after.rows[t]
    ]
    need(Risk.WRITE, rows + _changed(before.other_data, after.other_data))
    need(Risk.DESTRUCTIVE, _every_row(before, after))
    return Truth(risk, changes)


# Owners, ACLs and policies of objects: a change counts where the object exists before and
# after (a created or dropped object brings its own; that is the schema's truth, not access).
_OWNED = frozenset({"pg_class acl", "pg_namespace acl", "pg_proc acl", "pg_type acl"})


def _privilege_changes(before: Snapshot, after: Snapshot) -> list[str]:
    def kept(shot: Snapshot) -> dict[tuple[str, str], str]:
        return {
            (catalog, key): value
            for (catalog, key), value in shot.privileges.items()
            if not (catalog in _OWNED and (catalog, key) not in both)
            and not (catalog == "pg_policy" and value.split("|")[1] in gone)
        }

    both = before.privileges.keys() & after.privileges.keys()
    gone = {k for (c, k) in before.schema.keys() - after.schema.keys() if c == "pg_class"}
    return _changed(kept(before), kept(after))


def _lost_objects(before: Snapshot, after: Snapshot) -> list[str]:
    """Tables, views, sequences, functions, schemas or columns that no longer exist."""
    lost = []
    for (catalog, key), value in before.schema.items():
        fields = value.split("|")
        now = after.schema.get((catalog, key))
        if catalog == "pg_class" and now is None and fields[2] in _DATA_RELKINDS:
            lost.append(f"relation {fields[0]} dropped")
        elif catalog in ("pg_proc", "pg_namespace") and now is None:
            lost.append(f"{catalog} {fields[0]} dropped")
        elif catalog == "pg_attribute" and now is not None and fields[5] < now.split("|")[5]:
            lost.append(f"column {fields[0]} dropped")  # attisdropped false -> true
    return lost


def _every_row(before: Snapshot, after: Snapshot) -> list[str]:
    """Tables of two rows or more whose every row was removed or changed (same columns)."""
    if before.schema != after.schema:  # a schema change rewrites rows: not the data's truth
        return []
    found = []
    for table in sorted(before.rows.keys() & after.rows.keys()):
        old, new = before.rows[table], after.rows[table]
        if len(old) >= 2 and old != new and not set(old) & set(new):
            found.append(f"every row of {table} removed or changed")
    return found


@dataclass(frozen=True)
class TruthDatabase:
    server: PgServer
    template: str

    def clone(self) -> str:
        name = f"{self.template}_{uuid.uuid4().hex[:6]}"
        self.server.execute(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        return name

    def connect(self, dbname: str) -> psycopg.Connection[Any]:
        return psycopg.connect(
            self.server.dsn(dbname),
            options="-c statement_timeout=10s -c lock_timeout=5s",
            autocommit=True,
            prepare_threshold=None,  # cases run DISCARD ALL and DEALLOCATE ALL
        )


@pytest.fixture(scope="module")
def truth_db(pg_server: PgServer) -> Iterator[TruthDatabase]:
    template = pg_server.create_database("iaptruth")
    try:
        pg_server.execute(FIXTURE, dbname=template)
        yield TruthDatabase(pg_server, template)
    finally:
        pg_server.drop_database(template)


@pytest.fixture(scope="module")
def case_db(truth_db: TruthDatabase) -> Iterator[str]:
    """One clone of the template for the cases run inside a rolled-back transaction."""
    name = truth_db.clone()
    try:
        yield name
    finally:
        truth_db.server.drop_database(name)


def _statements(sql: str) -> list[tuple[str, dict[str, Any]]]:
    """(node type, fields) of each statement, as the server's parser reads it."""
    try:
        tree = json.loads(parse_sql_json(sql))
    except ParseError:
        return []
    result = []
    for raw in tree.get("stmts", []):
        ((kind, body),) = raw["stmt"].items()
        result.append((kind, body))
    return result


_ENDS_TRANSACTION = {
    "TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE",
    "TRANS_STMT_COMMIT_PREPARED", "TRANS_STMT_ROLLBACK_PREPARED",
}  # fmt: skip


def _ends_transaction(statements: list[tuple[str, dict[str, Any]]]) -> bool:
    return any(k == "TransactionStmt" and b.get("kind") in _ENDS_TRANSACTION for k, b in statements)


def _setup(statements: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """What the case's transaction needs before it runs: the roles, cursor, savepoints and
    prepared statement the corpus names, unless the case itself creates them."""
    text = json.dumps(statements)
    created_roles = {b.get("role") for k, b in statements if k == "CreateRoleStmt"}
    setup = [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{r}') THEN"
        f" CREATE ROLE {r}; END IF; END $$"
        for r in ROLES
        if r not in created_roles
    ]
    declared = any(k == "DeclareCursorStmt" for k, _ in statements)
    if not declared and ('"portalname": "c"' in text or "CurrentOfExpr" in text):
        setup += ["DECLARE c CURSOR FOR SELECT * FROM t FOR UPDATE", "FETCH 1 FROM c"]
    if not any(k == "PrepareStmt" and b.get("name") == "p1" for k, b in statements):
        setup.append("PREPARE p1 (int) AS SELECT $1")
    return [*setup, "SAVEPOINT s1", 'SAVEPOINT "_pg3_1"']


def _parameters(statements: list[tuple[str, dict[str, Any]]]) -> int:
    """How many $n parameters a client binds (those of a PREPARE's body are its own)."""
    numbers = [
        int(n)
        for kind, body in statements
        if kind != "PrepareStmt"
        for n in re.findall(r'"ParamRef": \{"number": (\d+)', json.dumps(body))
    ]
    return max(numbers, default=0)


def _execute(conn: psycopg.Connection[Any], sql: str) -> None:
    """Run a case as a client would: COPY through the copy protocol, parameters as NULL."""
    statements = _statements(sql)
    copy = [b for k, b in statements if k == "CopyStmt"]
    if len(statements) == 1 and copy and copy[0].get("filename") is None:
        with conn.cursor().copy(sql.encode()) as stream:
            if not copy[0].get("is_from"):
                for _ in stream:
                    pass
        return
    parameters = _parameters(statements)
    if not parameters:
        conn.execute(sql.encode())
        return
    result = conn.pgconn.exec_params(sql.encode(), [None] * parameters)
    if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        sqlstate = (result.error_field(pq.DiagnosticField.SQLSTATE) or b"").decode()
        message = (result.error_message or b"").decode().strip()
        raise psycopg.errors.lookup(sqlstate)(message)


def _not_run(sql: str) -> str | None:
    for pattern, why in NOT_RUN:
        if re.search(pattern, sql, re.IGNORECASE):
            return why
    return None


@dataclass
class Outcome:
    truth: Truth | None
    error: str | None


def run_in_transaction(conn: psycopg.Connection[Any], sql: str) -> Outcome:
    statements = _statements(sql)
    conn.execute(b"BEGIN")
    try:
        for step in _setup(statements):
            conn.execute(step.encode())
        before = snapshot(conn)
        try:
            _execute(conn, sql)
        except psycopg.Error as e:
            return Outcome(None, f"{e.sqlstate}: {str(e).splitlines()[0]}")
        after = snapshot(conn)
        return Outcome(truth(before, after), None)
    finally:
        conn.execute(b"ROLLBACK")
        conn.execute(b"DISCARD ALL")


def run_on_a_clone(db: TruthDatabase, sql: str) -> Outcome:
    """Statements that end transactions or refuse to run in one: on a fresh clone."""
    name = db.clone()
    try:
        with db.connect(name) as conn:
            conn.execute(b"BEGIN")
            before = snapshot(conn)
            conn.execute(b"COMMIT")
            try:
                _execute(conn, sql)
            except psycopg.Error as e:
                return Outcome(None, f"{e.sqlstate}: {str(e).splitlines()[0]}")
            if conn.info.transaction_status != pq.TransactionStatus.IDLE:
                conn.execute(b"ROLLBACK")
            conn.execute(b"BEGIN")
            after = snapshot(conn)
            conn.execute(b"ROLLBACK")
        return Outcome(truth(before, after), None)
    finally:
        db.server.drop_database(name)


UNIQUE = pg_corpus.UNIQUE


@pytest.fixture(scope="module")
def case_conn(truth_db: TruthDatabase, case_db: str) -> Iterator[psycopg.Connection[Any]]:
    with truth_db.connect(case_db) as conn:
        yield conn


# Cases that must not run on a shared server (ALTER SYSTEM, killing backends, server files...)
# are left out here; tests/iap/test_classify_postgres.py checks their class from the corpus.
RUNNABLE = [(s, r, n) for s, (r, n) in UNIQUE.items() if _not_run(s) is None]


@pytest.mark.parametrize(("sql", "expected", "note"), RUNNABLE)
def test_server_truth(
    sql: str,
    expected: str,
    note: str,
    truth_db: TruthDatabase,
    case_conn: psycopg.Connection[Any],
) -> None:
    result = classify(sql)
    assert result.risk.value == expected, (note, result.reasons)
    statements = _statements(sql)
    outcome = run_in_transaction(case_conn, sql) if not _ends_transaction(statements) else None
    if outcome is None or (outcome.error or "").startswith("25001"):
        outcome = run_on_a_clone(truth_db, sql)
    if outcome.error is not None:
        # Refused by this server (newer syntax, a missing extension or language): the class
        # was checked above; there is no effect to compare.
        return
    assert outcome.truth is not None
    assert outcome.truth.risk.rank <= result.risk.rank, (
        f"classified {result.risk.value}, but the server shows {outcome.truth.risk.value}:"
        f" {outcome.truth.changes[:5]}"
    )


# The oracle itself: statements whose effect is known must show as that class, or a broken
# snapshot would let every case above pass.
@pytest.mark.parametrize(
    ("sql", "shows"),
    [
        ("SELECT * FROM orders JOIN customers ON customers.id = orders.customer_id", "read"),
        ("SET TimeZone = 'UTC'; SET extra_float_digits = 3", "read"),
        ("UPDATE t SET note = 'x' WHERE id = 2", "write"),
        ("SELECT nextval('orders_id_seq')", "write"),
        ("DELETE FROM audit", "destructive"),
        ("UPDATE t SET note = 'x'", "destructive"),
        ("CREATE TABLE z (i int)", "ddl"),
        ("ALTER TABLE t ADD COLUMN z int DEFAULT 1", "ddl"),
        ("COMMENT ON TABLE t IS 'x'", "ddl"),
        ("DROP TABLE t1 CASCADE", "destructive"),
        ("ALTER TABLE t DROP COLUMN note", "destructive"),
        ("DROP FUNCTION my_id()", "destructive"),
        ("GRANT SELECT ON t TO bob", "admin"),
        ("ALTER TABLE t OWNER TO bob", "admin"),
        ("CREATE ROLE carol", "admin"),
        ("CREATE POLICY q ON t USING (true)", "admin"),
        ("SET session_replication_role = replica", "admin"),
        ("SET SESSION AUTHORIZATION bob", "admin"),
        ("SET search_path = public, pg_catalog", "admin"),
    ],
)
def test_the_oracle_sees_each_kind_of_change(
    sql: str, shows: str, case_conn: psycopg.Connection[Any]
) -> None:
    outcome = run_in_transaction(case_conn, sql)
    assert outcome.error is None and outcome.truth is not None
    assert outcome.truth.risk.value == shows, outcome.truth.changes[:5]


# Syntax newer than the server: the classifier calls it unknown because the server reads it
# otherwise. Checked here: PostgreSQL rejects it (42601), or looks up a function (42883) or a
# column (42703) of that name where pglast's newer grammar sees SQL/JSON or other syntax.
_OTHER_READINGS = {"42601", "42883", "42703"}
# json('...') is a function-style cast to json before PostgreSQL 17: another reading, no error.
_ACCEPTED_OTHERWISE = ("SELECT json(",)


@pytest.mark.parametrize(("sql", "since"), [(s, v) for s, v, _ in NEWER_SYNTAX])
def test_the_server_reads_newer_syntax_otherwise(
    sql: str, since: int, case_conn: psycopg.Connection[Any]
) -> None:
    row = case_conn.execute(b"SHOW server_version_num").fetchone()
    server = int(row[0]) if row else 0
    if server >= since:
        pytest.skip(f"the server ({server}) reads this syntax as pglast does")
    assert classify(sql, server_version=server).risk is Risk.UNKNOWN
    if sql.startswith(_ACCEPTED_OTHERWISE):
        return
    outcome = run_in_transaction(case_conn, sql)
    assert outcome.error is not None, f"PostgreSQL {server} ran it: {outcome.truth}"
    assert outcome.error[:5] in _OTHER_READINGS, outcome.error
