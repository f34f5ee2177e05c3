"""The `iap` entry point: one typer app for agent and operator commands.

Imports stay lazy: `iap login` must not load parsers or the store. Errors a user can fix are
printed as one line (`iap: ...`) with the command's exit code; `--debug` shows tracebacks.
"""

from __future__ import annotations

import sys

import typer

from agent.cli import register as register_agent
from agent.errors import AgentError
from iap.cli.operator import register as register_operator

app = typer.Typer(
    help="iap: identity-aware access to PostgreSQL and MySQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
register_agent(app)
register_operator(app)


def main() -> None:
    debug = "--debug" in sys.argv
    if debug:
        sys.argv.remove("--debug")
    try:
        app()
    except AgentError as e:
        if debug:
            raise
        sys.stderr.write(f"iap: {e}\n")
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
