"""Opt-in: a packyard whose mirror's upstream is the index pip uses on this machine.

Skipped unless PACKYARD_TEST_PUBLIC=1: it is the one test that reaches a public index.
The store is created with PACKYARD_UPSTREAM_URL unset, so packyard resolves the upstream
itself (PIP_INDEX_URL, else pip's configured index-url, else pip's built-in default); no
URL is written here. The server gets this machine's pip configuration, proxy and CA
settings; the installer (uv) only ever talks to the local server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e.clients import Clients, expect_ok
from e2e.server import VENV_BIN, ServerProcess, run_cli
from e2e.simple import IndexClient, normalize
from e2e.upstream import MIRROR, VIRTUAL, start_server_with_environment

RUN_ME = (
    "reaches the public index: run with "
    "PACKYARD_TEST_PUBLIC=1 .venv/bin/pytest tests/e2e/test_public_index.py -m public_index"
)
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.public_index,
    pytest.mark.skipif(os.environ.get("PACKYARD_TEST_PUBLIC") != "1", reason=RUN_ME),
]

# Small, pure-Python, no dependencies: (requirement, module to import).
PACKAGES = (("six", "six"), ("iniconfig", "iniconfig"), ("idna", "idna"))
# What the server may inherit: where pip's configuration is, and how to get out.
PASSED_THROUGH = (
    "HOME",
    "XDG_CONFIG_HOME",
    "XDG_CONFIG_DIRS",
    "PIP_INDEX_URL",
    "PIP_CONFIG_FILE",
    "PIP_CERT",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
)


def public_env(workdir: Path) -> dict[str, str]:
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PACKYARD_DATA_DIR": str(workdir / "data"),
    }
    env.update({key: os.environ[key] for key in PASSED_THROUGH if key in os.environ})
    assert "PACKYARD_UPSTREAM_URL" not in env
    return env


@pytest.fixture
def public_mirror(tmp_path: Path) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    workdir = tmp_path / "public"
    env = public_env(workdir)
    server = start_server_with_environment(workdir, env)
    try:
        yield server, env
    finally:
        server.stop()


def test_uv_installs_real_packages_through_a_mirror_of_the_index_pip_uses(
    public_mirror: tuple[ServerProcess, dict[str, str]], clients: Clients
) -> None:
    server, env = public_mirror
    shown = expect_ok(run_cli("index", "show", MIRROR, env=env)).stdout.splitlines()
    upstream = [line.split("\t", 1)[1] for line in shown if line.startswith("upstream\t")]
    assert upstream and upstream[0].startswith(("http://", "https://")), shown

    requirements = [name for name, _ in PACKAGES]
    result, venv = clients.uv_install(f"{server.url}/{VIRTUAL}/simple/", *requirements)

    expect_ok(result)
    python = venv / "bin" / "python"
    imports = "; ".join(f"import {module}" for _, module in PACKAGES)
    expect_ok(clients.run([python, "-I", "-c", imports]))
    with IndexClient(server) as index:
        cached = {normalize(a.text) for a in index.root_html(MIRROR).anchors}
        assert set(requirements) <= cached
        for name in requirements:
            explained = index.get(f"/{VIRTUAL}/+explain/{name}").json()
            assert explained["answered_by"] == [MIRROR], explained
