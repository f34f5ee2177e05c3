"""Byte captures of a real MariaDB server, replayed by the test_mysql_*.py unit tests.

Recorded once on 2026-11-23 from the machine's MariaDB 10.11.19 (10.11.19-MariaDB-0+deb12u1,
Debian 12) on 127.0.0.1:3306, max_allowed_packet 16 MiB, local_infile ON, by a throwaway
Python script (not part of the project). User root@127.0.0.1 with an empty password
(mysql_native_password), so every auth response is empty. Every value below is whole
packets (4-byte header included), split one packet per line group for reading.

Two clients were recorded:

- pymysql 1.2.4 (Python 3.11.7), ``pymysql.connect(host="127.0.0.1", user="root",
  password="", database=...)``, recorded by wrapping ``Connection._write_bytes`` and
  ``_read_bytes``. Its capabilities are pymysql's CLIENT.CAPABILITIES (LONG_PASSWORD,
  LONG_FLAG, PROTOCOL_41, TRANSACTIONS, SECURE_CONNECTION, MULTI_RESULTS, PLUGIN_AUTH,
  PLUGIN_AUTH_LENENC_CLIENT_DATA, CONNECT_ATTRS), plus CONNECT_WITH_DB with a database.
- A raw-socket client that read the server's HandshakeV10, sent the HandshakeResponse41 in
  ``LOGIN_*`` (built with ``protocols.mysql.messages.HandshakeResponse``, flags ``CAPS_EOF``
  or ``CAPS_DEPRECATE_EOF``, database test, charset 45 utf8mb4_general_ci), then sent each
  command as written in ``Exchange.sent`` and recorded all the server sent until it had
  been quiet for 0.4 s (0.8 s for the pipelined one). Two sessions: ``EOF_SESSION`` without
  CLIENT_DEPRECATE_EOF and ``DEPRECATE_EOF_SESSION`` with it; each ran, in order:

  - create_table: ``CREATE TEMPORARY TABLE t (id INT PRIMARY KEY, name VARCHAR(20))``
  - insert: ``INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, NULL)``
  - select_union: ``SELECT 1 AS a, 'x' AS b UNION SELECT 2, NULL`` (text result, 2 rows)
  - update: ``UPDATE t SET name = 'n' WHERE id < 3`` (OK, 2 affected rows)
  - syntax_error: ``SELEC 1`` (ERR 1064)
  - multi_select: ``SELECT 1; SELECT 2`` (CLIENT_MULTI_STATEMENTS: two result sets)
  - multi_update_select: ``UPDATE t SET id = id + 10 WHERE id = 3; SELECT id FROM t WHERE
    id > 10`` (an OK with MORE_RESULTS_EXISTS, then a result set of 1 row)
  - prepare: COM_STMT_PREPARE ``SELECT id, ? FROM (SELECT 1 AS id) t WHERE id = ?``
    (2 params, 2 columns)
  - execute: COM_STMT_EXECUTE of that statement, no cursor, params bound as two LONGLONGs
    7 and 1 (binary result, 1 row)
  - prepare_cursor: COM_STMT_PREPARE ``SELECT id, name FROM t ORDER BY id`` (0 params)
  - execute_cursor: COM_STMT_EXECUTE of it with CURSOR_TYPE_READ_ONLY (column definitions
    only; the terminator's status has SERVER_STATUS_CURSOR_EXISTS)
  - fetch_two_rows, fetch_last_row: COM_STMT_FETCH of 2 rows, twice (the second returns
    the one row left, status LAST_ROW_SENT)
  - close_cursor: COM_STMT_CLOSE (no answer: ``answer`` is empty)
  - ping: COM_PING
  - field_list: COM_FIELD_LIST of table t
  - statistics: COM_STATISTICS (a bare string)
  - local_infile: ``LOAD DATA LOCAL INFILE '/nonexistent.csv' INTO TABLE t`` (the client
    had set CLIENT_LOCAL_FILES: the server asks for the file with 0xFB; the script then
    sent an empty packet, seq 2, and the server answered with the OK in
    ``local_infile_empty_reply``)
  - pipelined: five commands in one write: ``SELECT id FROM t ORDER BY id`` (3 rows),
    COM_STMT_CLOSE of the first statement (no answer), ``SELEC 2`` (ERR), COM_PING, and
    ``UPDATE t SET name = 'p'`` (3 affected rows); the answer is everything the server sent.

Connection ids, scrambles and statement ids are the ones of that day's server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Exchange:
    """Whole packets the client sent, and the server's whole answer to them."""

    sent: bytes
    answer: bytes


# The server's first packet, as pymysql received it logging in with database test.
HANDSHAKE_V10: Final = (
    b"d\x00\x00\x00\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00U\x01\x00\x00<3)u4@'@\x00\xfe\xf7-\x02"
    b"\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00J6lA<LG`.`{i\x00mysql_native_passwo"
    b"rd\x00"
)
# pymysql's HandshakeResponse41 with database="test" (CONNECT_WITH_DB set).
PYMYSQL_LOGIN_WITH_DB: Final = (
    b"w\x00\x00\x01\r\xa2:\x00\xff\xff\xff\x00-\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00root\x00\x00test\x00mysql_native_password\x005"
    b"\x0c_client_name\x07pymysql\x0f_client_version\x051.2.4\x04_pid\x048618"
)
# The server's OK to that login (seq 2).
PYMYSQL_LOGIN_OK: Final = b"\x07\x00\x00\x02\x00\x00\x00\x02\x00\x00\x00"
# The server's first packet of the second pymysql login.
PYMYSQL_HANDSHAKE_WITHOUT_DB: Final = (
    b"d\x00\x00\x00\n5.5.5-10.11.19-MariaDB-0+deb12u1\x00V\x01\x00\x00K{NO&ib0\x00\xfe\xf7-\x02"
    b"\x00\xff\x81\x15\x00\x00\x00\x00\x00\x00\x1d\x00\x00\x00h;-oiAI*6qV:\x00mysql_native_passwo"
    b"rd\x00"
)
# pymysql's HandshakeResponse41 with database=None (CONNECT_WITH_DB clear).
PYMYSQL_LOGIN_WITHOUT_DB: Final = (
    b"r\x00\x00\x01\x05\xa2:\x00\xff\xff\xff\x00-\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00root\x00\x00mysql_native_password\x005\x0c_clie"
    b"nt_name\x07pymysql\x0f_client_version\x051.2.4\x04_pid\x048618"
)
# pymysql's first command after logging in: COM_QUERY "SET NAMES utf8mb4".
PYMYSQL_SET_NAMES: Final = b"\x12\x00\x00\x00\x03SET NAMES utf8mb4"

CAPS_EOF: Final = 0x002FA28D
"""LONG_PASSWORD, LONG_FLAG, CONNECT_WITH_DB, LOCAL_FILES, PROTOCOL_41, TRANSACTIONS,
SECURE_CONNECTION, MULTI_STATEMENTS, MULTI_RESULTS, PS_MULTI_RESULTS, PLUGIN_AUTH,
PLUGIN_AUTH_LENENC_CLIENT_DATA."""
CAPS_DEPRECATE_EOF: Final = 0x012FA28D
"""CAPS_EOF and DEPRECATE_EOF."""

# The raw client's HandshakeResponse41 with CAPS_EOF.
LOGIN_EOF: Final = (
    b"A\x00\x00\x01\x8d\xa2/\x00\x00\x00\x00\x01-\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00root\x00\x00test\x00mysql_native_password\x00"
)
# The raw client's HandshakeResponse41 with CAPS_DEPRECATE_EOF.
LOGIN_DEPRECATE_EOF: Final = (
    b"A\x00\x00\x01\x8d\xa2/\x01\x00\x00\x00\x01-\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00root\x00\x00test\x00mysql_native_password\x00"
)

EOF_SESSION: Final = {
    "create_table": Exchange(
        sent=b"@\x00\x00\x00\x03CREATE TEMPORARY TABLE t (id INT PRIMARY KEY, name VARCHAR(20))",
        answer=b"\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00",
    ),
    "insert": Exchange(
        sent=b"7\x00\x00\x00\x03INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, NULL)",
        answer=b".\x00\x00\x01\x00\x03\x00\x02\x00\x00\x00&Records: 3  Duplicates: 0  Warnings: 0",
    ),
    "select_union": Exchange(
        sent=b"-\x00\x00\x00\x03SELECT 1 AS a, 'x' AS b UNION SELECT 2, NULL",
        answer=(
            b"\x01\x00\x00\x01\x02"
            b"\x18\x00\x00\x02\x03def\x00\x00\x00\x01a\x01a\x0c?\x00\x02\x00\x00\x00\x03\x01\x00"
            b"\x00\x00\x00"
            b"\x18\x00\x00\x03\x03def\x00\x00\x00\x01b\x01b\x0c-\x00\x04\x00\x00\x00\xfd\x00\x00"
            b"\x00\x00\x00"
            b'\x05\x00\x00\x04\xfe\x00\x00"\x00'
            b"\x04\x00\x00\x05\x011\x01x"
            b"\x03\x00\x00\x06\x012\xfb"
            b'\x05\x00\x00\x07\xfe\x00\x00"\x00'
        ),
    ),
    "update": Exchange(
        sent=b"%\x00\x00\x00\x03UPDATE t SET name = 'n' WHERE id < 3",
        answer=(
            b"0\x00\x00\x01\x00\x02\x00\x02\x00\x00\x00(Rows matched: 2  Changed: 2  Warnings: 0"
        ),
    ),
    "syntax_error": Exchange(
        sent=b"\x08\x00\x00\x00\x03SELEC 1",
        answer=(
            b"\xa4\x00\x00\x01\xff(\x04#42000You have an error in your SQL syntax; check the manu"
            b"al that corresponds to your MariaDB server version for the right syntax to use near"
            b" 'SELEC 1' at line 1"
        ),
    ),
    "multi_select": Exchange(
        sent=b"\x13\x00\x00\x00\x03SELECT 1; SELECT 2",
        answer=(
            b"\x01\x00\x00\x01\x01"
            b"\x17\x00\x00\x02\x03def\x00\x00\x00\x011\x00\x0c?\x00\x01\x00\x00\x00\x03\x81\x00"
            b"\x00\x00\x00"
            b"\x05\x00\x00\x03\xfe\x00\x00\n\x00"
            b"\x02\x00\x00\x04\x011"
            b"\x05\x00\x00\x05\xfe\x00\x00\n\x00"
            b"\x01\x00\x00\x06\x01"
            b"\x17\x00\x00\x07\x03def\x00\x00\x00\x012\x00\x0c?\x00\x01\x00\x00\x00\x03\x81\x00"
            b"\x00\x00\x00"
            b"\x05\x00\x00\x08\xfe\x00\x00\x02\x00"
            b"\x02\x00\x00\t\x012"
            b"\x05\x00\x00\n\xfe\x00\x00\x02\x00"
        ),
    ),
    "multi_update_select": Exchange(
        sent=(
            b"G\x00\x00\x00\x03UPDATE t SET id = id + 10 WHERE id = 3; SELECT id FROM t WHERE id "
            b"> 10"
        ),
        answer=(
            b"0\x00\x00\x01\x00\x01\x00\n\x00\x00\x00(Rows matched: 1  Changed: 1  Warnings: 0"
            b"\x01\x00\x00\x02\x01"
            b" \x00\x00\x03\x03def\x04test\x01t\x01t\x02id\x02id\x0c?\x00\x0b\x00\x00\x00\x03\x03"
            b"P\x00\x00\x00"
            b"\x05\x00\x00\x04\xfe\x00\x00\x02\x00"
            b"\x03\x00\x00\x05\x0213"
            b"\x05\x00\x00\x06\xfe\x00\x00\x02\x00"
        ),
    ),
    "prepare": Exchange(
        sent=b"2\x00\x00\x00\x16SELECT id, ? FROM (SELECT 1 AS id) t WHERE id = ?",
        answer=(
            b"\x0c\x00\x00\x01\x00\x01\x00\x00\x00\x02\x00\x02\x00\x00\x00\x00"
            b"\x17\x00\x00\x02\x03def\x00\x00\x00\x01?\x00\x0c?\x00\x00\x00\x00\x00\x06\x80\x00"
            b"\x00\x00\x00"
            b"\x17\x00\x00\x03\x03def\x00\x00\x00\x01?\x00\x0c?\x00\x00\x00\x00\x00\x06\x80\x00"
            b"\x00\x00\x00"
            b"\x05\x00\x00\x04\xfe\x00\x00\x02\x00"
            b"\x1b\x00\x00\x05\x03def\x00\x01t\x00\x02id\x02id\x0c?\x00\x01\x00\x00\x00\x03\x01"
            b"\x00\x00\x00\x00"
            b"\x17\x00\x00\x06\x03def\x00\x00\x00\x01?\x00\x0c?\x00\x00\x00\x00\x00\x06\x80\x00"
            b"\x00\x00\x00"
            b"\x05\x00\x00\x07\xfe\x00\x00\x02\x00"
        ),
    ),
    "execute": Exchange(
        sent=(
            b" \x00\x00\x00\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00\x08\x00\x07"
            b"\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00"
        ),
        answer=(
            b"\x01\x00\x00\x01\x02"
            b"\x1b\x00\x00\x02\x03def\x00\x01t\x00\x02id\x02id\x0c?\x00\x01\x00\x00\x00\x03\x01"
            b"\x00\x00\x00\x00"
            b"\x17\x00\x00\x03\x03def\x00\x00\x00\x01?\x00\x0c?\x00\x15\x00\x00\x00\x08\x81\x00"
            b"\x00\x00\x00"
            b"\x05\x00\x00\x04\xfe\x00\x00\x02\x00"
            b"\x0e\x00\x00\x05\x00\x00\x01\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00"
            b"\x05\x00\x00\x06\xfe\x00\x00\x02\x00"
        ),
    ),
    "prepare_cursor": Exchange(
        sent=b"#\x00\x00\x00\x16SELECT id, name FROM t ORDER BY id",
        answer=(
            b"\x0c\x00\x00\x01\x00\x02\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00"
            b" \x00\x00\x02\x03def\x04test\x01t\x01t\x02id\x02id\x0c?\x00\x0b\x00\x00\x00\x03\x03"
            b"P\x00\x00\x00"
            b"$\x00\x00\x03\x03def\x04test\x01t\x01t\x04name\x04name\x0c-\x00P\x00\x00\x00\xfd"
            b"\x00\x00\x00\x00\x00"
            b"\x05\x00\x00\x04\xfe\x00\x00\x02\x00"
        ),
    ),
    "execute_cursor": Exchange(
        sent=b"\n\x00\x00\x00\x17\x02\x00\x00\x00\x01\x01\x00\x00\x00",
        answer=(
            b"\x01\x00\x00\x01\x02"
            b" \x00\x00\x02\x03def\x04test\x01t\x01t\x02id\x02id\x0c?\x00\x0b\x00\x00\x00\x03\x01"
            b"\x10\x00\x00\x00"
            b"$\x00\x00\x03\x03def\x04test\x01t\x01t\x04name\x04name\x0c-\x00P\x00\x00\x00\xfd"
            b"\x00\x00\x00\x00\x00"
            b"\x05\x00\x00\x04\xfe\x00\x00b\x00"
        ),
    ),
    "fetch_two_rows": Exchange(
        sent=b"\t\x00\x00\x00\x1c\x02\x00\x00\x00\x02\x00\x00\x00",
        answer=(
            b"\x08\x00\x00\x01\x00\x00\x01\x00\x00\x00\x01n"
            b"\x08\x00\x00\x02\x00\x00\x02\x00\x00\x00\x01n"
            b"\x05\x00\x00\x03\xfe\x00\x00B\x00"
        ),
    ),
    "fetch_last_row": Exchange(
        sent=b"\t\x00\x00\x00\x1c\x02\x00\x00\x00\x02\x00\x00\x00",
        answer=(b"\x06\x00\x00\x01\x00\x08\r\x00\x00\x00\x05\x00\x00\x02\xfe\x00\x00\x82\x00"),
    ),
    "close_cursor": Exchange(
        sent=b"\x05\x00\x00\x00\x19\x02\x00\x00\x00",
        answer=b"",
    ),
    "ping": Exchange(
        sent=b"\x01\x00\x00\x00\x0e",
        answer=b"\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00",
    ),
    "field_list": Exchange(
        sent=b"\x03\x00\x00\x00\x04t\x00",
        answer=(
            b'"\x00\x00\x01\x03def\x04test\x01t\x01t\x02id\x02id\x0c?\x00\x0b\x00\x00\x00\x03\x03'
            b"P\x00\x00\x00\x010"
            b"%\x00\x00\x02\x03def\x04test\x01t\x01t\x04name\x04name\x0c-\x00P\x00\x00\x00\xfd"
            b"\x00\x00\x00\x00\x00\xfb"
            b"\x05\x00\x00\x03\xfe\x00\x00\x02\x00"
        ),
    ),
    "statistics": Exchange(
        sent=b"\x01\x00\x00\x00\t",
        answer=(
            b"u\x00\x00\x01Uptime: 1234  Threads: 3  Questions: 1142  Slow queries: 0  Opens: 56 "
            b" Open tables: 18  Queries per second avg: 0.925"
        ),
    ),
    "local_infile": Exchange(
        sent=b"7\x00\x00\x00\x03LOAD DATA LOCAL INFILE '/nonexistent.csv' INTO TABLE t",
        answer=b"\x11\x00\x00\x01\xfb/nonexistent.csv",
    ),
    "local_infile_empty_reply": Exchange(
        sent=b"\x00\x00\x00\x02",
        answer=(
            b"7\x00\x00\x03\x00\x00\x00\x02\x00\x00\x00/Records: 0  Deleted: 0  Skipped: 0  Warni"
            b"ngs: 0"
        ),
    ),
    "pipelined": Exchange(
        sent=(
            b"\x1d\x00\x00\x00\x03SELECT id FROM t ORDER BY id"
            b"\x05\x00\x00\x00\x19\x01\x00\x00\x00"
            b"\x08\x00\x00\x00\x03SELEC 2"
            b"\x01\x00\x00\x00\x0e"
            b"\x18\x00\x00\x00\x03UPDATE t SET name = 'p'"
        ),
        answer=(
            b"\x01\x00\x00\x01\x01"
            b" \x00\x00\x02\x03def\x04test\x01t\x01t\x02id\x02id\x0c?\x00\x0b\x00\x00\x00\x03\x03"
            b"P\x00\x00\x00"
            b'\x05\x00\x00\x03\xfe\x00\x00"\x00'
            b"\x02\x00\x00\x04\x011"
            b"\x02\x00\x00\x05\x012"
            b"\x03\x00\x00\x06\x0213"
            b'\x05\x00\x00\x07\xfe\x00\x00"\x00'
            b"\xa4\x00\x00\x01\xff(\x04#42000You have an error in your SQL syntax; check the manu"
            b"al that corresponds to your MariaDB server version for the right syntax to use near"
            b" 'SELEC 2' at line 1"
            b"\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00"
            b'0\x00\x00\x01\x00\x03\x00"\x00\x00\x00(Rows matched: 3  Changed: 3  Warnings: 0'
        ),
    ),
}

DEPRECATE_EOF_SESSION: Final = {
    "create_table": Exchange(
        sent=b"@\x00\x00\x00\x03CREATE TEMPORARY TABLE t (id INT PRIMARY KEY, name VARCHAR(20))",
        answer=b"\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00",
    ),
    "insert": Exchange(
        sent=b"7\x00\x00\x00\x03INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, NULL)",
        answer=b".\x00\x00\x01\x00\x03\x00\x02\x00\x00\x00&Records: 3  Duplicates: 0  Warnings: 0",
    ),
    "select_union": Exchange(
        sent=b"-\x00\x00\x00\x03SELECT 1 AS a, 'x' AS b UNION SELECT 2, NULL",
        answer=(
            b"\x01\x00\x00\x01\x02"
            b"\x18\x00\x00\x02\x03def\x00\x00\x00\x01a\x01a\x0c?\x00\x02\x00\x00\x00\x03\x01\x00"
            b"\x00\x00\x00"
            b"\x18\x00\x00\x03\x03def\x00\x00\x00\x01b\x01b\x0c-\x00\x04\x00\x00\x00\xfd\x00\x00"
            b"\x00\x00\x00"
            b"\x04\x00\x00\x04\x011\x01x"
            b"\x03\x00\x00\x05\x012\xfb"
            b'\x07\x00\x00\x06\xfe\x00\x00"\x00\x00\x00'
        ),
    ),
    "update": Exchange(
        sent=b"%\x00\x00\x00\x03UPDATE t SET name = 'n' WHERE id < 3",
        answer=(
            b"0\x00\x00\x01\x00\x02\x00\x02\x00\x00\x00(Rows matched: 2  Changed: 2  Warnings: 0"
        ),
    ),
    "syntax_error": Exchange(
        sent=b"\x08\x00\x00\x00\x03SELEC 1",
        answer=(
            b"\xa4\x00\x00\x01\xff(\x04#42000You have an error in your SQL syntax; check the manu"
            b"al that corresponds to your MariaDB server version for the right syntax to use near"
            b" 'SELEC 1' at line 1"
        ),
    ),
    "multi_select": Exchange(
        sent=b"\x13\x00\x00\x00\x03SELECT 1; SELECT 2",
        answer=(
            b"\x01\x00\x00\x01\x01"
            b"\x17\x00\x00\x02\x03def\x00\x00\x00\x011\x00\x0c?\x00\x01\x00\x00\x00\x03\x81\x00"
            b"\x00\x00\x00"
            b"\x02\x00\x00\x03\x011"
            b"\x07\x00\x00\x04\xfe\x00\x00\n\x00\x00\x00"
            b"\x01\x00\x00\x05\x01"
            b"\x17\x00\x00\x06\x03def\x00\x00\x00\x012\x00\x0c?\x00\x01\x00\x00\x00\x03\x81\x00"
            b"\x00\x00\x00"
            b"\x02\x00\x00\x07\x012"
            b"\x07\x00\x00\x08\xfe\x00\x00\x02\x00\x00\x00"
        ),
    ),
    "multi_update_select": Exchange(
        sent=(
            b"G\x00\x00\x00\x03UPDATE t SET id = id + 10 WHERE id = 3; SELECT id FROM t WHERE id "
            b"> 10"
        ),
        answer=(
            b"0\x00\x00\x01\x00\x01\x00\n\x00\x00\x00(Rows matched: 1  Changed: 1  Warnings: 0"
            b"\x01\x00\x00\x02\x01"
            b" \x00\x00\x03\x03def\x04test\x01t\x01t\x02id\x02id\x0c?\x00\x0b\x00\x00\x00\x03\x03"
            b"P\x00\x00\x00"
            b"\x03\x00\x00\x04\x0213"
            b"\x07\x00\x00\x05\xfe\x00\x00\x02\x00\x00\x00"
        ),
    ),
    "prepare": Exchange(
        sent=b"2\x00\x00\x00\x16SELECT id, ? FROM (SELECT 1 AS id) t WHERE id = ?",
        answer=(
            b"\x0c\x00\x00\x01\x00\x05\x00\x00\x00\x02\x00\x02\x00\x00\x00\x00"
            b"\x17\x00\x00\x02\x03def\x00\x00\x00\x01?\x00\x0c?\x00\x00\x00\x00\x00\x06\x80\x00"
            b"\x00\x00\x00"
            b"\x17\x00\x00\x03\x03def\x00\x00\x00\x01?\x00\x0c?\x00\x00\x00\x00\x00\x06\x80\x00"
            b"\x00\x00\x00"
            b"\x1b\x00\x00\x04\x03def\x00\x01t\x00\x02id\x02id\x0c?\x00\x01\x00\x00\x00\x03\x01"
            b"\x00\x00\x00\x00"
            b"\x17\x00\x00\x05\x03def\x00\x00\x00\x01?\x00\x0c?\x00\x00\x00\x00\x00\x06\x80\x00"
            b"\x00\x00\x00"
        ),
    ),
    "execute": Exchange(
        sent=(
            b" \x00\x00\x00\x17\x05\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\x08\x00\x08\x00\x07"
            b"\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00"
        ),
        answer=(
            b"\x01\x00\x00\x01\x02"
            b"\x1b\x00\x00\x02\x03def\x00\x01t\x00\x02id\x02id\x0c?\x00\x01\x00\x00\x00\x03\x01"
            b"\x00\x00\x00\x00"
            b"\x17\x00\x00\x03\x03def\x00\x00\x00\x01?\x00\x0c?\x00\x15\x00\x00\x00\x08\x81\x00"
            b"\x00\x00\x00"
            b"\x0e\x00\x00\x04\x00\x00\x01\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00"
            b"\x07\x00\x00\x05\xfe\x00\x00\x02\x00\x00\x00"
        ),
    ),
    "prepare_cursor": Exchange(
        sent=b"#\x00\x00\x00\x16SELECT id, name FROM t ORDER BY id",
        answer=(
            b"\x0c\x00\x00\x01\x00\x06\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00"
            b" \x00\x00\x02\x03def\x04test\x01t\x01t\x02id\x02id\x0c?\x00\x0b\x00\x00\x00\x03\x03"
            b"P\x00\x00\x00"
            b"$\x00\x00\x03\x03def\x04test\x01t\x01t\x04name\x04name\x0c-\x00P\x00\x00\x00\xfd"
            b"\x00\x00\x00\x00\x00"
        ),
    ),
    "execute_cursor": Exchange(
        sent=b"\n\x00\x00\x00\x17\x06\x00\x00\x00\x01\x01\x00\x00\x00",
        answer=(
            b"\x01\x00\x00\x01\x02"
            b" \x00\x00\x02\x03def\x04test\x01t\x01t\x02id\x02id\x0c?\x00\x0b\x00\x00\x00\x03\x01"
            b"\x10\x00\x00\x00"
            b"$\x00\x00\x03\x03def\x04test\x01t\x01t\x04name\x04name\x0c-\x00P\x00\x00\x00\xfd"
            b"\x00\x00\x00\x00\x00"
            b"\x07\x00\x00\x04\xfe\x00\x00b\x00\x00\x00"
        ),
    ),
    "fetch_two_rows": Exchange(
        sent=b"\t\x00\x00\x00\x1c\x06\x00\x00\x00\x02\x00\x00\x00",
        answer=(
            b"\x08\x00\x00\x01\x00\x00\x01\x00\x00\x00\x01n"
            b"\x08\x00\x00\x02\x00\x00\x02\x00\x00\x00\x01n"
            b"\x07\x00\x00\x03\xfe\x00\x00B\x00\x00\x00"
        ),
    ),
    "fetch_last_row": Exchange(
        sent=b"\t\x00\x00\x00\x1c\x06\x00\x00\x00\x02\x00\x00\x00",
        answer=(
            b"\x06\x00\x00\x01\x00\x08\r\x00\x00\x00\x07\x00\x00\x02\xfe\x00\x00\x82\x00\x00\x00"
        ),
    ),
    "close_cursor": Exchange(
        sent=b"\x05\x00\x00\x00\x19\x06\x00\x00\x00",
        answer=b"",
    ),
    "ping": Exchange(
        sent=b"\x01\x00\x00\x00\x0e",
        answer=b"\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00",
    ),
    "field_list": Exchange(
        sent=b"\x03\x00\x00\x00\x04t\x00",
        answer=(
            b'"\x00\x00\x01\x03def\x04test\x01t\x01t\x02id\x02id\x0c?\x00\x0b\x00\x00\x00\x03\x03'
            b"P\x00\x00\x00\x010"
            b"%\x00\x00\x02\x03def\x04test\x01t\x01t\x04name\x04name\x0c-\x00P\x00\x00\x00\xfd"
            b"\x00\x00\x00\x00\x00\xfb"
            b"\x07\x00\x00\x03\xfe\x00\x00\x02\x00\x00\x00"
        ),
    ),
    "statistics": Exchange(
        sent=b"\x01\x00\x00\x00\t",
        answer=(
            b"u\x00\x00\x01Uptime: 1242  Threads: 3  Questions: 1165  Slow queries: 0  Opens: 57 "
            b" Open tables: 18  Queries per second avg: 0.938"
        ),
    ),
    "local_infile": Exchange(
        sent=b"7\x00\x00\x00\x03LOAD DATA LOCAL INFILE '/nonexistent.csv' INTO TABLE t",
        answer=b"\x11\x00\x00\x01\xfb/nonexistent.csv",
    ),
    "local_infile_empty_reply": Exchange(
        sent=b"\x00\x00\x00\x02",
        answer=(
            b"7\x00\x00\x03\x00\x00\x00\x02\x00\x00\x00/Records: 0  Deleted: 0  Skipped: 0  Warni"
            b"ngs: 0"
        ),
    ),
    "pipelined": Exchange(
        sent=(
            b"\x1d\x00\x00\x00\x03SELECT id FROM t ORDER BY id"
            b"\x05\x00\x00\x00\x19\x05\x00\x00\x00"
            b"\x08\x00\x00\x00\x03SELEC 2"
            b"\x01\x00\x00\x00\x0e"
            b"\x18\x00\x00\x00\x03UPDATE t SET name = 'p'"
        ),
        answer=(
            b"\x01\x00\x00\x01\x01"
            b" \x00\x00\x02\x03def\x04test\x01t\x01t\x02id\x02id\x0c?\x00\x0b\x00\x00\x00\x03\x03"
            b"P\x00\x00\x00"
            b"\x02\x00\x00\x03\x011"
            b"\x02\x00\x00\x04\x012"
            b"\x03\x00\x00\x05\x0213"
            b'\x07\x00\x00\x06\xfe\x00\x00"\x00\x00\x00'
            b"\xa4\x00\x00\x01\xff(\x04#42000You have an error in your SQL syntax; check the manu"
            b"al that corresponds to your MariaDB server version for the right syntax to use near"
            b" 'SELEC 2' at line 1"
            b"\x07\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00"
            b'0\x00\x00\x01\x00\x03\x00"\x00\x00\x00(Rows matched: 3  Changed: 3  Warnings: 0'
        ),
    ),
}

NATIVE_PASSWORD_HASHES: Final = {
    b"secret": "*14E65567ABDB5135D0CFD9A70B3032C179A49EE7",
    "pässwörd".encode(): "*0225EC5004ABB0B8CB557541FE53DE1A5D8CC825",
}
"""What the server stores for mysql_native_password: ``SELECT PASSWORD('secret'),
PASSWORD('pässwörd')`` run by the mysql 15.1 client with --default-character-set=utf8mb4 on the
same server and day (``*`` and upper-case hex of SHA1(SHA1(password)))."""
