"""`iap approve ID [--code CODE] [--json]`: release a held statement.

Follows RFC 9470: when the gateway answers 401 `insufficient_user_authentication`, it takes a
code (`--code`, or a prompt on a terminal), steps up once at `/v1/stepup`, and approves again.
A wrong code is one failed attempt, reported as such (exit 1); nothing is retried with it.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.client import GatewayClient
from agent.errors import usage
from agent.output import emit_json, say
from agent.state import locked


def approve(
    request_id: str, *, code: str | None, ask_code: Callable[[], str], as_json: bool
) -> None:
    digits = (code or "").replace(" ", "")
    if code is not None and not (len(digits) == 6 and digits.isascii() and digits.isdigit()):
        raise usage("--code takes the 6 digits your authenticator app shows")
    client = GatewayClient.from_state()
    path = f"/v1/requests/{request_id.upper()}/approve"
    response = client.call("POST", path, ok=(200, 401))
    if response.status_code == 401:  # a fresh MFA event is needed first
        step = client.call("POST", "/v1/stepup", json={"code": code or ask_code()})
        with locked():
            client.store_tokens(step.json())
        response = client.call("POST", path)
    done = response.json()
    if as_json:
        emit_json(done)
    elif done["status"] == "approved":
        say("released")
    else:
        say(f"{len(done['approvals'])} of {done['min_approvals']} approvals")
