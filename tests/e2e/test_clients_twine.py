"""Client matrix, twine: `twine check`, `twine upload` with a token (`__token__`) and with a
`.pypirc` repository, and what `--skip-existing` does against a repository other than PyPI.

twine 7 refuses `--skip-existing` for any repository but PyPI and TestPyPI before it uploads
anything ("does not have support for the following features: --skip-existing"): that is
twine's own rule, not something a server can change. Against packyard an identical
re-upload succeeds anyway (200, nothing changes), and other bytes under an existing
filename are refused with "File already exists" in the body, which twine prints.
"""

from __future__ import annotations

import pytest

from e2e.conftest import Unique
from e2e.matrix import (
    PRIVATE,
    TOKEN_USER,
    VENV_BIN,
    ClientHome,
    Matrix,
    build_no_isolation,
    client_home,
    matrix,
    strip_ansi,
    write_project,
)
from e2e.upstream import HOSTED, dists_for

__all__ = ["client_home", "matrix"]

pytestmark = pytest.mark.e2e

TWINE = VENV_BIN / "twine"
UPLOAD = (TWINE, "upload", "--non-interactive", "--disable-progress-bar")


def test_twine_check_passes_files_built_by_hatchling(
    client_home: ClientHome, unique: Unique
) -> None:
    project = write_project(client_home.home / "lib", unique(), "1.0", backend="hatchling")
    files = build_no_isolation(client_home, project)
    result = client_home.ok(TWINE, "check", "--strict", *files)
    for path in files:
        assert f"Checking {path}: PASSED" in strip_ansi(result.stdout), result.stdout


def test_twine_upload_with_a_token(matrix: Matrix, client_home: ClientHome, unique: Unique) -> None:
    name = unique()
    files = dists_for(client_home.home / "dist", name, "1.0")
    client_home.ok(
        *UPLOAD, "--repository-url", matrix.legacy(PRIVATE),
        "-u", TOKEN_USER, "-p", matrix.upload_token, *files,
    )  # fmt: skip
    assert matrix.listed(name, PRIVATE) == sorted(p.name for p in files)


def test_twine_upload_with_a_pypirc_repository(
    matrix: Matrix, client_home: ClientHome, unique: Unique
) -> None:
    name = unique()
    files = dists_for(client_home.home / "dist", name, "1.0")
    client_home.pypirc("packyard", matrix.legacy(), TOKEN_USER, matrix.upload_token)
    client_home.ok(*UPLOAD, "-r", "packyard", *files)
    assert matrix.listed(name, HOSTED) == sorted(p.name for p in files)


def test_twine_skip_existing_is_refused_by_twine_for_a_repository_other_than_pypi(
    matrix: Matrix, client_home: ClientHome, unique: Unique
) -> None:
    name = unique()
    files = dists_for(client_home.home / "dist", name, "1.0")
    credentials = ("--repository-url", matrix.legacy(), "-u", TOKEN_USER, "-p", matrix.upload_token)
    client_home.ok(*UPLOAD, *credentials, *files)

    uploads = len(matrix.requests("POST", "/legacy/"))
    refused = client_home.fails(*UPLOAD, *credentials, "--skip-existing", *files)
    message = strip_ansi(refused.stdout + refused.stderr)
    assert "does not have support for the following features: --skip-existing" in message
    assert len(matrix.requests("POST", "/legacy/")) == uploads, "twine uploaded anyway"

    # What to do instead: upload again; identical files are accepted as they are.
    client_home.ok(*UPLOAD, *credentials, *files)
    # Other bytes under an existing filename: refused, and twine shows why.
    other = dists_for(client_home.home / "other", name, "1.0", requires_python=">=3.8")
    result = client_home.fails(*UPLOAD, *credentials, "--verbose", other[0])
    message = strip_ansi(result.stdout + result.stderr)
    assert "400 Bad Request" in message, message
    assert "File already exists" in message, message
    assert matrix.listed(name, HOSTED) == sorted(p.name for p in files)
