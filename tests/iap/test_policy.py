"""Tests of iap.policy: first matching rule wins, defaults, globs, roles, fail closed, and
context rules that only tighten."""

from __future__ import annotations

import ipaddress

import pytest
from pydantic import ValidationError

from iap.classify.types import Risk
from iap.config import DEFAULT_RULES, GatewayConfig, Rule
from iap.context import Context
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


# -- context conditions: they only tighten --------------------------------------------------

OFFICE = Context(ipaddress.ip_address("10.1.2.3"), 0.0)
CAFE = Context(ipaddress.ip_address("203.0.113.9"), 0.0)
UNKNOWN = Context(None, 0.0)


def decide_in(rules: tuple[Rule, ...], risk: Risk, context: Context | None) -> Decision:
    return decide(
        rules + DEFAULT_RULES,
        user="alice",
        roles=("dev",),
        connection="pg-main",
        risk=risk,
        context=context,
    )


def test_a_context_rule_holds_writes_from_outside_the_office() -> None:
    rules = (Rule(risks=("write",), action="hold", not_sources=("10.0.0.0/8",)),)
    assert decide_in(rules, Risk.WRITE, OFFICE).action is Action.ALLOW
    outside = decide_in(rules, Risk.WRITE, CAFE)
    assert (outside.action, outside.rule_index) == (Action.HOLD, 0)
    assert outside.signals == ("source 203.0.113.9 outside 10.0.0.0/8",)
    assert outside.reason == (
        "write on pg-main needs approval by the requester (rule 1)"
        " (source 203.0.113.9 outside 10.0.0.0/8)"
    )
    # An address the gateway cannot read, or no context at all: the strict reading.
    unknown = decide_in(rules, Risk.WRITE, UNKNOWN)
    assert unknown.signals == ("source unknown (counted as outside 10.0.0.0/8)",)
    only = (Rule(risks=("write",), action="deny", sources=("10.0.0.0/8",)),)
    assert decide_in(only, Risk.WRITE, UNKNOWN).signals == (
        "source unknown (counted as in 10.0.0.0/8)",
    )
    assert decide_in(rules, Risk.WRITE, None).action is Action.HOLD


def test_a_context_rule_never_loosens() -> None:
    rules = (
        Rule(risks=("destructive",), action="hold", sources=("10.0.0.0/8",)),
        Rule(risks=("destructive",), action="deny"),
        Rule(risks=("write",), action="hold", approval="self", sources=("10.0.0.0/8",)),
        Rule(risks=("write",), action="hold", approval="peer"),
    )
    assert decide_in(rules, Risk.DESTRUCTIVE, OFFICE).rule is rules[1]  # deny stays deny
    held = decide_in(rules, Risk.WRITE, OFFICE)
    assert (held.rule_index, held.signals) == (3, ())  # peer beats self: the context one lost
    with pytest.raises(ValidationError, match="only tightens"):  # an allow could only loosen
        Rule(risks=("write",), action="allow", sources=("10.0.0.0/8",))


def test_stricter_holds_and_denials_win_over_the_base() -> None:
    base = Rule(risks=("ddl",), action="hold", approval="self", max_age=900.0)
    fresher = Rule(
        risks=("ddl",), action="hold", approval="self", max_age=0.0, hours="Mon-Sun 00:00-24:00"
    )
    peer = Rule(risks=("ddl",), action="hold", approval="peer", not_sources=("10.0.0.0/8",))
    deny = Rule(risks=("ddl",), action="deny", not_sources=("10.0.0.0/8",))
    assert decide_in((fresher, base), Risk.DDL, OFFICE).rule is fresher
    assert decide_in((peer, base), Risk.DDL, CAFE).rule is peer
    assert decide_in((peer, base), Risk.DDL, OFFICE).rule is base
    assert decide_in((deny, base), Risk.DDL, CAFE).action is Action.DENY
    # the strictest context rule that applies decides; a looser one before it hides nothing
    assert decide_in((peer, deny, base), Risk.DDL, CAFE).rule is deny
    loose = Rule(risks=("ddl",), action="hold", max_age=3600.0, sources=("203.0.113.0/24",))
    assert decide_in((loose, deny, base), Risk.DDL, CAFE).rule is deny
    assert decide_in((loose, base), Risk.DDL, CAFE).rule is base


def test_hours_read_the_context_time() -> None:
    monday_9_berlin = 1796630400.0  # 2026-12-07 08:00 UTC, 09:00 in Berlin
    rules = (Rule(risks=("write",), action="deny", not_hours="Mon-Fri 08:00-19:00 Europe/Berlin"),)
    at_work = Context(None, monday_9_berlin)
    at_night = Context(None, monday_9_berlin + 12 * 3600)
    assert decide_in(rules, Risk.WRITE, at_work).action is Action.ALLOW
    night = decide_in(rules, Risk.WRITE, at_night)
    assert night.action is Action.DENY
    assert night.signals == ("outside hours Mon-Fri 08:00-19:00 Europe/Berlin",)
    assert decide_in(rules, Risk.WRITE, None).action is Action.DENY  # unknown: strict


def test_context_rules_keep_the_other_conditions() -> None:
    rules = (
        Rule(risks=("write",), action="deny", users=("bob",), not_sources=("10.0.0.0/8",)),
        Rule(risks=("write",), action="deny", connections=("my-*",), hours="Mon-Sun 00:00-24:00"),
    )
    assert decide_in(rules, Risk.WRITE, CAFE).action is Action.ALLOW  # alice on pg-main
