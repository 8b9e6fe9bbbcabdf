"""Hosted documentation on SQLAlchemy Core: a release's manifest is one row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from packyard.adapters.db.repositories import _index_id, _insert
from packyard.adapters.db.tables import as_utc, docs
from packyard.domain.docs import DocMember, DocSet
from packyard.domain.errors import NotFound
from packyard.domain.names import NormalizedName


class SqlDocsRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, index: str, project: NormalizedName, version: str) -> DocSet | None:
        row = self._connection.execute(
            select(docs.c.manifest, docs.c.uploaded, docs.c.uploader).where(
                docs.c.index_id == _index_id(index),
                docs.c.project == project,
                docs.c.version == version,
            )
        ).first()
        if row is None:
            return None
        return DocSet(
            index=index,
            project=project,
            version=version,
            members=from_manifest(row.manifest),
            uploaded=row.uploaded,
            uploader=row.uploader,
        )

    def versions(self, index: str, project: NormalizedName) -> Sequence[str]:
        rows = self._connection.execute(
            select(docs.c.version)
            .where(docs.c.index_id == _index_id(index), docs.c.project == project)
            .order_by(docs.c.id)
        )
        return list(rows.scalars())

    def save(self, docset: DocSet) -> None:
        index_id = self._connection.execute(select(_index_id(docset.index))).scalar()
        if index_id is None:
            raise NotFound(f"no index named {docset.index!r}")
        values = {
            "manifest": to_manifest(docset),
            "uploaded": as_utc(docset.uploaded or datetime.now(UTC)),
            "uploader": docset.uploader,
        }
        statement = _insert(self._connection, docs).values(
            index_id=index_id, project=docset.project, version=docset.version, **values
        )
        self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[docs.c.index_id, docs.c.project, docs.c.version], set_=values
            )
        )


def to_manifest(docset: DocSet) -> dict[str, Any]:
    """{path: [sha256, size, content type]}: compact, for sites of thousands of files."""
    return {m.path: [m.sha256, m.size, m.content_type] for m in docset.members.values()}


def from_manifest(manifest: dict[str, Any]) -> dict[str, DocMember]:
    return {
        path: DocMember(path=path, sha256=sha256, size=size, content_type=content_type)
        for path, (sha256, size, content_type) in manifest.items()
    }
