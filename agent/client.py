"""HTTP client of the gateway's control API, with silent token refresh.

Every call goes through `GatewayClient.send` (transport) or `call` (authenticated), which turn
failures into `AgentError`s with the contract's exit codes: 3 gateway unreachable or not
trusted, 4 not logged in / session expired / user disabled, 1 refused. The access token is
refreshed shortly before it expires, and once more if the gateway says it expired; no other
refusal is retried (a retried wrong one-time code would count as a second failed attempt).
A client made from the saved state follows it: a logout, or a refresh by another `iap`
command of the same home, is noticed at the next call (the file's stamp changed).
"""

from __future__ import annotations

import base64
import json
import os
import re
import ssl
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from agent.errors import (
    EXIT_NOT_LOGGED_IN,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    AgentError,
    not_logged_in,
    session_expired,
    usage,
    user_disabled,
)
from agent.state import AgentState, locked

REFRESH_MARGIN = 30.0
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
CA_FIX = (
    "pass --ca <data_dir>/tls/ca.pem to `iap login` (the CA the gateway made on its first start)"
)

# 401 answers that a fresh access token may cure (asked once more after a refresh).
_RETRY_CODES = frozenset({"token_expired", "token_invalid"})
# 401 answers that mean the session itself is over.
TOKEN_CODES = frozenset({"token_expired", "token_invalid", "token_revoked", "device_mismatch"})
# What a refresh refusal means, in words (None: plain "session expired").
_REFRESH_REASONS: dict[str, str | None] = {
    "token_expired": None,
    "token_revoked": "the gateway revoked it, or another agent used it",
    "token_invalid": "the gateway does not know it",
    "device_mismatch": "it belongs to another device",
}
# Refusals that deserve more than the gateway's words: what to do next.
_FRIENDLY = {
    "bad_code": "wrong one-time code: take the current code from your authenticator app and "
    "try again",
    "replayed_code": "this one-time code was already used: wait for the next one (at most 30 s)"
    " and try again",
    "bad_credentials": "wrong user name or password",
    "user_disabled": "this user is disabled on the gateway: ask an administrator to enable it",
}


def normalize_gateway(url: str) -> str:
    """The gateway URL as the agent keeps it: https://HOST[:PORT][/PATH] without a final /.
    A URL without a scheme gets https://; http:// is refused (the API is HTTPS only)."""
    text = url.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme == "http":
        fixed = f"https://{parts.netloc}{parts.path}".rstrip("/")
        raise usage(f"the gateway's API is HTTPS only: use --gateway {fixed}")
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
    if parts.scheme != "https" or not parts.hostname or not port_ok:
        raise usage(f"{url!r} is not a gateway URL: give --gateway https://HOST:PORT")
    return text.rstrip("/")


def ssl_context(ca_pem: str | None) -> ssl.SSLContext:
    if not ca_pem:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cadata=ca_pem)
    except (ssl.SSLError, ValueError) as e:
        raise AgentError(
            f"the CA is not a PEM certificate ({e}): {CA_FIX}", EXIT_UNREACHABLE, "bad_ca"
        ) from None


def token_expiry(token: str) -> float:
    """The `exp` claim of a JWT, read without verifying (the gateway verifies)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"])
    except (IndexError, ValueError, KeyError, TypeError):
        return 0.0


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_code(response: httpx.Response) -> str | None:
    code = _body(response).get("error")
    return code if isinstance(code, str) else None


def describe_refusal(response: httpx.Response) -> str:
    body = _body(response)
    text = body.get("message") or body.get("error")
    if text:
        return str(text)
    return response.text.strip() or f"HTTP {response.status_code}"


def refusal(response: httpx.Response, prefix: str = "") -> AgentError:
    """A gateway refusal as an AgentError (exit 1) with the gateway's code."""
    code = error_code(response) or "refused"
    return AgentError(prefix + _FRIENDLY.get(code, describe_refusal(response)), EXIT_REFUSED, code)


def _verify_failure(e: BaseException) -> str | None:
    """Why the gateway's certificate was not trusted, if that is what `e` is about."""
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return str(seen.verify_message or seen.reason)
        seen = seen.__cause__ or seen.__context__
    match = re.search(r"CERTIFICATE_VERIFY_FAILED\] certificate verify failed: ([^(]+)", str(e))
    return match.group(1).strip() if match else None


def transport_error(where: str, e: BaseException, ca_given: bool) -> AgentError:
    """Reaching `where` failed: untrusted certificate, or unreachable (exit 3)."""
    verify = _verify_failure(e)
    if verify is not None:
        if ca_given:
            why = f"the gateway's certificate at {where} does not verify with the CA given"
            return AgentError(f"{why} ({verify}): {CA_FIX}", EXIT_UNREACHABLE, "untrusted_gateway")
        return AgentError(
            f"the gateway's certificate at {where} is not trusted ({verify}): {CA_FIX}",
            EXIT_UNREACHABLE,
            "untrusted_gateway",
        )
    if isinstance(e, httpx.TimeoutException | TimeoutError):
        reason = "timed out"
    elif isinstance(e, OSError) and e.errno:
        reason = os.strerror(e.errno)
    else:
        reason = re.sub(r"^\[Errno -?\d+\] ", "", str(e)) or type(e).__name__
    return AgentError(
        f"cannot reach the gateway at {where} ({reason}): check the address and that the "
        "gateway is running",
        EXIT_UNREACHABLE,
        "unreachable",
    )


class GatewayClient:
    def __init__(self, gateway: str, ca_pem: str | None, state: AgentState | None = None) -> None:
        self.gateway = gateway.rstrip("/")
        self.state = state
        self.ca_pem = ca_pem
        self.http = httpx.Client(base_url=self.gateway, verify=ssl_context(ca_pem), timeout=TIMEOUT)
        self._refresh_lock = threading.Lock()  # a refresh token is single-use: refresh once
        self._stamp = AgentState.stamp() if state is not None else None

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
            raise transport_error(self.gateway, e, self.ca_pem is not None) from None

    def probe(self) -> None:
        """Reach the API over verified TLS (before anyone is asked for a password)."""
        response = self.send("GET", "/healthz")
        if response.status_code != 200:
            raise AgentError(
                f"{self.gateway} answered HTTP {response.status_code} to /healthz: give the "
                "gateway's API address (its public_url)",
                EXIT_UNREACHABLE,
                "not_a_gateway",
            )

    def _followed(self, *, reload: bool = False) -> AgentState:
        """The state this client works for, in step with the saved file: a logout (no tokens
        saved) or a login as someone else since this client started is an AgentError."""
        state = self.state
        if state is None:
            raise not_logged_in()
        stamp = AgentState.stamp()
        if reload or stamp != self._stamp:
            try:
                saved = AgentState.load()
            except AgentError:
                raise not_logged_in() from None
            if (saved.gateway, saved.user) != (state.gateway, state.user):
                raise AgentError(
                    f"now logged in as {saved.user} at {saved.gateway}: start this command "
                    "again to use that login",
                    EXIT_NOT_LOGGED_IN,
                    "identity_changed",
                )
            state.take_tokens(saved)  # the file is never older than what this client holds
            self._stamp = stamp
        return state

    def access_token(self, *, force_refresh: bool = False) -> str:
        with self._refresh_lock:
            state = self._followed()
            if force_refresh or state.access_expires_at - time.time() < REFRESH_MARGIN:
                stale = state.access_token if force_refresh else None
                with locked():
                    state = self._followed(reload=True)  # another command may have refreshed
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
            raise self._token_failure(response, refreshing=True)
        self.store_tokens(response.json())

    def _token_failure(self, response: httpx.Response, *, refreshing: bool) -> AgentError:
        code = error_code(response)
        user = self.state.user if self.state else "?"
        if code == "user_disabled":
            return user_disabled(user)
        if code in TOKEN_CODES:
            return session_expired(_REFRESH_REASONS.get(code) if refreshing else None)
        return refusal(response, "the gateway refused to renew the session: ")

    def store_tokens(self, tokens: dict[str, Any]) -> None:
        assert self.state is not None
        self.state.access_token = tokens["access_token"]
        self.state.refresh_token = tokens.get("refresh_token") or self.state.refresh_token
        self.state.access_expires_at = token_expiry(tokens["access_token"])
        self.state.save()
        self._stamp = AgentState.stamp()

    def call(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response:
        """An authenticated call; a 401 for an expired token is retried once after a
        refresh. Answers with a status outside `ok` raise AgentError."""
        response = self._authed(method, path, False, **kwargs)
        if response.status_code == 401 and error_code(response) in _RETRY_CODES:
            response = self._authed(method, path, True, **kwargs)
        code = error_code(response)
        if response.status_code == 401 and (code in TOKEN_CODES or code == "user_disabled"):
            raise self._token_failure(response, refreshing=False)
        if response.status_code not in ok:
            raise refusal(response)
        return response

    def _authed(self, method: str, path: str, refresh: bool, **kwargs: Any) -> httpx.Response:
        token = self.access_token(force_refresh=refresh)
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {token}"}
        return self.send(method, path, headers=headers, **kwargs)
