"""The PostgreSQL reply tracker pairs server replies with the messages they answer.

Pure: message types in, events out, no sockets. The sequences are the server's documented
replies (and what PostgreSQL 15 was seen to send for them in tests/e2e/test_pg_state.py,
which replays random pipelines against the real server through this tracker).
"""

from __future__ import annotations

import pytest

from protocols.errors import RemoteProtocolError
from protocols.postgres.replies import Done, Failed, Ready, ReplyTracker, Skipped

Q, P, B, D, E, C, S, H, F = (ord(c) for c in "QPBDECSHF")
COPY_DATA, COPY_DONE, COPY_FAIL = ord("d"), ord("c"), ord("f")


def reply(tracker: ReplyTracker, kinds: str, status: bytes = b"I") -> list[object]:
    events: list[object] = []
    for k in kinds:
        payload = status if k == "Z" else b"SELECT 1\x00" if k == "C" else b""
        events.extend(tracker.received(ord(k), payload))
    return events


def send(tracker: ReplyTracker, *messages: tuple[int, object]) -> list[object]:
    events: list[object] = []
    for kind, token in messages:
        events.extend(tracker.sent(kind, token))
    return events


def test_extended_batch_is_answered_message_by_message() -> None:
    t = ReplyTracker()
    send(t, (P, "parse"), (B, "bind"), (D, "describe"), (E, "execute"), (S, "sync"))
    assert not t.idle
    events = reply(t, "12TDDCZ")
    assert events == [
        Done("parse", P),
        Done("bind", B),
        Done("describe", D),
        Done("execute", E, b"SELECT 1\x00"),
        Ready("sync", S, "I"),
    ]
    assert t.idle


def test_an_error_skips_to_sync_and_reports_what_did_not_run() -> None:
    t = ReplyTracker()
    send(t, (P, "p1"), (B, "b1"), (E, "e1"), (H, None), (P, "p2"), (S, "sync"), (Q, "q"))
    events = reply(t, "1E")  # Bind fails
    assert events == [Done("p1", P), Failed("b1", B), Skipped("e1", E), Skipped("p2", P)]
    assert reply(t, "Z", b"E") == [Ready("sync", S, "E")]
    # the Query after the Sync runs normally
    assert reply(t, "TDCZ") == [Done("q", Q, b"SELECT 1\x00"), Ready("q", Q, "I")]


def test_messages_sent_while_the_server_skips_are_reported_skipped_at_once() -> None:
    t = ReplyTracker()
    send(t, (P, "p1"), (H, None))
    assert reply(t, "E") == [Failed("p1", P)]
    # the client has not sent its Sync yet: everything it sends until then is discarded
    assert send(t, (B, "b"), (E, "e"), (Q, "q")) == [
        Skipped("b", B),
        Skipped("e", E),
        Skipped("q", Q),
    ]
    send(t, (S, "sync"))
    assert reply(t, "Z") == [Ready("sync", S, "I")]


def test_a_simple_query_is_one_unit_with_a_done_per_statement() -> None:
    t = ReplyTracker()
    send(t, (Q, "q"))
    assert reply(t, "CTDC") == [Done("q", Q, b"SELECT 1\x00"), Done("q", Q, b"SELECT 1\x00")]
    assert reply(t, "EZ", b"I") == [Failed("q", Q), Ready("q", Q, "I")]


def test_empty_query_and_portal_suspended() -> None:
    t = ReplyTracker()
    send(t, (Q, "q"), (B, "b"), (E, "e"), (E, "e2"), (S, "s"))
    assert reply(t, "IZ") == [Done("q", Q), Ready("q", Q, "I")]
    assert reply(t, "2DsIZ") == [
        Done("b", B),
        Done("e", E, None, suspended=True),
        Done("e2", E),
        Ready("s", S, "I"),
    ]


def test_flush_is_never_answered() -> None:
    t = ReplyTracker()
    send(t, (P, "p"), (H, None))
    assert reply(t, "1") == [Done("p", P)]
    assert t.idle


def test_copy_in_ignores_sync_and_flush_sent_during_it() -> None:
    t = ReplyTracker()
    send(t, (B, "b"), (E, "copy"), (S, "sync1"))
    assert reply(t, "2G") == [Done("b", B)]
    send(t, (COPY_DATA, None), (H, None), (COPY_DATA, None), (COPY_DONE, None), (S, "sync2"))
    # the server ignored sync1 (it came during COPY); sync2 ends the batch
    assert reply(t, "CZ") == [Done("copy", E, b"SELECT 1\x00"), Ready("sync2", S, "I")]
    assert t.idle


def test_copy_in_error_in_extended_protocol_skips_to_the_next_sync() -> None:
    t = ReplyTracker()
    send(t, (E, "copy"), (S, None), (COPY_DATA, None), (COPY_FAIL, None), (P, "p"), (S, "s2"))
    events = reply(t, "GE")
    assert events == [Failed("copy", E), Skipped("p", P)]
    assert reply(t, "Z") == [Ready("s2", S, "I")]


def test_copy_in_by_simple_query() -> None:
    t = ReplyTracker()
    send(t, (Q, "q"), (COPY_DATA, None), (COPY_DONE, None))
    assert reply(t, "GCZ") == [Done("q", Q, b"SELECT 1\x00"), Ready("q", Q, "I")]
    # copy data after a failed COPY is dropped by the server outside COPY mode
    send(t, (Q, "q2"), (COPY_DATA, None))
    assert reply(t, "GEZ") == [Failed("q2", Q), Ready("q2", Q, "I")]
    send(t, (COPY_DONE, None), (Q, "q3"))
    assert reply(t, "CZ") == [Done("q3", Q, b"SELECT 1\x00"), Ready("q3", Q, "I")]


def test_copy_out() -> None:
    t = ReplyTracker()
    send(t, (Q, "q"))
    assert reply(t, "HddcCZ") == [Done("q", Q, b"SELECT 1\x00"), Ready("q", Q, "I")]


def test_function_call() -> None:
    t = ReplyTracker()
    send(t, (F, "f"))
    assert reply(t, "VZ") == [Done("f", F), Ready("f", F, "I")]
    send(t, (F, "g"))
    assert reply(t, "EZ") == [Failed("g", F), Ready("g", F, "I")]


def test_asynchronous_messages_change_nothing() -> None:
    t = ReplyTracker()
    assert reply(t, "NSA") == []
    send(t, (P, "p"))
    assert reply(t, "NS1") == [Done("p", P)]


def test_an_error_at_idle_answers_nothing() -> None:
    assert reply(ReplyTracker(), "E") == [Failed(None, 0)]


@pytest.mark.parametrize(
    ("sent", "replies"),
    [
        ("", "1"),  # ParseComplete with nothing outstanding
        ("B", "1"),  # ParseComplete for a Bind
        ("P", "Z"),  # ReadyForQuery before the Parse was answered
        ("E", "T"),  # RowDescription for an Execute
        ("S", "E"),  # an error answering a Sync
        ("", "Z"),
        ("ESd", "GC"),  # COPY done before the client sent CopyDone
        ("ESdSd", "GE"),  # a Sync inside COPY data, then an error: position unknown
        ("Q", "W"),  # CopyBoth (replication) is not followed
    ],
)
def test_replies_the_rules_do_not_allow_end_the_session(sent: str, replies: str) -> None:
    t = ReplyTracker()
    for k in sent:
        t.sent(ord(k))
    with pytest.raises(RemoteProtocolError):
        reply(t, replies)


def test_unknown_frontend_messages_are_refused() -> None:
    with pytest.raises(ValueError):
        ReplyTracker().sent(ord("X"))
