"""Users: adding them with argon2 hashes, listing them, verifying passwords.

Logging in (caching, throttling, tokens) is services.auth: see test_auth.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher, Type, extract_parameters

from fakes import FakeUnitOfWorkFactory
from packyard.domain.errors import Conflict, InvalidInput, NotFound
from packyard.domain.models import User
from packyard.services import users
from packyard.services.users import (
    add_user,
    dummy_hash,
    get_user,
    hash_password,
    list_users,
    validate_user_name,
    verify_password,
)

pytestmark = pytest.mark.unit

NOW = datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)
PASSWORD = "correct horse battery"


class FixedClock:
    def now(self) -> datetime:
        return NOW


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
    assert verify_password(stored.password_hash, PASSWORD)


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


def test_user_list_is_sorted_by_name(uow: FakeUnitOfWorkFactory) -> None:
    for name in ("carol", "alice", "bob"):
        add(uow, name)

    assert [u.name for u in list_users(uow_factory=uow)] == ["alice", "bob", "carol"]


@pytest.mark.parametrize("name", ["alice", "Alice.Smith", "a", "x" * 100, "bob@example.com"])
def test_valid_user_names_are_returned_unchanged(name: str) -> None:
    assert validate_user_name(name) == name


@pytest.mark.parametrize(
    ("password", "candidate", "expected"),
    [
        (PASSWORD, PASSWORD, True),
        (PASSWORD, "wrong password", False),
        (PASSWORD, PASSWORD.upper(), False),
        (PASSWORD, "", False),
        (PASSWORD, PASSWORD + " ", False),
    ],
)
def test_verify_password_accepts_only_the_exact_password(
    password: str, candidate: str, expected: bool
) -> None:
    assert verify_password(hash_password(password), candidate) is expected


@pytest.mark.parametrize("stored", ["not-a-hash", "", "$argon2id$v=19$broken"])
def test_verify_password_against_a_corrupt_hash_is_false_not_an_error(stored: str) -> None:
    assert verify_password(stored, PASSWORD) is False


def test_dummy_hash_is_a_real_argon2_hash_that_no_user_password_matches() -> None:
    assert dummy_hash().startswith("$argon2")
    assert dummy_hash() is dummy_hash()  # computed once
    assert not verify_password(dummy_hash(), PASSWORD)
