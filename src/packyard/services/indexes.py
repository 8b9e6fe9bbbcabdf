"""Create, list and choose indexes."""

from __future__ import annotations

from collections.abc import Sequence

from packyard.domain.errors import Conflict, NotFound
from packyard.domain.models import Event, Index, IndexKind
from packyard.domain.names import validate_index_name
from packyard.ports import UnitOfWork, UnitOfWorkFactory

DEFAULT_HOSTED = "hosted"


def create_index(
    *, uow_factory: UnitOfWorkFactory, name: str, kind: IndexKind, actor: str
) -> Index:
    if kind is not IndexKind.HOSTED:
        raise Conflict(f"{kind.value} indexes are not available yet; create a hosted index")
    index = Index(name=validate_index_name(name), kind=kind)
    with uow_factory() as uow:
        uow.indexes.add(index)
        serial = uow.events.append(Event(action="index_created", actor=actor, index=name))
        uow.indexes.bump_serial(name, serial)
        uow.commit()
    return index


def list_indexes(*, uow_factory: UnitOfWorkFactory) -> tuple[Sequence[Index], str | None]:
    with uow_factory(readonly=True) as uow:
        return uow.indexes.list(), uow.indexes.get_default()


def set_default_index(*, uow_factory: UnitOfWorkFactory, name: str, actor: str) -> None:
    with uow_factory() as uow:
        if uow.indexes.get(name) is None:
            raise NotFound(f"There is no index named {name!r}; see 'packyard index list'")
        uow.indexes.set_default(name)
        uow.events.append(Event(action="default_index_set", actor=actor, index=name))
        uow.commit()


def ensure_initial_indexes(uow: UnitOfWork) -> None:
    """An empty store gets its standard index; an existing one keeps what it has."""
    if uow.indexes.list():
        return
    uow.indexes.add(Index(name=DEFAULT_HOSTED, kind=IndexKind.HOSTED))
    uow.indexes.set_default(DEFAULT_HOSTED)
    serial = uow.events.append(Event(action="index_created", actor="system", index=DEFAULT_HOSTED))
    uow.indexes.bump_serial(DEFAULT_HOSTED, serial)


def resolve_index(uow: UnitOfWork, name: str | None) -> Index:
    """The named index, or the default one when no name is given."""
    wanted = name or uow.indexes.get_default()
    index = uow.indexes.get(wanted) if wanted else None
    if index is None:
        raise NotFound(f"There is no index named {wanted!r}; see 'packyard index list'")
    return index
