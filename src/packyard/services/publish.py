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
from packyard.domain.errors import Conflict, FileExists, InvalidMetadata, NotFound
from packyard.domain.filenames import ParsedFilename, parse_filename
from packyard.domain.metadata import check_consistency
from packyard.domain.models import DistFile, Event, Index, IndexKind, PackageType
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
) -> PublishResult:
    """Store the spooled file as `filename` in `index`, or explain why not.

    The bytes are written before the row, so a crash leaves at worst an unreferenced blob.
    `new_project_guard` may refuse a name the index does not have yet (dependency
    confusion: see services.confusion).
    """
    parsed = parse_filename(filename, allow_legacy=allow_legacy)
    if form is not None:
        form.check_filetype(parsed.packagetype)
        form.check_digests(received.digests)
        _check_form_matches_filename(form, parsed)
    with uow_factory(readonly=True) as uow:
        hosted_index(uow, index)
        existing = uow.files.get(index, filename)
        is_new_project = uow.projects.get(index, parsed.name) is None
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
    with uow_factory() as uow:
        hosted_index(uow, index)
        uow.projects.ensure(index, parsed.name, meta.name)
        # 1.0 and 1.0.0 are one release (PEP 440): keep the spelling it was first given.
        spellings = {
            canonicalize_version(f.version): f.version
            for f in uow.files.for_project(index, parsed.name)
        }
        dist = replace(
            dist, version=spellings.get(canonicalize_version(dist.version), dist.version)
        )
        try:
            uow.files.add(dist)
        except FileExists:
            uow.rollback()
            raced = None
        else:
            raced = dist
            record_change(
                uow,
                Event(
                    action="file_uploaded",
                    actor=actor,
                    index=index,
                    project=parsed.name,
                    version=dist.version,
                    filename=filename,
                    data={"sha256": dist.digests.sha256, "size": dist.size},
                ),
                project=parsed.name,
            )
            uow.commit()
    if raced is None:
        # Another upload of this filename committed first: same rules as a re-upload.
        with uow_factory(readonly=True) as uow:
            winner = uow.files.get(index, filename)
        if winner is None:
            raise FileExists(f"File already exists: {filename} is being uploaded concurrently")
        return _existing(winner, received)
    return PublishResult(file=dist, created=True)


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
