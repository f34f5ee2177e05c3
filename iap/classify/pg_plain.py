"""The cheapest reading: one plain statement of a tiny grammar, recognised without the parser.

Point lookups and single-row changes with literal values (pgbench, hand-written probes, many
simple-protocol clients) differ in every literal, so the exact-text cache never serves them,
and parsing costs more than the rest of the gateway's work on them. Three shapes are read
from the text alone:

    SELECT cols FROM rel [WHERE cond [AND cond ...]]
    UPDATE rel SET col = number | col = col (+|-) number [, ...] WHERE cond [AND cond ...]
    INSERT INTO rel [(cols)] VALUES (value [, ...])

where a cond compares a column with a number (in an UPDATE, one of its own, unqualified:
a condition on another relation's column would not bound it) and a value is a number or one of the
parenthesis-free date/time value functions. ASCII only; plain identifiers that are not
keywords of any kind (so no function can be named: there are no parentheses outside VALUES,
and the parenthesis-free SQL functions such as CURRENT_USER are keywords); relations
optionally schema-qualified; an optional final semicolon. No comments, strings, casts, other
operators, RETURNING/ON CONFLICT or second statement can match. An UPDATE always has a WHERE
that compares a column with a number, so it is bounded (write), never `WHERE true`.
Anything else returns None and the full classifier decides; a test proves the answers equal
the full walk's.
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

_S = r"[ \t\r\n]"  # whitespace between words
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_RELATION = rf"{_IDENT}(?:\.{_IDENT})?"
_COLUMN = rf"(?:{_IDENT}(?:\.{_IDENT})?|\*)"
_NUMBER = r"-?[0-9]+(?:\.[0-9]+)?"
_COMPARE = rf"[ \t]*(?:=|<>|!=|<=|>=|<|>)[ \t]*{_NUMBER}"
_CONDITION = rf"{_IDENT}(?:\.{_IDENT})?{_COMPARE}"
_CONDITIONS = rf"{_CONDITION}(?:{_S}+AND{_S}+{_CONDITION})*"
# An UPDATE's conditions name its own columns, unqualified: `other.col = 1` would not depend
# on the updated rows at all (every row would change), and the walk calls that destructive.
_OWN_CONDITION = rf"{_IDENT}{_COMPARE}"
_OWN_CONDITIONS = rf"{_OWN_CONDITION}(?:{_S}+AND{_S}+{_OWN_CONDITION})*"
_SET_ITEM = rf"{_IDENT}[ \t]*=[ \t]*(?:{_NUMBER}|{_IDENT}[ \t]*[-+][ \t]*{_NUMBER})"
_VALUE = rf"(?:{_NUMBER}|CURRENT_TIMESTAMP|CURRENT_DATE|LOCALTIMESTAMP)"
_END = rf"{_S}*;?{_S}*"

_SELECT = re.compile(
    rf"{_S}*SELECT{_S}+(?P<columns>{_COLUMN}(?:[ \t]*,[ \t]*{_COLUMN})*)"
    rf"{_S}+FROM{_S}+(?P<relation>{_RELATION})"
    rf"(?:{_S}+WHERE{_S}+(?P<conditions>{_CONDITIONS}))?{_END}",
    re.IGNORECASE | re.ASCII,
)
_UPDATE = re.compile(
    rf"{_S}*UPDATE{_S}+(?P<relation>{_RELATION}){_S}+SET{_S}+"
    rf"(?P<columns>{_SET_ITEM}(?:[ \t]*,[ \t]*{_SET_ITEM})*)"
    rf"{_S}+WHERE{_S}+(?P<conditions>{_OWN_CONDITIONS}){_END}",
    re.IGNORECASE | re.ASCII,
)
_INSERT = re.compile(
    rf"{_S}*INSERT{_S}+INTO{_S}+(?P<relation>{_RELATION})"
    rf"(?:[ \t]*\((?P<columns>{_IDENT}(?:[ \t]*,[ \t]*{_IDENT})*)\))?"
    rf"{_S}+VALUES{_S}*\({_VALUE}(?:[ \t]*,[ \t]*{_VALUE})*\){_END}",
    re.IGNORECASE | re.ASCII,
)
_WORD = re.compile(_IDENT, re.ASCII)
_AND = re.compile(rf"{_S}+AND{_S}+", re.IGNORECASE | re.ASCII)


def classify_plain(sql: str) -> Classification | None:
    """The class of a plain lookup, bounded UPDATE or one-row INSERT, or None: not one."""
    if len(sql) > 2000 or not sql.isascii():
        return None
    head = sql.lstrip()[:6].upper()
    if head == "SELECT":
        match, kind, risk, reason = _SELECT.fullmatch(sql), "SELECT", Risk.READ, ""
    elif head == "UPDATE":
        match, kind, risk, reason = _UPDATE.fullmatch(sql), "UPDATE", Risk.WRITE, "UPDATE on"
    elif head == "INSERT":
        match, kind, risk, reason = _INSERT.fullmatch(sql), "INSERT", Risk.WRITE, "INSERT into"
    else:
        return None
    if match is None:
        return None
    names = _WORD.findall(match["relation"]) + _WORD.findall(match["columns"] or "")
    for condition in _AND.split(match.groupdict().get("conditions") or ""):
        names += _WORD.findall(condition)
    if any(name.lower() in _KEYWORDS for name in names):
        return None  # a keyword where a name stands: the parser decides what it means
    relation = match["relation"].lower()
    reasons = (f"{reason} {relation}",) if reason else ()
    return Classification(risk, (StatementInfo(kind, risk, (relation,), reasons),), reasons)
