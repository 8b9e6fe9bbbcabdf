"""Blobs on the local filesystem: root/ab/cd/<sha256>, written atomically."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

_KEY = re.compile(r"[0-9a-f]{64}")
_FANOUT = re.compile(r"[0-9a-f]{2}")
# Stored files are served by packyard or, through X-Accel-Redirect, by nginx.
_FILE_MODE = 0o644


def validate_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"invalid blob key {key!r}: expected 64 lower-case hex characters")
    return key


class LocalFileStore:
    """Implements ports.FileStore.

    A blob becomes visible under its final name only once its bytes are on disk: it is
    written to root/tmp (same filesystem), fsynced, renamed into place, and the
    directory is fsynced so the rename itself survives a power loss.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def put_path(self, key: str, source: Path) -> None:
        target = self._path(key)
        if target.exists():
            return
        _fsync_file(source)
        _make_dirs(target.parent)
        try:
            os.chmod(source, _FILE_MODE)
            os.replace(source, target)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            # `source` is on another filesystem: copy it into staging first.
            with source.open("rb") as stream:
                self._write_atomically(target, lambda out: shutil.copyfileobj(stream, out))
            return
        _fsync_dir(target.parent)

    def put_bytes(self, key: str, data: bytes) -> None:
        target = self._path(key)
        if not target.exists():
            self._write_atomically(target, lambda out: out.write(data))

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if not _FANOUT.fullmatch(first.name) or not first.is_dir():
                continue
            for second in sorted(first.iterdir()):
                if not _FANOUT.fullmatch(second.name) or not second.is_dir():
                    continue
                for blob in sorted(second.iterdir()):
                    if _KEY.fullmatch(blob.name) and blob.name.startswith(first.name + second.name):
                        yield blob.name

    def staging_dir(self) -> Path:
        staging = self.root / "tmp"
        staging.mkdir(parents=True, exist_ok=True)
        return staging

    def _path(self, key: str) -> Path:
        validate_key(key)
        return self.root / key[:2] / key[2:4] / key

    def _write_atomically(self, target: Path, write: Callable[[BinaryIO], object]) -> None:
        _make_dirs(target.parent)
        fd, temp_name = tempfile.mkstemp(dir=self.staging_dir(), prefix=".put-")
        temp = Path(temp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                write(out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, _FILE_MODE)
            os.replace(temp, target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)


def _make_dirs(path: Path) -> None:
    """mkdir -p, fsyncing the parent of each directory created so its entry is durable."""
    if path.is_dir():
        return
    _make_dirs(path.parent)
    with contextlib.suppress(FileExistsError):
        path.mkdir()
        _fsync_dir(path.parent)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # Directory fsync makes a rename durable; not every platform allows it (Windows).
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
