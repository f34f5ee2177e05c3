"""The gateway config: defaults, durations, relative paths, and clear errors (no sockets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iap.config import DEFAULT_RULES, ConfigError, load_config, parse_duration


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0s", 0.0), ("90s", 90.0), ("5m", 300.0), ("1h", 3600.0), ("250ms", 0.25), (7, 7.0)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["5 minutes", "-1s", "", True, -3])
def test_bad_durations_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
[gateway]
data_dir = "state"
[tls]
cert = "certs/gw.pem"
key = "/etc/iap/gw.key"
[[connections]]
name = "pg"
address = "127.0.0.1:5432"
database = "app"
user = "app"
password_file = "secrets/pg"
tls = "verify-full"
tls_ca = "certs/db-ca.pem"
""",
        )
    )
    assert config.gateway.data_dir == tmp_path / "state"
    assert config.tls is not None
    assert config.tls.cert == tmp_path / "certs/gw.pem"
    assert config.tls.key == Path("/etc/iap/gw.key")
    assert config.connections[0].password_file == tmp_path / "secrets/pg"
    assert config.connections[0].tls_ca == tmp_path / "certs/db-ca.pem"


def test_defaults_follow_the_design(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ""))
    assert config.effective_rules == DEFAULT_RULES
    ddl = next(r for r in DEFAULT_RULES if "ddl" in r.risks)
    assert (ddl.action, ddl.approval, ddl.max_age, ddl.timeout) == ("hold", "self", 900.0, 300.0)
    risky = next(r for r in DEFAULT_RULES if "unknown" in r.risks)
    assert set(risky.risks) == {"destructive", "admin", "unknown"}
    assert (risky.action, risky.max_age) == ("hold", 0.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[gateway\n", "cannot read config"),
        ("[gateway]\napi = 'nohost'\n", "host:port"),
        ("[gateway]\ncolour = 'blue'\n", "colour"),
        (
            "[[rules]]\nrisks = ['nonsense']\naction = 'allow'\n",
            "risks",
        ),
        (
            "[[connections]]\nname='a'\naddress='h:1'\ndatabase='d'\nuser='u'\n"
            "[[connections]]\nname='a'\naddress='h:2'\ndatabase='d'\nuser='u'\n",
            "duplicate connection names: a",
        ),
        (
            "[[connections]]\nname='a'\naddress='/run/postgresql'\ndatabase='d'\nuser='u'\n"
            "tls = 'require'\n",
            "connection a: tls = 'require' needs a postgres or mysql connection over TCP",
        ),
        (
            "[[connections]]\nname='a'\naddress='h:1'\ndatabase='d'\nuser='u'\n"
            "tls = 'require'\ntls_ca = 'ca.pem'\n",
            "tls_ca is used only to verify",
        ),
        (
            "[[connections]]\nname='a'\naddress='h:1'\ndatabase='d'\nuser='u'\ntls = 'on'\n",
            "tls",
        ),
    ],
)
def test_invalid_configs_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, text))


def test_missing_file_and_missing_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    config = load_config(
        write(
            tmp_path,
            "[[connections]]\nname='pg'\naddress='h:1'\ndatabase='d'\nuser='u'\n"
            "password_env = 'IAP_TEST_UNSET_SECRET'\n",
        )
    )
    monkeypatch.delenv("IAP_TEST_UNSET_SECRET", raising=False)
    with pytest.raises(ConfigError, match="IAP_TEST_UNSET_SECRET is not set"):
        config.connections[0].password()


def test_a_direct_listener_on_a_mysql_connection_is_refused_with_the_reason(
    tmp_path: Path,
) -> None:
    text = """
[[connections]]
name = "my"
kind = "mysql"
address = "127.0.0.1:3306"
database = "app"
user = "app"
listen = "127.0.0.1:6033"
"""
    with pytest.raises(ConfigError, match="for postgres connections only; mysql clients connect"):
        load_config(write(tmp_path, text))
