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
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Self

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
from iap.classify.where_logic import (
    _NEVER,
    _ORDERING,
    UNCERTAIN,
    RowScope,
    Truth3,
    _all_of,
    _Always,
    _and3,
    _any_of,
    _constant,
    _everywhere,
    _Flag,
    _Formula,
    _Group,
    _not3,
    _or3,
    _Order,
    _Term,
    _Uncertain,
)

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

    def _parse_not(self) -> exp.Expr:
        """NOT x and !x, told apart for HIGH_NOT_PRECEDENCE (see Truth.readings): iap_not is
        "NOT" for the word, "!" for the operator (which always binds tightly)."""
        bang = self._prev is not None and self._prev.text == "!"
        node = super()._parse_not()
        negation = node.this if bang and isinstance(node, exp.Paren) else node
        negation.meta["iap_not"] = "!" if bang else "NOT"
        return node

    def _parse_paren(self) -> exp.Expr | None:
        """A parenthesised expression, marked written (iap_paren): sqlglot adds some."""
        node = super()._parse_paren()
        if isinstance(node, exp.Paren):
            node.meta["iap_paren"] = True
        return node


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

# Functions made by syntax rather than by a name( call: they never run user code. (A call
# written by name carries iap_name and is judged by it; TsOrDsToTimestamp is what sqlglot
# wraps DATE_FORMAT's first argument in.)
_SYNTAX_FUNCTIONS: tuple[type[exp.Expr], ...] = (
    exp.Case, exp.If, exp.RegexpLike, exp.JSONExtract, exp.JSONExtractScalar, exp.Cast,
    exp.CurrentDate, exp.CurrentTime, exp.CurrentTimestamp, exp.CurrentUser, exp.Interval,
    exp.Collate, exp.Extract, exp.Soundex, exp.TsOrDsToTimestamp,
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

# Whether an UPDATE or DELETE may reach every row of its table. The answer is "bounded" only
# when the server cannot find its condition (the WHERE and the ON of inner joins, ANDed) true
# on every row of the target (the same rule as postgres.py's):
#  - A part that does not read the target's rows is folded only where its value is certain
#    under MariaDB's rules: integer literals (within BIGINT) and TRUE/FALSE (1 and 0) under
#    unary minus, + - *, the comparisons (1, 0 or NULL), <=>, IN and BETWEEN, NOT, AND, OR,
#    XOR and the IS tests, with exact three-valued logic; NULL. Any other constant part (a
#    string, a decimal or float, a hex literal, a user or system variable, a placeholder, a
#    routine's parameter or local, a call, a subquery) may be true: @x may be 1, ? anything.
#  - A part that reads the rows bounds them unless it may hold on every row: an expression
#    compared with itself or with another of the same columns, IS NOT NULL, LIKE '%' or a
#    pattern not written (it may be '%'), a REGEXP that may match the empty string and a NOT
#    REGEXP one that may match nothing, ALL of a subquery and NOT IN / NOT EXISTS of one (it
#    may return no rows), IN/EXISTS that look each row up in the table itself, and
#    disjunctions whose parts together cover every value (x < 5 OR x >= 5, x OR NOT x,
#    x LIKE '%1' OR x <> 1), found by trying every case that matters (AND: one part that
#    bounds suffices; OR: every branch must bound). A value used as a condition is true
#    where it is not 0; a condition used as a value is 1, 0 or NULL.
#  - With a join, the target's unqualified columns may be another table's, and other tables'
#    columns are constants (any value); the ON of an outer join bounds nothing.
#  - When HIGH_NOT_PRECEDENCE may be on, NOT x = y may mean (NOT x) = y: both readings count.
# Known gaps (taken as bounding): arithmetic or calls that cancel the row (id - id = 0,
# ABS(id) >= 0, CONCAT('1', id)), the range of a column's type (id > -9223372036854775809),
# what the column's type decides (name = 0 on text; NOT LIKE 'x' on integers), IN or EXISTS
# of a subquery (a fact about the row, unrelated to its other comparisons; the data decides),
# a subquery whose unqualified column is in fact the target's.


Value = int | None | _Uncertain  # an integer (TRUE is 1), NULL (None) or uncertain
_BIGINT = (-(2**63), 2**63 - 1)  # beyond it the server uses other types or errors

_COMPARISONS: dict[type[exp.Expr], str] = {
    exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<=",
    exp.NullSafeEQ: "<=>", exp.NullSafeNEQ: "distinct",
}  # fmt: skip
# "<=>" is MariaDB's null-safe equality; "distinct" its negation, NOT (a <=> b).
_ORDER_NORMAL = {
    "=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "<=>": "=",
    "distinct": "<>",
}  # fmt: skip
_NEGATED = {
    "=": "<>", "<>": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">", "<=>": "distinct",
    "distinct": "<=>",
}  # fmt: skip
_COMMUTED = {
    "=": "=", "<>": "<>", "<": ">", ">": "<", "<=": ">=", ">=": "<=", "<=>": "<=>",
    "distinct": "distinct",
}  # fmt: skip
_IRREFLEXIVE = frozenset({"<>", "<", ">", "distinct"})  # x op x is never true
_ARITHMETIC: dict[type[exp.Expr], Callable[[int, int], int]] = {
    exp.Add: operator.add,
    exp.Sub: operator.sub,
    exp.Mul: operator.mul,
}
# Conditions read by their form (a comparison, a test, a connective): 1, 0 or NULL.
_CONDITIONS: tuple[type[exp.Expr], ...] = (
    exp.Not, exp.And, exp.Or, exp.Xor, exp.Is, exp.In, exp.Between, exp.Like, exp.Escape,
    exp.RegexpLike, *_COMPARISONS,
)  # fmt: skip
# Expressions whose value is one of several others (CASE, IF, COALESCE/IFNULL, NULLIF).
_BRANCHING: tuple[type[exp.Expr], ...] = (exp.Case, exp.If, exp.Coalesce, exp.Nullif)
# Operators whose left operand a NOT binds to under HIGH_NOT_PRECEDENCE (NOT x = y: (NOT x) = y).
_INFIX: tuple[type[exp.Expr], ...] = (
    *_COMPARISONS, exp.Is, exp.In, exp.Between, exp.Like, exp.Escape, exp.RegexpLike,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.IntDiv, exp.Mod, exp.BitwiseAnd, exp.BitwiseOr,
    exp.BitwiseXor, exp.BitwiseLeftShift, exp.BitwiseRightShift, exp.DPipe,
)  # fmt: skip
# Operators whose value is NULL only when an operand is (a constant part that may be NULL
# spreads through them).
_SPREADING: tuple[type[exp.Expr], ...] = (
    exp.Neg, exp.Not, exp.Connector, exp.Between, *_ARITHMETIC, *_COMPARISONS,
)  # fmt: skip
# Conditions and EXISTS: their value is 1, 0 (or NULL), whatever they read.
_BOOLEAN_VALUED: tuple[type[exp.Expr], ...] = (*_CONDITIONS, exp.Exists)
_NO_ROWS = "NOT IN or NOT EXISTS of a subquery holds on every row when it returns none"
_BRANCHES = 16  # values of one expression to follow (CASE, IF, ...); more are not told apart
_ZERO, _ONE, _NULL = exp.Literal.number(0), exp.Literal.number(1), exp.Null()


def _integer(value: int) -> exp.Expr:
    """A literal of value, made apart from the statement's tree."""
    literal = exp.Literal.number(abs(value))
    return exp.Neg(this=literal) if value < 0 else literal


def _tag(node: exp.Expr, key: str) -> Any:
    meta = node._meta
    return meta.get(key) if meta else None


def _unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _truth3(value: Value) -> Truth3:
    return value if value is None or isinstance(value, _Uncertain) else value != 0


def _value3(truth: Truth3) -> Value:
    return truth if truth is None or isinstance(truth, _Uncertain) else int(truth)


def _xor3(left: Truth3, right: Truth3) -> Truth3:
    if left is None or right is None:
        return None
    if isinstance(left, _Uncertain) or isinstance(right, _Uncertain):
        return UNCERTAIN
    return left != right


def _high_not_reading(condition: exp.Expr) -> exp.Expr | None:
    """condition as the server reads it under HIGH_NOT_PRECEDENCE, where NOT binds to the
    operand right after it as ! does (NOT x = y is (NOT x) = y); None when that is the same."""
    nots = [n for n in condition.find_all(exp.Not) if _tag(n, "iap_not") == "NOT"]
    if not any(_leftmost(n.this) is not n.this for n in nots):
        return None
    holder = exp.Paren(this=condition.copy())
    nots = [n for n in holder.find_all(exp.Not) if _tag(n, "iap_not") == "NOT"]
    for node in reversed(nots):  # the innermost first
        operand = node.this
        primary = _leftmost(operand)
        if primary is operand:
            continue
        made = exp.Not(this=primary.copy())
        made.meta["iap_not"] = "!"
        primary.replace(made)
        node.replace(operand)
    return holder.this  # type: ignore[no-any-return]


def _leftmost(node: exp.Expr) -> exp.Expr:
    """The operand written first in node that a high-precedence NOT takes (a simple
    expression: a column, a literal, a call, a parenthesised expression, !x, ...)."""
    while True:
        if isinstance(node, exp.Paren):
            inner = node.this
            if _tag(node, "iap_paren") or (isinstance(inner, exp.Not) and _tag(inner, "iap_not")):
                return node  # written so, or !x
            node = inner  # parentheses sqlglot added
        elif isinstance(node, exp.Not):
            if _tag(node, "iap_not"):
                return node
            node = node.this  # IS NOT, NOT IN, NOT BETWEEN, NOT REGEXP: the predicate's
        elif isinstance(node, _INFIX) and isinstance(node.this, exp.Expr):
            node = node.this
        else:
            return node


class Truth:
    """How the server reads conditions under the session's sql_mode, and the values of the
    constants it can be certain of (MariaDB's rules)."""

    __slots__ = ("empty_is_null", "high_not")

    def __init__(self, high_not: bool | None, empty_is_null: bool) -> None:
        self.high_not = high_not  # HIGH_NOT_PRECEDENCE is on, off, or None: may be either
        self.empty_is_null = empty_is_null  # EMPTY_STRING_IS_NULL may be on

    def readings(self, conditions: list[exp.Expr]) -> list[tuple[list[exp.Expr], bool]]:
        """The conditions as the server may read them, each reading with whether it is
        HIGH_NOT_PRECEDENCE's."""
        if self.high_not is False:
            return [(conditions, False)]
        high = [_high_not_reading(c) for c in conditions]
        if all(h is None for h in high):
            return [(conditions, False)]
        other = [h if h is not None else c for h, c in zip(high, conditions, strict=True)]
        return [(other, True)] if self.high_not else [(conditions, False), (other, True)]

    def condition(self, node: exp.Expr) -> Truth3:
        """A constant condition's value (true where not 0), uncertain when not certain."""
        return _truth3(self.value(node))

    def value(self, node: exp.Expr) -> Value:
        """A constant's value when it is certain (see the rules above), else UNCERTAIN."""
        kind = type(node)
        if kind is exp.Paren:
            return self.value(node.this)
        if kind is exp.Literal:
            text = str(node.this)
            if node.is_string or not (text.isascii() and text.isdigit()):
                return UNCERTAIN
            return self._bigint(int(text))
        if kind is exp.Boolean:
            return 1 if node.this else 0
        if kind is exp.Null:
            return None
        if kind is exp.Neg:
            inner = self.value(node.this)
            return self._bigint(-inner) if type(inner) is int else inner
        arithmetic = _ARITHMETIC.get(kind)
        if arithmetic is not None:
            left, right = self.value(node.this), self.value(node.expression)
            if left is None or right is None:
                return None
            if type(left) is int and type(right) is int:
                return self._bigint(arithmetic(left, right))
            return UNCERTAIN
        op = _COMPARISONS.get(kind)
        if op is not None:
            return self.compare(op, node.this, node.expression)
        return _value3(self._connective(node))

    def _connective(self, node: exp.Expr) -> Truth3:
        kind = type(node)
        if kind is exp.Not:
            return _not3(self.condition(node.this))
        if kind is exp.And:
            return _and3(self.condition(n) for n in node.flatten())
        if kind is exp.Or:
            return _or3(self.condition(n) for n in node.flatten())
        if kind is exp.Xor:
            return _xor3(self.condition(node.this), self.condition(node.expression))
        if kind is exp.Is:
            return self._is(node.this, node.expression)
        if kind is exp.In and not node.args.get("query") and node.expressions:
            return _or3(_truth3(self.compare("=", node.this, e)) for e in node.expressions)
        if kind is exp.Between:
            low, high = node.args.get("low"), node.args.get("high")
            if low is None or high is None:
                return UNCERTAIN
            return _and3([
                _truth3(self.compare(">=", node.this, low)),
                _truth3(self.compare("<=", node.this, high)),
            ])  # fmt: skip
        return UNCERTAIN

    def is_null(self, node: exp.Expr) -> Truth3:
        """node IS NULL for a constant."""
        return self._is(node, exp.Null())

    def _is(self, subject: exp.Expr, test: exp.Expr) -> Truth3:
        value = self.value(subject)
        if isinstance(test, exp.Null):
            if isinstance(value, _Uncertain):
                return UNCERTAIN if self.may_be_null(subject) else False
            return value is None
        if isinstance(test, exp.Boolean):
            if isinstance(value, _Uncertain):
                return UNCERTAIN
            return value is not None and (value != 0) == bool(test.this)
        return UNCERTAIN

    @staticmethod
    def _bigint(value: int) -> Value:
        return value if _BIGINT[0] <= value <= _BIGINT[1] else UNCERTAIN

    def compare(self, op: str, left: exp.Expr, right: exp.Expr) -> Value:
        """left op right for two constants: 1, 0, NULL or uncertain."""
        a, b = self.value(left), self.value(right)
        if op in ("<=>", "distinct"):
            if a is None or b is None:
                other, node = (b, right) if a is None else (a, left)
                if isinstance(other, _Uncertain) and self.may_be_null(node):
                    return UNCERTAIN
                same = int(other is None)
            elif type(a) is int and type(b) is int:
                same = int(a == b)
            else:
                return UNCERTAIN
            return same if op == "<=>" else 1 - same
        if a is None or b is None:
            return None
        if type(a) is int and type(b) is int:
            return int(_ORDERING[op](a, b))
        return UNCERTAIN

    def may_be_null(self, node: exp.Expr) -> bool:
        """True when a constant may be NULL: NULL, a variable, a placeholder, a call, a
        subquery's value...; a literal is NULL only when written so ('' under
        EMPTY_STRING_IS_NULL), and the operators give NULL only from NULL."""
        node = _unparen(node)
        if isinstance(node, exp.Literal):
            return bool(node.is_string and node.this == "" and self.empty_is_null)
        if isinstance(node, (exp.Boolean, exp.HexString, exp.BitString, exp.Is, exp.Exists)):
            return False
        if isinstance(node, (exp.NullSafeEQ, exp.NullSafeNEQ)):
            return False
        if isinstance(node, (exp.Neg, exp.Not, exp.Connector, exp.Between, *_ARITHMETIC)):
            return any(self.may_be_null(n) for n in node.iter_expressions())
        if isinstance(node, tuple(_COMPARISONS)):
            return self.may_be_null(node.this) or self.may_be_null(node.expression)
        if isinstance(node, exp.In) and not node.args.get("query"):
            return any(self.may_be_null(n) for n in [node.this, *node.expressions])
        return True


# -- which parts of a condition read the target's rows

_NO_COLUMNS: frozenset[str] = frozenset()
# Nodes that never read a column (a literal, a variable, a placeholder, a name).
_NO_ROW = frozenset({
    exp.Literal, exp.Null, exp.Boolean, exp.Placeholder, exp.Parameter, exp.SessionParameter,
    exp.HexString, exp.BitString, exp.Identifier, exp.Var, exp.DataType, exp.Star,
})  # fmt: skip


def _bound_names(select: exp.Expr) -> set[str]:
    """The names a query's FROM and joins bind (aliases, else table names): they hide the
    target's names inside it."""
    names: set[str] = set()
    sources = [select.args.get("from_"), *(select.args.get("joins") or [])]
    for source in sources:
        if isinstance(source, (exp.From, exp.Join)) and isinstance(source.this, exp.Expr):
            name = source.this.alias_or_name
            if name:
                names.add(name)
    return names


class _RowScope:
    """Which columns of the target each part of a condition reads (memoised per node)."""

    __slots__ = ("_memo", "names", "table", "unqualified")

    def __init__(self, table: exp.Table, names: frozenset[str], unqualified: bool) -> None:
        self.table = table  # the target
        self.names = names  # what qualifies its columns (its name and alias)
        self.unqualified = unqualified  # an unqualified column is the target's (no join)
        self._memo: dict[int, frozenset[str]] = {}

    def columns(self, node: exp.Expr) -> frozenset[str]:
        """The target's columns node reads (lower-case names)."""
        found = self._memo.get(id(node))
        if found is None:
            found = self._read(node, self.names, self.unqualified, self._memo)
        return found

    def _read(
        self,
        node: exp.Expr,
        names: frozenset[str],
        unqualified: bool,
        memo: dict[int, frozenset[str]] | None,
    ) -> frozenset[str]:
        """The columns node reads with names qualifying the target's (and unqualified
        columns the target's or not), remembered in memo (None inside a subquery)."""
        kind = type(node)
        if kind in _NO_ROW:
            return _NO_COLUMNS
        if isinstance(node, exp.Column):
            found = _NO_COLUMNS
            if type(node.this) is exp.Identifier:
                qualifier = node.table
                if (qualifier in names) if qualifier else unqualified:
                    found = frozenset({node.name.lower()})
        else:
            if isinstance(node, exp.Query):  # a subquery: its own tables come first
                names = names - _bound_names(node)
                unqualified, memo = False, None
            found = _NO_COLUMNS
            if names:
                for value in node.args.values():
                    if isinstance(value, exp.Expr):
                        found = found | self._read(value, names, unqualified, memo)
                    elif type(value) is list:
                        for item in value:
                            if isinstance(item, exp.Expr):
                                found = found | self._read(item, names, unqualified, memo)
        if memo is not None:
            memo[id(node)] = found
        return found

    def is_target(self, table: exp.Expr) -> bool:
        """True when a table named in a subquery may be the target itself."""
        if not isinstance(table, exp.Table) or table.name != self.table.name:
            return False
        return not table.db or not self.table.db or table.db == self.table.db

    def key(self, node: exp.Expr) -> str:
        """What an expression is, for telling two apart: a column of the target by its
        name (id, t.id and ID are one); another value of the row as written, case folded
        (taking two for one only leaves out cases: stricter); a constant exactly as written,
        each placeholder apart (two ? are two values: taking them for one would leave out
        choices of the constants, which is looser)."""
        node = _unparen(node)
        if isinstance(node, exp.Column):
            columns = self.columns(node)
            if columns:
                return "column " + next(iter(columns))
        try:
            text = node.sql(dialect="mysql")
        except Exception:  # a node sqlglot cannot write: its structure
            text = repr(node)
        if self.columns(node):
            return text.lower()
        if node.find(exp.Placeholder) is not None:
            return f"{text} #{id(node)}"
        return text


def _described(node: exp.Expr) -> str:
    node = _unparen(node)
    if isinstance(node, exp.Column):
        return ".".join(p.name for p in node.parts)
    return "an expression"


# -- a condition as a formula over what each row makes true, in negation normal form


def _pattern_text(node: exp.Expr) -> str | _Uncertain | None:
    """A constant pattern's text (None: NULL), uncertain unless written as a literal."""
    node = _unparen(node)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Literal):
        return str(node.this)  # '' may be NULL (EMPTY_STRING_IS_NULL): it bounds either way
    return UNCERTAIN


def _matches_a_condition(subject: exp.Expr, pattern: exp.Expr) -> bool:
    """subject LIKE/REGEXP pattern where a side is a condition: its text is '1' or '0'."""
    return isinstance(_unparen(subject), _BOOLEAN_VALUED) or isinstance(
        _unparen(pattern), _BOOLEAN_VALUED
    )


def _is_integer_text(text: str) -> bool:
    """text is how the server writes an integer (a LIKE of it matches that integer only)."""
    digits = text.removeprefix("-")
    return digits.isascii() and digits.isdigit() and str(int(text)) == text


def _pattern_matches(family: str, pattern: str, value: str) -> bool | None:
    """Whether value matches a LIKE pattern (backslash escapes) or a plain regular
    expression (see _regexp_matches_something); None when it cannot be told."""
    if family == "like":
        parts, i = [], 0
        while i < len(pattern):
            c = pattern[i]
            if c == "\\" and i + 1 < len(pattern):
                parts.append(re.escape(pattern[i + 1]))
                i += 2
                continue
            parts.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
            i += 1
        regex, search = "".join(parts), re.fullmatch
    else:
        regex, search = pattern, re.search
    try:
        return search(regex, value, re.DOTALL | re.IGNORECASE) is not None
    except re.error:
        return None


def _regexp_matches_something(pattern: str) -> bool:
    """True when some value matches pattern; only plain patterns are read (characters, '.',
    * ? + after one, ^ first and $ last), any other may match none ('a^')."""
    body = pattern.removeprefix("^").removesuffix("$")
    if any(c in "\\^$|()[]{}" for c in body):
        return False
    return not body or body[0] not in "*?+"


def _regexp_needs_a_character(pattern: str) -> bool:
    """True when every match of pattern consumes a character, so the empty string never
    matches it; only plain patterns are read (characters, '.', ^ $ and * ? +), any other
    may match every value."""
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c in "^$":
            i += 1
            continue
        if c in "\\|()[]{}*?+":
            return False
        after = pattern[i + 1] if i + 1 < n else ""
        if after in ("*", "?"):
            i += 2
            continue
        return after != "{"
    return False


class _Bounds:
    """Builds the formula of a condition: which rows it can be true on."""

    __slots__ = ("scope", "truth")

    def __init__(self, scope: _RowScope, truth: Truth) -> None:
        self.scope = scope
        self.truth = truth  # makes no node in the statement's tree: the walk reads its parents

    def formula(self, node: exp.Expr, negated: bool) -> _Formula:
        """The formula of node as a condition (of NOT node when negated)."""
        if not self.scope.columns(node):
            return _constant(self.truth.condition(node), negated)
        kind = type(node)
        if kind is exp.Paren:
            return self.formula(node.this, negated)
        if kind is exp.Not:
            return self.formula(node.this, not negated)
        if kind is exp.And or kind is exp.Or:
            parts = [self.formula(part, negated) for part in node.flatten()]
            return _all_of(parts) if (kind is exp.And) != negated else _any_of(parts)
        if kind is exp.Xor:
            left, right = node.this, node.expression
            differ = [
                _all_of([self.formula(left, False), self.formula(right, True)]),
                _all_of([self.formula(left, True), self.formula(right, False)]),
            ]
            same = [
                _all_of([self.formula(left, False), self.formula(right, False)]),
                _all_of([self.formula(left, True), self.formula(right, True)]),
            ]
            return _any_of(same if negated else differ)
        op = _COMPARISONS.get(kind)
        if op is not None:
            return self._compare(_NEGATED[op] if negated else op, node.this, node.expression)
        if kind is exp.Is:
            return self._is(node, negated)
        if kind is exp.In:
            return self._in(node, negated)
        if kind is exp.Between:
            return self._between(node, negated)
        if kind is exp.Like or kind is exp.Escape:
            return self._like(node, negated)
        if kind is exp.RegexpLike:
            return self._regexp(node, negated)
        if kind is exp.Exists:
            if negated:
                return _Always(_NO_ROWS)
            if self._looks_itself_up(None, node.this):
                return _Always("it looks each row up in the table itself")
        if isinstance(node, _BRANCHING):
            return self._branching(node, negated)
        return self._truthy(node, negated)

    def _truthy(self, node: exp.Expr, negated: bool) -> _Formula:
        """A value of the row used as a condition: true where it is not 0 (so is -x)."""
        inner = node
        while isinstance(inner, (exp.Neg, exp.Paren)):
            inner = inner.this
        if inner is not node:
            return self.formula(inner, negated)
        return _Order(_ORDER_NORMAL["=" if negated else "<>"], _Term(node), _Term(_ZERO, 0))

    # -- tests

    def _is(self, node: exp.Expr, negated: bool) -> _Formula:
        subject, test = node.this, node.expression
        if isinstance(test, exp.Null):  # IS NULL, IS UNKNOWN
            return self._null_test(subject, not negated)
        if not isinstance(test, exp.Boolean):
            return self._truthy(node, negated)
        value = bool(test.this)
        if not negated:  # IS TRUE, IS FALSE
            return self.formula(subject, not value)
        # IS NOT TRUE, IS NOT FALSE: the opposite value, or NULL
        return _any_of([self.formula(subject, value), self._null_test(subject, True)])

    def _null_test(self, subject: exp.Expr, is_null: bool) -> _Formula:
        """subject IS NULL (is_null) or IS NOT NULL, subject reading the rows."""
        if not is_null:
            return _Always(f"{_described(subject)} IS NOT NULL holds on every row with a value")
        if self._null_everywhere(subject):
            return _Always(f"{_described(subject)} may be NULL on every row")
        return _Flag("null", (subject,), True)

    def _null_everywhere(self, node: exp.Expr) -> bool:
        """True when node may be NULL on every row: a constant part that may be NULL spreads
        through the operators that hold it; a call, a division, a CASE, a subquery may give
        NULL from any value; a column is NULL only on some rows, which bounds them."""
        if not self.scope.columns(node):
            value = self.truth.value(node)
            return value is None or (isinstance(value, _Uncertain) and self.truth.may_be_null(node))
        node = _unparen(node)
        if isinstance(node, exp.Column):
            return False
        if isinstance(node, (exp.Is, exp.NullSafeEQ, exp.NullSafeNEQ, exp.Exists)):
            return False
        if isinstance(node, _SPREADING) or (
            isinstance(node, exp.In) and not node.args.get("query")
        ):
            return any(self._null_everywhere(n) for n in node.iter_expressions())
        return True

    def _in(self, node: exp.Expr, negated: bool) -> _Formula:
        subject, items = node.this, node.expressions
        if node.args.get("query") is not None or not items:
            if negated and node.args.get("query") is not None:
                return _Always(_NO_ROWS)
            if not negated and self._looks_itself_up(subject, node.args.get("query")):
                return _Always("it looks each row up in the table itself")
            if isinstance(_unparen(subject), _BOOLEAN_VALUED):
                return _Always("it looks a condition's value (1, 0 or NULL) up in a subquery")
            return self._truthy(node, negated)
        if not negated:
            return _any_of(self._compare("=", subject, item) for item in items)
        return _all_of(self._compare("<>", subject, item) for item in items)

    def _between(self, node: exp.Expr, negated: bool) -> _Formula:
        subject, low, high = node.this, node.args.get("low"), node.args.get("high")
        if low is None or high is None:
            return self._truthy(node, negated)
        if not negated:
            return _all_of([self._compare(">=", subject, low), self._compare("<=", subject, high)])
        return _any_of([self._compare("<", subject, low), self._compare(">", subject, high)])

    def _like(self, node: exp.Expr, negated: bool) -> _Formula:
        like = node.this if isinstance(node, exp.Escape) else node
        if not isinstance(like, exp.Like):
            return self._truthy(node, negated)
        positive = bool(like.args.get("negate")) == negated
        escaped = isinstance(node, exp.Escape)
        return self._pattern("like", like.this, like.expression, positive, escaped)

    def _regexp(self, node: exp.Expr, negated: bool) -> _Formula:
        return self._pattern("regexp", node.this, node.expression, not negated)

    def _pattern(
        self,
        family: str,
        subject: exp.Expr,
        pattern: exp.Expr,
        positive: bool,
        escaped: bool = False,
    ) -> _Formula:
        """subject LIKE/REGEXP pattern (positive) or NOT LIKE/NOT REGEXP (escaped: with an
        ESCAPE character of its own)."""
        columns = self.scope.columns(subject)
        if _matches_a_condition(subject, pattern):
            return _Always("it matches a condition's value (1, 0 or NULL) with a pattern")
        if columns and columns == self.scope.columns(pattern):
            return _Always(f"it matches {_described(subject)} with an expression of itself")
        if not columns or self.scope.columns(pattern):
            return _Flag(family, (subject, pattern), positive)
        text = _pattern_text(pattern)
        if text is None:
            return _NEVER
        word = "LIKE" if family == "like" else "REGEXP"
        told = None  # the text, when the fact can be told for a value (see _Group)
        if isinstance(text, str) and not escaped:
            readable = family == "like" or _regexp_matches_something(text)
            told = text if readable else None
            if family == "like" and _is_integer_text(text):  # x LIKE '5' holds where x = 5
                return self._compare("=" if positive else "<>", subject, _integer(int(text)))
        if not positive:  # every LIKE pattern matches some value; a regular expression may not
            if family == "like" or (
                not isinstance(text, _Uncertain) and _regexp_matches_something(text)
            ):
                return _Flag(family, (subject, pattern), False, told)
            return _Always(f"{_described(subject)} NOT REGEXP a pattern that may match no value"
                           " holds on every row")  # fmt: skip
        if isinstance(text, _Uncertain):
            return _Always(f"{_described(subject)} {word} a pattern not written in the statement"
                           " may match every value")  # fmt: skip
        if family == "like" and text and set(text) == {"%"}:
            return _Always(f"{_described(subject)} LIKE '%' matches every value")
        if family == "regexp" and not _regexp_needs_a_character(text):
            return _Always(f"{_described(subject)} REGEXP '{text}' may match every value")
        return _Flag(family, (subject, pattern), True, told)

    # -- comparisons

    def _compare(self, op: str, left: exp.Expr, right: exp.Expr) -> _Formula:
        """left op right, op one of = <> < <= > >= <=> and distinct (NOT <=>)."""
        left_columns, right_columns = self.scope.columns(left), self.scope.columns(right)
        if not left_columns and not right_columns:
            return _constant(_truth3(self.truth.compare(op, left, right)), False)
        left, right = _unparen(left), _unparen(right)
        if isinstance(left, exp.Tuple) and isinstance(right, exp.Tuple):
            return self._rows(op, left.expressions, right.expressions)
        if isinstance(right, (exp.All, exp.Any)) or isinstance(left, (exp.All, exp.Any)):
            return self._quantified(op, left, right)
        if isinstance(left, _BRANCHING) or isinstance(right, _BRANCHING):
            return self._branching_compare(op, left, right)
        if left_columns and right_columns and left_columns == right_columns:
            if op in _IRREFLEXIVE and self._same_column(left, right):
                return _NEVER
            return _Always(f"it compares {_described(left)} with an expression of itself")
        if left_columns and isinstance(left, _BOOLEAN_VALUED):
            return self._condition_compare(op, left, right)
        if right_columns and isinstance(right, _BOOLEAN_VALUED):
            return self._condition_compare(_COMMUTED[op], right, left)
        if left_columns and right_columns:
            return _Order(_ORDER_NORMAL[op], _Term(left), _Term(right))
        if not left_columns:  # the side that reads the rows goes left
            op, left, right = _COMMUTED[op], right, left
        value = self.truth.value(right)
        if type(value) is int and isinstance(left, exp.Neg):  # -x op k: x op' -k
            return self._compare(_COMMUTED[op], left.this, _integer(-value))
        if value is None:  # NULL
            if op in ("<=>", "distinct"):
                return self._null_test(left, op == "<=>")
            return _NEVER
        if op == "distinct" and self.truth.may_be_null(right):
            return _Always(f"{_described(left)} compared with what may be NULL by NOT <=> holds"
                           " on every row")  # fmt: skip
        order = _Order(
            _ORDER_NORMAL[op], _Term(left), _Term(right, value if type(value) is int else None)
        )
        if op == "<=>" and self.truth.may_be_null(right):
            return _any_of([order, self._null_test(left, True)])
        return order

    def _same_column(self, left: exp.Expr, right: exp.Expr) -> bool:
        """Both sides are the same column of the target (the same value on every row)."""
        if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
            return False
        columns = self.scope.columns(left)
        return len(columns) == 1 and columns == self.scope.columns(right)

    def _condition_compare(self, op: str, condition: exp.Expr, other: exp.Expr) -> _Formula:
        """A condition of the row (its value 1, 0 or NULL) compared with other: other
        compared with 1 where the condition holds, with 0 where it fails, with NULL where it
        is NULL ((x = 5) = 0 is NOT x = 5)."""
        parts = [
            _all_of([self.formula(condition, False), self._compare(op, _ONE, other)]),
            _all_of([self.formula(condition, True), self._compare(op, _ZERO, other)]),
        ]
        if op in ("<=>", "distinct"):
            null = self._null_test(condition, True)
            parts.append(_all_of([null, self._compare(op, _NULL, other)]))
        return _any_of(parts)

    def _rows(self, op: str, left: list[exp.Expr], right: list[exp.Expr]) -> _Formula:
        """(a, b) op (c, d): compared item by item, in order for < <= > >=."""
        if len(left) != len(right) or not left:
            return _NEVER  # the server refuses it: nothing runs
        pairs = list(zip(left, right, strict=True))
        if op in ("=", "<=>"):
            return _all_of(self._compare(op, a, b) for a, b in pairs)
        if op in ("<>", "distinct"):
            return _any_of(self._compare(op, a, b) for a, b in pairs)
        strict = op.rstrip("=")
        parts = []
        for i, (a, b) in enumerate(pairs):
            last = i == len(pairs) - 1
            equal = [self._compare("=", x, y) for x, y in pairs[:i]]
            parts.append(_all_of([*equal, self._compare(op if last else strict, a, b)]))
        return _any_of(parts)

    def _quantified(self, op: str, left: exp.Expr, right: exp.Expr) -> _Formula:
        """x op ALL (subquery), x op ANY (subquery)."""
        quantified = right if isinstance(right, (exp.All, exp.Any)) else left
        any_of = isinstance(quantified, exp.Any) and op == "=" and quantified is right  # IN
        if any_of and not isinstance(left, _BOOLEAN_VALUED):
            if self._looks_itself_up(left, right.this):
                return _Always("it looks each row up in the table itself")
            return _Order(_ORDER_NORMAL["="], _Term(left), _Term(right))
        word = "ALL" if isinstance(quantified, exp.All) else "ANY"
        return _Always(f"a comparison with {word} of a subquery may hold on every row")

    # -- CASE, IF, COALESCE, NULLIF

    def _alternatives(self, node: exp.Expr) -> list[tuple[list[_Formula], exp.Expr]] | None:
        """The values node may take, each with the condition under which it does (a
        superset: a condition may be left out); None when there are too many to follow."""
        node = _unparen(node)
        found: list[tuple[list[_Formula], exp.Expr]] = []
        if isinstance(node, exp.Case):
            operand = node.this if isinstance(node.this, exp.Expr) else None
            skipped: list[_Formula] = []
            for when in node.args.get("ifs") or []:
                if operand is None:  # CASE WHEN c THEN ...
                    taken = self.formula(when.this, False)
                    passed = self._not_true(when.this)
                else:  # CASE x WHEN v THEN ...: taken when x = v IS TRUE
                    taken = self._compare("=", operand, when.this)
                    unequal = self._compare("<>", operand, when.this)
                    passed = _any_of([unequal, self._is_null(operand), self._is_null(when.this)])
                result = when.args.get("true")
                if isinstance(result, exp.Expr):
                    found.append(([*skipped, taken], result))
                skipped.append(passed)
            default = node.args.get("default")  # no ELSE: NULL
            found.append((skipped, default if isinstance(default, exp.Expr) else _NULL))
        elif isinstance(node, exp.If):
            condition, yes, no = node.this, node.args.get("true"), node.args.get("false")
            if isinstance(yes, exp.Expr):
                found.append(([self.formula(condition, False)], yes))
            found.append(([self._not_true(condition)], no if isinstance(no, exp.Expr) else _NULL))
        elif isinstance(node, exp.Coalesce):  # and IFNULL
            earlier: list[_Formula] = []
            for part in [node.this, *node.expressions]:
                found.append((list(earlier), part))
                earlier.append(self._is_null(part))
        elif isinstance(node, exp.Nullif):
            found.append(([], node.this))  # its first argument, or NULL
        else:
            return [([], node)]
        expanded: list[tuple[list[_Formula], exp.Expr]] = []
        for guards, value in found:
            inner = self._alternatives(value)
            if inner is None:
                return None
            expanded.extend((guards + more, v) for more, v in inner)
            if len(expanded) > _BRANCHES:
                return None
        return expanded

    def _is_null(self, node: exp.Expr) -> _Formula:
        """node IS NULL, whether or not node reads the rows."""
        if not self.scope.columns(node):
            return _constant(self.truth.is_null(node), False)
        return self._null_test(node, True)

    def _not_true(self, condition: exp.Expr) -> _Formula:
        """condition IS NOT TRUE: false or NULL."""
        return _any_of([self.formula(condition, True), self._is_null(condition)])

    def _branching(self, node: exp.Expr, negated: bool) -> _Formula:
        alternatives = self._alternatives(node)
        if alternatives is None:
            return _Always("it has too many branches to follow")
        return _any_of(
            _all_of([*guards, self.formula(value, negated)]) for guards, value in alternatives
        )

    def _branching_compare(self, op: str, left: exp.Expr, right: exp.Expr) -> _Formula:
        lefts, rights = self._alternatives(left), self._alternatives(right)
        if lefts is None or rights is None or len(lefts) * len(rights) > _BRANCHES:
            return _Always("it has too many branches to follow")
        return _any_of(
            _all_of([*lg, *rg, self._compare(op, lv, rv)]) for lg, lv in lefts for rg, rv in rights
        )

    # -- subqueries that read the table itself

    def _looks_itself_up(self, subject: exp.Expr | None, query: Any) -> bool:
        """subject IN (SELECT x FROM target) (= ANY too), EXISTS (SELECT ... FROM target o
        WHERE o.x = target.x) (subject None): true for every row with a value."""
        select = query.this if isinstance(query, exp.Subquery) else query
        if not isinstance(select, exp.Select) or select.args.get("joins"):
            return False
        source = select.args.get("from_")
        table = source.this if isinstance(source, exp.From) else None
        narrowed = any(select.args.get(k) for k in ("group", "having", "limit", "offset"))
        if table is None or narrowed or not self.scope.is_target(table):
            return False
        inner = table.alias_or_name
        where = select.args.get("where")
        condition = where.this if isinstance(where, exp.Where) else None
        if condition is not None and not self._matches_itself(condition, inner):
            return False
        if subject is None:
            return condition is not None
        outputs = select.expressions
        if len(outputs) != 1:
            return False
        column = _inner_column(outputs[0], inner)
        return column is not None and self.scope.columns(subject) == {column}

    def _matches_itself(self, condition: exp.Expr, inner: str) -> bool:
        """inner.x = target.x (either way round)."""
        condition = _unparen(condition)
        if not isinstance(condition, exp.EQ) or inner in self.scope.names:
            return False  # the subquery's table hides the target's name
        for mine, theirs in (
            (condition.this, condition.expression),
            (condition.expression, condition.this),
        ):
            column = _inner_column(theirs, inner)
            mine_is_theirs = isinstance(mine, exp.Column) and bool(mine.table)
            if column is not None and mine_is_theirs and self.scope.columns(mine) == {column}:
                return True
        return False


def _inner_column(node: exp.Expr, inner: str) -> str | None:
    """The column a subquery's own table (named inner) gives, when node is one."""
    if not isinstance(node, exp.Column) or not isinstance(node.this, exp.Identifier):
        return None
    return node.name.lower() if not node.table or node.table == inner else None


# -- deciding: may the formula be true on every row? (where_logic's, with the facts a
# pattern tells for a given value)

_NUMERIC_PATTERN = {"like": frozenset("0123456789-%_"), "regexp": frozenset("0123456789-^$.*?+")}


class _PatternGroup(_Group):
    """A _Group that also tells a LIKE/REGEXP fact from the value of the row it is about,
    when the pattern is written in the statement (see _possible)."""

    __slots__ = ("patterns",)

    def __init__(self, part: _Formula, scope: RowScope) -> None:
        # (fact, the row value it is about, family, pattern): facts told by the value
        self.patterns: list[tuple[tuple[str, ...], tuple[str, ...], str, str]] = []
        super().__init__(part, scope)
        self.links |= {value for _, value, _, _ in self.patterns}

    def _collect_fact(self, formula: _Flag, scope: RowScope) -> None:
        subject, text = formula.nodes[0], formula.text
        if text is not None and scope.columns(subject):
            value = ("row", scope.key(subject))
            self.patterns.append((formula.key, value, formula.kind, text))
            if set(text) <= _NUMERIC_PATTERN[formula.kind]:  # try integers of its shape
                self.variables[value] = "row"
                runs = [int(run) for run in re.findall(r"[0-9]+", text)]
                self.integers |= {-1, 0, 1, *runs, *(-run for run in runs)}

    def absorb(self, other: Self) -> None:
        super().absorb(other)
        self.patterns += other.patterns

    def _possible(self, case: dict[tuple[str, ...], Any]) -> bool:
        """False when the case cannot happen: a value whose text is known with a pattern
        fact that text contradicts. The text is known for an integer the group names; for a
        pattern of digits, signs and wildcards, the value is taken as the integer tried (on
        a column of text this leaves out values, which only makes the answer stricter)."""
        for fact, value, family, pattern in self.patterns:
            number = case.get(value)
            if number is None:
                continue
            if number in self.integers or set(pattern) <= _NUMERIC_PATTERN[family]:
                matched = _pattern_matches(family, pattern, str(number))
                if matched is not None and matched != case[fact]:
                    return False
        return True


def _sources(tree: exp.Expr) -> tuple[list[exp.Expr], list[exp.Join]]:
    """The tables an UPDATE/DELETE reads rows from (FROM, USING, joined), and its joins."""
    using = tree.args.get("using")
    roots = list(using) if using else [tree.this]
    tables: list[exp.Expr] = []
    joins: list[exp.Join] = []
    for root in roots:
        if not isinstance(root, exp.Expr):
            continue
        tables.append(root)
        for join in root.args.get("joins") or []:
            if isinstance(join, exp.Join):
                joins.append(join)
                tables.append(join.this)
    return tables, joins


def _targets(tree: exp.Expr, sources: list[exp.Expr]) -> list[tuple[exp.Table, frozenset[str]]]:
    """The tables whose rows the statement changes, each with the names that qualify its
    columns: a DELETE's listed tables (or its one table), the tables an UPDATE's SET names
    (every table when a SET column is unqualified)."""
    named = [t for t in sources if isinstance(t, exp.Table)]
    if len(sources) == 1 and len(named) == 1 and not tree.args.get("tables"):
        table = named[0]  # one table: the one it changes
        return [(table, frozenset(n for n in (table.name, table.alias) if n))]
    if isinstance(tree, exp.Delete):
        listed = [t for t in tree.args.get("tables") or [] if isinstance(t, exp.Table)]
        wanted = {t.name for t in listed} if listed else None
    else:
        qualifiers = _set_qualifiers(tree)
        wanted = None if "" in qualifiers or len(sources) == 1 else set(qualifiers)
    if wanted is None and isinstance(tree, exp.Delete):
        wanted = {tree.this.alias_or_name} if isinstance(tree.this, exp.Table) else set()
    found = []
    for table in named:
        names = frozenset(n for n in (table.name, table.alias) if n)
        if wanted is None or names & wanted:
            found.append((table, names))
    matched = {n for _, names in found for n in names}
    for name in sorted((wanted or set()) - matched):  # not a table the statement names
        found.append((exp.Table(this=exp.to_identifier(name)), frozenset({name})))
    return found


def _set_qualifiers(tree: exp.Expr) -> list[str]:
    """The qualifier of each column an UPDATE's SET assigns ("" when unqualified)."""
    found = []
    for assignment in tree.expressions:
        column = assignment.this if isinstance(assignment, exp.EQ) else None
        found.append(column.table if isinstance(column, exp.Column) else "")
    return found or [""]


def unbounded(verb: str, tree: exp.Expr, names: str, truth: Truth) -> str | None:
    """Why an UPDATE/DELETE (tree) may reach every row of a table it changes, or None."""
    conditions: list[exp.Expr] = []
    where = tree.args.get("where")
    if isinstance(where, exp.Where):
        conditions.append(where.this)
    sources, joins = _sources(tree)
    for join in joins:  # an inner join's ON bounds its rows; an outer join's keeps them all
        on = join.args.get("on")
        if isinstance(on, exp.Expr) and not join.side:
            conditions.append(on)
    if not conditions:
        return f"{verb} without WHERE on {names}"
    targets = _targets(tree, sources)
    single = len(sources) == 1 and len(targets) == 1
    for reading, high_not in truth.readings(conditions):
        for table, qualifiers in targets:
            name = names if single else table_name(table)
            why = _reaches_every_row(verb, reading, table, qualifiers, single, truth, name)
            if why is not None:
                if high_not and truth.high_not is None:
                    why += " (if HIGH_NOT_PRECEDENCE is on: NOT binds tighter)"
                return why
    return None


def _reaches_every_row(
    verb: str,
    conditions: list[exp.Expr],
    table: exp.Table,
    qualifiers: frozenset[str],
    unqualified: bool,
    truth: Truth,
    name: str,
) -> str | None:
    scope = _RowScope(table, qualifiers, unqualified)
    if not any(scope.columns(c) for c in conditions):
        value = _and3(truth.condition(c) for c in conditions)
        if value is True:
            return f"{verb} with an always-true WHERE on {name}"
        if value is False or value is None:
            return None
        return f"{verb} whose WHERE does not depend on the rows of {name}"
    bounds = _Bounds(scope, truth)
    formula = _all_of(bounds.formula(c, False) for c in conditions)
    why = _everywhere(formula, scope, _PatternGroup)
    return f"{verb} whose WHERE may be true on every row of {name}: {why}" if why else None


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
        return unbounded(verb, tree, names, self.truth)

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
