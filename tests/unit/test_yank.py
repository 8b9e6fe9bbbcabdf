"""set_yanked(): PEP 592 yanking per release or per file, reversible and idempotent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fakes import FakeFileStore, FakeUnitOfWorkFactory
from helpers.dists import make_sdist, make_wheel
from packyard.adapters.spool import spool_file
from packyard.domain.errors import NotFound
from packyard.domain.models import DistFile, Index, IndexKind
from packyard.domain.names import NormalizedName
from packyard.services.publish import publish
from packyard.services.yank import set_yanked

pytestmark = pytest.mark.unit

NOW = datetime(2024, 1, 1, tzinfo=UTC)
WHEEL_10 = "demo-1.0-py3-none-any.whl"
SDIST_10 = "demo-1.0.tar.gz"
WHEEL_20 = "demo-2.0-py3-none-any.whl"
RELEASE_10 = sorted([WHEEL_10, SDIST_10])


@pytest.fixture
def uow(tmp_path: Path) -> FakeUnitOfWorkFactory:
    """An index "main" holding demo 1.0 (wheel and sdist) and demo 2.0 (wheel)."""
    factory = FakeUnitOfWorkFactory()
    with factory() as unit:
        unit.indexes.add(Index(name="main", kind=IndexKind.HOSTED))
        unit.commit()
    store = FakeFileStore(tmp_path / "staging")
    for path in (
        make_wheel(tmp_path, "demo", "1.0"),
        make_sdist(tmp_path, "demo", "1.0"),
        make_wheel(tmp_path, "demo", "2.0"),
    ):
        with path.open("rb") as source:
            spooled = spool_file(source, store.staging_dir(), max_size=1 << 30)
        publish(
            uow_factory=factory,
            files=store,
            index="main",
            received=spooled,
            filename=path.name,
            actor="alice",
            now=NOW,
        )
    return factory


def yank(uow: FakeUnitOfWorkFactory, version: str, **options: object) -> list[str]:
    changed = set_yanked(
        uow_factory=uow,
        index="main",
        project="demo",
        version=version,
        yanked=True,
        actor="bob",
        **options,  # type: ignore[arg-type]
    )
    return sorted(f.filename for f in changed)


def unyank(uow: FakeUnitOfWorkFactory, version: str, **options: object) -> list[str]:
    changed = set_yanked(
        uow_factory=uow,
        index="main",
        project="demo",
        version=version,
        yanked=False,
        actor="bob",
        **options,  # type: ignore[arg-type]
    )
    return sorted(f.filename for f in changed)


def state(uow: FakeUnitOfWorkFactory) -> dict[str, tuple[bool, str]]:
    with uow(readonly=True) as unit:
        files: list[DistFile] = list(unit.files.for_project("main", NormalizedName("demo")))
    return {f.filename: (f.yanked, f.yanked_reason) for f in files}


def test_yanking_a_release_yanks_all_its_files_and_stores_the_reason(
    uow: FakeUnitOfWorkFactory,
) -> None:
    changed = yank(uow, "1.0", reason="broken build")

    assert changed == RELEASE_10
    assert state(uow) == {
        WHEEL_10: (True, "broken build"),
        SDIST_10: (True, "broken build"),
        WHEEL_20: (False, ""),
    }


def test_yanking_one_file_leaves_the_rest_of_the_release_alone(
    uow: FakeUnitOfWorkFactory,
) -> None:
    changed = yank(uow, "1.0", filename=WHEEL_10, reason="bad wheel")

    assert changed == [WHEEL_10]
    assert state(uow)[WHEEL_10] == (True, "bad wheel")
    assert state(uow)[SDIST_10] == (False, "")


def test_unyanking_restores_the_files_and_clears_the_reason(
    uow: FakeUnitOfWorkFactory,
) -> None:
    yank(uow, "1.0", reason="oops")

    changed = unyank(uow, "1.0")

    assert changed == RELEASE_10
    assert state(uow)[WHEEL_10] == (False, "")
    assert state(uow)[SDIST_10] == (False, "")


def test_unyanking_one_file_keeps_the_others_yanked(uow: FakeUnitOfWorkFactory) -> None:
    yank(uow, "1.0", reason="oops")

    assert unyank(uow, "1.0", filename=SDIST_10) == [SDIST_10]

    assert state(uow)[WHEEL_10] == (True, "oops")
    assert state(uow)[SDIST_10] == (False, "")


@pytest.mark.parametrize("spelling", ["1.0.0", "1.0", "1", "1.0.0.0"])
def test_versions_are_compared_canonically(uow: FakeUnitOfWorkFactory, spelling: str) -> None:
    assert yank(uow, spelling) == RELEASE_10


def test_project_name_is_normalised(uow: FakeUnitOfWorkFactory) -> None:
    changed = set_yanked(
        uow_factory=uow, index="main", project="DEMO", version="2.0", yanked=True, actor="bob"
    )

    assert [f.filename for f in changed] == [WHEEL_20]


@pytest.mark.parametrize(
    ("project", "version", "filename", "index"),
    [
        ("demo", "3.0", None, "main"),
        ("demo", "1.0", "demo-1.0-cp311-cp311-linux_x86_64.whl", "main"),
        ("demo", "2.0", WHEEL_10, "main"),
        ("unknown", "1.0", None, "main"),
        ("demo", "1.0", None, "nowhere"),
    ],
)
def test_unknown_release_file_project_or_index_is_not_found(
    uow: FakeUnitOfWorkFactory, project: str, version: str, filename: str | None, index: str
) -> None:
    before = uow.db

    with pytest.raises(NotFound):
        set_yanked(
            uow_factory=uow,
            index=index,
            project=project,
            version=version,
            yanked=True,
            actor="bob",
            filename=filename,
        )

    assert uow.db == before


def test_yanking_again_with_the_same_reason_changes_nothing(uow: FakeUnitOfWorkFactory) -> None:
    yank(uow, "1.0", reason="oops")
    before = uow.db

    assert yank(uow, "1.0", reason="oops") == []

    assert uow.db == before


def test_unyanking_a_file_that_is_not_yanked_changes_nothing(uow: FakeUnitOfWorkFactory) -> None:
    before = uow.db

    assert unyank(uow, "2.0") == []

    assert uow.db == before


def test_yanking_again_with_another_reason_updates_the_reason(
    uow: FakeUnitOfWorkFactory,
) -> None:
    yank(uow, "1.0", reason="first")

    assert yank(uow, "1.0", reason="second") == RELEASE_10

    assert state(uow)[WHEEL_10] == (True, "second")


def test_each_change_is_an_event_and_bumps_the_serials(uow: FakeUnitOfWorkFactory) -> None:
    before = len(uow.db.events)

    yank(uow, "1.0", reason="oops")

    events = uow.db.events[before:]
    assert [(e.action, e.filename, e.actor) for e in events] == [
        ("file_yanked", WHEEL_10, "bob"),
        ("file_yanked", SDIST_10, "bob"),
    ]
    assert all(e.data == {"reason": "oops"} for e in events)
    with uow(readonly=True) as unit:
        index = unit.indexes.get("main")
        project = unit.projects.get("main", NormalizedName("demo"))
    assert index is not None
    assert project is not None
    assert index.serial == project.last_serial == events[-1].serial


def test_unyank_event_is_recorded(uow: FakeUnitOfWorkFactory) -> None:
    yank(uow, "2.0")
    before = len(uow.db.events)

    unyank(uow, "2.0")

    assert [(e.action, e.filename) for e in uow.db.events[before:]] == [("file_unyanked", WHEEL_20)]
