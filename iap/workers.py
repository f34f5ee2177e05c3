"""`iap gateway run --workers N`: N gateway processes sharing the ports and the store.

The supervisor first creates what workers must not race to create (the store's schema, the
token signing keys, the generated TLS files), then starts N `iap gateway run --worker I/N`
processes. They listen on the same tunnel and direct-listener ports (SO_REUSEPORT: the kernel
spreads connections over them); worker 1 alone serves the control API and relays, from the
store, the request events of sessions held in the others. A held statement learns of an
approval given through the API by re-reading the store (within a second); cancel keys are
shared through the store; metrics are counted per worker into files that worker 1's
`/metrics` adds up. SIGINT/SIGTERM stop every worker (each drains its audit queue);
if one worker exits on its own, the others are stopped too and the supervisor fails.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import trio

from iap.config import ConfigError, GatewayConfig, split_address

log = logging.getLogger("iap.workers")


def check_shareable(config: GatewayConfig) -> None:
    """Several workers can only share ports that are fixed in the config."""
    addresses = [("gateway.api", config.gateway.api), ("gateway.tunnel", config.gateway.tunnel)]
    addresses += [(f"listen of {c.name}", c.listen) for c in config.connections if c.listen]
    for what, address in addresses:
        if split_address(address)[1] == 0:
            raise ConfigError(f"--workers needs fixed ports: {what} is {address!r} (port 0)")


def prepare(config: GatewayConfig) -> None:
    """Create the schema, keys and TLS files once, before any worker starts; forget the
    cancel keys of an earlier run (its sessions ended with it, even if a worker crashed)."""
    from iap.gateway import open_identity, open_store, tls_files

    store = open_store(config)
    try:
        stale = store.clear_cancel_keys()
        if stale:
            log.info("forgot %d cancel keys left by an earlier run", stale)
        open_identity(config, store, time.time).public_key_pem()
        tls_files(config)
    finally:
        store.close()


def parse_worker(value: str) -> tuple[int, int]:
    """'I/N' (I counted from 0) -> (I, N)."""
    index, sep, count = value.partition("/")
    if not sep or not index.isdigit() or not count.isdigit() or not 0 <= int(index) < int(count):
        raise ValueError(f"--worker wants I/N with 0 <= I < N, got {value!r}")
    return int(index), int(count)


def metrics_dir(config: GatewayConfig) -> Path:
    """An empty folder for the workers' metric files (prometheus_client multiprocess mode)."""
    folder = config.gateway.data_dir / "metrics"
    if folder.exists():
        shutil.rmtree(folder)  # counts of an earlier run must not be added to this one's
    folder.mkdir(mode=0o700)
    return folder


async def supervise(
    config_path: Path,
    workers: int,
    log_level: str | None,
    metrics: Path,
    shutdown_grace: float,
) -> int:
    """Run the workers until a signal (exit 0) or until one of them fails (exit 1)."""
    failed: list[str] = []

    async def stop_worker(process: trio.Process) -> None:
        """SIGTERM, then the worker's own graceful stop (shutdown_grace, then up to 5 s to
        tell its clients), then SIGKILL if it is still there."""
        process.terminate()
        with trio.move_on_after(shutdown_grace + 10):
            await process.wait()
            return
        process.kill()

    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    async with trio.open_nursery() as nursery:

        async def run_worker(index: int) -> None:
            command = [sys.executable, "-m", "iap.cli.main", "gateway", "run"]
            command += ["--config", str(config_path), "--worker", f"{index}/{workers}"]
            if log_level:
                command += ["--log-level", log_level]
            process = await trio.run_process(
                command, check=False, env=env, deliver_cancel=stop_worker
            )
            failed.append(f"worker {index + 1} exited with status {process.returncode}")
            nursery.cancel_scope.cancel()

        for index in range(workers):
            nursery.start_soon(run_worker, index)
        log.info("started %d gateway workers", workers)
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                log.info("received %s: stopping the workers", signal.Signals(signum).name)
                nursery.cancel_scope.cancel()  # stop_worker: SIGTERM, then SIGKILL late
                break
    if failed:
        log.error("%s: stopped the others", failed[0])
        return 1
    return 0
