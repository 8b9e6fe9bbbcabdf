"""Client matrix, flit: `flit publish --repository NAME` with the repository, user name and
password in `~/.pypirc`, and the same from FLIT_INDEX_URL, FLIT_USERNAME and
FLIT_PASSWORD. flit builds the wheel and the sdist itself with flit_core (from the test
venv), so nothing is downloaded; it only publishes (it does not install from an index).
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
    client_home,
    imported_version,
    matrix,
    write_project,
)
from e2e.upstream import HOSTED

__all__ = ["client_home", "matrix"]

pytestmark = pytest.mark.e2e

FLIT = VENV_BIN / "flit"
UV = VENV_BIN / "uv"


def test_flit_publish_with_a_pypirc_repository(
    matrix: Matrix, client_home: ClientHome, unique: Unique
) -> None:
    name = unique()
    project = write_project(client_home.home / "lib", name, "1.0", backend="flit_core")
    client_home.pypirc("packyard", matrix.legacy(), TOKEN_USER, matrix.upload_token)
    client_home.ok(FLIT, "publish", "--repository", "packyard", cwd=project)
    built = sorted(p.name for p in (project / "dist").iterdir())
    assert len(built) == 2, built
    assert matrix.listed(name, HOSTED) == built

    venv = client_home.home / "venv"
    client_home.ok(UV, "venv", "--quiet", "--python", PYTHON, venv)
    python = venv / "bin" / "python"
    client_home.ok(UV, "pip", "install", "--python", python, "--index-url", matrix.simple(), name)
    assert imported_version(client_home, python, name) == "1.0"


def test_flit_publish_with_index_environment_variables(
    matrix: Matrix, client_home: ClientHome, unique: Unique
) -> None:
    name = unique()
    project = write_project(client_home.home / "lib", name, "1.0", backend="flit_core")
    env = {
        "FLIT_INDEX_URL": matrix.legacy(PRIVATE),
        "FLIT_USERNAME": TOKEN_USER,
        "FLIT_PASSWORD": matrix.upload_token,
    }
    client_home.ok(FLIT, "publish", cwd=project, env=env)
    built = sorted(p.name for p in (project / "dist").iterdir())
    assert matrix.listed(name, PRIVATE) == built
