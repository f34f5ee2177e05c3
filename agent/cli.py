"""Typer wiring of the agent's commands (login, connect, requests, approve, deny, token).

Only wiring: each command's work lives in agent/commands/. Errors a user can fix are raised
as AgentError and printed as one line by the `iap` entry point.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from agent.errors import EXIT_USAGE, AgentError


def _prompt_secret(label: str) -> str:
    value: str = typer.prompt(label, hide_input=True)
    return value


def _password(from_stdin: bool) -> str:
    if from_stdin:
        value = sys.stdin.readline().rstrip("\n")
        if not value:
            raise AgentError("--password-stdin given but standard input was empty", EXIT_USAGE)
        return value
    return _prompt_secret("Password")


def register(app: typer.Typer) -> None:
    @app.command()
    def login(
        gateway: str = typer.Option(None, help="Gateway URL, e.g. https://iap.example.com:8700"),
        user: str = typer.Option(None, help="Your user name"),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the password from standard input"
        ),
        code: str = typer.Option(None, help="One-time code from your authenticator app"),
        ca: Path = typer.Option(None, help="CA certificate that signed the gateway's"),
    ) -> None:
        """Log in with password and one-time code; the agent keeps the tokens fresh."""
        from agent.commands.login import login as do_login
        from agent.commands.login import previous_state

        previous = previous_state()
        gateway = gateway or (previous.gateway if previous else None) or typer.prompt("Gateway")
        user = user or (previous.user if previous else None) or typer.prompt("User")
        password = _password(password_stdin)
        code = code or _prompt_secret("One-time code")
        do_login(gateway, user, password, code, ca)

    @app.command()
    def logout() -> None:
        """Forget the saved tokens."""
        from agent.commands.login import logout as do_logout

        do_logout()

    @app.command()
    def connect(
        name: str = typer.Argument(..., help="Connection name, as the gateway config has it"),
        port: int = typer.Option(0, help="Local port (default: any free port)"),
    ) -> None:
        """Open a local port for a database connection and print its connection string."""
        from agent.commands.connect import connect as do_connect

        do_connect(name, port)

    @app.command()
    def requests(
        json_: bool = typer.Option(False, "--json", help="JSON output for scripts"),
        status: str = typer.Option(None, help="Only requests with this status (e.g. pending)"),
    ) -> None:
        """List approval requests: yours, and those you may approve."""
        from agent.commands.requests import list_requests

        list_requests(as_json=json_, status=status)

    @app.command()
    def approve(
        request_id: str = typer.Argument(..., metavar="ID"),
        code: str = typer.Option(None, help="One-time code, if the approval needs a fresh one"),
        json_: bool = typer.Option(False, "--json", help="JSON output for scripts"),
    ) -> None:
        """Approve a held statement (asks for a one-time code when needed)."""
        from agent.commands.requests import approve as do_approve

        do_approve(
            request_id, code=code, ask_code=lambda: _prompt_secret("One-time code"), as_json=json_
        )

    @app.command()
    def deny(
        request_id: str = typer.Argument(..., metavar="ID"),
        reason: str = typer.Option(None, help="Why: shown to the requester"),
        json_: bool = typer.Option(False, "--json", help="JSON output for scripts"),
    ) -> None:
        """Deny a held statement."""
        from agent.commands.requests import deny as do_deny

        do_deny(request_id, reason=reason, as_json=json_)

    @app.command()
    def token(
        access: bool = typer.Option(
            False, "--access", help="Print the access token for the control API instead"
        ),
    ) -> None:
        """Print a 5-minute token: the password for a connection's direct listener."""
        from agent.commands.requests import token as do_token

        do_token(access=access)
