"""Webhook notifications of approval requests (`[notify]`): reaching approvers where they are.

Every request held (`request.held`) and its end (approved, denied, expired, cancelled,
abandoned) is POSTed to `[notify] webhook`: the event as JSON (`notice_json`), or with
`slack = true` a Slack-compatible message (`{"text": ...}`). With a secret the body is signed:
`X-Iap-Timestamp` (UNIX seconds) and `X-Iap-Signature: sha256=<hex HMAC-SHA256 of
"<timestamp>.<body>">`, so a receiver can check both the sender and the freshness.

Delivery never slows a session: events are taken off the event bus at once into a bounded
queue (when it is full the oldest notice is dropped, logged and counted), and one task sends
them in order, each with ATTEMPTS tries and back-off, every try bounded by `[notify] timeout`.
Outcomes are counted in `iap_webhook_deliveries_total{outcome}` (ok, failed, dropped) and
failures logged as `event=webhook_failed`. The config is read per notice, so a reload applies
to the next one. With --workers, worker 1 sends (it hears every worker's requests).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections import deque
from typing import Any

import httpx
import trio

from iap.approvals import who_approves
from iap.config import ConfigError
from iap.events import Event
from iap.logfmt import event as log_event
from iap.services import Services

log = logging.getLogger("iap.notify")

NOTIFIED = frozenset(
    {
        "request.held",
        "request.approved",
        "request.denied",
        "request.expired",
        "request.cancelled",
        "request.abandoned",
    }
)
QUEUE = 1000  # notices waiting to be sent; beyond, the oldest is dropped
ATTEMPTS = 3
BACKOFF = (1.0, 4.0)  # seconds before the second and the third attempt


def notice_json(event: Event, public_url: str) -> dict[str, Any]:
    """The JSON a webhook receives for a request event."""
    request = dict(event.data)
    rid = request.get("id")
    return {
        "event": event.kind,
        "ts": event.ts,
        "request": request,
        "approve": f"iap approve {rid}",
        "deny": f"iap deny {rid}",
        "url": f"{public_url.rstrip('/')}/v1/requests/{rid}",
    }


def slack_text(event: Event) -> str:
    """One Slack message for a request event. Every text a user chose (the SQL above all) is
    escaped as Slack asks (&, <, >), and cannot close the code block it is shown in: a
    statement cannot ping a channel, link somewhere, or fake the message around it."""
    r: dict[str, Any] = {
        k: _slack_escape(v) if isinstance(v, str) else v for k, v in event.data.items()
    }
    status = event.kind.split(".", 1)[1]
    head = f"*{r['user']}* on *{r['connection']}* ({r['risk']}): request `{r['id']}`"
    sql = str(r.get("sql") or "")
    sql = (sql if len(sql) <= 500 else sql[:500] + "...").replace("`", "\u02cb")
    if status == "held":
        roles = [_slack_escape(str(role)) for role in r["approver_roles"]]
        who = who_approves(str(r["approval"]), roles, int(r["min_approvals"]))
        return f"{head} is held for {who}.\n```{sql}```\nApprove: `iap approve {r['id']}`"
    why = f": {r['reason']}" if r.get("reason") else ""
    by = f" by {r['decided_by']}" if r.get("decided_by") else ""
    return f"{head} {status}{by}{why}"


def _slack_escape(text: str) -> str:
    """Slack's escaping of the three characters its markup reads (links, mentions)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Iap-Signature value of `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class Notifier:
    """Takes request events off the bus and sends them to the webhook, in order."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.queue: deque[Event] = deque()
        self.ready = trio.Event()
        self.deliveries = services.metrics.webhook_deliveries

    async def run(self) -> None:
        """Until cancelled: listen to the bus, and send what it says."""
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._send_all)
            with self.services.events.subscribe_all() as events:
                async for event in events:
                    self._take(event)

    def _take(self, event: Event) -> None:
        if event.kind not in NOTIFIED or self.services.config.notify.webhook is None:
            return
        if len(self.queue) >= QUEUE:
            dropped = self.queue.popleft()
            self.deliveries.labels(outcome="dropped").inc()
            log.warning(
                log_event("webhook_dropped", request=dropped.data.get("id"), kind=dropped.kind)
            )
        self.queue.append(event)
        self.ready.set()

    async def _send_all(self) -> None:
        async with httpx.AsyncClient() as http:
            while True:
                while not self.queue:
                    self.ready = trio.Event()
                    await self.ready.wait()
                event = self.queue.popleft()
                try:
                    await self._send(http, event)
                except Exception as e:  # one notice must never take the gateway down
                    self._failed(event, 0, f"{type(e).__name__}: {e}")

    async def _send(self, http: httpx.AsyncClient, event: Event) -> None:
        notify = self.services.config.notify
        if notify.webhook is None:  # turned off by a reload since
            return
        try:
            secret = await trio.to_thread.run_sync(notify.secret)
        except ConfigError as e:  # the secret went away (a reload, a file removed)
            self._failed(event, 0, str(e))
            return
        public = self.services.config.gateway.public_url
        payload = {"text": slack_text(event)} if notify.slack else notice_json(event, public)
        body = json.dumps(payload, sort_keys=True).encode()
        error = ""
        for attempt in range(ATTEMPTS):
            if attempt:
                await trio.sleep(BACKOFF[attempt - 1])
            timestamp = str(int(time.time()))
            headers = {"Content-Type": "application/json", "User-Agent": "iap"}
            if secret:
                headers |= {
                    "X-Iap-Timestamp": timestamp,
                    "X-Iap-Signature": sign(secret, timestamp, body),
                }
            try:
                with trio.fail_after(notify.timeout):
                    response = await http.post(notify.webhook, content=body, headers=headers)
            except (httpx.HTTPError, trio.TooSlowError, OSError) as e:
                error = str(e) or type(e).__name__
                continue
            if response.is_success:
                self.deliveries.labels(outcome="ok").inc()
                return
            error = f"HTTP {response.status_code}"
        self._failed(event, ATTEMPTS, error)

    def _failed(self, event: Event, attempts: int, error: str) -> None:
        self.deliveries.labels(outcome="failed").inc()
        log.warning(
            log_event(
                "webhook_failed",
                request=event.data.get("id"),
                kind=event.kind,
                attempts=attempts,
                error=error,
            )
        )
