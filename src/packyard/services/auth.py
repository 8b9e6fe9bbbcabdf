"""Turning credentials into a principal: passwords, `__token__` tokens, failed-login limits.

Every call reads the user (and token) afresh, so a disabled or deleted user, or a revoked
token, stops working at the next request; only the slow part, argon2's verification of a
password, is remembered briefly, keyed by the stored hash so a password change ends it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from packyard.domain.access import Principal, token_usable
from packyard.domain.errors import RateLimited, Unauthorized
from packyard.domain.models import Event, Token, User
from packyard.ports import Clock, UnitOfWorkFactory
from packyard.services.users import dummy_hash, verify_password

TOKEN_USER = "__token__"
TOKEN_PREFIX = "pky_"


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ThrottleSettings:
    max_failures: int = 10
    window_seconds: float = 300.0


class LoginThrottle:
    """Failed logins per user name and per address in a sliding window; past the limit,
    further attempts are refused (429) until the oldest failure leaves the window."""

    def __init__(
        self, settings: ThrottleSettings, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._settings = settings
        self._monotonic = monotonic
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, *keys: str) -> None:
        now = self._monotonic()
        with self._lock:
            for key in keys:
                recent = self._recent(key, now)
                if len(recent) >= self._settings.max_failures:
                    retry = int(recent[0] + self._settings.window_seconds - now) + 1
                    raise RateLimited(
                        "Too many failed logins; try again later", retry_after=max(retry, 1)
                    )

    def fail(self, *keys: str) -> None:
        now = self._monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
            if len(self._failures) > 100_000:  # bounded memory under a spray of names
                self._failures.clear()

    def _recent(self, key: str, now: float) -> deque[float]:
        recent = self._failures.setdefault(key, deque())
        while recent and recent[0] <= now - self._settings.window_seconds:
            recent.popleft()
        return recent


class Authenticator:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        throttle: LoginThrottle | None = None,
        password_ttl: float = 60.0,
        flush_every: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._throttle = throttle or LoginThrottle(ThrottleSettings())
        self._password_ttl = password_ttl
        self._flush_every = flush_every
        self._monotonic = monotonic
        self._verified: dict[tuple[str, str, str], float] = {}
        self._used: dict[str, datetime] = {}
        self._last_flush = monotonic()
        self._lock = threading.Lock()

    def principal(self, name: str, secret: str, *, address: str | None = None) -> Principal:
        """The principal for basic-auth credentials; Unauthorized when they are wrong."""
        # Every token shares the user name __token__: counting failures under it would
        # let one client with a bad token lock out every CI job that uses a good one.
        by_name = () if name == TOKEN_USER else (f"user:{name}",)
        keys = (*by_name, *((f"address:{address}",) if address else ()))
        self._throttle.check(*keys)
        user, token, teams = self._load(name, secret)
        now = self._clock.now()
        if name == TOKEN_USER:
            valid = token is not None and token_usable(token, user, now)
        else:
            valid = self._password_ok(name, secret, user)
        if not valid or user is None:
            self._throttle.fail(*keys)
            self._record_failure(name, address)
            raise Unauthorized(
                "Invalid credentials: wrong user name or password, or a token that is "
                "unknown, revoked or expired"
            )
        if token is not None:
            self._note_use(token.id, now)
        return Principal(user=user, token=token, teams=teams)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user for a name and password, or None (no throttling, no audit)."""
        user, _, _ = self._load(name, password)
        return user if self._password_ok(name, password, user) else None

    def _load(self, name: str, secret: str) -> tuple[User | None, Token | None, frozenset[str]]:
        with self._uow(readonly=True) as uow:
            token = None
            if name == TOKEN_USER:
                token = uow.tokens.by_digest(token_digest(secret))
                user = uow.users.get(token.user) if token else None
            else:
                user = uow.users.get(name)
            teams = uow.teams.teams_of(user.name) if user else frozenset()
        return user, token, teams

    def _password_ok(self, name: str, password: str, user: User | None) -> bool:
        if user is None or user.disabled:
            verify_password(dummy_hash(), password)
            return False
        key = (name, hashlib.sha256(password.encode()).hexdigest(), user.password_hash)
        now = self._monotonic()
        with self._lock:
            expiry = self._verified.get(key)
        if expiry is not None and expiry > now:
            return True
        if not verify_password(user.password_hash, password):
            return False
        with self._lock:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[key] = now + self._password_ttl
        return True

    def _record_failure(self, name: str, address: str | None) -> None:
        # The attempted name is recorded, never the secret.
        shown = name if len(name) <= 100 else name[:100] + "..."
        with self._uow() as uow:
            uow.events.append(
                Event(
                    action="login_failed",
                    actor=shown,
                    address=address,
                    data={"kind": "token" if name == TOKEN_USER else "password"},
                )
            )
            uow.commit()

    def _note_use(self, token_id: str, now: datetime) -> None:
        """Last-use times are written in batches, off the per-request budget."""
        with self._lock:
            self._used[token_id] = now
            due = self._monotonic() - self._last_flush >= self._flush_every
        if due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            used, self._used = self._used, {}
            self._last_flush = self._monotonic()
        if used:
            with self._uow() as uow:
                uow.tokens.record_use(used)
                uow.commit()
