"""protocols.postgres.framing: frame scanning for the relay's fast path, on captured bytes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from captures import ALL, BACKEND
from hypothesis import given
from hypothesis import strategies as st

from protocols.errors import RemoteProtocolError
from protocols.postgres import messages as m
from protocols.postgres.framing import (
    MAX_MESSAGE_SIZE,
    command_rows,
    command_tag,
    error_code_and_message,
    frame_length,
    parameter_status,
    ready_status,
    scan_frames,
)


def backend_typed_stream(capture_name: str) -> bytes:
    """A capture's server stream without the one-byte answer to SSLRequest."""
    stream: bytes = ALL[capture_name].stream(BACKEND)
    return stream[1:] if stream.startswith(b"N") else stream


@pytest.mark.parametrize("name", [name for name in ALL if ALL[name].backend])
def test_scan_finds_every_captured_backend_frame(name: str) -> None:
    stream = backend_typed_stream(name)
    frames, rest = scan_frames(memoryview(stream))
    assert rest == len(stream)
    decoded = [m.decode_backend(t, stream[start:end]) for t, start, end in frames]
    expected = [n for n in ALL[name].backend if n != "SSLResponse"]
    assert [type(x).__name__ for x in decoded] == expected


def test_scan_stops_at_an_incomplete_frame_at_every_cut() -> None:
    stream = backend_typed_stream("psql_notice_notify_transaction")
    whole, _ = scan_frames(stream)
    for cut in range(len(stream) + 1):
        frames, rest = scan_frames(bytearray(stream[:cut]))
        assert frames == whole[: len(frames)]
        assert rest == (frames[-1][2] if frames else 0)
        if len(frames) < len(whole):
            assert cut < whole[len(frames)][2]  # the next frame is really incomplete


def test_scan_from_an_offset() -> None:
    data = b"junk" + m.Sync().encode() + m.ReadyForQuery("T").encode() + b"Z\x00"
    frames, rest = scan_frames(data, start=4)
    assert frames == [(ord("S"), 9, 9), (ord("Z"), 14, 15)]
    assert rest == 15
    assert scan_frames(data, start=len(data)) == ([], len(data))


@pytest.mark.parametrize("length", [0, 3, -1, MAX_MESSAGE_SIZE + 1, 1 << 30])
def test_bad_declared_length_raises_before_the_bytes_arrive(length: int) -> None:
    header = b"D" + length.to_bytes(4, "big", signed=True)
    with pytest.raises(RemoteProtocolError, match="declares length"):
        scan_frames(header)
    with pytest.raises(RemoteProtocolError):
        scan_frames(m.Sync().encode() + header)


def test_max_size_is_configurable() -> None:
    frame = m.DataRow((b"x" * 100,)).encode()
    declared = len(frame) - 1
    assert frame_length(frame, 0, max_size=declared) == declared
    assert scan_frames(frame, max_size=declared) == ([(ord("D"), 5, len(frame))], len(frame))
    with pytest.raises(RemoteProtocolError):
        scan_frames(frame, max_size=declared - 1)


def test_payload_readers_on_captured_frames() -> None:
    stream = backend_typed_stream("psql_error")
    frames, _ = scan_frames(stream)
    view = memoryview(stream)
    by_type = {chr(t): view[start:end] for t, start, end in frames}
    assert error_code_and_message(by_type["E"]) == ("22012", "division by zero")
    assert ready_status(by_type["Z"]) == "I"
    assert parameter_status(by_type["S"]) == ("TimeZone", "Etc/UTC")  # the last one

    stream = backend_typed_stream("psql_notice_notify_transaction")
    frames, _ = scan_frames(stream)
    tags = [command_tag(stream[s:e]) for t, s, e in frames if t == ord("C")]
    assert tags == ["DROP TABLE", "LISTEN", "NOTIFY", "BEGIN", "SELECT 1"]
    assert [command_rows(stream[s:e]) for t, s, e in frames if t == ord("C")] == [
        None,
        None,
        None,
        None,
        1,
    ]
    statuses = [ready_status(stream[s:e]) for t, s, e in frames if t == ord("Z")]
    assert statuses == ["I", "I", "I", "I", "T", "T"]


@pytest.mark.parametrize("status", ["I", "T", "E"])
def test_ready_status(status: m.TransactionStatus) -> None:
    assert ready_status(memoryview(m.ReadyForQuery(status).encode())[5:]) == status


@pytest.mark.parametrize(
    ("reader", "payload"),
    [
        (ready_status, b""),
        (ready_status, b"X"),
        (ready_status, b"II"),
        (error_code_and_message, b"C42501"),
        (parameter_status, b"name\0"),
        (command_tag, b"SELECT 1"),
        (command_rows, b""),
    ],
)
def test_payload_readers_reject_malformed(
    reader: Callable[[memoryview], object], payload: bytes
) -> None:
    with pytest.raises(RemoteProtocolError):
        reader(memoryview(payload))


def test_command_rows() -> None:
    for tag, rows in [("INSERT 0 3", 3), ("DELETE 2", 2), ("SELECT 5", 5), ("CREATE TABLE", None)]:
        assert command_rows(m.CommandComplete(tag).encode()[5:]) == rows


@given(st.binary(max_size=200), st.integers(0, 10))
def test_scan_random_bytes_only_raises_remote_errors(data: bytes, start: int) -> None:
    try:
        frames, rest = scan_frames(data, start=start, max_size=1000)
    except RemoteProtocolError:
        return
    position = start
    for _type, payload_start, frame_end in frames:
        assert payload_start == position + 5
        position = frame_end
    assert rest == position <= max(len(data), start)
