"""The schema, as SQLAlchemy Core tables portable between SQLite and PostgreSQL.

Migrations (migrations/versions) create exactly this; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only auto-increments an INTEGER PRIMARY KEY (its rowid), which is 64-bit anyway.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both engines.

    PostgreSQL stores timestamptz. SQLite has no datetime type: SQLAlchemy stores ISO text
    with microseconds, which sorts correctly only if every value is in one zone, so values
    are converted to UTC and stored naive, and come back with tzinfo=UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def as_utc(value: datetime) -> datetime:
    """Convert an aware datetime to UTC; refuse a naive one (its zone would be a guess)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} given; use a timezone-aware one")
    return value.astimezone(UTC)


indexes = Table(
    "indexes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    # The change serial: the event id of the index's latest change (cache key of pages).
    Column("serial", BigInteger, nullable=False, server_default=text("0")),
    Column("config", JSON, nullable=False),
    Column("created", UTCDateTime, nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

projects = Table(
    "projects",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("index_id", Integer, ForeignKey("indexes.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("display_name", Text, nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("last_serial", BigInteger, nullable=False, server_default=text("0")),
    UniqueConstraint("index_id", "name"),
)

files = Table(
    "files",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("index_id", Integer, ForeignKey("indexes.id"), nullable=False),
    Column("project_id", BigInteger, ForeignKey("projects.id"), nullable=False),
    Column("version", Text, nullable=False),
    Column("filename", Text, nullable=False),
    Column("packagetype", String(32), nullable=False),
    Column("python_version", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("blake2b_256", String(64), nullable=False),
    Column("md5", String(32), nullable=False),
    Column("requires_python", Text, nullable=True),
    Column("upload_time", UTCDateTime, nullable=False),
    Column("uploader", Text, nullable=False),
    Column("metadata_sha256", String(64), nullable=True),
    Column("yanked", Boolean, nullable=False, server_default=false()),
    Column("yanked_reason", Text, nullable=False, server_default=text("''")),
    Column("metadata", JSON, nullable=False),
    UniqueConstraint("index_id", "filename"),
    # Leads with project_id and matches for_project's ORDER BY, so listing a project is
    # one index range scan with no sort.
    Index("ix_files_project_id", "project_id", "upload_time", "id"),
    Index("ix_files_sha256", "sha256"),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("is_admin", Boolean, nullable=False, server_default=false()),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    Column("created", UTCDateTime, nullable=False),
)

events = Table(
    "events",
    metadata,
    # The id is the global change serial.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("time", UTCDateTime, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(64), nullable=False),
    Column("index_name", String(64), nullable=True),
    Column("project", Text, nullable=True),
    Column("version", Text, nullable=True),
    Column("filename", Text, nullable=True),
    Column("data", JSON, nullable=False),
    Column("address", String(64), nullable=True),  # the client's, for the audit log
    # The audit log filters by time and project; the id index serves `since`.
    Index("ix_events_time", "time"),
    Index("ix_events_project", "project"),
)

mirror_projects = Table(
    "mirror_projects",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("index_id", Integer, ForeignKey("indexes.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("display_name", Text, nullable=False),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("exists", Boolean, nullable=False),
    Column("etag", Text, nullable=True),
    Column("last_serial", BigInteger, nullable=False, server_default=text("0")),
    # The upstream's listing as last fetched (listing_codec); files also get a row in
    # mirror_files once cached.
    Column("listing", LargeBinary, nullable=True),
    # Written with the listing: a reader finds its decoded copy without reading the listing.
    Column("listing_digest", String(32), nullable=True),
    UniqueConstraint("index_id", "name"),
)

# Files whose bytes or metadata sidecar the mirror has stored: they stay listed even when
# the upstream drops them.
mirror_files = Table(
    "mirror_files",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("index_id", Integer, ForeignKey("indexes.id"), nullable=False),
    Column("project", Text, nullable=False),
    Column("filename", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("upstream_url", Text, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("sha256", String(64), nullable=True),
    Column("size", BigInteger, nullable=True),
    Column("upload_time", UTCDateTime, nullable=True),
    Column("requires_python", Text, nullable=True),
    Column("yanked", Boolean, nullable=False, server_default=false()),
    Column("yanked_reason", Text, nullable=False, server_default=text("''")),
    Column("metadata_sha256", String(64), nullable=True),
    Column("has_metadata", Boolean, nullable=False, server_default=false()),
    Column("cached", Boolean, nullable=False, server_default=false()),
    Column("metadata_cached", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("index_id", "filename"),
    Index("ix_mirror_files_index_id", "index_id", "project", "id"),
)

# Access control ---------------------------------------------------------------------

teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("created", UTCDateTime, nullable=False),
)

team_members = Table(
    "team_members",
    metadata,
    Column("team_id", Integer, ForeignKey("teams.id"), nullable=False),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    PrimaryKeyConstraint("team_id", "user_id"),
    Index("ix_team_members_user_id", "user_id"),  # teams_of, and deleting a user
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    # sha256 hex of the secret: authentication is one read of this unique index.
    Column("digest", String(64), nullable=False, unique=True),
    Column("prefix", String(32), nullable=False),
    # JSON lists of strings; an empty indexes or projects list means "every".
    Column("scopes", JSON, nullable=False),
    Column("indexes", JSON, nullable=False),
    Column("projects", JSON, nullable=False),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("created", UTCDateTime, nullable=False),
    Column("last_used", UTCDateTime, nullable=True),
    Index("ix_tokens_user_id", "user_id"),
)

project_roles = Table(
    "project_roles",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("index_id", Integer, ForeignKey("indexes.id"), nullable=False),
    Column("project", Text, nullable=False),
    # A user name, or "@team".
    Column("principal", Text, nullable=False),
    Column("role", String(16), nullable=False),
    UniqueConstraint("index_id", "project", "principal", "role"),
    Index("ix_project_roles_principal", "principal"),  # deleting a user or team
)

tombstones = Table(
    "tombstones",
    metadata,
    Column("index_id", Integer, ForeignKey("indexes.id"), nullable=False),
    Column("filename", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("index_id", "filename"),
)

download_counts = Table(
    "download_counts",
    metadata,
    # 00:00 UTC of the day counted. Names, not ids: counts outlive what they count.
    Column("day", UTCDateTime, nullable=False),
    Column("index_name", String(64), nullable=False),
    Column("project", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("filename", Text, nullable=False),
    Column("principal", Text, nullable=False),
    Column("count", BigInteger, nullable=False),
    # The upsert's conflict target; leading with day, it also serves `since`.
    PrimaryKeyConstraint("day", "index_name", "filename", "principal"),
    Index("ix_download_counts_project", "project", "version"),
)

# Hosted documentation: one row per release; the manifest maps each path of the site to
# its blob, so an upload replaces a release's docs in one write.
docs = Table(
    "docs",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("index_id", Integer, ForeignKey("indexes.id"), nullable=False),
    Column("project", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("manifest", JSON, nullable=False),
    Column("uploaded", UTCDateTime, nullable=False),
    Column("uploader", Text, nullable=False),
    UniqueConstraint("index_id", "project", "version"),
)
