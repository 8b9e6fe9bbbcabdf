"""Engines for SQLite (the embedded default) and PostgreSQL (at scale)."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import OperationalError

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0

# Connection execution option read by the SQLite "begin" listener: "read" or "write".
SQLITE_MODE_OPTION = "packyard_sqlite_mode"


def sqlite_url_for(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'packyard.db'}"


def normalise_url(url: str) -> URL:
    """Parse `url`, pinning PostgreSQL to the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername not in ("postgresql", "postgresql+psycopg"):
            raise ValueError(
                f"unsupported PostgreSQL driver {parsed.drivername!r}: packyard uses psycopg 3 "
                "(write postgresql:// or postgresql+psycopg://)"
            )
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        return parsed
    raise ValueError(
        f"unsupported database URL {parsed.render_as_string()!r}: "
        "use sqlite:///path/to/packyard.db or postgresql://user@host/db"
    )


def create_engine_for(url: str) -> Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        # Recycle before typical proxy/firewall idle cut-offs drop the connection.
        pool_recycle=1800,
    )


SQLITE_POOL_SIZE = 40


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    file_backed = bool(database) and database != ":memory:" and not database.startswith("file:")
    if file_backed:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        # As many as the worker threads that may hold one (anyio's default limiter is
        # 40): beyond the pool, each connection is opened and set up per unit of work,
        # which a cold install did hundreds of times.
        pool_size=SQLITE_POOL_SIZE,
        max_overflow=10,
    )
    event.listen(engine, "connect", _on_sqlite_connect)
    writers = _WriterQueue(Path(database + "-writers.lock") if file_backed else None)
    event.listen(engine, "begin", writers.begin)
    event.listen(engine, "commit", writers.end)
    event.listen(engine, "rollback", writers.end)
    return engine


def _on_sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (which would BEGIN only
    # before DML and never for SELECT); _WriterQueue.begin emits BEGIN instead.
    dbapi_connection.isolation_level = None
    configure_sqlite_connection(dbapi_connection)


def configure_sqlite_connection(dbapi_connection: sqlite3.Connection) -> None:
    """Per-connection settings every packyard SQLite connection needs."""
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers proceed while one writer commits; it is persistent, so this
        # is a cheap no-op after the first connection.
        cursor.execute("PRAGMA journal_mode=WAL")
        # NORMAL is durable across application crashes in WAL mode; only a power loss
        # may lose the last transactions, never corrupt the database.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
    finally:
        cursor.close()


# Key in a pooled connection's info: whether PRAGMA query_only is ON on it.
_QUERY_ONLY = "packyard_query_only"


class _WriterQueue:
    """Write transactions take turns on locks before BEGIN IMMEDIATE: a thread lock
    within the process, a file lock between processes.

    SQLite's own busy handler polls with growing sleeps (up to 100 ms), so writers that
    only wait on it start late after the lock frees: thirty pages stored at once by an
    install took up to a second each for writes of milliseconds. The thread lock wakes
    the next writer at once; the file lock is polled every millisecond or two."""

    def __init__(self, lock_file: Path | None) -> None:
        self._lock = threading.RLock()
        self._lock_file = lock_file
        self._held: dict[int, int | None] = {}  # connection id -> its lock file descriptor

    def begin(self, connection: Connection) -> None:
        # A deferred BEGIN that later writes must upgrade its lock, and SQLite fails such
        # an upgrade at once (SQLITE_BUSY, no busy handler) when another writer is
        # active. Write units of work therefore start with BEGIN IMMEDIATE and queue.
        mode = connection.get_execution_options().get(SQLITE_MODE_OPTION)
        # A read-only unit of work that wrote would need that lock upgrade; query_only
        # makes such a write fail at once and always, not only under contention. The
        # pragma is sent only when it changes: it lasts as long as the pooled connection
        # (its info dict does too), and most units of work are reads (a cold install ran
        # 260 of them, each with a pragma on the way in).
        query_only = mode == "read"
        info = connection.connection.info
        if info.get(_QUERY_ONLY) is not query_only:
            connection.exec_driver_sql(f"PRAGMA query_only={'ON' if query_only else 'OFF'}")
            info[_QUERY_ONLY] = query_only
        if mode != "write":
            connection.exec_driver_sql("BEGIN")
            return
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
        if not self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_SECONDS):
            raise _locked()
        descriptor = None
        try:
            descriptor = self._lock_other_processes(deadline)
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._release(descriptor)
            raise
        self._held[id(connection)] = descriptor

    def end(self, connection: Connection) -> None:
        if id(connection) in self._held:
            self._release(self._held.pop(id(connection)))

    def _lock_other_processes(self, deadline: float) -> int | None:
        if self._lock_file is None:
            return None
        descriptor = os.open(self._lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        pause = 0.0005
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return descriptor
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(descriptor)
                    raise _locked() from None
                time.sleep(pause)
                pause = min(pause * 2, 0.002)

    def _release(self, descriptor: int | None) -> None:
        if descriptor is not None:
            os.close(descriptor)  # closing the descriptor drops its flock
        self._lock.release()


def _locked() -> OperationalError:
    return OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))
