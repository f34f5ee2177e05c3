"""How the agent talks to people and scripts.

Plain output: results on stdout, progress and errors on stderr, errors as one line
`iap: what went wrong: what to do`. With --json (one convention for every command): a list is
one JSON array, a single result one JSON object, and an error the object
`{"error": CODE, "message": TEXT}`, all on stdout, with the same exit codes as plain output.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

_json_mode = False


def use_json(enabled: bool) -> None:
    """--json was given: errors are reported as JSON too (see `error`)."""
    global _json_mode
    _json_mode = enabled


def json_mode() -> bool:
    return _json_mode


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    sys.stdout.flush()


def say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def warn(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def error(code: str, message: str) -> None:
    """Report an error the user can act on: `iap: message` on stderr, or JSON on stdout."""
    if _json_mode:
        emit_json({"error": code, "message": message})
    else:
        warn(f"iap: {message}")


def clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def duration(seconds: float) -> str:
    """A rounded human duration: 45s, 9m 12s, 11h 58m, 3d 4h."""
    s = max(int(seconds), 0)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def one_line(sql: str, width: int = 70) -> str:
    """A statement on one line of a terminal: whitespace runs as one space, control
    characters escaped (a statement cannot move the cursor or rewrite what a reviewer sees),
    at most `width` characters."""
    from iap.audit import printable  # (imported here: most commands print no statement)

    flat = printable(" ".join(sql.split()))
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell; the last column is not padded."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        padded = [c.ljust(w) for c, w in zip(cells[:-1], widths[:-1], strict=True)]
        return " ".join([*padded, cells[-1]]).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def requests_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no requests"
    return table(
        ["ID", "STATUS", "USER", "CONNECTION", "RISK", "SQL"],
        [
            [r["id"], r["status"], r["user"], r["connection"], r["risk"], one_line(r["sql"])]
            for r in rows
        ],
    )
