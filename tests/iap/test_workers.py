"""`--workers`: which configs can be shared by several processes, and the worker argument."""

from __future__ import annotations

from pathlib import Path

import pytest

from iap.config import ConfigError, GatewayConfig
from iap.gateway import open_store
from iap.store.base import CancelKey
from iap.workers import check_shareable, parse_worker, prepare


def config(api: str, tunnel: str, listen: str | None) -> GatewayConfig:
    return GatewayConfig.model_validate(
        {
            "gateway": {"api": api, "tunnel": tunnel},
            "connections": [
                {"name": "pg", "address": "127.0.0.1:5432", "database": "d", "user": "u"}
                | ({"listen": listen} if listen else {})
            ],
        }
    )


def test_fixed_ports_can_be_shared() -> None:
    check_shareable(config("127.0.0.1:8700", "127.0.0.1:8701", "127.0.0.1:6543"))
    check_shareable(config("127.0.0.1:8700", "127.0.0.1:8701", None))


@pytest.mark.parametrize(
    ("api", "tunnel", "listen", "named"),
    [
        ("127.0.0.1:0", "127.0.0.1:8701", None, "gateway.api"),
        ("127.0.0.1:8700", "127.0.0.1:0", None, "gateway.tunnel"),
        ("127.0.0.1:8700", "127.0.0.1:8701", "127.0.0.1:0", "listen of pg"),
    ],
)
def test_any_port_zero_is_refused_by_name(
    api: str, tunnel: str, listen: str | None, named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        check_shareable(config(api, tunnel, listen))


def test_worker_argument() -> None:
    assert parse_worker("0/2") == (0, 2)
    assert parse_worker("3/4") == (3, 4)
    for bad in ("2/2", "1", "a/2", "-1/2", "1/0"):
        with pytest.raises(ValueError, match="I/N"):
            parse_worker(bad)


def test_prepare_forgets_the_cancel_keys_of_an_earlier_run(tmp_path: Path) -> None:
    """A worker that crashed left its keys in the store; no session outlives the gateway."""
    gateway = GatewayConfig.model_validate({"gateway": {"data_dir": str(tmp_path)}})
    store = open_store(gateway)
    try:
        assert store.put_cancel_key(CancelKey(5, -1, "s1", "alice", "my", 12, None, 1.0))
    finally:
        store.close()
    prepare(gateway)
    store = open_store(gateway)
    try:
        assert store.get_cancel_key(5, -1) is None
    finally:
        store.close()
