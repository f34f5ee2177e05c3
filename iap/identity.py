"""Who a person is: users, password hashes, TOTP, access and refresh tokens, step-up.

Owns: the gateway's keys in `<data_dir>/keys/` (the ES256 signing key, which also signs audit
checkpoints, the key that encrypts TOTP secrets at rest, and the audit chain's HMAC key
`audit.key`), scrypt password hashes, TOTP checks with replay refusal and
lockout back-off, issuing and verifying access tokens (JWT, ES256 only) and rotating refresh
tokens. Everything is measured with the injected clock.
Never: tells a caller whether a user name exists (a wrong user and a wrong password give the
same error), accepts a token not signed with its own ES256 key, stores a TOTP secret or a
refresh token in clear, or decides policy (what a role may do is iap/policy.py's business).
Calls block (scrypt, file and store I/O): the gateway runs them in `trio.to_thread`.
Logins, step-ups and refreshes are logged (`event=login_failed user=... reason=bad_code`).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import logging
import math
import os
import re
import secrets
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jwt
import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from iap.audit import CHECKPOINT_PREFIX
from iap.logfmt import event
from iap.store.base import RefreshToken, Store, User

log = logging.getLogger("iap.identity")

AUDIENCE = "iap"  # access tokens for the control API and the tunnel
LISTENER_AUDIENCE = "iap-listener"  # short tokens used as a password on a direct listener
LISTENER_TTL = 300.0  # seconds a listener token lives: long enough to connect, no more
ACR_MFA = "urn:iap:mfa"  # password + TOTP (or a later step-up) stand behind the token
AMR_PWD_OTP: tuple[str, ...] = ("pwd", "otp")
ALGORITHM = "ES256"
TOTP_ISSUER = "iap"
TOTP_PERIOD = 30  # seconds per TOTP step
TOTP_WINDOW = 1  # steps accepted either side of the current one
LOCKOUT_THRESHOLD = 5  # failures within LOCKOUT_WINDOW that lock the user out
LOCKOUT_WINDOW = 15 * 60.0
LOCKOUT_BASE = 30.0  # the first back-off; it doubles with every further failure
LOCKOUT_MAX = 15 * 60.0
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SCRYPT_MAXMEM = 64 * 1024 * 1024
_IAT_LEEWAY = 60.0  # tolerated clock skew between replicas for a token's issue time
_USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")

AuthErrorCode = Literal[
    "bad_credentials",
    "bad_code",
    "replayed_code",
    "locked_out",
    "token_expired",
    "token_invalid",
    "token_revoked",
    "user_disabled",
    "user_exists",
    "device_mismatch",
]

_MESSAGES: dict[AuthErrorCode, str] = {
    "bad_credentials": "wrong user name or password",
    "bad_code": "wrong one-time code",
    "replayed_code": "this one-time code was already used; wait for the next one",
    "locked_out": "too many failed attempts; try again later",
    "token_expired": "the token has expired; log in again",
    "token_invalid": "the token is not valid",
    "token_revoked": "the token was revoked; log in again",
    "user_disabled": "this user is disabled",
    "user_exists": "a user of that name exists",
    "device_mismatch": "the token belongs to another device; log in again",
}


class AuthError(Exception):
    """An authentication step failed. `code` is stable (API and CLI map it); `message` is
    for people. `retry_after` (seconds) is set for "locked_out"."""

    def __init__(
        self, code: AuthErrorCode, message: str | None = None, *, retry_after: float | None = None
    ) -> None:
        self.code: AuthErrorCode = code
        self.message = message or _MESSAGES[code]
        self.retry_after = retry_after
        super().__init__(self.message)


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives
    token_type: str = "Bearer"


@dataclass(frozen=True, slots=True)
class Claims:
    """A verified access token."""

    sub: str
    roles: tuple[str, ...]
    amr: tuple[str, ...]
    acr: str
    auth_time: float
    iat: float
    exp: float
    jti: str
    device: str | None
    aud: str


def kept_roles(granted: tuple[str, ...], current: Sequence[str]) -> tuple[str, ...]:
    """The roles of `granted` (a token's, a session's) the user still has: removing a role
    takes effect at once, adding one waits for a new token (context only tightens)."""
    return tuple(r for r in granted if r in current)


# passwords


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """scrypt (n=2**14, r=8, p=1, 16-byte salt) as "scrypt$n$r$p$salt_b64$hash_b64"."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=_SCRYPT_MAXMEM
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check of a password against `hash_password`'s output; False if the
    encoding is malformed or asks for unreasonable work."""
    try:
        scheme, n_text, r_text, p_text, salt_text, digest_text = encoded.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt, expected = _unb64(salt_text), _unb64(digest_text)
    except ValueError:
        return False
    if scheme != "scrypt" or not (2 <= n <= 2**20 and 1 <= r <= 16 and 1 <= p <= 4):
        return False
    if 128 * n * r * p > _SCRYPT_MAXMEM // 2 or not expected:
        return False
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=_SCRYPT_MAXMEM
    )
    return hmac.compare_digest(digest, expected)


def _password_hash(password: str) -> str:
    if not password:
        raise ValueError("the password must not be empty")
    return hash_password(password)


def _provisioning_uri(name: str, secret: str) -> str:
    """The otpauth:// URI an authenticator app enrols (as text or a QR code)."""
    return str(pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=TOTP_ISSUER))


# Checked for unknown users so they cost one scrypt like known ones; no password matches it.
_DUMMY_HASH = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(bytes(16))}${_b64(bytes(32))}"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# keys


def _create_once(path: Path, make: Callable[[], bytes]) -> bytes:
    """Read `path`, creating it (0600) first if missing. Safe when several processes start at
    once: each writes a private temp file and links it into place; one link wins and all
    of them read the winner."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(make())
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileExistsError):  # another process got there first
            os.link(tmp, path)
    finally:
        os.unlink(tmp)
    return path.read_bytes()


def _new_signing_key_pem() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_audit_key(keys_dir: Path) -> bytes:
    """The HMAC key of the audit chain (`<keys_dir>/audit.key`: 32 random bytes, 0600),
    created on first use. The store that writes the chain and `iap audit verify` read it."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = keys_dir / "audit.key"
    key = _create_once(path, lambda: os.urandom(32))
    if len(key) != 32:
        raise ValueError(f"{path} must hold exactly 32 bytes")
    return key


@dataclass(frozen=True, slots=True)
class _Keys:
    signing: ec.EllipticCurvePrivateKey
    public: ec.EllipticCurvePublicKey
    public_pem: bytes
    kid: str
    totp: AESGCM

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> _Keys:
        keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        signing_path = keys_dir / "signing.pem"
        signing = serialization.load_pem_private_key(
            _create_once(signing_path, _new_signing_key_pem), password=None
        )
        if not isinstance(signing, ec.EllipticCurvePrivateKey) or not isinstance(
            signing.curve, ec.SECP256R1
        ):
            raise ValueError(f"{signing_path} is not a P-256 (ES256) private key")
        public = signing.public_key()
        public_pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        _create_once(keys_dir / "signing.pub.pem", lambda: public_pem)
        der = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        totp_path = keys_dir / "totp.key"
        totp_key = _create_once(totp_path, lambda: os.urandom(32))
        if len(totp_key) != 32:
            raise ValueError(f"{totp_path} must hold exactly 32 bytes")
        kid = _b64(hashlib.sha256(der).digest())[:16]
        return cls(signing, public, public_pem, kid, AESGCM(totp_key))


# claims


def _claim_str(payload: dict[str, Any], key: str) -> str:
    value = payload[key]
    if not isinstance(value, str):
        raise TypeError(key)
    return value


def _claim_num(payload: dict[str, Any], key: str) -> float:
    value = payload[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(key)
    return float(value)


def _claim_strs(payload: dict[str, Any], key: str) -> tuple[str, ...]:
    value = payload[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(key)
    return tuple(value)


def _claims(payload: dict[str, Any]) -> Claims:
    device = payload.get("device")
    if device is not None and not isinstance(device, str):
        raise TypeError("device")
    return Claims(
        sub=_claim_str(payload, "sub"),
        roles=_claim_strs(payload, "roles"),
        amr=_claim_strs(payload, "amr"),
        acr=_claim_str(payload, "acr"),
        auth_time=_claim_num(payload, "auth_time"),
        iat=_claim_num(payload, "iat"),
        exp=_claim_num(payload, "exp"),
        jti=_claim_str(payload, "jti"),
        device=device,
        aud=_claim_str(payload, "aud"),
    )


class Identity:
    """Users, their credentials and tokens, on top of a Store and a keys directory."""

    def __init__(
        self,
        store: Store,
        keys_dir: Path,
        *,
        issuer: str,
        access_ttl: float = 600,
        refresh_ttl: float = 43200,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.keys_dir = Path(keys_dir)
        self.issuer = issuer
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.clock = clock
        self._keys_lock = threading.Lock()
        self._loaded: _Keys | None = None

    @property
    def _keys(self) -> _Keys:
        with self._keys_lock:
            if self._loaded is None:
                self._loaded = _Keys.load_or_create(self.keys_dir)
            return self._loaded

    def public_key_pem(self) -> bytes:
        """The PEM public key replicas verify access tokens (and audit checkpoints) with."""
        return self._keys.public_pem

    @property
    def key_id(self) -> str:
        """The signing key's id (`kid` in token headers and audit checkpoints)."""
        return self._keys.kid

    def sign_audit_checkpoint(self, message: bytes) -> bytes:
        """DER ES256 signature of an audit checkpoint's message (`iap.audit.Checkpoint`).
        Anything that does not begin with the checkpoint prefix is refused, so this key signs
        nothing else that could pass for a token."""
        if not message.startswith(CHECKPOINT_PREFIX):
            raise ValueError("not an audit checkpoint message")
        return self._keys.signing.sign(message, ec.ECDSA(hashes.SHA256()))

    # users

    def add_user(self, name: str, password: str, roles: Sequence[str]) -> str:
        """Create a user; returns the otpauth:// provisioning URI of the new TOTP secret."""
        if not _USER_NAME.match(name):
            raise ValueError(
                "a user name is 1-64 letters, digits and _ . @ -, starting with a letter or digit"
            )
        if self.store.get_user(name) is not None:
            raise AuthError("user_exists", f"user {name!r} exists")
        secret = pyotp.random_base32()
        user = User(
            name=name,
            roles=tuple(roles),
            password_hash=_password_hash(password),
            totp_secret=self._seal(name, secret),
            created_at=self.clock(),
        )
        try:
            self.store.add_user(user)
        except KeyError:
            raise AuthError("user_exists", f"user {name!r} exists") from None
        return _provisioning_uri(name, secret)

    def reset_password(self, name: str, password: str) -> None:
        """A new password; failed attempts are forgotten (the user is no longer locked out)
        and refresh tokens revoked (every device logs in again). KeyError: no such user."""
        self.store.set_user_password(name, _password_hash(password))
        self.store.revoke_user_tokens(name)

    def reset_totp(self, name: str) -> str:
        """A new TOTP secret (a lost or replaced authenticator); refresh tokens are revoked.
        Returns the new provisioning URI. KeyError: no such user."""
        secret = pyotp.random_base32()
        self.store.set_user_totp(name, self._seal(name, secret))
        self.store.revoke_user_tokens(name)
        return _provisioning_uri(name, secret)

    def totp_secret(self, name: str) -> str:
        """The user's TOTP secret in clear (base32). Raises KeyError for an unknown user."""
        user = self.store.get_user(name)
        if user is None:
            raise KeyError(name)
        return self._unseal(user.name, user.totp_secret)

    def last_mfa(self, name: str) -> float | None:
        """When the user last proved a second factor (login or step-up), if ever."""
        return self.store.last_mfa_event(name)

    def _seal(self, name: str, secret: str) -> str:
        nonce = os.urandom(12)
        sealed = self._keys.totp.encrypt(nonce, secret.encode(), f"iap-totp:{name}".encode())
        return "aesgcm$" + _b64(nonce + sealed)

    def _unseal(self, name: str, sealed: str) -> str:
        scheme, _, body = sealed.partition("$")
        if scheme != "aesgcm":
            raise ValueError(f"user {name!r}: unknown TOTP secret encoding")
        raw = _unb64(body)
        try:
            secret = self._keys.totp.decrypt(raw[:12], raw[12:], f"iap-totp:{name}".encode())
        except InvalidTag:
            raise ValueError(
                f"user {name!r}: the TOTP secret does not decrypt with {self.keys_dir}/totp.key"
            ) from None
        return secret.decode()

    # second factor

    def _check_lockout(self, name: str, now: float) -> None:
        failures = self.store.auth_failures_since(name, now - LOCKOUT_WINDOW)
        if failures < LOCKOUT_THRESHOLD:
            return
        last = self.store.last_auth_failure(name)
        if last is None:
            return
        doublings = min(failures - LOCKOUT_THRESHOLD, 16)
        retry_at = last + min(LOCKOUT_BASE * 2**doublings, LOCKOUT_MAX)
        if now < retry_at:
            wait = retry_at - now
            raise AuthError(
                "locked_out",
                f"too many failed attempts; try again in {math.ceil(wait)} s",
                retry_after=wait,
            )

    def _active_user(self, name: str) -> User:
        user = self.store.get_user(name)
        if user is None:
            raise AuthError("bad_credentials")
        if user.disabled:
            raise AuthError("user_disabled")
        return user

    def _matching_step(self, user: User, code: str, now: float) -> int | None:
        code = code.replace(" ", "")
        if len(code) != 6 or not code.isascii() or not code.isdigit():
            return None
        totp = pyotp.TOTP(self._unseal(user.name, user.totp_secret), interval=TOTP_PERIOD)
        current = int(now // TOTP_PERIOD)
        matches = [
            step
            for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1)
            if hmac.compare_digest(str(totp.generate_otp(step)), code)
        ]
        return max(matches, default=None)

    def _prove_totp(self, user: User, code: str, now: float) -> None:
        step = self._matching_step(user, code, now)
        if step is None:
            self.store.record_auth_failure(user.name, now)
            raise AuthError("bad_code")
        if not self.store.advance_totp_step(user.name, step):
            raise AuthError("replayed_code")
        self.store.clear_auth_failures(user.name)
        self.store.record_mfa_event(user.name, "otp", now)

    def _stepped_up_user(self, name: str, code: str) -> tuple[User, float]:
        now = self.clock()
        try:
            self._check_lockout(name, now)
            user = self._active_user(name)
            self._prove_totp(user, code, now)
        except AuthError as e:
            log.warning(event("stepup_failed", user=name, reason=e.code))
            raise
        log.info(event("stepup", user=name))
        return user, now

    def check_totp(self, name: str, code: str) -> None:
        """Accept a code of the current step +-1 whose step is later than the last accepted
        one, and record an MFA event. Raises AuthError: bad_code, replayed_code, locked_out
        (even for a right code), bad_credentials (unknown user), user_disabled."""
        self._stepped_up_user(name, code)

    def stepup(self, name: str, code: str, *, device_id: str | None = None) -> str:
        """check_totp, then a fresh access token whose auth_time is now (RFC 9470)."""
        user, now = self._stepped_up_user(name, code)
        return self.issue_access_token(user, amr=AMR_PWD_OTP, auth_time=now, device_id=device_id)

    # login and refresh

    def login(self, name: str, password: str, code: str, device_id: str) -> TokenPair:
        """Password, then TOTP -> an access token and a refresh token bound to device_id."""
        try:
            pair = self._login(name, password, code, device_id)
        except AuthError as e:
            log.warning(event("login_failed", user=name, reason=e.code, device=device_id))
            raise
        log.info(event("login", user=name, device=device_id))
        return pair

    def _login(self, name: str, password: str, code: str, device_id: str) -> TokenPair:
        now = self.clock()
        self._check_lockout(name, now)
        user = self.store.get_user(name)
        password_ok = verify_password(password, user.password_hash if user else _DUMMY_HASH)
        if user is None or not password_ok:
            self.store.record_auth_failure(name, now)
            raise AuthError("bad_credentials")
        if user.disabled:
            raise AuthError("user_disabled")
        self._prove_totp(user, code, now)
        self.store.record_login(user.name, now)
        return self._token_pair(user, device_id, auth_time=now, expires_at=now + self.refresh_ttl)

    def refresh(self, refresh_token: str, device_id: str) -> TokenPair:
        """Exchange a refresh token for a new pair; the old refresh token is revoked. The new
        refresh token keeps the old one's expiry: the session ends refresh_ttl after login."""
        stored = self.store.get_refresh_token(_sha256(refresh_token))
        try:
            return self._refresh(stored, device_id)
        except AuthError as e:
            user = stored.user if stored else None
            log.warning(event("refresh_failed", user=user, reason=e.code, device=device_id))
            raise

    def _refresh(self, stored: RefreshToken | None, device_id: str) -> TokenPair:
        now = self.clock()
        if stored is None:
            raise AuthError("token_invalid")
        if stored.revoked:
            raise AuthError("token_revoked")
        if now >= stored.expires_at:
            raise AuthError("token_expired")
        if stored.device_id != device_id:
            raise AuthError("device_mismatch")
        user = self.store.get_user(stored.user)
        if user is None:
            raise AuthError("token_invalid")
        if user.disabled:
            raise AuthError("user_disabled")
        if self.store.consume_refresh_token(stored.token_hash) is None:
            raise AuthError("token_revoked")  # a concurrent refresh used it first
        last_mfa = self.store.last_mfa_event(user.name)
        auth_time = stored.created_at if last_mfa is None else last_mfa
        return self._token_pair(user, device_id, auth_time=auth_time, expires_at=stored.expires_at)

    def _token_pair(
        self, user: User, device_id: str, *, auth_time: float, expires_at: float
    ) -> TokenPair:
        access = self.issue_access_token(
            user, amr=AMR_PWD_OTP, auth_time=auth_time, device_id=device_id
        )
        refresh = secrets.token_urlsafe(32)
        self.store.add_refresh_token(
            RefreshToken(
                token_hash=_sha256(refresh),
                user=user.name,
                device_id=device_id,
                created_at=self.clock(),
                expires_at=expires_at,
            )
        )
        return TokenPair(access, refresh, int(self.access_ttl))

    # access tokens

    def issue_access_token(
        self,
        user: User,
        *,
        amr: Sequence[str],
        auth_time: float,
        device_id: str | None,
        audience: str = AUDIENCE,
        ttl: float | None = None,
    ) -> str:
        """A signed ES256 JWT for `user` (no checks: callers authenticate first)."""
        now = self.clock()
        claims = {
            "iss": self.issuer,
            "sub": user.name,
            "aud": audience,
            "roles": list(user.roles),
            "amr": list(amr),
            "acr": ACR_MFA,
            "auth_time": auth_time,
            "iat": now,
            "exp": now + (self.access_ttl if ttl is None else ttl),
            "jti": uuid.uuid4().hex,
            "device": device_id,
        }
        keys = self._keys
        return jwt.encode(claims, keys.signing, algorithm=ALGORITHM, headers={"kid": keys.kid})

    def prune(self) -> int:
        """Forget what no check reads any more: failures older than the lockout window, MFA
        events older than a day (each user's latest stays), refresh tokens a day past their
        expiry. The gateway calls it hourly."""
        now = self.clock()
        return self.store.prune(
            failures_before=now - 2 * LOCKOUT_WINDOW,
            mfa_before=now - 86400.0,
            tokens_before=now - 86400.0,
        )

    def issue_listener_token(self, claims: Claims) -> tuple[str, int]:
        """(token, seconds it lives): a short token (aud "iap-listener") for the holder of a
        verified access token, used as the password on a connection's direct listener. It
        carries the same user, roles, authentication time and device, so it grants nothing
        the access token did not."""
        user = self.store.get_user(claims.sub)
        if user is None or user.disabled:
            raise AuthError("user_disabled" if user else "token_invalid")
        ttl = int(min(LISTENER_TTL, max(claims.exp - self.clock(), 1.0)))
        token = self.issue_access_token(
            user,
            amr=claims.amr,
            auth_time=claims.auth_time,
            device_id=claims.device,
            audience=LISTENER_AUDIENCE,
            ttl=ttl,
        )
        return token, ttl

    def verify_access_token(self, token: str, *, audience: str = AUDIENCE) -> Claims:
        """Signature (ES256 with our key only), iss, aud, exp and iat against the injected
        clock, claim types, and that the user exists and is enabled. Raises AuthError:
        token_expired, user_disabled, token_invalid (anything else). The claims' roles are
        those of the token the user still has: a role removed since the token was issued is
        gone at once, a role added waits for the next login or refresh."""
        try:
            payload = jwt.decode(
                token,
                self._keys.public,
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=self.issuer,
                options={
                    "verify_exp": False,  # checked below against the injected clock
                    "verify_iat": False,
                    "verify_nbf": False,
                    "strict_aud": True,
                    "require": ["iss", "sub", "aud", "iat", "exp", "jti", "auth_time"],
                },
            )
            claims = _claims(payload)
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            raise AuthError("token_invalid") from None
        now = self.clock()
        if now >= claims.exp:
            raise AuthError("token_expired")
        if claims.iat > now + _IAT_LEEWAY:
            raise AuthError("token_invalid", "the token was issued in the future")
        user = self.store.get_user(claims.sub)
        if user is None:
            raise AuthError("token_invalid")
        if user.disabled:
            raise AuthError("user_disabled")
        roles = kept_roles(claims.roles, user.roles)
        return claims if roles == claims.roles else dataclasses.replace(claims, roles=roles)
