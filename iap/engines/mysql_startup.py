"""Around a MySQL/MariaDB session: the handshake with the client, the backend login with the
connection's injected credentials, the session's initial lexing state, and connection ids.

The gateway plays the server to the client: it opens the backend first, so the handshake it
sends the client carries the backend's version, character set and capabilities (less what
iap does not relay: compression, LOCAL INFILE, TLS inside the tunnel, query attributes,
MariaDB's extensions), and its own scramble and connection id. The client's password is
ignored (its identity is the tunnel's token). The login to the backend then asks for exactly
the capabilities the client chose, so the backend's answers can be forwarded untouched.
`kill_query` logs in on a connection of its own to stop a statement the backend still runs
when the gateway stops (MySQL has no cancel message; the mariadb CLI does the same).

`iap.engines.mysql` runs the session itself.
"""

from __future__ import annotations

import contextlib
import logging
import secrets

import trio

from iap.classify import LexState
from iap.config import ConnectionConfig, split_address
from iap.engines import backend_tls
from iap.engines.relay import RECV_SIZE
from iap.netio import FastStream, connect_tcp, connect_unix
from protocols.errors import ProtocolError, RemoteProtocolError
from protocols.mysql.auth import AuthenticationFailed, ClientAuthenticator
from protocols.mysql.messages import (
    AUTH_MORE_DATA,
    AUTH_SWITCH,
    ERR_HEADER,
    OK_HEADER,
    AuthSwitchRequest,
    Capability,
    Command,
    ErrPacket,
    HandshakeResponse,
    HandshakeV10,
    OkPacket,
    command_packet,
    is_eof,
)
from protocols.mysql.packets import Packet, PacketReader, encode_packet, read_lenenc_str

log = logging.getLogger("iap.mysql")

STARTUP_TIMEOUT = 30.0
LOGIN_TIMEOUT = 30.0
KILL_TIMEOUT = 5.0  # seconds kill_query may take

# What iap relays. Everything else is left out of the handshake the client sees, so the
# client never asks for it: COMPRESS and ZSTD (frames iap would have to unpack), LOCAL_FILES
# (the server could ask the client for any file), SSL (the tunnel is already TLS),
# QUERY_ATTRIBUTES and OPTIONAL_RESULTSET_METADATA (change the command and result formats).
RELAYED = (
    Capability.LONG_PASSWORD
    | Capability.FOUND_ROWS
    | Capability.LONG_FLAG
    | Capability.CONNECT_WITH_DB
    | Capability.NO_SCHEMA
    | Capability.ODBC
    | Capability.IGNORE_SPACE
    | Capability.PROTOCOL_41
    | Capability.INTERACTIVE
    | Capability.IGNORE_SIGPIPE
    | Capability.TRANSACTIONS
    | Capability.RESERVED
    | Capability.SECURE_CONNECTION
    | Capability.MULTI_STATEMENTS
    | Capability.MULTI_RESULTS
    | Capability.PS_MULTI_RESULTS
    | Capability.PLUGIN_AUTH
    | Capability.CONNECT_ATTRS
    | Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA
    | Capability.CAN_HANDLE_EXPIRED_PASSWORDS
    | Capability.SESSION_TRACK
    | Capability.DEPRECATE_EOF
)
REQUIRED = Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH

# Connection character sets (collation ids of the handshake) whose multibyte characters can
# end in a quote or backslash byte: big5, sjis, gbk, cp932 (from MariaDB's
# information_schema.collations; gb18030 has no id below 256).
UNSAFE_CHARSET_IDS = frozenset({1, 84, 13, 88, 28, 87, 95, 96})

# MySQL error codes the gateway sends.
ER_DBACCESS_DENIED = 1044  # 42000
ER_ACCESS_DENIED = 1045  # 28000
ER_TABLEACCESS_DENIED = 1142  # 42000: the policy refused a statement
ER_UNKNOWN_COM = 1047  # 08S01
ER_QUERY_INTERRUPTED = 1317  # 70100
ER_SERVER_SHUTDOWN = 1053  # 08S01
ER_NOT_SUPPORTED = 1235  # 42000
ER_HANDSHAKE = 1043  # 08S01
ER_CONNECTION_ERROR = 2013  # HY000: lost connection to the server


class StartupRefused(Exception):
    """The client's connection cannot be served; sent to it as an ERR packet."""

    def __init__(self, code: int, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.sqlstate = sqlstate


def error_packet(seq: int, code: int, sqlstate: str, message: str) -> bytes:
    return encode_packet(seq, ErrPacket(code, sqlstate, message).encode())


async def send_error(
    client: trio.abc.Stream, seq: int, code: int, sqlstate: str, message: str
) -> None:
    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
        await client.send_all(error_packet(seq, code, sqlstate, message))


async def next_packet(stream: trio.abc.Stream, reader: PacketReader, who: str) -> Packet:
    """The next packet during the handshake; the peer leaving is a StartupRefused."""
    while True:
        packet = reader.next_packet()
        if packet is not None:
            return packet
        data = await stream.receive_some(RECV_SIZE)
        if not data:
            raise StartupRefused(ER_HANDSHAKE, "08S01", f"{who} closed the connection")
        reader.receive_data(data)


async def open_backend(connection: ConnectionConfig) -> FastStream:
    if connection.is_unix_socket:
        return await connect_unix(connection.address)
    host, port = split_address(connection.address)
    return await connect_tcp(host, port)


async def greet_client(
    client: trio.abc.Stream, reader: PacketReader, server: HandshakeV10, connection_id: int
) -> tuple[HandshakeResponse, int]:
    """Send the client our handshake (the backend's facts, our scramble and id) and read its
    response; returns it and the sequence id to answer with."""
    ours = HandshakeV10(
        server_version=server.server_version,
        connection_id=connection_id,
        auth_data=secrets.token_bytes(20).replace(b"\0", b"\1"),
        capabilities=(server.capabilities & RELAYED) | REQUIRED,
        charset=server.charset,
        status=server.status,
        auth_plugin="mysql_native_password",
    )
    await client.send_all(encode_packet(0, ours.encode()))
    packet = await next_packet(client, reader, "the client")
    response = HandshakeResponse.decode(packet.payload)
    if response.ssl_request:
        raise StartupRefused(
            ER_HANDSHAKE, "08S01", "iap's tunnel is already encrypted: connect without TLS"
        )
    seq = packet.last_seq + 1
    if response.auth_plugin not in (None, "", "mysql_native_password"):
        # Ask for the plugin we named; what the client answers is not checked either.
        switch = AuthSwitchRequest("mysql_native_password", ours.auth_data)
        await client.send_all(encode_packet(seq, switch.encode()))
        seq = (await next_packet(client, reader, "the client")).last_seq + 1
    return response, seq


def check_client(response: HandshakeResponse, connection: ConnectionConfig) -> None:
    if response.database and response.database != connection.database:
        raise StartupRefused(
            ER_DBACCESS_DENIED,
            "42000",
            f"iap: connection {connection.name} is for database {connection.database!r},"
            f" not {response.database!r}",
        )
    if response.charset in UNSAFE_CHARSET_IDS:
        raise StartupRefused(
            ER_NOT_SUPPORTED,
            "42000",
            "iap: the connection character set can hide quotes inside multibyte characters"
            " (big5, sjis, gbk, cp932); use utf8mb4",
        )


def client_flags(response: HandshakeResponse, server: HandshakeV10) -> int:
    """What the gateway asks the backend for: exactly what the client chose of what we
    offered (so the backend's answers have the form the client expects)."""
    flags = response.capabilities & server.capabilities & RELAYED
    return flags | REQUIRED | Capability.CONNECT_WITH_DB


async def login_backend(
    backend: FastStream,
    reader: PacketReader,
    server: HandshakeV10,
    connection: ConnectionConfig,
    response: HandshakeResponse,
    attributes: dict[str, str],
) -> tuple[FastStream, OkPacket]:
    """Log in with the connection's credentials, first switching to TLS when the connection
    asks for it; returns the stream to go on with (the TLS one) and the backend's OK."""
    flags = client_flags(response, server)
    max_packet = response.max_packet or 16 * 1024 * 1024
    seq = 1
    if connection.uses_tls:
        if not server.capabilities & Capability.SSL:
            raise backend_tls.refused(connection)
        flags |= Capability.SSL
        request = HandshakeResponse(flags, max_packet, response.charset, ssl_request=True)
        await backend.send_all(encode_packet(seq, request.encode()))
        backend = await backend_tls.start_tls(backend, connection)
        seq += 1
    auth = ClientAuthenticator(connection.user, connection.password(), secure=connection.uses_tls)
    plugin, data = auth.first_response(server.auth_plugin, server.auth_data)
    ours = HandshakeResponse(
        capabilities=flags,
        max_packet=max_packet,
        charset=response.charset,
        user=connection.user,
        auth_response=data,
        database=connection.database,
        auth_plugin=plugin,
        attributes=attributes if flags & Capability.CONNECT_ATTRS else {},
    )
    await backend.send_all(encode_packet(seq, ours.encode()))
    while True:
        packet = await next_packet(backend, reader, "the database")
        payload = packet.payload
        head = payload[0] if payload else None
        try:
            if head == OK_HEADER:
                return backend, OkPacket.decode(payload)
            if head == ERR_HEADER:
                err = ErrPacket.decode(payload)
                raise StartupRefused(
                    err.code,
                    err.sqlstate or "28000",
                    f"the database refused the login: {err.message}",
                )
            if head == AUTH_SWITCH:
                reply: bytes | None = auth.switch(AuthSwitchRequest.decode(payload))
            elif head == AUTH_MORE_DATA:
                reply = auth.more_data(payload[1:])
            else:
                raise RemoteProtocolError(f"unexpected login packet {payload[:1].hex()}")
        except AuthenticationFailed as e:
            raise StartupRefused(
                ER_ACCESS_DENIED, "28000", f"iap could not log in to the database: {e}"
            ) from e
        if reply is not None:
            await backend.send_all(encode_packet(packet.last_seq + 1, reply))


# How the session's text is lexed: read at login, and by the engine after a statement that
# may have changed it (then the client never sees the answer).
LEX_QUERY = "SELECT @@SESSION.sql_mode, @@SESSION.character_set_client"


async def kill_query(connection: ConnectionConfig, backend_id: int) -> None:
    """`KILL QUERY backend_id` on a fresh login with the connection's credentials: ends the
    statement the session's backend runs (the session's relay then reads its error)."""
    with trio.move_on_after(KILL_TIMEOUT):
        try:
            backend = await open_backend(connection)
            try:
                reader = PacketReader()
                server = HandshakeV10.decode(
                    (await next_packet(backend, reader, "the database")).payload
                )
                ours = HandshakeResponse(REQUIRED, 16 * 1024 * 1024, server.charset)
                backend, _ = await login_backend(
                    backend, reader, server, connection, ours, {"_client_name": "iap"}
                )
                await backend.send_all(query_packet(f"KILL QUERY {backend_id}"))
                answer = (await next_packet(backend, reader, "the database")).payload
                if answer[:1] == bytes((ERR_HEADER,)):
                    log.warning("KILL QUERY %d refused: %s", backend_id, ErrPacket.decode(answer))
            finally:
                await backend.aclose()
        except (
            OSError,
            trio.BrokenResourceError,
            StartupRefused,
            ProtocolError,
            backend_tls.BackendTLSError,
        ) as e:
            log.warning(
                "KILL QUERY %d not delivered connection=%s: %s", backend_id, connection.name, e
            )


def query_packet(sql: str) -> bytes:
    """A COM_QUERY of the gateway's own (sequence id 0, as every command)."""
    return encode_packet(0, command_packet(Command.QUERY, sql.encode()))


async def read_lex_state(
    backend: trio.abc.Stream, reader: PacketReader, deprecate_eof: bool
) -> LexState:
    """Run LEX_QUERY before the client's first command."""
    await backend.send_all(query_packet(LEX_QUERY))
    packets: list[bytes] = []
    while True:
        payload = (await next_packet(backend, reader, "the database")).payload
        packets.append(payload)
        if payload[:1] == bytes((ERR_HEADER,)):
            raise RemoteProtocolError(
                f"the database failed {LEX_QUERY}: {ErrPacket.decode(payload)}"
            )
        if len(packets) > 3 + (0 if deprecate_eof else 1) and is_eof(payload, deprecate_eof):
            return lex_state(packets, deprecate_eof)


def lex_state(packets: list[bytes], deprecate_eof: bool) -> LexState:
    """The lexing state from the answer to LEX_QUERY (its packets: 2 columns, 1 row)."""
    row = packets[3 + (0 if deprecate_eof else 1)]
    values: list[str | None] = []
    pos = 0
    for _ in range(2):
        value, pos = read_lenenc_str(row, pos)
        values.append(None if value is None else value.decode("utf-8", "replace"))
    sql_mode, charset = values
    return LexState(client_encoding=charset, sql_mode=sql_mode)
