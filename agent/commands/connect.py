"""`iap connect NAME... [--port N | --socket] [--tls]`: check, bind, print, serve until Ctrl-C.

The token and every name are checked before anything binds; every port is bound before
anything is printed. Then one connection string per connection goes to stdout, in the order
given (flushed), and a line per port to stderr. Ctrl-C or SIGTERM stops it with `iap: stopped`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.client import GatewayClient
from agent.errors import usage
from agent.localtls import local_tls
from agent.output import say, warn
from agent.tunnel import Tunnel, connection_string, run_until_stopped


def connection_info(client: GatewayClient, name: str) -> dict[str, Any]:
    """What the gateway says of a connection (checks the login and the name)."""
    info: dict[str, Any] = client.call("GET", f"/v1/connections/{name}").json()
    return info


def connect(names: list[str], port: int | None, tls: bool = False, socket: bool = False) -> None:
    if len(set(names)) != len(names):
        raise usage("a connection is named twice: give each once")
    if port and len(names) > 1:
        raise usage("--port takes one connection; with several, each gets a free port")
    if socket and (port or tls):
        raise usage("--socket needs neither --port nor --tls: only you can reach the socket")
    client = GatewayClient.from_state()
    infos = [connection_info(client, name) for name in names]
    context, ca = local_tls() if tls else (None, None)
    tunnels = [Tunnel.for_connection(client, info, context) for info in infos]
    assert client.state is not None
    user = client.state.user

    def ready(places: list[int | Path]) -> None:
        for info, bound in zip(infos, places, strict=True):
            say(connection_string(info["kind"], user, bound, info["database"], ca))
        for info, bound in zip(infos, places, strict=True):
            where = f"127.0.0.1:{bound}" if isinstance(bound, int) else f"{bound} (only you)"
            warn(f"iap: {info['name']} is open on {where}")
        if ca:
            warn(f"iap: local TLS: clients verify this port's certificate with the CA {ca}")
        warn("iap: press Ctrl-C to close")

    run_until_stopped([(t, None if socket else port or 0) for t in tunnels], ready)
    warn("iap: stopped")
