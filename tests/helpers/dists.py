"""Builders of real distributions (and hostile ones) for every test suite.

Wheels and sdists built here install with pip and uv: wheels carry WHEEL, METADATA and a
RECORD with correct hashes; sdists carry a tiny stdlib-only PEP 517 backend, so building
them needs nothing from any index. Output is deterministic: the same call gives the same
bytes.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import re
import tarfile
import zipfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from packaging.tags import parse_tag
from packaging.version import InvalidVersion, Version

_DATE_TIME = (2020, 2, 2, 0, 0, 0)
_MTIME = 1_580_601_600  # 2020-02-02T00:00:00Z, matching _DATE_TIME
_FILE_MODE = 0o644 << 16
_SYMLINK_MODE = 0o120777 << 16

# A PEP 517 in-tree backend that turns this sdist into a wheel with the standard library
# only; it reuses PKG-INFO as METADATA, so sdist and wheel describe the same release.
_BACKEND = """\
import base64, hashlib, os, zipfile

DIST = {dist!r}
MODULE = {module!r}


def _hash(data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    info = DIST + ".dist-info"
    files = {{}}
    for folder, _, names in os.walk(MODULE):
        for name in sorted(names):
            with open(os.path.join(folder, name), "rb") as f:
                files[folder.replace(os.sep, "/") + "/" + name] = f.read()
    with open("PKG-INFO", "rb") as f:
        files[info + "/METADATA"] = f.read()
    files[info + "/WHEEL"] = (
        b"Wheel-Version: 1.0\\nGenerator: packyard-tests\\nRoot-Is-Purelib: true\\n"
        b"Tag: py3-none-any\\n"
    )
    record = "".join(f"{{n}},{{_hash(d)}},{{len(d)}}\\n" for n, d in files.items())
    files[info + "/RECORD"] = (record + info + "/RECORD,,\\n").encode()
    filename = DIST + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return filename
"""


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    requires_python: str | None = None,
    summary: str = "A test package",
    metadata_version: str = "2.1",
    tag: str = "py3-none-any",
    extra_headers: Sequence[tuple[str, str]] = (),
    metadata: bytes | None = None,
    extra_files: Mapping[str, bytes] = {},
    omit: Collection[str] = (),
    filename: str | None = None,
    dependencies: Sequence[str] = (),
) -> Path:
    """Write an installable wheel and return its path.

    The .dist-info directory is named after the filename's first two components (so a
    `filename` override moves it too); `omit` drops dist-info files by base name
    ("RECORD") or members by full path; `metadata` replaces METADATA verbatim.
    """
    filename = filename or f"{dist_name(name)}-{dist_version(version)}-{tag}.whl"
    dist_info = "-".join(filename.split("-")[:2]) + ".dist-info"
    if metadata is None:
        metadata = core_metadata(
            name,
            version,
            metadata_version=metadata_version,
            summary=summary,
            requires_python=requires_python,
            headers=[*(("Requires-Dist", d) for d in dependencies), *extra_headers],
        )
    files = {
        f"{module_name(name)}/__init__.py": f'__version__ = "{version}"\n'.encode(),
        **extra_files,
        f"{dist_info}/METADATA": metadata,
        f"{dist_info}/WHEEL": _wheel_file(tag),
    }
    files = {path: data for path, data in files.items() if not _omitted(path, dist_info, omit)}
    if not _omitted(f"{dist_info}/RECORD", dist_info, omit):
        files[f"{dist_info}/RECORD"] = _record(files, f"{dist_info}/RECORD")
    path = directory / filename
    write_zip(path, files)
    return path


def make_sdist(
    directory: Path,
    name: str,
    version: str,
    *,
    metadata_version: str = "2.2",
    dynamic: Sequence[str] = (),
    requires_python: str | None = None,
    pkg_info: bytes | None = None,
    filename: str | None = None,
    root: str | None = None,
    extra_members: Mapping[str, bytes] = {},
) -> Path:
    """Write an installable sdist (.tar.gz; .tar.bz2 or .zip when `filename` says so).

    The top directory is `root`, else the filename without its extension;
    `extra_members` are full member paths, added after the project's own files.
    """
    filename = filename or f"{dist_name(name)}-{dist_version(version)}.tar.gz"
    root = root or re.sub(r"\.(tar\.gz|tar\.bz2|zip)$", "", filename)
    if pkg_info is None:
        pkg_info = core_metadata(
            name,
            version,
            metadata_version=metadata_version,
            requires_python=requires_python,
            headers=[("Dynamic", field) for field in dynamic],
        )
    members = {**_sdist_files(name, version, root, pkg_info), **extra_members}
    path = directory / filename
    if filename.endswith(".zip"):
        write_zip(path, members)
    else:
        write_tar(path, members, compression="bz2" if filename.endswith(".bz2") else "gz")
    return path


def metadata_of(path: Path) -> bytes:
    """The METADATA (wheel) or top-level PKG-INFO (sdist) bytes inside a built file."""
    if path.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(path) as archive:
            return archive.read(_metadata_member(archive.namelist()))
    with tarfile.open(path) as archive:
        member = archive.extractfile(_metadata_member(archive.getnames()))
        assert member is not None
        return member.read()


def core_metadata(
    name: str,
    version: str,
    *,
    metadata_version: str = "2.1",
    summary: str | None = "A test package",
    requires_python: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    """METADATA / PKG-INFO text with a Markdown description in the body."""
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}"]
    if summary is not None:
        lines.append(f"Summary: {summary}")
    if requires_python is not None:
        lines.append(f"Requires-Python: {requires_python}")
    lines += [f"{key}: {value}" for key, value in headers]
    lines += ["Description-Content-Type: text/markdown", "", f"# {name}", ""]
    return "\n".join(lines).encode()


def dist_name(name: str) -> str:
    """The name as wheel and PEP 625 sdist filenames spell it."""
    return re.sub(r"[-_.]+", "_", name).lower()


def dist_version(version: str) -> str:
    """The normalised version, as build tools put it in filenames (invalid ones as given)."""
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def module_name(name: str) -> str:
    return dist_name(name)


# hostile and broken archives


def make_zip_bomb_wheel(
    directory: Path, name: str, version: str, *, uncompressed_size: int = 32 * 1024**2
) -> Path:
    """A valid wheel with a member of zeros: tens of KB that inflate to `uncompressed_size`."""
    bomb = {f"{module_name(name)}/bomb.bin": bytes(uncompressed_size)}
    return make_wheel(directory, name, version, extra_files=bomb)


def make_traversal_wheel(
    directory: Path, name: str, version: str, *, member: str = "../evil.py"
) -> Path:
    """A wheel with a member whose path leaves the install directory."""
    return make_wheel(directory, name, version, extra_files={member: b"print('owned')\n"})


def make_symlink_wheel(
    directory: Path, name: str, version: str, *, target: str = "../../etc/passwd"
) -> Path:
    """A wheel with a Unix symlink member (zip external_attr S_IFLNK) pointing at `target`."""
    path = make_wheel(directory, name, version)
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo(f"{module_name(name)}/link", date_time=_DATE_TIME)
        info.external_attr = _SYMLINK_MODE
        archive.writestr(info, target)
    return path


def make_symlink_sdist(
    directory: Path,
    name: str,
    version: str,
    *,
    target: str = "../../etc/passwd",
    kind: bytes = tarfile.SYMTYPE,
) -> Path:
    """An sdist with a link (or, with `kind`, a hard link or device) named `{root}/link`."""
    root = f"{dist_name(name)}-{dist_version(version)}"
    link = tarfile.TarInfo(f"{root}/link")
    link.type, link.linkname, link.mtime = kind, target, _MTIME
    pkg_info = core_metadata(name, version, metadata_version="2.2")
    path = directory / f"{root}.tar.gz"
    write_tar(path, {**_sdist_files(name, version, root, pkg_info), f"{root}/link": link})
    return path


def make_gzip_bomb_sdist(
    directory: Path, name: str, version: str, *, uncompressed_size: int = 256 * 1024**2
) -> Path:
    """A valid sdist of a few hundred KB whose tar stream is `uncompressed_size` bytes.

    The zeros come before PKG-INFO, so a reader must get through them to find it.
    """
    root = f"{dist_name(name)}-{dist_version(version)}"
    bomb = tarfile.TarInfo(f"{root}/bomb.bin")
    bomb.size, bomb.mtime = uncompressed_size, _MTIME
    pkg_info = core_metadata(name, version, metadata_version="2.2")
    members: dict[str, bytes | tarfile.TarInfo] = {f"{root}/bomb.bin": bomb}
    members.update(_sdist_files(name, version, root, pkg_info))
    path = directory / f"{root}.tar.gz"
    write_tar(path, members, level=9)
    return path


def make_corrupt_wheel(directory: Path, name: str, version: str) -> Path:
    """A wheel cut in half: the zip's central directory is gone."""
    return _truncate(make_wheel(directory, name, version))


def make_corrupt_sdist(
    directory: Path, name: str, version: str, *, layer: str = "gzip", cut: int = 1124
) -> Path:
    """An sdist cut short: in its gzip stream (`layer="gzip"`), or a complete gzip stream
    of a tar cut after `cut` bytes (`layer="tar"`; the default ends inside the second
    header, just after a short PKG-INFO)."""
    path = make_sdist(directory, name, version)
    if layer == "gzip":
        return _truncate(path)
    tar = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(tar[:cut], mtime=0))
    return path


# writers


def write_zip(path: Path, members: Mapping[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=_DATE_TIME)
            info.external_attr = _FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


def write_tar(
    path: Path,
    members: Mapping[str, bytes | tarfile.TarInfo],
    *,
    compression: str = "gz",
    level: int = 6,
) -> None:
    """Write members (bytes, or a TarInfo for links, devices and zero-filled bombs)."""
    with path.open("wb") as raw:
        if compression == "bz2":
            with tarfile.open(fileobj=raw, mode="w:bz2") as archive:
                _add_members(archive, members)
            return
        # GzipFile with mtime=0 and no name, so the header is the same on every run.
        with (
            gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0, compresslevel=level) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as archive,
        ):
            _add_members(archive, members)


def _add_members(archive: tarfile.TarFile, members: Mapping[str, bytes | tarfile.TarInfo]) -> None:
    for name, content in members.items():
        if isinstance(content, tarfile.TarInfo):
            data = _Zeros(content.size) if content.isfile() else None
            archive.addfile(content, data)
            continue
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(content), _MTIME, 0o644
        archive.addfile(info, io.BytesIO(content))


class _Zeros(io.RawIOBase):
    """`size` zero bytes without holding them in memory."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        self.left -= size
        return bytes(size)


def _sdist_files(name: str, version: str, root: str, pkg_info: bytes) -> dict[str, bytes]:
    module = module_name(name)
    dist = f"{dist_name(name)}-{dist_version(version)}"
    pyproject = '[build-system]\nrequires = []\nbuild-backend = "_backend"\nbackend-path = ["."]\n'
    return {
        f"{root}/PKG-INFO": pkg_info,
        f"{root}/pyproject.toml": pyproject.encode(),
        f"{root}/_backend.py": _BACKEND.format(dist=dist, module=module).encode(),
        f"{root}/{module}/__init__.py": f'__version__ = "{version}"\n'.encode(),
    }


def _wheel_file(tag: str) -> bytes:
    tags = sorted(str(t) for t in parse_tag(tag))
    purelib = "true" if tag.endswith("-any") else "false"
    lines = ["Wheel-Version: 1.0", "Generator: packyard-tests", f"Root-Is-Purelib: {purelib}"]
    return "\n".join([*lines, *(f"Tag: {t}" for t in tags), ""]).encode()


def _record(files: Mapping[str, bytes], record_path: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        writer.writerow([path, f"sha256={digest.decode()}", len(data)])
    writer.writerow([record_path, "", ""])
    return out.getvalue().encode()


def _omitted(path: str, dist_info: str, omit: Collection[str]) -> bool:
    return path in omit or (path.startswith(f"{dist_info}/") and path.rpartition("/")[2] in omit)


def _metadata_member(names: Sequence[str]) -> str:
    for name in names:
        parts = name.split("/")
        if len(parts) == 2 and (
            (parts[0].endswith(".dist-info") and parts[1] == "METADATA") or parts[1] == "PKG-INFO"
        ):
            return name
    raise LookupError("no METADATA or PKG-INFO found")


def _truncate(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path
