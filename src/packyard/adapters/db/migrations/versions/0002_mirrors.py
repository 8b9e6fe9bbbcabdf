"""Mirror indexes: cached upstream project pages and the files they list.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mirror_projects",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("index_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("fetched_at", _TIME, nullable=False),
        sa.Column("exists", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_serial", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["index_id"], ["indexes.id"], name="fk_mirror_projects_index_id_indexes"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_mirror_projects"),
        sa.UniqueConstraint("index_id", "name", name="uq_mirror_projects_index_id_name"),
    )
    op.create_table(
        "mirror_files",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("index_id", sa.Integer(), nullable=False),
        sa.Column("project", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("upstream_url", sa.Text(), nullable=False),
        sa.Column("first_seen", _TIME, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("upload_time", _TIME, nullable=True),
        sa.Column("requires_python", sa.Text(), nullable=True),
        sa.Column("yanked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("yanked_reason", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("metadata_sha256", sa.String(64), nullable=True),
        sa.Column("has_metadata", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("cached", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("metadata_cached", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["index_id"], ["indexes.id"], name="fk_mirror_files_index_id_indexes"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_mirror_files"),
        sa.UniqueConstraint("index_id", "filename", name="uq_mirror_files_index_id_filename"),
    )
    op.create_index("ix_mirror_files_index_id", "mirror_files", ["index_id", "project", "id"])


def downgrade() -> None:
    op.drop_index("ix_mirror_files_index_id", table_name="mirror_files")
    op.drop_table("mirror_files")
    op.drop_table("mirror_projects")
