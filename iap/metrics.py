"""Prometheus metrics of one gateway process (a registry per gateway, so tests can run several).

Names are a contract (DESIGN.md): iap_connections_open, iap_statements_total{risk,decision},
iap_approval_wait_seconds, iap_mfa_failures_total.

With `--workers N` every worker counts into files under PROMETHEUS_MULTIPROC_DIR (the
supervisor sets it before the workers start: prometheus_client picks its value store when it
is imported) and worker 1's `/metrics` adds them up, so the numbers cover all workers.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector


class Metrics:
    def __init__(self, *, multiprocess: bool = False) -> None:
        self.multiprocess = multiprocess
        self.registry = CollectorRegistry()
        self.connections_open = Gauge(
            "iap_connections_open",
            "Client sessions open",
            ["kind"],
            registry=self.registry,
            multiprocess_mode="livesum",  # the open sessions of the workers alive now
        )
        self.statements = Counter(
            "iap_statements_total",
            "Client statements by risk class and decision",
            ["risk", "decision"],
            registry=self.registry,
        )
        self.approval_wait = Histogram(
            "iap_approval_wait_seconds",
            "How long held statements waited for a decision",
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800),
            registry=self.registry,
        )
        self.mfa_failures = Counter(
            "iap_mfa_failures_total", "Refused one-time codes", registry=self.registry
        )
        self._statement_children: dict[tuple[str, str], Counter] = {}
        self.holds = Counter(
            "iap_holds_total", "Held statements by final status", ["status"], registry=self.registry
        )
        self.webhook_deliveries = Counter(
            "iap_webhook_deliveries_total",
            "[notify] webhook notices by outcome (ok, failed, dropped)",
            ["outcome"],
            registry=self.registry,
        )

    def count_statement(self, risk: str, decision: str) -> None:
        """iap_statements_total{risk,decision} += 1 (label children cached: a hot path)."""
        child = self._statement_children.get((risk, decision))
        if child is None:
            child = self.statements.labels(risk=risk, decision=decision)
            self._statement_children[(risk, decision)] = child
        child.inc()

    def render(self) -> bytes:
        if not self.multiprocess:
            return generate_latest(self.registry)
        combined = CollectorRegistry()
        MultiProcessCollector(combined)  # type: ignore[no-untyped-call]  # every worker's files
        return generate_latest(combined)
