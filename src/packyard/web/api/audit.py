"""/audit: who did what, when, from where; downloads counted per day, file and caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from packyard.domain.durations import parse_duration
from packyard.services.audit import audit_report
from packyard.web.api import render
from packyard.web.api.schemas import AuditRow, Duration, errors
from packyard.web.api.security import Admin, Store

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "",
    operation_id="queryAudit",
    summary="Query the audit log, newest first (admin)",
    responses=errors(400),
)
def query_audit(
    who: Admin,
    container: Store,
    since: Annotated[Duration | None, Query(description="Only this recent, e.g. 30d")] = None,
    project: str | None = None,
    version: str | None = None,
    user: Annotated[str | None, Query(description="What this user or their tokens did")] = None,
    action: Annotated[str | None, Query(examples=["download", "file_uploaded"])] = None,
    index: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[AuditRow]:
    window = parse_duration(since) if since else None
    rows = audit_report(
        uow_factory=container.uow,
        since=container.clock.now() - window if window else None,
        project=project,
        version=version,
        user=user,
        action=action,
        index=index,
        limit=limit,
    )
    return [render.audit_row(row) for row in rows]
