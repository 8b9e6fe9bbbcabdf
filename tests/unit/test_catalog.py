"""Catalog: what each kind of index shows for a project, with the policies on the way.

Mirror rows are seeded fresh (fetched at the clock's time), so the mirror answers from its
cache; the fake upstream only records requests and answers 404."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Coroutine, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from fakes import FakeFileStore, FakeIndexRepository, FakeUnitOfWorkFactory
from packyard.domain.durations import parse_point_in_time
from packyard.domain.errors import Forbidden, NotFound
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import (
    Digests,
    DistFile,
    Index,
    IndexKind,
    MirrorFile,
    MirrorProject,
    PackageType,
)
from packyard.domain.names import NormalizedName, normalize
from packyard.domain.policy import Exemption, Policy, parse_rule
from packyard.services.catalog import Catalog, ProjectView
from packyard.services.indexes import configure_index
from packyard.services.mirror import MirrorService, Upstreams

pytestmark = pytest.mark.unit

T = TypeVar("T")
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
UPSTREAM = "https://upstream.test/simple/"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def file_url(serving: str, filename: str, sha256: str | None) -> str:
    return f"/{serving}/+f/{sha256 or '_'}/{filename}"


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.uow = FakeUnitOfWorkFactory()
        self.clock = Clock(T0)
        self.requests: list[httpx.Request] = []
        self.upstream_status = 404
        upstreams = Upstreams(timeout=5, transport=httpx.MockTransport(self._handle))
        self.mirror = MirrorService(
            uow_factory=self.uow,
            files=FakeFileStore(tmp_path / "staging"),
            clock=self.clock,
            upstreams=upstreams,
        )
        self.catalog = Catalog(
            uow_factory=self.uow, mirror=self.mirror, clock=self.clock, file_url=file_url
        )
        self.add_index("hosted", IndexSettings(kind=IndexKind.HOSTED))
        self.add_index("upstream", IndexSettings(kind=IndexKind.MIRROR, upstream=UPSTREAM))
        self.add_index(
            "root", IndexSettings(kind=IndexKind.VIRTUAL, members=("hosted", "upstream"))
        )

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.upstream_status)

    def add_index(self, name: str, settings: IndexSettings) -> None:
        with self.uow() as unit:
            unit.indexes.add(Index(name, settings.kind, config=settings.to_config()))
            unit.commit()

    def index(self, name: str) -> Index:
        with self.uow(readonly=True) as unit:
            found = unit.indexes.get(name)
        assert found is not None
        return found

    def configure(self, name: str, **changes: Any) -> None:
        settings = replace(IndexSettings.of(self.index(name)), **changes)
        with self.uow() as unit:
            unit.indexes.update_config(name, settings.to_config())
            unit.commit()

    def hosted(self, project: str, version: str, uploaded: datetime, index: str = "hosted") -> str:
        filename = f"{project.replace('-', '_')}-{version}-py3-none-any.whl"
        sha256 = hashlib.sha256(f"{index}/{filename}".encode()).hexdigest()
        name = normalize(project)
        with self.uow() as unit:
            unit.projects.ensure(index, name, project)
            unit.files.add(
                DistFile(
                    index=index,
                    project=name,
                    version=version,
                    filename=filename,
                    packagetype=PackageType.WHEEL,
                    python_version="py3",
                    size=10,
                    digests=Digests(sha256=sha256, blake2b_256="b" * 64, md5="c" * 32),
                    upload_time=uploaded,
                    uploader="alice",
                )
            )
            unit.commit()
        return filename

    def mirrored(
        self,
        project: str,
        version: str,
        uploaded: datetime | None,
        *,
        first_seen: datetime = T0 - timedelta(days=30),
        index: str = "upstream",
    ) -> str:
        filename = f"{project.replace('-', '_')}-{version}-py3-none-any.whl"
        name = normalize(project)
        file = MirrorFile(
            index=index,
            project=name,
            filename=filename,
            version=version,
            upstream_url=f"https://files.upstream.test/{filename}",
            first_seen=first_seen,
            sha256=hashlib.sha256(f"{index}/{filename}".encode()).hexdigest(),
            upload_time=uploaded,
        )
        with self.uow() as unit:
            known = unit.mirror.get_project(index, name)
            unit.mirror.save_project(
                known or MirrorProject(index, name, project, self.clock.now(), exists=True),
                [*unit.mirror.files(index, name), file],
            )
            unit.commit()
        return filename

    def view(self, index: str, project: str, as_of: datetime | None = None) -> ProjectView:
        found = self.maybe_view(index, project, as_of)
        assert found is not None
        return found

    def maybe_view(
        self, index: str, project: str, as_of: datetime | None = None
    ) -> ProjectView | None:
        return run(self.catalog.project(self.index(index), NormalizedName(project), as_of=as_of))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    found = World(tmp_path)
    yield found
    run(found.mirror.aclose())


def versions(view: ProjectView) -> list[str]:
    return [f.version for f in view.files]


def removed(view: ProjectView) -> dict[str, str]:
    return {filename.split("-")[1]: why for filename, why in view.removed}


DAY = timedelta(days=1)


# Hosted and mirror views


def test_hosted_index_lists_its_uploads(world: World) -> None:
    filename = world.hosted("Internal-Tool", "1.0", T0 - DAY)

    view = world.view("hosted", "internal-tool")

    assert (view.index, view.name, view.display_name) == (
        "hosted",
        "internal-tool",
        "Internal-Tool",
    )
    assert view.answered_by == ("hosted",)
    [listed] = view.files
    assert listed.filename == filename
    assert listed.url == file_url("hosted", filename, listed.sha256)
    assert (listed.source, listed.mirrored, listed.upload_time) == ("hosted", False, T0 - DAY)
    assert view.expires_at is None
    assert world.requests == []


def test_unknown_project_is_none_in_a_hosted_index(world: World) -> None:
    assert world.maybe_view("hosted", "nothing") is None


def test_mirrored_file_without_upload_time_is_listed_without_one(world: World) -> None:
    world.mirrored("demo", "1.0", None)

    [listed] = world.view("upstream", "demo").files

    assert listed.upload_time is None
    assert listed.mirrored


def test_a_mirrored_wheel_lists_a_metadata_sidecar_even_when_the_upstream_lists_none(
    world: World,
) -> None:
    # The mirror serves the wheel's own METADATA (MirrorService.ensure_metadata), so
    # installers fetch it instead of sending HEAD and ranged reads for each wheel.
    world.mirrored("demo", "1.0", T0 - DAY)

    [listed] = world.view("root", "demo").files

    assert (listed.has_metadata, listed.metadata_sha256) == (True, None)


# Virtual indexes: first member wins


def test_internal_project_shadows_upstream_project(world: World) -> None:
    internal = world.hosted("shared", "1.0", T0 - DAY)
    world.mirrored("shared", "1.0", T0 - DAY)
    world.mirrored("shared", "9.0", T0 - DAY)

    view = world.view("root", "shared")

    assert [f.filename for f in view.files] == [internal]
    assert {f.source for f in view.files} == {"hosted"}
    assert view.answered_by == ("hosted",)
    assert view.shadowed == ("upstream",)
    assert view.files[0].url == file_url("root", internal, view.files[0].sha256)
    assert world.requests == []


def test_virtual_index_answers_from_a_later_member_when_earlier_ones_lack_the_project(
    world: World,
) -> None:
    filename = world.mirrored("demo", "1.0", T0 - DAY)

    view = world.view("root", "demo")

    assert [f.filename for f in view.files] == [filename]
    assert view.answered_by == ("upstream",)
    assert view.shadowed == ()
    assert view.files[0].url.startswith("/root/")


def test_member_order_decides_which_member_answers(world: World) -> None:
    world.hosted("shared", "1.0", T0 - DAY)
    world.mirrored("shared", "9.0", T0 - DAY)
    world.add_index(
        "public-first", IndexSettings(kind=IndexKind.VIRTUAL, members=("upstream", "hosted"))
    )

    view = world.view("public-first", "shared")

    assert versions(view) == ["9.0"]
    assert (view.answered_by, view.shadowed) == (("upstream",), ("hosted",))


def test_first_member_answers_even_when_its_policy_hides_every_file(world: World) -> None:
    world.hosted("shared", "1.0", T0 - DAY)
    world.mirrored("shared", "9.0", T0 - DAY)
    world.configure("hosted", policy=Policy(deny=(parse_rule("shared"),)))

    view = world.view("root", "shared")

    assert view.files == ()
    assert view.answered_by == ("hosted",)
    assert removed(view) == {"1.0": "denied by rule 'shared'"}


def test_unknown_project_through_a_virtual_index_asks_the_mirror_and_is_none(
    world: World,
) -> None:
    assert world.maybe_view("root", "nowhere") is None
    assert [r.url.path for r in world.requests] == ["/simple/nowhere/"]


def test_nested_virtual_index_answers_through_its_member(world: World) -> None:
    internal = world.hosted("shared", "1.0", T0 - DAY)
    world.mirrored("shared", "9.0", T0 - DAY)
    world.add_index("outer", IndexSettings(kind=IndexKind.VIRTUAL, members=("root",)))

    view = world.view("outer", "shared")

    assert [f.filename for f in view.files] == [internal]
    assert view.files[0].url.startswith("/outer/")


# Merging


def test_merge_unions_files_across_members_and_the_first_wins_per_filename(
    world: World,
) -> None:
    same = world.hosted("shared", "1.0", T0 - DAY)
    world.mirrored("shared", "1.0", T0 - DAY)
    newer = world.mirrored("shared", "2.0", T0 - DAY)
    world.configure("root", merge=frozenset({NormalizedName("shared")}))

    view = world.view("root", "shared")

    assert [(f.filename, f.source) for f in view.files] == [(same, "hosted"), (newer, "upstream")]
    assert view.answered_by == ("hosted", "upstream")
    assert view.shadowed == ()


def test_merge_applies_only_to_the_named_project(world: World) -> None:
    world.hosted("shared", "1.0", T0 - DAY)
    world.mirrored("shared", "2.0", T0 - DAY)
    world.configure("root", merge=frozenset({NormalizedName("other")}))

    assert versions(world.view("root", "shared")) == ["1.0"]


# Policies


def test_member_policy_applies_through_the_virtual_index_and_its_own_on_top(
    world: World,
) -> None:
    for version in ("1.0", "2.0", "3.0"):
        world.mirrored("demo", version, T0 - DAY)
    world.configure("upstream", policy=Policy(deny=(parse_rule("demo<2"),)))
    world.configure("root", policy=Policy(deny=(parse_rule("demo>=3"),)))

    through_mirror = world.view("upstream", "demo")
    through_root = world.view("root", "demo")

    assert versions(through_mirror) == ["2.0", "3.0"]
    assert versions(through_root) == ["2.0"]
    assert removed(through_root) == {
        "1.0": "denied by rule 'demo<2'",
        "3.0": "denied by rule 'demo>=3'",
    }


def test_allow_rules_serve_only_matching_projects(world: World) -> None:
    world.hosted("internal-tool", "1.0", T0 - DAY)
    world.mirrored("demo", "1.0", T0 - DAY)
    world.configure("root", policy=Policy(allow=(parse_rule("internal-*"),)))

    assert versions(world.view("root", "internal-tool")) == ["1.0"]
    demo = world.view("root", "demo")
    assert demo.files == ()
    assert "allow rule" in removed(demo)["1.0"]
    assert versions(world.view("upstream", "demo")) == ["1.0"]


def test_min_age_drops_only_mirrored_files_younger_than_the_age(world: World) -> None:
    world.mirrored("demo", "1.0", T0 - 5 * DAY)
    world.mirrored("demo", "2.0", T0 - DAY)
    world.mirrored("demo", "3.0", None, first_seen=T0 - timedelta(hours=1))
    world.mirrored("demo", "4.0", None, first_seen=T0 - 4 * DAY)
    world.mirrored("demo", "5.0", T0 - 3 * DAY)  # exactly the age: old enough
    world.configure("root", policy=Policy(min_age=3 * DAY))

    view = world.view("root", "demo")

    assert versions(view) == ["1.0", "4.0", "5.0"]
    assert set(removed(view)) == {"2.0", "3.0"}
    assert all("minimum release age 3d" in why for why in removed(view).values())
    assert "first seen by the mirror" in removed(view)["3.0"]
    assert versions(world.view("upstream", "demo")) == ["1.0", "2.0", "3.0", "4.0", "5.0"]


def test_min_age_never_delays_hosted_files(world: World) -> None:
    world.hosted("internal-tool", "1.0", T0 - timedelta(seconds=1))
    world.configure("root", policy=Policy(min_age=3 * DAY))
    world.configure("hosted", policy=Policy(min_age=3 * DAY))

    assert versions(world.view("root", "internal-tool")) == ["1.0"]
    assert versions(world.view("hosted", "internal-tool")) == ["1.0"]


def _exemption(project: str, expires_at: datetime | None) -> Exemption:
    return Exemption(
        project=NormalizedName(project),
        reason="hotfix",
        created_by="admin",
        created_at=T0 - DAY,
        expires_at=expires_at,
    )


@pytest.mark.parametrize(
    ("exemption", "expected"),
    [
        (_exemption("demo", None), ["1.0", "2.0"]),
        (_exemption("demo", T0 + DAY), ["1.0", "2.0"]),
        (_exemption("demo", T0), ["1.0"]),
        (_exemption("other", None), ["1.0"]),
    ],
    ids=["no expiry", "not yet expired", "expired", "other project"],
)
def test_an_active_exemption_lifts_the_min_age_for_its_project(
    world: World, exemption: Exemption, expected: list[str]
) -> None:
    world.mirrored("demo", "1.0", T0 - 5 * DAY)
    world.mirrored("demo", "2.0", T0 - DAY)
    world.configure("root", policy=Policy(min_age=3 * DAY, exemptions=(exemption,)))

    assert versions(world.view("root", "demo")) == expected


def test_expires_at_is_when_a_cooled_down_file_becomes_visible(world: World) -> None:
    world.configure("upstream", ttl=30 * DAY)
    world.mirrored("demo", "1.0", T0 - 5 * DAY)
    world.mirrored("demo", "2.0", T0 - DAY)
    world.configure("root", policy=Policy(min_age=3 * DAY))

    view = world.view("root", "demo")

    assert view.expires_at == T0 + 2 * DAY
    world.clock.current = T0 + 2 * DAY - timedelta(seconds=1)
    assert versions(world.view("root", "demo")) == ["1.0"]
    world.clock.current = T0 + 2 * DAY
    assert versions(world.view("root", "demo")) == ["1.0", "2.0"]
    assert world.requests == []


def test_expires_at_of_a_mirrored_project_without_cooldown_is_the_end_of_its_ttl(
    world: World,
) -> None:
    world.mirrored("demo", "1.0", T0 - DAY)

    assert world.view("root", "demo").expires_at == T0 + timedelta(minutes=10)


def test_stale_mirror_answer_is_marked_stale_through_the_virtual_index(world: World) -> None:
    world.mirrored("demo", "1.0", T0 - DAY)
    world.clock.current = T0 + timedelta(hours=1)
    world.upstream_status = 503

    view = world.view("root", "demo")

    assert view.stale
    assert versions(view) == ["1.0"]


# Point-in-time views


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2024-03-01", ["early", "edge"]),
        ("2024-03-01T00:00:00Z", ["early", "edge"]),
        ("2024-03-01T00:00:01Z", ["early", "edge", "late"]),
        ("2024-02-29T23:59:58Z", []),
        ("2024-03-01T01:00:01+01:00", ["early", "edge", "late"]),
    ],
)
def test_as_of_drops_files_uploaded_later_in_hosted_and_mirrored_projects(
    world: World, as_of: str, expected: list[str]
) -> None:
    moments = {
        "early": datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
        "edge": datetime(2024, 3, 1, tzinfo=UTC),
        "late": datetime(2024, 3, 1, 0, 0, 1, tzinfo=UTC),
    }
    local = {"early": "1", "edge": "2", "late": "3"}
    for label, moment in moments.items():
        world.hosted("internal-tool", local[label], moment)
        world.mirrored("demo", local[label], moment)
        world.mirrored("nodate", local[label], None, first_seen=moment)
    point = parse_point_in_time(as_of)
    wanted = [local[label] for label in expected]

    for project in ("internal-tool", "demo", "nodate"):
        view = world.view("root", project, as_of=point)
        assert versions(view) == wanted, project
        assert all("uploaded after" in why for _, why in view.removed)
        assert len(view.removed) == 3 - len(wanted)


# locate()


def test_locate_finds_a_mirrored_file_through_the_virtual_index(world: World) -> None:
    filename = world.mirrored("demo", "1.0", T0 - DAY)

    located = run(world.catalog.locate(world.index("root"), filename))

    assert located.source.name == "upstream"
    assert located.mirrored is not None and located.mirrored.filename == filename
    assert located.hosted is None
    assert located.listed.url.startswith("/root/")


def test_locate_finds_a_hosted_file_through_the_virtual_index(world: World) -> None:
    filename = world.hosted("internal-tool", "1.0", T0 - DAY)

    located = run(world.catalog.locate(world.index("root"), filename))

    assert located.source.name == "hosted"
    assert located.hosted is not None and located.hosted.filename == filename


def test_locate_of_a_policy_removed_file_is_forbidden_naming_the_rule(world: World) -> None:
    denied = world.mirrored("demo", "1.0", T0 - 5 * DAY)
    young = world.mirrored("demo", "2.0", T0 - DAY)
    world.configure("root", policy=Policy(deny=(parse_rule("demo<2"),), min_age=3 * DAY))

    with pytest.raises(Forbidden, match="'demo<2'"):
        run(world.catalog.locate(world.index("root"), denied))
    with pytest.raises(Forbidden, match="minimum release age 3d"):
        run(world.catalog.locate(world.index("root"), young))
    assert run(world.catalog.locate(world.index("upstream"), young)).mirrored is not None


@pytest.mark.parametrize(
    "filename", ["nowhere-1.0-py3-none-any.whl", "demo-7.0-py3-none-any.whl", "not a dist"]
)
def test_locate_of_an_unknown_file_is_not_found(world: World, filename: str) -> None:
    world.mirrored("demo", "1.0", T0 - DAY)

    with pytest.raises(NotFound):
        run(world.catalog.locate(world.index("root"), filename))


def test_locate_never_serves_a_shadowed_members_file(world: World) -> None:
    world.hosted("shared", "1.0", T0 - DAY)
    shadowed = world.mirrored("shared", "9.0", T0 - DAY)

    with pytest.raises(NotFound):
        run(world.catalog.locate(world.index("root"), shadowed))


# Names and recheck times


def test_mirror_lists_only_the_projects_it_has_cached(world: World) -> None:
    world.mirrored("Demo", "1.0", T0 - DAY)
    with world.uow() as unit:
        unit.mirror.save_project(
            MirrorProject("upstream", NormalizedName("gone"), "gone", T0, exists=False)
        )
        unit.commit()

    names = run(world.catalog.project_names(world.index("upstream")))

    assert list(names) == [("demo", "Demo")]
    assert world.requests == []


def test_virtual_index_lists_the_union_of_its_members_projects(world: World) -> None:
    world.hosted("Shared", "1.0", T0 - DAY)
    world.hosted("internal-tool", "1.0", T0 - DAY)
    world.mirrored("shared", "1.0", T0 - DAY)
    world.mirrored("demo", "1.0", T0 - DAY)

    names = run(world.catalog.project_names(world.index("root")))

    assert list(names) == [
        ("demo", "demo"),
        ("internal-tool", "internal-tool"),
        ("shared", "Shared"),
    ]


def test_recheck_after_is_the_shortest_mirror_ttl_behind_the_index(world: World) -> None:
    world.add_index(
        "fast",
        IndexSettings(kind=IndexKind.MIRROR, upstream=UPSTREAM, ttl=timedelta(minutes=2)),
    )
    world.add_index("inner", IndexSettings(kind=IndexKind.VIRTUAL, members=("fast",)))
    world.add_index("all", IndexSettings(kind=IndexKind.VIRTUAL, members=("root", "inner")))
    world.add_index("internal", IndexSettings(kind=IndexKind.VIRTUAL, members=("hosted",)))

    def recheck(name: str) -> timedelta | None:
        return run(world.catalog.recheck_after(world.index(name)))

    assert recheck("root") == timedelta(minutes=10)
    assert recheck("all") == timedelta(minutes=2)
    assert recheck("fast") == timedelta(minutes=2)
    assert recheck("hosted") is None
    assert recheck("internal") is None


def test_a_member_changed_after_a_lookup_applies_through_the_virtual_index_at_once(
    world: World,
) -> None:
    """Member indexes are kept by the virtual index's serial; a change to a member bumps
    it (as every configuration change does), so the next lookup sees the change."""
    for version in ("1.0", "2.0"):
        world.mirrored("demo", version, T0 - DAY)
    assert versions(world.view("root", "demo")) == ["1.0", "2.0"]

    configure_index(
        uow_factory=world.uow,
        name="upstream",
        actor="admin",
        change=lambda s: replace(s, policy=Policy(deny=(parse_rule("demo<2"),))),
        what="deny",
    )

    assert versions(world.view("root", "demo")) == ["2.0"]
    located = run(world.catalog.locate(world.index("root"), "demo-2.0-py3-none-any.whl"))
    assert located.source.name == "upstream"
    assert IndexSettings.of(located.source).policy.deny == (parse_rule("demo<2"),)


def test_concurrent_first_lookups_read_each_member_index_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An install asks for dozens of projects at once: the requests that all miss the
    member indexes must share one read of each, not make one each."""
    projects = [f"tool-{n}" for n in range(12)]
    for project in projects:
        world.hosted(project, "1.0", T0 - DAY)
    reads: list[str] = []
    read = FakeIndexRepository.get

    def counted(self: FakeIndexRepository, name: str) -> Index | None:
        reads.append(name)
        return read(self, name)

    monkeypatch.setattr(FakeIndexRepository, "get", counted)
    root = world.index("root")
    reads.clear()

    async def all_at_once() -> list[ProjectView | None]:
        lookups = (world.catalog.project(root, NormalizedName(p)) for p in projects)
        return await asyncio.gather(*lookups)

    views = run(all_at_once())

    assert [v.name if v else None for v in views] == projects
    assert sorted(reads) == ["hosted", "upstream"]
