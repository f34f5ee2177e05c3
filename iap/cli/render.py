"""How the operator commands print: users, live sessions and audit rows as text or JSON.

Built on agent/output.py's conventions (results on stdout, one-line errors, --json: a finite
listing is one JSON array, a single result one object). Streams are JSON lines: `iap audit
--follow --json` prints one compact object per row as it comes. Audit text is one line per
row, every field escaped as `iap.audit.printable` does, so a row cannot forge another.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Iterable
from typing import Any

from agent import output
from iap.audit import printable
from iap.store.base import AuditRecord, LiveSession, User

AUDIT_DECISIONS = (
    "allow", "grace", "deny", "hold", "approved", "denied", "expired", "abandoned",
    "cancelled", "killed", "login", "stepup", "listener",
)  # fmt: skip
AUDIT_LEGEND = "SEQ TIME USER CONNECTION RISK DECISION OUTCOME [request= by= rows= error=] SQL"
SQL_WIDTH = 120  # characters of SQL on a plain audit line


def _when(ts: float | None) -> str:
    return output.when(ts) if ts else "-"


def user_json(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "roles": list(user.roles),
        "disabled": user.disabled,
        "created_at": user.created_at,
        "last_login": user.last_login,
    }


def users(found: list[User], as_json: bool) -> None:
    if as_json:
        output.emit_json([user_json(u) for u in found])
    elif not found:
        output.say("no users: add one with `iap admin user add NAME --role ROLE`")
    else:
        rows = [
            [
                u.name,
                ",".join(u.roles) or "-",
                "disabled" if u.disabled else "enabled",
                _when(u.created_at),
                _when(u.last_login),
            ]
            for u in found
        ]
        output.say(output.table(["NAME", "ROLES", "STATE", "CREATED", "LAST LOGIN"], rows))


def session_json(session: LiveSession, held: str | None) -> dict[str, Any]:
    return {
        "id": session.id,
        "user": session.user,
        "connection": session.connection,
        "kind": session.kind,
        "client_address": session.client_address,
        "started_at": session.started_at,
        "gateway_pid": session.gateway_pid,
        "held_request": held,
        "ending": session.end_reason,
    }


def sessions(found: list[LiveSession], held: dict[str, str], as_json: bool) -> None:
    """Live sessions; `held`: session id -> the request its statement waits on."""
    if as_json:
        output.emit_json([session_json(s, held.get(s.id)) for s in found])
    elif not found:
        output.say("no live sessions")
    else:
        rows = [
            [
                s.id,
                _word(s.user),
                _word(s.connection),
                s.kind,
                _word(s.client_address),
                _when(s.started_at),
                f"held:{held[s.id]}" if s.id in held else "ending" if s.end_reason else "-",
            ]
            for s in found
        ]
        headers = ["ID", "USER", "CONNECTION", "KIND", "CLIENT", "STARTED", "STATE"]
        output.say(output.table(headers, rows))


def enrolment(uri: str) -> None:
    """The otpauth:// URI on its own line, and a QR code of it on a terminal."""
    output.say(uri)
    if sys.stdout.isatty():
        import qrcode

        qr = qrcode.QRCode(border=1)
        qr.add_data(uri)
        qr.print_ascii(invert=True)


def _time(ts: float) -> str:
    try:
        return dt.datetime.fromtimestamp(ts).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return repr(ts)


def _word(text: str | None) -> str:
    return printable(text, spaces=False) if text else "-"


def _quoted(text: str) -> str:
    return '"' + printable(text).replace('"', '\\"') + '"'


def audit_json(record: AuditRecord, approved_by: list[str] | None) -> dict[str, Any]:
    """The row as /v1/audit shows it, and who approved it (approved rows only)."""
    from iap.api.app import audit_json as public_shape

    return {**public_shape(record), "approved_by": approved_by}


def audit_line(record: AuditRecord, approved_by: list[str] | None) -> str:
    """seq, time, user, connection, risk, decision, outcome, then request=, by= (who
    approved), rows=, error= when they apply, then the SQL (whitespace runs as one space, at
    most SQL_WIDTH characters). No field but the error and the SQL holds a space."""
    extra = [f"request={_word(record.request_id)}"] if record.request_id else []
    if approved_by:
        extra.append(f"by={_word(','.join(approved_by))}")
    if record.rows is not None:
        extra.append(f"rows={record.rows}")
    if record.error:
        extra.append(f"error={_quoted(record.error)}")
    fields = [str(record.seq), _time(record.ts), _word(record.user)]
    fields += [_word(record.connection), _word(record.risk), _word(record.decision)]
    fields += [_word(record.outcome), *extra, printable(" ".join(record.sql.split())[:SQL_WIDTH])]
    return " ".join(fields)


class AuditPrinter:
    """Prints audit rows as text lines, as one JSON array (`close` ends it), or as JSON lines
    (`stream`); `approvers` looks up who approved a request (cached per request)."""

    def __init__(
        self, as_json: bool, stream: bool, approvers: Callable[[str], list[str] | None]
    ) -> None:
        self.as_json, self.stream = as_json, stream
        self._approvers = approvers
        self._cache: dict[str, list[str] | None] = {}
        self._count = 0
        if not as_json and sys.stdout.isatty():
            output.say(AUDIT_LEGEND)

    def _approved_by(self, record: AuditRecord) -> list[str] | None:
        if record.decision != "approved" or not record.request_id:
            return None
        if record.request_id not in self._cache:
            self._cache[record.request_id] = self._approvers(record.request_id)
        return self._cache[record.request_id]

    def print(self, records: Iterable[AuditRecord]) -> None:
        for record in records:
            by = self._approved_by(record)
            if not self.as_json:
                output.say(audit_line(record, by))
                continue
            text = json.dumps(audit_json(record, by))
            if self.stream:
                output.say(text)
            else:  # one array, an element per line, written as the rows come
                output.say(("[" if self._count == 0 else ",") + text)
            self._count += 1

    def close(self) -> None:
        if self.as_json and not self.stream:
            output.say("]" if self._count else "[]")
