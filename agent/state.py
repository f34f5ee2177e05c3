"""The agent's saved state: gateway URL, trusted CA, user, device id and tokens.

Kept in `$IAP_HOME/agent.json` (default: the platform's config dir), mode 0600. With
`IAP_KEYRING=1` the tokens go to the OS keyring instead, keyed by IAP_HOME, gateway and user so
several homes never collide; the file then keeps everything but the tokens. `iap logout` drops
the tokens but keeps the rest, so the next `iap login` knows the gateway, user and CA. Every
save replaces the file (a new inode): a running `iap connect` notices a logout, a login or a
refresh by another command from the file's `stamp`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
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
    session_expires_at: float = 0.0  # when the refresh token ends (0: unknown)

    @property
    def path(self) -> Path:
        return home() / "agent.json"

    def tokens_place(self) -> str:
        """Where the tokens are kept, for people."""
        return "the OS keyring" if _use_keyring() else str(self.path)

    def _keyring_key(self) -> str:
        return f"{home()}|{self.gateway}|{self.user}"

    def save(self) -> None:
        data = asdict(self)
        if _use_keyring():
            import keyring

            secret = json.dumps(
                {"access_token": self.access_token, "refresh_token": self.refresh_token}
            )
            keyring.set_password(KEYRING_SERVICE, self._keyring_key(), secret)
            data["access_token"] = data["refresh_token"] = ""
            data["keyring"] = True
        self._write(data)

    def _write(self, data: dict[str, object]) -> None:
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        os.replace(tmp, path)

    @classmethod
    def _read(cls) -> tuple[AgentState, bool]:
        path = home() / "agent.json"
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise not_logged_in() from None
        except (OSError, ValueError) as e:
            raise not_logged_in(f"cannot read {path} ({e})") from None
        if not isinstance(data, dict):
            raise not_logged_in(f"cannot read {path} (not a JSON object)")
        in_keyring = bool(data.pop("keyring", False))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known), in_keyring
        except TypeError:
            raise not_logged_in(f"cannot read {path} (fields missing)") from None

    @classmethod
    def remembered(cls) -> AgentState | None:
        """What the last login left (tokens or not, keyring untouched), or None."""
        try:
            return cls._read()[0]
        except AgentError:
            return None

    @staticmethod
    def stamp() -> tuple[int, int] | None:
        """Identifies the saved file's current version (None: no file)."""
        try:
            st = (home() / "agent.json").stat()
        except OSError:
            return None
        return st.st_ino, st.st_mtime_ns

    @classmethod
    def load(cls) -> AgentState:
        """The logged-in state; AgentError (not logged in) when there are no tokens."""
        state, in_keyring = cls._read()
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

    def take_tokens(self, saved: AgentState) -> None:
        """Adopt the tokens (and their device) of a newer save of the same identity: a refresh
        token is single-use, so another command's refresh replaced ours."""
        self.access_token = saved.access_token
        self.refresh_token = saved.refresh_token
        self.access_expires_at = saved.access_expires_at
        self.session_expires_at = saved.session_expires_at
        self.device_id = saved.device_id

    def forget(self) -> None:
        """Drop the tokens (file and keyring); keep the gateway, CA, user and device id."""
        if _use_keyring():
            import keyring
            import keyring.errors

            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                keyring.delete_password(KEYRING_SERVICE, self._keyring_key())
        self.access_token = self.refresh_token = ""
        self.access_expires_at = self.session_expires_at = 0.0
        self._write(asdict(self))


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
