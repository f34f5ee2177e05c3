"""The PROXY protocol header (HAProxy's, versions 1 and 2) that load balancers put before a
connection's own bytes to say whose connection it is.

Sans-IO: `header_length` says how many bytes of a connection's start the header takes (None
until that can be told), `parse_header` reads those bytes. Anything that is not a well-formed
header is a RemoteProtocolError: a connection from a load balancer that should send one and
does not is refused, never read as if it came from the balancer itself. Only what an address
check needs is kept: the source and destination of TCP over IPv4 or IPv6. A LOCAL command
(version 2's health checks) and version 1's UNKNOWN carry no address (`source` None).
Version 2's TLVs are skipped.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from protocols.errors import RemoteProtocolError

__all__ = ["MAX_HEADER", "ProxyHeader", "header_length", "parse_header"]

V1_PREFIX = b"PROXY "
V1_MAX = 107  # the longest version 1 line, CRLF included (the specification's bound)
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_FIXED = 16  # signature, version and command, family and protocol, length
V2_MAX_BODY = 1024  # addresses and TLVs a balancer may reasonably send
MAX_HEADER = V2_FIXED + V2_MAX_BODY

_V2_TCP4, _V2_TCP6 = 0x11, 0x21


@dataclass(frozen=True, slots=True)
class ProxyHeader:
    """Whose connection it is: (address, port) of the client and of what it connected to;
    None for both when the header names no address (LOCAL, UNKNOWN, other families)."""

    source: tuple[str, int] | None
    destination: tuple[str, int] | None


def header_length(data: bytes) -> int | None:
    """The length of the header `data` starts with; None while more bytes are needed."""
    if data.startswith(V2_SIGNATURE[: len(data)]) and len(data) < V2_FIXED:
        return None
    if data.startswith(V2_SIGNATURE):
        if data[12] >> 4 != 2:
            raise RemoteProtocolError(f"PROXY protocol version {data[12] >> 4} is not supported")
        body: int = struct.unpack_from("!H", data, 14)[0]
        if body > V2_MAX_BODY:
            raise RemoteProtocolError(f"a PROXY header of {body} bytes is too long")
        return V2_FIXED + body
    if not V1_PREFIX.startswith(data[: len(V1_PREFIX)]):
        raise RemoteProtocolError("the connection does not start with a PROXY protocol header")
    end = data.find(b"\r\n", 0, V1_MAX)
    if end >= 0:
        return end + 2
    if len(data) >= V1_MAX:
        raise RemoteProtocolError(f"a PROXY line longer than {V1_MAX} bytes")
    return None


def parse_header(data: bytes) -> ProxyHeader:
    """The header that is exactly `data` (as header_length measured it)."""
    if header_length(data) != len(data):
        raise RemoteProtocolError("not exactly one PROXY protocol header")
    if data.startswith(V2_SIGNATURE):
        return _v2(data)
    return _v1(data)


def _v1(data: bytes) -> ProxyHeader:
    try:
        line = data[:-2].decode("ascii")
    except UnicodeDecodeError:
        raise RemoteProtocolError("a PROXY line that is not ASCII") from None
    parts = line.split(" ")
    if len(parts) >= 2 and parts[1] == "UNKNOWN":
        return ProxyHeader(None, None)
    if len(parts) != 6 or parts[1] not in ("TCP4", "TCP6"):
        raise RemoteProtocolError(f"a malformed PROXY line: {line[:V1_MAX]!r}")
    version = 4 if parts[1] == "TCP4" else 6
    source = (_address(parts[2], version), _port(parts[4]))
    destination = (_address(parts[3], version), _port(parts[5]))
    return ProxyHeader(source, destination)


def _address(text: str, version: int) -> str:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise RemoteProtocolError(f"not an IP address in a PROXY line: {text!r}") from None
    if address.version != version:
        raise RemoteProtocolError(f"{text!r} is not an IPv{version} address")
    return str(address)


def _port(text: str) -> int:
    if not text.isdigit() or text != str(int(text)) or int(text) > 65535:
        raise RemoteProtocolError(f"not a port in a PROXY line: {text!r}")
    return int(text)


def _v2(data: bytes) -> ProxyHeader:
    command, family = data[12] & 0x0F, data[13]
    if command == 0:  # LOCAL: the balancer's own connection (a health check)
        return ProxyHeader(None, None)
    if command != 1:
        raise RemoteProtocolError(f"PROXY command {command} is not LOCAL or PROXY")
    body = data[V2_FIXED:]
    if family not in (_V2_TCP4, _V2_TCP6):  # UNSPEC, UDP, unix sockets: no address to read
        return ProxyHeader(None, None)
    size = 4 if family == _V2_TCP4 else 16
    if len(body) < 2 * size + 4:
        raise RemoteProtocolError("a PROXY header too short for its addresses")
    src = ipaddress.ip_address(body[:size])
    dst = ipaddress.ip_address(body[size : 2 * size])
    sport, dport = struct.unpack_from("!HH", body, 2 * size)
    return ProxyHeader((str(src), sport), (str(dst), dport))
