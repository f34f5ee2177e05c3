"""Byte captures of real PostgreSQL sessions, replayed by test_pg_connection.py.

Recorded once on 2026-11-23 with a throwaway TCP proxy (a small Python script, not part
of the project) that listened on 127.0.0.1 and forwarded to PostgreSQL 15.20 (Debian
15.20-0+deb12u1) at 127.0.0.1:5432, logging every chunk read in each direction. Server:
trust authentication, ssl = off (so clients' SSLRequest is answered b"N"), user postgres.
Clients: psql 15.20, pgbench 15.20, asyncpg 0.32.0 (Python 3.11). ``command`` says how each
one was run ("psql ..." is ``psql -h 127.0.0.1 -p PORT -U postgres``); the database
iap_capture_tmp was created for the recording (pgbench -i -s 1, and a table
``t(a int, b text)``) and dropped after.

Each chunk is exactly what one recv() returned, split into one bytes literal per message
for reading. ``frontend`` / ``backend`` name the messages each side sent, in order.
Process ids and cancel keys are the ones of that day's server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Direction = Literal["frontend", "backend"]
FRONTEND: Final = "frontend"
BACKEND: Final = "backend"


@dataclass(frozen=True)
class Capture:
    command: str
    chunks: tuple[tuple[Direction, bytes], ...]
    frontend: tuple[str, ...]
    backend: tuple[str, ...]

    def stream(self, direction: Direction) -> bytes:
        """Everything one side sent, concatenated."""
        return b"".join(data for side, data in self.chunks if side == direction)


PSQL_SELECT_1 = Capture(
    command="psql -h 127.0.0.1 -p PORT -U postgres -d postgres -c 'select 1'",
    chunks=(
        (FRONTEND, b"\x00\x00\x00\x08\x04\xd2\x16/"),
        (BACKEND, b"N"),
        (
            FRONTEND,
            (
                b"\x00\x00\x00?\x00\x03\x00\x00user\x00postgres\x00database\x00postgres\x00appli"
                b"cation_name\x00psql\x00\x00"
            ),
        ),
        (
            BACKEND,
            (
                b"R\x00\x00\x00\x08\x00\x00\x00\x00"
                b"S\x00\x00\x00\x1aapplication_name\x00psql\x00"
                b"S\x00\x00\x00\x19client_encoding\x00UTF8\x00"
                b"S\x00\x00\x00\x17DateStyle\x00ISO, MDY\x00"
                b"S\x00\x00\x00&default_transaction_read_only\x00off\x00"
                b"S\x00\x00\x00\x17in_hot_standby\x00off\x00"
                b"S\x00\x00\x00\x19integer_datetimes\x00on\x00"
                b"S\x00\x00\x00\x1bIntervalStyle\x00postgres\x00"
                b"S\x00\x00\x00\x14is_superuser\x00on\x00"
                b"S\x00\x00\x00\x19server_encoding\x00UTF8\x00"
                b"S\x00\x00\x002server_version\x0015.20 (Debian 15.20-0+deb12u1)\x00"
                b"S\x00\x00\x00#session_authorization\x00postgres\x00"
                b"S\x00\x00\x00#standard_conforming_strings\x00on\x00"
                b"S\x00\x00\x00\x15TimeZone\x00Etc/UTC\x00"
                b"K\x00\x00\x00\x0c\x00\x00!`\xc2\xa7$_"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (FRONTEND, b"Q\x00\x00\x00\rselect 1\x00"),
        (
            BACKEND,
            (
                b"T\x00\x00\x00!\x00\x01?column?\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00"
                b"\x04\xff\xff\xff\xff\x00\x00"
                b"D\x00\x00\x00\x0b\x00\x01\x00\x00\x00\x011"
                b"C\x00\x00\x00\rSELECT 1\x00"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (FRONTEND, b"X\x00\x00\x00\x04"),
    ),
    frontend=("SSLRequest", "StartupMessage", "Query", "Terminate"),
    backend=(
        "SSLResponse",
        "AuthenticationOk",
        *("ParameterStatus",) * 13,
        "BackendKeyData",
        "ReadyForQuery",
        "RowDescription",
        "DataRow",
        "CommandComplete",
        "ReadyForQuery",
    ),
)


PSQL_LIST_TABLES = Capture(
    command=(
        "psql ... -d iap_capture_tmp -c '\\dt' (after pgbench -i -s 1 and create table"
        " t(a int, b text))"
    ),
    chunks=(
        (FRONTEND, b"\x00\x00\x00\x08\x04\xd2\x16/"),
        (BACKEND, b"N"),
        (
            FRONTEND,
            (
                b"\x00\x00\x00F\x00\x03\x00\x00user\x00postgres\x00database\x00iap_capture_tmp"
                b"\x00application_name\x00psql\x00\x00"
            ),
        ),
        (
            BACKEND,
            (
                b"R\x00\x00\x00\x08\x00\x00\x00\x00"
                b"S\x00\x00\x00\x1aapplication_name\x00psql\x00"
                b"S\x00\x00\x00\x19client_encoding\x00UTF8\x00"
                b"S\x00\x00\x00\x17DateStyle\x00ISO, MDY\x00"
                b"S\x00\x00\x00&default_transaction_read_only\x00off\x00"
                b"S\x00\x00\x00\x17in_hot_standby\x00off\x00"
                b"S\x00\x00\x00\x19integer_datetimes\x00on\x00"
                b"S\x00\x00\x00\x1bIntervalStyle\x00postgres\x00"
                b"S\x00\x00\x00\x14is_superuser\x00on\x00"
                b"S\x00\x00\x00\x19server_encoding\x00UTF8\x00"
                b"S\x00\x00\x002server_version\x0015.20 (Debian 15.20-0+deb12u1)\x00"
                b"S\x00\x00\x00#session_authorization\x00postgres\x00"
                b"S\x00\x00\x00#standard_conforming_strings\x00on\x00"
                b"S\x00\x00\x00\x15TimeZone\x00Etc/UTC\x00"
                b"K\x00\x00\x00\x0c\x00\x00!g\xca\xfec\xd8"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (
            FRONTEND,
            (
                b'Q\x00\x00\x02\xe9SELECT n.nspname as "Schema",\n  c.relname as "Name",\n  '
                b"CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'mater"
                b"ialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TO"
                b"AST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHE"
                b"N 'I' THEN 'partitioned index' END as \"Type\",\n  pg_catalog.pg_get_userbyid("
                b'c.relowner) as "Owner"\nFROM pg_catalog.pg_class c\n     LEFT JOIN pg_catalo'
                b"g.pg_namespace n ON n.oid = c.relnamespace\n     LEFT JOIN pg_catalog.pg_am am"
                b" ON am.oid = c.relam\nWHERE c.relkind IN ('r','p','')\n      AND n.nspname <> "
                b"'pg_catalog'\n      AND n.nspname !~ '^pg_toast'\n      AND n.nspname <> 'info"
                b"rmation_schema'\n  AND pg_catalog.pg_table_is_visible(c.oid)\nORDER BY 1,2;"
                b"\x00"
            ),
        ),
        (
            BACKEND,
            (
                b"T\x00\x00\x00e\x00\x04Schema\x00\x00\x00\n7\x00\x02\x00\x00\x00\x13\x00@\xff"
                b"\xff\xff\xff\x00\x00Name\x00\x00\x00\x04\xeb\x00\x02\x00\x00\x00\x13\x00@\xff"
                b"\xff\xff\xff\x00\x00Type\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x19\xff\xff"
                b"\xff\xff\xff\xff\x00\x00Owner\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x13\x00@"
                b"\xff\xff\xff\xff\x00\x00"
                b"D\x00\x00\x009\x00\x04\x00\x00\x00\x06public\x00\x00\x00\x10pgbench_accounts"
                b"\x00\x00\x00\x05table\x00\x00\x00\x08postgres"
                b"D\x00\x00\x009\x00\x04\x00\x00\x00\x06public\x00\x00\x00\x10pgbench_branches"
                b"\x00\x00\x00\x05table\x00\x00\x00\x08postgres"
                b"D\x00\x00\x008\x00\x04\x00\x00\x00\x06public\x00\x00\x00\x0fpgbench_history"
                b"\x00\x00\x00\x05table\x00\x00\x00\x08postgres"
                b"D\x00\x00\x008\x00\x04\x00\x00\x00\x06public\x00\x00\x00\x0fpgbench_tellers"
                b"\x00\x00\x00\x05table\x00\x00\x00\x08postgres"
                b"D\x00\x00\x00*\x00\x04\x00\x00\x00\x06public\x00\x00\x00\x01t\x00\x00\x00\x05t"
                b"able\x00\x00\x00\x08postgres"
                b"C\x00\x00\x00\rSELECT 5\x00"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (FRONTEND, b"X\x00\x00\x00\x04"),
    ),
    frontend=("SSLRequest", "StartupMessage", "Query", "Terminate"),
    backend=(
        "SSLResponse",
        "AuthenticationOk",
        *("ParameterStatus",) * 13,
        "BackendKeyData",
        "ReadyForQuery",
        "RowDescription",
        *("DataRow",) * 5,
        "CommandComplete",
        "ReadyForQuery",
    ),
)


PSQL_COPY_IN = Capture(
    command="printf '1\\tone\\n2\\ttwo\\n' | psql ... -d iap_capture_tmp -c 'copy t from stdin'",
    chunks=(
        (FRONTEND, b"\x00\x00\x00\x08\x04\xd2\x16/"),
        (BACKEND, b"N"),
        (
            FRONTEND,
            (
                b"\x00\x00\x00F\x00\x03\x00\x00user\x00postgres\x00database\x00iap_capture_tmp"
                b"\x00application_name\x00psql\x00\x00"
            ),
        ),
        (
            BACKEND,
            (
                b"R\x00\x00\x00\x08\x00\x00\x00\x00"
                b"S\x00\x00\x00\x1aapplication_name\x00psql\x00"
                b"S\x00\x00\x00\x19client_encoding\x00UTF8\x00"
                b"S\x00\x00\x00\x17DateStyle\x00ISO, MDY\x00"
                b"S\x00\x00\x00&default_transaction_read_only\x00off\x00"
                b"S\x00\x00\x00\x17in_hot_standby\x00off\x00"
                b"S\x00\x00\x00\x19integer_datetimes\x00on\x00"
                b"S\x00\x00\x00\x1bIntervalStyle\x00postgres\x00"
                b"S\x00\x00\x00\x14is_superuser\x00on\x00"
                b"S\x00\x00\x00\x19server_encoding\x00UTF8\x00"
                b"S\x00\x00\x002server_version\x0015.20 (Debian 15.20-0+deb12u1)\x00"
                b"S\x00\x00\x00#session_authorization\x00postgres\x00"
                b"S\x00\x00\x00#standard_conforming_strings\x00on\x00"
                b"S\x00\x00\x00\x15TimeZone\x00Etc/UTC\x00"
                b"K\x00\x00\x00\x0c\x00\x00!m\xb6\rK\x07"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (FRONTEND, b"Q\x00\x00\x00\x16copy t from stdin\x00"),
        (BACKEND, b"G\x00\x00\x00\x0b\x00\x00\x02\x00\x00\x00\x00"),
        (
            FRONTEND,
            (b"d\x00\x00\x00\x101\tone\n2\ttwo\nc\x00\x00\x00\x04"),
        ),
        (
            BACKEND,
            (b"C\x00\x00\x00\x0bCOPY 2\x00Z\x00\x00\x00\x05I"),
        ),
        (FRONTEND, b"X\x00\x00\x00\x04"),
    ),
    frontend=("SSLRequest", "StartupMessage", "Query", "CopyData", "CopyDone", "Terminate"),
    backend=(
        "SSLResponse",
        "AuthenticationOk",
        *("ParameterStatus",) * 13,
        "BackendKeyData",
        "ReadyForQuery",
        "CopyInResponse",
        "CommandComplete",
        "ReadyForQuery",
    ),
)


PSQL_COPY_OUT = Capture(
    command="psql ... -d iap_capture_tmp -c 'copy t to stdout'",
    chunks=(
        (FRONTEND, b"\x00\x00\x00\x08\x04\xd2\x16/"),
        (BACKEND, b"N"),
        (
            FRONTEND,
            (
                b"\x00\x00\x00F\x00\x03\x00\x00user\x00postgres\x00database\x00iap_capture_tmp"
                b"\x00application_name\x00psql\x00\x00"
            ),
        ),
        (
            BACKEND,
            (
                b"R\x00\x00\x00\x08\x00\x00\x00\x00"
                b"S\x00\x00\x00\x1aapplication_name\x00psql\x00"
                b"S\x00\x00\x00\x19client_encoding\x00UTF8\x00"
                b"S\x00\x00\x00\x17DateStyle\x00ISO, MDY\x00"
                b"S\x00\x00\x00&default_transaction_read_only\x00off\x00"
                b"S\x00\x00\x00\x17in_hot_standby\x00off\x00"
                b"S\x00\x00\x00\x19integer_datetimes\x00on\x00"
                b"S\x00\x00\x00\x1bIntervalStyle\x00postgres\x00"
                b"S\x00\x00\x00\x14is_superuser\x00on\x00"
                b"S\x00\x00\x00\x19server_encoding\x00UTF8\x00"
                b"S\x00\x00\x002server_version\x0015.20 (Debian 15.20-0+deb12u1)\x00"
                b"S\x00\x00\x00#session_authorization\x00postgres\x00"
                b"S\x00\x00\x00#standard_conforming_strings\x00on\x00"
                b"S\x00\x00\x00\x15TimeZone\x00Etc/UTC\x00"
                b"K\x00\x00\x00\x0c\x00\x00!s\xe8\xb3@\x98"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (FRONTEND, b"Q\x00\x00\x00\x15copy t to stdout\x00"),
        (
            BACKEND,
            (
                b"H\x00\x00\x00\x0b\x00\x00\x02\x00\x00\x00\x00"
                b"d\x00\x00\x00\n1\tone\n"
                b"d\x00\x00\x00\n2\ttwo\n"
                b"c\x00\x00\x00\x04"
                b"C\x00\x00\x00\x0bCOPY 2\x00"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (FRONTEND, b"X\x00\x00\x00\x04"),
    ),
    frontend=("SSLRequest", "StartupMessage", "Query", "Terminate"),
    backend=(
        "SSLResponse",
        "AuthenticationOk",
        *("ParameterStatus",) * 13,
        "BackendKeyData",
        "ReadyForQuery",
        "CopyOutResponse",
        *("CopyData",) * 2,
        "CopyDone",
        "CommandComplete",
        "ReadyForQuery",
    ),
)


PSQL_ERROR = Capture(
    command="psql ... -d postgres -c 'select 1/0'",
    chunks=(
        (FRONTEND, b"\x00\x00\x00\x08\x04\xd2\x16/"),
        (BACKEND, b"N"),
        (
            FRONTEND,
            (
                b"\x00\x00\x00?\x00\x03\x00\x00user\x00postgres\x00database\x00postgres\x00appli"
                b"cation_name\x00psql\x00\x00"
            ),
        ),
        (
            BACKEND,
            (
                b"R\x00\x00\x00\x08\x00\x00\x00\x00"
                b"S\x00\x00\x00\x1aapplication_name\x00psql\x00"
                b"S\x00\x00\x00\x19client_encoding\x00UTF8\x00"
                b"S\x00\x00\x00\x17DateStyle\x00ISO, MDY\x00"
                b"S\x00\x00\x00&default_transaction_read_only\x00off\x00"
                b"S\x00\x00\x00\x17in_hot_standby\x00off\x00"
                b"S\x00\x00\x00\x19integer_datetimes\x00on\x00"
                b"S\x00\x00\x00\x1bIntervalStyle\x00postgres\x00"
                b"S\x00\x00\x00\x14is_superuser\x00on\x00"
                b"S\x00\x00\x00\x19server_encoding\x00UTF8\x00"
                b"S\x00\x00\x002server_version\x0015.20 (Debian 15.20-0+deb12u1)\x00"
                b"S\x00\x00\x00#session_authorization\x00postgres\x00"
                b"S\x00\x00\x00#standard_conforming_strings\x00on\x00"
                b"S\x00\x00\x00\x15TimeZone\x00Etc/UTC\x00"
                b"K\x00\x00\x00\x0c\x00\x00!y\x9c[6$"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (FRONTEND, b"Q\x00\x00\x00\x0fselect 1/0\x00"),
        (
            BACKEND,
            (
                b"E\x00\x00\x00ASERROR\x00VERROR\x00C22012\x00Mdivision by zero\x00Fint.c\x00L86"
                b"9\x00Rint4div\x00\x00"
            ),
        ),
        (BACKEND, b"Z\x00\x00\x00\x05I"),
        (FRONTEND, b"X\x00\x00\x00\x04"),
    ),
    frontend=("SSLRequest", "StartupMessage", "Query", "Terminate"),
    backend=(
        "SSLResponse",
        "AuthenticationOk",
        *("ParameterStatus",) * 13,
        "BackendKeyData",
        "ReadyForQuery",
        "ErrorResponse",
        "ReadyForQuery",
    ),
)


PGBENCH_PREPARED_SETUP = Capture(
    command="pgbench -p PORT -n -S -M prepared -t 3 iap_capture_tmp (its first connection)",
    chunks=(
        (FRONTEND, b"\x00\x00\x00\x08\x04\xd2\x16/"),
        (BACKEND, b"N"),
        (
            FRONTEND,
            (
                b"\x00\x00\x00I\x00\x03\x00\x00user\x00postgres\x00database\x00iap_capture_tmp"
                b"\x00application_name\x00pgbench\x00\x00"
            ),
        ),
        (
            BACKEND,
            (
                b"R\x00\x00\x00\x08\x00\x00\x00\x00"
                b"S\x00\x00\x00\x1dapplication_name\x00pgbench\x00"
                b"S\x00\x00\x00\x19client_encoding\x00UTF8\x00"
                b"S\x00\x00\x00\x17DateStyle\x00ISO, MDY\x00"
                b"S\x00\x00\x00&default_transaction_read_only\x00off\x00"
                b"S\x00\x00\x00\x17in_hot_standby\x00off\x00"
                b"S\x00\x00\x00\x19integer_datetimes\x00on\x00"
                b"S\x00\x00\x00\x1bIntervalStyle\x00postgres\x00"
                b"S\x00\x00\x00\x14is_superuser\x00on\x00"
                b"S\x00\x00\x00\x19server_encoding\x00UTF8\x00"
                b"S\x00\x00\x002server_version\x0015.20 (Debian 15.20-0+deb12u1)\x00"
                b"S\x00\x00\x00#session_authorization\x00postgres\x00"
                b"S\x00\x00\x00#standard_conforming_strings\x00on\x00"
                b"S\x00\x00\x00\x15TimeZone\x00Etc/UTC\x00"
                b"K\x00\x00\x00\x0c\x00\x00!\x81\xdb\x1f\xae\x82"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (FRONTEND, b"Q\x00\x00\x00*select count(*) from pgbench_branches\x00"),
        (
            BACKEND,
            (
                b"T\x00\x00\x00\x1e\x00\x01count\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x14\x00"
                b"\x08\xff\xff\xff\xff\x00\x00"
                b"D\x00\x00\x00\x0b\x00\x01\x00\x00\x00\x011"
                b"C\x00\x00\x00\rSELECT 1\x00"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (
            FRONTEND,
            (
                b"Q\x00\x00\x01\xe7select o.n, p.partstrat, pg_catalog.count(i.inhparent) from p"
                b"g_catalog.pg_class as c join pg_catalog.pg_namespace as n on (n.oid = c.relnam"
                b"espace) cross join lateral (select pg_catalog.array_position(pg_catalog.curren"
                b"t_schemas(true), n.nspname)) as o(n) left join pg_catalog.pg_partitioned_table"
                b" as p on (p.partrelid = c.oid) left join pg_catalog.pg_inherits as i on (c.oid"
                b" = i.inhparent) where c.relname = 'pgbench_accounts' and o.n is not null group"
                b" by 1, 2 order by 1 asc limit 1\x00"
            ),
        ),
        (
            BACKEND,
            (
                b"T\x00\x00\x00N\x00\x03n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04"
                b"\xff\xff\xff\xff\x00\x00partstrat\x00\x00\x00\r\x16\x00\x02\x00\x00\x00\x12"
                b"\x00\x01\xff\xff\xff\xff\x00\x00count\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
                b"\x14\x00\x08\xff\xff\xff\xff\x00\x00"
                b"D\x00\x00\x00\x14\x00\x03\x00\x00\x00\x012\xff\xff\xff\xff\x00\x00\x00\x010"
                b"C\x00\x00\x00\rSELECT 1\x00"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (FRONTEND, b"X\x00\x00\x00\x04"),
    ),
    frontend=("SSLRequest", "StartupMessage", *("Query",) * 2, "Terminate"),
    backend=(
        "SSLResponse",
        "AuthenticationOk",
        *("ParameterStatus",) * 13,
        "BackendKeyData",
        "ReadyForQuery",
        "RowDescription",
        "DataRow",
        "CommandComplete",
        "ReadyForQuery",
        "RowDescription",
        "DataRow",
        "CommandComplete",
        "ReadyForQuery",
    ),
)


PGBENCH_PREPARED = Capture(
    command="pgbench -p PORT -n -S -M prepared -t 3 iap_capture_tmp (the benchmark client)",
    chunks=(
        (FRONTEND, b"\x00\x00\x00\x08\x04\xd2\x16/"),
        (BACKEND, b"N"),
        (
            FRONTEND,
            (
                b"\x00\x00\x00I\x00\x03\x00\x00user\x00postgres\x00database\x00iap_capture_tmp"
                b"\x00application_name\x00pgbench\x00\x00"
            ),
        ),
        (
            BACKEND,
            (
                b"R\x00\x00\x00\x08\x00\x00\x00\x00"
                b"S\x00\x00\x00\x1dapplication_name\x00pgbench\x00"
                b"S\x00\x00\x00\x19client_encoding\x00UTF8\x00"
                b"S\x00\x00\x00\x17DateStyle\x00ISO, MDY\x00"
                b"S\x00\x00\x00&default_transaction_read_only\x00off\x00"
                b"S\x00\x00\x00\x17in_hot_standby\x00off\x00"
                b"S\x00\x00\x00\x19integer_datetimes\x00on\x00"
                b"S\x00\x00\x00\x1bIntervalStyle\x00postgres\x00"
                b"S\x00\x00\x00\x14is_superuser\x00on\x00"
                b"S\x00\x00\x00\x19server_encoding\x00UTF8\x00"
                b"S\x00\x00\x002server_version\x0015.20 (Debian 15.20-0+deb12u1)\x00"
                b"S\x00\x00\x00#session_authorization\x00postgres\x00"
                b"S\x00\x00\x00#standard_conforming_strings\x00on\x00"
                b"S\x00\x00\x00\x15TimeZone\x00Etc/UTC\x00"
                b"K\x00\x00\x00\x0c\x00\x00!\x84_\xaeL\xbe"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (
            FRONTEND,
            (
                b"P\x00\x00\x00@P_0\x00SELECT abalance FROM pgbench_accounts WHERE aid = $1;\x00"
                b"\x00\x00"
                b"S\x00\x00\x00\x04"
            ),
        ),
        (
            BACKEND,
            (b"1\x00\x00\x00\x04Z\x00\x00\x00\x05I"),
        ),
        (
            FRONTEND,
            (
                b"B\x00\x00\x00\x1a\x00P_0\x00\x00\x00\x00\x01\x00\x00\x00\x0584369\x00\x01\x00"
                b"\x00"
                b"D\x00\x00\x00\x06P\x00"
                b"E\x00\x00\x00\t\x00\x00\x00\x00\x00"
                b"S\x00\x00\x00\x04"
            ),
        ),
        (
            BACKEND,
            (
                b"2\x00\x00\x00\x04"
                b"T\x00\x00\x00!\x00\x01abalance\x00\x00\x00@\n\x00\x03\x00\x00\x00\x17\x00\x04"
                b"\xff\xff\xff\xff\x00\x00"
                b"D\x00\x00\x00\x0b\x00\x01\x00\x00\x00\x010"
                b"C\x00\x00\x00\rSELECT 1\x00"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (
            FRONTEND,
            (
                b"B\x00\x00\x00\x1a\x00P_0\x00\x00\x00\x00\x01\x00\x00\x00\x0530043\x00\x01\x00"
                b"\x00"
                b"D\x00\x00\x00\x06P\x00"
                b"E\x00\x00\x00\t\x00\x00\x00\x00\x00"
                b"S\x00\x00\x00\x04"
            ),
        ),
        (
            BACKEND,
            (
                b"2\x00\x00\x00\x04"
                b"T\x00\x00\x00!\x00\x01abalance\x00\x00\x00@\n\x00\x03\x00\x00\x00\x17\x00\x04"
                b"\xff\xff\xff\xff\x00\x00"
                b"D\x00\x00\x00\x0b\x00\x01\x00\x00\x00\x010"
                b"C\x00\x00\x00\rSELECT 1\x00"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (
            FRONTEND,
            (
                b"B\x00\x00\x00\x1a\x00P_0\x00\x00\x00\x00\x01\x00\x00\x00\x0563382\x00\x01\x00"
                b"\x00"
                b"D\x00\x00\x00\x06P\x00"
                b"E\x00\x00\x00\t\x00\x00\x00\x00\x00"
                b"S\x00\x00\x00\x04"
            ),
        ),
        (
            BACKEND,
            (
                b"2\x00\x00\x00\x04"
                b"T\x00\x00\x00!\x00\x01abalance\x00\x00\x00@\n\x00\x03\x00\x00\x00\x17\x00\x04"
                b"\xff\xff\xff\xff\x00\x00"
                b"D\x00\x00\x00\x0b\x00\x01\x00\x00\x00\x010"
                b"C\x00\x00\x00\rSELECT 1\x00"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (FRONTEND, b"X\x00\x00\x00\x04"),
    ),
    frontend=(
        "SSLRequest",
        "StartupMessage",
        "Parse",
        "Sync",
        "Bind",
        "Describe",
        "Execute",
        "Sync",
        "Bind",
        "Describe",
        "Execute",
        "Sync",
        "Bind",
        "Describe",
        "Execute",
        "Sync",
        "Terminate",
    ),
    backend=(
        "SSLResponse",
        "AuthenticationOk",
        *("ParameterStatus",) * 13,
        "BackendKeyData",
        "ReadyForQuery",
        "ParseComplete",
        "ReadyForQuery",
        "BindComplete",
        "RowDescription",
        "DataRow",
        "CommandComplete",
        "ReadyForQuery",
        "BindComplete",
        "RowDescription",
        "DataRow",
        "CommandComplete",
        "ReadyForQuery",
        "BindComplete",
        "RowDescription",
        "DataRow",
        "CommandComplete",
        "ReadyForQuery",
    ),
)


ASYNCPG_EXTENDED = Capture(
    command=(
        "asyncpg: fetch(select ... where aid = $1, 7), execute(update ... $1, 7),"
        " fetch('select pg_sleep(3)', timeout=0.3)"
    ),
    chunks=(
        (
            FRONTEND,
            (
                b"\x00\x00\x00H\x00\x03\x00\x00client_encoding\x00'utf-8'\x00user\x00postgres"
                b"\x00database\x00iap_capture_tmp\x00\x00"
            ),
        ),
        (
            BACKEND,
            (
                b"R\x00\x00\x00\x08\x00\x00\x00\x00"
                b"S\x00\x00\x00\x16application_name\x00\x00"
                b"S\x00\x00\x00\x19client_encoding\x00UTF8\x00"
                b"S\x00\x00\x00\x17DateStyle\x00ISO, MDY\x00"
                b"S\x00\x00\x00&default_transaction_read_only\x00off\x00"
                b"S\x00\x00\x00\x17in_hot_standby\x00off\x00"
                b"S\x00\x00\x00\x19integer_datetimes\x00on\x00"
                b"S\x00\x00\x00\x1bIntervalStyle\x00postgres\x00"
                b"S\x00\x00\x00\x14is_superuser\x00on\x00"
                b"S\x00\x00\x00\x19server_encoding\x00UTF8\x00"
                b"S\x00\x00\x002server_version\x0015.20 (Debian 15.20-0+deb12u1)\x00"
                b"S\x00\x00\x00#session_authorization\x00postgres\x00"
                b"S\x00\x00\x00#standard_conforming_strings\x00on\x00"
                b"S\x00\x00\x00\x15TimeZone\x00Etc/UTC\x00"
                b"K\x00\x00\x00\x0c\x00\x00!\xed\xf0\xb4E\xd3"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (
            FRONTEND,
            (
                b"P\x00\x00\x00S__asyncpg_stmt_1__\x00select aid, abalance from pgbench_accounts"
                b" where aid = $1\x00\x00\x00"
                b"D\x00\x00\x00\x18S__asyncpg_stmt_1__\x00"
                b"H\x00\x00\x00\x04"
            ),
        ),
        (
            BACKEND,
            (
                b"1\x00\x00\x00\x04"
                b"t\x00\x00\x00\n\x00\x01\x00\x00\x00\x17"
                b"T\x00\x00\x007\x00\x02aid\x00\x00\x00@\n\x00\x01\x00\x00\x00\x17\x00\x04\xff"
                b"\xff\xff\xff\x00\x00abalance\x00\x00\x00@\n\x00\x03\x00\x00\x00\x17\x00\x04"
                b"\xff\xff\xff\xff\x00\x00"
            ),
        ),
        (
            FRONTEND,
            (
                b"B\x00\x00\x00*\x00__asyncpg_stmt_1__\x00\x00\x01\x00\x01\x00\x01\x00\x00\x00"
                b"\x04\x00\x00\x00\x07\x00\x01\x00\x01"
                b"E\x00\x00\x00\t\x00\x00\x00\x00\x00"
                b"S\x00\x00\x00\x04"
            ),
        ),
        (
            BACKEND,
            (
                b"2\x00\x00\x00\x04"
                b"D\x00\x00\x00\x16\x00\x02\x00\x00\x00\x04\x00\x00\x00\x07\x00\x00\x00\x04\x00"
                b"\x00\x00\x00"
                b"C\x00\x00\x00\rSELECT 1\x00"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (
            FRONTEND,
            (
                b"P\x00\x00\x00X__asyncpg_stmt_2__\x00update pgbench_accounts set abalance = aba"
                b"lance where aid = $1\x00\x00\x00"
                b"D\x00\x00\x00\x18S__asyncpg_stmt_2__\x00"
                b"H\x00\x00\x00\x04"
            ),
        ),
        (
            BACKEND,
            (b"1\x00\x00\x00\x04t\x00\x00\x00\n\x00\x01\x00\x00\x00\x17n\x00\x00\x00\x04"),
        ),
        (
            FRONTEND,
            (
                b"B\x00\x00\x00*\x00__asyncpg_stmt_2__\x00\x00\x01\x00\x01\x00\x01\x00\x00\x00"
                b"\x04\x00\x00\x00\x07\x00\x01\x00\x01"
                b"E\x00\x00\x00\t\x00\x00\x00\x00\x00"
                b"S\x00\x00\x00\x04"
            ),
        ),
        (
            BACKEND,
            (b"2\x00\x00\x00\x04C\x00\x00\x00\rUPDATE 1\x00Z\x00\x00\x00\x05I"),
        ),
        (
            FRONTEND,
            (
                b"P\x00\x00\x00,__asyncpg_stmt_3__\x00select pg_sleep(3)\x00\x00\x00"
                b"D\x00\x00\x00\x18S__asyncpg_stmt_3__\x00"
                b"H\x00\x00\x00\x04"
            ),
        ),
        (
            BACKEND,
            (
                b"1\x00\x00\x00\x04"
                b"t\x00\x00\x00\x06\x00\x00"
                b"T\x00\x00\x00!\x00\x01pg_sleep\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\xe6\x00"
                b"\x04\xff\xff\xff\xff\x00\x00"
            ),
        ),
        (
            FRONTEND,
            (
                b'B\x00\x00\x00"\x00__asyncpg_stmt_3__\x00\x00\x01\x00\x01\x00\x00\x00\x01\x00'
                b"\x01"
                b"E\x00\x00\x00\t\x00\x00\x00\x00\x00"
                b"S\x00\x00\x00\x04"
            ),
        ),
        (
            BACKEND,
            (
                b"2\x00\x00\x00\x04"
                b"E\x00\x00\x00hSERROR\x00VERROR\x00C57014\x00Mcanceling statement due to user r"
                b"equest\x00Fpostgres.c\x00L3349\x00RProcessInterrupts\x00\x00"
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (FRONTEND, b"X\x00\x00\x00\x04"),
    ),
    frontend=(
        "StartupMessage",
        "Parse",
        "Describe",
        "Flush",
        "Bind",
        "Execute",
        "Sync",
        "Parse",
        "Describe",
        "Flush",
        "Bind",
        "Execute",
        "Sync",
        "Parse",
        "Describe",
        "Flush",
        "Bind",
        "Execute",
        "Sync",
        "Terminate",
    ),
    backend=(
        "AuthenticationOk",
        *("ParameterStatus",) * 13,
        "BackendKeyData",
        "ReadyForQuery",
        "ParseComplete",
        "ParameterDescription",
        "RowDescription",
        "BindComplete",
        "DataRow",
        "CommandComplete",
        "ReadyForQuery",
        "ParseComplete",
        "ParameterDescription",
        "NoData",
        "BindComplete",
        "CommandComplete",
        "ReadyForQuery",
        "ParseComplete",
        "ParameterDescription",
        "RowDescription",
        "BindComplete",
        "ErrorResponse",
        "ReadyForQuery",
    ),
)


ASYNCPG_CANCEL = Capture(
    command="asyncpg's CancelRequest, sent on a new connection when the timeout above fired",
    chunks=((FRONTEND, b"\x00\x00\x00\x10\x04\xd2\x16.\x00\x00!\xed\xf0\xb4E\xd3"),),
    frontend=("CancelRequest",),
    backend=(),
)


PSQL_NOTICE_NOTIFY_TRANSACTION = Capture(
    command=(
        "psql ... -d postgres -c 'drop table if exists nope' -c 'listen ch' -c \"notify"
        " ch, 'hi'\" -c begin -c 'select 1'"
    ),
    chunks=(
        (FRONTEND, b"\x00\x00\x00\x08\x04\xd2\x16/"),
        (BACKEND, b"N"),
        (
            FRONTEND,
            (
                b"\x00\x00\x00?\x00\x03\x00\x00user\x00postgres\x00database\x00postgres\x00appli"
                b"cation_name\x00psql\x00\x00"
            ),
        ),
        (
            BACKEND,
            (
                b"R\x00\x00\x00\x08\x00\x00\x00\x00"
                b"S\x00\x00\x00\x1aapplication_name\x00psql\x00"
                b"S\x00\x00\x00\x19client_encoding\x00UTF8\x00"
                b"S\x00\x00\x00\x17DateStyle\x00ISO, MDY\x00"
                b"S\x00\x00\x00&default_transaction_read_only\x00off\x00"
                b"S\x00\x00\x00\x17in_hot_standby\x00off\x00"
                b"S\x00\x00\x00\x19integer_datetimes\x00on\x00"
                b"S\x00\x00\x00\x1bIntervalStyle\x00postgres\x00"
                b"S\x00\x00\x00\x14is_superuser\x00on\x00"
                b"S\x00\x00\x00\x19server_encoding\x00UTF8\x00"
                b"S\x00\x00\x002server_version\x0015.20 (Debian 15.20-0+deb12u1)\x00"
                b"S\x00\x00\x00#session_authorization\x00postgres\x00"
                b"S\x00\x00\x00#standard_conforming_strings\x00on\x00"
                b"S\x00\x00\x00\x15TimeZone\x00Etc/UTC\x00"
                b'K\x00\x00\x00\x0c\x00\x00"/\x9buV\x98'
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (FRONTEND, b"Q\x00\x00\x00\x1edrop table if exists nope\x00"),
        (
            BACKEND,
            (
                b'N\x00\x00\x00oSNOTICE\x00VNOTICE\x00C00000\x00Mtable "nope" does not exist, '
                b"skipping\x00Ftablecmds.c\x00L1337\x00RDropErrorMsgNonExistent\x00\x00"
            ),
        ),
        (
            BACKEND,
            (b"C\x00\x00\x00\x0fDROP TABLE\x00Z\x00\x00\x00\x05I"),
        ),
        (FRONTEND, b"Q\x00\x00\x00\x0elisten ch\x00"),
        (
            BACKEND,
            (b"C\x00\x00\x00\x0bLISTEN\x00Z\x00\x00\x00\x05I"),
        ),
        (FRONTEND, b"Q\x00\x00\x00\x14notify ch, 'hi'\x00"),
        (
            BACKEND,
            (
                b"C\x00\x00\x00\x0bNOTIFY\x00"
                b'A\x00\x00\x00\x0e\x00\x00"/ch\x00hi\x00'
                b"Z\x00\x00\x00\x05I"
            ),
        ),
        (FRONTEND, b"Q\x00\x00\x00\nbegin\x00"),
        (
            BACKEND,
            (b"C\x00\x00\x00\nBEGIN\x00Z\x00\x00\x00\x05T"),
        ),
        (FRONTEND, b"Q\x00\x00\x00\rselect 1\x00"),
        (
            BACKEND,
            (
                b"T\x00\x00\x00!\x00\x01?column?\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00"
                b"\x04\xff\xff\xff\xff\x00\x00"
                b"D\x00\x00\x00\x0b\x00\x01\x00\x00\x00\x011"
                b"C\x00\x00\x00\rSELECT 1\x00"
                b"Z\x00\x00\x00\x05T"
            ),
        ),
        (FRONTEND, b"X\x00\x00\x00\x04"),
    ),
    frontend=("SSLRequest", "StartupMessage", *("Query",) * 5, "Terminate"),
    backend=(
        "SSLResponse",
        "AuthenticationOk",
        *("ParameterStatus",) * 13,
        "BackendKeyData",
        "ReadyForQuery",
        "NoticeResponse",
        "CommandComplete",
        "ReadyForQuery",
        "CommandComplete",
        "ReadyForQuery",
        "CommandComplete",
        "NotificationResponse",
        "ReadyForQuery",
        "CommandComplete",
        "ReadyForQuery",
        "RowDescription",
        "DataRow",
        "CommandComplete",
        "ReadyForQuery",
    ),
)

ALL: Final = {
    "psql_select_1": PSQL_SELECT_1,
    "psql_list_tables": PSQL_LIST_TABLES,
    "psql_copy_in": PSQL_COPY_IN,
    "psql_copy_out": PSQL_COPY_OUT,
    "psql_error": PSQL_ERROR,
    "pgbench_prepared_setup": PGBENCH_PREPARED_SETUP,
    "pgbench_prepared": PGBENCH_PREPARED,
    "asyncpg_extended": ASYNCPG_EXTENDED,
    "asyncpg_cancel": ASYNCPG_CANCEL,
    "psql_notice_notify_transaction": PSQL_NOTICE_NOTIFY_TRANSACTION,
}
