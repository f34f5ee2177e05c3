"""Connections that have not authenticated are capped, per source address and in all.

Idle sockets (no TLS handshake, no hello, no token) against the tunnel port and a direct
listener: those over `[gateway] max_unauthenticated_per_source` or `max_unauthenticated` are
closed as they are accepted, and logged without flooding the log, while sessions of
authenticated agents go on and new ones open. Loopback addresses other than 127.0.0.1 stand
for other sources. The gateway also raises its soft limit on open files to the hard one, and
an accept loop that runs out of file descriptors waits and goes on.
"""

from __future__ import annotations

import logging
import os
import resource
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest
import trio

from iap import tunnel
from iap.netio import serve_tcp
from tests.helpers import (
    Agent,
    ConnectedPort,
    Gateway,
    PgServer,
    open_psql,
    run_psql,
    running_gateway,
    write_config,
)

pytestmark = pytest.mark.e2e

PER_SOURCE = 4
TOTAL = 6
REFUSED_EVENT = "unauthenticated connection refused"


def with_limits(path: Path, **keys: object) -> Path:
    """The config at `path` with these [gateway] keys added."""
    lines = "".join(f"{key} = {value}\n" for key, value in keys.items())
    path.write_text(path.read_text().replace("[gateway]\n", f"[gateway]\n{lines}", 1))
    return path


@pytest.fixture
async def gateway(
    tmp_path: Path,
    pg_server: PgServer,
    database: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[Gateway]:
    caplog.set_level(logging.INFO, logger="iap")
    # Admitted idle sockets must stay open while the test looks at them (the hello's 10 s).
    monkeypatch.setattr(tunnel, "HELLO_TIMEOUT", 600.0)
    listen = 'listen = "127.0.0.1:0"'
    path = write_config(tmp_path, pg_server, database, listen)
    limits = {"max_unauthenticated": TOTAL, "max_unauthenticated_per_source": PER_SOURCE}
    async with running_gateway(with_limits(path, **limits)) as gw:
        gw.add_user("alice", "dev")
        yield gw


@contextmanager
def idle_sockets(source: str, port: int, count: int) -> Iterator[list[socket.socket]]:
    """`count` TCP connections from `source` to the port that never say a word."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket()
            socks.append(sock)
            sock.bind((source, 0))
            sock.connect(("127.0.0.1", port))
            sock.setblocking(False)
        yield socks
    finally:
        for sock in socks:
            sock.close()


def is_closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


async def wait_closed(socks: list[socket.socket], expected: int) -> int:
    """Wait until `expected` of the sockets are closed by the gateway; how many are."""
    with trio.fail_after(20):
        while sum(map(is_closed, socks)) < expected:
            await trio.sleep(0.02)
    return sum(map(is_closed, socks))


async def select(port: ConnectedPort, database: str, value: str) -> str:
    result = await run_psql(port.port, database, "-At", "-c", f"SELECT '{value}'")
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode().strip()


async def test_idle_sockets_over_the_limits_are_closed_while_sessions_go_on(
    gateway: Gateway, database: str, caplog: pytest.LogCaptureFixture
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft == hard  # raised at start, and logged
    assert f"open files limit soft={hard} hard={hard}" in caplog.text

    agent = await Agent.logged_in(gateway, "alice")
    tunnel_port = gateway.running.tunnel[1]
    listener_port = gateway.services.listen_ports["pg-main"]
    async with agent.connect() as port:
        running = await open_psql(port.port, database, ["-At"])  # authenticated, open
        assert running.stdin is not None and running.stdout is not None
        await running.stdin.send_all(b"SELECT 'before';\n")
        assert (await running.stdout.receive_some(1024)).strip() == b"before"

        # Per source: 127.0.0.2 keeps 4 places, on the tunnel and listener together.
        with idle_sockets("127.0.0.2", tunnel_port, 7) as on_tunnel:
            assert await wait_closed(on_tunnel, 3) == 3
            with idle_sockets("127.0.0.2", listener_port, 2) as on_listener:
                assert await wait_closed(on_listener, 2) == 2
            assert sum(map(is_closed, on_tunnel)) == 3  # the 4 admitted still wait for a hello
            # Another source is not held back by that one: a new session opens.
            assert await select(port, database, "from 127.0.0.1") == "from 127.0.0.1"

            # In all: 6 places, 4 taken by 127.0.0.2; 127.0.0.3 gets the 2 left, and then
            # there is none for anyone (the agent would retry its tunnels: raw sockets show it).
            with idle_sockets("127.0.0.3", listener_port, 5) as others:
                assert await wait_closed(others, 3) == 3
                with idle_sockets("127.0.0.4", tunnel_port, 3) as late:
                    assert await wait_closed(late, 3) == 3
                await running.stdin.send_all(b"SELECT 'during';\n")  # the session goes on
                assert (await running.stdout.receive_some(1024)).strip() == b"during"

        # The idle sockets gone, their places are free again.
        with trio.fail_after(20):
            while (await run_psql(port.port, database, "-At", "-c", "SELECT 1")).returncode:
                await trio.sleep(0.1)
        await running.stdin.aclose()
        with trio.fail_after(20):
            assert await running.wait() == 0

    refusals = [r for r in caplog.records if r.getMessage().startswith(REFUSED_EVENT)]
    assert 1 <= len(refusals) < 3 + 2 + 3 + 3, [r.getMessage() for r in refusals]
    assert "source=127.0.0.2 limit=per_source max=4" in refusals[0].getMessage()


CLIENTS = 60
CHILD = f"""
import socket, sys
port = int(sys.argv[1])
sys.stdin.readline()  # go
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range({CLIENTS})]
sys.stdin.readline()  # done
"""


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts descriptors in /proc")
async def test_an_accept_loop_out_of_file_descriptors_waits_and_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A real EMFILE: this process's soft limit is lowered to a few descriptors more than it
    has open while a child process opens CLIENTS connections to `serve_tcp`; accepting fails,
    is logged (without flooding), and when the limit is raised again every connection is
    served."""
    caplog.set_level(logging.INFO, logger="iap")
    served: list[socket.socket] = []

    async def handler(sock: socket.socket) -> None:
        served.append(sock)
        try:
            await trio.sleep_forever()
        finally:
            sock.close()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(partial(serve_tcp, handler, "127.0.0.1", 0))
        child = await trio.lowlevel.open_process(
            [sys.executable, "-c", CHILD, str(port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert child.stdin is not None and child.stdout is not None
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 8, hard))
            try:
                await child.stdin.send_all(b"go\n")
                with trio.fail_after(20):
                    while "accept failed error=EMFILE" not in caplog.text:
                        await trio.sleep(0.02)
                assert len(served) < CLIENTS
            finally:
                resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            with trio.fail_after(20):
                while len(served) < CLIENTS:
                    await trio.sleep(0.02)
            assert caplog.text.count("accept failed error=EMFILE") == 1  # then held back
        finally:
            await child.stdin.aclose()
            with trio.fail_after(20):
                await child.wait()
            nursery.cancel_scope.cancel()
