"""The context a decision reads besides the statement: where the client is, and when.

Owns the context conditions of `[[rules]]` (DESIGN.md, "Context in decisions"):
- `sources` / `not_sources`: networks the client's address is in / in none of;
- `hours` / `not_hours`: a weekly window in a time zone, `"Mon-Fri 08:00-19:00 Europe/Berlin"`
  (days: `Mon`, `Mon-Fri`, `Sat,Sun`, `Mon-Wed,Fri`; the end may be `24:00`; an end before the
  start runs past midnight, counted from the start's day; no zone: UTC).

A rule with conditions matches only in that context, and may only tighten what the rules
without conditions decide (iap/policy.py). An address the gateway cannot read (a unix socket,
a malformed peer) is unknown, and unknown takes the strict reading: the rule's conditions
count as met. Pure: parsing and matching; the session supplies the address and the clock.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_TIME = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
HOURS_EXAMPLE = "Mon-Fri 08:00-19:00 Europe/Berlin"


@dataclass(frozen=True, slots=True)
class Context:
    """Where a statement comes from and when: `source` None when unknown."""

    source: IPAddress | None
    now: float  # UNIX seconds


def source_of(peer: str) -> IPAddress | None:
    """The address of a peer written `host:port` (`[v6]:port`, or `v6:port`); None when it
    is not an IP address (a unix socket, `?`)."""
    host = peer.rpartition(":")[0] if ":" in peer else peer
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return mapped or address  # ::ffff:10.1.2.3 on a dual-stack socket is 10.1.2.3


def network_of(source: IPAddress | None) -> str:
    """The network a source belongs to, as grace windows key it: its /24 (IPv4) or /64
    (IPv6), or "unknown"."""
    if source is None:
        return "unknown"
    prefix = 24 if source.version == 4 else 64
    return str(ipaddress.ip_network(f"{source}/{prefix}", strict=False))


@lru_cache(maxsize=1024)
def parse_network(text: str) -> IPNetwork:
    """`10.0.0.0/8`, `2001:db8::/32` or one address -> the network (host bits are an error,
    as they usually are a typo: `10.1.2.3/8`)."""
    try:
        return ipaddress.ip_network(text.strip())
    except ValueError as e:
        raise ValueError(f"not a network: {text!r} ({e}; write e.g. '10.0.0.0/8')") from None


@dataclass(frozen=True, slots=True)
class Hours:
    """A weekly window: on `days` (0 = Monday), from `start` to `end` minutes after midnight
    in `zone`; an end at or before the start runs past midnight into the next day."""

    text: str
    days: frozenset[int]
    start: int
    end: int
    zone: ZoneInfo | dt.timezone

    def contains(self, ts: float) -> bool:
        local = dt.datetime.fromtimestamp(ts, self.zone)
        minute, day = local.hour * 60 + local.minute, local.weekday()
        if self.start < self.end:
            return day in self.days and self.start <= minute < self.end
        return (day in self.days and minute >= self.start) or (
            (day - 1) % 7 in self.days and minute < self.end
        )


@lru_cache(maxsize=256)
def parse_hours(text: str) -> Hours:
    """`"Mon-Fri 08:00-19:00 Europe/Berlin"` -> Hours; ValueError saying what is wrong."""
    parts = text.split()
    if len(parts) not in (2, 3):
        raise ValueError(f"expected days, a time range and a zone, like {HOURS_EXAMPLE!r}")
    days = _days(parts[0])
    start_text, sep, end_text = parts[1].partition("-")
    if not sep:
        raise ValueError(f"{parts[1]!r} is not a time range like '08:00-19:00'")
    start, end = _minute(start_text), _minute(end_text)
    if start == 24 * 60:
        raise ValueError("a window cannot start at 24:00")
    if start == end:
        raise ValueError(f"{parts[1]!r} is an empty window")
    zone: ZoneInfo | dt.timezone = dt.UTC
    if len(parts) == 3 and parts[2] != "UTC":
        try:
            zone = ZoneInfo(parts[2])
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {parts[2]!r} (write e.g. 'Europe/Berlin')"
            ) from None
    return Hours(text, days, start, end % (24 * 60), zone)


def _days(text: str) -> frozenset[int]:
    found: set[int] = set()
    for item in text.split(","):
        first, sep, last = item.partition("-")
        a, b = _day(first), _day(last) if sep else _day(first)
        found.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return frozenset(found)


def _day(text: str) -> int:
    for index, name in enumerate(DAYS):
        if text.lower() == name.lower():
            return index
    raise ValueError(f"{text!r} is not a day: one of {', '.join(DAYS)}")


def _minute(text: str) -> int:
    m = _TIME.match(text)
    if m is None or (m.group(1) == "24" and m.group(2) != "00"):
        raise ValueError(f"{text!r} is not a time like '08:00'")
    return int(m.group(1)) * 60 + int(m.group(2))


def in_networks(source: IPAddress, networks: tuple[str, ...]) -> str | None:
    """The first of `networks` (config text) that holds `source`, if any."""
    for text in networks:
        network = parse_network(text)
        if source.version == network.version and source in network:
            return text
    return None
