"""How the agent talks to people and scripts: plain lines, or JSON with --json."""

from __future__ import annotations

import json
import sys
import time
from typing import Any


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    sys.stdout.flush()


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def warn(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def one_line(sql: str, width: int = 70) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def requests_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no requests"
    lines = [f"{'ID':<7} {'STATUS':<9} {'USER':<12} {'CONNECTION':<14} {'RISK':<11} SQL"]
    for r in rows:
        lines.append(
            f"{r['id']:<7} {r['status']:<9} {r['user']:<12} {r['connection']:<14} "
            f"{r['risk']:<11} {one_line(r['sql'])}"
        )
    return "\n".join(lines)
