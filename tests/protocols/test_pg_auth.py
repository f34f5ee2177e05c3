"""protocols.postgres.auth: md5 against a known value, SCRAM against scramp's server side."""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

import pytest
from scramp import ScramException, ScramMechanism

from protocols.errors import LocalProtocolError, ProtocolError
from protocols.postgres import messages as m
from protocols.postgres.auth import (
    AuthenticationFailed,
    AuthenticationUnsupported,
    ClientAuthenticator,
    md5_password,
)

PASSWORD = "s3cret"


def test_md5_password_known_value() -> None:
    # Computed by PostgreSQL 15 itself:
    # select 'md5' || md5(convert_to(md5('s3cretpostgres'), 'UTF8') || '\x01020304'::bytea)
    expected = b"md5f201ede92812488eb17abfa4198030a5"
    assert md5_password("postgres", PASSWORD, b"\x01\x02\x03\x04") == expected


def test_md5_password_follows_the_definition() -> None:
    inner = hashlib.md5(b"pw" + b"alice").hexdigest()
    outer = hashlib.md5(inner.encode() + b"salt").hexdigest()
    assert md5_password("alice", "pw", b"salt") == b"md5" + outer.encode()


def test_trust() -> None:
    auth = ClientAuthenticator("postgres", None)
    assert auth.respond(m.AuthenticationOk()) is None
    assert auth.done
    assert auth.method == "trust"


def test_cleartext() -> None:
    auth = ClientAuthenticator("alice", PASSWORD)
    assert auth.respond(m.AuthenticationCleartextPassword()) == m.PasswordMessage(b"s3cret")
    assert auth.respond(m.AuthenticationOk()) is None
    assert (auth.done, auth.method) == (True, "password")


def test_md5() -> None:
    auth = ClientAuthenticator("postgres", PASSWORD)
    answer = auth.respond(m.AuthenticationMD5Password(b"\x01\x02\x03\x04"))
    assert answer == m.PasswordMessage(b"md5f201ede92812488eb17abfa4198030a5")
    auth.respond(m.AuthenticationOk())
    assert (auth.done, auth.method) == (True, "md5")


def scram_server(password: str) -> Any:
    mechanism = ScramMechanism("SCRAM-SHA-256")
    auth_info = mechanism.make_auth_info(password, iteration_count=4096)
    return mechanism.make_server(lambda _username: auth_info)


def run_scram(client_password: str, server_password: str) -> tuple[ClientAuthenticator, Any]:
    """Drive the authenticator against scramp's server up to the server-final message."""
    server = scram_server(server_password)
    auth = ClientAuthenticator("alice", client_password)
    first = auth.respond(m.AuthenticationSASL(("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")))
    assert isinstance(first, m.SASLInitialResponse)
    assert first.mechanism == "SCRAM-SHA-256"
    assert first.data is not None
    server.set_client_first(first.data.decode())
    final = auth.respond(m.AuthenticationSASLContinue(server.get_server_first().encode()))
    assert isinstance(final, m.SASLResponse)
    with contextlib.suppress(ScramException):  # scramp records it; the final answer is "e=..."
        server.set_client_final(final.data.decode())
    return auth, server


def test_scram_against_scramp_server() -> None:
    auth, server = run_scram(PASSWORD, PASSWORD)
    server_final = server.get_server_final()
    assert server_final.startswith("v=")
    assert auth.respond(m.AuthenticationSASLFinal(server_final.encode())) is None
    assert auth.respond(m.AuthenticationOk()) is None
    assert (auth.done, auth.method) == (True, "SCRAM-SHA-256")


def test_scram_wrong_password_is_refused_by_the_server() -> None:
    auth, server = run_scram("wrong", PASSWORD)
    server_final = server.get_server_final()
    assert server_final.startswith("e=")
    with pytest.raises(AuthenticationFailed):
        auth.respond(m.AuthenticationSASLFinal(server_final.encode()))


def test_scram_wrong_server_signature() -> None:
    auth, _server = run_scram(PASSWORD, PASSWORD)
    forged = "v=" + "A" * 43 + "="
    with pytest.raises(AuthenticationFailed, match="signature"):
        auth.respond(m.AuthenticationSASLFinal(forged.encode()))
    with pytest.raises(AuthenticationFailed):  # and no AuthenticationOk can rescue it
        auth.respond(m.AuthenticationOk())


def test_scram_server_that_does_not_know_the_password() -> None:
    auth, server = run_scram(PASSWORD, "another password")  # the server's keys differ
    server_final = server.get_server_final()
    with pytest.raises(AuthenticationFailed):
        auth.respond(m.AuthenticationSASLFinal(server_final.encode()))


def test_authentication_ok_before_scram_completed() -> None:
    auth, _server = run_scram(PASSWORD, PASSWORD)
    with pytest.raises(AuthenticationFailed, match="before the SCRAM exchange completed"):
        auth.respond(m.AuthenticationOk())
    assert not auth.done


@pytest.mark.parametrize(
    "message",
    [
        m.AuthenticationSASLContinue(b"r=abc,s=c2FsdA==,i=4096"),
        m.AuthenticationSASLFinal(b"v=abc"),
    ],
)
def test_scram_messages_out_of_order(message: m.AuthenticationRequest) -> None:
    with pytest.raises(AuthenticationFailed, match="out of order"):
        ClientAuthenticator("alice", PASSWORD).respond(message)


@pytest.mark.parametrize(
    "server_first", [b"garbage", b"r=not-our-nonce,s=c2FsdA==,i=4096", b"\xff\xfe"]
)
def test_scram_malformed_server_first(server_first: bytes) -> None:
    auth = ClientAuthenticator("alice", PASSWORD)
    auth.respond(m.AuthenticationSASL(("SCRAM-SHA-256",)))
    with pytest.raises(AuthenticationFailed):
        auth.respond(m.AuthenticationSASLContinue(server_first))


def test_server_switching_methods() -> None:
    auth = ClientAuthenticator("alice", PASSWORD)
    auth.respond(m.AuthenticationCleartextPassword())
    with pytest.raises(AuthenticationFailed, match="switched"):
        auth.respond(m.AuthenticationMD5Password(b"abcd"))


def test_request_after_ok() -> None:
    auth = ClientAuthenticator("alice", PASSWORD)
    auth.respond(m.AuthenticationOk())
    with pytest.raises(AuthenticationFailed):
        auth.respond(m.AuthenticationCleartextPassword())


@pytest.mark.parametrize(
    "message",
    [
        m.AuthenticationCleartextPassword(),
        m.AuthenticationMD5Password(b"abcd"),
        m.AuthenticationSASL(("SCRAM-SHA-256",)),
    ],
)
def test_password_needed_but_not_configured(message: m.AuthenticationRequest) -> None:
    with pytest.raises(AuthenticationUnsupported, match="none is configured"):
        ClientAuthenticator("alice", None).respond(message)


@pytest.mark.parametrize(
    ("message", "method"),
    [
        (m.AuthenticationGSS(), "GSS"),
        (m.AuthenticationSSPI(), "SSPI"),
        (m.AuthenticationKerberosV5(), "KerberosV5"),
        (m.AuthenticationGSSContinue(b"tok"), "GSSContinue"),
    ],
)
def test_unsupported_methods(message: m.AuthenticationRequest, method: str) -> None:
    with pytest.raises(AuthenticationUnsupported, match=f"asks for {method} authentication"):
        ClientAuthenticator("alice", PASSWORD).respond(message)


def test_sasl_without_scram_sha_256() -> None:
    with pytest.raises(AuthenticationUnsupported, match="SCRAM-SHA-256-PLUS"):
        ClientAuthenticator("alice", PASSWORD).respond(
            m.AuthenticationSASL(("SCRAM-SHA-256-PLUS",))
        )


def test_only_authentication_requests_are_answered() -> None:
    with pytest.raises(LocalProtocolError):
        ClientAuthenticator("alice", PASSWORD).respond(m.ReadyForQuery("I"))


def test_errors_are_protocol_errors_and_never_show_the_password() -> None:
    assert issubclass(AuthenticationFailed, ProtocolError)
    assert issubclass(AuthenticationUnsupported, AuthenticationFailed)
    auth, server = run_scram(PASSWORD, "x")
    with pytest.raises(AuthenticationFailed) as caught:
        auth.respond(m.AuthenticationSASLFinal(server.get_server_final().encode()))
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in repr(auth)
