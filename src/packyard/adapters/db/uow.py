"""The unit of work on SQLAlchemy Core: one Connection, one transaction, its repositories."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from packyard.adapters.db.access_repository import (
    SqlRoleRepository,
    SqlTeamRepository,
    SqlTokenRepository,
    SqlTombstoneRepository,
)
from packyard.adapters.db.audit_repository import SqlAuditLog
from packyard.adapters.db.docs_repository import SqlDocsRepository
from packyard.adapters.db.engine import SQLITE_MODE_OPTION
from packyard.adapters.db.mirror_repository import SqlMirrorRepository
from packyard.adapters.db.repositories import (
    SqlEventLog,
    SqlFileRepository,
    SqlIndexRepository,
    SqlProjectRepository,
    SqlUserRepository,
)


class SqlUnitOfWork:
    """One transaction; leaving the block without commit() rolls it back.

    The transaction begins lazily at the first statement (SQLAlchemy's autobegin), so
    a write unit of work on SQLite takes the write lock only once it touches the
    database, and after commit() the next statement begins a new transaction.
    """

    indexes: SqlIndexRepository
    projects: SqlProjectRepository
    files: SqlFileRepository
    users: SqlUserRepository
    events: SqlEventLog
    mirror: SqlMirrorRepository
    teams: SqlTeamRepository
    tokens: SqlTokenRepository
    roles: SqlRoleRepository
    tombstones: SqlTombstoneRepository
    audit: SqlAuditLog
    docs: SqlDocsRepository

    def __init__(self, engine: Engine, *, readonly: bool = False) -> None:
        self._engine = engine
        self._readonly = readonly
        self._connection: Connection | None = None

    def __enter__(self) -> Self:
        if self._connection is not None:
            raise RuntimeError("a unit of work cannot be entered twice")
        connection = self._engine.connect()
        if connection.dialect.name == "sqlite":
            # BEGIN IMMEDIATE makes concurrent writers queue on busy_timeout instead of
            # failing when a deferred read lock cannot be upgraded.
            connection.execution_options(
                **{SQLITE_MODE_OPTION: "read" if self._readonly else "write"}
            )
        elif self._readonly:
            connection.execution_options(postgresql_readonly=True)
        self._connection = connection
        self.indexes = SqlIndexRepository(connection)
        self.projects = SqlProjectRepository(connection)
        self.files = SqlFileRepository(connection)
        self.users = SqlUserRepository(connection)
        self.events = SqlEventLog(connection)
        self.mirror = SqlMirrorRepository(connection)
        self.teams = SqlTeamRepository(connection)
        self.tokens = SqlTokenRepository(connection)
        self.roles = SqlRoleRepository(connection)
        self.tombstones = SqlTombstoneRepository(connection)
        self.audit = SqlAuditLog(connection)
        self.docs = SqlDocsRepository(connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self._require_connection()
        try:
            connection.rollback()
        finally:
            connection.close()
            self._connection = None

    def commit(self) -> None:
        self._require_connection().commit()

    def rollback(self) -> None:
        self._require_connection().rollback()

    def _require_connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("use the unit of work as a context manager: `with uow: ...`")
        return self._connection


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, readonly: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, readonly=readonly)
