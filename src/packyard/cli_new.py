"""`packyard new NAME`: a ready project that publishes to this packyard, and only to it.

A client: it asks the index over HTTP whether the name is free (credentials from the URL
or ~/.netrc), then writes files from templates/new. Nothing is written unless the name
is valid and free and the directory does not exist yet.
"""

from __future__ import annotations

import json
import keyword
import netrc
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import click
import httpx
import jinja2

from packyard.domain.errors import InvalidInput
from packyard.domain.names import normalize, validate_project_name

TEMPLATES = ("templates", "new")
SUFFIX = ".j2"
LICENSE = "LicenseRef-Proprietary"
TIMEOUT = 10.0
# Template paths that cannot be stored as they are named in a project.
_RENAMES = {"github": ".github", "gitignore": ".gitignore"}


@dataclass(frozen=True)
class NewProject:
    name: str
    index_url: str  # without credentials: it is written into files
    publish_url: str
    author: str | None = None
    email: str | None = None

    @property
    def normalized(self) -> str:
        return normalize(self.name)

    @property
    def module(self) -> str:
        return self.normalized.replace("-", "_").replace(".", "_")

    def context(self) -> dict[str, object]:
        return {
            "name": self.name,
            "normalized": self.normalized,
            "module": self.module,
            "description": f"{self.name}: a package of the organisation's index.",
            "requires_python": f">={sys.version_info.major}.{sys.version_info.minor}",
            "license": LICENSE,
            "index_url": self.index_url,
            "publish_url": self.publish_url,
            "people": _people(self.author, self.email),
        }


def check_name(name: str) -> str:
    """The normalised name, or InvalidInput saying why the name cannot be a project."""
    normalized = validate_project_name(name)
    module = normalized.replace("-", "_").replace(".", "_")
    if not module.isidentifier() or keyword.iskeyword(module):
        raise InvalidInput(f"{name!r} cannot be a Python package: {module!r} is not a module name")
    return normalized


def split_credentials(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """The URL without user:password, and those as Basic auth (else from ~/.netrc)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise InvalidInput(f"{url!r} is not an http(s) index URL")
    netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    if parts.username is not None:
        return clean, httpx.BasicAuth(unquote(parts.username), unquote(parts.password or ""))
    return clean, _netrc_auth(parts.hostname)


def _netrc_auth(host: str) -> httpx.BasicAuth | None:
    try:
        found = netrc.netrc(os.environ.get("NETRC")).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    return httpx.BasicAuth(found[0], found[2] or "") if found else None


def publish_url_for(index_url: str) -> str:
    """`.../simple/` serves an index; `.../legacy/` next to it takes its uploads."""
    base = index_url.rstrip("/")
    if not base.endswith("/simple"):
        raise InvalidInput(
            f"{index_url!r} is not a packyard index URL: it ends in /simple/ "
            "(http://host/simple/ or http://host/<index>/simple/)"
        )
    return base.removesuffix("simple") + "legacy/"


def check_free(
    index_url: str,
    name: str,
    auth: httpx.BasicAuth | None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> None:
    """Refuse a name the index answers for: anything but 404 (on a virtual index, an
    upstream project counts too)."""
    url = f"{index_url.rstrip('/')}/{normalize(name)}/"
    try:
        with httpx.Client(
            auth=auth, timeout=TIMEOUT, follow_redirects=False, transport=transport
        ) as client:
            status = client.get(url).status_code
    except httpx.HTTPError as error:
        raise InvalidInput(f"Cannot ask {url} whether {name!r} is taken: {error}") from error
    if status == 404:
        return
    if status in {401, 403}:
        raise InvalidInput(
            f"Cannot check whether {name!r} is taken: {url} answered {status}; give "
            "credentials in the index URL or in ~/.netrc"
        )
    if status >= 400:
        raise InvalidInput(f"Cannot check whether {name!r} is taken: {url} answered {status}")
    raise InvalidInput(f"{name!r} is taken: {url} answered {status}; choose another name")


def render(project: NewProject) -> dict[str, str]:
    """Every file of the new project by its relative path."""
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    environment.filters["toml"] = json.dumps  # a TOML basic string, escapes included
    environment.filters["shell"] = shlex.quote
    context = project.context()
    root = files("packyard").joinpath(*TEMPLATES)
    rendered = {}
    for relative, template in _walk(root, ()):
        text = template.read_text(encoding="utf-8")
        if template.name.endswith(SUFFIX):
            text = environment.from_string(text).render(context)
        parts = [part.removesuffix(SUFFIX) for part in relative]
        path = "/".join(_RENAMES.get(part, part) for part in parts)
        rendered[path.replace("__module__", project.module)] = text
    return rendered


def _walk(node: Traversable, prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], Traversable]]:
    found = []
    for child in sorted(node.iterdir(), key=lambda c: c.name):
        if child.name == "__pycache__":
            continue
        path = (*prefix, child.name)
        found += _walk(child, path) if child.is_dir() else [(path, child)]
    return found


def write_project(target: Path, rendered: dict[str, str]) -> None:
    """Create `target` (never an existing one) and write the files; on failure, remove it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        target.mkdir()
    except FileExistsError as error:
        raise InvalidInput(f"{target} exists already; nothing was written") from error
    try:
        for relative, text in rendered.items():
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise


def _people(name: str | None, email: str | None) -> str:
    """An inline table of PEP 621's authors: `{ name = "...", email = "..." }`."""
    fields = [
        f"{key} = {json.dumps(value)}" for key, value in (("name", name), ("email", email)) if value
    ]
    return "{ " + ", ".join(fields) + " }" if fields else ""


def _git_config(key: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "config", "--get", key], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None


@click.command("new")
@click.argument("name")
@click.option("--dir", "directory", type=click.Path(path_type=Path), help="Default: ./NAME.")
@click.option(
    "--index-url",
    envvar="PACKYARD_INDEX_URL",
    help="The packyard index, http://host/simple/ [env: PACKYARD_INDEX_URL].",
)
@click.option("--owner", help="Author and maintainer name (default: git config user.name).")
@click.option("--email", help="Their email (default: git config user.email).")
def new(
    name: str,
    directory: Path | None,
    index_url: str | None,
    owner: str | None,
    email: str | None,
) -> None:
    """Create a project NAME that builds, tests and publishes to this packyard."""
    if not index_url:
        raise click.UsageError("Give --index-url or set PACKYARD_INDEX_URL")
    target = directory or Path(name)
    try:
        check_name(name)
        clean_url, auth = split_credentials(index_url)
        project = NewProject(
            name=name,
            index_url=clean_url,
            publish_url=publish_url_for(clean_url),
            author=owner or _git_config("user.name"),
            email=email or _git_config("user.email"),
        )
        if target.exists():
            raise InvalidInput(f"{target} exists already; nothing was written")
        check_free(clean_url, name, auth)
        write_project(target, render(project))
    except InvalidInput as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"created {name} in {target}")
    click.echo(f"next: cd {target} && uv build && uv publish  (to {project.publish_url})")
