"""`iap run NAME (-f FILE | --restore ARCHIVE) --reason TEXT [--code CODE] [--json]`: a
reviewed one-shot run of a script or a dump, with one approval for all its statements.

The gateway splits the script as the client will send it, classifies every statement up front
and opens one approval request for the run (`POST /v1/runs`): the approver sees the whole
script once. `iap run` shows the request and how to approve it (with `--code`, when the rule
lets the requester approve, it approves it at once), and waits for the decision
(`GET /v1/runs/ID?wait=...`; Ctrl-C withdraws it). Once approved, the client runs against a
port that takes one connection, whose tunnel names the run: the script's statements pass
without another prompt, anything else is decided as usual. The client is psql
(`-X -v ON_ERROR_STOP=1 -f`) or the mariadb CLI reading the file; it runs on a private copy of
exactly the bytes the gateway classified, and `iap run` exits with its exit code.
`--restore ARCHIVE` first turns a pg_dump archive into SQL with `pg_restore -f -` (no server
needed). With `--json`, the client's output goes to stderr and stdout gets
`{"run", "status", "statements", "exit"}`.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import trio

from agent.client import GatewayClient
from agent.commands.connect import connection_info
from agent.errors import EXIT_REFUSED, AgentError, usage
from agent.launch import _pass_signals, find_program
from agent.output import emit_json, warn
from agent.state import locked
from agent.tunnel import Tunnel, private_socket, serve_once, watch_sessions

WAIT = 20.0  # seconds each GET /v1/runs/ID waits for the decision
CLIENTS = {
    "postgres": (("psql",), "the PostgreSQL client (Debian: postgresql-client)"),
    "mysql": (("mariadb", "mysql"), "the MariaDB client (Debian: mariadb-client)"),
}


def run(
    name: str,
    *,
    file: Path | None,
    restore: Path | None,
    reason: str,
    code: str | None,
    as_json: bool,
) -> int:
    if (file is None) == (restore is None):
        raise usage("give the script with -f FILE, or a pg_dump archive with --restore ARCHIVE")
    digits = (code or "").replace(" ", "")
    if code is not None and not (len(digits) == 6 and digits.isascii() and digits.isdigit()):
        raise usage("--code takes the 6 digits your authenticator app shows")
    if not reason.strip():
        raise usage("--reason takes a few words for the approver: why this run")
    client = GatewayClient.from_state()
    info = connection_info(client, name)
    kind = str(info["kind"])
    if kind not in CLIENTS:
        raise usage(f"{name} is a {kind} connection: iap run runs PostgreSQL and MySQL scripts")
    if restore is not None and kind != "postgres":
        raise usage(f"--restore takes a pg_dump archive, and {name} is {kind}: use -f FILE")
    program = find_program(*CLIENTS[kind])
    script = _pg_restore_sql(restore) if restore is not None else _read(file)
    answer = _create(client, name, script, reason)
    if answer["id"] is None:
        warn(f"iap: nothing in the script needs approval on {name}: running it")
    else:
        answer = _approved(client, answer, digits or None)
    with tempfile.TemporaryDirectory(prefix="iap-run-") as folder:
        copy = Path(folder) / "script.sql"
        copy.write_bytes(script)  # the client reads exactly what the gateway classified
        assert client.state is not None
        tunnel = Tunnel.for_connection(client, info, report=False)  # the client shows why
        tunnel.run = answer["id"]
        command = _command(kind, program, client.state.user, str(info["database"]), copy)
        stdin = copy if kind == "mysql" else None
        exit_code = trio.run(_serve_and_run, client, tunnel, command, stdin, as_json)
    if as_json:
        emit_json(
            {
                "run": answer["id"],
                "status": answer["status"],
                "statements": answer["statements"],
                "exit": exit_code,
            }
        )
    elif exit_code:
        warn(f"iap: {Path(program).name} exited with {exit_code}")
    return exit_code


def _read(file: Path | None) -> bytes:
    assert file is not None
    try:
        return file.read_bytes()
    except OSError as e:
        raise usage(f"cannot read {file} ({e.strerror or e}): give an SQL script") from None


def _pg_restore_sql(archive: Path) -> bytes:
    """The archive as the SQL script pg_restore would run (read locally, no server)."""
    program = find_program(("pg_restore",), "the PostgreSQL client (Debian: postgresql-client)")
    done = subprocess.run([program, "-f", "-", str(archive)], capture_output=True, check=False)
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        detail = why[0].removeprefix("pg_restore: ") if why else f"exit {done.returncode}"
        raise usage(f"pg_restore cannot read {archive} ({detail}): give a pg_dump archive")
    return done.stdout


def _create(client: GatewayClient, name: str, script: bytes, reason: str) -> dict[str, Any]:
    """POST /v1/runs. The script goes as text; bytes that are not UTF-8 travel as lone
    surrogates (JSON's \\udcXX escapes), as the gateway's engines read them."""
    text = script.decode("utf-8", "surrogateescape")
    body = {"connection": name, "script": text, "reason": reason}
    response = client.call(
        "POST",
        "/v1/runs",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        timeout=httpx.Timeout(120.0, connect=5.0),  # a large dump takes a while to classify
    )
    answer: dict[str, Any] = response.json()
    return answer


def _approved(client: GatewayClient, run: dict[str, Any], code: str | None) -> dict[str, Any]:
    """Show the run's request, approve it with the code when the requester may, and wait for
    the decision; AgentError unless it is approved. A run left behind (Ctrl-C, a wrong code)
    is withdrawn: nobody would run it."""
    rid = run["id"]
    counts = ", ".join(f"{n} {risk}" for risk, n in reversed(run["counts"].items()))
    warn(f"iap: run {rid}: {run['statements']} statements ({counts}), highest {run['risk']}")
    try:
        if run["approval"] == "self" and code is not None:
            step = client.call("POST", "/v1/stepup", json={"code": code})
            with locked():
                client.store_tokens(step.json())
            client.call("POST", f"/v1/requests/{rid}/approve")
        elif run["approval"] == "self":
            warn(f"iap: approve it with: iap approve {rid}    deny with: iap deny {rid}")
        else:
            roles = " or ".join(run["approver_roles"])
            who = f"a reviewer with role {roles}" if roles else "another user"
            warn(f"iap: {who} approves it with: iap approve {rid}")
            if code is not None:
                warn("iap: --code is not used: this run needs a reviewer's approval")
        while run["status"] == "pending":  # (after an approval above: its status, at once)
            run = client.call(
                "GET",
                f"/v1/runs/{rid}",
                params={"wait": WAIT},
                timeout=httpx.Timeout(WAIT + 15.0, connect=5.0),
            ).json()
    except BaseException:
        with contextlib.suppress(AgentError):
            client.call("DELETE", f"/v1/runs/{rid}", ok=(200, 404, 409))
        raise
    if run["status"] != "approved":
        why = f": {run['reason']}" if run.get("reason") else ""
        raise AgentError(f"run {rid} is {run['status']}{why}", EXIT_REFUSED, str(run["status"]))
    warn(f"iap: run {rid} approved" + (f" by {run['decided_by']}" if run["decided_by"] else ""))
    return run


def _command(
    kind: str, program: str, user: str, database: str, script: Path
) -> Callable[[Path], list[str]]:
    """The client's command line for the local socket (the mariadb CLI reads the script on
    its standard input)."""

    def command(socket: Path) -> list[str]:
        if kind == "postgres":
            conninfo = f"host={socket.parent} port=5432 user={user} dbname={database}"
            return [program, "-X", "-v", "ON_ERROR_STOP=1", "-f", str(script), "-d", conninfo]
        where = ["--protocol=socket", f"--socket={socket}", f"--user={user}"]
        return [program, *where, f"--database={database}"]

    return command


async def _serve_and_run(
    client: GatewayClient,
    tunnel: Tunnel,
    command: Callable[[Path], list[str]],
    stdin: Path | None,
    quiet: bool,
) -> int:
    """The one-shot socket and the client on it, until the client exits; its exit code (a
    private socket: no other local user can be the first to connect)."""
    async with private_socket(tunnel.kind) as (listeners, path):
        return await _run_client(client, tunnel, listeners, command(path), stdin, quiet)


async def _run_client(
    client: GatewayClient,
    tunnel: Tunnel,
    listeners: list[trio.SocketListener],
    argv: list[str],
    stdin: Path | None,
    quiet: bool,
) -> int:
    stdout = sys.stderr.fileno() if quiet else None  # --json: stdout is for the result
    with contextlib.ExitStack() as files:
        source = files.enter_context(stdin.open("rb")) if stdin is not None else None
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(serve_once, tunnel, listeners)
                if stdin is not None:  # the mariadb CLI hears nothing of a held statement
                    nursery.start_soon(watch_sessions, client, [tunnel])
                try:
                    process = await trio.lowlevel.open_process(argv, stdin=source, stdout=stdout)
                except OSError as e:
                    raise AgentError(f"cannot start {argv[0]}: {e.strerror or e}") from None
                nursery.start_soon(_pass_signals, signals, process)
                code = await process.wait()
                nursery.cancel_scope.cancel()
    return code if code >= 0 else 128 - code
