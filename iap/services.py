"""The gateway's shared services, built once at start-up and handed to sessions and the API.

One object so engines, the tunnel and the control API depend on what they use, not on how the
gateway process is assembled (iap/gateway.py does that).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from iap.approvals import Approvals
from iap.auditqueue import AuditQueue
from iap.config import GatewayConfig
from iap.events import EventBus
from iap.identity import Identity
from iap.live import LiveSessions
from iap.metrics import Metrics
from iap.store.base import AuditRecord, Store


@dataclass(eq=False)
class Services:
    config: GatewayConfig
    store: Store
    identity: Identity
    approvals: Approvals
    events: EventBus
    metrics: Metrics
    clock: Callable[[], float]
    audit: AuditQueue  # records queued here are stored in batches by its writer task
    live: LiveSessions = field(init=False)  # the sessions it serves and their cancel keys
    tunnel_port: int = 0  # the bound tunnel port (the config may say 0: any free port)
    listen_ports: dict[str, int] = field(default_factory=dict)  # connection -> direct listener
    # Benchmarks only (IAP_UNSAFE_NO_CLASSIFY=1): every statement passes as a read, unparsed.
    classify_statements: bool = True
    workers: int = 1  # with more than one, cancel keys live in the store
    ready: bool = False

    def __post_init__(self) -> None:
        self.live = LiveSessions(self)

    def audit_auth(
        self, user: str, what: str, failure: str | None, *, connection: str = ""
    ) -> None:
        """Audit an authentication step (login, refresh, step-up, a listener login)."""
        self.audit.put(
            AuditRecord(
                ts=self.clock(),
                user=user,
                connection=connection,
                decision=what,
                outcome="error" if failure else "ok",
                error=failure,
            )
        )
