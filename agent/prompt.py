"""Asking the person at the terminal, only when there is one.

A value that was not given as an option is prompted for only when standard input is a terminal
and is not already spoken for (`--password-stdin`); otherwise the command stops with a usage
error naming the option to give, instead of reading a piped password as a gateway URL or
printing getpass warnings.
"""

from __future__ import annotations

import sys

import typer

from agent.errors import usage


def ask(label: str, option: str, *, secret: bool = False, stdin_taken: bool = False) -> str:
    """Prompt for `label`; without a usable terminal, a usage error asking for `option`."""
    if stdin_taken or not sys.stdin.isatty():
        why = "standard input is taken by --password-stdin" if stdin_taken else "no terminal"
        raise usage(f"{label.lower()} needed and {why} to ask for it: give {option}")
    value: str = typer.prompt(label, hide_input=secret)
    return value.strip() if not secret else value
