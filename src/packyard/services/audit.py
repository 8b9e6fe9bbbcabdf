"""The audit log: events, and downloads counted per day, file and principal.

Downloads are too many to log one by one: they are aggregated in memory and written in
batches (every few seconds, and at shutdown), as one counter per (day, file, principal).
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from packyard.domain.access import Principal
from packyard.domain.models import DownloadCount, Event
from packyard.domain.names import NormalizedName, normalize
from packyard.ports import Clock, UnitOfWorkFactory

DOWNLOAD = "download"


def principal_label(who: Principal) -> str:
    if who.token is not None:
        return f"token:{who.token.id} ({who.name})"
    return f"user:{who.name}" if who.authenticated else "anonymous"


class DownloadRecorder:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._pending: Counter[tuple[datetime, str, NormalizedName, str, str, str]] = Counter()
        self._lock = threading.Lock()

    def record(
        self, *, who: Principal, index: str, project: str, version: str, filename: str
    ) -> None:
        now = self._clock.now().astimezone(UTC)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        key = (day, index, normalize(project), version, filename, principal_label(who))
        with self._lock:
            self._pending[key] += 1

    def flush(self) -> int:
        with self._lock:
            pending, self._pending = self._pending, Counter()
        if not pending:
            return 0
        counts = [
            DownloadCount(day, index, project, version, filename, principal, count)
            for (day, index, project, version, filename, principal), count in pending.items()
        ]
        with self._uow() as uow:
            uow.audit.add_downloads(counts)
            uow.commit()
        return len(counts)


def audit_report(
    *,
    uow_factory: UnitOfWorkFactory,
    since: datetime | None = None,
    project: str | None = None,
    version: str | None = None,
    user: str | None = None,
    action: str | None = None,
    index: str | None = None,
    limit: int = 10_000,
) -> list[dict[str, Any]]:
    """Events and download counters matching the filters, newest first, as plain rows."""
    name = normalize(project) if project else None
    rows: list[dict[str, Any]] = []
    with uow_factory(readonly=True) as uow:
        if action in (None, DOWNLOAD):
            for count in uow.audit.downloads(
                since=since, index=index, project=name, version=version
            ):
                if user is None or _label_is_user(count.principal, user):
                    rows.append(_download_row(count))
        if action != DOWNLOAD:
            events = uow.audit.query(
                since=since, index=index, project=name, version=version, action=action, limit=limit
            )
            rows += [_event_row(e) for e in events if user is None or _actor_is_user(e, user)]
    rows.sort(key=lambda row: row["time"], reverse=True)
    return rows[:limit]


def _actor_is_user(event: Event, user: str) -> bool:
    return event.actor == user or event.actor.startswith(f"{user} (token ")


def _label_is_user(label: str, user: str) -> bool:
    return label == f"user:{user}" or (label.startswith("token:") and label.endswith(f"({user})"))


def _event_row(event: Event) -> dict[str, Any]:
    return {
        "time": event.time.isoformat() if event.time else "",
        "action": event.action,
        "actor": event.actor,
        "address": event.address,
        "index": event.index,
        "project": event.project,
        "version": event.version,
        "filename": event.filename,
        "detail": event.data or None,
        "serial": event.serial,
    }


def _download_row(count: DownloadCount) -> dict[str, Any]:
    return {
        "time": count.day.isoformat(),
        "action": DOWNLOAD,
        "actor": count.principal,
        "address": None,
        "index": count.index,
        "project": count.project,
        "version": count.version,
        "filename": count.filename,
        "detail": {"count": count.count, "per": "day"},
    }
