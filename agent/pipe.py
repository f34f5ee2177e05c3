"""Bytes between a local client and its tunnel: exact reads during a greeting, then a relay.

The agent never parses SQL; the greetings (agent/local_pg.py, agent/local_mysql.py) read only
the first packets of a connection, with `Buffered`, and hand over to `relay`.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Awaitable, Callable

import trio

from iap.netio import FastStream

# Opens the tunnel for one client connection: the stream to the gateway and the bytes that came
# after its hello answer; AgentError says why it could not.
Opener = Callable[[], Awaitable[tuple[FastStream, bytes]]]

BUFFER = 256 * 1024
HANDSHAKE_TIMEOUT = 15.0
LINGER_TIMEOUT = 2.0
LINGER_LIMIT = 1024 * 1024
GREETING_TIMEOUT = 60.0  # a client's first packets, up to the end of its authentication

# What ends one client connection quietly: the client or the gateway went away, or was slow.
CONNECTION_ERRORS = (
    OSError,
    ssl.SSLError,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    trio.TooSlowError,
)


class Buffered:
    """A stream read in exact amounts, never beyond them: a MySQL client starts its TLS
    handshake right after its SSL request, unasked, and those bytes belong to the TLS layer.
    (`buf` holds what a caller put back, e.g. bytes that followed the tunnel's hello.)"""

    def __init__(self, stream: FastStream) -> None:
        self.stream = stream
        self.buf = bytearray()
        self.encrypted = False

    async def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            data = await self.stream.receive_some(n - len(self.buf))
            if not data:
                raise trio.BrokenResourceError("the peer closed the connection")
            self.buf += data
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def rest(self) -> bytes:
        out = bytes(self.buf)
        self.buf.clear()
        return out

    async def start_tls(self, context: ssl.SSLContext) -> None:
        """Switch to TLS as the server (nothing may have been sent ahead of the handshake)."""
        if self.buf:
            raise trio.BrokenResourceError("the client sent data before the TLS handshake")
        with trio.fail_after(HANDSHAKE_TIMEOUT):
            self.stream = await FastStream.wrap_tls(self.stream.socket, context, server_side=True)
        self.encrypted = True

    async def linger(self) -> None:
        """Read and drop what the peer still sends, for a while: closing with unread bytes
        would reset the connection, and the peer might lose what it was just told."""
        received = 0
        with trio.move_on_after(LINGER_TIMEOUT), contextlib.suppress(*CONNECTION_ERRORS):
            while received < LINGER_LIMIT:
                data = await self.stream.receive_some(65536)
                if not data:
                    return
                received += len(data)

    async def aclose(self) -> None:
        with contextlib.suppress(*CONNECTION_ERRORS):
            await trio.aclose_forcefully(self.stream)


async def relay(
    local: FastStream, remote: FastStream, *, to_local: bytes = b"", to_remote: bytes = b""
) -> None:
    """Copy both ways until either side closes (first sending what the greeting held back)."""
    if to_local:
        await local.send_all(to_local)
    if to_remote:
        await remote.send_all(to_remote)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_copy, local, remote, nursery.cancel_scope)
        nursery.start_soon(_copy, remote, local, nursery.cancel_scope)


async def _copy(
    source: trio.abc.ReceiveStream, sink: trio.abc.SendStream, done: trio.CancelScope
) -> None:
    try:
        while True:
            data = await source.receive_some(BUFFER)
            if not data:
                break
            await sink.send_all(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    done.cancel()
