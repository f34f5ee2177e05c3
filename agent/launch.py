"""`iap psql` and `iap mysql`: a tunnel for one client process, on a unix socket in a folder
only this user may enter (`private_socket`: other users of the machine cannot reach it).

The client gets the terminal (it is started in the same process group, in the foreground).
Ctrl-C reaches every process of that group, so while the client runs the agent ignores SIGINT
and leaves it to the client (psql and mariadb cancel the running statement); SIGTERM is passed
on. When the client exits, the tunnel closes and `iap` exits with the client's exit code.
"""

from __future__ import annotations

import shutil
import signal
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

import trio

from agent.client import GatewayClient
from agent.commands.connect import connection_info
from agent.errors import AgentError, usage
from agent.tunnel import Tunnel, private_socket, serve_bound

# (the local socket, user, database) -> the client's command line
ClientArgv = Callable[[Path, str, str], list[str]]
COMMANDS = {"postgres": "psql", "mysql": "mysql"}


def find_program(names: tuple[str, ...], package: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise AgentError(f"{' or '.join(names)} is not installed: install {package}", 1, "no_client")


async def _pass_signals(signals: AsyncIterator[int], process: trio.Process) -> None:
    async for signum in signals:
        if signum != signal.SIGINT:  # the terminal sent SIGINT to the client already
            process.send_signal(signum)


def launch(name: str, kind: str, argv: ClientArgv) -> int:
    """Run the client against a tunnel to `name`; its exit code."""
    client = GatewayClient.from_state()
    info = connection_info(client, name)
    if info["kind"] != kind:
        other = COMMANDS.get(str(info["kind"]), "connect")
        raise usage(f"{name} is a {info['kind']} connection: use `iap {other} {name}`")
    assert client.state is not None
    user, database = client.state.user, str(info["database"])
    tunnel = Tunnel.for_connection(client, info, report=False)  # the client shows why

    async def main() -> int:
        async with private_socket(kind) as (listeners, path):
            return await run_client(listeners, argv(path, user, database))

    async def run_client(listeners: list[trio.SocketListener], command: list[str]) -> int:
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with trio.open_nursery() as nursery:
                watch = kind == "mysql"  # psql shows held statements itself (a notice)
                nursery.start_soon(partial(serve_bound, [(tunnel, listeners)], client, watch=watch))
                try:
                    process = await trio.lowlevel.open_process(command)
                except OSError as e:
                    raise AgentError(f"cannot start {command[0]}: {e.strerror or e}") from None
                nursery.start_soon(_pass_signals, signals, process)
                code = await process.wait()
                nursery.cancel_scope.cancel()
        return code if code >= 0 else 128 - code

    return trio.run(main)
