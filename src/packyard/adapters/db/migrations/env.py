"""Alembic environment: runs on the connection packyard.adapters.db.migrate passes in.

There is no alembic.ini and no URL here: the caller owns the engine, the connection and
its transaction (and, on PostgreSQL, the advisory lock held around it).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from packyard.adapters.db.tables import metadata


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError(
            "packyard migrations run through packyard.adapters.db.migrate, "
            "which passes a connection in config.attributes['connection']"
        )
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode recreates tables for later migrations.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
