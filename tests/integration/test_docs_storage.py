"""Contract of the docs repository over SQLite, PostgreSQL and the fakes; and docs archives
staged into real file stores."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from helpers.docs_zips import SITE, site_zip, traversal_zip
from packyard import ports
from packyard.adapters.docs_archive import read_docs_zip
from packyard.domain.docs import DocMember, DocSet
from packyard.domain.errors import InvalidArchive, NotFound
from packyard.domain.models import Index, IndexKind
from packyard.domain.names import NormalizedName

from .conftest import Backend
from .test_unit_of_work import DEMO, T0, run_concurrently, seed

pytestmark = pytest.mark.integration

OTHER = NormalizedName("other")


def docset(
    version: str = "1.0", *, project: NormalizedName = DEMO, pages: int = 2, tag: str = "a"
) -> DocSet:
    members = {
        f"p{n}.html": DocMember(f"p{n}.html", tag * 64, n + 1, "text/html; charset=utf-8")
        for n in range(pages)
    }
    members["index.html"] = DocMember("index.html", "f" * 64, 7, "text/html; charset=utf-8")
    return DocSet("hosted", project, version, members, uploaded=T0, uploader="alice")


def save(backend: Backend, *sets: DocSet) -> None:
    with backend.uow() as uow:
        for item in sets:
            uow.docs.save(item)
        uow.commit()


def test_a_saved_manifest_reads_back_whole(backend: Backend) -> None:
    seed(backend)
    saved = docset(pages=3)

    save(backend, saved)

    with backend.uow(readonly=True) as uow:
        assert uow.docs.get("hosted", DEMO, "1.0") == saved


def test_versions_are_per_project_and_index_in_upload_order(backend: Backend) -> None:
    seed(backend)
    with backend.uow() as uow:
        uow.indexes.add(Index("second", IndexKind.HOSTED))
        uow.commit()
    save(backend, docset("2.0"), docset("1.0"), docset("3.0", project=OTHER))
    save(backend, dataclasses.replace(docset("9.0"), index="second"))

    with backend.uow(readonly=True) as uow:
        assert list(uow.docs.versions("hosted", DEMO)) == ["2.0", "1.0"]
        assert list(uow.docs.versions("hosted", OTHER)) == ["3.0"]
        assert list(uow.docs.versions("second", DEMO)) == ["9.0"]
        assert uow.docs.get("hosted", DEMO, "9.0") is None


def test_saving_again_replaces_the_manifest_as_a_whole(backend: Backend) -> None:
    seed(backend)
    save(backend, docset(pages=5, tag="a"))
    replacement = dataclasses.replace(docset(pages=1, tag="b"), uploader="bob")

    save(backend, replacement)

    with backend.uow(readonly=True) as uow:
        assert uow.docs.get("hosted", DEMO, "1.0") == replacement
        assert list(uow.docs.versions("hosted", DEMO)) == ["1.0"]


def test_an_uncommitted_save_is_not_visible(backend: Backend) -> None:
    seed(backend)
    save(backend, docset(tag="a"))

    with backend.uow() as uow:
        uow.docs.save(docset(tag="b"))  # no commit: rolled back

    with backend.uow(readonly=True) as uow:
        stored = uow.docs.get("hosted", DEMO, "1.0")
    assert stored == docset(tag="a")


def test_saving_docs_in_an_unknown_index_is_not_found(backend: Backend) -> None:
    seed(backend)
    with backend.uow() as uow, pytest.raises(NotFound):
        uow.docs.save(dataclasses.replace(docset(), index="nowhere"))


def test_concurrent_uploads_of_one_release_leave_one_whole_manifest(
    sql_backend: Backend,
) -> None:
    seed(sql_backend)
    tags = "abcd"

    def upload(i: int) -> None:
        save(sql_backend, docset(pages=i + 1, tag=tags[i]))

    results = run_concurrently(len(tags), upload)

    assert not [r for r in results if isinstance(r, Exception)]
    with sql_backend.uow(readonly=True) as uow:
        stored = uow.docs.get("hosted", DEMO, "1.0")
    assert stored in [docset(pages=i + 1, tag=tag) for i, tag in enumerate(tags)]


def test_archive_members_are_staged_beside_the_store_then_stored_by_digest(
    file_store: ports.FileStore, tmp_path: Path
) -> None:
    staged = read_docs_zip(site_zip(tmp_path / "site.zip"), file_store.staging_dir())

    for member in staged:
        file_store.put_path(member.sha256, member.staged)

    stored = {}
    for member in staged:
        with file_store.open(member.sha256) as blob:
            stored[member.path] = blob.read()
    assert stored == dict(SITE)


def test_a_hostile_archive_leaves_nothing_staged(
    file_store: ports.FileStore, tmp_path: Path
) -> None:
    with pytest.raises(InvalidArchive):
        read_docs_zip(traversal_zip(tmp_path / "evil.zip"), file_store.staging_dir())

    assert list(file_store.staging_dir().iterdir()) == []
    assert list(file_store.keys()) == []
