"""protocols.postgres.messages: every message round-trips; malformed input raises
RemoteProtocolError only; invalid values to encode() raise LocalProtocolError."""

from __future__ import annotations

import inspect

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocols.errors import LocalProtocolError, RemoteProtocolError
from protocols.postgres import messages as m
from protocols.postgres.messages import (
    AuthenticationMD5Password,
    Bind,
    CancelRequest,
    CommandComplete,
    DataRow,
    Describe,
    ErrorResponse,
    Execute,
    FieldDescription,
    Message,
    NoticeResponse,
    Parse,
    PasswordMessage,
    Query,
    ReadyForQuery,
    RowDescription,
    SASLInitialResponse,
    SASLResponse,
    SSLRequest,
    SSLResponse,
    StartupMessage,
    command_tag_rows,
    decode_backend,
    decode_frontend,
    decode_startup,
)

FRONTEND_SAMPLES: list[Message] = [
    m.StartupMessage.make({"user": "alice", "database": "app", "application_name": "psql"}),
    m.StartupMessage((), m.PROTOCOL_VERSION_3_0),
    m.StartupMessage((("user", "u"), ("_pq_.compression", "on")), (3 << 16) | 2),
    m.SSLRequest(),
    m.GSSENCRequest(),
    m.CancelRequest(process_id=4242, secret_key=0xDEADBEEF),
    m.PasswordMessage(b"md5f201ede92812488eb17abfa4198030a5"),
    m.SASLInitialResponse("SCRAM-SHA-256", b"n,,n=,r=abc"),
    m.SASLInitialResponse("SCRAM-SHA-256", None),
    m.SASLResponse(b"c=biws,r=abc,p=xyz"),
    m.SASLResponse(b""),
    m.Query("select 1"),
    m.Query(""),
    m.Parse("s1", "select $1::int, $2", (23, 0)),
    m.Parse("", "select 1"),
    m.Bind("p1", "s1", (0, 1), (b"42", None, b"\x00\x01"), (1,)),
    m.Bind("", ""),
    m.Describe("S", "s1"),
    m.Describe("P", ""),
    m.Execute("p1", 100),
    m.Execute(),
    m.Close("S", "s1"),
    m.Close("P", "p1"),
    m.Sync(),
    m.Flush(),
    m.CopyData(b"1\tone\n"),
    m.CopyDone(),
    m.CopyFail("aborted by user"),
    m.FunctionCall(1598, (0,), (b"x", None), 1),
    m.FunctionCall(1598),
    m.Terminate(),
]

BACKEND_SAMPLES: list[Message] = [
    m.AuthenticationOk(),
    m.AuthenticationKerberosV5(),
    m.AuthenticationCleartextPassword(),
    m.AuthenticationMD5Password(b"\x01\x02\x03\x04"),
    m.AuthenticationGSS(),
    m.AuthenticationGSSContinue(b"token"),
    m.AuthenticationSSPI(),
    m.AuthenticationSASL(("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")),
    m.AuthenticationSASL(()),
    m.AuthenticationSASLContinue(b"r=abc,s=c2FsdA==,i=4096"),
    m.AuthenticationSASLFinal(b"v=c2lnbmF0dXJl"),
    m.ParameterStatus("TimeZone", "Etc/UTC"),
    m.ParameterStatus("application_name", ""),
    m.BackendKeyData(8751, 0xF0B445D3),
    m.ReadyForQuery("I"),
    m.ReadyForQuery("T"),
    m.ReadyForQuery("E"),
    m.RowDescription(
        (
            m.FieldDescription("aid", 16394, 1, 23, 4, -1, 0),
            m.FieldDescription("abalance", 16394, 3, 23, 4, -1, 1),
            m.FieldDescription("?column?"),
        )
    ),
    m.RowDescription(()),
    m.DataRow((b"1", None, b"", b"\xff\x00")),
    m.DataRow(()),
    m.CommandComplete("INSERT 0 3"),
    m.EmptyQueryResponse(),
    m.ErrorResponse.make(code="42501", message="permission denied", detail="d", hint="h"),
    m.ErrorResponse((("S", "ERROR"), ("C", "22012"), ("M", "division by zero"), ("L", "869"))),
    m.NoticeResponse.make(code="00000", message="held: run iap approve K7Q2XD"),
    m.NotificationResponse(8751, "ch", "hi"),
    m.ParseComplete(),
    m.BindComplete(),
    m.CloseComplete(),
    m.NoData(),
    m.PortalSuspended(),
    m.ParameterDescription((23, 25)),
    m.ParameterDescription(()),
    m.CopyInResponse(0, (0, 0)),
    m.CopyOutResponse(1, (1,)),
    m.CopyBothResponse(0),
    m.CopyData(b"2\ttwo\n"),
    m.CopyDone(),
    m.NegotiateProtocolVersion(0, ("_pq_.compression",)),
    m.NegotiateProtocolVersion(0),
    m.FunctionCallResponse(b"\x00\x00\x00\x01"),
    m.FunctionCallResponse(None),
]

UNTYPED = (m.StartupMessage, m.SSLRequest, m.GSSENCRequest, m.CancelRequest)


def decode_wire(wire: bytes, *, frontend: bool, like: Message) -> Message:
    """Decode a full frame the way a Connection would."""
    if isinstance(like, UNTYPED):
        assert int.from_bytes(wire[:4], "big") == len(wire)
        return decode_startup(wire[4:])
    assert int.from_bytes(wire[1:5], "big") == len(wire) - 1
    if frontend:
        answer = type(like) if isinstance(like, m.AuthResponse) else PasswordMessage
        return decode_frontend(wire[0], wire[5:], auth_response=answer)
    return decode_backend(wire[:1], memoryview(wire)[5:])


@pytest.mark.parametrize("message", FRONTEND_SAMPLES, ids=repr)
def test_frontend_round_trip(message: Message) -> None:
    wire = message.encode()
    decoded = decode_wire(wire, frontend=True, like=message)
    assert decoded == message
    assert decoded.encode() == wire


@pytest.mark.parametrize("message", BACKEND_SAMPLES, ids=repr)
def test_backend_round_trip(message: Message) -> None:
    wire = message.encode()
    decoded = decode_wire(wire, frontend=False, like=message)
    assert decoded == message
    assert type(decoded) is type(message)
    assert decoded.encode() == wire


def test_every_message_class_has_a_sample() -> None:
    concrete = {
        cls
        for name, cls in inspect.getmembers(m, inspect.isclass)
        if issubclass(cls, Message)
        and not name.startswith("_")
        and cls not in (Message, m.AuthenticationRequest)
    }
    sampled = {type(x) for x in FRONTEND_SAMPLES + BACKEND_SAMPLES}
    assert concrete - sampled == {m.SSLResponse, m.GSSENCResponse}  # one byte, tested below


def test_one_byte_answers() -> None:
    assert SSLResponse(True).encode() == b"S"
    assert SSLResponse(False).encode() == b"N"
    assert m.GSSENCResponse(True).encode() == b"G"
    assert m.GSSENCResponse(False).encode() == b"N"


def test_known_wire_bytes() -> None:
    assert SSLRequest().encode() == b"\x00\x00\x00\x08\x04\xd2\x16/"
    assert CancelRequest(8751, 0x21EDF0B4).encode() == (
        b"\x00\x00\x00\x10\x04\xd2\x16.\x00\x00\x22\x2f\x21\xed\xf0\xb4"
    )
    assert Query("select 1").encode() == b"Q\x00\x00\x00\rselect 1\x00"
    assert m.Sync().encode() == b"S\x00\x00\x00\x04"
    assert ReadyForQuery("T").encode() == b"Z\x00\x00\x00\x05T"
    assert m.AuthenticationOk().encode() == b"R\x00\x00\x00\x08\x00\x00\x00\x00"
    assert m.CopyInResponse(0, (0, 0)).encode() == b"G\x00\x00\x00\x0b\x00\x00\x02\x00\x00\x00\x00"


def test_invalid_utf8_round_trips_exactly() -> None:
    wire = b"Q\x00\x00\x00\x0bsel\xff\xfe\xc3\x00"
    query = decode_frontend(b"Q", wire[5:])
    assert isinstance(query, Query)
    assert query.sql == "sel\udcff\udcfe\udcc3"
    assert query.encode() == wire


def test_startup_message_helpers() -> None:
    startup = StartupMessage.make(
        [("user", "alice"), ("database", "app"), ("_pq_.x", "1"), ("user", "bob")],
        protocol_version=(3 << 16) | 2,
    )
    assert startup.params == {"user": "bob", "database": "app", "_pq_.x": "1"}
    assert startup.user == "bob"
    assert startup.database == "app"
    assert (startup.major_version, startup.minor_version) == (3, 2)
    assert startup.protocol_options == ("_pq_.x",)
    assert StartupMessage().database is None


def test_error_response_helpers() -> None:
    error = ErrorResponse.make(code="42501", message="denied", detail="why", hint="ask")
    assert error.fields == (
        ("S", "ERROR"),
        ("V", "ERROR"),
        ("C", "42501"),
        ("M", "denied"),
        ("D", "why"),
        ("H", "ask"),
    )
    assert (error.severity, error.code, error.message, error.detail, error.hint) == (
        "ERROR",
        "42501",
        "denied",
        "why",
        "ask",
    )
    assert not error.is_fatal
    assert error.field("P") is None
    localized = ErrorResponse((("S", "SCHWERWIEGEND"), ("V", "FATAL"), ("C", "28P01")))
    assert localized.severity == "FATAL"
    assert localized.is_fatal
    assert ErrorResponse((("S", "PANIC"),)).is_fatal
    assert NoticeResponse.make(code="00000", message="hi").severity == "NOTICE"
    assert ErrorResponse.make(code="57014", message="x", severity="FATAL").is_fatal
    error_like: object = ErrorResponse.make(code="1", message="x")
    assert error_like != NoticeResponse.make(code="1", message="x")  # same fields, other type


@pytest.mark.parametrize(
    ("tag", "rows"),
    [
        ("SELECT 5", 5),
        ("INSERT 0 3", 3),
        ("DELETE 2", 2),
        ("UPDATE 0", 0),
        ("MERGE 7", 7),
        ("COPY 2", 2),
        ("FETCH 10", 10),
        ("MOVE 1", 1),
        ("CREATE TABLE", None),
        ("SELECT", None),
        ("BEGIN", None),
        ("SELECT ²", None),
        ("", None),
    ],
)
def test_command_tag_rows(tag: str, rows: int | None) -> None:
    assert command_tag_rows(tag) == rows
    assert CommandComplete(tag).rows == rows


@pytest.mark.parametrize(
    "message",
    [
        Query("a\0b"),
        Parse("s\0", "select 1"),
        StartupMessage((("", "x"),)),
        StartupMessage((("user", "a\0"),)),
        Describe("X", "s"),  # type: ignore[arg-type]
        ReadyForQuery("X"),  # type: ignore[arg-type]
        AuthenticationMD5Password(b"123"),
        Execute("", 2**40),
        Bind("", "", params=(None,) * 70000),
        Parse("", "", (2**32,)),
        ErrorResponse((("SS", "x"),)),
        ErrorResponse((("", "x"),)),
        ErrorResponse((("\0", "x"),)),
        m.AuthenticationSASL(("",)),
        m.CopyOutResponse(256),
        Query("\ud800"),
        PasswordMessage(b"a\0b"),
    ],
    ids=repr,
)
def test_encode_rejects_invalid_values(message: Message) -> None:
    with pytest.raises(LocalProtocolError):
        message.encode()


def test_type_code_must_be_one_byte() -> None:
    with pytest.raises(LocalProtocolError):
        decode_backend(b"ZZ", b"I")


MALFORMED_FRONTEND = [
    (b"Q", b"select 1"),  # missing NUL
    (b"Q", b"select 1\0extra"),  # trailing bytes
    (b"P", b"s\0select 1\0\x00\x02\x00\x00\x00\x17"),  # count overruns
    (b"B", b"\0\0\x00\x00\x00\x01\x00\x00\x00\x10ab\x00\x00"),  # value length overruns
    (b"B", b"\0\0\x00\x00\x00\x01\xff\xff\xff\xfe\x00\x00"),  # negative value length
    (b"D", b"Xname\0"),  # bad kind
    (b"D", b""),
    (b"E", b"\0\x00\x00"),  # truncated Int32
    (b"S", b"x"),  # Sync has no payload
    (b"F", b"\x00\x00\x06>\x00\x01"),
    (b"?", b""),  # unknown type
    (b"p", b"password-without-nul"),
]

MALFORMED_BACKEND = [
    (b"R", b"\x00\x00\x00\x63"),  # unknown authentication code
    (b"R", b"\x00\x00\x00\x05\x01\x02"),  # md5 salt too short
    (b"R", b"\x00\x00\x00"),
    (b"R", b"\x00\x00\x00\x0aSCRAM-SHA-256\0"),  # mechanism list without terminator
    (b"Z", b"X"),
    (b"Z", b"II"),
    (b"Z", b""),
    (b"T", b"\x00\x01name\0\x00\x00"),
    (b"D", b"\x00\x02\x00\x00\x00\x01a"),
    (b"D", b"\x00\x01\x80\x00\x00\x00"),
    (b"E", b"SERROR\0"),  # no terminating zero field
    (b"E", b"SERROR"),
    (b"S", b"name\0"),
    (b"K", b"\x00\x00\x00\x01"),
    (b"v", b"\x00\x00\x00\x00\xff\xff\xff\xff"),  # negative count
    (b"v", b"\x00\x00\x00\x00\x7f\xff\xff\xff"),  # count overruns
    (b"G", b"\x00\x00\x05\x00\x00"),
    (b"V", b"\x00\x00\x00\x09ab"),
    (b"1", b"x"),
    (b"Q", b"select 1\0"),  # a frontend type
]


@pytest.mark.parametrize(("type_code", "payload"), MALFORMED_FRONTEND)
def test_malformed_frontend(type_code: bytes, payload: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_frontend(type_code, payload)


@pytest.mark.parametrize(("type_code", "payload"), MALFORMED_BACKEND)
def test_malformed_backend(type_code: bytes, payload: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_backend(type_code, payload)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\x00\x03",
        b"\x04\xd2\x16/\x00",  # SSLRequest with trailing bytes
        b"\x04\xd2\x16.\x00\x00\x00\x01",  # CancelRequest too short
        b"\x00\x03\x00\x00user\0alice",  # unterminated value
        b"\x00\x03\x00\x00user\0alice\0",  # no final terminator
        b"\x00\x03\x00\x00user\0alice\0\0extra",
    ],
)
def test_malformed_startup(payload: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_startup(payload)


@pytest.mark.parametrize(
    ("answer", "payload"),
    [
        (SASLInitialResponse, b"SCRAM-SHA-256\0\xff\xff\xff\xff"),
        (SASLResponse, b"SCRAM-SHA-256\0\xff\xff\xff\xff"),
        (PasswordMessage, b"SCRAM-SHA-256\0"),
    ],
)
def test_p_message_is_decoded_as_asked(answer: type[m.AuthResponse], payload: bytes) -> None:
    decoded = decode_frontend(b"p", payload, auth_response=answer)
    assert type(decoded) is answer


# --- property tests --------------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\0"), max_size=40)
VALUES = st.lists(st.none() | st.binary(max_size=20), max_size=8).map(tuple)
INT16S = st.lists(st.integers(-(2**15), 2**15 - 1), max_size=5).map(tuple)


@given(
    st.one_of(
        st.builds(Query, TEXT),
        st.builds(Parse, TEXT, TEXT, st.lists(st.integers(0, 2**32 - 1), max_size=5).map(tuple)),
        st.builds(Bind, TEXT, TEXT, INT16S, VALUES, INT16S),
        st.builds(Execute, TEXT, st.integers(-(2**31), 2**31 - 1)),
        st.builds(m.CopyData, st.binary(max_size=64)),
        st.builds(m.FunctionCall, st.integers(0, 2**32 - 1), INT16S, VALUES, st.integers(-5, 5)),
        st.builds(m.CopyFail, TEXT),
    )
)
def test_frontend_round_trip_property(message: Message) -> None:
    assert decode_wire(message.encode(), frontend=True, like=message) == message


@given(
    st.one_of(
        st.builds(DataRow, VALUES),
        st.builds(CommandComplete, TEXT),
        st.builds(m.ParameterStatus, TEXT, TEXT),
        st.builds(m.NotificationResponse, st.integers(0, 2**32 - 1), TEXT, TEXT),
        st.builds(
            ErrorResponse,
            st.lists(st.tuples(st.sampled_from("SVCMDHPWF"), TEXT), max_size=6).map(tuple),
        ),
        st.builds(
            RowDescription,
            st.lists(
                st.builds(
                    FieldDescription,
                    TEXT,
                    st.integers(0, 2**32 - 1),
                    st.integers(-(2**15), 2**15 - 1),
                    st.integers(0, 2**32 - 1),
                    st.integers(-(2**15), 2**15 - 1),
                    st.integers(-(2**31), 2**31 - 1),
                    st.integers(-(2**15), 2**15 - 1),
                ),
                max_size=4,
            ).map(tuple),
        ),
    )
)
def test_backend_round_trip_property(message: Message) -> None:
    assert decode_wire(message.encode(), frontend=False, like=message) == message


@given(st.binary(min_size=1, max_size=1), st.binary(max_size=64))
def test_decoders_only_raise_remote_errors(type_code: bytes, payload: bytes) -> None:
    for decode in (decode_frontend, decode_backend):
        try:
            decoded = decode(type_code, payload)
        except RemoteProtocolError:
            continue
        assert decoded.encode()[5:] == payload  # whatever decodes re-encodes exactly


@given(st.binary(max_size=64))
def test_startup_decoder_only_raises_remote_errors(payload: bytes) -> None:
    try:
        decoded = decode_startup(payload)
    except RemoteProtocolError:
        return
    assert decoded.encode()[4:] == payload
