"""Index policies through a downstream packyard: deny and allow rules, minimum release age
(cooldown) with exemptions, and point-in-time (as-of) views; each on the page and on the
download, and in effect at the next request after `packyard index set`."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from e2e.clients import Clients, expect_failure, expect_ok
from e2e.conftest import Unique
from e2e.simple import JSON_TYPE, IndexClient, normalize
from e2e.upstream import (
    HOSTED,
    MIRROR,
    UPSTREAM_INDEX,
    VIRTUAL,
    Pair,
    cli_ok,
    dists_for,
    explain,
    file_href,
    listed,
    publish_hosted,
    publish_upstream,
    running_pair,
)
from helpers.dists import module_name

pytestmark = pytest.mark.e2e

BEFORE = 1_590_969_600  # 2020-06-01T00:00:00Z
AFTER = 1_654_041_600  # 2022-06-01T00:00:00Z


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    with running_pair(tmp_path_factory.mktemp("policies-pair")) as running:
        yield running


@pytest.fixture(scope="module")
def down(pair: Pair) -> Iterator[IndexClient]:
    with IndexClient(pair.downstream) as client:
        yield client


def get(url: str) -> httpx.Response:
    with httpx.Client(timeout=30.0, trust_env=False) as http:
        return http.get(url)


def names(paths: list[Path]) -> list[str]:
    return sorted(path.name for path in paths)


def as_of_url(pair: Pair, index: str, when: str) -> str:
    return f"{pair.downstream.url}/{index}/+as-of/{when}/simple/"


def as_of_listed(pair: Pair, project: str, index: str, when: str) -> list[str]:
    """Filenames of the project's as-of page ([] for a 404)."""
    response = get_json(f"{as_of_url(pair, index, when)}{normalize(project)}/")
    if response.status_code == 404:
        return []
    assert response.status_code == 200, f"{when}: {response.status_code} {response.text}"
    return sorted(entry["filename"] for entry in response.json()["files"])


def get_json(url: str) -> httpx.Response:
    with httpx.Client(timeout=30.0, trust_env=False) as http:
        return http.get(url, headers={"Accept": JSON_TYPE})


# Deny and allow rules ------------------------------------------------------------------------


@pytest.mark.parametrize("where", [VIRTUAL, MIRROR], ids=["on-root", "on-member"])
def test_deny_rule_removes_matching_versions_from_the_page_and_refuses_their_download(
    pair: Pair, clients: Clients, tmp_path: Path, project: str, down: IndexClient, where: str
) -> None:
    old = dists_for(tmp_path / "1", project, "1.0")
    new = dists_for(tmp_path / "2", project, "2.0")
    publish_upstream(pair, *old, *new)
    assert listed(down, project, VIRTUAL) == names(old + new)  # cached before the change
    old_link = file_href(down, project, old[0].name, VIRTUAL)
    rule = f"{project}<2"

    try:
        shown = cli_ok(pair, "index", "set", where, "--deny", rule).splitlines()

        assert f"deny\t{rule}" in shown
        assert listed(down, project, VIRTUAL) == names(new)
        response = get(old_link)
        assert response.status_code == 403, f"{response.status_code} {response.text}"
        assert rule in response.text
        removed = {r["filename"]: r["reason"] for r in explain(down, project, VIRTUAL)["removed"]}
        assert sorted(removed) == names(old)
        assert all(rule in reason for reason in removed.values()), removed
        result, _ = clients.uv_install(pair.index_url(VIRTUAL), f"{project}<2")
        expect_failure(result)
    finally:
        cli_ok(pair, "index", "set", where, "--clear-rules")

    # Back at the next request.
    assert listed(down, project, VIRTUAL) == names(old + new)
    assert get(old_link).status_code == 200


def test_allow_rules_serve_only_matching_projects_and_versions(
    pair: Pair, tmp_path: Path, unique: Unique, down: IndexClient
) -> None:
    allowed, ranged, other = unique("allowed"), unique("ranged"), unique("other")
    files = {
        (name, version): dists_for(tmp_path / f"{name}-{version}", name, version, sdist=False)
        for name, version in ((allowed, "1.0"), (ranged, "1.0"), (ranged, "2.0"), (other, "1.0"))
    }
    for paths in files.values():
        publish_upstream(pair, *paths)
    index = unique("curated")
    cli_ok(pair, "index", "create", index, "--kind", "virtual", "--members", "hosted,upstream")

    cli_ok(pair, "index", "set", index, "--allow", allowed, "--allow", f"{ranged}>=2")

    assert listed(down, allowed, index) == names(files[allowed, "1.0"])
    assert listed(down, ranged, index) == names(files[ranged, "2.0"])
    assert listed(down, other, index) == []
    response = get(file_href(down, other, files[other, "1.0"][0].name, MIRROR))
    assert response.status_code == 200  # the member itself still serves it
    assert listed(down, other, VIRTUAL) == names(files[other, "1.0"])


# Minimum release age --------------------------------------------------------------------------


def test_min_age_hides_just_mirrored_files_never_hosted_ones_until_exempted(
    pair: Pair, clients: Clients, tmp_path: Path, unique: Unique, down: IndexClient
) -> None:
    mirror, index = unique("cool-mirror"), unique("cool")
    cli_ok(pair, "index", "create", mirror, "--kind", "mirror")
    cli_ok(pair, "index", "create", index, "--kind", "virtual", "--members", f"hosted,{mirror}")
    public, internal = unique("public"), unique("internal")
    public_files = dists_for(tmp_path / "public", public, "1.0")
    internal_files = dists_for(tmp_path / "internal", internal, "1.0")
    publish_upstream(pair, *public_files)
    publish_hosted(pair, *internal_files)
    assert listed(down, public, index) == names(public_files)  # cached before the change
    link = file_href(down, public, public_files[0].name, index)

    shown = cli_ok(pair, "index", "set", index, "--min-age", "3d").splitlines()

    assert "min-age\t3d" in shown
    assert listed(down, public, index) == []
    assert listed(down, internal, index) == names(internal_files)
    response = get(link)
    assert response.status_code == 403, f"{response.status_code} {response.text}"
    message = response.text.lower()
    assert "3d" in message and ("min-age" in message or "minimum release age" in message)
    removed = explain(down, public, index)["removed"]
    assert sorted(r["filename"] for r in removed) == names(public_files)
    assert listed(down, public, mirror) == names(public_files)  # the member has no cooldown
    result, _ = clients.uv_install(pair.index_url(index), public)
    expect_failure(result)

    cli_ok(pair, "index", "exempt", index, public, "--reason", "needed for a CVE fix")

    assert listed(down, public, index) == names(public_files)
    response = get(link)
    assert response.status_code == 200, response.text
    assert (
        hashlib.sha256(response.content).hexdigest()
        == hashlib.sha256(public_files[0].read_bytes()).hexdigest()
    )
    # --refresh: uv keeps the page it got before the exemption for its max-age.
    result, venv = clients.uv_install(pair.index_url(index), public, args=["--refresh"])
    expect_ok(result)
    assert clients.installed_in_venv(venv, module_name(public)).version == "1.0"
    exemptions = [
        line
        for line in cli_ok(pair, "index", "show", index).splitlines()
        if line.startswith("exempt\t")
    ]
    assert len(exemptions) == 1, exemptions
    assert normalize(public) in exemptions[0]
    assert "needed for a CVE fix" in exemptions[0]
    assert "cli:" in exemptions[0]


# Point-in-time views -------------------------------------------------------------------------


def test_as_of_view_drops_exactly_the_mirrored_files_uploaded_later(
    pair: Pair, clients: Clients, tmp_path: Path, project: str
) -> None:
    directory = tmp_path / "import"
    early = dists_for(directory, project, "1.0")
    late = dists_for(directory, project, "2.0")
    for path, mtime in [(p, BEFORE) for p in early] + [(p, AFTER) for p in late]:
        os.utime(path, (mtime, mtime))
    expect_ok(pair.upstream.cli("import", str(directory), "--index", UPSTREAM_INDEX))

    for index in (VIRTUAL, MIRROR):
        assert as_of_listed(pair, project, index, "2099-01-01") == names(early + late)
        for when in ("2021-01-01", "2021-01-01T00:00:00Z", "2022-05-31T23:59:59Z"):
            assert as_of_listed(pair, project, index, when) == names(early), (index, when)
        assert as_of_listed(pair, project, index, "2022-06-01T00:00:00Z") == names(early + late)
        assert as_of_listed(pair, project, index, "2019-12-31") == []

    result, venv = clients.uv_install(as_of_url(pair, VIRTUAL, "2021-01-01"), project)
    expect_ok(result)
    assert clients.installed_in_venv(venv, module_name(project)).version == "1.0"
    result, target = clients.pip_install(as_of_url(pair, MIRROR, "2021-01-01"), project)
    expect_ok(result)
    assert clients.installed_in_target(target, module_name(project)).version == "1.0"


def test_as_of_view_drops_exactly_the_hosted_files_uploaded_later(
    pair: Pair, clients: Clients, tmp_path: Path, project: str
) -> None:
    early = dists_for(tmp_path / "1", project, "1.0")
    publish_hosted(pair, *early)
    between = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    late = dists_for(tmp_path / "2", project, "2.0")
    publish_hosted(pair, *late)

    for index in (VIRTUAL, HOSTED):
        assert as_of_listed(pair, project, index, between) == names(early), index
        assert as_of_listed(pair, project, index, "2099-01-01") == names(early + late)
        assert as_of_listed(pair, project, index, "2000-01-01") == []

    result, venv = clients.uv_install(as_of_url(pair, VIRTUAL, between), project)
    expect_ok(result)
    assert clients.installed_in_venv(venv, module_name(project)).version == "1.0"


def test_invalid_as_of_time_is_a_client_error(pair: Pair, project: str) -> None:
    response = get_json(f"{as_of_url(pair, VIRTUAL, 'last-tuesday')}{project}/")

    assert 400 <= response.status_code < 500, response.status_code
    assert response.text.strip()


# Bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["index", "set", VIRTUAL, "--deny", "bad name!"], "rule"),
        (["index", "set", VIRTUAL, "--allow", "requests<<2"], "specifier"),
        (["index", "set", VIRTUAL, "--min-age", "3x"], "duration"),
        (["index", "set", MIRROR, "--ttl", "soon"], "duration"),
        (["index", "exempt", VIRTUAL, "anything", "--reason", "r", "--expires", "1y"], "duration"),
    ],
    ids=["deny-rule", "allow-specifier", "min-age", "ttl", "expires"],
)
def test_invalid_rules_and_durations_are_refused_with_a_message(
    pair: Pair, args: list[str], says: str
) -> None:
    result = expect_failure(pair.cli(*args))

    output = result.stdout + result.stderr
    assert says in output.lower(), output
    assert "Traceback" not in output
