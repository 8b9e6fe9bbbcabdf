"""Bring a database to the current schema; safe on every start and from many processes."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from packyard.adapters.db.engine import SQLITE_MODE_OPTION

SCRIPT_LOCATION = "packyard.adapters.db:migrations"

# Arbitrary but fixed: every packyard process contends for this one advisory lock.
_PG_MIGRATION_LOCK = 0x7061636B79617264  # "packyard" in ASCII


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(engine: Engine) -> None:
    """Migrate to head in one transaction.

    Concurrent callers queue: PostgreSQL through a transaction-scoped advisory lock,
    SQLite through BEGIN IMMEDIATE. The loser then finds the schema at head and does
    nothing, because Alembic reads the version table after the lock is held.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.execution_options(**{SQLITE_MODE_OPTION: "write"})
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                )
            command.upgrade(alembic_config(connection), "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
