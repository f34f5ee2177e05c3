"""`iap connect NAME [--port N]`: check, bind, print the connection string, serve tunnels."""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

import trio

from agent.client import GatewayClient, ssl_context
from agent.tunnel import Tunnel, print_ready, serve


def connect(name: str, port: int) -> None:
    client = GatewayClient.from_state()
    info = client.call("GET", f"/v1/connections/{name}").json()  # checks token and name first
    assert client.state is not None
    host = urlsplit(client.gateway).hostname or "127.0.0.1"
    tunnel = Tunnel(client, name, host, int(info["tunnel_port"]), ssl_context(client.ca_pem))
    ready = print_ready(info["kind"], client.state.user, info["database"], name)
    with contextlib.suppress(KeyboardInterrupt):
        trio.run(serve, tunnel, port, ready)
