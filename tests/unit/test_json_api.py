"""warehouse's JSON API documents (P1): latest version, releases, urls, digests."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from packyard.domain.models import Digests, DistFile, PackageType, Project
from packyard.domain.names import NormalizedName
from packyard.services.json_api import latest_version, project_json, release_files

pytestmark = pytest.mark.unit

WHEN = datetime(2024, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
PROJECT = Project(
    index="main",
    name=NormalizedName("demo"),
    display_name="Demo",
    created=WHEN,
    last_serial=99,
)


def dist(
    version: str,
    kind: str = "whl",
    *,
    yanked: bool = False,
    reason: str = "",
    upload_time: datetime = WHEN,
    summary: str | None = None,
) -> DistFile:
    filename = f"demo-{version}-py3-none-any.whl" if kind == "whl" else f"demo-{version}.tar.gz"
    data = filename.encode()
    return DistFile(
        index="main",
        project=NormalizedName("demo"),
        version=version,
        filename=filename,
        packagetype=PackageType.WHEEL if kind == "whl" else PackageType.SDIST,
        python_version="py3" if kind == "whl" else "source",
        size=len(data),
        digests=Digests(
            sha256=hashlib.sha256(data).hexdigest(),
            blake2b_256=hashlib.blake2b(data, digest_size=32).hexdigest(),
            md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        ),
        upload_time=upload_time,
        uploader="alice",
        requires_python=">=3.9",
        yanked=yanked,
        yanked_reason=reason,
        metadata={"name": "Demo", "version": version, "summary": summary or f"v{version}"},
    )


def file_url(f: DistFile) -> str:
    return f"http://index.test/files/{f.filename}"


def document(files: list[DistFile], version: str | None = None) -> dict[str, Any] | None:
    return project_json(
        PROJECT,
        files,
        version=version,
        file_url=file_url,
        project_url="http://index.test/simple/demo/",
        release_url=lambda v: f"http://index.test/pypi/demo/{v}/json",
    )


def required(files: list[DistFile], version: str | None = None) -> dict[str, Any]:
    found = document(files, version)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param([dist("1.0"), dist("2.0")], "2.0", id="newest"),
        pytest.param([dist("1.0"), dist("2.0b1")], "1.0", id="skips-prerelease"),
        pytest.param([dist("1.0"), dist("2.0.dev1")], "1.0", id="skips-dev"),
        pytest.param([dist("1.0"), dist("2.0rc1"), dist("1.1.post1")], "1.1.post1", id="post"),
        pytest.param([dist("1.0"), dist("1.1", yanked=True)], "1.0", id="skips-yanked"),
        pytest.param(
            [dist("1.0"), dist("1.1", yanked=True), dist("1.1", "sdist")], "1.1", id="partly-yanked"
        ),
        pytest.param([dist("1.0b1"), dist("1.0b2")], "1.0b2", id="only-prereleases"),
        pytest.param(
            [dist("1.0b1"), dist("0.9", yanked=True)], "1.0b1", id="prerelease-over-yanked"
        ),
        pytest.param([dist("1.0", yanked=True), dist("2.0", yanked=True)], "2.0", id="all-yanked"),
        pytest.param([dist("1.10"), dist("1.9")], "1.10", id="numeric-order"),
    ],
)
def test_latest_version_prefers_live_final_releases(files: list[DistFile], expected: str) -> None:
    assert latest_version(files) == expected
    assert required(files)["info"]["version"] == expected


def test_project_document_has_releases_for_every_version_in_order() -> None:
    files = [dist("1.0"), dist("1.0", "sdist"), dist("1.10"), dist("1.2b1")]

    releases = required(files)["releases"]

    assert list(releases) == ["1.0", "1.2b1", "1.10"]
    assert [f["filename"] for f in releases["1.0"]] == [
        "demo-1.0-py3-none-any.whl",
        "demo-1.0.tar.gz",
    ]
    assert [f["filename"] for f in releases["1.10"]] == ["demo-1.10-py3-none-any.whl"]


def test_urls_are_the_files_of_the_chosen_version() -> None:
    files = [dist("1.0"), dist("2.0"), dist("2.0", "sdist")]

    urls = required(files)["urls"]

    assert [u["filename"] for u in urls] == ["demo-2.0-py3-none-any.whl", "demo-2.0.tar.gz"]
    assert [u["url"] for u in urls] == [file_url(f) for f in files[1:]]


def test_version_document_describes_that_release_without_releases() -> None:
    files = [dist("1.0", summary="old"), dist("2.0", summary="new")]

    found = required(files, "1.0")

    assert found["info"]["version"] == "1.0"
    assert found["info"]["summary"] == "old"
    assert found["info"]["release_url"] == "http://index.test/pypi/demo/1.0/json"
    assert [u["filename"] for u in found["urls"]] == ["demo-1.0-py3-none-any.whl"]
    assert "releases" not in found


@pytest.mark.parametrize("spelling", ["1.0.0", "1", "1.0"])
def test_version_document_matches_canonical_spellings(spelling: str) -> None:
    assert required([dist("1.0"), dist("2.0")], spelling)["info"]["version"] == "1.0"


@pytest.mark.parametrize("version", ["3.0", "1.0b1", "not-a-version"])
def test_unknown_version_is_none(version: str) -> None:
    assert document([dist("1.0"), dist("2.0")], version) is None


def test_release_files_compares_canonically() -> None:
    files = [dist("1.0"), dist("1.0", "sdist"), dist("1.0.1")]

    assert [f.filename for f in release_files(files, "1.0.0")] == [
        "demo-1.0-py3-none-any.whl",
        "demo-1.0.tar.gz",
    ]


def test_file_digests_have_warehouses_shape() -> None:
    f = dist("1.0")

    [entry] = required([f])["urls"]

    assert entry["digests"] == {
        "md5": f.digests.md5,
        "sha256": f.digests.sha256,
        "blake2b_256": f.digests.blake2b_256,
    }
    assert entry["md5_digest"] == f.digests.md5
    assert all(re.fullmatch(r"[0-9a-f]+", v) for v in entry["digests"].values())


def test_file_entry_fields() -> None:
    f = dist("1.0")

    [entry] = required([f])["urls"]

    assert entry["filename"] == f.filename
    assert entry["packagetype"] == "bdist_wheel"
    assert entry["python_version"] == "py3"
    assert entry["requires_python"] == ">=3.9"
    assert entry["size"] == f.size
    assert entry["upload_time"] == "2024-03-04T05:06:07"
    assert entry["upload_time_iso_8601"] == "2024-03-04T05:06:07.890123Z"
    assert entry["yanked"] is False
    assert entry["yanked_reason"] is None


def test_upload_times_name_the_same_instant_whatever_the_zone() -> None:
    # The stores return UTC today, but the read model takes any aware datetime: both
    # fields of one entry must agree (upload_time is UTC in warehouse, without a suffix).
    moment = datetime(2024, 3, 4, 7, 6, 7, tzinfo=timezone(timedelta(hours=2)))

    [entry] = required([dist("1.0", upload_time=moment)])["urls"]

    assert entry["upload_time_iso_8601"] == "2024-03-04T05:06:07.000000Z"
    assert entry["upload_time"] == "2024-03-04T05:06:07"


def test_yanked_file_and_release_carry_the_reason() -> None:
    files = [dist("1.0"), dist("2.0", yanked=True, reason="security")]

    found = required(files, "2.0")

    assert found["info"]["yanked"] is True
    assert found["info"]["yanked_reason"] == "security"
    assert found["urls"][0]["yanked"] is True
    assert found["urls"][0]["yanked_reason"] == "security"


def test_partly_yanked_release_is_not_yanked() -> None:
    files = [dist("1.0", yanked=True, reason="bad wheel"), dist("1.0", "sdist")]

    info = required(files, "1.0")["info"]

    assert info["yanked"] is False
    assert info["yanked_reason"] is None


def test_info_prefers_the_wheels_metadata() -> None:
    sdist = dist("1.0", "sdist", summary="from sdist")
    wheel = dist("1.0", summary="from wheel")

    assert required([sdist, wheel])["info"]["summary"] == "from wheel"


def test_document_carries_last_serial_and_urls() -> None:
    found = required([dist("1.0")])

    assert found["last_serial"] == 99
    assert found["info"]["name"] == "Demo"
    assert found["info"]["project_url"] == "http://index.test/simple/demo/"
    assert found["info"]["package_url"] == "http://index.test/simple/demo/"
    assert found["vulnerabilities"] == []
