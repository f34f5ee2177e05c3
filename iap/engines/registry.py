"""The protocol engines, one per connection kind, behind one Engine protocol.

The tunnel hands every client stream to `engine_for(connection.kind).serve(...)`; nothing
outside the engines knows which protocols exist. An engine owns its wire protocol (the
client's handshake, the backend login with injected credentials, turning messages into units
and errors into the client's protocol) and passes every unit through the shared statement
gate (iap/engines/core.py). A new protocol is a module with `serve` and a line here.
"""

from __future__ import annotations

from typing import Protocol

import trio

from iap.config import ConnectionConfig
from iap.engines import mysql, postgres
from iap.services import Services


class Engine(Protocol):
    async def serve(
        self,
        services: Services,
        client: trio.abc.Stream,
        initial: bytes,
        *,
        user: str,
        roles: tuple[str, ...],
        connection: ConnectionConfig,
        session_id: str,
        client_address: str = "",
    ) -> None:
        """Serve one client that came through the agent's tunnel, until it ends (initial:
        bytes the tunnel already read after the hello)."""


ENGINES: dict[str, Engine] = {"postgres": postgres, "mysql": mysql}


def engine_for(kind: str) -> Engine | None:
    """The engine serving connections of this kind (None: not served)."""
    return ENGINES.get(kind)
