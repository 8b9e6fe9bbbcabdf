"""/indexes/{index}/projects/{project}: roles, yanking and deleting, for owners and admins.

The services check roles and token scopes (`who=`); a virtual index stands for the hosted
index its uploads go to, as on the command line.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter

from packyard.bootstrap import Container
from packyard.domain.access import Principal, check_read
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import Role
from packyard.services import projects as service
from packyard.services.indexes import resolve_index, upload_target
from packyard.services.yank import set_yanked
from packyard.web.api import render, schemas
from packyard.web.api.schemas import FileOut, RoleOut, errors
from packyard.web.api.security import Address, Caller, Store

router = APIRouter(prefix="/indexes/{index}/projects/{project}", tags=["projects"])
_CHANGE = errors(400, 404, 409)


def _hosted(container: Container, index: str, who: Principal) -> str:
    with container.uow(readonly=True) as uow:
        named = resolve_index(uow, index)
        check_read(who, named.name, IndexSettings.of(named).readers)
        return upload_target(uow, named).name


def _roles(container: Container, index: str, project: str) -> list[RoleOut]:
    roles = service.list_roles(uow_factory=container.uow, index=index, project=project)
    return [render.role_out(r) for r in roles]


@router.get(
    "/roles",
    operation_id="listProjectRoles",
    summary="List a project's owners and maintainers",
    responses=errors(404, 409),
)
def list_roles(index: str, project: str, who: Caller, container: Store) -> list[RoleOut]:
    return _roles(container, _hosted(container, index, who), project)


def _change_role(
    container: Container,
    index: str,
    project: str,
    change: schemas.RoleChange,
    *,
    add: bool,
    who: Principal,
    address: str | None,
) -> list[RoleOut]:
    hosted = _hosted(container, index, who)
    service.change_role(
        uow_factory=container.uow,
        index=hosted,
        project=project,
        principal=change.principal,
        role=change.role,
        add=add,
        who=who,
        actor=who.audit_name,
        address=address,
    )
    return _roles(container, hosted, project)


@router.post(
    "/roles",
    operation_id="addProjectRole",
    summary="Make a user or @team an owner or maintainer (owners, admins)",
    responses=_CHANGE,
)
def add_role(
    index: str,
    project: str,
    body: schemas.RoleChange,
    who: Caller,
    container: Store,
    address: Address,
) -> list[RoleOut]:
    return _change_role(container, index, project, body, add=True, who=who, address=address)


@router.delete(
    "/roles/{role}/{principal}",
    operation_id="removeProjectRole",
    summary="Remove an owner or maintainer; never the last owner (owners, admins)",
    responses=_CHANGE,
)
def remove_role(
    index: str,
    project: str,
    role: Role,
    principal: str,
    who: Caller,
    container: Store,
    address: Address,
) -> list[RoleOut]:
    change = schemas.RoleChange(principal=principal, role=role)
    return _change_role(container, index, project, change, add=False, who=who, address=address)


def _yank(
    container: Container,
    index: str,
    project: str,
    version: str,
    *,
    yanked: bool,
    filename: str | None,
    reason: str,
    who: Principal,
    address: str | None,
) -> list[FileOut]:
    changed = set_yanked(
        uow_factory=container.uow,
        index=_hosted(container, index, who),
        project=project,
        version=version,
        yanked=yanked,
        actor=who.audit_name,
        filename=filename,
        reason=reason,
        who=who,
        address=address,
    )
    # The service returns the files as they were; show them as they are now.
    now_reason = reason if yanked else ""
    return [render.file_out(replace(f, yanked=yanked, yanked_reason=now_reason)) for f in changed]


@router.post(
    "/releases/{version}/yank",
    operation_id="yankRelease",
    summary="Yank a release, or one file of it; returns the files changed",
    responses=_CHANGE,
)
def yank(
    index: str,
    project: str,
    version: str,
    body: schemas.YankRequest,
    who: Caller,
    container: Store,
    address: Address,
) -> list[FileOut]:
    return _yank(
        container,
        index,
        project,
        version,
        yanked=True,
        filename=body.filename,
        reason=body.reason,
        who=who,
        address=address,
    )


@router.post(
    "/releases/{version}/unyank",
    operation_id="unyankRelease",
    summary="Unyank a release, or one file of it; returns the files changed",
    responses=_CHANGE,
)
def unyank(
    index: str,
    project: str,
    version: str,
    body: schemas.UnyankRequest,
    who: Caller,
    container: Store,
    address: Address,
) -> list[FileOut]:
    return _yank(
        container,
        index,
        project,
        version,
        yanked=False,
        filename=body.filename,
        reason="",
        who=who,
        address=address,
    )


@router.delete(
    "",
    operation_id="deleteFiles",
    summary="Delete a project's files for good (all, one release's, or one); owners, admins",
    responses=_CHANGE,
)
def delete_files(
    index: str,
    project: str,
    who: Caller,
    container: Store,
    address: Address,
    version: str | None = None,
    filename: str | None = None,
) -> list[FileOut]:
    deleted = service.delete_files(
        uow_factory=container.uow,
        clock=container.clock,
        index=_hosted(container, index, who),
        project=project,
        who=who,
        actor=who.audit_name,
        version=version,
        filename=filename,
        address=address,
    )
    return [render.file_out(f) for f in deleted]
