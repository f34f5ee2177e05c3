"""Processes the harness starts and must stop, progress lines, and small process helpers.

Owns: starting background services (gateways, the agent, PgBouncer) each in its own process
group with its output in a log file, and stopping them (SIGTERM, then SIGKILL) however the run
ends; running a command to completion with a timeout; free ports; progress on stderr.
Never measures anything and never decides what a path is.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

_STARTED = time.monotonic()


def progress(message: str) -> None:
    """One line on stderr so a human sees what is running (stdout carries the results)."""
    print(f"[bench {time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class CommandError(Exception):
    """A command failed; the message carries its exit status and the end of its output."""


def tail(text: str, lines: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    stdin: bytes | IO[bytes] | None = None,
    timeout: float = 120.0,
) -> str:
    """Run a command to completion and return its stdout; CommandError when it fails."""
    try:
        done = subprocess.run(
            list(args),
            input=stdin if isinstance(stdin, bytes) else None,
            stdin=None if isinstance(stdin, bytes) else (stdin or subprocess.DEVNULL),
            capture_output=True,
            env=dict(env) if env is not None else None,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CommandError(f"{args[0]} did not finish within {timeout:.0f} s") from None
    except FileNotFoundError:
        raise CommandError(f"{args[0]} is not installed") from None
    out = done.stdout.decode(errors="replace")
    if done.returncode != 0:
        err = done.stderr.decode(errors="replace") or out
        raise CommandError(f"{Path(args[0]).name} exited with {done.returncode}: {tail(err)}")
    return out


class Background:
    """A long-running child in its own process group (so a terminal's Ctrl-C reaches the
    harness only, and the harness stops it in order), output appended to `log`."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        log: Path,
        *,
        env: Mapping[str, str] | None = None,
        stdout_pipe: bool = False,
    ) -> None:
        self.name = name
        self.log = log
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout_pipe else self._log_file,
            stderr=self._log_file,
            env=dict(env) if env is not None else None,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def first_line(self, timeout: float) -> str:
        """The first line the child prints on stdout (then the rest is copied to the log by a
        thread, so a chatty child never blocks on a full pipe)."""
        stream = self.process.stdout
        assert stream is not None, "started without stdout_pipe"
        buffer = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CommandError(f"{self.name} printed nothing within {timeout:.0f} s")
            ready, _, _ = select.select([stream], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:
                    raise CommandError(f"{self.name} exited: {tail(self.log_text())}")
                buffer += chunk
        line, _, rest = buffer.partition(b"\n")
        self._log_file.write(rest)
        threading.Thread(target=self._copy_stdout, args=(stream,), daemon=True).start()
        return line.decode(errors="replace").strip()

    def _copy_stdout(self, stream: IO[bytes]) -> None:
        with contextlib.suppress(OSError, ValueError):
            for chunk in iter(lambda: os.read(stream.fileno(), 65536), b""):
                self._log_file.write(chunk)
                self._log_file.flush()

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM to the process group, SIGKILL after `grace` seconds."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log_file.close()


def rss_mb(pid: int) -> float:
    """Resident set size of a process in MB (VmRSS of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise CommandError(f"no VmRSS for pid {pid}")


def raise_open_files_limit() -> None:
    """Idle sessions need thousands of descriptors here and in the children (they inherit)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def stop_on_signals() -> None:
    """Ctrl-C and SIGTERM end the harness with KeyboardInterrupt, so every `finally` stops what
    it started (SIGINT too when the harness was started with it ignored, e.g. with `&`)."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
