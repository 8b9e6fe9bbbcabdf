"""Contract of the mirror repository over SQLite, PostgreSQL and the fakes: a project's
listing is replaced whole, cache state stays with each stored file."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from packyard.domain.models import Index, IndexKind, MirrorFile, MirrorProject
from packyard.domain.names import NormalizedName

from .conftest import Backend
from .test_unit_of_work import DEMO, T0

pytestmark = pytest.mark.integration

MIRROR = "upstream"
OTHER = NormalizedName("other")


def listed(version: str = "1.0", *, project: NormalizedName = DEMO, **fields: object) -> MirrorFile:
    filename = f"{project}-{version}-py3-none-any.whl"
    values: dict[str, object] = {
        "index": MIRROR,
        "project": project,
        "filename": filename,
        "version": version,
        "upstream_url": f"https://files.upstream.test/{filename}",
        "first_seen": T0,
        "sha256": version[0] * 64,
        "size": 1234,
        "upload_time": T0 - timedelta(days=1),
        "requires_python": ">=3.9",
        "metadata_sha256": "e" * 64,
        "has_metadata": True,
    }
    return MirrorFile(**(values | fields))  # type: ignore[arg-type]


def seed(backend: Backend, *projects: NormalizedName) -> None:
    with backend.uow() as uow:
        uow.indexes.add(Index(MIRROR, IndexKind.MIRROR))
        for name in projects or (DEMO,):
            uow.mirror.save_project(MirrorProject(MIRROR, name, str(name), T0, exists=True))
        uow.commit()


def save_listing(backend: Backend, *files: MirrorFile, project: NormalizedName = DEMO) -> None:
    with backend.uow() as uow:
        uow.mirror.save_project(MirrorProject(MIRROR, project, str(project), T0, True), files)
        uow.commit()


def files(backend: Backend, project: NormalizedName = DEMO) -> list[MirrorFile]:
    with backend.uow(readonly=True) as uow:
        return list(uow.mirror.files(MIRROR, project))


def get_file(backend: Backend, filename: str, project: NormalizedName = DEMO) -> MirrorFile | None:
    with backend.uow(readonly=True) as uow:
        return uow.mirror.get_file(MIRROR, project, filename)


def test_a_listing_reads_back_whole_and_in_order(backend: Backend) -> None:
    seed(backend)
    odd = listed(
        "2.0",
        upload_time=None,
        size=None,
        sha256=None,
        requires_python=None,
        yanked=True,
        yanked_reason="broken ✗",
        metadata_sha256=None,
        has_metadata=False,
        first_seen=T0 + timedelta(microseconds=1),
    )
    save_listing(backend, listed("1.0"), odd)

    assert files(backend) == [listed("1.0"), odd]
    assert get_file(backend, odd.filename) == odd
    assert get_file(backend, "demo-9.0-py3-none-any.whl") is None


def test_a_new_listing_replaces_the_old_one(backend: Backend) -> None:
    seed(backend)
    save_listing(backend, listed("1.0"), listed("2.0"))

    save_listing(backend, listed("2.0", yanked=True), listed("3.0"))

    assert files(backend) == [listed("2.0", yanked=True), listed("3.0")]


def test_listings_are_per_project(backend: Backend) -> None:
    seed(backend, DEMO, OTHER)
    save_listing(backend, listed("1.0"))
    save_listing(backend, listed("5.0", project=OTHER), project=OTHER)

    assert files(backend) == [listed("1.0")]
    assert files(backend, OTHER) == [listed("5.0", project=OTHER)]
    assert get_file(backend, listed("1.0").filename, OTHER) is None


def test_a_cached_file_keeps_its_cache_state_and_takes_fresh_listing_fields(
    backend: Backend,
) -> None:
    seed(backend)
    save_listing(backend, listed("1.0", sha256=None, size=None))
    with backend.uow() as uow:
        uow.mirror.mark_cached(listed("1.0", sha256=None, size=None), sha256="c" * 64, size=99)
        uow.commit()

    save_listing(backend, listed("1.0", sha256=None, size=None, yanked=True, yanked_reason="r"))

    expected = listed("1.0", sha256="c" * 64, size=99, yanked=True, yanked_reason="r", cached=True)
    assert files(backend) == [expected]
    assert get_file(backend, expected.filename) == expected


def test_a_cached_file_stays_after_the_upstream_drops_it_an_uncached_one_goes(
    backend: Backend,
) -> None:
    seed(backend)
    save_listing(backend, listed("1.0"), listed("2.0"))
    with backend.uow() as uow:
        uow.mirror.mark_cached(listed("1.0"), sha256="1" * 64, size=1234)
        uow.mirror.mark_metadata_cached(listed("2.0"), sha256="e" * 64)
        uow.commit()

    save_listing(backend, listed("3.0"))

    kept = listed("1.0", cached=True)
    assert files(backend) == [listed("3.0"), kept]
    assert get_file(backend, kept.filename) == kept
    assert get_file(backend, listed("2.0").filename) is None


def test_a_metadata_sidecar_is_cached_apart_from_the_file(backend: Backend) -> None:
    seed(backend)
    save_listing(backend, listed("1.0", metadata_sha256=None))
    with backend.uow() as uow:
        uow.mirror.mark_metadata_cached(listed("1.0", metadata_sha256=None), sha256="f" * 64)
        uow.commit()
    with backend.uow() as uow:
        uow.mirror.mark_cached(listed("1.0", metadata_sha256=None), sha256="1" * 64, size=1234)
        uow.commit()

    (file,) = files(backend)
    assert (file.cached, file.metadata_cached, file.metadata_sha256) == (True, True, "f" * 64)


def test_cache_state_given_with_a_listing_is_not_taken(backend: Backend) -> None:
    seed(backend)

    save_listing(backend, listed("1.0", cached=True, metadata_cached=True))

    assert files(backend) == [listed("1.0")]


def test_a_project_saved_without_a_listing_keeps_the_stored_one(backend: Backend) -> None:
    seed(backend)
    save_listing(backend, listed("1.0"))
    with backend.uow() as uow:
        uow.mirror.save_project(MirrorProject(MIRROR, DEMO, "Demo", T0 + timedelta(1), True))
        uow.commit()

    assert files(backend) == [listed("1.0")]


def test_the_first_listing_of_a_project_saves_the_project_too(backend: Backend) -> None:
    seed(backend)

    save_listing(backend, listed("5.0", project=OTHER), project=OTHER)

    with backend.uow(readonly=True) as uow:
        assert uow.mirror.get_project(MIRROR, OTHER) is not None
    assert files(backend, OTHER) == [listed("5.0", project=OTHER)]


def test_a_listing_not_committed_is_not_stored(backend: Backend) -> None:
    seed(backend)
    save_listing(backend, listed("1.0"))
    with backend.uow() as uow:
        uow.mirror.save_project(MirrorProject(MIRROR, DEMO, "Demo", T0, True), [listed("2.0")])

    assert files(backend) == [listed("1.0")]


def test_a_big_listing_round_trips(backend: Backend) -> None:
    seed(backend)
    many = [
        dataclasses.replace(listed(f"1.{n}"), first_seen=T0 + timedelta(seconds=n))
        for n in range(5000)
    ]

    save_listing(backend, *many)

    assert files(backend) == many
