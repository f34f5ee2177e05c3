"""Around a PostgreSQL session: the client's startup packet (and TLS on a direct listener),
the review of its startup parameters, the listener token, the backend login, and cancel keys.

`iap.engines.postgres` runs the session itself; this module gets both ends to the point
where it can start, and routes CancelRequests (which arrive on connections of their own) to
the session or the backend they are for, in this worker or, through the store, another.
"""

from __future__ import annotations

import contextlib
import logging
import ssl

import trio

from iap.classify import Risk, classify_setting
from iap.config import ConnectionConfig, split_address
from iap.engines import backend_tls
from iap.engines.relay import RECV_SIZE
from iap.identity import LISTENER_AUDIENCE, AuthError, Claims
from iap.netio import FastStream, connect_tcp, connect_unix
from iap.services import Services
from iap.session import CANCELLED
from protocols.errors import ProtocolError
from protocols.postgres import messages as pgm
from protocols.postgres.auth import AuthenticationFailed, ClientAuthenticator
from protocols.postgres.connection import CLOSED, NEED_DATA, Connection, Role

log = logging.getLogger("iap.postgres")

STARTUP_TIMEOUT = 30.0
LOGIN_TIMEOUT = 30.0  # reaching and logging in to the backend

# Startup parameters that are part of the connection, not settings to classify.
_CONNECTION_PARAMS = {"user", "database"}
_FALSE = {"0", "false", "off", "no"}


class StartupRefused(Exception):
    """The client's startup cannot be served; `error` goes to the client as FATAL."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def options_settings(options: str) -> list[tuple[str, str]]:
    """`-c name=value` / `--name=value` items of the startup `options` parameter."""
    words = options.replace("\\ ", "\0").split()
    settings: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        word = words[i].replace("\0", " ")
        if word == "-c" and i + 1 < len(words):
            item = words[i + 1].replace("\0", " ")
            i += 2
        elif word.startswith("-c") or word.startswith("--"):
            item, i = word[2:], i + 1
        else:
            raise StartupRefused("42501", f"startup option {word!r} is not allowed through iap")
        name, sep, value = item.partition("=")
        if not sep:
            raise StartupRefused("42601", f"startup option {item!r} has no value")
        settings.append((name.replace("-", "_"), value))
    return settings


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
        settings = options_settings(value) if name == "options" else [(name, value)]
        for setting, setting_value in settings:
            cls = classify_setting(setting, setting_value, "postgres")
            if cls.risk is not Risk.READ:
                why = "; ".join(cls.reasons) or cls.risk.value
                raise StartupRefused(
                    "42501",
                    f"startup parameter {setting}={setting_value!r} is not allowed at connection"
                    f" start ({why}); run SET in the session so policy can review it",
                )
        passed[name] = value
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
    conn = Connection(Role.CLIENT)
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
            if reply is not None:
                await backend.send_all(conn.send(reply))


async def _next_message(stream: trio.abc.Stream, conn: Connection, who: str) -> pgm.Message:
    """The next message during a login; the peer leaving is a StartupRefused (08006)."""
    while True:
        msg = conn.next_message()
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
    session_id = services.cancel_keys.get((process_id, secret_key))
    session = services.sessions.get(session_id) if session_id else None
    if session is not None:
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
    key = services.store.get_cancel_key(process_id, secret_key)
    if key is None:
        log.info("cancel request with an unknown key ignored")
        return
    held = [
        r for r in services.store.list_requests(status="pending") if r.session_id == key.session_id
    ]
    for request in held:
        services.approvals.finish(request.id, "cancelled", CANCELLED)
        log.info("cancel ended a hold in another worker session=%s", key.session_id)
    connection = services.config.connection(key.connection)
    if not held and connection is not None and key.backend_pid is not None:
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
        claims = services.identity.verify_access_token(token, audience=LISTENER_AUDIENCE)
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
    return claims
