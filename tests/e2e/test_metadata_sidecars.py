"""Core-metadata sidecars (PEP 658/714): STANDARDS M1-M3."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from e2e.clients import Clients, expect_ok, installable_dists, publish, sha256_of
from e2e.conftest import Unique
from e2e.server import ServerProcess
from e2e.simple import IndexClient
from helpers.dists import make_sdist, make_wheel, metadata_of, module_name

pytestmark = pytest.mark.e2e


def test_wheel_sidecar_is_the_dist_info_metadata_with_the_advertised_hash(
    server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    wheel = make_wheel(dists, project, "1.0", dependencies=["packaging>=20"])
    publish(server, wheel)
    anchor = index.project_html(project).anchor(wheel.name)

    response = index.http.get(f"{anchor.url}.metadata")

    assert response.status_code == 200
    assert response.content == metadata_of(wheel)
    assert anchor.attrs["data-core-metadata"] == f"sha256={sha256_of(response.content)}"
    json_entry = index.json_file(project, wheel.name)
    assert json_entry["core-metadata"] == {"sha256": sha256_of(response.content)}


def test_sidecar_path_is_derived_from_the_wheel_filename_for_any_name_spelling(
    server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    spelled = project.upper().replace("-", ".", 1).replace("-", "_")
    wheel = make_wheel(dists, spelled, "1.0.0")
    publish(server, wheel)
    anchor = index.project_html(project).anchor(wheel.name)

    response = index.http.get(f"{anchor.url}.metadata")

    assert response.status_code == 200
    assert response.content == metadata_of(wheel)


def test_file_urls_that_advertise_metadata_have_no_query_string(
    server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    publish(server, make_wheel(dists, project, "1.0"), make_sdist(dists, project, "1.0"))
    page = index.project_html(project)
    document = index.project_json(project)

    advertised = [a for a in page.anchors if "data-core-metadata" in a.attrs]
    assert advertised
    assert all("?" not in a.url for a in advertised)
    assert all("?" not in f["url"] for f in document["files"] if f["core-metadata"])


def test_sdist_with_static_metadata_gets_a_sidecar(
    server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    sdist = make_sdist(dists, project, "1.0", metadata_version="2.2")
    publish(server, sdist)
    anchor = index.project_html(project).anchor(sdist.name)

    response = index.http.get(f"{anchor.url}.metadata")

    assert response.status_code == 200
    assert response.content == metadata_of(sdist)
    assert anchor.attrs.get("data-core-metadata") == f"sha256={sha256_of(metadata_of(sdist))}"


@pytest.mark.parametrize(
    ("metadata_version", "dynamic"),
    [
        pytest.param("2.2", ("Requires-Dist",), id="dynamic-field"),
        pytest.param("2.1", (), id="metadata-2.1"),
        pytest.param("1.2", (), id="metadata-1.2"),
    ],
)
def test_sdist_without_static_metadata_gets_no_sidecar(
    server: ServerProcess,
    dists: Path,
    project: str,
    index: IndexClient,
    metadata_version: str,
    dynamic: tuple[str, ...],
) -> None:
    sdist = make_sdist(dists, project, "1.0", metadata_version=metadata_version, dynamic=dynamic)
    publish(server, sdist)
    anchor = index.project_html(project).anchor(sdist.name)

    assert "data-core-metadata" not in anchor.attrs
    assert "data-dist-info-metadata" not in anchor.attrs
    assert index.json_file(project, sdist.name)["core-metadata"] is False
    assert index.http.get(f"{anchor.url}.metadata").status_code == 404


def test_pip_reads_dependencies_from_the_sidecar_and_installs_them(
    server: ServerProcess, clients: Clients, dists: Path, unique: Unique, index: IndexClient
) -> None:
    app, lib = unique("app"), unique("lib")
    lib_wheel, _ = installable_dists(dists, lib, "1.0")
    app_wheel = make_wheel(dists, app, "1.0", dependencies=[f"{lib}>=1.0"])
    publish(server, lib_wheel, app_wheel)
    sidecar = f"{index.project_html(app).anchor(app_wheel.name).url}.metadata"

    result, target = clients.pip_install(server.simple_url, f"{app}==1.0")

    expect_ok(result)
    # pip logs the sidecar URL it fetched (percent-encoding '+' on the way).
    obtained = [unquote(ln) for ln in result.stdout.splitlines() if "Obtaining dependency" in ln]
    assert any(f"{app}==1.0" in line and sidecar in line for line in obtained), result.stdout
    assert clients.installed_in_target(target, module_name(lib)).version == "1.0"
