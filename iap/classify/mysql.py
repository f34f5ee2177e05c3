"""MySQL/MariaDB classification: a query string -> Classification, read as the server reads it.

Owns the MySQL entry points (the same shape as postgres.py) and the readings of a text: the
session's lexing state decides how the text is tokenised (mysql_lexer); when the sql_mode is
unknown, every reading that could differ (ANSI_QUOTES, NO_BACKSLASH_ESCAPES, MSSQL) is lexed,
and texts whose readings split into different tokens are unknown; version-gated executable
comments (/*!50700 */, /*M!100100 */) run on some servers and not others, so every server
version that reads the text differently is classified and the highest class wins. Plain
statements take a fast path (mysql_fast) that gives exactly what the full path gives; the
rest go through mysql_statements and sqlglot. Session effects (PREPARE, DEALLOCATE, EXECUTE)
follow the order of the statements, and each statement's are kept apart (Classification.steps)
for the engine, which applies them only once the server answered that statement; a statement
that changes the lexing state in a multi-statement text (SET sql_mode, a character set, or a
value not read: a variable, a prepared statement, CALL) changes how the statements after it
are read, as on the server: under the new state, or the stricter unknown one.

Must never do I/O, never raise on any input text (what it cannot read is unknown), and never
return a class lower than the worst reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from iap.classify import mysql_fast
from iap.classify.mysql_functions import normalise_safe
from iap.classify.mysql_lexer import (
    MAX_SERVER_VERSION,
    MIN_SERVER_VERSION,
    Gate,
    LexError,
    Mode,
    Server,
    Statement,
    Token,
    lex,
    split,
)
from iap.classify.mysql_settings import (
    GLOBAL_SCOPES,
    charset_is_safe,
    lexer_mode,
    mode_flags,
    mode_problem,
    setting_risk,
    split_scope,
)
from iap.classify.mysql_statements import UNCHANGED, Context, StepFacts, classify_statement
from iap.classify.mysql_tree import Truth
from iap.classify.scan import SessionEffects
from iap.classify.types import (
    Classification,
    LexState,
    PreparedFacts,
    Risk,
    SessionStep,
    StatementInfo,
)

MAX_READINGS = 16  # distinct token streams of one text; more is unknown


def _unknown(reason: str) -> Classification:
    return Classification(Risk.UNKNOWN, (), (reason,))


# ----------------------------------------------------------------------------- readings


def _modes(sql: str, sql_mode: str | None) -> list[Mode]:
    """The lexer modes the text must be read under (one when the sql_mode is known)."""
    if sql_mode is not None:
        return [lexer_mode(sql_mode)]
    quotes = [False, True] if '"' in sql else [False]
    escapes = [True, False] if "\\" in sql else [True]
    brackets = [False, True] if "[" in sql else [False]
    return [Mode(q, e, b) for q in quotes for e in escapes for b in brackets]


def _servers(gates: list[Gate]) -> list[Server]:
    """One server per version range in which the gated comments read the same way."""
    versions = sorted(
        {MIN_SERVER_VERSION, MAX_SERVER_VERSION}
        | {g.version for g in gates if g.version is not None
           and MIN_SERVER_VERSION <= g.version <= MAX_SERVER_VERSION}
        | {g.version - 1 for g in gates if g.version is not None
           and MIN_SERVER_VERSION < g.version <= MAX_SERVER_VERSION}
    )  # fmt: skip
    families = ["mariadb", "mysql"]
    return [(family, version) for family in families for version in versions]


def _readings(sql: str, mode: Mode) -> list[list[Token]]:
    """The distinct token streams of sql under mode, over the servers gated comments name."""
    first = lex(sql, mode)
    if not first.gates:
        return [first.tokens]
    seen: dict[tuple[tuple[str, str, int, int], ...], list[Token]] = {}
    seen[tuple((t.kind, t.value, t.start, t.end) for t in first.tokens)] = first.tokens
    tried: set[Server] = {("mariadb", MAX_SERVER_VERSION)}
    gates = list(first.gates)
    while True:
        pending = [s for s in _servers(gates) if s not in tried]
        if not pending:
            return list(seen.values())
        for server in pending:
            tried.add(server)
            lexed = lex(sql, mode, server)
            key = tuple((t.kind, t.value, t.start, t.end) for t in lexed.tokens)
            seen.setdefault(key, lexed.tokens)
            gates.extend(g for g in lexed.gates if g not in gates)
            if len(seen) > MAX_READINGS:
                raise LexError("too many version-dependent readings")


def _boundaries(tokens: list[Token]) -> tuple[tuple[int, int], ...]:
    return tuple((t.start, t.end) for t in tokens)


def _lexing_problem(sql: str, state: LexState) -> str | None:
    if "\x00" in sql:
        return "the statement contains a NUL character"
    if not sql.isascii() and not charset_is_safe(state.client_encoding):
        charset = state.client_encoding or "unknown"
        return (
            f"the connection character set is {charset} and the statement contains non-ASCII"
            " characters: a multibyte character may hide a quote or backslash"
        )
    if state.sql_mode is not None:
        return mode_problem(state.sql_mode)
    return None


# ----------------------------------------------------------------------------- one reading


@dataclass(frozen=True, slots=True)
class _Request:
    """A query string and what classifying it needs, the same for each of its readings."""

    sql: str
    state: LexState
    prepared: Mapping[str, Risk] | None  # the session's prepared statements (None: unknown)
    safe_functions: frozenset[str]  # the operator's safe functions as given
    safe: frozenset[str]  # the same names normalised (normalise_safe)


class _Run:
    """The statements of one reading of a text, in order, with their session effects."""

    def __init__(self, request: _Request, mode: Mode) -> None:
        self.request = request
        self.state = request.state  # as it is before the current statement
        self.mode = mode  # how this reading lexed the text
        self.effects = SessionEffects()
        self.statements: list[StatementInfo] = []
        self.steps: list[SessionStep] | None = []
        self.facts: dict[str, PreparedFacts] = {}  # of the names this text prepared so far
        self.ctx = Context(
            safe=request.safe,
            truth=_truth(request.state.sql_mode),
            sql_mode=request.state.sql_mode,
            classify_text=self._classify_text,
            prepared=self._prepared_facts,
            effects=self.effects,
        )

    def _classify_text(self, text: str) -> Classification:
        return classify_mysql(
            text, state=self.state, prepared=None, safe_functions=self.request.safe_functions
        )

    def _prepared_facts(self, name: str) -> PreparedFacts | None:
        """A name this text prepared is known; the session's names by their class only
        (running one may change the lexing state, and above write may do anything)."""
        risk = self.effects.prepared_risk(name, self.request.prepared)
        if risk is None:
            return None
        if name in self.facts:
            return self.facts[name]
        return PreparedFacts(risk, lexing=True, opaque=risk.rank >= Risk.ADMIN.rank)

    def run(self, statements: list[Statement]) -> None:
        ctx = self.ctx
        for index, statement in enumerate(statements):
            ctx.new_sql_mode = ctx.new_charset = UNCHANGED
            ctx.step = StepFacts()
            info = mysql_fast.classify(statement.tokens, ctx)
            if info is None:
                info = classify_statement(ctx, statement.tokens).info()
            self.statements.append(info)
            self._record(ctx.step, info)
            if index + 1 == len(statements):
                continue
            state = self._state_after()
            if state == self.state:
                continue
            if self._reads_alike(state):
                self._use_state(state)  # the rest reads the same: no need to lex it again
                continue
            self._rest(statement.end, state)
            return

    def _record(self, step: StepFacts, info: StatementInfo) -> None:
        """Keep the statement's session effects, in order."""
        if info.risk is Risk.UNKNOWN:
            step.lexing = step.opaque = True  # not read: it may do anything
        if self.steps is not None:
            self.steps.append(step.freeze())
        if step.prepare is not None:
            self.facts[step.prepare[0]] = step.prepare[1]
        if step.deallocate is not None:
            self.facts.pop(step.deallocate, None)
        if step.opaque or step.forgets:  # names may have been prepared unseen
            self.effects.deallocate_all()
            self.facts.clear()

    def _state_after(self) -> LexState:
        """The lexing state after the current statement, as far as this reading knows it."""
        state, ctx = self.state, self.ctx
        if ctx.new_charset is not UNCHANGED:
            charset = ctx.new_charset if isinstance(ctx.new_charset, str) else None
            state = replace(state, client_encoding=charset)
        if ctx.new_sql_mode is not UNCHANGED:
            sql_mode = ctx.new_sql_mode if isinstance(ctx.new_sql_mode, str) else None
            state = replace(state, sql_mode=sql_mode)
        return state

    def _reads_alike(self, state: LexState) -> bool:
        """The rest of the text lexes the same under state as under this reading's."""
        safe = charset_is_safe(state.client_encoding)
        return (
            state.sql_mode is not None
            and mode_problem(state.sql_mode) is None
            and lexer_mode(state.sql_mode) == self.mode
            and safe == charset_is_safe(self.state.client_encoding)
        )

    def _use_state(self, state: LexState) -> None:
        self.state = state
        self.ctx.sql_mode = state.sql_mode
        self.ctx.truth = _truth(state.sql_mode)

    def _rest(self, offset: int, state: LexState) -> None:
        """The statements after one that changed the lexing state, read under the new state
        (as the server does; an unknown state is the stricter reading)."""
        request = self.request
        rest = classify_mysql(
            request.sql[offset:],
            state=state,
            prepared=self.effects.session_map(request.prepared),
            safe_functions=request.safe_functions,
        )
        self.statements.extend(rest.statements)
        if not rest.statements and rest.reasons:
            self.statements.append(StatementInfo("", rest.risk, (), rest.reasons))
        self.effects.absorb(rest)
        if rest.steps is None or self.steps is None:
            self.steps = None
        else:
            self.steps.extend(rest.steps)

    def result(self) -> Classification:
        steps = None if self.steps is None else tuple(self.steps)
        return self.effects.classification(tuple(self.statements), steps)


def _truth(sql_mode: str | None) -> Truth:
    """How conditions read under sql_mode (unknown: HIGH_NOT_PRECEDENCE may be on or off, so
    both readings of NOT count; EMPTY_STRING_IS_NULL may be on, so '' may be NULL)."""
    flags = mode_flags(sql_mode) if sql_mode is not None else None
    return Truth(
        high_not=None if flags is None else "HIGH_NOT_PRECEDENCE" in flags,
        empty_is_null=flags is None or "EMPTY_STRING_IS_NULL" in flags,
    )


def _merge(results: list[Classification]) -> Classification:
    """The highest of several readings, with every reading's session effects (the stricter)."""
    worst = results[0]
    for result in results[1:]:
        if result.risk.outranks(worst.risk):
            worst = result
    prepares: dict[str, Risk] = {}
    for result in results:
        for name, risk in result.prepares:
            if name not in prepares or risk.outranks(prepares[name]):
                prepares[name] = risk
    reasons = worst.reasons
    if any(r.risk is not worst.risk for r in results):
        reasons = (*reasons, "the server version decides which /*! */ comments run: the"
                   " highest class of the readings is used")  # fmt: skip
    return Classification(
        risk=worst.risk,
        statements=worst.statements,
        reasons=reasons,
        prepares=tuple(prepares.items()),
        deallocates=tuple(dict.fromkeys(n for r in results for n in r.deallocates)),
        deallocate_all=any(r.deallocate_all for r in results),
        executes=tuple(dict.fromkeys(n for r in results for n in r.executes)),
        steps=results[0].steps if all(r.steps == results[0].steps for r in results) else None,
    )


# ----------------------------------------------------------------------------- entry points


def classify_mysql(
    sql: str,
    *,
    state: LexState = LexState(),
    prepared: Mapping[str, Risk] | None = None,
    safe_functions: frozenset[str] = frozenset(),
) -> Classification:
    """Classify a MySQL/MariaDB query string (no cache: iap.classify.classify adds one)."""
    try:
        return _classify(sql, state, prepared, safe_functions)
    except LexError as e:
        return _unknown(f"could not read the text: {e}")
    except RecursionError:
        return _unknown("the statement nests too deeply to classify")
    except Exception as e:  # a classifier bug must fail closed (unknown), never crash
        return _unknown(f"could not classify ({type(e).__name__}: {e})")


def _classify(
    sql: str,
    state: LexState,
    prepared: Mapping[str, Risk] | None,
    safe_functions: frozenset[str],
) -> Classification:
    problem = _lexing_problem(sql, state)
    if problem:
        return _unknown(problem)
    modes = _modes(sql, state.sql_mode)
    streams = [(modes[0], tokens) for tokens in _readings(sql, modes[0])]
    if len(modes) > 1:
        bounds = {_boundaries(tokens) for _, tokens in streams}
        for mode in modes[1:]:
            readings = _readings(sql, mode)
            if {_boundaries(r) for r in readings} != bounds:
                return _unknown(
                    "the sql_mode is unknown and the text splits into different tokens with"
                    " ANSI_QUOTES, NO_BACKSLASH_ESCAPES or MSSQL brackets"
                )
            seen = [tokens for _, tokens in streams]
            streams.extend((mode, r) for r in readings if r not in seen)
    request = _Request(sql, state, prepared, safe_functions, normalise_safe(safe_functions))
    results = []
    for mode, tokens in streams:
        run = _Run(request, mode)
        run.run(split(tokens, len(sql)))
        results.append(run.result())
    return results[0] if len(results) == 1 else _merge(results)


def classify_setting_mysql(name: str, value: str | None) -> Classification:
    """The class of SET name = value (value: the literal's text; None: not known)."""
    scope, bare = split_scope(name)
    if scope in GLOBAL_SCOPES:
        risk, why = Risk.ADMIN, f"{scope.upper()} changes it for every session"
    else:
        risk, why = setting_risk(bare, value)
    reasons = (f"SET {bare} {why}",) if why else ()
    return Classification(risk, (StatementInfo("SET", risk, (), reasons),), reasons)
