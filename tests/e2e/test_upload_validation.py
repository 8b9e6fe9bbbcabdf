"""Files are checked before anything is stored: STANDARDS V1-V4, N1-N2 and bad input.

Every refusal leaves the store as it was: the project's pages (HTML and JSON) are
byte-for-byte the same before and after.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from e2e.clients import (
    Clients,
    assert_rejected,
    expect_failure,
    publish,
    upload,
)
from e2e.server import ServerProcess
from e2e.simple import IndexClient
from helpers.dists import (
    core_metadata,
    dist_name,
    make_corrupt_sdist,
    make_corrupt_wheel,
    make_gzip_bomb_sdist,
    make_sdist,
    make_symlink_sdist,
    make_symlink_wheel,
    make_traversal_wheel,
    make_wheel,
    make_zip_bomb_wheel,
)

pytestmark = pytest.mark.e2e

Snapshot = Callable[[], tuple[int, str, int, str]]


@pytest.fixture
def baseline(server: ServerProcess, dists: Path, project: str, index: IndexClient) -> Snapshot:
    """`project` 0.9 is published; returns a function that snapshots the project's pages."""
    (dists / "baseline").mkdir()
    publish(server, make_wheel(dists / "baseline", project, "0.9"))

    def snapshot() -> tuple[int, str, int, str]:
        return index.snapshot(project)

    return snapshot


def assert_refused_and_unchanged(
    server: ServerProcess,
    baseline: Snapshot,
    path: Path,
    *,
    statuses: tuple[int, ...] = (400,),
    says: tuple[str, ...] = (),
    **kwargs: Any,
) -> None:
    """Upload with `kwargs` as for upload(); expect a refusal and no change to the project."""
    before = baseline()

    response = upload(server, path, **kwargs)

    assert_rejected(response, *statuses, says=says)
    assert baseline() == before, "a refused upload changed the project's pages"


# V1: file types and filenames --------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "filetype", "pyversion"),
    [
        pytest.param("-1.0-py3.11.egg", "bdist_egg", "3.11", id="egg"),
        pytest.param("-1.0.zip", "sdist", "source", id="zip-sdist"),
        pytest.param("-1.0.tar.bz2", "sdist", "source", id="bz2-sdist"),
        pytest.param("-1.0.tgz", "sdist", "source", id="tgz"),
        pytest.param("-1.0.tar", "sdist", "source", id="plain-tar"),
        pytest.param("-1.0.win32.exe", "bdist_wininst", "3.11", id="wininst"),
        pytest.param("-1.0-py3-none-any.whl.zip", "bdist_wheel", "py3", id="whl-zip"),
    ],
)
def test_unsupported_file_types_are_refused(
    server: ServerProcess,
    dists: Path,
    project: str,
    baseline: Snapshot,
    suffix: str,
    filetype: str,
    pyversion: str,
) -> None:
    filename = f"{dist_name(project)}{suffix}"
    if filetype == "sdist":
        path = make_sdist(dists, project, "1.0", filename=filename)
    else:
        path = make_wheel(dists, project, "1.0")
        path = path.rename(dists / filename)

    assert_refused_and_unchanged(
        server,
        baseline,
        path,
        name=project,
        version="1.0",
        overrides={"filetype": filetype, "pyversion": pyversion},
    )


@pytest.mark.parametrize(
    "make_filename",
    [
        pytest.param(lambda name: f"../{name}", id="parent-dir"),
        pytest.param(lambda name: f"sub/{name}", id="slash"),
        pytest.param(lambda name: f"sub\\{name}", id="backslash"),
        pytest.param(lambda name: name.replace("-1.0", "\x01-1.0"), id="control-char"),
        pytest.param(lambda name: name.replace("-1.0", "\x7f-1.0"), id="delete-char"),
    ],
)
def test_filenames_with_path_separators_or_control_characters_are_refused(
    server: ServerProcess,
    dists: Path,
    project: str,
    baseline: Snapshot,
    make_filename: Callable[[str], str],
) -> None:
    wheel = make_wheel(dists, project, "1.0")

    assert_refused_and_unchanged(
        server, baseline, wheel, filename=make_filename(wheel.name), statuses=(400, 422)
    )


# V2: filenames agree with the metadata inside ---------------------------------------------


def test_wheel_whose_metadata_names_another_project_is_refused(
    server: ServerProcess, dists: Path, project: str, baseline: Snapshot
) -> None:
    wheel = make_wheel(dists, project, "1.0", metadata=core_metadata(f"{project}-other", "1.0"))

    assert_refused_and_unchanged(server, baseline, wheel)


def test_wheel_whose_metadata_has_another_version_is_refused(
    server: ServerProcess, dists: Path, project: str, baseline: Snapshot
) -> None:
    wheel = make_wheel(dists, project, "1.0", metadata=core_metadata(project, "1.1"))

    assert_refused_and_unchanged(server, baseline, wheel)


@pytest.mark.parametrize("missing", ["METADATA", "RECORD"])
def test_wheel_without_metadata_or_record_is_refused(
    server: ServerProcess, dists: Path, project: str, baseline: Snapshot, missing: str
) -> None:
    wheel = make_wheel(dists, project, "1.0", omit=(missing,))

    assert_refused_and_unchanged(server, baseline, wheel, says=(missing,))


def test_wheel_whose_dist_info_directory_does_not_match_the_filename_is_refused(
    server: ServerProcess, dists: Path, project: str, baseline: Snapshot
) -> None:
    elsewhere = f"{dist_name(project)}_other-1.0.dist-info/METADATA"
    wheel = make_wheel(
        dists,
        project,
        "1.0",
        omit=("METADATA",),
        extra_files={elsewhere: core_metadata(project, "1.0")},
    )

    assert_refused_and_unchanged(server, baseline, wheel)


@pytest.mark.parametrize(
    "filename",
    [
        pytest.param("{dist}-1.0-py3-none.whl", id="missing-tag"),
        pytest.param("{dist}-1.0.whl", id="no-tags"),
        pytest.param("{dist}-1.0-py3-none-any-extra-part.whl", id="too-many-parts"),
        pytest.param("{dist}-1.0-x-py3-none-any.whl", id="build-tag-not-a-number"),
    ],
)
def test_wheel_with_an_unparsable_filename_is_refused(
    server: ServerProcess, dists: Path, project: str, baseline: Snapshot, filename: str
) -> None:
    wheel = make_wheel(dists, project, "1.0", filename=filename.format(dist=dist_name(project)))

    assert_refused_and_unchanged(server, baseline, wheel, name=project, version="1.0")


def test_sdist_with_a_non_normalised_filename_is_refused(
    server: ServerProcess, dists: Path, project: str, baseline: Snapshot
) -> None:
    legacy = f"{project.replace('e2e', 'E2E', 1)}-1.0.tar.gz"  # dashes and capitals
    sdist = make_sdist(dists, project, "1.0", filename=legacy)

    assert_refused_and_unchanged(server, baseline, sdist, name=project, version="1.0")


def test_sdist_whose_pkg_info_disagrees_with_the_filename_is_refused(
    server: ServerProcess, dists: Path, project: str, baseline: Snapshot
) -> None:
    pkg_info = core_metadata(project, "2.0", metadata_version="2.2")
    sdist = make_sdist(dists, project, "1.0", pkg_info=pkg_info)

    assert_refused_and_unchanged(server, baseline, sdist)


def test_twine_shows_the_server_message_for_a_name_mismatch(
    server: ServerProcess, clients: Clients, dists: Path, project: str, baseline: Snapshot
) -> None:
    other = f"{project}-other"
    wheel = make_wheel(dists, project, "1.0", metadata=core_metadata(other, "1.0"))
    # The same request twine makes (twine sends the name from METADATA), to know the message.
    message = upload(server, wheel, name=other).text.strip()
    before = baseline()

    result = expect_failure(
        clients.twine_upload(server.upload_url, wheel, user=server.user, password=server.password)
    )

    shown = result.stdout + result.stderr
    assert "400" in shown
    assert message and message in shown, f"server said {message!r}; twine showed:\n{shown}"
    assert baseline() == before


def test_twine_shows_the_server_message_for_a_version_mismatch(
    server: ServerProcess, clients: Clients, dists: Path, project: str, baseline: Snapshot
) -> None:
    wheel = make_wheel(dists, project, "1.0", metadata=core_metadata(project, "1.1"))
    message = upload(server, wheel, version="1.1").text.strip()

    result = expect_failure(
        clients.twine_upload(server.upload_url, wheel, user=server.user, password=server.password)
    )

    shown = result.stdout + result.stderr
    assert message and message in shown, f"server said {message!r}; twine showed:\n{shown}"


# V3: metadata versions ---------------------------------------------------------------------


@pytest.mark.parametrize("metadata_version", ["3.0", "10.1", "two"])
def test_metadata_version_of_a_higher_major_or_invalid_is_refused(
    server: ServerProcess, dists: Path, project: str, baseline: Snapshot, metadata_version: str
) -> None:
    wheel = make_wheel(dists, project, "1.0", metadata_version=metadata_version)

    assert_refused_and_unchanged(server, baseline, wheel, metadata_version=metadata_version)


@pytest.mark.parametrize("metadata_version", ["2.1", "2.2", "2.3", "2.4"])
def test_metadata_versions_2_x_are_accepted(
    server: ServerProcess, dists: Path, project: str, index: IndexClient, metadata_version: str
) -> None:
    wheel = make_wheel(dists, project, "1.0", metadata_version=metadata_version)

    response = upload(server, wheel, metadata_version=metadata_version)

    assert response.status_code == 200, response.text
    assert index.project_html(project).filenames == [wheel.name]


# V4: hostile archives ------------------------------------------------------------------------

HOSTILE: dict[str, Callable[[Path, str, str], Path]] = {
    "zip-bomb-wheel": make_zip_bomb_wheel,
    "gzip-bomb-sdist": make_gzip_bomb_sdist,
    "traversal-wheel": make_traversal_wheel,
    "absolute-path-wheel": lambda d, n, v: make_traversal_wheel(d, n, v, member="/tmp/evil.py"),
    "symlink-wheel": make_symlink_wheel,
    "symlink-sdist": make_symlink_sdist,
    "hardlink-sdist": lambda d, n, v: make_symlink_sdist(d, n, v, kind=tarfile.LNKTYPE),
    "device-sdist": lambda d, n, v: make_symlink_sdist(d, n, v, kind=tarfile.CHRTYPE),
    "corrupt-wheel": make_corrupt_wheel,
    "corrupt-gzip-sdist": make_corrupt_sdist,
    "corrupt-tar-sdist": lambda d, n, v: make_corrupt_sdist(d, n, v, layer="tar"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_archive_is_refused_with_a_message_and_stores_nothing(
    server: ServerProcess,
    dists: Path,
    project: str,
    baseline: Snapshot,
    index: IndexClient,
    kind: str,
) -> None:
    path = HOSTILE[kind](dists, project, "1.0")

    assert_refused_and_unchanged(
        server, baseline, path, statuses=tuple(range(400, 500)), name=project, version="1.0"
    )
    assert index.http.get("/healthz").status_code == 200


# N1, N2: names and versions --------------------------------------------------------------------


@pytest.mark.parametrize(
    "spell",
    [
        pytest.param(lambda p: f"-{p}", id="leading-dash"),
        pytest.param(lambda p: f"{p}_", id="trailing-underscore"),
        pytest.param(lambda p: f"{p}.", id="trailing-dot"),
        pytest.param(lambda p: f"{p}\u00e9", id="non-ascii"),
    ],
)
def test_invalid_project_names_are_refused(
    server: ServerProcess,
    dists: Path,
    project: str,
    index: IndexClient,
    spell: Callable[[str], str],
) -> None:
    name = spell(project)
    wheel = make_wheel(dists, name, "1.0", filename=f"{dist_name(name)}-1.0-py3-none-any.whl")
    before = index.http.get("/simple/", headers={"Accept": "text/html"}).text

    response = upload(server, wheel, name=name, version="1.0")

    assert_rejected(response, 400)
    assert index.http.get("/simple/", headers={"Accept": "text/html"}).text == before


def test_all_spellings_of_a_name_are_one_project(
    server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    upper = project.upper().replace("-", "_")
    dotted = project.replace("-", ".")
    wheel = make_wheel(dists, upper, "1.0")
    sdist = make_sdist(dists, dotted, "2.0")

    assert upload(server, wheel, name=upper).status_code == 200
    assert upload(server, sdist, name=dotted).status_code == 200

    assert sorted(index.project_html(project).filenames) == sorted([wheel.name, sdist.name])
    document = index.project_json(project)
    assert sorted(document["versions"]) == ["1.0", "2.0"]


def test_versions_equal_under_pep_440_are_one_release(
    server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    wheel = make_wheel(dists, project, "1.0")
    sdist = make_sdist(dists, project, "1.0.0")

    publish(server, wheel, sdist)

    assert len(index.project_json(project)["versions"]) == 1
    for spelled in ("1.0", "1.0.0"):
        response = index.pypi_json(project, spelled)
        assert response.status_code == 200, spelled
        assert sorted(u["filename"] for u in response.json()["urls"]) == sorted(
            [wheel.name, sdist.name]
        )


def test_metadata_version_spelled_differently_from_the_filename_is_accepted(
    server: ServerProcess, dists: Path, project: str, index: IndexClient
) -> None:
    # Filename "1.0rc1" (normalised), METADATA "1.0-RC1": the same version under PEP 440.
    wheel = make_wheel(dists, project, "1.0rc1", metadata=core_metadata(project, "1.0-RC1"))

    response = upload(server, wheel, version="1.0-RC1")

    assert response.status_code == 200, response.text
    assert index.project_json(project)["versions"] == ["1.0rc1"]


@pytest.mark.parametrize("version", ["one.two", "1..0", "1.0+"])
def test_invalid_versions_are_refused(
    server: ServerProcess, dists: Path, project: str, baseline: Snapshot, version: str
) -> None:
    wheel = make_wheel(dists, project, version)

    assert_refused_and_unchanged(server, baseline, wheel, name=project, version=version)
