"""Yank and unyank (PEP 592): reversible, per file; a release yanks all its files."""

from __future__ import annotations

from collections.abc import Sequence

from packaging.utils import canonicalize_version

from packyard.domain.access import Principal, check_project_action
from packyard.domain.errors import NotFound
from packyard.domain.models import DistFile, Event, Scope
from packyard.domain.names import validate_project_name, validate_text
from packyard.ports import UnitOfWorkFactory
from packyard.services.changes import record_change
from packyard.services.publish import hosted_index


def set_yanked(
    *,
    uow_factory: UnitOfWorkFactory,
    index: str,
    project: str,
    version: str,
    yanked: bool,
    actor: str,
    filename: str | None = None,
    reason: str = "",
    who: Principal | None = None,
    address: str | None = None,
) -> Sequence[DistFile]:
    """Yank (or unyank) the release's files, or one file of it; returns those changed."""
    name = validate_project_name(project)
    reason = validate_text(reason, "yank reason")
    wanted = canonicalize_version(version)
    with uow_factory() as uow:
        hosted_index(uow, index)
        if who is not None:
            check_project_action(who, index, name, uow.roles.for_project(index, name), Scope.YANK)
        release = [
            f
            for f in uow.files.for_project(index, name)
            if canonicalize_version(f.version) == wanted
        ]
        if filename is not None:
            release = [f for f in release if f.filename == filename]
        if not release:
            what = f"a file {filename}" if filename else "files"
            raise NotFound(f"{project} {version} has no {what} in index {index!r}")
        changed = [
            f for f in release if f.yanked != yanked or (yanked and f.yanked_reason != reason)
        ]
        if not changed:
            return []
        for file in changed:
            uow.files.set_yanked(
                index, file.filename, yanked=yanked, reason=reason if yanked else ""
            )
            record_change(
                uow,
                Event(
                    action="file_yanked" if yanked else "file_unyanked",
                    actor=actor,
                    index=index,
                    project=name,
                    version=file.version,
                    filename=file.filename,
                    data={"reason": reason} if yanked else {},
                    address=address,
                ),
                project=name,
            )
        uow.commit()
    return changed
