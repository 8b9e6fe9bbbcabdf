"""Indexes: creating them, choosing the default, seeding an empty store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fakes import FakeUnitOfWorkFactory
from packyard.domain.errors import Conflict, InvalidInput, InvalidName, NotFound
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import Index, IndexKind
from packyard.services.indexes import (
    DEFAULT_HOSTED,
    create_index,
    ensure_initial_indexes,
    list_indexes,
    resolve_index,
    set_default_index,
)

pytestmark = pytest.mark.unit


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory()


def create(uow: FakeUnitOfWorkFactory, name: str, kind: IndexKind = IndexKind.HOSTED) -> Index:
    return create_index(uow_factory=uow, name=name, kind=kind, actor="root")


def names(uow: FakeUnitOfWorkFactory) -> list[str]:
    indexes, _ = list_indexes(uow_factory=uow)
    return [i.name for i in indexes]


def test_created_hosted_index_is_listed_with_an_event_and_a_serial(
    uow: FakeUnitOfWorkFactory,
) -> None:
    index = create(uow, "team-a")

    assert index == Index(name="team-a", kind=IndexKind.HOSTED)
    assert names(uow) == ["team-a"]
    [event] = uow.db.events
    assert (event.action, event.actor, event.index) == ("index_created", "root", "team-a")
    with uow(readonly=True) as unit:
        stored = unit.indexes.get("team-a")
    assert stored is not None
    assert stored.serial == event.serial


@pytest.mark.parametrize(
    "name", ["simple", "legacy", "api", "pypi", "metrics", "healthz", "_", "+files"]
)
def test_reserved_index_names_are_refused(uow: FakeUnitOfWorkFactory, name: str) -> None:
    with pytest.raises(InvalidName, match="reserved"):
        create(uow, name)

    assert names(uow) == []


@pytest.mark.parametrize(
    "name", ["", "Upper", "-lead", "trail-", "a/b", "sp ace", "x" * 65, "é", "a..b/"]
)
def test_invalid_index_names_are_refused(uow: FakeUnitOfWorkFactory, name: str) -> None:
    with pytest.raises(InvalidName):
        create(uow, name)

    assert names(uow) == []


def test_duplicate_index_is_a_conflict(uow: FakeUnitOfWorkFactory) -> None:
    create(uow, "team-a")

    with pytest.raises(Conflict):
        create(uow, "team-a")

    assert names(uow) == ["team-a"]
    assert len(uow.db.events) == 1


def test_mirror_index_needs_an_http_upstream(uow: FakeUnitOfWorkFactory) -> None:
    with pytest.raises(InvalidInput, match="upstream"):
        create(uow, "elsewhere", IndexKind.MIRROR)
    with pytest.raises(InvalidInput, match="not an http"):
        create_index(
            uow_factory=uow, name="m", kind=IndexKind.MIRROR, actor="root", upstream="ftp://x/"
        )

    assert names(uow) == []


def test_mirror_index_keeps_its_upstream_and_ttl(uow: FakeUnitOfWorkFactory) -> None:
    index = create_index(
        uow_factory=uow,
        name="pub",
        kind=IndexKind.MIRROR,
        actor="root",
        upstream="http://127.0.0.1:9/simple",
        ttl=timedelta(seconds=5),
    )

    settings = IndexSettings.of(index)
    assert settings.upstream == "http://127.0.0.1:9/simple/"
    assert settings.ttl == timedelta(seconds=5)


def test_virtual_index_needs_existing_members_and_no_cycle(uow: FakeUnitOfWorkFactory) -> None:
    create(uow, "a")
    with pytest.raises(InvalidInput, match="--members"):
        create(uow, "v", IndexKind.VIRTUAL)
    with pytest.raises(NotFound, match="missing"):
        create_index(
            uow_factory=uow, name="v", kind=IndexKind.VIRTUAL, actor="root", members=["missing"]
        )
    with pytest.raises(InvalidInput, match="own member"):
        create_index(uow_factory=uow, name="v", kind=IndexKind.VIRTUAL, actor="root", members=["v"])

    create_index(uow_factory=uow, name="v", kind=IndexKind.VIRTUAL, actor="root", members=["a"])

    assert names(uow) == ["a", "v"]


def test_default_index_is_set_and_resolved_when_no_name_is_given(
    uow: FakeUnitOfWorkFactory,
) -> None:
    create(uow, "first")
    create(uow, "second")

    set_default_index(uow_factory=uow, name="second", actor="root")

    assert list_indexes(uow_factory=uow)[1] == "second"
    with uow(readonly=True) as unit:
        assert resolve_index(unit, None).name == "second"
        assert resolve_index(unit, "").name == "second"
        assert resolve_index(unit, "first").name == "first"
    assert uow.db.events[-1].action == "default_index_set"


def test_unknown_index_cannot_become_the_default(uow: FakeUnitOfWorkFactory) -> None:
    create(uow, "first")
    set_default_index(uow_factory=uow, name="first", actor="root")

    with pytest.raises(NotFound, match="nowhere"):
        set_default_index(uow_factory=uow, name="nowhere", actor="root")

    assert list_indexes(uow_factory=uow)[1] == "first"


def test_resolving_an_unknown_index_is_not_found(uow: FakeUnitOfWorkFactory) -> None:
    create(uow, "first")

    with uow(readonly=True) as unit, pytest.raises(NotFound, match="nowhere"):
        resolve_index(unit, "nowhere")


def test_resolving_without_a_name_or_a_default_is_not_found(uow: FakeUnitOfWorkFactory) -> None:
    create(uow, "first")

    with uow(readonly=True) as unit, pytest.raises(NotFound):
        resolve_index(unit, None)


def test_empty_store_gets_hosted_upstream_and_root_with_root_the_default(
    uow: FakeUnitOfWorkFactory,
) -> None:
    with uow() as unit:
        ensure_initial_indexes(unit, upstream=lambda: "http://127.0.0.1:9/simple/")
        unit.commit()

    indexes, default = list_indexes(uow_factory=uow)
    kinds = {i.name: i.kind for i in indexes}
    assert kinds == {
        DEFAULT_HOSTED: IndexKind.HOSTED,
        "upstream": IndexKind.MIRROR,
        "root": IndexKind.VIRTUAL,
    }
    assert default == "root"
    root = next(i for i in indexes if i.name == "root")
    assert IndexSettings.of(root).members == (DEFAULT_HOSTED, "upstream")


def test_empty_store_without_upstream_gets_no_mirror(uow: FakeUnitOfWorkFactory) -> None:
    with uow() as unit:
        ensure_initial_indexes(unit, upstream=lambda: None)
        unit.commit()

    indexes, default = list_indexes(uow_factory=uow)
    assert [(i.name, i.kind) for i in indexes] == [
        (DEFAULT_HOSTED, IndexKind.HOSTED),
        ("root", IndexKind.VIRTUAL),
    ]
    assert default == "root"


def test_seeding_twice_adds_nothing_more(uow: FakeUnitOfWorkFactory) -> None:
    for _ in range(2):
        with uow() as unit:
            ensure_initial_indexes(unit, upstream=lambda: None)
            unit.commit()

    assert names(uow) == [DEFAULT_HOSTED, "root"]
    assert len(uow.db.events) == 2


def test_store_with_indexes_is_not_seeded(uow: FakeUnitOfWorkFactory) -> None:
    create(uow, "team-a")
    before = uow.db

    with uow() as unit:
        ensure_initial_indexes(unit, upstream=lambda: "http://127.0.0.1:9/simple/")
        unit.commit()

    assert names(uow) == ["team-a"]
    assert list_indexes(uow_factory=uow)[1] is None
    assert uow.db == before
