"""/teams: teams of users, named `@team` in permissions and project roles (admin)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from packyard.services import accounts
from packyard.web.api import render, schemas
from packyard.web.api.schemas import TeamOut, errors
from packyard.web.api.security import Address, Admin, Store

router = APIRouter(prefix="/teams", tags=["teams"])


@router.get("", operation_id="listTeams", summary="List teams with their members (admin)")
def list_teams(who: Admin, container: Store) -> list[TeamOut]:
    return [render.team_out(t) for t in accounts.list_teams(uow_factory=container.uow)]


@router.post(
    "",
    operation_id="createTeam",
    summary="Create a team (admin)",
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 409),
)
def create_team(
    body: schemas.TeamCreate, who: Admin, container: Store, address: Address
) -> TeamOut:
    team = accounts.add_team(
        uow_factory=container.uow,
        clock=container.clock,
        name=body.name,
        actor=who.audit_name,
        address=address,
    )
    return render.team_out(team)


@router.delete(
    "/{name}",
    operation_id="deleteTeam",
    summary="Delete a team; its project roles go with it (admin)",
    responses=errors(400, 404),
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def delete_team(name: str, who: Admin, container: Store, address: Address) -> None:
    accounts.delete_team(
        uow_factory=container.uow, name=name, actor=who.audit_name, address=address
    )


@router.put(
    "/{name}/members/{user}",
    operation_id="addTeamMember",
    summary="Add a user to a team (admin)",
    responses=errors(400, 404),
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def add_member(name: str, user: str, who: Admin, container: Store, address: Address) -> None:
    accounts.change_membership(
        uow_factory=container.uow,
        team=name,
        user=user,
        member=True,
        actor=who.audit_name,
        address=address,
    )


@router.delete(
    "/{name}/members/{user}",
    operation_id="removeTeamMember",
    summary="Remove a user from a team (admin)",
    responses=errors(400, 404),
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def remove_member(name: str, user: str, who: Admin, container: Store, address: Address) -> None:
    accounts.change_membership(
        uow_factory=container.uow,
        team=name,
        user=user,
        member=False,
        actor=who.audit_name,
        address=address,
    )
