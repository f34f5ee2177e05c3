"""Whether an UPDATE, DELETE or MERGE may reach every row of its table: the WHERE analysis.

Owns reading a WHERE (a MERGE: its ON) for the walker: folding constant conditions only where
their value is certain (fold_condition: integer, boolean and NULL literals), which parts read
the target's rows (_RowScope) and the condition as a formula over what each row makes true
(_Bounds); the formulas and the search for one that may hold on every row (_everywhere) are
where_logic's. _unbounded is the entry point: why a statement may reach every row, or None
when it is bounded. Must never do I/O, never decide a class (the walker turns
the answer into destructive or write), and never call a condition bounding unless the server
cannot find it true on every row: when in doubt, it may be.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from typing import Any

from iap.classify.pg_tree import (
    _LEAVES,
    Node,
    _const_text,
    _list_items,
    _range_var_name,
    _shape,
    _strings,
    _unwrap,
)
from iap.classify.where_logic import (
    _NEVER,
    _all_of,
    _Always,
    _and3,
    _any_of,
    _constant,
    _Flag,
    _Formula,
    _not3,
    _or3,
    _Order,
    _Term,
)
from iap.classify.where_logic import UNCERTAIN as UNCERTAIN  # re-exported for tests
from iap.classify.where_logic import Truth3 as Truth
from iap.classify.where_logic import _everywhere as _everywhere  # re-exported for tests
from iap.classify.where_logic import _Uncertain as _Uncertain  # re-exported for postgres.py

# Whether an UPDATE or DELETE (a MERGE: its ON) may reach every row of its table. The answer
# is "bounded" only when the server cannot find the condition true on every row:
#  - A constant part is folded only where its value is certain whatever the server's types,
#    casts, collations and settings: integer, boolean and NULL literals compared with
#    = <> < <= > >=, IS [NOT] DISTINCT FROM, IN and BETWEEN, under AND, OR, NOT, IS [NOT]
#    NULL and the IS TRUE/FALSE/UNKNOWN tests. Any other constant part (a cast, a number with
#    a fraction, text, a date or interval, a parameter, a function call) may be true: the
#    server finds 0.5::int = 1, 'a'::char(3) = 'a  ' and 'NaN'::float8 = 'NaN' true.
#  - A part that reads the rows bounds them unless it holds for every value: an expression
#    compared with itself or with another expression of the same columns, IS NOT NULL,
#    LIKE '%', and disjunctions whose parts together cover every value (x < 5 OR x >= 5,
#    flag OR NOT flag), found by trying every case that matters.
# Known gaps (taken as bounding): arithmetic that cancels the row (id - id = 0), the range of
# a column's type (id > -2147483649), a subquery that reads the target itself.


_Literal = int | bool | None | _Uncertain  # an integer, boolean or NULL literal, or uncertain

_ORDERING: dict[str, Callable[[int, int], bool]] = {
    "=": operator.eq, "<>": operator.ne, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
_BOOLEAN_TESTS: dict[str, Callable[[bool | None], bool]] = {
    "IS_TRUE": lambda v: v is True,
    "IS_NOT_TRUE": lambda v: v is not True,
    "IS_FALSE": lambda v: v is False,
    "IS_NOT_FALSE": lambda v: v is not False,
    "IS_UNKNOWN": lambda v: v is None,
    "IS_NOT_UNKNOWN": lambda v: v is not None,
}
_BETWEEN = frozenset(
    {"AEXPR_BETWEEN", "AEXPR_NOT_BETWEEN", "AEXPR_BETWEEN_SYM", "AEXPR_NOT_BETWEEN_SYM"}
)


def _operator(body: Node) -> str | None:
    """The operator of an A_Expr, None when it is a user's (schema other than pg_catalog)."""
    parts = _strings(body.get("name"))
    if not parts or (len(parts) > 1 and parts[-2] != "pg_catalog"):
        return None
    return parts[-1]


def _literal(node: Any) -> _Literal:
    """The value of an integer, boolean or NULL literal (None: NULL); uncertain otherwise."""
    kind, body = _unwrap(node)
    if kind == "A_Const":
        if "ival" in body:
            return int(body["ival"].get("ival", 0))
        if "boolval" in body:
            return bool(body["boolval"].get("boolval", False))
        if body.get("isnull") is True:
            return None
    return UNCERTAIN


def _compare_literals(op: str, left: _Literal, right: _Literal) -> Truth:
    """left op right for two literals: NULL when one is NULL, uncertain across types."""
    if op not in _ORDERING or isinstance(left, _Uncertain) or isinstance(right, _Uncertain):
        return UNCERTAIN
    if left is None or right is None:
        return None
    if (type(left) is bool) != (type(right) is bool):
        return UNCERTAIN  # integer = boolean: the server refuses it
    if type(left) is bool and op not in ("=", "<>", "!="):
        return UNCERTAIN
    return _ORDERING[op](left, right)


def _distinct_literals(left: _Literal, right: _Literal) -> Truth:
    """left IS DISTINCT FROM right for two literals."""
    if isinstance(left, _Uncertain) or isinstance(right, _Uncertain):
        return UNCERTAIN
    if left is None or right is None:
        return (left is None) != (right is None)
    if (type(left) is bool) != (type(right) is bool):
        return UNCERTAIN
    return left != right


def fold_condition(node: Any) -> Truth:
    """The value of a constant condition when it is certain, whatever the server's types and
    settings (integer, boolean and NULL literals only); uncertain otherwise."""
    kind, body = _unwrap(node)
    if kind == "A_Const":
        value = _literal(node)
        return value if value is None or type(value) is bool else UNCERTAIN
    if kind == "BoolExpr":
        args = [fold_condition(a) for a in body.get("args", [])]
        boolop = body.get("boolop")
        if boolop == "AND_EXPR":
            return _and3(args)
        if boolop == "OR_EXPR":
            return _or3(args)
        return _not3(args[0]) if len(args) == 1 else UNCERTAIN
    if kind == "A_Expr":
        return _fold_expression(body)
    if kind == "NullTest":
        arg = body.get("arg")
        if _unwrap(arg)[0] == "A_Const":  # a literal of any type is NULL only when written so
            inner: Truth = None if _unwrap(arg)[1].get("isnull") is True else True
        else:
            inner = fold_condition(arg)
        if isinstance(inner, _Uncertain):
            return UNCERTAIN
        return (inner is None) == (body.get("nulltesttype") == "IS_NULL")
    if kind == "BooleanTest":
        inner = fold_condition(body.get("arg"))
        test = _BOOLEAN_TESTS.get(body.get("booltesttype", ""))
        if isinstance(inner, _Uncertain) or test is None:
            return UNCERTAIN
        return test(inner)
    return UNCERTAIN


def _fold_expression(body: Node) -> Truth:
    kind, op = body.get("kind"), _operator(body)
    left, right = _literal(body.get("lexpr")), body.get("rexpr")
    if op is None or body.get("lexpr") is None:
        return UNCERTAIN
    if kind == "AEXPR_OP":
        return _compare_literals(op, left, _literal(right))
    if kind in ("AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT"):
        distinct = _distinct_literals(left, _literal(right))
        return distinct if kind == "AEXPR_DISTINCT" else _not3(distinct)
    items = _list_items(right)
    if kind == "AEXPR_IN" and op in ("=", "<>") and items:
        found = _or3(_compare_literals("=", left, _literal(i)) for i in items)
        return found if op == "=" else _not3(found)
    if kind in _BETWEEN and len(items) == 2:
        low, high = _literal(items[0]), _literal(items[1])
        inside = _and3([_compare_literals("<=", low, left), _compare_literals("<=", left, high)])
        if kind.endswith("_SYM"):
            swapped = [_compare_literals("<=", high, left), _compare_literals("<=", left, low)]
            inside = _or3([inside, _and3(swapped)])
        return _not3(inside) if kind.startswith("AEXPR_NOT") else inside
    return UNCERTAIN


# -- which parts of a condition read the target's rows

_NO_COLUMNS: frozenset[str] = frozenset()
_CURSOR_ROW = frozenset({"CURRENT OF"})


def _field_name(field: Any) -> str:
    kind, body = _unwrap(field)
    return str(body.get("sval", "")) if kind == "String" else "*"


def _bound_names(select: Node) -> set[str]:
    """The names a SELECT's FROM binds (aliases, else relation names): they hide outer ones."""
    names: set[str] = set()
    items = list(select.get("fromClause", []))
    while items:
        body = _unwrap(items.pop())[1]
        alias = body.get("alias")
        if type(alias) is dict and alias.get("aliasname"):
            names.add(str(alias["aliasname"]))
        elif body.get("relname"):
            names.add(str(body["relname"]))
        items.extend(body[side] for side in ("larg", "rarg") if type(body.get(side)) is dict)
    return names


def _column_of(fields: list[Any], names: frozenset[str], unqualified: bool) -> frozenset[str]:
    """The target column a column reference names: qualified by one of names, or (when
    unqualified counts) written alone."""
    if len(fields) == 1:
        return frozenset({_field_name(fields[0])}) if unqualified else _NO_COLUMNS
    qualifier = _unwrap(fields[-2])[1].get("sval")
    return frozenset({_field_name(fields[-1])}) if qualifier in names else _NO_COLUMNS


def _subquery_columns(node: Any, names: frozenset[str]) -> frozenset[str]:
    """Target columns a subquery reads: qualified by a target name that it does not rebind."""
    found = _NO_COLUMNS
    if type(node) is list:
        for item in node:
            found = found | _subquery_columns(item, names)
        return found
    if type(node) is not dict:
        return found
    kind, body = _unwrap(node)
    if kind == "ColumnRef":
        return _column_of(body.get("fields", []), names, False)
    if kind in _LEAVES:
        return found
    if "fromClause" in body:
        names = names - _bound_names(body)
        if not names:
            return found
    for value in body.values():
        if type(value) is dict or type(value) is list:
            found = found | _subquery_columns(value, names)
    return found


class _RowScope:
    """Which columns of the target each part of a condition reads (memoised per node)."""

    __slots__ = ("_memo", "names", "relation", "unqualified")

    def __init__(self, relation: Node, unqualified: bool) -> None:
        self.relation = relation  # the target's RangeVar
        alias = relation.get("alias", {}).get("aliasname")
        self.names = frozenset({alias or relation.get("relname", "")})  # what qualifies it
        self.unqualified = unqualified  # False when other relations are in scope (FROM, USING)
        self._memo: dict[int, frozenset[str]] = {}

    def is_target(self, relation: Node) -> bool:
        """True when a relation named in a subquery may be the target itself."""
        schemas = {relation.get("schemaname"), self.relation.get("schemaname")}
        return relation.get("relname") == self.relation.get("relname") and (
            len(schemas) == 1 or None in schemas
        )

    def columns(self, node: Any) -> frozenset[str]:
        """The target's columns node reads ("*": the whole row; CURRENT OF: the cursor's)."""
        if type(node) is dict:
            found = self._memo.get(id(node))
            if found is None:
                found = self._memo[id(node)] = self._read(node)
            return found
        found = _NO_COLUMNS
        if type(node) is list:
            for item in node:
                found = found | self.columns(item)
        return found

    def key(self, node: Any) -> str:
        """What an expression is, for telling two apart: a column of the target by its name
        (id and t.id are one), anything else as written."""
        columns = self.columns(node) if _unwrap(node)[0] == "ColumnRef" else _NO_COLUMNS
        return f"column {next(iter(columns))}" if len(columns) == 1 else _key(node)

    def _read(self, node: Node) -> frozenset[str]:
        kind, body = _unwrap(node)
        if kind in _LEAVES:
            if kind != "ColumnRef":
                return _NO_COLUMNS
            return _column_of(body.get("fields", []), self.names, self.unqualified)
        if kind == "CurrentOfExpr":
            return _CURSOR_ROW
        if kind == "SubLink":  # x IN (subquery): x is outside the subquery, the rest inside
            inside = _subquery_columns(body.get("subselect"), self.names)
            return self.columns(body.get("testexpr")) | inside
        found = _NO_COLUMNS
        for field, value in body.items():
            if field not in _NAME_ONLY_FIELDS and (type(value) is dict or type(value) is list):
                found = found | self.columns(value)
        return found


# Fields that only name things (operators, functions, types): never a column of the target.
_NAME_ONLY_FIELDS = frozenset({"name", "funcname", "typeName", "names"})


# -- a condition as a formula over what each row makes true, in negation normal form


def _key(node: Any) -> str:
    """An expression as written, without source locations: equal keys, equal expressions."""
    return json.dumps(_shape(node), separators=(",", ":"))


_ORDER_NORMAL = {
    "=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
    "IS DISTINCT": "<>", "IS NOT DISTINCT": "=",
}  # fmt: skip
_IRREFLEXIVE = frozenset({"<>", "!=", "<", ">", "IS DISTINCT"})  # x op x is never true
_NEGATED = {
    "=": "<>", "<>": "=", "!=": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">",
    "~~": "!~~", "!~~": "~~", "~~*": "!~~*", "!~~*": "~~*",
    "~": "!~", "!~": "~", "~*": "!~*", "!~*": "~*",
}  # fmt: skip
_COMMUTED = {
    "=": "=", "<>": "<>", "!=": "<>", "<": ">", ">": "<", "<=": ">=", ">=": "<=",
    "IS DISTINCT": "IS DISTINCT", "IS NOT DISTINCT": "IS NOT DISTINCT",
}  # fmt: skip
_PATTERNS = {  # operator: (family, positive)
    "~~": ("like", True), "!~~": ("like", False), "~~*": ("ilike", True),
    "!~~*": ("ilike", False), "~": ("regex", True), "!~": ("regex", False),
    "~*": ("iregex", True), "!~*": ("iregex", False),
}  # fmt: skip
_PATTERN_WORDS = {
    "like": "LIKE '%'", "ilike": "ILIKE '%'", "regex": "~ ''", "iregex": "~* ''",
}  # fmt: skip
_NEGATED_TESTS = {
    "IS_TRUE": "IS_NOT_TRUE", "IS_NOT_TRUE": "IS_TRUE", "IS_FALSE": "IS_NOT_FALSE",
    "IS_NOT_FALSE": "IS_FALSE", "IS_UNKNOWN": "IS_NOT_UNKNOWN", "IS_NOT_UNKNOWN": "IS_UNKNOWN",
}  # fmt: skip


def _described(node: Any) -> str:
    kind, body = _unwrap(node)
    if kind == "ColumnRef":
        return ".".join(_field_name(f) for f in body.get("fields", []))
    return "an expression"


def _matches_everything(family: str, pattern: Any) -> bool:
    """x LIKE '%' (or ~ '') holds for every value of x."""
    kind, body = _unwrap(pattern)
    if kind == "FuncCall" and _strings(body.get("funcname"))[-1:] == ["similar_to_escape"]:
        args = body.get("args", [])  # SIMILAR TO '%' is a regular expression from a pattern
        text = _const_text(args[0]) if len(args) == 1 else None
        return bool(text) and set(text or "") == {"%"}
    text = _const_text(pattern)
    if text is None:
        return False
    if family in ("like", "ilike"):
        return bool(text) and set(text) == {"%"}
    return text in ("", ".*", "^", "$")


class _Bounds:
    """Builds the formula of a condition: which rows it can be true on."""

    __slots__ = ("_made", "scope")

    def __init__(self, scope: _RowScope) -> None:
        self.scope = scope
        self._made: list[Node] = []  # nodes made here, kept alive: scope memoises by id()

    def _made_node(self, node: Node) -> Node:
        self._made.append(node)
        return node

    def formula(self, node: Any, negated: bool) -> _Formula:
        """The formula of node (of NOT node when negated)."""
        if not self.scope.columns(node):
            return _constant(fold_condition(node), negated)
        kind, body = _unwrap(node)
        if kind == "BoolExpr":
            args = body.get("args", [])
            if body.get("boolop") == "NOT_EXPR":
                if len(args) == 1:
                    return self.formula(args[0], not negated)
                return self._flag(node, not negated)
            parts = [self.formula(arg, negated) for arg in args]
            every = (body.get("boolop") == "AND_EXPR") != negated
            return _all_of(parts) if every else _any_of(parts)
        if kind == "A_Expr":
            return self._expression(node, body, negated)
        if kind == "NullTest":
            is_null = (body.get("nulltesttype") == "IS_NULL") != negated
            return self._null_test(body.get("arg"), is_null)
        if kind == "BooleanTest":
            test = str(body.get("booltesttype", ""))
            return self._boolean_test(body.get("arg"), _NEGATED_TESTS[test] if negated else test)
        if kind == "CaseExpr":
            return self._case(body, negated)
        if kind == "CoalesceExpr":
            return _any_of(self.formula(arg, negated) for arg in body.get("args", []))
        if kind == "MinMaxExpr":
            parts = [self.formula(arg, negated) for arg in body.get("args", [])]
            every = (body.get("op") == "IS_LEAST") != negated
            return _all_of(parts) if every else _any_of(parts)
        if kind in ("TypeCast", "CollateClause"):
            return self.formula(body.get("arg"), negated)
        if kind == "SubLink" and not negated and self._looks_itself_up(body):
            return _Always("it looks each row up in the table itself")
        return self._flag(node, not negated)

    def _looks_itself_up(self, link: Node) -> bool:
        """x IN (SELECT x FROM target), EXISTS (SELECT FROM target o WHERE o.x = target.x):
        true for every row with a value."""
        select = _unwrap(link.get("subselect"))[1]
        sources = select.get("fromClause", [])
        if len(sources) != 1 or link.get("subLinkType") not in ("ANY_SUBLINK", "EXISTS_SUBLINK"):
            return False
        kind, source = _unwrap(sources[0])
        narrowed = any(select.get(k) for k in ("havingClause", "limitCount", "limitOffset"))
        if kind != "RangeVar" or not self.scope.is_target(source) or narrowed:
            return False
        inner = source.get("alias", {}).get("aliasname") or source.get("relname", "")
        where = select.get("whereClause")
        if where is not None and not self._matches_itself(where, inner):
            return False
        if link.get("subLinkType") == "EXISTS_SUBLINK":
            return where is not None
        outputs = select.get("targetList", [])
        if len(outputs) != 1 or _strings(link.get("operName")) not in ([], ["="]):
            return False
        column = _inner_column(_unwrap(outputs[0])[1].get("val"), inner)
        return column is not None and self.scope.columns(link.get("testexpr")) == {column}

    def _matches_itself(self, where: Any, inner: str) -> bool:
        """inner.x = target.x (either way round)."""
        kind, body = _unwrap(where)
        if kind != "A_Expr" or body.get("kind") != "AEXPR_OP" or _operator(body) != "=":
            return False
        if inner in self.scope.names:
            return False  # the subquery's relation hides the target's name
        for mine, theirs in (
            (body.get("lexpr"), body.get("rexpr")),
            (body.get("rexpr"), body.get("lexpr")),
        ):
            column = _inner_column(theirs, inner)
            if column is not None and _unwrap(mine)[0] == "ColumnRef":
                fields = _unwrap(mine)[1].get("fields", [])
                if len(fields) > 1 and self.scope.columns(mine) == {column}:
                    return True
        return False

    def _case(self, body: Node, negated: bool) -> _Formula:
        """CASE: a branch is taken when its condition IS TRUE and no earlier one was; the
        CASE is true where the taken branch's result is (NOT CASE: where it is false)."""
        whens = [_unwrap(w)[1] for w in body.get("args", [])]
        default = body.get("defresult", _NULL)
        if len(whens) > _CASE_BRANCHES:  # too many to follow: any result may be the one
            results = [w.get("result") for w in whens] + [default]
            return _any_of(self.formula(r, negated) for r in results)
        operand = body.get("arg")  # CASE x WHEN v: the condition is x = v
        branches: list[_Formula] = []
        skipped: list[_Formula] = []
        for when in whens:
            condition = when.get("expr")
            if operand is not None:
                condition = self._made_node(_equals(operand, condition))
            taken = self.formula(self._made_node(_is(condition, "IS_TRUE")), False)
            result = self.formula(when.get("result"), negated)
            branches.append(_all_of([*skipped, taken, result]))
            skipped.append(self.formula(self._made_node(_is(condition, "IS_NOT_TRUE")), False))
        branches.append(_all_of([*skipped, self.formula(default, negated)]))
        return _any_of(branches)

    def _flag(self, node: Any, positive: bool = True) -> _Formula:
        return _Flag("is", (node,), positive)

    def _null_test(self, arg: Any, is_null: bool) -> _Formula:
        """arg IS NULL (is_null) or IS NOT NULL, arg reading the rows."""
        if not is_null:
            return _Always(f"{_described(arg)} IS NOT NULL holds on every row with a value")
        if self._null_everywhere(arg):
            return _Always(f"{_described(arg)} may be NULL on every row")
        return _Flag("null", (arg,), True)

    def _null_everywhere(self, node: Any) -> bool:
        """True when node may be NULL on every row: a part that does not read the rows may
        be NULL (see _may_be_null) and NULL spreads through what holds it; a column is NULL
        only on some rows, which bounds them."""
        if type(node) is list:
            return any(map(self._null_everywhere, node))
        if not self.scope.columns(node):
            value = fold_condition(node)
            return value is None or (isinstance(value, _Uncertain) and _may_be_null(node))
        kind, body = _unwrap(node)
        if kind in _NEVER_NULL:
            return False
        if kind == "A_Expr" and body.get("kind") in _NEVER_NULL_EXPRESSIONS:
            return False
        nullif = kind == "A_Expr" and body.get("kind") == "AEXPR_NULLIF"
        if nullif and self._same_columns(body.get("lexpr"), body.get("rexpr")):
            return True  # NULLIF(a, a)
        if kind == "SubLink":
            return body.get("subLinkType") != "EXISTS_SUBLINK"
        if kind == "CoalesceExpr":
            return all(map(self._null_everywhere, body.get("args", [])))
        if kind == "CaseExpr":
            results = [_unwrap(w)[1].get("result") for w in body.get("args", [])]
            return any(map(self._null_everywhere, [*results, body.get("defresult", _NULL)]))
        return any(
            self._null_everywhere(value)
            for field, value in body.items()
            if field not in _NAME_ONLY_FIELDS and type(value) in (dict, list)
        )

    def _boolean_test(self, arg: Any, test: str) -> _Formula:
        if test in ("IS_TRUE", "IS_FALSE"):
            return self.formula(arg, test == "IS_FALSE")
        if test in ("IS_NOT_TRUE", "IS_NOT_FALSE"):
            return _any_of([self.formula(arg, test == "IS_NOT_TRUE"), self._null_test(arg, True)])
        return self._null_test(arg, test == "IS_UNKNOWN")

    def _expression(self, node: Any, body: Node, negated: bool) -> _Formula:
        kind, op = body.get("kind"), _operator(body)
        left, right = body.get("lexpr"), body.get("rexpr")
        if op is None or left is None:
            return self._flag(node, not negated)
        if kind in ("AEXPR_OP", "AEXPR_LIKE", "AEXPR_ILIKE", "AEXPR_SIMILAR"):
            if negated:
                if op not in _NEGATED:
                    return self._flag(node, False)
                op = _NEGATED[op]
            return self._compare(op, left, right)
        if kind in ("AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT"):
            distinct = (kind == "AEXPR_DISTINCT") != negated
            return self._compare("IS DISTINCT" if distinct else "IS NOT DISTINCT", left, right)
        items = _list_items(right)
        if kind == "AEXPR_IN" and op in ("=", "<>") and items:
            inside = (op == "=") != negated
            atoms = [self._compare("=" if inside else "<>", left, item) for item in items]
            return _any_of(atoms) if inside else _all_of(atoms)
        if kind in _BETWEEN and len(items) == 2:
            inside = kind.startswith("AEXPR_NOT") == negated
            bounds = [(items[0], items[1])]
            if kind.endswith("_SYM"):
                bounds.append((items[1], items[0]))
            if inside:
                return _any_of(
                    _all_of([self._compare(">=", left, low), self._compare("<=", left, high)])
                    for low, high in bounds
                )
            return _all_of(
                _any_of([self._compare("<", left, low), self._compare(">", left, high)])
                for low, high in bounds
            )
        if kind == "AEXPR_NULLIF":  # NULLIF(a, b) is a, or NULL
            return self.formula(left, negated)
        return self._opaque(node, left, right, negated)

    def _opaque(self, node: Any, left: Any, right: Any, negated: bool) -> _Formula:
        """An operator the gateway does not model: bounding, unless both sides read the same
        columns (x = ANY(ARRAY[x]) may hold on every row)."""
        if self._same_columns(left, right):
            return _Always(f"it compares {_described(left)} with an expression of itself")
        return self._flag(node, not negated)

    def _same_columns(self, left: Any, right: Any) -> bool:
        columns = self.scope.columns(left)
        return bool(columns) and columns == self.scope.columns(right)

    def _compare(self, op: str, left: Any, right: Any) -> _Formula:
        """left op right, op one of the ordering, DISTINCT and pattern operators."""
        left_columns, right_columns = self.scope.columns(left), self.scope.columns(right)
        if not left_columns and not right_columns:
            return _constant(_compare_constants(op, left, right), False)
        if left_columns and right_columns:
            if _shape(left) == _shape(right):
                if op in _IRREFLEXIVE:
                    return _NEVER
                return _Always(f"it compares {_described(left)} with itself")
            if left_columns == right_columns:
                names = ", ".join(sorted(left_columns))
                return _Always(f"it compares two expressions of {names} with each other")
            if op in _ORDER_NORMAL:
                return _Order(_ORDER_NORMAL[op], _Term(left), _Term(right))
            return self._pattern_or_flag(op, left, right)
        if not left_columns:  # the side that reads the rows goes left
            if op not in _COMMUTED:
                return _Flag("op:" + op, (left, right), True)
            op, left, right = _COMMUTED[op], right, left
        value = _literal(right)
        if value is None:  # NULL
            if op == "IS DISTINCT":
                return self._null_test(left, False)
            return self._null_test(left, True) if op == "IS NOT DISTINCT" else _NEVER
        if type(value) is bool:
            return self._compare_boolean(op, left, value)
        if op == "IS DISTINCT" and _may_be_null(right):
            return _Always(
                f"{_described(left)} IS DISTINCT FROM what may be NULL holds on every row"
            )
        if op == "IS NOT DISTINCT" and _may_be_null(right):
            return _any_of(
                [_Order(_ORDER_NORMAL[op], _Term(left), _Term(right)), self._null_test(left, True)]
            )
        if op in _ORDER_NORMAL:
            return _Order(
                _ORDER_NORMAL[op], _Term(left), _Term(right, value if type(value) is int else None)
            )
        return self._pattern_or_flag(op, left, right)

    def _compare_boolean(self, op: str, left: Any, value: bool) -> _Formula:
        """x = true is x; x <> true is NOT x; x IS DISTINCT FROM true is x IS NOT TRUE."""
        if op in ("=", "IS NOT DISTINCT"):
            return self.formula(left, not value)
        if op in ("<>", "!="):
            return self.formula(left, value)
        if op == "IS DISTINCT":
            return self._boolean_test(left, "IS_NOT_TRUE" if value else "IS_NOT_FALSE")
        return _Flag("op:" + op, (left, _TRUE if value else _FALSE), True)

    def _pattern_or_flag(self, op: str, left: Any, right: Any) -> _Formula:
        if op not in _PATTERNS:
            return _Flag("op:" + op, (left, right), True)
        family, positive = _PATTERNS[op]
        if positive and _matches_everything(family, right):
            return _Always(f"{_described(left)} {_PATTERN_WORDS[family]} matches every value")
        return _Flag(family, (left, right), positive)


def _inner_column(node: Any, inner: str) -> str | None:
    """The column a subquery's own relation (named inner) gives, when node is one."""
    kind, body = _unwrap(node)
    fields = body.get("fields", []) if kind == "ColumnRef" else []
    if len(fields) == 1 or (len(fields) > 1 and _strings(fields[-2:-1]) == [inner]):
        return _field_name(fields[-1])
    return None


# Expressions never NULL, whatever they read, and A_Expr kinds that may give NULL from values.
_NEVER_NULL = frozenset({"NullTest", "BooleanTest", "CurrentOfExpr", "ColumnRef"})
_NEVER_NULL_EXPRESSIONS = frozenset({"AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT"})
_NULL_MAKING_EXPRESSIONS = frozenset({"AEXPR_NULLIF", "AEXPR_OP_ANY", "AEXPR_OP_ALL"})


def _operands(body: Node) -> list[Any]:
    """An A_Expr's operands: its left side, and its right side or the items of its list."""
    right = body.get("rexpr")
    rights = _list_items(right) if _unwrap(right)[0] == "List" else [right]
    return [part for part in (body.get("lexpr"), *rights) if part is not None]


def _may_be_null(node: Any) -> bool:
    """True when an expression that does not read the rows may be NULL: a NULL, a parameter,
    a call, a subquery's value, ...; a literal is NULL only when written so, and the built-in
    operators give NULL only from NULL."""
    kind, body = _unwrap(node)
    if kind == "A_Const":
        return body.get("isnull") is True
    if kind in _NEVER_NULL or body.get("subLinkType") == "EXISTS_SUBLINK":
        return False
    if kind == "A_Expr":
        expression = body.get("kind")
        if expression in _NEVER_NULL_EXPRESSIONS:
            return False
        return expression in _NULL_MAKING_EXPRESSIONS or any(map(_may_be_null, _operands(body)))
    if kind in ("TypeCast", "CollateClause"):
        return _may_be_null(body.get("arg"))
    if kind == "BoolExpr":
        return any(map(_may_be_null, body.get("args", [])))
    return True


def _equals(left: Any, right: Any) -> Node:
    return {"A_Expr": {"kind": "AEXPR_OP", "name": [{"String": {"sval": "="}}], "lexpr": left,
                       "rexpr": right}}  # fmt: skip


def _is(arg: Any, test: str) -> Node:
    return {"BooleanTest": {"arg": arg, "booltesttype": test}}


_CASE_BRANCHES = 8  # a CASE with more WHENs is read as "any of its results"
_NULL: Node = {"A_Const": {"isnull": True}}
_TRUE: Node = {"A_Const": {"boolval": {"boolval": True}}}
_FALSE: Node = {"A_Const": {"boolval": {}}}


def _compare_constants(op: str, left: Any, right: Any) -> Truth:
    """left op right when neither side reads the rows (see fold_condition)."""
    if op in ("IS DISTINCT", "IS NOT DISTINCT"):
        distinct = _distinct_literals(_literal(left), _literal(right))
        return distinct if op == "IS DISTINCT" else _not3(distinct)
    return _compare_literals(op, _literal(left), _literal(right))


def _plainly_bounded(where: Any, scope: _RowScope) -> bool:
    """True for the common bounded shape, decided without the full analysis (which finds the
    same): a column of the target compared (= <> < <= > >=) with a literal or a parameter,
    alone or as one part of an AND (one part that bounds the rows bounds them all)."""
    kind, body = _unwrap(where)
    if kind == "BoolExpr":
        args = body.get("args", [])
        return body.get("boolop") == "AND_EXPR" and any(_plainly_bounded(a, scope) for a in args)
    if kind != "A_Expr" or body.get("kind") != "AEXPR_OP" or _operator(body) not in _ORDERING:
        return False
    left, right = _unwrap(body.get("lexpr")), _unwrap(body.get("rexpr"))
    if left[0] != "ColumnRef":
        left, right = right, left
    if right[0] == "TypeCast":  # $1::INTEGER, as drivers and ORMs send it
        right = _unwrap(right[1].get("arg"))
    if left[0] != "ColumnRef" or right[0] not in ("A_Const", "ParamRef"):
        return False
    return bool(_column_of(left[1].get("fields", []), scope.names, scope.unqualified))


def _unbounded(
    verb: str, relation: Node, where: Any, clause: str = "WHERE", *, others: bool = False
) -> str | None:
    """Why an UPDATE/DELETE (MERGE: its ON) may reach every row of its table, or None.

    others: other relations are in scope (FROM, USING, a MERGE's source), so an unqualified
    column may be theirs and does not count as the target's.
    """
    table = _range_var_name(relation)
    if where is None:
        return f"{verb} without {clause} on {table}"
    scope = _RowScope(relation, not others)
    if _plainly_bounded(where, scope):
        return None
    if not scope.columns(where):
        value = fold_condition(where)
        if value is True:
            return f"{verb} with an always-true {clause} on {table}"
        if value is False or value is None:
            return None
        return f"{verb} whose {clause} does not depend on the rows of {table}"
    why = _everywhere(_Bounds(scope).formula(where, False), scope)
    return f"{verb} whose {clause} may be true on every row of {table}: {why}" if why else None
