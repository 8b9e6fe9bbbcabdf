"""The `packyard` command: run the server and administer the store directly."""

from __future__ import annotations

import functools
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from packyard.bootstrap import Container, bootstrap
from packyard.config import ConfigFileError, Settings, describe_settings, load_settings
from packyard.domain.errors import PackyardError
from packyard.domain.models import IndexKind
from packyard.services.indexes import create_index, list_indexes, set_default_index
from packyard.services.users import add_user
from packyard.services.yank import set_yanked

F = TypeVar("F", bound=Callable[..., Any])


def actor() -> str:
    """Admin commands act as the operating-system user who ran them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return f"cli:uid-{os.getuid()}"


def store_options(command: F) -> F:
    """--data-dir and --config, so every command finds the store the same way."""
    command = click.option(
        "--config",
        type=click.Path(dir_okay=False, path_type=Path),
        help="TOML settings file [env: PACKYARD_CONFIG].",
    )(command)
    command = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        help="Data directory [env: PACKYARD_DATA_DIR; default: ./packyard-data].",
    )(command)
    return command


def settings_from(**flags: Any) -> Settings:
    try:
        return load_settings(**flags)
    except (ConfigFileError, ValueError) as exc:
        raise click.UsageError(str(exc)) from exc


def open_store(data_dir: Path | None, config: Path | None) -> Container:
    return bootstrap(settings_from(data_dir=data_dir, config=config))


def reports_errors(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PackyardError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="packyard")
def main() -> None:
    """packyard: a private Python package index."""


@main.command(
    epilog="Settings (flag > environment > config file > default):\n\n\b\n" + describe_settings()
)
@click.option("--host", help="Address to listen on [env: PACKYARD_HOST; default: 127.0.0.1].")
@click.option("--port", type=int, help="Port [env: PACKYARD_PORT; default: 8080].")
@click.option("--workers", type=int, help="Server processes [env: PACKYARD_WORKERS; default: 1].")
@store_options
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    data_dir: Path | None,
    config: Path | None,
) -> None:
    """Run the index server (migrates the database first)."""
    import uvicorn

    settings = settings_from(
        host=host, port=port, workers=workers, data_dir=data_dir, config=config
    )
    bootstrap(settings).close()
    export_settings(settings)
    uvicorn.run(
        "packyard.web.app:create_app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        access_log=False,
        server_header=False,
        log_level="warning",
    )


def export_settings(settings: Settings) -> None:
    """Hand the resolved settings to server workers, which read only the environment."""
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            os.environ.pop(f"PACKYARD_{name.upper()}", None)
            continue
        if isinstance(value, list):
            value = ",".join(value)
        elif isinstance(value, Path):
            value = str(value.resolve())
        os.environ[f"PACKYARD_{name.upper()}"] = str(value)
    os.environ.pop("PACKYARD_CONFIG", None)  # already folded into the variables above


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@store_options
def db_upgrade(data_dir: Path | None, config: Path | None) -> None:
    """Apply every pending migration (serve does this too)."""
    from packyard.adapters.db.migrate import current_revision

    container = open_store(data_dir, config)
    click.echo(f"database at revision {current_revision(container.engine)}")


@main.group()
def user() -> None:
    """Users who may upload."""


@user.command("add")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@store_options
@reports_errors
def user_add(name: str, admin: bool, data_dir: Path | None, config: Path | None) -> None:
    """Add a user; the password is prompted for, or read from stdin when piped."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
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


@main.group()
def index() -> None:
    """Indexes served at /<name>/simple/."""


@index.command("create")
@click.argument("name")
@click.option(
    "--kind", type=click.Choice([k.value for k in IndexKind]), default="hosted", show_default=True
)
@store_options
@reports_errors
def index_create(name: str, kind: str, data_dir: Path | None, config: Path | None) -> None:
    """Create an index."""
    container = open_store(data_dir, config)
    create_index(uow_factory=container.uow, name=name, kind=IndexKind(kind), actor=actor())
    click.echo(f"created {kind} index {name}: /{name}/simple/ (upload to /{name}/legacy/)")


@index.command("list")
@store_options
def index_list(data_dir: Path | None, config: Path | None) -> None:
    """List indexes; the default one is marked with *."""
    indexes, default = list_indexes(uow_factory=open_store(data_dir, config).uow)
    for item in indexes:
        mark = "*" if item.name == default else " "
        click.echo(f"{mark} {item.name}\t{item.kind.value}\t/{item.name}/simple/")


@index.command("default")
@click.argument("name")
@store_options
@reports_errors
def index_default(name: str, data_dir: Path | None, config: Path | None) -> None:
    """Serve NAME at /simple/ and /legacy/."""
    set_default_index(uow_factory=open_store(data_dir, config).uow, name=name, actor=actor())
    click.echo(f"default index is now {name}")


def _yank_command(yanked: bool) -> Callable[..., None]:
    @click.argument("project")
    @click.argument("version")
    @click.option("--file", "filename", help="Only this file of the release.")
    @click.option("--index", "index_name", help="Index (default: the default index).")
    @store_options
    @reports_errors
    def command(
        project: str,
        version: str,
        filename: str | None,
        index_name: str | None,
        data_dir: Path | None,
        config: Path | None,
        reason: str = "",
    ) -> None:
        container = open_store(data_dir, config)
        with container.uow(readonly=True) as uow:
            from packyard.services.indexes import resolve_index

            target = resolve_index(uow, index_name).name
        changed = set_yanked(
            uow_factory=container.uow,
            index=target,
            project=project,
            version=version,
            yanked=yanked,
            actor=actor(),
            filename=filename,
            reason=reason,
        )
        verb = "yanked" if yanked else "unyanked"
        for file in changed:
            click.echo(f"{verb} {file.filename}")
        if not changed:
            click.echo(f"nothing to do: already {verb}")

    return command


main.command("yank", help="Yank a release (or one --file); installers skip it unless pinned.")(
    click.option("--reason", default="", help="Shown to users by installers.")(_yank_command(True))
)
main.command("unyank", help="Undo a yank.")(_yank_command(False))


@main.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--index", "index_name", help="Target hosted index (default: the default index).")
@store_options
@reports_errors
def import_command(
    directory: Path, index_name: str | None, data_dir: Path | None, config: Path | None
) -> None:
    """Import a directory of wheels and sdists (pypiserver's layout)."""
    from packyard.cli_import import run_import

    container = open_store(data_dir, config)
    refused = run_import(container, directory, index_name=index_name, actor=actor())
    if refused:
        sys.exit(1)
