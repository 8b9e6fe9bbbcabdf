"""Documentation hosting through a running server: a site built from `packyard new`'s docs/
uploaded with the legacy form and with `packyard docs upload`, served at the version's URL
and at latest with CSP sandbox; hostile zips refused with nothing changed; only owners
upload; a private index's docs need credentials."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from e2e.clients import assert_rejected, post_upload, publish
from e2e.conftest import UPLOADER, UPLOADER_PASSWORD, Unique
from e2e.server import ServerProcess, base_env, run_cli
from helpers.dists import make_wheel
from helpers.docs_zips import (
    absolute_zip,
    many_members_zip,
    oversized_zip,
    site_zip,
    symlink_zip,
    traversal_zip,
)

pytestmark = pytest.mark.e2e

CSP = "sandbox"
GIB = 1024**3


def build_docs(server: ServerProcess, project: str, workdir: Path) -> Path:
    """`packyard new PROJECT`, then its docs/build.py: the zipped site."""
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    target = workdir / project
    new = run_cli(
        "new", project, "--dir", str(target), "--index-url", server.simple_url, env=base_env(home)
    )
    assert new.returncode == 0, new.stdout + new.stderr
    built = subprocess.run(
        [sys.executable, "docs/build.py"], cwd=target, capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    return target / "docs" / "_build" / "site.zip"


def doc_upload(
    server: ServerProcess,
    project: str,
    archive: Path,
    *,
    version: str | None = "1.0",
    index: str | None = None,
    auth: tuple[str, str] | None = None,
) -> httpx.Response:
    fields = [(":action", "doc_upload"), ("protocol_version", "1"), ("name", project)]
    if version is not None:
        fields.append(("version", version))
    url = f"{server.url}/{index}/legacy/" if index else server.upload_url
    return post_upload(
        url,
        auth=auth or server.auth,
        fields=fields,
        file=(archive.name, archive.read_bytes(), "application/zip"),
    )


def get(url: str, auth: tuple[str, str] | None = None) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=30, auth=auth) as client:
        return client.get(url)


@pytest.fixture
def site(server: ServerProcess, project: str, tmp_path: Path) -> Path:
    """The docs of `packyard new PROJECT`, built while the name is still free."""
    return build_docs(server, project, tmp_path / "new")


@pytest.fixture
def released(server: ServerProcess, dists: Path, project: str, site: Path) -> str:
    """The project, published as 1.0 by the shared server's uploader (its owner)."""
    publish(server, make_wheel(dists, project, "1.0"))
    return project


def assert_served(server: ServerProcess, project: str, path: str, *, says: str) -> httpx.Response:
    for version in ("1.0", "latest"):
        response = get(f"{server.url}/docs/{project}/{version}/{path}")
        assert response.status_code == 200, response.text
        assert response.headers["content-security-policy"] == CSP
        assert says in response.text
    return response


def test_docs_uploaded_with_the_legacy_form_are_served_at_the_version_and_latest(
    server: ServerProcess, released: str, site: Path
) -> None:
    response = doc_upload(server, released, site)

    assert response.status_code == 200, response.text
    page = assert_served(server, released, "", says=f"<h1>{released}</h1>")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    style = get(f"{server.url}/docs/{released}/latest/style.css")
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert style.headers["content-security-policy"] == CSP
    assert get(f"{server.url}/hosted/docs/{released}/1.0/").status_code == 200


def test_the_json_api_links_the_latest_docs(
    server: ServerProcess, released: str, site: Path
) -> None:
    before = get(f"{server.url}/pypi/{released}/json").json()["info"]["docs_url"]
    doc_upload(server, released, site)

    after = get(f"{server.url}/pypi/{released}/json").json()["info"]["docs_url"]

    assert before is None
    assert after == f"{server.url}/docs/{released}/latest/"


def test_docs_uploaded_with_packyard_docs_upload_are_served(
    server: ServerProcess, released: str, site: Path
) -> None:
    result = server.cli("docs", "upload", released, "1.0", str(site))

    assert result.returncode == 0, result.stderr
    assert_served(server, released, "", says=f"<h1>{released}</h1>")


def test_a_directory_is_never_listed_and_a_missing_page_is_404(
    server: ServerProcess, released: str, tmp_path: Path
) -> None:
    doc_upload(server, released, site_zip(tmp_path / "site.zip"))

    listing = get(f"{server.url}/docs/{released}/1.0/p/")
    missing = get(f"{server.url}/docs/{released}/1.0/nothing.html")
    guide = get(f"{server.url}/docs/{released}/1.0/guide/")

    assert listing.status_code == missing.status_code == 404
    assert missing.headers["content-security-policy"] == CSP
    assert "<h1>Guide</h1>" in guide.text


HOSTILE: dict[str, Callable[[Path], Path]] = {
    "traversal": traversal_zip,
    "absolute": absolute_zip,
    "symlink": symlink_zip,
    "too-many-members": lambda path: many_members_zip(path, 10_001),
    "oversized": lambda path: oversized_zip(path, GIB // 2 + 1),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_hostile_zip_is_refused_and_the_docs_stay_as_they_were(
    server: ServerProcess, released: str, site: Path, tmp_path: Path, kind: str
) -> None:
    doc_upload(server, released, site)
    before = get(f"{server.url}/docs/{released}/1.0/")

    response = doc_upload(server, released, HOSTILE[kind](tmp_path / f"{kind}.zip"))

    assert_rejected(response, 400, says=["documentation zip"])
    after = get(f"{server.url}/docs/{released}/1.0/")
    assert (after.status_code, after.text, after.headers["etag"]) == (
        200,
        before.text,
        before.headers["etag"],
    )
    assert get(f"{server.url}/docs/{released}/1.0/evil.html").status_code == 404


def test_a_new_upload_replaces_the_release_docs(
    server: ServerProcess, released: str, site: Path, tmp_path: Path
) -> None:
    doc_upload(server, released, site)

    doc_upload(server, released, site_zip(tmp_path / "v2.zip", {"index.html": b"second"}))

    assert get(f"{server.url}/docs/{released}/1.0/").text == "second"
    assert get(f"{server.url}/docs/{released}/1.0/style.css").status_code == 404


def test_a_non_owner_doc_upload_is_refused(
    server: ServerProcess, released: str, site: Path, unique: Unique
) -> None:
    intruder = (unique("intruder")[:60], "intruder password")
    server.cli("user", "add", intruder[0], input=f"{intruder[1]}\n", check=True)

    response = doc_upload(server, released, site, auth=intruder)

    assert_rejected(response, 403, says=["owner or maintainer"])
    assert get(f"{server.url}/docs/{released}/latest/").status_code == 404


def test_a_private_index_docs_need_credentials(
    server: ServerProcess, dists: Path, unique: Unique, tmp_path: Path
) -> None:
    private, project = unique("idx")[-40:].strip("-"), unique()
    server.cli("index", "create", private, check=True)
    server.cli("index", "set", private, "--readers", UPLOADER, check=True)
    publish(server, make_wheel(dists, project, "1.0"), index=private)
    response = doc_upload(server, project, site_zip(tmp_path / "s.zip"), index=private)
    assert response.status_code == 200, response.text
    url = f"{server.url}/{private}/docs/{project}/latest/"

    anonymous = get(url)
    logged_in = get(url, auth=(UPLOADER, UPLOADER_PASSWORD))

    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].lower().startswith("basic")
    assert anonymous.headers["content-security-policy"] == CSP
    assert logged_in.status_code == 200
    assert "<h1>Docs</h1>" in logged_in.text
