"""Documentation sites as zips, well-formed and hostile, for every test suite."""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

_DATE_TIME = (2020, 2, 2, 0, 0, 0)
_FILE_MODE = 0o100644 << 16
_SYMLINK_MODE = 0o120777 << 16

SITE: Mapping[str, bytes] = {
    "index.html": b"<!doctype html><h1>Docs</h1><a href='guide/'>guide</a>",
    "guide/index.html": b"<!doctype html><h1>Guide</h1>",
    "style.css": b"body { color: black }",
    "app.js": b"console.log('docs')",
    "logo.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
}


def site_zip(path: Path, members: Mapping[str, bytes] = SITE, *, prefix: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(prefix + name, date_time=_DATE_TIME)
            info.external_attr = _FILE_MODE
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def traversal_zip(path: Path) -> Path:
    return site_zip(path, {**SITE, "../evil.html": b"<script>owned()</script>"})


def absolute_zip(path: Path) -> Path:
    return site_zip(path, {**SITE, "/etc/evil.html": b"owned"})


def symlink_zip(path: Path, target: str = "../../etc/passwd") -> Path:
    site_zip(path)
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo("secrets.html", date_time=_DATE_TIME)
        info.external_attr = _SYMLINK_MODE
        archive.writestr(info, target)
    return path


def many_members_zip(path: Path, count: int) -> Path:
    """A site with `count` tiny pages beside its index.html."""
    pages = {f"p/{n}.html": b"x" for n in range(count)}
    return site_zip(path, {**SITE, **pages})


def oversized_zip(path: Path, size: int) -> Path:
    """A site with a page of `size` zeros: small on the wire, huge inflated."""
    site_zip(path)
    chunk = bytes(1024 * 1024)
    with (
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open("big.html", "w", force_zip64=True) as member,
    ):
        remaining = size
        while remaining > 0:
            member.write(chunk[: min(len(chunk), remaining)])
            remaining -= len(chunk)
    return path


def not_a_zip(path: Path) -> Path:
    path.write_bytes(b"this is not a zip archive")
    return path


def lying_zip(path: Path, size: int) -> Path:
    """A site whose big.html declares 1 byte in the central directory but holds `size`."""
    site_zip(path, {**SITE, "big.html": bytes(size)})
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    entry = data.find(b"big.html", central) - 46  # the name follows a 46-byte header
    data[entry + 24 : entry + 28] = (1).to_bytes(4, "little")  # uncompressed size
    path.write_bytes(bytes(data))
    return path
