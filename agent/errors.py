"""Errors a user can act on: one line saying what to do, the agent's exit code (DESIGN.md
contract: 1 refused, 2 usage, 3 gateway unreachable, 4 not logged in or session expired) and a
stable `code` (`{"error": code}` with --json; the SQLSTATE or MySQL error a local client gets
when its tunnel cannot be opened)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_NOT_LOGGED_IN = 4
EXIT_INTERRUPTED = 130

_DEFAULT_CODES = {
    EXIT_REFUSED: "refused",
    EXIT_USAGE: "usage",
    EXIT_UNREACHABLE: "unreachable",
    EXIT_NOT_LOGGED_IN: "not_logged_in",
}

# Codes that mean "who you are is not (or no longer) established": local clients get SQLSTATE
# 28000 / MySQL 1045 for these, and 08006 / 1105 for the rest.
AUTH_CODES = frozenset(
    {"not_logged_in", "session_expired", "user_disabled", "identity_changed", "not_allowed"}
)


class AgentError(Exception):
    """One line for the user, the exit code it means, and a stable code for scripts."""

    def __init__(
        self, message: str, exit_code: int = EXIT_REFUSED, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.code = code or _DEFAULT_CODES.get(exit_code, "error")


def usage(message: str) -> AgentError:
    return AgentError(message, EXIT_USAGE, "usage")


def not_logged_in(detail: str = "not logged in") -> AgentError:
    return AgentError(f"{detail}: run `iap login`", EXIT_NOT_LOGGED_IN, "not_logged_in")


def session_expired(why: str | None = None) -> AgentError:
    detail = f"session expired ({why})" if why else "session expired"
    return AgentError(f"{detail}: run `iap login`", EXIT_NOT_LOGGED_IN, "session_expired")


def user_disabled(user: str) -> AgentError:
    """Logging in again cannot help a disabled user: only an administrator can."""
    return AgentError(
        f"user {user} is disabled on the gateway: ask an administrator to enable it",
        EXIT_NOT_LOGGED_IN,
        "user_disabled",
    )
