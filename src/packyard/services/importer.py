"""Import one file from a directory of distributions (pypiserver's layout)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path

from packyard.adapters.spool import spool_file
from packyard.domain.errors import PackyardError
from packyard.ports import FileStore, UnitOfWorkFactory
from packyard.services.publish import publish


class ImportOutcome(StrEnum):
    IMPORTED = "imported"
    SKIPPED = "skipped"
    REFUSED = "refused"


def import_file(
    *,
    uow_factory: UnitOfWorkFactory,
    files: FileStore,
    index: str,
    path: Path,
    upload_time: datetime,
    actor: str,
) -> tuple[ImportOutcome, str]:
    """Publish a copy of `path` (the original is left alone), keeping its time as the
    upload time; legacy sdist names such as Foo-Bar-1.0.tar.gz are accepted."""
    try:
        with path.open("rb") as source:
            spooled = spool_file(source, files.staging_dir(), max_size=path.stat().st_size)
        try:
            result = publish(
                uow_factory=uow_factory,
                files=files,
                index=index,
                received=spooled,
                filename=path.name,
                actor=actor,
                now=upload_time,
                allow_legacy=True,
            )
        finally:
            spooled.path.unlink(missing_ok=True)
    except PackyardError as exc:
        return ImportOutcome.REFUSED, str(exc)
    except OSError as exc:
        return ImportOutcome.REFUSED, f"cannot read: {exc.strerror or exc}"
    if result.created:
        return ImportOutcome.IMPORTED, result.file.filename
    return ImportOutcome.SKIPPED, result.file.filename
