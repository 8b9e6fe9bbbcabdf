"""Hosted documentation: upload a built site for a release, find what a URL serves.

An upload stores every file of the site as a content-addressed blob first, then replaces
the release's manifest in one transaction with its event: readers see the old site or
the new one, never a mix, and a refused upload changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from packyard.adapters.docs_archive import discard, read_docs_zip
from packyard.domain.access import Principal
from packyard.domain.docs import (
    DEFAULT_DOCS_LIMITS,
    LATEST,
    DocMember,
    DocSet,
    DocsLimits,
    check_docs_upload,
    content_type_for,
    latest_documented,
    match_version,
)
from packyard.domain.errors import NotFound
from packyard.domain.models import Event, Index, IndexKind
from packyard.domain.names import NormalizedName, validate_project_name
from packyard.ports import FileStore, UnitOfWork, UnitOfWorkFactory
from packyard.services.catalog import Catalog
from packyard.services.changes import record_change
from packyard.services.json_api import latest_version
from packyard.services.publish import hosted_index


def upload_docs(
    *,
    uow_factory: UnitOfWorkFactory,
    files: FileStore,
    index: str,
    project: str,
    version: str | None,
    archive: Path,
    who: Principal | None,
    actor: str,
    now: datetime,
    address: str | None = None,
    limits: DocsLimits = DEFAULT_DOCS_LIMITS,
) -> DocSet:
    """Make the zip at `archive` the documentation of a release of `project` in the hosted
    `index` (version None: the latest release). `who` None is an administrator (CLI)."""
    name = validate_project_name(project)
    with uow_factory(readonly=True) as uow:
        release = _release(uow, index, name, version, who)
    staged = read_docs_zip(archive, files.staging_dir(), limits)
    try:
        for member in staged:
            files.put_path(member.sha256, member.staged)
    finally:
        discard(staged)
    members = {
        m.path: DocMember(m.path, m.sha256, m.size, content_type_for(m.path)) for m in staged
    }
    docset = DocSet(index, name, release, members, uploaded=now, uploader=actor)
    with uow_factory() as uow:
        # Checked again inside the write: roles may have changed since the first look.
        _release(uow, index, name, release, who)
        uow.docs.save(docset)
        record_change(
            uow,
            Event(
                action="docs_uploaded",
                actor=actor,
                index=index,
                project=name,
                version=release,
                data={"files": len(members), "size": sum(m.size for m in members.values())},
                address=address,
            ),
            project=name,
        )
        uow.commit()
    return docset


def _release(
    uow: UnitOfWork, index: str, name: NormalizedName, version: str | None, who: Principal | None
) -> str:
    """The release's version as first published; NotFound without such a release."""
    hosted_index(uow, index)
    if uow.projects.get(index, name) is None:
        raise NotFound(f"There is no project {name!r} in index {index!r}")
    if who is not None:
        check_docs_upload(who, index, name, uow.roles.for_project(index, name))
    files = uow.files.for_project(index, name)
    if not files:
        raise NotFound(f"{name!r} has no releases in index {index!r}; publish one first")
    if version is None:
        return latest_version(files)
    found = match_version({f.version for f in files}, version)
    if found is None:
        raise NotFound(
            f"{name!r} has no release {version!r} in index {index!r}; publish it before "
            "uploading its documentation"
        )
    return found


@dataclass(frozen=True)
class DocsListing:
    index: str
    project: NormalizedName
    versions: Sequence[str]
    latest: str | None


def list_docs(*, uow_factory: UnitOfWorkFactory, index: str, project: str) -> DocsListing:
    name = validate_project_name(project)
    with uow_factory(readonly=True) as uow:
        hosted_index(uow, index)
        if uow.projects.get(index, name) is None:
            raise NotFound(f"There is no project {project!r} in index {index!r}")
        return _listing(uow, index, name)


def _listing(uow: UnitOfWork, index: str, name: NormalizedName) -> DocsListing:
    versions = uow.docs.versions(index, name)
    releases = [(f.version, f.yanked) for f in uow.files.for_project(index, name)]
    return DocsListing(index, name, versions, latest_documented(versions, releases))


async def find_docs(
    *,
    catalog: Catalog,
    uow_factory: UnitOfWorkFactory,
    serving: Index,
    project: NormalizedName,
    version: str,
    reader: Principal,
) -> DocSet:
    """The docs `serving` shows for a release (or `latest`), with the index's read checks:
    a virtual index shows the docs of the hosted member that answers for the project."""
    view = await catalog.project(serving, project, reader=reader)
    holder: Index | None = serving
    if serving.kind is not IndexKind.HOSTED:
        holder = await catalog.index(view.answered_by[0]) if view and view.answered_by else None
    if view is None or holder is None or holder.kind is not IndexKind.HOSTED:
        raise NotFound(f"There is no hosted project {project!r} in index {serving.name!r}")
    found = await run_in_threadpool(_load, uow_factory, holder.name, project, version)
    if found is None:
        raise NotFound(f"There is no documentation for {project} {version}")
    return found


def _load(
    uow_factory: UnitOfWorkFactory, index: str, project: NormalizedName, version: str
) -> DocSet | None:
    with uow_factory(readonly=True) as uow:
        if version == LATEST:
            chosen = _listing(uow, index, project).latest
        else:
            chosen = match_version(uow.docs.versions(index, project), version)
        return uow.docs.get(index, project, chosen) if chosen else None
