"""Authenticator: passwords and `__token__` tokens to principals, the short password cache,
failed-login throttling and batched last-use times."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from fakes import FakeUnitOfWorkFactory
from packyard.domain.errors import RateLimited, Unauthorized
from packyard.domain.models import Index, IndexKind, Scope, Team, Token
from packyard.services import auth, users
from packyard.services.accounts import delete_user, set_disabled, set_password
from packyard.services.auth import (
    TOKEN_USER,
    Authenticator,
    LoginThrottle,
    ThrottleSettings,
    token_digest,
)
from packyard.services.tokens import create_token, revoke_token
from packyard.services.users import add_user

pytestmark = pytest.mark.unit

T0 = datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)
PASSWORD = "correct horse battery"
NEW_PASSWORD = "tr0ub4dor&3 again"
MAX_FAILURES = 3
WINDOW = 60.0


class Clock:
    def __init__(self) -> None:
        self.current = T0

    def now(self) -> datetime:
        return self.current


class Ticker:
    """An injectable monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


class World:
    def __init__(self) -> None:
        self.uow = FakeUnitOfWorkFactory()
        self.clock = Clock()
        self.ticker = Ticker()
        with self.uow() as unit:
            unit.indexes.add(Index("main", IndexKind.HOSTED))
            unit.commit()
        for name in ("alice", "bob"):
            add_user(
                uow_factory=self.uow,
                clock=self.clock,
                name=name,
                password=PASSWORD,
                admin=False,
                actor="root",
            )
        with self.uow() as unit:
            unit.teams.add(Team("devs", members=("alice",)))
            unit.commit()
        self.auth = self.authenticator()

    def authenticator(self, *, password_ttl: float = 60.0) -> Authenticator:
        throttle = LoginThrottle(
            ThrottleSettings(max_failures=MAX_FAILURES, window_seconds=WINDOW),
            monotonic=self.ticker,
        )
        return Authenticator(
            self.uow,
            self.clock,
            throttle=throttle,
            password_ttl=password_ttl,
            flush_every=30.0,
            monotonic=self.ticker,
        )

    def token(self, user: str = "alice", **options: object) -> tuple[Token, str]:
        return create_token(
            uow_factory=self.uow,
            clock=self.clock,
            user=user,
            actor="root",
            **options,  # type: ignore[arg-type]
        )

    def events(self, action: str) -> list[dict[str, object]]:
        return [
            {"actor": e.actor, "address": e.address, "data": e.data}
            for e in self.uow.db.events
            if e.action == action
        ]

    def writes(self) -> int:
        return sum(1 for unit in self.uow.created if not unit.readonly)

    def stored(self, token_id: str) -> Token:
        return self.uow.db.tokens[token_id]


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 is slow on purpose; these tests need only its behaviour, not its cost."""
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each argon2 verification the authenticator makes (the slow part)."""
    calls: list[str] = []
    real = users.verify_password

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(auth, "verify_password", counting)
    return calls


# Passwords


def test_password_login_gives_the_user_with_their_teams(world: World) -> None:
    who = world.auth.principal("alice", PASSWORD, address="10.0.0.1")

    assert who.user is not None
    assert who.user.name == "alice"
    assert who.token is None
    assert who.teams == frozenset({"devs"})
    assert world.events("login_failed") == []


def test_authenticate_returns_the_user_for_the_right_password_only(world: World) -> None:
    found = world.auth.authenticate("alice", PASSWORD)

    assert found is not None
    assert found.name == "alice"
    assert world.auth.authenticate("alice", "wrong password") is None
    assert world.auth.authenticate("nobody", PASSWORD) is None
    assert world.events("login_failed") == []  # no audit, no throttling


@pytest.mark.parametrize(
    ("name", "password"),
    [
        ("alice", "wrong password"),
        ("alice", ""),
        ("alice", PASSWORD.upper()),
        ("Alice", PASSWORD),
        ("nobody", PASSWORD),
    ],
)
def test_wrong_password_or_unknown_user_is_unauthorized_and_recorded_without_the_secret(
    world: World, name: str, password: str
) -> None:
    with pytest.raises(Unauthorized, match="Invalid credentials") as caught:
        world.auth.principal(name, password, address="203.0.113.7")

    [failure] = world.events("login_failed")
    assert failure == {"actor": name, "address": "203.0.113.7", "data": {"kind": "password"}}
    if password:
        assert password not in str(caught.value)
        assert password not in repr(world.uow.db.events)


def test_unknown_user_and_wrong_password_give_the_same_message(world: World) -> None:
    with pytest.raises(Unauthorized) as unknown:
        world.auth.principal("nobody", PASSWORD)
    with pytest.raises(Unauthorized) as wrong:
        world.auth.principal("alice", "wrong password")

    assert str(unknown.value) == str(wrong.value)


def test_unknown_user_costs_one_argon2_verification_like_a_known_one(
    world: World, verifications: list[str]
) -> None:
    with pytest.raises(Unauthorized):
        world.auth.principal("nobody", PASSWORD)

    assert verifications == [users.dummy_hash()]


def test_very_long_attempted_name_is_shortened_in_the_audit_log(world: World) -> None:
    with pytest.raises(Unauthorized):
        world.auth.principal("x" * 5000, PASSWORD)

    [failure] = world.events("login_failed")
    assert failure["actor"] == "x" * 100 + "..."


def test_verified_password_is_cached_until_the_ttl_expires(
    world: World, verifications: list[str]
) -> None:
    world.auth.principal("alice", PASSWORD)
    world.ticker.value += 59.0
    world.auth.principal("alice", PASSWORD)

    assert len(verifications) == 1

    world.ticker.value += 2.0
    world.auth.principal("alice", PASSWORD)

    assert len(verifications) == 2


def test_cache_does_not_admit_a_wrong_password(world: World) -> None:
    world.auth.principal("alice", PASSWORD)

    with pytest.raises(Unauthorized):
        world.auth.principal("alice", "wrong password")


def test_cache_of_one_user_does_not_admit_another(world: World) -> None:
    world.auth.principal("alice", PASSWORD)
    with world.uow() as unit:
        bob = unit.users.get("bob")
        assert bob is not None
        unit.users.update(dataclasses.replace(bob, password_hash="not-a-hash"))
        unit.commit()

    with pytest.raises(Unauthorized):
        world.auth.principal("bob", PASSWORD)


def test_failed_logins_are_not_cached(world: World, verifications: list[str]) -> None:
    for _ in range(2):
        with pytest.raises(Unauthorized):
            world.auth.principal("alice", "wrong password")

    assert len(verifications) == 2


def test_disabled_user_is_refused_at_once_even_right_after_a_cached_login(
    world: World,
) -> None:
    world.auth.principal("alice", PASSWORD)

    set_disabled(uow_factory=world.uow, name="alice", disabled=True, actor="root")

    with pytest.raises(Unauthorized):
        world.auth.principal("alice", PASSWORD)
    assert world.auth.authenticate("alice", PASSWORD) is None


def test_enabled_again_user_may_log_in(world: World) -> None:
    set_disabled(uow_factory=world.uow, name="alice", disabled=True, actor="root")
    set_disabled(uow_factory=world.uow, name="alice", disabled=False, actor="root")

    assert world.auth.principal("alice", PASSWORD).name == "alice"


def test_deleted_user_is_refused_at_once_after_a_cached_login(world: World) -> None:
    world.auth.principal("alice", PASSWORD)

    delete_user(uow_factory=world.uow, name="alice", actor="root")

    with pytest.raises(Unauthorized):
        world.auth.principal("alice", PASSWORD)


def test_password_change_ends_the_cached_login(world: World) -> None:
    world.auth.principal("alice", PASSWORD)

    set_password(uow_factory=world.uow, name="alice", password=NEW_PASSWORD, actor="alice")

    with pytest.raises(Unauthorized):
        world.auth.principal("alice", PASSWORD)
    assert world.auth.principal("alice", NEW_PASSWORD).name == "alice"


def test_team_membership_is_read_at_each_login(world: World, verifications: list[str]) -> None:
    world.auth.principal("alice", PASSWORD)
    with world.uow() as unit:
        unit.teams.remove_member("devs", "alice")
        unit.commit()

    assert world.auth.principal("alice", PASSWORD).teams == frozenset()
    assert len(verifications) == 1


# Tokens


def test_valid_token_gives_its_user_with_the_token_and_teams(world: World) -> None:
    token, secret = world.token(scopes=[Scope.READ])

    who = world.auth.principal(TOKEN_USER, secret, address="10.0.0.1")

    assert who.user is not None
    assert who.user.name == "alice"
    assert who.token == token
    assert who.teams == frozenset({"devs"})
    assert who.audit_name == f"alice (token {token.id})"


def test_token_login_needs_no_argon2(world: World, verifications: list[str]) -> None:
    _, secret = world.token()

    world.auth.principal(TOKEN_USER, secret)

    assert verifications == []


def refuse_revoked(world: World, token: Token, secret: str) -> None:
    revoke_token(uow_factory=world.uow, token=token.id, actor="root")


def refuse_expired(world: World, token: Token, secret: str) -> None:
    world.clock.current = T0 + timedelta(days=1, seconds=1)


def refuse_disabled_user(world: World, token: Token, secret: str) -> None:
    set_disabled(uow_factory=world.uow, name="alice", disabled=True, actor="root")


def refuse_deleted_user(world: World, token: Token, secret: str) -> None:
    delete_user(uow_factory=world.uow, name="alice", actor="root")


def refuse_user_row_gone(world: World, token: Token, secret: str) -> None:
    # A store that kept the token row but lost its user: still refused.
    del world.uow.db.users["alice"]


@pytest.mark.parametrize(
    "spoil",
    [
        refuse_revoked,
        refuse_expired,
        refuse_disabled_user,
        refuse_deleted_user,
        refuse_user_row_gone,
    ],
    ids=["revoked", "expired", "disabled-user", "deleted-user", "user-row-gone"],
)
def test_token_stops_working_at_once(
    world: World, spoil: Callable[[World, Token, str], None]
) -> None:
    token, secret = world.token(expires=timedelta(days=1))
    assert world.auth.principal(TOKEN_USER, secret).token == token

    spoil(world, token, secret)

    with pytest.raises(Unauthorized):
        world.auth.principal(TOKEN_USER, secret, address="10.0.0.9")
    [failure] = world.events("login_failed")
    assert failure == {"actor": TOKEN_USER, "address": "10.0.0.9", "data": {"kind": "token"}}
    assert secret not in repr(world.uow.db.events)


@pytest.mark.parametrize(
    "secret",
    ["pky_unknown", "", "not-a-token", PASSWORD],
    ids=["unknown", "empty", "no-prefix", "a-password"],
)
def test_unknown_token_is_refused(world: World, secret: str) -> None:
    world.token()

    with pytest.raises(Unauthorized):
        world.auth.principal(TOKEN_USER, secret)


def test_token_of_one_user_is_not_accepted_as_that_users_password(world: World) -> None:
    _, secret = world.token()

    with pytest.raises(Unauthorized):
        world.auth.principal("alice", secret)


# Throttling


def fail(world: World, name: str = "alice", *, address: str | None = "10.0.0.1") -> None:
    with pytest.raises(Unauthorized):
        world.auth.principal(name, "wrong password", address=address)


def test_after_max_failures_for_a_user_even_the_right_password_is_rate_limited(
    world: World,
) -> None:
    for _ in range(MAX_FAILURES):
        fail(world)

    with pytest.raises(RateLimited) as caught:
        world.auth.principal("alice", PASSWORD, address="10.0.0.2")

    assert 0 < caught.value.retry_after <= WINDOW + 1
    assert "Too many failed logins" in str(caught.value)


def test_fewer_failures_than_the_limit_do_not_block(world: World) -> None:
    for _ in range(MAX_FAILURES - 1):
        fail(world)

    assert world.auth.principal("alice", PASSWORD, address="10.0.0.1").name == "alice"


def test_per_user_limit_does_not_block_other_users(world: World) -> None:
    for n in range(MAX_FAILURES):
        fail(world, address=f"10.0.0.{n}")

    assert world.auth.principal("bob", PASSWORD, address="10.0.1.1").name == "bob"


def test_after_max_failures_from_an_address_every_user_from_it_is_rate_limited(
    world: World,
) -> None:
    for name in ("nobody", "someone", "anyone"):
        fail(world, name, address="198.51.100.1")

    with pytest.raises(RateLimited) as caught:
        world.auth.principal("bob", PASSWORD, address="198.51.100.1")

    assert caught.value.retry_after > 0
    assert world.auth.principal("bob", PASSWORD, address="198.51.100.2").name == "bob"


def test_rate_limit_clears_when_the_window_passes(world: World) -> None:
    for _ in range(MAX_FAILURES):
        fail(world)
    with pytest.raises(RateLimited) as caught:
        world.auth.principal("alice", PASSWORD)

    world.ticker.value += WINDOW - 1
    with pytest.raises(RateLimited):
        world.auth.principal("alice", PASSWORD)

    world.ticker.value += caught.value.retry_after - (WINDOW - 1)
    assert world.auth.principal("alice", PASSWORD).name == "alice"


def test_retry_after_counts_down_to_when_the_oldest_failure_leaves_the_window(
    world: World,
) -> None:
    fail(world)
    world.ticker.value += 20
    for _ in range(MAX_FAILURES - 1):
        fail(world)

    with pytest.raises(RateLimited) as caught:
        world.auth.principal("alice", PASSWORD)

    assert caught.value.retry_after == pytest.approx(WINDOW - 20, abs=1)


def test_rate_limited_attempts_are_not_counted_as_more_failures(world: World) -> None:
    for _ in range(MAX_FAILURES):
        fail(world)
    for _ in range(5):
        with pytest.raises(RateLimited):
            world.auth.principal("alice", "wrong password")

    assert len(world.events("login_failed")) == MAX_FAILURES
    world.ticker.value += WINDOW
    assert world.auth.principal("alice", PASSWORD).name == "alice"


def test_successful_logins_do_not_count_towards_the_limit(world: World) -> None:
    for _ in range(MAX_FAILURES * 3):
        world.auth.principal("alice", PASSWORD, address="10.0.0.1")

    fail(world)
    assert world.auth.principal("alice", PASSWORD, address="10.0.0.1").name == "alice"


def test_bad_tokens_from_one_address_do_not_lock_out_tokens_used_elsewhere(
    world: World,
) -> None:
    """Per user and per address: for `__token__` the "user" is every token holder, so a
    spray of bad tokens from one address must not refuse everyone's valid tokens."""
    _, secret = world.token()
    for n in range(MAX_FAILURES):
        with pytest.raises(Unauthorized):
            world.auth.principal(TOKEN_USER, f"pky_guess{n}", address="192.0.2.66")

    with pytest.raises(RateLimited):
        world.auth.principal(TOKEN_USER, secret, address="192.0.2.66")
    assert world.auth.principal(TOKEN_USER, secret, address="10.0.0.1").name == "alice"


def test_throttle_keys_are_independent() -> None:
    ticker = Ticker()
    throttle = LoginThrottle(ThrottleSettings(max_failures=2, window_seconds=10), monotonic=ticker)

    throttle.fail("user:alice", "address:a")
    throttle.fail("user:alice", "address:b")

    with pytest.raises(RateLimited):
        throttle.check("user:alice")
    throttle.check("address:a")
    throttle.check("address:b")
    throttle.check("user:bob", "address:c")


def test_default_throttle_allows_ten_failures_in_five_minutes() -> None:
    assert ThrottleSettings() == ThrottleSettings(max_failures=10, window_seconds=300.0)


# Last use of tokens, batched


def test_token_use_is_not_written_until_the_interval_passes(world: World) -> None:
    token, secret = world.token()
    writes = world.writes()

    for _ in range(5):
        world.auth.principal(TOKEN_USER, secret)
    world.ticker.value += 29.0
    world.auth.principal(TOKEN_USER, secret)

    assert world.writes() == writes
    assert world.stored(token.id).last_used is None

    world.clock.current = T0 + timedelta(minutes=1)
    world.ticker.value += 1.0
    world.auth.principal(TOKEN_USER, secret)

    assert world.writes() == writes + 1
    assert world.stored(token.id).last_used == T0 + timedelta(minutes=1)


def test_flush_writes_the_last_use_of_every_token_used_since_in_one_write(
    world: World,
) -> None:
    first, first_secret = world.token()
    second, second_secret = world.token("bob")
    unused, _ = world.token()
    world.auth.principal(TOKEN_USER, first_secret)
    world.clock.current = T0 + timedelta(seconds=5)
    world.auth.principal(TOKEN_USER, second_secret)
    world.clock.current = T0 + timedelta(seconds=9)
    world.auth.principal(TOKEN_USER, first_secret)
    writes = world.writes()

    world.auth.flush()

    assert world.writes() == writes + 1
    assert world.stored(first.id).last_used == T0 + timedelta(seconds=9)
    assert world.stored(second.id).last_used == T0 + timedelta(seconds=5)
    assert world.stored(unused.id).last_used is None


def test_flush_with_nothing_used_writes_nothing(world: World) -> None:
    writes = world.writes()

    world.auth.flush()
    world.auth.principal("alice", PASSWORD)
    world.auth.flush()

    assert world.writes() == writes


def test_flush_after_the_token_was_revoked_is_harmless(world: World) -> None:
    token, secret = world.token()
    world.auth.principal(TOKEN_USER, secret)
    revoke_token(uow_factory=world.uow, token=secret, actor="alice")

    world.auth.flush()

    assert token.id not in world.uow.db.tokens


def test_token_digest_is_the_sha256_hex_of_the_whole_secret() -> None:
    assert token_digest("pky_abc") == hashlib.sha256(b"pky_abc").hexdigest()
    assert token_digest("pky_abc") != token_digest("pky_abd")
