"""Users: adding, listing, passwords (argon2)."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from packyard.domain.errors import InvalidInput, NotFound
from packyard.domain.models import Event, User
from packyard.ports import Clock, UnitOfWorkFactory

_hasher = PasswordHasher()
_USER_NAME_MAX = 100


def validate_user_name(name: str) -> str:
    if name == "__token__" or name.startswith("cli:"):
        raise InvalidInput(f"{name!r} is reserved")
    if not name or len(name) > _USER_NAME_MAX or not name.isprintable() or ":" in name:
        raise InvalidInput(
            f"{name!r} is not a valid user name: 1 to 100 printable characters, no ':'"
        )
    return name


def add_user(
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    name: str,
    password: str,
    admin: bool,
    actor: str,
    address: str | None = None,
) -> User:
    user = User(
        name=validate_user_name(name),
        password_hash=hash_password(password),
        is_admin=admin,
        created=clock.now(),
    )
    with uow_factory() as uow:
        uow.users.add(user)
        uow.events.append(
            Event(action="user_added", actor=actor, data={"user": name}, address=address)
        )
        uow.commit()
    return user


def list_users(*, uow_factory: UnitOfWorkFactory) -> Sequence[User]:
    with uow_factory(readonly=True) as uow:
        return uow.users.list()


def get_user(*, uow_factory: UnitOfWorkFactory, name: str) -> User:
    with uow_factory(readonly=True) as uow:
        user = uow.users.get(name)
    if user is None:
        raise NotFound(f"There is no user named {name!r}")
    return user


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """Verified against when a user does not exist, so names cannot be probed by timing."""
    return _hasher.hash("packyard-timing-equaliser")


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise InvalidInput("The password must have at least 8 characters")
    return _hasher.hash(password)
