"""Receive an upload's bytes into the staging area, hashing as they stream by."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from packyard.domain.errors import TooLarge
from packyard.domain.models import Digests

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class SpooledFile:
    path: Path
    size: int
    digests: Digests


class _Hasher:
    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.blake2b = hashlib.blake2b(digest_size=32)
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        self.blake2b.update(chunk)
        self.md5.update(chunk)
        self.size += len(chunk)

    def digests(self) -> Digests:
        return Digests(
            sha256=self.sha256.hexdigest(),
            blake2b_256=self.blake2b.hexdigest(),
            md5=self.md5.hexdigest(),
        )


def too_large(limit: int) -> TooLarge:
    return TooLarge(
        f"The upload is larger than this index's limit of {limit} bytes (PACKYARD_MAX_UPLOAD_SIZE)"
    )


def spool_file(source: BinaryIO, staging_dir: Path, *, max_size: int) -> SpooledFile:
    """Copy a readable file into the staging dir; the caller owns (and removes) the result."""
    staging_dir.mkdir(parents=True, exist_ok=True)
    hasher = _Hasher()
    fd, name = tempfile.mkstemp(dir=staging_dir, prefix="upload-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                hasher.update(chunk)
                if hasher.size > max_size:
                    raise too_large(max_size)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return SpooledFile(path=path, size=hasher.size, digests=hasher.digests())


async def limit_stream(stream: AsyncIterator[bytes], max_size: int) -> AsyncGenerator[bytes, None]:
    """Pass a request body through, failing as soon as it exceeds max_size."""
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > max_size:
            raise too_large(max_size)
        yield chunk


def digests_of_path(path: Path) -> SpooledFile:
    """Hash a file already on disk (the import path), without copying it."""
    hasher = _Hasher()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            hasher.update(chunk)
    return SpooledFile(path=path, size=hasher.size, digests=hasher.digests())
