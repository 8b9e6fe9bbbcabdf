"""The client matrix (issue 5): one packyard for every client test, and a hermetic client home.

The server is the downstream of an `upstream.py` pair, so it has the standard layout:

- `hosted` (internal uploads), `upstream` (a mirror of a second packyard that plays the
  public index) and `root` (virtual over both, the default: `/simple/`, `/legacy/`);
- `private`, a hosted index only `uploader` may read and upload to, with two tokens of
  `uploader`'s: `read_token` (read, `private` only) and `upload_token` (read and upload,
  every index).

Projects the install cells resolve:

- `mx-public` lives on the upstream only, so it is reached through the mirror: 1.0 with a
  2020 upload-time, 2.0 with today's (both imported, the upload-time is the file's mtime),
  so `--exclude-newer` has something to exclude;
- `mx-internal` 1.0 is in `hosted` and depends on `mx-public`;
- `mx-secret` 1.0 is in `private`.

Publishing cells upload projects named after the test (the `unique` fixture), so cells
stay apart. The pair is started once per session by whichever test asks first and stopped
by PID when pytest ends. Clients run in a `ClientHome`: a temporary HOME with every
configuration and cache directory inside it, no inherited environment, and a proxy that
refuses anything but 127.0.0.1, so no client can reach a public index.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from e2e.clients import hermetic_env, output, publish
from e2e.conftest import UPLOADER, UPLOADER_PASSWORD
from e2e.server import ServerProcess
from e2e.simple import JSON_TYPE, normalize
from e2e.upstream import HOSTED, UPSTREAM_INDEX, Pair, dists_for, start_pair
from helpers.dists import module_name

VENV_BIN = Path(sys.executable).parent
PYTHON = Path(sys.executable)
# The interpreter the test venv was made from: pdm gets this one for the environments it
# makes, so nothing is ever installed into the test venv itself.
BASE_PYTHON = Path(getattr(sys, "_base_executable", sys.executable))
CLIENT_TIMEOUT = 180.0
TOKEN_USER = "__token__"
ADMIN = "matrix-admin"
ADMIN_PASSWORD = "matrix admin password"

PUBLIC = "mx-public"
INTERNAL = "mx-internal"
SECRET = "mx-secret"
PRIVATE = "private"
OLD_UPLOAD_TIME = 1_590_969_600  # 2020-06-01T00:00:00Z: mx-public 1.0
EXCLUDE_NEWER = "2024-01-01T00:00:00Z"  # after mx-public 1.0, before 2.0


@dataclass
class Matrix:
    """The running pair, the tokens and the files the install cells resolve."""

    pair: Pair
    workdir: Path
    read_token: str = ""
    upload_token: str = ""
    files: dict[str, list[Path]] = field(default_factory=dict)  # "name==version" -> files

    @property
    def server(self) -> ServerProcess:
        return self.pair.downstream

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def netloc(self) -> str:
        """`127.0.0.1:PORT`, as keyring services and credentials in URLs name it."""
        return self.url.removeprefix("http://")

    @property
    def host(self) -> str:
        """`127.0.0.1`: netrc machines are host names without a port."""
        return self.netloc.split(":")[0]

    @property
    def user(self) -> str:
        return UPLOADER

    @property
    def password(self) -> str:
        return UPLOADER_PASSWORD

    def simple(self, index: str | None = None) -> str:
        """`/simple/` (the default index, `root`) or `/<index>/simple/`."""
        return f"{self.url}/{index}/simple/" if index else f"{self.url}/simple/"

    def legacy(self, index: str | None = None) -> str:
        """`/legacy/` (uploads land in `hosted`, root's first hosted member) or
        `/<index>/legacy/`."""
        return f"{self.url}/{index}/legacy/" if index else f"{self.url}/legacy/"

    @staticmethod
    def with_credentials(url: str, user: str, password: str | None = None) -> str:
        credentials = user if password is None else f"{user}:{password}"
        return url.replace("http://", f"http://{credentials}@", 1)

    def file(self, requirement: str, suffix: str = ".whl") -> Path:
        """The local copy of a matrix file: `file("mx-public==1.0", ".tar.gz")`."""
        return next(path for path in self.files[requirement] if path.name.endswith(suffix))

    def listed(self, project: str, index: str = HOSTED) -> list[str]:
        """Filenames `index` lists for `project` ([] for a 404), read as the uploader."""
        with httpx.Client(timeout=10.0, trust_env=False, auth=(self.user, self.password)) as http:
            response = http.get(
                f"{self.simple(index)}{normalize(project)}/", headers={"Accept": JSON_TYPE}
            )
        if response.status_code == 404:
            return []
        assert response.status_code == 200, f"{response.status_code} {response.text}"
        return sorted(entry["filename"] for entry in response.json()["files"])

    def requests(self, method: str, path_part: str) -> list[dict[str, Any]]:
        """The server's access-log entries of `method` requests whose path contains
        `path_part` (JSON lines: method, path, status, ...)."""
        found = []
        for line in self.server.logs().splitlines():
            if not line.startswith("{") or '"event": "request"' not in line:
                continue
            entry = json.loads(line)
            if entry.get("method") == method and path_part in entry.get("path", ""):
                found.append(entry)
        return found

    def stop(self) -> None:
        self.pair.stop()


def start_matrix(workdir: Path) -> Matrix:
    pair = start_pair(workdir / "servers")
    try:
        return _populate(Matrix(pair=pair, workdir=workdir))
    except BaseException:
        pair.stop()
        raise


def _populate(matrix: Matrix) -> Matrix:
    """Indexes, tokens and projects. An admin command takes a second, so the few that are
    needed run side by side, and the rest goes through the management API."""
    down, up = matrix.pair.downstream, matrix.pair.upstream
    files = matrix.workdir / "files"
    old = dists_for(files / "public", PUBLIC, "1.0")
    for path in old:
        os.utime(path, (OLD_UPLOAD_TIME, OLD_UPLOAD_TIME))
    new = dists_for(files / "public", PUBLIC, "2.0")
    internal = dists_for(files / "internal", INTERNAL, "1.0", dependencies=[PUBLIC])
    secret = dists_for(files / "secret", SECRET, "1.0")

    def private_index() -> None:
        _cli(down, "user", "add", ADMIN, "--admin", input=f"{ADMIN_PASSWORD}\n")
        with _api(down, (ADMIN, ADMIN_PASSWORD)) as api:
            _expect(api.post("/indexes", json={"name": PRIVATE, "kind": "hosted"}), 201)
            change = {"readers": UPLOADER, "uploaders": UPLOADER}
            _expect(api.patch(f"/indexes/{PRIVATE}", json=change), 200)
        publish(down, *secret, index=PRIVATE)

    with ThreadPoolExecutor(max_workers=2) as pool:
        imported = pool.submit(_cli, up, "import", str(files / "public"), "--index", UPSTREAM_INDEX)
        private = pool.submit(private_index)
        publish(down, *internal, index=HOSTED)
        imported.result()
        private.result()
    with _api(down, (UPLOADER, UPLOADER_PASSWORD)) as api:  # a user makes their own tokens
        read = {"scopes": ["read"], "indexes": [PRIVATE], "description": "matrix: read"}
        matrix.read_token = _expect(api.post("/tokens", json=read), 201).json()["secret"]
        upload = {"description": "matrix: read and upload"}
        matrix.upload_token = _expect(api.post("/tokens", json=upload), 201).json()["secret"]
    matrix.files = {
        f"{PUBLIC}==1.0": old,
        f"{PUBLIC}==2.0": new,
        f"{INTERNAL}==1.0": internal,
        f"{SECRET}==1.0": secret,
    }
    return matrix


def _cli(server: ServerProcess, *args: str, input: str | None = None) -> str:
    result = server.cli(*args, input=input)
    assert result.returncode == 0, output(result)
    return result.stdout.strip()


def _api(server: ServerProcess, auth: tuple[str, str]) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/api/v1", auth=auth, timeout=30.0, trust_env=False)


def _expect(response: httpx.Response, status: int) -> httpx.Response:
    request = response.request
    assert response.status_code == status, (
        f"{request.method} {request.url} -> {response.status_code}: {response.text[:500]}"
    )
    return response


class _Started:
    """The session's matrix, once started (or the error that stopped it)."""

    matrix: Matrix | None = None
    error: BaseException | None = None


_STARTED = pytest.StashKey[_Started]()


@pytest.fixture(scope="session")
def matrix(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Matrix:
    """One matrix per pytest session, shared by every `test_clients_*` module.

    Modules import this fixture and pytest keeps one definition per importing module, so
    the servers live in the session's stash: they start once and stop (by PID) when the
    session ends.
    """
    started = request.config.stash.setdefault(_STARTED, _Started())
    if started.error is not None:
        pytest.fail(f"the client matrix did not start: {started.error!r}")
    if started.matrix is None:
        try:
            started.matrix = start_matrix(tmp_path_factory.mktemp("client-matrix"))
        except BaseException as exc:
            started.error = exc
            raise
        request.config.add_cleanup(started.matrix.stop)
    return started.matrix


# Clients ------------------------------------------------------------------------------------


@dataclass
class ClientHome:
    """A temporary HOME for one test's clients; nothing else is inherited."""

    home: Path

    @property
    def bin(self) -> Path:
        """First on PATH; empty unless a test puts a tool there (`link_tool`)."""
        return self.home / "bin"

    def env(self, overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
        """`clients.hermetic_env` plus every tool's own directories inside HOME;
        overrides add variables, or remove them with None."""
        env = hermetic_env(self.home, path_prefix=[self.bin])
        home = self.home
        env.update(
            {
                "PYTHONNOUSERSITE": "1",
                "VIRTUALENV_NO_PERIODIC_UPDATE": "1",
                "VIRTUALENV_NO_DOWNLOAD": "1",
                "POETRY_HOME": str(home / ".poetry"),
                "POETRY_CONFIG_DIR": str(home / ".config" / "pypoetry"),
                "POETRY_CACHE_DIR": str(home / ".cache" / "pypoetry"),
                "POETRY_DATA_DIR": str(home / ".local" / "share" / "pypoetry"),
                "POETRY_NO_INTERACTION": "1",
                "POETRY_KEYRING_ENABLED": "false",
                "PDM_HOME": str(home / ".pdm"),
                "PDM_CONFIG_FILE": str(home / ".config" / "pdm" / "config.toml"),
                "PDM_CACHE_DIR": str(home / ".cache" / "pdm"),
                "PDM_CHECK_UPDATE": "false",
                "PDM_NON_INTERACTIVE": "1",
                "HATCH_DATA_DIR": str(home / ".local" / "share" / "hatch"),
                "HATCH_CACHE_DIR": str(home / ".cache" / "hatch"),
                "HATCH_INTERACTIVE": "false",
                "TWINE_NON_INTERACTIVE": "1",
            }
        )
        for key, value in (overrides or {}).items():
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        return env

    def run(
        self,
        *args: str | Path,
        cwd: Path | None = None,
        env: Mapping[str, str | None] | None = None,
        timeout: float = CLIENT_TIMEOUT,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(arg) for arg in args],
            env=self.env(env),
            cwd=cwd or self.home,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def ok(
        self,
        *args: str | Path,
        cwd: Path | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, cwd=cwd, env=env)
        assert result.returncode == 0, f"exit {result.returncode}\n{output(result)}"
        return result

    def fails(
        self,
        *args: str | Path,
        cwd: Path | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, cwd=cwd, env=env)
        assert result.returncode != 0, f"expected a failure\n{output(result)}"
        return result

    def directory(self, name: str) -> Path:
        path = self.home / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def write(self, relative: str, text: str, *, mode: int | None = None) -> Path:
        path = self.home / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if mode is not None:
            path.chmod(mode)
        return path

    def link_tool(self, name: str, target: Path) -> Path:
        """Put `target` on PATH as `name`, from a directory outside any venv (as pipx
        would install it)."""
        self.bin.mkdir(exist_ok=True)
        link = self.bin / name
        link.write_text(f'#!/bin/sh\nexec "{target}" "$@"\n')
        link.chmod(0o755)
        return link

    def netrc(self, host: str, login: str, password: str) -> Path:
        return self.write(
            ".netrc", f"machine {host}\nlogin {login}\npassword {password}\n", mode=0o600
        )

    def pypirc(self, name: str, url: str, user: str, password: str) -> Path:
        text = (
            f"[distutils]\nindex-servers =\n    {name}\n\n"
            f"[{name}]\nrepository = {url}\nusername = {user}\npassword = {password}\n"
        )
        return self.write(".pypirc", text, mode=0o600)


@pytest.fixture
def client_home(tmp_path: Path) -> ClientHome:
    home = tmp_path / "home"
    home.mkdir()
    return ClientHome(home=home)


# Checks ---------------------------------------------------------------------------------------


def module_of(project: str) -> str:
    return module_name(project)


def imported_version(home: ClientHome, python: Path, project: str, path: Path | None = None) -> str:
    """`__version__` of the project's module as `python -I` imports it (from `path` first)."""
    module = module_of(project)
    code = "import sys\n"
    if path is not None:
        code += f"sys.path.insert(0, {str(path)!r})\n"
    code += f"import {module}\nprint({module}.__version__)\n"
    return home.ok(python, "-I", "-c", code).stdout.strip()


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def strip_ansi(text: str) -> str:
    """Client output without colour codes or trailing padding (twine's rich output)."""
    return "\n".join(line.rstrip() for line in re.sub(r"\x1b\[[0-9;]*m", "", text).splitlines())


# Projects built by the real backends, without build isolation ---------------------------------

BACKENDS = {
    "hatchling": ('["hatchling"]', "hatchling.build"),
    "flit_core": ('["flit_core>=3.4"]', "flit_core.buildapi"),
    "poetry-core": ('["poetry-core>=2.0"]', "poetry.core.masonry.api"),
}


def write_project(
    root: Path,
    name: str,
    version: str,
    *,
    backend: str = "hatchling",
    dependencies: Sequence[str] = (),
) -> Path:
    """A source tree whose pyproject.toml uses `backend` (hatchling, flit_core, poetry-core),
    each available in the test venv, so the tools build offline."""
    module = module_of(name)
    (root / module).mkdir(parents=True, exist_ok=True)
    (root / module / "__init__.py").write_text(
        f'"""{name}: a package of the client matrix."""\n\n__version__ = "{version}"\n'
    )
    (root / "README.md").write_text(f"# {name}\n\nA package of the client matrix.\n")
    requires, build_backend = BACKENDS[backend]
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (root / "pyproject.toml").write_text(
        f'[build-system]\nrequires = {requires}\nbuild-backend = "{build_backend}"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\n'
        f'description = "A package of the client matrix"\nreadme = "README.md"\n'
        f'requires-python = ">=3.8"\nlicense = "MIT"\ndependencies = [{deps}]\n'
    )
    return root


def build_no_isolation(home: ClientHome, project: Path) -> list[Path]:
    """`python -m build --no-isolation`: the backend comes from the test venv."""
    out = project / "dist"
    home.ok(PYTHON, "-m", "build", "--no-isolation", "--outdir", out, project, cwd=project)
    return sorted(out.iterdir())
