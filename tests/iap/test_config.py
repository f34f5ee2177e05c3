"""The gateway config: defaults, durations, relative paths, clear errors (one line per problem
naming the file, section and key, no pydantic dumps), what a reload applies (no sockets)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iap.cli.main import app
from iap.config import (
    DEFAULT_RULES,
    ConfigError,
    check_secrets,
    for_reload,
    format_duration,
    load_config,
    parse_duration,
    require_connections,
    restart_needed,
)

CONNECTION = "[[connections]]\nname='pg'\naddress='h:1'\ndatabase='d'\nuser='u'\n"


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
    config = load_config(write(tmp_path, CONNECTION + "password_env = 'IAP_TEST_UNSET_SECRET'\n"))
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


def problems(tmp_path: Path, text: str) -> list[str]:
    """The lines of the ConfigError `text` gives, without the file name each begins with."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    lines = str(raised.value).splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines), lines
    return [line.removeprefix(f"{path}: ") for line in lines]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            CONNECTION.replace("address", "adress"),
            'unknown key "adress" in [[connections]] #1 (did you mean "address"?)',
        ),
        ("[gatway]\napi = 'h:1'\n", "unknown section [gatway] (did you mean [gateway]?)"),
        ("[[rule]]\naction = 'allow'\n", "unknown section [[rule]] (did you mean [[rules]]?)"),
        ("[gateway]\ncolour = 'blue'\n", 'unknown key "colour" in [gateway]'),
        ("colour = 'blue'\n", 'unknown key "colour" at the top level'),
        (
            "[[rules]]\nrisks = ['read']\naction = 'allow'\nmin_aprovals = 2\n",
            'unknown key "min_aprovals" in [[rules]] #1 (did you mean "min_approvals"?)',
        ),
        (
            "[audit]\ndurable = 'write'\n",
            'unknown key "durable" in [audit] (did you mean "durable_from"?)',
        ),
    ],
)
def test_an_unknown_key_is_one_error_with_the_closest_known_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert problems(tmp_path, text) == [expected]


def test_every_problem_is_one_line_naming_section_and_key_without_pydantic_noise(
    tmp_path: Path,
) -> None:
    text = (
        "[gateway]\napi = 'nohost'\ntunnel = 'h:70000'\nmax_unauthenticated = 'many'\n"
        "shutdown_grace = 'soon'\n"
        "[[connections]]\nname = 'a b'\naddress = 'h:0'\ndatabase = 'd'\nuser = 'u'\n"
        "tls = 'on'\n"
        "[[connections]]\nname = 'ok'\naddress = 'h:99999'\nuser = 'u'\n"
        "[[rules]]\nrisks = ['nonsense']\naction = 'allow'\nmin_approvals = 0\n"
    )
    assert problems(tmp_path, text) == [
        "[gateway] api: address must be host:port, got 'nohost'",
        "[gateway] tunnel: port 70000 is out of range (0-65535) in 'h:70000'",
        '[gateway] max_unauthenticated: "many": should be a valid integer, unable to parse'
        " string as an integer",
        "[gateway] shutdown_grace: not a duration: 'soon' (write e.g. '30s', '5m', '1h')",
        "[[connections]] #1 name: 'a b' is not a connection name: letters, digits and _ . -,"
        " starting with a letter or digit",
        "[[connections]] #1 address: port 0 is not a database's port in 'h:0' (1-65535)",
        "[[connections]] #1 tls: \"on\": expected 'disable', 'require', 'verify-ca' or"
        " 'verify-full'",
        "[[connections]] #2 address: port 99999 is out of range (0-65535) in 'h:99999'",
        '[[connections]] #2: missing key "database"',
        "[[rules]] #1 risks[1]: \"nonsense\": expected 'read', 'write', 'ddl', 'destructive',"
        " 'admin' or 'unknown'",
        "[[rules]] #1 min_approvals: 0: should be greater than or equal to 1",
    ]


def test_a_missing_section_key_and_a_table_where_a_list_belongs(tmp_path: Path) -> None:
    assert problems(tmp_path, "[tls]\ncert = 'c.pem'\n") == ['[tls]: missing key "key"']
    assert problems(tmp_path, "[[rules]]\naction = 'deny'\n") == [
        '[[rules]] #1: missing key "risks"'
    ]


def test_ports_in_range_and_port_zero_where_it_means_any(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            "[gateway]\napi = '127.0.0.1:0'\ntunnel = '[::1]:65535'\n"
            + CONNECTION.replace("h:1", "db.example:65535")
            + "listen = '0.0.0.0:0'\n",
        )
    )
    assert config.connections[0].address == "db.example:65535"


def test_a_gateway_needs_a_connection_and_its_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = write(tmp_path, "[gateway]\ndata_dir = 'data'\n")
    with pytest.raises(ConfigError) as raised:
        require_connections(load_config(empty), empty)
    assert str(raised.value) == (
        f"{empty}: no [[connections]]: the gateway would have nothing to serve; add one"
        " (docs/config.md lists its keys)"
    )
    monkeypatch.delenv("IAP_TEST_UNSET_SECRET", raising=False)
    text = CONNECTION + "password_env = 'IAP_TEST_UNSET_SECRET'\n"
    text += CONNECTION.replace("'pg'", "'pg2'") + "password_file = 'missing-secret'\n"
    config = load_config(write(tmp_path, text))
    require_connections(config, empty)
    with pytest.raises(ConfigError) as raised:
        check_secrets(config)
    assert str(raised.value).splitlines() == [
        "connection pg: environment variable IAP_TEST_UNSET_SECRET is not set (password_env):"
        " set it in the gateway's environment",
        f"connection pg2: cannot read password_file {tmp_path / 'missing-secret'}: no such file"
        " or directory",
    ]
    monkeypatch.setenv("IAP_TEST_UNSET_SECRET", "s3cret")
    (tmp_path / "missing-secret").write_text("other\n")
    check_secrets(config)
    assert [c.password() for c in config.connections] == ["s3cret", "other"]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("hours = 'Mon-Fri 8-19'", "[[rules]] #1 hours: '8' is not a time like '08:00'"),
        (
            "sources = ['10.1.2.3/8']",
            "[[rules]] #1 sources[1]: not a network: '10.1.2.3/8' (10.1.2.3/8 has host bits"
            " set; write e.g. '10.0.0.0/8')",
        ),
    ],
)
def test_gateway_check_prints_a_bad_context_condition_as_one_line(
    tmp_path: Path, condition: str, expected: str
) -> None:
    """What the operator sees (load_config's lines: test_context_conditions_are_checked_at_load)."""
    path = write(
        tmp_path, f"{CONNECTION}[[rules]]\nrisks = ['write']\naction = 'deny'\n{condition}\n"
    )
    checked = CliRunner().invoke(app, ["gateway", "check", "--config", str(path)])
    assert "Traceback" not in checked.stdout + checked.stderr
    assert (checked.exit_code, checked.stderr) == (2, f"iap: {path}: {expected}\n")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0, "0s"), (0.25, "250ms"), (10.0, "10s"), (90.0, "90s"), (600.0, "10m"),
     (43200.0, "12h"), (86400.0, "1d")],
)  # fmt: skip
def test_format_duration_is_exact_and_parses_back(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


def test_a_reload_applies_connections_rules_and_some_gateway_keys_only(tmp_path: Path) -> None:
    old = load_config(
        write(
            tmp_path,
            "[gateway]\napi = '127.0.0.1:8700'\naccess_token_ttl = '10m'\n"
            + CONNECTION
            + "listen = '127.0.0.1:6543'\n",
        )
    )
    os.remove(tmp_path / "gateway.toml")
    new = load_config(
        write(
            tmp_path,
            "[gateway]\napi = '127.0.0.1:9700'\naccess_token_ttl = '2m'\nlog_level = 'debug'\n"
            "[tls]\ncert = 'c.pem'\nkey = 'k.pem'\n"
            + CONNECTION.replace("h:1", "h:2")
            + CONNECTION.replace("'pg'", "'pg2'")
            + "listen = '127.0.0.1:6544'\n"
            "[[rules]]\nrisks = ['write']\naction = 'deny'\n",
        )
    )
    assert restart_needed(old, new) == [
        "gateway.api",
        "tls",
        "connections.pg.listen",
        "connections.pg2.listen",
    ]
    applied = for_reload(old, new)
    assert applied.gateway.api == "127.0.0.1:8700" and applied.tls is None
    assert (applied.gateway.access_token_ttl, applied.gateway.log_level) == (120.0, "debug")
    assert applied.connections == new.connections and applied.rules == new.rules
    assert restart_needed(old, for_reload(old, old)) == []


def test_the_readmes_config_examples_load(tmp_path: Path) -> None:
    """Every TOML block of README.md is a valid config, or valid rules for one."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in readme.split("```toml\n")[1:]]
    assert len(blocks) >= 2
    for block in blocks:
        text = block if "[gateway]" in block else f"[gateway]\n{CONNECTION}{block}"
        config = load_config(write(tmp_path, text))
        assert config.connections


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ('hours = "Mon-Fri 8-19"', "[[rules]] #1 hours: '8' is not a time like '08:00'"),
        (
            'not_hours = "Mon 08:00-09:00 Mars/Olympus"',
            "[[rules]] #1 not_hours: unknown time zone 'Mars/Olympus' (write e.g. 'Europe/Berlin')",
        ),
        (
            'sources = ["10.1.2.3/8"]',
            "[[rules]] #1 sources[1]: not a network: '10.1.2.3/8' (10.1.2.3/8 has host bits"
            " set; write e.g. '10.0.0.0/8')",
        ),
        ('not_sources = ["office"]', "[[rules]] #1 not_sources[1]: not a network: 'office'"),
        (
            'sources = ["10.0.0.0/8"]\naction = "allow"',
            '[[rules]] #1: a rule with context conditions only tightens: action = "allow" would'
            ' never apply (use "hold" or "deny", or drop the conditions)',
        ),
    ],
)
def test_context_conditions_are_checked_at_load(tmp_path: Path, rule: str, error: str) -> None:
    path = write(tmp_path, f"{CONNECTION}[[rules]]\nrisks=['write']\n{rule}\n")
    if "action" not in rule:
        path.write_text(path.read_text() + "action = 'hold'\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    (line,) = str(raised.value).splitlines()
    assert line.startswith(f"{path}: {error}")


def test_notify_checks_its_url_and_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, f'{CONNECTION}[notify]\nwebhook = "hooks.example.com/iap"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == (
        f"{path}: [notify] webhook: webhook must be an http:// or https:// URL, got"
        " 'hooks.example.com/iap'"
    )
    path = write(
        tmp_path,
        f'{CONNECTION}[notify]\nwebhook = "https://hooks.example.com/iap"\n'
        'secret_env = "IAP_TEST_NO_SUCH_SECRET"\n',
    )
    monkeypatch.delenv("IAP_TEST_NO_SUCH_SECRET", raising=False)
    with pytest.raises(ConfigError) as raised:
        check_secrets(load_config(path))
    assert str(raised.value) == (
        "[notify]: environment variable IAP_TEST_NO_SUCH_SECRET is not set (secret_env): set it"
        " in the gateway's environment"
    )
    (tmp_path / "hook.key").write_text("k\n")
    path.write_text(
        path.read_text().replace(
            'secret_env = "IAP_TEST_NO_SUCH_SECRET"', 'secret_file = "hook.key"'
        )
    )
    assert load_config(path).notify.secret() == "k"  # relative to the config's folder
