"""protocols.postgres.connection: two Connections driven against each other in memory, replay
of byte captures from a real server and real clients, and fuzzing of receive_data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from captures import (
    ALL,
    ASYNCPG_CANCEL,
    ASYNCPG_EXTENDED,
    BACKEND,
    FRONTEND,
    PGBENCH_PREPARED,
    PSQL_COPY_IN,
    PSQL_COPY_OUT,
    PSQL_ERROR,
    PSQL_NOTICE_NOTIFY_TRANSACTION,
    PSQL_SELECT_1,
    Capture,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scramp import ScramMechanism

from protocols.errors import LocalProtocolError, RemoteProtocolError
from protocols.postgres import messages as m
from protocols.postgres.auth import ClientAuthenticator, md5_password
from protocols.postgres.connection import (
    CLOSED,
    MAX_AUTH_MESSAGE_SIZE,
    MAX_SMALL_MESSAGE_SIZE,
    NEED_DATA,
    Connection,
    Role,
    State,
)
from protocols.postgres.framing import MAX_STARTUP_LENGTH, scan_frames

STARTUP = m.StartupMessage.make({"user": "alice", "database": "app"})
SERVER_HELLO = (
    m.ParameterStatus("server_version", "15.20"),
    m.ParameterStatus("client_encoding", "UTF8"),
    m.BackendKeyData(4242, 0xCAFE),
    m.ReadyForQuery("I"),
)


def drain(conn: Connection) -> list[m.Message]:
    """Every complete message the connection holds, stopping at NEED_DATA or CLOSED."""
    received: list[m.Message] = []
    while True:
        message = conn.next_message()
        if message is NEED_DATA or message is CLOSED:
            return received
        assert isinstance(message, m.Message)
        received.append(message)


def feed(conn: Connection, data: bytes) -> list[m.Message]:
    conn.receive_data(data)
    return drain(conn)


class ConnectionPair:
    """A CLIENT and a SERVER Connection wired to each other (like h11's ConnectionPair)."""

    def __init__(self) -> None:
        self.client = Connection(Role.CLIENT)
        self.server = Connection(Role.SERVER)

    def client_sends(self, *messages: m.Message) -> list[m.Message]:
        """Send from the client in one chunk; the server must receive exactly these."""
        received = feed(self.server, b"".join(self.client.send(x) for x in messages))
        assert received == list(messages)
        return received

    def server_sends(self, *messages: m.Message) -> list[m.Message]:
        received = feed(self.client, b"".join(self.server.send(x) for x in messages))
        assert received == list(messages)
        return received

    def states(self) -> tuple[State, State]:
        return self.client.state, self.server.state

    def transaction_statuses(self) -> tuple[str, str]:
        return self.client.transaction_status, self.server.transaction_status

    def start(self) -> ConnectionPair:
        """Trust authentication up to the first ReadyForQuery."""
        self.client_sends(STARTUP)
        self.server_sends(m.AuthenticationOk(), *SERVER_HELLO)
        assert self.states() == (State.READY, State.READY)
        return self


# --- startup and authentication ----------------------------------------------------------


def test_startup_trust() -> None:
    pair = ConnectionPair()
    assert pair.states() == (State.STARTUP, State.STARTUP)
    pair.client_sends(STARTUP)
    assert pair.states() == (State.AUTHENTICATING, State.AUTHENTICATING)
    assert pair.server.startup == STARTUP
    assert pair.server.protocol_negotiation() is None
    pair.server_sends(m.AuthenticationOk())
    assert pair.states() == (State.STARTUP_PARAMS, State.STARTUP_PARAMS)
    pair.server_sends(*SERVER_HELLO)
    assert pair.states() == (State.READY, State.READY)
    for conn in (pair.client, pair.server):
        assert conn.parameters == {"server_version": "15.20", "client_encoding": "UTF8"}
        assert conn.backend_key == m.BackendKeyData(4242, 0xCAFE)
        assert conn.transaction_status == "I"


def test_startup_cleartext_password() -> None:
    pair = ConnectionPair()
    pair.client_sends(STARTUP)
    auth = ClientAuthenticator("alice", "pw")
    (request,) = pair.server_sends(m.AuthenticationCleartextPassword())
    answer = auth.respond(request)
    assert answer is not None
    (password,) = pair.client_sends(answer)
    assert password == m.PasswordMessage(b"pw")
    pair.server_sends(m.AuthenticationOk(), *SERVER_HELLO)
    assert pair.states() == (State.READY, State.READY)


def test_startup_md5_password() -> None:
    pair = ConnectionPair()
    pair.client_sends(STARTUP)
    auth = ClientAuthenticator("alice", "pw")
    (request,) = pair.server_sends(m.AuthenticationMD5Password(b"salt"))
    answer = auth.respond(request)
    assert answer is not None
    (password,) = pair.client_sends(answer)
    assert password == m.PasswordMessage(md5_password("alice", "pw", b"salt"))
    pair.server_sends(m.AuthenticationOk(), *SERVER_HELLO)
    assert auth.respond(m.AuthenticationOk()) is None


def test_startup_scram_with_scramp_server() -> None:
    mechanism = ScramMechanism("SCRAM-SHA-256")
    auth_info = mechanism.make_auth_info("pw", iteration_count=4096)
    scram = mechanism.make_server(lambda _user: auth_info)
    pair = ConnectionPair()
    pair.client_sends(STARTUP)
    auth = ClientAuthenticator("alice", "pw")

    (request,) = pair.server_sends(m.AuthenticationSASL(("SCRAM-SHA-256",)))
    answer = auth.respond(request)
    assert answer is not None
    (first,) = pair.client_sends(answer)  # the server decodes this 'p' as SASLInitialResponse
    assert isinstance(first, m.SASLInitialResponse)
    assert first.data is not None
    scram.set_client_first(first.data.decode())

    (request,) = pair.server_sends(m.AuthenticationSASLContinue(scram.get_server_first().encode()))
    answer = auth.respond(request)
    assert answer is not None
    (final,) = pair.client_sends(answer)  # ... and this one as SASLResponse
    assert isinstance(final, m.SASLResponse)
    scram.set_client_final(final.data.decode())  # raises if the client's proof is wrong

    (request,) = pair.server_sends(m.AuthenticationSASLFinal(scram.get_server_final().encode()))
    assert auth.respond(request) is None
    (ok, *_) = pair.server_sends(m.AuthenticationOk(), *SERVER_HELLO)
    assert auth.respond(ok) is None
    assert auth.done
    assert pair.states() == (State.READY, State.READY)


def test_authentication_failure_ends_the_session() -> None:
    pair = ConnectionPair()
    pair.client_sends(STARTUP)
    pair.server_sends(m.AuthenticationCleartextPassword())
    pair.client_sends(m.PasswordMessage(b"wrong"))
    fatal = m.ErrorResponse.make(
        code="28P01", message='password authentication failed for user "alice"', severity="FATAL"
    )
    pair.server_sends(fatal)
    assert pair.states() == (State.FAILED, State.FAILED)
    with pytest.raises(LocalProtocolError):
        pair.server.send(m.ReadyForQuery("I"))
    pair.client.receive_data(b"")
    assert pair.client.next_message() is CLOSED
    assert pair.client.state is State.CLOSED


def test_password_message_only_when_asked() -> None:
    pair = ConnectionPair()
    pair.client_sends(STARTUP)
    with pytest.raises(LocalProtocolError, match="expected nothing"):
        pair.client.send(m.PasswordMessage(b"pw"))
    pair.server_sends(m.AuthenticationSASL(("SCRAM-SHA-256",)))
    with pytest.raises(LocalProtocolError, match="expected SASLInitialResponse"):
        pair.client.send(m.PasswordMessage(b"pw"))
    with pytest.raises(LocalProtocolError, match="is due"):  # a second request before the answer
        pair.server.send(m.AuthenticationCleartextPassword())


def test_server_must_not_offer_methods_it_cannot_serve() -> None:
    pair = ConnectionPair()
    pair.client_sends(STARTUP)
    with pytest.raises(LocalProtocolError, match="not supported"):
        pair.server.send(m.AuthenticationGSS())


def test_client_passes_unsupported_methods_on_to_its_authenticator() -> None:
    client = Connection(Role.CLIENT)
    client.send(STARTUP)
    assert feed(client, m.AuthenticationSSPI().encode()) == [m.AuthenticationSSPI()]


def test_password_over_the_size_limit() -> None:
    pair = ConnectionPair()
    pair.client_sends(STARTUP)
    pair.server_sends(m.AuthenticationCleartextPassword())
    too_long = m.PasswordMessage(b"x" * MAX_AUTH_MESSAGE_SIZE).encode()
    with pytest.raises(RemoteProtocolError, match="declares length"):
        feed(pair.server, too_long[:5])


# --- SSL, GSSAPI encryption, cancel, protocol versions -------------------------------------


def test_ssl_declined_then_startup() -> None:
    pair = ConnectionPair()
    pair.client_sends(m.SSLRequest())
    assert pair.states() == (State.SSL_REQUESTED, State.SSL_REQUESTED)
    pair.server_sends(m.SSLResponse(False))
    assert pair.states() == (State.SSL_NEGOTIATED, State.SSL_NEGOTIATED)
    pair.client_sends(STARTUP)
    assert pair.states() == (State.AUTHENTICATING, State.AUTHENTICATING)


def test_ssl_accepted_then_startup_over_tls() -> None:
    pair = ConnectionPair()
    pair.client_sends(m.SSLRequest())
    pair.server_sends(m.SSLResponse(True))
    # (both sides now run the TLS handshake and feed decrypted bytes to the same objects)
    with pytest.raises(LocalProtocolError, match="already negotiated"):
        pair.client.send(m.GSSENCRequest())
    with pytest.raises(RemoteProtocolError, match="already negotiated"):
        feed(pair.server, m.SSLRequest().encode())


def test_gssenc_declined_then_ssl_declined() -> None:
    pair = ConnectionPair()
    pair.client_sends(m.GSSENCRequest())
    with pytest.raises(LocalProtocolError, match="without a matching request"):
        pair.server.send(m.SSLResponse(False))
    pair.server_sends(m.GSSENCResponse(False))
    pair.client_sends(m.SSLRequest())
    pair.server_sends(m.SSLResponse(False))
    with pytest.raises(LocalProtocolError, match="twice"):
        pair.client.send(m.SSLRequest())
    pair.client_sends(STARTUP)


def test_server_refuses_plaintext_sent_before_its_tls_handshake() -> None:
    """CVE-2021-23214: bytes pipelined after SSLRequest must not be read after TLS starts."""
    server = Connection(Role.SERVER)
    assert feed(server, m.SSLRequest().encode() + STARTUP.encode()) == [m.SSLRequest()]
    with pytest.raises(RemoteProtocolError, match="after its encryption request"):
        server.send(m.SSLResponse(True))
    assert server.state is State.FAILED


def test_pipelined_startup_is_fine_when_ssl_is_declined() -> None:
    server = Connection(Role.SERVER)
    assert feed(server, m.SSLRequest().encode() + STARTUP.encode()) == [m.SSLRequest()]
    server.send(m.SSLResponse(False))
    assert drain(server) == [STARTUP]


def test_client_refuses_plaintext_sent_before_the_tls_handshake() -> None:
    """CVE-2021-23222: bytes after the server's b"S" must not be read as the server's."""
    client = Connection(Role.CLIENT)
    client.send(m.SSLRequest())
    with pytest.raises(RemoteProtocolError, match="unencrypted data"):
        feed(client, b"S" + m.AuthenticationOk().encode())


@pytest.mark.parametrize("answer", [b"X", b"G"])
def test_client_rejects_a_bad_ssl_answer(answer: bytes) -> None:
    client = Connection(Role.CLIENT)
    client.send(m.SSLRequest())
    with pytest.raises(RemoteProtocolError, match="invalid answer"):
        feed(client, answer)


def test_client_reads_an_error_in_answer_to_ssl_request() -> None:
    client = Connection(Role.CLIENT)
    client.send(m.SSLRequest())
    error = m.ErrorResponse.make(code="08P01", message="unsupported", severity="FATAL")
    assert feed(client, error.encode()) == [error]
    assert client.state is State.FAILED


def test_cancel_request_on_its_own_connection() -> None:
    pair = ConnectionPair()
    pair.client_sends(m.CancelRequest(4242, 0xCAFE))
    assert pair.states() == (State.CLOSED, State.CLOSED)
    with pytest.raises(LocalProtocolError):
        pair.server.send(m.ErrorResponse.make(code="57014", message="x"))
    with pytest.raises(RemoteProtocolError, match="closed"):
        feed(pair.server, m.Query("select 1").encode())


def test_newer_protocol_minor_and_options_are_reported() -> None:
    startup = m.StartupMessage.make(
        {"user": "alice", "_pq_.compression": "on"}, protocol_version=(3 << 16) | 2
    )
    server = Connection(Role.SERVER)
    assert feed(server, startup.encode()) == [startup]
    negotiation = server.protocol_negotiation()
    assert negotiation == m.NegotiateProtocolVersion(0, ("_pq_.compression",))
    server.send(negotiation)
    server.send(m.AuthenticationOk())
    client = Connection(Role.CLIENT)
    client.send(STARTUP)
    assert feed(client, negotiation.encode() + m.AuthenticationOk().encode()) == [
        negotiation,
        m.AuthenticationOk(),
    ]


@pytest.mark.parametrize("version", [2 << 16, 4 << 16, 1234 << 16 | 5681])
def test_other_major_versions_are_refused_with_an_explanation(version: int) -> None:
    server = Connection(Role.SERVER)
    with pytest.raises(RemoteProtocolError, match=r"only protocol 3\.0"):
        feed(server, m.StartupMessage((("user", "a"),), version).encode())


def test_client_speaks_3_0_only() -> None:
    with pytest.raises(LocalProtocolError, match=r"3\.0 only"):
        Connection(Role.CLIENT).send(m.StartupMessage((), (3 << 16) | 2))


def test_direct_tls_is_refused_clearly() -> None:
    with pytest.raises(RemoteProtocolError, match="sslnegotiation=direct"):
        feed(Connection(Role.SERVER), b"\x16\x03\x01")


# --- the ready state ----------------------------------------------------------------------


def test_simple_query_and_transaction_status() -> None:
    pair = ConnectionPair().start()
    pair.client_sends(m.Query("begin; select 1"))
    pair.server_sends(
        m.CommandComplete("BEGIN"),
        m.RowDescription((m.FieldDescription("?column?", type_oid=23, type_size=4),)),
        m.DataRow((b"1",)),
        m.CommandComplete("SELECT 1"),
        m.ReadyForQuery("T"),
    )
    assert pair.transaction_statuses() == ("T", "T")
    pair.client_sends(m.Query("select 1/0"))
    pair.server_sends(m.ErrorResponse.make(code="22012", message="division by zero"))
    assert pair.states() == (State.READY, State.READY)  # an ERROR does not end the session
    pair.server_sends(m.ReadyForQuery("E"))
    assert pair.transaction_statuses() == ("E", "E")
    pair.client_sends(m.Query(""))
    pair.server_sends(m.EmptyQueryResponse(), m.ReadyForQuery("I"))
    assert pair.transaction_statuses() == ("I", "I")


def test_extended_protocol_batch() -> None:
    pair = ConnectionPair().start()
    pair.client_sends(
        m.Parse("s1", "select $1::int", (23,)),
        m.Describe("S", "s1"),
        m.Bind("", "s1", (0,), (b"7",), (1,)),
        m.Execute("", 0),
        m.Close("S", "s1"),
        m.Sync(),
    )
    pair.server_sends(
        m.ParseComplete(),
        m.ParameterDescription((23,)),
        m.RowDescription((m.FieldDescription("int4", type_oid=23, type_size=4, format=1),)),
        m.BindComplete(),
        m.DataRow((b"\x00\x00\x00\x07",)),
        m.CommandComplete("SELECT 1"),
        m.CloseComplete(),
        m.ReadyForQuery("I"),
    )
    pair.client_sends(m.Bind("p", "s2"), m.Execute("p", 1), m.Flush())
    pair.server_sends(m.BindComplete(), m.DataRow((b"1",)), m.PortalSuspended())
    pair.client_sends(m.Sync())
    pair.server_sends(m.NoData(), m.ReadyForQuery("I"))
    pair.client_sends(m.FunctionCall(1598, (), (), 0))
    pair.server_sends(m.FunctionCallResponse(None), m.ReadyForQuery("I"))


def test_copy_in() -> None:
    pair = ConnectionPair().start()
    pair.client_sends(m.Query("copy t from stdin"))
    pair.server_sends(m.CopyInResponse(0, (0, 0)))
    assert pair.states() == (State.COPY_IN, State.COPY_IN)
    pair.client_sends(m.CopyData(b"1\tone\n"), m.CopyData(b"2\ttwo\n"))
    pair.client_sends(m.CopyDone())
    assert pair.states() == (State.READY, State.READY)
    pair.server_sends(m.CommandComplete("COPY 2"), m.ReadyForQuery("I"))


def test_copy_in_aborted() -> None:
    pair = ConnectionPair().start()
    pair.client_sends(m.Query("copy t from stdin"))
    pair.server_sends(m.CopyInResponse(0, (0, 0)))
    pair.client_sends(m.CopyData(b"1\tone\n"), m.CopyFail("cancelled by user"))
    pair.server_sends(m.ErrorResponse.make(code="57014", message="COPY from stdin failed"))
    pair.server_sends(m.ReadyForQuery("I"))
    assert pair.states() == (State.READY, State.READY)


def test_copy_in_error_from_the_server() -> None:
    pair = ConnectionPair().start()
    pair.client_sends(m.Query("copy t from stdin"))
    pair.server_sends(m.CopyInResponse(0, (0, 0)))
    pair.server_sends(m.ErrorResponse.make(code="22P02", message="invalid input syntax"))
    assert pair.states() == (State.READY, State.READY)
    pair.client_sends(m.CopyData(b"in flight\n"), m.CopyDone())  # relayed, ignored by server
    pair.server_sends(m.ReadyForQuery("I"))


def test_copy_out() -> None:
    pair = ConnectionPair().start()
    pair.client_sends(m.Query("copy t to stdout"))
    pair.server_sends(m.CopyOutResponse(0, (0, 0)))
    assert pair.states() == (State.COPY_OUT, State.COPY_OUT)
    pair.server_sends(m.CopyData(b"1\tone\n"), m.NoticeResponse.make(code="00000", message="n"))
    pair.server_sends(m.CopyData(b"2\ttwo\n"), m.CopyDone())
    assert pair.states() == (State.READY, State.READY)
    pair.server_sends(m.CommandComplete("COPY 2"), m.ReadyForQuery("I"))


def test_copy_both() -> None:
    pair = ConnectionPair().start()
    pair.client_sends(m.Query("START_REPLICATION 0/0"))
    pair.server_sends(m.CopyBothResponse(0))
    assert pair.states() == (State.COPY_BOTH, State.COPY_BOTH)
    pair.client_sends(m.CopyData(b"r"))
    pair.server_sends(m.CopyData(b"w"))
    pair.client_sends(m.CopyDone())
    assert pair.states() == (State.COPY_OUT, State.COPY_OUT)
    pair.server_sends(m.CopyDone(), m.CommandComplete("START_REPLICATION"))
    assert pair.states() == (State.READY, State.READY)


def test_async_messages_and_parameter_changes() -> None:
    pair = ConnectionPair().start()
    pair.server_sends(
        m.NotificationResponse(1, "ch", "payload"),
        m.NoticeResponse.make(code="01000", message="warning"),
        m.ParameterStatus("TimeZone", "UTC"),
    )
    assert pair.client.parameters["TimeZone"] == "UTC"


def test_fatal_error_in_ready_fails_the_connection() -> None:
    pair = ConnectionPair().start()
    pair.server_sends(
        m.ErrorResponse.make(code="57P01", message="terminating connection", severity="FATAL")
    )
    assert pair.states() == (State.FAILED, State.FAILED)
    with pytest.raises(LocalProtocolError):
        pair.server.send(m.ReadyForQuery("I"))
    pair.server.send(m.NoticeResponse.make(code="00000", message="still allowed"))
    pair.client.send(m.Terminate())
    assert pair.client.state is State.CLOSED


def test_terminate_and_clean_eof() -> None:
    pair = ConnectionPair().start()
    pair.client_sends(m.Terminate())
    assert pair.states() == (State.CLOSED, State.CLOSED)
    with pytest.raises(LocalProtocolError):
        pair.client.send(m.Query("select 1"))
    with pytest.raises(LocalProtocolError):
        pair.server.send(m.ReadyForQuery("I"))
    # replies already in flight when the client terminated are still read by the client
    assert feed(pair.client, m.ReadyForQuery("I").encode()) == [m.ReadyForQuery("I")]
    for conn in (pair.client, pair.server):
        conn.receive_data(b"")
        assert conn.next_message() is CLOSED
        assert conn.next_message() is CLOSED
        conn.receive_data(b"")
        with pytest.raises(LocalProtocolError, match="after EOF"):
            conn.receive_data(b"x")


def test_eof_in_the_middle_of_a_message() -> None:
    server = ConnectionPair().start().server
    server.receive_data(m.Query("select 1").encode()[:-1])
    assert server.next_message() is NEED_DATA
    server.receive_data(b"")
    with pytest.raises(RemoteProtocolError, match="middle of a message"):
        server.next_message()


def test_eof_without_terminate_is_closed() -> None:
    server = ConnectionPair().start().server
    server.receive_data(b"")
    assert server.next_message() is CLOSED
    assert server.state is State.CLOSED


def test_wrong_direction_is_a_local_error() -> None:
    pair = ConnectionPair().start()
    with pytest.raises(LocalProtocolError, match="SERVER connection cannot send Query"):
        pair.server.send(m.Query("select 1"))
    with pytest.raises(LocalProtocolError, match="CLIENT connection cannot send DataRow"):
        pair.client.send(m.DataRow(()))


@pytest.mark.parametrize(
    ("prepare", "sender", "message", "match", "remote_match"),
    [
        ("fresh", "client", m.Query("select 1"), "before the startup", "startup packet length"),
        ("fresh", "server", m.ReadyForQuery("I"), "before the startup message", None),
        ("fresh", "server", m.SSLResponse(False), "without a matching request", ""),
        ("authenticating", "server", m.DataRow(()), "during authentication", None),
        ("authenticating", "client", m.Query("select 1"), "during authentication", None),
        ("startup_params", "server", m.DataRow(()), "before the first ReadyForQuery", None),
        ("ready", "server", m.AuthenticationOk(), "only valid during startup", None),
        ("ready", "server", m.BackendKeyData(1, 2), "only valid during startup", None),
        ("ready", "client", STARTUP, "only valid as the first message", ""),
        ("ready", "client", m.CancelRequest(1, 2), "only valid as the first message", ""),
    ],
)
def test_messages_out_of_state(
    prepare: str, sender: str, message: m.Message, match: str, remote_match: str | None
) -> None:
    """Sending is a LocalProtocolError; receiving the same bytes is a RemoteProtocolError
    (with the same explanation unless the bytes cannot even be framed in that state)."""
    pair = ConnectionPair()
    if prepare != "fresh":
        pair.client_sends(STARTUP)
    if prepare in ("startup_params", "ready"):
        pair.server_sends(m.AuthenticationOk())
    if prepare == "ready":
        pair.server_sends(m.ReadyForQuery("I"))
    local, remote = (pair.client, pair.server) if sender == "client" else (pair.server, pair.client)
    with pytest.raises(LocalProtocolError, match=match):
        local.send(message)
    if remote_match == "":
        return  # untyped or one-byte: not a frame the peer could even split off
    with pytest.raises(RemoteProtocolError, match=remote_match or match):
        feed(remote, message.encode())


def test_remote_errors_are_sticky_and_the_server_can_still_report_them() -> None:
    server = ConnectionPair().start().server
    with pytest.raises(RemoteProtocolError) as first:
        feed(server, b"?\x00\x00\x00\x04")
    assert server.state is State.FAILED
    with pytest.raises(RemoteProtocolError) as again:
        server.next_message()
    assert again.value is first.value
    report = m.ErrorResponse.make(code="08P01", message="protocol violation", severity="FATAL")
    assert server.send(report) == report.encode()


def test_small_frontend_messages_are_limited_like_the_server() -> None:
    server = ConnectionPair().start().server
    with pytest.raises(RemoteProtocolError, match="declares length"):
        feed(server, b"S" + (MAX_SMALL_MESSAGE_SIZE + 1).to_bytes(4, "big"))


def test_max_message_size_is_per_connection() -> None:
    client = Connection(Role.CLIENT, max_message_size=1000)
    client.send(STARTUP)
    feed(client, m.AuthenticationOk().encode() + m.ReadyForQuery("I").encode())
    assert feed(client, m.DataRow((b"x" * 900,)).encode()) == [m.DataRow((b"x" * 900,))]
    with pytest.raises(RemoteProtocolError):
        feed(client, m.DataRow((b"x" * 1000,)).encode()[:5])


GIGABYTE = 1 << 30


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SERVER])
def test_a_1_gb_declared_length_raises_at_once(role: Role) -> None:
    pair = ConnectionPair().start()
    conn = pair.client if role is Role.CLIENT else pair.server
    conn.receive_data(b"d" + GIGABYTE.to_bytes(4, "big"))  # CopyData, a "large" message type
    with pytest.raises(RemoteProtocolError, match="declares length 1073741824"):
        conn.next_message()


@pytest.mark.parametrize("length", [GIGABYTE, MAX_STARTUP_LENGTH + 5, 7, 0, -1])
def test_startup_packet_length_is_checked_first(length: int) -> None:
    server = Connection(Role.SERVER)
    server.receive_data(length.to_bytes(4, "big", signed=True))
    with pytest.raises(RemoteProtocolError, match="invalid startup packet length"):
        server.next_message()


def test_largest_startup_packet_is_accepted() -> None:
    body_without_value = len(m.StartupMessage((("options", ""),)).encode()) - 4
    startup = m.StartupMessage((("options", "x" * (MAX_STARTUP_LENGTH - body_without_value)),))
    assert len(startup.encode()) == MAX_STARTUP_LENGTH + 4
    assert feed(Connection(Role.SERVER), startup.encode()) == [startup]


def test_one_byte_at_a_time() -> None:
    server = Connection(Role.SERVER)
    received: list[m.Message] = []
    for byte in STARTUP.encode():
        received += feed(server, bytes((byte,)))
    assert received == [STARTUP]


# --- captures from a real server and real clients -----------------------------------------


def replay(
    capture: Capture, piece_size: int | None = None
) -> tuple[Connection, Connection, list[m.Message], list[m.Message], bytes, bytes]:
    """Play a capture through a SERVER (fed the client's bytes) and a CLIENT (fed the
    server's bytes), relaying each message through the other one as a proxy does."""
    server, client = Connection(Role.SERVER), Connection(Role.CLIENT)
    frontend: list[m.Message] = []
    backend: list[m.Message] = []
    frontend_wire = bytearray()
    backend_wire = bytearray()
    for side, data in capture.chunks:
        size = piece_size or len(data)
        for start in range(0, len(data), size):
            if side == FRONTEND:
                for message in feed(server, data[start : start + size]):
                    frontend.append(message)
                    frontend_wire += client.send(message)
            else:
                for message in feed(client, data[start : start + size]):
                    backend.append(message)
                    backend_wire += server.send(message)
    return server, client, frontend, backend, bytes(frontend_wire), bytes(backend_wire)


@pytest.mark.parametrize("name", list(ALL))
@pytest.mark.parametrize("piece_size", [None, 1, 7])
def test_capture_replays_into_the_expected_messages(name: str, piece_size: int | None) -> None:
    capture = ALL[name]
    server, client, frontend, backend, frontend_wire, backend_wire = replay(capture, piece_size)
    assert tuple(type(x).__name__ for x in frontend) == capture.frontend
    assert tuple(type(x).__name__ for x in backend) == capture.backend
    assert frontend_wire == capture.stream(FRONTEND)  # re-encoding gives the same bytes
    assert backend_wire == capture.stream(BACKEND)
    assert server.state is client.state is State.CLOSED
    for conn in (server, client):
        conn.receive_data(b"")
        assert conn.next_message() is CLOSED


def test_capture_psql_select_1_contents() -> None:
    server, client, frontend, backend, _, _ = replay(PSQL_SELECT_1)
    startup = frontend[1]
    assert isinstance(startup, m.StartupMessage)
    assert startup.params == {
        "user": "postgres",
        "database": "postgres",
        "application_name": "psql",
    }
    assert frontend[2] == m.Query("select 1")
    assert backend[-4:] == [
        m.RowDescription((m.FieldDescription("?column?", 0, 0, 23, 4, -1, 0),)),
        m.DataRow((b"1",)),
        m.CommandComplete("SELECT 1"),
        m.ReadyForQuery("I"),
    ]
    assert client.parameters["server_version"] == "15.20 (Debian 15.20-0+deb12u1)"
    assert client.backend_key == server.backend_key is not None


def test_capture_error_and_transaction_contents() -> None:
    _, _, _, backend, _, _ = replay(PSQL_ERROR)
    error = backend[-2]
    assert isinstance(error, m.ErrorResponse)
    assert (error.severity, error.code, error.message) == ("ERROR", "22012", "division by zero")

    server, client, _, backend, _, _ = replay(PSQL_NOTICE_NOTIFY_TRANSACTION)
    notice = next(x for x in backend if isinstance(x, m.NoticeResponse))
    assert notice.message == 'table "nope" does not exist, skipping'
    notification = next(x for x in backend if isinstance(x, m.NotificationResponse))
    assert (notification.channel, notification.payload) == ("ch", "hi")
    assert client.transaction_status == server.transaction_status == "T"


def test_capture_copy_contents() -> None:
    _, _, frontend, backend, _, _ = replay(PSQL_COPY_IN)
    assert m.CopyData(b"1\tone\n2\ttwo\n") in frontend
    assert m.CommandComplete("COPY 2") in backend
    _, _, _, backend, _, _ = replay(PSQL_COPY_OUT)
    assert [x for x in backend if isinstance(x, m.CopyData)] == [
        m.CopyData(b"1\tone\n"),
        m.CopyData(b"2\ttwo\n"),
    ]


def test_capture_extended_protocol_contents() -> None:
    _, _, frontend, _, _, _ = replay(PGBENCH_PREPARED)
    parse = frontend[2]
    assert parse == m.Parse("P_0", "SELECT abalance FROM pgbench_accounts WHERE aid = $1;", ())
    binds = [x for x in frontend if isinstance(x, m.Bind)]
    assert [b.statement for b in binds] == ["P_0"] * 3
    assert all(b.param_formats == () and b.result_formats == (0,) for b in binds)
    assert all(len(b.params) == 1 and b.params[0] is not None for b in binds)  # text aids

    _, _, frontend, backend, _, _ = replay(ASYNCPG_EXTENDED)
    bind = next(x for x in frontend if isinstance(x, m.Bind))
    assert bind.params == (b"\x00\x00\x00\x07",)  # int4 7 in binary
    assert bind.param_formats == (1,)
    assert m.Describe("S", "__asyncpg_stmt_1__") in frontend
    assert m.ParameterDescription((23,)) in backend
    cancelled = [x for x in backend if isinstance(x, m.ErrorResponse)]
    assert [x.code for x in cancelled] == ["57014"]


def test_capture_cancel_request() -> None:
    server, _, frontend, _, _, _ = replay(ASYNCPG_CANCEL)
    assert frontend == [m.CancelRequest(0x21ED, 0xF0B445D3)]
    assert server.state is State.CLOSED


# --- fuzzing: only RemoteProtocolError, never anything else --------------------------------


def _startup_pair(*backend: m.Message) -> ConnectionPair:
    pair = ConnectionPair()
    pair.client_sends(STARTUP)
    if backend:
        pair.server_sends(*backend)
    return pair


def _copy_pair(response: m.Message) -> ConnectionPair:
    pair = ConnectionPair().start()
    pair.client_sends(m.Query("copy"))
    pair.server_sends(response)
    return pair


def _ssl_pair() -> ConnectionPair:
    pair = ConnectionPair()
    pair.client_sends(m.SSLRequest())
    return pair


def _ssl_negotiated_pair() -> ConnectionPair:
    pair = _ssl_pair()
    pair.server_sends(m.SSLResponse(False))
    return pair


def _closed_pair() -> ConnectionPair:
    pair = ConnectionPair().start()
    pair.client_sends(m.Terminate())
    return pair


STATES: dict[str, Callable[[], Connection]] = {
    "server fresh": lambda: ConnectionPair().server,
    "server ssl requested": lambda: _ssl_pair().server,
    "server ssl negotiated": lambda: _ssl_negotiated_pair().server,
    "server wants password": lambda: _startup_pair(m.AuthenticationCleartextPassword()).server,
    "server wants sasl": lambda: _startup_pair(m.AuthenticationSASL(("SCRAM-SHA-256",))).server,
    "server wants sasl response": lambda: (
        _startup_pair(m.AuthenticationSASLContinue(b"r=x")).server
    ),
    "server startup params": lambda: _startup_pair(m.AuthenticationOk()).server,
    "server ready": lambda: ConnectionPair().start().server,
    "server copy in": lambda: _copy_pair(m.CopyInResponse(0)).server,
    "server closed": lambda: _closed_pair().server,
    "client fresh": lambda: ConnectionPair().client,
    "client ssl requested": lambda: _ssl_pair().client,
    "client authenticating": lambda: _startup_pair().client,
    "client startup params": lambda: _startup_pair(m.AuthenticationOk()).client,
    "client ready": lambda: ConnectionPair().start().client,
    "client copy out": lambda: _copy_pair(m.CopyOutResponse(0)).client,
    "client copy both": lambda: _copy_pair(m.CopyBothResponse(0)).client,
    "client closed": lambda: _closed_pair().client,
}


def exhaust(conn: Connection, pieces: list[bytes], eof: bool) -> None:
    """Feed pieces; anything but a RemoteProtocolError (or NEED_DATA/CLOSED) fails."""
    try:
        for piece in pieces:
            conn.receive_data(piece)
            for message in drain(conn):
                assert isinstance(message, m.Message)
        if eof:
            conn.receive_data(b"")
            drain(conn)
    except RemoteProtocolError:
        assert conn.state is State.FAILED
        with pytest.raises(RemoteProtocolError):
            conn.next_message()


@given(
    state=st.sampled_from(sorted(STATES)),
    pieces=st.lists(st.binary(min_size=1, max_size=40), max_size=6),
    eof=st.booleans(),
)
def test_fuzz_random_bytes_in_every_state(state: str, pieces: list[bytes], eof: bool) -> None:
    exhaust(STATES[state](), pieces, eof)


@given(
    state=st.sampled_from(sorted(STATES)),
    type_byte=st.binary(min_size=1, max_size=1),
    payload=st.binary(max_size=30),
)
def test_fuzz_well_framed_random_messages(state: str, type_byte: bytes, payload: bytes) -> None:
    framed = type_byte + (len(payload) + 4).to_bytes(4, "big") + payload
    untyped = (len(payload) + 8).to_bytes(4, "big") + type_byte * 4 + payload
    exhaust(STATES[state](), [framed], eof=True)
    exhaust(STATES[state](), [untyped], eof=True)


def _split_startup(capture: Capture) -> dict[str, bytes]:
    """A capture's streams cut into the startup part and the session part of each side."""
    client_bytes = capture.stream(FRONTEND)
    server_bytes = capture.stream(BACKEND)
    if client_bytes.startswith(m.SSLRequest().encode()):
        client_bytes, server_bytes = client_bytes[8:], server_bytes[1:]
    startup_end = int.from_bytes(client_bytes[:4], "big")
    frames, _ = scan_frames(server_bytes)
    ready_end = next(end for type_byte, _, end in frames if type_byte == ord("Z"))
    return {
        "server fresh": client_bytes[:startup_end],
        "server ready": client_bytes[startup_end:],
        "client authenticating": server_bytes[:ready_end],
        "client ready": server_bytes[ready_end:],
    }


SESSIONS = [c for c in ALL.values() if c.backend]


@st.composite
def mutated_capture(draw: st.DrawFn) -> tuple[str, bytes]:
    capture = draw(st.sampled_from(SESSIONS))
    state, data = draw(st.sampled_from(sorted(_split_startup(capture).items())))
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not buf:
            break
        index = draw(st.integers(0, len(buf) - 1))
        action = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
        if action == "replace":
            buf[index] = draw(st.integers(0, 255))
        elif action == "insert":
            buf[index:index] = draw(st.binary(min_size=1, max_size=4))
        elif action == "delete":
            del buf[index]
        else:
            del buf[index:]
    return state, bytes(buf)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(mutated=mutated_capture(), piece_size=st.integers(1, 64), eof=st.booleans())
def test_fuzz_mutated_captures(mutated: tuple[str, bytes], piece_size: int, eof: bool) -> None:
    state, data = mutated
    pieces = [data[i : i + piece_size] for i in range(0, len(data), piece_size)]
    exhaust(STATES[state](), pieces, eof)


def test_unmutated_capture_parts_parse_cleanly() -> None:
    for capture in SESSIONS:
        for state, data in _split_startup(capture).items():
            conn = STATES[state]()
            received: list[Any] = feed(conn, data)
            assert received or not data


def test_last_frame_is_each_message_as_received() -> None:
    """A relay forwards `last_frame` instead of encoding again: it must be exactly the
    frame that arrived, which is also exactly what encoding the decoded message gives."""
    pair = ConnectionPair().start()
    messages = [
        m.Parse("s1", "SELECT $1::int", (23,)),
        m.Bind("", "s1", (0,), (b"42",), (0,)),
        m.Describe("P", ""),
        m.Execute("", 0),
        m.Sync(),
    ]
    frames = [pair.client.send(x) for x in messages]
    pair.server.receive_data(b"".join(frames))
    for message, frame in zip(messages, frames, strict=True):
        assert pair.server.next_message() == message
        assert pair.server.last_frame == frame == message.encode()


@pytest.mark.parametrize(("side", "type_byte"), [("server", b"z"), ("client", b"Q")])
def test_an_unknown_message_type_is_refused_before_its_body_arrives(
    side: str, type_byte: bytes
) -> None:
    """As the server does: one byte is enough, whatever length would follow."""
    pair = ConnectionPair().start()
    receiver = pair.server if side == "server" else pair.client
    receiver.receive_data(type_byte)
    with pytest.raises(RemoteProtocolError, match=r"unknown .* message type"):
        receiver.next_message()
