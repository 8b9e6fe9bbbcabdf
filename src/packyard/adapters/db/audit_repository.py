"""The audit log on SQLAlchemy Core: queries over the event log, per-day download counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from packyard.adapters.db._mapping import to_event
from packyard.adapters.db.repositories import _insert
from packyard.adapters.db.tables import as_utc, download_counts, events
from packyard.domain.models import DownloadCount, Event
from packyard.domain.names import NormalizedName, normalize


def day_of(moment: datetime) -> datetime:
    """00:00 UTC of the day `moment` falls on: the download counters' bucket."""
    return as_utc(moment).replace(hour=0, minute=0, second=0, microsecond=0)


class SqlAuditLog:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

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
        """Events at or after `since`, newest first; `project` matches any spelling."""
        conditions: list[Any] = []
        if since is not None:
            conditions.append(events.c.time >= as_utc(since))
        for column, value in (
            (events.c.index_name, index),
            (events.c.project, None if project is None else normalize(project)),
            (events.c.version, version),
            (events.c.actor, actor),
            (events.c.action, action),
        ):
            if value is not None:
                conditions.append(column == value)
        rows = self._connection.execute(
            select(events)
            .where(*conditions)
            .order_by(events.c.time.desc(), events.c.id.desc())
            .limit(limit)
        )
        return [to_event(row) for row in rows]

    def add_downloads(self, counts: Sequence[DownloadCount]) -> None:
        """Upsert the counters. Keys are summed first and written in sorted order, so one
        statement never touches a row twice and concurrent batches cannot deadlock."""
        totals: Counter[tuple[datetime, str, str, str]] = Counter()
        names: dict[str, tuple[str, str]] = {}
        for count in counts:
            totals[day_of(count.day), count.index, count.filename, count.principal] += count.count
            names[count.filename] = (count.project, count.version)
        if not totals:
            return
        statement = _insert(self._connection, download_counts)
        statement = statement.on_conflict_do_update(
            index_elements=[
                download_counts.c.day,
                download_counts.c.index_name,
                download_counts.c.filename,
                download_counts.c.principal,
            ],
            set_={"count": download_counts.c.count + statement.excluded["count"]},
        )
        rows = [
            {
                "day": day,
                "index_name": index,
                "project": names[filename][0],
                "version": names[filename][1],
                "filename": filename,
                "principal": principal,
                "count": total,
            }
            for (day, index, filename, principal), total in sorted(totals.items())
        ]
        self._connection.execute(statement, rows)

    def downloads(
        self,
        *,
        since: datetime | None = None,
        index: str | None = None,
        project: str | None = None,
        version: str | None = None,
        principal: str | None = None,
    ) -> Sequence[DownloadCount]:
        """Counters of the day of `since` onwards (whole days: counts are per day), newest
        day first, then by index, filename and principal."""
        conditions: list[Any] = []
        if since is not None:
            conditions.append(download_counts.c.day >= day_of(since))
        for column, value in (
            (download_counts.c.index_name, index),
            (download_counts.c.project, None if project is None else normalize(project)),
            (download_counts.c.version, version),
            (download_counts.c.principal, principal),
        ):
            if value is not None:
                conditions.append(column == value)
        rows = self._connection.execute(
            select(download_counts)
            .where(*conditions)
            .order_by(
                download_counts.c.day.desc(),
                download_counts.c.index_name,
                download_counts.c.filename,
                download_counts.c.principal,
            )
        )
        return [
            DownloadCount(
                day=row.day,
                index=row.index_name,
                project=NormalizedName(row.project),
                version=row.version,
                filename=row.filename,
                principal=row.principal,
                count=row._mapping["count"],  # Row.count is tuple.count
            )
            for row in rows
        ]
