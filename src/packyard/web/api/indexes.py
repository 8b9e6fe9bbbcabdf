"""/indexes: list, create, show and configure hosted, mirror and virtual indexes."""

from __future__ import annotations

from fastapi import APIRouter, status

from packyard.bootstrap import Container
from packyard.domain.access import Audience, Principal, check_read
from packyard.domain.durations import parse_duration
from packyard.domain.errors import PackyardError
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import Index
from packyard.domain.policy import parse_rule
from packyard.services import indexes as service
from packyard.web.api import render, schemas
from packyard.web.api.schemas import IndexOut, errors
from packyard.web.api.security import Address, Admin, Caller, Store

router = APIRouter(prefix="/indexes", tags=["indexes"])


def _show(container: Container, name: str) -> IndexOut:
    _, default = service.list_indexes(uow_factory=container.uow)
    return render.index_out(
        service.get_index(uow_factory=container.uow, name=name), default=default
    )


def _readable(who: Principal, index: Index) -> bool:
    try:
        check_read(who, index.name, IndexSettings.of(index).readers)
    except PackyardError:
        return False
    return True


@router.get("", operation_id="listIndexes", summary="List the indexes the caller may read")
def list_indexes(who: Caller, container: Store) -> list[IndexOut]:
    indexes, default = service.list_indexes(uow_factory=container.uow)
    return [render.index_out(i, default=default) for i in indexes if _readable(who, i)]


@router.post(
    "",
    operation_id="createIndex",
    summary="Create a hosted, mirror or virtual index (admin)",
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 404, 409),
)
def create_index(
    body: schemas.IndexCreate, who: Admin, container: Store, address: Address
) -> IndexOut:
    service.create_index(
        uow_factory=container.uow,
        name=body.name,
        kind=body.kind,
        actor=who.audit_name,
        address=address,
        upstream=body.upstream,
        ttl=parse_duration(body.ttl) if body.ttl else None,
        members=body.members,
    )
    return _show(container, body.name)


@router.get(
    "/{name}",
    operation_id="getIndex",
    summary="Show an index's settings, permissions and policies",
    responses=errors(404),
)
def get_index(name: str, who: Caller, container: Store) -> IndexOut:
    index = service.get_index(uow_factory=container.uow, name=name)
    check_read(who, index.name, IndexSettings.of(index).readers)
    return _show(container, index.name)


@router.patch(
    "/{name}",
    operation_id="configureIndex",
    summary="Change permissions, policies, TTL, offline mode or merges (admin)",
    responses=errors(400, 404),
)
def configure_index(
    name: str, body: schemas.IndexChange, who: Admin, container: Store, address: Address
) -> IndexOut:
    readers = Audience.parse(body.readers) if body.readers is not None else None
    uploaders = Audience.parse(body.uploaders) if body.uploaders is not None else None
    allow = [parse_rule(rule) for rule in body.allow]
    deny = [parse_rule(rule) for rule in body.deny]
    min_age = parse_duration(body.min_age) if body.min_age is not None else None
    ttl = parse_duration(body.ttl) if body.ttl is not None else None

    def change(settings: IndexSettings) -> IndexSettings:
        settings = service.set_permissions(settings, readers=readers, uploaders=uploaders)
        return service.set_options(
            settings,
            clear_rules=body.clear_rules,
            min_age=min_age,
            allow=allow,
            deny=deny,
            merge=body.merge,
            ttl=ttl,
            offline=body.offline,
        )

    what = "permissions" if body.readers or body.uploaders else "options"
    service.configure_index(
        uow_factory=container.uow,
        name=name,
        actor=who.audit_name,
        address=address,
        change=change,
        what=what,
    )
    return _show(container, name)


@router.post(
    "/{name}/exemptions",
    operation_id="addExemption",
    summary="Lift the minimum release age for one project (admin)",
    responses=errors(400, 404),
)
def add_exemption(
    name: str, body: schemas.ExemptionCreate, who: Admin, container: Store, address: Address
) -> IndexOut:
    lifetime = parse_duration(body.expires) if body.expires else None
    now = container.clock.now()
    service.configure_index(
        uow_factory=container.uow,
        name=name,
        actor=who.audit_name,
        address=address,
        change=lambda s: service.add_exemption(
            s,
            project=body.project,
            reason=body.reason,
            actor=who.audit_name,
            now=now,
            expires=lifetime,
        ),
        what=f"exempt {body.project}",
    )
    return _show(container, name)


@router.post(
    "/{name}/claims",
    operation_id="claimProject",
    summary="Claim a project name the upstream also has, in the index's hosted target (admin)",
    responses=errors(400, 404, 409),
)
def claim_project(
    name: str, body: schemas.ClaimCreate, who: Admin, container: Store, address: Address
) -> IndexOut:
    with container.uow(readonly=True) as uow:
        hosted = service.upload_target(uow, service.resolve_index(uow, name)).name
    now = container.clock.now()
    service.configure_index(
        uow_factory=container.uow,
        name=hosted,
        actor=who.audit_name,
        address=address,
        change=lambda s: service.add_claim(
            s,
            project=body.project,
            reason=body.reason,
            actor=who.audit_name,
            now=now,
        ),
        what=f"claim {body.project}",
    )
    return _show(container, hosted)


@router.put(
    "/{name}/default",
    operation_id="setDefaultIndex",
    summary="Serve this index at /simple/ and /legacy/ (admin)",
    responses=errors(404),
)
def set_default_index(name: str, who: Admin, container: Store, address: Address) -> IndexOut:
    service.set_default_index(
        uow_factory=container.uow, name=name, actor=who.audit_name, address=address
    )
    return _show(container, name)
