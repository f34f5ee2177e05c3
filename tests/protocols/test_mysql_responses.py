"""protocols.mysql.responses: where each captured MariaDB answer ends, and what it said.

Every answer in mysql_captures.py is split into its physical packets and fed one by one to a
ResponseTracker with the session's DEPRECATE_EOF setting: the command must end exactly at the
last packet, with the rows, affected rows, results, error and prepared statement the answer
carried. Answers with a 16 MiB row are built here (the server's max_allowed_packet is 16 MiB).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mysql_captures import DEPRECATE_EOF_SESSION, EOF_SESSION, Exchange

from protocols.errors import RemoteProtocolError
from protocols.mysql.messages import Command, PrepareOk, Status
from protocols.mysql.packets import MAX_CHUNK, encode_packet, lenenc_str, scan_packets
from protocols.mysql.responses import EXPECT, Expect, Outcome, ResponseTracker

SESSIONS = {"eof": (EOF_SESSION, False), "deprecate_eof": (DEPRECATE_EOF_SESSION, True)}


def packets(wire: bytes) -> list[bytes]:
    spans = scan_packets(wire)
    assert (spans[-1][1] if spans else 0) == len(wire), "whole packets"
    return [wire[s:e] for s, e in spans]


def feed(tracker: ResponseTracker[str], payloads: list[bytes]) -> list[tuple[int, Outcome[str]]]:
    """(index of the packet that ended it, outcome) for every command that ended."""
    ended = []
    for i, payload in enumerate(payloads):
        ended += [(i, outcome) for outcome in tracker.feed(payload)]
    return ended


@dataclass(frozen=True)
class Said:
    """What an answer should say: the Outcome's counters."""

    rows: int = 0
    affected: int = 0
    results: int = 0
    error: int | None = None
    status: int | None = None


CASES = {
    "create_table": (Expect.RESULT, Said(results=1, status=Status.AUTOCOMMIT)),
    "insert": (Expect.RESULT, Said(affected=3, results=1, status=Status.AUTOCOMMIT)),
    "select_union": (Expect.RESULT, Said(rows=2, results=1, status=0x22)),
    "update": (Expect.RESULT, Said(affected=2, results=1, status=Status.AUTOCOMMIT)),
    "syntax_error": (Expect.RESULT, Said(error=1064)),
    "multi_select": (Expect.RESULT, Said(rows=2, results=2, status=Status.AUTOCOMMIT)),
    "multi_update_select": (
        Expect.RESULT,
        Said(rows=1, affected=1, results=2, status=Status.AUTOCOMMIT),
    ),
    "execute": (Expect.RESULT, Said(rows=1, results=1, status=Status.AUTOCOMMIT)),
    # with a cursor the rows come by COM_STMT_FETCH: the answer ends after the columns
    "execute_cursor": (
        Expect.RESULT,
        Said(
            results=1,
            status=Status.AUTOCOMMIT | Status.NO_INDEX_USED | Status.CURSOR_EXISTS,
        ),
    ),
    "fetch_two_rows": (
        Expect.ROWS,
        Said(rows=2, status=Status.AUTOCOMMIT | Status.CURSOR_EXISTS),
    ),
    "fetch_last_row": (
        Expect.ROWS,
        Said(rows=1, status=Status.AUTOCOMMIT | Status.LAST_ROW_SENT),
    ),
    "ping": (Expect.ONE, Said(status=Status.AUTOCOMMIT)),
    "statistics": (Expect.ONE, Said()),
    "field_list": (Expect.FIELDS, Said()),
}


@pytest.mark.parametrize("mode", SESSIONS)
@pytest.mark.parametrize("name", CASES)
def test_captured_answer_ends_at_its_last_packet(mode: str, name: str) -> None:
    session, deprecate_eof = SESSIONS[mode]
    expect, said = CASES[name]
    payloads = packets(session[name].answer)
    tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof)
    assert tracker.expect(expect, name) is None
    assert tracker.current == name
    ended = feed(tracker, payloads)
    assert [(i, o.tag) for i, o in ended] == [(len(payloads) - 1, name)]
    outcome = ended[0][1]
    assert outcome.expect is expect
    assert (outcome.rows, outcome.affected, outcome.results) == (
        said.rows,
        said.affected,
        said.results,
    )
    assert (outcome.error.code if outcome.error else None) == said.error
    if expect is Expect.RESULT:  # every result of an answer without an error ended
        assert outcome.completed == (0 if said.error else said.results)
    if said.status is not None:
        assert outcome.status == said.status
    assert outcome.prepared is None
    assert tracker.pending == 0
    assert tracker.current is None


@pytest.mark.parametrize("mode", SESSIONS)
@pytest.mark.parametrize(
    ("name", "prepared"),
    [
        ("prepare", {"eof": PrepareOk(1, 2, 2, 0), "deprecate_eof": PrepareOk(5, 2, 2, 0)}),
        ("prepare_cursor", {"eof": PrepareOk(2, 2, 0, 0), "deprecate_eof": PrepareOk(6, 2, 0, 0)}),
    ],
)
def test_captured_prepare_answer_ends_at_its_last_packet(
    mode: str, name: str, prepared: dict[str, PrepareOk]
) -> None:
    session, deprecate_eof = SESSIONS[mode]
    payloads = packets(session[name].answer)
    # OK, params' definitions, [EOF], columns' definitions, [EOF]
    definitions = prepared[mode].params + prepared[mode].columns
    eofs = (prepared[mode].params > 0) + (prepared[mode].columns > 0)
    assert len(payloads) == 1 + definitions + (0 if deprecate_eof else eofs)
    tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof)
    tracker.expect(Expect.PREPARE, name)
    ended = feed(tracker, payloads)
    assert [i for i, _ in ended] == [len(payloads) - 1]
    assert ended[0][1].prepared == prepared[mode]


def test_prepare_without_params_or_columns_ends_with_its_ok() -> None:
    ok = b"\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"  # e.g. PREPARE of a DO 1
    for deprecate_eof in (False, True):
        tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof)
        tracker.expect(Expect.PREPARE, "do")
        (outcome,) = tracker.feed(ok)
        assert outcome.prepared == PrepareOk(7, 0, 0, 0)


@pytest.mark.parametrize("mode", SESSIONS)
def test_prepare_refused_ends_with_its_error(mode: str) -> None:
    session, deprecate_eof = SESSIONS[mode]
    tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof)
    tracker.expect(Expect.PREPARE, "bad")
    (outcome,) = tracker.feed(packets(session["syntax_error"].answer)[0])
    assert outcome.error is not None
    assert outcome.prepared is None


@pytest.mark.parametrize("mode", SESSIONS)
def test_a_whole_captured_session_in_order(mode: str) -> None:
    session, deprecate_eof = SESSIONS[mode]
    tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof)
    done: list[str] = []
    expects = {**{name: CASES[name][0] for name in CASES}, "prepare": Expect.PREPARE}
    expects |= {"prepare_cursor": Expect.PREPARE, "close_cursor": Expect.NOTHING}
    for name, exchange in session.items():
        if name in ("local_infile", "local_infile_empty_reply", "pipelined"):
            continue
        command = Command(packets(exchange.sent)[0][0])
        assert EXPECT.get(command, Expect.ONE) is expects[name], name
        immediate = tracker.expect(expects[name], name)
        if immediate is not None:
            done.append(immediate.tag)
        for payload in packets(exchange.answer):
            done += [o.tag for o in tracker.feed(payload)]
        assert done[-1] == name
    assert tracker.pending == 0


# -- pipelining ------------------------------------------------------------------------------

PIPELINE = [
    ("select", Expect.RESULT),
    ("close", Expect.NOTHING),
    ("error", Expect.RESULT),
    ("ping", Expect.ONE),
    ("update", Expect.RESULT),
]


@pytest.mark.parametrize("mode", SESSIONS)
def test_pipelined_commands_each_end_at_their_own_packet(mode: str) -> None:
    session, deprecate_eof = SESSIONS[mode]
    payloads = packets(session["pipelined"].answer)
    rows_end = 7 if not deprecate_eof else 6  # count, 1 definition, [EOF], 3 rows, terminator
    tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof)
    for tag, expect in PIPELINE:
        assert tracker.expect(expect, tag) is None  # the close waits behind the select
    assert tracker.pending == 5
    ended = feed(tracker, payloads)
    assert [(i, o.tag) for i, o in ended] == [
        (rows_end - 1, "select"),
        (rows_end - 1, "close"),
        (rows_end, "error"),
        (rows_end + 1, "ping"),
        (rows_end + 2, "update"),
    ]
    assert rows_end + 2 == len(payloads) - 1
    outcomes = {o.tag: o for _, o in ended}
    assert outcomes["select"].rows == 3
    assert outcomes["close"].rows == 0
    assert outcomes["error"].error is not None
    assert outcomes["error"].error.code == 1064
    assert outcomes["ping"].error is None
    assert outcomes["update"].affected == 3


def test_current_follows_the_queue() -> None:
    payloads = packets(EOF_SESSION["pipelined"].answer)
    tracker: ResponseTracker[str] = ResponseTracker(False)
    for tag, expect in PIPELINE:
        tracker.expect(expect, tag)
    currents = []
    for payload in payloads:
        currents.append(tracker.current)
        tracker.feed(payload)
    assert currents == ["select"] * 7 + ["error", "ping", "update"]
    assert tracker.current is None


def test_nothing_expected_with_no_command_pending_ends_at_once() -> None:
    tracker: ResponseTracker[str] = ResponseTracker(True)
    outcome = tracker.expect(Expect.NOTHING, "close")
    assert outcome is not None
    assert (outcome.tag, outcome.expect) == ("close", Expect.NOTHING)
    assert tracker.pending == 0


def test_nothing_behind_a_pending_command_ends_with_it() -> None:
    tracker: ResponseTracker[str] = ResponseTracker(False)
    tracker.expect(Expect.ONE, "ping")
    assert tracker.expect(Expect.NOTHING, "close 1") is None
    assert tracker.expect(Expect.NOTHING, "close 2") is None
    tracker.expect(Expect.ONE, "ping again")
    ok = packets(EOF_SESSION["ping"].answer)[0]
    assert [o.tag for o in tracker.feed(ok)] == ["ping", "close 1", "close 2"]
    assert [o.tag for o in tracker.feed(ok)] == ["ping again"]
    assert tracker.pending == 0


def test_abandon_returns_the_unanswered_commands_and_starts_afresh() -> None:
    """The connection ended: the commands still waiting come back in order (the first with
    what arrived of its answer), and a new answer is read from its first packet."""
    payloads = packets(EOF_SESSION["select_union"].answer)
    tracker: ResponseTracker[str] = ResponseTracker(False)
    tracker.expect(Expect.RESULT, "select")
    tracker.expect(Expect.ONE, "ping")
    assert feed(tracker, payloads[:5]) == []  # the columns and a row of the select
    left = tracker.abandon()
    assert [(o.tag, o.rows, o.results, o.completed) for o in left] == [
        ("select", 1, 1, 0),
        ("ping", 0, 0, 0),
    ]
    assert (tracker.pending, tracker.current) == (0, None)
    tracker.expect(Expect.ONE, "ping again")
    ok = packets(EOF_SESSION["ping"].answer)[0]
    assert [o.tag for o in tracker.feed(ok)] == ["ping again"]


# -- what must raise -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", SESSIONS)
def test_a_packet_no_command_asked_for_raises(mode: str) -> None:
    session, deprecate_eof = SESSIONS[mode]
    tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof)
    with pytest.raises(RemoteProtocolError, match="no command asked for"):
        tracker.feed(packets(session["ping"].answer)[0])
    tracker.expect(Expect.ONE, "ping")
    tracker.feed(packets(session["ping"].answer)[0])
    with pytest.raises(RemoteProtocolError, match="no command asked for"):
        tracker.feed(packets(session["ping"].answer)[0])  # one answer too many


@pytest.mark.parametrize("mode", SESSIONS)
def test_local_infile_request_raises(mode: str) -> None:
    session, deprecate_eof = SESSIONS[mode]
    (request,) = packets(session["local_infile"].answer)
    assert request == b"\xfb/nonexistent.csv"
    tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof)
    tracker.expect(Expect.RESULT, "load data")
    with pytest.raises(RemoteProtocolError, match="LOCAL INFILE"):
        tracker.feed(request)


def test_a_row_where_the_eof_after_column_definitions_belongs_raises() -> None:
    payloads = packets(EOF_SESSION["select_union"].answer)
    without_eof = payloads[:3] + payloads[4:]  # count, 2 definitions, then a row
    tracker: ResponseTracker[str] = ResponseTracker(False)
    tracker.expect(Expect.RESULT, "select")
    with pytest.raises(RemoteProtocolError, match="expected EOF"):
        feed(tracker, without_eof)


def test_a_result_with_no_columns_raises() -> None:
    tracker: ResponseTracker[str] = ResponseTracker(True)
    tracker.expect(Expect.RESULT, "select")
    with pytest.raises(RemoteProtocolError, match="no columns"):
        tracker.feed(b"\xfc\x00\x00")


def test_an_empty_packet_raises() -> None:
    tracker: ResponseTracker[str] = ResponseTracker(True)
    tracker.expect(Expect.ONE, "ping")
    with pytest.raises(RemoteProtocolError, match="empty"):
        tracker.feed(b"")


def test_a_prepare_answered_with_a_result_set_raises() -> None:
    tracker: ResponseTracker[str] = ResponseTracker(True)
    tracker.expect(Expect.PREPARE, "prepare")
    with pytest.raises(RemoteProtocolError):
        tracker.feed(packets(DEPRECATE_EOF_SESSION["select_union"].answer)[0])


@given(st.binary(max_size=80), st.booleans(), st.sampled_from(list(Expect)))
def test_random_packets_only_raise_remote_errors(
    data: bytes, deprecate_eof: bool, expect: Expect
) -> None:
    tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof)
    tracker.expect(expect, "x")
    tracker.expect(Expect.RESULT, "y")
    try:
        for start, end in scan_packets(data):
            tracker.feed(data[start:end])
    except RemoteProtocolError:
        pass


# -- rows of 16 MiB and more -----------------------------------------------------------------


def with_big_row(exchange: Exchange, deprecate_eof: bool, row: bytes) -> list[bytes]:
    """The captured select_union answer with row inserted before its captured rows, as the
    physical packets the server would send."""
    captured = packets(exchange.answer)
    rows_start = 3 if deprecate_eof else 4  # after count, 2 definitions, [EOF]
    big = packets(encode_packet(rows_start + 1, row))
    return captured[:rows_start] + big + captured[rows_start:]


@pytest.mark.parametrize("mode", SESSIONS)
@pytest.mark.parametrize(
    "row",
    [
        # first value 16 MiB: its length is 0xFE + 8 bytes, the row starts like an EOF
        lenenc_str(b"a" * (1 << 24)) + lenenc_str(b"x"),
        # a row of exactly 16 MiB - 1 bytes, followed by an empty packet
        lenenc_str(b"b" * (MAX_CHUNK - 5)) + b"\xfb",
        # two continuations
        lenenc_str(b"c" * (2 * MAX_CHUNK)) + b"\xfb",
    ],
    ids=["starts-with-0xfe", "exact-chunk", "two-continuations"],
)
def test_a_row_of_16_mib_or_more_counts_as_one_row(mode: str, row: bytes) -> None:
    session, deprecate_eof = SESSIONS[mode]
    payloads = with_big_row(session["select_union"], deprecate_eof, row)
    assert any(len(p) == MAX_CHUNK for p in payloads)
    tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof)
    tracker.expect(Expect.RESULT, "select")
    tracker.expect(Expect.ONE, "ping")
    ended = feed(tracker, payloads)
    assert [(i, o.tag) for i, o in ended] == [(len(payloads) - 1, "select")]
    assert ended[0][1].rows == 3
    assert tracker.current == "ping"
    (ping,) = tracker.feed(packets(session["ping"].answer)[0])
    assert ping.tag == "ping"


# -- errors inside an answer -----------------------------------------------------------------


@pytest.mark.parametrize("mode", SESSIONS)
def test_an_error_after_some_rows_ends_the_answer(mode: str) -> None:
    session, deprecate_eof = SESSIONS[mode]
    first_row = 3 if deprecate_eof else 4
    payloads = packets(session["select_union"].answer)[: first_row + 1]
    payloads += packets(session["syntax_error"].answer)  # e.g. the query was killed
    tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof)
    tracker.expect(Expect.RESULT, "select")
    ended = feed(tracker, payloads)
    assert [i for i, _ in ended] == [len(payloads) - 1]
    assert ended[0][1].rows == 1
    assert ended[0][1].error is not None
    assert ended[0][1].completed == 0  # the statement failed: its result set never ended


@pytest.mark.parametrize("mode", SESSIONS)
def test_an_error_in_a_later_statement_ends_a_multi_statement_answer(mode: str) -> None:
    session, deprecate_eof = SESSIONS[mode]
    first_result_end = 4 if deprecate_eof else 5  # the result of SELECT 1, MORE_RESULTS set
    payloads = packets(session["multi_select"].answer)[:first_result_end]
    payloads += packets(session["syntax_error"].answer)
    tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof)
    tracker.expect(Expect.RESULT, "select 1; selec 2")
    ended = feed(tracker, payloads)
    assert [i for i, _ in ended] == [len(payloads) - 1]
    outcome = ended[0][1]
    assert (outcome.rows, outcome.results, outcome.completed) == (1, 1, 1)
    assert outcome.error is not None


@pytest.mark.parametrize("mode", SESSIONS)
def test_completed_counts_the_statements_that_ran_before_the_error(mode: str) -> None:
    """UPDATE ...; <error>: the UPDATE's OK ended (it ran), the second statement failed."""
    session, deprecate_eof = SESSIONS[mode]
    update_ok = packets(session["multi_update_select"].answer)[:1]
    payloads = update_ok + packets(session["syntax_error"].answer)
    tracker: ResponseTracker[str] = ResponseTracker(deprecate_eof)
    tracker.expect(Expect.RESULT, "update; selec")
    ((_, outcome),) = feed(tracker, payloads)
    assert (outcome.results, outcome.completed, outcome.affected) == (1, 1, 1)
    assert outcome.error is not None and outcome.error.code == 1064
