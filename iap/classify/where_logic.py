"""Formulas over row terms, and the search for whether a disjunction covers every case.

Owns the three-valued truth of a constant part (TRUE, FALSE, NULL or UNCERTAIN: _and3,
_or3, _not3) and what both dialects' WHERE analyses share once a condition is a formula: the formula
classes (_Always, _Never, _Order, _Flag, _AllOf, _AnyOf over _Term sides), building them
(_all_of, _any_of), and deciding whether a formula may hold on every row (_everywhere):
a disjunction is split into groups of parts linked by shared variables (_Group) and every
case that matters is tried (_covered, _cases, _holds), within _CASES_LIMIT. Never reads a
parse tree: what a node reads and what it is are asked of the dialect's row scope
(RowScope: columns(node), key(node)); a dialect that can tell more facts for a given value
extends _Group (hooks _collect_fact and _possible) and passes its class to _everywhere.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, Self


class _Uncertain:
    """A constant whose value the gateway cannot know for certain (types and settings decide)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNCERTAIN"


UNCERTAIN = _Uncertain()
Truth3 = bool | None | _Uncertain  # a condition's value: TRUE, FALSE, NULL (None) or uncertain


def _and3(values: Iterable[Truth3]) -> Truth3:
    result: Truth3 = True
    for value in values:
        if value is False:
            return False
        if isinstance(value, _Uncertain) or (value is None and result is True):
            result = value
    return result


def _or3(values: Iterable[Truth3]) -> Truth3:
    result: Truth3 = False
    for value in values:
        if value is True:
            return True
        if isinstance(value, _Uncertain) or (value is None and result is False):
            result = value
    return result


def _not3(value: Truth3) -> Truth3:
    return not value if type(value) is bool else value


# The normal ordering operators an _Order holds (each dialect maps its own onto them).
_ORDERING: dict[str, Callable[[int, int], bool]] = {
    "=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge,
}  # fmt: skip


class RowScope(Protocol):
    """What the search asks of a dialect about a node of its parse tree."""

    def columns(self, node: Any) -> frozenset[str]:
        """The target's columns node reads (empty: it does not read the rows)."""
        ...

    def key(self, node: Any) -> str:
        """What an expression is, for telling two apart (equal keys: one value)."""
        ...


# -- a condition as a formula over what each row makes true, in negation normal form


class _Always:
    """True on every row (or may be): why."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why


class _Never:
    """True on no row (FALSE, 0 or NULL for each)."""

    __slots__ = ()


_NEVER = _Never()


class _Term:
    """One side of an ordering comparison: an integer, a value of the row, or a constant whose
    value the gateway does not know (a parameter, a string, a cast, another relation's column)."""

    __slots__ = ("key", "node", "value")

    def __init__(self, node: Any, value: int | None = None) -> None:
        self.node = node
        self.value = value  # an integer literal's value; None: a variable
        self.key: tuple[str, ...] = ()  # the variable's name, set when cases are tried


class _Order:
    """left op right over a linear order (op one of = <> < <= > >=, see _ORDERING; each
    dialect normalises its own operators before building one)."""

    __slots__ = ("left", "op", "right")

    def __init__(self, op: str, left: _Term, right: _Term) -> None:
        self.op, self.left, self.right = op, left, right


class _Flag:
    """A yes/no fact about a row (a boolean column, a call, x IS NULL, x LIKE p): the fact
    itself, or (positive False) its opposite; text: a pattern written in the statement, when
    the dialect can tell the fact for a given value (see _Group._collect_fact)."""

    __slots__ = ("key", "kind", "nodes", "positive", "text")

    def __init__(
        self, kind: str, nodes: tuple[Any, ...], positive: bool, text: str | None = None
    ) -> None:
        self.kind, self.nodes, self.positive, self.text = kind, nodes, positive, text
        self.key: tuple[str, ...] = ()  # the fact's name, set when cases are tried


class _AllOf:
    __slots__ = ("parts",)

    def __init__(self, parts: list[_Formula]) -> None:
        self.parts = parts


class _AnyOf:
    __slots__ = ("parts",)

    def __init__(self, parts: list[_Formula]) -> None:
        self.parts = parts


_Formula = _Always | _Never | _Order | _Flag | _AllOf | _AnyOf


def _all_of(parts: Iterable[_Formula]) -> _Formula:
    kept: list[_Formula] = []
    always: _Always | None = None
    for part in parts:
        if isinstance(part, _Never):
            return part
        if isinstance(part, _Always):
            always = always or part
        elif isinstance(part, _AllOf):
            kept.extend(part.parts)
        else:
            kept.append(part)
    if not kept:
        return always or _Always("it is always true")
    return kept[0] if len(kept) == 1 else _AllOf(kept)


def _any_of(parts: Iterable[_Formula]) -> _Formula:
    kept: list[_Formula] = []
    for part in parts:
        if isinstance(part, _Always):
            return part
        if isinstance(part, _AnyOf):
            kept.extend(part.parts)
        elif not isinstance(part, _Never):
            kept.append(part)
    if not kept:
        return _NEVER
    return kept[0] if len(kept) == 1 else _AnyOf(kept)


def _constant(value: Truth3, negated: bool) -> _Formula:
    """The formula of a part that does not read the rows, of value (of NOT it when negated)."""
    if isinstance(value, _Uncertain):
        return _Always("part of it does not depend on the rows and may be true")
    if value is None or value == negated:
        return _NEVER
    return _Always("part of it is always true")


# -- deciding: may the formula be true on every row?

_CASES_LIMIT = 20_000  # cases times parts to try before a disjunction counts as too complex


class _Group:
    """Parts of a disjunction linked by the variables they share, with the integers they name.

    A variable is a value of the row (ordered), a constant the gateway does not know
    (ordered), or a yes/no fact. Parts that share no variable are independent, so a
    disjunction holds for every value only when the parts of one of its groups do.
    links: what links this group to another (its variables, and what a subclass adds).
    """

    __slots__ = ("integers", "links", "parts", "variables")

    def __init__(self, part: _Formula, scope: RowScope) -> None:
        self.parts = [part]
        self.variables: dict[tuple[str, ...], str] = {}  # name: "row", "constant" or "fact"
        self.integers: set[int] = set()
        self._collect(part, scope)
        self.links: set[tuple[str, ...]] = set(self.variables)

    def _collect(self, formula: _Formula, scope: RowScope) -> None:
        if isinstance(formula, _Order):
            for term in (formula.left, formula.right):
                if term.value is not None:
                    self.integers.add(term.value)
                    continue
                kind = "row" if scope.columns(term.node) else "constant"
                term.key = (kind, scope.key(term.node))
                self.variables[term.key] = kind
        elif isinstance(formula, _Flag):
            formula.key = (formula.kind, *map(scope.key, formula.nodes))
            self.variables[formula.key] = "fact"
            self._collect_fact(formula, scope)
        elif isinstance(formula, _AllOf | _AnyOf):
            for part in formula.parts:
                self._collect(part, scope)

    def _collect_fact(self, formula: _Flag, scope: RowScope) -> None:
        """A hook: what a dialect learns from a fact (its key is set); nothing here."""

    def absorb(self, other: Self) -> None:
        self.parts += other.parts
        self.variables.update(other.variables)
        self.integers |= other.integers
        self.links |= other.links

    def _possible(self, case: dict[tuple[str, ...], Any]) -> bool:
        """A hook: False when the case cannot happen; every case can here."""
        return True

    def verdict(self) -> str | None:
        """Why the group's parts hold for every value, or None.

        Every case that matters is tried: for ordered variables every integer near one the
        group names (enough of them to order all the variables every way), for facts both
        answers. An unknown constant may be any value, so the group holds for every value
        when SOME choice of the constants makes it true for EVERY choice of the rest.
        """
        if all(isinstance(p, _Order) and p.op == "=" for p in self.parts):
            return None  # finitely many values, each named: never all of them
        names = {kind: [k for k, v in self.variables.items() if v == kind] for kind in _KINDS}
        spread = len(names["row"]) + len(names["constant"])
        values = sorted({i + d for i in self.integers for d in range(-spread, spread + 1)})
        values = values or list(range(spread))
        if len(values) ** spread * 2 ** len(names["fact"]) * len(self.parts) > _CASES_LIMIT:
            return "it is too complex to prove that it does not hold on every row"
        for chosen in itertools.product(values, repeat=len(names["constant"])):
            constants = dict(zip(names["constant"], chosen, strict=True))
            if all(
                any(_holds(part, case) for part in self.parts)
                for case in _cases(constants, names["row"], values, names["fact"])
                if self._possible(case)
            ):
                return "its parts together hold for every value"
        return None


_KINDS = ("row", "constant", "fact")


def _everywhere(formula: _Formula, scope: RowScope, group: type[_Group] = _Group) -> str | None:
    """Why formula may be true on every row, or None: it bounds the rows (group: the kind
    of _Group a disjunction's parts are gathered in)."""
    if isinstance(formula, _Always):
        return formula.why
    if isinstance(formula, _AllOf):
        whys = []
        for part in formula.parts:
            why = _everywhere(part, scope, group)
            if why is None:
                return None
            whys.append(why)
        return whys[0]
    if isinstance(formula, _AnyOf):
        for part in formula.parts:
            why = _everywhere(part, scope, group)
            if why is not None:
                return why
        return _covered(formula.parts, scope, group)
    return None


def _covered(
    parts: list[_Formula], scope: RowScope, group_class: type[_Group] = _Group
) -> str | None:
    """Why a disjunction of parts holds for every value, or None (see _Group)."""
    groups: list[_Group] = []
    for part in parts:
        group = group_class(part, scope)
        for other in [g for g in groups if g.links & group.links]:
            groups.remove(other)
            group.absorb(other)
        groups.append(group)
    for group in groups:
        why = group.verdict()
        if why is not None:
            return why
    return None


def _cases(
    constants: dict[tuple[str, ...], int],
    rows: list[tuple[str, ...]],
    values: list[int],
    facts: list[tuple[str, ...]],
) -> Iterator[dict[tuple[str, ...], Any]]:
    """Every assignment of the row values and facts, with the constants chosen."""
    for row_values in itertools.product(values, repeat=len(rows)):
        for answers in itertools.product((False, True), repeat=len(facts)):
            case: dict[tuple[str, ...], Any] = dict(constants)
            case.update(zip(rows, row_values, strict=True))
            case.update(zip(facts, answers, strict=True))
            yield case


def _holds(formula: _Formula, case: dict[tuple[str, ...], Any]) -> bool:
    """The formula's value in one case (every variable assigned)."""
    if isinstance(formula, _Always):
        return True
    if isinstance(formula, _AllOf):
        return all(_holds(part, case) for part in formula.parts)
    if isinstance(formula, _AnyOf):
        return any(_holds(part, case) for part in formula.parts)
    if isinstance(formula, _Flag):
        return bool(case[formula.key] == formula.positive)
    if isinstance(formula, _Order):
        left, right = (
            t.value if t.value is not None else case[t.key] for t in (formula.left, formula.right)
        )
        return _ORDERING[formula.op](left, right)
    return False
