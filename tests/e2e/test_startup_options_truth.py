"""The gateway reads the startup `options` exactly as the PostgreSQL server does.

A differential test: random `options` strings (backslashes before anything, spaces, tabs,
newlines, several -c, -cname=value, --name=value, switch clusters, the other switches of
process_postgres_switches, quotes, stray words) go straight to the real server, and what the
server applied (current_setting, pg_settings with source 'client') is compared with the
gateway's reading (`read_options`) applied by set_config on a plain connection.

- the server accepts: the gateway reads the same settings, and its rewritten `options`
  (`encode_options`, what it sends to the backend) has the same effect;
- the server refuses the words themselves (a stray word, a missing value or argument): the
  gateway refuses too;
- the server refuses a setting: the gateway refuses, or its reading names that setting.

IAP_TRUTH_CASES=N runs N cases (default 400); IAP_TRUTH_SEED picks another sequence.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass

import psycopg
import pytest

from iap.engines.pg_startup import StartupRefused, encode_options, read_options
from tests.helpers import PgServer

CASES = int(os.environ.get("IAP_TRUTH_CASES", "400"))
SEED = int(os.environ.get("IAP_TRUTH_SEED", "20240615"))

# Names as a client may write them, with values the server accepts and some it does not.
# (No PGC_BACKEND settings: set_config cannot apply those to the reference connection.)
VALUES: dict[str, list[str]] = {
    "application_name": ["x", "two words", "", "a=b", "it's", 'say "hi"', "back\\slash"],
    "application-name": ["dash"],
    "Application_Name": ["Upper"],
    "statement_timeout": ["5s", "0", "250", "1min", "soon"],
    "lock_timeout": ["2s", "-1"],
    "search_path": ["public", "a,b", '"$user", public', "pg_catalog", "a, pg_catalog", "a b"],
    "work_mem": ["1MB", "64kB", "lots"],
    "DateStyle": ["iso", "sql, dmy", "german", "iso\tymd"],
    "extra_float_digits": ["3", "0", "99"],
    "role": ["pg_monitor", "pg_read_all_settings", "none", "iap_no_such_role"],
    "iap_truth.x": ["1", "two words", "\\"],
    "iap-truth.y": ["3"],
    "enable_seqscan": ["off", "on", "maybe"],
    "iap_no_such_setting": ["1"],
}
POOL = sorted({name.lower().replace("-", "_") for name in VALUES})
SEPARATORS = [" ", " ", " ", "  ", "\t", "\n", " \t ", "\r", "\f", "\v"]
JUNK = "ab=- \t\\'\",x1"
SWITCH_ARGS = {
    "t": ["pa", "pl", "e", "p", "x"],
    "f": list("sionbtmhz"),
    "d": ["0", "1", "2", "-1", "x", " 1", "6"],
    "S": ["1MB", "bad"],
    "C": ["x"],
    "D": ["/nowhere"],
    "r": ["file"],
    "v": ["3"],
}
FLAGS = "ebnjETsO"


def _value(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return "".join(rng.choice(JUNK) for _ in range(rng.randint(0, 6)))
    return rng.choice(VALUES[rng.choice(list(VALUES))])


def _escape(rng: random.Random, text: str) -> str:
    """Mostly escaped as a client would; sometimes not (so the words split differently)."""
    out = []
    for c in text:
        if (c.isspace() or c == "\\") and rng.random() < 0.8:
            out.append("\\")
        out.append(c)
    return "".join(out)


def _item(rng: random.Random) -> str:
    name = rng.choice(list(VALUES))
    # (A timeout keeps its own values: a few milliseconds would cancel the checks' queries.)
    mixed = rng.random() < 0.2 and not name.endswith("timeout")
    value = _value(rng) if mixed else rng.choice(VALUES[name])
    item = f"{name}={value}" if rng.random() < 0.93 else name
    return _escape(rng, item)


def _token(rng: random.Random) -> str:
    sep = rng.choice(SEPARATORS)
    kind = rng.random()
    if kind < 0.3:
        return f"-c{sep}{_item(rng)}"
    if kind < 0.45:
        return f"-c{_item(rng)}"
    if kind < 0.6:
        return f"--{_item(rng)}"
    if kind < 0.75:
        flags = "".join(rng.choice(FLAGS) for _ in range(rng.randint(1, 2)))
        if rng.random() < 0.5:
            return f"-{flags}c{rng.choice(['', sep])}{_item(rng)}"
        return f"-{flags}"
    if kind < 0.92:
        switch = rng.choice(list(SWITCH_ARGS))
        return f"-{switch}{rng.choice(['', sep])}{_escape(rng, rng.choice(SWITCH_ARGS[switch]))}"
    return rng.choice(["--", "-", "word", "-Z", "\\", "-c", "'-c role=x'", '"', "\\\\"])


def random_options(rng: random.Random) -> str:
    text = rng.choice(["", "", " ", "\t"])
    text += rng.choice(SEPARATORS).join(_token(rng) for _ in range(rng.randint(1, 4)))
    text += rng.choice(["", "", " ", "\\", "\n"])
    for _ in range(rng.choice([0, 0, 0, 1, 2])):  # a backslash somewhere, escaping anything
        at = rng.randint(0, len(text))
        text = text[:at] + "\\" + text[at:]
    return text


# -- what the server does ----------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    values: dict[str, str | None]  # current_setting of each name looked at
    from_client: frozenset[str]  # pg_settings rows whose source is the client


class Server:
    def __init__(self, pg: PgServer) -> None:
        self.pg = pg
        with psycopg.connect(pg.dsn()) as conn:
            self.baseline = self._applied_on(conn, POOL).from_client

    @staticmethod
    def _applied_on(conn: psycopg.Connection[tuple[object, ...]], names: list[str]) -> Applied:
        values = conn.execute(
            "SELECT n, current_setting(n, true) FROM unnest(%s::text[]) AS n", (names,)
        ).fetchall()
        client = conn.execute("SELECT lower(name) FROM pg_settings WHERE source = 'client'")
        return Applied(
            {str(n): None if v is None else str(v) for n, v in values},
            frozenset(str(row[0]) for row in client.fetchall()),
        )

    def connect_with(self, options: str, names: list[str]) -> Applied | str:
        """What a direct connection with these options applied, or the server's FATAL."""
        try:
            with psycopg.connect(self.pg.dsn(), options=options, connect_timeout=10) as conn:
                return self._applied_on(conn, names)
        except psycopg.OperationalError as e:
            assert "FATAL:  " in str(e), f"options {options!r}: no FATAL in {e}"
            return str(e).split("FATAL:  ", 1)[1]  # with its DETAIL and HINT lines

    def set_on_reference(self, settings: list[tuple[str, str]], names: list[str]) -> Applied:
        """The same names after set_config of each setting, in order, on a plain connection
        (a new one each time: a custom setting, once named, stays defined in a session)."""
        # The server applies the startup options with the privileges of the user who logs in,
        # whatever `role` they set on the way: so the reference sets the role last.
        ordered = [s for s in settings if s[0].lower() != "role"]
        ordered += [s for s in settings if s[0].lower() == "role"]
        with psycopg.connect(self.pg.dsn(), autocommit=True) as conn:
            for name, value in ordered:
                conn.execute("SELECT set_config(%s, %s, false)", (name, value))
            return self._applied_on(conn, names)


def check_case(srv: Server, options: str) -> str:
    """Compare one options string; returns how it went (for the tally)."""
    try:
        reading: list[tuple[str, str]] | None = read_options(options)
        refusal: StartupRefused | None = None
    except StartupRefused as e:
        reading, refusal = None, e
    names = sorted(set(POOL) | {name for name, _ in reading or ()})
    direct = srv.connect_with(options, names)
    if isinstance(direct, str):  # the server refused the connection
        if "invalid command-line argument" in direct or "requires a value" in direct:
            assert refusal is not None and refusal.code == "42601", (options, direct, reading)
            return "both refuse the words"
        if reading is None:
            return "both refuse"
        named = re.search(r'parameter (?:name )?"([^"]*)"', direct)
        setting = "role" if re.match(r'role ".*" does not exist', direct, re.S) else None
        assert named or setting, f"options {options!r}: gateway read {reading}, server: {direct}"
        read_names = {name.lower() for name, _ in reading}
        assert (setting or named.group(1)).lower() in read_names, (options, direct, reading)
        return "server refuses a setting the gateway read"
    assert reading is not None, f"the server accepts {options!r}; the gateway refused: {refusal}"
    expected = srv.set_on_reference(reading, names)
    assert direct.values == expected.values, (options, reading)
    extra = direct.from_client - srv.baseline - {name.lower() for name, _ in reading}
    assert not extra, f"options {options!r}: the server set {extra} that the gateway did not read"
    rewritten = srv.connect_with(encode_options(reading), names)
    assert rewritten == direct, (options, encode_options(reading), rewritten, direct)
    return "same settings" if reading else "same, no settings"


@pytest.mark.e2e
def test_options_are_read_exactly_as_the_server_reads_them(pg_server: PgServer) -> None:
    rng = random.Random(SEED)
    tally: dict[str, int] = {}
    srv = Server(pg_server)
    for _ in range(CASES):
        outcome = check_case(srv, random_options(rng))
        tally[outcome] = tally.get(outcome, 0) + 1
    # Not vacuous: the sequence exercises every outcome.
    assert tally.get("same settings", 0) >= CASES // 5, tally
    assert tally.get("both refuse the words", 0) >= CASES // 20, tally
    assert tally.get("server refuses a setting the gateway read", 0) >= CASES // 20, tally


@pytest.mark.e2e
@pytest.mark.parametrize(
    "options",
    [
        "-c application_name=x\\\\ -crole=pg_monitor",  # the finding: escaped backslash, then -c
        "-c application_name=x\\\\\\ -crole=pg_monitor",  # escaped backslash, escaped space
        "-c\tapplication_name=a\\\tb\n-c\fstatement_timeout=5s",
        "-ec role=pg_monitor",  # a switch cluster ending in -c
        "-ecrole=pg_monitor -b -n -T -C x -D /x -r f -v 3",
        "-c search_path=a,\\ pg_catalog --DateStyle=sql,\\ dmy",
        "-c -iap-truth.x=1 --iap_truth.y=two\\ words",
        "-t pa -f s -d 2 -S 1MB -O -s",
        "-s -t pa",  # the server refuses a setting (log_statement_stats is on)
        "-c role=pg_monitor --",
        "-c application_name=x\\",
        "\\",
        "-c role=pg_monitor x",
        "-- -c role=pg_monitor",
    ],
)
def test_chosen_options_agree_with_the_server(pg_server: PgServer, options: str) -> None:
    check_case(Server(pg_server), options)
