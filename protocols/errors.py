"""Errors shared by every wire protocol in ``protocols``.

Owns the three exception types a protocol state machine may raise. It must never grow
protocol-specific logic, and nothing here may do I/O or import from ``iap``.

- ``LocalProtocolError``: our side misused the API (an invalid value, or a message that is
  not allowed in the current state). A bug in the caller.
- ``RemoteProtocolError``: the peer sent bytes that break the protocol (malformed, too
  large, or out of order). The connection cannot be trusted any more.
"""

from __future__ import annotations

__all__ = ["LocalProtocolError", "ProtocolError", "RemoteProtocolError"]


class ProtocolError(Exception):
    """Base class of every protocol error raised by ``protocols``."""


class LocalProtocolError(ProtocolError):
    """Our side misused the API or tried to send a message not allowed in the state."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that violate the protocol."""
