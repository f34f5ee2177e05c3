"""What the agent writes on a local client's connection by itself, read back with the
protocol library the gateway uses (protocols/): the FATAL and ERR a client gets when no
tunnel opens, and CLIENT_SSL added to a MySQL handshake under --tls."""

from __future__ import annotations

from agent.errors import AgentError, not_logged_in
from agent.local_mysql import offer_ssl, refusal_packet
from agent.local_pg import fatal
from protocols.mysql.messages import Capability, ErrPacket, HandshakeV10
from protocols.mysql.packets import PacketReader
from protocols.postgres.messages import ErrorResponse


def test_postgres_clients_get_a_fatal_error_response() -> None:
    for error, sqlstate in ((not_logged_in(), "28000"), (AgentError("gateway gone", 3), "08006")):
        frame = fatal(error)
        assert frame[:1] == b"E"
        message = ErrorResponse.decode(frame[5:])
        assert (message.severity, message.code, message.message) == (
            "FATAL",
            sqlstate,
            f"iap: {error}",
        )


def test_mysql_clients_get_an_err_packet_in_place_of_the_handshake() -> None:
    reader = PacketReader()
    reader.receive_data(refusal_packet(not_logged_in()))
    packet = reader.next_packet()
    assert packet is not None and packet.seq == 0
    # No "#SQLSTATE" marker: before the handshake a client cannot know CLIENT_PROTOCOL_41.
    assert packet.payload[3:] == b"iap: not logged in: run `iap login`"
    assert ErrPacket.decode(packet.payload).code == 1045
    reader.receive_data(refusal_packet(AgentError("gateway gone", 3)))
    other = reader.next_packet()
    assert other is not None and ErrPacket.decode(other.payload).code == 1105


def test_offer_ssl_changes_only_the_ssl_capability() -> None:
    handshake = HandshakeV10(
        server_version="10.11.19-MariaDB",
        connection_id=42,
        auth_data=bytes(range(1, 21)),
        capabilities=int(Capability.PROTOCOL_41 | Capability.SECURE_CONNECTION),
        charset=45,
        status=2,
        auth_plugin="mysql_native_password",
    )
    offered = HandshakeV10.decode(offer_ssl(handshake.encode()))
    assert offered.capabilities == handshake.capabilities | Capability.SSL
    assert offered.encode() == offer_ssl(handshake.encode())
    assert (offered.server_version, offered.connection_id, offered.auth_data) == (
        handshake.server_version,
        handshake.connection_id,
        handshake.auth_data,
    )
