"""MySQL classification (placeholder): every statement is unknown until the real one lands.

Owns the MySQL entry points with the same shape as postgres.py so the gateway and the CLI
can already call them. Must never return anything but unknown until it reads MySQL
faithfully (sqlglot plus a MySQL tokenizer pass for executable comments and escapes).
"""

from __future__ import annotations

from collections.abc import Mapping

from iap.classify.types import Classification, LexState, Risk

NOT_AVAILABLE = "MySQL classification is not available yet"


def classify_mysql(
    sql: str,
    *,
    state: LexState = LexState(),
    prepared: Mapping[str, Risk] | None = None,
    safe_functions: frozenset[str] = frozenset(),
) -> Classification:
    """Unknown, with the reason, for any MySQL text."""
    return Classification(Risk.UNKNOWN, (), (NOT_AVAILABLE,))


def classify_setting_mysql(name: str, value: str | None) -> Classification:
    """Unknown, with the reason, for any MySQL setting."""
    return Classification(Risk.UNKNOWN, (), (NOT_AVAILABLE,))
