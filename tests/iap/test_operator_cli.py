"""The operator's commands through typer's CliRunner, on a real data dir (no gateway running
unless a test starts one): `gateway run|check`, `admin user ...`, `admin reload`, `audit`
filters, `demo --port`. Every error path asserts the exact line printed and that no traceback
is; `audit --follow` runs as a process (it stops on a real Ctrl-C)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import trio
from typer.testing import CliRunner

from iap.cli.main import app
from iap.config import load_config
from iap.gateway import open_identity, open_store, pid_file
from iap.identity import AuthError, verify_password
from iap.store.base import ApprovalRequest, AuditRecord, LiveSession
from tests.helpers import IAP, StreamReader

PASSWORD = "correct horse battery"
CONNECTION = """
[[connections]]
name = "pg-main"
address = "127.0.0.1:5432"
database = "postgres"
user = "postgres"
"""


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def error(self) -> str:
        """The one line an error printed, with no traceback anywhere."""
        assert "Traceback" not in self.out + self.err, self.err
        lines = self.err.splitlines()
        assert lines, (self.code, self.out)
        return lines[0]


def iap(*args: str, input: str | None = None) -> Ran:
    result = CliRunner().invoke(app, list(args), input=input)
    return Ran(result.exit_code, result.stdout, result.stderr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(
        f'[gateway]\ndata_dir = "data"\napi = "127.0.0.1:{free_port()}"\n'
        f'tunnel = "127.0.0.1:{free_port()}"\n{CONNECTION}'
    )
    return path


def add_user(config: Path, name: str, *roles: str) -> str:
    """`iap admin user add`; returns the TOTP secret of the URI it printed."""
    role_args = [a for r in roles for a in ("--role", r)]
    ran = iap(
        "admin", "user", "add", name, *role_args, "--config", str(config), "--password-stdin",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert ran.code == 0, ran.err
    uri = ran.out.splitlines()[0]
    assert uri.startswith("otpauth://totp/")
    return parse_qs(urlsplit(uri).query)["secret"][0]


@pytest.fixture
def store(config: Path) -> Iterator[object]:
    opened = open_store(load_config(config))
    try:
        yield opened
    finally:
        opened.close()


def listening(port: int) -> socket.socket:
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind(("127.0.0.1", port))
    taken.listen()
    return taken


def address_of(config: Path, key: str) -> str:
    return str(getattr(load_config(config).gateway, key))


# -- gateway run / check ----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["api", "tunnel"])
def test_gateway_run_on_a_port_in_use_says_which_and_what_to_do(config: Path, key: str) -> None:
    address = address_of(config, key)
    with listening(int(address.rsplit(":", 1)[1])):
        ran = iap("gateway", "run", "--config", str(config))
    assert ran.code == 1
    assert ran.error == (
        f"iap: cannot listen on {address} ([gateway] {key}): address already in use: stop what"
        f" listens there (another gateway?) or change [gateway] {key} in {config.resolve()}"
    )
    assert not pid_file(load_config(config), config.resolve()).exists()  # a failed start: none


def test_gateway_run_on_a_taken_direct_listener(config: Path) -> None:
    port = free_port()
    config.write_text(config.read_text() + f'listen = "127.0.0.1:{port}"\n')
    with listening(port):
        ran = iap("gateway", "run", "--config", str(config))
    assert ran.code == 1
    assert ran.error.startswith(
        f"iap: cannot listen on 127.0.0.1:{port} (listen of connection pg-main): address"
        " already in use"
    )


def test_gateway_run_names_a_missing_secret(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IAP_TEST_NO_SUCH_SECRET", raising=False)
    config.write_text(config.read_text() + 'password_env = "IAP_TEST_NO_SUCH_SECRET"\n')
    ran = iap("gateway", "run", "--config", str(config))
    assert (ran.code, ran.error) == (
        2,
        "iap: connection pg-main: environment variable IAP_TEST_NO_SUCH_SECRET is not set"
        " (password_env): set it in the gateway's environment",
    )
    config.write_text(config.read_text().replace("password_env", "#") + 'password_file = "s"\n')
    ran = iap("gateway", "check", "--config", str(config))
    assert (ran.code, ran.error) == (
        2,
        f"iap: connection pg-main: cannot read password_file {tmp_path / 's'}: no such file or"
        " directory",
    )


def test_gateway_run_refuses_a_config_without_connections_or_with_a_typo(config: Path) -> None:
    text = config.read_text()
    config.write_text(text.split("[[connections]]")[0])
    ran = iap("gateway", "run", "--config", str(config))
    assert (ran.code, ran.error) == (
        2,
        f"iap: {config}: no [[connections]]: the gateway would have nothing to serve; add one"
        " (docs/config.md lists its keys)",
    )
    config.write_text(text.replace("address", "adress"))
    ran = iap("gateway", "run", "--config", str(config))
    assert (ran.code, ran.err) == (
        2,
        f'iap: {config}: unknown key "adress" in [[connections]] #1 (did you mean "address"?)\n',
    )


def test_gateway_run_refuses_an_unknown_log_level(config: Path) -> None:
    ran = iap("gateway", "run", "--config", str(config), "--log-level", "loud")
    assert (ran.code, ran.error) == (2, "iap: --log-level is one of debug, info, warning, error")


def test_gateway_check_accepts_a_good_config(config: Path) -> None:
    ran = iap("gateway", "check", "--config", str(config))
    assert (ran.code, ran.out) == (0, f"{config}: ok: 1 connections, 0 rules\n")


@pytest.fixture
def lookalike() -> Iterator[subprocess.Popen[bytes]]:
    """A live process whose command line reads like `iap gateway run` (ignores SIGHUP)."""
    code = "import signal, time; signal.signal(signal.SIGHUP, signal.SIG_IGN); time.sleep(60)"
    process = subprocess.Popen([sys.executable, "-c", code, "gateway", "run"])
    try:
        yield process
    finally:
        process.kill()
        process.wait()


def test_a_second_gateway_from_one_config_is_refused_by_name(
    config: Path, lookalike: subprocess.Popen[bytes]
) -> None:
    cfg = load_config(config)
    pid_file(cfg, config.resolve()).parent.mkdir(parents=True)
    pid_file(cfg, config.resolve()).write_text(f"{lookalike.pid}\n")
    ran = iap("gateway", "run", "--config", str(config))
    assert (ran.code, ran.error) == (
        1,
        f"iap: a gateway is already running from {config.resolve()} (pid {lookalike.pid}):"
        f" stop it first, or apply a changed config with"
        f" `iap admin reload --config {config.resolve()}`",
    )


# -- admin sessions (tests/e2e/test_operator_sessions.py kills one in a running gateway) -------


def test_sessions_lists_live_rows_and_forgets_those_of_gateways_gone(config: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    mine = LiveSession("ab12cd34ef56ab78", os.getpid(), "alice", "pg-main", "postgres",
                       "127.0.0.1:40000", 1_700_000_000.0)  # fmt: skip
    with closing(open_store(load_config(config))) as store:
        assert iap("admin", "sessions", "--config", str(config)).out == "no live sessions\n"
        store.put_session(mine)
        store.put_session(replace(mine, id="ab12ffff00000000", gateway_pid=int(dead.stdout)))
        ran = iap("admin", "sessions", "--json", "--config", str(config))
        assert ran.code == 0, ran.err
        (listed,) = json.loads(ran.out)
        assert listed == {
            "id": mine.id, "user": "alice", "connection": "pg-main", "kind": "postgres",
            "client_address": "127.0.0.1:40000", "started_at": 1_700_000_000.0,
            "gateway_pid": os.getpid(), "held_request": None, "ending": None,
        }  # fmt: skip
        assert store.list_sessions() == [mine]  # the dead gateway's row is gone

        # kill marks the row; with no gateway here to end it, the command says so.
        ran = iap("admin", "sessions", "kill", "nosuch", "--config", str(config))
        assert (ran.code, ran.error) == (
            1,
            "iap: no live session matches 'nosuch': `iap admin sessions` lists them",
        )
        store.put_session(replace(mine, id="ab12eeee00000000"))
        ran = iap("admin", "sessions", "kill", "ab12", "--config", str(config))
        assert (ran.code, ran.error) == (
            1,
            "iap: more than one live session matches 'ab12': `iap admin sessions` lists them",
        )
        store.delete_session("ab12eeee00000000")
        store.end_session(mine.id, "ended by operator x")
        ran = iap("admin", "sessions", "kill", "ab12", "--config", str(config))
        assert (ran.code, ran.error) == (1, f"iap: session {mine.id} is ending already")


# -- admin reload (errors; tests/e2e/test_operator_reload.py reloads a running gateway) -------


def test_reload_without_a_running_gateway(config: Path) -> None:
    cfg = load_config(config)
    expected = (
        f"iap: no running gateway for {config} (no live pid in"
        f" {pid_file(cfg, config.resolve())}): start it with `iap gateway run --config {config}`"
    )
    ran = iap("admin", "reload", "--config", str(config))
    assert (ran.code, ran.error) == (1, expected)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid_file(cfg, config.resolve()).parent.mkdir(parents=True)
    pid_file(cfg, config.resolve()).write_text(dead.stdout)  # a stale pid file
    ran = iap("admin", "reload", "--config", str(config))
    assert (ran.code, ran.error) == (1, expected)


def test_reload_checks_the_file_before_signalling(
    config: Path, lookalike: subprocess.Popen[bytes]
) -> None:
    cfg = load_config(config)
    pid_file(cfg, config.resolve()).parent.mkdir(parents=True)
    pid_file(cfg, config.resolve()).write_text(f"{lookalike.pid}\n")
    config.write_text(config.read_text() + "[[rules]]\nrisks = ['write']\naction = 'dney'\n")
    ran = iap("admin", "reload", "--config", str(config))
    assert (ran.code, ran.error) == (
        2,
        f"iap: {config}: [[rules]] #1 action: \"dney\": expected 'allow', 'hold' or 'deny'",
    )
    assert lookalike.poll() is None


# -- admin user ------------------------------------------------------------------------------


def test_user_list_shows_roles_state_and_last_login_as_text_and_json(config: Path) -> None:
    assert iap("admin", "user", "list", "--config", str(config)).out == (
        "no users: add one with `iap admin user add NAME --role ROLE`\n"
    )
    assert json.loads(iap("admin", "user", "list", "--json", "--config", str(config)).out) == []
    secret = add_user(config, "alice", "dev", "dba")
    add_user(config, "bob")
    cfg = load_config(config)
    store = open_store(cfg)
    try:
        open_identity(cfg, store, time.time).login(
            "alice", PASSWORD, pyotp.TOTP(secret).now(), "device-1"
        )
        store.set_user_disabled("bob", True)
    finally:
        store.close()
    ran = iap("admin", "user", "list", "--config", str(config))
    lines = ran.out.splitlines()
    assert lines[0].split() == ["NAME", "ROLES", "STATE", "CREATED", "LAST", "LOGIN"]
    assert lines[1].split()[:3] == ["alice", "dev,dba", "enabled"]
    assert len(lines[1].split()) == 7  # created and last login: date and time each
    assert lines[2].split()[:3] == ["bob", "-", "disabled"] and lines[2].endswith(" -")
    rows = json.loads(iap("admin", "user", "list", "--json", "--config", str(config)).out)
    assert [(r["name"], r["roles"], r["disabled"]) for r in rows] == [
        ("alice", ["dev", "dba"], False),
        ("bob", [], True),
    ]
    assert abs(rows[0]["last_login"] - time.time()) < 600 and rows[1]["last_login"] is None


def test_reset_password_unlocks_and_revokes_tokens(config: Path, store: object) -> None:
    add_user(config, "alice", "dev")
    cfg = load_config(config)
    for _ in range(6):
        store.record_auth_failure("alice", time.time())  # type: ignore[attr-defined]
    ran = iap(
        "admin", "user", "reset-password", "alice", "--config", str(config), "--password-stdin",
        input="a new long password\n",
    )  # fmt: skip
    assert (ran.code, ran.out) == (
        0,
        "password of alice reset: tokens revoked, the user logs in again\n",
    )
    user = store.get_user("alice")  # type: ignore[attr-defined]
    assert verify_password("a new long password", user.password_hash)
    assert store.auth_failures_since("alice", 0) == 0  # type: ignore[attr-defined]
    short = iap(
        "admin", "user", "reset-password", "alice", "--config", str(config), "--password-stdin",
        input="short\n",
    )  # fmt: skip
    assert (short.code, short.error) == (2, "iap: the password must have at least 8 characters")
    assert cfg.gateway.data_dir.exists()


def test_reset_totp_prints_a_new_uri_and_only_its_codes_work(config: Path) -> None:
    old = add_user(config, "alice", "dev")
    ran = iap("admin", "user", "reset-totp", "alice", "--config", str(config))
    assert ran.code == 0
    assert ran.err == "new TOTP secret for alice: tokens revoked, the user logs in again\n"
    uri = ran.out.strip()
    assert uri.startswith("otpauth://totp/iap:alice?")
    new = parse_qs(urlsplit(uri).query)["secret"][0]
    assert new != old
    cfg = load_config(config)
    store = open_store(cfg)
    try:
        identity = open_identity(cfg, store, time.time)
        with pytest.raises(AuthError, match="wrong one-time code"):
            identity.login("alice", PASSWORD, pyotp.TOTP(old).now(), "d")
        identity.login("alice", PASSWORD, pyotp.TOTP(new).now(), "d")  # no step spent yet
    finally:
        store.close()


def test_set_roles_replaces_them_and_warns_when_a_peer_rule_loses_its_approvers(
    config: Path, store: object
) -> None:
    config.write_text(
        config.read_text() + "[[rules]]\nrisks = ['ddl']\naction = 'hold'\napproval = 'peer'\n"
        "approver_roles = ['dba']\n"
    )
    add_user(config, "alice", "dev")
    add_user(config, "bob", "dba")
    ran = iap("admin", "user", "set-roles", "alice", "--role", "dba", "--role", "dev",
              "--config", str(config))  # fmt: skip
    assert (ran.code, ran.out, ran.err) == (0, "roles of alice: dba, dev\n", "")
    assert store.get_user("alice").roles == ("dba", "dev")  # type: ignore[attr-defined]
    ran = iap("admin", "user", "set-roles", "bob", "--no-roles", "--config", str(config))
    assert (ran.code, ran.out, ran.err) == (0, "roles of bob: (none)\n", "")
    ran = iap("admin", "user", "delete", "alice", "--config", str(config))
    assert ran.code == 0
    assert ran.out == "user alice deleted: running sessions end within seconds\n"
    assert ran.err == (
        "warning: [[rules]] #1 needs 1 approver(s) with role dba; enabled users with it: none\n"
    )
    assert store.get_user("alice") is None  # type: ignore[attr-defined]
    neither = iap("admin", "user", "set-roles", "bob", "--config", str(config))
    both = iap("admin", "user", "set-roles", "bob", "--role", "x", "--no-roles",
               "--config", str(config))  # fmt: skip
    for ran in (neither, both):
        assert (ran.code, ran.error) == (
            2,
            "iap: give the new roles with --role ROLE (repeat), or --no-roles",
        )


def test_delete_ends_the_users_tokens_and_history(config: Path, store: object) -> None:
    secret = add_user(config, "alice", "dev")
    cfg = load_config(config)
    pair = open_identity(cfg, store, time.time).login(  # type: ignore[arg-type]
        "alice", PASSWORD, pyotp.TOTP(secret).now(), "d"
    )
    assert iap("admin", "user", "delete", "alice", "--config", str(config)).code == 0
    with pytest.raises(AuthError):
        open_identity(cfg, store, time.time).refresh(pair.refresh_token, "d")  # type: ignore[arg-type]
    assert store.last_mfa_event("alice") is None  # type: ignore[attr-defined]
    add_user(config, "alice", "dev")  # the name can be used again


@pytest.mark.parametrize(
    "command",
    [
        ["delete"],
        ["disable"],
        ["enable"],
        ["reset-totp"],
        ["set-roles", "--role", "dev"],
    ],
)
def test_commands_on_an_unknown_user(config: Path, command: list[str]) -> None:
    ran = iap("admin", "user", command[0], "nobody", *command[1:], "--config", str(config))
    assert (ran.code, ran.error) == (
        1,
        "iap: no user named 'nobody': `iap admin user list` shows them",
    )


def test_reset_password_of_an_unknown_user(config: Path) -> None:
    ran = iap("admin", "user", "reset-password", "nobody", "--config", str(config),
              "--password-stdin", input=PASSWORD + "\n")  # fmt: skip
    assert (ran.code, ran.error) == (
        1,
        "iap: no user named 'nobody': `iap admin user list` shows them",
    )


def test_add_errors_are_one_line(config: Path) -> None:
    add_user(config, "alice")
    again = iap("admin", "user", "add", "alice", "--config", str(config), "--password-stdin",
                input=PASSWORD + "\n")  # fmt: skip
    assert (again.code, again.error) == (1, "iap: user 'alice' exists")
    bad = iap("admin", "user", "add", "no body", "--config", str(config), "--password-stdin",
              input=PASSWORD + "\n")  # fmt: skip
    assert (bad.code, bad.error) == (
        1,
        "iap: a user name is 1-64 letters, digits and _ . @ -, starting with a letter or digit",
    )


def test_operator_commands_without_a_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IAP_CONFIG", raising=False)
    for command in (["admin", "user", "list"], ["admin", "reload"], ["gateway", "run"],
                    ["gateway", "check"], ["audit"]):  # fmt: skip
        ran = iap(*command)
        assert (ran.code, ran.error) == (
            2,
            "iap: no gateway config: pass --config FILE or set IAP_CONFIG",
        ), command


# -- audit -----------------------------------------------------------------------------------


@pytest.fixture
def audit_rows(config: Path, store: object) -> list[AuditRecord]:
    now = time.time()
    request = ApprovalRequest(
        id="K7Q2XD", status="pending", user="alice", connection="pg-main", session_id="s1",
        risk="destructive", sql="DROP TABLE t", statement_hash="0" * 64, reasons=(),
        created_at=now - 60, expires_at=now + 240, approval="peer", min_approvals=2,
    )  # fmt: skip
    store.create_request(request)  # type: ignore[attr-defined]
    store.add_approval("K7Q2XD", "bob")  # type: ignore[attr-defined]
    store.add_approval("K7Q2XD", "carol")  # type: ignore[attr-defined]
    store.transition_request("K7Q2XD", "approved", decided_by="carol", ts=now)  # type: ignore[attr-defined]
    rows = [
        AuditRecord(ts=1000.0, user="alice", connection="pg-main", risk="read",
                    decision="allow", sql="SELECT 1", rows=1),
        AuditRecord(ts=1001.0, user="bob", connection="my-main", risk="write",
                    decision="deny", outcome="blocked", error="write on my-main is denied",
                    sql="UPDATE t SET a = 1"),
        AuditRecord(ts=now - 30, user="alice", connection="pg-main", risk="destructive",
                    decision="hold", request_id="K7Q2XD", outcome="pending",
                    sql="DROP TABLE t"),
        AuditRecord(ts=now, user="alice", connection="pg-main", risk="destructive",
                    decision="approved", request_id="K7Q2XD", sql="DROP TABLE t"),
    ]  # fmt: skip
    return [store.append_audit(r) for r in rows]  # type: ignore[attr-defined]


def seqs(config: Path, *args: str) -> list[int]:
    ran = iap("audit", "--json", *args, "--config", str(config))
    assert ran.code == 0, ran.err
    rows = json.loads(ran.out)
    assert isinstance(rows, list)
    return [r["seq"] for r in rows]


def test_audit_filters(config: Path, audit_rows: list[AuditRecord]) -> None:
    assert seqs(config) == [1, 2, 3, 4]
    assert seqs(config, "--user", "alice") == [1, 3, 4]
    assert seqs(config, "--user", "alice", "--user", "bob") == [1, 2, 3, 4]
    assert seqs(config, "--connection", "my-main") == [2]
    assert seqs(config, "--decision", "approved", "--decision", "deny") == [2, 4]
    assert seqs(config, "--since", "1h") == [3, 4]
    assert seqs(config, "--since", dt.datetime.fromtimestamp(1000.5).isoformat()) == [2, 3, 4]
    assert seqs(config, "--user", "nobody") == []
    assert iap("audit", "--json", "--user", "nobody", "--config", str(config)).out == "[]\n"


def test_audit_json_rows_keep_the_contract_and_say_who_approved(
    config: Path, audit_rows: list[AuditRecord]
) -> None:
    rows = json.loads(iap("audit", "--json", "--config", str(config)).out)
    contract = {"seq", "ts", "user", "connection", "risk", "decision", "request_id", "outcome",
                "rows", "error", "duration_ms", "sql"}  # fmt: skip
    assert all(contract <= set(r) for r in rows)
    assert [r["approved_by"] for r in rows] == [None, None, None, ["bob", "carol"]]


def test_audit_text_has_the_error_and_the_approvers(
    config: Path, audit_rows: list[AuditRecord]
) -> None:
    lines = iap("audit", "--config", str(config)).out.splitlines()
    assert len(lines) == 4  # no legend when not on a terminal
    assert lines[0].split(" ")[2:] == ["alice", "pg-main", "read", "allow", "ok", "rows=1",
                                       "SELECT", "1"]  # fmt: skip
    assert lines[1].endswith(
        ' bob my-main write deny blocked error="write on my-main is denied" UPDATE t SET a = 1'
    )
    assert lines[3].endswith(
        " alice pg-main destructive approved ok request=K7Q2XD by=bob,carol DROP TABLE t"
    )


def test_audit_refuses_an_unknown_decision_and_a_bad_since(config: Path) -> None:
    ran = iap("audit", "--decision", "allowed", "--config", str(config))
    assert (ran.code, ran.error) == (
        2,
        "iap: no audit decision 'allowed': one of allow, grace, deny, hold, approved, denied,"
        " expired, abandoned, cancelled, killed, login, stepup, listener",
    )
    ran = iap("audit", "--since", "yesterday", "--config", str(config))
    assert (ran.code, ran.error) == (
        2,
        "iap: --since takes a duration (1h) or a time (2026-11-23T10:00): yesterday",
    )


async def test_audit_follow_prints_rows_as_they_come_and_stops_quietly_on_ctrl_c(
    config: Path, audit_rows: list[AuditRecord], store: object
) -> None:
    follow = await trio.lowlevel.open_process(
        [*IAP, "audit", "--follow", "--json", "--user", "alice", "--since", "1h",
         "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert follow.stdout is not None and follow.stderr is not None
    out = StreamReader(follow.stdout)
    try:
        await out.wait_for(r'"seq": 4[,}].*\n', timeout=30)  # the rows since 1h: seq 3 and 4
        store.append_audit(AuditRecord(ts=time.time(), user="bob", decision="login"))  # type: ignore[attr-defined]
        store.append_audit(  # type: ignore[attr-defined]
            AuditRecord(ts=time.time(), user="alice", decision="allow", sql="SELECT 'new'")
        )
        await out.wait_for(r'"seq": 6[,}].*\n', timeout=30)
    finally:
        follow.send_signal(signal.SIGINT)
        with trio.fail_after(30):
            code = await follow.wait()
    errors = (await follow.stderr.receive_some(65536)).decode()
    assert (code, errors) == (0, "")
    rows = [json.loads(line) for line in out.text.splitlines()]  # JSON lines while following
    assert [r["seq"] for r in rows] == [3, 4, 6]
    assert rows[-1]["sql"] == "SELECT 'new'"


# -- demo ------------------------------------------------------------------------------------


def test_demo_on_a_port_in_use_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    port = free_port()
    with listening(port):
        ran = iap("demo", "--data", str(tmp_path / "demo"), "--port", str(port))
    assert (ran.code, ran.error) == (
        1,
        f"iap: port {port} on 127.0.0.1 is in use: choose another with `iap demo --port N`"
        " (`make demo PORT=N`), or 0 for a free one",
    )
    assert not (tmp_path / "demo").exists()


# -- policy explain ----------------------------------------------------------------------------

CONTEXT_RULES = """
[[rules]]
risks = ["write"]
action = "hold"
not_sources = ["10.0.0.0/8"]

[[rules]]
risks = ["destructive"]
action = "deny"
not_hours = "Mon-Fri 07:00-20:00 Europe/Berlin"
"""


def test_policy_explain_dry_runs_the_rules_in_a_context(config: Path) -> None:
    config.write_text(config.read_text() + CONTEXT_RULES)
    add_user(config, "alice", "dev")
    sql = "UPDATE t SET a = 1 WHERE id = 1; DELETE FROM t; SELECT 1"
    saturday_night = "2026-12-05T23:10+01:00"
    ran = iap("policy", "explain", sql, "--user", "alice", "--connection", "pg-main",
              "--from", "203.0.113.9", "--at", saturday_night, "--config", str(config))  # fmt: skip
    assert (ran.code, ran.out.splitlines()) == (
        0,
        [
            "1: write: hold (write on pg-main needs approval by the requester (rule 1) (source"
            " 203.0.113.9 outside 10.0.0.0/8))",
            "  UPDATE on t",
            "2: destructive: deny (destructive on pg-main is denied by rule 2 (outside hours"
            " Mon-Fri 07:00-20:00 Europe/Berlin))",
            "  DELETE without WHERE on t",
            "3: read: allow (read on pg-main is allowed by the default rule)",
        ],
    )
    monday_office = ["--from", "10.1.2.3", "--at", "2026-12-07T10:00+01:00"]
    ran = iap("policy", "explain", sql, "--user", "alice", "--connection", "pg-main",
              *monday_office, "--json", "--config", str(config))  # fmt: skip
    rows = json.loads(ran.out)
    assert [(r["risk"], r["action"], r["rule"], r["signals"]) for r in rows] == [
        ("write", "allow", "default", []),
        ("destructive", "hold", "default", []),
        ("read", "allow", "default", []),
    ]
    # No address: unknown meets every condition, as in the gateway.
    ran = iap("policy", "explain", "INSERT INTO t VALUES (1)", "--user", "alice",
              "--connection", "pg-main", "--json", "--config", str(config))  # fmt: skip
    assert json.loads(ran.out)[0]["signals"] == ["source unknown (counted as outside 10.0.0.0/8)"]


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (["--user", "bob"], 1, "iap: no user named 'bob': `iap admin user list` shows them"),
        (["--connection", "nope"], 1, "iap: no connection named 'nope' (the config has: pg-main)"),
        (["--from", "office"], 2, "iap: --from 'office' is not an IP address"),
        (
            ["--at", "2026-12-05 23:10"],
            2,
            "iap: --at '2026-12-05 23:10': give an ISO time with its offset, like"
            " 2026-12-05T23:10+01:00",
        ),
    ],
)
def test_policy_explain_errors(config: Path, args: list[str], code: int, error: str) -> None:
    add_user(config, "alice", "dev")
    base = {"--user": "alice", "--connection": "pg-main"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [part for pair in base.items() for part in pair]
    ran = iap("policy", "explain", "SELECT 1", *flat, "--config", str(config))
    assert (ran.code, ran.error) == (code, error)
