"""Client matrix, pdm: `pdm add` / `pdm lock` with `[[tool.pdm.source]]` (root replacing the
default source, the private index with credentials), `pdm publish -r <url>`, its
`--skip-existing`, and its trusted-publishing probe of `/_/oidc/audience`.

pdm's configuration and cache are in the temporary HOME (PDM_CONFIG_FILE, PDM_HOME,
PDM_CACHE_DIR). Projects get an environment of their own (`pdm venv create` from the
interpreter the test venv was made from, `pdm use` on it), so nothing is installed into
the test venv; publishing needs no environment (`PDM_USE_VENV=false`, nothing installed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.conftest import Unique
from e2e.matrix import (
    BASE_PYTHON,
    INTERNAL,
    PRIVATE,
    PUBLIC,
    SECRET,
    TOKEN_USER,
    VENV_BIN,
    ClientHome,
    Matrix,
    client_home,
    imported_version,
    matrix,
)
from e2e.upstream import HOSTED, dists_for

__all__ = ["client_home", "matrix"]

pytestmark = pytest.mark.e2e

PDM = VENV_BIN / "pdm"
PUBLISH_ENV: dict[str, str | None] = {"PDM_USE_VENV": "false", "PDM_PYTHON": str(BASE_PYTHON)}
# pdm 2.29 subclasses `hishel.SyncSqliteStorage`, which hishel 2 no longer has.
BROKEN_HISHEL = "module 'hishel' has no attribute 'SyncSqliteStorage'"


def pdm(
    home: ClientHome,
    *args: str | Path,
    cwd: Path | None = None,
    env: dict[str, str | None] | None = None,
    ok: bool = True,
) -> str:
    # With a keyring importable, `pdm config` puts passwords there and looks them up under
    # other names than it stored them; with the "fail" backend pdm keeps them in its config.
    quiet_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = home.run(PDM, *args, cwd=cwd, env={**quiet_keyring, **(env or {})})
    text = result.stdout + result.stderr
    assert BROKEN_HISHEL not in text, (
        "pdm cannot make an HTTP client in this environment: requirements/lock.txt has "
        "hishel 2, pdm 2.29 needs hishel 1.x (its `locked` extra pins hishel==1.4.0)\n" + text
    )
    assert (result.returncode == 0) == ok, f"exit {result.returncode}\n{text}"
    return text


def pdm_project(home: ClientHome, name: str, source_block: str, dependencies: str = "") -> Path:
    project = home.directory(name)
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        f"dependencies = [{dependencies}]\n\n[tool.pdm]\ndistribution = false\n\n" + source_block
    )
    return project


def sources(matrix: Matrix, private_url: str) -> str:
    """root as `pypi` (replacing the default source), the private index for mx-secret only."""
    return (
        f'[[tool.pdm.source]]\nname = "pypi"\nurl = "{matrix.simple()}"\n\n'
        f'[[tool.pdm.source]]\nname = "private"\nurl = "{private_url}"\n'
        f'include_packages = ["{SECRET}"]\n'
    )


def test_pdm_add_and_lock_with_tool_pdm_source_and_configured_credentials(
    matrix: Matrix, client_home: ClientHome
) -> None:
    project = pdm_project(client_home, "app", sources(matrix, matrix.simple(PRIVATE)))
    pdm(client_home, "config", "pypi.private.username", TOKEN_USER)
    pdm(client_home, "config", "pypi.private.password", matrix.read_token)
    pdm(client_home, "venv", "create", "--with", "venv", BASE_PYTHON, cwd=project)
    python = project / ".venv" / "bin" / "python"
    pdm(client_home, "use", "-f", python, cwd=project)

    pdm(client_home, "add", INTERNAL, SECRET, cwd=project)
    assert imported_version(client_home, python, INTERNAL) == "1.0"
    assert imported_version(client_home, python, PUBLIC) == "2.0"
    assert imported_version(client_home, python, SECRET) == "1.0"
    lock = (project / "pdm.lock").read_text()
    for name, version in ((INTERNAL, "1.0"), (PUBLIC, "2.0"), (SECRET, "1.0")):
        assert f'name = "{name}"\nversion = "{version}"' in lock, lock
    assert matrix.read_token not in lock + (project / "pyproject.toml").read_text()

    (project / "pdm.lock").unlink()
    pdm(client_home, "lock", cwd=project)
    assert (project / "pdm.lock").read_text() == lock
    pdm(client_home, "lock", "--check", cwd=project)


def test_pdm_lock_with_source_credentials_from_environment_variables(
    matrix: Matrix, client_home: ClientHome
) -> None:
    """A source URL may carry `${VARIABLE}`s, expanded from the environment by pdm."""
    private = matrix.with_credentials(matrix.simple(PRIVATE), "${PRIVATE_USER}", "${PRIVATE_TOKEN}")
    project = pdm_project(client_home, "app", sources(matrix, private), f'"{SECRET}"')
    env = {**PUBLISH_ENV, "PRIVATE_USER": TOKEN_USER, "PRIVATE_TOKEN": matrix.read_token}
    pdm(client_home, "lock", cwd=project, env=env)
    lock = (project / "pdm.lock").read_text()
    assert f'name = "{SECRET}"\nversion = "1.0"' in lock, lock
    assert matrix.read_token not in lock

    # Without them pdm sends the unexpanded text as credentials, which the index refuses.
    (project / "pdm.lock").unlink()
    refused = pdm(client_home, "lock", cwd=project, env=PUBLISH_ENV, ok=False)
    assert f"Unable to find candidates for {SECRET}" in refused, refused


def test_pdm_publish_r_url_and_skip_existing(
    matrix: Matrix, client_home: ClientHome, unique: Unique
) -> None:
    name = unique()
    project = client_home.directory("lib")
    (project / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "1.0"\n')
    files = dists_for(project / "dist", name, "1.0")
    publish = ["publish", "--no-build", "-r", matrix.legacy(), "-u", TOKEN_USER]
    pdm(client_home, *publish, "-P", matrix.upload_token, cwd=project, env=PUBLISH_ENV)
    assert matrix.listed(name, HOSTED) == sorted(p.name for p in files)

    # Other bytes under the same filenames, to a repository configured by name: 400 "File
    # already exists", which --skip-existing turns into a skip.
    pdm(client_home, "config", "repository.packyard.url", matrix.legacy())
    pdm(client_home, "config", "repository.packyard.username", TOKEN_USER)
    pdm(client_home, "config", "repository.packyard.password", matrix.upload_token)
    publish = ["publish", "--no-build", "-r", "packyard"]
    first = [p.read_bytes() for p in files]
    other = dists_for(project / "dist", name, "1.0", requires_python=">=3.8")
    assert [p.name for p in other] == [p.name for p in files]
    assert [p.read_bytes() for p in other] != first
    refused = pdm(client_home, *publish, cwd=project, env=PUBLISH_ENV, ok=False)
    assert "400" in refused, refused
    skipped = pdm(client_home, *publish, "--skip-existing", cwd=project, env=PUBLISH_ENV)
    for path in other:
        assert f"Skipping {path.name} because it appears to already exist" in skipped, skipped


def test_pdm_publish_without_credentials_asks_the_oidc_audience_and_stops(
    matrix: Matrix, client_home: ClientHome, unique: Unique
) -> None:
    """With no credentials pdm tries trusted publishing: GET /_/oidc/audience on the upload
    host. packyard has no trusted publishing and answers 404 at once, so pdm stops with its
    own message instead of hanging."""
    name = unique()
    project = client_home.directory("lib")
    (project / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "1.0"\n')
    dists_for(project / "dist", name, "1.0")
    before = len(matrix.requests("GET", "/_/oidc/audience"))
    refused = pdm(
        client_home, "publish", "--no-build", "-r", matrix.legacy(),
        cwd=project, env=PUBLISH_ENV, ok=False,
    )  # fmt: skip
    assert "Username and password are required" in refused, refused
    probes = matrix.requests("GET", "/_/oidc/audience")[before:]
    assert [probe["status"] for probe in probes] == [404], probes
    assert matrix.listed(name, HOSTED) == []
