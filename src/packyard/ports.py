"""The ports services depend on. Adapters implement them; bootstrap picks which."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol, Self

from packyard.domain.docs import DocSet
from packyard.domain.models import (
    DistFile,
    DownloadCount,
    Event,
    Index,
    MirrorFile,
    MirrorProject,
    Project,
    ProjectRole,
    Team,
    Token,
    User,
)
from packyard.domain.names import NormalizedName


class FileStore(Protocol):
    """Content-addressed blob storage; keys are lower-case sha256 hex digests."""

    def put_path(self, key: str, source: Path) -> None:
        """Store the file at `source` under `key` atomically; `source` may be moved away.

        Storing a key that exists already is a no-op (content addressing)."""

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int:
        """Raise FileNotFoundError when the key is absent."""

    def open(self, key: str) -> BinaryIO:
        """Open for reading; raise FileNotFoundError when the key is absent."""

    def local_path(self, key: str) -> Path | None:
        """A path on this machine's disk for zero-copy sending, or None."""

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]: ...

    def staging_dir(self) -> Path:
        """Where uploads are spooled before put_path (same filesystem: put is a rename)."""


class IndexRepository(Protocol):
    def get(self, name: str) -> Index | None: ...

    def list(self) -> Sequence[Index]: ...

    def add(self, index: Index) -> None:
        """Raise Conflict if the name is taken."""

    def update_config(self, name: str, config: dict[str, object]) -> None: ...

    def bump_serial(self, name: str, serial: int) -> None:
        """Set the index's change serial (the event id of the latest change)."""

    def get_default(self) -> str | None: ...

    def set_default(self, name: str) -> None: ...


class ProjectRepository(Protocol):
    def get(self, index: str, name: NormalizedName) -> Project | None: ...

    def ensure(self, index: str, name: NormalizedName, display_name: str) -> Project:
        """Return the project, creating it if absent; safe under concurrent callers."""

    def list(self, index: str) -> Sequence[Project]: ...

    def touch(self, index: str, name: NormalizedName, serial: int) -> None:
        """Record the serial of the project's latest change."""


class FileRepository(Protocol):
    def get(self, index: str, filename: str) -> DistFile | None: ...

    def for_project(self, index: str, project: NormalizedName) -> Sequence[DistFile]:
        """Every file of the project, oldest upload first."""

    def add(self, file: DistFile) -> None:
        """Raise FileExists if the filename is taken in the index (also under a race)."""

    def set_yanked(self, index: str, filename: str, *, yanked: bool, reason: str) -> None: ...

    def find_by_sha256(self, sha256: str) -> DistFile | None: ...

    def delete(self, index: str, filename: str) -> None:
        """NotFound if absent (the blob stays: it may be shared; GC collects it)."""


class UserRepository(Protocol):
    def get(self, name: str) -> User | None: ...

    def delete(self, name: str) -> None:
        """NotFound if absent."""

    def add(self, user: User) -> None:
        """Raise Conflict if the name is taken."""

    def update(self, user: User) -> None: ...

    def list(self) -> Sequence[User]: ...


class EventLog(Protocol):
    def append(self, event: Event) -> int:
        """Record the event in the current transaction and return its serial."""

    def since(self, serial: int, limit: int = 1000) -> Sequence[Event]: ...

    def last_serial(self) -> int: ...


class MirrorRepository(Protocol):
    def get_project(self, index: str, name: NormalizedName) -> MirrorProject | None: ...

    def save_project(
        self, project: MirrorProject, listing: Sequence[MirrorFile] | None = None
    ) -> None:
        """Insert or update the project's fetch state; with `listing`, replace its listing
        too (the upstream's files as fetched now; their cache state is not taken: it stays
        with each file, see `mark_cached`)."""

    def list_projects(self, index: str) -> Sequence[MirrorProject]:
        """Projects the upstream has (exists=True) that were fetched at least once."""

    def files(self, index: str, name: NormalizedName) -> Sequence[MirrorFile]:
        """The stored listing with each file's cache state, then the cached files the
        upstream no longer lists."""

    def get_file(self, index: str, name: NormalizedName, filename: str) -> MirrorFile | None:
        """One file of `files(index, name)`."""

    def mark_cached(self, file: MirrorFile, *, sha256: str, size: int) -> None:
        """The file's bytes are stored: it stays listed even when the upstream drops it."""

    def mark_metadata_cached(self, file: MirrorFile, *, sha256: str) -> None: ...


class TeamRepository(Protocol):
    def get(self, name: str) -> Team | None: ...

    def add(self, team: Team) -> None:
        """Raise Conflict if the name is taken."""

    def delete(self, name: str) -> None:
        """Raise NotFound if absent; memberships go with it."""

    def list(self) -> Sequence[Team]: ...

    def add_member(self, team: str, user: str) -> None:
        """Idempotent; NotFound for an unknown team or user."""

    def remove_member(self, team: str, user: str) -> None: ...

    def teams_of(self, user: str) -> frozenset[str]: ...


class TokenRepository(Protocol):
    def add(self, token: Token) -> None: ...

    def get(self, token_id: str) -> Token | None: ...

    def by_digest(self, digest: str) -> Token | None: ...

    def list(self, user: str | None = None) -> Sequence[Token]: ...

    def delete(self, token_id: str) -> None:
        """Revoke: the row goes; NotFound if absent."""

    def delete_for_user(self, user: str) -> int: ...

    def record_use(self, used: Mapping[str, datetime]) -> None:
        """Set last_used for many tokens at once (batched by the caller)."""


class RoleRepository(Protocol):
    def for_project(self, index: str, project: NormalizedName) -> Sequence[ProjectRole]: ...

    def add(self, role: ProjectRole) -> None:
        """Idempotent."""

    def remove(self, role: ProjectRole) -> None:
        """NotFound if absent."""

    def remove_principal(self, principal: str) -> None:
        """Every role of a deleted user or team."""


class TombstoneRepository(Protocol):
    """Filenames deleted from a hosted index: they can never be uploaded again."""

    def add(self, index: str, filename: str, *, actor: str, at: datetime) -> None: ...

    def exists(self, index: str, filename: str) -> bool: ...


class DocsRepository(Protocol):
    """Hosted documentation: one manifest per release, replaced as a whole."""

    def get(self, index: str, project: NormalizedName, version: str) -> DocSet | None: ...

    def versions(self, index: str, project: NormalizedName) -> Sequence[str]: ...

    def save(self, docs: DocSet) -> None:
        """Insert, or replace the release's manifest (last writer wins)."""


class AuditLog(Protocol):
    def query(
        self,
        *,
        since: datetime | None = None,
        index: str | None = None,
        project: str | None = None,
        version: str | None = None,
        actor: str | None = None,
        action: str | None = None,
        limit: int = 1000,
    ) -> Sequence[Event]:
        """Events, newest first, matching every given filter."""

    def add_downloads(self, counts: Sequence[DownloadCount]) -> None:
        """Add to the per-day counters (insert or increment)."""

    def downloads(
        self,
        *,
        since: datetime | None = None,
        index: str | None = None,
        project: str | None = None,
        version: str | None = None,
        principal: str | None = None,
    ) -> Sequence[DownloadCount]: ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without commit() rolls everything back."""

    @property
    def indexes(self) -> IndexRepository: ...

    @property
    def projects(self) -> ProjectRepository: ...

    @property
    def files(self) -> FileRepository: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def events(self) -> EventLog: ...

    @property
    def mirror(self) -> MirrorRepository: ...

    @property
    def teams(self) -> TeamRepository: ...

    @property
    def tokens(self) -> TokenRepository: ...

    @property
    def roles(self) -> RoleRepository: ...

    @property
    def tombstones(self) -> TombstoneRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def docs(self) -> DocsRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, readonly: bool = False) -> UnitOfWork:
        """A new unit of work; a read-only one never takes the write lock."""


class SerialReader(Protocol):
    """The hot path's one read: an index's change serial, without a full unit of work."""

    def resolve(self, index: str | None) -> tuple[str, int] | None:
        """(name, serial) of the named index, or of the default one for None, in one read."""


class Clock(Protocol):
    def now(self) -> datetime: ...
