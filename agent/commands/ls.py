"""`iap ls [--json]`: the connections you may use (reads not denied to you), their kinds and
databases, and what the policy does with each risk class for you."""

from __future__ import annotations

from typing import Any

from agent.client import GatewayClient
from agent.output import emit_json, say, table


def _risks(policy: dict[str, str], action: str) -> str:
    return ",".join(risk for risk, act in policy.items() if act == action) or "-"


def ls(*, as_json: bool) -> None:
    client = GatewayClient.from_state()
    rows: list[dict[str, Any]] = client.call("GET", "/v1/connections").json()
    if as_json:
        emit_json(rows)
        return
    if not rows:
        say("no connections you may use")
        return
    say(
        table(
            ["NAME", "KIND", "DATABASE", "ALLOWED", "HELD FOR APPROVAL"],
            [
                [
                    r["name"],
                    r["kind"],
                    r["database"],
                    _risks(r.get("policy", {}), "allow"),
                    _risks(r.get("policy", {}), "hold"),
                ]
                for r in rows
            ],
        )
    )
