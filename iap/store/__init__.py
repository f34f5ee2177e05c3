"""Persistent state of the gateway behind one `Store` interface (SQLite embedded by default)."""

from iap.store.base import (
    ApprovalRequest,
    AuditRecord,
    RefreshToken,
    Store,
    User,
)

__all__ = ["ApprovalRequest", "AuditRecord", "RefreshToken", "Store", "User"]
