"""Assembles and runs one gateway process: store, identity, TLS, API, tunnel, audit writer.

`run_gateway(config)` is a Trio function: it opens everything under one nursery, reports the
bound addresses through `task_status` (tests start it with `nursery.start`), and stops
gracefully on SIGINT/SIGTERM or when its caller cancels it: /readyz answers 503, the listeners
stop accepting, held statements end as "gateway stopping" (their sessions with them), running
sessions get `[gateway] shutdown_grace` to finish (a second signal cuts it short), the rest are
ended with an error to their clients, then everything closes and the audit queue is drained
into the store. At start it raises the soft limit on open files to the hard limit.
"""

from __future__ import annotations

import logging
import os
import resource
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
DRAIN_POLL = 0.05  # seconds between looks at the sessions left while stopping
CLOSE_TIMEOUT = 5.0  # seconds for stopped sessions to tell their clients, before cancelling


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


def raise_open_files_limit() -> None:
    """Every connection is a file descriptor: raise the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError) as e:  # an unlimited hard limit, say (macOS)
            log.warning("open files limit not raised soft=%d hard=%d error=%s", soft, hard, e)
    log.info("open files limit soft=%d hard=%d", soft, hard)


async def _stop_when_asked(stop: trio.Event, hurry: trio.Event, handle_signals: bool) -> None:
    """Set `stop` on SIGINT/SIGTERM, or when cancelled (the caller cancelled the gateway);
    a second signal sets `hurry` (the shutdown grace is cut short)."""
    try:
        if not handle_signals:
            await trio.sleep_forever()
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                name = signal.Signals(signum).name
                log.info("gateway %s signal=%s", "hurrying" if stop.is_set() else "stopping", name)
                (hurry if stop.is_set() else stop).set()
    finally:
        stop.set()


async def _sessions_closed(services: Services, hurry: trio.Event | None = None) -> None:
    """Return when no session is left (or when `hurry` is set)."""
    while services.sessions and not (hurry is not None and hurry.is_set()):
        await trio.sleep(DRAIN_POLL)


async def _drain(services: Services, stop_accepting: trio.Event, hurry: trio.Event) -> None:
    """The graceful stop, up to the point where what is left is cancelled."""
    services.ready = False  # /readyz: 503
    stop_accepting.set()
    services.approvals.stopping.set()  # holds end, their sessions with them
    grace = services.config.gateway.shutdown_grace
    log.info("gateway draining sessions=%d grace_s=%g", len(services.sessions), grace)
    with trio.move_on_after(grace):
        await _sessions_closed(services, hurry)
    left = list(services.sessions.values())
    if left:
        log.info("gateway ending sessions=%d reason=shutdown_grace_over", len(left))
        with trio.move_on_after(CLOSE_TIMEOUT):
            async with trio.open_nursery() as nursery:
                for session in left:
                    session.stop()
                    if session.cancel_backend is not None:  # a statement still running
                        nursery.start_soon(session.cancel_backend)
                await _sessions_closed(services)


async def _serve(
    services: Services,
    files: TLSFiles,
    worker: int,
    workers: int,
    stop: trio.Event,
    hurry: trio.Event,
    task_status: trio.TaskStatus[Running],
) -> None:
    """Everything that serves, until `stop`; then the graceful stop (see the module doc)."""
    with trio.CancelScope() as guard:
        async with trio.open_nursery() as outer:
            outer.start_soon(services.audit.run)
            async with trio.open_nursery() as nursery:
                api_url = ""
                if worker == 0:  # the control plane runs once, in the first worker
                    api_url = await _serve_api(nursery, services, files)
                    nursery.start_soon(_housekeeping, services)
                    if workers > 1:
                        nursery.start_soon(services.approvals.relay_other_workers)
                stop_accepting = trio.Event()
                host, tunnel_port = await start_listeners(
                    nursery, services, server_context(files), stop_accepting
                )
                nursery.start_soon(_watch_revocations, services)
                services.ready = True
                log.info(
                    "gateway ready worker=%d/%d api=%s tunnel=%s:%d data_dir=%s",
                    worker + 1,
                    workers,
                    api_url or "(served by worker 1)",
                    host,
                    tunnel_port,
                    services.config.gateway.data_dir,
                )
                # From here on the caller's cancel is a stop (through `stop`): it must cut short
                # neither the sessions, nor the control API that says the gateway is draining,
                # nor the audit writer.
                guard.shield = True
                task_status.started(Running(services, api_url, (host, tunnel_port), files.ca))
                await stop.wait()
                await _drain(services, stop_accepting, hurry)
                nursery.cancel_scope.cancel()
            outer.cancel_scope.cancel()


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
    raise_open_files_limit()
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
    stop, hurry = trio.Event(), trio.Event()
    try:
        async with trio.open_nursery() as watcher:  # the one part the caller's cancel reaches
            watcher.start_soon(_stop_when_asked, stop, hurry, handle_signals)
            await _serve(services, files, worker, workers, stop, hurry, task_status)
            watcher.cancel_scope.cancel()
    finally:
        audit.drain()  # whatever the writer had not reached
        store.close()
        log.info("gateway stopped")
