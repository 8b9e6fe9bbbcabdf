"""Admin commands act on the store of a running server: import, indexes, db upgrade."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from e2e.clients import Clients, expect_ok, installable_dists, publish, upload
from e2e.conftest import Cli, ServerFactory, Unique
from e2e.server import ServerProcess
from e2e.simple import IndexClient, normalize
from helpers.dists import (
    core_metadata,
    dist_name,
    make_corrupt_wheel,
    make_sdist,
    make_wheel,
    module_name,
)

pytestmark = pytest.mark.e2e

SDIST_MTIME = 1_500_000_000  # 2017-07-14T02:40:00Z
WHEEL_MTIME = 1_600_000_000  # 2020-09-13T12:26:40Z


def ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}{result.stderr}"


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# packyard import ------------------------------------------------------------------------


@pytest.fixture
def import_dir(tmp_path: Path, project: str) -> dict[str, Path]:
    """A pypiserver-style directory: a legacy-named sdist, a wheel, an egg, a broken wheel."""
    directory = tmp_path / "packages"
    directory.mkdir()
    legacy = "-".join(part.capitalize() for part in project.split("-"))  # Foo-Bar style
    files = {
        "sdist": make_sdist(
            directory,
            legacy,
            "1.0",
            filename=f"{legacy}-1.0.tar.gz",
            pkg_info=core_metadata(legacy, "1.0", metadata_version="2.1"),
        ),
        "wheel": make_wheel(directory, project, "2.0"),
    }
    egg = make_wheel(tmp_path, project, "3.0")
    files["egg"] = egg.rename(directory / f"{dist_name(project)}-3.0-py3.11.egg")
    files["invalid"] = make_corrupt_wheel(directory, project, "4.0")
    os.utime(files["sdist"], (SDIST_MTIME, SDIST_MTIME))
    os.utime(files["wheel"], (WHEEL_MTIME, WHEEL_MTIME))
    return files


def test_import_lists_valid_files_with_their_mtime_and_exits_1_for_refused_ones(
    cli: Cli, import_dir: dict[str, Path], project: str, index: IndexClient
) -> None:
    directory = import_dir["sdist"].parent

    result = cli("import", str(directory), "--index", "hosted")

    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert import_dir["egg"].name in output
    assert import_dir["invalid"].name in output
    files = {f["filename"]: f for f in index.project_json(project, "hosted")["files"]}
    assert sorted(files) == sorted([import_dir["sdist"].name, import_dir["wheel"].name])
    expected = {"sdist": SDIST_MTIME, "wheel": WHEEL_MTIME}
    for kind, mtime in expected.items():
        entry = files[import_dir[kind].name]
        assert parse_time(entry["upload-time"]) == datetime.fromtimestamp(mtime, UTC)
    releases = index.pypi_json(project).json()["releases"]
    api_time = releases["1.0"][0]["upload_time_iso_8601"]
    assert parse_time(api_time) == datetime.fromtimestamp(SDIST_MTIME, UTC)


def test_imported_files_are_served_and_installable(
    cli: Cli,
    server: ServerProcess,
    clients: Clients,
    tmp_path: Path,
    project: str,
    index: IndexClient,
) -> None:
    directory = tmp_path / "installable"
    directory.mkdir()
    wheel, sdist = installable_dists(directory, project, "1.0")

    ok(cli("import", str(directory), "--index", "hosted"))

    assert index.download(project, wheel.name) == wheel.read_bytes()
    assert index.download(project, sdist.name) == sdist.read_bytes()
    result, target = clients.pip_install(server.simple_url, f"{project}==1.0")
    expect_ok(result)
    assert clients.installed_in_target(target, module_name(project)).version == "1.0"


def test_import_rerun_skips_files_already_imported(
    cli: Cli, import_dir: dict[str, Path], project: str, index: IndexClient
) -> None:
    directory = import_dir["sdist"].parent
    cli("import", str(directory), "--index", "hosted")
    before = index.snapshot(project)

    again = cli("import", str(directory), "--index", "hosted")
    import_dir["egg"].unlink()
    import_dir["invalid"].unlink()
    clean = cli("import", str(directory), "--index", "hosted")

    assert again.returncode == 1, again.stdout + again.stderr
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert index.snapshot(project) == before


def test_import_refuses_other_bytes_under_an_existing_filename(
    cli: Cli, server: ServerProcess, tmp_path: Path, project: str, index: IndexClient
) -> None:
    publish(server, make_wheel(tmp_path, project, "1.0"))
    before = index.snapshot(project)
    directory = tmp_path / "conflicting"
    directory.mkdir()
    make_wheel(directory, project, "1.0", summary="other bytes")

    result = cli("import", str(directory), "--index", "hosted")

    assert result.returncode == 1, result.stdout + result.stderr
    assert index.snapshot(project) == before


# indexes ---------------------------------------------------------------------------------


@pytest.fixture
def team_index(cli: Cli, unique: Unique) -> str:
    name = unique("idx")
    ok(cli("index", "create", name, "--kind", "hosted"))
    return name


def test_created_index_is_listed(cli: Cli, team_index: str) -> None:
    result = cli("index", "list")

    assert result.returncode == 0
    assert team_index in result.stdout


def test_upload_to_a_created_index_appears_only_in_that_index(
    server: ServerProcess,
    clients: Clients,
    dists: Path,
    project: str,
    team_index: str,
    index: IndexClient,
) -> None:
    wheel, sdist = installable_dists(dists, project, "1.0")

    expect_ok(
        clients.twine_upload(
            f"{server.url}/{team_index}/legacy/",
            wheel,
            sdist,
            user=server.user,
            password=server.password,
        )
    )

    assert sorted(index.project_html(project, team_index).filenames) == sorted(
        [wheel.name, sdist.name]
    )
    assert index.http.get(f"/simple/{normalize(project)}/").status_code == 404
    assert index.http.get(f"/hosted/simple/{normalize(project)}/").status_code == 404
    assert index.http.get(f"/{team_index}/pypi/{project}/json").status_code == 200
    assert index.pypi_json(project).status_code == 404
    assert normalize(project) in [normalize(a.text) for a in index.root_html(team_index).anchors]
    result, target = clients.pip_install(f"{server.url}/{team_index}/simple/", project)
    expect_ok(result)
    assert clients.installed_in_target(target, module_name(project)).version == "1.0"


def test_same_project_in_two_indexes_is_two_projects(
    server: ServerProcess, dists: Path, project: str, team_index: str, index: IndexClient
) -> None:
    hosted = make_wheel(dists, project, "1.0")
    (dists / "team").mkdir()
    team = make_wheel(dists / "team", project, "1.0", summary="the team's own")

    assert upload(server, hosted).status_code == 200
    assert upload(server, team, index=team_index).status_code == 200

    assert (
        index.project_html(project).anchor(hosted.name).sha256
        != index.project_html(project, team_index).anchor(team.name).sha256
    )


@pytest.mark.parametrize(
    "name", ["simple", "+x", "api", "legacy", "pypi", "Upper", "has space", "-dash"]
)
def test_reserved_or_invalid_index_names_are_refused(cli: Cli, name: str) -> None:
    result = cli("index", "create", name, "--kind", "hosted")

    assert result.returncode != 0, result.stdout
    assert (result.stdout + result.stderr).strip(), "refused without saying why"


def test_creating_an_existing_index_fails(cli: Cli, team_index: str) -> None:
    assert cli("index", "create", team_index, "--kind", "hosted").returncode != 0
    assert cli("index", "create", "hosted", "--kind", "hosted").returncode != 0


def test_default_index_change_is_visible_at_the_next_request(
    server_factory: ServerFactory, tmp_path: Path, project: str
) -> None:
    own = server_factory()
    ok(own.cli("index", "create", "team", "--kind", "hosted"))
    (tmp_path / "team").mkdir()
    wheel = make_wheel(tmp_path / "team", project, "1.0")
    assert upload(own, wheel, index="team").status_code == 200

    with IndexClient(own) as reader:
        assert reader.http.get(f"/simple/{normalize(project)}/").status_code == 404

        ok(own.cli("index", "default", "team"))

        assert reader.project_html(project).filenames == [wheel.name]
        listed = own.cli("index", "list").stdout
        assert any(line.startswith("*") and "team" in line for line in listed.splitlines())
        other = make_wheel(tmp_path, project, "2.0")
        assert upload(own, other).status_code == 200
        assert sorted(reader.project_html(project, "team").filenames) == sorted(
            [wheel.name, other.name]
        )
        assert reader.http.get(f"/hosted/simple/{normalize(project)}/").status_code == 404


def test_db_upgrade_on_a_current_store_is_a_no_op(cli: Cli, index: IndexClient) -> None:
    result = cli("db", "upgrade")

    assert result.returncode == 0, result.stdout + result.stderr
    assert index.http.get("/readyz").status_code == 200
