"""Migrations build exactly tables.py, on both engines; engines are configured as meant."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from helpers.postgres import (
    PostgresUnavailableError,
    postgres_test_database,
    skip_or_fail_unavailable,
)
from packyard.adapters.db.engine import create_engine_for, normalise_url, sqlite_url_for
from packyard.adapters.db.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from packyard.adapters.db.tables import metadata
from packyard.adapters.db.uow import SqlUnitOfWorkFactory
from packyard.domain.models import Event

pytestmark = pytest.mark.integration

EngineFactory = Callable[[], Engine]


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """An empty database of the test's own (the session one is migrated already)."""
    try:
        with postgres_test_database() as url:
            yield url
    except PostgresUnavailableError as error:
        skip_or_fail_unavailable(error)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EngineFactory]:
    """Opens engines on one empty database, as separate processes would."""
    if request.param == "sqlite":
        url = sqlite_url_for(tmp_path / "nested" / "data")
    else:
        url = request.getfixturevalue("fresh_postgres")
    engines: list[Engine] = []

    def open_engine() -> Engine:
        engines.append(create_engine_for(url))
        return engines[-1]

    yield open_engine
    for engine in engines:
        engine.dispose()


def test_upgrade_builds_the_schema_of_tables_py(engine_factory: EngineFactory) -> None:
    engine = engine_factory()
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        assert set(inspect(connection).get_table_names()) == {
            *metadata.tables,
            "alembic_version",
        }


def test_upgrade_is_idempotent_and_reaches_head(engine_factory: EngineFactory) -> None:
    engine = engine_factory()
    assert current_revision(engine) is None
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()


_UPGRADE = "import sys; from packyard.adapters.db import engine, migrate; " + (
    "migrate.upgrade(engine.create_engine_for(sys.argv[1]))"
)


def test_concurrent_upgrades_from_separate_processes_all_succeed(
    engine_factory: EngineFactory,
) -> None:
    engine = engine_factory()
    url = engine.url.render_as_string(hide_password=False)
    # Processes, not threads: threads would also contend for the import lock of
    # Alembic's env.py, which is not what two replicas starting at once do.
    run_at_once(_UPGRADE, url)
    assert current_revision(engine) == head_revision()


def test_sqlite_engine_is_tuned_for_concurrent_use(tmp_path: Path) -> None:
    engine = create_engine_for(sqlite_url_for(tmp_path / "a" / "b"))
    try:
        with engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 30000
        assert (tmp_path / "a" / "b" / "packyard.db").is_file()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_database_urls_get_the_packyard_driver(url: str, driver: str) -> None:
    assert normalise_url(url).drivername == driver


@pytest.mark.parametrize("url", ["postgresql+psycopg2://u@h/db", "mysql://u@h/db"])
def test_unsupported_database_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        create_engine_for(url)


def test_0005_keeps_cached_mirror_files_and_marks_every_page_for_revalidation(
    engine_factory: EngineFactory,
) -> None:
    engine = engine_factory()
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0004")
        connection.execute(
            text(
                "INSERT INTO indexes (id, name, kind, config, serial, created)"
                " VALUES (1, 'up', 'mirror', '{}', 0, :now)"
            ),
            {"now": datetime(2026, 11, 1, tzinfo=UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO mirror_projects"
                ' (index_id, name, display_name, fetched_at, "exists", etag)'
                " VALUES (1, 'demo', 'Demo', :now, true, '\"e\"')"
            ),
            {"now": datetime(2026, 11, 1, tzinfo=UTC)},
        )
        for filename, cached, metadata in [
            ("a.whl", True, False),
            ("b.whl", False, True),
            ("c.whl", False, False),
        ]:
            connection.execute(
                text(
                    "INSERT INTO mirror_files (index_id, project, filename, version, upstream_url,"
                    " first_seen, cached, metadata_cached) VALUES (1, 'demo', :f, '1.0', 'https://u/x',"
                    " :now, :cached, :metadata)"
                ),
                {
                    "f": filename,
                    "now": datetime(2026, 11, 1, tzinfo=UTC),
                    "cached": cached,
                    "metadata": metadata,
                },
            )

    upgrade(engine)

    with engine.connect() as connection:
        kept = connection.execute(text("SELECT filename FROM mirror_files ORDER BY filename"))
        assert [row[0] for row in kept] == ["a.whl", "b.whl"]
        fetched_at, etag, listing = connection.execute(
            text("SELECT fetched_at, etag, listing FROM mirror_projects")
        ).one()
        assert str(fetched_at).startswith("1970-01-01") and etag is None and listing is None


_WRITE_MANY = """
import sys, threading
from packyard.adapters.db.engine import create_engine_for
from packyard.adapters.db.uow import SqlUnitOfWorkFactory
from packyard.domain.models import Event

factory = SqlUnitOfWorkFactory(create_engine_for(sys.argv[1]))

def write(n):
    for _ in range(n):
        with factory() as uow:
            uow.events.append(Event(action="test", actor="writer"))
            uow.commit()

threads = [threading.Thread(target=write, args=(10,)) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
"""


def test_sqlite_writers_of_several_processes_and_threads_take_turns(tmp_path: Path) -> None:
    url = sqlite_url_for(tmp_path)
    engine = create_engine_for(url)
    upgrade(engine)
    run_at_once(_WRITE_MANY, url)
    with engine.connect() as connection:
        count = connection.exec_driver_sql("SELECT count(*) FROM events").scalar()
    engine.dispose()
    assert count == 3 * 4 * 10
    assert (tmp_path / "packyard.db-writers.lock").is_file()


def test_a_sqlite_write_abandoned_midway_leaves_the_writer_lock_free(tmp_path: Path) -> None:
    engine = create_engine_for(sqlite_url_for(tmp_path))
    upgrade(engine)
    factory = SqlUnitOfWorkFactory(engine)
    with pytest.raises(RuntimeError), factory() as uow:
        uow.indexes.list()
        raise RuntimeError("the work failed mid-transaction")

    def write() -> str:
        with factory() as uow:
            uow.events.append(Event(action="test", actor="other thread"))
            uow.commit()
        return "written"

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(write).result(timeout=10) == "written"
    engine.dispose()


def run_at_once(script: str, url: str, processes: int = 3) -> None:
    """Run `python -c script url` in several processes at the same time; all must succeed."""
    started = [
        subprocess.Popen([sys.executable, "-c", script, url], stderr=subprocess.PIPE)
        for _ in range(processes)
    ]
    for process in started:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
