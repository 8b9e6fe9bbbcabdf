"""publish(): a distribution file goes into a hosted index, or nothing changes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fakes import FakeFileStore, FakeUnitOfWork, FakeUnitOfWorkFactory
from helpers.dists import make_sdist, make_wheel, metadata_of
from packyard.adapters.spool import spool_file
from packyard.domain.errors import (
    Conflict,
    DigestMismatch,
    FileExists,
    InvalidFilename,
    InvalidInput,
    InvalidMetadata,
    NotFound,
)
from packyard.domain.models import Index, IndexKind, PackageType
from packyard.domain.names import NormalizedName
from packyard.domain.upload import UploadForm
from packyard.services.publish import PublishResult, publish

pytestmark = pytest.mark.unit

NOW = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    factory = FakeUnitOfWorkFactory()
    with factory() as unit:
        unit.indexes.add(Index(name="main", kind=IndexKind.HOSTED))
        unit.indexes.add(Index(name="mirror", kind=IndexKind.MIRROR))
        unit.commit()
    return factory


@pytest.fixture
def store(tmp_path: Path) -> FakeFileStore:
    return FakeFileStore(tmp_path / "staging")


def upload(
    uow: FakeUnitOfWorkFactory,
    store: FakeFileStore,
    path: Path,
    *,
    index: str = "main",
    form: UploadForm | None = None,
    allow_legacy: bool = False,
    now: datetime = NOW,
) -> PublishResult:
    """Spool a copy of `path` as the upload route does, then publish it."""
    with path.open("rb") as source:
        spooled = spool_file(source, store.staging_dir(), max_size=1 << 30)
    return publish(
        uow_factory=uow,
        files=store,
        index=index,
        received=spooled,
        filename=path.name,
        actor="alice",
        now=now,
        form=form,
        allow_legacy=allow_legacy,
    )


def form(**fields: str) -> UploadForm:
    return UploadForm.from_fields({":action": "file_upload", "protocol_version": "1", **fields})


def listed(uow: FakeUnitOfWorkFactory, index: str = "main") -> list[str]:
    with uow(readonly=True) as unit:
        return [
            f.filename
            for p in unit.projects.list(index)
            for f in unit.files.for_project(index, p.name)
        ]


def test_wheel_is_stored_with_its_digests_size_time_and_requires_python(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    wheel = make_wheel(tmp_path, "Demo.Pkg", "1.0", requires_python=">=3.9")
    data = wheel.read_bytes()

    result = upload(uow, store, wheel)

    assert result.created
    with uow(readonly=True) as unit:
        stored = unit.files.get("main", wheel.name)
    assert stored is not None
    assert stored == result.file
    assert stored.project == "demo-pkg"
    assert stored.version == "1.0"
    assert stored.packagetype is PackageType.WHEEL
    assert stored.digests.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.digests.blake2b_256 == hashlib.blake2b(data, digest_size=32).hexdigest()
    assert stored.digests.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert stored.size == len(data)
    assert stored.upload_time == NOW
    assert stored.uploader == "alice"
    assert stored.requires_python == ">=3.9"
    assert store.blobs[stored.digests.sha256] == data


def test_wheel_gets_a_metadata_sidecar_equal_to_its_metadata_file(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0")
    metadata = metadata_of(wheel)

    stored = upload(uow, store, wheel).file

    assert stored.metadata_sha256 == hashlib.sha256(metadata).hexdigest()
    assert store.blobs[stored.metadata_sha256] == metadata


def test_the_original_upload_is_not_left_in_the_staging_dir(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    upload(uow, store, make_wheel(tmp_path, "demo", "1.0"))

    assert list(store.staging_dir().iterdir()) == []


@pytest.mark.parametrize(
    ("metadata_version", "dynamic", "has_sidecar"),
    [
        ("2.2", (), True),
        ("2.4", (), True),
        ("2.2", ("Requires-Dist",), False),
        ("2.1", (), False),
        ("1.2", (), False),
    ],
)
def test_sdist_gets_a_sidecar_only_when_its_metadata_is_static(
    uow: FakeUnitOfWorkFactory,
    store: FakeFileStore,
    tmp_path: Path,
    metadata_version: str,
    dynamic: tuple[str, ...],
    has_sidecar: bool,
) -> None:
    sdist = make_sdist(tmp_path, "demo", "1.0", metadata_version=metadata_version, dynamic=dynamic)

    stored = upload(uow, store, sdist).file

    assert stored.packagetype is PackageType.SDIST
    assert stored.python_version == "source"
    if has_sidecar:
        pkg_info = metadata_of(sdist)
        assert stored.metadata_sha256 == hashlib.sha256(pkg_info).hexdigest()
        assert store.blobs[stored.metadata_sha256] == pkg_info
    else:
        assert stored.metadata_sha256 is None
        assert set(store.blobs) == {stored.digests.sha256}


def test_identical_reupload_is_accepted_and_changes_nothing(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0")
    first = upload(uow, store, wheel)
    blobs, db = dict(store.blobs), uow.db

    again = upload(uow, store, wheel, now=datetime(2030, 1, 1, tzinfo=UTC))

    assert again.created is False
    assert again.file == first.file
    assert store.blobs == blobs
    assert uow.db == db


def test_other_bytes_under_a_taken_filename_are_refused_and_change_nothing(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    upload(uow, store, make_wheel(tmp_path, "demo", "1.0"))
    blobs, db = dict(store.blobs), uow.db
    (tmp_path / "other").mkdir()
    impostor = make_wheel(tmp_path / "other", "demo", "1.0", summary="different bytes")

    with pytest.raises(FileExists, match="File already exists") as caught:
        upload(uow, store, impostor)

    assert impostor.name in str(caught.value)
    assert store.blobs == blobs
    assert uow.db == db


@pytest.mark.parametrize(
    ("fields", "error", "named"),
    [
        ({"name": "other-project"}, InvalidMetadata, ("other-project", "demo")),
        ({"version": "2.0"}, InvalidMetadata, ("2.0", "1.0")),
        ({"filetype": "sdist"}, InvalidInput, ("sdist", "bdist_wheel")),
        ({"filetype": "bdist_egg"}, InvalidInput, ("bdist_egg",)),
        ({"sha256_digest": "0" * 64}, DigestMismatch, ("sha256_digest", "0" * 64)),
        ({"md5_digest": "f" * 32}, DigestMismatch, ("md5_digest", "f" * 32)),
        ({"blake2_256_digest": "a" * 64}, DigestMismatch, ("blake2_256_digest", "a" * 64)),
    ],
)
def test_form_that_disagrees_with_the_file_is_refused_naming_both_values(
    uow: FakeUnitOfWorkFactory,
    store: FakeFileStore,
    tmp_path: Path,
    fields: dict[str, str],
    error: type[Exception],
    named: tuple[str, ...],
) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0")
    db = uow.db

    with pytest.raises(error) as caught:
        upload(uow, store, wheel, form=form(**fields))

    for value in named:
        assert value in str(caught.value)
    assert store.blobs == {}
    assert uow.db == db


def test_digest_mismatch_message_names_the_real_digest(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0")

    with pytest.raises(DigestMismatch) as caught:
        upload(uow, store, wheel, form=form(sha256_digest="0" * 64))

    assert hashlib.sha256(wheel.read_bytes()).hexdigest() in str(caught.value)


def test_form_that_agrees_with_the_file_is_accepted(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    wheel = make_wheel(tmp_path, "Demo_Pkg", "1.0")
    data = wheel.read_bytes()
    fields = {
        "name": "demo.pkg",
        "version": "1.0.0",
        "filetype": "bdist_wheel",
        "pyversion": "py3",
        "sha256_digest": hashlib.sha256(data).hexdigest().upper(),
        "md5_digest": hashlib.md5(data, usedforsecurity=False).hexdigest(),
    }

    result = upload(uow, store, wheel, form=form(**fields))

    assert result.created
    assert result.file.python_version == "py3"


def test_upload_to_a_missing_index_is_not_found(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    with pytest.raises(NotFound, match="nowhere"):
        upload(uow, store, make_wheel(tmp_path, "demo", "1.0"), index="nowhere")

    assert store.blobs == {}


def test_upload_to_a_non_hosted_index_is_refused(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    with pytest.raises(Conflict, match="mirror"):
        upload(uow, store, make_wheel(tmp_path, "demo", "1.0"), index="mirror")

    assert listed(uow, "mirror") == []


def test_crash_before_commit_leaves_no_listed_file(
    uow: FakeUnitOfWorkFactory,
    store: FakeFileStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def crash(self: FakeUnitOfWork) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(FakeUnitOfWork, "commit", crash)
    wheel = make_wheel(tmp_path, "demo", "1.0")

    with pytest.raises(RuntimeError, match="power cut"):
        upload(uow, store, wheel)

    # The blob was written first (at worst an unreferenced blob is left) ...
    assert hashlib.sha256(wheel.read_bytes()).hexdigest() in store.blobs
    # ... but nothing lists it.
    monkeypatch.undo()
    assert listed(uow) == []
    assert uow.db.events == []
    with uow(readonly=True) as unit:
        assert unit.files.get("main", wheel.name) is None
        assert unit.projects.list("main") == []


def test_each_upload_bumps_the_index_serial_and_the_projects_last_serial(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    serials = []
    for version in ("1.0", "1.1"):
        upload(uow, store, make_wheel(tmp_path, "demo", version))
        with uow(readonly=True) as unit:
            index = unit.indexes.get("main")
            project = unit.projects.get("main", NormalizedName("demo"))
            last = unit.events.last_serial()
        assert index is not None
        assert project is not None
        assert index.serial == project.last_serial == last
        serials.append(last)

    assert serials[0] < serials[1]
    uploaded = [e for e in uow.db.events if e.action == "file_uploaded"]
    assert [e.filename for e in uploaded] == [
        "demo-1.0-py3-none-any.whl",
        "demo-1.1-py3-none-any.whl",
    ]
    assert uploaded[0].actor == "alice"


def test_upload_to_one_index_does_not_touch_another_indexes_serial(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    with uow() as unit:
        unit.indexes.add(Index(name="other", kind=IndexKind.HOSTED))
        unit.commit()

    upload(uow, store, make_wheel(tmp_path, "demo", "1.0"))

    with uow(readonly=True) as unit:
        other = unit.indexes.get("other")
    assert other is not None
    assert other.serial == 0


def test_legacy_sdist_name_is_refused_on_upload(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    legacy = make_sdist(tmp_path, "Foo-Bar", "1.0", filename="Foo-Bar-1.0.tar.gz")

    with pytest.raises(InvalidFilename, match="PEP 625"):
        upload(uow, store, legacy)

    assert store.blobs == {}


def test_legacy_sdist_name_is_accepted_when_allowed(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    legacy = make_sdist(tmp_path, "Foo-Bar", "1.0", filename="Foo-Bar-1.0.tar.gz")

    result = upload(uow, store, legacy, allow_legacy=True)

    assert result.created
    assert result.file.project == "foo-bar"
    assert listed(uow) == ["Foo-Bar-1.0.tar.gz"]


def test_metadata_that_disagrees_with_the_filename_is_refused(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, tmp_path: Path
) -> None:
    wheel = make_wheel(tmp_path, "demo", "1.0", filename="demo-2.0-py3-none-any.whl")

    with pytest.raises(InvalidMetadata, match="version"):
        upload(uow, store, wheel)

    assert store.blobs == {}
    assert listed(uow) == []
