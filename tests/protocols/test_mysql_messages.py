"""protocols.mysql.messages: the handshake, the client's response, OK/ERR/EOF, PREPARE_OK.

Decoded from MariaDB 10.11 and pymysql captures (mysql_captures.py), and encoded back: the
gateway writes these messages to real clients and servers, so encode must give what decode
reads, and the captured bytes where the fields are the captured ones.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mysql_captures import (
    CAPS_DEPRECATE_EOF,
    DEPRECATE_EOF_SESSION,
    EOF_SESSION,
    HANDSHAKE_V10,
    LOGIN_DEPRECATE_EOF,
    PYMYSQL_HANDSHAKE_WITHOUT_DB,
    PYMYSQL_LOGIN_OK,
    PYMYSQL_LOGIN_WITH_DB,
    PYMYSQL_LOGIN_WITHOUT_DB,
)

from protocols.errors import RemoteProtocolError
from protocols.mysql.messages import (
    AuthSwitchRequest,
    Capability,
    ErrPacket,
    HandshakeResponse,
    HandshakeV10,
    OkPacket,
    PrepareOk,
    Status,
    eof_status,
    is_eof,
    terminator_status,
)
from protocols.mysql.packets import MAX_CHUNK, lenenc_str, scan_packets


def payloads(wire: bytes) -> list[bytes]:
    spans = scan_packets(wire)
    assert spans[-1][1] == len(wire)
    return [wire[s:e] for s, e in spans]


def payload(wire: bytes) -> bytes:
    (only,) = payloads(wire)
    return only


# -- HandshakeV10 ----------------------------------------------------------------------------


def test_mariadb_handshake_decodes() -> None:
    hs = HandshakeV10.decode(payload(HANDSHAKE_V10))
    assert hs.server_version == "5.5.5-10.11.19-MariaDB-0+deb12u1"
    assert hs.connection_id == 341
    assert hs.auth_data == b"<3)u4@'@J6lA<LG`.`{i"  # part 1 (8) + part 2 (12), no NUL
    assert len(hs.auth_data) == 20
    assert hs.charset == 45
    assert hs.status == Status.AUTOCOMMIT
    assert hs.auth_plugin == "mysql_native_password"
    caps = Capability(hs.capabilities)
    assert not caps & Capability.LONG_PASSWORD  # MariaDB clears CLIENT_MYSQL
    for needed in (
        Capability.PROTOCOL_41,
        Capability.SECURE_CONNECTION,
        Capability.PLUGIN_AUTH,
        Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA,
        Capability.CONNECT_ATTRS,
        Capability.MULTI_RESULTS,
        Capability.DEPRECATE_EOF,
    ):
        assert caps & needed, needed
    assert not caps & Capability.SSL  # this server has no TLS configured
    assert hs.capabilities == 0x81FFF7FE
    assert hs.mariadb_capabilities == 0x1D  # the reserved area's last 4 bytes


def test_second_captured_handshake_differs_only_in_id_and_scramble() -> None:
    first = HandshakeV10.decode(payload(HANDSHAKE_V10))
    second = HandshakeV10.decode(payload(PYMYSQL_HANDSHAKE_WITHOUT_DB))
    assert (second.connection_id, second.auth_data) == (342, b"K{NO&ib0h;-oiAI*6qV:")
    assert (second.server_version, second.capabilities, second.mariadb_capabilities) == (
        first.server_version,
        first.capabilities,
        first.mariadb_capabilities,
    )


@pytest.mark.parametrize("wire", [HANDSHAKE_V10, PYMYSQL_HANDSHAKE_WITHOUT_DB])
def test_handshake_encodes_back_to_the_captured_bytes(wire: bytes) -> None:
    assert HandshakeV10.decode(payload(wire)).encode() == payload(wire)


@pytest.mark.parametrize(
    "capabilities",
    [
        0x81FFF7FE,  # MariaDB's
        0x81FFF7FF,  # with CLIENT_MYSQL: MySQL's form, no MariaDB capabilities
        int(Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION),  # no plugin name
    ],
)
def test_handshake_round_trip(capabilities: int) -> None:
    mariadb = 0 if capabilities & Capability.LONG_PASSWORD else 0x1D
    plugin = (
        "caching_sha2_password"
        if capabilities & Capability.PLUGIN_AUTH
        else "mysql_native_password"
    )
    hs = HandshakeV10(
        "8.0.40", 0xDEADBEEF, bytes(range(1, 21)), capabilities, 255, 0x4002, plugin, mariadb
    )
    assert HandshakeV10.decode(hs.encode()) == hs


def test_handshake_round_trip_with_a_32_byte_scramble() -> None:
    hs = HandshakeV10("11.4", 1, bytes(range(1, 33)), 0x81FFF7FE, 45, 2, "client_ed25519", 0x1D)
    assert HandshakeV10.decode(hs.encode()) == hs


def test_handshake_round_trip_with_an_8_byte_scramble() -> None:
    hs = HandshakeV10("10.11", 1, b"12345678", 0x81FFF7FE, 45, 2, "mysql_native_password", 0x1D)
    assert HandshakeV10.decode(hs.encode()) == hs


def test_handshake_refused_with_err_raises_its_message() -> None:
    err = ErrPacket(1129, "HY000", "Host '10.0.0.9' is blocked").encode()
    with pytest.raises(RemoteProtocolError, match="is blocked"):
        HandshakeV10.decode(err)


@pytest.mark.parametrize("version", [9, 11])
def test_handshake_with_another_protocol_version_raises(version: int) -> None:
    with pytest.raises(RemoteProtocolError, match=f"version {version}"):
        HandshakeV10.decode(bytes((version,)) + payload(HANDSHAKE_V10)[1:])


def test_empty_handshake_raises() -> None:
    with pytest.raises(RemoteProtocolError, match="empty"):
        HandshakeV10.decode(b"")


def test_truncated_handshake_raises_until_the_fixed_part_is_whole() -> None:
    data = payload(HANDSHAKE_V10)
    fixed_end = 1 + len(b"5.5.5-10.11.19-MariaDB-0+deb12u1\0") + 4 + 9 + 2 + 1 + 2 + 2 + 1
    for cut in range(fixed_end):
        with pytest.raises(RemoteProtocolError):
            HandshakeV10.decode(data[:cut])


# -- HandshakeResponse -----------------------------------------------------------------------

PYMYSQL_ATTRIBUTES = {"_client_name": "pymysql", "_client_version": "1.2.4", "_pid": "8618"}


def test_pymysql_login_with_database_decodes() -> None:
    response = HandshakeResponse.decode(payload(PYMYSQL_LOGIN_WITH_DB))
    assert response == HandshakeResponse(
        capabilities=int(
            Capability.LONG_PASSWORD
            | Capability.LONG_FLAG
            | Capability.CONNECT_WITH_DB
            | Capability.PROTOCOL_41
            | Capability.TRANSACTIONS
            | Capability.SECURE_CONNECTION
            | Capability.MULTI_RESULTS
            | Capability.PLUGIN_AUTH
            | Capability.CONNECT_ATTRS
            | Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA
        ),
        max_packet=0xFFFFFF,
        charset=45,
        user="root",
        auth_response=b"",
        database="test",
        auth_plugin="mysql_native_password",
        attributes=PYMYSQL_ATTRIBUTES,
    )
    assert not response.ssl_request


def test_pymysql_login_without_database_decodes() -> None:
    response = HandshakeResponse.decode(payload(PYMYSQL_LOGIN_WITHOUT_DB))
    assert not response.capabilities & Capability.CONNECT_WITH_DB
    assert response.database is None
    assert (response.user, response.auth_plugin) == ("root", "mysql_native_password")
    assert response.attributes == PYMYSQL_ATTRIBUTES  # not misread as a database name


@pytest.mark.parametrize(
    "wire", [PYMYSQL_LOGIN_WITH_DB, PYMYSQL_LOGIN_WITHOUT_DB, LOGIN_DEPRECATE_EOF]
)
def test_captured_logins_encode_back_to_their_bytes(wire: bytes) -> None:
    assert HandshakeResponse.decode(payload(wire)).encode() == payload(wire)


def test_raw_client_login_has_its_capabilities() -> None:
    response = HandshakeResponse.decode(payload(LOGIN_DEPRECATE_EOF))
    assert response.capabilities == CAPS_DEPRECATE_EOF
    assert response.max_packet == 1 << 24


BASE = Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION | Capability.PLUGIN_AUTH
OPTIONAL = [
    Capability.CONNECT_WITH_DB,
    Capability.CONNECT_ATTRS,
    Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA,
]


@pytest.mark.parametrize(
    "flags",
    [
        BASE | sum(chosen, Capability(0))
        for n in range(len(OPTIONAL) + 1)
        for chosen in itertools.combinations(OPTIONAL, n)
    ],
    ids=str,
)
@pytest.mark.parametrize("auth_length", [0, 20, 32, 255])
def test_handshake_response_round_trip(flags: Capability, auth_length: int) -> None:
    response = HandshakeResponse(
        capabilities=int(flags | Capability.LONG_PASSWORD),
        max_packet=16 * 1024 * 1024,
        charset=224,
        user="alice@example.com",
        auth_response=bytes(range(auth_length)),
        database="shop" if flags & Capability.CONNECT_WITH_DB else None,
        auth_plugin="caching_sha2_password",
        attributes={"_client_name": "iap", "program_name": "näive"}
        if flags & Capability.CONNECT_ATTRS
        else {},
    )
    assert HandshakeResponse.decode(response.encode()) == response


def test_handshake_response_with_a_long_lenenc_auth_response() -> None:
    response = HandshakeResponse(
        int(BASE | Capability.LONG_PASSWORD | Capability.PLUGIN_AUTH_LENENC_CLIENT_DATA),
        0xFFFFFF,
        45,
        "bob",
        b"\xaa" * 300,
        None,
        "mysql_clear_password",
    )
    encoded = response.encode()
    assert b"bob\0\xfc\x2c\x01" in encoded
    assert HandshakeResponse.decode(encoded) == response


def test_mariadb_client_capabilities_round_trip() -> None:
    # a MariaDB client clears bit 0 and puts its extended capabilities in the filler's end
    response = HandshakeResponse(
        int(BASE), 0xFFFFFF, 45, "root", b"", None, "", mariadb_capabilities=0x1D
    )
    encoded = response.encode()
    assert encoded[28:32] == b"\x1d\x00\x00\x00"
    assert HandshakeResponse.decode(encoded) == response
    # with bit 0 set those bytes are filler and are not read
    mysql_style = HandshakeResponse.decode((int(BASE) | 1).to_bytes(4, "little") + encoded[4:])
    assert mysql_style.mariadb_capabilities == 0


def test_ssl_request_is_the_32_byte_fixed_part() -> None:
    request = HandshakeResponse(
        int(BASE | Capability.SSL | Capability.LONG_PASSWORD), 0xFFFFFF, 45, ssl_request=True
    )
    encoded = request.encode()
    assert len(encoded) == 32
    decoded = HandshakeResponse.decode(encoded)
    assert decoded.ssl_request
    assert decoded == request
    # and the SSL request pymysql would send: its login cut after the fixed part, SSL set
    pymysql = bytearray(payload(PYMYSQL_LOGIN_WITH_DB)[:32])
    pymysql[1] |= Capability.SSL >> 8
    assert HandshakeResponse.decode(bytes(pymysql)).ssl_request


def test_32_bytes_without_ssl_is_not_a_response() -> None:
    with pytest.raises(RemoteProtocolError, match="user name"):
        HandshakeResponse.decode(payload(PYMYSQL_LOGIN_WITH_DB)[:32])


def test_short_or_pre_41_responses_raise() -> None:
    with pytest.raises(RemoteProtocolError, match="shorter than 32"):
        HandshakeResponse.decode(payload(PYMYSQL_LOGIN_WITH_DB)[:31])
    old = bytearray(payload(PYMYSQL_LOGIN_WITH_DB))
    old[1] &= ~(Capability.PROTOCOL_41 >> 8) & 0xFF
    with pytest.raises(RemoteProtocolError, match=r"4\.1"):
        HandshakeResponse.decode(bytes(old))


def test_truncated_captured_login_raises_until_the_user_name_is_whole() -> None:
    data = payload(PYMYSQL_LOGIN_WITH_DB)
    user_end = data.index(b"root\0") + 5
    for cut in range(user_end):
        with pytest.raises(RemoteProtocolError):
            HandshakeResponse.decode(data[:cut])
    for cut in range(user_end, len(data)):  # later cuts: a shorter response or an error
        try:
            response = HandshakeResponse.decode(data[:cut])
        except RemoteProtocolError:
            continue
        assert response.user == "root"


def test_truncated_one_byte_length_auth_response_raises() -> None:
    flags = int(BASE | Capability.LONG_PASSWORD)  # no PLUGIN_AUTH_LENENC_CLIENT_DATA
    full = HandshakeResponse(flags, 0xFFFFFF, 45, "root", bytes(range(1, 21)), None, "x").encode()
    truncated = full[: full.index(b"root\0") + 5 + 1 + 10]  # 10 of the 20 declared bytes
    with pytest.raises(RemoteProtocolError):
        HandshakeResponse.decode(truncated)


def test_handshake_response_round_trip_without_secure_connection() -> None:
    response = HandshakeResponse(
        int(Capability.PROTOCOL_41 | Capability.LONG_PASSWORD | Capability.CONNECT_WITH_DB),
        0xFFFFFF,
        45,
        "root",
        b"scrambled",
        "test",
    )
    assert HandshakeResponse.decode(response.encode()) == response


# -- OK, ERR, EOF ----------------------------------------------------------------------------


def test_update_ok_decodes() -> None:
    ok = OkPacket.decode(payload(EOF_SESSION["update"].answer))
    message = b"Rows matched: 2  Changed: 2  Warnings: 0"
    # info is the rest of the packet as sent: MariaDB sends the message length-encoded
    assert ok == OkPacket(
        affected_rows=2,
        last_insert_id=0,
        status=Status.AUTOCOMMIT,
        warnings=0,
        info=lenenc_str(message),
    )


def test_ok_with_more_results_decodes() -> None:
    first = payloads(EOF_SESSION["multi_update_select"].answer)[0]
    ok = OkPacket.decode(first)
    assert ok.affected_rows == 1
    assert ok.status == Status.AUTOCOMMIT | Status.MORE_RESULTS_EXISTS


@pytest.mark.parametrize(
    "wire",
    [
        EOF_SESSION["update"].answer,
        EOF_SESSION["insert"].answer,
        EOF_SESSION["ping"].answer,
        PYMYSQL_LOGIN_OK,
    ],
)
def test_captured_oks_encode_back_to_their_bytes(wire: bytes) -> None:
    assert OkPacket.decode(payload(wire)).encode() == payload(wire)


def test_ok_form_terminator_decodes() -> None:
    # with DEPRECATE_EOF a result ends with an OK whose header is 0xFE
    last = payloads(DEPRECATE_EOF_SESSION["select_union"].answer)[-1]
    assert last == b"\xfe\x00\x00\x22\x00\x00\x00"
    assert OkPacket.decode(last) == OkPacket(0, 0, 0x22, 0)


@given(
    st.integers(0, (1 << 64) - 1),
    st.integers(0, (1 << 64) - 1),
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFFFF),
    st.binary(max_size=40),
)
def test_ok_round_trip(
    affected: int, last_id: int, status: int, warnings: int, info: bytes
) -> None:
    ok = OkPacket(affected, last_id, status, warnings, info)
    assert OkPacket.decode(ok.encode()) == ok


def test_syntax_error_decodes() -> None:
    err = ErrPacket.decode(payload(EOF_SESSION["syntax_error"].answer))
    assert (err.code, err.sqlstate) == (1064, "42000")
    assert err.message.startswith("You have an error in your SQL syntax")
    assert err.message.endswith("near 'SELEC 1' at line 1")


def test_captured_error_encodes_back_to_its_bytes() -> None:
    data = payload(EOF_SESSION["syntax_error"].answer)
    assert ErrPacket.decode(data).encode() == data


def test_err_round_trip_and_sqlstate_padding() -> None:
    err = ErrPacket(1045, "28000", "Access denied for user 'röot'")
    assert ErrPacket.decode(err.encode()) == err
    assert ErrPacket(1, "HY", "x").encode() == b"\xff\x01\x00#HY000x"


def test_err_without_sqlstate_keeps_the_whole_message() -> None:
    # before the handshake, and from pre-4.1 servers, there is no '#' and no SQLSTATE
    assert ErrPacket.decode(b"\xff\x69\x04Too many connections") == ErrPacket(
        1129, "", "Too many connections"
    )


def test_progress_report_is_recognised() -> None:
    report = b"\xff\xff\xff\x01\x01\x02\x10\x27\x00\x05stage"
    assert ErrPacket.decode(report).code == 0xFFFF


@pytest.mark.parametrize("data", [b"", b"\xff", b"\xff\x01", b"\x00\x01\x00#42000x"])
def test_malformed_err_raises(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        ErrPacket.decode(data)


def test_is_eof_on_captured_terminators_and_rows() -> None:
    classic = payloads(EOF_SESSION["select_union"].answer)
    # column count, 2 column definitions, EOF, 2 rows, EOF
    assert [is_eof(p, False) for p in classic] == [False, False, False, True, False, False, True]
    assert eof_status(classic[3]) == Status.AUTOCOMMIT | Status.NO_INDEX_USED
    modern = payloads(DEPRECATE_EOF_SESSION["select_union"].answer)
    # column count, 2 column definitions, 2 rows, the OK-form terminator
    assert [is_eof(p, True) for p in modern] == [False, False, False, False, False, True]
    assert terminator_status(modern[-1], True) == terminator_status(classic[-1], False) == 0x22


def test_is_eof_tells_a_row_starting_with_0xfe_from_eof() -> None:
    # A text row whose first value is 16 MiB or longer starts with 0xFE (an 8-byte length);
    # its first physical packet is a full 16 MiB - 1 bytes.
    value_length = 1 << 24
    row = b"\xfe" + value_length.to_bytes(8, "little") + b"v" * (MAX_CHUNK - 9)
    assert len(row) == MAX_CHUNK
    assert not is_eof(row, True)
    assert not is_eof(row, False)
    # Without DEPRECATE_EOF anything of 9 bytes or more starting 0xFE is a row.
    assert not is_eof(b"\xfe" + b"\x00" * 8, False)
    assert is_eof(b"\xfe\x00\x00\x02\x00", False)
    # With it, the terminator is an OK packet, which can carry info text.
    assert is_eof(b"\xfe\x00\x00\x02\x00\x00\x00" + b"i" * 100, True)
    assert not is_eof(b"", True)
    assert not is_eof(b"\x00\x00\x00\x02\x00\x00\x00", True)


# -- PREPARE_OK and AuthSwitchRequest --------------------------------------------------------


def test_prepare_ok_decodes() -> None:
    first = payloads(EOF_SESSION["prepare"].answer)[0]
    assert PrepareOk.decode(first) == PrepareOk(statement_id=1, columns=2, params=2, warnings=0)
    cursor = payloads(DEPRECATE_EOF_SESSION["prepare_cursor"].answer)[0]
    assert PrepareOk.decode(cursor) == PrepareOk(statement_id=6, columns=2, params=0, warnings=0)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x00\x00\x00\x02\x00\x02\x00\x00\x00",
        payload(EOF_SESSION["syntax_error"].answer),
    ],
)
def test_malformed_prepare_ok_raises(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        PrepareOk.decode(data)


def test_auth_switch_request_round_trip() -> None:
    request = AuthSwitchRequest("mysql_native_password", b"0123456789abcdefghij")
    encoded = request.encode()
    assert encoded == b"\xfemysql_native_password\x000123456789abcdefghij\x00"
    assert AuthSwitchRequest.decode(encoded) == request


def test_one_byte_auth_switch_asks_for_the_old_password() -> None:
    assert AuthSwitchRequest.decode(b"\xfe") == AuthSwitchRequest("mysql_old_password", b"")


def test_auth_switch_without_plugin_terminator_raises() -> None:
    with pytest.raises(RemoteProtocolError):
        AuthSwitchRequest.decode(b"\xfeclient_ed25519")
