"""Around a PostgreSQL session: the client's startup packet (and TLS on a direct listener),
the review of its startup parameters (`options` read exactly as the server reads it, and
passed on rewritten as what was read), the listener token, the backend login (whose messages
are bounded and whose protocol errors reach the client as FATAL 08P01), and cancel keys.

`iap.engines.postgres` runs the session itself; this module gets both ends to the point
where it can start, and routes CancelRequests (which arrive on connections of their own) to
the session or the backend they are for, in this worker or, through the store, another.
"""

from __future__ import annotations

import contextlib
import logging
import re
import ssl
from functools import partial

import trio

from iap.classify import Risk, classify_setting
from iap.config import ConnectionConfig, split_address
from iap.engines import backend_tls
from iap.engines.relay import RECV_SIZE
from iap.identity import LISTENER_AUDIENCE, AuthError, Claims
from iap.netio import FastStream, authenticated, connect_tcp, connect_unix
from iap.services import Services
from protocols.errors import ProtocolError
from protocols.postgres import messages as pgm
from protocols.postgres.auth import AuthenticationFailed, ClientAuthenticator
from protocols.postgres.connection import CLOSED, NEED_DATA, Connection, Role

log = logging.getLogger("iap.postgres")

STARTUP_TIMEOUT = 30.0
LOGIN_TIMEOUT = 30.0  # reaching and logging in to the backend
# Largest message the backend may send during the login (authentication requests,
# ParameterStatus, notices, errors: libpq allows 30000 bytes for most of them).
LOGIN_MESSAGE_LIMIT = 1024 * 1024

# Startup parameters that are part of the connection, not settings to classify.
_CONNECTION_PARAMS = {"user", "database"}
_FALSE = {"0", "false", "off", "no"}


class StartupRefused(Exception):
    """The client's startup cannot be served; `error` goes to the client as FATAL."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# -- the startup `options` parameter, read as the server reads it ------------------------------
#
# The server splits `options` into words with pg_split_opts (src/backend/utils/init/postinit.c):
# words end at whitespace (C isspace), and a backslash makes the next character, whatever it
# is, part of the word. The words then go through process_postgres_switches
# (src/backend/tcop/postgres.c) with glibc's getopt and the optstring below: -c name=value,
# -cname=value and --name=value set name (ParseLongOption: split at the first "=", "-" in
# the name becomes "_"), other switches set fixed settings or are ignored, and anything else
# (a non-option word, an unknown switch, a missing argument) ends the connection.

_C_SPACE = frozenset(" \t\n\v\f\r")  # isspace() of the C locale
# The server's isspace() follows the database's locale (LC_CTYPE), which may count bytes
# above 0x7f or other control characters as spaces: only these are read with certainty.
_READABLE = frozenset(map(chr, range(0x20, 0x7F))) | _C_SPACE
_ARG_SWITCHES = frozenset("BCDNSWcdfhkprtv-")  # "B:bc:C:D:d:EeFf:h:ijk:lN:nOPp:r:S:sTt:v:W:-:"
_FLAG_SWITCHES = frozenset("EFOPTbeijlns")
# Switches that set one setting: flags to a value of their own, the others to their argument.
_FLAG_SETTINGS = {
    "e": ("datestyle", "euro"),
    "F": ("fsync", "false"),
    "i": ("listen_addresses", "*"),
    "l": ("ssl", "true"),
    "O": ("allow_system_table_mods", "true"),
    "P": ("ignore_system_indexes", "true"),
    "s": ("log_statement_stats", "true"),
}
_ARG_SETTINGS = {
    "B": "shared_buffers",
    "h": "listen_addresses",
    "k": "unix_socket_directories",
    "N": "max_connections",
    "p": "port",
    "S": "work_mem",
    "W": "post_auth_delay",
}
# Ignored by a backend for its client (they act only in a standalone server): b C D E j n r T v.
_PLAN_SWITCHES = {  # -f X: set_plan_disabling_options
    "s": "enable_seqscan",
    "i": "enable_indexscan",
    "o": "enable_indexonlyscan",
    "b": "enable_bitmapscan",
    "t": "enable_tidscan",
    "n": "enable_nestloop",
    "m": "enable_mergejoin",
    "h": "enable_hashjoin",
}
_STATS_SWITCHES = {"pa": "log_parser_stats", "pl": "log_planner_stats", "e": "log_executor_stats"}
_ATOI = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]*)")


def _invalid_argument(word: str) -> StartupRefused:
    return StartupRefused("42601", f"invalid command-line argument for server process: {word}")


def split_options(options: str) -> list[str]:
    """The words of `options`, exactly as pg_split_opts makes them."""
    words: list[str] = []
    i, end = 0, len(options)
    while i < end:
        while i < end and options[i] in _C_SPACE:
            i += 1
        if i == end:
            break
        word: list[str] = []
        escaped = False
        while i < end and (escaped or options[i] not in _C_SPACE):
            if not escaped and options[i] == "\\":
                escaped = True
            else:
                escaped = False
                word.append(options[i])
            i += 1
        words.append("".join(word))  # (a backslash ending the string adds nothing to it)
    return words


def option_switches(words: list[str]) -> list[tuple[str, str | None]]:
    """(switch, argument) pairs as getopt reads the words; StartupRefused (42601) where the
    server ends the connection instead."""
    switches: list[tuple[str, str | None]] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":  # the end of the options: nothing may follow
            if i < len(words):
                raise _invalid_argument(words[i])
            break
        if len(word) < 2 or word[0] != "-":
            raise _invalid_argument(word)
        for j in range(1, len(word)):
            switch = word[j]
            if switch in _ARG_SWITCHES:
                if j + 1 < len(word):
                    argument = word[j + 1 :]
                elif i < len(words):
                    argument = words[i]
                    i += 1
                else:
                    raise _invalid_argument(word)
                switches.append((switch, argument))
                break
            if switch not in _FLAG_SWITCHES:
                raise _invalid_argument(word)
            switches.append((switch, None))
    return switches


def _debug_settings(argument: str) -> list[tuple[str, str]]:
    """-d N: set_debug_options(atoi(N)) for a backend."""
    digits = _ATOI.match(argument)
    text = digits.group(1) if digits else ""
    if len(text.lstrip("+-")) > 9:
        raise StartupRefused("42501", f"startup option -d {argument!r} is not read by iap")
    level = int(text) if text.lstrip("+-") else 0
    settings = [("log_min_messages", f"debug{level}" if level > 0 else "notice")]
    for at_least, name, value in (
        (2, "log_statement", "all"),
        (3, "debug_print_parse", "true"),
        (4, "debug_print_plan", "true"),
        (5, "debug_print_rewritten", "true"),
    ):
        if level >= at_least:
            settings.append((name, value))
    return settings


def _switch_settings(switch: str, argument: str | None) -> list[tuple[str, str]]:
    """The settings one switch makes, in the server's order."""
    if argument is None:
        flag = _FLAG_SETTINGS.get(switch)
        return [flag] if flag else []
    if switch in "c-":
        name, sep, value = argument.partition("=")
        if not sep:
            what = f"--{argument}" if switch == "-" else f"-c {argument}"
            raise StartupRefused("42601", f"{what} requires a value")
        return [(name.replace("-", "_"), value)]
    if switch in _ARG_SETTINGS:
        return [(_ARG_SETTINGS[switch], argument)]
    if switch == "d":
        return _debug_settings(argument)
    if switch == "f":
        setting = _PLAN_SWITCHES.get(argument[:1])
    elif switch == "t":
        setting = _STATS_SWITCHES.get(argument[:2]) or _STATS_SWITCHES.get(argument[:1])
    else:
        return []
    if setting is None:
        raise _invalid_argument(argument)
    return [(setting, "false" if switch == "f" else "true")]


def read_options(options: str) -> list[tuple[str, str]]:
    """The settings (name, value), in order, that the server makes of the startup `options`;
    StartupRefused where it refuses them (42601), or where iap cannot be sure (42501)."""
    odd = next((c for c in options if c not in _READABLE), None)
    if odd is not None:
        raise StartupRefused(
            "42501",
            f"startup options with the character {odd!r} are not allowed through iap: the"
            " server splits them by its locale",
        )
    return [
        setting
        for switch, argument in option_switches(split_options(options))
        for setting in _switch_settings(switch, argument)
    ]


def _escape_word(text: str) -> str:
    return "".join("\\" + c if c in _C_SPACE or c == "\\" else c for c in text)


def encode_options(settings: list[tuple[str, str]]) -> str:
    """`options` that the server reads as exactly these settings (read_options' inverse)."""
    return " ".join(f"-c {_escape_word(f'{name}={value}')}" for name, value in settings)


async def read_startup(
    client: trio.abc.Stream, conn: Connection, initial: bytes, *, tls: ssl.SSLContext | None = None
) -> tuple[pgm.StartupMessage | pgm.CancelRequest | None, trio.abc.Stream]:
    """The client's startup packet, and the stream to go on with. Inside the agent's tunnel
    (`tls` None) an SSLRequest is declined: that leg is already encrypted. On a direct
    listener it is accepted and the TLS handshake happens here."""
    if initial:
        conn.receive_data(initial)
    while True:
        msg = conn.next_message()
        if msg is CLOSED:
            return None, client
        if msg is NEED_DATA:
            data = await client.receive_some(RECV_SIZE)
            if not data:
                return None, client
            conn.receive_data(data)
        elif isinstance(msg, pgm.SSLRequest) and tls is not None and isinstance(client, FastStream):
            if conn.pending_bytes:
                # Bytes sent before the handshake would be trusted as if they came over TLS.
                raise ProtocolError("data after SSLRequest before the TLS handshake")
            await client.send_all(conn.send(pgm.SSLResponse(accepted=True)))
            client = await FastStream.wrap_tls(client.socket, tls, server_side=True)
            tls = None
        elif isinstance(msg, pgm.SSLRequest):
            await client.send_all(conn.send(pgm.SSLResponse(accepted=False)))
        elif isinstance(msg, pgm.GSSENCRequest):
            await client.send_all(conn.send(pgm.GSSENCResponse(accepted=False)))
        elif isinstance(msg, pgm.StartupMessage | pgm.CancelRequest):
            return msg, client
        else:
            raise ProtocolError(f"unexpected startup message {type(msg).__name__}")


def check_startup(msg: pgm.StartupMessage, connection: ConnectionConfig) -> dict[str, str]:
    """Classify each startup parameter as the equivalent SET; returns those to pass on."""
    params = msg.params
    replication = params.pop("replication", None)
    if replication is not None and replication.lower() not in _FALSE:
        raise StartupRefused("42501", "replication connections are not allowed through iap")
    database = params.get("database")
    if database and database != connection.database:
        raise StartupRefused(
            "3D000",
            f'database "{database}" is not available through connection "{connection.name}"'
            f' (it serves "{connection.database}")',
        )
    passed: dict[str, str] = {}
    for name, value in params.items():
        if name in _CONNECTION_PARAMS or name.startswith("_pq_."):
            continue
        settings = read_options(value) if name == "options" else [(name, value)]
        for setting, setting_value in settings:
            cls = classify_setting(setting, setting_value, "postgres")
            if cls.risk is not Risk.READ:
                why = "; ".join(cls.reasons) or cls.risk.value
                raise StartupRefused(
                    "42501",
                    f"startup parameter {setting}={setting_value!r} is not allowed at connection"
                    f" start ({why}); run SET in the session so policy can review it",
                )
        if name != "options":
            passed[name] = value
        elif settings:  # the server gets what iap read, written so that it cannot differ
            passed[name] = encode_options(settings)
    return passed


async def open_backend(connection: ConnectionConfig) -> FastStream:
    """A connection to the database, over TLS when the connection's `tls` asks for it
    (BackendTLSError when that cannot be had)."""
    if connection.is_unix_socket:
        path = connection.address
        if not path.rsplit("/", 1)[-1].startswith(".s.PGSQL."):
            path = path.rstrip("/") + "/.s.PGSQL.5432"
        return await connect_unix(path)
    host, port = split_address(connection.address)
    stream = await connect_tcp(host, port)
    if not connection.uses_tls:
        return stream
    try:
        await stream.send_all(pgm.SSLRequest().encode())
        answer = await stream.receive_some(1)  # exactly one byte: nothing may ride along
    except BaseException:
        await stream.aclose()
        raise
    if answer != b"S":
        await stream.aclose()
        raise backend_tls.refused(connection)
    return await backend_tls.start_tls(stream, connection)


async def login_backend(
    backend: trio.abc.Stream, connection: ConnectionConfig, params: dict[str, str]
) -> tuple[list[pgm.ParameterStatus], pgm.BackendKeyData | None, pgm.ReadyForQuery]:
    conn = Connection(Role.CLIENT, max_message_size=LOGIN_MESSAGE_LIMIT)
    startup = {"user": connection.user, "database": connection.database, **params}
    await backend.send_all(conn.send(pgm.StartupMessage.make(startup)))
    auth = ClientAuthenticator(connection.user, connection.password())
    statuses: list[pgm.ParameterStatus] = []
    key: pgm.BackendKeyData | None = None
    while True:
        msg = await _next_message(backend, conn, "the database")
        if isinstance(msg, pgm.ErrorResponse):
            raise StartupRefused(
                msg.code or "08006", f"the database refused the login: {msg.message}"
            )
        if isinstance(msg, pgm.ParameterStatus):
            statuses.append(msg)
        elif isinstance(msg, pgm.BackendKeyData):
            key = msg
        elif isinstance(msg, pgm.ReadyForQuery):
            return statuses, key, msg
        elif isinstance(
            msg, pgm.AuthenticationOk | pgm.NegotiateProtocolVersion | pgm.NoticeResponse
        ):
            continue
        else:
            try:
                reply = auth.respond(msg)
            except AuthenticationFailed as e:  # no password configured, bad SCRAM proof, GSS...
                raise StartupRefused("28000", f"iap could not log in to the database: {e}") from e
            except ProtocolError as e:  # not an authentication request
                raise StartupRefused(
                    "08P01", f"iap: the database broke the protocol during login: {e}"
                ) from e
            if reply is not None:
                await backend.send_all(conn.send(reply))


async def _next_message(stream: trio.abc.Stream, conn: Connection, who: str) -> pgm.Message:
    """The next message during a login; the peer leaving is a StartupRefused (08006), a message
    that breaks the protocol (an absurd length, say) one with 08P01."""
    while True:
        try:
            msg = conn.next_message()
        except ProtocolError as e:
            raise StartupRefused("08P01", f"iap: {who} broke the protocol during login: {e}") from e
        if msg is CLOSED:
            raise StartupRefused("08006", f"{who} closed the connection during login")
        if msg is not NEED_DATA:
            return msg
        data = await stream.receive_some(RECV_SIZE)
        if not data:
            raise StartupRefused("08006", f"{who} closed the connection during login")
        conn.receive_data(data)


async def send_fatal(client: trio.abc.Stream, code: str, message: str) -> None:
    error = pgm.ErrorResponse.make(severity="FATAL", code=code, message=message)
    with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
        await client.send_all(error.encode())


async def cancel_backend(connection: ConnectionConfig, process_id: int, secret_key: int) -> None:
    """Forward a CancelRequest to the backend (a fresh connection, as the protocol wants;
    over TLS too when the connection has it, so the key is not sent in the clear)."""
    with trio.move_on_after(5):
        try:
            stream = await open_backend(connection)
            async with stream:
                await stream.send_all(pgm.CancelRequest(process_id, secret_key).encode())
                await stream.receive_some(1)  # the server closes without answering
        except (OSError, trio.BrokenResourceError, backend_tls.BackendTLSError) as e:
            log.warning("cancel not delivered connection=%s: %s", connection.name, e)


async def handle_cancel(services: Services, process_id: int, secret_key: int) -> None:
    """A CancelRequest: ends a hold in progress, or is passed on to the session's backend."""
    session = services.live.by_key((process_id, secret_key))
    if session is not None and session.connection.kind == "postgres":  # not a MySQL id's
        if session.request_cancel():
            log.info("cancel ended a hold session=%s", session.id)
        elif session.cancel_backend is not None:
            await session.cancel_backend()
    elif services.workers > 1:
        await _cancel_in_other_worker(services, process_id, secret_key)
    else:
        log.info("cancel request with an unknown key ignored")


async def _cancel_in_other_worker(services: Services, process_id: int, secret_key: int) -> None:
    """The session lives in another worker: end its hold through the store (the holding
    worker reads the request's status back within a second), or cancel its backend query
    with the backend's own key."""
    key, ended_hold = await services.live.elsewhere((process_id, secret_key))
    if key is None:
        log.info("cancel request with an unknown key ignored")
        return
    connection = services.config.connection(key.connection)
    if not ended_hold and connection is not None and key.backend_pid is not None:
        assert key.backend_secret is not None
        await cancel_backend(connection, key.backend_pid, key.backend_secret)


async def check_token(
    services: Services,
    client: trio.abc.Stream,
    conn: Connection,
    startup: pgm.StartupMessage,
    connection: ConnectionConfig,
) -> Claims:
    """Ask for the password and verify it as a listener token for the startup's user."""
    await client.send_all(conn.send(pgm.AuthenticationCleartextPassword()))
    msg = await _next_message(client, conn, "the client")
    if not isinstance(msg, pgm.PasswordMessage):
        raise StartupRefused("28000", "expected a password (the output of `iap token`)")
    try:
        token = msg.password.decode("utf-8", "replace").strip()
        # in a worker thread: verifying reads the user from the store
        verify = partial(services.identity.verify_access_token, token, audience=LISTENER_AUDIENCE)
        claims = await trio.to_thread.run_sync(verify)
    except AuthError as e:
        services.audit_auth(
            startup.params.get("user", "?"), "listener", str(e), connection=connection.name
        )
        raise StartupRefused(
            "28P01",
            f"iap: the password is not a valid listener token ({e}); use the output of"
            " `iap token` (it lives 5 minutes)",
        ) from None
    asked = startup.params.get("user")
    if asked and asked != claims.sub:
        failure = f"the token belongs to user {claims.sub!r}, not {asked!r}"
        services.audit_auth(claims.sub, "listener", failure, connection=connection.name)
        raise StartupRefused("28000", f"iap: {failure}")
    services.audit_auth(claims.sub, "listener", None, connection=connection.name)
    authenticated()  # no longer counts against the limits on unauthenticated connections
    return claims
