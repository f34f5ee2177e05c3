"""MySQL/MariaDB messages: the handshake, authentication exchanges, commands, OK/ERR/EOF.

Owns the capability and status flags, and frozen dataclasses with `decode(payload)` /
`encode()` for what the gateway reads or writes whole. Result sets are never decoded here:
`responses.ResponseTracker` follows them by their first bytes only.

Facts checked on MariaDB 10.11: the server's handshake clears CLIENT_MYSQL (bit 0) and keeps
its MariaDB-only capabilities in the last 4 bytes of the reserved area; a client that also
clears bit 0 puts its own there. The gateway asks for none of them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import Final

from protocols.errors import RemoteProtocolError
from protocols.mysql.packets import (
    lenenc_int,
    lenenc_str,
    read_lenenc_int,
    read_lenenc_str,
    read_nul_str,
    read_u16,
)


class Capability(IntFlag):
    LONG_PASSWORD = 1 << 0  # "CLIENT_MYSQL": cleared by MariaDB servers and clients
    FOUND_ROWS = 1 << 1
    LONG_FLAG = 1 << 2
    CONNECT_WITH_DB = 1 << 3
    NO_SCHEMA = 1 << 4
    COMPRESS = 1 << 5
    ODBC = 1 << 6
    LOCAL_FILES = 1 << 7
    IGNORE_SPACE = 1 << 8
    PROTOCOL_41 = 1 << 9
    INTERACTIVE = 1 << 10
    SSL = 1 << 11
    IGNORE_SIGPIPE = 1 << 12
    TRANSACTIONS = 1 << 13
    RESERVED = 1 << 14
    SECURE_CONNECTION = 1 << 15
    MULTI_STATEMENTS = 1 << 16
    MULTI_RESULTS = 1 << 17
    PS_MULTI_RESULTS = 1 << 18
    PLUGIN_AUTH = 1 << 19
    CONNECT_ATTRS = 1 << 20
    PLUGIN_AUTH_LENENC_CLIENT_DATA = 1 << 21
    CAN_HANDLE_EXPIRED_PASSWORDS = 1 << 22
    SESSION_TRACK = 1 << 23
    DEPRECATE_EOF = 1 << 24
    OPTIONAL_RESULTSET_METADATA = 1 << 25
    ZSTD_COMPRESSION = 1 << 26
    QUERY_ATTRIBUTES = 1 << 27
    MULTI_FACTOR_AUTH = 1 << 28
    CAPABILITY_EXTENSION = 1 << 29
    SSL_VERIFY_SERVER_CERT = 1 << 30
    REMEMBER_OPTIONS = 1 << 31


class Status(IntFlag):
    IN_TRANS = 0x0001
    AUTOCOMMIT = 0x0002
    MORE_RESULTS_EXISTS = 0x0008
    NO_GOOD_INDEX_USED = 0x0010
    NO_INDEX_USED = 0x0020
    CURSOR_EXISTS = 0x0040
    LAST_ROW_SENT = 0x0080
    DB_DROPPED = 0x0100
    NO_BACKSLASH_ESCAPES = 0x0200
    METADATA_CHANGED = 0x0400
    QUERY_WAS_SLOW = 0x0800
    PS_OUT_PARAMS = 0x1000
    IN_TRANS_READONLY = 0x2000
    SESSION_STATE_CHANGED = 0x4000


class Command(IntEnum):
    SLEEP = 0x00
    QUIT = 0x01
    INIT_DB = 0x02
    QUERY = 0x03
    FIELD_LIST = 0x04
    CREATE_DB = 0x05
    DROP_DB = 0x06
    REFRESH = 0x07
    SHUTDOWN = 0x08
    STATISTICS = 0x09
    PROCESS_INFO = 0x0A
    CONNECT = 0x0B
    PROCESS_KILL = 0x0C
    DEBUG = 0x0D
    PING = 0x0E
    TIME = 0x0F
    DELAYED_INSERT = 0x10
    CHANGE_USER = 0x11
    BINLOG_DUMP = 0x12
    TABLE_DUMP = 0x13
    CONNECT_OUT = 0x14
    REGISTER_SLAVE = 0x15
    STMT_PREPARE = 0x16
    STMT_EXECUTE = 0x17
    STMT_SEND_LONG_DATA = 0x18
    STMT_CLOSE = 0x19
    STMT_RESET = 0x1A
    SET_OPTION = 0x1B
    STMT_FETCH = 0x1C
    DAEMON = 0x1D
    BINLOG_DUMP_GTID = 0x1E
    RESET_CONNECTION = 0x1F
    STMT_BULK_EXECUTE = 0xFA  # MariaDB


OK_HEADER: Final = 0x00
EOF_HEADER: Final = 0xFE
ERR_HEADER: Final = 0xFF
LOCAL_INFILE_HEADER: Final = 0xFB
AUTH_MORE_DATA: Final = 0x01
AUTH_SWITCH: Final = 0xFE

_HANDSHAKE_RESPONSE_FIXED: Final = struct.Struct("<IIB23s")


def _nul(value: bytes) -> bytes:
    return value + b"\0"


@dataclass(frozen=True, slots=True)
class HandshakeV10:
    """The server's first packet (protocol version 10)."""

    server_version: str
    connection_id: int
    auth_data: bytes  # the scramble (20 bytes for the usual plugins)
    capabilities: int
    charset: int
    status: int
    auth_plugin: str = "mysql_native_password"
    mariadb_capabilities: int = 0

    @classmethod
    def decode(cls, payload: bytes) -> HandshakeV10:
        if not payload:
            raise RemoteProtocolError("empty handshake")
        if payload[0] == ERR_HEADER:
            err = ErrPacket.decode(payload)
            raise RemoteProtocolError(f"the server refused the connection: {err.message}")
        if payload[0] != 10:
            raise RemoteProtocolError(f"unsupported handshake protocol version {payload[0]}")
        try:
            version, pos = read_nul_str(payload, 1)
            connection_id = int.from_bytes(payload[pos : pos + 4], "little")
            part1 = payload[pos + 4 : pos + 12]
            pos += 13  # scramble part 1 and its filler byte
            caps = read_u16(payload, pos)
            charset = payload[pos + 2]
            status = read_u16(payload, pos + 3)
            caps |= read_u16(payload, pos + 5) << 16
            auth_len = payload[pos + 7]
            reserved = payload[pos + 8 : pos + 18]
            pos += 18
        except IndexError:
            raise RemoteProtocolError("truncated handshake") from None
        mariadb_caps = 0
        if not caps & Capability.LONG_PASSWORD:
            mariadb_caps = int.from_bytes(reserved[6:10], "little")
        part2 = b""
        if caps & Capability.SECURE_CONNECTION:
            n = max(13, auth_len - 8)
            part2 = payload[pos : pos + n].rstrip(b"\0")
            pos += n
        plugin = ""
        if caps & Capability.PLUGIN_AUTH and pos < len(payload):
            end = payload.find(b"\0", pos)
            plugin = payload[pos : end if end >= 0 else len(payload)].decode("ascii", "replace")
        return cls(
            version.decode("utf-8", "replace"),
            connection_id,
            part1 + part2,
            caps,
            charset,
            status,
            plugin or "mysql_native_password",
            mariadb_caps,
        )

    def encode(self) -> bytes:
        caps = self.capabilities | Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION
        data = self.auth_data
        reserved = bytearray(10)
        if not caps & Capability.LONG_PASSWORD:
            reserved[6:10] = self.mariadb_capabilities.to_bytes(4, "little")
        out = bytearray(b"\x0a")
        out += _nul(self.server_version.encode())
        out += self.connection_id.to_bytes(4, "little")
        out += data[:8] + b"\0"
        out += (caps & 0xFFFF).to_bytes(2, "little")
        out += bytes((self.charset,))
        out += self.status.to_bytes(2, "little")
        out += (caps >> 16 & 0xFFFF).to_bytes(2, "little")
        out += bytes((len(data) + 1 if caps & Capability.PLUGIN_AUTH else 0,))
        out += reserved
        out += _nul(data[8:].ljust(12, b"\0"))  # part 2 takes at least 13 bytes
        if caps & Capability.PLUGIN_AUTH:
            out += _nul(self.auth_plugin.encode())
        return bytes(out)


@dataclass(frozen=True, slots=True)
class HandshakeResponse:
    """The client's answer to the handshake (HandshakeResponse41), or, when it stops after
    the fixed part with CLIENT_SSL set, its SSLRequest (`ssl_request` True)."""

    capabilities: int
    max_packet: int
    charset: int
    user: str = ""
    auth_response: bytes = b""
    database: str | None = None
    auth_plugin: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    mariadb_capabilities: int = 0
    ssl_request: bool = False

    @classmethod
    def decode(cls, payload: bytes) -> HandshakeResponse:
        if len(payload) < 32:
            raise RemoteProtocolError("handshake response shorter than 32 bytes")
        caps, max_packet, charset, filler = _HANDSHAKE_RESPONSE_FIXED.unpack_from(payload)
        if not caps & Capability.PROTOCOL_41:
            raise RemoteProtocolError("clients older than protocol 4.1 are not supported")
        mariadb_caps = (
            0 if caps & Capability.LONG_PASSWORD else int.from_bytes(filler[19:23], "little")
        )
        if len(payload) == 32:
            if not caps & Capability.SSL:
                raise RemoteProtocolError("handshake response without a user name")
            return cls(
                caps, max_packet, charset, mariadb_capabilities=mariadb_caps, ssl_request=True
            )
        user, pos = read_nul_str(payload, 32)
        auth: bytes | None
        if caps & Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA:
            auth, pos = read_lenenc_str(payload, pos)
        elif caps & Capability.SECURE_CONNECTION:
            n = payload[pos] if pos < len(payload) else 0
            if pos + 1 + n > len(payload):
                raise RemoteProtocolError("truncated auth response")
            auth, pos = payload[pos + 1 : pos + 1 + n], pos + 1 + n
        else:
            auth, pos = read_nul_str(payload, pos)
        database = None
        if caps & Capability.CONNECT_WITH_DB and pos < len(payload):
            raw_db, pos = read_nul_str(payload, pos)
            database = raw_db.decode("utf-8", "replace")
        plugin = None
        if caps & Capability.PLUGIN_AUTH and pos < len(payload):
            raw_plugin, pos = read_nul_str(payload, pos)
            plugin = raw_plugin.decode("ascii", "replace")
        attributes: dict[str, str] = {}
        if caps & Capability.CONNECT_ATTRS and pos < len(payload):
            total, pos = read_lenenc_int(payload, pos)
            end = pos + (total or 0)
            while pos < end:
                key, pos = read_lenenc_str(payload, pos)
                value, pos = read_lenenc_str(payload, pos)
                attributes[(key or b"").decode("utf-8", "replace")] = (value or b"").decode(
                    "utf-8", "replace"
                )
        return cls(
            caps,
            max_packet,
            charset,
            user.decode("utf-8", "replace"),
            auth or b"",
            database,
            plugin,
            attributes,
            mariadb_caps,
        )

    def encode(self) -> bytes:
        caps = self.capabilities
        filler = bytearray(23)
        if not caps & Capability.LONG_PASSWORD:
            filler[19:23] = self.mariadb_capabilities.to_bytes(4, "little")
        out = bytearray(
            _HANDSHAKE_RESPONSE_FIXED.pack(caps, self.max_packet, self.charset, bytes(filler))
        )
        if self.ssl_request:
            return bytes(out)
        out += _nul(self.user.encode())
        if caps & Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA:
            out += lenenc_str(self.auth_response)
        elif caps & Capability.SECURE_CONNECTION:
            out += bytes((len(self.auth_response),)) + self.auth_response
        else:
            out += _nul(self.auth_response)
        if caps & Capability.CONNECT_WITH_DB:
            out += _nul((self.database or "").encode())
        if caps & Capability.PLUGIN_AUTH:
            out += _nul((self.auth_plugin or "").encode())
        if caps & Capability.CONNECT_ATTRS:
            attrs = b"".join(
                lenenc_str(k.encode()) + lenenc_str(v.encode()) for k, v in self.attributes.items()
            )
            out += lenenc_str(attrs)
        return bytes(out)


@dataclass(frozen=True, slots=True)
class AuthSwitchRequest:
    plugin: str
    data: bytes

    @classmethod
    def decode(cls, payload: bytes) -> AuthSwitchRequest:
        if len(payload) == 1:  # the old "use the 3.23 scramble" request
            return cls("mysql_old_password", b"")
        name, pos = read_nul_str(payload, 1)
        return cls(name.decode("ascii", "replace"), payload[pos:].rstrip(b"\0"))

    def encode(self) -> bytes:
        return b"\xfe" + _nul(self.plugin.encode()) + self.data + b"\0"


@dataclass(frozen=True, slots=True)
class OkPacket:
    affected_rows: int
    last_insert_id: int
    status: int
    warnings: int
    info: bytes = b""

    @classmethod
    def decode(cls, payload: bytes | memoryview) -> OkPacket:
        """An OK packet (header 0x00, or 0xFE when it ends a result with DEPRECATE_EOF)."""
        affected, pos = read_lenenc_int(payload, 1)
        last_id, pos = read_lenenc_int(payload, pos)
        status = read_u16(payload, pos) if pos + 2 <= len(payload) else 0
        warnings = read_u16(payload, pos + 2) if pos + 4 <= len(payload) else 0
        return cls(affected or 0, last_id or 0, status, warnings, bytes(payload[pos + 4 :]))

    def encode(self) -> bytes:
        return (
            b"\x00"
            + lenenc_int(self.affected_rows)
            + lenenc_int(self.last_insert_id)
            + self.status.to_bytes(2, "little")
            + self.warnings.to_bytes(2, "little")
            + self.info
        )


@dataclass(frozen=True, slots=True)
class ErrPacket:
    code: int
    sqlstate: str
    message: str

    @classmethod
    def decode(cls, payload: bytes | memoryview) -> ErrPacket:
        if len(payload) < 3 or payload[0] != ERR_HEADER:
            raise RemoteProtocolError("malformed ERR packet")
        code = read_u16(payload, 1)
        rest = bytes(payload[3:])
        if code == 0xFFFF:  # MariaDB progress report: not an error
            return cls(code, "", "progress report")
        state = ""
        if rest[:1] == b"#":
            state, rest = rest[1:6].decode("ascii", "replace"), rest[6:]
        return cls(code, state, rest.decode("utf-8", "replace"))

    def encode(self) -> bytes:
        return (
            b"\xff"
            + self.code.to_bytes(2, "little")
            + b"#"
            + self.sqlstate.encode("ascii")[:5].ljust(5, b"0")
            + self.message.encode()
        )


def eof_status(payload: bytes | memoryview) -> int:
    """The status flags of an EOF packet (0xFE, warnings, status)."""
    return read_u16(payload, 3) if len(payload) >= 5 else 0


def is_eof(payload: bytes | memoryview, deprecate_eof: bool) -> bool:
    """True for a packet that ends rows: EOF (0xFE, short), or its OK form with DEPRECATE_EOF.
    A text row can start with 0xFE too (a value of 16 MiB or more); its packet is long."""
    if not payload or payload[0] != EOF_HEADER:
        return False
    return len(payload) < (0xFFFFFF if deprecate_eof else 9)


def terminator_status(payload: bytes | memoryview, deprecate_eof: bool) -> int:
    if deprecate_eof:
        return OkPacket.decode(payload).status
    return eof_status(payload)


@dataclass(frozen=True, slots=True)
class PrepareOk:
    statement_id: int
    columns: int
    params: int
    warnings: int

    @classmethod
    def decode(cls, payload: bytes | memoryview) -> PrepareOk:
        if len(payload) < 12 or payload[0] != OK_HEADER:
            raise RemoteProtocolError("malformed COM_STMT_PREPARE OK packet")
        data = bytes(payload[1:12])
        stmt_id, columns, params, _, warnings = struct.unpack("<IHHBH", data)
        return cls(stmt_id, columns, params, warnings)


def command_packet(command: Command, body: bytes = b"") -> bytes:
    return bytes((command,)) + body
