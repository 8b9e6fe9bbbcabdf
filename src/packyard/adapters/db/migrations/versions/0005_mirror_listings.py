"""A mirrored project's listing is one compressed document; rows only for cached files.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

A big upstream project lists 15,000 files: a row for each cost seconds to write and read
on every refresh. Rows of files never fetched are dropped and every page is marked for
revalidation, so the next request stores its listing in the new form (an offline mirror
lists only its cached files until it is online again).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mirror_projects") as batch:
        batch.add_column(sa.Column("listing", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("listing_digest", sa.String(32), nullable=True))
    projects = sa.table(
        "mirror_projects",
        sa.column("fetched_at", sa.DateTime(timezone=True)),
        sa.column("etag", sa.Text()),
    )
    files = sa.table("mirror_files", sa.column("cached"), sa.column("metadata_cached"))
    long_ago = datetime(1970, 1, 1, tzinfo=UTC)
    if op.get_bind().dialect.name == "sqlite":
        long_ago = long_ago.replace(tzinfo=None)  # stored naive UTC there (UTCDateTime)
    op.execute(projects.update().values(fetched_at=long_ago, etag=None))
    op.execute(
        files.delete().where(
            files.c.cached.is_(sa.false()), files.c.metadata_cached.is_(sa.false())
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("mirror_projects") as batch:
        batch.drop_column("listing_digest")
        batch.drop_column("listing")
