"""MySQL packet framing: a 3-byte little-endian length, a 1-byte sequence id, the payload.

Owns: encoding a payload as one or more packets (a payload of 16 MiB - 1 bytes or more
continues in the next packet; one that is an exact multiple ends with an empty packet), the
reader that joins continued packets back into one payload and keeps the raw bytes for
forwarding as received, the scan of a receive buffer for whole packets (the relay's fast
path), and the length-encoded integers and strings the messages use.

Must never: do I/O, keep more state than the bytes not yet read, or import from ``iap``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from protocols.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "HEADER_SIZE",
    "MAX_CHUNK",
    "MAX_PAYLOAD",
    "Packet",
    "PacketReader",
    "encode_packet",
    "lenenc_int",
    "lenenc_str",
    "read_lenenc_int",
    "read_lenenc_str",
    "read_nul_str",
    "scan_packets",
]

HEADER_SIZE: Final = 4
MAX_CHUNK: Final = 0xFFFFFF
"""A packet of this many payload bytes continues in the next one."""
MAX_PAYLOAD: Final = 256 * 1024 * 1024
"""The largest joined payload the reader accepts (the server's max_allowed_packet is 1 GiB at
most; the gateway holds statements in memory, so it stops earlier)."""

_U16: Final = struct.Struct("<H")
_U24_AND_SEQ: Final = struct.Struct("<HBB")


@dataclass(frozen=True, slots=True)
class Packet:
    """One logical packet: its first sequence id, the joined payload, the bytes as received."""

    seq: int
    payload: bytes
    raw: bytes
    last_seq: int  # the sequence id of its last physical packet (replies continue from it)


def _header(length: int, seq: int) -> bytes:
    return bytes((length & 0xFF, (length >> 8) & 0xFF, length >> 16, seq & 0xFF))


def encode_packet(seq: int, payload: bytes) -> bytes:
    """The payload as packets starting at sequence id seq (split at 16 MiB - 1)."""
    if len(payload) < MAX_CHUNK:
        return _header(len(payload), seq) + payload
    out = bytearray()
    pos = 0
    while True:
        chunk = payload[pos : pos + MAX_CHUNK]
        out += _header(len(chunk), seq)
        out += chunk
        seq += 1
        pos += len(chunk)
        if len(chunk) < MAX_CHUNK:
            return bytes(out)


def scan_packets(buf: bytes | bytearray | memoryview, start: int = 0) -> list[tuple[int, int]]:
    """(payload start, end) of each whole physical packet from start; stops at a partial one."""
    found: list[tuple[int, int]] = []
    pos, size = start, len(buf)
    while pos + HEADER_SIZE <= size:
        low, high, _seq = _U24_AND_SEQ.unpack_from(buf, pos)
        end = pos + HEADER_SIZE + (low | high << 16)
        if end > size:
            break
        found.append((pos + HEADER_SIZE, end))
        pos = end
    return found


class PacketReader:
    """Bytes in, logical packets out (continuations joined); raw bytes kept for forwarding."""

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self._buf = bytearray()
        self._max = max_payload

    def receive_data(self, data: bytes | bytearray) -> None:
        self._buf += data

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def next_packet(self) -> Packet | None:
        """The next whole logical packet, or None when more bytes are needed."""
        buf = self._buf
        pos = 0
        parts: list[bytes] = []
        first_seq = last_seq = -1
        while True:
            if pos + HEADER_SIZE > len(buf):
                return None
            length = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16
            seq = buf[pos + 3]
            if first_seq < 0:
                first_seq = seq
            elif seq != (last_seq + 1) & 0xFF:
                raise RemoteProtocolError(
                    f"continuation packet has sequence id {seq}, expected {(last_seq + 1) & 0xFF}"
                )
            last_seq = seq
            end = pos + HEADER_SIZE + length
            if sum(map(len, parts)) + length > self._max:
                raise RemoteProtocolError(
                    f"a packet longer than {self._max} bytes (the gateway's limit)"
                )
            if end > len(buf):
                return None
            parts.append(bytes(buf[pos + HEADER_SIZE : end]))
            pos = end
            if length < MAX_CHUNK:
                raw = bytes(buf[:pos])
                del buf[:pos]
                payload = parts[0] if len(parts) == 1 else b"".join(parts)
                return Packet(first_seq, payload, raw, last_seq)


# -- length-encoded values -------------------------------------------------------------------


def lenenc_int(value: int) -> bytes:
    if value < 0 or value >= 1 << 64:
        raise LocalProtocolError("a length-encoded integer is between 0 and 2**64 - 1")
    if value < 251:
        return bytes((value,))
    if value < 1 << 16:
        return b"\xfc" + value.to_bytes(2, "little")
    if value < 1 << 24:
        return b"\xfd" + value.to_bytes(3, "little")
    return b"\xfe" + value.to_bytes(8, "little")


def lenenc_str(value: bytes) -> bytes:
    return lenenc_int(len(value)) + value


def read_lenenc_int(data: bytes | memoryview, pos: int) -> tuple[int | None, int]:
    """(value, next position); value None for the NULL marker 0xFB."""
    if pos >= len(data):
        raise RemoteProtocolError("truncated length-encoded integer")
    first = data[pos]
    if first < 0xFB:
        return first, pos + 1
    if first == 0xFB:
        return None, pos + 1
    width = {0xFC: 2, 0xFD: 3, 0xFE: 8}.get(first)
    if width is None or pos + 1 + width > len(data):
        raise RemoteProtocolError("malformed length-encoded integer")
    return int.from_bytes(data[pos + 1 : pos + 1 + width], "little"), pos + 1 + width


def read_lenenc_str(data: bytes | memoryview, pos: int) -> tuple[bytes | None, int]:
    length, pos = read_lenenc_int(data, pos)
    if length is None:
        return None, pos
    if pos + length > len(data):
        raise RemoteProtocolError("truncated length-encoded string")
    return bytes(data[pos : pos + length]), pos + length


def read_nul_str(data: bytes | memoryview, pos: int) -> tuple[bytes, int]:
    end = bytes(data[pos:]).find(b"\0")
    if end < 0:
        raise RemoteProtocolError("string without its terminating NUL")
    return bytes(data[pos : pos + end]), pos + end + 1


def read_u16(data: bytes | memoryview, pos: int) -> int:
    if pos + 2 > len(data):
        raise RemoteProtocolError("truncated packet")
    value: int = _U16.unpack_from(data, pos)[0]
    return value
