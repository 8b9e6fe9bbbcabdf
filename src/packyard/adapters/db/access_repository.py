"""Access control storage on SQLAlchemy Core: teams, tokens, project roles, tombstones."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.engine import Connection, Row

from packyard.adapters.db.repositories import _index_id, _insert
from packyard.adapters.db.tables import (
    as_utc,
    indexes,
    project_roles,
    team_members,
    teams,
    tokens,
    tombstones,
    users,
)
from packyard.domain.errors import Conflict, NotFound
from packyard.domain.models import ProjectRole, Role, Scope, Team, Token
from packyard.domain.names import NormalizedName


def _now() -> datetime:
    return datetime.now(UTC)


def _user_id(name: str) -> Any:
    return select(users.c.id).where(users.c.name == name).scalar_subquery()


def _team_id(name: str) -> Any:
    return select(teams.c.id).where(teams.c.name == name).scalar_subquery()


class SqlTeamRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def get(self, name: str) -> Team | None:
        found = self._teams(teams.c.name == name)
        return found[0] if found else None

    def add(self, team: Team) -> None:
        statement = (
            _insert(self._connection, teams)
            .values(name=team.name, created=as_utc(team.created or _now()))
            .on_conflict_do_nothing(index_elements=[teams.c.name])
            .returning(teams.c.id)
        )
        if self._connection.execute(statement).first() is None:
            raise Conflict(f"a team named {team.name!r} exists already")
        for member in team.members:
            self.add_member(team.name, member)

    def delete(self, name: str) -> None:
        """Remove the team with its memberships and the project roles of `@name`."""
        team_id = self._require(name)
        self._connection.execute(team_members.delete().where(team_members.c.team_id == team_id))
        self._connection.execute(
            project_roles.delete().where(project_roles.c.principal == f"@{name}")
        )
        self._connection.execute(teams.delete().where(teams.c.id == team_id))

    def list(self) -> Sequence[Team]:
        return self._teams(None)

    def add_member(self, team: str, user: str) -> None:
        team_id = self._require(team)
        user_id = self._connection.execute(
            select(users.c.id).where(users.c.name == user)
        ).scalar_one_or_none()
        if user_id is None:
            raise NotFound(f"no user named {user!r}")
        self._connection.execute(
            _insert(self._connection, team_members)
            .values(team_id=team_id, user_id=user_id)
            .on_conflict_do_nothing()
        )

    def remove_member(self, team: str, user: str) -> None:
        """NotFound unless the user is a member of the team."""
        result = self._connection.execute(
            team_members.delete().where(
                team_members.c.team_id == _team_id(team), team_members.c.user_id == _user_id(user)
            )
        )
        if result.rowcount == 0:
            self._require(team)
            raise NotFound(f"user {user!r} is not a member of team {team!r}")

    def teams_of(self, user: str) -> frozenset[str]:
        rows = self._connection.execute(
            select(teams.c.name)
            .join(team_members, team_members.c.team_id == teams.c.id)
            .where(team_members.c.user_id == _user_id(user))
        )
        return frozenset(rows.scalars())

    def _teams(self, condition: Any) -> Sequence[Team]:
        # Two reads for any number of teams: the teams, then all their members.
        query = select(teams.c.id, teams.c.name, teams.c.created).order_by(teams.c.name)
        if condition is not None:
            query = query.where(condition)
        found = self._connection.execute(query).all()
        members: dict[int, list[str]] = {row.id: [] for row in found}
        if members:
            rows = self._connection.execute(
                select(team_members.c.team_id, users.c.name)
                .join(users, users.c.id == team_members.c.user_id)
                .where(team_members.c.team_id.in_(list(members)))
                .order_by(users.c.name)
            )
            for team_id, user in rows:
                members[team_id].append(user)
        return [
            Team(name=row.name, members=tuple(members[row.id]), created=row.created)
            for row in found
        ]

    def _require(self, name: str) -> int:
        team_id = self._connection.execute(
            select(teams.c.id).where(teams.c.name == name)
        ).scalar_one_or_none()
        if team_id is None:
            raise NotFound(f"no team named {name!r}")
        return int(team_id)


def _token_select() -> Select[Any]:
    return select(
        users.c.name.label("user_name"), *[c for c in tokens.c if c.name != "user_id"]
    ).join(users, users.c.id == tokens.c.user_id)


def _to_token(row: Row[Any]) -> Token:
    return Token(
        id=row.id,
        user=row.user_name,
        digest=row.digest,
        prefix=row.prefix,
        scopes=frozenset(Scope(scope) for scope in row.scopes),
        indexes=tuple(row.indexes),
        projects=tuple(NormalizedName(project) for project in row.projects),
        expires_at=row.expires_at,
        description=row.description,
        created=row.created,
        last_used=row.last_used,
    )


class SqlTokenRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, token: Token) -> None:
        """NotFound for an unknown user; Conflict if the id or digest is taken."""
        user_id = self._connection.execute(
            select(users.c.id).where(users.c.name == token.user)
        ).scalar_one_or_none()
        if user_id is None:
            raise NotFound(f"no user named {token.user!r}")
        statement = (
            _insert(self._connection, tokens)
            .values(
                id=token.id,
                user_id=user_id,
                digest=token.digest,
                prefix=token.prefix,
                scopes=sorted(str(scope) for scope in token.scopes),
                indexes=list(token.indexes),
                projects=list(token.projects),
                expires_at=token.expires_at,
                description=token.description,
                created=as_utc(token.created or _now()),
                last_used=token.last_used,
            )
            .on_conflict_do_nothing()  # either unique key: id or digest
            .returning(tokens.c.id)
        )
        if self._connection.execute(statement).first() is None:
            raise Conflict(f"a token with id {token.id!r} or the same secret exists already")

    def get(self, token_id: str) -> Token | None:
        return self._first(tokens.c.id == token_id)

    def by_digest(self, digest: str) -> Token | None:
        return self._first(tokens.c.digest == digest)

    def list(self, user: str | None = None) -> Sequence[Token]:
        query = _token_select().order_by(tokens.c.created, tokens.c.id)
        if user is not None:
            query = query.where(users.c.name == user)
        return [_to_token(row) for row in self._connection.execute(query)]

    def delete(self, token_id: str) -> None:
        result = self._connection.execute(tokens.delete().where(tokens.c.id == token_id))
        if result.rowcount == 0:
            raise NotFound(f"no token with id {token_id!r}")

    def delete_for_user(self, user: str) -> int:
        result = self._connection.execute(tokens.delete().where(tokens.c.user_id == _user_id(user)))
        return int(result.rowcount)

    def record_use(self, used: Mapping[str, datetime]) -> None:
        """Move last_used forward only (batches may arrive out of order); one executemany.

        Unknown ids are ignored: the token may have been revoked since its use."""
        if not used:
            return
        statement = (
            tokens.update()
            .where(
                tokens.c.id == bindparam("token_id"),
                or_(tokens.c.last_used.is_(None), tokens.c.last_used < bindparam("used_at")),
            )
            .values(last_used=bindparam("used_at"))
        )
        params = [{"token_id": key, "used_at": as_utc(at)} for key, at in sorted(used.items())]
        self._connection.execute(statement, params)

    def _first(self, condition: Any) -> Token | None:
        row = self._connection.execute(_token_select().where(condition)).first()
        return None if row is None else _to_token(row)


class SqlRoleRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def for_project(self, index: str, project: NormalizedName) -> Sequence[ProjectRole]:
        """In the order granted (the first owner first)."""
        rows = self._connection.execute(
            select(project_roles.c.principal, project_roles.c.role)
            .where(project_roles.c.index_id == _index_id(index), project_roles.c.project == project)
            .order_by(project_roles.c.id)
        )
        return [
            ProjectRole(index=index, project=project, principal=principal, role=Role(role))
            for principal, role in rows
        ]

    def add(self, role: ProjectRole) -> None:
        index_id = self._connection.execute(
            select(indexes.c.id).where(indexes.c.name == role.index)
        ).scalar_one_or_none()
        if index_id is None:
            raise NotFound(f"no index named {role.index!r}")
        self._connection.execute(
            _insert(self._connection, project_roles)
            .values(
                index_id=index_id,
                project=role.project,
                principal=role.principal,
                role=str(role.role),
            )
            .on_conflict_do_nothing()
        )

    def remove(self, role: ProjectRole) -> None:
        result = self._connection.execute(
            project_roles.delete().where(
                project_roles.c.index_id == _index_id(role.index),
                project_roles.c.project == role.project,
                project_roles.c.principal == role.principal,
                project_roles.c.role == str(role.role),
            )
        )
        if result.rowcount == 0:
            raise NotFound(
                f"{role.principal!r} is not {role.role} of {role.project!r} in index {role.index!r}"
            )

    def remove_principal(self, principal: str) -> None:
        self._connection.execute(
            project_roles.delete().where(project_roles.c.principal == principal)
        )


class SqlTombstoneRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, index: str, filename: str, *, actor: str, at: datetime) -> None:
        """Idempotent: the first deletion's actor and time are kept."""
        index_id = self._connection.execute(
            select(indexes.c.id).where(indexes.c.name == index)
        ).scalar_one_or_none()
        if index_id is None:
            raise NotFound(f"no index named {index!r}")
        self._connection.execute(
            _insert(self._connection, tombstones)
            .values(index_id=index_id, filename=filename, actor=actor, at=as_utc(at))
            .on_conflict_do_nothing()
        )

    def exists(self, index: str, filename: str) -> bool:
        row = self._connection.execute(
            select(tombstones.c.filename).where(
                and_(tombstones.c.index_id == _index_id(index), tombstones.c.filename == filename)
            )
        ).first()
        return row is not None
