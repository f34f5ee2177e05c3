"""`iap psql NAME [-- PSQL ARGS]`: psql on a tunnel to a PostgreSQL connection."""

from __future__ import annotations

from pathlib import Path

from agent.launch import find_program, launch


def psql(name: str, extra: list[str]) -> int:
    program = find_program(("psql",), "the PostgreSQL client (Debian: postgresql-client)")

    def argv(socket: Path, user: str, database: str) -> list[str]:
        conninfo = f"host={socket.parent} port=5432 user={user} dbname={database}"
        return [program, "-d", conninfo, *extra]

    return launch(name, "postgres", argv)
