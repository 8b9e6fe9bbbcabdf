"""API tokens like PyPI's: `pky_` secrets shown once, stored as a SHA-256 digest."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from packyard.domain.access import Principal
from packyard.domain.errors import Forbidden, InvalidInput, NotFound
from packyard.domain.models import Event, Scope, Token
from packyard.domain.names import validate_project_name, validate_text
from packyard.ports import Clock, UnitOfWorkFactory
from packyard.services.auth import TOKEN_PREFIX, token_digest

DEFAULT_SCOPES = (Scope.READ, Scope.UPLOAD)
SHOWN_PREFIX = len(TOKEN_PREFIX) + 6


def create_token(
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    user: str,
    actor: str,
    scopes: Sequence[Scope] = DEFAULT_SCOPES,
    indexes: Sequence[str] = (),
    projects: Sequence[str] = (),
    expires: timedelta | None = None,
    description: str = "",
    address: str | None = None,
    creator: Principal | None = None,
) -> tuple[Token, str]:
    """Create a token; returns it with its secret, which is never available again.

    `creator` (None: an administrator at the CLI) may make tokens for themselves, or for
    anyone as an admin; a token may create tokens only if it has the admin scope, so a
    narrow token cannot mint a wider one."""
    if creator is not None:
        if creator.token is not None and Scope.ADMIN not in creator.token.scopes:
            raise Forbidden("Only a token with the 'admin' scope may create tokens")
        if not creator.is_admin and creator.name != user:
            raise Forbidden(f"{creator.name} may create tokens only for themselves")
    if expires is not None and expires <= timedelta(0):
        raise InvalidInput("--expires must be a positive duration, e.g. 90d")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = Token(
        id=secrets.token_hex(8),
        user=user,
        digest=token_digest(secret),
        prefix=secret[:SHOWN_PREFIX],
        scopes=frozenset(scopes or DEFAULT_SCOPES),
        indexes=tuple(dict.fromkeys(indexes)),
        projects=tuple(dict.fromkeys(validate_project_name(p) for p in projects)),
        expires_at=now + expires if expires else None,
        description=validate_text(description, "description"),
        created=now,
    )
    with uow_factory() as uow:
        if uow.users.get(user) is None:
            raise NotFound(f"There is no user named {user!r}")
        for index in token.indexes:
            if uow.indexes.get(index) is None:
                raise NotFound(f"There is no index named {index!r}")
        uow.tokens.add(token)
        uow.events.append(
            Event(
                action="token_created",
                actor=actor,
                address=address,
                data={
                    "token": token.id,
                    "user": user,
                    "scopes": sorted(token.scopes),
                    "indexes": list(token.indexes),
                    "projects": list(token.projects),
                },
            )
        )
        uow.commit()
    return token, secret


def list_tokens(*, uow_factory: UnitOfWorkFactory, user: str | None = None) -> Sequence[Token]:
    with uow_factory(readonly=True) as uow:
        return uow.tokens.list(user)


def revoke_token(
    *, uow_factory: UnitOfWorkFactory, token: str, actor: str, address: str | None = None
) -> Token:
    """Revoke by id, or by the secret itself (for a leaked token found in the wild)."""
    with uow_factory() as uow:
        found = (
            uow.tokens.by_digest(token_digest(token))
            if token.startswith(TOKEN_PREFIX)
            else uow.tokens.get(token)
        )
        if found is None:
            raise NotFound("No such token: give its id (see 'packyard token list') or secret")
        uow.tokens.delete(found.id)
        uow.events.append(
            Event(
                action="token_revoked",
                actor=actor,
                address=address,
                data={"token": found.id, "user": found.user},
            )
        )
        uow.commit()
    return found


def can_manage_token(token: Token, *, caller: str, admin: bool) -> bool:
    return admin or token.user == caller
