"""Tests of iap.context (no sockets): weekly windows in time zones, networks, peer addresses."""

from __future__ import annotations

import datetime as dt
import ipaddress
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iap.context import in_networks, network_of, parse_hours, parse_network, source_of

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str, zone: ZoneInfo | dt.timezone = BERLIN) -> float:
    """A local wall-clock time 'YYYY-MM-DD HH:MM' in zone -> UNIX seconds."""
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=zone).timestamp()


# 2026-12-07 is a Monday; 2026-03-29 (Sunday) is when Berlin moves to summer time.
@pytest.mark.parametrize(
    ("window", "local", "inside"),
    [
        ("Mon-Fri 08:00-19:00 Europe/Berlin", "2026-12-07 08:00", True),
        ("Mon-Fri 08:00-19:00 Europe/Berlin", "2026-12-07 07:59", False),
        ("Mon-Fri 08:00-19:00 Europe/Berlin", "2026-12-07 18:59", True),
        ("Mon-Fri 08:00-19:00 Europe/Berlin", "2026-12-07 19:00", False),  # the end is out
        ("Mon-Fri 08:00-19:00 Europe/Berlin", "2026-12-12 10:00", False),  # Saturday
        ("Sat,Sun 00:00-24:00 Europe/Berlin", "2026-12-13 23:59", True),
        ("Sat,Sun 00:00-24:00 Europe/Berlin", "2026-12-14 00:00", False),
        ("Fri-Mon 10:00-11:00 Europe/Berlin", "2026-12-13 10:30", True),  # a range over Sunday
        ("Fri-Mon 10:00-11:00 Europe/Berlin", "2026-12-09 10:30", False),
        # past midnight: counted from the start's day
        ("Fri 22:00-06:00 Europe/Berlin", "2026-12-11 23:00", True),
        ("Fri 22:00-06:00 Europe/Berlin", "2026-12-12 05:59", True),
        ("Fri 22:00-06:00 Europe/Berlin", "2026-12-12 06:00", False),
        ("Fri 22:00-06:00 Europe/Berlin", "2026-12-10 23:00", False),
        ("Fri 22:00-06:00 Europe/Berlin", "2026-12-11 05:00", False),  # that is Thursday's night
        # the zone's own clock, across the change to summer time
        ("Sun 01:00-04:00 Europe/Berlin", "2026-03-29 03:30", True),
        ("Mon 08:00-09:00 Europe/Berlin", "2026-03-30 08:30", True),
        ("mon 08:00-09:00", "2026-12-07 08:30", False),  # no zone: UTC, an hour behind Berlin
    ],
)
def test_windows(window: str, local: str, inside: bool) -> None:
    assert parse_hours(window).contains(at(local)) is inside


def test_a_window_without_a_zone_is_utc() -> None:
    assert parse_hours("Mon 08:00-09:00").contains(at("2026-12-07 08:30", dt.UTC))
    assert parse_hours("Mon 08:00-09:00 UTC").contains(at("2026-12-07 08:30", dt.UTC))


@pytest.mark.parametrize(
    ("window", "error"),
    [
        ("Mon-Fri", "expected days, a time range and a zone, like"),
        ("Mon-Fri 8-19 Europe/Berlin", "'8' is not a time like '08:00'"),
        ("Mon-Fri 08:00 Europe/Berlin", "'08:00' is not a time range like '08:00-19:00'"),
        ("Mon-Fry 08:00-19:00", "'Fry' is not a day: one of Mon, Tue, Wed, Thu, Fri, Sat, Sun"),
        ("Mon 08:00-24:30", "'24:30' is not a time like '08:00'"),
        ("Mon 24:00-02:00", "a window cannot start at 24:00"),
        ("Mon 08:00-08:00", "'08:00-08:00' is an empty window"),
        ("Mon 08:00-09:00 Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("Mon 08:00-09:00 ../../etc/passwd", "unknown time zone '../../etc/passwd'"),
    ],
)
def test_bad_windows_say_what_is_wrong(window: str, error: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_hours(window)
    assert str(raised.value).startswith(error)


@given(st.integers(0, 6), st.integers(0, 23 * 60 + 59), st.integers(1, 24 * 60 - 1))
def test_a_window_and_its_complement_cover_each_minute_once(
    day: int, start: int, length: int
) -> None:
    """A window and the one from its end to its start: each minute of a week is in exactly
    one of them when both cover every day."""
    end = (start + length) % (24 * 60)
    first = parse_hours(f"Mon-Sun {start // 60:02}:{start % 60:02}-{end // 60:02}:{end % 60:02}")
    second = parse_hours(f"Mon-Sun {end // 60:02}:{end % 60:02}-{start // 60:02}:{start % 60:02}")
    base = at("2026-12-07 00:00", dt.UTC) + day * 86400
    for minute in range(0, 24 * 60, 7):
        ts = base + minute * 60
        assert first.contains(ts) != second.contains(ts)


@pytest.mark.parametrize(
    ("peer", "source"),
    [
        ("127.0.0.1:5432", "127.0.0.1"),
        ("[::1]:5432", "::1"),
        ("::1:5432", "::1"),
        ("::ffff:10.1.2.3:40000", "10.1.2.3"),  # a dual-stack socket's v4 client
        ("/run/iap.sock", None),
        ("?", None),
        ("", None),
        ("not-an-ip:80", None),
    ],
)
def test_source_of_a_peer(peer: str, source: str | None) -> None:
    found = source_of(peer)
    assert (str(found) if found is not None else None) == source


def test_networks() -> None:
    assert parse_network("10.0.0.0/8") == ipaddress.ip_network("10.0.0.0/8")
    assert parse_network("192.0.2.7") == ipaddress.ip_network("192.0.2.7/32")
    with pytest.raises(ValueError, match=r"not a network: '10.1.2.3/8' \(.*has host bits set"):
        parse_network("10.1.2.3/8")
    networks = ("10.0.0.0/8", "2001:db8::/32")
    assert in_networks(ipaddress.ip_address("10.9.9.9"), networks) == "10.0.0.0/8"
    assert in_networks(ipaddress.ip_address("2001:db8::1"), networks) == "2001:db8::/32"
    assert in_networks(ipaddress.ip_address("192.0.2.1"), networks) is None


def test_the_network_a_grace_window_is_keyed_by() -> None:
    assert network_of(ipaddress.ip_address("203.0.113.9")) == "203.0.113.0/24"
    assert network_of(ipaddress.ip_address("2001:db8:1:2:3::9")) == "2001:db8:1:2::/64"
    assert network_of(None) == "unknown"
