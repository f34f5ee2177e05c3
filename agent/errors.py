"""Errors a user can act on, with the agent's exit codes (DESIGN.md contract)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_NOT_LOGGED_IN = 4


class AgentError(Exception):
    """One line for the user, and the exit code it means."""

    def __init__(self, message: str, exit_code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def not_logged_in(detail: str = "not logged in") -> AgentError:
    return AgentError(f"{detail}: run `iap login`", EXIT_NOT_LOGGED_IN)
