"""The simple repository API's pages (PEP 503 HTML, PEP 691 JSON) as a read model.

Pages are derived data: rendered once per change of their index and served from memory.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

from packyard.domain.models import DistFile
from packyard.services.catalog import Listed, ProjectView

API_VERSION = "1.1"


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
        # mtime=0 keeps the compressed bytes identical across replicas.
        gzipped=gzip.compress(body, compresslevel=6, mtime=0),
        etag=f'"{digest}-{fmt.name.lower()}"',
        content_type=f"{fmt.value}{charset}",
        serial=serial,
        last_serial=last_serial,
        expires=expires,
        public=public,
    )


def format_time(moment: datetime) -> str:
    """PEP 700 upload-time: UTC, six fraction digits, a 'Z' suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
        body = json.dumps(_project_json(view)).encode()
    else:
        body = (
            _templates()
            .get_template("project.html")
            .render(api_version=API_VERSION, view=view, core_metadata=_core_metadata_attribute)
            .encode()
        )
    expires = view.expires_at.timestamp() if view.expires_at else None
    return make_page(body, fmt, serial, view.last_serial, expires=expires, public=view.public)


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
    seen: dict[str, str] = {}
    for f in files:
        seen.setdefault(canonicalize_version(f.version), f.version)
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
        entry["upload-time"] = format_time(f.upload_time)
    return entry


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
        body = json.dumps(data).encode()
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
