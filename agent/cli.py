"""Typer wiring of the agent's commands: login, logout, status, ls, connect, psql, mysql, run,
requests, approve, deny, token.

Only wiring: each command's work lives in agent/commands/ (imported when it runs, so
`iap login` loads no more than it needs). Errors a user can fix are raised as AgentError and
printed as one line by the `iap` entry point (iap/cli/main.py); `--json` switches those to JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from agent.commands import REQUEST_STATUSES
from agent.errors import usage
from agent.output import use_json
from agent.prompt import ask

# `iap psql NAME -- -X -c ...`: everything after NAME goes to the client (also without --).
CLIENT_ARGS = {"allow_interspersed_args": False, "ignore_unknown_options": True}
JSON_HELP = "JSON output for scripts (a list is one array; errors are {error, message})"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        value = sys.stdin.readline().rstrip("\n")
        if not value:
            raise usage("--password-stdin given but standard input was empty")
        return value
    return ask("Password", "--password-stdin", secret=True)


def _client_args(args: list[str] | None) -> list[str]:
    """What follows `--` on `iap psql NAME -- ...` (the separator itself is ours)."""
    rest = list(args or [])
    return rest[1:] if rest[:1] == ["--"] else rest


def _complete_status(incomplete: str) -> list[str]:
    return [s for s in REQUEST_STATUSES if s.startswith(incomplete)]


def register(app: typer.Typer) -> None:
    @app.command()
    def login(
        gateway: str = typer.Option(
            None, help="Gateway URL, e.g. https://iap.example.com:8700 (default: the last one)"
        ),
        user: str = typer.Option(None, help="Your user name (default: the last one)"),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password from standard input"
        ),
        code: str = typer.Option(None, help="One-time code from your authenticator app"),
        ca: Path = typer.Option(
            None, help="CA certificate that signed the gateway's (<data_dir>/tls/ca.pem)"
        ),
    ) -> None:
        """Log in with password and one-time code; the agent keeps the tokens fresh."""
        from agent.commands.login import interactive_login

        interactive_login(
            gateway, user, code, ca, lambda: _password(password_stdin), password_stdin
        )

    @app.command()
    def logout() -> None:
        """Forget the saved tokens (a running `iap connect` stops opening sessions)."""
        from agent.commands.logout import logout as do_logout

        do_logout()

    @app.command()
    def status(json_: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
        """Who you are, on which gateway, how fresh your tokens and MFA are, which device."""
        from agent.commands.status import status as do_status

        use_json(json_)
        do_status(as_json=json_)

    @app.command("ls")
    def ls(json_: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
        """The connections you may use, their kinds and databases."""
        from agent.commands.ls import ls as do_ls

        use_json(json_)
        do_ls(as_json=json_)

    @app.command()
    def connect(
        names: list[str] = typer.Argument(
            ..., metavar="NAME", help="Connection names, as `iap ls` shows them"
        ),
        port: int = typer.Option(
            None, min=0, max=65535, help="Local port for one connection (default: a free one)"
        ),
        tls: bool = typer.Option(
            False, "--tls", help="Serve clients that ask for TLS (a local CA under IAP_HOME)"
        ),
        socket: bool = typer.Option(
            False,
            "--socket",
            help="A unix socket only you can reach, not a port any local user can",
        ),
    ) -> None:
        """Open a local port (or socket) per connection and print its connection string, one
        per line."""
        from agent.commands.connect import connect as do_connect

        do_connect(names, port, tls, socket)

    @app.command(context_settings=CLIENT_ARGS)
    def psql(
        name: str = typer.Argument(..., help="A PostgreSQL connection"),
        args: list[str] = typer.Argument(None, metavar="[-- PSQL ARGS]", help="Passed to psql"),
    ) -> None:
        """Run psql on a tunnel to NAME (closed when psql exits)."""
        from agent.commands.psql import psql as do_psql

        raise typer.Exit(do_psql(name, _client_args(args)))

    @app.command(context_settings=CLIENT_ARGS)
    def mysql(
        name: str = typer.Argument(..., help="A MySQL or MariaDB connection"),
        args: list[str] = typer.Argument(
            None, metavar="[-- CLIENT ARGS]", help="Passed to mariadb (or mysql)"
        ),
    ) -> None:
        """Run the mariadb (or mysql) client on a tunnel to NAME (closed when it exits)."""
        from agent.commands.mysql import mysql as do_mysql

        raise typer.Exit(do_mysql(name, _client_args(args)))

    @app.command("run")
    def run_(
        name: str = typer.Argument(..., help="A connection, as `iap ls` shows it"),
        file: Path = typer.Option(
            None, "-f", "--file", help="An SQL script (run by psql -f, or the mariadb CLI)"
        ),
        restore: Path = typer.Option(
            None, "--restore", help="A pg_dump archive (-Fc, -Ft, -Fd) to restore"
        ),
        reason: str = typer.Option(..., "--reason", help="Why: shown to the approver"),
        code: str = typer.Option(
            None, help="One-time code: approve the run yourself at once (when the rule lets you)"
        ),
        json_: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        """Run a script or restore a dump with one approval for all its statements."""
        from agent.commands.run import run as do_run

        use_json(json_)
        raise typer.Exit(
            do_run(name, file=file, restore=restore, reason=reason, code=code, as_json=json_)
        )

    @app.command()
    def requests(
        json_: bool = typer.Option(False, "--json", help=JSON_HELP),
        status: str = typer.Option(
            None,
            help=f"Only requests with this status: {', '.join(REQUEST_STATUSES)}",
            autocompletion=_complete_status,
        ),
        watch: bool = typer.Option(
            False,
            "--watch",
            "-w",
            help="Then show new and decided requests as they come, until Ctrl-C (JSON lines"
            " with --json)",
        ),
    ) -> None:
        """List approval requests: yours, and those you may approve."""
        from agent.commands.requests import list_requests

        use_json(json_)
        list_requests(as_json=json_, status=status, watch=watch)

    @app.command()
    def approve(
        request_id: str = typer.Argument(..., metavar="ID"),
        code: str = typer.Option(None, help="One-time code, if the approval needs a fresh one"),
        json_: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        """Approve a held statement (asks for a one-time code when needed)."""
        from agent.commands.approve import approve as do_approve

        use_json(json_)
        do_approve(
            request_id,
            code=code,
            ask_code=lambda: ask("One-time code", "--code CODE", secret=True),
            as_json=json_,
        )

    @app.command()
    def deny(
        request_id: str = typer.Argument(..., metavar="ID"),
        reason: str = typer.Option(None, help="Why: shown to the requester"),
        json_: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        """Deny a held statement."""
        from agent.commands.deny import deny as do_deny

        use_json(json_)
        do_deny(request_id, reason=reason, as_json=json_)

    @app.command()
    def token(
        access: bool = typer.Option(
            False, "--access", help="Print the access token for the control API instead"
        ),
    ) -> None:
        """Print a 5-minute token: the password for a connection's direct listener."""
        from agent.commands.token import token as do_token

        do_token(access=access)
