"""Gateway configuration: TOML -> typed pydantic models, and the one place for defaults.

Read once at the edge (`load_config`, again on a reload); nothing deeper reads files or the
environment for settings. Durations are written as strings ("90s", "5m", "1h", "0s") and
parsed to seconds. Owns what a person reads about the file too: errors name the file, the
section and the key in one line each (an unknown key with the closest known one), and
`config_reference()` renders every key of the models (type, default, meaning, whether a
reload applies it) as docs/config.md; `python -m iap.config` prints it.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import os
import re
import tomllib
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Le
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from iap.context import HOURS_EXAMPLE, Context, in_networks, parse_hours, parse_network

RISKS = ("read", "write", "ddl", "destructive", "admin", "unknown")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid (message says which)."""


def parse_duration(value: object) -> float:
    """'90s' / '5m' / '1h' / '0s' / a number of seconds -> seconds as float."""
    if isinstance(value, bool):
        raise ValueError("a duration is a string like '5m' or a number of seconds")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            return float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    raise ValueError(f"not a duration: {value!r} (write e.g. '30s', '5m', '1h')")


def format_duration(seconds: float) -> str:
    """Seconds -> the shortest exact duration string ('10m', '12h', '0s', '250ms')."""
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds * 1000:g}ms" if seconds else "0s"


Duration = Annotated[float, BeforeValidator(parse_duration)]


def _network(value: str) -> str:
    return str(parse_network(value))


def _hours(value: str | None) -> str | None:
    if value is not None:
        parse_hours(value)
    return value


Network = Annotated[str, AfterValidator(_network)]
HoursText = Annotated[str | None, AfterValidator(_hours)]


def split_address(address: str) -> tuple[str, int]:
    """'host:port' (or '[v6]:port') -> (host, port); the port is 0-65535."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"address must be host:port, got {address!r}")
    if int(port) > 65535:
        raise ValueError(f"port {int(port)} is out of range (0-65535) in {address!r}")
    return host.strip("[]"), int(port)


def _listen_address(value: str) -> str:
    """An address the gateway listens on: host:port, port 0 meaning any free port."""
    split_address(value)
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TLSConfig(_Model):
    """`[tls]`: the certificate of the control API and the tunnel port (and of direct
    listeners). Absent: the gateway makes its own CA and certificate under
    `<data_dir>/tls/` on first start; agents trust it with `iap login --ca <data_dir>/tls/ca.pem`.
    """

    cert: Path = Field(description="PEM certificate chain (relative: to the config's folder).")
    key: Path = Field(description="PEM private key of `cert` (relative: to the config's folder).")


class GatewaySection(_Model):
    """`[gateway]`: where the gateway keeps its state and where it listens."""

    data_dir: Path = Field(
        default=Path("/var/lib/iap"),
        description="The store (`iap.db`), signing keys, generated TLS files, pid files"
        " (relative: to the config's folder).",
    )
    api: str = Field(
        default="127.0.0.1:8700",
        description="host:port of the control API (HTTPS): logins, approvals, events, /metrics."
        " Port 0: any free port.",
    )
    public_url: str = Field(
        default="https://localhost:8700",
        description="How users reach the control API: the token issuer, and a name on the"
        " generated certificate. A DNS name, not an IP.",
    )
    tunnel: str = Field(
        default="127.0.0.1:8701",
        description="host:port of the tunnel port (TLS) that `iap connect` opens sessions"
        " through. Port 0: any free port.",
    )
    access_token_ttl: Duration = Field(
        default=600.0,
        description="How long an access token lives; the agent refreshes it silently."
        " A running session outlives its token.",
    )
    refresh_token_ttl: Duration = Field(
        default=12 * 3600.0,
        description="How long a login lasts: after this, `iap login` again.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Gateway log level (`iap gateway run --log-level` wins)."
    )
    max_unauthenticated: int = Field(
        default=512,
        ge=1,
        description="Connections not yet authenticated (TLS handshake, tunnel hello, listener"
        " token) at once; more are closed as soon as they are accepted.",
    )
    max_unauthenticated_per_source: int = Field(
        default=64,
        ge=1,
        description="The same, from one source address.",
    )
    trusted_proxies: tuple[Network, ...] = Field(
        default=(),
        description="Load balancers that put a PROXY protocol header (v1 or v2) before each"
        " connection they pass on (tunnel and direct listeners): a connection from one of"
        " these networks must start with one, and the client address it names is the one"
        " rules (`sources`), limits and logs see. Empty: no header is accepted.",
    )
    shutdown_grace: Duration = Field(
        default=10.0,
        description="On SIGTERM/SIGINT: how long running sessions may go on before they are"
        " closed (a second signal cuts it short).",
    )

    _address = field_validator("api", "tunnel")(_listen_address)


class ConnectionConfig(_Model):
    """`[[connections]]`: one database users reach by name (`iap connect NAME`). Repeat the
    table for each database; names are unique."""

    name: str = Field(
        description="What users type (`iap connect NAME`): letters, digits, `_ . -`,"
        " starting with a letter or digit."
    )
    kind: Literal["postgres", "mysql", "tcp"] = Field(
        default="postgres", description="The protocol (MariaDB is `mysql`)."
    )
    address: str = Field(
        description="The database: host:port, or for postgres a unix socket directory"
        ' ("/run/postgresql").'
    )
    database: str = Field(description="The one database sessions of this connection use.")
    user: str = Field(description="The database user the gateway logs in as (injected).")
    password_env: str | None = Field(
        default=None,
        description="Environment variable holding that user's password (read at start and"
        " at each backend login).",
    )
    password_file: Path | None = Field(
        default=None,
        description="Or a file holding it (relative: to the config's folder). Neither: no"
        " password.",
    )
    listen: str | None = Field(
        default=None,
        description="host:port of a direct listener (postgres only): clients connect without"
        " the agent, over TLS, with `iap token` as the password. Opened at start.",
    )
    tls: Literal["disable", "require", "verify-ca", "verify-full"] = Field(
        default="disable",
        description="TLS from the gateway to the database, as libpq's sslmode: `require`"
        " encrypts, `verify-ca` also checks the chain, `verify-full` the host name too"
        " (TCP addresses only).",
    )
    tls_ca: Path | None = Field(
        default=None,
        description="CA certificates for `verify-*`; default: the system's.",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(
                f"{v!r} is not a connection name: letters, digits and _ . -, starting with a"
                " letter or digit"
            )
        return v

    @field_validator("address")
    @classmethod
    def _backend_address(cls, v: str) -> str:
        if v.startswith("/"):
            return v  # a unix socket directory
        if split_address(v)[1] == 0:
            raise ValueError(f"port 0 is not a database's port in {v!r} (1-65535)")
        return v

    _listen = field_validator("listen")(_listen_address)

    @model_validator(mode="after")
    def _consistent(self) -> ConnectionConfig:
        if self.password_env and self.password_file:
            raise ValueError(
                f"connection {self.name}: give password_env or password_file, not both"
            )
        if self.uses_tls and (self.kind == "tcp" or self.is_unix_socket):
            raise ValueError(
                f"connection {self.name}: tls = {self.tls!r} needs a postgres or mysql"
                " connection over TCP (host:port)"
            )
        if self.tls_ca is not None and not self.tls.startswith("verify-"):
            raise ValueError(
                f"connection {self.name}: tls_ca is used only to verify the database's"
                f' certificate; set tls = "verify-full" (or "verify-ca"), not {self.tls!r}'
            )
        if self.listen is not None and self.kind != "postgres":
            raise ValueError(
                f"connection {self.name}: `listen` (a direct listener) is for postgres"
                f" connections only; {self.kind} clients connect through `iap connect`"
            )
        return self

    def password(self) -> str | None:
        """The injected backend password (read at the edge: at start and at each login)."""
        where = f"connection {self.name}"
        return read_secret(where, "password", self.password_env, self.password_file)

    @property
    def is_unix_socket(self) -> bool:
        return self.address.startswith("/")

    @property
    def uses_tls(self) -> bool:
        """The gateway talks TLS to this connection's database."""
        return self.tls != "disable"


RiskName = Literal["read", "write", "ddl", "destructive", "admin", "unknown"]


class Rule(_Model):
    """`[[rules]]`: what happens to a class of statements. The first rule that matches a
    statement (its connection, user, roles and risk class) decides; then the defaults below.
    A rule with context conditions (sources, not_sources, hours, not_hours) matches only in
    that context, and may only make a decision stricter (allow -> hold -> deny, peer instead
    of self, a fresher max_age): iap/policy.py. Such a rule cannot allow (it is refused)."""

    connections: tuple[str, ...] = Field(
        default=(), description='Connection name globs ("pg-*"); empty: every connection.'
    )
    users: tuple[str, ...] = Field(default=(), description="User name globs; empty: everyone.")
    roles: tuple[str, ...] = Field(
        default=(), description="The user has any of these roles; empty: any user."
    )
    risks: tuple[RiskName, ...] = Field(description="The risk classes this rule covers.")
    action: Literal["allow", "hold", "deny"] = Field(
        description="`allow` runs the statement, `hold` waits for approval, `deny` refuses it."
    )
    approval: Literal["self", "peer"] = Field(
        default="self",
        description="For `hold`: `self` (the requester, with a fresh one-time code) or `peer`"
        " (four eyes: another user).",
    )
    approver_roles: tuple[str, ...] = Field(
        default=(), description="For `peer`: roles that may approve; empty: any other user."
    )
    min_approvals: int = Field(
        default=1, ge=1, description="For `peer`: how many different approvers it takes."
    )
    max_age: Duration = Field(
        default=0.0,
        description='How recent the approver\'s one-time code must be; "0s": newer than the'
        " request (the code travels with `iap approve --code`).",
    )
    timeout: Duration = Field(
        default=300.0, description="How long a held statement waits before it expires."
    )
    grace: Duration = Field(
        default=0.0,
        description="After an approval, later statements of the same class or lower under this"
        " rule pass without a hold for this long (same user, connection and source network).",
    )
    sources: tuple[Network, ...] = Field(
        default=(),
        description='Context: the client\'s address is in one of these networks ("10.0.0.0/8");'
        " an address the gateway cannot read counts as in.",
    )
    not_sources: tuple[Network, ...] = Field(
        default=(),
        description="Context: the client's address is in none of these networks; an address the"
        " gateway cannot read counts as outside.",
    )
    hours: HoursText = Field(
        default=None,
        description=f'Context: the time is inside this weekly window ("{HOURS_EXAMPLE}"; days'
        " Mon-Sun as ranges or lists, an end before the start runs past midnight, no zone:"
        " UTC).",
    )
    not_hours: HoursText = Field(
        default=None, description="Context: the time is outside this weekly window."
    )

    @model_validator(mode="after")
    def _tightens(self) -> Rule:
        if self.has_context and self.action == "allow":
            raise ValueError(
                'a rule with context conditions only tightens: action = "allow" would never'
                ' apply (use "hold" or "deny", or drop the conditions)'
            )
        return self

    @property
    def has_context(self) -> bool:
        return bool(self.sources or self.not_sources or self.hours or self.not_hours)

    def context_signals(self, context: Context | None) -> tuple[str, ...] | None:
        """The context conditions met, as they are written in the reasons of a decision
        (None: one is not met, the rule does not apply). `context` None: unknown, so every
        condition counts as met (a context rule only tightens: that is the strict reading)."""
        signals: list[str] = []
        source = context.source if context is not None else None
        if self.sources:
            if source is None:
                signals.append(f"source unknown (counted as in {', '.join(self.sources)})")
            elif (found := in_networks(source, self.sources)) is not None:
                signals.append(f"source {source} in {found}")
            else:
                return None
        if self.not_sources:
            outside = ", ".join(self.not_sources)
            if source is None:
                signals.append(f"source unknown (counted as outside {outside})")
            elif in_networks(source, self.not_sources) is None:
                signals.append(f"source {source} outside {outside}")
            else:
                return None
        for window, inside in ((self.hours, True), (self.not_hours, False)):
            if window is None:
                continue
            if context is not None and parse_hours(window).contains(context.now) is not inside:
                return None
            signals.append(f"{'inside' if inside else 'outside'} hours {window}")
        return tuple(signals)

    def matches(self, *, connection: str, user: str, roles: tuple[str, ...], risk: str) -> bool:
        if risk not in self.risks:
            return False
        if self.connections and not any(
            fnmatch.fnmatchcase(connection, g) for g in self.connections
        ):
            return False
        if self.users and not any(fnmatch.fnmatchcase(user, g) for g in self.users):
            return False
        return not self.roles or any(r in roles for r in self.roles)


# Defaults when no rule matches (DESIGN.md): read/write allowed; ddl held for self approval with
# max_age 15m; destructive/admin/unknown held for self approval with max_age 0s; timeout 5m.
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(risks=("read", "write"), action="allow"),
    Rule(risks=("ddl",), action="hold", approval="self", max_age=900.0, timeout=300.0),
    Rule(
        risks=("destructive", "admin", "unknown"),
        action="hold",
        approval="self",
        max_age=0.0,
        timeout=300.0,
    ),
)


class PolicySection(_Model):
    """`[policy]`: how statements are read."""

    safe_functions: tuple[str, ...] = Field(
        default=(),
        description='User-defined functions the operator vouches for, as written in SQL ("f",'
        ' "s.f"): calling one is a read, not `unknown` (the statement is classified by the'
        " rest of it); a dangerous built-in cannot be made safe. Applies to sessions that"
        " start after a reload.",
    )
    max_statement_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Statements longer than this are not parsed: they are `unknown` (a rule"
        " may allow unknown on, say, a bulk-load connection). Parsing costs about 1 s and"
        " 100 MB per MB.",
    )
    hold_keepalive: Duration = Field(
        default=30.0,
        description="While a PostgreSQL statement is held: how often the client is told it"
        " still waits (a NOTICE, which also keeps drivers' socket read timeouts and idle"
        " middleboxes from ending the session) and the idle backend gets a Sync (which keeps"
        " idle_session_timeout and idle_in_transaction_session_timeout from ending it). 0s:"
        " off.",
    )


def read_secret(where: str, key: str, env: str | None, file: Path | None) -> str | None:
    """A secret given as `<key>_env` (an environment variable) or `<key>_file` (its trailing
    newline dropped); None when neither is set. ConfigError says what is missing."""
    if env:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(
                f"{where}: environment variable {env} is not set ({key}_env): set it in the"
                " gateway's environment"
            )
        return value
    if file:
        try:
            return file.read_text().rstrip("\n")
        except OSError as e:
            why = (e.strerror or str(e)).lower()
            raise ConfigError(f"{where}: cannot read {key}_file {file}: {why}") from None
    return None


class NotifySection(_Model):
    """`[notify]`: tell approvers where they are. Every request held, and its decision, is
    POSTed to `webhook` (iap/notify.py), off the sessions' path, retried with back-off."""

    webhook: str | None = Field(
        default=None,
        description="URL (http or https) that gets a JSON POST when a statement is held and when"
        " it is decided: id, user, connection, risk, statement, reasons, status, and the"
        " command to approve. None: no notifications.",
    )
    secret_env: str | None = Field(
        default=None,
        description="Environment variable with the key that signs each body: header"
        ' `X-Iap-Signature: sha256=<hex HMAC-SHA256 of "<X-Iap-Timestamp>.<body>">`.',
    )
    secret_file: Path | None = Field(
        default=None, description="Or a file holding it (relative: to the config's folder)."
    )
    slack: bool = Field(
        default=False,
        description='Send a Slack-compatible message (`{"text": ...}`) instead of the JSON'
        " event (an incoming-webhook URL).",
    )
    timeout: Duration = Field(default=10.0, description="How long one delivery attempt may take.")

    @field_validator("webhook")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"webhook must be an http:// or https:// URL, got {value!r}")
        return value

    @model_validator(mode="after")
    def _one_secret(self) -> NotifySection:
        if self.secret_env and self.secret_file:
            raise ValueError("give secret_env or secret_file, not both")
        return self

    def secret(self) -> str | None:
        """The signing key, read at the edge (start, reload)."""
        return read_secret("[notify]", "secret", self.secret_env, self.secret_file)


class AuditSection(_Model):
    """`[audit]`: how the audit trail is written (iap/auditqueue.py). Rows are committed in
    batches every 50 ms; a hard crash of the gateway can lose the last batch."""

    durable_from: Literal["read", "write", "ddl", "destructive", "admin"] | None = Field(
        default=None,
        description="Statements of this class and above (read < write < ddl < destructive <"
        " admin; unknown ranks with admin) wait until their audit row is committed and synced"
        " to disk, sharing one commit with the sessions waiting at the same time. None: off.",
    )

    def durable(self, risk: str) -> bool:
        """Whether a statement of class `risk` waits for a durable audit row."""
        if self.durable_from is None or risk not in RISKS:
            return False
        return RISKS.index(risk) >= RISKS.index(self.durable_from)


class GatewayConfig(_Model):
    gateway: GatewaySection = GatewaySection()
    tls: TLSConfig | None = None
    connections: tuple[ConnectionConfig, ...] = ()
    rules: tuple[Rule, ...] = ()
    policy: PolicySection = PolicySection()
    audit: AuditSection = AuditSection()
    notify: NotifySection = NotifySection()

    @model_validator(mode="after")
    def _unique_names(self) -> GatewayConfig:
        names = [c.name for c in self.connections]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"duplicate connection names: {', '.join(sorted(dupes))}")
        return self

    def connection(self, name: str) -> ConnectionConfig | None:
        return next((c for c in self.connections if c.name == name), None)

    @property
    def effective_rules(self) -> tuple[Rule, ...]:
        return self.rules + DEFAULT_RULES


# -- what a reload applies ------------------------------------------------------------------

# Keys a running gateway takes from a reloaded config; the rest of [gateway], [tls] and a
# connection's `listen` are bound at start (ports, files, listeners) and need a restart.
RELOADABLE_GATEWAY_KEYS = frozenset(
    {"access_token_ttl", "refresh_token_ttl", "log_level", "shutdown_grace"}
)


def restart_needed(old: GatewayConfig, new: GatewayConfig) -> list[str]:
    """The keys that differ between old and new that only a restart applies."""
    keys = [
        f"gateway.{k}"
        for k in GatewaySection.model_fields
        if k not in RELOADABLE_GATEWAY_KEYS and getattr(old.gateway, k) != getattr(new.gateway, k)
    ]
    if old.tls != new.tls:
        keys.append("tls")
    before = {c.name: c.listen for c in old.connections}
    keys += [
        f"connections.{c.name}.listen"
        for c in new.connections
        if c.listen != before.get(c.name) and (c.listen or c.name in before)
    ]
    keys += [
        f"connections.{name}.listen"
        for name, listen in before.items()
        if listen and new.connection(name) is None
    ]
    return keys


def for_reload(old: GatewayConfig, new: GatewayConfig) -> GatewayConfig:
    """`new`, except what only a restart applies, which stays as in `old`."""
    gateway = old.gateway.model_copy(
        update={k: getattr(new.gateway, k) for k in RELOADABLE_GATEWAY_KEYS}
    )
    return new.model_copy(update={"gateway": gateway, "tls": old.tls})


# -- reading the file -----------------------------------------------------------------------


def load_config(path: str | os.PathLike[str]) -> GatewayConfig:
    """Read and validate a gateway TOML file. Relative paths in it (data_dir, tls cert/key,
    password_file, tls_ca) are resolved against the file's folder, not the working directory.
    Raises ConfigError: one line per problem, each `FILE: [section] key: what is wrong`."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {p}") from None
    except OSError as e:
        raise ConfigError(f"cannot read config {p}: {(e.strerror or str(e)).lower()}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read config {p}: it is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"cannot read config {p}: not valid TOML: {e}") from None
    unknown = list(_unknown_keys(raw, GatewayConfig, ""))
    if unknown:
        raise ConfigError("\n".join(f"{p}: {problem}" for problem in unknown))
    base = p.resolve().parent

    def resolve(section: object, key: str) -> None:
        value = section.get(key) if isinstance(section, dict) else None
        if isinstance(section, dict) and isinstance(value, str) and not Path(value).is_absolute():
            section[key] = str(base / value)

    gateway = raw.setdefault("gateway", {})
    resolve(gateway, "data_dir")
    resolve(raw.get("tls"), "cert")
    resolve(raw.get("tls"), "key")
    connections = raw.get("connections")
    for connection in connections if isinstance(connections, list) else []:
        resolve(connection, "password_file")
        resolve(connection, "tls_ca")
    resolve(raw.get("notify"), "secret_file")
    try:
        return GatewayConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(
            "\n".join(f"{p}: {_describe(error)}" for error in e.errors(include_url=False))
        ) from None


def require_connections(config: GatewayConfig, path: str | os.PathLike[str]) -> None:
    """A gateway serves at least one connection (a file without any is refused at start)."""
    if not config.connections:
        raise ConfigError(
            f"{path}: no [[connections]]: the gateway would have nothing to serve; add one"
            " (docs/config.md lists its keys)"
        )


def check_secrets(config: GatewayConfig) -> None:
    """Every injected password readable now, in this process's environment: a missing
    secret is a start-up (or reload) error, not a session error. One line per problem."""
    problems = []
    for read in (*(c.password for c in config.connections), config.notify.secret):
        try:
            read()
        except ConfigError as e:
            problems.append(str(e))
    if problems:
        raise ConfigError("\n".join(problems))


def _submodel(annotation: Any) -> tuple[type[BaseModel], bool] | None:
    """(model, is_list) when a field holds a table (`[x]`) or an array of tables (`[[x]]`)."""
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return _submodel(inner[0]) if len(inner) == 1 else None
    if get_origin(annotation) is tuple:
        found = _submodel(get_args(annotation)[0])
        return (found[0], True) if found and not found[1] else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None


def _unknown_keys(table: object, model: type[BaseModel], where: str) -> Iterator[str]:
    """Every key in `table` the model does not know, with the closest one it does."""
    if not isinstance(table, dict):
        return  # a value of the wrong type: the model's validation says so
    known = list(model.model_fields)
    for key, value in table.items():
        field = model.model_fields.get(key)
        if field is None:
            yield _unknown(key, value, known, where)
            continue
        sub = _submodel(field.annotation)
        if sub is None:
            continue
        submodel, is_list = sub
        if is_list and isinstance(value, list):
            for n, item in enumerate(value, 1):
                yield from _unknown_keys(item, submodel, f"[[{key}]] #{n}")
        elif not is_list:
            yield from _unknown_keys(value, submodel, f"[{key}]")


def _unknown(key: str, value: object, known: list[str], where: str) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if not where and (
        isinstance(value, dict)
        or (isinstance(value, list) and value and all(isinstance(v, dict) for v in value))
    ):
        o, c = ("[", "]") if isinstance(value, dict) else ("[[", "]]")
        hint = f" (did you mean {o}{close[0]}{c}?)" if close else ""
        return f"unknown section {o}{key}{c}{hint}"
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    return f'unknown key "{key}" {f"in {where}" if where else "at the top level"}{hint}'


def _where(loc: tuple[int | str, ...]) -> tuple[str, list[int | str]]:
    """A pydantic error location -> (the section as written in TOML, the key path in it)."""
    if not loc:
        return "", []
    head, rest = str(loc[0]), list(loc[1:])
    field = GatewayConfig.model_fields.get(head)
    sub = _submodel(field.annotation) if field is not None else None
    if sub is not None and sub[1] and rest and isinstance(rest[0], int):
        return f"[[{head}]] #{rest[0] + 1}", rest[1:]
    if sub is not None and not sub[1] and rest:
        return f"[{head}]", rest
    return "", [head, *rest]


def _value(value: object) -> str:
    """A scalar as TOML would write it, shortened; nothing for tables and arrays."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 60 else value[:57] + "...")
    return ""


def _describe(error: Any) -> str:
    """One pydantic error as a person reads it: `[section] key: what is wrong`."""
    section, path = _where(tuple(error["loc"]))
    key = "".join(f"[{p + 1}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return f'{section or "top level"}: missing key "{key}"'
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        what = str(ctx["error"])
    elif kind == "literal_error":
        what = f"expected {ctx.get('expected', 'another value')}"
    else:
        what = str(error["msg"]).replace("Input should be", "should be")
    given = _value(error.get("input"))
    if given and kind != "value_error":
        what = f"{given}: {what}"
    located = " ".join(part for part in (section, key) if part)
    return f"{located}: {what}" if located else what


# -- the reference (docs/config.md) -----------------------------------------------------------

SECTIONS: tuple[tuple[str, type[_Model]], ...] = (
    ("[gateway]", GatewaySection),
    ("[tls]", TLSConfig),
    ("[[connections]]", ConnectionConfig),
    ("[[rules]]", Rule),
    ("[policy]", PolicySection),
    ("[audit]", AuditSection),
    ("[notify]", NotifySection),
)


def _is_duration(field: FieldInfo) -> bool:
    return any(isinstance(m, BeforeValidator) and m.func is parse_duration for m in field.metadata)


def _type_text(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _type_text(args[0])
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_text(a) for a in args if a is not type(None))
    if origin is tuple:
        return f"list of {_type_text(args[0]).removeprefix('one of ')}"
    names = {str: "string", int: "integer", float: "number", bool: "boolean", Path: "path"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _field_type(field: FieldInfo) -> str:
    text = "duration" if _is_duration(field) else _type_text(field.annotation)
    for m in field.metadata:
        if isinstance(m, Ge):
            text += f" ≥ {m.ge}"
        if isinstance(m, Le):
            text += f" ≤ {m.le}"
    return text


def _default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.default
    if value is None:
        return "none"
    if _is_duration(field):
        return f'`"{format_duration(value)}"`'
    if isinstance(value, str | Path):
        return f'`"{value}"`'
    if isinstance(value, tuple):
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    return f"`{value}`"


def _reload_text(section: str, key: str) -> str:
    if section == "[tls]" or (section == "[gateway]" and key not in RELOADABLE_GATEWAY_KEYS):
        return "restart"
    return "restart" if (section, key) == ("[[connections]]", "listen") else "reload"


def _rule_text(rule: Rule) -> str:
    text = f"`{rule.action}`"
    if rule.action == "hold":
        text += f", {rule.approval} approval, max_age `{format_duration(rule.max_age)}`"
        text += f", timeout `{format_duration(rule.timeout)}`"
    return text


def config_reference() -> str:
    """docs/config.md: every key of the gateway's TOML file, from the models above."""
    out = [
        "# Gateway configuration reference",
        "",
        "<!-- Generated from iap/config.py by `iap gateway config-reference > docs/config.md`;"
        " tests/iap/test_config_reference.py checks it is current. Do not edit by hand. -->",
        "",
        "One TOML file, given as `iap gateway run --config FILE` (or `$IAP_CONFIG`). Relative"
        " paths in it are relative to the file's folder. Durations are strings such as"
        ' `"250ms"`, `"30s"`, `"5m"`, `"1h"`, `"1d"` (or a number of seconds). Globs use `*`'
        " and `?`. `iap gateway check --config FILE` validates a file without starting"
        " anything.",
        "",
        "**reload**: a running gateway applies the key on `SIGHUP` or"
        " `iap admin reload --config FILE` (new connections and rules apply to the next"
        " statement of every session; a session whose connection was removed, or whose user"
        " may no longer read on it, ends). **restart**: only a restart applies it; a reload"
        " that changes it logs `event=reload_restart_needed`.",
        "",
    ]
    for title, model in SECTIONS:
        doc = " ".join((model.__doc__ or "").split())
        out += [f"## `{title}`", "", doc, "", "| key | type | default | on | meaning |"]
        out.append("| --- | --- | --- | --- | --- |")
        for key, field in model.model_fields.items():
            meaning = " ".join((field.description or "").split())
            cells = [f"`{key}`", _field_type(field), _default_text(field)]
            cells += [_reload_text(title, key), meaning]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    out += [
        "## Defaults when no rule matches",
        "",
        "After the `[[rules]]` of the file, these apply (first match wins; nothing matching"
        " is a denial):",
        "",
        "| risks | action |",
        "| --- | --- |",
        *(f"| {', '.join(rule.risks)} | {_rule_text(rule)} |" for rule in DEFAULT_RULES),
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    print(config_reference(), end="")
