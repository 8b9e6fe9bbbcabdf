"""warehouse's JSON API (`/pypi/<project>/json`) as a read model over stored files."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any

from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

from packyard.domain.models import DistFile, Project
from packyard.services.simple_pages import format_time, sorted_versions

FileUrl = Callable[[DistFile], str]


def latest_version(files: Sequence[DistFile]) -> str:
    """The newest final release that is not wholly yanked, else the newest of any."""
    versions = sorted_versions(files)
    live = {f.version for f in files if not f.yanked}
    for version in reversed(versions):
        if version in live and not _is_prerelease(version):
            return version
    for version in reversed(versions):
        if version in live:
            return version
    return versions[-1]


def _is_prerelease(version: str) -> bool:
    try:
        return Version(version).is_prerelease
    except InvalidVersion:
        return False


def release_files(files: Sequence[DistFile], version: str) -> list[DistFile]:
    wanted = canonicalize_version(version)
    return [f for f in files if canonicalize_version(f.version) == wanted]


def project_json(
    project: Project,
    files: Sequence[DistFile],
    *,
    version: str | None,
    file_url: FileUrl,
    project_url: str,
    release_url: Callable[[str], str],
    docs_url: str | None = None,
) -> dict[str, Any] | None:
    """The document for the project (version None) or one release; None if no such release."""
    chosen = version or latest_version(files)
    current = release_files(files, chosen)
    if not current:
        return None
    info = _info(project, current, project_url, release_url, docs_url)
    document: dict[str, Any] = {
        "info": info,
        "last_serial": project.last_serial,
        "urls": [_file_json(f, file_url) for f in current],
        "vulnerabilities": [],
    }
    if version is None:
        document["releases"] = {
            v: [_file_json(f, file_url) for f in files if f.version == v]
            for v in sorted_versions(files)
        }
    return document


def _info(
    project: Project,
    current: Sequence[DistFile],
    project_url: str,
    release_url: Callable[[str], str],
    docs_url: str | None = None,
) -> dict[str, Any]:
    # Prefer a wheel's metadata: it is never dynamic.
    source = sorted(current, key=lambda f: f.packagetype != "bdist_wheel")[0]
    meta = dict(source.metadata)
    version = source.version
    yanked = all(f.yanked for f in current)
    info: dict[str, Any] = {
        key: meta.get(key)
        for key in (
            "author",
            "author_email",
            "classifiers",
            "description",
            "description_content_type",
            "download_url",
            "home_page",
            "keywords",
            "license",
            "license_expression",
            "maintainer",
            "maintainer_email",
            "platform",
            "project_urls",
            "provides_extra",
            "requires_dist",
            "requires_python",
            "summary",
        )
    }
    info.update(
        name=meta.get("name") or project.display_name,
        version=version,
        bugtrack_url=None,
        docs_url=docs_url,
        downloads={"last_day": -1, "last_month": -1, "last_week": -1},
        package_url=project_url,
        project_url=project_url,
        release_url=release_url(version),
        yanked=yanked,
        yanked_reason=(source.yanked_reason or None) if yanked else None,
    )
    return info


def _file_json(f: DistFile, file_url: FileUrl) -> dict[str, Any]:
    return {
        "comment_text": "",
        "digests": {
            "md5": f.digests.md5,
            "sha256": f.digests.sha256,
            "blake2b_256": f.digests.blake2b_256,
        },
        "downloads": -1,
        "filename": f.filename,
        "has_sig": False,
        "md5_digest": f.digests.md5,
        "packagetype": f.packagetype.value,
        "python_version": f.python_version,
        "requires_python": f.requires_python,
        "size": f.size,
        "upload_time": f.upload_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "upload_time_iso_8601": format_time(f.upload_time),
        "url": file_url(f),
        "yanked": f.yanked,
        "yanked_reason": f.yanked_reason or None,
    }
