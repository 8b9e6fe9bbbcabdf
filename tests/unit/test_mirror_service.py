"""MirrorService: a pull-through cache of an upstream simple index, driven through a fake
upstream (httpx.MockTransport) and a clock the tests move past the TTL."""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
from collections.abc import AsyncIterator, Collection, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from prometheus_client import REGISTRY

from fakes import FakeFileStore, FakeUnitOfWorkFactory
from helpers.dists import make_wheel, metadata_of
from packyard.adapters.upstream import UpstreamTimeout, UpstreamUnavailable
from packyard.domain.errors import NotFound
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import Index, IndexKind, MirrorFile, MirrorProject
from packyard.domain.names import NormalizedName
from packyard.services.mirror import MirrorService, MirrorState, Upstreams

pytestmark = pytest.mark.unit

T = TypeVar("T")

UPSTREAM = "https://upstream.test/simple/"
FILES = "https://files.upstream.test/packages/"
JSON_V1 = "application/vnd.pypi.simple.v1+json"
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(minutes=10)
MIRROR = "upstream"
DEMO = NormalizedName("demo")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass
class Dist:
    filename: str
    data: bytes
    metadata: bytes | None
    upload_time: str | None
    requires_python: str | None = None
    yanked: bool | str = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class FakeUpstream:
    """Serves project pages (JSON or HTML) and files; records every request."""

    directory: Path
    projects: dict[str, list[Dist]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    html: bool = False
    etags: bool = True
    failure: Exception | int | None = None
    delay: float = 0.0
    # filename -> bytes served instead of the listed ones
    tampered: dict[str, bytes] = field(default_factory=dict)

    def publish(
        self,
        project: str,
        version: str,
        *,
        upload_time: str | None = "2024-04-01T10:00:00Z",
        requires_python: str | None = None,
        yanked: bool | str = False,
        metadata: bool = True,
        omit: Collection[str] = (),
    ) -> Dist:
        wheel = make_wheel(
            self.directory, project, version, requires_python=requires_python, omit=omit
        )
        dist = Dist(
            filename=wheel.name,
            data=wheel.read_bytes(),
            metadata=metadata_of(wheel) if metadata else None,
            upload_time=upload_time,
            requires_python=requires_python,
            yanked=yanked,
        )
        self.projects.setdefault(project, []).append(dist)
        return dist

    def dist(self, filename: str) -> Dist:
        return next(d for dists in self.projects.values() for d in dists if d.filename == filename)

    def pages(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == "upstream.test"]

    def downloads(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host == "files.upstream.test"]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.delay:
            await asyncio.sleep(self.delay)
        if isinstance(self.failure, Exception):
            raise self.failure
        response = (
            httpx.Response(self.failure)
            if self.failure is not None
            else self._page(request)
            if request.url.host == "upstream.test"
            else self._file(request)
        )
        self.statuses.append(response.status_code)
        return response

    def _page(self, request: httpx.Request) -> httpx.Response:
        name = request.url.path.split("/")[2]
        if name not in self.projects:
            return httpx.Response(404)
        dists = self.projects[name]
        if self.html:
            body, content_type = _html_page(dists).encode(), "text/html; charset=utf-8"
        else:
            body, content_type = json.dumps(_json_page(name, dists)).encode(), JSON_V1
        headers = {"Content-Type": content_type}
        if self.etags:
            headers["ETag"] = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
            if request.headers.get("If-None-Match") == headers["ETag"]:
                return httpx.Response(304, headers={"ETag": headers["ETag"]})
        return httpx.Response(200, content=body, headers=headers)

    def _file(self, request: httpx.Request) -> httpx.Response:
        filename = request.url.path.rpartition("/")[2]
        sidecar = filename.endswith(".metadata")
        filename = filename.removesuffix(".metadata")
        try:
            dist = self.dist(filename)
        except StopIteration:
            return httpx.Response(404)
        wanted = filename + ".metadata" if sidecar else filename
        body = self.tampered.get(wanted, dist.metadata if sidecar else dist.data)
        return httpx.Response(200, stream=Chunks(body or b""))


class Chunks(httpx.AsyncByteStream):
    """A body that arrives in pieces, as from the network (not read up front)."""

    def __init__(self, data: bytes, size: int = 1000) -> None:
        self._pieces = [data[i : i + size] for i in range(0, len(data), size)]

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self._pieces:
            yield piece


def _json_page(name: str, dists: list[Dist]) -> dict[str, Any]:
    def entry(d: Dist) -> dict[str, Any]:
        found: dict[str, Any] = {
            "filename": d.filename,
            "url": FILES + d.filename,
            "hashes": {"sha256": d.sha256},
            "requires-python": d.requires_python,
            "size": len(d.data),
            "yanked": d.yanked,
            "core-metadata": (
                {"sha256": hashlib.sha256(d.metadata).hexdigest()} if d.metadata else False
            ),
        }
        if d.upload_time is not None:
            found["upload-time"] = d.upload_time
        return found

    return {"meta": {"api-version": "1.1"}, "name": name, "files": [entry(d) for d in dists]}


def _html_page(dists: list[Dist]) -> str:
    def anchor(d: Dist) -> str:
        attrs = f'href="{FILES}{d.filename}#sha256={d.sha256}"'
        if d.requires_python:
            attrs += f' data-requires-python="{html.escape(d.requires_python)}"'
        if d.yanked:
            reason = d.yanked if isinstance(d.yanked, str) else ""
            attrs += f' data-yanked="{html.escape(reason)}"'
        if d.metadata:
            attrs += f' data-core-metadata="sha256={hashlib.sha256(d.metadata).hexdigest()}"'
        return f"<a {attrs}>{d.filename}</a>"

    return "<!DOCTYPE html><html><body>" + "".join(anchor(d) for d in dists) + "</body></html>"


@dataclass
class World:
    uow: FakeUnitOfWorkFactory
    store: FakeFileStore
    clock: Clock
    upstream: FakeUpstream
    service: MirrorService

    def index(self, name: str = MIRROR) -> Index:
        with self.uow(readonly=True) as unit:
            found = unit.indexes.get(name)
        assert found is not None
        return found

    def configure(self, **changes: Any) -> None:
        settings = replace(IndexSettings.of(self.index()), **changes)
        with self.uow() as unit:
            unit.indexes.update_config(MIRROR, settings.to_config())
            unit.commit()

    def stored(self, name: str = "demo") -> tuple[MirrorProject | None, list[MirrorFile]]:
        with self.uow(readonly=True) as unit:
            project = unit.mirror.get_project(MIRROR, NormalizedName(name))
            return project, list(unit.mirror.files(MIRROR, NormalizedName(name)))

    def file(self, filename: str, name: str = "demo") -> MirrorFile:
        with self.uow(readonly=True) as unit:
            found = unit.mirror.get_file(MIRROR, NormalizedName(name), filename)
        assert found is not None
        return found

    def project(self, name: str = "demo") -> MirrorState | None:
        return run(self.service.project(self.index(), NormalizedName(name)))


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture
def world(tmp_path: Path) -> Any:
    uow = FakeUnitOfWorkFactory()
    mirror = IndexSettings(kind=IndexKind.MIRROR, upstream=UPSTREAM, ttl=TTL)
    root = IndexSettings(kind=IndexKind.VIRTUAL, members=("hosted", MIRROR))
    with uow() as unit:
        unit.indexes.add(Index("hosted", IndexKind.HOSTED))
        unit.indexes.add(Index(MIRROR, IndexKind.MIRROR, config=mirror.to_config()))
        unit.indexes.add(Index("root", IndexKind.VIRTUAL, config=root.to_config()))
        unit.indexes.add(Index("other", IndexKind.HOSTED))
        unit.commit()
    (tmp_path / "dists").mkdir()
    upstream = FakeUpstream(tmp_path / "dists")
    store = FakeFileStore(tmp_path / "staging")
    clock = Clock(T0)
    upstreams = Upstreams(timeout=5, transport=httpx.MockTransport(upstream.handle))
    service = MirrorService(uow_factory=uow, files=store, clock=clock, upstreams=upstreams)
    yield World(uow, store, clock, upstream, service)
    run(service.aclose())


def serials(world: World) -> dict[str, int]:
    return {name: world.index(name).serial for name in (MIRROR, "root", "hosted", "other")}


def stale_count(index: str = MIRROR) -> float:
    value = REGISTRY.get_sample_value("packyard_mirror_stale_total", {"index": index})
    return value or 0.0


def test_prepare_opens_a_client_for_each_mirror_upstream_before_any_request(
    world: World,
) -> None:
    upstreams = world.service._upstreams
    assert upstreams.opened == ()

    world.service.prepare()

    assert upstreams.opened == (UPSTREAM,)
    assert world.upstream.requests == []


# Project pages


def test_first_request_fetches_the_page_and_keeps_the_upstream_file_details(
    world: World,
) -> None:
    dist = world.upstream.publish(
        "demo", "1.0", requires_python=">=3.9", yanked="broken build", metadata=True
    )

    state = world.project()

    assert state is not None
    assert [r.url for r in world.upstream.requests] == [httpx.URL(UPSTREAM + "demo/")]
    assert JSON_V1 in world.upstream.requests[0].headers["Accept"]
    assert not state.stale
    assert state.expires_at == T0 + TTL
    assert (state.project.exists, state.project.fetched_at) == (True, T0)
    [file] = state.files
    assert file.filename == dist.filename
    assert file.version == "1.0"
    assert file.upstream_url == FILES + dist.filename
    assert file.sha256 == dist.sha256
    assert file.size == len(dist.data)
    assert file.upload_time == datetime(2024, 4, 1, 10, 0, tzinfo=UTC)
    assert file.requires_python == ">=3.9"
    assert (file.yanked, file.yanked_reason) == (True, "broken build")
    assert dist.metadata is not None
    assert file.metadata_sha256 == hashlib.sha256(dist.metadata).hexdigest()
    assert file.has_metadata
    assert file.first_seen == T0
    assert not file.cached
    assert world.stored() == (state.project, [file])


def test_html_page_gives_no_upload_time_and_none_is_invented(world: World) -> None:
    world.upstream.html = True
    dist = world.upstream.publish("demo", "1.0", requires_python="<4", yanked="bad")

    state = world.project()

    assert state is not None
    [file] = state.files
    assert file.upload_time is None
    assert file.first_seen == T0
    assert file.sha256 == dist.sha256
    assert file.requires_python == "<4"
    assert (file.yanked, file.yanked_reason) == (True, "bad")
    assert dist.metadata is not None
    assert file.metadata_sha256 == hashlib.sha256(dist.metadata).hexdigest()


def test_first_seen_is_kept_when_the_page_is_fetched_again(world: World) -> None:
    world.upstream.publish("demo", "1.0")
    world.project()
    world.clock.advance(TTL + timedelta(seconds=1))
    world.upstream.publish("demo", "2.0")

    state = world.project()

    assert state is not None
    assert {f.version: f.first_seen for f in state.files} == {
        "1.0": T0,
        "2.0": T0 + TTL + timedelta(seconds=1),
    }


def test_within_the_ttl_no_request_goes_upstream(world: World) -> None:
    world.upstream.publish("demo", "1.0")
    first = world.project()
    world.clock.advance(TTL - timedelta(seconds=1))

    again = world.project()

    assert len(world.upstream.requests) == 1
    assert again is not None and first is not None
    assert again.files == first.files
    assert again.expires_at == T0 + TTL


def test_after_the_ttl_a_304_revalidation_only_moves_fetched_at(world: World) -> None:
    world.upstream.publish("demo", "1.0")
    first = world.project()
    assert first is not None
    before = serials(world)
    events = len(world.uow.db.events)
    later = T0 + TTL + timedelta(seconds=1)
    world.clock.advance(later - T0)

    state = world.project()

    assert state is not None
    [_, revalidation] = world.upstream.pages()
    assert revalidation.headers["If-None-Match"] == first.project.etag
    assert world.upstream.statuses[-1] == 304
    assert state.project == replace(first.project, fetched_at=later)
    assert world.stored()[0] == state.project
    assert state.files == first.files
    assert state.expires_at == later + TTL
    assert serials(world) == before
    assert len(world.uow.db.events) == events


def test_first_fetch_keeps_every_index_serial_so_cached_pages_survive(world: World) -> None:
    world.upstream.publish("demo", "1.0")
    before = serials(world)

    state = world.project()

    assert state is not None
    assert serials(world) == before
    assert state.project.last_serial > 0


def _new_file(upstream: FakeUpstream) -> None:
    upstream.publish("demo", "2.0")


def _yank(upstream: FakeUpstream) -> None:
    upstream.projects["demo"][0].yanked = "security issue"


@pytest.mark.parametrize("change", [_new_file, _yank], ids=["new file", "yank"])
def test_a_changed_upstream_bumps_the_mirror_and_the_virtual_index_over_it(
    world: World, change: Any
) -> None:
    world.upstream.publish("demo", "1.0")
    world.project()
    before = serials(world)
    change(world.upstream)
    world.clock.advance(TTL + timedelta(seconds=1))

    state = world.project()

    after = serials(world)
    assert state is not None
    assert after[MIRROR] > before[MIRROR]
    assert after["root"] > before["root"]
    assert (after["hosted"], after["other"]) == (before["hosted"], before["other"])
    assert state.project.last_serial == after[MIRROR]
    assert [(f.version, f.yanked_reason) for f in state.files] == [
        (d.filename.split("-")[1], d.yanked or "") for d in world.upstream.projects["demo"]
    ]


def test_a_fresh_fetch_unyanks_a_file(world: World) -> None:
    dist = world.upstream.publish("demo", "1.0", yanked="oops")
    world.project()
    dist.yanked = False
    world.clock.advance(TTL + timedelta(seconds=1))

    state = world.project()

    assert state is not None
    assert [(f.yanked, f.yanked_reason) for f in state.files] == [(False, "")]


def test_upstream_404_is_cached_as_missing_for_the_ttl(world: World) -> None:
    state = world.project("nothing-here")

    assert state is not None
    assert not state.project.exists
    assert state.files == ()
    world.clock.advance(TTL - timedelta(seconds=1))
    again = world.project("nothing-here")
    assert again is not None and not again.project.exists
    assert len(world.upstream.requests) == 1

    world.clock.advance(timedelta(seconds=2))
    world.project("nothing-here")
    assert len(world.upstream.requests) == 2
    assert "If-None-Match" not in world.upstream.requests[1].headers


def test_a_404_does_not_bump_serials_when_nothing_was_known(world: World) -> None:
    before = serials(world)

    world.project("nothing-here")

    assert serials(world) == before


def test_project_appearing_upstream_after_a_cached_404_is_listed_after_the_ttl(
    world: World,
) -> None:
    world.project()
    world.upstream.publish("demo", "1.0")
    world.clock.advance(TTL + timedelta(seconds=1))

    state = world.project()

    assert state is not None and state.project.exists
    assert [f.version for f in state.files] == ["1.0"]


FAILURES: list[tuple[Any, type[Exception]]] = [
    (503, UpstreamUnavailable),
    (500, UpstreamUnavailable),
    (httpx.ConnectError("connection refused"), UpstreamUnavailable),
    (httpx.ReadTimeout("too slow"), UpstreamTimeout),
]


@pytest.mark.parametrize(("failure", "error"), FAILURES, ids=["503", "500", "refused", "timeout"])
def test_upstream_failure_serves_the_cached_page_stale_and_counts_it(
    world: World, failure: Any, error: type[Exception]
) -> None:
    world.upstream.publish("demo", "1.0")
    first = world.project()
    assert first is not None
    before = serials(world)
    counted = stale_count()
    world.upstream.failure = failure
    world.clock.advance(TTL + timedelta(seconds=1))

    state = world.project()

    assert state is not None
    assert state.stale
    assert state.files == first.files
    assert state.project == first.project
    assert state.expires_at == world.clock.now() + timedelta(seconds=30)
    assert stale_count() == counted + 1
    assert serials(world) == before
    assert len(world.upstream.pages()) == 2


@pytest.mark.parametrize(("failure", "error"), FAILURES, ids=["503", "500", "refused", "timeout"])
def test_upstream_failure_without_a_cached_page_raises(
    world: World, failure: Any, error: type[Exception]
) -> None:
    world.upstream.publish("demo", "1.0")
    world.upstream.failure = failure

    with pytest.raises(error) as raised:
        world.project()

    assert type(raised.value) is error
    assert "upstream.test" in str(raised.value)
    assert world.stored() == (None, [])


def test_offline_mirror_serves_a_cached_page_past_its_ttl_without_asking(world: World) -> None:
    world.upstream.publish("demo", "1.0")
    first = world.project()
    world.configure(offline=True)
    world.clock.advance(TTL * 10)

    state = world.project()

    assert state is not None and first is not None
    assert state.files == first.files
    assert len(world.upstream.requests) == 1


def test_offline_mirror_knows_nothing_of_an_uncached_project(world: World) -> None:
    world.upstream.publish("demo", "1.0")
    world.configure(offline=True)

    assert world.project() is None
    assert world.upstream.requests == []


def test_file_deleted_upstream_stays_listed_and_downloadable_once_cached(world: World) -> None:
    kept = world.upstream.publish("demo", "1.0")
    world.upstream.publish("demo", "1.1")
    world.project()
    key = run(world.service.ensure_file(world.index(), world.file(kept.filename)))
    world.upstream.projects["demo"].clear()
    world.clock.advance(TTL + timedelta(seconds=1))

    state = world.project()

    assert state is not None
    assert [f.filename for f in state.files] == [kept.filename]
    downloads = len(world.upstream.downloads())
    assert run(world.service.ensure_file(world.index(), world.file(kept.filename))) == key
    assert len(world.upstream.downloads()) == downloads
    assert world.store.blobs[key] == kept.data


def test_cached_file_stays_listed_when_the_whole_project_is_deleted_upstream(
    world: World,
) -> None:
    kept = world.upstream.publish("demo", "1.0")
    world.project()
    run(world.service.ensure_file(world.index(), world.file(kept.filename)))
    del world.upstream.projects["demo"]
    world.clock.advance(TTL + timedelta(seconds=1))

    state = world.project()

    assert state is not None
    assert [f.filename for f in state.files] == [kept.filename]


def test_uncached_file_deleted_upstream_disappears(world: World) -> None:
    world.upstream.publish("demo", "1.0")
    world.upstream.publish("demo", "1.1")
    world.project()
    world.upstream.projects["demo"].pop()
    world.clock.advance(TTL + timedelta(seconds=1))

    state = world.project()

    assert state is not None
    assert [f.version for f in state.files] == ["1.0"]
    assert [f.version for f in world.stored()[1]] == ["1.0"]


def test_refetch_of_an_unchanged_html_page_after_a_download_bumps_nothing(world: World) -> None:
    world.upstream.html = True
    world.upstream.etags = False  # a full page comes back, not a 304
    dist = world.upstream.publish("demo", "1.0")
    world.project()
    run(world.service.ensure_file(world.index(), world.file(dist.filename)))
    before = serials(world)
    world.clock.advance(TTL + timedelta(seconds=1))

    world.project()

    assert serials(world) == before
    assert world.file(dist.filename).cached


# Files and metadata sidecars


def test_ensure_file_downloads_once_verifies_and_marks_the_file_cached(world: World) -> None:
    dist = world.upstream.publish("demo", "1.0")
    world.project()

    key = run(world.service.ensure_file(world.index(), world.file(dist.filename)))

    assert key == dist.sha256
    assert world.store.blobs == {key: dist.data}
    stored = world.file(dist.filename)
    assert (stored.cached, stored.sha256, stored.size) == (True, key, len(dist.data))
    assert [r.url for r in world.upstream.downloads()] == [httpx.URL(FILES + dist.filename)]
    assert run(world.service.ensure_file(world.index(), stored)) == key
    assert len(world.upstream.downloads()) == 1
    assert list(world.store.staging_dir().iterdir()) == []


def test_ensure_file_with_a_sha256_mismatch_raises_and_stores_nothing(world: World) -> None:
    dist = world.upstream.publish("demo", "1.0")
    world.project()
    world.upstream.tampered[dist.filename] = b"not the listed bytes"

    with pytest.raises(UpstreamUnavailable, match="sha256"):
        run(world.service.ensure_file(world.index(), world.file(dist.filename)))

    assert world.store.blobs == {}
    assert not world.file(dist.filename).cached
    assert list(world.store.staging_dir().iterdir()) == []


def test_ensure_file_of_a_file_without_listed_hash_stores_its_sha256(world: World) -> None:
    dist = world.upstream.publish("demo", "1.0")
    world.project()
    file = replace(world.file(dist.filename), sha256=None)

    key = run(world.service.ensure_file(world.index(), file))

    assert key == dist.sha256
    assert world.file(dist.filename).sha256 == dist.sha256


def test_ensure_file_of_an_uncached_file_on_an_offline_mirror_is_not_found(world: World) -> None:
    dist = world.upstream.publish("demo", "1.0")
    world.project()
    world.configure(offline=True)

    with pytest.raises(NotFound, match="offline"):
        run(world.service.ensure_file(world.index(), world.file(dist.filename)))

    assert world.upstream.downloads() == []


def test_concurrent_ensure_file_calls_download_once(world: World) -> None:
    dist = world.upstream.publish("demo", "1.0")
    world.project()
    world.upstream.delay = 0.05
    index, file = world.index(), world.file(dist.filename)

    async def five() -> list[str]:
        return list(
            await asyncio.gather(*(world.service.ensure_file(index, file) for _ in "12345"))
        )

    assert run(five()) == [dist.sha256] * 5
    assert len(world.upstream.downloads()) == 1


def test_concurrent_project_calls_fetch_the_page_once(world: World) -> None:
    world.upstream.publish("demo", "1.0")
    world.upstream.delay = 0.05
    index = world.index()

    async def five() -> list[MirrorState | None]:
        return list(await asyncio.gather(*(world.service.project(index, DEMO) for _ in "12345")))

    states = run(five())

    assert len(world.upstream.pages()) == 1
    assert all(s is not None and [f.version for f in s.files] == ["1.0"] for s in states)


def test_stream_file_yields_the_bytes_and_stores_them(world: World) -> None:
    dist = world.upstream.publish("demo", "1.0")
    world.project()
    index, file = world.index(), world.file(dist.filename)

    async def read() -> bytes:
        return b"".join([chunk async for chunk in world.service.stream_file(index, file)])

    assert run(read()) == dist.data
    assert world.store.blobs == {dist.sha256: dist.data}
    assert world.file(dist.filename).cached
    assert len(world.upstream.downloads()) == 1


def test_stream_file_of_tampered_bytes_fails_and_stores_nothing(world: World) -> None:
    dist = world.upstream.publish("demo", "1.0")
    world.project()
    world.upstream.tampered[dist.filename] = b"evil"
    index, file = world.index(), world.file(dist.filename)

    async def read() -> bytes:
        return b"".join([chunk async for chunk in world.service.stream_file(index, file)])

    with pytest.raises(UpstreamUnavailable, match="sha256"):
        run(read())
    assert world.store.blobs == {}
    assert not world.file(dist.filename).cached


def test_ensure_metadata_fetches_the_sidecar_verifies_it_and_fetches_it_once(
    world: World,
) -> None:
    dist = world.upstream.publish("demo", "1.0")
    world.project()
    assert dist.metadata is not None

    key = run(world.service.ensure_metadata(world.index(), world.file(dist.filename)))

    assert key == hashlib.sha256(dist.metadata).hexdigest()
    assert world.store.blobs == {key: dist.metadata}
    assert [r.url for r in world.upstream.downloads()] == [
        httpx.URL(FILES + dist.filename + ".metadata")
    ]
    stored = world.file(dist.filename)
    assert (stored.metadata_cached, stored.metadata_sha256) == (True, key)
    assert run(world.service.ensure_metadata(world.index(), stored)) == key
    assert len(world.upstream.downloads()) == 1


def test_a_wheel_without_an_upstream_sidecar_serves_its_own_metadata_fetching_it_once(
    world: World,
) -> None:
    dist = world.upstream.publish("demo", "1.0", metadata=False)
    world.project()
    listed = world.file(dist.filename)
    assert (listed.has_metadata, listed.serves_metadata) == (False, True)

    key = run(world.service.ensure_metadata(world.index(), listed))

    expected = metadata_of(world.upstream.directory / dist.filename)
    assert key == hashlib.sha256(expected).hexdigest()
    assert world.store.blobs[key] == expected
    # The wheel itself was fetched (and kept), never a sidecar URL.
    assert [r.url for r in world.upstream.downloads()] == [httpx.URL(FILES + dist.filename)]
    stored = world.file(dist.filename)
    assert (stored.cached, stored.metadata_cached, stored.metadata_sha256) == (True, True, key)
    assert run(world.service.ensure_metadata(world.index(), stored)) == key
    assert run(world.service.ensure_file(world.index(), stored)) == dist.sha256
    assert len(world.upstream.downloads()) == 1


def test_a_wheel_without_metadata_of_its_own_is_a_bad_gateway_and_no_sidecar_is_stored(
    world: World,
) -> None:
    dist = world.upstream.publish("demo", "1.0", metadata=False, omit=["METADATA"])
    world.project()

    with pytest.raises(UpstreamUnavailable, match="no core metadata to serve"):
        run(world.service.ensure_metadata(world.index(), world.file(dist.filename)))

    assert not world.file(dist.filename).metadata_cached
    assert set(world.store.blobs) == {dist.sha256}  # the wheel is kept, as any download


def test_an_sdist_without_an_upstream_sidecar_has_no_metadata_to_serve(world: World) -> None:
    world.upstream.publish("demo", "1.0", metadata=False)
    world.project()
    wheel = world.file(world.upstream.projects["demo"][0].filename)
    sdist = replace(wheel, filename="demo-1.0.tar.gz")

    assert not sdist.serves_metadata
    with pytest.raises(NotFound, match="no core metadata"):
        run(world.service.ensure_metadata(world.index(), sdist))
    assert world.upstream.downloads() == []


def test_ensure_metadata_with_a_hash_mismatch_raises_and_stores_nothing(world: World) -> None:
    dist = world.upstream.publish("demo", "1.0")
    world.project()
    world.upstream.tampered[dist.filename + ".metadata"] = b"Name: evil\n"

    with pytest.raises(UpstreamUnavailable, match="metadata"):
        run(world.service.ensure_metadata(world.index(), world.file(dist.filename)))

    assert world.store.blobs == {}
    assert not world.file(dist.filename).metadata_cached


def test_a_stale_record_after_a_finished_fetch_streams_the_stored_copy_without_refetching(
    world: World,
) -> None:
    dist = world.upstream.publish("demo", "1.0")
    world.project()
    index, stale = world.index(), world.file(dist.filename)  # read before the fetch
    run(world.service.ensure_file(index, stale))

    async def stream() -> bytes:
        return b"".join([chunk async for chunk in world.service.stream_file(index, stale)])

    assert run(stream()) == dist.data
    assert len(world.upstream.downloads()) == 1
