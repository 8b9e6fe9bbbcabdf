"""Access control: teams, tokens, project roles, tombstones, download counts; audit columns.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    # A nullable column without default: a plain ALTER TABLE on both engines.
    op.add_column("events", sa.Column("address", sa.String(64), nullable=True))
    op.create_index("ix_events_time", "events", ["time"])
    op.create_index("ix_events_project", "events", ["project"])
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_teams"),
        sa.UniqueConstraint("name", name="uq_teams_name"),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_team_members_team_id_teams"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_team_members_user_id_users"),
        sa.PrimaryKeyConstraint("team_id", "user_id", name="pk_team_members"),
    )
    op.create_index("ix_team_members_user_id", "team_members", ["user_id"])
    op.create_table(
        "tokens",
        sa.Column("id", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("indexes", sa.JSON(), nullable=False),
        sa.Column("projects", sa.JSON(), nullable=False),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("created", _TIME, nullable=False),
        sa.Column("last_used", _TIME, nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_tokens_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_tokens"),
        sa.UniqueConstraint("digest", name="uq_tokens_digest"),
    )
    op.create_index("ix_tokens_user_id", "tokens", ["user_id"])
    op.create_table(
        "project_roles",
        sa.Column("id", _BIG_ID, nullable=False),
        sa.Column("index_id", sa.Integer(), nullable=False),
        sa.Column("project", sa.Text(), nullable=False),
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["index_id"], ["indexes.id"], name="fk_project_roles_index_id_indexes"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_project_roles"),
        sa.UniqueConstraint(
            "index_id",
            "project",
            "principal",
            "role",
            name="uq_project_roles_index_id_project_principal_role",
        ),
    )
    op.create_index("ix_project_roles_principal", "project_roles", ["principal"])
    op.create_table(
        "tombstones",
        sa.Column("index_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["index_id"], ["indexes.id"], name="fk_tombstones_index_id_indexes"
        ),
        sa.PrimaryKeyConstraint("index_id", "filename", name="pk_tombstones"),
    )
    op.create_table(
        "download_counts",
        sa.Column("day", _TIME, nullable=False),
        sa.Column("index_name", sa.String(64), nullable=False),
        sa.Column("project", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", "index_name", "filename", "principal", name="pk_download_counts"
        ),
    )
    op.create_index("ix_download_counts_project", "download_counts", ["project", "version"])


def downgrade() -> None:
    op.drop_index("ix_download_counts_project", table_name="download_counts")
    op.drop_table("download_counts")
    op.drop_table("tombstones")
    op.drop_index("ix_project_roles_principal", table_name="project_roles")
    op.drop_table("project_roles")
    op.drop_index("ix_tokens_user_id", table_name="tokens")
    op.drop_table("tokens")
    op.drop_index("ix_team_members_user_id", table_name="team_members")
    op.drop_table("team_members")
    op.drop_table("teams")
    op.drop_index("ix_events_project", table_name="events")
    op.drop_index("ix_events_time", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("address")
