"""TLS from the gateway to a connection's database, for every protocol.

A connection's `tls` setting names what the gateway insists on, as libpq's sslmode does:
"require" encrypts without checking who answers, "verify-ca" checks the certificate chain
against `tls_ca` (or the system's CAs), "verify-full" also checks the host name of the
connection's address. Each protocol asks the server to start TLS its own way (PostgreSQL's
SSLRequest, MySQL's SSL request packet); this module holds what they share: the client
context, the handshake, and one error for every way it can fail.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from iap.config import ConnectionConfig, split_address
from iap.netio import FastStream


class BackendTLSError(Exception):
    """The database would not or could not do TLS as the connection's `tls` asks."""


_contexts: dict[tuple[str, Path | None], ssl.SSLContext] = {}


def client_context(connection: ConnectionConfig) -> ssl.SSLContext | None:
    """The context for the connection's `tls` mode (None: plaintext). Built once per mode
    and CA file (loading CAs costs milliseconds)."""
    if not connection.uses_tls:
        return None
    key = (connection.tls, connection.tls_ca)
    context = _contexts.get(key)
    if context is None:
        context = ssl.create_default_context(cafile=connection.tls_ca)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.check_hostname = connection.tls == "verify-full"
        if connection.tls == "require":
            context.verify_mode = ssl.CERT_NONE
        _contexts[key] = context
    return context


async def start_tls(stream: FastStream, connection: ConnectionConfig) -> FastStream:
    """The TLS handshake over `stream`, once the server agreed to it (on failure the socket
    is closed)."""
    context = client_context(connection)
    assert context is not None
    host, _ = split_address(connection.address)
    try:
        return await FastStream.wrap_tls(
            stream.socket,
            context,
            server_side=False,
            server_hostname=host if context.check_hostname else None,
        )
    except ssl.SSLCertVerificationError as e:
        raise BackendTLSError(
            f"the certificate of the database of connection {connection.name} was not"
            f" accepted (tls = {connection.tls!r}): {e.verify_message}"
        ) from e
    except (ssl.SSLError, OSError) as e:
        raise BackendTLSError(
            f"the TLS handshake with the database of connection {connection.name} failed: {e}"
        ) from e


def refused(connection: ConnectionConfig) -> BackendTLSError:
    return BackendTLSError(
        f"the database of connection {connection.name} does not offer TLS, and the"
        f" connection has tls = {connection.tls!r}"
    )
