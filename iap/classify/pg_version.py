"""PostgreSQL server-version gates: syntax pglast reads that the server's version does not.

Owns the versions: PARSER_VERSION (the grammar pglast reads), OLDEST_SUPPORTED (the default,
strictest reading), the tables of node types, node fields and SQL-syntax functions newer
than PostgreSQL 15 with the version that added each, numbers written in forms newer than the
server (0x1F, 1_000), and the reason given for them. The walker (postgres.py) applies the
gates to the nodes it visits; a statement with newer syntax is unknown. Must never do I/O,
never decide anything but "newer than the server", and never read a newer grammar as the
server's: a server newer than pglast's grammar is read with pglast's grammar (known gap).
"""

from __future__ import annotations

import re
from typing import Any

from pglast.parser import ParseError, get_postgresql_version, scan

from iap.classify.pg_tree import Node

# pglast reads a newer grammar than the servers the gateway fronts. Syntax added after the
# server's version means something else there: a SQL/JSON function (json_value(...), JSON(...),
# JSON_ARRAY(...)) or merge_action() is a call of whatever function has that name, SYSTEM_USER
# a column; the rest is a syntax error. A statement using such syntax is unknown when the
# server is older than it. Server versions are PostgreSQL's server_version_num (150018).


def _version_number(version: tuple[int, int]) -> int:
    return version[0] * 10000 + version[1]


PARSER_VERSION = _version_number(get_postgresql_version())  # the grammar pglast reads
OLDEST_SUPPORTED = 150000  # the oldest server the gateway fronts: the default, strictest reading

# Node types of syntax newer than PostgreSQL 15: (version that added it, the syntax).
_NEWER_NODES: dict[str, tuple[int, str]] = {
    "JsonIsPredicate": (160000, "IS JSON"),
    "JsonObjectConstructor": (160000, "JSON_OBJECT(...)"),
    "JsonArrayConstructor": (160000, "JSON_ARRAY(...)"),
    "JsonArrayQueryConstructor": (160000, "JSON_ARRAY(query)"),
    "JsonObjectAgg": (160000, "JSON_OBJECTAGG(...)"),
    "JsonArrayAgg": (160000, "JSON_ARRAYAGG(...)"),
    "JsonParseExpr": (170000, "JSON(...)"),
    "JsonScalarExpr": (170000, "JSON_SCALAR(...)"),
    "JsonSerializeExpr": (170000, "JSON_SERIALIZE(...)"),
    "JsonFuncExpr": (170000, "JSON_EXISTS/JSON_QUERY/JSON_VALUE(...)"),
    "JsonTable": (170000, "JSON_TABLE(...)"),
    "MergeSupportFunc": (170000, "merge_action()"),
    "ReturningOption": (180000, "RETURNING WITH (OLD/NEW AS ...)"),
}
# Fields of older node types that only newer syntax sets: (field, value or None for any,
# version that added it, the syntax).
_NEWER_FIELDS: dict[str, tuple[tuple[str, Any, int, str], ...]] = {
    "MergeStmt": (("returningClause", None, 170000, "MERGE ... RETURNING"),),
    "MergeWhenClause": (
        ("matchKind", "MERGE_WHEN_NOT_MATCHED_BY_SOURCE", 170000, "WHEN NOT MATCHED BY SOURCE"),
    ),
    "ColumnDef": (("storage_name", None, 160000, "STORAGE in a column definition"),),
    "XmlSerialize": (("indent", True, 160000, "XMLSERIALIZE(... INDENT)"),),
    "AlterTableCmd": (("subtype", "AT_SetExpression", 170000, "ALTER COLUMN ... SET EXPRESSION"),),
    "IndexStmt": (("iswithoutoverlaps", True, 180000, "WITHOUT OVERLAPS"),),
    "ATAlterConstraint": (
        ("alterEnforceability", True, 180000, "ALTER CONSTRAINT ... [NOT] ENFORCED"),
        ("alterInheritability", True, 180000, "ALTER CONSTRAINT ... [NO] INHERIT"),
    ),
    "Constraint": (
        ("generated_kind", "v", 180000, "VIRTUAL generated columns"),
        ("contype", "CONSTR_ATTR_ENFORCED", 180000, "ENFORCED"),
        ("contype", "CONSTR_ATTR_NOT_ENFORCED", 180000, "NOT ENFORCED"),
        ("without_overlaps", True, 180000, "WITHOUT OVERLAPS"),
        ("pk_with_period", True, 180000, "PERIOD in a foreign key"),
        ("fk_with_period", True, 180000, "PERIOD in a foreign key"),
    ),
}
# SQL-syntax functions newer than PostgreSQL 15: name: (version, the syntax, its arity or None).
_NEWER_SQL_FUNCTIONS: dict[str, tuple[int, str, int | None]] = {
    "system_user": (160000, "SYSTEM_USER", None),
    "timezone": (170000, "AT LOCAL", 1),
}
_NUMBER_FORMS_SINCE = 160000  # 0x1F, 0o17, 0b101, 1_000: in PostgreSQL 15 a syntax error
# Where a number may be written in such a form, found fast (a literal first character lets the
# regular expression engine skip ahead), before the scanner confirms it.
_DIGIT_AFTER_UNDERSCORE = re.compile(r"_[0-9]")
_RADIX_PREFIX = re.compile(r"0[xXoObB]")


def _newer_syntax(what: str, since: int, server_version: int) -> str:
    """The reason for syntax the server's version reads differently from pglast's grammar."""
    return (
        f"{what} is syntax of PostgreSQL {since // 10000} and later (read here with the"
        f" PostgreSQL {PARSER_VERSION // 10000} grammar); the server runs PostgreSQL"
        f" {server_version // 10000}, which reads it differently or not at all"
    )


def _newer_node_syntax(node_type: str, body: Node, server_version: int) -> str | None:
    """Why a node is syntax newer than the server, or None."""
    node_since = _NEWER_NODES.get(node_type)
    if node_since is not None and server_version < node_since[0]:
        return _newer_syntax(node_since[1], node_since[0], server_version)
    for field, value, since, what in _NEWER_FIELDS.get(node_type, ()):
        found = body.get(field)
        if server_version < since and found is not None and value in (None, found):
            return _newer_syntax(what, since, server_version)
    if (
        node_type == "Constraint"
        and server_version < 180000
        and body.get("contype") in ("CONSTR_CHECK", "CONSTR_FOREIGN")
        and body.get("is_enforced") is not True
    ):
        return _newer_syntax("NOT ENFORCED", 180000, server_version)
    return None


def _may_have_number_form(sql: str) -> bool:
    """A number that starts a word and holds an underscore (1_000, 1.5_0) or starts 0x/0o/0b."""
    found = _RADIX_PREFIX.search(sql)
    while found is not None:
        if _starts_word(sql, found.start()):
            return True
        found = _RADIX_PREFIX.search(sql, found.end())
    found = _DIGIT_AFTER_UNDERSCORE.search(sql)
    while found is not None:
        start = found.start()
        while start and (sql[start - 1].isdigit() or sql[start - 1] in ".eE"):
            start -= 1  # back over the digits, point and exponent before the underscore
        if (sql[start].isdigit() or sql[start] == ".") and _starts_word(sql, start):
            return True
        found = _DIGIT_AFTER_UNDERSCORE.search(sql, found.end())
    return False


def _starts_word(sql: str, position: int) -> bool:
    before = sql[position - 1] if position else " "
    return not (before.isalnum() or before in "_$")


def _newer_number_form(sql: str, server_version: int) -> str | None:
    """Why a number is written in a form newer than the server (0x1F, 1_000), or None."""
    if server_version >= _NUMBER_FORMS_SINCE or not _may_have_number_form(sql):
        return None
    try:
        tokens = scan(sql)
    except ParseError:
        return None  # the parser reports it
    for token in tokens:
        if token.name in ("ICONST", "FCONST"):
            text = sql[token.start : token.end + 1].lower()
            if "_" in text or text.startswith(("0x", "0o", "0b")):
                what = f"the number {text}"
                return _newer_syntax(what, _NUMBER_FORMS_SINCE, server_version)
    return None
