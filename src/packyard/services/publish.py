"""Publish a distribution file into a hosted index: validate, store the bytes, record it."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from packaging.utils import canonicalize_version
from packaging.version import Version

from packyard.adapters.archives import ArchiveLimits, inspect_distribution
from packyard.adapters.spool import SpooledFile
from packyard.domain.access import Principal, check_upload
from packyard.domain.errors import Conflict, FileExists, InvalidMetadata, NotFound
from packyard.domain.filenames import ParsedFilename, parse_filename
from packyard.domain.index_config import IndexSettings
from packyard.domain.metadata import check_consistency
from packyard.domain.models import (
    DistFile,
    Event,
    Index,
    IndexKind,
    PackageType,
    ProjectRole,
    Role,
)
from packyard.domain.names import NormalizedName, normalize
from packyard.domain.upload import UploadForm
from packyard.ports import FileStore, UnitOfWork, UnitOfWorkFactory
from packyard.services.changes import record_change

DEFAULT_LIMITS = ArchiveLimits()


@dataclass(frozen=True)
class PublishResult:
    file: DistFile
    created: bool


def hosted_index(uow: UnitOfWork, name: str) -> Index:
    index = uow.indexes.get(name)
    if index is None:
        raise NotFound(f"There is no index named {name!r}")
    if index.kind is not IndexKind.HOSTED:
        raise Conflict(f"Index {name!r} is a {index.kind.value} index; upload to a hosted index")
    return index


def publish(
    *,
    uow_factory: UnitOfWorkFactory,
    files: FileStore,
    index: str,
    received: SpooledFile,
    filename: str,
    actor: str,
    now: datetime,
    form: UploadForm | None = None,
    allow_legacy: bool = False,
    limits: ArchiveLimits = DEFAULT_LIMITS,
    new_project_guard: Callable[[NormalizedName], None] | None = None,
    uploader: Principal | None = None,
    address: str | None = None,
) -> PublishResult:
    """Store the spooled file as `filename` in `index`, or explain why not.

    The bytes are written before the row, so a crash leaves at worst an unreferenced blob.
    `new_project_guard` may refuse a name the index does not have yet (dependency
    confusion: see services.confusion). `uploader` is checked against the index's
    uploaders and the project's owners; None is an administrator (the CLI). The first
    uploader of a project becomes its owner.
    """
    parsed = parse_filename(filename, allow_legacy=allow_legacy)
    if form is not None:
        form.check_filetype(parsed.packagetype)
        form.check_digests(received.digests)
        _check_form_matches_filename(form, parsed)
    existing, is_new_project = _first_look(uow_factory, index, parsed, uploader)
    if existing is not None:
        return _existing(existing, received)
    if is_new_project and new_project_guard is not None:
        new_project_guard(parsed.name)

    inspection = inspect_distribution(received.path, parsed, limits)
    meta = inspection.metadata
    check_consistency(
        meta,
        parsed,
        form_name=form.name if form else None,
        form_version=form.version if form else None,
    )
    metadata_sha256: str | None = None
    if parsed.packagetype is PackageType.WHEEL or meta.is_static:
        metadata_sha256 = hashlib.sha256(inspection.metadata_bytes).hexdigest()
        files.put_bytes(metadata_sha256, inspection.metadata_bytes)
    files.put_path(received.digests.sha256, received.path)

    dist = DistFile(
        index=index,
        project=parsed.name,
        version=str(Version(meta.version)),
        filename=filename,
        packagetype=parsed.packagetype,
        python_version=_python_version(parsed, form),
        size=received.size,
        digests=received.digests,
        upload_time=now,
        uploader=actor,
        requires_python=meta.requires_python,
        metadata_sha256=metadata_sha256,
        metadata=meta.to_json(),
    )
    recorded = _record(uow_factory, dist, meta.name, uploader=uploader, address=address)
    if recorded is None:
        # Another upload of this filename committed first: same rules as a re-upload.
        with uow_factory(readonly=True) as uow:
            winner = uow.files.get(index, filename)
        if winner is None:
            raise FileExists(f"File already exists: {filename} is being uploaded concurrently")
        return _existing(winner, received)
    return PublishResult(file=recorded, created=True)


def _first_look(
    uow_factory: UnitOfWorkFactory, index: str, parsed: ParsedFilename, uploader: Principal | None
) -> tuple[DistFile | None, bool]:
    """Before reading the archive: may the uploader, is the file there, is it new?"""
    with uow_factory(readonly=True) as uow:
        target = hosted_index(uow, index)
        project_exists = uow.projects.get(index, parsed.name) is not None
        if uploader is not None:
            roles = uow.roles.for_project(index, parsed.name)
            uploaders = IndexSettings.of(target).uploaders
            check_upload(
                uploader, index, uploaders, parsed.name, roles, project_exists=project_exists
            )
        existing = uow.files.get(index, parsed.filename)
        if existing is None and uow.tombstones.exists(index, parsed.filename):
            raise FileExists(
                f"File already exists: {parsed.filename} was deleted from this index and "
                "its name cannot be used again. Publish a new version instead."
            )
        return existing, not project_exists


def _record(
    uow_factory: UnitOfWorkFactory,
    dist: DistFile,
    display_name: str,
    *,
    uploader: Principal | None,
    address: str | None,
) -> DistFile | None:
    """Add the file row with its event in one transaction; None if the filename was taken
    by a concurrent upload."""
    index, name = dist.index, dist.project
    with uow_factory() as uow:
        target = hosted_index(uow, index)
        is_new = uow.projects.get(index, name) is None
        uow.projects.ensure(index, name, display_name)
        if uploader is not None and uploader.user is not None:
            roles = uow.roles.for_project(index, name)
            # Checked again inside the write: roles may have changed since the first look.
            uploaders = IndexSettings.of(target).uploaders
            check_upload(uploader, index, uploaders, name, roles, project_exists=not is_new)
            if is_new:
                uow.roles.add(ProjectRole(index, name, uploader.user.name, Role.OWNER))
        # 1.0 and 1.0.0 are one release (PEP 440): keep the spelling it was first given.
        spellings = {
            canonicalize_version(f.version): f.version for f in uow.files.for_project(index, name)
        }
        dist = replace(
            dist, version=spellings.get(canonicalize_version(dist.version), dist.version)
        )
        try:
            uow.files.add(dist)
        except FileExists:
            uow.rollback()
            return None
        record_change(
            uow,
            Event(
                action="file_uploaded",
                actor=dist.uploader,
                index=index,
                project=name,
                version=dist.version,
                filename=dist.filename,
                data={"sha256": dist.digests.sha256, "size": dist.size},
                address=address,
            ),
            project=name,
        )
        uow.commit()
    return dist


def _existing(existing: DistFile, received: SpooledFile) -> PublishResult:
    if hmac.compare_digest(existing.digests.sha256, received.digests.sha256):
        return PublishResult(file=existing, created=False)
    raise FileExists(
        f"File already exists: {existing.filename} was uploaded before with other contents "
        "(sha256 differs). Files are immutable: publish a new version instead."
    )


def _check_form_matches_filename(form: UploadForm, parsed: ParsedFilename) -> None:
    if form.name is not None and normalize(form.name) != parsed.name:
        raise InvalidMetadata(
            f"The form field name {form.name!r} does not match the filename's "
            f"project {parsed.name!r}"
        )
    if form.version is not None and canonicalize_version(form.version) != canonicalize_version(
        parsed.version
    ):
        raise InvalidMetadata(
            f"The form field version {form.version!r} does not match the filename's "
            f"version {str(parsed.version)!r}"
        )


def _python_version(parsed: ParsedFilename, form: UploadForm | None) -> str:
    if parsed.packagetype is PackageType.SDIST:
        return "source"
    if form is not None and form.pyversion:
        return form.pyversion
    return ".".join(sorted({tag.interpreter for tag in parsed.tags}))
