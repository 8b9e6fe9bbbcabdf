"""Who may do what: principals, audiences (index readers and uploaders), project roles.

Pure decisions. Unauthorized (no or bad credentials, HTTP 401) and Forbidden (known, but
not allowed, HTTP 403) carry messages that say what would be needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from packyard.domain.errors import Forbidden, InvalidInput, Unauthorized
from packyard.domain.models import ProjectRole, Role, Scope, Token, User
from packyard.domain.names import NormalizedName, normalize

ANONYMOUS = "anonymous"
AUTHENTICATED = "authenticated"


@dataclass(frozen=True)
class Principal:
    """The caller: anonymous, a user (password), or a user acting through a token."""

    user: User | None = None
    token: Token | None = None
    teams: frozenset[str] = frozenset()

    @property
    def authenticated(self) -> bool:
        return self.user is not None

    @property
    def name(self) -> str:
        return self.user.name if self.user else ANONYMOUS

    @property
    def audit_name(self) -> str:
        """How the audit log names the caller: the user, and the token when one was used."""
        if self.token is not None:
            return f"{self.name} (token {self.token.id})"
        return self.name

    @property
    def is_admin(self) -> bool:
        if self.user is None or not self.user.is_admin:
            return False
        return self.token is None or Scope.ADMIN in self.token.scopes

    def token_allows(self, scope: Scope, index: str, project: str | None = None) -> bool:
        """A token narrows what its user may do; without a token nothing is narrowed."""
        token = self.token
        if token is None:
            return True
        if scope not in token.scopes and Scope.ADMIN not in token.scopes:
            return False
        if token.indexes and index not in token.indexes:
            return False
        return not (
            token.projects and project is not None and normalize(project) not in token.projects
        )


ANONYMOUS_PRINCIPAL = Principal()


@dataclass(frozen=True)
class Audience:
    """Who may read or upload: `anonymous`, `authenticated`, or users and `@teams`."""

    anonymous: bool = False
    authenticated: bool = False
    users: frozenset[str] = field(default_factory=frozenset)
    teams: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, spec: str) -> Audience:
        text = spec.strip()
        if text == ANONYMOUS:
            return cls(anonymous=True, authenticated=True)
        if text == AUTHENTICATED:
            return cls(authenticated=True)
        names = [part.strip() for part in text.split(",") if part.strip()]
        if not names:
            raise InvalidInput(
                f"{spec!r} is not an audience: use 'anonymous', 'authenticated', or a "
                "comma-separated list of user names and @team names"
            )
        teams = frozenset(n[1:] for n in names if n.startswith("@") and len(n) > 1)
        users = frozenset(n for n in names if not n.startswith("@"))
        if any(n in {ANONYMOUS, AUTHENTICATED} for n in users) or len(teams) + len(users) != len(
            set(names)
        ):
            raise InvalidInput(
                f"{spec!r} mixes 'anonymous'/'authenticated' with names, or has an empty "
                "team name; give one or the other"
            )
        return cls(users=users, teams=teams)

    @property
    def text(self) -> str:
        if self.anonymous:
            return ANONYMOUS
        if self.authenticated:
            return AUTHENTICATED
        return ",".join([*sorted(self.users), *(f"@{t}" for t in sorted(self.teams))])

    def admits(self, who: Principal) -> bool:
        if self.anonymous:
            return True
        if who.user is None:
            return False
        if self.authenticated or who.is_admin:
            return True
        return who.user.name in self.users or bool(self.teams & who.teams)


PUBLIC = Audience.parse(ANONYMOUS)
LOGGED_IN = Audience.parse(AUTHENTICATED)


def check_read(who: Principal, index: str, readers: Audience) -> None:
    """Raise unless `who` may read `index`. Public indexes need no token grant."""
    if readers.anonymous:
        return
    if not who.authenticated:
        raise Unauthorized(f"Index {index!r} is private: log in to read it")
    if not readers.admits(who):
        raise Forbidden(f"{who.name} may not read index {index!r}")
    if not who.token_allows(Scope.READ, index):
        raise Forbidden(f"This token does not grant reading index {index!r}")


def check_upload(
    who: Principal,
    index: str,
    uploaders: Audience,
    project: NormalizedName,
    roles: Sequence[ProjectRole],
    *,
    project_exists: bool = False,
) -> None:
    """Index uploaders may create projects; an existing project takes uploads only from
    its owners and maintainers, and one without any (imported, or its owners deleted) only
    from admins, so nobody becomes its owner by uploading."""
    if not who.authenticated:
        raise Unauthorized("Authentication required to upload: log in with a user or token")
    if not who.token_allows(Scope.UPLOAD, index, project):
        raise Forbidden(f"This token does not grant uploading {project!r} to index {index!r}")
    if not uploaders.admits(who):
        raise Forbidden(f"{who.name} may not upload to index {index!r}")
    existing = project_exists or bool(roles)
    if existing and not who.is_admin and not has_role(who, roles, {Role.OWNER, Role.MAINTAINER}):
        raise Forbidden(
            f"{who.name} is not an owner or maintainer of {project!r} in index {index!r}"
            + ("" if roles else "; it has no owners: an admin can add some")
        )


def check_project_action(
    who: Principal,
    index: str,
    project: NormalizedName,
    roles: Sequence[ProjectRole],
    scope: Scope,
) -> None:
    """Yank (owners, maintainers), delete and role changes (owners), admins always."""
    if not who.authenticated:
        raise Unauthorized(f"Authentication required to {scope.value} {project!r}")
    if not who.token_allows(scope, index, project):
        raise Forbidden(f"This token does not grant {scope.value} on {project!r}")
    allowed = {Role.OWNER, Role.MAINTAINER} if scope is Scope.YANK else {Role.OWNER}
    if not who.is_admin and not has_role(who, roles, allowed):
        needed = "an owner or maintainer" if scope is Scope.YANK else "an owner"
        raise Forbidden(f"{who.name} must be {needed} of {project!r} (or an admin)")


def check_admin(who: Principal) -> None:
    if not who.authenticated:
        raise Unauthorized("Authentication required: this is an administrator's action")
    if not who.is_admin:
        raise Forbidden(f"{who.name} is not an administrator (or the token lacks 'admin')")


def has_role(who: Principal, roles: Sequence[ProjectRole], wanted: set[Role]) -> bool:
    if who.user is None:
        return False
    mine = {who.user.name, *(f"@{team}" for team in who.teams)}
    return any(r.role in wanted and r.principal in mine for r in roles)


def token_usable(token: Token, user: User | None, now: datetime) -> bool:
    """A token works while its user exists and is enabled and it has not expired."""
    if user is None or user.disabled:
        return False
    return token.expires_at is None or token.expires_at > now
