"""MySQL/MariaDB session settings: the class of SET name = value, and the lexing state.

Owns which system variables a session may set without anyone's approval (the harmless ones:
autocommit, time_zone, timeouts, optimizer knobs, character_set_results...), which are
admin (global scope, what is logged or replicated, who the session is), which are write
(turning off the session's foreign-key, unique or CHECK constraint checks: that only relaxes
how the session's own later writes are checked, and those writes are classified themselves;
every mariadb-dump file does it), and the settings that move the lexer: the connection
character set (a multibyte charset whose characters can end in a backslash or quote byte:
big5, cp932, gbk, gb18030, sjis) and sql_mode (ANSI_QUOTES, NO_BACKSLASH_ESCAPES, MSSQL's
brackets, ORACLE's grammar), with the list of every sql_mode flag that sql_mode expressions
are read against (whole flags only). Also reads a LexState's sql_mode into the lexer's Mode.

Must never do I/O, never guess: an unknown name, or a value it cannot read for a setting
whose value matters, is admin (a check setting's: write, what any value of it can do).
"""

from __future__ import annotations

import functools

from iap.classify.mysql_lexer import Mode
from iap.classify.types import Risk


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Character sets whose multibyte characters never contain an ASCII byte (or that have none).
SAFE_CHARSETS = frozenset(
    {
        "armscii8", "ascii", "binary", "cp1250", "cp1251", "cp1256", "cp1257", "cp850",
        "cp852", "cp866", "dec8", "eucjpms", "euckr", "gb2312", "geostd8", "greek", "hebrew",
        "hp8", "keybcs2", "koi8r", "koi8u", "latin1", "latin2", "latin5", "latin7", "macce",
        "macroman", "swe7", "tis620", "ujis", "utf8", "utf8mb3", "utf8mb4",
    }
)  # fmt: skip


def charset_is_safe(name: str | None) -> bool:
    """True when a connection charset cannot hide a quote or backslash in a character."""
    if name is None:
        return False
    cleaned = name.strip().strip("'\"`").lower().replace("-", "")
    return cleaned in SAFE_CHARSETS


def collation_is_safe(name: str) -> bool:
    """A collation names its charset before the first underscore (binary: the binary set)."""
    cleaned = name.strip().strip("'\"`").lower()
    return cleaned == "binary" or charset_is_safe(cleaned.split("_", 1)[0])


# sql_mode flags (and the combination modes that include them) that change lexing or grammar.
_QUOTE_MODES = frozenset({"ANSI_QUOTES", "ANSI", "DB2", "MAXDB", "MSSQL", "ORACLE", "POSTGRESQL"})
UNSAFE_MODE_WORDS = ("ANSI", "NO_BACKSLASH_ESCAPES", "ORACLE", "MSSQL", "DB2", "MAXDB",
                     "POSTGRESQL")  # fmt: skip


@functools.lru_cache(maxsize=64)
def mode_flags(sql_mode: str) -> frozenset[str]:
    return frozenset(f.strip().upper() for f in sql_mode.split(",") if f.strip())


@functools.lru_cache(maxsize=64)
def lexer_mode(sql_mode: str) -> Mode:
    """The lexer's Mode for a known sql_mode (ORACLE is refused by the caller)."""
    flags = mode_flags(sql_mode)
    return Mode(
        ansi_quotes=bool(flags & _QUOTE_MODES),
        backslash_escapes="NO_BACKSLASH_ESCAPES" not in flags,
        mssql_brackets="MSSQL" in flags,
    )


# Modes in which || is string concatenation (PIPES_AS_CONCAT and the modes that include it).
_PIPES_MODES = frozenset({"PIPES_AS_CONCAT", "ANSI", "DB2", "MAXDB", "MSSQL", "ORACLE",
                          "POSTGRESQL"})  # fmt: skip


def pipes_readings(sql_mode: str | None) -> list[bool]:
    """How || may read under sql_mode: [False] OR, [True] concatenation, both if unknown."""
    if sql_mode is None:
        return [False, True]
    return [bool(mode_flags(sql_mode) & _PIPES_MODES)]


def mode_problem(sql_mode: str) -> str | None:
    if "ORACLE" in mode_flags(sql_mode):
        return "sql_mode ORACLE switches the server to another grammar"
    return None


def unsafe_mode_words(text: str) -> list[str]:
    """The flags in a sql_mode text (or a fragment of one) that make lexing unsafe."""
    upper = text.upper()
    return [w for w in UNSAFE_MODE_WORDS if w in upper]


# Every sql_mode flag: MariaDB 10.11's (the server's own list: tests/e2e/
# test_classify_truth_mysql.py) and MySQL 8's TIME_TRUNCATE_FRACTIONAL.
MODE_FLAGS = _word_set(
    """
    REAL_AS_FLOAT PIPES_AS_CONCAT ANSI_QUOTES IGNORE_SPACE IGNORE_BAD_TABLE_OPTIONS
    ONLY_FULL_GROUP_BY NO_UNSIGNED_SUBTRACTION NO_DIR_IN_CREATE POSTGRESQL ORACLE MSSQL DB2
    MAXDB NO_KEY_OPTIONS NO_TABLE_OPTIONS NO_FIELD_OPTIONS MYSQL323 MYSQL40 ANSI
    NO_AUTO_VALUE_ON_ZERO NO_BACKSLASH_ESCAPES STRICT_TRANS_TABLES STRICT_ALL_TABLES
    NO_ZERO_IN_DATE NO_ZERO_DATE ALLOW_INVALID_DATES ERROR_FOR_DIVISION_BY_ZERO TRADITIONAL
    NO_AUTO_CREATE_USER HIGH_NOT_PRECEDENCE NO_ENGINE_SUBSTITUTION PAD_CHAR_TO_FULL_LENGTH
    EMPTY_STRING_IS_NULL SIMULTANEOUS_ASSIGNMENT TIME_ROUND_FRACTIONAL
    TIME_TRUNCATE_FRACTIONAL
    """
)
MODE_FLAGS_ONLY_ON_MYSQL = frozenset({"TIME_TRUNCATE_FRACTIONAL"})
# Flags whose name is no part of another flag's: removing every occurrence of one from a
# sql_mode removes that flag and nothing else.
WHOLE_MODE_FLAGS = frozenset(f for f in MODE_FLAGS if not any(f in g for g in MODE_FLAGS - {f}))


def mode_flag_list(text: str) -> list[str] | None:
    """The flags of a comma-separated sql_mode fragment, upper case (empty items skipped);
    None when an item is not a sql_mode flag (a fragment of one, a space, anything else)."""
    flags = [item.upper() for item in text.split(",") if item]
    return None if any(flag not in MODE_FLAGS for flag in flags) else flags


# ----------------------------------------------------------------------------- names


_HARMLESS = _word_set(
    """
    autocommit time_zone character_set_results character_set_database character_set_server
    character_set_filesystem collation_database collation_server lc_time_names lc_messages
    default_week_format div_precision_increment group_concat_max_len max_sort_length
    max_length_for_sort_data sort_buffer_size join_buffer_size join_buffer_space_limit
    join_cache_level read_buffer_size read_rnd_buffer_size tmp_table_size
    max_heap_table_size tmp_memory_table_size tmp_disk_table_size max_join_size
    sql_big_selects sql_buffer_result sql_select_limit sql_auto_is_null sql_safe_updates
    sql_quote_show_create sql_notes sql_warnings sql_if_exists big_tables net_read_timeout
    net_write_timeout net_retry_count wait_timeout interactive_timeout lock_wait_timeout
    innodb_lock_wait_timeout innodb_strict_mode max_statement_time max_execution_time
    transaction_isolation tx_isolation transaction_read_only tx_read_only completion_type
    in_predicate_conversion_threshold eq_range_index_dive_limit range_alloc_block_size
    query_alloc_block_size query_prealloc_size transaction_alloc_block_size
    transaction_prealloc_size query_cache_type query_cache_wlock_invalidate
    default_storage_engine storage_engine default_tmp_storage_engine
    explicit_defaults_for_timestamp profiling profiling_history_size insert_id
    last_insert_id identity timestamp rand_seed1 rand_seed2 auto_increment_increment
    auto_increment_offset max_error_count max_sp_recursion_depth max_recursive_iterations
    cte_max_recursion_depth max_seeks_for_key low_priority_updates
    updatable_views_with_limit old_passwords old_alter_table old_mode note_verbosity
    session_track_schema session_track_state_change session_track_system_variables
    session_track_transaction_info use_stat_tables histogram_size histogram_type
    default_regex_flags character_set_collations windowing_use_high_precision
    system_versioning_asof alter_algorithm expensive_subquery_limit idle_transaction_timeout
    idle_readonly_transaction_timeout idle_write_transaction_timeout progress_report_time
    mrr_buffer_size aria_repair_threads aria_sort_buffer_size myisam_sort_buffer_size
    myisam_repair_threads myisam_stats_method bulk_insert_buffer_size preload_buffer_size
    sql_require_primary_key default_collation_for_utf8mb4 block_encryption_mode
    deadlock_search_depth_long deadlock_search_depth_short deadlock_timeout_long
    deadlock_timeout_short sql_generate_invisible_primary_key show_create_table_verbosity
    innodb_ft_enable_stopword innodb_ft_user_stopword_table max_digest_length
    """
)
_HARMLESS_PREFIXES = ("optimizer_",)
# Settings whose harmless values are these; anything else (a value not read included) turns
# a check of the session's own writes off: write.
_CHECKS = {
    "foreign_key_checks": "turns off foreign-key checks of the session's writes",
    "unique_checks": "turns off unique-key checks of the session's writes",
    "check_constraint_checks": "turns off CHECK constraints of the session's writes",
}
_ON_WORDS = frozenset({"1", "on", "true", "default"})
_ADMIN_NAMES = {
    "sql_log_bin": "changes what is written to the binary log",
    "sql_log_off": "changes what the general log records",
    "general_log": "changes what the general log records",
    "slow_query_log": "changes what the slow query log records",
    "long_query_time": "changes what the slow query log records",
    "min_examined_row_limit": "changes what the slow query log records",
    "server_id": "changes how the session's changes replicate",
    "skip_replication": "changes how the session's changes replicate",
    "default_master_connection": "changes the replication connection",
    "sql_slave_skip_counter": "changes replication",
    "system_versioning_alter_history": "allows changes to system-versioned history",
    "system_versioning_insert_history": "allows writing system-versioned history",
    "enforce_storage_engine": "changes the storage engine rules",
    "names": "",  # handled by its own statement form
}
_ADMIN_PREFIXES = {
    "log_": "changes what the server logs",
    "binlog_": "changes what is written to the binary log",
    "gtid_": "changes replication positions",
    "wsrep_": "changes cluster replication",
    "pseudo_": "pretends to be another session or server",
    "debug": "changes server debugging",
    "replicate_": "changes replication",
}
_CHARSET_SETTINGS = frozenset({"character_set_client", "character_set_connection"})
GLOBAL_SCOPES = frozenset({"global", "persist", "persist_only"})
SESSION_SCOPES = frozenset({"session", "local"})


def setting_risk(name: str, value: str | None) -> tuple[Risk, str]:
    """(class, why) of a session SET name = value (value: the literal's text, None if not a
    literal); why completes "SET name ...". sql_mode values are read by sql_mode_risk."""
    name = name.lower()
    if name == "sql_mode":
        return sql_mode_risk(value)
    if name in _CHARSET_SETTINGS:
        if value is not None and (value.lower() == "default" or charset_is_safe(value)):
            return Risk.READ, ""
        return Risk.ADMIN, f"to {value or 'an expression'} may hide quotes in text"
    if name == "collation_connection":
        if value is not None and (value.lower() == "default" or collation_is_safe(value)):
            return Risk.READ, ""
        return Risk.ADMIN, f"to {value or 'an expression'} may hide quotes in text"
    if name in _CHECKS:
        if value is not None and value.lower() in _ON_WORDS:
            return Risk.READ, ""
        return Risk.WRITE, _CHECKS[name]
    if name in _HARMLESS or name.startswith(_HARMLESS_PREFIXES):
        return Risk.READ, ""
    if _ADMIN_NAMES.get(name):
        return Risk.ADMIN, _ADMIN_NAMES[name]
    for prefix, why in _ADMIN_PREFIXES.items():
        if name.startswith(prefix):
            return Risk.ADMIN, why
    if "." in name:
        return Risk.ADMIN, "is a structured (global) setting"
    return Risk.ADMIN, "is not a known harmless session setting"


def sql_mode_risk(value: str | None) -> tuple[Risk, str]:
    """(class, why) of SET sql_mode to a literal value (None: an expression not read)."""
    if value is None:
        return Risk.ADMIN, "to an expression the gateway cannot read may change how text is read"
    if value.strip().lstrip("-").isdigit():
        return Risk.ADMIN, "to a number (a bit mask the gateway does not read)"
    unsafe = unsafe_mode_words(value)
    if unsafe:
        return Risk.ADMIN, f"to {value} ({', '.join(unsafe)}) changes how text is read"
    return Risk.READ, ""


def split_scope(name: str) -> tuple[str, str]:
    """(scope, name) of a written system variable: 'global.x', '@@session.x', 'x'."""
    name = name.lower().removeprefix("@@")
    scope, dot, rest = name.partition(".")
    if dot and scope in GLOBAL_SCOPES | SESSION_SCOPES:
        return scope, rest
    return "session", name
