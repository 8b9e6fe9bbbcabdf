"""What an index shows for a project, whatever its kind: the read side of every index.

A hosted index shows its uploads, a mirror what its upstream lists, and a virtual index
the first member that has the project (never a later one: an internal project shadows a
public one of the same name). Policies of every index on the way filter the files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

from packyard.domain.access import Audience, Principal, check_read
from packyard.domain.errors import Forbidden, InvalidInput, NotFound, Unauthorized
from packyard.domain.filenames import parse_filename
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import DistFile, Index, IndexKind, MirrorFile
from packyard.domain.names import NormalizedName
from packyard.domain.policy import Candidate, Policy, evaluate_all, next_change, visible_as_of
from packyard.ports import Clock, UnitOfWorkFactory
from packyard.services.mirror import MirrorService
from packyard.services.single_flight import SingleFlight

# Where a file of `source` index is downloaded through `serving` index.
FileUrl = Callable[[str, str, str | None], str]


# Not frozen: pages of big projects list 15,000 files, and a frozen dataclass costs eight
# times as much to build. Treated as immutable all the same.
@dataclass(slots=True)
class Listed:
    """One file as a page lists it."""

    filename: str
    version: str
    url: str
    sha256: str | None
    size: int | None
    upload_time: datetime | None
    requires_python: str | None
    yanked: bool
    yanked_reason: str
    metadata_sha256: str | None
    has_metadata: bool
    source: str  # the index that holds the file
    mirrored: bool
    first_seen: datetime | None

    @classmethod
    def of_hosted(cls, f: DistFile, url: str) -> Listed:
        return cls(
            filename=f.filename,
            version=f.version,
            url=url,
            sha256=f.digests.sha256,
            size=f.size,
            upload_time=f.upload_time,
            requires_python=f.requires_python,
            yanked=f.yanked,
            yanked_reason=f.yanked_reason,
            metadata_sha256=f.metadata_sha256,
            has_metadata=f.metadata_sha256 is not None,
            source=f.index,
            mirrored=False,
            first_seen=f.upload_time,
        )


@dataclass(frozen=True)
class ProjectView:
    index: str
    name: NormalizedName
    display_name: str
    files: tuple[Listed, ...]
    last_serial: int
    answered_by: tuple[str, ...]
    shadowed: tuple[str, ...] = ()
    removed: tuple[tuple[str, str], ...] = ()  # (filename, why)
    expires_at: datetime | None = None  # recompute by then (mirror TTL, cooldown ending)
    stale: bool = False
    public: bool = True  # every index that answered is readable by anyone


@dataclass
class _Found:
    """A member's answer before the serving index's own policy is applied."""

    display_name: str
    last_serial: int
    files: list[tuple[Listed, tuple[Policy, ...]]]
    answered_by: list[str]
    shadowed: list[str] = field(default_factory=list)
    expires_at: datetime | None = None
    stale: bool = False
    public: bool = True
    checked: list[str] = field(default_factory=list)  # indexes whose readers were checked


@dataclass(frozen=True)
class _CachedView:
    serial: int  # the serving index's serial when the view was made
    view: ProjectView
    checked: tuple[str, ...]


T = TypeVar("T")

VIEW_CACHE_SIZE = 10_000
INDEX_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class Located:
    """A file as `serving` lists it, with the record that holds its bytes."""

    listed: Listed
    source: Index
    hosted: DistFile | None = None
    mirrored: MirrorFile | None = None
    public: bool = False  # every index on the way is readable by anyone
    expires_at: datetime | None = None  # the listing's validity (see ProjectView)


class Catalog:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        mirror: MirrorService,
        clock: Clock,
        file_url: FileUrl,
    ) -> None:
        self._uow = uow_factory
        self._mirror = mirror
        self._clock = clock
        self.file_url = file_url
        self._views: dict[tuple[str, str], _CachedView] = {}
        self._indexes: dict[tuple[str, str, int], Index | None] = {}
        self._index_reads = SingleFlight()

    async def index(self, name: str, *, serial: int | None = None) -> Index | None:
        """The index named `name`. Given the serial the caller has just read for it, a
        copy kept at that serial answers: every change to an index bumps its serial."""
        if serial is None:
            return await run_in_threadpool(self._get_index, name)
        return await self._kept((name, "", serial), name)

    async def _below(self, name: str, above: Index) -> Index | None:
        """An index reachable from `above` (a member, or a member's member), as it stood
        at `above`'s serial: a change to any index bumps the serial of every virtual index
        above it (record_change). Pages and downloads look up members on every miss."""
        if name == above.name:
            return above
        return await self._kept((name, above.name, above.serial), name)

    async def _kept(self, key: tuple[str, str, int], name: str) -> Index | None:
        if key in self._indexes:
            return self._indexes[key]
        # An install's first requests arrive together and all miss: one read serves them.
        return await self._index_reads.run(key, lambda: self._read_and_keep(key, name))

    async def _read_and_keep(self, key: tuple[str, str, int], name: str) -> Index | None:
        found = await run_in_threadpool(self._get_index, name)
        if len(self._indexes) > INDEX_CACHE_SIZE:
            self._indexes.clear()
        self._indexes[key] = found
        return found

    def _get_index(self, name: str) -> Index | None:
        with self._uow(readonly=True) as uow:
            return uow.indexes.get(name)

    async def project(
        self,
        index: Index,
        name: NormalizedName,
        *,
        as_of: datetime | None = None,
        reader: Principal | None = None,
    ) -> ProjectView | None:
        """The project as `index` serves it, or None when no member has it.

        With a reader, the serving index and every member that answers must be readable
        by them (401/403 otherwise, never a later member's files); None skips the checks
        (administrators and internal use)."""
        key = (index.name, name)
        if as_of is None:
            cached = self._views.get(key)
            if cached is not None and self._still_valid(cached, index):
                await self._check_cached(cached, reader)
                return cached.view
        found = await self._find(index, name, serving=index.name, depth=0, reader=reader)
        if found is None:
            return None
        # Big projects list tens of thousands of files: keep that work off the event loop.
        view = await run_in_threadpool(self._finish, index.name, name, found, as_of)
        if as_of is None:
            if len(self._views) > VIEW_CACHE_SIZE:
                self._views.clear()
            self._views[key] = _CachedView(index.serial, view, tuple(found.checked))
        return view

    def _still_valid(self, cached: _CachedView, index: Index) -> bool:
        if cached.serial != index.serial:
            return False
        expires = cached.view.expires_at
        return expires is None or expires > self._clock.now()

    async def _check_cached(self, cached: _CachedView, reader: Principal | None) -> None:
        """The same read checks as a fresh lookup: the serving index and every index
        that answered."""
        if reader is None or cached.view.public:
            return
        for name in cached.checked:
            index = await self.index(name)
            if index is not None:
                check_read(reader, index.name, IndexSettings.of(index).readers)

    def _finish(
        self, serving: str, name: NormalizedName, found: _Found, as_of: datetime | None
    ) -> ProjectView:
        now = self._clock.now()
        listed: list[Listed] = []
        removed: list[tuple[str, str]] = []
        is_open = _per_chain(lambda chain: all(p.is_empty() for p in chain))
        for file, policies in found.files:
            if as_of is None and is_open(policies):
                listed.append(file)  # no rule applies: skip the per-file evaluation
                continue
            candidate = _candidate(name, file)
            if as_of is not None and not visible_as_of(candidate, as_of):
                removed.append((file.filename, f"uploaded after {as_of.isoformat()}"))
                continue
            verdict = evaluate_all(policies, candidate, now=now)
            if verdict.allowed:
                listed.append(file)
            else:
                removed.append((file.filename, verdict.reason or "refused by policy"))
        expiry = [t for t in (found.expires_at, self._cooldown_end(found, name, now)) if t]
        return ProjectView(
            index=serving,
            name=name,
            display_name=found.display_name,
            files=tuple(listed),
            last_serial=found.last_serial,
            answered_by=tuple(found.answered_by),
            shadowed=tuple(found.shadowed),
            removed=tuple(removed),
            expires_at=min(expiry) if expiry else None,
            stale=found.stale,
            public=found.public,
        )

    def _cooldown_end(self, found: _Found, name: NormalizedName, now: datetime) -> datetime | None:
        is_timed = _per_chain(lambda chain: any(p.min_age or p.exemptions for p in chain))
        timed = [(file, policies) for file, policies in found.files if is_timed(policies)]
        ends = [
            next_change(policies, [_candidate(name, file)], now=now) for file, policies in timed
        ]
        return min((t for t in ends if t is not None), default=None)

    async def _find(
        self,
        index: Index,
        name: NormalizedName,
        *,
        serving: str,
        depth: int,
        reader: Principal | None,
    ) -> _Found | None:
        settings = IndexSettings.of(index)
        if depth == 0 and reader is not None:
            check_read(reader, index.name, settings.readers)
        own = (settings.policy,)
        if index.kind is IndexKind.HOSTED:
            found = await run_in_threadpool(self._hosted, index.name, name, serving)
        elif index.kind is IndexKind.MIRROR:
            found = await self._mirrored(index, name, serving)
        else:
            found = await self._virtual(index, settings, name, serving, depth, reader)
        if found is not None:
            if depth > 0 and reader is not None:
                check_read(reader, index.name, settings.readers)
            found.checked.append(index.name)
            found.public = found.public and settings.readers.anonymous
            if not settings.policy.is_empty():  # an empty policy changes no verdict
                found.files = _extend_chains(found.files, own)
        return found

    def _hosted(self, index: str, name: NormalizedName, serving: str) -> _Found | None:
        with self._uow(readonly=True) as uow:
            project = uow.projects.get(index, name)
            files = uow.files.for_project(index, name) if project else ()
        if project is None:
            return None
        return _Found(
            display_name=project.display_name,
            last_serial=project.last_serial,
            files=[(self._from_hosted(f, serving), ()) for f in files],
            answered_by=[index],
        )

    async def _mirrored(self, index: Index, name: NormalizedName, serving: str) -> _Found | None:
        state = await self._mirror.project(index, name)
        if state is None or not state.project.exists:
            return None
        return _Found(
            display_name=state.project.display_name,
            last_serial=state.project.last_serial,
            files=[(self._from_mirror(f, serving), ()) for f in state.files],
            answered_by=[index.name],
            expires_at=state.expires_at,
            stale=state.stale,
        )

    async def _virtual(
        self,
        index: Index,
        settings: IndexSettings,
        name: NormalizedName,
        serving: str,
        depth: int,
        reader: Principal | None,
    ) -> _Found | None:
        if depth > 8:
            return None  # a cycle of virtual indexes; index set refuses them, this is a guard
        merged: _Found | None = None
        for member_name in settings.members:
            member = await self._below(member_name, index)
            if member is None:
                continue
            if merged is not None and name not in settings.merge:
                if await self._has(member, name, depth + 1):
                    merged.shadowed.append(member_name)
                continue
            found = await self._find(member, name, serving=serving, depth=depth + 1, reader=reader)
            if found is None:
                continue
            if merged is None:
                merged = found
                continue
            seen = {file.filename for file, _ in merged.files}
            merged.files += [(f, p) for f, p in found.files if f.filename not in seen]
            merged.answered_by += found.answered_by
            merged.last_serial = max(merged.last_serial, found.last_serial)
            merged.stale = merged.stale or found.stale
            merged.public = merged.public and found.public
            merged.checked += found.checked
            merged.expires_at = _earliest(merged.expires_at, found.expires_at)
        return merged

    async def _has(self, index: Index, name: NormalizedName, depth: int) -> bool:
        """Whether a shadowed member has the project, for +explain; never fetches upstream."""
        if index.kind is IndexKind.VIRTUAL:
            settings = IndexSettings.of(index)
            for member_name in settings.members:
                member = await self._below(member_name, index)
                if member is not None and depth < 8 and await self._has(member, name, depth + 1):
                    return True
            return False
        return await run_in_threadpool(self._has_stored, index, name)

    def _has_stored(self, index: Index, name: NormalizedName) -> bool:
        with self._uow(readonly=True) as uow:
            if index.kind is IndexKind.HOSTED:
                return uow.projects.get(index.name, name) is not None
            cached = uow.mirror.get_project(index.name, name)
            return cached is not None and cached.exists

    def _from_hosted(self, f: DistFile, serving: str) -> Listed:
        return Listed.of_hosted(f, self.file_url(serving, f.filename, f.digests.sha256))

    def _from_mirror(self, f: MirrorFile, serving: str) -> Listed:
        # Positional: this runs for every file of a mirrored project's page.
        return Listed(
            f.filename,
            f.version,
            self.file_url(serving, f.filename, f.sha256),
            f.sha256,
            f.size,
            f.upload_time,
            f.requires_python,
            f.yanked,
            f.yanked_reason,
            f.metadata_sha256,
            f.serves_metadata,
            f.index,
            True,
            f.first_seen,
        )

    async def locate(
        self, serving: Index, filename: str, *, reader: Principal | None = None
    ) -> Located:
        """Find a file the way `serving` lists it; a file its policies remove is refused
        (Forbidden, naming the rule), one it does not list is NotFound."""
        try:
            name = parse_filename(filename, allow_legacy=True).name
        except InvalidInput as exc:
            raise NotFound(f"There is no file {filename} in index {serving.name!r}") from exc
        view = await self.project(serving, name, reader=reader)
        listed = next((f for f in view.files if f.filename == filename), None) if view else None
        if listed is None:
            why = dict(view.removed).get(filename) if view else None
            if why is not None:
                raise Forbidden(f"{filename} is not available from index {serving.name!r}: {why}")
            raise NotFound(f"There is no file {filename} in index {serving.name!r}")
        source = await self._below(listed.source, serving)
        if source is None:
            raise NotFound(f"There is no file {filename} in index {serving.name!r}")
        located = await run_in_threadpool(self._located, name, listed, source)
        assert view is not None
        return replace(located, public=view.public, expires_at=view.expires_at)

    def _located(self, name: NormalizedName, listed: Listed, source: Index) -> Located:
        with self._uow(readonly=True) as uow:
            if source.kind is IndexKind.HOSTED:
                hosted = uow.files.get(source.name, listed.filename)
                if hosted is not None:
                    return Located(listed, source, hosted=hosted)
            else:
                mirrored = uow.mirror.get_file(source.name, name, listed.filename)
                if mirrored is not None:
                    return Located(listed, source, mirrored=mirrored)
        raise NotFound(f"There is no file {listed.filename} in index {source.name!r}")

    async def reachable(self, index: Index, depth: int = 0) -> list[Index]:
        """The index and every index below it (members of members)."""
        found = [index]
        if index.kind is IndexKind.VIRTUAL and depth < 8:
            for member_name in IndexSettings.of(index).members:
                member = await self._below(member_name, index)
                if member is not None:
                    found += await self.reachable(member, depth + 1)
        return found

    async def recheck_after(self, index: Index, depth: int = 0) -> timedelta | None:
        """How long "not found" holds: the shortest TTL of the mirrors behind the index."""
        settings = IndexSettings.of(index)
        if index.kind is IndexKind.MIRROR:
            return settings.ttl
        if index.kind is IndexKind.HOSTED or depth > 8:
            return None
        ttls = []
        for member_name in settings.members:
            member = await self._below(member_name, index)
            ttl = await self.recheck_after(member, depth + 1) if member else None
            if ttl is not None:
                ttls.append(ttl)
        return min(ttls, default=None)

    async def project_names(
        self, index: Index, depth: int = 0, *, reader: Principal | None = None
    ) -> Sequence[tuple[str, str]]:
        """(normalised, display) names the index lists at /simple/: a mirror lists what it
        has cached, a virtual index the union of the members the reader may read."""
        if reader is not None:
            readers = IndexSettings.of(index).readers
            if depth == 0:
                check_read(reader, index.name, readers)
            elif not _may_read(reader, index.name, readers):
                return []
        if index.kind is not IndexKind.VIRTUAL:
            return await run_in_threadpool(self._stored_names, index)
        names: dict[str, str] = {}
        for member_name in IndexSettings.of(index).members:
            member = await self._below(member_name, index)
            if member is not None and depth < 8:
                for name, display in await self.project_names(member, depth + 1, reader=reader):
                    names.setdefault(name, display)
        return sorted(names.items())

    def _stored_names(self, index: Index) -> list[tuple[str, str]]:
        with self._uow(readonly=True) as uow:
            if index.kind is IndexKind.HOSTED:
                return [(p.name, p.display_name) for p in uow.projects.list(index.name)]
            return [(p.name, p.display_name) for p in uow.mirror.list_projects(index.name)]


def _may_read(reader: Principal, index: str, readers: Audience) -> bool:
    try:
        check_read(reader, index, readers)
    except (Unauthorized, Forbidden):
        return False
    return True


def _extend_chains(
    files: list[tuple[Listed, tuple[Policy, ...]]], own: tuple[Policy, ...]
) -> list[tuple[Listed, tuple[Policy, ...]]]:
    """Each file's policy chain with `own` appended; files that shared a chain share the
    extended one."""
    extend = _per_chain(lambda chain: (*chain, *own))
    return [(file, extend(policies)) for file, policies in files]


def _per_chain(work: Callable[[tuple[Policy, ...]], T]) -> Callable[[tuple[Policy, ...]], T]:
    """`work` memoised by the identity of the chain it is given. A member's files share
    one chain object (see _find), and hashing a tuple of policies per file of a big page
    costs more than the rest of its work; the chains outlive the memo, so ids are stable."""
    done: dict[int, T] = {}

    def memoised(chain: tuple[Policy, ...]) -> T:
        key = id(chain)
        if key not in done:
            done[key] = work(chain)
        return done[key]

    return memoised


def _candidate(name: NormalizedName, file: Listed) -> Candidate:
    return Candidate(
        project=name,
        version=file.version,
        filename=file.filename,
        mirrored=file.mirrored,
        published_at=file.upload_time,
        first_seen=file.first_seen,
    )


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)
