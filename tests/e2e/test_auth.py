"""Who may upload, and that reads are open: STANDARDS A2, A3 and U6's credential cases."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from e2e.clients import Clients, assert_rejected, expect_failure, expect_ok, publish, upload
from e2e.server import ServerProcess
from e2e.simple import IndexClient
from helpers.dists import make_wheel

pytestmark = pytest.mark.e2e


@pytest.fixture
def wheel(dists: Path, project: str) -> Path:
    return make_wheel(dists, project, "1.0")


def test_upload_without_credentials_is_401_with_a_basic_challenge(
    server: ServerProcess, wheel: Path, project: str, index: IndexClient
) -> None:
    response = upload(server, wheel, auth=None)

    assert_rejected(response, 401)
    assert response.headers.get("www-authenticate", "").lower().startswith("basic")
    assert index.http.get(index.project_path(project)).status_code == 404


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param(("uploader", "wrong password"), id="wrong-password"),
        pytest.param(("nobody", "whatever"), id="unknown-user"),
        pytest.param(("uploader", ""), id="empty-password"),
        pytest.param(("__token__", "pypi-not-a-token"), id="unknown-token"),
    ],
)
def test_upload_with_bad_credentials_is_401_or_403(
    server: ServerProcess,
    wheel: Path,
    project: str,
    index: IndexClient,
    credentials: tuple[str, str],
) -> None:
    response = upload(server, wheel, auth=credentials)

    assert_rejected(response, 401, 403)
    assert index.http.get(index.project_path(project)).status_code == 404


@pytest.mark.parametrize("header", ["Basic !!!not-base64!!!", "Bearer something", "Basic"])
def test_malformed_authorization_header_is_refused_not_a_crash(
    server: ServerProcess, header: str
) -> None:
    form = "multipart/form-data; boundary=x"
    with httpx.Client(trust_env=False) as client:
        response = client.post(
            server.upload_url,
            headers={"Authorization": header, "Content-Type": form},
            content=b"--x--\r\n",
        )

    assert_rejected(response, 400, 401, 403)


def test_user_added_with_the_cli_can_upload_at_once(
    server: ServerProcess, wheel: Path, project: str, index: IndexClient
) -> None:
    result = server.cli("user", "add", project, input="a fresh password\n")
    assert result.returncode == 0, result.stdout + result.stderr

    response = upload(server, wheel, auth=(project, "a fresh password"))

    assert response.status_code == 200, response.text
    assert index.project_html(project).filenames == [wheel.name]


def test_adding_an_existing_user_fails(server: ServerProcess) -> None:
    result = server.cli("user", "add", server.user, input="another password\n")

    assert result.returncode != 0


def test_twine_with_a_wrong_password_fails_with_the_status(
    server: ServerProcess, clients: Clients, wheel: Path
) -> None:
    result = expect_failure(
        clients.twine_upload(server.upload_url, wheel, user=server.user, password="wrong")
    )

    shown = result.stdout + result.stderr
    assert "401" in shown or "403" in shown, shown


def test_uv_publish_with_a_wrong_password_fails(
    server: ServerProcess, clients: Clients, wheel: Path, project: str, index: IndexClient
) -> None:
    expect_failure(clients.uv_publish(server.upload_url, wheel, user=server.user, password="no"))

    assert index.http.get(index.project_path(project)).status_code == 404


def test_reads_need_no_credentials(
    server: ServerProcess, clients: Clients, wheel: Path, project: str, index: IndexClient
) -> None:
    publish(server, wheel)
    anchor = index.project_html(project).anchor(wheel.name)

    for url in ("/simple/", index.project_path(project), anchor.url, f"/pypi/{project}/json"):
        assert index.http.get(url).status_code == 200, url
    expect_ok(clients.pip_download(server.simple_url, f"{project}==1.0")[0])


def test_oidc_audience_probe_is_a_quick_404(index: IndexClient) -> None:
    started = time.monotonic()

    response = index.http.get("/_/oidc/audience")

    assert response.status_code == 404
    assert time.monotonic() - started < 2.0
