"""Contract of ports.FileStore over LocalFileStore and FakeFileStore."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from packyard import ports
from packyard.adapters.blobs.local import LocalFileStore

pytestmark = pytest.mark.integration


def key_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def staged(store: ports.FileStore, data: bytes) -> Path:
    path = store.staging_dir() / f"upload-{key_of(data)[:8]}"
    path.write_bytes(data)
    return path


def test_put_bytes_then_read_back(file_store: ports.FileStore) -> None:
    data = b"wheel bytes"
    file_store.put_bytes(key_of(data), data)
    assert file_store.exists(key_of(data))
    assert file_store.size(key_of(data)) == len(data)
    with file_store.open(key_of(data)) as stream:
        assert stream.read() == data


def test_put_path_stores_the_staged_file(file_store: ports.FileStore) -> None:
    data = b"sdist bytes" * 1000
    file_store.put_path(key_of(data), staged(file_store, data))
    with file_store.open(key_of(data)) as stream:
        assert stream.read() == data


def test_putting_an_existing_key_is_a_no_op(file_store: ports.FileStore) -> None:
    data = b"first"
    key = key_of(data)
    file_store.put_bytes(key, data)
    # Content addressing: same key means same bytes, so the first copy stays.
    file_store.put_bytes(key, b"other")
    file_store.put_path(key, staged(file_store, b"other again"))
    with file_store.open(key) as stream:
        assert stream.read() == data
    assert list(file_store.keys()) == [key]


def test_missing_key_raises_file_not_found(file_store: ports.FileStore) -> None:
    key = key_of(b"absent")
    assert not file_store.exists(key)
    with pytest.raises(FileNotFoundError):
        file_store.size(key)
    with pytest.raises(FileNotFoundError):
        file_store.open(key)
    file_store.delete(key)  # deleting what is absent is fine


def test_delete_removes_the_blob(file_store: ports.FileStore) -> None:
    data = b"to delete"
    file_store.put_bytes(key_of(data), data)
    file_store.delete(key_of(data))
    assert not file_store.exists(key_of(data))
    assert list(file_store.keys()) == []


def test_keys_lists_every_stored_blob(file_store: ports.FileStore) -> None:
    blobs = [b"one", b"two", b"three"]
    for data in blobs:
        file_store.put_bytes(key_of(data), data)
    staged(file_store, b"an upload in progress is not a blob")
    assert sorted(file_store.keys()) == sorted(key_of(d) for d in blobs)


@pytest.mark.parametrize(
    "key",
    ["", "a" * 63, "a" * 65, "A" * 64, "g" * 64, "../" + "a" * 61, "a" * 64 + "\n"],
)
def test_invalid_key_is_rejected(file_store: ports.FileStore, key: str) -> None:
    with pytest.raises(ValueError, match="invalid blob key"):
        file_store.put_bytes(key, b"x")
    with pytest.raises(ValueError, match="invalid blob key"):
        file_store.exists(key)
    with pytest.raises(ValueError, match="invalid blob key"):
        file_store.open(key)


def test_staging_dir_exists(file_store: ports.FileStore) -> None:
    assert file_store.staging_dir().is_dir()


# LocalFileStore specifics ---------------------------------------------------------------


def test_local_layout_is_two_level_fanout(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    data = b"layout"
    key = key_of(data)
    store.put_bytes(key, data)
    path = tmp_path / key[:2] / key[2:4] / key
    assert store.local_path(key) == path
    assert path.read_bytes() == data
    assert store.staging_dir() == tmp_path / "tmp"
    assert path.stat().st_mode & 0o777 == 0o644


def test_local_put_path_moves_the_staged_file_into_place(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    data = b"moved"
    source = staged(store, data)
    store.put_path(key_of(data), source)
    assert not source.exists()
    assert list(store.staging_dir().iterdir()) == []


def test_local_put_is_atomic_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalFileStore(tmp_path)
    data = b"never visible"

    def fail_fsync(fd: int) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(os, "fsync", fail_fsync)
    with pytest.raises(OSError, match="disk on fire"):
        store.put_bytes(key_of(data), data)
    monkeypatch.undo()
    assert not store.exists(key_of(data))
    assert list(store.keys()) == []
    assert list(store.staging_dir().iterdir()) == []  # no temp file left behind


def test_local_put_path_copies_from_another_filesystem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalFileStore(tmp_path / "store")
    data = b"from elsewhere"
    source = tmp_path / "elsewhere"
    source.write_bytes(data)
    real_replace = os.replace

    def cross_device(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        if Path(src) == source:
            raise OSError(18, "Invalid cross-device link")  # EXDEV
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", cross_device)
    store.put_path(key_of(data), source)
    with store.open(key_of(data)) as stream:
        assert stream.read() == data
