"""Pure helpers of the PostgreSQL engine (no sockets)."""

from __future__ import annotations

import pytest

from iap.engines.postgres import server_version_num


@pytest.mark.parametrize(
    ("reported", "number"),
    [
        ("15.18 (Debian 15.18-0+deb12u1)", 150018),
        ("16.4", 160004),
        ("17beta1", 170000),
        ("9.6.24", None),  # before 10 the scheme differs: the strictest reading instead
        ("EnterpriseDB 15", None),
        ("", None),
    ],
)
def test_server_version_num_from_the_reported_version(reported: str, number: int | None) -> None:
    assert server_version_num(reported) == number
