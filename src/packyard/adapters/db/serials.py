"""The hot path's one read, an index's change serial, on a bare DB-API connection."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from typing import Any

import psycopg
from sqlalchemy import Engine

from packyard.adapters.db.engine import SQLITE_BUSY_TIMEOUT_SECONDS
from packyard.adapters.db.repositories import DEFAULT_INDEX_KEY


class SqlSerialReader:
    """Implements ports.SerialReader.

    Every simple-page request asks for a serial, so this skips SQLAlchemy altogether:
    one DB-API connection per thread (no pool checkout, no transaction bookkeeping), one
    statement on the unique index of indexes.name. Connections are in autocommit mode
    and each result is read to the end, so no read transaction outlives a call and a
    commit by any other process is visible to the next call.
    """

    def __init__(self, engine: Engine) -> None:
        self._url = engine.url
        self._backend = engine.dialect.name
        if self._backend not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database backend {self._backend!r}")
        placeholder = "?" if self._backend == "sqlite" else "%s"
        # One statement for "the default index and its serial": the /simple/ hot path.
        self._resolve_default = (
            "SELECT name, serial FROM indexes WHERE name = "
            f"(SELECT value FROM settings WHERE key = {placeholder})"
        )
        self._resolve_named = f"SELECT name, serial FROM indexes WHERE name = {placeholder}"
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[Any] = []

    def resolve(self, index: str | None) -> tuple[str, int] | None:
        if index is None:
            rows = self._fetch(self._resolve_default, DEFAULT_INDEX_KEY)
        else:
            rows = self._fetch(self._resolve_named, index)
        return (str(rows[0][0]), int(rows[0][1])) if rows else None

    def _fetch(self, query: str, parameter: str) -> list[Any]:
        connection = getattr(self._local, "connection", None) or self._connect()
        try:
            rows: list[Any] = connection.execute(query, (parameter,)).fetchall()
        except (sqlite3.OperationalError, psycopg.OperationalError, psycopg.InterfaceError):
            # A server restart or a dropped idle connection: reconnect once, then let a
            # persistent failure propagate.
            self._discard(connection)
            rows = self._connect().execute(query, (parameter,)).fetchall()
        return rows

    def close(self) -> None:
        """Close every thread's connection (at shutdown)."""
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    def _connect(self) -> Any:
        connection: Any
        if self._backend == "sqlite":
            connection = sqlite3.connect(
                self._url.database or "",
                timeout=SQLITE_BUSY_TIMEOUT_SECONDS,
                isolation_level=None,  # autocommit: no BEGIN, so no snapshot is held
                check_same_thread=False,  # so close() may run on another thread
            )
            connection.execute("PRAGMA query_only=ON")
        else:
            conninfo = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
            connection = psycopg.connect(conninfo, autocommit=True)
        with self._lock:
            self._connections.append(connection)
        self._local.connection = connection
        return connection

    def _discard(self, connection: Any) -> None:
        self._local.connection = None
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)
        # The connection is broken already; closing it is best effort.
        with contextlib.suppress(Exception):
            connection.close()
