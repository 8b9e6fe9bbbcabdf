"""Client matrix, poetry: `poetry source add` + `poetry lock` + `poetry install` through root
with the private index as an explicit source (`poetry config http-basic.<source>`), poetry's
lazy-wheel range requests, `poetry build` + `poetry publish -r`.

Poetry's configuration, cache and data live in the temporary HOME (POETRY_CONFIG_DIR,
POETRY_CACHE_DIR, POETRY_DATA_DIR); the keyring is off, so `http-basic` credentials are
kept in its auth.toml there. Its project environment is made in the project
(`virtualenvs.in-project`) from the interpreter poetry itself runs on (the test venv's),
without pip: poetry installs wheels itself.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from e2e.conftest import Unique
from e2e.matrix import (
    INTERNAL,
    PRIVATE,
    PUBLIC,
    PYTHON,
    SECRET,
    TOKEN_USER,
    VENV_BIN,
    ClientHome,
    Matrix,
    client_home,
    imported_version,
    matrix,
    write_project,
)
from e2e.simple import JSON_TYPE
from e2e.upstream import HOSTED

__all__ = ["client_home", "matrix"]

pytestmark = pytest.mark.e2e

POETRY = VENV_BIN / "poetry"
# Settings that have no bearing on the index; poetry reads POETRY_<SECTION>_<KEY>.
ENV: dict[str, str | None] = {
    "POETRY_VIRTUALENVS_USE_POETRY_PYTHON": "true",
    "POETRY_VIRTUALENVS_OPTIONS_NO_PIP": "true",
}


def poetry(home: ClientHome, *args: str, cwd: Path | None = None) -> str:
    return home.ok(POETRY, *args, cwd=cwd, env=ENV).stdout


def test_poetry_source_add_lock_install_with_http_basic(
    matrix: Matrix, client_home: ClientHome
) -> None:
    project = client_home.directory("app")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        f'dependencies = ["{INTERNAL}", "{SECRET}"]\n\n'
        "[tool.poetry]\npackage-mode = false\n\n"
        f'[tool.poetry.dependencies]\n{SECRET} = {{ source = "private" }}\n'
    )
    poetry(client_home, "config", "virtualenvs.in-project", "true")
    poetry(
        client_home, "source", "add", "--priority=primary", "packyard", matrix.simple(), cwd=project
    )
    poetry(
        client_home, "source", "add", "--priority=explicit", "private", matrix.simple(PRIVATE),
        cwd=project,
    )  # fmt: skip
    poetry(client_home, "config", "http-basic.private", TOKEN_USER, matrix.read_token)

    poetry(client_home, "lock", cwd=project)
    lock = (project / "poetry.lock").read_text()
    sources = {
        package["name"]: (package["version"], package["source"]["url"])
        for package in tomllib.loads(lock)["package"]
    }
    assert sources == {  # poetry writes source URLs without their final slash
        INTERNAL: ("1.0", matrix.simple().rstrip("/")),
        PUBLIC: ("2.0", matrix.simple().rstrip("/")),
        SECRET: ("1.0", matrix.simple(PRIVATE).rstrip("/")),
    }
    assert matrix.read_token not in lock

    poetry(client_home, "install", cwd=project)
    python = project / ".venv" / "bin" / "python"
    assert imported_version(client_home, python, INTERNAL) == "1.0"
    assert imported_version(client_home, python, PUBLIC) == "2.0"
    assert imported_version(client_home, python, SECRET) == "1.0"


LAZY_WHEEL = """\
import json, sys
import requests
from poetry.inspection.lazy_wheel import metadata_from_wheel_url

url = sys.argv[1]
with requests.Session() as session:
    metadata = metadata_from_wheel_url(url.rsplit("/", 1)[1], url, session)
print(json.dumps({"name": metadata["name"], "version": metadata["version"]}))
"""


def test_poetry_lazy_wheel_reads_metadata_with_range_requests(
    matrix: Matrix, client_home: ClientHome
) -> None:
    """Poetry reads a wheel's METADATA with range requests when the page gives no PEP 658
    sidecar (and falls back to downloading the whole wheel when ranges fail). Packyard gives
    every wheel a sidecar, which poetry prefers, so `poetry lock` never needs this against
    packyard; poetry's own lazy-wheel code is run here on a mirrored wheel through root."""
    with httpx.Client(timeout=10.0, trust_env=False) as http:
        page = http.get(f"{matrix.simple()}{PUBLIC}/", headers={"Accept": JSON_TYPE})
    assert page.status_code == 200, page.text
    wheel = matrix.file(f"{PUBLIC}==1.0").name
    (href,) = [f["url"] for f in page.json()["files"] if f["filename"] == wheel]
    url = urljoin(str(page.url), href)
    path = url.removeprefix(matrix.url)
    before = len(matrix.requests("GET", path))

    result = client_home.ok(PYTHON, "-c", LAZY_WHEEL, url)
    assert json.loads(result.stdout) == {"name": PUBLIC, "version": "1.0"}
    ranged = [e["status"] for e in matrix.requests("GET", path)[before:]]
    assert ranged and set(ranged) == {206}, f"statuses of GET {path}: {ranged}"


def test_poetry_build_and_publish_r_with_http_basic(
    matrix: Matrix, client_home: ClientHome, unique: Unique
) -> None:
    name = unique()
    project = write_project(client_home.home / "lib", name, "1.0", backend="poetry-core")
    poetry(client_home, "build", cwd=project)  # poetry-core, in process: nothing downloaded
    built = sorted(p.name for p in (project / "dist").iterdir())
    assert len(built) == 2, built
    poetry(client_home, "config", "repositories.packyard", matrix.legacy())
    poetry(client_home, "config", "http-basic.packyard", TOKEN_USER, matrix.upload_token)
    poetry(client_home, "publish", "-r", "packyard", cwd=project)
    assert matrix.listed(name, HOSTED) == built
    # Publishing the same files again is a no-op that succeeds.
    poetry(client_home, "publish", "-r", "packyard", cwd=project)
    assert matrix.listed(name, HOSTED) == built

    # Other bytes under the same filenames: refused ("File already exists" in the 400's
    # body), which `--skip-existing` turns into a skip.
    module = project / name.replace("-", "_") / "__init__.py"
    module.write_text(module.read_text() + "CHANGED = True\n")
    poetry(client_home, "build", "--clean", cwd=project)
    refused = client_home.fails(POETRY, "publish", "-r", "packyard", cwd=project, env=ENV)
    assert "File already exists" in refused.stdout + refused.stderr, refused
    result = client_home.ok(
        POETRY, "publish", "-r", "packyard", "--skip-existing", "-v", cwd=project, env=ENV
    )
    skipped = result.stdout + result.stderr
    for filename in built:
        assert f"Uploading {filename} File exists. Skipping" in skipped, skipped
    assert matrix.listed(name, HOSTED) == built
