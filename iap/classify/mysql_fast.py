"""The fast path: plain MySQL statements decided from tokens, with the full path's answer.

Owns a small recogniser for the statements clients send most (SELECT of columns, literals,
variables, subqueries and a few built-ins from named tables with joins, WHERE/GROUP/ORDER/
LIMIT; INSERT ... VALUES; UPDATE/DELETE whose WHERE is a conjunction of `column op value`;
SET of harmless session settings to literals; SET NAMES; SHOW without expressions; BEGIN/
COMMIT/ROLLBACK; USE). sqlglot takes 200-700 µs per statement; these shapes are decided by
their tokens alone, and the answer is the full path's:
- a SELECT of this grammar has no INTO, no row locks, no PROCEDURE and calls only built-ins
  that read, so the full path finds nothing but reads in it (or fails to parse it: hence no
  word sqlglot or MySQL treats as a keyword in a name's place, and functions only with the
  argument counts sqlglot accepts, written name( where a gap would make the name a stored
  function's);
- a WHERE is a conjunction of parts on a column of the target (unqualified or qualified
  by the target's name or alias) and values written in the statement; a part that compares
  the column with a value, IS NULL, IN, BETWEEN, NOT LIKE and LIKE of a pattern other than
  '%' bound the rows, whatever the constants are, so one of them makes it write (the full
  path's WHERE analysis finds the same); IS NOT NULL and LIKE '%' may hold on every row,
  so a WHERE with no other part is left to the full path; no WHERE at all: destructive;
- SET accepts only settings the full path's own setting_risk calls harmless, never sql_mode
  or a character set variable; SET NAMES of a safe character set is recorded in the context
  as the full path records it (the engine reads the lexing state back after it).

Must never do I/O, never accept a statement whose answer could differ from the full path's
(mysql_statements + sqlglot): it declines (None) on anything outside its grammar.
tests/iap/test_classify_mysql.py checks the equivalence on generated statements of every
accepted shape (and on many it must decline).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot.dialects.mysql import MySQL

from iap.classify.mysql_functions import SPACE_SENSITIVE
from iap.classify.mysql_lexer import (
    NUMBER,
    OP,
    PARAM,
    QIDENT,
    STRING,
    SYSVAR,
    VALUE_KINDS,
    VAR,
    WORD,
    Token,
)
from iap.classify.mysql_settings import charset_is_safe, setting_risk, split_scope
from iap.classify.mysql_statements import Context
from iap.classify.types import Risk, StatementInfo


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


# MySQL 8 / MariaDB reserved words (a name written like one is not a plain name).
_RESERVED = _word_set(
    """
    ACCESSIBLE ADD ALL ALTER ANALYZE AND AS ASC ASENSITIVE BEFORE BETWEEN BIGINT BINARY BLOB
    BOTH BY CALL CASCADE CASE CHANGE CHAR CHARACTER CHECK COLLATE COLUMN CONDITION
    CONSTRAINT CONTINUE CONVERT CREATE CROSS CUBE CUME_DIST CURRENT_DATE CURRENT_ROLE
    CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATABASE DATABASES DAY_HOUR
    DAY_MICROSECOND DAY_MINUTE DAY_SECOND DEC DECIMAL DECLARE DEFAULT DELAYED DELETE
    DELETE_DOMAIN_ID DENSE_RANK DESC DESCRIBE DETERMINISTIC DISTINCT DISTINCTROW DIV
    DO_DOMAIN_IDS DOUBLE DROP DUAL EACH ELSE ELSEIF EMPTY ENCLOSED ESCAPED EXCEPT EXISTS
    EXIT EXPLAIN FALSE FETCH FIRST_VALUE FLOAT FLOAT4 FLOAT8 FOR FORCE FOREIGN FROM FULLTEXT
    FUNCTION GENERAL GENERATED GET GRANT GROUP GROUPING GROUPS HAVING HIGH_PRIORITY
    HOUR_MICROSECOND HOUR_MINUTE HOUR_SECOND IF IGNORE IGNORE_DOMAIN_IDS IGNORE_SERVER_IDS
    IN INDEX INFILE INNER INOUT INSENSITIVE INSERT INT INT1 INT2 INT3 INT4 INT8 INTEGER
    INTERSECT INTERVAL INTO IO_AFTER_GTIDS IO_BEFORE_GTIDS IS ITERATE JOIN JSON_TABLE KEY
    KEYS KILL LAG LAST_VALUE LATERAL LEAD LEADING LEAVE LEFT LIKE LIMIT LINEAR LINES LOAD
    LOCALTIME LOCALTIMESTAMP LOCK LONG LONGBLOB LONGTEXT LOOP LOW_PRIORITY MASTER_BIND
    MASTER_HEARTBEAT_PERIOD MASTER_SSL_VERIFY_SERVER_CERT MATCH MAXVALUE MEDIUMBLOB
    MEDIUMINT MEDIUMTEXT MIDDLEINT MINUTE_MICROSECOND MINUTE_SECOND MOD MODIFIES NATURAL NOT
    NO_WRITE_TO_BINLOG NTH_VALUE NTILE NULL NUMERIC OF OFFSET ON OPTIMIZE OPTIMIZER_COSTS
    OPTION OPTIONALLY OR ORDER OUT OUTER OUTFILE OVER PAGE_CHECKSUM PARSE_VCOL_EXPR
    PARTITION PERCENT_RANK POSITION PRECISION PRIMARY PROCEDURE PURGE RANGE RANK READ READS
    READ_WRITE REAL RECURSIVE REF_SYSTEM_ID REFERENCES REGEXP RELEASE RENAME REPEAT REPLACE
    REQUIRE RESIGNAL RESTRICT RETURN RETURNING REVOKE RIGHT RLIKE ROW ROWS ROW_NUMBER SCHEMA
    SCHEMAS SECOND_MICROSECOND SELECT SENSITIVE SEPARATOR SET SHOW SIGNAL SLOW SMALLINT
    SPATIAL SPECIFIC SQL SQLEXCEPTION SQLSTATE SQLWARNING SQL_BIG_RESULT SQL_CALC_FOUND_ROWS
    SQL_SMALL_RESULT SSL STARTING STATS_AUTO_RECALC STATS_PERSISTENT STATS_SAMPLE_PAGES
    STORED STRAIGHT_JOIN SYSTEM TABLE TERMINATED THEN TINYBLOB TINYINT TINYTEXT TO TRAILING
    TRIGGER TRUE UNDO UNION UNIQUE UNLOCK UNSIGNED UPDATE USAGE USE USING UTC_DATE UTC_TIME
    UTC_TIMESTAMP VALUES VARBINARY VARCHAR VARCHARACTER VARYING VIRTUAL WHEN WHERE WHILE
    WINDOW WITH WRITE XOR YEAR_MONTH ZEROFILL
    """
)
_SQLGLOT_KEYWORDS = frozenset(k for k in MySQL.Tokenizer.KEYWORDS if k.isidentifier())
# Built-ins the fast path accepts, with the argument counts sqlglot and the servers accept
# (None: any count from one up). Their argument syntax is a plain expression list.
FAST_FUNCTIONS: dict[str, tuple[int, ...] | None] = {
    "COUNT": (1,), "SUM": (1,), "AVG": (1,), "MIN": (1,), "MAX": (1,),
    "NOW": (0,), "DATABASE": (0,), "VERSION": (0,), "USER": (0,), "CONNECTION_ID": (0,),
    "LAST_INSERT_ID": (0,), "FOUND_ROWS": (0,), "ROW_COUNT": (0,), "UUID": (0,),
    "UPPER": (1,), "LOWER": (1,), "LENGTH": (1,), "CHAR_LENGTH": (1,), "ABS": (1,),
    "ROUND": (1, 2), "COALESCE": None, "IFNULL": (2,), "NULLIF": (2,), "CONCAT": None,
    "CONCAT_WS": None, "GREATEST": None, "LEAST": None, "DATE_FORMAT": (2,),
    "UNIX_TIMESTAMP": (0, 1), "FROM_UNIXTIME": (1,), "LOCATE": (2, 3),
}  # fmt: skip
_NOT_NAMES = _RESERVED | _SQLGLOT_KEYWORDS | frozenset(FAST_FUNCTIONS)
# Built-ins that a space before "(" turns into a stored function's call (mysql_functions).
_SPACE_SENSITIVE = frozenset(name.upper() for name in SPACE_SENSITIVE)
_ARITHMETIC = frozenset({"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"})
_COMPARISONS = frozenset({"=", "<>", "!=", "<", ">", "<=", ">=", "<=>"})
_CONNECTORS = frozenset({"AND", "OR", "XOR", "&&", "||"})
_PREDICATES = frozenset({"IS", "NOT", "IN", "BETWEEN", "LIKE"})
_SELECT_OPTIONS = frozenset({"DISTINCT", "ALL", "SQL_NO_CACHE", "SQL_CALC_FOUND_ROWS"})
_JOINS = frozenset({"INNER", "CROSS", "LEFT", "RIGHT", "OUTER", "STRAIGHT_JOIN"})
# Settings whose value moves the lexer or a check: the full path reads them.
_VALUE_SETTINGS = frozenset({"sql_mode", "character_set_client", "character_set_connection",
                             "collation_connection"})  # fmt: skip
_TRANSACTION = {"BEGIN": "BEGIN", "COMMIT": "COMMIT", "ROLLBACK": "ROLLBACK"}


def _plain_literal(t: Token) -> bool:
    """A literal sqlglot reads in every place (it trips on .5 after DISTINCT)."""
    return t.kind in VALUE_KINDS and not (t.kind == NUMBER and t.text.startswith("."))


class _Decline(Exception):
    """Not a shape the fast path decides."""


class _Parser:
    """A cursor over one statement's tokens; every method declines on a surprise."""

    __slots__ = ("aliases", "i", "kinds", "n", "tables", "tokens", "values")

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.n = len(tokens)
        self.kinds = [t.kind for t in tokens] + [""]  # a sentinel: no bounds checks
        self.values = [t.value for t in tokens] + [""]
        self.tables: list[str] = []
        self.aliases: set[str] = set()

    # -- primitives

    def word(self) -> str | None:
        i = self.i
        return self.values[i] if self.kinds[i] == WORD else None

    def op(self) -> str | None:
        i = self.i
        return self.values[i] if self.kinds[i] == OP else None

    def take_word(self, *words: str) -> bool:
        i = self.i
        if self.kinds[i] == WORD and self.values[i] in words:
            self.i = i + 1
            return True
        return False

    def take_op(self, op: str) -> bool:
        i = self.i
        if self.kinds[i] == OP and self.values[i] == op:
            self.i = i + 1
            return True
        return False

    def expect_word(self, *words: str) -> None:
        if not self.take_word(*words):
            raise _Decline

    def expect_op(self, op: str) -> None:
        if not self.take_op(op):
            raise _Decline

    def take_by(self, word: str) -> bool:
        """word BY (GROUP BY, ORDER BY): True when it is next (declines on word alone)."""
        if not self.take_word(word):
            return False
        self.expect_word("BY")
        return True

    def done(self) -> bool:
        return self.i >= self.n

    def name_part(self) -> str:
        """One plain or quoted identifier, as sqlglot names it."""
        if self.i >= self.n:
            raise _Decline
        t = self.tokens[self.i]
        if t.kind == QIDENT and t.value and "`" not in t.value:
            self.i += 1
            return t.value
        if (
            t.kind == WORD
            and t.value not in _NOT_NAMES
            and t.text.isidentifier()
            and t.text.isascii()
        ):
            self.i += 1
            return t.text
        raise _Decline

    def name_list(self) -> None:
        """( name [, name]* ): a join's USING, an INSERT's columns."""
        self.expect_op("(")
        self.items(self.name_part)
        self.expect_op(")")

    def qualified(self, parts: int) -> list[str]:
        names = [self.name_part()]
        while len(names) < parts and self.take_op("."):
            names.append(self.name_part())
        return names

    # -- expressions

    def expression(self) -> None:
        """condition ((AND | OR | XOR | && | ||) condition)*"""
        self.condition()
        while self.values[self.i] in _CONNECTORS and self.kinds[self.i] in (WORD, OP):
            self.i += 1
            self.condition()

    def condition(self) -> None:
        """[NOT] arithmetic [comparison arithmetic | IS ... | IN (...) | BETWEEN | LIKE]"""
        self.take_word("NOT")
        self.arithmetic()
        kind, value = self.kinds[self.i], self.values[self.i]
        if kind == OP and value in _COMPARISONS:
            self.i += 1
            self.arithmetic()
        elif kind == WORD and value in _PREDICATES:
            self.predicate_tail()

    def arithmetic(self) -> None:
        self.operand()
        while (self.kinds[self.i] == OP and self.values[self.i] in _ARITHMETIC) or (
            self.kinds[self.i] == WORD and self.values[self.i] in ("DIV", "MOD")
        ):
            self.i += 1
            self.operand()

    def predicate_tail(self) -> None:
        """IS [NOT] NULL|TRUE|FALSE, [NOT] IN (...), [NOT] BETWEEN x AND y, [NOT] LIKE x."""
        if self.take_word("IS"):
            self.take_word("NOT")
            self.expect_word("NULL", "TRUE", "FALSE")
            return
        self.take_word("NOT")
        if self.take_word("IN"):
            self.expect_op("(")
            if self.word() == "SELECT":
                self.select()
            else:
                self.items(self.expression)
            self.expect_op(")")
        elif self.take_word("BETWEEN"):
            self.arithmetic()
            self.expect_word("AND")
            self.arithmetic()
        elif self.take_word("LIKE"):
            self.arithmetic()
        else:
            raise _Decline

    def items(self, item: Callable[[], object]) -> int:
        """item (, item)*: how many."""
        item()
        count = 1
        while self.take_op(","):
            item()
            count += 1
        return count

    def expression_list(self) -> int:
        return self.items(self.expression)

    def operand(self) -> None:
        while self.take_op("-") or self.take_op("+") or self.take_op("!"):
            pass
        if self.i >= self.n:
            raise _Decline
        t = self.tokens[self.i]
        if _plain_literal(t) or (
            t.kind == WORD and t.value in ("NULL", "TRUE", "FALSE") and t.text != "\\N"
        ):
            self.i += 1
        elif t.kind == OP and t.value == "(":
            self.i += 1
            self.subquery_or_expression()
        elif t.kind == WORD and t.value == "EXISTS":
            self.i += 1
            self.expect_op("(")
            self.select()
            self.expect_op(")")
        elif t.kind == WORD and t.value in FAST_FUNCTIONS:
            self.call(t.value)
        else:
            self.column()

    def subquery_or_expression(self) -> None:
        """After `(`: a subquery or an expression, then `)`."""
        if self.word() == "SELECT":
            self.select()
        else:
            self.expression()
        self.expect_op(")")

    def select(self) -> None:
        """SELECT items [FROM tables] [WHERE] [GROUP BY [HAVING]] [ORDER BY] [LIMIT]."""
        self.expect_word("SELECT")
        while self.take_word(*_SELECT_OPTIONS):
            pass
        self.items(self.select_item)
        if self.take_word("FROM"):
            self.from_clause()
        if self.take_word("WHERE"):
            self.expression()
        if self.take_by("GROUP"):
            self.expression_list()
            if self.take_word("HAVING"):
                self.expression()
        if self.take_by("ORDER"):
            self.order_list()
        self.limit()

    def call(self, name: str) -> None:
        name_end = self.tokens[self.i].end
        self.i += 1
        self.expect_op("(")
        if name in _SPACE_SENSITIVE and self.tokens[self.i - 1].start != name_end:
            raise _Decline  # now (): a stored function's call
        if name == "COUNT" and self.take_op("*"):
            self.expect_op(")")
            return
        count = 0 if self.op() == ")" else self.expression_list()
        self.expect_op(")")
        arities = FAST_FUNCTIONS[name]
        if (arities is None and count == 0) or (arities is not None and count not in arities):
            raise _Decline

    def column(self) -> None:
        self.qualified(3)
        if self.op() == "(":
            raise _Decline  # a call of a name the fast path does not know
        if self.op() == "." and self.i + 1 < self.n and self.tokens[self.i + 1].value == "*":
            raise _Decline

    # -- clauses

    def table(self) -> None:
        self.tables.append(".".join(self.qualified(2)))
        self.alias()

    def alias(self) -> None:
        if self.take_word("AS"):
            self.aliases.add(self.name_part())
            return
        t = self.tokens[self.i] if self.i < self.n else None
        if t is not None and (t.kind == QIDENT or (t.kind == WORD and t.value not in _NOT_NAMES)):
            self.aliases.add(self.name_part())

    def select_item(self) -> None:
        if self.take_op("*"):
            return
        t = self.tokens[self.i] if self.i < self.n else None
        nxt = self.tokens[self.i + 1] if self.i + 1 < self.n else None
        if t is not None and nxt is not None and t.kind in (WORD, QIDENT) and nxt.value == ".":
            after = self.tokens[self.i + 2] if self.i + 2 < self.n else None
            if after is not None and after.kind == OP and after.value == "*":
                self.name_part()
                self.i += 2
                return
        self.expression()
        self.alias()

    def from_clause(self) -> None:
        self.table()
        while True:
            if self.take_op(","):
                self.table()
                continue
            if self.word() in _JOINS or self.word() == "JOIN":
                while self.take_word(*_JOINS):
                    pass
                if self.tokens[self.i - 1].value != "STRAIGHT_JOIN":
                    self.expect_word("JOIN")
                self.table()
                if self.take_word("ON"):
                    self.expression()
                elif self.take_word("USING"):
                    self.name_list()
                continue
            return

    def order_list(self) -> None:
        while True:
            self.expression()
            self.take_word("ASC", "DESC")
            if not self.take_op(","):
                return

    def limit(self) -> None:
        if not self.take_word("LIMIT"):
            return
        self.count()
        if self.take_op(",") or self.take_word("OFFSET"):
            self.count()

    def count(self) -> None:
        t = self.tokens[self.i] if self.i < self.n else None
        if t is None or t.kind not in (NUMBER, PARAM) or "." in t.text or "e" in t.text.lower():
            raise _Decline
        self.i += 1

    def bounded_where(self, target: str, alias: str | None) -> None:
        """WHERE part [AND part]*, each part `column op value` of the target: bounded by the
        rows of target (write) when one part bounds them. IS NOT NULL and LIKE '%' bound
        nothing (with no other part, the full path says why); NOT BETWEEN and LIKE of a
        pattern not written (?, @x, 0x25) may hold on every row: the fast path declines."""
        bounded = False
        while True:
            names = self.qualified(3)
            if len(names) > 1 and names[-2] not in (target, alias):
                raise _Decline
            op = self.op()
            if op in _COMPARISONS and op != "<=>":
                self.i += 1
                self.value()
                bounded = True
            else:
                bounded = self.bounded_predicate() or bounded
            if not self.take_word("AND"):
                break
        if not bounded:
            raise _Decline

    def bounded_predicate(self) -> bool:
        """IS [NOT] NULL, [NOT] IN (values), BETWEEN v AND v, [NOT] LIKE v after a column of
        the target: whether it bounds the rows (see mysql_tree's WHERE analysis)."""
        if self.take_word("IS"):
            negated = self.take_word("NOT")
            self.expect_word("NULL")
            return not negated
        negated = self.take_word("NOT")
        if self.take_word("IN"):
            self.expect_op("(")
            self.items(self.value)
            self.expect_op(")")
            return True
        if self.take_word("BETWEEN"):
            if negated:
                raise _Decline
            self.value()
            self.expect_word("AND")
            self.value()
            return True
        if self.take_word("LIKE"):
            if negated:  # every LIKE pattern matches some value
                self.value()
                return True
            t = self.tokens[self.i] if self.i < self.n else None
            if t is None or t.kind not in (STRING, NUMBER) or not _plain_literal(t):
                raise _Decline  # a pattern not written may be '%'
            self.i += 1
            return t.kind == NUMBER or not t.value or set(t.value) != {"%"}
        raise _Decline

    def value(self) -> None:
        self.take_op("-")
        t = self.tokens[self.i] if self.i < self.n else None
        if t is None or not _plain_literal(t) or t.kind == SYSVAR:
            raise _Decline
        self.i += 1


# ----------------------------------------------------------------------------- statements


def _select(p: _Parser) -> StatementInfo:
    p.select()
    if not p.done():
        raise _Decline
    return StatementInfo("SELECT", Risk.READ, tuple(dict.fromkeys(p.tables)), ())


def _insert(p: _Parser) -> StatementInfo:
    verb = p.tokens[0].value
    p.i = 1
    p.take_word("IGNORE")
    p.take_word("INTO")
    name = ".".join(p.qualified(2))
    if p.op() == "(":
        p.name_list()
    p.expect_word("VALUES", "VALUE")
    while True:
        p.expect_op("(")
        p.expression_list()
        p.expect_op(")")
        if not p.take_op(","):
            break
    if p.take_word("ON"):
        for word in ("DUPLICATE", "KEY", "UPDATE"):
            p.expect_word(word)
        _assignments(p)
    if not p.done():
        raise _Decline
    tables = tuple(dict.fromkeys([name, *p.tables]))
    return StatementInfo(verb, Risk.WRITE, tables, (f"{verb} into {name}",))


def _assignments(p: _Parser) -> None:
    while True:
        p.qualified(2)
        p.expect_op("=")
        p.expression()
        if not p.take_op(","):
            return


def _modify(p: _Parser) -> StatementInfo:
    verb = p.tokens[0].value
    p.i = 1
    if verb == "DELETE":
        p.expect_word("FROM")
    name = ".".join(p.qualified(2))
    bare = name.rpartition(".")[2]
    alias = None
    if p.take_word("AS") or (not p.done() and p.op() is None and p.word() not in _NOT_NAMES):
        alias = p.name_part()
    if verb == "UPDATE":
        p.expect_word("SET")
        _assignments(p)
    bounded = p.take_word("WHERE")
    if bounded:
        p.bounded_where(bare, alias)
    if p.take_by("ORDER"):
        p.order_list()
    p.limit()
    if not p.done():
        raise _Decline
    tables = tuple(dict.fromkeys([name, *p.tables]))
    if bounded:
        return StatementInfo(verb, Risk.WRITE, tables, (f"{verb} on {name}",))
    return StatementInfo(verb, Risk.DESTRUCTIVE, tables, (f"{verb} without WHERE on {name}",))


def _set(p: _Parser, ctx: Context) -> StatementInfo:
    p.i = 1
    charsets: list[str] = []
    while True:
        t = p.tokens[p.i] if p.i < p.n else None
        if t is None:
            raise _Decline
        if t.kind == WORD and t.value == "NAMES":
            p.i += 1
            charsets.append(_charset(p))
        else:
            _setting(p, t)
        if not p.take_op(","):
            break
    if not p.done():
        raise _Decline
    for charset in charsets:  # as the full path records them
        ctx.charset_set(charset)
    return StatementInfo("SET", Risk.READ, (), ())


def _charset(p: _Parser) -> str:
    """A safe character set's name (and COLLATE x), as the full path names it."""
    t = p.tokens[p.i] if p.i < p.n else None
    if t is None or t.kind not in (WORD, STRING) or not charset_is_safe(t.value):
        raise _Decline
    name = t.text if t.kind == WORD else t.value
    p.i += 1
    if p.take_word("COLLATE"):
        t = p.tokens[p.i] if p.i < p.n else None
        if t is None or t.kind not in (WORD, STRING):
            raise _Decline
        p.i += 1
    return name


def _setting(p: _Parser, t: Token) -> None:
    """name = literal for a harmless session setting, or @user_variable = number/string."""
    value_kinds: tuple[str, ...] = (NUMBER, STRING)
    if t.kind != VAR:
        if t.kind == WORD and t.value == "SESSION":
            p.i += 1
            t = p.tokens[p.i] if p.i < p.n else t
        if t.kind == SYSVAR:
            scope, name = split_scope(t.value)
        elif t.kind == WORD and t.text.isidentifier():
            scope, name = "session", t.text.lower()
        else:
            raise _Decline
        if scope != "session" or name in _VALUE_SETTINGS:
            raise _Decline
        value_kinds = (NUMBER, STRING, WORD)
    p.i += 1
    if not (p.take_op("=") or p.take_op(":=")):
        raise _Decline
    value = p.tokens[p.i] if p.i < p.n else None
    if value is None or value.kind not in value_kinds:
        raise _Decline
    if t.kind != VAR:
        literal = value.value if value.kind == STRING else value.text
        if setting_risk(name, literal) != (Risk.READ, ""):
            raise _Decline
    p.i += 1


def classify(tokens: list[Token], ctx: Context) -> StatementInfo | None:
    """The full path's StatementInfo for a plain statement, or None to take the full path.

    ctx is the statement's context; the shapes accepted here do not depend on it (no
    constant WHERE, no sql_mode setting, no function but built-ins, no prepared names); the
    only session effect recorded in it is SET NAMES's character set, as the full path does.
    """
    first = tokens[0]
    if first.kind != WORD:
        return None
    verb = first.value
    p = _Parser(tokens)
    try:
        if verb == "SELECT":
            return _select(p)
        if verb in ("INSERT", "REPLACE"):
            return _insert(p)
        if verb in ("UPDATE", "DELETE"):
            return _modify(p)
        if verb == "SET":
            return _set(p, ctx)
        if verb == "SHOW":
            if any((t.kind == OP and t.value == "(") or (t.kind == WORD and t.value == "WHERE")
                   for t in tokens):  # fmt: skip
                return None
            return StatementInfo("SHOW", Risk.READ, (), ())
        if (
            verb in _TRANSACTION
            and len(tokens) <= 2
            and (len(tokens) == 1 or (tokens[1].kind == WORD and tokens[1].value == "WORK"))
        ):
            return StatementInfo(_TRANSACTION[verb], Risk.READ, (), ())
        if verb == "USE" and len(tokens) == 2 and tokens[1].kind in (WORD, QIDENT):
            return StatementInfo("USE", Risk.READ, (), ())
    except _Decline:
        return None
    return None
