"""Reviewed one-shot runs of a script (`iap run`): one approval for a whole script or dump.

Owns:
- splitting a script into the statement texts its client will send, exactly as `psql -f`
  (each statement one simple Query) and the mariadb CLI reading a file (each statement one
  COM_QUERY) split it, and the hash of each text;
- the plan of a run: every statement classified and decided up front; the one approval
  request that covers them (risk: the highest class; sql: the script, shown to the approver
  once; reasons: the requester's reason and a summary), bound to the script by its hash and
  by the digest of its statements' hashes (kept in the request's params);
- waiting for the run's decision on the API (the request expires as a hold would), and its
  withdrawal by the requester;
- claiming an approved run for one tunnel session (the run's user and connection, approved
  within RUN_START_WINDOW, never used before: a compare-and-set in the store, so across
  processes and workers too) and the RunGrant that session then holds: a
  statement the policy would hold passes when its text's hash is one of the run's and its
  class is at most the run's (StatementGate.judge asks `RunGrant.covers`). A denial stays a
  denial, and the grant ends with its session.

What the split reads otherwise than the client (a psql variable, a client command, a server
mode that changes how the client splits) is simply decided as usual: a grant only ever lets
through exact texts the approver saw.
"""

from __future__ import annotations

import hashlib
import json
import re
import weakref
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import trio

from iap.approvals import ApprovalError, Approver
from iap.classify import Classification, LexState, Risk, classify
from iap.config import ConnectionConfig, GatewayConfig, Rule
from iap.context import Context
from iap.policy import Action, Decision, decide
from iap.services import Services
from iap.store.base import ApprovalRequest, AuditRecord

RUN_START_WINDOW = 300.0  # an approved run must open its session within this many seconds
MAX_SCRIPT_CHARS = 16 * 1024 * 1024
MAX_WAIT = 30.0  # the longest a GET /v1/runs/{id}?wait=... waits
RISKIEST_SHOWN = 5  # statements named in the request's reasons
RUN_KINDS = ("postgres", "mysql")
CANCELLED_BY_REQUESTER = "the requester stopped waiting"
# How the upfront classification reads MySQL text: the server's default lexing (no
# ANSI_QUOTES, backslash escapes on), as the mariadb CLI splits it. The session's real state
# decides at run time, and a class above the run's is held as usual.
MYSQL_STATE = LexState(client_encoding="utf8mb4", sql_mode="")


def statement_hash(sql: str) -> str:
    """The hash binding a run to one statement text (any text, lone surrogates included)."""
    return hashlib.sha256(sql.encode("utf-8", "surrogatepass")).hexdigest()


def _digest(hashes: list[str]) -> str:
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def _lines(script: str) -> list[str]:
    """The script's lines as a client reads them (a final newline ends the last line)."""
    lines = script.split("\n")
    if script.endswith("\n"):
        lines.pop()
    return lines


# -- psql -f -----------------------------------------------------------------------------------
#
# psql reads the file line by line and lexes each line on its own (src/bin/psql/mainloop.c,
# psqlscan.l): whitespace and `--` comments before a statement are dropped, an empty line
# outside a quote is skipped, lines are joined with "\n", and a `;` outside quotes, parentheses
# and a BEGIN ... END function body ends the statement (sent with the `;`). A backslash
# command is the client's own; `\g` sends the buffer; COPY ... FROM STDIN reads the next lines
# as data up to `\.`; `SET standard_conforming_strings` changes how '...' is read.

_INITIAL, _XC, _XQ, _XE, _XB, _XD, _XDOLQ = range(7)
_PG_SPACE = " \t\n\r\f"
_PG_TOKEN = re.compile(
    r"""
      (?P<space>[ \t\n\r\f]+)
    | (?P<comment>--)
    | (?P<ccomment>/\*)
    | (?P<estring>[eE]')
    | (?P<bstring>[bBxX]')
    | (?P<nstring>[nN]')
    | (?P<ustring>[uU]&')
    | (?P<uident>[uU]&")
    | (?P<ident>[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_$\u0080-\U0010ffff]*)
    | (?P<number>(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[Ee][-+]?[0-9]+)?[A-Za-z_\u0080-\U0010ffff]?)
    | (?P<dolq>\$(?:[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*)?\$)
    | (?P<param>\$[0-9]+)
    | (?P<other>[^ \t\n\r\f\-/eEbBxXnNuU'"$\\;()A-Za-z_0-9.\u0080-\U0010ffff]+|.)
    """,
    re.VERBOSE | re.DOTALL,
)
_DOLQ = re.compile(r"\$(?:[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*)?\$")
_SEND_COMMANDS = frozenset({"g", "gx", "gset", "gexec", "gdesc", "crosstabview", "watch"})
_QUIT_COMMANDS = frozenset({"q", "quit"})
_RESET_COMMANDS = frozenset({"r", "reset"})
# psql 15's commands (any \d...: the describe family); an unknown one throws its line away
_PSQL_COMMANDS = _SEND_COMMANDS | _QUIT_COMMANDS | _RESET_COMMANDS | frozenset(
    {
        "a", "c", "connect", "C", "cd", "conninfo", "copy", "copyright", "e", "edit", "echo",
        "ef", "elif", "else", "endif", "encoding", "errverbose", "ev", "f", "h", "help", "H",
        "html", "i", "include", "if", "ir", "include_relative", "l", "l+", "list", "list+",
        "lo_export", "lo_import", "lo_list", "lo_unlink", "o", "out", "p", "print", "password",
        "prompt", "pset", "qecho", "restrict", "s", "set", "setenv", "sf", "sf+", "sv", "sv+",
        "t", "T", "timing", "unrestrict", "unset", "w", "write", "warn", "x", "z", "z+", "!",
        "?",
    }
)  # fmt: skip
# commands whose arguments end at a `\\` (the others read the rest of the line)
_ARGS_COMMANDS = _PSQL_COMMANDS - {"copy", "!", "h", "help", "ef", "ev", "sf", "sf+", "sv", "sv+"}
_STD_STRINGS = re.compile(
    r"\s*(?:set\s+(?:session\s+)?standard_conforming_strings\s*(?:=|to)\s*'?(\w+)'?"
    r"|reset\s+(standard_conforming_strings|all))\s*;?\s*",
    re.IGNORECASE,
)
_ON = frozenset({"on", "true", "yes", "1"})
_OFF = frozenset({"off", "false", "no", "0"})


class _Psql:
    """psql's main loop and lexer, as far as where statements begin and end."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.buf: list[str] = []
        self.size = 0  # characters in buf
        self.added_nl = -1  # size right after the newline joining the current line
        self.state = _INITIAL
        self.xc_depth = 0
        self.dolq = ""
        self.paren = 0
        self.begin = 0
        self.idents = 0
        self.first_idents = ""  # first letters of create/or/replace/function/procedure
        self.first_word = ""  # of the statement, and whether FROM STDIN follows (a COPY)
        self.last_word = ""
        self.from_stdin = False
        self.std_strings = True
        self.copies = 0  # COPY FROM STDIN sent on this line: data blocks follow it
        self.previous = ""
        self.quit = False

    def add(self, text: str) -> None:
        if text:
            self.buf.append(text)
            self.size += len(text)

    def split(self, script: str) -> list[str]:
        lines = iter(_lines(script))
        for line in lines:
            if line == "" and self.state == _INITIAL:
                continue  # mainloop.c: an empty line outside a quote is ignored
            if self.size:
                self.add("\n")
                self.added_nl = self.size
            self.line(line)
            if self.quit:
                return self.out
            for _ in range(self.copies):
                _skip_copy_data(lines)
            self.copies = 0
        if self.size:
            self.send()  # the end of the file sends what is left, without a `;`
        return self.out

    def send(self) -> None:
        text = "".join(self.buf) or self.previous  # `\g` alone sends the previous query again
        self.out.append(text)
        self.previous = text
        if self.first_word == "copy" and self.from_stdin:
            self.copies += 1
        match = _STD_STRINGS.fullmatch(text)
        if match:
            value = (match.group(1) or "on").lower()
            if value in _ON or match.group(2):
                self.std_strings = True
            elif value in _OFF:
                self.std_strings = False
        self.buf, self.size, self.added_nl = [], 0, -1
        self.forget()

    def forget(self) -> None:
        """What the lexer knows of the statement under way (psql_scan_reset)."""
        self.paren = self.begin = self.idents = 0
        self.first_idents = self.first_word = self.last_word = ""
        self.from_stdin = False

    def line(self, line: str) -> None:
        i, n = 0, len(line)
        while i < n:
            if self.state != _INITIAL:
                i = self.quoted(line, i)
                continue
            ch = line[i]
            if ch == "\\":
                i = self.backslash(line, i)
                continue
            if ch == ";":
                self.add(";")
                i += 1
                if self.paren == 0 and self.begin == 0:
                    self.send()
                continue
            match = _PG_TOKEN.match(line, i)
            assert match is not None  # `other` matches any character
            kind, text = match.lastgroup, match.group()
            i = match.end()
            if kind == "space":
                if self.size:
                    self.add(text)
            elif kind == "comment":
                if self.size:
                    self.add(line[match.start() :])
                return
            elif kind == "ident":
                self.word(text)
                self.add(text)
            elif kind == "dolq":
                self.state, self.dolq = _XDOLQ, text
                self.add(text)
            else:
                self.add(text)
                self.open_quote(kind, text)

    def open_quote(self, kind: str | None, text: str) -> None:
        """A token that may open a comment, string or quoted identifier, or nest parentheses."""
        if kind == "ccomment":
            self.state, self.xc_depth = _XC, 1
        elif kind == "estring":
            self.state = _XE
        elif kind == "nstring" or text == "'":
            self.state = _XQ if self.std_strings else _XE
        elif kind == "ustring":
            self.state = _XQ  # U&'...': no backslash escapes, as in a standard string
        elif kind == "bstring":
            self.state = _XB
        elif kind == "uident" or text == '"':
            self.state = _XD
        elif text == "(":
            self.paren += 1
        elif text == ")" and self.paren > 0:
            self.paren -= 1

    def word(self, text: str) -> None:
        """psqlscan.l's heuristic for CREATE [OR REPLACE] FUNCTION|PROCEDURE ... BEGIN ... END:
        semicolons inside the body do not end the statement."""
        lower = text.lower()
        if self.paren == 0:
            self.first_word = self.first_word or lower
            self.from_stdin |= self.last_word == "from" and lower == "stdin"
            self.last_word = lower
        if self.idents == 0:
            self.first_idents = ""
        if self.idents < 4:
            self.first_idents += (
                lower[0] if lower in ("create", "function", "procedure", "or", "replace") else " "
            )
        self.idents += 1
        f = self.first_idents
        is_routine = f[:2] in ("cf", "cp") or f[:4] in ("corf", "corp")
        if is_routine and self.paren == 0:
            if lower == "begin" or (lower == "case" and self.begin >= 1):
                self.begin += 1  # (CASE ends with END too: counted inside a body only)
            elif lower == "end" and self.begin > 0:
                self.begin -= 1

    def quoted(self, line: str, i: int) -> int:
        """Inside a comment, string, quoted identifier or dollar quote: where it goes on."""
        state, n = self.state, len(line)
        if state == _XC:
            j = i
            while j < n:
                pair = line[j : j + 2]
                if pair == "/*":
                    self.xc_depth += 1
                    j += 2
                elif pair == "*/":
                    self.xc_depth -= 1
                    j += 2
                    if self.xc_depth == 0:
                        self.state = _INITIAL
                        break
                else:
                    j += 1
            self.add(line[i:j])
            return j
        if state == _XDOLQ:
            j = i
            while True:
                at = line.find("$", j)
                if at < 0:
                    self.add(line[i:])
                    return n
                match = _DOLQ.match(line, at)
                if match is None:
                    j = at + 1
                elif match.group() == self.dolq:
                    self.state = _INITIAL
                    self.add(line[i : match.end()])
                    return match.end()
                else:
                    j = match.end() - 1  # its last `$` may open the closing delimiter
        quote = '"' if state == _XD else "'"
        j = i
        while j < n:
            ch = line[j]
            if ch == "\\" and state == _XE:
                j += 2
                continue
            if ch == quote:
                if state != _XB and line[j + 1 : j + 2] == quote:
                    j += 2  # a doubled quote stays inside
                    continue
                self.state = _INITIAL
                j += 1
                break
            j += 1
        j = min(j, n)
        self.add(line[i:j])
        return j

    def backslash(self, line: str, i: int) -> int:
        """A backslash outside quotes: `\\;` and `\\:` put the character in the query; else a
        command of psql's own, up to the end of the line or a `\\\\`."""
        nxt = line[i + 1 : i + 2]
        if nxt in (";", ":"):
            self.add(nxt)
            if nxt == ";":
                self.idents = 0
            return i + 2
        name_end = i + 1
        while name_end < len(line) and line[name_end] not in _PG_SPACE + "\\":
            name_end += 1
        name = line[i + 1 : name_end]
        if name in _ARGS_COMMANDS or name.startswith("d"):
            end, stop = _meta_end(line, name_end)
        else:  # unknown, or reads the whole line
            end = stop = len(line)
        if self.size == self.added_nl and self.added_nl >= 0:
            self.buf.pop()  # a line holding only a command adds no newline to the query
            self.size -= 1
        self.added_nl = -1
        args = line[name_end:end]
        if name in _SEND_COMMANDS:
            self.send()
        elif name in _RESET_COMMANDS:
            self.buf, self.size = [], 0
            self.forget()
        elif name in _QUIT_COMMANDS:
            self.quit = True
            return len(line)
        elif name == "copy" and re.search(r"\bfrom\s+stdin\b", args, re.IGNORECASE):
            self.copies += 1  # `\copy ... from stdin` reads its data from the script too
        return stop


def _meta_end(line: str, start: int) -> tuple[int, int]:
    """Where a backslash command's arguments end, and where lexing goes on: the end of the
    line, or an unquoted `\\\\` (which ends the command)."""
    quote = ""
    i = start
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == "'":
                i += 1
        elif ch in "'\"`":
            quote = ch
        elif line.startswith("\\\\", i):
            return i, i + 2
        i += 1
    return len(line), len(line)


def _skip_copy_data(lines: Iterator[str]) -> None:
    """psql's COPY ... FROM STDIN reads the lines after its statement up to `\\.`."""
    for line in lines:
        if line in ("\\.", "\\.\r"):
            return


def split_psql(script: str) -> list[str]:
    """The Query texts `psql -f` sends for script, in order."""
    return _Psql().split(script)


# -- the mariadb CLI ---------------------------------------------------------------------------
#
# client/mysql.cc (batch mode, comments not preserved): lines are read without their "\n" (and
# a final "\r"); a line that is a client command while nothing is buffered (`delimiter ;;`,
# `use db`, `status`) is the client's; otherwise `add_line` copies it into the buffer, dropping
# spaces before a statement, `#` and `-- ` comments and /* */ comments (not /*! */ or /*M! */,
# which the server reads), ends the statement at the delimiter outside strings, and runs
# `\g`-style commands. A statement is sent without its delimiter and trailing whitespace.

_MY_SPACE = " \t\n\r\v\f"
_MY_TRAILING = "".join(map(chr, range(33))) + "\x7f"  # what com_go() strips from the end
# command name -> (its \x character, whether it takes arguments); those with a function
_MY_COMMANDS = {
    "?": ("?", True),
    "charset": ("C", True),
    "clear": ("c", False),
    "connect": ("r", True),
    "delimiter": ("d", True),
    "edit": ("e", False),
    "ego": ("G", False),
    "exit": ("q", False),
    "go": ("g", False),
    "help": ("h", True),
    "nopager": ("n", False),
    "notee": ("t", False),
    "nowarning": ("w", False),
    "pager": ("P", True),
    "print": ("p", False),
    "prompt": ("R", True),
    "quit": ("q", False),
    "rehash": ("#", False),
    "sandbox": ("-", False),
    "source": (".", True),
    "status": ("s", False),
    "system": ("!", True),
    "tee": ("T", True),
    "use": ("u", True),
    "warnings": ("W", False),
}
_MY_CHARS = {char: (name, params) for name, (char, params) in _MY_COMMANDS.items()}


class _Mariadb:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.buf: list[str] = []
        self.in_string = ""
        self.ml_comment = False
        self.delimiter = ";"
        self.quit = False

    def split(self, script: str) -> list[str]:
        for number, raw in enumerate(_lines(script)):
            line = raw[:-1] if raw.endswith("\r") else raw
            if number == 0 and line.startswith("\ufeff"):
                line = line[1:]  # a UTF-8 byte order mark
            if not self.buf and not self.ml_comment and not self.in_string:
                command = self.command(line)
                if command is not None:
                    self.run_command(command, line)
                    if self.quit:
                        return self.out
                    continue
            self.add_line(line)
            if self.quit:
                return self.out
        self.go()  # the end of the input sends what is left
        return self.out

    def command(self, text: str) -> str | None:
        """find_command(): the client command text is, if it is one."""
        name = text.lstrip(_MY_SPACE)
        if "\\g" in name or (self.delimiter in name and not _is_delimiter_command(name)):
            return None
        cut = min((p for p in (name.find(" "), name.find("\t")) if p >= 0), default=-1)
        word, has_args = (
            (name[:cut], bool(name[cut:].strip(_MY_SPACE))) if cut >= 0 else (name, False)
        )
        found = _MY_COMMANDS.get(word.lower())
        if found is None or (has_args and not found[1]):
            return None
        return word.lower()

    def run_command(self, name: str, text: str) -> None:
        if name == "delimiter":
            arg = _command_arg(text)
            if arg and "\\" not in arg:
                self.delimiter = arg
        elif name == "clear":
            self.buf = []
        elif name in ("quit", "exit"):
            self.quit = True
        elif name in ("go", "ego"):
            self.go()

    def go(self) -> None:
        """com_go(): send the buffer without trailing whitespace (nothing when empty)."""
        text = "".join(self.buf).rstrip(_MY_TRAILING)
        self.buf = []
        if text:
            self.out.append(text)

    def add_line(self, line: str) -> None:
        pending: list[str] = []  # `out` in add_line(): the line's accepted characters
        need_space = ss_comment = False
        i, n = 0, len(line)

        def flush() -> None:
            self.buf.extend(pending)
            pending.clear()

        while i < n:
            ch = line[i]
            if ch in _MY_SPACE and not pending and not self.buf:
                i += 1  # spaces before a statement
                continue
            if ord(ch) >= 0x80:  # a multibyte character, copied as it is
                if not self.ml_comment:
                    pending.append(ch)
                i += 1
                continue
            if ch == "\\" and not self.ml_comment and self.in_string != "`":
                i += 1
                if i >= n:
                    break  # a backslash ending the line is dropped
                nxt = line[i]
                if self.in_string or nxt == "N":
                    pending.append("\\" + nxt)
                    i += 1
                    continue
                known = _MY_CHARS.get(nxt)
                if known is None:
                    pending.append("\\" + nxt)
                    i += 1
                    continue
                flush()
                name, params = known
                if name in ("go", "ego"):
                    self.go()
                elif name == "clear":
                    self.buf = []
                elif name in ("quit", "exit"):
                    self.quit = True
                    return
                elif name == "delimiter":
                    arg = _command_arg(line[i - 1 :])
                    if arg and "\\" not in arg:
                        self.delimiter = arg
                i += 1
                if params:
                    if ss_comment:
                        end = line.find("*/", i)
                        i = n if end < 0 else end
                    else:
                        end = line.find(self.delimiter, i)
                        i = n if end < 0 else end + len(self.delimiter)
                continue
            if not self.ml_comment and not self.in_string and line.startswith(self.delimiter, i):
                i += len(self.delimiter)
                flush()
                text = "".join(self.buf)
                command = self.command(text)
                if command is not None:
                    self.buf = []
                    self.run_command(command, text)
                    if self.quit:
                        return
                else:
                    self.go()
                continue
            if (
                not self.ml_comment
                and not self.in_string
                and (
                    ch == "#"
                    or (
                        line.startswith("--", i)
                        and (
                            i + 2 >= n or line[i + 2] in _MY_SPACE or (not self.buf and not pending)
                        )
                    )
                )
            ):
                flush()
                break  # a comment to the end of the line
            if (
                not self.in_string
                and line.startswith("/*", i)
                and not line.startswith(("/*!", "/*M!"), i)
            ):
                i += 2
                self.ml_comment = True
                flush()
                continue
            if self.ml_comment and not ss_comment and line.startswith("*/", i):
                i += 2
                self.ml_comment = False
                flush()
                need_space = True
                continue
            if not self.in_string and line.startswith("/*!", i):
                ss_comment = True
            elif not self.in_string and ss_comment and line.startswith("*/", i):
                ss_comment = False
            if ch == self.in_string:
                self.in_string = ""
            elif not self.ml_comment and not self.in_string and ch in "'\"`":
                self.in_string = ch
            if not self.ml_comment:
                if need_space and ch not in _MY_SPACE:
                    pending.append(" ")
                need_space = False
                pending.append(ch)
            i += 1
        if pending or self.buf:
            accepted = "".join(pending)
            if not _is_delimiter_command(accepted) or self.in_string or self.ml_comment:
                accepted += "\n"
            if not self.ml_comment:
                self.buf.append(accepted)


def _is_delimiter_command(text: str) -> bool:
    return text[:9].lower() == "delimiter"


def _command_arg(text: str) -> str:
    """get_arg(): the first argument after a command's name or `\\x` (quoted, or up to a
    space); empty when there is none."""
    rest = text.lstrip(_MY_SPACE)
    if rest.startswith("\\"):
        rest = rest[2:]
    else:
        rest = rest[next((k for k, c in enumerate(rest) if c in _MY_SPACE), len(rest)) :]
    rest = rest.lstrip(_MY_SPACE)
    if rest[:1] in ("'", '"', "`"):
        end = rest.find(rest[0], 1)
        return rest[1:end] if end > 0 else ""
    return rest.split(" ", 1)[0]


def split_mariadb(script: str) -> list[str]:
    """The COM_QUERY texts the mariadb CLI sends when it reads script, in order."""
    return _Mariadb().split(script)


def split(script: str, kind: str) -> list[str]:
    """The statements the client `iap run` starts for this kind of connection sends."""
    if kind == "postgres":
        return split_psql(script)
    if kind == "mysql":
        return split_mariadb(script)
    raise ValueError(f"no run client for connection kind {kind!r}")


# -- the plan and its approval request -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlannedStatement:
    number: int  # 1-based, in the order the client sends them
    sql: str
    risk: Risk
    reasons: tuple[str, ...]
    decision: Decision


@dataclass(frozen=True, slots=True)
class RunPlan:
    """Every statement of a script, classified and decided as the connection's policy would."""

    statements: tuple[PlannedStatement, ...]

    @property
    def risk(self) -> Risk:
        return Risk.highest(s.risk for s in self.statements)

    @property
    def denied(self) -> PlannedStatement | None:
        return next((s for s in self.statements if s.decision.action is Action.DENY), None)

    @property
    def held(self) -> tuple[PlannedStatement, ...]:
        return tuple(s for s in self.statements if s.decision.action is Action.HOLD)

    @property
    def hashes(self) -> list[str]:
        return [statement_hash(s.sql) for s in self.statements]

    def counts(self) -> dict[str, int]:
        found = Counter(s.risk.value for s in self.statements)
        return {risk.value: found[risk.value] for risk in Risk if found[risk.value]}

    def rule(self) -> Rule:
        """The rule the run's request follows: that of the highest held class, unless a
        held statement's rule asks for more (a peer, more approvers); the freshest code any
        of them asks for."""
        held = self.held
        assert held, "a run with nothing held needs no approval"

        def demands(s: PlannedStatement) -> tuple[bool, int, int]:
            rule = s.decision.rule
            assert rule is not None
            return (rule.approval == "peer", rule.min_approvals, s.risk.rank)

        chosen = max(held, key=demands).decision.rule
        assert chosen is not None
        max_age = min(s.decision.rule.max_age for s in held if s.decision.rule is not None)
        return chosen.model_copy(update={"max_age": max_age})

    def summary(self, reason: str) -> tuple[str, ...]:
        """The request's reasons: the requester's, the counts, the riskiest statements."""
        counts = ", ".join(f"{n} {risk}" for risk, n in reversed(self.counts().items()))
        riskiest = sorted(self.statements, key=lambda s: (-s.risk.rank, s.number))
        named = [
            f"statement {s.number} ({s.risk.value}): {_one_line(s.sql)}"
            + (f" [{s.reasons[0]}]" if s.reasons else "")
            for s in riskiest[:RISKIEST_SHOWN]
            if s.decision.action is Action.HOLD
        ]
        return (
            f"reason: {reason}",
            f"iap run of {len(self.statements)} statements: {counts}",
            *named,
        )


def _one_line(sql: str, width: int = 100) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def plan_run(
    config: GatewayConfig,
    *,
    user: str,
    roles: tuple[str, ...],
    connection: ConnectionConfig,
    script: str,
    context: Context | None = None,
) -> RunPlan:
    """Split the script as its client will, classify and decide every statement (pure; a
    large script takes a while: call it from a thread). `context`: the requester's."""
    dialect = connection.kind
    state = MYSQL_STATE if dialect == "mysql" else None
    safe = frozenset(config.policy.safe_functions)
    limit = config.policy.max_statement_bytes
    planned = []
    for number, sql in enumerate(split(script, dialect), start=1):
        if len(sql) > limit:
            cls = Classification(
                Risk.UNKNOWN, (), (f"{len(sql)} characters: above [policy] max_statement_bytes",)
            )
        else:
            cls = classify(sql, dialect, state=state, safe_functions=safe)
        decision = decide(
            config.effective_rules,
            user=user,
            roles=roles,
            connection=connection.name,
            risk=cls.risk,
            context=context,
        )
        planned.append(PlannedStatement(number, sql, cls.risk, cls.reasons, decision))
    return RunPlan(tuple(planned))


async def open_run(
    services: Services,
    plan: RunPlan,
    *,
    user: str,
    connection: ConnectionConfig,
    script: str,
    reason: str,
) -> ApprovalRequest:
    """The one approval request of a run (its hold is audited like a statement's)."""
    marker = {
        "run": {
            "kind": connection.kind,
            "statements": len(plan.statements),
            "digest": _digest(plan.hashes),
            "counts": plan.counts(),
        }
    }
    request = await services.approvals.open(
        user=user,
        connection=connection.name,
        session_id="",
        risk=plan.risk.value,
        sql=script,
        statement_hash=statement_hash(script),
        reasons=plan.summary(reason),
        rule=plan.rule(),
        params=[marker],
    )
    _audit(services, request, "hold", "pending")
    return request


def run_marker(request: ApprovalRequest) -> dict[str, object] | None:
    """What a run's request keeps of its plan; None for a statement's request."""
    try:
        params = json.loads(request.params) if request.params else None
    except ValueError:
        return None
    if isinstance(params, list) and len(params) == 1 and isinstance(params[0], dict):
        marker = params[0].get("run")
        if isinstance(marker, dict):
            return marker
    return None


def run_json(request: ApprovalRequest | None, plan: RunPlan | None = None) -> dict[str, object]:
    """The public shape of a run (POST and GET /v1/runs)."""
    if request is None:
        assert plan is not None
        return {
            "id": None,
            "status": "allowed",
            "risk": plan.risk.value,
            "statements": len(plan.statements),
            "counts": plan.counts(),
        }
    marker = run_marker(request) or {}
    return {
        "id": request.id,
        "status": request.status,
        "risk": request.risk,
        "statements": marker.get("statements"),
        "counts": marker.get("counts"),
        "connection": request.connection,
        "approval": request.approval,
        "approver_roles": list(request.approver_roles),
        "min_approvals": request.min_approvals,
        "approvals": list(request.approvals),
        "expires_at": request.expires_at,
        "decided_by": request.decided_by,
        "reason": request.reason,
    }


def _audit(services: Services, request: ApprovalRequest, decision: str, outcome: str) -> None:
    services.audit.put(
        AuditRecord(
            ts=services.clock(),
            user=request.user,
            connection=request.connection,
            risk=request.risk,
            decision=decision,
            request_id=request.id,
            outcome=outcome,
            error=request.reason if outcome == "blocked" else None,
            sql=request.sql,
        )
    )


@dataclass
class _Runs:
    """What one gateway process remembers of runs."""

    ended: set[str] = field(default_factory=set)  # runs whose end is audited


_STATE: weakref.WeakKeyDictionary[Services, _Runs] = weakref.WeakKeyDictionary()


def _runs(services: Services) -> _Runs:
    return _STATE.setdefault(services, _Runs())


async def _own_run(services: Services, run_id: str, who: Approver) -> ApprovalRequest:
    request = await services.approvals.get(run_id, who)  # ApprovalError 404 when not visible
    if run_marker(request) is None:
        raise ApprovalError(404, f"request {request.id} is a held statement, not a run")
    return request


def _ended(services: Services, request: ApprovalRequest) -> ApprovalRequest:
    """Audit, once, how a run's request ended without running (denied, expired, ...)."""
    state = _runs(services)
    if request.status not in ("pending", "approved") and request.id not in state.ended:
        state.ended.add(request.id)
        _audit(services, request, request.status, "blocked")
    return request


async def wait_run(services: Services, run_id: str, who: Approver, wait: float) -> ApprovalRequest:
    """The run's request once decided, or after `wait` seconds (at most MAX_WAIT); a run
    nobody decided before its rule's timeout expires here, as a held statement would."""
    request = await _own_run(services, run_id, who)
    if request.status == "pending":
        left = request.expires_at - services.clock()
        with trio.move_on_after(max(min(wait, MAX_WAIT, left), 0.0)):
            request = await services.approvals.wait(request.id)
        if request.status == "pending" and services.clock() >= request.expires_at:
            timeout = request.expires_at - request.created_at
            request = await services.approvals.finish(
                request.id, "expired", f"no decision within {timeout:g}s"
            )
    return _ended(services, request)


async def cancel_run(services: Services, run_id: str, who: Approver) -> ApprovalRequest:
    """The requester withdraws a pending run (Ctrl-C on `iap run`)."""
    request = await _own_run(services, run_id, who)
    if request.user != who.name:
        raise ApprovalError(403, f"run {request.id} is {request.user}'s to withdraw")
    if request.status == "pending":
        request = await services.approvals.finish(request.id, "cancelled", CANCELLED_BY_REQUESTER)
    return _ended(services, request)


# -- the run's session -------------------------------------------------------------------------


class RunRefused(Exception):
    """A tunnel hello names a run this session may not have (one line: why, what to do)."""


@dataclass(frozen=True, slots=True)
class RunGrant:
    """An approved run, held by the one session that claimed it."""

    id: str
    hashes: frozenset[str]
    risk: Risk  # the run's class: nothing above it passes

    @property
    def label(self) -> str:
        """How the audit log names a statement the run let through."""
        return f"run:{self.id}"

    def covers(self, sql: str, risk: Risk) -> bool:
        """True for one of the run's statement texts, of its class or below."""
        return not risk.outranks(self.risk) and statement_hash(sql) in self.hashes


async def claim(
    services: Services, run_id: str, *, user: str, connection: ConnectionConfig
) -> RunGrant:
    """The grant of an approved run, for the session a tunnel opens now (once per run)."""
    request = await trio.to_thread.run_sync(services.store.get_request, run_id.upper())
    marker = run_marker(request) if request is not None else None
    if request is None or marker is None or request.user != user:
        raise RunRefused(f"no run {run_id} of yours: start one with `iap run`")
    if request.connection != connection.name:
        raise RunRefused(f"run {request.id} is for {request.connection}, not {connection.name}")
    if request.status != "approved":
        raise RunRefused(f"run {request.id} is {request.status}, not approved")
    decided = request.decided_at or 0.0
    if services.clock() - decided > RUN_START_WINDOW:
        raise RunRefused(
            f"run {request.id} was approved more than {RUN_START_WINDOW:g}s ago: start a new"
            " `iap run`"
        )
    # Compare-and-set in the store: one session per approval, whichever process claims it.
    claimed = await trio.to_thread.run_sync(
        services.store.claim_request, request.id, services.clock()
    )
    if not claimed:
        raise RunRefused(f"run {request.id} was used already: start a new `iap run`")
    hashes = await trio.to_thread.run_sync(_statement_hashes, request.sql, connection.kind)
    if marker.get("kind") != connection.kind or marker.get("digest") != _digest(hashes):
        raise RunRefused(f"run {request.id} no longer matches its script: start a new `iap run`")
    return RunGrant(request.id, frozenset(hashes), Risk(request.risk))


def _statement_hashes(script: str, kind: str) -> list[str]:
    return [statement_hash(sql) for sql in split(script, kind)]


# A claimed grant waits here from the tunnel's hello until its session starts (the engine
# makes the Session; Session.__post_init__ takes the grant of its id).
_offered: dict[str, RunGrant] = {}


def offer(session_id: str, grant: RunGrant) -> None:
    _offered[session_id] = grant


def take(session_id: str) -> RunGrant | None:
    return _offered.pop(session_id, None)
