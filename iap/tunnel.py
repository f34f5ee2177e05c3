"""The tunnel port: TLS connections from agents, one per client connection.

The agent sends one hello line, `{"v":1,"token":JWT,"connection":NAME}` + newline, at most
64 KiB within 10 s; the gateway answers one line, `{"ok":true,"session":ID}` or
`{"error":CODE,"message":TEXT}`, and from then on the bytes are the database protocol, served
by the connection's engine. (The device-proof challenge of a later version is answered with
`{"challenge":NONCE}` before `ok`; agents must accept it in that place.)
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import ssl

import trio

from iap.engines import mysql, postgres
from iap.identity import AuthError
from iap.netio import FastStream, connection_errors_logged
from iap.services import Services

log = logging.getLogger("iap.tunnel")

HELLO_LIMIT = 64 * 1024
HELLO_TIMEOUT = 10.0


class HelloError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def read_line(stream: trio.abc.ReceiveStream, limit: int) -> tuple[bytes, bytes]:
    """One newline-terminated line (without it) and whatever arrived after it."""
    buf = bytearray()
    while True:
        nl = buf.find(b"\n")
        if nl >= 0:
            return bytes(buf[:nl]), bytes(buf[nl + 1 :])
        if len(buf) > limit:
            raise HelloError("bad_hello", f"hello longer than {limit} bytes")
        data = await stream.receive_some(4096)
        if not data:
            raise HelloError("bad_hello", "connection closed before the hello")
        buf += data


async def handle_tunnel(services: Services, context: ssl.SSLContext, sock: socket.socket) -> None:
    """One agent connection: TLS handshake, hello, then the engine (never raises)."""
    try:
        host, port = sock.getpeername()[:2]
        peer = f"{host}:{port}"
    except OSError:
        peer = "?"
    stream: FastStream | None = None
    try:
        with connection_errors_logged(log, "tunnel", peer):
            with trio.fail_after(HELLO_TIMEOUT):
                stream = await FastStream.wrap_tls(sock, context, server_side=True)
            await _serve_tunnel(services, stream, peer)
    finally:
        if stream is not None:
            await stream.aclose()
        else:
            sock.close()


async def _serve_tunnel(services: Services, stream: FastStream, peer: str) -> None:
    try:
        with trio.fail_after(HELLO_TIMEOUT):
            line, rest = await read_line(stream, HELLO_LIMIT)
        try:
            hello = json.loads(line)
        except ValueError:
            raise HelloError("bad_hello", "the hello is not JSON") from None
        if not isinstance(hello, dict) or hello.get("v") != 1:
            raise HelloError("bad_hello", "unsupported hello version (expected v=1)")
        token, name = hello.get("token"), hello.get("connection")
        if not isinstance(token, str) or not isinstance(name, str):
            raise HelloError("bad_hello", "the hello needs a token and a connection name")
        try:
            claims = services.identity.verify_access_token(token)
        except AuthError as e:
            raise HelloError(e.code, f"{e}; run `iap login`") from None
        connection = services.config.connection(name)
        if connection is None:
            raise HelloError("unknown_connection", f"no connection named {name!r}")
    except trio.TooSlowError:
        log.info("tunnel hello timeout peer=%s", peer)
        return
    except HelloError as e:
        log.info("tunnel refused peer=%s code=%s: %s", peer, e.code, e)
        reply = {"error": e.code, "message": str(e)}
        await stream.send_all(json.dumps(reply).encode() + b"\n")
        return
    session_id = secrets.token_hex(8)
    await stream.send_all(json.dumps({"ok": True, "session": session_id}).encode() + b"\n")
    log.info("tunnel open peer=%s user=%s connection=%s", peer, claims.sub, name)
    if connection.kind in ("postgres", "mysql"):
        engine = postgres if connection.kind == "postgres" else mysql
        await engine.serve(
            services,
            stream,
            rest,
            user=claims.sub,
            roles=tuple(claims.roles),
            connection=connection,
            client_address=peer,
            session_id=session_id,
        )
    else:
        log.warning("connection kind %s is not served yet (connection=%s)", connection.kind, name)
