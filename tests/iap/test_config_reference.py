"""docs/config.md is the reference of every config key: generated from the models, current,
listing each key of each section once and no key the models do not have."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from iap.cli.main import app
from iap.config import SECTIONS, GatewayConfig, config_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def documented_keys(text: str) -> dict[str, list[str]]:
    """Section title -> the keys in the first column of its table, in order."""
    found: dict[str, list[str]] = {}
    section = None
    for line in text.splitlines():
        heading = re.fullmatch(r"## `(\[\[?\w+\]\]?)`", line)
        if heading:
            section = heading.group(1)
            found[section] = []
            continue
        row = re.match(r"\| `(\w+)` \|", line)
        if row and section is not None:
            found[section].append(row.group(1))
    return found


def test_the_reference_is_current() -> None:
    assert DOC.read_text() == config_reference(), (
        "docs/config.md is stale: run `iap gateway config-reference > docs/config.md`"
    )


def test_every_key_of_the_models_is_documented_once_and_nothing_else() -> None:
    keys = documented_keys(DOC.read_text())
    expected = {title: list(model.model_fields) for title, model in SECTIONS}
    assert keys == expected
    # Every section of the file is covered: the top-level keys are the sections.
    assert {title.strip("[]") for title in expected} == set(GatewayConfig.model_fields)


def test_the_keys_operators_asked_about_are_there() -> None:
    keys = documented_keys(DOC.read_text())
    for section, key in [
        ("[gateway]", "access_token_ttl"),
        ("[gateway]", "refresh_token_ttl"),
        ("[gateway]", "log_level"),
        ("[gateway]", "max_unauthenticated"),
        ("[gateway]", "max_unauthenticated_per_source"),
        ("[gateway]", "shutdown_grace"),
        ("[[rules]]", "users"),
        ("[[rules]]", "roles"),
        ("[[rules]]", "min_approvals"),
        ("[policy]", "safe_functions"),
        ("[policy]", "max_statement_bytes"),
        ("[audit]", "durable_from"),
        ("[tls]", "cert"),
        ("[[connections]]", "password_file"),
    ]:
        assert key in keys[section], (section, key)


def test_the_cli_prints_the_reference() -> None:
    result = CliRunner().invoke(app, ["gateway", "config-reference"])
    assert result.exit_code == 0
    assert result.stdout == config_reference()
