"""Client-side authentication for the gateway's login to a MySQL/MariaDB backend.

Owns the scrambles of mysql_native_password, caching_sha2_password (its fast path; the full
exchange needs TLS or the server's RSA key, and is refused here: see `respond`) and
MariaDB's client_ed25519, and `ClientAuthenticator`, which answers the server's first
handshake, AuthSwitchRequest and AuthMoreData packets. Must never do I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from protocols.errors import RemoteProtocolError
from protocols.mysql.messages import AuthSwitchRequest

__all__ = [
    "AuthenticationFailed",
    "ClientAuthenticator",
    "caching_sha2_scramble",
    "ed25519_scramble",
    "native_scramble",
]

SUPPORTED = ("mysql_native_password", "client_ed25519", "caching_sha2_password")


class AuthenticationFailed(Exception):
    """We cannot answer the server's request (no password, an unsupported plugin...)."""


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def native_scramble(password: bytes, scramble: bytes) -> bytes:
    """SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))); empty password: empty."""
    if not password:
        return b""
    stage1 = hashlib.sha1(password).digest()
    stage2 = hashlib.sha1(stage1).digest()
    return _xor(stage1, hashlib.sha1(scramble[:20] + stage2).digest())


def caching_sha2_scramble(password: bytes, scramble: bytes) -> bytes:
    """SHA256(password) XOR SHA256(SHA256(SHA256(password)) + scramble)."""
    if not password:
        return b""
    p1 = hashlib.sha256(password).digest()
    p2 = hashlib.sha256(p1).digest()
    return _xor(p1, hashlib.sha256(p2 + scramble[:20]).digest())


def ed25519_scramble(password: bytes, scramble: bytes) -> bytes:
    """MariaDB's client_ed25519: an Ed25519 signature of the scramble whose secret is derived
    as RFC 8032 derives it from a seed, with the password (any length) as the seed."""
    from nacl import bindings as nacl

    h = hashlib.sha512(password).digest()
    s = bytearray(h[:32])
    s[0] &= 248
    s[31] &= 127
    s[31] |= 64
    secret = bytes(s)
    r = nacl.crypto_core_ed25519_scalar_reduce(hashlib.sha512(h[32:] + scramble).digest())
    big_r = nacl.crypto_scalarmult_ed25519_base_noclamp(r)
    big_a = nacl.crypto_scalarmult_ed25519_base_noclamp(secret)
    k = nacl.crypto_core_ed25519_scalar_reduce(hashlib.sha512(big_r + big_a + scramble).digest())
    big_s = nacl.crypto_core_ed25519_scalar_add(nacl.crypto_core_ed25519_scalar_mul(k, secret), r)
    return bytes(big_r + big_s)


_SCRAMBLES = {
    "mysql_native_password": native_scramble,
    "caching_sha2_password": caching_sha2_scramble,
    "client_ed25519": ed25519_scramble,
}


@dataclass
class ClientAuthenticator:
    """Answers a server's authentication requests for one login with a password."""

    user: str
    password: str | None
    secure: bool = False  # the connection is TLS: the password may be sent as it is

    def first_response(self, plugin: str, scramble: bytes) -> tuple[str, bytes]:
        """The plugin to name in the handshake response and its auth data. An unsupported
        plugin is answered with mysql_native_password (the server may switch us)."""
        if plugin not in _SCRAMBLES or plugin == "client_ed25519":
            plugin = "mysql_native_password"
        return plugin, _SCRAMBLES[plugin](self._secret(), scramble)

    def switch(self, request: AuthSwitchRequest) -> bytes:
        """The answer to an AuthSwitchRequest."""
        scramble = _SCRAMBLES.get(request.plugin)
        if scramble is None:
            raise AuthenticationFailed(
                f"the database asks for authentication plugin {request.plugin!r}; iap supports"
                f" {', '.join(SUPPORTED)}"
            )
        if request.plugin == "client_ed25519" and not self.password:
            raise AuthenticationFailed("the database wants a password (client_ed25519)")
        return scramble(self._secret(), request.data)

    def more_data(self, data: bytes) -> bytes | None:
        """caching_sha2_password's AuthMoreData: 3 = fast auth succeeded (None: nothing to
        send); 4 = the server wants the password in full: sent as it is (NUL-terminated)
        over TLS, refused otherwise (the RSA exchange is not supported)."""
        if data[:1] == b"\x03":
            return None
        if data[:1] == b"\x04":
            if self.secure:
                return self._secret() + b"\0"
            raise AuthenticationFailed(
                "the database asks for caching_sha2_password's full authentication, which"
                " needs TLS to the database: set tls on the connection (or log in once with"
                " the mysql client so the server caches the password)"
            )
        raise RemoteProtocolError(f"unexpected authentication data {data[:1].hex()}")

    def _secret(self) -> bytes:
        return (self.password or "").encode()
