"""`iap deny ID [--reason TEXT] [--json]`: refuse a held statement (the session goes on)."""

from __future__ import annotations

from agent.client import GatewayClient
from agent.output import emit_json, say


def deny(request_id: str, *, reason: str | None, as_json: bool) -> None:
    client = GatewayClient.from_state()
    body = {"reason": reason} if reason else {}
    done = client.call("POST", f"/v1/requests/{request_id.upper()}/deny", json=body).json()
    if as_json:
        emit_json(done)
    else:
        say(f"denied {done['id']}")
