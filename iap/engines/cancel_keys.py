"""The keys the gateway hands clients to cancel their sessions' work, for every protocol.

PostgreSQL clients get a (process id, secret) BackendKeyData; MySQL clients a connection id
they may `KILL`, kept as (id, KILL_SECRET). Each maps to its session here and, with several
workers, through the store (with the backend's own key), so a cancel reaching another
worker still finds it.
"""

from __future__ import annotations

import secrets

from iap.services import Services
from iap.session import Session
from iap.store.base import CancelKey

KILL_SECRET = -1  # the secret of a MySQL connection id's key (PostgreSQL's are >= 0)


def new_cancel_key(
    services: Services,
    session: Session,
    backend_key: tuple[int, int],
    *,
    secret: int | None = None,
) -> tuple[int, int]:
    """A fresh key for the client: a random id and `secret` (None: a random one)."""
    while True:
        key = (
            secrets.randbelow(2**31 - 1) + 1,
            secrets.randbits(31) if secret is None else secret,
        )
        if key in services.cancel_keys:
            continue
        if services.workers > 1:
            shared = CancelKey(
                *key,
                session.id,
                session.user,
                session.connection.name,
                *backend_key,
                services.clock(),
            )
            if not services.store.put_cancel_key(shared):
                continue
        services.cancel_keys[key] = session.id
        return key


def forget_cancel_key(services: Services, key: tuple[int, int]) -> None:
    services.cancel_keys.pop(key, None)
    if services.workers > 1:
        services.store.delete_cancel_key(*key)
