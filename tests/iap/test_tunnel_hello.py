"""The tunnel port answers every hello it cannot read with a `bad_hello` line.

A real gateway (in this process) and a TLS client speaking to its tunnel port as an agent
would, sending hellos no agent sends: nested too deep for the JSON parser, invalid UTF-8,
other encodings, not an object, too long, a version that is not the integer 1.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from iap import tunnel
from tests.helpers import Gateway, PgServer, running_gateway, write_config

# The hello is refused before any database is reached: no server is needed behind it.
NOWHERE = PgServer(address="127.0.0.1:9", host="127.0.0.1", port=9)


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    async with running_gateway(write_config(tmp_path, NOWHERE, "app")) as gw:
        yield gw


async def answer(gateway: Gateway, hello: bytes) -> dict[str, object]:
    """The gateway's answer line to `hello` (sent while the answer is read)."""
    assert gateway.running.ca is not None
    context = ssl.create_default_context(cafile=str(gateway.running.ca))
    host, port = gateway.running.tunnel
    with trio.fail_after(30):
        stream = await trio.open_ssl_over_tcp_stream(host, port, ssl_context=context)
        async with stream, trio.open_nursery() as nursery:
            nursery.start_soon(stream.send_all, hello)
            received = bytearray()
            while b"\n" not in received:
                data = await stream.receive_some(65536)
                assert data, f"the gateway closed without an answer; got {bytes(received)!r}"
                received += data
            nursery.cancel_scope.cancel()
    line = bytes(received).split(b"\n", 1)[0]
    reply: dict[str, object] = json.loads(line)
    return reply


DEEP_ARRAY = b"[" * 60_000 + b"\n"
DEEP_IN_OBJECT = b'{"v":1,"token":"t","connection":' + b'{"a":' * 10_000 + b"\n"


@pytest.mark.parametrize(
    ("hello", "why"),
    [
        pytest.param(DEEP_ARRAY, "nested too deeply", id="deep-array"),
        pytest.param(DEEP_IN_OBJECT, "nested too deeply", id="deep-object"),
        pytest.param(b'{"v":1,"token":"\xff\xfe","connection":"pg-main"}\n', "UTF-8", id="utf8"),
        pytest.param('{"v":1}'.encode("utf-16") + b"\n", "UTF-8", id="utf16"),
        pytest.param(b'{"v":1,"token":"t"\n', "not JSON", id="truncated"),
        pytest.param(b"[1, 2]\n", "not a JSON object", id="array"),
        pytest.param(b'"hello"\n', "not a JSON object", id="string"),
        pytest.param(b"null\n", "not a JSON object", id="null"),
        pytest.param(b'{"v":true,"token":"t","connection":"pg-main"}\n', "version", id="v-true"),
        pytest.param(b'{"v":1.0,"token":"t","connection":"pg-main"}\n', "version", id="v-float"),
        pytest.param(b"x" * (tunnel.HELLO_LIMIT + 8192), "longer than", id="oversized"),
        pytest.param(b"{" + b" " * 200_000 + b"}\n", "longer than", id="oversized-line"),
    ],
)
async def test_an_unreadable_hello_gets_bad_hello(
    gateway: Gateway, caplog: pytest.LogCaptureFixture, hello: bytes, why: str
) -> None:
    caplog.set_level(logging.INFO, logger="iap")
    reply = await answer(gateway, hello)
    assert reply["error"] == "bad_hello", reply
    assert why in str(reply["message"]), reply
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]

    # The tunnel port goes on answering agents.
    reply = await answer(gateway, b'{"v":1,"token":"not-a-jwt","connection":"pg-main"}\n')
    assert reply["error"] != "bad_hello" and "iap login" in str(reply["message"]), reply
