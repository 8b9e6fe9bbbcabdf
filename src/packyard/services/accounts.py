"""Managing users and teams (the admin side; authentication is in services.auth)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from packyard.domain.errors import InvalidInput, NotFound
from packyard.domain.models import Event, Team, User
from packyard.ports import Clock, UnitOfWork, UnitOfWorkFactory
from packyard.services.users import hash_password


def _user(uow: UnitOfWork, name: str) -> User:
    user = uow.users.get(name)
    if user is None:
        raise NotFound(f"There is no user named {name!r}")
    return user


def set_disabled(
    *,
    uow_factory: UnitOfWorkFactory,
    name: str,
    disabled: bool,
    actor: str,
    address: str | None = None,
) -> User:
    """A disabled user's password and tokens stop working at the next request."""
    with uow_factory() as uow:
        user = replace(_user(uow, name), disabled=disabled)
        uow.users.update(user)
        action = "user_disabled" if disabled else "user_enabled"
        uow.events.append(Event(action=action, actor=actor, data={"user": name}, address=address))
        uow.commit()
    return user


def delete_user(
    *, uow_factory: UnitOfWorkFactory, name: str, actor: str, address: str | None = None
) -> None:
    """Removes the user with their tokens, memberships and project roles."""
    with uow_factory() as uow:
        _user(uow, name)
        uow.users.delete(name)
        uow.events.append(
            Event(action="user_deleted", actor=actor, data={"user": name}, address=address)
        )
        uow.commit()


def set_password(
    *,
    uow_factory: UnitOfWorkFactory,
    name: str,
    password: str,
    actor: str,
    address: str | None = None,
) -> None:
    hashed = hash_password(password)
    with uow_factory() as uow:
        uow.users.update(replace(_user(uow, name), password_hash=hashed))
        uow.events.append(
            Event(action="password_changed", actor=actor, data={"user": name}, address=address)
        )
        uow.commit()


def validate_team_name(name: str) -> str:
    bare = name.removeprefix("@")
    if not bare or len(bare) > 100 or not all(c.isalnum() or c in "._-" for c in bare):
        raise InvalidInput(f"{name!r} is not a valid team name: letters, digits, '.', '_' and '-'")
    return bare


def add_team(
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    name: str,
    actor: str,
    address: str | None = None,
) -> Team:
    team = Team(name=validate_team_name(name), created=clock.now())
    with uow_factory() as uow:
        uow.teams.add(team)
        uow.events.append(
            Event(action="team_added", actor=actor, data={"team": team.name}, address=address)
        )
        uow.commit()
    return team


def list_teams(*, uow_factory: UnitOfWorkFactory) -> Sequence[Team]:
    with uow_factory(readonly=True) as uow:
        return uow.teams.list()


def delete_team(
    *, uow_factory: UnitOfWorkFactory, name: str, actor: str, address: str | None = None
) -> None:
    team = validate_team_name(name)
    with uow_factory() as uow:
        uow.teams.delete(team)
        uow.events.append(
            Event(action="team_deleted", actor=actor, data={"team": team}, address=address)
        )
        uow.commit()


def change_membership(
    *,
    uow_factory: UnitOfWorkFactory,
    team: str,
    user: str,
    member: bool,
    actor: str,
    address: str | None = None,
) -> None:
    name = validate_team_name(team)
    with uow_factory() as uow:
        if member:
            uow.teams.add_member(name, user)
        else:
            uow.teams.remove_member(name, user)
        action = "team_member_added" if member else "team_member_removed"
        uow.events.append(
            Event(action=action, actor=actor, data={"team": name, "user": user}, address=address)
        )
        uow.commit()
