"""The start of a MySQL/MariaDB client's connection to `iap connect`, where the agent takes part.

MySQL servers speak first, so the tunnel is opened at once. When it cannot be, the client gets
an ERR packet in place of the server's handshake (sequence id 0, no SQLSTATE marker: the client
has not learnt the protocol's capabilities yet): error 1045 (who you are: not logged in,
session expired, user disabled) or 1105 (the gateway cannot be reached or refused; MariaDB's
client library takes the client-side codes 2003/2013 from a server for a malformed packet),
with the message `iap: <why>: <what to do>`.

Under `--tls` the agent adds CLIENT_SSL to the gateway's handshake. A client that asks for TLS
sends an SSL request (sequence 1) and, after the TLS handshake, its handshake response
(sequence 2); the gateway, which never saw the SSL request, expects that response as sequence
1. So until the authentication ends (an OK or ERR from the gateway), the agent forwards each
packet with its sequence id moved by one (down towards the gateway, up towards the client) and
CLIENT_SSL cleared from the response; then the relay takes over (commands restart at 0).
"""

from __future__ import annotations

import socket
import ssl

import trio

from agent.errors import AUTH_CODES, AgentError
from agent.pipe import GREETING_TIMEOUT, Buffered, Opener, relay
from iap.netio import FastStream
from protocols.mysql.messages import ERR_HEADER, OK_HEADER, Capability
from protocols.mysql.packets import HEADER_SIZE, MAX_CHUNK, encode_packet

AUTH_EXCHANGES = 8  # auth switch and more-data rounds before the gateway's OK; more is an error
ER_ACCESS_DENIED = 1045
ER_UNKNOWN_ERROR = 1105  # client-range codes (2003, 2013) read as a malformed packet


def refusal_packet(error: AgentError) -> bytes:
    """The ERR packet a client gets in place of the handshake when no tunnel opens."""
    code = ER_ACCESS_DENIED if error.code in AUTH_CODES else ER_UNKNOWN_ERROR
    payload = bytes((ERR_HEADER,)) + code.to_bytes(2, "little") + f"iap: {error}".encode()
    return encode_packet(0, payload)


async def read_packet(stream: Buffered) -> tuple[int, bytes]:
    """One packet of the connection phase: (sequence id, payload); never a continued one."""
    header = await stream.exactly(HEADER_SIZE)
    length = int.from_bytes(header[:3], "little")
    if length >= MAX_CHUNK:
        raise trio.BrokenResourceError("a connection-phase packet of 16 MiB")
    return header[3], await stream.exactly(length)


def offer_ssl(handshake: bytes) -> bytes:
    """The gateway's HandshakeV10 payload with CLIENT_SSL set in its lower capability flags
    (after the protocol version, the NUL-ended server version, the connection id, the first
    8 bytes of the scramble and a filler byte)."""
    flags_at = handshake.index(b"\0", 1) + 1 + 4 + 8 + 1
    flags = int.from_bytes(handshake[flags_at : flags_at + 2], "little") | Capability.SSL
    return handshake[:flags_at] + flags.to_bytes(2, "little") + handshake[flags_at + 2 :]


def _asks_tls(response: bytes) -> bool:
    return len(response) >= 4 and bool(int.from_bytes(response[:4], "little") & Capability.SSL)


def _without_ssl(response: bytes) -> bytes:
    flags = int.from_bytes(response[:4], "little") & ~Capability.SSL
    return flags.to_bytes(4, "little") + response[4:]


async def _tls_handshake(local: Buffered, gateway: Buffered, tls: ssl.SSLContext) -> None:
    """Offer TLS to the client; if it asks, run the connection phase over TLS (see above)."""
    seq, handshake = await read_packet(gateway)
    await local.stream.send_all(encode_packet(seq, offer_ssl(handshake)))
    seq, response = await read_packet(local)
    if not (_asks_tls(response) and len(response) == 32):
        await gateway.stream.send_all(encode_packet(seq, response))  # a client without TLS
        return
    await local.start_tls(tls)
    seq, response = await read_packet(local)
    await gateway.stream.send_all(encode_packet(seq - 1, _without_ssl(response)))
    for _ in range(AUTH_EXCHANGES):
        seq, answer = await read_packet(gateway)
        await local.stream.send_all(encode_packet(seq + 1, answer))
        if answer[:1] in (bytes((OK_HEADER,)), bytes((ERR_HEADER,))):
            return
        seq, reply = await read_packet(local)
        await gateway.stream.send_all(encode_packet(seq - 1, reply))
    raise trio.BrokenResourceError("the authentication exchange did not end")


async def serve(sock: socket.socket, open_tunnel: Opener, tls: ssl.SSLContext | None) -> None:
    local = Buffered(FastStream(sock))
    try:
        try:
            remote, rest = await open_tunnel()
        except AgentError as e:
            await local.stream.send_all(refusal_packet(e))
            return
        gateway = Buffered(remote)
        gateway.buf += rest
        async with remote:
            if tls is not None:
                with trio.fail_after(GREETING_TIMEOUT):
                    await _tls_handshake(local, gateway, tls)
            await relay(local.stream, remote, to_local=gateway.rest(), to_remote=local.rest())
    finally:
        await local.aclose()
