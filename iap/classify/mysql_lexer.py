"""MySQL/MariaDB lexing: query text -> tokens, read the way the server's lexer reads it.

Owns the faithful tokenizer pass that runs before any parser: comments (`#`, `-- ` followed
by a space or control character, non-nesting `/* */`), executable comments (`/*! */`,
`/*!NNNNN */`, MariaDB's `/*M! */` and `/*M!NNNNNN */`, whose content the server runs; a
`;` token inside one is unknown, as where the server ends the statement there is not certain),
strings with backslash escapes and doubled quotes as the session's sql_mode reads them
(NO_BACKSLASH_ESCAPES, ANSI_QUOTES, MSSQL's [brackets]), N'', X'', B'', 0x, 0b literals,
backtick identifiers, user and system variables; and splitting a multi-statement text into
statements, BEGIN ... END bodies of stored programs included. The rules follow MariaDB's
sql/sql_lex.cc (lex_one_token, get_text, consume_comment) and MySQL's where they differ.

Must never do I/O, never guess: text the server could read in more than one way, or that it
would reject while lexing, raises LexError (the classifier answers unknown). LexError never
leaves iap.classify.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

# Token kinds.
WORD = "word"  # unquoted identifier or keyword; value is upper case
QIDENT = "qident"  # `quoted` (or "quoted" under ANSI_QUOTES) identifier; value is the name
STRING = "string"  # value is the unescaped text (adjacent literals concatenated)
NUMBER = "number"
HEX = "hex"  # X'..' or 0x..
BIN = "bin"  # B'..' or 0b..
VAR = "var"  # @name; value is the name
SYSVAR = "sysvar"  # @@[scope.]name; value is the lower-case text after @@
PARAM = "param"  # ?
OP = "op"  # punctuation and operators; value is the operator
# A value: a literal, a parameter or a variable (never a name, a keyword or an operator).
VALUE_KINDS = frozenset({STRING, NUMBER, HEX, BIN, PARAM, VAR, SYSVAR})


class Token(NamedTuple):
    kind: str
    text: str  # the source text
    value: str
    start: int  # offsets in the query text
    end: int


class LexError(Exception):
    """The text cannot be read with certainty (the reason is the message)."""


@dataclass(frozen=True, slots=True)
class Mode:
    """The sql_mode flags that change lexing."""

    ansi_quotes: bool = False
    backslash_escapes: bool = True
    mssql_brackets: bool = False


@dataclass(frozen=True, slots=True)
class Gate:
    """A version-gated executable comment: /*!NNNNN (mysql) or /*M![NNNNNN] (maria)."""

    maria: bool
    version: int | None  # None: /*M! without a version


# A server a reading assumes: ("mariadb" | "mysql", version id such as 101106 or 80036).
Server = tuple[str, int]
MIN_SERVER_VERSION = 50000  # MySQL 5.0: nothing older is supported
MAX_SERVER_VERSION = 199999  # no server of version 20 or later exists yet


def gate_runs(gate: Gate, server: Server) -> bool:
    """True when server runs the content of a gated executable comment."""
    family, version = server
    if gate.maria:
        return family == "mariadb" and (gate.version is None or gate.version <= version)
    assert gate.version is not None
    if family == "mariadb":  # MariaDB skips MySQL 5.7+ comments (sql_lex.cc)
        return gate.version <= version and not 50700 <= gate.version <= 99999
    return gate.version <= version


class Lexed(NamedTuple):
    tokens: list[Token]
    gates: list[Gate]


_IDENT = "0-9A-Za-z_$\u0080-\U0010ffff"
_IDENT_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_$")
_SPACE = re.compile(r"[ \t\n\r\x0b\x0c]+")
_SPACE_CHARS = frozenset(" \t\n\r\x0b\x0c")
_WORD = re.compile(f"[{_IDENT}]+")
_RADIX = re.compile(r"0x(?P<hex>[0-9A-Fa-f]+)|0b(?P<bin>[01]+)")
_DIGITS = re.compile(r"[0-9]+")
_DIGITS_OPT = re.compile(r"[0-9]*")
_EXPONENT = re.compile(r"[eE][+-]?[0-9]+")
_HEX_STRING = re.compile(r"[xX]'([0-9A-Fa-f]*)'")
_BIN_STRING = re.compile(r"[bB]'([01]*)'")
_HOSTNAME = re.compile(r"[0-9A-Za-z_.$]+")
_SYSVAR = re.compile(f"@@([{_IDENT}]+(?:\\.[{_IDENT}]+)*)")
_VERSION = re.compile(r"[0-9]{5,}")
_OPERATOR = re.compile(
    r"<=>|<<|>>|<=|>=|<>|!=|:=|&&|\|\||->>|->|=>|\.\.|[-+*/%=<>!~^&|(),;{}\[\]:]"
)
_STRINGS_ESCAPED = {q: re.compile(f"{q}((?:[^{q}\\\\]++|\\\\[\\s\\S]|{q}{q})*+){q}") for q in "'\""}
_STRINGS_RAW = {q: re.compile(f"{q}((?:[^{q}]++|{q}{q})*+){q}") for q in "'\""}
_DELIMITED = {q: re.compile(f"\\{q}((?:[^{q}]++|{q}{q})*+){q}".replace("\\`", "`")) for q in '`"'}
_BRACKETED = re.compile(r"\[([^\]]*)\]")
# The common tokens in one pattern; everything else goes through _Lexer._token.
_COMMON = re.compile(
    r"[ \t\n\r\x0b\x0c]*(?:"
    f"(?P<word>(?![xXbBnN]')[A-Za-z_$\u0080-\U0010ffff][{_IDENT}]*)"
    f"|(?P<int>[1-9][0-9]*|0)(?![{_IDENT}.])"
    r"|(?P<op><=>|<<|>>|<=|>=|<>|!=|:=|&&|\|\||[=<>+%,();~^&|!])"
    r"|(?P<space>(?=[^ \t\n\r\x0b\x0c]|\Z)))"
)
_ESCAPES = {
    "0": "\0",
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "Z": "\x1a",
    "%": "\\%",
    "_": "\\_",
}


def unescape(body: str, quote: str, backslash_escapes: bool) -> str:
    """The value of a string literal's body as the server reads it (my_unescape)."""
    if backslash_escapes and "\\" in body:
        # Doubled quotes and backslash pairs never overlap: scan once, left to right.
        out: list[str] = []
        i, n = 0, len(body)
        while i < n:
            c = body[i]
            if c == "\\" and i + 1 < n:
                out.append(_ESCAPES.get(body[i + 1], body[i + 1]))
                i += 2
            elif c == quote:  # the second of a doubled quote follows
                out.append(quote)
                i += 2
            else:
                out.append(c)
                i += 1
        return "".join(out)
    return body.replace(quote + quote, quote) if quote in body else body


_SEMICOLON_IN_EXECUTABLE = (
    "a ; inside an executable comment /*! */: where the server ends the statement there is"
    " not certain"
)


def _consume_comment(sql: str, pos: int, nested: bool) -> int:
    """The offset after the */ that closes a comment whose body starts at pos.

    nested: one regular /* */ may sit inside (a skipped version comment, consume_comment(1)).
    """
    n = len(sql)
    while pos < n:
        star = sql.find("*/", pos)
        if star < 0:
            break
        if nested:
            inner = sql.find("/*", pos, star)
            if inner >= 0:
                pos = _consume_comment(sql, inner + 2, nested=False)
                continue
        return star + 2
    raise LexError("a /* comment is not closed")


def _ident_at(sql: str, pos: int) -> bool:
    """True when sql[pos] is an identifier character (ASCII word characters, $, non-ASCII)."""
    return pos < len(sql) and (sql[pos] in _IDENT_CHARS or not sql[pos].isascii())


def _line_end(sql: str, pos: int) -> int:
    end = sql.find("\n", pos)
    return len(sql) if end < 0 else end


class _Lexer:
    """One pass over a text under one sql_mode and one assumed server version."""

    def __init__(self, sql: str, mode: Mode, server: Server) -> None:
        self.sql = sql
        self.mode = mode
        self.server = server
        self.tokens: list[Token] = []
        self.gates: list[Gate] = []
        self.in_executable = False
        self.strings = _STRINGS_ESCAPED if mode.backslash_escapes else _STRINGS_RAW

    def run(self) -> Lexed:
        sql, n = self.sql, len(self.sql)
        tokens = self.tokens
        common = _COMMON.match
        pos = 0
        while pos < n:
            m = common(sql, pos)
            if m is not None:
                kind = m.lastgroup
                end = m.end()
                if kind == "word":
                    start = m.start(kind)
                    text = m.group(kind)
                    tokens.append(Token(WORD, text, text.upper(), start, end))
                    while end < n and sql[end] == "." and _ident_at(sql, end + 1):
                        # t.1x: after an identifier and a dot comes an identifier (IDENT_SEP)
                        tokens.append(Token(OP, ".", ".", end, end + 1))
                        m = _WORD.match(sql, end + 1)
                        assert m is not None
                        text, start, end = m.group(), end + 1, m.end()
                        tokens.append(Token(WORD, text, text.upper(), start, end))
                    pos = end
                    continue
                if kind == "int":
                    text = m.group(kind)
                    tokens.append(Token(NUMBER, text, text, end - len(text), end))
                    pos = end
                    continue
                if kind == "op":
                    text = m.group(kind)
                    if text == ";" and self.in_executable:
                        raise LexError(_SEMICOLON_IN_EXECUTABLE)
                    tokens.append(Token(OP, text, text, end - len(text), end))
                    pos = end
                    continue
                pos = end  # whitespace before something the long way reads
                if pos >= n:
                    break
            c = sql[pos]
            if c in _SPACE_CHARS:
                pos = _SPACE.match(sql, pos).end()  # type: ignore[union-attr]
            elif c == "#" or (
                c == "-" and sql.startswith("--", pos) and self._dash_comment(pos + 2)
            ):
                pos = _line_end(sql, pos)
            elif c == "/" and sql.startswith("/*", pos):
                pos = self._comment(pos)
            elif c == "*" and self.in_executable and sql.startswith("*/", pos):
                self.in_executable = False
                pos += 2
            else:
                pos = self._token(pos)
        if self.in_executable:
            raise LexError("an executable comment /*! is not closed")
        return Lexed(self.tokens, self.gates)

    def _dash_comment(self, after: int) -> bool:
        """`--` starts a comment when followed by a space, a control character or the end."""
        if after >= len(self.sql):
            return True
        c = self.sql[after]
        if not c.isascii():
            raise LexError(
                "`--` followed by a non-ASCII character: its reading depends on the charset"
            )
        return c <= " " or c == "\x7f"

    def _comment(self, pos: int) -> int:
        sql = self.sql
        maria = sql.startswith("/*M!", pos)
        if not (maria or sql.startswith("/*!", pos)):
            end = _consume_comment(sql, pos + 2, nested=False)
            if sql.startswith("/*+", pos) and "SET_VAR" in sql[pos:end].upper():
                raise LexError("optimizer hint SET_VAR changes settings for the statement")
            return end
        body = pos + (4 if maria else 3)
        digits = _VERSION.match(sql, body)
        version: int | None = None
        if digits:
            if not maria and digits.end() - body > 5:
                raise LexError(
                    "a 6-digit version comment /*!NNNNNN is read differently by MySQL and MariaDB"
                )
            length = min(digits.end() - body, 6)
            version = int(sql[body : body + length])
            body += length
        if version is None and not maria:
            runs = True  # /*! without a version: every server runs it
        else:
            gate = Gate(maria, version)
            self.gates.append(gate)
            runs = gate_runs(gate, self.server)
        if runs:
            self.in_executable = True
            return body
        # A skipped version comment may hold one /* */ inside; to MySQL, /*M! is a plain
        # comment that the first */ closes.
        return _consume_comment(sql, body, nested=not (maria and self.server[0] == "mysql"))

    def _add(self, kind: str, start: int, end: int, value: str) -> int:
        self.tokens.append(Token(kind, self.sql[start:end], value, start, end))
        return end

    def _token(self, pos: int) -> int:
        sql = self.sql
        c = sql[pos]
        nxt = sql[pos + 1 : pos + 2]
        if c == "'" or (c == '"' and not self.mode.ansi_quotes):
            return self._string(pos, pos)
        if c == "`" or c == '"':
            return self._delimited(pos, QIDENT)
        if c == "[" and self.mode.mssql_brackets:
            m = _BRACKETED.match(sql, pos)
            if m is None:
                raise LexError("a [bracketed] identifier is not closed")
            return self._add(QIDENT, pos, m.end(), m.group(1))
        if nxt == "'" and c in "xXbBnN":
            return self._prefixed(pos, c)
        if "0" <= c <= "9":
            return self._number(pos)
        if c == ".":
            return self._point(pos)
        if c in _IDENT_CHARS or not c.isascii():
            return self._word(pos)
        if c == "@":
            return self._variable(pos)
        if c == "?":
            return self._add(PARAM, pos, pos + 1, "?")
        if c == "\\" and nxt == "N":
            return self._add(WORD, pos, pos + 2, "NULL")
        m = _OPERATOR.match(sql, pos)
        if m is None:
            raise LexError(f"unexpected character {c!r} at offset {pos}")
        if m.group() == ";" and self.in_executable:
            raise LexError(_SEMICOLON_IN_EXECUTABLE)
        return self._add(OP, pos, m.end(), m.group())

    def _string(self, start: int, pos: int) -> int:
        """A string literal at pos (start: where its token begins, before N or an introducer)."""
        quote = self.sql[pos]
        m = self.strings[quote].match(self.sql, pos)
        if m is None:
            raise LexError("a string literal is not closed")
        value = unescape(m.group(1), quote, self.mode.backslash_escapes)
        previous = self.tokens[-1] if self.tokens else None
        if previous is not None and previous.kind == STRING and start == pos:
            # 'a' 'b' is one literal 'ab' (text_literal in the grammar)
            self.tokens[-1] = Token(
                STRING, self.sql[previous.start : m.end()], previous.value + value,
                previous.start, m.end(),
            )  # fmt: skip
            return m.end()
        return self._add(STRING, start, m.end(), value)

    def _delimited(self, pos: int, kind: str) -> int:
        quote = self.sql[pos]
        m = _DELIMITED[quote].match(self.sql, pos)
        if m is None:
            raise LexError("a quoted identifier is not closed")
        return self._add(kind, pos, m.end(), m.group(1).replace(quote + quote, quote))

    def _prefixed(self, pos: int, c: str) -> int:
        if c in "nN":
            return self._string(pos, pos + 1)
        m = (_HEX_STRING if c in "xX" else _BIN_STRING).match(self.sql, pos)
        if m is None or (c in "xX" and len(m.group(1)) % 2):
            raise LexError(f"malformed {c.upper()}'...' literal")
        return self._add(HEX if c in "xX" else BIN, pos, m.end(), m.group(1))

    def _number(self, pos: int) -> int:
        """A number, or an identifier that starts with digits (MY_LEX_NUMBER_IDENT)."""
        sql = self.sql
        m = _RADIX.match(sql, pos)
        if m is not None:  # 0x1F, 0b101 (lower-case prefix only)
            if _ident_at(sql, m.end()):
                return self._word(pos)
            kind = HEX if m.group("hex") else BIN
            return self._add(kind, pos, m.end(), m.group("hex") or m.group("bin"))
        end = _DIGITS.match(sql, pos).end()  # type: ignore[union-attr]
        after = sql[end : end + 1]
        if after in ("e", "E"):
            exponent = _EXPONENT.match(sql, end)
            if exponent is not None:
                return self._add(NUMBER, pos, exponent.end(), sql[pos : exponent.end()])
            if sql[end + 1 : end + 2] in ("+", "-"):
                raise LexError("malformed number")
            return self._word(pos)  # 1e, 12east: identifiers
        if _ident_at(sql, end):
            return self._word(pos)  # 123abc: an identifier
        if after == "." and sql[end + 1 : end + 2] != ".":
            return self._real(pos, end + 1)
        return self._add(NUMBER, pos, end, sql[pos:end])

    def _real(self, pos: int, fraction: int) -> int:
        """A decimal number whose fraction digits start at fraction (MY_LEX_REAL)."""
        sql = self.sql
        end = _DIGITS_OPT.match(sql, fraction).end()  # type: ignore[union-attr]
        if sql[end : end + 1] in ("e", "E"):
            exponent = _EXPONENT.match(sql, end)
            if exponent is None:
                raise LexError("malformed number")
            end = exponent.end()
        return self._add(NUMBER, pos, end, sql[pos:end])

    def _point(self, pos: int) -> int:
        sql = self.sql
        previous = self.tokens[-1] if self.tokens else None
        after = sql[pos + 1 : pos + 2]
        if (
            previous is not None
            and previous.kind == WORD
            and previous.end == pos
            and _ident_at(sql, pos + 1)
        ):
            # t.1x: after an identifier and a dot comes an identifier, never a number
            self._add(OP, pos, pos + 1, ".")
            return self._word(pos + 1)
        if "0" <= after <= "9" and after:
            return self._real(pos, pos + 1)
        if after == ".":
            return self._add(OP, pos, pos + 2, "..")
        return self._add(OP, pos, pos + 1, ".")

    def _word(self, pos: int) -> int:
        m = _WORD.match(self.sql, pos)
        assert m is not None
        return self._add(WORD, pos, m.end(), m.group().upper())

    def _variable(self, pos: int) -> int:
        sql = self.sql
        nxt = sql[pos + 1 : pos + 2]
        if nxt == "@":
            m = _SYSVAR.match(sql, pos)
            if m is None:
                raise LexError("a @@variable without a name")
            return self._add(SYSVAR, pos, m.end(), m.group(1).lower())
        if nxt in ("'", '"', "`"):
            # @'name': the name is lexed as a string or a quoted identifier, never merged
            if nxt == "`" or (nxt == '"' and self.mode.ansi_quotes):
                m = _DELIMITED[nxt].match(sql, pos + 1)
                if m is None:
                    raise LexError("a quoted identifier is not closed")
                name = m.group(1).replace(nxt + nxt, nxt)
            else:
                m = self.strings[nxt].match(sql, pos + 1)
                if m is None:
                    raise LexError("a string literal is not closed")
                name = unescape(m.group(1), nxt, self.mode.backslash_escapes)
            return self._add(VAR, pos, m.end(), name)
        m = _HOSTNAME.match(sql, pos + 1)
        if m is None:
            raise LexError("a @ without a variable or host name")
        return self._add(VAR, pos, m.end(), m.group())


def lex(sql: str, mode: Mode, server: Server = ("mariadb", MAX_SERVER_VERSION)) -> Lexed:
    """The tokens of sql under mode, running the gated comments server would run."""
    return _Lexer(sql, mode, server).run()


# ----------------------------------------------------------------------------- statements

# Words that open a block at the start of a statement inside a stored program body.
_BLOCK_OPENERS = {"BEGIN": "begin", "IF": "if", "CASE": "case", "LOOP": "loop",
                  "WHILE": "while", "REPEAT": "repeat", "FOR": "for"}  # fmt: skip
_BLOCK_KINDS = frozenset({"IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR"})
_ROUTINE_CHARACTERISTICS = frozenset(
    {"COMMENT", "LANGUAGE", "NOT", "DETERMINISTIC", "CONTAINS", "NO", "READS", "MODIFIES",
     "SQL", "SECURITY", "DEFINER", "INVOKER", "DATA"}
)  # fmt: skip
_TYPE_MODIFIERS = frozenset({"UNSIGNED", "SIGNED", "ZEROFILL", "BINARY", "ASCII", "UNICODE",
                             "BYTE"})  # fmt: skip


def is_op(token: Token, op: str) -> bool:
    return token.kind == OP and token.value == op


def is_word(token: Token, *words: str) -> bool:
    return token.kind == WORD and token.value in words


def closing_paren(tokens: list[Token], i: int) -> int:
    """The index of the parenthesis that closes the one at tokens[i] (len(tokens) if none)."""
    depth = 0
    for j in range(i, len(tokens)):
        if is_op(tokens[j], "("):
            depth += 1
        elif is_op(tokens[j], ")"):
            depth -= 1
            if depth == 0:
                return j
    return len(tokens)


def _skip_parens(tokens: list[Token], i: int) -> int:
    """The index after the parenthesis that closes the one at tokens[i]."""
    end = closing_paren(tokens, i)
    if end == len(tokens):
        raise LexError("a parenthesis is not closed")
    return end + 1


def _skip_name(tokens: list[Token], i: int) -> int:
    """The index after a possibly qualified name (db.name) at i."""
    i += 1
    while i + 1 < len(tokens) and is_op(tokens[i], "."):
        i += 2
    return i


def routine_kind(tokens: list[Token], i: int) -> tuple[str, int] | None:
    """(PROCEDURE|FUNCTION|TRIGGER|EVENT|PACKAGE, index of that word) for CREATE of one."""
    if not is_word(tokens[i], "CREATE"):
        return None
    j, n = i + 1, len(tokens)
    while j < n:
        t = tokens[j]
        if is_word(t, "OR", "REPLACE", "AGGREGATE", "NONEDITIONABLE", "EDITIONABLE"):
            j += 1
        elif is_word(t, "DEFINER"):
            j = _skip_definer(tokens, j)
        elif is_word(t, "PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "PACKAGE"):
            return t.value, j
        else:
            return None
    return None


def _skip_definer(tokens: list[Token], j: int) -> int:
    """The index after DEFINER = user[@host] | CURRENT_USER[()] | role."""
    j += 1
    if j < len(tokens) and is_op(tokens[j], "="):
        j += 1
    if j < len(tokens) and is_word(tokens[j], "CURRENT_USER", "CURRENT_ROLE"):
        j += 1
        if j + 1 < len(tokens) and is_op(tokens[j], "(") and is_op(tokens[j + 1], ")"):
            j += 2
        return j
    j += 1  # the user name (word, string or quoted identifier)
    if j < len(tokens) and tokens[j].kind == VAR:  # @host / @'host'
        j += 1
    return j


def body_start(tokens: list[Token], kind: str, at: int) -> int | None:
    """The index where a stored program's body begins; None for a UDF (SONAME) form."""
    n = len(tokens)
    j = at + 1
    if j + 2 < n and is_word(tokens[j], "IF") and is_word(tokens[j + 1], "NOT"):
        j += 3  # IF NOT EXISTS
    j = _skip_name(tokens, j)
    if kind == "TRIGGER":
        for k in range(j, n - 2):
            if is_word(tokens[k], "FOR") and is_word(tokens[k + 1], "EACH"):
                k += 3  # FOR EACH ROW
                if k < n and is_word(tokens[k], "FOLLOWS", "PRECEDES"):
                    k = _skip_name(tokens, k + 1)
                return k
        return n
    if kind == "EVENT":
        for k in range(j, n):
            if is_word(tokens[k], "DO"):
                return k + 1
        return n
    if kind == "PACKAGE":
        return j
    if j < n and is_word(tokens[j], "RETURNS") and kind == "FUNCTION":
        return None  # CREATE FUNCTION f RETURNS type SONAME 'lib': a UDF, no body
    if j < n and is_op(tokens[j], "("):
        j = _skip_parens(tokens, j)
    if kind == "FUNCTION" and j < n and is_word(tokens[j], "RETURNS"):
        j = _skip_type(tokens, j + 1)
    while j < n and tokens[j].kind == WORD and tokens[j].value in _ROUTINE_CHARACTERISTICS:
        j += 2 if is_word(tokens[j], "COMMENT") else 1
    return j


def _skip_type(tokens: list[Token], j: int) -> int:
    n = len(tokens)
    j += 1  # the type name
    if j < n and is_op(tokens[j], "("):
        j = _skip_parens(tokens, j)
    while j < n:
        if tokens[j].kind == WORD and tokens[j].value in _TYPE_MODIFIERS:
            j += 1
        elif is_word(tokens[j], "CHARSET", "COLLATE"):
            j += 2
        elif is_word(tokens[j], "CHARACTER") and j + 1 < n and is_word(tokens[j + 1], "SET"):
            j += 3
        else:
            return j
    return j


def compound_start(tokens: list[Token], i: int) -> int | None:
    """Where block matching starts for the statement at i; None for a plain statement.

    Stored program bodies (CREATE PROCEDURE/FUNCTION/TRIGGER/EVENT) and compound statements
    (BEGIN NOT ATOMIC, IF, CASE, LOOP, WHILE, REPEAT, FOR, label:) contain semicolons.
    """
    t = tokens[i]
    if t.kind != WORD:
        return None
    if t.value == "BEGIN":
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        return i if nxt is not None and is_word(nxt, "NOT") else None
    if t.value in _BLOCK_KINDS:
        return i
    if i + 2 < len(tokens) and is_op(tokens[i + 1], ":") and tokens[i + 2].kind == WORD:
        return i  # label: BEGIN NOT ATOMIC ...
    routine = routine_kind(tokens, i)
    if routine is None:
        return None
    return body_start(tokens, routine[0], routine[1])


class _Block:
    __slots__ = ("awaiting", "kind", "until")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.awaiting = kind in ("while", "for")  # WHILE/FOR ... DO
        self.until = False  # REPEAT ... UNTIL seen


def block_end(tokens: list[Token], i: int, body: int) -> int:
    """The index of the `;` (or len) that ends the statement at i whose body starts at body.

    A block opens only where a statement starts (BEGIN, IF, CASE, LOOP, WHILE, REPEAT, FOR)
    or anywhere for a CASE expression; END closes one only where a statement starts (after
    `;`), after REPEAT's UNTIL condition, or for a CASE expression. Unbalanced: LexError.
    """
    stack: list[_Block] = []
    n = len(tokens)
    expect = False
    j = i
    while j < n:
        t = tokens[j]
        expect, j = (j == body) or expect, j
        if t.kind == OP:
            if t.value == ";":
                if not stack:
                    return j
                expect = True
                j += 1
                continue
            if t.value == ":" and j > 0 and tokens[j - 1].kind == WORD:
                j += 1  # label: keeps the statement start for the word after it
                continue
            expect = False
            j += 1
            continue
        if t.kind != WORD or (j > 0 and is_op(tokens[j - 1], ".")):
            if not (expect and j + 1 < n and is_op(tokens[j + 1], ":")):
                expect = False
            j += 1
            continue
        j, expect = _block_word(tokens, j, expect, stack)
    if stack:
        raise LexError(f"a {stack[-1].kind.upper()} block is not closed")
    return n


def _block_word(tokens: list[Token], j: int, expect: bool, stack: list[_Block]) -> tuple[int, bool]:
    """Handle the word at j inside block matching: (next index, statement start follows)."""
    v = tokens[j].value
    n = len(tokens)
    top = stack[-1] if stack else None
    if expect and v in _BLOCK_OPENERS:
        stack.append(_Block(_BLOCK_OPENERS[v]))
        if v == "BEGIN":
            if j + 2 < n and is_word(tokens[j + 1], "NOT") and is_word(tokens[j + 2], "ATOMIC"):
                j += 2
            return j + 1, True
        return j + 1, v in ("LOOP", "REPEAT")
    if expect and v == "DECLARE":
        return _declare(tokens, j)
    if v == "CASE":
        stack.append(_Block("case_expr"))
        return j + 1, False
    if top is None:
        return j + 1, expect and j + 1 < n and is_op(tokens[j + 1], ":")
    if v == "END" and (top.kind == "case_expr" or expect or (top.kind == "repeat" and top.until)):
        stack.pop()
        j += 1
        if top.kind != "case_expr":
            if j < n and tokens[j].kind == WORD and tokens[j].value in _BLOCK_KINDS:
                j += 1
            if (
                j < n
                and tokens[j].kind in (WORD, QIDENT)
                and (j + 1 == n or is_op(tokens[j + 1], ";"))
            ):
                j += 1  # END label
        return j, False
    if v in ("THEN", "ELSE") and top.kind in ("if", "case"):
        return j + 1, True
    if v == "DO" and top.awaiting:
        top.awaiting = False
        return j + 1, True
    if v == "UNTIL" and top.kind == "repeat":
        top.until = True
    return j + 1, expect and j + 1 < n and is_op(tokens[j + 1], ":")


def _declare(tokens: list[Token], j: int) -> tuple[int, bool]:
    """DECLARE ... HANDLER FOR conditions <statement>: the statement start after conditions."""
    n = len(tokens)
    k = j + 1
    while k < n and not is_op(tokens[k], ";") and not is_word(tokens[k], "HANDLER"):
        k += 1
    if k >= n or not is_word(tokens[k], "HANDLER"):
        return k, False
    if k + 1 >= n or not is_word(tokens[k + 1], "FOR"):
        raise LexError("DECLARE ... HANDLER without FOR")
    k += 2
    while k < n:
        if is_word(tokens[k], "SQLSTATE"):
            k += 1
            if k < n and is_word(tokens[k], "VALUE"):
                k += 1
            k += 1  # the state string
        elif is_word(tokens[k], "NOT"):
            k += 2  # NOT FOUND
        else:
            k += 1  # SQLEXCEPTION, SQLWARNING, an error number or a condition name
        if k < n and is_op(tokens[k], ","):
            k += 1
            continue
        return k, True
    return k, False


class Statement(NamedTuple):
    tokens: list[Token]
    end: int  # offset after the statement's terminating `;` (or the text's end)


def split(tokens: list[Token], text_end: int) -> list[Statement]:
    """The non-empty statements of a token list, in order."""
    statements: list[Statement] = []
    i, n = 0, len(tokens)
    while i < n:
        if is_op(tokens[i], ";"):
            i += 1
            continue
        body = compound_start(tokens, i)
        if body is None:
            j = i
            while j < n and not is_op(tokens[j], ";"):
                j += 1
        else:
            j = block_end(tokens, i, body)
        end = tokens[j].end if j < n else text_end
        statements.append(Statement(tokens[i:j], end))
        i = j + 1
    return statements
