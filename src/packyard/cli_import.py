"""`packyard import`: load a directory of distributions with a progress bar and a report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from packyard.bootstrap import Container
from packyard.services.importer import ImportOutcome, import_file
from packyard.services.indexes import resolve_index, upload_target


def run_import(container: Container, directory: Path, *, index_name: str | None, actor: str) -> int:
    """Import every file below `directory`; return how many were refused."""
    with container.uow(readonly=True) as uow:
        index = upload_target(uow, resolve_index(uow, index_name)).name
    paths = sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith("."))
    counts = {outcome: 0 for outcome in ImportOutcome}
    refusals: list[str] = []
    console = Console(stderr=True)
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[name]}"),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("import", total=len(paths), name="")
        for path in paths:
            progress.update(task, name=path.name)
            outcome, detail = import_file(
                uow_factory=container.uow,
                files=container.files,
                index=index,
                path=path,
                upload_time=datetime.fromtimestamp(path.stat().st_mtime, UTC),
                actor=actor,
            )
            counts[outcome] += 1
            if outcome is ImportOutcome.REFUSED:
                refusals.append(f"refused {path}: {detail}")
            progress.advance(task)
    for line in refusals:
        click.echo(line, err=True)
    click.echo(
        f"imported {counts[ImportOutcome.IMPORTED]}, already present "
        f"{counts[ImportOutcome.SKIPPED]}, refused {counts[ImportOutcome.REFUSED]} into {index}"
    )
    return counts[ImportOutcome.REFUSED]
