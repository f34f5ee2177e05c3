"""iap.notify without sockets: the webhook body, the Slack message (that a statement cannot
turn into markup), and the signature a receiver checks."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from iap.events import Event
from iap.notify import notice_json, sign, slack_text


def held(sql: str, **changes: Any) -> Event:
    data: dict[str, object] = {
        "id": "K7Q2XD", "status": "pending", "user": "alice", "connection": "pg-main",
        "risk": "destructive", "sql": sql, "approval": "peer", "approver_roles": ["dba"],
        "min_approvals": 2, "reason": None, "decided_by": None,
    }  # fmt: skip
    return Event(kind="request.held", user="alice", data={**data, **changes}, ts=1.0)


def test_a_statement_cannot_become_slack_markup() -> None:
    sql = "SELECT 1 /* ``` <!channel> <https://evil.example|your approval> & more */"
    text = slack_text(held(sql))
    assert text == (
        "*alice* on *pg-main* (destructive): request `K7Q2XD` is held for 2 reviewers with"
        " role dba.\n```SELECT 1 /* \u02cb\u02cb\u02cb &lt;!channel&gt; &lt;https://evil.example"
        "|your approval&gt; &amp; more */```\nApprove: `iap approve K7Q2XD`"
    )
    assert text.count("```") == 2 and "<" not in text


def test_a_decision_in_slack_and_as_json() -> None:
    event = held("DROP TABLE t", status="denied", reason="<b>no</b>", decided_by="bob")
    event = Event(kind="request.denied", user="alice", data=event.data, ts=2.0)
    assert slack_text(event) == (
        "*alice* on *pg-main* (destructive): request `K7Q2XD` denied by bob: &lt;b&gt;no&lt;/b&gt;"
    )
    body = notice_json(event, "https://gw.example:8700/")
    assert body == {
        "event": "request.denied", "ts": 2.0, "request": dict(event.data),
        "approve": "iap approve K7Q2XD", "deny": "iap deny K7Q2XD",
        "url": "https://gw.example:8700/v1/requests/K7Q2XD",
    }  # fmt: skip


def test_the_signature_covers_the_timestamp_and_the_body() -> None:
    expected = hmac.new(b"key", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("key", "1700000000", b"{}") == f"sha256={expected}"
    assert sign("key", "1700000001", b"{}") != sign("key", "1700000000", b"{}")
