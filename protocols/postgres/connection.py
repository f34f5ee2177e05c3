"""The PostgreSQL protocol state machine, sans-IO (in the style of h11).

Owns: buffering received bytes, splitting them into messages (untyped startup packets,
the one-byte SSL/GSSAPI answers, typed frames), decoding them for the role we play, and
checking every message sent or received against the connection's state: startup ->
authentication -> startup parameters -> ready (and copy modes) -> closed.

Must never: touch sockets, trio or time; decide policy; import from ``iap``. It checks the
order of the protocol, not its meaning: in the ready state it relays what the peer sends
and lets the real backend reject misuse. Errors: ``LocalProtocolError`` when our side sends
something the state does not allow, ``RemoteProtocolError`` when the peer does (after
which the connection is FAILED and ``next_message`` raises the same error again).

    conn = Connection(Role.SERVER)          # we play the server to a client such as psql
    conn.receive_data(chunk)                # b"" means EOF
    while (msg := conn.next_message()) is not NEED_DATA and msg is not CLOSED:
        ...
    wire = conn.send(ErrorResponse.make(code="42501", message="denied"))
"""

from __future__ import annotations

from enum import Enum
from typing import Final, NoReturn

from protocols.errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from protocols.postgres.framing import (
    HEADER_SIZE,
    MAX_MESSAGE_SIZE,
    MAX_STARTUP_LENGTH,
    frame_length,
)
from protocols.postgres.messages import (
    BACKEND_TYPES,
    FRONTEND_TYPES,
    PROTOCOL_VERSION_3_0,
    AuthenticationCleartextPassword,
    AuthenticationMD5Password,
    AuthenticationOk,
    AuthenticationRequest,
    AuthenticationSASL,
    AuthenticationSASLContinue,
    AuthenticationSASLFinal,
    AuthResponse,
    BackendKeyData,
    BackendMessage,
    CancelRequest,
    CommandComplete,
    CopyBothResponse,
    CopyDone,
    CopyFail,
    CopyInResponse,
    CopyOutResponse,
    ErrorResponse,
    FrontendMessage,
    GSSENCRequest,
    GSSENCResponse,
    Message,
    NegotiateProtocolVersion,
    NoticeResponse,
    ParameterStatus,
    PasswordMessage,
    ReadyForQuery,
    SASLInitialResponse,
    SASLResponse,
    SSLRequest,
    SSLResponse,
    StartupMessage,
    StartupPacket,
    Terminate,
    TransactionStatus,
    decode_backend,
    decode_frontend,
    decode_startup,
)

__all__ = [
    "CLOSED",
    "MAX_AUTH_MESSAGE_SIZE",
    "MAX_SMALL_MESSAGE_SIZE",
    "NEED_DATA",
    "Connection",
    "Role",
    "Sentinel",
    "State",
]

MAX_SMALL_MESSAGE_SIZE: Final = 10000
"""Limit the server puts on frontend messages that carry no data (Sync, Describe, ...)."""

MAX_AUTH_MESSAGE_SIZE: Final = 65535
"""Limit the server puts on a password or SASL message (PG_MAX_AUTH_TOKEN_LENGTH)."""

# Frontend messages the server reads with PQ_SMALL_MESSAGE_LIMIT: Close, Describe, Execute,
# Flush, Sync, Terminate.
_SMALL_FRONTEND_TYPES: Final = frozenset(b"CDEHSX")
_TLS_HANDSHAKE_BYTE: Final = 0x16


class Role(Enum):
    """Which side of the protocol this Connection plays."""

    CLIENT = "client"  # we talk to a PostgreSQL server (the gateway's backend leg)
    SERVER = "server"  # we talk to a client application (psql, a driver)


class State(Enum):
    STARTUP = "startup"  # nothing sent yet: a startup packet comes first
    SSL_REQUESTED = "ssl_requested"  # SSLRequest/GSSENCRequest sent, its answer pending
    SSL_NEGOTIATED = "ssl_negotiated"  # answered; the startup packet comes next
    AUTHENTICATING = "authenticating"  # StartupMessage sent, until AuthenticationOk
    STARTUP_PARAMS = "startup_params"  # AuthenticationOk sent, until the first ReadyForQuery
    READY = "ready"  # normal operation (simple and extended query protocol)
    COPY_IN = "copy_in"  # CopyInResponse seen: the client streams CopyData
    COPY_OUT = "copy_out"  # CopyOutResponse seen: the server streams CopyData
    COPY_BOTH = "copy_both"  # CopyBothResponse seen (streaming replication)
    CLOSED = "closed"  # Terminate or CancelRequest sent, or EOF
    FAILED = "failed"  # startup failed, a FATAL error, or a protocol violation


class Sentinel(Enum):
    """What ``next_message`` returns when it has no message."""

    NEED_DATA = "NEED_DATA"  # feed more bytes with receive_data()
    CLOSED = "CLOSED"  # the peer closed the connection on a message boundary


NEED_DATA: Final = Sentinel.NEED_DATA
CLOSED: Final = Sentinel.CLOSED

# Tuples, not sets: membership by identity avoids Enum's Python-level __hash__.
_BEFORE_STARTUP: Final = (State.STARTUP, State.SSL_NEGOTIATED)
_BEFORE_AUTHENTICATION: Final = (State.STARTUP, State.SSL_REQUESTED, State.SSL_NEGOTIATED)
_BEFORE_READY: Final = (*_BEFORE_AUTHENTICATION, State.AUTHENTICATING, State.STARTUP_PARAMS)
_COPY: Final = (State.COPY_IN, State.COPY_OUT, State.COPY_BOTH)
_SESSION: Final = (State.READY, *_COPY, State.STARTUP_PARAMS)

_STARTUP_PACKETS: Final = (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest)
_STARTUP_ONLY_BACKEND: Final = (AuthenticationRequest, BackendKeyData, NegotiateProtocolVersion)
_ANSWER_TO: Final[dict[type[Message], type[Message]]] = {
    SSLRequest: SSLResponse,
    GSSENCRequest: GSSENCResponse,
}


class Connection:
    """One PostgreSQL connection seen from ``role``'s side; see the module docstring."""

    def __init__(self, role: Role, *, max_message_size: int = MAX_MESSAGE_SIZE) -> None:
        self.role: Final = role
        self.max_message_size: Final = max_message_size
        self.startup: StartupMessage | None = None
        """The StartupMessage of this session, once sent or received."""
        self.backend_key: BackendKeyData | None = None
        """The BackendKeyData of this session, once sent or received."""
        self.parameters: dict[str, str] = {}
        """Run-time parameters reported by ParameterStatus (latest value of each)."""
        self._state = State.STARTUP
        self._transaction_status: TransactionStatus = "I"
        self._buffer = bytearray()
        self._pos = 0
        self._eof = False
        self._error: RemoteProtocolError | None = None
        self._negotiation: type[SSLRequest | GSSENCRequest] | None = None
        # The whole frame (type byte, length, payload) of the last typed message returned by
        # next_message: a relay forwards it as received instead of encoding it again (the
        # decoder accepts only canonical frames, so the two are the same bytes).
        self.last_frame = b""
        self._negotiated: set[type[Message]] = set()
        self._encrypted = False
        self._auth_response: type[AuthResponse] | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.role.name} {self._state.name}>"

    @property
    def state(self) -> State:
        return self._state

    @property
    def pending_bytes(self) -> int:
        """Bytes received but not yet returned as messages (to bound buffering)."""
        return len(self._buffer) - self._pos

    @property
    def transaction_status(self) -> TransactionStatus:
        """'I', 'T' or 'E' from the last ReadyForQuery seen or sent ('I' before the first)."""
        return self._transaction_status

    # ---------------------------------------------------------------------------------
    # Receiving
    # ---------------------------------------------------------------------------------

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        """Feed bytes received from the peer; ``b""`` means the peer closed (EOF)."""
        if self._eof:
            if data:
                raise LocalProtocolError("receive_data() called with data after EOF")
            return
        if not data:
            self._eof = True
            return
        if self._pos:
            del self._buffer[: self._pos]
            self._pos = 0
        self._buffer += data

    def next_message(self) -> Message | Sentinel:
        """The next complete message from the peer, NEED_DATA, or CLOSED after a clean EOF."""
        if self._error is not None:
            raise self._error
        try:
            message = self._parse()
            if message is None:
                return self._no_message()
            self._observe(message, received=True)
        except RemoteProtocolError as exc:
            self._fail(exc)
        return message

    def _no_message(self) -> Sentinel:
        if not self._eof:
            return NEED_DATA
        if self._pos < len(self._buffer):
            raise RemoteProtocolError("peer closed the connection in the middle of a message")
        self._state = State.CLOSED
        return CLOSED

    def _fail(self, exc: RemoteProtocolError) -> NoReturn:
        self._error = exc
        self._state = State.FAILED
        raise exc

    def _parse(self) -> Message | None:
        """Split off one message if the buffer holds a complete one."""
        available = len(self._buffer) - self._pos
        if self._state is State.SSL_REQUESTED:
            if self.role is Role.SERVER or not available:
                return None  # the client must wait for our answer; nothing to read yet
            if self._buffer[self._pos] != ord("E"):  # servers without SSL answer with an error
                return self._parse_negotiation_answer()
        elif self.role is Role.SERVER and self._state in _BEFORE_STARTUP:
            return self._parse_startup_packet(available)
        return self._parse_typed(available)

    def _take(self, start: int, end: int) -> bytes:
        with memoryview(self._buffer) as view:
            payload = view[self._pos + start : self._pos + end].tobytes()
        self._pos += end
        return payload

    def _parse_negotiation_answer(self) -> SSLResponse | GSSENCResponse:
        answer = self._buffer[self._pos]
        self._pos += 1
        request = self._negotiation
        accepted = (answer == ord("S") and request is SSLRequest) or (
            answer == ord("G") and request is GSSENCRequest
        )
        if not accepted and answer != ord("N"):
            name = request.__name__ if request else "a negotiation request"
            raise RemoteProtocolError(f"invalid answer {bytes((answer,))!r} to {name}")
        if accepted and self._pos < len(self._buffer):
            # CVE-2021-23222: bytes that arrived before the TLS handshake are not from the
            # server we are about to authenticate; never read them as if they were.
            raise RemoteProtocolError("server sent unencrypted data after accepting encryption")
        if request is GSSENCRequest:
            return GSSENCResponse(accepted)
        return SSLResponse(accepted)

    def _parse_startup_packet(self, available: int) -> StartupPacket | None:
        if available and self._buffer[self._pos] == _TLS_HANDSHAKE_BYTE:
            raise RemoteProtocolError(
                "client started a TLS handshake directly (sslnegotiation=direct); "
                "only an SSLRequest first is supported"
            )
        if available < 4:
            return None
        length = int.from_bytes(self._buffer[self._pos : self._pos + 4], "big", signed=True)
        if not 8 <= length <= MAX_STARTUP_LENGTH + 4:
            raise RemoteProtocolError(
                f"invalid startup packet length {length} (allowed 8..{MAX_STARTUP_LENGTH + 4})"
            )
        if available < length:
            return None
        return decode_startup(self._take(4, length))

    def _parse_typed(self, available: int) -> Message | None:
        if not available:
            return None
        type_byte = self._buffer[self._pos]
        # An unknown type is refused at once, as the server does, not after waiting for a
        # body of whatever length follows it.
        known = FRONTEND_TYPES if self.role is Role.SERVER else BACKEND_TYPES
        if type_byte not in known:
            side = "frontend" if self.role is Role.SERVER else "backend"
            raise RemoteProtocolError(f"unknown {side} message type {bytes((type_byte,))!r}")
        if available < HEADER_SIZE:
            return None
        length = frame_length(self._buffer, self._pos, self._size_limit(type_byte))
        if available < 1 + length:
            return None
        frame = self._take(0, 1 + length)
        self.last_frame = frame
        payload = frame[HEADER_SIZE:]
        if self.role is Role.CLIENT:
            return decode_backend(type_byte, payload)
        return decode_frontend(
            type_byte, payload, auth_response=self._auth_response or PasswordMessage
        )

    def _size_limit(self, type_byte: int) -> int:
        if self.role is Role.SERVER:
            if type_byte in _SMALL_FRONTEND_TYPES:
                return min(self.max_message_size, MAX_SMALL_MESSAGE_SIZE)
            if type_byte == ord("p"):
                return min(self.max_message_size, MAX_AUTH_MESSAGE_SIZE)
        return self.max_message_size

    # ---------------------------------------------------------------------------------
    # Sending
    # ---------------------------------------------------------------------------------

    def send(self, message: Message) -> bytes:
        """The wire bytes of ``message``, after checking our side may send it now."""
        allowed = BackendMessage if self.role is Role.SERVER else FrontendMessage
        if not isinstance(message, allowed):
            raise LocalProtocolError(
                f"a {self.role.name} connection cannot send {type(message).__name__}"
            )
        data = message.encode()
        self._observe(message, received=False)
        if (
            isinstance(message, SSLResponse | GSSENCResponse)
            and message.accepted
            and self._pos < len(self._buffer)
        ):
            # CVE-2021-23214: bytes that arrived before the handshake are not from the
            # client we are about to authenticate; never read them as if they were.
            self._fail(RemoteProtocolError("client sent data after its encryption request"))
        return data

    def protocol_negotiation(self) -> NegotiateProtocolVersion | None:
        """What to answer a StartupMessage that asked for protocol 3.x>0 or ``_pq_.`` options.

        None when the client asked for plain 3.0. We speak 3.0 and no options, like a
        server that has never heard of them.
        """
        startup = self.startup
        if startup is None or (startup.minor_version == 0 and not startup.protocol_options):
            return None
        return NegotiateProtocolVersion(0, startup.protocol_options)

    # ---------------------------------------------------------------------------------
    # The state machine, shared by both directions
    # ---------------------------------------------------------------------------------

    def _observe(self, message: Message, *, received: bool) -> None:
        """Check ``message`` against the state and move on; a violation blames its sender."""
        error = RemoteProtocolError if received else LocalProtocolError
        if (self.role is Role.SERVER) == received:  # the client's side of the conversation
            self._frontend(message, error)
        else:
            self._backend(message, error)

    def _frontend(self, message: Message, error: type[ProtocolError]) -> None:
        state = self._state
        name = type(message).__name__
        if state in _BEFORE_STARTUP:
            self._frontend_startup(message, error)
        elif isinstance(message, _STARTUP_PACKETS):
            raise error(f"{name} is only valid as the first message of a connection")
        elif isinstance(message, Terminate) and state is not State.CLOSED:
            self._state = State.CLOSED
        elif state is State.AUTHENTICATING:
            expected = self._auth_response
            if expected is None or type(message) is not expected:
                wanted = expected.__name__ if expected else "nothing (the server speaks next)"
                raise error(f"{name} during authentication; expected {wanted}")
            self._auth_response = None
        elif state in _SESSION:
            if isinstance(message, CopyDone | CopyFail):
                if state is State.COPY_IN:
                    self._state = State.READY
                elif state is State.COPY_BOTH:
                    self._state = State.COPY_OUT
        elif state is State.CLOSED:
            raise error(f"{name} after the connection was closed")
        elif state is State.FAILED:
            raise error(f"{name} after the connection failed; only Terminate may follow")
        else:
            raise error(f"{name} while waiting for the answer to an encryption request")

    def _frontend_startup(self, message: Message, error: type[ProtocolError]) -> None:
        name = type(message).__name__
        if isinstance(message, SSLRequest | GSSENCRequest):
            if self._encrypted:
                raise error(f"{name} after encryption was already negotiated")
            if type(message) in self._negotiated:
                raise error(f"{name} sent twice")
            self._negotiated.add(type(message))
            self._negotiation = type(message)
            self._state = State.SSL_REQUESTED
        elif isinstance(message, StartupMessage):
            self._check_version(message, error)
            self.startup = message
            self._state = State.AUTHENTICATING
        elif isinstance(message, CancelRequest):
            self._state = State.CLOSED
        else:
            raise error(f"{name} sent before the startup message")

    def _check_version(self, startup: StartupMessage, error: type[ProtocolError]) -> None:
        major, minor = startup.major_version, startup.minor_version
        if major != 3:
            raise error(
                f"unsupported frontend protocol {major}.{minor}: only protocol 3.0 is spoken"
                " (PostgreSQL 7.4 and later); protocol 2 is not supported"
            )
        if self.role is Role.CLIENT and startup.protocol_version != PROTOCOL_VERSION_3_0:
            raise error(f"this implementation sends protocol 3.0 only, not {major}.{minor}")

    def _backend(self, message: Message, error: type[ProtocolError]) -> None:
        state = self._state
        name = type(message).__name__
        if state is State.CLOSED:
            if self.role is Role.CLIENT:
                return  # replies still in flight after our Terminate: harmless
            raise error(f"{name} after the connection was closed")
        if state is State.FAILED:
            if self.role is Role.CLIENT or isinstance(message, ErrorResponse | NoticeResponse):
                return
            raise error(f"{name} after the connection failed; only an ErrorResponse may follow")
        if isinstance(message, SSLResponse | GSSENCResponse):
            self._negotiation_answer(message, error)
        elif isinstance(message, ErrorResponse):
            if state in _BEFORE_READY or message.is_fatal:
                self._state = State.FAILED
            elif state in _COPY:
                self._state = State.READY
        elif state in _BEFORE_AUTHENTICATION:
            raise error(f"{name} before the startup message")
        elif isinstance(message, NoticeResponse):
            pass
        elif state is State.AUTHENTICATING:
            if isinstance(message, AuthenticationRequest):
                self._authentication_request(message, error)
            elif not isinstance(message, NegotiateProtocolVersion):
                raise error(f"{name} during authentication")
        elif state is State.STARTUP_PARAMS:
            self._startup_param(message, error)
        elif isinstance(message, _STARTUP_ONLY_BACKEND):
            raise error(f"{name} is only valid during startup")
        else:
            self._session(message)

    def _negotiation_answer(
        self, message: SSLResponse | GSSENCResponse, error: type[ProtocolError]
    ) -> None:
        request = self._negotiation
        if (
            self._state is not State.SSL_REQUESTED
            or request is None
            or _ANSWER_TO[request] is not type(message)
        ):
            raise error(f"{type(message).__name__} without a matching request")
        self._encrypted = message.accepted
        self._negotiation = None
        self._state = State.SSL_NEGOTIATED

    def _authentication_request(
        self, message: AuthenticationRequest, error: type[ProtocolError]
    ) -> None:
        name = type(message).__name__
        if self._auth_response is not None:
            raise error(f"{name} while the client's {self._auth_response.__name__} is due")
        if isinstance(message, AuthenticationOk):
            self._state = State.STARTUP_PARAMS
        elif isinstance(message, AuthenticationCleartextPassword | AuthenticationMD5Password):
            self._auth_response = PasswordMessage
        elif isinstance(message, AuthenticationSASL):
            self._auth_response = SASLInitialResponse
        elif isinstance(message, AuthenticationSASLContinue):
            self._auth_response = SASLResponse
        elif not isinstance(message, AuthenticationSASLFinal) and self.role is Role.SERVER:
            # Kerberos, GSSAPI, SSPI: a CLIENT passes them on so its authenticator can
            # explain; this implementation cannot serve them.
            raise error(f"{name} is not supported")

    def _startup_param(self, message: Message, error: type[ProtocolError]) -> None:
        if isinstance(message, ParameterStatus):
            self.parameters[message.name] = message.value
        elif isinstance(message, BackendKeyData):
            self.backend_key = message
        elif isinstance(message, ReadyForQuery):
            self._transaction_status = message.status
            self._state = State.READY
        elif not isinstance(message, NegotiateProtocolVersion):
            raise error(f"{type(message).__name__} before the first ReadyForQuery")

    def _session(self, message: Message) -> None:
        state = self._state
        if isinstance(message, ReadyForQuery):
            self._transaction_status = message.status
            self._state = State.READY
        elif isinstance(message, ParameterStatus):
            self.parameters[message.name] = message.value
        elif isinstance(message, CopyInResponse):
            self._state = State.COPY_IN
        elif isinstance(message, CopyOutResponse):
            self._state = State.COPY_OUT
        elif isinstance(message, CopyBothResponse):
            self._state = State.COPY_BOTH
        elif isinstance(message, CopyDone):
            if state is State.COPY_OUT:
                self._state = State.READY
            elif state is State.COPY_BOTH:
                self._state = State.COPY_IN
        elif isinstance(message, CommandComplete) and state in _COPY:
            self._state = State.READY
