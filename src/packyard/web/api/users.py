"""/users: accounts, administered by admins."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from packyard.services import accounts
from packyard.services import users as service
from packyard.web.api import render, schemas
from packyard.web.api.schemas import UserOut, errors
from packyard.web.api.security import Address, Admin, Store

router = APIRouter(prefix="/users", tags=["users"])


@router.get("", operation_id="listUsers", summary="List users (admin)")
def list_users(who: Admin, container: Store) -> list[UserOut]:
    return [render.user_out(u) for u in service.list_users(uow_factory=container.uow)]


@router.post(
    "",
    operation_id="createUser",
    summary="Add a user (admin)",
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 409),
)
def create_user(
    body: schemas.UserCreate, who: Admin, container: Store, address: Address
) -> UserOut:
    user = service.add_user(
        uow_factory=container.uow,
        clock=container.clock,
        name=body.name,
        password=body.password,
        admin=body.admin,
        actor=who.audit_name,
        address=address,
    )
    return render.user_out(user)


@router.patch(
    "/{name}",
    operation_id="changeUser",
    summary="Disable or enable a user, or set their password (admin)",
    responses=errors(400, 404),
)
def change_user(
    name: str, body: schemas.UserChange, who: Admin, container: Store, address: Address
) -> UserOut:
    if body.password is not None:
        accounts.set_password(
            uow_factory=container.uow,
            name=name,
            password=body.password,
            actor=who.audit_name,
            address=address,
        )
    if body.disabled is not None:
        accounts.set_disabled(
            uow_factory=container.uow,
            name=name,
            disabled=body.disabled,
            actor=who.audit_name,
            address=address,
        )
    return render.user_out(service.get_user(uow_factory=container.uow, name=name))


@router.delete(
    "/{name}",
    operation_id="deleteUser",
    summary="Delete a user with their tokens, memberships and roles (admin)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(404),
)
def delete_user(name: str, who: Admin, container: Store, address: Address) -> None:
    accounts.delete_user(
        uow_factory=container.uow, name=name, actor=who.audit_name, address=address
    )
