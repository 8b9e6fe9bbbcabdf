"""A mirrored project's listing as one JSON document.

Big upstream projects list tens of thousands of files; one document per project is read
and written in milliseconds where a row per file took seconds. Cache state is not part of
it: cached files have rows of their own (`mirror_files`).

Documents are written uncompressed: zlib, even at level 1, took more CPU than everything
else in storing a listing (0.13 s of 0.24 s for the 32 projects of bench/mirror.py), on
the path of a cold install. Documents written zlib-compressed by earlier versions are
still read.
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
    return orjson.dumps({"format": FORMAT, "files": rows})


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
        # An uncompressed document starts with "{", a zlib stream never does.
        document = orjson.loads(blob if blob[:1] == b"{" else zlib.decompress(blob))
    except (zlib.error, orjson.JSONDecodeError) as exc:
        raise ListingFormatError(f"unreadable mirror listing: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ListingFormatError("mirror listing of an unknown format")
    return document
