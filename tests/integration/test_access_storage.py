"""Contract of the access-control storage (teams, tokens, roles, tombstones, audit log) and
of user and file deletion, over SQLite, PostgreSQL and the fakes."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from helpers.postgres import (
    PostgresUnavailableError,
    postgres_test_database,
    skip_or_fail_unavailable,
)
from packyard.adapters.db.engine import create_engine_for, sqlite_url_for
from packyard.adapters.db.migrate import alembic_config, current_revision, head_revision, upgrade
from packyard.adapters.db.tables import metadata
from packyard.domain.errors import Conflict, NotFound
from packyard.domain.models import (
    DownloadCount,
    Event,
    Index,
    IndexKind,
    ProjectRole,
    Role,
    Scope,
    Team,
    Token,
    User,
)
from packyard.domain.names import NormalizedName

from .conftest import Backend
from .test_unit_of_work import DEMO, T0, make_file, seed

pytestmark = pytest.mark.integration

OTHER = NormalizedName("other")


def add_users(backend: Backend, *names: str) -> None:
    with backend.uow() as uow:
        for name in names:
            uow.users.add(User(name=name, password_hash=f"hash-{name}"))
        uow.commit()


def make_token(
    token_id: str = "tok1", *, user: str = "alice", digest: str = "d" * 64, **fields: object
) -> Token:
    values: dict[str, object] = {"prefix": "pky_abcd", "scopes": frozenset({Scope.READ})}
    values.update(fields)
    return Token(id=token_id, user=user, digest=digest, **values)  # type: ignore[arg-type]


def role(principal: str, kind: Role = Role.OWNER, project: NormalizedName = DEMO) -> ProjectRole:
    return ProjectRole(index="hosted", project=project, principal=principal, role=kind)


# Users and files --------------------------------------------------------------------------


def test_deleting_a_user_removes_their_tokens_memberships_and_roles(backend: Backend) -> None:
    seed(backend)
    add_users(backend, "alice", "bob")
    with backend.uow() as uow:
        uow.teams.add(Team(name="devs", members=("alice", "bob")))
        uow.tokens.add(make_token("a1", digest="1" * 64))
        uow.tokens.add(make_token("b1", user="bob", digest="2" * 64))
        for principal in ("alice", "bob", "@devs"):
            uow.roles.add(role(principal))
        uow.commit()
    with backend.uow() as uow:
        uow.users.delete("alice")
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert uow.users.get("alice") is None
        assert [t.id for t in uow.tokens.list()] == ["b1"]
        assert uow.tokens.by_digest("1" * 64) is None
        team = uow.teams.get("devs")
        assert team is not None
        assert team.members == ("bob",)
        assert [r.principal for r in uow.roles.for_project("hosted", DEMO)] == ["bob", "@devs"]


def test_a_user_recreated_under_a_deleted_name_inherits_nothing(backend: Backend) -> None:
    seed(backend)
    add_users(backend, "alice")
    with backend.uow() as uow:
        uow.teams.add(Team(name="devs", members=("alice",)))
        uow.tokens.add(make_token())
        uow.roles.add(role("alice"))
        uow.users.delete("alice")
        uow.users.add(User(name="alice", password_hash="new"))
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert uow.tokens.list(user="alice") == []
        assert uow.teams.teams_of("alice") == frozenset()
        assert uow.roles.for_project("hosted", DEMO) == []


def test_deleting_an_unknown_user_is_not_found(backend: Backend) -> None:
    with backend.uow() as uow, pytest.raises(NotFound, match="no user named 'carol'"):
        uow.users.delete("carol")


def test_user_deletion_is_rolled_back_without_commit(backend: Backend) -> None:
    add_users(backend, "alice")
    with backend.uow() as uow:
        uow.tokens.add(make_token())
        uow.commit()
    with backend.uow() as uow:
        uow.users.delete("alice")
    with backend.uow(readonly=True) as uow:
        assert uow.users.get("alice") is not None
        assert uow.tokens.get("tok1") is not None


def test_deleting_a_file_removes_only_that_file(backend: Backend) -> None:
    seed(backend)
    with backend.uow() as uow:
        uow.files.add(make_file())
        uow.files.add(make_file("demo-1.0.tar.gz"))
        uow.commit()
    with backend.uow() as uow:
        uow.files.delete("hosted", "demo-1.0.tar.gz")
        with pytest.raises(
            NotFound, match=re.escape("no file 'demo-1.0.tar.gz' in index 'hosted'")
        ):
            uow.files.delete("hosted", "demo-1.0.tar.gz")
        with pytest.raises(NotFound):
            uow.files.delete("nowhere", make_file().filename)
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert [f.filename for f in uow.files.for_project("hosted", DEMO)] == [make_file().filename]
        assert uow.projects.get("hosted", DEMO) is not None


# Teams ----------------------------------------------------------------------------------


def test_teams_add_get_list_with_sorted_members(backend: Backend) -> None:
    add_users(backend, "alice", "bob", "carol")
    with backend.uow() as uow:
        uow.teams.add(Team(name="ops", members=("carol", "alice"), created=T0))
        uow.teams.add(Team(name="devs"))
        uow.commit()
    with backend.uow(readonly=True) as uow:
        devs, ops = uow.teams.list()
        assert ops == Team(name="ops", members=("alice", "carol"), created=T0)
        assert (devs.name, devs.members) == ("devs", ())
        assert devs.created is not None
        assert devs.created.tzinfo == UTC
        assert uow.teams.get("ops") == ops
        assert uow.teams.get("nobody") is None


def test_adding_a_taken_team_name_is_a_conflict(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.teams.add(Team(name="devs"))
        with pytest.raises(Conflict, match="a team named 'devs' exists already"):
            uow.teams.add(Team(name="devs"))
        uow.teams.add(Team(name="ops"))  # the transaction goes on
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert [t.name for t in uow.teams.list()] == ["devs", "ops"]


def test_adding_a_team_with_an_unknown_member_is_not_found(backend: Backend) -> None:
    with backend.uow() as uow, pytest.raises(NotFound, match="no user named 'ghost'"):
        uow.teams.add(Team(name="devs", members=("ghost",)))


def test_add_member_is_idempotent_and_checks_team_and_user(backend: Backend) -> None:
    add_users(backend, "alice")
    with backend.uow() as uow:
        uow.teams.add(Team(name="devs"))
        uow.teams.add_member("devs", "alice")
        uow.teams.add_member("devs", "alice")
        with pytest.raises(NotFound, match="no team named 'ops'"):
            uow.teams.add_member("ops", "alice")
        with pytest.raises(NotFound, match="no user named 'ghost'"):
            uow.teams.add_member("devs", "ghost")
        uow.commit()
    with backend.uow(readonly=True) as uow:
        team = uow.teams.get("devs")
        assert team is not None
        assert team.members == ("alice",)


def test_remove_member_and_teams_of(backend: Backend) -> None:
    add_users(backend, "alice", "bob")
    with backend.uow() as uow:
        uow.teams.add(Team(name="devs", members=("alice", "bob")))
        uow.teams.add(Team(name="ops", members=("alice",)))
        uow.commit()
    with backend.uow() as uow:
        assert uow.teams.teams_of("alice") == frozenset({"devs", "ops"})
        uow.teams.remove_member("devs", "alice")
        with pytest.raises(NotFound, match="user 'alice' is not a member of team 'devs'"):
            uow.teams.remove_member("devs", "alice")
        with pytest.raises(NotFound, match="no team named 'qa'"):
            uow.teams.remove_member("qa", "alice")
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert uow.teams.teams_of("alice") == frozenset({"ops"})
        assert uow.teams.teams_of("bob") == frozenset({"devs"})
        assert uow.teams.teams_of("ghost") == frozenset()


def test_deleting_a_team_removes_its_memberships_and_roles(backend: Backend) -> None:
    seed(backend)
    add_users(backend, "alice")
    with backend.uow() as uow:
        uow.teams.add(Team(name="devs", members=("alice",)))
        uow.teams.add(Team(name="ops", members=("alice",)))
        for principal in ("@devs", "@ops", "alice", "devs"):
            uow.roles.add(role(principal, Role.MAINTAINER))
        uow.commit()
    with backend.uow() as uow:
        uow.teams.delete("devs")
        with pytest.raises(NotFound, match="no team named 'devs'"):
            uow.teams.delete("devs")
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert uow.teams.get("devs") is None
        assert uow.teams.teams_of("alice") == frozenset({"ops"})
        principals = [r.principal for r in uow.roles.for_project("hosted", DEMO)]
        assert principals == ["@ops", "alice", "devs"]  # a user named "devs" keeps theirs
    with backend.uow() as uow:
        uow.teams.add(Team(name="devs"))  # the name is free again, with nothing attached
        recreated = uow.teams.get("devs")
        assert recreated is not None
        assert recreated.members == ()


# Tokens ---------------------------------------------------------------------------------


def test_a_token_round_trips_with_every_field(backend: Backend) -> None:
    add_users(backend, "alice")
    token = Token(
        id="AbCdEf0123456789",
        user="alice",
        digest="f" * 64,
        prefix="pky_AbCd",
        scopes=frozenset({Scope.UPLOAD, Scope.READ, Scope.YANK}),
        indexes=("hosted", "private"),
        projects=(DEMO, OTHER),
        expires_at=datetime(2030, 1, 2, 3, 4, 5, 678, tzinfo=timezone(timedelta(hours=2))),
        description="CI for demo",
        created=T0,
        last_used=T0 + timedelta(hours=1),
    )
    with backend.uow() as uow:
        uow.tokens.add(token)
        uow.commit()
    with backend.uow(readonly=True) as uow:
        stored = uow.tokens.get(token.id)
        assert stored == token
        assert stored is not None
        assert stored.expires_at is not None
        assert stored.expires_at.tzinfo == UTC
        assert uow.tokens.by_digest("f" * 64) == token
        assert uow.tokens.by_digest("0" * 64) is None
        assert uow.tokens.get("nope") is None


def test_token_defaults_mean_every_index_no_expiry_and_a_creation_time(backend: Backend) -> None:
    add_users(backend, "alice")
    with backend.uow() as uow:
        uow.tokens.add(make_token())
        uow.commit()
    with backend.uow(readonly=True) as uow:
        token = uow.tokens.get("tok1")
        assert token is not None
        assert (token.indexes, token.projects, token.expires_at, token.last_used) == (
            (),
            (),
            None,
            None,
        )
        assert token.description == ""
        assert token.created is not None
        assert token.created.tzinfo == UTC


def test_adding_a_token_checks_user_id_and_digest(backend: Backend) -> None:
    add_users(backend, "alice")
    with backend.uow() as uow:
        uow.tokens.add(make_token())
        with pytest.raises(NotFound, match="no user named 'ghost'"):
            uow.tokens.add(make_token("tok2", user="ghost", digest="e" * 64))
        with pytest.raises(Conflict):
            uow.tokens.add(make_token("tok1", digest="e" * 64))
        with pytest.raises(Conflict):
            uow.tokens.add(make_token("tok2"))
        uow.tokens.add(make_token("tok3", digest="3" * 64))  # the transaction goes on
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert [t.id for t in uow.tokens.list()] == ["tok1", "tok3"]


def test_tokens_list_by_creation_and_per_user(backend: Backend) -> None:
    add_users(backend, "alice", "bob")
    with backend.uow() as uow:
        uow.tokens.add(make_token("late", digest="1" * 64, created=T0 + timedelta(days=1)))
        uow.tokens.add(make_token("early", digest="2" * 64, created=T0))
        uow.tokens.add(make_token("bobs", user="bob", digest="3" * 64, created=T0))
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert [t.id for t in uow.tokens.list(user="alice")] == ["early", "late"]
        assert [t.id for t in uow.tokens.list(user="bob")] == ["bobs"]
        assert uow.tokens.list(user="ghost") == []
        assert {t.id for t in uow.tokens.list()} == {"late", "early", "bobs"}
        assert [t.id for t in uow.tokens.list()][-1] == "late"


def test_revoking_tokens_one_or_all_of_a_user(backend: Backend) -> None:
    add_users(backend, "alice", "bob")
    with backend.uow() as uow:
        for i, user in enumerate(["alice", "alice", "alice", "bob"]):
            uow.tokens.add(make_token(f"t{i}", user=user, digest=f"{i}" * 64))
        uow.commit()
    with backend.uow() as uow:
        uow.tokens.delete("t0")
        with pytest.raises(NotFound, match="no token with id 't0'"):
            uow.tokens.delete("t0")
        assert uow.tokens.delete_for_user("alice") == 2
        assert uow.tokens.delete_for_user("alice") == 0
        assert uow.tokens.delete_for_user("ghost") == 0
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert [t.id for t in uow.tokens.list()] == ["t3"]


def test_record_use_sets_last_used_for_many_tokens_and_never_moves_it_back(
    backend: Backend,
) -> None:
    add_users(backend, "alice")
    with backend.uow() as uow:
        for i in range(3):
            uow.tokens.add(make_token(f"t{i}", digest=f"{i}" * 64))
        uow.commit()
    later = T0 + timedelta(minutes=5)
    with backend.uow() as uow:
        uow.tokens.record_use({"t0": T0, "t1": later, "revoked": T0})
        uow.tokens.record_use({})
        uow.commit()
    with backend.uow() as uow:
        uow.tokens.record_use({"t0": later, "t1": T0})  # a batch that arrived late
        uow.commit()
    with backend.uow(readonly=True) as uow:
        used = {t.id: t.last_used for t in uow.tokens.list()}
    assert used == {"t0": later, "t1": later, "t2": None}


# Roles ----------------------------------------------------------------------------------


def test_roles_are_listed_in_grant_order_and_adding_is_idempotent(backend: Backend) -> None:
    seed(backend)
    with backend.uow() as uow:
        uow.indexes.add(Index(name="private", kind=IndexKind.HOSTED))
        uow.roles.add(role("zed"))
        uow.roles.add(role("@devs", Role.MAINTAINER))
        uow.roles.add(role("zed"))
        uow.roles.add(role("zed", Role.MAINTAINER))
        uow.roles.add(role("amy", project=OTHER))
        uow.roles.add(ProjectRole(index="private", project=DEMO, principal="amy", role=Role.OWNER))
        with pytest.raises(NotFound, match="no index named 'nowhere'"):
            uow.roles.add(
                ProjectRole(index="nowhere", project=DEMO, principal="amy", role=Role.OWNER)
            )
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert uow.roles.for_project("hosted", DEMO) == [
            role("zed"),
            role("@devs", Role.MAINTAINER),
            role("zed", Role.MAINTAINER),
        ]
        assert uow.roles.for_project("hosted", OTHER) == [role("amy", project=OTHER)]
        assert [r.index for r in uow.roles.for_project("private", DEMO)] == ["private"]
        assert uow.roles.for_project("nowhere", DEMO) == []


def test_removing_roles(backend: Backend) -> None:
    seed(backend)
    with backend.uow() as uow:
        for principal in ("alice", "bob"):
            uow.roles.add(role(principal))
            uow.roles.add(role(principal, project=OTHER))
        uow.commit()
    with backend.uow() as uow:
        uow.roles.remove(role("alice"))
        with pytest.raises(NotFound, match="'alice' is not owner of 'demo' in index 'hosted'"):
            uow.roles.remove(role("alice"))
        with pytest.raises(NotFound):
            uow.roles.remove(role("bob", Role.MAINTAINER))
        uow.roles.remove_principal("bob")
        uow.roles.remove_principal("nobody")
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert uow.roles.for_project("hosted", DEMO) == []
        assert uow.roles.for_project("hosted", OTHER) == [role("alice", project=OTHER)]


# Tombstones -----------------------------------------------------------------------------


def test_tombstones_are_per_index_and_adding_twice_is_harmless(backend: Backend) -> None:
    seed(backend)
    with backend.uow() as uow:
        uow.indexes.add(Index(name="private", kind=IndexKind.HOSTED))
        uow.tombstones.add("hosted", "demo-1.0.tar.gz", actor="alice", at=T0)
        uow.tombstones.add("hosted", "demo-1.0.tar.gz", actor="bob", at=T0)
        with pytest.raises(NotFound, match="no index named 'nowhere'"):
            uow.tombstones.add("nowhere", "demo-1.0.tar.gz", actor="alice", at=T0)
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert uow.tombstones.exists("hosted", "demo-1.0.tar.gz")
        assert not uow.tombstones.exists("private", "demo-1.0.tar.gz")
        assert not uow.tombstones.exists("hosted", "demo-2.0.tar.gz")
        assert not uow.tombstones.exists("nowhere", "demo-1.0.tar.gz")


# Audit log ------------------------------------------------------------------------------


def record_history(backend: Backend) -> None:
    history = [
        Event(action="file_uploaded", actor="alice", index="hosted", project="demo", version="1.0"),
        Event(action="file_uploaded", actor="bob", index="hosted", project="demo", version="2.0"),
        Event(action="file_yanked", actor="alice", index="hosted", project="demo", version="1.0"),
        Event(action="file_uploaded", actor="alice", index="private", project="demo-pkg"),
        Event(action="login_failed", actor="mallory", address="2001:db8::1"),
    ]
    with backend.uow() as uow:
        for hours, event in enumerate(history):
            uow.events.append(dataclasses.replace(event, time=T0 + timedelta(hours=hours)))
        uow.commit()


def actions(events: object) -> list[tuple[str, str]]:
    assert isinstance(events, list)
    return [(e.action, e.actor) for e in events]


def test_events_keep_the_client_address(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.events.append(Event(action="login_failed", actor="x", address="203.0.113.7"))
        uow.events.append(Event(action="index_created", actor="system"))
        uow.commit()
    with backend.uow(readonly=True) as uow:
        assert [e.address for e in uow.events.since(0)] == ["203.0.113.7", None]
        assert [e.address for e in uow.audit.query()] == [None, "203.0.113.7"]


def test_audit_query_returns_newest_first_with_limit(backend: Backend) -> None:
    record_history(backend)
    with backend.uow(readonly=True) as uow:
        everything = uow.audit.query()
        assert [e.action for e in everything] == [
            "login_failed",
            "file_uploaded",
            "file_yanked",
            "file_uploaded",
            "file_uploaded",
        ]
        assert everything[0].address == "2001:db8::1"
        assert everything[0].time == T0 + timedelta(hours=4)
        assert [e.serial for e in uow.audit.query(limit=2)] == [e.serial for e in everything[:2]]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {"since": T0 + timedelta(hours=3)},
            [("login_failed", "mallory"), ("file_uploaded", "alice")],
        ),
        # `since` is inclusive, and compares instants whatever the zone.
        (
            {"since": (T0 + timedelta(hours=4)).astimezone(timezone(timedelta(hours=-5)))},
            [("login_failed", "mallory")],
        ),
        ({"index": "private"}, [("file_uploaded", "alice")]),
        ({"project": "Demo_Pkg"}, [("file_uploaded", "alice")]),
        (
            {"project": "demo", "version": "1.0"},
            [("file_yanked", "alice"), ("file_uploaded", "alice")],
        ),
        ({"actor": "bob"}, [("file_uploaded", "bob")]),
        ({"action": "file_yanked"}, [("file_yanked", "alice")]),
        (
            {"action": "file_uploaded", "actor": "alice", "index": "hosted"},
            [("file_uploaded", "alice")],
        ),
        ({"actor": "nobody"}, []),
    ],
)
def test_audit_query_filters(
    backend: Backend, filters: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    record_history(backend)
    with backend.uow(readonly=True) as uow:
        assert actions(list(uow.audit.query(**filters))) == expected  # type: ignore[arg-type]


DAY = datetime(2024, 5, 6, tzinfo=UTC)


def download(
    principal: str,
    count: int = 1,
    *,
    day: datetime = DAY,
    version: str = "1.0",
    project: NormalizedName = DEMO,
    index: str = "hosted",
) -> DownloadCount:
    return DownloadCount(
        day=day,
        index=index,
        project=project,
        version=version,
        filename=f"{project}-{version}.tar.gz",
        principal=principal,
        count=count,
    )


def test_download_counts_add_up_across_batches_and_within_one(backend: Backend) -> None:
    with backend.uow() as uow:
        uow.audit.add_downloads([download("user:alice", 2), download("anonymous")])
        uow.commit()
    with backend.uow() as uow:
        # The same key twice in one batch, at other times of the same day.
        noon = DAY + timedelta(hours=12)
        uow.audit.add_downloads(
            [download("user:alice", 3, day=noon), download("user:alice", 1, day=noon)]
        )
        uow.audit.add_downloads([])
        uow.commit()
    with backend.uow(readonly=True) as uow:
        counts = {c.principal: c for c in uow.audit.downloads()}
    assert counts["user:alice"] == download("user:alice", 6)
    assert counts["anonymous"].count == 1
    assert counts["anonymous"].day == DAY


def test_download_counts_are_bucketed_by_utc_day(backend: Backend) -> None:
    late_evening_new_york = datetime(2024, 5, 6, 22, 0, tzinfo=timezone(timedelta(hours=-4)))
    with backend.uow() as uow:
        uow.audit.add_downloads([download("anonymous", day=late_evening_new_york)])
        uow.commit()
    with backend.uow(readonly=True) as uow:
        (count,) = uow.audit.downloads()
    assert count.day == datetime(2024, 5, 7, tzinfo=UTC)


def test_downloads_answer_who_fetched_a_version_in_the_last_days(backend: Backend) -> None:
    old = DAY - timedelta(days=40)
    with backend.uow() as uow:
        uow.audit.add_downloads(
            [
                download("token:t1 (alice)", 4, version="1.2.3"),
                download("user:bob", 1, version="1.2.3", day=DAY - timedelta(days=3)),
                download("user:carol", 9, version="1.2.3", day=old),
                download("user:dave", 1, version="1.2.4"),
                download("user:erin", 1, version="1.2.3", project=OTHER),
                download("user:frank", 1, version="1.2.3", index="private"),
            ]
        )
        uow.commit()
    since = DAY + timedelta(hours=15) - timedelta(days=30)  # whole days: day 1's bucket counts
    with backend.uow(readonly=True) as uow:
        found = uow.audit.downloads(project="Demo", version="1.2.3", since=since, index="hosted")
        assert [(c.principal, c.count) for c in found] == [
            ("token:t1 (alice)", 4),
            ("user:bob", 1),
        ]
        assert [c.principal for c in uow.audit.downloads(principal="user:carol")] == ["user:carol"]
        assert {c.principal for c in uow.audit.downloads(version="1.2.3")} == {
            "token:t1 (alice)",
            "user:bob",
            "user:carol",
            "user:erin",
            "user:frank",
        }
        assert uow.audit.downloads(since=DAY + timedelta(days=1)) == []
        newest_first = [c.day for c in uow.audit.downloads(project="demo", index="hosted")]
        assert newest_first == sorted(newest_first, reverse=True)


# Migration 0003 -------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = create_engine_for(sqlite_url_for(tmp_path))
        yield engine
        engine.dispose()
        return
    try:
        with postgres_test_database() as url:
            engine = create_engine_for(url)
            yield engine
            engine.dispose()
    except PostgresUnavailableError as error:
        skip_or_fail_unavailable(error)


def test_migration_0003_downgrades_and_upgrades_again(empty_engine: Engine) -> None:
    upgrade(empty_engine)
    with empty_engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0002")
    assert current_revision(empty_engine) == "0002"
    upgrade(empty_engine)
    assert current_revision(empty_engine) == head_revision()
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
