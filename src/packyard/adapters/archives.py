"""Reading uploaded distributions, which are hostile until proven otherwise (V4).

Every failure of a corrupt or malicious archive becomes InvalidArchive; the checks bound
member count, decompressed size and the bytes read, and refuse paths and links that leave
the archive. Nothing is ever extracted to disk.
"""

from __future__ import annotations

import bz2
import gzip
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, NoReturn, Protocol, cast

from packyard.domain.errors import InvalidArchive
from packyard.domain.filenames import ParsedFilename, expected_dist_info_dir, sdist_root_dir
from packyard.domain.metadata import CoreMetadata, check_consistency, parse_core_metadata
from packyard.domain.models import PackageType

# What a corrupt zip, gzip, bzip2 or tar stream raises from the standard library.
_CORRUPTION = (
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_LINK_TARGET_MAX = 4096
_CHUNK = 64 * 1024
_SPECIAL_FILE_CHECKS = (stat.S_ISCHR, stat.S_ISBLK, stat.S_ISFIFO, stat.S_ISSOCK)


@dataclass(frozen=True)
class ArchiveLimits:
    max_members: int = 100_000
    max_uncompressed_bytes: int = 4 * 1024**3
    max_metadata_bytes: int = 4 * 1024**2
    # Real distributions inflate a few times over; a bomb inflates a thousandfold. Above
    # the floor, an archive may unpack to at most this multiple of its own size.
    max_ratio: int = 100
    ratio_floor_bytes: int = 16 * 1024**2

    def for_archive(self, compressed_size: int) -> ArchiveLimits:
        by_ratio = max(self.ratio_floor_bytes, compressed_size * self.max_ratio)
        return replace(self, max_uncompressed_bytes=min(self.max_uncompressed_bytes, by_ratio))


# For callers' keyword defaults: a dataclass call in a signature upsets linters (B008).
DEFAULT_LIMITS = ArchiveLimits()


@dataclass(frozen=True)
class Inspection:
    metadata_bytes: bytes
    metadata: CoreMetadata


def inspect_distribution(
    path: Path, parsed: ParsedFilename, limits: ArchiveLimits = DEFAULT_LIMITS
) -> Inspection:
    """Check the archive at `path` and return its core metadata, checked against the name.

    Raise InvalidArchive for a corrupt or hostile archive or a missing metadata file, and
    InvalidMetadata when the metadata is invalid or disagrees with the filename.
    """
    data = _read_metadata(path, parsed, limits)
    metadata = parse_core_metadata(data)
    check_consistency(metadata, parsed)
    return Inspection(metadata_bytes=data, metadata=metadata)


def mirrored_wheel_metadata(
    source: IO[bytes], filename: str, size: int, limits: ArchiveLimits = DEFAULT_LIMITS
) -> bytes:
    """The METADATA file of a wheel fetched from an upstream, as its PEP 658 sidecar.

    The whole archive gets the same checks as an upload (bombs, traversal, links), but the
    name rules do not apply: the wheel was published elsewhere, and installers read the
    one `.dist-info` directory it has. Raise InvalidArchive when there is not exactly one
    to choose, or it has no METADATA."""
    return _Members(filename, limits.for_archive(size)).loose_wheel_metadata(source)


def _read_metadata(path: Path, parsed: ParsedFilename, limits: ArchiveLimits) -> bytes:
    members = _Members(parsed.filename, limits.for_archive(path.stat().st_size))
    if parsed.packagetype is PackageType.WHEEL:
        return members.wheel_metadata(path, expected_dist_info_dir(parsed))
    # Legacy names are too irregular to predict the top directory from.
    root = None if parsed.legacy else sdist_root_dir(parsed)
    return members.sdist_metadata(path, root)


class _Members:
    """The checks every member gets, and where each kind of archive keeps its metadata."""

    def __init__(self, filename: str, limits: ArchiveLimits) -> None:
        self.filename = filename
        self.limits = limits

    def wheel_metadata(self, path: Path, dist_info: str) -> bytes:
        with self._zip(path) as archive:
            names = self._check_zip(archive)
            for required in ("METADATA", "RECORD"):
                if f"{dist_info}/{required}" not in names:
                    self._fail(
                        f"has no {dist_info}/{required} (the .dist-info directory must be "
                        "named as in the filename)"
                    )
            return self._read_member(archive, f"{dist_info}/METADATA")

    def loose_wheel_metadata(self, source: IO[bytes]) -> bytes:
        with self._translating("zip"), zipfile.ZipFile(source) as archive:
            names = self._check_zip(archive)
            found = sorted(
                name
                for name in names
                if name.count("/") == 1 and name.endswith(".dist-info/METADATA")
            )
            if len(found) != 1:
                self._fail(f"has {len(found)} .dist-info/METADATA files where one is needed")
            return self._read_member(archive, found[0])

    def sdist_metadata(self, path: Path, root: str | None) -> bytes:
        if not self.filename.endswith(".zip"):
            return self._tar_metadata(path, root)
        with self._zip(path) as archive:
            names = self._check_zip(archive)
            tops = {name.split("/", 1)[0] for name in names}
            wanted = f"{self._single_root(tops, root)}/PKG-INFO"
            if wanted not in names:
                self._fail(f"has no {wanted}")
            return self._read_member(archive, wanted)

    # zip: declared sizes bound the total before anything is inflated, and every read is
    # bounded too, since the declared sizes may lie.

    @contextmanager
    def _zip(self, path: Path) -> Iterator[zipfile.ZipFile]:
        with self._translating("zip"), zipfile.ZipFile(path) as archive:
            yield archive

    def _check_zip(self, archive: zipfile.ZipFile) -> set[str]:
        infos = archive.infolist()
        self._check_count(len(infos))
        if sum(info.file_size for info in infos) > self.limits.max_uncompressed_bytes:
            self._too_large()
        names: set[str] = set()
        for info in infos:
            self._check_zip_member(archive, info, names)
        return names

    def _check_zip_member(
        self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, seen: set[str]
    ) -> None:
        self._check_path(info.filename)
        if info.filename in seen:
            # Two members of one name: installers and the sidecar could pick different ones.
            self._fail(f"contains {info.filename!r} more than once")
        seen.add(info.filename)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            with archive.open(info) as link:
                target = link.read(_LINK_TARGET_MAX).decode("utf-8", "replace")
            self._check_link(info.filename, target, symbolic=True)
        elif any(check(mode) for check in _SPECIAL_FILE_CHECKS):
            self._fail(f"contains the device or special file {info.filename!r}")

    def _read_member(self, archive: zipfile.ZipFile, name: str) -> bytes:
        with archive.open(name) as member:
            return self._read_bounded(member, name)

    # tar: streamed once through a counter, so a bomb stops at the limit.

    def _tar_metadata(self, path: Path, root: str | None) -> bytes:
        found: dict[str, bytes] = {}
        tops: set[str] = set()
        bzip2 = self.filename.endswith(".bz2")
        with (
            path.open("rb") as raw,
            self._translating("bzip2-compressed tar" if bzip2 else "gzip-compressed tar"),
        ):
            decompressed = bz2.BZ2File(raw) if bzip2 else gzip.GzipFile(fileobj=raw, mode="rb")
            counted = _CountingReader(decompressed, self.limits.max_uncompressed_bytes)
            # Stream mode ("r|") reads forward only, so every byte passes the counter.
            with (
                decompressed,
                tarfile.open(fileobj=cast("IO[bytes]", counted), mode="r|") as archive,
            ):
                for count, member in enumerate(archive, start=1):
                    self._check_count(count)
                    tops.add(self._tar_top(member))
                    self._maybe_keep_pkg_info(member, archive, found)
                self._check_tar_complete(counted, archive.offset)
        wanted = f"{self._single_root(tops, root)}/PKG-INFO"
        if wanted not in found:
            self._fail(f"has no {wanted}")
        return found[wanted]

    def _check_tar_complete(self, counted: _CountingReader, end_of_members: int) -> None:
        # tarfile takes a partial header for the end of the archive; what follows the last
        # member must be whole 512-byte blocks.
        while counted.read(_CHUNK):
            pass
        if (counted.count - end_of_members) % tarfile.BLOCKSIZE:
            self._fail("is truncated")

    def _tar_top(self, member: tarfile.TarInfo) -> str:
        self._check_path(member.name)
        if member.issym():
            self._check_link(member.name, member.linkname, symbolic=True)
        elif member.islnk():
            self._check_link(member.name, member.linkname, symbolic=False)
        elif not (member.isfile() or member.isdir()):
            self._fail(f"contains the device or special file {member.name!r}")
        parts = _clean(member.name).split("/")
        if len(parts) == 1 and not member.isdir():
            self._fail(f"has the file {member.name!r} outside a top-level directory")
        return parts[0]

    def _maybe_keep_pkg_info(
        self, member: tarfile.TarInfo, archive: tarfile.TarFile, found: dict[str, bytes]
    ) -> None:
        name = _clean(member.name)
        if not (member.isfile() and name.count("/") == 1 and name.endswith("/PKG-INFO")):
            return
        if name in found:
            self._fail(f"contains {member.name!r} more than once")
        stream = archive.extractfile(member)
        assert stream is not None  # a regular file always has a stream
        found[name] = self._read_bounded(stream, name)

    # checks shared by both formats

    def _single_root(self, tops: set[str], root: str | None) -> str:
        if len(tops) != 1:
            self._fail(f"must contain exactly one top-level directory, found {len(tops)}")
        (top,) = tops
        if root is not None and top != root:
            self._fail(f"has the top-level directory {top!r}; expected {root!r}")
        return top

    def _read_bounded(self, stream: IO[bytes], name: str) -> bytes:
        try:
            data = stream.read(self.limits.max_metadata_bytes + 1)
        except _CORRUPTION as e:
            raise InvalidArchive(f"{self.filename} is corrupt: cannot read {name}") from e
        if len(data) > self.limits.max_metadata_bytes:
            self._fail(f"has a {name} larger than {self.limits.max_metadata_bytes} bytes")
        return data

    def _check_count(self, count: int) -> None:
        if count > self.limits.max_members:
            self._fail(f"has more than {self.limits.max_members} members")

    def _check_path(self, name: str) -> None:
        if not name:
            self._fail("has a member with an empty name")
        if "\\" in name:
            self._fail(f"has the member {name!r} with a backslash in its path")
        if name.startswith("/") or _DRIVE.match(name):
            self._fail(f"has the member {name!r} with an absolute path")
        if ".." in name.split("/"):
            self._fail(f"has the member {name!r} with '..' in its path (path traversal)")

    def _check_link(self, name: str, target: str, *, symbolic: bool) -> None:
        # A symlink resolves from its own directory, a tar hard link from the archive root.
        base = _clean(name).split("/")[:-1] if symbolic else []
        if not _stays_inside(base, target):
            kind = "symlink" if symbolic else "hard link"
            self._fail(f"has the {kind} {name!r} pointing outside the archive ({target!r})")

    @contextmanager
    def _translating(self, kind: str) -> Iterator[None]:
        """Turn whatever a corrupt archive makes the standard library raise into InvalidArchive."""
        try:
            yield
        except InvalidArchive:
            raise
        except _LimitExceededError:
            self._too_large()
        except _CORRUPTION as e:
            raise InvalidArchive(f"{self.filename} is not a valid {kind} archive") from e

    def _too_large(self) -> NoReturn:
        self._fail(f"decompresses to more than {self.limits.max_uncompressed_bytes} bytes")

    def _fail(self, problem: str) -> NoReturn:
        raise InvalidArchive(f"{self.filename} {problem}")


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _CountingReader:
    """A read-only stream that stops delivering bytes once `limit` have passed through."""

    def __init__(self, inner: _Readable, limit: int) -> None:
        self.inner = inner
        self.limit = limit
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        # Never ask for more than one byte past the limit, however large `size` is.
        allowed = self.limit + 1 - self.count
        data = self.inner.read(allowed if size < 0 else min(size, allowed))
        self.count += len(data)
        if self.count > self.limit:
            raise _LimitExceededError
        return data


class _LimitExceededError(Exception):
    """Raised inside tarfile's read loop; translated to InvalidArchive outside it."""


def _clean(name: str) -> str:
    """The member path without empty and '.' components (tar writers differ on './')."""
    return "/".join(part for part in name.split("/") if part not in ("", "."))


def _stays_inside(base: list[str], target: str) -> bool:
    if not target or target.startswith("/") or "\\" in target or _DRIVE.match(target):
        return False
    parts = list(base)
    for part in target.split("/"):
        if part == "..":
            if not parts:
                return False
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return True
