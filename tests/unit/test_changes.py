"""record_change: one event, and the serials of every page that shows the change."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from fakes import FakeUnitOfWorkFactory
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import Event, Index, IndexKind
from packyard.domain.names import NormalizedName
from packyard.services.changes import affected_indexes, record_change

pytestmark = pytest.mark.unit


def virtual(name: str, members: Sequence[str]) -> Index:
    settings = IndexSettings(kind=IndexKind.VIRTUAL, members=tuple(members))
    return Index(name, IndexKind.VIRTUAL, config=settings.to_config())


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    """hosted <- root <- outer; other and side are unrelated to hosted."""
    factory = FakeUnitOfWorkFactory()
    with factory() as unit:
        unit.indexes.add(Index("hosted", IndexKind.HOSTED))
        unit.indexes.add(Index("other", IndexKind.HOSTED))
        unit.indexes.add(virtual("root", ["hosted"]))
        unit.indexes.add(virtual("outer", ["root", "other"]))
        unit.indexes.add(virtual("side", ["other"]))
        unit.commit()
    return factory


def serials(uow: FakeUnitOfWorkFactory) -> dict[str, int]:
    with uow(readonly=True) as unit:
        return {index.name: index.serial for index in unit.indexes.list()}


def change(uow: FakeUnitOfWorkFactory, event: Event, project: str | None = None) -> int:
    with uow() as unit:
        serial = record_change(unit, event, project=NormalizedName(project) if project else None)
        unit.commit()
    return serial


def test_change_bumps_the_index_and_every_virtual_index_above_it(
    uow: FakeUnitOfWorkFactory,
) -> None:
    serial = change(uow, Event(action="file_uploaded", actor="alice", index="hosted"))

    assert serials(uow) == {
        "hosted": serial,
        "root": serial,
        "outer": serial,
        "other": 0,
        "side": 0,
    }
    [event] = uow.db.events
    assert (event.action, event.index, event.serial) == ("file_uploaded", "hosted", serial)


def test_change_in_a_shared_member_bumps_each_parent(uow: FakeUnitOfWorkFactory) -> None:
    serial = change(uow, Event(action="file_uploaded", actor="alice", index="other"))

    assert serials(uow) == {
        "hosted": 0,
        "root": 0,
        "outer": serial,
        "other": serial,
        "side": serial,
    }


def test_change_to_a_virtual_index_bumps_its_parents_not_its_members(
    uow: FakeUnitOfWorkFactory,
) -> None:
    serial = change(uow, Event(action="index_configured", actor="admin", index="root"))

    assert serials(uow) == {"hosted": 0, "root": serial, "outer": serial, "other": 0, "side": 0}


def test_each_change_takes_a_new_higher_serial(uow: FakeUnitOfWorkFactory) -> None:
    first = change(uow, Event(action="a", actor="x", index="hosted"))
    second = change(uow, Event(action="b", actor="x", index="other"))

    assert second > first
    assert serials(uow)["outer"] == second
    assert serials(uow)["root"] == first


def test_change_without_an_index_bumps_no_index(uow: FakeUnitOfWorkFactory) -> None:
    change(uow, Event(action="user_created", actor="admin"))

    assert set(serials(uow).values()) == {0}
    assert len(uow.db.events) == 1


def test_change_to_an_existing_project_moves_its_serial(uow: FakeUnitOfWorkFactory) -> None:
    with uow() as unit:
        unit.projects.ensure("hosted", NormalizedName("demo"), "Demo")
        unit.commit()

    serial = change(uow, Event(action="file_uploaded", actor="a", index="hosted"), "demo")

    with uow(readonly=True) as unit:
        project = unit.projects.get("hosted", NormalizedName("demo"))
    assert project is not None and project.last_serial == serial


def test_change_naming_an_unknown_project_still_bumps_the_indexes(
    uow: FakeUnitOfWorkFactory,
) -> None:
    serial = change(uow, Event(action="mirror_refreshed", actor="m", index="hosted"), "ghost")

    assert serials(uow)["root"] == serial


def test_affected_indexes_start_with_the_index_and_survive_a_cycle() -> None:
    factory = FakeUnitOfWorkFactory()
    with factory() as unit:
        unit.indexes.add(virtual("a", ["b"]))
        unit.indexes.add(virtual("b", ["a"]))
        unit.indexes.add(virtual("c", ["a"]))
        unit.commit()

    with factory(readonly=True) as unit:
        found = affected_indexes(unit, "a")

    assert found[0] == "a"
    assert sorted(found) == ["a", "b", "c"]
