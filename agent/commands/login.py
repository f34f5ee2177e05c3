"""`iap login`: exchange password + TOTP code for tokens and keep them.

The gateway URL is checked (https:// added when missing, http:// refused) and its TLS
certificate verified before anyone is asked for a password or code, so a missing `--ca` is
named at once. What is not given comes from the last login of this home (`iap logout` keeps
the gateway, user and CA), then from a prompt when there is a terminal.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.client import GatewayClient, normalize_gateway, refusal, ssl_context, token_expiry
from agent.errors import usage
from agent.output import say
from agent.prompt import ask
from agent.state import AgentState, locked


@dataclass(frozen=True)
class Target:
    """A gateway whose API answered over verified TLS, and what this home knew of it."""

    gateway: str
    ca_pem: str | None
    previous: AgentState | None  # the last login of this home, for this gateway


def previous_state() -> AgentState | None:
    return AgentState.remembered()


def reach(gateway: str, ca: Path | None) -> Target:
    """Normalize the URL, read the CA, and check the API answers over verified TLS."""
    url = normalize_gateway(gateway)
    previous = previous_state()
    if previous is not None and previous.gateway != url:
        previous = None
    ca_pem: str | None = None
    if ca is not None:
        try:
            ca_pem = ca.read_text()
        except (OSError, UnicodeDecodeError) as e:
            raise usage(f"cannot read the CA file {ca} ({e}): give the gateway's ca.pem") from None
        ssl_context(ca_pem)  # a file that is not PEM is named here, not as a TLS failure
    elif previous is not None:
        ca_pem = previous.ca_pem
    client = GatewayClient(url, ca_pem)
    try:
        client.probe()
    finally:
        client.close()
    return Target(url, ca_pem, previous)


def exchange(target: Target, user: str, password: str, code: str) -> AgentState:
    """POST /v1/login and save the tokens."""
    previous = target.previous
    device_id = previous.device_id if previous and previous.user == user else uuid.uuid4().hex
    client = GatewayClient(target.gateway, target.ca_pem)
    try:
        started = time.time()
        response = client.send(
            "POST",
            "/v1/login",
            json={"user": user, "password": password, "code": code, "device_id": device_id},
        )
    finally:
        client.close()
    if response.status_code != 200:
        raise refusal(response, "login refused: ")
    tokens = response.json()
    lifetime = tokens.get("refresh_expires_in")
    state = AgentState(
        gateway=target.gateway,
        user=user,
        device_id=device_id,
        ca_pem=target.ca_pem,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        access_expires_at=token_expiry(tokens["access_token"]),
        session_expires_at=started + float(lifetime) if lifetime else 0.0,
    )
    with locked():
        state.save()
    say(f"logged in to {state.gateway} as {user}")
    return state


def login(gateway: str, user: str, password: str, code: str, ca: Path | None) -> AgentState:
    """Everything given: reach the gateway, then log in (the demo's path)."""
    return exchange(reach(gateway, ca), user, password, code)


def interactive_login(
    gateway: str | None,
    user: str | None,
    code: str | None,
    ca: Path | None,
    read_password: Callable[[], str],
    password_stdin: bool,
) -> AgentState:
    """`iap login` as typed: fill the gaps from the last login or prompts, TLS first."""
    remembered = previous_state()
    url = gateway or (remembered.gateway if remembered else None)
    if not url:
        url = ask("Gateway", "--gateway https://HOST:PORT", stdin_taken=password_stdin)
    target = reach(url, ca)
    name = user or (target.previous.user if target.previous else None)
    if not name:
        name = ask("User", "--user NAME", stdin_taken=password_stdin)
    password = read_password()
    otp = code or ask("One-time code", "--code CODE", secret=True, stdin_taken=password_stdin)
    return exchange(target, name, password, otp)
