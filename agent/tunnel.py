"""`iap connect`'s engine: local ports whose every connection becomes a TLS tunnel.

For each client connection on 127.0.0.1:PORT the agent opens TLS to the gateway's tunnel
port, sends the hello line (token + connection name), reads the answer, then copies bytes
both ways: it never parses SQL. The first packets are the agent's own business
(agent/local_pg.py, agent/local_mysql.py): local TLS under `--tls`, and, when no tunnel can be
opened, an answer in the client's protocol saying why. New tunnels retry for RETRY_WINDOW
seconds while the gateway restarts, then give up: the client hears why within seconds.
Held statements are shown from the gateway's event stream (`/v1/events`), filtered to the
sessions this agent opened. `iap run` opens one tunnel whose hello names its approved run
(`"run":ID`) on a port that takes one client (`serve_once`).
"""

from __future__ import annotations

import contextlib
import errno
import json
import signal
import socket
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import trio

from agent import local_mysql, local_pg
from agent.client import TOKEN_CODES, GatewayClient, ssl_context, transport_error
from agent.errors import EXIT_REFUSED, AgentError, session_expired, user_disabled
from agent.output import clock, one_line, say, warn
from agent.pipe import CONNECTION_ERRORS, Buffered, Opener, relay
from iap.netio import FastStream, connect_tls

RETRY_WINDOW = 5.0  # a restarting gateway is waited for this long per client connection
RETRY_DELAY_MAX = 1.0
HELLO_TIMEOUT = 10.0

Greeter = Callable[[socket.socket, Opener, ssl.SSLContext | None], Awaitable[None]]


async def _serve_raw(sock: socket.socket, open_tunnel: Opener, tls: ssl.SSLContext | None) -> None:
    """A kind without a greeting of its own: bytes both ways, or a closed connection."""
    local = Buffered(FastStream(sock))
    try:
        try:
            remote, rest = await open_tunnel()
        except AgentError:
            return
        async with remote:
            await relay(local.stream, remote, to_local=rest)
    finally:
        await local.aclose()


GREETERS: dict[str, Greeter] = {"postgres": local_pg.serve, "mysql": local_mysql.serve}


def _reason(e: BaseException) -> BaseException:
    """The most specific cause of a connect failure (trio wraps errno errors in a group)."""
    cause = e.__cause__
    if isinstance(cause, BaseExceptionGroup) and cause.exceptions:
        return _reason(cause.exceptions[0])
    return e


@dataclass
class Tunnel:
    client: GatewayClient
    connection: str
    host: str
    port: int
    ssl_context: ssl.SSLContext
    kind: str = "postgres"  # as the gateway config's default
    local_tls: ssl.SSLContext | None = None
    report: bool = True  # print why a tunnel could not be opened (the client hears it too)
    sessions: set[str] = field(default_factory=set)
    run: str | None = None  # an approved `iap run` the session runs (named in the hello)

    @classmethod
    def for_connection(
        cls,
        client: GatewayClient,
        info: dict[str, Any],
        local_tls: ssl.SSLContext | None = None,
        *,
        report: bool = True,
    ) -> Tunnel:
        """The tunnel for a connection as `GET /v1/connections/{name}` describes it."""
        host = urlsplit(client.gateway).hostname or "127.0.0.1"
        return cls(
            client,
            str(info["name"]),
            host,
            int(info["tunnel_port"]),
            ssl_context(client.ca_pem),
            str(info["kind"]),
            local_tls,
            report,
        )

    async def _attempt(self, token: str, deadline: float) -> tuple[FastStream, bytes, bytes]:
        """TLS to the tunnel port (within the retry window), the hello, the answer line."""
        with trio.fail_after(max(deadline - trio.current_time(), 0.5)):
            stream = await connect_tls(self.host, self.port, self.ssl_context)
        try:
            hello = {"v": 1, "token": token, "connection": self.connection}
            if self.run is not None:
                hello["run"] = self.run
            await stream.send_all(json.dumps(hello).encode() + b"\n")
            with trio.fail_after(HELLO_TIMEOUT):
                line, rest = await _read_line(stream)
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        return stream, line, rest

    async def open(self) -> tuple[FastStream, bytes]:
        """A tunnel whose hello the gateway accepted: the stream and what followed the answer.
        Failures to reach the gateway are retried for RETRY_WINDOW seconds (a restart); then,
        or for any refusal, AgentError (with its code) says why there is none."""
        deadline = trio.current_time() + RETRY_WINDOW
        delay, refresh = 0.25, False
        while True:
            token = await trio.to_thread.run_sync(
                partial(self.client.access_token, force_refresh=refresh)
            )
            try:
                stream, line, rest = await self._attempt(token, deadline)
            except ssl.SSLCertVerificationError as e:
                raise transport_error(f"{self.host}:{self.port}", e, True) from None
            except CONNECTION_ERRORS as e:
                if trio.current_time() + delay >= deadline:
                    where = f"{self.host}:{self.port}"
                    raise transport_error(
                        where, _reason(e), self.client.ca_pem is not None
                    ) from None
                await trio.sleep(delay)
                delay = min(delay * 2, RETRY_DELAY_MAX)
                continue
            try:
                answer = json.loads(line)
            except ValueError:
                answer = {"error": "bad_answer", "message": "the gateway's answer is not JSON"}
            if isinstance(answer, dict) and answer.get("ok"):
                self.sessions.add(str(answer["session"]))
                return stream, rest
            await trio.aclose_forcefully(stream)
            if not isinstance(answer, dict):
                answer = {"error": "bad_answer", "message": "the gateway's answer is not an object"}
            if answer.get("error") == "token_expired" and not refresh:
                refresh = True  # our clock and the gateway's disagree: refresh, try again
                continue
            raise self._refusal(answer)

    def _refusal(self, answer: dict[str, Any]) -> AgentError:
        code = answer.get("error")
        if "challenge" in answer:
            return AgentError("the gateway asks for a device proof this agent cannot give")
        if code == "user_disabled":
            return user_disabled(self.client.state.user if self.client.state else "?")
        if code in TOKEN_CODES:
            return session_expired("the gateway refused the token")
        if code == "unknown_connection":
            return AgentError(
                f"the gateway has no connection {self.connection!r} any more: see `iap ls`",
                EXIT_REFUSED,
                "unknown_connection",
            )
        return AgentError(
            f"the gateway refused the tunnel: {answer.get('message') or code}",
            EXIT_REFUSED,
            str(code or "refused"),
        )

    async def _open_reported(self) -> tuple[FastStream, bytes]:
        try:
            return await self.open()
        except AgentError as e:
            if self.report:
                warn(f"iap: {self.connection}: {e}")
            raise

    async def handle(self, sock: socket.socket) -> None:
        """One client connection, start to end; never raises (other clients go on)."""
        greet = GREETERS.get(self.kind, _serve_raw)
        try:
            await greet(sock, self._open_reported, self.local_tls)
        except CONNECTION_ERRORS:
            pass
        except Exception as e:  # a bug must not end the other clients' connections
            warn(f"iap: {self.connection}: unexpected error: {e!r}")


async def _read_line(stream: trio.abc.ReceiveStream) -> tuple[bytes, bytes]:
    buf = b""
    while b"\n" not in buf:
        data = await stream.receive_some(4096)
        if not data:
            raise trio.BrokenResourceError("the gateway closed the tunnel during the hello")
        buf += data
        if len(buf) > 65536:
            raise trio.BrokenResourceError("the gateway's hello answer is too long")
    line, _, rest = buf.partition(b"\n")
    return line, rest


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
        reason = f": {one_line(str(event['reason']), 200)}" if event.get("reason") else ""
        return f"[iap {clock(time.time())}] request {rid} {status}{reason}"
    return None


def watch_events(
    client: GatewayClient, mine: Callable[[str], bool], stop: Callable[[], bool]
) -> None:
    """Runs in a thread: follow /v1/events, print what concerns this agent's sessions."""

    def show(event: dict[str, Any]) -> None:
        text = describe_event(event) if mine(str(event.get("session"))) else None
        if text:
            warn(text)

    follow_events(client, show, stop)


def follow_events(
    client: GatewayClient, on_event: Callable[[dict[str, Any]], None], stop: Callable[[], bool]
) -> None:
    """Blocking: hand each event of /v1/events (the caller's own, and the holds it may
    approve) to `on_event` until stop(); a broken stream is opened again, with back-off."""
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
                    on_event(json.loads(line[6:]))
        except (httpx.HTTPError, AgentError, ValueError):
            time.sleep(delay)
            delay = min(delay * 2, 15.0)


async def bind(port: int) -> list[trio.SocketListener]:
    """Listen on 127.0.0.1:port (0: a free one); a port that cannot be had is one line."""
    try:
        return await trio.open_tcp_listeners(port, host="127.0.0.1")
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            why = f"port {port} on 127.0.0.1 is in use"
        elif e.errno == errno.EACCES:
            why = f"port {port} needs privileges this user does not have"
        else:
            why = f"cannot listen on 127.0.0.1:{port} ({e.strerror or e})"
        raise AgentError(
            f"{why}: choose another --port, or leave --port out to take a free one",
            EXIT_REFUSED,
            "port_unavailable",
        ) from None


PG_SOCKET = ".s.PGSQL.5432"  # what libpq looks for in host=<folder> with port=5432


@asynccontextmanager
async def private_socket(kind: str) -> AsyncIterator[tuple[list[trio.SocketListener], Path]]:
    """A listening unix socket in a new folder only this user may enter (mode 0700), and its
    path: what `iap psql`, `iap mysql` and `iap run` give their client. A port on 127.0.0.1
    would be open to every user of the machine, who could use the tunnel as this user (or be
    first on `iap run`'s one-shot port). libpq finds the socket as host=<folder> port=5432."""
    folder = Path(tempfile.mkdtemp(prefix="iap-"))  # mode 0700
    path = folder / (PG_SOCKET if kind == "postgres" else "mysql.sock")
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        await sock.bind(str(path))
        sock.listen(16)
        yield [trio.SocketListener(sock)], path
    finally:
        sock.close()
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()


def bound_port(listeners: list[trio.SocketListener]) -> int:
    port: int = listeners[0].socket.getsockname()[1]
    return port


async def serve_bound(
    bound: list[tuple[Tunnel, list[trio.SocketListener]]],
    client: GatewayClient,
    *,
    watch: bool = True,
) -> None:
    """Serve the bound ports until cancelled; with `watch`, show this agent's held
    statements from the event stream."""

    async def accepted(tunnel: Tunnel, stream: trio.SocketStream) -> None:
        await tunnel.handle(FastStream.adopt(stream).socket)

    async with trio.open_nursery() as nursery:
        for tunnel, listeners in bound:
            nursery.start_soon(trio.serve_listeners, partial(accepted, tunnel), listeners)
        if watch:
            await watch_sessions(client, [tunnel for tunnel, _ in bound])


async def watch_sessions(client: GatewayClient, tunnels: list[Tunnel]) -> None:
    """Until cancelled, show the held statements of these tunnels' sessions (a thread)."""
    stopping = False
    mine: Callable[[str], bool] = lambda s: any(s in t.sessions for t in tunnels)  # noqa: E731
    try:
        await trio.to_thread.run_sync(
            watch_events, client, mine, lambda: stopping, abandon_on_cancel=True
        )
    finally:
        stopping = True


async def serve_once(tunnel: Tunnel, listeners: list[trio.SocketListener]) -> None:
    """Serve the first client that connects, then close the port (`iap run`: one client,
    one session)."""
    stream = await listeners[0].accept()
    for listener in listeners:
        await listener.aclose()
    await tunnel.handle(FastStream.adopt(stream).socket)


def run_until_stopped(
    tunnels: list[tuple[Tunnel, int | None]],
    on_ready: Callable[[list[int | Path]], None],
) -> None:
    """`iap connect`: bind every port (None: a private unix socket) before anything is
    printed, report them (a port, or the socket's path), serve until SIGINT/SIGTERM."""

    async def main() -> None:
        async with contextlib.AsyncExitStack() as sockets:
            bound: list[tuple[Tunnel, list[trio.SocketListener]]] = []
            places: list[int | Path] = []
            for tunnel, port in tunnels:
                if port is None:
                    listeners, path = await sockets.enter_async_context(private_socket(tunnel.kind))
                    places.append(path)
                else:
                    listeners = await bind(port)
                    places.append(bound_port(listeners))
                bound.append((tunnel, listeners))
            await serve_until_stopped(bound, lambda: on_ready(places))

    async def serve_until_stopped(
        bound: list[tuple[Tunnel, list[trio.SocketListener]]], ready: Callable[[], None]
    ) -> None:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            ready()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(serve_bound, bound, tunnels[0][0].client)
                async for _ in signals:
                    nursery.cancel_scope.cancel()
                    break

    trio.run(main)


async def serve(tunnel: Tunnel, port: int, on_ready: Callable[[int], None]) -> None:
    """One tunnel on one port until cancelled (the demo's entry)."""
    listeners = await bind(port)
    on_ready(bound_port(listeners))
    await serve_bound([(tunnel, listeners)], tunnel.client)


def connection_string(
    kind: str, user: str, port: int | Path, database: str, ca: str | None = None
) -> str:
    """What a client connects with: on a port, sslmode=disable, or with `ca` (local TLS)
    verify-full; on a private socket (a path), its folder (libpq) or the socket (MySQL URI)."""
    if isinstance(port, Path):
        if kind == "mysql":
            return f"mysql://{user}@{quote(str(port), safe='')}/{database}"
        return f"postgresql://{user}@/{database}?host={quote(str(port.parent), safe='')}&port=5432"
    where = quote(ca or "", safe="/")
    if kind == "mysql":
        tls = f"?ssl-mode=VERIFY_IDENTITY&ssl-ca={where}" if ca else ""
        return f"mysql://{user}@127.0.0.1:{port}/{database}{tls}"
    mode = f"sslmode=verify-full&sslrootcert={where}" if ca else "sslmode=disable"
    return f"postgresql://{user}@127.0.0.1:{port}/{database}?{mode}"


def print_ready(kind: str, user: str, database: str, name: str) -> Callable[[int], None]:
    def ready(port: int) -> None:
        say(connection_string(kind, user, port, database))
        warn(f"iap: {name} is open on 127.0.0.1:{port}; press Ctrl-C to close it")

    return ready
