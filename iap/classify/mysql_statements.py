"""MySQL/MariaDB statements: the class of one statement, from its tokens and sqlglot's tree.

Owns the statement-level rules: the command tag (kind) and class of every statement form the
servers accept, read from the faithful tokens (GRANT, KILL, FLUSH, LOAD DATA, SET, SHOW,
PREPARE/EXECUTE, LOCK TABLES, HANDLER, stored programs, ALTER TABLE's data-dropping
clauses...), with sqlglot reading what has expressions (queries, INSERT/UPDATE/DELETE,
CREATE/ALTER bodies, SET values, DO, CALL arguments) so that every function call anywhere is
judged. A form not known here is unknown; a part sqlglot cannot read is unknown.

Also what each statement leaves in the session (Context.step, a SessionStep once frozen): the
name a PREPARE defines with its text's facts, the name a DEALLOCATE drops or an EXECUTE runs,
whether it may change how later text is lexed (a SET of sql_mode or a character set, SET
NAMES, a prepared statement or code that may) and whether it runs code the gateway does not
see (CALL, compound statements). Restoring a lexing setting from one user variable (SET
character_set_client = @saved_cs_client, mariadb-dump's idiom) is a read: the engine reads
the state back from the server before it classifies the next statement. A procedure's or
function's body takes part in its CREATE: at least the class of what the body may do, admin
when the gateway cannot follow it (control flow, handlers, dynamic SQL); triggers and events
are admin. From dump files: LOCK TABLES is write (it locks), ALTER TABLE ... DISABLE/ENABLE
KEYS is ddl (it changes how a table's indexes are kept).

Must never do I/O, never return a class lower than the worst thing the statement can do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from iap.classify import mysql_lexer as lexer
from iap.classify.mysql_functions import BUILTIN_NAMES, function_risk
from iap.classify.mysql_lexer import (
    Token,
    closing_paren,
    compound_start,
    is_op,
    is_word,
    routine_kind,
)
from iap.classify.mysql_settings import (
    GLOBAL_SCOPES,
    SESSION_SCOPES,
    WHOLE_MODE_FLAGS,
    charset_is_safe,
    mode_flag_list,
    pipes_readings,
    setting_risk,
    split_scope,
    sql_mode_risk,
    unsafe_mode_words,
)
from iap.classify.mysql_tree import ParseFailed, Truth, parse, render, scan_calls, walk_statement
from iap.classify.scan import Scan, SessionEffects
from iap.classify.types import (
    UNKNOWN_PREPARED,
    Classification,
    PreparedFacts,
    Risk,
    SessionStep,
)

UNCHANGED = object()  # ctx.new_sql_mode / new_charset when no statement set it
# Session settings whose change moves how the server lexes later text (the character set
# ones: the engine reads character_set_client back; the others are flagged all the same).
LEXING_SETTINGS = frozenset({"sql_mode", "character_set_client", "character_set_connection",
                             "collation_connection"})  # fmt: skip


@dataclass
class StepFacts:
    """What the current statement does to the session, gathered while it is read."""

    prepare: tuple[str, PreparedFacts] | None = None
    deallocate: str | None = None
    execute: str | None = None
    lexing: bool = False
    opaque: bool = False
    forgets: bool = False  # runs a prepared statement that may prepare names unseen

    def freeze(self) -> SessionStep:
        return SessionStep(self.prepare, self.deallocate, self.execute, self.lexing, self.opaque)


@dataclass
class Context:
    """What classifying the statements of one reading of a query string needs."""

    safe: frozenset[str]
    truth: Truth
    sql_mode: str | None  # the session's sql_mode before the current statement (None: unknown)
    classify_text: Callable[[str], Classification]  # PREPARE/EXECUTE IMMEDIATE text
    prepared: Callable[[str], PreparedFacts | None]  # a prepared name's facts (None: unknown)
    effects: SessionEffects = field(default_factory=SessionEffects)
    new_sql_mode: object = UNCHANGED  # what the statement set sql_mode to (str, None: unknown)
    new_charset: object = UNCHANGED  # what it set the client charset to (str, None: unknown)
    step: StepFacts = field(default_factory=StepFacts)

    def lexing_unknown(self) -> None:
        """The statement may change the lexing state in a way not read (it runs code or a
        prepared statement): the rest of the text is read under an unknown state."""
        self.step.lexing = True
        self.new_sql_mode = self.new_charset = None

    def charset_set(self, name: str | None) -> None:
        """The statement sets the client character set (None: to a value not read)."""
        self.step.lexing = True
        self.new_charset = None if name is None or name.lower() == "default" else name


# ----------------------------------------------------------------------------- helpers


def _words(tokens: list[Token], i: int, count: int) -> list[str]:
    """The words at i, i+1, ... (count of them; "" for a token that is not a word, or none)."""
    found = [t.value if t.kind == lexer.WORD else "" for t in tokens[i : i + count]]
    return found + [""] * (count - len(found))


def _has_paren(tokens: list[Token]) -> bool:
    return any(t.kind == lexer.OP and t.value == "(" for t in tokens)


def _split_commas(tokens: list[Token]) -> list[list[Token]]:
    """tokens split at the commas outside parentheses."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for t in tokens:
        if t.kind == lexer.OP:
            if t.value == "(":
                depth += 1
            elif t.value == ")":
                depth -= 1
            elif t.value == "," and depth == 0:
                parts.append([])
                continue
        parts[-1].append(t)
    return parts


def _find_word(tokens: list[Token], word: str, start: int = 0) -> int:
    """Index of the first WORD word outside parentheses at or after start; -1 if none."""
    depth = 0
    for i in range(start, len(tokens)):
        t = tokens[i]
        if t.kind == lexer.OP:
            depth += t.value == "("
            depth -= t.value == ")"
        elif depth == 0 and t.kind == lexer.WORD and t.value == word:
            return i
    return -1


def _name(tokens: list[Token], i: int) -> tuple[str, int]:
    """A possibly qualified name at i (db.t, `db`.`t`): (its text, the index after it)."""
    parts: list[str] = []
    n = len(tokens)
    while i < n and tokens[i].kind in (lexer.WORD, lexer.QIDENT, lexer.STRING):
        t = tokens[i]
        parts.append(t.value if t.kind != lexer.WORD else t.text)
        i += 1
        if i + 1 < n and is_op(tokens[i], "."):
            i += 1
            continue
        break
    return ".".join(parts), i


def _names_list(tokens: list[Token], i: int) -> list[str]:
    """Comma-separated names from i (DROP TABLE a, b; LOCK TABLES a READ, b WRITE)."""
    names = []
    for part in _split_commas(tokens[i:]):
        name, _ = _name(part, 0)
        if name:
            names.append(name)
    return names


def _literal_text(tokens: list[Token]) -> str | None:
    """The text of a one-token literal value (a string, a number, a word like ON), or None."""
    if len(tokens) == 1 and tokens[0].kind in (
        lexer.STRING,
        lexer.WORD,
        lexer.QIDENT,
        lexer.NUMBER,
    ):
        t = tokens[0]
        return t.value if t.kind != lexer.WORD else t.text
    if len(tokens) == 2 and is_op(tokens[0], "-") and tokens[1].kind == lexer.NUMBER:
        return "-" + tokens[1].text
    return None


_CALL_OPS = frozenset({",", "(", ")", "+", "-", "*", "/"})


def _simple_calls(ctx: Context, tokens: list[Token], scan: Scan) -> bool:
    """Judge an expression made only of literals, variables and unqualified calls (such as
    CONCAT(@@sql_mode, ',X')) without a parser; False when it has anything else."""
    depth = 0
    calls: list[tuple[Token, bool]] = []  # (name, a gap before its parenthesis)
    for i, t in enumerate(tokens):
        if t.kind in lexer.VALUE_KINDS:
            continue
        if t.kind == lexer.OP and t.value in _CALL_OPS:
            depth += (t.value == "(") - (t.value == ")")
            if depth < 0:
                return False
            continue
        if t.kind == lexer.WORD and i + 1 < len(tokens) and is_op(tokens[i + 1], "("):
            calls.append((t, tokens[i + 1].start != t.end))
            continue
        if not (t.kind == lexer.WORD and t.value in ("NULL", "TRUE", "FALSE")):
            return False
    if depth:
        return False
    for call, spaced in calls:
        scan.add(*function_risk(call.text, None, ctx.safe, spaced=spaced))
    return True


def scan_expressions(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    """Judge the calls in a comma-separated expression list by parsing SELECT <tokens>."""
    if not tokens:
        return
    if len(tokens) == 1 and tokens[0].kind not in (lexer.WORD, lexer.QIDENT):
        return  # one literal or variable: nothing to call
    if _simple_calls(ctx, tokens, scan):
        return
    try:
        tree = parse("SELECT " + render(tokens))
    except ParseFailed as e:
        scan.add(Risk.UNKNOWN, f"could not read the expression ({e})")
        return
    scan_calls([tree], scan, ctx.safe, ctx.truth)


def _parsed(
    ctx: Context,
    tokens: list[Token],
    scan: Scan,
    first: str | None = None,
    pipes_concat: bool = False,
) -> None:
    """Parse tokens with sqlglot and walk the tree into scan (unknown when it cannot)."""
    try:
        tree = parse(render(tokens, first), pipes_concat)
    except ParseFailed as e:
        scan.add(Risk.UNKNOWN, f"could not parse: {e}")
        return
    walk_statement(tree, scan, ctx.safe, ctx.truth, tokens[0].value)


def _calls_in_ddl(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    """DDL whose class the tokens decide: with parentheses, sqlglot must find every call."""
    if _has_paren(tokens):
        _parsed(ctx, tokens, scan)


# ----------------------------------------------------------------------------- queries

_INTO_END = frozenset({"FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "FOR", "LOCK",
                       "UNION", "WINDOW", "INTERSECT", "EXCEPT"})  # fmt: skip


def _query(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    _files_written(tokens, scan)
    if scan.risk.rank >= Risk.ADMIN.rank:
        return  # sqlglot does not read INTO OUTFILE; nothing is worse than admin but unknown
    tokens = _strip_into(tokens, scan)
    tokens = _strip_procedure(tokens)
    _parsed(ctx, tokens, scan)


def _files_written(tokens: list[Token], scan: Scan) -> None:
    """INTO OUTFILE/DUMPFILE anywhere in a statement (a parenthesised query too): admin."""
    for i, t in enumerate(tokens[:-1]):
        target = tokens[i + 1]
        if t.kind == lexer.WORD and t.value == "INTO" and is_word(target, "OUTFILE", "DUMPFILE"):
            path = tokens[i + 2].value if i + 2 < len(tokens) else "?"
            scan.effect(Risk.ADMIN, f"SELECT ... INTO {target.value} '{path}' writes a file "
                        "on the database server")  # fmt: skip


def _strip_into(tokens: list[Token], scan: Scan) -> list[Token]:
    """Remove SELECT ... INTO @variables (a read); INTO anything else is not read here."""
    i = _find_word(tokens, "INTO")
    if i < 0 or (i + 1 < len(tokens) and is_word(tokens[i + 1], "OUTFILE", "DUMPFILE")):
        return tokens
    j = i + 1
    while j < len(tokens) and (tokens[j].kind == lexer.VAR or is_op(tokens[j], ",")):
        j += 1
    if j == i + 1 or (j < len(tokens) and not is_word(tokens[j], *_INTO_END)):
        scan.add(Risk.UNKNOWN, "SELECT ... INTO a target the gateway cannot read")
        return tokens
    return _strip_into(tokens[:i] + tokens[j:], scan)


def _strip_procedure(tokens: list[Token]) -> list[Token]:
    """SELECT ... PROCEDURE ANALYSE(n, m) only describes the result: drop it for sqlglot."""
    i = _find_word(tokens, "PROCEDURE")
    if i > 0 and i + 2 < len(tokens) and is_word(tokens[i + 1], "ANALYSE"):
        j = i + 2
        if is_op(tokens[j], "("):
            depth = 0
            while j < len(tokens):
                depth += is_op(tokens[j], "(") - is_op(tokens[j], ")")
                j += 1
                if depth == 0:
                    break
            if all(t.kind in (lexer.NUMBER, lexer.OP) for t in tokens[i + 3 : j - 1]):
                return tokens[:i] + tokens[j:]
    return tokens


_DML_MODIFIERS = frozenset({"LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "QUICK", "IGNORE"})


def _strip_modifiers(tokens: list[Token]) -> list[Token]:
    j = 1
    while j < len(tokens) and tokens[j].kind == lexer.WORD and tokens[j].value in _DML_MODIFIERS:
        j += 1
    return tokens[:1] + tokens[j:]


def _insert(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    tokens = _strip_modifiers(tokens)
    _parsed(ctx, tokens, scan, first="INSERT" if tokens[0].value == "REPLACE" else None)


def _modify(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    if tokens[0].value == "DELETE" and len(tokens) > 1 and is_word(tokens[1], "HISTORY"):
        name, _ = _name(tokens, 3)
        scan.effect(Risk.DESTRUCTIVE, f"DELETE HISTORY removes system-versioned history of {name}")
        return
    tokens = _strip_modifiers(tokens)
    readings = [False]
    if any(t.kind == lexer.OP and t.value == "||" for t in tokens):
        # || is OR or string concatenation (PIPES_AS_CONCAT); a WHERE never true one way can
        # be always true the other, so with the sql_mode unknown both readings count
        readings = pipes_readings(ctx.sql_mode)
    for pipes_concat in readings:
        _parsed(ctx, tokens, scan, pipes_concat=pipes_concat)


# ----------------------------------------------------------------------------- SET


def _set(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    first = _words(tokens, 1, 2)
    if first[:1] == ["STATEMENT"]:
        _set_statement(ctx, tokens, scan)
        return
    if first[:1] in (["PASSWORD"], ["ROLE"], ["RESOURCE"]) or first == ["DEFAULT", "ROLE"]:
        what = {"PASSWORD": "changes a password", "ROLE": "changes the session's roles"}
        scan.effect(Risk.ADMIN, f"SET {first[0]} {what.get(first[0], 'changes privileges')}")
        return
    if first[:1] == ["TRANSACTION"] or (first[1:] == ["TRANSACTION"] and first[0]):
        if first[0].lower() in GLOBAL_SCOPES:
            scan.effect(Risk.ADMIN, f"SET {first[0]} TRANSACTION changes every new session")
        return
    _assignments(ctx, tokens[1:], scan, "SET")


def _set_statement(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    """SET STATEMENT a = 1, ... FOR <statement>: the settings for one statement, and it."""
    at = _find_word(tokens, "FOR", 2)
    if at < 0:
        scan.add(Risk.UNKNOWN, "SET STATEMENT without FOR")
        return
    saved = ctx.new_sql_mode, ctx.new_charset, ctx.step.lexing
    _assignments(ctx, tokens[2:at], scan, "SET STATEMENT")
    ctx.new_sql_mode, ctx.new_charset, ctx.step.lexing = saved  # only for that statement
    inner = tokens[at + 1 :]
    if not inner:
        scan.add(Risk.UNKNOWN, "SET STATEMENT ... FOR without a statement")
        return
    classify_into(ctx, inner, scan)


def _assignments(ctx: Context, tokens: list[Token], scan: Scan, verb: str) -> None:
    scope = "session"  # the latest scope keyword applies to later assignments without one
    for part in _split_commas(tokens):
        if not part:
            scan.add(Risk.UNKNOWN, f"{verb} with an empty assignment")
            continue
        head = part[0]
        if head.kind == lexer.WORD and head.value.lower() in GLOBAL_SCOPES | SESSION_SCOPES:
            scope = head.value.lower()
            part = part[1:]
            if not part:
                scan.add(Risk.UNKNOWN, f"{verb} {scope.upper()} without a setting")
                continue
        _assignment(ctx, part, scan, verb, scope)


def _assignment(ctx: Context, part: list[Token], scan: Scan, verb: str, scope: str) -> None:
    head = part[0]
    if (
        is_word(head, "NAMES")
        or is_word(head, "CHARSET")
        or (is_word(head, "CHARACTER") and len(part) > 1 and is_word(part[1], "SET"))
    ):
        _set_charset(ctx, part, scan, verb)
        return
    target, i = _assignment_target(part)
    if target is None or i >= len(part) or not (is_op(part[i], "=") or is_op(part[i], ":=")):
        scan.add(Risk.UNKNOWN, f"{verb} of something the gateway cannot read")
        return
    value = part[i + 1 :]
    if head.kind == lexer.VAR:  # a user variable: only the value's calls matter
        scan_expressions(ctx, value, scan)
        return
    written_scope, name = split_scope(target)
    if written_scope != "session" or (head.kind == lexer.SYSVAR and "." in head.value):
        scope = written_scope
    if scope in GLOBAL_SCOPES:
        scan.effect(Risk.ADMIN, f"{verb} {scope.upper()} {name} changes it for every session")
        scan_expressions(ctx, value, scan)
        return
    literal = _literal_text(value)
    if name in LEXING_SETTINGS:
        ctx.step.lexing = True
        if name == "character_set_client":
            ctx.charset_set(literal)
    if name == "sql_mode":
        risk, why = _sql_mode_value(ctx, value, literal)
    elif name in LEXING_SETTINGS and _saved_value(value):
        risk, why = Risk.READ, ""  # the engine reads the new value back before going on
    else:
        risk, why = setting_risk(name, literal)
    if why:
        scan.effect(risk, f"{verb} {name} {why}")
    if literal is None:
        scan_expressions(ctx, value, scan)


def _assignment_target(part: list[Token]) -> tuple[str | None, int]:
    """The variable an assignment sets ('@@global.x', 'x', 'a.b'), and where `=` should be."""
    head = part[0]
    if head.kind == lexer.VAR:
        return "@" + head.value, 1
    if head.kind == lexer.SYSVAR:
        return head.value, 1
    if head.kind in (lexer.WORD, lexer.QIDENT):
        name, i = _name(part, 0)
        return name.lower(), i
    return None, 0


def _saved_value(value: list[Token]) -> bool:
    """A value that is one user variable: restoring a setting saved earlier (mariadb-dump's
    SET character_set_client = @saved_cs_client). Which value it holds is not read; the
    statement is a read because the lexing state is read back from the server after it,
    before the next statement is classified, and the rest of its own text is read under an
    unknown state."""
    return len(value) == 1 and value[0].kind == lexer.VAR


def _set_charset(ctx: Context, part: list[Token], scan: Scan, verb: str) -> None:
    """SET NAMES x [COLLATE y], SET CHARACTER SET x, SET CHARSET x."""
    at = 2 if is_word(part[0], "CHARACTER") else 1
    value = part[at] if at < len(part) else None
    what = "NAMES" if is_word(part[0], "NAMES") else "CHARACTER SET"
    if value is None or value.kind not in (lexer.WORD, lexer.STRING, lexer.QIDENT):
        scan.add(Risk.UNKNOWN, f"{verb} {what} without a character set")
        return
    name = value.value if value.kind != lexer.WORD else value.text
    ctx.charset_set(name)
    if not (name.lower() == "default" or charset_is_safe(name)):
        scan.effect(Risk.ADMIN, f"{verb} {what} {name} may hide quotes in text")
    rest = part[at + 1 :]
    if rest and not (is_word(rest[0], "COLLATE") and len(rest) == 2):
        scan.add(Risk.UNKNOWN, f"{verb} {what} with more than the gateway can read")


def _sql_mode_value(ctx: Context, value: list[Token], literal: str | None) -> tuple[Risk, str]:
    """The class of SET sql_mode = value, remembering the new mode for later statements."""
    if literal is not None and literal.lower() != "default":
        numeric = literal.strip().lstrip("-").isdigit()  # a bit mask: its flags are not read
        ctx.new_sql_mode = None if numeric else literal
        return sql_mode_risk(literal)
    if _saved_value(value):
        ctx.new_sql_mode = None
        return Risk.READ, ""
    if literal is not None or (len(value) == 1 and _sql_mode_scope(value[0]) in GLOBAL_SCOPES):
        # DEFAULT or @@global.sql_mode: the server's default, the mode the session started
        # with unless a SET GLOBAL (admin) changed it since; which flags it holds is not read
        ctx.new_sql_mode = None
        return Risk.READ, ""
    change = _sql_mode_change(value)
    if change is None:
        ctx.new_sql_mode = None
        return sql_mode_risk(None)
    added, exact = change
    known = ctx.sql_mode if ctx.new_sql_mode is UNCHANGED else ctx.new_sql_mode
    if exact and isinstance(known, str):
        ctx.new_sql_mode = ",".join([known, *added])
    else:
        ctx.new_sql_mode = None  # after a REPLACE, or from an unknown mode: not known
    unsafe = unsafe_mode_words(",".join(added))
    if unsafe:
        return Risk.ADMIN, f"adds {', '.join(unsafe)}, which changes how text is read"
    return Risk.READ, ""


def _sql_mode_scope(t: Token) -> str | None:
    """The scope of a @@sql_mode token (session, local, global...), None for anything else."""
    if t.kind != lexer.SYSVAR:
        return None
    scope, name = split_scope(t.value)
    return scope if name == "sql_mode" else None


def _sql_mode_change(tokens: list[Token]) -> tuple[list[str], bool] | None:
    """How an expression changes the session's sql_mode: (the flags it adds, whether the
    result is exactly the old mode and those), or None when it cannot be read.

    Read: the session's @@sql_mode, CONCAT(<read>, ',FLAG,...', ...), CONCAT_WS(',', <read>,
    'FLAG', ...) and REPLACE(<read>, 'FLAG', 'FLAG,...' or ''), where every FLAG is a whole
    sql_mode flag. Removing whole flags and adding known ones cannot spell a new flag out of
    pieces; removing fragments can ('STRICT_TRANS_TABLES,IGNORE_SPACE' without 'STRICT_TR',
    '_TABLES,' and 'GNORE_SPACE' is 'ANSI'), so nothing else is read. After a REPLACE the
    mode is not exactly known (the flags removed are gone).
    """
    if len(tokens) == 1:
        return ([], True) if _sql_mode_scope(tokens[0]) in SESSION_SCOPES else None
    if (
        len(tokens) < 4
        or tokens[0].kind != lexer.WORD
        or not is_op(tokens[1], "(")
        or closing_paren(tokens, 1) != len(tokens) - 1
    ):
        return None
    function = tokens[0].value
    args = _split_commas(tokens[2:-1])
    literals = [a[0].value if len(a) == 1 and a[0].kind == lexer.STRING else None for a in args]
    if function == "REPLACE" and len(args) == 3:
        inner = _sql_mode_change(args[0])
        removed, inserted = literals[1], literals[2]
        if inner is None or removed is None or inserted is None:
            return None
        if removed.upper() not in WHOLE_MODE_FLAGS:
            return None
        flags = mode_flag_list(inserted)
        return None if flags is None else (inner[0] + flags, False)
    if function == "CONCAT_WS" and len(args) >= 2 and literals[0] == ",":
        first, text = args[1], "".join("," + (lit or "") for lit in literals[2:])
        rest = literals[2:]
    elif function == "CONCAT" and args:
        first, text = args[0], "".join(lit or "" for lit in literals[1:])
        rest = literals[1:]
    else:
        return None
    inner = _sql_mode_change(first)
    if inner is None or None in rest or (text and not text.startswith(",")):
        return None
    flags = mode_flag_list(text)
    return None if flags is None else (inner[0] + flags, inner[1])


# ----------------------------------------------------------------------------- reads


def _show(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    where = _find_word(tokens, "WHERE")
    head = tokens if where < 0 else tokens[:where]
    for i, t in enumerate(head):
        if is_op(t, "(") and not (i > 0 and is_word(head[i - 1], "CURRENT_USER", "USER")):
            scan.add(Risk.UNKNOWN, "SHOW with an expression the gateway cannot read")
            return
    if where >= 0:
        scan_expressions(ctx, tokens[where + 1 :], scan)


_EXPLAINABLE = frozenset({"SELECT", "WITH", "INSERT", "REPLACE", "UPDATE", "DELETE", "TABLE",
                          "VALUES"})  # fmt: skip


def _explain(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    """EXPLAIN/DESCRIBE: a table's columns, or a statement's plan (EXPLAIN ANALYZE runs it)."""
    i, analyze = 1, False
    while i < len(tokens) and tokens[i].kind == lexer.WORD:
        v = tokens[i].value
        if v in ("EXTENDED", "PARTITIONS"):
            i += 1
        elif v == "ANALYZE":
            analyze, i = True, i + 1
        elif v == "FORMAT" and i + 2 < len(tokens) and is_op(tokens[i + 1], "="):
            i += 3
        else:
            break
    rest = tokens[i:]
    if rest and (
        is_op(rest[0], "(") or (rest[0].kind == lexer.WORD and rest[0].value in _EXPLAINABLE)
    ):
        if analyze:
            classify_into(ctx, rest, scan)
            if scan.risk is not Risk.READ:
                scan.add(scan.risk, "EXPLAIN ANALYZE runs the statement")
            return
        scan.planning += 1
        try:
            classify_into(ctx, rest, scan)
        finally:
            scan.planning -= 1
        return
    if _words(rest, 0, 2) == ["FOR", "CONNECTION"]:
        return
    if analyze or any(
        t.kind not in (lexer.WORD, lexer.QIDENT, lexer.STRING) and not is_op(t, ".") for t in rest
    ):
        scan.add(Risk.UNKNOWN, "EXPLAIN of something the gateway cannot read")
        return
    name, _ = _name(rest, 0)
    if name:
        scan.table(name)


def _analyze(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    """ANALYZE TABLE (maintenance: ddl) or MariaDB's ANALYZE <statement> (runs it)."""
    i = 1
    while i < len(tokens) and is_word(tokens[i], "NO_WRITE_TO_BINLOG", "LOCAL"):
        i += 1
    if i < len(tokens) and is_word(tokens[i], "TABLE", "TABLES"):
        _maintenance(ctx, tokens, scan)
        return
    if i + 2 < len(tokens) and is_word(tokens[i], "FORMAT") and is_op(tokens[i + 1], "="):
        i += 3
    rest = tokens[i:]
    if not rest:
        scan.add(Risk.UNKNOWN, "ANALYZE without a statement")
        return
    classify_into(ctx, rest, scan)
    if scan.risk is not Risk.READ:
        scan.add(scan.risk, "ANALYZE runs the statement")


def _read(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    """Statements that change nothing (USE, HELP, COMMIT, SAVEPOINT, UNLOCK TABLES, ...)."""
    if _has_paren(tokens):
        scan.add(Risk.UNKNOWN, f"{scan.kind} with an expression the gateway cannot read")


def _start(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    if _words(tokens, 1, 1) == ["TRANSACTION"]:
        scan.kind = "START TRANSACTION"
        _read(ctx, tokens, scan)
    else:
        _admin(ctx, tokens, scan)


def _xa(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    verb = _words(tokens, 1, 1)[0] if len(tokens) > 1 else ""
    scan.kind = f"XA {verb}".strip()
    if verb == "PREPARE":
        scan.effect(Risk.WRITE, "XA PREPARE keeps a transaction and its locks")
    elif verb in ("COMMIT", "ROLLBACK"):
        scan.effect(Risk.ADMIN, f"XA {verb} may end a transaction of another session")
    elif verb not in ("START", "BEGIN", "END", "RECOVER"):
        scan.add(Risk.UNKNOWN, "unrecognised XA statement")


def _lock(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    if _words(tokens, 1, 1)[0] in ("TABLE", "TABLES"):
        scan.kind = "LOCK TABLES"
        for name in _names_list(tokens, 2):
            scan.table(name.split(" ")[0])
        scan.effect(Risk.WRITE, "LOCK TABLES locks tables")
        _read(ctx, tokens, scan)
    else:
        _admin(ctx, tokens, scan)


def _handler(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    """HANDLER t OPEN/READ/CLOSE: a cursor over a table; READ's values and WHERE are read."""
    name, i = _name(tokens, 1)
    scan.table(name)
    verb = _words(tokens, i, 1)[0] if i < len(tokens) else ""
    if verb not in ("OPEN", "READ", "CLOSE"):
        scan.add(Risk.UNKNOWN, "unrecognised HANDLER statement")
        return
    rest = tokens[i + 1 :]
    where = _find_word(rest, "WHERE")
    values = rest if where < 0 else rest[:where]
    start = next((k for k, t in enumerate(values) if is_op(t, "(")), -1)
    if start >= 0:
        scan_expressions(ctx, values[start:], scan)
    if where >= 0:
        limit = _find_word(rest, "LIMIT", where)
        scan_expressions(ctx, rest[where + 1 : limit if limit >= 0 else len(rest)], scan)


def _do(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    scan_expressions(ctx, tokens[1:], scan)


def _call(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    name, i = _name(tokens, 1)
    qualifier, _, bare = name.rpartition(".")
    key = f"{qualifier}.{bare.lower()}" if qualifier else bare.lower()
    if key not in ctx.safe:
        scan.effect(Risk.ADMIN, f"CALL {name}() runs a procedure")
    _runs_unseen(ctx, scan)
    if i < len(tokens):
        scan_expressions(ctx, tokens[i:], scan)


# ----------------------------------------------------------------------------- prepared


def _prepare(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    name, i = _name(tokens, 1)
    if i >= len(tokens) or not is_word(tokens[i], "FROM"):
        scan.add(Risk.UNKNOWN, "PREPARE without FROM")
        return
    facts = _dynamic_sql(ctx, tokens[i + 1 :], scan, f"PREPARE {name}", planning=True)
    ctx.effects.prepare(name.lower(), facts.risk)
    ctx.step.prepare = (name.lower(), facts)


def _execute(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    if _words(tokens, 1, 1) == ["IMMEDIATE"]:
        scan.kind = "EXECUTE IMMEDIATE"
        using = _find_word(tokens, "USING", 2)
        text = tokens[2:using] if using >= 0 else tokens[2:]
        facts = _dynamic_sql(ctx, text, scan, "EXECUTE IMMEDIATE", planning=False)
        if facts.lexing:
            ctx.lexing_unknown()
        ctx.step.opaque |= facts.opaque
        return
    name = _name(tokens, 1)[0].lower()
    if scan.planning:
        return
    ctx.effects.executes.append(name)
    ctx.step.execute = name
    known = ctx.prepared(name)
    if known is None:
        scan.effect(Risk.UNKNOWN, f"EXECUTE of unknown prepared statement {name}")
    elif known.risk is not Risk.READ:
        scan.effect(known.risk, f"EXECUTE {name} runs a prepared {known.risk.value} statement")
    facts = known or UNKNOWN_PREPARED
    if facts.lexing:
        ctx.lexing_unknown()
    ctx.step.forgets |= facts.opaque


def _runs_unseen(ctx: Context, scan: Scan) -> None:
    """The statement runs code the gateway does not read (a procedure, a block): it may
    change the session's settings and prepared statements, and answer with several results."""
    if not scan.planning:
        ctx.lexing_unknown()
        ctx.step.opaque = True


def prepared_facts(inner: Classification) -> PreparedFacts:
    """What running a classified text does beyond its class (PREPARE, EXECUTE IMMEDIATE)."""
    steps = inner.steps
    opaque = steps is None or any(s.opaque or s.names for s in steps)
    return PreparedFacts(inner.risk, lexing=inner.lexing, opaque=opaque)


def _dynamic_sql(
    ctx: Context, text: list[Token], scan: Scan, what: str, *, planning: bool
) -> PreparedFacts:
    """The class of SQL given as text (a literal is classified; anything else is unknown)."""
    if len(text) == 1 and text[0].kind == lexer.STRING:
        inner = ctx.classify_text(text[0].value)
        reasons = inner.reasons or ("",)
        for reason in reasons:
            detail = f": {reason}" if reason else ""
            if planning:
                scan.add(Risk.READ, f"{what} ({inner.risk.value} when executed){detail}")
            else:
                scan.effect(inner.risk, f"{what} runs SQL{detail}")
        for statement in inner.statements:
            for table in statement.tables:
                scan.table(table)
        return prepared_facts(inner)
    if not planning:
        scan.effect(Risk.UNKNOWN, f"{what} runs SQL that is not a literal")
    else:
        scan.add(Risk.READ, f"{what} (unknown when executed): its text is not a literal")
    scan_expressions(ctx, text, scan)
    return UNKNOWN_PREPARED


def _deallocate(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    scan.kind = "DEALLOCATE PREPARE"
    if _words(tokens, 1, 1)[0] != "PREPARE":
        scan.add(Risk.UNKNOWN, "unrecognised DEALLOCATE statement")
        return
    name, _ = _name(tokens, 2)
    ctx.effects.deallocate(name.lower())
    ctx.step.deallocate = name.lower()


# ----------------------------------------------------------------------------- DDL

_ADMIN_OBJECTS = frozenset({"USER", "ROLE", "SERVER", "TABLESPACE", "LOGFILE", "RESOURCE",
                            "INSTANCE"})  # fmt: skip
_ALTER_ADMIN_OBJECTS = _ADMIN_OBJECTS | {"EVENT"}  # ALTER EVENT changes what a schedule runs
_CREATE_PREFIX = frozenset({"OR", "REPLACE", "TEMPORARY", "UNIQUE", "FULLTEXT", "SPATIAL",
                            "ONLINE", "OFFLINE", "AGGREGATE", "SQL", "SECURITY", "INVOKER",
                            "ALGORITHM", "UNDEFINED", "MERGE", "TEMPTABLE", "IGNORE",
                            "NONEDITIONABLE", "EDITIONABLE"})  # fmt: skip
_OBJECTS = frozenset({"TABLE", "TABLES", "INDEX", "VIEW", "DATABASE", "SCHEMA", "SEQUENCE",
                      "PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE", "USER", "ROLE",
                      "SERVER", "TABLESPACE", "LOGFILE", "RESOURCE", "INSTANCE",
                      "KEY"})  # fmt: skip
# Engines that reach files or servers outside the database.
_OUTSIDE_ENGINES = frozenset({"CONNECT", "FEDERATED", "FEDERATEDX", "SPIDER", "S3", "OQGRAPH"})


@dataclass
class _Head:
    """The words before the object of CREATE/ALTER/DROP."""

    noun: str  # TABLE, VIEW, ...
    at: int  # index of the noun
    replace: bool
    definer: str | None  # a DEFINER that is not CURRENT_USER


def _head(tokens: list[Token]) -> _Head | None:
    i, replace, definer = 1, False, None
    while i < len(tokens) and tokens[i].kind == lexer.WORD:
        v = tokens[i].value
        if v in _OBJECTS:
            if v == "TABLES":
                v = "TABLE"
            return _Head(v, i, replace, definer)
        if v == "DEFINER" and is_word(tokens[i - 1], "SECURITY"):  # SQL SECURITY DEFINER
            i += 1
            continue
        if v == "DEFINER":
            j = i + 2 if i + 1 < len(tokens) and is_op(tokens[i + 1], "=") else i + 1
            who = tokens[j] if j < len(tokens) else None
            if who is None or not is_word(who, "CURRENT_USER", "CURRENT_ROLE"):
                user = who.value if who is not None else "?"
                host = (
                    tokens[j + 1]
                    if j + 1 < len(tokens) and tokens[j + 1].kind == lexer.VAR
                    else None
                )
                definer = user + (f"@{host.value}" if host is not None else "")
            i = j + 1
            if i + 1 < len(tokens) and is_op(tokens[i], "(") and is_op(tokens[i + 1], ")"):
                i += 2
            while i < len(tokens) and tokens[i].kind == lexer.VAR:
                i += 1
            continue
        if v == "REPLACE":
            replace = True
        elif v == "ALGORITHM" and i + 2 < len(tokens) and is_op(tokens[i + 1], "="):
            i += 2
        elif v not in _CREATE_PREFIX:
            return None
        i += 1
    return None


def _object_name(tokens: list[Token], i: int) -> tuple[str, int]:
    if i + 2 < len(tokens) and is_word(tokens[i], "IF"):
        i += 3 if is_word(tokens[i + 1], "NOT") else 2  # IF [NOT] EXISTS
    return _name(tokens, i)


def _object_statement(
    tokens: list[Token], scan: Scan, verb: str, admin_nouns: frozenset[str]
) -> tuple[_Head, str, int] | None:
    """CREATE/ALTER of an object: (its head, its name, the index after the name), or None
    when that settles the statement (unrecognised: unknown; an admin object: admin)."""
    head = _head(tokens)
    if head is None:
        scan.add(Risk.UNKNOWN, f"unrecognised {verb} statement")
        return None
    scan.kind = f"{verb} {head.noun}"
    name, after = _object_name(tokens, head.at + 1)
    if head.noun in admin_nouns:
        scan.effect(Risk.ADMIN, f"{verb} {head.noun} {name}".rstrip())
        return None
    if head.definer is not None:
        scan.effect(Risk.ADMIN, f"{verb} {head.noun} {name} with DEFINER {head.definer} runs "
                    "as that user")  # fmt: skip
    return head, name, after


def _create(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    found = _object_statement(tokens, scan, "CREATE", _ADMIN_OBJECTS)
    if found is None:
        return
    head, name, after = found
    if head.noun in ("PROCEDURE", "FUNCTION", "PACKAGE", "TRIGGER", "EVENT"):
        _create_routine(ctx, tokens, scan, head, name)
        return
    if head.noun in ("TABLE", "DATABASE", "SCHEMA", "SEQUENCE") and head.replace:
        scan.effect(Risk.DESTRUCTIVE, f"CREATE OR REPLACE {head.noun} {name} drops the existing "
                    f"{head.noun.lower()}")  # fmt: skip
    else:
        scan.effect(Risk.DDL, f"CREATE {head.noun} {name}")
    if head.noun in ("TABLE", "SEQUENCE"):
        scan.table(name)
        tokens = _table_options(tokens, scan, f"CREATE TABLE {name}")
    if head.noun == "VIEW":
        _view_body(ctx, tokens, scan, after)
        return
    if head.noun == "INDEX":
        _index_parts(ctx, tokens, scan, after)
        return
    _calls_in_ddl(ctx, _partitions(ctx, _without_definer(tokens), scan), scan)


def _index_parts(ctx: Context, tokens: list[Token], scan: Scan, after: int) -> None:
    """CREATE INDEX ... ON t (part, ...): only a functional part ((expr)) can call anything."""
    on = _find_word(tokens, "ON", after)
    if on < 0:
        scan.add(Risk.UNKNOWN, "CREATE INDEX without ON")
        return
    table, i = _name(tokens, on + 1)
    scan.table(table)
    if i >= len(tokens) or not is_op(tokens[i], "("):
        scan.add(Risk.UNKNOWN, "CREATE INDEX without key parts")
        return
    end = closing_paren(tokens, i)
    for part in _split_commas(tokens[i + 1 : end]):
        if part and is_word(part[-1], "ASC", "DESC"):
            part = part[:-1]
        if part and is_op(part[0], "(") and closing_paren(part, 0) == len(part) - 1:
            scan_expressions(ctx, part[1:-1], scan)  # a functional key part: (expr)
        elif [t.value if t.kind == lexer.OP else t.kind for t in part] not in _KEY_PART_SHAPES:
            scan.add(Risk.UNKNOWN, "CREATE INDEX with a key part the gateway cannot read")
    if _has_paren(tokens[end + 1 :]):
        scan.add(Risk.UNKNOWN, "CREATE INDEX with options the gateway cannot read")


# A column key part: name or name(prefix length).
_KEY_PART_SHAPES = (
    [lexer.WORD], [lexer.QIDENT],
    [lexer.WORD, "(", lexer.NUMBER, ")"], [lexer.QIDENT, "(", lexer.NUMBER, ")"],
)  # fmt: skip


# Words before a parenthesis in partition definitions that are syntax, not a call.
_PARTITION_SYNTAX = frozenset({"HASH", "RANGE", "LIST", "COLUMNS", "KEY", "THAN", "IN",
                               "PARTITION", "SUBPARTITION", "INTO", "VALUES"})  # fmt: skip
_PARTITION_VERBS = frozenset({"ADD", "REORGANIZE", "COALESCE", "REBUILD", "ANALYZE", "CHECK",
                              "OPTIMIZE", "REPAIR", "EXCHANGE", "CONVERT"})  # fmt: skip


def _partitions(ctx: Context, tokens: list[Token], scan: Scan) -> list[Token]:
    """Judge the calls in a partitioning clause (PARTITION BY ..., ADD PARTITION (...)), which
    sqlglot does not read, and return the tokens before it. In that clause every name right
    before a parenthesis is a call unless it is partition syntax (so a type or an AS there
    is unknown: fail closed)."""
    depth, start = 0, -1
    for i, t in enumerate(tokens[:-1]):
        if t.kind == lexer.OP:
            depth += (t.value == "(") - (t.value == ")")
        elif depth == 0 and t.kind == lexer.WORD and is_word(tokens[i + 1], "PARTITION"):
            if t.value in _PARTITION_VERBS:
                start = i
                break
        elif depth == 0 and is_word(t, "PARTITION") and is_word(tokens[i + 1], "BY"):
            start = i
            break
    if start < 0:
        return tokens
    clause = tokens[start:]
    for i, t in enumerate(clause[:-1]):
        paren = clause[i + 1]
        if t.kind in (lexer.WORD, lexer.QIDENT) and is_op(paren, "("):
            if t.kind == lexer.WORD and t.value in _PARTITION_SYNTAX:
                continue
            qualified = i >= 2 and is_op(clause[i - 1], ".")
            risk, reason = function_risk(
                t.value if t.kind == lexer.QIDENT else t.text,
                clause[i - 2].value if qualified else None,
                ctx.safe,
                quoted=t.kind == lexer.QIDENT,
                spaced=paren.start != t.end,
            )
            scan.add(risk, reason)
    return tokens[:start]


def _without_definer(tokens: list[Token]) -> list[Token]:
    """CREATE/ALTER tokens without DEFINER = ... (sqlglot does not read every user form)."""
    head = _find_word(tokens, "DEFINER")
    if head < 0:
        return tokens
    j = head + 1
    if j < len(tokens) and is_op(tokens[j], "="):
        j += 1
    j += 1
    if j + 1 < len(tokens) and is_op(tokens[j], "(") and is_op(tokens[j + 1], ")"):
        j += 2
    while j < len(tokens) and tokens[j].kind == lexer.VAR:
        j += 1
    return tokens[:head] + tokens[j:]


def _view_body(ctx: Context, tokens: list[Token], scan: Scan, after: int) -> None:
    """A view's query does not run now, but its calls will run on every read of the view."""
    at = _find_word(tokens, "AS", after)
    if at < 0:
        scan.add(Risk.UNKNOWN, "CREATE VIEW without AS")
        return
    body = tokens[at + 1 :]
    check = _find_word(body, "WITH")
    if (check > 0 and _words(body, check + 1, 2)[-1:] == ["OPTION"]) or (
        check > 0 and _words(body, check + 1, 1)[0] in ("CASCADED", "LOCAL", "CHECK")
    ):
        body = body[:check]
    scan.planning += 1
    try:
        _query(ctx, body, scan)
    finally:
        scan.planning -= 1


def _create_routine(ctx: Context, tokens: list[Token], scan: Scan, head: _Head, name: str) -> None:
    """Stored programs: creating one runs nothing, but what it plants runs later, inside a
    CALL or any statement that calls a function (a read, a bounded write): triggers and
    events run unseen (admin); a procedure or function takes at least the class of what its
    body may do, and admin when the gateway cannot read the body with certainty."""
    noun = head.noun
    bare = name.rpartition(".")[2].lower()
    if noun in ("TRIGGER", "EVENT"):
        when = "with every change to its table" if noun == "TRIGGER" else "on a schedule"
        scan.effect(Risk.ADMIN, f"CREATE {noun} {name} runs code {when}, unseen by the gateway")
        return
    if noun == "PACKAGE":
        scan.effect(Risk.ADMIN, f"CREATE PACKAGE {name} defines procedural code")
        return
    if _find_word(tokens, "SONAME") >= 0:
        scan.effect(Risk.ADMIN, f"CREATE FUNCTION {name} loads a shared library into the server")
        return
    if bare in BUILTIN_NAMES or any(safe.rpartition(".")[2] == bare for safe in ctx.safe):
        scan.effect(Risk.ADMIN, f"CREATE {noun} {name} shadows a built-in or a routine the "
                    "operator marked safe")  # fmt: skip
        return
    scan.effect(Risk.DDL, f"CREATE {noun} {name} (its calls are judged when made)")
    body = _routine_body(ctx, tokens, head)
    if body.risk is Risk.READ:
        return
    risk = Risk.ADMIN if body.risk is Risk.UNKNOWN else body.risk
    for reason in body.reasons or (f"{body.risk.value} body",):
        scan.effect(risk, f"CREATE {noun} {name} plants code that runs later: {reason}")


# Statements of a stored program body that the gateway does not follow (control flow,
# handlers, nested blocks): a body with one is admin.
_CONTROL_WORDS = frozenset({"IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR", "BEGIN", "LEAVE",
                            "ITERATE", "GOTO", "LABEL"})  # fmt: skip


def _routine_body(ctx: Context, tokens: list[Token], head: _Head) -> Scan:
    """What a procedure's or function's body may do when it runs: a single statement, or a
    BEGIN ... END of plain statements, DECLAREs of variables, conditions and cursors, SET of
    local variables, RETURN, OPEN/FETCH/CLOSE. Local variables and parameters are constants
    of the statements they appear in (and win over columns of the same name, as on the
    server), so they are read as user variables. Anything else is unknown."""
    body = Scan("body")
    start = lexer.body_start(tokens, head.noun, head.at)
    if start is None or start >= len(tokens):
        body.add(Risk.UNKNOWN, "a routine without a body the gateway can find")
        return body
    inner = Context(ctx.safe, ctx.truth, ctx.sql_mode, ctx.classify_text, lambda _: None)
    names = _routine_parameters(tokens, head.at, start)
    statements = _block_statements(tokens[start:])
    if statements is None:
        body.add(Risk.UNKNOWN, "a body with control flow or nested blocks the gateway does not "
                 "follow")  # fmt: skip
        return body
    for statement in statements:
        _body_statement(inner, statement, body, names)
        if inner.step.opaque or inner.step.prepare or inner.step.execute:
            body.add(Risk.UNKNOWN, "a body that runs dynamic SQL or other stored code")
    return body


def _routine_parameters(tokens: list[Token], at: int, start: int) -> set[str]:
    """The lower-case names of a routine's parameters (between its name and its body)."""
    open_at = next((k for k in range(at + 1, start) if is_op(tokens[k], "(")), -1)
    if open_at < 0:
        return set()
    names = set()
    for part in _split_commas(tokens[open_at + 1 : closing_paren(tokens, open_at)]):
        if part and is_word(part[0], "IN", "OUT", "INOUT") and len(part) > 1:
            part = part[1:]
        if part and part[0].kind in (lexer.WORD, lexer.QIDENT):
            names.add((part[0].value if part[0].kind == lexer.QIDENT else part[0].text).lower())
    return names


def _block_statements(body: list[Token]) -> list[list[Token]] | None:
    """The statements of a body: itself, or those of BEGIN [NOT ATOMIC] ... END; None when
    it has control flow, a label or a nested block."""
    if is_word(body[0], "BEGIN"):
        if not is_word(body[-1], "END"):
            return None
        skip = 3 if len(body) > 2 and is_word(body[1], "NOT") and is_word(body[2], "ATOMIC") else 1
        parts = [statement.tokens for statement in lexer.split(body[skip:-1], 0)]
    else:
        parts = [body]
    for part in parts:
        if is_word(part[0], *_CONTROL_WORDS) or (len(part) > 1 and is_op(part[1], ":")):
            return None
    return parts


def _body_statement(ctx: Context, tokens: list[Token], body: Scan, names: set[str]) -> None:
    """Add what one statement of a routine body may do to body (names: the locals so far)."""
    first = tokens[0].value if tokens[0].kind == lexer.WORD else ""
    if first == "DECLARE":
        _declare(ctx, tokens, body, names)
        return
    tokens = _locals_as_variables(tokens, names)
    if first == "RETURN":
        scan_expressions(ctx, tokens[1:], body)
    elif first in ("OPEN", "CLOSE") and len(tokens) == 2:
        return  # a cursor: its query was read where it was declared
    elif first == "FETCH":
        into = _find_word(tokens, "INTO")
        if into < 0 or any(t.kind != lexer.VAR and not is_op(t, ",") for t in tokens[into + 1 :]):
            body.add(Risk.UNKNOWN, "FETCH into something the gateway cannot read")
    else:
        scan = Scan(statement_kind(tokens))
        classify_into(ctx, tokens, scan)
        body.add(scan.risk, "")
        for reason in scan.reasons:
            body.add(scan.risk, reason)


def _declare(ctx: Context, tokens: list[Token], body: Scan, names: set[str]) -> None:
    """DECLARE of variables (with their DEFAULT), a condition or a cursor (its query)."""
    cursor = _find_word(tokens, "CURSOR")
    if cursor == 2 and _words(tokens, 3, 1) == ["FOR"]:
        _body_statement(ctx, tokens[4:], body, names)
        return
    if _find_word(tokens, "HANDLER") >= 0:
        body.add(Risk.UNKNOWN, "DECLARE ... HANDLER runs a statement the gateway does not follow")
        return
    if _words(tokens, 2, 1) == ["CONDITION"]:
        return
    i = 1
    while i < len(tokens) and tokens[i].kind in (lexer.WORD, lexer.QIDENT):
        t = tokens[i]
        names.add((t.value if t.kind == lexer.QIDENT else t.text).lower())
        if i + 1 < len(tokens) and is_op(tokens[i + 1], ","):
            i += 2
            continue
        break
    default = _find_word(tokens, "DEFAULT", i)
    if default >= 0:
        scan_expressions(ctx, _locals_as_variables(tokens[default + 1 :], names), body)


def _locals_as_variables(tokens: list[Token], names: set[str]) -> list[Token]:
    """tokens with each local variable or parameter as a user variable (a constant)."""
    if not names:
        return tokens
    out = list(tokens)
    for k, t in enumerate(tokens):
        if t.kind != lexer.WORD or t.text.lower() not in names:
            continue
        if (k and is_op(tokens[k - 1], ".")) or (
            k + 1 < len(tokens) and (is_op(tokens[k + 1], ".") or is_op(tokens[k + 1], "("))
        ):
            continue
        out[k] = Token(lexer.VAR, "@" + t.text, t.text, t.start, t.end)
    return out


def _table_options(tokens: list[Token], scan: Scan, what: str) -> list[Token]:
    """Judge table options that reach outside the database or discard data; the tokens
    without DATA/INDEX DIRECTORY and CONNECTION options (a word and a string each, which
    sqlglot does not read)."""
    kept: list[Token] = []
    skip = 0
    for i, t in enumerate(tokens):
        if skip:
            skip -= 1
            continue
        kept.append(t)
        if t.kind != lexer.WORD:
            continue
        if t.value == "ENGINE":
            j = i + 2 if i + 1 < len(tokens) and is_op(tokens[i + 1], "=") else i + 1
            engine = tokens[j].value.upper() if j < len(tokens) else ""
            if engine in _OUTSIDE_ENGINES:
                scan.effect(Risk.ADMIN, f"{what} uses the {engine} engine, which reaches "
                            "files or servers outside the database")  # fmt: skip
            elif engine == "BLACKHOLE" and what.startswith("ALTER"):
                scan.effect(Risk.DESTRUCTIVE, f"{what} ENGINE=BLACKHOLE discards every row")
        elif (
            t.value in ("DATA", "INDEX")
            and i + 1 < len(tokens)
            and is_word(tokens[i + 1], "DIRECTORY")
        ):
            scan.effect(Risk.ADMIN, f"{what} puts files in a server directory")
            kept.pop()
            skip = 1 + _option_length(tokens, i + 1)
        elif (
            t.value == "CONNECTION"
            and i + 1 < len(tokens)
            and (is_op(tokens[i + 1], "=") or tokens[i + 1].kind == lexer.STRING)
        ):
            scan.effect(Risk.ADMIN, f"{what} connects to another server")
            kept.pop()
            skip = _option_length(tokens, i)
    return kept


def _option_length(tokens: list[Token], i: int) -> int:
    """How many tokens after tokens[i] belong to an option `WORD [=] 'string'`."""
    if i + 1 < len(tokens) and is_op(tokens[i + 1], "="):
        return 2
    return 1


def _alter(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    found = _object_statement(tokens, scan, "ALTER", _ALTER_ADMIN_OBJECTS)
    if found is None:
        return
    head, name, after = found
    if head.noun in ("PROCEDURE", "FUNCTION"):
        bare = name.rpartition(".")[2].lower()
        risk = Risk.ADMIN if bare in ctx.safe or name.lower() in ctx.safe else Risk.DDL
        scan.effect(risk, f"ALTER {head.noun} {name}")
        return
    if head.noun == "VIEW":
        scan.effect(Risk.DDL, f"ALTER VIEW {name}")
        _view_body(ctx, tokens, scan, after)
        return
    if head.noun == "TABLE":
        scan.table(name)
        tokens = tokens[:after] + _alter_table(tokens[after:], scan, name)
    if scan.risk is Risk.READ:
        scan.effect(Risk.DDL, f"ALTER {head.noun} {name}")
    tokens = [t for i, t in enumerate(tokens) if not (0 < i < head.at and t.kind == lexer.WORD)]
    _calls_in_ddl(ctx, _partitions(ctx, _without_definer(tokens), scan), scan)


_KEPT_DROPS = frozenset({"INDEX", "KEY", "PRIMARY", "FOREIGN", "CONSTRAINT", "CHECK", "PERIOD",
                         "UNIQUE", "FULLTEXT", "SPATIAL", "DEFAULT"})  # fmt: skip


def _alter_table(specs: list[Token], scan: Scan, table: str) -> list[Token]:
    """ALTER TABLE clauses that lose data (destructive) or reach outside (admin)."""
    what = f"ALTER TABLE {table}"
    for spec in _split_commas(specs):
        words = _words(spec, 0, 3)
        if words[:1] == ["DROP"]:
            target = words[1] if len(words) > 1 else ""
            if target == "PARTITION":
                scan.effect(Risk.DESTRUCTIVE, f"{what} DROP PARTITION drops its rows")
            elif target == "SYSTEM":
                scan.effect(Risk.DESTRUCTIVE, f"{what} DROP SYSTEM VERSIONING drops its history")
            elif target not in _KEPT_DROPS:
                column, _ = _object_name(spec, 2 if target == "COLUMN" else 1)
                scan.effect(Risk.DESTRUCTIVE, f"{what} DROP COLUMN {column}")
        elif words[:2] == ["TRUNCATE", "PARTITION"]:
            scan.effect(Risk.DESTRUCTIVE, f"{what} TRUNCATE PARTITION deletes its rows")
        elif words[:1] == ["DISCARD"]:
            scan.effect(Risk.DESTRUCTIVE, f"{what} DISCARD TABLESPACE deletes its data file")
        elif words[:1] == ["IMPORT"]:
            scan.effect(Risk.ADMIN, f"{what} IMPORT TABLESPACE reads a file on the server")
    return _table_options(specs, scan, what)


def _drop(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    if _words(tokens, 1, 1) == ["PREPARE"]:
        _deallocate(ctx, tokens, scan)
        scan.kind = "DEALLOCATE PREPARE"
        return
    i = 1
    while i < len(tokens) and is_word(tokens[i], "TEMPORARY", "ONLINE", "OFFLINE", "UNIQUE"):
        i += 1
    noun = _words(tokens, i, 1)[0] if i < len(tokens) else ""
    noun = "TABLE" if noun == "TABLES" else noun
    if noun not in _OBJECTS:
        scan.add(Risk.UNKNOWN, "unrecognised DROP statement")
        return
    scan.kind = f"DROP {noun}"
    start = i + 1
    if start + 1 < len(tokens) and is_word(tokens[start], "IF"):
        start += 2
    names = _names_list(tokens, start)
    if noun == "INDEX":
        on = _find_word(tokens, "ON", start)
        names = [_name(tokens, start)[0]]
        if on >= 0:
            scan.table(_name(tokens, on + 1)[0])
    if noun in ("TABLE", "VIEW", "SEQUENCE"):
        for name in names:
            scan.table(name)
    risk = Risk.ADMIN if noun in _ADMIN_OBJECTS else Risk.DESTRUCTIVE
    scan.effect(risk, f"DROP {noun} {', '.join(names)}".rstrip())
    _read(ctx, tokens, scan)


def _rename(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    noun = _words(tokens, 1, 1)[0] if len(tokens) > 1 else ""
    scan.kind = f"RENAME {noun}".strip()
    if noun in ("TABLE", "TABLES"):
        scan.kind = "RENAME TABLE"
        pairs = _split_commas(tokens[2:])
        for pair in pairs:
            scan.table(_name(pair, 0)[0])
        scan.effect(
            Risk.DDL, f"RENAME TABLE {', '.join(' '.join(t.text for t in p) for p in pairs)}"
        )
        _read(ctx, tokens, scan)
    elif noun == "USER":
        scan.effect(Risk.ADMIN, "RENAME USER changes an account")
    else:
        scan.add(Risk.UNKNOWN, "unrecognised RENAME statement")


def _truncate(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    i = 2 if _words(tokens, 1, 1) == ["TABLE"] else 1
    scan.kind = "TRUNCATE TABLE"
    name, _ = _name(tokens, i)
    scan.table(name)
    scan.effect(Risk.DESTRUCTIVE, f"TRUNCATE TABLE {name}")
    _read(ctx, tokens, scan)


def _maintenance(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    """ANALYZE/OPTIMIZE/REPAIR/CHECK TABLE: maintenance (ddl); CHECKSUM only reads."""
    verb = tokens[0].value
    i = 1
    while i < len(tokens) and is_word(tokens[i], "NO_WRITE_TO_BINLOG", "LOCAL"):
        i += 1
    noun = _words(tokens, i, 1)[0] if i < len(tokens) else ""
    if noun not in ("TABLE", "TABLES", "VIEW"):
        scan.add(Risk.UNKNOWN, f"unrecognised {verb} statement")
        return
    scan.kind = f"{verb} {noun.rstrip('S')}"
    names = _names_list(tokens, i + 1)
    for name in names:
        scan.table(name.split(" ")[0])
    if verb == "CHECKSUM":
        return
    if verb == "REPAIR" and _find_word(tokens, "USE_FRM") >= 0:
        scan.effect(Risk.DESTRUCTIVE, "REPAIR TABLE ... USE_FRM may lose rows")
    scan.effect(Risk.DDL, f"{verb} {noun.rstrip('S')} {', '.join(n.split(' ')[0] for n in names)}")
    _read(ctx, tokens, scan)


# ----------------------------------------------------------------------------- admin

_ADMIN_WHY = {
    "GRANT": "changes privileges",
    "REVOKE": "changes privileges",
    "KILL": "ends another session's query or connection",
    "SHUTDOWN": "stops the server",
    "RESTART": "restarts the server",
    "FLUSH": "changes server state (caches, logs, privileges)",
    "RESET": "resets server state",
    "PURGE": "deletes binary logs",
    "CHANGE": "changes replication",
    "STOP": "stops replication",
    "START": "starts replication",
    "INSTALL": "loads code into the server",
    "UNINSTALL": "unloads code from the server",
    "BINLOG": "replays binary log events",
    "CLONE": "copies a server",
    "IMPORT": "reads files on the server",
    "BACKUP": "locks the server for a backup",
    "CACHE": "changes the server's key caches",
    "LOCK": "locks the server",
}


def _admin(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    verb = tokens[0].value
    second = _words(tokens, 1, 1)[0] if len(tokens) > 1 else ""
    if second and verb not in ("GRANT", "REVOKE", "KILL"):
        scan.kind = f"{verb} {second}"
    scan.effect(Risk.ADMIN, f"{scan.kind} {_ADMIN_WHY.get(verb, 'acts on the server')}")


def _load(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    noun = _words(tokens, 1, 1)[0] if len(tokens) > 1 else ""
    scan.kind = f"LOAD {noun}".strip()
    if noun in ("DATA", "XML"):
        infile = _find_word(tokens, "INFILE")
        path = tokens[infile + 1].value if 0 <= infile < len(tokens) - 1 else "?"
        where = "client" if _find_word(tokens, "LOCAL") >= 0 else "server"
        into = _find_word(tokens, "TABLE")
        if into >= 0:
            scan.table(_name(tokens, into + 1)[0])
        scan.effect(Risk.ADMIN, f"LOAD {noun} reads the {where} file '{path}'")
    elif noun == "INDEX":
        scan.effect(Risk.ADMIN, "LOAD INDEX INTO CACHE changes the server's key caches")
    else:
        scan.add(Risk.UNKNOWN, "unrecognised LOAD statement")


def _signal(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    """SIGNAL/RESIGNAL raise an error; GET DIAGNOSTICS reads it."""
    _read(ctx, tokens, scan)


def _compound(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    first = tokens[2] if len(tokens) > 2 and is_op(tokens[1], ":") else tokens[0]  # label:
    scan.kind = "BEGIN NOT ATOMIC" if is_word(first, "BEGIN") else first.value
    scan.effect(Risk.ADMIN, "runs a block of procedural code the gateway does not read")
    _runs_unseen(ctx, scan)


_HANDLERS: dict[str, tuple[str, Callable[[Context, list[Token], Scan], None]]] = {
    "SELECT": ("SELECT", _query), "WITH": ("SELECT", _query), "VALUES": ("SELECT", _query),
    "TABLE": ("SELECT", _query), "(": ("SELECT", _query),
    "INSERT": ("INSERT", _insert), "REPLACE": ("REPLACE", _insert),
    "UPDATE": ("UPDATE", _modify), "DELETE": ("DELETE", _modify),
    "SET": ("SET", _set), "SHOW": ("SHOW", _show),
    "EXPLAIN": ("EXPLAIN", _explain), "DESCRIBE": ("DESCRIBE", _explain),
    "DESC": ("DESCRIBE", _explain), "ANALYZE": ("ANALYZE", _analyze),
    "USE": ("USE", _read), "HELP": ("HELP", _read), "BEGIN": ("BEGIN", _read),
    "COMMIT": ("COMMIT", _read), "ROLLBACK": ("ROLLBACK", _read),
    "SAVEPOINT": ("SAVEPOINT", _read), "RELEASE": ("RELEASE SAVEPOINT", _read),
    "UNLOCK": ("UNLOCK TABLES", _read), "START": ("START", _start), "XA": ("XA", _xa),
    "LOCK": ("LOCK", _lock), "HANDLER": ("HANDLER", _handler), "DO": ("DO", _do),
    "CALL": ("CALL", _call), "PREPARE": ("PREPARE", _prepare),
    "EXECUTE": ("EXECUTE", _execute), "DEALLOCATE": ("DEALLOCATE PREPARE", _deallocate),
    "CREATE": ("CREATE", _create), "ALTER": ("ALTER", _alter), "DROP": ("DROP", _drop),
    "RENAME": ("RENAME", _rename), "TRUNCATE": ("TRUNCATE TABLE", _truncate),
    "OPTIMIZE": ("OPTIMIZE TABLE", _maintenance), "REPAIR": ("REPAIR TABLE", _maintenance),
    "CHECK": ("CHECK TABLE", _maintenance), "CHECKSUM": ("CHECKSUM TABLE", _maintenance),
    "LOAD": ("LOAD", _load), "SIGNAL": ("SIGNAL", _signal), "RESIGNAL": ("RESIGNAL", _signal),
    "GET": ("GET DIAGNOSTICS", _signal),
    **{verb: (verb, _admin) for verb in ("GRANT", "REVOKE", "KILL", "SHUTDOWN", "RESTART",
                                         "FLUSH", "RESET", "PURGE", "CHANGE", "STOP",
                                         "INSTALL", "UNINSTALL", "BINLOG", "CLONE", "IMPORT",
                                         "BACKUP", "CACHE")},
}  # fmt: skip


def statement_kind(tokens: list[Token]) -> str:
    first = tokens[0]
    key = first.value if first.kind in (lexer.WORD, lexer.OP) else ""
    entry = _HANDLERS.get(key)
    return entry[0] if entry else key


def classify_into(ctx: Context, tokens: list[Token], scan: Scan) -> None:
    """Add what the statement in tokens does to scan (kind set by the caller or here)."""
    first = tokens[0]
    key = first.value if first.kind in (lexer.WORD, lexer.OP) else ""
    if key == "DELIMITER":
        scan.add(Risk.UNKNOWN, "DELIMITER is a command of the mysql client, not SQL")
        return
    if compound_start(tokens, 0) is not None and routine_kind(tokens, 0) is None:
        _compound(ctx, tokens, scan)
        return
    entry = _HANDLERS.get(key)
    if entry is None:
        scan.add(Risk.UNKNOWN, f"unrecognised statement {first.text[:40]}")
        return
    entry[1](ctx, tokens, scan)


def classify_statement(ctx: Context, tokens: list[Token]) -> Scan:
    """The Scan of one statement."""
    scan = Scan(statement_kind(tokens))
    classify_into(ctx, tokens, scan)
    return scan
