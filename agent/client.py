"""HTTP client of the gateway's control API, with silent token refresh.

Every call goes through `GatewayClient.call`, which turns transport failures and refusals into
`AgentError`s with the contract's exit codes: 3 gateway unreachable, 4 not logged in / session
expired, 1 refused. The access token is refreshed shortly before it expires, and once more if
the gateway says it expired.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
from typing import Any

import httpx

from agent.errors import EXIT_REFUSED, EXIT_UNREACHABLE, AgentError, not_logged_in
from agent.state import AgentState, locked

REFRESH_MARGIN = 30.0
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def ssl_context(ca_pem: str | None) -> ssl.SSLContext:
    if ca_pem:
        return ssl.create_default_context(cadata=ca_pem)
    return ssl.create_default_context()


def token_expiry(token: str) -> float:
    """The `exp` claim of a JWT, read without verifying (the gateway verifies)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return 0.0


def describe_refusal(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body.get("message") or body.get("error") or response.text)
    except ValueError:
        return response.text.strip() or f"HTTP {response.status_code}"


class GatewayClient:
    def __init__(self, gateway: str, ca_pem: str | None, state: AgentState | None = None) -> None:
        self.gateway = gateway.rstrip("/")
        self.state = state
        self.ca_pem = ca_pem
        self.http = httpx.Client(base_url=self.gateway, verify=ssl_context(ca_pem), timeout=TIMEOUT)
        self._refresh_lock = threading.Lock()  # a refresh token is single-use: refresh once

    @classmethod
    def from_state(cls) -> GatewayClient:
        state = AgentState.load()
        return cls(state.gateway, state.ca_pem, state)

    def close(self) -> None:
        self.http.close()

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.http.request(method, path, **kwargs)
        except httpx.TransportError as e:
            raise AgentError(
                f"cannot reach the gateway at {self.gateway}: {e}", EXIT_UNREACHABLE
            ) from None

    def access_token(self, *, force_refresh: bool = False) -> str:
        state = self.state
        if state is None:
            raise not_logged_in()
        with self._refresh_lock:
            if force_refresh or state.access_expires_at - time.time() < REFRESH_MARGIN:
                stale = state.access_token if force_refresh else None
                with locked():
                    state.adopt_newer_tokens()
                    fresh = state.access_expires_at - time.time() >= REFRESH_MARGIN
                    if state.access_token == stale or not fresh:
                        self._refresh(state)
            return state.access_token

    def _refresh(self, state: AgentState) -> None:
        response = self.send(
            "POST",
            "/v1/refresh",
            json={"refresh_token": state.refresh_token, "device_id": state.device_id},
        )
        if response.status_code != 200:
            raise not_logged_in(f"session expired ({describe_refusal(response)})")
        self.store_tokens(response.json())

    def store_tokens(self, tokens: dict[str, Any]) -> None:
        assert self.state is not None
        self.state.access_token = tokens["access_token"]
        self.state.refresh_token = tokens.get("refresh_token") or self.state.refresh_token
        self.state.access_expires_at = token_expiry(tokens["access_token"])
        self.state.save()

    def call(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response:
        """An authenticated call; 401 for a stale token is retried once after a refresh.
        Responses with a status outside `ok` raise AgentError with the gateway's message."""
        response = self._authed(method, path, False, **kwargs)
        if response.status_code == 401 and _is_token_problem(response):
            response = self._authed(method, path, True, **kwargs)
            if response.status_code == 401 and _is_token_problem(response):
                raise not_logged_in(f"session expired ({describe_refusal(response)})")
        if response.status_code not in ok:
            raise AgentError(describe_refusal(response), EXIT_REFUSED)
        return response

    def _authed(self, method: str, path: str, refresh: bool, **kwargs: Any) -> httpx.Response:
        token = self.access_token(force_refresh=refresh)
        headers = {"Authorization": f"Bearer {token}"}
        return self.send(method, path, headers=headers, **kwargs)


def _is_token_problem(response: httpx.Response) -> bool:
    return "insufficient_user_authentication" not in response.headers.get("www-authenticate", "")
