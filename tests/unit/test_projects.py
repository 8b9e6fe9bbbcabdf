"""Project ownership through the services: the first uploader owns the project, owners and
maintainers upload and yank, owners manage roles and delete, deleted filenames stay dead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fakes import FakeFileStore, FakeUnitOfWorkFactory
from helpers.dists import make_wheel
from packyard.adapters.spool import spool_file
from packyard.domain.access import Audience, Principal
from packyard.domain.errors import Conflict, FileExists, Forbidden, InvalidInput, NotFound
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import (
    DistFile,
    Index,
    IndexKind,
    Role,
    Scope,
    Team,
    Token,
    User,
)
from packyard.domain.names import NormalizedName
from packyard.services.accounts import delete_user
from packyard.services.projects import change_role, delete_files, list_roles
from packyard.services.publish import PublishResult, publish
from packyard.services.yank import set_yanked

pytestmark = pytest.mark.unit

NOW = datetime(2024, 7, 1, 9, 0, tzinfo=UTC)
DEMO = NormalizedName("demo")


class FixedClock:
    def now(self) -> datetime:
        return NOW


class World:
    """Index `main` (uploaders: authenticated); users owner, maintainer, other, admin;
    team devs = {dev}."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.uow = FakeUnitOfWorkFactory()
        self.store = FakeFileStore(tmp_path / "staging")
        with self.uow() as unit:
            unit.indexes.add(Index("main", IndexKind.HOSTED))
            unit.indexes.add(Index("mirror", IndexKind.MIRROR))
            for name in ("owner", "maintainer", "other", "dev"):
                unit.users.add(User(name, "unused"))
            unit.users.add(User("admin", "unused", is_admin=True))
            unit.teams.add(Team("devs", members=("dev",)))
            unit.commit()

    def who(self, name: str, token: Token | None = None) -> Principal:
        with self.uow(readonly=True) as unit:
            user = unit.users.get(name)
            teams = unit.teams.teams_of(name)
        assert user is not None
        return Principal(user=user, token=token, teams=teams)

    def upload(
        self, who: Principal | None, project: str = "demo", version: str = "1.0"
    ) -> PublishResult:
        wheel = make_wheel(self.tmp_path / "dists", project, version)
        with wheel.open("rb") as source:
            spooled = spool_file(source, self.store.staging_dir(), max_size=1 << 24)
        return publish(
            uow_factory=self.uow,
            files=self.store,
            index="main",
            received=spooled,
            filename=wheel.name,
            actor=who.audit_name if who else "cli:root",
            now=NOW,
            uploader=who,
        )

    def yank(self, who: Principal, version: str = "1.0") -> Sequence[DistFile]:
        return set_yanked(
            uow_factory=self.uow,
            index="main",
            project="demo",
            version=version,
            yanked=True,
            reason="broken",
            actor=who.audit_name,
            who=who,
        )

    def delete(
        self, who: Principal | None, *, version: str | None = None, filename: str | None = None
    ) -> Sequence[DistFile]:
        return delete_files(
            uow_factory=self.uow,
            clock=FixedClock(),
            index="main",
            project="demo",
            who=who,
            actor=who.audit_name if who else "cli:root",
            version=version,
            filename=filename,
            address="10.0.0.5",
        )

    def role(
        self,
        who: Principal | None,
        principal: str,
        role: Role = Role.MAINTAINER,
        *,
        add: bool = True,
        project: str = "demo",
        index: str = "main",
    ) -> None:
        change_role(
            uow_factory=self.uow,
            index=index,
            project=project,
            principal=principal,
            role=role,
            add=add,
            who=who,
            actor=who.audit_name if who else "cli:root",
            address="10.0.0.5",
        )

    def roles(self) -> list[tuple[str, Role]]:
        found = list_roles(uow_factory=self.uow, index="main", project="demo")
        return [(r.principal, r.role) for r in found]

    def files(self) -> list[str]:
        with self.uow(readonly=True) as unit:
            return [f.filename for f in unit.files.for_project("main", DEMO)]


@pytest.fixture
def world(tmp_path: Path) -> World:
    (tmp_path / "dists").mkdir()
    return World(tmp_path)


@pytest.fixture
def owned(world: World) -> World:
    """demo 1.0 uploaded by owner, with maintainer as a maintainer."""
    world.upload(world.who("owner"))
    world.role(world.who("owner"), "maintainer")
    return world


# Ownership by first upload


def test_first_uploader_becomes_the_owner(world: World) -> None:
    result = world.upload(world.who("owner"))

    assert result.created
    assert world.roles() == [("owner", Role.OWNER)]


def test_later_uploads_by_the_owner_add_no_roles(world: World) -> None:
    world.upload(world.who("owner"))
    world.upload(world.who("owner"), version="2.0")

    assert world.roles() == [("owner", Role.OWNER)]


def test_upload_without_a_principal_creates_no_owner(world: World) -> None:
    world.upload(None)  # the CLI, an administrator

    assert world.roles() == []


def test_another_index_uploader_cannot_upload_to_an_owned_project(owned: World) -> None:
    with pytest.raises(Forbidden, match="other is not an owner or maintainer of 'demo'"):
        owned.upload(owned.who("other"), version="2.0")

    assert owned.files() == ["demo-1.0-py3-none-any.whl"]


def test_index_uploaders_decide_who_may_create_a_project(world: World) -> None:
    settings = IndexSettings(kind=IndexKind.HOSTED, uploaders=Audience.parse("owner"))
    with world.uow() as unit:
        unit.indexes.update_config("main", settings.to_config())
        unit.commit()

    with pytest.raises(Forbidden, match="other may not upload to index 'main'"):
        world.upload(world.who("other"), project="fresh")
    world.upload(world.who("owner"), project="fresh")


# Maintainers


def test_maintainer_may_upload_and_yank(owned: World) -> None:
    maintainer = owned.who("maintainer")

    assert owned.upload(maintainer, version="2.0").created
    assert [f.filename for f in owned.yank(maintainer, "2.0")] == ["demo-2.0-py3-none-any.whl"]


def test_maintainer_may_not_delete(owned: World) -> None:
    with pytest.raises(Forbidden, match="maintainer must be an owner of 'demo'"):
        owned.delete(owned.who("maintainer"), version="1.0")

    assert owned.files() == ["demo-1.0-py3-none-any.whl"]


@pytest.mark.parametrize("role", [Role.MAINTAINER, Role.OWNER])
@pytest.mark.parametrize("add", [True, False])
def test_maintainer_may_not_manage_roles(owned: World, role: Role, add: bool) -> None:
    target = "maintainer" if not add else "other"
    with pytest.raises(Forbidden, match="must be an owner"):
        owned.role(owned.who("maintainer"), target, role, add=add)

    assert owned.roles() == [("owner", Role.OWNER), ("maintainer", Role.MAINTAINER)]


def test_team_maintainer_role_lets_its_members_upload(owned: World) -> None:
    with pytest.raises(Forbidden):
        owned.upload(owned.who("dev"), version="2.0")

    owned.role(owned.who("owner"), "@devs")

    assert owned.upload(owned.who("dev"), version="2.0").created


# Owners and admins


def test_owner_may_delete_a_release(owned: World) -> None:
    owned.upload(owned.who("owner"), version="2.0")

    deleted = owned.delete(owned.who("owner"), version="1.0")

    assert [f.filename for f in deleted] == ["demo-1.0-py3-none-any.whl"]
    assert owned.files() == ["demo-2.0-py3-none-any.whl"]
    [event] = [e for e in owned.uow.db.events if e.action == "file_deleted"]
    assert (event.actor, event.address, event.version) == ("owner", "10.0.0.5", "1.0")


def test_owner_token_without_delete_scope_may_not_delete(owned: World) -> None:
    token = Token("t", "owner", "d", "pky_xxxxxx", frozenset({Scope.READ, Scope.UPLOAD}))

    with pytest.raises(Forbidden, match="token does not grant delete"):
        owned.delete(owned.who("owner", token), version="1.0")


def test_admin_may_upload_yank_delete_and_manage_roles_without_a_role(owned: World) -> None:
    admin = owned.who("admin")

    owned.upload(admin, version="2.0")
    owned.yank(admin, "2.0")
    owned.role(admin, "other", Role.OWNER)
    owned.delete(admin, version="2.0")

    assert owned.files() == ["demo-1.0-py3-none-any.whl"]
    assert ("other", Role.OWNER) in owned.roles()


@pytest.mark.parametrize("who", ["other", "maintainer", "dev"])
def test_a_non_owner_cannot_add_roles(owned: World, who: str) -> None:
    with pytest.raises(Forbidden):
        owned.role(owned.who(who), who, Role.OWNER)

    assert owned.roles() == [("owner", Role.OWNER), ("maintainer", Role.MAINTAINER)]


def test_owner_adds_and_removes_roles_with_audit_events(owned: World) -> None:
    owner = owned.who("owner")

    owned.role(owner, "other", Role.OWNER)
    owned.role(owner, "maintainer", add=False)

    assert owned.roles() == [("owner", Role.OWNER), ("other", Role.OWNER)]
    changes = [
        (e.action, e.actor, e.address, e.project, e.data)
        for e in owned.uow.db.events
        if e.action.startswith(("owner_", "maintainer_"))
    ]
    assert changes == [
        ("maintainer_added", "owner", "10.0.0.5", "demo", {"principal": "maintainer"}),
        ("owner_added", "owner", "10.0.0.5", "demo", {"principal": "other"}),
        ("maintainer_removed", "owner", "10.0.0.5", "demo", {"principal": "maintainer"}),
    ]


def test_last_owner_cannot_be_removed(owned: World) -> None:
    with pytest.raises(InvalidInput, match="owner is the last owner of 'demo'; add another"):
        owned.role(owned.who("owner"), "owner", Role.OWNER, add=False)
    with pytest.raises(InvalidInput, match="last owner"):
        owned.role(None, "owner", Role.OWNER, add=False)

    assert ("owner", Role.OWNER) in owned.roles()


def test_an_owner_may_step_down_once_there_is_another(owned: World) -> None:
    owned.role(owned.who("owner"), "@devs", Role.OWNER)

    owned.role(owned.who("owner"), "owner", Role.OWNER, add=False)

    assert owned.roles() == [("maintainer", Role.MAINTAINER), ("@devs", Role.OWNER)]
    owned.delete(owned.who("dev"), version="1.0")


@pytest.mark.parametrize(
    ("principal", "project", "index", "error", "message"),
    [
        ("nobody", "demo", "main", NotFound, "no user named 'nobody'"),
        ("@nosuch", "demo", "main", NotFound, "no team named 'nosuch'"),
        ("other", "missing", "main", NotFound, "no project 'missing'"),
        ("other", "demo", "nosuch", NotFound, "no index named 'nosuch'"),
        ("other", "demo", "mirror", Conflict, "mirror index"),
    ],
)
def test_role_change_for_unknown_principal_project_or_index_fails(
    owned: World,
    principal: str,
    project: str,
    index: str,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error, match=message):
        owned.role(owned.who("owner"), principal, project=project, index=index)


def test_removing_a_role_nobody_has_is_not_found(owned: World) -> None:
    with pytest.raises(NotFound):
        owned.role(owned.who("owner"), "other", Role.MAINTAINER, add=False)


# Deleted filenames stay dead


@pytest.mark.parametrize("uploader", ["owner", "admin", None])
def test_deleted_filename_can_never_be_uploaded_again(owned: World, uploader: str | None) -> None:
    owned.delete(owned.who("owner"), filename="demo-1.0-py3-none-any.whl")

    with pytest.raises(FileExists) as caught:
        owned.upload(owned.who(uploader) if uploader else None, version="1.0")

    message = str(caught.value)
    assert "File already exists" in message
    assert "demo-1.0-py3-none-any.whl" in message
    assert "was ever registered" not in message
    assert owned.files() == []


def test_a_new_version_may_be_uploaded_after_a_delete(owned: World) -> None:
    owned.delete(owned.who("owner"), version="1.0")

    assert owned.upload(owned.who("owner"), version="1.0.post1").created


def test_delete_of_nothing_matching_is_not_found_and_leaves_no_tombstone(owned: World) -> None:
    with pytest.raises(NotFound):
        owned.delete(owned.who("owner"), version="9.9")

    assert owned.uow.db.tombstones == {}


def test_delete_of_a_whole_project_removes_every_file(owned: World) -> None:
    owned.upload(owned.who("owner"), version="2.0")

    owned.delete(owned.who("owner"))

    assert owned.files() == []
    assert sorted(f for _, f in owned.uow.db.tombstones) == [
        "demo-1.0-py3-none-any.whl",
        "demo-2.0-py3-none-any.whl",
    ]


def test_deleting_the_only_owner_does_not_hand_the_project_to_the_next_uploader(
    world: World,
) -> None:
    """The last owner cannot be removed as a role; deleting the user must not leave the
    project ownerless for any index uploader to claim by uploading."""
    world.upload(world.who("owner"))
    delete_user(uow_factory=world.uow, name="owner", actor="root")

    with pytest.raises(Forbidden):
        world.upload(world.who("other"), version="2.0")

    assert ("other", Role.OWNER) not in world.roles()
