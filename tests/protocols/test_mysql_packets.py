"""protocols.mysql.packets: framing, the packet reader and length-encoded values.

Captured MariaDB answers (mysql_captures.py) for the ordinary sizes; payloads of 16 MiB and
more are built here, since the server's max_allowed_packet stops at 16 MiB.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mysql_captures import DEPRECATE_EOF_SESSION, EOF_SESSION, PYMYSQL_SET_NAMES, Exchange

from protocols.errors import LocalProtocolError, RemoteProtocolError
from protocols.mysql.packets import (
    HEADER_SIZE,
    MAX_CHUNK,
    PacketReader,
    encode_packet,
    lenenc_int,
    lenenc_str,
    read_lenenc_int,
    read_lenenc_str,
    read_nul_str,
    scan_packets,
)

SELECT_UNION = EOF_SESSION["select_union"].answer
PIPELINED = EOF_SESSION["pipelined"].answer


def header(length: int, seq: int) -> bytes:
    return length.to_bytes(3, "little") + bytes((seq,))


def physical(data: bytes) -> list[tuple[int, int, bytes]]:
    """(length, seq, payload) of each physical packet in data, read by hand."""
    out = []
    pos = 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 3], "little")
        out.append((length, data[pos + 3], data[pos + 4 : pos + 4 + length]))
        pos += 4 + length
    assert pos == len(data)
    return out


# -- encode_packet ---------------------------------------------------------------------------


def test_encode_matches_what_pymysql_sent() -> None:
    assert encode_packet(0, b"\x03SET NAMES utf8mb4") == PYMYSQL_SET_NAMES


def test_encode_matches_every_captured_server_packet() -> None:
    for answer in (SELECT_UNION, PIPELINED, DEPRECATE_EOF_SESSION["prepare"].answer):
        for length, seq, payload in physical(answer):
            assert encode_packet(seq, payload) == header(length, seq) + payload


def test_payload_just_under_the_chunk_size_is_one_packet() -> None:
    payload = b"a" * (MAX_CHUNK - 1)
    assert encode_packet(3, payload) == b"\xfe\xff\xff\x03" + payload


def test_payload_of_exactly_the_chunk_size_ends_with_an_empty_packet() -> None:
    payload = b"b" * MAX_CHUNK
    assert encode_packet(0, payload) == b"\xff\xff\xff\x00" + payload + b"\x00\x00\x00\x01"


def test_payload_of_two_chunks_ends_with_an_empty_third_packet() -> None:
    payload = b"c" * MAX_CHUNK + b"d" * MAX_CHUNK
    wire = encode_packet(5, payload)
    assert [(length, seq) for length, seq, _ in physical(wire)] == [
        (MAX_CHUNK, 5),
        (MAX_CHUNK, 6),
        (0, 7),
    ]
    assert len(wire) == len(payload) + 3 * HEADER_SIZE


def test_long_payload_continues_and_sequence_ids_wrap() -> None:
    payload = bytes(range(256)) * (MAX_CHUNK // 256) + b"tail" * 100
    wire = encode_packet(255, payload)
    packets = physical(wire)
    assert [(length, seq) for length, seq, _ in packets] == [
        (MAX_CHUNK, 255),
        (len(payload) - MAX_CHUNK, 0),
    ]
    assert b"".join(p for _, _, p in packets) == payload


def test_empty_payload_is_a_bare_header() -> None:
    assert encode_packet(2, b"") == b"\x00\x00\x00\x02"


# -- PacketReader ----------------------------------------------------------------------------


def test_reader_returns_each_captured_packet_fed_a_byte_at_a_time() -> None:
    reader = PacketReader()
    packets = []
    for i in range(len(PIPELINED)):
        reader.receive_data(PIPELINED[i : i + 1])
        while (packet := reader.next_packet()) is not None:
            packets.append(packet)
    expected = physical(PIPELINED)
    assert [(p.seq, p.last_seq, p.payload) for p in packets] == [
        (seq, seq, payload) for _, seq, payload in expected
    ]
    assert b"".join(p.raw for p in packets) == PIPELINED
    assert reader.buffered == 0


def test_reader_returns_none_until_the_packet_is_whole() -> None:
    first_length = int.from_bytes(SELECT_UNION[:3], "little")
    for cut in range(HEADER_SIZE + first_length):
        reader = PacketReader()
        reader.receive_data(SELECT_UNION[:cut])
        assert reader.next_packet() is None
        assert reader.buffered == cut  # nothing consumed
    reader = PacketReader()
    reader.receive_data(SELECT_UNION[: HEADER_SIZE + first_length])
    packet = reader.next_packet()
    assert packet is not None
    assert packet.payload == b"\x02"  # the column count
    assert reader.next_packet() is None


def test_reader_keeps_the_rest_buffered() -> None:
    reader = PacketReader()
    reader.receive_data(SELECT_UNION + b"\x05\x00")
    count = 0
    while reader.next_packet() is not None:
        count += 1
    assert count == 7
    assert reader.buffered == 2


def test_reader_joins_a_continuation_and_keeps_the_raw_bytes() -> None:
    payload = b"\x03" + b"x" * MAX_CHUNK + b"rest"
    wire = encode_packet(7, payload) + encode_packet(0, b"\x0e")
    reader = PacketReader()
    reader.receive_data(wire)
    packet = reader.next_packet()
    assert packet is not None
    assert packet.payload == payload
    assert (packet.seq, packet.last_seq) == (7, 8)
    assert packet.raw == wire[: HEADER_SIZE * 2 + len(payload)]
    following = reader.next_packet()
    assert following is not None
    assert following.payload == b"\x0e"


def test_reader_joins_an_exact_multiple_with_its_empty_last_packet() -> None:
    payload = b"y" * MAX_CHUNK
    wire = encode_packet(0, payload)
    reader = PacketReader()
    reader.receive_data(wire[:-HEADER_SIZE])  # without the empty packet: not done
    assert reader.next_packet() is None
    reader.receive_data(wire[-HEADER_SIZE:])
    packet = reader.next_packet()
    assert packet is not None
    assert (packet.payload, packet.seq, packet.last_seq, packet.raw) == (payload, 0, 1, wire)
    assert reader.buffered == 0


def test_reader_continuation_sequence_wraps_at_255() -> None:
    payload = b"z" * (MAX_CHUNK + 1)
    reader = PacketReader()
    reader.receive_data(encode_packet(255, payload))
    packet = reader.next_packet()
    assert packet is not None
    assert (packet.seq, packet.last_seq, packet.payload) == (255, 0, payload)


@pytest.mark.parametrize("bad_seq", [0, 3, 7])
def test_reader_rejects_a_continuation_with_the_wrong_sequence_id(bad_seq: int) -> None:
    wire = header(MAX_CHUNK, 1) + b"x" * MAX_CHUNK + header(3, bad_seq) + b"abc"
    reader = PacketReader()
    reader.receive_data(wire)
    with pytest.raises(RemoteProtocolError, match="sequence id"):
        reader.next_packet()


def test_reader_rejects_an_over_limit_length_from_the_header_alone() -> None:
    reader = PacketReader(max_payload=100)
    reader.receive_data(header(101, 0))
    with pytest.raises(RemoteProtocolError, match="longer than 100"):
        reader.next_packet()


def test_reader_accepts_a_payload_at_the_limit() -> None:
    reader = PacketReader(max_payload=100)
    reader.receive_data(encode_packet(0, b"q" * 100))
    packet = reader.next_packet()
    assert packet is not None
    assert len(packet.payload) == 100


def test_reader_limit_counts_the_continuations() -> None:
    limit = MAX_CHUNK + 10
    at_limit = PacketReader(max_payload=limit)
    at_limit.receive_data(encode_packet(0, b"r" * limit))
    packet = at_limit.next_packet()
    assert packet is not None
    assert len(packet.payload) == limit

    over = PacketReader(max_payload=limit)
    over.receive_data(header(MAX_CHUNK, 0) + b"r" * MAX_CHUNK + header(11, 1))
    with pytest.raises(RemoteProtocolError, match="gateway's limit"):
        over.next_packet()


@given(st.lists(st.binary(max_size=300), min_size=1, max_size=8), st.data())
def test_reader_returns_what_was_encoded_however_it_is_split(
    payloads: list[bytes], data: st.DataObject
) -> None:
    wire = b"".join(encode_packet(i, p) for i, p in enumerate(payloads))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=10)))
    reader = PacketReader()
    got = []
    for start, end in zip([0, *cuts], [*cuts, len(wire)], strict=True):
        reader.receive_data(wire[start:end])
        while (packet := reader.next_packet()) is not None:
            got.append(packet)
    assert [p.payload for p in got] == payloads
    assert [p.seq for p in got] == list(range(len(payloads)))
    assert b"".join(p.raw for p in got) == wire


# -- scan_packets ----------------------------------------------------------------------------


@pytest.mark.parametrize("session", [EOF_SESSION, DEPRECATE_EOF_SESSION], ids=["eof", "deprecate"])
def test_scan_finds_every_captured_packet(session: dict[str, Exchange]) -> None:
    for exchange in session.values():
        answer = exchange.answer
        spans = scan_packets(answer)
        assert [answer[s:e] for s, e in spans] == [p for _, _, p in physical(answer)]
        assert (spans[-1][1] if spans else 0) == len(answer)


def test_scan_stops_at_a_partial_packet_at_every_cut() -> None:
    whole = scan_packets(PIPELINED)
    for cut in range(len(PIPELINED) + 1):
        spans = scan_packets(memoryview(PIPELINED[:cut]))
        assert spans == whole[: len(spans)]
        if len(spans) < len(whole):
            assert cut < whole[len(spans)][1]  # the next one really is partial


def test_scan_from_an_offset() -> None:
    data = b"junk" + SELECT_UNION
    spans = scan_packets(bytearray(data), start=4)
    assert spans == [(s + 4, e + 4) for s, e in scan_packets(SELECT_UNION)]
    assert scan_packets(data, start=len(data)) == []


def test_scan_reports_physical_packets_of_a_continued_payload() -> None:
    wire = encode_packet(0, b"s" * (MAX_CHUNK + 2))
    assert scan_packets(wire) == [
        (HEADER_SIZE, HEADER_SIZE + MAX_CHUNK),
        (2 * HEADER_SIZE + MAX_CHUNK, len(wire)),
    ]


# -- length-encoded values -------------------------------------------------------------------

BOUNDARIES = [
    (0, b"\x00"),
    (250, b"\xfa"),
    (251, b"\xfc\xfb\x00"),
    (0xFFFF, b"\xfc\xff\xff"),
    (0x10000, b"\xfd\x00\x00\x01"),
    (0xFFFFFF, b"\xfd\xff\xff\xff"),
    (0x1000000, b"\xfe\x00\x00\x00\x01\x00\x00\x00\x00"),
    ((1 << 64) - 1, b"\xfe" + b"\xff" * 8),
]


@pytest.mark.parametrize(("value", "encoded"), BOUNDARIES)
def test_lenenc_int_at_each_width_boundary(value: int, encoded: bytes) -> None:
    assert lenenc_int(value) == encoded
    assert read_lenenc_int(b"ab" + encoded + b"\x07", 2) == (value, 2 + len(encoded))
    assert read_lenenc_int(memoryview(encoded), 0) == (value, len(encoded))


@pytest.mark.parametrize(("value", "encoded"), BOUNDARIES)
def test_truncated_lenenc_int_raises(value: int, encoded: bytes) -> None:
    for cut in range(len(encoded)):
        with pytest.raises(RemoteProtocolError):
            read_lenenc_int(encoded[:cut], 0)


@pytest.mark.parametrize("length", [0, 250, 251, 0xFFFF, 0x10000, 0xFFFFFF, 0x1000000])
def test_lenenc_str_round_trip_at_each_width_boundary(length: int) -> None:
    value = b"v" * length
    encoded = lenenc_str(value)
    assert encoded == lenenc_int(length) + value
    assert read_lenenc_str(encoded + b"next", 0) == (value, len(encoded))
    with pytest.raises(RemoteProtocolError, match="truncated"):
        read_lenenc_str(encoded[:-1], 0)


def test_null_marker_reads_as_none() -> None:
    assert read_lenenc_int(b"\xfb", 0) == (None, 1)
    assert read_lenenc_str(b"\x012\xfb", 2) == (None, 3)
    # the captured row (2, NULL) of select_union
    row = physical(SELECT_UNION)[5][2]
    first, pos = read_lenenc_str(row, 0)
    assert (first, read_lenenc_str(row, pos)) == (b"2", (None, len(row)))


def test_0xff_is_not_a_length() -> None:
    with pytest.raises(RemoteProtocolError, match="malformed"):
        read_lenenc_int(b"\xff\x00\x00", 0)


def test_reading_past_the_end_raises() -> None:
    with pytest.raises(RemoteProtocolError):
        read_lenenc_int(b"", 0)
    with pytest.raises(RemoteProtocolError):
        read_lenenc_str(b"\x05", 1)


def test_negative_lenenc_int_is_our_error() -> None:
    with pytest.raises(LocalProtocolError):
        lenenc_int(-1)


def test_lenenc_int_beyond_64_bits_is_our_error() -> None:
    with pytest.raises(LocalProtocolError):
        lenenc_int(1 << 64)


@given(st.integers(0, (1 << 64) - 1))
def test_lenenc_int_round_trips(value: int) -> None:
    encoded = lenenc_int(value)
    assert read_lenenc_int(encoded, 0) == (value, len(encoded))


@given(st.binary(max_size=20), st.integers(0, 25))
def test_lenenc_readers_on_random_bytes_only_raise_remote_errors(data: bytes, pos: int) -> None:
    for reader in (read_lenenc_int, read_lenenc_str, read_nul_str):
        try:
            _value, end = reader(data, pos)
        except RemoteProtocolError:
            continue
        assert pos < end <= len(data)


def test_nul_string() -> None:
    assert read_nul_str(b"xroot\x00test\x00", 1) == (b"root", 6)
    assert read_nul_str(b"\x00", 0) == (b"", 1)
    with pytest.raises(RemoteProtocolError, match="NUL"):
        read_nul_str(b"root", 0)
