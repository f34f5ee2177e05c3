"""`iap psql NAME [-- PSQL ARGS]`: psql on a tunnel to a PostgreSQL connection."""

from __future__ import annotations

from agent.launch import find_program, launch


def psql(name: str, extra: list[str]) -> int:
    program = find_program(("psql",), "the PostgreSQL client (Debian: postgresql-client)")

    def argv(port: int, user: str, database: str) -> list[str]:
        conninfo = f"host=127.0.0.1 port={port} user={user} dbname={database} sslmode=disable"
        return [program, "-d", conninfo, *extra]

    return launch(name, "postgres", argv)
