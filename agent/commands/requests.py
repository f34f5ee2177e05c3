"""`iap requests [--status S] [--json]`: approval requests, yours and those you may approve."""

from __future__ import annotations

from typing import Any

from agent.client import GatewayClient
from agent.commands import REQUEST_STATUSES
from agent.errors import usage
from agent.output import emit_json, requests_table, say


def list_requests(*, as_json: bool, status: str | None) -> None:
    if status is not None and status not in REQUEST_STATUSES:
        raise usage(
            f"--status {status!r} is not a status: use one of {', '.join(REQUEST_STATUSES)}"
        )
    client = GatewayClient.from_state()
    params = {"status": status} if status else {}
    rows: list[dict[str, Any]] = client.call("GET", "/v1/requests", params=params).json()
    if as_json:
        emit_json(rows)
    else:
        say(requests_table(rows))
