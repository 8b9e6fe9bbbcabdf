"""Project ownership (owners, maintainers) and deleting files for good."""

from __future__ import annotations

from collections.abc import Sequence

from packaging.utils import canonicalize_version

from packyard.domain.access import Principal, check_project_action
from packyard.domain.errors import InvalidInput, NotFound
from packyard.domain.models import DistFile, Event, ProjectRole, Role, Scope
from packyard.domain.names import validate_project_name
from packyard.ports import Clock, UnitOfWork, UnitOfWorkFactory
from packyard.services.changes import record_change
from packyard.services.publish import hosted_index


def list_roles(
    *, uow_factory: UnitOfWorkFactory, index: str, project: str
) -> Sequence[ProjectRole]:
    name = validate_project_name(project)
    with uow_factory(readonly=True) as uow:
        hosted_index(uow, index)
        if uow.projects.get(index, name) is None:
            raise NotFound(f"There is no project {project!r} in index {index!r}")
        return uow.roles.for_project(index, name)


def change_role(
    *,
    uow_factory: UnitOfWorkFactory,
    index: str,
    project: str,
    principal: str,
    role: Role,
    add: bool,
    who: Principal | None,
    actor: str,
    address: str | None = None,
) -> None:
    """Add or remove an owner or maintainer (a user, or `@team`). Owners and admins only;
    the last owner cannot be removed."""
    name = validate_project_name(project)
    with uow_factory() as uow:
        hosted_index(uow, index)
        if uow.projects.get(index, name) is None:
            raise NotFound(f"There is no project {project!r} in index {index!r}")
        roles = uow.roles.for_project(index, name)
        if who is not None:
            check_project_action(who, index, name, roles, Scope.ADMIN)
        _check_principal(uow, principal)
        entry = ProjectRole(index=index, project=name, principal=principal, role=role)
        if add:
            uow.roles.add(entry)
        else:
            owners = [r for r in roles if r.role is Role.OWNER]
            if role is Role.OWNER and owners == [entry]:
                raise InvalidInput(
                    f"{principal} is the last owner of {project!r}; add another first"
                )
            uow.roles.remove(entry)
        uow.events.append(
            Event(
                action=f"{role.value}_{'added' if add else 'removed'}",
                actor=actor,
                address=address,
                index=index,
                project=name,
                data={"principal": principal},
            )
        )
        uow.commit()


def _check_principal(uow: UnitOfWork, principal: str) -> None:
    if principal.startswith("@"):
        if uow.teams.get(principal[1:]) is None:
            raise NotFound(f"There is no team named {principal[1:]!r}")
    elif uow.users.get(principal) is None:
        raise NotFound(f"There is no user named {principal!r}")


def delete_files(
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    index: str,
    project: str,
    who: Principal | None,
    actor: str,
    version: str | None = None,
    filename: str | None = None,
    address: str | None = None,
) -> Sequence[DistFile]:
    """Delete a project's files (all, one release's, or one). A deleted filename can never
    be uploaded again, so a version's bytes cannot silently change."""
    name = validate_project_name(project)
    with uow_factory() as uow:
        hosted_index(uow, index)
        files = list(uow.files.for_project(index, name))
        if who is not None:
            roles = uow.roles.for_project(index, name)
            check_project_action(who, index, name, roles, Scope.DELETE)
        if version is not None:
            files = [
                f for f in files if canonicalize_version(f.version) == canonicalize_version(version)
            ]
        if filename is not None:
            files = [f for f in files if f.filename == filename]
        if not files:
            raise NotFound(f"Nothing matches in {project} in index {index!r}")
        now = clock.now()
        for file in files:
            uow.files.delete(index, file.filename)
            uow.tombstones.add(index, file.filename, actor=actor, at=now)
            record_change(
                uow,
                Event(
                    action="file_deleted",
                    actor=actor,
                    address=address,
                    index=index,
                    project=name,
                    version=file.version,
                    filename=file.filename,
                ),
                project=name,
            )
        uow.commit()
    return files
