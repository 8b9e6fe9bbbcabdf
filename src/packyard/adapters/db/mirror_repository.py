"""The mirror's cache of upstream project pages, on SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Row

from packyard.adapters.db.repositories import _index_id, _insert
from packyard.adapters.db.tables import indexes, mirror_files, mirror_projects
from packyard.domain.errors import NotFound
from packyard.domain.models import MirrorFile, MirrorProject
from packyard.domain.names import NormalizedName

# Fields an upstream refresh may change; cache state and first_seen belong to the mirror.
_LISTING_FIELDS = (
    "version",
    "upstream_url",
    "sha256",
    "size",
    "upload_time",
    "requires_python",
    "yanked",
    "yanked_reason",
    "metadata_sha256",
    "has_metadata",
)
_FILE_COLUMNS = [c for c in mirror_files.c if c.name not in ("id", "index_id")]
_BATCH = 2000


def _project_select() -> Any:
    return select(
        indexes.c.name.label("index_name"),
        *[c for c in mirror_projects.c if c.name not in ("id", "index_id")],
    ).join(indexes, indexes.c.id == mirror_projects.c.index_id)


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


def _to_file(row: Row[Any]) -> MirrorFile:
    values = {c.name: getattr(row, c.name) for c in _FILE_COLUMNS}
    values["project"] = NormalizedName(values["project"])
    return MirrorFile(index=row.index_name, **values)


def _file_values(file: MirrorFile) -> dict[str, Any]:
    return {c.name: getattr(file, c.name) for c in _FILE_COLUMNS}


class SqlMirrorRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get_project(self, index: str, name: NormalizedName) -> MirrorProject | None:
        row = self._connection.execute(
            _project_select().where(indexes.c.name == index, mirror_projects.c.name == name)
        ).first()
        return None if row is None else _to_project(row)

    def save_project(self, project: MirrorProject) -> None:
        index_id = self._require_index(project.index)
        values = {
            "display_name": project.display_name,
            "fetched_at": project.fetched_at,
            "exists": project.exists,
            "etag": project.etag,
            "last_serial": project.last_serial,
        }
        statement = _insert(self._connection, mirror_projects).values(
            index_id=index_id, name=project.name, **values
        )
        self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[mirror_projects.c.index_id, mirror_projects.c.name], set_=values
            )
        )

    def list_projects(self, index: str) -> Sequence[MirrorProject]:
        rows = self._connection.execute(
            _project_select()
            .where(indexes.c.name == index, mirror_projects.c.exists.is_(True))
            .order_by(mirror_projects.c.name)
        )
        return [_to_project(row) for row in rows]

    def files(self, index: str, name: NormalizedName) -> Sequence[MirrorFile]:
        rows = self._connection.execute(
            self._file_select()
            .where(indexes.c.name == index, mirror_files.c.project == name)
            .order_by(mirror_files.c.id)
        )
        return [_to_file(row) for row in rows]

    def get_file(self, index: str, filename: str) -> MirrorFile | None:
        row = self._connection.execute(
            self._file_select().where(indexes.c.name == index, mirror_files.c.filename == filename)
        ).first()
        return None if row is None else _to_file(row)

    def save_files(self, index: str, name: NormalizedName, files: Sequence[MirrorFile]) -> None:
        if not files:
            return
        index_id = self._require_index(index)
        # One statement for the whole listing: a big project lists tens of thousands of
        # files, and building a statement per file costs more than the database's work.
        statement = _insert(self._connection, mirror_files)
        statement = statement.on_conflict_do_update(
            index_elements=[mirror_files.c.index_id, mirror_files.c.filename],
            set_={key: statement.excluded[key] for key in _LISTING_FIELDS},
        )
        rows = [{"index_id": index_id, **_file_values(file)} for file in files]
        for start in range(0, len(rows), _BATCH):
            self._connection.execute(statement, rows[start : start + _BATCH])

    def remove_files(self, index: str, filenames: Sequence[str]) -> None:
        if filenames:
            self._connection.execute(
                mirror_files.delete().where(
                    mirror_files.c.index_id == _index_id(index),
                    mirror_files.c.filename.in_(list(filenames)),
                )
            )

    def mark_cached(self, index: str, filename: str, *, sha256: str, size: int) -> None:
        self._update_file(index, filename, cached=True, sha256=sha256, size=size)

    def mark_metadata_cached(self, index: str, filename: str, *, sha256: str) -> None:
        self._update_file(index, filename, metadata_cached=True, metadata_sha256=sha256)

    def _update_file(self, index: str, filename: str, **values: Any) -> None:
        result = self._connection.execute(
            mirror_files.update()
            .where(mirror_files.c.index_id == _index_id(index), mirror_files.c.filename == filename)
            .values(**values)
        )
        if result.rowcount == 0:
            raise NotFound(f"no mirrored file {filename!r} in index {index!r}")

    def _file_select(self) -> Any:
        return select(indexes.c.name.label("index_name"), *_FILE_COLUMNS).join(
            indexes, indexes.c.id == mirror_files.c.index_id
        )

    def _require_index(self, index: str) -> int:
        index_id = self._connection.execute(
            select(indexes.c.id).where(indexes.c.name == index)
        ).scalar_one_or_none()
        if index_id is None:
            raise NotFound(f"no index named {index!r}")
        return int(index_id)
