"""Hosted documentation: what a built site is, which member paths are acceptable, which
member answers a URL path, and which version `latest` means. Pure rules, no I/O.

An uploaded zip is hostile until proven otherwise: paths that leave the site, absolute
paths, links and special files are refused, and so are too many members or too many bytes.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

from packyard.domain.access import Principal, has_role
from packyard.domain.errors import Forbidden, InvalidArchive, Unauthorized
from packyard.domain.models import ProjectRole, Role, Scope
from packyard.domain.names import NormalizedName

LATEST = "latest"
INDEX_HTML = "index.html"
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Types by extension, fixed here so serving does not depend on the host's mime.types.
_TEXT = "; charset=utf-8"
CONTENT_TYPES: Mapping[str, str] = {
    ".html": "text/html" + _TEXT,
    ".htm": "text/html" + _TEXT,
    ".css": "text/css" + _TEXT,
    ".js": "text/javascript" + _TEXT,
    ".mjs": "text/javascript" + _TEXT,
    ".json": "application/json",
    ".map": "application/json",
    ".txt": "text/plain" + _TEXT,
    ".md": "text/plain" + _TEXT,
    ".rst": "text/plain" + _TEXT,
    ".xml": "application/xml",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/vnd.microsoft.icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".inv": "application/octet-stream",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class DocsLimits:
    max_members: int = 10_000
    max_total_bytes: int = 512 * 1024**2
    max_path_length: int = 1024


DEFAULT_DOCS_LIMITS = DocsLimits()


@dataclass(frozen=True)
class DocMember:
    """One file of a site: its path inside the site, and the blob holding its bytes."""

    path: str
    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class DocSet:
    """The documentation of one release: its manifest, replaced as a whole on upload."""

    index: str
    project: NormalizedName
    version: str
    members: Mapping[str, DocMember] = field(default_factory=dict)
    uploaded: datetime | None = None
    uploader: str = ""


def content_type_for(path: str) -> str:
    return CONTENT_TYPES.get(posixpath.splitext(path)[1].lower(), DEFAULT_CONTENT_TYPE)


def check_member_path(name: str, limits: DocsLimits = DEFAULT_DOCS_LIMITS) -> str:
    """The member's path inside the site (directories end in '/'), or InvalidArchive."""
    if not name or name in {"/", "./"}:
        raise InvalidArchive("The documentation zip has a member with an empty name")
    if len(name) > limits.max_path_length:
        raise InvalidArchive(
            f"The documentation zip has a member path longer than "
            f"{limits.max_path_length} characters"
        )
    if "\\" in name or _CONTROL.search(name):
        raise InvalidArchive(
            f"The documentation zip member {name!r} has a backslash or a "
            "control character in its path"
        )
    if name.startswith("/") or _DRIVE.match(name):
        raise InvalidArchive(f"The documentation zip member {name!r} has an absolute path")
    parts = name.split("/")
    if ".." in parts:
        raise InvalidArchive(
            f"The documentation zip member {name!r} has '..' in its path (path traversal)"
        )
    clean = "/".join(part for part in parts if part not in ("", "."))
    if not clean:
        raise InvalidArchive(f"The documentation zip member {name!r} names no file")
    return clean + "/" if name.endswith("/") else clean


def check_member_kind(name: str, *, is_link: bool, is_special: bool) -> None:
    if is_link:
        raise InvalidArchive(
            f"The documentation zip member {name!r} is a symbolic link; links are refused"
        )
    if is_special:
        raise InvalidArchive(f"The documentation zip member {name!r} is a device or special file")


def check_totals(count: int, total_bytes: int, limits: DocsLimits = DEFAULT_DOCS_LIMITS) -> None:
    if count > limits.max_members:
        raise InvalidArchive(f"The documentation zip has more than {limits.max_members} members")
    if total_bytes > limits.max_total_bytes:
        raise InvalidArchive(
            f"The documentation zip unpacks to more than {limits.max_total_bytes} bytes"
        )


def site_root(paths: Sequence[str]) -> str:
    """The directory the site sits in when the zip wraps it in directories without an
    index.html at the top (`zip -r site.zip _build/html` does): '_build/html/'; else ''."""
    prefix, rest = "", list(paths)
    while rest and INDEX_HTML not in rest:
        tops = {path.split("/", 1)[0] for path in rest}
        if len(tops) != 1 or any("/" not in path for path in rest):
            return ""
        prefix += tops.pop() + "/"
        rest = [path.split("/", 1)[1] for path in rest]
    return prefix if rest else ""


# Serving ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    member: DocMember


@dataclass(frozen=True)
class AddSlash:
    """A directory named without its trailing slash: redirect, so relative links work."""


Resolution = Found | AddSlash | None


def resolve_path(members: Mapping[str, DocMember], path: str) -> Resolution:
    """The member that answers a URL path below the version: a file, or a directory's
    index.html. Nothing lists a directory."""
    if path in ("", "/"):
        found = members.get(INDEX_HTML)
        return Found(found) if found else None
    if path.startswith("/") or ".." in path.split("/"):
        return None
    if path.endswith("/"):
        found = members.get(path + INDEX_HTML)
        return Found(found) if found else None
    found = members.get(path)
    if found is not None:
        return Found(found)
    return AddSlash() if f"{path}/{INDEX_HTML}" in members else None


# Versions ---------------------------------------------------------------------------


def _key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def match_version(documented: Iterable[str], wanted: str) -> str | None:
    """The documented version `wanted` names (1.0 and 1.0.0 are one release)."""
    canonical = canonicalize_version(wanted)
    return next((v for v in documented if canonicalize_version(v) == canonical), None)


def latest_documented(
    documented: Iterable[str], releases: Iterable[tuple[str, bool]]
) -> str | None:
    """What `latest` means: the newest version that has docs and is not wholly yanked.

    `releases` are (version, yanked) for every file of the project; a version without
    files (deleted) is not a release any more and never `latest`."""
    live = {canonicalize_version(v) for v, yanked in releases if not yanked}
    candidates = [v for v in documented if canonicalize_version(v) in live]
    return max(candidates, key=_key, default=None)


# Permission -------------------------------------------------------------------------


def check_docs_upload(
    who: Principal, index: str, project: NormalizedName, roles: Sequence[ProjectRole]
) -> None:
    """Owners and maintainers of the project upload its docs; admins always. A token needs
    the `upload` scope for the index and project."""
    if not who.authenticated:
        raise Unauthorized(f"Authentication required to upload documentation for {project!r}")
    if not who.token_allows(Scope.UPLOAD, index, project):
        raise Forbidden(f"This token does not grant uploading documentation for {project!r}")
    if not who.is_admin and not has_role(who, roles, {Role.OWNER, Role.MAINTAINER}):
        raise Forbidden(
            f"{who.name} is not an owner or maintainer of {project!r} in index {index!r}; "
            "only they may upload its documentation"
        )
