"""PgBouncer, the reference path: Debian's package, started on a side port for one run.

Owns: finding the binary, writing its ini and userlist into the run's state folder (trust auth,
session pooling, pools big enough for the idle-sessions scenario), starting it in the
background and waiting until it accepts connections. PgBouncer refuses to run as root: as root
it is started with `-u postgres`. Installing it is the Makefile's job (`make bench`).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from bench.procs import Background, CommandError, free_port, tail

POOL_SIZE = 1100  # session pooling: one server connection per client, even 1,000 idle ones


def find_pgbouncer() -> str | None:
    found = shutil.which("pgbouncer")
    if found:
        return found
    return "/usr/sbin/pgbouncer" if os.access("/usr/sbin/pgbouncer", os.X_OK) else None


def version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    first = out.stdout.strip().splitlines()
    return first[0].removeprefix("PgBouncer ").strip() if first else "?"


def start_pgbouncer(
    binary: str, folder: Path, server_port: int, dbname: str
) -> tuple[Background, int]:
    """PgBouncer on a free 127.0.0.1 port in front of 127.0.0.1:`server_port`; (it, port)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # it reads these files again as user postgres
    port = free_port()
    userlist = folder / "userlist.txt"
    userlist.write_text('"postgres" ""\n')
    ini = folder / "pgbouncer.ini"
    ini.write_text(
        f"""[databases]
{dbname} = host=127.0.0.1 port={server_port} dbname={dbname}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {userlist}
pool_mode = session
max_client_conn = {POOL_SIZE * 2}
default_pool_size = {POOL_SIZE}
max_db_connections = {POOL_SIZE}
server_tls_sslmode = disable
client_tls_sslmode = disable
log_connections = 0
log_disconnections = 0
logfile =
pidfile =
"""
    )
    for path in (userlist, ini):
        path.chmod(0o644)
    args = [binary, str(ini)]
    if os.geteuid() == 0:
        args[1:1] = ["-u", "postgres"]
    process = Background("pgbouncer", args, folder / "pgbouncer.log")
    try:
        _wait_listening(process, port)
    except BaseException:
        process.stop()
        raise
    return process, port


def _wait_listening(process: Background, port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise CommandError(f"pgbouncer exited: {tail(process.log_text())}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise CommandError(f"pgbouncer did not listen on {port} within {timeout:.0f} s")
