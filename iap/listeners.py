"""The gateway's database-facing listeners: the agents' tunnel port and, for connections that
set `listen`, a direct listener each (no agent: the client gives `iap token` as its password
over TLS).

Each accepted socket runs in its own task; whatever goes wrong in one connection is logged
and ends that connection only. All of them share one cap on connections that have not
authenticated yet (`[gateway] max_unauthenticated`, `max_unauthenticated_per_source`): the
tunnel's hello, or the direct listener's token, gives the connection's place back. They stop
accepting when the gateway stops (`stop_accepting`), while the connections go on.
"""

from __future__ import annotations

import logging
import socket
import ssl
from functools import partial

import trio

from iap.config import ConnectionConfig, split_address
from iap.engines import postgres
from iap.netio import (
    FastStream,
    PreAuthLimits,
    client_address,
    connection_errors_logged,
    serve_tcp,
)
from iap.services import Services
from iap.tunnel import handle_tunnel

log = logging.getLogger("iap.listeners")


async def start_listeners(
    nursery: trio.Nursery,
    services: Services,
    context: ssl.SSLContext,
    stop_accepting: trio.Event,
) -> tuple[str, int]:
    """Open the tunnel port and every direct listener; returns the tunnel's (host, port)."""
    gateway = services.config.gateway
    host, port = split_address(gateway.tunnel)
    serve = partial(
        serve_tcp,
        reuse_port=services.workers > 1,
        limits=PreAuthLimits(gateway.max_unauthenticated, gateway.max_unauthenticated_per_source),
        stop_accepting=stop_accepting,
        trusted_proxies=gateway.trusted_proxies,
    )
    tunnel_port: int = await nursery.start(
        partial(serve, partial(handle_tunnel, services, context), host, port)
    )
    services.tunnel_port = tunnel_port
    for connection in services.config.connections:
        if connection.listen is None:
            continue  # (config validation allows `listen` on postgres connections only)
        listen_host, listen_port = split_address(connection.listen)
        handler = partial(_handle_direct, services, context, connection)
        bound: int = await nursery.start(partial(serve, handler, listen_host, listen_port))
        services.listen_ports[connection.name] = bound
        log.info("direct listener connection=%s on %s:%d", connection.name, listen_host, bound)
    return host, tunnel_port


async def _handle_direct(
    services: Services, context: ssl.SSLContext, connection: ConnectionConfig, sock: socket.socket
) -> None:
    """One client of a direct listener (never raises)."""
    stream = FastStream(sock)
    peer = client_address(sock)
    try:
        with connection_errors_logged(log, "listener", peer):
            # the connection as the config says now (a reload may have changed or removed it)
            current = services.config.connection(connection.name)
            if current is None:
                log.info("listener refused peer=%s connection=%s: removed", peer, connection.name)
                return
            await postgres.serve_listener(services, stream, current, context)
    finally:
        await stream.aclose()
