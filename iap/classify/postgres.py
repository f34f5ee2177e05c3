"""PostgreSQL classification: a query string -> Classification, read with the server's parser.

Owns reading PostgreSQL SQL (pglast, i.e. libpg_query: the server's own grammar) and deciding
the class of each statement by walking its WHOLE parse tree (_Classifier); the class of
session settings (SET, set_config, startup parameters); the lexing-state guard; command tags;
the class of code-planting DDL (functions, triggers, rules, support functions: what the
planted code may do); a fast path that answers plain reads from the parser's JSON text when
the text proves the walk would find nothing else. Every node kind is known here or the
statement is unknown: fail closed. Must never do I/O, never ask a server, and never return a
class lower than the worst thing the statement can do as written.

Delegates: whether an UPDATE/DELETE/MERGE may reach every row to pg_where, which syntax is
newer than the server to pg_version, reading nodes to pg_tree, a tiny grammar of plain
statements to pg_plain (before parsing), what a function call does to pg_functions.

Known gaps, left to the full classifier (they need catalog knowledge): operators and casts
can be backed by user functions (read here); triggers, rules and views already in place run
code the statement does not show; `tbl.func` attribute notation can call a function; see
pg_where and pg_version for theirs.
"""

from __future__ import annotations

import json
import json.scanner
import re
from collections.abc import Callable, Mapping
from typing import Any, cast

from pglast.parser import ParseError, parse_sql_json

from iap.classify.pg_functions import (
    SETTING_FUNCTIONS,
    SQL_TEXT_FUNCTIONS,
    function_risk,
    split_name,
)
from iap.classify.pg_plain import classify_plain
from iap.classify.pg_tree import (
    _LEAVES,
    Node,
    _const_text,
    _contains,
    _defelem,
    _list_items,
    _name_of,
    _names,
    _object_name,
    _option_is_on,
    _range_var_name,
    _strings,
    _unwrap,
)
from iap.classify.pg_version import (
    _NEWER_FIELDS,
    _NEWER_NODES,
    _NEWER_SQL_FUNCTIONS,
    OLDEST_SUPPORTED,
    _newer_node_syntax,
    _newer_number_form,
    _newer_syntax,
)
from iap.classify.pg_version import PARSER_VERSION as PARSER_VERSION  # re-exported for tests
from iap.classify.pg_where import _unbounded
from iap.classify.pg_where import _Uncertain as _Uncertain  # re-exported for tests
from iap.classify.pg_where import fold_condition as fold_condition  # re-exported for tests
from iap.classify.scan import Scan, SessionEffects
from iap.classify.types import Classification, LexState, Risk, StatementInfo

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
