"""The `packyard` command: run the server and administer the store directly."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import click

from packyard.bootstrap import bootstrap
from packyard.cli_common import actor, open_store, reports_errors, settings_from, store_options
from packyard.config import Settings, describe_settings
from packyard.services.indexes import resolve_index, upload_target
from packyard.services.yank import set_yanked


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
            target = upload_target(uow, resolve_index(uow, index_name)).name
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


def _register() -> None:
    from packyard.cli_access import audit, team, token, user
    from packyard.cli_docs import docs
    from packyard.cli_index import index
    from packyard.cli_mirror import explain, mirror, project
    from packyard.cli_new import new

    for command in (index, mirror, project, explain, user, team, token, audit, docs, new):
        main.add_command(command)


_register()
