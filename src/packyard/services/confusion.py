"""Dependency confusion, the uploading side: an internal project may not take a name that
the public index behind the same virtual index already has, unless an admin claimed it.

(The reading side is the virtual index's first-member-wins rule in services.catalog.)
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from packyard.adapters.upstream import redact
from packyard.domain.errors import Conflict
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import Index, IndexKind
from packyard.domain.names import NormalizedName
from packyard.ports import UnitOfWorkFactory
from packyard.services.changes import affected_indexes
from packyard.services.mirror import MirrorService


async def check_new_project(
    *,
    uow_factory: UnitOfWorkFactory,
    mirror: MirrorService,
    hosted: str,
    name: NormalizedName,
) -> None:
    """Raise Conflict when a mirror served next to `hosted` has the project upstream."""
    claimed, mirrors = await run_in_threadpool(_context, uow_factory, hosted, name)
    if claimed:
        return
    for index in mirrors:
        state = await mirror.project(index, name)
        if state is not None and state.project.exists:
            upstream = redact(IndexSettings.of(index).upstream or "")
            raise Conflict(
                f"{name!r} is a new project here, but the upstream of mirror {index.name!r} "
                f"({upstream}) has a project of that name; an internal upload could be "
                f"confused with it. If this name is really yours, an admin can run "
                f"'packyard project claim {name} --index {hosted}'."
            )


def _context(
    uow_factory: UnitOfWorkFactory, hosted: str, name: NormalizedName
) -> tuple[bool, list[Index]]:
    with uow_factory(readonly=True) as uow:
        index = uow.indexes.get(hosted)
        if index is None:
            return False, []
        if name in IndexSettings.of(index).claims:
            return True, []
        by_name = {i.name: i for i in uow.indexes.list()}
        parents = [by_name[n] for n in affected_indexes(uow, hosted) if n != hosted]
    mirrors: dict[str, Index] = {}
    for parent in parents:
        for found in _mirrors_below(parent, by_name, depth=0):
            mirrors.setdefault(found.name, found)
    return False, list(mirrors.values())


def _mirrors_below(index: Index, by_name: dict[str, Index], depth: int) -> list[Index]:
    if index.kind is IndexKind.MIRROR:
        return [index]
    if index.kind is IndexKind.HOSTED or depth > 8:
        return []
    found: list[Index] = []
    for member in IndexSettings.of(index).members:
        if member in by_name:
            found += _mirrors_below(by_name[member], by_name, depth + 1)
    return found
