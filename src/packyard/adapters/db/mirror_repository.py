"""The mirror's cache of upstream project pages, on SQLAlchemy Core.

A project's listing is one JSON document on its `mirror_projects` row
(listing_codec); a file gets a `mirror_files` row once its bytes or sidecar are stored.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Row

from packyard.adapters.db.listing_codec import decode_listing, encode_listing
from packyard.adapters.db.repositories import _insert
from packyard.adapters.db.tables import indexes, mirror_files, mirror_projects
from packyard.domain.errors import NotFound
from packyard.domain.models import MirrorFile, MirrorProject
from packyard.domain.names import NormalizedName

_FILE_COLUMNS = [c for c in mirror_files.c if c.name not in ("id", "index_id")]
_LISTING_COLUMNS = ("listing", "listing_digest")
_PROJECT_COLUMNS = [
    c for c in mirror_projects.c if c.name not in ("id", "index_id", *_LISTING_COLUMNS)
]


def _project_select() -> Any:
    return select(indexes.c.name.label("index_name"), *_PROJECT_COLUMNS).join(
        indexes, indexes.c.id == mirror_projects.c.index_id
    )


# The hot reads, built once with bound parameters: building a statement (coercing each
# clause, then its cache key) cost about 0.3 ms per query, more than running it, and a
# cold install runs hundreds of them.
_BY_PROJECT = (indexes.c.name == bindparam("index"), mirror_projects.c.name == bindparam("name"))
_PROJECTS_JOIN = mirror_projects.join(indexes, indexes.c.id == mirror_projects.c.index_id)
_GET_PROJECT = _project_select().where(*_BY_PROJECT)
_LISTING_DIGEST = (
    select(mirror_projects.c.listing_digest).select_from(_PROJECTS_JOIN).where(*_BY_PROJECT)
)
_LISTING = select(mirror_projects.c.listing).select_from(_PROJECTS_JOIN).where(*_BY_PROJECT)
_STORED_FILES = (
    select(*_FILE_COLUMNS)
    .join(indexes, indexes.c.id == mirror_files.c.index_id)
    .where(indexes.c.name == bindparam("index"), mirror_files.c.project == bindparam("name"))
    .order_by(mirror_files.c.id)
)
_STORED_FILE = _STORED_FILES.where(mirror_files.c.filename == bindparam("filename"))
_INDEX_ID = select(indexes.c.id).where(indexes.c.name == bindparam("index"))


def _to_project(row: Row[Any]) -> MirrorProject:
    return MirrorProject(
        index=row.index_name,
        name=NormalizedName(row.name),
        display_name=row.display_name,
        fetched_at=row.fetched_at,
        exists=row.exists,
        etag=row.etag,
        last_serial=row.last_serial,
    )


def _to_file(index: str, row: Row[Any]) -> MirrorFile:
    values = {c.name: getattr(row, c.name) for c in _FILE_COLUMNS}
    values["project"] = NormalizedName(values["project"])
    return MirrorFile(index=index, **values)


def _digest(blob: bytes) -> str:
    return hashlib.blake2b(blob, digest_size=16).hexdigest()


def _as_listed(file: MirrorFile, index: str, name: NormalizedName) -> MirrorFile:
    """The file as a listing holds it: cache state lives in mirror_files rows."""
    if (file.index, file.project, file.cached, file.metadata_cached) == (index, name, False, False):
        return file
    return replace(file, index=index, project=name, cached=False, metadata_cached=False)


def _file_values(file: MirrorFile) -> dict[str, Any]:
    return {c.name: getattr(file, c.name) for c in _FILE_COLUMNS}


_ListingKey = tuple[str, str, str]  # index, project, digest of the stored document


class DecodedListings:
    """Listings decoded in this process, by the digest of their stored form.

    Every request for an uncached file of a big project needs one entry of a listing that
    takes tens of milliseconds to decode. Keyed by content (the digest stored beside the
    document), an entry is right whichever process or transaction wrote it."""

    def __init__(self, max_files: int = 500_000) -> None:
        self._max_files = max_files
        self._entries: OrderedDict[_ListingKey, dict[str, MirrorFile]] = OrderedDict()
        self._files = 0
        self._lock = threading.Lock()

    def get(self, key: _ListingKey) -> dict[str, MirrorFile] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: _ListingKey, files: Sequence[MirrorFile]) -> dict[str, MirrorFile]:
        by_name = {f.filename: f for f in files}
        with self._lock:
            previous = self._entries.pop(key, None)
            self._files += len(by_name) - (len(previous) if previous else 0)
            self._entries[key] = by_name
            while self._files > self._max_files and len(self._entries) > 1:
                _, dropped = self._entries.popitem(last=False)
                self._files -= len(dropped)
        return by_name


LISTINGS = DecodedListings()


class SqlMirrorRepository:
    def __init__(self, connection: Connection, listings: DecodedListings = LISTINGS) -> None:
        self._connection = connection
        self._listings = listings

    def get_project(self, index: str, name: NormalizedName) -> MirrorProject | None:
        row = self._connection.execute(_GET_PROJECT, {"index": index, "name": name}).first()
        return None if row is None else _to_project(row)

    def save_project(
        self, project: MirrorProject, listing: Sequence[MirrorFile] | None = None
    ) -> None:
        # Encoded before the first statement: on SQLite that statement takes the write
        # lock, and a listing of 15,000 files takes a tenth of a second to encode.
        blob = encode_listing(listing) if listing is not None else None
        digest = _digest(blob) if blob is not None else None
        index_id = self._require_index(project.index)
        values: dict[str, Any] = {
            "display_name": project.display_name,
            "fetched_at": project.fetched_at,
            "exists": project.exists,
            "etag": project.etag,
            "last_serial": project.last_serial,
        }
        if blob is not None:
            values |= {"listing": blob, "listing_digest": digest}
        statement = _insert(self._connection, mirror_projects).values(
            index_id=index_id, name=project.name, **values
        )
        self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[mirror_projects.c.index_id, mirror_projects.c.name], set_=values
            )
        )
        if listing is not None and digest is not None:
            # The next request for one of these files finds them decoded.
            decoded = [_as_listed(f, project.index, project.name) for f in listing]
            self._listings.put((project.index, project.name, digest), decoded)

    def list_projects(self, index: str) -> Sequence[MirrorProject]:
        rows = self._connection.execute(
            _project_select()
            .where(indexes.c.name == index, mirror_projects.c.exists.is_(True))
            .order_by(mirror_projects.c.name)
        )
        return [_to_project(row) for row in rows]

    def files(self, index: str, name: NormalizedName) -> Sequence[MirrorFile]:
        listed = self._decoded(index, name)
        stored = {f.filename: f for f in self._stored(index, name)}
        if not stored:
            return list(listed.values())
        files = [
            f.with_cache_of(stored.pop(f.filename)) if f.filename in stored else f
            for f in listed.values()
        ]
        return files + [f for f in stored.values() if f.cached]

    def get_file(self, index: str, name: NormalizedName, filename: str) -> MirrorFile | None:
        listed = self._decoded(index, name).get(filename)
        stored = self._stored(index, name, filename)
        if not stored:
            return listed
        if listed is None:
            return stored[0] if stored[0].cached else None
        return listed.with_cache_of(stored[0])

    def mark_cached(self, file: MirrorFile, *, sha256: str, size: int) -> None:
        self._upsert(file, cached=True, sha256=sha256, size=size)

    def mark_metadata_cached(self, file: MirrorFile, *, sha256: str) -> None:
        self._upsert(file, metadata_cached=True, metadata_sha256=sha256)

    def _upsert(self, file: MirrorFile, **changes: Any) -> None:
        """Insert the file's row (cache flags off but for `changes`) or update the row."""
        index_id = self._require_index(file.index)
        values = _file_values(file) | {"cached": False, "metadata_cached": False} | changes
        statement = _insert(self._connection, mirror_files).values(index_id=index_id, **values)
        self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[mirror_files.c.index_id, mirror_files.c.filename], set_=changes
            )
        )

    def _decoded(self, index: str, name: NormalizedName) -> dict[str, MirrorFile]:
        """The stored listing by filename, decoded once per process and content; the
        document itself is read only when this process has not decoded it yet."""
        where = {"index": index, "name": name}
        digest = self._connection.execute(_LISTING_DIGEST, where).scalar_one_or_none()
        if digest is None:
            return {}
        key = (index, str(name), digest)
        found = self._listings.get(key)
        if found is not None:
            return found
        blob = self._connection.execute(_LISTING, where).scalar_one()
        return self._listings.put(key, decode_listing(index, name, blob))

    def _stored(
        self, index: str, name: NormalizedName, filename: str | None = None
    ) -> list[MirrorFile]:
        if filename is None:
            rows = self._connection.execute(_STORED_FILES, {"index": index, "name": name})
        else:
            where = {"index": index, "name": name, "filename": filename}
            rows = self._connection.execute(_STORED_FILE, where)
        return [_to_file(index, row) for row in rows]

    def _require_index(self, index: str) -> int:
        index_id = self._connection.execute(_INDEX_ID, {"index": index}).scalar_one_or_none()
        if index_id is None:
            raise NotFound(f"no index named {index!r}")
        return int(index_id)
