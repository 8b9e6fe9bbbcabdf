"""In-memory fakes of the ports, for fast unit tests of services.

They pass the same contract suites as the real adapters (tests/integration), so a
service tested against them behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Self

from packyard import ports
from packyard.domain.docs import DocSet
from packyard.domain.errors import Conflict, FileExists, NotFound
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
from packyard.domain.names import NormalizedName, normalize

_KEY = re.compile(r"[0-9a-f]{64}")


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} given; use a timezone-aware one")
    return value.astimezone(UTC)


def _advance(current: int, serial: int) -> int:
    # Same rule as the SQL adapter: take a newer serial, else step past the current one.
    return serial if current < serial else current + 1


class FakeFileStore(ports.FileStore):
    def __init__(self, staging: Path | None = None) -> None:
        self.blobs: dict[str, bytes] = {}
        self._staging = staging

    def put_path(self, key: str, source: Path) -> None:
        data = source.read_bytes()
        if self._check(key) not in self.blobs:
            self.blobs[key] = data
            source.unlink()  # as the real store, which moves the file into place

    def put_bytes(self, key: str, data: bytes) -> None:
        self.blobs.setdefault(self._check(key), bytes(data))

    def exists(self, key: str) -> bool:
        return self._check(key) in self.blobs

    def size(self, key: str) -> int:
        return len(self._get(key))

    def open(self, key: str) -> BinaryIO:
        return io.BytesIO(self._get(key))

    def local_path(self, key: str) -> Path | None:
        self._check(key)
        return None

    def delete(self, key: str) -> None:
        self.blobs.pop(self._check(key), None)

    def keys(self) -> Iterator[str]:
        return iter(sorted(self.blobs))

    def staging_dir(self) -> Path:
        if self._staging is None:
            self._staging = Path(tempfile.mkdtemp(prefix="packyard-fake-staging-"))
        self._staging.mkdir(parents=True, exist_ok=True)
        return self._staging

    def _get(self, key: str) -> bytes:
        try:
            return self.blobs[self._check(key)]
        except KeyError:
            raise FileNotFoundError(f"no blob {key}") from None

    @staticmethod
    def _check(key: str) -> str:
        if not _KEY.fullmatch(key):
            raise ValueError(f"invalid blob key {key!r}: expected 64 lower-case hex characters")
        return key


@dataclass
class FakeDatabase:
    """Committed state, shared by every unit of work of one factory."""

    indexes: dict[str, Index] = field(default_factory=dict)
    default_index: str | None = None
    projects: dict[tuple[str, str], Project] = field(default_factory=dict)
    # Insertion order is the id order the SQL adapter breaks upload-time ties with.
    files: dict[tuple[str, str], DistFile] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    next_serial: int = 1
    mirror_projects: dict[tuple[str, str], MirrorProject] = field(default_factory=dict)
    mirror_listings: dict[tuple[str, str], tuple[MirrorFile, ...]] = field(default_factory=dict)
    # Files whose bytes or sidecar are stored. Insertion order is id order; an update
    # keeps a file's place, as an SQL upsert does.
    mirror_files: dict[tuple[str, str], MirrorFile] = field(default_factory=dict)
    # Members are kept sorted, as the SQL adapter lists them.
    teams: dict[str, Team] = field(default_factory=dict)
    # Insertion order is the SQL adapters' (created, id) order for equal creation times.
    tokens: dict[str, Token] = field(default_factory=dict)
    # Insertion order is grant order, as the SQL adapter's ids.
    roles: list[ProjectRole] = field(default_factory=list)
    tombstones: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    downloads: dict[tuple[datetime, str, str, str], DownloadCount] = field(default_factory=dict)
    # Insertion order is the SQL adapter's id order; a replacement keeps its place.
    docs: dict[tuple[str, str, str], DocSet] = field(default_factory=dict)


class FakeIndexRepository(ports.IndexRepository):
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def get(self, name: str) -> Index | None:
        return copy.deepcopy(self._db.indexes.get(name))

    def list(self) -> Sequence[Index]:
        return [copy.deepcopy(self._db.indexes[name]) for name in sorted(self._db.indexes)]

    def add(self, index: Index) -> None:
        if index.name in self._db.indexes:
            raise Conflict(f"an index named {index.name!r} exists already")
        self._db.indexes[index.name] = copy.deepcopy(index)

    def update_config(self, name: str, config: dict[str, object]) -> None:
        index = self._require(name)
        self._db.indexes[name] = dataclasses.replace(index, config=copy.deepcopy(config))

    def bump_serial(self, name: str, serial: int) -> None:
        index = self._require(name)
        self._db.indexes[name] = dataclasses.replace(index, serial=_advance(index.serial, serial))

    def get_default(self) -> str | None:
        return self._db.default_index

    def set_default(self, name: str) -> None:
        self._require(name)
        self._db.default_index = name

    def _require(self, name: str) -> Index:
        if name not in self._db.indexes:
            raise NotFound(f"no index named {name!r}")
        return self._db.indexes[name]


class FakeProjectRepository(ports.ProjectRepository):
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def get(self, index: str, name: NormalizedName) -> Project | None:
        return self._db.projects.get((index, name))

    def ensure(self, index: str, name: NormalizedName, display_name: str) -> Project:
        if index not in self._db.indexes:
            raise NotFound(f"no index named {index!r}")
        return self._db.projects.setdefault(
            (index, name),
            Project(index=index, name=name, display_name=display_name, created=_now()),
        )

    def list(self, index: str) -> Sequence[Project]:
        found = [p for (i, _), p in self._db.projects.items() if i == index]
        return sorted(found, key=lambda p: p.name)

    def touch(self, index: str, name: NormalizedName, serial: int) -> None:
        project = self._db.projects.get((index, name))
        if project is None:
            raise NotFound(f"no project {name!r} in index {index!r}")
        self._db.projects[index, name] = dataclasses.replace(
            project, last_serial=_advance(project.last_serial, serial)
        )


class FakeFileRepository(ports.FileRepository):
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def get(self, index: str, filename: str) -> DistFile | None:
        return copy.deepcopy(self._db.files.get((index, filename)))

    def for_project(self, index: str, project: NormalizedName) -> Sequence[DistFile]:
        found = [f for f in self._db.files.values() if (f.index, f.project) == (index, project)]
        return copy.deepcopy(sorted(found, key=lambda f: f.upload_time))  # stable: id order

    def add(self, file: DistFile) -> None:
        if (file.index, file.project) not in self._db.projects:
            raise NotFound(f"no project {file.project!r} in index {file.index!r}")
        if (file.index, file.filename) in self._db.files:
            raise FileExists(f"file {file.filename!r} exists already in index {file.index!r}")
        stored = dataclasses.replace(file, upload_time=_utc(file.upload_time))
        self._db.files[file.index, file.filename] = copy.deepcopy(stored)

    def set_yanked(self, index: str, filename: str, *, yanked: bool, reason: str) -> None:
        file = self._db.files.get((index, filename))
        if file is None:
            raise NotFound(f"no file {filename!r} in index {index!r}")
        self._db.files[index, filename] = dataclasses.replace(
            file, yanked=yanked, yanked_reason=reason
        )

    def find_by_sha256(self, sha256: str) -> DistFile | None:
        found = (f for f in self._db.files.values() if f.digests.sha256 == sha256)
        return copy.deepcopy(next(found, None))

    def delete(self, index: str, filename: str) -> None:
        if self._db.files.pop((index, filename), None) is None:
            raise NotFound(f"no file {filename!r} in index {index!r}")


class FakeUserRepository(ports.UserRepository):
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def get(self, name: str) -> User | None:
        return self._db.users.get(name)

    def add(self, user: User) -> None:
        if user.name in self._db.users:
            raise Conflict(f"a user named {user.name!r} exists already")
        created = _utc(user.created or _now())
        self._db.users[user.name] = dataclasses.replace(user, created=created)

    def update(self, user: User) -> None:
        stored = self._db.users.get(user.name)
        if stored is None:
            raise NotFound(f"no user named {user.name!r}")
        # As the SQL adapter: the creation time is not updatable.
        self._db.users[user.name] = dataclasses.replace(user, created=stored.created)

    def list(self) -> Sequence[User]:
        return [self._db.users[name] for name in sorted(self._db.users)]

    def delete(self, name: str) -> None:
        if self._db.users.pop(name, None) is None:
            raise NotFound(f"no user named {name!r}")
        db = self._db
        db.tokens = {key: t for key, t in db.tokens.items() if t.user != name}
        for team in db.teams.values():
            members = tuple(m for m in team.members if m != name)
            db.teams[team.name] = dataclasses.replace(team, members=members)
        db.roles = [role for role in db.roles if role.principal != name]


class FakeEventLog(ports.EventLog):
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def append(self, event: Event) -> int:
        serial = self._db.next_serial
        self._db.next_serial += 1
        time = _utc(event.time or _now())
        stored = dataclasses.replace(event, serial=serial, time=time)
        self._db.events.append(copy.deepcopy(stored))
        return serial

    def since(self, serial: int, limit: int = 1000) -> Sequence[Event]:
        return copy.deepcopy([e for e in self._db.events if (e.serial or 0) > serial][:limit])

    def last_serial(self) -> int:
        if not self._db.events:
            return 0
        return self._db.events[-1].serial or 0


class FakeMirrorRepository(ports.MirrorRepository):
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def get_project(self, index: str, name: NormalizedName) -> MirrorProject | None:
        return self._db.mirror_projects.get((index, name))

    def save_project(
        self, project: MirrorProject, listing: Sequence[MirrorFile] | None = None
    ) -> None:
        self._require_index(project.index)
        self._db.mirror_projects[project.index, project.name] = project
        if listing is not None:
            self._db.mirror_listings[project.index, project.name] = tuple(
                dataclasses.replace(
                    f,
                    index=project.index,
                    project=project.name,
                    cached=False,
                    metadata_cached=False,
                )
                for f in listing
            )

    def list_projects(self, index: str) -> Sequence[MirrorProject]:
        found = [p for (i, _), p in self._db.mirror_projects.items() if i == index and p.exists]
        return sorted(found, key=lambda p: p.name)

    def files(self, index: str, name: NormalizedName) -> Sequence[MirrorFile]:
        stored = {
            f.filename: f
            for f in self._db.mirror_files.values()
            if (f.index, f.project) == (index, name)
        }
        listed = [
            f.with_cache_of(stored.pop(f.filename)) if f.filename in stored else f
            for f in self._db.mirror_listings.get((index, name), ())
        ]
        return [*listed, *(f for f in stored.values() if f.cached)]

    def get_file(self, index: str, name: NormalizedName, filename: str) -> MirrorFile | None:
        return next((f for f in self.files(index, name) if f.filename == filename), None)

    def mark_cached(self, file: MirrorFile, *, sha256: str, size: int) -> None:
        self._upsert(file, cached=True, sha256=sha256, size=size)

    def mark_metadata_cached(self, file: MirrorFile, *, sha256: str) -> None:
        self._upsert(file, metadata_cached=True, metadata_sha256=sha256)

    def _upsert(self, file: MirrorFile, **changes: Any) -> None:
        self._require_index(file.index)
        known = self._db.mirror_files.get((file.index, file.filename))
        base = known or dataclasses.replace(file, cached=False, metadata_cached=False)
        self._db.mirror_files[file.index, file.filename] = dataclasses.replace(base, **changes)

    def _require_index(self, index: str) -> None:
        if index not in self._db.indexes:
            raise NotFound(f"no index named {index!r}")


class FakeTeamRepository(ports.TeamRepository):
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def get(self, name: str) -> Team | None:
        return self._db.teams.get(name)

    def add(self, team: Team) -> None:
        if team.name in self._db.teams:
            raise Conflict(f"a team named {team.name!r} exists already")
        created = _utc(team.created or _now())
        self._db.teams[team.name] = Team(name=team.name, created=created)
        for member in team.members:
            self.add_member(team.name, member)

    def delete(self, name: str) -> None:
        self._require(name)
        del self._db.teams[name]
        self._db.roles = [role for role in self._db.roles if role.principal != f"@{name}"]

    def list(self) -> Sequence[Team]:
        return [self._db.teams[name] for name in sorted(self._db.teams)]

    def add_member(self, team: str, user: str) -> None:
        found = self._require(team)
        if user not in self._db.users:
            raise NotFound(f"no user named {user!r}")
        members = tuple(sorted({*found.members, user}))
        self._db.teams[team] = dataclasses.replace(found, members=members)

    def remove_member(self, team: str, user: str) -> None:
        found = self._require(team)
        if user not in found.members:
            raise NotFound(f"user {user!r} is not a member of team {team!r}")
        members = tuple(m for m in found.members if m != user)
        self._db.teams[team] = dataclasses.replace(found, members=members)

    def teams_of(self, user: str) -> frozenset[str]:
        return frozenset(t.name for t in self._db.teams.values() if user in t.members)

    def _require(self, name: str) -> Team:
        if name not in self._db.teams:
            raise NotFound(f"no team named {name!r}")
        return self._db.teams[name]


class FakeTokenRepository(ports.TokenRepository):
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def add(self, token: Token) -> None:
        if token.user not in self._db.users:
            raise NotFound(f"no user named {token.user!r}")
        if token.id in self._db.tokens or self.by_digest(token.digest) is not None:
            raise Conflict(f"a token with id {token.id!r} or the same secret exists already")
        self._db.tokens[token.id] = dataclasses.replace(
            token,
            created=_utc(token.created or _now()),
            expires_at=None if token.expires_at is None else _utc(token.expires_at),
            last_used=None if token.last_used is None else _utc(token.last_used),
        )

    def get(self, token_id: str) -> Token | None:
        return self._db.tokens.get(token_id)

    def by_digest(self, digest: str) -> Token | None:
        return next((t for t in self._db.tokens.values() if t.digest == digest), None)

    def list(self, user: str | None = None) -> Sequence[Token]:
        found = [t for t in self._db.tokens.values() if user is None or t.user == user]
        return sorted(found, key=lambda t: t.created or _now())  # stable: insertion order

    def delete(self, token_id: str) -> None:
        if self._db.tokens.pop(token_id, None) is None:
            raise NotFound(f"no token with id {token_id!r}")

    def delete_for_user(self, user: str) -> int:
        doomed = [key for key, t in self._db.tokens.items() if t.user == user]
        for key in doomed:
            del self._db.tokens[key]
        return len(doomed)

    def record_use(self, used: Mapping[str, datetime]) -> None:
        for token_id, at in used.items():
            token = self._db.tokens.get(token_id)
            if token is not None and (token.last_used is None or token.last_used < at):
                self._db.tokens[token_id] = dataclasses.replace(token, last_used=_utc(at))


class FakeRoleRepository(ports.RoleRepository):
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def for_project(self, index: str, project: NormalizedName) -> Sequence[ProjectRole]:
        return [r for r in self._db.roles if (r.index, r.project) == (index, project)]

    def add(self, role: ProjectRole) -> None:
        if role.index not in self._db.indexes:
            raise NotFound(f"no index named {role.index!r}")
        if role not in self._db.roles:
            self._db.roles.append(role)

    def remove(self, role: ProjectRole) -> None:
        if role not in self._db.roles:
            raise NotFound(
                f"{role.principal!r} is not {role.role} of {role.project!r} in index {role.index!r}"
            )
        self._db.roles.remove(role)

    def remove_principal(self, principal: str) -> None:
        self._db.roles = [r for r in self._db.roles if r.principal != principal]


class FakeTombstoneRepository(ports.TombstoneRepository):
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def add(self, index: str, filename: str, *, actor: str, at: datetime) -> None:
        if index not in self._db.indexes:
            raise NotFound(f"no index named {index!r}")
        self._db.tombstones.setdefault((index, filename), (actor, _utc(at)))

    def exists(self, index: str, filename: str) -> bool:
        return (index, filename) in self._db.tombstones


def _day_of(moment: datetime) -> datetime:
    return _utc(moment).replace(hour=0, minute=0, second=0, microsecond=0)


class FakeAuditLog(ports.AuditLog):
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

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
        wanted = {
            "index": index,
            "project": None if project is None else normalize(project),
            "version": version,
            "actor": actor,
            "action": action,
        }
        found = [
            e
            for e in self._db.events
            if (since is None or (e.time is not None and e.time >= _utc(since)))
            and all(v is None or getattr(e, k) == v for k, v in wanted.items())
        ]
        found.sort(key=lambda e: (e.time, e.serial), reverse=True)
        return copy.deepcopy(found[:limit])

    def add_downloads(self, counts: Sequence[DownloadCount]) -> None:
        for c in counts:
            key = (_day_of(c.day), c.index, c.filename, c.principal)
            known = self._db.downloads.get(key)
            if known is None:
                self._db.downloads[key] = dataclasses.replace(c, day=key[0])
            else:
                self._db.downloads[key] = dataclasses.replace(known, count=known.count + c.count)

    def downloads(
        self,
        *,
        since: datetime | None = None,
        index: str | None = None,
        project: str | None = None,
        version: str | None = None,
        principal: str | None = None,
    ) -> Sequence[DownloadCount]:
        wanted = {
            "index": index,
            "project": None if project is None else normalize(project),
            "version": version,
            "principal": principal,
        }
        found = [
            c
            for c in self._db.downloads.values()
            if (since is None or c.day >= _day_of(since))
            and all(v is None or getattr(c, k) == v for k, v in wanted.items())
        ]
        found.sort(key=lambda c: (c.index, c.filename, c.principal))
        found.sort(key=lambda c: c.day, reverse=True)
        return found


class FakeDocsRepository(ports.DocsRepository):
    def __init__(self, db: FakeDatabase) -> None:
        self._db = db

    def get(self, index: str, project: NormalizedName, version: str) -> DocSet | None:
        return self._db.docs.get((index, project, version))

    def versions(self, index: str, project: NormalizedName) -> Sequence[str]:
        return [v for (i, p, v) in self._db.docs if (i, p) == (index, project)]

    def save(self, docs: DocSet) -> None:
        if docs.index not in self._db.indexes:
            raise NotFound(f"no index named {docs.index!r}")
        uploaded = _utc(docs.uploaded or _now())
        stored = dataclasses.replace(docs, members=dict(docs.members), uploaded=uploaded)
        self._db.docs[(docs.index, docs.project, docs.version)] = stored


class ReadOnlyError(RuntimeError):
    """A read-only fake unit of work was asked to commit changes."""


class FakeUnitOfWork:
    """Works on a private copy of the committed state; commit() publishes it.

    Write units of work hold the factory's lock from enter to exit, as SQLite's
    BEGIN IMMEDIATE does, so concurrent writers queue and never lose an update.
    (Not a subclass of ports.UnitOfWork: its read-only repository properties would
    shadow these attributes; it satisfies the Protocol structurally.)
    """

    indexes: FakeIndexRepository
    projects: FakeProjectRepository
    files: FakeFileRepository
    users: FakeUserRepository
    events: FakeEventLog
    mirror: FakeMirrorRepository
    teams: FakeTeamRepository
    tokens: FakeTokenRepository
    roles: FakeRoleRepository
    tombstones: FakeTombstoneRepository
    audit: FakeAuditLog
    docs: FakeDocsRepository

    def __init__(self, factory: FakeUnitOfWorkFactory, *, readonly: bool = False) -> None:
        self._factory = factory
        self.readonly = readonly
        self.committed = False
        self._db = FakeDatabase()

    def __enter__(self) -> Self:
        if not self.readonly:
            self._factory.write_lock.acquire()
        self._begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        if not self.readonly:
            self._factory.write_lock.release()

    def commit(self) -> None:
        if self.readonly:
            # The SQL adapters refuse writes in a read-only transaction, too.
            if self._db != self._snapshot:
                raise ReadOnlyError("a read-only unit of work changed data")
        else:
            self._factory.db = copy.deepcopy(self._db)
        self.committed = True

    def rollback(self) -> None:
        self._begin()

    def _begin(self) -> None:
        self._snapshot = self._factory.db
        self._db = copy.deepcopy(self._snapshot)
        self.indexes = FakeIndexRepository(self._db)
        self.projects = FakeProjectRepository(self._db)
        self.files = FakeFileRepository(self._db)
        self.users = FakeUserRepository(self._db)
        self.events = FakeEventLog(self._db)
        self.mirror = FakeMirrorRepository(self._db)
        self.teams = FakeTeamRepository(self._db)
        self.tokens = FakeTokenRepository(self._db)
        self.roles = FakeRoleRepository(self._db)
        self.tombstones = FakeTombstoneRepository(self._db)
        self.audit = FakeAuditLog(self._db)
        self.docs = FakeDocsRepository(self._db)


class FakeUnitOfWorkFactory(ports.UnitOfWorkFactory):
    def __init__(self) -> None:
        self.db = FakeDatabase()
        self.write_lock = threading.RLock()
        self.created: list[FakeUnitOfWork] = []

    def __call__(self, *, readonly: bool = False) -> FakeUnitOfWork:
        uow = FakeUnitOfWork(self, readonly=readonly)
        self.created.append(uow)
        return uow

    @property
    def last(self) -> FakeUnitOfWork:
        """The most recent unit of work, to assert on (`factory.last.committed`)."""
        return self.created[-1]


class FakeSerialReader(ports.SerialReader):
    def __init__(self, factory: FakeUnitOfWorkFactory) -> None:
        self._factory = factory

    def resolve(self, index: str | None) -> tuple[str, int] | None:
        name = self._factory.db.default_index if index is None else index
        found = None if name is None else self._factory.db.indexes.get(name)
        return None if found is None else (found.name, found.serial)


def _conforms(factory: FakeUnitOfWorkFactory) -> ports.UnitOfWork:
    # Makes mypy check that the fake satisfies the UnitOfWork Protocol.
    return factory()
