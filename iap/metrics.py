"""Prometheus metrics of one gateway process (a registry per gateway, so tests can run several).

Names are a contract (DESIGN.md): iap_connections_open, iap_statements_total{risk,decision},
iap_approval_wait_seconds, iap_mfa_failures_total.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.connections_open = Gauge(
            "iap_connections_open", "Client sessions open", ["kind"], registry=self.registry
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

    def count_statement(self, risk: str, decision: str) -> None:
        """iap_statements_total{risk,decision} += 1 (label children cached: a hot path)."""
        child = self._statement_children.get((risk, decision))
        if child is None:
            child = self.statements.labels(risk=risk, decision=decision)
            self._statement_children[(risk, decision)] = child
        child.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
