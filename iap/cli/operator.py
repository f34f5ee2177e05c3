"""Operator commands: `gateway run`, `admin user ...`, `audit [verify|checkpoint]`, `classify`,
`demo`.

Wiring only; heavy modules are imported inside each command.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from agent.errors import EXIT_USAGE, AgentError

if TYPE_CHECKING:
    from iap.audit import Checkpoint

gateway_app = typer.Typer(help="Run the gateway.", no_args_is_help=True)
admin_app = typer.Typer(help="Administer users.", no_args_is_help=True)
user_app = typer.Typer(help="Users of the gateway.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and verify the audit log.", invoke_without_command=True)
admin_app.add_typer(user_app, name="user")

CONFIG_HELP = "Gateway config file (default: $IAP_CONFIG)"


def _config_path(config: Path | None) -> Path:
    path = config or (Path(os.environ["IAP_CONFIG"]) if os.environ.get("IAP_CONFIG") else None)
    if path is None:
        raise AgentError("no gateway config: pass --config FILE or set IAP_CONFIG", EXIT_USAGE)
    return path


def _load(config: Path | None):  # type: ignore[no-untyped-def]
    from iap.config import ConfigError, load_config

    try:
        return load_config(_config_path(config))
    except ConfigError as e:
        raise AgentError(str(e), EXIT_USAGE) from None


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
    """Run the gateway until SIGINT/SIGTERM."""
    import trio

    from iap.config import ConfigError
    from iap.gateway import run_gateway
    from iap.workers import check_shareable, metrics_dir, parse_worker, prepare, supervise

    cfg = _load(config)
    index, count = 0, 1
    if worker is not None:
        try:
            index, count = parse_worker(worker)
        except ValueError as e:
            raise AgentError(str(e), EXIT_USAGE) from None
    setup_logging(log_level or cfg.gateway.log_level, f"{index + 1}" if count > 1 else "")
    for c in cfg.connections:
        c.password()  # a missing injected secret is a start-up error, not a session error
    if worker is not None:
        trio.run(partial(run_gateway, cfg, worker=index, workers=count))
    elif workers > 1:
        try:
            check_shareable(cfg)
        except ConfigError as e:
            raise AgentError(str(e), EXIT_USAGE) from None
        prepare(cfg)
        path = _config_path(config).resolve()
        grace = cfg.gateway.shutdown_grace
        sys.exit(trio.run(supervise, path, workers, log_level, metrics_dir(cfg), grace))
    else:
        trio.run(run_gateway, cfg)


@user_app.command("add")
def user_add(
    name: str,
    role: list[str] = typer.Option([], help="Role (repeat for several)"),
    config: Path = typer.Option(None, help=CONFIG_HELP),
    password_stdin: bool = typer.Option(False, "--password-stdin"),
) -> None:
    """Add a user; prints the TOTP provisioning URI (and a QR code on a terminal)."""
    from iap.gateway import open_identity, open_store
    from iap.identity import AuthError

    cfg = _load(config)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise AgentError("the password must have at least 8 characters", EXIT_USAGE)
    store = open_store(cfg)
    try:
        uri = open_identity(cfg, store, time.time).add_user(name, password, tuple(role))
    except AuthError as e:
        raise AgentError(str(e)) from None
    finally:
        store.close()
    print(uri)
    if sys.stdout.isatty():
        import qrcode

        qr = qrcode.QRCode(border=1)
        qr.add_data(uri)
        qr.print_ascii(invert=True)
    print(f"user {name} added with roles: {', '.join(role) or '(none)'}", file=sys.stderr)


def _set_disabled(name: str, config: Path | None, disabled: bool) -> None:
    from iap.gateway import open_store

    store = open_store(_load(config))
    try:
        try:
            store.set_user_disabled(name, disabled)
        except KeyError:
            raise AgentError(f"no user named {name!r}") from None
        if disabled:
            store.revoke_user_tokens(name)
    finally:
        store.close()


@user_app.command("disable")
def user_disable(name: str, config: Path = typer.Option(None, help=CONFIG_HELP)) -> None:
    """Disable a user: refresh tokens are revoked and running sessions end within seconds."""
    _set_disabled(name, config, True)
    print(f"user {name} disabled: tokens revoked, running sessions end within seconds")


@user_app.command("enable")
def user_enable(name: str, config: Path = typer.Option(None, help=CONFIG_HELP)) -> None:
    """Enable a user again (they log in anew)."""
    _set_disabled(name, config, False)
    print(f"user {name} enabled")


@user_app.command("list")
def user_list(config: Path = typer.Option(None, help=CONFIG_HELP)) -> None:
    """List users and their roles."""
    from iap.gateway import open_store

    store = open_store(_load(config))
    try:
        for u in store.list_users():
            state = " (disabled)" if u.disabled else ""
            print(f"{u.name}\t{','.join(u.roles)}{state}")
    finally:
        store.close()


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


@audit_app.callback()
def audit(
    ctx: typer.Context,
    json_: bool = typer.Option(False, "--json", help="One JSON object per line"),
    since: str = typer.Option(None, help="Only rows newer than a duration (1h) or a time"),
    config: Path = typer.Option(None, help=CONFIG_HELP),
) -> None:
    """Print the audit log (`iap audit verify` checks it, `iap audit checkpoint` signs its
    head). Plain lines escape control characters and bytes that are not UTF-8 (\\n, \\x1b,
    \\xff); JSON escapes them as JSON does."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from iap.api.app import audit_json
    from iap.audit import audit_line
    from iap.gateway import open_store

    store = open_store(_load(config))
    try:
        for record in store.iter_audit(since=_since(since)):
            print(json.dumps(audit_json(record)) if json_ else audit_line(record))
    finally:
        store.close()


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
    from iap.gateway import open_identity, open_store
    from iap.identity import load_audit_key

    cfg = _load(config)
    mark = None if checkpoint is None else _read_checkpoint(checkpoint)
    store = open_store(cfg)
    try:
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
    finally:
        store.close()
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
    from iap.gateway import open_identity, open_store

    cfg = _load(config)
    store = open_store(cfg)
    try:
        identity = open_identity(cfg, store, time.time)
        seq, head = store.audit_head() or (0, GENESIS_HASH)
        signed = make_checkpoint(
            seq, head, time.time(), identity.key_id, identity.sign_audit_checkpoint
        )
    finally:
        store.close()
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


def register(app: typer.Typer) -> None:
    app.add_typer(gateway_app, name="gateway")
    app.add_typer(admin_app, name="admin")
    app.add_typer(audit_app, name="audit")
    app.command("classify")(classify_command)

    @app.command()
    def demo(
        data: Path = typer.Option(Path(".demo"), help="Where the demo keeps its files"),
        port: int = typer.Option(6432, help="Local port for psql"),
    ) -> None:
        """Run a complete local demo: embedded PostgreSQL, gateway, user, agent, open port."""
        from iap.demo import run_demo

        run_demo(data, port)

    @app.command("demo-code")
    def demo_code(data: Path = typer.Option(Path(".demo"))) -> None:
        """Print the demo user's current one-time code."""
        from iap.demo import current_code

        print(current_code(data))
