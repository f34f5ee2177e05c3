"""The cheapest reading: one plain lookup, `SELECT cols FROM rel [WHERE col op number ...]`.

Point lookups with literal values (pgbench -S, hand-written probes, many simple-protocol
clients) differ in every literal, so the exact-text cache never serves them, and parsing
costs more than the rest of the gateway's work on them. This recognises a deliberately tiny
grammar from the text alone, without the parser: ASCII only; plain identifiers that are not
keywords of any kind (so no function can be named: there are no parentheses at all, and
the parenthesis-free SQL functions such as CURRENT_USER are keywords); optionally qualified
column references, or `*`; one relation, optionally schema-qualified; conditions of a column
compared with a number, joined by AND; an optional final semicolon. No comments, strings,
casts, operators beyond comparisons, or second statement can match. Anything else returns
None and the full classifier decides. A test proves it answers exactly as the full walk.
"""

from __future__ import annotations

import re

from pglast import keywords

from iap.classify.types import Classification, Risk, StatementInfo

_KEYWORDS = frozenset(
    word.lower()
    for group in (
        keywords.RESERVED_KEYWORDS,
        keywords.UNRESERVED_KEYWORDS,
        keywords.COL_NAME_KEYWORDS,
        keywords.TYPE_FUNC_NAME_KEYWORDS,
    )
    for word in group
)

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_COLUMN = rf"(?:{_IDENT}(?:\.{_IDENT})?|\*)"
_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
_CONDITION = rf"{_IDENT}(?:\.{_IDENT})?[ \t]*(?:=|<>|!=|<=|>=|<|>)[ \t]*{_NUMBER}"
_LOOKUP = re.compile(
    rf"[ \t\r\n]*SELECT[ \t\r\n]+(?P<columns>{_COLUMN}(?:[ \t]*,[ \t]*{_COLUMN})*)"
    rf"[ \t\r\n]+FROM[ \t\r\n]+(?P<relation>{_IDENT}(?:\.{_IDENT})?)"
    rf"(?:[ \t\r\n]+WHERE[ \t\r\n]+(?P<conditions>{_CONDITION}"
    rf"(?:[ \t\r\n]+AND[ \t\r\n]+{_CONDITION})*))?"
    r"[ \t\r\n]*;?[ \t\r\n]*",
    re.IGNORECASE | re.ASCII,
)
_WORD = re.compile(_IDENT, re.ASCII)
_AND = re.compile(r"[ \t\r\n]+AND[ \t\r\n]+", re.IGNORECASE | re.ASCII)


def classify_lookup(sql: str) -> Classification | None:
    """The class of a plain lookup (a read of one relation), or None: not one."""
    if len(sql) > 2000 or not sql.isascii():
        return None
    match = _LOOKUP.fullmatch(sql)
    if match is None:
        return None
    names = _WORD.findall(match["columns"]) + _WORD.findall(match["relation"])
    for condition in _AND.split(match["conditions"] or ""):
        names += _WORD.findall(condition)
    if any(name.lower() in _KEYWORDS for name in names):
        return None  # a keyword where a name stands: the parser decides what it means
    relation = match["relation"].lower()
    return Classification(Risk.READ, (StatementInfo("SELECT", Risk.READ, (relation,), ()),), ())
