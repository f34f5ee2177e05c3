"""Policy: who may run which class of statement on which connection -> allow, hold or deny.

Owns the decision for one classified statement from the effective rules (the config's
[[rules]] then the defaults): the first rule that matches wins; nothing matching is a
denial (fail closed). Pure: never does I/O, never waits, never looks at SQL text (the
classifier did), never guesses a rule for `unknown` (only a rule naming it matches).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from iap.classify.types import Risk
from iap.config import DEFAULT_RULES, Rule


class Action(StrEnum):
    ALLOW = "allow"
    HOLD = "hold"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with a statement, and which rule said so.

    rule_index is the rule's position in the effective rules list, so a decision cache can
    key on it; rule and rule_index are None when no rule matched (a denial).
    """

    action: Action
    risk: Risk
    rule: Rule | None
    rule_index: int | None
    reason: str


def decide(
    rules: Sequence[Rule],
    *,
    user: str,
    roles: tuple[str, ...],
    connection: str,
    risk: Risk,
) -> Decision:
    """The first rule of rules (the effective list) matching the request decides."""
    for index, rule in enumerate(rules):
        if rule.matches(connection=connection, user=user, roles=roles, risk=risk.value):
            action = Action(rule.action)
            return Decision(
                action, risk, rule, index, _reason(rule, index, action, risk, connection)
            )
    return Decision(Action.DENY, risk, None, None, f"no rule allows {risk.value} on {connection}")


def _reason(rule: Rule, index: int, action: Action, risk: Risk, connection: str) -> str:
    source = "the default rule" if any(rule is d for d in DEFAULT_RULES) else f"rule {index + 1}"
    if action is Action.ALLOW:
        return f"{risk.value} on {connection} is allowed by {source}"
    if action is Action.DENY:
        return f"{risk.value} on {connection} is denied by {source}"
    who = "a peer" if rule.approval == "peer" else "the requester"
    return f"{risk.value} on {connection} needs approval by {who} ({source})"
