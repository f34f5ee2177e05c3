"""Structured log lines for what operators grep: `event=NAME key=value ...`, one line each.

A value that is a plain word is written as it is; anything else (spaces, quotes, an empty
string, control characters someone typed into a user name) is quoted, with the escapes of
`iap.audit.printable` and `\\"`, so a line can never be split or forged. The audit log stays
the record; these lines are for `grep event=hold` and log pipelines.
"""

from __future__ import annotations

import re

from iap.audit import printable

_WORD = re.compile(r"[A-Za-z0-9_.:/@+,*-]+")


def value(v: object) -> str:
    """One value as a log line carries it (None is `-`)."""
    text = "-" if v is None else v if isinstance(v, str) else str(v)
    if _WORD.fullmatch(text):
        return text
    return '"' + printable(text).replace('"', '\\"') + '"'


def event(name: str, **fields: object) -> str:
    """`event=name k=v ...` in the order given."""
    return " ".join([f"event={name}", *(f"{k}={value(v)}" for k, v in fields.items())])
