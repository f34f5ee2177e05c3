"""`iap requests`, `iap approve`, `iap deny`, `iap token`: approvals from the terminal.

`approve` follows RFC 9470: when the gateway answers 401 `insufficient_user_authentication`,
it takes a code (`--code`, or a prompt), steps up at `/v1/stepup`, and retries once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.client import GatewayClient
from agent.errors import EXIT_REFUSED, AgentError
from agent.output import emit_json, requests_table, say


def list_requests(*, as_json: bool, status: str | None) -> None:
    client = GatewayClient.from_state()
    params = {"status": status} if status else {}
    rows: list[dict[str, Any]] = client.call("GET", "/v1/requests", params=params).json()
    if as_json:
        emit_json(rows)
    else:
        say(requests_table(rows))


def approve(
    request_id: str, *, code: str | None, ask_code: Callable[[], str], as_json: bool
) -> None:
    client = GatewayClient.from_state()
    path = f"/v1/requests/{request_id.upper()}/approve"
    response = client.call("POST", path, ok=(200, 401))
    if response.status_code == 401:
        given = code or ask_code()
        step = client.call("POST", "/v1/stepup", json={"code": given}, ok=(200, 401, 429))
        if step.status_code != 200:
            message = step.json().get("message", "the code was refused")
            raise AgentError(f"step-up refused: {message}", EXIT_REFUSED)
        client.store_tokens(step.json())
        response = client.call("POST", path)
    done = response.json()
    if as_json:
        emit_json(done)
    elif done["status"] == "approved":
        say("released")
    else:
        say(f"{len(done['approvals'])} of {done['min_approvals']} approvals")


def deny(request_id: str, *, reason: str | None, as_json: bool) -> None:
    client = GatewayClient.from_state()
    body = {"reason": reason} if reason else {}
    done = client.call("POST", f"/v1/requests/{request_id.upper()}/deny", json=body).json()
    if as_json:
        emit_json(done)
    else:
        say(f"denied {done['id']}")


def token(*, access: bool = False) -> None:
    """Print a listener token (the password for a connection's direct listener), or with
    `access` the access token itself (for scripts calling the control API)."""
    client = GatewayClient.from_state()
    if access:
        say(client.access_token())
    else:
        say(client.call("POST", "/v1/token").json()["token"])
