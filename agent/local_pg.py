"""The start of a PostgreSQL client's connection to `iap connect`, answered by the agent.

The agent answers SSLRequest itself (`S` and a TLS handshake with the local certificate under
`--tls`, else `N`) and GSSENCRequest (`N`), reads the StartupMessage (or CancelRequest), and only
then opens the tunnel and forwards it: the gateway sees a plain startup. When no tunnel can be
opened, the client gets a FATAL ErrorResponse in place of authentication, with SQLSTATE 28000
(who you are: not logged in, session expired, user disabled) or 08006 (the gateway cannot be
reached or refused), and the message `iap: <why>: <what to do>`.
"""

from __future__ import annotations

import socket
import ssl

import trio

from agent.errors import AUTH_CODES, AgentError
from agent.pipe import GREETING_TIMEOUT, Buffered, Opener, relay
from iap.netio import FastStream
from protocols.postgres.framing import MAX_STARTUP_LENGTH
from protocols.postgres.messages import (
    CANCEL_REQUEST_CODE,
    GSSENC_REQUEST_CODE,
    SSL_REQUEST_CODE,
    ErrorResponse,
)

NEGOTIATIONS = 3  # SSLRequest and GSSENCRequest may each come once before the startup


def fatal(error: AgentError) -> bytes:
    """The ErrorResponse a client gets when its tunnel cannot be opened."""
    sqlstate = "28000" if error.code in AUTH_CODES else "08006"
    return ErrorResponse.make(code=sqlstate, message=f"iap: {error}", severity="FATAL").encode()


async def _first_packet(local: Buffered, tls: ssl.SSLContext | None) -> bytes | None:
    """Answer the encryption requests; the StartupMessage or CancelRequest, as received
    (None: the client sent something else and was told so)."""
    for _ in range(NEGOTIATIONS):
        header = await local.exactly(4)
        length = int.from_bytes(header, "big")
        if not 8 <= length <= MAX_STARTUP_LENGTH:
            refusal = ErrorResponse.make(
                code="08P01", message="iap: invalid length of startup packet", severity="FATAL"
            )
            await local.stream.send_all(refusal.encode())
            await local.linger()
            return None
        packet = header + await local.exactly(length - 4)
        code = int.from_bytes(packet[4:8], "big")
        if code == SSL_REQUEST_CODE and tls is not None and not local.encrypted:
            await local.stream.send_all(b"S")
            await local.start_tls(tls)
        elif code in (SSL_REQUEST_CODE, GSSENC_REQUEST_CODE):
            await local.stream.send_all(b"N")
        else:
            return packet
    return None


async def serve(sock: socket.socket, open_tunnel: Opener, tls: ssl.SSLContext | None) -> None:
    local = Buffered(FastStream(sock))
    packet: bytes | None = None
    try:
        with trio.move_on_after(GREETING_TIMEOUT):
            packet = await _first_packet(local, tls)
        if packet is None:
            return
        try:
            remote, rest = await open_tunnel()
        except AgentError as e:
            if int.from_bytes(packet[4:8], "big") != CANCEL_REQUEST_CODE:
                await local.stream.send_all(fatal(e))
            return
        async with remote:
            await relay(local.stream, remote, to_local=rest, to_remote=packet + local.rest())
    finally:
        await local.aclose()
