"""`iap requests [--status S] [--json] [--watch]`: approval requests, yours and those you may
approve; with --watch, then new and decided ones as they come (JSON lines with --json), until
Ctrl-C."""

from __future__ import annotations

import contextlib
import json
from functools import partial
from typing import Any

from agent.client import GatewayClient
from agent.commands import REQUEST_STATUSES
from agent.errors import usage
from agent.output import emit_json, requests_table, say
from agent.tunnel import describe_event, follow_events


def list_requests(*, as_json: bool, status: str | None, watch: bool = False) -> None:
    if status is not None and status not in REQUEST_STATUSES:
        raise usage(
            f"--status {status!r} is not a status: use one of {', '.join(REQUEST_STATUSES)}"
        )
    client = GatewayClient.from_state()
    params = {"status": status} if status else {}
    rows: list[dict[str, Any]] = client.call("GET", "/v1/requests", params=params).json()
    if watch:
        if not as_json:
            say(requests_table(rows))
        with contextlib.suppress(KeyboardInterrupt):
            follow_events(client, partial(_show, as_json), lambda: False)
    elif as_json:
        emit_json(rows)
    else:
        say(requests_table(rows))


def _show(as_json: bool, event: dict[str, Any]) -> None:
    """One request event of --watch: a JSON line, or the line the agent shows for holds."""
    kind = str(event.get("kind"))
    if not kind.startswith("request.") or kind == "request.approval_added":
        return
    if as_json:
        say(json.dumps(event, sort_keys=True))
        return
    text = describe_event(event)
    if text:
        say(text)
