"""Users: adding them (argon2 hashes) and checking their passwords, with a short cache."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from fakes import FakeUnitOfWorkFactory
from packyard.domain.errors import Conflict, InvalidInput, NotFound
from packyard.domain.models import User
from packyard.services import users
from packyard.services.users import Authenticator, add_user, get_user, list_users

pytestmark = pytest.mark.unit

NOW = datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)
PASSWORD = "correct horse battery"


class FixedClock:
    def now(self) -> datetime:
        return NOW


class Ticker:
    """An injectable monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


@pytest.fixture(autouse=True)
def cheap_argon2(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 is slow on purpose; most tests need only its behaviour, not its cost.

    test_production_hash_parameters_are_strong checks the real parameters."""
    if request.node.name != "test_production_hash_parameters_are_strong":
        cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        monkeypatch.setattr(users, "_hasher", cheap)


def add(uow: FakeUnitOfWorkFactory, name: str = "alice", password: str = PASSWORD) -> User:
    return add_user(
        uow_factory=uow, clock=FixedClock(), name=name, password=password, admin=False, actor="root"
    )


def disable(uow: FakeUnitOfWorkFactory, name: str) -> None:
    with uow() as unit:
        user = unit.users.get(name)
        assert user is not None
        unit.users.update(dataclasses.replace(user, disabled=True))
        unit.commit()


def test_added_user_is_stored_with_an_argon2_hash_of_the_password(
    uow: FakeUnitOfWorkFactory,
) -> None:
    add(uow)

    stored = get_user(uow_factory=uow, name="alice")
    assert stored.password_hash != PASSWORD
    assert PASSWORD not in stored.password_hash
    assert stored.password_hash.startswith("$argon2")
    assert PasswordHasher().verify(stored.password_hash, PASSWORD)
    assert stored.created == NOW
    assert not stored.is_admin
    assert [(e.action, e.actor) for e in uow.db.events] == [("user_added", "root")]


def test_production_hash_parameters_are_strong(uow: FakeUnitOfWorkFactory) -> None:
    stored = add(uow)

    parameters = extract_parameters(stored.password_hash)
    assert parameters.type is Type.ID
    # OWASP's floor for argon2id: 19 MiB of memory and 2 passes (or more memory, 1 pass).
    assert parameters.memory_cost >= 19 * 1024
    assert parameters.time_cost >= 2 or parameters.memory_cost >= 46 * 1024
    assert Authenticator(uow).authenticate("alice", PASSWORD) is not None


def test_same_password_gets_a_different_salted_hash(uow: FakeUnitOfWorkFactory) -> None:
    assert add(uow, "alice").password_hash != add(uow, "bob").password_hash


def test_admin_flag_is_stored(uow: FakeUnitOfWorkFactory) -> None:
    add_user(
        uow_factory=uow, clock=FixedClock(), name="root", password=PASSWORD, admin=True, actor="x"
    )

    assert get_user(uow_factory=uow, name="root").is_admin


@pytest.mark.parametrize("password", ["", "short", "7chars!"])
def test_short_password_is_refused(uow: FakeUnitOfWorkFactory, password: str) -> None:
    with pytest.raises(InvalidInput, match="at least 8 characters"):
        add(uow, password=password)

    assert list_users(uow_factory=uow) == []


def test_eight_character_password_is_enough(uow: FakeUnitOfWorkFactory) -> None:
    add(uow, password="8chars!!")

    assert [u.name for u in list_users(uow_factory=uow)] == ["alice"]


@pytest.mark.parametrize("name", ["__token__", "cli:alice", "cli:"])
def test_reserved_user_names_are_refused(uow: FakeUnitOfWorkFactory, name: str) -> None:
    with pytest.raises(InvalidInput):
        add(uow, name=name)

    assert list_users(uow_factory=uow) == []


@pytest.mark.parametrize("name", ["", "a:b", "x" * 101, "tab\there", "new\nline"])
def test_invalid_user_names_are_refused(uow: FakeUnitOfWorkFactory, name: str) -> None:
    with pytest.raises(InvalidInput, match="not a valid user name"):
        add(uow, name=name)

    assert list_users(uow_factory=uow) == []


def test_duplicate_user_is_a_conflict(uow: FakeUnitOfWorkFactory) -> None:
    first = add(uow)

    with pytest.raises(Conflict):
        add(uow, password="another password")

    assert get_user(uow_factory=uow, name="alice").password_hash == first.password_hash
    assert len(uow.db.events) == 1


def test_unknown_user_is_not_found(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(NotFound, match="nobody"):
        get_user(uow_factory=uow, name="nobody")


def test_right_password_authenticates(uow: FakeUnitOfWorkFactory) -> None:
    add(uow)

    user = Authenticator(uow).authenticate("alice", PASSWORD)

    assert user is not None
    assert user.name == "alice"


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
def test_wrong_password_or_unknown_user_is_refused(
    uow: FakeUnitOfWorkFactory, name: str, password: str
) -> None:
    add(uow)

    assert Authenticator(uow).authenticate(name, password) is None


def test_disabled_user_is_refused(uow: FakeUnitOfWorkFactory) -> None:
    add(uow)
    disable(uow, "alice")

    assert Authenticator(uow).authenticate("alice", PASSWORD) is None


def test_corrupt_stored_hash_is_refused_not_raised(uow: FakeUnitOfWorkFactory) -> None:
    with uow() as unit:
        unit.users.add(User(name="alice", password_hash="not-a-hash", created=NOW))
        unit.commit()

    assert Authenticator(uow).authenticate("alice", PASSWORD) is None


def test_verified_login_is_cached_until_the_ttl_expires(uow: FakeUnitOfWorkFactory) -> None:
    add(uow)
    ticker = Ticker()
    auth = Authenticator(uow, ttl=60.0, monotonic=ticker)

    assert auth.authenticate("alice", PASSWORD) is not None
    opened = len(uow.created)

    ticker.value += 59.0
    assert auth.authenticate("alice", PASSWORD) is not None
    assert len(uow.created) == opened  # answered from the cache

    ticker.value += 2.0
    assert auth.authenticate("alice", PASSWORD) is not None
    assert len(uow.created) == opened + 1  # expired: checked against the store again


def test_cache_does_not_admit_a_wrong_password(uow: FakeUnitOfWorkFactory) -> None:
    add(uow)
    auth = Authenticator(uow, monotonic=Ticker())
    auth.authenticate("alice", PASSWORD)

    assert auth.authenticate("alice", "wrong password") is None


def test_failed_logins_are_not_cached(uow: FakeUnitOfWorkFactory) -> None:
    add(uow)
    auth = Authenticator(uow, monotonic=Ticker())
    auth.authenticate("alice", "wrong password")
    opened = len(uow.created)

    assert auth.authenticate("alice", "wrong password") is None
    assert len(uow.created) == opened + 1


def test_disabling_a_user_takes_effect_once_the_cache_expires(
    uow: FakeUnitOfWorkFactory,
) -> None:
    add(uow)
    ticker = Ticker()
    auth = Authenticator(uow, ttl=60.0, monotonic=ticker)
    auth.authenticate("alice", PASSWORD)
    disable(uow, "alice")

    ticker.value += 61.0

    assert auth.authenticate("alice", PASSWORD) is None
