"""`packyard mirror ...`, `packyard project claim` and `packyard explain`."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from packyard.bootstrap import Container
from packyard.cli_access import project_role_command
from packyard.cli_common import actor, open_store, reports_errors, store_options
from packyard.domain.errors import InvalidInput, PackyardError
from packyard.domain.models import Index, IndexKind, Role
from packyard.domain.names import validate_project_name
from packyard.services.catalog import ProjectView
from packyard.services.indexes import add_claim, configure_index, get_index, list_indexes
from packyard.web.explain import explanation


@click.group()
def mirror() -> None:
    """Mirror indexes: warm and refresh the cache."""


@mirror.command("refresh")
@click.option("--index", "index_name", help="Only this mirror (default: every mirror).")
@store_options
@reports_errors
def mirror_refresh(index_name: str | None, data_dir: Path | None, config: Path | None) -> None:
    """Revalidate every cached project page with its upstream."""
    container = open_store(data_dir, config)
    indexes, _ = list_indexes(uow_factory=container.uow)
    mirrors = [i for i in indexes if i.kind is IndexKind.MIRROR]
    if index_name is not None:
        mirrors = [i for i in mirrors if i.name == index_name]
        if not mirrors:
            raise InvalidInput(f"There is no mirror index named {index_name!r}")
    failures = asyncio.run(_refresh_all(container, mirrors))
    if failures:
        sys.exit(1)


async def _refresh_all(container: Container, mirrors: list[Index]) -> int:
    failures = 0
    total = 0
    with _progress() as progress:
        for index in mirrors:
            projects = container.mirror.cached_projects(index.name)
            total += len(projects)
            task = progress.add_task(f"refreshing {index.name}", total=len(projects), name="")
            for project in projects:
                progress.update(task, name=project.name)
                try:
                    await container.mirror.refresh(index, project.name)
                except PackyardError as exc:  # one failing project must not stop the others
                    failures += 1
                    click.echo(f"{index.name}/{project.name}: {exc}", err=True)
                progress.advance(task)
    await container.mirror.aclose()
    click.echo(f"refreshed {total - failures} of {total} cached projects")
    return failures


@contextmanager
def _progress() -> Iterator[Progress]:
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[name]}"),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        yield progress


@mirror.command("warm")
@click.option(
    "-r",
    "--requirement",
    "requirements",
    required=True,
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Requirements file to resolve and prefetch (repeatable).",
)
@click.option("--index", "index_name", help="Index to warm through (default: the default).")
@click.option("--python-version", help="Resolve for this Python, e.g. 3.12 (wheels only).")
@click.option(
    "--platform",
    "platforms",
    multiple=True,
    help="Resolve for this platform tag, e.g. manylinux_2_28_x86_64 (wheels only).",
)
@store_options
@reports_errors
def mirror_warm(
    requirements: tuple[Path, ...],
    index_name: str | None,
    python_version: str | None,
    platforms: tuple[str, ...],
    data_dir: Path | None,
    config: Path | None,
) -> None:
    """Resolve requirements through an index and prefetch every file they need.

    Runs this store's server on a private loopback port and lets pip resolve against it,
    so exactly what an install would fetch ends up cached.
    """
    container = open_store(data_dir, config)
    target = get_index(uow_factory=container.uow, name=index_name) if index_name else None
    with _private_server(container) as base, tempfile.TemporaryDirectory() as scratch:
        path = f"/{target.name}/simple/" if target else "/simple/"
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            "--index-url",
            base + path,
            "--dest",
            scratch,
        ]
        for requirement in requirements:
            command += ["-r", str(requirement)]
        if python_version or platforms:
            command += ["--only-binary", ":all:"]
        if python_version:
            command += ["--python-version", python_version]
        for platform in platforms:
            command += ["--platform", platform]
        fetched = _run_pip(command)
    click.echo(f"warmed {fetched} files")


def _run_pip(command: list[str]) -> int:
    # Only this index counts: the machine's pip configuration must not add others.
    env = {
        **os.environ,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_FIND_LINKS": "",
        "PIP_CONSTRAINT": "",
        "PIP_NO_INPUT": "1",
    }
    fetched = 0
    with _progress() as progress:
        task = progress.add_task("resolving", total=None, name="")
        with subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as pip:
            assert pip.stdout is not None
            lines = []
            for line in pip.stdout:
                lines.append(line)
                if line.startswith(("Saved ", "File was already downloaded")):
                    fetched += 1
                    progress.update(task, name=line.rsplit("/", 1)[-1].strip())
                elif line.startswith("Collecting "):
                    progress.update(task, name=line.split(" ", 1)[1].strip())
        if pip.returncode:
            click.echo("".join(lines[-20:]), err=True)
            raise click.ClickException(
                f"pip could not resolve the requirements (exit {pip.returncode})"
            )
    return fetched


@contextmanager
def _private_server(container: Container) -> Iterator[str]:
    from packyard.web.app import create_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(container.settings, container=container)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise click.ClickException("the private server did not start")
            threading.Event().wait(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@click.group()
def project() -> None:
    """Projects: owners and maintainers, claims, deletion."""


project.add_command(project_role_command(Role.OWNER))
project.add_command(project_role_command(Role.MAINTAINER))


@project.command("delete")
@click.argument("name")
@click.option("--version", help="Only this release.")
@click.option("--file", "filename", help="Only this file.")
@click.option("--index", "index_name", help="Hosted index (default: the upload target).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@store_options
@reports_errors
def project_delete(
    name: str,
    version: str | None,
    filename: str | None,
    index_name: str | None,
    yes: bool,
    data_dir: Path | None,
    config: Path | None,
) -> None:
    """Delete files for good; their filenames can never be uploaded again."""
    from packyard.services.indexes import resolve_index, upload_target
    from packyard.services.projects import delete_files

    container = open_store(data_dir, config)
    with container.uow(readonly=True) as uow:
        hosted = upload_target(uow, resolve_index(uow, index_name)).name
    what = filename or (f"{name} {version}" if version else f"every file of {name}")
    if not yes:
        click.confirm(f"Delete {what} from {hosted} for good?", abort=True)
    deleted = delete_files(
        uow_factory=container.uow,
        clock=container.clock,
        index=hosted,
        project=name,
        who=None,
        actor=actor(),
        version=version,
        filename=filename,
    )
    for file in deleted:
        click.echo(f"deleted {file.filename}")


@project.command("claim")
@click.argument("name")
@click.option("--index", "index_name", help="Hosted index (default: the default's upload target).")
@click.option("--reason", default="", help="Why the name is the organisation's own.")
@store_options
@reports_errors
def project_claim(
    name: str, index_name: str | None, reason: str, data_dir: Path | None, config: Path | None
) -> None:
    """Allow uploads of NAME although an upstream has a project of that name."""
    container = open_store(data_dir, config)
    with container.uow(readonly=True) as uow:
        from packyard.services.indexes import resolve_index, upload_target

        hosted = upload_target(uow, resolve_index(uow, index_name)).name
    who = actor()
    configure_index(
        uow_factory=container.uow,
        name=hosted,
        actor=who,
        change=lambda s: add_claim(
            s, project=name, reason=reason, actor=who, now=datetime.now(UTC)
        ),
        what=f"claim {validate_project_name(name)}",
    )
    click.echo(f"claimed {name} in {hosted}")


@click.command("explain")
@click.argument("project_name", metavar="PROJECT")
@click.option("--index", "index_name", help="Index (default: the default index).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@store_options
@reports_errors
def explain(
    project_name: str,
    index_name: str | None,
    as_json: bool,
    data_dir: Path | None,
    config: Path | None,
) -> None:
    """Which member answers PROJECT, which were shadowed, what policies removed and why."""
    container = open_store(data_dir, config)
    index = get_index(uow_factory=container.uow, name=index_name) if index_name else None
    if index is None:
        with container.uow(readonly=True) as uow:
            from packyard.services.indexes import resolve_index

            index = resolve_index(uow, None)
    name = validate_project_name(project_name)

    async def look() -> ProjectView | None:
        try:
            return await container.catalog.project(index, name)
        finally:
            await container.mirror.aclose()

    view = asyncio.run(look())
    if as_json:
        click.echo(json.dumps(explanation(index.name, name, view), indent=2))
        return
    if view is None:
        click.echo(f"{name}: no member of {index.name} has it")
        return
    click.echo(f"{name} in {index.name}: answered by {', '.join(view.answered_by)}")
    if view.shadowed:
        click.echo(f"shadowed: {', '.join(view.shadowed)}")
    for listed in view.files:
        click.echo(f"  listed   {listed.filename}")
    for filename, why in view.removed:
        click.echo(f"  removed  {filename}: {why}")
