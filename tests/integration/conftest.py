"""Fixtures that run one contract suite per port over every implementation.

- `backend`: a unit-of-work factory and serial reader on SQLite (a fresh file per test),
  PostgreSQL (one fresh database per session, emptied before each test) and the fakes;
  `sql_backend` the SQL ones only, with `second_engine` to act as another process.
- `file_store`: LocalFileStore in a temporary directory and FakeFileStore.
- `postgres_url`: a migrated PostgreSQL database for the session; skips when PostgreSQL
  is unreachable, or fails when the CI variable is set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from fakes import FakeFileStore, FakeSerialReader, FakeUnitOfWorkFactory
from helpers.postgres import (
    PostgresUnavailableError,
    postgres_test_database,
    skip_or_fail_unavailable,
)
from packyard import ports
from packyard.adapters.blobs.local import LocalFileStore
from packyard.adapters.db.engine import create_engine_for, sqlite_url_for
from packyard.adapters.db.migrate import upgrade
from packyard.adapters.db.serials import SqlSerialReader
from packyard.adapters.db.tables import metadata
from packyard.adapters.db.uow import SqlUnitOfWorkFactory


@dataclass
class Backend:
    name: str
    uow: ports.UnitOfWorkFactory
    serials: ports.SerialReader
    # A URL for opening a second, independent engine; None for the fakes.
    url: str | None = None


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (not migrated) for the whole session."""
    # Only entering the context raises PostgresUnavailableError: test failures never
    # reach a fixture's generator.
    try:
        with postgres_test_database() as url:
            yield url
    except PostgresUnavailableError as error:
        skip_or_fail_unavailable(error)


@pytest.fixture(scope="session")
def postgres_url(postgres_database: str) -> str:
    """The session's PostgreSQL database, migrated to head."""
    engine = create_engine_for(postgres_database)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return postgres_database


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = create_engine_for(postgres_url)
    yield engine
    engine.dispose()


def _empty(engine: Engine) -> None:
    # Tests commit for real (races need several connections), so each starts from empty
    # tables instead of a rolled-back savepoint.
    names = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine_for(sqlite_url_for(tmp_path / "data"))
    upgrade(engine)
    yield engine
    engine.dispose()


def _backend(request: pytest.FixtureRequest, kind: str) -> Iterator[Backend]:
    if kind == "fake":
        factory = FakeUnitOfWorkFactory()
        yield Backend("fake", factory, FakeSerialReader(factory))
        return
    if kind == "sqlite":
        engine: Engine = request.getfixturevalue("sqlite_engine")
    else:
        engine = request.getfixturevalue("postgres_engine")
        _empty(engine)
    serials = SqlSerialReader(engine)
    try:
        url = engine.url.render_as_string(hide_password=False)
        yield Backend(kind, SqlUnitOfWorkFactory(engine), serials, url)
    finally:
        serials.close()


@pytest.fixture(params=["sqlite", "postgresql", "fake"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    yield from _backend(request, request.param)


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """The SQL backends only, for behaviour across engines and processes."""
    yield from _backend(request, request.param)


@pytest.fixture
def second_engine() -> Iterator[Callable[[Backend], Engine]]:
    """Open a second engine on a backend's database, as another process would."""
    engines: list[Engine] = []

    def open_engine(backend: Backend) -> Engine:
        assert backend.url is not None, "only SQL backends have a second engine"
        engines.append(create_engine_for(backend.url))
        return engines[-1]

    yield open_engine
    for engine in engines:
        engine.dispose()


@pytest.fixture(params=["local", "fake"])
def file_store(request: pytest.FixtureRequest, tmp_path: Path) -> ports.FileStore:
    if request.param == "local":
        return LocalFileStore(tmp_path / "blobs")
    return FakeFileStore(tmp_path / "staging")
