"""`packyard docs upload PROJECT VERSION site.zip`: a release's documentation, from the
store directly, as an administrator (project owners upload over HTTP: the legacy form's
`:action=doc_upload` or `PUT /api/v1/indexes/I/projects/P/docs/V`)."""

from __future__ import annotations

from pathlib import Path

import click

from packyard.cli_common import actor, open_store, reports_errors, store_options
from packyard.services.docs import upload_docs
from packyard.services.indexes import resolve_index, upload_target


@click.group()
def docs() -> None:
    """Hosted documentation, served at /docs/PROJECT/VERSION/ and /docs/PROJECT/latest/."""


@docs.command("upload")
@click.argument("project")
@click.argument("version")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--index", "index_name", help="Index (default: the default index).")
@store_options
@reports_errors
def docs_upload(
    project: str,
    version: str,
    archive: Path,
    index_name: str | None,
    data_dir: Path | None,
    config: Path | None,
) -> None:
    """Upload a zipped site as the docs of a release, replacing what it had."""
    container = open_store(data_dir, config)
    with container.uow(readonly=True) as uow:
        target = upload_target(uow, resolve_index(uow, index_name)).name
    docset = upload_docs(
        uow_factory=container.uow,
        files=container.files,
        index=target,
        project=project,
        version=version,
        archive=archive,
        who=None,
        actor=actor(),
        now=container.clock.now(),
    )
    click.echo(
        f"uploaded documentation for {docset.project} {docset.version} "
        f"({len(docset.members)} files) to index {target}: "
        f"/{target}/docs/{docset.project}/{docset.version}/"
    )
