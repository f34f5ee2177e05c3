"""What the agent prints for people (no sockets): statements a reviewer reads cannot drive
their terminal."""

from __future__ import annotations

from agent.output import one_line, requests_table
from agent.tunnel import describe_event


def test_statements_shown_to_a_reviewer_cannot_drive_their_terminal() -> None:
    """`iap requests`, `--watch` and `iap connect`'s held lines print statements through
    one_line: escape sequences, other controls and bidi overrides are written as escapes."""
    sql = "DELETE FROM t /*\x1b[2K\x1b[1A*/ WHERE\u202e id > 0\r\nOR true"
    assert one_line(sql, 200) == "DELETE FROM t /*\\x1b[2K\\x1b[1A*/ WHERE\\u202e id > 0 OR true"
    row = {"id": "K7Q2XD", "status": "pending", "user": "alice", "connection": "pg-main",
           "risk": "destructive", "sql": sql}  # fmt: skip
    assert "\x1b" not in requests_table([row])
    held = describe_event({"kind": "request.held", "id": "K7Q2XD", "risk": "write", "sql": sql})
    denied = describe_event({"kind": "request.denied", "id": "K7Q2XD", "reason": "no\x1b]0;x\x07"})
    assert held is not None and denied is not None
    assert not any(c in held + denied for c in "\x1b\x07\u202e\r")
