"""Operator commands: `gateway run|check|config-reference`, `admin user ...`,
`admin sessions [kill]`, `admin reload`, `policy explain`,
`audit [verify|checkpoint]`, `classify`, `demo`.

Wiring only: heavy modules are imported inside each command, output goes through
iap/cli/render.py, and every error a person can fix is an AgentError (one line, printed by the
`iap` entry point; `--debug` shows tracebacks instead).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from agent.errors import EXIT_USAGE, AgentError

if TYPE_CHECKING:
    from iap.audit import Checkpoint
    from iap.cli.render import AuditPrinter
    from iap.config import GatewayConfig
    from iap.store.base import AuditRecord, Store

gateway_app = typer.Typer(help="Run the gateway.", no_args_is_help=True)
admin_app = typer.Typer(
    help="Administer users and live sessions; reload a running gateway.", no_args_is_help=True
)
user_app = typer.Typer(help="Users of the gateway.", no_args_is_help=True)
sessions_app = typer.Typer(
    help="The sessions the gateway serves now; end one.", invoke_without_command=True
)
audit_app = typer.Typer(help="Read and verify the audit log.", invoke_without_command=True)
admin_app.add_typer(user_app, name="user")
admin_app.add_typer(sessions_app, name="sessions")
policy_app = typer.Typer(help="Try the policy without a database.", no_args_is_help=True)

CONFIG_HELP = "Gateway config file (default: $IAP_CONFIG)"
DEMO_PORT = 15432  # `make demo PORT=N` changes it; not 6432, PgBouncer's
RELOAD_WAIT = 10.0  # seconds `iap admin reload` waits for the gateway's answer
KILL_WAIT = 10.0  # seconds `iap admin sessions kill` waits for the session to end
FOLLOW_INTERVAL = 1.0  # seconds between looks for new audit rows (`iap audit --follow`)
LOG_LEVELS = ("debug", "info", "warning", "error")


def _config_path(config: Path | None) -> Path:
    path = config or (Path(os.environ["IAP_CONFIG"]) if os.environ.get("IAP_CONFIG") else None)
    if path is None:
        raise AgentError("no gateway config: pass --config FILE or set IAP_CONFIG", EXIT_USAGE)
    return path


def _load(config: Path | None) -> GatewayConfig:
    from iap.config import ConfigError, load_config

    try:
        return load_config(_config_path(config))
    except ConfigError as e:
        raise AgentError(str(e), EXIT_USAGE) from None


def _servable(config: Path | None, *, secrets: bool = True) -> GatewayConfig:
    """The config a gateway can run: valid, with connections, and (secrets) every injected
    password readable in this environment."""
    from iap.config import ConfigError, check_secrets, require_connections

    cfg = _load(config)
    try:
        require_connections(cfg, _config_path(config))
        if secrets:
            check_secrets(cfg)
    except ConfigError as e:
        raise AgentError(str(e), EXIT_USAGE) from None
    return cfg


@contextlib.contextmanager
def _store(cfg: GatewayConfig) -> Iterator[Store]:
    from iap.gateway import open_store

    store = open_store(cfg)
    try:
        yield store
    finally:
        store.close()


def setup_logging(level: str, worker: str = "") -> None:
    """One line per event: time, level, logger, then `worker=I` when there are several."""
    import logging

    tag = f"worker={worker} " if worker else ""
    logging.basicConfig(
        level=level.upper(),
        format=f"%(asctime)s %(levelname)s %(name)s {tag}%(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S",
        stream=sys.stderr,
    )


@gateway_app.command("run")
def gateway_run(
    config: Path = typer.Option(None, help=CONFIG_HELP),
    log_level: str = typer.Option(None, help="debug, info, warning or error"),
    workers: int = typer.Option(
        1, min=1, help="Gateway processes sharing the ports and the store (fixed ports only)"
    ),
    worker: str = typer.Option(None, hidden=True, help="I/N: run as worker I of N"),
) -> None:
    """Run the gateway until SIGINT/SIGTERM; SIGHUP (or `iap admin reload`) re-reads the
    config without dropping sessions."""
    import trio

    from iap.config import ConfigError
    from iap.gateway import GatewayStartError, run_gateway
    from iap.workers import check_shareable, parse_worker, prepare

    if log_level is not None and log_level not in LOG_LEVELS:
        raise AgentError(f"--log-level is one of {', '.join(LOG_LEVELS)}", EXIT_USAGE)
    cfg = _servable(config)
    path = _config_path(config).resolve()
    index, count = 0, 1
    if worker is not None:
        try:
            index, count = parse_worker(worker)
        except ValueError as e:
            raise AgentError(str(e), EXIT_USAGE) from None
    if worker is None:
        _not_running(cfg, path)
    setup_logging(log_level or cfg.gateway.log_level, f"{index + 1}" if count > 1 else "")
    try:
        if worker is not None:
            trio.run(partial(run_gateway, cfg, worker=index, workers=count, config_path=path))
        elif workers > 1:
            try:
                check_shareable(cfg)
            except ConfigError as e:
                raise AgentError(str(e), EXIT_USAGE) from None
            prepare(cfg)
            sys.exit(_supervise(cfg, path, workers, log_level))
        else:
            trio.run(partial(run_gateway, cfg, config_path=path))
    except GatewayStartError as e:  # (--debug shows the failed listen it came from)
        raise AgentError(str(e), code="cannot_listen") from e


def _not_running(cfg: GatewayConfig, path: Path) -> None:
    """One gateway per config file (--workers are one): a second start is refused by name."""
    from iap.gateway import pid_file, read_pid

    running = read_pid(pid_file(cfg, path))
    if running is not None:
        raise AgentError(
            f"a gateway is already running from {path} (pid {running}): stop it first, or"
            f" apply a changed config with `iap admin reload --config {path}`"
        )


def _supervise(cfg: GatewayConfig, path: Path, workers: int, log_level: str | None) -> int:
    """--workers: the supervisor's pid is the gateway's (`iap admin reload` signals it) and
    it passes SIGHUP on to every worker."""
    import trio

    from iap.gateway import pid_file, read_pid, remove_pid_file, write_pid_file
    from iap.workers import metrics_dir, supervise

    def forward(signum: int, frame: object) -> None:
        for index in range(workers):
            pid = read_pid(pid_file(cfg, path, index))
            if pid is not None:
                os.kill(pid, signal.SIGHUP)

    own = pid_file(cfg, path)
    write_pid_file(own)
    previous = signal.signal(signal.SIGHUP, forward)
    try:
        grace = cfg.gateway.shutdown_grace
        code: int = trio.run(supervise, path, workers, log_level, metrics_dir(cfg), grace)
        return code
    finally:
        signal.signal(signal.SIGHUP, previous)
        remove_pid_file(own)


@gateway_app.command("check")
def gateway_check(config: Path = typer.Option(None, help=CONFIG_HELP)) -> None:
    """Validate a config as `gateway run` would (keys, values, connections, the injected
    passwords in this environment), without starting anything."""
    from agent import output

    cfg = _servable(config)
    output.say(
        f"{_config_path(config)}: ok: {len(cfg.connections)} connections, {len(cfg.rules)} rules"
    )


@gateway_app.command("config-reference")
def gateway_config_reference() -> None:
    """Print the reference of every config key (docs/config.md is this output)."""
    from iap.config import config_reference

    sys.stdout.write(config_reference())


# -- admin ----------------------------------------------------------------------------------


@admin_app.command("reload")
def admin_reload(config: Path = typer.Option(None, help=CONFIG_HELP)) -> None:
    """Make the running gateway re-read its config (SIGHUP to the gateway started from this
    file, found under <data_dir>/run/): new connections and rules apply to the next
    statement, sessions the new config still allows stay open."""
    import json

    from agent import output
    from iap.gateway import pid_file, read_pid, reload_status_file

    # The file is checked here first (the gateway checks it again, with its own environment).
    cfg = _servable(config, secrets=False)
    path = _config_path(config).resolve()
    where = pid_file(cfg, path)
    pid = read_pid(where)
    if pid is None:
        raise AgentError(
            f"no running gateway for {_config_path(config)} (no live pid in {where}):"
            f" start it with `iap gateway run --config {_config_path(config)}`"
        )
    report = reload_status_file(cfg, path)
    sent = time.time()
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + RELOAD_WAIT
    while time.monotonic() < deadline:
        try:
            status = json.loads(report.read_text())
        except (OSError, ValueError):
            status = {}
        if status.get("ts", 0) >= sent:
            if not status.get("ok"):
                raise AgentError(str(status.get("message")))
            output.say(str(status.get("message")))
            return
        time.sleep(0.1)
    raise AgentError(
        f"signalled the gateway (pid {pid}) but it has not answered within"
        f" {RELOAD_WAIT:g} s: see its log"
    )


def _password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise AgentError("the password must have at least 8 characters", EXIT_USAGE)
    return password


def _no_user(name: str) -> AgentError:
    return AgentError(f"no user named {name!r}: `iap admin user list` shows them")


def _approver_gaps(cfg: GatewayConfig, store: Store) -> list[str]:
    """Peer rules no enabled user may approve any more (after a delete, disable or roles)."""
    enabled = [u for u in store.list_users() if not u.disabled]
    gaps = []
    for number, rule in enumerate(cfg.rules, 1):
        if rule.approval != "peer" or not rule.approver_roles:
            continue
        approvers = {u.name for u in enabled if set(u.roles) & set(rule.approver_roles)}
        if len(approvers) < rule.min_approvals:
            gaps.append(
                f"warning: [[rules]] #{number} needs {rule.min_approvals} approver(s) with role"
                f" {' or '.join(rule.approver_roles)}; enabled users with it:"
                f" {', '.join(sorted(approvers)) or 'none'}"
            )
    return gaps


def _changed_user(cfg: GatewayConfig, store: Store, message: str) -> None:
    from agent import output

    output.say(message)
    for gap in _approver_gaps(cfg, store):
        output.warn(gap)


@user_app.command("add")
def user_add(
    name: str,
    role: list[str] = typer.Option([], help="Role (repeat for several)"),
    config: Path = typer.Option(None, help=CONFIG_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
) -> None:
    """Add a user; prints the TOTP provisioning URI (and a QR code on a terminal)."""
    from agent import output
    from iap.cli import render
    from iap.gateway import open_identity
    from iap.identity import AuthError

    cfg = _load(config)
    password = _password(password_stdin)
    with _store(cfg) as store:
        try:
            uri = open_identity(cfg, store, time.time).add_user(name, password, tuple(role))
        except (AuthError, ValueError) as e:
            raise AgentError(str(e)) from None
    render.enrolment(uri)
    output.warn(f"user {name} added with roles: {', '.join(role) or '(none)'}")


@user_app.command("reset-password")
def user_reset_password(
    name: str,
    config: Path = typer.Option(None, help=CONFIG_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
) -> None:
    """Set a new password; failed attempts are forgotten (a locked-out user can log in) and
    refresh tokens revoked (every device logs in again). Running sessions go on."""
    from agent import output
    from iap.gateway import open_identity

    cfg = _load(config)
    password = _password(password_stdin)
    with _store(cfg) as store:
        try:
            open_identity(cfg, store, time.time).reset_password(name, password)
        except KeyError:
            raise _no_user(name) from None
    output.say(f"password of {name} reset: tokens revoked, the user logs in again")


@user_app.command("reset-totp")
def user_reset_totp(name: str, config: Path = typer.Option(None, help=CONFIG_HELP)) -> None:
    """Enrol a new authenticator (the old one was lost or replaced): prints the new TOTP
    URI (and a QR code on a terminal); the old codes stop working, refresh tokens are revoked."""
    from agent import output
    from iap.cli import render
    from iap.gateway import open_identity

    cfg = _load(config)
    with _store(cfg) as store:
        try:
            uri = open_identity(cfg, store, time.time).reset_totp(name)
        except KeyError:
            raise _no_user(name) from None
    render.enrolment(uri)
    output.warn(f"new TOTP secret for {name}: tokens revoked, the user logs in again")


@user_app.command("set-roles")
def user_set_roles(
    name: str,
    role: list[str] = typer.Option([], help="Role (repeat for several); replaces the roles"),
    no_roles: bool = typer.Option(False, "--no-roles", help="Remove every role"),
    config: Path = typer.Option(None, help=CONFIG_HELP),
) -> None:
    """Replace a user's roles. They apply from the user's next token (within
    access_token_ttl); sessions already open keep the roles they started with."""
    if bool(role) == no_roles:
        raise AgentError("give the new roles with --role ROLE (repeat), or --no-roles", EXIT_USAGE)
    cfg = _load(config)
    with _store(cfg) as store:
        try:
            store.set_user_roles(name, role)
        except KeyError:
            raise _no_user(name) from None
        _changed_user(cfg, store, f"roles of {name}: {', '.join(role) or '(none)'}")


@user_app.command("delete")
def user_delete(name: str, config: Path = typer.Option(None, help=CONFIG_HELP)) -> None:
    """Delete a user with their tokens and MFA history (the audit log keeps their rows);
    their running sessions end within seconds."""
    cfg = _load(config)
    with _store(cfg) as store:
        try:
            store.delete_user(name)
        except KeyError:
            raise _no_user(name) from None
        _changed_user(cfg, store, f"user {name} deleted: running sessions end within seconds")


def _set_disabled(name: str, config: Path | None, disabled: bool) -> None:
    cfg = _load(config)
    with _store(cfg) as store:
        try:
            store.set_user_disabled(name, disabled)
        except KeyError:
            raise _no_user(name) from None
        if disabled:
            store.revoke_user_tokens(name)
            message = f"user {name} disabled: tokens revoked, running sessions end within seconds"
        else:
            message = f"user {name} enabled"
        _changed_user(cfg, store, message)


@user_app.command("disable")
def user_disable(name: str, config: Path = typer.Option(None, help=CONFIG_HELP)) -> None:
    """Disable a user: refresh tokens are revoked and running sessions end within seconds."""
    _set_disabled(name, config, True)


@user_app.command("enable")
def user_enable(name: str, config: Path = typer.Option(None, help=CONFIG_HELP)) -> None:
    """Enable a user again (they log in anew)."""
    _set_disabled(name, config, False)


@user_app.command("list")
def user_list(
    config: Path = typer.Option(None, help=CONFIG_HELP),
    json_: bool = typer.Option(False, "--json", help="A JSON array of users"),
) -> None:
    """List users: roles, enabled or disabled, created, last login."""
    from agent.output import use_json
    from iap.cli import render

    use_json(json_)
    with _store(_load(config)) as store:
        render.users(store.list_users(), json_)


# -- live sessions --------------------------------------------------------------------------


@sessions_app.callback()
def sessions_list(
    ctx: typer.Context,
    json_: bool = typer.Option(False, "--json", help="A JSON array of sessions"),
    config: Path = typer.Option(None, help=CONFIG_HELP),
) -> None:
    """List the sessions the gateway serves now (every worker's): who, which connection,
    from where, since when, and the request a held statement waits on."""
    if ctx.invoked_subcommand is not None:
        return
    from agent.output import use_json
    from iap.cli import render
    from iap.live import prune_stale

    use_json(json_)
    with _store(_load(config)) as store:
        found = prune_stale(store)
        held = {r.session_id: r.id for r in store.list_requests(status="pending")}
    render.sessions(found, held, json_)


@sessions_app.command("kill")
def sessions_kill(
    session_id: str = typer.Argument(..., metavar="ID", help="The session (a unique prefix)"),
    reason: str = typer.Option("", help="Why (the user's client and the audit log see it)"),
    config: Path = typer.Option(None, help=CONFIG_HELP),
) -> None:
    """End a live session: a held statement is cancelled, the client gets an error saying
    who ended it and why, and the audit log has a `killed` row."""
    import getpass

    from agent import output
    from iap.live import prune_stale

    with _store(_load(config)) as store:
        live = prune_stale(store)
        matches = [s for s in live if s.id.startswith(session_id.lower())] if session_id else []
        if len(matches) != 1:
            what = "no live session" if not matches else "more than one live session"
            raise AgentError(f"{what} matches {session_id!r}: `iap admin sessions` lists them")
        target = matches[0]
        why = f"ended by operator {getpass.getuser()}" + (f": {reason}" if reason else "")
        if store.end_session(target.id, why) is None:
            raise AgentError(f"session {target.id} is ending already")
        deadline = time.monotonic() + KILL_WAIT
        while time.monotonic() < deadline:
            if all(s.id != target.id for s in store.list_sessions()):
                output.say(f"session {target.id} of {target.user} on {target.connection} ended")
                return
            time.sleep(0.2)
    raise AgentError(
        f"session {target.id} was asked to end but is still open after {KILL_WAIT:g}s: is its"
        f" gateway (pid {target.gateway_pid}) stuck?"
    )


# -- audit ----------------------------------------------------------------------------------


def _since(value: str | None) -> float | None:
    if not value:
        return None
    from iap.config import parse_duration

    try:
        return time.time() - parse_duration(value)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise AgentError(
            f"--since takes a duration (1h) or a time (2026-11-23T10:00): {value}", EXIT_USAGE
        ) from None


def _approvers(store: Store, request_id: str) -> list[str] | None:
    request = store.get_request(request_id)
    return list(request.approvals) if request is not None else None


def _follow(
    store: Store, after: int, keep: Callable[[AuditRecord], bool], printer: AuditPrinter
) -> None:
    """Print new rows as they are stored, until Ctrl-C (which ends it quietly)."""
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            for record in store.iter_audit(after=after):
                after = record.seq
                if keep(record):
                    printer.print([record])
            time.sleep(FOLLOW_INTERVAL)


@audit_app.callback()
def audit(
    ctx: typer.Context,
    json_: bool = typer.Option(
        False, "--json", help="A JSON array of rows (with --follow: one JSON object per line)"
    ),
    since: str = typer.Option(None, help="Only rows newer than a duration (1h) or a time"),
    user: list[str] = typer.Option([], help="Only rows of this user (repeat for several)"),
    connection: list[str] = typer.Option([], help="Only rows of this connection (repeat)"),
    decision: list[str] = typer.Option(
        [],
        help="Only rows with this decision: allow, deny, hold, approved, denied, expired,"
        " login, ... (repeat)",
    ),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Then print new rows as they come, until Ctrl-C"
    ),
    config: Path = typer.Option(None, help=CONFIG_HELP),
) -> None:
    """Print the audit log (`iap audit verify` checks it, `iap audit checkpoint` signs its
    head). Plain lines escape control characters and bytes that are not UTF-8 (\\n, \\x1b,
    \\xff); JSON escapes them as JSON does. --follow without --since starts with new rows."""
    if ctx.invoked_subcommand is not None:
        return
    from agent.output import use_json
    from iap.cli import render

    use_json(json_)
    unknown = [d for d in decision if d not in render.AUDIT_DECISIONS]
    if unknown:
        raise AgentError(
            f"no audit decision {unknown[0]!r}: one of {', '.join(render.AUDIT_DECISIONS)}",
            EXIT_USAGE,
        )
    start = _since(since)

    def keep(r: AuditRecord) -> bool:
        return (
            (not user or r.user in user)
            and (not connection or r.connection in connection)
            and (not decision or r.decision in decision)
        )

    with _store(_load(config)) as store:
        printer = render.AuditPrinter(json_, follow, partial(_approvers, store))
        if follow and start is None:
            last = (store.audit_head() or (0, ""))[0]
        else:
            last = 0
            for record in store.iter_audit(since=start):
                last = record.seq
                if keep(record):
                    printer.print([record])
        if follow:
            _follow(store, last, keep, printer)
        printer.close()


def _read_checkpoint(path: Path) -> Checkpoint:
    from iap.audit import CheckpointError, read_checkpoint

    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise AgentError(f"cannot read checkpoint {path}: {e}", EXIT_USAGE) from None
    try:
        return read_checkpoint(text)
    except CheckpointError as e:
        raise AgentError(f"{path} is not a valid audit checkpoint: {e}") from None


@audit_app.command("verify")
def audit_verify(
    config: Path = typer.Option(None, help=CONFIG_HELP),
    checkpoint: Path = typer.Option(
        None,
        help="A checkpoint from `iap audit checkpoint`: also check that the rows it covers are"
        " unchanged and all still there",
    ),
) -> None:
    """Check the audit log's keyed hash chain (and a checkpoint): exit 0 when intact, 1
    naming the first bad row."""
    from iap.audit import ChainError, CheckpointError, check_chain, keyed_from, verify_checkpoint
    from iap.gateway import open_identity
    from iap.identity import load_audit_key

    cfg = _load(config)
    mark = None if checkpoint is None else _read_checkpoint(checkpoint)
    with _store(cfg) as store:
        if mark is not None:
            identity = open_identity(cfg, store, time.time)
            try:
                verify_checkpoint(mark, identity.public_key_pem())
            except CheckpointError as e:
                raise AgentError(
                    f"{checkpoint}: {e} (this gateway's key id is {identity.key_id!r})"
                ) from None
        key = load_audit_key(cfg.gateway.data_dir / "keys")
        try:
            first_keyed = keyed_from(store.audit_keyed_from(), key)
        except ChainError as e:
            raise AgentError(f"audit log broken: {e}") from None
        result = check_chain(store.iter_audit(), key, keyed_from=first_keyed, checkpoint=mark)
    if not result.intact:
        raise AgentError(f"audit log broken at seq {result.broken_at}: {result.reason}")
    print(f"audit log intact: {result.count} records")
    unkeyed = min(first_keyed - 1, result.head_seq)
    if unkeyed > 0:
        guard = (
            f"an edit to them shows as a break at seq {first_keyed}, the first keyed record"
            if result.head_seq >= first_keyed
            else "no keyed record follows them yet, so they are not protected against edits"
        )
        print(f"seq 1-{unkeyed} were written before the chain was keyed (plain sha256): {guard}")
    if mark is not None and mark.seq:
        print(
            f"checkpoint seq {mark.seq}: rows 1-{mark.seq} still hash to its head and none is"
            " missing"
        )
    elif mark is not None:
        print("checkpoint seq 0: it was taken of the empty log")


@audit_app.command("checkpoint")
def audit_checkpoint(
    config: Path = typer.Option(None, help=CONFIG_HELP),
    out: Path = typer.Option(None, help="Write the checkpoint to this file (default: print it)"),
) -> None:
    """Sign the audit log's newest row (seq and hash) with the gateway's key. Keep the JSON
    away from the gateway: `iap audit verify --checkpoint FILE` then shows whether any row up
    to it was rewritten or dropped. Rows written after the newest checkpoint kept elsewhere
    can be dropped from the end unseen: take checkpoints as often as that may last."""
    import json

    from iap.audit import GENESIS_HASH, make_checkpoint
    from iap.gateway import open_identity

    cfg = _load(config)
    with _store(cfg) as store:
        identity = open_identity(cfg, store, time.time)
        seq, head = store.audit_head() or (0, GENESIS_HASH)
        signed = make_checkpoint(
            seq, head, time.time(), identity.key_id, identity.sign_audit_checkpoint
        )
    text = json.dumps(signed.to_json(), sort_keys=True)
    if out is None:
        print(text)
        return
    unfinished = out.with_name(f".{out.name}.partial")
    try:
        unfinished.write_text(text + "\n")
        unfinished.replace(out)
    except OSError as e:
        with contextlib.suppress(OSError):
            unfinished.unlink()
        raise AgentError(f"cannot write {out}: {e}") from None
    print(f"audit checkpoint of seq {seq} written to {out}", file=sys.stderr)


def classify_command(
    sql: str = typer.Argument(None, help="SQL text, or - to read standard input"),
    dialect: str = typer.Option("postgres", help="postgres or mysql"),
    json_: bool = typer.Option(False, "--json", help="JSON output"),
    file: Path = typer.Option(None, help="Read the statements from a file"),
) -> None:
    """Classify SQL by risk: read, write, ddl, destructive, admin or unknown."""
    import json

    from iap.classify import classify

    if dialect not in ("postgres", "mysql"):
        raise AgentError("--dialect is postgres or mysql", EXIT_USAGE)
    if file is not None:
        text = file.read_text()
    elif sql == "-":
        text = sys.stdin.read()
    elif sql is not None:
        text = sql
    else:
        raise AgentError("give SQL, - for standard input, or --file PATH", EXIT_USAGE)
    result = classify(text, dialect)
    if json_:
        print(json.dumps(result.to_json()))
        return
    print(result.risk.value)
    for reason in result.reasons:
        print(f"  {reason}")


@policy_app.command("explain")
def policy_explain(
    sql: str = typer.Argument(..., help="SQL text (several statements: each is explained)"),
    user: str = typer.Option(..., help="Whose statement (their roles come from the store)"),
    connection: str = typer.Option(..., help="On which connection"),
    source: str = typer.Option(None, "--from", help="The client's address (default: unknown)"),
    at: str = typer.Option(None, help="When: an ISO time with a zone (default: now)"),
    json_: bool = typer.Option(False, "--json", help="A JSON array, one object per statement"),
    config: Path = typer.Option(None, help=CONFIG_HELP),
) -> None:
    """Dry-run the rules: the class of each statement, the decision, the rule and the context
    conditions behind it, as the gateway would decide for USER from --from at --at. An
    unknown address meets every condition, as in the gateway (the strict reading)."""
    import ipaddress

    from agent import output
    from iap.context import Context
    from iap.runs import plan_run

    cfg = _load(config)
    target = cfg.connection(connection)
    if target is None:
        names = ", ".join(c.name for c in cfg.connections) or "none"
        raise AgentError(f"no connection named {connection!r} (the config has: {names})")
    try:
        address = ipaddress.ip_address(source) if source else None
    except ValueError:
        raise AgentError(f"--from {source!r} is not an IP address", EXIT_USAGE) from None
    when = _moment(at) if at else time.time()
    with _store(cfg) as store:
        found = store.get_user(user)
    if found is None:
        raise _no_user(user)
    plan = plan_run(
        cfg,
        user=user,
        roles=found.roles,
        connection=target,
        script=sql,
        context=Context(address, when),
    )
    if not plan.statements:
        raise AgentError("no statement in the SQL given", EXIT_USAGE)
    rows: list[dict[str, Any]] = [
        {
            "statement": s.number,
            "sql": s.sql,
            "risk": s.risk.value,
            "reasons": list(s.reasons),
            "action": s.decision.action.value,
            "rule": _rule_number(cfg, s.decision.rule_index),
            "decision": s.decision.reason,
            "signals": list(s.decision.signals),
        }
        for s in plan.statements
    ]
    if json_:
        output.emit_json(rows)
        return
    for row in rows:
        head = f"{row['statement']}: " if len(rows) > 1 else ""
        output.say(f"{head}{row['risk']}: {row['action']} ({row['decision']})")
        for reason in row["reasons"]:
            output.say(f"  {reason}")


def _rule_number(cfg: GatewayConfig, index: int | None) -> int | str | None:
    """[[rules]] #N of the config, "default" for a default rule, None when none matched."""
    if index is None:
        return None
    return index + 1 if index < len(cfg.rules) else "default"


def _moment(text: str) -> float:
    """An ISO 8601 time that names its zone or offset -> UNIX seconds."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise AgentError(
            f"--at {text!r}: give an ISO time with its offset, like 2026-12-05T23:10+01:00",
            EXIT_USAGE,
        )
    return moment.timestamp()


def register(app: typer.Typer) -> None:
    app.add_typer(gateway_app, name="gateway")
    app.add_typer(policy_app, name="policy")
    app.add_typer(admin_app, name="admin")
    app.add_typer(audit_app, name="audit")
    app.command("classify")(classify_command)

    @app.command()
    def demo(
        data: Path = typer.Option(Path(".demo"), help="Where the demo keeps its files"),
        port: int = typer.Option(DEMO_PORT, help="Local port for psql (0: a free one)"),
    ) -> None:
        """Run a complete local demo: embedded PostgreSQL, gateway, user, agent, open port."""
        from iap.demo import run_demo

        run_demo(data, port)

    @app.command("demo-code")
    def demo_code(data: Path = typer.Option(Path(".demo"))) -> None:
        """Print the demo user's current one-time code."""
        from iap.demo import current_code

        print(current_code(data))
