"""`iap connect`'s engine: a local port whose every connection becomes a TLS tunnel.

For each client connection on 127.0.0.1:PORT the agent opens TLS to the gateway's tunnel
port, sends the hello line (token + connection name), reads the answer, then copies bytes
both ways: it never parses SQL. New tunnels retry for a while when the gateway is restarting.
Held statements are shown from the gateway's event stream (`/v1/events`), filtered to the
sessions this agent opened.
"""

from __future__ import annotations

import json
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import httpx
import trio

from agent.client import GatewayClient
from agent.errors import AgentError
from agent.output import clock, one_line, say, warn
from iap.netio import FastStream, connect_tls, serve_tcp

BUFFER = 256 * 1024
CONNECT_ATTEMPTS = 20  # about 20 s of retries while the gateway restarts
HELLO_TIMEOUT = 15.0


@dataclass
class Tunnel:
    client: GatewayClient
    connection: str
    host: str
    port: int
    ssl_context: ssl.SSLContext
    sessions: set[str] = field(default_factory=set)
    opened: int = 0

    async def _open(self) -> tuple[FastStream, str, bytes]:
        delay = 0.25
        last: Exception | None = None
        refresh = False
        for _ in range(CONNECT_ATTEMPTS):
            try:
                token = await trio.to_thread.run_sync(
                    partial(self.client.access_token, force_refresh=refresh)
                )
                stream = await connect_tls(self.host, self.port, self.ssl_context)
                hello = {"v": 1, "token": token, "connection": self.connection}
                await stream.send_all(json.dumps(hello).encode() + b"\n")
                with trio.fail_after(HELLO_TIMEOUT):
                    line, rest = await _read_line(stream)
                answer = json.loads(line)
                if "challenge" in answer:
                    raise AgentError("the gateway asks for a device proof this agent cannot give")
                if answer.get("error") == "token_expired" and not refresh:
                    await stream.aclose()
                    refresh = True  # our clock and the gateway's disagree: refresh, try again
                    continue
                if not answer.get("ok"):
                    raise AgentError(f"gateway refused the tunnel: {answer.get('message')}")
                return stream, str(answer["session"]), rest
            except (
                OSError,
                ssl.SSLError,
                trio.BrokenResourceError,
                trio.TooSlowError,
                ValueError,
            ) as e:
                last = e
                await trio.sleep(delay)
                delay = min(delay * 2, 2.0)
        raise AgentError(f"cannot open a tunnel to {self.host}:{self.port}: {last}", 3)

    async def handle(self, sock: socket.socket) -> None:
        local = FastStream(sock)
        try:
            try:
                remote, session, rest = await self._open()
            except AgentError as e:
                warn(f"iap: {e}")
                return
            self.sessions.add(session)
            self.opened += 1
            async with remote:
                if rest:
                    await local.send_all(rest)
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(_copy, local, remote, nursery.cancel_scope)
                    nursery.start_soon(_copy, remote, local, nursery.cancel_scope)
        finally:
            await trio.aclose_forcefully(local)


async def _read_line(stream: trio.abc.ReceiveStream) -> tuple[bytes, bytes]:
    buf = b""
    while b"\n" not in buf:
        data = await stream.receive_some(4096)
        if not data:
            raise trio.BrokenResourceError("the gateway closed the tunnel during the hello")
        buf += data
        if len(buf) > 65536:
            raise ValueError("hello answer too long")
    line, _, rest = buf.partition(b"\n")
    return line, rest


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


def describe_event(event: dict[str, object]) -> str | None:
    kind, rid = event.get("kind"), event.get("id")
    if kind == "request.held":
        return (
            f"[iap {clock(time.time())}] statement held ({event.get('risk')}): "
            f"{one_line(str(event.get('sql')))}\n"
            f"    approve with: iap approve {rid}    deny with: iap deny {rid}"
        )
    if isinstance(kind, str) and kind.startswith("request.") and kind != "request.approval_added":
        status = kind.split(".", 1)[1]
        reason = f": {event['reason']}" if event.get("reason") else ""
        return f"[iap {clock(time.time())}] request {rid} {status}{reason}"
    return None


def watch_events(
    client: GatewayClient, mine: Callable[[str], bool], stop: Callable[[], bool]
) -> None:
    """Runs in a thread: follow /v1/events, print what concerns this agent's sessions."""
    delay = 1.0
    while not stop():
        try:
            token = client.access_token()
            headers = {"Authorization": f"Bearer {token}"}
            with client.http.stream(
                "GET", "/v1/events", headers=headers, timeout=httpx.Timeout(60.0, connect=5.0)
            ) as response:
                if response.status_code != 200:
                    raise httpx.TransportError(f"HTTP {response.status_code}")
                delay = 1.0
                for line in response.iter_lines():
                    if stop():
                        return
                    if not line.startswith("data: "):
                        continue
                    event = json.loads(line[6:])
                    if mine(str(event.get("session"))):
                        text = describe_event(event)
                        if text:
                            warn(text)
        except (httpx.HTTPError, AgentError, ValueError):
            time.sleep(delay)
            delay = min(delay * 2, 15.0)


async def serve(tunnel: Tunnel, port: int, on_ready: Callable[[int], None]) -> None:
    stopping = False
    async with trio.open_nursery() as nursery:
        bound = await nursery.start(serve_tcp, tunnel.handle, "127.0.0.1", port)
        on_ready(bound)
        try:
            await trio.to_thread.run_sync(
                watch_events,
                tunnel.client,
                tunnel.sessions.__contains__,
                lambda: stopping,
                abandon_on_cancel=True,
            )
        finally:
            stopping = True
        await trio.sleep_forever()


def connection_string(kind: str, user: str, port: int, database: str) -> str:
    if kind == "mysql":
        return f"mysql://{user}@127.0.0.1:{port}/{database}"
    return f"postgresql://{user}@127.0.0.1:{port}/{database}?sslmode=disable"


def print_ready(kind: str, user: str, database: str, name: str) -> Callable[[int], None]:
    def ready(port: int) -> None:
        say(connection_string(kind, user, port, database))
        warn(f"iap: {name} is open on 127.0.0.1:{port}; press Ctrl-C to close it")

    return ready
