"""Benchmark of iap.classify: microseconds per statement, cold (cache cleared) and cached.

Owns measuring the classifier over realistic mixes, per dialect: pgbench's statements, an
ORM's queries (SQLAlchemy, captured), psql's backslash commands, drivers' own metadata and
connection-start traffic (pgjdbc, SQLAlchemy reflection, psycopg, asyncpg) and the hand
written corpus; for MySQL, through classify(sql, "mysql") the same way, sysbench's
oltp_read_only/read_write statements, drivers' connection start (mysql client, pymysql,
SQLAlchemy, Connector/J, mariadb-dump, Rails), an ORM's queries and the corpus. For
PostgreSQL it also prints the full tree walk without the fast path for plain reads, side by
side, so one run shows what the fast path buys. Prints only: never asserts a speed (goals
are in the output) and never touches a server.

    python -m bench.classify [--rounds N]      (or python bench/classify.py)
"""

from __future__ import annotations

import argparse
import functools
import gc
import inspect
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import iap.classify
from iap.classify import classify, clear_cache
from iap.classify.postgres import classify_postgres
from tests.iap import mysql_corpus, pg_corpus

GOAL_COLD_US = {"postgres": 50.0, "mysql": 150.0}
GOAL_CACHED_US = 5.0

# MySQL: sysbench's oltp_read_only and oltp_read_write statements, as text and as the
# COM_STMT_PREPARE text its default prepared mode sends.
SYSBENCH: list[str] = [
    "SELECT c FROM sbtest1 WHERE id=5012",
    "SELECT c FROM sbtest1 WHERE id BETWEEN 1 AND 100",
    "SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 1 AND 100",
    "SELECT c FROM sbtest1 WHERE id BETWEEN 1 AND 100 ORDER BY c",
    "SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 1 AND 100 ORDER BY c",
    "UPDATE sbtest1 SET k=k+1 WHERE id=5012",
    "UPDATE sbtest1 SET c='0123-4567' WHERE id=5013",
    "DELETE FROM sbtest1 WHERE id=5014",
    "INSERT INTO sbtest1 (id, k, c, pad) VALUES (5014, 4990, '0123-4567', '89-01')",
    "BEGIN",
    "COMMIT",
    "SELECT c FROM sbtest1 WHERE id=?",
    "SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?",
    "SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c",
    "UPDATE sbtest1 SET k=k+1 WHERE id=?",
]
# Drivers' and clients' connection start (with the captured traffic of the corpus).
MYSQL_CONNECT: list[str] = [
    "SELECT @@version",
    "SET NAMES utf8mb4",
    "SET autocommit=1",
    "select @@version_comment limit 1",
    "SELECT @@max_allowed_packet, @@system_time_zone, @@time_zone, @@auto_increment_increment",
    "SHOW VARIABLES LIKE 'lower_case_table_names'",
    "SET @@SESSION.sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'),"
    " @@SESSION.sql_auto_is_null = 0, @@SESSION.wait_timeout = 2147483",
]
# An ORM's queries (quoted names, joins, bound values) and statements that must be held.
MYSQL_ORM: list[str] = [
    "SELECT `orders`.`id`, `orders`.`note` FROM `orders` WHERE `orders`.`id` = 42",
    "SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id LIMIT 10",
    "INSERT INTO `orders` (`customer_id`, `note`) VALUES (1, 'first')",
    "UPDATE `orders` SET `note`='updated' WHERE `orders`.`id` = 42",
    "DELETE FROM `orders` WHERE `orders`.`id` IN (1, 2, 3)",
    "SELECT count(*) AS count_1 FROM (SELECT `orders`.`id` FROM `orders`) AS anon_1",
    "SHOW FULL TABLES FROM `app`",
    "SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'app'",
    "DROP TABLE orders",
    "DELETE FROM orders",
    "GRANT ALL ON *.* TO 'bob'@'%'",
    "SELECT * FROM orders INTO OUTFILE '/tmp/x'",
    "/*!50000 DROP TABLE orders */",
]


def mysql_mixes() -> dict[str, list[str]]:
    def sqls(cases: Sequence[tuple[str, str, str]]) -> list[str]:
        return list(dict.fromkeys(sql for sql, _, _ in cases))

    mixes = {
        "sysbench": SYSBENCH,
        "drivers": list(dict.fromkeys([*MYSQL_CONNECT, *sqls(mysql_corpus.CAPTURED)])),
        "orm": MYSQL_ORM,
        "corpus": sqls(mysql_corpus.CASES),
    }
    mixes["all"] = list(dict.fromkeys(sql for group in mixes.values() for sql in group))
    return mixes


def postgres_mixes() -> dict[str, list[str]]:
    def sqls(cases: Sequence[pg_corpus.Case]) -> list[str]:
        return list(dict.fromkeys(sql for sql, _, _ in cases))

    mixes = {
        "pgbench": sqls(pg_corpus.PGBENCH_RUN),
        "orm": sqls(pg_corpus.ORM),
        "psql \\d": sqls(pg_corpus.PSQL),
        "drivers": sqls(
            [
                *pg_corpus.PGJDBC,
                *pg_corpus.SQLALCHEMY_REFLECTION,
                *pg_corpus.PSYCOPG,
                *pg_corpus.ASYNCPG,
            ]
        ),
        "corpus": sqls([*pg_corpus.CASES, *pg_corpus.SCARY_READS]),
    }
    mixes["all"] = list(dict.fromkeys(sql for group in mixes.values() for sql in group))
    return mixes


def cold_us(
    runs: Sequence[Callable[[str], object]], statements: list[str], rounds: int
) -> list[list[float]]:
    """Per run and statement, the fastest of rounds classifications, cache cleared before each.

    Rounds go over the whole mix in turn and the runs of one statement alternate (who goes
    first swaps every round), so a burst of load from other processes on the machine hits one
    sample of many statements rather than every sample of one, and both sides of a
    comparison alike; the minimum is the stable measure (other processes only add time).
    """
    best = [[float("inf")] * len(statements) for _ in runs]
    for round_ in range(rounds):
        order = list(enumerate(runs)) if round_ % 2 == 0 else list(enumerate(runs))[::-1]
        for i, sql in enumerate(statements):
            for r, run in order:
                clear_cache()
                start = time.perf_counter_ns()
                run(sql)
                best[r][i] = min(best[r][i], (time.perf_counter_ns() - start) / 1000)
    return best


def cached_us(run: Callable[[str], object], sql: str, repeat: int = 200, batches: int = 5) -> float:
    """Per call, the fastest of batches of repeat classifications of a cached statement."""
    run(sql)
    best = float("inf")
    for _ in range(batches):
        start = time.perf_counter_ns()
        for _ in range(repeat):
            run(sql)
        best = min(best, (time.perf_counter_ns() - start) / repeat / 1000)
    return best


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"{statistics.median(ordered):8.1f} {p90:8.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="cold runs per statement")
    args = parser.parse_args(argv)
    gc.disable()  # a collection inside one sample is noise, not the classifier's cost
    full_walk = "fast_path" in inspect.signature(classify_postgres).parameters

    def walk_only(sql: str) -> object:
        """classify() as the gateway calls it, with the fast path for plain reads turned off."""
        dialects = iap.classify._DIALECT_CLASSIFIERS
        dialects["postgres"] = functools.partial(classify_postgres, fast_path=False)
        try:
            return classify(sql)
        finally:
            dialects["postgres"] = classify_postgres

    print("µs per statement (median and p90 over the statements of each mix)")
    header = f"{'dialect':9} {'mix':9} {'n':>4}   {'cold':>8} {'p90':>8}   {'cached':>8} {'p90':>8}"
    print(header + ("   full walk    p90" if full_walk else ""))
    rows: list[tuple[str, dict[str, list[str]]]] = [
        ("postgres", postgres_mixes()),
        ("mysql", mysql_mixes()),
    ]
    for dialect, mixes in rows:

        def run(sql: str, dialect: str = dialect) -> object:
            return classify(sql, dialect)

        for name, statements in mixes.items():
            walk = full_walk and dialect == "postgres"
            cold = cold_us([run, walk_only] if walk else [run], statements, args.rounds)
            cached = [cached_us(run, sql) for sql in statements]
            line = (
                f"{dialect:9} {name:9} {len(statements):4}   {summary(cold[0])}   {summary(cached)}"
            )
            print(line + ("   " + summary(cold[1]) if walk else ""))
    print(
        f"goals: cold median <= {GOAL_COLD_US['postgres']:.0f} µs (PostgreSQL),"
        f" <= {GOAL_COLD_US['mysql']:.0f} µs (MySQL); cached <= {GOAL_CACHED_US:.0f} µs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
