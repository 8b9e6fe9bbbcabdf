"""Hosted documentation: one manifest per release.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "docs",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("index_id", sa.Integer(), nullable=False),
        sa.Column("project", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("manifest", sa.JSON(), nullable=False),
        sa.Column("uploaded", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploader", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["index_id"], ["indexes.id"], name="fk_docs_index_id_indexes"),
        sa.PrimaryKeyConstraint("id", name="pk_docs"),
        sa.UniqueConstraint(
            "index_id", "project", "version", name="uq_docs_index_id_project_version"
        ),
    )


def downgrade() -> None:
    op.drop_table("docs")
