"""Client matrix, hatch: `hatch publish -r <url> -u -a`, and the same from HATCH_INDEX_REPO,
HATCH_INDEX_USER and HATCH_INDEX_AUTH. hatch only publishes here (it does not install
from an index); the files are built by hatchling from the test venv (`python -m build
--no-isolation`), since `hatch build` would make a build environment from an index.
"""

from __future__ import annotations

import pytest

from e2e.conftest import Unique
from e2e.matrix import (
    PRIVATE,
    PYTHON,
    TOKEN_USER,
    VENV_BIN,
    ClientHome,
    Matrix,
    build_no_isolation,
    client_home,
    imported_version,
    matrix,
    write_project,
)
from e2e.upstream import HOSTED, dists_for

__all__ = ["client_home", "matrix"]

pytestmark = pytest.mark.e2e

HATCH = VENV_BIN / "hatch"
UV = VENV_BIN / "uv"


def test_hatch_publish_r_with_user_and_auth_options(
    matrix: Matrix, client_home: ClientHome, unique: Unique
) -> None:
    name = unique()
    project = write_project(client_home.home / "lib", name, "1.0", backend="hatchling")
    files = build_no_isolation(client_home, project)
    client_home.ok(
        HATCH, "publish", "--no-prompt", "-r", matrix.legacy(), "-u", TOKEN_USER,
        "-a", matrix.upload_token, *files, cwd=project,
    )  # fmt: skip
    assert matrix.listed(name, HOSTED) == sorted(p.name for p in files)

    venv = client_home.home / "venv"
    client_home.ok(UV, "venv", "--quiet", "--python", PYTHON, venv)
    python = venv / "bin" / "python"
    client_home.ok(UV, "pip", "install", "--python", python, "--index-url", matrix.simple(), name)
    assert imported_version(client_home, python, name) == "1.0"


def test_hatch_publish_with_index_environment_variables(
    matrix: Matrix, client_home: ClientHome, unique: Unique
) -> None:
    name = unique()
    files = dists_for(client_home.home / "dist", name, "1.0")
    env = {
        "HATCH_INDEX_REPO": matrix.legacy(PRIVATE),
        "HATCH_INDEX_USER": matrix.user,
        "HATCH_INDEX_AUTH": matrix.password,
    }
    client_home.ok(HATCH, "publish", "--no-prompt", *files, env=env)
    assert matrix.listed(name, PRIVATE) == sorted(p.name for p in files)
