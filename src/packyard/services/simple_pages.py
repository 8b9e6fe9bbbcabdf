"""The simple repository API's pages (PEP 503 HTML, PEP 691 JSON) as a read model.

Pages are derived data: rendered once per change of their index and served from memory.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

from packyard.domain.models import DistFile
from packyard.services.catalog import Listed, ProjectView

API_VERSION = "1.1"

# Bodies above this size are gzipped at level 1, smaller ones at 6. zlib's levels 1-3 use
# its fast matcher, 4 and up the lazy one at over twice the time: for the 7.6 MB JSON page
# of 15,000 files of bench/render.py, level 6 took 179 ms for 1.67 MB, level 3 77 ms for
# 1.79 MB, level 1 67 ms for 1.84 MB (+10%; HTML alike). A big page is rendered while
# installers wait for it, so CPU counts more than a tenth more bytes; small pages are
# cheap at any level and most of the traffic, so they keep the better ratio.
FAST_GZIP_ABOVE = 256 * 1024


class PageFormat(StrEnum):
    HTML = "text/html"
    HTML_V1 = "application/vnd.pypi.simple.v1+html"
    JSON_V1 = "application/vnd.pypi.simple.v1+json"

    @property
    def is_json(self) -> bool:
        return self is PageFormat.JSON_V1


@dataclass(frozen=True)
class Page:
    body: bytes
    gzipped: bytes
    etag: str
    content_type: str
    serial: int  # the index serial the page was rendered at (its validity)
    last_serial: int  # X-PyPI-Last-Serial: the latest change the page shows
    # Epoch seconds after which the page must be recomputed even if no serial moved (a
    # mirror's TTL, a cooldown ending); None: valid while the serial holds.
    expires: float | None = None
    # Readable by anyone: only such pages are shared between callers from the cache.
    public: bool = True


def make_page(
    body: bytes,
    fmt: PageFormat,
    serial: int,
    last_serial: int,
    *,
    expires: float | None = None,
    public: bool = True,
) -> Page:
    digest = hashlib.blake2b(body, digest_size=16).hexdigest()
    charset = "" if fmt.is_json else "; charset=utf-8"
    return Page(
        body=body,
        gzipped=_gzip(body),
        etag=f'"{digest}-{fmt.name.lower()}"',
        content_type=f"{fmt.value}{charset}",
        serial=serial,
        last_serial=last_serial,
        expires=expires,
        public=public,
    )


def _gzip(body: bytes) -> bytes:
    level = 1 if len(body) > FAST_GZIP_ABOVE else 6
    # mtime=0 keeps the compressed bytes identical across replicas.
    return gzip.compress(body, compresslevel=level, mtime=0)


def format_time(moment: datetime) -> str:
    """PEP 700 upload-time: UTC, six fraction digits, a 'Z' suffix.

    A naive datetime is refused, as the store refuses it: its zone would be a guess (the
    server's local time, which differs between replicas)."""
    if moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} given; use a timezone-aware one")
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # isoformat costs about half of strftime, and pages show every file's time. In UTC its
    # suffix is always "+00:00"; unlike glibc's %Y it pads years before 1000 to 4 digits.
    return moment.isoformat("T", "microseconds")[:-6] + "Z"


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def sorted_versions(files: Sequence[DistFile]) -> list[str]:
    return sorted({f.version for f in files}, key=_version_key)


FileUrl = Callable[[DistFile], str]


def render_project(view: ProjectView, fmt: PageFormat, serial: int) -> Page:
    if fmt.is_json:
        body = orjson.dumps(_project_json(view), option=orjson.OPT_UTC_Z)
    else:
        body = (
            _templates()
            .get_template("project.html")
            .render(api_version=API_VERSION, view=view, anchors=_anchors(view.files))
            .encode()
        )
    expires = view.expires_at.timestamp() if view.expires_at else None
    return make_page(body, fmt, serial, view.last_serial, expires=expires, public=view.public)


def _anchors(files: Sequence[Listed]) -> Markup:
    """The HTML page's line of each file, escaped, one per line.

    Built here rather than in the template: for 15,000 files, Jinja's per-file
    conditionals and calls and markupsafe's Markup object per escaped value took 200-240
    ms, these f-strings with html.escape 70-90 ms (bench/render.py)."""
    shared: dict[str, str] = {}

    def escape_shared(value: str) -> str:
        # The files of a project mostly share one requires-python: escape it once.
        escaped = shared.get(value)
        if escaped is None:
            escaped = shared[value] = html.escape(value)
        return escaped

    return Markup("\n".join([_anchor(f, escape_shared) for f in files]))


def _anchor(f: Listed, escape_shared: Callable[[str], str]) -> str:
    """PEP 503 href with a #sha256= fragment and data-requires-python, PEP 592
    data-yanked, PEP 714 data-core-metadata and, for clients older than PEP 714, its
    PEP 658 spelling data-dist-info-metadata."""
    href = html.escape(f.url)
    if f.sha256:
        href = f"{href}#sha256={html.escape(f.sha256)}"
    attrs = f'href="{href}"'
    if f.requires_python:
        attrs += f' data-requires-python="{escape_shared(f.requires_python)}"'
    if f.yanked:
        attrs += f' data-yanked="{escape_shared(f.yanked_reason)}"'
    metadata = _core_metadata_attribute(f)
    if metadata:
        metadata = html.escape(metadata)
        attrs += f' data-core-metadata="{metadata}" data-dist-info-metadata="{metadata}"'
    return f"    <a {attrs}>{html.escape(f.filename)}</a><br>"


def _core_metadata_attribute(file: Listed) -> str | None:
    if file.metadata_sha256:
        return f"sha256={file.metadata_sha256}"
    return "true" if file.has_metadata else None


def _project_json(view: ProjectView) -> dict[str, Any]:
    return {
        "meta": {"api-version": API_VERSION, "_last-serial": view.last_serial},
        "name": view.name,
        "versions": _distinct_versions(view.files),
        "files": [_file_json(f) for f in view.files],
    }


def _distinct_versions(files: Sequence[Listed]) -> list[str]:
    """Every version with a file, once: spellings equal under PEP 440 count as one."""
    # A project has ~100 times more files than versions: canonicalise each spelling once,
    # in the order of the files so the first spelling seen is the one shown.
    seen: dict[str, str] = {}
    for version in dict.fromkeys(f.version for f in files):
        seen.setdefault(canonicalize_version(version), version)
    return sorted(seen.values(), key=_version_key)


def _file_json(f: Listed) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "filename": f.filename,
        "url": f.url,
        "hashes": {"sha256": f.sha256} if f.sha256 else {},
        "requires-python": f.requires_python,
        "yanked": (f.yanked_reason or True) if f.yanked else False,
        "core-metadata": ({"sha256": f.metadata_sha256} if f.metadata_sha256 else f.has_metadata),
    }
    # Unknown (an upstream that did not say) stays absent: nothing is invented.
    if f.size is not None:
        entry["size"] = f.size
    if f.upload_time is not None:
        entry["upload-time"] = _json_time(f.upload_time)
    return entry


def _json_time(moment: datetime) -> datetime | str:
    """The upload-time for orjson to write (with OPT_UTC_Z).

    orjson writes an aware UTC datetime exactly as format_time does, in a fraction of the
    time, except that it leaves out a zero fraction, which PEP 700's format keeps: those
    times, and any not in UTC, are formatted here."""
    if moment.tzinfo is UTC and moment.microsecond:
        return moment
    return format_time(moment)


def render_index(
    projects: Sequence[tuple[str, str]],
    project_url: Callable[[str], str],
    fmt: PageFormat,
    serial: int,
    *,
    public: bool = True,
) -> Page:
    """The project list; `projects` are (normalised name, display name) pairs."""
    if fmt.is_json:
        data = {
            "meta": {"api-version": API_VERSION, "_last-serial": serial},
            "projects": [{"name": display} for _, display in projects],
        }
        body = orjson.dumps(data)
    else:
        body = (
            _templates()
            .get_template("index.html")
            .render(api_version=API_VERSION, projects=projects, project_url=project_url)
            .encode()
        )
    return make_page(body, fmt, serial, serial, public=public)


@functools.cache
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("packyard.web", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
