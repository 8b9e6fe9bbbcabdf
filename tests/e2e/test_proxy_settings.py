"""Behind a reverse proxy: PACKYARD_BASE_URL in generated links, PACKYARD_TRUSTED_PROXIES
for the client address that logs and limits see."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from e2e.clients import upload
from e2e.conftest import ServerFactory, Unique
from e2e.server import ServerProcess
from helpers.dists import make_wheel

pytestmark = pytest.mark.e2e

PUBLIC = "https://packages.example.internal/pypi"


def test_links_and_redirects_carry_the_base_url_path(
    server_factory: ServerFactory, tmp_path: Path, unique: Unique
) -> None:
    server = server_factory(settings={"PACKYARD_BASE_URL": PUBLIC})
    project = unique()
    assert upload(server, make_wheel(tmp_path, project, "1.0")).status_code == 200

    page = httpx.get(f"{server.url}/simple/{project}/")
    index = httpx.get(f"{server.url}/simple/")
    moved = httpx.get(f"{server.url}/simple/{project.upper()}/")
    document = httpx.get(f"{server.url}/pypi/{project}/json").json()

    assert 'href="/pypi/root/+f/' in page.text
    assert f'href="/pypi/simple/{project}/"' in index.text
    assert moved.status_code == 301
    assert moved.headers["location"] == f"/pypi/simple/{project}/"
    assert document["urls"][0]["url"].startswith(f"{PUBLIC}/root/+f/")
    assert document["info"]["project_url"] == f"{PUBLIC}/simple/{project}/"


def test_forwarded_client_address_is_believed_only_from_a_trusted_proxy(
    server_factory: ServerFactory,
) -> None:
    trusting = server_factory(
        settings={"PACKYARD_TRUSTED_PROXIES": "127.0.0.1", "PACKYARD_LOG_FORMAT": "json"}
    )
    wary = server_factory(settings={"PACKYARD_LOG_FORMAT": "json"})
    forwarded = {"X-Forwarded-For": "203.0.113.7"}

    for server in (trusting, wary):
        response = httpx.get(f"{server.url}/healthz", headers=forwarded)
        assert response.status_code == 200

    assert _clients_logged(trusting, "/healthz") == ["203.0.113.7"]
    assert _clients_logged(wary, "/healthz") == ["127.0.0.1"]


def test_failed_logins_are_audited_with_the_forwarded_address(
    server_factory: ServerFactory,
) -> None:
    server = server_factory(settings={"PACKYARD_TRUSTED_PROXIES": "127.0.0.1"})
    response = httpx.get(
        f"{server.url}/simple/",
        auth=("nobody", "wrong-password"),
        headers={"X-Forwarded-For": "198.51.100.9"},
    )
    assert response.status_code == 401

    audit = server.cli("audit", "--action", "login_failed", "--json", check=True)
    rows = [json.loads(line) for line in audit.stdout.splitlines() if line.strip()]
    assert [(row["actor"], row["address"]) for row in rows] == [("nobody", "198.51.100.9")]


def _clients_logged(server: ServerProcess, path: str) -> list[str]:
    """Clients of the request lines for `path`; the line is written after the response
    is sent, so it is waited for a little."""
    deadline = time.monotonic() + 10
    while not (clients := _logged_once(server, path)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return clients


def _logged_once(server: ServerProcess, path: str) -> list[str]:
    clients = []
    for line in server.logs().splitlines():
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry.get("event") == "request" and entry.get("path") == path:
            clients.append(entry["client"])
    return clients
