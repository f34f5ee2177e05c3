"""The startup `options` reader, without a server: pg_split_opts, getopt, the switches, and
what the gateway passes on (`encode_options`, and check_startup's verdicts).

tests/e2e/test_startup_options_truth.py compares the same reader with the real server.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iap.config import ConnectionConfig
from iap.engines.pg_startup import (
    StartupRefused,
    check_startup,
    encode_options,
    option_switches,
    read_options,
    split_options,
)
from protocols.postgres import messages as pgm

CONNECTION = ConnectionConfig(name="pg", address="127.0.0.1:5432", database="app", user="u")


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ("-c a=b", ["-c", "a=b"]),
        (" \t-c\n a=b \r", ["-c", "a=b"]),
        ("-c a=x\\ y", ["-c", "a=x y"]),
        ("-c a=x\\\\ -crole=r", ["-c", "a=x\\", "-crole=r"]),  # the finding
        ("-c a=x\\\\\\ y", ["-c", "a=x\\ y"]),
        ("\\-\\c a\\=\\b", ["-c", "a=b"]),  # a backslash escapes any character
        ("a\\\tb\\\nc", ["a\tb\nc"]),
        ("x \\", ["x", ""]),  # a lone backslash at the end is an empty word
        ("\\", [""]),
        ("a\x1cb", ["a\x1cb"]),  # not a C space (Python's str.split would split there)
        ("", []),
        ("   ", []),
    ],
)
def test_words_are_split_as_pg_split_opts_does(options: str, words: list[str]) -> None:
    assert split_options(options) == words


@pytest.mark.parametrize(
    ("words", "switches"),
    [
        (["-c", "a=b"], [("c", "a=b")]),
        (["-ca=b"], [("c", "a=b")]),
        (["--a=b"], [("-", "a=b")]),
        (["-ec", "role=r"], [("e", None), ("c", "role=r")]),  # a cluster ending in -c
        (["-ecrole=r"], [("e", None), ("c", "role=r")]),
        (["-c", "-crole=r"], [("c", "-crole=r")]),  # an argument may start with "-"
        (["-c", "--"], [("c", "--")]),
        (["-e-x=1"], [("e", None), ("-", "x=1")]),
        (["-bEjnT"], [("b", None), ("E", None), ("j", None), ("n", None), ("T", None)]),
        (["-v3", "-D", "/x"], [("v", "3"), ("D", "/x")]),
        (["-c", "a=b", "--"], [("c", "a=b")]),  # a last "--" ends the options
    ],
)
def test_switches_are_read_as_getopt_does(
    words: list[str], switches: list[tuple[str, str | None]]
) -> None:
    assert option_switches(words) == switches


@pytest.mark.parametrize(
    "words",
    [["x"], ["-"], [""], ["-Z"], ["-c"], ["-e", "x"], ["--", "-c", "a=b"], ["-:"], ["-e:"]],
)
def test_what_the_server_refuses_is_refused_as_42601(words: list[str]) -> None:
    with pytest.raises(StartupRefused) as refused:
        option_switches(words)
    assert refused.value.code == "42601"


@pytest.mark.parametrize(
    ("options", "settings"),
    [
        ("-c application-name=x", [("application_name", "x")]),
        ("--search_path=a,b -cwork_mem=1MB", [("search_path", "a,b"), ("work_mem", "1MB")]),
        ("-c a.b=x=y", [("a.b", "x=y")]),  # the first "=" ends the name
        ("-e -f s -t pa -t pl -t e", [
            ("datestyle", "euro"), ("enable_seqscan", "false"), ("log_parser_stats", "true"),
            ("log_planner_stats", "true"), ("log_executor_stats", "true"),
        ]),
        ("-d 3", [
            ("log_min_messages", "debug3"), ("log_statement", "all"),
            ("debug_print_parse", "true"),
        ]),
        ("-d x -d -2", [("log_min_messages", "notice"), ("log_min_messages", "notice")]),
        ("-S 4MB -P -O -W 1", [
            ("work_mem", "4MB"), ("ignore_system_indexes", "true"),
            ("allow_system_table_mods", "true"), ("post_auth_delay", "1"),
        ]),
        ("-b -C x -D /d -E -j -n -r f -T -v 3", []),  # ignored by a backend
    ],
)  # fmt: skip
def test_switches_make_the_servers_settings(options: str, settings: list[tuple[str, str]]) -> None:
    assert read_options(options) == settings


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ("-c a", "42601"),  # -c a requires a value
        ("-f z", "42601"),
        ("-t p", "42601"),
        ("-d 12345678901", "42501"),  # atoi would overflow: not read with certainty
        ("-c application_name=caf\u00e9", "42501"),  # the server's locale decides its spaces
        ("-c application_name=a\x1cb", "42501"),
        ("-c application_name=a\x7fb", "42501"),
    ],
)
def test_options_that_cannot_be_read_are_refused(options: str, code: str) -> None:
    with pytest.raises(StartupRefused) as refused:
        read_options(options)
    assert refused.value.code == code


_TEXT = st.text(st.sampled_from([*"abz_.-=,'\"\\ \t\n\r\f\v"]), max_size=12)


@given(
    st.lists(
        st.tuples(st.text(st.sampled_from([*"abz_.\\ \t"]), max_size=8), _TEXT),
        max_size=4,
    )
)
def test_what_iap_passes_on_reads_back_as_what_it_read(settings: list[tuple[str, str]]) -> None:
    assert read_options(encode_options(settings)) == settings


def startup(**params: str) -> pgm.StartupMessage:
    return pgm.StartupMessage.make({"user": "x", "database": "app", **params})


def test_check_startup_passes_the_options_it_read_and_refuses_a_hidden_role() -> None:
    passed = check_startup(startup(options="-capplication_name=a\\ b  --DateStyle=iso"), CONNECTION)
    assert passed == {"options": "-c application_name=a\\ b -c DateStyle=iso"}
    assert check_startup(startup(options=" -b "), CONNECTION) == {}  # nothing to pass on

    with pytest.raises(StartupRefused) as refused:
        check_startup(startup(options="-c application_name=x\\\\ -crole=postgres"), CONNECTION)
    assert refused.value.code == "42501"
    assert "role='postgres'" in str(refused.value)

    with pytest.raises(StartupRefused) as refused:
        check_startup(startup(options="-ec role=postgres"), CONNECTION)
    assert "role='postgres'" in str(refused.value)
