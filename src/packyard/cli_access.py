"""`packyard user|team|token|audit ...` and project roles: who may do what."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from packyard.cli_common import actor, duration_option, open_store, reports_errors, store_options
from packyard.domain.models import Role, Scope, Token
from packyard.services.accounts import (
    add_team,
    change_membership,
    delete_team,
    delete_user,
    list_teams,
    set_disabled,
    set_password,
)
from packyard.services.audit import audit_report
from packyard.services.tokens import DEFAULT_SCOPES, create_token, list_tokens, revoke_token
from packyard.services.users import add_user, list_users


def read_password(prompt: str = "Password") -> str:
    """Prompted on a terminal; one line of stdin otherwise (scripts, CI)."""
    if sys.stdin.isatty():
        return str(click.prompt(prompt, hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@click.group()
def user() -> None:
    """Users: passwords, admin flag, enabled or disabled."""


@user.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@store_options
@reports_errors
def user_add(name: str, admin: bool, data_dir: Path | None, config: Path | None) -> None:
    """Add a user; the password is prompted for, or read from stdin when piped."""
    password = read_password()
    container = open_store(data_dir, config)
    add_user(
        uow_factory=container.uow,
        clock=container.clock,
        name=name,
        password=password,
        admin=admin,
        actor=actor(),
    )
    click.echo(f"added {'administrator' if admin else 'user'} {name}")


@user.command("list")
@store_options
def user_list(data_dir: Path | None, config: Path | None) -> None:
    """One line per user: name, role, state, created."""
    for item in list_users(uow_factory=open_store(data_dir, config).uow):
        role = "admin" if item.is_admin else "user"
        state = "disabled" if item.disabled else "enabled"
        created = item.created.isoformat() if item.created else ""
        click.echo(f"{item.name}\t{role}\t{state}\t{created}")


def _toggle(disabled: bool) -> click.Command:
    @click.argument("name")
    @store_options
    @reports_errors
    def command(name: str, data_dir: Path | None, config: Path | None) -> None:
        set_disabled(
            uow_factory=open_store(data_dir, config).uow,
            name=name,
            disabled=disabled,
            actor=actor(),
        )
        click.echo(f"{'disabled' if disabled else 'enabled'} {name}")

    return click.command(
        "disable" if disabled else "enable",
        help="Disable a user: password and tokens stop working at once."
        if disabled
        else "Enable a disabled user again.",
    )(command)


user.add_command(_toggle(True))
user.add_command(_toggle(False))


@user.command("delete")
@click.argument("name")
@store_options
@reports_errors
def user_delete(name: str, data_dir: Path | None, config: Path | None) -> None:
    """Delete a user with their tokens, team memberships and project roles."""
    delete_user(uow_factory=open_store(data_dir, config).uow, name=name, actor=actor())
    click.echo(f"deleted {name}")


@user.command("passwd")
@click.argument("name")
@store_options
@reports_errors
def user_passwd(name: str, data_dir: Path | None, config: Path | None) -> None:
    """Set a user's password (prompted, or read from stdin when piped)."""
    password = read_password("New password")
    set_password(
        uow_factory=open_store(data_dir, config).uow, name=name, password=password, actor=actor()
    )
    click.echo(f"password of {name} changed")


@click.group()
def team() -> None:
    """Teams of users, named as @team in permissions and project roles."""


@team.command("add")
@click.argument("name")
@store_options
@reports_errors
def team_add(name: str, data_dir: Path | None, config: Path | None) -> None:
    """Create a team."""
    container = open_store(data_dir, config)
    created = add_team(uow_factory=container.uow, clock=container.clock, name=name, actor=actor())
    click.echo(f"added team @{created.name}")


@team.command("list")
@store_options
def team_list(data_dir: Path | None, config: Path | None) -> None:
    """One line per team with its members."""
    for item in list_teams(uow_factory=open_store(data_dir, config).uow):
        click.echo(f"@{item.name}\t{','.join(item.members)}")


@team.command("delete")
@click.argument("name")
@store_options
@reports_errors
def team_delete(name: str, data_dir: Path | None, config: Path | None) -> None:
    """Delete a team (its project roles go with it)."""
    delete_team(uow_factory=open_store(data_dir, config).uow, name=name, actor=actor())
    click.echo(f"deleted team {name}")


def _membership(member: bool) -> click.Command:
    @click.argument("team_name", metavar="TEAM")
    @click.argument("user_name", metavar="USER")
    @store_options
    @reports_errors
    def command(team_name: str, user_name: str, data_dir: Path | None, config: Path | None) -> None:
        change_membership(
            uow_factory=open_store(data_dir, config).uow,
            team=team_name,
            user=user_name,
            member=member,
            actor=actor(),
        )
        verb, word = ("added", "to") if member else ("removed", "from")
        click.echo(f"{verb} {user_name} {word} {team_name}")

    name = "add-member" if member else "remove-member"
    return click.command(
        name, help=f"{'Add a user to' if member else 'Remove a user from'} a team."
    )(command)


team.add_command(_membership(True))
team.add_command(_membership(False))


@click.group()
def token() -> None:
    """API tokens (used as password with the user name __token__)."""


@token.command("create")
@click.option("--user", "user_name", required=True, help="The user the token acts for.")
@click.option("--index", "indexes", multiple=True, help="Limit to this index (repeatable).")
@click.option("--project", "projects", multiple=True, help="Limit to this project (repeatable).")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice([s.value for s in Scope]),
    help="What it may do (repeatable; default: read and upload).",
)
@click.option("--expires", help="Lifetime, e.g. 90d (default: no expiry).")
@click.option("--description", default="", help="What the token is for.")
@store_options
@reports_errors
def token_create(
    user_name: str,
    indexes: tuple[str, ...],
    projects: tuple[str, ...],
    scopes: tuple[str, ...],
    expires: str | None,
    description: str,
    data_dir: Path | None,
    config: Path | None,
) -> None:
    """Create a token and print it, alone, on stdout: it is shown this once only."""
    container = open_store(data_dir, config)
    _, secret = create_token(
        uow_factory=container.uow,
        clock=container.clock,
        user=user_name,
        actor=actor(),
        scopes=[Scope(s) for s in scopes] or DEFAULT_SCOPES,
        indexes=indexes,
        projects=projects,
        expires=duration_option(expires),
        description=description,
    )
    click.echo(secret)


def describe_token(item: Token) -> str:
    expiry = item.expires_at.isoformat() if item.expires_at else "never"
    used = item.last_used.isoformat() if item.last_used else "never"
    return "\t".join(
        [
            item.id,
            f"{item.prefix}...",
            item.user,
            ",".join(sorted(item.scopes)),
            ",".join(item.indexes) or "all-indexes",
            ",".join(item.projects) or "all-projects",
            f"expires={expiry}",
            f"last-used={used}",
            item.description,
        ]
    )


@token.command("list")
@click.option("--user", "user_name", help="Only this user's tokens.")
@store_options
def token_list(user_name: str | None, data_dir: Path | None, config: Path | None) -> None:
    """One line per token: id, prefix, user, scopes, indexes, projects, expiry, last use."""
    for item in list_tokens(uow_factory=open_store(data_dir, config).uow, user=user_name):
        click.echo(describe_token(item))


@token.command("revoke")
@click.argument("token_ref", metavar="ID|TOKEN")
@store_options
@reports_errors
def token_revoke(token_ref: str, data_dir: Path | None, config: Path | None) -> None:
    """Revoke a token by its id or by the token itself; it stops working at once."""
    revoked = revoke_token(
        uow_factory=open_store(data_dir, config).uow, token=token_ref, actor=actor()
    )
    click.echo(f"revoked token {revoked.id} of {revoked.user}")


@click.command("audit")
@click.option("--since", help="Only this recent, e.g. 30d.")
@click.option("--project", help="Only this project.")
@click.option("--version", help="Only this version.")
@click.option("--user", "user_name", help="Only what this user (or their tokens) did.")
@click.option("--action", help="Only this action, e.g. file_uploaded, login_failed, download.")
@click.option("--index", "index_name", help="Only this index.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@store_options
@reports_errors
def audit(
    since: str | None,
    project: str | None,
    version: str | None,
    user_name: str | None,
    action: str | None,
    index_name: str | None,
    as_json: bool,
    data_dir: Path | None,
    config: Path | None,
) -> None:
    """Who did what, when, from where. Downloads are counted per day, file and user/token."""
    window = duration_option(since)
    rows = audit_report(
        uow_factory=open_store(data_dir, config).uow,
        since=datetime.now(UTC) - window if window else None,
        project=project,
        version=version,
        user=user_name,
        action=action,
        index=index_name,
    )
    for row in rows:
        if as_json:
            click.echo(json.dumps(row))
        else:
            click.echo("\t".join(str(row.get(k) or "") for k in ROW_FIELDS))


ROW_FIELDS = (
    "time",
    "action",
    "actor",
    "address",
    "index",
    "project",
    "version",
    "filename",
    "detail",
)


def project_role_command(role: Role) -> click.Group:
    """`packyard project owners|maintainers add|remove PROJECT USER|@TEAM [--index I]`."""

    @click.group(name=f"{role.value}s", help=f"Project {role.value}s.")
    def group() -> None:
        pass

    def make(add: bool) -> click.Command:
        @click.argument("project_name", metavar="PROJECT")
        @click.argument("principal", metavar="USER|@TEAM")
        @click.option("--index", "index_name", help="Hosted index (default: the upload target).")
        @store_options
        @reports_errors
        def command(
            project_name: str,
            principal: str,
            index_name: str | None,
            data_dir: Path | None,
            config: Path | None,
        ) -> None:
            from packyard.services.indexes import resolve_index, upload_target
            from packyard.services.projects import change_role

            container = open_store(data_dir, config)
            with container.uow(readonly=True) as uow:
                hosted = upload_target(uow, resolve_index(uow, index_name)).name
            change_role(
                uow_factory=container.uow,
                index=hosted,
                project=project_name,
                principal=principal,
                role=role,
                add=add,
                who=None,
                actor=actor(),
            )
            click.echo(
                f"{'added' if add else 'removed'} {role.value} {principal} of {project_name}"
            )

        return click.command("add" if add else "remove")(command)

    group.add_command(make(True))
    group.add_command(make(False))
    return group
