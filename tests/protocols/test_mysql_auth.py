"""protocols.mysql.auth: the scrambles against pymysql's and the server's own checks, and
ClientAuthenticator's answers to the server's requests."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mysql_captures import HANDSHAKE_V10, NATIVE_PASSWORD_HASHES
from nacl.signing import SigningKey, VerifyKey
from pymysql import _auth as pymysql_auth

from protocols.errors import RemoteProtocolError
from protocols.mysql.auth import (
    AuthenticationFailed,
    ClientAuthenticator,
    caching_sha2_scramble,
    ed25519_scramble,
    native_scramble,
)
from protocols.mysql.messages import AuthSwitchRequest, HandshakeV10

CAPTURED_SCRAMBLE = HandshakeV10.decode(HANDSHAKE_V10[4:]).auth_data
PASSWORDS = [b"secret", "pässwörd".encode(), b" ", b"x" * 200, bytes(range(256))]
scrambles = st.binary(min_size=20, max_size=20)


def test_captured_scramble_is_20_bytes() -> None:
    assert len(CAPTURED_SCRAMBLE) == 20


# -- mysql_native_password -------------------------------------------------------------------


@pytest.mark.parametrize("password", PASSWORDS)
def test_native_equals_pymysql_on_the_captured_scramble(password: bytes) -> None:
    expected = pymysql_auth.scramble_native_password(password, CAPTURED_SCRAMBLE)
    assert native_scramble(password, CAPTURED_SCRAMBLE) == expected
    assert len(expected) == 20


@given(st.binary(min_size=1, max_size=64), scrambles)
def test_native_equals_pymysql(password: bytes, scramble: bytes) -> None:
    expected = pymysql_auth.scramble_native_password(password, scramble)
    assert native_scramble(password, scramble) == expected


@pytest.mark.parametrize("password", list(NATIVE_PASSWORD_HASHES))
@pytest.mark.parametrize("scramble", [CAPTURED_SCRAMBLE, bytes(range(20)), b"\xff" * 20])
def test_native_passes_the_servers_check(password: bytes, scramble: bytes) -> None:
    # The server stores SHA1(SHA1(password)) (PASSWORD() captured from MariaDB), recovers
    # SHA1(password) as response XOR SHA1(scramble + stored) and hashes it again.
    stored = bytes.fromhex(NATIVE_PASSWORD_HASHES[password][1:])
    response = native_scramble(password, scramble)
    mask = hashlib.sha1(scramble + stored).digest()
    stage1 = bytes(a ^ b for a, b in zip(response, mask, strict=True))
    assert hashlib.sha1(stage1).digest() == stored


def test_native_uses_only_the_first_20_bytes_of_the_scramble() -> None:
    # the handshake's scramble part 2 is NUL-terminated; a trailing NUL must not count
    assert native_scramble(b"pw", CAPTURED_SCRAMBLE + b"\0") == native_scramble(
        b"pw", CAPTURED_SCRAMBLE
    )


def test_empty_password_gives_empty_auth_data() -> None:
    assert native_scramble(b"", CAPTURED_SCRAMBLE) == b""
    assert caching_sha2_scramble(b"", CAPTURED_SCRAMBLE) == b""
    assert pymysql_auth.scramble_native_password(b"", CAPTURED_SCRAMBLE) == b""


# -- caching_sha2_password -------------------------------------------------------------------


@pytest.mark.parametrize("password", PASSWORDS)
def test_caching_sha2_equals_pymysql_on_the_captured_scramble(password: bytes) -> None:
    expected = pymysql_auth.scramble_caching_sha2(password, CAPTURED_SCRAMBLE)
    assert caching_sha2_scramble(password, CAPTURED_SCRAMBLE) == expected
    assert len(expected) == 32


@given(st.binary(min_size=1, max_size=64), scrambles)
def test_caching_sha2_equals_pymysql(password: bytes, scramble: bytes) -> None:
    expected = pymysql_auth.scramble_caching_sha2(password, scramble)
    assert caching_sha2_scramble(password, scramble) == expected


# -- client_ed25519 --------------------------------------------------------------------------

ed25519_scrambles = st.binary(min_size=32, max_size=32)


@pytest.mark.parametrize("password", [b"", *PASSWORDS])
def test_ed25519_equals_pymysql_on_fixed_scrambles(password: bytes) -> None:
    for scramble in (bytes(32), bytes(range(32)), CAPTURED_SCRAMBLE):
        expected = pymysql_auth.ed25519_password(password, scramble)
        assert ed25519_scramble(password, scramble) == expected


@settings(max_examples=40)
@given(st.binary(max_size=64), ed25519_scrambles)
def test_ed25519_equals_pymysql(password: bytes, scramble: bytes) -> None:
    assert ed25519_scramble(password, scramble) == pymysql_auth.ed25519_password(password, scramble)


@settings(max_examples=40)
@given(st.binary(min_size=32, max_size=32), ed25519_scrambles)
def test_ed25519_is_rfc8032_with_the_password_as_seed(seed: bytes, scramble: bytes) -> None:
    # for a 32-byte password, the derivation is RFC 8032's own: libsodium signs the same
    key = SigningKey(seed)
    signature = ed25519_scramble(seed, scramble)
    assert signature == key.sign(scramble).signature
    VerifyKey(bytes(key.verify_key)).verify(scramble, signature)


# -- ClientAuthenticator ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plugin", "named", "scramble"),
    [
        ("mysql_native_password", "mysql_native_password", native_scramble),
        ("caching_sha2_password", "caching_sha2_password", caching_sha2_scramble),
        # ed25519 needs the server's 32-byte challenge, which comes with its switch request
        ("client_ed25519", "mysql_native_password", native_scramble),
        ("sha256_password", "mysql_native_password", native_scramble),
        ("", "mysql_native_password", native_scramble),
    ],
)
def test_first_response_names_a_plugin_it_can_answer(
    plugin: str, named: str, scramble: Callable[[bytes, bytes], bytes]
) -> None:
    auth = ClientAuthenticator("root", "secret")
    assert auth.first_response(plugin, CAPTURED_SCRAMBLE) == (
        named,
        scramble(b"secret", CAPTURED_SCRAMBLE),
    )


def test_first_response_without_a_password_is_empty() -> None:
    auth = ClientAuthenticator("root", None)
    assert auth.first_response("mysql_native_password", CAPTURED_SCRAMBLE) == (
        "mysql_native_password",
        b"",
    )


def test_switch_answers_each_supported_plugin() -> None:
    auth = ClientAuthenticator("root", "secret")
    native = AuthSwitchRequest("mysql_native_password", bytes(range(20)))
    assert auth.switch(native) == pymysql_auth.scramble_native_password(b"secret", native.data)
    sha2 = AuthSwitchRequest("caching_sha2_password", bytes(range(20)))
    assert auth.switch(sha2) == pymysql_auth.scramble_caching_sha2(b"secret", sha2.data)
    ed = AuthSwitchRequest("client_ed25519", bytes(range(32)))
    assert auth.switch(ed) == pymysql_auth.ed25519_password(b"secret", ed.data)


def test_switch_request_decoded_from_the_wire_is_answered() -> None:
    wire = b"\xfemysql_native_password\x00" + CAPTURED_SCRAMBLE + b"\x00"
    auth = ClientAuthenticator("root", "secret")
    assert auth.switch(AuthSwitchRequest.decode(wire)) == native_scramble(
        b"secret", CAPTURED_SCRAMBLE
    )


@pytest.mark.parametrize("plugin", ["auth_gssapi_client", "dialog", "sha256_password"])
def test_switch_to_an_unknown_plugin_fails_naming_it(plugin: str) -> None:
    auth = ClientAuthenticator("root", "secret")
    with pytest.raises(AuthenticationFailed) as failed:
        auth.switch(AuthSwitchRequest(plugin, b"data"))
    message = str(failed.value)
    assert repr(plugin) in message
    for supported in ("mysql_native_password", "client_ed25519", "caching_sha2_password"):
        assert supported in message


def test_switch_to_the_old_password_scheme_fails() -> None:
    auth = ClientAuthenticator("root", "secret")
    with pytest.raises(AuthenticationFailed, match="mysql_old_password"):
        auth.switch(AuthSwitchRequest.decode(b"\xfe"))


def test_switch_to_ed25519_without_a_password_fails() -> None:
    auth = ClientAuthenticator("root", None)
    with pytest.raises(AuthenticationFailed, match="client_ed25519"):
        auth.switch(AuthSwitchRequest("client_ed25519", bytes(32)))


def test_fast_auth_success_needs_no_answer() -> None:
    assert ClientAuthenticator("root", "secret").more_data(b"\x03") is None


def test_full_authentication_request_fails_with_what_to_do() -> None:
    with pytest.raises(AuthenticationFailed, match="TLS") as failed:
        ClientAuthenticator("root", "secret").more_data(b"\x04")
    assert "set tls on the connection" in str(failed.value)


def test_full_authentication_over_tls_sends_the_password_nul_terminated() -> None:
    # MySQL's caching_sha2_password over a secure transport: the clear password and a NUL.
    assert ClientAuthenticator("root", "sécret", secure=True).more_data(b"\x04") == (
        "sécret".encode() + b"\0"
    )


@pytest.mark.parametrize("data", [b"", b"\x02", b"-----BEGIN PUBLIC KEY-----"])
def test_other_auth_more_data_is_a_protocol_error(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError, match="unexpected authentication data"):
        ClientAuthenticator("root", "secret").more_data(data)
