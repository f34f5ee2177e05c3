"""What a query string's statements do, gathered while a dialect's classifier reads them.

Owns the two accumulators both dialects fill the same way: Scan, what one statement does
(its class, the reasons, the tables it names, whether it only plans), and SessionEffects,
the prepared statements a string adds, removes and runs in order, which turn a string's
statements into the Classification (the highest class, every reason once, the net effects).
Dialect-independent: must never import a parser or do I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

from iap.classify.types import Classification, Risk, SessionStep, StatementInfo

NO_POSITION = 1 << 30  # a table named outside the parsed text sorts after those inside it


class Scan:
    """What one statement does, accumulated while it is read."""

    __slots__ = ("ctes", "kind", "planning", "reasons", "risk", "tables")

    def __init__(self, kind: str) -> None:
        self.kind = kind  # the server's command tag
        self.risk = Risk.READ
        self.reasons: list[str] = []
        self.tables: list[tuple[int, str]] = []  # (position in the text, name)
        self.ctes: set[str] = set()  # names the statement defines (WITH): not tables
        self.planning = 0  # > 0 inside EXPLAIN without ANALYZE: statements are only planned

    def add(self, risk: Risk, reason: str) -> None:
        """Something that happens even when the statement is only planned (a function call)."""
        if risk is Risk.READ and not reason:
            return
        if risk.outranks(self.risk):
            self.risk = risk
        if reason and reason not in self.reasons:
            self.reasons.append(reason)

    def effect(self, risk: Risk, reason: str) -> None:
        """Something that happens when the statement runs (rows changed, objects created)."""
        if not self.planning:
            self.add(risk, reason)

    def table(self, name: str, position: int = NO_POSITION) -> None:
        self.tables.append((position, name))

    def info(self) -> StatementInfo:
        """The statement's facts: tables in text order, each once, WITH names left out."""
        named = dict.fromkeys(name for _, name in sorted(self.tables, key=lambda t: t[0]))
        tables = tuple(name for name in named if name not in self.ctes)
        return StatementInfo(self.kind, self.risk, tables, tuple(self.reasons))


class SessionEffects:
    """The prepared statements a query string adds, removes and runs, as a net effect.

    Applied in Classification's order: clear the session's map when cleared, remove each
    name of removed, then add each of added (a later PREPARE of a name replaces an earlier
    one; a DEALLOCATE forgets what the string prepared before it).
    """

    __slots__ = ("added", "cleared", "executes", "removed")

    def __init__(self) -> None:
        self.added: dict[str, Risk] = {}
        self.removed: dict[str, None] = {}  # an ordered set
        self.cleared = False
        self.executes: list[str] = []

    def prepare(self, name: str, risk: Risk) -> None:
        self.removed.pop(name, None)
        self.added[name] = risk

    def deallocate(self, name: str) -> None:
        self.added.pop(name, None)
        self.removed[name] = None

    def deallocate_all(self) -> None:
        self.cleared = True
        self.added.clear()
        self.removed.clear()

    def prepared_risk(self, name: str, before: Mapping[str, Risk] | None) -> Risk | None:
        """The class of prepared statement name at this point of the string (None: unknown).

        before is the session's map when the string started (None: not known)."""
        if name in self.added:
            return self.added[name]
        if self.cleared or name in self.removed or before is None:
            return None
        return before.get(name)

    def session_map(self, before: Mapping[str, Risk] | None) -> dict[str, Risk] | None:
        """The session's map at this point of the string (None: not known)."""
        if before is None and not self.added and not self.cleared:
            return None
        current = {} if self.cleared or before is None else dict(before)
        for name in self.removed:
            current.pop(name, None)
        current.update(self.added)
        return current

    def absorb(self, later: Classification) -> None:
        """Apply the effects of a later part of the string, classified on its own."""
        if later.deallocate_all:
            self.deallocate_all()
        for name in later.deallocates:
            self.deallocate(name)
        for name, risk in later.prepares:
            self.prepare(name, risk)
        self.executes.extend(later.executes)

    def classification(
        self,
        statements: tuple[StatementInfo, ...],
        steps: tuple[SessionStep, ...] | None = None,
    ) -> Classification:
        """The string's result: its statements' highest class, their reasons, these effects
        (and, when the dialect follows them, the statements' effects one by one)."""
        if len(statements) == 1:
            risk, reasons = statements[0].risk, statements[0].reasons
        else:
            risk = Risk.highest(s.risk for s in statements)
            reasons = tuple(dict.fromkeys(r for s in statements for r in s.reasons))
        return Classification(
            risk=risk,
            statements=statements,
            reasons=reasons,
            prepares=tuple(self.added.items()),
            deallocates=tuple(self.removed),
            deallocate_all=self.cleared,
            executes=tuple(dict.fromkeys(self.executes)),
            steps=steps,
        )
