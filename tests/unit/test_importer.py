"""import_file(): one file of a pypiserver directory into a hosted index."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fakes import FakeFileStore, FakeUnitOfWorkFactory
from helpers.dists import make_corrupt_sdist, make_corrupt_wheel, make_sdist, make_wheel
from packyard.domain.models import Index, IndexKind
from packyard.services.importer import ImportOutcome, import_file

pytestmark = pytest.mark.unit

MTIME = datetime(2019, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    factory = FakeUnitOfWorkFactory()
    with factory() as unit:
        unit.indexes.add(Index(name="main", kind=IndexKind.HOSTED))
        unit.commit()
    return factory


@pytest.fixture
def store(tmp_path: Path) -> FakeFileStore:
    return FakeFileStore(tmp_path / "staging")


@pytest.fixture
def packages(tmp_path: Path) -> Path:
    directory = tmp_path / "packages"
    directory.mkdir()
    return directory


def run(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, path: Path, when: datetime = MTIME
) -> tuple[ImportOutcome, str]:
    return import_file(
        uow_factory=uow, files=store, index="main", path=path, upload_time=when, actor="importer"
    )


def test_new_file_is_imported_with_the_given_upload_time(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, packages: Path
) -> None:
    wheel = make_wheel(packages, "demo", "1.0")

    outcome, detail = run(uow, store, wheel)

    assert (outcome, detail) == (ImportOutcome.IMPORTED, wheel.name)
    with uow(readonly=True) as unit:
        stored = unit.files.get("main", wheel.name)
    assert stored is not None
    assert stored.upload_time == MTIME
    assert stored.uploader == "importer"
    assert store.blobs[stored.digests.sha256] == wheel.read_bytes()


def test_original_file_is_left_untouched(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, packages: Path
) -> None:
    wheel = make_wheel(packages, "demo", "1.0")
    before = wheel.read_bytes()
    stat = wheel.stat()

    run(uow, store, wheel)

    assert wheel.read_bytes() == before
    assert wheel.stat().st_mtime_ns == stat.st_mtime_ns
    assert sorted(p.name for p in packages.iterdir()) == [wheel.name]


def test_rerun_skips_a_file_imported_before(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, packages: Path
) -> None:
    sdist = make_sdist(packages, "demo", "1.0")
    run(uow, store, sdist)
    events = list(uow.db.events)

    outcome, detail = run(uow, store, sdist, when=datetime(2025, 1, 1, tzinfo=UTC))

    assert (outcome, detail) == (ImportOutcome.SKIPPED, sdist.name)
    assert uow.db.events == events
    with uow(readonly=True) as unit:
        stored = unit.files.get("main", sdist.name)
    assert stored is not None
    assert stored.upload_time == MTIME


def test_legacy_sdist_name_is_imported(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, packages: Path
) -> None:
    legacy = make_sdist(packages, "Foo-Bar", "1.0", filename="Foo-Bar-1.0.tar.gz")

    assert run(uow, store, legacy) == (ImportOutcome.IMPORTED, "Foo-Bar-1.0.tar.gz")


def test_egg_is_refused_with_the_reason(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, packages: Path
) -> None:
    egg = packages / "demo-1.0-py3.11.egg"
    egg.write_bytes(b"PK\x05\x06" + bytes(18))

    outcome, reason = run(uow, store, egg)

    assert outcome is ImportOutcome.REFUSED
    assert "egg" in reason
    assert "Invalid file extension" in reason
    assert store.blobs == {}


@pytest.mark.parametrize(
    "build",
    [
        make_corrupt_wheel,
        make_corrupt_sdist,
        lambda d, n, v: make_corrupt_sdist(d, n, v, layer="tar"),
    ],
    ids=["wheel", "sdist-gzip", "sdist-tar"],
)
def test_corrupt_file_is_refused_with_a_reason_and_nothing_is_stored(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, packages: Path, build: object
) -> None:
    corrupt = build(packages, "demo", "1.0")  # type: ignore[operator]

    outcome, reason = run(uow, store, corrupt)

    assert outcome is ImportOutcome.REFUSED
    assert reason
    assert store.blobs == {}
    assert uow.db.events == []


def test_other_bytes_under_an_imported_name_are_refused(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, packages: Path, tmp_path: Path
) -> None:
    run(uow, store, make_wheel(packages, "demo", "1.0"))
    (tmp_path / "later").mkdir()
    changed = make_wheel(tmp_path / "later", "demo", "1.0", summary="rebuilt")

    outcome, reason = run(uow, store, changed)

    assert outcome is ImportOutcome.REFUSED
    assert "File already exists" in reason


def test_unreadable_file_is_refused_not_raised(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, packages: Path
) -> None:
    outcome, reason = run(uow, store, packages / "demo-1.0-py3-none-any.whl")

    assert outcome is ImportOutcome.REFUSED
    assert reason.startswith("cannot read")


@pytest.mark.parametrize("kind", ["imported", "skipped", "refused"])
def test_no_copy_is_left_in_the_staging_dir(
    uow: FakeUnitOfWorkFactory, store: FakeFileStore, packages: Path, kind: str
) -> None:
    wheel = make_wheel(packages, "demo", "1.0")
    if kind == "skipped":
        run(uow, store, wheel)
    if kind == "refused":
        wheel = make_corrupt_wheel(packages, "demo", "1.0")

    outcome, _ = run(uow, store, wheel)

    assert outcome == kind
    assert list(store.staging_dir().iterdir()) == []
