"""`iap token [--access]`: a 5-minute listener token (the password for a direct listener), or
the access token itself for scripts calling the control API."""

from __future__ import annotations

from agent.client import GatewayClient
from agent.output import say


def token(*, access: bool = False) -> None:
    client = GatewayClient.from_state()
    if access:
        say(client.access_token())
    else:
        say(client.call("POST", "/v1/token").json()["token"])
