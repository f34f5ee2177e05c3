"""Identity: passwords, TOTP replay and lockout, token tampering, refresh rotation, step-up.

A fake clock drives TOTP steps, token expiry and back-off; nothing sleeps.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pyotp
import pytest

from iap.identity import (
    ACR_MFA,
    LISTENER_AUDIENCE,
    AuthError,
    Identity,
    TokenPair,
    verify_password,
)
from iap.store.base import RefreshToken
from iap.store.sqlite import SQLiteStore

T0 = 1_700_000_015.0  # the middle of a TOTP step
PASSWORD = "correct horse battery staple"
ISSUER = "https://gw.test:8700"


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "iap.db")
    yield s
    s.close()


@pytest.fixture
def ident(store: SQLiteStore, tmp_path: Path, clock: FakeClock) -> Identity:
    return Identity(store, tmp_path / "keys", issuer=ISSUER, clock=clock)


@pytest.fixture
def alice(ident: Identity) -> str:
    ident.add_user("alice", PASSWORD, ["dev", "dba"])
    return "alice"


def code(ident: Identity, name: str, steps_ahead: int = 0) -> str:
    step = int(ident.clock() // 30) + steps_ahead
    return str(pyotp.TOTP(ident.totp_secret(name)).generate_otp(step))


def wrong(right: str) -> str:
    return f"{(int(right) + 1) % 1_000_000:06d}"


def login(ident: Identity, name: str = "alice", device: str = "dev-1") -> TokenPair:
    return ident.login(name, PASSWORD, code(ident, name), device)


def auth_error(fn: object, *args: object, **kwargs: object) -> AuthError:
    assert callable(fn)
    with pytest.raises(AuthError) as info:
        fn(*args, **kwargs)
    return info.value


# users and keys


def test_add_user_gives_the_provisioning_uri_and_seals_the_secret(
    ident: Identity, store: SQLiteStore
) -> None:
    uri = ident.add_user("alice", PASSWORD, ["dev"])
    secret = ident.totp_secret("alice")
    assert uri == f"otpauth://totp/iap:alice?secret={secret}&issuer=iap"
    user = store.get_user("alice")
    assert user is not None and user.roles == ("dev",)
    assert secret not in user.totp_secret
    assert user.password_hash.startswith("scrypt$16384$8$1$")
    assert verify_password(PASSWORD, user.password_hash)
    assert not verify_password("nope", user.password_hash)
    assert auth_error(ident.add_user, "alice", "x", []).code == "user_exists"


def test_keys_are_private_files_that_a_second_instance_loads(
    ident: Identity, alice: str, store: SQLiteStore, tmp_path: Path, clock: FakeClock
) -> None:
    token = login(ident).access_token
    keys = tmp_path / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    for name in ("signing.pem", "signing.pub.pem", "totp.key"):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600
    other = Identity(store, keys, issuer=ISSUER, clock=clock)
    assert other.verify_access_token(token).sub == "alice"
    assert other.totp_secret("alice") == ident.totp_secret("alice")
    assert (keys / "signing.pub.pem").read_bytes() == ident.public_key_pem()


def test_processes_starting_together_agree_on_one_key(store: SQLiteStore, tmp_path: Path) -> None:
    keys = tmp_path / "fresh-keys"
    pems: list[bytes] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        pems.append(Identity(store, keys, issuer=ISSUER).public_key_pem())

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(pems) == 8 and len(set(pems)) == 1
    assert sorted(p.name for p in keys.iterdir()) == ["signing.pem", "signing.pub.pem", "totp.key"]


# login


def test_login_issues_an_access_token_with_the_claims(ident: Identity, alice: str) -> None:
    pair = login(ident)
    assert (pair.token_type, pair.expires_in) == ("Bearer", 600)
    claims = ident.verify_access_token(pair.access_token)
    assert claims.sub == "alice"
    assert claims.roles == ("dev", "dba")
    assert claims.amr == ("pwd", "otp")
    assert claims.acr == ACR_MFA
    assert claims.auth_time == claims.iat == T0
    assert claims.exp == T0 + 600
    assert claims.device == "dev-1"
    assert claims.aud == "iap"
    assert len(claims.jti) == 32
    assert ident.last_mfa("alice") == T0


def test_wrong_password_and_unknown_user_look_the_same(ident: Identity, alice: str) -> None:
    bad_password = auth_error(ident.login, "alice", "wrong", code(ident, "alice"), "d")
    unknown = auth_error(ident.login, "mallory", PASSWORD, "123456", "d")
    assert bad_password.code == unknown.code == "bad_credentials"
    assert str(bad_password) == str(unknown) == bad_password.message


def test_disabled_user_cannot_log_in(ident: Identity, alice: str, store: SQLiteStore) -> None:
    store.set_user_disabled("alice", True)
    assert auth_error(login, ident).code == "user_disabled"


# TOTP


def test_the_same_code_twice_is_replayed(ident: Identity, alice: str) -> None:
    same = code(ident, "alice")
    ident.check_totp("alice", same)
    assert auth_error(ident.check_totp, "alice", same).code == "replayed_code"
    assert auth_error(ident.login, "alice", PASSWORD, same, "d").code == "replayed_code"


def test_an_older_step_after_a_newer_one_is_replayed(ident: Identity, alice: str) -> None:
    ident.check_totp("alice", code(ident, "alice", steps_ahead=1))
    older = code(ident, "alice")
    assert auth_error(ident.check_totp, "alice", older).code == "replayed_code"


def test_codes_of_the_neighbouring_steps_only(ident: Identity, alice: str) -> None:
    ident.check_totp("alice", code(ident, "alice", steps_ahead=-1))
    assert auth_error(ident.check_totp, "alice", code(ident, "alice", 2)).code == "bad_code"
    ident.check_totp("alice", code(ident, "alice", steps_ahead=1))


@pytest.mark.parametrize(
    "garbage", ["", "12345", "1234567", "abcdef", "\uff11\uff12\uff13\uff14\uff15\uff16"]
)
def test_malformed_code_is_a_bad_code(ident: Identity, alice: str, garbage: str) -> None:
    assert auth_error(ident.check_totp, "alice", garbage).code == "bad_code"


def test_wrong_code(ident: Identity, alice: str, store: SQLiteStore) -> None:
    error = auth_error(ident.check_totp, "alice", wrong(code(ident, "alice")))
    assert error.code == "bad_code"
    assert store.auth_failures_since("alice", 0) == 1
    assert ident.last_mfa("alice") is None
    assert auth_error(ident.check_totp, "nobody", "123456").code == "bad_credentials"


def fail_five_times(ident: Identity, clock: FakeClock) -> None:
    for _ in range(5):
        assert auth_error(ident.check_totp, "alice", wrong(code(ident, "alice"))).code == "bad_code"
        clock.advance(1)


def test_lockout_refuses_even_a_right_code_until_the_back_off_passes(
    ident: Identity, alice: str, clock: FakeClock, store: SQLiteStore
) -> None:
    fail_five_times(ident, clock)  # last failure at T0 + 4
    locked = auth_error(ident.check_totp, "alice", code(ident, "alice"))
    assert locked.code == "locked_out"
    assert locked.retry_after == pytest.approx(29.0)
    assert "try again in 29 s" in str(locked)
    assert auth_error(login, ident).code == "locked_out"
    clock.advance(29)
    ident.check_totp("alice", code(ident, "alice"))
    assert store.auth_failures_since("alice", 0) == 0


def test_back_off_doubles_with_every_further_failure(
    ident: Identity, alice: str, clock: FakeClock
) -> None:
    fail_five_times(ident, clock)
    clock.advance(30)
    assert auth_error(ident.check_totp, "alice", wrong(code(ident, "alice"))).code == "bad_code"
    clock.advance(59)
    assert auth_error(ident.check_totp, "alice", code(ident, "alice")).code == "locked_out"
    clock.advance(1)
    ident.check_totp("alice", code(ident, "alice"))


def test_failures_spread_beyond_the_window_do_not_lock(
    ident: Identity, alice: str, clock: FakeClock
) -> None:
    for _ in range(8):
        auth_error(ident.check_totp, "alice", wrong(code(ident, "alice")))
        clock.advance(300)
    ident.check_totp("alice", code(ident, "alice"))


def test_wrong_passwords_lock_known_and_unknown_users_alike(
    ident: Identity, alice: str, clock: FakeClock
) -> None:
    for name in ("alice", "mallory"):
        for _ in range(5):
            assert auth_error(ident.login, name, "guess", "000000", "d").code == "bad_credentials"
        assert auth_error(ident.login, name, PASSWORD, "000000", "d").code == "locked_out"


# access tokens


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_json(value: object) -> str:
    return b64url(json.dumps(value).encode())


def payload_of(token: str) -> dict[str, object]:
    body = token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return decoded


def test_expired_token(ident: Identity, alice: str, clock: FakeClock) -> None:
    token = login(ident).access_token
    clock.advance(599)
    ident.verify_access_token(token)
    clock.advance(1)
    assert auth_error(ident.verify_access_token, token).code == "token_expired"


def tampered_payload(ident: Identity, token: str) -> str:
    header, _, signature = token.split(".")
    payload = payload_of(token) | {"roles": ["admin"]}
    return f"{header}.{b64url_json(payload)}.{signature}"


def tampered_signature(ident: Identity, token: str) -> str:
    head, _, signature = token.rpartition(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{head}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


def alg_none(ident: Identity, token: str) -> str:
    return f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{b64url_json(payload_of(token))}."


def hs256_with_public_key(ident: Identity, token: str) -> str:
    header = b64url_json({"alg": "HS256", "typ": "JWT"})
    signing_input = f"{header}.{b64url_json(payload_of(token))}"
    mac = hmac.new(ident.public_key_pem(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def not_a_jwt(ident: Identity, token: str) -> str:
    return "not.a.jwt"


@pytest.mark.parametrize(
    "tamper",
    [tampered_payload, tampered_signature, alg_none, hs256_with_public_key, not_a_jwt],
)
def test_tampered_tokens_are_invalid(ident: Identity, alice: str, tamper: object) -> None:
    assert callable(tamper)
    token = login(ident).access_token
    assert auth_error(ident.verify_access_token, tamper(ident, token)).code == "token_invalid"


def test_a_token_of_another_gateway_is_invalid(
    ident: Identity, alice: str, store: SQLiteStore, tmp_path: Path, clock: FakeClock
) -> None:
    token = login(ident).access_token
    other_keys = Identity(store, tmp_path / "other-keys", issuer=ISSUER, clock=clock)
    other_issuer = Identity(store, tmp_path / "keys", issuer="https://evil.test", clock=clock)
    assert auth_error(other_keys.verify_access_token, token).code == "token_invalid"
    assert auth_error(other_issuer.verify_access_token, token).code == "token_invalid"


def test_audience_is_checked(ident: Identity, alice: str, store: SQLiteStore) -> None:
    token = login(ident).access_token
    error = auth_error(ident.verify_access_token, token, audience=LISTENER_AUDIENCE)
    assert error.code == "token_invalid"
    user = store.get_user("alice")
    assert user is not None
    listener = ident.issue_access_token(
        user, amr=["pwd", "otp"], auth_time=T0, device_id=None, audience=LISTENER_AUDIENCE, ttl=300
    )
    claims = ident.verify_access_token(listener, audience=LISTENER_AUDIENCE)
    assert (claims.aud, claims.exp, claims.device) == (LISTENER_AUDIENCE, T0 + 300, None)
    assert auth_error(ident.verify_access_token, listener).code == "token_invalid"


def test_a_listener_token_carries_the_access_tokens_identity_for_five_minutes(
    ident: Identity, alice: str, store: SQLiteStore, clock: FakeClock
) -> None:
    access = ident.verify_access_token(login(ident).access_token)
    token, ttl = ident.issue_listener_token(access)
    claims = ident.verify_access_token(token, audience=LISTENER_AUDIENCE)
    assert ttl == 300 and claims.exp == clock() + 300
    assert (claims.sub, claims.roles, claims.auth_time, claims.device) == (
        access.sub,
        access.roles,
        access.auth_time,
        access.device,
    )
    assert auth_error(ident.verify_access_token, token).code == "token_invalid"  # not for the API
    clock.advance(access.exp - clock() - 60)  # the access token has one minute left
    _, ttl = ident.issue_listener_token(access)
    assert ttl == 60
    store.set_user_disabled("alice", True)
    assert auth_error(ident.issue_listener_token, access).code == "user_disabled"


def test_token_of_a_disabled_user_is_refused(
    ident: Identity, alice: str, store: SQLiteStore
) -> None:
    token = login(ident).access_token
    store.set_user_disabled("alice", True)
    assert auth_error(ident.verify_access_token, token).code == "user_disabled"


# refresh and step-up


def test_refresh_rotates_and_a_rotated_token_is_refused(
    ident: Identity, alice: str, clock: FakeClock
) -> None:
    first = login(ident)
    clock.advance(700)
    second = ident.refresh(first.refresh_token, "dev-1")
    assert second.refresh_token != first.refresh_token
    claims = ident.verify_access_token(second.access_token)
    assert claims.auth_time == T0 and claims.iat == T0 + 700
    assert claims.amr == ("pwd", "otp") and claims.device == "dev-1"
    assert auth_error(ident.refresh, first.refresh_token, "dev-1").code == "token_revoked"
    ident.refresh(second.refresh_token, "dev-1")


def test_refresh_from_another_device_is_refused(ident: Identity, alice: str) -> None:
    pair = login(ident)
    assert auth_error(ident.refresh, pair.refresh_token, "dev-2").code == "device_mismatch"


def test_refresh_token_expires_with_the_session(
    ident: Identity, alice: str, clock: FakeClock
) -> None:
    pair = login(ident)
    clock.advance(43_000)
    pair = ident.refresh(pair.refresh_token, "dev-1")
    clock.advance(200)
    assert auth_error(ident.refresh, pair.refresh_token, "dev-1").code == "token_expired"


def test_a_role_removed_since_the_token_was_issued_is_gone_at_once(
    ident: Identity, alice: str, store: SQLiteStore
) -> None:
    token = login(ident).access_token
    assert ident.verify_access_token(token).roles == ("dev", "dba")
    store.set_user_roles("alice", ["dev", "auditor"])  # dba removed, auditor added
    claims = ident.verify_access_token(token)
    assert claims.roles == ("dev",)  # the new role waits for a new token
    assert claims.sub == "alice"


def test_refresh_refuses_unknown_tokens_and_disabled_users(
    ident: Identity, alice: str, store: SQLiteStore
) -> None:
    assert auth_error(ident.refresh, "made-up", "dev-1").code == "token_invalid"
    pair = login(ident)
    store.set_user_disabled("alice", True)
    assert auth_error(ident.refresh, pair.refresh_token, "dev-1").code == "user_disabled"


def test_stepup_gives_a_fresh_auth_time_that_refresh_keeps(
    ident: Identity, alice: str, clock: FakeClock
) -> None:
    pair = login(ident)
    clock.advance(120)
    token = ident.stepup("alice", code(ident, "alice"), device_id="dev-1")
    claims = ident.verify_access_token(token)
    assert claims.auth_time == claims.iat == T0 + 120
    assert ident.last_mfa("alice") == T0 + 120
    refreshed = ident.refresh(pair.refresh_token, "dev-1")
    assert ident.verify_access_token(refreshed.access_token).auth_time == T0 + 120
    assert auth_error(ident.stepup, "alice", code(ident, "alice")).code == "replayed_code"


def test_a_secret_sealed_for_another_user_does_not_open(
    ident: Identity, alice: str, store: SQLiteStore
) -> None:
    ident.add_user("bob", PASSWORD, [])
    bob = store.get_user("bob")
    assert bob is not None
    with closing(sqlite3.connect(store.path)) as raw, raw:
        raw.execute("UPDATE users SET totp_secret = ? WHERE name = 'alice'", (bob.totp_secret,))
    with pytest.raises(ValueError, match="does not decrypt"):
        ident.totp_secret("alice")


def test_prune_forgets_only_what_no_check_reads(
    ident: Identity, alice: str, store: SQLiteStore, clock: FakeClock
) -> None:
    day = 86400.0
    now = clock()
    for ts in (now - 3 * day, now - 2 * day):
        store.record_mfa_event("alice", "login", ts)
        store.record_mfa_event("bob", "login", ts)
        store.record_auth_failure("alice", ts)
    store.record_mfa_event("alice", "stepup", now - 60)
    store.record_auth_failure("alice", now - 60)
    for name, expires in (("old", now - 2 * day), ("live", now + day)):
        store.add_refresh_token(RefreshToken(name, "alice", "d", now - 3 * day, expires))
    assert ident.prune() == 2 + (2 + 1) + 1  # failures, MFA events (alice, bob), a token
    assert store.last_mfa_event("alice") == now - 60
    assert store.last_mfa_event("bob") == now - 2 * day  # a user's latest event stays
    assert store.auth_failures_since("alice", 0) == 1
    assert store.get_refresh_token("old") is None and store.get_refresh_token("live") is not None
    assert ident.prune() == 0
