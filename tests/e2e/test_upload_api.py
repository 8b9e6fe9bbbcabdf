"""warehouse's legacy upload API as clients speak it: STANDARDS U1-U10."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from e2e.clients import (
    Clients,
    assert_rejected,
    digests_of,
    expect_failure,
    post_upload,
    publish,
    sha256_of,
    upload,
    upload_fields,
)
from e2e.server import ServerProcess
from e2e.simple import IndexClient, normalize
from helpers.dists import make_sdist, make_wheel

pytestmark = pytest.mark.e2e


@pytest.fixture
def wheel(dists: Path, project: str) -> Path:
    return make_wheel(dists, project, "1.0", summary="Summary from the file")


# U1: the form -----------------------------------------------------------------------


def test_upload_of_a_wheel_with_the_twine_form_is_accepted(
    server: ServerProcess, wheel: Path, project: str, index: IndexClient
) -> None:
    response = upload(server, wheel)

    assert response.status_code == 200, response.text
    assert index.project_html(project).filenames == [wheel.name]


def test_upload_of_an_sdist_is_accepted(
    server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    sdist = make_sdist(dists, project, "1.0")

    response = upload(server, sdist)

    assert response.status_code == 200, response.text
    assert index.project_html(project).filenames == [sdist.name]


@pytest.mark.parametrize("protocol_version", ["2", "0", "x"])
def test_protocol_version_other_than_1_is_400(
    server: ServerProcess, wheel: Path, project: str, index: IndexClient, protocol_version: str
) -> None:
    response = upload(server, wheel, overrides={"protocol_version": protocol_version})

    assert_rejected(response, 400)
    assert index.http.get(index.project_path(project)).status_code == 404


def test_upload_without_a_content_part_is_400(
    server: ServerProcess, wheel: Path, project: str
) -> None:
    fields = upload_fields(wheel.name, wheel.read_bytes(), name=project, version="1.0")

    response = post_upload(server.upload_url, auth=server.auth, fields=fields, file=None)

    assert_rejected(response, 400)


def test_upload_that_is_not_multipart_is_400(server: ServerProcess) -> None:
    with httpx.Client(trust_env=False) as client:
        response = client.post(server.upload_url, data={":action": "file_upload"}, auth=server.auth)

    assert_rejected(response, 400, 415)


@pytest.mark.parametrize("filetype", ["bdist_egg", "bdist_wininst", "sdist"])
def test_filetype_that_is_unsupported_or_contradicts_the_file_is_400(
    server: ServerProcess, wheel: Path, project: str, index: IndexClient, filetype: str
) -> None:
    response = upload(server, wheel, overrides={"filetype": filetype})

    assert_rejected(response, 400)
    assert index.http.get(index.project_path(project)).status_code == 404


# U2: digests --------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["md5_digest", "sha256_digest", "blake2_256_digest"])
def test_a_wrong_digest_is_400_and_stores_nothing(
    server: ServerProcess, wheel: Path, project: str, index: IndexClient, field: str
) -> None:
    wrong = digests_of(b"other bytes")[field]

    response = upload(server, wheel, overrides={field: wrong})

    assert_rejected(response, 400, says=["digest"])
    assert index.http.get(index.project_path(project)).status_code == 404


def test_upper_case_hex_digests_are_accepted(server: ServerProcess, wheel: Path) -> None:
    upper = {k: v.upper() for k, v in digests_of(wheel.read_bytes()).items()}

    response = upload(server, wheel, overrides=dict(upper))

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(("sha256_digest", "blake2_256_digest"), id="twine-and-uv"),
        pytest.param(("md5_digest", "sha256_digest"), id="flit"),
        pytest.param(("sha256_digest",), id="sha256-only"),
    ],
)
def test_any_client_set_of_digests_is_accepted(
    server: ServerProcess, wheel: Path, sent: tuple[str, ...]
) -> None:
    dropped: dict[str, str | None] = {k: None for k in digests_of(b"") if k not in sent}

    response = upload(server, wheel, overrides=dropped)

    assert response.status_code == 200, response.text


# U3: form metadata ----------------------------------------------------------------------


def test_unknown_fields_repeated_fields_and_placeholder_values_are_tolerated(
    server: ServerProcess, wheel: Path, project: str, index: IndexClient
) -> None:
    extra = [
        ("frobnication_level", "11"),
        ("classifiers", "Programming Language :: Python :: 3"),
        ("classifiers", "Operating System :: OS Independent"),
        ("requires_dist", "packaging"),
        ("requires_dist", "httpx"),
        ("home_page", "UNKNOWN"),
        ("author", ""),
        ("license", "UNKNOWN"),
    ]

    response = upload(server, wheel, overrides={"summary": ""}, extra=extra)

    assert response.status_code == 200, response.text
    assert index.project_html(project).filenames == [wheel.name]


def test_stored_metadata_is_read_from_the_file_not_the_form(
    server: ServerProcess, wheel: Path, project: str, index: IndexClient
) -> None:
    response = upload(
        server,
        wheel,
        overrides={"summary": "Summary from the form"},
        extra=[("author", "Form Author")],
    )

    assert response.status_code == 200, response.text
    info = index.pypi_json(project).json()["info"]
    assert info["summary"] == "Summary from the file"
    assert info["author"] in (None, "")


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"name": "someone-else"}, id="name"),
        pytest.param({"version": "2.0"}, id="version"),
    ],
)
def test_form_name_or_version_disagreeing_with_the_file_is_400(
    server: ServerProcess,
    wheel: Path,
    project: str,
    index: IndexClient,
    overrides: dict[str, str | None],
) -> None:
    response = upload(server, wheel, overrides=overrides)

    assert_rejected(response, 400)
    assert index.http.get(index.project_path(project)).status_code == 404
    assert index.http.get("/simple/someone-else/").status_code == 404


# U4: name spelling ------------------------------------------------------------------------


def test_form_name_in_another_spelling_is_the_same_project(
    server: ServerProcess, wheel: Path, project: str, index: IndexClient
) -> None:
    spelled = project.upper().replace("-", "_", 1).replace("-", ".")

    response = upload(server, wheel, name=spelled)

    assert response.status_code == 200, response.text
    assert index.project_html(project).filenames == [wheel.name]
    assert index.project_json(project)["name"] == normalize(project)


# U5: no Content-Type on the file part -------------------------------------------------------


def test_content_part_without_a_content_type_is_accepted(
    server: ServerProcess, wheel: Path, project: str, index: IndexClient
) -> None:
    response = upload(server, wheel, content_type=None)

    assert response.status_code == 200, response.text
    assert index.download(project, wheel.name) == wheel.read_bytes()


# U6: outcomes --------------------------------------------------------------------------------


def test_identical_reupload_is_a_200_no_op(
    server: ServerProcess, wheel: Path, project: str, index: IndexClient
) -> None:
    publish(server, wheel)
    before = index.project_json(project)

    response = upload(server, wheel)

    assert response.status_code == 200, response.text
    assert index.project_json(project) == before


def test_other_bytes_under_an_existing_filename_say_file_already_exists(
    server: ServerProcess, dists: Path, wheel: Path, project: str, index: IndexClient
) -> None:
    publish(server, wheel)
    (dists / "other").mkdir()
    other = make_wheel(dists / "other", project, "1.0", summary="different bytes")
    assert other.read_bytes() != wheel.read_bytes()

    response = upload(server, other)

    assert_rejected(response, 400, 409, says=["File already exists"])
    assert index.project_html(project).anchor(wheel.name).sha256 == sha256_of(wheel.read_bytes())


def test_twine_shows_file_already_exists_for_other_bytes(
    server: ServerProcess, clients: Clients, dists: Path, wheel: Path, project: str
) -> None:
    publish(server, wheel)
    (dists / "other").mkdir()
    other = make_wheel(dists / "other", project, "1.0", summary="different bytes")

    failed = expect_failure(
        clients.twine_upload(server.upload_url, other, user=server.user, password=server.password)
    )

    assert "File already exists" in failed.stdout + failed.stderr


def test_submit_action_is_gone(server: ServerProcess, wheel: Path) -> None:
    response = upload(server, wheel, overrides={":action": "submit"})

    assert_rejected(response, 410)


# U7, U8: where uploads go ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/legacy", "/legacy/", "/hosted/legacy", "/hosted/legacy/"])
def test_upload_url_is_accepted_with_and_without_slash_and_never_redirects(
    server: ServerProcess, dists: Path, project: str, index: IndexClient, path: str
) -> None:
    wheel = make_wheel(dists, project, "1.0")
    fields = upload_fields(wheel.name, wheel.read_bytes(), name=project, version="1.0")

    response = post_upload(
        f"{server.url}{path}",
        auth=server.auth,
        fields=fields,
        file=(wheel.name, wheel.read_bytes(), "application/octet-stream"),
    )

    assert response.status_code == 200, f"{response.status_code} {response.headers}"
    assert index.project_html(project).filenames == [wheel.name]


@pytest.mark.parametrize(
    "path", ["/simple/", "/simple/{project}/", "/hosted/simple/", "/pypi/{project}/json"]
)
def test_post_to_a_read_url_is_405(
    server: ServerProcess, wheel: Path, project: str, index: IndexClient, path: str
) -> None:
    fields = upload_fields(wheel.name, wheel.read_bytes(), name=project, version="1.0")

    response = post_upload(
        f"{server.url}{path.format(project=project)}",
        auth=server.auth,
        fields=fields,
        file=(wheel.name, wheel.read_bytes(), "application/octet-stream"),
    )

    assert response.status_code == 405, f"{response.status_code} {response.text}"
    assert index.http.get(index.project_path(project)).status_code == 404


def test_upload_to_an_unknown_index_is_404(
    server: ServerProcess, wheel: Path, project: str
) -> None:
    response = upload(server, wheel, index=f"{project}-no-such-index")

    assert_rejected(response, 404)
