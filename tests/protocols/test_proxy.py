"""protocols.proxy: PROXY protocol headers v1 and v2 as HAProxy's specification writes them,
measured from partial input, and anything else refused (no sockets)."""

from __future__ import annotations

import contextlib
import ipaddress
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.errors import RemoteProtocolError
from protocols.proxy import MAX_HEADER, ProxyHeader, header_length, parse_header

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(command: int, family: int, body: bytes) -> bytes:
    return SIG + bytes((0x20 | command, family)) + struct.pack("!H", len(body)) + body


def v2_tcp4(src: str, dst: str, sport: int, dport: int, tlvs: bytes = b"") -> bytes:
    addresses = ipaddress.IPv4Address(src).packed + ipaddress.IPv4Address(dst).packed
    return v2(1, 0x11, addresses + struct.pack("!HH", sport, dport) + tlvs)


LB, DB = ("10.0.0.1", 6432), ("2001:db8::2", 443)
V6_BODY = ipaddress.IPv6Address("2001:db8::7").packed + bytes(16) + b"\x00\x50\x01\xbb"


@pytest.mark.parametrize(
    ("header", "source", "destination"),
    [
        (b"PROXY TCP4 203.0.113.9 10.0.0.1 56324 6432\r\n", ("203.0.113.9", 56324), LB),
        (b"PROXY TCP6 2001:db8::1 2001:db8::2 4000 443\r\n", ("2001:db8::1", 4000), DB),
        (b"PROXY UNKNOWN\r\n", None, None),
        (b"PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n", None, None),
        (v2_tcp4("198.51.100.7", "10.0.0.1", 1234, 6432),
         ("198.51.100.7", 1234), LB),
        (v2_tcp4("198.51.100.7", "10.0.0.1", 1, 6432, tlvs=b"\x01\x00\x02h2"),
         ("198.51.100.7", 1), LB),
        (v2(1, 0x21, V6_BODY), ("2001:db8::7", 80), ("::", 443)),
        (v2(0, 0x00, b""), None, None),  # LOCAL: the balancer's health check
        (v2(1, 0x00, b""), None, None),  # UNSPEC
        (v2(1, 0x31, bytes(216)), None, None),  # a unix socket: no address to read
    ],
)  # fmt: skip
def test_headers(header: bytes, source: object, destination: object) -> None:
    assert header_length(header + b"\x16\x03\x01rest") == len(header)
    assert parse_header(header) == ProxyHeader(source, destination)  # type: ignore[arg-type]
    for cut in range(len(header)):  # a prefix: more is needed, or (v2) the length is known
        assert header_length(header[:cut]) in (None, len(header))
        with pytest.raises(RemoteProtocolError):
            parse_header(header[:cut])


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x16\x03\x01\x02\x00", "the connection does not start with a PROXY protocol header"),
        (b"\x00\x00\x00\x08\x04\xd2\x16\x2f", "the connection does not start with a PROXY"),
        (b"GET / HTTP/1.1\r\n", "the connection does not start with a PROXY"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2" + b" " * 80, "a PROXY line longer than 107 bytes"),
        (SIG + b"\x10\x11\x00\x0c", "PROXY protocol version 1 is not supported"),
        (SIG + b"\x21\x11\xff\xff", "a PROXY header of 65535 bytes is too long"),
    ],
)
def test_what_is_not_a_header_is_refused(data: bytes, error: str) -> None:
    with pytest.raises(RemoteProtocolError, match=error):
        header_length(data)


@pytest.mark.parametrize(
    ("header", "error"),
    [
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "a malformed PROXY line"),
        (b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "a malformed PROXY line"),
        (b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", "a malformed PROXY line"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "a malformed PROXY line"),
        (b"PROXY TCP4 2001:db8::1 5.6.7.8 1 2\r\n", "'2001:db8::1' is not an IPv4 address"),
        (b"PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n", "not an IP address in a PROXY line"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", "not a port in a PROXY line: '65536'"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "not a port in a PROXY line: '01'"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", "not a port in a PROXY line: '-1'"),
        (b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\xff\r\n", "a PROXY line that is not ASCII"),
        (v2(1, 0x11, bytes(11)), "a PROXY header too short for its addresses"),
        (v2(2, 0x11, bytes(12)), "PROXY command 2 is not LOCAL or PROXY"),
    ],
)
def test_malformed_headers_are_refused(header: bytes, error: str) -> None:
    with pytest.raises(RemoteProtocolError, match=error):
        parse_header(header)


@given(st.binary(max_size=300))
def test_any_bytes_are_measured_or_refused_never_crash(data: bytes) -> None:
    try:
        length = header_length(data)
    except RemoteProtocolError:
        return
    if length is not None:
        assert 0 < length <= MAX_HEADER
        if length <= len(data):
            with contextlib.suppress(RemoteProtocolError):
                parse_header(data[:length])


@given(st.ip_addresses(v=4), st.ip_addresses(v=4), st.integers(0, 65535), st.integers(0, 65535))
def test_v1_and_v2_agree(
    src: ipaddress.IPv4Address, dst: ipaddress.IPv4Address, sport: int, dport: int
) -> None:
    line = f"PROXY TCP4 {src} {dst} {sport} {dport}\r\n".encode()
    assert parse_header(line) == parse_header(v2_tcp4(str(src), str(dst), sport, dport))
