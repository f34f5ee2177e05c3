"""`iap mysql NAME [-- CLIENT ARGS]`: the mariadb (or mysql) CLI on a tunnel to a MySQL
connection."""

from __future__ import annotations

from pathlib import Path

from agent.launch import find_program, launch


def mysql(name: str, extra: list[str]) -> int:
    program = find_program(("mariadb", "mysql"), "the MariaDB client (Debian: mariadb-client)")

    def argv(socket: Path, user: str, database: str) -> list[str]:
        where = ["--protocol=socket", f"--socket={socket}", f"--user={user}"]
        return [program, *where, f"--database={database}", *extra]

    return launch(name, "mysql", argv)
