"""PostgreSQL classification: a query string -> Classification, read with the server's parser.

Owns reading PostgreSQL SQL (pglast, i.e. libpg_query: the server's own grammar) and deciding
the class of each statement by walking its WHOLE parse tree; the class of session settings
(SET, set_config, startup parameters); the lexing-state guard; the server-version guard
(pglast reads a newer grammar than the server: syntax newer than the server is unknown);
whether an UPDATE/DELETE/MERGE may reach every row (constants folded only where certain,
conditions that may hold on every row found by trying the cases that matter); the class of
code-planting DDL (functions, triggers, rules, support functions: what the planted code may
do); a fast path that answers plain reads from the parser's JSON text when the text proves
the walk would find nothing else. Every node kind is known here or the statement is unknown:
fail closed. Must never do I/O, never ask a server, and never return a class lower than the
worst thing the statement can do as written.

Known gaps, left to the full classifier (they need catalog knowledge): operators and casts
can be backed by user functions (read here); triggers, rules and views already in place run
code the statement does not show; `tbl.func` attribute notation can call a function; a WHERE
whose arithmetic cancels the row (id - id = 0) or spans a column type's whole range is taken
to bound the rows; a server newer than pglast's grammar is read with pglast's grammar.
"""

from __future__ import annotations

import itertools
import json
import json.scanner
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, cast

from pglast.parser import ParseError, get_postgresql_version, parse_sql_json, scan

from iap.classify.pg_functions import (
    SETTING_FUNCTIONS,
    SQL_TEXT_FUNCTIONS,
    function_risk,
    split_name,
)
from iap.classify.pg_plain import classify_plain
from iap.classify.scan import Scan, SessionEffects
from iap.classify.types import Classification, LexState, Risk, StatementInfo

Node = dict[str, Any]

# ----------------------------------------------------------------------------- lexing state

# Encodings whose multibyte characters never contain an ASCII byte (names cleaned the way
# the server does: lower case, letters and digits only). The client-only encodings SJIS,
# BIG5, GBK, UHC, GB18030, JOHAB, SHIFT_JIS_2004 and their aliases are missing on purpose:
# a trailing byte can be a backslash or quote, so the server and the gateway would disagree
# on where a string ends.
_SAFE_ENCODINGS = frozenset(
    {
        "sqlascii", "utf8", "unicode", "muleinternal",
        "eucjp", "euccn", "euckr", "euctw", "eucjis2004",
        "latin1", "latin2", "latin3", "latin4", "latin5", "latin6", "latin7", "latin8",
        "latin9", "latin10", "iso88591", "iso88592", "iso88593", "iso88594", "iso88595",
        "iso88596", "iso88597", "iso88598", "iso88599", "iso885910", "iso885913",
        "iso885914", "iso885915", "iso885916",
        "koi8", "koi8r", "koi8u", "alt", "abc", "tcvn", "tcvn5712", "vscii", "win",
        "win866", "win874", "win1250", "win1251", "win1252", "win1253", "win1254",
        "win1255", "win1256", "win1257", "win1258", "windows866", "windows874",
        "windows1250", "windows1251", "windows1252", "windows1253", "windows1254",
        "windows1255", "windows1256", "windows1257", "windows1258",
    }
)  # fmt: skip


def encoding_is_safe(name: str | None) -> bool:
    """True when a client_encoding name cannot hide a quote or backslash in a character."""
    if name is None:
        return False
    return "".join(c for c in name.lower() if c.isascii() and c.isalnum()) in _SAFE_ENCODINGS


def _lexing_problem(sql: str, state: LexState) -> str | None:
    """Why the server might lex sql differently from pglast (which assumes the safe state)."""
    if "\x00" in sql:
        return "the statement contains a NUL character"
    scs = state.standard_conforming_strings
    if scs is not True and "\\" in sql:
        setting = "unknown" if scs is None else "off"
        return (
            f"standard_conforming_strings is {setting} and the statement contains a backslash:"
            " the server may read its strings differently"
        )
    if not sql.isascii() and not encoding_is_safe(state.client_encoding):
        encoding = state.client_encoding or "unknown"
        return (
            f"client_encoding is {encoding} and the statement contains non-ASCII characters:"
            " a multibyte character may hide a quote or backslash"
        )
    return None


# ----------------------------------------------------------------------------- server version

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


# ----------------------------------------------------------------------------- settings

_HARMLESS_SETTINGS = frozenset(
    {
        "application_name", "statement_timeout", "lock_timeout", "transaction_timeout",
        "idle_in_transaction_session_timeout", "idle_session_timeout",
        "timezone", "datestyle", "intervalstyle", "extra_float_digits", "bytea_output",
        "xmlbinary", "xmloption", "client_min_messages", "escape_string_warning",
        "lc_messages", "lc_monetary", "lc_numeric", "lc_time", "default_text_search_config",
        "timezone_abbreviations", "array_nulls", "quote_all_identifiers",
        "check_function_bodies", "row_security", "synchronous_commit", "synchronize_seqscans",
        "restrict_nonsystem_relation_kind",
        "transaction_isolation", "transaction_read_only", "transaction_deferrable",
        "default_transaction_isolation", "default_transaction_read_only",
        "default_transaction_deferrable", "default_table_access_method",
        "default_tablespace", "temp_tablespaces", "default_toast_compression",
        "work_mem", "maintenance_work_mem", "hash_mem_multiplier", "temp_buffers",
        "jit", "jit_above_cost", "jit_inline_above_cost", "jit_optimize_above_cost",
        "effective_cache_size", "effective_io_concurrency", "maintenance_io_concurrency",
        "random_page_cost", "seq_page_cost", "cpu_tuple_cost", "cpu_index_tuple_cost",
        "cpu_operator_cost", "parallel_setup_cost", "parallel_tuple_cost",
        "min_parallel_table_scan_size", "min_parallel_index_scan_size",
        "max_parallel_workers_per_gather", "max_parallel_maintenance_workers",
        "parallel_leader_participation", "from_collapse_limit", "join_collapse_limit",
        "geqo", "geqo_threshold", "geqo_effort", "geqo_pool_size", "geqo_generations",
        "geqo_selection_bias", "geqo_seed", "default_statistics_target",
        "constraint_exclusion", "cursor_tuple_fraction", "plan_cache_mode",
        "recursive_worktable_factor", "gin_fuzzy_search_limit", "gin_pending_list_limit",
        "vacuum_cost_delay", "vacuum_cost_limit", "tcp_keepalives_idle",
        "tcp_keepalives_interval", "tcp_keepalives_count", "tcp_user_timeout",
        "client_connection_check_interval", "stats_fetch_consistency",
    }
)  # fmt: skip
_HARMLESS_PREFIXES = ("enable_",)
_LOGGING_PREFIXES = ("log_", "debug_", "trace_", "track_", "pgaudit.", "auto_explain.")
_IDENTITY_SETTINGS = frozenset({"role", "session_authorization"})
_ADMIN_SETTINGS = {
    "session_replication_role": "turns off triggers and foreign-key checks",
    "lo_compat_privileges": "turns off large-object permission checks",
    "allow_system_table_mods": "allows changes to the system catalogs",
}
_TRUE_WORDS = frozenset({"on", "true", "yes", "1"})
_SAFE_BACKSLASH_QUOTE = frozenset({"off", "false", "no", "0", "safe_encoding"})
_LIST_SETTINGS = frozenset({"search_path"})


def setting_risk(
    name: str, values: tuple[str, ...] | None, *, reset: bool = False
) -> tuple[Risk, str]:
    """(class, why) of setting name to values (None: not known); why completes "SET name ..."."""
    name = name.lower()
    if name in _IDENTITY_SETTINGS:
        return Risk.ADMIN, "changes the database identity"
    if reset or name == "all":
        return Risk.READ, ""
    if name == "search_path":
        if values is None:
            return Risk.ADMIN, "to a value the gateway cannot read may shadow built-ins"
        if "pg_catalog" in values[1:]:
            return Risk.ADMIN, f"puts {values[0]} before pg_catalog, so it can shadow built-ins"
        return Risk.READ, ""
    if name == "client_encoding":
        value = values[0] if values and len(values) == 1 else None
        if value is not None and (value.lower() == "default" or encoding_is_safe(value)):
            return Risk.READ, ""
        return Risk.ADMIN, f"to {value or 'an expression'} may hide quotes in text"
    if name in ("standard_conforming_strings", "backslash_quote"):
        value = values[0].lower() if values and len(values) == 1 else None
        safe = _TRUE_WORDS if name == "standard_conforming_strings" else _SAFE_BACKSLASH_QUOTE
        if value in safe:
            return Risk.READ, ""
        return Risk.ADMIN, f"to {value or 'an expression'} changes how strings are read"
    if name in _HARMLESS_SETTINGS or name.startswith(_HARMLESS_PREFIXES):
        return Risk.READ, ""
    if name in _ADMIN_SETTINGS:
        return Risk.ADMIN, _ADMIN_SETTINGS[name]
    if name.startswith(_LOGGING_PREFIXES):
        return Risk.ADMIN, "changes what the server logs"
    if "." in name:  # row-level security policies often read such settings
        return Risk.ADMIN, "is a custom setting: the gateway cannot tell what reads it"
    return Risk.ADMIN, "is not a known harmless session setting"


def split_setting_list(value: str) -> tuple[str, ...] | None:
    """A list setting's text ('"$user", public') as the server splits it; None if malformed."""
    if not value.strip():
        return ()
    items: list[str] = []
    i, n = 0, len(value)
    while True:
        while i < n and value[i].isspace():
            i += 1
        if i < n and value[i] == '"':
            end = i + 1
            chars: list[str] = []
            while end < n and not (value[end] == '"' and value[end + 1 : end + 2] != '"'):
                chars.append(value[end])
                end += 2 if value[end] == '"' else 1
            if end >= n:
                return None
            items.append("".join(chars))
            i = end + 1
        else:
            end = i
            while end < n and value[end] != "," and not value[end].isspace():
                end += 1
            if end == i:
                return None
            items.append(value[i:end].lower())
            i = end
        while i < n and value[i].isspace():
            i += 1
        if i >= n:
            return tuple(items)
        if value[i] != ",":
            return None
        i += 1


def setting_value_risk(name: str, value: str | None) -> tuple[Risk, str]:
    """(class, why) of SET name = value, value as the server's text (None: not known)."""
    values: tuple[str, ...] | None
    if value is None:
        values = None
    elif name.lower() in _LIST_SETTINGS:
        values = split_setting_list(value)
    else:
        values = (value,)
    return setting_risk(name, values)


def classify_setting_postgres(name: str, value: str | None) -> Classification:
    """The class of SET name = value (a startup parameter, say) as a one-statement result."""
    risk, why = setting_value_risk(name, value)
    reasons = (f"SET {name.lower()} {why}",) if why else ()
    return Classification(risk, (StatementInfo("SET", risk, (), reasons),), reasons)


# ----------------------------------------------------------------------------- tree helpers


def _unwrap(node: Any) -> tuple[str | None, Node]:
    """(node type, fields) of a typed node {"Type": {...}}; (None, node) for an inline struct."""
    if type(node) is not dict:
        return None, {}
    if len(node) == 1:
        for key, body in node.items():
            if type(body) is dict and key[0].isupper():
                return key, body
    return None, node


def _strings(items: Any) -> list[str]:
    """The svals of a list of String nodes (a qualified name)."""
    if type(items) is not list:
        return []
    return [i["String"].get("sval", "") for i in items if type(i) is dict and "String" in i]


def _range_var_name(rv: Node) -> str:
    return ".".join(
        p for p in (rv.get("catalogname"), rv.get("schemaname"), rv.get("relname")) if p
    )


def _name_of(node: Any) -> str:
    """A readable name for an object reference: String, List of names, RangeVar, ..."""
    kind, body = _unwrap(node)
    if kind == "String":
        return str(body.get("sval", ""))
    if kind == "List":
        return ".".join(_name_of(i) for i in body.get("items", []))
    if kind == "RangeVar" or "relname" in body:
        return _range_var_name(body)
    if kind == "ObjectWithArgs" or "objname" in body:
        return ".".join(_strings(body.get("objname"))) + "()"
    if kind == "TypeName" or "names" in body:
        return ".".join(_strings(body.get("names")))
    if kind == "RoleSpec" or "roletype" in body:
        return str(body.get("rolename") or body.get("roletype", "").removeprefix("ROLESPEC_"))
    if kind == "VacuumRelation":
        return _name_of(body.get("relation", {}))
    if kind == "AccessPriv":
        return str(body.get("priv_name", "all"))
    return ""


def _names(nodes: Any) -> str:
    return ", ".join(n for n in map(_name_of, nodes if type(nodes) is list else []) if n)


_NAME_FIELDS = (
    "trigname", "policy_name", "rulename", "idxname", "relation", "view", "sequence", "object",
    "func", "extname", "schemaname", "dbname", "role", "funcname", "defnames", "typeName",
    "domainname", "pubname", "subname", "servername", "fdwname", "tablespacename",
    "conditionname", "amname", "name",
)  # fmt: skip
_NAME_LIST_FIELDS = ("relations", "objects", "rels", "roles", "granted_roles")


def _object_name(body: Node) -> str:
    """The name(s) a statement acts on, for reasons ("CREATE EXTENSION dblink")."""
    for field in _NAME_FIELDS:
        value = body.get(field)
        if isinstance(value, str):
            return value
        if type(value) is list:
            return ".".join(_strings(value))
        if type(value) is dict:
            return _name_of(value)
    for field in _NAME_LIST_FIELDS:
        if type(body.get(field)) is list:
            return _names(body[field])
    return ""


def _const_text(node: Any) -> str | None:
    """The text of a literal (looking through casts); None when not a literal."""
    kind, body = _unwrap(node)
    if kind == "TypeCast":
        return _const_text(body.get("arg"))
    if kind != "A_Const":
        return None
    for field in ("sval", "ival", "fval", "bsval"):
        if field in body:
            return str(body[field].get(field, "" if field != "ival" else 0))
    if "boolval" in body:
        return "true" if body["boolval"].get("boolval") else "false"
    return None


def _defelem(node: Any) -> tuple[str, Any]:
    """(defname, arg node or None) of a DefElem."""
    kind, body = _unwrap(node)
    if kind != "DefElem":
        return "", None
    return str(body.get("defname", "")), body.get("arg")


def _option_is_on(arg: Any) -> bool:
    """An option's boolean value as the server reads it (no value: on); unclear values: on."""
    if arg is None:
        return True
    kind, body = _unwrap(arg)
    if kind == "Integer":
        return bool(body.get("ival", 0) != 0)
    if kind == "Boolean":
        return bool(body.get("boolval", False))
    text = _const_text(arg) if kind != "String" else body.get("sval", "")
    return str(text).lower() not in ("false", "off")


def _shape(node: Any) -> Any:
    """node without source locations, to compare two expressions."""
    if type(node) is dict:
        return {k: _shape(v) for k, v in node.items() if k != "location"}
    if type(node) is list:
        return [_shape(v) for v in node]
    return node


def _contains(node: Any, kinds: frozenset[str]) -> bool:
    """True when a node of one of kinds occurs anywhere in node."""
    if type(node) is dict:
        return any(k in kinds or _contains(v, kinds) for k, v in node.items())
    if type(node) is list:
        return any(_contains(v, kinds) for v in node)
    return False


# ----------------------------------------------------------------------------- WHERE analysis

# Whether an UPDATE or DELETE (a MERGE: its ON) may reach every row of its table. The answer
# is "bounded" only when the server cannot find the condition true on every row:
#  - A constant part is folded only where its value is certain whatever the server's types,
#    casts, collations and settings: integer, boolean and NULL literals compared with
#    = <> < <= > >=, IS [NOT] DISTINCT FROM, IN and BETWEEN, under AND, OR, NOT, IS [NOT]
#    NULL and the IS TRUE/FALSE/UNKNOWN tests. Any other constant part (a cast, a number with
#    a fraction, text, a date or interval, a parameter, a function call) may be true: the
#    server finds 0.5::int = 1, 'a'::char(3) = 'a  ' and 'NaN'::float8 = 'NaN' true.
#  - A part that reads the rows bounds them unless it holds for every value: an expression
#    compared with itself or with another expression of the same columns, IS NOT NULL,
#    LIKE '%', and disjunctions whose parts together cover every value (x < 5 OR x >= 5,
#    flag OR NOT flag), found by trying every case that matters.
# Known gaps (taken as bounding): arithmetic that cancels the row (id - id = 0), the range of
# a column's type (id > -2147483649), a subquery that reads the target itself.


class _Uncertain:
    """A constant whose value the gateway cannot know for certain (types and settings decide)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNCERTAIN"


UNCERTAIN = _Uncertain()
Truth = bool | None | _Uncertain  # a condition's value: TRUE, FALSE, NULL (None) or uncertain
_Literal = int | bool | None | _Uncertain  # an integer, boolean or NULL literal, or uncertain

_ORDERING: dict[str, Callable[[int, int], bool]] = {
    "=": operator.eq, "<>": operator.ne, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
_BOOLEAN_TESTS: dict[str, Callable[[bool | None], bool]] = {
    "IS_TRUE": lambda v: v is True,
    "IS_NOT_TRUE": lambda v: v is not True,
    "IS_FALSE": lambda v: v is False,
    "IS_NOT_FALSE": lambda v: v is not False,
    "IS_UNKNOWN": lambda v: v is None,
    "IS_NOT_UNKNOWN": lambda v: v is not None,
}
_BETWEEN = frozenset(
    {"AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN", "AEXPR_BETWEEN_SYM", "AEXPR_NOT_BETWEEN_SYM"}
)


def _operator(body: Node) -> str | None:
    """The operator of an A_Expr, None when it is a user's (schema other than pg_catalog)."""
    parts = _strings(body.get("name"))
    if not parts or (len(parts) > 1 and parts[-2] != "pg_catalog"):
        return None
    return parts[-1]


def _literal(node: Any) -> _Literal:
    """The value of an integer, boolean or NULL literal (None: NULL); uncertain otherwise."""
    kind, body = _unwrap(node)
    if kind == "A_Const":
        if "ival" in body:
            return int(body["ival"].get("ival", 0))
        if "boolval" in body:
            return bool(body["boolval"].get("boolval", False))
        if body.get("isnull") is True:
            return None
    return UNCERTAIN


def _compare_literals(op: str, left: _Literal, right: _Literal) -> Truth:
    """left op right for two literals: NULL when one is NULL, uncertain across types."""
    if op not in _ORDERING or isinstance(left, _Uncertain) or isinstance(right, _Uncertain):
        return UNCERTAIN
    if left is None or right is None:
        return None
    if (type(left) is bool) != (type(right) is bool):
        return UNCERTAIN  # integer = boolean: the server refuses it
    if type(left) is bool and op not in ("=", "<>", "!="):
        return UNCERTAIN
    return _ORDERING[op](left, right)


def _distinct_literals(left: _Literal, right: _Literal) -> Truth:
    """left IS DISTINCT FROM right for two literals."""
    if isinstance(left, _Uncertain) or isinstance(right, _Uncertain):
        return UNCERTAIN
    if left is None or right is None:
        return (left is None) != (right is None)
    if (type(left) is bool) != (type(right) is bool):
        return UNCERTAIN
    return left != right


def _and3(values: Iterable[Truth]) -> Truth:
    result: Truth = True
    for value in values:
        if value is False:
            return False
        if isinstance(value, _Uncertain) or (value is None and result is True):
            result = value
    return result


def _or3(values: Iterable[Truth]) -> Truth:
    result: Truth = False
    for value in values:
        if value is True:
            return True
        if isinstance(value, _Uncertain) or (value is None and result is False):
            result = value
    return result


def _not3(value: Truth) -> Truth:
    return not value if type(value) is bool else value


def _list_items(node: Any) -> list[Any]:
    items = _unwrap(node)[1].get("items") if node is not None else None
    return items if type(items) is list else []


def fold_condition(node: Any) -> Truth:
    """The value of a constant condition when it is certain, whatever the server's types and
    settings (integer, boolean and NULL literals only); uncertain otherwise."""
    kind, body = _unwrap(node)
    if kind == "A_Const":
        value = _literal(node)
        return value if value is None or type(value) is bool else UNCERTAIN
    if kind == "BoolExpr":
        args = [fold_condition(a) for a in body.get("args", [])]
        boolop = body.get("boolop")
        if boolop == "AND_EXPR":
            return _and3(args)
        if boolop == "OR_EXPR":
            return _or3(args)
        return _not3(args[0]) if len(args) == 1 else UNCERTAIN
    if kind == "A_Expr":
        return _fold_expression(body)
    if kind == "NullTest":
        arg = body.get("arg")
        if _unwrap(arg)[0] == "A_Const":  # a literal of any type is NULL only when written so
            inner: Truth = None if _unwrap(arg)[1].get("isnull") is True else True
        else:
            inner = fold_condition(arg)
        if isinstance(inner, _Uncertain):
            return UNCERTAIN
        return (inner is None) == (body.get("nulltesttype") == "IS_NULL")
    if kind == "BooleanTest":
        inner = fold_condition(body.get("arg"))
        test = _BOOLEAN_TESTS.get(body.get("booltesttype", ""))
        if isinstance(inner, _Uncertain) or test is None:
            return UNCERTAIN
        return test(inner)
    return UNCERTAIN


def _fold_expression(body: Node) -> Truth:
    kind, op = body.get("kind"), _operator(body)
    left, right = _literal(body.get("lexpr")), body.get("rexpr")
    if op is None or body.get("lexpr") is None:
        return UNCERTAIN
    if kind == "AEXPR_OP":
        return _compare_literals(op, left, _literal(right))
    if kind in ("AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT"):
        distinct = _distinct_literals(left, _literal(right))
        return distinct if kind == "AEXPR_DISTINCT" else _not3(distinct)
    items = _list_items(right)
    if kind == "AEXPR_IN" and op in ("=", "<>") and items:
        found = _or3(_compare_literals("=", left, _literal(i)) for i in items)
        return found if op == "=" else _not3(found)
    if kind in _BETWEEN and len(items) == 2:
        low, high = _literal(items[0]), _literal(items[1])
        inside = _and3([_compare_literals("<=", low, left), _compare_literals("<=", left, high)])
        if kind.endswith("_SYM"):
            swapped = [_compare_literals("<=", high, left), _compare_literals("<=", left, low)]
            inside = _or3([inside, _and3(swapped)])
        return _not3(inside) if kind.startswith("AEXPR_NOT") else inside
    return UNCERTAIN


# -- which parts of a condition read the target's rows

_NO_COLUMNS: frozenset[str] = frozenset()
_CURSOR_ROW = frozenset({"CURRENT OF"})


def _field_name(field: Any) -> str:
    kind, body = _unwrap(field)
    return str(body.get("sval", "")) if kind == "String" else "*"


def _bound_names(select: Node) -> set[str]:
    """The names a SELECT's FROM binds (aliases, else relation names): they hide outer ones."""
    names: set[str] = set()
    items = list(select.get("fromClause", []))
    while items:
        body = _unwrap(items.pop())[1]
        alias = body.get("alias")
        if type(alias) is dict and alias.get("aliasname"):
            names.add(str(alias["aliasname"]))
        elif body.get("relname"):
            names.add(str(body["relname"]))
        items.extend(body[side] for side in ("larg", "rarg") if type(body.get(side)) is dict)
    return names


def _column_of(fields: list[Any], names: frozenset[str], unqualified: bool) -> frozenset[str]:
    """The target column a column reference names: qualified by one of names, or (when
    unqualified counts) written alone."""
    if len(fields) == 1:
        return frozenset({_field_name(fields[0])}) if unqualified else _NO_COLUMNS
    qualifier = _unwrap(fields[-2])[1].get("sval")
    return frozenset({_field_name(fields[-1])}) if qualifier in names else _NO_COLUMNS


def _subquery_columns(node: Any, names: frozenset[str]) -> frozenset[str]:
    """Target columns a subquery reads: qualified by a target name that it does not rebind."""
    found = _NO_COLUMNS
    if type(node) is list:
        for item in node:
            found = found | _subquery_columns(item, names)
        return found
    if type(node) is not dict:
        return found
    kind, body = _unwrap(node)
    if kind == "ColumnRef":
        return _column_of(body.get("fields", []), names, False)
    if kind in _LEAVES:
        return found
    if "fromClause" in body:
        names = names - _bound_names(body)
        if not names:
            return found
    for value in body.values():
        if type(value) is dict or type(value) is list:
            found = found | _subquery_columns(value, names)
    return found


class _RowScope:
    """Which columns of the target each part of a condition reads (memoised per node)."""

    __slots__ = ("_memo", "names", "relation", "unqualified")

    def __init__(self, relation: Node, unqualified: bool) -> None:
        self.relation = relation  # the target's RangeVar
        alias = relation.get("alias", {}).get("aliasname")
        self.names = frozenset({alias or relation.get("relname", "")})  # what qualifies it
        self.unqualified = unqualified  # False when other relations are in scope (FROM, USING)
        self._memo: dict[int, frozenset[str]] = {}

    def is_target(self, relation: Node) -> bool:
        """True when a relation named in a subquery may be the target itself."""
        schemas = {relation.get("schemaname"), self.relation.get("schemaname")}
        return relation.get("relname") == self.relation.get("relname") and (
            len(schemas) == 1 or None in schemas
        )

    def columns(self, node: Any) -> frozenset[str]:
        """The target's columns node reads ("*": the whole row; CURRENT OF: the cursor's)."""
        if type(node) is dict:
            found = self._memo.get(id(node))
            if found is None:
                found = self._memo[id(node)] = self._read(node)
            return found
        found = _NO_COLUMNS
        if type(node) is list:
            for item in node:
                found = found | self.columns(item)
        return found

    def key(self, node: Any) -> str:
        """What an expression is, for telling two apart: a column of the target by its name
        (id and t.id are one), anything else as written."""
        columns = self.columns(node) if _unwrap(node)[0] == "ColumnRef" else _NO_COLUMNS
        return f"column {next(iter(columns))}" if len(columns) == 1 else _key(node)

    def _read(self, node: Node) -> frozenset[str]:
        kind, body = _unwrap(node)
        if kind in _LEAVES:
            if kind != "ColumnRef":
                return _NO_COLUMNS
            return _column_of(body.get("fields", []), self.names, self.unqualified)
        if kind == "CurrentOfExpr":
            return _CURSOR_ROW
        if kind == "SubLink":  # x IN (subquery): x is outside the subquery, the rest inside
            inside = _subquery_columns(body.get("subselect"), self.names)
            return self.columns(body.get("testexpr")) | inside
        found = _NO_COLUMNS
        for field, value in body.items():
            if field not in _NAME_ONLY_FIELDS and (type(value) is dict or type(value) is list):
                found = found | self.columns(value)
        return found


# Fields that only name things (operators, functions, types): never a column of the target.
_NAME_ONLY_FIELDS = frozenset({"name", "funcname", "typeName", "names"})


# -- a condition as a formula over what each row makes true, in negation normal form


def _key(node: Any) -> str:
    """An expression as written, without source locations: equal keys, equal expressions."""
    return json.dumps(_shape(node), separators=(",", ":"))


class _Always:
    """True on every row (or may be): why."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why


class _Never:
    """True on no row (FALSE or NULL for each)."""

    __slots__ = ()


_NEVER = _Never()


class _Term:
    """One side of an ordering comparison: an integer, a value of the row, or a constant whose
    value the gateway does not know (a parameter, a string, a cast, another relation's column)."""

    __slots__ = ("key", "node", "value")

    def __init__(self, node: Any, value: int | None = None) -> None:
        self.node = node
        self.value = value  # an integer literal's value; None: a variable
        self.key: tuple[str, ...] = ()  # the variable's name, set when cases are tried


class _Order:
    """left op right over a linear order (op one of = <> < <= > >=)."""

    __slots__ = ("left", "op", "right")

    def __init__(self, op: str, left: _Term, right: _Term) -> None:
        self.op, self.left, self.right = _ORDER_NORMAL[op], left, right


class _Flag:
    """A yes/no fact about a row (a boolean column, a call, x IS NULL, x LIKE p): the fact
    itself, or (positive False) its opposite."""

    __slots__ = ("key", "kind", "nodes", "positive")

    def __init__(self, kind: str, nodes: tuple[Any, ...], positive: bool) -> None:
        self.kind, self.nodes, self.positive = kind, nodes, positive
        self.key: tuple[str, ...] = ()  # the fact's name, set when cases are tried


class _AllOf:
    __slots__ = ("parts",)

    def __init__(self, parts: list[_Formula]) -> None:
        self.parts = parts


class _AnyOf:
    __slots__ = ("parts",)

    def __init__(self, parts: list[_Formula]) -> None:
        self.parts = parts


_Formula = _Always | _Never | _Order | _Flag | _AllOf | _AnyOf

_ORDER_NORMAL = {
    "=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
    "IS DISTINCT": "<>", "IS NOT DISTINCT": "=",
}  # fmt: skip
_IRREFLEXIVE = frozenset({"<>", "!=", "<", ">", "IS DISTINCT"})  # x op x is never true
_NEGATED = {
    "=": "<>", "<>": "=", "!=": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">",
    "~~": "!~~", "!~~": "~~", "~~*": "!~~*", "!~~*": "~~*",
    "~": "!~", "!~": "~", "~*": "!~*", "!~*": "~*",
}  # fmt: skip
_COMMUTED = {
    "=": "=", "<>": "<>", "!=": "<>", "<": ">", ">": "<", "<=": ">=", ">=": "<=",
    "IS DISTINCT": "IS DISTINCT", "IS NOT DISTINCT": "IS NOT DISTINCT",
}  # fmt: skip
_PATTERNS = {  # operator: (family, positive)
    "~~": ("like", True), "!~~": ("like", False), "~~*": ("ilike", True),
    "!~~*": ("ilike", False), "~": ("regex", True), "!~": ("regex", False),
    "~*": ("iregex", True), "!~*": ("iregex", False),
}  # fmt: skip
_PATTERN_WORDS = {
    "like": "LIKE '%'", "ilike": "ILIKE '%'", "regex": "~ ''", "iregex": "~* ''",
}  # fmt: skip
_NEGATED_TESTS = {
    "IS_TRUE": "IS_NOT_TRUE", "IS_NOT_TRUE": "IS_TRUE", "IS_FALSE": "IS_NOT_FALSE",
    "IS_NOT_FALSE": "IS_FALSE", "IS_UNKNOWN": "IS_NOT_UNKNOWN", "IS_NOT_UNKNOWN": "IS_UNKNOWN",
}  # fmt: skip


def _all_of(parts: Iterable[_Formula]) -> _Formula:
    kept: list[_Formula] = []
    always: _Always | None = None
    for part in parts:
        if isinstance(part, _Never):
            return part
        if isinstance(part, _Always):
            always = always or part
        elif isinstance(part, _AllOf):
            kept.extend(part.parts)
        else:
            kept.append(part)
    if not kept:
        return always or _Always("it is always true")
    return kept[0] if len(kept) == 1 else _AllOf(kept)


def _any_of(parts: Iterable[_Formula]) -> _Formula:
    kept: list[_Formula] = []
    for part in parts:
        if isinstance(part, _Always):
            return part
        if isinstance(part, _AnyOf):
            kept.extend(part.parts)
        elif not isinstance(part, _Never):
            kept.append(part)
    if not kept:
        return _NEVER
    return kept[0] if len(kept) == 1 else _AnyOf(kept)


def _described(node: Any) -> str:
    kind, body = _unwrap(node)
    if kind == "ColumnRef":
        return ".".join(_field_name(f) for f in body.get("fields", []))
    return "an expression"


def _matches_everything(family: str, pattern: Any) -> bool:
    """x LIKE '%' (or ~ '') holds for every value of x."""
    kind, body = _unwrap(pattern)
    if kind == "FuncCall" and _strings(body.get("funcname"))[-1:] == ["similar_to_escape"]:
        args = body.get("args", [])  # SIMILAR TO '%' is a regular expression from a pattern
        text = _const_text(args[0]) if len(args) == 1 else None
        return bool(text) and set(text or "") == {"%"}
    text = _const_text(pattern)
    if text is None:
        return False
    if family in ("like", "ilike"):
        return bool(text) and set(text) == {"%"}
    return text in ("", ".*", "^", "$")


class _Bounds:
    """Builds the formula of a condition: which rows it can be true on."""

    __slots__ = ("_made", "scope")

    def __init__(self, scope: _RowScope) -> None:
        self.scope = scope
        self._made: list[Node] = []  # nodes made here, kept alive: scope memoises by id()

    def _made_node(self, node: Node) -> Node:
        self._made.append(node)
        return node

    def formula(self, node: Any, negated: bool) -> _Formula:
        """The formula of node (of NOT node when negated)."""
        if not self.scope.columns(node):
            return self._constant(fold_condition(node), negated)
        kind, body = _unwrap(node)
        if kind == "BoolExpr":
            args = body.get("args", [])
            if body.get("boolop") == "NOT_EXPR":
                if len(args) == 1:
                    return self.formula(args[0], not negated)
                return self._flag(node, not negated)
            parts = [self.formula(arg, negated) for arg in args]
            every = (body.get("boolop") == "AND_EXPR") != negated
            return _all_of(parts) if every else _any_of(parts)
        if kind == "A_Expr":
            return self._expression(node, body, negated)
        if kind == "NullTest":
            is_null = (body.get("nulltesttype") == "IS_NULL") != negated
            return self._null_test(body.get("arg"), is_null)
        if kind == "BooleanTest":
            test = str(body.get("booltesttype", ""))
            return self._boolean_test(body.get("arg"), _NEGATED_TESTS[test] if negated else test)
        if kind == "CaseExpr":
            return self._case(body, negated)
        if kind == "CoalesceExpr":
            return _any_of(self.formula(arg, negated) for arg in body.get("args", []))
        if kind == "MinMaxExpr":
            parts = [self.formula(arg, negated) for arg in body.get("args", [])]
            every = (body.get("op") == "IS_LEAST") != negated
            return _all_of(parts) if every else _any_of(parts)
        if kind in ("TypeCast", "CollateClause"):
            return self.formula(body.get("arg"), negated)
        if kind == "SubLink" and not negated and self._looks_itself_up(body):
            return _Always("it looks each row up in the table itself")
        return self._flag(node, not negated)

    def _looks_itself_up(self, link: Node) -> bool:
        """x IN (SELECT x FROM target), EXISTS (SELECT FROM target o WHERE o.x = target.x):
        true for every row with a value."""
        select = _unwrap(link.get("subselect"))[1]
        sources = select.get("fromClause", [])
        if len(sources) != 1 or link.get("subLinkType") not in ("ANY_SUBLINK", "EXISTS_SUBLINK"):
            return False
        kind, source = _unwrap(sources[0])
        narrowed = any(select.get(k) for k in ("havingClause", "limitCount", "limitOffset"))
        if kind != "RangeVar" or not self.scope.is_target(source) or narrowed:
            return False
        inner = source.get("alias", {}).get("aliasname") or source.get("relname", "")
        where = select.get("whereClause")
        if where is not None and not self._matches_itself(where, inner):
            return False
        if link.get("subLinkType") == "EXISTS_SUBLINK":
            return where is not None
        outputs = select.get("targetList", [])
        if len(outputs) != 1 or _strings(link.get("operName")) not in ([], ["="]):
            return False
        column = _inner_column(_unwrap(outputs[0])[1].get("val"), inner)
        return column is not None and self.scope.columns(link.get("testexpr")) == {column}

    def _matches_itself(self, where: Any, inner: str) -> bool:
        """inner.x = target.x (either way round)."""
        kind, body = _unwrap(where)
        if kind != "A_Expr" or body.get("kind") != "AEXPR_OP" or _operator(body) != "=":
            return False
        if inner in self.scope.names:
            return False  # the subquery's relation hides the target's name
        for mine, theirs in (
            (body.get("lexpr"), body.get("rexpr")),
            (body.get("rexpr"), body.get("lexpr")),
        ):
            column = _inner_column(theirs, inner)
            if column is not None and _unwrap(mine)[0] == "ColumnRef":
                fields = _unwrap(mine)[1].get("fields", [])
                if len(fields) > 1 and self.scope.columns(mine) == {column}:
                    return True
        return False

    def _case(self, body: Node, negated: bool) -> _Formula:
        """CASE: a branch is taken when its condition IS TRUE and no earlier one was; the
        CASE is true where the taken branch's result is (NOT CASE: where it is false)."""
        whens = [_unwrap(w)[1] for w in body.get("args", [])]
        default = body.get("defresult", _NULL)
        if len(whens) > _CASE_BRANCHES:  # too many to follow: any result may be the one
            results = [w.get("result") for w in whens] + [default]
            return _any_of(self.formula(r, negated) for r in results)
        operand = body.get("arg")  # CASE x WHEN v: the condition is x = v
        branches: list[_Formula] = []
        skipped: list[_Formula] = []
        for when in whens:
            condition = when.get("expr")
            if operand is not None:
                condition = self._made_node(_equals(operand, condition))
            taken = self.formula(self._made_node(_is(condition, "IS_TRUE")), False)
            result = self.formula(when.get("result"), negated)
            branches.append(_all_of([*skipped, taken, result]))
            skipped.append(self.formula(self._made_node(_is(condition, "IS_NOT_TRUE")), False))
        branches.append(_all_of([*skipped, self.formula(default, negated)]))
        return _any_of(branches)

    def _constant(self, value: Truth, negated: bool) -> _Formula:
        if isinstance(value, _Uncertain):
            return _Always("part of it does not depend on the rows and may be true")
        if value is None or value == negated:
            return _NEVER
        return _Always("part of it is always true")

    def _flag(self, node: Any, positive: bool = True) -> _Formula:
        return _Flag("is", (node,), positive)

    def _null_test(self, arg: Any, is_null: bool) -> _Formula:
        """arg IS NULL (is_null) or IS NOT NULL, arg reading the rows."""
        if not is_null:
            return _Always(f"{_described(arg)} IS NOT NULL holds on every row with a value")
        if self._null_everywhere(arg):
            return _Always(f"{_described(arg)} may be NULL on every row")
        return _Flag("null", (arg,), True)

    def _null_everywhere(self, node: Any) -> bool:
        """True when node may be NULL on every row: a part that does not read the rows may
        be NULL (see _may_be_null) and NULL spreads through what holds it; a column is NULL
        only on some rows, which bounds them."""
        if type(node) is list:
            return any(map(self._null_everywhere, node))
        if not self.scope.columns(node):
            value = fold_condition(node)
            return value is None or (isinstance(value, _Uncertain) and _may_be_null(node))
        kind, body = _unwrap(node)
        if kind in _NEVER_NULL:
            return False
        if kind == "A_Expr" and body.get("kind") in _NEVER_NULL_EXPRESSIONS:
            return False
        nullif = kind == "A_Expr" and body.get("kind") == "AEXPR_NULLIF"
        if nullif and self._same_columns(body.get("lexpr"), body.get("rexpr")):
            return True  # NULLIF(a, a)
        if kind == "SubLink":
            return body.get("subLinkType") != "EXISTS_SUBLINK"
        if kind == "CoalesceExpr":
            return all(map(self._null_everywhere, body.get("args", [])))
        if kind == "CaseExpr":
            results = [_unwrap(w)[1].get("result") for w in body.get("args", [])]
            return any(map(self._null_everywhere, [*results, body.get("defresult", _NULL)]))
        return any(
            self._null_everywhere(value)
            for field, value in body.items()
            if field not in _NAME_ONLY_FIELDS and type(value) in (dict, list)
        )

    def _boolean_test(self, arg: Any, test: str) -> _Formula:
        if test in ("IS_TRUE", "IS_FALSE"):
            return self.formula(arg, test == "IS_FALSE")
        if test in ("IS_NOT_TRUE", "IS_NOT_FALSE"):
            return _any_of([self.formula(arg, test == "IS_NOT_TRUE"), self._null_test(arg, True)])
        return self._null_test(arg, test == "IS_UNKNOWN")

    def _expression(self, node: Any, body: Node, negated: bool) -> _Formula:
        kind, op = body.get("kind"), _operator(body)
        left, right = body.get("lexpr"), body.get("rexpr")
        if op is None or left is None:
            return self._flag(node, not negated)
        if kind in ("AEXPR_OP", "AEXPR_LIKE", "AEXPR_ILIKE", "AEXPR_SIMILAR"):
            if negated:
                if op not in _NEGATED:
                    return self._flag(node, False)
                op = _NEGATED[op]
            return self._compare(op, left, right)
        if kind in ("AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT"):
            distinct = (kind == "AEXPR_DISTINCT") != negated
            return self._compare("IS DISTINCT" if distinct else "IS NOT DISTINCT", left, right)
        items = _list_items(right)
        if kind == "AEXPR_IN" and op in ("=", "<>") and items:
            inside = (op == "=") != negated
            atoms = [self._compare("=" if inside else "<>", left, item) for item in items]
            return _any_of(atoms) if inside else _all_of(atoms)
        if kind in _BETWEEN and len(items) == 2:
            inside = kind.startswith("AEXPR_NOT") == negated
            bounds = [(items[0], items[1])]
            if kind.endswith("_SYM"):
                bounds.append((items[1], items[0]))
            if inside:
                return _any_of(
                    _all_of([self._compare(">=", left, low), self._compare("<=", left, high)])
                    for low, high in bounds
                )
            return _all_of(
                _any_of([self._compare("<", left, low), self._compare(">", left, high)])
                for low, high in bounds
            )
        if kind == "AEXPR_NULLIF":  # NULLIF(a, b) is a, or NULL
            return self.formula(left, negated)
        return self._opaque(node, left, right, negated)

    def _opaque(self, node: Any, left: Any, right: Any, negated: bool) -> _Formula:
        """An operator the gateway does not model: bounding, unless both sides read the same
        columns (x = ANY(ARRAY[x]) may hold on every row)."""
        if self._same_columns(left, right):
            return _Always(f"it compares {_described(left)} with an expression of itself")
        return self._flag(node, not negated)

    def _same_columns(self, left: Any, right: Any) -> bool:
        columns = self.scope.columns(left)
        return bool(columns) and columns == self.scope.columns(right)

    def _compare(self, op: str, left: Any, right: Any) -> _Formula:
        """left op right, op one of the ordering, DISTINCT and pattern operators."""
        left_columns, right_columns = self.scope.columns(left), self.scope.columns(right)
        if not left_columns and not right_columns:
            return self._constant(_compare_constants(op, left, right), False)
        if left_columns and right_columns:
            if _shape(left) == _shape(right):
                if op in _IRREFLEXIVE:
                    return _NEVER
                return _Always(f"it compares {_described(left)} with itself")
            if left_columns == right_columns:
                names = ", ".join(sorted(left_columns))
                return _Always(f"it compares two expressions of {names} with each other")
            if op in _ORDER_NORMAL:
                return _Order(op, _Term(left), _Term(right))
            return self._pattern_or_flag(op, left, right)
        if not left_columns:  # the side that reads the rows goes left
            if op not in _COMMUTED:
                return _Flag("op:" + op, (left, right), True)
            op, left, right = _COMMUTED[op], right, left
        value = _literal(right)
        if value is None:  # NULL
            if op == "IS DISTINCT":
                return self._null_test(left, False)
            return self._null_test(left, True) if op == "IS NOT DISTINCT" else _NEVER
        if type(value) is bool:
            return self._compare_boolean(op, left, value)
        if op == "IS DISTINCT" and _may_be_null(right):
            return _Always(
                f"{_described(left)} IS DISTINCT FROM what may be NULL holds on every row"
            )
        if op == "IS NOT DISTINCT" and _may_be_null(right):
            return _any_of([_Order(op, _Term(left), _Term(right)), self._null_test(left, True)])
        if op in _ORDER_NORMAL:
            return _Order(op, _Term(left), _Term(right, value if type(value) is int else None))
        return self._pattern_or_flag(op, left, right)

    def _compare_boolean(self, op: str, left: Any, value: bool) -> _Formula:
        """x = true is x; x <> true is NOT x; x IS DISTINCT FROM true is x IS NOT TRUE."""
        if op in ("=", "IS NOT DISTINCT"):
            return self.formula(left, not value)
        if op in ("<>", "!="):
            return self.formula(left, value)
        if op == "IS DISTINCT":
            return self._boolean_test(left, "IS_NOT_TRUE" if value else "IS_NOT_FALSE")
        return _Flag("op:" + op, (left, _TRUE if value else _FALSE), True)

    def _pattern_or_flag(self, op: str, left: Any, right: Any) -> _Formula:
        if op not in _PATTERNS:
            return _Flag("op:" + op, (left, right), True)
        family, positive = _PATTERNS[op]
        if positive and _matches_everything(family, right):
            return _Always(f"{_described(left)} {_PATTERN_WORDS[family]} matches every value")
        return _Flag(family, (left, right), positive)


def _inner_column(node: Any, inner: str) -> str | None:
    """The column a subquery's own relation (named inner) gives, when node is one."""
    kind, body = _unwrap(node)
    fields = body.get("fields", []) if kind == "ColumnRef" else []
    if len(fields) == 1 or (len(fields) > 1 and _strings(fields[-2:-1]) == [inner]):
        return _field_name(fields[-1])
    return None


# Expressions never NULL, whatever they read, and A_Expr kinds that may give NULL from values.
_NEVER_NULL = frozenset({"NullTest", "BooleanTest", "CurrentOfExpr", "ColumnRef"})
_NEVER_NULL_EXPRESSIONS = frozenset({"AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT"})
_NULL_MAKING_EXPRESSIONS = frozenset({"AEXPR_NULLIF", "AEXPR_OP_ANY", "AEXPR_OP_ALL"})


def _operands(body: Node) -> list[Any]:
    """An A_Expr's operands: its left side, and its right side or the items of its list."""
    right = body.get("rexpr")
    rights = _list_items(right) if _unwrap(right)[0] == "List" else [right]
    return [part for part in (body.get("lexpr"), *rights) if part is not None]


def _may_be_null(node: Any) -> bool:
    """True when an expression that does not read the rows may be NULL: a NULL, a parameter,
    a call, a subquery's value, ...; a literal is NULL only when written so, and the built-in
    operators give NULL only from NULL."""
    kind, body = _unwrap(node)
    if kind == "A_Const":
        return body.get("isnull") is True
    if kind in _NEVER_NULL or body.get("subLinkType") == "EXISTS_SUBLINK":
        return False
    if kind == "A_Expr":
        expression = body.get("kind")
        if expression in _NEVER_NULL_EXPRESSIONS:
            return False
        return expression in _NULL_MAKING_EXPRESSIONS or any(map(_may_be_null, _operands(body)))
    if kind in ("TypeCast", "CollateClause"):
        return _may_be_null(body.get("arg"))
    if kind == "BoolExpr":
        return any(map(_may_be_null, body.get("args", [])))
    return True


def _equals(left: Any, right: Any) -> Node:
    return {"A_Expr": {"kind": "AEXPR_OP", "name": [{"String": {"sval": "="}}], "lexpr": left,
                       "rexpr": right}}  # fmt: skip


def _is(arg: Any, test: str) -> Node:
    return {"BooleanTest": {"arg": arg, "booltesttype": test}}


_CASE_BRANCHES = 8  # a CASE with more WHENs is read as "any of its results"
_NULL: Node = {"A_Const": {"isnull": True}}
_TRUE: Node = {"A_Const": {"boolval": {"boolval": True}}}
_FALSE: Node = {"A_Const": {"boolval": {}}}


def _compare_constants(op: str, left: Any, right: Any) -> Truth:
    """left op right when neither side reads the rows (see fold_condition)."""
    if op in ("IS DISTINCT", "IS NOT DISTINCT"):
        distinct = _distinct_literals(_literal(left), _literal(right))
        return distinct if op == "IS DISTINCT" else _not3(distinct)
    return _compare_literals(op, _literal(left), _literal(right))


# -- deciding: may the formula be true on every row?

_CASES_LIMIT = 20_000  # cases times parts to try before a disjunction counts as too complex


def _everywhere(formula: _Formula, scope: _RowScope) -> str | None:
    """Why formula may be true on every row, or None: it bounds the rows."""
    if isinstance(formula, _Always):
        return formula.why
    if isinstance(formula, _AllOf):
        whys = []
        for part in formula.parts:
            why = _everywhere(part, scope)
            if why is None:
                return None
            whys.append(why)
        return whys[0]
    if isinstance(formula, _AnyOf):
        for part in formula.parts:
            why = _everywhere(part, scope)
            if why is not None:
                return why
        return _covered(formula.parts, scope)
    return None


class _Group:
    """Parts of a disjunction linked by the variables they share, with the integers they name.

    A variable is a value of the row (ordered), a constant the gateway does not know
    (ordered), or a yes/no fact. Parts that share no variable are independent, so a
    disjunction holds for every value only when the parts of one of its groups do.
    """

    __slots__ = ("integers", "parts", "variables")

    def __init__(self, part: _Formula, scope: _RowScope) -> None:
        self.parts = [part]
        self.variables: dict[tuple[str, ...], str] = {}  # name: "row", "constant" or "fact"
        self.integers: set[int] = set()
        self._collect(part, scope)

    def _collect(self, formula: _Formula, scope: _RowScope) -> None:
        if isinstance(formula, _Order):
            for term in (formula.left, formula.right):
                if term.value is not None:
                    self.integers.add(term.value)
                    continue
                kind = "row" if scope.columns(term.node) else "constant"
                term.key = (kind, scope.key(term.node))
                self.variables[term.key] = kind
        elif isinstance(formula, _Flag):
            formula.key = (formula.kind, *map(scope.key, formula.nodes))
            self.variables[formula.key] = "fact"
        elif isinstance(formula, _AllOf | _AnyOf):
            for part in formula.parts:
                self._collect(part, scope)

    def absorb(self, other: _Group) -> None:
        self.parts += other.parts
        self.variables.update(other.variables)
        self.integers |= other.integers

    def verdict(self) -> str | None:
        """Why the group's parts hold for every value, or None.

        Every case that matters is tried: for ordered variables every integer near one the
        group names (enough of them to order all the variables every way), for facts both
        answers. An unknown constant may be any value, so the group holds for every value
        when SOME choice of the constants makes it true for EVERY choice of the rest.
        """
        if all(isinstance(p, _Order) and p.op == "=" for p in self.parts):
            return None  # finitely many values, each named: never all of them
        names = {kind: [k for k, v in self.variables.items() if v == kind] for kind in _KINDS}
        spread = len(names["row"]) + len(names["constant"])
        values = sorted({i + d for i in self.integers for d in range(-spread, spread + 1)})
        values = values or list(range(spread))
        if len(values) ** spread * 2 ** len(names["fact"]) * len(self.parts) > _CASES_LIMIT:
            return "it is too complex to prove that it does not hold on every row"
        for chosen in itertools.product(values, repeat=len(names["constant"])):
            constants = dict(zip(names["constant"], chosen, strict=True))
            if all(
                any(_holds(part, case) for part in self.parts)
                for case in _cases(constants, names["row"], values, names["fact"])
            ):
                return "its parts together hold for every value"
        return None


_KINDS = ("row", "constant", "fact")


def _covered(parts: list[_Formula], scope: _RowScope) -> str | None:
    """Why a disjunction of parts holds for every value, or None (see _Group)."""
    groups: list[_Group] = []
    for part in parts:
        group = _Group(part, scope)
        for other in [g for g in groups if g.variables.keys() & group.variables.keys()]:
            groups.remove(other)
            group.absorb(other)
        groups.append(group)
    for group in groups:
        why = group.verdict()
        if why is not None:
            return why
    return None


def _cases(
    constants: dict[tuple[str, ...], Any],
    rows: list[tuple[str, ...]],
    values: list[int],
    facts: list[tuple[str, ...]],
) -> Iterator[dict[tuple[str, ...], Any]]:
    """Every assignment of the row values and facts, with the constants chosen."""
    for row_values in itertools.product(values, repeat=len(rows)):
        for answers in itertools.product((False, True), repeat=len(facts)):
            case = dict(constants)
            case.update(zip(rows, row_values, strict=True))
            case.update(zip(facts, answers, strict=True))
            yield case


def _holds(formula: _Formula, case: dict[tuple[str, ...], Any]) -> bool:
    """The formula's value in one case (every variable assigned)."""
    if isinstance(formula, _Always):
        return True
    if isinstance(formula, _AllOf):
        return all(_holds(part, case) for part in formula.parts)
    if isinstance(formula, _AnyOf):
        return any(_holds(part, case) for part in formula.parts)
    if isinstance(formula, _Flag):
        return bool(case[formula.key] == formula.positive)
    if isinstance(formula, _Order):
        left, right = (
            t.value if t.value is not None else case[t.key] for t in (formula.left, formula.right)
        )
        return _ORDERING[formula.op](left, right)
    return False


def _plainly_bounded(where: Any, scope: _RowScope) -> bool:
    """True for the common bounded shape, decided without the full analysis (which finds the
    same): a column of the target compared (= <> < <= > >=) with a literal or a parameter,
    alone or as one part of an AND (one part that bounds the rows bounds them all)."""
    kind, body = _unwrap(where)
    if kind == "BoolExpr":
        args = body.get("args", [])
        return body.get("boolop") == "AND_EXPR" and any(_plainly_bounded(a, scope) for a in args)
    if kind != "A_Expr" or body.get("kind") != "AEXPR_OP" or _operator(body) not in _ORDERING:
        return False
    left, right = _unwrap(body.get("lexpr")), _unwrap(body.get("rexpr"))
    if left[0] != "ColumnRef":
        left, right = right, left
    if right[0] == "TypeCast":  # $1::INTEGER, as drivers and ORMs send it
        right = _unwrap(right[1].get("arg"))
    if left[0] != "ColumnRef" or right[0] not in ("A_Const", "ParamRef"):
        return False
    return bool(_column_of(left[1].get("fields", []), scope.names, scope.unqualified))


def _unbounded(
    verb: str, relation: Node, where: Any, clause: str = "WHERE", *, others: bool = False
) -> str | None:
    """Why an UPDATE/DELETE (MERGE: its ON) may reach every row of its table, or None.

    others: other relations are in scope (FROM, USING, a MERGE's source), so an unqualified
    column may be theirs and does not count as the target's.
    """
    table = _range_var_name(relation)
    if where is None:
        return f"{verb} without {clause} on {table}"
    scope = _RowScope(relation, not others)
    if _plainly_bounded(where, scope):
        return None
    if not scope.columns(where):
        value = fold_condition(where)
        if value is True:
            return f"{verb} with an always-true {clause} on {table}"
        if value is False or value is None:
            return None
        return f"{verb} whose {clause} does not depend on the rows of {table}"
    why = _everywhere(_Bounds(scope).formula(where, False), scope)
    return f"{verb} whose {clause} may be true on every row of {table}: {why}" if why else None


# ----------------------------------------------------------------------------- command tags

_OBJECT_NOUN = {
    "OBJECT_ACCESS_METHOD": "ACCESS METHOD", "OBJECT_AGGREGATE": "AGGREGATE",
    "OBJECT_ATTRIBUTE": "TYPE", "OBJECT_CAST": "CAST", "OBJECT_COLUMN": "TABLE",
    "OBJECT_COLLATION": "COLLATION", "OBJECT_CONVERSION": "CONVERSION",
    "OBJECT_DATABASE": "DATABASE", "OBJECT_DOMAIN": "DOMAIN", "OBJECT_DOMCONSTRAINT": "DOMAIN",
    "OBJECT_EVENT_TRIGGER": "EVENT TRIGGER", "OBJECT_EXTENSION": "EXTENSION",
    "OBJECT_FDW": "FOREIGN DATA WRAPPER", "OBJECT_FOREIGN_SERVER": "SERVER",
    "OBJECT_FOREIGN_TABLE": "FOREIGN TABLE", "OBJECT_FUNCTION": "FUNCTION",
    "OBJECT_INDEX": "INDEX", "OBJECT_LANGUAGE": "LANGUAGE", "OBJECT_LARGEOBJECT": "LARGE OBJECT",
    "OBJECT_MATVIEW": "MATERIALIZED VIEW", "OBJECT_OPCLASS": "OPERATOR CLASS",
    "OBJECT_OPERATOR": "OPERATOR", "OBJECT_OPFAMILY": "OPERATOR FAMILY",
    "OBJECT_POLICY": "POLICY", "OBJECT_PROCEDURE": "PROCEDURE",
    "OBJECT_PUBLICATION": "PUBLICATION", "OBJECT_ROLE": "ROLE", "OBJECT_ROUTINE": "ROUTINE",
    "OBJECT_RULE": "RULE", "OBJECT_SCHEMA": "SCHEMA", "OBJECT_SEQUENCE": "SEQUENCE",
    "OBJECT_SUBSCRIPTION": "SUBSCRIPTION", "OBJECT_STATISTIC_EXT": "STATISTICS",
    "OBJECT_TABCONSTRAINT": "TABLE", "OBJECT_TABLE": "TABLE", "OBJECT_TABLESPACE": "TABLESPACE",
    "OBJECT_TRANSFORM": "TRANSFORM", "OBJECT_TRIGGER": "TRIGGER",
    "OBJECT_TSCONFIGURATION": "TEXT SEARCH CONFIGURATION",
    "OBJECT_TSDICTIONARY": "TEXT SEARCH DICTIONARY", "OBJECT_TSPARSER": "TEXT SEARCH PARSER",
    "OBJECT_TSTEMPLATE": "TEXT SEARCH TEMPLATE", "OBJECT_TYPE": "TYPE",
    "OBJECT_USER_MAPPING": "USER MAPPING", "OBJECT_VIEW": "VIEW",
}  # fmt: skip

# Objects whose creation, change or removal is about access, the server or the outside world.
_ADMIN_OBJECTS = frozenset({
    "OBJECT_ROLE", "OBJECT_TABLESPACE", "OBJECT_EXTENSION", "OBJECT_EVENT_TRIGGER",
    "OBJECT_LANGUAGE", "OBJECT_FDW", "OBJECT_FOREIGN_SERVER", "OBJECT_USER_MAPPING",
    "OBJECT_POLICY", "OBJECT_PUBLICATION", "OBJECT_PUBLICATION_NAMESPACE",
    "OBJECT_PUBLICATION_REL", "OBJECT_SUBSCRIPTION", "OBJECT_ACCESS_METHOD", "OBJECT_DEFACL",
    "OBJECT_PARAMETER_ACL",
})  # fmt: skip
_RELATION_OBJECTS = frozenset({"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_INDEX",
                               "OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE"})  # fmt: skip

_TAGS = {
    "SelectStmt": "SELECT", "InsertStmt": "INSERT", "UpdateStmt": "UPDATE",
    "DeleteStmt": "DELETE", "MergeStmt": "MERGE", "DeclareCursorStmt": "DECLARE CURSOR",
    "CreateDomainStmt": "CREATE DOMAIN", "CreateSchemaStmt": "CREATE SCHEMA",
    "CreateStmt": "CREATE TABLE", "CreateTableSpaceStmt": "CREATE TABLESPACE",
    "DropTableSpaceStmt": "DROP TABLESPACE", "AlterTableSpaceOptionsStmt": "ALTER TABLESPACE",
    "CreateExtensionStmt": "CREATE EXTENSION", "AlterExtensionStmt": "ALTER EXTENSION",
    "AlterExtensionContentsStmt": "ALTER EXTENSION",
    "CreateFdwStmt": "CREATE FOREIGN DATA WRAPPER", "AlterFdwStmt": "ALTER FOREIGN DATA WRAPPER",
    "CreateForeignServerStmt": "CREATE SERVER", "AlterForeignServerStmt": "ALTER SERVER",
    "CreateUserMappingStmt": "CREATE USER MAPPING", "AlterUserMappingStmt": "ALTER USER MAPPING",
    "DropUserMappingStmt": "DROP USER MAPPING", "CreateForeignTableStmt": "CREATE FOREIGN TABLE",
    "ImportForeignSchemaStmt": "IMPORT FOREIGN SCHEMA", "TruncateStmt": "TRUNCATE TABLE",
    "CommentStmt": "COMMENT", "SecLabelStmt": "SECURITY LABEL", "CopyStmt": "COPY",
    "AlterDomainStmt": "ALTER DOMAIN", "AlterDefaultPrivilegesStmt": "ALTER DEFAULT PRIVILEGES",
    "CompositeTypeStmt": "CREATE TYPE", "CreateEnumStmt": "CREATE TYPE",
    "CreateRangeStmt": "CREATE TYPE", "AlterEnumStmt": "ALTER TYPE", "ViewStmt": "CREATE VIEW",
    "IndexStmt": "CREATE INDEX", "RuleStmt": "CREATE RULE", "CreateSeqStmt": "CREATE SEQUENCE",
    "AlterSeqStmt": "ALTER SEQUENCE", "DoStmt": "DO", "CreatedbStmt": "CREATE DATABASE",
    "AlterDatabaseStmt": "ALTER DATABASE", "AlterDatabaseRefreshCollStmt": "ALTER DATABASE",
    "AlterDatabaseSetStmt": "ALTER DATABASE", "DropdbStmt": "DROP DATABASE",
    "NotifyStmt": "NOTIFY", "ListenStmt": "LISTEN", "UnlistenStmt": "UNLISTEN",
    "LoadStmt": "LOAD", "CallStmt": "CALL", "ClusterStmt": "CLUSTER", "ExplainStmt": "EXPLAIN",
    "RefreshMatViewStmt": "REFRESH MATERIALIZED VIEW", "AlterSystemStmt": "ALTER SYSTEM",
    "VariableShowStmt": "SHOW", "CreateTransformStmt": "CREATE TRANSFORM",
    "CreateTrigStmt": "CREATE TRIGGER", "CreateEventTrigStmt": "CREATE EVENT TRIGGER",
    "AlterEventTrigStmt": "ALTER EVENT TRIGGER", "CreatePLangStmt": "CREATE LANGUAGE",
    "CreateRoleStmt": "CREATE ROLE", "AlterRoleStmt": "ALTER ROLE",
    "AlterRoleSetStmt": "ALTER ROLE", "DropRoleStmt": "DROP ROLE", "DropOwnedStmt": "DROP OWNED",
    "ReassignOwnedStmt": "REASSIGN OWNED", "LockStmt": "LOCK TABLE",
    "ConstraintsSetStmt": "SET CONSTRAINTS", "CheckPointStmt": "CHECKPOINT",
    "ReindexStmt": "REINDEX", "CreateConversionStmt": "CREATE CONVERSION",
    "CreateCastStmt": "CREATE CAST", "CreateOpClassStmt": "CREATE OPERATOR CLASS",
    "CreateOpFamilyStmt": "CREATE OPERATOR FAMILY", "AlterOpFamilyStmt": "ALTER OPERATOR FAMILY",
    "AlterOperatorStmt": "ALTER OPERATOR", "AlterTypeStmt": "ALTER TYPE",
    "AlterTSDictionaryStmt": "ALTER TEXT SEARCH DICTIONARY",
    "AlterTSConfigurationStmt": "ALTER TEXT SEARCH CONFIGURATION",
    "CreatePolicyStmt": "CREATE POLICY", "AlterPolicyStmt": "ALTER POLICY",
    "CreateAmStmt": "CREATE ACCESS METHOD", "CreatePublicationStmt": "CREATE PUBLICATION",
    "AlterPublicationStmt": "ALTER PUBLICATION", "CreateSubscriptionStmt": "CREATE SUBSCRIPTION",
    "AlterSubscriptionStmt": "ALTER SUBSCRIPTION", "DropSubscriptionStmt": "DROP SUBSCRIPTION",
    "AlterCollationStmt": "ALTER COLLATION", "PrepareStmt": "PREPARE", "ExecuteStmt": "EXECUTE",
    "CreateStatsStmt": "CREATE STATISTICS", "AlterStatsStmt": "ALTER STATISTICS",
}  # fmt: skip

_TRANSACTION_TAGS = {
    "TRANS_STMT_BEGIN": "BEGIN", "TRANS_STMT_START": "START TRANSACTION",
    "TRANS_STMT_COMMIT": "COMMIT", "TRANS_STMT_ROLLBACK": "ROLLBACK",
    "TRANS_STMT_SAVEPOINT": "SAVEPOINT", "TRANS_STMT_RELEASE": "RELEASE",
    "TRANS_STMT_ROLLBACK_TO": "ROLLBACK", "TRANS_STMT_PREPARE": "PREPARE TRANSACTION",
    "TRANS_STMT_COMMIT_PREPARED": "COMMIT PREPARED",
    "TRANS_STMT_ROLLBACK_PREPARED": "ROLLBACK PREPARED",
}  # fmt: skip


def _noun(object_type: Any) -> str:
    return _OBJECT_NOUN.get(str(object_type), str(object_type).removeprefix("OBJECT_"))


def _select_into(body: Node) -> Node | None:
    """The INTO clause of a SELECT (it sits on the leftmost branch of a UNION)."""
    while body:
        if "intoClause" in body:
            into: Node = body["intoClause"]
            return into
        body = body.get("larg", {})
    return None


_TAG_FUNCS: dict[str, Callable[[Node], str]] = {
    "SelectStmt": lambda b: "SELECT INTO" if _select_into(b) else "SELECT",
    "TransactionStmt": lambda b: _TRANSACTION_TAGS.get(b.get("kind", ""), "TRANSACTION"),
    "ClosePortalStmt": lambda b: "CLOSE CURSOR" if b.get("portalname") else "CLOSE CURSOR ALL",
    "FetchStmt": lambda b: "MOVE" if b.get("ismove") else "FETCH",
    "DropStmt": lambda b: "DROP " + _noun(b.get("removeType")),
    "RenameStmt": lambda b: "ALTER " + _noun(
        b.get("relationType") if b.get("renameType") == "OBJECT_COLUMN" else b.get("renameType")
    ),
    "AlterObjectDependsStmt": lambda b: "ALTER " + _noun(b.get("objectType")),
    "AlterObjectSchemaStmt": lambda b: "ALTER " + _noun(b.get("objectType")),
    "AlterOwnerStmt": lambda b: "ALTER " + _noun(b.get("objectType")),
    "AlterTableMoveAllStmt": lambda b: "ALTER " + _noun(b.get("objtype")),
    "AlterTableStmt": lambda b: "ALTER " + _noun(b.get("objtype")),
    "AlterFunctionStmt": lambda b: "ALTER " + _noun(b.get("objtype")),
    "DefineStmt": lambda b: "CREATE " + _noun(b.get("kind")),
    "GrantStmt": lambda b: "GRANT" if b.get("is_grant") else "REVOKE",
    "GrantRoleStmt": lambda b: "GRANT ROLE" if b.get("is_grant") else "REVOKE ROLE",
    "CreateFunctionStmt": lambda b: (
        "CREATE PROCEDURE" if b.get("is_procedure") else "CREATE FUNCTION"
    ),
    "VacuumStmt": lambda b: "VACUUM" if b.get("is_vacuumcmd") else "ANALYZE",
    "CreateTableAsStmt": lambda b: (
        "CREATE MATERIALIZED VIEW" if b.get("objtype") == "OBJECT_MATVIEW"
        else "SELECT INTO" if b.get("is_select_into") else "CREATE TABLE AS"
    ),
    "VariableSetStmt": lambda b: "RESET" if b.get("kind", "").startswith("VAR_RESET") else "SET",
    "DiscardStmt": lambda b: b.get("target", "DISCARD_ALL").replace("_", " "),
    "DeallocateStmt": lambda b: "DEALLOCATE ALL" if b.get("isall") else "DEALLOCATE",
}  # fmt: skip


def command_tag(node_type: str, body: Node) -> str:
    """The server's command tag for a statement node ("DROP TABLE", "SELECT", ...)."""
    tag_func = _TAG_FUNCS.get(node_type)
    if tag_func is not None:
        return tag_func(body)
    return _TAGS.get(node_type, node_type.removesuffix("Stmt").upper())


# ----------------------------------------------------------------------------- node classes

# Statements whose class does not depend on their contents (beyond what the walk finds).
# The reason is "<tag> <object>" unless one is given.
_FIXED: dict[str, tuple[Risk, str | None]] = {
    "SelectStmt": (Risk.READ, None), "DeclareCursorStmt": (Risk.READ, None),
    "VariableShowStmt": (Risk.READ, None), "ListenStmt": (Risk.READ, None),
    "UnlistenStmt": (Risk.READ, None), "ClosePortalStmt": (Risk.READ, None),
    "FetchStmt": (Risk.READ, None), "ConstraintsSetStmt": (Risk.READ, None),
    "NotifyStmt": (Risk.WRITE, None), "LockStmt": (Risk.WRITE, None),
    "TruncateStmt": (Risk.DESTRUCTIVE, None), "DropdbStmt": (Risk.DESTRUCTIVE, None),
    "DoStmt": (Risk.ADMIN, "DO runs a block of procedural code"),
    "LoadStmt": (Risk.ADMIN, "LOAD loads a shared library into the server"),
    "CheckPointStmt": (Risk.ADMIN, "CHECKPOINT forces a server checkpoint"),
    "AlterSystemStmt": (Risk.ADMIN, None),
    **dict.fromkeys((
        "CreateStmt", "ViewStmt", "IndexStmt", "CreateSeqStmt", "AlterSeqStmt",
        "CreateSchemaStmt", "CreateDomainStmt", "AlterDomainStmt", "CompositeTypeStmt",
        "CreateEnumStmt", "CreateRangeStmt", "AlterEnumStmt", "AlterTypeStmt", "DefineStmt",
        "AlterFunctionStmt", "CommentStmt",
        "AlterObjectDependsStmt", "AlterTableMoveAllStmt", "CreateConversionStmt",
        "CreateCastStmt", "CreateOpClassStmt", "CreateOpFamilyStmt", "AlterOpFamilyStmt",
        "AlterOperatorStmt", "AlterTSDictionaryStmt", "AlterTSConfigurationStmt",
        "CreateStatsStmt", "AlterStatsStmt", "AlterCollationStmt", "CreatedbStmt",
        "AlterDatabaseStmt", "AlterDatabaseRefreshCollStmt", "VacuumStmt", "ReindexStmt",
        "ClusterStmt", "RefreshMatViewStmt", "CreateForeignTableStmt",
        "ImportForeignSchemaStmt", "CreateTransformStmt",
    ), (Risk.DDL, None)),
    **dict.fromkeys((
        "GrantStmt", "GrantRoleStmt", "AlterDefaultPrivilegesStmt", "CreateRoleStmt",
        "AlterRoleStmt", "AlterRoleSetStmt", "DropRoleStmt", "DropOwnedStmt",
        "ReassignOwnedStmt", "AlterOwnerStmt", "CreateExtensionStmt", "AlterExtensionStmt",
        "AlterExtensionContentsStmt", "CreatePLangStmt", "CreateEventTrigStmt",
        "AlterEventTrigStmt", "CreateFdwStmt", "AlterFdwStmt", "CreateForeignServerStmt",
        "AlterForeignServerStmt", "CreateUserMappingStmt", "AlterUserMappingStmt",
        "DropUserMappingStmt", "CreateSubscriptionStmt", "AlterSubscriptionStmt",
        "DropSubscriptionStmt", "CreatePublicationStmt", "AlterPublicationStmt",
        "CreatePolicyStmt", "AlterPolicyStmt", "CreateAmStmt", "CreateTableSpaceStmt",
        "DropTableSpaceStmt", "AlterTableSpaceOptionsStmt", "SecLabelStmt",
        "AlterDatabaseSetStmt",
        # code that later runs inside statements that do not show it
        "CreateTrigStmt", "RuleStmt",
    ), (Risk.ADMIN, None)),
}  # fmt: skip

# Nodes that do nothing themselves: only their children are classified.
_PLAIN = frozenset({
    "A_ArrayExpr", "A_Const", "A_Expr", "A_Indices", "A_Indirection", "A_Star", "AccessPriv",
    "Alias", "AlterTableCmd", "ATAlterConstraint", "BitString", "Boolean", "BooleanTest",
    "BoolExpr", "CaseExpr", "CaseWhen", "CoalesceExpr", "CollateClause", "ColumnDef",
    "ColumnRef", "Constraint", "CreateOpClassItem", "CTECycleClause", "CTESearchClause",
    "CurrentOfExpr", "DefElem", "Float", "FunctionParameter", "GroupingFunc", "GroupingSet",
    "IndexElem", "InferClause", "Integer", "IntoClause", "JoinExpr", "List",
    "MergeSupportFunc", "MergeWhenClause", "MinMaxExpr", "MultiAssignRef", "NamedArgExpr",
    "NullTest", "ObjectWithArgs", "OnConflictClause", "ParamRef", "PartitionBoundSpec",
    "PartitionCmd", "PartitionElem", "PartitionRangeDatum", "PartitionSpec",
    "PublicationObjSpec", "PublicationTable", "RangeFunction", "RangeSubselect",
    "RangeTableFunc", "RangeTableFuncCol", "RangeTableSample", "ReplicaIdentityStmt",
    "ResTarget", "ReturningClause", "ReturningOption", "ReturnStmt", "RoleSpec", "RowExpr",
    "SetToDefault", "SortBy", "SQLValueFunction", "StatsElem", "String", "SubLink",
    "TableLikeClause", "TriggerTransition", "TypeCast", "TypeName", "VacuumRelation",
    "WindowDef", "WithClause", "XmlExpr", "XmlSerialize",
    "JsonAggConstructor", "JsonArgument", "JsonArrayAgg", "JsonArrayConstructor",
    "JsonArrayQueryConstructor", "JsonBehavior", "JsonFormat", "JsonFuncExpr",
    "JsonIsPredicate", "JsonKeyValue", "JsonObjectAgg", "JsonObjectConstructor", "JsonOutput",
    "JsonParseExpr", "JsonReturning", "JsonScalarExpr", "JsonSerializeExpr", "JsonTable",
    "JsonTableColumn", "JsonTablePathSpec", "JsonValueExpr",
})  # fmt: skip


def _grant_reason(body: Node) -> str:
    privileges = _names(body.get("privileges")).upper() or "ALL"
    to = "TO" if body.get("is_grant") else "FROM"
    return (
        f"{command_tag('GrantStmt', body)} {privileges} ON {_object_name(body)}"
        f" {to} {_names(body.get('grantees'))}"
    )


def _grant_role_reason(body: Node) -> str:
    to = "TO" if body.get("is_grant") else "FROM"
    roles, grantees = _names(body.get("granted_roles")), _names(body.get("grantee_roles"))
    return f"{command_tag('GrantRoleStmt', body)} {roles} {to} {grantees}"


def _owner_reason(body: Node) -> str:
    subject = _object_name(body)
    return f"{command_tag('AlterOwnerStmt', body)} {subject} OWNER TO {_name_of(body['newowner'])}"


def _set_for_reason(node_type: str) -> Callable[[Node], str]:
    """ALTER ROLE/DATABASE ... SET x and ALTER SYSTEM SET x: the setting for every session."""

    def reason(body: Node) -> str:
        setting = body.get("setstmt", {})
        verb = "RESET" if str(setting.get("kind", "")).startswith("VAR_RESET") else "SET"
        words = (command_tag(node_type, body), _object_name(body), verb, setting.get("name", "ALL"))
        return " ".join(w for w in words if w)

    return reason


def _trigger_reason(body: Node) -> str:
    return (
        f"CREATE TRIGGER {body.get('trigname', '')} on {_range_var_name(body.get('relation', {}))}"
        f" runs {'.'.join(_strings(body.get('funcname')))}() inside every statement that fires it"
    )


def _event_trigger_reason(body: Node) -> str:
    return (
        f"CREATE EVENT TRIGGER {body.get('trigname', '')} runs"
        f" {'.'.join(_strings(body.get('funcname')))}() on every {body.get('eventname', 'event')}"
    )


def _rule_reason(body: Node) -> str:
    return (
        f"CREATE RULE {body.get('rulename', '')} on {_range_var_name(body.get('relation', {}))}"
        f" rewrites every {str(body.get('event', '')).removeprefix('CMD_')} on it into"
        " statements the writer does not see"
    )


_REASONS: dict[str, Callable[[Node], str]] = {
    "CreateTrigStmt": _trigger_reason,
    "CreateEventTrigStmt": _event_trigger_reason,
    "RuleStmt": _rule_reason,
    "GrantStmt": _grant_reason,
    "GrantRoleStmt": _grant_role_reason,
    "AlterOwnerStmt": _owner_reason,
    "AlterRoleSetStmt": _set_for_reason("AlterRoleSetStmt"),
    "AlterDatabaseSetStmt": _set_for_reason("AlterDatabaseSetStmt"),
    "AlterSystemStmt": _set_for_reason("AlterSystemStmt"),
}

# Plain nodes that never hold another node worth a look (only names and literals).
_LEAVES = frozenset(
    {"String", "A_Const", "Integer", "Float", "Boolean", "BitString", "A_Star", "ParamRef",
     "SQLValueFunction", "ColumnRef"}
)  # fmt: skip

_DATA_MODIFYING = frozenset({"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"})
# Built-ins the walk reads specially: what they do depends on their arguments.
_SPECIAL_FUNCTIONS = SETTING_FUNCTIONS | SQL_TEXT_FUNCTIONS.keys()
# A function's SQL text is lexed again each time it runs, with the caller's settings: the
# strictest reading of standard_conforming_strings (the database's encoding is always safe).
_FUNCTION_TEXT_STATE = LexState(standard_conforming_strings=None, client_encoding="UTF8")
# Options of CREATE AGGREGATE/OPERATOR/TYPE, ranges and text search that name a function the
# server calls later, inside the statements that use what was defined.
_SUPPORT_FUNCTION_OPTIONS = frozenset({
    "sfunc", "finalfunc", "combinefunc", "serialfunc", "deserialfunc", "msfunc", "minvfunc",
    "mfinalfunc", "procedure", "function", "restrict", "join", "input", "output", "receive",
    "send", "typmod_in", "typmod_out", "analyze", "subscript", "subtype_diff", "canonical",
    "start", "gettoken", "end", "lextypes", "headline", "init", "lexize",
})  # fmt: skip
_DISCARDS = {
    "DISCARD_TEMP": (
        "DISCARD TEMP drops this session's temporary tables and their rows (only this session"
        " sees them; ending the session drops them too)"
    ),
    "DISCARD_ALL": (
        "DISCARD ALL drops this session's temporary tables and their rows, deallocates every"
        " prepared statement and resets the session to how it started (identity, settings,"
        " cursors, listens, advisory locks), as a new connection would"
    ),
}
_LOCK_WORDS = {
    "LCS_FORKEYSHARE": "FOR KEY SHARE", "LCS_FORSHARE": "FOR SHARE",
    "LCS_FORNOKEYUPDATE": "FOR NO KEY UPDATE", "LCS_FORUPDATE": "FOR UPDATE",
}  # fmt: skip


class _Classifier:
    """Walks the statements of one query string in order, tracking prepared statements."""

    def __init__(
        self,
        state: LexState,
        prepared: Mapping[str, Risk] | None,
        safe_functions: frozenset[str],
        server_version: int = OLDEST_SUPPORTED,
    ) -> None:
        self.state = state
        self.prepared = prepared
        self.safe_functions = safe_functions
        self.server_version = server_version
        # inside `SELECT set_config(name, ...) FROM pg_settings WHERE name = 'x'`: x
        self.settings_row: str | None = None
        self.effects = SessionEffects()
        self.statements: list[StatementInfo] = []
        self.scan = Scan("")

    # -- driving

    def statement(self, node: Node) -> None:
        node_type, body = _unwrap(node)
        self.scan = Scan(command_tag(node_type or "", body))
        self._typed(node_type or "", body)
        self.statements.append(self.scan.info())

    def result(self) -> Classification:
        return self.effects.classification(tuple(self.statements))

    # -- the walk

    def _walk(self, value: Any) -> None:
        if type(value) is dict:
            if len(value) == 1:
                for key, body in value.items():
                    action = _ACTIONS.get(key, _NOT_A_NODE)
                    if action is None:  # a leaf: names and literals only
                        return
                    if action is not _NOT_A_NODE:
                        action(self, body)
                        return
                    if key[0].isupper():
                        self.scan.add(Risk.UNKNOWN, f"unrecognised syntax: {key}")
                        return
            self._inline(value)
        elif type(value) is list:
            for item in value:
                self._walk(item)

    def _inline(self, body: Node) -> None:
        """Fields of a struct the JSON does not wrap in its type: recognised by its fields."""
        if "funcformat" in body:  # a FuncCall (CallStmt.funccall)
            self._func_call(body)
            return
        if "relname" in body:  # a RangeVar
            self._range_var(body)
        if "intoClause" in body:  # a SELECT (or a UNION branch) with INTO
            rel = _range_var_name(body["intoClause"].get("rel", {}))
            self.scan.effect(Risk.DDL, f"SELECT INTO creates table {rel}")
        self._fields(body)

    def _fields(self, body: Node, skip: str = "") -> None:
        """Walk every field (lists item by item: one stack frame less per level)."""
        walk = self._walk
        for key, value in body.items():
            kind = type(value)
            if kind is dict:
                if key != skip:
                    walk(value)
            elif kind is list and key != skip:
                for item in value:
                    walk(item)

    def _typed(self, node_type: str, body: Node) -> None:
        action = _ACTIONS.get(node_type, _NOT_A_NODE)
        if action is _NOT_A_NODE:
            self.scan.add(Risk.UNKNOWN, f"unrecognised syntax: {node_type}")
        elif action is not None:
            action(self, body)

    def _nested(self, node: Any) -> Scan:
        """Walk node as a statement of its own (a PREPARE's body): its scan, not ours."""
        outer = self.scan
        node_type, body = _unwrap(node)
        self.scan = Scan(command_tag(node_type or "", body))
        try:
            self._walk(node)
            return self.scan
        finally:
            self.scan = outer

    # -- statements

    def _fixed(self, node_type: str, body: Node) -> None:
        risk, reason = _FIXED[node_type]
        if risk is not Risk.READ:
            if node_type in _REASONS:
                reason = _REASONS[node_type](body)
            elif reason is None:
                reason = f"{command_tag(node_type, body)} {_object_name(body)}".rstrip()
            self.scan.effect(risk, reason)
        self._inline(body)

    def _modify(self, body: Node, verb: str) -> None:
        relation = body.get("relation", {})
        others = bool(body.get("fromClause") or body.get("usingClause"))
        problem = _unbounded(verb, relation, body.get("whereClause"), others=others)
        if problem:
            self.scan.effect(Risk.DESTRUCTIVE, problem)
        else:
            self.scan.effect(Risk.WRITE, f"{verb} on {_range_var_name(relation)}")
        self._inline(body)

    def _update(self, body: Node) -> None:
        self._modify(body, "UPDATE")

    def _delete(self, body: Node) -> None:
        self._modify(body, "DELETE")

    def _insert(self, body: Node) -> None:
        self.scan.effect(Risk.WRITE, f"INSERT into {_range_var_name(body.get('relation', {}))}")
        self._inline(body)

    def _merge(self, body: Node) -> None:
        relation = body.get("relation", {})
        table = _range_var_name(relation)
        changing = [
            when
            for when in (_unwrap(c)[1] for c in body.get("mergeWhenClauses", []))
            if when.get("commandType") in ("CMD_UPDATE", "CMD_DELETE")
        ]
        by_source = [
            w for w in changing if w.get("matchKind") == "MERGE_WHEN_NOT_MATCHED_BY_SOURCE"
        ]
        on = body.get("joinCondition")
        problem = _unbounded("MERGE", relation, on, "ON", others=True) if changing else None
        if any("condition" not in w for w in by_source):
            problem = f"MERGE changes every row of {table} the source does not match"
        if problem:
            self.scan.effect(Risk.DESTRUCTIVE, problem)
        else:
            self.scan.effect(Risk.WRITE, f"MERGE into {table}")
        self._inline(body)

    def _cte(self, body: Node) -> None:
        self.scan.ctes.add(str(body.get("ctename", "")))
        if _unwrap(body.get("ctequery"))[0] in _DATA_MODIFYING:
            self.scan.effect(Risk.WRITE, f"data-modifying CTE inside {self.scan.kind}")
        self._fields(body)

    def _locking(self, body: Node) -> None:
        words = _LOCK_WORDS.get(body.get("strength", ""), "FOR UPDATE")
        self.scan.effect(Risk.WRITE, f"SELECT ... {words} locks rows")
        self._fields(body)

    def _explain(self, body: Node) -> None:
        analyze = False
        for option in body.get("options", []):
            name, arg = _defelem(option)
            if name == "analyze":  # ANALYSE too; the server takes the last one given
                analyze = _option_is_on(arg)
        if analyze:
            self._walk(body.get("query"))
            if self.scan.risk is not Risk.READ:
                self.scan.add(self.scan.risk, "EXPLAIN ANALYZE runs the statement")
            return
        self.scan.planning += 1
        try:
            self._walk(body.get("query"))
        finally:
            self.scan.planning -= 1

    def _copy(self, body: Node) -> None:
        target = body.get("filename")
        direction = "FROM" if body.get("is_from") else "TO"
        if body.get("is_program"):
            self.scan.effect(Risk.ADMIN, f"COPY {direction} PROGRAM runs '{target}' on the server")
        elif target is not None:
            self.scan.effect(Risk.ADMIN, f"COPY {direction} the server file '{target}'")
        elif body.get("is_from"):
            self.scan.effect(Risk.WRITE, f"COPY into {_range_var_name(body.get('relation', {}))}")
        self._inline(body)

    def _create_table_as(self, body: Node) -> None:
        rel = _range_var_name(body.get("into", {}).get("rel", {}))
        tag = command_tag("CreateTableAsStmt", body)
        what = f"CREATE TABLE {rel} AS" if tag == "CREATE TABLE AS" else f"{tag} {rel}"
        self.scan.effect(Risk.DDL, what)
        self._inline(body)

    def _prepare(self, body: Node) -> None:
        name = str(body.get("name", ""))
        inner = self._nested(body.get("query"))
        self._walk(body.get("argtypes"))
        self.scan.tables.extend(inner.tables)
        self.scan.ctes |= inner.ctes
        when = f"PREPARE {name} ({inner.risk.value} when executed)"
        for reason in inner.reasons:
            self.scan.add(Risk.READ, f"{when}: {reason}")
        if not inner.reasons and inner.risk is not Risk.READ:
            self.scan.add(Risk.READ, when)
        self.effects.prepare(name, inner.risk)

    def _execute(self, body: Node) -> None:
        name = str(body.get("name", ""))
        self._walk(body.get("params"))
        if self.scan.planning:
            return
        self.effects.executes.append(name)
        risk = self.effects.prepared_risk(name, self.prepared)
        if risk is None:
            self.scan.effect(Risk.UNKNOWN, f"EXECUTE of unknown prepared statement {name}")
        elif risk is not Risk.READ:
            self.scan.effect(risk, f"EXECUTE {name} runs a prepared {risk.value} statement")

    def _deallocate(self, body: Node) -> None:
        if body.get("isall"):
            self.effects.deallocate_all()
        else:
            self.effects.deallocate(str(body.get("name", "")))

    def _discard(self, body: Node) -> None:
        """DISCARD resets what only this session sees: PLANS and SEQUENCES are reads; TEMP
        and ALL drop the session's temporary tables, a write no other session notices."""
        target = body.get("target", "DISCARD_ALL")
        if target == "DISCARD_ALL":
            self.effects.deallocate_all()
        if target in _DISCARDS:
            self.scan.effect(Risk.WRITE, _DISCARDS[target])

    def _transaction(self, body: Node) -> None:
        kind = body.get("kind", "")
        tag = _TRANSACTION_TAGS.get(kind, "TRANSACTION")
        if kind == "TRANS_STMT_PREPARE":
            self.scan.effect(Risk.WRITE, "PREPARE TRANSACTION keeps a transaction and its locks")
        elif kind in ("TRANS_STMT_COMMIT_PREPARED", "TRANS_STMT_ROLLBACK_PREPARED"):
            gid = body.get("gid", "")
            self.scan.effect(Risk.ADMIN, f"{tag} '{gid}' ends a transaction of another session")
        self._fields(body)

    def _variable_set(self, body: Node) -> None:
        kind = body.get("kind", "")
        name = str(body.get("name", "")).lower()
        verb = "RESET" if kind.startswith("VAR_RESET") else "SET"
        if kind in ("VAR_SET_MULTI", "VAR_RESET_ALL"):
            risk, why = Risk.READ, ""
        elif kind == "VAR_SET_VALUE":
            texts = [_const_text(a) for a in body.get("args", [])]
            values = None if None in texts else tuple(t for t in texts if t is not None)
            risk, why = setting_risk(name, values)
        else:  # RESET x, SET x TO DEFAULT, SET x FROM CURRENT
            risk, why = setting_risk(name, None, reset=True)
        if why:
            self.scan.effect(risk, f"{verb} {name} {why}")
        self._fields(body)

    def _drop(self, body: Node) -> None:
        remove_type = body.get("removeType", "")
        names = [_name_of(o) for o in body.get("objects", [])]
        if remove_type in _RELATION_OBJECTS:
            self.scan.tables.extend((0, name) for name in names)
        risk = Risk.ADMIN if remove_type in _ADMIN_OBJECTS else Risk.DESTRUCTIVE
        cascade = " CASCADE" if body.get("behavior") == "DROP_CASCADE" else ""
        self.scan.effect(risk, f"DROP {_noun(remove_type)} {', '.join(names)}{cascade}")
        self._fields(body)

    def _alter_object(self, body: Node, object_type: str, change: str) -> None:
        """RENAME and SET SCHEMA: ddl, admin for access-related objects."""
        subject = _object_name(body) or str(body.get("subname", ""))
        risk = Risk.ADMIN if object_type in _ADMIN_OBJECTS else Risk.DDL
        tag = "ALTER " + _noun(object_type)
        self.scan.effect(risk, f"{tag} {subject} {change}")
        self._inline(body)

    def _rename(self, body: Node) -> None:
        part = body.get("subname", "") if "relation" in body else ""  # a column, attribute, ...
        change = " ".join(w for w in ("RENAME", part, "TO", str(body.get("newname"))) if w)
        self._alter_object(body, body.get("renameType", ""), change)

    def _set_schema(self, body: Node) -> None:
        change = f"SET SCHEMA {body.get('newschema')}"
        self._alter_object(body, body.get("objectType", ""), change)

    def _alter_table(self, body: Node) -> None:
        tag = command_tag("AlterTableStmt", body)
        table = _range_var_name(body.get("relation", {}))
        dangers = [d for d in map(_alter_table_danger, body.get("cmds", [])) if d]
        for risk, what in dangers:
            self.scan.effect(risk, f"{tag} {table} {what}")
        if not dangers:
            self.scan.effect(Risk.DDL, f"{tag} {table}")
        self._inline(body)

    def _create_function(self, body: Node) -> None:
        """CREATE FUNCTION/PROCEDURE plants a body that runs inside every statement calling it:
        the class of what the body may do (at least ddl), admin when the body cannot be read
        (a language other than SQL) or runs with its owner's privileges (SECURITY DEFINER)."""
        subject = (
            f"{command_tag('CreateFunctionStmt', body)} {'.'.join(_strings(body.get('funcname')))}"
        )
        options = dict(map(_defelem, body.get("options", [])))
        language = "sql" if "sql_body" in body else None
        if "language" in options:
            language = str(_unwrap(options["language"])[1].get("sval", "")).lower()
        if "security" in options and _option_is_on(options["security"]):
            self.scan.effect(
                Risk.ADMIN, f"{subject} is SECURITY DEFINER: it runs with its owner's privileges"
            )
        if language == "sql":
            self._plants(subject, self._sql_function_body(body, options.get("as")))
        else:
            self.scan.effect(
                Risk.ADMIN,
                f"{subject} in LANGUAGE {language or '(none given)'}: the gateway cannot read"
                " its body, which runs inside every statement that calls it",
            )
        self._fields(body, skip="sql_body")

    def _sql_function_body(self, body: Node, source: Any) -> Classification:
        """The class of a SQL function's body: BEGIN ATOMIC/RETURN as parsed, or its text."""
        sql_body = body.get("sql_body")
        if sql_body is not None:
            inner = _Classifier(self.state, None, self.safe_functions, self.server_version)
            for statement in _flattened(sql_body):
                inner.statement(statement)
            return inner.result()
        texts = _strings(_unwrap(source)[1].get("items")) if source is not None else []
        if len(texts) != 1:
            return _unknown("its body is not one SQL text")
        return classify_postgres(
            texts[0],
            state=_FUNCTION_TEXT_STATE,
            safe_functions=self.safe_functions,
            server_version=self.server_version,
        )

    def _plants(self, subject: str, body: Classification) -> None:
        """Code that later runs inside other statements: its class, at least ddl."""
        risk = body.risk if body.risk.outranks(Risk.DDL) else Risk.DDL
        self.scan.effect(risk, subject)
        for reason in body.reasons:
            self.scan.effect(risk, f"{subject} runs, whenever it is called: {reason}")

    def _alter_function(self, body: Node) -> None:
        for action in body.get("actions", []):
            name, arg = _defelem(action)
            if name == "security" and _option_is_on(arg):
                what = f"{command_tag('AlterFunctionStmt', body)} {_object_name(body)}"
                self.scan.effect(
                    Risk.ADMIN, f"{what} SECURITY DEFINER: it runs with its owner's privileges"
                )
        self._fixed("AlterFunctionStmt", body)

    def _defines_functions(self, node_type: str, body: Node) -> None:
        """CREATE AGGREGATE/OPERATOR/TYPE/CAST/... name functions the server calls later
        inside other statements: their class, at least ddl."""
        self._fixed(node_type, body)
        subject = f"{command_tag(node_type, body)} {_object_name(body)}".rstrip()
        for role, parts in _support_functions(body):
            schema, name = split_name(parts)
            written = ".".join(parts)
            if schema in (None, "pg_catalog") and name in _SPECIAL_FUNCTIONS:
                risk, why = Risk.UNKNOWN, f"{written}() would run on values nobody wrote"
            else:
                risk, why = function_risk(parts, self.safe_functions)
            if risk is not Risk.READ:
                risk = risk if risk.outranks(Risk.DDL) else Risk.DDL
                self.scan.effect(
                    risk, f"{subject} makes later statements call {written}() ({role}): {why}"
                )

    def _call(self, body: Node) -> None:
        call = body.get("funccall", {})
        written = ".".join(_strings(call.get("funcname")))
        self._fields(call, skip="funcname")
        if written not in self.safe_functions:
            self.scan.effect(Risk.ADMIN, f"CALL {written}() runs a procedure")

    # -- expressions

    def _range_var(self, body: Node) -> None:
        self.scan.tables.append((int(body.get("location", 0)), _range_var_name(body)))

    def _func_call(self, body: Node) -> None:
        parts = tuple(_strings(body.get("funcname")))
        schema, name = split_name(parts) if parts else (None, "")
        args = body.get("args", [])
        builtin = schema in (None, "pg_catalog")
        newer = _NEWER_SQL_FUNCTIONS.get(name) if builtin else None
        if newer and body.get("funcformat") == "COERCE_SQL_SYNTAX":
            since, what, arity = newer
            if self.server_version < since and arity in (None, len(args)):
                self.scan.add(Risk.UNKNOWN, _newer_syntax(what, since, self.server_version))
        if builtin and name in SETTING_FUNCTIONS:
            self._set_config(args)
        elif builtin and name in SQL_TEXT_FUNCTIONS:
            self._sql_text_call(".".join(parts), name, args)
        else:
            self.scan.add(*function_risk(parts, self.safe_functions))
        self._fields(body, skip="funcname")

    def _select(self, body: Node) -> None:
        outer, self.settings_row = self.settings_row, _pg_settings_row(body)
        try:
            self._fixed("SelectStmt", body)
        finally:
            self.settings_row = outer

    def _set_config(self, args: list[Any]) -> None:
        name = _const_text(args[0]) if args else None
        if name is None and self.settings_row is not None and _column_is(args[0], "name"):
            name = self.settings_row  # pg_dump's way to set a setting only where it exists
        if name is None:
            self.scan.add(Risk.ADMIN, "set_config() of a setting named by an expression")
            return
        risk, why = setting_value_risk(name, _const_text(args[1]) if len(args) > 1 else None)
        self.scan.add(risk, f"set_config('{name.lower()}', ...) {why}" if why else "")

    def _sql_text_call(self, written: str, name: str, args: list[Any]) -> None:
        index, arity = SQL_TEXT_FUNCTIONS[name]
        if arity is not None and len(args) != arity:
            return  # another overload, which runs no SQL
        text = _const_text(args[index]) if len(args) > index else None
        if text is None:
            self.scan.add(Risk.UNKNOWN, f"{written}() runs SQL that is not a literal")
            return
        inner = classify_postgres(
            text,
            state=self.state,
            safe_functions=self.safe_functions,
            server_version=self.server_version,
        )
        for reason in inner.reasons or ("",):
            self.scan.add(inner.risk, f"{written}() runs SQL: {reason}" if reason else "")


def _column_is(node: Any, column: str) -> bool:
    kind, body = _unwrap(node)
    return kind == "ColumnRef" and list(_strings(body.get("fields"))) == [column]


def _pg_settings_row(body: Node) -> str | None:
    """x for `SELECT ... FROM [pg_catalog.]pg_settings WHERE name = 'x'` (one table, that
    one condition): set_config(name, ...) there sets exactly the setting x, if it exists."""
    tables = body.get("fromClause") or []
    if len(tables) != 1:
        return None
    kind, table = _unwrap(tables[0])
    if kind != "RangeVar" or table.get("relname") != "pg_settings" or "alias" in table:
        return None
    if table.get("schemaname", "pg_catalog") != "pg_catalog":
        return None
    kind, where = _unwrap(body.get("whereClause"))
    if kind != "A_Expr" or where.get("kind") != "AEXPR_OP":
        return None
    if list(_strings(where.get("name"))) != ["="] or not _column_is(where.get("lexpr"), "name"):
        return None
    return _const_text(where.get("rexpr"))


def _alter_table_danger(cmd: Any) -> tuple[Risk, str] | None:
    """The class and words of an ALTER TABLE subcommand worse than ddl."""
    body = _unwrap(cmd)[1]
    subtype = body.get("subtype", "")
    column = body.get("name", "")
    if subtype == "AT_DropColumn":
        return Risk.DESTRUCTIVE, f"DROP COLUMN {column}"
    if subtype == "AT_AlterColumnType":
        using = _unwrap(body.get("def"))[1].get("raw_default")
        if using is not None and not _contains(using, frozenset({"ColumnRef"})):
            return Risk.DESTRUCTIVE, f"ALTER COLUMN {column} TYPE ... USING replaces every value"
    if subtype == "AT_ChangeOwner":
        return Risk.ADMIN, f"OWNER TO {_name_of(body.get('newowner', {}))}"
    if subtype.endswith("RowSecurity"):
        return Risk.ADMIN, "changes row-level security"
    if subtype.startswith(("AT_Enable", "AT_Disable")) and subtype.endswith(_CODE_SWITCHES):
        verb = "ENABLE" if subtype.startswith("AT_Enable") else "DISABLE"
        what = "RULE" if subtype.endswith("Rule") else "TRIGGER"
        name = column or ("USER" if subtype.endswith("User") else "ALL")
        return Risk.ADMIN, f"{verb} {what} {name} changes the code that runs inside its statements"
    return None


_CODE_SWITCHES = ("Trig", "TrigAll", "TrigUser", "Rule")


def _flattened(node: Any) -> list[Any]:
    """The statements of a SQL function's body: BEGIN ATOMIC is a list of lists, RETURN one."""
    if _unwrap(node)[0] != "List":
        return [node]
    return [statement for item in _list_items(node) for statement in _flattened(item)]


def _support_functions(body: Node) -> list[tuple[str, tuple[str, ...]]]:
    """(role, name) of each function a definition makes the server call in later statements."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for field in ("definition", "params", "options"):
        for item in body.get(field) or []:
            name, arg = _defelem(item)
            if name in _SUPPORT_FUNCTION_OPTIONS and arg is not None:
                kind, value = _unwrap(arg)  # a TypeName, a String or a List of names
                names = [str(value["sval"])] if kind == "String" else _strings(value.get("names"))
                found.append((name.upper(), tuple(names or _strings(value.get("items")))))
    for field, role in (("func", "cast"), ("fromsql", "FROM SQL"), ("tosql", "TO SQL")):
        if type(body.get(field)) is dict:
            found.append((role, tuple(_strings(body[field].get("objname")))))
    if "func_name" in body:  # CREATE CONVERSION ... FROM function
        found.append(("conversion", tuple(_strings(body["func_name"]))))
    for item in body.get("items") or []:  # operator classes and families: FUNCTION n name(...)
        kind, value = _unwrap(item)
        if kind == "CreateOpClassItem" and value.get("itemtype") == 2:
            function = tuple(_strings(value.get("name", {}).get("objname")))
            found.append((f"support function {value.get('number', '')}", function))
    return [(role, parts) for role, parts in found if parts]


_HANDLERS: dict[str, Callable[[_Classifier, Node], None]] = {
    "InsertStmt": _Classifier._insert,
    "UpdateStmt": _Classifier._update,
    "DeleteStmt": _Classifier._delete,
    "MergeStmt": _Classifier._merge,
    "CommonTableExpr": _Classifier._cte,
    "LockingClause": _Classifier._locking,
    "ExplainStmt": _Classifier._explain,
    "CopyStmt": _Classifier._copy,
    "CreateTableAsStmt": _Classifier._create_table_as,
    "PrepareStmt": _Classifier._prepare,
    "ExecuteStmt": _Classifier._execute,
    "DeallocateStmt": _Classifier._deallocate,
    "DiscardStmt": _Classifier._discard,
    "TransactionStmt": _Classifier._transaction,
    "VariableSetStmt": _Classifier._variable_set,
    "DropStmt": _Classifier._drop,
    "RenameStmt": _Classifier._rename,
    "AlterObjectSchemaStmt": _Classifier._set_schema,
    "AlterTableStmt": _Classifier._alter_table,
    "CreateFunctionStmt": _Classifier._create_function,
    "AlterFunctionStmt": _Classifier._alter_function,
    "CallStmt": _Classifier._call,
    "RangeVar": _Classifier._range_var,
    "FuncCall": _Classifier._func_call,
    "SelectStmt": _Classifier._select,
}


def _fixed_action(node_type: str) -> Callable[[_Classifier, Node], None]:
    return lambda classifier, body: classifier._fixed(node_type, body)


def _defining_action(node_type: str) -> Callable[[_Classifier, Node], None]:
    return lambda classifier, body: classifier._defines_functions(node_type, body)


def _version_gated(
    node_type: str, action: Callable[[_Classifier, Node], None] | None
) -> Callable[[_Classifier, Node], None]:
    """action, after checking the node is no syntax newer than the server."""

    def gated(classifier: _Classifier, body: Node) -> None:
        why = _newer_node_syntax(node_type, body, classifier.server_version)
        if why is not None:
            classifier.scan.add(Risk.UNKNOWN, why)
        if action is not None:
            action(classifier, body)

    return gated


# Statements that name functions the server calls later (their class is the functions').
_DEFINING = (
    "DefineStmt", "CreateRangeStmt", "AlterOperatorStmt", "AlterTypeStmt", "CreateCastStmt",
    "CreateOpClassStmt", "AlterOpFamilyStmt", "CreateTransformStmt", "CreateConversionStmt",
)  # fmt: skip


# What the walk does with each node type: one lookup per node. None: a leaf, nothing to see.
_NOT_A_NODE: Any = object()
_ACTIONS: dict[str, Callable[[_Classifier, Node], None] | None] = {
    **dict.fromkeys(_PLAIN, _Classifier._fields),
    **{node_type: _fixed_action(node_type) for node_type in _FIXED},
    **_HANDLERS,
    **{node_type: _defining_action(node_type) for node_type in _DEFINING},
    **dict.fromkeys(_LEAVES),
}
_ACTIONS.update(
    (node_type, _version_gated(node_type, _ACTIONS[node_type]))
    for node_type in _NEWER_NODES.keys() | _NEWER_FIELDS.keys()
)


# ----------------------------------------------------------------------------- fast path

# Most traffic is plain reads (pgbench's SELECT, ORM lookups, psql's \d, drivers' metadata).
# For those the answer is read from the parser's JSON text without decoding it into Python
# objects, which costs more than parsing. The fast path answers only when the text proves
# that the full walk would find nothing but tables and listed functions:
#   - one statement, a SelectStmt without INTO (the command tag is then SELECT);
#   - every typed node ({"Type": ...}) is a kind whose walk only records tables (RangeVar),
#     CTE names (CommonTableExpr), a function call (FuncCall), or nothing (_PLAIN, leaves);
#   - every RangeVar, CommonTableExpr and FuncCall was read by the patterns below (counted
#     against their keys, so no inline RangeVar or FuncCall struct is left for the walk);
#   - every function is a read by function_risk and not one the walk treats specially.
# Otherwise (or when in doubt) it returns None and the full walk decides. JSON escapes every
# quote inside a string, so `"Name":{` with a name character before the closing quote can
# only be a structural key, never text from a literal. tests check both paths agree.
_JSON_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'  # a JSON string token, escapes included


def _json_pattern(template: str) -> re.Pattern[str]:
    """A regular expression over the parser's JSON; <str> stands for a string token."""
    return re.compile(template.replace("<str>", _JSON_STRING))


_TYPED_KEY = re.compile(r'\{"([A-Z][^"]*)":')
_RANGE_VAR = _json_pattern(
    r'"RangeVar":\{(?:"catalogname":(<str>),)?(?:"schemaname":(<str>),)?"relname":(<str>)'
    r'(?:,"inh":true)?,"relpersistence":"[a-z]"'
    r'(?:,"alias":\{"aliasname":<str>'
    r'(?:,"colnames":\[(?:\{"String":\{"sval":<str>\}\},?)*\])?\})?'
    r'(?:,"location":(-?\d+))?\}'
)
_FUNC_CALL = _json_pattern(r'"FuncCall":\{"funcname":\[((?:\{"String":\{"sval":<str>\}\},?)+)\]')
_CTE_NAME = _json_pattern(r'"CommonTableExpr":\{"ctename":(<str>)')
_SVAL = _json_pattern(r'"sval":(<str>)')
# (syntax newer than the server is left to the walk, which knows the server's version)
_FAST_TYPES = (_PLAIN | _LEAVES | {"SelectStmt", "RangeVar", "CommonTableExpr", "FuncCall"}) - (
    _NEWER_NODES.keys() | _NEWER_FIELDS.keys()
)
_WALK_DECIDES = _SPECIAL_FUNCTIONS | _NEWER_SQL_FUNCTIONS.keys()
_ONE_SELECT = '"stmts":[{"stmt":{"SelectStmt":'


def _json_text(token: str) -> str:
    """The value of a JSON string token ("" for an absent optional group)."""
    if "\\" not in token:
        return token[1:-1]
    return str(json.loads(token))


def _fast_read(text: str, safe_functions: frozenset[str]) -> Classification | None:
    """The class of a plain read from the parser's JSON, or None: the full walk decides."""
    if text.find(_ONE_SELECT, 0, 64) == -1 or text.count('{"stmt":') != 1:
        return None
    keys = _TYPED_KEY.findall(text)
    if not _FAST_TYPES.issuperset(keys):
        return None
    # Every RangeVar has a relname and every FuncCall a funcformat: equal counts mean none is
    # an inline struct (SELECT INTO's table is one, so INTO never gets past this either).
    range_vars = keys.count("RangeVar")
    calls = keys.count("FuncCall")
    if text.count('"relname":') != range_vars or text.count('"funcformat":') != calls:
        return None
    names = _FUNC_CALL.findall(text) if calls else []
    if len(names) != calls:
        return None
    for tokens in names:
        parts = tuple(_json_text(token) for token in _SVAL.findall(tokens))
        if parts[-1] in _WALK_DECIDES:
            return None
        if function_risk(parts, safe_functions)[0] is not Risk.READ:
            return None
    tables = _RANGE_VAR.findall(text) if range_vars else []
    ctes = _CTE_NAME.findall(text) if "CommonTableExpr" in keys else []
    if len(tables) != range_vars or len(ctes) != keys.count("CommonTableExpr"):
        return None
    located = sorted(
        (
            (int(location or 0), ".".join(filter(None, map(_json_text, parts))))
            for *parts, location in tables
        ),
        key=lambda table: table[0],
    )
    hidden = {_json_text(name) for name in ctes}
    named = tuple(name for name in dict.fromkeys(n for _, n in located) if name not in hidden)
    return Classification(Risk.READ, (StatementInfo("SELECT", Risk.READ, named, ()),), ())


# ----------------------------------------------------------------------------- entry points


# The decoder's own scanner: json.loads adds two regex matches and a method call around it.
_SCAN_JSON = json.scanner.make_scanner(cast(Any, json.JSONDecoder()))


def _decode(text: str) -> Any:
    """The parser's JSON as Python objects (the scanner without json.loads' wrapping)."""
    try:
        value, end = _SCAN_JSON(text, 0)
    except StopIteration as e:
        raise ValueError("the parser's JSON does not start with a value") from e
    if end != len(text):
        raise ValueError("the parser's JSON has trailing text")
    return value


def _unknown(reason: str) -> Classification:
    return Classification(Risk.UNKNOWN, (), (reason,))


def classify_postgres(
    sql: str,
    *,
    state: LexState = LexState(),
    prepared: Mapping[str, Risk] | None = None,
    safe_functions: frozenset[str] = frozenset(),
    fast_path: bool = True,
    server_version: int | None = None,
) -> Classification:
    """Classify a PostgreSQL query string (no cache: iap.classify.classify adds one).

    server_version is the server's server_version_num (150018); None assumes the oldest
    supported, PostgreSQL 15, the strictest reading. fast_path=False always walks the whole
    tree (tests and the benchmark compare the two).
    """
    version = OLDEST_SUPPORTED if server_version is None else server_version
    if version < OLDEST_SUPPORTED:
        return _unknown(
            f"server_version {version} is older than PostgreSQL 15, the oldest supported"
        )
    problem = _lexing_problem(sql, state)
    if problem:
        return _unknown(problem)
    if fast_path:
        plain = classify_plain(sql)
        if plain is not None:
            return plain
    problem = _newer_number_form(sql, version)
    if problem:
        return _unknown(problem)
    try:
        text = parse_sql_json(sql)
        if fast_path:
            fast = _fast_read(text, safe_functions)
            if fast is not None:
                return fast
        tree = _decode(text)
    except ParseError as e:
        return _unknown(f"could not parse: {e}")
    except RecursionError:
        return _unknown("the statement nests too deeply to classify")
    except ValueError as e:  # e.g. a lone surrogate that cannot be encoded for the parser
        return _unknown(f"could not parse: {e}")
    classifier = _Classifier(state, prepared, safe_functions, version)
    try:
        for raw in tree.get("stmts", []):
            classifier.statement(raw.get("stmt", {}))
    except RecursionError:
        return _unknown("the statement nests too deeply to classify")
    except Exception as e:  # a classifier bug must fail closed (unknown), never crash
        return _unknown(f"could not classify ({type(e).__name__}: {e})")
    return classifier.result()
