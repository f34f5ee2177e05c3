"""End-to-end fixtures: a throwaway database, a running gateway, users, a logged-in agent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.helpers import Agent, ConnectedPort, Gateway, PgServer, running_gateway, write_config

pytestmark = pytest.mark.e2e


@pytest.fixture
def database(pg_server: PgServer) -> Iterator[str]:
    name = pg_server.create_database()
    pg_server.execute(
        "CREATE TABLE items (id int PRIMARY KEY, name text);"
        "INSERT INTO items SELECT i, 'item ' || i FROM generate_series(1, 3) AS i;"
        "CREATE TABLE victim (id int);",
        dbname=name,
    )
    try:
        yield name
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def config_extra() -> str:
    return ""


@pytest.fixture
async def gateway(
    tmp_path: Path, pg_server: PgServer, database: str, config_extra: str
) -> AsyncIterator[Gateway]:
    async with running_gateway(write_config(tmp_path, pg_server, database, config_extra)) as gw:
        gw.add_user("alice", "dev")
        gw.add_user("bob", "dba")
        yield gw


@pytest.fixture
async def alice(gateway: Gateway) -> Agent:
    return await Agent.logged_in(gateway, "alice")


@pytest.fixture
async def port(alice: Agent) -> AsyncIterator[ConnectedPort]:
    async with alice.connect() as connected:
        yield connected
