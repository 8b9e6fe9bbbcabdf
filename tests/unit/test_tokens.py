"""API tokens: `pky_` secrets shown once, only their SHA-256 digest stored; listing and
revoking them by id or by the secret itself."""

from __future__ import annotations

import hashlib
import string
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from fakes import FakeUnitOfWorkFactory
from packyard.domain.errors import InvalidInput, InvalidName, NotFound
from packyard.domain.models import Index, IndexKind, Scope, Token, User
from packyard.services.tokens import (
    can_manage_token,
    create_token,
    list_tokens,
    revoke_token,
)

pytestmark = pytest.mark.unit

NOW = datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)
URLSAFE = set(string.ascii_letters + string.digits + "-_")


class FixedClock:
    def now(self) -> datetime:
        return NOW


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    factory = FakeUnitOfWorkFactory()
    with factory() as unit:
        unit.indexes.add(Index("main", IndexKind.HOSTED))
        unit.indexes.add(Index("team", IndexKind.HOSTED))
        unit.users.add(User("alice", "hash"))
        unit.users.add(User("bob", "hash"))
        unit.commit()
    return factory


def create(
    uow: FakeUnitOfWorkFactory,
    user: str = "alice",
    *,
    scopes: Sequence[Scope] | None = None,
    indexes: Sequence[str] = (),
    projects: Sequence[str] = (),
    expires: timedelta | None = None,
    description: str = "",
) -> tuple[Token, str]:
    options = {} if scopes is None else {"scopes": scopes}
    return create_token(
        uow_factory=uow,
        clock=FixedClock(),
        user=user,
        actor="root",
        indexes=indexes,
        projects=projects,
        expires=expires,
        description=description,
        address="10.1.2.3",
        **options,
    )


def stored(uow: FakeUnitOfWorkFactory) -> list[Token]:
    return list(uow.db.tokens.values())


# Creating


def test_secret_has_the_pky_prefix_and_at_least_256_bits_of_randomness(
    uow: FakeUnitOfWorkFactory,
) -> None:
    _, secret = create(uow)

    assert secret.startswith("pky_")
    body = secret.removeprefix("pky_")
    assert len(body) >= 43  # 32 random bytes in URL-safe base64
    assert set(body) <= URLSAFE


def test_secrets_and_ids_are_distinct_across_a_hundred_creations(
    uow: FakeUnitOfWorkFactory,
) -> None:
    created = [create(uow) for _ in range(100)]

    assert len({secret for _, secret in created}) == 100
    assert len({token.id for token, _ in created}) == 100
    assert len({secret[4:12] for _, secret in created}) > 95  # no shared stem
    assert len(stored(uow)) == 100


def test_only_the_sha256_digest_of_the_secret_is_stored(uow: FakeUnitOfWorkFactory) -> None:
    token, secret = create(uow)

    [kept] = stored(uow)
    assert kept.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert kept == token
    assert secret not in repr(uow.db)
    assert secret.removeprefix("pky_") not in repr(uow.db)


def test_shown_prefix_is_recognisable_but_too_short_to_use(uow: FakeUnitOfWorkFactory) -> None:
    token, secret = create(uow)

    assert token.prefix == secret[:10]
    assert token.prefix.startswith("pky_")
    assert len(secret) - len(token.prefix) >= 32  # 192 bits never shown


def test_defaults_are_read_and_upload_on_every_index_without_expiry(
    uow: FakeUnitOfWorkFactory,
) -> None:
    token, _ = create(uow)

    assert token.user == "alice"
    assert token.scopes == frozenset({Scope.READ, Scope.UPLOAD})
    assert token.indexes == ()
    assert token.projects == ()
    assert token.expires_at is None
    assert token.created == NOW
    assert token.last_used is None
    assert token.description == ""


def test_empty_scope_list_means_the_defaults(uow: FakeUnitOfWorkFactory) -> None:
    token, _ = create(uow, scopes=[])

    assert token.scopes == frozenset({Scope.READ, Scope.UPLOAD})


def test_given_scopes_indexes_projects_expiry_and_description_are_kept(
    uow: FakeUnitOfWorkFactory,
) -> None:
    token, _ = create(
        uow,
        scopes=[Scope.YANK, Scope.READ, Scope.YANK],
        indexes=["team", "main", "team"],
        projects=["My_Pkg", "my-pkg", "Other.Thing"],
        expires=timedelta(days=90),
        description="CI for my-pkg",
    )

    assert token.scopes == frozenset({Scope.YANK, Scope.READ})
    assert token.indexes == ("team", "main")
    assert token.projects == ("my-pkg", "other-thing")
    assert token.expires_at == NOW + timedelta(days=90)
    assert token.description == "CI for my-pkg"
    assert stored(uow) == [token]


def test_creation_is_audited_without_the_secret(uow: FakeUnitOfWorkFactory) -> None:
    token, secret = create(uow, scopes=[Scope.UPLOAD], indexes=["main"], projects=["demo"])

    [event] = [e for e in uow.db.events if e.action == "token_created"]
    assert event.actor == "root"
    assert event.address == "10.1.2.3"
    assert event.data == {
        "token": token.id,
        "user": "alice",
        "scopes": ["upload"],
        "indexes": ["main"],
        "projects": ["demo"],
    }
    assert secret not in repr(event)


@pytest.mark.parametrize(
    ("user", "indexes", "message"),
    [
        ("nobody", (), "There is no user named 'nobody'"),
        ("alice", ("main", "missing"), "There is no index named 'missing'"),
    ],
)
def test_unknown_user_or_index_is_not_found_and_nothing_is_stored(
    uow: FakeUnitOfWorkFactory, user: str, indexes: tuple[str, ...], message: str
) -> None:
    events = len(uow.db.events)

    with pytest.raises(NotFound, match=message):
        create(uow, user, indexes=indexes)

    assert stored(uow) == []
    assert len(uow.db.events) == events


@pytest.mark.parametrize(
    "expires", [timedelta(0), timedelta(seconds=-1), timedelta(days=-30)], ids=str
)
def test_zero_or_negative_expiry_is_refused(uow: FakeUnitOfWorkFactory, expires: timedelta) -> None:
    with pytest.raises(InvalidInput, match="positive duration"):
        create(uow, expires=expires)

    assert stored(uow) == []


@pytest.mark.parametrize("project", ["-bad", "has space", "", "ünïcode"])
def test_invalid_project_name_is_refused(uow: FakeUnitOfWorkFactory, project: str) -> None:
    with pytest.raises(InvalidName):
        create(uow, projects=[project])

    assert stored(uow) == []


# Listing


def test_list_never_contains_a_secret(uow: FakeUnitOfWorkFactory) -> None:
    secrets = [create(uow, user)[1] for user in ("alice", "bob", "alice")]

    listed = list_tokens(uow_factory=uow)

    assert len(listed) == 3
    text = repr(listed)
    for secret in secrets:
        assert secret not in text
        assert secret[10:] not in text


def test_list_filters_by_user_in_creation_order(uow: FakeUnitOfWorkFactory) -> None:
    first, _ = create(uow, "alice")
    create(uow, "bob")
    second, _ = create(uow, "alice")

    assert [t.id for t in list_tokens(uow_factory=uow, user="alice")] == [first.id, second.id]
    assert list_tokens(uow_factory=uow, user="carol") == []


# Revoking


def test_revoke_by_id_removes_the_token_and_is_audited(uow: FakeUnitOfWorkFactory) -> None:
    token, secret = create(uow)
    other, _ = create(uow, "bob")

    revoked = revoke_token(uow_factory=uow, token=token.id, actor="alice", address="10.9.9.9")

    assert revoked == token
    assert stored(uow) == [other]
    [event] = [e for e in uow.db.events if e.action == "token_revoked"]
    assert (event.actor, event.address) == ("alice", "10.9.9.9")
    assert event.data == {"token": token.id, "user": "alice"}
    assert secret not in repr(event)


def test_revoke_by_the_leaked_secret_finds_the_token(uow: FakeUnitOfWorkFactory) -> None:
    token, secret = create(uow)
    other, _ = create(uow)

    revoked = revoke_token(uow_factory=uow, token=secret, actor="security")

    assert revoked.id == token.id
    assert stored(uow) == [other]
    [event] = [e for e in uow.db.events if e.action == "token_revoked"]
    assert secret not in repr(event)


@pytest.mark.parametrize("given", ["0123456789abcdef", "pky_not-a-real-secret", ""])
def test_revoking_an_unknown_token_is_not_found(uow: FakeUnitOfWorkFactory, given: str) -> None:
    create(uow)

    with pytest.raises(NotFound, match="No such token"):
        revoke_token(uow_factory=uow, token=given, actor="root")

    assert len(stored(uow)) == 1


def test_revoking_twice_is_not_found_the_second_time(uow: FakeUnitOfWorkFactory) -> None:
    token, _ = create(uow)
    revoke_token(uow_factory=uow, token=token.id, actor="root")

    with pytest.raises(NotFound):
        revoke_token(uow_factory=uow, token=token.id, actor="root")


def test_the_shown_prefix_does_not_revoke(uow: FakeUnitOfWorkFactory) -> None:
    token, _ = create(uow)

    with pytest.raises(NotFound):
        revoke_token(uow_factory=uow, token=token.prefix, actor="root")

    assert stored(uow) == [token]


@pytest.mark.parametrize(
    ("caller", "admin", "allowed"),
    [("alice", False, True), ("bob", False, False), ("bob", True, True)],
)
def test_only_the_owner_or_an_admin_may_manage_a_token(
    uow: FakeUnitOfWorkFactory, caller: str, admin: bool, allowed: bool
) -> None:
    token, _ = create(uow, "alice")

    assert can_manage_token(token, caller=caller, admin=admin) is allowed
