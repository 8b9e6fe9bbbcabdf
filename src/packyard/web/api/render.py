"""Domain objects to response bodies, field by field (no secret can ride along)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packyard.adapters.upstream import redact
from packyard.domain.durations import format_duration
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import DistFile, Index, IndexKind, ProjectRole, Team, Token, User
from packyard.web.api import schemas


def index_out(index: Index, *, default: str | None) -> schemas.IndexOut:
    settings = IndexSettings.of(index)
    policy = settings.policy
    mirror = settings.kind is IndexKind.MIRROR
    return schemas.IndexOut(
        name=index.name,
        kind=index.kind,
        default=index.name == default,
        readers=settings.readers.text,
        uploaders=settings.uploaders.text,
        upstream=redact(settings.upstream) if settings.upstream else None,
        ttl=format_duration(settings.ttl) if mirror else None,
        offline=settings.offline if mirror else None,
        members=list(settings.members),
        merge=sorted(settings.merge),
        policy=schemas.PolicyOut(
            allow=[rule.text for rule in policy.allow],
            deny=[rule.text for rule in policy.deny],
            min_age=format_duration(policy.min_age) if policy.min_age else None,
            exemptions=[
                schemas.ExemptionOut(
                    project=e.project,
                    reason=e.reason,
                    created_by=e.created_by,
                    created_at=e.created_at,
                    expires_at=e.expires_at,
                )
                for e in policy.exemptions
            ],
        ),
        claims=[
            schemas.ClaimOut(project=c.project, by=c.by, reason=c.reason, at=c.at)
            for c in settings.claims.values()
        ],
    )


def user_out(user: User) -> schemas.UserOut:
    return schemas.UserOut(
        name=user.name, admin=user.is_admin, disabled=user.disabled, created=user.created
    )


def team_out(team: Team) -> schemas.TeamOut:
    return schemas.TeamOut(name=team.name, members=list(team.members), created=team.created)


def _token_fields(token: Token) -> dict[str, Any]:
    return {
        "id": token.id,
        "prefix": token.prefix,
        "user": token.user,
        "scopes": sorted(token.scopes),
        "indexes": list(token.indexes),
        "projects": list(token.projects),
        "expires_at": token.expires_at,
        "description": token.description,
        "created": token.created,
        "last_used": token.last_used,
    }


def token_out(token: Token) -> schemas.TokenOut:
    return schemas.TokenOut(**_token_fields(token))


def created_token_out(token: Token, secret: str) -> schemas.CreatedToken:
    return schemas.CreatedToken(**_token_fields(token), secret=secret)


def role_out(role: ProjectRole) -> schemas.RoleOut:
    return schemas.RoleOut(principal=role.principal, role=role.role)


def file_out(file: DistFile) -> schemas.FileOut:
    return schemas.FileOut(
        filename=file.filename,
        version=file.version,
        yanked=file.yanked,
        yanked_reason=file.yanked_reason,
    )


def audit_row(row: Mapping[str, Any]) -> schemas.AuditRow:
    return schemas.AuditRow.model_validate(dict(row))
