"""Assembles and runs one gateway process: store, identity, TLS, API, tunnel, audit writer.

`run_gateway(config)` is a Trio function: it opens everything under one nursery, reports the
bound addresses through `task_status` (tests start it with `nursery.start`), and stops
gracefully on SIGINT/SIGTERM or when its caller cancels it: /readyz answers 503, the listeners
stop accepting, held statements end as "gateway stopping" (their sessions with them), running
sessions get `[gateway] shutdown_grace` to finish (a second signal cuts it short), the rest are
ended with an error to their clients, then everything closes and the audit queue is drained
into the store. At start it raises the soft limit on open files to the hard limit.

An address it cannot listen on is one line (GatewayStartError: which address, which key, what
to do). A process that handles signals writes its pid under `<data_dir>/run/<config>-<hash>/`
(`gateway.pid`, or `worker-I.pid` under --workers; one folder per config file, so gateways with
different configs may share a data_dir) and re-reads its config file on SIGHUP (`reload_config`,
which `iap admin reload` triggers): connections, rules and policy apply to the next statement
(sessions cache decisions per risk class and must drop them when `services.config` is a new
object), sessions the new config no longer allows end, keys bound at start are kept and logged
as needing a restart, and a config that does not load is logged while the running one stays.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import resource
import signal
import socket
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
from iap.classify.types import Risk
from iap.config import (
    ConfigError,
    GatewayConfig,
    check_secrets,
    for_reload,
    load_config,
    require_connections,
    restart_needed,
    split_address,
)
from iap.events import EventBus
from iap.identity import Identity
from iap.listeners import start_listeners
from iap.live import prune_stale
from iap.logfmt import event
from iap.metrics import Metrics
from iap.notify import Notifier
from iap.policy import Action, decide
from iap.services import Services
from iap.session import STOPPING
from iap.store.base import Store, StoreUnavailable
from iap.store.sqlite import SQLiteStore
from iap.tls import TLSFiles, ensure_generated, server_context

log = logging.getLogger("iap.gateway")

HOUSEKEEPING_INTERVAL = 3600.0
REVOCATION_CHECK = 2.0  # seconds between checks for sessions to end (disabled user, kill)
DRAIN_POLL = 0.05  # seconds between looks at the sessions left while stopping
CLOSE_TIMEOUT = 5.0  # seconds for stopped sessions to tell their clients, before cancelling


class GatewayStartError(Exception):
    """The gateway could not start (an address it cannot listen on): one line for people."""


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
    """End the running sessions of users who were disabled (or removed) since they began
    (an access token that merely expires does not end a session; revoked access does), and
    those an operator asked to end (`iap admin sessions kill`)."""
    await trio.to_thread.run_sync(prune_stale, services.store)  # rows of gateways gone
    while True:
        await trio.sleep(REVOCATION_CHECK)
        try:
            await services.live.check_ends()
        except StoreUnavailable as e:
            log.warning("could not check for sessions to end: %s", e)
        except Exception:  # the next look is 2 s away; the gateway must not end for this
            log.exception("checking for sessions to end failed")


# -- pid files: how `iap admin reload` finds the gateway -------------------------------------


def run_dir(config: GatewayConfig, config_path: Path | None) -> Path:
    """The run files of the gateway started from `config_path` (resolved; None: started
    without a file, as the demo's is): `<data_dir>/run/<file stem>-<hash of its path>`.
    Gateways started from different files may share a data_dir (the benchmark's do)."""
    if config_path is None:
        return config.gateway.data_dir / "run" / "no-config-file"
    digest = hashlib.sha256(str(config_path).encode()).hexdigest()[:10]
    return config.gateway.data_dir / "run" / f"{config_path.stem}-{digest}"


def pid_file(config: GatewayConfig, config_path: Path | None, worker: int | None = None) -> Path:
    """`gateway.pid`: the process an operator signals (the only one, or the supervisor of
    --workers); `worker-I.pid`: worker I of several."""
    name = "gateway.pid" if worker is None else f"worker-{worker + 1}.pid"
    return run_dir(config, config_path) / name


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    unfinished = path.with_name(f".{path.name}.partial")
    unfinished.write_text(text)
    unfinished.replace(path)


def write_pid_file(path: Path) -> None:
    _write_atomically(path, f"{os.getpid()}\n")


def remove_pid_file(path: Path) -> None:
    """Remove `path` if it still names this process (a later gateway may have replaced it)."""
    if read_pid(path) == os.getpid():
        path.unlink(missing_ok=True)


def read_pid(path: Path) -> int | None:
    """The pid in `path` if that process is alive and is an `iap gateway run`; else None."""
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return pid  # no /proc here: trust the file
    return pid if b"gateway" in command and b"run" in command else None


# -- reload ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReloadResult:
    ok: bool
    message: str


def reload_status_file(config: GatewayConfig, config_path: Path | None) -> Path:
    """Where the gateway (worker 1) reports its latest reload for `iap admin reload`."""
    return run_dir(config, config_path) / "reload.json"


def reload_config(services: Services, path: Path) -> ReloadResult:
    """Re-read `path` and apply it (see the module doc). Never raises for a bad file: the
    running config stays and the result says why."""
    try:
        new = load_config(path)
        require_connections(new, path)
        check_secrets(new)
    except ConfigError as e:
        log.error(event("reload_failed", config=str(path), error=str(e)))
        return ReloadResult(False, f"config not reloaded (the running one stays): {e}")
    old = services.config
    restart = restart_needed(old, new)
    config = for_reload(old, new)
    services.config = config  # one assignment: every later decision reads the new config
    services.approvals.forget_grace()  # grace windows are keyed by rule number
    services.identity.access_ttl = config.gateway.access_token_ttl
    services.identity.refresh_ttl = config.gateway.refresh_token_ttl
    root = logging.getLogger()
    if root.level == logging.getLevelName(old.gateway.log_level.upper()):  # not --log-level
        root.setLevel(config.gateway.log_level.upper())
    ended = _end_disallowed_sessions(services)
    before, after = {c.name: c for c in old.connections}, {c.name: c for c in config.connections}
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = sorted(n for n in after.keys() & before.keys() if after[n] != before[n])
    log.info(
        event(
            "reload",
            config=str(path),
            connections=len(config.connections),
            rules=len(config.rules),
            added=",".join(added) or None,
            removed=",".join(removed) or None,
            changed=",".join(changed) or None,
            sessions_ended=ended,
        )
    )
    parts = [f"{len(config.connections)} connections, {len(config.rules)} rules"]
    parts += [
        f"{what}: {', '.join(names)}"
        for what, names in (("added", added), ("removed", removed), ("changed", changed))
        if names
    ]
    if ended:
        parts.append(f"{ended} session{'s' if ended != 1 else ''} ended")
    if restart:
        log.warning(event("reload_restart_needed", keys=",".join(restart)))
        parts.append(f"restart to apply: {', '.join(restart)}")
    return ReloadResult(True, "reloaded: " + "; ".join(parts))


def _end_disallowed_sessions(services: Services) -> int:
    """End the sessions whose connection is gone, or whose user may no longer read on it
    (the test `iap ls` applies); the others go on. Returns how many ended."""
    config, ended = services.config, 0
    for session in services.live:
        name = session.connection.name
        if config.connection(name) is None:
            why = f"connection {name} was removed from the gateway's config"
        elif (
            decide(
                config.effective_rules,
                user=session.user,
                roles=session.roles,
                connection=name,
                risk=Risk.READ,
                context=session.context(),
            ).action
            is Action.DENY
        ):
            why = f"the gateway's config no longer lets {session.user} use {name}"
        else:
            continue
        log.info(event("session_ended", session=session.id, user=session.user, reason=why))
        session.revoke(why)
        ended += 1
    return ended


async def _reload_on_hangup(services: Services, path: Path | None, report: Path | None) -> None:
    """SIGHUP: reload_config, and (worker 1) report the outcome in `report`."""
    count = 0
    with trio.open_signal_receiver(signal.SIGHUP) as signals:
        async for _ in signals:
            if path is None:
                log.warning(event("reload_failed", error="no config file to re-read"))
                continue
            result = reload_config(services, path)
            count += 1
            if report is not None:
                status: dict[str, object] = {"pid": os.getpid(), "count": count}
                status |= {"ts": time.time(), "ok": result.ok, "message": result.message}
                _write_atomically(report, json.dumps(status))


# -- addresses it cannot listen on -----------------------------------------------------------

_BIND_ERRORS = {
    errno.EADDRINUSE: "address already in use",
    errno.EACCES: "permission denied (ports below 1024 need privileges)",
    errno.EADDRNOTAVAIL: "this machine has no such address",
}


def _failed_to_listen(e: BaseException) -> bool:
    """Whether `e` (or one of the leaves of a group) is the OSError of a failed listen."""
    if isinstance(e, BaseExceptionGroup):
        return any(_failed_to_listen(inner) for inner in e.exceptions)
    return isinstance(e, OSError) and e.errno in _BIND_ERRORS


def listen_problem(address: str, reuse_port: bool = False) -> OSError | None:
    """Why listening on `address` fails now, if it does."""
    host, port = split_address(address)
    if port == 0:
        return None
    try:
        for family, kind, proto, _, where in socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        ):
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if reuse_port:
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                probe.bind(where)
    except OSError as e:
        return e
    return None


def _start_error(
    config: GatewayConfig, worker: int, workers: int, path: Path | None
) -> GatewayStartError | None:
    """Which of the gateway's addresses cannot be listened on, and what to do; None when
    none of them fails now (the error was about something else)."""
    addresses = [("[gateway] api", config.gateway.api)] if worker == 0 else []
    addresses.append(("[gateway] tunnel", config.gateway.tunnel))
    addresses += [
        (f"listen of connection {c.name}", c.listen) for c in config.connections if c.listen
    ]
    where = f" in {path}" if path else ""
    for what, address in addresses:
        found = listen_problem(address, workers > 1)
        if found is not None:
            why = _BIND_ERRORS.get(found.errno or 0, (found.strerror or str(found)).lower())
            return GatewayStartError(
                f"cannot listen on {address} ({what}): {why}: stop what listens there (another"
                f" gateway?) or change {what}{where}"
            )
    return None


class _StartStatus:
    """A task status that remembers whether the gateway got as far as serving, and then
    writes its pid file (not before: a second gateway failing to bind the same ports must not
    take the pid file of the one running)."""

    def __init__(self, inner: trio.TaskStatus[Running], pid: Path | None) -> None:
        self.inner, self.pid = inner, pid
        self.done = False

    def started(self, value: Running | None = None) -> None:
        assert value is not None  # _serve always reports a Running
        self.done = True
        if self.pid is not None:
            write_pid_file(self.pid)
        self.inner.started(value)


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
    while len(services.live) and not (hurry is not None and hurry.is_set()):
        await trio.sleep(DRAIN_POLL)


async def _drain(services: Services, stop_accepting: trio.Event, hurry: trio.Event) -> None:
    """The graceful stop, up to the point where what is left is cancelled."""
    services.ready = False  # /readyz: 503
    stop_accepting.set()
    services.approvals.stopping.set()  # holds end, their sessions with them
    grace = services.config.gateway.shutdown_grace
    log.info("gateway draining sessions=%d grace_s=%g", len(services.live), grace)
    with trio.move_on_after(grace):
        await _sessions_closed(services, hurry)
    left = list(services.live)
    if left:
        log.info("gateway ending sessions=%d reason=shutdown_grace_over", len(left))
        with trio.move_on_after(CLOSE_TIMEOUT):
            async with trio.open_nursery() as nursery:
                for session in left:
                    nursery.start_soon(session.end, STOPPING)
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
                    nursery.start_soon(Notifier(services).run)  # [notify] webhook
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
    config_path: Path | None = None,
    task_status: trio.TaskStatus[Running] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Run one gateway process; `worker` of `workers` when `iap gateway run --workers N`
    started several (iap/workers.py): they share the tunnel and listener ports and the store,
    and worker 0 alone serves the control API. `config_path` is the file SIGHUP re-reads;
    with `handle_signals`, the pid file is written. Raises GatewayStartError for an address
    it cannot listen on."""
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
    index = None if workers == 1 else worker
    pid = pid_file(config, config_path, index) if handle_signals else None
    report = reload_status_file(config, config_path) if handle_signals and worker == 0 else None
    status = _StartStatus(task_status, pid)
    try:
        async with trio.open_nursery() as watcher:  # the one part the caller's cancel reaches
            watcher.start_soon(_stop_when_asked, stop, hurry, handle_signals)
            if handle_signals:
                watcher.start_soon(_reload_on_hangup, services, config_path, report)
            await _serve(services, files, worker, workers, stop, hurry, status)
            watcher.cancel_scope.cancel()
    except BaseException as e:
        failed = None
        if not status.done and _failed_to_listen(e):
            failed = _start_error(config, worker, workers, config_path)
        if failed is None:
            raise
        raise failed from e
    finally:
        if pid is not None and status.done:
            remove_pid_file(pid)
        audit.drain()  # whatever the writer had not reached
        store.close()
        log.info("gateway stopped")
