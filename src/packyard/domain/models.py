"""Entities of a package index. Plain data: repositories load and store them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from packyard.domain.names import NormalizedName


class IndexKind(StrEnum):
    HOSTED = "hosted"
    MIRROR = "mirror"
    VIRTUAL = "virtual"


class PackageType(StrEnum):
    SDIST = "sdist"
    WHEEL = "bdist_wheel"


@dataclass(frozen=True)
class Index:
    name: str
    kind: IndexKind
    serial: int = 0
    # Kind-specific settings (upstream URL, members, policies) as plain JSON data, so a
    # new option needs no migration.
    config: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Project:
    index: str
    name: NormalizedName
    display_name: str
    created: datetime
    last_serial: int = 0


@dataclass(frozen=True)
class Digests:
    sha256: str
    blake2b_256: str
    md5: str


@dataclass(frozen=True)
class DistFile:
    """One distribution file as stored and listed. Immutable apart from yank state."""

    index: str
    project: NormalizedName
    version: str
    filename: str
    packagetype: PackageType
    python_version: str
    size: int
    digests: Digests
    upload_time: datetime
    uploader: str
    requires_python: str | None = None
    # sha256 of the core metadata sidecar (PEP 658); None when no sidecar is served.
    metadata_sha256: str | None = None
    yanked: bool = False
    yanked_reason: str = ""
    # Selected core metadata fields (summary, author, classifiers, ...) for the JSON API.
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    is_admin: bool = False
    disabled: bool = False
    created: datetime | None = None


@dataclass(frozen=True)
class Event:
    """A fact that happened; the event log's id is the global change serial."""

    action: str
    actor: str
    index: str | None = None
    project: str | None = None
    version: str | None = None
    filename: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    time: datetime | None = None
    serial: int | None = None
    address: str | None = None  # the client's address, for the audit log


@dataclass(frozen=True)
class MirrorProject:
    """What a mirror knows of one upstream project page, and when it last asked."""

    index: str
    name: NormalizedName
    display_name: str
    fetched_at: datetime
    exists: bool  # False: upstream answered 404 (cached as such for the TTL)
    etag: str | None = None
    last_serial: int = 0


# Not frozen: a mirrored project lists up to tens of thousands of files, and building a
# frozen dataclass costs eight times as much. Treated as immutable all the same.
@dataclass(slots=True)
class MirrorFile:
    """A file an upstream lists. Its bytes are fetched on first download (`cached`)."""

    index: str
    project: NormalizedName
    filename: str
    version: str
    upstream_url: str
    first_seen: datetime
    sha256: str | None = None
    size: int | None = None
    # The upstream's upload-time; None when it gave none (then first_seen stands in for
    # cooldown and as-of, and no time is invented in the output).
    upload_time: datetime | None = None
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str = ""
    metadata_sha256: str | None = None
    has_metadata: bool = False
    cached: bool = False
    metadata_cached: bool = False

    @property
    def serves_metadata(self) -> bool:
        """Whether the mirror serves a PEP 658 sidecar for it: the upstream's when it lists
        one, else, for a wheel, the wheel's own METADATA. Installers then fetch a few
        kilobytes instead of a HEAD and ranged reads of the wheel, each a round trip."""
        return self.has_metadata or self.filename.endswith(".whl")

    def with_cache_of(self, stored: MirrorFile) -> MirrorFile:
        """This listing entry with what the mirror has stored of the same file: the
        upstream's latest word on yanks and hashes, the mirror's on what it holds."""
        return replace(
            self,
            sha256=self.sha256 or (stored.sha256 if stored.cached else None),
            size=self.size if self.size is not None else stored.size,
            metadata_sha256=self.metadata_sha256
            or (stored.metadata_sha256 if stored.metadata_cached else None),
            cached=stored.cached,
            metadata_cached=stored.metadata_cached,
        )


class Scope(StrEnum):
    """What a token may do; a token never grants more than its user has."""

    READ = "read"
    UPLOAD = "upload"
    YANK = "yank"
    DELETE = "delete"
    ADMIN = "admin"


@dataclass(frozen=True)
class Token:
    """An API token. Only the SHA-256 digest of its secret is stored."""

    id: str  # public, shown by `token list`, used by `token revoke`
    user: str
    digest: str  # sha256 hex of the whole secret
    prefix: str  # the secret's first characters: recognisable, not enough to use
    scopes: frozenset[Scope]
    indexes: tuple[str, ...] = ()  # empty: every index
    projects: tuple[NormalizedName, ...] = ()  # empty: every project
    expires_at: datetime | None = None
    description: str = ""
    created: datetime | None = None
    last_used: datetime | None = None


@dataclass(frozen=True)
class Team:
    name: str
    members: tuple[str, ...] = ()
    created: datetime | None = None


class Role(StrEnum):
    OWNER = "owner"
    MAINTAINER = "maintainer"


@dataclass(frozen=True)
class ProjectRole:
    """`principal` is a user name, or a team as `@team`."""

    index: str
    project: NormalizedName
    principal: str
    role: Role


@dataclass(frozen=True)
class DownloadCount:
    """Downloads aggregated per day, file and principal (user, token id or anonymous)."""

    day: datetime
    index: str
    project: NormalizedName
    version: str
    filename: str
    principal: str  # "user:alice", "token:<id> (alice)", or "anonymous"
    count: int
