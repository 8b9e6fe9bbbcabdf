"""Managing users and teams: disable, enable, delete, passwords, teams and membership."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher

from fakes import FakeUnitOfWorkFactory
from packyard.domain.errors import Conflict, InvalidInput, NotFound
from packyard.domain.models import Index, IndexKind, ProjectRole, Role, Scope, Token, User
from packyard.domain.names import NormalizedName
from packyard.services import users
from packyard.services.accounts import (
    add_team,
    change_membership,
    delete_team,
    delete_user,
    list_teams,
    set_disabled,
    set_password,
    validate_team_name,
)
from packyard.services.users import hash_password, verify_password

pytestmark = pytest.mark.unit

NOW = datetime(2024, 4, 5, 6, 7, 8, tzinfo=UTC)
OLD = "old password 123"
NEW = "new password 456"
DEMO = NormalizedName("demo")


class FixedClock:
    def now(self) -> datetime:
        return NOW


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    factory = FakeUnitOfWorkFactory()
    with factory() as unit:
        unit.indexes.add(Index("main", IndexKind.HOSTED))
        for name in ("alice", "bob"):
            unit.users.add(User(name, hash_password(OLD), created=NOW))
        unit.commit()
    return factory


def events(uow: FakeUnitOfWorkFactory) -> list[tuple[str, str, dict[str, object]]]:
    return [(e.action, e.actor, e.data) for e in uow.db.events]


def stored_user(uow: FakeUnitOfWorkFactory, name: str) -> User:
    return uow.db.users[name]


def give(uow: FakeUnitOfWorkFactory, name: str, token_id: str) -> None:
    with uow() as unit:
        unit.tokens.add(
            Token(token_id, name, f"digest-{token_id}", "pky_xxxxxx", frozenset({Scope.READ}))
        )
        unit.commit()


def team(uow: FakeUnitOfWorkFactory, name: str, *members: str) -> None:
    add_team(uow_factory=uow, clock=FixedClock(), name=name, actor="root")
    for member in members:
        change_membership(uow_factory=uow, team=name, user=member, member=True, actor="root")


# Users


@pytest.mark.parametrize(("disabled", "action"), [(True, "user_disabled"), (False, "user_enabled")])
def test_disable_and_enable_set_the_flag_and_are_audited(
    uow: FakeUnitOfWorkFactory, disabled: bool, action: str
) -> None:
    returned = set_disabled(uow_factory=uow, name="alice", disabled=disabled, actor="root")

    assert returned.disabled is disabled
    assert stored_user(uow, "alice").disabled is disabled
    assert stored_user(uow, "bob").disabled is False
    assert events(uow) == [(action, "root", {"user": "alice"})]


def test_disable_then_enable_restores_the_user_unchanged(uow: FakeUnitOfWorkFactory) -> None:
    before = stored_user(uow, "alice")

    set_disabled(uow_factory=uow, name="alice", disabled=True, actor="root")
    set_disabled(uow_factory=uow, name="alice", disabled=False, actor="root")

    assert stored_user(uow, "alice") == before


def test_disabling_keeps_tokens_so_enabling_restores_them(uow: FakeUnitOfWorkFactory) -> None:
    give(uow, "alice", "t1")

    set_disabled(uow_factory=uow, name="alice", disabled=True, actor="root")

    assert "t1" in uow.db.tokens


def test_password_change_stores_a_new_hash_and_is_audited_without_the_password(
    uow: FakeUnitOfWorkFactory,
) -> None:
    set_password(uow_factory=uow, name="alice", password=NEW, actor="alice")

    hashed = stored_user(uow, "alice").password_hash
    assert verify_password(hashed, NEW)
    assert not verify_password(hashed, OLD)
    assert verify_password(stored_user(uow, "bob").password_hash, OLD)
    assert events(uow) == [("password_changed", "alice", {"user": "alice"})]
    assert NEW not in repr(uow.db.events)


def test_short_new_password_is_refused_and_the_old_one_stays(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(InvalidInput, match="at least 8 characters"):
        set_password(uow_factory=uow, name="alice", password="short", actor="alice")

    assert verify_password(stored_user(uow, "alice").password_hash, OLD)
    assert events(uow) == []


@pytest.mark.parametrize(
    "change",
    [
        lambda uow: set_disabled(uow_factory=uow, name="nobody", disabled=True, actor="root"),
        lambda uow: set_disabled(uow_factory=uow, name="nobody", disabled=False, actor="root"),
        lambda uow: delete_user(uow_factory=uow, name="nobody", actor="root"),
        lambda uow: set_password(uow_factory=uow, name="nobody", password=NEW, actor="root"),
    ],
    ids=["disable", "enable", "delete", "passwd"],
)
def test_changing_an_unknown_user_is_not_found_and_changes_nothing(
    uow: FakeUnitOfWorkFactory, change: Callable[[FakeUnitOfWorkFactory], object]
) -> None:
    before = dict(uow.db.users)

    with pytest.raises(NotFound, match="There is no user named 'nobody'"):
        change(uow)

    assert uow.db.users == before
    assert events(uow) == []


def test_deleting_a_user_removes_their_tokens_roles_and_memberships(
    uow: FakeUnitOfWorkFactory,
) -> None:
    give(uow, "alice", "a1")
    give(uow, "alice", "a2")
    give(uow, "bob", "b1")
    team(uow, "devs", "alice", "bob")
    with uow() as unit:
        unit.projects.ensure("main", DEMO, "demo")
        unit.roles.add(ProjectRole("main", DEMO, "alice", Role.OWNER))
        unit.roles.add(ProjectRole("main", DEMO, "bob", Role.OWNER))
        unit.roles.add(ProjectRole("main", DEMO, "@devs", Role.MAINTAINER))
        unit.commit()

    delete_user(uow_factory=uow, name="alice", actor="root")

    assert "alice" not in uow.db.users
    assert sorted(uow.db.tokens) == ["b1"]
    assert [r.principal for r in uow.db.roles] == ["bob", "@devs"]
    assert uow.db.teams["devs"].members == ("bob",)
    assert events(uow)[-1] == ("user_deleted", "root", {"user": "alice"})


def test_a_deleted_user_name_can_be_added_again_without_old_tokens(
    uow: FakeUnitOfWorkFactory,
) -> None:
    give(uow, "alice", "a1")
    delete_user(uow_factory=uow, name="alice", actor="root")

    users.add_user(
        uow_factory=uow, clock=FixedClock(), name="alice", password=NEW, admin=False, actor="r"
    )

    assert uow.db.tokens == {}
    assert not stored_user(uow, "alice").is_admin


# Teams


@pytest.mark.parametrize(
    ("given", "name"),
    [("devs", "devs"), ("@devs", "devs"), ("Dev.Ops_2-x", "Dev.Ops_2-x"), ("a" * 100, "a" * 100)],
)
def test_team_names_are_taken_with_or_without_the_at_sign(given: str, name: str) -> None:
    assert validate_team_name(given) == name


@pytest.mark.parametrize("given", ["", "@", "@@devs", "dev ops", "dev/ops", "a" * 101, "dév$"])
def test_invalid_team_names_are_refused_with_the_rule(given: str) -> None:
    with pytest.raises(InvalidInput, match="not a valid team name: letters, digits"):
        validate_team_name(given)


def test_added_team_is_listed_sorted_and_audited(uow: FakeUnitOfWorkFactory) -> None:
    for name in ("ops", "@devs"):
        add_team(uow_factory=uow, clock=FixedClock(), name=name, actor="root")

    listed = list_teams(uow_factory=uow)

    assert [(t.name, t.members, t.created) for t in listed] == [
        ("devs", (), NOW),
        ("ops", (), NOW),
    ]
    assert events(uow) == [
        ("team_added", "root", {"team": "ops"}),
        ("team_added", "root", {"team": "devs"}),
    ]


def test_adding_an_existing_team_is_a_conflict(uow: FakeUnitOfWorkFactory) -> None:
    team(uow, "devs", "alice")

    with pytest.raises(Conflict):
        add_team(uow_factory=uow, clock=FixedClock(), name="@devs", actor="root")

    assert uow.db.teams["devs"].members == ("alice",)


def test_members_are_added_idempotently_and_removed(uow: FakeUnitOfWorkFactory) -> None:
    team(uow, "devs", "bob", "alice", "bob")

    assert uow.db.teams["devs"].members == ("alice", "bob")

    change_membership(uow_factory=uow, team="@devs", user="bob", member=False, actor="root")

    assert list(uow.db.teams["devs"].members) == ["alice"]
    assert events(uow)[-1] == (
        "team_member_removed",
        "root",
        {"team": "devs", "user": "bob"},
    )
    with uow(readonly=True) as unit:
        assert unit.teams.teams_of("alice") == frozenset({"devs"})
        assert unit.teams.teams_of("bob") == frozenset()


@pytest.mark.parametrize(
    ("team_name", "user", "member"),
    [
        ("devs", "nobody", True),
        ("nosuch", "alice", True),
        ("nosuch", "alice", False),
        ("devs", "bob", False),  # not a member
    ],
)
def test_membership_change_for_unknown_team_user_or_non_member_is_not_found(
    uow: FakeUnitOfWorkFactory, team_name: str, user: str, member: bool
) -> None:
    team(uow, "devs", "alice")
    before = len(uow.db.events)

    with pytest.raises(NotFound):
        change_membership(uow_factory=uow, team=team_name, user=user, member=member, actor="r")

    assert uow.db.teams["devs"].members == ("alice",)
    assert len(uow.db.events) == before


def test_deleting_a_team_removes_its_roles_but_not_its_members(
    uow: FakeUnitOfWorkFactory,
) -> None:
    team(uow, "devs", "alice")
    with uow() as unit:
        unit.projects.ensure("main", DEMO, "demo")
        unit.roles.add(ProjectRole("main", DEMO, "bob", Role.OWNER))
        unit.roles.add(ProjectRole("main", DEMO, "@devs", Role.MAINTAINER))
        unit.commit()

    delete_team(uow_factory=uow, name="@devs", actor="root")

    assert list_teams(uow_factory=uow) == []
    assert [r.principal for r in uow.db.roles] == ["bob"]
    assert "alice" in uow.db.users
    assert events(uow)[-1] == ("team_deleted", "root", {"team": "devs"})


@pytest.mark.parametrize("name", ["nosuch", "@"])
def test_deleting_an_unknown_or_invalid_team_fails(uow: FakeUnitOfWorkFactory, name: str) -> None:
    with pytest.raises((NotFound, InvalidInput)):
        delete_team(uow_factory=uow, name=name, actor="root")

    assert events(uow) == []


def test_team_and_user_may_share_a_name_without_mixing_up(uow: FakeUnitOfWorkFactory) -> None:
    team(uow, "alice", "bob")

    delete_user(uow_factory=uow, name="alice", actor="root")

    assert uow.db.teams["alice"].members == ("bob",)
