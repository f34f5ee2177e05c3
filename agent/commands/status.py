"""`iap status [--json]`: who am I, on which gateway, how fresh the tokens and MFA are, which
device, and the address the gateway sees (what rules with `sources` read). Reads the saved
state and asks the gateway (`/v1/whoami`), renewing the access token when it is due, as any
command would. When the gateway cannot be reached, what this home knows is printed before the
error (exit 3)."""

from __future__ import annotations

import time
from typing import Any

from agent.client import GatewayClient
from agent.errors import EXIT_UNREACHABLE, AgentError, not_logged_in
from agent.output import duration, emit_json, say, when
from agent.state import AgentState


def _load() -> AgentState:
    try:
        return AgentState.load()
    except AgentError:
        last = AgentState.remembered()
        if last is None:
            raise
        raise not_logged_in(f"not logged in (last: {last.user} at {last.gateway})") from None


def _data(state: AgentState, me: dict[str, Any]) -> dict[str, Any]:
    return {
        "user": state.user,
        "roles": me.get("roles"),
        "gateway": state.gateway,
        "device_id": state.device_id,
        "access_expires_at": state.access_expires_at,
        "session_expires_at": state.session_expires_at or None,
        "auth_time": me.get("auth_time"),
        "last_mfa": me.get("last_mfa"),
        "source": me.get("source"),
        "tokens": state.tokens_place(),
    }


def _lines(data: dict[str, Any], now: float, reached: bool) -> list[str]:
    roles = ", ".join(data["roles"] or ["none"]) if reached else "unknown"
    access_left = data["access_expires_at"] - now
    session_end = data["session_expires_at"]
    session = (
        f"ends {when(session_end)} (in {duration(session_end - now)}), then `iap login`"
        if session_end
        else "renewed silently until the gateway ends it, then `iap login`"
    )
    mfa = data["last_mfa"]
    mfa_line = f"last code {duration(now - mfa)} ago" if mfa else "no code given yet"
    return [
        f"user:     {data['user']} (roles: {roles})",
        f"gateway:  {data['gateway']}",
        f"access:   token valid for {duration(access_left)} (renewed automatically)",
        f"session:  {session}",
        f"mfa:      {mfa_line if reached else 'unknown (the gateway did not answer)'}",
        f"device:   {data['device_id']}",
        f"address:  {_address(data['source']) if reached else 'unknown'}",
        f"tokens:   {data['tokens']}",
    ]


def _address(source: str | None) -> str:
    return f"{source} (as the gateway sees you)" if source else "not an IP address"


def status(*, as_json: bool) -> None:
    state = _load()
    client = GatewayClient(state.gateway, state.ca_pem, state)
    try:
        me = client.call("GET", "/v1/whoami").json()
    except AgentError as e:
        if e.exit_code == EXIT_UNREACHABLE and not as_json:
            say("\n".join(_lines(_data(state, {}), time.time(), reached=False)))
        raise
    data = _data(state, me)
    if as_json:
        emit_json(data)
    else:
        say("\n".join(_lines(data, time.time(), reached=True)))
