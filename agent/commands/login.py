"""`iap login`: exchange password + TOTP code for tokens and keep them (and `iap logout`)."""

from __future__ import annotations

import uuid
from pathlib import Path

from agent.client import GatewayClient, describe_refusal, token_expiry
from agent.errors import EXIT_REFUSED, AgentError
from agent.output import say
from agent.state import AgentState, locked


def previous_state() -> AgentState | None:
    try:
        return AgentState.load()
    except AgentError:
        return None


def login(gateway: str, user: str, password: str, code: str, ca: Path | None) -> AgentState:
    previous = previous_state()
    ca_pem: str | None = None
    if ca is not None:
        try:
            ca_pem = ca.read_text()
        except OSError as e:
            raise AgentError(f"cannot read the CA file {ca}: {e}") from None
    elif previous is not None and previous.gateway == gateway.rstrip("/"):
        ca_pem = previous.ca_pem
    same_identity = previous and previous.gateway == gateway.rstrip("/") and previous.user == user
    device_id = previous.device_id if previous and same_identity else uuid.uuid4().hex
    client = GatewayClient(gateway, ca_pem)
    try:
        response = client.send(
            "POST",
            "/v1/login",
            json={"user": user, "password": password, "code": code, "device_id": device_id},
        )
    finally:
        client.close()
    if response.status_code != 200:
        raise AgentError(f"login refused: {describe_refusal(response)}", EXIT_REFUSED)
    tokens = response.json()
    state = AgentState(
        gateway=gateway.rstrip("/"),
        user=user,
        device_id=device_id,
        ca_pem=ca_pem,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        access_expires_at=token_expiry(tokens["access_token"]),
    )
    with locked():
        state.save()
    say(f"logged in to {state.gateway} as {user}")
    return state


def logout() -> None:
    state = previous_state()
    if state is None:
        say("not logged in")
        return
    state.forget()
    say(f"logged out of {state.gateway}")
