"""The tunnel port: TLS connections from agents, one per client connection.

The agent sends one hello line, `{"v":1,"token":JWT,"connection":NAME}` + newline, at most
64 KiB within 10 s (`iap run` adds `"run":ID`: the session runs that approved run, checked
and claimed here, see iap/runs.py; a run that is not the user's, not approved, stale or used
is refused with `run_refused`); the gateway answers one line, `{"ok":true,"session":ID}` or
`{"error":CODE,"message":TEXT}`, and from then on the bytes are the database protocol, served
by the connection's engine. (The device-proof challenge of a later version is answered with
`{"challenge":NONCE}` before `ok`; agents must accept it in that place.) A hello that cannot be
read (too long, not JSON in UTF-8, nested too deep, not an object) is answered
`{"error":"bad_hello",...}`. A connection counts as unauthenticated (iap.netio.PreAuthLimits)
until its hello's token is verified.
"""

from __future__ import annotations

import json
import logging
import secrets
import socket
import ssl

import trio

from iap import runs
from iap.engines.registry import engine_for
from iap.identity import AuthError
from iap.netio import FastStream, authenticated, client_address, connection_errors_logged
from iap.services import Services

log = logging.getLogger("iap.tunnel")

HELLO_LIMIT = 64 * 1024
HELLO_TIMEOUT = 10.0
# After an error answer, what the agent still sends is read (and dropped) for this long, so the
# answer is not lost to a reset (closing with unread data sends RST instead of FIN).
LINGER_TIMEOUT = 2.0
LINGER_LIMIT = 1024 * 1024


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
    peer = client_address(sock)
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


def parse_hello(line: bytes) -> dict[str, object]:
    """The hello line as a JSON object; HelloError(bad_hello) for anything else (invalid
    UTF-8, not JSON, nested too deep for the parser, not an object, another version)."""
    try:
        hello = json.loads(line.decode("utf-8"))  # (bytes would also be read as UTF-16/32)
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        why = "nested too deeply" if isinstance(e, RecursionError) else "not JSON in UTF-8"
        raise HelloError("bad_hello", f"the hello is {why}") from None
    if not isinstance(hello, dict):
        raise HelloError("bad_hello", "the hello is not a JSON object")
    version = hello.get("v")
    if type(version) is not int or version != 1:
        raise HelloError("bad_hello", "unsupported hello version (expected v=1)")
    return hello


async def _linger(stream: FastStream) -> None:
    """Read and drop what the agent still sends, until it closes (bounded in time and size)."""
    received = 0
    with trio.move_on_after(LINGER_TIMEOUT):
        while received < LINGER_LIMIT:
            data = await stream.receive_some(65536)
            if not data:
                return
            received += len(data)


async def _serve_tunnel(services: Services, stream: FastStream, peer: str) -> None:
    try:
        with trio.fail_after(HELLO_TIMEOUT):
            line, rest = await read_line(stream, HELLO_LIMIT)
        hello = parse_hello(line)
        token, name = hello.get("token"), hello.get("connection")
        if not isinstance(token, str) or not isinstance(name, str):
            raise HelloError("bad_hello", "the hello needs a token and a connection name")
        try:
            # in a worker thread: verifying reads the user from the store
            claims = await trio.to_thread.run_sync(services.identity.verify_access_token, token)
        except AuthError as e:
            raise HelloError(e.code, f"{e}; run `iap login`") from None
        connection = services.config.connection(name)
        if connection is None:
            raise HelloError("unknown_connection", f"no connection named {name!r}")
        run, grant = hello.get("run"), None
        if run is not None:
            if not isinstance(run, str):
                raise HelloError("bad_hello", "the hello's run must be a request id")
            try:
                grant = await runs.claim(services, run, user=claims.sub, connection=connection)
            except runs.RunRefused as e:
                raise HelloError("run_refused", str(e)) from None
    except trio.TooSlowError:
        log.info("tunnel hello timeout peer=%s", peer)
        return
    except HelloError as e:
        log.info("tunnel refused peer=%s code=%s: %s", peer, e.code, e)
        reply = {"error": e.code, "message": str(e)}
        await stream.send_all(json.dumps(reply).encode() + b"\n")
        await _linger(stream)
        return
    authenticated()  # no longer counts against the limits on unauthenticated connections
    session_id = secrets.token_hex(8)
    await stream.send_all(json.dumps({"ok": True, "session": session_id}).encode() + b"\n")
    log.info(
        "tunnel open peer=%s user=%s connection=%s%s",
        peer,
        claims.sub,
        name,
        f" run={grant.id}" if grant is not None else "",
    )
    engine = engine_for(connection.kind)
    if engine is None:
        log.warning("connection kind %s is not served yet (connection=%s)", connection.kind, name)
        return
    if grant is not None:
        runs.offer(session_id, grant)  # the engine's Session takes it
    try:
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
    finally:
        runs.take(session_id)  # a session that never started leaves nothing behind
