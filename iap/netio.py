"""Fast byte streams for the relays: non-blocking stdlib sockets, TLS done by the ssl module.

trio's SocketStream and SSLStream are general and careful, and cost tens of microseconds of
Python per call; a relay makes four such calls per statement on each leg. `FastStream`
drives a plain or `ssl.SSLSocket` directly with `trio.lowlevel.wait_readable/wait_writable`,
so encryption and copying stay in C. It is a `trio.abc.Stream`: receive and send may run in
two tasks at once (one each), as the relays do. It never parses what it carries. Every call
checks for cancellation, but a call that needs no wait yields to other tasks only every 16th
time (a schedule point costs about as much as the system call itself).

`serve_tcp` accepts connections for the gateway's ports and the agent's local port: it
survives running out of file descriptors, can stop accepting while the connections it
accepted go on, and can cap the connections that have not authenticated yet
(`PreAuthLimits`), in all and per source address: the excess is closed as it is accepted.
Behind a trusted load balancer it takes the PROXY protocol header off each connection first
(`read_proxy_header`), and `client_address` then names the client, not the balancer.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import trio

from iap import context
from protocols.errors import RemoteProtocolError
from protocols.proxy import MAX_HEADER, ProxyHeader, header_length, parse_header

_WOULD_BLOCK = (BlockingIOError, InterruptedError)
# Out of file descriptors or memory: wait and accept again (as trio.serve_listeners does).
_ACCEPT_CAPACITY_ERRNOS = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS}
log = logging.getLogger("iap.netio")
PROXY_HEADER_TIMEOUT = 5.0  # seconds a trusted load balancer has to send its PROXY header


def _stdlib_socket(sock: trio.socket.SocketType | socket.socket) -> socket.socket:
    """The stdlib socket under a trio socket (taking over its file descriptor)."""
    if isinstance(sock, socket.socket):
        raw = sock
    else:
        raw = socket.socket(sock.family, sock.type, sock.proto, fileno=sock.detach())
    raw.setblocking(False)
    if raw.family in (socket.AF_INET, socket.AF_INET6):
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return raw


# A call that needs no wait skips trio's schedule point (a few microseconds each, four calls
# per statement per leg), but only this many times in a row: other tasks still get their turn.
_UNYIELDED_LIMIT = 16


class FastStream(trio.abc.Stream):
    def __init__(self, sock: socket.socket) -> None:
        self.socket = sock
        self._closed = False
        self._unyielded = 0

    async def _after_call(self, waited: bool) -> None:
        """A call that waited has yielded already; one that did not yields every
        _UNYIELDED_LIMIT-th time."""
        if waited:
            self._unyielded = 0
            return
        self._unyielded += 1
        if self._unyielded >= _UNYIELDED_LIMIT:
            self._unyielded = 0
            await trio.lowlevel.cancel_shielded_checkpoint()

    @classmethod
    def adopt(cls, stream: trio.SocketStream) -> FastStream:
        """Take the socket of a connected trio SocketStream (which must not be used again)."""
        return cls(_stdlib_socket(stream.socket))

    @classmethod
    async def wrap_tls(
        cls,
        sock: socket.socket,
        context: ssl.SSLContext,
        *,
        server_side: bool,
        server_hostname: str | None = None,
    ) -> FastStream:
        """TLS over a connected non-blocking socket; returns after the handshake."""
        tls = context.wrap_socket(
            sock,
            server_side=server_side,
            server_hostname=server_hostname,
            do_handshake_on_connect=False,
        )
        stream = cls(tls)
        try:
            while True:
                try:
                    tls.do_handshake()
                    return stream
                except ssl.SSLWantReadError:
                    await trio.lowlevel.wait_readable(tls)
                except ssl.SSLWantWriteError:
                    await trio.lowlevel.wait_writable(tls)
        except BaseException:
            tls.close()
            raise

    async def receive_some(self, max_bytes: int | None = None) -> bytes:
        size = max_bytes or 65536
        await trio.lowlevel.checkpoint_if_cancelled()
        waited = False
        while True:
            if self._closed:
                raise trio.ClosedResourceError("the stream was closed")
            try:
                data = self.socket.recv(size)
            except ssl.SSLWantReadError:
                await trio.lowlevel.wait_readable(self.socket)
            except ssl.SSLWantWriteError:
                await trio.lowlevel.wait_writable(self.socket)
            except _WOULD_BLOCK:
                await trio.lowlevel.wait_readable(self.socket)
            except ssl.SSLZeroReturnError:
                data = b""
                break
            except (ssl.SSLError, OSError) as e:
                if isinstance(e, OSError) and e.errno == errno.EBADF:
                    raise trio.ClosedResourceError("the stream was closed") from None
                raise trio.BrokenResourceError(str(e)) from e
            else:
                break
            waited = True
        await self._after_call(waited)
        return data

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await trio.lowlevel.checkpoint_if_cancelled()
        view = memoryview(data)
        waited = False
        with view:
            while view:
                if self._closed:
                    raise trio.ClosedResourceError("the stream was closed")
                try:
                    sent = self.socket.send(view)
                except ssl.SSLWantWriteError:
                    await trio.lowlevel.wait_writable(self.socket)
                except ssl.SSLWantReadError:
                    await trio.lowlevel.wait_readable(self.socket)
                except _WOULD_BLOCK:
                    await trio.lowlevel.wait_writable(self.socket)
                except (ssl.SSLError, OSError) as e:
                    raise trio.BrokenResourceError(str(e)) from e
                else:
                    view = view[sent:]
                    continue
                waited = True
        await self._after_call(waited)

    async def wait_send_all_might_not_block(self) -> None:
        await trio.lowlevel.wait_writable(self.socket)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            trio.lowlevel.notify_closing(self.socket)
            self.socket.close()
        await trio.lowlevel.checkpoint()


@contextmanager
def connection_errors_logged(log: logging.Logger, what: str, peer: str) -> Iterator[None]:
    """Around one client connection's handler: whatever goes wrong is logged and ends that
    connection only, never the gateway and its other sessions."""
    try:
        yield
    except trio.TooSlowError:
        log.info("%s timeout peer=%s", what, peer)
    except (ssl.SSLError, OSError) as e:
        log.info("%s TLS or socket error peer=%s: %s", what, peer, e)
    except (trio.BrokenResourceError, trio.ClosedResourceError) as e:
        log.info("%s closed peer=%s: %s", what, peer, e)
    except Exception:
        log.exception("%s failed peer=%s", what, peer)


async def connect_tcp(host: str, port: int) -> FastStream:
    """A TCP connection (trio's happy eyeballs), handed over to a FastStream."""
    return FastStream.adopt(await trio.open_tcp_stream(host, port))


async def connect_tls(
    host: str, port: int, context: ssl.SSLContext, server_hostname: str | None = None
) -> FastStream:
    """TCP then a TLS handshake, as a client verifying `server_hostname` (default: host)."""
    tcp = await trio.open_tcp_stream(host, port)
    return await FastStream.wrap_tls(
        _stdlib_socket(tcp.socket),
        context,
        server_side=False,
        server_hostname=server_hostname or host,
    )


async def connect_unix(path: str) -> FastStream:
    stream = await trio.open_unix_socket(path)
    return FastStream(_stdlib_socket(stream.socket))


class RateLimitedLog:
    """Log a recurring event at most once per `interval` seconds, counting the times held
    back (so a flood of connections or accept errors cannot flood the log)."""

    def __init__(self, logger: logging.Logger, interval: float = 10.0) -> None:
        self.logger = logger
        self.interval = interval
        self._next = 0.0
        self._suppressed = 0

    def warning(self, event: str, **fields: object) -> None:
        now = time.monotonic()
        if now < self._next:
            self._suppressed += 1
            return
        text = " ".join([event, *(f"{k}={v}" for k, v in fields.items())])
        self.logger.warning("%s suppressed=%d", text, self._suppressed)
        self._next, self._suppressed = now + self.interval, 0


def source_of(address: str) -> str:
    """What the per-source limit counts: an IPv4 address, or an IPv6 /64 (one host's share;
    an IPv4-mapped IPv6 address is its IPv4 address)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class PreAuthLimits:
    """Caps on connections that have not authenticated yet, in all and per source address.

    The accept loop asks `admit` for each connection; the connection's task gives its place
    back when it authenticates (`authenticated()`) or ends, whichever comes first."""

    def __init__(self, total: int, per_source: int, logger: logging.Logger = log) -> None:
        self.total = total
        self.per_source = per_source
        self.count = 0
        self.by_source: dict[str, int] = {}
        self._refusals = RateLimitedLog(logger)

    def admit(self, address: str) -> Admission | None:
        """A place for a new connection from `address`, or None (close it: over a limit)."""
        source = source_of(address)
        held = self.by_source.get(source, 0)
        if self.count >= self.total or held >= self.per_source:
            limit = "total" if self.count >= self.total else "per_source"
            self._refusals.warning(
                "unauthenticated connection refused",
                source=source,
                limit=limit,
                max=self.total if limit == "total" else self.per_source,
            )
            return None
        self.count += 1
        self.by_source[source] = held + 1
        return Admission(self, source)

    def _release(self, source: str) -> None:
        self.count -= 1
        left = self.by_source[source] - 1
        if left:
            self.by_source[source] = left
        else:
            del self.by_source[source]


class Admission:
    """One connection's place under the PreAuthLimits, until released (once)."""

    def __init__(self, limits: PreAuthLimits, source: str) -> None:
        self._limits: PreAuthLimits | None = limits
        self.source = source

    def release(self) -> None:
        if self._limits is not None:
            self._limits._release(self.source)
            self._limits = None


# The place of the connection the current task serves (set by the accept loop, inherited by
# the tasks the handler starts): the code that authenticates the peer gives it back.
_admission: ContextVar[Admission | None] = ContextVar("iap_admission", default=None)


# The client's address as host:port when a trusted proxy's PROXY header named it (set for the
# task serving that connection); otherwise the socket's peer is the client.
_client: ContextVar[str | None] = ContextVar("iap_client", default=None)


def client_address(sock: socket.socket) -> str:
    """host:port of the client of the connection this task serves: the PROXY header's source
    when a trusted load balancer passed it on, else the socket's peer ("?" if gone)."""
    named = _client.get()
    if named is not None:
        return named
    try:
        host, port = sock.getpeername()[:2]
    except OSError:
        return "?"
    return f"{host}:{port}"


async def read_proxy_header(sock: socket.socket) -> ProxyHeader:
    """Take the PROXY protocol header off the start of `sock` (a raw socket, before TLS),
    leaving the connection's own bytes unread. RemoteProtocolError when it is not one;
    BrokenResourceError when the peer leaves first. The caller bounds the time."""
    seen = -1
    while True:
        await trio.lowlevel.wait_readable(sock)
        try:
            data = sock.recv(MAX_HEADER, socket.MSG_PEEK)
        except BlockingIOError:
            continue
        except OSError as e:
            raise trio.BrokenResourceError(str(e)) from e
        if not data or len(data) == seen:  # gone, or a partial header: wait for the rest
            if not data:
                raise trio.BrokenResourceError("the peer closed before its PROXY header")
            await trio.sleep(0.01)
            continue
        seen = len(data)
        length = header_length(data)
        if length is not None and length <= len(data):
            return parse_header(sock.recv(length))


def authenticated() -> None:
    """The peer of the connection this task serves has authenticated: it no longer counts
    against the limits on unauthenticated connections."""
    admission = _admission.get()
    if admission is not None:
        admission.release()


async def serve_tcp(
    handler: Callable[[socket.socket], Awaitable[None]],
    host: str,
    port: int,
    *,
    reuse_port: bool = False,
    limits: PreAuthLimits | None = None,
    stop_accepting: trio.Event | None = None,
    trusted_proxies: tuple[str, ...] = (),
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Accept TCP connections and run `handler(stdlib socket)` for each, in its own task
    (non-blocking, TCP_NODELAY and SO_KEEPALIVE set); reports the bound port. Running out
    of file descriptors is waited out, not fatal. With `reuse_port` several processes listen
    on the same port and the kernel spreads new connections over them (SO_REUSEPORT: the
    gateway's workers). With `limits`, a connection over them is closed at once. A
    connection from `trusted_proxies` (networks) must start with a PROXY protocol header:
    its source is the client (`client_address`, and the limits count it). When
    `stop_accepting` is set the listening sockets close; this returns once the handlers of
    the connections accepted before have returned."""
    if reuse_port:
        listeners = await _reuse_port_listeners(host, port)
    else:
        listeners = await trio.open_tcp_listeners(port, host=host)
    bound: int = listeners[0].socket.getsockname()[1]
    accept_errors = RateLimitedLog(log)
    async with trio.open_nursery() as handlers, trio.open_nursery() as accepting:
        for listener in listeners:
            accepting.start_soon(
                _accept_loop, listener, handler, handlers, limits, accept_errors, trusted_proxies
            )
        task_status.started(bound)
        if stop_accepting is not None:
            await stop_accepting.wait()
            accepting.cancel_scope.cancel()


async def _reuse_port_listeners(host: str, port: int) -> list[trio.SocketListener]:
    listeners = []
    for family, kind, proto, _, address in await trio.socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    ):
        sock = trio.socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            await sock.bind(address)
            sock.listen(socket.SOMAXCONN)
        except BaseException:
            sock.close()
            raise
        listeners.append(trio.SocketListener(sock))
    return listeners


async def _accept_loop(
    listener: trio.SocketListener,
    handler: Callable[[socket.socket], Awaitable[None]],
    handlers: trio.Nursery,
    limits: PreAuthLimits | None,
    accept_errors: RateLimitedLog,
    trusted_proxies: tuple[str, ...],
) -> None:
    async with listener:
        while True:
            try:
                stream = await listener.accept()
            except OSError as e:
                if e.errno not in _ACCEPT_CAPACITY_ERRNOS:
                    raise
                # Out of file descriptors or memory: wait and accept again, as
                # trio.serve_listeners does.
                accept_errors.warning(
                    "accept failed", error=errno.errorcode.get(e.errno or 0, e.errno), retry_ms=100
                )
                await trio.sleep(0.1)
                continue
            try:
                sock = _stdlib_socket(stream.socket)
            except OSError:  # the peer is gone already
                stream.socket.close()
                continue
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)  # notice vanished peers
                source = str(sock.getpeername()[0])
            except OSError:
                sock.close()
                continue
            if trusted_proxies and _is_proxy(source, trusted_proxies):
                handlers.start_soon(_serve_proxied, handler, sock, limits, source)
                continue
            admission = limits.admit(source) if limits is not None else None
            if limits is not None and admission is None:
                sock.close()
                continue
            handlers.start_soon(_serve_admitted, handler, sock, admission)


def _is_proxy(source: str, networks: tuple[str, ...]) -> bool:
    address = context.source_of(f"{source}:0")
    return address is not None and context.in_networks(address, networks) is not None


async def _serve_proxied(
    handler: Callable[[socket.socket], Awaitable[None]],
    sock: socket.socket,
    limits: PreAuthLimits | None,
    proxy: str,
) -> None:
    """A connection a trusted load balancer passed on: its PROXY header first (within
    PROXY_HEADER_TIMEOUT), then served as the client's; without a valid header, closed."""
    try:
        with trio.fail_after(PROXY_HEADER_TIMEOUT):
            header = await read_proxy_header(sock)
    except (trio.TooSlowError, trio.BrokenResourceError, RemoteProtocolError) as e:
        log.warning("connection from proxy %s closed: no valid PROXY header: %s", proxy, e)
        sock.close()
        return
    source = proxy  # a LOCAL header (a health check) or one with no address: the balancer's
    if header.source is not None:
        host, port = header.source
        source = host
        _client.set(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    admission = limits.admit(source) if limits is not None else None
    if limits is not None and admission is None:
        sock.close()
        return
    await _serve_admitted(handler, sock, admission)


async def _serve_admitted(
    handler: Callable[[socket.socket], Awaitable[None]],
    sock: socket.socket,
    admission: Admission | None,
) -> None:
    _admission.set(admission)
    try:
        await handler(sock)
    finally:
        if admission is not None:
            admission.release()
