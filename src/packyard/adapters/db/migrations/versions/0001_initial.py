"""Initial schema: indexes, settings, projects, files, users, events.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written by hand against tables.py; plain SQLAlchemy types only, so this file keeps
describing the schema of its time when tables.py moves on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "indexes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("serial", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_indexes"),
        sa.UniqueConstraint("name", name="uq_indexes_name"),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_settings"),
    )
    op.create_table(
        "projects",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("index_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("last_serial", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(["index_id"], ["indexes.id"], name="fk_projects_index_id_indexes"),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
        sa.UniqueConstraint("index_id", "name", name="uq_projects_index_id_name"),
    )
    op.create_table(
        "files",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("index_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("packagetype", sa.String(32), nullable=False),
        sa.Column("python_version", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("blake2b_256", sa.String(64), nullable=False),
        sa.Column("md5", sa.String(32), nullable=False),
        sa.Column("requires_python", sa.Text(), nullable=True),
        sa.Column("upload_time", _TIME, nullable=False),
        sa.Column("uploader", sa.Text(), nullable=False),
        sa.Column("metadata_sha256", sa.String(64), nullable=True),
        sa.Column("yanked", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("yanked_reason", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["index_id"], ["indexes.id"], name="fk_files_index_id_indexes"),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name="fk_files_project_id_projects"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_files"),
        sa.UniqueConstraint("index_id", "filename", name="uq_files_index_id_filename"),
    )
    op.create_index("ix_files_project_id", "files", ["project_id", "upload_time", "id"])
    op.create_index("ix_files_sha256", "files", ["sha256"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("is_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "events",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("time", _TIME, nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("index_name", sa.String(64), nullable=True),
        sa.Column("project", sa.Text(), nullable=True),
        sa.Column("version", sa.Text(), nullable=True),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )


def downgrade() -> None:
    for table in ("events", "users", "files", "projects", "settings", "indexes"):
        op.drop_table(table)
