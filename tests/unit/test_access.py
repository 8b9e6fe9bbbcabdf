"""Who may do what: audiences, principals, tokens, and the permission matrix.

The matrix drives the real services (catalog reads, publish, yank, delete) over the fakes,
so it proves both the decisions in domain.access and that every service asks for them.
Virtual indexes check read access on each member they consult (the last section).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from fakes import FakeFileStore, FakeUnitOfWorkFactory
from helpers.dists import make_wheel
from packyard.adapters.spool import spool_file
from packyard.domain.access import (
    ANONYMOUS_PRINCIPAL,
    LOGGED_IN,
    PUBLIC,
    Audience,
    Principal,
    check_admin,
    check_project_action,
    check_read,
    check_upload,
    token_usable,
)
from packyard.domain.errors import Forbidden, InvalidInput, PackyardError, Unauthorized
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import (
    Digests,
    DistFile,
    Index,
    IndexKind,
    PackageType,
    ProjectRole,
    Role,
    Scope,
    Team,
    Token,
    User,
)
from packyard.domain.names import NormalizedName, normalize
from packyard.services.catalog import Catalog
from packyard.services.mirror import MirrorService, Upstreams
from packyard.services.projects import delete_files
from packyard.services.publish import publish
from packyard.services.yank import set_yanked

pytestmark = pytest.mark.unit

T = TypeVar("T")
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
ALL_BUT_ADMIN = frozenset({Scope.READ, Scope.UPLOAD, Scope.YANK, Scope.DELETE})


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def user(name: str, *, admin: bool = False, disabled: bool = False) -> User:
    return User(name=name, password_hash="unused", is_admin=admin, disabled=disabled)


def token(
    owner: str,
    scopes: frozenset[Scope] = ALL_BUT_ADMIN,
    *,
    indexes: tuple[str, ...] = (),
    projects: tuple[str, ...] = (),
    expires_at: datetime | None = None,
    token_id: str | None = None,
) -> Token:
    token_id = token_id or f"tok-{owner}"
    return Token(
        id=token_id,
        user=owner,
        digest=hashlib.sha256(token_id.encode()).hexdigest(),
        prefix="pky_abcdef",
        scopes=scopes,
        indexes=indexes,
        projects=tuple(NormalizedName(p) for p in projects),
        expires_at=expires_at,
    )


# Audience.parse


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("anonymous", Audience(anonymous=True, authenticated=True)),
        ("  anonymous  ", Audience(anonymous=True, authenticated=True)),
        ("authenticated", Audience(authenticated=True)),
        ("alice", Audience(users=frozenset({"alice"}))),
        ("alice,@devs", Audience(users=frozenset({"alice"}), teams=frozenset({"devs"}))),
        (
            " alice , bob ,@devs,@ops ",
            Audience(users=frozenset({"alice", "bob"}), teams=frozenset({"devs", "ops"})),
        ),
        ("@devs", Audience(teams=frozenset({"devs"}))),
        ("alice,", Audience(users=frozenset({"alice"}))),
    ],
)
def test_audience_parse_reads_anonymous_authenticated_and_name_lists(
    spec: str, expected: Audience
) -> None:
    assert Audience.parse(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "is not an audience: use 'anonymous', 'authenticated', or a comma-separated"),
        ("   ", "is not an audience"),
        (",,", "is not an audience"),
        ("anonymous,alice", "mixes 'anonymous'/'authenticated' with names"),
        ("alice,authenticated", "mixes 'anonymous'/'authenticated' with names"),
        ("@", "has an empty team name"),
        ("alice,@", "has an empty team name"),
    ],
)
def test_audience_parse_refuses_bad_specs_saying_what_is_allowed(spec: str, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Audience.parse(spec)

    assert message in str(caught.value)
    assert repr(spec) in str(caught.value)


@pytest.mark.parametrize("spec", ["anonymous", "authenticated", "alice", "alice,bob,@devs,@ops"])
def test_audience_text_parses_back_to_the_same_audience(spec: str) -> None:
    audience = Audience.parse(spec)

    assert Audience.parse(audience.text) == audience
    assert audience.text == spec


def test_public_and_logged_in_constants_are_the_parsed_keywords() -> None:
    assert Audience.parse("anonymous") == PUBLIC
    assert Audience.parse("authenticated") == LOGGED_IN


# Audience.admits


ALICE = Principal(user=user("alice"))
BOB_IN_DEVS = Principal(user=user("bob"), teams=frozenset({"devs"}))
CAROL = Principal(user=user("carol"))
ROOT = Principal(user=user("root", admin=True))


@pytest.mark.parametrize(
    ("spec", "who", "admitted"),
    [
        ("anonymous", ANONYMOUS_PRINCIPAL, True),
        ("anonymous", CAROL, True),
        ("authenticated", ANONYMOUS_PRINCIPAL, False),
        ("authenticated", CAROL, True),
        ("alice,@devs", ANONYMOUS_PRINCIPAL, False),
        ("alice,@devs", ALICE, True),
        ("alice,@devs", BOB_IN_DEVS, True),
        ("alice,@devs", CAROL, False),
        ("alice,@devs", ROOT, True),
        ("@ops", BOB_IN_DEVS, False),
        ("bob", Principal(user=user("Bob")), False),
    ],
)
def test_audience_admits_anonymous_users_team_members_and_admins(
    spec: str, who: Principal, admitted: bool
) -> None:
    assert Audience.parse(spec).admits(who) is admitted


def test_a_team_name_does_not_admit_a_user_of_that_name() -> None:
    assert not Audience.parse("@alice").admits(ALICE)
    assert not Audience.parse("devs").admits(BOB_IN_DEVS)


def test_admin_acting_through_a_token_without_admin_scope_is_not_admitted_as_admin() -> None:
    root_token = Principal(user=user("root", admin=True), token=token("root"))

    assert not root_token.is_admin
    assert not Audience.parse("alice").admits(root_token)


# Principal


def test_principal_names_say_who_and_through_which_token() -> None:
    assert ANONYMOUS_PRINCIPAL.name == "anonymous"
    assert not ANONYMOUS_PRINCIPAL.authenticated
    assert ALICE.audit_name == "alice"
    assert (
        Principal(user=user("alice"), token=token("alice")).audit_name == "alice (token tok-alice)"
    )


@pytest.mark.parametrize(
    ("who", "admin"),
    [
        (ANONYMOUS_PRINCIPAL, False),
        (ALICE, False),
        (ROOT, True),
        (Principal(user=user("root", admin=True), token=token("root")), False),
        (
            Principal(user=user("root", admin=True), token=token("root", frozenset({Scope.ADMIN}))),
            True,
        ),
        (Principal(user=user("alice"), token=token("alice", frozenset({Scope.ADMIN}))), False),
    ],
)
def test_admin_needs_an_admin_user_and_if_through_a_token_the_admin_scope(
    who: Principal, admin: bool
) -> None:
    assert who.is_admin is admin


# token_usable


@pytest.mark.parametrize(
    ("expires_at", "owner", "usable"),
    [
        (None, user("alice"), True),
        (NOW + timedelta(seconds=1), user("alice"), True),
        (NOW, user("alice"), False),
        (NOW - timedelta(days=1), user("alice"), False),
        (None, user("alice", disabled=True), False),
        (NOW + timedelta(days=1), user("alice", disabled=True), False),
        (None, None, False),
    ],
    ids=[
        "no-expiry",
        "expires-later",
        "expires-now",
        "expired",
        "disabled-user",
        "disabled-user-unexpired",
        "deleted-user",
    ],
)
def test_token_is_usable_only_unexpired_with_an_enabled_existing_user(
    expires_at: datetime | None, owner: User | None, usable: bool
) -> None:
    assert token_usable(token("alice", expires_at=expires_at), owner, NOW) is usable


# Unauthorized vs Forbidden


@pytest.mark.parametrize(
    "decide",
    [
        lambda who: check_read(who, "corp", Audience.parse("alice")),
        lambda who: check_upload(who, "corp", Audience.parse("alice"), NormalizedName("demo"), ()),
        lambda who: check_project_action(who, "corp", NormalizedName("demo"), (), Scope.YANK),
        lambda who: check_project_action(who, "corp", NormalizedName("demo"), (), Scope.DELETE),
        check_admin,
    ],
    ids=["read", "upload", "yank", "delete", "admin"],
)
def test_anonymous_is_unauthorized_and_a_known_user_without_the_right_is_forbidden(
    decide: Callable[[Principal], None],
) -> None:
    with pytest.raises(Unauthorized):
        decide(ANONYMOUS_PRINCIPAL)
    with pytest.raises(Forbidden):
        decide(CAROL)
    decide(ROOT)


def test_forbidden_message_names_the_user_and_what_is_needed() -> None:
    with pytest.raises(Forbidden, match="carol must be an owner of 'demo'"):
        check_project_action(CAROL, "corp", NormalizedName("demo"), (), Scope.DELETE)
    with pytest.raises(Forbidden, match="carol must be an owner or maintainer of 'demo'"):
        check_project_action(CAROL, "corp", NormalizedName("demo"), (), Scope.YANK)
    with pytest.raises(Unauthorized, match="Index 'corp' is private: log in"):
        check_read(ANONYMOUS_PRINCIPAL, "corp", Audience.parse("alice"))


def test_a_team_role_gives_its_members_the_role() -> None:
    roles = [ProjectRole("corp", NormalizedName("demo"), "@devs", Role.OWNER)]

    check_project_action(BOB_IN_DEVS, "corp", NormalizedName("demo"), roles, Scope.DELETE)
    with pytest.raises(Forbidden):
        check_project_action(CAROL, "corp", NormalizedName("demo"), roles, Scope.DELETE)


# The permission matrix, through the services

OK, E401, E403 = "ok", 401, 403
Outcome = str | int

# Index "corp": readers (when private) `reader,@devs`, uploaders `@devs`; team devs is
# uploader, owner and maintainer; project demo 1.0 exists, owned by owner, maintained by
# maintainer. Columns: read (public index), read (private index), upload a new version of
# demo, upload a new project, yank demo 1.0, delete demo 1.0, an administrator's action.
MATRIX: dict[str, tuple[Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome]] = {
    "anonymous": (OK, E401, E401, E401, E401, E401, E401),
    "reader": (OK, OK, E403, E403, E403, E403, E403),
    "uploader": (OK, OK, E403, OK, E403, E403, E403),
    "owner": (OK, OK, OK, OK, OK, OK, E403),
    "maintainer": (OK, OK, OK, OK, OK, E403, E403),
    "other": (OK, E403, E403, E403, E403, E403, E403),
    "admin": (OK, OK, OK, OK, OK, OK, OK),
    "admin-token-with-admin-scope": (OK, OK, OK, OK, OK, OK, OK),
    "admin-token-without-admin-scope": (OK, E403, E403, E403, E403, E403, E403),
    "owner-token-for-another-index": (OK, E403, E403, E403, E403, E403, E403),
    "owner-token-for-another-project": (OK, OK, E403, E403, E403, E403, E403),
    "owner-token-read-only": (OK, OK, E403, E403, E403, E403, E403),
    "other-token-with-admin-scope": (OK, E403, E403, E403, E403, E403, E403),
}
# The read columns cover both reads: a project page and the list of project names.
ACTIONS = ("read", "list", "upload-existing", "upload-new", "yank", "delete", "admin")


def column(action: str, *, private: bool) -> int:
    if action in ("read", "list"):
        return 1 if private else 0
    return ACTIONS.index(action)


# principal name -> (user, token or None)
PRINCIPALS: dict[str, tuple[str, Token | None]] = {
    "anonymous": ("", None),
    "reader": ("reader", None),
    "uploader": ("uploader", None),
    "owner": ("owner", None),
    "maintainer": ("maintainer", None),
    "other": ("other", None),
    "admin": ("admin", None),
    "admin-token-with-admin-scope": (
        "admin",
        token("admin", frozenset({Scope.ADMIN}), token_id="admin-token-with-admin-scope"),
    ),
    "admin-token-without-admin-scope": (
        "admin",
        token("admin", token_id="admin-token-without-admin-scope"),
    ),
    "owner-token-for-another-index": (
        "owner",
        token("owner", indexes=("elsewhere",), token_id="owner-token-for-another-index"),
    ),
    "owner-token-for-another-project": (
        "owner",
        token("owner", projects=("unrelated",), token_id="owner-token-for-another-project"),
    ),
    "owner-token-read-only": (
        "owner",
        token("owner", frozenset({Scope.READ}), token_id="owner-token-read-only"),
    ),
    "other-token-with-admin-scope": (
        "other",
        token("other", frozenset({Scope.ADMIN}), token_id="other-token-with-admin-scope"),
    ),
}


class MatrixWorld:
    def __init__(self, tmp_path: Path, *, private: bool) -> None:
        self.tmp_path = tmp_path
        self.uow = FakeUnitOfWorkFactory()
        self.store = FakeFileStore(tmp_path / "staging")
        self.mirror = MirrorService(
            uow_factory=self.uow,
            files=self.store,
            clock=self,
            upstreams=Upstreams(timeout=5, transport=httpx.MockTransport(_no_upstream)),
        )
        self.catalog = Catalog(
            uow_factory=self.uow, mirror=self.mirror, clock=self, file_url=_file_url
        )
        readers = Audience.parse("reader,@devs") if private else PUBLIC
        settings = IndexSettings(
            kind=IndexKind.HOSTED, readers=readers, uploaders=Audience.parse("@devs")
        )
        demo = NormalizedName("demo")
        with self.uow() as unit:
            unit.indexes.add(Index("corp", IndexKind.HOSTED, config=settings.to_config()))
            unit.indexes.add(Index("elsewhere", IndexKind.HOSTED))
            for name in ("reader", "uploader", "owner", "maintainer", "other"):
                unit.users.add(user(name))
            unit.users.add(user("admin", admin=True))
            unit.teams.add(Team("devs", members=("uploader", "owner", "maintainer")))
            unit.projects.ensure("corp", demo, "demo")
            unit.files.add(_dist("corp", "demo", "1.0"))
            unit.roles.add(ProjectRole("corp", demo, "owner", Role.OWNER))
            unit.roles.add(ProjectRole("corp", demo, "maintainer", Role.MAINTAINER))
            for _, tok in PRINCIPALS.values():
                if tok is not None:
                    unit.tokens.add(tok)
            unit.commit()

    def now(self) -> datetime:
        return NOW

    def principal(self, key: str) -> Principal:
        name, tok = PRINCIPALS[key]
        if not name:
            return ANONYMOUS_PRINCIPAL
        with self.uow(readonly=True) as unit:
            found = unit.users.get(name)
            teams = unit.teams.teams_of(name)
        return Principal(user=found, token=tok, teams=teams)

    def act(self, action: str, who: Principal) -> None:
        if action == "read":
            self._read(who)
        elif action == "list":
            self._list(who)
        elif action == "upload-existing":
            self._upload(who, "demo", "2.0")
        elif action == "upload-new":
            self._upload(who, "fresh", "1.0")
        elif action == "yank":
            changed = set_yanked(
                uow_factory=self.uow,
                index="corp",
                project="demo",
                version="1.0",
                yanked=True,
                actor=who.audit_name,
                who=who,
            )
            assert [f.filename for f in changed] == ["demo-1.0-py3-none-any.whl"]
        elif action == "delete":
            deleted = delete_files(
                uow_factory=self.uow,
                clock=self,
                index="corp",
                project="demo",
                version="1.0",
                who=who,
                actor=who.audit_name,
            )
            assert [f.filename for f in deleted] == ["demo-1.0-py3-none-any.whl"]
        else:
            check_admin(who)

    def _read(self, who: Principal) -> None:
        async def read() -> None:
            index = await self.catalog.index("corp")
            assert index is not None
            view = await self.catalog.project(index, NormalizedName("demo"), reader=who)
            assert view is not None
            assert [f.filename for f in view.files] == ["demo-1.0-py3-none-any.whl"]

        run(read())

    def _list(self, who: Principal) -> None:
        async def names() -> None:
            index = await self.catalog.index("corp")
            assert index is not None
            assert await self.catalog.project_names(index, reader=who) == [("demo", "demo")]

        run(names())

    def _upload(self, who: Principal, project: str, version: str) -> None:
        wheel = make_wheel(self.tmp_path, project, version)
        with wheel.open("rb") as source:
            spooled = spool_file(source, self.store.staging_dir(), max_size=1 << 24)
        result = publish(
            uow_factory=self.uow,
            files=self.store,
            index="corp",
            received=spooled,
            filename=wheel.name,
            actor=who.audit_name,
            now=NOW,
            uploader=who,
        )
        assert result.created

    def changes(self) -> list[str]:
        return [e.action for e in self.uow.db.events]


def _no_upstream(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no upstream should be asked: {request.url}")


def _file_url(serving: str, filename: str, sha256: str | None) -> str:
    return f"/{serving}/+f/{sha256}/{filename}"


def _dist(index: str, project: str, version: str) -> DistFile:
    filename = f"{project}-{version}-py3-none-any.whl"
    return DistFile(
        index=index,
        project=normalize(project),
        version=version,
        filename=filename,
        packagetype=PackageType.WHEEL,
        python_version="py3",
        size=10,
        digests=Digests(
            sha256=hashlib.sha256(f"{index}/{filename}".encode()).hexdigest(),
            blake2b_256="b" * 64,
            md5="c" * 32,
        ),
        upload_time=NOW - timedelta(days=1),
        uploader="owner",
    )


MATRIX_CASES = [
    pytest.param(
        key,
        action,
        private,
        MATRIX[key][column(action, private=private)],
        id=f"{key}-{action}-{'private' if private else 'public'}",
    )
    for key in MATRIX
    for action in ACTIONS
    for private in (False, True)
]


@pytest.mark.parametrize(("key", "action", "private", "expected"), MATRIX_CASES)
def test_permission_matrix(
    tmp_path: Path, key: str, action: str, private: bool, expected: Outcome
) -> None:
    world = MatrixWorld(tmp_path, private=private)
    who = world.principal(key)
    before = world.changes()
    try:
        if expected == OK:
            world.act(action, who)
        else:
            error = Unauthorized if expected == E401 else Forbidden
            with pytest.raises(error):
                world.act(action, who)
            assert world.changes() == before  # a refusal changes nothing
    finally:
        run(world.mirror.aclose())


def test_permission_matrix_covers_every_principal_and_action() -> None:
    assert set(MATRIX) == set(PRINCIPALS)
    assert len(MATRIX_CASES) == len(MATRIX) * len(ACTIONS) * 2


def test_refusals_are_errors_of_the_one_hierarchy() -> None:
    assert issubclass(Unauthorized, PackyardError)
    assert issubclass(Forbidden, PackyardError)
    assert not issubclass(Unauthorized, Forbidden)
    assert not issubclass(Forbidden, Unauthorized)


# A token never grants more than its user


@pytest.mark.parametrize(
    "scopes",
    [frozenset({Scope.ADMIN}), frozenset(Scope)],
    ids=["admin-scope", "every-scope"],
)
def test_a_token_with_every_scope_gives_a_plain_user_nothing_more(scopes: frozenset[Scope]) -> None:
    plain = Principal(user=user("carol"), token=token("carol", scopes))
    demo = NormalizedName("demo")
    roles = [ProjectRole("corp", demo, "alice", Role.OWNER)]

    assert not plain.is_admin
    with pytest.raises(Forbidden):
        check_admin(plain)
    with pytest.raises(Forbidden):
        check_read(plain, "corp", Audience.parse("alice"))
    with pytest.raises(Forbidden):
        check_upload(plain, "corp", Audience.parse("alice"), demo, ())
    with pytest.raises(Forbidden):
        check_upload(plain, "corp", LOGGED_IN, demo, roles)
    for scope in (Scope.YANK, Scope.DELETE, Scope.ADMIN):
        with pytest.raises(Forbidden):
            check_project_action(plain, "corp", demo, roles, scope)


def test_a_project_scoped_token_matches_the_project_in_any_spelling() -> None:
    scoped = Principal(user=user("alice"), token=token("alice", projects=("my-pkg",)))

    assert scoped.token_allows(Scope.UPLOAD, "corp", "My_Pkg")
    assert scoped.token_allows(Scope.UPLOAD, "corp", "my.pkg")
    assert not scoped.token_allows(Scope.UPLOAD, "corp", "other-pkg")


# Virtual indexes check read access on each member they consult


class VirtualWorld:
    """`all` (public, virtual) = [`secret` (private: alice), `open` (public)];
    `team-a` (private: alice) is a third hosted index, in `all-a` = [`team-a`, `secret`]."""

    def __init__(self, tmp_path: Path) -> None:
        self.uow = FakeUnitOfWorkFactory()
        self.mirror = MirrorService(
            uow_factory=self.uow,
            files=FakeFileStore(tmp_path / "staging"),
            clock=self,
            upstreams=Upstreams(timeout=5, transport=httpx.MockTransport(_no_upstream)),
        )
        self.catalog = Catalog(
            uow_factory=self.uow, mirror=self.mirror, clock=self, file_url=_file_url
        )
        private = Audience.parse("alice")
        self._add("secret", IndexSettings(kind=IndexKind.HOSTED, readers=private))
        self._add("open", IndexSettings(kind=IndexKind.HOSTED))
        self._add("team-a", IndexSettings(kind=IndexKind.HOSTED, readers=private))
        self._add("all", IndexSettings(kind=IndexKind.VIRTUAL, members=("secret", "open")))
        self._add("all-a", IndexSettings(kind=IndexKind.VIRTUAL, members=("team-a", "secret")))
        with self.uow() as unit:
            unit.users.add(user("alice"))
            unit.users.add(user("bob"))
            unit.commit()
        for index, project in [
            ("secret", "shared"),
            ("open", "shared"),
            ("open", "public-only"),
            ("secret", "secret-only"),
            ("team-a", "a-only"),
        ]:
            self._project(index, project)

    def now(self) -> datetime:
        return NOW

    def _add(self, name: str, settings: IndexSettings) -> None:
        with self.uow() as unit:
            unit.indexes.add(Index(name, settings.kind, config=settings.to_config()))
            unit.commit()

    def _project(self, index: str, project: str) -> None:
        with self.uow() as unit:
            unit.projects.ensure(index, normalize(project), project)
            unit.files.add(_dist(index, project, "1.0"))
            unit.commit()

    def answered_by(self, index: str, project: str, who: Principal) -> tuple[str, ...] | None:
        async def read() -> tuple[str, ...] | None:
            serving = await self.catalog.index(index)
            assert serving is not None
            view = await self.catalog.project(serving, NormalizedName(project), reader=who)
            return None if view is None else view.answered_by

        return run(read())

    def names(self, index: str, who: Principal) -> list[str]:
        async def read() -> list[str]:
            serving = await self.catalog.index(index)
            assert serving is not None
            return [name for name, _ in await self.catalog.project_names(serving, reader=who)]

        return run(read())


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[VirtualWorld]:
    world = VirtualWorld(tmp_path)
    yield world
    run(world.mirror.aclose())


ALICE_TOKEN_FOR_TEAM_A = Principal(user=user("alice"), token=token("alice", indexes=("team-a",)))


@pytest.mark.parametrize(
    ("who", "error"),
    [(ANONYMOUS_PRINCIPAL, Unauthorized), (Principal(user=user("bob")), Forbidden)],
    ids=["anonymous", "other-user"],
)
def test_private_member_that_has_the_project_refuses_and_never_falls_through(
    virtual: VirtualWorld, who: Principal, error: type[Exception]
) -> None:
    with pytest.raises(error, match="'secret'"):
        virtual.answered_by("all", "shared", who)


def test_reader_of_the_private_member_gets_its_project_not_the_later_members(
    virtual: VirtualWorld,
) -> None:
    assert virtual.answered_by("all", "shared", Principal(user=user("alice"))) == ("secret",)


@pytest.mark.parametrize(
    "who",
    [ANONYMOUS_PRINCIPAL, Principal(user=user("bob")), Principal(user=user("alice"))],
    ids=["anonymous", "other-user", "reader"],
)
def test_project_the_private_member_lacks_is_answered_by_the_next_member(
    virtual: VirtualWorld, who: Principal
) -> None:
    assert virtual.answered_by("all", "public-only", who) == ("open",)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (ANONYMOUS_PRINCIPAL, ["public-only", "shared"]),
        (Principal(user=user("bob")), ["public-only", "shared"]),
        (Principal(user=user("alice")), ["public-only", "secret-only", "shared"]),
    ],
    ids=["anonymous", "other-user", "reader"],
)
def test_project_names_skip_members_the_reader_cannot_read(
    virtual: VirtualWorld, who: Principal, expected: list[str]
) -> None:
    assert virtual.names("all", who) == expected


def test_token_for_index_a_cannot_read_private_index_b_through_a_virtual_index(
    virtual: VirtualWorld,
) -> None:
    # alice may read both private indexes; her token is for team-a only.
    with pytest.raises(Forbidden, match="token does not grant reading index 'secret'"):
        virtual.answered_by("all", "secret-only", ALICE_TOKEN_FOR_TEAM_A)
    with pytest.raises(Forbidden, match="'secret'"):
        virtual.answered_by("all-a", "secret-only", ALICE_TOKEN_FOR_TEAM_A)
    assert virtual.answered_by("all", "public-only", ALICE_TOKEN_FOR_TEAM_A) == ("open",)
    assert virtual.names("all", ALICE_TOKEN_FOR_TEAM_A) == ["public-only", "shared"]


def test_token_for_index_a_reads_index_a_through_a_virtual_index(virtual: VirtualWorld) -> None:
    assert virtual.answered_by("all-a", "a-only", ALICE_TOKEN_FOR_TEAM_A) == ("team-a",)
    assert virtual.names("all-a", ALICE_TOKEN_FOR_TEAM_A) == ["a-only"]


def test_private_virtual_index_refuses_before_consulting_members(virtual: VirtualWorld) -> None:
    private_virtual = IndexSettings(
        kind=IndexKind.VIRTUAL, members=("open",), readers=Audience.parse("alice")
    )
    with virtual.uow() as unit:
        unit.indexes.add(Index("inner", IndexKind.VIRTUAL, config=private_virtual.to_config()))
        unit.commit()

    with pytest.raises(Unauthorized, match="'inner'"):
        virtual.answered_by("inner", "public-only", ANONYMOUS_PRINCIPAL)
    with pytest.raises(Unauthorized, match="'inner'"):
        virtual.names("inner", ANONYMOUS_PRINCIPAL)
    assert virtual.answered_by("inner", "public-only", Principal(user=user("alice"))) == ("open",)


def test_nested_private_virtual_member_is_checked_too(virtual: VirtualWorld) -> None:
    inner = IndexSettings(
        kind=IndexKind.VIRTUAL, members=("open",), readers=Audience.parse("alice")
    )
    outer = IndexSettings(kind=IndexKind.VIRTUAL, members=("inner", "secret"))
    with virtual.uow() as unit:
        unit.indexes.add(Index("inner", IndexKind.VIRTUAL, config=inner.to_config()))
        unit.indexes.add(Index("outer", IndexKind.VIRTUAL, config=outer.to_config()))
        unit.commit()

    with pytest.raises(Forbidden, match="'inner'"):
        virtual.answered_by("outer", "public-only", Principal(user=user("bob")))
    assert virtual.names("outer", Principal(user=user("bob"))) == []
    assert virtual.answered_by("outer", "public-only", Principal(user=user("alice"))) == ("open",)


def test_reading_without_a_reader_skips_the_checks(virtual: VirtualWorld) -> None:
    async def read() -> tuple[str, ...] | None:
        serving = await virtual.catalog.index("all")
        assert serving is not None
        view = await virtual.catalog.project(serving, NormalizedName("shared"))
        return None if view is None else view.answered_by

    assert run(read()) == ("secret",)


def test_view_is_public_only_when_every_answering_index_is_public(virtual: VirtualWorld) -> None:
    async def public(index: str, project: str) -> bool:
        serving = await virtual.catalog.index(index)
        assert serving is not None
        alice = Principal(user=user("alice"))
        view = await virtual.catalog.project(serving, NormalizedName(project), reader=alice)
        assert view is not None
        return view.public

    assert run(public("all", "public-only"))
    assert not run(public("all", "shared"))
    assert not run(public("secret", "shared"))


@pytest.mark.parametrize("first", [Principal(user=user("alice")), None], ids=["reader", "internal"])
def test_a_view_once_read_is_still_checked_for_every_later_reader(
    virtual: VirtualWorld, first: Principal | None
) -> None:
    async def read(who: Principal | None) -> tuple[str, ...] | None:
        serving = await virtual.catalog.index("all")
        assert serving is not None
        view = await virtual.catalog.project(serving, NormalizedName("shared"), reader=who)
        return None if view is None else view.answered_by

    assert run(read(first)) == ("secret",)

    with pytest.raises(Unauthorized):
        run(read(ANONYMOUS_PRINCIPAL))
    with pytest.raises(Forbidden):
        run(read(Principal(user=user("bob"))))
    with pytest.raises(Forbidden):
        run(read(ALICE_TOKEN_FOR_TEAM_A))
    assert run(read(Principal(user=user("alice")))) == ("secret",)
