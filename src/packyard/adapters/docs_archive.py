"""Reading an uploaded documentation zip, which is hostile until proven otherwise.

Every member is checked (paths, links, special files, count, declared sizes) before any
byte is inflated; then each file is copied into the staging area with its sha256, every
read bounded, since declared sizes may lie. Nothing is extracted under its own name, and
on any failure nothing staged is left behind.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from packyard.domain.docs import (
    DEFAULT_DOCS_LIMITS,
    INDEX_HTML,
    DocsLimits,
    check_member_kind,
    check_member_path,
    check_totals,
    site_root,
)
from packyard.domain.errors import InvalidArchive

_CORRUPTION = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)
_SPECIAL = (stat.S_ISCHR, stat.S_ISBLK, stat.S_ISFIFO, stat.S_ISSOCK)
_CHUNK = 1024 * 1024
_ENCRYPTED = 0x1


@dataclass(frozen=True)
class StagedMember:
    """A file of the site, copied to `staged` (owned by the caller) with its digest."""

    path: str
    sha256: str
    size: int
    staged: Path


def read_docs_zip(
    archive_path: Path, staging_dir: Path, limits: DocsLimits = DEFAULT_DOCS_LIMITS
) -> list[StagedMember]:
    """Check the zip and stage its files; InvalidArchive names what is wrong."""
    staging_dir.mkdir(parents=True, exist_ok=True)
    staged: list[StagedMember] = []
    try:
        with _translating(), zipfile.ZipFile(archive_path) as archive:
            files = _checked_files(archive, limits)
            root = site_root(list(files))
            if root + INDEX_HTML not in files:
                raise InvalidArchive(
                    f"The documentation zip has no {INDEX_HTML} at its top: zip the built "
                    "site's directory (the one holding index.html)"
                )
            budget = _Budget(limits.max_total_bytes)
            for path, info in files.items():
                if path.startswith(root):
                    staged.append(_stage(archive, info, path[len(root) :], staging_dir, budget))
    except BaseException:
        discard(staged)
        raise
    return staged


def discard(staged: list[StagedMember]) -> None:
    for member in staged:
        member.staged.unlink(missing_ok=True)


def _checked_files(archive: zipfile.ZipFile, limits: DocsLimits) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    check_totals(len(infos), sum(info.file_size for info in infos), limits)
    files: dict[str, zipfile.ZipInfo] = {}
    seen: set[str] = set()
    for info in infos:
        path = check_member_path(info.filename, limits)
        mode = info.external_attr >> 16
        check_member_kind(
            info.filename,
            is_link=stat.S_ISLNK(mode),
            is_special=any(check(mode) for check in _SPECIAL),
        )
        if path in seen:
            raise InvalidArchive(f"The documentation zip contains {path!r} more than once")
        seen.add(path)
        if info.flag_bits & _ENCRYPTED:
            raise InvalidArchive(f"The documentation zip member {path!r} is encrypted")
        if not path.endswith("/"):
            files[path] = info
    return files


@dataclass
class _Budget:
    """Bytes the whole site may still inflate to, counted as they are read."""

    limit: int
    used: int = 0

    def take(self, count: int) -> None:
        self.used += count
        if self.used > self.limit:
            raise InvalidArchive(f"The documentation zip unpacks to more than {self.limit} bytes")


def _stage(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str, staging: Path, budget: _Budget
) -> StagedMember:
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(dir=staging, prefix="docs-")
    target = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                budget.take(len(chunk))
                size += len(chunk)
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return StagedMember(path=path, sha256=digest.hexdigest(), size=size, staged=target)


@contextmanager
def _translating() -> Iterator[None]:
    """Whatever a corrupt zip makes the standard library raise becomes InvalidArchive."""
    try:
        yield
    except InvalidArchive:
        raise
    except _CORRUPTION as error:
        raise InvalidArchive(
            "The documentation upload is not a valid zip archive (or it is corrupt)"
        ) from error
