"""`[audit] durable_from`: which statements wait for a durable audit row."""

from __future__ import annotations

from pathlib import Path

import pytest

from iap.config import ConfigError, load_config


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return path


def test_no_statement_waits_by_default(tmp_path: Path) -> None:
    audit = load_config(config(tmp_path, "")).audit
    assert audit.durable_from is None
    assert not any(audit.durable(r) for r in ("read", "write", "admin", "unknown"))


def test_durable_from_write_covers_write_and_above(tmp_path: Path) -> None:
    audit = load_config(config(tmp_path, '[audit]\ndurable_from = "write"\n')).audit
    assert [audit.durable(r) for r in ("read", "write", "ddl", "destructive", "admin")] == [
        False, True, True, True, True,
    ]  # fmt: skip
    assert audit.durable("unknown")  # ranks with admin
    assert not audit.durable("")  # a login row has no class


@pytest.mark.parametrize("value", ['"unknown"', '"sometimes"', "1"])
def test_other_values_are_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="durable_from"):
        load_config(config(tmp_path, f"[audit]\ndurable_from = {value}\n"))
