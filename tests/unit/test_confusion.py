"""Dependency confusion on upload: a new internal name that a mirror next to the hosted
index has upstream is refused until an admin claims it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from fakes import FakeFileStore, FakeUnitOfWorkFactory
from helpers.dists import make_wheel
from packyard.adapters.spool import spool_file
from packyard.domain.errors import Conflict
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import Index, IndexKind
from packyard.domain.names import NormalizedName
from packyard.services.confusion import check_new_project
from packyard.services.indexes import add_claim, configure_index
from packyard.services.mirror import MirrorService, Upstreams
from packyard.services.publish import PublishResult, publish

pytestmark = pytest.mark.unit

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
UPSTREAM = "https://upstream.test/simple/"
JSON_V1 = "application/vnd.pypi.simple.v1+json"


class Clock:
    def now(self) -> datetime:
        return T0


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.uow = FakeUnitOfWorkFactory()
        self.store = FakeFileStore(tmp_path / "staging")
        self.upstream_projects = {"requests"}
        self.requests: list[httpx.Request] = []
        upstreams = Upstreams(timeout=5, transport=httpx.MockTransport(self._handle))
        self.mirror = MirrorService(
            uow_factory=self.uow, files=self.store, clock=Clock(), upstreams=upstreams
        )

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        name = request.url.path.split("/")[-2]
        if name not in self.upstream_projects:
            return httpx.Response(404)
        page = {"meta": {"api-version": "1.1"}, "name": name, "files": []}
        return httpx.Response(200, json=page, headers={"Content-Type": JSON_V1})

    def hosted(self, name: str) -> None:
        self._add(Index(name, IndexKind.HOSTED))

    def mirror_index(self, name: str, upstream: str = UPSTREAM) -> None:
        settings = IndexSettings(kind=IndexKind.MIRROR, upstream=upstream)
        self._add(Index(name, IndexKind.MIRROR, config=settings.to_config()))

    def virtual(self, name: str, members: Sequence[str]) -> None:
        settings = IndexSettings(kind=IndexKind.VIRTUAL, members=tuple(members))
        self._add(Index(name, IndexKind.VIRTUAL, config=settings.to_config()))

    def _add(self, index: Index) -> None:
        with self.uow() as unit:
            unit.indexes.add(index)
            unit.commit()

    def check(self, name: str, hosted: str = "hosted") -> None:
        asyncio.run(
            check_new_project(
                uow_factory=self.uow, mirror=self.mirror, hosted=hosted, name=NormalizedName(name)
            )
        )

    def claim(self, name: str, hosted: str = "hosted") -> None:
        configure_index(
            uow_factory=self.uow,
            name=hosted,
            actor="admin",
            change=lambda s: add_claim(s, project=name, reason="ours", actor="admin", now=T0),
            what="claim",
        )

    def upload(self, name: str, version: str) -> PublishResult:
        wheel = make_wheel(self.tmp_path, name, version)
        with wheel.open("rb") as source:
            spooled = spool_file(source, self.store.staging_dir(), max_size=1 << 30)
        return publish(
            uow_factory=self.uow,
            files=self.store,
            index="hosted",
            received=spooled,
            filename=wheel.name,
            actor="alice",
            now=T0,
            new_project_guard=self.check,
        )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    found = World(tmp_path)
    yield found
    asyncio.run(found.mirror.aclose())


@pytest.fixture
def standard(world: World) -> World:
    world.hosted("hosted")
    world.mirror_index("upstream")
    world.virtual("root", ["hosted", "upstream"])
    return world


def test_new_name_that_the_mirror_has_upstream_is_a_conflict_naming_the_claim_command(
    standard: World,
) -> None:
    with pytest.raises(Conflict) as raised:
        standard.check("requests")

    message = str(raised.value)
    assert "packyard project claim requests --index hosted" in message
    assert "'upstream'" in message
    assert [r.url.path for r in standard.requests] == ["/simple/requests/"]


def test_new_name_the_upstream_lacks_is_allowed(standard: World) -> None:
    standard.check("internal-tool")

    assert len(standard.requests) == 1


def test_claimed_name_is_allowed_without_asking_upstream(standard: World) -> None:
    standard.claim("Requests")

    standard.check("requests")

    assert standard.requests == []


def test_claim_in_another_hosted_index_does_not_allow_the_name(standard: World) -> None:
    standard.hosted("team")
    standard.claim("requests", hosted="team")

    with pytest.raises(Conflict):
        standard.check("requests")


def test_without_a_virtual_index_joining_hosted_and_a_mirror_the_name_is_allowed(
    world: World,
) -> None:
    world.hosted("hosted")
    world.hosted("team")
    world.mirror_index("upstream")
    world.virtual("public", ["upstream"])
    world.virtual("internal", ["hosted"])
    world.virtual("team-and-public", ["team", "upstream"])

    world.check("requests")

    assert world.requests == []


def test_mirror_in_a_virtual_index_over_a_virtual_index_over_hosted_is_checked(
    world: World,
) -> None:
    world.hosted("hosted")
    world.mirror_index("upstream")
    world.virtual("internal", ["hosted"])
    world.virtual("outer", ["internal", "upstream"])

    with pytest.raises(Conflict):
        world.check("requests")


def test_mirror_nested_below_a_virtual_member_is_checked(world: World) -> None:
    world.hosted("hosted")
    world.mirror_index("upstream")
    world.virtual("public", ["upstream"])
    world.virtual("root", ["hosted", "public"])

    with pytest.raises(Conflict):
        world.check("requests")


def test_conflict_message_does_not_show_upstream_credentials(world: World) -> None:
    world.hosted("hosted")
    world.mirror_index("upstream", upstream="https://user:s3cret@upstream.test/simple/")
    world.virtual("root", ["hosted", "upstream"])

    with pytest.raises(Conflict) as raised:
        world.check("requests")

    assert "s3cret" not in str(raised.value)


def test_upload_of_a_new_name_that_exists_upstream_is_refused_and_stores_nothing(
    standard: World,
) -> None:
    with pytest.raises(Conflict, match="project claim"):
        standard.upload("requests", "1.0")

    with standard.uow(readonly=True) as unit:
        assert unit.projects.list("hosted") == []
    assert standard.store.blobs == {}


def test_upload_to_an_existing_project_is_never_checked(standard: World) -> None:
    with standard.uow() as unit:
        unit.projects.ensure("hosted", NormalizedName("requests"), "requests")
        unit.commit()

    result = standard.upload("requests", "1.0")

    assert result.created
    assert standard.requests == []


def test_upload_of_a_claimed_name_is_accepted(standard: World) -> None:
    standard.claim("requests")

    assert standard.upload("requests", "1.0").created
