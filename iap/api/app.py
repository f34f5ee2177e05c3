"""The control API: an ASGI app served by hypercorn's trio worker in the gateway process.

Routes: /v1/login, /v1/refresh, /v1/stepup, /v1/token (listener token), /v1/whoami,
/v1/connections[/{name}],
/v1/requests[/{id}[/approve|/deny]], /v1/runs[/{id}] (`iap run`: one approval for a whole
script, see iap/runs.py), /v1/events (server-sent events), /v1/audit,
/healthz, /readyz, /metrics, /v1/openapi.json. Bearer access tokens on everything under /v1
but login and refresh. Errors are JSON `{"error": CODE, "message": TEXT}`; a refused approve
whose approver needs a fresh MFA answers 401 with an RFC 9470 `WWW-Authenticate` challenge.
Only a token problem is labelled `invalid_token`: a wrong step-up code is 401 `bad_code` (or
`replayed_code`) with an `insufficient_user_authentication` challenge, so a client never
mistakes it for an expired token and retries it (each try counts as a failed attempt).
`/v1/connections` lists the connections the caller may use (the policy does not deny them
reads), each with what the policy does with every risk class for the caller.
Blocking work (every store call, token checks included, and password hashing) runs in worker
threads: the event loop also serves the sessions.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

import anyio
import trio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from iap import runs
from iap.approvals import ApprovalError, Approver, StepUpRequired, request_json
from iap.classify.types import Risk
from iap.config import ConnectionConfig
from iap.context import Context, source_of
from iap.identity import ACR_MFA, AuthError, Claims
from iap.policy import Action, decide
from iap.services import Services

AUDITOR_ROLES = {"admin", "auditor"}
SSE_HEARTBEAT = 15.0

Handler = Callable[[Request], Awaitable[Response]]

_AUTH_STATUS = {"locked_out": 429, "user_exists": 409}


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def stepup_challenge(description: str, max_age: float | None = None) -> dict[str, str]:
    """The RFC 9470 WWW-Authenticate header: a fresher MFA event is needed."""
    challenge = (
        f'Bearer error="insufficient_user_authentication", error_description="{description}", '
        f'acr_values="{ACR_MFA}"'
    )
    if max_age is not None:
        challenge += f", max_age={int(max_age)}"
    return {"WWW-Authenticate": challenge}


def auth_error(e: AuthError) -> Response:
    status = _AUTH_STATUS.get(e.code, 401)
    headers = {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{e}"'}
    return error(status, e.code, str(e), headers if status == 401 else None)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ApprovalError(400, "the request body must be a JSON object")
    return body


def _field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ApprovalError(400, f"missing field {name!r}")
    return value


def build_app(services: Services) -> Starlette:
    identity = services.identity
    approvals = services.approvals

    async def claims_of(request: Request) -> Claims:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise AuthError("token_invalid", "missing bearer token")
        # in a worker thread: verifying reads the user from the store
        return await anyio.to_thread.run_sync(identity.verify_access_token, token.strip())

    def authed(fn: Callable[[Request, Claims], Awaitable[Response]]) -> Handler:
        async def handler(request: Request) -> Response:
            try:
                claims = await claims_of(request)
                return await fn(request, claims)
            except AuthError as e:
                return auth_error(e)
            except StepUpRequired as e:
                return error(
                    401,
                    "insufficient_user_authentication",
                    str(e),
                    stepup_challenge(str(e), e.max_age),
                )
            except ApprovalError as e:
                return error(
                    e.status,
                    "refused"
                    if e.status == 403
                    else "bad_request"
                    if e.status == 400
                    else "not_found"
                    if e.status == 404
                    else "conflict",
                    str(e),
                )

        return handler

    def tokens_json(pair: Any) -> dict[str, Any]:
        return {
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            "expires_in": pair.expires_in,
            "token_type": pair.token_type,
        }

    async def login(request: Request) -> Response:
        try:
            body = await _json_body(request)
            user, password = _field(body, "user"), _field(body, "password")
            code, device = _field(body, "code"), _field(body, "device_id")
        except ApprovalError as e:
            return error(400, "bad_request", str(e))
        try:
            pair = await anyio.to_thread.run_sync(identity.login, user, password, code, device)
        except AuthError as e:
            if e.code in ("bad_code", "replayed_code", "locked_out"):
                services.metrics.mfa_failures.inc()
            services.audit_auth(user, "login", str(e))
            return auth_error(e)
        services.audit_auth(user, "login", None)
        # A login's refresh token lives refresh_ttl; refreshes keep that end (agent: `iap status`).
        return JSONResponse({**tokens_json(pair), "refresh_expires_in": int(identity.refresh_ttl)})

    async def refresh(request: Request) -> Response:
        try:
            body = await _json_body(request)
            token, device = _field(body, "refresh_token"), _field(body, "device_id")
        except ApprovalError as e:
            return error(400, "bad_request", str(e))
        try:
            pair = await anyio.to_thread.run_sync(identity.refresh, token, device)
        except AuthError as e:
            return auth_error(e)
        return JSONResponse(tokens_json(pair))

    async def stepup(request: Request, claims: Claims) -> Response:
        code = _field(await _json_body(request), "code")
        try:
            token = await anyio.to_thread.run_sync(
                partial(identity.stepup, claims.sub, code, device_id=claims.device)
            )
        except AuthError as e:
            if e.code in ("bad_code", "replayed_code", "locked_out"):
                services.metrics.mfa_failures.inc()
            services.audit_auth(claims.sub, "stepup", str(e))
            if e.code in ("bad_code", "replayed_code"):  # the token is fine: the code is not
                return error(401, e.code, str(e), stepup_challenge(str(e)))
            raise
        services.audit_auth(claims.sub, "stepup", None)
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": int(identity.access_ttl)}
        )

    async def listener_token(request: Request, claims: Claims) -> Response:
        token, expires_in = await anyio.to_thread.run_sync(identity.issue_listener_token, claims)
        return JSONResponse({"token": token, "expires_in": expires_in})

    async def whoami(request: Request, claims: Claims) -> Response:
        last_mfa = await anyio.to_thread.run_sync(services.store.last_mfa_event, claims.sub)
        source = context_of(request).source
        return JSONResponse(
            {
                "user": claims.sub,
                "roles": list(claims.roles),
                "auth_time": claims.auth_time,
                "exp": claims.exp,
                "device": claims.device,
                "last_mfa": last_mfa,
                "source": str(source) if source is not None else None,
            }
        )

    def context_of(request: Request) -> Context:
        """The caller's context: its address and the time (rules' context conditions)."""
        peer = request.client.host if request.client is not None else ""
        return Context(source_of(f"{peer}:0"), services.clock())

    def policy_for(c: ConnectionConfig, claims: Claims, context: Context) -> dict[str, str]:
        """What the policy does with each risk class on c for the caller, here and now."""
        rules = services.config.effective_rules
        return {
            risk.value: decide(
                rules,
                user=claims.sub,
                roles=tuple(claims.roles),
                connection=c.name,
                risk=risk,
                context=context,
            ).action.value
            for risk in Risk
        }

    def connection_json(c: ConnectionConfig, policy: dict[str, str]) -> dict[str, Any]:
        return {
            "name": c.name,
            "kind": c.kind,
            "database": c.database,
            "tunnel_port": services.tunnel_port,
            "listen": c.listen,
            "policy": policy,
        }

    def usable(policy: dict[str, str]) -> bool:
        return policy[Risk.READ.value] != Action.DENY.value

    async def connections(request: Request, claims: Claims) -> Response:
        context = context_of(request)
        found = [(c, policy_for(c, claims, context)) for c in services.config.connections]
        return JSONResponse([connection_json(c, p) for c, p in found if usable(p)])

    async def connection(request: Request, claims: Claims) -> Response:
        name = request.path_params["name"]
        c = services.config.connection(name)
        if c is None:
            raise ApprovalError(404, f"no connection named {name!r}: `iap ls` lists yours")
        policy = policy_for(c, claims, context_of(request))
        if not usable(policy):
            raise ApprovalError(403, f"the policy does not let {claims.sub} read on {name}")
        return JSONResponse(connection_json(c, policy))

    def approver(claims: Claims) -> Approver:
        return Approver(claims.sub, tuple(claims.roles))

    async def list_requests(request: Request, claims: Claims) -> Response:
        status = request.query_params.get("status")
        found = await approvals.visible_to(approver(claims), status=status)
        return JSONResponse([request_json(r) for r in found])

    async def get_request(request: Request, claims: Claims) -> Response:
        found = await approvals.get(request.path_params["id"], approver(claims))
        return JSONResponse(request_json(found))

    async def approve(request: Request, claims: Claims) -> Response:
        done = await approvals.approve(request.path_params["id"], approver(claims))
        return JSONResponse(request_json(done))

    async def deny(request: Request, claims: Claims) -> Response:
        try:
            body = await _json_body(request)
        except ApprovalError:
            body = {}
        reason = body.get("reason") if isinstance(body.get("reason"), str) else None
        done = await approvals.deny(request.path_params["id"], approver(claims), reason)
        return JSONResponse(request_json(done))

    async def create_run(request: Request, claims: Claims) -> Response:
        """Classify a script up front; open one approval request for it if anything in it
        needs one (`iap run`)."""
        body = await _json_body(request)
        name, script, reason = (
            _field(body, "connection"),
            _field(body, "script"),
            _field(body, "reason"),
        )
        c = services.config.connection(name)
        if c is None:
            raise ApprovalError(404, f"no connection named {name!r}: `iap ls` lists yours")
        context = context_of(request)
        if not usable(policy_for(c, claims, context)):
            raise ApprovalError(403, f"the policy does not let {claims.sub} read on {name}")
        if c.kind not in runs.RUN_KINDS:
            raise ApprovalError(400, f"{name} is a {c.kind} connection: iap run has no client")
        if len(script) > runs.MAX_SCRIPT_CHARS:
            raise ApprovalError(
                400, f"the script is over {runs.MAX_SCRIPT_CHARS} characters: split it"
            )
        plan = await anyio.to_thread.run_sync(
            partial(
                runs.plan_run,
                services.config,
                user=claims.sub,
                roles=tuple(claims.roles),
                connection=c,
                script=script,
                context=context,
            )
        )
        if not plan.statements:
            raise ApprovalError(400, "the script has no statements")
        denied = plan.denied
        if denied is not None:
            raise ApprovalError(
                403, f"statement {denied.number} is refused: {denied.decision.reason}"
            )
        if not plan.held:
            return JSONResponse(runs.run_json(None, plan))
        opened = await runs.open_run(
            services, plan, user=claims.sub, connection=c, script=script, reason=reason
        )
        return JSONResponse(runs.run_json(opened))

    async def get_run(request: Request, claims: Claims) -> Response:
        try:
            wait = float(request.query_params.get("wait", "0"))
        except ValueError:
            wait = math.nan
        if not math.isfinite(wait):
            raise ApprovalError(400, "wait takes a number of seconds")
        found = await runs.wait_run(services, request.path_params["id"], approver(claims), wait)
        return JSONResponse(runs.run_json(found))

    async def cancel_run(request: Request, claims: Claims) -> Response:
        done = await runs.cancel_run(services, request.path_params["id"], approver(claims))
        return JSONResponse(runs.run_json(done))

    async def events(request: Request, claims: Claims) -> Response:
        session = request.query_params.get("session")

        async def stream() -> AsyncIterator[bytes]:
            with services.events.subscribe(
                user=claims.sub, roles=tuple(claims.roles), session_id=session
            ) as receive:
                yield b": iap events\n\n"
                while True:
                    event = None
                    with trio.move_on_after(SSE_HEARTBEAT):  # never yield inside the scope
                        event = await receive.receive()
                    if event is None:
                        yield b": keepalive\n\n"
                        continue
                    payload = {"kind": event.kind, "ts": event.ts, **event.data}
                    yield f"event: {event.kind}\ndata: {json.dumps(payload)}\n\n".encode()

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    async def audit(request: Request, claims: Claims) -> Response:
        if not AUDITOR_ROLES & set(claims.roles):
            raise ApprovalError(403, "reading the audit log needs the admin or auditor role")
        since = request.query_params.get("since")

        def read() -> list[dict[str, Any]]:
            return [
                audit_json(r)
                for r in services.store.iter_audit(since=float(since) if since else None)
            ]

        return JSONResponse(await anyio.to_thread.run_sync(read))

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        if services.ready:
            return JSONResponse({"status": "ready"})
        return JSONResponse({"status": "starting or draining"}, status_code=503)

    async def metrics(request: Request) -> Response:
        return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

    async def openapi(request: Request) -> Response:
        return JSONResponse(OPENAPI)

    return Starlette(
        routes=[
            Route("/v1/login", login, methods=["POST"]),
            Route("/v1/refresh", refresh, methods=["POST"]),
            Route("/v1/stepup", authed(stepup), methods=["POST"]),
            Route("/v1/whoami", authed(whoami)),
            Route("/v1/token", authed(listener_token), methods=["POST"]),
            Route("/v1/connections", authed(connections)),
            Route("/v1/connections/{name}", authed(connection)),
            Route("/v1/requests", authed(list_requests)),
            Route("/v1/requests/{id}", authed(get_request)),
            Route("/v1/requests/{id}/approve", authed(approve), methods=["POST"]),
            Route("/v1/requests/{id}/deny", authed(deny), methods=["POST"]),
            Route("/v1/runs", authed(create_run), methods=["POST"]),
            Route("/v1/runs/{id}", authed(get_run), methods=["GET"]),
            Route("/v1/runs/{id}", authed(cancel_run), methods=["DELETE"]),
            Route("/v1/events", authed(events)),
            Route("/v1/audit", authed(audit)),
            Route("/v1/openapi.json", openapi),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
        ]
    )


def audit_json(r: Any) -> dict[str, Any]:
    """The public shape of an audit row (API and `iap audit --json`)."""
    return {
        "seq": r.seq,
        "ts": r.ts,
        "user": r.user,
        "connection": r.connection,
        "session": r.session_id,
        "risk": r.risk,
        "decision": r.decision,
        "request_id": r.request_id,
        "outcome": r.outcome,
        "rows": r.rows,
        "error": r.error,
        "duration_ms": r.duration_ms,
        "sql": r.sql,
        "hash": r.hash,
    }


def _op(summary: str, auth: bool = True) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {"200": {"description": "OK"}}}
    if auth:
        op["security"] = [{"bearer": []}]
    return op


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "iap control API", "version": "1"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        "/v1/login": {"post": _op("Password + TOTP code -> access and refresh tokens", False)},
        "/v1/refresh": {"post": _op("Refresh token + device id -> new tokens", False)},
        "/v1/stepup": {"post": _op("TOTP code -> access token with a fresh auth_time")},
        "/v1/token": {"post": _op("A 5-minute token to use as the password on a direct listener")},
        "/v1/whoami": {"get": _op("The caller's identity")},
        "/v1/connections": {"get": _op("Connections the caller may use, with their policy")},
        "/v1/connections/{name}": {"get": _op("One connection")},
        "/v1/requests": {"get": _op("Approval requests the caller owns or may review")},
        "/v1/requests/{id}": {"get": _op("One approval request")},
        "/v1/requests/{id}/approve": {"post": _op("Approve (401 + RFC 9470 challenge if stale)")},
        "/v1/requests/{id}/deny": {"post": _op("Deny, with an optional reason")},
        "/v1/runs": {
            "post": _op("A script for `iap run`: classified; one approval request if needed")
        },
        "/v1/runs/{id}": {
            "get": _op("A run's status; ?wait=S waits up to S seconds for its decision"),
            "delete": _op("Withdraw a pending run (its requester)"),
        },
        "/v1/events": {"get": _op("Server-sent events of the caller's sessions and requests")},
        "/v1/audit": {"get": _op("Audit rows (admin or auditor role)")},
        "/healthz": {"get": _op("Liveness", False)},
        "/readyz": {"get": _op("Readiness: 200 ready, 503 starting or draining", False)},
        "/metrics": {"get": _op("Prometheus metrics", False)},
    },
}
