"""The PostgreSQL classification corpus: statements and the class each must get, with why.

Owns the data shared by the unit tests (tests/iap/test_classify_postgres.py), the server-truth
test (tests/e2e/test_classify_truth_postgres.py) and the benchmark (bench/classify.py): hand
written cases, benign reads that look scary, and statements captured from real clients (each
block names the client, its version and how it was captured). Must never import the
classifier or do I/O: it is data, so the expectations cannot drift with the code under test.

A case is (sql, expected class, note). Captured client traffic is kept byte for byte, split
into string pieces only to fit the line length.
"""

from __future__ import annotations

R, W, D, X, A, U = "read", "write", "ddl", "destructive", "admin", "unknown"
RISKS = (R, W, D, X, A, U)

Case = tuple[str, str, str]


def _group(note: str, *cases: tuple[str, str] | tuple[str, str, str]) -> list[Case]:
    """Cases sharing a note; a case's own third item is added to it."""
    return [(c[0], c[1], f"{note}: {c[2]}" if len(c) == 3 else note) for c in cases]


# ---------------------------------------------------------------------------- hand written

CASES: list[Case] = [
    *_group(
        "plain query",
        ("SELECT 1", R),
        ("select * from orders where id = 1", R),
        ("VALUES (1, 'a'), (2, 'b')", R),
        ("TABLE orders", R),
        ("SELECT count(*), max(id), string_agg(note, ',') FROM orders GROUP BY ROLLUP (status)", R),
        ("SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t", R),
        ("SELECT a FROM t WHERE b IN (SELECT b FROM u) AND EXISTS (SELECT 1 FROM v)", R),
        ("WITH x AS (SELECT 1 AS a) SELECT * FROM x", R),
        ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r", R),
        ("SELECT * FROM generate_series(1, 10) AS g, LATERAL unnest(ARRAY[1, 2]) AS u", R),
        ("SELECT * FROM t TABLESAMPLE system (10)", R),
        ("SELECT 1 FROM t1 JOIN t2 USING (id) NATURAL JOIN t3", R),
        ("SELECT a FROM t WHERE a OPERATOR(pg_catalog.=) 1", R),
    ),
    *_group(
        "built-in functions free of side effects",
        ("SELECT now(), current_timestamp, current_user, localtimestamp(3), session_user", R),
        ("SELECT pg_catalog.now(), pg_catalog.lower('A'), \"pg_catalog\".\"upper\"('a')", R),
        ("SELECT x::text, CAST(1 AS int8), '1 day'::interval, 'orders'::regclass", R),
        ("SELECT extract(year FROM now()), substring('abc' FROM 2), trim(' a ')", R),
        ("SELECT random(), clock_timestamp(), gen_random_uuid(), pg_sleep(0.1)", R),
        ("SELECT currval('orders_id_seq'), lastval(), txid_current()", R),
        ("SELECT pg_advisory_unlock(1), pg_advisory_unlock_all()", R),
        ("SELECT '{}'::jsonb -> 'a', json_build_object('a', 1), to_jsonb(x) FROM t", R),
        ("SELECT xmlelement(name a), xmlserialize(content '<a/>' AS text)", R),
        ("SELECT information_schema._pg_expandarray(ARRAY[1, 2])", R, "pgjdbc uses it"),
    ),
    *_group(
        "SHOW and EXPLAIN without ANALYZE only plan",
        ("SHOW search_path", R),
        ("SHOW ALL", R),
        ("EXPLAIN SELECT * FROM orders", R),
        ("EXPLAIN DELETE FROM orders", R),
        ("EXPLAIN (ANALYZE false) DELETE FROM orders", R),
        ("EXPLAIN (ANALYZE off, FORMAT JSON) UPDATE t SET a = 1", R),
        ("EXPLAIN (ANALYZE off) DELETE FROM orders", R),
        ('EXPLAIN (ANALYZE "off") DELETE FROM orders', R, "a quoted word is a string"),
        ("EXPLAIN (ANALYZE 0) DELETE FROM orders", R),
        ("EXPLAIN (ANALYZE true, ANALYZE false) DELETE FROM orders", R, "the last one wins"),
        ("EXPLAIN ANALYZE SELECT * FROM orders", R, "runs a read"),
        ("EXPLAIN VERBOSE DROP TABLE t", U, "not explainable: a parse error"),
        ("EXPLAIN (ANALYZE off, COSTS off) DROP TABLE t", U, "not explainable"),
    ),
    *_group(
        "transaction control and cursors",
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
        ("SET CONSTRAINTS ALL DEFERRED", R),
    ),
    *_group(
        "session housekeeping",
        ("LISTEN jobs", R),
        ("UNLISTEN *", R),
        ("DISCARD ALL", W, "drops the session's temporary tables"),
        ("DISCARD TEMP", W, "drops the session's temporary tables"),
        ("DISCARD PLANS", R),
        ("DISCARD SEQUENCES", R),
        ("DEALLOCATE ALL", R),
        ("DEALLOCATE PREPARE p1", R),
        ("PREPARE p1 (int) AS DELETE FROM orders WHERE id = $1", R, "runs nothing yet"),
        ("", R, "empty query"),
        ("   ;;  -- nothing\n /* at all */ ;", R, "only empty statements"),
    ),
    *_group(
        "harmless session setting",
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
        ("SET search_path TO evil", R, "pg_catalog is searched first when not listed"),
        ('SET search_path TO "PG_CATALOG", evil', R, "a schema named PG_CATALOG is not it"),
        ("SET search_path = 'evil, pg_catalog'", R, "one quoted schema name with a comma"),
        ("SET search_path TO DEFAULT", R),
        ("SET client_encoding = 'UTF8'", R),
        ("SET NAMES 'LATIN1'", R),
        ("SET client_encoding TO DEFAULT", R),
        ("SET standard_conforming_strings = on", R),
        ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", R),
        ("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", R),
        ("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ", R),
        ("RESET statement_timeout", R),
        ("RESET ALL", R),
    ),
    *_group(
        "set_config takes the class of SET",
        ("SELECT set_config('application_name', 'x', false)", R),
        ("SELECT set_config('application_name'::text, 'x', false)", R),
        ("SELECT set_config('application_name', $1, false)", R, "any value is harmless"),
        ("SELECT set_config('jit', $1, false)", R),
        ("SELECT pg_catalog.set_config('search_path', '\"$user\", public', true)", R),
        ("SELECT set_config('search_path', 'pg_catalog', false)", R),
        ("SELECT current_setting('jit') AS cur, set_config('jit', 'off', false) AS new", R),
        ("SELECT set_config('role', 'postgres', false)", A),
        ("SELECT set_config('ROLE', 'postgres', false)", A, "setting names ignore case"),
        ("SELECT set_config(E'rol\\x65', 'postgres', false)", A, "an escaped name"),
        ("SELECT set_config(U&'rol\\0065', 'postgres', false)", A, "a Unicode-escaped name"),
        ("SELECT pg_catalog.set_config('log_statement', 'none', true)", A),
        ("SELECT set_config('search_path', 'evil, pg_catalog', false)", A),
        ("SELECT set_config('search_path', $1, false)", A, "a value it cannot read"),
        ("SELECT set_config(name, 'x', false) FROM settings", A, "a name that is no literal"),
        ("SELECT set_config(lower('ROLE'), 'x', false)", A, "a name that is no literal"),
        ("SELECT set_config($1, 'x', false)", A, "a name that is no literal"),
        ("SELECT set_config('role' || '', 'x', false)", A, "a name that is no literal"),
    ),
    *_group(
        "bounded write",
        ("INSERT INTO orders (id, note) VALUES (1001, 'drop table orders')", W),
        ("INSERT INTO orders SELECT * FROM staging", W),
        ("INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET x = excluded.x", W),
        ("UPDATE orders SET note = 'x' WHERE id = 42", W),
        ("update ORDERS set NOTE = 'x' where ID = $1", W),
        ("DELETE FROM orders WHERE id = 42", W),
        ("DELETE FROM orders WHERE created_at < now() - interval '30 days'", W),
        ("DELETE FROM orders WHERE 1 = 0", W, "matches nothing"),
        ("DELETE FROM orders WHERE false", W, "matches nothing"),
        ("DELETE FROM orders WHERE status NOT IN ('open', 'held')", W),
        ("DELETE FROM orders WHERE status IN ('done')", W),
        ("DELETE FROM orders WHERE 1 NOT IN (1, 2)", W, "matches nothing"),
        ("DELETE FROM orders o WHERE o.id IN (SELECT order_id FROM refunds)", W),
        ("DELETE FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.tid = t.id)", W),
        ("UPDATE t SET a = 1 FROM u WHERE u.id = t.id", W),
        ("UPDATE t SET a = 1 WHERE CURRENT OF c", W),
        ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET a = s.a", W),
        ("MERGE INTO t AS x USING s ON x.id = s.id WHEN MATCHED THEN DELETE", W),
        ("MERGE INTO t USING s ON true WHEN NOT MATCHED THEN INSERT VALUES (s.id)", W),
        ("WITH n AS (INSERT INTO log VALUES (1) RETURNING *) SELECT * FROM n", W),
        ("WITH u AS (UPDATE t SET a = 1 WHERE id = 2 RETURNING *) SELECT 1", W),
        ("WITH n AS (INSERT INTO log VALUES (2)) SELECT 1", W, "even an unreferenced CTE runs"),
    ),
    *_group(
        "COPY with the client",
        ("COPY (SELECT * FROM orders) TO STDOUT WITH (FORMAT csv)", R, "a read"),
        ("COPY orders TO STDOUT", R, "a read"),
        ("COPY orders FROM STDIN", W),
        ("COPY orders (id, note) FROM STDIN WITH (FORMAT csv)", W),
        ("COPY (UPDATE t SET a = 1 WHERE id = 1 RETURNING *) TO STDOUT", W),
        ("COPY (DELETE FROM orders RETURNING *) TO STDOUT", X),
    ),
    *_group(
        "locks and row locks",
        ("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE", W),
        ("SELECT * FROM orders WHERE id = 1 FOR UPDATE", W),
        ("SELECT * FROM orders FOR SHARE SKIP LOCKED", W),
        ("SELECT * FROM orders FOR NO KEY UPDATE NOWAIT", W),
        ("SELECT * FROM orders FOR KEY SHARE", W),
        ("SELECT 1 UNION ALL (SELECT 2 FROM t FOR UPDATE)", W),
        ("SELECT pg_advisory_lock(42)", W),
        ("SELECT pg_try_advisory_xact_lock(42)", W),
    ),
    *_group(
        "functions that change data",
        ("SELECT nextval('orders_id_seq')", W),
        ("SELECT setval('orders_id_seq', 100)", W),
        ("SELECT pg_notify('jobs', 'x')", W),
        ("NOTIFY jobs, 'payload'", W),
        ("PREPARE TRANSACTION 'tx1'", W),
    ),
    *_group(
        "EXPLAIN ANALYZE runs the statement",
        ("EXPLAIN ANALYZE INSERT INTO t VALUES (1)", W),
        ("EXPLAIN (ANALYZE) UPDATE t SET a = 1 WHERE id = 1", W),
        ("EXPLAIN (FORMAT JSON, ANALYZE) DELETE FROM t WHERE id = 1", W),
        ("EXPLAIN (ANALYZE true, BUFFERS) DELETE FROM t WHERE id = 1", W),
        ("EXPLAIN ANALYSE DELETE FROM t WHERE id = 1", W),
        ("EXPLAIN (ANALYZE 1) DELETE FROM t WHERE id = 1", W),
        ("EXPLAIN (ANALYSE on) DELETE FROM t WHERE id = 1", W),
        ("EXPLAIN ANALYZE DELETE FROM orders", X),
        ("EXPLAIN (ANALYZE TRUE) DELETE FROM orders", X),
        ("EXPLAIN (ANALYZE false, ANALYZE true) DELETE FROM orders", X),
        ("EXPLAIN (FORMAT JSON, ANALYZE) DELETE FROM orders", X),
        ("EXPLAIN (ANALYZE 1) DELETE FROM orders", X),
        ("EXPLAIN ANALYZE VERBOSE DELETE FROM orders", X),
        ("EXPLAIN ANALYZE CREATE TABLE t_new AS SELECT 1", D),
    ),
    *_group(
        "schema change",
        ("CREATE TABLE t_new (id serial PRIMARY KEY, note text DEFAULT 'drop')", D),
        ("CREATE TEMP TABLE tt (i int)", D),
        ('create table "DROP" ("delete" int)', D),
        ("CREATE TABLE t_copy AS SELECT * FROM t", D),
        ("CREATE MATERIALIZED VIEW mv_new AS SELECT 1", D),
        ("CREATE VIEW v_new AS SELECT * FROM orders", D),
        ("CREATE INDEX CONCURRENTLY orders_note ON orders (lower(note))", D),
        ("CREATE UNIQUE INDEX ON t (a) WHERE b IS NOT NULL", D),
        ("ALTER TABLE t ADD COLUMN d int DEFAULT 0", D),
        ("ALTER TABLE t DROP CONSTRAINT t_check", D),
        ("ALTER TABLE t ALTER COLUMN c TYPE bigint USING c::bigint", D),
        ("ALTER TABLE t RENAME COLUMN a TO a2", D),
        ("ALTER TABLE p DETACH PARTITION p1", D),
        ("ALTER TABLE t SET SCHEMA archive", D),
        ("ALTER INDEX i SET TABLESPACE pg_default", D),
        ("CREATE SEQUENCE s_new", D),
        ("ALTER SEQUENCE orders_id_seq RESTART", D),
        ("CREATE SCHEMA app", D),
        ("CREATE TYPE mood AS ENUM ('sad', 'ok')", D),
        ("CREATE DOMAIN posint AS int CHECK (VALUE > 0)", D),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$", D),
        ("CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END", D),
        ("CREATE FUNCTION h(a int) RETURNS int LANGUAGE sql RETURN a + 1", D),
        ("CREATE AGGREGATE a_new(int) (SFUNC = int4pl, STYPE = int)", D),
        ("COMMENT ON TABLE orders IS 'DROP ME'", D),
        ("CREATE DATABASE scratch", D),
    ),
    *_group(
        "SELECT INTO creates a table",
        ("SELECT * INTO t_copy FROM t", D),
        ("SELECT 1 INTO t_new UNION SELECT 2", D),
        ("SELECT 1 INTO TEMP t_temp", D),
        ("SELECT * INTO UNLOGGED TABLE t_unlogged FROM orders", D),
    ),
    *_group(
        "maintenance",
        ("VACUUM orders", D),
        ("VACUUM (FULL, ANALYZE) orders", D),
        ("ANALYZE orders", D),
        ("REINDEX TABLE orders", D),
        ("CLUSTER orders USING orders_pkey", D),
        ("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", D),
        ("SELECT brin_summarize_new_values('i'::regclass)", D),
    ),
    *_group(
        "DROP and TRUNCATE",
        ("DROP TABLE public.orders", X),
        ("drop   table\n  orders", X),
        ("DROP /* comment */ TABLE /* here */ orders", X),
        ('DROP TABLE "Orders"', X),
        ("DROP TABLE IF EXISTS a, b CASCADE", X),
        ("DROP INDEX CONCURRENTLY i", X),
        ("DROP VIEW v", X),
        ("DROP SCHEMA archive CASCADE", X),
        ("DROP FUNCTION f(int)", X),
        ("DROP DATABASE scratch", X),
        ("TRUNCATE orders", X),
        ("TRUNCATE TABLE a, b RESTART IDENTITY", X),
    ),
    *_group(
        "DELETE/UPDATE without an effective WHERE",
        ("DELETE FROM orders", X),
        ("delete from orders;", X),
        ("DELETE FROM orders WHERE true", X),
        ("DELETE FROM orders WHERE 1 = 1", X),
        ("DELETE FROM orders WHERE 1=1", X),
        ("DELETE FROM orders WHERE 'a' = 'a'", X),
        ("DELETE FROM orders WHERE 2 > 1", X),
        ("DELETE FROM orders WHERE 1 <> 2", X),
        ("DELETE FROM orders WHERE 't'::boolean", X),
        ("DELETE FROM orders WHERE (true)", X),
        ("DELETE FROM orders WHERE id = id", X),
        ("DELETE FROM orders WHERE orders.id = orders.id", X),
        ("DELETE FROM orders WHERE id >= id", X),
        ("DELETE FROM orders WHERE id IS NOT DISTINCT FROM id", X),
        ("DELETE FROM orders WHERE id BETWEEN id AND id", X),
        ("DELETE FROM orders WHERE id IN (id)", X),
        ("DELETE FROM orders WHERE id = 5 OR true", X),
        ("DELETE FROM orders WHERE id = 5 OR 1 = 1", X),
        ("DELETE FROM orders WHERE id = 5 OR id = id", X),
        ("DELETE FROM orders WHERE NOT false", X),
        ("DELETE FROM orders WHERE NOT (1 = 2)", X),
        ("DELETE FROM orders WHERE 1 IN (1, 2)", X),
        ("DELETE FROM orders WHERE 3 NOT IN (1, 2)", X),
        ("DELETE FROM orders WHERE 1 BETWEEN 0 AND 2", X),
        ("DELETE FROM orders WHERE NULL IS NULL", X),
        ("DELETE FROM orders WHERE random() < 2", X),
        ("DELETE FROM t USING u WHERE u.flag", X),
        ("UPDATE orders SET note = NULL", X),
        ("UPDATE orders SET note = NULL WHERE true OR id = 1", X),
        ("UPDATE orders SET note = 'x' WHERE 1 = 1.0", X),
        ("UPDATE t SET a = 1 FROM u WHERE u.id = 5", X),
        ("WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d", X),
        ("WITH d AS (DELETE FROM orders RETURNING *) SELECT 1", X),
        ("WITH d AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM d", X),
        ("MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE", X),
        ("MERGE INTO t USING s ON s.id = 1 WHEN MATCHED THEN UPDATE SET a = 1", X),
    ),
    *_group(
        "a constant condition the server finds true: only integer, boolean and NULL literals"
        " are folded",
        ("DELETE FROM orders WHERE 0.5::int = 1", X, "the cast rounds"),
        ("DELETE FROM orders WHERE '1.5'::numeric::int = 2", X, "the cast rounds"),
        ("DELETE FROM orders WHERE 2.5::float8::int = 2", X, "float8 rounds half to even"),
        ("DELETE FROM orders WHERE 'abc'::varchar(1) = 'a'", X, "the typmod truncates"),
        ("DELETE FROM orders WHERE 'a'::char(3) = 'a  '", X, "bpchar ignores trailing blanks"),
        ("DELETE FROM orders WHERE 'NaN'::float8 = 'NaN'::float8", X, "NaN equals NaN"),
        ("DELETE FROM orders WHERE 0.1 + 0.2 = 0.3", X, "numeric arithmetic is exact"),
        ("DELETE FROM orders WHERE '1 day'::interval = '24 hours'", X, "intervals compare"),
        ("DELETE FROM orders WHERE '2024-01-01'::date = '2024-1-1'", X, "dates parse"),
        ("DELETE FROM orders WHERE 'yes'::boolean", X),
        ("DELETE FROM orders WHERE id = 5 OR 0.5::int = 1", X),
        ("UPDATE orders SET note = 'x' WHERE NOT 'a' = 'b'", X),
    ),
    *_group(
        "a condition on the rows that may hold on every row",
        ("DELETE FROM orders WHERE id IS NOT NULL", X),
        ("DELETE FROM orders WHERE NOT (id IS NULL)", X),
        ("DELETE FROM orders WHERE (id = id) IS TRUE", X),
        ("DELETE FROM orders WHERE orders.id = id", X),
        ("DELETE FROM orders WHERE id + 0 = id", X),
        ("DELETE FROM orders WHERE id = 1 OR id <> 1", X),
        ("DELETE FROM orders WHERE id < 3 OR id >= 3", X),
        ("DELETE FROM orders WHERE id <= 2 OR id >= 3", X, "integers: nothing in between"),
        ("DELETE FROM t WHERE flag OR NOT flag", X),
        ("DELETE FROM orders WHERE note LIKE '%'", X),
        ("DELETE FROM orders WHERE id IN (1, 2) OR id NOT IN (1, 2)", X),
        ("DELETE FROM orders WHERE CASE WHEN id > 2 THEN true ELSE true END", X),
        (
            "DELETE FROM orders WHERE EXISTS (SELECT 1 FROM orders WHERE orders.id > 0)",
            X,
            "the subquery's orders is its own",
        ),
        ("DELETE FROM t USING u WHERE tid = 3", X, "tid may be u's column"),
    ),
    *_group(
        "code that later runs inside reads and bounded writes takes the class of what it does",
        ("CREATE FUNCTION f2() RETURNS int LANGUAGE sql AS 'DELETE FROM audit; SELECT 1'", X),
        (
            "CREATE FUNCTION g2() RETURNS int LANGUAGE sql BEGIN ATOMIC DELETE FROM audit;"
            " SELECT 1; END",
            X,
        ),
        ("CREATE FUNCTION f3() RETURNS bool LANGUAGE sql AS 'SELECT pg_reload_conf()'", A),
        (
            "CREATE OR REPLACE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN NULL; END $$",
            A,
            "a body the gateway cannot read",
        ),
        ("CREATE FUNCTION f4() RETURNS int LANGUAGE sql SECURITY DEFINER AS 'SELECT 1'", A),
        ("CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg()", A),
        ("CREATE RULE r AS ON INSERT TO t DO ALSO DELETE FROM audit", A),
        ("ALTER TABLE t DISABLE TRIGGER ALL", A),
        ("CREATE AGGREGATE agg2(int) (SFUNC = my_fn, STYPE = int)", U),
        ("CREATE OPERATOR ### (FUNCTION = my_fn, RIGHTARG = int)", U),
        ("CREATE CAST (int AS text) WITH FUNCTION my_fn(int)", U),
        ("CREATE VIEW v2 AS SELECT pg_advisory_lock(1)", D, "a write inside a ddl"),
    ),
    *_group(
        "syntax newer than PostgreSQL 15 (the server version assumed when none is given)",
        ("SELECT JSON_OBJECT('a': 1), '{}'::jsonb -> 'a', x IS JSON FROM t", U),
        ("SELECT * FROM JSON_TABLE('[]', '$[*]' COLUMNS (a int PATH '$.a')) AS j", U),
        ("SELECT json_value(note, '$.a') FROM orders", U, "a call of json_value() on 15"),
        ("SELECT json_array(1, 2), json_scalar(1)", U),
        ("SELECT merge_action()", U, "a call of merge_action() on 15"),
        ("SELECT system_user", U),
        ("SELECT now() AT LOCAL", U),
        ("SELECT 0x1F, 1_000", U),
        ("MERGE INTO t USING s ON t.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE", U),
        ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE RETURNING *", U),
        ("CREATE TABLE z (a int GENERATED ALWAYS AS (1) VIRTUAL)", U),
    ),
    *_group(
        "ALTER that loses data",
        ("ALTER TABLE orders DROP COLUMN note", X),
        ("ALTER TABLE orders ADD COLUMN x int, DROP COLUMN note", X),
        ("ALTER TABLE t ALTER COLUMN c TYPE int USING 0", X),
    ),
    *_group(
        "several statements take the highest class",
        ("BEGIN; DROP TABLE t; ROLLBACK", X),
        ("SELECT 1; TRUNCATE orders", X),
        ("SELECT 1; SELECT my_cleanup()", U),
        ("BEGIN; GRANT SELECT ON orders TO bob; ROLLBACK", A),
    ),
    *_group(
        "roles and privileges",
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
        ("CREATE POLICY p_new ON orders USING (true)", A),
        ("DROP POLICY p ON orders", A),
        ("SECURITY LABEL ON TABLE t IS 'secret'", A),
    ),
    *_group(
        "server settings and identity",
        ("ALTER SYSTEM SET work_mem = '1GB'", A),
        ("ALTER DATABASE app SET log_statement = 'none'", A),
        ("SET ROLE postgres", A),
        ("SET ROLE NONE", A),
        ("RESET ROLE", A),
        ("SET SESSION AUTHORIZATION bob", A),
        ("SET search_path = public, pg_catalog", A, "public can shadow built-ins"),
        ('SET search_path TO evil, "pg_catalog"', A),
        ("SET LOCAL search_path TO evil, PG_CATALOG", A),
        ("SET log_statement = 'none'", A),
        ("SET session_replication_role = replica", A),
        ("SET app.tenant_id = '42'", A, "custom settings can steer row-level security"),
    ),
    *_group(
        "settings that move the lexer to an unsafe state",
        ("SET standard_conforming_strings = off", A),
        ("SET client_encoding = 'SJIS'", A),
        ("SET client_encoding = 'WIN932'", A),
        ("SET client_encoding TO 'SHIFT_JIS_2004'", A),
        ("SET NAMES 'GBK'", A),
        ("SET NAMES 'WIN936'", A),
        ("SET client_encoding = 'BIG5'", A),
        ("SET client_encoding = 'GB18030'", A),
        ("SET backslash_quote = on", A),
    ),
    *_group(
        "extensions, languages, foreign servers, replication",
        ("CREATE EXTENSION dblink", A),
        ("DROP EXTENSION pgcrypto", A),
        ("CREATE LANGUAGE plperlu", A),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE c AS 'lib', 'f'", A),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS $$ return 1 $$", A),
        ("CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION evt()", A),
        ("CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw", A),
        ("CREATE USER MAPPING FOR bob SERVER s OPTIONS (password 'x')", A),
        ("CREATE SUBSCRIPTION sub CONNECTION 'host=x' PUBLICATION p", A),
        ("CREATE PUBLICATION p FOR ALL TABLES", A),
        ("CREATE TABLESPACE ts LOCATION '/tmp/ts'", A),
    ),
    *_group(
        "server files and programs",
        ("COPY orders TO '/tmp/orders.csv'", A),
        ("COPY orders FROM '/etc/passwd'", A),
        ("COPY (SELECT 1) TO PROGRAM 'curl http://x'", A),
        ("COPY orders FROM PROGRAM 'cat /etc/passwd'", A),
        ("SELECT lo_import('/etc/passwd')", A),
        ("SELECT lo_export(1234, '/tmp/x')", A),
        ("SELECT lo_unlink(1234)", A),
        ("SELECT pg_read_file('/etc/passwd')", A),
        ("SELECT pg_read_binary_file('postgresql.conf')", A),
        ("SELECT * FROM pg_ls_dir('.')", A),
        ("SELECT pg_stat_file('postgresql.conf')", A),
        ("SELECT pg_file_write('x', 'y', false)", A),
    ),
    *_group(
        "procedural code",
        ("DO $$ BEGIN DELETE FROM orders; END $$", A),
        ("CALL archive_orders()", A),
        ("LOAD 'auto_explain'", A),
    ),
    *_group(
        "functions that act outside the statement",
        ("CHECKPOINT", A),
        ("COMMIT PREPARED 'tx1'", A),
        ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", A),
        ("SELECT pg_catalog.pg_cancel_backend(123)", A),
        ("SELECT pg_reload_conf()", A),
        ("SELECT pg_rotate_logfile()", A),
        ("SELECT dblink_exec('host=x', 'DROP TABLE t')", A),
        ("SELECT * FROM public.dblink('host=x', 'SELECT 1') AS t(a int)", A),
        ("SELECT pg_create_physical_replication_slot('s')", A),
        ("SELECT pg_drop_replication_slot('s')", A),
        ("SELECT pg_switch_wal()", A),
        ("SELECT pg_promote()", A),
        ("SELECT pg_stat_reset()", A),
        ("SELECT query_to_xml('SELECT pg_terminate_backend(1)', true, false, '')", A),
        ("CREATE VIEW v AS SELECT pg_terminate_backend(pid) FROM pg_stat_activity", A),
        ("SELECT 1 WHERE pg_terminate_backend(1)", A),
        ("UPDATE t SET a = pg_read_file('/etc/passwd') WHERE id = 1", A),
    ),
    *_group(
        "cannot be read with certainty",
        ("SELECT 1 +", U),
        ("DROP TABEL orders", U),
        ("SELEC 1", U),
        ("DELETE orders", U),
        ("EXECUTE unknown_stmt", U, "no such prepared statement"),
        ("EXECUTE p1(1)", U, "no such prepared statement"),
    ),
    *_group(
        "functions nobody listed can do anything",
        ("SELECT my_cleanup()", U),
        ("SELECT * FROM my_report(2024)", U),
        ("SELECT myschema.now()", U),
        ("SELECT public.lower('A')", U, "not the built-in"),
        ('SELECT "NOW"()', U, "a quoted name keeps its case"),
        ("SELECT id FROM orders WHERE check_fraud(id)", U),
        ("SELECT my_agg(x) FROM t", U),
        ("INSERT INTO t VALUES (my_id())", U),
        ("CREATE INDEX i_new ON t (my_fn(c))", U),
        ("EXPLAIN SELECT my_fn()", U, "planning can run immutable functions"),
        ("COPY (SELECT my_fn()) TO STDOUT", U),
        ("SELECT query_to_xml(q, true, false, '') FROM queries", U),
        ("SELECT pg_catalog.bernoulli(1)", U, "not a function"),
        ("SELECT information_schema.my_fn()", U, "not one of the schema's functions"),
    ),
]

# Benign reads that look scary: danger words in literals, comments, quoted names and column
# names; lexical forms (nested comments, E'' escapes, dollar quotes, U&'' with UESCAPE) that
# hide what looks like a second statement inside one token.
SCARY_READS: list[Case] = _group(
    "benign read that looks scary",
    ("SELECT 'DROP TABLE orders; DELETE FROM orders'", R, "words in a literal"),
    ("SELECT $$DROP TABLE orders$$, $tag$DELETE FROM t$tag$", R, "dollar quotes"),
    ("SELECT $a$ $b$ DROP TABLE t; $b$ $a$", R, "a dollar tag inside another"),
    ("SELECT $_$;DELETE FROM orders;$_$ AS x", R, "dollar quote with tag _"),
    ("SELECT E'\\'; DROP TABLE t; --'", R, "an escaped quote in E''"),
    ("SELECT E'\\\\', 'DROP TABLE t'", R, "an escaped backslash ends E''"),
    ("SELECT 'it''s; DROP TABLE t'", R, "a doubled quote"),
    ("SELECT U&'d\\0061t\\+000061; DROP TABLE t'", R, "U&'' escapes"),
    ("SELECT U&'!0044ROP TABLE t' UESCAPE '!'", R, "U&'' with UESCAPE"),
    ("SELECT U&\"d!0061ta\" UESCAPE '!' FROM (SELECT 1 AS data) AS s", R, 'U&"" name'),
    ("SELECT 1 /* DROP TABLE t */ -- ; DELETE FROM t\n", R, "comments"),
    ("/* leading */ SELECT /* mid */ 1 ; -- trailing", R, "comments around"),
    ("SELECT /* /* */ DROP TABLE t; */ 1", R, "nested comment"),
    ("SELECT /* outer /* inner */ ; TRUNCATE t; */ 2", R, "nested comment"),
    ("SELECT 1 -- /* not a comment start\n", R, "a comment start inside a line comment"),
    ('SELECT * FROM "drop" WHERE "delete" = 1', R, "quoted identifiers"),
    ('SELECT "DROP TABLE orders" FROM (SELECT 1 AS "DROP TABLE orders") AS s', R, "name"),
    ("SELECT deleted_at, drop_count, truncate_flag FROM orders", R, "column names"),
    ("SELECT * FROM orders WHERE note = 'grant all; alter system'", R, "words in a literal"),
    ("SELECT * FROM orders WHERE note LIKE '%DELETE%'", R, "words in a pattern"),
    ("SELECT pg_catalog.format('DROP TABLE %I', 'orders')", R, "building SQL is not running it"),
    ("SELECT quote_ident('drop'), quote_literal('delete from t')", R, "quoting"),
    ("SELECT 'pg_terminate_backend(1)'::text", R, "a function name in a literal"),
    ("SELECT current_setting('search_path')", R, "reading a setting"),
    ("SELECT pg_backend_pid(), inet_server_addr(), version()", R, "server facts"),
    ("SELECT pid, query FROM pg_stat_activity WHERE state = 'active'", R, "monitoring"),
    ("SELECT * FROM pg_locks WHERE NOT granted", R, "monitoring"),
    ("SELECT relname FROM pg_class WHERE relname LIKE 'drop%'", R, "catalog"),
    ("EXPLAIN (VERBOSE, COSTS off) DELETE FROM orders", R, "only planned"),
    ("EXPLAIN UPDATE orders SET note = NULL", R, "only planned"),
    ("SELECT count(*) FILTER (WHERE note = 'truncate') FROM orders", R, "FILTER clause"),
    ("SELECT to_char(now(), 'YYYY'), age(now(), now())", R, "date functions"),
    ("SELECT id FROM orders ORDER BY id DESC LIMIT 10 OFFSET 20", R, "paging"),
    ("WITH grant_list AS (SELECT 'x' AS revoke) SELECT revoke FROM grant_list", R, "names"),
    ('SELECT 1 AS "DELETE FROM orders"; -- ; DROP TABLE t', R, "alias and comment"),
    ("SELECT 'a\\b'", R, "a backslash is a plain character when strings conform"),
    ("SELECT $$ it's $$, 'it''s', E'it\\'s'", R, "three quote styles"),
    ("SELECT 1 WHERE 'x' = 'x'", R, "an always-true WHERE on a read"),
    ('LISTEN "drop table"', R, "a channel name"),
)


# ---------------------------------------------------------------------------- client traffic
# Statements real clients send on their own: every one must classify as read (pgbench's and
# the ORM's writes are bounded writes, pg_dump's LOCK TABLE is a write). Captured on this
# machine against PostgreSQL 15.20 with the server's statement log (`ALTER DATABASE iapcap
# SET log_statement = 'all'`, read from /var/log/postgresql, then reset), in a scratch
# database `iapcap` holding customers(id serial, name), orders(id serial, customer_id ->
# customers, note, amount CHECK >= 0), an expression index orders_note, a view big_orders, a
# function order_total(int) and a procedure archive_orders(). Kept byte for byte
# (extended-protocol statements with their $n). Blocks naming 15.18 are later captures.


# psql 15 with -E against PostgreSQL 15, scratch database with table orders (serial id,
# text note, numeric amount with a CHECK, an index, a view): `psql -E -c '\d'`, `\dt`,
# `\d orders`, `\d+ orders`, `\l`, `\dn`, `\df`, `\du`, `\dx`, `\di`, `\dv`, `\ds`, `\dp`.
PSQL_E: list[tuple[str, str]] = [
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


# psql 15.20, captured from the statement log: `psql -c` with \dt+, \dT, \d+ big_orders,
# \sf order_total, \df+ order_total, \dn+, \dv+, \z orders, \dd, \dD, \dE, \dm, \dy,
# \dconfig, \l+, \dg.
PSQL: list[Case] = [
    *((sql, R, f"psql 15 -E: {source}") for source, sql in PSQL_E),
    (
        (
            'SELECT n.nspname as "Schema",\n'
            '  c.relname as "Name",\n'
            "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN "
            "'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN "
            "'t' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN "
            "'partitioned table' WHEN 'I' THEN 'partitioned index' END as \"Type\",\n"
            '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner",\n'
            "  CASE c.relpersistence WHEN 'p' THEN 'permanent' WHEN 't' THEN "
            "'temporary' WHEN 'u' THEN 'unlogged' END as \"Persistence\",\n"
            '  am.amname as "Access method",\n'
            '  pg_catalog.pg_size_pretty(pg_catalog.pg_table_size(c.oid)) as "Size",\n'
            "  pg_catalog.obj_description(c.oid, 'pg_class') as \"Description\"\n"
            "FROM pg_catalog.pg_class c\n"
            "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
            "     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam\n"
            "WHERE c.relkind IN ('r','p','')\n"
            "      AND n.nspname <> 'pg_catalog'\n"
            "      AND n.nspname !~ '^pg_toast'\n"
            "      AND n.nspname <> 'information_schema'\n"
            "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
            "ORDER BY 1,2;"
        ),
        R,
        "psql 15.20: \\dt+",
    ),
    (
        (
            'SELECT n.nspname as "Schema",\n'
            '  pg_catalog.format_type(t.oid, NULL) AS "Name",\n'
            "  pg_catalog.obj_description(t.oid, 'pg_type') as \"Description\"\n"
            "FROM pg_catalog.pg_type t\n"
            "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace\n"
            "WHERE (t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_catalog.pg_class "
            "c WHERE c.oid = t.typrelid))\n"
            "  AND NOT EXISTS(SELECT 1 FROM pg_catalog.pg_type el WHERE el.oid = "
            "t.typelem AND el.typarray = t.oid)\n"
            "      AND n.nspname <> 'pg_catalog'\n"
            "      AND n.nspname <> 'information_schema'\n"
            "  AND pg_catalog.pg_type_is_visible(t.oid)\n"
            "ORDER BY 1, 2;"
        ),
        R,
        "psql 15.20: \\dT",
    ),
    (
        (
            "SELECT c.oid,\n"
            "  n.nspname,\n"
            "  c.relname\n"
            "FROM pg_catalog.pg_class c\n"
            "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
            "WHERE c.relname OPERATOR(pg_catalog.~) '^(big_orders)$' COLLATE "
            "pg_catalog.default\n"
            "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
            "ORDER BY 2, 3;"
        ),
        R,
        "psql 15.20: \\d+ big_orders (view)",
    ),
    (
        (
            "SELECT c.relchecks, c.relkind, c.relhasindex, c.relhasrules, "
            "c.relhastriggers, c.relrowsecurity, c.relforcerowsecurity, false AS "
            "relhasoids, c.relispartition, pg_catalog.array_to_string(c.reloptions || "
            "array(select 'toast.' || x from pg_catalog.unnest(tc.reloptions) x), ', ')\n"
            ", c.reltablespace, CASE WHEN c.reloftype = 0 THEN '' ELSE "
            "c.reloftype::pg_catalog.regtype::pg_catalog.text END, c.relpersistence, "
            "c.relreplident, am.amname\n"
            "FROM pg_catalog.pg_class c\n"
            " LEFT JOIN pg_catalog.pg_class tc ON (c.reltoastrelid = tc.oid)\n"
            "LEFT JOIN pg_catalog.pg_am am ON (c.relam = am.oid)\n"
            "WHERE c.oid = '21471';"
        ),
        R,
        "psql 15.20: \\d+ big_orders (view)",
    ),
    (
        (
            "SELECT a.attname,\n"
            "  pg_catalog.format_type(a.atttypid, a.atttypmod),\n"
            "  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)\n"
            "   FROM pg_catalog.pg_attrdef d\n"
            "   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),\n"
            "  a.attnotnull,\n"
            "  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t\n"
            "   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation "
            "<> t.typcollation) AS attcollation,\n"
            "  a.attidentity,\n"
            "  a.attgenerated,\n"
            "  a.attstorage,\n"
            "  pg_catalog.col_description(a.attrelid, a.attnum)\n"
            "FROM pg_catalog.pg_attribute a\n"
            "WHERE a.attrelid = '21471' AND a.attnum > 0 AND NOT a.attisdropped\n"
            "ORDER BY a.attnum;"
        ),
        R,
        "psql 15.20: \\d+ big_orders (view)",
    ),
    (
        "SELECT pg_catalog.pg_get_viewdef('21471'::pg_catalog.oid, true);",
        R,
        "psql 15.20: \\d+ big_orders (view definition)",
    ),
    (
        (
            "SELECT r.rulename, trim(trailing ';' from "
            "pg_catalog.pg_get_ruledef(r.oid, true))\n"
            "FROM pg_catalog.pg_rewrite r\n"
            "WHERE r.ev_class = '21471' AND r.rulename != '_RETURN' ORDER BY 1;"
        ),
        R,
        "psql 15.20: \\d+ big_orders (rules)",
    ),
    (
        "SELECT 'order_total'::pg_catalog.regproc::pg_catalog.oid",
        R,
        "psql 15.20: \\sf order_total",
    ),
    ("SELECT pg_catalog.pg_get_functiondef(21475)", R, "psql 15.20: \\sf order_total"),
    (
        (
            'SELECT n.nspname as "Schema",\n'
            '  p.proname as "Name",\n'
            '  pg_catalog.pg_get_function_result(p.oid) as "Result data type",\n'
            '  pg_catalog.pg_get_function_arguments(p.oid) as "Argument data types",\n'
            " CASE p.prokind\n"
            "  WHEN 'a' THEN 'agg'\n"
            "  WHEN 'w' THEN 'window'\n"
            "  WHEN 'p' THEN 'proc'\n"
            "  ELSE 'func'\n"
            ' END as "Type",\n'
            " CASE\n"
            "  WHEN p.provolatile = 'i' THEN 'immutable'\n"
            "  WHEN p.provolatile = 's' THEN 'stable'\n"
            "  WHEN p.provolatile = 'v' THEN 'volatile'\n"
            ' END as "Volatility",\n'
            " CASE\n"
            "  WHEN p.proparallel = 'r' THEN 'restricted'\n"
            "  WHEN p.proparallel = 's' THEN 'safe'\n"
            "  WHEN p.proparallel = 'u' THEN 'unsafe'\n"
            ' END as "Parallel",\n'
            ' pg_catalog.pg_get_userbyid(p.proowner) as "Owner",\n'
            " CASE WHEN prosecdef THEN 'definer' ELSE 'invoker' END AS \"Security\",\n"
            " pg_catalog.array_to_string(p.proacl, E'\\n') AS \"Access privileges\",\n"
            ' l.lanname as "Language",\n'
            ' COALESCE(pg_catalog.pg_get_function_sqlbody(p.oid), p.prosrc) as "Source code",\n'
            " pg_catalog.obj_description(p.oid, 'pg_proc') as \"Description\"\n"
            "FROM pg_catalog.pg_proc p\n"
            "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace\n"
            "     LEFT JOIN pg_catalog.pg_language l ON l.oid = p.prolang\n"
            "WHERE p.proname OPERATOR(pg_catalog.~) '^(order_total)$' COLLATE "
            "pg_catalog.default\n"
            "  AND pg_catalog.pg_function_is_visible(p.oid)\n"
            "ORDER BY 1, 2, 4;"
        ),
        R,
        "psql 15.20: \\df+ order_total",
    ),
    (
        (
            'SELECT n.nspname AS "Name",\n'
            '  pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner",\n'
            "  pg_catalog.array_to_string(n.nspacl, E'\\n') AS \"Access privileges\",\n"
            "  pg_catalog.obj_description(n.oid, 'pg_namespace') AS \"Description\"\n"
            "FROM pg_catalog.pg_namespace n\n"
            "WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'\n"
            "ORDER BY 1;"
        ),
        R,
        "psql 15.20: \\dn+",
    ),
    (
        (
            'SELECT n.nspname as "Schema",\n'
            '  c.relname as "Name",\n'
            "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN "
            "'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN "
            "'t' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN "
            "'partitioned table' WHEN 'I' THEN 'partitioned index' END as \"Type\",\n"
            '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner",\n'
            "  CASE c.relpersistence WHEN 'p' THEN 'permanent' WHEN 't' THEN "
            "'temporary' WHEN 'u' THEN 'unlogged' END as \"Persistence\",\n"
            '  pg_catalog.pg_size_pretty(pg_catalog.pg_table_size(c.oid)) as "Size",\n'
            "  pg_catalog.obj_description(c.oid, 'pg_class') as \"Description\"\n"
            "FROM pg_catalog.pg_class c\n"
            "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
            "WHERE c.relkind IN ('v','')\n"
            "      AND n.nspname <> 'pg_catalog'\n"
            "      AND n.nspname !~ '^pg_toast'\n"
            "      AND n.nspname <> 'information_schema'\n"
            "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
            "ORDER BY 1,2;"
        ),
        R,
        "psql 15.20: \\dv+",
    ),
    (
        (
            'SELECT n.nspname as "Schema",\n'
            '  c.relname as "Name",\n'
            "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN "
            "'materialized view' WHEN 'S' THEN 'sequence' WHEN 'f' THEN 'foreign "
            "table' WHEN 'p' THEN 'partitioned table' END as \"Type\",\n"
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
            "  AND c.relname OPERATOR(pg_catalog.~) '^(orders)$' COLLATE pg_catalog.default\n"
            "  AND n.nspname !~ '^pg_' AND pg_catalog.pg_table_is_visible(c.oid)\n"
            "ORDER BY 1, 2;"
        ),
        R,
        "psql 15.20: \\z orders",
    ),
    (
        (
            'SELECT DISTINCT tt.nspname AS "Schema", tt.name AS "Name", tt.object AS '
            '"Object", d.description AS "Description"\n'
            "FROM (\n"
            "  SELECT pgc.oid as oid, pgc.tableoid AS tableoid,\n"
            "  n.nspname as nspname,\n"
            "  CAST(pgc.conname AS pg_catalog.text) as name,  CAST('table constraint' "
            "AS pg_catalog.text) as object\n"
            "  FROM pg_catalog.pg_constraint pgc\n"
            "    JOIN pg_catalog.pg_class c ON c.oid = pgc.conrelid\n"
            "    LEFT JOIN pg_catalog.pg_namespace n     ON n.oid = c.relnamespace\n"
            "WHERE n.nspname <> 'pg_catalog'\n"
            "      AND n.nspname <> 'information_schema'\n"
            "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
            "UNION ALL\n"
            "  SELECT pgc.oid as oid, pgc.tableoid AS tableoid,\n"
            "  n.nspname as nspname,\n"
            "  CAST(pgc.conname AS pg_catalog.text) as name,  CAST('domain constraint' "
            "AS pg_catalog.text) as object\n"
            "  FROM pg_catalog.pg_constraint pgc\n"
            "    JOIN pg_catalog.pg_type t ON t.oid = pgc.contypid\n"
            "    LEFT JOIN pg_catalog.pg_namespace n     ON n.oid = t.typnamespace\n"
            "WHERE n.nspname <> 'pg_catalog'\n"
            "      AND n.nspname <> 'information_schema'\n"
            "  AND pg_catalog.pg_type_is_visible(t.oid)\n"
            "UNION ALL\n"
            "  SELECT o.oid as oid, o.tableoid as tableoid,\n"
            "  n.nspname as nspname,\n"
            "  CAST(o.opcname AS pg_catalog.text) as name,\n"
            "  CAST('operator class' AS pg_catalog.text) as object\n"
            "  FROM pg_catalog.pg_opclass o\n"
            "    JOIN pg_catalog.pg_am am ON o.opcmethod = am.oid\n"
            "    JOIN pg_catalog.pg_namespace n ON n.oid = o.opcnamespace\n"
            "      AND n.nspname <> 'pg_catalog'\n"
            "      AND n.nspname <> 'information_schema'\n"
            "  AND pg_catalog.pg_opclass_is_visible(o.oid)\n"
            "UNION ALL\n"
            "  SELECT opf.oid as oid, opf.tableoid as tableoid,\n"
            "  n.nspname as nspname,\n"
            "  CAST(opf.opfname AS pg_catalog.text) AS name,\n"
            "  CAST('operator family' AS pg_catalog.text) as object\n"
            "  FROM pg_catalog.pg_opfamily opf\n"
            "    JOIN pg_catalog.pg_am am ON opf.opfmethod = am.oid\n"
            "    JOIN pg_catalog.pg_namespace n ON opf.opfnamespace = n.oid\n"
            "      AND n.nspname <> 'pg_catalog'\n"
            "      AND n.nspname <> 'information_schema'\n"
            "  AND pg_catalog.pg_opfamily_is_visible(opf.oid)\n"
            "UNION ALL\n"
            "  SELECT r.oid as oid, r.tableoid as tableoid,\n"
            "  n.nspname as nspname,\n"
            "  CAST(r.rulename AS pg_catalog.text) as name,  CAST('rule' AS "
            "pg_catalog.text) as object\n"
            "  FROM pg_catalog.pg_rewrite r\n"
            "       JOIN pg_catalog.pg_class c ON c.oid = r.ev_class\n"
            "       LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
            "  WHERE r.rulename != '_RETURN'\n"
            "      AND n.nspname <> 'pg_catalog'\n"
            "      AND n.nspname <> 'information_schema'\n"
            "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
            "UNION ALL\n"
            "  SELECT t.oid as oid, t.tableoid as tableoid,\n"
            "  n.nspname as nspname,\n"
            "  CAST(t.tgname AS pg_catalog.text) as name,  CAST('trigger' AS "
            "pg_catalog.text) as object\n"
            "  FROM pg_catalog.pg_trigger t\n"
            "       JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid\n"
            "       LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
            "WHERE n.nspname <> 'pg_catalog'\n"
            "      AND n.nspname <> 'information_schema'\n"
            "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
            ") AS tt\n"
            "  JOIN pg_catalog.pg_description d ON (tt.oid = d.objoid AND tt.tableoid "
            "= d.classoid AND d.objsubid = 0)\n"
            "ORDER BY 1, 2, 3;"
        ),
        R,
        "psql 15.20: \\dd",
    ),
    (
        (
            'SELECT n.nspname as "Schema",\n'
            '       t.typname as "Name",\n'
            '       pg_catalog.format_type(t.typbasetype, t.typtypmod) as "Type",\n'
            "       (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type bt\n"
            "        WHERE c.oid = t.typcollation AND bt.oid = t.typbasetype AND "
            't.typcollation <> bt.typcollation) as "Collation",\n'
            "       CASE WHEN t.typnotnull THEN 'not null' END as \"Nullable\",\n"
            '       t.typdefault as "Default",\n'
            "       pg_catalog.array_to_string(ARRAY(\n"
            "         SELECT pg_catalog.pg_get_constraintdef(r.oid, true) FROM "
            "pg_catalog.pg_constraint r WHERE t.oid = r.contypid\n"
            "       ), ' ') as \"Check\"\n"
            "FROM pg_catalog.pg_type t\n"
            "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace\n"
            "WHERE t.typtype = 'd'\n"
            "      AND n.nspname <> 'pg_catalog'\n"
            "      AND n.nspname <> 'information_schema'\n"
            "  AND pg_catalog.pg_type_is_visible(t.oid)\n"
            "ORDER BY 1, 2;"
        ),
        R,
        "psql 15.20: \\dD",
    ),
    (
        (
            'SELECT n.nspname as "Schema",\n'
            '  c.relname as "Name",\n'
            "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN "
            "'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN "
            "'t' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN "
            "'partitioned table' WHEN 'I' THEN 'partitioned index' END as \"Type\",\n"
            '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"\n'
            "FROM pg_catalog.pg_class c\n"
            "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
            "WHERE c.relkind IN ('f','')\n"
            "      AND n.nspname <> 'pg_catalog'\n"
            "      AND n.nspname !~ '^pg_toast'\n"
            "      AND n.nspname <> 'information_schema'\n"
            "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
            "ORDER BY 1,2;"
        ),
        R,
        "psql 15.20: \\dE",
    ),
    (
        (
            'SELECT n.nspname as "Schema",\n'
            '  c.relname as "Name",\n'
            "  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN "
            "'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN "
            "'t' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN "
            "'partitioned table' WHEN 'I' THEN 'partitioned index' END as \"Type\",\n"
            '  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"\n'
            "FROM pg_catalog.pg_class c\n"
            "     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
            "     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam\n"
            "WHERE c.relkind IN ('m','')\n"
            "      AND n.nspname <> 'pg_catalog'\n"
            "      AND n.nspname !~ '^pg_toast'\n"
            "      AND n.nspname <> 'information_schema'\n"
            "  AND pg_catalog.pg_table_is_visible(c.oid)\n"
            "ORDER BY 1,2;"
        ),
        R,
        "psql 15.20: \\dm",
    ),
    (
        (
            'SELECT evtname as "Name", evtevent as "Event", '
            'pg_catalog.pg_get_userbyid(e.evtowner) as "Owner",\n'
            " case evtenabled when 'O' then 'enabled'  when 'R' then 'replica'  when "
            "'A' then 'always'  when 'D' then 'disabled' end as \"Enabled\",\n"
            ' e.evtfoid::pg_catalog.regproc as "Function", '
            "pg_catalog.array_to_string(array(select x from pg_catalog.unnest(evttags) "
            "as t(x)), ', ') as \"Tags\"\n"
            "FROM pg_catalog.pg_event_trigger e ORDER BY 1"
        ),
        R,
        "psql 15.20: \\dy",
    ),
    (
        (
            'SELECT s.name AS "Parameter", pg_catalog.current_setting(s.name) AS "Value"\n'
            "FROM pg_catalog.pg_settings s\n"
            "WHERE s.source <> 'default' AND\n"
            "      s.setting IS DISTINCT FROM s.boot_val\n"
            "ORDER BY 1;"
        ),
        R,
        "psql 15.20: \\dconfig",
    ),
    (
        (
            'SELECT d.datname as "Name",\n'
            '       pg_catalog.pg_get_userbyid(d.datdba) as "Owner",\n'
            '       pg_catalog.pg_encoding_to_char(d.encoding) as "Encoding",\n'
            '       d.datcollate as "Collate",\n'
            '       d.datctype as "Ctype",\n'
            '       d.daticulocale as "ICU Locale",\n'
            "       CASE d.datlocprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' END "
            'AS "Locale Provider",\n'
            "       pg_catalog.array_to_string(d.datacl, E'\\n') AS \"Access privileges\",\n"
            "       CASE WHEN pg_catalog.has_database_privilege(d.datname, 'CONNECT')\n"
            "          OR pg_catalog.pg_has_role('pg_read_all_stats', 'USAGE')\n"
            "            THEN "
            "pg_catalog.pg_size_pretty(pg_catalog.pg_database_size(d.datname))\n"
            "            ELSE 'No Access'\n"
            '       END as "Size",\n'
            '       t.spcname as "Tablespace",\n'
            "       pg_catalog.shobj_description(d.oid, 'pg_database') as \"Description\"\n"
            "FROM pg_catalog.pg_database d\n"
            "  JOIN pg_catalog.pg_tablespace t on d.dattablespace = t.oid\n"
            "ORDER BY 1;"
        ),
        R,
        "psql 15.20: \\l+",
    ),
    (
        (
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
            "ORDER BY 1;"
        ),
        R,
        "psql 15.20: \\dg",
    ),
    # psql 15.18 (Debian 15.18-0+deb12u1) against PostgreSQL 15.18, captured the same way
    # (log_statement set for psql's session only, by PGOPTIONS): `psql -X -c` with \d, \dt,
    # \l, \dn, \df, \du, \dT, \ds, \dv and \d orders, orders having a foreign key; only what
    # the captures above lack (the rest differ at most in an oid). psql sends nothing of its
    # own when it starts or quits.
    *_group(
        "psql 15.18: \\d orders (a table with a foreign key)",
        (
            (
                "SELECT true as sametable, conname,\n"
                "  pg_catalog.pg_get_constraintdef(r.oid, true) as condef,\n"
                "  conrelid::pg_catalog.regclass AS ontable\n"
                "FROM pg_catalog.pg_constraint r\n"
                "WHERE r.conrelid = '98340' AND r.contype = 'f'\n"
                "     AND conparentid = 0\n"
                "ORDER BY conname"
            ),
            R,
        ),
        (
            (
                "SELECT conname, conrelid::pg_catalog.regclass AS ontable,\n"
                "       pg_catalog.pg_get_constraintdef(oid, true) AS condef\n"
                "  FROM pg_catalog.pg_constraint c\n"
                " WHERE confrelid IN (SELECT pg_catalog.pg_partition_ancestors('98340')\n"
                "                     UNION ALL VALUES ('98340'::pg_catalog.regclass))\n"
                "       AND contype = 'f' AND conparentid = 0\n"
                "ORDER BY conname;"
            ),
            R,
        ),
        (
            (
                "SELECT t.tgname, pg_catalog.pg_get_triggerdef(t.oid, true), t.tgenabled, "
                "t.tgisinternal,\n"
                "  CASE WHEN t.tgparentid != 0 THEN\n"
                "    (SELECT u.tgrelid::pg_catalog.regclass\n"
                "     FROM pg_catalog.pg_trigger AS u,\n"
                "          pg_catalog.pg_partition_ancestors(t.tgrelid) WITH ORDINALITY AS "
                "a(relid, depth)\n"
                "     WHERE u.tgname = t.tgname AND u.tgrelid = a.relid\n"
                "           AND u.tgparentid = 0\n"
                "     ORDER BY a.depth LIMIT 1)\n"
                "  END AS parent\n"
                "FROM pg_catalog.pg_trigger t\n"
                "WHERE t.tgrelid = '98340' AND (NOT t.tgisinternal OR (t.tgisinternal AND "
                "t.tgenabled = 'D'))\n"
                "ORDER BY 1;"
            ),
            R,
        ),
    ),
]


# pgjdbc 42.5.5 (Debian libpostgresql-jdbc-java) on OpenJDK 17: a throwaway program that
# connects (ApplicationName set), calls DatabaseMetaData getTables, getColumns,
# getPrimaryKeys, getIndexInfo, getImportedKeys, getExportedKeys, getProcedures,
# getFunctions, getSchemas, getTypeInfo, then setTransactionIsolation, setReadOnly with
# autocommit off, a query, rollback, a PreparedStatement and setClientInfo.
PGJDBC: list[Case] = [
    ("SET extra_float_digits = 3", R, "pgjdbc 42.5.5: connection start"),
    (
        "SET application_name = 'iapcap-jdbc'",
        R,
        "pgjdbc 42.5.5: connection start (ApplicationName)",
    ),
    (
        (
            "SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS "
            "TABLE_NAME,  CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema'  "
            "WHEN true THEN CASE  WHEN n.nspname = 'pg_catalog' OR n.nspname = "
            "'information_schema' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TABLE'   "
            "WHEN 'v' THEN 'SYSTEM VIEW'   WHEN 'i' THEN 'SYSTEM INDEX'   ELSE NULL   "
            "END  WHEN n.nspname = 'pg_toast' THEN CASE c.relkind   WHEN 'r' THEN "
            "'SYSTEM TOAST TABLE'   WHEN 'i' THEN 'SYSTEM TOAST INDEX'   ELSE NULL   "
            "END  ELSE CASE c.relkind   WHEN 'r' THEN 'TEMPORARY TABLE'   WHEN 'p' "
            "THEN 'TEMPORARY TABLE'   WHEN 'i' THEN 'TEMPORARY INDEX'   WHEN 'S' THEN "
            "'TEMPORARY SEQUENCE'   WHEN 'v' THEN 'TEMPORARY VIEW'   ELSE NULL   END  "
            "END  WHEN false THEN CASE c.relkind  WHEN 'r' THEN 'TABLE'  WHEN 'p' THEN "
            "'PARTITIONED TABLE'  WHEN 'i' THEN 'INDEX'  WHEN 'P' then 'PARTITIONED "
            "INDEX'  WHEN 'S' THEN 'SEQUENCE'  WHEN 'v' THEN 'VIEW'  WHEN 'c' THEN "
            "'TYPE'  WHEN 'f' THEN 'FOREIGN TABLE'  WHEN 'm' THEN 'MATERIALIZED VIEW'  "
            "ELSE NULL  END  ELSE NULL  END  AS TABLE_TYPE, d.description AS REMARKS,  "
            "'' as TYPE_CAT, '' as TYPE_SCHEM, '' as TYPE_NAME, '' AS "
            "SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION  FROM "
            "pg_catalog.pg_namespace n, pg_catalog.pg_class c  LEFT JOIN "
            "pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0  and "
            "d.classoid = 'pg_class'::regclass)  WHERE c.relnamespace = n.oid  AND "
            "n.nspname LIKE 'public' AND c.relname LIKE '%' AND (false  OR ( c.relkind "
            "= 'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' )  OR "
            "( c.relkind = 'v' AND n.nspname <> 'pg_catalog' AND n.nspname <> "
            "'information_schema' ) )  ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME "
        ),
        R,
        "pgjdbc 42.5.5: DatabaseMetaData.getTables(public, TABLE/VIEW)",
    ),
    (
        (
            "SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS "
            "TABLE_NAME,  CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema'  "
            "WHEN true THEN CASE  WHEN n.nspname = 'pg_catalog' OR n.nspname = "
            "'information_schema' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TABLE'   "
            "WHEN 'v' THEN 'SYSTEM VIEW'   WHEN 'i' THEN 'SYSTEM INDEX'   ELSE NULL   "
            "END  WHEN n.nspname = 'pg_toast' THEN CASE c.relkind   WHEN 'r' THEN "
            "'SYSTEM TOAST TABLE'   WHEN 'i' THEN 'SYSTEM TOAST INDEX'   ELSE NULL   "
            "END  ELSE CASE c.relkind   WHEN 'r' THEN 'TEMPORARY TABLE'   WHEN 'p' "
            "THEN 'TEMPORARY TABLE'   WHEN 'i' THEN 'TEMPORARY INDEX'   WHEN 'S' THEN "
            "'TEMPORARY SEQUENCE'   WHEN 'v' THEN 'TEMPORARY VIEW'   ELSE NULL   END  "
            "END  WHEN false THEN CASE c.relkind  WHEN 'r' THEN 'TABLE'  WHEN 'p' THEN "
            "'PARTITIONED TABLE'  WHEN 'i' THEN 'INDEX'  WHEN 'P' then 'PARTITIONED "
            "INDEX'  WHEN 'S' THEN 'SEQUENCE'  WHEN 'v' THEN 'VIEW'  WHEN 'c' THEN "
            "'TYPE'  WHEN 'f' THEN 'FOREIGN TABLE'  WHEN 'm' THEN 'MATERIALIZED VIEW'  "
            "ELSE NULL  END  ELSE NULL  END  AS TABLE_TYPE, d.description AS REMARKS,  "
            "'' as TYPE_CAT, '' as TYPE_SCHEM, '' as TYPE_NAME, '' AS "
            "SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION  FROM "
            "pg_catalog.pg_namespace n, pg_catalog.pg_class c  LEFT JOIN "
            "pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0  and "
            "d.classoid = 'pg_class'::regclass)  WHERE c.relnamespace = n.oid  AND "
            "c.relname LIKE '%' ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME "
        ),
        R,
        "pgjdbc 42.5.5: DatabaseMetaData.getTables(all)",
    ),
    (
        (
            "SELECT * FROM (SELECT "
            "n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull OR (t.typtype = 'd' "
            "AND t.typnotnull) AS "
            "attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION "
            "BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as "
            "attidentity,nullif(a.attgenerated, '') as "
            "attgenerated,pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS "
            "adsrc,dsc.description,t.typbasetype,t.typtype  FROM "
            "pg_catalog.pg_namespace n  JOIN pg_catalog.pg_class c ON (c.relnamespace "
            "= n.oid)  JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid)  JOIN "
            "pg_catalog.pg_type t ON (a.atttypid = t.oid)  LEFT JOIN "
            "pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = "
            "def.adnum)  LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid "
            "AND a.attnum = dsc.objsubid)  LEFT JOIN pg_catalog.pg_class dc ON "
            "(dc.oid=dsc.classoid AND dc.relname='pg_class')  LEFT JOIN "
            "pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND "
            "dn.nspname='pg_catalog')  WHERE c.relkind in ('r','p','v','f','m') and "
            "a.attnum > 0 AND NOT a.attisdropped  AND n.nspname LIKE 'public' AND "
            "c.relname LIKE 'orders') c WHERE true  AND attname LIKE '%' ORDER BY "
            "nspname,c.relname,attnum "
        ),
        R,
        "pgjdbc 42.5.5: DatabaseMetaData.getColumns",
    ),
    (
        (
            "SELECT        result.TABLE_CAT,        result.TABLE_SCHEM,        "
            "result.TABLE_NAME,        result.COLUMN_NAME,        result.KEY_SEQ,      "
            "  result.PK_NAME FROM      (SELECT NULL AS TABLE_CAT, n.nspname AS "
            "TABLE_SCHEM,   ct.relname AS TABLE_NAME, a.attname AS COLUMN_NAME,   "
            "(information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, ci.relname "
            "AS PK_NAME,   information_schema._pg_expandarray(i.indkey) AS KEYS, "
            "a.attnum AS A_ATTNUM FROM pg_catalog.pg_class ct   JOIN "
            "pg_catalog.pg_attribute a ON (ct.oid = a.attrelid)   JOIN "
            "pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid)   JOIN "
            "pg_catalog.pg_index i ON ( a.attrelid = i.indrelid)   JOIN "
            "pg_catalog.pg_class ci ON (ci.oid = i.indexrelid) WHERE true  AND "
            "n.nspname = 'public' AND ct.relname = 'orders' AND i.indisprimary  ) "
            "result where  result.A_ATTNUM = (result.KEYS).x  ORDER BY "
            "result.table_name, result.pk_name, result.key_seq"
        ),
        R,
        "pgjdbc 42.5.5: DatabaseMetaData.getPrimaryKeys",
    ),
    (
        (
            "SELECT     tmp.TABLE_CAT,     tmp.TABLE_SCHEM,     tmp.TABLE_NAME,     "
            "tmp.NON_UNIQUE,     tmp.INDEX_QUALIFIER,     tmp.INDEX_NAME,     "
            "tmp.TYPE,     tmp.ORDINAL_POSITION,     trim(both '\"' from "
            "pg_catalog.pg_get_indexdef(tmp.CI_OID, tmp.ORDINAL_POSITION, false)) AS "
            "COLUMN_NAME,   CASE tmp.AM_NAME     WHEN 'btree' THEN CASE "
            "tmp.I_INDOPTION[tmp.ORDINAL_POSITION - 1] & 1::smallint       WHEN 1 THEN "
            "'D'       ELSE 'A'     END     ELSE NULL   END AS ASC_OR_DESC,     "
            "tmp.CARDINALITY,     tmp.PAGES,     tmp.FILTER_CONDITION FROM (SELECT "
            "NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM,   ct.relname AS TABLE_NAME, "
            "NOT i.indisunique AS NON_UNIQUE,   NULL AS INDEX_QUALIFIER, ci.relname AS "
            "INDEX_NAME,   CASE i.indisclustered     WHEN true THEN 1    ELSE CASE "
            "am.amname       WHEN 'hash' THEN 2      ELSE 3    END   END AS TYPE,   "
            "(information_schema._pg_expandarray(i.indkey)).n AS ORDINAL_POSITION,   "
            "ci.reltuples AS CARDINALITY,   ci.relpages AS PAGES,   "
            "pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS FILTER_CONDITION,   "
            "ci.oid AS CI_OID,   i.indoption AS I_INDOPTION,   am.amname AS AM_NAME "
            "FROM pg_catalog.pg_class ct   JOIN pg_catalog.pg_namespace n ON "
            "(ct.relnamespace = n.oid)   JOIN pg_catalog.pg_index i ON (ct.oid = "
            "i.indrelid)   JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid)   "
            "JOIN pg_catalog.pg_am am ON (ci.relam = am.oid) WHERE true  AND n.nspname "
            "= 'public' AND ct.relname = 'orders') AS tmp ORDER BY NON_UNIQUE, TYPE, "
            "INDEX_NAME, ORDINAL_POSITION "
        ),
        R,
        "pgjdbc 42.5.5: DatabaseMetaData.getIndexInfo",
    ),
    (
        "SELECT setting FROM pg_catalog.pg_settings WHERE name='max_index_keys'",
        R,
        "pgjdbc 42.5.5: DatabaseMetaData.getImportedKeys (max_index_keys)",
    ),
    (
        (
            "SELECT NULL::text AS PKTABLE_CAT, pkn.nspname AS PKTABLE_SCHEM, "
            "pkc.relname AS PKTABLE_NAME, pka.attname AS PKCOLUMN_NAME, NULL::text AS "
            "FKTABLE_CAT, fkn.nspname AS FKTABLE_SCHEM, fkc.relname AS FKTABLE_NAME, "
            "fka.attname AS FKCOLUMN_NAME, pos.n AS KEY_SEQ, CASE con.confupdtype  "
            "WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' "
            "THEN 1 WHEN 'a' THEN 3 ELSE NULL END AS UPDATE_RULE, CASE con.confdeltype "
            " WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' "
            "THEN 1 WHEN 'a' THEN 3 ELSE NULL END AS DELETE_RULE, con.conname AS "
            "FK_NAME, pkic.relname AS PK_NAME, CASE  WHEN con.condeferrable AND "
            "con.condeferred THEN 5 WHEN con.condeferrable THEN 6 ELSE 7 END AS "
            "DEFERRABILITY  FROM  pg_catalog.pg_namespace pkn, pg_catalog.pg_class "
            "pkc, pg_catalog.pg_attribute pka,  pg_catalog.pg_namespace fkn, "
            "pg_catalog.pg_class fkc, pg_catalog.pg_attribute fka,  "
            "pg_catalog.pg_constraint con,  pg_catalog.generate_series(1, 32) pos(n),  "
            "pg_catalog.pg_class pkic WHERE pkn.oid = pkc.relnamespace AND pkc.oid = "
            "pka.attrelid AND pka.attnum = con.confkey[pos.n] AND con.confrelid = "
            "pkc.oid  AND fkn.oid = fkc.relnamespace AND fkc.oid = fka.attrelid AND "
            "fka.attnum = con.conkey[pos.n] AND con.conrelid = fkc.oid  AND "
            "con.contype = 'f' AND (pkic.relkind = 'i' OR pkic.relkind = 'I') AND "
            "pkic.oid = con.conindid  AND fkn.nspname = 'public' AND fkc.relname = "
            "'orders' ORDER BY pkn.nspname,pkc.relname, con.conname,pos.n"
        ),
        R,
        "pgjdbc 42.5.5: DatabaseMetaData.getImportedKeys",
    ),
    (
        (
            "SELECT NULL::text AS PKTABLE_CAT, pkn.nspname AS PKTABLE_SCHEM, "
            "pkc.relname AS PKTABLE_NAME, pka.attname AS PKCOLUMN_NAME, NULL::text AS "
            "FKTABLE_CAT, fkn.nspname AS FKTABLE_SCHEM, fkc.relname AS FKTABLE_NAME, "
            "fka.attname AS FKCOLUMN_NAME, pos.n AS KEY_SEQ, CASE con.confupdtype  "
            "WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' "
            "THEN 1 WHEN 'a' THEN 3 ELSE NULL END AS UPDATE_RULE, CASE con.confdeltype "
            " WHEN 'c' THEN 0 WHEN 'n' THEN 2 WHEN 'd' THEN 4 WHEN 'r' THEN 1 WHEN 'p' "
            "THEN 1 WHEN 'a' THEN 3 ELSE NULL END AS DELETE_RULE, con.conname AS "
            "FK_NAME, pkic.relname AS PK_NAME, CASE  WHEN con.condeferrable AND "
            "con.condeferred THEN 5 WHEN con.condeferrable THEN 6 ELSE 7 END AS "
            "DEFERRABILITY  FROM  pg_catalog.pg_namespace pkn, pg_catalog.pg_class "
            "pkc, pg_catalog.pg_attribute pka,  pg_catalog.pg_namespace fkn, "
            "pg_catalog.pg_class fkc, pg_catalog.pg_attribute fka,  "
            "pg_catalog.pg_constraint con,  pg_catalog.generate_series(1, 32) pos(n),  "
            "pg_catalog.pg_class pkic WHERE pkn.oid = pkc.relnamespace AND pkc.oid = "
            "pka.attrelid AND pka.attnum = con.confkey[pos.n] AND con.confrelid = "
            "pkc.oid  AND fkn.oid = fkc.relnamespace AND fkc.oid = fka.attrelid AND "
            "fka.attnum = con.conkey[pos.n] AND con.conrelid = fkc.oid  AND "
            "con.contype = 'f' AND (pkic.relkind = 'i' OR pkic.relkind = 'I') AND "
            "pkic.oid = con.conindid  AND pkn.nspname = 'public' AND pkc.relname = "
            "'customers' ORDER BY fkn.nspname,fkc.relname,con.conname,pos.n"
        ),
        R,
        "pgjdbc 42.5.5: DatabaseMetaData.getExportedKeys",
    ),
    (
        (
            "SELECT NULL AS PROCEDURE_CAT, n.nspname AS PROCEDURE_SCHEM, p.proname AS "
            "PROCEDURE_NAME, NULL, NULL, NULL, d.description AS REMARKS, 2 AS "
            "PROCEDURE_TYPE,  p.proname || '_' || p.oid AS SPECIFIC_NAME  FROM "
            "pg_catalog.pg_namespace n, pg_catalog.pg_proc p  LEFT JOIN "
            "pg_catalog.pg_description d ON (p.oid=d.objoid)  LEFT JOIN "
            "pg_catalog.pg_class c ON (d.classoid=c.oid AND c.relname='pg_proc')  LEFT "
            "JOIN pg_catalog.pg_namespace pn ON (c.relnamespace=pn.oid AND "
            "pn.nspname='pg_catalog')  WHERE p.pronamespace=n.oid  AND p.prokind='p' "
            "AND n.nspname LIKE 'public' AND p.proname LIKE '%' ORDER BY "
            "PROCEDURE_SCHEM, PROCEDURE_NAME, p.oid::text "
        ),
        R,
        "pgjdbc 42.5.5: DatabaseMetaData.getProcedures",
    ),
    (
        (
            "SELECT current_database() AS FUNCTION_CAT, n.nspname AS FUNCTION_SCHEM, "
            "p.proname AS FUNCTION_NAME,  d.description AS REMARKS,  CASE    WHEN "
            "(format_type(p.prorettype, null) = 'unknown') THEN 0   WHEN      "
            "(substring(pg_get_function_result(p.oid) from 0 for 6) = 'TABLE') OR      "
            "(substring(pg_get_function_result(p.oid) from 0 for 6) = 'SETOF') THEN 2  "
            " ELSE 1 END  AS FUNCTION_TYPE,  p.proname || '_' || p.oid AS "
            "SPECIFIC_NAME FROM pg_catalog.pg_proc p INNER JOIN "
            "pg_catalog.pg_namespace n ON p.pronamespace=n.oid LEFT JOIN "
            "pg_catalog.pg_description d ON p.oid=d.objoid WHERE true   AND "
            "p.prokind='f' AND n.nspname LIKE 'public' AND p.proname LIKE '%' ORDER BY "
            "FUNCTION_SCHEM, FUNCTION_NAME, p.oid::text "
        ),
        R,
        "pgjdbc 42.5.5: DatabaseMetaData.getFunctions",
    ),
    (
        (
            "SELECT nspname AS TABLE_SCHEM, NULL AS TABLE_CATALOG FROM "
            "pg_catalog.pg_namespace  WHERE nspname <> 'pg_toast' AND (nspname !~ "
            "'^pg_temp_'  OR nspname = (pg_catalog.current_schemas(true))[1]) AND "
            "(nspname !~ '^pg_toast_temp_'  OR nspname = "
            "replace((pg_catalog.current_schemas(true))[1], 'pg_temp_', "
            "'pg_toast_temp_'))  ORDER BY TABLE_SCHEM"
        ),
        R,
        "pgjdbc 42.5.5: DatabaseMetaData.getSchemas",
    ),
    (
        (
            "SELECT t.typname,t.oid FROM pg_catalog.pg_type t JOIN "
            "pg_catalog.pg_namespace n ON (t.typnamespace = n.oid)  WHERE n.nspname  "
            "!= 'pg_toast' AND  (t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM "
            "pg_catalog.pg_class c WHERE c.oid = t.typrelid))"
        ),
        R,
        "pgjdbc 42.5.5: DatabaseMetaData.getTypeInfo",
    ),
    (
        (
            "SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, "
            "typname, pg_type.oid   FROM pg_catalog.pg_type   LEFT JOIN (select ns.oid "
            "as nspoid, ns.nspname, r.r           from pg_namespace as ns           "
            "join ( select s.r, (current_schemas(false))[s.r] as nspname               "
            "     from generate_series(1, array_upper(current_schemas(false), 1)) as "
            "s(r) ) as r          using ( nspname )        ) as sp     ON sp.nspoid = "
            "typnamespace  ORDER BY sp.r, pg_type.oid DESC"
        ),
        R,
        "pgjdbc 42.5.5: DatabaseMetaData.getTypeInfo (type details)",
    ),
    (
        "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL REPEATABLE READ",
        R,
        "pgjdbc 42.5.5: Connection.setTransactionIsolation(REPEATABLE_READ)",
    ),
    (
        "BEGIN READ ONLY",
        R,
        "pgjdbc 42.5.5: setAutoCommit(false) + setReadOnly(true), first statement",
    ),
    ("SELECT 1", R, "pgjdbc 42.5.5: Statement.executeQuery"),
    ("ROLLBACK", R, "pgjdbc 42.5.5: Connection.rollback"),
    ("SELECT * FROM orders WHERE id = $1", R, "pgjdbc 42.5.5: PreparedStatement"),
    (
        "SET application_name = 'iapcap-jdbc-2'",
        R,
        "pgjdbc 42.5.5: Connection.setClientInfo(ApplicationName)",
    ),
]


# SQLAlchemy 2.1.9 with psycopg 3.3.9: create_engine("postgresql+psycopg://..."), then
# inspect(engine).get_table_names(), get_columns("orders"), get_pk_constraint("orders"),
# get_foreign_keys("orders"), get_indexes("orders") and MetaData().reflect(engine).
SQLALCHEMY_REFLECTION: list[Case] = [
    ("BEGIN", R, "SQLAlchemy 2.1.9 + psycopg 3.3.9: connection start"),
    ("select pg_catalog.version()", R, "SQLAlchemy 2.1.9 + psycopg 3.3.9: dialect initialize"),
    ("select current_schema()", R, "SQLAlchemy 2.1.9 + psycopg 3.3.9: dialect initialize"),
    (
        "show transaction isolation level",
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: dialect initialize",
    ),
    (
        "show standard_conforming_strings",
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: dialect initialize",
    ),
    (
        'SAVEPOINT "_pg3_1"',
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: dialect initialize (psycopg TypeInfo hstore)",
    ),
    (
        (
            "SELECT\n"
            "    typname AS name, oid, typarray AS array_oid,\n"
            "    oid::regtype::text AS regtype, typdelim AS delimiter\n"
            "FROM pg_type t\n"
            "WHERE t.oid = to_regtype($1)\n"
            "ORDER BY t.oid\n"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: dialect initialize (psycopg TypeInfo hstore)",
    ),
    ('RELEASE "_pg3_1"', R, "SQLAlchemy 2.1.9 + psycopg 3.3.9: dialect initialize"),
    ("ROLLBACK", R, "SQLAlchemy 2.1.9 + psycopg 3.3.9: dialect initialize"),
    (
        (
            "SELECT pg_catalog.pg_class.relname \n"
            "FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON "
            "pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n"
            "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$1::VARCHAR, $2::VARCHAR]) "
            "AND pg_catalog.pg_class.relpersistence != $3::VARCHAR AND "
            "pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND "
            "pg_catalog.pg_namespace.nspname != $4::VARCHAR"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: inspect().get_table_names()",
    ),
    (
        (
            "SELECT pg_catalog.pg_attribute.attname AS name, "
            "pg_catalog.format_type(pg_catalog.pg_attribute.atttypid, "
            "pg_catalog.pg_attribute.atttypmod) AS format_type, CASE WHEN "
            "pg_catalog.pg_attribute.atthasdef THEN (SELECT "
            "pg_catalog.pg_get_expr(pg_catalog.pg_attrdef.adbin, "
            "pg_catalog.pg_attrdef.adrelid) AS pg_get_expr_1 \n"
            "FROM pg_catalog.pg_attrdef \n"
            "WHERE pg_catalog.pg_attribute.atthasdef AND pg_catalog.pg_attrdef.adrelid "
            "= pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attrdef.adnum = "
            'pg_catalog.pg_attribute.attnum) ELSE NULL END AS "default", '
            "pg_catalog.pg_attribute.attnotnull AS not_null, "
            "pg_catalog.pg_class.relname AS table_name, "
            "pg_catalog.pg_description.description AS comment, "
            "pg_catalog.pg_attribute.attgenerated AS generated, CASE WHEN "
            "(pg_catalog.pg_attribute.attidentity != $1::VARCHAR) THEN (SELECT "
            "json_build_object($2::VARCHAR, pg_catalog.pg_attribute.attidentity = "
            "$3::VARCHAR, $4::VARCHAR, pg_catalog.pg_sequence.seqstart, $5::VARCHAR, "
            "pg_catalog.pg_sequence.seqincrement, $6::VARCHAR, "
            "pg_catalog.pg_sequence.seqmin, $7::VARCHAR, "
            "pg_catalog.pg_sequence.seqmax, $8::VARCHAR, "
            "pg_catalog.pg_sequence.seqcache, $9::VARCHAR, "
            "pg_catalog.pg_sequence.seqcycle) AS json_build_object_1 \n"
            "FROM pg_catalog.pg_sequence \n"
            "WHERE pg_catalog.pg_attribute.attidentity != $10::VARCHAR AND "
            "pg_catalog.pg_sequence.seqrelid = "
            "CAST(CAST(pg_catalog.pg_get_serial_sequence(CAST(CAST(pg_catalog."
            "pg_attribute.attrelid AS REGCLASS) AS TEXT), "
            "pg_catalog.pg_attribute.attname) AS REGCLASS) AS OID)) ELSE NULL END AS "
            "identity_options, CASE WHEN (pg_catalog.pg_attribute.attcollation != "
            "$11::INTEGER AND (SELECT pg_catalog.pg_type.typcollation \n"
            "FROM pg_catalog.pg_type \n"
            "WHERE pg_catalog.pg_type.oid = pg_catalog.pg_attribute.atttypid) != "
            "pg_catalog.pg_attribute.attcollation) THEN (SELECT "
            "json_build_object($12::VARCHAR, pg_catalog.pg_collation.collname, "
            "$13::VARCHAR, CASE WHEN "
            "pg_catalog.pg_collation_is_visible(pg_catalog.pg_collation.oid) THEN NULL "
            "ELSE pg_catalog.pg_namespace.nspname END) AS json_build_object_9 \n"
            "FROM pg_catalog.pg_collation JOIN pg_catalog.pg_namespace ON "
            "pg_catalog.pg_namespace.oid = pg_catalog.pg_collation.collnamespace \n"
            "WHERE pg_catalog.pg_collation.oid = pg_catalog.pg_attribute.attcollation) "
            "ELSE NULL END AS collation \n"
            "FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_attribute ON "
            "pg_catalog.pg_class.oid = pg_catalog.pg_attribute.attrelid AND "
            "pg_catalog.pg_attribute.attnum > $14::SMALLINT AND NOT "
            "pg_catalog.pg_attribute.attisdropped LEFT OUTER JOIN "
            "pg_catalog.pg_description ON pg_catalog.pg_description.objoid = "
            "pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_description.objsubid = "
            "pg_catalog.pg_attribute.attnum JOIN pg_catalog.pg_namespace ON "
            "pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n"
            "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$15::VARCHAR, "
            "$16::VARCHAR, $17::VARCHAR, $18::VARCHAR, $19::VARCHAR]) AND "
            "pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND "
            "pg_catalog.pg_namespace.nspname != $20::VARCHAR AND "
            "pg_catalog.pg_class.relname IN ($21::VARCHAR) ORDER BY "
            "pg_catalog.pg_class.relname, pg_catalog.pg_attribute.attnum"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: inspect().get_columns('orders')",
    ),
    (
        (
            "SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname \n"
            "FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON "
            "pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n"
            "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$1::VARCHAR, $2::VARCHAR, "
            "$3::VARCHAR, $4::VARCHAR, $5::VARCHAR]) AND "
            "pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND "
            "pg_catalog.pg_namespace.nspname != $6::VARCHAR AND "
            "pg_catalog.pg_class.relname IN ($7::VARCHAR)"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: inspect().get_pk_constraint('orders')",
    ),
    (
        (
            "SELECT attr.conrelid, array_agg(CAST(attr.attname AS TEXT) ORDER BY "
            "attr.ord) AS cols, attr.conname, min(attr.description) AS description, "
            "min(attr.indnkeyatts) AS indnkeyatts, bool_and(attr.indnullsnotdistinct) "
            "AS indnullsnotdistinct \n"
            "FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, "
            "con.description AS description, con.ord AS ord, con.indnkeyatts AS "
            "indnkeyatts, con.indnullsnotdistinct AS indnullsnotdistinct, "
            "pg_catalog.pg_attribute.attname AS attname \n"
            "FROM pg_catalog.pg_attribute JOIN (SELECT "
            "pg_catalog.pg_constraint.conrelid AS conrelid, "
            "pg_catalog.pg_constraint.conname AS conname, "
            "unnest(pg_catalog.pg_index.indkey) AS attnum, "
            "generate_subscripts(pg_catalog.pg_index.indkey, $1::INTEGER) AS ord, "
            "pg_catalog.pg_index.indnkeyatts AS indnkeyatts, "
            "pg_catalog.pg_index.indnullsnotdistinct AS indnullsnotdistinct, "
            "pg_catalog.pg_description.description AS description \n"
            "FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON "
            "pg_catalog.pg_constraint.conindid = pg_catalog.pg_index.indexrelid LEFT "
            "OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid "
            "= pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = "
            "CAST($2 AS REGCLASS) \n"
            "WHERE pg_catalog.pg_constraint.contype = $3::VARCHAR AND "
            "pg_catalog.pg_constraint.conrelid IN ($4)) AS con ON "
            "pg_catalog.pg_attribute.attnum = con.attnum AND "
            "pg_catalog.pg_attribute.attrelid = con.conrelid \n"
            "WHERE con.conrelid IN ($4)) AS attr GROUP BY attr.conrelid, attr.conname "
            "ORDER BY attr.conrelid, attr.conname"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: inspect().get_pk_constraint('orders')",
    ),
    (
        (
            "SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, "
            "CASE WHEN (pg_catalog.pg_constraint.oid IS NOT NULL) THEN "
            "pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, $1) END AS "
            "anon_1, nsp_ref.nspname, pg_catalog.pg_description.description \n"
            "FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON "
            "pg_catalog.pg_class.oid = pg_catalog.pg_constraint.conrelid AND "
            "pg_catalog.pg_constraint.contype = $2::VARCHAR LEFT OUTER JOIN "
            "pg_catalog.pg_class AS cls_ref ON cls_ref.oid = "
            "pg_catalog.pg_constraint.confrelid LEFT OUTER JOIN "
            "pg_catalog.pg_namespace AS nsp_ref ON cls_ref.relnamespace = nsp_ref.oid "
            "LEFT OUTER JOIN pg_catalog.pg_description ON "
            "pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND "
            "pg_catalog.pg_description.classoid = CAST($3 AS REGCLASS) JOIN "
            "pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = "
            "pg_catalog.pg_class.relnamespace \n"
            "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$4::VARCHAR, $5::VARCHAR, "
            "$6::VARCHAR, $7::VARCHAR, $8::VARCHAR]) AND "
            "pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND "
            "pg_catalog.pg_namespace.nspname != $9::VARCHAR AND "
            "pg_catalog.pg_class.relname IN ($10::VARCHAR) ORDER BY "
            "pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: inspect().get_foreign_keys('orders')",
    ),
    (
        (
            "SELECT pg_catalog.pg_am.oid, pg_catalog.pg_am.amname \n"
            "FROM pg_catalog.pg_am \n"
            "WHERE pg_catalog.pg_am.amname = $1::VARCHAR"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: inspect().get_indexes('orders')",
    ),
    (
        (
            "SELECT pg_catalog.pg_opclass.oid, pg_catalog.pg_opclass.opcname \n"
            "FROM pg_catalog.pg_opclass \n"
            "WHERE NOT pg_catalog.pg_opclass.opcdefault"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: inspect().get_indexes('orders')",
    ),
    (
        (
            "SELECT pg_catalog.pg_index.indrelid, pg_catalog.pg_class.relname, "
            "pg_catalog.pg_index.indisunique, pg_catalog.pg_index.indisvalid, "
            "pg_catalog.pg_constraint.conrelid IS NOT NULL AS has_constraint, "
            "pg_catalog.pg_index.indoption, pg_catalog.pg_class.reloptions, "
            "pg_catalog.pg_class.relam, CASE WHEN (pg_catalog.pg_index.indpred IS NOT "
            "NULL) THEN pg_catalog.pg_get_expr(pg_catalog.pg_index.indpred, "
            "pg_catalog.pg_index.indrelid) END AS filter_definition, "
            "pg_catalog.pg_index.indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct, "
            "idx_cols.elements, idx_cols.elements_is_expr, idx_cols.elements_opclass \n"
            "FROM pg_catalog.pg_index JOIN pg_catalog.pg_class ON "
            "pg_catalog.pg_index.indexrelid = pg_catalog.pg_class.oid LEFT OUTER JOIN "
            "(SELECT idx_attr.indexrelid AS indexrelid, min(idx_attr.indrelid) AS "
            "min_1, array_agg(idx_attr.element ORDER BY idx_attr.ord) AS elements, "
            "array_agg(idx_attr.is_expr ORDER BY idx_attr.ord) AS elements_is_expr, "
            "array_agg(idx_attr.att_opclass ORDER BY idx_attr.ord) AS elements_opclass \n"
            "FROM (SELECT idx.indexrelid AS indexrelid, idx.indrelid AS indrelid, "
            "idx.ord AS ord, CASE WHEN (idx.attnum = $1::INTEGER) THEN "
            "pg_catalog.pg_get_indexdef(idx.indexrelid, idx.ord + $2::INTEGER, $3) "
            "ELSE CAST(pg_catalog.pg_attribute.attname AS TEXT) END AS element, "
            "idx.attnum = $4::INTEGER AS is_expr, CAST(idx.att_opclass AS BIGINT) AS "
            "att_opclass \n"
            "FROM (SELECT pg_catalog.pg_index.indexrelid AS indexrelid, "
            "pg_catalog.pg_index.indrelid AS indrelid, "
            "unnest(pg_catalog.pg_index.indkey) AS attnum, "
            "unnest(pg_catalog.pg_index.indclass) AS att_opclass, "
            "generate_subscripts(pg_catalog.pg_index.indkey, $5::INTEGER) AS ord \n"
            "FROM pg_catalog.pg_index \n"
            "WHERE NOT pg_catalog.pg_index.indisprimary AND "
            "pg_catalog.pg_index.indrelid IN ($6)) AS idx LEFT OUTER JOIN "
            "pg_catalog.pg_attribute ON pg_catalog.pg_attribute.attnum = idx.attnum "
            "AND pg_catalog.pg_attribute.attrelid = idx.indrelid \n"
            "WHERE idx.indrelid IN ($6)) AS idx_attr GROUP BY idx_attr.indexrelid) AS "
            "idx_cols ON pg_catalog.pg_index.indexrelid = idx_cols.indexrelid LEFT "
            "OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_index.indrelid = "
            "pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_index.indexrelid = "
            "pg_catalog.pg_constraint.conindid AND pg_catalog.pg_constraint.contype = "
            "ANY (ARRAY[$7::VARCHAR, $8::VARCHAR, $9::VARCHAR]) \n"
            "WHERE pg_catalog.pg_index.indrelid IN ($6) AND NOT "
            "pg_catalog.pg_index.indisprimary ORDER BY pg_catalog.pg_index.indrelid, "
            "pg_catalog.pg_class.relname"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: inspect().get_indexes('orders')",
    ),
    (
        (
            "SELECT pg_catalog.pg_attribute.attname AS name, "
            "pg_catalog.format_type(pg_catalog.pg_attribute.atttypid, "
            "pg_catalog.pg_attribute.atttypmod) AS format_type, CASE WHEN "
            "pg_catalog.pg_attribute.atthasdef THEN (SELECT "
            "pg_catalog.pg_get_expr(pg_catalog.pg_attrdef.adbin, "
            "pg_catalog.pg_attrdef.adrelid) AS pg_get_expr_1 \n"
            "FROM pg_catalog.pg_attrdef \n"
            "WHERE pg_catalog.pg_attribute.atthasdef AND pg_catalog.pg_attrdef.adrelid "
            "= pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_attrdef.adnum = "
            'pg_catalog.pg_attribute.attnum) ELSE NULL END AS "default", '
            "pg_catalog.pg_attribute.attnotnull AS not_null, "
            "pg_catalog.pg_class.relname AS table_name, "
            "pg_catalog.pg_description.description AS comment, "
            "pg_catalog.pg_attribute.attgenerated AS generated, CASE WHEN "
            "(pg_catalog.pg_attribute.attidentity != $1::VARCHAR) THEN (SELECT "
            "json_build_object($2::VARCHAR, pg_catalog.pg_attribute.attidentity = "
            "$3::VARCHAR, $4::VARCHAR, pg_catalog.pg_sequence.seqstart, $5::VARCHAR, "
            "pg_catalog.pg_sequence.seqincrement, $6::VARCHAR, "
            "pg_catalog.pg_sequence.seqmin, $7::VARCHAR, "
            "pg_catalog.pg_sequence.seqmax, $8::VARCHAR, "
            "pg_catalog.pg_sequence.seqcache, $9::VARCHAR, "
            "pg_catalog.pg_sequence.seqcycle) AS json_build_object_1 \n"
            "FROM pg_catalog.pg_sequence \n"
            "WHERE pg_catalog.pg_attribute.attidentity != $10::VARCHAR AND "
            "pg_catalog.pg_sequence.seqrelid = "
            "CAST(CAST(pg_catalog.pg_get_serial_sequence(CAST(CAST(pg_catalog."
            "pg_attribute.attrelid AS REGCLASS) AS TEXT), "
            "pg_catalog.pg_attribute.attname) AS REGCLASS) AS OID)) ELSE NULL END AS "
            "identity_options, CASE WHEN (pg_catalog.pg_attribute.attcollation != "
            "$11::INTEGER AND (SELECT pg_catalog.pg_type.typcollation \n"
            "FROM pg_catalog.pg_type \n"
            "WHERE pg_catalog.pg_type.oid = pg_catalog.pg_attribute.atttypid) != "
            "pg_catalog.pg_attribute.attcollation) THEN (SELECT "
            "json_build_object($12::VARCHAR, pg_catalog.pg_collation.collname, "
            "$13::VARCHAR, CASE WHEN "
            "pg_catalog.pg_collation_is_visible(pg_catalog.pg_collation.oid) THEN NULL "
            "ELSE pg_catalog.pg_namespace.nspname END) AS json_build_object_9 \n"
            "FROM pg_catalog.pg_collation JOIN pg_catalog.pg_namespace ON "
            "pg_catalog.pg_namespace.oid = pg_catalog.pg_collation.collnamespace \n"
            "WHERE pg_catalog.pg_collation.oid = pg_catalog.pg_attribute.attcollation) "
            "ELSE NULL END AS collation \n"
            "FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_attribute ON "
            "pg_catalog.pg_class.oid = pg_catalog.pg_attribute.attrelid AND "
            "pg_catalog.pg_attribute.attnum > $14::SMALLINT AND NOT "
            "pg_catalog.pg_attribute.attisdropped LEFT OUTER JOIN "
            "pg_catalog.pg_description ON pg_catalog.pg_description.objoid = "
            "pg_catalog.pg_attribute.attrelid AND pg_catalog.pg_description.objsubid = "
            "pg_catalog.pg_attribute.attnum JOIN pg_catalog.pg_namespace ON "
            "pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n"
            "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$15::VARCHAR, "
            "$16::VARCHAR, $17::VARCHAR]) AND "
            "pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) AND "
            "pg_catalog.pg_namespace.nspname != $18::VARCHAR AND "
            "pg_catalog.pg_class.relname IN ($19::VARCHAR, $20::VARCHAR) ORDER BY "
            "pg_catalog.pg_class.relname, pg_catalog.pg_attribute.attnum"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: MetaData.reflect()",
    ),
    (
        (
            "SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname \n"
            "FROM pg_catalog.pg_class JOIN pg_catalog.pg_namespace ON "
            "pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n"
            "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$1::VARCHAR, $2::VARCHAR, "
            "$3::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) "
            "AND pg_catalog.pg_namespace.nspname != $4::VARCHAR AND "
            "pg_catalog.pg_class.relname IN ($5::VARCHAR, $6::VARCHAR)"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: MetaData.reflect()",
    ),
    (
        (
            "SELECT attr.conrelid, array_agg(CAST(attr.attname AS TEXT) ORDER BY "
            "attr.ord) AS cols, attr.conname, min(attr.description) AS description, "
            "min(attr.indnkeyatts) AS indnkeyatts, bool_and(attr.indnullsnotdistinct) "
            "AS indnullsnotdistinct \n"
            "FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, "
            "con.description AS description, con.ord AS ord, con.indnkeyatts AS "
            "indnkeyatts, con.indnullsnotdistinct AS indnullsnotdistinct, "
            "pg_catalog.pg_attribute.attname AS attname \n"
            "FROM pg_catalog.pg_attribute JOIN (SELECT "
            "pg_catalog.pg_constraint.conrelid AS conrelid, "
            "pg_catalog.pg_constraint.conname AS conname, "
            "unnest(pg_catalog.pg_index.indkey) AS attnum, "
            "generate_subscripts(pg_catalog.pg_index.indkey, $1::INTEGER) AS ord, "
            "pg_catalog.pg_index.indnkeyatts AS indnkeyatts, "
            "pg_catalog.pg_index.indnullsnotdistinct AS indnullsnotdistinct, "
            "pg_catalog.pg_description.description AS description \n"
            "FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON "
            "pg_catalog.pg_constraint.conindid = pg_catalog.pg_index.indexrelid LEFT "
            "OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid "
            "= pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = "
            "CAST($2 AS REGCLASS) \n"
            "WHERE pg_catalog.pg_constraint.contype = $3::VARCHAR AND "
            "pg_catalog.pg_constraint.conrelid IN ($4, $5)) AS con ON "
            "pg_catalog.pg_attribute.attnum = con.attnum AND "
            "pg_catalog.pg_attribute.attrelid = con.conrelid \n"
            "WHERE con.conrelid IN ($4, $5)) AS attr GROUP BY attr.conrelid, "
            "attr.conname ORDER BY attr.conrelid, attr.conname"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: MetaData.reflect()",
    ),
    (
        (
            "SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, "
            "CASE WHEN (pg_catalog.pg_constraint.oid IS NOT NULL) THEN "
            "pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, $1) END AS "
            "anon_1, nsp_ref.nspname, pg_catalog.pg_description.description \n"
            "FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON "
            "pg_catalog.pg_class.oid = pg_catalog.pg_constraint.conrelid AND "
            "pg_catalog.pg_constraint.contype = $2::VARCHAR LEFT OUTER JOIN "
            "pg_catalog.pg_class AS cls_ref ON cls_ref.oid = "
            "pg_catalog.pg_constraint.confrelid LEFT OUTER JOIN "
            "pg_catalog.pg_namespace AS nsp_ref ON cls_ref.relnamespace = nsp_ref.oid "
            "LEFT OUTER JOIN pg_catalog.pg_description ON "
            "pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND "
            "pg_catalog.pg_description.classoid = CAST($3 AS REGCLASS) JOIN "
            "pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = "
            "pg_catalog.pg_class.relnamespace \n"
            "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$4::VARCHAR, $5::VARCHAR, "
            "$6::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) "
            "AND pg_catalog.pg_namespace.nspname != $7::VARCHAR AND "
            "pg_catalog.pg_class.relname IN ($8::VARCHAR, $9::VARCHAR) ORDER BY "
            "pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: MetaData.reflect()",
    ),
    (
        (
            "SELECT pg_catalog.pg_index.indrelid, pg_catalog.pg_class.relname, "
            "pg_catalog.pg_index.indisunique, pg_catalog.pg_index.indisvalid, "
            "pg_catalog.pg_constraint.conrelid IS NOT NULL AS has_constraint, "
            "pg_catalog.pg_index.indoption, pg_catalog.pg_class.reloptions, "
            "pg_catalog.pg_class.relam, CASE WHEN (pg_catalog.pg_index.indpred IS NOT "
            "NULL) THEN pg_catalog.pg_get_expr(pg_catalog.pg_index.indpred, "
            "pg_catalog.pg_index.indrelid) END AS filter_definition, "
            "pg_catalog.pg_index.indnkeyatts, pg_catalog.pg_index.indnullsnotdistinct, "
            "idx_cols.elements, idx_cols.elements_is_expr, idx_cols.elements_opclass \n"
            "FROM pg_catalog.pg_index JOIN pg_catalog.pg_class ON "
            "pg_catalog.pg_index.indexrelid = pg_catalog.pg_class.oid LEFT OUTER JOIN "
            "(SELECT idx_attr.indexrelid AS indexrelid, min(idx_attr.indrelid) AS "
            "min_1, array_agg(idx_attr.element ORDER BY idx_attr.ord) AS elements, "
            "array_agg(idx_attr.is_expr ORDER BY idx_attr.ord) AS elements_is_expr, "
            "array_agg(idx_attr.att_opclass ORDER BY idx_attr.ord) AS elements_opclass \n"
            "FROM (SELECT idx.indexrelid AS indexrelid, idx.indrelid AS indrelid, "
            "idx.ord AS ord, CASE WHEN (idx.attnum = $1::INTEGER) THEN "
            "pg_catalog.pg_get_indexdef(idx.indexrelid, idx.ord + $2::INTEGER, $3) "
            "ELSE CAST(pg_catalog.pg_attribute.attname AS TEXT) END AS element, "
            "idx.attnum = $4::INTEGER AS is_expr, CAST(idx.att_opclass AS BIGINT) AS "
            "att_opclass \n"
            "FROM (SELECT pg_catalog.pg_index.indexrelid AS indexrelid, "
            "pg_catalog.pg_index.indrelid AS indrelid, "
            "unnest(pg_catalog.pg_index.indkey) AS attnum, "
            "unnest(pg_catalog.pg_index.indclass) AS att_opclass, "
            "generate_subscripts(pg_catalog.pg_index.indkey, $5::INTEGER) AS ord \n"
            "FROM pg_catalog.pg_index \n"
            "WHERE NOT pg_catalog.pg_index.indisprimary AND "
            "pg_catalog.pg_index.indrelid IN ($6, $7)) AS idx LEFT OUTER JOIN "
            "pg_catalog.pg_attribute ON pg_catalog.pg_attribute.attnum = idx.attnum "
            "AND pg_catalog.pg_attribute.attrelid = idx.indrelid \n"
            "WHERE idx.indrelid IN ($6, $7)) AS idx_attr GROUP BY idx_attr.indexrelid) "
            "AS idx_cols ON pg_catalog.pg_index.indexrelid = idx_cols.indexrelid LEFT "
            "OUTER JOIN pg_catalog.pg_constraint ON pg_catalog.pg_index.indrelid = "
            "pg_catalog.pg_constraint.conrelid AND pg_catalog.pg_index.indexrelid = "
            "pg_catalog.pg_constraint.conindid AND pg_catalog.pg_constraint.contype = "
            "ANY (ARRAY[$8::VARCHAR, $9::VARCHAR, $10::VARCHAR]) \n"
            "WHERE pg_catalog.pg_index.indrelid IN ($6, $7) AND NOT "
            "pg_catalog.pg_index.indisprimary ORDER BY pg_catalog.pg_index.indrelid, "
            "pg_catalog.pg_class.relname"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: MetaData.reflect()",
    ),
    (
        (
            "SELECT pg_catalog.pg_class.relname, pg_catalog.pg_description.description \n"
            "FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_description ON "
            "pg_catalog.pg_class.oid = pg_catalog.pg_description.objoid AND "
            "pg_catalog.pg_description.objsubid = $1::INTEGER AND "
            "pg_catalog.pg_description.classoid = CAST($2 AS REGCLASS) JOIN "
            "pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = "
            "pg_catalog.pg_class.relnamespace \n"
            "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$3::VARCHAR, $4::VARCHAR, "
            "$5::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) "
            "AND pg_catalog.pg_namespace.nspname != $6::VARCHAR AND "
            "pg_catalog.pg_class.relname IN ($7::VARCHAR, $8::VARCHAR)"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: MetaData.reflect() (table comments)",
    ),
    (
        (
            "SELECT pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname, "
            "CASE WHEN (pg_catalog.pg_constraint.oid IS NOT NULL) THEN "
            "pg_catalog.pg_get_constraintdef(pg_catalog.pg_constraint.oid, $1) END AS "
            "anon_1, pg_catalog.pg_description.description \n"
            "FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_constraint ON "
            "pg_catalog.pg_class.oid = pg_catalog.pg_constraint.conrelid AND "
            "pg_catalog.pg_constraint.contype = $2::VARCHAR LEFT OUTER JOIN "
            "pg_catalog.pg_description ON pg_catalog.pg_description.objoid = "
            "pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = "
            "CAST($3 AS REGCLASS) JOIN pg_catalog.pg_namespace ON "
            "pg_catalog.pg_namespace.oid = pg_catalog.pg_class.relnamespace \n"
            "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$4::VARCHAR, $5::VARCHAR, "
            "$6::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) "
            "AND pg_catalog.pg_namespace.nspname != $7::VARCHAR AND "
            "pg_catalog.pg_class.relname IN ($8::VARCHAR, $9::VARCHAR) ORDER BY "
            "pg_catalog.pg_class.relname, pg_catalog.pg_constraint.conname"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: MetaData.reflect()",
    ),
    (
        (
            "SELECT pg_catalog.pg_class.oid, pg_catalog.pg_class.relname, "
            "pg_catalog.pg_class.reloptions, NULL AS relhasoids, CASE WHEN "
            "(pg_catalog.pg_am.amname IS NOT NULL AND pg_catalog.pg_am.amname != "
            "current_setting($1::VARCHAR)) THEN pg_catalog.pg_am.amname ELSE NULL END "
            "AS access_method_name, pg_catalog.pg_tablespace.spcname AS "
            "tablespace_name, inherits.parent_table_names \n"
            "FROM pg_catalog.pg_class LEFT OUTER JOIN pg_catalog.pg_am ON "
            "pg_catalog.pg_class.relam = pg_catalog.pg_am.oid LEFT OUTER JOIN (SELECT "
            "pg_catalog.pg_inherits.inhrelid AS inhrelid, "
            "array_agg(pg_catalog.pg_class.relname ORDER BY "
            "pg_catalog.pg_inherits.inhseqno) AS parent_table_names \n"
            "FROM pg_catalog.pg_inherits JOIN pg_catalog.pg_class ON "
            "pg_catalog.pg_inherits.inhparent = pg_catalog.pg_class.oid GROUP BY "
            "pg_catalog.pg_inherits.inhrelid) AS inherits ON pg_catalog.pg_class.oid = "
            "inherits.inhrelid LEFT OUTER JOIN pg_catalog.pg_tablespace ON "
            "pg_catalog.pg_tablespace.oid = pg_catalog.pg_class.reltablespace JOIN "
            "pg_catalog.pg_namespace ON pg_catalog.pg_namespace.oid = "
            "pg_catalog.pg_class.relnamespace \n"
            "WHERE pg_catalog.pg_class.relkind = ANY (ARRAY[$2::VARCHAR, $3::VARCHAR, "
            "$4::VARCHAR]) AND pg_catalog.pg_table_is_visible(pg_catalog.pg_class.oid) "
            "AND pg_catalog.pg_namespace.nspname != $5::VARCHAR AND "
            "pg_catalog.pg_class.relname IN ($6::VARCHAR, $7::VARCHAR)"
        ),
        R,
        "SQLAlchemy 2.1.9 + psycopg 3.3.9: MetaData.reflect() (table options)",
    ),
]


# psycopg 3.3.9: connect (transaction mode), a query with parameters, commit; connect with
# autocommit, a query, TypeInfo.fetch(conn, "hstore"). Then, against PostgreSQL 15.18 (with
# PGOPTIONS='-c log_statement=all'): EnumInfo, CompositeInfo, RangeInfo and
# MultirangeInfo.fetch (what register_enum and register_composite need), and a server-side
# cursor named c read in two steps inside a transaction.
PSYCOPG: list[Case] = [
    ("BEGIN", R, "psycopg 3.3.9: connection start (non-autocommit)"),
    ("SELECT $1::int, $2::text", R, "psycopg 3.3.9: server-side binding"),
    ("COMMIT", R, "psycopg 3.3.9: commit"),
    ("SELECT 1", R, "psycopg 3.3.9: autocommit query"),
    (
        (
            "SELECT\n"
            "    typname AS name, oid, typarray AS array_oid,\n"
            "    oid::regtype::text AS regtype, typdelim AS delimiter\n"
            "FROM pg_type t\n"
            "WHERE t.oid = to_regtype($1)\n"
            "ORDER BY t.oid\n"
        ),
        R,
        "psycopg 3.3.9: TypeInfo.fetch('hstore')",
    ),
    *_group(
        "psycopg 3.3.9",
        (
            (
                "SELECT name, oid, array_oid, regtype, array_agg(label) AS labels\n"
                "FROM (\n"
                "    SELECT\n"
                "        t.typname AS name, t.oid AS oid, t.typarray AS array_oid,\n"
                "        t.oid::regtype::text AS regtype, e.enumlabel AS label\n"
                "    FROM pg_type t\n"
                "    LEFT JOIN  pg_enum e\n"
                "    ON e.enumtypid = t.oid\n"
                "    WHERE t.oid = to_regtype($1)\n"
                "    ORDER BY e.enumsortorder\n"
                ") x\n"
                "GROUP BY name, oid, array_oid, regtype\n"
            ),
            R,
        ),
        (
            (
                "SELECT\n"
                "    t.typname AS name, t.oid AS oid, t.typarray AS array_oid,\n"
                "    t.oid::regtype::text AS regtype,\n"
                "    coalesce(a.fnames, '{}') AS field_names,\n"
                "    coalesce(a.ftypes, '{}') AS field_types\n"
                "FROM pg_type t\n"
                "LEFT JOIN (\n"
                "    SELECT\n"
                "        attrelid,\n"
                "        array_agg(attname) AS fnames,\n"
                "        array_agg(atttypid) AS ftypes\n"
                "    FROM (\n"
                "        SELECT a.attrelid, a.attname, a.atttypid\n"
                "        FROM pg_attribute a\n"
                "        JOIN pg_type t ON t.typrelid = a.attrelid\n"
                "        WHERE t.oid = to_regtype($1)\n"
                "        AND a.attnum > 0\n"
                "        AND NOT a.attisdropped\n"
                "        ORDER BY a.attnum\n"
                "    ) x\n"
                "    GROUP BY attrelid\n"
                ") a ON a.attrelid = t.typrelid\n"
                "WHERE t.oid = to_regtype($1)\n"
            ),
            R,
        ),
        (
            (
                "SELECT t.typname AS name, t.oid AS oid, t.typarray AS array_oid,\n"
                "    t.oid::regtype::text AS regtype,\n"
                "    r.rngsubtype AS subtype_oid\n"
                "FROM pg_type t\n"
                "JOIN pg_range r ON t.oid = r.rngtypid\n"
                "WHERE t.oid = to_regtype($1)\n"
            ),
            R,
        ),
        (
            (
                "SELECT t.typname AS name, t.oid AS oid, t.typarray AS array_oid,\n"
                "    t.oid::regtype::text AS regtype,\n"
                "    r.rngtypid AS range_oid, r.rngsubtype AS subtype_oid\n"
                "FROM pg_type t\n"
                "JOIN pg_range r ON t.oid = r.rngmultitypid\n"
                "WHERE t.oid = to_regtype($1)\n"
            ),
            R,
        ),
        ('DECLARE "c" CURSOR FOR SELECT id FROM orders', R),
        ('FETCH FORWARD 1 FROM "c"', R),
        ('FETCH FORWARD ALL FROM "c"', R),
        ('CLOSE "c"', R),
    ),
]


# asyncpg 0.32.0: connect with server_settings application_name, queries whose parameter
# types need introspection (jsonb, numeric[], interval, a record), then a pool
# (create_pool, acquire, query, release: the pool's reset query). Then, against PostgreSQL
# 15.18 (server_settings log_statement=all): the first fetch of enum, jsonb and composite
# columns (the same introspection as above), set_type_codec on an enum (TYPE_BY_NAME),
# transaction() and transaction(isolation="serializable", readonly=True), reset().
ASYNCPG: list[Case] = [
    (
        (
            "\n"
            "                    SELECT\n"
            "                        current_setting('jit') AS cur,\n"
            "                        set_config('jit', 'off', false) AS new\n"
            "                    "
        ),
        R,
        "asyncpg 0.32.0: type introspection: jit off",
    ),
    (
        (
            "WITH RECURSIVE typeinfo_tree(\n"
            "    oid, ns, name, kind, basetype, elemtype, elemdelim,\n"
            "    range_subtype, attrtypoids, attrnames, depth)\n"
            "AS (\n"
            "    SELECT\n"
            "        ti.oid, ti.ns, ti.name, ti.kind, ti.basetype,\n"
            "        ti.elemtype, ti.elemdelim, ti.range_subtype,\n"
            "        ti.attrtypoids, ti.attrnames, 0\n"
            "    FROM\n"
            "            (\n"
            "        SELECT\n"
            "            t.oid                           AS oid,\n"
            "            ns.nspname                      AS ns,\n"
            "            t.typname                       AS name,\n"
            "            t.typtype                       AS kind,\n"
            "            (CASE WHEN t.typtype = 'd' THEN\n"
            "                (WITH RECURSIVE typebases(oid, depth) AS (\n"
            "                    SELECT\n"
            "                        t2.typbasetype      AS oid,\n"
            "                        0                   AS depth\n"
            "                    FROM\n"
            "                        pg_type t2\n"
            "                    WHERE\n"
            "                        t2.oid = t.oid\n"
            "\n"
            "                    UNION ALL\n"
            "\n"
            "                    SELECT\n"
            "                        t2.typbasetype      AS oid,\n"
            "                        tb.depth + 1        AS depth\n"
            "                    FROM\n"
            "                        pg_type t2,\n"
            "                        typebases tb\n"
            "                    WHERE\n"
            "                       tb.oid = t2.oid\n"
            "                       AND t2.typbasetype != 0\n"
            "               ) SELECT oid FROM typebases ORDER BY depth DESC LIMIT 1)\n"
            "\n"
            "               ELSE NULL\n"
            "            END)                            AS basetype,\n"
            "            t.typelem                       AS elemtype,\n"
            "            elem_t.typdelim                 AS elemdelim,\n"
            "            COALESCE(\n"
            "                range_t.rngsubtype,\n"
            "                multirange_t.rngsubtype)    AS range_subtype,\n"
            "            (CASE WHEN t.typtype = 'c' THEN\n"
            "                (SELECT\n"
            "                    array_agg(ia.atttypid ORDER BY ia.attnum)\n"
            "                FROM\n"
            "                    pg_attribute ia\n"
            "                    INNER JOIN pg_class c\n"
            "                        ON (ia.attrelid = c.oid)\n"
            "                WHERE\n"
            "                    ia.attnum > 0 AND NOT ia.attisdropped\n"
            "                    AND c.reltype = t.oid)\n"
            "\n"
            "                ELSE NULL\n"
            "            END)                            AS attrtypoids,\n"
            "            (CASE WHEN t.typtype = 'c' THEN\n"
            "                (SELECT\n"
            "                    array_agg(ia.attname::text ORDER BY ia.attnum)\n"
            "                FROM\n"
            "                    pg_attribute ia\n"
            "                    INNER JOIN pg_class c\n"
            "                        ON (ia.attrelid = c.oid)\n"
            "                WHERE\n"
            "                    ia.attnum > 0 AND NOT ia.attisdropped\n"
            "                    AND c.reltype = t.oid)\n"
            "\n"
            "                ELSE NULL\n"
            "            END)                            AS attrnames\n"
            "        FROM\n"
            "            pg_catalog.pg_type AS t\n"
            "            INNER JOIN pg_catalog.pg_namespace ns ON (\n"
            "                ns.oid = t.typnamespace)\n"
            "            LEFT JOIN pg_type elem_t ON (\n"
            "                t.typlen = -1 AND\n"
            "                t.typelem != 0 AND\n"
            "                t.typelem = elem_t.oid\n"
            "            )\n"
            "            LEFT JOIN pg_range range_t ON (\n"
            "                t.oid = range_t.rngtypid\n"
            "            )\n"
            "            LEFT JOIN pg_range multirange_t ON (\n"
            "                t.oid = multirange_t.rngmultitypid\n"
            "            )\n"
            "    )\n"
            " AS ti\n"
            "    WHERE\n"
            "        ti.oid = any($1::oid[])\n"
            "\n"
            "    UNION ALL\n"
            "\n"
            "    SELECT\n"
            "        ti.oid, ti.ns, ti.name, ti.kind, ti.basetype,\n"
            "        ti.elemtype, ti.elemdelim, ti.range_subtype,\n"
            "        ti.attrtypoids, ti.attrnames, tt.depth + 1\n"
            "    FROM\n"
            "            (\n"
            "        SELECT\n"
            "            t.oid                           AS oid,\n"
            "            ns.nspname                      AS ns,\n"
            "            t.typname                       AS name,\n"
            "            t.typtype                       AS kind,\n"
            "            (CASE WHEN t.typtype = 'd' THEN\n"
            "                (WITH RECURSIVE typebases(oid, depth) AS (\n"
            "                    SELECT\n"
            "                        t2.typbasetype      AS oid,\n"
            "                        0                   AS depth\n"
            "                    FROM\n"
            "                        pg_type t2\n"
            "                    WHERE\n"
            "                        t2.oid = t.oid\n"
            "\n"
            "                    UNION ALL\n"
            "\n"
            "                    SELECT\n"
            "                        t2.typbasetype      AS oid,\n"
            "                        tb.depth + 1        AS depth\n"
            "                    FROM\n"
            "                        pg_type t2,\n"
            "                        typebases tb\n"
            "                    WHERE\n"
            "                       tb.oid = t2.oid\n"
            "                       AND t2.typbasetype != 0\n"
            "               ) SELECT oid FROM typebases ORDER BY depth DESC LIMIT 1)\n"
            "\n"
            "               ELSE NULL\n"
            "            END)                            AS basetype,\n"
            "            t.typelem                       AS elemtype,\n"
            "            elem_t.typdelim                 AS elemdelim,\n"
            "            COALESCE(\n"
            "                range_t.rngsubtype,\n"
            "                multirange_t.rngsubtype)    AS range_subtype,\n"
            "            (CASE WHEN t.typtype = 'c' THEN\n"
            "                (SELECT\n"
            "                    array_agg(ia.atttypid ORDER BY ia.attnum)\n"
            "                FROM\n"
            "                    pg_attribute ia\n"
            "                    INNER JOIN pg_class c\n"
            "                        ON (ia.attrelid = c.oid)\n"
            "                WHERE\n"
            "                    ia.attnum > 0 AND NOT ia.attisdropped\n"
            "                    AND c.reltype = t.oid)\n"
            "\n"
            "                ELSE NULL\n"
            "            END)                            AS attrtypoids,\n"
            "            (CASE WHEN t.typtype = 'c' THEN\n"
            "                (SELECT\n"
            "                    array_agg(ia.attname::text ORDER BY ia.attnum)\n"
            "                FROM\n"
            "                    pg_attribute ia\n"
            "                    INNER JOIN pg_class c\n"
            "                        ON (ia.attrelid = c.oid)\n"
            "                WHERE\n"
            "                    ia.attnum > 0 AND NOT ia.attisdropped\n"
            "                    AND c.reltype = t.oid)\n"
            "\n"
            "                ELSE NULL\n"
            "            END)                            AS attrnames\n"
            "        FROM\n"
            "            pg_catalog.pg_type AS t\n"
            "            INNER JOIN pg_catalog.pg_namespace ns ON (\n"
            "                ns.oid = t.typnamespace)\n"
            "            LEFT JOIN pg_type elem_t ON (\n"
            "                t.typlen = -1 AND\n"
            "                t.typelem != 0 AND\n"
            "                t.typelem = elem_t.oid\n"
            "            )\n"
            "            LEFT JOIN pg_range range_t ON (\n"
            "                t.oid = range_t.rngtypid\n"
            "            )\n"
            "            LEFT JOIN pg_range multirange_t ON (\n"
            "                t.oid = multirange_t.rngmultitypid\n"
            "            )\n"
            "    )\n"
            " ti,\n"
            "        typeinfo_tree tt\n"
            "    WHERE\n"
            "        (tt.elemtype IS NOT NULL AND ti.oid = tt.elemtype)\n"
            "        OR (tt.attrtypoids IS NOT NULL AND ti.oid = any(tt.attrtypoids))\n"
            "        OR (tt.range_subtype IS NOT NULL AND ti.oid = tt.range_subtype)\n"
            "        OR (tt.basetype IS NOT NULL AND ti.oid = tt.basetype)\n"
            ")\n"
            "\n"
            "SELECT DISTINCT\n"
            "    *,\n"
            "    basetype::regtype::text AS basetype_name,\n"
            "    elemtype::regtype::text AS elemtype_name,\n"
            "    range_subtype::regtype::text AS range_subtype_name\n"
            "FROM\n"
            "    typeinfo_tree\n"
            "ORDER BY\n"
            "    depth DESC\n"
        ),
        R,
        "asyncpg 0.32.0: type introspection (INTRO_LOOKUP_TYPES_13)",
    ),
    (
        (
            "\n"
            "                SELECT\n"
            "                    set_config('jit', $1, false)\n"
            "                "
        ),
        R,
        "asyncpg 0.32.0: type introspection: jit restored",
    ),
    (
        "SELECT $1::int, $2::jsonb, $3::numeric[]",
        R,
        "asyncpg 0.32.0: query with jsonb/numeric[] parameters",
    ),
    (
        "SELECT $1::interval, ROW(1, 'a')",
        R,
        "asyncpg 0.32.0: query with interval parameter and a record",
    ),
    ("SELECT * FROM orders WHERE id = $1", R, "asyncpg 0.32.0: pooled connection query"),
    (
        ("SELECT pg_advisory_unlock_all();\nCLOSE ALL;\nUNLISTEN *;\nRESET ALL;"),
        R,
        "asyncpg 0.32.0: pool reset (Connection.get_reset_query)",
    ),
    *_group(
        "asyncpg 0.32.0",
        ("COMMIT;", R),
        (
            (
                "SELECT\n"
                "    t.oid,\n"
                "    t.typelem     AS elemtype,\n"
                "    t.typtype     AS kind\n"
                "FROM\n"
                "    pg_catalog.pg_type AS t\n"
                "    INNER JOIN pg_catalog.pg_namespace ns ON (ns.oid = t.typnamespace)\n"
                "WHERE\n"
                "    t.typname = $1 AND ns.nspname = $2\n"
            ),
            R,
        ),
        ("BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY;", R),
    ),
]


# SQLAlchemy 2.1.9 ORM with psycopg 3.3.9, a Customer/Order model with a relationship:
# add and flush (INSERT ... RETURNING, insertmanyvalues), session.get, lazy load, select with
# a join, attribute change and flush (UPDATE by pk), bulk UPDATE with a WHERE,
# selectinload, joinedload with IN, GROUP BY/HAVING, ILIKE with LIMIT/OFFSET, delete by pk,
# bulk DELETE with a WHERE.
ORM: list[Case] = [
    ("BEGIN", R, "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: BEGIN"),
    ("select pg_catalog.version()", R, "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SELECT"),
    ("select current_schema()", R, "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SELECT"),
    ("show transaction isolation level", R, "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SHOW"),
    ("show standard_conforming_strings", R, "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SHOW"),
    ('SAVEPOINT "_pg3_1"', R, "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SAVEPOINT"),
    (
        (
            "SELECT\n"
            "    typname AS name, oid, typarray AS array_oid,\n"
            "    oid::regtype::text AS regtype, typdelim AS delimiter\n"
            "FROM pg_type t\n"
            "WHERE t.oid = to_regtype($1)\n"
            "ORDER BY t.oid\n"
        ),
        R,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SELECT",
    ),
    ('RELEASE "_pg3_1"', R, "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: RELEASE"),
    ("ROLLBACK", R, "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: ROLLBACK"),
    (
        "INSERT INTO customers (name) VALUES ($1::VARCHAR) RETURNING customers.id",
        W,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: INSERT",
    ),
    (
        (
            "INSERT INTO orders (customer_id, note, amount) SELECT p0::INTEGER, "
            "p1::VARCHAR, p2::NUMERIC FROM (VALUES ($1::INTEGER, $2::VARCHAR, $3, 0), "
            "($4::INTEGER, $5::VARCHAR, $6, 1)) AS imp_sen(p0, p1, p2, sen_counter) "
            "ORDER BY sen_counter RETURNING orders.id, orders.id AS id__1"
        ),
        W,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: INSERT",
    ),
    ("COMMIT", R, "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: COMMIT"),
    (
        ("SELECT customers.id, customers.name \nFROM customers \nWHERE customers.id = $1::INTEGER"),
        R,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SELECT",
    ),
    (
        (
            "SELECT orders.id, orders.customer_id, orders.note, orders.amount \n"
            "FROM orders \n"
            "WHERE $1::INTEGER = orders.customer_id"
        ),
        R,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SELECT",
    ),
    (
        (
            "SELECT orders.id, orders.customer_id, orders.note, orders.amount \n"
            "FROM orders JOIN customers ON customers.id = orders.customer_id \n"
            "WHERE customers.name = $1::VARCHAR ORDER BY orders.id"
        ),
        R,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SELECT",
    ),
    (
        "UPDATE orders SET note=$1::VARCHAR WHERE orders.id = $2::INTEGER",
        W,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: UPDATE",
    ),
    (
        "UPDATE orders SET note=$1::VARCHAR WHERE orders.amount > $2::INTEGER",
        W,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: UPDATE",
    ),
    (
        ("SELECT customers.id, customers.name \nFROM customers"),
        R,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SELECT",
    ),
    (
        (
            "SELECT orders.customer_id, orders.id, orders.note, orders.amount \n"
            "FROM orders \n"
            "WHERE orders.customer_id IN ($1::INTEGER)"
        ),
        R,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SELECT",
    ),
    (
        (
            "SELECT orders.id, orders.customer_id, orders.note, orders.amount, "
            "customers_1.id AS id_1, customers_1.name \n"
            "FROM orders LEFT OUTER JOIN customers AS customers_1 ON customers_1.id = "
            "orders.customer_id \n"
            "WHERE orders.id IN ($1::INTEGER, $2::INTEGER, $3::INTEGER)"
        ),
        R,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SELECT",
    ),
    (
        (
            "SELECT customers.name, count(orders.id) AS count_1, sum(orders.amount) AS sum_1 \n"
            "FROM customers JOIN orders ON customers.id = orders.customer_id GROUP BY "
            "customers.name \n"
            "HAVING count(orders.id) > $1::INTEGER"
        ),
        R,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SELECT",
    ),
    (
        (
            "SELECT orders.id, orders.customer_id, orders.note, orders.amount \n"
            "FROM orders \n"
            "WHERE orders.note ILIKE $1::VARCHAR \n"
            " LIMIT $2::INTEGER OFFSET $3::INTEGER"
        ),
        R,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: SELECT",
    ),
    (
        "DELETE FROM orders WHERE orders.id = $1::INTEGER",
        W,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: DELETE",
    ),
    (
        ("DELETE FROM orders WHERE orders.customer_id = $1::INTEGER AND orders.note = $2::VARCHAR"),
        W,
        "SQLAlchemy 2.1.9 ORM + psycopg 3.3.9: DELETE",
    ),
]


# pg_dump and pg_dumpall 15.18 (Debian 15.18-0+deb12u1) against PostgreSQL 15.18 on this
# machine, captured from the server's statement log with log_statement set for the tool's own
# sessions only (PGOPTIONS='-c log_statement=all'; the tab the stderr log puts after each
# newline taken out): `pg_dump -Fc` of a scratch database (customers; orders with a foreign
# key, a CHECK, an enum, a jsonb and a composite column; an expression index, a view, a SQL
# function, a sequence of its own), `pg_dump -Fd -j 2` of it (the leader exports its
# snapshot, each worker starts like the leader and takes it) and `pg_dumpall --globals-only`.
# All reads but LOCK TABLE (a write, allowed like the ORM's). Left out: the EXECUTEs of the
# statements pg_dump PREPAREs, whose class is the PREPARE's (the session's map of prepared
# statements gives it; the text alone is unknown).
PG_DUMP: list[Case] = [
    *_group(
        "pg_dump 15.18: connection start-up",
        ("SELECT pg_catalog.set_config('search_path', '', false);", R),
        ("SELECT pg_catalog.pg_is_in_recovery()", R),
        ("SET DATESTYLE = ISO", R),
        ("SET INTERVALSTYLE = POSTGRES", R),
        ("SET extra_float_digits TO 3", R),
        ("SET synchronize_seqscans TO off", R),
        ("SET statement_timeout = 0", R),
        ("SET lock_timeout = 0", R),
        ("SET row_security = off", R),
        (
            (
                "SELECT set_config(name, 'view, foreign-table', false) FROM pg_settings WHERE name "
                "= 'restrict_nonsystem_relation_kind'"
            ),
            R,
        ),
        ("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", R),
    ),
    *_group(
        "pg_dump 15.18: catalog reads",
        ("SELECT oid, rolname FROM pg_catalog.pg_roles ORDER BY 1", R),
        (
            (
                "SELECT x.tableoid, x.oid, x.extname, n.nspname, x.extrelocatable, x.extversion, "
                "x.extconfig, x.extcondition FROM pg_extension x JOIN pg_namespace n ON n.oid = "
                "x.extnamespace"
            ),
            R,
        ),
        (
            (
                "SELECT classid, objid, refobjid FROM pg_depend WHERE refclassid = "
                "'pg_extension'::regclass AND deptype = 'e' ORDER BY 3"
            ),
            R,
        ),
        (
            (
                "SELECT n.tableoid, n.oid, n.nspname, n.nspowner, n.nspacl, acldefault('n', "
                "n.nspowner) AS acldefault FROM pg_namespace n"
            ),
            R,
        ),
        (
            (
                "SELECT c.tableoid, c.oid, c.relname, c.relnamespace, c.relkind, c.reltype, "
                "c.relowner, c.relchecks, c.relhasindex, c.relhasrules, c.relpages, "
                "c.relhastriggers, c.relpersistence, c.reloftype, c.relacl, acldefault(CASE WHEN "
                "c.relkind = 'S' THEN 's'::\"char\" ELSE 'r'::\"char\" END, c.relowner) AS "
                "acldefault, CASE WHEN c.relkind = 'f' THEN (SELECT ftserver FROM "
                "pg_catalog.pg_foreign_table WHERE ftrelid = c.oid) ELSE 0 END AS foreignserver, "
                "c.relfrozenxid, tc.relfrozenxid AS tfrozenxid, tc.oid AS toid, tc.relpages AS "
                "toastpages, tc.reloptions AS toast_reloptions, d.refobjid AS owning_tab, "
                "d.refobjsubid AS owning_col, tsp.spcname AS reltablespace, false AS relhasoids, "
                "c.relispopulated, c.relreplident, c.relrowsecurity, c.relforcerowsecurity, "
                "c.relminmxid, tc.relminmxid AS tminmxid, "
                "array_remove(array_remove(c.reloptions,'check_option=local'),"
                "'check_option=cascaded') AS reloptions, CASE WHEN 'check_option=local' = ANY "
                "(c.reloptions) THEN 'LOCAL'::text WHEN 'check_option=cascaded' = ANY "
                "(c.reloptions) THEN 'CASCADED'::text ELSE NULL END AS checkoption, am.amname, "
                "(d.deptype = 'i') IS TRUE AS is_identity_sequence, c.relispartition AS "
                "ispartition \n"
                "FROM pg_class c\n"
                "LEFT JOIN pg_depend d ON (c.relkind = 'S' AND d.classid = 'pg_class'::regclass "
                "AND d.objid = c.oid AND d.objsubid = 0 AND d.refclassid = 'pg_class'::regclass "
                "AND d.deptype IN ('a', 'i'))\n"
                "LEFT JOIN pg_tablespace tsp ON (tsp.oid = c.reltablespace)\n"
                "LEFT JOIN pg_am am ON (c.relam = am.oid)\n"
                "LEFT JOIN pg_class tc ON (c.reltoastrelid = tc.oid AND tc.relkind = 't' AND "
                "c.relkind <> 'p')\n"
                "WHERE c.relkind IN ('r', 'S', 'v', 'c', 'm', 'f', 'p')\n"
                "ORDER BY c.oid"
            ),
            R,
        ),
        ("LOCK TABLE public.customers IN ACCESS SHARE MODE", W, "LOCK is a write"),
        ("LOCK TABLE public.orders IN ACCESS SHARE MODE", W, "LOCK is a write"),
        (
            (
                "SELECT p.tableoid, p.oid, p.proname, p.prolang, p.pronargs, p.proargtypes, "
                "p.prorettype, p.proacl, acldefault('f', p.proowner) AS acldefault, "
                "p.pronamespace, p.proowner FROM pg_proc p LEFT JOIN pg_init_privs pip ON (p.oid = "
                "pip.objoid AND pip.classoid = 'pg_proc'::regclass AND pip.objsubid = 0) WHERE "
                "p.prokind <> 'a'\n"
                "  AND NOT EXISTS (SELECT 1 FROM pg_depend WHERE classid = 'pg_proc'::regclass AND "
                "objid = p.oid AND deptype = 'i')\n"
                "  AND (\n"
                "  pronamespace != (SELECT oid FROM pg_namespace WHERE nspname = 'pg_catalog')\n"
                "  OR EXISTS (SELECT 1 FROM pg_cast\n"
                "  WHERE pg_cast.oid > 16383 \n"
                "  AND p.oid = pg_cast.castfunc)\n"
                "  OR EXISTS (SELECT 1 FROM pg_transform\n"
                "  WHERE pg_transform.oid > 16383 AND \n"
                "  (p.oid = pg_transform.trffromsql\n"
                "  OR p.oid = pg_transform.trftosql))\n"
                "  OR p.proacl IS DISTINCT FROM pip.initprivs)"
            ),
            R,
        ),
        (
            (
                "SELECT tableoid, oid, typname, typnamespace, typacl, acldefault('T', typowner) AS "
                "acldefault, typowner, typelem, typrelid, CASE WHEN typrelid = 0 THEN ' "
                '\'::"char" ELSE (SELECT relkind FROM pg_class WHERE oid = typrelid) END AS '
                "typrelkind, typtype, typisdefined, typname[0] = '_' AND typelem != 0 AND (SELECT "
                "typarray FROM pg_type te WHERE oid = pg_type.typelem) = oid AS isarray FROM "
                "pg_type"
            ),
            R,
        ),
        (
            (
                "SELECT tableoid, oid, lanname, lanpltrusted, lanplcallfoid, laninline, "
                "lanvalidator, lanacl, acldefault('l', lanowner) AS acldefault, lanowner FROM "
                "pg_language WHERE lanispl ORDER BY oid"
            ),
            R,
        ),
        (
            (
                "SELECT p.tableoid, p.oid, p.proname AS aggname, p.pronamespace AS aggnamespace, "
                "p.pronargs, p.proargtypes, p.proowner, p.proacl AS aggacl, acldefault('f', "
                "p.proowner) AS acldefault FROM pg_proc p LEFT JOIN pg_init_privs pip ON (p.oid = "
                "pip.objoid AND pip.classoid = 'pg_proc'::regclass AND pip.objsubid = 0) WHERE "
                "p.prokind = 'a' AND (p.pronamespace != (SELECT oid FROM pg_namespace WHERE "
                "nspname = 'pg_catalog') OR p.proacl IS DISTINCT FROM pip.initprivs)"
            ),
            R,
        ),
        (
            (
                "SELECT tableoid, oid, oprname, oprnamespace, oprowner, oprkind, oprleft, "
                "oprright, oprcode::oid AS oprcode FROM pg_operator"
            ),
            R,
        ),
        (
            (
                "SELECT tableoid, oid, amname, amtype, amhandler::pg_catalog.regproc AS amhandler "
                "FROM pg_am"
            ),
            R,
        ),
        ("SELECT tableoid, oid, opcmethod, opcname, opcnamespace, opcowner FROM pg_opclass", R),
        ("SELECT tableoid, oid, opfmethod, opfname, opfnamespace, opfowner FROM pg_opfamily", R),
        (
            (
                "SELECT tableoid, oid, prsname, prsnamespace, prsstart::oid, prstoken::oid, "
                "prsend::oid, prsheadline::oid, prslextype::oid FROM pg_ts_parser"
            ),
            R,
        ),
        (
            (
                "SELECT tableoid, oid, tmplname, tmplnamespace, tmplinit::oid, tmpllexize::oid "
                "FROM pg_ts_template"
            ),
            R,
        ),
        (
            (
                "SELECT tableoid, oid, dictname, dictnamespace, dictowner, dicttemplate, "
                "dictinitoption FROM pg_ts_dict"
            ),
            R,
        ),
        ("SELECT tableoid, oid, cfgname, cfgnamespace, cfgowner, cfgparser FROM pg_ts_config", R),
        (
            (
                "SELECT tableoid, oid, fdwname, fdwowner, fdwhandler::pg_catalog.regproc, "
                "fdwvalidator::pg_catalog.regproc, fdwacl, acldefault('F', fdwowner) AS "
                "acldefault, array_to_string(ARRAY(SELECT quote_ident(option_name) || ' ' || "
                "quote_literal(option_value) FROM pg_options_to_table(fdwoptions) ORDER BY "
                "option_name), E',\n"
                "    ') AS fdwoptions FROM pg_foreign_data_wrapper"
            ),
            R,
        ),
        (
            (
                "SELECT tableoid, oid, srvname, srvowner, srvfdw, srvtype, srvversion, srvacl, "
                "acldefault('S', srvowner) AS acldefault, array_to_string(ARRAY(SELECT "
                "quote_ident(option_name) || ' ' || quote_literal(option_value) FROM "
                "pg_options_to_table(srvoptions) ORDER BY option_name), E',\n"
                "    ') AS srvoptions FROM pg_foreign_server"
            ),
            R,
        ),
        (
            (
                "SELECT oid, tableoid, defaclrole, defaclnamespace, defaclobjtype, defaclacl, CASE "
                "WHEN defaclnamespace = 0 THEN acldefault(CASE WHEN defaclobjtype = 'S' THEN "
                "'s'::\"char\" ELSE defaclobjtype END, defaclrole) ELSE '{}' END AS acldefault "
                "FROM pg_default_acl"
            ),
            R,
        ),
        (
            (
                "SELECT tableoid, oid, collname, collnamespace, collowner, collencoding FROM "
                "pg_collation"
            ),
            R,
        ),
        ("SELECT tableoid, oid, conname, connamespace, conowner FROM pg_conversion", R),
        (
            (
                "SELECT tableoid, oid, castsource, casttarget, castfunc, castcontext, castmethod "
                "FROM pg_cast c WHERE NOT EXISTS ( SELECT 1 FROM pg_range r WHERE c.castsource = "
                "r.rngtypid AND c.casttarget = r.rngmultitypid ) ORDER BY 3,4"
            ),
            R,
        ),
        (
            (
                "SELECT tableoid, oid, trftype, trflang, trffromsql::oid, trftosql::oid FROM "
                "pg_transform ORDER BY 3,4"
            ),
            R,
        ),
        ("SELECT inhrelid, inhparent FROM pg_inherits", R),
        (
            (
                "SELECT e.tableoid, e.oid, evtname, evtenabled, evtevent, evtowner, "
                "array_to_string(array(select quote_literal(x)  from unnest(evttags) as t(x)), ', "
                "') as evttags, e.evtfoid::regproc as evtfname FROM pg_event_trigger e ORDER BY "
                "e.oid"
            ),
            R,
        ),
        (
            (
                "SELECT conrelid, confrelid FROM pg_constraint JOIN pg_depend ON (objid = "
                "confrelid) WHERE contype = 'f' AND refclassid = 'pg_extension'::regclass AND "
                "classid = 'pg_class'::regclass;"
            ),
            R,
        ),
        (
            (
                "SELECT\n"
                "a.attrelid,\n"
                "a.attnum,\n"
                "a.attname,\n"
                "a.atttypmod,\n"
                "a.attstattarget,\n"
                "a.attstorage,\n"
                "t.typstorage,\n"
                "a.attnotnull,\n"
                "a.atthasdef,\n"
                "a.attisdropped,\n"
                "a.attlen,\n"
                "a.attalign,\n"
                "a.attislocal,\n"
                "pg_catalog.format_type(t.oid, a.atttypmod) AS atttypname,\n"
                "array_to_string(a.attoptions, ', ') AS attoptions,\n"
                "CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation ELSE 0 END AS "
                "attcollation,\n"
                "pg_catalog.array_to_string(ARRAY(SELECT pg_catalog.quote_ident(option_name) || ' "
                "' || pg_catalog.quote_literal(option_value) FROM "
                "pg_catalog.pg_options_to_table(attfdwoptions) ORDER BY option_name), E',\n"
                "    ') AS attfdwoptions,\n"
                "a.attcompression AS attcompression,\n"
                "a.attidentity,\n"
                "CASE WHEN a.atthasmissing AND NOT a.attisdropped THEN a.attmissingval ELSE null "
                "END AS attmissingval,\n"
                "a.attgenerated\n"
                "FROM unnest('{98320,98340,98355}'::pg_catalog.oid[]) AS src(tbloid)\n"
                "JOIN pg_catalog.pg_attribute a ON (src.tbloid = a.attrelid) LEFT JOIN "
                "pg_catalog.pg_type t ON (a.atttypid = t.oid)\n"
                "WHERE a.attnum > 0::pg_catalog.int2\n"
                "ORDER BY a.attrelid, a.attnum"
            ),
            R,
        ),
        (
            (
                "SELECT a.tableoid, a.oid, adrelid, adnum, pg_catalog.pg_get_expr(adbin, adrelid) "
                "AS adsrc\n"
                "FROM unnest('{98320,98340}'::pg_catalog.oid[]) AS src(tbloid)\n"
                "JOIN pg_catalog.pg_attrdef a ON (src.tbloid = a.adrelid)\n"
                "ORDER BY a.adrelid, a.adnum"
            ),
            R,
        ),
        (
            (
                "SELECT c.tableoid, c.oid, conrelid, conname, "
                "pg_catalog.pg_get_constraintdef(c.oid) AS consrc, conislocal, convalidated FROM "
                "unnest('{98340}'::pg_catalog.oid[]) AS src(tbloid)\n"
                "JOIN pg_catalog.pg_constraint c ON (src.tbloid = c.conrelid)\n"
                "WHERE contype = 'c' ORDER BY c.conrelid, c.conname"
            ),
            R,
        ),
        (
            (
                "SELECT partrelid FROM pg_partitioned_table WHERE\n"
                "(SELECT c.oid FROM pg_opclass c JOIN pg_am a ON c.opcmethod = a.oid\n"
                "WHERE opcname = 'enum_ops' AND opcnamespace = 'pg_catalog'::regnamespace AND "
                "amname = 'hash') = ANY(partclass)"
            ),
            R,
        ),
        (
            (
                "SELECT t.tableoid, t.oid, i.indrelid, t.relname AS indexname, "
                "pg_catalog.pg_get_indexdef(i.indexrelid) AS indexdef, i.indkey, i.indisclustered, "
                "c.contype, c.conname, c.condeferrable, c.condeferred, c.tableoid AS contableoid, "
                "c.oid AS conoid, pg_catalog.pg_get_constraintdef(c.oid, false) AS condef, (SELECT "
                "spcname FROM pg_catalog.pg_tablespace s WHERE s.oid = t.reltablespace) AS "
                "tablespace, t.reloptions AS indreloptions, i.indisreplident, inh.inhparent AS "
                "parentidx, i.indnkeyatts AS indnkeyatts, i.indnatts AS indnatts, (SELECT "
                "pg_catalog.array_agg(attnum ORDER BY attnum)   FROM pg_catalog.pg_attribute   "
                "WHERE attrelid = i.indexrelid AND     attstattarget >= 0) AS indstatcols, (SELECT "
                "pg_catalog.array_agg(attstattarget ORDER BY attnum)   FROM "
                "pg_catalog.pg_attribute   WHERE attrelid = i.indexrelid AND     attstattarget >= "
                "0) AS indstatvals, i.indnullsnotdistinct FROM "
                "unnest('{98320,98340}'::pg_catalog.oid[]) AS src(tbloid)\n"
                "JOIN pg_catalog.pg_index i ON (src.tbloid = i.indrelid) JOIN pg_catalog.pg_class "
                "t ON (t.oid = i.indexrelid) JOIN pg_catalog.pg_class t2 ON (t2.oid = i.indrelid) "
                "LEFT JOIN pg_catalog.pg_constraint c ON (i.indrelid = c.conrelid AND i.indexrelid "
                "= c.conindid AND c.contype IN ('p','u','x')) LEFT JOIN pg_catalog.pg_inherits inh "
                "ON (inh.inhrelid = indexrelid) WHERE (i.indisvalid OR t2.relkind = 'p') AND "
                "i.indisready ORDER BY i.indrelid, indexname"
            ),
            R,
        ),
        (
            (
                "SELECT tableoid, oid, stxname, stxnamespace, stxowner, stxrelid, stxstattarget "
                "FROM pg_catalog.pg_statistic_ext"
            ),
            R,
        ),
        (
            (
                "SELECT c.tableoid, c.oid, conrelid, conname, confrelid, conindid, "
                "pg_catalog.pg_get_constraintdef(c.oid) AS condef\n"
                "FROM unnest('{98320,98340}'::pg_catalog.oid[]) AS src(tbloid)\n"
                "JOIN pg_catalog.pg_constraint c ON (src.tbloid = c.conrelid)\n"
                "WHERE contype = 'f' AND conparentid = 0 ORDER BY conrelid, conname"
            ),
            R,
        ),
        (
            (
                "SELECT t.tgrelid, t.tgname, t.tgfoid::pg_catalog.regproc AS tgfname, "
                "pg_catalog.pg_get_triggerdef(t.oid, false) AS tgdef, t.tgenabled, t.tableoid, "
                "t.oid, t.tgparentid <> 0 AS tgispartition\n"
                "FROM unnest('{98320,98340}'::pg_catalog.oid[]) AS src(tbloid)\n"
                "JOIN pg_catalog.pg_trigger t ON (src.tbloid = t.tgrelid) LEFT JOIN "
                "pg_catalog.pg_trigger u ON (u.oid = t.tgparentid) WHERE ((NOT t.tgisinternal AND "
                "t.tgparentid = 0) OR t.tgenabled != u.tgenabled) ORDER BY t.tgrelid, t.tgname"
            ),
            R,
        ),
        (
            (
                "SELECT tableoid, oid, rulename, ev_class AS ruletable, ev_type, is_instead, "
                "ev_enabled FROM pg_rewrite ORDER BY oid"
            ),
            R,
        ),
        (
            (
                "SELECT pol.oid, pol.tableoid, pol.polrelid, pol.polname, pol.polcmd, "
                "pol.polpermissive, CASE WHEN pol.polroles = '{0}' THEN NULL ELSE    "
                "pg_catalog.array_to_string(ARRAY(SELECT pg_catalog.quote_ident(rolname) from "
                "pg_catalog.pg_roles WHERE oid = ANY(pol.polroles)), ', ') END AS polroles, "
                "pg_catalog.pg_get_expr(pol.polqual, pol.polrelid) AS polqual, "
                "pg_catalog.pg_get_expr(pol.polwithcheck, pol.polrelid) AS polwithcheck FROM "
                "unnest('{98320,98340}'::pg_catalog.oid[]) AS src(tbloid)\n"
                "JOIN pg_catalog.pg_policy pol ON (src.tbloid = pol.polrelid)"
            ),
            R,
        ),
        (
            (
                "SELECT p.tableoid, p.oid, p.pubname, p.pubowner, p.puballtables, p.pubinsert, "
                "p.pubupdate, p.pubdelete, p.pubtruncate, p.pubviaroot FROM pg_publication p"
            ),
            R,
        ),
        (
            (
                "SELECT tableoid, oid, prpubid, prrelid, pg_catalog.pg_get_expr(prqual, prrelid) "
                "AS prrelqual, (CASE\n"
                "  WHEN pr.prattrs IS NOT NULL THEN\n"
                "    (SELECT array_agg(attname)\n"
                "       FROM\n"
                "         pg_catalog.generate_series(0, "
                "pg_catalog.array_upper(pr.prattrs::pg_catalog.int2[], 1)) s,\n"
                "         pg_catalog.pg_attribute\n"
                "      WHERE attrelid = pr.prrelid AND attnum = prattrs[s])\n"
                "  ELSE NULL END) prattrs FROM pg_catalog.pg_publication_rel pr"
            ),
            R,
        ),
        ("SELECT tableoid, oid, pnpubid, pnnspid FROM pg_catalog.pg_publication_namespace", R),
        (
            (
                "SELECT s.tableoid, s.oid, s.subname,\n"
                " s.subowner,\n"
                " s.subconninfo, s.subslotname, s.subsynccommit,\n"
                " s.subpublications,\n"
                " s.subbinary,\n"
                " s.substream,\n"
                " s.subtwophasestate,\n"
                " s.subdisableonerr\n"
                "FROM pg_subscription s\n"
                "WHERE s.subdbid = (SELECT oid FROM pg_database\n"
                "                   WHERE datname = current_database())"
            ),
            R,
        ),
        (
            (
                "WITH RECURSIVE w AS ( SELECT d1.objid, d2.refobjid, c2.relkind AS refrelkind FROM "
                "pg_depend d1 JOIN pg_class c1 ON c1.oid = d1.objid AND c1.relkind = 'm' JOIN "
                "pg_rewrite r1 ON r1.ev_class = d1.objid JOIN pg_depend d2 ON d2.classid = "
                "'pg_rewrite'::regclass AND d2.objid = r1.oid AND d2.refobjid <> d1.objid JOIN "
                "pg_class c2 ON c2.oid = d2.refobjid AND c2.relkind IN ('m','v') WHERE d1.classid "
                "= 'pg_class'::regclass UNION SELECT w.objid, d3.refobjid, c3.relkind FROM w JOIN "
                "pg_rewrite r3 ON r3.ev_class = w.refobjid JOIN pg_depend d3 ON d3.classid = "
                "'pg_rewrite'::regclass AND d3.objid = r3.oid AND d3.refobjid <> w.refobjid JOIN "
                "pg_class c3 ON c3.oid = d3.refobjid AND c3.relkind IN ('m','v') ) SELECT "
                "'pg_class'::regclass::oid AS classid, objid, refobjid FROM w WHERE refrelkind = "
                "'m'"
            ),
            R,
        ),
        (
            (
                "SELECT oid, lomowner, lomacl, acldefault('L', lomowner) AS acldefault FROM "
                "pg_largeobject_metadata"
            ),
            R,
        ),
        (
            (
                "SELECT classid, objid, refclassid, refobjid, deptype FROM pg_depend WHERE deptype "
                "!= 'p' AND deptype != 'e'\n"
                "UNION ALL\n"
                "SELECT 'pg_opfamily'::regclass AS classid, amopfamily AS objid, refclassid, "
                "refobjid, deptype FROM pg_depend d, pg_amop o WHERE deptype NOT IN ('p', 'e', "
                "'i') AND classid = 'pg_amop'::regclass AND objid = o.oid AND NOT (refclassid = "
                "'pg_opfamily'::regclass AND amopfamily = refobjid)\n"
                "UNION ALL\n"
                "SELECT 'pg_opfamily'::regclass AS classid, amprocfamily AS objid, refclassid, "
                "refobjid, deptype FROM pg_depend d, pg_amproc p WHERE deptype NOT IN ('p', 'e', "
                "'i') AND classid = 'pg_amproc'::regclass AND objid = p.oid AND NOT (refclassid = "
                "'pg_opfamily'::regclass AND amprocfamily = refobjid)\n"
                "ORDER BY 1,2"
            ),
            R,
        ),
        ("SELECT DISTINCT attrelid FROM pg_attribute WHERE attacl IS NOT NULL", R),
        ("SELECT objoid, classoid, objsubid, privtype, initprivs FROM pg_init_privs", R),
        (
            (
                "SELECT description, classoid, objoid, objsubid FROM pg_catalog.pg_description "
                "ORDER BY classoid, objoid, objsubid"
            ),
            R,
        ),
        (
            (
                "SELECT label, provider, classoid, objoid, objsubid FROM pg_catalog.pg_seclabels "
                "ORDER BY classoid, objoid, objsubid"
            ),
            R,
        ),
        ("SELECT pg_catalog.current_schemas(false)", R),
        (
            (
                "SELECT tableoid, oid, datname, datdba, pg_encoding_to_char(encoding) AS encoding, "
                "datcollate, datctype, datfrozenxid, datacl, acldefault('d', datdba) AS "
                "acldefault, datistemplate, datconnlimit, datminmxid, datlocprovider, "
                "daticulocale, datcollversion, (SELECT spcname FROM pg_tablespace t WHERE t.oid = "
                "dattablespace) AS tablespace, shobj_description(oid, 'pg_database') AS "
                "description FROM pg_database WHERE datname = current_database()"
            ),
            R,
        ),
        (
            (
                "SELECT provider, label FROM pg_catalog.pg_shseclabel WHERE classoid = "
                "'pg_catalog.pg_database'::pg_catalog.regclass AND objoid = '98315'"
            ),
            R,
        ),
        (
            (
                "SELECT unnest(setconfig) FROM pg_db_role_setting WHERE setrole = 0 AND "
                "setdatabase = '98315'::oid"
            ),
            R,
        ),
        (
            (
                "SELECT rolname, unnest(setconfig) FROM pg_db_role_setting s, pg_roles r WHERE "
                "setrole = r.oid AND setdatabase = '98315'::oid"
            ),
            R,
        ),
        (
            (
                "PREPARE dumpCompositeType(pg_catalog.oid) AS\n"
                "SELECT a.attname, a.attnum, pg_catalog.format_type(a.atttypid, a.atttypmod) AS "
                "atttypdefn, a.attlen, a.attalign, a.attisdropped, CASE WHEN a.attcollation <> "
                "at.typcollation THEN a.attcollation ELSE 0 END AS attcollation FROM "
                "pg_catalog.pg_type ct JOIN pg_catalog.pg_attribute a ON a.attrelid = ct.typrelid "
                "LEFT JOIN pg_catalog.pg_type at ON at.oid = a.atttypid WHERE ct.oid = $1 ORDER BY "
                "a.attnum"
            ),
            R,
            "its EXECUTEs take this class",
        ),
        (
            (
                "PREPARE dumpEnumType(pg_catalog.oid) AS\n"
                "SELECT oid, enumlabel FROM pg_catalog.pg_enum WHERE enumtypid = $1 ORDER BY "
                "enumsortorder"
            ),
            R,
            "its EXECUTEs take this class",
        ),
        (
            (
                "PREPARE dumpFunc(pg_catalog.oid) AS\n"
                "SELECT\n"
                "proretset,\n"
                "prosrc,\n"
                "probin,\n"
                "provolatile,\n"
                "proisstrict,\n"
                "prosecdef,\n"
                "lanname,\n"
                "proconfig,\n"
                "procost,\n"
                "prorows,\n"
                "pg_catalog.pg_get_function_arguments(p.oid) AS funcargs,\n"
                "pg_catalog.pg_get_function_identity_arguments(p.oid) AS funciargs,\n"
                "pg_catalog.pg_get_function_result(p.oid) AS funcresult,\n"
                "proleakproof,\n"
                "array_to_string(protrftypes, ' ') AS protrftypes,\n"
                "proparallel,\n"
                "prokind,\n"
                "prosupport,\n"
                "pg_get_function_sqlbody(p.oid) AS prosqlbody\n"
                "FROM pg_catalog.pg_proc p, pg_catalog.pg_language l\n"
                "WHERE p.oid = $1 AND l.oid = p.prolang"
            ),
            R,
            "its EXECUTEs take this class",
        ),
        ("SELECT pg_catalog.format_type('23'::pg_catalog.oid, NULL)", R),
        (
            (
                "PREPARE getColumnACLs(pg_catalog.oid) AS\n"
                "SELECT at.attname, at.attacl, '{}' AS acldefault, pip.privtype, pip.initprivs "
                "FROM pg_catalog.pg_attribute at LEFT JOIN pg_catalog.pg_init_privs pip ON "
                "(at.attrelid = pip.objoid AND pip.classoid = "
                "'pg_catalog.pg_class'::pg_catalog.regclass AND at.attnum = pip.objsubid) WHERE "
                "at.attrelid = $1 AND NOT at.attisdropped AND (at.attacl IS NOT NULL OR "
                "pip.initprivs IS NOT NULL) ORDER BY at.attnum"
            ),
            R,
            "its EXECUTEs take this class",
        ),
        ("SELECT pg_catalog.pg_get_viewdef('98355'::pg_catalog.oid) AS viewdef", R),
        (
            (
                "SELECT format_type(seqtypid, NULL), seqstart, seqincrement, seqmax, seqmin, "
                "seqcache, seqcycle FROM pg_catalog.pg_sequence WHERE seqrelid = '98319'::oid"
            ),
            R,
        ),
        (
            (
                "SELECT format_type(seqtypid, NULL), seqstart, seqincrement, seqmax, seqmin, "
                "seqcache, seqcycle FROM pg_catalog.pg_sequence WHERE seqrelid = '98338'::oid"
            ),
            R,
        ),
        (
            (
                "SELECT format_type(seqtypid, NULL), seqstart, seqincrement, seqmax, seqmin, "
                "seqcache, seqcycle FROM pg_catalog.pg_sequence WHERE seqrelid = '98339'::oid"
            ),
            R,
        ),
    ),
    *_group(
        "pg_dump 15.18: sequence state and table data",
        ("SELECT last_value, is_called FROM public.customers_id_seq", R),
        ("SELECT last_value, is_called FROM public.invoice_seq", R),
        ("SELECT last_value, is_called FROM public.orders_id_seq", R),
        ("COPY public.customers (id, name) TO stdout;", R),
        (
            "COPY public.orders (id, customer_id, note, amount, status, extra, price) TO stdout;",
            R,
        ),
    ),
    *_group(
        "pg_dump 15.18 -Fd -j 2: the leader shares its snapshot",
        ("SELECT pg_catalog.pg_export_snapshot()", R),
    ),
    *_group(
        "pg_dump 15.18 -Fd -j 2: a worker's start-up and its table",
        ("set client_encoding to 'UTF8'", R),
        ("SET TRANSACTION SNAPSHOT '00000003-00001108-1'", R),
        ("LOCK TABLE public.orders IN ACCESS SHARE MODE NOWAIT", W, "LOCK is a write"),
    ),
    *_group(
        "pg_dumpall 15.18 --globals-only",
        (
            (
                "SELECT oid, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, "
                "rolcanlogin, rolconnlimit, rolpassword, rolvaliduntil, rolreplication, "
                "rolbypassrls, pg_catalog.shobj_description(oid, 'pg_authid') as rolcomment, "
                "rolname = current_user AS is_current_user FROM pg_authid WHERE rolname !~ '^pg_' "
                "ORDER BY 2"
            ),
            R,
        ),
        (
            (
                "SELECT provider, label FROM pg_catalog.pg_shseclabel WHERE classoid = "
                "'pg_catalog.pg_authid'::pg_catalog.regclass AND objoid = '10'"
            ),
            R,
        ),
        (
            (
                "SELECT unnest(setconfig) FROM pg_db_role_setting WHERE setdatabase = 0 AND "
                "setrole = (SELECT oid FROM pg_authid WHERE rolname = 'postgres')"
            ),
            R,
        ),
        (
            (
                "SELECT ur.rolname AS role, um.rolname AS member, a.admin_option, ug.rolname AS "
                "grantor, a.roleid AS roleid, a.member AS memberid FROM pg_auth_members a LEFT "
                "JOIN pg_authid ur on ur.oid = a.roleid LEFT JOIN pg_authid um on um.oid = "
                "a.member LEFT JOIN pg_authid ug on ug.oid = a.grantor WHERE NOT (ur.rolname ~ "
                "'^pg_' AND um.rolname ~ '^pg_')ORDER BY 1,2,3"
            ),
            R,
        ),
        (
            (
                "SELECT parname, pg_catalog.pg_get_userbyid(10) AS parowner, paracl, "
                "pg_catalog.acldefault('p', 10) AS acldefault FROM pg_catalog.pg_parameter_acl "
                "ORDER BY 1"
            ),
            R,
        ),
        (
            (
                "SELECT oid, spcname, pg_catalog.pg_get_userbyid(spcowner) AS spcowner, "
                "pg_catalog.pg_tablespace_location(oid), spcacl, acldefault('t', spcowner) AS "
                "acldefault, array_to_string(spcoptions, ', '),pg_catalog.shobj_description(oid, "
                "'pg_tablespace') FROM pg_catalog.pg_tablespace WHERE spcname !~ '^pg_' ORDER BY 1"
            ),
            R,
        ),
    ),
]


# pg_restore 15.18, captured the same way, restoring that archive into empty scratch
# databases: `pg_restore -d`, `--single-transaction` (adds BEGIN and COMMIT) and `-j 2` from
# the directory format (each worker repeats the start-up, then BEGIN, TRUNCATE of the table
# it created in this run, COPY, COMMIT). pg_restore sends the archive's comments as
# statements of their own. PG_RESTORE is the tool's own housekeeping, never held;
# PG_RESTORE_OBJECTS is what the archive changes, each with its real class (a restore is
# held as what it changes, not as what the tool does around it).
PG_RESTORE: list[Case] = [
    *_group(
        "pg_restore 15.18: session start-up and housekeeping",
        ("SELECT pg_catalog.set_config('search_path', '', false);", R),
        ("SELECT pg_catalog.pg_is_in_recovery()", R),
        ("--\n-- PostgreSQL database dump\n--\n\n", R),
        ("-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)\n", R),
        ("-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)\n", R),
        ("\n", R),
        ("SET statement_timeout = 0;\n", R),
        ("SET lock_timeout = 0;\n", R),
        ("SET idle_in_transaction_session_timeout = 0;\n", R),
        ("SET client_encoding = 'UTF8';\n", R),
        ("SET standard_conforming_strings = on;\n", R),
        ("SELECT pg_catalog.set_config('search_path', '', false);\n", R),
        ("SET check_function_bodies = false;\n", R),
        ("SET xmloption = content;\n", R),
        ("SET client_min_messages = warning;\n", R),
        ("SET row_security = off;\n", R),
        ("SET default_tablespace = ''", R),
        ("SET default_table_access_method = heap;", R),
        ("--\n-- PostgreSQL database dump complete\n--\n\n", R),
    ),
]

PG_RESTORE_OBJECTS: list[Case] = [
    *_group(
        "pg_restore 15.18: the archive's schema",
        ("CREATE TYPE public.money_pair AS (\n\tamount numeric,\n\tcurrency text\n);\n\n\n", D),
        (
            (
                "CREATE TYPE public.order_status AS ENUM (\n"
                "    'open',\n"
                "    'held',\n"
                "    'done'\n"
                ");\n\n\n"
            ),
            D,
        ),
        (
            (
                "CREATE FUNCTION public.order_total(integer) RETURNS numeric\n"
                "    LANGUAGE sql STABLE\n"
                "    AS $_$SELECT sum(amount) FROM orders WHERE customer_id = $1$_$;\n\n\n"
            ),
            D,
        ),
        (
            (
                "CREATE TABLE public.orders (\n"
                "    id integer NOT NULL,\n"
                "    customer_id integer,\n"
                "    note text,\n"
                "    amount numeric,\n"
                "    status public.order_status,\n"
                "    extra jsonb,\n"
                "    price public.money_pair,\n"
                "    CONSTRAINT orders_amount_check CHECK ((amount >= (0)::numeric))\n"
                ");\n\n\n"
            ),
            D,
        ),
        (
            (
                "CREATE VIEW public.big_orders AS\n"
                " SELECT orders.id,\n"
                "    orders.customer_id,\n"
                "    orders.note,\n"
                "    orders.amount,\n"
                "    orders.status,\n"
                "    orders.extra,\n"
                "    orders.price\n"
                "   FROM public.orders\n"
                "  WHERE (orders.amount > (100)::numeric);\n\n\n"
            ),
            D,
        ),
        ("CREATE TABLE public.customers (\n    id integer NOT NULL,\n    name text\n);\n\n\n", D),
        (
            (
                "CREATE SEQUENCE public.customers_id_seq\n"
                "    AS integer\n"
                "    START WITH 1\n"
                "    INCREMENT BY 1\n"
                "    NO MINVALUE\n"
                "    NO MAXVALUE\n"
                "    CACHE 1;\n\n\n"
            ),
            D,
        ),
        ("ALTER SEQUENCE public.customers_id_seq OWNED BY public.customers.id;\n\n\n", D),
        (
            (
                "CREATE SEQUENCE public.invoice_seq\n"
                "    START WITH 1\n"
                "    INCREMENT BY 1\n"
                "    NO MINVALUE\n"
                "    NO MAXVALUE\n"
                "    CACHE 1;\n\n\n"
            ),
            D,
        ),
        (
            (
                "CREATE SEQUENCE public.orders_id_seq\n"
                "    AS integer\n"
                "    START WITH 1\n"
                "    INCREMENT BY 1\n"
                "    NO MINVALUE\n"
                "    NO MAXVALUE\n"
                "    CACHE 1;\n\n\n"
            ),
            D,
        ),
        ("ALTER SEQUENCE public.orders_id_seq OWNED BY public.orders.id;\n\n\n", D),
        (
            (
                "ALTER TABLE ONLY public.customers ALTER COLUMN id SET DEFAULT "
                "nextval('public.customers_id_seq'::regclass);\n\n\n"
            ),
            D,
            "the nextval runs only on INSERT",
        ),
        (
            (
                "ALTER TABLE ONLY public.orders ALTER COLUMN id SET DEFAULT "
                "nextval('public.orders_id_seq'::regclass);\n\n\n"
            ),
            D,
            "the nextval runs only on INSERT",
        ),
        (
            (
                "ALTER TABLE ONLY public.customers\n"
                "    ADD CONSTRAINT customers_pkey PRIMARY KEY (id);\n\n\n"
            ),
            D,
        ),
        (
            (
                "ALTER TABLE ONLY public.orders\n"
                "    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);\n\n\n"
            ),
            D,
        ),
        ("CREATE INDEX orders_note ON public.orders USING btree (lower(note));\n\n\n", D),
        (
            (
                "ALTER TABLE ONLY public.orders\n"
                "    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES "
                "public.customers(id);\n\n\n"
            ),
            D,
        ),
    ),
    *_group(
        "pg_restore 15.18: each object's owner (without --no-owner)",
        ("ALTER TYPE public.money_pair OWNER TO postgres;\n\n", A),
        ("ALTER TYPE public.order_status OWNER TO postgres;\n\n", A),
        ("ALTER FUNCTION public.order_total(integer) OWNER TO postgres;\n\n", A),
        ("ALTER TABLE public.orders OWNER TO postgres;\n\n", A),
        ("ALTER TABLE public.big_orders OWNER TO postgres;\n\n", A),
        ("ALTER TABLE public.customers OWNER TO postgres;\n\n", A),
        ("ALTER TABLE public.customers_id_seq OWNER TO postgres;\n\n", A),
        ("ALTER TABLE public.invoice_seq OWNER TO postgres;\n\n", A),
        ("ALTER TABLE public.orders_id_seq OWNER TO postgres;\n\n", A),
    ),
    *_group(
        "pg_restore 15.18: the archive's data",
        ("COPY public.customers (id, name) FROM stdin;\n", W),
        (
            (
                "COPY public.orders (id, customer_id, note, amount, status, extra, price) FROM "
                "stdin;\n"
            ),
            W,
        ),
        ("SELECT pg_catalog.setval('public.customers_id_seq', 2, true);\n\n\n", W),
        ("SELECT pg_catalog.setval('public.invoice_seq', 1, true);\n\n\n", W),
        ("SELECT pg_catalog.setval('public.orders_id_seq', 2, true);\n\n\n", W),
    ),
    *_group(
        "pg_restore 15.18 -j 2: a worker empties the table it created before its COPY",
        ("TRUNCATE TABLE ONLY public.customers;\n\n", X),
        ("TRUNCATE TABLE ONLY public.orders;\n\n", X),
    ),
]


# pgbench 15: the built-in TPC-B script as sent in simple mode (literals substituted),
# the select-only script as sent with -M prepared ($1), and `pgbench -i` (seen with
# PGOPTIONS='-c log_statement=all'); init is not a read, so each has its class. A run
# without -n starts with its count, the partition query, a VACUUM of the small tables and
# the TRUNCATE of pgbench_history (pgbench 15.18).
_PGBENCH: list[tuple[str, str]] = [
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
    ("vacuum pgbench_branches", D),
]

PGBENCH: list[Case] = [(sql, risk, "pgbench 15") for sql, risk in _PGBENCH]
PGBENCH_RUN = PGBENCH[:9]  # what a benchmark run sends; the rest is `pgbench -i`


CLIENT_TRAFFIC: list[Case] = [
    *PSQL, *PGJDBC, *SQLALCHEMY_REFLECTION, *PSYCOPG, *ASYNCPG, *ORM, *PG_DUMP, *PG_RESTORE
]  # fmt: skip

# Everything above: what the unit tests check and the server-truth test runs.
ALL: list[Case] = [*CASES, *SCARY_READS, *CLIENT_TRAFFIC, *PGBENCH, *PG_RESTORE_OBJECTS]

# Each distinct statement once (clients repeat BEGIN, SELECT 1...): its class and first note.
UNIQUE: dict[str, tuple[str, str]] = {}
for _sql, _risk, _note in ALL:
    UNIQUE.setdefault(_sql, (_risk, _note))
