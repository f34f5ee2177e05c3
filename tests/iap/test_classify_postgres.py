"""Tests of iap.classify for PostgreSQL: classes, reasons, tables, session effects, cache.

Pure: no sockets, except the generator test marked e2e (it needs the real server).
"""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pglast.parser import scan

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

R, W, D, X, A, U = "read", "write", "ddl", "destructive", "admin", "unknown"

# (sql, expected class). Grouped by class; each group has the tricky spellings.
CASES: list[tuple[str, str]] = [
    # -- read: queries, whatever words hide in literals, names and comments
    ("SELECT 1", R),
    ("select * from orders where id = 1", R),
    ("SELECT 'DROP TABLE orders; DELETE FROM orders'", R),
    ("SELECT $$DROP TABLE orders$$, $tag$DELETE FROM t$tag$", R),
    ("SELECT E'\\'; DROP TABLE t; --'", R),
    ('SELECT * FROM "drop" WHERE "delete" = 1', R),
    ("SELECT deleted_at, drop_count, truncate_flag FROM orders", R),
    ("SELECT 1 /* DROP TABLE t */ -- ; DELETE FROM t\n", R),
    ("/* leading */ SELECT /* mid */ 1 ; -- trailing", R),
    ("VALUES (1, 'a'), (2, 'b')", R),
    ("TABLE orders", R),
    ("SELECT count(*), max(id), string_agg(note, ',') FROM orders GROUP BY ROLLUP (a)", R),
    ("SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t", R),
    ("SELECT now(), current_timestamp, current_user, localtimestamp(3), session_user", R),
    ("SELECT pg_catalog.now(), pg_catalog.lower('A'), \"pg_catalog\".\"upper\"('a')", R),
    ("SELECT x::text, CAST(1 AS int8), '1 day'::interval, 'orders'::regclass", R),
    ("SELECT extract(year FROM now()), substring('abc' FROM 2), trim(' a ')", R),
    ("SELECT a FROM t WHERE b IN (SELECT b FROM u) AND EXISTS (SELECT 1 FROM v)", R),
    ("WITH x AS (SELECT 1 AS a) SELECT * FROM x", R),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r", R),
    ("SELECT * FROM generate_series(1, 10) AS g, LATERAL unnest(ARRAY[1, 2]) AS u", R),
    ("SELECT random(), clock_timestamp(), gen_random_uuid(), pg_sleep(0.1)", R),
    ("SELECT currval('s'), lastval(), txid_current()", R),
    ("SELECT pg_advisory_unlock(1), pg_advisory_unlock_all()", R),
    ("SELECT JSON_OBJECT('a': 1), '{}'::jsonb -> 'a', x IS JSON FROM t", R),
    ("SELECT xmlelement(name a), xmlserialize(content '<a/>' AS text)", R),
    ("SELECT * FROM JSON_TABLE('[]', '$[*]' COLUMNS (a int PATH '$.a')) AS j", R),
    ("SELECT * FROM t TABLESAMPLE system (10)", R),
    ("SELECT a FROM t WHERE a OPERATOR(pg_catalog.=) 1", R),
    ("SELECT 1 FROM t1 JOIN t2 USING (id) NATURAL JOIN t3", R),
    ("SHOW search_path", R),
    ("SHOW ALL", R),
    ("EXPLAIN SELECT * FROM orders", R),
    ("EXPLAIN DELETE FROM orders", R),
    ("EXPLAIN (ANALYZE false) DELETE FROM orders", R),
    ("EXPLAIN (ANALYZE off, FORMAT JSON) UPDATE t SET a = 1", R),
    ("EXPLAIN (ANALYZE 0) DELETE FROM orders", R),
    ("EXPLAIN ANALYZE SELECT * FROM orders", R),
    ("EXPLAIN VERBOSE DROP TABLE t", U),  # not explainable: a parse error
    # -- read: transaction control, cursors, session housekeeping
    ("BEGIN", R),
    ("begin isolation level serializable read only", R),
    ("START TRANSACTION", R),
    ("COMMIT", R),
    ("END", R),
    ("ROLLBACK", R),
    ("ABORT", R),
    ("SAVEPOINT s1", R),
    ("RELEASE SAVEPOINT s1", R),
    ("ROLLBACK TO SAVEPOINT s1", R),
    ("COMMIT AND CHAIN", R),
    ("DECLARE c CURSOR WITH HOLD FOR SELECT * FROM orders", R),
    ("FETCH 10 FROM c", R),
    ("MOVE NEXT IN c", R),
    ("CLOSE c", R),
    ("CLOSE ALL", R),
    ("LISTEN jobs", R),
    ("UNLISTEN *", R),
    ("DISCARD ALL", R),
    ("DISCARD TEMP", R),
    ("DEALLOCATE ALL", R),
    ("DEALLOCATE PREPARE p1", R),
    ("PREPARE p1 (int) AS DELETE FROM orders WHERE id = $1", R),
    ("SET CONSTRAINTS ALL DEFERRED", R),
    ("", R),
    ("   ;;  -- nothing\n /* at all */ ;", R),
    # -- read: harmless session settings
    ("SET application_name = 'psql'", R),
    ("SET statement_timeout TO '5s'", R),
    ("SET LOCAL lock_timeout = 1000", R),
    ("SET idle_in_transaction_session_timeout = 0", R),
    ("SET TIME ZONE 'UTC'", R),
    ("SET TimeZone = 'Europe/Paris'", R),
    ("SET DateStyle = ISO, MDY", R),
    ("SET extra_float_digits = 3", R),
    ("SET intervalstyle = postgres", R),
    ("SET bytea_output = 'hex'", R),
    ("SET jit = off", R),
    ("SET work_mem = '64MB'", R),
    ("SET enable_seqscan = off", R),
    ('SET search_path = "$user", public', R),
    ("SET search_path = pg_catalog, public", R),
    ("SET search_path TO DEFAULT", R),
    ("SET client_encoding = 'UTF8'", R),
    ("SET NAMES 'LATIN1'", R),
    ("SET standard_conforming_strings = on", R),
    ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", R),
    ("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", R),
    ("RESET statement_timeout", R),
    ("RESET ALL", R),
    ("SELECT set_config('application_name', 'x', false)", R),
    ("SELECT set_config('jit', $1, false)", R),
    ("SELECT pg_catalog.set_config('search_path', '\"$user\", public', true)", R),
    ("SELECT current_setting('jit') AS cur, set_config('jit', 'off', false) AS new", R),
    # -- write
    ("INSERT INTO orders (id, note) VALUES (1, 'drop table orders')", W),
    ("INSERT INTO orders SELECT * FROM staging", W),
    ("INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET x = excluded.x", W),
    ("UPDATE orders SET note = 'x' WHERE id = 42", W),
    ("update ORDERS set NOTE = 'x' where ID = $1", W),
    ("DELETE FROM orders WHERE id = 42", W),
    ("DELETE FROM orders WHERE created_at < now() - interval '30 days'", W),
    ("DELETE FROM orders WHERE 1 = 0", W),
    ("DELETE FROM orders WHERE false", W),
    ("DELETE FROM orders WHERE status NOT IN ('open', 'held')", W),
    ("DELETE FROM orders WHERE status IN ('done')", W),
    ("DELETE FROM orders WHERE 1 NOT IN (1, 2)", W),
    ("DELETE FROM orders o WHERE o.id IN (SELECT order_id FROM refunds)", W),
    ("DELETE FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.tid = t.id)", W),
    ("UPDATE t SET a = 1 FROM u WHERE u.id = t.id", W),
    ("UPDATE t SET a = 1 WHERE CURRENT OF c", W),
    ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a", W),
    ("MERGE INTO t AS x USING s ON x.id = s.id WHEN MATCHED THEN DELETE", W),
    ("MERGE INTO t USING s ON true WHEN NOT MATCHED THEN INSERT VALUES (s.id)", W),
    ("COPY (SELECT * FROM orders) TO STDOUT WITH (FORMAT csv)", R),
    ("COPY orders FROM STDIN", W),
    ("COPY orders (id, note) FROM STDIN WITH (FORMAT csv)", W),
    ("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE", W),
    ("SELECT * FROM orders WHERE id = 1 FOR UPDATE", W),
    ("SELECT * FROM orders FOR SHARE SKIP LOCKED", W),
    ("SELECT 1 UNION ALL (SELECT 2 FROM t FOR UPDATE)", W),
    ("SELECT nextval('orders_id_seq')", W),
    ("SELECT setval('orders_id_seq', 100)", W),
    ("SELECT pg_advisory_lock(42)", W),
    ("SELECT pg_try_advisory_xact_lock(42)", W),
    ("SELECT pg_notify('jobs', 'x')", W),
    ("NOTIFY jobs, 'payload'", W),
    ("WITH n AS (INSERT INTO log VALUES (1) RETURNING *) SELECT * FROM n", W),
    ("WITH u AS (UPDATE t SET a = 1 WHERE id = 2 RETURNING *) SELECT 1", W),
    ("EXPLAIN ANALYZE INSERT INTO t VALUES (1)", W),
    ("EXPLAIN (ANALYZE) UPDATE t SET a = 1 WHERE id = 1", W),
    ("EXPLAIN (FORMAT JSON, ANALYZE) DELETE FROM t WHERE id = 1", W),
    ("EXPLAIN (ANALYZE true, BUFFERS) DELETE FROM t WHERE id = 1", W),
    ("EXPLAIN ANALYSE DELETE FROM t WHERE id = 1", W),
    ("PREPARE TRANSACTION 'tx1'", W),
    # -- ddl
    ("CREATE TABLE t (id serial PRIMARY KEY, note text DEFAULT 'drop')", D),
    ("CREATE TEMP TABLE tt (i int)", D),
    ('create table "DROP" ("delete" int)', D),
    ("CREATE TABLE t2 AS SELECT * FROM t", D),
    ("SELECT * INTO t2 FROM t", D),
    ("SELECT 1 INTO t2 UNION SELECT 2", D),
    ("CREATE MATERIALIZED VIEW mv AS SELECT 1", D),
    ("CREATE VIEW v AS SELECT * FROM orders", D),
    ("CREATE INDEX CONCURRENTLY orders_note ON orders (lower(note))", D),
    ("CREATE UNIQUE INDEX ON t (a) WHERE b IS NOT NULL", D),
    ("ALTER TABLE t ADD COLUMN c int DEFAULT 0", D),
    ("ALTER TABLE t DROP CONSTRAINT t_check", D),
    ("ALTER TABLE t ALTER COLUMN c TYPE bigint USING c::bigint", D),
    ("ALTER TABLE t RENAME COLUMN a TO b", D),
    ("ALTER TABLE p DETACH PARTITION p1", D),
    ("ALTER TABLE t SET SCHEMA archive", D),
    ("ALTER INDEX i SET TABLESPACE fast", D),
    ("CREATE SEQUENCE s", D),
    ("ALTER SEQUENCE s RESTART", D),
    ("CREATE SCHEMA app", D),
    ("CREATE TYPE mood AS ENUM ('sad', 'ok')", D),
    ("CREATE DOMAIN posint AS int CHECK (VALUE > 0)", D),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$", D),
    ("CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END", D),
    ("CREATE OR REPLACE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN NULL; END $$", D),
    ("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", D),
    ("COMMENT ON TABLE orders IS 'DROP ME'", D),
    ("VACUUM orders", D),
    ("VACUUM (FULL, ANALYZE) orders", D),
    ("ANALYZE orders", D),
    ("REINDEX TABLE orders", D),
    ("CLUSTER orders USING orders_pkey", D),
    ("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", D),
    ("CREATE DATABASE scratch", D),
    ("SELECT brin_summarize_new_values('i'::regclass)", D),
    # -- destructive
    ("DROP TABLE public.orders", X),
    ("drop   table\n  orders", X),
    ("DROP /* comment */ TABLE /* here */ orders", X),
    ('DROP TABLE "Orders"', X),
    ("DROP TABLE IF EXISTS a, b CASCADE", X),
    ("DROP INDEX CONCURRENTLY i", X),
    ("DROP VIEW v", X),
    ("DROP SCHEMA app CASCADE", X),
    ("DROP FUNCTION f(int)", X),
    ("DROP DATABASE scratch", X),
    ("TRUNCATE orders", X),
    ("TRUNCATE TABLE a, b RESTART IDENTITY", X),
    ("DELETE FROM orders", X),
    ("delete from orders;", X),
    ("DELETE FROM orders WHERE true", X),
    ("DELETE FROM orders WHERE 1 = 1", X),
    ("DELETE FROM orders WHERE 'a' = 'a'", X),
    ("DELETE FROM orders WHERE 2 > 1", X),
    ("DELETE FROM orders WHERE 't'::boolean", X),
    ("DELETE FROM orders WHERE id = id", X),
    ("DELETE FROM orders WHERE id IS NOT DISTINCT FROM id", X),
    ("DELETE FROM orders WHERE id = 5 OR true", X),
    ("DELETE FROM orders WHERE id = 5 OR 1 = 1", X),
    ("DELETE FROM orders WHERE NOT false", X),
    ("DELETE FROM orders WHERE 1 IN (1, 2)", X),
    ("DELETE FROM orders WHERE 3 NOT IN (1, 2)", X),
    ("DELETE FROM orders WHERE NULL IS NULL", X),
    ("DELETE FROM orders WHERE random() < 2", X),
    ("DELETE FROM t USING u WHERE u.flag", X),
    ("UPDATE orders SET note = NULL", X),
    ("UPDATE orders SET note = NULL WHERE true OR id = 1", X),
    ("UPDATE t SET a = 1 FROM u WHERE u.id = 5", X),
    ("WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d", X),
    ("WITH d AS (DELETE FROM orders RETURNING *) SELECT 1", X),
    ("EXPLAIN ANALYZE DELETE FROM orders", X),
    ("EXPLAIN (ANALYZE TRUE) DELETE FROM orders", X),
    ("EXPLAIN (ANALYZE false, ANALYZE true) DELETE FROM orders", X),
    ("BEGIN; DROP TABLE t; ROLLBACK", X),
    ("SELECT 1; TRUNCATE orders", X),
    ("ALTER TABLE orders DROP COLUMN note", X),
    ("ALTER TABLE orders ADD COLUMN x int, DROP COLUMN note", X),
    ("ALTER TABLE t ALTER COLUMN c TYPE int USING 0", X),
    ("MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE", X),
    ("MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE", X),
    ("CREATE RULE r AS ON INSERT TO t DO ALSO DELETE FROM audit", X),
    ("MERGE INTO t USING s ON s.id = 1 WHEN MATCHED THEN UPDATE SET a = 1", X),
    ("COPY (DELETE FROM orders RETURNING *) TO STDOUT", X),
    ("WITH d AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM d", X),
    # -- admin
    ("GRANT SELECT ON orders TO bob", A),
    ("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC", A),
    ("GRANT admin TO bob", A),
    ("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO bob", A),
    ("CREATE ROLE bob LOGIN PASSWORD 'x'", A),
    ("CREATE USER bob", A),
    ("ALTER USER bob WITH SUPERUSER", A),
    ("ALTER ROLE bob SET search_path = x", A),
    ("DROP ROLE bob", A),
    ("DROP USER IF EXISTS bob", A),
    ("DROP OWNED BY bob", A),
    ("REASSIGN OWNED BY bob TO alice", A),
    ("ALTER TABLE orders OWNER TO bob", A),
    ("ALTER TABLE orders ENABLE ROW LEVEL SECURITY", A),
    ("CREATE POLICY p ON orders USING (true)", A),
    ("DROP POLICY p ON orders", A),
    ("ALTER SYSTEM SET work_mem = '1GB'", A),
    ("ALTER DATABASE app SET log_statement = 'none'", A),
    ("CREATE EXTENSION dblink", A),
    ("DROP EXTENSION pgcrypto", A),
    ("CREATE LANGUAGE plperlu", A),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE c AS 'lib', 'f'", A),
    ("CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS $$ return 1 $$", A),
    ("CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION f()", A),
    ("CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw", A),
    ("CREATE USER MAPPING FOR bob SERVER s OPTIONS (password 'x')", A),
    ("CREATE SUBSCRIPTION sub CONNECTION 'host=x' PUBLICATION p", A),
    ("CREATE PUBLICATION p FOR ALL TABLES", A),
    ("CREATE TABLESPACE ts LOCATION '/tmp/ts'", A),
    ("SECURITY LABEL ON TABLE t IS 'secret'", A),
    ("COPY orders TO '/tmp/orders.csv'", A),
    ("COPY orders FROM '/etc/passwd'", A),
    ("COPY (SELECT 1) TO PROGRAM 'curl http://x'", A),
    ("COPY orders FROM PROGRAM 'cat /etc/passwd'", A),
    ("SET ROLE postgres", A),
    ("SET ROLE NONE", A),
    ("RESET ROLE", A),
    ("SET SESSION AUTHORIZATION bob", A),
    ("SET search_path = public, pg_catalog", A),
    ("SET standard_conforming_strings = off", A),
    ("SET client_encoding = 'SJIS'", A),
    ("SET NAMES 'GBK'", A),
    ("SET backslash_quote = on", A),
    ("SET log_statement = 'none'", A),
    ("SET session_replication_role = replica", A),
    ("SET app.tenant_id = '42'", A),
    ("SELECT set_config('role', 'postgres', false)", A),
    ("SELECT set_config('ROLE', 'postgres', false)", A),
    ("SELECT pg_catalog.set_config('log_statement', 'none', true)", A),
    ("SELECT set_config('search_path', 'evil, pg_catalog', false)", A),
    ("SELECT set_config(name, 'x', false) FROM settings", A),
    ("SELECT set_config(lower('ROLE'), 'x', false)", A),
    ("DO $$ BEGIN DELETE FROM orders; END $$", A),
    ("CALL archive_orders()", A),
    ("CHECKPOINT", A),
    ("LOAD 'auto_explain'", A),
    ("COMMIT PREPARED 'tx1'", A),
    ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", A),
    ("SELECT pg_catalog.pg_cancel_backend(123)", A),
    ("SELECT pg_reload_conf()", A),
    ("SELECT pg_rotate_logfile()", A),
    ("SELECT lo_import('/etc/passwd')", A),
    ("SELECT lo_export(1234, '/tmp/x')", A),
    ("SELECT lo_unlink(1234)", A),
    ("SELECT pg_read_file('/etc/passwd')", A),
    ("SELECT pg_read_binary_file('postgresql.conf')", A),
    ("SELECT * FROM pg_ls_dir('.')", A),
    ("SELECT pg_stat_file('postgresql.conf')", A),
    ("SELECT dblink_exec('host=x', 'DROP TABLE t')", A),
    ("SELECT * FROM public.dblink('host=x', 'SELECT 1') AS t(a int)", A),
    ("SELECT pg_create_physical_replication_slot('s')", A),
    ("SELECT pg_drop_replication_slot('s')", A),
    ("SELECT pg_switch_wal()", A),
    ("SELECT pg_promote()", A),
    ("SELECT pg_file_write('x', 'y', false)", A),
    ("SELECT pg_stat_reset()", A),
    ("SELECT query_to_xml('SELECT pg_terminate_backend(1)', true, false, '')", A),
    ("CREATE VIEW v AS SELECT pg_terminate_backend(pid) FROM pg_stat_activity", A),
    ("SELECT 1 WHERE pg_terminate_backend(1)", A),
    ("UPDATE t SET a = pg_read_file('/etc/passwd') WHERE id = 1", A),
    # -- unknown: parse failures, user functions, unknown prepared statements
    ("SELECT 1 +", U),
    ("DROP TABEL orders", U),
    ("SELEC 1", U),
    ("DELETE orders", U),
    ("SELECT my_cleanup()", U),
    ("SELECT * FROM my_report(2024)", U),
    ("SELECT myschema.now()", U),
    ("SELECT public.lower('A')", U),
    ('SELECT "NOW"()', U),
    ("SELECT id FROM orders WHERE check_fraud(id)", U),
    ("SELECT my_agg(x) FROM t", U),
    ("INSERT INTO t VALUES (my_id())", U),
    ("CREATE INDEX i ON t (my_fn(c))", U),
    ("EXPLAIN SELECT my_fn()", U),
    ("SELECT query_to_xml(q, true, false, '') FROM queries", U),
    ("SELECT pg_catalog.bernoulli(1)", U),
    ("EXECUTE unknown_stmt", U),
    ("EXECUTE p1(1)", U),
    ("SELECT 1; SELECT my_cleanup()", U),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_class(sql: str, expected: str) -> None:
    result = classify(sql)
    assert result.risk.value == expected, result.reasons


def test_enough_cases_per_class() -> None:
    counts = {risk: sum(1 for _, r in CASES if r == risk) for risk in (R, W, D, X, A, U)}
    assert len(CASES) >= 120
    assert min(counts.values()) >= 10, counts


# Tools' own statements: every one must be a read (or the class noted), with no hold.
# psql 15 with -E against PostgreSQL 15, scratch database with table orders (serial id,
# text note, numeric amount with a CHECK, an index, a view): `psql -E -c '\d'`, `\dt`,
# `\d orders`, `\d+ orders`, `\l`, `\dn`, `\df`, `\du`, `\dx`, `\di`, `\dv`, `\ds`, `\dp`.
PSQL_QUERIES: list[tuple[str, str]] = [
    (
        "psql \\d #1",
        'SELECT n.nspname as "Schema",\n'
        '  c.relname as "Name",\n'
        "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN "
        "'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' "
        "THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned "
        "table' WHEN 'I' THEN 'partitioned index' END as \"Type\",\n"
        '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"\n'
        "FROM pg_catalog.pg_class c\n"
        "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        "     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam\n"
        "WHERE c.relkind IN ('r','p','v','m','S','f','')\n"
        "      AND n.nspname <> 'pg_catalog'\n"
        "      AND n.nspname !~ '^pg_toast'\n"
        "      AND n.nspname <> 'information_schema'\n"
        "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
        "ORDER BY 1,2;",
    ),
    (
        "psql \\dt #1",
        'SELECT n.nspname as "Schema",\n'
        '  c.relname as "Name",\n'
        "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN "
        "'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' "
        "THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned "
        "table' WHEN 'I' THEN 'partitioned index' END as \"Type\",\n"
        '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"\n'
        "FROM pg_catalog.pg_class c\n"
        "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        "     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam\n"
        "WHERE c.relkind IN ('r','p','')\n"
        "      AND n.nspname <> 'pg_catalog'\n"
        "      AND n.nspname !~ '^pg_toast'\n"
        "      AND n.nspname <> 'information_schema'\n"
        "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
        "ORDER BY 1,2;",
    ),
    (
        "psql \\d+ orders #1",
        "SELECT c.oid,\n"
        "  n.nspname,\n"
        "  c.relname\n"
        "FROM pg_catalog.pg_class c\n"
        "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        "WHERE c.relname OPERATOR(pg_catalog.~) '^(orders)$' COLLATE pg_catalog.default\n"
        "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
        "ORDER BY 2, 3;",
    ),
    (
        "psql \\d+ orders #2",
        "SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, "
        "c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, "
        "pg_catalog.array_to_string(c.reloptions || array(select 'toast.' || x from "
        "pg_catalog.unnest(tc.reloptions) x), ', ')\n"
        ", c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE "
        "c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, "
        "c.relreplident, am.amname\n"
        "FROM pg_catalog.pg_class c\n"
        " LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)\n"
        "LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)\n"
        "WHERE c.oid = '16417';",
    ),
    (
        "psql \\d+ orders #3",
        "SELECT a.attname,\n"
        "  pg_catalog.format_type(a.atttypid, a.atttypmod),\n"
        "  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)\n"
        "   FROM pg_catalog.pg_attrdef d\n"
        "   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),\n"
        "  a.attnotnull,\n"
        "  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t\n"
        "   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> "
        "t.typcollation) AS attcollation,\n"
        "  a.attidentity,\n"
        "  a.attgenerated,\n"
        "  a.attstorage,\n"
        "  a.attcompression AS attcompression,\n"
        "  CASE WHEN a.attstattarget=-1 THEN NULL ELSE a.attstattarget END AS "
        "attstattarget,\n"
        "  pg_catalog.col_description(a.attrelid, a.attnum)\n"
        "FROM pg_catalog.pg_attribute a\n"
        "WHERE a.attrelid = '16417' AND a.attnum > 0 AND NOT a.attisdropped\n"
        "ORDER BY a.attnum;",
    ),
    (
        "psql \\d+ orders #4",
        "SELECT c2.relname, i.indisprimary, i.indisunique, i.indisclustered, "
        "i.indisvalid, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true),\n"
        "  pg_catalog.pg_get_constraintdef(con.oid, true), contype, condeferrable, "
        "condeferred, i.indisreplident, c2.reltablespace\n"
        "FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i\n"
        "  LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid "
        "= i.indexrelid AND contype IN ('p','u','x'))\n"
        "WHERE c.oid = '16417' AND c.oid = i.indrelid AND i.indexrelid = c2.oid\n"
        "ORDER BY i.indisprimary DESC, c2.relname;",
    ),
    (
        "psql \\d+ orders #5",
        "SELECT r.conname, pg_catalog.pg_get_constraintdef(r.oid, true)\n"
        "FROM pg_catalog.pg_constraint r\n"
        "WHERE r.conrelid = '16417' AND r.contype = 'c'\n"
        "ORDER BY 1;",
    ),
    (
        "psql \\d+ orders #6",
        "SELECT pol.polname, pol.polpermissive,\n"
        "  CASE WHEN pol.polroles = '{0}' THEN NULL ELSE "
        "pg_catalog.array_to_string(array(select rolname from pg_catalog.pg_roles where "
        "oid = any (pol.polroles) order by 1),',') END,\n"
        "  pg_catalog.pg_get_expr(pol.polqual, pol.polrelid),\n"
        "  pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid),\n"
        "  CASE pol.polcmd\n"
        "    WHEN 'r' THEN 'SELECT'\n"
        "    WHEN 'a' THEN 'INSERT'\n"
        "    WHEN 'w' THEN 'UPDATE'\n"
        "    WHEN 'd' THEN 'DELETE'\n"
        "    END AS cmd\n"
        "FROM pg_catalog.pg_policy pol\n"
        "WHERE pol.polrelid = '16417' ORDER BY 1;",
    ),
    (
        "psql \\d+ orders #7",
        "SELECT oid, stxrelid::pg_catalog.regclass, "
        "stxnamespace::pg_catalog.regnamespace::pg_catalog.text AS nsp, stxname,\n"
        "pg_catalog.pg_get_statisticsobjdef_columns(oid) AS columns,\n"
        "  'd' = any(stxkind) AS ndist_enabled,\n"
        "  'f' = any(stxkind) AS deps_enabled,\n"
        "  'm' = any(stxkind) AS mcv_enabled,\n"
        "stxstattarget\n"
        "FROM pg_catalog.pg_statistic_ext\n"
        "WHERE stxrelid = '16417'\n"
        "ORDER BY nsp, stxname;",
    ),
    (
        "psql \\d+ orders #8",
        "SELECT pubname\n"
        "     , NULL\n"
        "     , NULL\n"
        "FROM pg_catalog.pg_publication p\n"
        "     JOIN pg_catalog.pg_publication_namespace pn ON p.oid = pn.pnpubid\n"
        "     JOIN pg_catalog.pg_class pc ON pc.relnamespace = pn.pnnspid\n"
        "WHERE pc.oid ='16417' and pg_catalog.pg_relation_is_publishable('16417')\n"
        "UNION\n"
        "SELECT pubname\n"
        "     , pg_get_expr(pr.prqual, c.oid)\n"
        "     , (CASE WHEN pr.prattrs IS NOT NULL THEN\n"
        "         (SELECT string_agg(attname, ', ')\n"
        "           FROM pg_catalog.generate_series(0, "
        "pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s,\n"
        "                pg_catalog.pg_attribute\n"
        "          WHERE attrelid = pr.prrelid AND attnum = prattrs[s])\n"
        "        ELSE NULL END) FROM pg_catalog.pg_publication p\n"
        "     JOIN pg_catalog.pg_publication_rel pr ON p.oid = pr.prpubid\n"
        "     JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid\n"
        "WHERE pr.prrelid = '16417'\n"
        "UNION\n"
        "SELECT pubname\n"
        "     , NULL\n"
        "     , NULL\n"
        "FROM pg_catalog.pg_publication p\n"
        "WHERE p.puballtables AND pg_catalog.pg_relation_is_publishable('16417')\n"
        "ORDER BY 1;",
    ),
    (
        "psql \\d+ orders #9",
        "SELECT c.oid::pg_catalog.regclass\n"
        "FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i\n"
        "WHERE c.oid = i.inhparent AND i.inhrelid = '16417'\n"
        "  AND c.relkind != 'p' AND c.relkind != 'I'\n"
        "ORDER BY inhseqno;",
    ),
    (
        "psql \\d+ orders #10",
        "SELECT c.oid::pg_catalog.regclass, c.relkind, inhdetachpending, "
        "pg_catalog.pg_get_expr(c.relpartbound, c.oid)\n"
        "FROM pg_catalog.pg_class c, pg_catalog.pg_inherits i\n"
        "WHERE c.oid = i.inhrelid AND i.inhparent = '16417'\n"
        "ORDER BY pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', "
        "c.oid::pg_catalog.regclass::pg_catalog.text;",
    ),
    (
        "psql \\d orders #2",
        "SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, c.relhastriggers, "
        "c.relrowsecurity, c.relforcerowsecurity, false AS relhasoids, c.relispartition, "
        "'', c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE "
        "c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, "
        "c.relreplident, am.amname\n"
        "FROM pg_catalog.pg_class c\n"
        " LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)\n"
        "LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)\n"
        "WHERE c.oid = '16417';",
    ),
    (
        "psql \\d orders #3",
        "SELECT a.attname,\n"
        "  pg_catalog.format_type(a.atttypid, a.atttypmod),\n"
        "  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)\n"
        "   FROM pg_catalog.pg_attrdef d\n"
        "   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),\n"
        "  a.attnotnull,\n"
        "  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t\n"
        "   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> "
        "t.typcollation) AS attcollation,\n"
        "  a.attidentity,\n"
        "  a.attgenerated\n"
        "FROM pg_catalog.pg_attribute a\n"
        "WHERE a.attrelid = '16417' AND a.attnum > 0 AND NOT a.attisdropped\n"
        "ORDER BY a.attnum;",
    ),
    (
        "psql \\l #1",
        'SELECT d.datname as "Name",\n'
        '       pg_catalog.pg_get_userbyid(d.datdba) as "Owner",\n'
        '       pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",\n'
        '       d.datcollate as "Collate",\n'
        '       d.datctype as "Ctype",\n'
        '       d.daticulocale as "ICU Locale",\n'
        "       CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END AS "
        '"Locale Provider",\n'
        "       pg_catalog.array_to_string(d.datacl, E'\\n') AS \"Access privileges\"\n"
        "FROM pg_catalog.pg_database d\n"
        "ORDER BY 1;",
    ),
    (
        "psql \\dn #1",
        'SELECT n.nspname AS "Name",\n'
        '  pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner"\n'
        "FROM pg_catalog.pg_namespace n\n"
        "WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'\n"
        "ORDER BY 1;",
    ),
    (
        "psql \\df #1",
        'SELECT n.nspname as "Schema",\n'
        '  p.proname as "Name",\n'
        '  pg_catalog.pg_get_function_result(p.oid) as "Result data type",\n'
        '  pg_catalog.pg_get_function_arguments(p.oid) as "Argument data types",\n'
        " CASE p.prokind\n"
        "  WHEN 'a' THEN 'agg'\n"
        "  WHEN 'w' THEN 'window'\n"
        "  WHEN 'p' THEN 'proc'\n"
        "  ELSE 'func'\n"
        ' END as "Type"\n'
        "FROM pg_catalog.pg_proc p\n"
        "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace\n"
        "WHERE pg_catalog.pg_function_is_visible(p.oid)\n"
        "      AND n.nspname <> 'pg_catalog'\n"
        "      AND n.nspname <> 'information_schema'\n"
        "ORDER BY 1, 2, 4;",
    ),
    (
        "psql \\du #1",
        "SELECT r.rolname, r.rolsuper, r.rolinherit,\n"
        "  r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,\n"
        "  r.rolconnlimit, r.rolvaliduntil,\n"
        "  ARRAY(SELECT b.rolname\n"
        "        FROM pg_catalog.pg_auth_members m\n"
        "        JOIN pg_catalog.pg_roles b ON (m.roleid = b.oid)\n"
        "        WHERE m.member = r.oid) as memberof\n"
        ", r.rolreplication\n"
        ", r.rolbypassrls\n"
        "FROM pg_catalog.pg_roles r\n"
        "WHERE r.rolname !~ '^pg_'\n"
        "ORDER BY 1;",
    ),
    (
        "psql \\dx #1",
        'SELECT e.extname AS "Name", e.extversion AS "Version", n.nspname AS "Schema", '
        'c.description AS "Description"\n'
        "FROM pg_catalog.pg_extension e LEFT JOIN pg_catalog.pg_namespace n ON n.oid = "
        "e.extnamespace LEFT JOIN pg_catalog.pg_description c ON c.objoid = e.oid AND "
        "c.classoid = 'pg_catalog.pg_extension'::pg_catalog.regclass\n"
        "ORDER BY 1;",
    ),
    (
        "psql \\di #1",
        'SELECT n.nspname as "Schema",\n'
        '  c.relname as "Name",\n'
        "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN "
        "'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' "
        "THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned "
        "table' WHEN 'I' THEN 'partitioned index' END as \"Type\",\n"
        '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner",\n'
        '  c2.relname as "Table"\n'
        "FROM pg_catalog.pg_class c\n"
        "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        "     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam\n"
        "     LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid\n"
        "     LEFT JOIN pg_catalog.pg_class c2 ON i.indrelid = c2.oid\n"
        "WHERE c.relkind IN ('i','I','')\n"
        "      AND n.nspname <> 'pg_catalog'\n"
        "      AND n.nspname !~ '^pg_toast'\n"
        "      AND n.nspname <> 'information_schema'\n"
        "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
        "ORDER BY 1,2;",
    ),
    (
        "psql \\dv #1",
        'SELECT n.nspname as "Schema",\n'
        '  c.relname as "Name",\n'
        "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN "
        "'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' "
        "THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned "
        "table' WHEN 'I' THEN 'partitioned index' END as \"Type\",\n"
        '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"\n'
        "FROM pg_catalog.pg_class c\n"
        "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        "WHERE c.relkind IN ('v','')\n"
        "      AND n.nspname <> 'pg_catalog'\n"
        "      AND n.nspname !~ '^pg_toast'\n"
        "      AND n.nspname <> 'information_schema'\n"
        "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
        "ORDER BY 1,2;",
    ),
    (
        "psql \\ds #1",
        'SELECT n.nspname as "Schema",\n'
        '  c.relname as "Name",\n'
        "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN "
        "'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' "
        "THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned "
        "table' WHEN 'I' THEN 'partitioned index' END as \"Type\",\n"
        '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"\n'
        "FROM pg_catalog.pg_class c\n"
        "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        "WHERE c.relkind IN ('S','')\n"
        "      AND n.nspname <> 'pg_catalog'\n"
        "      AND n.nspname !~ '^pg_toast'\n"
        "      AND n.nspname <> 'information_schema'\n"
        "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
        "ORDER BY 1,2;",
    ),
    (
        "psql \\dp #1",
        'SELECT n.nspname as "Schema",\n'
        '  c.relname as "Name",\n'
        "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN "
        "'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign table' WHEN "
        "'p' THEN 'partitioned table' END as \"Type\",\n"
        "  pg_catalog.array_to_string(c.relacl, E'\\n') AS \"Access privileges\",\n"
        "  pg_catalog.array_to_string(ARRAY(\n"
        "    SELECT attname || E':\\n  ' || pg_catalog.array_to_string(attacl, E'\\n  ')\n"
        "    FROM pg_catalog.pg_attribute a\n"
        "    WHERE attrelid = c.oid AND NOT attisdropped AND attacl IS NOT NULL\n"
        "  ), E'\\n') AS \"Column privileges\",\n"
        "  pg_catalog.array_to_string(ARRAY(\n"
        "    SELECT polname\n"
        "    || CASE WHEN NOT polpermissive THEN\n"
        "       E' (RESTRICTIVE)'\n"
        "       ELSE '' END\n"
        "    || CASE WHEN polcmd != '*' THEN\n"
        "           E' (' || polcmd::pg_catalog.text || E'):'\n"
        "       ELSE E':'\n"
        "       END\n"
        "    || CASE WHEN polqual IS NOT NULL THEN\n"
        "           E'\\n  (u): ' || pg_catalog.pg_get_expr(polqual, polrelid)\n"
        "       ELSE E''\n"
        "       END\n"
        "    || CASE WHEN polwithcheck IS NOT NULL THEN\n"
        "           E'\\n  (c): ' || pg_catalog.pg_get_expr(polwithcheck, polrelid)\n"
        "       ELSE E''\n"
        "       END    || CASE WHEN polroles <> '{0}' THEN\n"
        "           E'\\n  to: ' || pg_catalog.array_to_string(\n"
        "               ARRAY(\n"
        "                   SELECT rolname\n"
        "                   FROM pg_catalog.pg_roles\n"
        "                   WHERE oid = ANY (polroles)\n"
        "                   ORDER BY 1\n"
        "               ), E', ')\n"
        "       ELSE E''\n"
        "       END\n"
        "    FROM pg_catalog.pg_policy pol\n"
        "    WHERE polrelid = c.oid), E'\\n')\n"
        '    AS "Policies"\n'
        "FROM pg_catalog.pg_class c\n"
        "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        "WHERE c.relkind IN ('r','v','m','S','f','p')\n"
        "  AND n.nspname !~ '^pg_' AND pg_catalog.pg_table_is_visible(c.oid)\n"
        "ORDER BY 1, 2;",
    ),
]

# pgbench 15: the built-in TPC-B script as sent in simple mode (literals substituted),
# the select-only script as sent with -M prepared ($1), and `pgbench -i` (seen with
# PGOPTIONS='-c log_statement=all'); init is not a read, so each has its class.
PGBENCH: list[tuple[str, str]] = [
    ("BEGIN;", R),
    ("UPDATE pgbench_accounts SET abalance = abalance + 4982 WHERE aid = 35203;", W),
    ("SELECT abalance FROM pgbench_accounts WHERE aid = 35203;", R),
    ("UPDATE pgbench_tellers SET tbalance = tbalance + 4982 WHERE tid = 2;", W),
    ("UPDATE pgbench_branches SET bbalance = bbalance + 4982 WHERE bid = 1;", W),
    (
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime)"
        " VALUES (2, 1, 35203, 4982, CURRENT_TIMESTAMP);",
        W,
    ),
    ("END;", R),
    ("SELECT abalance FROM pgbench_accounts WHERE aid = $1;", R),
    ("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;", W),
    ("select count(*) from pgbench_branches", R),
    (
        "select o.n, p.partstrat, pg_catalog.count(i.inhparent) from pg_catalog.pg_class as c"
        " join pg_catalog.pg_namespace as n on (n.oid = c.relnamespace) cross join lateral"
        " (select pg_catalog.array_position(pg_catalog.current_schemas(true), n.nspname))"
        " as o(n) left join pg_catalog.pg_partitioned_table as p on (p.partrelid = c.oid)"
        " left join pg_catalog.pg_inherits as i on (c.oid = i.inhparent) where c.relname ="
        " 'pgbench_accounts' and o.n is not null group by 1, 2 order by 1 asc limit 1",
        R,
    ),
    (
        "drop table if exists pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers",
        X,
    ),
    (
        "create table pgbench_accounts(aid    int not null,bid int,abalance int,filler char(84))"
        " with (fillfactor=100)",
        D,
    ),
    ("truncate table pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers", X),
    ("insert into pgbench_tellers(tid,bid,tbalance) values (1,1,0)", W),
    ("copy pgbench_accounts from stdin with (freeze on)", W),
    ("vacuum analyze pgbench_accounts", D),
    ("alter table pgbench_accounts add primary key (aid)", D),
    ("truncate pgbench_history", X),
]

# asyncpg 0.32: the pool's reset (Connection.get_reset_query) and the jit dance around type
# introspection (Connection._introspect_types); the introspection queries come from the
# installed asyncpg.introspection so they follow its version.
ASYNCPG: list[str] = [
    "SELECT pg_advisory_unlock_all();\nCLOSE ALL;\nUNLISTEN *;\nRESET ALL;",
    "SELECT\n    current_setting('jit') AS cur,\n    set_config('jit', 'off', false) AS new\n",
    "SELECT\n    set_config('jit', $1, false)\n",
]


@pytest.mark.parametrize(("source", "sql"), PSQL_QUERIES, ids=[s for s, _ in PSQL_QUERIES])
def test_psql_introspection_is_read(source: str, sql: str) -> None:
    result = classify(sql)
    assert result.risk is Risk.READ, (source, result.reasons)
    assert all(t.startswith("pg_catalog.") or "." not in t for t in result.statements[0].tables)


@pytest.mark.parametrize(("sql", "expected"), PGBENCH)
def test_pgbench(sql: str, expected: str) -> None:
    result = classify(sql)
    assert result.risk.value == expected, result.reasons


def asyncpg_queries() -> list[str]:
    introspection = pytest.importorskip("asyncpg.introspection")
    return [
        *ASYNCPG,
        introspection.INTRO_LOOKUP_TYPES,
        introspection.INTRO_LOOKUP_TYPES_13,
        introspection.TYPE_BY_NAME,
    ]


def test_asyncpg_is_read() -> None:
    for sql in asyncpg_queries():
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
    result = classify("SELECT " + " || ".join(["'a'"] * 3000))
    assert result.risk is Risk.UNKNOWN
    assert result.reasons == ("the statement nests too deeply to classify",)


def test_other_dialects() -> None:
    result = classify("SELECT 1", "mysql")
    assert (result.risk, result.reasons) == (
        Risk.UNKNOWN,
        ("MySQL classification is not available yet",),
    )
    assert classify_setting("sql_mode", "ANSI_QUOTES", "mysql").risk is Risk.UNKNOWN
    with pytest.raises(ValueError, match="unknown dialect"):
        classify("SELECT 1", "oracle")


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
]
_KEYWORD_KINDS = {"UNRESERVED_KEYWORD", "COL_NAME_KEYWORD", "TYPE_FUNC_NAME_KEYWORD",
                  "RESERVED_KEYWORD"}  # fmt: skip
_SEPARATORS = [" ", "  ", "\n", "\t", "/* x */", "/* DROP /* nested */ TABLE */", "-- c\n", "\r\n"]


@st.composite
def respelled(draw: st.DrawFn) -> tuple[str, str]:
    """A risky statement and the same statement with comments/whitespace/case changes."""
    sql = draw(st.sampled_from(RISKY))
    pieces: list[str] = []
    position = 0
    for token in scan(sql):
        gap = sql[position : token.start]
        extra = draw(st.lists(st.sampled_from(_SEPARATORS), max_size=2))
        pieces.append(gap + "".join(extra) if gap or extra else gap)
        text = sql[token.start : token.end + 1]
        plain_word = token.kind in _KEYWORD_KINDS or (token.name == "IDENT" and text[0] != '"')
        if plain_word and draw(st.booleans()):
            text = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in text)
        pieces.append(text)
        position = token.end + 1
    pieces.append(sql[position:] + "".join(draw(st.lists(st.sampled_from(_SEPARATORS)))))
    return sql, "".join(pieces)


@settings(max_examples=300, deadline=None)
@given(respelled())
def test_respelling_never_lowers_the_class(pair: tuple[str, str]) -> None:
    original, variant = pair
    before, after = classify(original), classify(variant)
    assert after.risk.rank >= before.risk.rank, (variant, after.reasons)
    assert after.risk is before.risk, (variant, after.reasons)
