"""The repository ports on SQLAlchemy Core, all sharing one unit of work's Connection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, case, exc, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from packyard.adapters.db._mapping import (
    file_select,
    file_values,
    project_select,
    to_event,
    to_file,
    to_index,
    to_project,
    to_user,
    user_select,
    user_values,
)
from packyard.adapters.db.tables import (
    as_utc,
    events,
    files,
    indexes,
    project_roles,
    projects,
    settings,
    team_members,
    tokens,
    users,
)
from packyard.domain.errors import Conflict, FileExists, NotFound
from packyard.domain.models import DistFile, Event, Index, Project, User
from packyard.domain.names import NormalizedName

DEFAULT_INDEX_KEY = "default_index"


def _now() -> datetime:
    return datetime.now(UTC)


def _insert(connection: Connection, table: Any) -> sqlite.Insert | postgresql.Insert:
    """A dialect INSERT, for ON CONFLICT (same syntax on both engines)."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _index_id(name: str) -> Any:
    return select(indexes.c.id).where(indexes.c.name == name).scalar_subquery()


def _advance(column: Any, serial: int) -> Any:
    # Serials come from the event id sequence, and on PostgreSQL transactions commit out
    # of id order. Plain assignment could move an index's serial backwards (T1 takes
    # event 5, T2 event 6 and commits first); the max alone could leave it unchanged
    # after T1 commits, keeping a stale page cached. So: take the serial if it is newer,
    # else step past the current value. The result rises on every change.
    return case((column < serial, serial), else_=column + 1)


# Reads on the path of every page or file request that misses a cache, built once with
# bound parameters: building a statement cost more than running it (see mirror_repository).
_GET_INDEX = select(indexes.c.name, indexes.c.kind, indexes.c.serial, indexes.c.config).where(
    indexes.c.name == bindparam("name")
)
_GET_PROJECT = project_select().where(
    indexes.c.name == bindparam("index"), projects.c.name == bindparam("name")
)
_PROJECT_FILES = (
    file_select()
    .where(indexes.c.name == bindparam("index"), projects.c.name == bindparam("name"))
    .order_by(files.c.upload_time, files.c.id)
)


class SqlIndexRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, name: str) -> Index | None:
        row = self._connection.execute(_GET_INDEX, {"name": name}).first()
        return None if row is None else to_index(row)

    def list(self) -> Sequence[Index]:
        rows = self._connection.execute(
            select(indexes.c.name, indexes.c.kind, indexes.c.serial, indexes.c.config).order_by(
                indexes.c.name
            )
        )
        return [to_index(row) for row in rows]

    def add(self, index: Index) -> None:
        statement = (
            _insert(self._connection, indexes)
            .values(
                name=index.name,
                kind=str(index.kind),
                serial=index.serial,
                config=index.config,
                created=_now(),
            )
            .on_conflict_do_nothing(index_elements=[indexes.c.name])
            .returning(indexes.c.id)
        )
        # ON CONFLICT rather than catching IntegrityError: no savepoint needed, and on
        # PostgreSQL the transaction stays usable. RETURNING tells whether a row was
        # inserted (rowcount is -1 when the dialect already uses RETURNING for the key).
        if self._connection.execute(statement).first() is None:
            raise Conflict(f"an index named {index.name!r} exists already")

    def update_config(self, name: str, config: dict[str, object]) -> None:
        self._update(name, config=config)

    def bump_serial(self, name: str, serial: int) -> None:
        self._update(name, serial=_advance(indexes.c.serial, serial))

    def get_default(self) -> str | None:
        return self._connection.execute(
            select(settings.c.value).where(settings.c.key == DEFAULT_INDEX_KEY)
        ).scalar_one_or_none()

    def set_default(self, name: str) -> None:
        if self.get(name) is None:
            raise NotFound(f"no index named {name!r}")
        statement = _insert(self._connection, settings).values(key=DEFAULT_INDEX_KEY, value=name)
        self._connection.execute(
            statement.on_conflict_do_update(
                index_elements=[settings.c.key], set_={"value": statement.excluded.value}
            )
        )

    def _update(self, name: str, **values: Any) -> None:
        result = self._connection.execute(
            indexes.update().where(indexes.c.name == name).values(**values)
        )
        if result.rowcount == 0:
            raise NotFound(f"no index named {name!r}")


class SqlProjectRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, index: str, name: NormalizedName) -> Project | None:
        row = self._connection.execute(_GET_PROJECT, {"index": index, "name": name}).first()
        return None if row is None else to_project(row)

    def ensure(self, index: str, name: NormalizedName, display_name: str) -> Project:
        # Look first: the project usually exists, and on PostgreSQL every INSERT attempt
        # would burn a sequence value even when it does nothing.
        existing = self.get(index, name)
        if existing is not None:
            return existing
        index_id = self._connection.execute(
            select(indexes.c.id).where(indexes.c.name == index)
        ).scalar_one_or_none()
        if index_id is None:
            raise NotFound(f"no index named {index!r}")
        # A concurrent creator makes this a no-op (on PostgreSQL it waits for that
        # transaction to commit), and the SELECT below then sees its row.
        self._connection.execute(
            _insert(self._connection, projects)
            .values(index_id=index_id, name=name, display_name=display_name, created=_now())
            .on_conflict_do_nothing(index_elements=[projects.c.index_id, projects.c.name])
        )
        project = self.get(index, name)
        assert project is not None, "project vanished between insert and select"
        return project

    def list(self, index: str) -> Sequence[Project]:
        rows = self._connection.execute(
            project_select().where(indexes.c.name == index).order_by(projects.c.name)
        )
        return [to_project(row) for row in rows]

    def touch(self, index: str, name: NormalizedName, serial: int) -> None:
        result = self._connection.execute(
            projects.update()
            .where(projects.c.index_id == _index_id(index), projects.c.name == name)
            .values(last_serial=_advance(projects.c.last_serial, serial))
        )
        if result.rowcount == 0:
            raise NotFound(f"no project {name!r} in index {index!r}")


class SqlFileRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, index: str, filename: str) -> DistFile | None:
        return self._first(and_(indexes.c.name == index, files.c.filename == filename))

    def for_project(self, index: str, project: NormalizedName) -> Sequence[DistFile]:
        rows = self._connection.execute(_PROJECT_FILES, {"index": index, "name": project})
        return [to_file(row) for row in rows]

    def add(self, file: DistFile) -> None:
        ids = self._connection.execute(
            select(projects.c.id, projects.c.index_id)
            .join(indexes, indexes.c.id == projects.c.index_id)
            .where(indexes.c.name == file.index, projects.c.name == file.project)
        ).first()
        if ids is None:
            raise NotFound(f"no project {file.project!r} in index {file.index!r}")
        values = file_values(file, project_id=ids.id, index_id=ids.index_id)
        try:
            # A SAVEPOINT, so a duplicate leaves the caller's transaction usable (on
            # PostgreSQL a failed statement would otherwise abort all of it). A racing
            # insert of the same filename blocks until the other transaction ends.
            with self._connection.begin_nested():
                self._connection.execute(files.insert().values(**values))
        except exc.IntegrityError:
            if self.get(file.index, file.filename) is None:
                raise
            raise FileExists(
                f"file {file.filename!r} exists already in index {file.index!r}"
            ) from None

    def set_yanked(self, index: str, filename: str, *, yanked: bool, reason: str) -> None:
        result = self._connection.execute(
            files.update()
            .where(files.c.index_id == _index_id(index), files.c.filename == filename)
            .values(yanked=yanked, yanked_reason=reason)
        )
        if result.rowcount == 0:
            raise NotFound(f"no file {filename!r} in index {index!r}")

    def find_by_sha256(self, sha256: str) -> DistFile | None:
        return self._first(files.c.sha256 == sha256)

    def delete(self, index: str, filename: str) -> None:
        result = self._connection.execute(
            files.delete().where(files.c.index_id == _index_id(index), files.c.filename == filename)
        )
        if result.rowcount == 0:
            raise NotFound(f"no file {filename!r} in index {index!r}")

    def _first(self, condition: ColumnElement[bool]) -> DistFile | None:
        row = self._connection.execute(
            file_select().where(condition).order_by(files.c.id).limit(1)
        ).first()
        return None if row is None else to_file(row)


class SqlUserRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, name: str) -> User | None:
        row = self._connection.execute(user_select().where(users.c.name == name)).first()
        return None if row is None else to_user(row)

    def add(self, user: User) -> None:
        statement = (
            _insert(self._connection, users)
            .values(**user_values(user), created=as_utc(user.created or _now()))
            .on_conflict_do_nothing(index_elements=[users.c.name])
            .returning(users.c.id)
        )
        if self._connection.execute(statement).first() is None:
            raise Conflict(f"a user named {user.name!r} exists already")

    def update(self, user: User) -> None:
        result = self._connection.execute(
            users.update().where(users.c.name == user.name).values(**user_values(user))
        )
        if result.rowcount == 0:
            raise NotFound(f"no user named {user.name!r}")

    def list(self) -> Sequence[User]:
        rows = self._connection.execute(user_select().order_by(users.c.name))
        return [to_user(row) for row in rows]

    def delete(self, name: str) -> None:
        """Remove the user with their tokens, team memberships and project roles."""
        user_id = self._connection.execute(
            select(users.c.id).where(users.c.name == name)
        ).scalar_one_or_none()
        if user_id is None:
            raise NotFound(f"no user named {name!r}")
        self._connection.execute(tokens.delete().where(tokens.c.user_id == user_id))
        self._connection.execute(team_members.delete().where(team_members.c.user_id == user_id))
        self._connection.execute(project_roles.delete().where(project_roles.c.principal == name))
        self._connection.execute(users.delete().where(users.c.id == user_id))


class SqlEventLog:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def append(self, event: Event) -> int:
        serial = self._connection.execute(
            events.insert()
            .values(
                time=as_utc(event.time or _now()),
                actor=event.actor,
                action=event.action,
                index_name=event.index,
                project=event.project,
                version=event.version,
                filename=event.filename,
                data=event.data,
                address=event.address,
            )
            .returning(events.c.id)
        ).scalar_one()
        return int(serial)

    def since(self, serial: int, limit: int = 1000) -> Sequence[Event]:
        rows = self._connection.execute(
            select(events).where(events.c.id > serial).order_by(events.c.id).limit(limit)
        )
        return [to_event(row) for row in rows]

    def last_serial(self) -> int:
        value = self._connection.execute(select(func.max(events.c.id))).scalar_one_or_none()
        return int(value or 0)
