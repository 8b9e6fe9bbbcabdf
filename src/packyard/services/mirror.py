"""Mirror indexes: a pull-through cache of an upstream simple index.

Pages are fetched on demand, kept for the index's TTL and revalidated with ETags; files
are fetched on first download, verified against the upstream's sha256 and then served
locally for good. When the upstream fails, what is cached is served stale.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import Counter
from starlette.concurrency import run_in_threadpool

from packyard.adapters.archives import mirrored_wheel_metadata
from packyard.adapters.upstream import (
    Fetched,
    Missing,
    PageResult,
    UpstreamClient,
    UpstreamError,
    UpstreamFile,
    UpstreamUnavailable,
    redact,
)
from packyard.domain.errors import InvalidArchive, InvalidInput, NotFound
from packyard.domain.filenames import listing_version
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import Event, Index, IndexKind, MirrorFile, MirrorProject
from packyard.domain.names import NormalizedName
from packyard.logs import get_logger
from packyard.ports import Clock, FileStore, UnitOfWorkFactory
from packyard.services.changes import record_change
from packyard.services.single_flight import SingleFlight

log = get_logger("packyard.mirror")
STALE_SERVED = Counter(
    "packyard_mirror_stale_total", "Pages served stale because the upstream failed", ["index"]
)
UPSTREAM_FETCHES = Counter(
    "packyard_mirror_upstream_fetches_total", "Requests sent upstream", ["index", "kind"]
)
# After an upstream failure, how soon a stale page is tried upstream again.
STALE_RETRY = timedelta(seconds=30)
CHUNK_QUEUE = 64
WRITE_BUFFER = 1024 * 1024


@dataclass(frozen=True)
class MirrorState:
    project: MirrorProject
    files: tuple[MirrorFile, ...]
    expires_at: datetime
    stale: bool = False


class Upstreams:
    """One HTTP client per upstream URL, shared by all requests of this process."""

    def __init__(self, *, timeout: float, connections: int = 8, transport: Any = None) -> None:
        self._timeout = timeout
        self._connections = connections
        self._transport = transport
        self._clients: dict[str, UpstreamClient] = {}

    def client(self, url: str) -> UpstreamClient:
        if url not in self._clients:
            self._clients[url] = UpstreamClient(
                url,
                timeout=self._timeout,
                connections=self._connections,
                transport=self._transport,
            )
        return self._clients[url]

    @property
    def opened(self) -> tuple[str, ...]:
        """The upstream URLs that have a client already."""
        return tuple(self._clients)

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()


class MirrorService:
    def __init__(
        self,
        *,
        uow_factory: UnitOfWorkFactory,
        files: FileStore,
        clock: Clock,
        upstreams: Upstreams,
    ) -> None:
        self._uow = uow_factory
        self._files = files
        self._clock = clock
        self._upstreams = upstreams
        self._pages = SingleFlight()
        self._downloads = SingleFlight()

    def prepare(self) -> None:
        """Build the upstream clients of every mirror index now: a client loads the CA store
        and imports the HTTP stack, a quarter of a second of CPU that would otherwise land
        on the first requests of a cold install."""
        with self._uow(readonly=True) as uow:
            indexes = uow.indexes.list()
        for index in indexes:
            settings = IndexSettings.of(index)
            if settings.kind is IndexKind.MIRROR and settings.upstream:
                self._upstreams.client(settings.upstream)

    # Project pages

    async def project(self, index: Index, name: NormalizedName) -> MirrorState | None:
        """The project as the mirror knows it, refreshed when older than the TTL.

        None when nothing is known and the index is offline."""
        settings = IndexSettings.of(index)
        cached, files = await run_in_threadpool(self._load, index.name, name)
        now = self._clock.now()
        if cached is not None and (settings.offline or cached.fetched_at + settings.ttl > now):
            return MirrorState(cached, tuple(files), cached.fetched_at + settings.ttl)
        if settings.offline:
            return None
        return await self._pages.run(
            ("page", index.name, name), lambda: self._refresh(index, settings, name, cached)
        )

    async def refresh(self, index: Index, name: NormalizedName) -> MirrorState:
        """Revalidate the project with the upstream now, whatever its age."""
        settings = IndexSettings.of(index)
        cached, _ = await run_in_threadpool(self._load, index.name, name)
        return await self._pages.run(
            ("page", index.name, name), lambda: self._refresh(index, settings, name, cached)
        )

    def cached_projects(self, index: str) -> Sequence[MirrorProject]:
        with self._uow(readonly=True) as uow:
            return uow.mirror.list_projects(index)

    def _load(
        self, index: str, name: NormalizedName
    ) -> tuple[MirrorProject | None, Sequence[MirrorFile]]:
        with self._uow(readonly=True) as uow:
            project = uow.mirror.get_project(index, name)
            return project, (uow.mirror.files(index, name) if project else ())

    async def _refresh(
        self,
        index: Index,
        settings: IndexSettings,
        name: NormalizedName,
        cached: MirrorProject | None,
    ) -> MirrorState:
        upstream = self._upstream_url(index, settings)
        etag = cached.etag if cached is not None and cached.exists else None
        UPSTREAM_FETCHES.labels(index.name, "page").inc()
        try:
            result = await self._upstreams.client(upstream).fetch_project(name, etag=etag)
        except UpstreamError as exc:
            if cached is None:
                raise
            STALE_SERVED.labels(index.name).inc()
            log.warning(
                "upstream failed, serving the cached page",
                index=index.name,
                project=name,
                upstream=redact(upstream),
                error=str(exc),
            )
            _, files = await run_in_threadpool(self._load, index.name, name)
            retry = self._clock.now() + min(STALE_RETRY, settings.ttl)
            return MirrorState(cached, tuple(files), retry, stale=True)
        return await run_in_threadpool(self._store, index.name, settings, name, result)

    def _store(
        self, index: str, settings: IndexSettings, name: NormalizedName, result: PageResult
    ) -> MirrorState:
        now = self._clock.now()
        before, known_files = self._load(index, name)
        known = {f.filename: f for f in known_files}
        # Work out the new listing before taking the write lock: writers queue on it
        # (SQLite), and an install asks for dozens of projects at once.
        listing: list[MirrorFile] | None = None  # None: the stored listing stands
        if isinstance(result, Fetched):
            listed = (
                _to_mirror_file(index, name, f, known.get(f.filename), now)
                for f in result.project.files
            )
            fresh = [f for f in listed if f is not None]
            names = {f.filename for f in fresh}
            kept = [f for n, f in known.items() if n not in names and f.cached]
            changed = len(known) != len(fresh) + len(kept) or any(
                f.filename not in known or _listing(f) != _listing(known[f.filename]) for f in fresh
            )
            files = [*fresh, *kept]
            project = MirrorProject(index, name, result.project.name, now, True, result.etag)
            if changed or before is None:
                listing = fresh
        elif isinstance(result, Missing):
            # Files already here stay listed and downloadable after the upstream drops the
            # whole project; without any, the project is gone.
            files = [f for f in known.values() if f.cached]
            display = before.display_name if before else name
            project = MirrorProject(index, name, display, now, exists=bool(files))
            dropped = len(files) != len(known)
            changed = before is not None and before.exists and (dropped or not files)
            listing = [] if known else None
        else:  # not modified: only the freshness moves on
            assert before is not None
            files = list(known_files)
            project, changed = replace(before, fetched_at=now), False
        if before is not None:
            project = replace(project, last_serial=before.last_serial)
        with self._uow() as uow:
            # First, so that encoding a big listing happens before the transaction takes
            # the write lock (SQLite: at the first statement).
            uow.mirror.save_project(project, listing)
            if changed:
                event = Event(action="mirror_refreshed", actor="mirror", index=index, project=name)
                # A first fetch changes no page anyone holds (only this project's, and
                # not-found entries expire with the TTL): bumping the index serial would
                # throw away every cached page of the index while an install fetches dozens
                # of projects at once. Later changes do invalidate.
                serial = uow.events.append(event) if before is None else record_change(uow, event)
                project = replace(project, last_serial=serial)
                uow.mirror.save_project(project)
            uow.commit()
        return MirrorState(project, tuple(files) if project.exists else (), now + settings.ttl)

    def _upstream_url(self, index: Index, settings: IndexSettings) -> str:
        if not settings.upstream:
            raise InvalidInput(f"Mirror index {index.name!r} has no upstream URL configured")
        return settings.upstream

    # Files and metadata sidecars

    async def ensure_file(self, index: Index, file: MirrorFile) -> str:
        """The blob key of a mirrored file, fetching it first if it is not here yet."""
        if file.cached and file.sha256 and await run_in_threadpool(self._files.exists, file.sha256):
            return file.sha256
        return await self._downloads.run(
            ("file", index.name, file.filename), lambda: self._download(index, file, None)
        )

    async def stream_file(self, index: Index, file: MirrorFile) -> AsyncIterator[bytes]:
        """Yield the file's bytes as they arrive from upstream while it is stored; a second
        caller during the fetch waits for it and reads the stored copy."""
        key = ("file", index.name, file.filename)
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(CHUNK_QUEUE)
        listener = _Listener(queue)
        task, leader = self._downloads.start(key, lambda: self._download(index, file, listener))
        if leader:
            sent = 0
            try:
                while (chunk := await queue.get()) is not None:
                    sent += len(chunk)
                    yield chunk
                blob = await asyncio.shield(task)  # raises if verification failed: a cut body
            finally:
                listener.detached = True
            if sent:
                return
            # Nothing came through: a fetch that just finished had stored it already.
        else:
            blob = await asyncio.shield(task)
        async for chunk in self._read_blob(blob):
            yield chunk

    async def _read_blob(self, key: str) -> AsyncIterator[bytes]:
        source = await run_in_threadpool(self._files.open, key)
        try:
            while chunk := await run_in_threadpool(source.read, 1024 * 1024):
                yield chunk
        finally:
            source.close()

    async def _download(self, index: Index, file: MirrorFile, listener: _Listener | None) -> str:
        # The caller's record may predate a fetch that has finished since: look again.
        stored = await run_in_threadpool(self._stored_key, file)
        if stored is not None:
            if listener is not None:
                await listener.close()
            return stored
        settings = IndexSettings.of(index)
        if settings.offline:
            raise NotFound(f"{file.filename} is not cached and index {index.name!r} is offline")
        client = self._upstreams.client(self._upstream_url(index, settings))
        staging = self._files.staging_dir()
        staging.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=staging, prefix="mirror-")
        path = Path(name)
        digest = hashlib.sha256()
        size = 0
        UPSTREAM_FETCHES.labels(index.name, "file").inc()
        try:
            # Written in the loop, through a 1 MiB buffer: a trip to a worker thread per
            # network chunk (16 KiB) cost more than the write, which reaches the disk once
            # per MiB.
            with os.fdopen(fd, "wb", buffering=WRITE_BUFFER) as handle:
                async with client.stream_file(file.upstream_url) as chunks:
                    async for chunk in chunks:
                        digest.update(chunk)
                        size += len(chunk)
                        handle.write(chunk)
                        if listener is not None:
                            await listener.send(chunk)
            sha256 = digest.hexdigest()
            if file.sha256 is not None and sha256 != file.sha256:
                raise UpstreamUnavailable(
                    f"{file.filename} from upstream has sha256 {sha256}, but the upstream "
                    f"lists {file.sha256}; it was not stored"
                )
            await run_in_threadpool(self._files.put_path, sha256, path)
            await run_in_threadpool(self._mark_cached, file, sha256, size)
            return sha256
        finally:
            path.unlink(missing_ok=True)
            if listener is not None:
                await listener.close()

    def _stored_key(self, file: MirrorFile) -> str | None:
        with self._uow(readonly=True) as uow:
            current = uow.mirror.get_file(file.index, file.project, file.filename)
        if current is None or not current.cached or current.sha256 is None:
            return None
        return current.sha256 if self._files.exists(current.sha256) else None

    def _mark_cached(self, file: MirrorFile, sha256: str, size: int) -> None:
        with self._uow() as uow:
            uow.mirror.mark_cached(file, sha256=sha256, size=size)
            uow.commit()

    async def ensure_metadata(self, index: Index, file: MirrorFile) -> str:
        """The blob key of the file's core metadata sidecar, fetched on first request:
        the upstream's sidecar when it lists one, else the METADATA of the wheel itself
        (fetched first if need be)."""
        if file.metadata_cached and file.metadata_sha256:
            return file.metadata_sha256
        if not file.serves_metadata:
            raise NotFound(f"{file.filename} has no core metadata file")
        fetch = self._download_metadata if file.has_metadata else self._extract_metadata
        return await self._downloads.run(
            ("metadata", index.name, file.filename), lambda: fetch(index, file)
        )

    async def _extract_metadata(self, index: Index, file: MirrorFile) -> str:
        key = await self.ensure_file(index, file)

        def extract_and_store() -> str:
            with self._files.open(key) as source:
                try:
                    data = mirrored_wheel_metadata(source, file.filename, self._files.size(key))
                except InvalidArchive as exc:
                    raise UpstreamUnavailable(
                        f"the upstream's wheel has no core metadata to serve: {exc}"
                    ) from exc
            return self._store_metadata(file, data)

        return await run_in_threadpool(extract_and_store)

    def _store_metadata(self, file: MirrorFile, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        self._files.put_bytes(sha256, data)
        with self._uow() as uow:
            uow.mirror.mark_metadata_cached(file, sha256=sha256)
            uow.commit()
        return sha256

    async def _download_metadata(self, index: Index, file: MirrorFile) -> str:
        settings = IndexSettings.of(index)
        if settings.offline:
            raise NotFound(f"{file.filename}.metadata is not cached; index is offline")
        client = self._upstreams.client(self._upstream_url(index, settings))
        body = bytearray()
        async with client.stream_file(file.upstream_url + ".metadata") as chunks:
            async for chunk in chunks:
                body.extend(chunk)
        sha256 = hashlib.sha256(body).hexdigest()
        if file.metadata_sha256 is not None and sha256 != file.metadata_sha256:
            raise UpstreamUnavailable(
                f"{file.filename}.metadata from upstream does not match its listed sha256"
            )
        return await run_in_threadpool(self._store_metadata, file, bytes(body))

    async def aclose(self) -> None:
        await self._upstreams.aclose()


class _Listener:
    """The first requester of an uncached file, fed chunks while the fetch stores them."""

    def __init__(self, queue: asyncio.Queue[bytes | None]) -> None:
        self.queue = queue
        self.detached = False

    async def send(self, chunk: bytes) -> None:
        if not self.detached:
            await self.queue.put(chunk)

    async def close(self) -> None:
        if not self.detached:
            await self.queue.put(None)


def _listing(file: MirrorFile) -> tuple[Any, ...]:
    return (
        file.upstream_url,
        file.sha256,
        file.requires_python,
        file.yanked,
        file.yanked_reason,
        file.metadata_sha256,
        file.has_metadata,
        file.upload_time,
    )


def _to_mirror_file(
    index: str,
    name: NormalizedName,
    upstream: UpstreamFile,
    known: MirrorFile | None,
    now: datetime,
) -> MirrorFile | None:
    version = listing_version(upstream.filename)
    if version is None:
        return None  # not an installable distribution name: not worth listing
    # Positional: this runs for every file of a listing (15,000 for some projects).
    # What the mirror learnt itself (first sight, a hash or size it measured, what it
    # stored) outlives an upstream that stops saying it.
    return MirrorFile(
        index,
        name,
        upstream.filename,
        version,
        upstream.url,
        known.first_seen if known else now,
        upstream.sha256 or (known.sha256 if known and known.cached else None),
        upstream.size if upstream.size is not None or known is None else known.size,
        upstream.upload_time,
        upstream.requires_python,
        upstream.yanked,
        upstream.yanked_reason,
        upstream.metadata_sha256
        or (known.metadata_sha256 if known and known.metadata_cached else None),
        upstream.has_metadata,
        known.cached if known else False,
        known.metadata_cached if known else False,
    )
