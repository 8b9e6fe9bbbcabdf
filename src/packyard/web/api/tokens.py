"""/tokens: API tokens. Users manage their own; admins everyone's."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from packyard.domain.access import Principal, check_admin
from packyard.domain.durations import parse_duration
from packyard.domain.errors import Forbidden, NotFound
from packyard.services import tokens as service
from packyard.web.api import render, schemas
from packyard.web.api.schemas import CreatedToken, TokenOut, errors
from packyard.web.api.security import Address, Caller, Store

router = APIRouter(prefix="/tokens", tags=["tokens"])


def _acting_for(who: Principal, user: str | None) -> str:
    """Whose tokens the caller manages: their own, or anyone's as an admin."""
    if not who.authenticated or (user is not None and user != who.name):
        check_admin(who)
    return user or who.name


@router.get(
    "",
    operation_id="listTokens",
    summary="List tokens: the caller's own, everyone's (or one user's) for admins",
    responses=errors(404),
)
def list_tokens(who: Caller, container: Store, user: str | None = None) -> list[TokenOut]:
    if user is None and who.is_admin:
        found = service.list_tokens(uow_factory=container.uow)
    else:
        found = service.list_tokens(uow_factory=container.uow, user=_acting_for(who, user))
    return [render.token_out(t) for t in found]


@router.post(
    "",
    operation_id="createToken",
    summary="Create a token; the response holds its secret, shown this once only",
    status_code=status.HTTP_201_CREATED,
    responses=errors(400, 404),
)
def create_token(
    body: schemas.TokenCreate, who: Caller, container: Store, address: Address
) -> CreatedToken:
    user = _acting_for(who, body.user)
    token, secret = service.create_token(
        uow_factory=container.uow,
        clock=container.clock,
        user=user,
        actor=who.audit_name,
        scopes=body.scopes,
        indexes=body.indexes,
        projects=body.projects,
        expires=parse_duration(body.expires) if body.expires else None,
        description=body.description,
        address=address,
        creator=who,
    )
    return render.created_token_out(token, secret)


@router.delete(
    "/{token_id}",
    operation_id="revokeToken",
    summary="Revoke a token by its id: the caller's own, or any as an admin",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(404),
)
def revoke_token(token_id: str, who: Caller, container: Store, address: Address) -> None:
    caller = _acting_for(who, None)
    every = service.list_tokens(uow_factory=container.uow)
    found = next((t for t in every if t.id == token_id), None)
    if found is None:
        raise NotFound(f"There is no token with id {token_id!r}")
    if not service.can_manage_token(found, caller=caller, admin=who.is_admin):
        raise Forbidden(f"Token {token_id!r} is not yours")
    service.revoke_token(
        uow_factory=container.uow, token=found.id, actor=who.audit_name, address=address
    )
