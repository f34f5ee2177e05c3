"""Assembles and runs one gateway process: store, identity, TLS, API, tunnel, audit writer.

`run_gateway(config)` is a Trio function: it opens everything under one nursery, reports the
bound addresses through `task_status` (tests start it with `nursery.start`), and stops cleanly
on SIGINT/SIGTERM (or when its caller cancels it): listeners close first, then sessions, then
the audit queue is drained into the store.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve as hypercorn_serve

from iap.api.app import build_app
from iap.approvals import Approvals
from iap.auditqueue import AuditQueue
from iap.config import GatewayConfig
from iap.events import EventBus
from iap.identity import Identity
from iap.listeners import start_listeners
from iap.metrics import Metrics
from iap.services import Services
from iap.store.base import Store
from iap.store.sqlite import SQLiteStore
from iap.tls import TLSFiles, ensure_generated, server_context

log = logging.getLogger("iap.gateway")

HOUSEKEEPING_INTERVAL = 3600.0
REVOCATION_CHECK = 2.0  # seconds between checks that open sessions' users are still enabled


@dataclass(frozen=True, slots=True)
class Running:
    """What a started gateway tells its caller."""

    services: Services
    api_url: str  # https://127.0.0.1:PORT
    tunnel: tuple[str, int]
    ca: Path | None


def open_store(config: GatewayConfig) -> Store:
    config.gateway.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    return SQLiteStore(config.gateway.data_dir / "iap.db")


def open_identity(config: GatewayConfig, store: Store, clock: Callable[[], float]) -> Identity:
    gw = config.gateway
    return Identity(
        store,
        gw.data_dir / "keys",
        issuer=gw.public_url,
        access_ttl=gw.access_token_ttl,
        refresh_ttl=gw.refresh_token_ttl,
        clock=clock,
    )


def tls_files(config: GatewayConfig) -> TLSFiles:
    if config.tls is not None:
        return TLSFiles(cert=config.tls.cert, key=config.tls.key, ca=None)
    names = ["localhost", "127.0.0.1"]
    host = urlsplit(config.gateway.public_url).hostname
    if host and host not in names:
        names.append(host)
    return ensure_generated(config.gateway.data_dir / "tls", names)


async def _serve_api(nursery: trio.Nursery, services: Services, files: TLSFiles) -> str:
    """Start the control API (hypercorn, TLS); returns its https URL."""
    hc = HypercornConfig()
    hc.bind = [services.config.gateway.api]
    hc.certfile, hc.keyfile = str(files.cert), str(files.key)
    hc.accesslog = None
    hc.errorlog = logging.getLogger("iap.api")
    hc.graceful_timeout = 2.0
    app: Any = build_app(services)  # Starlette is an ASGI app; hypercorn's types differ
    bound = await nursery.start(partial(hypercorn_serve, app, hc, mode="asgi"))
    return bound[0] if bound else f"https://{services.config.gateway.api}"


async def _housekeeping(services: Services) -> None:
    """Hourly: prune the store of what no check reads any more (see Identity.prune)."""
    while True:
        removed = await trio.to_thread.run_sync(services.identity.prune)
        if removed:
            log.info("pruned %d stale rows (auth failures, MFA events, refresh tokens)", removed)
        await trio.sleep(HOUSEKEEPING_INTERVAL)


async def _watch_revocations(services: Services) -> None:
    """End the running sessions of users who were disabled (or removed) since they began:
    an access token that merely expires does not end a session; revoked access does."""
    while True:
        await trio.sleep(REVOCATION_CHECK)
        sessions = list(services.sessions.values())
        for name in {s.user for s in sessions}:
            user = services.store.get_user(name)
            if user is None or user.disabled:
                for session in sessions:
                    if session.user == name:
                        session.revoke(f"user {name} was disabled")


async def _wait_for_signal() -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            log.info("received %s: stopping", signal.Signals(signum).name)
            return


async def run_gateway(
    config: GatewayConfig,
    *,
    clock: Callable[[], float] = time.time,
    handle_signals: bool = True,
    worker: int = 0,
    workers: int = 1,
    task_status: trio.TaskStatus[Running] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run one gateway process; `worker` of `workers` when `iap gateway run --workers N`
    started several (iap/workers.py): they share the tunnel and listener ports and the store,
    and worker 0 alone serves the control API."""
    store = open_store(config)
    identity = open_identity(config, store, clock)
    files = tls_files(config)
    audit = AuditQueue(store)
    events = EventBus()
    classify_statements = os.environ.get("IAP_UNSAFE_NO_CLASSIFY") != "1"
    if not classify_statements:
        log.warning(
            "IAP_UNSAFE_NO_CLASSIFY=1: statements are NOT classified; every one passes as a"
            " read. For benchmarks only: never run a gateway users reach like this"
        )
    services = Services(
        config=config,
        store=store,
        identity=identity,
        approvals=Approvals(store, events, clock=clock),
        events=events,
        metrics=Metrics(multiprocess=workers > 1),
        clock=clock,
        audit=audit,
        classify_statements=classify_statements,
        workers=workers,
    )
    try:
        async with trio.open_nursery() as outer:
            outer.start_soon(audit.run)
            async with trio.open_nursery() as nursery:
                api_url = ""
                if worker == 0:  # the control plane runs once, in the first worker
                    api_url = await _serve_api(nursery, services, files)
                    nursery.start_soon(_housekeeping, services)
                    if workers > 1:
                        nursery.start_soon(services.approvals.relay_other_workers)
                host, tunnel_port = await start_listeners(nursery, services, server_context(files))
                nursery.start_soon(_watch_revocations, services)
                services.ready = True
                log.info(
                    "gateway ready worker=%d/%d api=%s tunnel=%s:%d data_dir=%s",
                    worker + 1,
                    workers,
                    api_url or "(served by worker 1)",
                    host,
                    tunnel_port,
                    config.gateway.data_dir,
                )
                task_status.started(Running(services, api_url, (host, tunnel_port), files.ca))
                if handle_signals:
                    await _wait_for_signal()
                    services.ready = False
                    nursery.cancel_scope.cancel()
                else:
                    await trio.sleep_forever()
            outer.cancel_scope.cancel()
    finally:
        audit.drain()  # whatever the writer had not reached
        store.close()
        log.info("gateway stopped")
