"""warehouse's JSON API (`/pypi/<name>/json`): STANDARDS P1, and PEP 700 fields in JSON."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from e2e.clients import publish
from e2e.server import ServerProcess
from e2e.simple import UPLOAD_TIME, IndexClient, normalize
from helpers.dists import make_sdist, make_wheel

pytestmark = pytest.mark.e2e


@pytest.fixture
def published(server: ServerProcess, dists: Path, project: str) -> dict[str, Path]:
    files = {
        "wheel": make_wheel(dists, project, "1.0", summary="One", requires_python=">=3.9"),
        "sdist": make_sdist(dists, project, "1.0"),
        "wheel2": make_wheel(dists, project, "2.0", summary="Two"),
    }
    publish(server, *files.values())
    return files


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_project_document_has_info_urls_releases_and_last_serial(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    response = index.pypi_json(project)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert normalize(document["info"]["name"]) == normalize(project)
    assert document["info"]["version"] == "2.0"
    assert document["info"]["summary"] == "Two"
    assert sorted(document["releases"]) == ["1.0", "2.0"]
    assert [u["filename"] for u in document["urls"]] == [published["wheel2"].name]
    assert isinstance(document["last_serial"], int)


def test_release_document_describes_that_release(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    response = index.pypi_json(project, "1.0")

    assert response.status_code == 200
    document = response.json()
    assert document["info"]["version"] == "1.0"
    assert document["info"]["summary"] == "One"
    assert document["info"]["requires_python"] == ">=3.9"
    filenames = sorted(u["filename"] for u in document["urls"])
    assert filenames == sorted([published["wheel"].name, published["sdist"].name])


def test_file_entries_carry_digests_sizes_times_and_yank_state(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    urls = index.pypi_json(project, "1.0").json()["urls"]

    for entry in urls:
        data = next(p for p in published.values() if p.name == entry["filename"]).read_bytes()
        assert entry["digests"]["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["digests"]["blake2b_256"] == hashlib.blake2b(data, digest_size=32).hexdigest()
        if "md5" in entry["digests"]:
            assert entry["digests"]["md5"] == hashlib.md5(data).hexdigest()
        assert entry["size"] == len(data)
        assert entry["packagetype"] in ("bdist_wheel", "sdist")
        assert entry["yanked"] is False
        assert entry["yanked_reason"] is None
        uploaded = parse_time(entry["upload_time_iso_8601"])
        assert abs(datetime.now(UTC) - uploaded) < timedelta(minutes=10)
        assert entry["upload_time"]
        assert index.http.get(entry["url"]).content == data


def test_unknown_project_or_release_is_404(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    assert index.pypi_json(f"{project}-missing").status_code == 404
    assert index.pypi_json(project, "9.9").status_code == 404
    assert index.http.get(f"/hosted/pypi/{project}-missing/json").status_code == 404


def test_index_scoped_json_api_serves_the_same_project(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    default = index.pypi_json(project).json()

    hosted = index.http.get(f"/hosted/pypi/{project}/json")

    assert hosted.status_code == 200
    assert sorted(hosted.json()["releases"]) == sorted(default["releases"])


def test_json_api_answers_any_spelling_of_the_name(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    spelled = project.upper().replace("-", "_")

    response = index.http.get(f"/pypi/{spelled}/json", follow_redirects=True)

    assert response.status_code == 200
    assert normalize(response.json()["info"]["name"]) == normalize(project)


# PEP 700 in the simple JSON API ----------------------------------------------------------


def test_pep_700_fields_in_the_simple_json_page(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    document = index.project_json(project)

    assert sorted(document["versions"]) == ["1.0", "2.0"]
    for entry in document["files"]:
        path = next(p for p in published.values() if p.name == entry["filename"])
        assert entry["size"] == path.stat().st_size
        assert UPLOAD_TIME.match(entry["upload-time"]), entry["upload-time"]
        assert abs(datetime.now(UTC) - parse_time(entry["upload-time"])) < timedelta(minutes=10)


def test_simple_json_and_json_api_agree_on_upload_times(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    simple = {
        f["filename"]: parse_time(f["upload-time"]) for f in index.project_json(project)["files"]
    }
    api = index.pypi_json(project).json()["releases"]

    for files in api.values():
        for entry in files:
            assert parse_time(entry["upload_time_iso_8601"]) == simple[entry["filename"]]
