"""Client-side PostgreSQL authentication: answering the server's Authentication* requests.

Owns: the md5 password hash, and ``ClientAuthenticator``, a sans-IO object that turns
each authentication request of a backend into the frontend message to send back
(cleartext password, md5, SCRAM-SHA-256 via ``scramp``), and verifies the server's SCRAM
signature before anyone trusts its AuthenticationOk.

Must never: read configuration, environment variables or files (the password is given);
do I/O; log or put the password in an exception message; import from ``iap``.
"""

from __future__ import annotations

import hashlib

from scramp import ScramClient, ScramException

from protocols.errors import LocalProtocolError, ProtocolError
from protocols.postgres.messages import (
    AuthenticationCleartextPassword,
    AuthenticationMD5Password,
    AuthenticationOk,
    AuthenticationRequest,
    AuthenticationSASL,
    AuthenticationSASLContinue,
    AuthenticationSASLFinal,
    AuthResponse,
    Message,
    PasswordMessage,
    SASLInitialResponse,
    SASLResponse,
)

__all__ = [
    "SCRAM_SHA_256",
    "AuthenticationFailed",
    "AuthenticationUnsupported",
    "ClientAuthenticator",
    "md5_password",
]

SCRAM_SHA_256 = "SCRAM-SHA-256"


class AuthenticationFailed(ProtocolError):
    """The server's side of the authentication is wrong: a bad SCRAM signature, a malformed
    SCRAM message, requests out of order, or AuthenticationOk before the proof."""


class AuthenticationUnsupported(AuthenticationFailed):
    """We cannot answer: the server wants a password and none is configured, or a method
    this client does not implement (Kerberos, GSSAPI, SSPI, SASL without SCRAM-SHA-256)."""


def md5_password(user: str, password: str, salt: bytes) -> bytes:
    """The md5 answer: b"md5" + md5hex(md5hex(password + user) + salt), as libpq computes it."""
    inner = hashlib.md5((password + user).encode()).hexdigest().encode("ascii")
    return b"md5" + hashlib.md5(inner + salt).hexdigest().encode("ascii")


class ClientAuthenticator:
    """Answers a backend's authentication requests for ``user``.

    Feed it every AuthenticationRequest the backend sends, in order; send back what
    ``respond`` returns (None: nothing to send). ``done`` is True once AuthenticationOk
    arrived after a complete exchange.
    """

    def __init__(self, user: str, password: str | None) -> None:
        self.user = user
        self._password = password
        self._scram: ScramClient | None = None
        self._scram_step = 0  # 1: client-first sent, 2: client-final sent, 3: verified
        self.done = False
        self.method: str | None = None
        """'trust', 'password', 'md5' or 'SCRAM-SHA-256', once the server chose."""

    def __repr__(self) -> str:
        return f"<ClientAuthenticator user={self.user!r} method={self.method!r}>"

    def respond(self, message: Message) -> AuthResponse | None:
        """The message to send in answer to ``message``, or None when none is due."""
        if not isinstance(message, AuthenticationRequest):
            raise LocalProtocolError(f"{type(message).__name__} is not an authentication request")
        if self.done:
            raise AuthenticationFailed(f"{type(message).__name__} after AuthenticationOk")
        if isinstance(message, AuthenticationOk):
            self._ok()
            return None
        if isinstance(message, AuthenticationCleartextPassword):
            self._choose("password")
            return PasswordMessage(self._require_password().encode())
        if isinstance(message, AuthenticationMD5Password):
            self._choose("md5")
            return PasswordMessage(md5_password(self.user, self._require_password(), message.salt))
        if isinstance(message, AuthenticationSASL):
            return self._scram_first(message)
        if isinstance(message, AuthenticationSASLContinue):
            return self._scram_final(message)
        if isinstance(message, AuthenticationSASLFinal):
            self._scram_verify(message)
            return None
        raise AuthenticationUnsupported(
            f"the server asks for {type(message).__name__.removeprefix('Authentication')}"
            f" authentication for user {self.user!r}, which this proxy does not support;"
            " use scram-sha-256, md5, password or trust for it in pg_hba.conf"
        )

    def _choose(self, method: str) -> None:
        if self.method is not None:
            raise AuthenticationFailed(f"server switched from {self.method} to {method}")
        self.method = method

    def _require_password(self) -> str:
        if self._password is None:
            raise AuthenticationUnsupported(
                f"the server requires a password for user {self.user!r} but none is configured"
            )
        return self._password

    def _ok(self) -> None:
        if self.method is None:
            self.method = "trust"
        elif self.method == SCRAM_SHA_256 and self._scram_step != 3:
            # A server (or someone in between) that skips the proof of knowing the password.
            raise AuthenticationFailed("AuthenticationOk before the SCRAM exchange completed")
        self.done = True

    def _scram_first(self, message: AuthenticationSASL) -> SASLInitialResponse:
        self._choose(SCRAM_SHA_256)
        if SCRAM_SHA_256 not in message.mechanisms:
            offered = ", ".join(message.mechanisms) or "nothing"
            raise AuthenticationUnsupported(
                f"the server offers SASL {offered}; only {SCRAM_SHA_256} is supported"
            )
        password = self._require_password()
        try:
            self._scram = ScramClient([SCRAM_SHA_256], self.user, password)
            first = self._scram.get_client_first()
        except ScramException as exc:
            raise AuthenticationUnsupported(f"cannot start SCRAM: {exc}") from None
        self._scram_step = 1
        return SASLInitialResponse(SCRAM_SHA_256, first.encode())

    def _scram_final(self, message: AuthenticationSASLContinue) -> SASLResponse:
        if self._scram is None or self._scram_step != 1:
            raise AuthenticationFailed("AuthenticationSASLContinue out of order")
        try:
            self._scram.set_server_first(message.data.decode())
            final = self._scram.get_client_final()
        except (ScramException, UnicodeDecodeError) as exc:
            raise AuthenticationFailed(f"bad SCRAM server-first message: {exc}") from None
        self._scram_step = 2
        return SASLResponse(final.encode())

    def _scram_verify(self, message: AuthenticationSASLFinal) -> None:
        if self._scram is None or self._scram_step != 2:
            raise AuthenticationFailed("AuthenticationSASLFinal out of order")
        try:
            self._scram.set_server_final(message.data.decode())
        except (ScramException, UnicodeDecodeError) as exc:
            raise AuthenticationFailed(f"the server's SCRAM signature is invalid: {exc}") from None
        self._scram_step = 3
