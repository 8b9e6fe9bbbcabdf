"""Client matrix, uv: `uv pip install`, `--exclude-newer` (upload-time on mirrored files),
a project with `[[tool.uv.index]]` (`uv add`, `uv lock`, an `explicit = true` private
index), `uv publish --check-url`; credentials from `UV_INDEX_<NAME>_USERNAME/PASSWORD`
and from netrc.

Project commands read `[[tool.uv.index]]` from pyproject.toml, which `UV_NO_CONFIG` (set
by the hermetic environment for `uv pip`) would ignore, so they run without it; the
temporary HOME and XDG directories hold no uv.toml.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.conftest import Unique
from e2e.matrix import (
    EXCLUDE_NEWER,
    INTERNAL,
    PRIVATE,
    PUBLIC,
    PYTHON,
    SECRET,
    TOKEN_USER,
    ClientHome,
    Matrix,
    client_home,
    imported_version,
    matrix,
)
from e2e.upstream import HOSTED, dists_for

__all__ = ["client_home", "matrix"]

pytestmark = pytest.mark.e2e

UV = Path(PYTHON).parent / "uv"
PROJECT_ENV: dict[str, str | None] = {"UV_NO_CONFIG": None}


def new_venv(home: ClientHome, name: str = "venv") -> Path:
    venv = home.home / name
    home.ok(UV, "venv", "--quiet", "--python", PYTHON, venv)
    return venv / "bin" / "python"


def test_uv_pip_install_through_root(matrix: Matrix, client_home: ClientHome) -> None:
    python = new_venv(client_home)
    client_home.ok(
        UV, "pip", "install", "--python", python, "--index-url", matrix.simple(), INTERNAL
    )
    assert imported_version(client_home, python, INTERNAL) == "1.0"
    assert imported_version(client_home, python, PUBLIC) == "2.0"


def test_uv_exclude_newer_uses_the_upstreams_upload_times(
    matrix: Matrix, client_home: ClientHome
) -> None:
    """mx-public 1.0 was uploaded upstream in 2020 and 2.0 today; the mirror keeps those
    times (PEP 700), so through root 2.0 is newer than the cut-off and 1.0 is not."""
    python = new_venv(client_home)
    client_home.ok(
        UV, "pip", "install", "--python", python, "--index-url", matrix.simple(),
        "--exclude-newer", EXCLUDE_NEWER, PUBLIC,
    )  # fmt: skip
    assert imported_version(client_home, python, PUBLIC) == "1.0"


def uv_project(matrix: Matrix, home: ClientHome) -> Path:
    """A project whose default index is packyard's root, with the private index as an
    explicit index that only `mx-secret` is taken from."""
    project = home.directory("app")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        "dependencies = []\n\n"
        f'[[tool.uv.index]]\nname = "packyard"\nurl = "{matrix.simple()}"\ndefault = true\n\n'
        f'[[tool.uv.index]]\nname = "private"\nurl = "{matrix.simple(PRIVATE)}"\n'
        "explicit = true\n"
    )
    return project


def test_uv_add_and_lock_with_tool_uv_index_explicit_and_env_credentials(
    matrix: Matrix, client_home: ClientHome
) -> None:
    project = uv_project(matrix, client_home)
    credentials = {
        **PROJECT_ENV,
        "UV_INDEX_PRIVATE_USERNAME": TOKEN_USER,
        "UV_INDEX_PRIVATE_PASSWORD": matrix.read_token,
    }
    # An explicit index is only used for what names it: without a source, mx-secret is
    # looked up in root, which does not have it.
    refused = client_home.fails(
        UV, "add", "--python", PYTHON, "--no-sync", SECRET, cwd=project, env=credentials
    )
    assert "not found in the package registry" in refused.stderr, refused.stderr

    client_home.ok(
        UV, "add", "--python", PYTHON, "--no-sync", "--index", "private", SECRET,
        cwd=project, env=credentials,
    )  # fmt: skip
    client_home.ok(
        UV, "add", "--python", PYTHON, "--no-sync", INTERNAL, cwd=project, env=credentials
    )
    pyproject = (project / "pyproject.toml").read_text()
    assert 'mx-secret = { index = "private" }' in pyproject, pyproject
    lock = (project / "uv.lock").read_text()
    assert f'source = {{ registry = "{matrix.simple(PRIVATE)}" }}' in lock, lock
    assert f'source = {{ registry = "{matrix.simple()}" }}' in lock, lock
    assert matrix.read_token not in lock

    (project / "uv.lock").unlink()
    client_home.ok(UV, "lock", "--python", PYTHON, cwd=project, env=credentials)
    assert (project / "uv.lock").read_text() == lock
    # Installing the lock file gives the same releases.
    env = {**credentials, "UV_PROJECT_ENVIRONMENT": str(client_home.home / "env")}
    client_home.ok(UV, "sync", "--python", PYTHON, "--frozen", cwd=project, env=env)
    python = client_home.home / "env" / "bin" / "python"
    assert imported_version(client_home, python, SECRET) == "1.0"
    assert imported_version(client_home, python, PUBLIC) == "2.0"

    # Without the variables the private index's 401 is what uv reports.
    (project / "uv.lock").unlink()
    result = client_home.fails(UV, "lock", "--python", PYTHON, cwd=project, env=PROJECT_ENV)
    assert "401 Unauthorized" in result.stderr, result.stderr


def test_uv_netrc(matrix: Matrix, client_home: ClientHome) -> None:
    client_home.netrc(matrix.host, TOKEN_USER, matrix.read_token)
    python = new_venv(client_home)
    client_home.ok(
        UV, "pip", "install", "--python", python, "--index-url", matrix.simple(PRIVATE), SECRET
    )
    assert imported_version(client_home, python, SECRET) == "1.0"


def test_uv_publish_check_url_skips_files_already_there(
    matrix: Matrix, client_home: ClientHome, unique: Unique
) -> None:
    project = unique()
    files = dists_for(client_home.home / "dist", project, "1.0")
    command: list[str | Path] = [
        UV, "publish", "--publish-url", matrix.legacy(), "--check-url", matrix.simple(),
        "--trusted-publishing", "never", *files,
    ]  # fmt: skip
    env = {"UV_PUBLISH_TOKEN": matrix.upload_token}
    client_home.ok(*command, env=env)
    assert matrix.listed(project, HOSTED) == sorted(p.name for p in files)

    uploads = len(matrix.requests("POST", "/legacy/"))
    again = client_home.ok(*command, env=env)
    for path in files:
        assert f"File {path.name} already exists, skipping" in again.stderr, again.stderr
    assert len(matrix.requests("POST", "/legacy/")) == uploads, "a skipped file was uploaded"

    # Other bytes under an existing filename: uv compares the page's sha256 with the local
    # file's and stops instead of uploading.
    other = dists_for(client_home.home / "other", project, "1.0", requires_python=">=3.8")
    command[-len(files) :] = other[:1]
    mismatch = client_home.fails(*command, env=env)
    assert "do not match" in mismatch.stderr, mismatch.stderr
    assert len(matrix.requests("POST", "/legacy/")) == uploads, "a mismatching file was uploaded"

    # Again, as configured in a project: the index's publish-url, its url as the check URL.
    project_dir = client_home.directory("lib")
    (project_dir / "pyproject.toml").write_text(
        f'[project]\nname = "{project}"\nversion = "1.0"\n\n'
        f'[[tool.uv.index]]\nname = "packyard"\nurl = "{matrix.simple()}"\n'
        f'publish-url = "{matrix.legacy()}"\n'
    )
    uploads = len(matrix.requests("POST", "/legacy/"))
    again = client_home.ok(
        UV, "publish", "--index", "packyard", "--trusted-publishing", "never", *files,
        cwd=project_dir, env={**env, **PROJECT_ENV},
    )  # fmt: skip
    for path in files:
        assert f"File {path.name} already exists, skipping" in again.stderr, again.stderr
    assert len(matrix.requests("POST", "/legacy/")) == uploads, "a skipped file was uploaded"
