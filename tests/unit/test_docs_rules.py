"""Documentation hosting: zip member rules, what a URL path serves, which version is
`latest`, who may upload; and the upload service on fakes (hostile zips change nothing,
a new upload replaces a release's docs as a whole)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.requests import Request

from fakes import FakeFileStore, FakeUnitOfWorkFactory
from helpers.dists import make_wheel
from helpers.docs_zips import (
    SITE,
    absolute_zip,
    lying_zip,
    many_members_zip,
    not_a_zip,
    oversized_zip,
    site_zip,
    symlink_zip,
    traversal_zip,
)
from packyard.adapters.spool import spool_file
from packyard.config import load_settings
from packyard.domain.access import Principal
from packyard.domain.docs import (
    AddSlash,
    DocMember,
    DocSet,
    DocsLimits,
    Found,
    check_docs_upload,
    check_member_path,
    content_type_for,
    latest_documented,
    match_version,
    resolve_path,
    site_root,
)
from packyard.domain.errors import Forbidden, InvalidArchive, NotFound, Unauthorized
from packyard.domain.models import Index, IndexKind, ProjectRole, Role, Scope, Token, User
from packyard.domain.names import NormalizedName
from packyard.services.docs import list_docs, upload_docs
from packyard.services.publish import publish
from packyard.services.yank import set_yanked
from packyard.web.docs import docs_link

pytestmark = pytest.mark.unit

NOW = datetime(2024, 7, 1, 9, 0, tzinfo=UTC)
DEMO = NormalizedName("demo")
SMALL = DocsLimits(max_members=50, max_total_bytes=64 * 1024)


# Member paths ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("index.html", "index.html"),
        ("./guide/index.html", "guide/index.html"),
        ("guide//a.html", "guide/a.html"),
        ("guide/", "guide/"),
    ],
)
def test_member_paths_inside_the_site_are_kept_clean(name: str, clean: str) -> None:
    assert check_member_path(name) == clean


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("../evil.html", "path traversal"),
        ("guide/../../evil.html", "path traversal"),
        ("/etc/passwd", "absolute path"),
        ("C:/evil.html", "absolute path"),
        ("guide\\..\\evil.html", "backslash"),
        ("evil\x00.html", "control character"),
        ("", "empty name"),
        ("./", "empty name"),
        ("x" * 2000, "longer than"),
    ],
)
def test_hostile_member_paths_are_refused_with_the_reason(name: str, says: str) -> None:
    with pytest.raises(InvalidArchive, match=says):
        check_member_path(name)


@pytest.mark.parametrize(
    ("paths", "root"),
    [
        (["index.html", "a/b.html"], ""),
        (["html/index.html", "html/style.css"], "html/"),
        (["_build/html/index.html", "_build/html/a/b.css"], "_build/html/"),
        (["a/index.html", "b/index.html"], ""),
        (["html/page.html"], ""),
    ],
)
def test_a_site_wrapped_in_directories_is_served_from_its_index_html(
    paths: list[str], root: str
) -> None:
    assert site_root(paths) == root


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("a/STYLE.CSS", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("logo.svg", "image/svg+xml"),
        ("font.woff2", "font/woff2"),
        ("objects.inv", "application/octet-stream"),
        ("no-extension", "application/octet-stream"),
    ],
)
def test_content_types_come_from_the_extension(path: str, content_type: str) -> None:
    assert content_type_for(path) == content_type


# Serving paths ----------------------------------------------------------------------------


def _members(*paths: str) -> dict[str, DocMember]:
    return {p: DocMember(p, "0" * 64, 1, content_type_for(p)) for p in paths}


MEMBERS = _members("index.html", "guide/index.html", "style.css", "empty/x.css")


@pytest.mark.parametrize(
    ("path", "served"),
    [
        ("", "index.html"),
        ("guide/", "guide/index.html"),
        ("style.css", "style.css"),
    ],
)
def test_directory_paths_serve_their_index_html(path: str, served: str) -> None:
    found = resolve_path(MEMBERS, path)
    assert isinstance(found, Found)
    assert found.member.path == served


def test_a_directory_without_its_slash_is_redirected() -> None:
    assert isinstance(resolve_path(MEMBERS, "guide"), AddSlash)


@pytest.mark.parametrize("path", ["empty/", "empty", "missing.html", "../index.html", "/etc"])
def test_nothing_lists_a_directory_or_leaves_the_site(path: str) -> None:
    assert resolve_path(MEMBERS, path) is None


# Versions ---------------------------------------------------------------------------------


def test_latest_is_the_newest_documented_release_that_is_not_yanked() -> None:
    releases = [("1.0", False), ("2.0", False), ("2.0", True), ("3.0", True), ("1.5", False)]

    assert latest_documented(["1.0", "3.0", "2.0", "1.5"], releases) == "2.0"


def test_latest_compares_versions_not_strings() -> None:
    releases = [("1.9", False), ("1.10", False)]

    assert latest_documented(["1.9", "1.10"], releases) == "1.10"


def test_a_release_whose_every_file_is_yanked_is_never_latest() -> None:
    assert latest_documented(["1.0"], [("1.0", True)]) is None


def test_docs_of_a_deleted_release_are_never_latest() -> None:
    assert latest_documented(["1.0", "2.0"], [("1.0", False)]) == "1.0"


def test_a_version_url_matches_the_release_however_it_is_spelled() -> None:
    assert match_version(["1.0", "2.0"], "1.0.0") == "1.0"
    assert match_version(["1.0"], "1.1") is None


# Permission -------------------------------------------------------------------------------


def _who(name: str, *, admin: bool = False, scopes: frozenset[Scope] | None = None) -> Principal:
    token = None
    if scopes is not None:
        token = Token(id="t", user=name, digest="d" * 64, prefix="pky_", scopes=scopes)
    return Principal(user=User(name, "x", is_admin=admin), token=token)


ROLES = [
    ProjectRole("main", DEMO, "owner", Role.OWNER),
    ProjectRole("main", DEMO, "keeper", Role.MAINTAINER),
]


@pytest.mark.parametrize("name", ["owner", "keeper"])
def test_owners_and_maintainers_may_upload_docs(name: str) -> None:
    check_docs_upload(_who(name), "main", DEMO, ROLES)


def test_admins_may_upload_docs_of_any_project() -> None:
    check_docs_upload(_who("root", admin=True), "main", DEMO, ROLES)


def test_others_may_not_upload_docs() -> None:
    with pytest.raises(Forbidden, match="owner or maintainer"):
        check_docs_upload(_who("stranger"), "main", DEMO, ROLES)


def test_anonymous_callers_are_asked_to_log_in() -> None:
    with pytest.raises(Unauthorized):
        check_docs_upload(Principal(), "main", DEMO, ROLES)


def test_a_token_without_the_upload_scope_may_not_upload_docs() -> None:
    with pytest.raises(Forbidden, match="token"):
        check_docs_upload(_who("owner", scopes=frozenset({Scope.READ})), "main", DEMO, ROLES)


# The upload service on fakes ---------------------------------------------------------------


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.uow = FakeUnitOfWorkFactory()
        self.store = FakeFileStore(tmp_path / "staging")
        with self.uow() as unit:
            unit.indexes.add(Index("main", IndexKind.HOSTED))
            unit.users.add(User("owner", "x"))
            unit.users.add(User("other", "x"))
            unit.commit()
        for version in ("1.0", "2.0"):
            self.publish(version)

    def who(self, name: str) -> Principal:
        with self.uow(readonly=True) as unit:
            user = unit.users.get(name)
        return Principal(user=user)

    def publish(self, version: str) -> None:
        (self.tmp / "dists").mkdir(exist_ok=True)
        wheel = make_wheel(self.tmp / "dists", "demo", version)
        with wheel.open("rb") as source:
            spooled = spool_file(source, self.store.staging_dir(), max_size=1 << 24)
        publish(
            uow_factory=self.uow,
            files=self.store,
            index="main",
            received=spooled,
            filename=wheel.name,
            actor="owner",
            now=NOW,
            uploader=self.who("owner"),
        )

    def upload(self, archive: Path, *, version: str | None = "1.0", who: str = "owner") -> DocSet:
        return upload_docs(
            uow_factory=self.uow,
            files=self.store,
            index="main",
            project="demo",
            version=version,
            archive=archive,
            who=self.who(who),
            actor=who,
            now=NOW,
            limits=SMALL,
        )

    def docs(self, version: str = "1.0") -> DocSet | None:
        with self.uow(readonly=True) as unit:
            return unit.docs.get("main", DEMO, version)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_an_upload_stores_each_file_as_a_blob_and_the_manifest_in_one_row(
    world: World, tmp_path: Path
) -> None:
    docset = world.upload(site_zip(tmp_path / "site.zip"))
    assert world.uow.last.committed

    stored = world.docs()
    assert stored is not None
    assert set(stored.members) == set(SITE)
    for path, member in stored.members.items():
        assert world.store.blobs[member.sha256] == SITE[path]
    assert docset.members == stored.members
    assert list(world.store.staging_dir().iterdir()) == []


def test_an_upload_is_recorded_in_the_event_log(world: World, tmp_path: Path) -> None:
    world.upload(site_zip(tmp_path / "site.zip"))

    with world.uow(readonly=True) as unit:
        event = unit.audit.query(action="docs_uploaded")[0]
    assert (event.project, event.version, event.actor) == ("demo", "1.0", "owner")


def test_a_site_zipped_with_its_directory_is_served_from_that_directory(
    world: World, tmp_path: Path
) -> None:
    world.upload(site_zip(tmp_path / "site.zip", prefix="_build/html/"))

    stored = world.docs()
    assert stored is not None
    assert set(stored.members) == set(SITE)


def test_a_new_upload_replaces_the_release_docs_as_a_whole(world: World, tmp_path: Path) -> None:
    world.upload(site_zip(tmp_path / "old.zip", {**SITE, "old.html": b"old"}))

    world.upload(site_zip(tmp_path / "new.zip", {"index.html": b"new"}))

    stored = world.docs()
    assert stored is not None
    assert list(stored.members) == ["index.html"]


def test_without_a_version_docs_go_to_the_latest_release(world: World, tmp_path: Path) -> None:
    docset = world.upload(site_zip(tmp_path / "site.zip"), version=None)

    assert docset.version == "2.0"


def test_docs_of_a_release_spelled_differently_keep_the_release_spelling(
    world: World, tmp_path: Path
) -> None:
    assert world.upload(site_zip(tmp_path / "site.zip"), version="1.0.0").version == "1.0"


def test_docs_for_a_release_that_does_not_exist_are_refused(world: World, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"no release '9\.0'"):
        world.upload(site_zip(tmp_path / "site.zip"), version="9.0")


def test_a_non_owner_upload_is_refused_and_changes_nothing(world: World, tmp_path: Path) -> None:
    with pytest.raises(Forbidden):
        world.upload(site_zip(tmp_path / "site.zip"), who="other")

    assert world.docs() is None


HOSTILE = {
    "traversal": (traversal_zip, "path traversal"),
    "absolute": (absolute_zip, "absolute path"),
    "symlink": (symlink_zip, "symbolic link"),
    "too many members": (lambda p: many_members_zip(p, 60), "more than 50 members"),
    "oversized": (lambda p: oversized_zip(p, 128 * 1024), "more than 65536 bytes"),
    "not a zip": (not_a_zip, "not a valid zip"),
    "no index.html": (lambda p: site_zip(p, {"page.html": b"x"}), "no index.html"),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_hostile_zip_is_refused_and_the_previous_docs_stay(
    world: World, tmp_path: Path, kind: str
) -> None:
    world.upload(site_zip(tmp_path / "good.zip"))
    before, blobs = world.docs(), dict(world.store.blobs)
    make, says = HOSTILE[kind]

    with pytest.raises(InvalidArchive, match=says):
        world.upload(make(tmp_path / "hostile.zip"))

    assert world.docs() == before
    assert world.store.blobs == blobs
    assert list(world.store.staging_dir().iterdir()) == []


def test_a_zip_lying_about_its_sizes_is_refused(world: World, tmp_path: Path) -> None:
    with pytest.raises(InvalidArchive):
        world.upload(lying_zip(tmp_path / "liar.zip", 128 * 1024))

    assert world.docs() is None


def test_listing_names_the_documented_versions_and_latest(world: World, tmp_path: Path) -> None:
    world.upload(site_zip(tmp_path / "a.zip"), version="1.0")
    world.upload(site_zip(tmp_path / "b.zip"), version="2.0")
    set_yanked(
        uow_factory=world.uow,
        index="main",
        project="demo",
        version="2.0",
        yanked=True,
        actor="owner",
    )

    listing = list_docs(uow_factory=world.uow, index="main", project="demo")

    assert (list(listing.versions), listing.latest) == (["1.0", "2.0"], "1.0")


# Links ------------------------------------------------------------------------------------


def _request() -> Request:
    scope = {
        "type": "http",
        "scheme": "http",
        "server": ("packyard.internal", 8080),
        "path": "/",
        "query_string": b"",
        "headers": [(b"host", b"packyard.internal:8080")],
    }
    return Request(scope)


def test_docs_links_point_at_this_server_by_default() -> None:
    link = docs_link(load_settings(), _request(), None, "demo", "latest")

    assert link == "http://packyard.internal:8080/docs/demo/latest/"


def test_docs_links_point_at_the_docs_origin_when_one_is_set() -> None:
    settings = load_settings(docs_url="https://docs.example.com/", base_url="https://ex.com/pypi")

    assert docs_link(settings, _request(), "team", "demo", "1.0") == (
        "https://docs.example.com/team/docs/demo/1.0/"
    )


def test_docs_links_keep_the_base_url_path_behind_a_proxy() -> None:
    settings = load_settings(base_url="https://ex.com/pypi")

    assert docs_link(settings, _request(), None, "demo", "1.0") == (
        "https://ex.com/pypi/docs/demo/1.0/"
    )
