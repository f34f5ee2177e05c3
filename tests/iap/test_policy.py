"""Tests of iap.policy: first matching rule wins, defaults, globs, roles, fail closed."""

from __future__ import annotations

import pytest

from iap.classify.types import Risk
from iap.config import DEFAULT_RULES, GatewayConfig, Rule
from iap.policy import Action, Decision, decide


def decide_for(
    rules: tuple[Rule, ...],
    risk: Risk,
    *,
    user: str = "alice",
    roles: tuple[str, ...] = ("dev",),
    connection: str = "pg-main",
) -> Decision:
    return decide(rules, user=user, roles=roles, connection=connection, risk=risk)


@pytest.mark.parametrize(
    ("risk", "action", "max_age", "index"),
    [
        (Risk.READ, Action.ALLOW, 0.0, 0),
        (Risk.WRITE, Action.ALLOW, 0.0, 0),
        (Risk.DDL, Action.HOLD, 900.0, 1),
        (Risk.DESTRUCTIVE, Action.HOLD, 0.0, 2),
        (Risk.ADMIN, Action.HOLD, 0.0, 2),
        (Risk.UNKNOWN, Action.HOLD, 0.0, 2),
    ],
)
def test_defaults(risk: Risk, action: Action, max_age: float, index: int) -> None:
    decision = decide_for(DEFAULT_RULES, risk)
    assert decision.action is action
    assert decision.risk is risk
    assert decision.rule_index == index
    assert decision.rule is DEFAULT_RULES[index]
    if action is Action.HOLD:
        assert decision.rule.approval == "self"
        assert decision.rule.max_age == max_age
        assert decision.rule.timeout == 300.0


def test_default_reasons() -> None:
    assert decide_for(DEFAULT_RULES, Risk.READ).reason == (
        "read on pg-main is allowed by the default rule"
    )
    assert decide_for(DEFAULT_RULES, Risk.DDL).reason == (
        "ddl on pg-main needs approval by the requester (the default rule)"
    )


def test_effective_rules_put_config_rules_first() -> None:
    config = GatewayConfig(rules=(Rule(risks=("write",), action="deny"),))
    rules = config.effective_rules
    decision = decide_for(rules, Risk.WRITE)
    assert (decision.action, decision.rule_index) == (Action.DENY, 0)
    assert decision.reason == "write on pg-main is denied by rule 1"
    read = decide_for(rules, Risk.READ)
    assert (read.action, read.rule_index) == (Action.ALLOW, 1)


def test_first_match_wins() -> None:
    rules = (
        Rule(risks=("destructive",), users=("alice",), action="allow"),
        Rule(risks=("destructive",), action="deny"),
        *DEFAULT_RULES,
    )
    assert decide_for(rules, Risk.DESTRUCTIVE).action is Action.ALLOW
    bob = decide_for(rules, Risk.DESTRUCTIVE, user="bob")
    assert (bob.action, bob.rule_index) == (Action.DENY, 1)


def test_connection_and_user_globs() -> None:
    rules = (
        Rule(risks=("write",), connections=("prod-*",), action="hold", approval="peer"),
        Rule(risks=("write",), users=("svc-*", "ci"), action="deny"),
        *DEFAULT_RULES,
    )
    prod = decide_for(rules, Risk.WRITE, connection="prod-pg")
    assert (prod.action, prod.rule_index) == (Action.HOLD, 0)
    assert prod.reason == "write on prod-pg needs approval by a peer (rule 1)"
    assert decide_for(rules, Risk.WRITE, connection="staging-pg").action is Action.ALLOW
    assert decide_for(rules, Risk.WRITE, connection="staging", user="svc-etl").action is Action.DENY
    assert decide_for(rules, Risk.WRITE, connection="staging", user="ci").action is Action.DENY
    assert decide_for(rules, Risk.WRITE, connection="staging", user="cid").action is Action.ALLOW
    # globs are case-sensitive and anchored
    assert decide_for(rules, Risk.WRITE, connection="PROD-pg").action is Action.ALLOW
    assert decide_for(rules, Risk.WRITE, connection="x-prod-pg").action is Action.ALLOW


def test_roles() -> None:
    rules = (
        Rule(risks=("ddl", "destructive"), roles=("dba", "sre"), action="allow"),
        *DEFAULT_RULES,
    )
    assert decide_for(rules, Risk.DDL, roles=("dev", "sre")).action is Action.ALLOW
    assert decide_for(rules, Risk.DDL, roles=("dev",)).action is Action.HOLD
    assert decide_for(rules, Risk.DDL, roles=()).action is Action.HOLD


def test_nothing_matches_is_a_denial() -> None:
    rules = (Rule(risks=("read",), connections=("pg-*",), action="allow"),)
    decision = decide_for(rules, Risk.WRITE)
    assert decision == Decision(
        Action.DENY, Risk.WRITE, None, None, "no rule allows write on pg-main"
    )
    elsewhere = decide_for(rules, Risk.READ, connection="mysql-main")
    assert elsewhere.reason == "no rule allows read on mysql-main"
    assert decide_for((), Risk.READ).action is Action.DENY


def test_unknown_needs_a_rule_that_names_it() -> None:
    allow_all_but_unknown = (
        Rule(risks=("read", "write", "ddl", "destructive", "admin"), action="allow"),
    )
    assert decide_for(allow_all_but_unknown, Risk.ADMIN).action is Action.ALLOW
    assert decide_for(allow_all_but_unknown, Risk.UNKNOWN).action is Action.DENY
    with_unknown = (*allow_all_but_unknown, Rule(risks=("unknown",), action="hold"))
    decision = decide_for(with_unknown, Risk.UNKNOWN)
    assert (decision.action, decision.rule_index) == (Action.HOLD, 1)


def test_explicit_deny_rule() -> None:
    rules = (
        Rule(risks=("admin", "unknown"), connections=("pg-main",), action="deny"),
        *DEFAULT_RULES,
    )
    decision = decide_for(rules, Risk.ADMIN)
    assert (decision.action, decision.rule_index) == (Action.DENY, 0)
    assert decision.reason == "admin on pg-main is denied by rule 1"
    assert decide_for(rules, Risk.ADMIN, connection="pg-other").action is Action.HOLD


def test_decision_is_frozen_and_hashable() -> None:
    decision = decide_for(DEFAULT_RULES, Risk.READ)
    assert hash(decision) == hash(decide_for(DEFAULT_RULES, Risk.READ))
    with pytest.raises(AttributeError):
        decision.action = Action.DENY  # type: ignore[misc]
    assert Action("hold") is Action.HOLD and Action.HOLD == "hold"
