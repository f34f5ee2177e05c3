"""The goals of issue 5 and whether a result meets them.

Owns the goal table (which scenario, path and metric each goal is about, in the issue's words)
and checking a `Result` against it. Where the issue names no path, the goal is about the
gateway's own cost: the direct listener, or for MySQL (which has no direct listener) the
agent path. Nothing here fails a run: goals are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.results import Result

Evaluation = tuple[float, str, bool]  # value, how to show it, met
Evaluate = Callable[["Result"], Evaluation | None]


@dataclass(frozen=True)
class Goal:
    scenario: str
    path: str  # the table row the goal is shown on
    metric: str
    text: str
    evaluate: Evaluate


@dataclass(frozen=True)
class GoalCheck:
    path: str
    metric: str
    goal: str
    value: float | None
    shown: str
    met: bool | None  # None: not measurable in this run (path unavailable)

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "n/a"
        return f"{'yes' if self.met else 'no'} ({self.shown})"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "metric": self.metric,
            "goal": self.goal,
            "value": None if self.value is None else round(self.value, 4),
            "met": self.met,
        }


def ratio_at_least(scenario: str, path: str, metric: str, minimum: float) -> Goal:
    def evaluate(result: Result) -> Evaluation | None:
        r = result.ratio(path, metric)
        return None if r is None else (r, f"{r:.2f}x", r >= minimum)

    return Goal(scenario, path, metric, f"≥ {minimum:.2f}x direct", evaluate)


def classification_cost(scenario: str, minimum: float = 0.90) -> Goal:
    """Classification on vs off: the listener's TPS over the no-classify gateway's."""

    def evaluate(result: Result) -> Evaluation | None:
        r = result.ratio("listener", "tps", to="noclassify")
        return None if r is None else (r, f"{r:.2f}x", r >= minimum)

    return Goal(scenario, "noclassify", "tps", f"listener ≥ {minimum:.2f}x this", evaluate)


def durable_audit_cost(scenario: str, minimum: float = 0.50) -> Goal:
    """`[audit] durable_from = "write"` (a synced commit before each write, shared by the
    sessions that wait at the same time): its TPS over the plain listener's."""

    def evaluate(result: Result) -> Evaluation | None:
        r = result.ratio("durable", "tps", to="listener")
        return None if r is None else (r, f"{r:.2f}x", r >= minimum)

    return Goal(scenario, "durable", "tps", f"≥ {minimum:.2f}x the listener", evaluate)


def added_at_most(scenario: str, path: str, metric: str, most_us: float) -> Goal:
    def evaluate(result: Result) -> Evaluation | None:
        value, base = result.median(path, metric), result.median("direct", metric)
        if value is None or base is None:
            return None
        added = value - base
        return added, f"{added:+.0f} µs", added <= most_us

    return Goal(scenario, path, metric, f"≤ +{most_us:.0f} µs over direct", evaluate)


def rss_below(path: str, most_mb: float, sessions: int = 1000) -> Goal:
    """Memory with 1,000 idle sessions; a run with fewer (--quick) extrapolates linearly."""

    def evaluate(result: Result) -> Evaluation | None:
        after = result.median(path, "rss_after_mb")
        per_session_kb = result.median(path, "kb_per_session")
        measured = int(result.params.get("sessions", 0))
        if after is None or per_session_kb is None or measured <= 0:
            return None
        value = after + max(0.0, per_session_kb) * (sessions - measured) / 1024
        note = "" if measured == sessions else f", extrapolated from {measured}"
        return value, f"{value:.0f} MB{note}", value < most_mb

    return Goal("idle", path, "rss_after_mb", f"< {most_mb:.0f} MB at {sessions:,}", evaluate)


GOALS: tuple[Goal, ...] = (
    ratio_at_least("select-simple", "listener", "tps", 0.60),
    ratio_at_least("select-simple", "agent", "tps", 0.45),
    classification_cost("select-simple"),
    classification_cost("select-extended"),
    ratio_at_least("select-prepared", "listener", "tps", 0.45),
    classification_cost("select-prepared"),
    ratio_at_least("tpcb", "listener", "tps", 0.70),
    classification_cost("tpcb"),
    durable_audit_cost("tpcb"),
    added_at_most("latency", "listener", "p50_us", 80),
    added_at_most("latency", "listener", "p99_us", 200),
    ratio_at_least("copy", "listener", "out_mb_s", 0.95),
    ratio_at_least("copy", "listener", "in_mb_s", 0.95),
    ratio_at_least("sysbench", "agent", "tps", 0.55),  # MySQL: no direct listener
    rss_below("listener", 200),
    rss_below("agent", 200),
)


def check_goals(result: Result) -> list[GoalCheck]:
    checks = []
    for goal in GOALS:
        if goal.scenario != result.scenario or goal.path not in result.paths:
            continue
        found = goal.evaluate(result)
        if found is None:
            checks.append(GoalCheck(goal.path, goal.metric, goal.text, None, "", None))
        else:
            value, shown, met = found
            checks.append(GoalCheck(goal.path, goal.metric, goal.text, value, shown, met))
    return checks
