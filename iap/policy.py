"""Policy: who may run which class of statement on which connection -> allow, hold or deny.

Owns the decision for one classified statement from the effective rules (the config's
[[rules]] then the defaults): the first rule that matches wins; nothing matching is a
denial (fail closed). Rules with context conditions (where the client is, when: see
iap/context.py) may only tighten: the decision is the first matching rule without conditions,
unless a rule with conditions that apply in this context, placed before it, is stricter
(allow < hold < deny; among holds, peer over self, more approvers, a fresher max_age): then
the strictest of those decides, and says which conditions fired. A looser one changes
nothing, wherever it stands.
Pure: never does I/O, never waits, never looks at SQL text (the classifier did), never
guesses a rule for `unknown` (only a rule naming it matches).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from iap.classify.types import Risk
from iap.config import DEFAULT_RULES, Rule
from iap.context import Context


class Action(StrEnum):
    ALLOW = "allow"
    HOLD = "hold"
    DENY = "deny"


_ACTION_RANK = {Action.ALLOW: 0, Action.HOLD: 1, Action.DENY: 2}


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with a statement, and which rule said so.

    rule_index is the rule's position in the effective rules list, so a decision cache can
    key on it; rule and rule_index are None when no rule matched (a denial). signals: the
    context conditions that made a context rule apply (empty for other rules).
    """

    action: Action
    risk: Risk
    rule: Rule | None
    rule_index: int | None
    reason: str
    signals: tuple[str, ...] = ()


def decide(
    rules: Sequence[Rule],
    *,
    user: str,
    roles: tuple[str, ...],
    connection: str,
    risk: Risk,
    context: Context | None = None,
) -> Decision:
    """The decision of the effective `rules` for this request. `context` None: unknown
    (every context rule applies, the strict reading)."""
    base: Decision | None = None
    tighter: Decision | None = None
    for index, rule in enumerate(rules):
        if not rule.matches(connection=connection, user=user, roles=roles, risk=risk.value):
            continue
        if not rule.has_context:
            base = _decision(rule, index, risk, connection, ())
            break
        signals = rule.context_signals(context)
        if signals is not None:  # the strictest of the context rules that apply here
            found = _decision(rule, index, risk, connection, signals)
            if tighter is None or _strictness(found) > _strictness(tighter):
                tighter = found
    if base is None:
        why = f"no rule allows {risk.value} on {connection}"
        base = Decision(Action.DENY, risk, None, None, why)
    if tighter is not None and _strictness(tighter) > _strictness(base):
        return tighter
    return base


def _strictness(d: Decision) -> tuple[int, int, int, float]:
    if d.rule is None or d.action is not Action.HOLD:
        return (_ACTION_RANK[d.action], 0, 0, 0.0)
    rule = d.rule
    return (1, rule.approval == "peer", rule.min_approvals, -rule.max_age)


def _decision(
    rule: Rule, index: int, risk: Risk, connection: str, signals: tuple[str, ...]
) -> Decision:
    action = Action(rule.action)
    reason = _reason(rule, index, action, risk, connection)
    if signals:
        reason += f" ({'; '.join(signals)})"
    return Decision(action, risk, rule, index, reason, signals)


def _reason(rule: Rule, index: int, action: Action, risk: Risk, connection: str) -> str:
    source = "the default rule" if any(rule is d for d in DEFAULT_RULES) else f"rule {index + 1}"
    if action is Action.ALLOW:
        return f"{risk.value} on {connection} is allowed by {source}"
    if action is Action.DENY:
        return f"{risk.value} on {connection} is denied by {source}"
    who = "a peer" if rule.approval == "peer" else "the requester"
    return f"{risk.value} on {connection} needs approval by {who} ({source})"
