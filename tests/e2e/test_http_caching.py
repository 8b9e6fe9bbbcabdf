"""HTTP caching, compression and ranges on pages and files: STANDARDS C1-C4."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from e2e.clients import publish, sha256_of
from e2e.server import ServerProcess
from e2e.simple import JSON_TYPE, IndexClient
from helpers.dists import make_sdist, make_wheel

pytestmark = pytest.mark.e2e

ONE_DAY = 24 * 3600


@pytest.fixture
def published(server: ServerProcess, dists: Path, project: str) -> dict[str, Path]:
    """A wheel, an sdist, and enough wheels that the project page is worth compressing."""
    files = {
        "wheel": make_wheel(dists, project, "1.0", extra_files={"pad/data.bin": bytes(4096)}),
        "sdist": make_sdist(dists, project, "1.0"),
    }
    for i, tag in enumerate(
        ["py2-none-any", "cp311-cp311-manylinux_2_17_x86_64", "cp312-abi3-win_amd64"]
    ):
        files[f"tag{i}"] = make_wheel(dists, project, "1.0", tag=tag)
    publish(server, *files.values())
    return files


def max_age(cache_control: str) -> int | None:
    match = re.search(r"max-age=(\d+)", cache_control)
    return int(match.group(1)) if match else None


# C1: pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["text/html", JSON_TYPE])
def test_pages_answer_304_to_a_matching_if_none_match(
    published: dict[str, Path], project: str, index: IndexClient, accept: str
) -> None:
    for path in (index.project_path(project), "/simple/"):
        first = index.http.get(path, headers={"Accept": accept})
        etag = first.headers.get("etag")
        assert etag, f"{path} has no ETag"

        again = index.http.get(path, headers={"Accept": accept, "If-None-Match": etag})

        assert again.status_code == 304, path
        assert again.content == b""
        assert again.headers.get("etag") == etag


def test_html_and_json_of_a_page_have_different_etags(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    path = index.project_path(project)
    html = index.http.get(path, headers={"Accept": "text/html"}).headers["etag"]
    js = index.http.get(path, headers={"Accept": JSON_TYPE}).headers["etag"]

    assert html != js
    revalidated = index.http.get(path, headers={"Accept": JSON_TYPE, "If-None-Match": html})
    assert revalidated.status_code == 200
    assert revalidated.json()["name"]


def test_page_etag_changes_when_a_file_is_added(
    published: dict[str, Path], server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    path = index.project_path(project)
    etag = index.http.get(path).headers["etag"]

    publish(server, make_wheel(dists, project, "2.0"))

    response = index.http.get(path, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["etag"] != etag


def test_pages_vary_on_accept_and_have_a_modest_cache_control(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    for path in (index.project_path(project), "/simple/", "/hosted/simple/"):
        response = index.http.get(path)

        vary = [v.strip().lower() for v in response.headers.get("vary", "").split(",")]
        assert "accept" in vary, f"{path}: Vary {response.headers.get('vary')!r}"
        cache_control = response.headers.get("cache-control", "")
        assert cache_control, f"{path} has no Cache-Control"
        assert "immutable" not in cache_control
        age = max_age(cache_control)
        assert age is None or age <= ONE_DAY, cache_control


def test_pages_carry_the_last_serial_which_grows_with_changes(
    published: dict[str, Path], server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    path = index.project_path(project)
    before = index.http.get(path).headers.get("x-pypi-last-serial", "")
    assert before.isdigit(), f"X-PyPI-Last-Serial: {before!r}"
    assert index.http.get("/simple/").headers.get("x-pypi-last-serial", "").isdigit()
    assert index.http.get(path, headers={"Accept": JSON_TYPE}).headers["x-pypi-last-serial"]

    publish(server, make_wheel(dists, project, "2.0"))

    after = index.http.get(path).headers["x-pypi-last-serial"]
    assert int(after) > int(before)


# C2: compression ----------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["text/html", JSON_TYPE])
def test_pages_are_gzipped_when_the_client_asks(
    published: dict[str, Path], project: str, index: IndexClient, accept: str
) -> None:
    path = index.project_path(project)
    plain = index.http.get(path, headers={"Accept": accept, "Accept-Encoding": "identity"})

    with index.http.stream(
        "GET", path, headers={"Accept": accept, "Accept-Encoding": "gzip"}
    ) as response:
        raw = b"".join(response.iter_raw())
        encoding = response.headers.get("content-encoding")

    assert plain.headers.get("content-encoding") in (None, "identity")
    assert encoding == "gzip"
    assert gzip.decompress(raw) == plain.content


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_files_are_never_sent_with_a_content_encoding(
    published: dict[str, Path], project: str, index: IndexClient, kind: str
) -> None:
    path = published[kind]
    url = index.file_url(project, path.name)

    with index.http.stream("GET", url, headers={"Accept-Encoding": "gzip, deflate, br"}) as resp:
        raw = b"".join(resp.iter_raw())
        headers = resp.headers

    assert resp.status_code == 200
    assert "content-encoding" not in headers, headers
    assert raw == path.read_bytes()


# C3: HEAD and ranges ------------------------------------------------------------------------


def test_head_of_a_file_gives_its_length_and_accepts_ranges(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    wheel = published["wheel"]

    response = index.http.head(index.file_url(project, wheel.name))

    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) == wheel.stat().st_size
    assert response.headers.get("accept-ranges") == "bytes"


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        pytest.param("bytes=0-99", 0, 99, id="first-100"),
        pytest.param("bytes=100-199", 100, 199, id="middle"),
        pytest.param("bytes=1000-", 1000, None, id="open-ended"),
        pytest.param("bytes=-200", -200, None, id="suffix"),
    ],
)
def test_ranges_of_a_file_are_206_with_content_range(
    published: dict[str, Path],
    project: str,
    index: IndexClient,
    spec: str,
    start: int,
    end: int | None,
) -> None:
    data = published["wheel"].read_bytes()
    size = len(data)
    first = start if start >= 0 else size + start
    last = size - 1 if end is None else end

    response = index.http.get(
        index.file_url(project, published["wheel"].name), headers={"Range": spec}
    )

    assert response.status_code == 206, spec
    assert response.headers["content-range"] == f"bytes {first}-{last}/{size}"
    assert response.content == data[first : last + 1]
    assert int(response.headers["content-length"]) == last + 1 - first


def test_if_range_with_the_current_etag_gives_the_range_otherwise_the_whole_file(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    data = published["wheel"].read_bytes()
    url = index.file_url(project, published["wheel"].name)
    etag = index.http.head(url).headers["etag"]

    matching = index.http.get(url, headers={"Range": "bytes=10-", "If-Range": etag})
    stale = index.http.get(url, headers={"Range": "bytes=10-", "If-Range": '"0000"'})

    assert matching.status_code == 206
    assert matching.content == data[10:]
    assert stale.status_code == 200
    assert stale.content == data


def test_pip_style_resume_of_an_sdist_from_an_offset(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    data = published["sdist"].read_bytes()
    url = index.file_url(project, published["sdist"].name)

    response = index.http.get(url, headers={"Range": f"bytes={len(data) // 2}-"})

    assert response.status_code == 206
    assert data[: len(data) // 2] + response.content == data


# C4: immutable files --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_files_have_a_long_cache_control_and_a_strong_etag_of_their_sha256(
    published: dict[str, Path], project: str, index: IndexClient, kind: str
) -> None:
    path = published[kind]

    response = index.http.get(index.file_url(project, path.name))

    etag = response.headers.get("etag", "")
    assert not etag.startswith("W/"), etag
    assert etag.strip('"') == sha256_of(path.read_bytes())
    cache_control = response.headers.get("cache-control", "")
    age = max_age(cache_control)
    assert age is not None and age >= 30 * ONE_DAY, cache_control
    assert "immutable" in cache_control or age >= 365 * ONE_DAY


def test_file_answers_304_to_its_etag(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    url = index.file_url(project, published["wheel"].name)
    etag = index.http.head(url).headers["etag"]

    response = index.http.get(url, headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""


def test_metadata_sidecar_is_cacheable_and_unencoded(
    published: dict[str, Path], project: str, index: IndexClient
) -> None:
    url = f"{index.file_url(project, published['wheel'].name)}.metadata"

    with index.http.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as response:
        b"".join(response.iter_raw())
        headers = response.headers

    assert response.status_code == 200
    assert headers.get("etag")
    assert max_age(headers.get("cache-control", "")) is not None
