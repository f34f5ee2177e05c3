"""Frame scanning for the relay's fast path: find message boundaries without building objects.

Owns: the limits on declared lengths, ``scan_frames`` over a receive buffer, and the few
payload readers the relay needs on backend traffic (ReadyForQuery status, ErrorResponse
code and message, ParameterStatus, CommandComplete tag and row count).

Must never: copy payloads it does not need to read, keep state, do I/O, or import from
``iap``. A bad declared length raises ``RemoteProtocolError`` before waiting for the bytes.
"""

from __future__ import annotations

import struct
from typing import Final

from protocols.errors import RemoteProtocolError
from protocols.postgres.messages import (
    CommandComplete,
    ErrorResponse,
    ParameterStatus,
    ReadyForQuery,
    TransactionStatus,
    command_tag_rows,
)

__all__ = [
    "HEADER_SIZE",
    "MAX_MESSAGE_SIZE",
    "MAX_STARTUP_LENGTH",
    "Buffer",
    "command_rows",
    "command_tag",
    "error_code_and_message",
    "frame_length",
    "parameter_status",
    "ready_status",
    "scan_frames",
]

MAX_STARTUP_LENGTH: Final = 10000
"""Largest startup packet the server accepts (bytes after the Int32 length), as postgres."""

MAX_MESSAGE_SIZE: Final = 256 * 1024 * 1024
"""Default limit on a typed message's declared length (which counts its own four bytes)."""

HEADER_SIZE: Final = 5
"""Type byte + Int32 length."""

Buffer = bytes | bytearray | memoryview

_LENGTH: Final = struct.Struct("!i")


def frame_length(buf: Buffer, pos: int, max_size: int = MAX_MESSAGE_SIZE) -> int:
    """Declared length of the typed frame whose header starts at ``pos`` (5 bytes needed).

    Raises RemoteProtocolError when it is below 4 or above ``max_size``.
    """
    length: int = _LENGTH.unpack_from(buf, pos + 1)[0]
    if length < 4 or length > max_size:
        type_byte = bytes((buf[pos],))
        raise RemoteProtocolError(
            f"message {type_byte!r} declares length {length}, outside 4..{max_size}"
        )
    return length


def scan_frames(
    buf: Buffer, start: int = 0, max_size: int = MAX_MESSAGE_SIZE
) -> tuple[list[tuple[int, int, int]], int]:
    """Complete typed frames in ``buf[start:]``, and where the incomplete rest begins.

    Each frame is (type_byte, payload_start, frame_end); the payload is
    ``buf[payload_start:frame_end]``. Nothing is copied.
    """
    frames: list[tuple[int, int, int]] = []
    end = len(buf)
    pos = start
    while end - pos >= HEADER_SIZE:
        frame_end = pos + 1 + frame_length(buf, pos, max_size)
        if frame_end > end:
            break
        frames.append((buf[pos], pos + HEADER_SIZE, frame_end))
        pos = frame_end
    return frames, pos


def ready_status(payload: Buffer) -> TransactionStatus:
    """The transaction status ('I', 'T' or 'E') of a ReadyForQuery payload."""
    if len(payload) == 1:
        status = payload[0]
        if status == 73:  # "I"
            return "I"
        if status == 84:  # "T"
            return "T"
        if status == 69:  # "E"
            return "E"
    return ReadyForQuery.decode(payload).status  # raises the precise error


def error_code_and_message(payload: Buffer) -> tuple[str | None, str | None]:
    """SQLSTATE and message of an ErrorResponse (or NoticeResponse) payload."""
    error = ErrorResponse.decode(payload)
    return error.code, error.message


def parameter_status(payload: Buffer) -> tuple[str, str]:
    """Name and value of a ParameterStatus payload."""
    status = ParameterStatus.decode(payload)
    return status.name, status.value


def command_tag(payload: Buffer) -> str:
    """The tag of a CommandComplete payload ("SELECT 5", "INSERT 0 3", "CREATE TABLE")."""
    return CommandComplete.decode(payload).tag


def command_rows(payload: Buffer) -> int | None:
    """Rows reported by a CommandComplete payload, or None for commands without a count."""
    return command_tag_rows(command_tag(payload))
