"""Record a change: the event, and the serials that invalidate every page showing it."""

from __future__ import annotations

from packyard.domain.models import Event, IndexKind
from packyard.domain.names import NormalizedName
from packyard.ports import UnitOfWork


def record_change(uow: UnitOfWork, event: Event, *, project: NormalizedName | None = None) -> int:
    """Append the event and bump the serial of its index, of every virtual index that
    reaches it through its members, and of the project. Returns the event's serial."""
    serial = uow.events.append(event)
    if event.index is None:
        return serial
    if project is not None and uow.projects.get(event.index, project) is not None:
        uow.projects.touch(event.index, project, serial)
    for name in affected_indexes(uow, event.index):
        uow.indexes.bump_serial(name, serial)
    return serial


def affected_indexes(uow: UnitOfWork, index: str) -> list[str]:
    """The index and every virtual index above it (members of members too)."""
    parents: dict[str, list[str]] = {}
    for candidate in uow.indexes.list():
        if candidate.kind is IndexKind.VIRTUAL:
            for member in candidate.config.get("members", ()):
                parents.setdefault(member, []).append(candidate.name)
    seen = [index]
    for name in seen:
        seen.extend(parent for parent in parents.get(name, ()) if parent not in seen)
    return seen
