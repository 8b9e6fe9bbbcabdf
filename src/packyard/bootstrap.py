"""Wires adapters into services: the one place where concrete classes are chosen."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from packyard.adapters.blobs.local import LocalFileStore
from packyard.adapters.db.engine import create_engine_for
from packyard.adapters.db.migrate import upgrade
from packyard.adapters.db.serials import SqlSerialReader
from packyard.adapters.db.uow import SqlUnitOfWorkFactory
from packyard.adapters.upstream import pip_default_index
from packyard.config import Settings
from packyard.domain.errors import Conflict
from packyard.ports import FileStore, SerialReader, UnitOfWorkFactory
from packyard.services.audit import DownloadRecorder
from packyard.services.auth import Authenticator, LoginThrottle, ThrottleSettings
from packyard.services.catalog import Catalog
from packyard.services.indexes import ensure_initial_indexes
from packyard.services.mirror import MirrorService, Upstreams


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    uow: UnitOfWorkFactory
    files: FileStore
    serials: SerialReader
    clock: SystemClock
    auth: Authenticator
    mirror: MirrorService
    catalog: Catalog
    downloads: DownloadRecorder

    def close(self) -> None:
        self.engine.dispose()


def upstream_for_new_store(settings: Settings) -> str | None:
    """A fresh store's mirror upstream: the setting, else the index pip uses here."""
    if settings.upstream_url is not None:
        return None if settings.upstream_url.lower() == "none" else settings.upstream_url
    return pip_default_index()


def bootstrap(settings: Settings, *, migrate: bool = True) -> Container:
    """Build everything from settings; with migrate, bring the schema and seed data up to
    date (idempotent, safe from several processes)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine_for(settings.effective_database_url)
    if migrate:
        upgrade(engine)
    uow = SqlUnitOfWorkFactory(engine)
    if migrate:
        try:
            with uow() as unit:
                ensure_initial_indexes(unit, upstream=lambda: upstream_for_new_store(settings))
                unit.commit()
        except Conflict:
            pass  # another process seeded the store at the same moment
    files = LocalFileStore(settings.blob_dir)
    clock = SystemClock()
    mirror = MirrorService(
        uow_factory=uow,
        files=files,
        clock=clock,
        upstreams=Upstreams(
            timeout=settings.upstream_timeout, connections=settings.upstream_connections
        ),
    )
    prefix = settings.url_prefix

    def file_url(index: str, filename: str, sha256: str | None) -> str:
        return f"{prefix}/{index}/+f/{sha256 or '_'}/{filename}"

    return Container(
        settings=settings,
        engine=engine,
        uow=uow,
        files=files,
        serials=SqlSerialReader(engine),
        clock=clock,
        auth=Authenticator(
            uow,
            clock,
            throttle=LoginThrottle(
                ThrottleSettings(
                    max_failures=settings.login_failure_limit,
                    window_seconds=settings.login_failure_window,
                )
            ),
        ),
        mirror=mirror,
        catalog=Catalog(uow_factory=uow, mirror=mirror, clock=clock, file_url=file_url),
        downloads=DownloadRecorder(uow, clock),
    )
