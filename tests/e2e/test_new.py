"""From `packyard new` to an installed package, with real uv, pip and pytest: the project it
writes builds, publishes with a bare `uv publish` (its pyproject's publish-url), passes its
own test, and installs from the index; the name check refuses names the index has."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from e2e.clients import UV, Clients, expect_ok, output
from e2e.conftest import UPLOADER, UPLOADER_PASSWORD, ServerFactory, Unique
from e2e.server import ServerProcess, base_env, run_cli

pytestmark = pytest.mark.e2e

NAME = "demo-lib"
MODULE = "demo_lib"
PUBLIC_HOSTS = ("pypi.org", "pythonhosted.org", "pypi.python.org")


def packyard_new(
    server: ServerProcess, target: Path, *args: str, name: str = NAME
) -> subprocess.CompletedProcess[str]:
    home = target.parent / "new-home"
    home.mkdir(exist_ok=True)
    return run_cli(
        "new", name, "--dir", str(target), "--index-url", server.simple_url, *args,
        env=base_env(home),
    )  # fmt: skip


def in_project(
    clients: Clients, project: Path, args: list[str | Path], **env: str
) -> subprocess.CompletedProcess[str]:
    """A command in the new project's directory, with its pyproject's uv settings read."""
    environment = {**clients.env(), **env}
    environment.pop("UV_NO_CONFIG")
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=project,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_a_new_project_builds_publishes_passes_its_test_and_installs(
    server_factory: ServerFactory, clients: Clients, tmp_path: Path
) -> None:
    server = server_factory()
    project = tmp_path / NAME

    created = packyard_new(server, project, "--owner", "Ada Lovelace", "--email", "ada@example.org")
    assert created.returncode == 0, output(created)
    for path in project.rglob("*"):
        if path.is_file():
            assert not any(host in path.read_text() for host in PUBLIC_HOSTS), path

    expect_ok(
        in_project(
            clients, project, [UV, "build", "--no-build-isolation", "--python", sys.executable]
        )
    )
    built = sorted(p.name for p in (project / "dist").glob("demo_lib-*"))
    assert built == ["demo_lib-0.1.0-py3-none-any.whl", "demo_lib-0.1.0.tar.gz"]
    # No --publish-url, no files: the bare command takes dist/* to [tool.uv] publish-url.
    expect_ok(
        in_project(
            clients,
            project,
            [UV, "publish", "--trusted-publishing", "never"],
            UV_PUBLISH_USERNAME=UPLOADER,
            UV_PUBLISH_PASSWORD=UPLOADER_PASSWORD,
        )
    )
    tests = in_project(
        clients,
        project,
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        PYTHONPATH=str(project / "src"),
    )
    assert tests.returncode == 0 and "2 passed" in tests.stdout, output(tests)

    pip, target = clients.pip_install(server.simple_url, NAME)
    expect_ok(pip)
    assert clients.installed_in_target(target, MODULE).version == "0.1.0"
    assert (target / MODULE / "py.typed").exists()
    uv, venv = clients.uv_install(server.simple_url, NAME)
    expect_ok(uv)
    assert clients.installed_in_venv(venv, MODULE).version == "0.1.0"

    # Now the index has the name: a second project of that name is refused, unwritten.
    again = packyard_new(server, tmp_path / "again")
    assert again.returncode == 1
    assert "is taken" in again.stderr
    assert not (tmp_path / "again").exists()


def test_an_invalid_name_is_refused_before_anything_is_written(
    server: ServerProcess, tmp_path: Path
) -> None:
    result = packyard_new(server, tmp_path / "bad", name="bad name")

    assert result.returncode == 1
    assert "not a valid project name" in result.stderr
    assert not (tmp_path / "bad").exists()


def test_a_private_index_needs_credentials_to_check_the_name(
    server: ServerProcess, tmp_path: Path, unique: Unique
) -> None:
    index = unique("idx")[-40:].strip("-")
    server.cli("index", "create", index, check=True)
    server.cli("index", "set", index, "--readers", UPLOADER, check=True)
    private = f"{server.url}/{index}/simple/"
    home = tmp_path / "home"
    home.mkdir()
    with_password = private.replace(
        "://", f"://{UPLOADER}:{UPLOADER_PASSWORD.replace(' ', '%20')}@"
    )

    refused = run_cli("new", NAME, "--dir", str(tmp_path / "a"), "--index-url", private,
                      env=base_env(home))  # fmt: skip
    created = run_cli("new", NAME, "--dir", str(tmp_path / "b"), "--index-url", with_password,
                      env=base_env(home))  # fmt: skip

    assert refused.returncode == 1 and "credentials" in refused.stderr
    assert created.returncode == 0, output(created)
    pyproject = (tmp_path / "b" / "pyproject.toml").read_text()
    assert f'url = "{private}"' in pyproject
    assert UPLOADER_PASSWORD.split()[0] not in pyproject
