"""The main flow with real clients: twine or uv publish, then pip or uv install."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.clients import Clients, expect_ok, installable_dists, sha256_of
from e2e.server import ServerProcess
from e2e.simple import IndexClient
from helpers.dists import module_name

pytestmark = pytest.mark.e2e


def twine_publish(clients: Clients, server: ServerProcess, *files: Path) -> None:
    expect_ok(
        clients.twine_upload(server.upload_url, *files, user=server.user, password=server.password)
    )


def test_twine_upload_of_wheel_and_sdist_lists_both_files(
    server: ServerProcess, clients: Clients, dists: Path, project: str, index: IndexClient
) -> None:
    wheel, sdist = installable_dists(dists, project, "1.0")

    twine_publish(clients, server, wheel, sdist)

    page = index.project_html(project)
    assert sorted(page.filenames) == sorted([wheel.name, sdist.name])
    for path in (wheel, sdist):
        assert page.anchor(path.name).sha256 == sha256_of(path.read_bytes())
        assert index.download(project, path.name) == path.read_bytes()


def test_pip_installs_the_wheel_uploaded_with_twine(
    server: ServerProcess, clients: Clients, dists: Path, project: str
) -> None:
    twine_publish(clients, server, *installable_dists(dists, project, "1.0"))

    result, target = clients.pip_install(server.simple_url, f"{project}==1.0")

    expect_ok(result)
    installed = clients.installed_in_target(target, module_name(project))
    assert (installed.version, installed.built_from) == ("1.0", "wheel")
    assert installed.file.is_relative_to(target)


def test_pip_builds_and_installs_the_sdist_uploaded_with_twine(
    server: ServerProcess, clients: Clients, dists: Path, project: str
) -> None:
    twine_publish(clients, server, *installable_dists(dists, project, "1.0"))

    result, target = clients.pip_install(
        server.simple_url, f"{project}==1.0", args=["--no-binary", project]
    )

    expect_ok(result)
    installed = clients.installed_in_target(target, module_name(project))
    assert (installed.version, installed.built_from) == ("1.0", "sdist")


def test_uv_pip_installs_the_wheel_uploaded_with_twine(
    server: ServerProcess, clients: Clients, dists: Path, project: str
) -> None:
    twine_publish(clients, server, *installable_dists(dists, project, "1.0"))

    result, venv = clients.uv_install(server.simple_url, f"{project}==1.0")

    expect_ok(result)
    installed = clients.installed_in_venv(venv, module_name(project))
    assert (installed.version, installed.built_from) == ("1.0", "wheel")
    assert installed.file.is_relative_to(venv)


def test_uv_pip_builds_and_installs_the_sdist_uploaded_with_twine(
    server: ServerProcess, clients: Clients, dists: Path, project: str
) -> None:
    twine_publish(clients, server, *installable_dists(dists, project, "1.0"))

    result, venv = clients.uv_install(
        server.simple_url, f"{project}==1.0", args=["--no-binary", project]
    )

    expect_ok(result)
    installed = clients.installed_in_venv(venv, module_name(project))
    assert (installed.version, installed.built_from) == ("1.0", "sdist")


def test_pip_installs_the_newest_of_several_versions(
    server: ServerProcess, clients: Clients, dists: Path, project: str
) -> None:
    for version in ("1.0", "1.10", "1.9"):
        twine_publish(clients, server, *installable_dists(dists, project, version))

    result, target = clients.pip_install(server.simple_url, project)

    expect_ok(result)
    assert clients.installed_in_target(target, module_name(project)).version == "1.10"


def test_pip_require_hashes_accepts_the_sha256_from_the_simple_page(
    server: ServerProcess, clients: Clients, dists: Path, project: str, index: IndexClient
) -> None:
    twine_publish(clients, server, *installable_dists(dists, project, "1.0"))
    hashes = [f"--hash=sha256:{a.sha256}" for a in index.project_html(project).anchors]
    requirements = clients.home / "requirements.txt"
    requirements.write_text(f"{project}==1.0 {' '.join(hashes)}\n")

    result, target = clients.pip_install(
        server.simple_url, "--require-hashes", "-r", str(requirements)
    )

    expect_ok(result)
    assert clients.installed_in_target(target, module_name(project)).version == "1.0"


def test_uv_publish_uploads_files_that_uv_then_installs(
    server: ServerProcess, clients: Clients, dists: Path, project: str, index: IndexClient
) -> None:
    wheel, sdist = installable_dists(dists, project, "2.0")

    expect_ok(
        clients.uv_publish(
            server.upload_url, wheel, sdist, user=server.user, password=server.password
        )
    )

    assert sorted(index.project_html(project).filenames) == sorted([wheel.name, sdist.name])
    result, venv = clients.uv_install(server.simple_url, project)
    expect_ok(result)
    assert clients.installed_in_venv(venv, module_name(project)).version == "2.0"


def test_uv_publish_with_check_url_skips_files_the_index_already_has(
    server: ServerProcess, clients: Clients, dists: Path, project: str, index: IndexClient
) -> None:
    wheel, sdist = installable_dists(dists, project, "1.0")
    check = ["--check-url", server.simple_url]
    expect_ok(
        clients.uv_publish(
            server.upload_url, wheel, user=server.user, password=server.password, args=check
        )
    )

    result = expect_ok(
        clients.uv_publish(
            server.upload_url, wheel, sdist, user=server.user, password=server.password, args=check
        )
    )

    assert "skipping" in (result.stdout + result.stderr).lower()
    assert sorted(index.project_html(project).filenames) == sorted([wheel.name, sdist.name])


def test_reupload_of_identical_files_with_twine_and_uv_publish_succeeds(
    server: ServerProcess, clients: Clients, dists: Path, project: str, index: IndexClient
) -> None:
    files = installable_dists(dists, project, "1.0")
    twine_publish(clients, server, *files)

    twine_publish(clients, server, *files)
    expect_ok(
        clients.uv_publish(server.upload_url, *files, user=server.user, password=server.password)
    )

    assert sorted(index.project_html(project).filenames) == sorted(f.name for f in files)
