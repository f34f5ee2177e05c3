"""Every agent command's success and error paths through typer's CliRunner, against a real
gateway: the exact line each error prints, its exit code, and that no traceback shows."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import trio

from iap import __version__
from tests.agent.conftest import PASSWORD, Cli, error_line

COMMANDS = [
    "login", "logout", "status", "ls", "connect", "psql", "mysql", "requests", "approve",
    "deny", "token", "classify", "gateway", "admin", "audit",
]  # fmt: skip
NOT_LOGGED_IN = "iap: not logged in: run `iap login`"


async def test_version_help_everywhere_and_completion(cli: Cli) -> None:
    version = await cli("--version")
    assert (version.exit_code, version.stdout) == (0, f"iap {__version__}\n")
    for command in COMMANDS:
        helped = await cli(command, "-h")
        assert helped.exit_code == 0, (command, helped.output)
        assert "Usage:" in helped.stdout
    completion = subprocess.run(
        [str(Path(sys.executable).with_name("iap"))],
        env={**os.environ, "_IAP_COMPLETE": "complete_bash", "COMP_WORDS": "iap requests "
             "--status p", "COMP_CWORD": "3"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert completion.stdout.split() == ["pending"], completion.stderr


async def test_login_status_ls_token_logout(cli: Cli) -> None:
    result = await cli.login()
    assert (result.exit_code, result.stdout) == (0, f"logged in to {cli.url} as alice\n")

    status = await cli("status")
    assert status.exit_code == 0, status.output
    lines = status.stdout.splitlines()
    assert lines[0] == "user:     alice (roles: dev)"
    assert lines[1] == f"gateway:  {cli.url}"
    assert lines[2].startswith("access:   token valid for ")
    assert lines[3].startswith("session:  ends ") and lines[3].endswith("then `iap login`")
    assert lines[4].startswith("mfa:      last code ")
    state = json.loads((cli.home / "agent.json").read_text())
    assert lines[5] == f"device:   {state['device_id']}"
    assert lines[6] == "address:  127.0.0.1 (as the gateway sees you)"
    assert lines[7] == f"tokens:   {cli.home / 'agent.json'}"
    as_json = json.loads((await cli("status", "--json")).stdout)
    assert as_json["user"] == "alice" and as_json["roles"] == ["dev"]
    assert as_json["gateway"] == cli.url and as_json["device_id"] == state["device_id"]
    assert as_json["source"] == "127.0.0.1"
    assert as_json["session_expires_at"] - as_json["access_expires_at"] > 11 * 3600

    listed = await cli("ls")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == [
        "NAME    KIND     DATABASE ALLOWED    HELD FOR APPROVAL",
        "pg-main postgres postgres read,write ddl,destructive,admin,unknown",
        "my-main mysql    shop     read,write ddl,destructive,admin,unknown",
    ]
    rows = json.loads((await cli("ls", "--json")).stdout)
    assert isinstance(rows, list)
    assert [(r["name"], r["kind"], r["database"]) for r in rows] == [
        ("pg-main", "postgres", "postgres"),
        ("my-main", "mysql", "shop"),
    ]

    token = await cli("token")
    assert token.exit_code == 0 and token.stdout.count(".") == 2

    out = await cli("logout")
    assert (out.exit_code, out.stdout) == (0, f"logged out of {cli.url}\n")
    again = await cli("logout")
    assert (again.exit_code, again.stdout) == (0, "not logged in\n")
    for command in (["status"], ["ls"], ["requests"], ["token"], ["connect", "pg-main"]):
        refused = await cli(*command)
        assert refused.exit_code == 4, command
        expected = f"iap: not logged in (last: alice at {cli.url}): run `iap login`"
        assert error_line(refused) == (expected if command == ["status"] else NOT_LOGGED_IN)


async def test_login_after_logout_with_a_pipe_reuses_the_gateway_and_never_prompts(
    cli: Cli,
) -> None:
    assert (await cli.login()).exit_code == 0
    assert (await cli("logout")).exit_code == 0
    code = cli.gateway.fresh_code("alice")
    piped = await cli("login", "--password-stdin", "--code", code, input=PASSWORD + "\n")
    assert "Gateway" not in piped.output and "User" not in piped.output
    assert (piped.exit_code, piped.stdout) == (0, f"logged in to {cli.url} as alice\n")


async def test_login_errors_are_one_line_and_come_before_any_prompt(
    cli: Cli, tmp_path: Path
) -> None:
    port = cli.gateway.running.api_url.rsplit(":", 1)[1]
    piped = {"input": PASSWORD + "\n"}
    cases: list[tuple[list[str], dict[str, str], int, str]] = [
        (
            ["--gateway", f"http://127.0.0.1:{port}"],
            {},
            2,
            f"iap: the gateway's API is HTTPS only: use --gateway https://127.0.0.1:{port}",
        ),
        (
            ["--gateway", "https://"],
            {},
            2,
            "iap: 'https://' is not a gateway URL: give --gateway https://HOST:PORT",
        ),
        (
            ["--password-stdin"],
            piped,
            2,
            "iap: gateway needed and standard input is taken by --password-stdin to ask for "
            "it: give --gateway https://HOST:PORT",
        ),
        (
            ["--gateway", cli.url, "--ca", str(tmp_path / "nope.pem")],
            {},
            2,
            f"iap: cannot read the CA file {tmp_path / 'nope.pem'} ([Errno 2] No such file or "
            "directory: '" + str(tmp_path / "nope.pem") + "'): give the gateway's ca.pem",
        ),
        (
            ["--gateway", "https://127.0.0.1:1", "--user", "alice"],
            {},
            3,
            "iap: cannot reach the gateway at https://127.0.0.1:1 (Connection refused): check "
            "the address and that the gateway is running",
        ),
        (
            ["--gateway", cli.url, "--ca", cli.ca],
            {},
            2,
            "iap: user needed and no terminal to ask for it: give --user NAME",
        ),
        (
            ["--gateway", cli.url, "--ca", cli.ca, "--user", "alice"],
            {},
            2,
            "iap: password needed and no terminal to ask for it: give --password-stdin",
        ),
        (
            ["--gateway", cli.url, "--ca", cli.ca, "--user", "alice", "--password-stdin"],
            piped,
            2,
            "iap: one-time code needed and standard input is taken by --password-stdin to ask "
            "for it: give --code CODE",
        ),
    ]
    for args, kwargs, code, line in cases:
        result = await cli("login", *args, **kwargs)
        assert (result.exit_code, error_line(result)) == (code, line), args
    assert not (cli.home / "agent.json").exists()

    # No --ca against the gateway's private CA: named before the password is read.
    untrusted = await cli("login", "--gateway", f"127.0.0.1:{port}", "--user", "alice")
    assert untrusted.exit_code == 3
    assert error_line(untrusted).startswith(
        f"iap: the gateway's certificate at https://127.0.0.1:{port} is not trusted ("
    )
    assert error_line(untrusted).endswith(
        "): pass --ca <data_dir>/tls/ca.pem to `iap login` (the CA the gateway made on its "
        "first start)"
    )
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello\n")
    bad_ca = await cli("login", "--gateway", cli.url, "--ca", str(not_pem))
    assert bad_ca.exit_code == 3
    assert error_line(bad_ca).startswith("iap: the CA is not a PEM certificate (")

    bad_password = await cli(
        "login", "--gateway", cli.url, "--ca", cli.ca, "--user", "alice", "--password-stdin",
        "--code", cli.gateway.fresh_code("alice"), input="wrong\n",
    )  # fmt: skip
    assert (bad_password.exit_code, error_line(bad_password)) == (
        1,
        "iap: login refused: wrong user name or password",
    )
    assert cli.gateway.services.store.auth_failures_since("alice", 0) == 1

    # A URL without a scheme gets https://.
    bare = await cli(
        "login", "--gateway", f"127.0.0.1:{port}", "--ca", cli.ca, "--user", "alice",
        "--password-stdin", "--code", cli.gateway.fresh_code("alice"), input=PASSWORD + "\n",
    )  # fmt: skip
    assert (bare.exit_code, bare.stdout) == (0, f"logged in to https://127.0.0.1:{port} as alice\n")


async def test_requests_statuses_and_json_errors(alice: Cli) -> None:
    listed = await alice("requests", "--json")
    assert (listed.exit_code, json.loads(listed.stdout)) == (0, [])
    plain = await alice("requests", "--status", "pending")
    assert (plain.exit_code, plain.stdout) == (0, "no requests\n")
    bogus = await alice("requests", "--status", "bogus")
    assert (bogus.exit_code, error_line(bogus)) == (
        2,
        "iap: --status 'bogus' is not a status: use one of pending, approved, denied, expired, "
        "abandoned, cancelled",
    )
    bogus_json = await alice("requests", "--status", "bogus", "--json")
    assert bogus_json.exit_code == 2 and bogus_json.stderr == ""
    assert json.loads(bogus_json.stdout)["error"] == "usage"

    missing = await alice("deny", "NOSUCH")
    assert (missing.exit_code, error_line(missing)) == (
        1,
        "iap: no request NOSUCH that you can see",
    )
    missing_json = await alice("deny", "NOSUCH", "--json")
    assert missing_json.exit_code == 1 and missing_json.stderr == ""
    assert json.loads(missing_json.stdout) == {
        "error": "not_found",
        "message": "no request NOSUCH that you can see",
    }
    approve_missing = await alice("approve", "NOSUCH", "--json")
    assert approve_missing.exit_code == 1
    assert json.loads(approve_missing.stdout)["error"] == "not_found"


async def test_connect_refuses_before_binding(alice: Cli) -> None:
    unknown = await alice("connect", "nope")
    assert (unknown.exit_code, error_line(unknown)) == (
        1,
        "iap: no connection named 'nope': `iap ls` lists yours",
    )
    twice = await alice("connect", "pg-main", "pg-main")
    assert (twice.exit_code, error_line(twice)) == (
        2,
        "iap: a connection is named twice: give each once",
    )
    two_ports = await alice("connect", "pg-main", "my-main", "--port", "7000")
    assert (two_ports.exit_code, error_line(two_ports)) == (
        2,
        "iap: --port takes one connection; with several, each gets a free port",
    )
    for extra in (["--port", "7000"], ["--tls"]):
        mixed = await alice("connect", "pg-main", "--socket", *extra)
        assert (mixed.exit_code, error_line(mixed)) == (
            2,
            "iap: --socket needs neither --port nor --tls: only you can reach the socket",
        )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = await alice("connect", "pg-main", "--port", str(port))
    assert (busy.exit_code, error_line(busy)) == (
        1,
        f"iap: port {port} on 127.0.0.1 is in use: choose another --port, or leave --port out "
        "to take a free one",
    )
    assert busy.stdout == ""  # nothing printed before every port was bound
    wrong_kind = await alice("psql", "my-main")
    assert (wrong_kind.exit_code, error_line(wrong_kind)) == (
        2,
        "iap: my-main is a mysql connection: use `iap mysql my-main`",
    )
    wrong_kind = await alice("mysql", "pg-main")
    assert error_line(wrong_kind) == "iap: pg-main is a postgres connection: use `iap psql pg-main`"


async def test_a_connection_whose_reads_are_denied_is_not_listed_nor_connected(
    tmp_path: Path, cli: Cli
) -> None:
    bob = Cli(tmp_path / "bob-home", cli.gateway)
    assert (await bob.login("bob")).exit_code == 0
    rows = json.loads((await bob("ls", "--json")).stdout)
    assert [r["name"] for r in rows] == ["pg-main"]
    refused = await bob("connect", "my-main")
    assert (refused.exit_code, error_line(refused)) == (
        1,
        "iap: the policy does not let bob read on my-main",
    )


async def test_debug_shows_the_traceback_instead(cli: Cli) -> None:
    from agent.errors import AgentError

    plain = await cli("requests")
    assert (plain.exit_code, error_line(plain)) == (4, NOT_LOGGED_IN)
    debug = await cli("--debug", "requests")
    assert isinstance(debug.exception, AgentError)


async def test_a_disabled_user_is_told_to_ask_an_administrator(alice: Cli) -> None:
    alice.gateway.services.store.set_user_disabled("alice", True)
    refused = await alice("requests")
    assert (refused.exit_code, error_line(refused)) == (
        4,
        "iap: user alice is disabled on the gateway: ask an administrator to enable it",
    )


async def test_a_wrong_stepup_code_is_not_a_token_problem(alice: Cli) -> None:
    """The API labels a wrong code as such (not `invalid_token`), so no client retries it."""
    state = json.loads((alice.home / "agent.json").read_text())

    def stepup() -> httpx.Response:
        with httpx.Client(verify=ssl.create_default_context(cafile=alice.ca)) as http:
            return http.post(
                f"{alice.url}/v1/stepup",
                json={"code": "000000"},
                headers={"Authorization": f"Bearer {state['access_token']}"},
            )

    response = await trio.to_thread.run_sync(stepup)
    assert response.status_code == 401
    assert response.json()["error"] in ("bad_code", "replayed_code")
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_user_authentication"' in challenge
    assert "invalid_token" not in challenge


@pytest.mark.parametrize("command", [["psql", "pg-main"], ["mysql", "my-main"]])
async def test_a_missing_client_program_is_named(
    alice: Cli, command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent / "no-such-dir"))
    result = await alice(*command)
    package = "PostgreSQL client (Debian: postgresql-client)"
    if command[0] == "mysql":
        package = "MariaDB client (Debian: mariadb-client)"
    program = "psql" if command[0] == "psql" else "mariadb or mysql"
    assert (result.exit_code, error_line(result)) == (
        1,
        f"iap: {program} is not installed: install the {package}",
    )


async def test_status_shows_what_it_knows_when_the_gateway_does_not_answer(alice: Cli) -> None:
    path = alice.home / "agent.json"
    state = json.loads(path.read_text())
    path.write_text(json.dumps({**state, "gateway": "https://127.0.0.1:1"}))
    result = await alice("status")
    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    assert lines[:2] == ["user:     alice (roles: unknown)", "gateway:  https://127.0.0.1:1"]
    assert lines[4] == "mfa:      unknown (the gateway did not answer)"
    assert error_line(result) == (
        "iap: cannot reach the gateway at https://127.0.0.1:1 (Connection refused): check the "
        "address and that the gateway is running"
    )
