"""The simple repository API in HTML (PEP 503, 592, 629, 658/714): STANDARDS H1-H7."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from e2e.clients import publish, sha256_of
from e2e.server import ServerProcess
from e2e.simple import SHA256_HEX, IndexClient, normalize
from helpers.dists import make_sdist, make_wheel, metadata_of

pytestmark = pytest.mark.e2e

REQUIRES_PYTHON = ">=3.9,<4"


@pytest.fixture
def published(server: ServerProcess, dists: Path, project: str) -> dict[str, Path]:
    """A wheel with Requires-Python and an sdist of `project` 1.0, uploaded."""
    wheel = make_wheel(dists, project, "1.0", requires_python=REQUIRES_PYTHON)
    sdist = make_sdist(dists, project, "1.0")
    publish(server, wheel, sdist)
    return {"wheel": wheel, "sdist": sdist}


def test_root_page_lists_the_project_with_one_anchor(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    page = index.root_html()

    mine = [a for a in page.anchors if normalize(a.text) == normalize(project)]
    assert len(mine) == 1, page.raw
    assert urlsplit(mine[0].href).path == f"/simple/{normalize(project)}/"
    hrefs = [a.href for a in page.anchors]
    assert len(hrefs) == len(set(hrefs)), "a project is listed twice"


def test_project_page_lists_one_anchor_per_file_named_as_its_href(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    page = index.project_html(project)

    assert sorted(page.filenames) == sorted(p.name for p in published.values())
    for anchor in page.anchors:
        assert anchor.text == anchor.filename, f"text {anchor.text!r} but href {anchor.href!r}"


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        pytest.param("/simple", "/simple/", id="root-without-slash"),
        pytest.param("/simple/{name}", "/simple/{name}/", id="project-without-slash"),
        pytest.param("/simple/{other}/", "/simple/{name}/", id="project-not-normalised"),
        pytest.param("/simple/{other}", "/simple/{name}/", id="not-normalised-without-slash"),
        pytest.param("/hosted/simple", "/hosted/simple/", id="index-root-without-slash"),
        pytest.param("/hosted/simple/{other}/", "/hosted/simple/{name}/", id="index-project"),
    ],
)
def test_non_canonical_simple_urls_redirect_permanently_to_the_normalised_url(
    published: dict[str, Path], project: str, index: IndexClient, spelling: str, expected: str
) -> None:
    other = project.upper().replace("-", "_", 1).replace("-", ".")
    name = normalize(project)
    url = spelling.format(name=name, other=other)

    response = index.http.get(url)

    assert response.status_code == 301, f"GET {url}: {response.status_code}"
    location = urljoin(str(response.url), response.headers["location"])
    assert urlsplit(location).path == expected.format(name=name)
    assert index.http.get(location).status_code == 200


def test_every_href_carries_the_full_sha256_of_the_file(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    page = index.project_html(project)

    for path in published.values():
        anchor = page.anchor(path.name)
        assert SHA256_HEX.match(anchor.sha256), anchor.href
        assert anchor.sha256 == sha256_of(path.read_bytes())
        assert sha256_of(index.http.get(anchor.url).content) == anchor.sha256


def test_requires_python_is_html_escaped_in_the_attribute(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    anchor = index.project_html(project).anchor(published["wheel"].name)

    assert anchor.attrs["data-requires-python"] == REQUIRES_PYTHON
    assert re.search(r"data-requires-python=([\"'])&gt;=3\.9,&lt;4\1", anchor.raw), anchor.raw


def test_file_without_requires_python_has_no_requires_python_attribute(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    anchor = index.project_html(project).anchor(published["sdist"].name)

    assert "data-requires-python" not in anchor.attrs


def test_wheel_anchor_advertises_core_metadata_under_both_attribute_names(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    wheel = published["wheel"]
    anchor = index.project_html(project).anchor(wheel.name)

    expected = f"sha256={sha256_of(metadata_of(wheel))}"
    assert anchor.attrs.get("data-core-metadata") == expected
    assert anchor.attrs.get("data-dist-info-metadata") == expected


def test_unyanked_files_carry_no_data_yanked(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    assert all("data-yanked" not in a.attrs for a in index.project_html(project).anchors)


@pytest.mark.parametrize("on_index", [None, "hosted"], ids=["default", "hosted"])
@pytest.mark.parametrize("of_project", [False, True], ids=["root", "project"])
def test_head_declares_the_repository_api_version(
    published: dict[str, Path],
    project: str,
    index: IndexClient,
    on_index: str | None,
    of_project: bool,
) -> None:
    page = index.project_html(project, on_index) if of_project else index.root_html(on_index)

    version = page.head_meta.get("pypi:repository-version", "")
    assert re.fullmatch(r"1\.\d+", version), page.raw


def test_default_index_and_hosted_index_serve_the_same_files(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    default = index.project_html(project)
    hosted = index.project_html(project, "hosted")

    assert [(a.text, a.sha256) for a in default.anchors] == [
        (a.text, a.sha256) for a in hosted.anchors
    ]
