"""`packyard index ...`: create, show and configure indexes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from packyard.adapters.upstream import pip_default_index, redact
from packyard.cli_common import actor, duration_option, open_store, reports_errors, store_options
from packyard.config import Settings
from packyard.domain.access import Audience
from packyard.domain.index_config import IndexSettings
from packyard.domain.models import IndexKind
from packyard.domain.policy import parse_rule
from packyard.services.indexes import (
    add_exemption,
    configure_index,
    create_index,
    get_index,
    list_indexes,
    set_default_index,
    set_options,
    set_permissions,
)


@click.group()
def index() -> None:
    """Indexes served at /<name>/simple/."""


def default_upstream(settings: Settings) -> str:
    configured = settings.upstream_url
    if configured and configured.lower() != "none":
        return configured
    return pip_default_index()


@index.command("create")
@click.argument("name")
@click.option(
    "--kind", type=click.Choice([k.value for k in IndexKind]), default="hosted", show_default=True
)
@click.option("--upstream", help="Mirror: upstream simple index URL (default: as pip's).")
@click.option("--ttl", help="Mirror: how long a fetched page is fresh, e.g. 10m (default).")
@click.option("--members", help="Virtual: comma-separated member indexes, first wins.")
@store_options
@reports_errors
def index_create(
    name: str,
    kind: str,
    upstream: str | None,
    ttl: str | None,
    members: str | None,
    data_dir: Path | None,
    config: Path | None,
) -> None:
    """Create a hosted, mirror or virtual index."""
    container = open_store(data_dir, config)
    chosen = IndexKind(kind)
    if chosen is IndexKind.MIRROR and upstream is None:
        upstream = default_upstream(container.settings)
    create_index(
        uow_factory=container.uow,
        name=name,
        kind=chosen,
        actor=actor(),
        upstream=upstream,
        ttl=duration_option(ttl),
        members=[m.strip() for m in members.split(",") if m.strip()] if members else (),
    )
    click.echo(f"created {kind} index {name}: /{name}/simple/")


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


@index.command("show")
@click.argument("name")
@store_options
@reports_errors
def index_show(name: str, data_dir: Path | None, config: Path | None) -> None:
    """Show an index's settings and policies (a mirror's resolved upstream too)."""
    found = get_index(uow_factory=open_store(data_dir, config).uow, name=name)
    click.echo(f"name\t{found.name}")
    for label, value in IndexSettings.of(found).describe():
        click.echo(f"{label}\t{redact(value) if label == 'upstream' else value}")


@index.command("set")
@click.argument("name")
@click.option("--min-age", help="Minimum release age of mirrored files, e.g. 3d (0 removes).")
@click.option("--allow", multiple=True, help="Serve only what matches, e.g. 'internal-*'.")
@click.option("--deny", multiple=True, help="Never serve what matches, e.g. 'requests<2.30'.")
@click.option("--clear-rules", is_flag=True, help="Remove every allow and deny rule first.")
@click.option("--merge", multiple=True, help="Virtual: merge this project across members.")
@click.option("--ttl", help="Mirror: page freshness, e.g. 10m.")
@click.option("--offline/--online", default=None, help="Mirror: serve only what is cached.")
@click.option("--readers", help="Who may read: anonymous, authenticated, or 'alice,@team'.")
@click.option("--uploaders", help="Who may upload: authenticated, or 'alice,@team'.")
@store_options
@reports_errors
def index_set(
    name: str,
    min_age: str | None,
    allow: tuple[str, ...],
    deny: tuple[str, ...],
    clear_rules: bool,
    merge: tuple[str, ...],
    ttl: str | None,
    offline: bool | None,
    readers: str | None,
    uploaders: str | None,
    data_dir: Path | None,
    config: Path | None,
) -> None:
    """Change an index's policies, permissions and options; pages follow at once."""
    allow_rules = [parse_rule(rule) for rule in allow]
    deny_rules = [parse_rule(rule) for rule in deny]
    reader_audience = Audience.parse(readers) if readers is not None else None
    uploader_audience = Audience.parse(uploaders) if uploaders is not None else None

    def change(settings: IndexSettings) -> IndexSettings:
        settings = set_permissions(settings, readers=reader_audience, uploaders=uploader_audience)
        return set_options(
            settings,
            clear_rules=clear_rules,
            min_age=duration_option(min_age),
            allow=allow_rules,
            deny=deny_rules,
            merge=merge,
            ttl=duration_option(ttl),
            offline=offline,
        )

    settings = configure_index(
        uow_factory=open_store(data_dir, config).uow,
        name=name,
        actor=actor(),
        change=change,
        what="options",
    )
    for label, value in settings.describe():
        click.echo(f"{label}\t{value}")


@index.command("exempt")
@click.argument("name")
@click.argument("project")
@click.option("--reason", required=True, help="Why the minimum release age is lifted.")
@click.option("--expires", help="Lift it for this long only, e.g. 2d.")
@store_options
@reports_errors
def index_exempt(
    name: str,
    project: str,
    reason: str,
    expires: str | None,
    data_dir: Path | None,
    config: Path | None,
) -> None:
    """Exempt PROJECT from the index's minimum release age ("break glass")."""
    who = actor()
    lifetime = duration_option(expires)
    configure_index(
        uow_factory=open_store(data_dir, config).uow,
        name=name,
        actor=who,
        change=lambda s: add_exemption(
            s, project=project, reason=reason, actor=who, now=datetime.now(UTC), expires=lifetime
        ),
        what=f"exempt {project}",
    )
    click.echo(f"exempted {project} in {name} from the minimum release age")
