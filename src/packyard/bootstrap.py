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
from packyard.config import Settings
from packyard.domain.errors import Conflict
from packyard.ports import FileStore, SerialReader, UnitOfWorkFactory
from packyard.services.indexes import ensure_initial_indexes
from packyard.services.users import Authenticator


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

    def close(self) -> None:
        self.engine.dispose()


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
                ensure_initial_indexes(unit)
                unit.commit()
        except Conflict:
            pass  # another process seeded the store at the same moment
    return Container(
        settings=settings,
        engine=engine,
        uow=uow,
        files=LocalFileStore(settings.blob_dir),
        serials=SqlSerialReader(engine),
        clock=SystemClock(),
        auth=Authenticator(uow),
    )
