"""Gateway configuration: TOML -> typed pydantic models, and the one place for defaults.

Read once at the edge (`load_config`); nothing deeper reads files or the environment for
settings. Durations are written as strings ("90s", "5m", "1h", "0s") and parsed to seconds.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

RISKS = ("read", "write", "ddl", "destructive", "admin", "unknown")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


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


Duration = Annotated[float, BeforeValidator(parse_duration)]


def split_address(address: str) -> tuple[str, int]:
    """'host:port' (or '[v6]:port') -> (host, port)."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"address must be host:port, got {address!r}")
    return host.strip("[]"), int(port)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TLSConfig(_Model):
    """Certificate for the API and tunnel listeners; when absent one is generated."""

    cert: Path
    key: Path


class GatewaySection(_Model):
    data_dir: Path = Path("/var/lib/iap")
    api: str = "127.0.0.1:8700"
    public_url: str = "https://localhost:8700"
    tunnel: str = "127.0.0.1:8701"
    access_token_ttl: Duration = 600.0
    refresh_token_ttl: Duration = 12 * 3600.0
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Connections not yet authenticated (TLS handshake, tunnel hello, listener token), in all
    # and from one source address; more are closed as soon as they are accepted.
    max_unauthenticated: int = Field(default=512, ge=1)
    max_unauthenticated_per_source: int = Field(default=64, ge=1)
    # On SIGTERM/SIGINT: how long running sessions may go on before they are closed.
    shutdown_grace: Duration = 10.0

    @field_validator("api", "tunnel")
    @classmethod
    def _address(cls, v: str) -> str:
        split_address(v)
        return v


class ConnectionConfig(_Model):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: Literal["postgres", "mysql", "tcp"] = "postgres"
    address: str  # host:port, or a unix socket directory for postgres ("/run/postgresql")
    database: str
    user: str
    password_env: str | None = None
    password_file: Path | None = None
    listen: str | None = None
    # TLS from the gateway to the database, named as libpq's sslmode: "require" encrypts,
    # "verify-ca" also checks the certificate chain, "verify-full" the host name as well.
    tls: Literal["disable", "require", "verify-ca", "verify-full"] = "disable"
    tls_ca: Path | None = None  # CA certificates for verify-*; default: the system's

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
        """The injected backend password (read at the edge when the gateway starts)."""
        if self.password_env:
            value = os.environ.get(self.password_env)
            if value is None:
                raise ConfigError(
                    f"connection {self.name}: environment variable {self.password_env} is not set"
                )
            return value
        if self.password_file:
            try:
                return self.password_file.read_text().rstrip("\n")
            except OSError as e:
                raise ConfigError(f"connection {self.name}: cannot read password_file: {e}") from e
        return None

    @property
    def is_unix_socket(self) -> bool:
        return self.address.startswith("/")

    @property
    def uses_tls(self) -> bool:
        """The gateway talks TLS to this connection's database."""
        return self.tls != "disable"


class Rule(_Model):
    """One `[[rules]]` entry. First matching rule wins; then the defaults below."""

    connections: tuple[str, ...] = ()  # globs; empty = all
    users: tuple[str, ...] = ()  # globs; empty = all
    roles: tuple[str, ...] = ()  # the user has any of these; empty = all
    risks: tuple[Literal["read", "write", "ddl", "destructive", "admin", "unknown"], ...]
    action: Literal["allow", "hold", "deny"]
    approval: Literal["self", "peer"] = "self"
    approver_roles: tuple[str, ...] = ()
    min_approvals: int = Field(default=1, ge=1)
    max_age: Duration = 0.0
    timeout: Duration = 300.0
    grace: Duration = 0.0

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
    safe_functions: tuple[str, ...] = ()  # user-defined functions the operator vouches for
    # Statements longer than this are not parsed: they are `unknown` (a rule may allow
    # unknown for, say, a bulk-load connection). Parsing costs about 1 s and 100 MB per MB.
    max_statement_bytes: int = Field(default=1024 * 1024, ge=1024)


class AuditSection(_Model):
    """`[audit]`: how the audit trail is written (iap/auditqueue.py).

    `durable_from`: statements of this class and above (read < write < ddl < destructive <
    admin; unknown ranks with admin) wait until their audit row is committed and synced to
    disk, sharing one commit with the sessions that wait at the same time (group commit).
    Absent (the default): rows are committed in batches every 50 ms, and a hard crash of the
    gateway can lose the last batch.
    """

    durable_from: Literal["read", "write", "ddl", "destructive", "admin"] | None = None

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


def load_config(path: str | os.PathLike[str]) -> GatewayConfig:
    """Read and validate a gateway TOML file. Relative paths in it (data_dir, tls cert/key,
    password_file, tls_ca) are resolved against the file's folder, not the working directory."""
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {p}") from None
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read config {p}: {e}") from e
    base = p.resolve().parent

    def resolve(section: object, key: str) -> None:
        value = section.get(key) if isinstance(section, dict) else None
        if isinstance(section, dict) and isinstance(value, str) and not Path(value).is_absolute():
            section[key] = str(base / value)

    resolve(raw.setdefault("gateway", {}), "data_dir")
    resolve(raw.get("tls"), "cert")
    resolve(raw.get("tls"), "key")
    for connection in raw.get("connections", []):
        resolve(connection, "password_file")
        resolve(connection, "tls_ca")
    try:
        return GatewayConfig.model_validate(raw)
    except ValueError as e:
        raise ConfigError(f"invalid config {p}:\n{e}") from e
