"""What the engines' relays share, whatever the protocol.

`ClientInput` reads from the client: the next bytes, and, while a statement is held,
reading ahead so that a client that leaves is noticed at once. What the client sends during
a hold waits there, in order, up to a limit (then reading stops and the client waits), and
is handed to the engine before anything read later.

`pump_backend` forwards the backend's bytes to the client: the engine's scan finds the
whole frames in the buffer, follows them and says what to forward.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import trio

from iap.session import Session
from protocols.errors import ProtocolError

RECV_SIZE = 65536
READ_AHEAD_LIMIT = 4 * 1024 * 1024  # bytes read from the client while a statement is held


class ClientInput:
    def __init__(self, client: trio.abc.Stream, session: Session) -> None:
        self.client = client
        self.session = session
        self.ahead = bytearray()

    async def receive(self) -> bytes | bytearray:
        """The next bytes from the client (what a hold read ahead first); b"" at its end."""
        if self.ahead:
            ahead, self.ahead = self.ahead, bytearray()
            return ahead
        if self.session.client_gone.is_set():
            return b""
        data: bytes | bytearray
        try:
            data = await self.client.receive_some(RECV_SIZE)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            data = b""
        if not data:
            self.session.client_gone.set()
        return data

    async def read_ahead_while_held(self) -> None:
        """Run beside a hold (cancelled when it ends): sets the session's client_gone when
        the client leaves."""
        try:
            while len(self.ahead) < READ_AHEAD_LIMIT:
                data = await self.client.receive_some(RECV_SIZE)
                if not data:
                    break
                self.ahead += data
            else:
                await trio.sleep_forever()  # full: stop reading, the client waits
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        self.session.client_gone.set()


Scan = Callable[[bytearray], tuple[int, bytes]]
"""Given the receive buffer: (bytes consumed, bytes to forward); 0 until a frame is whole."""


async def pump_backend(
    backend: trio.abc.ReceiveStream,
    scan: Scan,
    send: Callable[[bytes], Awaitable[None]],
    *,
    cancel: trio.CancelScope,
    log: logging.Logger,
    session_id: str,
) -> None:
    """Relay backend -> client until either side ends, then cancel the session's relay."""
    buf = bytearray()
    try:
        while True:
            data = await backend.receive_some(RECV_SIZE)
            if not data:
                log.info("backend closed session=%s", session_id)
                break
            buf += data
            consumed, out = scan(buf)
            if not consumed:
                continue
            del buf[:consumed]
            if out:
                await send(out)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    except ProtocolError as e:
        log.warning("backend protocol error session=%s: %s", session_id, e)
    cancel.cancel()
