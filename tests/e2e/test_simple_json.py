"""The simple repository API in JSON (PEP 691, 700, 714) and negotiation: STANDARDS J1-J7."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from e2e.clients import publish, sha256_of
from e2e.server import ServerProcess
from e2e.simple import (
    BROWSER_ACCEPT,
    HTML_TYPE,
    JSON_TYPE,
    PIP_ACCEPT,
    POETRY_ACCEPT,
    SHA256_HEX,
    UPLOAD_TIME,
    UV_ACCEPT,
    IndexClient,
    media_type,
    normalize,
)
from helpers.dists import make_sdist, make_wheel, metadata_of

pytestmark = pytest.mark.e2e


@pytest.fixture
def published(server: ServerProcess, dists: Path, project: str) -> dict[str, Path]:
    """Two releases of `project`: 1.0 (wheel with Requires-Python, sdist) and 2.0 (wheel)."""
    files = {
        "wheel": make_wheel(dists, project, "1.0", requires_python=">=3.9"),
        "sdist": make_sdist(dists, project, "1.0"),
        "wheel2": make_wheel(dists, project, "2.0"),
    }
    publish(server, *files.values())
    return files


def api_version(document: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(part) for part in document["meta"]["api-version"].split("."))


def test_json_pages_declare_api_version_1_1_or_later(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    root = index.http.get("/simple/", headers={"Accept": JSON_TYPE})

    assert api_version(index.project_json(project)) >= (1, 1)
    assert api_version(root.json()) >= (1, 1)


def test_json_project_page_lists_versions_once_each(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    document = index.project_json(project)

    assert document["name"] == normalize(project)
    assert sorted(document["versions"]) == ["1.0", "2.0"]


def test_json_files_carry_every_required_field_with_the_right_values(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    document = index.project_json(project)
    files = {f["filename"]: f for f in document["files"]}

    assert sorted(files) == sorted(p.name for p in published.values())
    for path in published.values():
        entry = files[path.name]
        assert entry["hashes"]["sha256"] == sha256_of(path.read_bytes())
        assert entry["size"] == path.stat().st_size
        assert UPLOAD_TIME.match(entry["upload-time"]), entry["upload-time"]
        assert entry["yanked"] is False
        assert "requires-python" in entry
        download = index.http.get(index.resolve(index.project_path(project), entry["url"]))
        assert sha256_of(download.content) == entry["hashes"]["sha256"]
    assert files[published["wheel"].name]["requires-python"] == ">=3.9"
    assert files[published["wheel2"].name]["requires-python"] is None


def test_json_core_metadata_is_the_sidecar_hash_for_wheels(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    wheel = published["wheel"]

    entry = index.json_file(project, wheel.name)

    assert entry["core-metadata"] == {"sha256": sha256_of(metadata_of(wheel))}
    assert all(SHA256_HEX.match(v) for v in entry["core-metadata"].values())


def test_json_never_has_dist_info_metadata(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    response = index.http.get(index.project_path(project), headers={"Accept": JSON_TYPE})

    assert "dist-info-metadata" not in response.text
    assert all("core-metadata" in f for f in response.json()["files"])


def test_json_root_page_lists_the_project(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    response = index.http.get("/simple/", headers={"Accept": JSON_TYPE})

    assert media_type(response) == JSON_TYPE
    names = [p["name"] for p in response.json()["projects"]]
    assert [normalize(n) for n in names].count(normalize(project)) == 1


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        pytest.param(PIP_ACCEPT, JSON_TYPE, id="pip"),
        pytest.param(UV_ACCEPT, JSON_TYPE, id="uv"),
        pytest.param(POETRY_ACCEPT, JSON_TYPE, id="poetry"),
        pytest.param(JSON_TYPE, JSON_TYPE, id="json-only"),
        pytest.param(BROWSER_ACCEPT, "html", id="browser"),
        pytest.param(None, "html", id="no-accept"),
        pytest.param("*/*", "html", id="anything"),
        pytest.param("text/html", "html", id="text-html"),
        pytest.param(HTML_TYPE, HTML_TYPE, id="pep691-html"),
        pytest.param(f"{JSON_TYPE};q=0, text/html", "html", id="json-refused-by-q0"),
        pytest.param(f"{HTML_TYPE};q=0.5, {JSON_TYPE};q=0.9", JSON_TYPE, id="q-values-order"),
    ],
)
def test_content_negotiation_chooses_the_format_the_client_prefers(
    published: dict[str, Path], project: str, index: IndexClient, accept: str | None, expected: str
) -> None:
    for path in ("/simple/", index.project_path(project)):
        response = index.get_with_accept(path, accept)

        assert response.status_code == 200, (path, response.status_code)
        if expected == "html":
            assert media_type(response) in {"text/html", HTML_TYPE}, response.headers
            assert "<a " in response.text or path == "/simple/"
        else:
            assert media_type(response) == expected
        if expected == JSON_TYPE:
            assert "meta" in response.json()


def test_nothing_acceptable_is_406_or_html(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    response = index.http.get(index.project_path(project), headers={"Accept": "application/xml"})

    if response.status_code != 406:
        assert response.status_code == 200
        assert media_type(response) in {"text/html", HTML_TYPE}


@pytest.mark.parametrize(("format_", "expected"), [(JSON_TYPE, JSON_TYPE), (HTML_TYPE, HTML_TYPE)])
def test_format_query_parameter_overrides_accept(
    published: dict[str, Path], project: str, index: IndexClient, format_: str, expected: str
) -> None:
    other = HTML_TYPE if format_ == JSON_TYPE else JSON_TYPE

    response = index.http.get(
        index.project_path(project), params={"format": format_}, headers={"Accept": other}
    )

    assert response.status_code == 200
    assert media_type(response) == expected


@pytest.mark.parametrize("accept", [JSON_TYPE, HTML_TYPE, "text/html", PIP_ACCEPT, None], ids=str)
def test_content_type_is_present_lower_case_and_exact(
    published: dict[str, Path], project: str, index: IndexClient, accept: str | None
) -> None:
    for path in ("/simple/", index.project_path(project), "/hosted/simple/"):
        content_type = index.get_with_accept(path, accept).headers.get("content-type")

        assert content_type, f"{path} has no Content-Type"
        assert content_type == content_type.lower()
        mtype, _, params = content_type.partition(";")
        assert mtype in {JSON_TYPE, HTML_TYPE, "text/html"}
        assert params.strip() in {"", "charset=utf-8"}, content_type
        if accept in (JSON_TYPE, PIP_ACCEPT):
            assert content_type == JSON_TYPE


@pytest.mark.parametrize("accept", [JSON_TYPE, "text/html", PIP_ACCEPT, UV_ACCEPT])
@pytest.mark.parametrize("prefix", ["/simple/", "/hosted/simple/"])
def test_unknown_project_is_404(project: str, index: IndexClient, accept: str, prefix: str) -> None:
    response = index.http.get(f"{prefix}{project}-missing/", headers={"Accept": accept})

    assert response.status_code == 404


def test_unknown_index_is_404(project: str, index: IndexClient) -> None:
    assert index.http.get(f"/{project}/simple/").status_code == 404
    assert index.http.get(f"/{project}/simple/anything/").status_code == 404
