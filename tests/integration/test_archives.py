from __future__ import annotations

import gzip
import subprocess
import sys
import tarfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest

from helpers.dists import (
    core_metadata,
    make_corrupt_sdist,
    make_corrupt_wheel,
    make_gzip_bomb_sdist,
    make_sdist,
    make_symlink_sdist,
    make_symlink_wheel,
    make_traversal_wheel,
    make_wheel,
    make_zip_bomb_wheel,
    metadata_of,
    write_tar,
    write_zip,
)
from packyard.adapters.archives import (
    DEFAULT_LIMITS,
    ArchiveLimits,
    Inspection,
    inspect_distribution,
    mirrored_wheel_metadata,
)
from packyard.domain.errors import InvalidArchive, InvalidMetadata
from packyard.domain.filenames import parse_filename

pytestmark = pytest.mark.integration

SMALL = ArchiveLimits(max_members=10, max_uncompressed_bytes=1024**2, max_metadata_bytes=2048)


def inspect(path: Path, limits: ArchiveLimits = DEFAULT_LIMITS) -> Inspection:
    return inspect_distribution(path, parse_filename(path.name, allow_legacy=True), limits)


def refused(path: Path, message: str, limits: ArchiveLimits = DEFAULT_LIMITS) -> str:
    """Inspect, expect InvalidArchive naming the file and matching `message`."""
    with pytest.raises(InvalidArchive, match=message) as raised:
        inspect(path, limits)
    assert str(raised.value).startswith(path.name)
    return str(raised.value)


# good distributions


def test_wheel_metadata_is_read_verbatim(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "Demo.Pkg", "1.0", requires_python=">=3.9", dependencies=["a>=1"])
    inspection = inspect(path)
    assert inspection.metadata_bytes == metadata_of(path)
    assert inspection.metadata.name == "Demo.Pkg"
    assert inspection.metadata.requires_python == ">=3.9"
    assert inspection.metadata.requires_dist == ("a>=1",)


@pytest.mark.parametrize(
    ("filename", "root"),
    [
        ("demo-1.0.tar.gz", None),
        ("Demo-1.0.tar.gz", None),
        ("demo-1.0.tar.bz2", None),
        ("demo-1.0.zip", None),
        ("Demo-Pkg-1.0.tar.gz", "demo_pkg-1.0"),
        ("Demo-Pkg-1.0.zip", "anything"),
    ],
)
def test_sdist_pkg_info_is_read_verbatim(tmp_path: Path, filename: str, root: str | None) -> None:
    name = "demo-pkg" if "Pkg" in filename else "demo"
    path = make_sdist(tmp_path, name, "1.0", filename=filename, root=root)
    inspection = inspect(path)
    assert inspection.metadata_bytes == metadata_of(path)
    assert inspection.metadata.name == name
    assert inspection.metadata.is_static


def test_dynamic_sdist_metadata_is_not_static(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "demo", "1.0", dynamic=["Requires-Dist"])
    assert inspect(path).metadata.dynamic == ("Requires-Dist",)
    assert not inspect(path).metadata.is_static


@pytest.mark.parametrize("target", ["PKG-INFO", "demo/__init__.py", "../demo-1.0/PKG-INFO"])
def test_symlinks_inside_the_sdist_are_accepted(tmp_path: Path, target: str) -> None:
    assert inspect(make_symlink_sdist(tmp_path, "demo", "1.0", target=target)).metadata


def test_hard_links_inside_the_sdist_are_accepted(tmp_path: Path) -> None:
    path = make_symlink_sdist(
        tmp_path, "demo", "1.0", target="demo-1.0/PKG-INFO", kind=tarfile.LNKTYPE
    )
    assert inspect(path).metadata.name == "demo"


def test_symlinks_inside_the_wheel_are_accepted(tmp_path: Path) -> None:
    assert inspect(make_symlink_wheel(tmp_path, "demo", "1.0", target="__init__.py")).metadata


# corrupt archives


def test_truncated_wheel_is_not_a_valid_zip(tmp_path: Path) -> None:
    message = refused(make_corrupt_wheel(tmp_path, "demo", "1.0"), "is not a valid zip archive")
    assert message == "demo-1.0-py3-none-any.whl is not a valid zip archive"


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04" + bytes(100)])
def test_garbage_wheel_is_not_a_valid_zip(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    path.write_bytes(content)
    refused(path, "is not a valid zip archive")


def test_wheel_with_a_corrupt_metadata_member_is_refused(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "demo", "1.0", metadata=core_metadata("demo", "1.0") * 20)
    data = bytearray(path.read_bytes())
    start = data.index(b"demo-1.0.dist-info/METADATA") + len(b"demo-1.0.dist-info/METADATA")
    data[start : start + 40] = bytes(40)  # flip the deflated METADATA bytes
    path.write_bytes(bytes(data))
    refused(path, "is corrupt: cannot read demo-1.0.dist-info/METADATA")


def test_truncated_gzip_sdist_is_refused(tmp_path: Path) -> None:
    path = make_corrupt_sdist(tmp_path, "demo", "1.0", layer="gzip")
    assert refused(path, "gzip") == "demo-1.0.tar.gz is not a valid gzip-compressed tar archive"


@pytest.mark.parametrize("content", [b"", b"not gzip", gzip.compress(b"not a tar" * 100)])
def test_garbage_sdist_is_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "demo-1.0.tar.gz"
    path.write_bytes(content)
    refused(path, "is not a valid gzip-compressed tar archive")


def test_tar_cut_inside_a_header_is_truncated(tmp_path: Path) -> None:
    path = make_corrupt_sdist(tmp_path, "demo", "1.0", layer="tar")
    refused(path, "is truncated")


def test_tar_cut_inside_member_data_is_refused(tmp_path: Path) -> None:
    path = make_corrupt_sdist(tmp_path, "demo", "1.0", layer="tar", cut=1024 + 512 + 100)
    refused(path, "is not a valid gzip-compressed tar archive")


def test_corrupt_bzip2_sdist_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0.tar.bz2"
    path.write_bytes(b"BZh9" + bytes(50))
    refused(path, "is not a valid bzip2-compressed tar archive")


def test_corrupt_zip_sdist_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0.zip"
    path.write_bytes(b"PK junk")
    refused(path, "is not a valid zip archive")


# bombs and limits


def test_zip_bomb_is_refused_by_declared_size(tmp_path: Path) -> None:
    path = make_zip_bomb_wheel(tmp_path, "demo", "1.0", uncompressed_size=8 * 1024**2)
    assert path.stat().st_size < 100_000
    refused(path, "decompresses to more than 1048576 bytes", SMALL)


def test_gzip_bomb_is_refused_without_decompressing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_gzip_bomb_sdist(tmp_path, "demo", "1.0", uncompressed_size=256 * 1024**2)
    assert path.stat().st_size < 400_000
    decompressed = [0]

    class CountingGzipFile(gzip.GzipFile):
        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            decompressed[0] += len(data)
            return data

    monkeypatch.setattr(gzip, "GzipFile", CountingGzipFile)
    refused(path, "decompresses to more than 1048576 bytes", SMALL)
    # The reader stops right after the limit instead of inflating all 256 MiB.
    assert 1024**2 < decompressed[0] <= 1024**2 + 64 * 1024


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_too_many_members_are_refused(tmp_path: Path, kind: str) -> None:
    many = {f"demo/m{i}.py": b"" for i in range(20)}
    if kind == "wheel":
        path = make_wheel(tmp_path, "demo", "1.0", extra_files=many)
    else:
        path = make_sdist(
            tmp_path, "demo", "1.0", extra_members={f"demo-1.0/{k}": b"" for k in many}
        )
    refused(path, "has more than 10 members", SMALL)


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_oversized_metadata_is_refused(tmp_path: Path, kind: str) -> None:
    big = core_metadata("demo", "1.0") + b"x" * 4096
    if kind == "wheel":
        path = make_wheel(tmp_path, "demo", "1.0", metadata=big)
        member = "demo-1.0.dist-info/METADATA"
    else:
        path = make_sdist(tmp_path, "demo", "1.0", pkg_info=big)
        member = "demo-1.0/PKG-INFO"
    refused(path, f"has a {member} larger than 2048 bytes", SMALL)


# hostile paths and links


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ("../evil.py", r"'\.\./evil\.py' with '\.\.' in its path \(path traversal\)"),
        ("demo/../../evil.py", r"with '\.\.' in its path"),
        ("/etc/evil.py", "'/etc/evil.py' with an absolute path"),
        ("C:/evil.py", "'C:/evil.py' with an absolute path"),
        ("demo\\..\\evil.py", "with a backslash in its path"),
    ],
)
def test_wheel_members_leaving_the_archive_are_refused(
    tmp_path: Path, member: str, message: str
) -> None:
    refused(make_traversal_wheel(tmp_path, "demo", "1.0", member=member), message)


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ("demo-1.0/../../evil.py", r"with '\.\.' in its path"),
        ("/demo-1.0/evil.py", "with an absolute path"),
        ("demo-1.0/a\\b.py", "with a backslash in its path"),
    ],
)
def test_sdist_members_leaving_the_archive_are_refused(
    tmp_path: Path, member: str, message: str
) -> None:
    path = make_sdist(tmp_path, "demo", "1.0", extra_members={member: b"x = 1\n"})
    refused(path, message)


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd", "../../../x", "C:/x"])
def test_symlinks_out_of_a_wheel_are_refused(tmp_path: Path, target: str) -> None:
    path = make_symlink_wheel(tmp_path, "demo", "1.0", target=target)
    refused(path, f"has the symlink 'demo/link' pointing outside the archive \\({target!r}\\)")


@pytest.mark.parametrize("target", ["../../etc/passwd", "/etc/passwd", "../../x"])
def test_symlinks_out_of_an_sdist_are_refused(tmp_path: Path, target: str) -> None:
    path = make_symlink_sdist(tmp_path, "demo", "1.0", target=target)
    refused(path, "has the symlink 'demo-1.0/link' pointing outside the archive")


@pytest.mark.parametrize("target", ["../etc/passwd", "/etc/passwd"])
def test_hard_links_out_of_an_sdist_are_refused(tmp_path: Path, target: str) -> None:
    path = make_symlink_sdist(tmp_path, "demo", "1.0", target=target, kind=tarfile.LNKTYPE)
    refused(path, "has the hard link 'demo-1.0/link' pointing outside the archive")


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_device_files_in_an_sdist_are_refused(tmp_path: Path, kind: bytes) -> None:
    path = make_symlink_sdist(tmp_path, "demo", "1.0", target="", kind=kind)
    refused(path, "contains the device or special file 'demo-1.0/link'")


def test_device_files_in_a_wheel_are_refused(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "demo", "1.0")
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo("demo/dev")
        info.external_attr = 0o020644 << 16  # S_IFCHR
        archive.writestr(info, b"")
    refused(path, "contains the device or special file 'demo/dev'")


def test_duplicate_wheel_members_are_refused(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "demo", "1.0")
    with warnings.catch_warnings(), zipfile.ZipFile(path, "a") as archive:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we want
        archive.writestr("demo-1.0.dist-info/METADATA", core_metadata("evil", "1.0"))
    refused(path, "contains 'demo-1.0.dist-info/METADATA' more than once")


def test_duplicate_pkg_info_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "demo-1.0.tar.gz"
    pkg_info = core_metadata("demo", "1.0")
    write_tar(path, {"demo-1.0/PKG-INFO": pkg_info, "demo-1.0/./PKG-INFO": pkg_info})
    refused(path, "contains 'demo-1.0/./PKG-INFO' more than once")


# required members and layout


@pytest.mark.parametrize("missing", ["METADATA", "RECORD"])
def test_wheel_without_metadata_or_record_is_refused(tmp_path: Path, missing: str) -> None:
    path = make_wheel(tmp_path, "demo", "1.0", omit=[missing])
    refused(path, f"has no demo-1.0.dist-info/{missing} ")


def test_wheel_whose_dist_info_is_spelled_otherwise_is_refused(tmp_path: Path) -> None:
    built = make_wheel(tmp_path, "demo", "1.0")
    path = built.rename(tmp_path / "Demo-1.0-py3-none-any.whl")
    refused(path, "has no Demo-1.0.dist-info/METADATA")


def test_sdist_with_the_wrong_top_directory_is_refused(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "demo", "1.0", root="other-1.0")
    refused(path, "has the top-level directory 'other-1.0'; expected 'demo-1.0'")


@pytest.mark.parametrize("filename", ["demo-1.0.tar.gz", "demo-1.0.zip"])
def test_sdist_with_two_top_directories_is_refused(tmp_path: Path, filename: str) -> None:
    path = make_sdist(tmp_path, "demo", "1.0", filename=filename, extra_members={"x/y.py": b""})
    refused(path, "must contain exactly one top-level directory, found 2")


def test_sdist_with_a_top_level_file_is_refused(tmp_path: Path) -> None:
    path = make_sdist(tmp_path, "demo", "1.0", extra_members={"setup.py": b""})
    refused(path, "has the file 'setup.py' outside a top-level directory")


@pytest.mark.parametrize("where", ["demo-1.0/src/demo.egg-info/PKG-INFO", None])
def test_sdist_without_top_level_pkg_info_is_refused(tmp_path: Path, where: str | None) -> None:
    path = tmp_path / "demo-1.0.tar.gz"
    members = {"demo-1.0/setup.py": b""}
    if where:
        members[where] = core_metadata("demo", "1.0")
    write_tar(path, members)
    refused(path, "has no demo-1.0/PKG-INFO")


def test_legacy_zip_sdist_without_pkg_info_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "Demo-1.0.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Demo-1.0/setup.py", b"")
    refused(path, "has no Demo-1.0/PKG-INFO")


# metadata problems surface as InvalidMetadata


@pytest.mark.parametrize(
    ("kind", "metadata", "message"),
    [
        ("wheel", core_metadata("other", "1.0"), "The name 'other' in METADATA does not match"),
        ("wheel", core_metadata("demo", "2.0"), "The version '2.0' in METADATA does not match"),
        ("sdist", core_metadata("other", "1.0"), "The name 'other' in PKG-INFO does not match"),
        ("sdist", core_metadata("demo", "1", metadata_version="3.0"), "3.0 is not supported"),
        ("wheel", b"\xff\xfe", "not valid UTF-8"),
    ],
)
def test_bad_metadata_inside_an_archive_is_invalid_metadata(
    tmp_path: Path, kind: str, metadata: bytes, message: str
) -> None:
    if kind == "wheel":
        path = make_wheel(tmp_path, "demo", "1.0", metadata=metadata)
    else:
        path = make_sdist(tmp_path, "demo", "1.0", pkg_info=metadata)
    with pytest.raises(InvalidMetadata, match=message):
        inspect(path)


# the builders themselves


@pytest.mark.parametrize("builder", [make_wheel, make_sdist])
def test_builders_are_deterministic(tmp_path: Path, builder: Any) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    assert builder(first, "demo", "1.0").read_bytes() == builder(second, "demo", "1.0").read_bytes()


def test_built_wheel_record_matches_its_members(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "demo", "1.0", extra_files={"demo/data.txt": b"hello"})
    with zipfile.ZipFile(path) as archive:
        record = archive.read("demo-1.0.dist-info/RECORD").decode().splitlines()
        names = set(archive.namelist())
    assert {line.split(",")[0] for line in record} == names
    assert "demo/data.txt,sha256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ,5" in record


@pytest.mark.parametrize(
    ("builder", "name", "dist_info"),
    [
        (make_wheel, "Demo.A", "demo_a-1.0.dist-info"),
        (make_sdist, "demo-b", "demo_b-1.0.dist-info"),
    ],
)
def test_built_distributions_install_with_uv(
    tmp_path: Path, builder: Any, name: str, dist_info: str
) -> None:
    built = builder(tmp_path, name, "1.0")
    target = tmp_path / "target"
    uv = Path(sys.executable).with_name("uv")
    subprocess.run(
        [
            str(uv),
            "pip",
            "install",
            "--offline",
            "--no-cache",
            "--no-deps",
            "--quiet",
            "--python",
            sys.executable,
            "--target",
            str(target),
            str(built),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    module = name.lower().replace(".", "_").replace("-", "_")
    assert (target / module / "__init__.py").read_text() == '__version__ = "1.0"\n'
    assert (target / dist_info / "METADATA").read_bytes() == metadata_of(built)


# wheels fetched by a mirror: their METADATA is served as the PEP 658 sidecar


def mirrored(path: Path, limits: ArchiveLimits = DEFAULT_LIMITS) -> bytes:
    with path.open("rb") as source:
        return mirrored_wheel_metadata(source, path.name, path.stat().st_size, limits)


def test_a_mirrored_wheel_gives_its_metadata_verbatim(tmp_path: Path) -> None:
    path = make_wheel(tmp_path, "Demo.Pkg", "1.0", dependencies=["a>=1"])
    assert mirrored(path) == metadata_of(path)


def test_a_mirrored_wheel_whose_dist_info_is_spelled_otherwise_still_gives_its_metadata(
    tmp_path: Path,
) -> None:
    # Old wheels on public indexes spell the directory as their build tool did.
    data = core_metadata("PyYAML", "6.0")
    path = tmp_path / "pyyaml-6.0-py3-none-any.whl"
    write_zip(path, {"yaml/__init__.py": b"", "PyYAML-6.0.dist-info/METADATA": data})
    assert mirrored(path) == data


@pytest.mark.parametrize(
    ("members", "problem"),
    [
        ({"demo/__init__.py": b""}, "has 0 .dist-info/METADATA files"),
        (
            {"a-1.dist-info/METADATA": b"Name: a\n", "b-1.dist-info/METADATA": b"Name: b\n"},
            "has 2 .dist-info/METADATA files",
        ),
        ({"x/demo-1.0.dist-info/METADATA": b"Name: demo\n"}, "has 0 .dist-info/METADATA"),
    ],
)
def test_a_mirrored_wheel_without_exactly_one_metadata_file_is_refused(
    tmp_path: Path, members: dict[str, bytes], problem: str
) -> None:
    path = tmp_path / "demo-1.0-py3-none-any.whl"
    write_zip(path, members)
    with pytest.raises(InvalidArchive, match=problem):
        mirrored(path)


def test_a_hostile_mirrored_wheel_is_refused_like_an_upload(tmp_path: Path) -> None:
    with pytest.raises(InvalidArchive, match="decompresses to more than"):
        mirrored(make_zip_bomb_wheel(tmp_path, "bomb", "1.0"))
    with pytest.raises(InvalidArchive, match="path traversal"):
        mirrored(make_traversal_wheel(tmp_path, "evil", "1.0"))
    with pytest.raises(InvalidArchive, match="not a valid zip"):
        mirrored(make_corrupt_wheel(tmp_path, "cut", "1.0"))
