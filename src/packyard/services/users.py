"""Users and password authentication (argon2), with a short cache of verified logins."""

from __future__ import annotations

import functools
import hashlib
import threading
import time
from collections.abc import Callable, Sequence

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
) -> User:
    if len(password) < 8:
        raise InvalidInput("The password must have at least 8 characters")
    user = User(
        name=validate_user_name(name),
        password_hash=_hasher.hash(password),
        is_admin=admin,
        created=clock.now(),
    )
    with uow_factory() as uow:
        uow.users.add(user)
        uow.events.append(Event(action="user_added", actor=actor, data={"user": name}))
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


class Authenticator:
    """Checks passwords; a verified login is remembered briefly because argon2 is slow on
    purpose and clients send credentials with every request."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        ttl: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow_factory = uow_factory
        self._ttl = ttl
        self._monotonic = monotonic
        self._verified: dict[tuple[str, str], tuple[float, User]] = {}
        self._lock = threading.Lock()

    def authenticate(self, name: str, password: str) -> User | None:
        key = (name, hashlib.sha256(password.encode()).hexdigest())
        now = self._monotonic()
        with self._lock:
            hit = self._verified.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self._uow_factory(readonly=True) as uow:
            user = uow.users.get(name)
        if user is None or user.disabled:
            # Spend the same time as a real check so names cannot be probed by timing.
            _verify(_dummy_hash(), password)
            return None
        if not _verify(user.password_hash, password):
            return None
        with self._lock:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[key] = (now + self._ttl, user)
        return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    return _hasher.hash("packyard-timing-equaliser")
