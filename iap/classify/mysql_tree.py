"""MySQL statements read by sqlglot: rendering tokens for it, and walking its WHOLE tree.

Owns the parser side of the MySQL classifier: the text sqlglot parses is rendered from the
faithful tokens of mysql_lexer (comments gone, executable comments inlined, every string
re-quoted one unambiguous way, quoted identifiers in backticks), so sqlglot never lexes the
user's text itself; a sqlglot parser that records every function's name as written (and
whether quoted or with a space before its parenthesis); the walk, once over each node, that
finds what a statement does: rows changed and whether a WHERE bounds them, row locks,
tables, and every function call anywhere (built-ins by name, stored functions and UDFs
unknown). Every node kind is known here or the statement is unknown: fail closed.

Must never do I/O, never let a sqlglot error escape (the caller turns ParseFailed and any
bug into unknown), and never return a class lower than the worst thing the tree can do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.dialects.mysql import MySQL
from sqlglot.errors import SqlglotError
from sqlglot.parsers.mysql import MySQLParser
from sqlglot.tokenizer_core import TokenType

from iap.classify import mysql_lexer as lexer
from iap.classify.mysql_functions import function_risk
from iap.classify.mysql_lexer import Token, is_op, is_word
from iap.classify.scan import NO_POSITION, Scan
from iap.classify.types import Risk

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # it warns about what it falls back on


class ParseFailed(Exception):
    """sqlglot could not read the statement (the message says why)."""


# ----------------------------------------------------------------------------- rendering

_PLAIN_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789")
_VERBATIM = frozenset({lexer.NUMBER, lexer.HEX, lexer.BIN, lexer.PARAM})  # sqlglot reads as MySQL


def quote_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def quote_string(value: str) -> str:
    """A literal sqlglot's MySQL tokenizer reads back as exactly value (tested both ways)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _render_token(t: Token) -> str:
    kind = t.kind
    if kind == lexer.WORD:
        if t.text == "\\N":
            return "NULL"
        if t.value[0].isdigit() or not _PLAIN_WORD.issuperset(t.value):
            return quote_identifier(t.text)
        return t.text
    if kind == lexer.QIDENT:
        return quote_identifier(t.value)
    if kind == lexer.STRING:
        return quote_string(t.value)
    if kind == lexer.OP:
        return t.value
    if kind in _VERBATIM:
        return t.text
    if kind == lexer.VAR:
        plain = t.value and _PLAIN_WORD.issuperset(t.value.upper())
        return "@" + (t.value if plain else quote_identifier(t.value))
    if kind == lexer.SYSVAR:
        return "@@" + t.value
    raise ParseFailed(f"cannot render a {kind} token")


def _sequence_call(tokens: list[Token], i: int) -> tuple[str, int] | None:
    """NEXT VALUE FOR s / PREVIOUS VALUE FOR s at i: (the NEXTVAL(s)/LASTVAL(s) text, end)."""
    if not (
        i + 3 < len(tokens)
        and is_word(tokens[i], "NEXT", "PREVIOUS")
        and is_word(tokens[i + 1], "VALUE")
        and is_word(tokens[i + 2], "FOR")
    ):
        return None
    j = i + 3
    parts = [_render_token(tokens[j])]
    j += 1
    while j + 1 < len(tokens) and is_op(tokens[j], "."):
        parts.append(_render_token(tokens[j + 1]))
        j += 2
    function = "NEXTVAL" if tokens[i].value == "NEXT" else "LASTVAL"
    return f"{function}({'.'.join(parts)})", j


def render(tokens: list[Token], first: str | None = None) -> str:
    """The text sqlglot parses for tokens; first replaces the first word (REPLACE -> INSERT).

    A "(" that touches the token before it in the source touches it here too, and only
    then: the parser tells name( from name ( by it (see _Parser)."""
    out: list[str] = []
    glue = False  # the previous piece was a qualifying dot
    i, n = 0, len(tokens)
    while i < n:
        t = tokens[i]
        if t.kind == lexer.WORD and t.value in ("NEXT", "PREVIOUS"):
            call = _sequence_call(tokens, i)
            if call is not None:
                out.append(" " + call[0])
                i = call[1]
                glue = False
                continue
        piece = first if (i == 0 and first is not None) else _render_token(t)
        if t.kind == lexer.OP and t.value == ".":
            out.append(".")
            glue = True
        else:
            touching = t.kind == lexer.OP and t.value == "(" and i and tokens[i - 1].end == t.start
            out.append(piece if glue or touching else " " + piece)
            glue = False
        i += 1
    return "".join(out).lstrip()


# ----------------------------------------------------------------------------- parsing


class _Parser(MySQLParser):
    """MySQL's parser, recording each function's name as written (iap_name) and how: quoted
    (`name`(), iap_quoted) or with a space or comment before its parenthesis (iap_spaced),
    which makes some built-in names a stored function's (mysql_functions.function_risk)."""

    def _parse_function_call(self, *args: Any, **kwargs: Any) -> exp.Expr | None:
        token, paren = self._curr, self._next
        result = super()._parse_function_call(*args, **kwargs)
        if result is not None and token is not None:
            node = result.this if isinstance(result, exp.Window) else result
            if isinstance(node, exp.Func) and "iap_name" not in node.meta:
                node.meta["iap_name"] = token.text
                node.meta["iap_quoted"] = token.token_type is TokenType.IDENTIFIER
                node.meta["iap_spaced"] = (
                    paren is not None
                    and paren.token_type is TokenType.L_PAREN
                    and paren.start > token.end + 1
                )
        return result


class _Dialect(MySQL):
    Parser = _Parser


class _ConcatParser(_Parser):
    """|| as string concatenation (sql_mode PIPES_AS_CONCAT), not OR. It binds tighter than
    any comparison here; where exactly among the arithmetic operators does not matter to
    the classifier, which never folds a concatenation into a constant."""

    DISJUNCTION: ClassVar[dict[TokenType, type[exp.Expr]]] = {
        k: v for k, v in _Parser.DISJUNCTION.items() if k is not TokenType.DPIPE
    }

    def _parse_bitwise(self) -> exp.Expr | None:
        this = super()._parse_bitwise()
        while self._match(TokenType.DPIPE):
            this = self.expression(exp.DPipe(this=this, expression=super()._parse_bitwise()))
        return this


class _ConcatDialect(MySQL):
    DPIPE_IS_STRING_CONCAT = True
    Parser = _ConcatParser


_DIALECT = _Dialect()
_CONCAT_DIALECT = _ConcatDialect()


def parse(text: str, pipes_concat: bool = False) -> exp.Expr:
    """The one statement in text, parsed; ParseFailed when sqlglot cannot read it all.

    pipes_concat: read || as string concatenation (PIPES_AS_CONCAT) instead of OR."""
    try:
        trees = (_CONCAT_DIALECT if pipes_concat else _DIALECT).parse(text)
    except (SqlglotError, ValueError, KeyError, IndexError, TypeError, AttributeError) as e:
        raise ParseFailed(str(e).splitlines()[0] if str(e) else type(e).__name__) from e
    if len(trees) != 1:
        raise ParseFailed("not exactly one statement")
    tree = trees[0]
    if tree is None:
        raise ParseFailed("no statement")
    if isinstance(tree, exp.Command):
        raise ParseFailed(f"sqlglot fell back to a generic command ({tree.name})")
    return tree


# ----------------------------------------------------------------------------- node kinds

# Functions made by syntax rather than by a name( call: they never run user code.
_SYNTAX_FUNCTIONS: tuple[type[exp.Expr], ...] = (
    exp.Case, exp.If, exp.RegexpLike, exp.JSONExtract, exp.JSONExtractScalar, exp.Cast,
    exp.CurrentDate, exp.CurrentTime, exp.CurrentTimestamp, exp.CurrentUser, exp.Interval,
    exp.Collate, exp.Extract, exp.Soundex,
)  # fmt: skip
# Operators (sqlglot makes some of them functions: AND, OR, REGEXP, ...).
_OPERATORS = (exp.Binary, exp.Unary, exp.Connector)
# Structure that does nothing itself: only the children are read.
_PLAIN: tuple[type[exp.Expr], ...] = (
    exp.Select, exp.From, exp.Join, exp.Where, exp.Group, exp.Having, exp.Order, exp.Ordered,
    exp.Limit, exp.Offset, exp.Distinct, exp.Column, exp.Identifier, exp.Literal, exp.Star,
    exp.Null, exp.Boolean, exp.Alias, exp.TableAlias, exp.Subquery, exp.With, exp.Union,
    exp.Except, exp.Intersect, exp.Values, exp.Tuple, exp.Window, exp.WindowSpec, exp.Var,
    exp.DataType, exp.DataTypeParam, exp.Parameter, exp.Placeholder, exp.SessionParameter,
    exp.Introducer, exp.HexString, exp.BitString, exp.National, exp.IndexTableHint,
    exp.Schema, exp.Returning, exp.OnConflict, exp.Partition, exp.CharacterSet,
    exp.JSONPath, exp.JSONPathPart, exp.JSONColumnDef, exp.JSONSchema, exp.Lateral,
    exp.Binary, exp.Unary, exp.Predicate, exp.Connector, exp.Kwarg, exp.Slice, exp.Aliases,
    exp.Interval, exp.Rollup, exp.Cube, exp.Fetch, exp.LimitOptions, exp.Version,
    exp.JSONKeyValue,
)  # fmt: skip


def _names(node: exp.Expr | None) -> str:
    if node is None:
        return ""
    if isinstance(node, exp.Dot):
        return f"{_names(node.this)}.{_names(node.expression)}"
    return str(node.name)


def table_name(table: exp.Table) -> str:
    return ".".join(p for p in (table.catalog, table.db, table.name) if p)


def _position(node: exp.Expr) -> int:
    this = node.this if isinstance(node.this, exp.Expr) else node
    meta = this._meta
    return int(meta.get("start", NO_POSITION)) if meta else NO_POSITION


# ----------------------------------------------------------------------------- WHERE analysis

_NOT_CONSTANT = object()


def _number_prefix(text: str) -> Decimal:
    """A string's value as MySQL converts it to a number (its numeric prefix, else 0)."""
    s = text.lstrip(" \t\n\r\x0b\x0c")  # the whitespace the server skips
    end = 0
    for i, c in enumerate(s):
        if c.isascii() and (c.isdigit() or (c in "+-" and i == 0) or c in ".eE"):
            end = i + 1
        else:
            break
    while end:
        try:
            return Decimal(s[:end])
        except InvalidOperation:
            end -= 1
    return Decimal(0)


class Truth:
    """Whether a condition holds for every row, from literals only (MySQL semantics)."""

    def __init__(self, high_not: bool, empty_is_null: bool) -> None:
        self.high_not = high_not  # HIGH_NOT_PRECEDENCE may be on: NOT x reads differently
        self.empty_is_null = empty_is_null  # EMPTY_STRING_IS_NULL may be on

    def constant(self, node: exp.Expr) -> Any:
        """Decimal, str, None (NULL) or _NOT_CONSTANT."""
        if isinstance(node, exp.Paren):
            return self.constant(node.this)
        if isinstance(node, exp.Literal):
            if node.is_string:
                text = str(node.this)
                return _NOT_CONSTANT if text == "" and self.empty_is_null else text
            try:
                return Decimal(str(node.this))
            except InvalidOperation:
                return _NOT_CONSTANT
        if isinstance(node, exp.Boolean):
            return Decimal(1 if node.this else 0)
        if isinstance(node, exp.Null):
            return None
        if isinstance(node, exp.Neg):
            value = self.constant(node.this)
            return -value if isinstance(value, Decimal) else _NOT_CONSTANT
        if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
            return self._arithmetic(node)
        return _NOT_CONSTANT

    def _arithmetic(self, node: exp.Expr) -> Any:
        left, right = self.constant(node.this), self.constant(node.expression)
        if left is None or right is None:
            return None
        if not (isinstance(left, (Decimal, str)) and isinstance(right, (Decimal, str))):
            return _NOT_CONSTANT
        a = left if isinstance(left, Decimal) else _number_prefix(left)
        b = right if isinstance(right, Decimal) else _number_prefix(right)
        if isinstance(node, exp.Add):
            return a + b
        return a - b if isinstance(node, exp.Sub) else a * b

    def truth(self, node: exp.Expr) -> bool | None:
        """True/False when the condition has that value for every row, None when it depends."""
        if isinstance(node, exp.Paren):
            return self.truth(node.this)
        value = self.constant(node)
        if value is not _NOT_CONSTANT:
            if value is None:
                return False
            return bool((value if isinstance(value, Decimal) else _number_prefix(value)) != 0)
        if isinstance(node, exp.And):
            parts = [self.truth(node.this), self.truth(node.expression)]
            return False if False in parts else (True if parts == [True, True] else None)
        if isinstance(node, exp.Or):
            parts = [self.truth(node.this), self.truth(node.expression)]
            return True if True in parts else (False if parts == [False, False] else None)
        if isinstance(node, exp.Xor):
            parts = [self.truth(node.this), self.truth(node.expression)]
            return None if None in parts else parts[0] != parts[1]
        if isinstance(node, exp.Not):
            if self.high_not and not isinstance(node.this, (exp.Literal, exp.Boolean, exp.Null)):
                return None
            inner = self.truth(node.this)
            return None if inner is None else not inner
        return self._predicate(node)

    def _predicate(self, node: exp.Expr) -> bool | None:
        if isinstance(node, exp.Is):
            value = self.constant(node.this)
            if value is _NOT_CONSTANT:
                return None
            if isinstance(node.expression, exp.Null):
                return value is None
            return None
        if isinstance(node, exp.In):
            value = self.constant(node.this)
            items = [self._compare("=", value, self.constant(e)) for e in node.expressions]
            if node.args.get("query") is not None or not items:
                return None
            return True if True in items else (False if all(i is False for i in items) else None)
        if isinstance(node, exp.Between):
            low = self._compare(">=", self.constant(node.this), self.constant(node.args["low"]))
            high = self._compare("<=", self.constant(node.this), self.constant(node.args["high"]))
            return None if low is None or high is None else low and high
        op = _COMPARISONS.get(type(node))
        if op is None:
            return None
        left, right = node.this, node.expression
        if _same_column(left, right):
            return op in ("=", "<=", ">=", "<=>")
        return self._compare(op, self.constant(left), self.constant(right))

    @staticmethod
    def _compare(op: str, left: Any, right: Any) -> bool | None:
        if left is _NOT_CONSTANT or right is _NOT_CONSTANT:
            return None
        if left is None or right is None:
            return (left is None and right is None) if op == "<=>" else False
        if isinstance(left, str) and isinstance(right, str):
            if op in ("=", "<=>"):
                return True if left == right else None  # collations make more strings equal
            return None
        a = left if isinstance(left, Decimal) else _number_prefix(left)
        b = right if isinstance(right, Decimal) else _number_prefix(right)
        return bool(_ORDER[op](a, b))


_COMPARISONS: dict[type[exp.Expr], str] = {
    exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=",
    exp.NullSafeEQ: "<=>",
}  # fmt: skip
_ORDER: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "=": lambda a, b: a == b, "<=>": lambda a, b: a == b, "<>": lambda a, b: a != b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}  # fmt: skip


def _same_column(left: exp.Expr, right: exp.Expr) -> bool:
    """x = x: the same column on both sides (no function, so the same value). MySQL column
    names are case-insensitive; qualifiers are compared the same way (the stricter reading)."""
    if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
        return False
    return [p.name.lower() for p in left.parts] == [p.name.lower() for p in right.parts]


def _depends_on_rows(node: exp.Expr, qualifiers: frozenset[str]) -> bool:
    """True when a condition refers to a column of the target: qualified by its name or
    alias, or unqualified outside subqueries (inside one it usually means its own tables)."""
    for column in node.find_all(exp.Column):
        if column.table:
            if column.table in qualifiers:
                return True
        elif column.find_ancestor(exp.Select, exp.Subquery) is None:
            return True
    return False


# ----------------------------------------------------------------------------- the walk


class TreeWalker:
    """Walks a parsed statement, filling a Scan."""

    def __init__(self, scan: Scan, safe: frozenset[str], truth: Truth, verb: str = "") -> None:
        self.scan = scan
        self.safe = safe
        self.truth = truth
        self.verb = verb  # the statement's first word (REPLACE is parsed as INSERT)
        self.ddl = False  # inside CREATE/ALTER: column definitions and properties are fine

    def statement(self, tree: exp.Expr) -> None:
        handler = _STATEMENTS.get(type(tree))
        if handler is None:
            self.scan.add(Risk.UNKNOWN, f"unrecognised statement: {type(tree).__name__}")
            return
        handler(self, tree)

    # -- statements

    def _query(self, tree: exp.Expr) -> None:
        self.walk(tree)

    def _insert(self, tree: exp.Expr) -> None:
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        name = table_name(target) if isinstance(target, exp.Table) else "?"
        self.scan.effect(Risk.WRITE, f"{self.verb or 'INSERT'} into {name}")
        self._children(tree)

    def _modify(self, tree: exp.Expr) -> None:
        verb = "UPDATE" if isinstance(tree, exp.Update) else "DELETE"
        targets = tree.args.get("tables") or [tree.this]
        names = ", ".join(table_name(t) for t in targets if isinstance(t, exp.Table))
        problem = self._unbounded(verb, tree, names)
        if problem:
            self.scan.effect(Risk.DESTRUCTIVE, problem)
        else:
            self.scan.effect(Risk.WRITE, f"{verb} on {names}")
        self._children(tree)

    def _unbounded(self, verb: str, tree: exp.Expr, names: str) -> str | None:
        """Why an UPDATE/DELETE reaches every row of its table(s), or None."""
        conditions: list[exp.Expr] = []
        where = tree.args.get("where")
        if where is not None:
            conditions.append(where.this)
        for source in [tree.this, *(tree.args.get("using") or [])]:
            if isinstance(source, exp.Expr):
                for join in source.args.get("joins") or []:
                    conditions.extend(c for c in (join.args.get("on"),) if c is not None)
        if not conditions:
            return f"{verb} without WHERE on {names}"
        truths = [self.truth.truth(c) for c in conditions]
        if False in truths:
            return None
        if all(t is True for t in truths):
            return f"{verb} with an always-true WHERE on {names}"
        qualifiers: set[str] = set()
        for table in [tree.this, *(tree.args.get("tables") or [])]:
            if isinstance(table, exp.Table):
                qualifiers.add(table.name)
                if table.alias:
                    qualifiers.add(table.alias)
        if not any(_depends_on_rows(c, frozenset(qualifiers)) for c in conditions):
            return f"{verb} whose WHERE does not depend on the rows of {names}"
        return None

    def _ddl(self, tree: exp.Expr) -> None:
        """CREATE/ALTER/DROP/TRUNCATE: the class comes from the tokens; calls still count."""
        self.ddl = True
        self._children(tree)

    # -- expressions

    def walk(self, node: exp.Expr) -> None:
        """Judge node and everything under it, each node once."""
        if isinstance(node, exp.Func):
            self._function(node)
        elif isinstance(node, exp.Table):
            self._table(node)
            return  # _table walks what is under it
        elif isinstance(node, exp.CTE):
            self.scan.ctes.add(node.alias)
        elif isinstance(node, exp.Lock):
            self.scan.effect(
                Risk.WRITE,
                "SELECT ... FOR UPDATE locks rows"
                if node.args.get("update")
                else "SELECT ... LOCK IN SHARE MODE locks rows",
            )
        elif isinstance(node, (exp.Insert, exp.Update, exp.Delete)) and node.parent is not None:
            self.scan.add(Risk.UNKNOWN, f"unrecognised nested {type(node).__name__}")
            return
        elif isinstance(node, exp.Command) or not (isinstance(node, _PLAIN) or self.ddl):
            # Inside CREATE/ALTER/DROP (self.ddl) the tokens decided the class; their parts
            # (column definitions, properties, alter actions) only matter for the calls in them.
            self.scan.add(Risk.UNKNOWN, f"unrecognised syntax: {type(node).__name__}")
            return
        self._children(node)

    def _children(self, node: exp.Expr, skip: str = "") -> None:
        for key, value in node.args.items():
            if key == skip:
                continue
            if isinstance(value, exp.Expr):
                self.walk(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, exp.Expr):
                        self.walk(item)

    def _table(self, node: exp.Table) -> None:
        if isinstance(node.this, exp.Expr) and not isinstance(node.this, exp.Identifier):
            self.walk(node.this)  # a table function or a user variable in INTO
        elif node.name and not (node.name.upper() == "DUAL" and not node.db):
            self.scan.table(table_name(node), _position(node))
        self._children(node, skip="this")

    def _function(self, node: exp.Func) -> None:
        """A call: its class by name as written (the walk goes on to its arguments)."""
        meta = node.meta if node._meta else {}
        written = meta.get("iap_name")
        if written is None:
            if not isinstance(node, _SYNTAX_FUNCTIONS) and not isinstance(node, _OPERATORS):
                self.scan.add(Risk.UNKNOWN, f"unrecognised syntax: {type(node).__name__}")
            return
        parent = node.parent
        qualifier = None
        if isinstance(parent, exp.Dot) and parent.expression is node:
            qualifier = _names(parent.this)
        risk, reason = function_risk(
            str(written),
            qualifier,
            self.safe,
            quoted=bool(meta.get("iap_quoted")),
            spaced=bool(meta.get("iap_spaced")),
        )
        self.scan.add(risk, reason)


_STATEMENTS: dict[type[exp.Expr], Callable[[TreeWalker, Any], None]] = {
    exp.Select: TreeWalker._query,
    exp.Union: TreeWalker._query,
    exp.Except: TreeWalker._query,
    exp.Intersect: TreeWalker._query,
    exp.Values: TreeWalker._query,
    exp.Subquery: TreeWalker._query,
    exp.Insert: TreeWalker._insert,
    exp.Update: TreeWalker._modify,
    exp.Delete: TreeWalker._modify,
    exp.Create: TreeWalker._ddl,
    exp.Alter: TreeWalker._ddl,
    exp.Drop: TreeWalker._ddl,
    exp.TruncateTable: TreeWalker._ddl,
}


def walk_statement(
    tree: exp.Expr, scan: Scan, safe: frozenset[str], truth: Truth, verb: str = ""
) -> None:
    """Fill scan with what the parsed statement tree does (verb: its first word)."""
    TreeWalker(scan, safe, truth, verb).statement(tree)


def scan_calls(trees: Iterable[exp.Expr], scan: Scan, safe: frozenset[str], truth: Truth) -> None:
    """Only the calls (and unreadable syntax) of expressions: SET values, DO, CALL arguments."""
    walker = TreeWalker(scan, safe, truth)
    for tree in trees:
        walker.walk(tree)
