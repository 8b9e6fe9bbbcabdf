"""A mirrored project's listing as one compressed document.

Big upstream projects list tens of thousands of files; one document per project is read
and written in milliseconds where a row per file took seconds. Cache state is not part of
it: cached files have rows of their own (`mirror_files`).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from packyard.domain.models import MirrorFile
from packyard.domain.names import NormalizedName

FORMAT = 1
# Listings are rewritten on every upstream change: favour speed over the last few percent.
COMPRESS_LEVEL = 1


class ListingFormatError(ValueError):
    """The stored document is not a listing this version can read."""


def encode_listing(files: Sequence[MirrorFile]) -> bytes:
    # orjson writes the datetimes (RFC 3339, microseconds kept); URLs end with the
    # filename nearly always and are stored without it.
    rows = [
        (
            f.filename,
            f.version,
            _strip_filename(f.upstream_url, f.filename),
            f.first_seen,
            f.sha256,
            f.size,
            f.upload_time,
            f.requires_python,
            f.yanked,
            f.yanked_reason,
            f.metadata_sha256,
            f.has_metadata,
        )
        for f in files
    ]
    return zlib.compress(orjson.dumps({"format": FORMAT, "files": rows}), COMPRESS_LEVEL)


def decode_listing(index: str, project: NormalizedName, blob: bytes) -> list[MirrorFile]:
    return [_to_file(index, project, row) for row in _document(blob)["files"]]


def _to_file(index: str, project: NormalizedName, row: list[Any]) -> MirrorFile:
    (
        filename,
        version,
        url,
        first_seen,
        sha256,
        size,
        upload_time,
        requires_python,
        yanked,
        yanked_reason,
        metadata_sha256,
        has_metadata,
    ) = row
    return MirrorFile(
        index,
        project,
        filename,
        version,
        _full_url(url, filename),
        datetime.fromisoformat(first_seen),
        sha256,
        size,
        datetime.fromisoformat(upload_time) if upload_time else None,
        requires_python,
        yanked,
        yanked_reason,
        metadata_sha256,
        has_metadata,
    )


def _strip_filename(url: str, filename: str) -> str:
    """The URL without its final filename, or whole with a "#" (listed URLs have no
    fragment) when it ends otherwise."""
    if url.endswith("/" + filename):
        return url[: len(url) - len(filename)]
    return url + "#"


def _full_url(stored: str, filename: str) -> str:
    return stored[:-1] if stored.endswith("#") else stored + filename


def _document(blob: bytes) -> dict[str, Any]:
    try:
        document = orjson.loads(zlib.decompress(blob))
    except (zlib.error, orjson.JSONDecodeError) as exc:
        raise ListingFormatError(f"unreadable mirror listing: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ListingFormatError("mirror listing of an unknown format")
    return document
