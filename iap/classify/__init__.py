"""Statement classification: SQL text -> Classification (risk class, statements, reasons).

Owns the public entry points and the result cache. The cache is keyed by the EXACT text
together with the dialect, the session's lexing state and the operator's safe functions,
never by a normalised fingerprint (it drops literals: WHERE 1 = 0 and WHERE 1 = 1 share
one). A result that runs prepared statements (EXECUTE) depends on the session's map of
them and is never served from the cache. Pure: no I/O, no policy; must never raise on any
input text (what it cannot read is unknown).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Protocol

from iap.classify.types import Classification, LexState, Risk, StatementInfo

__all__ = [
    "DIALECTS",
    "Classification",
    "LexState",
    "Risk",
    "StatementInfo",
    "classify",
    "classify_setting",
    "clear_cache",
]

DIALECTS = ("postgres", "mysql")
DEFAULT_STATE = LexState()
CACHE_ENTRIES = 2048
CACHE_MAX_TEXT = 16 * 1024  # longer texts (bulk INSERTs) are classified each time, not kept


def classify(
    sql: str,
    dialect: str = "postgres",
    *,
    state: LexState | None = None,
    prepared: Mapping[str, Risk] | None = None,
    safe_functions: frozenset[str] = frozenset(),
    server_version: int | None = None,
) -> Classification:
    """The class of a query string (the highest of its statements), with reasons.

    state is the session's lexing state (None: the server defaults, UTF8 and
    standard_conforming_strings on); prepared maps the session's prepared statement names
    to their classes (for EXECUTE); safe_functions names user-defined functions, as written
    in SQL, that the operator vouches for; server_version is PostgreSQL's server_version_num
    (None: PostgreSQL 15, the oldest supported and the strictest reading).
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}: use one of {', '.join(DIALECTS)}")
    if state is None:
        state = DEFAULT_STATE
    if len(sql) <= CACHE_MAX_TEXT:
        result = _classify_cached(sql, dialect, state, safe_functions, server_version)
    else:
        result = _classify(sql, dialect, state, safe_functions, None, server_version)
    if result.executes:
        return _classify(sql, dialect, state, safe_functions, prepared or {}, server_version)
    return result


def classify_setting(name: str, value: str | None, dialect: str = "postgres") -> Classification:
    """The class of SET name = value (startup parameters, set_config); None: value unknown."""
    if dialect == "postgres":
        from iap.classify.postgres import classify_setting_postgres

        return classify_setting_postgres(name, value)
    if dialect == "mysql":
        from iap.classify.mysql import classify_setting_mysql

        return classify_setting_mysql(name, value)
    raise ValueError(f"unknown dialect {dialect!r}: use one of {', '.join(DIALECTS)}")


def clear_cache() -> None:
    """Forget cached results (benchmarks measure cold classification with it)."""
    _classify_cached.cache_clear()


@functools.lru_cache(maxsize=CACHE_ENTRIES)
def _classify_cached(
    sql: str,
    dialect: str,
    state: LexState,
    safe_functions: frozenset[str],
    server_version: int | None = None,
) -> Classification:
    return _classify(sql, dialect, state, safe_functions, None, server_version)


def _classify(
    sql: str,
    dialect: str,
    state: LexState,
    safe_functions: frozenset[str],
    prepared: Mapping[str, Risk] | None,
    server_version: int | None = None,
) -> Classification:
    if server_version is not None and dialect == "postgres":  # MySQL's reads no version
        from iap.classify.postgres import classify_postgres

        return classify_postgres(
            sql,
            state=state,
            prepared=prepared,
            safe_functions=safe_functions,
            server_version=server_version,
        )
    dialect_classify = _DIALECT_CLASSIFIERS.get(dialect) or _load_classifier(dialect)
    return dialect_classify(sql, state=state, prepared=prepared, safe_functions=safe_functions)


class _DialectClassify(Protocol):
    def __call__(
        self,
        sql: str,
        *,
        state: LexState,
        prepared: Mapping[str, Risk] | None,
        safe_functions: frozenset[str],
    ) -> Classification: ...


_DIALECT_CLASSIFIERS: dict[str, _DialectClassify] = {}


def _load_classifier(dialect: str) -> _DialectClassify:
    """The dialect's entry point, imported on first use: importing the types stays cheap."""
    found: _DialectClassify
    if dialect == "postgres":
        from iap.classify.postgres import classify_postgres

        found = classify_postgres
    else:
        from iap.classify.mysql import classify_mysql

        found = classify_mysql
    _DIALECT_CLASSIFIERS[dialect] = found
    return found
