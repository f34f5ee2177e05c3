"""PostgreSQL wire messages (protocol 3.0) as frozen dataclasses, and their codecs.

Owns: one frozen dataclass per message with the protocol's own field names, ``encode()``
to the full wire frame, ``decode()`` from a payload, the module-level dispatchers
``decode_frontend`` / ``decode_backend`` / ``decode_startup``, and the small ``Reader`` /
``Writer`` every codec shares.

Must never: keep connection state (that is ``connection.py``), do I/O, know about policy,
or import from ``iap``. Malformed input raises ``RemoteProtocolError`` and nothing else;
invalid values given to ``encode()`` raise ``LocalProtocolError``.

Strings are UTF-8 decoded with ``errors="surrogateescape"``, so any bytes round-trip
exactly (``decode(x).encode() == x``), whatever the session's client_encoding.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Final, Literal, Self, TypeAlias, cast

from protocols.errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "PROTOCOL_VERSION_3_0",
    "AuthResponse",
    "AuthenticationCleartextPassword",
    "AuthenticationGSS",
    "AuthenticationGSSContinue",
    "AuthenticationKerberosV5",
    "AuthenticationMD5Password",
    "AuthenticationOk",
    "AuthenticationRequest",
    "AuthenticationSASL",
    "AuthenticationSASLContinue",
    "AuthenticationSASLFinal",
    "AuthenticationSSPI",
    "BackendKeyData",
    "BackendMessage",
    "Bind",
    "BindComplete",
    "CancelRequest",
    "Close",
    "CloseComplete",
    "CommandComplete",
    "CopyBothResponse",
    "CopyData",
    "CopyDone",
    "CopyFail",
    "CopyInResponse",
    "CopyOutResponse",
    "DataRow",
    "Describe",
    "EmptyQueryResponse",
    "ErrorResponse",
    "Execute",
    "FieldDescription",
    "Flush",
    "FrontendMessage",
    "FunctionCall",
    "FunctionCallResponse",
    "GSSENCRequest",
    "GSSENCResponse",
    "Message",
    "NegotiateProtocolVersion",
    "NoData",
    "NoticeResponse",
    "NotificationResponse",
    "ParameterDescription",
    "ParameterStatus",
    "Parse",
    "ParseComplete",
    "PasswordMessage",
    "PortalSuspended",
    "Query",
    "Reader",
    "ReadyForQuery",
    "RowDescription",
    "SASLInitialResponse",
    "SASLResponse",
    "SSLRequest",
    "SSLResponse",
    "StartupMessage",
    "StartupPacket",
    "Sync",
    "Terminate",
    "TransactionStatus",
    "Writer",
    "command_tag_rows",
    "decode_backend",
    "decode_frontend",
    "decode_startup",
]

PROTOCOL_VERSION_3_0: Final = 3 << 16  # 196608
SSL_REQUEST_CODE: Final = 80877103  # 1234 << 16 | 5679
GSSENC_REQUEST_CODE: Final = 80877104  # 1234 << 16 | 5680
CANCEL_REQUEST_CODE: Final = 80877102  # 1234 << 16 | 5678

_UINT8: Final = struct.Struct("!B")
_INT16: Final = struct.Struct("!h")
_UINT16: Final = struct.Struct("!H")
_INT32: Final = struct.Struct("!i")
_UINT32: Final = struct.Struct("!I")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _wire(text: str, what: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(f"{what}: cannot encode {text!r}: {exc.reason}") from exc


# --------------------------------------------------------------------------------------
# The shared reader and writer
# --------------------------------------------------------------------------------------


class Reader:
    """Reads protocol fields from one message payload; every overrun is a RemoteProtocolError."""

    __slots__ = ("_data", "_pos", "_what")

    def __init__(self, payload: bytes | bytearray | memoryview, what: str) -> None:
        self._data = bytes(payload)
        self._pos = 0
        self._what = what

    def fail(self, problem: str) -> RemoteProtocolError:
        """Return (for the caller to raise) an error naming the message being decoded."""
        return RemoteProtocolError(f"malformed {self._what}: {problem}")

    def _advance(self, size: int) -> int:
        start = self._pos
        if start + size > len(self._data):
            raise self.fail(f"truncated (needs {size} more bytes at offset {start})")
        self._pos = start + size
        return start

    def _unpack(self, fmt: struct.Struct) -> int:
        value: int = fmt.unpack_from(self._data, self._advance(fmt.size))[0]
        return value

    def uint8(self) -> int:
        return self._data[self._advance(1)]

    def int16(self) -> int:
        return self._unpack(_INT16)

    def uint16(self) -> int:
        return self._unpack(_UINT16)

    def int32(self) -> int:
        return self._unpack(_INT32)

    def uint32(self) -> int:
        return self._unpack(_UINT32)

    def byte(self) -> str:
        """One byte as a one-character string (a code such as 'S', 'P', 'I')."""
        return chr(self.uint8())

    def take(self, size: int) -> bytes:
        start = self._advance(size)
        return self._data[start : start + size]

    def cstring_bytes(self) -> bytes:
        end = self._data.find(0, self._pos)
        if end < 0:
            raise self.fail("string without terminating NUL")
        raw = self._data[self._pos : end]
        self._pos = end + 1
        return raw

    def cstring(self) -> str:
        return _text(self.cstring_bytes())

    def value(self) -> bytes | None:
        """An Int32 length (-1 = NULL) followed by that many bytes."""
        size = self.int32()
        if size == -1:
            return None
        if size < 0:
            raise self.fail(f"negative value length {size}")
        return self.take(size)

    def int16s(self, count: int) -> tuple[int, ...]:
        return tuple(self.int16() for _ in range(count))

    def rest(self) -> bytes:
        raw = self._data[self._pos :]
        self._pos = len(self._data)
        return raw

    def at_end(self) -> bool:
        return self._pos == len(self._data)

    def finish(self) -> None:
        if self._pos != len(self._data):
            raise self.fail(f"{len(self._data) - self._pos} unexpected trailing bytes")


class Writer:
    """Builds one frame (type byte, Int32 length, payload) in a single buffer."""

    __slots__ = ("_buf", "_start", "_what")

    def __init__(self, type_code: bytes, what: str) -> None:
        self._buf = bytearray(type_code)
        self._start = len(type_code)
        self._buf += b"\0\0\0\0"
        self._what = what

    def _pack(self, fmt: struct.Struct, value: int) -> None:
        try:
            self._buf += fmt.pack(value)
        except struct.error as exc:
            raise LocalProtocolError(f"{self._what}: {value!r} does not fit: {exc}") from exc

    def uint8(self, value: int) -> None:
        self._pack(_UINT8, value)

    def int16(self, value: int) -> None:
        self._pack(_INT16, value)

    def uint16(self, value: int) -> None:
        self._pack(_UINT16, value)

    def int32(self, value: int) -> None:
        self._pack(_INT32, value)

    def uint32(self, value: int) -> None:
        self._pack(_UINT32, value)

    def byte(self, code: str) -> None:
        if len(code) != 1 or not 0 < ord(code) < 256:
            raise LocalProtocolError(f"{self._what}: {code!r} is not a one-byte code")
        self._buf.append(ord(code))

    def raw(self, data: bytes) -> None:
        self._buf += data

    def cstring(self, text: str | bytes) -> None:
        raw = text if isinstance(text, bytes) else _wire(text, self._what)
        if b"\0" in raw:
            raise LocalProtocolError(f"{self._what}: {text!r} contains a NUL byte")
        self._buf += raw
        self._buf.append(0)

    def value(self, data: bytes | None) -> None:
        if data is None:
            self.int32(-1)
        else:
            self.int32(len(data))
            self._buf += data

    def int16s(self, values: tuple[int, ...]) -> None:
        self.uint16(len(values))
        for value in values:
            self.int16(value)

    def frame(self) -> bytes:
        try:
            _INT32.pack_into(self._buf, self._start, len(self._buf) - self._start)
        except struct.error as exc:
            raise LocalProtocolError(f"{self._what}: message too large") from exc
        return bytes(self._buf)


# --------------------------------------------------------------------------------------
# Base classes
# --------------------------------------------------------------------------------------


class Message:
    """Base of every PostgreSQL message."""

    __slots__ = ()

    def encode(self) -> bytes:  # pragma: no cover - every concrete class overrides
        raise NotImplementedError


class _Typed(Message):
    """A message framed as type byte + Int32 length + payload."""

    __slots__ = ()
    type_code: ClassVar[bytes]

    def encode(self) -> bytes:
        writer = Writer(self.type_code, type(self).__name__)
        self._write(writer)
        return writer.frame()

    def _write(self, writer: Writer) -> None:
        """Write the payload; messages without a payload keep this."""

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls()

    @classmethod
    def decode(cls, payload: bytes | bytearray | memoryview) -> Self:
        """Decode the payload (the bytes after the type byte and length) of this message."""
        reader = Reader(payload, cls.__name__)
        message = cls._read(reader)
        reader.finish()
        return message


class _StartupPacket(Message):
    """An untyped packet sent first on a connection: Int32 length + Int32 code + body."""

    __slots__ = ()

    def encode(self) -> bytes:
        writer = Writer(b"", type(self).__name__)
        self._write(writer)
        return writer.frame()

    def _write(self, writer: Writer) -> None:  # pragma: no cover - every subclass overrides
        raise NotImplementedError


# --------------------------------------------------------------------------------------
# Frontend: the untyped startup packets
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartupMessage(_StartupPacket):
    """The first message of a session. ``parameters`` keeps the order and any duplicates."""

    parameters: tuple[tuple[str, str], ...] = ()
    protocol_version: int = PROTOCOL_VERSION_3_0

    @classmethod
    def make(
        cls,
        parameters: Mapping[str, str] | Iterable[tuple[str, str]],
        protocol_version: int = PROTOCOL_VERSION_3_0,
    ) -> Self:
        """Build from a mapping (``{"user": "app", "database": "db"}``) or pairs."""
        pairs = parameters.items() if isinstance(parameters, Mapping) else parameters
        return cls(tuple((name, value) for name, value in pairs), protocol_version)

    @property
    def params(self) -> dict[str, str]:
        """The parameters as a dict (the last of duplicated names wins, as in the server)."""
        return dict(self.parameters)

    @property
    def user(self) -> str | None:
        return self.params.get("user")

    @property
    def database(self) -> str | None:
        """The database asked for; the server defaults it to the user name."""
        return self.params.get("database")

    @property
    def major_version(self) -> int:
        return self.protocol_version >> 16

    @property
    def minor_version(self) -> int:
        return self.protocol_version & 0xFFFF

    @property
    def protocol_options(self) -> tuple[str, ...]:
        """Names of protocol extension options (``_pq_.*``) the client asked for."""
        return tuple(name for name, _ in self.parameters if name.startswith("_pq_."))

    def _write(self, writer: Writer) -> None:
        writer.uint32(self.protocol_version)
        for name, value in self.parameters:
            if not name:
                raise LocalProtocolError("StartupMessage: empty parameter name")
            writer.cstring(name)
            writer.cstring(value)
        writer.raw(b"\0")

    @classmethod
    def _read_body(cls, reader: Reader, version: int) -> Self:
        pairs: list[tuple[str, str]] = []
        while True:
            name = reader.cstring()
            if not name:
                break
            pairs.append((name, reader.cstring()))
        return cls(tuple(pairs), version)


@dataclass(frozen=True, slots=True)
class SSLRequest(_StartupPacket):
    """Asks the server to switch to TLS; answered by one byte (``SSLResponse``)."""

    def _write(self, writer: Writer) -> None:
        writer.uint32(SSL_REQUEST_CODE)


@dataclass(frozen=True, slots=True)
class GSSENCRequest(_StartupPacket):
    """Asks the server to switch to GSSAPI encryption; answered by ``GSSENCResponse``."""

    def _write(self, writer: Writer) -> None:
        writer.uint32(GSSENC_REQUEST_CODE)


@dataclass(frozen=True, slots=True)
class CancelRequest(_StartupPacket):
    """Sent on a fresh connection to cancel the query running in another session."""

    process_id: int
    secret_key: int

    def _write(self, writer: Writer) -> None:
        writer.uint32(CANCEL_REQUEST_CODE)
        writer.uint32(self.process_id)
        writer.uint32(self.secret_key)


StartupPacket: TypeAlias = StartupMessage | SSLRequest | GSSENCRequest | CancelRequest


def decode_startup(payload: bytes | bytearray | memoryview) -> StartupPacket:
    """Decode an untyped first packet (the bytes after its Int32 length)."""
    reader = Reader(payload, "startup packet")
    code = reader.uint32()
    message: StartupPacket
    if code == SSL_REQUEST_CODE:
        message = SSLRequest()
    elif code == GSSENC_REQUEST_CODE:
        message = GSSENCRequest()
    elif code == CANCEL_REQUEST_CODE:
        message = CancelRequest(reader.uint32(), reader.uint32())
    else:
        message = StartupMessage._read_body(reader, code)
    reader.finish()
    return message


# --------------------------------------------------------------------------------------
# Frontend: typed messages
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PasswordMessage(_Typed):
    """A password (cleartext, or md5-hashed) in answer to an authentication request."""

    type_code: ClassVar[bytes] = b"p"
    password: bytes

    def _write(self, writer: Writer) -> None:
        writer.cstring(self.password)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(reader.cstring_bytes())


@dataclass(frozen=True, slots=True)
class SASLInitialResponse(_Typed):
    """The chosen SASL mechanism and the client-first message."""

    type_code: ClassVar[bytes] = b"p"
    mechanism: str
    data: bytes | None

    def _write(self, writer: Writer) -> None:
        writer.cstring(self.mechanism)
        writer.value(self.data)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(reader.cstring(), reader.value())


@dataclass(frozen=True, slots=True)
class SASLResponse(_Typed):
    """A later SASL message from the client (SCRAM's client-final)."""

    type_code: ClassVar[bytes] = b"p"
    data: bytes

    def _write(self, writer: Writer) -> None:
        writer.raw(self.data)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(reader.rest())


AuthResponse: TypeAlias = PasswordMessage | SASLInitialResponse | SASLResponse


@dataclass(frozen=True, slots=True)
class Query(_Typed):
    """A simple-protocol query string (may hold several statements)."""

    type_code: ClassVar[bytes] = b"Q"
    sql: str

    def _write(self, writer: Writer) -> None:
        writer.cstring(self.sql)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(reader.cstring())


@dataclass(frozen=True, slots=True)
class Parse(_Typed):
    """Prepare ``query`` as statement ``name`` ("" is the unnamed statement)."""

    type_code: ClassVar[bytes] = b"P"
    name: str
    query: str
    param_types: tuple[int, ...] = ()

    def _write(self, writer: Writer) -> None:
        writer.cstring(self.name)
        writer.cstring(self.query)
        writer.uint16(len(self.param_types))
        for oid in self.param_types:
            writer.uint32(oid)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        name, query, count = reader.cstring(), reader.cstring(), reader.uint16()
        return cls(name, query, tuple(reader.uint32() for _ in range(count)))


@dataclass(frozen=True, slots=True)
class Bind(_Typed):
    """Bind parameter values to a prepared statement, creating a portal."""

    type_code: ClassVar[bytes] = b"B"
    portal: str
    statement: str
    param_formats: tuple[int, ...] = ()
    params: tuple[bytes | None, ...] = ()
    result_formats: tuple[int, ...] = ()

    def _write(self, writer: Writer) -> None:
        writer.cstring(self.portal)
        writer.cstring(self.statement)
        writer.int16s(self.param_formats)
        writer.uint16(len(self.params))
        for value in self.params:
            writer.value(value)
        writer.int16s(self.result_formats)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        portal, statement = reader.cstring(), reader.cstring()
        param_formats = reader.int16s(reader.uint16())
        params = tuple(reader.value() for _ in range(reader.uint16()))
        return cls(portal, statement, param_formats, params, reader.int16s(reader.uint16()))


@dataclass(frozen=True, slots=True)
class _KindAndName(_Typed):
    kind: Literal["S", "P"]
    name: str

    def _write(self, writer: Writer) -> None:
        if self.kind not in ("S", "P"):
            raise LocalProtocolError(f"{type(self).__name__}: kind must be 'S' or 'P'")
        writer.byte(self.kind)
        writer.cstring(self.name)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        kind = reader.byte()
        if kind == "S":
            return cls("S", reader.cstring())
        if kind == "P":
            return cls("P", reader.cstring())
        raise reader.fail(f"kind must be 'S' or 'P', not {kind!r}")


@dataclass(frozen=True, slots=True)
class Describe(_KindAndName):
    """Describe a prepared statement ('S') or a portal ('P')."""

    type_code: ClassVar[bytes] = b"D"


@dataclass(frozen=True, slots=True)
class Close(_KindAndName):
    """Close a prepared statement ('S') or a portal ('P')."""

    type_code: ClassVar[bytes] = b"C"


@dataclass(frozen=True, slots=True)
class Execute(_Typed):
    """Run a portal; ``max_rows`` 0 means all rows."""

    type_code: ClassVar[bytes] = b"E"
    portal: str = ""
    max_rows: int = 0

    def _write(self, writer: Writer) -> None:
        writer.cstring(self.portal)
        writer.int32(self.max_rows)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(reader.cstring(), reader.int32())


@dataclass(frozen=True, slots=True)
class Sync(_Typed):
    """End of an extended-protocol batch: the server answers with ReadyForQuery."""

    type_code: ClassVar[bytes] = b"S"


@dataclass(frozen=True, slots=True)
class Flush(_Typed):
    """Ask the server to send what it has buffered, without ending the batch."""

    type_code: ClassVar[bytes] = b"H"


@dataclass(frozen=True, slots=True)
class Terminate(_Typed):
    """The client is closing the session."""

    type_code: ClassVar[bytes] = b"X"


@dataclass(frozen=True, slots=True)
class CopyData(_Typed):
    """A chunk of COPY data (either direction)."""

    type_code: ClassVar[bytes] = b"d"
    data: bytes

    def _write(self, writer: Writer) -> None:
        writer.raw(self.data)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(reader.rest())


@dataclass(frozen=True, slots=True)
class CopyDone(_Typed):
    """End of COPY data (either direction)."""

    type_code: ClassVar[bytes] = b"c"


@dataclass(frozen=True, slots=True)
class CopyFail(_Typed):
    """The client aborts COPY FROM STDIN with an error message."""

    type_code: ClassVar[bytes] = b"f"
    message: str

    def _write(self, writer: Writer) -> None:
        writer.cstring(self.message)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(reader.cstring())


@dataclass(frozen=True, slots=True)
class FunctionCall(_Typed):
    """The legacy fast-path function call."""

    type_code: ClassVar[bytes] = b"F"
    function_oid: int
    arg_formats: tuple[int, ...] = ()
    args: tuple[bytes | None, ...] = ()
    result_format: int = 0

    def _write(self, writer: Writer) -> None:
        writer.uint32(self.function_oid)
        writer.int16s(self.arg_formats)
        writer.uint16(len(self.args))
        for value in self.args:
            writer.value(value)
        writer.int16(self.result_format)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        oid = reader.uint32()
        arg_formats = reader.int16s(reader.uint16())
        args = tuple(reader.value() for _ in range(reader.uint16()))
        return cls(oid, arg_formats, args, reader.int16())


# --------------------------------------------------------------------------------------
# Backend: authentication requests ('R', told apart by an Int32 code)
# --------------------------------------------------------------------------------------


class AuthenticationRequest(_Typed):
    """Base of the 'R' messages; ``auth_code`` is the Int32 that follows the length."""

    __slots__ = ()
    type_code: ClassVar[bytes] = b"R"
    auth_code: ClassVar[int]

    def _write(self, writer: Writer) -> None:
        writer.int32(self.auth_code)
        self._write_body(writer)

    def _write_body(self, writer: Writer) -> None:
        """Write what follows the code; requests without a body keep this."""

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        """Read the code and the body; on the base class, the code picks the subclass."""
        code = reader.int32()
        actual = _AUTHENTICATION_REQUESTS.get(code)
        if actual is None:
            raise reader.fail(f"unknown authentication request code {code}")
        if not issubclass(actual, cls):
            raise reader.fail(f"code {code} is {actual.__name__}, not {cls.__name__}")
        return actual._read_body(reader)

    @classmethod
    def _read_body(cls, reader: Reader) -> Self:
        return cls()


@dataclass(frozen=True, slots=True)
class AuthenticationOk(AuthenticationRequest):
    auth_code: ClassVar[int] = 0


@dataclass(frozen=True, slots=True)
class AuthenticationKerberosV5(AuthenticationRequest):
    auth_code: ClassVar[int] = 2


@dataclass(frozen=True, slots=True)
class AuthenticationCleartextPassword(AuthenticationRequest):
    auth_code: ClassVar[int] = 3


@dataclass(frozen=True, slots=True)
class AuthenticationMD5Password(AuthenticationRequest):
    auth_code: ClassVar[int] = 5
    salt: bytes

    def _write_body(self, writer: Writer) -> None:
        if len(self.salt) != 4:
            raise LocalProtocolError("AuthenticationMD5Password: salt must be 4 bytes")
        writer.raw(self.salt)

    @classmethod
    def _read_body(cls, reader: Reader) -> Self:
        return cls(reader.take(4))


@dataclass(frozen=True, slots=True)
class AuthenticationGSS(AuthenticationRequest):
    auth_code: ClassVar[int] = 7


@dataclass(frozen=True, slots=True)
class AuthenticationGSSContinue(AuthenticationRequest):
    auth_code: ClassVar[int] = 8
    data: bytes

    def _write_body(self, writer: Writer) -> None:
        writer.raw(self.data)

    @classmethod
    def _read_body(cls, reader: Reader) -> Self:
        return cls(reader.rest())


@dataclass(frozen=True, slots=True)
class AuthenticationSSPI(AuthenticationRequest):
    auth_code: ClassVar[int] = 9


@dataclass(frozen=True, slots=True)
class AuthenticationSASL(AuthenticationRequest):
    """The server offers these SASL mechanisms (e.g. SCRAM-SHA-256, SCRAM-SHA-256-PLUS)."""

    auth_code: ClassVar[int] = 10
    mechanisms: tuple[str, ...]

    def _write_body(self, writer: Writer) -> None:
        for mechanism in self.mechanisms:
            if not mechanism:
                raise LocalProtocolError("AuthenticationSASL: empty mechanism name")
            writer.cstring(mechanism)
        writer.raw(b"\0")

    @classmethod
    def _read_body(cls, reader: Reader) -> Self:
        mechanisms: list[str] = []
        while mechanism := reader.cstring():
            mechanisms.append(mechanism)
        return cls(tuple(mechanisms))


@dataclass(frozen=True, slots=True)
class AuthenticationSASLContinue(AuthenticationRequest):
    """SCRAM's server-first message."""

    auth_code: ClassVar[int] = 11
    data: bytes

    def _write_body(self, writer: Writer) -> None:
        writer.raw(self.data)

    @classmethod
    def _read_body(cls, reader: Reader) -> Self:
        return cls(reader.rest())


@dataclass(frozen=True, slots=True)
class AuthenticationSASLFinal(AuthenticationRequest):
    """SCRAM's server-final message (carries the server signature)."""

    auth_code: ClassVar[int] = 12
    data: bytes

    def _write_body(self, writer: Writer) -> None:
        writer.raw(self.data)

    @classmethod
    def _read_body(cls, reader: Reader) -> Self:
        return cls(reader.rest())


_AUTHENTICATION_REQUESTS: Final[dict[int, type[AuthenticationRequest]]] = {
    cls.auth_code: cls
    for cls in (
        AuthenticationOk,
        AuthenticationKerberosV5,
        AuthenticationCleartextPassword,
        AuthenticationMD5Password,
        AuthenticationGSS,
        AuthenticationGSSContinue,
        AuthenticationSSPI,
        AuthenticationSASL,
        AuthenticationSASLContinue,
        AuthenticationSASLFinal,
    )
}


# --------------------------------------------------------------------------------------
# Backend: everything else
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParameterStatus(_Typed):
    """The current value of a reported run-time parameter."""

    type_code: ClassVar[bytes] = b"S"
    name: str
    value: str

    def _write(self, writer: Writer) -> None:
        writer.cstring(self.name)
        writer.cstring(self.value)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(reader.cstring(), reader.cstring())


@dataclass(frozen=True, slots=True)
class BackendKeyData(_Typed):
    """The key a client must quote in a CancelRequest for this session."""

    type_code: ClassVar[bytes] = b"K"
    process_id: int
    secret_key: int

    def _write(self, writer: Writer) -> None:
        writer.uint32(self.process_id)
        writer.uint32(self.secret_key)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(reader.uint32(), reader.uint32())


TransactionStatus: TypeAlias = Literal["I", "T", "E"]


@dataclass(frozen=True, slots=True)
class ReadyForQuery(_Typed):
    """The server is idle: 'I' no transaction, 'T' in a transaction, 'E' in a failed one."""

    type_code: ClassVar[bytes] = b"Z"
    status: TransactionStatus = "I"

    def _write(self, writer: Writer) -> None:
        if self.status not in ("I", "T", "E"):
            raise LocalProtocolError(f"ReadyForQuery: bad status {self.status!r}")
        writer.byte(self.status)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        status = reader.byte()
        if status == "I":
            return cls("I")
        if status == "T":
            return cls("T")
        if status == "E":
            return cls("E")
        raise reader.fail(f"transaction status {status!r} is not I, T or E")


@dataclass(frozen=True, slots=True)
class FieldDescription:
    """One column of a RowDescription."""

    name: str
    table_oid: int = 0
    column_number: int = 0
    type_oid: int = 25  # text
    type_size: int = -1
    type_modifier: int = -1
    format: int = 0


@dataclass(frozen=True, slots=True)
class RowDescription(_Typed):
    type_code: ClassVar[bytes] = b"T"
    fields: tuple[FieldDescription, ...]

    def _write(self, writer: Writer) -> None:
        writer.uint16(len(self.fields))
        for field in self.fields:
            writer.cstring(field.name)
            writer.uint32(field.table_oid)
            writer.int16(field.column_number)
            writer.uint32(field.type_oid)
            writer.int16(field.type_size)
            writer.int32(field.type_modifier)
            writer.int16(field.format)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(
            tuple(
                FieldDescription(
                    reader.cstring(),
                    reader.uint32(),
                    reader.int16(),
                    reader.uint32(),
                    reader.int16(),
                    reader.int32(),
                    reader.int16(),
                )
                for _ in range(reader.uint16())
            )
        )


@dataclass(frozen=True, slots=True)
class DataRow(_Typed):
    type_code: ClassVar[bytes] = b"D"
    values: tuple[bytes | None, ...]

    def _write(self, writer: Writer) -> None:
        writer.uint16(len(self.values))
        for value in self.values:
            writer.value(value)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(tuple(reader.value() for _ in range(reader.uint16())))


_ROW_COUNT_VERBS: Final = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "MOVE", "FETCH", "COPY"}
)


def command_tag_rows(tag: str) -> int | None:
    """Rows a command tag reports ("SELECT 5" -> 5, "INSERT 0 3" -> 3), or None."""
    verb, _, rest = tag.partition(" ")
    if verb not in _ROW_COUNT_VERBS:
        return None
    count = rest.rpartition(" ")[2]
    if not (count.isascii() and count.isdigit()):
        return None
    return int(count)


@dataclass(frozen=True, slots=True)
class CommandComplete(_Typed):
    type_code: ClassVar[bytes] = b"C"
    tag: str

    @property
    def rows(self) -> int | None:
        return command_tag_rows(self.tag)

    def _write(self, writer: Writer) -> None:
        writer.cstring(self.tag)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(reader.cstring())


@dataclass(frozen=True, slots=True)
class EmptyQueryResponse(_Typed):
    type_code: ClassVar[bytes] = b"I"


@dataclass(frozen=True, slots=True)
class _FieldsResponse(_Typed):
    """ErrorResponse and NoticeResponse: (one-letter code, text) pairs, in wire order."""

    fields: tuple[tuple[str, str], ...]
    _default_severity: ClassVar[str]

    @classmethod
    def make(
        cls,
        *,
        code: str,
        message: str,
        severity: str | None = None,
        detail: str | None = None,
        hint: str | None = None,
    ) -> Self:
        """Fill S and V (severity), C (SQLSTATE), M, and D / H when given."""
        level = severity or cls._default_severity
        fields = [("S", level), ("V", level), ("C", code), ("M", message)]
        if detail is not None:
            fields.append(("D", detail))
        if hint is not None:
            fields.append(("H", hint))
        return cls(tuple(fields))

    def field(self, code: str) -> str | None:
        """The value of one field (the last one if repeated), or None."""
        found = None
        for key, value in self.fields:
            if key == code:
                found = value
        return found

    @property
    def severity(self) -> str | None:
        """The non-localized severity (V) when sent, else the possibly localized S."""
        return self.field("V") or self.field("S")

    @property
    def code(self) -> str | None:
        return self.field("C")

    @property
    def message(self) -> str | None:
        return self.field("M")

    @property
    def detail(self) -> str | None:
        return self.field("D")

    @property
    def hint(self) -> str | None:
        return self.field("H")

    def _write(self, writer: Writer) -> None:
        for key, value in self.fields:
            writer.byte(key)
            writer.cstring(value)
        writer.raw(b"\0")

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        fields: list[tuple[str, str]] = []
        while (key := reader.byte()) != "\0":
            fields.append((key, reader.cstring()))
        return cls(tuple(fields))


@dataclass(frozen=True, slots=True)
class ErrorResponse(_FieldsResponse):
    type_code: ClassVar[bytes] = b"E"
    _default_severity: ClassVar[str] = "ERROR"

    @property
    def is_fatal(self) -> bool:
        """FATAL and PANIC end the session: the server closes the connection after them."""
        return self.severity in ("FATAL", "PANIC")


@dataclass(frozen=True, slots=True)
class NoticeResponse(_FieldsResponse):
    type_code: ClassVar[bytes] = b"N"
    _default_severity: ClassVar[str] = "NOTICE"


@dataclass(frozen=True, slots=True)
class NotificationResponse(_Typed):
    """A NOTIFY delivered to a session that LISTENs on ``channel``."""

    type_code: ClassVar[bytes] = b"A"
    process_id: int
    channel: str
    payload: str

    def _write(self, writer: Writer) -> None:
        writer.uint32(self.process_id)
        writer.cstring(self.channel)
        writer.cstring(self.payload)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(reader.uint32(), reader.cstring(), reader.cstring())


@dataclass(frozen=True, slots=True)
class ParseComplete(_Typed):
    type_code: ClassVar[bytes] = b"1"


@dataclass(frozen=True, slots=True)
class BindComplete(_Typed):
    type_code: ClassVar[bytes] = b"2"


@dataclass(frozen=True, slots=True)
class CloseComplete(_Typed):
    type_code: ClassVar[bytes] = b"3"


@dataclass(frozen=True, slots=True)
class NoData(_Typed):
    type_code: ClassVar[bytes] = b"n"


@dataclass(frozen=True, slots=True)
class PortalSuspended(_Typed):
    type_code: ClassVar[bytes] = b"s"


@dataclass(frozen=True, slots=True)
class ParameterDescription(_Typed):
    type_code: ClassVar[bytes] = b"t"
    type_oids: tuple[int, ...]

    def _write(self, writer: Writer) -> None:
        writer.uint16(len(self.type_oids))
        for oid in self.type_oids:
            writer.uint32(oid)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(tuple(reader.uint32() for _ in range(reader.uint16())))


@dataclass(frozen=True, slots=True)
class _CopyResponse(_Typed):
    """Start of COPY: overall format (0 text, 1 binary) and one format per column."""

    format: int
    column_formats: tuple[int, ...] = ()

    def _write(self, writer: Writer) -> None:
        writer.uint8(self.format)
        writer.int16s(self.column_formats)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        copy_format = reader.uint8()
        return cls(copy_format, reader.int16s(reader.uint16()))


@dataclass(frozen=True, slots=True)
class CopyInResponse(_CopyResponse):
    type_code: ClassVar[bytes] = b"G"


@dataclass(frozen=True, slots=True)
class CopyOutResponse(_CopyResponse):
    type_code: ClassVar[bytes] = b"H"


@dataclass(frozen=True, slots=True)
class CopyBothResponse(_CopyResponse):
    type_code: ClassVar[bytes] = b"W"


@dataclass(frozen=True, slots=True)
class NegotiateProtocolVersion(_Typed):
    """The newest minor version the server speaks, and the options it did not recognise."""

    type_code: ClassVar[bytes] = b"v"
    newest_minor: int
    unrecognized: tuple[str, ...] = ()

    def _write(self, writer: Writer) -> None:
        writer.int32(self.newest_minor)
        writer.int32(len(self.unrecognized))
        for option in self.unrecognized:
            writer.cstring(option)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        newest_minor, count = reader.int32(), reader.int32()
        if count < 0:
            raise reader.fail(f"negative option count {count}")
        options: list[str] = []
        for _ in range(count):  # each option needs at least one byte: a count can't overrun
            options.append(reader.cstring())
        return cls(newest_minor, tuple(options))


@dataclass(frozen=True, slots=True)
class FunctionCallResponse(_Typed):
    type_code: ClassVar[bytes] = b"V"
    value: bytes | None

    def _write(self, writer: Writer) -> None:
        writer.value(self.value)

    @classmethod
    def _read(cls, reader: Reader) -> Self:
        return cls(reader.value())


@dataclass(frozen=True, slots=True)
class SSLResponse(Message):
    """The server's one-byte answer to SSLRequest: b"S" (start TLS) or b"N"."""

    accepted: bool

    def encode(self) -> bytes:
        return b"S" if self.accepted else b"N"


@dataclass(frozen=True, slots=True)
class GSSENCResponse(Message):
    """The server's one-byte answer to GSSENCRequest: b"G" (start GSSAPI) or b"N"."""

    accepted: bool

    def encode(self) -> bytes:
        return b"G" if self.accepted else b"N"


# --------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------

FrontendMessage: TypeAlias = (
    StartupMessage
    | SSLRequest
    | GSSENCRequest
    | CancelRequest
    | PasswordMessage
    | SASLInitialResponse
    | SASLResponse
    | Query
    | Parse
    | Bind
    | Describe
    | Execute
    | Close
    | Sync
    | Flush
    | CopyData
    | CopyDone
    | CopyFail
    | FunctionCall
    | Terminate
)

BackendMessage: TypeAlias = (
    AuthenticationRequest
    | ParameterStatus
    | BackendKeyData
    | ReadyForQuery
    | RowDescription
    | DataRow
    | CommandComplete
    | EmptyQueryResponse
    | ErrorResponse
    | NoticeResponse
    | NotificationResponse
    | ParseComplete
    | BindComplete
    | CloseComplete
    | NoData
    | PortalSuspended
    | ParameterDescription
    | CopyInResponse
    | CopyOutResponse
    | CopyBothResponse
    | CopyData
    | CopyDone
    | NegotiateProtocolVersion
    | FunctionCallResponse
    | SSLResponse
    | GSSENCResponse
)


def _table(*classes: type[_Typed]) -> dict[int, type[_Typed]]:
    return {cls.type_code[0]: cls for cls in classes}


_FRONTEND: Final = _table(
    Query, Parse, Bind, Describe, Execute, Close, Sync, Flush, Terminate, CopyData, CopyDone,
    CopyFail, FunctionCall,
)  # fmt: skip
_BACKEND: Final = _table(
    AuthenticationRequest, ParameterStatus, BackendKeyData, ReadyForQuery, RowDescription,
    DataRow, CommandComplete, EmptyQueryResponse, ErrorResponse, NoticeResponse,
    NotificationResponse, ParseComplete, BindComplete, CloseComplete, NoData, PortalSuspended,
    ParameterDescription, CopyInResponse, CopyOutResponse, CopyBothResponse, CopyData, CopyDone,
    NegotiateProtocolVersion, FunctionCallResponse,
)  # fmt: skip
FRONTEND_TYPES: Final = frozenset(_FRONTEND) | {ord("p")}
"""Type bytes a client may send (p: whatever answers the authentication request)."""
BACKEND_TYPES: Final = frozenset(_BACKEND)
"""Type bytes a server may send."""


def _decode(
    table: dict[int, type[_Typed]],
    side: str,
    type_byte: int,
    payload: bytes | bytearray | memoryview,
) -> _Typed:
    cls = table.get(type_byte)
    if cls is None:
        raise RemoteProtocolError(f"unknown {side} message type {bytes((type_byte,))!r}")
    return cls.decode(payload)


def _type_byte(type_code: int | bytes) -> int:
    if isinstance(type_code, int):
        return type_code
    if len(type_code) != 1:
        raise LocalProtocolError(f"a type code is one byte, not {type_code!r}")
    return type_code[0]


def decode_frontend(
    type_code: int | bytes,
    payload: bytes | bytearray | memoryview,
    *,
    auth_response: type[AuthResponse] = PasswordMessage,
) -> FrontendMessage:
    """Decode a typed message sent by a client.

    'p' means whatever answers the authentication request in progress, so the caller says
    which class to decode it as (the Connection does this from the request it saw).
    """
    type_byte = _type_byte(type_code)
    if type_byte == ord("p"):
        return auth_response.decode(payload)
    return cast(FrontendMessage, _decode(_FRONTEND, "frontend", type_byte, payload))


def decode_backend(
    type_code: int | bytes, payload: bytes | bytearray | memoryview
) -> BackendMessage:
    """Decode a typed message sent by a server."""
    return cast(BackendMessage, _decode(_BACKEND, "backend", _type_byte(type_code), payload))
