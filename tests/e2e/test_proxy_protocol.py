"""Behind a load balancer: `[gateway] trusted_proxies` and the PROXY protocol header, with psql
through a direct listener and a real TCP relay in front of it that plays the balancer.

The address in the header is the client's for the rules (`sources`), the limits and the
logs; a trusted balancer's connection without a valid header is closed; a header from an
address that is not trusted is never believed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trio

from tests.e2e.test_listener import listener_token
from tests.e2e.test_listener import psql_on as psql
from tests.helpers import Agent, Gateway, PgServer, running_gateway, write_config

pytestmark = pytest.mark.e2e

CLIENT = "203.0.113.9"  # where the balancer says the connection comes from
DENY_WRITES_FROM_CLIENTS_NET = """listen = "127.0.0.1:0"

[[rules]]
risks = ["write"]
action = "deny"
sources = ["203.0.113.0/24"]
"""


@asynccontextmanager
async def gateway_behind(
    tmp_path: Path, pg_server: PgServer, database: str, trusted: str
) -> AsyncIterator[Gateway]:
    path = write_config(tmp_path, pg_server, database, DENY_WRITES_FROM_CLIENTS_NET)
    text = path.read_text().replace("[gateway]\n", f"[gateway]\ntrusted_proxies = {trusted}\n")
    path.write_text(text)
    async with running_gateway(path) as gateway:
        gateway.add_user("alice", "dev")
        yield gateway


@asynccontextmanager
async def balancer(target: int, header: bytes) -> AsyncIterator[int]:
    """A TCP relay to 127.0.0.1:target that first sends `header`: its port."""

    async def relay(client: trio.SocketStream) -> None:
        async with client, await trio.open_tcp_stream("127.0.0.1", target) as upstream:
            await upstream.send_all(header)
            async with trio.open_nursery() as pipes:

                async def pipe(source: trio.SocketStream, sink: trio.SocketStream) -> None:
                    try:
                        while data := await source.receive_some(65536):
                            await sink.send_all(data)
                    except (trio.BrokenResourceError, trio.ClosedResourceError):
                        pass
                    pipes.cancel_scope.cancel()

                pipes.start_soon(pipe, client, upstream)
                pipes.start_soon(pipe, upstream, client)

    async with trio.open_nursery() as nursery:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        nursery.start_soon(trio.serve_listeners, relay, listeners)
        yield listeners[0].socket.getsockname()[1]
        nursery.cancel_scope.cancel()


async def test_the_client_address_comes_from_a_trusted_balancers_header(
    tmp_path: Path, pg_server: PgServer, database: str
) -> None:
    async with gateway_behind(tmp_path, pg_server, database, '["127.0.0.0/8"]') as gateway:
        token = await listener_token(await Agent.logged_in(gateway, "alice"))
        target = gateway.services.listen_ports["pg-main"]
        for header in (
            f"PROXY TCP4 {CLIENT} 127.0.0.1 40000 {target}\r\n".encode(),
            b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c"  # version 2, the same addresses
            + bytes((203, 0, 113, 9, 127, 0, 0, 1))
            + (40000).to_bytes(2, "big")
            + target.to_bytes(2, "big"),
        ):
            async with balancer(target, header) as port:
                code, out, err = await psql(port, database, token, "SELECT count(*) FROM items")
                assert (code, out.strip()) == (0, "3"), err
                code, out, err = await psql(
                    port, database, token, "INSERT INTO items VALUES (10, 'ten')"
                )
                assert code != 0
                assert (
                    "ERROR:  iap: write on pg-main is denied by rule 1"
                    f" (source {CLIENT} in 203.0.113.0/24)"
                ) in err
        # Straight from the trusted network, without a header: closed, never served.
        code, out, err = await psql(target, database, token, "SELECT 1")
        assert (code, out) == (2, ""), err
    assert pg_server.execute("SELECT count(*) FROM items", database) == [(3,)]


async def test_a_header_from_an_address_that_is_not_trusted_is_not_believed(
    tmp_path: Path, pg_server: PgServer, database: str
) -> None:
    async with gateway_behind(tmp_path, pg_server, database, '["10.0.0.0/8"]') as gateway:
        token = await listener_token(await Agent.logged_in(gateway, "alice"))
        target = gateway.services.listen_ports["pg-main"]
        forged = f"PROXY TCP4 10.1.2.3 127.0.0.1 40000 {target}\r\n".encode()
        async with balancer(target, forged) as port:
            code, out, err = await psql(port, database, token, "SELECT 1")
        assert code != 0 and out == ""
        # the gateway still serves a client that speaks straight to it (127.0.0.1)
        code, out, err = await psql(target, database, token, "SELECT 'served' AS x")
        assert (code, out.strip()) == (0, "served"), err
