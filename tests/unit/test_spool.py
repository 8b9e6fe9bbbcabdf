"""Spooling uploads into the staging dir: hashing on the way, bounded size, no leftovers."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from packyard.adapters import spool
from packyard.adapters.spool import digests_of_path, limit_stream, spool_file
from packyard.domain.errors import TooLarge
from packyard.domain.models import Digests

pytestmark = pytest.mark.unit


def hashlib_digests(data: bytes) -> Digests:
    return Digests(
        sha256=hashlib.sha256(data).hexdigest(),
        blake2b_256=hashlib.blake2b(data, digest_size=32).hexdigest(),
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
    )


@pytest.fixture(scope="module")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("staging")


class Trickle(io.RawIOBase):
    """A source that returns at most `step` bytes per read, as a slow network does."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = min(len(buffer), self._step, len(self._data))
        buffer[:size] = self._data[:size]
        self._data = self._data[size:]
        return size


@given(st.binary(max_size=300), st.integers(1, 64))
def test_spooled_file_has_hashlibs_digests_size_and_bytes(
    staging: Path, data: bytes, step: int
) -> None:
    spooled = spool_file(cast(BinaryIO, Trickle(data, step)), staging, max_size=len(data))
    try:
        assert spooled.digests == hashlib_digests(data)
        assert spooled.size == len(data)
        assert spooled.path.read_bytes() == data
        assert spooled.path.parent == staging
    finally:
        spooled.path.unlink()


def test_multi_megabyte_upload_is_hashed_across_chunks(tmp_path: Path) -> None:
    data = bytes(range(256)) * (3 * spool.CHUNK // 256) + b"tail"

    spooled = spool_file(io.BytesIO(data), tmp_path, max_size=len(data))

    assert spooled.digests == hashlib_digests(data)
    assert spooled.size == len(data)


@pytest.mark.parametrize("step", [1, 7, 1 << 20])
@pytest.mark.parametrize("excess", [1, 6, 7, 100])
def test_upload_over_the_limit_is_too_large_and_leaves_nothing(
    tmp_path: Path, excess: int, step: int
) -> None:
    limit = 20

    with pytest.raises(TooLarge, match=str(limit)):
        spool_file(cast(BinaryIO, Trickle(b"x" * (limit + excess), step)), tmp_path, max_size=limit)

    assert list(tmp_path.iterdir()) == []


def test_upload_of_exactly_the_limit_is_accepted(tmp_path: Path) -> None:
    spooled = spool_file(io.BytesIO(b"x" * 20), tmp_path, max_size=20)

    assert spooled.size == 20


def test_failing_source_leaves_no_temp_file(tmp_path: Path) -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        spool_file(cast(BinaryIO, Broken()), tmp_path, max_size=100)

    assert list(tmp_path.iterdir()) == []


def test_missing_staging_dir_is_created(tmp_path: Path) -> None:
    staging = tmp_path / "a" / "b"

    spooled = spool_file(io.BytesIO(b"data"), staging, max_size=10)

    assert spooled.path.parent == staging


def test_digests_of_path_hashes_in_place(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(b"sdist bytes" * 1000)

    found = digests_of_path(path)

    assert found.path == path
    assert found.size == path.stat().st_size
    assert found.digests == hashlib_digests(path.read_bytes())


async def _stream(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _collect(chunks: list[bytes], limit: int) -> list[bytes]:
    return [chunk async for chunk in limit_stream(_stream(chunks), limit)]


def test_limit_stream_passes_a_body_within_the_limit() -> None:
    chunks = [b"abc", b"", b"defg"]

    assert asyncio.run(_collect(chunks, 7)) == chunks


def test_limit_stream_fails_as_soon_as_the_limit_is_passed() -> None:
    seen: list[bytes] = []

    async def consume() -> None:
        async for chunk in limit_stream(_stream([b"abc", b"defg", b"never"]), 5):
            seen.append(chunk)

    with pytest.raises(TooLarge):
        asyncio.run(consume())

    assert seen == [b"abc"]
