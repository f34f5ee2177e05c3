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
class PreparedFacts:
    """What the gateway knows of a prepared statement's text (MySQL's SQL PREPARE): its class,
    whether running it may change how later statements are lexed, and whether it may act on
    the session in ways the gateway cannot see (a CALL: prepare names, answer with several
    results)."""

    risk: Risk
    lexing: bool = False
    opaque: bool = False


UNKNOWN_PREPARED = PreparedFacts(Risk.UNKNOWN, lexing=True, opaque=True)


@dataclass(frozen=True, slots=True)
class SessionStep:
    """One statement of a query string, for what it leaves in the session when it runs.

    The server applies a statement's effects only when it runs without error (a MySQL
    multi-statement string stops at its first error), so an engine applies each step when
    the server's answer to that statement arrives. prepare: the name a PREPARE defines, with
    its text's facts (a PREPARE that fails drops the old statement of that name); deallocate:
    the name a DEALLOCATE PREPARE drops; execute: the prepared name an EXECUTE runs (what that
    does is the session's facts for the name); lexing: may change how the server lexes later
    statements (sql_mode, the client character set); opaque: may do what the gateway cannot
    see (a CALL, a compound statement, a statement it cannot read): prepare or drop names,
    change settings, answer with several results.
    """

    prepare: tuple[str, PreparedFacts] | None = None
    deallocate: str | None = None
    execute: str | None = None
    lexing: bool = False
    opaque: bool = False

    @property
    def names(self) -> bool:
        """True when the step may change the session's prepared statement names."""
        return bool(self.prepare or self.deallocate or self.execute or self.opaque)


def steps_change_lexing(steps: tuple[SessionStep, ...] | None) -> bool:
    """True when running these statements (None: not known) may change how the server lexes
    what follows."""
    return steps is None or any(step.lexing or step.opaque for step in steps)


@dataclass(frozen=True, slots=True)
class Classification:
    """The class of a whole query string (the highest of its statements) and session effects.

    Session effects keep the gateway's one map of prepared statements per session. They are
    the net effect of the string, applied in this order: clear the map when deallocate_all,
    remove each name of deallocates, then add each (name, class) of prepares. executes names
    the prepared statements the string runs (its class then depends on the map passed in).
    steps (MySQL) is the same statement by statement, in the order the server runs them, for
    an engine that applies each statement's effects only once the server answered it; None
    when the gateway cannot tell the statements apart (then anything may have happened).
    """

    risk: Risk
    statements: tuple[StatementInfo, ...]
    reasons: tuple[str, ...]
    prepares: tuple[tuple[str, Risk], ...] = ()
    deallocates: tuple[str, ...] = ()
    deallocate_all: bool = False
    executes: tuple[str, ...] = ()
    steps: tuple[SessionStep, ...] | None = None

    @property
    def lexing(self) -> bool:
        """True when running the string may change how the server lexes what follows (MySQL;
        unknown statements included)."""
        return steps_change_lexing(self.steps)

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
