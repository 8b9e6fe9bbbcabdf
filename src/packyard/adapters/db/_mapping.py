"""Rows to domain objects and back, and the SELECTs that produce those rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Row

from packyard.adapters.db.tables import as_utc, files, indexes, projects, users
from packyard.domain.models import (
    Digests,
    DistFile,
    Event,
    Index,
    IndexKind,
    PackageType,
    Project,
    User,
)
from packyard.domain.names import NormalizedName

_Row = Row[*tuple[Any, ...]]


def to_index(row: _Row) -> Index:
    return Index(name=row.name, kind=IndexKind(row.kind), serial=row.serial, config=row.config)


def project_select() -> Select[Any]:
    return select(
        indexes.c.name.label("index_name"),
        projects.c.name,
        projects.c.display_name,
        projects.c.created,
        projects.c.last_serial,
    ).join(indexes, indexes.c.id == projects.c.index_id)


def to_project(row: _Row) -> Project:
    return Project(
        index=row.index_name,
        name=NormalizedName(row.name),
        display_name=row.display_name,
        created=row.created,
        last_serial=row.last_serial,
    )


FILE_COLUMNS = [c for c in files.c if c.name not in ("id", "index_id", "project_id")]


def file_select() -> Select[Any]:
    return (
        select(
            indexes.c.name.label("index_name"),
            projects.c.name.label("project_name"),
            *FILE_COLUMNS,
        )
        .select_from(files)
        .join(indexes, indexes.c.id == files.c.index_id)
        .join(projects, projects.c.id == files.c.project_id)
    )


def file_values(file: DistFile, *, project_id: int, index_id: int) -> dict[str, Any]:
    return {
        "index_id": index_id,
        "project_id": project_id,
        "version": file.version,
        "filename": file.filename,
        "packagetype": str(file.packagetype),
        "python_version": file.python_version,
        "size": file.size,
        "sha256": file.digests.sha256,
        "blake2b_256": file.digests.blake2b_256,
        "md5": file.digests.md5,
        "requires_python": file.requires_python,
        "upload_time": as_utc(file.upload_time),
        "uploader": file.uploader,
        "metadata_sha256": file.metadata_sha256,
        "yanked": file.yanked,
        "yanked_reason": file.yanked_reason,
        "metadata": file.metadata,
    }


def to_file(row: _Row) -> DistFile:
    return DistFile(
        index=row.index_name,
        project=NormalizedName(row.project_name),
        version=row.version,
        filename=row.filename,
        packagetype=PackageType(row.packagetype),
        python_version=row.python_version,
        size=row.size,
        digests=Digests(sha256=row.sha256, blake2b_256=row.blake2b_256, md5=row.md5),
        upload_time=row.upload_time,
        uploader=row.uploader,
        requires_python=row.requires_python,
        metadata_sha256=row.metadata_sha256,
        yanked=row.yanked,
        yanked_reason=row.yanked_reason,
        metadata=row.metadata,
    )


def user_select() -> Select[Any]:
    return select(
        users.c.name, users.c.password_hash, users.c.is_admin, users.c.disabled, users.c.created
    )


def user_values(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "password_hash": user.password_hash,
        "is_admin": user.is_admin,
        "disabled": user.disabled,
    }


def to_user(row: _Row) -> User:
    return User(
        name=row.name,
        password_hash=row.password_hash,
        is_admin=row.is_admin,
        disabled=row.disabled,
        created=row.created,
    )


def to_event(row: _Row) -> Event:
    return Event(
        action=row.action,
        actor=row.actor,
        index=row.index_name,
        project=row.project,
        version=row.version,
        filename=row.filename,
        data=row.data,
        time=row.time,
        serial=row.id,
        address=row.address,
    )
