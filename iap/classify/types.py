"""The classifier's vocabulary: risk classes, per-statement facts, the result, the lexing state.

Owns the data types every dialect returns and the policy consumes. Must never import a
parser or do I/O: the policy and the CLI import these without paying for pglast.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Risk(StrEnum):
    """Risk class of a statement, ordered read < write < ddl < destructive < admin = unknown."""

    READ = "read"
    WRITE = "write"
    DDL = "ddl"
    DESTRUCTIVE = "destructive"
    ADMIN = "admin"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def outranks(self, other: Risk) -> bool:
        """True when self should replace other as the highest class (unknown beats admin)."""
        if self.rank != other.rank:
            return self.rank > other.rank
        return self is Risk.UNKNOWN and other is not Risk.UNKNOWN

    @classmethod
    def highest(cls, risks: Iterable[Risk]) -> Risk:
        """The highest class of risks (read when empty); a tie admin/unknown gives unknown."""
        best = cls.READ
        for risk in risks:
            if risk.outranks(best):
                best = risk
        return best


_RANK = {
    Risk.READ: 0,
    Risk.WRITE: 1,
    Risk.DDL: 2,
    Risk.DESTRUCTIVE: 3,
    Risk.ADMIN: 4,
    Risk.UNKNOWN: 4,
}


@dataclass(frozen=True, slots=True)
class StatementInfo:
    """One statement of a query string: its command tag, class, relations and why."""

    kind: str  # the server's command tag: "SELECT", "DROP TABLE", "SET", ...
    risk: Risk
    tables: tuple[str, ...]  # relations named, schema-qualified when written so
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "risk": self.risk.value,
            "tables": list(self.tables),
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class Classification:
    """The class of a whole query string (the highest of its statements) and session effects.

    Session effects keep the gateway's one map of prepared statements per session. They are
    the net effect of the string, applied in this order: clear the map when deallocate_all,
    remove each name of deallocates, then add each (name, class) of prepares. executes names
    the prepared statements the string runs (its class then depends on the map passed in).
    """

    risk: Risk
    statements: tuple[StatementInfo, ...]
    reasons: tuple[str, ...]
    prepares: tuple[tuple[str, Risk], ...] = ()
    deallocates: tuple[str, ...] = ()
    deallocate_all: bool = False
    executes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "risk": self.risk.value,
            "statements": [s.to_json() for s in self.statements],
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class LexState:
    """How the server will lex the next statement of a session.

    PostgreSQL: standard_conforming_strings and client_encoding (tracked from ParameterStatus).
    MySQL/MariaDB: client_encoding is the connection character set and sql_mode the session's
    sql_mode (comma-separated flags; tracked from the handshake, OK packets and the SET
    statements the gateway let through). None means unknown, which gets the stricter reading.
    """

    standard_conforming_strings: bool | None = True
    client_encoding: str | None = "UTF8"
    sql_mode: str | None = None
