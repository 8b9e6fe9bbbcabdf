"""Fixtures for end-to-end tests: real `packyard serve` processes and real clients.

- `server`: one server for the session (SQLite, local blobs) with an uploader user; tests
  share it and stay apart by using project names unique to the test (`unique`, `project`).
- `server_factory`: a server of the test's own, for custom settings (upload limit,
  PostgreSQL, default index), stopped at the end of the test.
- `cli`: `packyard ...` against the shared store (or another data dir).
- `clients`: pip, uv and twine with a temporary HOME and a hermetic environment.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

import pytest

from e2e.clients import Clients
from e2e.server import ServerProcess, base_env, run_cli, start_server
from e2e.simple import IndexClient

UPLOADER = "uploader"
UPLOADER_PASSWORD = "correct horse battery staple"


# Servers -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The shared server: fresh store, default index `hosted`, user `uploader`."""
    process = start_server(tmp_path_factory.mktemp("shared-server"))
    try:
        process.add_user(UPLOADER, UPLOADER_PASSWORD)
        yield process
    finally:
        process.stop()


class ServerFactory(Protocol):
    def __call__(
        self,
        *,
        settings: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        with_uploader: bool = True,
    ) -> ServerProcess: ...


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[ServerFactory]:
    started: list[ServerProcess] = []

    def start(
        *,
        settings: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        with_uploader: bool = True,
    ) -> ServerProcess:
        process = start_server(
            tmp_path / f"server-{len(started)}", settings=settings, extra_args=extra_args
        )
        started.append(process)
        if with_uploader:
            process.add_user(UPLOADER, UPLOADER_PASSWORD)
        return process

    yield start
    for process in started:
        process.stop()


class Cli(Protocol):
    def __call__(
        self,
        *args: str,
        input: str | None = None,
        data_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]: ...


@pytest.fixture
def cli(server: ServerProcess, tmp_path: Path) -> Cli:
    """`packyard ARGS` on the shared store, or on `data_dir` when given."""

    def run(
        *args: str,
        input: str | None = None,
        data_dir: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        if data_dir is None:
            environment = server.env()
        else:
            home = tmp_path / "cli-home"
            home.mkdir(exist_ok=True)
            environment = {**base_env(home), "PACKYARD_DATA_DIR": str(data_dir)}
        environment.update(env or {})
        return run_cli(*args, env=environment, input=input)

    return run


# Names ---------------------------------------------------------------------------------


class Unique(Protocol):
    def __call__(self, label: str = "") -> str: ...


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> Unique:
    """Project names no other test uses: `e2e-<test name>[-label]-<hash of node id>`."""
    digest = "h" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:7]
    test_name = request.node.name.lower().removeprefix("test_")
    slug = re.sub(r"[^a-z0-9]+", "-", test_name)[:28].strip("-")

    def make(label: str = "") -> str:
        return "-".join(part for part in ("e2e", slug, label, digest) if part)

    return make


@pytest.fixture
def project(unique: Unique) -> str:
    return unique()


# Clients -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pip_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One venv per session for pip (the standard library's ensurepip: no network)."""
    root = tmp_path_factory.mktemp("pip-client")
    venv = root / "venv"
    home = root / "home"
    home.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "venv", str(venv)],
        env=base_env(home),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return venv / "bin" / "python"


@pytest.fixture
def clients(tmp_path: Path, pip_python: Path) -> Clients:
    home = tmp_path / "client-home"
    home.mkdir()
    return Clients(home=home, pip_python=pip_python)


@pytest.fixture
def index(server: ServerProcess) -> Iterator[IndexClient]:
    with IndexClient(server) as client:
        yield client


@pytest.fixture
def dists(tmp_path: Path) -> Path:
    """A directory for the test's distribution files."""
    path = tmp_path / "dists"
    path.mkdir()
    return path
