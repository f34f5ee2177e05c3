"""The `iap` entry point: one typer app for agent and operator commands.

Imports stay lazy: `iap login` must not load parsers or the store. Errors a user can fix
(AgentError) are printed as one line, `iap: what happened: what to do` (JSON on stdout under
--json), with the command's exit code; any other failure is one line too, and `--debug`
(anywhere on the command line) shows the traceback instead. Ctrl-C outside a command that
handles it exits 130 with `iap: interrupted`. `-h`/`--help` work on every command; `--version`;
shell completion with `--install-completion` / `--show-completion`.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import typer
from typer.core import TyperGroup

from agent import output
from agent.cli import register as register_agent
from agent.errors import EXIT_INTERRUPTED, AgentError
from iap import __version__
from iap.cli.operator import register as register_operator

_debug = False


def _leaves(e: BaseException) -> list[BaseException]:
    if isinstance(e, BaseExceptionGroup):
        return [leaf for inner in e.exceptions for leaf in _leaves(inner)]
    return [e]


class IapGroup(TyperGroup):
    """The root command: turns what a command raises into one line and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        output.use_json(False)
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.TyperException):
            raise
        except typer.Abort:  # a prompt met Ctrl-C or the end of its input
            output.error("interrupted", "cancelled")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except BaseException as e:
            leaves = _leaves(e)
            if _debug or not all(
                isinstance(leaf, Exception | KeyboardInterrupt) for leaf in leaves
            ):
                raise
            known = next((leaf for leaf in leaves if isinstance(leaf, AgentError)), None)
            if known is not None:
                output.error(known.code, str(known))
                raise typer.Exit(known.exit_code) from None
            if all(isinstance(leaf, KeyboardInterrupt) for leaf in leaves):
                output.error("interrupted", "interrupted")
                raise typer.Exit(EXIT_INTERRUPTED) from None
            first = leaves[0]
            output.error("internal", f"{type(first).__name__}: {first} (--debug shows where)")
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=IapGroup,
    help="iap: identity-aware access to PostgreSQL and MySQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        output.say(f"iap {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit"
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one line"),
) -> None:
    """iap: identity-aware access to PostgreSQL and MySQL."""
    global _debug
    _debug = debug


register_agent(app)
register_operator(app)


def main() -> None:
    # pgserver (the demo's embedded PostgreSQL) asks platformdirs for a runtime dir, which
    # warns when XDG_RUNTIME_DIR is unset (containers, cron): nothing a user can act on.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    args = sys.argv[1:]
    ours = args[: args.index("--")] if "--" in args else args  # after --: a client's arguments
    if "--debug" in ours:  # accepted anywhere; the root option takes it first
        args.remove("--debug")
        sys.argv[1:] = ["--debug", *args]
    app()


if __name__ == "__main__":
    main()
