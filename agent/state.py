"""The agent's saved state: gateway URL, trusted CA, user, device id and tokens.

Kept in `$IAP_HOME/agent.json` (default: the platform's config dir), mode 0600. With
`IAP_KEYRING=1` the tokens go to the OS keyring instead, keyed by IAP_HOME, gateway and user so
several homes never collide; the file then keeps everything but the tokens.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from agent.errors import AgentError, not_logged_in

KEYRING_SERVICE = "iap"


def home() -> Path:
    env = os.environ.get("IAP_HOME")
    if env:
        return Path(env).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "iap"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "iap"


def _use_keyring() -> bool:
    return os.environ.get("IAP_KEYRING", "") not in ("", "0", "false", "no")


@dataclass
class AgentState:
    gateway: str
    user: str
    device_id: str
    ca_pem: str | None = None
    access_token: str = ""
    refresh_token: str = ""
    access_expires_at: float = 0.0
    sessions: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return home() / "agent.json"

    def _keyring_key(self) -> str:
        return f"{home()}|{self.gateway}|{self.user}"

    def save(self) -> None:
        data = asdict(self)
        data.pop("sessions", None)
        if _use_keyring():
            import keyring

            secret = json.dumps(
                {"access_token": self.access_token, "refresh_token": self.refresh_token}
            )
            keyring.set_password(KEYRING_SERVICE, self._keyring_key(), secret)
            data["access_token"] = data["refresh_token"] = ""
            data["keyring"] = True
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        os.replace(tmp, path)

    @classmethod
    def load(cls) -> AgentState:
        path = home() / "agent.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise not_logged_in() from None
        except (OSError, ValueError) as e:
            raise not_logged_in(f"cannot read {path} ({e})") from None
        in_keyring = data.pop("keyring", False)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        state = cls(**known)
        if in_keyring:
            import keyring

            secret = keyring.get_password(KEYRING_SERVICE, state._keyring_key())
            if secret:
                tokens = json.loads(secret)
                state.access_token = tokens.get("access_token", "")
                state.refresh_token = tokens.get("refresh_token", "")
        if not state.refresh_token:
            raise not_logged_in()
        return state

    def adopt_newer_tokens(self) -> None:
        """Take the tokens another `iap` process of this home saved since we read ours (a
        refresh token is single-use: theirs replaced ours). Call it under `locked()`."""
        try:
            saved = AgentState.load()
        except AgentError:
            return  # logged out meanwhile: our refresh will say so
        if (saved.gateway, saved.user) == (self.gateway, self.user) and (
            saved.refresh_token != self.refresh_token
        ):
            self.access_token = saved.access_token
            self.refresh_token = saved.refresh_token
            self.access_expires_at = saved.access_expires_at
            self.device_id = saved.device_id

    def forget(self) -> None:
        if _use_keyring():
            import keyring
            import keyring.errors

            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                keyring.delete_password(KEYRING_SERVICE, self._keyring_key())
        self.path.unlink(missing_ok=True)


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Hold this home's state lock (across processes): refreshing and saving tokens happen
    under it, so two commands never spend the same refresh token."""
    folder = home()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(folder / "agent.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
