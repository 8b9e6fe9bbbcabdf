"""Yanking (PEP 592) through `packyard yank`, seen by pages and real installers: H5, Y1, Y2."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.clients import Clients, expect_ok, installable_dists, publish
from e2e.conftest import Cli
from e2e.server import ServerProcess
from e2e.simple import IndexClient
from helpers.dists import make_sdist, make_wheel, module_name

pytestmark = pytest.mark.e2e


@pytest.fixture
def release(server: ServerProcess, dists: Path, project: str) -> tuple[Path, Path]:
    files = (make_wheel(dists, project, "1.0"), make_sdist(dists, project, "1.0"))
    publish(server, *files)
    return files


def yank(cli: Cli, *args: str) -> None:
    result = cli("yank", *args)
    assert result.returncode == 0, result.stdout + result.stderr


def test_yanking_a_release_yanks_every_file_with_the_reason_in_html_and_json(
    release: tuple[Path, Path], cli: Cli, project: str, index: IndexClient
) -> None:
    yank(cli, project, "1.0", "--reason", "broken build")

    page = index.project_html(project)
    document = index.project_json(project)
    for path in release:
        assert page.anchor(path.name).attrs.get("data-yanked") == "broken build"
        assert index.json_file(project, path.name)["yanked"] == "broken build"
    assert document["versions"] == ["1.0"]


def test_yank_without_reason_marks_files_yanked_with_an_empty_attribute(
    release: tuple[Path, Path], cli: Cli, project: str, index: IndexClient
) -> None:
    yank(cli, project, "1.0")

    page = index.project_html(project)
    for path in release:
        anchor = page.anchor(path.name)
        assert "data-yanked" in anchor.attrs
        assert anchor.attrs["data-yanked"] in (None, "")
        assert index.json_file(project, path.name)["yanked"] is True


def test_yanking_one_file_leaves_the_other_files_of_the_release_alone(
    release: tuple[Path, Path], cli: Cli, project: str, index: IndexClient
) -> None:
    wheel, sdist = release

    yank(cli, project, "1.0", "--file", wheel.name, "--reason", "bad wheel")

    page = index.project_html(project)
    assert page.anchor(wheel.name).attrs.get("data-yanked") == "bad wheel"
    assert "data-yanked" not in page.anchor(sdist.name).attrs
    assert index.json_file(project, wheel.name)["yanked"] == "bad wheel"
    assert index.json_file(project, sdist.name)["yanked"] is False


def test_unyank_clears_the_yank_in_html_and_json(
    release: tuple[Path, Path], cli: Cli, project: str, index: IndexClient
) -> None:
    yank(cli, project, "1.0", "--reason", "oops")

    result = cli("unyank", project, "1.0")

    assert result.returncode == 0, result.stdout + result.stderr
    assert all("data-yanked" not in a.attrs for a in index.project_html(project).anchors)
    assert all(f["yanked"] is False for f in index.project_json(project)["files"])


def test_unyank_of_one_file_restores_only_that_file(
    release: tuple[Path, Path], cli: Cli, project: str, index: IndexClient
) -> None:
    wheel, sdist = release
    yank(cli, project, "1.0")

    result = cli("unyank", project, "1.0", "--file", sdist.name)

    assert result.returncode == 0, result.stdout + result.stderr
    page = index.project_html(project)
    assert "data-yanked" in page.anchor(wheel.name).attrs
    assert "data-yanked" not in page.anchor(sdist.name).attrs


def test_yanked_file_stays_downloadable(
    release: tuple[Path, Path], cli: Cli, project: str, index: IndexClient
) -> None:
    yank(cli, project, "1.0")

    for path in release:
        assert index.download(project, path.name) == path.read_bytes()


def test_yank_is_visible_at_the_next_request_of_the_running_server(
    release: tuple[Path, Path], cli: Cli, project: str, index: IndexClient
) -> None:
    wheel, _ = release
    before = index.http.get(index.project_path(project))
    assert "data-yanked" not in index.project_html(project).anchor(wheel.name).attrs

    yank(cli, project, "1.0", "--reason", "seen at once")

    after = index.http.get(index.project_path(project), headers={"Accept": "text/html"})
    assert 'data-yanked="seen at once"' in after.text
    assert after.headers.get("etag") != before.headers.get("etag")
    assert index.json_file(project, wheel.name)["yanked"] == "seen at once"


def test_yank_on_the_named_index_acts_on_that_index(
    release: tuple[Path, Path], cli: Cli, project: str, index: IndexClient
) -> None:
    yank(cli, project, "1.0", "--index", "hosted", "--reason", "by index")

    page = index.project_html(project, "hosted")
    assert all(a.attrs.get("data-yanked") == "by index" for a in page.anchors)


def test_yank_of_unknown_project_or_version_fails(
    release: tuple[Path, Path], cli: Cli, project: str
) -> None:
    assert cli("yank", f"{project}-missing", "1.0").returncode != 0
    assert cli("yank", project, "9.9").returncode != 0
    assert cli("yank", project, "1.0", "--file", "missing-1.0.tar.gz").returncode != 0


def test_json_api_reports_yanked_and_reason_per_file(
    release: tuple[Path, Path], cli: Cli, project: str, index: IndexClient
) -> None:
    yank(cli, project, "1.0", "--reason", "json api")

    document = index.pypi_json(project, "1.0").json()

    assert {u["yanked"] for u in document["urls"]} == {True}
    assert {u["yanked_reason"] for u in document["urls"]} == {"json api"}
    assert document["info"]["yanked"] is True
    assert document["info"]["yanked_reason"] == "json api"


@pytest.fixture
def yanked_newest(server: ServerProcess, cli: Cli, dists: Path, project: str) -> tuple[str, str]:
    """`project` 1.0 and 2.0 installable, 2.0 yanked: (good, yanked) versions."""
    for version in ("1.0", "2.0"):
        publish(server, *installable_dists(dists, project, version))
    yank(cli, project, "2.0", "--reason", "do not use")
    return "1.0", "2.0"


def test_pip_skips_a_yanked_version_unless_pinned_with_double_equals(
    server: ServerProcess, clients: Clients, project: str, yanked_newest: tuple[str, str]
) -> None:
    good, yanked = yanked_newest

    result, target = clients.pip_install(server.simple_url, project)
    expect_ok(result)
    assert clients.installed_in_target(target, module_name(project)).version == good

    result, target = clients.pip_install(server.simple_url, f"{project}=={yanked}")
    expect_ok(result)
    assert clients.installed_in_target(target, module_name(project)).version == yanked
    assert "yanked" in (result.stdout + result.stderr).lower()


def test_pip_skips_a_yanked_version_for_a_range(
    server: ServerProcess, clients: Clients, project: str, yanked_newest: tuple[str, str]
) -> None:
    good, _ = yanked_newest

    result, target = clients.pip_install(server.simple_url, f"{project}>=1.0")

    expect_ok(result)
    assert clients.installed_in_target(target, module_name(project)).version == good


def test_uv_skips_a_yanked_version_unless_pinned_with_double_equals(
    server: ServerProcess, clients: Clients, project: str, yanked_newest: tuple[str, str]
) -> None:
    good, yanked = yanked_newest

    result, venv = clients.uv_install(server.simple_url, project)
    expect_ok(result)
    assert clients.installed_in_venv(venv, module_name(project)).version == good

    result, venv = clients.uv_install(server.simple_url, f"{project}=={yanked}")
    expect_ok(result)
    assert clients.installed_in_venv(venv, module_name(project)).version == yanked
